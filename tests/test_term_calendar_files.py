"""A council's term calendar read from a file, checked whole, and given to every command.

Until this, a council's term dates could be given only from Python: ``pbr evaluate``, ``explain``,
``audit`` and ``replay`` judged every family on the default dates, and ``pbr replay`` told the
user to go to Python to replay a decision that named a calendar.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.calendars import load_term_calendar, parse_term_calendar, term_calendar_data
from pbr.cli import main
from pbr.errors import CalendarError
from pbr.periods import TermCalendar
from pbr.rules import PHASE_ONE
from tests.builders import family, term_rows

AS_OF = date(2013, 7, 31)

KENT = TermCalendar(
    {
        ("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20)),
        ("2012/13", "spring"): (date(2013, 1, 3), date(2013, 3, 28)),
        ("2012/13", "summer"): (date(2013, 4, 15), date(2013, 7, 23)),
    },
    name="kent",
)

KENT_TOML = """\
name = "kent"

[[terms]]
academic_year = "2012/13"
term = "autumn"
start = 2012-09-04
end = 2012-12-20

[[terms]]
academic_year = "2012/13"
term = "spring"
start = 2013-01-03
end = 2013-03-28

[[terms]]
academic_year = "2012/13"
term = "summer"
start = 2013-04-15
end = 2013-07-23
"""

KENT_CSV = """\
term,academic_year,start,end
autumn,2012/13,2012-09-04,2012-12-20
spring,2012/13,2013-01-03,2013-03-28

summer,2012/13,2013-04-15,2013-07-23
"""


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _council_family() -> pbr.Family:
    """A child five on 3 September 2012: the council's autumn term (from the 4th) needs a row."""
    return family(
        family_id="K1",
        attached_on="2012-10-01",
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2007-09-03"},
        ],
        school_terms=term_rows("C1", [("2012/13", "spring"), ("2012/13", "summer")]),
    )


def _problems(call: object) -> tuple[str, ...]:
    with pytest.raises(CalendarError) as raised:
        call()  # type: ignore[operator]
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


# --- reading: the three formats say the same ------------------------------------------------------


def test_toml_json_and_csv_read_as_the_same_calendar(tmp_path: Path) -> None:
    as_json = json.dumps(term_calendar_data(KENT))
    assert load_term_calendar(_write(tmp_path, "a.toml", KENT_TOML)) == KENT
    assert load_term_calendar(_write(tmp_path, "a.json", as_json)) == KENT
    assert load_term_calendar(_write(tmp_path, "kent.csv", KENT_CSV)) == KENT  # named by its file
    assert pbr.load_term_calendar(str(tmp_path / "a.toml")) == KENT


def test_a_calendar_read_back_from_its_data_is_itself() -> None:
    assert parse_term_calendar(term_calendar_data(KENT)) == KENT
    assert [t["term"] for t in term_calendar_data(KENT)["terms"]] == ["autumn", "spring", "summer"]


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = _write(tmp_path, "kent.csv", b"\xef\xbb\xbf" + KENT_CSV.encode())
    assert load_term_calendar(path) == KENT


# --- every problem named, all at once --------------------------------------------------------------


def test_every_problem_of_a_file_is_a_line_naming_its_place(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        "academic_year,term,start,end\n"
        "2012/13,autumn,2012-09-04,2012-12-20\n"
        "2012/13,summer,2013-04-15,2012-07-23\n"
        "2012/13,winter,4 Sept 2012,2013-01-01\n"
        "2012/14,spring,2013-01-07,2013-02-30\n"
        "2012/13,autumn,2012-09-05,2012-12-20\n"
        "2012/13,spring\n",
    )
    assert _problems(lambda: load_term_calendar(path)) == (
        f"{path}: line 3 (2012/13 summer): starts 2013-04-15, after its last day 2012-07-23",
        f"{path}: line 4: term: 'winter' is not autumn, spring or summer",
        f"{path}: line 4: start: '4 Sept 2012' is not a date written like 2012-09-04",
        f"{path}: line 5: academic_year: '2012/14' is not an academic year written like '2012/13'",
        f"{path}: line 5: end: '2013-02-30' is not a date written like 2012-09-04",
        f"{path}: line 6: 2012/13 autumn is given twice (first at line 2)",
        f"{path}: line 7: 2 cells where the header has 4",
    )


