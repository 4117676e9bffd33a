"""Text from records made safe to show people: what a terminal would act on, written out."""

from __future__ import annotations

__all__ = ["printable"]


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
