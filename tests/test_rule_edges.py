"""Rule edges that mutation testing found unguarded (scripts/mutation.py), one example each side.

Each test sits a family on one edge of one rule (a window end, an age birthday, `any` against
`all`, the earliest of several dates, a relevance switch) so that moving the edge by a day, a
year or an operator changes a decision.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from types import SimpleNamespace
from typing import Any, Literal

import pydantic
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import pbr
from pbr.decisions import Decision, ResultKind
from pbr.money import MAX_MONEY, Money, format_gbp, money, round_to_penny, round_up_to_penny
from pbr.periods import (
    FinancialYear,
    SchoolTerm,
    TermCalendar,
    check_as_of,
    compulsory_school_age_in,
    default_term,
)
from pbr.plans import (
    Measure,
    OutcomePlan,
    compare,
    indicator_values,
    measure_window,
    parse_plan,
)
from pbr.programmes import programmes
from pbr.programmes._employment import runs
from pbr.programmes._kernel import Account, account, plain
from pbr.programmes.phase_one._payment import rates_year
from pbr.records import EmploymentSpell, Payment
from pbr.rules import PHASE_ONE, PHASE_TWO, SUPPORTING_FAMILIES

from .builders import ALL_THREE, codes, evaluate, family, term_rows

SP: ResultKind = "sustained_progress"
CE: ResultKind = "continuous_employment"
P2W: ResultKind = "progress_to_work"


def identification_codes(decision: Decision) -> list[str]:
    return [r.code for r in decision.identification]


# --- 1. phase one: the 12-month identification window [attached - 12 months, attached) -----------


def offence_family(on: str, born: str = "2000-01-01") -> pbr.Family:
    """Attached 2012-10-15, identified on the evidence; one offence by C1 on `on`."""
    return family(
        identified_for=None,
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": born},
        ],
        offences=[{"person_id": "C1", "date": on}],
    )


@pytest.mark.parametrize(
    ("on", "counts"),
    [
        ("2011-10-14", False),  # the day before the window opens
        ("2011-10-15", True),  # attached - 12 months: the first day in
        ("2012-10-14", True),  # the day before attachment: the last day in
        ("2012-10-15", False),  # the attachment day is after the window
    ],
)
def test_offence_identification_window_ends(on: str, counts: bool) -> None:
    decision = evaluate(offence_family(on), "2012-12-31")
    assert ("CRIME_ASB_AT_ENTRY" in identification_codes(decision)) is counts
    crime = decision.identification[0]
    assert crime.compared["window_from"] == "2011-10-15"
    assert crime.compared["window_before"] == "2012-10-15"
    assert crime.compared["child_offences"] == (1 if counts else 0)


@pytest.mark.parametrize(
    ("on", "counts"), [("2011-10-14", False), ("2011-10-15", True), ("2012-10-15", False)]
)
def test_asb_identification_window_ends(on: str, counts: bool) -> None:
    fam = family(identified_for=None, asb_incidents=[{"person_id": "A1", "date": on}])
    crime = evaluate(fam, "2012-12-31").identification[0]
    assert crime.code == ("CRIME_ASB_AT_ENTRY" if counts else "NO_CRIME_ASB_AT_ENTRY")
    assert crime.compared["asb_incidents"] == (1 if counts else 0)


# --- 2. an 18-year-old: an adult for referrals, no longer a child for offending ----------------------


@pytest.mark.parametrize(("born", "child"), [("1994-10-01", False), ("1994-10-02", True)])
def test_offence_on_the_18th_birthday_is_not_a_childs(born: str, child: bool) -> None:
    """Offence on 2012-10-01: C1 born 1994-10-01 is 18 that day; born a day later, 17."""
    decision = evaluate(offence_family("2012-10-01", born=born), "2012-12-31")
    assert decision.identification[0].compared["child_offences"] == (1 if child else 0)


def referral_family(on: str) -> pbr.Family:
    """Identified for work; A2 turns 18 on 2012-11-01 and is referred on `on`."""
    return family(
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "A2", "date_of_birth": "1994-11-01"},
        ],
        work_programme=[{"person_id": "A2", "date": on, "provision": "work_programme"}],
    )


@pytest.mark.parametrize(("on", "met"), [("2012-10-31", False), ("2012-11-01", True)])
def test_referral_counts_from_the_18th_birthday(on: str, met: bool) -> None:
    decision = evaluate(referral_family(on), "2013-01-31")
    assert decision.results[P2W].status == ("met" if met else "not_met")
    assert codes(decision, P2W)[0] == (
        "WORK_PROGRAMME_REFERRAL" if met else "NO_WORK_PROGRAMME_REFERRAL"
    )


# --- 3. Supporting Families `dependent_child = under_16`: the 16th birthday -----------------------

NEEDS3 = [{"problem": "housing"}, {"problem": "health"}, {"problem": "domestic_abuse"}]
UNDER_16 = SUPPORTING_FAMILIES.with_interpretations(dependent_child="under_16")


def sf_family(**fields: Any) -> pbr.Family:
    base: dict[str, Any] = {
        "family_id": "S1",
        "programme": "supporting-families",
        "attached_on": "2022-01-15",
        "members": [
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "C1", "date_of_birth": "2010-03-01"},
        ],
        "problems_at_entry": NEEDS3,
    }
    base.update(fields)
    return pbr.Family.model_validate(base)


@pytest.mark.parametrize(
    ("born", "dependent"),
    [
        ("2006-01-15", False),  # 16 on the attachment day
        ("2006-01-16", True),  # 16 the day after: 15 on the attachment day
    ],
)
def test_under_16_dependent_child_at_the_16th_birthday(born: str, dependent: bool) -> None:
    fam = sf_family(
        members=[
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "C1", "date_of_birth": born},
        ]
    )
    under_16 = pbr.evaluate(fam, as_of=date(2022, 12, 31), rules=UNDER_16)
    assert under_16.eligible is dependent
    household = next(r for r in under_16.identification if r.rule == "identification.household")
    assert household.compared["child_age_limit"] == 16
    assert household.compared["dependent_children"] == (1 if dependent else 0)
    # under the default (under 18) the same child is a dependent either way
    assert pbr.evaluate(fam, as_of=date(2022, 12, 31)).eligible


# --- 4. an outcome whose `match` is "any": one measure of two suffices ------------------------------


def measure(measure_id: str, indicator: str, comparison: str, weeks: int) -> dict[str, Any]:
    return {
        "id": measure_id,
        "indicator": indicator,
        "comparison": comparison,
        "threshold": 0 if comparison == "==" else 1,
        "sustain_weeks": weeks,
    }


def two_measure_plan(match: str) -> OutcomePlan:
    """Each problem: `calm` holds (no `x` recorded), `step` fails (no `y` recorded)."""
    return parse_plan(
        {
            "id": "edges",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {
                    "problem": problem,
                    "match": match,
                    "measures": [measure("calm", "x", "==", 13), measure("step", "y", ">=", 13)],
                }
                for problem in ("domestic_abuse", "health")
            ],
        }
    )


def phase_two_family(**fields: Any) -> pbr.Family:
    base: dict[str, Any] = {
        "family_id": "L1",
        "programme": "tf-phase-2",
        "attached_on": "2016-01-15",
        "members": [
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "C1", "date_of_birth": "2010-03-01"},
        ],
        "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
    }
    base.update(fields)
    return pbr.Family.model_validate(base)


@pytest.mark.parametrize(("match", "met"), [("any", True), ("all", False)])
def test_outcome_match_any_needs_one_measure(match: str, met: bool) -> None:
    d = pbr.evaluate(phase_two_family(), as_of=date(2016, 6, 1), plan=two_measure_plan(match))
    assert d.results[SP].status == ("met" if met else "not_met")
    outcomes = [r for r in d.results[SP].reasons if r.code in {"OUTCOME_MET", "OUTCOME_NOT_MET"}]
    assert [r.code for r in outcomes] == ["OUTCOME_MET" if met else "OUTCOME_NOT_MET"] * 2
    assert {(r.compared["measures"], r.compared["measures_met"]) for r in outcomes} == {(2, 1)}


# --- 5. the earliest of several dates: the latest wait (plan), the first adult (employment) -------


def test_sustained_progress_waits_for_the_longest_incomplete_period() -> None:
    """Health's 13 weeks end 2016-04-15, domestic abuse's 26 weeks 2016-07-15: the later one."""
    plan = parse_plan(
        {
            "id": "waits",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {"problem": "domestic_abuse", "measures": [measure("q", "x", "==", 26)]},
                {"problem": "health", "measures": [measure("q", "x", "==", 13)]},
            ],
        }
    )
    d = pbr.evaluate(phase_two_family(), as_of=date(2016, 4, 1), plan=plan)
    assert d.results[SP].status == "not_met"
    assert d.results[SP].earliest_date == date(2016, 7, 15)
    assert pbr.evaluate(phase_two_family(), as_of=date(2016, 7, 15), plan=plan).results[
        SP
    ].status == ("met")


def test_continuous_employment_earliest_is_the_first_adult_to_reach_it() -> None:
    """A1 in work from 2016-03-01 (13 weeks on 2016-05-31), A2 from 2016-02-01 (2016-05-02)."""
    fam = phase_two_family(
        members=[
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "A2", "date_of_birth": "1986-01-01"},
            {"person_id": "C1", "date_of_birth": "2010-03-01"},
        ],
        benefit_spells=[
            {"person_id": p, "benefit": "ESA", "start": "2015-01-01", "end": "2016-01-31"}
            for p in ("A1", "A2")
        ],
        employment_spells=[
            {"person_id": "A1", "start": "2016-03-01"},
            {"person_id": "A2", "start": "2016-02-01"},
        ],
    )
    early = pbr.evaluate(fam, as_of=date(2016, 4, 1))
    assert early.results[CE].status == "not_met"
    assert early.results[CE].earliest_date == date(2016, 5, 2)
    assert pbr.evaluate(fam, as_of=date(2016, 5, 2)).results[CE].status == "met"
    assert pbr.evaluate(fam, as_of=date(2016, 5, 1)).results[CE].status == "not_met"


# --- 6. Supporting Families: the employment route and `relevance` -------------------------------------

ON_BENEFIT: dict[str, Any] = {  # attached 2021-06-01 on ESA; 13 weeks in work on 2021-09-30
    "attached_on": "2021-06-01",
    "benefit_spells": [
        {"person_id": "A1", "benefit": "ESA", "start": "2021-01-01", "end": "2021-06-30"}
    ],
    "employment_spells": [{"person_id": "A1", "start": "2021-07-01"}],
}
FINANCIAL = [*NEEDS3, {"problem": "financial_stability"}]


@pytest.mark.parametrize(
    ("needs", "applies"), [(NEEDS3, False), (FINANCIAL, True)], ids=["without", "with"]
)
def test_identified_problems_only_needs_financial_stability(
    needs: list[dict[str, str]], applies: bool
) -> None:
    rules = SUPPORTING_FAMILIES.with_interpretations(relevance="identified_problems_only")
    fam = sf_family(problems_at_entry=needs, **ON_BENEFIT)
    d = pbr.evaluate(fam, as_of=date(2022, 3, 31), rules=rules)
    if applies:
        assert d.results[CE].status == "met"
    else:
        assert d.results[CE].status == "not_applicable"
        assert codes(d, CE) == ["LIMB_NOT_RELEVANT"]
        [why] = d.results[CE].reasons  # the need SF tests, not phase two's work problem
        assert why.compared["problem"] == "financial_stability"
        assert why.message == (
            "continuous_employment: the family did not have the financial_stability need at entry"
        )
    # under the default (all_limbs) both families may claim by employment
    assert pbr.evaluate(fam, as_of=date(2022, 3, 31)).results[CE].status == "met"


@pytest.mark.parametrize(
    ("route", "as_of", "open_"),
    [
        ("claims_to_march_2022", "2022-03-31", True),
        ("claims_to_march_2022", "2022-04-01", False),
        ("always", "2022-04-01", True),
        ("never", "2022-03-31", False),
    ],
)
def test_employment_route_closes_after_march_2022(route: str, as_of: str, open_: bool) -> None:
    rules = SUPPORTING_FAMILIES.with_interpretations(employment_route=route)
    d = pbr.evaluate(sf_family(**ON_BENEFIT), as_of=date.fromisoformat(as_of), rules=rules)
    if open_:
        assert d.results[CE].status == "met"
    else:
        assert codes(d, CE) == ["EMPLOYMENT_ROUTE_CLOSED"]


# --- money: the edges of `money`, the record field and the roundings ----------------------------


def test_money_decimal_with_zero_extra_places_is_accepted() -> None:
    """Decimal("1.000") is a whole number of pence; Decimal("1.001") is not."""
    assert money(Decimal("1.000")) == Decimal("1.00")
    assert money(Decimal("-2.5000")) == Decimal("-2.50")
    with pytest.raises(ValueError, match="two decimal places"):
        money(Decimal("1.001"))


@pytest.mark.parametrize(
    ("value", "penny"),
    [
        (Decimal("0.004"), "0.00"),
        (Decimal("0.005"), "0.01"),
        (Decimal("-0.004"), "0.00"),
        (Decimal("-0.005"), "-0.01"),
        (Fraction(-1, 2), "-0.50"),
    ],
)
def test_round_to_penny_halves_away_from_zero(value: Decimal | Fraction, penny: str) -> None:
    assert round_to_penny(value) == Decimal(penny)


@pytest.mark.parametrize(
    ("value", "text"),
    [("0", "£0.00"), ("0.5", "£0.50"), ("-0.5", "-£0.50"), ("-1234.5", "-£1,234.50")],
)
def test_format_gbp_sign(value: str, text: str) -> None:
    assert format_gbp(Decimal(value)) == text


MONEY_FIELD: TypeAdapter[Decimal] = TypeAdapter(Money)


def test_money_field_takes_whole_pounds_and_refuses_negatives() -> None:
    assert MONEY_FIELD.validate_python(700) == Decimal("700.00")
    assert MONEY_FIELD.validate_python("0") == Decimal("0.00")
    for negative in ("-0.01", "-0.50", -1):
        with pytest.raises(pydantic.ValidationError, match="must not be negative"):
            MONEY_FIELD.validate_python(negative)


def test_money_json_schema_bounds_match_money() -> None:
    schema = MONEY_FIELD.json_schema(mode="validation")
    text, whole = schema["anyOf"]
    assert (whole["minimum"], whole["maximum"]) == (0, int(MAX_MONEY))
    assert re.fullmatch(text["pattern"], str(MAX_MONEY))
    assert not re.fullmatch(text["pattern"], str(MAX_MONEY + 1))


# --- periods: the date range, financial years, terms, school age ----------------------------------


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (date(2012, 3, 31), False),
        (date(2012, 4, 1), True),
        (date(2099, 12, 31), True),
    ],
)
def test_as_of_range_ends(day: date, ok: bool) -> None:
    if ok:
        assert check_as_of(day) == day
    else:
        with pytest.raises(ValueError, match="from 2012-04-01 to 2099-12-31"):
            check_as_of(day)


@pytest.mark.parametrize(
    ("born", "ok"),
    [("1899-12-31", False), ("1900-01-01", True), ("2099-12-31", True)],
)
def test_record_dates_from_1900_to_2099(born: str, ok: bool) -> None:
    record = {
        "family_id": "D1",
        "attached_on": "2012-10-15",
        "members": [{"person_id": "A1", "date_of_birth": born}],
    }
    if ok:
        assert pbr.Family.model_validate(record).members[0].date_of_birth.isoformat() == born
    else:
        with pytest.raises(pydantic.ValidationError):
            pbr.Family.model_validate(record)


@pytest.mark.parametrize("text", ["abcd/13", "2014/ab", "2014/155", "201/15", "2014"])
def test_financial_year_parse_refuses_a_malformed_label(text: str) -> None:
    with pytest.raises(ValueError, match="must look like '2012/13'"):
        FinancialYear.parse(text)


ORDER: tuple[Literal["autumn", "spring", "summer"], ...] = ("autumn", "spring", "summer")


def test_default_terms_are_dated_to_the_day() -> None:
    assert [(t.start, t.end) for t in (default_term("2012/13", n) for n in ORDER)] == [
        (date(2012, 9, 1), date(2012, 12, 31)),
        (date(2013, 1, 1), date(2013, 3, 31)),
        (date(2013, 4, 1), date(2013, 7, 31)),
    ]


def test_a_council_term_overrides_both_ends() -> None:
    own = TermCalendar({("2012/13", "spring"): (date(2013, 1, 7), date(2013, 3, 28))})
    spring = own.term("2012/13", "spring")
    assert (spring.start, spring.end) == (date(2013, 1, 7), date(2013, 3, 28))


@pytest.mark.parametrize(
    ("born", "in_autumn_2017"),
    [
        ("2001-08-31", False),  # 16 on 31 Aug 2017: school age ended that day
        ("2001-09-01", True),  # 16 on 1 Sep 2017: of school age to 31 Aug 2018
    ],
)
def test_school_age_ends_with_the_school_year_of_the_16th_birthday(
    born: str, in_autumn_2017: bool
) -> None:
    term = default_term("2017/18", "autumn")
    assert compulsory_school_age_in(date.fromisoformat(born), term) is in_autumn_2017


# --- plans: what a measure allows, its period in words, and errors that name the place ------------


def test_built_in_indicator_takes_count_or_its_own_aggregate() -> None:
    default = parse_plan(
        {
            "id": "p",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {
                    "problem": "education",
                    "measures": [measure("ex", "fixed_term_exclusions", "==", 13)],
                }
            ],
        }
    )
    only = default.outcomes[0].measures[0]
    assert (only.aggregate, only.effective_aggregate) == ("count", "sum")
    with pytest.raises(pbr.PlanError, match="takes aggregate sum, not 'max'"):
        parse_plan(
            {
                "id": "p",
                "version": "1",
                "programme": "tf-phase-2",
                "outcomes": [
                    {
                        "problem": "education",
                        "measures": [
                            {**measure("ex", "fixed_term_exclusions", "==", 13), "aggregate": "max"}
                        ],
                    }
                ],
            }
        )


@pytest.mark.parametrize(
    ("unit", "n", "words"),
    [
        ("days", 30, "30 days"),
        ("weeks", 13, "13 weeks"),
        ("months", 6, "6 months"),
        ("terms", 3, "3 terms"),
    ],
)
def test_measure_period_in_words(unit: str, n: int, words: str) -> None:
    one = Measure.model_validate(
        {"id": "q", "indicator": "x", "comparison": "==", "threshold": 0, f"sustain_{unit}": n}
    )
    assert one.period == words


def plan_error(outcomes: Any, **top: Any) -> str:
    data = {"id": "p", "version": "1", "programme": "tf-phase-2", "outcomes": outcomes, **top}
    with pytest.raises(pbr.PlanError) as caught:
        parse_plan(data)
    return str(caught.value)


def test_plan_error_says_what_is_wrong_inside_a_list_not_that_it_is_short() -> None:
    assert plan_error([{"problem": "health", "measures": [{"id": "q"}]}]).splitlines() == [
        *(
            f"<plan>: plan 'p': outcomes[0] (health) measure 'q': {field}: Field required"
            for field in ("indicator", "comparison", "threshold")
        ),
        "<plan>: plan 'p': outcomes[0] (health) measure 'q': give exactly one of sustain_days, "
        "sustain_weeks, sustain_months, sustain_terms (got none)",
    ]
    assert plan_error([{"problem": "health", "measures": []}]) == (
        "<plan>: plan 'p': outcomes[0] (health): measures: Input should be an array of at least "
        "1 item (got [])"
    )


def test_plan_error_too_short_is_kept_beside_an_error_elsewhere() -> None:
    bad = {**measure("q", "x", "==", 13), "comparison": "~"}
    lines = plan_error(
        [
            {"problem": "health", "measures": []},
            {"problem": "domestic_abuse", "measures": [bad]},
        ]
    ).splitlines()
    assert [line.split(": ")[2] for line in lines] == [
        "outcomes[0] (health)",
        "outcomes[1] (domestic_abuse) measure 'q'",
    ]


def test_plan_error_names_an_unnamed_measure_by_index_and_shows_the_value() -> None:
    assert plan_error([{"problem": "health", "measures": [{"indicator": 5}]}]).splitlines()[:2] == [
        "<plan>: plan 'p': outcomes[0] (health) measure [0]: id: Field required",
        "<plan>: plan 'p': outcomes[0] (health) measure [0]: indicator: Input should be a valid "
        "string (got 5)",
    ]


def test_plan_error_without_an_id_and_for_the_whole_plan() -> None:
    assert plan_error([{"problem": "health", "measures": [measure("q", "x", "==", 13)]}], id=5) == (
        "<plan>: plan: id: Input should be a valid string (got 5)"
    )
    with pytest.raises(pbr.PlanError) as caught:
        parse_plan([1])
    assert str(caught.value) == (
        "<plan>: plan: (whole plan): Input should be a valid dictionary or instance of "
        "OutcomePlan (got [1])"
    )


@pytest.mark.parametrize(
    ("width", "shown"), [(58, "'" + "~" * 58 + "'"), (59, "'" + "~" * 58 + "…")]
)
def test_plan_error_shows_a_value_up_to_60_characters(width: int, shown: str) -> None:
    bad = {**measure("q", "x", "==", 13), "comparison": "~" * width}
    message = plan_error([{"problem": "health", "measures": [bad]}])
    assert message.endswith(f"(got {shown})")


def test_plan_error_through_a_union_is_one_line_in_plan_terms() -> None:
    lines = plan_error(
        [{"problem": "nope", "measures": [measure("q", "x", "==", 13)]}]
    ).splitlines()
    assert lines == [
        "<plan>: plan 'p': outcomes[0] (nope): problem: Input should be one of tf-phase-2's "
        "problems: crime_asb, education, children_need_help, work, domestic_abuse, health "
        "(got 'nope')"
    ]


def test_description_up_to_500_characters() -> None:
    ok = {**measure("q", "x", "==", 13), "description": "y" * 500}
    assert parse_plan(
        {
            "id": "p",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [{"problem": "health", "measures": [ok]}],
        }
    )
    too_long = {**ok, "description": "y" * 501}
    assert "at most 500 characters" in plan_error([{"problem": "health", "measures": [too_long]}])


@pytest.mark.parametrize(
    ("on", "met"), [("2016-03-31", True), ("2016-04-01", False), ("2016-12-31", False)]
)
def test_term_period_starts_on_the_first_day_of_its_first_term(on: str, met: bool) -> None:
    """At 2016-12-31 the last two complete terms are summer and autumn 2016: 1 Apr to 31 Dec."""
    terms = {"id": "q", "indicator": "x", "comparison": "==", "threshold": 0, "sustain_terms": 2}
    plan = parse_plan(
        {
            "id": "terms",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [{"problem": p, "measures": [terms]} for p in ("domestic_abuse", "health")],
        }
    )
    fam = phase_two_family(observations=[{"indicator": "x", "date": on}])
    d = pbr.evaluate(fam, as_of=date(2016, 12, 31), plan=plan)
    assert d.results[SP].status == ("met" if met else "not_met")


@pytest.mark.parametrize("calendar", ["default", "council"])
def test_a_month_period_reads_school_rows_by_the_rule_sets_term_calendar(calendar: str) -> None:
    """A 6-month period to 2017-03-31 reads the terms ending in it: by default autumn and
    spring; under a council calendar whose spring ends on 7 April, autumn only. The default
    calendar was read whatever the rule set's, and the calendar went unnamed."""
    rows = [
        {
            "person_id": "C1",
            "academic_year": "2016/17",
            "term": term,
            "possible_sessions": 100,
            "unauthorised_absences": 0,
            "fixed_term_exclusions": exclusions,
        }
        for term, exclusions in (("autumn", 0), ("spring", 2))
    ]
    months = {
        "id": "q",
        "indicator": "fixed_term_exclusions",
        "comparison": "==",
        "threshold": 0,
        "sustain_months": 6,
    }
    plan = parse_plan(
        {
            "id": "months",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {"problem": p, "measures": [months]} for p in ("domestic_abuse", "health")
            ],
        }
    )
    own = TermCalendar(
        {
            ("2016/17", "spring"): (date(2017, 1, 4), date(2017, 4, 7)),
            ("2016/17", "summer"): (date(2017, 4, 24), date(2017, 7, 22)),  # after that spring
        },
        name="council",
    )
    rules = PHASE_TWO.with_term_calendar(own) if calendar == "council" else PHASE_TWO
    fam = phase_two_family(school_terms=rows)
    d = pbr.evaluate(fam, as_of=date(2017, 3, 31), rules=rules, plan=plan)
    measured = [r for r in d.results[SP].reasons if r.compared.get("measure") == "q"]
    assert measured
    if calendar == "council":  # spring ends after the period: its 2 exclusions are not read
        assert d.results[SP].status == "met"
        assert all(r.compared["term_calendar"] == "council" for r in measured)
        assert all("(council term calendar)" in r.message for r in measured)
    else:
        assert d.results[SP].status == "not_met"
        assert all("term_calendar" not in r.compared for r in measured)


