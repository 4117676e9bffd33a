"""Boundary examples for phase two and Supporting Families (tf-rules §2, §3; docs/programmes.md)."""

from __future__ import annotations

import functools
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest

import pbr
from pbr.decisions import Decision, ResultKind
from pbr.forecast._terms import programme_terms
from pbr.periods import FinancialYear, financial_year_of
from pbr.plans import example_plan, load_plan, parse_plan
from pbr.rules import PHASE_ONE, PHASE_TWO, SUPPORTING_FAMILIES

from .builders import COUNCIL_2016

SP: ResultKind = "sustained_progress"
CE: ResultKind = "continuous_employment"


def record(programme: str | None = "tf-phase-2", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "family_id": "L1",
        "attached_on": "2016-01-15" if programme != "supporting-families" else "2022-01-15",
        "members": [
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "C1", "date_of_birth": "2010-03-01"},
        ],
        "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
    }
    if programme is not None:
        base["programme"] = programme
    base.update(fields)
    return base


def run(
    as_of: str,
    programme: str | None = "tf-phase-2",
    rules: pbr.rules.RuleSet | None = None,
    **fields: Any,
) -> Decision:
    family = pbr.Family.model_validate(record(programme, **fields))
    return pbr.evaluate(family, as_of=date.fromisoformat(as_of), rules=rules)


def codes(d: Decision, kind: ResultKind) -> list[str]:
    return [r.code for r in d.results[kind].reasons]


# --- eligibility --------------------------------------------------------------------------------


def test_phase_two_needs_two_problems() -> None:
    two = run("2016-12-31")
    assert two.eligible
    one = run("2016-12-31", problems_at_entry=[{"problem": "health"}])
    assert not one.eligible
    assert [r.code for r in one.identification] == ["TOO_FEW_PROBLEMS_AT_ENTRY", "NOT_ELIGIBLE"]
    assert one.payable == 0
    assert {r.status for r in one.results.values()} == {"not_applicable"}


NEEDS3 = [{"problem": "housing"}, {"problem": "health"}, {"problem": "domestic_abuse"}]


def test_supporting_families_needs_three_needs() -> None:
    assert run("2022-12-31", "supporting-families", problems_at_entry=NEEDS3).eligible
    two = run("2022-12-31", "supporting-families", problems_at_entry=NEEDS3[:2])
    assert not two.eligible
    assert two.identification[0].code == "TOO_FEW_PROBLEMS_AT_ENTRY"
    assert two.identification[0].compared == {
        "problems": 2,
        "needed": 3,
        "listed": "health, housing",  # the programme's order (tf-rules), not the record's
    }


def test_supporting_families_needs_a_dependent_child_or_expectant_parent() -> None:
    adult_only = [{"person_id": "A1", "date_of_birth": "1985-01-01"}]
    d = run("2022-12-31", "supporting-families", problems_at_entry=NEEDS3, members=adult_only)
    assert not d.eligible
    assert "NO_DEPENDENT_CHILD_OR_EXPECTANT_PARENT" in [r.code for r in d.identification]
    expecting = [{"person_id": "A1", "date_of_birth": "1985-01-01", "expectant": True}]
    assert run(
        "2022-12-31", "supporting-families", problems_at_entry=NEEDS3, members=expecting
    ).eligible


def test_dependent_child_is_under_18_on_the_attachment_day() -> None:
    # C1 turns 18 on 2022-01-15 = the attachment day: no longer a dependent child
    eighteen = [
        {"person_id": "A1", "date_of_birth": "1985-01-01"},
        {"person_id": "C1", "date_of_birth": "2004-01-15"},
    ]
    assert not run(
        "2022-12-31", "supporting-families", problems_at_entry=NEEDS3, members=eighteen
    ).eligible
    eighteen[1]["date_of_birth"] = "2004-01-16"
    assert run(
        "2022-12-31", "supporting-families", problems_at_entry=NEEDS3, members=eighteen
    ).eligible
    under_16 = SUPPORTING_FAMILIES.with_interpretations(dependent_child="under_16")
    family = pbr.Family.model_validate(
        record("supporting-families", problems_at_entry=NEEDS3, members=eighteen)
    )
    assert not pbr.evaluate(family, as_of=date(2022, 12, 31), rules=under_16).eligible


# --- only the programme's own problems count (a 2014/15 record stating no programme) -------------

EARLY: dict[str, Any] = {
    "attached_on": "2014-06-02",
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2014-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2014-06-09"}],
}


def early(problems: list[str], as_of: str = "2015-01-01", rules: Any = PHASE_TWO) -> Decision:
    """A 2014/15 record stating no programme (phase one or two), evaluated under `rules`."""
    listed = [{"problem": p} for p in problems]
    family = pbr.Family.model_validate(record(None, problems_at_entry=listed, **EARLY))
    return pbr.evaluate(family, as_of=date.fromisoformat(as_of), rules=rules)


P2_LIST = "crime_asb, education, children_need_help, work, domestic_abuse, health"


def test_phase_two_does_not_count_another_programme_s_problems() -> None:
    # housing and substance_use are Supporting Families needs, not phase two problems: the
    # family was eligible and paid £800 for continuous employment
    d = early(["housing", "substance_use"])
    assert not d.eligible
    assert d.payable == 0
    assert d.identified_for == ()
    assert [r.code for r in d.identification] == ["TOO_FEW_PROBLEMS_AT_ENTRY", "NOT_ELIGIBLE"]
    assert d.identification[0].compared == {
        "problems": 0,
        "needed": 2,
        "listed": "",
        "not_counted": "housing, substance_use",
    }
    assert d.identification[0].message.startswith("0 problems of tf-phase-2 at entry (none ")
    (warning,) = [w for w in d.warnings if w.code == "PROBLEMS_NOT_IN_PROGRAMME"]
    assert warning.compared == {"ignored": "housing, substance_use", "programme_problems": P2_LIST}
    assert f"lists housing, substance_use, not problems of tf-phase-2 ({P2_LIST})" in (
        warning.message
    )


@pytest.mark.parametrize(
    ("problems", "eligible", "counted"),
    [
        (["health", "housing"], False, 1),  # one of its own: one short
        (["domestic_abuse", "health", "housing"], True, 2),  # two of its own: enough
    ],
)
def test_phase_two_counts_its_own_problems_at_the_boundary(
    problems: list[str], eligible: bool, counted: int
) -> None:
    d = early(problems)
    assert d.eligible is eligible
    assert d.identification[0].compared["problems"] == counted
    assert d.identification[0].compared["not_counted"] == "housing"
    assert "PROBLEMS_NOT_IN_PROGRAMME" in [w.code for w in d.warnings]
    if eligible:  # judged against its own problems only: housing is not a plan outcome's
        assert d.identified_for == ("domestic_abuse", "health")
        assert "PROBLEM_NOT_IN_PLAN" not in codes(d, SP)
        assert d.payable == Decimal("800.00")  # employment: 13 weeks from 2014-06-09


def test_only_its_own_problems_give_no_warning() -> None:
    d = early(["domestic_abuse", "health"])
    assert d.eligible
    assert "not_counted" not in d.identification[0].compared
    assert "PROBLEMS_NOT_IN_PROGRAMME" not in [w.code for w in d.warnings]


def test_supporting_families_does_not_count_another_programme_s_problems() -> None:
    # A council's own Supporting Families rule set covering 2014/15 attachments: the record
    # states no programme, so it may list phase two's problems (work, children_need_help)
    text = (
        (Path(pbr.rules.__file__).parent / "supporting_families.toml")
        .read_text(encoding="utf-8")
        .replace("attached_from = 2021-04-01", "attached_from = 2014-04-01")
        .replace('"2021/22"', '"2014/15"')
    )
    own = pbr.rules.load_rule_set(text, origin="council-sf.toml")
    d = early(["children_need_help", "health", "housing", "work"], rules=own)
    assert not d.eligible  # two needs of its own, three needed
    assert d.identified_for == ("health", "housing")
    assert d.identification[0].compared == {
        "problems": 2,
        "needed": 3,
        "listed": "health, housing",
        "not_counted": "children_need_help, work",
    }
    (warning,) = [w for w in d.warnings if w.code == "PROBLEMS_NOT_IN_PROGRAMME"]
    assert warning.compared["ignored"] == "children_need_help, work"
    assert "not needs of supporting-families (education, early_years," in warning.message
    three = early(["children_need_help", "health", "housing", "substance_use"], rules=own)
    assert three.eligible
    assert three.identified_for == ("health", "substance_use", "housing")


# --- programme edges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attached", "version"),
    [
        ("2015-03-31", "tf-phase-1/1.0"),
        ("2015-04-01", "tf-phase-2/1.0"),
        ("2021-03-31", "tf-phase-2/1.0"),
        ("2021-04-01", "supporting-families/1.0"),
        ("2025-03-31", "supporting-families/1.0"),
    ],
)
def test_programme_by_attachment_date(attached: str, version: str) -> None:
    family = pbr.Family.model_validate(record(None, attached_on=attached))
    assert pbr.rule_set_for(family).rules_version == version


