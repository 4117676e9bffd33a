"""Council tables that once read wrong without a word: a stray quote, a header, a file's name.

A tester's findings: a quote left open in one CSV row swallowed the next family's rows (that
family paid on part of its evidence); a column named twice kept its last value; a workbook's
spacer column shifted every later column; ``payments.CSV`` was ignored; a formula with no saved
value read as empty and ``#N/A`` as text; `write_tables` did not read back; odd files in the
folder raised or hung; a missing column was called an empty cell.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pbr
import pbr.testing
from pbr.cli import main
from pbr.io import UnreadableFile
from pbr.tables import TableInput, read_tables, table_files, write_tables, write_templates
from tests.builders import tableable

FAMILIES = "family_id,attached_on,identified_for\n"
TF = "2013-05-01,crime_asb;education;work\n"


def folder_of(tmp_path: Path, **tables: str) -> Path:
    """A folder holding each table's text (file name: the key, ``.csv`` added), its header whole.

    A test names only the columns it is about: the table's others are added to the header, each
    row given an empty cell for them (`completed`), as a header must have every column.
    """
    folder = tmp_path / "council"
    folder.mkdir(exist_ok=True)
    for name, text in tables.items():
        file = name if "." in name else f"{name}.csv"
        (folder / file).write_text(completed(Path(file).stem, text), newline="")
    return folder


def _left_out(table: str, header: list[str]) -> list[str]:
    """The columns of `table` a header leaves out, if it is a table's with a family_id column."""
    from pbr.tables import TABLES, columns

    if table.lower() not in TABLES or "family_id" not in [h.strip() for h in header]:
        return []
    named = {h.strip() for h in header}
    return [c for c in columns(table.lower()) if c not in named]


def _cells_in(line: str) -> int:
    """How many cells a CSV reader finds on a line with quotes (0 if it cannot read it)."""
    import csv

    try:
        return len(next(csv.reader([line]), []))
    except csv.Error:  # a field past the reader's limit
        return 0


def completed(table: str, text: str) -> str:
    """A CSV table's text with the columns its header leaves out added after its last column.

    Each row as long as the header (or longer: its cells past the header stay past it) gets an
    empty cell for each, "not recorded"; a shorter row, or one whose quotes make its cells
    uncertain, is kept as written, still short of the header.
    """
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    width = len(lines[0].rstrip("\r\n").split(","))
    added = _left_out(table, lines[0].rstrip("\r\n").split(","))
    if not added:
        return text
    out = []
    for number, line in enumerate(lines):
        content = line.rstrip("\r\n")
        end = line[len(content) :]
        if number == 0:
            out.append(",".join([content, *added]) + end)
            continue
        if content and '"' not in content:
            cells = content.split(",")
            if len(cells) >= width:
                content = ",".join([*cells[:width], *[""] * len(added), *cells[width:]])
        elif content and _cells_in(content) == width:
            content += "," * len(added)
        out.append(content + end)
    return "".join(out)


def two_families(payments: str) -> dict[str, str]:
    return {
        "families": f"{FAMILIES}F1,{TF}F2,{TF}",
        "members": "family_id,person_id,date_of_birth\nF1,A1,1984-03-12\nF2,A1,1984-03-12\n",
        "employment_spells": "family_id,person_id,start\nF1,A1,2013-06-03\nF2,A1,2013-06-03\n",
        "payments": "family_id,kind,amount,paid_on,claim_id\n" + payments,
    }


def read_all(read: TableInput) -> tuple[dict[str, Any], dict[str, tuple[str, str | None, str]]]:
    """The families read (by family_id) and every error: loc to (type, value, message)."""
    found = list(read.families())
    families = {f.family_id: f for f in found if isinstance(f, pbr.Family)}
    errors = {  # a value is shown as JSON text: as written here
        e.loc: (e.type, _written(e.value), e.message)
        for r in [*found, *read.unplaced()]
        if isinstance(r, pbr.Rejection)
        for e in r.errors
    }
    return families, errors


def _written(value: str | None) -> str | None:
    """An error's value as written (it is shown as JSON text, cut at 80 characters)."""
    try:
        return None if value is None else str(json.loads(value))
    except ValueError:
        return value


# 1. a stray quote spoils its own row only


def test_an_unclosed_quote_spoils_its_row_only_never_the_next_familys(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path,
        **two_families(
            'F1,attachment_fee,2400.00,2013-06-01,"CL-1\n'
            "F2,continuous_employment,1600.00,2014-01-10,CL-2\n"
        ),
    )
    read = read_tables(folder)
    families, errors = read_all(read)
    kind, value, why = errors["payments:2.claim_id"]
    assert (kind, value) == ("stray_quote", '"CL-1')
    assert "lines 2–3" in why
    assert "each line is read as a row of its own" in why
    assert "space" not in why
    assert list(families) == ["F2"]  # with its own payment, read from line 3
    assert [(p.kind, p.amount) for p in families["F2"].payments] == [
        ("continuous_employment", Decimal("1600.00"))
    ]
    assert read.reconciliation.rows_read["payments"] == 2
    assert read.reconciliation.balanced()


def test_a_quote_closed_lines_later_names_the_lines_it_would_join(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path,
        families=f'{FAMILIES}F1,{TF}"F2,{TF}F3,{TF}F4",{TF}F5,{TF}',
        members="family_id,person_id,date_of_birth\n"
        + "".join(f"F{i},A1,1984-03-12\n" for i in range(1, 6)),
    )
    read = read_tables(folder)
    families, errors = read_all(read)
    assert "over lines 3–5" in errors["families:3.family_id"][2]
    assert errors["families:5.family_id"][0] == "stray_quote"  # the quote that closes it
    assert sorted(families) == ["F1", "F3", "F5"]
    assert read.reconciliation.families_read == 5  # in the order of the file
    assert read.reconciliation.balanced()


@pytest.mark.parametrize(
    ("cell", "why"),
    [('"2400".00', 'write "2400.00", or 2400.00'), ('24"00', "a stray quote")],
)
def test_text_after_a_closing_quote_or_inside_a_value_is_a_problem(
    tmp_path: Path, cell: str, why: str
) -> None:
    folder = folder_of(
        tmp_path,
        **two_families(
            f"F1,attachment_fee,{cell},2013-06-01,CL-1\nF2,attachment_fee,2400.00,2013-06-01,CL-2\n"
        ),
    )
    families, errors = read_all(read_tables(folder))
    assert list(families) == ["F2"]
    kind, value, message = errors["payments:2.amount"]
    assert (kind, value) == ("stray_quote", cell)
    assert why in message
    assert len([loc for loc in errors if loc.startswith("payments:2")]) == 1  # nothing else


