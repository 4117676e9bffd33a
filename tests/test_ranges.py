"""A JSON Lines file read in byte ranges, each by any process (`pbr.io.line_ranges`, `RawRange`,
`pbr.batch.evaluate_spans`): the same records, decisions, rejections and totals as read whole."""

from __future__ import annotations

import codecs
import io
import json
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr.io as pbr_io
from pbr import batch
from pbr.cli import _evaluate, main
from pbr.io import RawRange, json_lines_start, line_ranges

REFERENCE = Path(__file__).resolve().parent / "reference" / "families.jsonl"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=80).map(lambda b: b.replace(b"\x00", b"\n")),
    start=st.integers(0, 90),
    size=st.integers(1, 40),
)
def test_ranges_cover_the_file_and_end_only_at_line_ends(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, start: int, size: int
) -> None:
    path = tmp_path_factory.mktemp("ranges") / "f"
    path.write_bytes(data)
    ranges = list(line_ranges(path, start, size))
    assert [a for a, _ in ranges] == [start, *(b for _, b in ranges[:-1])][: len(ranges)]
    if start < len(data):
        assert ranges[0][0] == start
        assert ranges[-1][1] == len(data)
    else:
        assert ranges == []
    for a, b in ranges:
        assert a < b
        assert b == len(data) or data[b - 1 : b] == b"\n"
        # cut at the first line end that leaves it `size` bytes or more
        cut = data.find(b"\n", a + size - 1)
        assert b == (cut + 1 if cut >= 0 else len(data))


_LINE = st.one_of(
    st.just(b""),
    st.just(b"   "),
    st.just(b"\r"),
    st.just(b'{"family_id": "F1"}'),
    st.just(b'{"family_id": "F2", "note": "' + b"x" * 30 + b'"}'),
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")),
)


def _whole(path: Path, limit: int) -> list[tuple[int, int, object]]:
    with open(path, "rb") as handle:
        return [_plain(r) for r in pbr_io._raw_lines(handle, str(path), limit)]


def _plain(raw: tuple[int, int, object]) -> tuple[int, int, object]:
    line, record, item = raw
    return line, record, item if isinstance(item, bytes) else item.model_dump()  # type: ignore[attr-defined]


def _in_ranges(path: Path, size: int, limit: int) -> list[tuple[int, int, object]]:
    out: list[tuple[int, int, object]] = []
    lines = records = 0
    for start, end in line_ranges(path, 0, size):
        part = RawRange(path, start, end, max_record_bytes=limit)
        found = 0
        for line, record, item in part:
            if not isinstance(item, bytes):  # placed in the file, as the batch places it
                item = item.model_copy(update={"line": lines + line, "record": records + record})
            out.append(_plain((lines + line, records + record, item)))
            found = record
        lines += part.lines
        records += found
    return out


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_LINE, max_size=12),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    size=st.integers(1, 120),
    limit=st.sampled_from([8, 25, 1000]),
    buffer=st.sampled_from([7, 1 << 20]),
)
def test_ranges_read_the_records_the_whole_file_holds(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    crlf: bool,
    final_newline: bool,
    size: int,
    limit: int,
    buffer: int,
) -> None:
    """Same lines, records, numbers and rejections (too long, cut at the limit) as one read."""
    end = b"\r\n" if crlf else b"\n"
    data = end.join(lines) + (end if final_newline and lines else b"")
    path = tmp_path_factory.mktemp("ranges") / "f.jsonl"
    path.write_bytes(data)
    with mock.patch.object(pbr_io, "_BUFFER", buffer):  # 7: ranges read a block at a time
        assert _in_ranges(path, size, limit) == _whole(path, limit)


def test_a_range_counts_its_lines_however_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"a\n\n\nbb\nccc")
    for buffer in (2, 1 << 20):
        with mock.patch.object(pbr_io, "_BUFFER", buffer):
            counted = []
            for start, end in line_ranges(path, 0, 3):
                part = RawRange(path, start, end)
                list(part)
                counted.append(part.lines)
            assert counted == [2, 2, 1]  # "a\n\n", "\nbb\n", "ccc": five lines