def test_a_bad_number_in_a_plan_shows_the_value_not_a_template() -> None:
    bad = {**measure("q", "x", "==", 13), "threshold": "7.5.5"}
    message = plan_error([{"problem": "health", "measures": [bad]}])
    assert "got '7.5.5'" in message
    assert "{value" not in message


# --- continuous employment: spells merged into runs (clarification 9) ------------------------------


def spell(start: str, end: str | None = None) -> EmploymentSpell:
    return EmploymentSpell.model_validate({"person_id": "A1", "start": start, "end": end})


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_runs_merge_touching_and_contained_spells_and_keep_gaps() -> None:
    spells = [
        spell("2016-01-01", "2016-01-31"),
        spell("2016-03-01", "2016-03-31"),  # a gap of a month: a new run
        spell("2016-04-01", "2016-04-30"),  # touches the second run
        spell("2016-04-10", "2016-04-20"),  # inside it: the run still ends 30 April
        spell("2016-06-01", "2016-06-30"),
        spell("2016-06-15", None),  # overlaps and never ends
        spell("2016-08-01", "2016-08-31"),  # inside an open run
        spell("2017-01-01", None),  # starts after as_of: not yet
    ]
    assert runs(spells, d("2016-12-31")) == [
        (d("2016-01-01"), d("2016-01-31")),
        (d("2016-03-01"), d("2016-04-30")),
        (d("2016-06-01"), None),
    ]


