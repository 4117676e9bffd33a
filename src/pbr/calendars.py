"""A council's school term dates, read from a file (TOML, JSON or CSV) into a `TermCalendar`.

Phase one's education results, and an outcome plan's measures counted in school terms, read
school terms: by default the spec's calendar (phase1-spec §1: autumn 1 Sep – 31 Dec, spring
1 Jan – 31 Mar, summer 1 Apr – 31 Jul). A council that judged attendance on its own term dates
gives them in a file, and every decision that read one of those terms names the calendar::

    name = "Kent 2012-2015"

    [[terms]]
    academic_year = "2012/13"
    term = "autumn"
    start = 2012-09-04
    end = 2012-12-20

JSON holds the same object (dates as ``"2012-09-04"``); a CSV file has the columns
``academic_year,term,start,end``, a row a term, and is named by its file name (``kent.csv`` is
the calendar ``kent``). A term not given keeps the default dates. A file is checked whole before
any family is judged: every term's dates within its academic year (1 August to 31 August a year
later), first day not after last, and no two terms overlapping or out of order, the default
terms beside the given ones included; each problem is a line of the `CalendarError`.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pbr._record_checks import control_character
from pbr._scalars import unique_keys
from pbr.errors import CalendarError
from pbr.periods import EARLIEST_DATE, LATEST_DATE, TERMS, SchoolTerm, TermCalendar, TermName

__all__ = [
    "COLUMNS",
    "MAX_CALENDAR_BYTES",
    "MAX_NAME",
    "check_term_calendar",
    "load_term_calendar",
    "own_dates",
    "parse_term_calendar",
    "term_calendar_data",
]

MAX_CALENDAR_BYTES = 1 << 20
"""The largest calendar file read, 1 MiB: a term is a line of about 50 bytes, and a century of
terms is 15 KB. A larger file, or a device that keeps giving bytes, is refused once that much is
read."""

COLUMNS = ("academic_year", "term", "start", "end")
"""A calendar's fields for each term: a CSV file's columns, in any order."""

_RESERVED_NAMES = ("default", "own")
"""Names a decision gives calendars that are not a council's: the default dates, and a calendar
given from Python with no name (`TermCalendar.named`)."""

MAX_NAME = 80
"""The longest calendar name, in characters: decisions, reports and tables give it."""
_MOST_PROBLEMS = 50
"""The most problems of a file named one by one: a file of 25,000 bad rows is not 25,000 lines."""
_ACADEMIC_YEAR = re.compile(r"[0-9]{4}/[0-9]{2}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
"""A lone surrogate (a byte of a file name that is not UTF-8): no decision, report or JSON answer
could be written with it. A control, separator or format character is `control_character`'s."""
_MAX_SHOWN = 60


