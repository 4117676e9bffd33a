"""Reading family records from JSON and JSON Lines: every record ends up a `Family` or a `Rejection`.

A bad record never stops the batch, whatever its bytes: it is reported with its line, its family,
the field path, the bad value and why, and reading goes on with the next one. Files are read as
bytes: a UTF-8 byte-order mark is skipped, each line is decoded on its own (a bad byte rejects
that line only), a record larger than the size limit is rejected unread, and a JSON object with a
key given twice is rejected rather than silently keeping the last value.
"""

from __future__ import annotations

import codecs
import functools
import io
import json
import os
import re
import stat
from collections.abc import Callable, Collection, Generator, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from pbr._arguments import check_max_record_bytes
from pbr._scalars import too_long_to_read
from pbr._seen import SeenIds
from pbr._unreadable import TEXT_HEAD_BYTES, cannot_read, not_a_text_file, not_line_text
from pbr.errors import PbrError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from pbr._rejection import FieldError, Rejection
    from pbr.records import Family


__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "FieldError",
    "Numbered",
    "RawRange",
    "Rejection",
    "UnreadableFile",
    "json_lines_start",
    "line_ranges",
    "numbered_from_text",
    "parse_family",
    "read_bytes",
    "read_numbered",
    "read_raw",
    "read_records",
    "records_from_text",
]

DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
"""The largest record read (4 MiB): a real family is a few kilobytes; larger ones are rejected."""

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 16
_PROBE = 1 << 13
"""What `line_ranges` reads first at a cut: a family is about 5.5 KB (a whole file's cuts in
1.2 ms, not 5, at 50,000 families)."""


class UnreadableFile(PbrError, OSError):
    """The input file cannot be opened or read at all.

    >>> import pbr
    >>> list(pbr.read_records("no-such-file.jsonl"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.io.UnreadableFile: cannot read no-such-file.jsonl: No such file or directory
    """


Numbered = tuple[int, int, "Family | Rejection"]
"""(line, record number, the family or its rejection)."""


def read_records(
    path: str | Path, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Family | Rejection]:
    """Yield each record of a JSON array, a single JSON object or a JSON Lines file, in order.

    A record that breaks the format is yielded as a `Rejection`, and reading goes on.

    >>> import pbr, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> good = ('{"family_id": "F1", "attached_on": "2013-01-07", '
    ...     '"members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}')
    >>> _ = path.write_text(good + chr(10) + '{"oops": 1}' + chr(10))
    >>> [type(item).__name__ for item in pbr.read_records(path)]
    ['Family', 'Rejection']

    Raises:
        UnreadableFile: the file cannot be opened or read.
        TypeError: `path` is not a path (a number would be taken for an open file).

    """
    return (item for _, _, item in read_numbered(path, max_record_bytes=max_record_bytes))


def read_numbered(
    path: str | Path,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    source: str | None = None,
) -> Iterator[Numbered]:
    """Like `read_records`, with each record's line and 1-based record number.

    JSON Lines are streamed line by line, and a JSON array a block at a time: memory stays flat
    however long the file.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> _ = path.write_text(chr(10) + '{"oops": 1}' + chr(10))
    >>> [(line, record, type(item).__name__) for line, record, item in read_numbered(path)]
    [(2, 1, 'Rejection')]
    """
    if not isinstance(path, str | os.PathLike):  # an int would be read as a file descriptor
        raise TypeError(f"expected a file's path, got {type(path).__name__} {path!r}")
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    name = str(path) if source is None else source
    raw = read_raw(path, max_record_bytes=max_record_bytes, source=name)
    return _parsed(raw, name, max_record_bytes)


Raw = tuple[int, int, "bytes | Rejection"]
"""(line, record number, the record's bytes, or its rejection when it cannot even be cut out)."""


def read_raw(
    path: str | Path,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    source: str | None = None,
    size: int | None = None,
) -> Iterator[Raw]:
    """Each record's bytes, unvalidated, with its line and record number: for parallel workers.

    Rejections name the file by `source` when given (a pipe's name, where `path` is its copy),
    else by `path`.

    The file's shape is found from its first record: a line holding one whole JSON object
    means JSON Lines; anything else is a JSON array or a sequence of objects. Both are streamed
    (an array a block at a time). A byte-order mark is skipped; a record over `max_record_bytes`
    is a `Rejection`. With `size`, no byte past it is read (the size the file had when a run
    began: what is appended to it later is not half read).

    >>> import codecs, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> _ = path.write_bytes(codecs.BOM_UTF8 + b'{"family_id": "F1"}' + bytes([13, 10]))
    >>> [(line, record, raw.strip()) for line, record, raw in read_raw(path)]
    [(1, 1, b'{"family_id": "F1"}')]
    """
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    try:
        # a 1 MiB buffer: `readline` of 5 KB lines is 2.8x faster than with the default 8 KiB
        handle: IO[bytes] = (
            open(path, "rb", buffering=_BUFFER)  # noqa: SIM115 - closed by the generators
            if size is None
            else io.BufferedReader(_Upto(path, size), _BUFFER)
        )
    except OSError as exc:
        raise UnreadableFile(cannot_read(path, exc)) from None
    _refuse_what_is_not_text(handle, path if source is None else source)
    return _raw(handle, str(path) if source is None else source, max_record_bytes)


class _Upto(io.RawIOBase):
    """A file read no further than `size` bytes, however much is written to it meanwhile."""

    def __init__(self, path: str | Path, size: int) -> None:
        super().__init__()
        self._file = io.FileIO(path, "r")
        self._size = size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._size - self._file.tell()
        if left <= 0:
            return 0
        with memoryview(buffer) as view:
            return self._file.readinto(view[:left]) or 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            return self._file.seek(self._size + offset)
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


def _refuse_what_is_not_text(handle: IO[bytes], name: str | Path) -> None:
    """Refuse, in one line, a file that is not JSON text in lines: before any record is read.

    A workbook given as records (an ``.xlsx`` renamed ``.json``, say), a compressed or UTF-16
    file: read as JSON, each of its lines would be a rejection naming bytes that are not UTF-8.
    A file whose lines end in CR alone would be one line.
    """
    try:
        head = handle.read(TEXT_HEAD_BYTES)
        handle.seek(0)
    except OSError as exc:
        handle.close()
        raise UnreadableFile(cannot_read(name, exc)) from None
    why = not_a_text_file(head, "JSON or JSON Lines", csv=False)
    if why is not None:
        handle.close()
        named_xlsx = str(name).lower().endswith(".xlsx")
        hint = (
            "read_records reads JSON only: read a workbook of council tables with "
            "pbr.tables.read_tables"
            if named_xlsx
            else "council tables in a workbook are read from a file named .xlsx"
        )
        raise UnreadableFile(f"cannot read {name}: {why} ({hint})")
    said = not_line_text(str(name), head)
    if said is not None:
        handle.close()
        raise UnreadableFile(said)


