"""Council tables: the defects a tester found reading messy CSV folders and workbooks.

Each test builds its input here; the reproductions are in the tester's report.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.tables import TableInput, read_tables
from tests.test_tables_files import (
    FAMILIES,
    TF,
    completed,
    folder_of,
    rewritten,
    sheet_completed,
    two_families,
    workbook,
)

PAYMENTS = "family_id,kind,amount,paid_on,claim_id\n"


def answers(read: TableInput, how: str) -> list[Any]:
    """What `families` or `evaluated` gives."""
    if how == "families":
        return list(read.families())
    return list(read.evaluated(lambda f: pbr.evaluate_many(f, as_of=date(2015, 3, 31))))


# 1. a family_id cell merged, or left blank, on a family's later rows


PAID: list[list[Any]] = [
    ["family_id", "kind", "amount", "paid_on", "claim_id"],
    ["F1", "attachment_fee", "2400.00", "2013-06-01", "CL-1"],
    [None, "continuous_employment", "800.00", "2014-01-10", "CL-2"],
]


@pytest.mark.parametrize("how", ["families", "evaluated"])
def test_a_merged_family_id_cell_is_read_on_every_row_it_covers(tmp_path: Path, how: str) -> None:
    """Row 3's family_id was read empty: F1 was evaluated without its £800 payment."""
    read = read_tables(workbook(tmp_path, merge="payments!A2:A3", payments=PAID))
    (found,) = answers(read, how)
    if how == "families":
        assert isinstance(found, pbr.Family)
        assert [p.claim_id for p in found.payments] == ["CL-1", "CL-2"]
    else:
        assert isinstance(found, pbr.Decision)
    assert read.unplaced() == []
    assert read.reconciliation.rows_used["payments"] == 2
    assert read.reconciliation.balanced()


@pytest.mark.parametrize("form", ["csv", "xlsx"])
@pytest.mark.parametrize("how", ["families", "evaluated"])
def test_a_row_with_no_family_id_under_a_familys_rows_rejects_that_family(
    tmp_path: Path, form: str, how: str
) -> None:
    """An empty family_id under F1's payment, not merged: F1 is never evaluated without it."""
    if form == "xlsx":
        path = workbook(tmp_path, payments=PAID)
    else:
        path = folder_of(
            tmp_path,
            **two_families(
                "F1,attachment_fee,2400.00,2013-06-01,CL-1\n"
                ",continuous_employment,800.00,2014-01-10,CL-2\n"
            ),
        )
    read = read_tables(path)
    found = answers(read, how)
    rejection = found[0]
    assert isinstance(rejection, pbr.Rejection)
    assert rejection.family_id == "F1"
    (error,) = [e for e in rejection.errors if e.loc == "payments:3.family_id"]
    assert error.type == "missing"
    assert "under the rows of the family 'F1'" in error.message
    assert "the family is rejected, not evaluated without this row" in error.message
    assert read.unplaced() == []  # in its family's rejection, not reported apart
    rec = read.reconciliation
    assert rec.balanced()
    assert rec.families_rejected == 1
    assert rec.rows_reported["payments"] == 2
    if form == "csv":
        assert [type(f).__name__ for f in found[1:]] == [
            "Family" if how == "families" else "Decision"
        ]


def test_a_row_with_no_family_id_above_every_family_is_still_reported_apart(
    tmp_path: Path,
) -> None:
    read = read_tables(
        folder_of(
            tmp_path,
            **two_families(
                ",attachment_fee,2400.00,2013-06-01,CL-1\nF1,attachment_fee,2400.00,2013-06-01,CL-2\n"
            ),
        )
    )
    assert [type(f).__name__ for f in read.families()] == ["Family", "Family"]
    (row,) = read.unplaced()
    assert row.errors[0].loc == "payments:2.family_id"
    assert row.errors[0].message.startswith("family_id is empty")


