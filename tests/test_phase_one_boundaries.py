"""Every boundary of phase1-spec v1, as hand-checkable examples.

Each test builds the smallest family that sits on one edge and checks both sides of it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest

import pbr
from pbr.rules import PHASE_ONE

from .builders import codes, evaluate, family, record, term_rows

CAE: Final = "crime_asb_education"
P2W: Final = "progress_to_work"
CE: Final = "continuous_employment"
Y1_TERMS = [("2012/13", "autumn"), ("2012/13", "spring"), ("2012/13", "summer")]


def on_benefit(benefit: str = "ESA", start: str = "2011-01-01") -> list[dict[str, Any]]:
    return [{"person_id": "A1", "benefit": benefit, "start": start, "end": None}]


# --- Financial-year edges and programme dates ------------------------------------------------


@pytest.mark.parametrize(
    ("attached", "year", "fee"),
    [
        ("2012-04-01", "2012/13", "3200.00"),
        ("2013-03-31", "2012/13", "3200.00"),
        ("2013-04-01", "2013/14", "2400.00"),
        ("2014-03-31", "2013/14", "2400.00"),
        ("2014-04-01", "2014/15", "1600.00"),
        ("2015-03-31", "2014/15", "1600.00"),
    ],
)
def test_attachment_year_and_fee_at_fy_edges(attached: str, year: str, fee: str) -> None:
    decision = evaluate(family(attached_on=attached), "2015-03-31")
    assert decision.attachment_year == year
    assert decision.attachment_fee == Decimal(fee)


@pytest.mark.parametrize("attached", ["2012-03-31", "2015-04-01"])
def test_family_attached_outside_phase_one_is_refused(attached: str) -> None:
    with pytest.raises(pbr.OutsideProgramme, match="T1"):
        evaluate(family(attached_on=attached), "2015-03-31", rules=PHASE_ONE)


def test_before_the_first_programme_nothing_applies() -> None:
    with pytest.raises(pbr.OutsideProgramme, match="T1"):
        evaluate(family(attached_on="2012-03-31"), "2015-03-31")


def test_other_programme_is_refused_by_phase_one() -> None:
    with pytest.raises(pbr.OutsideProgramme, match="tf-phase-2"):
        evaluate(family(programme="tf-phase-2", identified_for=None), "2015-03-31", rules=PHASE_ONE)


# --- Windows: six calendar months, month ends, timing ----------------------------------------


def asb_family(dates: list[str], baseline: int = 1) -> pbr.Family:
    before = [{"person_id": None, "date": f"2012-0{5 + i}-01"} for i in range(baseline)]
    return family(
        identified_for=["crime_asb", "work"],
        local_discretion=["domestic_abuse"],
        asb_incidents=before + [{"person_id": "A1", "date": d} for d in dates],
    )


def test_last_six_months_at_31_august_starts_after_28_february() -> None:
    """as_of 31 Aug 2013: an incident on 28 Feb is outside the window, 1 Mar is inside."""
    outside = evaluate(asb_family(["2013-02-28"]), "2013-08-31")
    assert codes(outside, CAE)[1] == "ASB_REDUCED_ENOUGH"
    assert outside.results[CAE].reasons[1].compared["recent_after"] == "2013-02-28"
    inside = evaluate(asb_family(["2013-03-01"]), "2013-08-31")
    assert "ASB_NOT_REDUCED_ENOUGH" in codes(inside, CAE)


def test_leap_year_window_starts_after_29_february() -> None:
    fam = family(
        attached_on="2012-04-01",
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        asb_incidents=[
            {"date": "2011-12-01"},
            {"date": "2012-02-29"},
        ],
    )
    decision = evaluate(fam, "2012-10-01")
    asb = next(r for r in decision.results[CAE].reasons if r.rule.endswith(".asb"))
    assert asb.compared["recent_after"] == "2012-04-01"
    assert asb.compared["baseline"] == "2"


def test_crime_asb_education_needs_six_months_since_attachment() -> None:
    fam = family(identified_for=["crime_asb", "work"], local_discretion=["x"])
    early = evaluate(fam, "2013-04-14")
    assert early.results[CAE].status == "not_met"
    assert codes(early, CAE)[0] == "RESULT_TOO_EARLY"
    assert early.results[CAE].earliest_date == date(2013, 4, 15)
    on_time = evaluate(fam, "2013-04-15")
    assert on_time.results[CAE].status == "met"
    assert on_time.results[CAE].amount == Decimal("700.00")


def _rows(base: pbr.Family, rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    members = [m.model_dump() for m in base.members]
    return pbr.Family.model_validate(record(members=members, school_terms=rows)).school_terms


def _asb_on(*days: str) -> list[dict[str, Any]]:
    return [{"person_id": "A1", "date": d, "kind": "recorded_asb"} for d in days]


def test_no_earliest_date_when_asb_since_attachment_already_fails_it() -> None:
    """Spec §5, "when that is knowable": incidents recorded since attachment stay in the
    window ending on attachment + 6 months, so 3 against a baseline of 2 fail it then."""
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["dv"],
        asb_incidents=_asb_on("2012-05-01", "2012-06-01", "2012-11-01", "2013-01-01", "2013-02-01"),
    )
    early = evaluate(fam, "2013-04-14")
    result = early.results[CAE]
    assert result.status == "not_met"
    assert result.earliest_date is None
    too_early = result.reasons[0]
    assert too_early.code == "RESULT_TOO_EARLY"
    assert "no earliest date" in too_early.message
    assert "earliest" not in too_early.compared
    assert too_early.compared["wait_ends"] == "2013-04-15"
    assert too_early.compared["asb_recorded"] == 3
    assert too_early.compared["asb_baseline"] == "2"
    assert too_early.compared["recorded_after"] == "2012-10-15"
    assert too_early.compared["recorded_until"] == "2013-04-14"
    # and indeed it is not met on the day the date would have named
    assert evaluate(fam, "2013-04-15").results[CAE].status == "not_met"


def test_earliest_date_kept_when_only_incidents_before_attachment_fail_it_now() -> None:
    """Baseline incidents in today's window drop out of the window on attachment + 6 months."""
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["dv"],
        asb_incidents=_asb_on("2012-07-01", "2012-09-01", "2012-10-01"),
    )
    early = evaluate(fam, "2012-11-15")
    assert "ASB_NOT_REDUCED_ENOUGH" in codes(early, CAE)  # 3 in the last 6 months now
    assert early.results[CAE].earliest_date == date(2013, 4, 15)
    assert early.results[CAE].reasons[0].compared["earliest"] == "2013-04-15"


def test_no_earliest_date_when_a_child_offends_against_a_zero_baseline() -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2000-01-01"},
    ]
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["dv"],
        members=members,
        offences=[{"person_id": "C1", "date": "2012-12-01"}],
    )
    result = evaluate(fam, "2013-01-15").results[CAE]
    assert result.earliest_date is None
    assert result.reasons[0].compared["offending_recorded"] == 1
    assert result.reasons[0].compared["offending_baseline"] == "0"


def test_no_earliest_date_when_a_term_assessed_then_already_fails_education() -> None:
    """Attached 2012-10-15: on 2013-04-15 the terms are 2011/12 summer to 2012/13 spring."""
    before = [("2011/12", "autumn"), ("2011/12", "spring"), ("2011/12", "summer")]
    rows = term_rows("C1", [*before, ("2012/13", "autumn")])
    rows[3]["permanently_excluded"] = True  # 2012/13 autumn: assessed on 2013-04-15
    base = school_family()
    excluded = base.model_copy(update={"school_terms": _rows(base, rows)})
    result = evaluate(excluded, "2013-01-15").results[CAE]
    assert result.earliest_date is None
    assert result.reasons[0].compared["education_children"] == "C1"
    assert result.reasons[0].compared["education_terms"] == "2011/12 summer to 2012/13 autumn"
    # absence in 2011/12 spring fails it now, but that term is not assessed then: a date
    rows = term_rows("C1", [*before, ("2012/13", "autumn")])
    rows[1]["unauthorised_absences"] = 90
    absent = base.model_copy(update={"school_terms": _rows(base, rows)})
    result = evaluate(absent, "2013-01-15").results[CAE]
    assert "ABSENCE_AT_OR_ABOVE_THRESHOLD" in codes(evaluate(absent, "2013-01-15"), CAE)
    assert result.earliest_date == date(2013, 4, 15)
    # no term completes between 1 and 15 April 2013: today's verdict is the one then
    rows = term_rows("C1", [("2011/12", "summer"), ("2012/13", "autumn"), ("2012/13", "spring")])
    rows[2]["unauthorised_absences"] = 90
    same = base.model_copy(update={"school_terms": _rows(base, rows)})
    result = evaluate(same, "2013-04-01").results[CAE]
    assert result.earliest_date is None
    assert result.reasons[0].compared["education_terms"] == "2011/12 summer to 2012/13 spring"


