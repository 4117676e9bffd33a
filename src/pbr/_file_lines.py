"""`pbr.evaluate_many` over an open binary file, each process reading its own ranges of it.

Given the lines of a large file, `evaluate_many` would otherwise read them in this process and
send every record down a pipe to a pool, about 5 KB a family, and the sending cost this process
a quarter of its time. Here the file is cut into ranges (`pbr.io.line_ranges`) that this process
and the others read and evaluate side by side (`pbr._slices`), each decision coming back as
MessagePack (`pbr._lean.pack`) to be made a model here. Every line is a record, numbered from 1
at the file's position when the call is made, exactly as iterating the file gives them: the
answers are those of the pool's path, rejections and their numbers included
(tests/test_file_lines.py).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from pbr import _lean
from pbr._parts import lean_parts

if TYPE_CHECKING:
    from pbr._rejection import Rejection
    from pbr.batch import _Job
    from pbr.decisions import Decision

__all__ = ["AUTO_FILE_BYTES", "LinesRange", "evaluate_file", "file_to_read"]

AUTO_FILE_BYTES = 4 * 1024 * 1024
"""With ``workers="auto"``, the bytes left in a file (about 750 families) from which every core
is used: ``pbr evaluate --workers auto``'s rule for a file."""


class LinesRange(NamedTuple):
    """One range of a file evaluated: its decisions packed, and what could not be packed."""

    data: bytes
    """The decisions as MessagePack, one after another (`pbr._lean.pack`)."""
    ends: list[int]
    """Where each decision ends in `data`."""
    others: list[tuple[int, Any]]
    """Each line (from 0 in the range) answered otherwise: its rejection, numbered as if the
    range began the records, or a decision MessagePack cannot hold, as its model."""
    lines: int
    """The lines (records) in the range."""


def file_to_read(records: object, workers: int | str, cores: int) -> tuple[str, int, int] | None:
    """The (path, start, processes) to evaluate `records` by ranges, or None to iterate it.

    Only a file opened with ``open(path, "rb")`` whose name still names it, a regular file
    with enough bytes left for `workers` (``"auto"``: `AUTO_FILE_BYTES`) to mean more than one
    process: anything else is iterated as any iterable is.
    """
    if type(records) is not io.BufferedReader or type(records.raw) is not io.FileIO:
        return None
    name = records.name
    if not isinstance(name, str) or records.closed:
        return None
    try:
        opened = os.fstat(records.fileno())
        named = os.stat(os.path.abspath(name))
        start = records.tell()
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(opened.st_mode) or (named.st_dev, named.st_ino) != (
        opened.st_dev,
        opened.st_ino,
    ):
        return None
    if workers == "auto":
        processes = cores if opened.st_size - start >= AUTO_FILE_BYTES else 1
    else:
        processes = int(workers)
    if processes <= 1:
        return None
    return os.path.abspath(name), start, processes


def evaluate_file(
    job: _Job, records: io.BufferedReader, path: str, start: int, processes: int
) -> Iterator[Decision | Rejection]:
    """`evaluate_many`'s answers for the file's lines from `start`, read range by range.

    The lines are those the file holds when the call is made. When all are answered, the file
    stands at their end, as after iterating it.
    """
    from pbr._slices import evaluate_sliced
    from pbr.batch import SPAN_BYTES
    from pbr.decisions import as_model
    from pbr.io import line_ranges

    ranges = [(path, first, end) for first, end in line_ranges(path, start, SPAN_BYTES)]
    unpack = _lean.unpack
    before = 0  # the lines of the ranges answered
    for part in evaluate_sliced(partial(read_lines, job), ranges, processes):
        data = memoryview(part.data)
        taken = 0  # decisions taken from `data`
        others = iter(part.others)
        other = next(others, None)
        for line in range(part.lines):
            if other is not None and other[0] == line:
                yield _renumbered(other[1], before)
                other = next(others, None)
                continue
            end = part.ends[taken]
            yield as_model(unpack(data[part.ends[taken - 1] if taken else 0 : end]))
            taken += 1
        before += part.lines
    with suppress(OSError, ValueError):  # where iterating would have left it
        records.seek(ranges[-1][2] if ranges else start)


def _renumbered(answer: Any, before: int) -> Any:
    """A range's rejection numbered among the file's records (a decision has no number)."""
    from pbr._rejection import Rejection

    if before and isinstance(answer, Rejection):
        return answer.model_copy(update={"record": answer.record + before})
    return answer


def read_lines(job: _Job, task: tuple[str, int, int]) -> LinesRange:
    """Read one range of the file and evaluate each of its lines (a process's part)."""
    from pbr.batch import _is_lean
    from pbr.decisions import as_model
    from pbr.io import UnreadableFile

    path, start, end = task
    try:
        with open(path, "rb", buffering=0) as handle:
            data = os.pread(handle.fileno(), end - start, start)
            while len(data) < end - start and (
                more := os.pread(handle.fileno(), end - start - len(data), start + len(data))
            ):
                data += more  # a short read (a signal, say)
    except OSError as exc:
        raise UnreadableFile(f"cannot read {job.source}: {exc}") from None
    pack = _lean.pack
    packed: list[bytes] = []
    ends: list[int] = []
    others: list[tuple[int, Any]] = []
    written = lines = 0
    with lean_parts():
        for lines, line in enumerate(io.BytesIO(data), start=1):
            done = job.one(lines, line)
            if not _is_lean(done):  # a rejection
                others.append((lines - 1, done))
                continue
            try:
                text = pack(done)
            except (TypeError, ValueError, OverflowError):  # beyond MessagePack: the model
                others.append((lines - 1, as_model(done)))
                continue
            packed.append(text)
            written += len(text)
            ends.append(written)
    return LinesRange(b"".join(packed), ends, others, lines)
