"""`pbr.evaluate_many` over an open binary file, each process reading its own ranges of it.

Given the lines of a large file, `evaluate_many` would otherwise read them in this process and
send every record down a pipe to a pool, about 5 KB a family, and the sending cost this process
a quarter of its time. Here the file is cut into ranges (`pbr.io.line_ranges`) that this process
and the others read and evaluate side by side (`pbr._slices`). The others' decisions come back
as MessagePack (`pbr._lean.pack`, through a slice's file) and are made models here as they are
handed on. This process builds the decisions it hands on as it evaluates them as models at once
(`here`), and keeps those it evaluates out of turn as Structs (`keep`): neither is packed or
unpacked. Every line is a record, numbered from 1 at the file's position when the first answer
is asked for, exactly as iterating the file gives them: the answers are those of the pool's
path, rejections and their numbers included (tests/test_file_lines.py).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pbr import _lean
from pbr._parts import lean_parts
from pbr._terminal import printable
from pbr._unreadable import cannot_read, changed_while_read
from pbr.money import exact_arithmetic

if TYPE_CHECKING:
    from pbr._rejection import Rejection
    from pbr.decisions import Decision

__all__ = [
    "AUTO_FILE_BYTES",
    "Batch",
    "LinesRange",
    "evaluate_file",
    "file_to_read",
    "packed",
    "read_lines",
]

AUTO_FILE_BYTES = 4 * 1024 * 1024
"""With ``workers="auto"``, the bytes left in a file (about 750 families) from which every core
is used: ``pbr evaluate --workers auto``'s rule for a file."""


class Batch(Protocol):
    """What evaluates a line: a batch's job (`pbr.batch`), with its settings."""

    source: str

    def one(self, n: int, item: bytes) -> Any:
        """The decision (a `pbr._lean` part in `lean_parts`) or rejection of record `n`."""


class LinesRange(NamedTuple):
    """One range of a file evaluated: its decisions, and the lines answered otherwise."""

    data: bytes
    """The decisions as MessagePack, one after another (`pbr._lean.pack`), in a range that
    went through a slice's file (`packed`); else empty."""
    ends: list[int]
    """Where each decision ends in `data`."""
    decided: list[Any]
    """The decisions as `pbr._lean` parts, in a range handed on as it was evaluated; else
    empty."""
    others: list[tuple[int, Any]]
    """Each line (from 0 in the range) answered otherwise, in order: its rejection, numbered
    as if the range began the records, or a decision MessagePack cannot hold, as its model."""
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
    job: Batch, records: io.BufferedReader, path: str, start: int, processes: int
) -> Iterator[Decision | Rejection]:
    """`evaluate_many`'s answers for the file's lines from `start`, read range by range.

    The lines are those the file holds when the first answer is asked for. When all are
    answered, the file stands at their end, as after iterating it. A range is read by the
    file's name only from the file opened, as it was then (`read_lines`): a file replaced,
    grown, shrunk or written to since is refused (`pbr.io.UnreadableFile`), never mixed in.
    """
    from pbr._slices import evaluate_sliced
    from pbr.batch import SPAN_BYTES
    from pbr.io import line_ranges

    opened = os.fstat(records.fileno())  # the file the caller opened, as it stands now
    cuts = line_ranges(path, start, SPAN_BYTES, opened.st_size)
    ranges = [(path, first, end) for first, end in cuts]
    work = partial(read_lines, job, opened=opened)
    here = partial(read_lines, job, opened=opened, lean=False)
    before = 0  # the lines of the ranges answered
    for part in evaluate_sliced(work, ranges, processes, packed, True, here):
        from pbr.decisions import as_model  # loaded once the other processes are at work

        # a slice handed on as it was evaluated holds models; one kept out of turn, Structs
        decided = map(as_model, part.decided) if part.decided else _unpacked(part)
        for _, other in _by_line(part.lines, iter(part.others)):
            yield next(decided) if other is None else _renumbered(other[1], before)
        before += part.lines
    with suppress(OSError, ValueError):  # where iterating would have left it
        records.seek(ranges[-1][2] if ranges else start)


