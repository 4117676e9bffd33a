"""`evaluate_many` over a file opened "rb": read by ranges in every process, the same answers.

The answers (decisions and rejections, with their numbers) must be exactly those of iterating
the file's lines, however the file is cut into ranges and slices, wherever the file stands when
the call is made, and whatever its lines hold.
"""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pbr
from pbr import _file_lines, _lean, _slices, batch

REFERENCE = Path(__file__).resolve().parent / "reference" / "families.jsonl"
LINES = REFERENCE.read_bytes().splitlines(keepends=True)[:40]
AS_OF = date(2018, 6, 30)

MESSY = [
    b"\xef\xbb\xbf" + LINES[0],  # a byte-order mark: the first line is then a rejection
    LINES[1].rstrip(b"\n") + b"\r\n",  # CRLF
    b"\n",  # a blank line is a record, rejected
    b'{"family_id": "F-BAD", "attached_on": "2013-02-30"}\n',
    b"not json at all\n",
    b"\xff\xfe bad bytes\n",
    LINES[2],
    LINES[2],  # the same family twice: evaluated twice, as given
    b'{"family_id": "F-OLD", "attached_on": "1999-01-01", "members": '
    b'[{"person_id": "A1", "date_of_birth": "1970-01-01"}]}\n',  # outside every programme
    b"[" * 5000 + b"\n",  # over a small limit on a record's bytes
    *LINES[3:30],
    LINES[30].rstrip(b"\n"),  # no newline at the end of the file
]


def answers(items: Any) -> list[tuple[str, str, Any]]:
    """Each answer as its type, JSON and fields set: equal answers are equal here."""
    return [(type(x).__name__, x.model_dump_json(), x.model_fields_set) for x in items]


def reference(path: Path, start: int = 0, **options: Any) -> list[tuple[str, str, Any]]:
    """What iterating the file's lines from `start` gives (no ranges: not a file object)."""
    with path.open("rb") as handle:
        handle.seek(start)
        lines = (line for line in handle)  # `iter(handle)` is the file object itself
        return answers(pbr.evaluate_many(lines, as_of=AS_OF, workers=1, **options))