def test_after_supporting_families_nothing_applies() -> None:
    family = pbr.Family.model_validate(record(None, attached_on="2025-04-01"))
    with pytest.raises(pbr.OutsideProgramme, match="2025-04-01"):
        pbr.rule_set_for(family)


def test_early_starters_in_2014_15_are_phase_two_when_the_record_says_so() -> None:
    stated = pbr.Family.model_validate(record("tf-phase-2", attached_on="2014-04-01"))
    assert pbr.rule_set_for(stated) is PHASE_TWO
    assert pbr.evaluate(stated, as_of=date(2015, 3, 31)).attachment_fee == Decimal("1000.00")
    unstated = pbr.Family.model_validate(record(None, attached_on="2014-04-01"))
    assert pbr.rule_set_for(unstated) is PHASE_ONE
    too_early = pbr.Family.model_validate(record("tf-phase-2", attached_on="2014-03-31"))
    with pytest.raises(pbr.OutsideProgramme):
        pbr.rule_set_for(too_early)


def test_money_per_programme() -> None:
    p2 = run("2016-12-31")
    assert (p2.attachment_fee, p2.cap) == (Decimal("1000.00"), Decimal("1800.00"))
    sf = run("2022-12-31", "supporting-families", problems_at_entry=NEEDS3)
    assert (sf.attachment_fee, sf.cap) == (Decimal("0.00"), Decimal("800.00"))
    stopped = PHASE_TWO.with_interpretations(attachment_fees_after_2017_18="stopped")
    for attached, fee, cap in (
        ("2018-03-31", "1000.00", "1800.00"),
        ("2018-04-01", "0.00", "800.00"),  # no fee: the cap is the results payment
    ):
        family = pbr.Family.model_validate(record(attached_on=attached, **WORKING_2018))
        d = pbr.evaluate(family, as_of=date(2019, 1, 1), rules=stopped)
        assert (d.attachment_fee, d.cap, d.payable) == (Decimal(fee), Decimal(cap), Decimal(800))
        assert f"attachment fee £{Decimal(fee):,}; cap £{Decimal(cap):,}" in d.explain()
    terms = programme_terms(stopped)
    later = terms.year(FinancialYear(2018))
    assert (later.attachment_fee, later.cap, later.results_share) == tuple(
        map(Decimal, (0, 800, 800))
    )
    assert terms.year(FinancialYear(2017)).cap == Decimal("1800.00")


FEE_PAID = [{"kind": "attachment_fee", "amount": "1000.00", "paid_on": "2018-07-01"}]


def test_a_fee_listed_where_the_rules_pay_none_is_refused_not_counted() -> None:
    # Counted against a cap that is the results payment alone, a fee listed as paid took the
    # whole £800 (CAP_REACHED) where the same family without it is paid £800.
    stopped = PHASE_TWO.with_interpretations(attachment_fees_after_2017_18="stopped")
    paid = pbr.Family.model_validate(
        record(attached_on="2018-06-01", payments=FEE_PAID, **WORKING_2018)
    )
    assert pbr.evaluate(paid, as_of=date(2019, 6, 1)).payable == Decimal("800.00")  # `continue`
    with pytest.raises(
        pbr.OutsideProgramme, match=r"under attachment_fees_after_2017_18 = stopped\)"
    ) as e:
        pbr.evaluate(paid, as_of=date(2019, 6, 1), rules=stopped)
    assert (e.value.field, e.value.value) == ("payments.0.kind", "attachment_fee")
    assert "employment_weeks" not in str(e.value)  # only the interpretations chosen are named
    earlier = paid.model_copy(update={"attached_on": date(2018, 3, 31)})  # 2017/18: a fee is due
    assert pbr.evaluate(earlier, as_of=date(2019, 6, 1), rules=stopped).attachment_fee == 1000
    text = json.dumps(record(attached_on="2018-06-01", payments=FEE_PAID, **WORKING_2018))
    (answer,) = pbr.evaluate_many(
        [text], as_of=date(2019, 6, 1), interpretations={"attachment_fees_after_2017_18": "stopped"}
    )
    assert isinstance(answer, pbr.Rejection)
    assert [(e.type, e.loc) for e in answer.errors] == [
        ("payment_not_in_programme", "payments.0.kind")
    ]


@pytest.mark.parametrize(
    ("attached", "choice", "fee", "source"),
    [
        ("2019-04-01", "continue", "1000.00", "S31, S34"),  # the 2019/20 entry's own
        ("2018-04-01", "stopped", "0.00", "S36, S25"),  # the none `stopped` chose
        ("2018-03-31", "stopped", "1000.00", "S31, S34, S35, S25"),
    ],
)
def test_evaluated_before_attachment_cites_the_fee_the_interpretation_chose(
    attached: str, choice: str, fee: str, source: str
) -> None:
    # under `stopped` the warning said fee 0.00 but cited the £1,000 fee's sources
    rules = PHASE_TWO.with_interpretations(attachment_fees_after_2017_18=choice)
    family = pbr.Family.model_validate(record(attached_on=attached))
    d = pbr.evaluate(family, as_of=date(2018, 1, 1), rules=rules)
    (w,) = [w for w in d.warnings if w.code == "EVALUATED_BEFORE_ATTACHMENT"]
    assert (w.compared["attachment_fee"], w.source) == (fee, source)
    due = "nothing is due yet"
    ending = f"{due}, not even the attachment fee of {fee}" if Decimal(fee) else due
    assert w.message == f"as of 2018-01-01 is before attachment on {attached}: {ending}"


@pytest.mark.parametrize(
    ("programme", "attached", "as_of", "message", "fee", "source"),
    [
        # no fee is due at attachment: it said "not even the attachment fee of 0.00"
        (
            "supporting-families",
            "2022-06-01",
            "2022-05-31",
            "as of 2022-05-31 is before attachment on 2022-06-01: nothing is due yet",
            "0.00",
            "S41",
        ),
        (
            "tf-phase-1",
            "2012-10-15",
            "2012-10-14",
            "as of 2012-10-14 is before attachment on 2012-10-15: nothing is due yet, not even "
            "the attachment fee of 3200.00",
            "3200.00",
            "S2, S1",
        ),
    ],
)
def test_evaluated_before_attachment_names_a_fee_only_where_one_is_due(
    programme: str, attached: str, as_of: str, message: str, fee: str, source: str
) -> None:
    fields: dict[str, Any] = {"family_id": "B1", "programme": programme, "attached_on": attached}
    fields["members"] = [{"person_id": "A1", "date_of_birth": "1985-01-01"}]
    d = pbr.evaluate(pbr.Family.model_validate(fields), as_of=date.fromisoformat(as_of))
    (w,) = [w for w in d.warnings if w.code == "EVALUATED_BEFORE_ATTACHMENT"]
    assert (w.message, w.source) == (message, source)
    assert w.compared == {"as_of": as_of, "attached_on": attached, "attachment_fee": fee}


def test_supporting_families_pays_no_attachment_fee_so_none_may_be_listed() -> None:
    sf = record("supporting-families", payments=[{"kind": "attachment_fee", "amount": "500.00"}])
    with pytest.raises(pydantic.ValidationError, match=r"families \(it pays no attachment fee\)"):
        pbr.Family.model_validate(sf)
    assert "attachment_fee" not in pbr.programmes.programme("supporting-families").payment_kinds
    # the record states no programme: the one covering its attachment (2022) decides
    del sf["programme"]
    with pytest.raises(pydantic.ValidationError, match="not a payment of supporting-families"):
        pbr.Family.model_validate(sf)


WORKING_2018: dict[str, Any] = {
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2017-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2018-05-01"}],
}


# --- sustain periods, to the day ----------------------------------------------------------------

# attached 2016-01-15; the example plan: no domestic-abuse call-out in 6 months, no health crisis
# in 26 weeks. 6 months after attachment = 2016-07-15; 26 weeks = 2016-07-15 as well (182 days).


def test_six_month_period_starts_the_day_after_attachment() -> None:
    short = run("2016-07-14")
    assert short.results[SP].status == "not_met"
    assert "SUSTAIN_PERIOD_INCOMPLETE" in codes(short, SP)
    assert short.results[SP].earliest_date == date(2016, 7, 15)
    met = run("2016-07-15")
    assert met.results[SP].status == "met"
    assert met.results[SP].amount == Decimal("800.00")
    assert met.payable == Decimal("800.00")


@pytest.mark.parametrize(
    ("as_of", "begins"),
    [
        ("2016-08-28", "(2016-02-28, 2016-08-28] begins on 2016-02-29, before attachment on "),
        ("2016-08-30", "(2016-02-29, 2016-08-30] begins on the attachment day, 2016-03-01;"),
        ("2016-08-31", "(2016-02-29, 2016-08-31] begins on the attachment day, 2016-03-01;"),
        ("2016-09-01", None),
    ],
)
def test_an_incomplete_period_says_on_which_day_it_begins(as_of: str, begins: str | None) -> None:
    # "(2016-02-29, 2016-08-31] starts before attachment on 2016-03-01": its first day is the
    # attachment day itself, which the period must lie after
    d = run(as_of, attached_on="2016-03-01")
    incomplete = [
        r
        for r in d.results[SP].reasons
        if r.code == "SUSTAIN_PERIOD_INCOMPLETE" and r.compared["measure"] == "no_da_callout"
    ]
    if begins is None:
        assert incomplete == []
        return
    (r,) = incomplete
    assert begins in r.message
    assert r.message.endswith(
        "it must lie wholly after the attachment day, so the earliest date is 2016-09-01"
    )


