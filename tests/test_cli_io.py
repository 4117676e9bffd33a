"""The `pbr` command and the record reader: every record evaluated or reported, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.cli import main
from pbr.io import Rejection, numbered_from_text, read_records
from pbr.rules import PHASE_ONE

from .builders import record


def good(family_id: str, **fields: Any) -> dict[str, Any]:
    return record(family_id=family_id, local_discretion=["x"], **fields)


BAD_PERSON = {"offences": [{"person_id": "Z9", "date": "2012-01-01"}]}


def write_lines(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_jsonl_mixed_good_and_bad_reports_each_and_carries_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(
        tmp_path / "f.jsonl",
        [
            good("G1"),
            good("B1", **BAD_PERSON),
            "{not json",
            good("G2"),
            good("G1"),
            good("OUT", attached_on="2026-01-01"),
        ],
    )
    status, out, err = run(
        capsys, "evaluate", str(path), "--as-of", "2013-07-31", "--format", "json"
    )
    assert status == 1
    decisions = [pbr.Decision.model_validate_json(line) for line in out.splitlines()]
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    lines = err.splitlines()
    assert any(":2 " in ln and "'B1'" in ln and 'offences.0.person_id = "Z9"' in ln for ln in lines)
    assert any(":3 " in ln and "invalid json" in ln.lower() for ln in lines)
    assert any(
        ":5 " in ln and 'family_id = "G1"' in ln and "already given on line 1" in ln for ln in lines
    )
    assert any(":6 " in ln and "'OUT'" in ln and "attached_on" in ln for ln in lines)
    assert "families evaluated: 2" in err
    assert "families rejected:  4" in err


@pytest.mark.parametrize(
    ("shape", "options"),
    [
        ("array", ["--format", "json"]),
        ("array", ["--output", "d.xlsx"]),
        ("array", ["--format", "csv", "--workers", "2"]),
        ("lines", ["--ledger", "ledger.db"]),
        ("array", ["--ledger", "ledger.db"]),
    ],
)
def test_a_repeated_family_names_the_line_of_its_first_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str, options: list[str]
) -> None:
    """Read whole (JSON array), written as a workbook, or with a ledger's payments merged in."""
    rows = [good("G1"), good("G2"), good("G1", **BAD_PERSON), good("G1"), good("G1")]
    if shape == "array":  # indented: a record starts on a line " {"
        path = tmp_path / "f.json"
        path.write_text(json.dumps(rows, indent=1))
        lines = [n for n, ln in enumerate(path.read_text().splitlines(), start=1) if ln == " {"]
    else:
        path = write_lines(tmp_path / "f.jsonl", rows)
        lines = [1, 2, 3, 4, 5]
    if "ledger.db" in options:
        from pbr.ledger import Ledger

        Ledger(tmp_path / "ledger.db")
    options = [str(tmp_path / o) if o.startswith(("ledger", "d.")) else o for o in options]
    status, _, err = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31", *options)
    assert status == 1
    said = f"family_id 'G1' was already given on line {lines[0]}"  # not the rejected record's
    assert [ln for ln in err.splitlines() if "duplicate" in ln or "already" in ln] == [
        f"{path}:{lines[n]} (record {n + 1}), family 'G1': family_id = \"G1\": {said}"
        for n in (3, 4)
    ]
    found = [r for r in read_records(path) if isinstance(r, Rejection)]
    assert [r.errors[0].message for r in found[1:]] == [said, said]


def test_json_array_with_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps([good("G1"), good("B1", **BAD_PERSON)], indent=1)
    path = tmp_path / "f.json"
    path.write_text(text)
    status, out, err = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31")
    assert status == 1
    assert "G1" in out
    assert "families evaluated: 1" in out
    opening = text.splitlines().index(next(ln for ln in text.splitlines() if '"B1"' in ln))
    assert f"f.json:{opening} (record 2)" in err


def test_all_good_exits_0_and_table_sums(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "f.jsonl", [good("G1"), good("G2")])
    status, out, _ = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31")
    assert status == 0
    assert "crime_asb_education" in out
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert total.split() == ["total", "£1,400.00"]


def test_nothing_evaluated_or_unreadable_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", [good("B1", **BAD_PERSON)])
    assert run(capsys, "evaluate", str(bad), "--as-of", "2013-07-31")[0] == 2
    assert run(capsys, "evaluate", str(tmp_path / "missing.jsonl"), "--as-of", "2013-07-31")[0] == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert run(capsys, "evaluate", str(empty), "--as-of", "2013-07-31")[0] == 2


@pytest.mark.parametrize("given", ["", "\n  \n\n", "tables"])
@pytest.mark.parametrize("name", ["d.json", "d.csv", "d.xlsx"])
@pytest.mark.parametrize("ledger", [False, True])
def test_an_input_with_no_records_leaves_the_output_files_as_they_were(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, name: str, ledger: bool
) -> None:
    """An empty export replaced yesterday's decisions and rejections with empty files."""
    if given == "tables":
        from pbr.tables import write_templates

        path = tmp_path / "council"
        write_templates(path)  # the empty tables: no families
    else:
        path = tmp_path / "in.jsonl"
        path.write_text(given)
    output, rejections = tmp_path / name, tmp_path / "r.jsonl"
    output.write_bytes(b"PREVIOUS DECISIONS\n")
    rejections.write_bytes(b"PREVIOUS REJECTIONS\n")
    argv = ["evaluate", str(path), "--as-of", "2013-07-31", "--output", str(output)]
    argv += ["--rejections", str(rejections)]
    if ledger:
        from pbr.ledger import Ledger

        Ledger(tmp_path / "ledger.db")
        argv += ["--ledger", str(tmp_path / "ledger.db")]
    status, out, err = run(capsys, *argv)
    assert out == ""
    assert status == 2
    assert err == f"pbr: no records in {path}\n"
    assert output.read_bytes() == b"PREVIOUS DECISIONS\n"
    assert rejections.read_bytes() == b"PREVIOUS REJECTIONS\n"
    left = {p.name for p in tmp_path.iterdir() if p.is_file()} - {"in.jsonl", "ledger.db"}
    assert left == {name, "r.jsonl"}  # no temporary file left either