def load_term_calendar(path: str | os.PathLike[str]) -> TermCalendar:
    r"""Read and check a council's term calendar: TOML, JSON or CSV (by its suffix).

    At most `MAX_CALENDAR_BYTES` are read. Every problem found is a line of the
    `~pbr.errors.CalendarError` raised, naming the file, the term and the field.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "kent.csv"
    >>> _ = path.write_text("academic_year,term,start,end\n2012/13,autumn,2012-09-04,2012-12-20\n")
    >>> calendar = load_term_calendar(path)
    >>> calendar.named, calendar.term("2012/13", "autumn").end
    ('kent', datetime.date(2012, 12, 20))
    """
    if not isinstance(path, str | os.PathLike):
        hint = "; read a calendar as data with parse_term_calendar(data)"
        raise TypeError(
            f"load_term_calendar reads a file: expected its path, got {type(path).__name__}"
            + (hint if isinstance(path, Mapping) else "")
        )
    from pbr._bounded import Refused, read_limited
    from pbr._unreadable import not_utf8_text

    path = Path(path)
    origin = str(path)
    suffix = path.suffix.lower()
    if path.name.lower() in (".toml", ".json", ".csv"):
        raise CalendarError(f"{origin}: the file has no name before {path.name}: name it")
    if suffix not in (".toml", ".json", ".csv"):
        raise CalendarError(f"{origin}: a term calendar file ends in .toml, .json or .csv")
    try:
        data = read_limited(
            path, "a term calendar", max_bytes=MAX_CALENDAR_BYTES, max_line=MAX_CALENDAR_BYTES
        )
    except Refused as exc:
        raise CalendarError(str(exc)) from None
    except OSError as exc:
        raise CalendarError(
            f"{origin}: cannot read the term calendar: {exc.strerror or exc}"
        ) from None
    not_text = not_utf8_text("the term calendar", data[:8])  # compressed, UTF-16: said so
    if not_text is not None:
        raise CalendarError(f"{origin}: {not_text}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarError(
            f"{origin}: not UTF-8 text (byte {exc.start + 1} is {exc.object[exc.start]:#04x})"
        ) from None
    if suffix == ".csv":
        return _from_csv(text, path.stem, origin)
    try:
        if suffix == ".toml":
            parsed = tomllib.loads(text)
        else:
            parsed = json.loads(text, object_pairs_hook=unique_keys)
    except RecursionError:
        raise CalendarError(f"{origin}: not a term calendar: nested too deeply") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise CalendarError(f"{origin}: not valid {suffix[1:].upper()}: {exc}") from None
    return parse_term_calendar(parsed, origin=origin)


def parse_term_calendar(data: Any, *, origin: str = "<calendar>") -> TermCalendar:
    """Check a term calendar given as data: ``{"name": ..., "terms": [{...}, ...]}``.

    Dates are `datetime.date` or ISO text (``"2012-09-04"``). `origin` starts each problem.

    >>> parse_term_calendar({"name": "Kent", "terms": [{"academic_year": "2012/13",
    ...     "term": "spring", "start": "2013-01-07", "end": "2013-01-01"}]})
    Traceback (most recent call last):
    ...
    pbr.errors.CalendarError: <calendar>: terms[0] (2012/13 spring): starts 2013-01-07, after its last day 2013-01-01
    """
    if not isinstance(data, Mapping):
        raise CalendarError(
            f"{origin}: a term calendar is an object with a name and its terms, not {_kind(data)}"
        )
    problems: list[str] = []
    unknown = [k for k in data if k not in ("name", "terms")]
    if unknown:
        problems.append(
            f"{origin}: {_shown(unknown[0])} is not a field of a term calendar "
            "(it has name and terms)"
        )
    name = _name(data.get("name"), origin, problems)
    terms = data.get("terms")
    if not isinstance(terms, list):
        problems.append(
            f"{origin}: terms: a list of terms, each with {', '.join(COLUMNS)}; got "
            + ("nothing" if terms is None else _kind(terms))
        )
        terms = []
    entries = [(f"terms[{i}]", term) for i, term in enumerate(terms)]
    return _calendar(name, entries, origin, problems)


def own_dates(name: str, terms: int) -> str:
    """A council calendar as summaries and reports name it: its name and how many terms it dates.

    >>> own_dates("Kent", 9), own_dates("Kent", 1)
    ('Kent (9 terms of its own dates)', 'Kent (1 term of its own dates)')
    """
    return f"{name} ({terms} term{'s' * (terms != 1)} of its own dates)"