@pytest.fixture
def messy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The messy file, read in ranges of a line or two and slices of two ranges: every cut and
    hand-over is exercised."""
    monkeypatch.setattr(batch, "SPAN_BYTES", 300)
    monkeypatch.setattr(_slices, "SLICE_RANGES", 2)
    path = tmp_path / "messy.jsonl"
    path.write_bytes(b"".join(MESSY))
    return path


def test_a_messy_file_gets_the_answers_its_lines_get(messy: Path) -> None:
    path = messy
    expected = reference(path, max_record_bytes=4000)
    assert len(expected) == len(MESSY)
    kinds = {kind for kind, _, _ in expected}
    assert kinds == {"Decision", "Rejection"}
    with path.open("rb") as handle:
        assert _file_lines.file_to_read(handle, 2, 2) is not None
        got = answers(pbr.evaluate_many(handle, as_of=AS_OF, workers=2, max_record_bytes=4000))
        assert handle.tell() == path.stat().st_size  # where iterating would leave it
    assert got == expected
    rejected = [text for kind, text, _ in got if kind == "Rejection"]
    assert '"record":3,' in rejected[1]  # the blank line, numbered among the file's records
    long_line = MESSY.index(b"[" * 5000 + b"\n") + 1
    assert f'"record":{long_line},' in rejected[-1]  # in a range of its own, numbered on


def test_a_file_part_read_is_numbered_from_where_it_stands(messy: Path) -> None:
    path = messy
    with path.open("rb") as handle:
        handle.readline()
        handle.readline()  # two lines read by the caller (and more buffered)
        start = handle.tell()
        got = answers(pbr.evaluate_many(handle, as_of=AS_OF, workers=2))
    assert got == reference(path, start)
    assert len(got) == len(MESSY) - 2


@pytest.mark.parametrize("workers", [1, 2, "auto"])
@pytest.mark.parametrize("taken", [0, 1, 7, 29])
def test_a_batch_stopped_early_leaves_the_file_after_the_last_line_answered(
    messy: Path, monkeypatch: pytest.MonkeyPatch, workers: Any, taken: int
) -> None:
    """However the lines were read ahead (by records, by a pool, by ranges in other processes),
    a second call goes on from the first line not answered: nothing skipped, nothing repeated."""
    path = messy
    monkeypatch.setattr(_file_lines, "AUTO_FILE_BYTES", 1000)  # "auto": ranges, on two cores
    monkeypatch.setattr(batch, "available_cores", lambda: 2)
    monkeypatch.setattr(batch, "AUTO_SERIAL_FAMILIES", 5)
    lines = path.read_bytes().splitlines(keepends=True)
    expected = reference(path, len(lines[0]))
    expected_rest = reference(path, len(b"".join(lines[: 1 + taken])))
    for evaluated in (pbr.evaluate_many, batch.evaluate_many_json):
        with path.open("rb") as handle:
            handle.readline()  # the caller has read a line of its own
            first = evaluated(handle, as_of=AS_OF, workers=workers, chunk_size=3)
            got = [next(first) for _ in range(taken)]
            first.close()
            assert handle.tell() == len(b"".join(lines[: 1 + taken]))
            rest = list(evaluated(handle, as_of=AS_OF, workers=workers, chunk_size=3))
            assert handle.tell() == len(b"".join(lines))
        if evaluated is pbr.evaluate_many:  # each call numbers records from where it began
            assert answers(got) == expected[:taken]
            assert answers(rest) == expected_rest
        assert len(got) + len(rest) == len(lines) - 1


def test_a_batch_that_raises_leaves_the_file_after_the_last_line_answered(
    messy: Path,
) -> None:
    path = messy
    lines = path.read_bytes().splitlines(keepends=True)
    with path.open("rb") as handle:
        answered = pbr.evaluate_many(handle, as_of=AS_OF, workers=2)
        for _ in range(4):
            next(answered)
        with pytest.raises(RuntimeError, match="stop"):
            answered.throw(RuntimeError("stop"))
        assert handle.tell() == len(b"".join(lines[:4]))


def test_large_files_use_every_core_with_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(b"".join(LINES))
    with path.open("rb") as handle:
        assert _file_lines.file_to_read(handle, "auto", 4) is None  # smaller than the rule
        monkeypatch.setattr(_file_lines, "AUTO_FILE_BYTES", 1000)
        assert _file_lines.file_to_read(handle, "auto", 4) == (str(path), 0, 4)
        assert _file_lines.file_to_read(handle, "auto", 1) is None  # one core
        assert _file_lines.file_to_read(handle, 1, 4) is None
        assert _file_lines.file_to_read(handle, 3, 1) == (str(path), 0, 3)
        monkeypatch.setattr(batch, "available_cores", lambda: 2)
        got = answers(pbr.evaluate_many(handle, as_of=AS_OF))
    assert got == reference(path)


def test_only_a_regular_file_its_name_still_names_is_read_by_ranges(tmp_path: Path) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(b"".join(LINES))
    with path.open("rb") as handle:
        moved = tmp_path / "moved.jsonl"
        path.rename(moved)
        path.write_bytes(b"".join(LINES[:3]))  # another file under the name
        assert _file_lines.file_to_read(handle, 2, 2) is None
        got = answers(pbr.evaluate_many(handle, as_of=AS_OF, workers=2))
    assert got == reference(moved)  # the file the caller opened, iterated
    with moved.open("r", encoding="utf-8") as text:
        assert _file_lines.file_to_read(text, 2, 2) is None
    with moved.open("rb", buffering=0) as unbuffered:
        assert _file_lines.file_to_read(unbuffered, 2, 2) is None
    assert _file_lines.file_to_read(io.BytesIO(b"".join(LINES)), 2, 2) is None
    assert _file_lines.file_to_read(iter(LINES), 2, 2) is None
    closed = moved.open("rb")
    closed.close()
    assert _file_lines.file_to_read(closed, 2, 2) is None
    fifo = tmp_path / "fifo"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
        descriptor = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as pipe:
            assert _file_lines.file_to_read(pipe, 2, 2) is None


def test_a_file_with_a_ledger_or_bad_workers_goes_the_usual_way(tmp_path: Path) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(b"".join(LINES))
    with path.open("rb") as handle, pytest.raises(TypeError, match="whole number or 'auto'"):
        next(pbr.evaluate_many(handle, as_of=AS_OF, workers="2"))  # type: ignore[arg-type]


READ_LINES = _file_lines.read_lines


def always_packed(monkeypatch: pytest.MonkeyPatch, filed: bool = True) -> None:
    """Every range as if it went through a slice's file, even in this process (or not)."""
    monkeypatch.setattr(
        _file_lines,
        "read_lines",
        (lambda job, task, **given: _file_lines.packed(READ_LINES(job, task, **given)))
        if filed
        else READ_LINES,
    )