def test_an_event_inside_the_period_fails_and_one_just_outside_does_not() -> None:
    callout = {"indicator": "police_callout_domestic_abuse", "date": "2016-01-16"}
    inside = run("2016-07-15", observations=[callout])
    assert inside.results[SP].status == "not_met"
    assert "MEASURE_NOT_MET" in codes(inside, SP)
    outside = run("2016-07-16", observations=[callout])
    assert outside.results[SP].status == "met"


def test_weeks_period_to_the_day() -> None:
    plan = parse_plan(
        {
            "id": "weeks",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {
                    "problem": p,
                    "measures": [
                        {
                            "id": "q",
                            "indicator": "x",
                            "comparison": "==",
                            "threshold": 0,
                            "sustain_weeks": 13,
                        }
                    ],
                }
                for p in ("domestic_abuse", "health")
            ],
        }
    )
    family = pbr.Family.model_validate(record())
    day_before = pbr.evaluate(family, as_of=date(2016, 4, 14), plan=plan)
    assert day_before.results[SP].earliest_date == date(2016, 4, 15)
    assert pbr.evaluate(family, as_of=date(2016, 4, 15), plan=plan).results[SP].status == "met"


TERMS = [
    {
        "person_id": "C1",
        "academic_year": y,
        "term": t,
        "possible_sessions": 100,
        "unauthorised_absences": 9,
    }
    for y, t in (("2016/17", "autumn"), ("2016/17", "spring"), ("2016/17", "summer"))
]


def education_run(
    as_of: str,
    rows: list[dict[str, Any]],
    attached: str = "2016-08-31",
    rules: pbr.rules.RuleSet | None = None,
) -> Decision:
    return run(
        as_of,
        rules=rules,
        attached_on=attached,
        members=[
            {"person_id": "A1", "date_of_birth": "1985-01-01"},
            {"person_id": "C1", "date_of_birth": "2008-03-01"},
        ],
        problems_at_entry=[{"problem": "education"}, {"problem": "work"}],
        observations=[{"indicator": "progress_to_work_step", "date": "2017-07-01"}],
        school_terms=rows,
    )


def test_three_terms_complete_on_the_last_day_of_the_third() -> None:
    assert education_run("2017-07-30", TERMS).results[SP].earliest_date == date(2017, 7, 31)
    assert education_run("2017-07-31", TERMS).results[SP].status == "met"


def test_a_term_starting_on_the_attachment_day_does_not_count() -> None:
    d = education_run("2017-07-31", TERMS, attached="2016-09-01")
    assert d.results[SP].status == "not_met"
    assert d.results[SP].earliest_date == date(2017, 12, 31)
    # the three terms' period begins with the autumn term, on the attachment day
    (r, *_) = [x for x in d.results[SP].reasons if x.code == "SUSTAIN_PERIOD_INCOMPLETE"]
    assert "(2016-08-31, 2017-07-31] begins on the attachment day, 2016-09-01" in r.message


@pytest.mark.parametrize(("rows", "code"), [(TERMS, "MEASURE_MET"), ([], "MEASURE_NO_EVIDENCE")])
def test_a_measure_over_terms_names_a_council_term_calendar(
    rows: list[dict[str, Any]], code: str
) -> None:
    # a council's term dates move a period of terms, yet no reason said which calendar was used
    council = pbr.TermCalendar(
        {("2016/17", "summer"): (date(2017, 4, 18), date(2017, 7, 21))}, name="council"
    )
    plain = education_run("2017-07-31", rows)
    shown = [r for r in plain.results[SP].reasons if r.compared.get("period") == "3 terms"]
    assert shown
    assert all("term_calendar" not in r.compared for r in shown)
    d = education_run("2017-07-31", rows, rules=PHASE_TWO.with_term_calendar(council))
    termed = [r for r in d.results[SP].reasons if r.compared.get("period") == "3 terms"]
    assert code in {r.code for r in termed}
    for r in termed:
        assert r.compared["term_calendar"] == "council"
        assert r.compared["window_to"] == "2017-07-21"
        assert r.message.endswith("2017-07-21] (council term calendar)"), r.message
    # a period of months does not read the terms' dates: no calendar named
    months = [r for r in d.results[SP].reasons if r.compared.get("period") not in (None, "3 terms")]
    assert months
    assert all("term_calendar" not in r.compared for r in months)
    assert "term_calendar=council" in d.explain()


TERM_READING_PLAN = parse_plan(
    {
        "id": "terms-read",
        "version": "1",
        "programme": "tf-phase-2",
        "outcomes": [
            {
                "problem": "education",
                "measures": [
                    {
                        "id": "abs_months",
                        "indicator": "unauthorised_absence_percent",
                        "aggregate": "rate",
                        "comparison": "<",
                        "threshold": 10,
                        "sustain_months": 3,
                    },
                    {
                        "id": "excl_terms",
                        "indicator": "fixed_term_exclusions",
                        "comparison": "<=",
                        "threshold": 1,
                        "sustain_terms": 1,
                    },
                ],
            },
            {
                "problem": "domestic_abuse",
                "measures": [
                    {
                        "id": "da_days",
                        "indicator": "police_callout_domestic_abuse",
                        "comparison": "==",
                        "threshold": 0,
                        "sustain_days": 90,
                    }
                ],
            },
        ],
    }
)
"""A month period over a school-term indicator, a term period, and a day period of another."""


def term_reading_run(
    attached: str, as_of: str, years: tuple[str, ...], calendar: pbr.TermCalendar = COUNCIL_2016
) -> Decision:
    """A family with a child's rows for every term of `years`, judged on `TERM_READING_PLAN`."""
    rows = [
        {
            "person_id": "C1",
            "academic_year": y,
            "term": t,
            "possible_sessions": 100,
            "unauthorised_absences": 0,
            "fixed_term_exclusions": 0,
        }
        for y in years
        for t in ("autumn", "spring", "summer")
    ]
    family = pbr.Family.model_validate(
        record(
            "tf-phase-2",
            attached_on=attached,
            members=[
                {"person_id": "A1", "date_of_birth": "1984-05-01"},
                {"person_id": "C1", "date_of_birth": "2008-01-01"},
            ],
            problems_at_entry=[{"problem": "education"}, {"problem": "domestic_abuse"}],
            school_terms=rows,
        )
    )
    return pbr.evaluate(
        family,
        as_of=date.fromisoformat(as_of),
        rules=PHASE_TWO.with_term_calendar(calendar),
        plan=TERM_READING_PLAN,
    )


def measured(d: Decision) -> dict[str, pbr.Reason]:
    """The reason of each plan measure, by its id."""
    return {str(r.compared["measure"]): r for r in d.results[SP].reasons if "measure" in r.compared}


def test_a_council_calendar_is_not_named_when_no_term_it_overrides_is_read() -> None:
    # the council's dates are for 2016/17 only: 2018/19's terms are the default ones, yet every
    # term-reading measure and the explanation's header named the council's calendar
    d = term_reading_run("2018-09-10", "2019-07-31", ("2018/19",))
    assert d.results[SP].status == "met"
    for r in measured(d).values():
        assert "term_calendar" not in r.compared, r.message
        assert "term calendar" not in r.message
    assert "School terms" not in d.explain()
    assert "term calendar" not in d.explain()


def test_an_incomplete_period_of_months_names_no_calendar() -> None:
    # a period of months begins on a day the terms' dates do not move: its earliest date does
    # not depend on them, though the message said "(council term calendar)"
    d = term_reading_run("2016-08-31", "2016-11-30", ("2015/16", "2016/17"))
    by_id = measured(d)
    months = by_id["abs_months"]
    assert months.code == "SUSTAIN_PERIOD_INCOMPLETE"
    assert months.compared["earliest"] == "2016-12-01"
    assert "term_calendar" not in months.compared
    assert months.message.endswith("the earliest date is 2016-12-01"), months.message
    # a term period's earliest date is the council's autumn's last day: named
    terms = by_id["excl_terms"]
    assert terms.code == "SUSTAIN_PERIOD_INCOMPLETE"
    assert terms.compared["earliest"] == "2016-12-20"
    assert terms.compared["term_calendar"] == "council"
    assert terms.message.endswith("(council term calendar)"), terms.message


def test_a_council_calendar_is_named_when_a_term_it_overrides_is_read() -> None:
    d = term_reading_run("2016-09-02", "2017-07-31", ("2016/17",))
    by_id = measured(d)
    for measure in ("abs_months", "excl_terms"):
        r = by_id[measure]
        assert r.code == "MEASURE_MET", r.message
        assert r.compared["term_calendar"] == "council"
        assert r.message.endswith("(council term calendar)"), r.message
    assert "term_calendar" not in by_id["da_days"].compared  # reads no term
    assert "\nSchool terms: council term calendar (not the default dates)\n" in d.explain()


