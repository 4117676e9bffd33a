"""A forecast applies the rule set's interpretations as `pbr evaluate` does (rates_by above all)."""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.forecast import (
    Assumptions,
    Drawdown,
    allocation,
    default_scenarios,
    drawdown,
    from_records,
)
from pbr.rules import PHASE_ONE
from pbr.rules import SUPPORTING_FAMILIES as SF_RULES
from tests.builders import family

from .forecast_cli import cli

CLAIM_YEAR = PHASE_ONE.with_interpretations(rates_by="claim_year")
CRIME = Assumptions("crime", {"crime_asb_education": Fraction(1, 2)}, {6: Fraction(1)})
Q4 = {"2012/13 Q4": 1}
"""Every family attached on 15 February 2013: a result met 6 months on is claimed in 2013/14."""


def _results(d: object) -> Decimal:
    windows = getattr(d, "windows", ())
    return sum((w.results["crime_asb_education"] for w in windows), Decimal(0))


def test_claim_year_pays_a_result_at_its_claims_year_rate_within_the_share() -> None:
    """rates_by = claim_year changed nothing in a forecast; pbr evaluate applied it."""
    by_attachment = drawdown(allocation(6), CRIME, quarters=Q4)
    by_claim = drawdown(allocation(6, rules=CLAIM_YEAR), CRIME, quarters=Q4)
    # 5 funded families, half meet crime/ASB/education on 15 August 2013, claimed 30 September
    assert _results(by_attachment) == Decimal("1750.00")  # 5 × 1/2 × £700 (2012/13)
    assert _results(by_claim) == Decimal("2000.00")  # 5 × 1/2 × £800: 2013/14's £1,500, capped
    for d in (by_attachment, by_claim):
        assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum
    assert by_claim.at_risk == by_attachment.at_risk - Decimal("250.00")


def test_claim_year_holds_in_the_monte_carlo_runs() -> None:
    certain = Assumptions("certain", {"crime_asb_education": Fraction(1)}, {6: Fraction(1)})
    d = drawdown(allocation(6, rules=CLAIM_YEAR), certain, quarters=Q4, runs=20)
    assert _results(d) == Decimal("4000.00")  # every family: £800, not £700
    last = d.windows[-1]
    assert last.low == last.median == last.high == d.total  # nothing left to chance


def test_claim_year_for_a_family_on_record() -> None:
    """Its result still to be met is paid at the rate of the year of its claim window."""
    pending = family(family_id="P", attached_on="2013-02-15")
    as_of = date(2013, 3, 31)
    attachment = from_records([pending], as_of=as_of, alloc=allocation(1), assumptions=CRIME)
    claim = from_records(
        [pending], as_of=as_of, alloc=allocation(1, rules=CLAIM_YEAR), assumptions=CRIME
    )
    assert (_results(attachment), _results(claim)) == (Decimal("350.00"), Decimal("400.00"))


def test_a_scenario_the_claims_years_rates_overpay_is_refused() -> None:
    heavy = Assumptions(
        "heavy",
        {
            "crime_asb_education": Fraction(9, 10),
            "progress_to_work": Fraction(1, 10),
            "continuous_employment": Fraction(1, 10),
        },
        {6: Fraction(1)},
    )
    drawdown(allocation(6), heavy)  # £720 a family attached in 2012/13, within £800
    with pytest.raises(ValueError, match=r"in 2012/13 claimed in 2013/14 are 810\.00, more than"):
        drawdown(allocation(6, rules=CLAIM_YEAR), heavy)


