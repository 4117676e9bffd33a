"""Council tables read streaming: the temporary row store, and the fast XLSX reader."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pbr
from pbr import tables
from pbr.tables import read_tables, write_tables
from tests.builders import TABLE_FAMILIES, record

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
        assert _grid(got) == _values(ws.iter_rows(values_only=True))
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
        assert [(n, row, earlier) for n, row, earlier in store.families()] == [
            (*families[0], None)  # the family's first row: none earlier
        ]
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


_CSV_BITS = st.sampled_from(
    [
        *(b"a", b"F1", b" b ", b",", b",,", b'"', b'"x,y"', b'"p\nq"', b'"r\r\ns"', b"\n"),
        *(b"\r\n", b"\n\n", b"\xef\xbb\xbf", b"\x96", b"\xc3\xa9", b";", b"\t", b"=1+2"),
        *(b"\r", b"'-F1", b"''q", b'"a""b"'),
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.sampled_from(
        [b"family_id,person_id,date_of_birth", b"family_id, person_id ,x", b"a,a,b", b"", b"x"]
    ),
    body=st.lists(_CSV_BITS, max_size=40),
)
def test_csv_rows_are_the_files_lines(tmp_path: Path, header: bytes, body: list[bytes]) -> None:
    # Each line with anything on it is one row, numbered by its line (a line ends at CR, LF or
    # CRLF), whatever its quotes: a line with no quote is its cells between commas, one whose
    # quotes are sound is what a CSV reader reads from it alone, and a bad quote is a problem
    # of its own row (never joining the lines after it). A column named twice reads no row.
    import csv
    import json

    from pbr.io import UnreadableFile

    file = tmp_path / "t.csv"
    file.write_bytes(header + b"\n" + b"".join(body))
    names = [name.strip() for name in header.decode().split(",")]
    if len(set(names)) < len(names):
        with pytest.raises(UnreadableFile, match="twice"):
            list(tables._csv_rows(file))
        return
    got = list(tables._csv_rows(file))
    text = file.read_bytes().decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    columns = [n or f"(column {i})" for i, n in enumerate(names, start=1)]
    wanted = [(n, line) for n, line in enumerate(lines[1:], start=2) if line]
    # (a row whose quote is not closed on its line is given once its message is known)
    assert sorted(n for n, _ in got) == [n for n, _ in wanted]
    rows = dict(got)
    for n, line in wanted:
        row = rows[n]
        cells = [row[c] for c in columns if c in row]
        beyond = [row[tables.BEYOND_HEADER]] if tables.BEYOND_HEADER in row else []
        if '"' not in line:
            plain = [tables._restored(c) for c in line.split(",")]
            if not beyond:  # empty cells past the header hold no value: nothing is noted
                assert not any(plain[len(cells) :])
                plain = plain[: len(cells)]
            assert ",".join(cells + beyond) == ",".join(plain)
            assert tables.AS_WRITTEN not in row
        elif tables.AS_WRITTEN in row:
            assert json.loads(row[tables.AS_WRITTEN])[0][3] == "stray_quote"
        else:
            parsed = [tables._restored(c) for c in next(csv.reader([line]))]
            assert cells + beyond == [
                *parsed[: len(cells)],
                *([",".join(parsed[len(cells) :])] if beyond else []),
            ]


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
    families=st.lists(TABLE_FAMILIES, min_size=1, max_size=4),
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


_SST = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<si><t>shared</t></si><si><t xml:space="preserve"> two </t></si>'
    "<si><r><t>ri</t></r><r><t>ch</t></r></si></sst>"
)
_CELLS = [
    '<c r="{col}{row}" t="inlineStr"><is><t>plain</t></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is><t xml:space="preserve"> sp &amp; &lt;x&gt; </t></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is><r><rPr/><t>ru</t></r><r><t>ns</t></r></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is><t>a</t><r><t>b</t><t>c</t></r>'
    '<rPh sb="0" eb="1"><t>x</t></rPh></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is><t>first</t><t>last</t></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is><t></t></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is/></c>',
    '<c r="{col}{row}" t="inlineStr"></c>',
    '<c r="{col}{row}" t="inlineStr"><v>7</v></c>',
    '<c r="{col}{row}" t="s"><v>0</v></c>',
    '<c r="{col}{row}" t="s"><v>1</v></c>',
    '<c r="{col}{row}" t="s"><v>2</v></c>',
    '<c r="{col}{row}"><v>42</v></c>',
    '<c r="{col}{row}" t="n"><v>1.5</v></c>',
    '<c r="{col}{row}"><v>1E3</v></c>',
    '<c r="{col}{row}" s="1"><v>41275</v></c>',
    '<c r="{col}{row}" s="1"><v>41275.75</v></c>',
    '<c r="{col}{row}" t="b"><v>1</v></c>',
    '<c r="{col}{row}" t="b"><v>0</v></c>',
    '<c r="{col}{row}" t="str"><v>formula text</v></c>',
    '<c r="{col}{row}" t="e"><v>#N/A</v></c>',
    '<c r="{col}{row}" t="d"><v>2013-01-01T00:00:00</v></c>',
    '<c r="{col}{row}"><f>A1</f><v>3</v></c>',
    '<c r="{col}{row}"><f>A1</f></c>',
    '<c r="{col}{row}"><v></v></c>',
    '<c r="{col}{row}"><v>1</v><v>2</v></c>',
    '<c r="{col}{row}"/>',
    '<c t="inlineStr"><is><t>no coordinate</t></is></c>',
    "<c><v>5</v></c>",
    '<c r="{col}{row}" t="inlineStr"><is><t>line\nbreak</t></is></c>',
    '<c r="{col}{row}" t="inlineStr"><is><r><t></t></r><r><rPr/></r><r><t>z</t></r></is></c>',
]


def _workbook(tmp_path: Path, rows: list[tuple[str | None, list[int]]]) -> Path:
    """A workbook whose ``members`` sheet holds `rows`: each row's ``r`` and its cells (indexes
    into `_CELLS`), with shared strings and a date style."""
    import zipfile

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "members"
    sheet["A1"] = dt.date(2013, 1, 1)  # style 1: a date format
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    xml: list[str] = []
    at = 0  # the row's number, as a reader counts it: its r, or the row before's and 1
    for number, cells in rows:
        at = int(float(number)) if number is not None else at + 1
        row = "".join(_CELLS[c].format(col="ABCDEFGH"[i % 8], row=at) for i, c in enumerate(cells))
        xml.append(f'<row r="{number}">{row}</row>' if number is not None else f"<row>{row}</row>")
    sheet_xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(xml)}</sheetData></worksheet>"
    )
    made = tmp_path / "made.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(made, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml.encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            target.writestr(info, data)
        target.writestr("xl/sharedStrings.xml", _SST)
    return made


def _grid(pairs: Any) -> list[tuple[Any, ...]]:
    """The fast reader's (number, values) rows as a grid from row 1 (a row not stored: empty),
    without trailing empty cells; each number once."""
    found = dict(pairs)
    return _values(found.get(n, ()) for n in range(1, max(found, default=0) + 1))


def _both_readers(
    path: Path, reference: str = "read-only"
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The fast reader's grid, and openpyxl's: read-only (rows and cells in order), or
    "placed" (a workbook loaded whole, where each cell is placed by its reference)."""
    loaded = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        [sheet] = loaded.worksheets
        fast = tables._fast_values(sheet)
        assert fast is not None
        got = _grid(fast)
        if reference == "read-only":
            return got, _values(sheet.iter_rows(values_only=True))
    finally:
        loaded.close()
    whole = openpyxl.load_workbook(path, data_only=True)
    placed = _values(whole.worksheets[0].iter_rows(min_row=1, min_col=1, values_only=True))
    while got and got[-1] == ():  # a stored row with no value: none in a whole workbook
        got.pop()
    while placed and placed[-1] == ():
        placed.pop()
    return got, placed