def test_a_row_with_no_family_id_under_a_family_of_no_family_is_reported_as_empty(
    tmp_path: Path,
) -> None:
    read = read_tables(
        folder_of(
            tmp_path,
            **two_families(
                "F9,attachment_fee,2400.00,2013-06-01,CL-1\n,attachment_fee,2400.00,2013-06-01,CL-2\n"
            ),
        )
    )
    assert [type(f).__name__ for f in read.families()] == ["Family", "Family"]
    found = {r.errors[0].loc: r.errors[0] for r in read.unplaced()}
    assert found["payments:2.family_id"].type == "no_family"
    assert found["payments:3.family_id"].type == "missing"
    assert found["payments:3.family_id"].message.startswith("family_id is empty")
    assert read.reconciliation.balanced()


# 2, 3. a family rejected where it is evaluated (outside its programme)

OUTSIDE = {
    "families": "family_id,programme,attached_on,identified_for\n"
    "P1,tf-phase-1,2012-06-01,crime_asb;education\n"
    "P2,tf-phase-1,2016-06-01,crime_asb;education\n"
    "P3,,2030-06-01,\n",
    "members": "family_id,person_id,date_of_birth\nP1,A1,1980-01-01\nP2,A1,1980-01-01\n"
    "P3,A1,1980-01-01\n",
    "offences": "family_id,person_id,date\nP2,A1,2016-01-01\n",
}


@pytest.mark.parametrize("ledger", [False, True])
def test_a_family_rejected_where_it_is_evaluated_is_counted_rejected_at_its_rows(
    tmp_path: Path, ledger: bool
) -> None:
    """It was counted valid, its rows used, and its rejection located at ``attached_on``."""
    from pbr.history import PaymentHistory

    read = read_tables(folder_of(tmp_path, **OUTSIDE))
    history = PaymentHistory.of({}) if ledger else None
    found = list(
        read.evaluated(lambda f: pbr.evaluate_many(f, as_of=date(2017, 3, 31), ledger=history))
    )
    assert [type(f).__name__ for f in found] == ["Decision", "Rejection", "Rejection"]
    p2, p3 = found[1:]
    assert isinstance(p2, pbr.Rejection)
    assert isinstance(p3, pbr.Rejection)
    assert [(e.loc, e.type) for e in p2.errors] == [("families:3.attached_on", "outside_programme")]
    assert [e.loc for e in p3.errors] == ["families:4.attached_on"]
    assert (p2.record, p3.record) == (2, 3)
    rec = read.reconciliation
    assert (rec.families_read, rec.families_rejected) == (3, 2)
    assert rec.rows_used == {"families": 1, "members": 1}
    assert rec.rows_reported == {"families": 2, "members": 2, "offences": 1}
    assert rec.balanced()
    assert "  families read 3 = valid 1 + rejected 2" in rec.lines()


def test_the_cli_with_a_ledger_counts_a_family_rejected_where_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main
    from pbr.ledger import Ledger

    Ledger(tmp_path / "l.db").append([])
    folder = folder_of(tmp_path, **OUTSIDE)
    rejected = tmp_path / "rej.jsonl"
    args = ["evaluate", str(folder), "--as-of", "2017-03-31", "--rejections", str(rejected)]
    assert main([*args, "--ledger", str(tmp_path / "l.db")]) == 1
    out = capsys.readouterr()
    assert "families read 3 = valid 1 + rejected 2" in out.out + out.err
    locs = [json.loads(line)["errors"][0]["loc"] for line in rejected.read_text().splitlines()]
    assert locs == ["families:3.attached_on", "families:4.attached_on"]


# 4. a formula whose saved result is empty text