def test_family_attached_after_as_of_meets_nothing() -> None:
    fam = family(
        attached_on="2014-06-01",
        benefit_spells=on_benefit(),
        employment_spells=[{"person_id": "A1", "start": "2014-06-01"}],
    )
    decision = evaluate(fam, "2014-05-31")
    assert {r.status for r in decision.results.values()} == {"not_met"}
    assert decision.payable == 0


# --- Education: terms, exclusions, absence ---------------------------------------------------


def school_family(**child_terms: Any) -> pbr.Family:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2002-05-05"},
    ]
    return family(
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=members,
        benefit_spells=on_benefit(),
        school_terms=term_rows("C1", Y1_TERMS, **child_terms),
    )


@pytest.mark.parametrize(
    ("exclusions", "met", "code"),
    [(2, True, "CHILD_IN_SCHOOL"), (3, False, "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD")],
)
def test_two_vs_three_fixed_term_exclusions(exclusions: int, met: bool, code: str) -> None:
    rows = term_rows("C1", Y1_TERMS)
    rows[0]["fixed_term_exclusions"] = exclusions
    fam = school_family()
    fam = fam.model_copy(
        update={
            "school_terms": pbr.Family.model_validate(
                record(members=[m.model_dump() for m in fam.members], school_terms=rows)
            ).school_terms
        }
    )
    decision = evaluate(fam, "2013-07-31")
    assert (decision.results[CAE].status == "met") is met
    assert code in codes(decision, CAE)


@pytest.mark.parametrize(
    ("unauthorised", "met", "code"),
    [(14, True, "CHILD_IN_SCHOOL"), (15, False, "ABSENCE_AT_OR_ABOVE_THRESHOLD")],
)
def test_absence_exactly_15_percent_is_not_met(unauthorised: int, met: bool, code: str) -> None:
    """15 unauthorised of 100 sessions in each of 3 terms (45/300) is 15%: not below it."""
    decision = evaluate(school_family(unauthorised=unauthorised), "2013-07-31")
    assert (decision.results[CAE].status == "met") is met
    assert code in codes(decision, CAE)
    reason = next(r for r in decision.results[CAE].reasons if r.code == code)
    assert reason.compared["unauthorised_absences"] == 3 * unauthorised
    assert reason.compared["possible_sessions"] == 300


@pytest.mark.parametrize(("unauthorised", "identified"), [(14, False), (15, True)])
def test_absence_at_15_percent_identifies_education(unauthorised: int, identified: bool) -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2002-05-05"},
    ]
    before = [("2011/12", "autumn"), ("2011/12", "spring"), ("2011/12", "summer")]
    fam = pbr.Family.model_validate(
        record(
            identified_for=None,
            members=members,
            school_terms=term_rows("C1", before, unauthorised=unauthorised),
        )
    )
    result = pbr.identify(fam)
    assert ("education" in result.evidence) is identified


def test_term_complete_on_its_last_day_is_assessed() -> None:
    """A permanent exclusion in summer 2012/13 counts at 31 July 2013, not on 30 July."""
    rows = term_rows("C1", [("2011/12", "summer"), *Y1_TERMS])
    rows[-1]["permanently_excluded"] = True
    base = school_family()
    fam = base.model_copy(
        update={
            "school_terms": tuple(
                pbr.Family.model_validate(
                    record(members=[m.model_dump() for m in base.members], school_terms=rows)
                ).school_terms
            )
        }
    )
    assert "PERMANENTLY_EXCLUDED" in codes(evaluate(fam, "2013-07-31"), CAE)
    assert evaluate(fam, "2013-07-30").results[CAE].status == "met"


def test_missing_term_for_child_of_compulsory_school_age() -> None:
    rows = term_rows("C1", Y1_TERMS[:2])
    fam = school_family()
    fam = pbr.Family.model_validate({**fam.model_dump(mode="json"), "school_terms": rows})
    decision = evaluate(fam, "2013-07-31")
    assert decision.results[CAE].status == "not_met"
    missing = [r for r in decision.results[CAE].reasons if r.code == "MISSING_SCHOOL_TERM"]
    assert [(r.compared["child"], r.compared["term"]) for r in missing] == [
        ("C1", "2012/13 summer")
    ]
    # the figures summed are those of the two terms with a record, and the reason says so
    (summed,) = [r for r in decision.results[CAE].reasons if r.code == "CHILD_IN_SCHOOL"]
    assert summed.compared["terms_with_rows"] == 2
    assert summed.compared["possible_sessions"] == 200
    assert summed.message.endswith("(summed over the 2 of 3 terms with a record)")
    whole = pbr.Family.model_validate(
        {**fam.model_dump(mode="json"), "school_terms": term_rows("C1", Y1_TERMS)}
    )
    (complete,) = [
        r for r in evaluate(whole, "2013-07-31").results[CAE].reasons if r.code == "CHILD_IN_SCHOOL"
    ]
    assert "terms_with_rows" not in complete.compared
    assert "summed over" not in complete.message


def test_child_under_school_age_needs_no_term_rows() -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C2", "date_of_birth": "2009-01-01"},
    ]
    fam = family(identified_for=["education", "work"], local_discretion=["x"], members=members)
    decision = evaluate(fam, "2013-07-31")
    assert codes(decision, CAE)[0] == "NO_CHILD_TO_ASSESS"
    assert decision.results[CAE].status == "met"


def test_zero_possible_sessions_is_not_met_at_results() -> None:
    decision = evaluate(school_family(possible=0), "2013-07-31")
    assert "NO_POSSIBLE_SESSIONS" in codes(decision, CAE)
    assert decision.results[CAE].status == "not_met"


def test_rows_for_a_person_aged_18_are_ignored() -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "Y1", "date_of_birth": "1994-09-01"},
    ]
    fam = family(
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=members,
        school_terms=term_rows("Y1", Y1_TERMS, unauthorised=90),
    )
    assert evaluate(fam, "2013-07-31").results[CAE].status == "met"


# --- ASB and offending reductions ------------------------------------------------------------


def reduction_family(kind: str, baseline: int, recent: int) -> pbr.Family:
    """`baseline` events in the 6 months before 2012-10-15, `recent` in the 6 months to 2013-07-31."""
    before = [date(2012, 5, 1) + timedelta(days=i) for i in range(baseline)]
    after = [date(2013, 3, 1) + timedelta(days=i) for i in range(recent)]
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "1998-01-01"},
    ]
    events = [{"person_id": "C1", "date": d.isoformat()} for d in before + after]
    field = "asb_incidents" if kind == "asb" else "offences"
    return family(
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        members=members,
        **{field: events},
    )


@pytest.mark.parametrize(
    ("baseline", "recent", "code"),
    [
        (5, 2, "ASB_REDUCED_ENOUGH"),  # exactly 40% left: a 60% reduction
        (5, 3, "ASB_NOT_REDUCED_ENOUGH"),
        (10, 4, "ASB_REDUCED_ENOUGH"),
        (10, 5, "ASB_NOT_REDUCED_ENOUGH"),
        (0, 0, "ASB_NONE_BEFORE_OR_SINCE"),
        (0, 1, "ASB_SINCE_ZERO_BASELINE"),
    ],
)
def test_asb_reduction_at_60_percent(baseline: int, recent: int, code: str) -> None:
    decision = evaluate(reduction_family("asb", baseline, recent), "2013-07-31")
    reason = next(r for r in decision.results[CAE].reasons if r.rule.endswith(".asb"))
    assert reason.code == code
    assert (reason.compared["recent"], reason.compared["baseline"]) == (recent, str(baseline))
    assert (decision.results[CAE].status == "met") is code.startswith(("ASB_REDUCED", "ASB_NONE"))
    assert reason.compared["max_recent_share_of_baseline"] == "0.4"
    assert baseline == 0 or reason.message.endswith(" 40% of it")


