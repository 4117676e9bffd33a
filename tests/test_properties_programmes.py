"""The engine's invariants for phase two and Supporting Families (phase one: test_properties)."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, get_args

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from pydantic import ValidationError

import pbr
from pbr._record_checks import FamilyNeed, PhaseTwoProblem
from pbr.decisions import RESULT_KINDS_BY_PROGRAMME, Decision, Reason
from pbr.periods import financial_year_of
from pbr.plans import Measure, compare, earliest_window_end, measure_window
from pbr.rules import PHASE_TWO, SUPPORTING_FAMILIES, RuleSet
from pbr.testing import (
    BREAKAGES,
    as_of_dates_for,
    broken_family_records,
    family_records,
    interpretation_choices,
)
from tests.builders import RECORD_LISTS

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

ZERO = Decimal(0)
LATER = {"tf-phase-2": PHASE_TWO, "supporting-families": SUPPORTING_FAMILIES}
programmes = pytest.mark.parametrize("programme", sorted(LATER))

Case = tuple[dict[str, Any], date, RuleSet]


@st.composite
def cases(draw: st.DrawFn, programme: str) -> Case:
    """A record, an evaluation date drawn for it, and a rule-set variant."""
    record = draw(family_records(programme))
    as_of = draw(as_of_dates_for(record))
    rules = LATER[programme].with_interpretations(**draw(interpretation_choices(LATER[programme])))
    year = financial_year_of(date.fromisoformat(record["attached_on"]))
    if not pbr.programmes.programme(programme).attachment_fee(rules, year):
        # a fee listed where the rules pay none is refused (test_later_programmes): none here
        record["payments"] = [p for p in record["payments"] if p["kind"] != "attachment_fee"]
    return record, as_of, rules


def run(record: dict[str, Any], as_of: date, rules: RuleSet) -> Decision:
    return pbr.evaluate(pbr.Family.model_validate(record), as_of=as_of, rules=rules)


@programmes
@given(data=st.data())
def test_maximum_is_never_exceeded_and_totals_add_up(programme: str, data: st.DataObject) -> None:
    record, as_of, rules = data.draw(cases(programme))
    family = pbr.Family.model_validate(record)
    decision = pbr.evaluate(family, as_of=as_of, rules=rules)
    assert tuple(decision.results) == RESULT_KINDS_BY_PROGRAMME[programme]
    assert decision.payable == sum((r.amount for r in decision.results.values()), ZERO)
    counted = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
    fee = max(
        decision.attachment_fee,
        sum((p.amount for p in counted if p.kind == "attachment_fee"), ZERO),
    )
    results_paid = sum((p.amount for p in counted if p.kind != "attachment_fee"), ZERO)
    assert decision.payable <= max(decision.cap - fee - results_paid, ZERO)
    assert decision.payable <= Decimal(800)
    # one results claim per family: at most one route pays, and none once a result is paid
    assert sum(1 for r in decision.results.values() if r.amount > 0) <= 1
    if results_paid > 0:
        assert decision.payable == ZERO
    for kind, result in decision.results.items():
        assert result.amount <= result.rate, kind
        assert result.amount == 0 or result.status == "met", kind
        assert result.reasons, kind


@programmes
@given(data=st.data())
def test_nothing_is_paid_twice(programme: str, data: st.DataObject) -> None:
    record, as_of, rules = data.draw(cases(programme))
    first = run(record, as_of, rules)
    paid = copy.deepcopy(record)
    for kind, result in first.results.items():
        if result.amount > 0:
            paid["payments"].append(
                {"kind": kind, "amount": str(result.amount), "paid_on": as_of.isoformat()}
            )
    again = run(paid, as_of, rules)
    assert again.payable == ZERO
    for kind, result in first.results.items():
        if result.amount > 0:
            assert again.results[kind].status == "already_paid"


@programmes
@given(data=st.data(), dated=st.booleans())
def test_a_result_listed_as_paid_0_is_no_claim(
    programme: str, data: st.DataObject, dated: bool
) -> None:
    """A £0 results payment is not a claim paid: the decision is the one without it."""
    record, as_of, rules = data.draw(cases(programme))
    zero = copy.deepcopy(record)
    for kind in RESULT_KINDS_BY_PROGRAMME[programme]:
        paid = {"kind": kind, "amount": "0.00", "claim_id": f"ZERO-{kind}"}
        zero["payments"].append({**paid, "paid_on": as_of.isoformat()} if dated else paid)
    same = {"provenance": {"input_hash"}}
    assert run(zero, as_of, rules).model_dump(exclude=same) == run(record, as_of, rules).model_dump(
        exclude=same
    )


@programmes
@given(data=st.data(), rnd=st.randoms(use_true_random=False))
def test_event_order_does_not_matter(programme: str, data: st.DataObject, rnd: Any) -> None:
    record, as_of, rules = data.draw(cases(programme))
    shuffled = copy.deepcopy(record)
    for field in RECORD_LISTS:
        rnd.shuffle(shuffled.get(field, []))
    # the decision is the same; only the input hash, of the record as given, may differ
    same = {"provenance": {"input_hash"}}
    left = run(shuffled, as_of, rules).model_dump(exclude=same)
    assert left == run(record, as_of, rules).model_dump(exclude=same)


@programmes
@given(data=st.data())
def test_json_round_trips_are_lossless(programme: str, data: st.DataObject) -> None:
    record, as_of, rules = data.draw(cases(programme))
    family = pbr.Family.model_validate(record)
    assert pbr.Family.model_validate_json(family.model_dump_json()) == family
    decision = pbr.evaluate(family, as_of=as_of, rules=rules)
    assert Decision.model_validate_json(decision.model_dump_json()) == decision


@programmes
@given(data=st.data())
def test_more_evidence_of_progress_never_lowers_payable(
    programme: str, data: st.DataObject
) -> None:
    """Dropping every offence, ASB incident and observation after attachment cannot hurt
    the count measures of the example plan that say "none in the period"... except measures
    that need evidence, so only "==0" count indicators are removed."""
    record, as_of, rules = data.draw(cases(programme))
    before = run(record, as_of, rules)
    better = copy.deepcopy(record)
    attached = better["attached_on"]
    zero_counts = {
        "child_protection_plan_start",
        "police_callout_domestic_abuse",
        "health_crisis_contact",
        "substance_incident",
        "police_callout_family_conflict",
        "eviction_notice",
    }
    better["offences"] = [o for o in better["offences"] if o["date"] <= attached]
    better["asb_incidents"] = [a for a in better["asb_incidents"] if a["date"] <= attached]
    better["observations"] = [
        o
        for o in better["observations"]
        if o["indicator"] not in zero_counts or o["date"] <= attached
    ]
    assert run(better, as_of, rules).payable >= before.payable


@pytest.mark.parametrize("programme", ["tf-phase-1", *sorted(LATER)])
@given(data=st.data())
def test_a_decision_does_not_depend_on_the_order_payments_are_listed(
    programme: str, data: st.DataObject
) -> None:
    """Payments dated apart give the same reasons (codes, compared, messages), however listed.

    Which of two results payments is to be recovered (`RESULT_PAID_MORE_THAN_ONCE`,
    `SECOND_RESULTS_CLAIM_PAID`) went by the order listed, not paid: the later paid is.
    """
    record = data.draw(family_records(programme, payments="any"))
    payments = record["payments"]
    assume(len(payments) > 1)
    attached = date.fromisoformat(record["attached_on"])
    days = data.draw(st.lists(st.integers(-60, 900), min_size=len(payments), unique=True))
    for payment, day in zip(payments, days, strict=False):
        if payment["kind"] != "attachment_fee":  # fees may share a day: they are summed
            payment["paid_on"] = str(attached + timedelta(days=day))
    as_of = data.draw(as_of_dates_for(record))
    shuffled = {**record, "payments": data.draw(st.permutations(payments))}
    listed, other = (
        pbr.evaluate(pbr.Family.model_validate(r), as_of=as_of) for r in (record, shuffled)
    )
    assert listed.model_dump(exclude={"provenance"}) == other.model_dump(exclude={"provenance"})


@programmes
@given(data=st.data())
def test_payments_over_the_cap_or_by_two_routes_are_flagged(
    programme: str, data: st.DataObject
) -> None:
    """PAID_OVER_CAP exactly when the fee counted (listed or not) and the results paid pass the
    cap; SECOND_RESULTS_CLAIM_PAID exactly when results are paid by both routes."""
    record = data.draw(family_records(programme, payments="any"))
    as_of = data.draw(as_of_dates_for(record))
    rules = LATER[programme].with_interpretations(
        **data.draw(interpretation_choices(LATER[programme]))
    )
    year = financial_year_of(date.fromisoformat(record["attached_on"]))
    if not pbr.programmes.programme(programme).attachment_fee(rules, year):
        record["payments"] = [p for p in record["payments"] if p["kind"] != "attachment_fee"]
    family = pbr.Family.model_validate(record)
    d = pbr.evaluate(family, as_of=as_of, rules=rules)
    made = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
    fee = max(d.attachment_fee, sum((p.amount for p in made if p.kind == "attachment_fee"), ZERO))
    results = sum((p.amount for p in made if p.kind != "attachment_fee"), ZERO)
    routes = {p.kind for p in made if p.kind != "attachment_fee" and p.amount}
    codes = [w.code for w in d.warnings]
    assert ("PAID_OVER_CAP" in codes) is (fee + results > d.cap)
    assert ("SECOND_RESULTS_CLAIM_PAID" in codes) is (len(routes) > 1)
    assert d.payable <= max(d.cap - fee - results, ZERO)  # what is payable: as before
    if routes:
        assert d.payable == ZERO


@programmes
@given(data=st.data())
def test_results_payable_after_claims_closed_are_warned_of_not_withheld(
    programme: str, data: st.DataObject
) -> None:
    """Supporting Families' claims closed on 31 March 2025 (S39); phase two has no such day."""
    record, as_of, rules = data.draw(cases(programme))
    d = run(record, as_of, rules)
    closed = rules.claims_until()
    assert closed == (date(2025, 3, 31) if programme == "supporting-families" else None)
    late = closed is not None and as_of > closed and d.payable > 0
    assert ("RESULTS_CLAIMS_CLOSED" in [w.code for w in d.warnings]) is late


