"""`pbr evaluate` reads a pipe: standard input (``-``) or a named pipe, as it reads a file.

A pipe cannot be read twice, so it is copied to a private temporary file first: the same
decisions, the same rejections (naming the pipe, with line numbers), the copy removed after.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from pbr.cli import main

from .builders import generated, record
from .test_history import crime, ledger_with
from .test_output import stoppable, wait_for

GOOD = [record(family_id=f"G{n}", local_discretion=["x"]) for n in range(1, 4)]
BAD = {"family_id": "BAD"}
AS_OF = "2013-07-31"


def _lines(rows: list[Any]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _array(rows: list[Any]) -> bytes:
    return json.dumps(rows, indent=2).encode()


class _Stdin:
    """Standard input holding `data`, as a pipe (not a terminal)."""

    def __init__(self, data: bytes, *, terminal: bool = False) -> None:
        self.buffer = io.BytesIO(data)
        self._terminal = terminal

    def isatty(self) -> bool:
        return self._terminal


@pytest.fixture(autouse=True)
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _evaluate(
    capsys: pytest.CaptureFixture[str], source: str, out: Path, *extra: str
) -> tuple[int, str, str]:
    status = main(
        ["evaluate", source, "--as-of", AS_OF, "--format", "json", "--output", str(out), *extra]
    )
    captured = capsys.readouterr()
    return status, out.read_text(), captured.err


def _from_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, *extra: str
) -> tuple[int, str, str]:
    path = tmp_path / "families.json"
    path.write_bytes(data)
    return _evaluate(capsys, str(path), tmp_path / "from-file.jsonl", *extra)


@pytest.mark.parametrize("shape", [_lines, _array])
def test_standard_input_gives_the_file_s_decisions_and_rejections(
    shape: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    temp_folder: Path,
) -> None:
    data = shape([*GOOD[:2], BAD, GOOD[2]])
    status, expected, file_err = _from_file(capsys, tmp_path, data)
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    piped, decisions, err = _evaluate(capsys, "-", tmp_path / "from-stdin.jsonl")
    assert (piped, decisions) == (status, expected) == (1, expected)
    assert len(decisions.splitlines()) == 3
    same = err.replace("<stdin>", "FILE").replace("from-stdin", "from-file")
    assert same == file_err.replace(str(tmp_path / "families.json"), "FILE")
    assert "<stdin>:" in err
    assert "family 'BAD'" in err
    assert "Summary for <stdin>" in err
    assert not list(temp_folder.iterdir())  # the copy is gone


def test_a_named_pipe_is_read_as_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], temp_folder: Path
) -> None:
    data = _lines([*GOOD, BAD])
    status, expected, _ = _from_file(capsys, tmp_path, data)
    fifo = tmp_path / "families.pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        piped, decisions, err = _evaluate(capsys, str(fifo), tmp_path / "from-pipe.jsonl")
    finally:
        writer.join(timeout=10)
    assert (piped, decisions) == (status, expected)
    assert f"{fifo}:4 (record 4), family 'BAD'" in err
    assert not list(temp_folder.iterdir())


def test_standard_input_with_a_ledger_names_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paid = record(
        family_id="T1",
        payments=[{"kind": "crime_asb_education", "amount": "100", "claim_id": "C-1"}],
    )
    ledger_with(tmp_path / "l.db", crime())
    monkeypatch.setattr(sys, "stdin", _Stdin(_lines([paid, record(family_id="T2")])))
    status, decisions, err = _evaluate(
        capsys, "-", tmp_path / "out.jsonl", "--ledger", str(tmp_path / "l.db")
    )
    assert status == 1
    assert [json.loads(line)["family_id"] for line in decisions.splitlines()] == ["T2"]
    assert "<stdin>:1 (record 1), family 'T1': payments = \"C-1\"" in err


def test_a_terminal_is_refused_at_once_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(b"", terminal=True))
    status = main(["evaluate", "-", "--as-of", AS_OF, "--output", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert status == 2
    assert "cannot read families from the terminal: pipe them in" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()


def test_empty_standard_input_has_no_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    status = main(["evaluate", "-", "--as-of", AS_OF, "--output", str(tmp_path / "o.jsonl")])
    assert status == 2
    assert "pbr: no records in <stdin>" in capsys.readouterr().err


def test_a_full_temporary_folder_is_reported_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(_lines(GOOD)))

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pbr.cli._evaluate._copy_leaving_room", full)
    status = main(["evaluate", "-", "--as-of", AS_OF, "--output", str(tmp_path / "o.jsonl")])
    err = capsys.readouterr().err
    assert status == 2
    assert "cannot copy <stdin> to a temporary file" in err
    assert "No space left on device" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_full_temporary_folder_in_a_parallel_run_is_said_as_the_folder_s(
    tmp_path: Path,
    temp_folder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    form: str,
) -> None:
    """The workers' slices on a full disk: "cannot write o.jsonl: No space left on device" (a
    file on another disk, with room) or an "unexpected error"; the output is kept."""
    from pbr import _slices, batch

    from .test_slices import on_full_disk

    monkeypatch.setattr(_slices, "SLICE_RANGES", 1)
    monkeypatch.setattr(batch, "SPAN_BYTES", 20_000)
    monkeypatch.setattr(_slices, "open", partial(on_full_disk, 0, "every"), raising=False)
    out = tmp_path / f"o.{'jsonl' if form == 'json' else form}"
    out.write_text("kept\n")
    source = generated(300, tmp_path)
    status = main(["evaluate", str(source), "--as-of", AS_OF, "--workers", "2",
                   "--output", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert err == (
        f"pbr: cannot write the workers' decisions to a temporary file in {temp_folder}: No "
        "space left on device; set TMPDIR to a folder on a disk with room, or use one worker\n"
    )
    assert out.read_text() == "kept\n"
    assert list(temp_folder.iterdir()) == []


# --- a stopped run leaves nothing in the temporary folder -------------------------------------

STOPS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def _start(
    temp: Path, source: Path | None, *extra: str, stdin: Any = None
) -> subprocess.Popen[bytes]:
    """`pbr evaluate` with TMPDIR `temp`, its decisions to a standard output nobody reads.

    `source` None: standard input (`stdin`, or a pipe the caller writes). The run waits, its
    standard output full.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "pbr.cli", "evaluate", "-" if source is None else str(source),
         "--as-of", AS_OF, "--format", "json", *extra],
        stdin=stdin or subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(temp)},
    )  # fmt: skip