@pytest.mark.parametrize(
    ("baseline", "recent", "code"),
    [
        (100, 67, "OFFENDING_REDUCED_ENOUGH"),  # exactly 33% fewer
        (100, 68, "OFFENDING_NOT_REDUCED_ENOUGH"),
        (3, 2, "OFFENDING_REDUCED_ENOUGH"),  # a third fewer
        (2, 2, "OFFENDING_NOT_REDUCED_ENOUGH"),
        (0, 0, "OFFENDING_NONE_BEFORE_OR_SINCE"),
        (0, 1, "OFFENDING_SINCE_ZERO_BASELINE"),
    ],
)
def test_offending_reduction_at_33_percent(baseline: int, recent: int, code: str) -> None:
    decision = evaluate(reduction_family("offending", baseline, recent), "2013-07-31")
    reason = next(r for r in decision.results[CAE].reasons if r.rule.endswith(".offending"))
    assert reason.code == code
    assert reason.compared["max_recent_share_of_baseline"] == "0.67"
    assert baseline == 0 or reason.message.endswith(" 67% of it")


def test_offences_from_the_18th_birthday_are_not_a_childs() -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "1995-03-01"},
    ]
    base = {"identified_for": ["crime_asb", "work"], "local_discretion": ["x"], "members": members}
    on_birthday = family(**base, offences=[{"person_id": "C1", "date": "2013-03-01"}])
    day_before = family(**base, offences=[{"person_id": "C1", "date": "2013-02-28"}])
    assert evaluate(on_birthday, "2013-07-31").results[CAE].status == "met"
    before = evaluate(day_before, "2013-07-31")
    assert "OFFENDING_SINCE_ZERO_BASELINE" in codes(before, CAE)


def test_household_asb_counts_for_the_whole_family() -> None:
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        asb_incidents=[{"person_id": None, "date": "2013-05-01", "kind": "housing_asb_action"}],
    )
    assert "ASB_SINCE_ZERO_BASELINE" in codes(evaluate(fam, "2013-07-31"), CAE)


def test_baseline_interpretation_twelve_months_halved() -> None:
    """3 incidents 7-12 months before attachment, 1 since: 6-month baseline 0, halved 1.5."""
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        asb_incidents=[
            {"date": "2011-11-01"},
            {"date": "2011-12-01"},
            {"date": "2012-01-01"},
            {"date": "2013-05-01"},
        ],
    )
    default = evaluate(fam, "2013-07-31")
    assert "ASB_SINCE_ZERO_BASELINE" in codes(default, CAE)
    halved = evaluate(
        fam,
        "2013-07-31",
        PHASE_ONE.with_interpretations(baseline="twelve_months_before_attachment_halved"),
    )
    reason = next(r for r in halved.results[CAE].reasons if r.rule.endswith(".asb"))
    assert (reason.code, reason.compared["baseline"]) == ("ASB_NOT_REDUCED_ENOUGH", "1.5")
    assert halved.interpretations["baseline"] == "twelve_months_before_attachment_halved"


NOT_BEFORE: Final = PHASE_ONE.with_interpretations(recent_window="not_before_attachment")


def month_end_asb_family() -> pbr.Family:
    """Attached 31 Aug 2012 with one ASB incident the day before: in the baseline, never since."""
    return family(
        attached_on="2012-08-31",
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        asb_incidents=[{"person_id": "A1", "date": "2012-08-30"}],
    )


def asb_reason(decision: pbr.Decision) -> pbr.Reason:
    return next(r for r in decision.results[CAE].reasons if r.rule.endswith(".asb"))


def test_recent_window_by_default_reaches_back_before_a_month_end_attachment() -> None:
    """2013-02-28 less 6 months is 2012-08-28: the incident counts as recent and in the baseline."""
    decision = evaluate(month_end_asb_family(), "2013-02-28")
    assert decision.results[CAE].status == "not_met"
    reason = asb_reason(decision)
    assert (reason.code, reason.compared["recent"]) == ("ASB_NOT_REDUCED_ENOUGH", 1)
    assert reason.compared["recent_after"] == "2012-08-28"
    assert "recent_window_interpretation" not in reason.compared
    assert decision.interpretations["recent_window"] == "last_six_months"


def test_recent_window_not_before_attachment_leaves_the_baseline_out() -> None:
    decision = evaluate(month_end_asb_family(), "2013-02-28", NOT_BEFORE)
    assert decision.results[CAE].status == "met"
    reason = asb_reason(decision)
    assert (reason.code, reason.compared["recent"]) == ("ASB_REDUCED_ENOUGH", 0)
    assert reason.compared["recent_after"] == "2012-08-30"  # from attached_on itself
    assert reason.compared["recent_window_interpretation"] == "not_before_attachment"
    assert "on or after attachment (2012-08-31)" in reason.message
    offending = next(r for r in decision.results[CAE].reasons if r.rule.endswith(".offending"))
    assert offending.compared["recent_after"] == "2012-08-30"
    assert decision.interpretations["recent_window"] == "not_before_attachment"


@pytest.mark.parametrize("rules", [PHASE_ONE, NOT_BEFORE])
def test_recent_window_a_day_later_is_met_either_way(rules: pbr.RuleSet) -> None:
    decision = evaluate(month_end_asb_family(), "2013-03-01", rules)
    assert decision.results[CAE].status == "met"
    reason = asb_reason(decision)
    assert (reason.compared["recent"], reason.compared["recent_after"]) == (0, "2012-09-01")
    assert "on or after attachment" not in reason.message


@pytest.mark.parametrize("as_of", ["2013-04-15", "2013-04-30", "2013-10-15"])
def test_recent_window_values_agree_when_attached_mid_month(as_of: str) -> None:
    """Attached 15 Oct 2012: from the first day the result may be met, both windows are one."""
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        asb_incidents=[{"date": "2012-10-14"}, {"date": "2012-10-15"}, {"date": "2013-04-16"}],
    )
    default, alternative = evaluate(fam, as_of), evaluate(fam, as_of, NOT_BEFORE)
    unnamed = [
        [
            (r.code, r.message, {k: v for k, v in r.compared.items() if "interpretation" not in k})
            for r in d.results[CAE].reasons
        ]
        for d in (default, alternative)
    ]
    assert unnamed[0] == unnamed[1]
    assert default.results[CAE].status == alternative.results[CAE].status
    assert default.payable == alternative.payable


# --- Progress to work ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referred", "met"),
    [
        ("2012-10-14", False),  # before attachment
        ("2012-10-15", True),  # on the attachment day
        ("2013-01-31", False),  # exactly 6 months before as_of: outside (as_of - 6m, as_of]
        ("2013-02-01", True),
        ("2013-07-31", True),
        ("2013-08-01", False),  # after as_of
    ],
)
def test_progress_to_work_window(referred: str, met: bool) -> None:
    fam = family(
        attached_on="2012-10-15" if referred != "2013-01-31" else "2012-07-01",
        benefit_spells=on_benefit(),
        work_programme=[{"person_id": "A1", "date": referred, "provision": "esf"}],
    )
    decision = evaluate(fam, "2013-07-31" if referred != "2012-10-15" else "2013-03-01")
    assert (decision.results[P2W].status == "met") is met
    if met:
        assert decision.results[P2W].amount == Decimal("100.00")
        assert decision.results[P2W].earliest_date == date.fromisoformat(referred)


# --- Continuous employment -------------------------------------------------------------------


def job_family(benefit: str, *spells: tuple[str, str | None]) -> pbr.Family:
    return family(
        attached_on="2013-05-01",
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        benefit_spells=on_benefit(benefit),
        employment_spells=[{"person_id": "A1", "start": s, "end": e} for s, e in spells],
    )