def test_a_council_calendar_is_named_when_its_dates_keep_a_term_out() -> None:
    # the council's autumn ends on 3 January: at 1 January the months read no autumn row,
    # though by the default dates they would have (it ended on 31 December)
    late = pbr.TermCalendar(
        {
            ("2016/17", "autumn"): (date(2016, 9, 1), date(2017, 1, 3)),
            ("2016/17", "spring"): (date(2017, 1, 4), date(2017, 3, 31)),  # after that autumn
        },
        name="council",
    )
    d = term_reading_run("2016-09-02", "2017-01-01", ("2016/17",), late)
    months = measured(d)["abs_months"]
    assert months.code == "MEASURE_NO_EVIDENCE", months.message
    assert months.compared["term_calendar"] == "council"


def test_absence_threshold_is_strict() -> None:
    at_ten = [dict(row, unauthorised_absences=10) for row in TERMS]
    d = education_run("2017-07-31", at_ten)
    assert d.results[SP].status == "not_met"
    reason = next(r for r in d.results[SP].reasons if r.compared.get("measure") == "attendance")
    assert (reason.code, reason.compared["value"]) == ("MEASURE_NOT_MET", "10")


def test_missing_evidence_fails_a_measure() -> None:
    d = education_run("2017-07-31", [])
    assert "MEASURE_NO_EVIDENCE" in codes(d, SP)


def test_problem_without_an_outcome_in_the_plan_fails() -> None:
    plan = example_plan("tf-phase-2").model_copy(
        update={"outcomes": example_plan("tf-phase-2").outcomes[:1]}
    )
    family = pbr.Family.model_validate(record())
    d = pbr.evaluate(family, as_of=date(2017, 1, 1), plan=plan)
    assert "PROBLEM_NOT_IN_PLAN" in codes(d, SP)
    assert d.results[SP].status == "not_met"


def test_the_example_plan_warns_and_a_council_plan_does_not() -> None:
    family = pbr.Family.model_validate(record())
    assert [w.code for w in pbr.evaluate(family, as_of=date(2017, 1, 1)).warnings] == [
        "EXAMPLE_PLAN_USED"
    ]
    own = example_plan("tf-phase-2").model_copy(update={"id": "county-tfop", "version": "3"})
    d = pbr.evaluate(family, as_of=date(2017, 1, 1), plan=own)
    assert d.warnings == ()
    assert d.outcome_plan == "county-tfop/3"


def test_a_plan_for_another_programme_is_refused() -> None:
    family = pbr.Family.model_validate(record())
    with pytest.raises(pbr.PlanError, match="supporting-families"):
        pbr.evaluate(family, as_of=date(2017, 1, 1), plan=example_plan("supporting-families"))
    phase_one = pbr.Family.model_validate(record(None, attached_on="2013-01-01"))
    with pytest.raises(pbr.PlanError, match="phase one, which has no outcome plan"):
        pbr.evaluate(phase_one, as_of=date(2014, 1, 1), plan=example_plan("tf-phase-2"))


# --- one claim per family -------------------------------------------------------------------------

WORKING: dict[str, Any] = {
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2015-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2016-02-01"}],
}


def test_both_routes_met_pays_once() -> None:
    d = run("2016-07-15", **WORKING)
    assert d.results[SP].amount == Decimal("800.00")
    assert d.results[CE].status == "met"
    assert d.results[CE].amount == 0
    assert codes(d, CE)[-1] == "ONE_CLAIM_PER_FAMILY"
    assert d.payable == Decimal("800.00")


def test_employment_alone_pays_at_13_weeks_to_the_day() -> None:
    callout = [{"indicator": "police_callout_domestic_abuse", "date": "2016-03-01"}]
    short = run("2016-05-01", observations=callout, **WORKING)
    assert short.results[CE].earliest_date == date(2016, 5, 2)
    assert short.payable == 0
    d = run("2016-05-02", observations=callout, **WORKING)
    assert (d.results[CE].status, d.results[CE].amount) == ("met", Decimal("800.00"))


def test_employment_days_are_counted_as_the_weeks_are() -> None:
    # "In work since 2016-03-07: 90 days" on 2016-06-05, when 13 weeks are reached on 2016-06-06:
    # the weeks count days after the start (91), and so do the days shown
    working: dict[str, Any] = {
        "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2015-01-01"}],
        "employment_spells": [{"person_id": "A1", "start": "2016-03-07"}],
    }
    short = run("2016-06-05", attached_on="2016-03-01", **working)
    (r,) = short.results[CE].reasons
    assert r.code == "EMPLOYMENT_TOO_SHORT"
    assert r.message == (
        "adult A1 in work since 2016-03-07: 90 days after the start; 13 weeks (91 days after the "
        "start) would be reached on 2016-06-06"
    )
    assert (r.compared["days_worked"], r.compared["reached_on"]) == (90, "2016-06-06")
    met = run("2016-06-06", attached_on="2016-03-01", **working)
    assert met.results[CE].reasons[0].code == "CONTINUOUS_EMPLOYMENT_REACHED"
    ended: dict[str, Any] = {
        **working,
        "employment_spells": [{**working["employment_spells"][0], "end": "2016-06-05"}],
    }
    (cut,) = run("2016-06-05", attached_on="2016-03-01", **ended).results[CE].reasons
    assert cut.message == (
        "adult A1 in work since 2016-03-07: 90 days after the start; the run ends on 2016-06-05, "
        "before 13 weeks (91 days after the start) would be reached on 2016-06-06"
    )


def test_one_claim_says_what_is_true_when_the_cap_leaves_nothing() -> None:
    # both routes met, the cap used up by a fee listed at £1,800: sustained progress pays £0
    # (CAP_REACHED), and employment said the one claim was sustained progress "(payable now)"
    fee = [{"kind": "attachment_fee", "amount": "1800.00", "paid_on": "2016-01-20"}]
    d = run("2016-07-15", payments=fee, **WORKING)
    assert d.results[SP].amount == 0
    assert d.payable == 0
    assert codes(d, SP)[-1] == "CAP_REACHED"
    taken = d.results[CE].reasons[-1]
    assert taken.code == "ONE_CLAIM_PER_FAMILY"
    assert taken.message == (
        "the family's one results claim is sustained_progress (met now, but the 1800.00 cap "
        "leaves nothing to pay), so continuous_employment pays nothing"
    )
    paying = run("2016-07-15", **WORKING).results[CE].reasons[-1]
    assert "(payable now)" in paying.message


def test_a_paid_result_stops_every_other_claim() -> None:
    paid = [{"kind": "continuous_employment", "amount": "800.00", "paid_on": "2016-06-01"}]
    d = run("2016-07-15", payments=paid, **WORKING)
    assert d.results[CE].status == "already_paid"
    assert d.results[SP].amount == 0
    assert "ONE_CLAIM_PER_FAMILY" in codes(d, SP)
    assert d.payable == 0


def test_a_route_listed_as_paid_0_does_not_use_up_the_one_claim() -> None:
    # the record lists continuous employment paid £0 (claim C0): sustained progress was met
    # but paid £0 with ONE_CLAIM_PER_FAMILY "(paid)"
    zero = [{"kind": "continuous_employment", "amount": "0.00", "claim_id": "C0"}]
    d = run("2016-11-01", attached_on="2016-03-01", payments=zero)
    assert (d.results[SP].status, d.results[SP].amount) == ("met", Decimal("800.00"))
    assert "ONE_CLAIM_PER_FAMILY" not in codes(d, SP)
    assert d.results[CE].status == "not_met"  # judged on the evidence, not `already_paid`
    assert d.payable == Decimal("800.00")
    assert d.paid_to_date == 0


SF_2024: dict[str, Any] = {
    "attached_on": "2024-06-03",
    "problems_at_entry": [{"problem": "housing"}, {"problem": "health"}, {"problem": "crime"}],
}


@pytest.mark.parametrize(("as_of", "closed"), [("2025-03-31", False), ("2025-04-01", True)])
def test_supporting_families_results_claims_close_on_31_march_2025(
    as_of: str, closed: bool
) -> None:
    d = run(as_of, "supporting-families", **SF_2024)
    assert (d.results[SP].status, d.payable) == ("met", Decimal("800.00"))  # still shown
    warned = [w for w in d.warnings if w.code == "RESULTS_CLAIMS_CLOSED"]
    assert bool(warned) is closed
    if closed:
        (w,) = warned
        assert (w.rule, w.source) == ("payment.claims_closed", "S39")
        assert w.compared == {"payable": "800.00", "as_of": as_of, "claims_until": "2025-03-31"}


