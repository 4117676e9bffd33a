"""What an outcome plan's measures conclude from thin evidence (docs/programmes.md, tf-rules §2)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pydantic
import pytest

import pbr
from pbr.batch import evaluate_many_json
from pbr.decisions import Decision, Reason, ResultKind
from pbr.errors import PlanError
from pbr.io import Rejection
from pbr.plans import OutcomePlan, parse_plan
from tests.builders import erl_family

SP: ResultKind = "sustained_progress"


def family(problems: tuple[str, ...] = ("domestic_abuse", "health"), **fields: Any) -> pbr.Family:
    return pbr.Family.model_validate(
        {
            "family_id": "F",
            "programme": "tf-phase-2",
            "attached_on": "2016-03-01",
            "members": [
                {"person_id": "A1", "date_of_birth": "1980-01-01"},
                {"person_id": "C1", "date_of_birth": "2010-01-01"},
            ],
            "problems_at_entry": [{"problem": p} for p in problems],
            **fields,
        }
    )


def plan(outcomes: list[dict[str, Any]]) -> OutcomePlan:
    return parse_plan({"id": "t", "version": "1", "programme": "tf-phase-2", "outcomes": outcomes})


def measure(
    id: str, indicator: str, comparison: str, threshold: int | str, **more: Any
) -> dict[str, Any]:
    given = {"id": id, "indicator": indicator, "comparison": comparison, "threshold": threshold}
    return given | more


def row(year: str, term: str, possible: int, unauthorised: int, fte: int = 0) -> dict[str, Any]:
    return {
        "person_id": "C1",
        "academic_year": year,
        "term": term,
        "possible_sessions": possible,
        "unauthorised_absences": unauthorised,
        "fixed_term_exclusions": fte,
    }


def reasons(d: Decision, measure_id: str) -> list[Reason]:
    return [r for r in d.results[SP].reasons if r.compared.get("measure") == measure_id]


HEALTH = {"problem": "health", "measures": [measure("b", "hc", "==", 0, sustain_months=6)]}
ATTENDANCE = measure(
    "att", "unauthorised_absence_percent", "<", 10, aggregate="rate", sustain_terms=3
)
EXCLUSIONS = measure("ex", "fixed_term_exclusions", "<", 3, aggregate="sum", sustain_terms=3)


# --- a sum over school terms needs rows ---------------------------------------------------------


def test_a_sum_of_exclusions_over_no_term_rows_is_no_evidence_not_zero() -> None:
    # no school_terms at all: 0 < 3 was met, and with match "any" paid £800 on no evidence
    education = {"problem": "education", "match": "any", "measures": [ATTENDANCE, EXCLUSIONS]}
    d = pbr.evaluate(
        family(("education", "health")), as_of=date(2017, 12, 31), plan=plan([education, HEALTH])
    )
    assert [r.code for r in reasons(d, "ex")] == ["MEASURE_NO_EVIDENCE"]
    assert [r.code for r in reasons(d, "att")] == ["MEASURE_NO_EVIDENCE"]
    assert d.results[SP].status == "not_met"
    assert d.results[SP].amount == 0


def test_a_sum_over_no_rows_is_no_evidence_with_no_child_of_school_age() -> None:
    # no child misses a term (C1, born 2014, is under five), yet a sum of no rows is no value
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2014-01-01"},
    ]
    education = {"problem": "education", "measures": [EXCLUSIONS]}
    fam = family(("education", "health"), members=members)
    d = pbr.evaluate(fam, as_of=date(2017, 12, 31), plan=plan([education, HEALTH]))
    (r,) = reasons(d, "ex")
    assert (r.code, r.compared["rows"]) == ("MEASURE_NO_EVIDENCE", 0)
    assert "missing_terms" not in r.compared
    assert "no fixed_term_exclusions evidence in (2016-12-31, 2017-12-31]" in r.message
    assert d.results[SP].status == "not_met"


# --- every term of a period of terms needs a row -------------------------------------------------


@pytest.mark.parametrize("outcome_measure", [ATTENDANCE, EXCLUSIONS])
def test_a_period_of_terms_with_a_term_missing_is_no_evidence(
    outcome_measure: dict[str, Any],
) -> None:
    # one row of three: 0% absence over 1 term was taken as 3 terms' evidence
    education = {"problem": "education", "measures": [outcome_measure]}
    fam = family(("education", "health"), school_terms=[row("2017/18", "autumn", 100, 0)])
    d = pbr.evaluate(fam, as_of=date(2017, 12, 31), plan=plan([education, HEALTH]))
    (r,) = reasons(d, outcome_measure["id"])
    assert r.code == "MEASURE_NO_EVIDENCE"
    assert r.message.endswith(
        "child C1 is of compulsory school age but has no school-term row for 2016/17 spring, "
        "2016/17 summer, in the period (2016-12-31, 2017-12-31]"
    )
    assert r.compared["missing_terms"] == "C1: 2016/17 spring, 2016/17 summer"
    assert r.compared["rows"] == 1
    assert d.results[SP].status == "not_met"


def test_every_term_with_a_row_is_judged_as_before() -> None:
    rows = [row("2016/17", "spring", 100, 5), row("2016/17", "summer", 100, 5)]
    rows.append(row("2017/18", "autumn", 100, 5))
    education = {"problem": "education", "measures": [ATTENDANCE, EXCLUSIONS]}
    fam = family(("education", "health"), school_terms=rows)
    d = pbr.evaluate(fam, as_of=date(2017, 12, 31), plan=plan([education, HEALTH]))
    assert [r.code for r in reasons(d, "att")] == ["MEASURE_MET"]
    assert [r.code for r in reasons(d, "ex")] == ["MEASURE_MET"]
    assert d.results[SP].status == "met"


def test_only_a_child_of_compulsory_school_age_must_have_a_row() -> None:
    # C2, aged 2, has no rows and is not missed; C1's rows are all there
    rows = [row("2016/17", "spring", 100, 5), row("2016/17", "summer", 100, 5)]
    rows.append(row("2017/18", "autumn", 100, 5))
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2010-01-01"},
        {"person_id": "C2", "date_of_birth": "2015-01-01"},
    ]
    education = {"problem": "education", "measures": [ATTENDANCE]}
    fam = family(("education", "health"), school_terms=rows, members=members)
    d = pbr.evaluate(fam, as_of=date(2017, 12, 31), plan=plan([education, HEALTH]))
    assert [r.code for r in reasons(d, "att")] == ["MEASURE_MET"]


# --- the earliest date is given only when it can be known ----------------------------------------


DA_AND_HEALTH = plan(
    [
        {"problem": "domestic_abuse", "measures": [measure("a", "da", "==", 0, sustain_months=1)]},
        HEALTH,
    ]
)


def test_no_earliest_date_while_another_measure_fails() -> None:
    # hc's period completes on 2016-09-01, but da fails then too: first met on 2016-09-15
    fam = family(observations=[{"indicator": "da", "date": "2016-08-15"}])
    d = pbr.evaluate(fam, as_of=date(2016, 8, 20), plan=DA_AND_HEALTH)
    assert d.results[SP].status == "not_met"
    assert d.results[SP].earliest_date is None
    assert pbr.evaluate(fam, as_of=date(2016, 9, 1), plan=DA_AND_HEALTH).results[SP].status == (
        "not_met"
    )


def test_no_earliest_date_while_another_measure_has_no_evidence() -> None:
    latest = measure("a", "da_score", "==", 0, aggregate="latest", sustain_months=1)
    p = plan([{"problem": "domestic_abuse", "measures": [latest]}, HEALTH])
    d = pbr.evaluate(family(), as_of=date(2016, 8, 20), plan=p)
    assert d.results[SP].earliest_date is None


def test_the_earliest_date_when_every_other_measure_holds() -> None:
    d = pbr.evaluate(family(), as_of=date(2016, 8, 20), plan=DA_AND_HEALTH)
    assert d.results[SP].earliest_date == date(2016, 9, 1)


def test_a_met_any_outcome_s_waiting_measure_does_not_delay_the_earliest_date() -> None:
    slow = measure("slow", "hc2", "==", 0, sustain_months=12)
    quick = measure("a", "da", "==", 0, sustain_months=1)
    p = plan([{"problem": "domestic_abuse", "match": "any", "measures": [quick, slow]}, HEALTH])
    d = pbr.evaluate(family(), as_of=date(2016, 8, 20), plan=p)
    assert d.results[SP].earliest_date == date(2016, 9, 1)


def test_an_any_outcome_waiting_on_every_measure_is_met_at_the_first() -> None:
    slow = measure("slow", "hc2", "==", 0, sustain_months=12)
    quick = measure("a", "da", "==", 0, sustain_months=3)
    p = plan([{"problem": "domestic_abuse", "match": "any", "measures": [quick, slow]}, HEALTH])
    d = pbr.evaluate(family(), as_of=date(2016, 5, 20), plan=p)
    assert d.results[SP].earliest_date == date(2016, 9, 1)  # hc's 6 months; da's 3 are sooner


# --- evidence recorded while the period is incomplete: the earliest date it can be met -----------


_erl = erl_family


def test_a_callout_since_attachment_puts_the_earliest_date_back_until_it_leaves_the_period() -> (
    None
):
    # the example plan: no call-out in 6 months. The period first lies after attachment on
    # 2016-09-07, but the call-out of 2016-06-01 is in every period ending before 2016-12-01:
    # the earliest date was 2016-09-07, a day on which it could not be met
    fam = _erl()
    d = pbr.evaluate(fam, as_of=date(2016, 6, 6))
    assert (d.results[SP].status, d.results[SP].earliest_date) == ("not_met", date(2016, 12, 1))
    (why,) = reasons(d, "no_da_callout")
    assert why.code == "SUSTAIN_PERIOD_INCOMPLETE"
    assert why.compared["earliest"] == "2016-12-01"
    assert why.compared["period_complete_on"] == "2016-09-07"
    assert why.compared["held_back_by"] == "2016-06-01: 1"
    assert why.message.endswith(
        "it must lie wholly after the attachment day, as the period first does on 2016-09-07, "
        "but the police_callout_domestic_abuse recorded since attachment (2016-06-01: 1) keeps "
        "the measure from holding until the period leaves it behind, so the earliest date is "
        "2016-12-01"
    )
    (health,) = reasons(d, "no_crisis")  # nothing recorded: as before
    assert health.compared["earliest"] == "2016-09-05"
    assert "period_complete_on" not in health.compared
    assert health.message.endswith("so the earliest date is 2016-09-05")
    # day by day: not met on any day before the earliest date, met on it
    for day, status in [
        (date(2016, 9, 7), "not_met"),
        (date(2016, 11, 30), "not_met"),
        (date(2016, 12, 1), "met"),
    ]:
        assert pbr.evaluate(fam, as_of=day).results[SP].status == status, day


@pytest.mark.parametrize(
    ("indicator", "aggregate", "comparison", "threshold", "why"),
    [
        ("callout", "count", "<", 0, "a count is a whole number, 0 or more"),
        ("callout", "count", "<=", "-0.5", "a count is a whole number, 0 or more"),
        ("callout", "count", "==", "0.5", "a count is a whole number, 0 or more"),
        ("callout", "count", "==", -1, "a count is a whole number, 0 or more"),
        ("offences", None, "<", 0, "a count is a whole number, 0 or more"),
        ("asb_incidents", "count", "==", "2.5", "a count is a whole number, 0 or more"),
        ("fixed_term_exclusions", "sum", "==", "1.5",
         "a sum of fixed-term exclusions is a whole number, 0 or more"),
        ("fixed_term_exclusions", None, "<", 0,
         "a sum of fixed-term exclusions is a whole number, 0 or more"),
        ("unauthorised_absence_percent", "rate", ">", 100,
         "a rate is a percentage of sessions, from 0 to 100"),
        ("unauthorised_absence_percent", None, ">=", "100.5",
         "a rate is a percentage of sessions, from 0 to 100"),
        ("unauthorised_absence_percent", "rate", "==", 101,
         "a rate is a percentage of sessions, from 0 to 100"),
        ("unauthorised_absence_percent", "rate", "<", 0,
         "a rate is a percentage of sessions, from 0 to 100"),
        ("unauthorised_absence_percent", "rate", "<=", "-0.1",
         "a rate is a percentage of sessions, from 0 to 100"),
        ("unauthorised_absence_percent", "rate", "==", -1,
         "a rate is a percentage of sessions, from 0 to 100"),
        ("arrears", "max", "<", "-999999999999.999999999999",
         "an observation's value is less than 10^12 in size, with at most 12 decimal places"),
        ("arrears", "mean", ">", "999999999999.999999999999",
         "an observation's value is less than 10^12 in size, with at most 12 decimal places"),
    ],
)  # fmt: skip
def test_a_measure_no_evidence_could_meet_is_refused_when_the_plan_is_read(
    indicator: str, aggregate: str | None, comparison: str, threshold: int | str, why: str
) -> None:
    # "count < 0" was read, and its earliest date (when the period first lay after attachment)
    # promised a result that never came; a forecast counted its money
    more = {"aggregate": aggregate} if aggregate else {}
    never = measure("never", indicator, comparison, threshold, sustain_terms=3, **more)
    with pytest.raises(PlanError) as caught:
        plan([{"problem": "domestic_abuse", "measures": [never]}])
    used = aggregate or {"offences": "count", "fixed_term_exclusions": "sum"}.get(indicator, "rate")
    assert str(caught.value) == (
        "<plan>: plan 't': outcomes[0] (domestic_abuse) measure 'never': threshold: "
        f"{used} of {indicator} {comparison} {threshold} can never hold: {why}"
    )


@pytest.mark.parametrize(
    ("indicator", "aggregate", "comparison", "threshold"),
    [
        ("callout", "count", "<=", 0),
        ("callout", "count", "<", "0.5"),
        ("callout", "count", "==", 0),
        ("callout", "count", "!=", -1),
        ("callout", "count", ">=", -1),
        ("callout", "count", ">", "999999999999"),
        ("fixed_term_exclusions", "sum", "<=", 0),
        ("unauthorised_absence_percent", "rate", "==", 100),
        ("unauthorised_absence_percent", "rate", ">=", 100),
        ("unauthorised_absence_percent", "rate", "<=", 0),
        ("unauthorised_absence_percent", "rate", "==", "33.333333333333"),
        ("unauthorised_absence_percent", "rate", "!=", 150),
        ("unauthorised_absence_percent", "rate", "<", 150),
        ("arrears", "sum", "==", "-0.5"),
        ("arrears", "sum", ">", "999999999999.999999999999"),
        ("arrears", "max", "<", -5),
        ("arrears", "min", "<=", "-999999999999.999999999999"),
        ("arrears", "latest", ">=", "999999999999.999999999999"),
        ("arrears", "mean", "==", "0.000000000001"),
    ],
)
def test_a_measure_some_evidence_could_meet_is_read(
    indicator: str, aggregate: str, comparison: str, threshold: int | str
) -> None:
    # never refuse what a family's evidence could meet: a count of 0, a rate of exactly 100, a
    # negative value, a sum beyond any one reading
    one = measure("m", indicator, comparison, threshold, aggregate=aggregate, sustain_terms=3)
    (read,) = plan([{"problem": "domestic_abuse", "measures": [one]}]).outcomes[0].measures
    assert read.threshold == Decimal(threshold)


def test_the_earliest_date_is_unchanged_by_evidence_that_leaves_before_the_period_completes() -> (
    None
):
    # a call-out on the attachment day is in the period judged but not in (2016-03-07, 2016-09-07]
    fam = _erl({"indicator": "police_callout_domestic_abuse", "date": "2016-03-07"})
    d = pbr.evaluate(fam, as_of=date(2016, 6, 6))
    assert d.results[SP].earliest_date == date(2016, 9, 7)
    (why,) = reasons(d, "no_da_callout")
    assert "period_complete_on" not in why.compared
    assert why.message.endswith(
        "it must lie wholly after the attachment day, so the earliest date is 2016-09-07"
    )
    assert pbr.evaluate(fam, as_of=date(2016, 9, 6)).results[SP].status == "not_met"
    assert pbr.evaluate(fam, as_of=date(2016, 9, 7)).results[SP].status == "met"


def test_evidence_dated_after_the_evaluation_date_is_not_read_for_the_earliest_date() -> None:
    later = _erl({"indicator": "police_callout_domestic_abuse", "date": "2016-06-10"})
    assert pbr.evaluate(later, as_of=date(2016, 6, 6)).results[SP].earliest_date == date(2016, 9, 7)


def test_a_count_allowing_some_events_waits_for_the_first_too_many_to_leave() -> None:
    # at most one call-out in 6 months: three recorded, so the second must leave the period
    callouts = [
        {"indicator": "da", "date": on} for on in ("2016-04-01", "2016-05-01", "2016-06-01")
    ]
    p = plan(
        [
            {
                "problem": "domestic_abuse",
                "measures": [measure("a", "da", "<=", 1, sustain_months=6)],
            },
            HEALTH,
        ]
    )
    fam = family(observations=callouts)
    d = pbr.evaluate(fam, as_of=date(2016, 6, 6), plan=p)
    assert d.results[SP].earliest_date == date(2016, 11, 1)
    (why,) = reasons(d, "a")
    assert why.compared["held_back_by"] == "2016-04-01: 1; 2016-05-01: 1"
    assert "until the period leaves them behind, so the earliest date is 2016-11-01" in why.message
    # hc (6 months, nothing recorded) is met from 2016-09-01
    assert pbr.evaluate(fam, as_of=date(2016, 10, 31), plan=p).results[SP].status == "not_met"
    assert pbr.evaluate(fam, as_of=date(2016, 11, 1), plan=p).results[SP].status == "met"


def test_a_minimum_below_its_threshold_waits_for_the_reading_to_leave() -> None:
    # in work throughout 3 months (min >= 1): a 0 recorded since attachment rules out every
    # period holding it, whatever is added later; from 2016-08-10 a 1 can be read alone
    in_work = measure("w", "in_work", ">=", 1, aggregate="min", sustain_months=3)
    p = plan([{"problem": "domestic_abuse", "measures": [in_work]}, HEALTH])
    readings = [
        {"indicator": "in_work", "date": "2016-04-01", "value": 1},
        {"indicator": "in_work", "date": "2016-05-10", "value": 0},
    ]
    d = pbr.evaluate(family(observations=readings), as_of=date(2016, 5, 20), plan=p)
    (why,) = reasons(d, "w")
    assert why.code == "SUSTAIN_PERIOD_INCOMPLETE"
    assert why.compared["earliest"] == "2016-08-10"
    assert why.compared["period_complete_on"] == "2016-06-01"
    assert why.compared["held_back_by"] == "2016-05-10: 0"
    assert d.results[SP].earliest_date == date(2016, 9, 1)  # health's 6 months: the later
    more = family(observations=[*readings, {"indicator": "in_work", "date": "2016-08-09"}])
    for day, code in [(date(2016, 8, 9), "MEASURE_NOT_MET"), (date(2016, 8, 10), "MEASURE_MET")]:
        assert [r.code for r in reasons(pbr.evaluate(more, as_of=day, plan=p), "w")] == [code]


@pytest.mark.parametrize(
    ("aggregate", "comparison", "value"),
    [("latest", ">=", 0), ("mean", ">=", 0), ("count", ">=", 1), ("max", ">=", 0)],
)
def test_evidence_later_readings_can_outweigh_keeps_the_day_the_period_completes(
    aggregate: str, comparison: str, value: int
) -> None:
    # a reading failing the measure now, but one added before the period completes could make
    # it hold on that day: the earliest date is still that day
    x = measure("x", "x", comparison, 1, aggregate=aggregate, sustain_months=3)
    p = plan([{"problem": "domestic_abuse", "measures": [x]}, HEALTH])
    fam = family(observations=[{"indicator": "x", "date": "2016-05-20", "value": value}])
    if aggregate == "count":  # a count's readings are events: none yet, so 0 >= 1 fails
        fam = family()
    (why,) = reasons(pbr.evaluate(fam, as_of=date(2016, 5, 25), plan=p), "x")
    assert why.compared["earliest"] == "2016-06-01"
    assert "period_complete_on" not in why.compared


def test_a_count_s_reading_that_is_not_an_event_waits_to_leave_the_period() -> None:
    # a value-0 reading makes a count fail (MEASURE_COUNT_NOT_EVENTS) whatever is added
    at_least_none = measure("a", "da", ">=", 0, sustain_months=6)
    p = plan([{"problem": "domestic_abuse", "measures": [at_least_none]}, HEALTH])
    fam = family(observations=[{"indicator": "da", "date": "2016-08-20", "value": 0}])
    d = pbr.evaluate(fam, as_of=date(2016, 8, 25), plan=p)
    (why,) = reasons(d, "a")
    assert (why.compared["earliest"], why.compared["held_back_by"]) == (
        "2017-02-20",
        "2016-08-20: 0",
    )
    assert d.results[SP].earliest_date == date(2017, 2, 20)
    assert pbr.evaluate(fam, as_of=date(2017, 2, 19), plan=p).results[SP].status == "not_met"
    assert pbr.evaluate(fam, as_of=date(2017, 2, 20), plan=p).results[SP].status == "met"


def test_an_offence_since_attachment_puts_back_a_period_of_terms() -> None:
    # no offence over 3 terms: attached 2016-03-01, the period first lies after it on
    # 2017-03-31 (2015/16 summer to 2016/17 spring); an offence on 2016-05-01 (summer term) is
    # in it, so the first period without it is to 2017-07-31 (2016/17 autumn to summer)
    crime = {
        "problem": "crime_asb",
        "measures": [measure("o", "offences", "==", 0, sustain_terms=3)],
    }
    p = plan([crime, HEALTH])
    fam = family(("crime_asb", "health"), offences=[{"person_id": "A1", "date": "2016-05-01"}])
    d = pbr.evaluate(fam, as_of=date(2016, 6, 1), plan=p)
    (why,) = reasons(d, "o")
    assert (why.compared["period_complete_on"], why.compared["earliest"]) == (
        "2017-03-31",
        "2017-07-31",
    )
    assert why.compared["held_back_by"] == "2016-05-01"
    assert d.results[SP].earliest_date == date(2017, 7, 31)
    assert pbr.evaluate(fam, as_of=date(2017, 7, 30), plan=p).results[SP].status == "not_met"
    assert pbr.evaluate(fam, as_of=date(2017, 7, 31), plan=p).results[SP].status == "met"


# --- a built-in indicator's aggregate -----------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "own"),
    [("fixed_term_exclusions", "sum"), ("unauthorised_absence_percent", "rate")],
)
def test_an_explicit_count_on_a_built_in_indicator_is_refused(indicator: str, own: str) -> None:
    given = measure("x", indicator, "<", 3, aggregate="count", sustain_terms=3)
    with pytest.raises(PlanError) as err:
        plan([{"problem": "education", "measures": [given]}])
    assert f"indicator {indicator!r} is built in and takes aggregate {own}, not 'count'" in str(
        err.value
    )


def test_a_built_in_indicator_s_own_aggregate_or_none_is_accepted() -> None:
    for more in ({}, {"aggregate": "sum"}):
        given = measure("x", "fixed_term_exclusions", "<", 3, sustain_terms=3, **more)
        p = plan([{"problem": "education", "measures": [given]}])
        assert p.outcomes[0].measures[0].effective_aggregate == "sum"
    counted = measure("o", "offences", "==", 0, aggregate="count", sustain_months=6)
    assert plan([{"problem": "crime_asb", "measures": [counted]}])


# --- an observation named like a built-in indicator ----------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "read_from"),
    [
        ("offences", "offences"),
        ("asb_incidents", "asb_incidents"),
        ("unauthorised_absence_percent", "school_terms"),
        ("fixed_term_exclusions", "school_terms"),
    ],
)
def test_an_observation_of_a_built_in_indicator_is_refused(indicator: str, read_from: str) -> None:
    # it was accepted and never read: `offences == 0` held on a record whose observations said
    # offences
    observations = [
        {"indicator": "da", "date": "2016-05-01"},
        {"indicator": indicator, "date": "2016-06-01"},
    ]
    with pytest.raises(pydantic.ValidationError) as info:
        family(observations=observations)
    (err,) = info.value.errors()
    assert err["loc"] == ("observations", 1, "indicator")
    assert err["input"] == indicator
    assert err["msg"] == (
        f"family 'F': {indicator!r} is a built-in indicator, read from the record's own "
        f"{read_from}: an observation of it would never be read; record it in {read_from}"
    )


def test_the_batch_refuses_an_observation_of_a_built_in_indicator_as_the_model_does() -> None:
    line = json.dumps(
        {
            "family_id": "F",
            "programme": "tf-phase-2",
            "attached_on": "2016-03-01",
            "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}],
            "problems_at_entry": [{"problem": "crime_asb"}, {"problem": "health"}],
            "observations": [{"indicator": "offences", "date": "2016-06-01"}],
        }
    ).encode()
    (done,) = evaluate_many_json([line], as_of=date(2017, 1, 1))
    assert isinstance(done, Rejection)
    assert "observations.0.indicator" in str(done)
    assert "'offences' is a built-in indicator" in str(done)


def _callout_plan(indicator: str) -> OutcomePlan:
    """A plan counting `indicator` for domestic abuse (none over 6 months), and GP visits."""
    return plan(
        [
            {
                "problem": "domestic_abuse",
                "measures": [measure("da", indicator, "==", 0, sustain_months=6)],
            },
            {
                "problem": "health",
                "measures": [measure("hc", "gp_visits", "<=", 5, sustain_months=6)],
            },
        ]
    )


def test_observations_no_measure_reads_are_warned_of() -> None:
    """A plan's indicator spelt otherwise than the record's (police_calout_...) read nothing: a
    count of it held at 0 and paid £800, with no word that the record's callouts were unread."""
    callouts = family(
        observations=[{"indicator": "police_callout_domestic_abuse", "date": "2017-01-02"}]
    )
    misspelt = _callout_plan("police_calout_domestic_abuse")
    d = pbr.evaluate(callouts, as_of=date(2017, 3, 1), plan=misspelt)
    (warned,) = [w for w in d.warnings if w.code == "OBSERVATIONS_NOT_READ"]
    assert warned.compared == {"indicators": "police_callout_domestic_abuse", "plan": "t/1"}
    assert "police_callout_domestic_abuse are read by no measure of plan t/1" in warned.message
    spelt = _callout_plan("police_callout_domestic_abuse")
    read = pbr.evaluate(callouts, as_of=date(2017, 3, 1), plan=spelt)
    assert "OBSERVATIONS_NOT_READ" not in [w.code for w in read.warnings]
    assert "OBSERVATIONS_NOT_READ" in pbr.REASON_CODES


