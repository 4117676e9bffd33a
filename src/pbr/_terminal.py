"""Text from records made safe to show people: what a terminal would act on, written out."""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str) -> str:
    r"""`text` with each character a terminal would act on written as an escape.

    Names come from the records: ``"Ex\x1b]0;t\x07"`` would retitle the terminal.

    >>> printable("Leeds"), printable("Ex\x1b]0;t\x07")
    ('Leeds', 'Ex\\x1b]0;t\\x07')
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