def test_employment_route_always_is_open_to_the_last_day_for_claims_only() -> None:
    # `always` said "open for every claim to March 2025", yet a claim evaluated in 2026 was met
    # at £800 with no word that no claim could then be made
    always = SUPPORTING_FAMILIES.with_interpretations(employment_route="always")
    record_ = record(
        "supporting-families",
        **SF_2024,
        benefit_spells=[{"person_id": "A1", "benefit": "UC", "start": "2024-01-01"}],
        employment_spells=[{"person_id": "A1", "start": "2024-06-10"}],
        observations=[{"indicator": "eviction_notice", "date": "2026-01-01"}],
    )
    family = pbr.Family.model_validate(record_)
    late = pbr.evaluate(family, as_of=date(2026, 6, 1), rules=always)
    assert (late.results[CE].status, late.payable) == ("met", Decimal("800.00"))
    assert "RESULTS_CLAIMS_CLOSED" in [w.code for w in late.warnings]
    in_time = pbr.evaluate(family, as_of=date(2025, 3, 31), rules=always)
    assert (in_time.results[CE].status, in_time.payable) == ("met", Decimal("800.00"))
    assert "RESULTS_CLAIMS_CLOSED" not in [w.code for w in in_time.warnings]


IN_WORK_2022: dict[str, Any] = {  # route closed: employment counts only through the plan
    "attached_on": "2022-06-01",
    "problems_at_entry": [
        {"problem": "financial_stability"},
        {"problem": "housing"},
        {"problem": "health"},
    ],
    "benefit_spells": [
        {"person_id": "A1", "benefit": "UC", "start": "2021-01-01", "end": "2022-06-05"}
    ],
    "employment_spells": [{"person_id": "A1", "start": "2022-06-06"}],
}


def test_closed_route_says_when_recorded_work_reaches_no_plan_measure() -> None:
    # employment_spells counted for nothing once the route closed, and nothing said so
    d = run("2023-06-01", "supporting-families", **IN_WORK_2022)
    assert (d.results[SP].status, d.payable) == ("not_met", Decimal(0))
    (closed,) = d.results[CE].reasons
    assert closed.code == "EMPLOYMENT_ROUTE_CLOSED"
    assert closed.compared == {
        "as_of": "2023-06-01",
        "employment_route": "claims_to_march_2022",
        "employment_spells_not_read": "A1",
        "measures_without_evidence": "no_arrears (rent_arrears_pounds), in_work (adult_in_work)",
    }
    assert "record the work as the observations the plan reads" in closed.message


@pytest.mark.parametrize(("value", "met"), [(1, True), (0, False)])
def test_work_recorded_as_adult_in_work_counts_through_the_example_plan(
    value: int, met: bool
) -> None:
    """docs/programmes.md: a council records work as `adult_in_work` observations."""
    seen = [{"indicator": "adult_in_work", "date": "2023-05-01", "value": value}]
    d = run("2023-06-01", "supporting-families", observations=seen, **IN_WORK_2022)
    assert d.results[SP].status == ("met" if met else "not_met")
    assert d.payable == (Decimal("800.00") if met else 0)
    (closed,) = d.results[CE].reasons
    # met: nothing to point at; not met (in work 0): only no_arrears lacks evidence
    assert closed.compared.get("measures_without_evidence") == (
        None if met else "no_arrears (rent_arrears_pounds)"
    )


def test_no_note_without_work_since_attachment_or_with_the_route_open() -> None:
    before = {
        **IN_WORK_2022,
        "employment_spells": [{"person_id": "A1", "start": "2021-01-01", "end": "2022-05-31"}],
    }
    d = run("2023-06-01", "supporting-families", **before)
    assert "employment_spells_not_read" not in d.results[CE].reasons[0].compared
    never = SUPPORTING_FAMILIES.with_interpretations(employment_route="never")
    family = pbr.Family.model_validate(record("supporting-families", **IN_WORK_2022))
    d = pbr.evaluate(family, as_of=date(2023, 6, 1), rules=never)
    assert d.results[CE].reasons[0].compared["employment_spells_not_read"] == "A1"
    always = SUPPORTING_FAMILIES.with_interpretations(employment_route="always")
    d = pbr.evaluate(family, as_of=date(2023, 6, 1), rules=always)
    assert d.results[CE].status == "met"  # the route open: the spells are read


def test_phase_two_has_no_last_day_for_claims_a_known_gap() -> None:
    """No listed source gives phase two's claim windows (docs/programmes.md, known gaps)."""
    d = run("2030-06-01", attached_on="2016-03-01")
    assert d.payable == Decimal("800.00")
    assert "RESULTS_CLAIMS_CLOSED" not in [w.code for w in d.warnings]


def test_supporting_families_employment_route_by_claim_date() -> None:
    sf = {"problems_at_entry": NEEDS3, **WORKING}
    sf["benefit_spells"] = [{"person_id": "A1", "benefit": "UC", "start": "2021-01-01"}]
    sf["employment_spells"] = [{"person_id": "A1", "start": "2021-06-01"}]
    sf_observe = [{"indicator": "eviction_notice", "date": "2022-03-01"}]
    open_ = run(
        "2022-03-31", "supporting-families", attached_on="2021-05-01", observations=sf_observe, **sf
    )
    assert open_.results[CE].status == "met"
    closed = run(
        "2022-04-01", "supporting-families", attached_on="2021-05-01", observations=sf_observe, **sf
    )
    assert closed.results[CE].status == "not_applicable"
    assert codes(closed, CE) == ["EMPLOYMENT_ROUTE_CLOSED"]
    always = SUPPORTING_FAMILIES.with_interpretations(employment_route="always")
    family = pbr.Family.model_validate(
        record("supporting-families", attached_on="2021-05-01", observations=sf_observe, **sf)
    )
    assert pbr.evaluate(family, as_of=date(2022, 4, 1), rules=always).results[CE].status == "met"


# --- plan files -----------------------------------------------------------------------------------

GOOD = """
id = "county"
version = "2"
programme = "tf-phase-2"
[[outcomes]]
problem = "health"
  [[outcomes.measures]]
  id = "no_crisis"
  indicator = "health_crisis_contact"
  comparison = "=="
  threshold = 0
  sustain_months = 6
"""


def test_plan_files_in_toml_json_and_yaml_agree(tmp_path: Path) -> None:
    import json
    import tomllib

    import yaml

    data = tomllib.loads(GOOD)
    (tmp_path / "p.toml").write_text(GOOD)
    (tmp_path / "p.json").write_text(json.dumps(data))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    plans = [load_plan(tmp_path / f"p.{ext}") for ext in ("toml", "json", "yaml")]
    assert plans[0] == plans[1] == plans[2]
    assert plans[0].label == "county/2"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('comparison = "=="', "measure 'no_crisis': comparison: Input should be"),
        ("threshold = 0", "measure 'no_crisis': threshold: expected a whole number"),
        ("sustain_months = 6", "measure 'no_crisis': give exactly one of"),
        ('indicator = "health_crisis_contact"', "measure 'no_crisis': indicator"),
        ('problem = "health"', "outcomes[0] (cooking): problem"),
        ('programme = "tf-phase-2"', "programme: Input should be"),
    ],
)
def test_a_broken_plan_names_the_measure_and_field(
    tmp_path: Path, change: str, expected: str
) -> None:
    broken = {
        'comparison = "=="': 'comparison = "=<"',
        "threshold = 0": 'threshold = "none"',
        "sustain_months = 6": "sustain_months = 6\n  sustain_days = 3",
        'indicator = "health_crisis_contact"': 'indicator = "Health Crisis"',
        'problem = "health"': 'problem = "cooking"',
        'programme = "tf-phase-2"': 'programme = "tf-phase-9"',
    }[change]
    path = tmp_path / "plan.toml"
    path.write_text(GOOD.replace(change, broken))
    with pytest.raises(pbr.PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert message.startswith(f"{path}: plan 'county': ")
    assert expected in message


def test_unreadable_and_unknown_plan_files(tmp_path: Path) -> None:
    with pytest.raises(pbr.PlanError, match="cannot read"):
        load_plan(tmp_path / "missing.toml")
    (tmp_path / "plan.txt").write_text(GOOD)
    with pytest.raises(pbr.PlanError, match=r"\.toml, \.json, \.yaml"):
        load_plan(tmp_path / "plan.txt")
    (tmp_path / "bad.toml").write_text("id = ")
    with pytest.raises(pbr.PlanError, match="not valid TOML"):
        load_plan(tmp_path / "bad.toml")


def test_every_example_plan_covers_its_programme_vocabulary() -> None:
    from typing import get_args

    from pbr.records import FamilyNeed, PhaseTwoProblem

    assert {o.problem for o in example_plan("tf-phase-2").outcomes} == set(
        get_args(PhaseTwoProblem)
    )
    assert {o.problem for o in example_plan("supporting-families").outcomes} == set(
        get_args(FamilyNeed)
    )


def test_phase_one_identified_for_is_refused_or_flagged_in_later_programmes() -> None:
    with pytest.raises(
        pydantic.ValidationError, match="identified_for is phase one's problem list"
    ):
        pbr.Family.model_validate(record(identified_for=["work"]))
    unstated = run("2016-12-31", None, identified_for=["work"])
    assert unstated.programme == "tf-phase-2"
    assert [w.code for w in unstated.warnings][:1] == ["IDENTIFIED_FOR_IGNORED"]
    assert unstated.eligible  # eligibility still comes from problems_at_entry


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("p.json", '{"id": "j", "version": "1", "id": "k"}'),
        ("p.yaml", "id: j\nversion: '1'\nid: k\n"),
        ("p.toml", 'id = "j"\nversion = "1"\nid = "k"\n'),
    ],
)
def test_a_plan_key_given_twice_is_refused_in_every_format(
    tmp_path: Path, name: str, text: str
) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(pbr.PlanError, match=r"given twice|Cannot overwrite"):
        load_plan(path)


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ("id: p\nversion: '1'\nprogramme: tf-phase-2\nextra: &m {x: *m}\n", 4, "anchors (&m)"),
        ("id: &i p\nversion: '1'\n", 1, "anchors (&i)"),
        (
            "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
            "id: p\nversion: '1'\nprogramme: tf-phase-2\n",
            1,
            "anchors (&a)",
        ),
        ("id: p\nversion: '1'\n\ntitle: *nowhere\n", 4, "aliases (*nowhere)"),
    ],
    ids=["to-itself", "lone-anchor", "laughs", "undefined-alias"],
)
def test_a_yaml_plan_with_anchors_or_aliases_is_refused_before_it_is_built(
    tmp_path: Path, text: str, line: int, said: str
) -> None:
    """A few hundred bytes of nested aliases ("billion laughs") expand to millions of items and
    held the server (and the command) for seconds; a plan never needs them."""
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(pbr.PlanError) as info:
        load_plan(path)
    assert str(info.value) == (
        f"{path}: line {line}: YAML {said} are not read in a plan: write the value out"
    )


