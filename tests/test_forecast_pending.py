"""A forecast from records puts on each family only what the rules could still pay it."""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.forecast import (
    Assumptions,
    Drawdown,
    allocation,
    default_assumptions,
    from_records,
    result_rates,
)
from pbr.rules import PHASE_ONE
from pbr.testing import families_with_as_of, interpretation_choices
from tests.builders import family

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ZERO = Decimal("0.00")
EXCLUSIVE = PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
KINDS = ("crime_asb_education", "progress_to_work", "continuous_employment")
PAYMENTS: tuple[Literal["realistic", "any"], ...] = ("realistic", "any")


def _example(family_id: str) -> pbr.Family:
    (found,) = [
        f
        for f in pbr.read_records(EXAMPLES / "families.jsonl")
        if isinstance(f, pbr.Family) and f.family_id == family_id
    ]
    return found


def _by_kind(d: Drawdown) -> dict[str, Decimal]:
    """Each result's money forecast, in the windows and beyond them."""
    beyond = dict(d.beyond_horizon_by_column)
    return {
        kind: sum((w.results.get(kind, ZERO) for w in d.windows), ZERO) + beyond.get(kind, ZERO)
        for kind in KINDS
    }


def test_a_family_paid_crime_asb_education_is_forecast_what_is_left_of_its_share() -> None:
    """EX-051 (2012/13, fee and crime/ASB/education paid: £100 left) was forecast £90."""
    ex051 = _example("EX-051")
    as_of = date(2014, 3, 31)
    top_up = from_records([ex051], as_of=as_of, alloc=allocation(1))
    # progress to work 1/10 × £100; employment tops up the balance: £100 when progress to
    # work is not met (9/10), nothing when it is (they are claimed together): 1/10 × £90
    assert _by_kind(top_up) == {
        "crime_asb_education": ZERO,
        "progress_to_work": Decimal("10.00"),
        "continuous_employment": Decimal("9.00"),
    }
    assert (top_up.secured, top_up.total + top_up.beyond_horizon) == (
        Decimal("3900.00"),
        Decimal("19.00"),
    )
    assert top_up.at_risk == Decimal("81.00")  # the £100 it could still be paid, less £19
    # exclusive: employment is never paid once crime/ASB/education is
    exclusive = from_records([ex051], as_of=as_of, alloc=allocation(1, rules=EXCLUSIVE))
    assert _by_kind(exclusive)["continuous_employment"] == ZERO
    assert exclusive.total + exclusive.beyond_horizon == Decimal("10.00")
    assert (exclusive.at_risk, exclusive.never_payable) == (Decimal("90.00"), ZERO)


EVEN = Assumptions(
    "even",
    {"progress_to_work": Fraction(1, 2), "continuous_employment": Fraction(1, 2)},
    {6: Fraction(1)},
)


def test_results_that_share_the_room_are_never_forecast_past_it() -> None:
    """Progress to work and employment, each even odds, with £100 left: 3/4 × £100.

    Scaling the expected £50 + £400 down to the room forecast £100, as if one of them were
    certain; in no outcome can the family be paid more than £100.
    """
    paid = [
        {"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2012-11-30"},
        {"kind": "crime_asb_education", "amount": "700.00", "paid_on": "2013-06-30"},
    ]
    working = family(family_id="W", payments=paid)  # attached 15 October 2012
    as_of = date(2013, 6, 30)
    d = from_records([working], as_of=as_of, alloc=allocation(1), assumptions=EVEN)
    # met together, progress to work is paid first (clarification 8) and employment tops up
    # nothing; employment alone tops up £100
    assert _by_kind(d) == {
        "crime_asb_education": ZERO,
        "progress_to_work": Decimal("50.00"),
        "continuous_employment": Decimal("25.00"),
    }
    assert d.at_risk == Decimal("25.00")
    exclusive = from_records(
        [working], as_of=as_of, alloc=allocation(1, rules=EXCLUSIVE), assumptions=EVEN
    )
    assert _by_kind(exclusive)["continuous_employment"] == ZERO
    assert exclusive.total + exclusive.beyond_horizon == Decimal("50.00")