@pytest.mark.parametrize(
    ("benefit", "as_of", "status", "code"),
    [
        ("JSA", "2013-12-01", "not_met", "EMPLOYMENT_TOO_SHORT"),
        ("JSA", "2013-12-02", "met", "CONTINUOUS_EMPLOYMENT_REACHED"),
        ("ESA", "2013-09-01", "not_met", "EMPLOYMENT_TOO_SHORT"),
        ("ESA", "2013-09-02", "met", "CONTINUOUS_EMPLOYMENT_REACHED"),
        ("IB", "2013-09-02", "met", "CONTINUOUS_EMPLOYMENT_REACHED"),
    ],
)
def test_employment_13_and_26_weeks_to_the_day(
    benefit: str, as_of: str, status: str, code: str
) -> None:
    """A job starting Monday 3 June 2013 reaches 13 weeks on 2 Sep and 26 weeks on 2 Dec."""
    decision = evaluate(job_family(benefit, ("2013-06-03", None)), as_of)
    result = decision.results[CE]
    assert (result.status, codes(decision, CE)[0]) == (status, code)
    weeks = 26 if benefit == "JSA" else 13
    assert result.earliest_date == date(2013, 6, 3) + timedelta(weeks=weeks)
    assert result.reasons[0].compared["weeks_required"] == weeks


def test_all_13_interpretation_shortens_jsa() -> None:
    fam = job_family("JSA", ("2013-06-03", None))
    rules = PHASE_ONE.with_interpretations(employment_weeks="all_13")
    assert evaluate(fam, "2013-09-02", rules).results[CE].status == "met"
    assert evaluate(fam, "2013-09-02").results[CE].status == "not_met"


def test_one_day_gap_restarts_the_count_and_touching_spells_join() -> None:
    gap = job_family("ESA", ("2013-06-03", "2013-07-01"), ("2013-07-03", None))
    assert evaluate(gap, "2013-09-02").results[CE].earliest_date == date(2013, 10, 2)
    touching = job_family("ESA", ("2013-06-03", "2013-07-01"), ("2013-07-02", None))
    assert evaluate(touching, "2013-09-02").results[CE].status == "met"


def test_job_ended_before_as_of_is_not_current() -> None:
    fam = job_family("ESA", ("2013-06-03", "2013-09-30"))
    assert codes(evaluate(fam, "2013-10-01"), CE) == ["NO_CURRENT_EMPLOYMENT"]
    assert evaluate(fam, "2013-09-30").results[CE].status == "met"


def test_employment_started_before_attachment_does_not_count() -> None:
    fam = job_family("ESA", ("2013-04-30", None))
    assert codes(evaluate(fam, "2014-01-01"), CE) == ["EMPLOYMENT_STARTED_BEFORE_ATTACHMENT"]


def test_employment_needs_an_adult_on_benefit_at_attachment() -> None:
    fam = family(
        attached_on="2013-05-01",
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        benefit_spells=on_benefit("ESA", "2013-05-02"),
        employment_spells=[{"person_id": "A1", "start": "2013-06-03"}],
    )
    assert codes(evaluate(fam, "2014-01-01"), CE) == ["NO_ADULT_ON_BENEFIT_AT_ATTACHMENT"]


def test_universal_credit_is_not_a_phase_one_out_of_work_benefit() -> None:
    """phase1-spec §3 lists JSA, ESA, IB, IS, CA and SDA; a UC spell is named, never counted."""
    uc = family(
        attached_on="2013-10-15",
        identified_for=None,
        benefit_spells=on_benefit("UC", "2013-05-01"),
        employment_spells=[{"person_id": "A1", "start": "2013-10-16"}],
    )
    decision = evaluate(uc, "2014-04-07")
    work = next(r for r in decision.identification if r.rule == "identification.work")
    assert work.code == "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY"
    assert work.message.endswith("(A1 on UC: not an out-of-work benefit in tf-phase-1)")
    assert work.compared["not_counted"] == "A1 on UC"
    stated = uc.model_copy(update={"identified_for": ("crime_asb", "education", "work")})
    (employment,) = evaluate(stated, "2014-04-07").results[CE].reasons
    assert employment.code == "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT"
    assert employment.compared["not_counted"] == "A1 on UC"
    assert evaluate(stated, "2014-04-07").results[CE].amount == 0
    esa = family(
        attached_on="2013-10-15",
        benefit_spells=on_benefit("ESA", "2013-05-01"),
        employment_spells=[{"person_id": "A1", "start": "2013-10-16"}],
    )
    assert evaluate(esa, "2014-04-07").results[CE].status == "met"


@pytest.mark.parametrize("esa_holder", ["A1", "A2"])
def test_a_uc_spell_beside_a_counted_benefit_leaves_the_work_criterion_met(
    esa_holder: str,
) -> None:
    """UC alongside ESA (the same adult's, or another adult's): the ESA spell identifies."""
    fam = family(
        attached_on="2013-10-15",
        identified_for=None,
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "A2", "date_of_birth": "1982-01-01"},
        ],
        benefit_spells=[
            *on_benefit("UC", "2013-05-01"),
            {"person_id": esa_holder, "benefit": "ESA", "start": "2013-06-01", "end": None},
        ],
    )
    work = next(
        r for r in evaluate(fam, "2014-04-07").identification if r.rule == "identification.work"
    )
    assert (work.code, work.compared["adults"]) == ("OUT_OF_WORK_BENEFIT_AT_ENTRY", esa_holder)
    assert "not_counted" not in work.compared


def test_a_rule_set_listing_no_out_of_work_benefits_counts_every_benefit() -> None:
    """A user's rule set without `out_of_work_benefits`: every benefit counts, UC too."""
    from importlib.resources import files

    from pbr.rules import load_rule_set

    text = files("pbr.rules").joinpath("phase_one.toml").read_text(encoding="utf-8")
    start = text.index("[parameters.out_of_work_benefits]")
    end = text.index("[parameters.", start + 1)
    rules = load_rule_set(text[:start] + text[end:], origin="no-benefit-list.toml")
    uc = family(
        attached_on="2013-10-15",
        identified_for=None,
        benefit_spells=on_benefit("UC", "2013-05-01"),
        employment_spells=[{"person_id": "A1", "start": "2013-10-16"}],
    )
    decision = evaluate(uc, "2014-04-07", rules)
    work = next(r for r in decision.identification if r.rule == "identification.work")
    assert (work.code, work.compared["adults"]) == ("OUT_OF_WORK_BENEFIT_AT_ENTRY", "A1")
    stated = uc.model_copy(update={"identified_for": ("crime_asb", "education", "work")})
    assert evaluate(stated, "2014-04-07", rules).results[CE].status == "met"
    assert evaluate(stated, "2014-04-07").results[CE].status == "not_met"  # bundled: not UC


def test_universal_credit_counts_in_the_later_programmes() -> None:
    from pbr.rules import PHASE_TWO, SUPPORTING_FAMILIES

    assert "UC" in PHASE_TWO.codes("out_of_work_benefits")
    assert "UC" in SUPPORTING_FAMILIES.codes("out_of_work_benefits")
    assert "UC" not in PHASE_ONE.codes("out_of_work_benefits")


def test_a_job_recorded_to_end_before_the_weeks_has_no_earliest_date() -> None:
    """The run ends before 13 weeks: it can never reach them, so no earliest date is given."""
    ending = job_family("ESA", ("2013-06-03", "2013-07-31"))
    result = evaluate(ending, "2013-07-01").results[CE]
    assert (result.status, result.earliest_date) == ("not_met", None)
    (why,) = result.reasons
    assert why.code == "EMPLOYMENT_TOO_SHORT"
    assert why.compared["run_end"] == "2013-07-31"
    assert (
        "the run ends on 2013-07-31, before 13 weeks (91 days after the start) would be reached on 2013-09-02"
        in (why.message)
    )
    # a job recorded to end on the day the weeks are reached does reach them
    on_the_day = job_family("ESA", ("2013-06-03", "2013-09-02"))
    assert evaluate(on_the_day, "2013-07-01").results[CE].earliest_date == date(2013, 9, 2)
    assert evaluate(on_the_day, "2013-09-02").results[CE].status == "met"
    # a spell recorded after as_of that continues the run carries it on
    carried = ending.model_copy(
        update={
            "employment_spells": (
                *ending.employment_spells,
                pbr.records.EmploymentSpell(person_id="A1", start=date(2013, 8, 1)),
            )
        }
    )
    assert evaluate(carried, "2013-07-01").results[CE].earliest_date == date(2013, 9, 2)


