"""The term calendar file's JSON Schema (``pbr schema --term-calendar``) and the bundled examples.

The schema is the contract a council's own system can check a calendar against before `pbr`
reads it: every calendar `pbr` writes (`term_calendar_data`) passes it, and every document the
schema refuses `pbr` refuses too. What it cannot say (dates within their academic year, in
order, not overlapping) `pbr.load_term_calendar` alone checks.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import hypothesis_jsonschema
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbr.calendars import load_term_calendar, parse_term_calendar, term_calendar_data
from pbr.cli import main
from pbr.errors import CalendarError
from pbr.periods import TERMS, TermCalendar, TermName
from pbr.schemas import TERM_CALENDAR_FORMAT_VERSION, term_calendar_schema
from tests.test_input_properties import ecma

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_TOML = EXAMPLES / "term-calendar.toml"
EXAMPLE_CSV = EXAMPLES / "term-calendar.csv"


VALIDATOR = jsonschema.Draft202012Validator(
    ecma(term_calendar_schema()), format_checker=jsonschema.FormatChecker()
)


def schema_accepts(document: Any) -> bool:
    return bool(VALIDATOR.is_valid(document))


def loader_accepts(document: Any) -> bool:
    try:
        parse_term_calendar(document)
    except CalendarError:
        return False
    return True


# --- calendars pbr accepts: a term keeps inside its default term's months, so any choice of terms
# with any dates there is in order (the default terms are)

WINDOWS: dict[TermName, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    # term: ((year offset, month, day) of the earliest first day, and of the latest last day)
    "autumn": ((0, 8, 1), (0, 12, 31)),
    "spring": ((1, 1, 1), (1, 3, 31)),
    "summer": ((1, 4, 1), (1, 7, 31)),
}


@st.composite
def term_dates(draw: st.DrawFn, first_year: int, term: TermName) -> tuple[date, date]:
    (o1, m1, d1), (o2, m2, d2) = WINDOWS[term]
    opens, closes = date(first_year + o1, m1, d1), date(first_year + o2, m2, d2)
    days = draw(st.lists(st.integers(0, (closes - opens).days), min_size=2, max_size=2).map(sorted))
    return opens + timedelta(days[0]), opens + timedelta(days[1])


NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,19}", fullmatch=True).filter(
    lambda name: name.lower() not in ("default", "own")
)
"""Calendar names that are also file names, so a CSV file (named by its stem) can carry them."""


@st.composite
def calendars(draw: st.DrawFn) -> TermCalendar:
    keys = draw(
        st.sets(st.tuples(st.integers(2011, 2024), st.sampled_from(TERMS)), min_size=1, max_size=9)
    )
    overrides = {
        (f"{year}/{(year + 1) % 100:02d}", term): draw(term_dates(year, term))
        for year, term in keys
    }
    return TermCalendar(overrides, name=draw(NAMES))


def as_toml(calendar: TermCalendar) -> str:
    data = term_calendar_data(calendar)
    lines = [f'name = "{data["name"]}"']
    for term in data["terms"]:
        lines += [
            "",
            "[[terms]]",
            f'academic_year = "{term["academic_year"]}"',
            f'term = "{term["term"]}"',
            f"start = {term['start']}",  # a TOML date, not text
            f"end = {term['end']}",
        ]
    return "\n".join(lines) + "\n"


def as_csv(calendar: TermCalendar) -> str:
    terms = term_calendar_data(calendar)["terms"]
    rows = [f"{t['academic_year']},{t['term']},{t['start']},{t['end']}" for t in terms]
    return "\n".join(["academic_year,term,start,end", *rows]) + "\n"


# --- the schema itself


def test_the_schema_is_a_2020_12_schema_with_its_identity() -> None:
    schema = term_calendar_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:pbr:schema:term-calendar:{TERM_CALENDAR_FORMAT_VERSION}"
    assert schema["required"] == ["name", "terms"]
    assert schema["additionalProperties"] is False
    term = schema["properties"]["terms"]["items"]
    assert term["required"] == ["academic_year", "term", "start", "end"]
    assert term["additionalProperties"] is False
    assert term["properties"]["term"]["enum"] == ["autumn", "spring", "summer"]
    fields = [schema, *schema["properties"].values(), term, *term["properties"].values()]
    assert all(field["description"] for field in fields)


def test_pbr_schema_term_calendar_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--term-calendar"]) == 0
    assert json.loads(capsys.readouterr().out) == term_calendar_schema()
    with pytest.raises(SystemExit) as exited:  # one schema at a time
        main(["schema", "--term-calendar", "--decision"])
    assert exited.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


# --- what the schema accepts


def test_the_example_calendar_passes_the_schema() -> None:
    document = tomllib.loads(EXAMPLE_TOML.read_text(encoding="utf-8"))
    for term in document["terms"]:  # TOML's dates, written as JSON's text
        term["start"], term["end"] = term["start"].isoformat(), term["end"].isoformat()
    assert schema_accepts(document)
    assert schema_accepts(term_calendar_data(load_term_calendar(EXAMPLE_TOML)))
    assert schema_accepts(term_calendar_data(load_term_calendar(EXAMPLE_CSV)))


@given(calendars())
def test_every_calendar_pbr_writes_passes_the_schema_and_reads_back(
    calendar: TermCalendar,
) -> None:
    data = term_calendar_data(calendar)
    assert schema_accepts(data), list(VALIDATOR.iter_errors(data))
    assert parse_term_calendar(data) == calendar
    assert parse_term_calendar(json.loads(json.dumps(data))) == calendar


@given(calendars())
def test_a_calendar_written_as_toml_json_or_csv_loads_the_same(calendar: TermCalendar) -> None:
    texts = {
        ".toml": as_toml(calendar),
        ".json": json.dumps(term_calendar_data(calendar), indent=2),
        ".csv": as_csv(calendar),
    }
    with tempfile.TemporaryDirectory() as folder:
        for suffix, text in texts.items():
            path = Path(folder) / f"{calendar.name}{suffix}"  # a CSV file is named by its stem
            path.write_text(text, encoding="utf-8")
            assert load_term_calendar(path) == calendar, suffix


# --- what the schema refuses, pbr refuses too

VALID: dict[str, Any] = {
    "name": "Kent 2012-13",
    "terms": [
        {"academic_year": "2012/13", "term": "autumn", "start": "2012-09-04", "end": "2012-12-20"}
    ],
}


def changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """`VALID` with the field at `path` set to `value` (or removed, for `REMOVED`)."""
    document: dict[str, Any] = json.loads(json.dumps(VALID))
    *parents, last = path
    node: Any = document
    for key in parents:
        node = node[key]
    if value is REMOVED:
        del node[last]
    else:
        node[last] = value
    return document


REMOVED = object()
TERM = ("terms", 0)

REFUSED = {
    "wrong term name": changed((*TERM, "term"), "winter"),
    "term name in capitals": changed((*TERM, "term"), "Autumn"),
    "date written day first": changed((*TERM, "start"), "04/09/2012"),
    "date without leading zeros": changed((*TERM, "start"), "2012-9-4"),
    "date with a time": changed((*TERM, "end"), "2012-12-20T00:00:00"),
    "date that does not exist": changed((*TERM, "end"), "2012-11-31"),
    "date followed by a newline": changed((*TERM, "end"), "2012-12-20\n"),
    "date as a number": changed((*TERM, "start"), 20120904),
    "academic year with a dash": changed((*TERM, "academic_year"), "2012-13"),
    "academic year in full": changed((*TERM, "academic_year"), "2012/2013"),
    "academic years not consecutive": changed((*TERM, "academic_year"), "2012/14"),
    "academic year after 2098/99": changed((*TERM, "academic_year"), "2099/00"),
    "academic year before 1900/01": changed((*TERM, "academic_year"), "1899/00"),
    "extra field in a term": changed((*TERM, "week"), 1),
    "extra field in the calendar": changed(("council",), "Kent"),
    "term field missing": changed((*TERM, "end"), REMOVED),
    "no terms": changed(("terms",), []),
    "terms not a list": changed(("terms",), {"autumn": "2012-09-04"}),
    "a term not an object": changed(TERM, "2012/13 autumn"),
    "no name": changed(("name",), REMOVED),
    "empty name": changed(("name",), ""),
    "name too long": changed(("name",), "K" * 81),
    "name with a space at its end": changed(("name",), "Kent "),
    "name with a tab at its start": changed(("name",), "\tKent"),
    "name with a control character": changed(("name",), "Kent\x1b[31m"),
    "name with a C1 control character": changed(("name",), "Kent\x85"),
    "name with a line separator": changed(("name",), "Kent\u2028  payable now: £9,999.00"),
    "name with a paragraph separator": changed(("name",), "Kent\u2029x"),
    "name with a right-to-left override": changed(("name",), "\u202eKent"),
    "name with a zero-width space": changed(("name",), "Ke\u200bnt"),
    "name with a byte-order mark": changed(("name",), "\ufeffKent"),
    "name with a soft hyphen": changed(("name",), "Ke\u00adnt"),
    "name with a no-break space at its end": changed(("name",), "Kent\u00a0"),
    "name pbr gives the default dates": changed(("name",), "Default"),
    "name pbr gives an unnamed calendar": changed(("name",), "OWN"),
    "name not text": changed(("name",), 2012),
    "not an object": [VALID],
}


def test_the_valid_document_is_valid() -> None:
    assert schema_accepts(VALID)
    assert loader_accepts(VALID)
    assert schema_accepts(changed(("name",), "K" * 80))
    assert loader_accepts(changed(("name",), "K" * 80))
    assert schema_accepts(changed(("name",), "Own dates"))
    assert schema_accepts(changed(("name",), "K"))
    assert loader_accepts(changed(("name",), "K"))
    assert schema_accepts(changed(("name",), "Kent \u00e9t\u00e9 2012\u00a013"))
    assert loader_accepts(changed(("name",), "Kent \u00e9t\u00e9 2012\u00a013"))


@pytest.mark.parametrize("document", REFUSED.values(), ids=REFUSED.keys())
def test_what_the_schema_refuses_pbr_refuses(document: Any) -> None:
    assert not schema_accepts(document)
    assert not loader_accepts(document)


@pytest.mark.parametrize(
    "document",
    [
        changed((*TERM, "start"), "2013-01-04"),  # after its end
        changed((*TERM, "start"), "2011-09-04"),  # outside its academic year
    ],
)
def test_what_only_pbr_checks_is_refused_by_pbr(document: Any) -> None:
    """The checks across fields are the loader's alone: the schema's descriptions name them."""
    assert schema_accepts(document)
    assert not loader_accepts(document)


ONLY_PBR_CHECKS = (
    "is outside 1900-01-01 to 2099-12-31",
    "is not within academic year",
    "after its last day",
    "overlaps",
    "is out of order with",
    "is given twice",
)
"""What `pbr` refuses in a document the schema accepts: the checks its descriptions leave to pbr."""


def small(schema: Any) -> Any:
    """The schema with at most three terms: enough to meet every check across them."""
    schema["properties"]["terms"]["maxItems"] = 3
    return schema


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hypothesis_jsonschema.from_schema(small(ecma(term_calendar_schema()))))
def test_what_the_schema_accepts_pbr_refuses_only_for_what_the_schema_cannot_say(
    document: Any,
) -> None:
    try:
        parse_term_calendar(document)
    except CalendarError as refused:
        unsaid = [p for p in refused.problems if not any(c in p for c in ONLY_PBR_CHECKS)]
        assert not unsaid


# --- the bundled example calendars


def test_the_example_calendars_agree_but_for_their_names() -> None:
    from_toml, from_csv = load_term_calendar(EXAMPLE_TOML), load_term_calendar(EXAMPLE_CSV)
    assert from_toml.name == "Example County Council 2012-15"
    assert from_csv.name == "term-calendar"  # a CSV calendar is named by its file
    assert from_toml.overrides == from_csv.overrides
    years = ("2012/13", "2013/14", "2014/15")
    assert sorted(from_toml.overrides) == sorted((y, t) for y in years for t in TERMS)