def test_runs_a_gap_of_one_day_splits() -> None:
    spells = [spell("2016-01-01", "2016-01-31"), spell("2016-02-02", "2016-02-29")]
    assert len(runs(spells, d("2016-12-31"))) == 2
    touching = [spell("2016-01-01", "2016-01-31"), spell("2016-02-01", "2016-02-29")]
    assert runs(touching, d("2016-12-31")) == [(d("2016-01-01"), d("2016-02-29"))]
    assert runs(touching, d("2016-01-31")) == [(d("2016-01-01"), d("2016-01-31"))]


@pytest.mark.parametrize(("born", "counts"), [("1998-01-15", True), ("1998-01-16", False)])
def test_only_an_adult_on_benefit_at_attachment_opens_continuous_employment(
    born: str, counts: bool
) -> None:
    """Attached 2016-01-15: A2 born 1998-01-15 is 18 that day; born a day later, 17."""
    fam = phase_two_family(
        members=[
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "A2", "date_of_birth": born},
        ],
        benefit_spells=[
            {"person_id": "A2", "benefit": "ESA", "start": "2015-06-01", "end": "2016-01-31"}
        ],
        employment_spells=[{"person_id": "A2", "start": "2016-02-01"}],
    )
    ce = pbr.evaluate(fam, as_of=date(2016, 12, 31)).results[CE]
    assert ce.status == ("met" if counts else "not_met")
    if not counts:
        assert [r.code for r in ce.reasons] == ["NO_ADULT_ON_BENEFIT_AT_ATTACHMENT"]


@pytest.mark.parametrize(
    ("start", "end", "counts"),
    [
        ("2016-01-15", None, True),  # starts on the attachment day
        ("2016-01-16", None, False),  # the day after
        ("2015-06-01", "2016-01-15", True),  # ends on the attachment day
        ("2015-06-01", "2016-01-14", False),  # the day before
    ],
)
def test_benefit_spell_on_the_attachment_day(start: str, end: str | None, counts: bool) -> None:
    fam = phase_two_family(
        benefit_spells=[{"person_id": "A1", "benefit": "ESA", "start": start, "end": end}],
        employment_spells=[{"person_id": "A1", "start": "2016-02-01"}],
    )
    ce = pbr.evaluate(fam, as_of=date(2016, 12, 31)).results[CE]
    assert ce.status == ("met" if counts else "not_met")


# --- the kernel: what a reason holds, what has been paid -------------------------------------------


def test_plain_keeps_none_and_scalars() -> None:
    assert plain(None) is None
    assert [plain(v) for v in (True, 3, "x")] == [True, 3, "x"]
    assert plain(date(2016, 1, 2)) == "2016-01-02"
    assert plain(Fraction(1, 4)) == "0.25"


def test_fee_counted_is_the_attachment_fee_paid_not_every_payment() -> None:
    made = tuple(
        Payment.model_validate(p)
        for p in (
            {"kind": "attachment_fee", "amount": "3200"},
            {"kind": "progress_to_work", "amount": "500"},
        )
    )
    acc = Account(FinancialYear(2012), Decimal("3200.00"), Decimal("4000.00"), made)
    assert (acc.fee_counted, acc.results_paid, acc.room) == (
        Decimal("3200.00"),
        Decimal("500.00"),
        Decimal("300.00"),
    )


@pytest.mark.parametrize(("paid_on", "made"), [("2013-06-30", True), ("2013-07-01", False)])
def test_a_payment_dated_on_as_of_is_made(paid_on: str, made: bool) -> None:
    fam = family(payments=[{"kind": "attachment_fee", "amount": "3200", "paid_on": paid_on}])
    acc = account(fam, date(2013, 6, 30), FinancialYear(2012), Decimal("3200"), Decimal("4000"))
    assert len(acc.made) == (1 if made else 0)


def test_a_result_paid_twice_is_warned_of_a_fee_paid_in_parts_is_not() -> None:
    """payment.once: a fee may be paid in parts; a result listed twice names both claims."""

    def once(*payments: dict[str, str]) -> list[dict[str, Any]]:
        d = evaluate(family(payments=list(payments)), "2013-06-30")
        return [dict(w.compared) for w in d.warnings if w.code == "RESULT_PAID_MORE_THAN_ONCE"]

    fee = {"kind": "attachment_fee", "amount": "1600", "claim_id": "F-1"}
    assert once(fee, {**fee, "claim_id": "F-2"}) == []
    p2w = {"kind": "progress_to_work", "amount": "100", "claim_id": "C-1"}
    assert once(fee, p2w) == []
    undated = {"first_paid_on": None, "again_paid_on": None}
    assert once(fee, p2w, {**p2w, "claim_id": "C-2"}) == [
        {"kind": "progress_to_work", "first_claim": "C-1", "again_claim": "C-2", **undated}
    ]
    unnamed = {"kind": "progress_to_work", "amount": "100"}
    assert once(unnamed, p2w) == [
        {
            "kind": "progress_to_work",
            "first_claim": "(no claim id)",
            "again_claim": "C-1",
            **undated,
        }
    ]