# --- readings a measure cannot aggregate: never met on contradictory or uncountable evidence ----


def _readings_plan(aggregate: str, comparison: str, threshold: int) -> OutcomePlan:
    """Domestic abuse judged by one measure of "x" over 3 months; health by no GP crisis."""
    x = measure("x", "x", comparison, threshold, aggregate=aggregate, sustain_months=3)
    return plan([{"problem": "domestic_abuse", "measures": [x]}, HEALTH])


def _x(*readings: tuple[str, object, str | None]) -> pbr.Family:
    """A family with readings of "x" (date, value or None for the default, source or None)."""
    return family(
        observations=[
            {"indicator": "x", "date": on}
            | ({} if value is None else {"value": value})
            | ({"source": src} if src else {})
            for on, value, src in readings
        ]
    )


@pytest.mark.parametrize(
    ("last_day", "comparison", "threshold", "shown"),
    [
        # L1: in work at the start of the day and dismissed the same day was met and paid £800
        ([(1, "start of day"), (0, "dismissed")], ">=", 1, "1 (start of day), 0 (dismissed)"),
        ([(0, None), (500, None)], "<=", 100, "0, 500"),  # read 500 (the largest): not met
        ([(500, None), (0, None)], ">=", 100, "500, 0"),  # met, whichever order
    ],
)
def test_latest_readings_that_disagree_on_the_last_day_do_not_hold(
    last_day: list[tuple[int, str | None]], comparison: str, threshold: int, shown: str
) -> None:
    fam = _x(("2016-08-01", 1, None), *(("2016-09-20", v, s) for v, s in last_day))
    d = pbr.evaluate(
        fam, as_of=date(2016, 9, 30), plan=_readings_plan("latest", comparison, threshold)
    )
    (why,) = reasons(d, "x")
    assert why.code == "MEASURE_LATEST_READINGS_DISAGREE"
    assert (why.compared["day"], why.compared["values"]) == ("2016-09-20", shown)
    assert why.compared["indicator"] == "x"
    assert (
        f"the latest readings of x for the household, on 2016-09-20, disagree: {shown}; pbr does"
        in why.message
    )
    assert why.compared["person_id"] is None
    assert d.results[SP].status == "not_met"
    assert d.results[SP].amount == 0
    assert d.results[SP].earliest_date is None
    assert "MEASURE_LATEST_READINGS_DISAGREE" in pbr.REASON_CODES