@pytest.mark.parametrize(
    ("terms", "said"),
    [
        (  # runs into the default spring (from 1 January)
            [("2012/13", "autumn", "2012-09-04", "2013-01-08")],
            "<calendar>: 2012/13 autumn (2012-09-04 to 2013-01-08, terms[0]) overlaps 2012/13 "
            "spring (2013-01-01 to 2013-03-31, the default dates): each term ends before the "
            "next starts (a term not given keeps the default dates)",
        ),
        (  # two given terms, the spring before the autumn
            [
                ("2013/14", "autumn", "2013-09-02", "2013-12-20"),
                ("2013/14", "spring", "2013-08-05", "2013-08-30"),
            ],
            "<calendar>: 2013/14 autumn (2013-09-02 to 2013-12-20, terms[0]) is out of order "
            "with 2013/14 spring (2013-08-05 to 2013-08-30, terms[1])",
        ),
        (  # a summer term ending in the next school year
            [("2012/13", "summer", "2013-04-15", "2013-09-02")],
            "<calendar>: terms[0] (2012/13 summer): 2013-04-15 to 2013-09-02 is not within "
            "academic year 2012/13 (2012-08-01 to 2013-08-31)",
        ),
        (  # ends the day the next begins: one day in two terms
            [
                ("2012/13", "autumn", "2012-09-04", "2012-12-20"),
                ("2012/13", "spring", "2012-12-20", "2013-03-28"),
            ],
            "<calendar>: 2012/13 autumn (2012-09-04 to 2012-12-20, terms[0]) overlaps 2012/13 "
            "spring (2012-12-20 to 2013-03-28, terms[1])",
        ),
    ],
)
def test_terms_that_overlap_or_run_out_of_order_are_refused(
    terms: list[tuple[str, str, str, str]], said: str
) -> None:
    data = {
        "name": "Kent",
        "terms": [{"academic_year": y, "term": t, "start": s, "end": e} for y, t, s, e in terms],
    }
    (problem,) = _problems(lambda: parse_term_calendar(data))
    assert problem.startswith(said), problem


def test_terms_a_day_apart_are_in_order() -> None:
    calendar = parse_term_calendar(
        {
            "name": "Kent",
            "terms": [
                {"academic_year": "2012/13", "term": "autumn", "start": "2012-08-01",
                 "end": "2012-12-20"},
                {"academic_year": "2012/13", "term": "spring", "start": "2012-12-21",
                 "end": "2013-03-28"},
                {"academic_year": "2012/13", "term": "summer", "start": "2013-03-29",
                 "end": "2013-08-31"},
            ],
        }
    )  # fmt: skip
    assert calendar.term("2012/13", "summer").end == date(2013, 8, 31)
    assert calendar.term("2013/14", "autumn").start == date(2013, 9, 1)  # the default


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ([], "<calendar>: a term calendar is an object with a name and its terms, not an array"),
        ({"terms": []}, "<calendar>: name: the council's name for the calendar"),
        ({"name": "default", "terms": []}, "<calendar>: name: 'default' is what decisions call"),
        ({"name": "Own", "terms": []}, "<calendar>: name: 'Own' is what decisions call"),
        ({"name": " Kent", "terms": []}, "<calendar>: name: ' Kent': at most 80 characters"),
        ({"name": "K\x1b[2J", "terms": []}, "<calendar>: name: 'K\\x1b[2J' holds a control"),
        ({"name": "K" * 81, "terms": []}, "<calendar>: name: 'KKKK"),
        ({"name": "K"}, "<calendar>: terms: a list of terms, each with academic_year, term, "),
        ({"name": "K", "terms": {}}, "<calendar>: terms: a list of terms, each with"),
        ({"name": "K", "terms": []}, "<calendar>: no terms: a term calendar gives the dates"),
        ({"name": "K", "terms": [], "council": "x"}, "<calendar>: 'council' is not a field"),
        ({"name": "K", "terms": ["2012/13"]}, "<calendar>: terms[0]: a term is an object with"),
    ],
)
def test_a_calendar_that_is_not_one_is_refused_saying_why(data: object, said: str) -> None:
    problems = _problems(lambda: parse_term_calendar(data))
    assert problems[0].startswith(said), problems