def test_every_record_rejected_writes_its_rejections_and_says_no_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", [good("B1", **BAD_PERSON), "{not json"])
    output, rejections = tmp_path / "d.json", tmp_path / "r.jsonl"
    output.write_text("PREVIOUS DECISIONS\n")
    argv = ["evaluate", str(bad), "--as-of", "2013-07-31", "--output", str(output)]
    status, _, err = run(capsys, *argv, "--rejections", str(rejections))
    assert status == 2
    assert output.read_text() == ""  # what the run made: no decision
    assert len(rejections.read_text().splitlines()) == 2
    assert f"decisions written to {output}: none, no family was evaluated\n" in err
    assert "families rejected:  2" in err


def test_csv_has_one_row_per_family_and_result_with_money_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "f.jsonl", [good("G1")])
    status, out, _ = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [r["result"] for r in rows] == [
        "crime_asb_education",
        "progress_to_work",
        "continuous_employment",
    ]
    assert {r["family_id"] for r in rows} == {"G1"}
    assert rows[0]["amount"] == "700.00"
    assert rows[0]["payable"] == "700.00"


def test_interpretation_option_and_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "f.jsonl", [good("G1")])
    status, out, _ = run(
        capsys,
        "evaluate",
        str(path),
        "--as-of",
        "2013-07-31",
        "--format",
        "json",
        "--interpretation",
        "rates_by=claim_year",
    )
    assert status == 0
    assert json.loads(out)["interpretations"]["rates_by"] == "claim_year"
    status, _, err = run(
        capsys,
        "evaluate",
        str(path),
        "--as-of",
        "2013-07-31",
        "--interpretation",
        "rates_by=tomorrow",
    )
    assert status == 2
    assert "attachment_year, claim_year" in err


def test_explain_schema_and_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lines(tmp_path / "f.jsonl", [good("G1"), good("B1", **BAD_PERSON)])
    status, out, _ = run(capsys, "explain", str(path), "G1", "--as-of", "2013-07-31")
    assert status == 0
    assert out.startswith("Working paper: family G1 as of 2013-07-31")
    assert "[ASB_NONE_BEFORE_OR_SINCE]" in out
    assert "employment_after_crime = top_up" in out
    assert run(capsys, "explain", str(path), "B1", "--as-of", "2013-07-31")[0] == 1
    assert run(capsys, "explain", str(path), "NOPE", "--as-of", "2013-07-31")[0] == 2
    status, out, _ = run(capsys, "schema")
    assert json.loads(out)["title"] == "Family"
    status, out, _ = run(capsys, "rules")
    assert "from 2013/14: £2,400.00  [S2, S1] confirmed" in out
    assert "* jsa_26_other_13" in out
    assert "  identification.eligibility: [S45, S1, S8]" in out  # what each rule's reasons cite
    status, out, _ = run(capsys, "rules", "--format", "json")
    assert json.loads(out)[0]["parameters"]["cap"]["values"][0]["value"] == "4000.00"
    assert json.loads(out)[0]["rules"]["payment.cap"] == PHASE_ONE.source_of_rule("payment.cap")


@pytest.mark.parametrize("spelt", ["G1", "\\u0047\\u0031"])
def test_explain_says_when_the_family_is_given_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelt: str
) -> None:
    again = json.dumps(good("G1", local_authority="Leeds")).replace('"G1"', f'"{spelt}"')
    path = write_lines(tmp_path / "f.jsonl", [good("G1"), good("G10"), again])
    status, out, err = run(capsys, "explain", str(path), "G1", "--as-of", "2013-07-31")
    assert status == 1  # explained, as evaluate decides it, and the repeat reported
    assert out.startswith("Working paper: family G1 as of 2013-07-31")
    assert "f.jsonl:3 (record 3), family 'G1'" in err
    assert "family_id 'G1' was already given on line 1" in err
    status, _, err = run(capsys, "explain", str(path), "G10", "--as-of", "2013-07-31")
    assert (status, err) == (0, "")


@pytest.mark.parametrize("first", ["own fault", "outside every programme"])
def test_explain_explains_the_record_evaluate_decides_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str
) -> None:
    """A family's first record rejected, a later one valid: explained as evaluate decides it."""
    before = (
        good("G1", **BAD_PERSON) if first == "own fault" else good("G1", attached_on="2026-01-01")
    )
    path = write_lines(
        tmp_path / "f.jsonl",
        [
            before,
            good("G2"),
            good("G1", local_authority="Leeds"),
            good("G1", local_authority="Kent"),
        ],
    )
    day = ["--as-of", "2013-07-31"]
    _, out, err = run(capsys, "evaluate", str(path), *day, "--format", "json")
    (decided,) = [json.loads(line) for line in out.splitlines() if '"G1"' in line]
    assert decided["local_authority"] == "Leeds"
    rejected = [line for line in err.splitlines() if "family 'G1'" in line]
    assert [line.split(" ")[0] for line in rejected] == [f"{path}:1", f"{path}:4"]
    status, out, err = run(capsys, "explain", str(path), "G1", *day)
    assert status == 1  # explained, and the family's other records reported as evaluate does
    assert out.startswith("Working paper: family G1 as of 2013-07-31")
    assert "Council Leeds" in out
    assert err.splitlines() == rejected