@pytest.mark.parametrize("order", [1, -1])
def test_latest_readings_of_different_people_on_the_last_day_are_no_disagreement(
    order: int,
) -> None:
    """One adult in work and another not is two facts, not contradictory evidence: the largest
    is read, whatever the order; one person's readings that disagree still do not hold."""
    people = [("A1", 1), ("C1", 0)][::order]
    fam = family(
        observations=[
            {"indicator": "x", "date": "2016-09-20", "value": v, "person_id": p} for p, v in people
        ]
    )
    d = pbr.evaluate(fam, as_of=date(2016, 9, 30), plan=_readings_plan("latest", ">=", 1))
    (why,) = reasons(d, "x")
    assert (why.code, why.compared["value"]) == ("MEASURE_MET", "1")
    one = family(
        observations=[
            {"indicator": "x", "date": "2016-09-20", "value": v, "person_id": "A1"} for v in (1, 0)
        ]
    )
    d = pbr.evaluate(one, as_of=date(2016, 9, 30), plan=_readings_plan("latest", ">=", 1))
    (why,) = reasons(d, "x")
    assert why.code == "MEASURE_LATEST_READINGS_DISAGREE"
    assert "the latest readings of x for A1, on 2016-09-20, disagree: 1, 0" in why.message
    assert why.compared["person_id"] == "A1"