def test_the_run_end_is_the_current_runs_not_an_earlier_jobs() -> None:
    """An earlier job that ended long ago does not cut short the current run's weeks."""
    later = job_family("ESA", ("2012-01-02", "2012-06-29"), ("2013-06-03", "2013-12-31"))
    result = evaluate(later, "2013-07-01").results[CE]
    assert (result.status, result.earliest_date) == ("not_met", date(2013, 9, 2))
    (why,) = result.reasons
    assert why.code == "EMPLOYMENT_TOO_SHORT"
    assert "run_end" not in why.compared
    # the current run ending first does cut it short, the earlier job there or not
    short = job_family("ESA", ("2012-01-02", "2012-06-29"), ("2013-06-03", "2013-07-31"))
    assert evaluate(short, "2013-07-01").results[CE].earliest_date is None


# --- Money: rates, prior payments, the cap, combinations ---------------------------------------


def everything_met(attached: str = "2012-10-15", **fields: Any) -> pbr.Family:
    """Crime/ASB (no events), work: referral and a long ESA-to-work run; no children."""
    start = (date.fromisoformat(attached) + timedelta(days=1)).isoformat()
    fields.setdefault("identified_for", ["crime_asb", "work"])
    fields.setdefault("local_discretion", ["x"])
    return family(
        attached_on=attached,
        benefit_spells=on_benefit(),
        employment_spells=[{"person_id": "A1", "start": start}],
        **fields,
    )


def pay(kind: str, amount: str, paid_on: str | None = "2013-01-01") -> dict[str, Any]:
    return {"kind": kind, "amount": amount, "paid_on": paid_on}


def test_year_one_crime_and_employment_top_up_to_800() -> None:
    decision = evaluate(everything_met(), "2013-07-31")
    amounts = {k: r.amount for k, r in decision.results.items()}
    assert amounts == {CAE: Decimal("700.00"), P2W: Decimal("0.00"), CE: Decimal("100.00")}
    assert "EMPLOYMENT_TOP_UP" in codes(decision, CE)
    assert decision.payable == Decimal("800.00")
    assert decision.attachment_fee + decision.payable == Decimal("4000.00")


def test_after_progress_to_work_alone_employment_is_cut_by_the_cap_not_topped_up() -> None:
    """A top-up follows crime/ASB/education; after progress to work the cap's room is all."""
    fam = everything_met(payments=[pay("progress_to_work", "100.00")])
    decision = evaluate(fam, "2013-02-01")  # crime/ASB/education not yet due: 6 months
    assert decision.results[CAE].status == "not_met"
    assert decision.results[CE].amount == Decimal("700.00")
    assert codes(decision, CE)[-1] == "CAP_REACHED"
    both = evaluate(
        everything_met(
            payments=[pay("crime_asb_education", "700.00"), pay("progress_to_work", "100.00")]
        ),
        "2013-07-31",
    )
    assert both.results[CE].amount == 0
    top_up = both.results[CE].reasons[-1]
    assert top_up.code == "EMPLOYMENT_TOP_UP"
    assert top_up.message == "earlier results use the whole results share: employment adds nothing"


def cap_reached(decision: pbr.Decision) -> pbr.Reason:
    return next(
        r for k in (CAE, P2W, CE) for r in decision.results[k].reasons if r.code == "CAP_REACHED"
    )


def test_cap_reached_says_results_payable_now_are_not_paid_yet() -> None:
    """Progress to work payable now (nothing paid yet) is not 'already' paid: it is payable now."""
    fam = family(
        attached_on="2013-10-01",
        identified_for=["work", "crime_asb"],
        local_discretion=["x"],
        benefit_spells=[
            {"person_id": "A1", "benefit": "ESA", "start": "2011-01-01", "end": "2013-12-01"}
        ],
        employment_spells=[{"person_id": "A1", "start": "2013-12-02", "end": None}],
        work_programme=[{"person_id": "A1", "date": "2014-03-01", "provision": "work_programme"}],
    )
    rules = PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    capped = cap_reached(evaluate(fam, "2014-04-02", rules))
    assert capped.message == (
        "only 1500.00 left under the 4000.00 cap "
        "(fee counted 2400.00, other results payable now 100.00)"
    )
    assert (
        capped.compared["results_paid_before"],
        capped.compared["results_payable_earlier_now"],
    ) == ("0.00", "100.00")


def test_cap_reached_names_results_paid_before_and_only_what_is_not_zero() -> None:
    paid = evaluate(everything_met(payments=[pay("progress_to_work", "100.00")]), "2013-02-01")
    assert cap_reached(paid).message == (
        "only 700.00 left under the 4000.00 cap (fee counted 3200.00, results paid 100.00)"
    )
    full = evaluate(everything_met(payments=[pay("attachment_fee", "4000.00")]), "2013-07-31")
    assert cap_reached(full).message == "only 0.00 left under the 4000.00 cap (fee counted 4000.00)"


def test_progress_to_work_cut_beside_crime_is_the_cap_not_a_top_up() -> None:
    """Only employment tops up: progress to work cut after crime/ASB/education is the cap."""
    fam = everything_met(
        payments=[pay("attachment_fee", "3250.00")],
        work_programme=[{"person_id": "A1", "date": "2013-05-01", "provision": "work_programme"}],
    )
    decision = evaluate(fam, "2013-07-31")
    amounts = [decision.results[k].amount for k in (CAE, P2W, CE)]
    assert amounts == [Decimal("700.00"), Decimal("50.00"), Decimal("0.00")]
    assert codes(decision, P2W)[-1] == "CAP_REACHED"
    assert codes(decision, CE)[-1] == "EMPLOYMENT_TOP_UP"


def test_a_single_pound_of_crime_payable_now_makes_employment_a_top_up() -> None:
    """Crime/ASB/education payable now at £1.00 (all the room left): employment is a top-up."""
    decision = evaluate(everything_met(payments=[pay("attachment_fee", "3999.00")]), "2013-07-31")
    assert decision.results[CAE].amount == Decimal("1.00")
    assert codes(decision, CAE)[-1] == "CAP_REACHED"
    assert decision.results[CE].amount == 0
    top_up = decision.results[CE].reasons[-1]
    assert top_up.code == "EMPLOYMENT_TOP_UP"
    assert top_up.message == "earlier results use the whole results share: employment adds nothing"
    # with no room at all, crime/ASB/education pays nothing now: employment meets the cap
    full = evaluate(everything_met(payments=[pay("attachment_fee", "4000.00")]), "2013-07-31")
    assert full.results[CAE].amount == 0
    assert codes(full, CE)[-1] == "CAP_REACHED"


def test_crime_already_paid_then_employment_top_up_vs_exclusive() -> None:
    fam = everything_met(payments=[pay("crime_asb_education", "700.00")])
    top_up = evaluate(fam, "2013-07-31")
    assert top_up.results[CAE].status == "already_paid"
    assert codes(top_up, CAE)[0] == "ALREADY_PAID"
    assert top_up.results[CE].amount == Decimal("100.00")
    exclusive = evaluate(
        fam, "2013-07-31", PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    )
    assert exclusive.results[CE].status == "met"
    assert exclusive.results[CE].amount == 0
    assert codes(exclusive, CE)[-1] == "EXCLUSIVE_ROUTE_TAKEN"


def test_exclusive_with_both_met_pays_employment() -> None:
    rules = PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    decision = evaluate(everything_met(), "2013-07-31", rules)
    assert decision.results[CAE].status == "met"
    assert decision.results[CAE].amount == 0
    assert "EXCLUSIVE_ROUTE_TAKEN" in codes(decision, CAE)
    assert decision.results[CE].amount == Decimal("800.00")


def test_progress_to_work_is_paid_with_crime_then_employment_gets_nothing() -> None:
    fam = everything_met(
        work_programme=[{"person_id": "A1", "date": "2013-05-01", "provision": "work_programme"}]
    )
    decision = evaluate(fam, "2013-07-31")
    amounts = [decision.results[k].amount for k in (CAE, P2W, CE)]
    assert amounts == [Decimal("700.00"), Decimal("100.00"), Decimal("0.00")]
    assert decision.payable == Decimal("800.00")


