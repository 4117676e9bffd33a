"""A file read whole, to a limit: refused once too much is read, before memory runs out.

A device or a pipe that keeps giving bytes (``/dev/zero``, ``yes |``) and a file far larger
than any the input can be would otherwise be read until memory is gone. `read_limited` reads in
bounded pieces and refuses, in one line naming the file and the limit, as soon as the file
passes its size limit, a line passes its line limit, or (a text file) its first line holds a
NUL byte: it is not text. Each reader wraps the refusal in its own error.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_TEXT_FILE_BYTES",
    "Refused",
    "json_like",
    "read_limited",
    "size_text",
]

MAX_LINE_BYTES = 1 << 20
"""The longest line of a claim, council or payment file read, 1 MiB: such a row is a few hundred
bytes (a claim row about 150), so a longer line is no row but an endless or binary stream."""

MAX_TEXT_FILE_BYTES = 512 << 20
"""The largest claim, council, scenario or payment file read whole, 512 MiB: a national claim
file (400,000 families, a few claims each, about 150 bytes a claim) is about 200 MB."""

_HEAD_BYTES = 1 << 16
"""The bytes of the start the reader's own checks see (a workbook, a compressed file) and the
NUL check looks in, before any more is read."""

_PIECE_BYTES = 1 << 20
"""The bytes read at a time after the start."""

_BREAK = re.compile(rb"[\r\n]")


class Refused(ValueError):
    """The file is larger, or has a longer line, than may be read, or is not text.

    The message names the file and the limit.
    """


_JSON_START = re.compile(r"[\s\ufeff]*[\[{]")
"""The start of a JSON text: ``{`` or ``[`` after blanks (and byte order marks)."""


def json_like(text: str) -> bool:
    r"""Whether `text` opens as JSON (``{`` or ``[`` after blanks and a BOM), not as CSV.

    For a file read as CSV that lacks its columns: the CSV reader would blame a column named
    twice in the JSON, not that the file is JSON.

    >>> json_like('\ufeff\n {"family_id": "F1"}'), json_like("family_id,kind")
    (True, False)
    """
    return _JSON_START.match(text) is not None


def size_text(limit: int) -> str:
    """A limit in the largest binary unit it is a whole number of.

    >>> size_text(1 << 20), size_text(4096), size_text(512 << 20), size_text(1000)
    ('1 MiB', '4 KiB', '512 MiB', '1,000 bytes')
    """
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if limit >= 1 << shift and limit % (1 << shift) == 0:
            return f"{limit >> shift} {unit}"
    return f"{limit:,} bytes"


def read_limited(
    path: str | Path,
    what: str,
    *,
    max_bytes: int = MAX_TEXT_FILE_BYTES,
    max_line: int | None = MAX_LINE_BYTES,
    text: bool = True,
    check: Callable[[bytes], object] | None = None,
) -> bytes:
    r"""The bytes of the file at `path` (`what` it should be, say ``"a claim file"``), read to limits.

    Refused (`Refused`) as soon as more than `max_bytes` are read (a regular file larger than
    that before any is read), a line (ended by LF or CR) is longer than `max_line` bytes (None:
    no line limit), or, `text`, the first line holds a NUL byte where the bytes before it are
    UTF-8 (an earlier bad byte is left for the reader to name). `check` is given the file's
    first 64 KiB before any more is read, to raise the reader's own error (a workbook, UTF-16),
    unless the file starts with two NUL bytes: that is not text of any kind.
    An `OSError` is the caller's to word.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
    >>> _ = path.write_bytes(b"a,b\n" + b"x" * 2000 + b"\n")
    >>> len(read_limited(path, "a table", max_line=4096))
    2005
    >>> read_limited(path, "a table", max_line=1024)
    Traceback (most recent call last):
    ...
    pbr._bounded.Refused: ...rows.csv: line 2 is longer than a line of a table may be (1 KiB): pbr reads at most 1,024 bytes a line
    >>> read_limited("/dev/zero", "a table")
    Traceback (most recent call last):
    ...
    pbr._bounded.Refused: /dev/zero: not text (a NUL byte at byte 1 of line 1), not a table
    """
    with open(path, "rb") as file:
        opened = os.fstat(file.fileno())
        if stat.S_ISREG(opened.st_mode) and opened.st_size > max_bytes:
            raise Refused(_too_large(path, what, max_bytes))
        head = file.read(min(_HEAD_BYTES, max_bytes + 1))
        if text and head.startswith(b"\x00\x00"):  # no text, not even UTF-16, starts so
            _refuse_nul(path, what, head)
        if check is not None:
            check(head)
        if text:
            _refuse_nul(path, what, head)
        lines = _Lines(path, what, max_line)
        lines.feed(head)
        data = io.BytesIO()
        data.write(head)
        size = len(head)
        while size <= max_bytes:
            piece = file.read(min(_PIECE_BYTES, max_bytes + 1 - size))
            if not piece:
                return data.getvalue()
            lines.feed(piece)
            data.write(piece)
            size += len(piece)
            del piece
    raise Refused(_too_large(path, what, max_bytes))


def _too_large(path: str | Path, what: str, limit: int) -> str:
    return (
        f"{path}: larger than {what} may be ({size_text(limit)}): pbr reads at most "
        f"{limit:,} bytes of {what}"
    )


def _refuse_nul(path: str | Path, what: str, head: bytes) -> None:
    """Refuse a start whose first line holds a NUL byte after UTF-8 (or no) bytes: not text."""
    found = _BREAK.search(head)
    first = head if found is None else head[: found.start()]
    nul = first.find(b"\x00")
    if nul < 0:
        return
    try:
        first[:nul].decode("utf-8")
    except UnicodeDecodeError:
        return  # the reader names the earlier bad byte
    raise Refused(f"{path}: not text (a NUL byte at byte {nul + 1} of line 1), not {what}")


class _Lines:
    """The line limit, checked piece by piece as the file is read."""

    def __init__(self, path: str | Path, what: str, limit: int | None) -> None:
        self.path, self.what, self.limit = path, what, limit
        self.run = 0  # the bytes of the line being read, so far
        self.line = 1  # its number (lines counted by LF)

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the file; refuse a line longer than the limit."""
        limit = self.limit
        if limit is None:
            return
        for at in range(0, len(data), limit):
            self._piece(data[at : at + limit], limit)

    def _piece(self, piece: bytes, limit: int) -> None:
        """Take at most `limit` bytes: a line between two of its breaks is within the limit."""
        first = _BREAK.search(piece)
        if first is None:
            self.run += len(piece)
        else:
            self.run += first.start()
        if self.run > limit:
            raise Refused(
                f"{self.path}: line {self.line} is longer than a line of {self.what} may be "
                f"({size_text(limit)}): pbr reads at most {limit:,} bytes a line"
            )
        if first is not None:
            last = max(piece.rfind(b"\n"), piece.rfind(b"\r"))
            self.run = len(piece) - last - 1
            self.line += piece.count(b"\n")
