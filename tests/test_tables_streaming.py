"""Council tables read streaming: the temporary row store, and the fast XLSX reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr import tables
from pbr.tables import read_tables, write_tables
from tests.builders import record

openpyxl = pytest.importorskip("openpyxl")


def _families(n: int) -> list[pbr.Family]:
    return [
        pbr.Family.model_validate(
            record(
                family_id=f"F{i}",
                local_authority="Leeds" if i % 2 else "Bury",
                offences=[{"person_id": "A1", "date": "2012-01-0" + str(1 + i % 9)}],
            )
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("name", ["folder", "book.xlsx"])
def test_families_come_back_in_order_and_the_store_is_removed(tmp_path: Path, name: str) -> None:
    families = _families(30)
    write_tables(list(reversed(families)), tmp_path / name)  # child rows in another order
    read = read_tables(tmp_path / name)
    folder = Path(read._store._folder.name)
    assert folder.exists()
    assert list(read.families()) == list(reversed(families))
    assert not folder.exists()  # removed once every family is read
    assert read.reconciliation.balanced()
    assert read.reconciliation.rows_read["offences"] == 30


def test_an_unfinished_read_still_removes_its_store(tmp_path: Path) -> None:
    write_tables(_families(5), tmp_path / "t")
    read = read_tables(tmp_path / "t")
    folder = Path(read._store._folder.name)
    families = read.families()
    next(families)
    del families  # a generator left unfinished is closed when it goes
    assert not folder.exists()
    other = read_tables(tmp_path / "t")
    folder = Path(other._store._folder.name)
    del other
    import gc

    gc.collect()
    assert not folder.exists()


def _values(rows: Any) -> list[tuple[Any, ...]]:
    """Rows without their trailing empty cells (a row's width is all that may differ)."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        out.append(tuple(cells))
    return out


def test_the_fast_xlsx_reader_gives_openpyxl_values(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "members"
    sheet.append(["family_id", "person_id", "date_of_birth", "n", "flag"])
    sheet.append(["F1", "A1", dt.date(1980, 1, 2), 3, True])
    sheet.append(["F2", "A2", dt.datetime(1981, 2, 3, 4, 5), 1.5, False])
    sheet["B6"] = "=A2"
    sheet["E7"] = "x"
    sheet.cell(row=8, column=2, value="gap")
    book.save(tmp_path / "plain.xlsx")
    fast = openpyxl.Workbook(write_only=True)  # inline strings, as write_tables writes
    inline = fast.create_sheet("members")
    for row in sheet.iter_rows(values_only=True):
        inline.append(row)
    fast.save(tmp_path / "inline.xlsx")
    for path in (tmp_path / "plain.xlsx", tmp_path / "inline.xlsx"):
        loaded = openpyxl.load_workbook(path, read_only=True, data_only=True)
        [ws] = loaded.worksheets
        got = tables._fast_values(ws)
        assert got is not None
        assert _values(got) == _values(ws.iter_rows(values_only=True))
        loaded.close()


def test_without_openpyxl_internals_the_plain_reader_is_used() -> None:
    assert tables._fast_values(object()) is None


def test_rows_come_back_as_they_were_read_whatever_their_columns() -> None:
    rows = [
        (2, {"family_id": "F1", "person_id": "A1", "date_of_birth": "1980-01-01"}),
        (3, {"family_id": "F1", "person_id": "A2"}),  # a short spreadsheet row
        (4, {"person_id": "A3", "family_id": "F1"}),  # other columns: kept as they were
        (5, {"family_id": "F1", "other": "x", "person_id": ""}),
    ]
    families = [(2, {"family_id": "F1", "local_authority": "Leeds"})]
    store = tables._RowStore({"families": iter(families), "members": iter(rows)})
    try:
        assert store.counts == {"families": 1, "members": 4}
        assert [(n, row, first) for n, row, first in store.families()] == [(*families[0], True)]
        assert store.parts("F1") == {"members": [("members", n, row) for n, row in rows]}
        assert [list(row) for _, _, row in store.parts("F1")["members"]] == [
            list(r) for _, r in rows
        ]
        assert list(store.orphans()) == []
    finally:
        store.close()


def test_written_workbooks_store_each_sheets_size(tmp_path: Path) -> None:
    import zipfile

    write_tables(_families(7), tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "book.xlsx") as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(tables.TABLES)
        for name in sheets:
            assert b"<dimension ref=" in book.read(name)[:4096]
    loaded = openpyxl.load_workbook(tmp_path / "book.xlsx", read_only=True)
    sizes = {ws.title: (ws.max_row, ws.max_column) for ws in loaded.worksheets}
    loaded.close()
    assert sizes["families"] == (8, len(tables.columns("families")))
    assert sizes["offences"] == (8, len(tables.columns("offences")))
    assert sizes["members"] == (8, len(tables.columns("members")))
    assert list(read_tables(tmp_path / "book.xlsx").families()) == _families(7)


@pytest.mark.parametrize("name", ["folder", "book.xlsx"])
def test_the_cli_evaluates_tables_on_a_pool_as_on_one_worker(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A pool iterates the families in a thread of its own: the row store must answer there
    # (it once refused, so that a folder of more than 750 families could not be evaluated).
    from pbr.cli import main

    families = _families(40)
    families.append(families[3])  # repeated: both rejected (its rows join both)
    write_tables(families, tmp_path / name)
    runs = []
    for workers in ("1", "2", "auto"):
        out = tmp_path / "decisions.jsonl"  # the same name: the summary names it
        args = ["evaluate", str(tmp_path / name), "--as-of", "2015-03-31", "--workers", workers]
        assert main([*args, "--output", str(out)]) == 1  # rejections
        runs.append((out.read_bytes(), capsys.readouterr().err))
    assert runs[0][0].count(b"\n") == 39
    assert "families read 41 = valid 39 + rejected 2" in runs[0][1]
    assert runs[1] == runs[0]
    assert runs[2] == runs[0]


def test_evaluate_many_takes_the_families_of_tables_on_a_pool(tmp_path: Path) -> None:
    write_tables(_families(12), tmp_path / "t")
    as_of = dt.date(2015, 3, 31)
    pooled = pbr.evaluate_many(read_tables(tmp_path / "t").families(), as_of=as_of, workers=2)
    alone = pbr.evaluate_many(read_tables(tmp_path / "t").families(), as_of=as_of, workers=1)
    assert [d.model_dump_json() for d in pooled] == [d.model_dump_json() for d in alone]