@pytest.mark.parametrize(
    ("attached", "as_of", "split", "crime", "work", "employment"),
    [
        ("2012-10-15", "2013-07-31", "flat_progress_to_work", "700.00", "100.00", "800.00"),
        ("2013-10-15", "2014-07-31", "flat_progress_to_work", "1500.00", "100.00", "1600.00"),
        ("2014-10-15", "2015-07-31", "flat_progress_to_work", "2300.00", "100.00", "2400.00"),
        ("2012-10-15", "2013-07-31", "pro_rata", "700.00", "100.00", "800.00"),
        ("2013-10-15", "2014-07-31", "pro_rata", "1400.00", "200.00", "1600.00"),
        ("2014-10-15", "2015-07-31", "pro_rata", "2100.00", "300.00", "2400.00"),
    ],
)
def test_rates_by_attachment_year_and_split(
    attached: str, as_of: str, split: str, crime: str, work: str, employment: str
) -> None:
    rules = PHASE_ONE.with_interpretations(results_split=split)
    decision = evaluate(everything_met(attached), as_of, rules)
    rates = [decision.results[k].rate for k in (CAE, P2W, CE)]
    assert rates == [Decimal(crime), Decimal(work), Decimal(employment)]
    assert decision.attachment_fee + decision.payable == Decimal("4000.00")


def test_rates_by_claim_year_is_capped_and_clamped() -> None:
    rules = PHASE_ONE.with_interpretations(rates_by="claim_year")
    fam = everything_met("2012-10-15", identified_for=["crime_asb", "work"])
    in_2014 = evaluate(fam.model_copy(update={"employment_spells": ()}), "2014-07-31", rules)
    assert in_2014.results[CAE].rate == Decimal("2300.00")
    assert in_2014.results[CAE].amount == Decimal("800.00")
    assert "CAP_REACHED" in codes(in_2014, CAE)
    after_programme = evaluate(
        fam.model_copy(update={"employment_spells": ()}), "2016-01-01", rules
    )
    assert after_programme.results[CAE].rate == Decimal("2300.00")
    assert after_programme.attachment_fee == Decimal("3200.00")


def test_listed_attachment_fee_above_table_shrinks_the_room() -> None:
    fam = everything_met(payments=[pay("attachment_fee", "3500.00")])
    decision = evaluate(fam, "2013-07-31")
    assert decision.results[CAE].amount == Decimal("500.00")
    assert "CAP_REACHED" in codes(decision, CAE)
    assert decision.payable == Decimal("500.00")


def test_payments_after_as_of_are_ignored_and_undated_ones_count() -> None:
    later = everything_met(payments=[pay("crime_asb_education", "700.00", "2013-08-01")])
    assert evaluate(later, "2013-07-31").results[CAE].status == "met"
    undated = everything_met(payments=[pay("crime_asb_education", "700.00", None)])
    decision = evaluate(undated, "2013-07-31")
    assert decision.results[CAE].status == "already_paid"
    assert decision.paid_to_date == Decimal("700.00")


def test_cap_reached_by_prior_results_pays_nothing_more() -> None:
    fam = everything_met(
        payments=[
            pay("attachment_fee", "3200.00"),
            pay("continuous_employment", "800.00"),
        ]
    )
    decision = evaluate(fam, "2013-07-31")
    assert decision.results[CE].status == "already_paid"
    assert decision.results[CAE].amount == 0
    assert "CAP_REACHED" in codes(decision, CAE)
    assert decision.payable == 0
    assert decision.paid_to_date == Decimal("4000.00")


# --- Identification and relevance ------------------------------------------------------------


def test_two_criteria_need_local_discretion() -> None:
    two = family(identified_for=["crime_asb", "work"])
    decision = evaluate(two, "2013-07-31")
    assert not decision.eligible
    assert {r.status for r in decision.results.values()} == {"not_applicable"}
    assert {codes(decision, k)[0] for k in decision.results} == {"NOT_ELIGIBLE"}
    assert decision.payable == 0
    assert decision.attachment_fee == Decimal("3200.00")
    assert evaluate(
        family(identified_for=["crime_asb", "work"], local_discretion=["dv"]), "2013-07-31"
    ).eligible


def test_identification_from_evidence_and_disagreement_warning() -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "1998-01-01"},
    ]
    evidence = {
        "members": members,
        "offences": [{"person_id": "C1", "date": "2012-09-01"}],
        "school_terms": term_rows(
            "C1",
            [("2011/12", "autumn"), ("2011/12", "spring"), ("2011/12", "summer")],
            exclusions=1,
            permanently_excluded=True,
        ),
        "benefit_spells": on_benefit("JSA"),
    }
    derived = pbr.identify(family(identified_for=None, **evidence))
    assert derived.evidence == ("crime_asb", "education", "work")
    assert derived.eligible
    assert not derived.warnings
    stated = pbr.identify(family(identified_for=["crime_asb", "work"], **evidence))
    assert stated.identified_for == ("crime_asb", "work")
    assert not stated.eligible
    assert [w.code for w in stated.warnings] == ["EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR"]
    assert stated.warnings[0].compared["evidence_not_stated"] == "education"


def test_identification_window_is_the_12_months_before_attachment() -> None:
    on_edge = family(identified_for=None, asb_incidents=[{"date": "2011-10-15"}])
    assert "crime_asb" in pbr.identify(on_edge).evidence
    too_old = family(identified_for=None, asb_incidents=[{"date": "2011-10-14"}])
    assert "crime_asb" not in pbr.identify(too_old).evidence
    on_day = family(identified_for=None, asb_incidents=[{"date": "2012-10-15"}])
    assert "crime_asb" not in pbr.identify(on_day).evidence


def test_work_criterion_needs_benefit_on_the_attachment_day() -> None:
    ends_day_before = [
        {"person_id": "A1", "benefit": "IS", "start": "2011-01-01", "end": "2012-10-14"}
    ]
    assert (
        "work"
        not in pbr.identify(family(identified_for=None, benefit_spells=ends_day_before)).evidence
    )
    ends_on_day = [{"person_id": "A1", "benefit": "IS", "start": "2011-01-01", "end": "2012-10-15"}]
    assert "work" in pbr.identify(family(identified_for=None, benefit_spells=ends_on_day)).evidence


def test_relevance_all_limbs_applies_unidentified_problems() -> None:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2002-05-05"},
    ]
    fam = family(
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        members=members,
        school_terms=term_rows("C1", Y1_TERMS, unauthorised=50),
    )
    default = evaluate(fam, "2013-07-31")
    assert default.results[CAE].status == "met"
    assert codes(default, CAE)[0] == "LIMB_NOT_RELEVANT"
    all_limbs = evaluate(fam, "2013-07-31", PHASE_ONE.with_interpretations(relevance="all_limbs"))
    assert all_limbs.results[CAE].status == "not_met"


@pytest.mark.parametrize("relevance", ["identified_problems_only", "all_limbs"])
def test_work_results_need_the_work_problem_under_either_relevance(relevance: str) -> None:
    """Clarification 18: all_limbs widens crime/ASB/education only."""
    fam = family(
        identified_for=["crime_asb", "education"],
        local_discretion=["x"],
        benefit_spells=[{"person_id": "A1", "benefit": "ESA", "start": "2012-01-02"}],
        employment_spells=[{"person_id": "A1", "start": "2012-11-05"}],
        work_programme=[{"person_id": "A1", "date": "2013-06-03", "provision": "esf"}],
    )
    rules = PHASE_ONE.with_interpretations(relevance=relevance)
    decision = evaluate(fam, "2013-07-31", rules)
    for kind in (P2W, CE):
        assert decision.results[kind].status == "not_applicable"
        assert codes(decision, kind) == ["PROBLEM_NOT_IDENTIFIED"]
    with_work = evaluate(
        family(
            identified_for=["crime_asb", "education", "work"],
            benefit_spells=[{"person_id": "A1", "benefit": "ESA", "start": "2012-01-02"}],
            employment_spells=[{"person_id": "A1", "start": "2012-11-05"}],
            work_programme=[{"person_id": "A1", "date": "2013-06-03", "provision": "esf"}],
        ),
        "2013-07-31",
        rules,
    )
    assert with_work.results[P2W].status == "met"
    assert with_work.results[CE].status == "met"