def test_latest_readings_that_agree_or_disagree_before_the_last_day_are_read() -> None:
    fam = _x(
        ("2016-08-01", 0, None),
        ("2016-08-01", 9, None),
        ("2016-09-20", 1, "a"),
        ("2016-09-20", "1.0", "b"),
    )
    d = pbr.evaluate(fam, as_of=date(2016, 9, 30), plan=_readings_plan("latest", ">=", 1))
    (why,) = reasons(d, "x")
    assert (why.code, why.compared["value"], why.compared["rows"]) == ("MEASURE_MET", "1", 4)


@pytest.mark.parametrize(
    ("readings", "comparison", "threshold", "shown"),
    [
        # N1: two readings of 0 (no crisis) counted as 2 crises
        ([("2016-08-01", 0), ("2016-09-01", "0.0")], "==", 0, "2016-08-01: 0; 2016-09-01: 0.0"),
        ([("2016-08-01", 7)], ">=", 1, "2016-08-01: 7"),  # 7 counted as 1
        ([("2016-08-01", 1), ("2016-09-01", "2.5")], "<=", 5, "2016-09-01: 2.5"),
    ],
)
def test_a_count_of_readings_that_are_not_events_does_not_hold(
    readings: list[tuple[str, object]], comparison: str, threshold: int, shown: str
) -> None:
    fam = _x(*((on, v, None) for on, v in readings))
    d = pbr.evaluate(
        fam, as_of=date(2016, 9, 30), plan=_readings_plan("count", comparison, threshold)
    )
    (why,) = reasons(d, "x")
    assert why.code == "MEASURE_COUNT_NOT_EVENTS"
    assert (why.compared["not_events"], why.compared["rows"]) == (shown, len(readings))
    assert f"x with a value other than 1 ({shown})" in why.message
    assert d.results[SP].status == "not_met"
    assert d.results[SP].amount == 0
    assert "MEASURE_COUNT_NOT_EVENTS" in pbr.REASON_CODES