def test_the_fast_xlsx_reader_reads_every_kind_of_cell_as_openpyxl(tmp_path: Path) -> None:
    rows: list[tuple[str | None, list[int]]] = [
        ("1", list(range(8))),
        ("2", list(range(8, 16))),
        ("4", list(range(16, 24))),  # row 3 left out
        ("5", [24, 25, 26, 27, 28, 29]),
        (None, [0, 27, 12]),  # no r: the next row
        ("8.0", [1]),  # a whole number written as a real
    ]
    fast, plain = _both_readers(_workbook(tmp_path, rows))
    assert fast == plain
    assert fast[0][:5] == ("plain", " sp & <x> ", "runs", "ac", "last")
    assert fast[1][1:4] == ("shared", " two ", "rich")
    assert fast[1][7] == dt.datetime(2013, 1, 1)  # the date style, read as a date
    assert fast[2] == ()  # row 3 left out
    assert fast[3][:3] == (dt.datetime(2013, 1, 1, 18), True, False)


def test_the_fast_xlsx_reader_places_rows_and_cells_stored_out_of_order(tmp_path: Path) -> None:
    """openpyxl's own reader (read-only) skipped a row stored after a higher one and dropped
    the cells stored before the row's last-stored cell but right of it: values lost, exit 0."""
    path = _workbook(tmp_path, [("1", [0, 1]), ("4", [2, 3]), ("3", [4]), ("2", [0, 1])])
    swapped = _rewritten(path, lambda xml: xml.replace('r="A2"', 'r="C2"', 1))  # C2, then B2
    with zipfile.ZipFile(swapped) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert sheet_xml.index('r="A4"') < sheet_xml.index('r="A3"') < sheet_xml.index('r="C2"')
    fast, placed = _both_readers(swapped, "placed")
    assert fast == placed
    assert fast[1] == (None, " sp & <x> ", "plain")  # C2 read where it is, B2 kept
    assert fast[2] == ("last",)  # row 3, stored after row 4, read
    assert fast[3] == ("runs", "ac")