@pytest.mark.parametrize(
    ("term", "said"),
    [
        ({"term": "autumn", "start": "2012-09-04", "end": "2012-12-20"}, "academic_year is missing"),
        ({"academic_year": "2012/13", "term": "autumn", "start": "2012-09-04", "end": "2012-12-20",
          "note": "x"}, "'note' is not a field of a term"),
        ({"academic_year": 2012, "term": "autumn", "start": "2012-09-04", "end": "2012-12-20"},
         "academic_year: 2012 is not an academic year"),
        ({"academic_year": "２０12/13", "term": "autumn", "start": "2012-09-04",
          "end": "2012-12-20"}, "academic_year: '２０12/13' is not an academic year"),
        ({"academic_year": "2012/13", "term": "Autumn", "start": "2012-09-04",
          "end": "2012-12-20"}, "term: 'Autumn' is not autumn, spring or summer"),
        ({"academic_year": "2012/13", "term": "autumn", "start": "2012-9-4", "end": "2012-12-20"},
         "start: '2012-9-4' is not a date"),
        ({"academic_year": "2012/13", "term": "autumn", "start": "20120904", "end": "2012-12-20"},
         "start: '20120904' is not a date"),
        ({"academic_year": "2012/13", "term": "autumn", "start": None, "end": "2012-12-20"},
         "start: None is not a date"),
    ],
)  # fmt: skip
def test_a_term_field_is_read_as_written_or_refused(term: dict[str, object], said: str) -> None:
    problems = _problems(lambda: parse_term_calendar({"name": "K", "terms": [term]}))
    assert problems == (f"<calendar>: terms[0]: {said}",) or problems[0].startswith(
        f"<calendar>: terms[0]: {said}"
    ), problems


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("k.toml", "name = \n", "not valid TOML"),
        ("k.toml", 'name = "K"\n[[terms]]\nacademic_year = "2012/13"\nterm = "autumn"\n'
         "start = 2012-09-04T09:00:00\nend = 2012-12-20\n",
         "terms[0]: start: 2012-09-04 09:00:00 is not a date written like 2012-09-04"),
        ("k.json", '{"name": "K", "name": "L", "terms": []}', "not valid JSON: key 'name' is given twice in one object (give it once)"),
        ("k.json", "[" * 100_000, "not a term calendar: nested too deeply"),
        ("k.csv", "", "empty: a header academic_year,term,start,end and a term a row"),
        ("k.csv", "year,term,from,to\n", "line 1: the header is 'year','term','from','to'"),
        ("k.csv", '{"name": "K"}\n', "line 1: the header is '{\"name\": \"K\"}'"),
        ("k.csv", 'academic_year,term,start,end\n"2012/13,autumn\n', "not valid CSV"),
        ("k.yaml", "name: K\n", "a term calendar file ends in .toml, .json or .csv"),
        ("k.csv", b"academic_year,term,start,end\n2012/13,autumn,2012-09-04,\xff\n",
         "not UTF-8 text (byte 56 is 0xff)"),
        ("k.csv", b"academic\x00_year", "not text (a NUL byte at byte 9 of line 1)"),
        ("k.csv", bz2.compress(b"academic_year,term,start,end\n"),
         "the term calendar is bzip2-compressed: decompress it first"),
        ("k.csv", "academic_year,term,start,end\n".encode("utf-16"),
         "the term calendar is UTF-16: save it as UTF-8"),
        ("k.csv", b"a" * ((1 << 20) + 1), "larger than a term calendar may be (1 MiB)"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_as_a_calendar_is_one_line_naming_it(
    tmp_path: Path, name: str, text: str | bytes, said: str
) -> None:
    path = _write(tmp_path, name, text)
    (problem,) = _problems(lambda: load_term_calendar(path))
    assert problem.startswith(f"{path}: "), problem
    assert said in problem, problem


def test_a_folder_or_a_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "k.csv").mkdir()
    (problem,) = _problems(lambda: load_term_calendar(tmp_path / "k.csv"))
    assert problem == f"{tmp_path / 'k.csv'}: cannot read the term calendar: Is a directory"
    (problem,) = _problems(lambda: load_term_calendar(tmp_path / "none.toml"))
    assert problem.endswith("cannot read the term calendar: No such file or directory")