def check_term_calendar(calendar: TermCalendar, *, origin: str = "term_calendar") -> None:
    """Hold a calendar built in Python to what a calendar file must say, or raise `CalendarError`.

    A file is checked as it is read (`parse_term_calendar`); a `TermCalendar` made from Python
    holds whatever it was given. Its name (unless left ``default``: decisions call it ``own``),
    each term's academic year, name and dates, and the terms' order are checked alike, each
    problem named by the term's key. A calendar overriding no term is the default one.

    >>> from pbr.periods import TermCalendar
    >>> check_term_calendar(TermCalendar({("2012/13", "spring"): (date(2013, 3, 1), date(2013, 1, 7))}))
    Traceback (most recent call last):
    ...
    pbr.errors.CalendarError: term_calendar: overrides[('2012/13', 'spring')] (2012/13 spring): starts 2013-03-01, after its last day 2013-01-07
    """
    if not calendar.overrides or calendar is _SOUND[0]:
        return
    problems: list[str] = []
    name = calendar.name
    if name != "default":
        name = _name(name, origin, problems)
    entries: list[tuple[str, Any]] = []
    for key, dates in calendar.overrides.items():
        where = f"overrides[{key!r}]"
        if not (isinstance(key, tuple) and len(key) == 2):
            problems.append(f"{origin}: {where}: a term's key is (academic year, term name)")
        elif not (isinstance(dates, tuple | list) and len(dates) == 2):
            problems.append(f"{origin}: {where}: a term's dates are (first day, last day)")
        else:
            entries.append(
                (
                    where,
                    {"academic_year": key[0], "term": key[1], "start": dates[0], "end": dates[1]},
                )
            )
    _calendar(name, entries, origin, problems)
    _SOUND[0] = calendar


_SOUND: list[TermCalendar | None] = [None]
"""The last calendar `check_term_calendar` found sound, held (so no other object takes its id).
A calendar cannot change, and a server checks its one calendar at every request (about 40 µs)."""


def term_calendar_data(calendar: TermCalendar) -> dict[str, Any]:
    """A calendar as the data `parse_term_calendar` reads: its name and its own terms, in order.

    >>> own = TermCalendar({("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))}, "Kent")
    >>> term_calendar_data(own)
    {'name': 'Kent', 'terms': [{'academic_year': '2012/13', 'term': 'autumn', 'start': '2012-09-04', 'end': '2012-12-20'}]}
    """
    order = {name: i for i, name in enumerate(TERMS)}
    keys = sorted(calendar.overrides, key=lambda k: (k[0], order[k[1]]))
    return {
        "name": calendar.name,
        "terms": [
            {
                "academic_year": year,
                "term": term,
                "start": calendar.overrides[(year, term)][0].isoformat(),
                "end": calendar.overrides[(year, term)][1].isoformat(),
            }
            for year, term in keys
        ],
    }


def _from_csv(text: str, name: str, origin: str) -> TermCalendar:
    """A CSV calendar: a header of `COLUMNS` (any order), then a term a row.

    As a spreadsheet saves it: spaces around a column's name, and empty cells after the last
    column (a trailing comma), are read past; a value is read as written.
    """
    problems: list[str] = []
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(rows, None)
        while header is not None and not any(header):
            header = next(rows, None)
        if header is None:
            raise CalendarError(f"{origin}: empty: a header {','.join(COLUMNS)} and a term a row")
        names = _trailing_empty_dropped([h.strip() for h in header])
        if sorted(names) != sorted(COLUMNS):
            raise CalendarError(
                f"{origin}: line {rows.line_num}: the header is "
                f"{','.join(_shown(h) for h in header)}; a term calendar's is "
                f"{','.join(COLUMNS)} (in any order)"
            )
        entries: list[tuple[str, Any]] = []
        for row in rows:
            if not any(row):
                continue
            where = f"line {rows.line_num}"
            cells = row if len(row) <= len(names) else _trailing_empty_dropped(row)
            if len(cells) != len(names):
                entries.append((where, _Ragged(len(cells), len(names))))
                continue
            entries.append((where, dict(zip(names, cells, strict=True))))
    except csv.Error as exc:
        raise CalendarError(f"{origin}: line {rows.line_num}: not valid CSV: {exc}") from None
    said = "name (a CSV calendar is named by its file's name)"
    return _calendar(_name(name, origin, problems, said), entries, origin, problems)


def _trailing_empty_dropped(cells: list[str]) -> list[str]:
    """`cells` without the empty ones at the end (a spreadsheet's trailing commas)."""
    end = len(cells)
    while end and cells[end - 1] == "":
        end -= 1
    return cells[:end]