@programmes
@given(data=st.data())
def test_messages_count_days_as_the_rules_do(programme: str, data: st.DataObject) -> None:
    """A job's days are counted after its start, as its weeks are (days shown + days to go =
    the weeks' days); an incomplete period names its first day, the attachment day or before."""
    record, as_of, rules = data.draw(cases(programme))
    d = run(record, as_of, rules)
    attached = date.fromisoformat(record["attached_on"])
    for r in d.results["continuous_employment"].reasons:
        if r.code == "EMPLOYMENT_TOO_SHORT":
            days, weeks = r.compared["days_worked"], r.compared["weeks_required"]
            assert isinstance(days, int)
            assert isinstance(weeks, int)
            to_go = date.fromisoformat(str(r.compared["reached_on"])) - as_of
            assert days + to_go.days == 7 * weeks
            assert f": {days} days after the start; " in r.message
            assert f"{weeks} weeks ({7 * weeks} days after the start)" in r.message
    for r in d.results["sustained_progress"].reasons:
        if r.code == "SUSTAIN_PERIOD_INCOMPLETE":
            first = date.fromisoformat(str(r.compared["window_after"])) + timedelta(days=1)
            assert first <= attached
            on_the_day = f"begins on the attachment day, {attached};"
            assert (on_the_day in r.message) is (first == attached)
            assert (f"begins on {first}, before attachment" in r.message) is (first < attached)