def test_a_yaml_billion_laughs_plan_is_refused_at_once(tmp_path: Path) -> None:
    """Six levels of ten: read, the outcomes would be a million items; refused, nothing."""
    import time

    pytest.importorskip("yaml")
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 6)
    ]
    text = [*levels, "id: bomb", "version: '1'", "programme: tf-phase-2", "outcomes: *a5", ""]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(text))
    started = time.perf_counter()
    with pytest.raises(pbr.PlanError, match="line 1: YAML anchors"):
        load_plan(path)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("programme", "problem"), [("tf-phase-2", "housing"), ("supporting-families", "crime_asb")]
)
def test_a_plan_names_only_its_own_programme_s_problems(programme: str, problem: str) -> None:
    measure = {
        "id": "m", "indicator": "eviction_notice", "comparison": "==", "threshold": 0,
        "sustain_months": 6,
    }  # fmt: skip
    plan = {"id": "p", "version": "1", "programme": programme}
    with pytest.raises(pbr.PlanError, match=f"problem '{problem}' is not one of {programme}'s"):
        parse_plan({**plan, "outcomes": [{"problem": problem, "measures": [measure]}]})


def test_a_month_end_attachment_s_earliest_date_is_the_day_its_period_allows() -> None:
    # attached 31 August: on 28 February the 6 months run from 28 August, before attachment;
    # the first period wholly after it ends on 1 March, and the decisions say so every day
    measure = {"comparison": "==", "threshold": 0, "sustain_months": 6}
    plan = parse_plan(
        {
            "id": "da",
            "version": "1",
            "programme": "tf-phase-2",
            "outcomes": [
                {"problem": p, "measures": [{"id": p, "indicator": i, **measure}]}
                for p, i in (("domestic_abuse", "police_callout_domestic_abuse"), ("health", "h"))
            ],
        }
    )
    family = pbr.Family.model_validate(record(attached_on="2016-08-31"))
    for day in ("2017-02-27", "2017-02-28"):
        d = pbr.evaluate(family, as_of=date.fromisoformat(day), plan=plan)
        assert (d.results[SP].status, d.results[SP].earliest_date) == ("not_met", date(2017, 3, 1))
        assert "the earliest date is 2017-03-01" in d.results[SP].reasons[-1].message
    met = pbr.evaluate(family, as_of=date(2017, 3, 1), plan=plan)
    assert (met.results[SP].status, met.payable) == ("met", Decimal("800.00"))


# --- payments of another programme's kinds ------------------------------------------------------

P2W = [{"kind": "progress_to_work", "amount": "100.00", "paid_on": "2016-02-01"}]


def payment_errors(fields: dict[str, Any]) -> list[Any]:
    with pytest.raises(pydantic.ValidationError) as info:
        pbr.Family.model_validate(fields)
    return [e for e in info.value.errors() if e["type"] == "payment_not_in_programme"]


@pytest.mark.parametrize("programme", ["tf-phase-2", None])
def test_a_phase_one_result_paid_to_a_phase_two_family_is_refused(programme: str | None) -> None:
    # stated, or by attachment date (2016: only phase two covers it)
    [error] = payment_errors(record(programme, payments=P2W, **WORKING))
    assert error["loc"] == ("payments", 0, "kind")
    assert error["input"] == "progress_to_work"
    assert "not a payment of tf-phase-2" in error["msg"]
    assert "attachment_fee, continuous_employment, sustained_progress" in error["msg"]


def test_a_later_result_paid_to_a_phase_one_family_is_refused() -> None:
    paid = [
        {"kind": "attachment_fee", "amount": "3200"},
        {"kind": "sustained_progress", "amount": 1},
    ]
    fields = {
        "family_id": "F1",
        "programme": "tf-phase-1",
        "attached_on": "2012-10-15",
        "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        "payments": paid,
    }
    [error] = payment_errors(fields)
    assert error["loc"] == ("payments", 1, "kind")
    assert "progress_to_work" in error["msg"]
    assert "sustained_progress" not in error["msg"].split("expected")[1]


def test_a_stated_programme_not_the_dates_decides_which_payments_are_refused() -> None:
    # 2014/15: phase one and phase two both cover the date; a record stating phase two is
    # checked against phase two's payments alone, not those of every programme covering it
    [error] = payment_errors(record(attached_on="2014-06-02", payments=P2W))
    assert error["input"] == "progress_to_work"
    assert "not a payment of tf-phase-2; expected" in error["msg"]
    # stating none, the date's programmes together have every kind: it is read
    read = pbr.Family.model_validate(record(None, attached_on="2014-06-02", payments=P2W))
    assert read.payments[0].kind == "progress_to_work"


def test_an_early_starter_stating_no_programme_is_refused_where_evaluated_under_the_other() -> None:
    # 2014/15: phase one (by date) and phase two (early starters) both cover the record, so it
    # is read; evaluated under phase one, its phase-two payment is refused, naming the payment
    paid = [{"kind": "sustained_progress", "amount": "800.00", "paid_on": "2015-01-01"}]
    family = pbr.Family.model_validate(record(None, attached_on="2014-06-02", payments=paid))
    with pytest.raises(pbr.OutsideProgramme, match=r"payments\[0\]\.kind 'sustained_progress'"):
        pbr.evaluate(family, as_of=date(2015, 6, 1))
    d = pbr.evaluate(family, as_of=date(2015, 6, 1), rules=PHASE_TWO)
    assert d.results[SP].status == "already_paid"
    # a payment that reaches the family another way than its record (a ledger) is refused too
    ledgered = pbr.Family.model_validate(record(**WORKING)).model_copy(
        update={"payments": (pbr.records.Payment.model_validate(P2W[0]),)}
    )
    with pytest.raises(pbr.OutsideProgramme, match="not a payment of tf-phase-2"):
        pbr.evaluate(ledgered, as_of=date(2016, 12, 1))