def _unpacked(part: LinesRange) -> Iterator[Decision]:
    """A range's packed decisions as models, in order."""
    from pbr.decisions import as_model

    unpack = _lean.unpack
    data = memoryview(part.data)
    begin = 0
    for end in part.ends:
        yield as_model(unpack(data[begin:end]))
        begin = end


def _renumbered(answer: Any, before: int) -> Any:
    """A range's rejection numbered among the file's records (a decision has no number)."""
    from pbr._rejection import Rejection

    if before and isinstance(answer, Rejection):
        return answer.model_copy(update={"record": answer.record + before})
    return answer


def read_lines(
    job: Batch, task: tuple[str, int, int], opened: os.stat_result | None = None, lean: bool = True
) -> LinesRange:
    """Read one range of the file and evaluate each of its lines (a process's part).

    With `opened` (the file as the caller opened it), the file read by its name must still be
    that one, unchanged, before and after the range is read: else `pbr.io.UnreadableFile`.
    The decisions are `pbr._lean` parts (to be packed: `packed`), or models if not `lean`.
    """
    from pbr.io import UnreadableFile, read_bytes

    path, start, end = task
    try:
        with open(path, "rb", buffering=0) as handle:
            before = os.fstat(handle.fileno())
            handle.seek(start)
            data = read_bytes(handle, end - start)
            after = os.fstat(handle.fileno())
    except OSError as exc:
        raise UnreadableFile(cannot_read(job.source, exc)) from None
    if opened is not None:
        said = changed_while_read(printable(path), opened, before)
        said = said or changed_while_read(printable(path), opened, after)
        if said is not None:
            raise UnreadableFile(said)
    decided: list[Any] = []
    others: list[tuple[int, Any]] = []
    if lean:
        with lean_parts(), exact_arithmetic():
            lines = _answered(job, data, _lean.Decision, decided, others)
    else:
        from pbr.decisions import Decision

        with exact_arithmetic():
            lines = _answered(job, data, Decision, decided, others)
    return LinesRange(b"", [], decided, others, lines)


def _answered(
    job: Batch, data: bytes, decision: type, decided: list[Any], others: list[tuple[int, Any]]
) -> int:
    """Each line of `data` answered: a `decision` into `decided`, else into `others`; the lines."""
    lines = 0
    for lines, line in enumerate(io.BytesIO(data), start=1):
        done = job.one(lines, line)
        if type(done) is decision:
            decided.append(done)
        else:  # a rejection
            others.append((lines - 1, done))
    return lines


def packed(part: LinesRange) -> LinesRange:
    """A range's decisions as MessagePack, for a slice's file (a fifth of a pickle's cost).

    A decision MessagePack cannot hold (an integer beyond 64 bits in a reason, say) goes with
    the rejections, as its model.
    """
    pack = _lean.pack
    texts: list[bytes] = []
    ends: list[int] = []
    others: list[tuple[int, Any]] = []
    written = taken = 0
    for line, other in _by_line(part.lines, iter(part.others)):
        if other is not None:
            others.append(other)
            continue
        decision = part.decided[taken]
        taken += 1
        try:
            text = pack(decision)
        except (TypeError, ValueError, OverflowError):
            from pbr.decisions import as_model  # pydantic: loaded only for such a decision

            others.append((line, as_model(decision)))
            continue
        texts.append(text)
        written += len(text)
        ends.append(written)
    return LinesRange(b"".join(texts), ends, [], others, part.lines)


def _by_line(
    lines: int, others: Iterator[tuple[int, Any]]
) -> Iterator[tuple[int, tuple[int, Any] | None]]:
    """Each line of a range, with its answer from `others` where it has one there."""
    other = next(others, None)
    for line in range(lines):
        if other is not None and other[0] == line:
            yield line, other
            other = next(others, None)
        else:
            yield line, None
