"""Expected drawdown by claim window: attachment fees when families attach, results when met.

The model, in one paragraph: the whole funded families attach by quarter (the allocation's yearly
shares spread evenly over each year's four quarters, or a quarterly profile), each cohort on the
15th of its quarter's middle month. Each result is met by a share of a cohort (its probability)
a number of months after attachment (a distribution of lags) and paid, at the rate of the year of
attachment, in the first claim window on or after the day it is met. Expected amounts are exact
fractions; shown amounts are rounded once, on the cumulative totals, so windows add up to the
penny. Monte Carlo (`pbr.forecast._montecarlo`) draws whole families (binomial, then multinomial
over lags) in integer pence, each cohort's results cut at its room under the cap.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pbr.forecast._allocation import Allocation, parse_share, rules_for_programme
from pbr.forecast._montecarlo import CohortDraw, check_band, monte_carlo
from pbr.money import ZERO, round_to_penny
from pbr.periods import FinancialYear, add_months, financial_year_of
from pbr.rules import RuleSet

__all__ = [
    "Assumptions",
    "ClaimCalendar",
    "Comparison",
    "Drawdown",
    "Window",
    "compare",
    "default_assumptions",
    "drawdown",
    "from_records",
    "result_rates",
]

FEES = "attachment_fees"


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What share of families meets each result, and how many months after attachment.

    >>> a = Assumptions.from_mapping({"name": "base",
    ...     "probabilities": {"continuous_employment": "0.2"}, "lag_months": {"6": "1/2", "12": "1/2"}})
    >>> a.probabilities["continuous_employment"], a.lag_months[12]
    (Fraction(1, 5), Fraction(1, 2))
    """

    name: str
    probabilities: Mapping[str, Fraction]
    lag_months: Mapping[int, Fraction]

    def __post_init__(self) -> None:
        if not self.lag_months:
            raise ValueError(f"scenario {self.name!r}: lag_months is empty")
        total = sum(self.lag_months.values(), Fraction(0))
        if total != 1:
            raise ValueError(f"scenario {self.name!r}: lag_months add up to {total}, not 1")
        if any(m < 0 for m in self.lag_months):
            raise ValueError(f"scenario {self.name!r}: a lag must be 0 months or more")
        for kind, p in self.probabilities.items():
            if not 0 <= p <= 1:
                raise ValueError(
                    f"scenario {self.name!r}: the probability of {kind} must be between 0 and 1, "
                    f"got {p}"
                )

    @classmethod
    def from_mapping(cls, data: Any) -> Assumptions:
        """Build from plain data (a scenario file): exact strings such as ``"0.4"`` or ``"1/3"``.

        Every error names the scenario, the field and the value.

        >>> Assumptions.from_mapping({"name": "x", "probabilities": {"progress_to_work": "1/3"},
        ...     "lag_months": {"six": "1"}})
        Traceback (most recent call last):
        ...
        ValueError: scenario 'x': lag_months: 'six' is not a whole number of months
        """
        if not isinstance(data, Mapping):
            raise ValueError(
                f"a scenario must be a table of name, probabilities, lag_months: {data!r}"
            )
        name = str(data.get("name", "scenario"))
        unknown = set(data) - {"name", "probabilities", "lag_months"}
        if unknown:
            raise ValueError(f"scenario {name!r}: unknown keys {sorted(unknown)}")
        table = _table(data, "probabilities", name)
        try:
            probabilities = {str(k): parse_share(v) for k, v in table.items()}
        except ValueError as exc:
            raise ValueError(f"scenario {name!r}: probabilities: {exc}") from None
        lags = {}
        for k, v in _table(data, "lag_months", name).items():
            try:
                months = int(k)
            except ValueError:
                raise ValueError(
                    f"scenario {name!r}: lag_months: {k!r} is not a whole number of months"
                ) from None
            try:
                lags[months] = parse_share(v)
            except ValueError as exc:
                raise ValueError(f"scenario {name!r}: lag_months {k}: {exc}") from None
        return cls(name, probabilities, lags)


