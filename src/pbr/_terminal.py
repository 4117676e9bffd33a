"""Text from records made safe to show people: what a terminal would act on, written out."""

from __future__ import annotations

__all__ = ["family_named", "printable"]

_LONGEST_ID = 64
"""A valid family_id's most characters (`pbr.records.Identifier`): a longer one is cut."""


def family_named(family_id: object) -> str:
    """How a message names a family: ``family 'F1'``, a long id cut (``family 'FFF…'``).

    A rejected record's id can be anything: 100,000 characters made a 100 KB line on stderr.

    >>> family_named("F1"), family_named(7), family_named("F" * 99)[-6:]
    ("family 'F1'", 'family (no family_id)', "FFFF…'")
    """
    if not isinstance(family_id, str):
        return "family (no family_id)"
    if len(family_id) > _LONGEST_ID:
        family_id = family_id[:_LONGEST_ID] + "…"
    return f"family {family_id!r}"


def printable(text: str) -> str:
    r"""`text` with each character a terminal would act on written as an escape.

    Names come from the records: ``"Ex\x1b]0;t\x07"`` would retitle the terminal.

    A byte that was not UTF-8 (kept as a lone surrogate, as in a file's name) is written as
    that byte, ``\x96``, as a rejection writes it (`pbr._rejection.json_text`).

    >>> printable("Leeds"), printable("Ex\x1b]0;t\x07"), printable("bad\udc96.csv")
    ('Leeds', 'Ex\\x1b]0;t\\x07', 'bad\\x96.csv')
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(character: str) -> str:
    if "\udc80" <= character <= "\udcff":  # a byte that was not UTF-8: the byte itself
        return f"\\x{ord(character) - 0xDC00:02x}"
    return character.encode("unicode_escape").decode()