def _rewritten(path: Path, fix: Any) -> Path:
    """A copy of the workbook at `path` with its first sheet's XML changed by `fix`."""
    made = path.with_name(f"rewritten-{path.name}")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(made, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = fix(data.decode()).encode()
            target.writestr(info, data)
    return made


def test_a_cell_stored_twice_stops_the_read_naming_it(tmp_path: Path) -> None:
    from pbr.io import UnreadableFile

    path = _workbook(tmp_path, [("1", [0, 1]), ("2", [2, 3, 4])])
    twice = _rewritten(path, lambda xml: xml.replace('r="C2"', 'r="A2"', 1))
    loaded = openpyxl.load_workbook(twice, read_only=True, data_only=True)
    try:
        fast = tables._fast_values(loaded.worksheets[0], where="book.xlsx: sheet members")
        assert fast is not None
        with pytest.raises(UnreadableFile, match=r"sheet members: the cell A2 is stored twice"):
            list(fast)
    finally:
        loaded.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(1, 12).map(str)),
            st.lists(st.integers(0, len(_CELLS) - 1), max_size=10),
        ),
        max_size=8,
    )
)
def test_the_fast_xlsx_reader_reads_any_sheet_as_openpyxl(
    tmp_path: Path, rows: list[tuple[str | None, list[int]]]
) -> None:
    """As openpyxl reads a workbook loaded whole, which places each cell by its reference; a
    row stored twice is given twice (the row store refuses it), a cell stored twice stops it."""
    from pbr.io import UnreadableFile

    numbers, row, twice = [], 0, False
    for number, cells in rows:  # where the parser puts each row and cell (as openpyxl's does)
        row = int(number) if number is not None else row + 1
        numbers.append(row)
        columns, column = set(), 0
        for i, c in enumerate(cells):
            column = i % 8 + 1 if "{col}" in _CELLS[c] else column + 1
            twice = twice or column in columns
            columns.add(column)
    path = _workbook(tmp_path, rows)
    if twice:
        loaded = openpyxl.load_workbook(path, read_only=True, data_only=True)
        fast = tables._fast_values(loaded.worksheets[0])
        assert fast is not None
        with pytest.raises(UnreadableFile, match="stored twice"):
            list(fast)
        loaded.close()
    elif len(set(numbers)) < len(numbers):
        loaded = openpyxl.load_workbook(path, read_only=True, data_only=True)
        fast = tables._fast_values(loaded.worksheets[0])
        assert fast is not None
        assert [n for n, _ in fast] == numbers  # every row given, none dropped
        loaded.close()
    else:
        fast_grid, placed = _both_readers(path, "placed")
        assert fast_grid == placed


