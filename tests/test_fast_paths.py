"""The hot path's shortcuts equal the plain forms they replace (ages, birthdays, school terms)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from pbr.periods import (
    SchoolTerm,
    TermCalendar,
    add_months,
    add_years,
    age_on,
    compulsory_school_age_bounds,
    compulsory_school_age_in_any,
)
from pbr.records import Family, SchoolTermRecord
from pbr.testing import families

from .plain_evidence import Evidence, evidence

DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
LEAP_DAYS = (
    st.integers(1900, 2096).filter(lambda y: y % 4 == 0 and y != 1900).map(lambda y: date(y, 2, 29))
)


def plain_age_on(date_of_birth: date, day: date) -> int:
    """The age as pbr first wrote it: this year's birthday built, then compared."""
    years = day.year - date_of_birth.year
    if add_months(date_of_birth, 12 * years) > day:
        years -= 1
    return years


@given(st.one_of(DAYS, LEAP_DAYS), st.one_of(DAYS, DAYS.map(lambda d: d.replace(day=28))))
def test_age_on_is_the_plain_age(born: date, day: date) -> None:
    assert age_on(born, day) == plain_age_on(born, day)
    if day >= born:
        assert age_on(born, day) == relativedelta(day, born).years


def test_a_leap_day_birthday_falls_on_28_february() -> None:
    born = date(2000, 2, 29)
    assert age_on(born, date(2018, 2, 27)) == 17
    assert age_on(born, date(2018, 2, 28)) == 18  # common year: 28 February
    assert age_on(born, date(2016, 2, 28)) == 15  # leap year: the birthday is tomorrow
    assert age_on(born, date(2016, 2, 29)) == 16


@given(st.one_of(DAYS, LEAP_DAYS), st.integers(-100, 100))
def test_add_years_is_twelve_months(day: date, years: int) -> None:
    assert add_years(day, years) == add_months(day, 12 * years)


@given(st.one_of(DAYS, LEAP_DAYS), DAYS, st.integers(0, 25))
def test_coming_of_age_is_one_date_comparison(born: date, day: date, adult: int) -> None:
    assert (age_on(born, day) < adult) == (day < add_years(born, adult))


@given(st.one_of(DAYS, LEAP_DAYS))
def test_school_age_bounds_are_the_fifth_and_sixteenth_birthdays(born: date) -> None:
    sixteenth = add_months(born, 16 * 12)
    last = date(sixteenth.year + (sixteenth.month >= 9), 8, 31)
    assert compulsory_school_age_bounds(born) == (add_months(born, 5 * 12), last)


@given(st.lists(st.one_of(DAYS, LEAP_DAYS), max_size=12), st.integers(1, 4))
def test_remembered_dates_are_right_and_bounded(days: list[date], limit: int) -> None:
    from pbr import _dates

    added, bounds, kept = _dates._ADDED, _dates._SCHOOL_AGE, _dates.MEMO_LIMIT
    _dates._ADDED, _dates._SCHOOL_AGE, _dates.MEMO_LIMIT = {}, {}, limit
    try:
        for day in days + days:  # each asked twice: worked out, then remembered (or forgotten)
            assert add_years(day, 5) == add_months(day, 60)
            assert compulsory_school_age_bounds(day)[0] == add_months(day, 60)
            assert len(_dates._ADDED[5]) <= limit
            assert len(_dates._SCHOOL_AGE) <= limit
    finally:
        _dates._ADDED, _dates._SCHOOL_AGE, _dates.MEMO_LIMIT = added, bounds, kept


def plain_children_in_terms(
    family: Family, terms: tuple[SchoolTerm, ...], adult: int
) -> list[tuple[str, list[SchoolTermRecord], bool]]:
    """`children_in_terms` as pbr first wrote it: every row scanned, then sorted by term."""
    born = family.member_birthdays()
    by_key = {(t.academic_year, t.name): (i, t) for i, t in enumerate(terms)}
    found: dict[str, list[tuple[int, SchoolTermRecord]]] = defaultdict(list)
    for row in family.school_terms:
        hit = by_key.get((row.academic_year, row.term))
        if hit is not None and age_on(born[row.person_id], hit[1].start) < adult:
            found[row.person_id].append((hit[0], row))
    rows = {
        child: [row for _, row in sorted(pairs, key=lambda p: p[0])]
        for child, pairs in found.items()
    }
    children = []
    for member in sorted(family.members, key=lambda m: m.person_id):
        csa = compulsory_school_age_in_any(member.date_of_birth, terms)
        if csa or member.person_id in rows:
            children.append((member.person_id, rows.get(member.person_id, []), csa))
    return children


