"""Council tables read streaming: the temporary row store, and the fast XLSX reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _dict_reader_rows(file: Path) -> list[tuple[int, dict[str, str]]]:
    """What `pbr.tables._csv_rows` gave when it read through `csv.DictReader` (the reference)."""
    import csv

    with open(file, newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        reader = csv.DictReader(handle, restval=None)
        return [
            (reader.line_num - tables._line_breaks(row), tables._csv_cells(row)) for row in reader
        ]


_CSV_BITS = st.sampled_from(
    [
        *(b"a", b"F1", b" b ", b",", b",,", b'"', b'"x,y"', b'"p\nq"', b'"r\r\ns"', b"\n"),
        *(b"\r\n", b"\n\n", b"\xef\xbb\xbf", b"\x96", b"\xc3\xa9", b";", b"\t", b"=1+2"),
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.sampled_from(
        [b"family_id,person_id,date_of_birth", b"family_id, person_id ,x", b"a,a,b", b"", b"x"]
    ),
    body=st.lists(_CSV_BITS, max_size=40),
)
def test_csv_rows_are_the_dict_readers(tmp_path: Path, header: bytes, body: list[bytes]) -> None:
    # The reader takes the usual row (a cell for each column) without `csv.DictReader`; any
    # bytes give the rows, cells and line numbers the DictReader gave.
    file = tmp_path / "t.csv"
    file.write_bytes(header + b"\n" + b"".join(body))
    try:
        expected = _dict_reader_rows(file)
    except Exception as exc:  # the same error either way
        with pytest.raises(type(exc)):
            list(tables._csv_rows(file))
        return
    assert list(tables._csv_rows(file)) == expected


def _read_all(path: Path) -> tuple[list[str], list[Any], list[str], list[list[str]]]:
    """Everything a read of tables gives: families (and each part's fields set), rejections,
    row problems and the reconciliation."""
    found = read_tables(path)
    items = []
    for item in found.families():
        items.append(item.model_dump_json())
        if isinstance(item, pbr.Family):
            parts = [
                item,
                *(p for name in tables.TABLES if name != "families" for p in getattr(item, name)),
            ]
            items.append(repr([sorted(p.model_fields_set) for p in parts]))
    unplaced = [r.model_dump_json() for r in found.unplaced()]
    return items, [repr(p) for p in found.problems], unplaced, [found.reconciliation.lines()]


_TRICKY_CELLS = st.sampled_from(
    ["", " 1", "x", "-1", "1.5", "TRUE", "False", "2012-13-01", "2012-02-29", "A9", "0", "1;2"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    families=st.lists(pbr.testing.families(max_events=3), min_size=1, max_size=4),
    spoil=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), _TRICKY_CELLS), max_size=3
    ),
)
def test_a_sound_family_is_read_once_as_it_is_row_by_row(
    families: list[pbr.Family], spoil: list[tuple[int, int, str]]
) -> None:
    # The usual family is validated once, whole (`_plainly_valid`); any table, sound or spoilt
    # cell by cell, reads exactly as validating each row first reads it: the same families
    # (their parts' fields sets too), rejections, row problems and reconciliation.
    import csv
    import tempfile
    from unittest import mock

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "t"
        write_tables(families, folder)
        files = sorted(f for f in folder.glob("*.csv") if f.stat().st_size)
        for which, where, text in spoil:
            file = files[which % len(files)]
            with open(file, newline="") as handle:
                rows = list(csv.reader(handle))
            if len(rows) > 1:
                row = rows[1 + where % (len(rows) - 1)]
                row[where % len(row)] = text
                with open(file, "w", newline="") as handle:
                    csv.writer(handle).writerows(rows)
        fast = _read_all(folder)
        with mock.patch.object(tables, "_plainly_valid", return_value=None):
            slow = _read_all(folder)
    assert fast == slow