def _calendar(
    name: str, entries: list[tuple[str, Any]], origin: str, problems: list[str]
) -> TermCalendar:
    """The calendar of `entries` (each with where it is), once nothing is wrong with it."""
    if not entries and not problems:
        problems.append(f"{origin}: no terms: a term calendar gives the dates of at least one term")
    overrides: dict[tuple[str, TermName], tuple[date, date]] = {}
    places: dict[tuple[str, TermName], str] = {}
    for where, entry in entries:
        if isinstance(entry, _Ragged):
            problems.append(f"{origin}: {where}: {entry}")
            continue
        read = _term(entry, f"{origin}: {where}", problems)
        if read is None:
            continue
        key, dates = read
        if key in places:
            problems.append(
                f"{origin}: {where}: {key[0]} {key[1]} is given twice (first at {places[key]})"
            )
            continue
        places[key] = where
        overrides[key] = dates
    calendar = TermCalendar(overrides, name=name)
    # the terms read, checked against each other and the default terms, whatever else is wrong
    problems += [f"{origin}: {p}" for p in _order_problems(calendar, places)]
    if len(problems) > _MOST_PROBLEMS:
        more = len(problems) - _MOST_PROBLEMS
        problems[_MOST_PROBLEMS:] = [f"{origin}: and {more:,} more problems"]
    if problems:
        raise CalendarError(*problems)
    return calendar


class _Ragged:
    """A CSV row of another number of cells than its header: no term can be read from it."""

    def __init__(self, cells: int, columns: int) -> None:
        self.cells, self.columns = cells, columns

    def __str__(self) -> str:
        return f"{self.cells} cells where the header has {self.columns}"


def _name(value: Any, origin: str, problems: list[str], field: str = "name") -> str:
    """The calendar's name, which decisions give: short, printable and not one pbr gives.

    Printable as a record's text is (`pbr._record_checks.control_character`): no control
    character, line or paragraph separator or format character, any of which would let the
    name draw a line of its own in a summary or reorder the text after it.
    """
    if not isinstance(value, str) or not value.strip():
        problems.append(
            f"{origin}: {field}: the council's name for the calendar, which decisions give; got "
            + ("nothing" if value is None else _shown(value))
        )
        return "?"
    unprintable = control_character(value)
    if unprintable is not None:
        problems.append(
            f"{origin}: {field}: {_shown(value)} holds {unprintable}: the name is printed in "
            "decisions, summaries and reports, so it must be printable text (as a record's)"
        )
    elif len(value) > MAX_NAME or _SURROGATE.search(value) or value != value.strip():
        problems.append(
            f"{origin}: {field}: {_shown(value)}: at most {MAX_NAME} characters, with no control "
            "character, no byte that is not UTF-8 and no space at either end"
        )
    elif value.lower() in _RESERVED_NAMES:
        problems.append(
            f"{origin}: {field}: {value!r} is what decisions call a calendar that is not a "
            "council's: give the council's own name for it"
        )
    return value


