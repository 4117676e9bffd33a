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
from pbr.programmes import programme as _programme
from pbr.rules import RuleSet

__all__ = [
    "ProgrammeTerms",
    "Wait",
    "YearTerms",
    "default_programme",
    "programme_name",
    "programme_terms",
    "rules_for_programme",
]


def default_programme() -> str:
    """The programme a forecast is for when none is named: the oldest the registry lists.

    >>> default_programme()
    'tf-phase-1'
    """
    from pbr.programmes import programmes

    return programmes()[0].id


def programme_name(programme: str) -> str:
    """A programme's name for titles, or its id when the registry does not list it.

    >>> programme_name("supporting-families")
    'Supporting Families'
    """
    try:
        return _programme(programme).name
    except KeyError:
        return programme


def rules_for_programme(programme: str) -> RuleSet:
    """The bundled rule set of `programme` (any programme the registry lists).

    >>> rules_for_programme("tf-phase-1").programme
    'tf-phase-1'
    """
    try:
        return _programme(programme).rules
    except KeyError as exc:
        raise ValueError(str(exc).strip("'\"")) from None


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
    source = _programme(rules.programme)
    years = tuple(
        y for y in rules.years if rules.forecast_from is None or y.end >= rules.forecast_from
    )
    by_year = {
        year: YearTerms(
            year,
            source.attachment_fee(rules, year),
            source.cap(rules, year),
            {str(kind): amount for kind, amount in source.result_rates(rules, year).items()},
        )
        for year in years
    }
    waits: dict[str, Wait] = {
        "continuous_employment": Wait(
            weeks=rules.number("employment_weeks_other"), parameter="employment_weeks_other"
        )
    }
    if "crime_asb_education" in source.result_kinds:
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