def test_reader_never_drops_a_record() -> None:
    text = "\n".join([json.dumps(good("G1")), "", "[1,2]", json.dumps(good("G2")), "null"])
    items = list(numbered_from_text(text, source="t"))
    assert [(line, n) for line, n, _ in items] == [(1, 1), (3, 2), (4, 3), (5, 4)]
    assert [type(i).__name__ for _, _, i in items] == ["Family", "Rejection", "Family", "Rejection"]


def test_single_object_file_and_array_syntax_error(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(good("G1"), indent=2))
    assert [f.family_id for f in read_records(one)] == ["G1"]
    broken = tmp_path / "broken.json"
    broken.write_text(
        "[\n" + json.dumps(good("G1")) + ',\n{"family_id": oops}\n,' + json.dumps(good("G2")) + "]"
    )
    items = list(read_records(broken))
    assert isinstance(items[0], pbr.Family)
    assert isinstance(items[1], Rejection)
    assert items[1].line == 3
    assert items[1].errors[0].type == "json_invalid"
    assert "cannot be read" not in items[1].errors[0].message
    assert isinstance(items[2], pbr.Family)  # the array is read on past the broken record
    unbalanced = tmp_path / "unbalanced.json"
    unbalanced.write_text(
        "[" + json.dumps(good("G1")) + ', {"x": [}, ' + json.dumps(good("G2")) + "]"
    )
    items = list(read_records(unbalanced))
    assert [type(i).__name__ for i in items] == ["Family", "Rejection"]
    assert isinstance(items[1], Rejection)
    assert "the rest of the file cannot be read" in items[1].errors[0].message


@pytest.mark.parametrize(
    ("broken", "indent"),
    [
        ('{"family_id": "X1", "bad": ]}', 0),  # a bracket closed that was not opened
        ('{"family_id": "X1", "bad": [}', 0),  # one opened, never closed
        ("}", 0),  # a stray brace where a record should be
        ('{"family_id": "X1", "bad": [[[[', 2),  # deep and unclosed, in an indented export
    ],
)
def test_an_unbalanced_record_in_an_array_loses_none_of_those_after_it(
    tmp_path: Path, broken: str, indent: int
) -> None:
    """Reading goes on at the next line opening a record as the others do, and says so."""
    pad = " " * indent
    records = [json.dumps(good(f"G{n}")) for n in range(1, 4)]
    text = f"[\n{pad}{records[0]},\n{pad}{broken},\n{pad}{records[1]},\n{pad}{records[2]}\n]\n"
    path = tmp_path / "a.json"
    path.write_text(text)
    items = list(read_records(path))
    assert [getattr(i, "family_id", None) for i in items if isinstance(i, pbr.Family)] == [
        "G1",
        "G2",
        "G3",
    ]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert rejected.line == 3
    assert rejected.family_id in ("X1", None)  # never the next record's
    assert "reading goes on at the next line that opens a record" in rejected.errors[0].message
    assert "(line 4)" in rejected.errors[0].message