def test_a_decision_messagepack_cannot_hold_comes_back_as_its_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(b"".join(LINES[:6]) + b"\n")
    real = _lean.pack

    def pack(decision: Any) -> bytes:
        if decision.family_id == answers_family(LINES[3]):
            raise OverflowError("an integer beyond 64 bits")
        return real(decision)

    monkeypatch.setattr(_lean, "pack", pack)
    job = batch._checked_job(AS_OF, None, None, None, "<input>")
    part = _file_lines.packed(_file_lines.read_lines(job, (str(path), 0, path.stat().st_size)))
    assert [n for n, _ in part.others] == [3, 6]  # the decision, then the blank line
    assert type(part.others[0][1]).__name__ == "Decision"
    assert (part.lines, len(part.ends), part.decided) == (7, 5, [])
    always_packed(monkeypatch)
    with path.open("rb") as handle:
        got = answers(_file_lines.evaluate_file(job, handle, str(path), 0, 1))
    assert got == reference(path)


def answers_family(line: bytes) -> str:
    import json

    family_id: str = json.loads(line)["family_id"]
    return family_id


LINE = st.sampled_from(LINES[:12]) | st.sampled_from(MESSY[:10]) | st.binary(max_size=30)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(LINE, max_size=12),
    size=st.integers(1, 2000),
    cut=st.integers(0, 3),
    filed=st.booleans(),
)
def test_any_lines_cut_anyhow_get_the_answers_iterating_gets(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[bytes],
    size: int,
    cut: int,
    filed: bool,
) -> None:
    """Any bytes at all (newlines anywhere, CR alone, no final newline), any range size, any start.

    In this process (the ranges one after another), each range handed on as it is or as it
    goes through a slice's file: the cutting, the reading, the packing, the numbering and the
    putting back in order are the same code with more processes.
    """
    monkeypatch.setattr(batch, "SPAN_BYTES", size)
    always_packed(monkeypatch, filed)  # set for each example: a fixture's patch outlives it
    path = tmp_path / "any.jsonl"
    data = b"".join(lines)
    path.write_bytes(data)
    start = sum(len(x) for x in io.BytesIO(data).readlines()[:cut])
    job = batch._checked_job(AS_OF, None, None, None, "<input>")
    with path.open("rb") as handle:
        handle.seek(start)
        got = answers(_file_lines.evaluate_file(job, handle, str(path), start, 1))
        assert handle.tell() == len(data)
    assert got == reference(path, start)


def test_a_file_gone_before_a_range_is_read_says_so(tmp_path: Path) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(b"".join(LINES[:3]))
    job = batch._checked_job(AS_OF, None, None, None, "nightly.jsonl")
    path.unlink()
    with pytest.raises(pbr.io.UnreadableFile, match=r"cannot read nightly\.jsonl: .*No such file"):
        _file_lines.read_lines(job, (str(path), 0, 10))


MEMBER = b'{"person_id": "A%d", "date_of_birth": "1979-04-02"}'


def numbered_families(letter: str, count: int) -> bytes:
    """`count` phase-one families, F00000 on (or X00000 on: another file's), of 270 bytes:
    3,000 are more than one range of the file (`pbr.batch.SPAN_BYTES`)."""
    members = b", ".join(MEMBER % n for n in range(4))
    return b"".join(
        b'{"family_id": "%s%05d", "attached_on": "2012-10-15", "members": [%s]}\n'
        % (letter.encode(), n, members)
        for n in range(count)
    )


def answered_until_refused(answered: Any) -> tuple[list[str], pbr.io.UnreadableFile]:
    """The family ids answered before `answered` raised `UnreadableFile`, and the error."""
    ids: list[str] = []
    with pytest.raises(pbr.io.UnreadableFile) as refused:
        ids.extend(answer.family_id for answer in answered)
    return ids, refused.value


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_replaced_while_its_ranges_are_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """A range read by name from a file now another (an export landing with `os.replace`) is
    refused, rather than its families mixed into the answers of the file opened."""
    monkeypatch.setattr(batch, "SPAN_BYTES", 20_000)
    monkeypatch.setattr(_slices, "SLICE_RANGES", 2)
    path = tmp_path / "nightly.jsonl"
    path.write_bytes(numbered_families("F", 3000))
    other = tmp_path / "next.jsonl"
    other.write_bytes(numbered_families("X", 3000))
    job = batch._checked_job(date(2014, 1, 1), None, None, None, "<input>")
    with path.open("rb") as handle:
        it = _file_lines.evaluate_file(job, handle, str(path), 0, workers)
        first = next(it)
        os.replace(other, path)
        ids, error = answered_until_refused(it)
    assert first.family_id == "F00000"
    assert all(family_id.startswith("F") for family_id in ids)
    assert len(ids) < 2999
    assert f"{path} was replaced while it was read (it is now another file, of" in str(error)