SF_ONLY = sorted(set(get_args(FamilyNeed)) - set(get_args(PhaseTwoProblem)))


@given(
    data=st.data(),
    others=st.lists(st.sampled_from(SF_ONLY), min_size=1, max_size=len(SF_ONLY), unique=True),
)
def test_another_programme_s_problems_change_nothing_but_the_warning(
    data: st.DataObject, others: list[str]
) -> None:
    """A 2014/15 record stating no programme may list Supporting Families' needs; evaluated
    under phase two they are not counted, not judged, and named by one warning."""
    record = data.draw(
        family_records("tf-phase-2", attached_from=date(2014, 4, 1), attached_to=date(2015, 3, 31))
    )
    record.pop("programme", None)
    as_of = data.draw(as_of_dates_for(record))
    rules = PHASE_TWO.with_interpretations(**data.draw(interpretation_choices(PHASE_TWO)))
    plain = run(record, as_of, rules)
    listing = copy.deepcopy(record)
    listing["problems_at_entry"] = [*record["problems_at_entry"], *({"problem": p} for p in others)]
    mixed = run(listing, as_of, rules)
    warned = [w for w in mixed.warnings if w.code == "PROBLEMS_NOT_IN_PROGRAMME"]
    assert [w.compared["ignored"] for w in warned] == [", ".join(sorted(others))]
    assert mixed.identification[0].compared["not_counted"] == ", ".join(sorted(others))
    assert mixed.identification[0].compared["problems"] == len(record["problems_at_entry"])
    assert (mixed.eligible, mixed.identified_for, mixed.payable) == (
        plain.eligible,
        plain.identified_for,
        plain.payable,
    )
    assert mixed.results == plain.results
    assert "PROBLEMS_NOT_IN_PROGRAMME" not in [w.code for w in plain.warnings]