def test_cli_interpretation_rates_by_changes_the_forecast() -> None:
    plain = cli("--families", "790")
    chosen = cli("--families", "790", "--interpretation", "rates_by=claim_year")
    assert plain.returncode == chosen.returncode == 0
    assert "forecast £1,980,031.67;" in plain.stdout
    assert "forecast £1,997,167.08;" in chosen.stdout
    assert "at risk £283,899.58" in chosen.stdout


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3000), st.sampled_from(default_scenarios()))
def test_claim_years_rates_never_lower_a_forecast_nor_pass_the_maximum(
    estimated: int, scenario: Assumptions
) -> None:
    """Phase one's rates never fall from one year to the next, and the share bounds them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_attachment = drawdown(allocation(estimated), scenario)
        by_claim = drawdown(allocation(estimated, rules=CLAIM_YEAR), scenario)
    assert by_claim.total + by_claim.beyond_horizon >= (
        by_attachment.total + by_attachment.beyond_horizon
    )
    for d in (by_attachment, by_claim):
        assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum
        assert all(w.at_risk is not None and w.at_risk >= 0 for w in d.windows)


SF = "supporting-families"


def _employment(d: Drawdown) -> list[tuple[date, Decimal]]:
    return [(w.claim_date, w.results["continuous_employment"]) for w in d.windows]


def test_employment_route_closed_pays_nothing_for_employment_in_a_forecast() -> None:
    """Supporting Families' employment was forecast after April 2022, when the rules pay none."""
    default = drawdown(allocation(1000, SF))
    assert all(amount == 0 for day, amount in _employment(default) if day > date(2022, 3, 31))
    assert sum(amount for day, amount in _employment(default)) > 0  # claims to March 2022
    always = drawdown(
        allocation(1000, SF, rules=SF_RULES.with_interpretations(employment_route="always"))
    )
    never = drawdown(
        allocation(1000, SF, rules=SF_RULES.with_interpretations(employment_route="never"))
    )
    assert all(amount == 0 for _, amount in _employment(never))
    # results claims closed on 31 March 2025 (S39): what later windows would have paid (the
    # families attached last, mostly) was never paid
    assert (never.total, default.total, always.total) == (
        Decimal("306250.00"),  # 1/2 × £800 a family: sustained progress alone, to March 2025
        Decimal("313750.00"),
        Decimal("428750.00"),  # and 1/5 × £800 for employment, in every window
    )
    assert (never.beyond_never_paid, default.beyond_never_paid, always.beyond_never_paid) == (
        Decimal("93750.00"),
        Decimal("93750.00"),
        Decimal("131250.00"),
    )
    for d in (never, default, always):
        assert d.windows[-1].claim_date == d.claims_closed_on == date(2025, 3, 31)
        assert d.beyond_never_paid == d.beyond_horizon
        assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum


def test_employment_route_for_a_family_on_record() -> None:
    """A family attached in 2021/22 whose employment would be claimed after March 2022."""
    record = pbr.Family.model_validate(
        {
            "family_id": "SF1",
            "programme": SF,
            "attached_on": "2021-10-15",
            "problems_at_entry": [
                {"problem": "housing"},
                {"problem": "domestic_abuse"},
                {"problem": "financial_stability"},
            ],
            "members": [
                {"person_id": "A1", "date_of_birth": "1985-01-01"},
                {"person_id": "C1", "date_of_birth": "2015-01-01"},
            ],
            "benefit_spells": [{"person_id": "A1", "benefit": "UC", "start": "2021-01-01"}],
        }
    )
    work = Assumptions("work", {"continuous_employment": Fraction(1, 2)}, {6: Fraction(1)})
    as_of = date(2021, 12, 31)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # judged against pbr's example plan
        default = from_records([record], as_of=as_of, alloc=allocation(1, SF), assumptions=work)
        always = from_records(
            [record],
            as_of=as_of,
            alloc=allocation(1, SF, rules=SF_RULES.with_interpretations(employment_route="always")),
            assumptions=work,
        )
    # met on 15 April 2022 at the earliest, claimed on 30 June 2022: the route has closed
    assert sum(amount for _, amount in _employment(default)) == Decimal("0.00")
    assert sum(amount for _, amount in _employment(always)) == Decimal("400.00")
    # the plan's sustained progress could still pay the family: at risk, not never payable
    assert (default.at_risk, default.never_payable) == (Decimal("800.00"), Decimal("0.00"))


def test_cli_interpretation_employment_route_changes_the_forecast() -> None:
    args = ("--programme", SF, "--families", "1000")
    assert "forecast £313,750.00;" in cli(*args).stdout
    always = cli(*args, "--interpretation", "employment_route=always")
    assert "forecast £428,750.00;" in always.stdout