def _table(data: Mapping[str, Any], key: str, name: str) -> Mapping[Any, Any]:
    if key not in data:
        raise ValueError(f"scenario {name!r}: missing {key!r}")
    if not isinstance(data[key], Mapping):
        raise ValueError(f"scenario {name!r}: {key} must be a table, got {data[key]!r}")
    return data[key]  # type: ignore[no-any-return]


def default_assumptions(programme: str = "tf-phase-1") -> Assumptions:
    """Illustrative assumptions for `programme` (not evidence: replace them with your own).

    >>> base = default_assumptions()
    >>> base.name, str(base.probabilities["crime_asb_education"]), sorted(base.lag_months)
    ('base', '1/2', [6, 9, 12, 18])
    """
    lags = {6: Fraction(1, 4), 9: Fraction(1, 4), 12: Fraction(1, 4), 18: Fraction(1, 4)}
    if programme == "tf-phase-1":
        probabilities = {
            "crime_asb_education": Fraction(1, 2),
            "progress_to_work": Fraction(1, 10),
            "continuous_employment": Fraction(1, 10),
        }
    else:
        probabilities = {
            "sustained_progress": Fraction(1, 2),
            "continuous_employment": Fraction(1, 5),
        }
    return Assumptions("base", probabilities, lags)


@dataclass(frozen=True, slots=True)
class ClaimCalendar:
    """The dates claims are paid; a result is paid in the first window on or after it is met.

    >>> cal = ClaimCalendar.quarterly(date(2012, 4, 1), date(2013, 3, 31))
    >>> cal.dates[0], cal.window_for(date(2012, 7, 1))
    (datetime.date(2012, 6, 30), datetime.date(2012, 9, 30))
    """

    dates: tuple[date, ...]

    def __post_init__(self) -> None:
        if not self.dates or list(self.dates) != sorted(set(self.dates)):
            raise ValueError("claim dates must be given, unique and in order")

    def window_for(self, day: date) -> date | None:
        """The first claim date on or after `day`, or None beyond the last window."""
        i = bisect.bisect_left(self.dates, day)
        return self.dates[i] if i < len(self.dates) else None

    @classmethod
    def quarterly(cls, first: date, last: date) -> ClaimCalendar:
        """Quarter ends (30 June, 30 September, 31 December, 31 March) from `first` to `last`."""
        ends: list[date] = []
        year = first.year - 1
        while True:
            for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
                end = date(year, month, day)
                if end > last:
                    return cls(tuple(ends))
                if end >= first:
                    ends.append(end)
            year += 1

    @classmethod
    def default_for(cls, rules: RuleSet) -> ClaimCalendar:
        """Quarterly windows from the programme's first attachment to two years after its last."""
        last = date(rules.attached_to.year + 2, 3, 31)
        return cls.quarterly(financial_year_of(rules.attached_from).start, last)