EMPLOYED: dict[str, Any] = {  # employment met on 2013-03-01 (£800), crime/ASB/edu too early
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2012-11-01"}],
}


@pytest.mark.parametrize(("amount", "paid_before"), [("0.00", False), ("0.01", True)])
def test_phase_one_result_paid_0_is_not_paid_a_penny_is(amount: str, paid_before: bool) -> None:
    """Each result is paid once: a £0 payment is none, so the result is paid at its rate."""
    made = {"kind": "continuous_employment", "amount": amount, "paid_on": "2013-02-01"}
    d = evaluate(family(payments=[made], **EMPLOYED), "2013-03-01")
    ce = d.results["continuous_employment"]
    assert (ce.status, ce.amount) == (
        ("already_paid", Decimal(0)) if paid_before else ("met", Decimal("800.00"))
    )
    # nor does crime/ASB/education paid £0 take the route (exclusive) or make employment a top-up
    crime = {"kind": "crime_asb_education", "amount": amount, "paid_on": "2013-02-01"}
    for choice, code, then in (
        ("exclusive", "EXCLUSIVE_ROUTE_TAKEN", "0"),
        ("top_up", "EMPLOYMENT_TOP_UP", "799.99"),
    ):
        rules = PHASE_ONE.with_interpretations(employment_after_crime=choice)
        after = evaluate(family(payments=[crime], **EMPLOYED), "2013-03-01", rules)
        assert (code in codes(after, "continuous_employment")) is paid_before, choice
        assert after.payable == Decimal(then if paid_before else "800"), choice


def test_a_result_listed_at_0_then_paid_is_not_paid_twice() -> None:
    p2w = {"kind": "progress_to_work", "amount": "100", "claim_id": "C-1"}
    zero = {**p2w, "amount": "0.00", "claim_id": "C-0"}
    d = evaluate(family(payments=[zero, p2w]), "2013-06-30")
    assert "RESULT_PAID_MORE_THAN_ONCE" not in [w.code for w in d.warnings]
    assert d.results[P2W].reasons[0].compared["claim_id"] == "C-1"  # ALREADY_PAID names it


# --- payments already made that break the rules: the fee counts whether listed or not -----------


def payment_warnings(d: Decision) -> dict[str, dict[str, Any]]:
    return {w.code: dict(w.compared) for w in d.warnings if w.rule.startswith("payment.")}


@pytest.mark.parametrize(
    ("employment", "over"), [("100.00", None), ("100.01", "0.01"), ("800.00", "700.00")]
)
def test_phase_one_fee_not_listed_counts_towards_paid_over_cap(
    employment: str, over: str | None
) -> None:
    """Attached 2012-10-15: £3,200 fee (not listed) + £700 crime/ASB/education + employment."""
    made = [
        {"kind": "crime_asb_education", "amount": "700.00", "claim_id": "C1"},
        {"kind": "continuous_employment", "amount": employment, "claim_id": "C2"},
    ]
    d = evaluate(family(payments=made), "2013-06-30")
    warned = payment_warnings(d)
    assert d.payable == 0  # nothing more is paid, whatever was
    if over is None:  # 3,200 + 800 = 4,000: at the cap, not over it
        assert warned == {}
        return
    results = Decimal("700.00") + Decimal(employment)
    assert warned == {
        "PAID_OVER_CAP": {
            "paid_to_date": str(results),
            "cap": "4000.00",
            "attachment_fee_counted": "3200.00",
            "results_paid": str(results),
            "over_cap": over,
        }
    }
    (w,) = [w for w in d.warnings if w.code == "PAID_OVER_CAP"]
    assert w.message == (
        f"attachment fee counted 3200.00 (listed as paid: 0.00) + results paid {results} = "
        f"{Decimal(3200) + results}, over the cap of 4000.00: {over} is to be recovered"
    )


@pytest.mark.parametrize(
    ("payments", "warned"),
    [
        ([("sustained_progress", "800.00")], set()),  # 1,000 + 800: the cap
        ([("sustained_progress", "800.01")], {"PAID_OVER_CAP"}),
        (
            [("sustained_progress", "800.00"), ("continuous_employment", "800.00")],
            {"SECOND_RESULTS_CLAIM_PAID", "PAID_OVER_CAP"},
        ),
        (
            [("sustained_progress", "400.00"), ("continuous_employment", "400.00")],
            {"SECOND_RESULTS_CLAIM_PAID"},  # within the cap, but a second claim
        ),
        ([("sustained_progress", "400.00"), ("continuous_employment", "0.00")], set()),
    ],
)
def test_phase_two_overpayments_are_flagged_with_the_fee_not_listed(
    payments: list[tuple[str, str]], warned: set[str]
) -> None:
    made = [
        {"kind": k, "amount": a, "paid_on": "2016-05-01", "claim_id": f"C{i}"}
        for i, (k, a) in enumerate(payments, 1)
    ]
    d = pbr.evaluate(phase_two_family(payments=made), as_of=date(2016, 6, 1), plan=MET_PLAN)
    found = payment_warnings(d)
    assert set(found) == warned
    assert d.payable == 0
    if "SECOND_RESULTS_CLAIM_PAID" in found:
        assert found["SECOND_RESULTS_CLAIM_PAID"] == {
            "first_route": "sustained_progress",
            "first_claim": "C1",
            "first_paid_on": "2016-05-01",
            "again_route": "continuous_employment",
            "again_claim": "C2",
            "again_paid_on": "2016-05-01",
        }
    if "PAID_OVER_CAP" in found:
        assert found["PAID_OVER_CAP"]["attachment_fee_counted"] == "1000.00"
        assert found["PAID_OVER_CAP"]["cap"] == "1800.00"


def test_supporting_families_second_claim_is_flagged_phase_one_has_no_one_claim() -> None:
    sf = pbr.Family.model_validate(
        {
            "family_id": "S1",
            "programme": "supporting-families",
            "attached_on": "2022-06-01",
            "members": [
                {"person_id": "A1", "date_of_birth": "1985-01-01"},
                {"person_id": "C1", "date_of_birth": "2015-01-01"},
            ],
            "problems_at_entry": [{"problem": p} for p in ("health", "housing", "crime")],
            "payments": [
                {"kind": "continuous_employment", "amount": "400.00"},
                {"kind": "sustained_progress", "amount": "400.00", "claim_id": "S-2"},
            ],
        }
    )
    found = payment_warnings(evaluate(sf, "2023-06-01"))
    assert found == {
        "SECOND_RESULTS_CLAIM_PAID": {
            "first_route": "continuous_employment",
            "first_claim": "(no claim id)",
            "first_paid_on": None,
            "again_route": "sustained_progress",
            "again_claim": "S-2",
            "again_paid_on": None,
        }
    }
    # phase one pays several results to one family: two of them are no second claim
    made = [
        {"kind": "crime_asb_education", "amount": "700.00"},
        {"kind": "progress_to_work", "amount": "100.00"},
    ]
    assert payment_warnings(evaluate(family(payments=made), "2013-06-30")) == {}


PAID_A = {  # paid first: kept
    "kind": "sustained_progress",
    "amount": "800.00",
    "paid_on": "2017-01-15",
    "claim_id": "C1",
}
PAID_B = {  # paid later: to be recovered
    "kind": "continuous_employment",
    "amount": "800.00",
    "paid_on": "2017-02-15",
    "claim_id": "C2",
}


@pytest.mark.parametrize("listed", [[PAID_A, PAID_B], [PAID_B, PAID_A]])
def test_the_later_paid_of_two_routes_is_the_one_to_recover_however_listed(
    listed: list[dict[str, str]],
) -> None:
    # listed [B, A], it named A (paid first, C1) as the second claim, to be recovered
    d = pbr.evaluate(phase_two_family(payments=listed), as_of=date(2017, 3, 1), plan=MET_PLAN)
    (w,) = [w for w in d.warnings if w.code == "SECOND_RESULTS_CLAIM_PAID"]
    assert w.message == (
        "results are listed as paid by two routes (sustained_progress C1, paid 2017-01-15; then "
        "continuous_employment C2, paid 2017-02-15): the family has one results claim, so the "
        "later (continuous_employment C2) is to be recovered"
    )
    assert dict(w.compared) == {
        "first_route": "sustained_progress",
        "first_claim": "C1",
        "first_paid_on": "2017-01-15",
        "again_route": "continuous_employment",
        "again_claim": "C2",
        "again_paid_on": "2017-02-15",
    }
    # the one claim is the first paid: the other route's result says so, and is not paid
    assert d.results[CE].reasons[0].compared["claim_id"] == "C2"  # ALREADY_PAID names its own
    assert d.results[SP].reasons[0].compared["claim_id"] == "C1"


@pytest.mark.parametrize(
    ("first_on", "again_on", "why"),
    [
        (
            "2017-01-15",
            "2017-01-15",
            "both paid 2017-01-15: the one listed later counts as the later",
        ),
        (None, None, "neither date is recorded: the one listed later counts as the later"),
        ("2017-01-15", None, "its date is not recorded: an undated payment counts as the later"),
    ],
)
def test_which_of_two_payments_is_the_later_says_how_it_was_told(
    first_on: str | None, again_on: str | None, why: str
) -> None:
    # the dates do not tell them apart (or one is undated): the order listed does, and says so
    def dated(payment: dict[str, str], on: str | None) -> dict[str, str]:
        return {k: v for k, v in payment.items() if k != "paid_on"} | (
            {"paid_on": on} if on else {}
        )

    again = {**PAID_A, "claim_id": "C2"}
    for kind, code, second in (
        (SP, "RESULT_PAID_MORE_THAN_ONCE", again),
        (CE, "SECOND_RESULTS_CLAIM_PAID", PAID_B),
    ):
        listed = [dated(PAID_A, first_on), dated(second, again_on)]
        if (
            first_on is not None and again_on is None
        ):  # the undated one is the later, wherever listed
            listed.reverse()
        fam = phase_two_family(payments=listed)
        d = pbr.evaluate(fam, as_of=date(2017, 3, 1), plan=MET_PLAN)
        (w,) = [w for w in d.warnings if w.code == code]
        assert w.message.endswith(f"so the later ({kind} C2) is to be recovered ({why})"), code
        assert (w.compared["first_claim"], w.compared["again_claim"]) == ("C1", "C2")