def test_data_given_for_a_path_says_how_to_read_data() -> None:
    with pytest.raises(TypeError, match=r"got dict; read a calendar as data with parse_term"):
        load_term_calendar({"name": "K"})  # type: ignore[arg-type]


# --- in the batch API ----------------------------------------------------------------------------


def test_evaluate_many_judges_every_family_on_the_calendar_given() -> None:
    fam = _council_family()
    alone = pbr.evaluate(fam, as_of=AS_OF, rules=PHASE_ONE.with_term_calendar(KENT))
    assert pbr.evaluate(fam, as_of=AS_OF).payable == Decimal("700.00")
    assert alone.payable == Decimal("0.00")
    texts = [fam.model_dump_json()]
    for decided in (
        pbr.evaluate_many(texts, as_of=AS_OF, term_calendar=KENT, workers=1),
        pbr.evaluate_many(texts, as_of=AS_OF, rules=PHASE_ONE, term_calendar=KENT, workers=1),
        pbr.evaluate_many(texts, as_of=AS_OF, term_calendar=KENT, workers=2, chunk_size=1),
    ):
        (decision,) = decided
        assert isinstance(decision, pbr.Decision)
        assert decision.model_dump_json(exclude={"provenance"}) == alone.model_dump_json(
            exclude={"provenance"}
        )
        assert decision.provenance is not None
        assert alone.provenance is not None
        assert decision.provenance.rules_hash == alone.provenance.rules_hash


def test_a_calendar_file_name_given_for_a_calendar_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"got str 'kent.toml'; load a file with pbr.load_term"):
        pbr.evaluate_many([], as_of=AS_OF, term_calendar="kent.toml")  # type: ignore[arg-type]


# --- on the command line ---------------------------------------------------------------------------