@dataclass(frozen=True, slots=True)
class Window:
    """One claim window's drawdown (expected, and Monte Carlo bands of the cumulative total).

    >>> from pbr.forecast import allocation
    >>> first = drawdown(allocation(790)).windows[0]
    >>> first.claim_date, str(first.year), str(first.attachment_fees)
    (datetime.date(2012, 6, 30), '2012/13', '175466.67')
    """

    claim_date: date
    year: FinancialYear
    attachment_fees: Decimal
    results: Mapping[str, Decimal]
    total: Decimal
    cumulative: Decimal
    low: Decimal | None = None
    median: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Drawdown:
    """Expected drawdown per claim window and financial year, against the maximum.

    `secured` (paid) and `claimable_now` are set when the forecast starts from actual records
    (`as_of` is then the evaluation date); the windows then hold what is forecast beyond them.
    With `runs` > 0 each window carries Monte Carlo percentiles of the cumulative total.

    >>> from pbr.forecast import allocation
    >>> d = drawdown(allocation(790), runs=200, seed=7)
    >>> d.total <= d.maximum, d.windows[-1].low <= d.windows[-1].high <= d.maximum
    (True, True)
    """

    scenario: str
    programme: str
    maximum: Decimal
    windows: tuple[Window, ...]
    beyond_horizon: Decimal
    runs: int = 0
    seed: int = 0
    """The Monte Carlo seed (numpy's PCG64); the same seed gives the same bands."""
    band: tuple[int, int] = (5, 95)
    secured: Decimal = ZERO
    claimable_now: Decimal = ZERO
    kinds: tuple[str, ...] = field(default=())
    mc_mean: Decimal | None = None
    """Mean of the Monte Carlo runs' final cumulative total (to the penny)."""
    mc_std: Decimal | None = None
    """Standard deviation of the runs' final cumulative total (to the penny)."""
    as_of: date | None = None
    """The evaluation date of a forecast from records (None for a forecast by assumption)."""
    not_attached: int = 0
    """Funded families with no record and no attachment quarter left after `as_of`: not forecast."""

    def summary(self) -> dict[str, Any]:
        """Secured, claimable now, forecast in the windows, beyond them, and the maximum.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(6)).summary()["maximum"]
        Decimal('20000.00')
        """
        return {
            "scenario": self.scenario,
            "as_of": self.as_of,
            "secured": self.secured,
            "claimable_now": self.claimable_now,
            "forecast": self.total,
            "beyond_horizon": self.beyond_horizon,
            "not_attached": self.not_attached,
            "maximum": self.maximum,
        }

    @property
    def total(self) -> Decimal:
        """Everything forecast in the windows (fees and results)."""
        return self.windows[-1].cumulative if self.windows else ZERO

    @property
    def forecast(self) -> Decimal:
        """What is forecast beyond what is secured and claimable now."""
        return self.total

    def by_year(self) -> list[dict[str, Any]]:
        """Drawdown per financial year of the claim date (money as `Decimal`)."""
        rows: dict[FinancialYear, dict[str, Any]] = {}
        for w in self.windows:
            row = rows.setdefault(
                w.year,
                {"scenario": self.scenario, "year": str(w.year), FEES: ZERO}
                | dict.fromkeys(self.kinds, ZERO)
                | {"total": ZERO},
            )
            row[FEES] += w.attachment_fees
            for kind, amount in w.results.items():
                row[kind] += amount
            row["total"] += w.total
        cumulative = ZERO
        for row in rows.values():
            cumulative += row["total"]
            row["cumulative"] = cumulative
        return list(rows.values())

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per claim window (money as `Decimal`, dates as `date`).

        A forecast from records adds the columns ``as_of``, ``secured`` and ``claimable_now``
        (the same in every row, like ``maximum``), so a table loses nothing.
        """
        known = (
            {"as_of": self.as_of, "secured": self.secured, "claimable_now": self.claimable_now}
            if self.as_of is not None
            else {}
        )
        return [
            {
                "scenario": self.scenario,
                **known,
                "claim_date": w.claim_date,
                "year": str(w.year),
                FEES: w.attachment_fees,
                **{k: w.results.get(k, ZERO) for k in self.kinds},
                "total": w.total,
                "cumulative": w.cumulative,
                "maximum": self.maximum,
                **(
                    {
                        f"p{self.band[0]}": w.low,
                        "p50": w.median,
                        f"p{self.band[1]}": w.high,
                    }
                    if self.runs
                    else {}
                ),
            }
            for w in self.windows
        ]

    def to_pandas(self) -> Any:
        """The rows of `to_records` as a pandas DataFrame (``pip install "pbr[forecast]"``)."""
        from pbr.forecast._extras import pandas

        return pandas().DataFrame(self.to_records())

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw the chart: stacked fees and results by year, cumulative line, Monte Carlo band."""
        from pbr.forecast._plot import plot_drawdowns

        return plot_drawdowns([self], path=path, title=title)