# --- one claim per family (phase two and Supporting Families) --------------------------------------

MET_PLAN = two_measure_plan("any")  # met on 2016-06-01 for a family attached 2016-01-15


def paid(kind: str, amount: str, on: str) -> dict[str, str]:
    return {"kind": kind, "amount": amount, "paid_on": on}


def test_one_claim_pays_the_rate_within_room() -> None:
    d = pbr.evaluate(phase_two_family(), as_of=date(2016, 6, 1), plan=MET_PLAN)
    assert (d.results[SP].amount, d.payable) == (Decimal("800.00"), Decimal("800.00"))
    assert codes(d, SP)[-1] == "RATE_APPLIED"
    assert "CAP_REACHED" not in codes(d, SP)


def test_one_claim_is_capped_by_the_room_left() -> None:
    fam = phase_two_family(payments=[paid("attachment_fee", "1500", "2016-01-20")])
    d = pbr.evaluate(fam, as_of=date(2016, 6, 1), plan=MET_PLAN)
    assert (d.results[SP].amount, d.payable) == (Decimal("300.00"), Decimal("300.00"))
    assert codes(d, SP)[-1] == "CAP_REACHED"


def test_already_paid_cites_the_first_payment_of_the_kind() -> None:
    fam = phase_two_family(
        payments=[
            paid("sustained_progress", "400", "2016-05-01"),
            paid("sustained_progress", "400", "2016-05-20"),
        ]
    )
    d = pbr.evaluate(fam, as_of=date(2016, 6, 1), plan=MET_PLAN)
    first = d.results[SP].reasons[0]
    assert (first.code, first.compared["paid_on"]) == ("ALREADY_PAID", "2016-05-01")


def test_the_one_claim_is_the_route_already_paid() -> None:
    fam = phase_two_family(payments=[paid("continuous_employment", "800", "2016-05-01")])
    d = pbr.evaluate(fam, as_of=date(2016, 6, 1), plan=MET_PLAN)
    taken = d.results[SP].reasons[-1]
    assert (taken.code, taken.compared["other_route"]) == (
        "ONE_CLAIM_PER_FAMILY",
        "continuous_employment",
    )
    # phase one's results are not phase two's routes: such a payment is refused, not counted
    with pytest.raises(pydantic.ValidationError, match="payment_not_in_programme"):
        phase_two_family(payments=[paid("progress_to_work", "100", "2016-05-01")])


@pytest.mark.parametrize(("amount", "claimed"), [("0.00", False), ("0.01", True)])
def test_a_route_paid_0_is_no_claim_a_penny_is(amount: str, claimed: bool) -> None:
    """£0 is no claim paid (as an attachment fee listed at £0 is none): the family is paid."""
    fam = phase_two_family(
        payments=[{**paid("continuous_employment", amount, "2016-05-01"), "claim_id": "C0"}]
    )
    d = pbr.evaluate(fam, as_of=date(2016, 6, 1), plan=MET_PLAN)
    assert d.results[SP].amount == (0 if claimed else Decimal("800.00"))
    assert ("ONE_CLAIM_PER_FAMILY" in codes(d, SP)) is claimed
    assert (d.results[CE].status == "already_paid") is claimed


def test_no_evidence_fails_a_measure_that_needs_a_value() -> None:
    latest = {**measure("q", "x", "==", 13), "aggregate": "latest"}
    plan = parse_plan(
        {
            "id": "p",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {"problem": p, "measures": [latest]} for p in ("domestic_abuse", "health")
            ],
        }
    )
    d = pbr.evaluate(phase_two_family(), as_of=date(2016, 6, 1), plan=plan)
    assert d.results[SP].status == "not_met"
    assert codes(d, SP).count("MEASURE_NO_EVIDENCE") == 2


def test_later_programmes_say_eligible_and_have_no_local_discretion() -> None:
    d = pbr.evaluate(phase_two_family(), as_of=date(2016, 6, 1), plan=MET_PLAN)
    verdict = d.identification[-1]
    assert (verdict.code, verdict.message) == ("ELIGIBLE", "eligible for a results payment")
    assert pbr.identify(phase_two_family()).local_discretion is False
    assert verdict.compared == {
        "checks": "PROBLEMS_AT_ENTRY",
        "failed": "",
        "problems": 2,
        "needed": 2,
    }
    one = phase_two_family(problems_at_entry=[{"problem": "health"}])
    refused = pbr.identify(one).reasons[-1]
    # it said only "not eligible", with no numbers: the working paper showed no why
    assert refused.message == "not eligible (TOO_FEW_PROBLEMS_AT_ENTRY): nothing is payable"
    assert (refused.compared["problems"], refused.compared["needed"]) == (1, 2)
    assert refused.compared["failed"] == "TOO_FEW_PROBLEMS_AT_ENTRY"


# --- the forecast's illustrative rates, as each programme lists them -------------------------------


def test_illustrative_rates_of_each_programme() -> None:
    """(central probability, half-width) per result: not evidence, but what the forecast shows."""
    f = Fraction
    assert {p.rules.programme: dict(p.illustrative_rates) for p in programmes()} == {
        "tf-phase-1": {
            "crime_asb_education": (f(1, 2), f(15, 100)),
            "progress_to_work": (f(1, 10), f(5, 100)),
            "continuous_employment": (f(1, 10), f(5, 100)),
        },
        "tf-phase-2": {
            "sustained_progress": (f(1, 2), f(15, 100)),
            "continuous_employment": (f(1, 5), f(5, 100)),
        },
        "supporting-families": {
            "sustained_progress": (f(1, 2), f(15, 100)),
            "continuous_employment": (f(1, 5), f(5, 100)),
        },
    }


# --- phase one identification: education over the terms before attachment, local discretion ------

Y0_TERMS = [("2011/12", "autumn"), ("2011/12", "spring"), ("2011/12", "summer")]


def education_identification(born: str, rows: list[dict[str, Any]], **fields: Any) -> list[str]:
    """The identification codes of a family with one child C1 and term rows (attached 2012-10-15)."""
    fam = family(
        identified_for=None,
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": born},
        ],
        school_terms=rows,
        **fields,
    )
    return identification_codes(evaluate(fam, "2012-12-31"))


@pytest.mark.parametrize(
    ("unauthorised", "possible", "problem"),
    [(15, 100, True), (15, 101, False), (14, 100, False)],
)
def test_absence_of_15_percent_identifies_exactly(
    unauthorised: int, possible: int, problem: bool
) -> None:
    rows = term_rows("C1", Y0_TERMS[:1], possible=possible, unauthorised=unauthorised)
    rows += term_rows("C1", Y0_TERMS[1:], possible=0)
    got = education_identification("2002-01-01", rows)
    assert ("EDUCATION_PROBLEM_AT_ENTRY" in got) is problem


@pytest.mark.parametrize(("possible", "problem"), [(0, False), (1, True)])
def test_a_child_past_school_age_with_no_sessions_is_no_problem(
    possible: int, problem: bool
) -> None:
    """C1 turned 16 in June 2011: past compulsory school age, still a child (17) in 2011/12."""
    rows = term_rows("C1", Y0_TERMS[:1], possible=possible, unauthorised=possible)
    got = education_identification("1995-06-01", rows)
    assert ("EDUCATION_PROBLEM_AT_ENTRY" in got) is problem


def test_a_child_of_school_age_with_no_rows_has_an_education_problem() -> None:
    fam = family(
        identified_for=None,
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2002-01-01"},
        ],
    )
    education = next(
        r
        for r in evaluate(fam, "2012-12-31").identification
        if r.rule == "identification.education"
    )
    assert education.code == "EDUCATION_PROBLEM_AT_ENTRY"
    assert "no school record in these terms (0 possible sessions)" in education.message
    rows = term_rows("C1", Y0_TERMS, possible=100, unauthorised=20)
    with_rows = family(
        identified_for=None,
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2002-01-01"},
        ],
        school_terms=rows,
    )
    absent = next(
        r
        for r in evaluate(with_rows, "2012-12-31").identification
        if r.rule == "identification.education"
    )
    assert "unauthorised absence 60/300 sessions" in absent.message


def test_a_term_ending_on_the_attachment_day_is_not_assessed() -> None:
    """Attached 31 Dec 2012, the last day of autumn 2012: the terms assessed are 2011/12's."""
    rows = term_rows("C1", [("2012/13", "autumn")], possible=100, unauthorised=90)
    rows += term_rows("C1", Y0_TERMS, possible=100)
    fam = family(
        identified_for=None,
        attached_on="2012-12-31",
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2002-01-01"},
        ],
        school_terms=rows,
    )
    education = next(
        r
        for r in evaluate(fam, "2013-03-31").identification
        if r.rule == "identification.education"
    )
    assert education.code == "NO_EDUCATION_PROBLEM_AT_ENTRY"
    assert education.compared["terms"] == "2011/12 autumn to 2011/12 summer"


@pytest.mark.parametrize("local", [[], ["domestic_abuse"]])
def test_local_discretion_is_recorded_only_when_given(local: list[str]) -> None:
    got = identification_codes(evaluate(family(local_discretion=local), "2012-12-31"))
    assert ("LOCAL_DISCRETION_RECORDED" in got) is bool(local)


@pytest.mark.parametrize(
    ("born", "start", "work"),
    [
        ("1980-01-01", "2012-10-15", True),  # benefit from the attachment day
        ("1980-01-01", "2012-10-16", False),  # from the day after
        ("1994-10-15", "2012-01-01", True),  # 18 on the attachment day: an adult
        ("1994-10-16", "2012-01-01", False),  # 17 on it: a child's benefit is not the work problem
    ],
)
def test_work_problem_is_an_adult_on_benefit_on_the_attachment_day(
    born: str, start: str, work: bool
) -> None:
    fam = family(
        identified_for=None,
        members=[{"person_id": "A1", "date_of_birth": born}],
        benefit_spells=[{"person_id": "A1", "benefit": "ESA", "start": start, "end": None}],
    )
    assert ("work" in pbr.identify(fam).evidence) is work


