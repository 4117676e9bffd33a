"""``workers="auto"``: one process for a small batch, every core for a large one; same output."""

from __future__ import annotations

import gc
import itertools
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr import _file_lines, batch
from pbr.cli import _evaluate

REFERENCE = Path(__file__).resolve().parent / "reference" / "families.jsonl"
LINES = REFERENCE.read_bytes().splitlines()[:60]
AS_OF = date(2018, 6, 30)


def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    started: list[int] = []
    real = batch._pool

    @contextmanager
    def counting(workers: int) -> Any:
        started.append(workers)
        with real(workers) as pool:
            yield pool

    monkeypatch.setattr(batch, "_pool", counting)
    monkeypatch.setattr(batch, "available_cores", lambda: 2)
    return started


def texts(items: Any) -> list[str]:
    return [x.model_dump_json() for x in items]


def test_auto_runs_a_small_batch_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    started = pools(monkeypatch)
    serial = texts(pbr.evaluate_many(LINES, as_of=AS_OF, workers=1))
    assert texts(pbr.evaluate_many(LINES, as_of=AS_OF)) == serial
    assert started == []


def test_auto_moves_a_large_batch_to_every_core(monkeypatch: pytest.MonkeyPatch) -> None:
    started = pools(monkeypatch)
    monkeypatch.setattr(batch, "AUTO_SERIAL_FAMILIES", 25)
    serial = texts(pbr.evaluate_many(LINES, as_of=AS_OF, workers=1))
    assert texts(pbr.evaluate_many(LINES, as_of=AS_OF, chunk_size=7)) == serial
    done = batch.evaluate_many_json(LINES, as_of=AS_OF, chunk_size=7)
    as_json = [x[3] for x in done if isinstance(x, batch.Evaluated)]
    assert as_json == serial
    assert started == [2, 2]


def test_the_pools_worker_thread_does_not_spin_while_results_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stock pool's worker-keeping thread wakes for every result in the pipe (it spun
    hundreds of times for these 60 one-family chunks); ours wakes for the pool's own changes."""
    from multiprocessing import pool

    wakes: list[int] = []
    real: Any = vars(pool.Pool)["_wait_for_updates"]  # a staticmethod: callable as it is

    def counted(*args: Any, **kwargs: Any) -> Any:
        wakes.append(1)
        return real(*args, **kwargs)

    # the thread runs `pool.Pool._handle_workers`, which looks the wait up on `pool.Pool`
    monkeypatch.setattr(pool.Pool, "_wait_for_updates", staticmethod(counted))
    serial = texts(pbr.evaluate_many(LINES, as_of=AS_OF, workers=1))
    assert texts(pbr.evaluate_many(LINES, as_of=AS_OF, workers=2, chunk_size=1)) == serial
    assert 1 <= len(wakes) <= 5


def test_a_pool_gives_freed_memory_back_as_it_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `_TRIM_EVERY` chunks from a pool, the C heap's freed memory goes back (issue 14)."""
    trims: list[int] = []

    def trim() -> bool:
        trims.append(1)
        return True

    monkeypatch.setattr(batch, "_TRIM_EVERY", 3)
    monkeypatch.setattr(batch, "give_back_freed_memory", trim)
    serial = texts(pbr.evaluate_many(LINES, as_of=AS_OF, workers=1))
    assert trims == []
    assert texts(pbr.evaluate_many(LINES, as_of=AS_OF, workers=2, chunk_size=7)) == serial
    assert len(trims) == 3  # 60 records in chunks of 7: 9 chunks
    done = batch.evaluate_many_json(LINES, as_of=AS_OF, workers=2, chunk_size=20)
    assert [x[3] for x in done if isinstance(x, batch.Evaluated)] == serial
    assert len(trims) == 4  # 3 chunks more