def test_a_closed_pipe_ends_quietly() -> None:
    import subprocess
    import sys
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    result = subprocess.run(
        f"{sys.executable} -m pbr.cli evaluate {examples} --as-of 2015-03-31 | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.startswith("family")
    assert "Traceback" not in result.stderr


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pbr.cli._evaluate import _a_record, _progress

    items = [(1, b"{}"), (2, b"{}"), (3, b"{}")]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert _progress(items, 6, _a_record) is items
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = _progress(items, 6, _a_record)
    assert bar is not items
    assert list(bar) == items


def test_progress_without_tqdm_is_a_plain_line_with_a_total_and_eta(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    import time

    from pbr.cli import _evaluate

    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if not installed
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    clock = iter(range(0, 100))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    items = [(1, b"x" * 50), (2, b"x" * 50)]
    assert list(_evaluate._progress(items, 100, _evaluate._a_record)) == items
    shown = capsys.readouterr().err
    assert "50% of 0 MB, 1 families, 0:01 left" in shown
    assert shown.endswith("100% of 0 MB, 2 families, 0:00 left \n")
    # a file evaluated in ranges: each range counts its records and its bytes
    from pbr.batch import Span
    from pbr.totals import Totals

    spans = [Span(b"", [], [], [], [], 0, records, 50, {}, {}, Totals(), b"") for records in (3, 4)]
    assert list(_evaluate._progress(spans, 100, _evaluate._a_range)) == spans
    shown = capsys.readouterr().err
    assert "50% of 0 MB, 3 families, 0:0" in shown
    assert shown.endswith("100% of 0 MB, 7 families, 0:00 left \n")
    assert _evaluate._progress_line(3, 0, None, 2.0) == "pbr: 3 families, 2 s"


@pytest.mark.parametrize("given", ["ledger", "tables", "tables and ledger"])
def test_progress_has_a_total_with_a_ledger_and_on_council_tables(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: str,
) -> None:
    """With --ledger, and on tables, the bar was a bare count: no share done, no time left."""
    import itertools
    import sys
    import types

    from pbr.cli import _evaluate
    from pbr.ledger import Ledger
    from pbr.tables import write_tables

    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    path = tmp_path / "families.jsonl"
    path.write_bytes(examples.read_bytes())
    argv = ["evaluate", str(path), "--as-of", "2015-03-31", "--format", "json"]
    if "tables" in given:
        argv[1] = str(write_tables(read_records(path), tmp_path / "council"))  # type: ignore[arg-type]
    if "ledger" in given:
        Ledger(tmp_path / "ledger.db")
        argv += ["--ledger", str(tmp_path / "ledger.db")]
    monkeypatch.setitem(sys.modules, "tqdm", None)  # pbr's own line, which says its total
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    clock = itertools.count()
    monkeypatch.setattr(_evaluate, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    status, _, err = run(capsys, *argv, "--output", str(tmp_path / "out.jsonl"))
    assert status == 0, err
    shown = err.split("\r")
    if "tables" in given:
        assert "pbr:   2% of 60 families, 0:59 left " in shown
        assert "pbr: 100% of 60 families, 0:00 left \nReconciliation" in err
    else:
        size = path.stat().st_size
        assert f"pbr: 100% of {size / 1e6:,.0f} MB, 60 families, 0:00 left \n" in err
        done = [line for line in shown if line.startswith("pbr: ") and "% of" in line]
        assert done[0].startswith("pbr:   2% of 0 MB, 1 families, 0:")  # a share and time left


def test_the_progress_bar_starts_after_the_first_item() -> None:
    """The first item may start a pool of processes: tqdm's thread must not exist before it."""
    from pbr.cli._evaluate import _a_record, _tqdm_progress

    events: list[str] = []

    class Bar:
        def __init__(self, **options: object) -> None:
            events.append("bar")

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            events.append("closed")

        def update(self, n: int) -> None:
            events.append(f"+{n}")

    def items() -> Any:
        events.append("first")
        yield (1, b"{}")
        yield (2, b"{}")

    assert list(_tqdm_progress(items(), 4, _a_record, Bar)) == [(1, b"{}"), (2, b"{}")]
    assert events == ["first", "bar", "+2", "+2", "closed"]
    assert list(_tqdm_progress(iter(()), 4, _a_record, Bar)) == []
    assert events[-1] == "closed"  # no second bar for nothing


def test_tqdm_counts_families_against_a_total_of_families() -> None:
    from pbr.cli._evaluate import _a_record, _tqdm_progress

    seen: list[object] = []

    class Bar:
        def __init__(self, **options: object) -> None:
            seen.append((options["total"], options["unit"]))

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, n: int) -> None:
            seen.append(n)

    items = [(None, object()), (None, object())]
    assert list(_tqdm_progress(iter(items), 2, _a_record, Bar, of_families=True)) == items
    assert seen == [(2, " families"), 1, 1]


@pytest.mark.parametrize("shape", ["lines", "array"])
def test_a_number_python_cannot_convert_in_the_first_record_is_a_rejection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    # Python refuses int() of more than 4,300 digits with a ValueError that is not a JSON syntax
    # error: the file-shape check once let it stop the whole run (record 1 only)
    huge = '{"attachment_fee": 1' + "0" * 5000 + ", " + json.dumps(good("F1"))[1:]
    rows = [huge, json.dumps(good("F2"))]
    text = "\n".join(rows) + "\n" if shape == "lines" else "[\n" + ",\n".join(rows) + "\n]\n"
    path = tmp_path / "families.json"
    path.write_text(text)
    items = list(read_records(path))
    assert [type(x).__name__ for x in items] == ["Rejection", "Family"]
    status, _, err = run(capsys, "evaluate", str(path), "--as-of", "2013-06-30", "--format", "json")
    assert status == 1, err
    assert "record 1" in err
    assert "unexpected error" not in err


def _names(tmp_path: Path) -> tuple[Path, bytes]:
    source = write_lines(tmp_path / "families.jsonl", [good("F1"), good("F2")])
    return source, source.read_bytes()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--output", "{input}"], "--output names the same file as the input"),
        (["--rejections", "{input}"], "--rejections names the same file as the input"),
        (["--output", "{link}"], "--output names the same file as the input"),
        (
            ["--output", "{new}", "--rejections", "{new}"],
            "--rejections names the same file as --output",
        ),
        (["--output", "{ledger}"], "--output names the same file as --ledger"),
    ],
)
def test_no_output_replaces_an_input_or_another_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    source, before = _names(tmp_path)
    (tmp_path / "link.jsonl").symlink_to(source)
    ledger = tmp_path / "ledger.db"
    names = {
        "input": str(source),
        "link": str(tmp_path / "link.jsonl"),
        "new": str(tmp_path / "out.jsonl"),
        "ledger": str(ledger),
    }
    argv = [o.format(**names) for o in options]
    if "{ledger}" in options:
        ledger.write_bytes(b"not touched")
        argv += ["--ledger", str(ledger)]
    status, _, err = run(capsys, "evaluate", str(source), "--as-of", "2013-06-30", *argv)
    assert status == 2
    assert message in err
    assert "choose another file" in err
    assert source.read_bytes() == before
    assert not (tmp_path / "out.jsonl").exists()
    if "{ledger}" in options:
        assert ledger.read_bytes() == b"not touched"