@pytest.mark.parametrize(
    ("stated", "disagrees", "without_evidence"),
    [
        (["work"], False, ""),
        (["education", "work"], True, "education"),  # stated without evidence, nothing unstated
        ([], True, ""),  # evidence of an unstated problem
    ],
)
def test_stated_problems_against_the_evidence(
    stated: list[str], disagrees: bool, without_evidence: str
) -> None:
    fam = family(
        identified_for=stated,
        benefit_spells=[{"person_id": "A1", "benefit": "ESA", "start": "2012-01-01", "end": None}],
    )
    ident = pbr.identify(fam)
    assert ident.evidence == ("work",)
    assert ident.identified_for == tuple(stated)
    assert [w.code for w in ident.warnings] == (
        ["EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR"] if disagrees else []
    )
    if disagrees:
        assert ident.warnings[0].compared["stated_without_evidence"] == without_evidence


# --- phase one results: baselines, education at results ---------------------------------------------

CAE: ResultKind = "crime_asb_education"


@pytest.mark.parametrize(
    ("interpretation", "first_day", "baseline"),
    [
        ("six_months_before_attachment", "2012-04-15", "1"),
        ("twelve_months_before_attachment_halved", "2011-10-15", "0.5"),
    ],
)
def test_baseline_window_includes_its_first_day_and_not_the_attachment_day(
    interpretation: str, first_day: str, baseline: str
) -> None:
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["domestic_abuse"],
        asb_incidents=[
            {"person_id": "A1", "date": first_day},
            {"person_id": "A1", "date": "2012-10-15"},  # the attachment day
        ],
    )
    rules = PHASE_ONE.with_interpretations(baseline=interpretation)
    asb = next(
        r
        for r in evaluate(fam, "2013-10-31", rules).results[CAE].reasons
        if r.code.startswith("ASB")
    )
    assert (asb.compared["baseline"], asb.compared["baseline_from"]) == (baseline, first_day)


def test_reduction_shares_and_labels() -> None:
    """ASB may remain at 40% of its baseline; offending must fall by 33% (to 67%)."""
    fam = family(
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2000-01-01"},
        ],
        asb_incidents=[{"person_id": "A1", "date": "2012-06-01"}],
        offences=[{"person_id": "C1", "date": "2012-06-01"}],
    )
    asb, offending = (
        r
        for r in evaluate(fam, "2013-10-31").results[CAE].reasons
        if r.code.startswith(("ASB", "OFFENDING"))
    )
    assert asb.compared["max_recent_share_of_baseline"] == "0.4"
    assert offending.compared["max_recent_share_of_baseline"] == "0.67"
    assert "ASB incidents" in asb.message
    assert "offences by children" in offending.message


def results_education(children: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Decision:
    """Identified for education (and work, with local discretion); assessed at 2013-07-31."""
    fam = family(
        identified_for=["education", "work"],
        local_discretion=["domestic_abuse"],
        members=[{"person_id": "A1", "date_of_birth": "1980-01-01"}, *children],
        school_terms=rows,
    )
    return evaluate(fam, "2013-07-31")


Y1 = [("2012/13", "autumn"), ("2012/13", "spring"), ("2012/13", "summer")]


@pytest.mark.parametrize(
    ("unauthorised", "possible", "met"), [(15, 100, False), (15, 101, True), (14, 100, True)]
)
def test_results_absence_must_be_below_15_percent(
    unauthorised: int, possible: int, met: bool
) -> None:
    rows = term_rows("C1", Y1[:1], possible=possible, unauthorised=unauthorised)
    rows += term_rows("C1", Y1[1:], possible=0)
    d = results_education([{"person_id": "C1", "date_of_birth": "2002-01-01"}], rows)
    assert d.results[CAE].status == ("met" if met else "not_met")


def test_every_child_must_be_in_school() -> None:
    children = [
        {"person_id": "C1", "date_of_birth": "2002-01-01"},
        {"person_id": "C2", "date_of_birth": "2003-01-01"},
    ]
    rows = term_rows("C1", Y1, possible=100, unauthorised=50) + term_rows("C2", Y1, possible=100)
    d = results_education(children, rows)
    assert d.results[CAE].status == "not_met"
    assert codes(d, CAE).count("CHILD_IN_SCHOOL") == 1


def test_a_child_past_school_age_is_not_missing_terms() -> None:
    """C1 turned 16 in May 2012: not of school age in 2012/13, so one row is no missing term."""
    rows = term_rows("C1", Y1[:1], possible=100)
    d = results_education([{"person_id": "C1", "date_of_birth": "1996-05-01"}], rows)
    assert "MISSING_SCHOOL_TERM" not in codes(d, CAE)
    assert d.results[CAE].status == "met"


@pytest.mark.parametrize(("on", "met"), [("2012-10-14", False), ("2012-10-15", True)])
def test_referral_counts_from_the_attachment_day(on: str, met: bool) -> None:
    fam = family(work_programme=[{"person_id": "A1", "date": on, "provision": "esf"}])
    assert evaluate(fam, "2013-01-31").results[P2W].status == ("met" if met else "not_met")


def test_the_first_referral_is_cited() -> None:
    fam = family(
        work_programme=[
            {"person_id": "A1", "date": "2012-12-01", "provision": "esf"},
            {"person_id": "A1", "date": "2012-11-01", "provision": "work_programme"},
        ]
    )
    referral = evaluate(fam, "2013-01-31").results[P2W].reasons[0]
    assert (referral.compared["referred_on"], referral.compared["provision"]) == (
        "2012-11-01",
        "work_programme",
    )


# --- phase one payment: whose rates, what was paid, exclusive routes ---------------------------------


@pytest.mark.parametrize(
    ("as_of", "year"),
    [("2012-12-31", 2012), ("2014-01-31", 2013), ("2015-03-31", 2014), ("2016-06-30", 2014)],
)
def test_claim_year_rates_are_as_of_within_the_table(as_of: str, year: int) -> None:
    rules = PHASE_ONE.with_interpretations(rates_by="claim_year")
    assert rates_year(rules, date(2012, 10, 15), date.fromisoformat(as_of)) == FinancialYear(year)


def crime_met(**fields: Any) -> pbr.Family:
    """Crime/ASB/education met at 2013-10-31: one ASB incident before attachment, none since."""
    return family(
        identified_for=["crime_asb", "work"],
        local_discretion=["domestic_abuse"],
        asb_incidents=[{"person_id": "A1", "date": "2012-06-01"}],
        **fields,
    )


def test_exclusive_pays_crime_when_employment_is_not_met() -> None:
    rules = PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    d = evaluate(crime_met(), "2013-10-31", rules)
    assert d.results[CE].status == "not_met"
    assert d.results[CAE].amount == Decimal("700.00")
    assert "EXCLUSIVE_ROUTE_TAKEN" not in codes(d, CAE)


def test_phase_one_already_paid_cites_the_first_payment() -> None:
    payments = [
        {"kind": "crime_asb_education", "amount": "300", "paid_on": "2013-05-01"},
        {"kind": "crime_asb_education", "amount": "400", "paid_on": "2013-06-01"},
    ]
    d = evaluate(crime_met(payments=payments), "2013-10-31")
    first = d.results[CAE].reasons[0]
    assert (first.code, first.compared["paid_on"]) == ("ALREADY_PAID", "2013-05-01")


def employed(payments: list[dict[str, str]], **fields: Any) -> Decision:
    """Continuous employment met at 2013-10-31 (ESA at attachment, in work from 2012-11-01)."""
    fam = family(
        benefit_spells=[
            {"person_id": "A1", "benefit": "ESA", "start": "2012-01-01", "end": "2012-10-31"}
        ],
        employment_spells=[{"person_id": "A1", "start": "2012-11-01"}],
        payments=payments,
        **fields,
    )
    return evaluate(fam, "2013-10-31")


FEE_3200 = {"kind": "attachment_fee", "amount": "3200", "paid_on": "2012-10-20"}


def test_employment_cut_by_the_cap_alone_is_cap_reached() -> None:
    """A fee of 3,500 paid leaves 500 of the 4,000 cap; crime is not met (ASB since attachment)."""
    fee = {**FEE_3200, "amount": "3500"}
    d = employed([fee], asb_incidents=[{"person_id": "A1", "date": "2013-08-01"}])
    assert d.results[CAE].status == "not_met"
    assert d.results[CE].amount == Decimal("500.00")
    assert codes(d, CE)[-1] == "CAP_REACHED"


def test_employment_after_any_results_paid_is_a_top_up() -> None:
    crime = {"kind": "crime_asb_education", "amount": "0.50", "paid_on": "2013-05-01"}
    d = employed([FEE_3200, crime])
    assert d.results[CE].amount == Decimal("799.50")
    assert codes(d, CE)[-1] == "EMPLOYMENT_TOP_UP"


def test_a_full_rate_has_no_cut() -> None:
    d = employed([FEE_3200], asb_incidents=[{"person_id": "A1", "date": "2013-08-01"}])
    assert d.results[CE].amount == Decimal("800.00")
    assert codes(d, CE)[-1] == "RATE_APPLIED"


@pytest.mark.parametrize(("work", "applies"), [(False, False), (True, True)])
def test_phase_two_identified_problems_only_needs_work(work: bool, applies: bool) -> None:
    problems = [{"problem": "domestic_abuse"}, {"problem": "health"}]
    fam = phase_two_family(
        problems_at_entry=problems + ([{"problem": "work"}] if work else []),
        benefit_spells=[
            {"person_id": "A1", "benefit": "ESA", "start": "2015-06-01", "end": "2016-01-31"}
        ],
        employment_spells=[{"person_id": "A1", "start": "2016-02-01"}],
    )
    rules = PHASE_TWO.with_interpretations(relevance="identified_problems_only")
    ce = pbr.evaluate(fam, as_of=date(2016, 12, 31), rules=rules).results[CE]
    assert ce.status == ("met" if applies else "not_applicable")
    assert pbr.evaluate(fam, as_of=date(2016, 12, 31)).results[CE].status == "met"


# --- plan indicators: every aggregate, term rows by date ----------------------------------------------


def observed(*values: tuple[str, str]) -> pbr.Family:
    return phase_two_family(
        observations=[{"indicator": "x", "date": on, "value": v} for on, v in values]
    )


def aggregate_of(fam: pbr.Family, aggregate: str) -> tuple[Decimal | Fraction | None, int]:
    one = Measure.model_validate(
        {
            "id": "q",
            "indicator": "x",
            "aggregate": aggregate,
            "comparison": "==",
            "threshold": 0,
            "sustain_months": 6,
        }
    )
    return indicator_values(fam, one, date(2016, 1, 31), date(2016, 7, 31), (), date(2016, 7, 31))


@pytest.mark.parametrize(
    ("aggregate", "value"),
    [
        ("count", "3"),
        ("sum", "10.5"),
        ("max", "7"),
        ("min", "1.5"),
        ("latest", "2"),
        ("mean", "3.5"),
    ],
)
def test_every_aggregate_over_the_period(aggregate: str, value: str) -> None:
    """Values 1.5 (Mar), 7 (May) and 2 (31 Jul) count; 9 on 31 Jan, the excluded first day, does not."""
    fam = observed(
        ("2016-01-31", "9"), ("2016-03-01", "1.5"), ("2016-05-01", "7"), ("2016-07-31", "2")
    )
    assert aggregate_of(fam, aggregate) == (Decimal(value), 3)


@pytest.mark.parametrize("aggregate", ["sum", "max", "min", "latest", "mean"])
def test_an_aggregate_of_nothing_is_no_evidence(aggregate: str) -> None:
    assert aggregate_of(observed(), aggregate) == (None, 0)
    assert aggregate_of(observed(), "count") == (Decimal(0), 0)


def measured(
    values: list[str], aggregate: str, comparison: str, threshold: str
) -> pbr.decisions.Reason:
    """The one measure's reason: observations of "x" in the six months to 31 July 2016."""
    plan = parse_plan(
        {
            "id": "exact",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {
                    "problem": problem,
                    "measures": [
                        {
                            "id": "q",
                            "indicator": "x",
                            "aggregate": aggregate,
                            "comparison": comparison,
                            "threshold": threshold,
                            "sustain_months": 6,
                        }
                    ],
                }
                for problem in ("domestic_abuse", "health")
            ],
        }
    )
    fam = phase_two_family(
        attached_on="2015-12-01",
        observations=[
            {"indicator": "x", "date": f"2016-0{3 + i % 4}-01", "value": v}
            for i, v in enumerate(values)
        ],
    )
    d = pbr.evaluate(fam, as_of=date(2016, 7, 31), plan=plan)
    return next(r for r in d.results[SP].reasons if r.code.startswith("MEASURE_"))


