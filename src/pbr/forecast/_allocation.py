"""A council's allocation: funded families, maximum funding, fees and results potential by year.

Phase one (phase1-spec §6): funded families = 5/6 × the estimated troubled families, made whole by
the `funded_rounding` interpretation; maximum funding = whole funded families × the £4,000 cap;
per financial year, fees and results potential = families × that year's share × its amounts,
kept exact, then rounded to the penny as one table (`pbr.forecast._rounding`) so that the years
add up to the totals and the maximum exactly. Later programmes fund every family (no deadweight
fraction). A council's up-front grant (Supporting Families: tf-rules §3, S41) is money per
financial year outside the per-family cap, given by the analyst: its amount is set per council
and is not in the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pbr.errors import ForecastError
from pbr.forecast._inputs import MAX_FAMILIES, amount, count, share
from pbr.forecast._rounding import round_cells
from pbr.forecast._terms import (
    ProgrammeTerms,
    default_programme,
    programme_terms,
    rules_for_programme,
)
from pbr.money import ZERO, exact_class, in_exact_arithmetic
from pbr.periods import FinancialYear
from pbr.rules import RuleSet

__all__ = ["Allocation", "AllocationYear", "allocation", "pence", "pounds_of", "rules_of"]


def pence(value: Fraction | Decimal) -> Fraction:
    """Exact pounds as exact pence.

    >>> pence(Decimal("3200.00"))
    Fraction(320000, 1)
    """
    return Fraction(value) * 100


def pounds_of(pennies: int) -> Decimal:
    """Whole pence as pounds to the penny: the one place rounded pence become money.

    >>> pounds_of(70186667), pounds_of(0)
    (Decimal('701866.67'), Decimal('0.00'))
    """
    return Decimal(int(pennies)).scaleb(-2)


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class AllocationYear:
    """One financial year of an allocation: exact amounts, and the same to the penny.

    The amounts to the penny are the allocation's table rounded as a whole: each is within a
    penny of its exact value, and the years add up to the allocation's totals exactly.

    >>> first = allocation(790).years[0]
    >>> str(first.year), first.families, str(first.attachment_fees), str(first.maximum)
    ('2012/13', Fraction(658, 3), '701866.67', '877333.34')
    """

    year: FinancialYear
    share: Fraction
    """The share of the whole funded families attached in the year."""
    families: Fraction
    """Families attached in the year (exact; a fraction of a family when the share splits one)."""
    attachment_fee: Decimal
    """The attachment fee per family attached in the year."""
    results_share: Decimal
    """The most a family's results can earn: the cap less the attachment fee."""
    exact_attachment_fees: Fraction
    exact_results_potential: Fraction
    attachment_fees: Decimal
    """Attachment fees for the year, to the penny (``£701,866.67``)."""
    results_potential: Decimal
    """Results payments possible for the year's families, to the penny."""
    upfront_grant: Decimal = ZERO
    """The council's up-front grant for the year (outside the per-family cap)."""

    @property
    def maximum(self) -> Decimal:
        """The most the year's families (and grant) can bring: fees, results and grant.

        >>> [str(y.maximum) for y in allocation(2630).years]
        ['2922666.66', '2922666.67', '2922666.67']
        """
        return self.attachment_fees + self.results_potential + self.upfront_grant


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class Allocation:
    """Funded families and maximum funding for one council, by financial year of attachment.

    >>> a = allocation(790)
    >>> a.whole_funded_families, a.maximum
    (658, Decimal('2632000.00'))
    >>> sum(y.maximum for y in a.years) == a.maximum
    True
    """

    programme: str
    rules_version: str
    estimated_families: int
    funded_families: Fraction
    whole_funded_families: int
    funded_rounding: str
    cap: Decimal
    """The per-family cap of the first year of attachment (see `caps`: it can change by year)."""
    years: tuple[AllocationYear, ...]
    council: str | None = None
    """The council's name, when given (tables of several councils need it)."""
    rules: RuleSet | None = field(default=None, compare=False, repr=False)
    """The rule set (with its interpretations) the allocation was built with: a drawdown or
    forecast of it uses the same one (`rules_of`)."""

    @property
    def caps(self) -> dict[str, Decimal]:
        """The per-family cap of each financial year of attachment.

        Phase two with ``attachment_fees_after_2017_18="stopped"`` pays no attachment fee for
        families attached from 2018/19, and its cap for them is the results share alone.

        >>> allocation(790).caps
        {'2012/13': Decimal('4000.00'), '2013/14': Decimal('4000.00'), '2014/15': Decimal('4000.00')}
        """
        return {str(y.year): y.attachment_fee + y.results_share for y in self.years}

    @property
    def maximum(self) -> Decimal:
        """Maximum funding: Σ over years of the year's families × that year's cap, plus any grant.

        It is the sum of the years' maxima (to the penny, the table rounded as a whole), so a
        programme whose cap changes by year (phase two when attachment fees stopped) is counted
        at each year's own cap.

        >>> allocation(2630).maximum  # 2,192 funded families × £4,000
        Decimal('8768000.00')
        """
        return self.attachment_fees + self.results_potential + self.upfront_grant

    @property
    def upfront_grant(self) -> Decimal:
        """The council's up-front grant over the programme's years (zero unless given).

        >>> allocation(100, "supporting-families", upfront_grant=1_081_000).upfront_grant
        Decimal('4324000.00')
        """
        return sum((y.upfront_grant for y in self.years), ZERO)

    @property
    def attachment_fees(self) -> Decimal:
        """Every year's attachment fees, to the penny (the sum of the years).

        >>> allocation(790).attachment_fees  # 658 × (£3,200 + £2,400 + £1,600) / 3
        Decimal('1579200.00')
        """
        return sum((y.attachment_fees for y in self.years), ZERO)

    @property
    def results_potential(self) -> Decimal:
        """Every year's results potential, to the penny (the sum of the years).

        >>> allocation(790).results_potential
        Decimal('1052800.00')
        """
        return sum((y.results_potential for y in self.years), ZERO)

    @property
    def label(self) -> str:
        """The council's name, or its estimated families when it has none.

        >>> allocation(2630).label, allocation(2630, council="Lancashire").label
        ('2,630 estimated families', 'Lancashire')
        """
        return self.council or f"{self.estimated_families:,} estimated families"

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per financial year of attachment (money as `Decimal`, shares exact).

        The rows add up to the allocation's totals to the penny.

        >>> rows = allocation(2630).to_records()
        >>> sum(r["maximum"] for r in rows)
        Decimal('8768000.00')
        """
        named = {"council": self.council} if self.council is not None else {}
        return [
            {
                **named,
                "programme": self.programme,
                "year": str(y.year),
                "share": y.share,
                "families": y.families,
                "attachment_fee": y.attachment_fee,
                "attachment_fees": y.attachment_fees,
                "results_potential": y.results_potential,
                "upfront_grant": y.upfront_grant,
                "maximum": y.maximum,
            }
            for y in self.years
        ]

    def to_pandas(self) -> Any:
        """The rows of `to_records` as a DataFrame: money in whole pence (see `pbr.forecast.pounds`).

        >>> frame = allocation(2630).to_pandas()
        >>> int(frame["maximum_pence"].sum()), str(frame["share"].dtype)
        (876800000, 'float64')
        """
        from pbr.forecast._frames import to_frame

        return to_frame(self.to_records())

    def to_excel(self, path: str | Path) -> None:
        """Write the allocation to an XLSX workbook (money as numbers in £).

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "allocation.xlsx"
        >>> allocation(790).to_excel(path)
        >>> path.stat().st_size > 0
        True
        """
        from pbr.forecast._excel import write_workbook

        write_workbook(path, [("allocation", self.to_records())])


@in_exact_arithmetic
def allocation(
    estimated_families: object,
    programme: str | None = None,
    rules: RuleSet | None = None,
    profile: Mapping[str, object] | None = None,
    *,
    upfront_grant: object = None,
    council: str | None = None,
) -> Allocation:
    """The allocation for a council with `estimated_families`, by financial year of attachment.

    `estimated_families` is any whole number (``2630``, ``numpy.int64(2630)``, ``2630.0``) up
    to `pbr.forecast._inputs.MAX_FAMILIES` (ten million, so that every figure stays exact).
    `profile` maps financial years (``"2012/13"``) to the share of the whole funded families
    attached in each (exact text, `Fraction`, `Decimal` or float); by default equal shares over
    the programme's years. `rules` defaults to the programme's bundled rule set (its
    `funded_rounding` interpretation applies). `upfront_grant` is the council's up-front money
    per financial year of the programme (one amount for every year, or a mapping of years to
    amounts), outside the per-family cap: Supporting Families councils had one (North Yorkshire:
    £1,081,000 a year, tf-rules §3, S41), and so did phase one's (a co-ordinator, S2, S28) and
    phase two's (a service transformation grant, S31, S36); the amount is the council's, not a
    rule.

    >>> a = allocation(790)
    >>> [str(y.year) for y in a.years], a.attachment_fees + a.results_potential == a.maximum
    (['2012/13', '2013/14', '2014/15'], True)
    >>> sf = allocation(1000, "supporting-families", upfront_grant="1081000")
    >>> str(sf.upfront_grant), str(sf.maximum)
    ('4324000.00', '5124000.00')
    """
    estimated = count(estimated_families, "estimated_families", most=MAX_FAMILIES)
    if rules is None:
        rules = rules_for_programme(programme or default_programme())
    terms = programme_terms(rules)
    funded = terms.funded_fraction * estimated
    whole = _whole(funded, terms.funded_rounding)
    shares = _shares(profile, terms.years)
    grants = grant_payments(upfront_grant, terms.years)
    exact = {}
    for year in terms.years:
        t = terms.year(year)
        families = whole * shares[year]
        exact[year] = (
            families,
            families * Fraction(t.attachment_fee),
            families * Fraction(t.results_share),
        )
    rounded = _round_years(terms, exact, grants)
    rows = []
    for year in terms.years:
        t = terms.year(year)
        families, fees, results = exact[year]
        rows.append(
            AllocationYear(
                year=year,
                share=shares[year],
                families=families,
                attachment_fee=t.attachment_fee,
                results_share=t.results_share,
                exact_attachment_fees=fees,
                exact_results_potential=results,
                attachment_fees=rounded[year, "fees"],
                results_potential=rounded[year, "results"],
                upfront_grant=grants[year],
            )
        )
    return Allocation(
        programme=terms.programme,
        rules_version=terms.rules_version,
        estimated_families=estimated,
        funded_families=funded,
        whole_funded_families=whole,
        funded_rounding=terms.funded_rounding,
        cap=terms.year(terms.years[0]).cap,
        years=tuple(rows),
        council=council,
        rules=rules,
    )


def rules_of(alloc: Allocation, rules: RuleSet | None) -> RuleSet:
    """The rule set to forecast `alloc` with: `rules`, else the one it was built with.

    An allocation remembers its rule set (and interpretations), so ``drawdown(a)`` forecasts
    with the rules ``allocation(..., rules=r)`` used, not the bundled ones. `rules` given as
    well must agree with it on the money the allocation is made of (programme, years, funded
    share and rounding, each year's fee and cap); interpretations that do not change that
    money (how results are judged) may differ. A disagreement is a `ValueError`: the maximum
    and the forecast would be computed under different rules.

    >>> from pbr.rules import PHASE_ONE
    >>> a = allocation(790, rules=PHASE_ONE.with_interpretations(funded_rounding="floor"))
    >>> rules_of(a, None).chosen["funded_rounding"]
    'floor'
    >>> rules_of(a, PHASE_ONE)
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: rules disagree with the allocation's: it was built with funded_rounding='floor', rules= has funded_rounding='nearest'; build the allocation with the same rules (allocation(..., rules=...)) or leave rules= out to use the allocation's
    """
    own = alloc.rules
    if own is None:
        own = rules_for_programme(alloc.programme)
        if rules is None:
            return own
    if rules is None:
        return own
    if rules.programme != alloc.programme:
        raise ForecastError(
            f"rules are {rules.programme}'s but the allocation is for {alloc.programme}: "
            "give the allocation's programme's rules, or leave rules= out"
        )
    if _money_terms(rules) != _money_terms(own):
        keys = sorted(set(own.chosen) | set(rules.chosen))
        differ = [k for k in keys if own.chosen.get(k) != rules.chosen.get(k)]
        if differ:
            built = ", ".join(f"{k}={own.chosen.get(k)!r}" for k in differ)
            given = ", ".join(f"{k}={rules.chosen.get(k)!r}" for k in differ)
        else:
            built, given = own.rules_version, rules.rules_version
        raise ForecastError(
            f"rules disagree with the allocation's: it was built with {built}, rules= has "
            f"{given}; build the allocation with the same rules (allocation(..., rules=...)) "
            "or leave rules= out to use the allocation's"
        )
    return rules


def _money_terms(rules: RuleSet) -> tuple[Any, ...]:
    """What an allocation is made of under `rules`: equal for rules that build the same one."""
    terms = programme_terms(rules)
    return (
        terms.programme,
        terms.years,
        terms.funded_fraction,
        terms.funded_rounding,
        tuple((terms.year(y).attachment_fee, terms.year(y).cap) for y in terms.years),
    )


def _round_years(
    terms: ProgrammeTerms,
    exact: Mapping[FinancialYear, tuple[Fraction, Fraction, Fraction]],
    grants: Mapping[FinancialYear, Decimal],
) -> dict[tuple[FinancialYear, str], Decimal]:
    """Fees and results by year to the penny: each year and each column adds up (one table)."""
    cells: dict[Any, Fraction] = {}
    for year in terms.years:
        _families, fees, results = exact[year]
        cells[year, "fees"] = pence(fees)
        cells[year, "results"] = pence(results)
        cells[year, "grant"] = pence(grants[year])
    rows = {key: (("year", key[0]),) for key in cells}
    columns = {key: (("column", key[1]),) for key in cells}
    out = round_cells(cells, rows, columns)
    return {key: pounds_of(value) for key, value in out.items()}


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
    shares = dict.fromkeys(years, Fraction(0))
    for label, raw in profile.items():
        year = _year(label, years, "profile")
        shares[year] = share(raw, f"profile {label}")
    total = sum(shares.values(), Fraction(0))
    if total != 1:
        raise ForecastError(f"profile shares must add up to 1, they add up to {total}")
    return shares


def grant_payments(raw: object, years: tuple[FinancialYear, ...]) -> dict[FinancialYear, Decimal]:
    if raw is None:
        return dict.fromkeys(years, ZERO)
    if not isinstance(raw, Mapping):
        each = amount(raw, "upfront_grant")
        return dict.fromkeys(years, each)
    grants = dict.fromkeys(years, ZERO)
    for label, value in raw.items():
        grants[_year(label, years, "upfront_grant")] = amount(value, f"upfront_grant {label}")
    return grants


def _year(label: object, years: tuple[FinancialYear, ...], field: str) -> FinancialYear:
    try:
        year = FinancialYear.parse(str(label))
    except ValueError:
        raise ForecastError(
            f"{field}: {label!r} is not a financial year such as '2012/13'"
        ) from None
    if year not in years:
        raise ForecastError(
            f"{field} year {label} is outside the programme's years "
            f"({', '.join(str(y) for y in years)})"
        )
    return year