def test_a_worker_collects_and_gives_memory_back_every_few_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a worker (`_tidied`), a full collection empties the free lists, then the heap is trimmed."""
    calls: list[str] = []
    monkeypatch.setattr(batch, "_TRIM_EVERY", 2)
    monkeypatch.setattr(batch, "_worker_chunks", itertools.count(1))

    def collect(*_: int) -> int:
        calls.append("collect")
        return 0

    def trim() -> bool:
        calls.append("trim")
        return True

    monkeypatch.setattr(gc, "collect", collect)
    monkeypatch.setattr(batch, "give_back_freed_memory", trim)
    assert [batch._tidied(len, "ab") for _ in range(5)] == [2] * 5
    assert calls == ["collect", "trim"] * 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_memory_goes_back_on_linux() -> None:
    from pbr import _processes

    gone = _processes.give_back_freed_memory()
    assert gone is (_processes._malloc_trim() is not None)
    assert gone or Path("/lib/ld-musl-x86_64.so.1").exists()  # only musl lacks it


def test_workers_must_be_a_number_or_auto() -> None:
    with pytest.raises(TypeError, match="auto"):
        list(pbr.evaluate_many(LINES, as_of=AS_OF, workers="all"))  # type: ignore[arg-type]


def broken_source(records: int, broken_at: int) -> Any:
    """`records` valid records as dicts, but the source raises where record `broken_at` would be."""
    import json

    for n, line in enumerate(itertools.islice(itertools.cycle(LINES), records)):
        if n == broken_at:
            raise RuntimeError("the export's connection dropped")
        yield json.loads(line)


@pytest.mark.parametrize("evaluate", [pbr.evaluate_many, batch.evaluate_many_json])
@pytest.mark.parametrize(
    ("workers", "broken_at"), [(1, 230), (2, 230), (2, 200), (2, 0), ("auto", 230), ("auto", 830)]
)
def test_every_record_read_is_answered_before_the_source_s_error(
    monkeypatch: pytest.MonkeyPatch, evaluate: Any, workers: Any, broken_at: int
) -> None:
    """The chunk being gathered when the caller's iterator raised is still sent and answered:
    its records were read, and the caller may count on an answer for each before the error."""
    monkeypatch.setattr(batch, "available_cores", lambda: 2)
    got: list[Any] = []
    with pytest.raises(RuntimeError, match="connection dropped"):
        got.extend(evaluate(broken_source(900, broken_at), as_of=AS_OF, workers=workers))
    assert len(got) == broken_at
    kinds = {type(answer).__name__ for answer in got}
    assert kinds <= {"Decision", "Evaluated", "Rejection"}
    assert len(got) == 0 or "Decision" in kinds or "Evaluated" in kinds


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("json", ".jsonl"), ("csv", ".csv"), ("table", ".csv"), ("table", "")]
)
def test_every_format_is_the_same_on_one_worker_and_two(
    tmp_path: Path, fmt: str, suffix: str
) -> None:
    """Workers render each decision's text; the output is byte for byte the same."""
    got = []
    for workers in ("1", "2"):
        command = [sys.executable, "-m", "pbr.cli", "evaluate", str(REFERENCE)]
        command += ["--as-of", "2018-06-30", "--format", fmt, "--workers", workers]
        out = tmp_path / f"out{workers}{suffix}"
        if suffix:
            command += ["--output", str(out)]
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        assert run.returncode in (0, 1), run.stderr
        err = run.stderr.replace(out.name, "OUT")
        got.append((out.read_text() if suffix else "", run.stdout, err))
    assert got[0] == got[1]
    assert got[0][0] or got[0][1]