_BUFFER = 1 << 20


def json_lines_start(
    path: str | Path,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    source: str | None = None,
) -> int | None:
    """Where a JSON Lines file's records start (after a byte-order mark); None if not JSON Lines.

    The same test `read_raw` makes: a file it reads line by line from this offset can be cut
    into byte ranges at line ends (`line_ranges`) and each range read on its own (`RawRange`).
    A workbook is refused (`UnreadableFile`), named `source` when given (a pipe's name).

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.jsonl").write_bytes(codecs.BOM_UTF8 + b'{"family_id": "F1"}' + bytes([10]))
    >>> _ = (folder / "b.json").write_text('[{"family_id": "F1"},' + chr(10) + '{"family_id": "F2"}]')
    >>> json_lines_start(folder / "a.jsonl"), json_lines_start(folder / "b.json")
    (3, None)
    """
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    try:
        with open(path, "rb", buffering=_BUFFER) as handle:
            _refuse_what_is_not_text(handle, path if source is None else source)
            start, lines = _lines_start(handle, max_record_bytes)
    except UnreadableFile:
        raise
    except OSError as exc:
        raise UnreadableFile(cannot_read(path, exc)) from None
    return start if lines else None


def _lines_start(handle: IO[bytes], limit: int) -> tuple[int, bool]:
    """Where the records start (after a byte-order mark) and whether the file is JSON Lines."""
    if handle.read(len(_BOM)) != _BOM:
        handle.seek(0)
    start = handle.tell()
    first = _next_nonblank(handle, limit)
    shape = _shape(first, _next_nonblank(handle, limit))
    handle.seek(start)
    if shape == "lines":
        return start, True
    # an object or array opened on the first line and not spread over lines: a broken line
    lines = shape in ("object?", "array?") and not _spread_over_lines(_Stream(handle, limit))
    handle.seek(start)
    return start, lines


def _raw(handle: IO[bytes], source: str, limit: int) -> Iterator[Raw]:
    with handle:
        try:
            start, lines = _lines_start(handle, limit)
            endless = None if _a_file(handle) else endless_after(limit)
            if lines:
                yield from _raw_lines(handle, source, limit, endless)
                return
            try:
                yield from _raw_document(_Stream(handle, limit), source, limit)
            except _NotADocument:  # broken at its very start: each line is reported instead
                handle.seek(start)
                yield from _raw_lines(handle, source, limit, endless)
        except OSError as exc:
            raise UnreadableFile(cannot_read(source, exc)) from None


def _a_file(handle: IO[bytes]) -> bool:
    """Whether `handle` reads a regular file: its every line ends, at the latest at its end."""
    try:
        return stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
    except (OSError, ValueError):  # not a file at all (in memory, a stream of one's own)
        return False


def endless_after(limit: int) -> int:
    """The bytes of a line past which, with no end yet, a stream's line is taken to have none.

    64 times the record limit (at least 64 MiB): a record over the limit is rejected unread and
    its line skipped to its end; on a stream that need not end (a device), only this far.

    >>> endless_after(4 << 20) == 256 << 20, endless_after(1) == 64 << 20
    (True, True)
    """
    return max(64 * limit, 64 << 20)


class _TooLarge(Exception):
    """A JSON value read on past the record limit without its end being found."""


class _Passed:
    """What `_Stream.pass_value` found: the value's end (None if none), its size, lines cut off."""

    __slots__ = ("end", "lines", "size")

    def __init__(self, end: int | None, size: int, lines: int) -> None:
        self.end = end
        self.size = size
        self.lines = lines


class _Stream:
    """A file's text read a block at a time, as a window that grows at its end and is cut at its start.

    So a JSON array is read in bounded memory: a record and a block or two, not the file. With
    `limit`, a value is never read on more than `limit` characters past its start (`decode`).
    """

    __slots__ = ("_decoder", "_handle", "eof", "limit", "text")

    BLOCK = 1 << 20
    """Characters read at a time (more when one record is larger: reads double)."""

    def __init__(self, handle: IO[bytes], limit: int | None = None) -> None:
        self._handle = handle
        self.limit = limit
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.text = ""  # bad bytes are kept (as surrogates), and caught later
        self.eof = False

    def more(self) -> bool:
        """Read the next block onto the end of `text`; False once the end of the file was found."""
        if self.eof:
            return False
        data = self._handle.read(max(self.BLOCK, len(self.text)))
        self.text += self._decoder.decode(data, final=not data)
        self.eof = not data
        return True

    def cut(self, position: int) -> None:
        """Forget the text before `position` (positions after it move down by as much)."""
        self.text = self.text[position:]

    def skip(self, position: int, separators: str = "", whitespace: str | None = None) -> int:
        """The first position from `position` that is neither white space nor a separator."""
        while True:
            if whitespace is None:
                position = _skip(self.text, position, separators)
            else:
                while position < len(self.text) and self.text[position] in whitespace:
                    position += 1
            if position < len(self.text) or not self.more():
                return position

    def ahead(self, position: int, count: int) -> str:
        """The `count` characters from `position` (fewer at the end of the file)."""
        while len(self.text) - position < count and self.more():
            pass
        return self.text[position : position + count]

    def end_of_value(self, position: int) -> int | None:
        """`_end_of_value` from `position`, reading on until the brackets balance or the file ends.

        None too once `limit` characters are read past `position` (a record over the limit).
        """
        end = _end_of_value(self.text, position, final=self.eof)
        while (
            end is None
            and self.text[position] in "[{"
            and not self._past_limit(position)
            and self.more()
        ):
            end = _end_of_value(self.text, position, final=self.eof)
        return end

    def _past_limit(self, position: int) -> bool:
        return self.limit is not None and len(self.text) - position > self.limit

    def pass_value(self, position: int, most: int) -> _Passed:
        """Step over the object or array at `position` by its brackets, a block at a time.

        The window is cut from `position` on as it is read (positions move down), so memory
        holds a block, however large the value: for a record over the limit, rejected unread.
        The end is None when the file ends first, or `most` bytes are read without it.
        """
        self.cut(position)
        depth, inside, at, size, lines = 0, False, 0, 0, 0
        while True:
            text = self.text
            while at < len(text):
                if inside:  # in a string: to its closing quote, or to the window's end
                    at = _STRING_BODY.match(text, at).end()  # type: ignore[union-attr]
                    if at >= len(text) or text[at] != '"':
                        break  # the string (or an escape) goes on in the next block
                    inside, at = False, at + 1
                    continue
                found = _BRACKET_OR_QUOTE.search(text, at)
                if found is None:
                    at = len(text)
                    break
                at, mark = found.end(), found.group()
                if mark == '"':
                    inside = True
                elif mark in "[{":
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        return _Passed(at, size + _size_of(text[:at]), lines)
            size += _size_of(text[:at])
            lines += text.count("\n", 0, at)
            self.cut(at)
            at = 0
            if size > most or not self.more():
                return _Passed(None, size + _size_of(self.text), lines)

    def next_line_opening(self, position: int, indent: str) -> int | None:
        """Where the next line from `position` that is `indent` then ``{`` (or ``,{``) has its ``{``.

        Exactly `indent`: a line indented deeper opens a part of a record (a member), not a
        record. A leading comma (``,{`` or ``, {``) comes straight after it, as a file that puts
        its commas first writes each record. Reads on to the file's end if need be (so only
        after a broken record, never as a rule).
        """
        mark = re.compile(f"\n{re.escape(indent)}(?:,[ \t]*)?{{")
        start = position
        while (found := mark.search(self.text, start)) is None:
            start = max(position, len(self.text) - len(indent) - 64)
            if not self.more():
                return None
        return found.end() - 1

    def decode(self, decoder: json.JSONDecoder, position: int) -> int:
        """Where the JSON value at `position` ends, reading on while it runs past the window.

        An object or array that does not parse is read on only while its brackets do not balance
        (a syntax error inside a record does not read the file to its end); another value gets
        64 KiB of text after it, or the file's end.

        Raises:
            json.JSONDecodeError: the value is not JSON.
            RecursionError: it is nested too deeply.
            _TooLarge: it runs on past `limit` characters (a record too large to read).

        """
        if self.text[position] not in "[{":
            self.ahead(position, 1 << 16)
            return decoder.raw_decode(self.text, position)[1]
        while True:
            try:
                return decoder.raw_decode(self.text, position)[1]
            except (json.JSONDecodeError, RecursionError):
                if self.eof or _end_of_value(self.text, position, final=False) is not None:
                    raise
                if self._past_limit(position):
                    raise _TooLarge from None
                self.more()