def test_evaluate_many_refuses_a_file_replaced_while_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "nightly.jsonl"
    path.write_bytes(numbered_families("F", 3000))
    other = tmp_path / "next.jsonl"
    other.write_bytes(numbered_families("X", 3000))
    with path.open("rb") as handle:
        it = pbr.evaluate_many(handle, as_of=date(2014, 1, 1), workers=2, chunk_size=50)
        next(it)
        os.replace(other, path)
        ids, error = answered_until_refused(it)
    assert path.stat().st_size > batch.SPAN_BYTES  # two ranges at least
    assert not [family_id for family_id in ids if family_id.startswith("X")]
    assert "was replaced while it was read" in str(error)


@pytest.mark.parametrize(
    ("rewrite", "said"),
    [
        (lambda path: path.write_bytes(numbered_families("X", 3000)), "was written to"),
        (lambda path: path.write_bytes(numbered_families("X", 3500)), "grew"),
        (lambda path: path.write_bytes(numbered_families("X", 2000)), "shrank"),
    ],
)
def test_a_file_rewritten_in_place_while_its_ranges_are_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rewrite: Any, said: str
) -> None:
    monkeypatch.setattr(batch, "SPAN_BYTES", 20_000)
    path = tmp_path / "nightly.jsonl"
    path.write_bytes(numbered_families("F", 3000))
    job = batch._checked_job(date(2014, 1, 1), None, None, None, "<input>")
    with path.open("rb") as handle:
        it = _file_lines.evaluate_file(job, handle, str(path), 0, 1)
        next(it)
        before = path.stat()
        rewrite(path)  # the same file (inode), other bytes
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # a coarse clock
        ids, error = answered_until_refused(it)
    assert all(family_id.startswith("F") for family_id in ids)
    assert f"{path} {said}" in str(error)


CHILD_MODULES = """
import json, os, sys, time
from datetime import date
import pbr
from pbr import _slices, batch
_slices.SLICE_RANGES = 1  # a slice a range: the other process takes some
batch.SPAN_BYTES = 100_000
here = os.getpid()
def tell():  # the other process's pydantic modules, written before anything waits on it
    if os.getpid() != here:
        with open(sys.argv[2] + ".part", "w") as told:
            json.dump(sorted(m for m in sys.modules if m.split(".")[0] == "pydantic"), told)
        os.replace(sys.argv[2] + ".part", sys.argv[2])
def other(shared, writer, _other=_slices._other):
    tell()  # on starting: this process waits for it (below), so the other always runs
    _other(shared, writer)
def write_slice(*args, _write=_slices._write_slice):
    _write(*args)
    tell()  # before the slice is said to be written, so before this process can end
def start(others, _start=_slices._start):
    _start(others)
    for _ in range(3000):  # a loaded machine: this process could finish before it starts
        if os.path.exists(sys.argv[2]):
            break
        time.sleep(0.01)
_slices._other, _slices._write_slice, _slices._start = other, write_slice, start
before = "pydantic" in sys.modules
with open(sys.argv[1], "rb") as handle:
    answers = list(pbr.evaluate_many(handle, as_of=date(2015, 3, 31), workers=2))
print(before, len(answers), {type(answer).__name__ for answer in answers})
"""


@pytest.mark.skipif(os.name != "posix", reason="the other process is forked from this one")
def test_the_other_process_never_loads_pydantic(tmp_path: Path) -> None:
    """Only the calling process makes models; the other starts before pydantic is loaded here."""
    import subprocess
    import sys

    from tests.builders import generated

    told = tmp_path / "child.json"
    families = generated(400, tmp_path)  # all accepted: a rejection is a model, pydantic's
    out = subprocess.run(
        [sys.executable, "-c", CHILD_MODULES, str(families), str(told)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["False", "400", "{'Decision'}"]
    assert told.read_text() == "[]"