def _families(tmp_path: Path, count: int = 1) -> Path:
    fam = _council_family()
    lines = [fam.model_copy(update={"family_id": f"K{i}"}).model_dump_json() for i in range(count)]
    return _write(tmp_path, "families.jsonl", "\n".join(lines) + "\n")


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as stop:
        status = int(stop.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_pbr_evaluate_judges_on_the_calendar_file_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    families = _families(tmp_path, 3)
    calendar = _write(tmp_path, "kent.toml", KENT_TOML)
    out = tmp_path / "out.jsonl"
    status, _, err = _cli(
        capsys, "evaluate", str(families), "--as-of", "2013-07-31", "--format", "json",
        "--output", str(out), "--term-calendar", str(calendar), "--workers", workers,
    )  # fmt: skip
    assert status == 0, err
    rules = PHASE_ONE.with_term_calendar(KENT)
    expected = [
        json.loads(pbr.evaluate(f, as_of=AS_OF, rules=rules).model_dump_json())
        for f in pbr.read_records(str(families))
        if isinstance(f, pbr.Family)
    ]
    got = [json.loads(line) for line in out.read_text().splitlines()]
    for decision in (*got, *expected):
        decision.pop("provenance")
    assert got == expected
    assert "payable now, all programmes: £0.00" in err
    assert "term calendar: kent (3 terms of its own dates); rules_hash " in err


def test_pbr_evaluate_without_a_calendar_is_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _cli(capsys, "evaluate", str(_families(tmp_path)), "--as-of", "2013-07-31")
    assert status == 0, err
    assert "payable now, all programmes: £700.00" in out
    assert "term calendar" not in out + err


def test_a_bad_calendar_stops_the_run_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = _write(
        tmp_path, "kent.csv", "academic_year,term,start,end\n2012/13,winter,x,2013-01-01\n"
    )
    out = tmp_path / "out.jsonl"
    status, stdout, err = _cli(
        capsys, "evaluate", str(_families(tmp_path)), "--as-of", "2013-07-31",
        "--output", str(out), "--term-calendar", str(calendar),
    )  # fmt: skip
    assert status == 2
    assert stdout == ""
    assert err == (
        f"pbr: {calendar}: line 2: term: 'winter' is not autumn, spring or summer\n"
        f"pbr: {calendar}: line 2: start: 'x' is not a date written like 2012-09-04\n"
    )
    assert not out.exists()


def test_pbr_explain_heads_the_paper_with_the_calendar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    families = _families(tmp_path)
    calendar = _write(tmp_path, "kent.csv", KENT_CSV)
    status, out, err = _cli(
        capsys, "explain", str(families), "K0", "--as-of", "2013-07-31",
        "--term-calendar", str(calendar),
    )  # fmt: skip
    assert status == 0, err
    assert "\nSchool terms: kent term calendar (not the default dates)\n" in out
    assert "no record for 2012/13 autumn (kent term calendar)" in out
    status, out, _ = _cli(capsys, "explain", str(families), "K0", "--as-of", "2013-07-31")
    assert "term calendar" not in out


def test_pbr_replay_replays_decisions_made_on_a_calendar_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    families = _families(tmp_path, 2)
    calendar = _write(tmp_path, "kent.toml", KENT_TOML)
    decisions = tmp_path / "decisions.jsonl"
    made = _cli(
        capsys, "evaluate", str(families), "--as-of", "2013-07-31", "--format", "json",
        "--output", str(decisions), "--term-calendar", str(calendar),
    )  # fmt: skip
    assert made[0] == 0
    replay = ("replay", str(decisions), "--families", str(families))
    status, out, _ = _cli(capsys, *replay, "--term-calendar", str(calendar))
    assert status == 0, out
    assert out == "replayed 2: 2 identical, 0 different\n"
    status, out, _ = _cli(capsys, *replay)
    assert status == 1
    assert (
        "note: 2 decision(s) were made under a term calendar of their council (kent), not the "
        "term dates they were replayed with: the default dates: give that calendar's file with "
        "--term-calendar FILE\n"
    ) in out
    other = _write(tmp_path, "other.csv", "academic_year,term,start,end\n"
                   "2012/13,autumn,2012-09-04,2012-12-20\n")  # fmt: skip
    status, out, _ = _cli(capsys, *replay, "--term-calendar", str(other))
    assert status == 1
    assert (
        f"the calendar of --term-calendar {other}, which is another: give that calendar's file "
        "with --term-calendar FILE\n"
    ) in out
    assert "differs (term calendar: the decision was made under the term calendar 'kent'; " in out
    assert (
        "replay it with that calendar (pbr replay --term-calendar FILE; from Python, rules=)"
        in (out)
    )


def test_pbr_audit_judges_claims_on_the_calendar_they_were_made_under(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    families = _families(tmp_path)
    calendar = _write(tmp_path, "kent.toml", KENT_TOML)
    claims = _write(
        tmp_path,
        "claims.csv",
        "claim_id,family_id,kind,amount,claimed_on\n"
        "C1,K0,attachment_fee,3200.00,2012-10-01\n"
        "C2,K0,crime_asb_education,700.00,2013-07-31\n",
    )
    audit = ("audit", str(claims), "--families", str(families), "--as-of", "2013-07-31")
    status, out, err = _cli(capsys, *audit)
    assert status == 0, out + err
    assert "term calendar" not in out
    report = tmp_path / "report.md"
    given = ("--term-calendar", str(calendar), "--report", str(report))
    status, out, err = _cli(capsys, *audit, *given)
    assert status == 1, out + err
    assert "term calendar, tf-phase-1/1.0: kent (3 terms of its own dates)\n" in out
    assert "  row 3 C2 K0 crime_asb_education: RESULT_NOT_MET\n" in out
    assert "- **Term calendar, tf-phase-1/1.0**: kent (3 terms of its own dates)\n" in (
        report.read_text()
    )


# --- what a spreadsheet saves, and names that no output could hold --------------------------------


def test_a_spreadsheet_s_trailing_commas_and_spaced_column_names_are_read_past(
    tmp_path: Path,
) -> None:
    text = (
        " term ,academic_year, start,end ,\r\n"
        "autumn,2012/13,2012-09-04,2012-12-20,\r\n"
        "spring,2012/13,2013-01-03,2013-03-28,,\r\n"
        ",,,,\r\n"
        "summer,2012/13,2013-04-15,2013-07-23\r\n"
    )
    assert load_term_calendar(_write(tmp_path, "kent.csv", text)) == KENT


def test_a_value_beyond_the_columns_is_still_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "kent.csv",
        "academic_year,term,start,end\n2012/13,autumn,2012-09-04,2012-12-20,x\n",
    )
    assert _problems(lambda: load_term_calendar(path)) == (
        f"{path}: line 2: 5 cells where the header has 4",
    )


@pytest.mark.parametrize("name", ["K" + chr(0xD800), "K" + chr(0xDCFF)])
def test_a_name_no_output_could_hold_is_refused(name: str) -> None:
    # a lone surrogate (a JSON escape, or a file name's byte that is not UTF-8) was taken, and
    # every command then failed writing its decisions: "unexpected error"
    data = {"name": name, "terms": term_calendar_data(KENT)["terms"]}
    (problem,) = _problems(lambda: parse_term_calendar(data))
    assert problem.startswith("<calendar>: name: "), problem
    assert "no byte that is not UTF-8" in problem


FORMAT = "a format character (shown as nothing, or reordering the text around it)"


@pytest.mark.parametrize(
    ("character", "said"),
    [
        ("\u2028", "a line separator, U+2028, at character 5"),
        ("\u2029", "a paragraph separator, U+2029, at character 5"),
        ("\u202e", f"{FORMAT}, U+202E, at character 5"),
        ("\u200b", f"{FORMAT}, U+200B, at character 5"),
        ("\ufeff", f"{FORMAT}, U+FEFF, at character 5"),
        ("\u00ad", f"{FORMAT}, U+00AD, at character 5"),
        ("\x1b", "a control character, U+001B, at character 5"),
    ],
)
def test_a_name_that_would_forge_a_line_of_the_summary_is_refused(
    tmp_path: Path, character: str, said: str
) -> None:
    # "Kent\u2028  results payable now: £9,999.00" drew a line of its own in the summary of
    # `pbr evaluate`, as a record's text held to the same rule (format 1.3) cannot
    name = f"Kent{character}  results payable now: £9,999.00"
    path = tmp_path / "kent.json"
    path.write_text(json.dumps({"name": name, "terms": term_calendar_data(KENT)["terms"]}))
    (problem,) = _problems(lambda: load_term_calendar(path))
    assert problem.startswith(f"{path}: name: {name!r} holds {said}"), problem
    assert character not in problem


def test_a_csv_file_named_with_a_line_separator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kent\u2028x.csv"
    try:
        path.write_text(KENT_CSV)
    except (UnicodeEncodeError, OSError):  # a file system that refuses the name
        pytest.skip("the file system refuses the name")
    (problem,) = _problems(lambda: load_term_calendar(path))
    assert "name (a CSV calendar is named by its file's name): 'kent\\u2028x' holds" in problem


def test_a_csv_file_s_name_is_named_as_the_calendar_s(tmp_path: Path) -> None:
    for stem, said in (("own", "'own' is what decisions call"), ("\udcffkent", "no byte that")):
        path = tmp_path / f"{stem}.csv"
        try:
            path.write_text(KENT_CSV)
        except UnicodeEncodeError:  # a file system that refuses the name: nothing to read
            continue
        (problem,) = _problems(lambda p=path: load_term_calendar(p))
        assert "name (a CSV calendar is named by its file's name): " in problem, problem
        assert said in problem


def test_a_file_with_no_name_before_its_suffix_is_named_so(tmp_path: Path) -> None:
    path = _write(tmp_path, ".csv", KENT_CSV)
    assert _problems(lambda: load_term_calendar(path)) == (
        f"{path}: the file has no name before .csv: name it",
    )


@pytest.mark.parametrize(
    ("year", "said"),
    [
        ("2099/00", "is outside the academic years pbr dates (1900/01 to 2098/99)"),
        ("1899/00", "is outside the academic years pbr dates (1900/01 to 2098/99)"),
        ("2012/14", "is not an academic year written like '2012/13'"),
    ],
)
def test_an_academic_year_out_of_range_is_named_as_such(year: str, said: str) -> None:
    data = {
        "name": "K",
        "terms": [{"academic_year": year, "term": "autumn", "start": "2012-09-04",
                   "end": "2012-12-20"}],
    }  # fmt: skip
    (problem,) = _problems(lambda: parse_term_calendar(data))
    assert problem == f"<calendar>: terms[0]: academic_year: '{year}' {said}"


def test_a_file_of_many_bad_rows_names_fifty_and_counts_the_rest(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "kent.csv", "academic_year,term,start,end\n" + "2012/13,winter,x,y\n" * 100
    )
    problems = _problems(lambda: load_term_calendar(path))
    assert len(problems) == 51
    assert problems[-1] == f"{path}: and 250 more problems"


def test_the_audit_csv_report_names_the_calendar_and_the_recheck_asks_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the CSV report had no word of the calendar, and the ledger's re-check run without it
    # blamed the report: "the report was changed, or was not made from these claims ..."
    families = _families(tmp_path)
    calendar = _write(tmp_path, "kent.toml", KENT_TOML)
    claims = _write(
        tmp_path,
        "claims.csv",
        "claim_id,family_id,kind,amount,claimed_on\nC1,K0,attachment_fee,3200.00,2012-10-01\n"
        "C2,K0,progress_to_work,0.00,2013-07-31\nC3,K0,attachment_fee,x,2012-10-01\n",
    )
    report = tmp_path / "audit.csv"
    audit = ("audit", str(claims), "--families", str(families), "--as-of", "2013-07-31")
    status, _, err = _cli(capsys, *audit, "--term-calendar", str(calendar), "--report", str(report))
    assert status == 1, err  # C2 is flagged: the result is not met
    rows = list(csv.DictReader(io.StringIO(report.read_text())))
    assert [row["term_calendar"] for row in rows] == ["kent", "kent", ""]  # C3 is malformed
    record = ("ledger", "record", str(report), str(tmp_path / "l.db"), "--paid-on", "2013-08-01",
              "--claims", str(claims), "--families", str(families))  # fmt: skip
    status, _, err = _cli(capsys, *record)
    assert status != 0
    assert (
        "term_calendar = 'kent': the report says it was made under the term calendar 'kent', "
        "the re-run audit judges on the default term dates: give the audit's calendar file "
        "with --term-calendar FILE (or the report was changed); nothing was recorded"
    ) in err
    plain = tmp_path / "plain.csv"
    assert _cli(capsys, *audit, "--report", str(plain))[0] == 1
    status, _, err = _cli(capsys, *record[:2], str(plain), *record[3:], "--term-calendar",
                          str(calendar))  # fmt: skip
    assert status != 0, (status, err)
    assert "the report says it was made under the default term dates, the re-run audit " in err
    assert "leave --term-calendar out, as the audit had none (or the report was changed)" in err
    cut = tmp_path / "cut.csv"  # a row deleted: named as such, not as another calendar
    lines = report.read_text().splitlines(keepends=True)
    cut.write_text(lines[0] + "".join(lines[2:]))
    status, _, err = _cli(capsys, *record[:2], str(cut), *record[3:], "--term-calendar",
                          str(calendar))  # fmt: skip
    assert status != 0
    assert "term_calendar" not in err, err
    assert "line 2: " in err, err
    status, _, err = _cli(capsys, *record, "--term-calendar", str(calendar))
    assert status == 0, err


def test_terms_that_overlap_are_named_with_the_file_s_other_problems() -> None:
    # checked whole: the overlap was named only once the term given twice had been put right
    data = {
        "name": "x",
        "terms": [
            {"academic_year": "2012/13", "term": "autumn", "start": "2012-09-05",
             "end": "2012-12-20"},
            {"academic_year": "2012/13", "term": "autumn", "start": "2012-09-04",
             "end": "2012-12-20"},
            {"academic_year": "2014/15", "term": "autumn", "start": "2014-09-03",
             "end": "2015-01-08"},
        ],
    }  # fmt: skip
    problems = _problems(lambda: parse_term_calendar(data))
    assert problems[0] == "<calendar>: terms[1]: 2012/13 autumn is given twice (first at terms[0])"
    assert problems[1].startswith(
        "<calendar>: 2014/15 autumn (2014-09-03 to 2015-01-08, terms[2]) overlaps 2014/15 spring"
    )
    assert len(problems) == 2


def test_a_calendar_built_in_python_is_held_to_what_a_file_may_say() -> None:
    """A `TermCalendar` made from Python was taken as given: a term ending before it began, or a
    name with an escape, reached every decision and report. Now it is checked as a file is."""
    bad = TermCalendar(
        {
            ("2012/13", "spring"): (date(2013, 3, 1), date(2013, 1, 7)),
            ("2012/13", "winter"): (date(2013, 1, 1), date(2013, 1, 2)),  # type: ignore[dict-item]
            ("2012-13", "autumn"): ("2012-09-04", date(2012, 12, 1)),  # type: ignore[dict-item]
            ("2013/14",): (date(2013, 9, 1), date(2013, 12, 20)),  # type: ignore[dict-item]
            ("2014/15", "autumn"): (date(2014, 9, 1),),  # type: ignore[dict-item]
        },
        name="kent\x1b[31m",
    )
    for refuse in (
        lambda: PHASE_ONE.with_term_calendar(bad),
        lambda: pbr.evaluate_many([], as_of=AS_OF, term_calendar=bad),
    ):
        with pytest.raises(CalendarError) as refused:
            refuse()
        said = refused.value.problems
        assert said[0].startswith("term_calendar: name: 'kent\\x1b[31m' holds a control character")
        assert said[1:] == (
            "term_calendar: overrides[('2013/14',)]: a term's key is (academic year, term name)",
            "term_calendar: overrides[('2014/15', 'autumn')]: a term's dates are (first day, "
            "last day)",
            "term_calendar: overrides[('2012/13', 'spring')] (2012/13 spring): starts "
            "2013-03-01, after its last day 2013-01-07",
            "term_calendar: overrides[('2012/13', 'winter')]: term: 'winter' is not autumn, "
            "spring or summer",
            "term_calendar: overrides[('2012-13', 'autumn')]: academic_year: '2012-13' is not "
            "an academic year written like '2012/13'",
        )  # ISO text for a date is read, as a file's is
    overlapping = TermCalendar(
        {
            ("2012/13", "autumn"): (date(2012, 9, 4), date(2013, 1, 10)),
            ("2012/13", "spring"): (date(2013, 1, 7), date(2013, 3, 28)),
        },
        name="kent",
    )
    with pytest.raises(CalendarError, match="overlaps"):
        PHASE_ONE.with_term_calendar(overlapping)
    with pytest.raises(TypeError, match="not None"):
        PHASE_ONE.with_term_calendar(None)  # type: ignore[arg-type]
    # what a file may say, a calendar from Python may say too: its own name, or none at all
    assert PHASE_ONE.with_term_calendar(KENT).term_calendar is KENT
    unnamed = TermCalendar(KENT.overrides)
    assert PHASE_ONE.with_term_calendar(unnamed).term_calendar.named == "own"
    assert PHASE_ONE.with_term_calendar(TermCalendar()).term_calendar.named is None


def test_a_calendar_found_sound_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server checks its one calendar at every request: once found sound, it is remembered."""
    from pbr import calendars

    checked: list[str] = []
    real = calendars._calendar

    def counting(name: str, *rest: Any) -> TermCalendar:
        checked.append(name)
        return real(name, *rest)

    monkeypatch.setattr(calendars, "_calendar", counting)
    kent = TermCalendar(dict(KENT.overrides), name="kent")
    for _ in range(3):
        assert PHASE_ONE.with_term_calendar(kent).term_calendar is kent
    assert checked == ["kent"]
    other = TermCalendar(dict(KENT.overrides), name="kent")  # equal, but another object
    PHASE_ONE.with_term_calendar(other)
    assert checked == ["kent", "kent"]