def test_json_lines_start_is_where_read_raw_reads_lines(tmp_path: Path) -> None:
    cases = {
        b'{"a": 1}\n{"b": 2}\n': 0,
        codecs.BOM_UTF8 + b'{"a": 1}\n': 3,
        b"\n\n  \n": 0,  # blank: no records, read as lines
        b"": 0,
        b'{"a": \n 1}\n': None,  # an object spread over lines
        b'[{"a": 1},\n{"b": 2}]\n': None,  # an array
        b'{"a": 1\n{"b": 2}\n': 0,  # a broken first line
        b"[1]\n[2]\n": 0,
    }
    for text, expected in cases.items():
        path = tmp_path / "f"
        path.write_bytes(text)
        assert json_lines_start(path) == expected, text
    with pytest.raises(pbr_io.UnreadableFile):
        json_lines_start(tmp_path / "missing")


def _messy(tmp_path: Path) -> Path:
    """Families with every kind of trouble a line can have, repeated families among them."""
    good = REFERENCE.read_bytes().splitlines()[:80]
    for name in ("mixed-programmes.jsonl", "families.jsonl"):  # councils, other programmes
        good += (EXAMPLES / name).read_bytes().splitlines()
    first = json.loads(good[0])
    lines = [codecs.BOM_UTF8 + good[0]]
    for n, line in enumerate(good[1:], start=1):
        lines.append(line)
        if n % 9 == 0:
            lines += [b"", b"   \r"]
        if n % 13 == 0:
            lines.append(b'{"family_id": "BAD-%d", "attached_on": "2013-02-30"}' % n)
        if n % 17 == 0:
            lines.append(b"{not json")
        if n % 19 == 0:
            lines.append(good[n - 1])  # a family repeated at once
        if n % 23 == 0:
            lines.append(b'{"family_id": "LONG", "x": "' + b"y" * 40_000 + b'"}')
        if n % 29 == 0:
            lines.append(json.dumps(first).encode())  # the first family again, far away
        if n % 31 == 0:
            lines += [b"[]", line]  # a rejection, then a repeated family: told in this order
    path = tmp_path / "messy.jsonl"
    path.write_bytes(b"\r\n".join(lines[:40]) + b"\r\n" + b"\n".join(lines[40:]))
    return path


def _run(
    path: Path, out: Path, fmt: str, workers: str, capsys: pytest.CaptureFixture[str]
) -> tuple[bytes, str, str, bytes]:
    rejected = out.with_suffix(".rejections.jsonl")
    argv = ["evaluate", str(path), "--as-of", "2016-03-31", "--format", fmt]
    argv += ["--workers", workers, "--rejections", str(rejected), "--max-record-bytes", "20000"]
    if fmt != "table":
        argv += ["--output", str(out)]
    status = main(argv)
    captured = capsys.readouterr()
    written = out.read_bytes() if fmt != "table" else b""
    return written, captured.out, f"{status}\n{captured.err}", rejected.read_bytes()


@pytest.mark.parametrize(
    ("fmt", "workers"), [("json", "1"), ("json", "2"), ("csv", "2"), ("table", "1"), ("table", "2")]
)
def test_a_file_read_in_ranges_is_the_file_read_whole(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    workers: str,
) -> None:
    """Decisions, rejections (their lines and records), repeated families and totals alike."""
    path = _messy(tmp_path)
    monkeypatch.setattr(batch, "SPAN_BYTES", 5000)  # ranges of a few families: repeats across them
    spans = _run(path, tmp_path / "a.out", fmt, workers, capsys)
    monkeypatch.setattr(_evaluate, "json_lines_start", lambda *a, **k: None)  # read whole
    whole = _run(path, tmp_path / "a.out", fmt, workers, capsys)
    assert spans == whole
    written, _, err, rejected = spans
    assert written or fmt == "table"
    assert err.startswith("1\n")
    for kind in ("duplicate_family", "record_too_large", "json_invalid", "date_parsing"):
        assert kind in rejected.decode(), kind
    assert "messy.jsonl:17 (record 15), family 'BAD-13'" in err  # placed in the file