OWN_CALENDAR = TermCalendar(
    {
        ("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20)),
        ("2013/14", "spring"): (date(2014, 1, 6), date(2014, 4, 4)),
        ("2011/12", "summer"): (date(2012, 4, 16), date(2012, 7, 20)),
    }
)


@given(
    families(),
    st.sampled_from([TermCalendar(), OWN_CALENDAR]),
    st.dates(min_value=date(2011, 1, 1), max_value=date(2017, 12, 31)),
    st.integers(1, 6),
    st.booleans(),
    st.sampled_from([16, 18, 21]),
)
def test_children_in_a_window_are_the_plain_scan(
    family: Family, calendar: TermCalendar, day: date, count: int, strictly: bool, adult: int
) -> None:
    terms = calendar.complete_terms(day, count, strictly_before=strictly)
    assert Evidence.of(family).children_in(terms, adult) == plain_children_in_terms(
        family, terms, adult
    )


@given(families(), st.sampled_from([16, 18]))
def test_adult_from_is_each_members_birthday(family: Family, adult: int) -> None:
    assert Evidence.of(family).adult_from(adult) == {
        m.person_id: add_years(m.date_of_birth, adult) for m in family.members
    }


@given(families())
def test_evidence_is_arranged_once_per_family_object(family: Family) -> None:
    first = evidence(family)
    assert evidence(family) is first  # identification, then the results: arranged once
    copy = family.model_copy()
    assert evidence(copy) is not first  # another object, even an equal one, is arranged anew
    assert evidence(copy) == first


def _family(born: str, *rows: tuple[str, str]) -> Family:
    return Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": "2013-06-03",
            "members": [{"person_id": "C1", "date_of_birth": born}],
            "school_terms": [
                {
                    "person_id": "C1",
                    "academic_year": year,
                    "term": term,
                    "possible_sessions": 100,
                    "unauthorised_absences": 0,
                }
                for year, term in rows
            ],
        }
    )


@pytest.mark.parametrize(
    ("born", "counted"),
    [
        ("1994-09-01", False),  # 18 on the autumn term's first day: an adult in that term
        ("1994-09-02", True),  # 18 the day after: still a child when the term starts
    ],
)
def test_a_row_counts_while_the_child_is_under_adult_age_at_the_terms_start(
    born: str, counted: bool
) -> None:
    family = _family(born, ("2012/13", "autumn"))
    terms = TermCalendar().complete_terms(date(2013, 1, 1), 1)
    children = Evidence.of(family).children_in(terms, 18)
    assert children == plain_children_in_terms(family, terms, 18)
    assert [len(rows) for _, rows, _ in children] == ([1] if counted else [])


@pytest.mark.parametrize(
    ("born", "school_age"),
    [
        ("2007-08-31", False),  # five on the term's first day: school age starts the term after
        ("2007-08-30", True),
        ("1995-09-01", True),  # sixteen in September 2011: school age ends 31 August 2012
        ("1995-08-31", False),  # sixteen in August 2011: it ended 31 August 2011
    ],
)
def test_compulsory_school_age_at_its_bounds(born: str, school_age: bool) -> None:
    family = _family(born)
    own = TermCalendar({("2012/13", "autumn"): (date(2012, 8, 31), date(2012, 12, 20))})
    terms = own.complete_terms(date(2012, 12, 31), 1)
    children = Evidence.of(family).children_in(terms, 18)
    assert children == plain_children_in_terms(family, terms, 18)
    assert [csa for _, _, csa in children] == ([True] if school_age else [])


def _education_codes(born: date, attached: date, calendar: TermCalendar | None = None) -> list[str]:
    import pbr
    from pbr.rules import PHASE_ONE

    family = Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": attached.isoformat(),
            "members": [
                {"person_id": "A1", "date_of_birth": "1980-01-01"},
                {"person_id": "C1", "date_of_birth": born.isoformat()},
            ],
        }
    )
    rules = PHASE_ONE if calendar is None else PHASE_ONE.with_term_calendar(calendar)
    ident = pbr.identify(family, rules)
    return [r.code for r in ident.reasons if r.rule == "identification.education"]


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        (date(2007, 8, 31), True),  # five the day before autumn 2012 starts: of school age in it
        (date(2007, 9, 1), False),  # five on its first day: from the next term (after, not on)
    ],
)
def test_school_age_starts_in_the_first_term_after_the_fifth_birthday(
    born: date, problem: bool
) -> None:
    # attached mid-January 2013: the terms assessed end with autumn 2012 (1 September); a child
    # of school age in them with no school row is an education problem (0 possible sessions)
    codes = _education_codes(born, date(2013, 1, 15))
    assert codes == (
        ["EDUCATION_PROBLEM_AT_ENTRY"] if problem else ["NO_EDUCATION_PROBLEM_AT_ENTRY"]
    )


@pytest.mark.parametrize(
    ("autumn_starts", "problem"),
    [
        (date(2012, 8, 31), True),  # on the last day of school age: still of school age
        (date(2012, 9, 1), False),  # the day after: no longer
    ],
)
def test_school_age_ends_with_the_school_year_of_the_sixteenth_birthday(
    autumn_starts: date, problem: bool
) -> None:
    # sixteen on 1 June 2012, so of school age to 31 August 2012; attached in September 2013,
    # the terms assessed are 2012/13's, and a council's calendar may start autumn on 31 August
    calendar = TermCalendar({("2012/13", "autumn"): (autumn_starts, date(2012, 12, 20))})
    codes = _education_codes(date(1996, 6, 1), date(2013, 9, 15), calendar)
    assert codes == (
        ["EDUCATION_PROBLEM_AT_ENTRY"] if problem else ["NO_EDUCATION_PROBLEM_AT_ENTRY"]
    )
