"""A file's ranges evaluated by this process and N−1 others, handed on in file order.

`pbr evaluate` on a JSON Lines file with more than one worker. The ranges are grouped in slices
of a few megabytes; every process, this one included, takes the next slice not yet taken. A
slice this process takes when it is the next to hand on is handed on as it is evaluated; any
other slice is written to a file of its own (the ranges' decisions as they are, and the rest
of each `Span` pickled), which this process reads back when the slice's turn comes. No pool:
no threads beside this one, no pipe carrying decisions, one process a core rather than a
writing process competing with the workers for the cores (the fourteenth round of
``docs/performance.md``). At most `AHEAD` slices a process are taken beyond the next to hand
on, so the files stay few however slowly the caller takes the spans. A slice's file that cannot
be written (a full disk) is said as the temporary folder's failure, not the output's.
"""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Generic, NamedTuple, Protocol, Self, TypeVar

from pbr._processes import give_back_freed_memory, held_signals, worker_signals

__all__ = ["AHEAD", "SLICE_RANGES", "evaluate_sliced"]

SLICE_RANGES = 8
"""Ranges in a slice (about 4 MiB of a file, 800 families): what a process takes at a time."""

AHEAD = 2
"""Slices a process may take beyond the next to hand on (so ``AHEAD × processes`` at most)."""

_LENGTH = struct.Struct("<QQ")
"""Before each span in a slice's file: the length of its pickled rest, then of its decisions."""

Range = tuple[str, int, int]


class _Evaluated(Protocol):
    """What the work makes of a range (`pbr.batch.Span`, say): a named tuple with its `data`."""

    @property
    def data(self) -> bytes: ...

    def _replace(self, *, data: bytes = ...) -> Self: ...


_S = TypeVar("_S", bound=_Evaluated)


class _Shared(NamedTuple, Generic[_S]):
    """What every process of a run holds: the work, the slices, and who has taken which."""

    work: Callable[[Range], _S]
    filed: Callable[[_S], _S]
    """What of the work's answer goes into a slice's file (the answer itself, unless told)."""
    slices: Sequence[Sequence[Range]]
    folder: str
    """Where a slice not handed on in its turn is written."""
    taken: Any
    """The next slice to take (a shared integer, whose lock guards `handed` too)."""
    handed: Any
    """The slices handed on so far (a shared integer)."""
    limit: int
    """How many slices beyond those handed on may be taken."""

    def take(self) -> int | None:
        """The next slice, now this process's; None if all are taken or none may be yet."""
        with self.taken.get_lock():
            mine: int = self.taken.value
            if mine >= len(self.slices) or mine >= self.handed.value + self.limit:
                return None
            self.taken.value = mine + 1
            return mine

    def hand_on(self, following: int) -> None:
        """Say that the slices before `following` are handed on (room for more to be taken)."""
        with self.taken.get_lock():
            self.handed.value = following

    def write(self, number: int) -> None:
        """Slice `number` evaluated into its file."""
        _write_slice(self.work, self.filed, self.slices[number], self.folder, number)


def evaluate_sliced(
    work: Callable[[Range], _S],
    ranges: Sequence[Range],
    processes: int,
    filed: Callable[[_S], _S] | None = None,
    keep: bool = False,
    here: Callable[[Range], _S] | None = None,
) -> Iterator[_S]:
    """`work` on each range, on `processes` processes (this one and the others), in order.

    A range not handed on as it is evaluated goes through a slice's file as `filed` makes it
    (a form cheaper to write and read, say); one this process hands on as it is evaluated does
    not, and is done with `here` if given (the work in the form the caller wants at once). With
    `keep`, this process keeps the slices it evaluates out of turn, as they are, rather than
    writing them (for answers costly to file and read back).
    """
    import multiprocessing

    slices = [ranges[i : i + SLICE_RANGES] for i in range(0, len(ranges), SLICE_RANGES)]
    mine = here or work
    if processes <= 1 or len(slices) <= 1:
        yield from map(mine, ranges)
        return
    try:
        folder = tempfile.mkdtemp(prefix="pbr-slices-")
    except OSError:  # no room for the files: this process alone, as with one worker
        yield from map(mine, ranges)
        return
    others: list[Any] = []
    try:  # from here on, whatever stops the run removes the folder and the other processes
        context = multiprocessing.get_context()
        taken, handed = context.Value("q", 0), context.Value("q", 0, lock=False)
        reader, writer = context.Pipe(duplex=False)  # each slice written: its number
        shared = _Shared(work, filed or _as_it_is, slices, folder, taken, handed, AHEAD * processes)
        others += [
            context.Process(target=_other, args=(shared, writer), daemon=True)
            for _ in range(min(processes, len(slices)) - 1)
        ]
        _start(others)
        yield from _in_order(shared, reader, others, keep, here)
    finally:
        for process in others:
            if process.is_alive():
                process.terminate()
        for process in others:
            if process.pid is not None:  # started (one that failed to start has none)
                process.join()
        shutil.rmtree(folder, ignore_errors=True)


def _start(others: Sequence[Any]) -> None:
    """Start the other processes with SIGINT and SIGTERM held back until they have set theirs."""
    with held_signals():
        for process in others:
            process.start()


