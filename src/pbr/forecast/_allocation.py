"""A council's allocation: funded families, maximum funding, fees and results potential by year.

Phase one (phase1-spec §6): funded families = 5/6 × the estimated troubled families, made whole by
the `funded_rounding` interpretation; maximum funding = whole funded families × the £4,000 cap;
per financial year, fees and results potential = families × that year's share × its amounts,
kept exact until shown. Later programmes fund every family (no deadweight fraction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pbr.money import round_to_penny, round_to_pound
from pbr.periods import FinancialYear
from pbr.rules import RULE_SETS, RuleSet

__all__ = ["Allocation", "AllocationYear", "allocation", "parse_share", "rules_for_programme"]


def parse_share(value: object) -> Fraction:
    """An exact share or probability from ``"1/3"``, ``"0.25"``, an int or a `Fraction`.

    >>> parse_share("1/3"), parse_share("0.25")
    (Fraction(1, 3), Fraction(1, 4))
    """
    if isinstance(value, bool | float):
        raise ValueError(f"give shares as exact strings such as '1/3' or '0.25', not {value!r}")
    if isinstance(value, Fraction | int | Decimal):
        share = Fraction(value)
    elif isinstance(value, str):
        try:
            share = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"not an exact share: {value!r}") from None
    else:
        raise ValueError(f"not an exact share: {value!r}")
    if not 0 <= share <= 1:
        raise ValueError(f"a share must be between 0 and 1, got {value!r}")
    return share


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
class AllocationYear:
    """One financial year of an allocation; exact amounts, shown to the penny.

    >>> first = allocation(790).years[0]
    >>> str(first.year), first.families, str(first.attachment_fees)
    ('2012/13', Fraction(658, 3), '701866.67')
    """

    year: FinancialYear
    share: Fraction
    families: Fraction
    attachment_fee: Decimal
    results_share: Decimal
    exact_attachment_fees: Fraction
    exact_results_potential: Fraction

    @property
    def attachment_fees(self) -> Decimal:
        """Attachment fees for the year, to the penny (``£701,866.67``)."""
        return round_to_penny(self.exact_attachment_fees)

    @property
    def results_potential(self) -> Decimal:
        """Results payments possible for the year's families, to the penny."""
        return round_to_penny(self.exact_results_potential)


@dataclass(frozen=True, slots=True)
class Allocation:
    """Funded families and maximum funding for one council, by financial year of attachment.

    >>> a = allocation(790)
    >>> a.whole_funded_families, a.maximum
    (658, Decimal('2632000.00'))
    >>> str(a.years[0].attachment_fees), str(round_to_pound(a.years[0].exact_attachment_fees))
    ('701866.67', '701867.00')
    """

    programme: str
    rules_version: str
    estimated_families: int
    funded_families: Fraction
    whole_funded_families: int
    funded_rounding: str
    cap: Decimal
    years: tuple[AllocationYear, ...]

    @property
    def maximum(self) -> Decimal:
        """Maximum funding: whole funded families × the per-family cap."""
        return round_to_penny(self.whole_funded_families * Fraction(self.cap))

    @property
    def attachment_fees(self) -> Decimal:
        """Every year's attachment fees, to the penny."""
        return round_to_penny(sum((y.exact_attachment_fees for y in self.years), Fraction(0)))

    @property
    def results_potential(self) -> Decimal:
        """Every year's results potential, to the penny."""
        return round_to_penny(sum((y.exact_results_potential for y in self.years), Fraction(0)))

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per financial year (money as `Decimal`), ready for any table."""
        return [
            {
                "programme": self.programme,
                "year": str(y.year),
                "share": str(y.share),
                "families": str(round_to_penny(y.families)),
                "attachment_fee": y.attachment_fee,
                "attachment_fees": y.attachment_fees,
                "attachment_fees_to_pound": round_to_pound(y.exact_attachment_fees),
                "results_potential": y.results_potential,
                "maximum": round_to_penny(y.exact_attachment_fees + y.exact_results_potential),
            }
            for y in self.years
        ]

    def to_pandas(self) -> Any:
        """The rows of `to_records` as a pandas DataFrame (``pip install "pbr[forecast]"``)."""
        from pbr.forecast._extras import pandas

        return pandas().DataFrame(self.to_records())


def allocation(
    estimated_families: int,
    programme: str = "tf-phase-1",
    rules: RuleSet | None = None,
    profile: Mapping[str, object] | None = None,
) -> Allocation:
    """The allocation for a council with `estimated_families`, by financial year of attachment.

    `profile` maps financial years (``"2012/13"``) to the share of the whole funded families
    attached in each; by default equal shares over the programme's years. `rules` defaults to
    the programme's bundled rule set (its `funded_rounding` interpretation applies).

    >>> a = allocation(790)
    >>> [str(y.year) for y in a.years], a.attachment_fees + a.results_potential == a.maximum
    (['2012/13', '2013/14', '2014/15'], True)
    """
    if isinstance(estimated_families, bool) or not isinstance(estimated_families, int):
        raise ValueError(f"estimated_families must be a whole number, got {estimated_families!r}")
    if estimated_families < 0:
        raise ValueError(f"estimated_families must not be negative, got {estimated_families}")
    rules = rules if rules is not None else rules_for_programme(programme)
    years = _programme_years(rules)
    fraction = (
        rules.fraction("funded_fraction") if "funded_fraction" in rules.parameters else Fraction(1)
    )
    funded = fraction * estimated_families
    rounding = rules.chosen.get("funded_rounding", "nearest")
    whole = _whole(funded, rounding)
    shares = _shares(profile, years)
    cap = rules.amount("cap", years[0])
    rows = []
    for year in years:
        share = shares.get(year, Fraction(0))
        families = whole * share
        fee = rules.amount("attachment_fee", year)
        results = rules.amount("cap", year) - fee
        rows.append(
            AllocationYear(
                year=year,
                share=share,
                families=families,
                attachment_fee=fee,
                results_share=results,
                exact_attachment_fees=families * Fraction(fee),
                exact_results_potential=families * Fraction(results),
            )
        )
    return Allocation(
        programme=rules.programme,
        rules_version=rules.rules_version,
        estimated_families=estimated_families,
        funded_families=funded,
        whole_funded_families=whole,
        funded_rounding=rounding,
        cap=cap,
        years=tuple(rows),
    )


def _programme_years(rules: RuleSet) -> tuple[FinancialYear, ...]:
    """The years families are attached in; phase two's 2014/15 early starters are left out."""
    if rules.programme == "tf-phase-2":
        return tuple(y for y in rules.years if y.start_year >= 2015)
    return rules.years


def _whole(funded: Fraction, rounding: str) -> int:
    whole, rest = divmod(funded.numerator, funded.denominator)
    if rounding == "nearest" and 2 * rest >= funded.denominator:
        whole += 1
    return whole


def _shares(
    profile: Mapping[str, object] | None, years: tuple[FinancialYear, ...]
) -> dict[FinancialYear, Fraction]:
    if profile is None:
        return {y: Fraction(1, len(years)) for y in years}
    shares: dict[FinancialYear, Fraction] = {}
    for label, raw in profile.items():
        year = FinancialYear.parse(label)
        if year not in years:
            raise ValueError(
                f"profile year {label} is outside the programme's years "
                f"({', '.join(str(y) for y in years)})"
            )
        shares[year] = parse_share(raw)
    total = sum(shares.values(), Fraction(0))
    if total != 1:
        raise ValueError(f"profile shares must add up to 1, they add up to {total}")
    return shares
