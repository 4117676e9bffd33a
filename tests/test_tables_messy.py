"""Council tables filled by hand: every bad cell reported once, in plain words, never coerced.

What a fresh-clone trial of ``pbr template`` then ``pbr evaluate FOLDER`` found: one bad row hid
the family row's own errors; cells were trimmed; short rows were padded; rows of commas counted
as families; messages showed patterns; every table error had the type ``bad_row``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.io import records_from_text
from pbr.tables import TABLES, TableInput, read_tables, write_templates


def council(tmp_path: Path, **rows: str) -> Path:
    """Empty templates, then each table's rows appended exactly as given (CSV text lines)."""
    folder = tmp_path / "council"
    write_templates(folder)
    for table, text in rows.items():
        with open(folder / f"{table}.csv", "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return folder


def rejections(read: TableInput) -> list[pbr.Rejection]:
    """The families' rejections (every family read must be rejected here)."""
    found = list(read.families())
    assert all(isinstance(f, pbr.Rejection) for f in found), found
    return [f for f in found if isinstance(f, pbr.Rejection)]


def errors(read: TableInput) -> dict[str, tuple[str, str | None, str]]:
    """Every error of every rejection (families' and rows of no family): loc to type, value, why."""
    found = {e.loc: (e.type, e.value, e.message) for r in rejections(read) for e in r.errors}
    found.update({e.loc: (e.type, e.value, e.message) for r in read.unplaced() for e in r.errors})
    return found


def test_a_bad_row_elsewhere_does_not_hide_the_family_rows_own_errors(tmp_path: Path) -> None:
    folder = council(
        tmp_path,
        families="F1,Bromley,tf-phase-9,31/03/2014,crime_asb;educashun;work,\n",
        members="F1,A1,1980-01-01,\n",
        payments='F1,attachment_fee,"£1,500.00",2013-06-01,\n',
    )
    read = read_tables(folder)
    (rejection,) = rejections(read)  # one rejection for the family, holding every error
    assert [e.loc for e in rejection.errors] == [
        "payments:2.amount",
        "families:2.programme",
        "families:2.attached_on",
        "families:2.identified_for.1",
    ]
    assert read.reconciliation.balanced()
    assert read.reconciliation.rows_reported == {"families": 1, "members": 1, "payments": 1}


def test_rows_left_out_cause_no_invented_errors(tmp_path: Path) -> None:
    """The only member's row is bad: no 'members too short', no 'unknown person' for C1."""
    folder = council(
        tmp_path,
        families="F1,,,2013-05-01,,\n",
        members="F1,A1,1980-02-30,\n",
        offences="F1,A1,2013-01-01\n",
    )
    read = read_tables(folder)
    assert list(errors(read)) == ["members:2.date_of_birth"]
    assert read.reconciliation.balanced()


def test_cells_are_never_trimmed(tmp_path: Path) -> None:
    folder = council(
        tmp_path,
        families=(
            '" F1 ",Bromley ,tf-phase-1,2013-05-01 ,"crime_asb; education ;work",\n'
            "F2\t, tf-phase-1,,2013-05-01,,\n"
            "F3,,,2013-05-01,crime_asb;;work,\n"
        ),
        members='" F1 ",A1 ,1980-01-01,TRUE \n',
        payments='" F1 ",attachment_fee, 2400.00 ,2013-06-01,\n',
    )
    read = read_tables(folder)
    found = errors(read)
    spaced = {loc: value for loc, (kind, value, _) in found.items() if kind == "space_at_edge"}
    assert spaced == {
        "families:2.family_id": '" F1 "',
        "families:2.local_authority": '"Bromley "',
        "families:2.attached_on": '"2013-05-01 "',
        "families:2.identified_for.1": '" education "',
        "families:3.family_id": '"F2\\t"',
        "families:3.local_authority": '" tf-phase-1"',
        "members:2.family_id": '" F1 "',
        "members:2.person_id": '"A1 "',
        "members:2.expectant": '"TRUE "',
        "payments:2.family_id": '" F1 "',
        "payments:2.amount": '" 2400.00 "',
    }
    assert found["families:4.identified_for.1"][:2] == ("empty_item", '""')
    assert "pbr does not trim: remove it" in found["members:2.person_id"][2]
    assert len(found) == len(spaced) + 1  # each cell once: no second error for the same cell
    assert read.reconciliation.balanced()


def test_family_ids_differing_by_spaces_never_join(tmp_path: Path) -> None:
    folder = council(tmp_path, families="F1,,,2013-05-01,,\n", members="F1 ,A1,1980-01-01,\n")
    read = read_tables(folder)
    found = errors(read)  # "F1 " is not F1, yet plainly F1's row: F1 is rejected
    assert "families:2.members" not in found  # the row is F1's: F1 is not said to have none
    kind, value, why = found["members:2.family_id"]
    assert (kind, value) == ("no_family", '"F1 "')
    assert "space or tab at its start or end" in why
    assert read.reconciliation.balanced()


def test_a_workbook_cell_is_never_trimmed_either(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "families"
    book.active.append(["family_id", "attached_on", "local_authority", "programme"])
    book.active["E1"], book.active["F1"] = "identified_for", "local_discretion"
    book.active.append(["F1", "2013-05-01"])
    members = book.create_sheet("members")
    members.append(["family_id", "person_id", "date_of_birth", "expectant"])
    members.append(["F1", " A1", "1980-01-01"])
    book.save(tmp_path / "book.xlsx")
    read = read_tables(tmp_path / "book.xlsx")
    assert errors(read) == {
        "members:2.person_id": (
            "space_at_edge",
            '" A1"',
            "has a space or tab at its start or end; pbr does not trim: remove it",
        )
    }


def test_a_short_row_is_reported_not_padded(tmp_path: Path) -> None:
    folder = council(
        tmp_path,
        families="F1,,,2013-05-01,,\nF2,Bromley,tf-phase-1,2013-05-01\n",
        members="F1,A1,1980-01-01\nF2,A1,1980-01-01,\n",
    )
    read = read_tables(folder)
    found = errors(read)
    assert set(found) == {"families:3.identified_for", "members:2.expectant"}
    kind, value, why = found["families:3.identified_for"]
    assert (kind, value) == ("row_too_short", '""')
    assert why.startswith("fewer cells than the header has columns")
    assert "(2 missing)" in why
    assert found["members:2.expectant"][0] == "row_too_short"
    assert read.reconciliation.balanced()


def test_a_row_of_commas_is_a_row_problem_not_a_family(tmp_path: Path) -> None:
    folder = council(
        tmp_path,
        families="F1,,,2013-05-01,,\n,,,,,\n",
        members="F1,A1,1980-01-01,\n,,,\n",
    )
    read = read_tables(folder)
    results = list(read.families())
    assert [type(r) for r in results] == [pbr.Family]
    rec = read.reconciliation
    assert (rec.families_read, rec.families_rejected) == (1, 0)
    assert rec.balanced()
    assert rec.rows_reported == {"families": 1, "members": 1}
    assert [(e.loc, e.type) for r in read.unplaced() for e in r.errors] == [
        ("members:3.(row)", "empty_row"),
        ("families:3.(row)", "empty_row"),
    ]


def test_messages_say_how_to_write_the_cell(tmp_path: Path) -> None:
    folder = council(  # F1's one error is its own row's; F2's are in its other rows
        tmp_path,
        families="F1,,,31/03/2014,,\nF2,,,2013-05-01,,\n",
        members="F1,A1,1980-01-01,\nF2,A 1,1980-01-01,yes\n",
        school_terms="F2,A 1,2012/13,autumn,many,0,0,false,false,true\n",
    )
    found = errors(read_tables(folder))
    assert found["families:2.attached_on"][2] == "write dates as YYYY-MM-DD, e.g. 2015-03-31"
    assert found["members:3.expectant"][2] == "write true or false"
    assert found["members:3.person_id"][2] == (
        "use 1 to 64 of the characters A-Z, a-z, 0-9, '.', '_' and '-' (no spaces)"
    )
    assert found["school_terms:2.possible_sessions"][2] == "write a whole number, e.g. 120"
    assert all("^" not in why for _, _, why in found.values())  # no pattern shown


def test_table_errors_have_the_types_json_gives_the_same_mistakes(tmp_path: Path) -> None:
    folder = council(
        tmp_path,
        families="F1,,,31/03/2014,,\n",
        members="F1,A 1,1980-01-01,yes\n",
        payments="F1,attachment_fee,1.001,2013-06-01,\n",
    )
    tables = {e.loc.split(".", 1)[1]: e.type for e in rejections(read_tables(folder))[0].errors}
    record = {
        "family_id": "F1",
        "attached_on": "31/03/2014",
        "members": [{"person_id": "A 1", "date_of_birth": "1980-01-01", "expectant": "yes"}],
        "payments": [{"kind": "attachment_fee", "amount": "1.001", "paid_on": "2013-06-01"}],
    }
    (from_json,) = records_from_text(json.dumps(record))
    assert isinstance(from_json, pbr.Rejection)
    in_json = {e.loc.split(".")[-1]: e.type for e in from_json.errors}
    assert (
        tables
        == in_json
        == {
            "attached_on": "date_parsing",
            "person_id": "string_pattern_mismatch",
            "expectant": "bool_type",
            "amount": "money_parsing",
        }
    )


def test_structural_problems_have_their_own_types(tmp_path: Path) -> None:
    folder = council(
        tmp_path,
        families="F1,,,2013-05-01,,\nF1,,,2013-05-01,,\nF2,,,2013-05-01,,\n,x,,2013-05-01,,\n",
        members="F1,A1,1980-01-01,,EXTRA\nF2,A1,1980-01-01\nF9,A1,1980-01-01,\n",
    )
    (folder / "notes.csv").write_text("a\n1\n")
    found = errors(read_tables(folder))
    assert {loc: kind for loc, (kind, _, _) in found.items()} == {
        "members:2.(beyond the header)": "row_too_long",
        "families:3.family_id": "duplicate_family",
        "members:3.expectant": "row_too_short",
        "families:5.family_id": "missing",
        "members:4.family_id": "no_family",
        "notes.csv": "unknown_table",
    }
    assert found["families:5.family_id"][1] is None  # as from JSON: a missing field, no value


def test_a_row_is_named_by_the_line_it_starts_on(tmp_path: Path) -> None:
    # blank lines are skipped and a quoted cell may span lines: rows are not lines
    folder = council(
        tmp_path,
        families='F1,"Bromley\nCouncil",tf-phase-1,2013-05-01,,\n\nF2,Kent,tf-phase-1,x,,\n',
        members="F1,A1,1980-01-01,\n\n\nF2,A1,1x80-01-01,\n",
    )
    found = errors(read_tables(folder))
    assert "families:2.local_authority" in found  # the cell on lines 2 and 3
    assert found["families:5.attached_on"][0] == "date_parsing"  # after the blank line 4
    assert found["members:5.date_of_birth"][0] == "date_parsing"  # after blank lines 3 and 4
    lines = (folder / "members.csv").read_text().splitlines()
    assert lines[5 - 1].startswith("F2,A1,1x80")


def test_a_family_id_with_a_byte_that_is_not_utf8_is_one_rejection(tmp_path: Path) -> None:
    # SQLite holds UTF-8 only: such a family_id once stopped the whole read ("another row
    # available") at the first family after it was looked up.
    folder = council(
        tmp_path,
        families="F1,Leeds,,2012-10-15,,\nF2,Leeds,,2012-10-15,,\n",
        members="F1,A1,1980-01-01,\nF2,A1,1980-01-01,\n",
    )
    for table in ("families", "members"):
        with open(folder / f"{table}.csv", "ab") as handle:
            handle.write(b"F\x963,A1,1980-01-01,\n" if table == "members" else b"F\x963,,,,,\n")
    read = read_tables(folder)
    found = list(read.families())
    assert [type(f).__name__ for f in found] == ["Family", "Family", "Rejection"]
    bad = found[2]
    assert isinstance(bad, pbr.Rejection)
    assert (bad.errors[0].loc, bad.errors[0].type) == ("families:4.family_id", "not_utf8")
    assert read.reconciliation.balanced()


_ROW_BYTES = [
    *(b"F1", b"F2", b"A1", b"C1", b"\x96", b"\xff", b"\xc3\xa9", b" ", b"", b'"', b'"x\ny"'),
    *(b";", b"2012-10-15", b"1980-01-01", b"2013/14", b"autumn", b"60", b"9" * 30, b"true"),
    *(b"=1+1", b"crime_asb;education", b"\x00", b"\r", b"\t", b"tf-phase-1", b"ESA"),
    *(b"\xef\xbb\xbf", b"attachment_fee", b"800.00", b"1e400", b"2021-05-01", b"\xed\xa0\x80"),
    b"supporting-families",
]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(sorted(TABLES)),
            st.lists(st.sampled_from(_ROW_BYTES), min_size=1, max_size=9),
        ),
        max_size=12,
    )
)
def test_any_bytes_in_any_table_are_read_to_the_end_and_reconcile(
    rows: list[tuple[str, list[bytes]]],
) -> None:
    # Whatever the bytes of a table's rows, every family is read or rejected, every row is
    # used or reported, and nothing raises.
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "council"
        write_templates(folder)
        for table, cells in rows:
            with open(folder / f"{table}.csv", "ab") as handle:
                handle.write(b",".join(cells) + b"\n")
        read = read_tables(folder)
        found = list(read.families())
        read.unplaced()
        assert all(isinstance(f, pbr.Family | pbr.Rejection) for f in found)
        assert read.reconciliation.balanced(), read.reconciliation.lines()
        assert read.reconciliation.families_read == len(found)