@pytest.mark.parametrize(
    ("fmt", "workers", "whole"),
    [("json", "1", False), ("json", "2", False), ("csv", "2", False), ("json", "2", True)],
)
def test_a_repeated_family_is_told_the_line_of_its_first_record(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    workers: str,
    whole: bool,
) -> None:
    """Read in ranges (by one process or several) or whole: each repeat names the line of its
    family's first record not rejected for its own faults, never that of an earlier repeat."""
    path = _messy(tmp_path)
    monkeypatch.setattr(batch, "SPAN_BYTES", 5000)  # the first record ranges before its repeats
    if whole:
        monkeypatch.setattr(_evaluate, "json_lines_start", lambda *a, **k: None)
    _, _, err, rejected = _run(path, tmp_path / "a.out", fmt, workers, capsys)
    rejections = [json.loads(line) for line in rejected.splitlines()]
    faulty = {r["line"] for r in rejections if r["errors"][0]["type"] != "duplicate_family"}
    first: dict[str, int] = {}
    for n, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            family_id = json.loads(line.removeprefix(codecs.BOM_UTF8))["family_id"]
        except (ValueError, TypeError, KeyError):
            continue
        if n not in faulty:
            first.setdefault(family_id, n)
    repeats = [r for r in rejections if r["errors"][0]["type"] == "duplicate_family"]
    assert len(repeats) > len({r["family_id"] for r in repeats})  # a family repeated twice
    for r in repeats:
        message = f"family_id {r['family_id']!r} was already given on line {first[r['family_id']]}"
        assert r["errors"][0]["message"] == message
        assert first[r["family_id"]] < r["line"]
        assert f"{path}:{r['line']} (record {r['record']}), family" in err
        assert message in err


def test_the_cli_reads_json_lines_in_ranges_and_other_files_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    taken: list[str] = []
    real = batch.evaluate_spans

    def spy(path: str, **options: object) -> object:
        taken.append(path)
        return real(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "evaluate_spans", spy)
    lines = REFERENCE.read_bytes().splitlines()[:5]
    as_lines = tmp_path / "f.jsonl"
    as_lines.write_bytes(b"\n".join(lines))
    as_array = tmp_path / "f.json"
    as_array.write_bytes(b"[\n" + b",\n".join(lines) + b"\n]\n")
    for path in (as_lines, as_array):
        assert main(["evaluate", str(path), "--as-of", "2016-03-31", "--format", "json"]) == 0
    assert taken == [str(as_lines)]
    out = capsys.readouterr().out.splitlines()
    assert out[:5] == out[5:10]


def test_a_span_counts_its_decisions_by_family_when_asked() -> None:
    job = batch._Job(date(2016, 3, 31), None, {}, {}, "f.jsonl")
    path = str(REFERENCE)
    (first, end), *_ = line_ranges(path, 0, 20_000)
    span = job.span((path, first, end))
    decided = span.decisions()
    assert [d[2] for d in decided] == span.family_ids
    assert len(span.ends) == len(decided) == span.records - len(span.rejections)
    assert sum(span.counts.values()) == len(decided)
    for programme, kinds in span.totals.items():
        for kind, total in kinds.items():
            assert total == sum(
                (d[6].get(kind, 0) for d in decided if d[3] == programme), start=type(total)(0)
            )
    assert span.councils.overall.families_evaluated == len(decided)
    assert span.data.count(b"\n") == len(decided)
    assert [
        json.loads(span.data[a:b])["family_id"]
        for a, b in zip([0, *span.ends][:-1], span.ends, strict=True)
    ] == span.family_ids
    assert io.BytesIO(span.detail).read(1)  # packed


def test_a_range_of_table_rows_comes_with_its_widths() -> None:
    job = batch._Job(date(2016, 3, 31), None, {}, {}, "f.jsonl")
    job.render = "table"
    path = str(REFERENCE)
    (first, end), *_ = line_ranges(path, 0, 20_000)
    span = job.span((path, first, end))
    assert span.data.count(b"\n") == len(span.family_ids) > 1
    assert list(span.widths) == _evaluate._widths(span.data.decode())
    assert max(span.widths) > 0
    other = batch._Job(date(2016, 3, 31), None, {}, {}, "f.jsonl").span((path, first, end))
    assert other.widths == ()  # JSON: nothing to measure


def test_a_range_without_its_repeated_family_is_measured_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The worker's widths counted the left-out row: the writer must measure what it keeps."""
    job = batch._Job(date(2016, 3, 31), None, {}, {}, "f.jsonl")
    job.render = "table"
    path = str(REFERENCE)
    (first, end), *_ = line_ranges(path, 0, 20_000)
    span = job.span((path, first, end))
    summary = _evaluate._Summary(check_duplicates=True)
    assert summary.seen is not None
    summary.seen.add(span.family_ids[1])  # as if it came in an earlier range
    [(text, widths)] = summary.track_spans([span], "f.jsonl")
    assert widths is None
    assert text.count(b"\n") == len(span.family_ids) - 1
    assert span.family_ids[1].encode() not in text
    assert summary.rejected == 1
    assert "family_id 'TF1-0001' was already given earlier in the input" in capsys.readouterr().err
    [(whole, measured)] = _evaluate._Summary().track_spans([span], "f.jsonl")
    assert whole == span.data
    assert measured == span.widths