def _next_nonblank(handle: IO[bytes], limit: int) -> bytes:
    line = handle.readline(limit + 2)
    while line and not line.strip():
        line = handle.readline(limit + 2)
    return line


def _shape(first: bytes, second: bytes) -> str:
    """JSON Lines (``lines``), a JSON array or objects spread over lines (``document``).

    A first line holding a whole object means JSON Lines. So does a first line holding any other
    whole JSON value with more lines after it: a bad first record, not the file's shape.
    ``object?`` is a first line opening an object it does not close: an object spread over
    lines, unless the file does not parse from its start (then a broken first line). ``array?``
    is the same for a first line opening an array when the second line is a whole object: an
    array spread over lines, or a broken first line of JSON Lines.
    """
    head = first.lstrip()
    if head.startswith(b"{"):
        return "lines" if _whole_json_object(first) else "object?"
    if head.startswith(b"["):
        if second and _whole_json(first):
            return "lines"
        return "array?" if second and _whole_json_object(second) else "document"
    return "lines"


def _whole_json(line: bytes) -> bool:
    """Whether `line` holds one complete JSON value (nested however deep).

    One that pydantic-core reads, or whose brackets close at its end. For an array (the shape
    test asks about a first line opening one), the brackets alone decide: an array
    pydantic-core reads closes its brackets at its end. So no reader is needed then.
    """
    text = line.decode("utf-8", errors="surrogateescape").strip()
    closed = bool(text) and _end_of_value(text, 0) == len(text)
    if closed or text.startswith("["):
        return closed
    if _read_as_pydantic_core_would(line)[0]:
        return True
    from pydantic_core import from_json

    try:
        from_json(line.decode("utf-8", errors="replace"))
    except ValueError:
        return False
    return True


def _bounds_reader() -> json.JSONDecoder:
    """A JSON reader used only to find where each value ends: numbers are kept as their text.

    Python refuses to turn an integer of more than 4,300 digits into an `int` (a `ValueError`
    that is not a syntax error); such a number is the record's problem, which pydantic reports
    with its line, not a reason to stop reading the file.
    """
    return json.JSONDecoder(parse_int=str, parse_float=str)


def _spread_over_lines(stream: _Stream) -> bool:
    """Whether the first JSON value parses from the start and ends past its first line.

    A value that ends on its first line with more text after it is a broken JSON Lines record,
    not a document: one line stays one record. An array is checked a record at a time, as
    strictly as one `json` parse of the whole (commas, no trailing comma, JSON's white space),
    so a large file is never held whole.
    """
    start = stream.skip(0)
    if start >= len(stream.text):
        return False
    try:
        return _spread_from(stream, start)
    except _TooLarge:  # a first record over the limit: spread if its first line ends in it
        return stream.limit is not None and stream.text.find("\n", start, start + stream.limit) >= 0


def _spread_from(stream: _Stream, start: int) -> bool:
    """`_spread_over_lines` for the value at `start` (raising `_TooLarge` for one too large)."""
    if stream.text[start] != "[":
        try:
            end = stream.decode(_bounds_reader(), start)
        except (json.JSONDecodeError, RecursionError):
            return False
        return stream.text.find("\n", start, end) >= 0
    decoder = _bounds_reader()
    position = stream.skip(start + 1, whitespace=_JSON_SPACE)
    spread = stream.text.find("\n", start, position) >= 0
    if position < len(stream.text) and stream.text[position] == "]":
        return spread
    while True:
        if position >= len(stream.text):
            return False
        try:
            end = stream.decode(decoder, position)
        except (json.JSONDecodeError, RecursionError):
            return False
        after = stream.skip(end, whitespace=_JSON_SPACE)
        if after >= len(stream.text) or stream.text[after] not in ",]":
            return False
        spread = spread or stream.text.find("\n", position, after) >= 0
        if stream.text[after] == "]":
            return spread
        position = stream.skip(after + 1, whitespace=_JSON_SPACE)
        spread = spread or stream.text.find("\n", after, position) >= 0
        if position > stream.BLOCK:
            stream.cut(position)
            position = 0


_JSON_SPACE = " \t\n\r"
"""White space as JSON defines it (`str.isspace` has more)."""


def _whole_json_object(line: bytes) -> bool:
    """Whether `line` holds one complete JSON object (so the file is JSON Lines)."""
    read, value = _read_as_pydantic_core_would(line)
    if read:
        return isinstance(value, dict)
    text = line.decode("utf-8", errors="surrogateescape").strip()
    if text.startswith("{") and _end_of_value(text, 0) != len(text):
        return False  # its braces do not close at its end: no reader takes it for one object
    from pydantic_core import from_json

    try:  # a bad byte is the record's problem, not the file's shape
        return isinstance(from_json(line.decode("utf-8", errors="replace")), dict)
    except ValueError:
        return False