def sheet_cell(tmp_path: Path, value: Any, cell: str, **style: Any) -> Path:
    """F1's workbook with `value` as its first payment's amount, its cell's XML then `cell`.

    `cell` is a format string given the cell's reference as ``{r}`` and its XML as ``{xml}``
    (``"{xml}"`` leaves it as openpyxl writes it); `style` is given to the cell
    (``number_format="0%"``).
    """
    import re

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets: dict[str, list[list[Any]]] = {
        "families": [FAMILIES.strip().split(","), ["F1", *TF.strip().split(",")]],
        "members": [["family_id", "person_id", "date_of_birth"], ["F1", "A1", "1984-03-12"]],
        "payments": [PAID[0], ["F1", "attachment_fee", value, "2013-06-01", "CL-1"]],
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in sheet_completed(name, rows):
            sheet.append(row)
    for key, given in style.items():
        setattr(book["payments"]["C2"], key, given)
    path = tmp_path / "cell.xlsx"
    book.save(path)
    return rewritten(
        path,
        "xl/worksheets/sheet3.xml",
        lambda xml: re.sub(
            r'<c r="C2"[^>]*?(/>|>.*?</c>)', lambda m: cell.format(r="C2", xml=m[0]), xml
        ),
    )


@pytest.fixture(params=["own", "openpyxl"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each workbook reader: pbr's own (`_fast_values`), and openpyxl's parser."""
    from pbr import tables

    if request.param == "openpyxl":
        monkeypatch.setattr(tables, "_fast_values", lambda *a: None)
    return str(request.param)


@pytest.mark.usefixtures("reader")
def test_a_formula_whose_saved_value_is_empty_text_is_an_empty_cell(tmp_path: Path) -> None:
    """``=IF(...,"",...)`` saved by Excel was reported as a formula with no saved value."""
    path = sheet_cell(tmp_path, "x", '<c r="{r}" t="str"><f>IF(1=1,"","x")</f><v></v></c>')
    read = read_tables(path)
    (found,) = read.families()
    assert isinstance(found, pbr.Rejection)
    assert [(e.loc, e.type) for e in found.errors] == [("payments:2.amount", "missing")]


@pytest.mark.usefixtures("reader")
def test_a_formula_with_no_saved_value_is_still_reported(tmp_path: Path) -> None:
    path = sheet_cell(tmp_path, "x", '<c r="{r}"><f>1+1</f><v/></c>')
    (found,) = read_tables(path).families()
    assert isinstance(found, pbr.Rejection)
    assert [(e.loc, e.type) for e in found.errors] == [("payments:2.amount", "formula_no_value")]


# 5. memory kept for rejected families


def _kept_after_reading(tmp_path: Path, n: int) -> int:
    """The bytes a `TableInput` still holds once `n` families, every one rejected, are read."""
    import tracemalloc

    rows = "".join(f"F{i},{TF}" for i in range(n))
    members = "".join(f"F{i},A1,14/06/1980\n" for i in range(n))  # not a date: rejected
    payments = "".join(f"F{i},attachment_fee,2400.00,2013-06-01,C{i}\n" for i in range(n))
    folder = tmp_path / str(n)
    folder.mkdir()
    (folder / "families.csv").write_text(completed("families", FAMILIES + rows))
    (folder / "members.csv").write_text(
        completed("members", "family_id,person_id,date_of_birth\n" + members)
    )
    (folder / "payments.csv").write_text(PAYMENTS + payments)
    read = read_tables(folder)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for found in read.families():
            assert isinstance(found, pbr.Rejection)
        del found
        return int(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()


def test_memory_kept_does_not_grow_with_the_families_rejected(tmp_path: Path) -> None:
    """Every problem of every rejected family was kept: 3.8 KB a family, 1.5 GB for 400k."""
    few, many = _kept_after_reading(tmp_path, 100), _kept_after_reading(tmp_path, 1500)
    assert many - few < 100_000, (few, many)


# 6. damaged workbooks


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize(
    "damage",
    [
        ("shared string past the table", '<c r="C2" t="s"><v>999</v></c>', ""),
        ("a negative shared string", '<c r="C2" t="s"><v>-1</v></c>', ""),
        ("a row past Excel's last", "{xml}", '<row r="99999999999999999999"'),
    ],
    ids=lambda d: d[0],
)
def test_a_damaged_workbook_stops_the_run_with_one_line_naming_it(
    tmp_path: Path, damage: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """These were "pbr: unexpected error (IndexError ...)", "(OverflowError ...)"."""
    from pbr.cli import main

    _, cell, row = damage
    path = sheet_cell(tmp_path, "2400.00", cell)
    if row:
        path = rewritten(
            path, "xl/worksheets/sheet3.xml", lambda xml: xml.replace('<row r="2"', row)
        )
    assert main(["evaluate", str(path), "--as-of", "2015-03-31"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pbr: cannot read {path}: its parts cannot be read"), err
    assert err.count("\n") == 1, err


# 7, 10. cells read as what they hold, without a Python warning


@pytest.mark.usefixtures("reader")
def test_a_date_cell_no_date_can_be_is_reported_as_it_is_without_a_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """99999999 formatted as a date: a UserWarning naming tables.py, then "#VALUE!"."""
    import warnings

    path = sheet_cell(tmp_path, 99999999, "{xml}", number_format="yyyy-mm-dd")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (found,) = read_tables(path).families()
    assert isinstance(found, pbr.Rejection)
    (error,) = found.errors
    assert (error.loc, error.type, error.value) == (
        "payments:2.amount",
        "date_out_of_range",
        '"99999999"',
    )
    assert "outside the dates Excel can show" in error.message
    assert capfd.readouterr().err == ""


@pytest.mark.usefixtures("reader")
def test_an_excel_error_cell_with_no_error_stored_says_so(tmp_path: Path) -> None:
    (found,) = read_tables(sheet_cell(tmp_path, "x", '<c r="{r}" t="e"/>')).families()
    assert isinstance(found, pbr.Rejection)
    (error,) = found.errors
    assert (error.loc, error.type) == ("payments:2.amount", "excel_error")
    assert error.message == "an Excel error cell where a value should be"


# 8. a number formatted as a percentage


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize(
    ("number", "style", "shown"),
    [(0.5, "0%", "50%"), (0.945, "0.00%", "94.50%"), (1, '0.0%" done"', "100.0%")],
)
def test_a_number_formatted_as_a_percentage_is_reported_not_read_as_its_fraction(
    tmp_path: Path, number: float, style: str, shown: str
) -> None:
    """An amount of 0.5 shown in Excel as 50% was read as £0.50, without a word."""
    (found,) = read_tables(sheet_cell(tmp_path, number, "{xml}", number_format=style)).families()
    assert isinstance(found, pbr.Rejection)
    (error,) = found.errors
    assert (error.loc, error.type, error.value) == (
        "payments:2.amount",
        "percent_format",
        f'"{shown}"',
    )
    assert error.message == (
        f"formatted as a percentage ({shown}, stored {number}): write the number itself, "
        "in a cell not formatted as a percentage"
    )


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize("style", ['0" %"', "0\\%", "[Red]0", "0.00", "#,##0.00"])
def test_a_number_whose_format_only_writes_a_percent_sign_is_read(
    tmp_path: Path, style: str
) -> None:
    """A ``%`` in quotes or escaped is text Excel shows; it does not scale the number."""
    (found,) = read_tables(sheet_cell(tmp_path, 2400, "{xml}", number_format=style)).families()
    assert isinstance(found, pbr.Family)
    assert str(found.payments[0].amount) == "2400.00"


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize("number_format", [9, 10])
def test_a_builtin_percentage_format_is_reported(tmp_path: Path, number_format: int) -> None:
    """Formats 9 and 10 (``0%``, ``0.00%``) are built in: a style names them by number alone."""
    path = sheet_cell(tmp_path, "x", '<c r="{r}" s="1"><v>0.95</v></c>')
    style = f'<xf numFmtId="{number_format}" fontId="0" fillId="0" borderId="0"/></cellXfs>'
    path = rewritten(
        path,
        "xl/styles.xml",
        lambda xml: xml.replace("</cellXfs>", style).replace(
            'cellXfs count="1"', 'cellXfs count="2"'
        ),
    )
    (found,) = read_tables(path).families()
    assert isinstance(found, pbr.Rejection)
    assert [(e.loc, e.type) for e in found.errors] == [("payments:2.amount", "percent_format")]


@pytest.mark.usefixtures("reader")
def test_an_observation_typed_as_a_percentage_is_reported(tmp_path: Path) -> None:
    """95% typed against a plan threshold of 90 was read as 0.95, which can flip a measure."""
    openpyxl = pytest.importorskip("openpyxl")
    path = workbook(
        tmp_path,
        observations=[
            ["family_id", "indicator", "date", "value"],
            ["F1", "attendance", "2014-01-10", 0.95],
        ],
    )
    book = openpyxl.load_workbook(path)
    book["observations"]["D2"].number_format = "0%"
    book.save(path)
    (found,) = read_tables(path).families()
    assert isinstance(found, pbr.Rejection)
    assert [(e.loc, e.type, e.value) for e in found.errors] == [
        ("observations:2.value", "percent_format", '"95%"')
    ]


# 9. a count written with leading zeros

TERMS = [
    [
        "family_id",
        "person_id",
        "academic_year",
        "term",
        "possible_sessions",
        "unauthorised_absences",
    ],
    ["F1", "A1", "2012/13", "autumn", "0130", "0"],
    ["F1", "A1", "2012/13", "spring", "120", "00"],
]
CHILD = [["family_id", "person_id", "date_of_birth"], ["F1", "A1", "2004-03-12"]]


def terms_read(tmp_path: Path, form: str, terms: list[list[Any]]) -> TableInput:
    """F1, a child A1, and these rows of school_terms, as CSV files or as a workbook's text cells."""
    if form == "xlsx":
        return read_tables(workbook(tmp_path, members=CHILD, school_terms=terms))
    tables = {"members": CHILD, "school_terms": terms}
    text = {name: "".join(",".join(row) + "\n" for row in rows) for name, rows in tables.items()}
    return read_tables(folder_of(tmp_path, families=f"{FAMILIES}F1,{TF}", **text))


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_count_with_a_leading_zero_is_refused_as_json_refuses_it(
    tmp_path: Path, form: str
) -> None:
    """``0130`` was read as 130 without a word: JSON cannot write it (nor ``00``)."""
    (found,) = terms_read(tmp_path, form, TERMS).families()
    assert isinstance(found, pbr.Rejection)
    assert [(e.loc, e.type, e.value) for e in found.errors] == [
        ("school_terms:2.possible_sessions", "int_type", '"0130"'),
        ("school_terms:3.unauthorised_absences", "int_type", '"00"'),
    ]
    assert found.errors[0].message == (
        "a whole number with a leading zero: write the number without leading zeros, e.g. 130"
    )
    assert found.errors[1].message.endswith("e.g. 0")


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_count_of_zero_is_read(tmp_path: Path, form: str) -> None:
    terms = [TERMS[0], ["F1", "A1", "2012/13", "autumn", "130", "0"]]
    (found,) = terms_read(tmp_path, form, terms).families()
    assert isinstance(found, pbr.Family)
    assert (
        found.school_terms[0].possible_sessions,
        found.school_terms[0].unauthorised_absences,
    ) == (
        130,
        0,
    )


# 10. family ids with a byte that is not UTF-8 (Windows-1252)


def windows_1252(tmp_path: Path) -> TableInput:
    """Families R1\\x96 and R2; members naming R1\\x96, R2\\x96 (R2 but for the byte) and R2."""
    folder = tmp_path / "council"
    folder.mkdir()
    (folder / "families.csv").write_bytes(
        b"family_id,attached_on,local_authority,programme,identified_for,local_discretion\n"
        b"R1\x96,2013-05-01,,,,\nR2,2013-05-01,,,,\n"
    )
    (folder / "members.csv").write_bytes(
        b"family_id,person_id,date_of_birth,expectant\nR1\x96,A1,1980-01-01,\n"
        b"R2\x96,A1,1980-01-01,\nR2,A1,1980-01-01,\n"
    )
    return read_tables(folder)


def test_a_family_id_with_a_byte_that_is_not_utf8_is_shown_escaped_once(tmp_path: Path) -> None:
    """It was shown as ``family 'R1\\\\x96'``: the byte escaped, then its backslash again."""
    read = windows_1252(tmp_path)
    r1 = next(iter(read.families()))
    assert isinstance(r1, pbr.Rejection)
    assert r1.describe().startswith(f"{tmp_path / 'council'} (record 1), family 'R1\\x96': ")
    assert json.loads(r1.model_dump_json())["family_id"] == "R1\\x96"


def test_a_row_of_no_family_whose_family_id_is_not_utf8_says_so(tmp_path: Path) -> None:
    """R2\\x96 was reported as no_family: not told the cause (save the file as UTF-8)."""
    read = windows_1252(tmp_path)
    assert [type(f).__name__ for f in read.families()] == ["Rejection", "Family"]
    (row,) = read.unplaced()
    (error,) = row.errors
    assert (error.loc, error.type, error.value) == (
        "members:3.family_id",
        "not_utf8",
        '"R2\ufffd"',
    )
    assert error.message == (
        "byte 96 is not UTF-8 (Windows-1252, perhaps): save the file as UTF-8; as read, no "
        "row of families has this family_id"
    )
    assert ", family 'R2\\x96': members:3.family_id" in row.describe()
    assert json.loads(row.model_dump_json())["family_id"] == "R2\\x96"
    assert read.orphan_tables("R2\\x96") == ["members"]
    assert read.reconciliation.balanced()


# 11. a merged cell of another column than family_id

TWO_PAID: list[list[Any]] = [
    PAID[0],
    ["F1", "attachment_fee", "2400.00", "2013-06-01", "CL-1"],
    ["F1", "continuous_employment", "800.00", None, "CL-2"],
]


@pytest.mark.usefixtures("reader")
@pytest.mark.parametrize("how", ["families", "evaluated"])
def test_a_merged_cell_of_another_column_is_reported_not_read_as_empty(
    tmp_path: Path, how: str
) -> None:
    """Row 3's paid_on, under D2:D3, was read as not recorded: Excel shows 2013-06-01 there."""
    read = read_tables(workbook(tmp_path, merge="payments!D2:D3", payments=TWO_PAID))
    (found,) = answers(read, how)
    assert isinstance(found, pbr.Rejection)
    (error,) = found.errors
    assert (error.loc, error.type, error.value) == (
        "payments:3.paid_on",
        "merged_cell",
        '"2013-06-01"',
    )
    assert error.message == (
        "a merged cell: Excel shows '2013-06-01' here, from D2 at the top of the merged range, "
        "but the cell itself is empty: unmerge the cells and write the value on each row"
    )
    assert read.reconciliation.balanced()


@pytest.mark.usefixtures("reader")
def test_a_family_id_and_another_column_merged_together(tmp_path: Path) -> None:
    """family_id is read on each row it covers; the other column is still reported."""
    openpyxl = pytest.importorskip("openpyxl")
    rows = [TWO_PAID[0], TWO_PAID[1], [None, *TWO_PAID[2][1:]]]
    path = workbook(tmp_path, merge="payments!A2:A3", payments=rows)
    book = openpyxl.load_workbook(path)
    book["payments"].merge_cells("D2:D3")
    book.save(path)
    (found,) = read_tables(path).families()
    assert isinstance(found, pbr.Rejection)
    assert [(e.loc, e.type) for e in found.errors] == [("payments:3.paid_on", "merged_cell")]


@pytest.mark.usefixtures("reader")
def test_a_merged_range_whose_top_cell_is_empty_is_read_as_empty(tmp_path: Path) -> None:
    """Excel shows nothing there either: not recorded, as written."""
    rows = [TWO_PAID[0], [*TWO_PAID[1][:3], None, "CL-1"], TWO_PAID[2]]
    (found,) = read_tables(workbook(tmp_path, merge="payments!D2:D3", payments=rows)).families()
    assert isinstance(found, pbr.Family)
    assert [p.paid_on for p in found.payments] == [None, None]