def test_a_quoted_value_with_commas_and_quotes_reads_as_the_csv_standard_says(
    tmp_path: Path,
) -> None:
    folder = folder_of(
        tmp_path,
        families='family_id,local_authority,attached_on,identified_for\n"F1","Bury, ""North""",'
        + TF.replace("crime_asb", '"crime_asb').replace("work\n", 'work"\r\n'),
        members="family_id,person_id,date_of_birth\r\nF1,A1,1984-03-12\r\n",
    )
    families, errors = read_all(read_tables(folder))
    assert errors == {}
    assert families["F1"].local_authority == 'Bury, "North"'


def test_a_cell_longer_than_a_csv_readers_limit_is_a_row_problem(tmp_path: Path) -> None:
    long = "x" * 140_000
    folder = folder_of(
        tmp_path,
        families=f"family_id,local_authority,attached_on,identified_for\nF1,{long},{TF}F2,Bury,{TF}",
        members="family_id,person_id,date_of_birth\nF1,A1,1984-03-12\nF2,A1,1984-03-12\n",
    )
    read = read_tables(folder)
    families, errors = read_all(read)
    assert list(families) == ["F2"]
    assert "families:2.local_authority" in errors
    assert read.reconciliation.balanced()


def test_the_cli_never_shows_a_csv_readers_field_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_of(
        tmp_path,
        families=f'{FAMILIES}F1,{TF}"{"y" * 140_000}\n',
        members="family_id,person_id,date_of_birth\nF1,A1,1984-03-12\n",
    )
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 1
    assert "unexpected" not in capsys.readouterr().err


# 2. a column named twice


