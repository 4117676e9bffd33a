"""Text from records made safe to show people: what a terminal would act on, written out."""

from __future__ import annotations

import re

__all__ = ["family_named", "printable", "quoted"]

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
    return f"family {quoted(family_id)}"


def quoted(text: str) -> str:
    r"""`text` as Python writes it (``'F1'``), a byte that was not UTF-8 as that byte, ``\x96``.

    A CSV file's such byte is kept as a lone surrogate, which ``repr`` writes ``\udc96``; escaped
    first (``\x96``, `pbr._rejection.json_text`), ``repr`` wrote its backslash again.

    >>> print(quoted("R1\udc96"), quoted("F1"), quoted("a\\udc96"))
    'R1\x96' 'F1' 'a\\udc96'
    """
    written = repr(text)
    if "\\udc" not in written:
        return written
    return _ESCAPES.sub(_byte_escape, written)


_ESCAPES = re.compile(r"\\\\|\\udc([89a-f][0-9a-f])")
r"""In a repr: an escaped backslash (taken whole: what follows it is text), or the escape of a
lone surrogate that stands for a byte (``\udc96``)."""


def _byte_escape(found: re.Match[str]) -> str:
    r"""An escaped backslash as it is; a surrogate's escape as its byte's (``\x96``)."""
    return found[0] if found[1] is None else f"\\x{found[1]}"


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