NEW_FIELD_BREAKAGES = [
    "duplicate_problem",
    "payment_not_in_programme",
    "problem_not_in_programme",
    "identified_after_attachment",
    "fractional_float_observation",
]


@pytest.mark.parametrize("kind", NEW_FIELD_BREAKAGES)
@programmes
@given(data=st.data())
def test_broken_later_records_are_rejected(programme: str, kind: str, data: st.DataObject) -> None:
    assert kind in BREAKAGES
    _, record = data.draw(broken_family_records(kind, programme))
    with pytest.raises(ValidationError) as info:
        pbr.Family.model_validate(record)
    assert all(e["msg"].startswith(f"family {record['family_id']!r}") for e in info.value.errors())


@programmes
@given(
    attached=st.dates(date(2014, 4, 1), date(2025, 3, 31)),
    unit=st.sampled_from(["days", "weeks", "months", "terms"]),
    n=st.integers(1, 30),
)
@example(attached=date(2016, 8, 31), unit="months", n=6)
def test_a_measure_s_earliest_date_is_the_first_its_period_allows(
    programme: str, attached: date, unit: str, n: int
) -> None:
    # the day the decision names is the first whose period starts on or after attachment:
    # month ends included (attached 31 August, 6 months: 1 March, not 28 February)
    measure = Measure.model_validate(
        {
            "id": "m",
            "indicator": "eviction_notice",
            "comparison": "==",
            "threshold": 0,
            f"sustain_{unit}": n,
        }
    )
    calendar = LATER[programme].term_calendar
    earliest = earliest_window_end(measure, attached, calendar)
    assert measure_window(measure, earliest, calendar)[0] >= attached
    assert measure_window(measure, earliest - timedelta(days=1), calendar)[0] < attached


def _as_recorded(record: dict[str, Any], as_of: date) -> dict[str, Any]:
    """`record` with no evidence added after `as_of`: its dated events on or before it only."""
    kept = copy.deepcopy(record)
    for name in ("observations", "offences", "asb_incidents"):
        kept[name] = [e for e in kept.get(name, []) if date.fromisoformat(e["date"]) <= as_of]
    return kept


@st.composite
def incomplete_cases(draw: st.DrawFn, programme: str) -> tuple[dict[str, Any], date]:
    """A record and an evaluation date within 200 days of attachment (sustain periods running)."""
    record = draw(family_records(programme, payments="any"))
    attached = date.fromisoformat(record["attached_on"])
    return record, attached + timedelta(days=draw(st.integers(0, 200)))


def _measure_reason(d: Decision, problem: str, measure: str) -> Reason:
    (found,) = [
        r
        for r in d.results["sustained_progress"].reasons
        if r.compared.get("problem") == problem and r.compared.get("measure") == measure
    ]
    return found


@programmes
@given(data=st.data())
def test_an_earliest_date_is_the_first_day_it_can_be_met(
    programme: str, data: st.DataObject
) -> None:
    # the day a decision names can happen: not before it, whatever is recorded later (the
    # evidence recorded by `as_of` stays in the periods it is in), and on it with nothing more
    # recorded when nothing need be (a count holding at 0)
    record, as_of = data.draw(incomplete_cases(programme))
    family = pbr.Family.model_validate(record)
    decision = pbr.evaluate(family, as_of=as_of)
    result = decision.results["sustained_progress"]
    recorded = pbr.Family.model_validate(_as_recorded(record, as_of))
    if result.earliest_date is not None and result.earliest_date > as_of:
        before = result.earliest_date - timedelta(days=1)
        assert pbr.evaluate(family, as_of=before).results["sustained_progress"].status != "met"
    for why in result.reasons:
        if why.code != "SUSTAIN_PERIOD_INCOMPLETE":
            continue
        earliest = date.fromisoformat(str(why.compared["earliest"]))
        problem, measure = str(why.compared["problem"]), str(why.compared["measure"])
        assert f"so the earliest date is {earliest}" in why.message
        day_before = pbr.evaluate(family, as_of=earliest - timedelta(days=1))
        assert _measure_reason(day_before, problem, measure).code != "MEASURE_MET"
        holds_at_none = why.compared["aggregate"] == "count" and compare(
            Decimal(0), str(why.compared["comparison"]), Decimal(str(why.compared["threshold"]))
        )
        if holds_at_none:
            on = pbr.evaluate(recorded, as_of=earliest)
            assert _measure_reason(on, problem, measure).code == "MEASURE_MET", why.message