def result_rates(rules: RuleSet, year: FinancialYear) -> dict[str, Decimal]:
    """Each result's rate for a family attached in `year` under `rules` (and its interpretations).

    >>> from pbr.rules import PHASE_ONE
    >>> {k: str(v) for k, v in result_rates(PHASE_ONE, FinancialYear(2012)).items()}
    {'crime_asb_education': '700.00', 'progress_to_work': '100.00', 'continuous_employment': '800.00'}
    """
    if rules.programme == "tf-phase-1":
        from pbr.phase_one import _rates

        return {kind: amount for kind, (amount, _src) in _rates(rules, year).items()}
    return {
        kind: rules.amount(kind, year) for kind in ("sustained_progress", "continuous_employment")
    }


@dataclass(frozen=True, slots=True)
class _Cohort:
    attached: date
    year: FinancialYear
    families: Fraction


def _cohorts(alloc: Allocation, quarters: Mapping[str, object] | None) -> list[_Cohort]:
    """Families attached per quarter, each on the 15th of the quarter's middle month."""
    cohorts = []
    if quarters is None:
        for y in alloc.years:
            for q in range(4):
                cohorts.append(_Cohort(_quarter_day(y.year, q), y.year, y.families / 4))
        return cohorts
    total = Fraction(0)
    known = {y.year for y in alloc.years}
    for label, raw in quarters.items():
        fy_text, _, q_text = label.partition(" Q")
        year = FinancialYear.parse(fy_text)
        if year not in known or q_text not in ("1", "2", "3", "4"):
            raise ValueError(
                f"quarter {label!r}: expected 'YYYY/YY Qn' within the programme's years"
            )
        share = parse_share(raw)
        total += share
        cohorts.append(
            _Cohort(_quarter_day(year, int(q_text) - 1), year, alloc.whole_funded_families * share)
        )
    if total != 1:
        raise ValueError(f"quarterly shares must add up to 1, they add up to {total}")
    return sorted(cohorts, key=lambda c: c.attached)


def _quarter_day(year: FinancialYear, quarter: int) -> date:
    return add_months(date(year.start_year, 5, 15), 3 * quarter)


def _check(assumptions: Assumptions, rules: RuleSet, years: Iterable[FinancialYear]) -> None:
    for year in years:
        rates = result_rates(rules, year)
        unknown = set(assumptions.probabilities) - set(rates)
        if unknown:
            raise ValueError(
                f"scenario {assumptions.name!r}: {sorted(unknown)} are not results of "
                f"{rules.programme} (choose from {', '.join(rates)})"
            )
        expected = sum(
            (p * Fraction(rates[k]) for k, p in assumptions.probabilities.items()), Fraction(0)
        )
        share = Fraction(rules.amount("cap", year) - rules.amount("attachment_fee", year))
        if expected > share:
            raise ValueError(
                f"scenario {assumptions.name!r}: expected results per family in {year} are "
                f"{round_to_penny(expected)}, more than the results share {round_to_penny(share)}; "
                "the routes cannot all be paid in full (lower the probabilities)"
            )