def test_the_cli_picks_workers_by_file_size(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _evaluate._workers("auto") == "auto"
    assert _evaluate._workers("3") == 3
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(Exception, match="number of workers"):
            _evaluate._workers(bad)
    assert _file_lines.AUTO_FILE_BYTES == 4 * 1024 * 1024  # the CLI's rule and evaluate_many's
    assert _evaluate.AUTO_FILE_BYTES is _file_lines.AUTO_FILE_BYTES  # type: ignore[attr-defined]


def test_the_table_streams_the_same_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The streamed table is the table the whole list of decisions gave (columns, widths)."""
    import io
    import json

    from pbr.output import table_cells

    decisions = [
        d for d in pbr.evaluate_many(LINES, as_of=AS_OF, workers=1) if isinstance(d, pbr.Decision)
    ]
    out = io.StringIO()
    _evaluate._write_table(((json.dumps(table_cells(d)) + "\n", None) for d in decisions), out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:5] == ["family", "programme", "attached", "FY", "eligible"]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == len(decisions) + 3
    assert lines[-1] == ""
    widths = {len(line) for line in lines[2:-1]}
    assert max(widths) <= len(lines[1])
    empty = io.StringIO()
    _evaluate._write_table(iter(()), empty)
    # rows measured by the worker (a range's widths) give the same table
    rows = "".join(json.dumps(table_cells(d)) + "\n" for d in decisions)
    measured = io.StringIO()
    _evaluate._write_table([(rows, tuple(_evaluate._widths(rows)))], measured)
    assert measured.getvalue() == out.getvalue()
    assert empty.getvalue() == ""


def test_a_slow_reader_holds_back_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks are sent only as answers are taken: the input is read a few chunks ahead at most,
    so answers cannot pile up in this process however far the workers outrun it."""
    import time

    monkeypatch.setattr(batch, "_WAITING", 2)  # one chunk of 2 waiting: a window small to see
    read = [0]

    def counted() -> Any:
        for line in LINES:
            read[0] += 1
            yield line

    ahead = []
    for _done in batch.evaluate_many_json(counted(), as_of=AS_OF, workers=2, chunk_size=2):
        time.sleep(0.01)  # slower than the workers
        ahead.append(read[0])
    consumed = range(1, len(ahead) + 1)
    # two workers: a chunk each, one more sent, one read and waiting for room, and the rest of
    # the chunk being taken: 9 families at most (all 60 at once without the holding back)
    assert max(r - n for r, n in zip(ahead, consumed, strict=True)) <= 4 * 2 + 1
    assert len(ahead) == len(LINES)


@pytest.mark.parametrize("how", ["close", "raise"])
def test_a_pool_stopped_early_ends_at_once(how: str) -> None:
    """A reader that stops (closes the batch, or fails) while the pool waits for room."""
    import threading

    def run() -> None:
        done: Any = batch.evaluate_many_json(iter(LINES), as_of=AS_OF, workers=2, chunk_size=1)
        next(done)
        if how == "close":
            done.close()
        else:
            with pytest.raises(RuntimeError):
                done.throw(RuntimeError("the output failed"))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the pool did not stop"


def test_a_worker_keeps_the_job_it_was_sent_and_the_rule_sets_it_chose() -> None:
    """A pool sends the job with every chunk; choosing the rule sets again each time cost 5 µs
    a family. The same job (same settings, same batch) is kept; any other is a new one."""
    import pickle

    job = batch._Job(AS_OF, None, {}, {"employment_weeks": "all_13"}, "f.jsonl")
    first = pickle.loads(pickle.dumps(job))
    assert first.many([(1, LINES[0])])  # chooses a rule set, kept in the job
    assert first._chosen
    again = pickle.loads(pickle.dumps(job))
    assert again is first
    assert again._chosen  # not chosen again
    assert "_chosen" not in pickle.dumps(job).decode("latin-1")  # caches are never sent
    twin = batch._Job(AS_OF, None, {}, {"employment_weeks": "all_13"}, "f.jsonl")
    other = pickle.loads(pickle.dumps(twin))  # same settings, another batch
    assert other is not first
    assert not other._chosen
    job.render = "table"  # a job changed after it was sent is sent anew
    changed = pickle.loads(pickle.dumps(job))
    assert changed is not first
    assert changed.render == "table"
    assert changed.interpretations == {"employment_weeks": "all_13"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_the_pool_s_pipes_hold_a_range_s_decisions() -> None:
    """1 MiB back: a worker writes a range's decisions without waiting for this process."""
    import fcntl

    with batch._pool(2) as stepped:
        back = stepped._pool._outqueue._writer.fileno()
        assert fcntl.fcntl(back, fcntl.F_GETPIPE_SZ) == 1 << 20


def test_a_pipe_size_the_system_refuses_leaves_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fcntl = pytest.importorskip("fcntl")

    def refused(*args: Any) -> int:
        raise PermissionError("over the limit for pipe buffers")

    monkeypatch.setattr(fcntl, "fcntl", refused)
    done = list(batch.evaluate_many_json(iter(LINES), as_of=AS_OF, workers=2, chunk_size=5))
    assert done == list(batch.evaluate_many_json(iter(LINES), as_of=AS_OF, workers=1))


def test_a_pool_without_the_expected_pipe_is_left_as_it_is() -> None:
    """`multiprocessing`'s internals may change: the pipe is widened only where it is found."""
    batch._widen_pipes(object())


def _in_a_pool_worker() -> list[tuple[int, str]]:
    """A daemonic pool worker's job: each way of asking for 2 workers, what it gave and warned."""
    import contextlib
    import io
    import warnings

    from pbr.cli import main

    asked: list[Callable[[], int]] = [
        lambda: sum(1 for _ in pbr.evaluate_many(LINES[:3], as_of=AS_OF, workers=2)),
        lambda: sum(1 for _ in batch.evaluate_many_json(LINES[:3], as_of=AS_OF, workers=2)),
        lambda: sum(
            len(s.ends) for s in pbr.batch.evaluate_spans(str(REFERENCE), as_of=AS_OF, workers=2)
        ),
        lambda: main(["evaluate", str(REFERENCE), "--as-of", str(AS_OF), "--workers", "2"]),
    ]
    seen = []
    for ask in asked:
        told = io.StringIO()  # the command line's warnings are printed, not raised
        with (
            warnings.catch_warnings(record=True) as warned,
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(told),
        ):
            warnings.simplefilter("always")
            given = ask()
        raised = " ".join(str(w.message) for w in warned if w.category is UserWarning)
        seen.append((given, raised + told.getvalue()))
    return seen


def test_workers_asked_for_in_a_daemonic_process_are_this_process_with_a_warning() -> None:
    """A pool's worker may not start processes: Python's bare AssertionError, before."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        seen = pool.apply(_in_a_pool_worker)
    families = len(REFERENCE.read_bytes().splitlines())
    assert [given for given, _ in seen] == [3, 3, families, 0]
    for _, warned in seen:
        assert "workers=2: evaluating in this process" in warned
