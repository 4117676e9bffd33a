"""Why a file cannot be read, in the one wording every reader of pbr uses.

A missing file, a folder, a stream that cannot be read twice, an Excel workbook given where
text was expected, bytes that are not UTF-8: each is said in words a user can act on, never
as Python's own text (``[Errno 2] ...``, ``'utf-8' codec can't decode byte ...``).
"""

from __future__ import annotations

import io
import os
import re

__all__ = [
    "NOT_UTF8_CAUSE",
    "NUL_ONLY",
    "TEXT_HEAD_BYTES",
    "cannot_read",
    "changed_while_read",
    "not_a_text_file",
    "not_line_text",
    "not_utf8",
    "not_utf8_text",
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


def changed_while_read(
    name: str, before: os.stat_result, after: os.stat_result | None
) -> str | None:
    """How file `name` changed since it was `before` (`after` is None: gone), or None if it did not.

    Another file under the name, or the same file of another size or written to since: its
    records read would mix two files, or be cut short or half changed, without a word. One
    wording for ``pbr evaluate`` and for `pbr.evaluate_many` reading a file by its ranges.

    >>> before = os.stat_result((0o100644, 7, 1, 1, 0, 0, 10, 0, 0, 0))
    >>> changed_while_read("f.jsonl", before, before) is None
    True
    >>> print(changed_while_read("f.jsonl", before, None))
    f.jsonl was replaced while it was read (it is gone; 10 bytes of the first were read): run again on a file that is no longer being written
    """
    size = before.st_size
    again = "run again on a file that is no longer being written"
    if after is None or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        now = "is gone" if after is None else f"is now another file, of {after.st_size} bytes"
        return (f"{name} was replaced while it was read (it {now}; {size} bytes of the first "
                f"were read): {again}")  # fmt: skip
    if after.st_size > size:
        return (f"{name} grew while it was read (from {size} to {after.st_size} bytes): the "
                f"records after byte {size} were not read; {again}")  # fmt: skip
    if after.st_size < size:
        return (f"{name} shrank while it was read (from {size} to {after.st_size} bytes): its "
                f"records may have been read cut short; {again}")  # fmt: skip
    if after.st_mtime_ns != before.st_mtime_ns:
        return (f"{name} was written to while it was read (its size, {size} bytes, is the "
                f"same): its records may have been read half changed; {again}")  # fmt: skip
    return None


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


NUL_ONLY = "is not text: its first bytes are all NUL (zero) bytes (is it the right file?)"
"""Why a file or stream starting with nothing but NUL bytes (``/dev/zero``, an empty disk image)
is refused at once: read as records, it is one rejection after another, or one without end."""

_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\x04\x22\x4d\x18": "lz4",  # a frame; the legacy format is no longer written
    **{b"BZh" + level.encode(): "bzip2" for level in "123456789"},
}
"""How a compressed file starts, and its compression (bzip2: ``BZh`` and its block size, 1-9)."""

TEXT_HEAD_BYTES = 1 << 16
"""The bytes of a file's start `not_line_text` is given: room for its first line's end."""


def not_line_text(name: str, head: bytes) -> str | None:
    """Why a file starting with `head` cannot be read line by line as UTF-8 text, or None.

    Read as it is, a compressed or UTF-16 file is thousands of rejected lines of byte noise,
    a file whose lines end in CR alone is one line, and a stream of NUL bytes one line without
    end: said at once, in one line.

    >>> not_line_text("f.jsonl", bytes([0x1F, 0x8B, 8]))
    'f.jsonl is gzip-compressed: decompress it first'
    >>> not_line_text("/dev/zero", bytes(8))
    '/dev/zero is not text: its first bytes are all NUL (zero) bytes (is it the right file?)'
    >>> not_line_text("f.jsonl", "{}".encode("utf-16-le"))
    'f.jsonl is UTF-16: save it as UTF-8'
    >>> not_line_text("f.jsonl", b"{}" + bytes([13]) + b"{}") is None, not_line_text("f", b"{}")
    (False, None)
    """
    said = not_utf8_text(name, head)
    if said is not None:
        return said
    if _cr_alone(head):
        return (
            f"{name}'s lines end in CR alone (old Mac line endings): save it with LF or CRLF "
            "line endings"
        )
    return None


def not_utf8_text(name: str, head: bytes) -> str | None:
    """Why a file starting with `head` is not UTF-8 text at all, or None: compressed, NUL, UTF-16.

    UTF-16 text of ASCII characters decodes as UTF-8, a NUL byte between each: said at once,
    rather than as the syntax error its second character makes.

    >>> not_utf8_text("plan.toml", 'id = "p"'.encode("utf-16-le"))
    'plan.toml is UTF-16: save it as UTF-8'
    >>> not_utf8_text("plan.toml", b'id = "p"') is None
    True
    """
    compressed = not_compressed(name, head)
    if compressed is not None:
        return compressed
    if head and not head.strip(b"\x00"):
        return f"{name} {NUL_ONLY}"
    if _utf16(head):
        return f"{name} is UTF-16: save it as UTF-8"
    return None


def not_compressed(name: str, head: bytes) -> str | None:
    """Why a file starting with `head` must be decompressed before it is read, or None.

    >>> not_compressed("claims.csv.gz", bytes([0x1F, 0x8B, 8]))
    'claims.csv.gz is gzip-compressed: decompress it first'
    >>> not_compressed("f.jsonl.bz2", b"BZh91AY&SY"), not_compressed("f", b"BZh0")
    ('f.jsonl.bz2 is bzip2-compressed: decompress it first', None)
    """
    for magic, compression in _COMPRESSED.items():
        if head.startswith(magic):
            return f"{name} is {compression}-compressed: decompress it first"
    return None


def _utf16(head: bytes) -> bool:
    """UTF-16 by its byte-order mark, or by text in it (JSON's ASCII, every other byte NUL)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    nul = [byte == 0 for byte in head[:4]]
    return nul in ([False, True, False, True], [True, False, True, False])


def _cr_alone(head: bytes) -> bool:
    r"""Whether lines end in CR alone: no LF at all, and a CR between two records' bytes.

    A CR is JSON whitespace too, so one at the start of a line or beside other whitespace says
    nothing (``\r[]\n`` is an empty array): only text, CR, text with no LF anywhere is a file of
    old Mac line endings.

    >>> _cr_alone(b'{"a":1}\r{"a":2}\r'), _cr_alone(b"\r[]\n"), _cr_alone(b'{"a":1}\r\n{}')
    (True, False, False)
    """
    return b"\n" not in head and _TEXT_CR_TEXT.search(head) is not None


_TEXT_CR_TEXT = re.compile(rb"[^\s]\r+[^\s]")
"""A CR (or several) between two bytes that are not whitespace."""


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