def _stop(child: subprocess.Popen[bytes], sig: int, temp: Path, pattern: str) -> None:
    """Once `pattern` is in `temp`, send `sig`; the run ends as stopped, `temp` empty."""
    wait_for(lambda: any(temp.glob(pattern)), child)
    child.send_signal(stoppable(sig))
    child.communicate(timeout=60)
    assert child.returncode == 128 + sig
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("sig", STOPS)
def test_a_stopped_run_removes_its_copy_of_standard_input(
    tmp_path: Path, temp_folder: Path, sig: int
) -> None:
    """SIGTERM and SIGHUP left `pbr-input-*/families`, every family record, in TMPDIR."""
    with generated(200, tmp_path).open("rb") as source:
        child = _start(temp_folder, None, stdin=source)
    _stop(child, sig, temp_folder, "pbr-input-*/families")


@pytest.mark.parametrize("sig", STOPS)
def test_a_run_stopped_while_copying_standard_input_removes_the_copy(
    temp_folder: Path, sig: int
) -> None:
    child = _start(temp_folder, None)
    assert child.stdin is not None
    child.stdin.write(_lines(GOOD))
    child.stdin.flush()  # and kept open: the copy waits for more
    _stop(child, sig, temp_folder, "pbr-input-*/families")


@pytest.mark.parametrize("sig", STOPS)
def test_a_stopped_run_removes_the_workers_slices(
    tmp_path: Path, temp_folder: Path, sig: int
) -> None:
    """SIGTERM and SIGHUP left `pbr-slices-*`, decisions of slices not yet handed on."""
    child = _start(temp_folder, generated(1000, tmp_path), "--workers", "2")
    _stop(child, sig, temp_folder, "pbr-slices-*/*")


# --- --max-record-bytes reaches the validation, not only the reader ----------------------------


def test_a_record_over_the_default_size_is_evaluated_when_the_limit_allows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The reader honoured --max-record-bytes but the validation used the default 4 MiB, so a
    # record the user had allowed was refused with "set it with --max-record-bytes".
    big = record(family_id="BIG", local_discretion=["x"])
    big["offences"] = [{"person_id": "A1", "date": "2011-01-01"}] * 100_000
    path = tmp_path / "big.jsonl"
    path.write_bytes(_lines([big]))
    assert path.stat().st_size > 4 * 1024 * 1024
    status, decisions, err = _evaluate(
        capsys, str(path), tmp_path / "out.jsonl", "--max-record-bytes", "8000000", "--workers", "1"
    )
    assert status == 0, err
    assert json.loads(decisions)["family_id"] == "BIG"


@pytest.mark.parametrize("compiled", [True, False])
def test_the_batch_applies_its_record_limit(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    import pbr
    from pbr import batch

    monkeypatch.setattr(batch, "_COMPILED", compiled)
    text = json.dumps(record(family_id="F1"))
    as_of = date(2013, 7, 31)
    for run in (pbr.evaluate_many, batch.evaluate_many_json):
        small = list(run([text], as_of=as_of, workers=1, max_record_bytes=100))
        assert isinstance(small[0], pbr.Rejection)
        assert small[0].errors[0].type == "record_too_large"
        roomy = list(run([text], as_of=as_of, workers=1, max_record_bytes=len(text)))
        assert not isinstance(roomy[0], pbr.Rejection)


def test_an_endless_pipe_stops_before_the_disk_is_full(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``yes '{}' | pbr evaluate -`` was copied to the temporary folder until the disk was full."""
    from pbr.cli import _evaluate

    monkeypatch.setattr(_evaluate, "_SPOOL_CHECKS_EVERY", 1 << 20)
    monkeypatch.setattr(_evaluate, "SPOOL_LEAVES_FREE", 1 << 62)  # more than any disk has
    data = b'{"family_id": "F"}\n' * 200_000  # 3.8 MB
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status = main(["evaluate", "-", "--as-of", "2013-01-01"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("pbr: cannot copy <stdin> to a temporary file in ")
    assert (
        f": the disk has less than {(1 << 62) >> 20} MiB left after 1,048,576 bytes; give the file's"
        in err
    )
    assert err.count("\n") == 1


def test_a_pipe_smaller_than_the_check_is_copied_whatever_the_disk_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pbr.cli import _evaluate

    monkeypatch.setattr(_evaluate, "SPOOL_LEAVES_FREE", 1 << 62)
    source, sink = io.BytesIO(b"x" * (3 << 20)), io.BytesIO()
    _evaluate._copy_leaving_room("<stdin>", source, sink, ".")
    assert len(sink.getvalue()) == 3 << 20