def test_room_no_result_could_fill_is_never_payable_not_at_risk() -> None:
    """A 2012/13 family not identified for work can earn £700 of results, not £800."""
    no_work = family(
        family_id="NW", identified_for=["crime_asb", "education"], local_discretion=["LD1"]
    )
    d = from_records([no_work], as_of=date(2013, 3, 31), alloc=allocation(1))
    assert _by_kind(d)["crime_asb_education"] == Decimal("350.00")  # 1/2 × £700
    assert d.at_risk == Decimal("350.00")  # £700 less what is forecast
    assert d.never_payable == Decimal("100.00")
    assert d.summary()["never_payable"] == Decimal("100.00")
    got = d.secured + d.claimable_now + d.total + d.beyond_horizon + d.never_payable + d.at_risk
    assert got == d.maximum


def _made(record: pbr.Family, as_of: date) -> list[pbr.records.Payment]:
    """The payments made by `as_of` as a forecast counts them (none undated before attachment)."""
    return [
        p
        for p in record.payments
        if (p.paid_on is None and as_of >= record.attached_on)
        or (p.paid_on is not None and p.paid_on <= as_of)
    ]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(PAYMENTS).flatmap(
        lambda payments: st.tuples(st.just(payments), families_with_as_of(payments=payments))
    ),
    interpretation_choices(),
)
def test_a_family_is_never_forecast_more_than_the_rules_could_pay_it(
    drawn: tuple[str, tuple[pbr.Family, date]], choice: dict[str, str]
) -> None:
    """Secured + claimable now + forecast: within the cap, and within what the rules could pay.

    With any payments (often past the cap) only what the rules could still pay bounds it:
    the unpaid fee, which the cap counts whether paid or not, and results within the room
    the payments made leave.
    """
    payments, (record, as_of) = drawn
    rules = PHASE_ONE.with_interpretations(**choice)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = from_records([record], as_of=as_of, alloc=allocation(0, rules=rules))
    decision = pbr.evaluate(record, as_of=as_of, rules=rules)
    put = d.claimable_now + d.total + d.beyond_horizon  # on this family beyond what is paid
    if not decision.eligible:
        assert put == 0
        return
    made = _made(record, as_of)
    fee_paid = sum((p.amount for p in made if p.kind == "attachment_fee"), ZERO)
    results_paid = sum((p.amount for p in made if p.kind != "attachment_fee"), ZERO)
    room = max(decision.cap - max(decision.attachment_fee, fee_paid) - results_paid, ZERO)
    fee_due = max(decision.attachment_fee - fee_paid, ZERO)
    assert put <= fee_due + room
    if payments == "realistic":
        assert d.secured + put <= decision.cap
    # results still to be met: nothing unless one is met, and then never past the room left
    # after what is payable now (to a penny a result for the rounding of the windows)
    chances = default_assumptions().probabilities
    none_met = Fraction(1)
    for pending_kind, result in decision.results.items():
        if result.status == "not_met":
            none_met *= 1 - chances.get(pending_kind, 0)
    left = max(room - decision.payable, ZERO)
    pending = sum(_by_kind(d).values(), ZERO) - (d.payable_after_claims_closed)
    # (before attachment an undated payment is not yet made for the forecast, though the
    # decision counts it: a result it paid is pending there, not here)
    undated_before = as_of < record.attached_on and any(p.paid_on is None for p in record.payments)
    if not undated_before:
        assert pending <= Fraction(left) * (1 - none_met) + Fraction(len(KINDS), 100)
    # result by result: nothing for one already paid or excluded, never above its rate
    year = pbr.periods.financial_year_of(record.attached_on)
    claim_year = choice.get("rates_by") == "claim_year"
    years = [y for y in rules.years if y >= year] if claim_year else [year]
    forecast = _by_kind(d)
    paid_kinds: set[str] = {p.kind for p in made if p.amount > 0}  # £0 is no payment
    payable: dict[str, Decimal] = {k: r.amount for k, r in decision.results.items() if r.amount}
    exclusive = choice.get("employment_after_crime") == "exclusive"
    routes = {"crime_asb_education": "continuous_employment"}
    routes.update({v: k for k, v in routes.items()})
    for kind in KINDS:
        other = routes.get(kind)
        if kind in paid_kinds or (exclusive and other in (paid_kinds | set(payable))):
            bound = ZERO
        else:
            bound = min(max(result_rates(rules, y)[kind] for y in years), room)
        # payable after results claims closed lies beyond the last window: in `forecast`
        claimable = payable.get(kind, ZERO) if d.payable_after_claims_closed == 0 else ZERO
        assert forecast[kind] + claimable <= bound, kind
