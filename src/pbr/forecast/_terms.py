"""What a programme pays and when: the one place forecasting reads money from a rule set.

Everything the forecast needs from the rules (the years families attach in, the funded share and
its rounding, each year's attachment fee, cap and result rates, and how long after attachment
each result can first be met) is read here by `programme_terms`, so that a different source of
programme terms (a later programme interface) replaces one function.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from pbr.periods import FinancialYear, add_months
from pbr.rules import RULE_SETS, RuleSet

__all__ = ["ProgrammeTerms", "Wait", "YearTerms", "programme_terms", "rules_for_programme"]


def rules_for_programme(programme: str) -> RuleSet:
    """The bundled rule set of `programme`.

    >>> rules_for_programme("tf-phase-1").programme
    'tf-phase-1'
    """
    for rules in RULE_SETS:
        if rules.programme == programme:
            return rules
    raise ValueError(
        f"unknown programme {programme!r}; choose from {', '.join(r.programme for r in RULE_SETS)}"
    )


@dataclass(frozen=True, slots=True)
class YearTerms:
    """The money for a family attached in one financial year."""

    year: FinancialYear
    attachment_fee: Decimal
    cap: Decimal
    rates: Mapping[str, Decimal]

    @property
    def results_share(self) -> Decimal:
        """The cap less the attachment fee: the most a family's results can earn."""
        return self.cap - self.attachment_fee


@dataclass(frozen=True, slots=True)
class Wait:
    """How long after attachment a result can first be met, and the parameter that says so."""

    months: int = 0
    weeks: int = 0
    parameter: str = ""

    def earliest(self, attached: date) -> date:
        """The first day the result can be met for a family attached on `attached`."""
        return add_months(attached, self.months) + timedelta(weeks=self.weeks)

    @property
    def shortest_lag(self) -> int:
        """The fewest whole months of lag that reach the wait from any attachment day."""
        return _shortest_lag(self.months, self.weeks)

    def __str__(self) -> str:
        if self.weeks:
            return f"{self.weeks} weeks"
        return f"{self.months} months"


@functools.cache
def _shortest_lag(months: int, weeks: int) -> int:
    # every start day of a four-year cycle (month lengths and leap days repeat)
    days = [date(2012, 1, 1) + timedelta(days=n) for n in range(1461)]
    lag = months
    while any(add_months(d, lag) < Wait(months, weeks).earliest(d) for d in days):
        lag += 1
    return lag


@dataclass(frozen=True, slots=True)
class ProgrammeTerms:
    """A programme's terms as the forecast uses them (see `programme_terms`)."""

    programme: str
    rules_version: str
    years: tuple[FinancialYear, ...]
    funded_fraction: Fraction
    funded_rounding: str
    by_year: Mapping[FinancialYear, YearTerms]
    waits: Mapping[str, Wait]

    def year(self, year: FinancialYear) -> YearTerms:
        """The terms for a family attached in `year`."""
        return self.by_year[year]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The programme's results, in the rule set's order."""
        return tuple(self.by_year[self.years[0]].rates)


def programme_terms(rules: RuleSet) -> ProgrammeTerms:
    """Read everything the forecast needs from `rules` (with its interpretations).

    >>> from pbr.rules import PHASE_ONE
    >>> terms = programme_terms(PHASE_ONE)
    >>> first = terms.year(terms.years[0])
    >>> str(first.attachment_fee), str(first.results_share), terms.funded_fraction
    ('3200.00', '800.00', Fraction(5, 6))
    >>> str(terms.waits["crime_asb_education"]), terms.waits["continuous_employment"].shortest_lag
    ('6 months', 4)
    """
    years = rules.years
    if rules.programme == "tf-phase-2":  # 2014/15 early starters are not forecast
        years = tuple(y for y in years if y.start_year >= 2015)
    by_year = {}
    for year in years:
        if rules.programme == "tf-phase-1":
            from pbr.phase_one import _rates

            rates = {str(kind): amount for kind, (amount, _src) in _rates(rules, year).items()}
        else:
            rates = {
                kind: rules.amount(kind, year)
                for kind in ("sustained_progress", "continuous_employment")
            }
        by_year[year] = YearTerms(
            year, rules.amount("attachment_fee", year), rules.amount("cap", year), rates
        )
    employment = Wait(
        weeks=rules.number("employment_weeks_other"), parameter="employment_weeks_other"
    )
    waits: dict[str, Wait] = {"continuous_employment": employment}
    if rules.programme == "tf-phase-1":
        waits["crime_asb_education"] = Wait(
            months=rules.number("results_wait_months"), parameter="results_wait_months"
        )
    return ProgrammeTerms(
        programme=rules.programme,
        rules_version=rules.rules_version,
        years=years,
        funded_fraction=(
            rules.fraction("funded_fraction")
            if "funded_fraction" in rules.parameters
            else Fraction(1)
        ),
        funded_rounding=rules.chosen.get("funded_rounding", "nearest"),
        by_year=by_year,
        waits=waits,
    )