def drawdown(
    alloc: Allocation,
    assumptions: Assumptions | None = None,
    *,
    rules: RuleSet | None = None,
    calendar: ClaimCalendar | None = None,
    quarters: Mapping[str, object] | None = None,
    runs: int = 0,
    seed: int = 0,
    band: tuple[int, int] = (5, 95),
) -> Drawdown:
    """The expected drawdown of `alloc` per claim window, with Monte Carlo bands if `runs` > 0.

    Families attach by quarter (`quarters` maps ``"2012/13 Q1"`` to a share of the whole funded
    families; by default each year's share of the allocation in four equal parts). `runs` seeded
    Monte Carlo runs (numpy's PCG64 from `seed`; see `pbr.forecast._montecarlo`) give the
    `band` percentiles of the cumulative total per window.

    >>> from pbr.forecast import allocation
    >>> d = drawdown(allocation(790))
    >>> d.total + d.beyond_horizon <= d.maximum, d.windows[0].claim_date
    (True, datetime.date(2012, 6, 30))
    """
    rules = rules if rules is not None else rules_for_programme(alloc.programme)
    assumptions = assumptions or default_assumptions(alloc.programme)
    calendar = calendar or ClaimCalendar.default_for(rules)
    _check(assumptions, rules, (y.year for y in alloc.years))
    check_band(band)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 0:
        raise ValueError(f"runs must be a whole number of 0 or more, got {runs!r}")
    cohorts = _cohorts(alloc, quarters)
    kinds = tuple(assumptions.probabilities)
    exact: dict[date, dict[str, Fraction]] = {}
    beyond = Fraction(0)
    for c in cohorts:
        beyond += _expect(exact, c, c.families, rules, assumptions, calendar)
    bands, mean, std = (
        _simulate(cohorts, assumptions, rules, calendar, exact, runs, seed, band)
        if runs
        else ({}, None, None)
    )
    return Drawdown(
        scenario=assumptions.name,
        programme=alloc.programme,
        maximum=alloc.maximum,
        windows=_windows(exact, kinds, bands),
        beyond_horizon=round_to_penny(beyond),
        runs=runs,
        seed=seed,
        band=band,
        kinds=kinds,
        mc_mean=mean,
        mc_std=std,
    )


def _expect(
    exact: dict[date, dict[str, Fraction]],
    cohort: _Cohort,
    families: Fraction,
    rules: RuleSet,
    assumptions: Assumptions,
    calendar: ClaimCalendar,
) -> Fraction:
    """Add a cohort's expected fees and results to `exact`; return what falls beyond the last window."""
    beyond = Fraction(0)
    fee = families * Fraction(rules.amount("attachment_fee", cohort.year))
    slot = calendar.window_for(cohort.attached)
    if slot is None:
        beyond += fee
    else:
        _add(exact, slot, FEES, fee)
    rates = result_rates(rules, cohort.year)
    for kind, p in assumptions.probabilities.items():
        for lag, q in assumptions.lag_months.items():
            amount = families * p * q * Fraction(rates[kind])
            slot = calendar.window_for(add_months(cohort.attached, lag))
            if slot is None:
                beyond += amount
            else:
                _add(exact, slot, kind, amount)
    return beyond


def _add(table: dict[date, dict[str, Fraction]], slot: date, column: str, amount: Fraction) -> None:
    row = table.setdefault(slot, {})
    row[column] = row.get(column, Fraction(0)) + amount


def _windows(
    exact: Mapping[date, Mapping[str, Fraction]],
    kinds: Sequence[str],
    bands: Mapping[date, tuple[Decimal, Decimal, Decimal]],
) -> tuple[Window, ...]:
    """Round once, on cumulative totals, so that the windows add up to the rounded total."""
    columns = (FEES, *kinds)
    running = dict.fromkeys(columns, Fraction(0))
    shown = dict.fromkeys(columns, ZERO)
    grand = ZERO
    out = []
    for slot in sorted(exact):
        this: dict[str, Decimal] = {}
        for column in columns:
            running[column] += exact[slot].get(column, Fraction(0))
            rounded = round_to_penny(running[column])
            this[column] = rounded - shown[column]
            shown[column] = rounded
        total = sum(this.values(), ZERO)
        grand += total
        low, median, high = bands.get(slot, (None, None, None))
        out.append(
            Window(
                claim_date=slot,
                year=financial_year_of(slot),
                attachment_fees=this[FEES],
                results={k: this[k] for k in kinds},
                total=total,
                cumulative=grand,
                low=low,
                median=median,
                high=high,
            )
        )
    return tuple(out)


