"""Sensitivity: drawdown and money at risk over a range of success rates.

A family **succeeds** here when it earns its whole results share (the cap less its attachment
fee: £800, £1,600 or £2,400 in phase one by year of attachment; £800 later), whatever the route.
At success rate *s* the forecast is every attachment fee (and grant) plus *s* × the results
potential, paid on the scenario's timing (its lags and claim windows); the rest of the maximum is
at risk, but for what the families that fail would have earned after results claims closed
(when the last window is that day), which is never payable. Rounding keeps each row monotone in
*s* and adding up: the forecast is its exact value rounded half up, forecast + beyond the
horizon likewise, never payable too, and at risk is the maximum less the three.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pbr.errors import ForecastError
from pbr.forecast._allocation import Allocation, pence, pounds_of, rules_of
from pbr.forecast._arguments import checked_allocation, checked_rates, checked_scenario
from pbr.forecast._assumptions import Assumptions, default_assumptions
from pbr.forecast._drawdown import (
    FEES,
    GRANT,
    NEVER,
    RISK,
    ClaimCalendar,
    attachment_cohorts,
    check_scenario,
    claim_calendar,
    cohort_maxima,
    ends_when_claims_close,
    expected_payments,
    grant_payments,
)
from pbr.forecast._inputs import share
from pbr.forecast._rounding import half_up
from pbr.forecast._terms import programme_terms
from pbr.money import ZERO, exact_class, in_exact_arithmetic
from pbr.rules import RuleSet

__all__ = ["Sensitivity", "sensitivity"]

DEFAULT_RATES = tuple(Fraction(n, 10) for n in range(11))


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class Sensitivity:
    """Forecast, beyond the horizon, never payable and at risk for each success rate.

    See `sensitivity`.

    >>> from pbr.forecast import allocation
    >>> s = sensitivity(allocation(2630), rates=[0.5])
    >>> row = s.to_records()[0]
    >>> row["success_rate"], row["at_risk"], row["never_payable"]  # never: after claims closed
    (Fraction(1, 2), Decimal('1169066.67'), Decimal('584533.33'))
    """

    scenario: str
    """The scenario whose timing (lags) is used."""
    allocation: Allocation
    rates: tuple[Fraction, ...]
    attachment_fees: Decimal
    """Attachment fees paid within the claim windows (the same at every rate)."""
    upfront_grant: Decimal
    """The up-front grant paid within the claim windows (the same at every rate)."""
    results: tuple[Decimal, ...]
    forecast: tuple[Decimal, ...]
    beyond_horizon: tuple[Decimal, ...]
    at_risk: tuple[Decimal, ...]
    scenario_rate: Fraction
    """The scenario's own expected results as a share of the results potential."""
    never_payable: tuple[Decimal, ...] = ()
    """What the families that do not succeed would have earned after results claims closed,
    when the last claim window is that day (the default windows): it could never be paid, so
    it is not at risk (`pbr.forecast.Drawdown.never_payable_after_claims_closed`)."""

    @property
    def maximum(self) -> Decimal:
        """The maximum: forecast + beyond the horizon + never payable + at risk at every rate.

        >>> from pbr.forecast import allocation
        >>> sensitivity(allocation(790)).maximum
        Decimal('2632000.00')
        """
        return self.allocation.maximum

    def to_records(self) -> list[dict[str, Any]]:
        """One row per success rate; each adds up to the maximum to the penny.

        >>> from pbr.forecast import allocation
        >>> rows = sensitivity(allocation(790)).to_records()
        >>> money = ("forecast", "beyond_horizon", "never_payable", "at_risk")
        >>> all(sum(r[k] for k in money) == r["maximum"] for r in rows)
        True
        """
        named = {"council": self.allocation.council} if self.allocation.council else {}
        return [
            {
                "scenario": self.scenario,
                **named,
                "success_rate": rate,
                FEES: self.attachment_fees,
                **({GRANT: self.upfront_grant} if self.allocation.upfront_grant else {}),
                "results": results,
                "forecast": forecast,
                "beyond_horizon": beyond,
                NEVER: never,
                RISK: risk,
                "maximum": self.maximum,
            }
            for rate, results, forecast, beyond, never, risk in zip(
                self.rates,
                self.results,
                self.forecast,
                self.beyond_horizon,
                self.never_payable or (ZERO,) * len(self.rates),
                self.at_risk,
                strict=True,
            )
        ]

    def to_pandas(self) -> Any:
        """The rows as a DataFrame: money in whole pence, the success rate as a float.

        >>> from pbr.forecast import allocation
        >>> frame = sensitivity(allocation(790)).to_pandas()
        >>> frame["forecast_pence"].is_monotonic_increasing
        True
        """
        from pbr.forecast._frames import to_frame

        return to_frame(self.to_records())

    def to_excel(self, path: str | Path) -> None:
        """Write the table to an XLSX workbook (money as numbers in £).

        >>> import pathlib, tempfile
        >>> from pbr.forecast import allocation
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sensitivity.xlsx"
        >>> sensitivity(allocation(790)).to_excel(path)
        >>> path.exists()
        True
        """
        from pbr.forecast._excel import write_workbook

        write_workbook(path, [("sensitivity", self.to_records())])

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw forecast, beyond the horizon and at risk against the success rate.

        >>> from pbr.forecast import allocation
        >>> sensitivity(allocation(790)).plot().axes[0].get_xlabel()
        'families that earn their whole results share (%)'
        """
        from pbr.forecast._plot import plot_sensitivity

        return plot_sensitivity(self, path=path, title=title)


@in_exact_arithmetic
def sensitivity(
    alloc: Allocation,
    assumptions: Assumptions | None = None,
    rates: Iterable[object] | None = None,
    *,
    rules: RuleSet | None = None,
    calendar: ClaimCalendar | None = None,
    quarters: Mapping[str, object] | None = None,
) -> Sensitivity:
    """Forecast and money at risk for each success rate in `rates` (default 0%, 10%, …, 100%).

    At success rate *s*, a share *s* of the families earns its whole results share and the rest
    earns nothing beyond its attachment fee; results are paid on the timing of `assumptions`
    (what the others would have earned after results claims closed is never payable, not at
    risk, when the last window is that day)
    (default: the base scenario). Rates are shares (``0.5``, ``"1/2"``, ``Decimal("0.5")``),
    sorted. The scenario's own rate (its expected results over the results potential) is kept
    as `Sensitivity.scenario_rate` for comparison.

    >>> from pbr.forecast import allocation
    >>> s = sensitivity(allocation(790), rates=["0", "1"])
    >>> s.at_risk[-1], s.forecast[0] == s.attachment_fees
    (Decimal('0.00'), True)
    """
    alloc = checked_allocation(alloc)
    assumptions = checked_scenario(assumptions) or default_assumptions(alloc.programme)
    chosen_rates = checked_rates(rates)
    rules = rules_of(alloc, rules)
    terms = programme_terms(rules)
    calendar = claim_calendar(rules, calendar)
    check_scenario(assumptions, terms)
    given = [share(r, "rates") for r in (DEFAULT_RATES if chosen_rates is None else chosen_rates)]
    twice = sorted({r for r in given if given.count(r) > 1})
    if twice:  # [0.5, "1/2"] was one row
        raise ForecastError(f"rates gives the success rate {twice[0]} more than once")
    chosen = sorted(given)
    if not chosen:
        raise ForecastError("rates must hold at least one success rate")
    timing = Assumptions(assumptions.name, {}, assumptions.lag_months)
    exact: dict[Any, dict[str, Fraction]] = {}
    cohorts = attachment_cohorts(alloc, quarters)
    if quarters is not None and cohort_maxima(cohorts, terms, alloc)[0] != alloc.maximum:
        raise ForecastError(
            "quarters place families in years whose cap differs from the allocation's profile, "
            "so the maximum would change: build the allocation with that profile "
            "(allocation(..., profile=...))"
        )
    for c in cohorts:
        expected_payments(exact, c, c.families, terms, timing, calendar, ceiling=True)
    grant_payments(exact, alloc, calendar, after=None)
    inside = {
        column: sum(
            (row.get(column, Fraction(0)) for s, row in exact.items() if s is not None), Fraction(0)
        )
        for column in (FEES, GRANT, RISK)
    }
    later = exact.get(None, {})
    beyond_fixed = later.get(FEES, Fraction(0)) + later.get(GRANT, Fraction(0))
    beyond_results = later.get(RISK, Fraction(0))
    maximum = int(pence(alloc.maximum))
    fees = half_up(pence(inside[FEES]))
    grant = int(pence(inside[GRANT]))
    closed = ends_when_claims_close(rules, calendar)
    results, forecast, beyond, never, risk = [], [], [], [], []
    for s in chosen:
        within = inside[FEES] + inside[GRANT] + s * inside[RISK]
        drawn = half_up(pence(within))
        everything = half_up(pence(within + beyond_fixed + s * beyond_results))
        lost = half_up(pence((1 - s) * beyond_results)) if closed else 0
        results.append(pounds_of(drawn - fees - grant))
        forecast.append(pounds_of(drawn))
        beyond.append(pounds_of(everything - drawn))
        never.append(pounds_of(lost))
        risk.append(pounds_of(maximum - everything - lost))
    expected = potential = Fraction(0)
    for y in alloc.years:
        t = terms.year(y.year)
        expected += y.families * sum(
            (p * Fraction(t.rates[k]) for k, p in assumptions.probabilities.items()), Fraction(0)
        )
        potential += y.families * Fraction(t.results_share)
    return Sensitivity(
        scenario=assumptions.name,
        allocation=alloc,
        rates=tuple(chosen),
        attachment_fees=pounds_of(fees),
        upfront_grant=pounds_of(grant),
        results=tuple(results),
        forecast=tuple(forecast),
        beyond_horizon=tuple(beyond),
        at_risk=tuple(risk),
        never_payable=tuple(never),
        scenario_rate=expected / potential if potential else Fraction(0),
    )