@pytest.mark.parametrize(
    ("values", "aggregate", "comparison", "threshold", "code", "shown"),
    [
        (["0.000000000001"], "sum", ">", "0", "MEASURE_MET", "0.000000000001"),
        (["0.000000000001"], "latest", "==", "0", "MEASURE_NOT_MET", "0.000000000001"),
        (["0.00001"], "max", "==", "0", "MEASURE_NOT_MET", "0.00001"),
        (
            ["999999999999", "-999999999999", "0.000000000001"],
            "sum",
            ">",
            "0",
            "MEASURE_MET",
            "0.000000000001",
        ),
        (
            ["999999999999.999999999999"] * 2 + ["-999999999999.999999999999"],
            "sum",
            "==",
            "999999999999.999999999999",
            "MEASURE_MET",
            "999999999999.999999999999",
        ),
        (["1.50", "1.50"], "sum", "==", "3", "MEASURE_MET", "3"),
        (["1", "2"], "mean", "==", "1.5", "MEASURE_MET", "1.5"),
    ],
)
def test_a_measure_shows_the_exact_value_it_compared(
    values: list[str], aggregate: str, comparison: str, threshold: str, code: str, shown: str
) -> None:
    """It rounded to 4 places: "0 > 0 is true", "1000000000000 == 999999999999.999999999999"."""
    reason = measured(values, aggregate, comparison, threshold)
    assert (reason.code, reason.compared["value"]) == (code, shown)
    assert "value_exact" not in reason.compared
    verdict = "true" if code == "MEASURE_MET" else "false"
    assert f": {shown} {comparison} {threshold} is {verdict} over" in reason.message


def test_a_mean_no_decimal_writes_is_compared_exactly_and_shown_with_its_fraction() -> None:
    reason = measured(["1", "1", "2"], "mean", "==", "1.333333333333")
    assert reason.code == "MEASURE_NOT_MET"
    assert reason.compared["value"] == "1.3333333333333333"
    assert reason.compared["value_exact"] == "4/3"
    assert ": ≈1.3333333333333333 (4/3) == 1.333333333333 is false over" in reason.message
    assert measured(["1", "1", "2"], "mean", ">", "1.333333333333").code == "MEASURE_MET"


def test_a_small_threshold_is_written_without_an_exponent() -> None:
    reason = measured(["0.000000000002"], "sum", ">=", "0.000000000001")
    assert reason.compared["threshold"] == "0.000000000001"
    assert "E-" not in reason.message
    assert reason.message.count("0.000000000001") == 2  # the measure, then the comparison


def test_an_absence_rate_no_decimal_writes_is_kept_as_a_fraction() -> None:
    rows = [
        {
            "person_id": "C1",
            "academic_year": "2015/16",
            "term": "spring",
            "possible_sessions": 120,
            "unauthorised_absences": 40,
        }
    ]
    one = Measure.model_validate(
        {
            "id": "q",
            "indicator": "unauthorised_absence_percent",
            "comparison": "<",
            "threshold": 10,
            "sustain_months": 7,
        }
    )
    fam = phase_two_family(school_terms=rows)
    got = indicator_values(fam, one, date(2015, 12, 31), date(2016, 7, 31), (), date(2016, 7, 31))
    assert got == (Fraction(100, 3), 1)
    assert type(got[0]) is Fraction


def test_the_callers_decimal_context_changes_no_measure() -> None:
    """Sums and means were taken in the caller's context: at 6 digits, the mean of 1, 1 and 2
    "equalled" 1.33333, and 999999999999 + 999999999999 - 999999999999 was 1E+12."""
    big = ["999999999999", "999999999999", "-999999999999"]
    with localcontext() as context:
        context.prec = 6
        mean = measured(["1", "1", "2"], "mean", "==", "1.33333")
        total = measured(big, "sum", "==", "999999999999")
    assert (mean.code, mean.compared["value_exact"]) == ("MEASURE_NOT_MET", "4/3")
    assert (total.code, total.compared["value"]) == ("MEASURE_MET", "999999999999")


def test_absence_rows_by_term_end_within_a_dated_period() -> None:
    """A period of months takes the term rows whose (default) term ends in (low, high]."""
    rows = [
        {
            "person_id": "C1",
            "academic_year": year,
            "term": term,
            "possible_sessions": 100,
            "unauthorised_absences": absent,
        }
        for year, term, absent in (
            ("2015/16", "autumn", 50),  # ends 2015-12-31: before the period
            ("2015/16", "spring", 10),  # ends 2016-03-31: inside
            ("2015/16", "summer", 20),  # ends 2016-07-31, the last day: inside
        )
    ]
    fam = phase_two_family(school_terms=rows)
    one = Measure.model_validate(
        {
            "id": "q",
            "indicator": "unauthorised_absence_percent",
            "comparison": "<",
            "threshold": 10,
            "sustain_months": 7,
        }
    )
    got = indicator_values(fam, one, date(2015, 12, 31), date(2016, 7, 31), (), date(2016, 7, 31))
    assert got == (Decimal(15), 2)


# --- the rest: rounding up, money errors, as_of errors, the registry's lazy name ----------------------


@pytest.mark.parametrize(
    ("value", "pence"),
    [
        (Fraction(1, 3), "0.34"),
        (Decimal("0.50"), "0.50"),
        (Decimal("-0.019"), "-0.01"),
        (Decimal("-1.005"), "-1.00"),
        (Decimal("123.456"), "123.46"),
        (Decimal(0), "0.00"),
    ],
)
def test_round_up_to_penny(value: Decimal | Fraction, pence: str) -> None:
    assert str(round_up_to_penny(value)) == pence


def test_money_field_error_types() -> None:
    with pytest.raises(pydantic.ValidationError) as big:
        MONEY_FIELD.validate_python(10**12)
    assert big.value.errors()[0]["type"] == "money_too_large"
    with pytest.raises(pydantic.ValidationError) as bad:
        MONEY_FIELD.validate_python("1,000")
    assert bad.value.errors()[0]["type"] == "money_parsing"


def test_as_of_type_errors_give_a_hint() -> None:
    with pytest.raises(TypeError, match=r"use date\.fromisoformat\('2015-03-31'\)"):
        check_as_of("2015-03-31")
    with pytest.raises(TypeError, match=r"use its \.date\(\)$"):
        check_as_of(datetime(2015, 3, 31, 12))
    with pytest.raises(TypeError) as caught:
        check_as_of(7)
    assert str(caught.value) == "as_of must be a datetime.date, got int 7"
    with pytest.raises(TypeError) as long:
        check_as_of("x" * 300)
    assert len(str(long.value).split("; use")[0]) == 120


def test_programme_class_is_reachable_from_the_registry_module() -> None:
    import pbr.programmes as registry
    from pbr.programmes._programme import Programme

    assert registry.Programme is Programme
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = registry.Nope


def test_school_age_includes_a_term_starting_on_its_last_day() -> None:
    """Born 31 Aug 2001: sixteen on 31 Aug 2017, of school age to that day (a council's term)."""
    starts_last_day = SchoolTerm(date(2017, 8, 31), date(2017, 12, 20), "2017/18", "autumn")
    starts_after = SchoolTerm(date(2017, 9, 1), date(2017, 12, 20), "2017/18", "autumn")
    assert compulsory_school_age_in(date(2001, 8, 31), starts_last_day)
    assert not compulsory_school_age_in(date(2001, 8, 31), starts_after)


def built_in(indicator: str, **period: int) -> Measure:
    return Measure.model_validate(
        {"id": "q", "indicator": indicator, "comparison": "==", "threshold": 0, **period}
    )


def test_offences_and_asb_counted_in_the_half_open_period() -> None:
    events = [{"person_id": "A1", "date": d} for d in ("2016-01-31", "2016-02-01", "2016-07-31")]
    fam = phase_two_family(offences=events[:2], asb_incidents=events)
    low, high = date(2016, 1, 31), date(2016, 7, 31)
    got = {
        name: indicator_values(fam, built_in(name, sustain_months=6), low, high, (), high)
        for name in ("offences", "asb_incidents")
    }
    assert got == {"offences": (Decimal(1), 1), "asb_incidents": (Decimal(2), 2)}