def _simulate(
    cohorts: Sequence[_Cohort],
    assumptions: Assumptions,
    rules: RuleSet,
    calendar: ClaimCalendar,
    exact: Mapping[date, Mapping[str, Fraction]],
    runs: int,
    seed: int,
    band: tuple[int, int],
) -> tuple[dict[date, tuple[Decimal, Decimal, Decimal]], Decimal, Decimal]:
    """Percentile bands of the cumulative total per window (see `pbr.forecast._montecarlo`)."""
    slots = sorted(exact)
    index = {slot: i for i, slot in enumerate(slots)}
    lags = sorted(assumptions.lag_months)
    draws = []
    for c in cohorts:
        rates = result_rates(rules, c.year)
        targets = (calendar.window_for(add_months(c.attached, m)) for m in lags)
        fee = rules.amount("attachment_fee", c.year)
        fee_slot = calendar.window_for(c.attached)
        draws.append(
            CohortDraw(
                families=c.families,
                fee=int(fee * 100),
                fee_window=None if fee_slot is None else index[fee_slot],
                rates={k: int(rates[k] * 100) for k in assumptions.probabilities},
                windows=tuple(None if t is None else index[t] for t in targets),
                share=int((rules.amount("cap", c.year) - fee) * 100),
            )
        )
    mc = monte_carlo(
        draws,
        assumptions.probabilities,
        [assumptions.lag_months[m] for m in lags],
        len(slots),
        runs=runs,
        seed=seed,
        band=band,
    )
    bands = {slot: (mc.low[i], mc.median[i], mc.high[i]) for slot, i in index.items()}
    return bands, mc.mean, mc.std