def _read_as_pydantic_core_would(line: bytes) -> tuple[bool, Any]:
    """``(True, value)`` when msgspec reads `line` (bad bytes replaced), else ``(False, None)``.

    pydantic-core's reader decides a file's shape. msgspec reads the same value wherever it reads
    one at all and the line holds fewer than 200 brackets (pydantic-core refuses nesting deeper
    than 200; tests/test_startup.py holds the two to the same answers): so the usual first line
    is answered without loading pydantic.
    """
    if line.count(b"[") + line.count(b"{") < _NESTING:
        try:
            return True, _msgspec_decode()(line.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            pass  # not proved here: pydantic-core decides
    return False, None


_NESTING = 200
"""Fewer opening brackets than this: nested less deeply than pydantic-core reads."""


@cache
def _msgspec_decode() -> Callable[[str], Any]:
    import msgspec

    decode: Callable[[str], Any] = msgspec.json.decode
    return decode


def parse_numbered(
    raw: Iterable[Raw],
    *,
    source: str,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    once: bool = True,
) -> Iterator[Numbered]:
    """`read_raw`'s records validated, as `read_numbered` gives them (a repeated family rejected).

    For a reader that looks at the raw records on their way (``pbr evaluate`` counts their
    bytes for its progress bar). ``once=False`` leaves a repeated family to the caller, which
    judges repeats among the families it evaluates (a record outside every programme then
    does not take its family's id, as on every other path of ``pbr evaluate``).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> _ = path.write_text('{"oops": 1}' + chr(10))
    >>> [type(item).__name__ for _, _, item in parse_numbered(read_raw(path), source="f")]
    ['Rejection']
    """
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    return _parsed(raw, source, max_record_bytes, once=once)


def _parsed(
    raw: Iterable[Raw], source: str, limit: int, *, once: bool = True
) -> Iterator[Numbered]:
    seen = SeenIds()
    for line, record, item in raw:
        parsed = (
            parse_family(item, source=source, line=line, record=record, max_record_bytes=limit)
            if isinstance(item, bytes)
            else item
        )
        yield (
            line,
            record,
            (_once(parsed, seen, source=source, line=line, record=record) if once else parsed),
        )


def records_from_text(
    text: str | bytes, *, source: str = "<input>", max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Family | Rejection]:
    """Yield a `Family` or a `Rejection` for every record in `text` (JSON array or JSON Lines).

    >>> text = ('[{"family_id": "F1", "attached_on": "2013-01-07", "members": '
    ...     '[{"person_id": "A1", "date_of_birth": "1980-01-01"}]}, {"family_id": "F2"}]')
    >>> [type(item).__name__ for item in records_from_text(text)]
    ['Family', 'Rejection']
    """
    numbered = numbered_from_text(text, source=source, max_record_bytes=max_record_bytes)
    return (item for _, _, item in numbered)


def numbered_from_text(
    text: str | bytes, *, source: str = "<input>", max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Numbered]:
    """Like `records_from_text`, with each record's line and 1-based record number.

    >>> lines = chr(10).join(['{"family_id": "F1"}', "", '{"family_id": "F2"}'])
    >>> [(line, record) for line, record, _ in numbered_from_text(lines)]
    [(1, 1), (3, 2)]
    """
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    data = text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text
    raw = _raw(io.BytesIO(data), source, max_record_bytes)
    return _parsed(raw, source, max_record_bytes)


def line_ranges(
    path: str | Path, start: int = 0, size: int = 1 << 19, stop: int | None = None
) -> Iterator[tuple[int, int]]:
    """A file cut into byte ranges of about `size` bytes from `start`, each ending at a line's end.

    The ranges stop at `stop` when given (the size the file had when a run began), else at the
    end of the file when the first range is asked for.

    Each range ends just after a newline (the last one at the end of the file), so no line is
    cut: each can be read on its own (`RawRange`), by another process. A line longer than
    `size` makes its range longer; the file is read only near the cuts.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> _ = path.write_bytes(bytes([10]).join([b"a" * 5, b"b" * 3, b"c" * 8]))
    >>> list(line_ranges(path, size=4))
    [(0, 6), (6, 10), (10, 18)]
    """
    try:
        with open(path, "rb") as handle:
            end_of_file = handle.seek(0, io.SEEK_END)
            if stop is not None:
                end_of_file = min(end_of_file, stop)
            while start < end_of_file:
                end = start + max(size, 1) - 1  # the first newline from here ends the range
                handle.seek(end)
                probe = _PROBE  # a record's end is usually near: read a little first, then more
                while end < end_of_file:
                    block = handle.read(probe)
                    probe = _CHUNK
                    if not block:
                        break
                    found = block.find(b"\n")
                    if found >= 0:
                        end += found + 1
                        break
                    end += len(block)
                end = min(end, end_of_file)
                yield start, end
                start = end
    except OSError as exc:
        raise UnreadableFile(cannot_read(path, exc)) from None


class RawRange:
    """The records of a byte range of a JSON Lines file (`line_ranges`), numbered from its start.

    Iterating yields what `read_raw` yields for those lines, with lines and records counted
    from 1 at `start`; `lines` is then the number of lines the range holds, to number the next
    range on from. So workers can read a file's ranges side by side (`pbr evaluate`).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> _ = path.write_bytes(b'{"family_id": "F1"}' + bytes([10, 10]) + b'{"family_id": "F2"}')
    >>> part = RawRange(path, 20, 41)
    >>> [(line, record, raw) for line, record, raw in part], part.lines
    ([(2, 1, b'{"family_id": "F2"}')], 2)
    """

    def __init__(
        self,
        path: str | Path,
        start: int,
        end: int,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        source: str | None = None,
    ) -> None:
        max_record_bytes = check_max_record_bytes(max_record_bytes)
        self.path = path
        self.start = start
        self.end = end
        self.max_record_bytes = max_record_bytes
        self.source = str(path) if source is None else source
        self.lines = 0

    def __iter__(self) -> Iterator[Raw]:
        """Each non-blank line's record (or its rejection), as `read_raw`'s lines."""
        size = self.end - self.start
        try:
            handle = open(self.path, "rb", buffering=0 if size <= _BUFFER else _BUFFER)  # noqa: SIM115
        except OSError as exc:
            raise UnreadableFile(cannot_read(self.source, exc)) from None
        with handle:
            try:
                handle.seek(self.start)
                lines: _Lines
                if size <= _BUFFER:  # the usual range: read at once, cut in memory
                    lines = io.BytesIO(read_bytes(handle, size))
                else:  # one long line or more: read a block at a time
                    lines = _Part(handle, size)
                self.lines = yield from _raw_lines(lines, self.source, self.max_record_bytes)
            except OSError as exc:
                raise UnreadableFile(cannot_read(self.source, exc)) from None


def read_bytes(handle: IO[bytes], size: int) -> bytes:
    """`size` bytes from where `handle` stands: fewer only at the end of the file.

    A read may return less than asked (a signal, say); this reads on until it has them all.

    >>> read_bytes(io.BytesIO(b"abcdef"), 4), read_bytes(io.BytesIO(b"ab"), 4)
    (b'abcd', b'ab')
    """
    data = handle.read(size)
    while len(data) < size and (more := handle.read(size - len(data))):
        data += more
    return data


class _Lines(Protocol):
    """What `_raw_lines` reads: a binary file, or a part of one (`_Part`)."""

    def readline(self, size: int = -1, /) -> bytes: ...


class _Part:
    """`size` bytes of a file from where it stands, read by line."""

    __slots__ = ("_handle", "_left")

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self._handle = handle
        self._left = size

    def readline(self, size: int = -1, /) -> bytes:
        if self._left <= 0:
            return b""
        line = self._handle.readline(self._left if size < 0 else min(size, self._left))
        self._left -= len(line)
        return line


def record_size(line: bytes) -> int:
    r"""A record's size in bytes: its line without the line's end (``\n`` or ``\r\n``).

    One measure for every reader (files, `evaluate_many`, the web API, Dask), so a record of
    exactly the limit is taken whether its file ends lines the Unix or the Windows way.

    >>> record_size(b'{"a": 1}\r\n'), record_size(b'{"a": 1}\n'), record_size(b'{"a": 1}')
    (8, 8, 8)
    """
    if line.endswith(b"\n"):
        return len(line) - (2 if line.endswith(b"\r\n") else 1)
    return len(line)


def _raw_lines(
    handle: _Lines, source: str, limit: int, endless: int | None = None
) -> Generator[Raw, None, int]:
    """Each non-blank line; a line longer than `limit` is skipped in chunks and rejected.

    With `endless` (a stream that need not end), a line is skipped no further than that many
    bytes: past them, its rejection says the rest cannot be read, and reading stops.

    Returns how many lines there were, blank ones included, counted as they are read (a
    ``bytes.count`` would pass over the bytes again, slower than cutting them into lines).
    """
    number = record = 0
    while line := handle.readline(limit + 2):  # room for the record and a Windows line end
        number += 1
        if len(line) > limit + 1 and not line.endswith(b"\n"):
            size, last = len(line), line
            while (more := handle.readline(_CHUNK)) and not more.endswith(b"\n"):
                size, last = size + len(more), more
                if endless is not None and size > endless:
                    break  # no end in sight: the rest cannot be read
            if more.endswith(b"\n"):  # the line's last part, its end left out
                size += record_size(more) - (1 if more == b"\n" and last.endswith(b"\r") else 0)
            record += 1
            rest = _NO_END if more and not more.endswith(b"\n") else ""
            yield number, record, too_large(line[:HEAD], size, limit, source, number, record, rest)
            if rest:
                return number
        elif not line.isspace():  # not `strip()`, which copies the line
            record += 1
            yield number, record, line
    return number


HEAD = 4096
"""The bytes of an over-long record kept to name its family and council (`too_large`)."""

_NO_END = "; the rest cannot be read: a line longer than {most:,} bytes with no end"
"""What an over-long record whose end was never found adds (`endless_after`'s bytes read)."""


def _unended(size: int, limit: int) -> str:
    """What a JSON document's over-long record whose brackets never close adds to its rejection."""
    if size > endless_after(limit):
        return "; the rest cannot be read: a record longer than {most:,} bytes with no end"
    return "; its brackets do not close before the end of the file: records may be missing"


def too_large(
    head: bytes,
    size: int,
    limit: int,
    source: str,
    line: int | None,
    record: int,
    rest: str = "",
) -> Rejection:
    """A record of `size` bytes, over `limit`: rejected unread, named from its first bytes.

    The one rejection of an over-long record, whatever reads it (files, Dask, the web API).
    `rest` is said after (`_NO_END` when the record's end was never found).
    """
    from pbr._rejection import Rejection

    found = _FAMILY_ID.search(head)
    return Rejection.single(
        source=source,
        line=line,
        record=record,
        family_id=found.group(1).decode() if found else None,
        local_authority=_names_in(head)[1],
        loc="",
        value=f"{size} bytes",
        type="record_too_large",
        message=f"the record is {size:,} bytes or more; the limit is {limit:,} "
        "(set it with --max-record-bytes)" + rest.format(most=endless_after(limit)),
    )


def _path_at(data: bytes, offset: int) -> str:
    r"""The dotted path (``members.0.person_id``) of the JSON value holding byte `offset`.

    As far as the bytes before it say: where a text that is not UTF-8 starts to go wrong, the
    rejection names its field as pydantic's would. '' where they name none (the byte is in a
    key, or outside any object).

    >>> _path_at(b'{"members": [{"person_id": "A1"}, {"person_id": "B\xe9"}]}', 49)
    'members.1.person_id'
    >>> _path_at(b'{"family_id": "F1", "local_authority": "Caf\xe9"}', 43)
    'local_authority'
    """
    stack: list[list[Any]] = []  # each container: [is an object, its key or index]
    i, end = 0, min(offset, len(data))
    while i < end:
        c = data[i]
        if c == 0x22:  # a string: to its closing quote, past escapes
            j = i + 1
            while j < len(data) and data[j] != 0x22:
                j += 2 if data[j] == 0x5C else 1
            if j >= end:  # the byte is in this string
                if stack and stack[-1][0] and stack[-1][1] is None:  # a key: name no field
                    return ".".join(str(k) for _, k in stack[:-1] if k is not None)
                break
            if stack and stack[-1][0] and stack[-1][1] is None:
                stack[-1][1] = data[i + 1 : j].decode("utf-8", "backslashreplace")
            i = j + 1
            continue
        if c == 0x7B:  # {
            stack.append([True, None])
        elif c == 0x5B:  # [
            stack.append([False, 0])
        elif c in (0x7D, 0x5D) and stack:  # } ]
            stack.pop()
        elif c == 0x2C and stack:  # , : the next element, or the next key
            stack[-1][1] = None if stack[-1][0] else stack[-1][1] + 1
        i += 1
    return ".".join(str(k) for _, k in stack if k is not None)


def parse_family(
    raw: str | bytes,
    *,
    source: str = "<input>",
    line: int | None = None,
    record: int = 1,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Family | Rejection:
    """Validate one record given as JSON text or bytes: the `Family`, or why it is rejected.

    The one door every JSON record comes in by (files, batches, workers, the web API): UTF-8
    checked, size limited, strict, duplicate keys refused, and never an exception.

    >>> parse_family(b'{"family_id": "A", "family_id": "B"}').errors[0].type
    'duplicate_key'
    >>> parse_family(b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
    ...     b'[{"person_id": "A1", "date_of_birth": "1980-01-01"}]}').family_id
    'F1'
    """
    from pydantic import ValidationError

    from pbr._keys import family_id_in_doubt, key_repeats, repeated_keys
    from pbr._rejection import Rejection
    from pbr.records import Family, json_bytes

    data = json_bytes(raw)
    if len(data) > max_record_bytes and record_size(data) > max_record_bytes:
        return too_large(data[:HEAD], record_size(data), max_record_bytes, source, line, record)
    if data.endswith(b"\n"):  # the line's end is not the record's: a cut-off record then
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1]  # reads "EOF while parsing"
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = data[exc.start : exc.start + 4]
            family_id, council = _names_in(data)
            return Rejection.single(
                source=source,
                line=line,
                record=record,
                family_id=family_id,
                local_authority=council,
                loc=_path_at(data, exc.start),
                value=bad.hex(" "),
                type="invalid_utf8",
                message=f"not valid UTF-8 at byte {exc.start + 1} of the record "
                f"(bytes {bad.hex(' ')}); save the file as UTF-8",
            )
    try:
        family = Family._validated_json(data)  # the keys are searched below
    except ValidationError as exc:
        family_id, council = _names_in(data)
        rejection = _long_numbers(
            _cut_short(
                _numbers_as_written(
                    Rejection.from_validation_error(
                        exc, source=source, line=line, record=record, family_id=family_id
                    ),
                    exc,
                    data,
                )
            ),
            data,
        )
        repeats = key_repeats(data)
        if repeats:  # the likely cause: say so first
            update: dict[str, Any] = {"errors": (*_duplicate_errors(repeats), *rejection.errors)}
            if family_id_in_doubt(repeats):  # which family it is cannot be said either
                update["family_id"] = None
            rejection = rejection.model_copy(update=update)
        return _naming_council(rejection, council)
    duplicated = repeated_keys(data, family)
    if duplicated:
        repeats = key_repeats(data)
        return Rejection(
            source=source,
            line=line,
            record=record,
            family_id=None if family_id_in_doubt(repeats) else family.family_id,
            errors=_duplicate_errors(repeats),
            local_authority=None if "local_authority" in duplicated else family.local_authority,
        )
    return family


def _naming_council(rejection: Rejection, council: str | None) -> Rejection:
    """`rejection`, naming `council`, unless that field is among its errors."""
    if council is None or any(e.loc.split(".")[0] == "local_authority" for e in rejection.errors):
        return rejection
    return rejection.model_copy(update={"local_authority": council})


def _duplicate_errors(repeats: list[tuple[str, list[Any], str]]) -> tuple[FieldError, ...]:
    """An error for each key given twice in one object (`key_repeats`), its value the values."""
    from pbr._rejection import FieldError

    return tuple(
        FieldError.of(loc=loc, type="duplicate_key", value=values, message=why)
        for loc, values, why in repeats
    )


_FAMILY_ID = re.compile(rb'"family_id"\s*:\s*"([A-Za-z0-9._-]{1,64})"')


_COUNCIL = re.compile(rb'"local_authority"\s*:\s*"([^"\\\x00-\x1f]{1,400})"')


def _names_in(data: bytes) -> tuple[str | None, str | None]:
    """The record's family_id and council when they can be found, even in broken JSON.

    One parse for both; never raises. The council only when sound (`council_named`); in JSON that cannot be read, only a plain
    text value (no escape) given once.
    """
    from pydantic_core import from_json

    from pbr._rejection import council_named

    try:
        obj = from_json(data)
    except ValueError:
        found = _FAMILY_ID.search(data)
        return (found.group(1).decode() if found else None), _council_in_text(data)
    if not isinstance(obj, dict):
        return None, None
    value = obj.get("family_id")
    return (value if isinstance(value, str) else None), council_named(obj.get("local_authority"))


def _council_in_text(data: bytes) -> str | None:
    """The council of JSON that cannot be read: a plain text value given once, if sound."""
    from pbr._rejection import council_named

    found = _COUNCIL.findall(data)
    if len(found) != 1:
        return None
    try:
        return council_named(found[0].decode("utf-8"))
    except UnicodeDecodeError:
        return None


def family_id_in(data: bytes) -> str | None:
    """The record's family_id when it can be found, even in broken JSON; never raises.

    `pbr.Family.model_validate_json` names the family of its errors by it too.
    """
    return _names_in(data)[0]


class _NotADocument(Exception):
    """The file's first value can be neither read nor stepped over: read it as lines instead.

    Nothing has been yielded yet, so reading each line as a record (JSON Lines whose first
    line is broken, say ``[`` typed for ``{``) reports every line rather than one rejection
    for the whole file.
    """


def _raw_document(stream: _Stream, source: str, limit: int) -> Iterator[Raw]:
    """The records of a JSON array, a single object, or objects one after another.

    A broken record is stepped over by its brackets, so the records after it are still read.
    The file is read a block at a time: memory holds a record and a block or two, not the file.
    """
    decoder = _bounds_reader()
    position = stream.skip(0)
    array = position < len(stream.text) and stream.text[position] == "["
    if array:
        position += 1
    record = 0
    line = 1
    counted = 0  # the window's text before this is counted in `line`
    comma = False  # in an array: a comma was read since the last record (one is expected)
    read_one = False  # in an array: a record was read
    indent: str | None = (
        None  # what comes before a record starting a line: to read on after one broken
    )
    while True:
        if counted > stream.BLOCK:  # forget what has been read and counted
            stream.cut(counted)
            position -= counted
            counted = 0
        if not array:  # objects one after another: commas between them are tolerated
            position = stream.skip(position, ",")
        else:
            position = stream.skip(position)
            comma_at = position
            if read_one and not comma and stream.text[position : position + 1] == ",":
                comma = True
                position = stream.skip(position + 1)
            text = stream.text
            stray = (position < len(text) and text[position] == ",") or (
                comma and position < len(text) and text[position] == "]"
            )
            if stray:  # a comma with no record after it: JSON has none, and one may be missing
                at = comma_at if text[position] == "]" else position  # the comma's own line
                record += 1
                line += text.count("\n", counted, at)
                counted = at
                yield line, record, _stray_comma(source, line, record, text[position] == "]")
                while position < len(stream.text) and stream.text[position] == ",":
                    position = stream.skip(position + 1)
                comma = False
        text = stream.text
        if position < len(text) and text[position] == "]":
            after = stream.skip(position + 1)
            text = stream.text
            if after < len(text):  # never ignore what follows the array: report it
                record += 1
                line += text.count("\n", counted, after)
                yield (
                    line,
                    record,
                    _shape_problem(
                        source,
                        line,
                        record,
                        stream.ahead(after, 20),
                        "text after the end of the JSON array; the rest of the file is not read",
                    ),
                )
            return
        if position >= len(text):
            if array:  # a cut-off export: records may be missing, so say so
                record += 1
                line += text.count("\n", counted, len(text.rstrip()))
                yield line, record, _unclosed(source, line, record)
            return
        record += 1
        line += text.count("\n", counted, position)
        counted = position
        if indent is None and array:
            indent = _line_indent(text, position)
        try:
            end = stream.decode(decoder, position)
        except _TooLarge:  # rejected unread: stepped over by its brackets, a block at a time
            head = stream.ahead(position, HEAD).encode("utf-8", errors="surrogateescape")
            passed = stream.pass_value(position, endless_after(limit))
            rest = "" if passed.end is not None else _unended(passed.size, limit)
            yield line, record, too_large(head, passed.size, limit, source, line, record, rest)
            if passed.end is None:
                return
            line += passed.lines
            position, counted = passed.end, 0
            comma, read_one = False, True
            continue
        except (json.JSONDecodeError, RecursionError) as exc:
            resume = stream.end_of_value(position)
            if resume is None and record == 1 and indent is None:  # not an array's own line
                raise _NotADocument from None
            rest, reopened = "", False
            if resume is None and indent is not None:  # its brackets do not balance: read on
                resume = stream.next_line_opening(position + 1, indent)  # from the next record
                reopened = resume is not None  # the comma before that record is passed
                if resume is not None:
                    after = line + stream.text.count("\n", position, resume)
                    rest = (
                        "; its brackets do not balance, so reading goes on at the next line that "
                        f"opens a record as the others do (line {after})"
                    )
            text = stream.text
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            where = line + text.count("\n", position, getattr(exc, "pos", position))
            if reopened:  # its error may be found in the records it ran into: name its start
                where = line
            if resume is None:
                rest = "; the rest of the file cannot be read"
            from pbr._rejection import Rejection

            own = 4096 if resume is None else min(4096, resume - position)  # its text alone
            head = stream.ahead(position, own).encode("utf-8", errors="surrogateescape")
            yield (
                line,
                record,
                Rejection.single(
                    source=source,
                    line=where,
                    record=record,
                    family_id=family_id_in(head),
                    loc="",
                    value=head.decode("utf-8", errors="surrogateescape")[:20],
                    type="json_invalid",
                    message=f"invalid JSON ({why}){rest}",
                ),
            )
            if resume is None:
                return
            position = resume
            comma, read_one = reopened, True  # a record was there, broken: a comma may follow
            continue
        yield line, record, stream.text[position:end].encode("utf-8", errors="surrogateescape")
        position = end
        comma, read_one = False, True


def _stray_comma(source: str, line: int, record: int, before_end: bool) -> Rejection:
    """A comma in a JSON array with no record after it (before ``]``, or after another comma)."""
    where = "before the end of the array ']'" if before_end else "after another comma or the '['"
    return _shape_problem(
        source,
        line,
        record,
        ",",
        f"a comma with no record after it, {where}: JSON allows none, and a record may be "
        "missing here",
    )


def _unclosed(source: str, line: int, record: int) -> Rejection:
    return _shape_problem(
        source,
        line,
        record,
        "(end of file)",
        "the JSON array is not closed (no ']' before the end of the file): "
        "the file may be cut short, and records after the last one read may be missing",
    )


def _shape_problem(source: str, line: int, record: int, value: str, message: str) -> Rejection:
    """A problem of the file's JSON between records, reported in a record's place."""
    from pbr._rejection import Rejection

    return Rejection.single(
        source=source,
        line=line,
        record=record,
        family_id=None,
        loc="",
        value=value,
        type="json_invalid",
        message=message,
    )


_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
"""The rest of a JSON string up to its closing quote (or a window's end, or a last backslash)."""
_BRACKET_OR_QUOTE = re.compile(r'["\[\]{}]')


def _size_of(text: str) -> int:
    """The bytes of `text`, a window of a file read with bad bytes kept (as surrogates)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", errors="surrogateescape"))


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_WINDOW_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?P<closed>")?|[\[\]{}]')
"""`_TOKEN` for a window of a file: a string still open where the window ends is seen as such.

A string's characters are matched a run at a time (``[^"\\]*``), not one by one as
alternatives: the regular expression engine keeps state for each repeat of a group, over
100 bytes a character, so a megabyte string took 150 MB to step over."""


def _end_of_value(text: str, position: int, *, final: bool = True) -> int | None:
    """Where the object or array starting at `position` ends, by its brackets alone.

    Used to step over a broken record in an array and read on; None when the brackets do not
    balance (the rest of the file cannot be split into records). With ``final=False`` `text` is
    a window of the file: a string still open at its end means None (read on), where the whole
    file's scan steps over a quote it cannot close.
    """
    if text[position] not in "[{":
        return None
    closing = {"[": "]", "{": "}"}
    expected: list[str] = []
    for token in (_TOKEN if final else _WINDOW_TOKEN).finditer(text, position):
        mark = token.group()
        if mark in closing:
            expected.append(closing[mark])
        elif mark in "]}":
            if not expected or expected.pop() != mark:
                return None
            if not expected:
                return token.end()
        elif not final and token.group("closed") is None:
            return None
    return None


def _line_indent(text: str, position: int) -> str | None:
    """The spaces and tabs before `position` on its line; None when anything else comes first."""
    start = text.rfind("\n", 0, position) + 1
    if start == 0:  # on the file's first line, with the '[': not a record's own line
        return None
    before = text[start:position]
    return before if before.strip(" \t") == "" else None


def _skip(text: str, position: int, separators: str) -> int:
    while position < len(text) and (text[position].isspace() or text[position] in separators):
        position += 1
    return position


def _once(
    item: Family | Rejection, seen: SeenIds, *, source: str, line: int, record: int
) -> Family | Rejection:
    """Reject a later record of a family_id, naming the first one's line: a family is claimed once."""
    from pbr._rejection import Rejection

    if not isinstance(item, Rejection) and not seen.add(item.family_id, line):
        return Rejection.repeated_family(
            source=source,
            line=line,
            record=record,
            family_id=item.family_id,
            first_line=seen.first_line(item.family_id),
            local_authority=item.local_authority,
        )
    return item


class _NumberText(str):
    """A JSON number exactly as the record wrote it."""

    __slots__ = ()


def _cut_short(rejection: Rejection) -> Rejection:
    """Say what JSON that ends too soon most likely means: a record cut off (a truncated line)."""
    errors = rejection.errors
    if not any(e.type == "json_invalid" and "EOF while parsing" in e.message for e in errors):
        return rejection
    hint = "; the record ends before its JSON does (cut off?)"
    return rejection.model_copy(
        update={
            "errors": tuple(
                e.model_copy(update={"message": e.message + hint})
                if e.type == "json_invalid" and "EOF while parsing" in e.message
                else e
                for e in errors
            )
        }
    )


def _numbers_as_written(rejection: Rejection, exc: ValidationError, data: bytes) -> Rejection:
    """Echo each rejected number as the record wrote it: ``1e400``, not ``Infinity``; ``1.50``.

    Pydantic reports the value it parsed; for a number that is not the text the council typed.
    The record is read again keeping numbers as text (only for a rejection, so cost is no matter).

    >>> parse_family(b'{"family_id": "F1", "attached_on": "2013-01-07", "members": [{'
    ...     b'"person_id": "A1", "date_of_birth": "1980-01-01", "expectant": 1e400}]}'
    ... ).errors[0].value
    '1e400'
    """
    from pbr._rejection import without_echoes

    errors = without_echoes(exc.errors())
    if not any(isinstance(err.get("input"), int | float) for err in errors):
        return rejection
    tree = _with_numbers_as_text(data)
    if tree is None:  # not JSON after all: keep what pydantic saw
        return rejection
    fixed = []
    for field, err in zip(rejection.errors, errors, strict=True):
        written = _at(tree, err["loc"]) if isinstance(err.get("input"), int | float) else None
        if isinstance(written, _NumberText) and field.value != written:
            text = str(written)
            field = field.model_copy(update={"value": text if len(text) <= 80 else text[:79] + "…"})
        fixed.append(field)
    return rejection.model_copy(update={"errors": tuple(fixed)})


def _long_numbers(rejection: Rejection, data: bytes) -> Rejection:
    """A number too long for the JSON reader (`readable_number`) named at its field.

    Pydantic stops at such a number with "number out of range" for the whole record; the
    record is read again keeping numbers as text to say where (only for such a rejection),
    then once more with each such number as ``0``, for the record's other errors (bar those
    comparing that ``0`` with a number beside it: the number's real value is not known). The value
    is the number as written (cut short), not quoted: it is a number, not text.

    >>> parse_family(b'{"family_id": "F1", "attached_on": "2013-01-07", "members": [{'
    ...     b'"person_id": "A1", "date_of_birth": "1980-01-01", "expectant": 1' + b"0" * 5000
    ...     + b'}]}').errors[0].loc
    'members.0.expectant'
    """
    from pbr._rejection import FieldError, Rejection

    (first, *others) = rejection.errors
    if others or not out_of_range(first.type, first.message):
        return rejection
    found = [
        FieldError(loc=".".join(map(str, loc)), type="number_too_long", value=text, message=why)
        for loc, text, why in long_numbers(data)
    ]
    if not found:  # not JSON after all, or no such number: keep what pydantic said
        return rejection
    rest = parse_family(without_long_numbers(data), max_record_bytes=len(data) + 1)
    named = {error.loc: error.value for error in found}  # what "0" there gave is left out,
    also = [  # bar a key not in the format, shown with its number as written
        e if e.loc not in named else e.model_copy(update={"value": named[e.loc]})
        for e in (rest.errors if isinstance(rest, Rejection) else ())
        if holds_beside_long_numbers(e.loc, e.type, named)
    ]
    return rejection.model_copy(update={"errors": (*found, *also)})


def out_of_range(kind: str, message: str) -> bool:
    """Whether pydantic's error is its JSON reader stopping at a number too long to read."""
    return kind == "json_invalid" and "number out of range" in message


def long_numbers(data: bytes) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Each number of a record too long for the JSON reader: its path, as written, and why.

    As written, cut short to 80 characters; none when the record is not JSON even with its
    numbers read as text. For `parse_family` and `pbr.Family.model_validate_json` alike.
    """
    tree = _with_numbers_as_text(data)
    if tree is None:
        return []
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    for loc, text in _numbers_in(tree, ()):
        if not readable_number(text):
            why = too_long_to_read(text, sign_counts=_reader_counts_the_sign())
            found.append((loc, text if len(text) <= 80 else text[:79] + "…", why))
    return found


@functools.cache
def _reader_counts_the_sign() -> bool:
    """Whether the JSON reader counts a minus sign towards its 4,300 characters.

    pydantic-core 2.46 does (``-`` and 4,300 digits is refused); 2.50 does not: asked of the
    installed reader once, so that a message about a number too long is true of it.
    """
    return not readable_number("-" + "9" * 4300)


def readable_number(text: str | bytes) -> bool:
    """Whether pydantic's JSON reader takes a number as written.

    It refuses one whose whole part, a minus sign counted, is over 4,300 characters (so ``-``
    and 4,300 digits), whatever follows it; a fraction or exponent of any length is taken. Asked
    of the reader itself, so what is named too long and what is read as ``0`` always agree.
    """
    from pydantic_core import from_json

    try:
        from_json(text)
    except ValueError:
        return False
    return True


def without_long_numbers(data: bytes) -> bytes:
    """The record with each number too long for the JSON reader as ``0``, for its other errors."""
    return _LONG_NUMBER.sub(_zeroed, data)


def holds_beside_long_numbers(loc: str, kind: str, named: Collection[str]) -> bool:
    """Whether an error of `without_long_numbers`' record holds of the record as written.

    Not one at a number read as ``0`` (bar a key not in the format), nor one comparing such a
    ``0`` with a number beside it (`named`: the long numbers' paths, dotted).
    """
    from pbr._record_checks import COMPARES_NUMBERS

    if loc in named and kind != "extra_forbidden":
        return False
    holding = {where.rpartition(".")[0] for where in named}
    return not (kind in COMPARES_NUMBERS and loc.rpartition(".")[0] in holding)


_LONG_NUMBER = re.compile(
    rb'"[^"\\]*(?:\\.[^"\\]*)*"|(?<![0-9.eE+-])-?[0-9]{4300,}(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?'
)
"""A JSON string or a number whose whole part is 4,300 digits or more: made ``0`` by `_zeroed`
if the JSON reader refuses it (`readable_number`), else kept as it is."""


def _zeroed(match: re.Match[bytes]) -> bytes:
    text = match.group()
    return text if text.startswith(b'"') or readable_number(text) else b"0"


def _with_numbers_as_text(data: bytes) -> Any:
    """The record read with every number kept as written (`_NumberText`); None if not JSON."""
    try:
        return json.loads(
            data, parse_float=_NumberText, parse_int=_NumberText, parse_constant=_NumberText
        )
    except (ValueError, RecursionError):
        return None


def _numbers_in(
    tree: Any, loc: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each number of a record read with numbers as text (`_NumberText`), with where it is."""
    if isinstance(tree, _NumberText):
        yield loc, str(tree)
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from _numbers_in(value, (*loc, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _numbers_in(value, (*loc, i))


def _at(tree: Any, loc: tuple[str | int, ...]) -> Any:
    """The value at a pydantic error's location in a parsed record, or None."""
    for part in loc:
        if isinstance(tree, dict) and isinstance(part, str):
            tree = tree.get(part)
        elif isinstance(tree, list) and isinstance(part, int) and 0 <= part < len(tree):
            tree = tree[part]
        else:
            return None
    return tree


def __getattr__(name: str) -> Any:
    if name in ("FieldError", "Rejection"):  # pydantic models: loaded when first asked for
        from pbr import _rejection

        return getattr(_rejection, name)
    raise AttributeError(f"module 'pbr.io' has no attribute {name!r}")