def test_decision_echoes_rules_version_and_interpretations() -> None:
    rules = PHASE_ONE.with_interpretations(rates_by="claim_year", results_split="pro_rata")
    decision = evaluate(everything_met(), "2013-07-31", rules)
    assert decision.rules_version == "tf-phase-1/1.0"
    assert decision.interpretations == {
        **PHASE_ONE.chosen,
        "rates_by": "claim_year",
        "results_split": "pro_rata",
    }
    dumped = decision.model_dump(mode="json")
    assert dumped["payable"] == "800.00"
    assert dumped["results"][CE]["reasons"][0]["source"]
    assert set(dumped["results"]) == {CAE, P2W, CE}


def _missing_terms(born: str, rows: list[dict[str, Any]], rules: Any = None) -> list[Any]:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": born},
    ]
    decision = evaluate(family(members=members, school_terms=rows), "2013-07-31", rules)
    return [
        r.compared["term"] for r in decision.results[CAE].reasons if r.code == "MISSING_SCHOOL_TERM"
    ]


@pytest.mark.parametrize(
    ("born", "missing"), [("2007-08-31", ["2012/13 autumn"]), ("2007-09-01", [])]
)
def test_a_missing_term_counts_from_the_first_term_after_the_fifth_birthday(
    born: str, missing: list[str]
) -> None:
    # assessed at the end of July 2013: autumn 2012 to summer 2013; a child five on
    # 1 September 2012 is of school age from spring, so its autumn row is not missing
    rows = term_rows("C1", [("2012/13", "spring"), ("2012/13", "summer")])
    assert _missing_terms(born, rows) == missing


@pytest.mark.parametrize(
    ("autumn_starts", "missing"), [(date(2012, 8, 31), ["2012/13 autumn"]), (date(2012, 9, 1), [])]
)
def test_a_missing_term_counts_to_the_end_of_the_school_year_of_the_sixteenth_birthday(
    autumn_starts: date, missing: list[str]
) -> None:
    # sixteen on 1 June 2012: of school age to 31 August 2012, so a council's autumn term that
    # starts that day still needs a row
    from pbr.periods import TermCalendar

    calendar = TermCalendar({("2012/13", "autumn"): (autumn_starts, date(2012, 12, 20))})
    rows = term_rows("C1", [("2012/13", "spring")])
    assert _missing_terms("1996-06-01", rows, PHASE_ONE.with_term_calendar(calendar)) == missing


TERM_REASONS = {
    "EDUCATION_PROBLEM_AT_ENTRY",
    "NO_EDUCATION_PROBLEM_AT_ENTRY",
    "CHILD_IN_SCHOOL",
    "NO_CHILD_TO_ASSESS",
    "ABSENCE_AT_OR_ABOVE_THRESHOLD",
    "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD",
    "PERMANENTLY_EXCLUDED",
    "MISSING_SCHOOL_TERM",
    "NO_POSSIBLE_SESSIONS",
}
"""Phase one's reasons whose evidence depends on the school terms' dates."""


def _council_calendar_family() -> pbr.Family:
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2007-09-03"},
    ]
    rows = term_rows("C1", [("2012/13", "spring"), ("2012/13", "summer")])
    return family(
        attached_on="2012-10-01",
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=members,
        school_terms=rows,
    )


