"""Reading never takes memory or time out of bounds, whatever the input's first record or length.

A first record over the size limit is rejected unread, in memory of a few times the limit, in
every shape of file; a stream of NUL bytes is refused at its first block; a line with no end is
skipped only so far, then reading stops and says so.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr import io as pbr_io

LIMIT = 1 << 16
BIG = "a" * (1 << 20)  # a line 16 times the limit
HUGE = '{"family_id": "X", "junk": "' + BIG + '"}'
AFTER = '{"family_id": "Y"}'
SHAPES = {
    "lines": HUGE + "\n" + AFTER + "\n",
    "array on its first line": "[" + HUGE + ",\n" + AFTER + "]\n",
    "array, a record a line": "[\n" + HUGE + ",\n" + AFTER + "\n]\n",
    "object spread over lines": '{\n"family_id": "X",\n"junk": "' + BIG + '"\n}\n' + AFTER,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_oversized_first_record_is_rejected_in_bounded_memory(
    tmp_path: Path, shape: str
) -> None:
    # Found by a tester: a 20 MB first line took 2 GB to reject (a 50 MB one ran out of
    # memory), where the same line on line 3 took 40 MB. Deciding the file's shape read on
    # and decoded the whole first record, over a window growing as it went.
    path = tmp_path / "f.json"
    path.write_text(SHAPES[shape])
    tracemalloc.start()
    try:
        items = list(pbr_io.read_numbered(path, max_record_bytes=LIMIT))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * (1 << 20), f"{peak:,} bytes at peak for a {len(BIG):,}-byte record"
    first = items[0][2]
    assert isinstance(first, pbr.Rejection)
    assert first.errors[0].type == "record_too_large"
    assert first.family_id == "X"
    if shape != "object spread over lines":  # the next record is read (here: objects in turn)
        assert [item.family_id for _, _, item in items[1:]] == ["Y"]


def test_an_oversized_array_record_names_its_size_and_the_next_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text("[\n" + AFTER + ",\n" + HUGE + ",\n" + AFTER.replace("Y", "Z") + "\n]\n")
    items = list(pbr_io.read_numbered(path, max_record_bytes=LIMIT))
    assert [(line, record) for line, record, _ in items] == [(2, 1), (3, 2), (4, 3)]
    big = items[1][2]
    assert isinstance(big, pbr.Rejection)
    assert big.errors[0].type == "record_too_large"
    assert f"the record is {len(HUGE):,} bytes or more" in big.errors[0].message
    assert [item.family_id for _, _, item in items] == ["Y", "X", "Z"]


class _AtItsStart(io.RawIOBase):
    """A readable stream that says it is always at its start (as /dev/zero does)."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return 0

    def tell(self) -> int:
        return 0


class _Endless(_AtItsStart):
    """A stream of one byte without end, that fails the test once it has given `most` bytes."""

    def __init__(self, byte: bytes, most: int) -> None:
        super().__init__()
        self._byte = byte
        self._most = most
        self.given = 0

    def readinto(self, buffer: Any) -> int:
        if self.given > self._most:
            raise AssertionError(f"read on past {self._most:,} bytes")
        with memoryview(buffer) as view:
            view[:] = self._byte * len(view)
            self.given += len(view)
            return len(view)


@pytest.mark.parametrize("first", ["", '{"family_id": "X", "junk": "'])
def test_a_line_with_no_end_stops_reading_and_says_so(first: str) -> None:
    # A line with no newline was skipped to its end: for ever, on a stream without end.
    stream = _Endless(b"a", 70 << 20)
    handle = io.BufferedReader(_Prefixed(first.encode(), stream), 1 << 20)
    items = list(pbr_io._raw(handle, "endless", 1024))
    (only,) = items
    rejection = only[2]
    assert isinstance(rejection, pbr.Rejection)
    error = rejection.errors[0]
    assert error.type == "record_too_large"
    assert "the rest cannot be read: a line longer than 67,108,864 bytes with no end" in (
        error.message
    )
    assert stream.given < 70 << 20


class _Prefixed(_AtItsStart):
    """`head`, then what `rest` gives."""

    def __init__(self, head: bytes, rest: io.RawIOBase) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        return self._rest.readinto(buffer)


def test_a_line_as_long_as_a_file_of_its_own_is_skipped_to_its_end(tmp_path: Path) -> None:
    # A regular file's line ends, at the latest, at the file's end: it is skipped to it.
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"a" * (70 << 10) + b"\n" + AFTER.encode() + b"\n")
    items = list(pbr_io.read_numbered(path, max_record_bytes=1))
    assert [line for line, _, _ in items] == [1, 2]


def _cli(*args: str, stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    code = "import sys; from pbr.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


NOT_TEXT = "is not text: its first bytes are all NUL (zero) bytes"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize(
    "args",
    [
        ["explain", "/dev/zero", "X", "--as-of", "2015-03-31"],
        ["evaluate", "/dev/zero", "--as-of", "2015-03-31"],
    ],
)
def test_a_stream_of_nul_bytes_is_refused_at_once(args: list[str]) -> None:
    done = _cli(*args)
    assert done.returncode == 2
    assert f"pbr: /dev/zero {NOT_TEXT}" in done.stderr


def test_nul_bytes_piped_in_are_refused_before_they_are_copied(tmp_path: Path) -> None:
    zeros = tmp_path / "zeros"
    zeros.write_bytes(bytes(3 << 20))
    with open(zeros, "rb") as stdin:
        done = _cli("evaluate", "-", "--as-of", "2015-03-31", stdin=stdin)
    assert done.returncode == 2
    assert f"pbr: <stdin> {NOT_TEXT}" in done.stderr


def test_a_file_of_nul_bytes_is_refused_by_the_readers(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(bytes(100))
    with pytest.raises(pbr_io.UnreadableFile, match=re.escape(NOT_TEXT)):
        list(pbr.read_records(path))