@pytest.mark.parametrize("header", ["start,end,end", "start,end,end ", "start, end,end"])
def test_a_column_named_twice_stops_the_run_naming_both(
    tmp_path: Path, header: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = two_families("")
    tables["employment_spells"] = (
        f"family_id,person_id,{header}\nF1,A1,2013-06-03,,2013-07-01\nF2,A1,2013-06-03,,\n"
    )
    folder = folder_of(tmp_path, **tables)
    with pytest.raises(UnreadableFile, match=r"'end' twice \(columns 4 \(D\) and 5 \(E\)\)"):
        read_tables(folder)
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "employment_spells.csv" in err
    assert "twice" in err


def test_a_sheet_naming_a_column_twice_stops_the_run(tmp_path: Path) -> None:
    book = workbook(
        tmp_path,
        employment_spells=[
            ["family_id", "person_id", "start", "end", "end"],
            ["F1", "A1", "2013-06-03", None, "2013-07-01"],
        ],
    )
    with pytest.raises(UnreadableFile, match=r"sheet employment_spells.*'end' twice"):
        read_tables(book)


# 3. a column with no name


def sheet_completed(name: str, rows: list[list[Any]]) -> list[list[Any]]:
    """A sheet's rows with the columns its header leaves out added after its last column.

    A row's cells past the header stay past it (`completed`, for a sheet).
    """
    if not rows:
        return rows
    added = _left_out(name, [str(h) for h in rows[0] if h is not None])
    if not added:
        return rows
    width = len(rows[0])
    return [
        [*rows[0], *added],
        *(
            [*r[:width], *[None] * len(added), *r[width:]] if len(r) > width else r
            for r in rows[1:]
        ),
    ]


def workbook(tmp_path: Path, *, merge: str | None = None, **sheets: list[list[Any]]) -> Path:
    """A workbook of these sheets (``families`` and ``members`` added when not given).

    `merge` (``payments!A2:A3``) merges a range of a sheet, as Excel does: the value of its
    top-left cell kept, the others emptied.
    """
    openpyxl = pytest.importorskip("openpyxl")
    sheets = {
        "families": [FAMILIES.strip().split(","), ["F1", *TF.strip().split(",")]],
        "members": [["family_id", "person_id", "date_of_birth"], ["F1", "A1", "1984-03-12"]],
        **sheets,
    }
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in sheet_completed(name, rows):
            sheet.append(row)
    if merge is not None:
        name, _, cells = merge.partition("!")
        book[name].merge_cells(cells)
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path


SPACER: list[list[Any]] = [
    ["family_id", "kind", "amount", None, "paid_on", "claim_id"],
    ["F1", "attachment_fee", "2400.00", None, "2013-06-01", "CL-1"],
    ["F1", "continuous_employment", "1600.00", "note", "2014-01-10", "CL-2"],
]


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_column_with_no_name_keeps_every_columns_place(tmp_path: Path, form: str) -> None:
    if form == "xlsx":
        path = workbook(tmp_path, payments=SPACER)
    else:
        path = folder_of(
            tmp_path,
            families=f"{FAMILIES}F1,{TF}",
            members="family_id,person_id,date_of_birth\nF1,A1,1984-03-12\n",
            payments="".join(",".join(c or "" for c in row) + "\n" for row in SPACER),
        )
    families, errors = read_all(read_tables(path))
    assert families == {}
    kind, value, why = errors["payments:3.(column 4)"]
    assert (kind, value) == ("unnamed_column", "note")
    assert why.startswith("column 4 (D) has no name in the header")
    assert [loc for loc in errors if loc.startswith("payments")] == ["payments:3.(column 4)"]


def test_csv_and_workbook_read_the_same_tables_the_same(tmp_path: Path) -> None:
    rows: dict[str, list[list[Any]]] = {
        "families": [
            ["family_id", None, "attached_on", "identified_for"],
            ["F1", None, "2013-05-01", "crime_asb;education;work"],
            ["F2", "x", "2013-05-01", "crime_asb;education;work"],
        ],
        "members": [
            ["family_id", "person_id", " date_of_birth "],
            ["F1", "A1", "1984-03-12"],
            ["F2", "A1", "1984-03-12"],
        ],
        "payments": SPACER,
    }
    book = workbook(tmp_path, families=rows["families"], members=rows["members"], payments=SPACER)
    folder = folder_of(
        tmp_path,
        **{
            name: "".join(",".join(c or "" for c in row) + "\n" for row in table)
            for name, table in rows.items()
        },
    )
    csv_read, book_read = read_all(read_tables(folder)), read_all(read_tables(book))
    assert csv_read == book_read
    assert "families:3.(column 2)" in csv_read[1]


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_family_given_again_in_families_names_its_first_row(
    tmp_path: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read whole, by `pbr evaluate` (each row validated where it is evaluated, by one process
    or a pool) and with a ledger: each repeat names the family's first row, not the last."""
    rows = [[f, *TF.strip().split(",")] for f in ("F2", "F1", "F2", "F2")]
    members = "family_id,person_id,date_of_birth\nF1,A1,1984-03-12\nF2,A1,1984-03-12\n"
    if form == "xlsx":
        path = workbook(
            tmp_path,
            families=[FAMILIES.strip().split(","), *rows],
            members=[line.split(",") for line in members.splitlines()],
        )
    else:
        text = FAMILIES + "".join(",".join(row) + "\n" for row in rows)
        path = folder_of(tmp_path, families=text, members=members)
    why = "family_id 'F2' was already given on line 2 of families"
    _, errors = read_all(read_tables(path))
    assert {loc: e for loc, e in errors.items() if e[0] == "duplicate_family"} == {
        "families:4.family_id": ("duplicate_family", "F2", why),
        "families:5.family_id": ("duplicate_family", "F2", why),
    }
    ledger = tmp_path / "ledger.db"
    from pbr.ledger import Entry, Ledger

    Ledger(ledger).append(
        [Entry("F1", "attachment_fee", Decimal("4000.00"), date(2013, 6, 1), "C-1", "v1")]
    )
    for options in (["--workers", "1"], ["--workers", "2"], ["--ledger", str(ledger)]):
        assert main(["evaluate", str(path), "--as-of", "2015-03-31", *options]) == 1
        err = capsys.readouterr().err
        assert f'families:4.family_id = "F2": {why}' in err, options
        assert f'families:5.family_id = "F2": {why}' in err, options


# 4. a table's file name


def test_a_table_file_with_an_upper_case_suffix_is_read(tmp_path: Path) -> None:
    tables = two_families("")
    spells = tables.pop("employment_spells")
    tables["employment_spells.CSV"] = spells.replace("2013-06-03\n", "2013-06-03,2013-07-01\n", 1)
    tables["employment_spells.CSV"] = (
        tables["employment_spells.CSV"]
        .replace("start\n", "start,end\n")
        .replace("F2,A1,2013-06-03\n", "F2,A1,2013-06-03,\n")
    )
    folder = folder_of(tmp_path, **tables)
    assert table_files(folder)["employment_spells"].name == "employment_spells.CSV"
    families, errors = read_all(read_tables(folder))
    assert errors == {}
    assert families["F1"].employment_spells[0].end is not None


def test_two_files_for_one_table_stop_the_run_naming_both(tmp_path: Path) -> None:
    tables = two_families("")
    tables["payments.CSV"] = tables["payments"]
    folder = folder_of(tmp_path, **tables)
    with pytest.raises(UnreadableFile, match=r"payments.CSV and payments.csv|payments.csv and"):
        read_tables(folder)


def test_a_table_name_in_another_case_is_that_table(tmp_path: Path) -> None:
    """``Payments.csv`` was an unknown table: every family evaluated without its payments."""
    tables = two_families("F1,continuous_employment,800.00,2014-01-10,CL-1\n")
    tables["Payments.csv"] = tables.pop("payments")
    folder = folder_of(tmp_path, **tables)
    assert table_files(folder)["payments"].name == "Payments.csv"
    families, errors = read_all(read_tables(folder))
    assert errors == {}
    assert [p.claim_id for p in families["F1"].payments] == ["CL-1"]
    tables["PAYMENTS.CSV"] = tables["Payments.csv"]
    folder = folder_of(tmp_path, **tables)
    with pytest.raises(UnreadableFile, match=r"two files for the table payments, PAYMENTS.CSV and"):
        read_tables(folder)


def test_a_sheet_name_in_another_case_is_that_table(tmp_path: Path) -> None:
    payments = [
        ["family_id", "kind", "amount", "paid_on", "claim_id"],
        ["F1", "continuous_employment", "800.00", "2014-01-10", "CL-1"],
    ]
    families, errors = read_all(read_tables(workbook(tmp_path, Payments=payments)))
    assert errors == {}
    assert [p.claim_id for p in families["F1"].payments] == ["CL-1"]
    # Excel refuses two sheets named alike, openpyxl renames one: another tool may write them
    book = renamed(workbook(tmp_path, Payments=payments, other=payments), "other", "payments")
    with pytest.raises(UnreadableFile, match=r"two sheets for the table payments, Payments and"):
        read_tables(book)


def renamed(path: Path, sheet: str, name: str) -> Path:
    """A copy of the workbook at `path` with a sheet renamed as openpyxl would not name it."""
    return rewritten(
        path, "xl/workbook.xml", lambda xml: xml.replace(f'name="{sheet}"', f'name="{name}"')
    )


def rewritten(path: Path, member: str, fix: Any) -> Path:
    """A copy of the workbook at `path` with the XML of one of its files changed by `fix`."""
    import zipfile

    made = path.with_name(f"changed-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(made, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                data = fix(data.decode()).encode()
            target.writestr(info, data)
    return made


# 5. formulas with no saved value, Excel errors


def test_a_formula_with_no_saved_value_and_an_excel_error_are_cell_problems(
    tmp_path: Path,
) -> None:
    book = workbook(
        tmp_path,
        families=[
            ["family_id", "local_authority", "attached_on", "identified_for"],
            ["F1", "#N/A", "2013-05-01", "crime_asb;education;work"],
            ["F2", "Bury", "2013-05-01", "crime_asb;education;work"],
        ],
        members=[
            ["family_id", "person_id", "date_of_birth"],
            ["F1", "A1", "1984-03-12"],
            ["F2", "A1", "1984-03-12"],
        ],
        employment_spells=[
            ["family_id", "person_id", "start", "end"],
            ["F2", "A1", "2013-06-03", "=DATE(2013,7,1)"],
        ],
    )
    families, errors = read_all(read_tables(book))
    assert families == {}
    assert errors["families:2.local_authority"][:2] == ("excel_error", "#N/A")
    assert "an Excel error (#N/A)" in errors["families:2.local_authority"][2]
    kind, _, why = errors["employment_spells:2.end"]
    assert kind == "formula_no_value"
    assert why.startswith("a formula with no saved value: open and save the workbook in Excel")


# 6. write_tables, then read_tables: the same families


ODD_TEXT = st.sampled_from(["-F1", "'Quoted", "=cmd", "''x", "+1", "@a", "'-12.50", "-12.50"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    families=st.lists(
        pbr.testing.families(max_events=2),
        min_size=1,
        max_size=3,
        unique_by=lambda f: f.family_id,
    ),
    odd=st.lists(ODD_TEXT, min_size=3, max_size=3),
    form=st.sampled_from(["folder", "book.xlsx"]),
)
def test_tables_written_read_back_as_the_same_families(
    families: list[pbr.Family], odd: list[str], form: str
) -> None:
    import tempfile

    pytest.importorskip("openpyxl")
    ids = {f.family_id for f in families}
    first = families[0]
    usable = re.fullmatch("[A-Za-z0-9._-]{1,64}", odd[0]) and odd[0] not in ids
    family_id = odd[0] if usable else first.family_id
    changed = first.model_copy(update={"family_id": family_id, "local_authority": odd[1]})
    families = [pbr.Family.model_validate(changed.model_dump(mode="json")), *families[1:]]
    families = [tableable(f) for f in families]
    with tempfile.TemporaryDirectory() as work:
        dest = Path(work) / form
        write_tables(families, dest)
        read = read_tables(dest)
        assert list(read.families()) == families
        assert read.problems == []


def test_neutralised_text_reads_back_as_written(tmp_path: Path) -> None:
    family = pbr.Family.model_validate(
        {
            "family_id": "-F1",
            "local_authority": "'Quoted",
            "attached_on": "2013-05-01",
            "identified_for": ["crime_asb", "education", "work"],
            "members": [{"person_id": "A1", "date_of_birth": "1984-03-12"}],
            "problems_at_entry": [
                {"problem": "crime_asb", "identified_on": "2013-05-01", "evidence": "=cmd"}
            ],
        }
    )
    for dest in (tmp_path / "t", tmp_path / "t.xlsx"):
        write_tables([family], dest)
        assert list(read_tables(dest).families()) == [family]


# 7. files that are no table file


def odd_file(tmp_path: Path, kind: str) -> Path:
    folder = folder_of(tmp_path, families=f"{FAMILIES}F1,{TF}")
    target = folder / "offences.csv"
    if kind == "dangling link":
        target.symlink_to(folder / "nowhere.csv")
    elif kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    return folder


@pytest.mark.parametrize("kind", ["dangling link", "folder", "fifo"])
def test_a_table_that_is_no_regular_file_is_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    folder = odd_file(tmp_path, kind)
    run = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(folder), "--as-of", "2015-03-31"],
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO once hung for ever
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert "offences.csv" in run.stderr
    assert "unexpected" not in run.stderr


@pytest.mark.parametrize("content", [b"", b"not a zip", "styles"])
def test_a_workbook_that_cannot_be_read_is_one_line_naming_it(
    tmp_path: Path, content: bytes | str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "book.xlsx"
    if content == "styles":
        path = with_styles(tmp_path, b'<cellXfs><xf numFmtId="x"/></cellXfs>')
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    code = main(["evaluate", str(path), "--as-of", "2015-03-31"])
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert "unexpected" not in err
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1
        assert path.name in err


@pytest.mark.parametrize("command", ["evaluate", "explain", "replay", "audit"])
def test_a_workbook_without_openpyxl_is_one_line_saying_what_to_install(
    tmp_path: Path,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every command but ``pbr forecast`` said "unexpected error ... please report it"."""
    examples = Path(__file__).resolve().parents[1] / "examples"
    book = tmp_path / "book.xlsx"
    families = pbr.read_records(examples / "families.jsonl")
    write_tables([f for f in families if isinstance(f, pbr.Family)][:3], book)
    decisions = tmp_path / "d.jsonl"
    assert main(["evaluate", str(book), "--as-of", "2015-03-31", "--output", str(decisions)]) == 0
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # the xlsx extra is not installed
    args = {
        "evaluate": ["evaluate", str(book), "--as-of", "2015-03-31"],
        "explain": ["explain", str(book), "EX-001", "--as-of", "2015-03-31"],
        "replay": ["replay", str(decisions), "--families", str(book)],
        "audit": ["audit", str(examples / "claims.csv"), "--families", str(book)],
    }[command]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == 'pbr: reading XLSX needs openpyxl: pip install "pbr-claims[xlsx]"\n'
    with pytest.raises(ImportError, match=r"^reading XLSX needs openpyxl"):
        read_tables(book)  # from Python, an ImportError still, and a PbrError
    with pytest.raises(pbr.PbrError):
        read_tables(book)


def with_styles(tmp_path: Path, styles: bytes) -> Path:
    """An empty workbook of `write_tables` whose ``xl/styles.xml`` holds `styles` alone."""
    import zipfile

    written, path = tmp_path / "book.xlsx", tmp_path / "b.xlsx"
    write_tables([], written)
    sheet = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/styles.xml":
                data = sheet + styles + b"</styleSheet>"
            out.writestr(info, data)
    return path


def test_a_workbook_without_a_default_style_says_nothing_of_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    read = read_tables(with_styles(tmp_path, b""))
    assert list(read.families()) == []
    assert "default style" not in capfd.readouterr().err


# 8. messages that say what is wrong


def test_a_header_without_a_required_column_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_of(tmp_path, families=f"{FAMILIES}F1,{TF}")
    (folder / "members.csv").write_text("family_id,person_id,dob,expectant\nF1,A1,1984-03-12,\n")
    with pytest.raises(UnreadableFile) as caught:
        read_tables(folder)
    why = str(caught.value)
    assert "the header of members has no column date_of_birth:" in why
    assert "'dob'" in why
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("pbr: ")
    assert "members has no column date_of_birth" in err


def _every_left_out() -> list[tuple[str, str]]:
    """Each table with each of its columns but family_id: the column a header may leave out."""
    from pbr.tables import TABLES, columns

    return [(t, c) for t in TABLES for c in columns(t) if c != "family_id"]


@pytest.mark.parametrize(("table", "column"), _every_left_out())
def test_a_csv_header_without_one_of_its_tables_columns_stops_the_run(
    tmp_path: Path, table: str, column: str
) -> None:
    """A header without ``end`` read every benefit spell as open-ended, without a word: EX-014
    turned eligible and £1,600 more was paid. No column of a table may be left out."""
    from pbr.tables import columns, write_templates

    folder = tmp_path / "council"
    write_templates(folder)
    kept = [c for c in columns(table) if c != column]
    (folder / f"{table}.csv").write_text(",".join(kept) + "\n" + "," * (len(kept) - 1) + "\n")
    with pytest.raises(UnreadableFile) as caught:
        read_tables(folder)
    assert f"the header of {table} has no column {column}:" in str(caught.value)
    assert f"{table}.csv" in str(caught.value)


@pytest.mark.parametrize(("table", "column"), _every_left_out())
def test_a_sheet_header_without_one_of_its_tables_columns_stops_the_run(
    tmp_path: Path, table: str, column: str
) -> None:
    from pbr.tables import TABLES, columns

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in TABLES:
        sheet = book.create_sheet(name.capitalize())
        sheet.append([c for c in columns(name) if (name, c) != (table, column)])
    book.save(tmp_path / "book.xlsx")
    with pytest.raises(UnreadableFile) as caught:
        read_tables(tmp_path / "book.xlsx")
    assert f"sheet {table.capitalize()}: the header of {table} has no column {column}:" in str(
        caught.value
    )


@pytest.mark.parametrize("form", ["council", "council.xlsx"])
def test_tables_with_a_column_left_out_are_refused_not_paid_on(
    tmp_path: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tester's reproduction: ``end`` dropped from benefit_spells, £1,600 more payable."""
    openpyxl = pytest.importorskip("openpyxl")
    records = list(pbr.read_records(Path(__file__).parent.parent / "examples" / "families.jsonl"))
    path = write_tables([r for r in records if isinstance(r, pbr.Family)], tmp_path / form)
    # the example tables read, every column in every header
    assert read_tables(path).reconciliation is not None
    if form.endswith(".xlsx"):
        book = openpyxl.load_workbook(path)
        book["benefit_spells"].delete_cols(5)
        book.save(path)
    else:
        file = path / "benefit_spells.csv"
        lines = file.read_text().splitlines()
        file.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in lines))
    with pytest.raises(UnreadableFile, match="the header of benefit_spells has no column end:"):
        read_tables(path)
    assert main(["evaluate", str(path), "--as-of", "2015-09-30"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "the header of benefit_spells has no column end:" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_a_column_spelt_another_way_is_named_in_the_refusal(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, families=f"{FAMILIES}F1,{TF}")
    (folder / "members.csv").write_text("family_id,person_id,Date of birth,expectant\n")
    with pytest.raises(UnreadableFile, match="the column 'Date of birth' must be named"):
        read_tables(folder)


@pytest.mark.parametrize("members", ["", "family_id,person_id,date_of_birth\nF2,A1,1984-03-12\n"])
def test_a_family_with_no_member_rows_is_told_so(tmp_path: Path, members: str) -> None:
    """It was told the header of families has no column members."""
    tables = {"families": f"{FAMILIES}F1,{TF}"}
    if members:
        tables["members"] = members
    _, errors = read_all(read_tables(folder_of(tmp_path, **tables)))
    kind, _, why = errors["families:2.members"]
    assert kind == "missing"
    assert "header" not in why
    if members:
        assert why.startswith("the family has no rows in members")
    else:
        assert why.startswith("the family has no members: there is no members table")


def test_a_utf16_table_is_refused_as_not_utf8(tmp_path: Path) -> None:
    folder = folder_of(tmp_path, members="family_id,person_id,date_of_birth\n")
    (folder / "families.csv").write_bytes(f"{FAMILIES}F1,{TF}".encode("utf-16"))
    with pytest.raises(UnreadableFile, match="not UTF-8 but looks like UTF-16"):
        read_tables(folder)


def test_a_compressed_table_is_named_as_compressed_not_utf16(tmp_path: Path) -> None:
    """A gzip-compressed families.csv was reported as "looks like UTF-16" (its NUL bytes)."""
    import gzip

    folder = folder_of(tmp_path, members="family_id,person_id,date_of_birth\n")
    (folder / "families.csv").write_bytes(gzip.compress(f"{FAMILIES}F1,{TF}".encode()))
    with pytest.raises(UnreadableFile, match=r"families\.csv is gzip-compressed: decompress it"):
        read_tables(folder)


def test_a_blank_column_name_says_the_column_has_no_name(tmp_path: Path) -> None:
    folder = folder_of(
        tmp_path,
        families=f"family_id,attached_on,identified_for, \nF1,{TF.strip()},x\n",
        members="family_id,person_id,date_of_birth\nF1,A1,1984-03-12\n",
    )
    _, errors = read_all(read_tables(folder))
    assert errors["families:2.(column 4)"][0] == "unnamed_column"
    assert "unknown column" not in errors["families:2.(column 4)"][2]


def test_a_family_stating_no_problem_is_refused_by_write_tables(tmp_path: Path) -> None:
    """identified_for [] was written as an empty cell and read back as not recorded (None):
    another family, silently."""
    import pbr
    from pbr.tables import read_tables, write_tables

    base = {"family_id": "F1", "attached_on": "2012-10-15",
            "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]}  # fmt: skip
    with pytest.raises(ValueError, match="identified_for is an empty list"):
        write_tables([pbr.Family.model_validate({**base, "identified_for": []})], tmp_path / "t")
    stated = pbr.Family.model_validate({**base, "identified_for": ["work"]})
    unstated = pbr.Family.model_validate(base)
    write_tables([stated, unstated.model_copy(update={"family_id": "F2"})], tmp_path / "u")
    back = [f for f in read_tables(tmp_path / "u").families() if isinstance(f, pbr.Family)]
    assert [f.identified_for for f in back] == [("work",), None]


# 9. a row that is its family's but for case or spaces, a header without family_id


@pytest.mark.parametrize("given", ["F1 ", " F1", "f1", "F1\t", " f1"])
@pytest.mark.parametrize("how", ["families", "named", "evaluated"])
def test_a_row_naming_its_family_but_for_case_or_spaces_rejects_the_family(
    tmp_path: Path, given: str, how: str
) -> None:
    """The payment of ``F1 `` was reported as no family's, and F1 evaluated without it: a result
    already paid was payable again."""
    payments = f"F1,attachment_fee,2400.00,2013-06-01,CL-1\n{given},continuous_employment,800.00,2014-01-10,CL-2\n"
    read = read_tables(folder_of(tmp_path, **two_families(payments)))
    if how == "families":
        found = list(read.families())
    elif how == "named":
        found = list(read.named("F1"))
    else:
        found = list(read.evaluated(lambda f: pbr.evaluate_many(f, as_of=date(2015, 3, 31))))
    rejection = found[0]
    assert isinstance(rejection, pbr.Rejection)
    assert rejection.family_id == "F1"
    (error,) = [e for e in rejection.errors if e.loc == "payments:3.family_id"]
    assert (error.type, json.loads(error.value or "")) == ("no_family", given)
    assert "it is the family 'F1' but for" in error.message
    assert "The family is rejected, not evaluated without this row" in error.message
    assert read.unplaced() == []  # the row is in its family's rejection, not reported apart
    if how != "named":
        assert [type(f).__name__ for f in found[1:]] == [
            "Family" if how == "families" else "Decision"
        ]
        assert read.reconciliation.balanced()
        assert read.reconciliation.rows_reported["payments"] == 2


def test_a_row_that_could_be_either_of_two_families_rejects_both(tmp_path: Path) -> None:
    tables = two_families("F2 ,continuous_employment,800.00,2014-01-10,CL-2\n")
    tables["families"] = f"{FAMILIES}F2,{TF}f2,{TF}"
    tables["members"] = "family_id,person_id,date_of_birth\nF2,A1,1984-03-12\nf2,A1,1984-03-12\n"
    tables["employment_spells"] = "family_id,person_id,start\n"
    families, errors = read_all(read_tables(folder_of(tmp_path, **tables)))
    assert families == {}
    assert errors["payments:2.family_id"][0] == "no_family"


def test_a_row_of_no_family_is_still_reported_apart(tmp_path: Path) -> None:
    read = read_tables(folder_of(tmp_path, **two_families("F9 ,attachment_fee,2400.00,,\n")))
    families, errors = read_all(read)
    assert sorted(families) == ["F1", "F2"]
    kind, value, why = errors["payments:2.family_id"]
    assert (kind, value) == ("no_family", "F9 ")
    assert why.startswith("no family with this family_id in families; it has a space")


@pytest.mark.parametrize(
    ("header", "cause"),
    [
        (
            "Family ID,kind,amount,paid_on,claim_id",
            "the column 'Family ID' must be named family_id",
        ),
        (
            "family_id;kind;amount;paid_on;claim_id",
            "the separator seems to be ';': it must be a comma",
        ),
        ("family_id\tkind\tamount", "the separator seems to be a tab"),
        ("Payments exported 2015-04-01", "the header must be the first row"),
        ("kind,amount,paid_on", "add a family_id column"),
    ],
)
def test_a_table_whose_header_has_no_family_id_stops_the_run(
    tmp_path: Path, header: str, cause: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its rows were each reported as missing family_id, and every family evaluated without
    the table: payments already made were claimed again."""
    tables = two_families("")
    tables["payments"] = f"{header}\nF1,attachment_fee,2400.00,2013-06-01,CL-1\n"
    folder = folder_of(tmp_path, **tables)
    with pytest.raises(UnreadableFile, match="the header has no column family_id") as caught:
        read_tables(folder)
    assert "payments.csv" in str(caught.value)
    assert cause in str(caught.value)
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("pbr: ")
    assert cause in err


@pytest.mark.parametrize("blank", ["\n", "\r\n", " \n", ",\n"])
def test_a_blank_header_line_is_an_empty_table_unless_rows_follow(
    tmp_path: Path, blank: str
) -> None:
    tables = two_families("")
    tables["payments"] = blank
    families, errors = read_all(read_tables(folder_of(tmp_path, **tables)))
    assert (sorted(families), errors) == (["F1", "F2"], {})
    tables["payments"] = f"{blank}F1,attachment_fee,2400.00,2013-06-01,CL-1\n"
    with pytest.raises(UnreadableFile, match="the header has no column family_id"):
        read_tables(folder_of(tmp_path, **tables))


def test_a_sheet_with_a_title_row_above_its_header_stops_the_run(tmp_path: Path) -> None:
    book = workbook(
        tmp_path,
        payments=[
            ["Payments made, as at 31 March 2015"],
            ["family_id", "kind", "amount", "paid_on", "claim_id"],
            ["F1", "attachment_fee", "2400.00", "2013-06-01", "CL-1"],
        ],
    )
    with pytest.raises(UnreadableFile, match=r"sheet payments: the header has no column family_id"):
        read_tables(book)
    book = workbook(tmp_path, payments=[["family_id;kind;amount"], ["F1;attachment_fee;2400.00"]])
    with pytest.raises(UnreadableFile, match="separated by ';': put each column in a cell"):
        read_tables(book)


def test_an_empty_sheet_or_one_holding_only_formats_is_an_empty_table(tmp_path: Path) -> None:
    from openpyxl.styles import Font

    book = workbook(tmp_path, observations=[], payments=[])
    styled = pytest.importorskip("openpyxl").load_workbook(book)
    styled["payments"]["C3"].font = Font(bold=True)  # stored: <row r="3"><c r="C3" s="1"/>
    styled.save(book)
    read = read_tables(book)
    families, errors = read_all(read)
    assert errors == {}
    assert sorted(families) == ["F1"]
    assert read.reconciliation.rows_read["payments"] == 0


def test_a_sheet_with_a_blank_row_above_its_header_stops_the_run(tmp_path: Path) -> None:
    from openpyxl.styles import Font

    book = workbook(tmp_path, payments=[[None], *PAYMENTS])
    styled = pytest.importorskip("openpyxl").load_workbook(book)
    styled["payments"]["A1"].font = Font(bold=True)  # row 1 stored, with no value
    styled.save(book)
    with pytest.raises(UnreadableFile, match=r"sheet payments: the header has no column family_id"):
        read_tables(book)
    plain = workbook(tmp_path, payments=[[None], *PAYMENTS])  # as openpyxl writes it
    with pytest.raises(UnreadableFile, match=r"sheet payments: .*the header"):
        read_tables(plain)


# 10. a sheet whose rows or cells are stored out of order


def changed_sheet(path: Path, number: int, fix: Any) -> Path:
    """A copy of the workbook with the XML of its `number`-th sheet changed by `fix`."""
    return rewritten(path, f"xl/worksheets/sheet{number}.xml", fix)


def _row(xml: str, number: int) -> str:
    found = re.search(rf'<row r="{number}"[^>]*>.*?</row>', xml)
    assert found is not None
    return found.group(0)


def _swapped(xml: str, one: int, other: int) -> str:
    a, b = _row(xml, one), _row(xml, other)
    return xml.replace(a + b, b + a)


PAYMENTS: list[list[Any]] = [
    ["family_id", "kind", "amount", "paid_on", "claim_id"],
    ["F1", "attachment_fee", "2400.00", "2013-06-01", "CL-1"],
    ["F1", "continuous_employment", "800.00", "2014-01-10", "CL-2"],
]


def test_a_sheet_row_stored_after_a_higher_one_is_read(tmp_path: Path) -> None:
    """openpyxl's order: the row was skipped without a word, its payment made payable again."""
    book = changed_sheet(workbook(tmp_path, payments=PAYMENTS), 3, lambda x: _swapped(x, 2, 3))
    read = read_tables(book)
    families, errors = read_all(read)
    assert errors == {}
    assert [p.claim_id for p in families["F1"].payments] == ["CL-1", "CL-2"]
    assert read.reconciliation.rows_read["payments"] == 2


def test_a_sheet_cell_stored_out_of_order_is_read_at_its_column(tmp_path: Path) -> None:
    """Cells right of the last-stored one were dropped: here claim_id (E), stored before D."""

    def swap_cells(xml: str) -> str:
        row = _row(xml, 3)
        d, e = (re.search(rf'<c r="{c}3"[^>]*>.*?</c>|<c r="{c}3"[^>]*/>', row) for c in "DE")
        assert d is not None
        assert e is not None
        return xml.replace(row, row.replace(d.group(0) + e.group(0), e.group(0) + d.group(0)))

    book = changed_sheet(workbook(tmp_path, payments=PAYMENTS), 3, swap_cells)
    families, errors = read_all(read_tables(book))
    assert errors == {}
    assert [p.claim_id for p in families["F1"].payments] == ["CL-1", "CL-2"]


@pytest.mark.parametrize(("sheet", "table"), [(1, "families"), (3, "payments")])
def test_a_sheet_row_stored_twice_stops_the_run(
    tmp_path: Path, sheet: int, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def twice(xml: str) -> str:
        return xml.replace(_row(xml, 2), _row(xml, 2) + _row(xml, 2).replace("CL-1", "CL-9"))

    book = changed_sheet(workbook(tmp_path, payments=PAYMENTS), sheet, twice)
    with pytest.raises(UnreadableFile, match=rf"the table {table} has row 2 twice"):
        read_tables(book)
    assert main(["evaluate", str(book), "--as-of", "2015-03-31"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def _cells_swapped(xml: str) -> str:
    """Row 3's cells D and E stored the other way round."""
    row = _row(xml, 3)
    d, e = (re.search(rf'<c r="{c}3"[^>]*>.*?</c>|<c r="{c}3"[^>]*/>', row) for c in "DE")
    assert d is not None
    assert e is not None
    return xml.replace(row, row.replace(d.group(0) + e.group(0), e.group(0) + d.group(0)))


_STORED: dict[str, tuple[Any, str]] = {
    "rows out of order": (lambda x: _swapped(x, 2, 3), "CL-1, CL-2"),
    "cells out of order": (_cells_swapped, "CL-1, CL-2"),
    "a row twice": (
        lambda x: x.replace(_row(x, 2), _row(x, 2) + _row(x, 2).replace("CL-1", "CL-9")),
        "the table payments has row 2 twice",
    ),
    "a cell twice": (
        lambda x: x.replace('r="A3"', 'r="E3"', 1),
        "sheet payments: the cell E3 is stored twice",
    ),
    "the header after a row": (
        lambda x: _swapped(x, 1, 2),
        "sheet payments: the first row stored is row 2",
    ),
}


@pytest.mark.parametrize("reader", ["pbr's", "openpyxl's"])
@pytest.mark.parametrize("stored", list(_STORED))
def test_either_xlsx_reader_places_rows_and_cells_by_their_references(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reader: str,
    stored: str,
) -> None:
    """openpyxl's parser, used when pbr's own reader cannot be, reads what pbr's reads, and
    stops where it stops with the same message (its ``iter_rows`` dropped a row or a cell)."""
    from pbr import tables

    used: list[str] = []
    parsed = tables._parsed_values

    def spy(*given: Any) -> Any:
        used.append("parser")
        return parsed(*given)

    monkeypatch.setattr(tables, "_parsed_values", spy)
    if reader == "openpyxl's":  # as with an openpyxl whose internals pbr's reader cannot use
        monkeypatch.setattr(tables, "_fast_values", lambda *a: None)
    fix, expected = _STORED[stored]
    book = changed_sheet(workbook(tmp_path, payments=PAYMENTS), 3, fix)
    try:
        families, errors = read_all(read_tables(book))
        stopped = ""
    except UnreadableFile as exc:
        stopped = str(exc)
    if stopped:
        assert stopped.startswith(f"{book}: ") or stopped.startswith(f"cannot read {book}: ")
        assert expected in stopped
        assert main(["evaluate", str(book), "--as-of", "2015-03-31"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1  # one line, no traceback
        assert expected in err
    else:
        assert errors == {}
        assert ", ".join(p.claim_id for p in families["F1"].payments) == expected
    assert bool(used) is (reader == "openpyxl's")  # pbr's own reader, where it can be used


def test_an_openpyxl_whose_parser_cannot_be_used_stops_the_run_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rather than read its rows by their places (and lose a row stored out of order)."""
    from pbr import tables

    book = workbook(tmp_path, payments=PAYMENTS)
    monkeypatch.setattr(tables, "_fast_values", lambda *a: None)
    monkeypatch.delattr("openpyxl.worksheet._reader.WorkSheetParser")
    with pytest.raises(UnreadableFile, match=r"sheet \w+: this openpyxl cannot be read cell by"):
        read_tables(book)
    assert main(["evaluate", str(book), "--as-of", "2015-03-31"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("fix", "said"),
    [
        (lambda x: _swapped(x, 1, 2), "the first row stored is row 2: the header must be row 1"),
        (
            lambda x: x.replace("</sheetData>", _row(x, 1) + "</sheetData>"),
            "row 1) is stored again",
        ),
        (lambda x: x.replace('<row r="2"', '<row r="0"'), "a row is numbered 0"),
    ],
)
def test_a_sheet_header_not_stored_first_and_once_stops_the_run(
    tmp_path: Path, fix: Any, said: str
) -> None:
    book = changed_sheet(workbook(tmp_path, payments=PAYMENTS), 3, fix)
    with pytest.raises(UnreadableFile, match=rf"sheet payments: .*{re.escape(said)}"):
        read_tables(book)


# 11. an invisible character in a family_id, a table saved under another name, a template


INVISIBLE = ["F1\u200b", "\ufeffF1", "F\u200d1", "F1\u200e", "\u2060F1"]
"""A family_id with a format character (zero-width space, a byte-order mark from two exports
pasted together, a zero-width joiner, a left-to-right mark, a word joiner): shown as ``F1``."""


@pytest.mark.parametrize("given", INVISIBLE)
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_row_naming_its_family_but_for_an_invisible_character_rejects_the_family(
    tmp_path: Path, given: str, form: str
) -> None:
    """``F1`` with a zero-width space was a row of no family, and F1 was evaluated without its
    payment: a result already paid was payable again."""
    paid = ["F1", "continuous_employment", "800.00", "2014-01-10", "CL-2"]
    paid[0] = given
    if form == "xlsx":
        path = workbook(
            tmp_path, payments=[["family_id", "kind", "amount", "paid_on", "claim_id"], paid]
        )
    else:
        path = folder_of(tmp_path, **two_families(",".join(paid) + "\n"))
    read = read_tables(path)
    rejection = next(iter(read.evaluated(lambda f: pbr.evaluate_many(f, as_of=date(2015, 3, 31)))))
    assert isinstance(rejection, pbr.Rejection)
    assert rejection.family_id == "F1"
    (error,) = [e for e in rejection.errors if e.loc == "payments:2.family_id"]
    assert (error.type, json.loads(error.value or "")) == ("no_family", given)
    assert "it is the family 'F1' but for an invisible character" in error.message
    assert read.unplaced() == []


@pytest.mark.parametrize("given", ["F1\u200b", "\ufeffF1"])
def test_explain_says_a_row_with_an_invisible_character_rejects_its_family(
    tmp_path: Path, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_of(
        tmp_path, **two_families(f"{given},continuous_employment,800.00,2014-01-10,CL-2\n")
    )
    assert main(["explain", str(folder), "F1", "--as-of", "2015-03-31"]) == 1
    err = capsys.readouterr().err
    assert "payments:2.family_id" in err
    assert "but for an invisible character" in err


LOOK_ALIKES = {
    "payments.csv.txt": "payments",
    "payments.txt": "payments",
    "payments.csv ": "payments",
    "payments.csv.bak": "payments",
    "Payments": "payments",
    "PAYMENTS 2015.xlsx": "payments",
    "employment_spells.tsv": "employment_spells",
    "old.csv.txt": None,
    "notes.CSV~": None,
}


@pytest.mark.parametrize(("name", "table"), LOOK_ALIKES.items())
def test_a_table_saved_under_another_name_is_reported_not_ignored(
    tmp_path: Path, name: str, table: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``payments.csv.txt`` was not read, without a word: every payment in it was payable again
    and the run exited 0."""
    tables = two_families("")
    folder = folder_of(tmp_path, **tables)
    (folder / "payments.csv").rename(folder / name)
    (problem,) = [e for r in read_tables(folder).unplaced() for e in r.errors]
    assert (problem.loc, problem.type) == (name, "unknown_table")
    if table is not None:
        assert f"it looks like the table {table}" in problem.message
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 1
    assert json.dumps(name)[1:-1] in capsys.readouterr().err


def test_audit_exits_1_for_a_table_saved_under_another_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit said the file on standard error only, and exited 0 with every claim verified:
    a payment in the misnamed table made a claim look unpaid."""
    from pbr.tables import write_tables

    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    folder = tmp_path / "council"
    write_tables([f for f in pbr.read_records(examples) if isinstance(f, pbr.Family)][:12], folder)
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nA-1,EX-010,crime_asb_education,1500.00,"
        "2015-03-31\n"
    )
    assert main(["audit", str(claims), "--families", str(folder)]) == 0  # the claim verifies
    (folder / "payments.csv").rename(folder / "payments.csv.txt")
    capsys.readouterr()
    assert main(["audit", str(claims), "--families", str(folder)]) == 1
    assert "payments.csv.txt" in capsys.readouterr().err


def test_explain_reports_a_table_saved_under_another_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pbr explain`` showed the working paper without its payments, exit 0, and said nothing."""
    folder = folder_of(tmp_path, **two_families(""))
    (folder / "payments.csv").rename(folder / "payments.csv.txt")
    assert main(["explain", str(folder), "F1", "--as-of", "2015-03-31"]) == 1
    out, err = capsys.readouterr()
    assert "F1" in out  # the family is still explained
    assert "payments.csv.txt" in err
    assert "it looks like the table payments" in err


@pytest.mark.parametrize(
    "name", ["README.md", "notes.txt", "membership.txt", ".DS_Store", ".~lock.payments.csv#"]
)
def test_a_file_plainly_no_table_is_not_reported(tmp_path: Path, name: str) -> None:
    from pbr.tables import write_templates

    folder = folder_of(tmp_path, **two_families(""))
    write_templates(folder)  # its README.md
    (folder / name).write_text("x\n")
    (folder / "payments archive").mkdir()  # a folder is no table file
    assert read_tables(folder).unplaced() == []


def test_template_keeps_a_table_whose_file_name_is_in_another_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pbr template`` added ``payments.csv`` beside ``Payments.CSV``: the folder then could not
    be read (two files for the table payments)."""
    folder = folder_of(tmp_path, **two_families("F1,attachment_fee,2400.00,2013-06-01,CL-1\n"))
    (folder / "payments.csv").rename(folder / "Payments.CSV")
    (folder / "members.csv").write_text("family_id,person_id,date_of_birth,expectant\n")
    (folder / "members.csv").rename(folder / "MEMBERS.csv")  # no rows: rewritten in place
    assert main(["template", str(folder)]) == 0
    assert f"kept {folder / 'Payments.CSV'}: it already has rows" in capsys.readouterr().err
    names = sorted(p.name for p in folder.iterdir())
    assert "payments.csv" not in names
    assert "members.csv" not in names
    assert {"Payments.CSV", "MEMBERS.csv"} <= set(names)
    assert sorted(table_files(folder)) == sorted(pbr.tables.TABLES)


def test_every_rejection_of_a_folder_names_it_as_the_user_wrote_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Family rejections said ``messy/`` and rows of no family ``messy``: two inputs for one."""
    folder = tmp_path / "messy"
    examples = Path(__file__).resolve().parent.parent / "examples" / "families.jsonl"
    families = [f for f in pbr.read_records(examples) if isinstance(f, pbr.Family)][:2]
    write_tables([tableable(f) for f in families], folder)
    with (folder / "families.csv").open("a") as table:
        table.write("BAD-1,,01/05/2013" + "," * 3 + "\n")  # a family rejected
    with (folder / "members.csv").open("a") as table:
        table.write("NO-SUCH,Z1,1980-01-01\n")  # a row of no family
    (folder / "offences.csv.txt").write_text("family_id\n")  # a table under another name
    given = f"{folder}/"
    rejections = tmp_path / "rej.jsonl"
    argv = ["evaluate", given, "--as-of", "2015-03-31", "--rejections", str(rejections)]
    assert main(argv) == 1
    capsys.readouterr()
    sources = [json.loads(line)["source"] for line in rejections.read_text().splitlines()]
    assert len(sources) >= 3
    assert set(sources) == {given}


def _refused(error: OSError, where: Path) -> Any:
    """A stand-in for `open` that raises `error` for `where` alone, as the system would."""
    real = open

    def fake(file: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(file) == where:
            raise error
        return real(file, *args, **kwargs)

    return fake


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(13, "Permission denied"),
        FileNotFoundError(2, "No such file or directory"),  # removed as the run went on
    ],
)
def test_a_table_file_that_cannot_be_read_is_one_line_naming_it(
    tmp_path: Path,
    error: OSError,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/council-tables.md: a table file that cannot be read stops the run with one line."""
    import pbr.tables

    folder = tmp_path / "council"
    write_templates(folder)
    locked = folder / "offences.csv"
    monkeypatch.setattr(pbr.tables, "open", _refused(error, locked), raising=False)
    said = f"cannot read {locked}: {error.strerror}"
    with pytest.raises(UnreadableFile, match=re.escape(said)):
        read_tables(folder)
    for args in (
        ["evaluate", str(folder), "--as-of", "2015-03-31"],
        ["forecast", "--records", str(folder), "--estimated", "10", "--as-of", "2015-03-31"],
    ):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err == f"pbr: {said}\n", args


def test_a_folder_that_cannot_be_listed_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "council"
    write_templates(folder)
    listed = Path.iterdir

    def iterdir(self: Path) -> Any:
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return listed(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(
        UnreadableFile, match=f"^cannot read {re.escape(str(folder))}: Permission denied$"
    ):
        read_tables(folder)
    assert main(["evaluate", str(folder), "--as-of", "2015-03-31"]) == 2
    assert capsys.readouterr().err == f"pbr: cannot read {folder}: Permission denied\n"


def test_a_workbook_that_cannot_be_opened_says_why_in_the_systems_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    path = tmp_path / "book.xlsx"
    write_tables([], path)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(openpyxl, "load_workbook", refused)
    with pytest.raises(
        UnreadableFile, match=f"^cannot read {re.escape(str(path))}: Permission denied$"
    ):
        read_tables(path)