def _term(
    entry: Any, where: str, problems: list[str]
) -> tuple[tuple[str, TermName], tuple[date, date]] | None:
    """One term's key and dates, or None with its problems added."""
    if not isinstance(entry, Mapping):
        problems.append(
            f"{where}: a term is an object with {', '.join(COLUMNS)}, not {_kind(entry)}"
        )
        return None
    found = len(problems)
    for key in entry:
        if key not in COLUMNS:
            problems.append(
                f"{where}: {_shown(key)} is not a field of a term (it has {', '.join(COLUMNS)})"
            )
    for key in COLUMNS:
        if key not in entry:
            problems.append(f"{where}: {key} is missing")
    year = entry.get("academic_year")
    if "academic_year" in entry and not _academic_year(year):
        problems.append(f"{where}: academic_year: {_shown(year)} {_year_problem(year)}")
    term = entry.get("term")
    if "term" in entry and term not in TERMS:
        problems.append(f"{where}: term: {_shown(term)} is not autumn, spring or summer")
    start = _date(entry, "start", where, problems)
    end = _date(entry, "end", where, problems)
    if len(problems) > found or start is None or end is None:
        return None
    assert isinstance(year, str)
    assert isinstance(term, str)
    label = f"{where} ({year} {term})"
    if start > end:
        problems.append(f"{label}: starts {start}, after its last day {end}")
        return None
    first = int(year[:4])
    opens, closes = date(first, 8, 1), date(first + 1, 8, 31)
    if start < opens or end > closes:
        problems.append(
            f"{label}: {start} to {end} is not within academic year {year} ({opens} to {closes})"
        )
        return None
    return (year, _TERM_NAMES[term]), (start, end)


_TERM_NAMES: Mapping[str, TermName] = {name: name for name in TERMS}


_FIRST_YEAR, _LAST_YEAR = EARLIEST_DATE.year, LATEST_DATE.year - 1
"""The academic years a calendar may date: their terms fall within pbr's dates."""


def _academic_year(value: Any) -> bool:
    if not isinstance(value, str) or _ACADEMIC_YEAR.fullmatch(value) is None:
        return False
    first = int(value[:4])
    return (first + 1) % 100 == int(value[5:]) and _FIRST_YEAR <= first <= _LAST_YEAR


def _year_problem(value: Any) -> str:
    """Why `value` is not an academic year a calendar may date."""
    if isinstance(value, str) and _ACADEMIC_YEAR.fullmatch(value) is not None:
        first = int(value[:4])
        if (first + 1) % 100 == int(value[5:]):
            return (
                f"is outside the academic years pbr dates ({_FIRST_YEAR}/{_FIRST_YEAR % 100 + 1:02d}"
                f" to {_LAST_YEAR}/{(_LAST_YEAR + 1) % 100:02d})"
            )
    return "is not an academic year written like '2012/13'"


def _date(entry: Mapping[str, Any], key: str, where: str, problems: list[str]) -> date | None:
    """A term's first or last day: a `date` (TOML's) or ISO text, within pbr's dates."""
    if key not in entry:
        return None
    value = entry[key]
    day: date | None = None
    if type(value) is date:
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        problems.append(f"{where}: {key}: {_shown(value)} is not a date written like 2012-09-04")
    elif not EARLIEST_DATE <= day <= LATEST_DATE:
        problems.append(f"{where}: {key}: {day} is outside {EARLIEST_DATE} to {LATEST_DATE}")
        day = None
    return day


def _order_problems(
    calendar: TermCalendar, places: Mapping[tuple[str, TermName], str]
) -> Iterable[str]:
    """Each pair of neighbouring terms, one of them given, that overlap or run out of order."""
    given = {int(year[:4]) for year, _ in calendar.overrides}
    terms: list[SchoolTerm] = []
    for year in sorted({y for first in given for y in (first - 1, first, first + 1)}):
        academic_year = f"{year}/{(year + 1) % 100:02d}"
        terms += [calendar.term(academic_year, name) for name in TERMS]
    for before, after in itertools.pairwise(terms):
        if before.end < after.start or not calendar.overrides_any((before, after)):
            continue
        how = "overlaps" if after.start > before.start else "is out of order with"
        yield (
            f"{_placed(before, calendar, places)} {how} {_placed(after, calendar, places)}: "
            "each term ends before the next starts (a term not given keeps the default dates)"
        )


def _placed(term: SchoolTerm, calendar: TermCalendar, places: Mapping[Any, str]) -> str:
    where = places.get((term.academic_year, term.name))
    given = "the default dates" if where is None else where
    return f"{term.label} ({term.start} to {term.end}, {given})"


def _kind(value: Any) -> str:
    from pbr._scalars import json_term

    return json_term(value)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, date) else str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