def test_an_output_inside_a_folder_of_tables_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.tables import write_tables

    folder = write_tables([pbr.Family.model_validate(good("F1"))], tmp_path / "council")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    for name in ("families.csv", "decisions.csv"):
        status, _, err = run(
            capsys, "evaluate", str(folder), "--as-of", "2013-06-30", "--output", str(folder / name)
        )
        assert status == 2
        assert "a folder that is read" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    status, _, err = run(
        capsys,
        "evaluate",
        str(folder),
        "--as-of",
        "2013-06-30",
        "--output",
        str(tmp_path / "d.csv"),
    )
    assert status == 0, err


def test_a_device_may_take_both_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _ = _names(tmp_path)
    status, _, err = run(
        capsys, "evaluate", str(source), "--as-of", "2013-06-30",
        "--output", "/dev/null", "--rejections", "/dev/null",
    )  # fmt: skip
    assert status == 0, err


@pytest.mark.parametrize(
    ("fmt", "name", "refused"),
    [
        ("csv", "d.xlsx", True),
        ("csv", "d.jsonl", True),
        ("json", "d.csv", True),
        ("json", "d.XLSX", True),
        ("csv", "d.csv", False),
        ("json", "d.ndjson", False),
        ("json", "d.out", False),
        ("table", "d.csv", False),
    ],
)
def test_a_format_the_output_s_name_contradicts_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, name: str, refused: bool
) -> None:
    source, _ = _names(tmp_path)
    target = tmp_path / name
    status, _, err = run(
        capsys, "evaluate", str(source), "--as-of", "2013-06-30",
        "--format", fmt, "--output", str(target),
    )  # fmt: skip
    if refused:
        assert status == 2
        assert f"--format {fmt} writes" in err
        assert not target.exists()
    else:
        assert status == 0, err
        assert target.exists()


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_line_cut_short_is_reported_as_cut_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ending: str
) -> None:
    whole = json.dumps(good("F2"))
    path = tmp_path / "families.jsonl"
    path.write_bytes((json.dumps(good("F1")) + ending + whole[: len(whole) // 2] + ending).encode())
    (_, second) = list(read_records(path))
    assert isinstance(second, Rejection)
    (error,) = second.errors
    assert error.type == "json_invalid"
    assert "EOF while parsing" in error.message
    assert error.message.endswith("the record ends before its JSON does (cut off?)")
    assert "line 1 column" in error.message  # the record's own line, not the next


def test_a_date_out_of_range_names_its_option_only(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["evaluate", "f.jsonl", "--as-of", "1900-01-01"],
        [
            *("ledger", "append", "l.db", "--family-id", "F1", "--kind", "attachment_fee"),
            *("--amount", "1", "--claim-id", "C", "--rules-version", "v", "--paid-on"),
            "1900-01-01",
        ],
    ):
        with pytest.raises(SystemExit):
            main(argv)
        err = capsys.readouterr().err
        option = argv[-2]
        assert f"argument {option}: must be from 2012-04-01 to 2099-12-31, got 1900-01-01" in err
        assert "as_of" not in err


@pytest.mark.parametrize(
    "text", ["2015-W14-2", "2015W142", "2015-090", "20150331", "２０１５-03-31"]
)
def test_a_date_not_written_yyyy_mm_dd_is_refused_not_converted(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """Python 3.11's `date.fromisoformat` reads ISO week dates (``2015-W14-2``, ten characters,
    is 2015-03-31): ``--as-of`` and ``--paid-on`` took them, where the web API refuses them."""
    for argv in (
        ["evaluate", "f.jsonl", "--as-of", text],
        [
            *("ledger", "append", "l.db", "--family-id", "F1", "--kind", "attachment_fee"),
            *("--amount", "1", "--claim-id", "C", "--rules-version", "v", "--paid-on", text),
        ],
    ):
        with pytest.raises(SystemExit):
            main(argv)
        err = capsys.readouterr().err
        assert f"argument {argv[-2]}: not a date (YYYY-MM-DD): {text!r}" in err


def test_an_interpretation_given_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "f.jsonl", [good("G1")])
    twice = ["--interpretation", "employment_weeks=all_13"] * 2
    status, _, err = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31", *twice)
    assert status == 2
    assert err.startswith("pbr: interpretation 'employment_weeks' is given twice ('all_13', then")


@pytest.mark.parametrize("size", [(0, 0), (100, 30)])
def test_the_progress_bar_is_drawn_on_a_terminal_of_any_size(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """A terminal whose size was never set says 0 × 0; tqdm alone then draws nothing at all."""
    import fcntl
    import os
    import struct
    import sys
    import termios
    import time

    pytest.importorskip("tqdm")
    from pbr.cli._evaluate import _a_record, _tqdm_progress

    main, side = os.openpty()
    columns, lines = size
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    with open(side, "w", encoding="utf-8", closefd=True) as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        from tqdm import tqdm

        def slow() -> Any:
            for n in range(4):
                time.sleep(0.2)  # past the bar's half-second delay
                yield (n, b"x" * 25)

        assert len(list(_tqdm_progress(slow(), 100, _a_record, tqdm))) == 4
        assert len(list(_tqdm_progress(iter([(1, b"{}")] * 3), None, _a_record, tqdm))) == 3
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    text = shown.decode()
    assert "100%" in text
    assert "3 families" in text
    width = max(len(part) for part in text.replace("\n", "\r").split("\r"))
    assert width <= (columns or 80)


def test_a_file_name_that_is_not_utf8_is_written_in_the_rejections_file(tmp_path: Path) -> None:
    """Python keeps such a name's byte as a lone surrogate, which JSON cannot hold: writing
    ``--rejections FILE`` once stopped on it with "unexpected error"."""
    import os
    import subprocess
    import sys

    name = os.fsencode(str(tmp_path)) + b"/bad\x96.jsonl"
    try:
        Path(os.fsdecode(name)).write_text('{"family_id": "F1"}\n', encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    out = tmp_path / "rejections.jsonl"
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"pbr.cli", b"evaluate", name, b"--as-of",
         b"2015-03-31", b"--format", b"json", b"--output", str(tmp_path / "o.jsonl").encode(),
         b"--rejections", str(out).encode()],
        capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "unexpected error" not in err
    written = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert written["source"].endswith("bad\\x96.jsonl")
    assert "bad\\x96.jsonl:1 (record 1), family 'F1'" in err
    assert "Summary for " + str(tmp_path) + "/bad\\x96.jsonl" in err
    assert "rejections written to " in err


def test_a_file_name_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """A control character in a file's name is shown as an escape wherever pbr names the file."""
    import subprocess
    import sys

    name = tmp_path / "e\x1b]0;t\x07.jsonl"
    name.write_text('{"family_id": "F1"}\n', encoding="utf-8")
    for args in (["evaluate", str(name), "--format", "json", "--output", str(tmp_path / "o.jsonl")],
                 ["explain", str(name), "NOPE"]):  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "pbr.cli", *args, "--as-of", "2015-03-31"],
                                capture_output=True, check=False, timeout=120)  # fmt: skip
        assert result.returncode == 2
        assert b"\x1b" not in result.stderr
        assert b"e\\x1b]0;t\\x07.jsonl" in result.stderr


def test_file_names_that_are_not_utf8_reach_every_audit_report(tmp_path: Path) -> None:
    """The report names its inputs and ledger: a name's lone surrogate once stopped it."""
    import os
    import shutil
    import subprocess
    import sys

    examples = Path(__file__).resolve().parents[1] / "examples"
    folder = os.fsencode(str(tmp_path))
    names = {k: folder + b"/" + k.encode() + b"\x96" + ext
             for k, ext in (("claims", b".csv"), ("families", b".jsonl"), ("ledger", b".db"))}  # fmt: skip
    try:
        shutil.copy(examples / "claims.csv", os.fsdecode(names["claims"]))
        shutil.copy(examples / "families.jsonl", os.fsdecode(names["families"]))
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")

    def pbr(*args: bytes) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run([sys.executable.encode(), b"-m", b"pbr.cli", *args],
                              capture_output=True, check=False, timeout=120)  # fmt: skip
        assert b"unexpected error" not in done.stderr, done.stderr
        return done

    audit = [b"audit", names["claims"], b"--families", names["families"]]
    csv_report = os.fsencode(str(tmp_path / "audit.csv"))
    pbr(*audit, b"--report", csv_report)
    recorded = pbr(b"ledger", b"record", csv_report, names["ledger"], b"--paid-on", b"2015-04-01")
    assert recorded.returncode == 0, recorded.stderr
    for suffix in (".html", ".md", ".csv", ".xlsx"):
        report = tmp_path / f"again{suffix}"
        done = pbr(*audit, b"--ledger", names["ledger"], b"--report", os.fsencode(str(report)))
        assert report.exists(), done.stderr
    text = (tmp_path / "again.html").read_text(encoding="utf-8")
    assert "claims\\x96.csv" in text
    assert "ledger\\x96.db" in text


_HOSTILE = "e\x1b]0;t\x07"
"""A file name that would retitle the terminal (ESC, BEL) if printed as it is."""


def _every_command(bad: str) -> list[list[str]]:
    """Commands that name a file in what they print: success, missing, empty and unwritable."""
    day = ["--as-of", "2015-03-31"]
    return [
        ["evaluate", f"{bad}.jsonl", *day, "--output", f"{bad}o.jsonl", "--format", "json"],
        ["evaluate", f"{bad}missing.jsonl", *day],
        ["evaluate", f"{bad}.jsonl", *day, "--output", f"{bad}nodir/o.csv", "--format", "csv"],
        ["explain", f"{bad}missing.jsonl", "F1", *day],
        ["template", f"{bad}tables"],
        ["template", f"{bad}tables"],  # again: each table kept, and said so
        ["audit", f"{bad}claims.csv", "--families", f"{bad}.jsonl", "--report", f"{bad}r.md"],
        ["audit", f"{bad}claims.csv", "--families", f"{bad}.jsonl", "--families", f"{bad}.jsonl"],
        ["audit", f"{bad}claims.csv", "--families", f"{bad}empty.jsonl"],
        ["ledger", "verify", f"{bad}missing.db"],
        ["ledger", "record", f"{bad}r.csv", f"{bad}l.db", "--paid-on", "2015-04-01", "--partial"],
        ["ledger", "verify", f"{bad}l.db"],
        ["ledger", "export", f"{bad}l.db", f"{bad}l.csv"],
        ["ledger", "import", f"{bad}l2.db", f"{bad}l.csv"],
        ["ledger", "import", f"{bad}l3.db", f"{bad}missing.csv"],
        ["replay", f"{bad}o.jsonl", "--families", f"{bad}.jsonl"],
        ["replay", f"{bad}empty.jsonl", "--families", f"{bad}.jsonl"],
        ["forecast", "--councils", f"{bad}councils.csv", "--output", f"{bad}f.csv"],
        ["rules", "--output", f"{bad}r.json"],  # a usage error quotes the argument
    ]


@pytest.mark.parametrize("bad", [_HOSTILE, "e\udc96"], ids=["escape", "not-utf8"])
def test_no_command_prints_a_file_name_as_it_is(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every message naming a file escapes what a terminal would act on, and bytes not UTF-8."""
    import contextlib
    import shutil

    from pbr.cli import main

    examples = Path(__file__).resolve().parents[1] / "examples"
    monkeypatch.chdir(tmp_path)
    try:
        for name, ext in (("families", ".jsonl"), ("claims", ".csv"), ("councils", ".csv")):
            shutil.copy(
                examples / f"{name}{ext}", f"{bad}{'' if name == 'families' else name}{ext}"
            )
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    Path(f"{bad}empty.jsonl").write_bytes(b"")
    shown = _HOSTILE.encode("unicode_escape").decode() if bad == _HOSTILE else "e\\x96"
    for args in _every_command(bad):
        if args[:2] == ["ledger", "record"]:  # an audit's CSV report of verified claims first
            assert main(["audit", f"{bad}claims.csv", "--families", f"{bad}.jsonl",
                         "--report", f"{bad}r.csv"]) in (0, 1)  # fmt: skip
            capsys.readouterr()
        with contextlib.suppress(SystemExit):  # a usage error: argparse's exit
            main(args)
        out, err = capsys.readouterr()
        said = out + err
        assert "unexpected error" not in said, (args, said)
        assert not any(c in said for c in "\x1b\x07\udc96"), (args, said)
        named = [line for line in said.splitlines() if shown in line]
        assert named or (args[0] == "replay" and args[1].endswith("o.jsonl")), (args, said)


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        (
            "families.csv",
            "family_id,attached_on\nF1,2013-05-01\n",
            "is a table, not family records",
        ),
        (
            "families.txt",
            "family_id,attached_on\nF1,2013-05-01\n",
            "is a table, not family records",
        ),
        ("book.xlsm", "PK", "saved as .xlsx"),
        ("book.ods", "PK", "saved as .xlsx"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "explain", "audit", "forecast"])
def test_a_file_that_is_no_records_is_refused_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    said: str,
    command: str,
) -> None:
    """One CSV table given as the input had every line rejected as "invalid JSON"."""
    from pbr.cli import main

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    claims = str(Path(__file__).resolve().parents[1] / "examples" / "claims.csv")
    argv = {
        "evaluate": ["evaluate", str(path), "--as-of", "2015-03-31"],
        "explain": ["explain", str(path), "F1", "--as-of", "2015-03-31"],
        "audit": ["audit", claims, "--families", str(path)],
        "forecast": [
            "forecast",
            "--records",
            str(path),
            "--estimated",
            "100",
            "--as-of",
            "2015-03-31",
        ],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err
    assert len(err.strip().splitlines()) == 1, err


def test_a_text_file_of_json_records_is_still_read(tmp_path: Path) -> None:
    from pbr.cli import main

    path = tmp_path / "families.txt"
    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    path.write_bytes(examples.read_bytes())
    assert main(["evaluate", str(path), "--as-of", "2015-03-31", "--format", "json",
                 "--output", str(tmp_path / "o.jsonl")]) == 0  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [["--workers", "1"], ["--workers", "2"], ["--ledger", "ledger.db"], ["--output", "d.xlsx"]],
)
def test_records_added_while_the_file_is_read_are_said_not_dropped(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
) -> None:
    """A file still being written: the run stops with exit 2 and says where reading stopped."""
    from pbr.cli import _evaluate

    path = write_lines(tmp_path / "f.jsonl", [good(f"G{n}") for n in range(300)])
    size = path.stat().st_size
    late = json.dumps(good("LATE")) + "\n"
    progress = _evaluate._progress

    def appending(items: Any, *args: Any, **kwargs: Any) -> Any:
        """Add a record to the file once the first decision (or range) is seen."""
        for n, item in enumerate(progress(items, *args, **kwargs)):
            if n == 0:
                with path.open("a") as handle:
                    handle.write(late)
            yield item

    monkeypatch.setattr(_evaluate, "_progress", appending)
    if "ledger.db" in options:
        from pbr.ledger import Ledger

        Ledger(tmp_path / "ledger.db")
    options = [str(tmp_path / o) if o.startswith(("ledger", "d.")) else o for o in options]
    kept = tmp_path / "kept.jsonl"
    kept.write_text("an earlier run's decisions\n")
    if "--output" not in options:
        options += ["--format", "json", "--output", str(kept)]
    status, _, err = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31", *options)
    assert status == 2
    assert err.splitlines()[-1] == (
        f"pbr: {path} grew while it was read (from {size} to {size + len(late)} bytes): the "
        f"records after byte {size} were not read; run again on a file that is no longer "
        "being written"
    )
    assert "LATE" not in err
    assert kept.read_text() == "an earlier run's decisions\n"  # not replaced by a short claim
    assert not (tmp_path / "d.xlsx").exists()


def test_a_file_replaced_while_it_is_read_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbr.cli import _evaluate

    path = write_lines(tmp_path / "f.jsonl", [good(f"G{n}") for n in range(3)])
    progress = _evaluate._progress

    def replacing(items: Any, *args: Any, **kwargs: Any) -> Any:
        for n, item in enumerate(progress(items, *args, **kwargs)):
            if n == 0:
                newer = write_lines(tmp_path / "new.jsonl", [good("NEW")])
                newer.replace(path)
            yield item

    monkeypatch.setattr(_evaluate, "_progress", replacing)
    status, _, err = run(capsys, "evaluate", str(path), "--as-of", "2013-07-31", "--format", "json")
    assert status == 2
    assert err.splitlines()[-1].startswith(f"pbr: {path} was replaced while it was read")


def test_outputs_with_names_as_long_as_the_folder_takes_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--output`` and ``--rejections`` of 250 characters were refused "File name too long"."""
    import os

    if os.pathconf(tmp_path, "PC_NAME_MAX") < 250:
        pytest.skip("this file system takes no 250-character name")
    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    output, rejections = (tmp_path / (letter * 244 + ".jsonl") for letter in "dr")
    status, _, err = run(capsys, "evaluate", str(examples), "--as-of", "2015-03-31", "--format",
                         "json", "--output", str(output), "--rejections", str(rejections))  # fmt: skip
    assert status == 0, err
    assert len(output.read_text().splitlines()) == 60
    assert rejections.read_text() == ""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_family_first_given_outside_every_programme_is_judged_alike_with_a_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    """With ``--ledger`` the record outside every programme took the family's id, so its later
    valid record was rejected as given twice; without one, the later record was evaluated."""
    from pbr.ledger import Ledger

    path = write_lines(
        tmp_path / "f.jsonl",
        [good("F1", attached_on="2011-01-01"), good("F1"), good("F2"), good("F2")],
    )
    Ledger(tmp_path / "ledger.db")
    got = []
    for extra in ([], ["--ledger", str(tmp_path / "ledger.db")]):
        out, rejected = tmp_path / "d.jsonl", tmp_path / "r.jsonl"
        status, _, err = run(capsys, "evaluate", str(path), "--as-of", "2014-03-31",
                             "--format", "json", "--workers", workers, "--output", str(out),
                             "--rejections", str(rejected), *extra)  # fmt: skip
        assert status == 1, err
        got.append((out.read_text(), rejected.read_text()))
        decided = [json.loads(line)["family_id"] for line in out.read_text().splitlines()]
        assert decided == ["F1", "F2"]
        assert "family_id 'F2' was already given on line 3" in err
    assert got[0] == got[1]


@pytest.mark.parametrize("name", ["t.txt", "t", "t.tsv"])
def test_format_table_with_an_output_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """``--format table --output t.txt`` wrote JSON Lines: a name saying no format took the
    default file format, ignoring the table asked for (a .csv, .xlsx or .jsonl name decides)."""
    source = write_lines(tmp_path / "f.jsonl", [good("G1")])
    target = tmp_path / name
    status, out, err = run(
        capsys, "evaluate", str(source), "--as-of", "2014-01-01", "--format", "table",
        "--output", str(target),
    )  # fmt: skip
    assert (status, out) == (2, "")
    assert err.startswith(f"pbr: cannot write {target}: --format table is the table for the")
    assert "name it .csv, .xlsx or .jsonl" in err
    assert not target.exists()
    status, out, _ = run(capsys, "evaluate", str(source), "--as-of", "2014-01-01")
    assert status == 0
    assert out.startswith("family")  # the table is still the default
    status, out, _ = run(
        capsys, "evaluate", str(source), "--as-of", "2014-01-01", "--format", "table",
        "--output", "-",
    )  # fmt: skip
    assert status == 0  # standard output is no file named for a format


@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_format_table_to_standard_output_is_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """``--format table --output -`` wrote JSON Lines to standard output, not the table asked
    for. The table goes there, as without ``--output``; the summary to standard error, as with
    any ``--output``."""
    source = write_lines(tmp_path / "f.jsonl", [good("G1"), good("G2")])
    asked = ("evaluate", str(source), "--as-of", "2014-01-01", "--format", "table")
    _, out, _ = run(capsys, *asked)
    table = out.split("\n\n", 1)[0]
    assert table.startswith("family")
    status, out, err = run(capsys, *asked, "--output", name)
    assert status == 0
    assert out.split("\n\n", 1)[0] == table
    assert "payable now" in err
    assert "payable now" not in out


@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_output_to_standard_output_is_json_lines_without_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """``--output -`` printed the table (the help: JSON Lines with --output) and then said
    "decisions written to -"."""
    source = write_lines(tmp_path / "f.jsonl", [good("G1"), good("G2")])
    status, out, err = run(capsys, "evaluate", str(source), "--as-of", "2014-01-01",
                           "--output", name)  # fmt: skip
    assert status == 0
    assert [json.loads(line)["family_id"] for line in out.splitlines()] == ["G1", "G2"]
    assert "payable now" in err
    assert err.endswith("decisions written to standard output\n")


def test_format_table_to_another_descriptor_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table goes only to standard output: to ``/dev/fd/N`` it was written as JSON Lines."""
    source = write_lines(tmp_path / "f.jsonl", [good("G1")])
    with (tmp_path / "three").open("w") as three:
        name = f"/dev/fd/{three.fileno()}"
        status, out, err = run(
            capsys, "evaluate", str(source), "--as-of", "2014-01-01", "--format", "table",
            "--output", name,
        )  # fmt: skip
    assert (status, out) == (2, "")
    assert err.startswith(f"pbr: cannot write {name}: --format table is the table for the")
    assert "written only to standard output" in err
    assert (tmp_path / "three").read_text() == ""