def _read_by(reader: Any, path: Path) -> tuple[list[tuple[int, tuple[Any, ...]]], dict[Any, str]]:
    """A reader's rows (trailing empty cells left out) and marks, or the error that stopped it."""
    from pbr.io import UnreadableFile

    loaded = openpyxl.load_workbook(path, read_only=True, data_only=True)
    marks: dict[tuple[int, int], str] = {}
    try:
        rows = reader(loaded.worksheets[0], marks, "book.xlsx: sheet members")
        assert rows is not None
        return [(n, *_values([values])) for n, values in rows], marks
    except UnreadableFile as exc:
        return [], {"stopped": str(exc)}
    finally:
        loaded.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(1, 12).map(str)),
            st.lists(st.integers(0, len(_CELLS) - 1), max_size=10),
        ),
        max_size=8,
    )
)
def test_openpyxls_parser_places_any_sheet_as_the_fast_reader_does(
    tmp_path: Path, rows: list[tuple[str | None, list[int]]]
) -> None:
    """The reader used where the fast one cannot be: each row by its number and each cell by
    its column, in any order stored, the same marks, and a cell stored twice stops it alike.
    (``iter_rows``, the reader it replaces, skipped rows and cells stored out of order.)"""
    path = _workbook(tmp_path, rows)
    assert _read_by(tables._parsed_values, path) == _read_by(tables._fast_values, path)


def test_openpyxls_parser_stops_on_a_cell_stored_twice_as_the_fast_reader_does(
    tmp_path: Path,
) -> None:
    path = _workbook(tmp_path, [("1", [0, 1]), ("2", [2, 3, 4])])
    twice = _rewritten(path, lambda xml: xml.replace('r="C2"', 'r="A2"', 1))
    said = "book.xlsx: sheet members: the cell A2 is stored twice"
    assert _read_by(tables._parsed_values, twice)[1]["stopped"].startswith(said)
    assert _read_by(tables._fast_values, twice) == _read_by(tables._parsed_values, twice)


def _typed_reference(table: str, values: dict[str, str]) -> dict[str, object]:
    """`pbr.tables._typed` as it was first written, cell by cell (the reference).

    A count with a leading zero (``0123``) stays text, as JSON cannot write it.
    """
    import re

    model = tables.TABLES[table]
    assert model is not None
    kinds = {
        name: kind
        for name, info in model.model_fields.items()
        for kind in (int, bool)
        if info.annotation is kind or info.annotation == kind | None
    }
    row: dict[str, object] = {}
    for column, text in values.items():
        if column == "family_id" or text == "" or column in tables._MARKERS:
            continue
        kind = kinds.get(column)
        if kind is int and re.fullmatch(r"0|[1-9][0-9]*", text) and len(text) <= 9:
            row[column] = int(text)
        elif kind is bool and text.lower() in ("true", "false"):
            row[column] = text.lower() == "true"
        else:
            row[column] = text
    return row


@settings(max_examples=300)
@given(
    table=st.sampled_from([name for name in tables.TABLES if name != "families"]),
    data=st.data(),
)
def test_typed_cells_are_converted_as_the_reference_converts_them(
    table: str, data: st.DataObject
) -> None:
    names = st.sampled_from([*tables.columns(table), tables.BEYOND_HEADER, "other"])
    texts = st.one_of(
        st.sampled_from(["", "0", "0123", "123456789", "1234567890", "TRUE", "False", "yes"]),
        st.sampled_from(["\u0661\u0662", "\uff11", "1 ", "-1", "+1", "1_0", "\u0130"]),
        st.text(max_size=4),
    )
    values = data.draw(st.dictionaries(names, texts, max_size=10))
    typed = tables._typed(table, values)
    assert typed == _typed_reference(table, values)
    assert list(typed) == list(_typed_reference(table, values))  # the same order
