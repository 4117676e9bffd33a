"""A file's ranges shared by this process and others a slice at a time (`pbr._slices`).

The spans come in file order and byte for byte as one process gives them; a slice another
process took is read back from its file, which is gone afterwards; what goes wrong in another
process is raised here, and nothing is left running or on disk however the caller stops.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import tempfile
import time
from collections.abc import Generator, Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import cast

import pytest

from pbr import _slices, batch
from pbr.io import line_ranges
from pbr.totals import Totals

REFERENCE = Path(__file__).parent / "reference" / "families.jsonl"
AS_OF = date(2015, 3, 31)


def _ranges(size: int = 3000) -> list[tuple[str, int, int]]:
    return [(str(REFERENCE), a, b) for a, b in line_ranges(str(REFERENCE), 0, size)]


def _job() -> batch._Job:
    return batch._checked_job(AS_OF, None, None, None, str(REFERENCE))


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the slices' files go (a fresh folder, so that what is left there can be seen)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path
    assert not list(tmp_path.glob("pbr-slices-*")), "a slices folder was left behind"
    assert not multiprocessing.active_children(), "a process was left running"


@pytest.mark.parametrize(("processes", "slice_ranges"), [(2, 1), (3, 2), (2, 8), (4, 1)])
def test_spans_come_in_file_order_as_one_process_gives_them(
    processes: int, slice_ranges: int, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_slices, "SLICE_RANGES", slice_ranges)
    job, ranges = _job(), _ranges()
    assert len(ranges) > 8 * slice_ranges  # many slices, some taken by each process
    alone = list(map(job.span, ranges))
    shared = list(_slices.evaluate_sliced(job.span, ranges, processes))
    assert shared == alone


def test_a_file_with_one_slice_is_evaluated_here(folder: Path) -> None:
    job, ranges = _job(), _ranges(1 << 30)
    assert len(ranges) == 1
    assert list(_slices.evaluate_sliced(job.span, ranges, 2)) == [job.span(ranges[0])]


def test_the_files_stay_few_when_the_caller_is_slow(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    job, ranges = _job(), _ranges(1500)
    most = 0
    got = []
    for span in _slices.evaluate_sliced(job.span, ranges, 3):
        time.sleep(0.01)  # the others run ahead, but only so far
        (made,) = folder.glob("pbr-slices-*")
        most = max(most, len(list(made.iterdir())))
        got.append(span)
    assert got == list(map(job.span, ranges))
    assert 0 < most <= _slices.AHEAD * 3


def _fake_span(part: tuple[str, int, int]) -> batch.Span:
    return batch.Span(str(part[1]).encode(), [], [], [], [], 0, 0, 0, {}, {}, Totals(), b"\x90")


def _failing(parent: int, how: str, part: tuple[str, int, int]) -> batch.Span:
    """A span of the range's start, except in another process on a range past the first few."""
    if os.getpid() != parent and part[1] >= 5:
        if how == "raise":
            raise ValueError(f"no span for range {part[1]}")
        os._exit(3)  # as if killed
    return _fake_span(part)


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_what_goes_wrong_in_another_process_is_raised_here(
    how: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    ranges = [("f", n, n + 1) for n in range(40)]
    work = partial(_failing, os.getpid(), how)
    expected = (
        pytest.raises(ValueError, match="no span for range")
        if how == "raise"
        else pytest.raises(RuntimeError, match=r"a worker process stopped \(exit code 3\)")
    )
    with expected:
        list(_slices.evaluate_sliced(work, ranges, 2))


def test_a_caller_that_stops_early_leaves_nothing_behind(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    ranges = [("f", n, n + 1) for n in range(200)]
    spans = cast(
        "Generator[batch.Span, None, None]", _slices.evaluate_sliced(_fake_span, ranges, 3)
    )
    assert [next(spans).data for _ in range(5)] == [b"0", b"1", b"2", b"3", b"4"]
    spans.close()  # the fixture checks: no folder, no process


def test_without_room_for_the_files_this_process_evaluates_alone(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(**_: object) -> str:
        raise PermissionError("read-only")

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    ranges = [("f", n, n + 1) for n in range(30)]
    got = list(_slices.evaluate_sliced(_fake_span, ranges, 2))
    assert [s.data for s in got] == [str(n).encode() for n in range(30)]


class _FullDisk:
    """A slice's file on a full disk: every write fails with ENOSPC."""

    def __init__(self, path: str) -> None:
        self._handle = open(path, "wb")  # noqa: SIM115

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def on_full_disk(parent: int, where: str, path: str, mode: str = "r") -> object:
    """`open`, but a slice's file is on a full disk in this process, the other, or `every`."""
    here = os.getpid() == parent
    if path.endswith(".part") and where in ("every", "here" if here else "other"):
        return _FullDisk(path)
    return open(path, mode)


def _slow_span(parent: int, part: tuple[str, int, int]) -> batch.Span:
    """A span of the range's start, slower in the other process: both write slices' files."""
    time.sleep(0.002 if os.getpid() == parent else 0.02)
    return _fake_span(part)


@pytest.mark.parametrize("where", ["here", "other", "every"])
def test_a_full_temporary_folder_is_said_as_the_folder_s_failure(
    where: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare OSError(ENOSPC) was taken for the output's ("cannot write out.jsonl: No space left
    on device") or was an "unexpected error"."""
    from pbr.output import OutputError

    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    parent = os.getpid()
    monkeypatch.setattr(_slices, "open", partial(on_full_disk, parent, where), raising=False)
    ranges = [("f", n, n + 1) for n in range(200)]
    with pytest.raises(OutputError) as failed:
        list(_slices.evaluate_sliced(partial(_slow_span, parent), ranges, 2))
    assert str(failed.value) == (
        f"cannot write the workers' decisions to a temporary file in {folder}: No space left on "
        "device; set TMPDIR to a folder on a disk with room, or use one worker"
    )
    assert failed.value.errno is None  # never taken for an output's write error


def test_an_error_the_other_process_cannot_file_on_a_full_disk_is_still_raised_here(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was written to a file beside the slices: on a full disk the process stopped instead
    (``a worker process stopped (exit code 1)``), its error lost."""
    parent = os.getpid()

    def no_files(path: str, mode: str = "r") -> object:
        if os.getpid() != parent and not path.endswith(".part") and "w" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return open(path, mode)

    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    monkeypatch.setattr(_slices, "open", no_files, raising=False)
    ranges = [("f", n, n + 1) for n in range(40)]
    with pytest.raises(ValueError, match="no span for range"):
        list(_slices.evaluate_sliced(partial(_failing, parent, "raise"), ranges, 2))


def test_pbr_evaluate_with_two_workers_writes_one_worker_s_bytes(tmp_path: Path) -> None:
    """The command line, end to end: the same decisions file, summary and rejections."""
    import subprocess
    import sys

    lines = REFERENCE.read_bytes().splitlines()
    big = tmp_path / "big.jsonl"
    with big.open("wb") as handle:  # over `SLICE_RANGES` ranges of `SPAN_BYTES`: many slices
        for copy in range(1 + (8 * 1024 * 1024) // len(REFERENCE.read_bytes())):
            for line in lines:
                handle.write(line.replace(b'"family_id":"', f'"family_id":"C{copy}-'.encode()))
                handle.write(b"\n")
    runs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        command = [sys.executable, "-m", "pbr.cli", "evaluate", str(big), "--as-of", "2015-03-31"]
        done = subprocess.run(
            [*command, "--format", "json", "--output", str(out), "--workers", workers],
            capture_output=True,
            text=True,
            check=False,
        )
        said = done.stderr.replace(out.name, "OUT")
        runs.append((done.returncode, said, out.read_bytes()))
    assert runs[0] == runs[1]
    assert runs[0][2].count(b"\n") > 1000


def test_a_slice_file_cut_short_is_an_error_not_fewer_decisions(tmp_path: Path) -> None:
    ranges = [("f", n, n + 1) for n in range(3)]
    _slices._write_slice(_fake_span, _slices._as_it_is, ranges, str(tmp_path), 7)
    whole = (tmp_path / "7").read_bytes()
    assert [s.data for s in _slices._read_slice(str(tmp_path), 7)] == [b"0", b"1", b"2"]
    (tmp_path / "7").write_bytes(whole[:-1])
    with pytest.raises(RuntimeError, match="slice 7 was cut short"):
        list(_slices._read_slice(str(tmp_path), 7))


def test_a_slice_written_out_of_turn_is_filed_as_told(tmp_path: Path) -> None:
    """`filed` makes what a slice's file holds (`evaluate_many`'s file path packs decisions)."""
    ranges = [("f", n, n + 1) for n in range(3)]
    shared = _slices._Shared(
        _fake_span,
        lambda span: span._replace(data=span.data + b"!"),
        [ranges],
        str(tmp_path),
        None,
        None,
        2,
    )
    shared.write(0)
    assert [s.data for s in _slices._read_slice(str(tmp_path), 0)] == [b"0!", b"1!", b"2!"]


def _whose(parent: int, part: tuple[str, int, int]) -> batch.Span:
    """A span naming the process that made it; slower in the others: this one runs ahead."""
    time.sleep(0.02 if os.getpid() != parent else 0.005)
    return _fake_span(part)._replace(data=f"{part[1]}:{os.getpid()}".encode())


def test_slices_this_process_keeps_never_go_through_a_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `keep`, what this process evaluates out of turn waits in memory, not filed; with
    `here`, what it hands on as it evaluates is done with `here`."""
    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    ranges = [("f", n, n + 1) for n in range(60)]
    parent = os.getpid()

    def here(part: tuple[str, int, int]) -> batch.Span:
        return _fake_span(part)._replace(data=f"{part[1]}:here".encode())

    for mine in (None, here):
        spans = list(
            _slices.evaluate_sliced(
                partial(_whose, parent),
                ranges,
                2,
                lambda span: span._replace(data=span.data + b"!"),
                True,
                mine,
            )
        )
        numbers = [int(span.data.split(b":")[0]) for span in spans]
        assert numbers == list(range(60))
        in_turn = [span.data.endswith(b":here") for span in spans]
        kept = [span.data.endswith(f":{parent}".encode()) for span in spans]
        filed = [span.data.endswith(b"!") for span in spans]
        assert [a + b + c for a, b, c in zip(in_turn, kept, filed, strict=True)] == [1] * 60
        assert any(in_turn) is (mine is not None)  # the first slice, at least, is in turn
        made_here = [a or b for a, b in zip(in_turn, kept, strict=True)]
        assert made_here.count(False) > 0  # the other process filed some
        assert made_here.count(True) > 0  # (which did more depends on the machine's load)
    # one process (or one slice): every range done with `here`
    alone = list(_slices.evaluate_sliced(partial(_whose, parent), ranges[:5], 1, None, True, here))
    assert [span.data for span in alone] == [f"{n}:here".encode() for n in range(5)]


def test_a_process_that_cannot_start_leaves_nothing_behind(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second process refused (too many processes, say): raised, the first one stopped."""
    real = multiprocessing.process.BaseProcess.start
    started: list[object] = []

    def start(self: multiprocessing.process.BaseProcess) -> None:
        if started:
            raise OSError("cannot start another process")
        started.append(self)
        real(self)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    ranges = [("f", n, n + 1) for n in range(40)]
    with pytest.raises(OSError, match="cannot start another process"):
        list(_slices.evaluate_sliced(_fake_span, ranges, 3))
    assert len(started) == 1  # the fixture checks: no folder, no process


_START_METHOD_RUN = """
import multiprocessing, sys
from datetime import date
from pathlib import Path

from pbr import _slices, batch, evaluate_many

multiprocessing.set_start_method(sys.argv[1])
path, as_of = sys.argv[2], date(2015, 3, 31)
_slices.SLICE_RANGES = 1  # a slice a range: the other process takes some, whose files are read here
batch.SPAN_BYTES = 100_000
spans = [b"".join(s.data for s in batch.evaluate_spans(path, as_of=as_of, workers=w)) for w in (1, 2)]
assert spans[0] == spans[1] and spans[0].count(b"\\n") > 300, "the spans differ"
lines = Path(path).read_bytes().splitlines()[:120]
many = [
    [d.model_dump_json() for d in evaluate_many(lines, as_of=as_of, workers=w, chunk_size=10)]
    for w in (1, 2)
]
assert many[0] == many[1], "evaluate_many differs"
with open(path, "rb") as handle:  # the file itself: every process reads its own ranges
    whole = [d.model_dump_json() for d in evaluate_many(handle, as_of=as_of, workers=2)]
with open(path, "rb") as handle:
    alone = [d.model_dump_json() for d in evaluate_many(iter(handle), as_of=as_of, workers=1)]
assert whole == alone and len(whole) > 300, "evaluate_many of a file differs"
print("same")
"""


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_every_start_method_gives_one_worker_s_answers(method: str) -> None:
    """Processes started as on macOS and Windows (spawn) re-import pbr: the same bytes."""
    import subprocess
    import sys

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    done = subprocess.run(
        [sys.executable, "-c", _START_METHOD_RUN, method, str(REFERENCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "same"), done.stderr
