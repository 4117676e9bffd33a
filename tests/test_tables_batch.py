"""Council tables in and out, the batch API, the process pool, Dask, and atomic outputs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import pbr
from pbr.batch import evaluate_partition
from pbr.output import atomic_writer, write_decisions
from pbr.tables import TABLES, read_tables, write_tables, write_templates

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = date(2023, 3, 31)


def example_families() -> list[pbr.Family]:
    found = []
    for name in ("families.jsonl", "mixed-programmes.jsonl"):
        for item in pbr.read_records(EXAMPLES / name):
            assert isinstance(item, pbr.Family)
            found.append(item)
    return found


def dumps(decisions: object) -> list[str]:
    out = []
    for d in decisions:  # type: ignore[attr-defined]
        assert isinstance(d, pbr.Decision), d
        out.append(d.model_dump_json())
    return out


@pytest.fixture(scope="module")
def plain() -> list[str]:
    return dumps(pbr.evaluate_many(example_families(), as_of=AS_OF))


def test_round_trips_csv_folder_and_xlsx_give_identical_decisions(
    tmp_path: Path, plain: list[str]
) -> None:
    families = example_families()
    for dest in (tmp_path / "tables", tmp_path / "book.xlsx"):
        write_tables(families, dest)
        read = read_tables(dest)
        back = list(read.families())
        assert back == families
        assert dumps(pbr.evaluate_many(back, as_of=AS_OF)) == plain
        assert read.reconciliation.balanced()
        assert read.problems == []


def test_process_pool_gives_the_same_decisions_in_order(plain: list[str]) -> None:
    lines = [f.model_dump_json() for f in example_families()]
    pooled = dumps(pbr.evaluate_many(lines, as_of=AS_OF, workers=2, chunk_size=7))
    assert pooled == plain


def test_dask_bag_gives_the_same_decisions(tmp_path: Path, plain: list[str]) -> None:
    dask_bag = pytest.importorskip("dask.bag")
    lines = [f.model_dump_json() for f in example_families()]
    for i in range(3):  # three partitions, as a national run has one file per council
        (tmp_path / f"part{i}.jsonl").write_text("\n".join(lines[i::3]) + "\n")
    bag = dask_bag.read_text(str(tmp_path / "part*.jsonl")).map_partitions(
        evaluate_partition, AS_OF
    )
    got = bag.compute(scheduler="processes", num_workers=2)
    by_family = {json.loads(x)["family_id"]: x for x in got}
    assert sorted(by_family.values()) == sorted(plain)


def bad_rows_folder(tmp_path: Path) -> Path:
    """The example families as tables, then bad rows of every kind added."""
    folder = tmp_path / "bad"
    write_tables(example_families()[:10], folder)

    def add(table: str, *rows: list[str]) -> None:
        with open(folder / f"{table}.csv", "a", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)

    add("members", ["EX-001", "A9", "1980-13-01", "false"])  # bad date
    add("offences", ["EX-002", "NOBODY", "2012-01-01"])  # unknown person (a record-level check)
    add(
        "school_terms",
        ["EX-003", "C1", "2012/13", "autumn", "10", "11", "0", "false", "false", "true"],
    )
    add("benefit_spells", ["EX-004", "A1", "XYZ", "2012-01-01", ""])  # not a benefit
    add("payments", ["EX-005", "attachment_fee", "1.005", "", ""])  # fractional pence
    add("asb_incidents", ["GHOST", "", "2012-01-01", ""])  # no such family
    add("families", ["EX-001", "", "", "2013-01-01", "", ""])  # family repeated
    (folder / "notes.csv").write_text("a,b\n1,2\n")  # not a table
    return folder


def test_a_mixed_good_and_bad_folder_reconciles_exactly(tmp_path: Path) -> None:
    read = read_tables(bad_rows_folder(tmp_path))
    results = list(read.families())
    rec = read.reconciliation
    rejected = {r.family_id for r in results if isinstance(r, pbr.Rejection)}
    assert rejected == {"EX-001", "EX-002", "EX-003", "EX-004", "EX-005"}
    assert rec.families_read == 11  # 10 families and a repeated row
    assert rec.families_rejected == 6
    assert sum(isinstance(r, pbr.Family) for r in results) == 5
    assert rec.balanced()
    for table in rec.rows_read:
        assert rec.rows_read[table] == rec.rows_used.get(table, 0) + rec.rows_reported.get(table, 0)
    assert rec.rows_reported["asb_incidents"] >= 1  # the orphan row
    problems = [  # each family's in its rejection; rows of no family in `problems`
        f"{e.loc} {json.loads(e.value or 'null')!r} {e.message}"
        for r in results
        if isinstance(r, pbr.Rejection)
        for e in r.errors
    ] + [p.describe() for p in read.problems]
    assert any("members:" in p and "'1980-13-01'" in p for p in problems)
    assert any("offences:" in p and "'NOBODY'" in p for p in problems)
    assert any("school_terms:" in p and "unauthorised" in p for p in problems)
    assert any("benefit_spells:" in p and "'XYZ'" in p for p in problems)
    assert any("payments:" in p and "1.005" in p for p in problems)
    assert any("GHOST" in p and "no family" in p for p in problems)
    assert any("notes.csv" in p for p in problems)


@pytest.mark.slow
def test_cli_on_a_folder_and_on_xlsx(tmp_path: Path) -> None:
    folder = bad_rows_folder(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(folder), "--as-of", "2015-03-31"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "Reconciliation of" in out.stdout
    assert "families read 11 = valid 5 + rejected 6" in out.stdout
    book = tmp_path / "good.xlsx"
    write_tables(example_families()[:5], book)
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "pbr.cli",
            "evaluate",
            str(book),
            "--as-of",
            "2015-03-31",
            "--output",
            str(tmp_path / "out.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    rows = list(csv.DictReader((tmp_path / "out.csv").read_text().splitlines()))
    assert len(rows) == 15
    assert rows[0]["amount"] == "700.00"


def test_templates(tmp_path: Path) -> None:
    written = write_templates(tmp_path / "tpl")
    assert {p.name for p in written} == {f"{t}.csv" for t in TABLES} | {"README.md"}
    assert (
        (tmp_path / "tpl" / "members.csv")
        .read_text()
        .startswith("family_id,person_id,date_of_birth")
    )
    read = read_tables(tmp_path / "tpl")
    assert list(read.families()) == []


def test_outputs_are_atomic(tmp_path: Path) -> None:
    target = tmp_path / "decisions.jsonl"

    def boom() -> object:
        yield from pbr.evaluate_many(example_families()[:3], as_of=AS_OF)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_decisions(boom(), target)  # type: ignore[arg-type]
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    target.write_text("old\n")

    def crash() -> None:
        with atomic_writer(target) as handle:
            handle.write("half")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert target.read_text() == "old\n"
    decisions = [
        d
        for d in pbr.evaluate_many(example_families()[:3], as_of=AS_OF)
        if isinstance(d, pbr.Decision)
    ]
    n = write_decisions(decisions, tmp_path / "d.xlsx")
    assert n == 3


@pytest.mark.slow
def test_cli_workers_and_output(tmp_path: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "pbr.cli",
        "evaluate",
        str(EXAMPLES / "families.jsonl"),
        "--as-of",
        "2015-03-31",
        "--format",
        "json",
    ]
    one = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    two = subprocess.run(
        [*args, "--workers", "2"], capture_output=True, text=True, check=True
    ).stdout
    assert one == two
    subprocess.run(
        [*args, "--workers", "2", "--output", str(tmp_path / "d.jsonl")],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "d.jsonl").read_text() == one


def test_to_pandas_keeps_money_exact() -> None:
    from decimal import Decimal

    frame = pbr.to_pandas(
        pbr.evaluate_many(
            [*example_families()[:4], '{"family_id": "BAD"}'], as_of=date(2015, 3, 31)
        )
    )
    assert len(frame) == 13
    assert frame.iloc[-1]["status"] == "rejected"
    assert frame["amount"].iloc[:12].map(type).eq(Decimal).all()


def test_to_pandas_gives_numbers_dates_and_flags_an_analyst_can_use() -> None:
    from pbr.cli import main
    from pbr.forecast._extras import pandas

    pd = pandas()
    records = [*pbr.read_records(EXAMPLES / "families.jsonl"), '{"family_id": "BAD"}']
    frame = pbr.to_pandas(pbr.evaluate_many(records, as_of=date(2015, 3, 31)))
    decided = frame[frame["status"] != "rejected"]
    assert str(frame["eligible"].dtype) == "boolean"
    assert decided["eligible"].sum() == 171  # of 180 rows: a string "false" would count too
    for column in ("as_of", "attached_on", "earliest_date"):
        assert pd.api.types.is_datetime64_any_dtype(frame[column]), column
    assert frame["earliest_date"].isna().any()  # none yet: NaT, not ""
    for column in ("amount_pence", "attachment_fee_pence", "fee_due_pence", "payable_pence"):
        assert str(frame[column].dtype) == "Int64", column
    assert (decided["amount"] * 100).astype(int).tolist() == decided["amount_pence"].tolist()
    # results sum as they are; the family's money once a family; both are the CLI's totals
    families = decided.drop_duplicates("family_id")
    assert decided["amount_pence"].sum() == families["payable_pence"].sum() == 5_240_000
    assert families["fee_due_pence"].sum() == 13_840_000  # ineligible families' fees not counted
    rejected = frame.iloc[-1]
    assert (rejected["source"], rejected["rejection"]) == (
        "<input>",
        "attached_on: missing; members: missing",
    )
    assert main(["evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31"]) == 0


def test_to_pandas_rejections_keep_their_council_and_pounds_names_each_column_once() -> None:
    from pbr.forecast import pounds

    records = [
        *pbr.read_records(EXAMPLES / "families.jsonl"),
        '{"family_id": "BAD", "local_authority": "Sampleton"}',
    ]
    answers = list(pbr.evaluate_many(records, as_of=date(2015, 3, 31)))
    frame = pbr.to_pandas(answers)
    rejected = frame[frame["status"] == "rejected"]
    assert rejected["local_authority"].tolist() == ["Sampleton"]  # as pbr.Totals counts it
    totals = pbr.Totals()
    for answer in answers:
        if isinstance(answer, pbr.Rejection):
            totals.reject(answer)
        else:
            totals.add(answer)
    assert totals.councils["Sampleton"].families_rejected == 1
    view = pounds(frame)
    assert view.columns.is_unique  # `amount` and `amount_pence` made two columns `amount`
    assert view["amount"].sum() == pytest.approx(frame["amount_pence"].sum() / 100)
    row = pounds(frame.iloc[0])
    assert row["amount"] == frame.iloc[0]["amount_pence"] / 100


def test_to_pandas_gives_a_rejection_its_record_number_when_its_line_is_unknown(
    tmp_path: Path,
) -> None:
    """A family read fine but outside every programme had source '<input>' and no line: no way
    to find it. Its record number (1-based, as `Rejection.record`) is a column of its own."""
    path = tmp_path / "families.jsonl"
    outside = (
        '{"family_id": "OLD", "attached_on": "2011-01-01", '
        '"members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]}'
    )
    lines = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:2], outside, *lines[2:]]) + "\n", encoding="utf-8")
    frame = pbr.to_pandas(pbr.evaluate_many(pbr.read_records(path), as_of=date(2015, 3, 31)))
    rejected = frame[frame["status"] == "rejected"]
    assert rejected["family_id"].tolist() == ["OLD"]
    assert rejected["line"].isna().all()  # a `Family` object carries no line
    assert rejected["record"].tolist() == [3]
    assert str(frame["record"].dtype) == "Int64"
    assert frame.loc[frame["status"] != "rejected", "record"].isna().all()  # decisions: NA
    columns = list(frame.columns)
    assert columns[columns.index("line") + 1] == "record"


def test_to_pandas_refuses_what_is_not_a_decision() -> None:
    with pytest.raises(TypeError, match="evaluate first"):
        pbr.to_pandas(example_families()[:1])  # type: ignore[arg-type]


@pytest.mark.parametrize("workers", [1, 2])
def test_json_path_matches_the_decisions(workers: int, plain: list[str]) -> None:
    from pbr.batch import Evaluated, evaluate_many_json

    got = list(evaluate_many_json(example_families(), as_of=AS_OF, workers=workers, chunk_size=9))
    assert all(isinstance(g, Evaluated) for g in got)
    assert [g[3] for g in got if isinstance(g, Evaluated)] == plain


def test_explain_reads_tables_too(tmp_path: Path) -> None:
    write_tables(example_families()[:3], tmp_path / "t")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pbr.cli",
            "explain",
            str(tmp_path / "t"),
            "EX-002",
            "--as-of",
            "2015-03-31",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Working paper: family EX-002 as of 2015-03-31")


def test_explain_says_when_rows_name_a_family_that_families_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows of other tables naming a family with no row in families: said, not just "no family"."""
    import openpyxl

    from pbr.cli import main

    folder, book = tmp_path / "t", tmp_path / "book.xlsx"
    for dest in (folder, book):
        write_tables(example_families()[:3], dest)
    gone = "EX-002"
    lines = (folder / "families.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "families.csv").write_text(
        "".join(line for line in lines if not line.startswith(gone + ",")), encoding="utf-8"
    )
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["families"]
    sheet.delete_rows(next(row[0].row for row in sheet.iter_rows() if row[0].value == gone))
    workbook.save(book)
    tables = [
        t for t in sorted(TABLES) if t != "families" and gone in (folder / f"{t}.csv").read_text()
    ]
    assert "members" in tables
    for dest, files, families in (
        (folder, [f"{t}.csv" for t in tables], "families.csv"),
        (book, [f"sheet {t}" for t in tables], "sheet families"),
    ):
        day = ["--as-of", "2015-03-31"]
        assert main(["explain", str(dest), gone, *day]) == 2
        named = " and ".join([", ".join(files[:-1]), files[-1]] if len(files) > 1 else files)
        assert capsys.readouterr().err == (
            f"pbr: no family {gone!r} in {dest}: rows in {named} name it, but {families} has none\n"
        )
        assert main(["explain", str(dest), "NOPE", *day]) == 2  # named nowhere: as before
        assert capsys.readouterr().err == f"pbr: no family 'NOPE' in {dest}\n"