@pytest.mark.parametrize("fast", [True, False])
def test_the_batch_refuses_such_a_payment_on_both_paths(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbr.batch import evaluate_many_json
    from pbr.io import Rejection

    monkeypatch.setattr("pbr.batch._COMPILED", fast)
    early = [{"kind": "sustained_progress", "amount": "800.00"}]
    lines = [  # refused on reading; and read, then refused by the rule set the date chose
        json.dumps(record(payments=P2W, **WORKING)).encode(),
        json.dumps(record(None, attached_on="2014-06-02", payments=early)).encode(),
    ]
    done = list(evaluate_many_json(lines, as_of=date(2016, 12, 1), workers=1))
    for out, kind in zip(done, ["progress_to_work", "sustained_progress"], strict=True):
        assert isinstance(out, Rejection), out
        [error] = out.errors
        assert (error.loc, error.type, error.value) == (
            "payments.0.kind",
            "payment_not_in_programme",
            f'"{kind}"',
        )


@pytest.mark.parametrize(
    ("attached", "foreign", "programme"),
    [
        ("2016-06-01", "financial_stability", "tf-phase-2"),
        ("2022-06-01", "work", "supporting-families"),
    ],
)
def test_a_problem_of_another_programme_is_refused_when_the_date_names_the_programme(
    attached: str, foreign: str, programme: str
) -> None:
    # stating no programme, the record's problems went unchecked: one of another programme's
    # vocabulary was ignored at evaluation, not refused
    text = json.dumps(record(None, attached_on=attached, problems_at_entry=[{"problem": foreign}]))
    with pytest.raises(pydantic.ValidationError, match=rf"not a problem of {programme} \(the"):
        pbr.Family.model_validate_json(text)
    (answer,) = pbr.evaluate_many([text], as_of=date(2023, 6, 1))
    assert isinstance(answer, pbr.Rejection)
    assert [(e.type, e.loc) for e in answer.errors] == [
        ("problem_not_in_programme", "problems_at_entry.0.problem")
    ]
    # 2014/15: phase one or an early starter of phase two, so not judged by either list
    early = record(None, attached_on="2014-06-01", problems_at_entry=[{"problem": foreign}])
    assert pbr.Family.model_validate(early).problems_at_entry[0].problem == foreign


EARLY_STARTER: dict[str, Any] = {
    "attached_on": "2014-10-01",
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2014-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2014-11-01"}],
}
CALLOUT = [{"indicator": "police_callout_domestic_abuse", "date": "2015-05-01", "value": 1}]
FEE_2014 = {"kind": "attachment_fee", "amount": "1000.00", "paid_on": "2014-11-01"}
SP_2015 = {"kind": "sustained_progress", "amount": "800.00", "paid_on": "2015-03-01"}


@pytest.mark.parametrize(
    ("kind", "code", "fields", "source"),
    [
        (SP, "RATE_APPLIED", {}, "S31, PBR-READING"),
        (CE, "RATE_APPLIED", {"observations": CALLOUT}, "S31, PBR-READING"),
        # a reason about the cap cites the cap of the family's year: the early starters' rests
        # on pbr's reading
        (
            SP,
            "ALREADY_PAID",
            {"observations": CALLOUT, "payments": [FEE_2014, SP_2015]},
            "S31, PBR-READING",
        ),
    ],
)
def test_an_early_starter_s_money_cites_pbr_s_reading(
    kind: ResultKind, code: str, fields: dict[str, Any], source: str
) -> None:
    # 2014/15 early starters' £800 result and £1,800 cap cited the sources that state them for
    # 2015-20 only (S31, S34, S35, S25; S31, S15, S36; S31, S34, S25), as their fee no longer did
    d = run("2015-06-01", **EARLY_STARTER, **fields)
    (reason,) = [r for r in d.results[kind].reasons if r.code == code]
    assert reason.source == source


@pytest.mark.parametrize(
    ("attached_on", "interpretation", "cap_source"),
    [
        ("2016-07-01", "continue", "S31, S34, S25"),
        ("2019-06-01", "continue", "S31, S34"),
        ("2018-06-01", "stopped", "S31, S34, S36, S25"),
    ],
)
def test_a_reason_about_the_cap_cites_the_cap_applied(
    attached_on: str, interpretation: str, cap_source: str
) -> None:
    # ALREADY_PAID, PAID_OVER_CAP and CAP_REACHED cited every year's cap (with the early
    # starters' PBR-READING, and never S36 under `stopped`, whose £800 cap rests on it)
    rules = PHASE_TWO.with_interpretations(attachment_fees_after_2017_18=interpretation)
    year = financial_year_of(date.fromisoformat(attached_on))
    parameter = "cap_when_stopped" if interpretation == "stopped" else "cap"
    assert rules.parameter(parameter, year).source_text == cap_source
    fee = "0.00" if interpretation == "stopped" and year.start_year >= 2018 else "1000.00"
    paid = [
        {"kind": "attachment_fee", "amount": fee, "paid_on": attached_on},
        {"kind": "sustained_progress", "amount": "800.00", "paid_on": attached_on},
        {"kind": "sustained_progress", "amount": "800.00", "paid_on": attached_on},
    ]
    family = pbr.Family.model_validate(record(attached_on=attached_on, payments=paid))
    d = pbr.evaluate(family, as_of=date(2021, 3, 31), rules=rules)
    cited = {r.code: r.source for r in (*d.warnings, *d.results[SP].reasons)}
    assert cited["ALREADY_PAID"] == cap_source
    assert cited["PAID_OVER_CAP"] == cap_source
    assert PHASE_TWO.source_of_rule("payment.cap") != cap_source  # not the rule's every year


def test_one_claim_cites_its_own_sources_not_the_cap_s() -> None:
    # it cited the cap's (S31, S34, S25): S31's £1,800 maximum is a £1,000 fee and one £800
    # result; S44 records the successor's practice; pbr's reading for phase two (tf-rules §2)
    taken = run("2016-07-15", **WORKING).results[CE].reasons[-1]
    assert (taken.code, taken.source) == ("ONE_CLAIM_PER_FAMILY", "S31, S44, PBR-READING")
    assert SUPPORTING_FAMILIES.source_of_rule("payment.one_claim") == "S44"
    assert PHASE_TWO.source_of_rule("payment.cap") != PHASE_TWO.source_of_rule("payment.one_claim")


def test_an_audit_of_a_fee_cites_the_fee_the_interpretation_chose() -> None:
    # Under `stopped`, a fee claimed for a family attached in 2018/19 is not allowed (none is
    # paid, S36, S25): the flag cited every year's £1,000 fee's sources instead
    from pbr.audit import Claim, verify

    stopped = PHASE_TWO.with_interpretations(attachment_fees_after_2017_18="stopped")
    family = pbr.Family.model_validate(record(attached_on="2018-06-01", **WORKING_2018))
    fee = Claim(
        claim_id="C1",
        family_id=family.family_id,
        kind="attachment_fee",
        amount=Decimal("1000.00"),
        claimed_on=date(2018, 7, 1),
    )
    for rules, allowed, source in (
        (stopped, "0.00", "S36, S25"),
        (PHASE_TWO, "1000.00", None),
    ):
        (check,) = verify([fee], [family], rules_for=functools.partial(_given, rules)).checks
        assert check.allowed == Decimal(allowed)
        if source is not None:
            (flag,) = check.flags
            assert (flag.code, flag.source) == ("AMOUNT_DIFFERS", source)
        else:
            assert not check.flags


def _given(rules: pbr.rules.RuleSet, family: pbr.Family) -> pbr.rules.RuleSet:
    return rules


@pytest.mark.parametrize("programme", ["tf-phase-2", "supporting-families"])
def test_a_route_not_met_says_the_one_claim_is_made(programme: str) -> None:
    """MX-P2-03: employment paid, sustained progress NOT MET with no word that it can never pay;
    an auditor read £800 as still reachable."""
    sf = programme == "supporting-families"
    year = "2022" if sf else "2016"
    paid = [{"kind": "continuous_employment", "amount": "800.00", "paid_on": f"{year}-06-01"}]
    extra: dict[str, Any] = {"problems_at_entry": NEEDS3} if sf else {}
    d = run(f"{year}-07-15", programme, payments=paid, attached_on=f"{year}-03-01", **extra)
    assert d.results[SP].status == "not_met"
    taken = d.results[SP].reasons[-1]
    assert (taken.code, taken.compared) == ("ONE_CLAIM_PER_FAMILY", {"other_route": CE})
    assert taken.message == (
        "the family's one results claim is continuous_employment (paid), so sustained_progress "
        "pays nothing"
    )
    assert "[ONE_CLAIM_PER_FAMILY]" in d.explain().split("Significant and sustained progress")[1]
    unpaid = run("2016-07-15", attached_on="2016-03-01")  # nothing paid: no such reason
    assert "ONE_CLAIM_PER_FAMILY" not in codes(unpaid, SP)


@pytest.mark.parametrize(
    ("route", "rule", "source"),
    [
        ("claims_to_march_2022", "results.continuous_employment.route", "S40, PBR-READING"),
        ("never", "results.continuous_employment.route.never", "PBR-READING"),
    ],
)
def test_the_closed_employment_route_cites_pbr_s_reading(
    route: str, rule: str, source: str
) -> None:
    """S40 had the route; its closing is pbr's reading (tf-rules §6 question 9), never S40's."""
    rules = SUPPORTING_FAMILIES.with_interpretations(employment_route=route)
    family = pbr.Family.model_validate(record("supporting-families", **IN_WORK_2022))
    (closed,) = pbr.evaluate(family, as_of=date(2024, 4, 2), rules=rules).results[CE].reasons
    assert (closed.code, closed.rule, closed.source) == ("EMPLOYMENT_ROUTE_CLOSED", rule, source)


EMPLOYMENT_CASES: dict[str, dict[str, Any]] = {
    # the five reasons of the employment test itself (`pbr.programmes._employment`)
    "CONTINUOUS_EMPLOYMENT_REACHED": {},
    "EMPLOYMENT_TOO_SHORT": {"as_of": "early"},
    "NO_CURRENT_EMPLOYMENT": {"employment_spells": []},
    "EMPLOYMENT_STARTED_BEFORE_ATTACHMENT": {"started": "before"},
    "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT": {"benefit_spells": []},
}
CE_RULE = "results.continuous_employment"
EMPLOYMENT_CITES = {
    # the route is the sources' (tf-rules §2 phase two: S15, S22, S36; §3 2021/22: S40), its
    # weeks pbr's reading; the closed route cites S40 and pbr's reading, `never` the reading only
    "tf-phase-2": {"results.continuous_employment": "PBR-READING, S15, S22, S36"},
    "supporting-families": {
        "results.continuous_employment": "PBR-READING, S40",
        "results.continuous_employment.route": "S40, PBR-READING",
        "results.continuous_employment.route.never": "PBR-READING",
    },
}


def _employment_family(programme: str, case: dict[str, Any]) -> tuple[pbr.Family, date]:
    """A family with an adult on benefit at attachment and in work after it, as `case` varies."""
    sf = programme == "supporting-families"
    attached, start = ("2021-05-03", "2021-06-01") if sf else ("2016-01-15", "2016-02-01")
    fields: dict[str, Any] = {
        "attached_on": attached,
        "problems_at_entry": [{"problem": "financial_stability"}, *NEEDS3]
        if sf
        else [{"problem": "work"}, {"problem": "health"}],
        "benefit_spells": case.get(
            "benefit_spells", [{"person_id": "A1", "benefit": "ESA", "start": "2015-01-01"}]
        ),
        "employment_spells": case.get(
            "employment_spells",
            [{"person_id": "A1", "start": "2015-12-01" if "started" in case else start}],
        ),
    }
    as_of = ("2021-07-01" if sf else "2016-03-01") if "as_of" in case else attached[:4] + "-12-31"
    return pbr.Family.model_validate(record(programme, **fields)), date.fromisoformat(as_of)


@pytest.mark.parametrize("programme", ["tf-phase-2", "supporting-families"])
def test_every_employment_reason_cites_the_route_s_sources_and_pbr_s_reading(
    programme: str,
) -> None:
    """Phase two's and Supporting Families' employment reasons cited PBR-READING alone, though
    tf-rules marks the route CONFIRMED: only its 13/26 weeks are pbr's reading. Every reason of
    the route, under every value of every interpretation, cites both."""
    base = pbr.programmes.programme(programme).rules
    choices: list[dict[str, str]] = [{}] + [
        {name: value} for name, i in base.interpretations.items() for value in i.values
    ]
    seen: set[tuple[str, str]] = set()
    for code, case in EMPLOYMENT_CASES.items():
        family, as_of = _employment_family(programme, case)
        for choice in choices:
            rules = base.with_interpretations(**choice)
            reasons = pbr.evaluate(family, as_of=as_of, rules=rules).results[CE].reasons
            cited = [(r.code, r.rule, r.source) for r in reasons if r.rule.startswith(CE_RULE)]
            for reason_code, rule, source in cited:
                assert source == EMPLOYMENT_CITES[programme][rule], (choice, reason_code)
                seen.add((reason_code, rule))
            if not choice:  # the default reading reaches the test itself
                assert [c for c, _, _ in cited] == [code]
    assert {c for c, rule in seen if rule == CE_RULE} == set(EMPLOYMENT_CASES)


@pytest.mark.parametrize(
    ("attached_on", "earliest", "warned"),
    [
        ("2025-03-31", "2025-10-01", True),  # attached on the last day: never claimable
        ("2024-09-30", "2025-03-31", False),  # earliest on the last day: still claimable
    ],
)
def test_an_earliest_date_after_results_claims_close_is_warned_of(
    attached_on: str, earliest: str, warned: bool
) -> None:
    """An earliest date after 31 March 2025 (S39) is one no claim can be made on: said so."""
    d = run(attached_on, "supporting-families", attached_on=attached_on, problems_at_entry=NEEDS3)
    assert (d.results[SP].status, str(d.results[SP].earliest_date)) == ("not_met", earliest)
    assert d.payable == Decimal(0)
    late = [w for w in d.warnings if w.code == "EARLIEST_DATE_AFTER_CLAIMS_CLOSED"]
    assert bool(late) == warned
    if warned:
        (w,) = late
        assert (w.rule, w.source) == ("payment.claims_closed", "S39")
        assert w.compared == {
            "result": "sustained_progress",
            "earliest_date": "2025-10-01",
            "claims_until": "2025-03-31",
        }
        assert "2025-10-01" in w.message
        assert "2025-03-31" in w.message
        assert "earliest date 2025-10-01 (after results claims close on 2025-03-31" in d.explain()


def test_an_earliest_date_put_back_after_claims_close_by_evidence_is_warned_of() -> None:
    """An eviction notice of 1 December 2024 is in every 6-month period to 31 May 2025: the
    earliest date was 2 March 2025 and no warning, yet no claim could ever be made."""
    notice: dict[str, Any] = {
        "problems_at_entry": NEEDS3,
        "observations": [{"indicator": "eviction_notice", "date": "2024-12-01"}],
    }
    d = run("2024-12-15", "supporting-families", attached_on="2024-09-01", **notice)
    assert (d.results[SP].status, d.results[SP].earliest_date) == ("not_met", date(2025, 6, 1))
    (w,) = [w for w in d.warnings if w.code == "EARLIEST_DATE_AFTER_CLAIMS_CLOSED"]
    assert w.compared == {
        "result": "sustained_progress",
        "earliest_date": "2025-06-01",
        "claims_until": "2025-03-31",
    }
    (why,) = [r for r in d.results[SP].reasons if r.compared.get("indicator") == "eviction_notice"]
    assert why.message.endswith("so the earliest date is 2025-06-01")
    for as_of, status in [
        ("2025-03-31", "not_met"),
        ("2025-05-31", "not_met"),
        ("2025-06-01", "met"),
    ]:
        later = run(as_of, "supporting-families", attached_on="2024-09-01", **notice)
        assert later.results[SP].status == status, as_of


def test_the_employment_route_s_earliest_date_after_the_route_closes_is_warned_of() -> None:
    """By default the route's last claim day is 31 March 2022 (S40): a later earliest date is lost."""
    sf = {"problems_at_entry": NEEDS3, **WORKING}
    sf["benefit_spells"] = [{"person_id": "A1", "benefit": "UC", "start": "2021-01-01"}]
    sf["employment_spells"] = [{"person_id": "A1", "start": "2022-02-01"}]
    d = run("2022-03-01", "supporting-families", attached_on="2022-01-15", **sf)
    assert d.results[CE].status == "not_met"
    assert d.results[CE].earliest_date is not None
    (w,) = [w for w in d.warnings if w.code == "EARLIEST_DATE_AFTER_CLAIMS_CLOSED"]
    assert (w.rule, w.compared["result"], w.compared["claims_until"]) == (
        "results.continuous_employment.route",
        "continuous_employment",
        "2022-03-31",
    )


def test_phase_two_earliest_dates_are_never_warned_of_a_known_gap() -> None:
    d = run("2020-03-31", attached_on="2020-03-31")
    assert "EARLIEST_DATE_AFTER_CLAIMS_CLOSED" not in [w.code for w in d.warnings]


@pytest.mark.parametrize("as_of", [date(2015, 6, 1), date(2020, 1, 1)])
def test_a_met_result_is_not_warned_of_as_never_claimable(as_of: date) -> None:
    """EX-018's employment, met on 1 June 2015, is payable: claims closed says why it is late."""
    path = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    (family,) = [f for f in pbr.read_records(path) if getattr(f, "family_id", "") == "EX-018"]
    assert isinstance(family, pbr.Family)
    d = pbr.evaluate(family, as_of=as_of)
    assert d.results["continuous_employment"].status == "met"
    codes = [w.code for w in d.warnings]
    assert "RESULTS_CLAIMS_CLOSED" in codes
    assert "EARLIEST_DATE_AFTER_CLAIMS_CLOSED" not in codes


def test_the_working_paper_cites_where_the_fee_and_the_cap_come_from() -> None:
    """The paper gave the fee and the cap with no source: an auditor could not trace them."""
    from dataclasses import replace

    from pbr.rules import PHASE_ONE

    stopped = PHASE_TWO.with_interpretations(attachment_fees_after_2017_18="stopped")
    family = pbr.Family.model_validate(record(attached_on="2018-04-01", **WORKING_2018))
    cases = [
        (stopped, family, date(2019, 1, 1), "S36, S25", "S31, S34, S36, S25"),
        (PHASE_TWO, family, date(2019, 1, 1), "S31, S34, S35, S25", "S31, S34, S25"),
    ]
    phase_one = pbr.Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": "2012-10-15",
            "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        }
    )
    fee_source = PHASE_ONE.parameter("attachment_fee", PHASE_ONE.years[0]).source_text
    cap_source = PHASE_ONE.parameter("cap", PHASE_ONE.years[0]).source_text
    cases.append((PHASE_ONE, phase_one, date(2013, 6, 30), fee_source, cap_source))
    for rules, fam, as_of, fee, cap in cases:
        paper = pbr.evaluate(fam, as_of=as_of, rules=rules).explain().splitlines()
        attached = next(i for i, line in enumerate(paper) if line.startswith("Attached "))
        assert paper[attached + 1] == f"Sources: attachment fee {fee}; cap {cap}"
    # a rule set of the caller's own: its fee and cap are shown, with no source pbr cannot vouch for
    own = replace(PHASE_ONE, version="9.9")
    own_paper = pbr.evaluate(phase_one, as_of=date(2013, 6, 30), rules=own).explain()
    assert "attachment fee £3,200.00; cap £4,000.00\nEligible" in own_paper
    assert "Sources:" not in own_paper
