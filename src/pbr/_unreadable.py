"""Why a file cannot be read, in the one wording every reader of pbr uses.

A missing file, a folder, a stream that cannot be read twice, an Excel workbook given where
text was expected, bytes that are not UTF-8: each is said in words a user can act on, never
as Python's own text (``[Errno 2] ...``, ``'utf-8' codec can't decode byte ...``).
"""

from __future__ import annotations

import io

__all__ = [
    "NOT_UTF8_CAUSE",
    "cannot_read",
    "not_a_text_file",
    "not_utf8",
    "os_reason",
    "undecodable",
]

NOT_UTF8_CAUSE = "not UTF-8 (Windows-1252, perhaps): save the file as UTF-8"
"""What a byte that is not UTF-8 most likely is: Excel's "CSV" on Windows writes Windows-1252."""

_WORKBOOK = b"PK\x03\x04"
"""How an XLSX (or any zip) file starts."""
_OLD_WORKBOOK = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""How an Excel 97-2003 (.xls) workbook starts."""


def os_reason(exc: OSError) -> str:
    """Why the system could not read a file, without its errno and the name given again.

    >>> os_reason(FileNotFoundError(2, "No such file or directory", "f.jsonl"))
    'No such file or directory'
    >>> os_reason(IsADirectoryError(21, "Is a directory", "d"))
    'it is a folder, not a file'
    >>> os_reason(io.UnsupportedOperation("File or stream is not seekable."))
    'it is a stream that cannot be read again (a pipe?): give a file'
    """
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(exc, io.UnsupportedOperation):
        return "it is a stream that cannot be read again (a pipe?): give a file"
    return exc.strerror or type(exc).__name__


def cannot_read(name: object, exc: OSError) -> str:
    """``cannot read NAME: why`` (`os_reason`).

    >>> cannot_read("nosuch.jsonl", FileNotFoundError(2, "No such file or directory", "x"))
    'cannot read nosuch.jsonl: No such file or directory'
    """
    return f"cannot read {name}: {os_reason(exc)}"


def not_a_text_file(head: bytes, wanted: str, *, csv: bool = True) -> str | None:
    """Why a file starting with `head` is not the text file `wanted` (say "CSV or JSON"), or None.

    A workbook where a CSV file is wanted (`csv`) is told how Excel saves one.

    >>> not_a_text_file(b"PK" + bytes([3, 4, 20]), "CSV or JSON")
    'it is an Excel workbook (or another zip file), not CSV or JSON: save it as CSV UTF-8'
    >>> not_a_text_file(b"claim_id,family_id", "CSV or JSON") is None
    True
    """
    advice = ": save it as CSV UTF-8" if csv else ""
    if head.startswith(_WORKBOOK):
        return f"it is an Excel workbook (or another zip file), not {wanted}{advice}"
    if head.startswith(_OLD_WORKBOOK):
        return f"it is an Excel 97-2003 workbook, not {wanted}{advice}"
    return None


def not_utf8(bad: bytes) -> str:
    """Why `bad`, the bytes of a value or line that are not UTF-8, cannot be read (in hex).

    >>> not_utf8(bytes([0xA3]))
    'byte a3 is not UTF-8 (Windows-1252, perhaps): save the file as UTF-8'
    >>> not_utf8(bytes([0x96, 0xA3]))
    'bytes 96 a3 are not UTF-8 (Windows-1252, perhaps): save the file as UTF-8'
    """
    which = f"byte {bad.hex()} is" if len(bad) == 1 else f"bytes {bad.hex(' ')} are"
    return f"{which} {NOT_UTF8_CAUSE}"


def undecodable(data: bytes, exc: UnicodeDecodeError) -> str:
    r"""Where `data` stops being UTF-8 and why: ``line N: byte a3 is not UTF-8 (...)``.

    >>> data = "council\nKent,£1000\n".encode("cp1252")
    >>> try:
    ...     data.decode("utf-8")
    ... except UnicodeDecodeError as exc:
    ...     undecodable(data, exc)
    'line 2: byte a3 is not UTF-8 (Windows-1252, perhaps): save the file as UTF-8'
    """
    line = data.count(b"\n", 0, exc.start) + 1
    return f"line {line}: {not_utf8(data[exc.start : exc.end])}"