def test_a_quote_left_open_at_the_end_is_a_row_of_its_own_line(tmp_path: Path) -> None:
    # The quote takes the file's last line break into its cell: the row still starts on line 4,
    # not on line 3 with the row before it (which once left one of the two unreported).
    folder = council(tmp_path, families='F1,\x00,2012-10-15\nF2\n"\n')
    read = read_tables(folder)
    assert len(rejections(read)) == 3
    assert read.reconciliation.balanced(), read.reconciliation.lines()
    assert read.reconciliation.rows_reported == {"families": 3}


def test_a_byte_that_is_not_utf8_beside_other_bad_cells_is_reported_with_them(
    tmp_path: Path,
) -> None:
    # pydantic cannot hold such text: its errors for the row's other cells once raised
    # UnicodeEncodeError, and the read stopped.
    folder = council(tmp_path, families="F1,Leeds,,2012-10-15,,\n", members="F1,A1,1980-01-01,\n")
    with open(folder / "benefit_spells.csv", "ab") as handle:
        handle.write(b"F1,A1,\x96,2013-13-01,\n")
    found = errors(read_tables(folder))
    assert found["benefit_spells:2.benefit"][0] == "not_utf8"
    assert found["benefit_spells:2.start"][0] == "date_parsing"


@pytest.mark.parametrize("tail", [",", ",,", ",,,"])
def test_empty_cells_past_the_header_are_no_value_and_not_reported(
    tmp_path: Path, tail: str
) -> None:
    """Trailing commas hold no value (as a workbook's empty cells past its header): one was
    passed over and two were reported, as a row too long."""
    folder = council(
        tmp_path,
        families="F1,,,2013-05-01,,\n",
        members=f"F1,A1,1980-01-01,false{tail}\n",
        offences=f"F1,A1,2012-06-01{tail}x\n",
    )
    read = read_tables(folder)
    found = errors(read)
    assert list(found) == ["offences:2.(beyond the header)"]  # a value past the header
    assert found["offences:2.(beyond the header)"][:2] == (
        "row_too_long",
        json.dumps(tail[1:] + "x"),
    )