def test_a_pool_stops_even_under_a_server_sigterm_handler(tmp_path: Path) -> None:
    """Workers reset SIGTERM: stopping a pool early never waits on a worker that ignores it."""
    script = tmp_path / "stop.py"
    script.write_text(
        "import json, signal\n"
        "from datetime import date\n"
        "import pbr\n"
        "signal.signal(signal.SIGTERM, lambda *a: None)\n"
        "row = {'family_id': 'F', 'attached_on': '2012-10-15',\n"
        "       'members': [{'person_id': 'A1', 'date_of_birth': '1980-01-01'}]}\n"
        "rows = [json.dumps({**row, 'family_id': f'F{i}'}) for i in range(50)]\n"
        "run = pbr.evaluate_many(rows, as_of=date(2015, 3, 31), workers=2, chunk_size=5)\n"
        "next(run)\n"
        "run.close()\n"
        "print('stopped')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "stopped", done.stderr


def test_a_folder_without_a_families_table_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main
    from pbr.io import UnreadableFile

    folder = tmp_path / "council"
    folder.mkdir()
    (folder / "members.csv").write_text("family_id,person_id,date_of_birth,expectant\n")
    with pytest.raises(UnreadableFile, match=r"no families\.csv"):
        read_tables(folder)
    for argv in (["evaluate", str(folder)], ["explain", str(folder), "F1"]):
        assert main([*argv, "--as-of", "2015-03-31"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"pbr: cannot read {folder}: no families.csv, so no families")
    write_templates(folder)  # the empty tables: no families, but no error either
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 2
    assert capsys.readouterr().err == f"pbr: no records in {folder}\n"


def test_bad_bytes_and_cells_past_the_header_are_reported_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    folder = tmp_path / "council"
    families = [
        pbr.Family.model_validate(
            {
                "family_id": f"F{i}",
                "attached_on": "2012-10-15",
                "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
            }
        )
        for i in (1, 2, 3)
    ]
    write_tables(families, folder)
    members = (folder / "members.csv").read_bytes().splitlines()
    members[1] += b",EXTRA,MORE"  # F1: two cells past the header
    members[2] = members[2].replace(b"A1", b"A\xff1")  # F2: a byte that is not UTF-8
    (folder / "members.csv").write_bytes(b"\n".join(members) + b"\n")
    with open(folder / "offences.csv", "ab") as handle:
        handle.write(b"\xff\xfe,A1,2013-01-01\n")  # a row for no family, its id unreadable
    status = main(["evaluate", str(folder), "--as-of", "2013-06-30", "--format", "json"])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert [json.loads(line)["family_id"] for line in out.splitlines()] == ["F3"]
    assert 'members:2.(beyond the header) = "EXTRA,MORE": more cells than the header' in err
    assert "members:3.person_id" in err
    assert 'members:3.person_id = "A\ufffd1": byte ff is not UTF-8 (Windows-1252, perhaps)' in err
    assert "offences:2.family_id" in err
    assert "unexpected error" not in err


def test_a_blank_required_cell_is_shown_blank(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    folder = tmp_path / "council"
    family = {
        "family_id": "F1",
        "attached_on": "2012-10-15",
        "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    }
    write_tables([pbr.Family.model_validate(family)], folder)
    text = (folder / "families.csv").read_text().replace("2012-10-15", "")
    (folder / "families.csv").write_text(text)
    assert main(["evaluate", str(folder), "--as-of", "2013-06-30"]) == 2
    err = capsys.readouterr().err
    assert "families:2.attached_on: missing" in err  # as a missing field from JSON
    assert "{'family_id'" not in err
    (rejection,) = read_tables(folder).families()
    assert isinstance(rejection, pbr.Rejection)
    assert [(e.loc, e.type, e.value) for e in rejection.errors] == [
        ("families:2.attached_on", "missing", None)
    ]


def test_a_table_rejection_names_rows_not_a_line_of_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    folder = tmp_path / "tables"
    write_tables(example_families()[:3], folder)
    rows = (folder / "members.csv").read_text().splitlines()
    second = next(i for i, r in enumerate(rows) if r.startswith(("EX-002,",)))
    cells = rows[second].split(",")
    cells[2] = "1x80-06-14"
    rows[second] = ",".join(cells)
    (folder / "members.csv").write_text("\n".join(rows) + "\n")
    rejected = [f for f in read_tables(folder).families() if isinstance(f, pbr.Rejection)]
    assert [(r.line, r.record, r.family_id) for r in rejected] == [(None, 2, "EX-002")]
    assert rejected[0].errors[0].loc == f"members:{second + 1}.date_of_birth"
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 1  # some rejected
    assert f"{folder} (record 2), family 'EX-002': members:{second + 1}." in capsys.readouterr().err


def test_a_row_of_no_family_is_named_by_its_table_row_alone(tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    write_tables(example_families()[:1], folder)
    with (folder / "members.csv").open("a") as handle:
        handle.write("NOBODY,B1,1980-01-01,false\n")
    read = read_tables(folder)
    assert all(isinstance(f, pbr.Family) for f in read.families())
    (orphan,) = read.unplaced()
    assert (orphan.line, orphan.record, orphan.family_id) == (None, 0, "NOBODY")
    assert orphan.describe().startswith(f"{folder}, family 'NOBODY': members:")


def test_to_pandas_rows_are_the_long_csv_s_rows_typed() -> None:
    """Each row holds what the CSV's row says, read back: money, pence, flags, dates, codes."""
    from decimal import Decimal

    from pbr.output import MONEY_COLUMNS, RESULT_COLUMNS, result_rows

    decisions = [
        d
        for d in pbr.evaluate_many(
            [*example_families(), *pbr.read_records(EXAMPLES / "mixed-programmes.jsonl")],
            as_of=date(2016, 3, 31),
        )
        if isinstance(d, pbr.Decision)
    ]
    decisions.append(  # money not written to two places: the CSV writes it with two
        decisions[0].model_copy(update={"payable": Decimal("800"), "cap": Decimal("4E+3")})
    )
    frame = pbr.to_pandas(decisions)
    rows = [row for d in decisions for row in result_rows(d)]
    assert len(frame) == len(rows) > 100
    for (_, got), row in zip(frame.iterrows(), rows, strict=True):
        for column in RESULT_COLUMNS:
            value = got[column]
            if column in MONEY_COLUMNS:
                assert type(value) is Decimal
                assert str(value) == row[column], column
                assert got[f"{column}_pence"] == int(Decimal(row[column]) * 100), column
            elif column in ("as_of", "attached_on", "earliest_date"):
                shown = "" if value is None or value != value else value.date().isoformat()
                assert shown == row[column], column
            elif column == "eligible":
                assert bool(value) == (row[column] == "true")
            elif column in ("local_authority", "outcome_plan"):
                assert (value if isinstance(value, str) else "") == row[column]
            else:
                assert str(value) == row[column], column