def test_a_decision_names_a_council_term_calendar_it_used() -> None:
    # phase1-spec §5: the decision names every interpretation used. A council's calendar
    # changed the outcome (met 700.00 -> MISSING_SCHOOL_TERM) while the decision showed the
    # same rules_version and interpretations, and no reason named the calendar.
    from pbr.periods import TermCalendar

    calendar = TermCalendar(
        overrides={("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))}, name="council"
    )
    fam = _council_calendar_family()
    assert evaluate(fam, "2013-07-31").payable == Decimal("700.00")
    decision = evaluate(fam, "2013-07-31", PHASE_ONE.with_term_calendar(calendar))
    assert decision.results[CAE].status == "not_met"
    termed = [r for r in decision.results[CAE].reasons if r.code in TERM_REASONS]
    assert {r.code for r in termed} >= {"MISSING_SCHOOL_TERM", "CHILD_IN_SCHOOL"}
    for r in termed:
        assert r.compared["term_calendar"] == "council", r.code
        assert r.message.endswith(" (council term calendar)"), r.message
    (missing,) = [r for r in termed if r.code == "MISSING_SCHOOL_TERM"]
    assert missing.message == (
        "child C1 is of compulsory school age but has no record for 2012/13 autumn "
        "(council term calendar)"
    )
    paper = decision.explain()
    assert "\nSchool terms: council term calendar (not the default dates)\n" in paper
    assert "term_calendar=council" in paper
    assert "no record for 2012/13 autumn (council term calendar)" in paper
    # reasons that do not read the terms do not name it, nor does identification, whose terms
    # (2011/12's, before attachment) keep the default dates
    (at_entry,) = [r for r in decision.identification if r.code in TERM_REASONS]
    assert at_entry.code == "NO_EDUCATION_PROBLEM_AT_ENTRY"
    assert "term_calendar" not in at_entry.compared
    assert not at_entry.message.endswith("term calendar)"), at_entry.message
    others = [r for r in decision.identification if r.code not in TERM_REASONS]
    assert others
    assert all("term_calendar" not in r.compared for r in others)


def test_a_council_calendar_dating_no_term_assessed_is_not_named() -> None:
    # the council's dates are for 2012/13's autumn: judged on 2014/15's terms, the decision is
    # the default calendar's, yet its reasons and explanation named the council's calendar
    from pbr.periods import TermCalendar

    calendar = TermCalendar(
        overrides={("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))}, name="council"
    )
    fam = _council_calendar_family().model_copy(update={"attached_on": date(2014, 10, 1)})
    plain = evaluate(fam, "2015-07-31")
    decision = evaluate(fam, "2015-07-31", PHASE_ONE.with_term_calendar(calendar))
    every = [
        *decision.identification,
        *(r for res in decision.results.values() for r in res.reasons),
    ]
    assert {r.code for r in every} & TERM_REASONS
    assert all("term_calendar" not in r.compared for r in every)
    assert "School terms" not in decision.explain()
    assert decision.model_dump_json(exclude={"provenance"}) == plain.model_dump_json(
        exclude={"provenance"}
    )


def test_the_default_term_calendar_is_not_named() -> None:
    # a calendar overriding no term is the default one, whatever its name: decisions as before
    from pbr.periods import TermCalendar

    fam = _council_calendar_family()
    plain = evaluate(fam, "2013-07-31")
    named = evaluate(fam, "2013-07-31", PHASE_ONE.with_term_calendar(TermCalendar(name="x")))
    assert named.model_dump_json() == plain.model_dump_json()
    every = [*plain.identification, *(r for res in plain.results.values() for r in res.reasons)]
    assert {r.code for r in every} & TERM_REASONS
    assert all("term_calendar" not in r.compared for r in every)
    assert "term calendar" not in plain.explain()
    assert "School terms" not in plain.explain()


def test_a_calendar_left_unnamed_is_called_own() -> None:
    from pbr.periods import TermCalendar

    calendar = TermCalendar({("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))})
    decision = evaluate(
        _council_calendar_family(), "2013-07-31", PHASE_ONE.with_term_calendar(calendar)
    )
    (missing,) = [r for r in decision.results[CAE].reasons if r.code == "MISSING_SCHOOL_TERM"]
    assert missing.compared["term_calendar"] == "own"
    assert missing.message.endswith("(own term calendar)")


@pytest.mark.parametrize(
    ("row_flags", "exclusions", "unauthorised", "shown", "flagged"),
    [
        ({}, 0, 0, None, {}),
        (
            {"permanently_excluded": True},
            0,
            0,
            "permanently excluded in 2011/12 spring",
            {"permanently_excluded_terms": "2011/12 spring"},
        ),
        (
            {"alternative_provision": True},
            0,
            0,
            "in alternative provision in 2011/12 spring",
            {"alternative_provision_terms": "2011/12 spring"},
        ),
        (
            {"on_roll": False},
            0,
            0,
            "not on a school roll in 2011/12 spring",
            {"off_roll_terms": "2011/12 spring"},
        ),
        ({}, 1, 0, "3 fixed-term exclusions", {}),  # one a term: three over the assessed terms
        ({}, 0, 15, "unauthorised absence 45/300 sessions", {}),
    ],
)
def test_each_education_criterion_alone_identifies_the_problem(
    row_flags: dict[str, bool],
    exclusions: int,
    unauthorised: int,
    shown: str | None,
    flagged: dict[str, str],
) -> None:
    """One criterion in one row (or the terms' sum), nothing else: the problem, and why.

    A flag's reason says the term whose row set it, in its message and numbers compared (the
    sums alone would not meet the criterion); a reason met on the sums names no flag.
    """
    rows = term_rows("C1", [("2011/12", "autumn"), ("2011/12", "spring"), ("2011/12", "summer")])
    for row in rows:
        row["fixed_term_exclusions"] = exclusions
        row["unauthorised_absences"] = unauthorised
    rows[1].update(row_flags)
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2002-05-05"},
    ]
    fam = pbr.Family.model_validate(record(identified_for=None, members=members, school_terms=rows))
    result = pbr.identify(fam)
    found = [r for r in result.reasons if r.code == "EDUCATION_PROBLEM_AT_ENTRY"]
    assert ("education" in result.evidence) is (shown is not None)
    if shown is None:
        assert not found
    else:
        [why] = found
        assert why.message.endswith(f": {shown}")
        named = {k: v for k, v in why.compared.items() if k.endswith("_terms")}
        assert named == flagged


def test_identification_names_each_flag_and_its_terms_oldest_first() -> None:
    """Flags in several terms, rows out of term order: each flag's terms, oldest first."""
    rows = term_rows("C1", [("2011/12", "autumn"), ("2011/12", "spring"), ("2011/12", "summer")])
    rows[2].update(alternative_provision=True, on_roll=False)
    rows[0].update(alternative_provision=True)
    rows[1].update(permanently_excluded=True, on_roll=False)
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2002-05-05"},
    ]
    fam = pbr.Family.model_validate(
        record(identified_for=None, members=members, school_terms=rows[::-1])
    )
    [why] = [r for r in pbr.identify(fam).reasons if r.code == "EDUCATION_PROBLEM_AT_ENTRY"]
    assert why.message == (
        "child C1, 2011/12 autumn to 2011/12 summer: permanently excluded in 2011/12 spring; "
        "in alternative provision in 2011/12 autumn, 2011/12 summer; "
        "not on a school roll in 2011/12 spring, 2011/12 summer"
    )
    assert why.compared == {
        "child": "C1",
        "terms": "2011/12 autumn to 2011/12 summer",
        "possible_sessions": 300,
        "unauthorised_absences": 0,
        "fixed_term_exclusions": 0,
        "absence_threshold_percent": 15,
        "exclusion_threshold": 3,  # the fixed-term exclusions compared with it, as in results
        "permanently_excluded_terms": "2011/12 spring",
        "alternative_provision_terms": "2011/12 autumn, 2011/12 summer",
        "off_roll_terms": "2011/12 spring, 2011/12 summer",
        "terms_with_rows": 3,
    }


def _excluded_example() -> pbr.Family:
    """EX-001 of examples/families.jsonl, permanently excluded in 2011/12 and 2014/15 spring."""
    path = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    [raw] = [
        r for r in map(json.loads, path.read_text().splitlines()) if r["family_id"] == "EX-001"
    ]
    for row in raw["school_terms"]:
        if (row["academic_year"], row["term"]) in {("2011/12", "spring"), ("2014/15", "spring")}:
            row["permanently_excluded"] = True
    raw["family_id"] = "PX-1"
    return pbr.Family.model_validate(raw)


def test_a_permanent_exclusion_names_the_term_that_records_it() -> None:
    """The sums over the terms would pass the limb: the reason says which term's row fails it."""
    fam = _excluded_example()
    reasons = evaluate(fam, "2015-03-31").results[CAE].reasons
    [why] = [r for r in reasons if r.code.startswith(("PERMANENTLY", "FIXED", "ABSENCE"))]
    assert why.code == "PERMANENTLY_EXCLUDED"
    assert why.message == (
        "child C1: was permanently excluded in 2014/15 spring "
        "(terms assessed 2013/14 summer to 2014/15 spring)"
    )
    assert why.compared["permanently_excluded_terms"] == "2014/15 spring"
    assert (why.compared["fixed_term_exclusions"], why.compared["unauthorised_absences"]) == (0, 12)
    # a child not excluded: the numbers compared are as they were, with no flag named
    [in_school] = [
        r for r in evaluate(fam, "2014-03-31").results[CAE].reasons if r.code == "CHILD_IN_SCHOOL"
    ]
    assert "permanently_excluded_terms" not in in_school.compared


def test_explain_shows_the_flags_and_their_terms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    path = tmp_path / "px.jsonl"
    path.write_text(_excluded_example().model_dump_json() + "\n")
    assert main(["explain", str(path), "PX-1", "--as-of", "2015-03-31"]) == 0
    out = capsys.readouterr().out
    assert "was permanently excluded in 2014/15 spring (terms assessed" in out
    assert "exclusion_threshold=3, permanently_excluded_terms=2014/15 spring" in out
    assert "permanently excluded in 2011/12 spring; unauthorised absence" in out  # at entry
    assert "permanently_excluded_terms=2011/12 spring, terms_with_rows=3" in out


def test_a_permanent_exclusion_before_the_wait_ends_names_its_term() -> None:
    """Too early, and already failed by an exclusion in a term complete now: which term."""
    rows = term_rows("C1", [("2011/12", "summer"), *Y1_TERMS])
    rows[2]["permanently_excluded"] = True  # 2012/13 spring
    fam = family(
        attached_on="2013-03-01",  # the wait ends 2013-09-01: 2012/13 summer assessed then
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2002-05-05"},
        ],
        benefit_spells=on_benefit(),
        school_terms=rows,
    )
    [early] = [
        r for r in evaluate(fam, "2013-04-30").results[CAE].reasons if r.code == "RESULT_TOO_EARLY"
    ]
    assert (
        "child C1 was permanently excluded in 2012/13 spring "
        "(terms complete so far: 2012/13 autumn to 2012/13 spring)"
    ) in early.message
    assert early.compared["permanently_excluded_terms"] == "C1: 2012/13 spring"


# --- The last day for results claims (S12: May 2015) -------------------------------------------


@pytest.mark.parametrize(("as_of", "warned"), [("2015-05-31", False), ("2015-06-01", True)])
def test_results_payable_after_claims_closed_are_warned_of_not_withheld(
    as_of: str, warned: bool
) -> None:
    """Phase one's results claims closed in May 2015: money still payable later is flagged."""
    decision = evaluate(job_family("ESA", ("2013-06-03", None)), as_of)
    assert decision.payable == Decimal("1600.00")  # phase1-spec sets no date: still payable
    closed = [w for w in decision.warnings if w.code == "RESULTS_CLAIMS_CLOSED"]
    assert bool(closed) is warned
    if warned:
        assert closed[0].rule == "payment.claims_closed"
        assert closed[0].source == "S12"
        assert closed[0].compared == {
            "payable": "1600.00",
            "as_of": "2015-06-01",
            "claims_until": "2015-05-31",
        }


def test_nothing_payable_after_claims_closed_is_not_warned_of() -> None:
    paid = family(
        attached_on="2013-05-01",
        identified_for=["crime_asb", "work"],
        local_discretion=["x"],
        benefit_spells=on_benefit("ESA"),
        employment_spells=[{"person_id": "A1", "start": "2013-06-03"}],
        payments=[{"kind": "continuous_employment", "amount": "1600.00", "paid_on": "2014-01-06"}],
    )
    decision = evaluate(paid, "2016-01-01")
    assert decision.results[CE].status == "already_paid"
    assert decision.payable == 0
    assert "RESULTS_CLAIMS_CLOSED" not in [w.code for w in decision.warnings]