def test_a_count_counts_readings_of_1_however_written() -> None:
    fam = _x(("2016-08-01", 1, None), ("2016-09-01", "1.0", None), ("2016-09-02", None, None))
    d = pbr.evaluate(fam, as_of=date(2016, 9, 30), plan=_readings_plan("count", "==", 3))
    (why,) = reasons(d, "x")
    assert (why.code, why.compared["value"]) == ("MEASURE_MET", "3")


def test_a_period_of_terms_ends_with_its_last_complete_term_not_the_evaluation_date() -> None:
    """T1: a callout on 25 August 2016 is after the summer term, so outside three terms to it."""
    fam = family(
        attached_on="2015-08-01",
        observations=[{"indicator": "police_callout_domestic_abuse", "date": "2016-08-25"}],
    )
    da = measure("da", "police_callout_domestic_abuse", "==", 0, sustain_terms=3)
    d = pbr.evaluate(
        fam,
        as_of=date(2016, 8, 31),
        plan=plan([{"problem": "domestic_abuse", "measures": [da]}, HEALTH]),
    )
    (why,) = reasons(d, "da")
    assert (why.code, why.compared["window_after"], why.compared["window_to"]) == (
        "MEASURE_MET",
        "2015-08-31",
        "2016-07-31",
    )
    assert why.message.endswith("0 == 0 is true over (2015-08-31, 2016-07-31]")