def test_term_measures_take_only_the_rows_of_their_terms() -> None:
    rows = [
        {
            "person_id": "C1",
            "academic_year": year,
            "term": term,
            "possible_sessions": 100,
            "unauthorised_absences": 0,
            "fixed_term_exclusions": exclusions,
        }
        for year, term, exclusions in (
            ("2015/16", "spring", 4),  # not one of the two terms
            ("2015/16", "summer", 1),
            ("2016/17", "autumn", 2),
        )
    ]
    fam = phase_two_family(school_terms=rows)
    one = built_in("fixed_term_exclusions", sustain_terms=2)
    low, high, terms = measure_window(one, date(2016, 12, 31), TermCalendar())
    assert indicator_values(fam, one, low, high, terms, date(2016, 12, 31)) == (Decimal(3), 2)


@pytest.mark.parametrize(
    ("comparison", "below", "equal", "above"),
    [
        ("<", True, False, False),
        ("<=", True, True, False),
        ("==", False, True, False),
        ("!=", True, False, True),
        (">=", False, True, True),
        (">", False, False, True),
    ],
)
def test_compare_each_comparison_at_the_threshold(
    comparison: str, below: bool, equal: bool, above: bool
) -> None:
    got = [compare(Decimal(v), comparison, Decimal(5)) for v in ("4.99", "5", "5.01")]
    assert got == [below, equal, above]


class _DateSubclass(date):
    """A date that is not exactly a `datetime.date` and has no `.date()`."""


def test_as_of_date_hint_only_for_a_datetime() -> None:
    for value in (SimpleNamespace(date=1), _DateSubclass(2015, 3, 31)):
        with pytest.raises(TypeError) as caught:
            check_as_of(value)
        assert "use its .date()" not in str(caught.value)


def test_a_spell_starting_on_as_of_is_current() -> None:
    assert runs([spell("2016-03-01")], d("2016-03-01")) == [(d("2016-03-01"), None)]
    assert runs([spell("2016-03-02")], d("2016-03-01")) == []


@pytest.mark.parametrize(("start", "met"), [("2016-01-15", True), ("2016-01-14", False)])
def test_employment_from_the_attachment_day_counts(start: str, met: bool) -> None:
    fam = phase_two_family(
        benefit_spells=[
            {"person_id": "A1", "benefit": "ESA", "start": "2015-06-01", "end": "2016-01-31"}
        ],
        employment_spells=[{"person_id": "A1", "start": start}],
    )
    ce = pbr.evaluate(fam, as_of=date(2016, 12, 31)).results[CE]
    assert ce.status == ("met" if met else "not_met")


def test_only_the_adults_own_employment_counts() -> None:
    fam = phase_two_family(
        members=[
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "A2", "date_of_birth": "1986-01-01"},
        ],
        benefit_spells=[
            {"person_id": "A1", "benefit": "ESA", "start": "2015-06-01", "end": "2016-01-31"}
        ],
        employment_spells=[{"person_id": "A2", "start": "2016-02-01"}],
    )
    ce = pbr.evaluate(fam, as_of=date(2016, 12, 31)).results[CE]
    assert [r.code for r in ce.reasons] == ["NO_CURRENT_EMPLOYMENT"]


def test_disagreement_message_names_both_sides() -> None:
    on_benefit = [{"person_id": "A1", "benefit": "ESA", "start": "2012-01-01", "end": None}]
    both = pbr.identify(family(identified_for=["education"], benefit_spells=on_benefit))
    assert both.warnings[0].message == (
        "stated without evidence: education; evidence of an unstated problem: work"
    )
    neither = pbr.identify(family(identified_for=[], benefit_spells=on_benefit))
    assert neither.warnings[0].message == (
        "stated without evidence: none; evidence of an unstated problem: work"
    )
    stated = pbr.identify(family(identified_for=["education", "work"], benefit_spells=on_benefit))
    assert stated.warnings[0].message == (
        "stated without evidence: education; evidence of an unstated problem: none"
    )


@pytest.mark.parametrize(
    ("stated", "local", "eligible", "message"),
    [
        (ALL_THREE, [], True, "all three national criteria"),
        (ALL_THREE[:2], ["domestic_abuse"], True, "two national criteria plus local discretion"),
        (ALL_THREE[:1], ["domestic_abuse"], False, None),
        (ALL_THREE[:2], [], False, None),
    ],
)
def test_eligibility_needs_three_or_two_plus_local(
    stated: list[str], local: list[str], eligible: bool, message: str | None
) -> None:
    ident = pbr.identify(family(identified_for=stated, local_discretion=local))
    assert ident.eligible is eligible
    if message is not None:
        assert ident.reasons[-1].message == message


def test_under_exclusive_an_employment_cut_is_the_cap_not_a_top_up() -> None:
    """Progress to work paid 100 leaves 700 for employment: no top-up under `exclusive`."""
    rules = PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    p2w = {"kind": "progress_to_work", "amount": "100", "paid_on": "2013-05-01"}
    fam = family(
        benefit_spells=[
            {"person_id": "A1", "benefit": "ESA", "start": "2012-01-01", "end": "2012-10-31"}
        ],
        employment_spells=[{"person_id": "A1", "start": "2012-11-01"}],
        payments=[FEE_3200, p2w],
        asb_incidents=[{"person_id": "A1", "date": "2013-08-01"}],
    )
    d = evaluate(fam, "2013-10-31", rules)
    assert d.results[CE].amount == Decimal("700.00")
    assert codes(d, CE)[-1] == "CAP_REACHED"


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_decision_a_day_before_attachment_warns_and_on_the_day_does_not(
    data: st.DataObject,
) -> None:
    from pbr.testing import PROGRAMMES, family_records
    from pbr.totals import fee_due

    record = data.draw(st.sampled_from(PROGRAMMES).flatmap(family_records))
    family = pbr.Family.model_validate(record)
    on_the_day = pbr.evaluate(family, as_of=family.attached_on)
    assert "EVALUATED_BEFORE_ATTACHMENT" not in [w.code for w in on_the_day.warnings]
    assume(family.attached_on > date(2012, 4, 1))  # the first day pbr evaluates: none before
    day_before = family.attached_on - timedelta(days=1)
    early = pbr.evaluate(family, as_of=day_before)
    (warning,) = [w for w in early.warnings if w.code == "EVALUATED_BEFORE_ATTACHMENT"]
    assert warning.compared["as_of"] == day_before.isoformat()
    assert warning.compared["attachment_fee"] == f"{early.attachment_fee:.2f}"
    assert warning.source  # the attachment fee's own sources
    assert early.payable == 0
    assert fee_due(early.eligible, early.attachment_fee, early.attached_on, early.as_of) == 0


# --- an attachment fee listed past the year's fee: paid twice, warned of ---------------------------


def _fee(amount: str, claim: str, on: str | None = None) -> dict[str, str]:
    return {"kind": "attachment_fee", "amount": amount, "claim_id": claim} | (
        {"paid_on": on} if on else {}
    )


def _fee_twice(d: Decision) -> list[dict[str, Any]]:
    return [dict(w.compared) for w in d.warnings if w.code == "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE"]


def test_a_phase_one_fee_listed_twice_is_warned_of_and_still_counted() -> None:
    """Clarification 7 counts the fees listed (results cut to £800); §4: never paid twice."""
    fam = family(
        attached_on="2014-10-15",
        identified_for=["crime_asb", "work"],
        local_discretion=["dv"],
        payments=[_fee("1600.00", "C1", "2014-11-01"), _fee("1600.00", "C2", "2014-12-01")],
    )
    d = evaluate(fam, "2015-04-15")
    assert d.attachment_fee == Decimal("1600.00")
    assert d.results[CAE].amount == Decimal("800.00")  # the money is as the spec says
    assert "CAP_REACHED" in codes(d, CAE)
    assert _fee_twice(d) == [
        {
            "first_claim": "C1",
            "first_paid_on": "2014-11-01",
            "first_amount": "1600.00",
            "again_claim": "C2",
            "again_paid_on": "2014-12-01",
            "again_amount": "1600.00",
            "attachment_fee": "1600.00",
            "fees_listed": "3200.00",
            "over_fee": "1600.00",
        }
    ]
    (w,) = [w for w in d.warnings if w.code == "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE"]
    assert "C1 1600.00, paid 2014-11-01; then C2 1600.00, paid 2014-12-01" in w.message
    assert w.message.endswith("so the 1600.00 over the fee is to be recovered")


def test_a_fee_paid_in_parts_or_above_the_table_is_not_warned_of_as_twice() -> None:
    # attached 2012/13 (fee £3,200): two halves are the fee in parts
    halves = family(payments=[_fee("1600", "F-1"), _fee("1600", "F-2")])
    assert _fee_twice(evaluate(halves, "2013-06-30")) == []
    # more than the fee listed, once or in parts, is no fee paid twice (clarification 7 counts
    # it; tests/test_history.py: 3200 + 100)
    assert _fee_twice(evaluate(family(payments=[_fee("3300", "F-1")]), "2013-06-30")) == []
    parts = family(payments=[_fee("1600", "F-1"), _fee("1600", "F-2"), _fee("800", "F-3")])
    assert _fee_twice(evaluate(parts, "2013-06-30")) == []
    # paid in parts, then again whole: the payment reaching twice the fee is named, once
    again = [_fee("1600", "F-1"), _fee("1600", "F-2"), _fee("3200", "F-3"), _fee("10", "F-4")]
    (w,) = _fee_twice(evaluate(family(payments=again), "2013-06-30"))
    assert (w["first_claim"], w["again_claim"], w["over_fee"]) == ("F-1", "F-3", "3200.00")
    # a fee listed at £0 is none
    zero = family(payments=[_fee("3200", "F-1"), _fee("0", "F-0")])
    assert _fee_twice(evaluate(zero, "2013-06-30")) == []


def test_a_phase_two_fee_listed_twice_is_warned_of() -> None:
    fam = phase_two_family(
        payments=[_fee("1000", "C1", "2016-01-20"), _fee("1000", "C2", "2016-02-20")]
    )
    d = pbr.evaluate(fam, as_of=date(2016, 6, 1), plan=MET_PLAN)
    (w,) = _fee_twice(d)
    assert (w["first_claim"], w["again_claim"], w["fees_listed"]) == ("C1", "C2", "2000.00")
    assert d.results[SP].amount == Decimal("0.00")  # £1,800 cap − £2,000 counted: no room