def _in_order(
    shared: _Shared[_S],
    reader: Any,
    others: Sequence[Any],
    keep: bool,
    here: Callable[[Range], _S] | None,
) -> Iterator[_S]:
    """The handing process's part: hand on the next slice when it is ready, else take one."""
    from multiprocessing.connection import wait

    own = here or shared.work

    kept: dict[int, list[_S]] = {}
    written: set[int] = set()
    failed: dict[int, bytes] = {}
    following = 0
    count = len(shared.slices)
    while following < count:
        while reader.poll():
            said = reader.recv_bytes()
            number = int.from_bytes(said[:8], "little")
            written.add(number)
            if len(said) > 8:
                failed[number] = said[8:]
        if following in failed:
            raise pickle.loads(failed[following])
        if following in kept or following in written:
            done = kept.pop(following) if following in kept else None
            yield from done if done is not None else _read_slice(shared.folder, following)
            following += 1
            shared.hand_on(following)
            continue
        mine = shared.take()
        if mine == following:  # the next to hand on: straight to the caller
            yield from map(own, shared.slices[mine])
            following += 1
            shared.hand_on(following)
            _tidy(following)
        elif mine is not None and keep:
            kept[mine] = [shared.work(part) for part in shared.slices[mine]]
        elif mine is not None:
            shared.write(mine)
            written.add(mine)
            _tidy(mine)
        else:  # nothing to take: wait for a slice written, or a process that stopped
            wait([reader, *(p.sentinel for p in others if p.exitcode is None)], timeout=1.0)
            if reader.poll():
                continue
            stopped = [p.exitcode for p in others if p.exitcode not in (None, 0)]
            if stopped:
                raise RuntimeError(f"a worker process stopped (exit code {stopped[0]})")
            if all(p.exitcode is not None for p in others):  # pragma: no cover - a defect
                raise RuntimeError(f"no process wrote slice {following} of {count}")


def _other(shared: _Shared[Any], writer: Any) -> None:
    """Another process's part: take slices, write each to its file, say so; until none is left.

    Whatever goes wrong is handed to the process handing on, through the pipe (not a file: the
    disk may be full), which raises it; nothing is printed here (a traceback would reach the
    terminal of whoever ran pbr). If that process is gone, so is the work: the folder is
    removed and this process ends.
    """
    worker_signals()
    parent = os.getppid()
    try:
        while True:
            mine = shared.take()
            if mine is None:
                if shared.taken.value >= len(shared.slices):
                    return
                if os.getppid() != parent:
                    shutil.rmtree(shared.folder, ignore_errors=True)
                    return
                time.sleep(0.002)  # too far ahead of what is handed on: wait for room
                continue
            try:
                shared.write(mine)
            except BaseException as exc:
                writer.send_bytes(mine.to_bytes(8, "little") + _pickled_error(exc))
                return
            writer.send_bytes(mine.to_bytes(8, "little"))
            _tidy(mine)
    except BaseException:  # could not even say what went wrong (or no one is left to hear it)
        os._exit(0 if os.getppid() != parent else 1)


def _as_it_is(span: _S) -> _S:
    return span


def _write_slice(
    work: Callable[[Range], _S],
    filed: Callable[[_S], _S],
    ranges: Sequence[Range],
    folder: str,
    number: int,
) -> None:
    """Each range's span into the slice's file: its decisions as they are, the rest pickled.

    An error of the work (an input that cannot be read) is raised as it is; one writing the
    file (`_temporary_folder`) as the temporary folder's.
    """
    path = os.path.join(folder, str(number))
    with _temporary_folder(folder):
        handle = open(path + ".part", "wb")  # noqa: SIM115
    try:
        for part in ranges:
            span = filed(work(part))
            rest = pickle.dumps(span._replace(data=b""), pickle.HIGHEST_PROTOCOL)
            with _temporary_folder(folder):
                handle.write(_LENGTH.pack(len(rest), len(span.data)))
                handle.write(rest)
                handle.write(span.data)
        with _temporary_folder(folder):
            handle.close()
            os.replace(path + ".part", path)
    finally:
        with suppress(OSError):
            handle.close()


@contextmanager
def _temporary_folder(folder: str) -> Iterator[None]:
    """A write of a slice's file that fails as the temporary folder's failure, naming it.

    Said as `pbr.output.OutputError` but with no errno, so not taken for a failure of the
    output being written meanwhile (``cannot write out.jsonl: No space left on device`` said
    of a file that had room).
    """
    try:
        yield
    except OSError as exc:
        from pbr.output import OutputError

        place = os.path.dirname(folder)
        raise OutputError(
            f"cannot write the workers' decisions to a temporary file in {place}: "
            f"{exc.strerror or exc}; set TMPDIR to a folder on a disk with room, or use one worker"
        ) from None


def _pickled_error(exc: BaseException) -> bytes:
    """What went wrong making a slice, for the process handing on to raise (or as its text)."""
    try:
        data = pickle.dumps(exc, pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
    except Exception:
        data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    return data


def _read_slice(folder: str, number: int) -> Iterator[Any]:
    """The spans `_write_slice` wrote, in order; the file removed once read."""
    path = os.path.join(folder, str(number))
    with open(path, "rb") as handle:  # buffered: each read returns all it asks for, or the end
        while header := handle.read(_LENGTH.size):
            rest_size, data_size = _LENGTH.unpack(header)
            rest, data = handle.read(rest_size), handle.read(data_size)
            if len(rest) != rest_size or len(data) != data_size:
                raise RuntimeError(f"the file of slice {number} was cut short: {path}")
            span = pickle.loads(rest)
            yield span._replace(data=data)
    with suppress(OSError):
        os.remove(path)


_TIDY_EVERY = 6
"""Slices a process takes between two collections and returns of freed memory."""


def _tidy(number: int) -> None:
    if number % _TIDY_EVERY == 0:
        gc.collect()
        give_back_freed_memory()