def from_records(
    records: Iterable[Any],
    *,
    as_of: date,
    alloc: Allocation,
    assumptions: Assumptions | None = None,
    rules: RuleSet | None = None,
    calendar: ClaimCalendar | None = None,
    plan: Any = None,
) -> Drawdown:
    """Forecast from actual records: what is paid, what is claimable now, and what is to come.

    Each family is evaluated at `as_of` (`pbr.evaluate`) under `rules` (the allocation's
    programme; a record of another programme is an error naming it). Its payments made by
    `as_of` are **secured**. For an eligible family attached by `as_of`, its payable results and
    its unpaid attachment fee are **claimable now**; an eligible family attached after `as_of`
    has its fee **forecast** in the first window on or after its attachment. Results not yet
    met are **forecast** at the scenario's probability, from the later of their earliest date
    and the lags (never before the day after `as_of`), within the family's room under the cap.
    Funded families with no record are forecast by assumption in the allocation's quarters after
    `as_of`; when none is left, they are counted in `not_attached`.

    >>> import pbr
    >>> from pbr.forecast import allocation
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> d = from_records([family], as_of=date(2013, 6, 30), alloc=allocation(6))
    >>> str(d.secured), str(d.claimable_now)
    ('0.00', '4000.00')
    """
    from pbr.engine import evaluate

    rules = rules if rules is not None else rules_for_programme(alloc.programme)
    assumptions = assumptions or default_assumptions(alloc.programme)
    calendar = calendar or ClaimCalendar.default_for(rules)
    _check(assumptions, rules, (y.year for y in alloc.years))
    kinds = tuple(assumptions.probabilities)
    exact: dict[date, dict[str, Fraction]] = {}
    beyond = Fraction(0)
    secured = claimable = ZERO
    attached = 0
    after = date.fromordinal(as_of.toordinal() + 1)
    for family in records:
        decision = evaluate(family, as_of=as_of, rules=rules, plan=plan)
        attached += 1
        secured += decision.paid_to_date
        if not decision.eligible:
            continue
        claimable += decision.payable
        fee_paid = sum(
            (
                p.amount
                for p in family.payments
                if p.kind == "attachment_fee" and (p.paid_on is None or p.paid_on <= as_of)
            ),
            ZERO,
        )
        fee_due = max(decision.attachment_fee - fee_paid, ZERO)
        if family.attached_on <= as_of:
            claimable += fee_due
        elif fee_due:
            slot = calendar.window_for(family.attached_on)
            if slot is None:
                beyond += Fraction(fee_due)
            else:
                _add(exact, slot, FEES, Fraction(fee_due))
        room = Fraction(
            decision.cap
            - max(decision.attachment_fee, fee_paid)
            - (decision.paid_to_date - fee_paid)
            - decision.payable
        )
        pending = [
            (
                str(kind),
                assumptions.probabilities[kind] * Fraction(result.rate),
                result.earliest_date,
            )
            for kind, result in decision.results.items()
            if kind in assumptions.probabilities and result.status == "not_met"
        ]
        wanted = sum((amount for _, amount, _ in pending), Fraction(0))
        scale = min(Fraction(1), room / wanted) if wanted > 0 and room > 0 else Fraction(0)
        for name, amount, start in pending:
            for lag, q in assumptions.lag_months.items():
                day = max(add_months(family.attached_on, lag), start or after, after)
                slot = calendar.window_for(day)
                value = amount * scale * q
                if slot is None:
                    beyond += value
                else:
                    _add(exact, slot, name, value)
    remaining = max(alloc.whole_funded_families - attached, 0)
    future = [c for c in _cohorts(alloc, None) if c.attached > as_of]
    weight = sum((c.families for c in future), Fraction(0))
    for c in future:
        families = c.families * remaining / weight
        beyond += _expect(exact, c, families, rules, assumptions, calendar)
    return Drawdown(
        scenario=assumptions.name,
        programme=alloc.programme,
        maximum=alloc.maximum,
        windows=_windows(exact, kinds, {}),
        beyond_horizon=round_to_penny(beyond),
        secured=secured,
        claimable_now=claimable,
        kinds=kinds,
        as_of=as_of,
        not_attached=remaining if weight == 0 else 0,
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Several scenarios' drawdowns side by side: one table, one summary, one chart.

    >>> from pbr.forecast import allocation
    >>> base = default_assumptions()
    >>> slow = Assumptions("slow", base.probabilities, {24: Fraction(1)})
    >>> both = compare(allocation(790), [base, slow])
    >>> [row["scenario"] for row in both.summary()]
    ['base', 'slow']
    """

    drawdowns: tuple[Drawdown, ...]

    def summary(self) -> list[dict[str, Any]]:
        """One row per scenario: secured, claimable now, forecast, beyond the horizon, maximum."""
        return [d.summary() for d in self.drawdowns]

    def to_records(self) -> list[dict[str, Any]]:
        """Every scenario's window rows, one table (column ``scenario``)."""
        return [row for d in self.drawdowns for row in d.to_records()]

    def to_pandas(self) -> Any:
        """The rows of `to_records` as a pandas DataFrame."""
        from pbr.forecast._extras import pandas

        return pandas().DataFrame(self.to_records())

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw every scenario on one chart."""
        from pbr.forecast._plot import plot_drawdowns

        return plot_drawdowns(list(self.drawdowns), path=path, title=title)


def compare(alloc: Allocation, scenarios: Iterable[Assumptions], **options: Any) -> Comparison:
    """Run `drawdown` for each scenario (same allocation, calendar and options).

    >>> from pbr.forecast import allocation
    >>> base = default_assumptions()
    >>> half = Assumptions("half", {k: p / 2 for k, p in base.probabilities.items()},
    ...     base.lag_months)
    >>> rows = compare(allocation(790), [base, half]).summary()
    >>> rows[1]["forecast"] < rows[0]["forecast"]
    True
    """
    found = tuple(drawdown(alloc, s, **options) for s in scenarios)
    names = [d.scenario for d in found]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ: {names}")
    return Comparison(found)
