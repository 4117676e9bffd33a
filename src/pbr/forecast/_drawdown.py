"""Expected drawdown by claim window: attachment fees when families attach, results when met.

The model, in one paragraph: the whole funded families attach by quarter (the allocation's yearly
shares spread evenly over each year's four quarters, or a quarterly profile), each cohort on the
15th of its quarter's middle month. Each result is met by a share of a cohort (its probability)
a number of months after attachment (a distribution of lags) and paid, at the rate of the year of
attachment, in the first claim window on or after the day it is met. A council's up-front grant
is paid in the first window of each financial year. Beside the forecast runs the **maximum by
claim window**: what would be paid if every family earned its whole results share on the same
timing; the difference is **at risk**, except what could only be met after the programme's
results claims closed, which is **never payable** (`Drawdown.never_payable`). Expected amounts
are exact fractions; the table of windows × (fees, each result, grant, at risk) is rounded to
the penny once, as a whole (`pbr.forecast._rounding`), so that windows, financial years and
columns add up to the totals and to the maximum exactly. Monte Carlo (`pbr.forecast._montecarlo`) draws whole families (binomial,
then multinomial over lags) in integer pence, each cohort's results cut at its room under the cap.
"""

from __future__ import annotations

import bisect
import functools
import math
import numbers
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr._caller_warnings import warn_caller
from pbr.errors import ForecastError
from pbr.forecast._allocation import Allocation, pence, pounds_of, rules_of
from pbr.forecast._arguments import (
    checked_allocation,
    checked_records,
    checked_scenario,
    checked_scenarios,
)
from pbr.forecast._assumptions import Assumptions, default_assumptions
from pbr.forecast._inputs import share, shown
from pbr.forecast._montecarlo import CohortDraw, check_band, monte_carlo
from pbr.forecast._rounding import half_up, round_cells
from pbr.forecast._terms import Books, ProgrammeTerms, programme_terms
from pbr.money import ZERO, exact_class, in_exact_arithmetic, round_to_penny
from pbr.periods import FinancialYear, TermCalendar, add_months, check_as_of, financial_year_of
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr._rejection import Rejection
    from pbr.decisions import Decision
    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = [
    "ClaimCalendar",
    "Comparison",
    "Drawdown",
    "Window",
    "compare",
    "drawdown",
    "from_records",
    "result_rates",
]

FEES = "attachment_fees"
GRANT = "upfront_grant"
RISK = "at_risk"
NEVER = "never_payable"
LATER = "later"
"""The `by_year` row of what falls beyond the last claim window."""
TABLES = ("summary", "by year", "windows", "allocation")
TABLE_ALIASES = {"years": "by year"}
"""Other names of a table: ``pbr forecast --table years`` names the table by year so."""
MAX_RUNS = 100_000
"""The most Monte Carlo runs a drawdown may ask for: a hundred thousand.

Percentiles of that many runs move by far less than their own sampling noise when more are
added, and the simulation holds several arrays of runs × claim windows in 64-bit pence (about
16 MB each at this bound), so a larger number only exhausts memory.
"""
_INDEX = {"windows": "claim_date"}
"""The column a table's DataFrame is indexed by (windows: a time series)."""


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class ClaimCalendar:
    """The dates claims are paid; a result is paid in the first window on or after it is met.

    >>> cal = ClaimCalendar.quarterly(date(2012, 4, 1), date(2013, 3, 31))
    >>> cal.dates[0], cal.window_for(date(2012, 7, 1))
    (datetime.date(2012, 6, 30), datetime.date(2012, 9, 30))
    """

    dates: tuple[date, ...]

    def __post_init__(self) -> None:
        for day in self.dates:
            if type(day) is not date:  # text would fail later, far from the mistake
                raise TypeError(
                    f"claim dates must be datetime.date, not {type(day).__name__} ({day!r}): "
                    "use date.fromisoformat"
                )
        if not self.dates or list(self.dates) != sorted(set(self.dates)):
            raise ForecastError("claim dates must be given, unique and in order")

    def window_for(self, day: date) -> date | None:
        """The first claim date on or after `day`, or None beyond the last window.

        >>> ClaimCalendar((date(2013, 3, 31),)).window_for(date(2013, 4, 1)) is None
        True
        """
        i = bisect.bisect_left(self.dates, day)
        return self.dates[i] if i < len(self.dates) else None

    @classmethod
    def quarterly(cls, first: date, last: date) -> ClaimCalendar:
        """Quarter ends (30 June, 30 September, 31 December, 31 March) from `first` to `last`.

        >>> len(ClaimCalendar.quarterly(date(2012, 4, 1), date(2017, 3, 31)).dates)
        20
        """
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
        """Quarterly windows from the programme's first attachment to two years after its last.

        A programme whose results claims closed on a known day (phase one: May 2015, S12;
        Supporting Families: 31 March 2025, S39) ends there, with a last window on that day: a
        result met later was never paid by it.

        >>> from pbr.rules import PHASE_ONE, PHASE_TWO, SUPPORTING_FAMILIES
        >>> ClaimCalendar.default_for(PHASE_ONE).dates[-2:]
        (datetime.date(2015, 3, 31), datetime.date(2015, 5, 31))
        >>> ClaimCalendar.default_for(PHASE_TWO).dates[-1]
        datetime.date(2023, 3, 31)
        >>> ClaimCalendar.default_for(SUPPORTING_FAMILIES).dates[-1]
        datetime.date(2025, 3, 31)
        """
        first = financial_year_of(rules.attached_from).start
        quarterly = cls.quarterly(first, date(rules.attached_to.year + 2, 3, 31))
        closed = rules.claims_until()
        if closed is None or closed >= quarterly.dates[-1]:
            return quarterly
        kept = tuple(day for day in quarterly.dates if day <= closed)
        return cls(kept if kept and kept[-1] == closed else (*kept, closed))


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class Window:
    """One claim window's drawdown (expected, and Monte Carlo bands of the cumulative total).

    >>> from pbr.forecast import allocation
    >>> first = drawdown(allocation(790)).windows[0]
    >>> first.claim_date, str(first.year), str(first.attachment_fees), str(first.at_risk)
    (datetime.date(2012, 6, 30), '2012/13', '175466.67', '0.00')
    """

    claim_date: date
    year: FinancialYear
    attachment_fees: Decimal
    results: Mapping[str, Decimal]
    total: Decimal
    """Everything forecast in the window: fees, results and any up-front grant."""
    cumulative: Decimal
    low: Decimal | None = None
    median: Decimal | None = None
    high: Decimal | None = None
    upfront_grant: Decimal = ZERO
    at_risk: Decimal | None = None
    """The maximum by claim in this window less the forecast (None for a forecast from records)."""


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class Drawdown:
    """Expected drawdown per claim window and financial year, against the maximum.

    `secured` (paid) and `claimable_now` are set when the forecast starts from actual records
    (`as_of` is then the evaluation date); the windows then hold what is forecast beyond them.
    `windows` has one per claim window of the calendar (from records, each after `as_of`), of
    zeros where nothing falls, so that a table joins on the calendar.
    With `runs` > 0 each window carries Monte Carlo percentiles of the cumulative total.
    Money is `Decimal` to the penny; `to_pandas` gives the same tables with money in whole pence.

    >>> from pbr.forecast import allocation
    >>> d = drawdown(allocation(790), runs=200, seed=7)
    >>> d.total <= d.maximum, d.windows[-1].low <= d.windows[-1].high <= d.maximum
    (True, True)
    >>> d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum
    True
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
    allocation: Allocation | None = None
    """The allocation forecast (its council, maximum by year of attachment and grant)."""
    rates_uncertain: bool = False
    """Whether the Monte Carlo drew the rates from the scenario's ranges (else they were fixed)."""
    beyond_horizon_at_risk: Decimal = ZERO
    """What is at risk beyond the last claim window of windows that end before results claims
    closed (part of `at_risk`): results met there may still be claimed. Zero when the last window
    is the last day for results claims: what lies beyond it is never payable
    (`never_payable_after_claims_closed`), not at risk."""
    beyond_horizon_by_column: tuple[tuple[str, Decimal], ...] = ()
    """What is forecast beyond the last claim window, by column (fees, each result, grant)."""
    assumptions: Assumptions | None = None
    """The scenario forecast."""
    families_evaluated: int = 0
    """Family records evaluated, for a forecast from records (rejected records not counted)."""
    not_eligible: int = 0
    """Of `families_evaluated`, the families not eligible (``NOT_ELIGIBLE``): they take no funded
    place, which is forecast as for a family with no record (what was paid for them is still
    secured)."""
    rejected: tuple[Rejection, ...] = ()
    """The records a forecast from records could not use: each says where it is and why."""
    claims_closed_on: date | None = None
    """The programme's last day for results claims, if it has one (phase one: 31 May 2015, S12).

    No result met after it was paid. With the default claim windows, which end on that day, the
    results beyond the last window are exactly those (`beyond_never_paid`); windows of your own
    that run past it forecast results in them as if they could still be claimed (a warning
    says so).
    """
    beyond_never_paid: Decimal = ZERO
    """The results beyond the last claim window when that window is the last day for results
    claims: all met after results claims closed, never paid (part of `beyond_horizon`). Zero
    when the programme's claims did not close or the windows end on another day. A forecast
    from records dated after that day adds what its families had payable then and their unpaid
    attachment fees (`payable_after_claims_closed`, `fees_after_claims_closed`).

    >>> from pbr.forecast import allocation
    >>> d = drawdown(allocation(790))
    >>> d.claims_closed_on, d.beyond_never_paid, d.beyond_horizon
    (datetime.date(2015, 5, 31), Decimal('204528.33'), Decimal('204528.33'))
    """
    beyond_band: tuple[Decimal, Decimal, Decimal] | None = None
    """The Monte Carlo band (low, median, high) of the cumulative total with what lies beyond
    the last claim window: the ``later`` row's of `by_year` (None without runs)."""
    maximum_by_attachment: tuple[tuple[str, Decimal], ...] = ()
    """The maximum by financial year of attachment when `drawdown`'s `quarters` place the
    families (their cohorts' years, not the allocation's profile); empty otherwise (then the
    allocation's years give it)."""
    payable_after_claims_closed: Decimal = ZERO
    """For a forecast from records dated after results claims closed: the results its families
    had payable then, which no claim could bring (`pbr.evaluate` warns RESULTS_CLAIMS_CLOSED).
    They are not claimable now: they lie beyond the last claim window, under their results, and
    are part of `beyond_never_paid` (and so of `beyond_horizon`), never at risk.
    """
    never_payable: Decimal = ZERO
    """What the rules can no longer pay, whatever the families go on to meet: the part that
    could only be met after results claims closed (`never_payable_after_claims_closed`, for
    any forecast) and, for a forecast from records, a family's room under its cap (the cap
    less its fee, its results paid and those payable now) that no result still to be met could
    fill: the results left are worth less, or are excluded (``employment_after_crime =
    exclusive`` once crime/ASB/education is paid), or do not apply to the family (progress to
    work and employment without the work problem). It is neither forecast nor at risk: maximum + over
    the maximum = secured + claimable now + forecast + beyond + never payable + at risk. It
    counts as far as the maximum reaches: with records of more families than are funded, what
    they bring past the maximum is over the maximum, and nothing is at risk nor never payable.
    """
    never_payable_after_claims_closed: Decimal = ZERO
    """The part of `never_payable` that could only be met or claimed after the programme's
    results claims closed, when the last claim window is that day (the default windows): what
    the families would not earn of results met after it (what they would earn is
    `beyond_never_paid`), and, from records dated on or after it, all that is neither secured,
    claimable now nor never paid, since no claim is left. Windows ending earlier keep what lies
    beyond them at risk (`beyond_horizon_at_risk`): it may still be claimed.

    >>> from pbr.forecast import allocation
    >>> drawdown(allocation(790)).never_payable_after_claims_closed
    Decimal('146405.00')
    """
    fees_after_claims_closed: Decimal = ZERO
    """For a forecast from records dated after results claims closed: the attachment fees its
    eligible families attached by then were still unpaid. No source records a fee claim after
    the programme ended (phase one's last day for claims, 31 May 2015, S12), so pbr treats them
    as never paid (a judgement): not claimable now; beyond the last claim window, under
    ``attachment_fees``, and part of `beyond_never_paid` (and so of `beyond_horizon`).
    """
    paid_over_cap: Decimal = ZERO
    """For a forecast from records: what its families bring beyond what the programme pays for
    each (part of `over_maximum`, never netted against another family's risk). For an eligible
    family, its fee counted, results paid and payable now past its cap (the engine's
    ``PAID_OVER_CAP``, to be recovered); for a family not eligible, all that was paid for it
    (it has no funded place). A `UserWarning` names the families.
    """
    rules: RuleSet | None = field(default=None, compare=False, repr=False)
    """The rule set forecast with (its interpretations included): `interpretations` and
    `rules_hash` name it, as every decision of ``pbr evaluate`` does."""
    plan: OutcomePlan | None = field(default=None, compare=False, repr=False)
    """The outcome plan a forecast from records judged its families against, when one was given
    (phase two, Supporting Families); part of `rules_hash`."""
    example_plan: str = ""
    """The id/version of pbr's example outcome plan, when families were judged against it for
    want of the council's own (a warning says so); empty otherwise."""

    @property
    def interpretations(self) -> str:
        """Every interpretation in force, ``id=value`` joined by ``; `` (as ``pbr evaluate``'s).

        >>> from pbr.forecast import allocation
        >>> "rates_by=attachment_year" in drawdown(allocation(790)).interpretations.split("; ")
        True
        """
        from pbr.output import interpretations_text

        return interpretations_text(self.rules.chosen) if self.rules is not None else ""

    @property
    def rules_hash(self) -> str:
        """The hash of the rule-set data, its interpretations and the outcome plan given.

        The one ``pbr evaluate`` records in each decision's provenance under the same rules
        and plan (`pbr.engine.rules_hash`): a forecast under another reading is told apart.

        >>> from pbr.forecast import allocation
        >>> len(drawdown(allocation(790)).rules_hash)
        64
        """
        from pbr.engine import rules_hash

        return rules_hash(self.rules, self.plan) if self.rules is not None else ""

    @property
    def outcome_plan(self) -> str:
        """The outcome plan's id/version (``(example)`` after pbr's example plan), or empty.

        Empty for a forecast by assumption (no family is judged) and for phase one.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790)).outcome_plan
        ''
        """
        if self.plan is not None:
            return self.plan.label
        return f"{self.example_plan} (example)" if self.example_plan else ""

    @property
    def provenance(self) -> dict[str, str]:
        """`interpretations`, `rules_hash` and `outcome_plan` by name: a DataFrame's ``attrs``.

        >>> from pbr.forecast import allocation
        >>> list(drawdown(allocation(790)).provenance)
        ['interpretations', 'rules_hash', 'outcome_plan']
        """
        return {
            "interpretations": self.interpretations,
            "rules_hash": self.rules_hash,
            "outcome_plan": self.outcome_plan,
        }

    @property
    def readings(self) -> str | None:
        """A line naming the non-default interpretations, the plan and term calendar given, or None.

        As ``pbr evaluate``'s summary names them, with the start of the rules hash: a forecast
        under another reading (or plan) otherwise reads as the defaults'. Under the defaults
        (and pbr's example plan, already warned of) there is no line.

        >>> from pbr.forecast import allocation
        >>> from pbr.rules import PHASE_ONE
        >>> drawdown(allocation(790)).readings is None
        True
        >>> rules = PHASE_ONE.with_interpretations(rates_by="claim_year")
        >>> drawdown(allocation(790, rules=rules)).readings.split("; rules_hash")[0]
        'interpretations: rates_by=claim_year (not the default)'
        """
        rules = self.rules
        if rules is None:
            return None
        other = [
            f"{k}={v} (not the default)"
            for k, v in rules.chosen.items()
            if v != rules.interpretations[k].default
        ]
        parts = [f"interpretations: {'; '.join(other)}"] if other else []
        named = rules.term_calendar.named
        if named is not None:  # as pbr evaluate's summary names it
            from pbr.calendars import own_dates

            parts.append(f"term calendar: {own_dates(named, len(rules.term_calendar.overrides))}")
        if self.plan is not None:
            parts.append(f"outcome plan: {self.plan.label}")
        if not parts:
            return None
        return f"{'; '.join(parts)}; rules_hash {self.rules_hash[:12]}…"

    @property
    def council(self) -> str | None:
        """The council's name, if the allocation has one.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790, council="Westminster")).council
        'Westminster'
        """
        return self.allocation.council if self.allocation is not None else None

    @property
    def label(self) -> str:
        """The council's name (or its estimated families) for titles and tables.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790)).label
        '790 estimated families'
        """
        return self.allocation.label if self.allocation is not None else self.programme

    @property
    def total(self) -> Decimal:
        """Everything forecast in the windows (fees, results and any grant).

        >>> from pbr.forecast import allocation
        >>> d = drawdown(allocation(790))
        >>> d.total, d.beyond_horizon  # phase one's claims closed in May 2015: the rest lies beyond
        (Decimal('1980031.67'), Decimal('204528.33'))
        """
        return self.windows[-1].cumulative if self.windows else ZERO

    @property
    def forecast(self) -> Decimal:
        """What is forecast beyond what is secured and claimable now (the same as `total`).

        >>> from pbr.forecast import allocation
        >>> d = drawdown(allocation(790))
        >>> d.forecast == d.total
        True
        """
        return self.total

    @property
    def _room(self) -> Decimal:
        """The maximum less all that is secured, claimable, forecast, beyond or never payable.

        What families bring beyond their caps (`paid_over_cap`) is left out: it fills no other
        family's room, and is over the maximum whatever the rest comes to.
        """
        return (
            self.maximum
            - (self.secured - self.paid_over_cap)
            - self.claimable_now
            - self.total
            - self.beyond_horizon
            - self.never_payable
        )

    @property
    def at_risk(self) -> Decimal:
        """The maximum less everything secured, claimable now, forecast, beyond and never payable.

        What could still be claimed but is not forecast to be. For a forecast by assumption it
        is the results the scenario's families do not earn in the claim windows (and beyond
        windows that end before results claims closed); for a forecast from records it also
        holds what was not claimed in time. Neither holds what the rules can no longer pay
        (`never_payable`), such as results met after results claims closed. It is never
        negative: when records bring more than the maximum (more families worked with than
        funded) it is zero and the excess is `over_maximum`. What a family was paid past its
        cap (`paid_over_cap`) does not lessen it: one family's excess is not another's money.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790)).at_risk  # the results the base scenario does not earn
        Decimal('301035.00')
        """
        return max(self._room, ZERO)

    @property
    def over_maximum(self) -> Decimal:
        """What secured, claimable now, forecast and beyond come to above the maximum (or zero).

        Only a forecast from records can pass the maximum: a council may work with more
        families than the allocation funds (then at risk is zero), and a family may have been
        paid past its cap or paid though not eligible (`paid_over_cap`, always over the
        maximum, while other families' money may still be at risk). Either way maximum + over
        the maximum = secured + claimable now + forecast + beyond + never payable + at risk, to
        the penny.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790)).over_maximum
        Decimal('0.00')
        """
        return self.paid_over_cap + max(-self._room, ZERO)

    @property
    def band_meaning(self) -> str:
        """What the Monte Carlo band spans, in words (for tables, charts and docs).

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790), runs=10).band_meaning
        'p5–p95 of 10 runs: rates drawn from the scenario ranges, and which families succeed'
        """
        if not self.runs:
            return "no Monte Carlo band"
        low, high = self.band
        what = (
            "rates drawn from the scenario ranges, and which families succeed"
            if self.rates_uncertain
            else "which families succeed at fixed rates (rate uncertainty not included)"
        )
        return f"p{low}–p{high} of {self.runs:,} runs: {what}"

    def _named(self) -> dict[str, Any]:
        named: dict[str, Any] = {"scenario": self.scenario}
        if self.council is not None:
            named["council"] = self.council
        return named

    def _band(self, window: Window | None) -> dict[str, Decimal | None]:
        if not self.runs:
            return {}
        low, high = self.band
        if window is None:
            return {f"p{low}": None, "p50": None, f"p{high}": None}
        return {f"p{low}": window.low, "p50": window.median, f"p{high}": window.high}

    def summary(self) -> dict[str, Any]:
        """Maximum, secured, claimable now, forecast, beyond the horizon, at risk and the band.

        The money adds up: maximum + over the maximum = secured + claimable now + forecast +
        beyond + never payable + at risk. ``beyond_never_paid`` is *part of* ``beyond_horizon`` (what of it was
        met, or left unpaid, after results claims closed: `Drawdown.beyond_never_paid`), not a
        further sum. A
        forecast from records adds its ``as_of``, ``over_maximum`` (and the part of it families
        were paid past their caps, ``paid_over_cap``), the family records
        evaluated
        (``records``), how many of them are ``not_eligible`` (they take no funded place) and the
        number of records ``rejected``.

        >>> from pbr.forecast import allocation
        >>> row = drawdown(allocation(6)).summary()
        >>> money = ("forecast", "beyond_horizon", "never_payable", "at_risk")
        >>> row["maximum"], sum(row[k] for k in money)
        (Decimal('20000.00'), Decimal('20000.00'))
        >>> row["beyond_never_paid"] == row["beyond_horizon"]  # the default windows end on 31 May 2015
        True
        """
        return {
            **self._named(),
            **({"as_of": self.as_of} if self.as_of is not None else {}),  # none: no empty column
            "maximum": self.maximum,
            "secured": self.secured,
            "claimable_now": self.claimable_now,
            "forecast": self.total,
            "beyond_horizon": self.beyond_horizon,
            "beyond_never_paid": self.beyond_never_paid,
            NEVER: self.never_payable,
            RISK: self.at_risk,
            **(
                {
                    "over_maximum": self.over_maximum,
                    "paid_over_cap": self.paid_over_cap,
                    "records": self.families_evaluated,
                    "not_eligible": self.not_eligible,
                    "rejected": len(self.rejected),
                }
                if self.as_of is not None
                else {}
            ),
            "not_attached": self.not_attached,
            **self._band(self.windows[-1] if self.windows else None),
            "interpretations": self.interpretations,
            "rules_hash": self.rules_hash,
            # only when families were judged against one: no empty column
            **({"outcome_plan": self.outcome_plan} if self.outcome_plan else {}),
        }

    def by_year(self) -> list[dict[str, Any]]:
        """One row per financial year: maxima, forecast, at risk and band (the summary table).

        Each row holds the maximum by year of attachment and of claim, the forecast by claim
        year (fees, each result, grant, total, and the cumulative total at the year's end: its
        last window's), what is at risk and the band of the cumulative total at the year's end.

        ``maximum_by_attachment`` is what the year's families (and grant) can bring;
        ``maximum_by_claim`` is what would be claimed in the year if every family earned its
        whole results share on the scenario's timing (a forecast from records has neither
        ``maximum_by_claim`` nor ``at_risk`` nor ``never_payable`` by year). A last row
        ``later`` holds what falls beyond the last claim window, when anything does (its band,
        with runs, is of the cumulative total with it: `beyond_band`); when that window is the
        last day for results claims, what its families would not earn there is
        ``never_payable``, not ``at_risk``. Each money column adds up to the summary's figure
        to the penny.

        >>> from pbr.forecast import allocation
        >>> rows = drawdown(allocation(2630)).by_year()
        >>> [r["year"] for r in rows][:2], sum(r["maximum_by_claim"] for r in rows)
        (['2012/13', '2013/14'], Decimal('8768000.00'))
        """
        risk = self.as_of is None
        grant = self.allocation is not None and self.allocation.upfront_grant > 0
        attach = (
            dict(self.maximum_by_attachment)
            if self.maximum_by_attachment
            else {str(y.year): y.maximum for y in self.allocation.years}
            if self.allocation is not None
            else {}
        )
        labels = sorted(set(attach) | {str(w.year) for w in self.windows})

        def empty(label: str) -> dict[str, Any]:
            row: dict[str, Any] = {
                **self._named(),
                "year": label,
                "maximum_by_attachment": attach.get(label, ZERO),
            }
            if risk:
                row["maximum_by_claim"] = ZERO
            row[FEES] = ZERO
            row.update(dict.fromkeys(self.kinds, ZERO))
            if grant:
                row[GRANT] = ZERO
            row["total"] = ZERO
            row["cumulative"] = ZERO
            if risk:
                row[RISK] = ZERO
                row[NEVER] = ZERO
            return row

        rows = {label: empty(label) for label in labels}
        last: dict[str, Window] = {}
        for w in self.windows:
            row = rows[str(w.year)]
            row[FEES] += w.attachment_fees
            for kind, value in w.results.items():
                row[kind] += value
            if grant:
                row[GRANT] += w.upfront_grant
            row["total"] += w.total
            if risk:
                row[RISK] += w.at_risk or ZERO
                row["maximum_by_claim"] += w.total + (w.at_risk or ZERO)
            last[str(w.year)] = w
        out = list(rows.values())
        closed = self.never_payable_after_claims_closed if risk else ZERO
        if self.beyond_horizon or self.beyond_horizon_at_risk or closed:
            later = empty(LATER)
            later["total"] = self.beyond_horizon
            if risk:
                later[RISK] = self.beyond_horizon_at_risk
                later[NEVER] = closed
                later["maximum_by_claim"] = (
                    self.beyond_horizon + self.beyond_horizon_at_risk + closed
                )
            for key, value in self.beyond_horizon_by_column:
                later[key] = value
            out.append(later)
        carried: Window | None = None
        for row in out:
            carried = last.get(row["year"], carried)
            # the windows' running total at the year's end (rounded from the exact one)
            row["cumulative"] = (
                self.total + self.beyond_horizon
                if row["year"] == LATER
                else carried.cumulative
                if carried is not None
                else ZERO
            )
            if row["year"] == LATER and self.runs and self.beyond_band is not None:
                low, high = self.band
                row.update(zip((f"p{low}", "p50", f"p{high}"), self.beyond_band, strict=True))
            else:
                row.update(self._band(carried))
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per claim window (money as `Decimal`, dates as `date`).

        A forecast from records adds the columns ``as_of``, ``secured`` and ``claimable_now``
        (the same in every row, like ``maximum``), so a table loses nothing.

        >>> from pbr.forecast import allocation
        >>> list(drawdown(allocation(790)).to_records()[0])[:4]
        ['scenario', 'claim_date', 'year', 'attachment_fees']
        """
        return [self._window_row(w) for w in self.windows]

    def _window_row(self, w: Window) -> dict[str, Any]:
        known = (
            {"as_of": self.as_of, "secured": self.secured, "claimable_now": self.claimable_now}
            if self.as_of is not None
            else {}
        )
        grant = self.allocation is not None and self.allocation.upfront_grant > 0
        return {
            **self._named(),
            **known,
            "claim_date": w.claim_date,
            "year": str(w.year),
            FEES: w.attachment_fees,
            **{k: w.results.get(k, ZERO) for k in self.kinds},
            **({GRANT: w.upfront_grant} if grant else {}),
            "total": w.total,
            "cumulative": w.cumulative,
            **({RISK: w.at_risk} if self.as_of is None else {}),
            "maximum": self.maximum,
            **self._band(w),
        }

    def _empty_rows(self) -> dict[str, dict[str, Any]]:
        """A typed row of each table that can have no rows, to give its columns when it has none.

        The windows of a forecast from records dated after its last claim window: none is left,
        yet a CSV or XLSX sheet keeps its header and a DataFrame its columns and dtypes. The row
        has the table's keys in order; its money is zero and its dates are real dates.
        """
        day = self.as_of or date(2000, 1, 1)
        blank = Window(
            claim_date=day,
            year=financial_year_of(day),
            attachment_fees=ZERO,
            results={},
            total=ZERO,
            cumulative=ZERO,
            low=ZERO,
            median=ZERO,
            high=ZERO,
            at_risk=ZERO if self.as_of is None else None,
        )
        return {"windows": self._window_row(blank)}

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every table by name: ``summary``, ``by year``, ``windows`` and ``allocation``.

        >>> from pbr.forecast import allocation
        >>> list(drawdown(allocation(790)).tables())
        ['summary', 'by year', 'windows', 'allocation']
        """
        return {
            "summary": [self.summary()],
            "by year": self.by_year(),
            "windows": self.to_records(),
            "allocation": self.allocation.to_records() if self.allocation is not None else [],
        }

    def to_pandas(self, table: str = "windows") -> Any:
        """One table as a DataFrame: money in whole pence (``*_pence``), dates as datetime64.

        `table` is ``"windows"`` (default; indexed by ``claim_date``, a time series),
        ``"by year"`` (also ``"by_year"``, or ``"years"`` as ``pbr forecast --table`` names it),
        ``"summary"`` or ``"allocation"``; `pbr.forecast.pounds` gives the pounds
        view for charts and spreadsheets. A forecast from records keeps ``as_of`` in
        ``frame.attrs``; every table keeps there `provenance` (``interpretations``,
        ``rules_hash`` and ``outcome_plan``), which the summary also has as columns.

        >>> from pbr.forecast import allocation
        >>> d = drawdown(allocation(790))
        >>> frame = d.to_pandas()
        >>> int(frame["total_pence"].sum()) == int(d.total * 100)
        True
        """
        frame = _frame(self.tables(), self._empty_rows(), table)
        frame.attrs.update(self.provenance)
        return frame

    def to_excel(self, path: str | Path) -> None:
        """Write every table to an XLSX workbook, one sheet each (money as numbers in £).

        >>> import pathlib, tempfile
        >>> from pbr.forecast import allocation
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "drawdown.xlsx"
        >>> drawdown(allocation(790)).to_excel(path)
        >>> path.exists()
        True
        """
        from pbr.forecast._excel import write_workbook

        write_workbook(path, list(self.tables().items()), columns=self._empty_rows())

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw the chart: stacked fees and results by year, cumulative line, Monte Carlo band.

        The title defaults to the council (or its estimated families) and the programme; the
        axes are in £ million (£ thousand below £1 million); a note says what the band spans.

        >>> from pbr.forecast import allocation
        >>> drawdown(allocation(790, council="Westminster")).plot()._suptitle.get_text()
        'Westminster: drawdown forecast, Troubled Families phase one'
        """
        from pbr.forecast._plot import plot_drawdowns

        return plot_drawdowns([self], path=path, title=title)


def table_name(name: str) -> str:
    """The table `name` names, as `Drawdown.tables` keys it (``by_year``, ``years``: ``by year``).

    >>> table_name("by_year"), table_name("by-year"), table_name("years")
    ('by year', 'by year', 'by year')
    """
    key = str(name).replace("_", " ").replace("-", " ")
    key = TABLE_ALIASES.get(key, key)
    if key not in TABLES:
        raise ForecastError(
            f"table must be one of {', '.join(TABLES)} (or years for by year), got {name!r}"
        )
    return key


def _frame(
    tables: Mapping[str, list[dict[str, Any]]], empty: Mapping[str, dict[str, Any]], name: str
) -> Any:
    """Table `name` as a DataFrame; one with no rows keeps the columns and dtypes of `empty`'s."""
    from pbr.forecast._frames import to_frame

    key = table_name(name)
    return to_frame(tables[key], index=_INDEX.get(key), empty=empty.get(key))


@in_exact_arithmetic
def result_rates(rules: RuleSet, year: FinancialYear) -> dict[str, Decimal]:
    """Each result's rate for a family attached in `year` under `rules` (and its interpretations).

    >>> from pbr.rules import PHASE_ONE
    >>> {k: str(v) for k, v in result_rates(PHASE_ONE, FinancialYear(2012)).items()}
    {'crime_asb_education': '700.00', 'progress_to_work': '100.00', 'continuous_employment': '800.00'}
    """
    return dict(programme_terms(rules).year(year).rates)


@dataclass(frozen=True, slots=True)
class _Cohort:
    attached: date
    year: FinancialYear
    families: Fraction


def attachment_cohorts(alloc: Allocation, quarters: Mapping[str, object] | None) -> list[_Cohort]:
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
        fy_text, _, q_text = str(label).partition(" Q")
        try:
            year = FinancialYear.parse(fy_text)
        except ValueError:
            year = None
        if year not in known or q_text not in ("1", "2", "3", "4") or year is None:
            raise ForecastError(
                f"quarter {label!r}: expected 'YYYY/YY Qn' within the programme's years"
            )
        part = share(raw, f"quarters {label}")
        total += part
        cohorts.append(
            _Cohort(_quarter_day(year, int(q_text) - 1), year, alloc.whole_funded_families * part)
        )
    if total != 1:
        raise ForecastError(f"quarterly shares must add up to 1, they add up to {total}")
    return sorted(cohorts, key=lambda c: c.attached)


def cohort_maxima(
    cohorts: Sequence[_Cohort], terms: ProgrammeTerms, alloc: Allocation
) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
    """The maximum, and by year of attachment, of the families as `cohorts` attach them.

    Each cohort's families at its year's cap, and each year's grant; the years rounded to the
    penny as one column, adding up to the exact total rounded half up (the windows' total).
    """
    from pbr.forecast._rounding import largest_remainder

    exact = {str(y.year): pence(y.upfront_grant) for y in alloc.years}
    for c in cohorts:
        exact[str(c.year)] += pence(c.families * Fraction(terms.year(c.year).cap))
    rounded = largest_remainder(list(exact.values()))
    years = tuple((label, pounds_of(v)) for label, v in zip(exact, rounded, strict=True))
    return pounds_of(sum(rounded)), years


def _quarter_day(year: FinancialYear, quarter: int) -> date:
    return add_months(date(year.start_year, 5, 15), 3 * quarter)


def check_expects_results(assumptions: Assumptions) -> None:
    """A scenario to forecast names at least one result (an empty one would forecast fees only).

    ``probabilities = {}`` is far more often a slip (a table left empty, a key misspelt) than a
    forecast of no results at all; that is said explicitly, with a probability of 0.

    >>> check_expects_results(Assumptions("fees", {}, {6: 1}))
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: scenario 'fees': probabilities is empty, so the forecast would hold attachment fees only; to forecast no results, say so with a probability of 0 for a result (e.g. {'crime_asb_education': 0})
    """
    if not assumptions.probabilities:
        raise ForecastError(
            f"{assumptions.label}: probabilities is empty, so the forecast would hold "
            "attachment fees only; to forecast no results, say so with a probability of 0 for "
            "a result (e.g. {'crime_asb_education': 0})"
        )


def check_scenario(assumptions: Assumptions, terms: ProgrammeTerms) -> None:
    """The scenario fits the programme: its results, their sum within the share, its lags.

    Each error names the scenario, and its file when it was read from one (`Assumptions.label`).
    """
    name = assumptions.label
    kinds = terms.kinds
    unknown = set(assumptions.probabilities) - set(kinds)
    if unknown:
        raise ForecastError(
            f"{name}: {sorted(unknown)} are not results of "
            f"{terms.programme} (choose from {', '.join(kinds)})"
        )
    chances = assumptions.probabilities
    for year in terms.years:
        t = terms.year(year)
        for claimed in (y for y in terms.years if y >= year):  # the rates may be the claim's
            expected = sum(
                (p * Fraction(terms.paid(year, k, claimed.start)) for k, p in chances.items()),
                Fraction(0),
            )
            if expected > t.results_share:
                when = "" if claimed == year else f" claimed in {claimed}"
                raise ForecastError(
                    f"{name}: expected results per family in {year}{when} are "
                    f"{round_to_penny(expected)}, more than the results share "
                    f"{round_to_penny(Fraction(t.results_share))}; the routes cannot all be "
                    "paid in full (lower the probabilities)"
                )
    for kind, p in assumptions.probabilities.items():
        wait = terms.waits.get(kind)
        possible = p > 0 or kind in assumptions.ranges
        if wait is None or not possible:
            continue
        for lag, q in assumptions.lag_months.items():
            if q > 0 and lag < wait.shortest_lag:
                raise ForecastError(
                    f"{name}: lag_months {lag}: {kind} cannot be met sooner than "
                    f"{wait} after attachment ({terms.programme}: {wait.parameter}), so its "
                    f"lags must be at least {wait.shortest_lag} months; a shorter lag would pay "
                    "it before the rules allow"
                )


@in_exact_arithmetic
def drawdown(
    alloc: Allocation,
    assumptions: Assumptions | None = None,
    *,
    rules: RuleSet | None = None,
    calendar: ClaimCalendar | None = None,
    quarters: Mapping[str, object] | None = None,
    runs: int = 0,
    seed: int | None = None,
    band: tuple[int, int] = (5, 95),
) -> Drawdown:
    """The expected drawdown of `alloc` per claim window, with Monte Carlo bands if `runs` > 0.

    Families attach by quarter (`quarters` maps ``"2012/13 Q1"`` to a share of the whole funded
    families; by default each year's share of the allocation in four equal parts). `runs` seeded
    Monte Carlo runs (numpy's PCG64 from `seed`, 0 by default; see `pbr.forecast._montecarlo`)
    give the `band` percentiles of the cumulative total per window; with the scenario's `ranges`
    each run also draws the rates. A `seed` without `runs` would do nothing: it is a
    `pbr.ForecastError`, as ``pbr forecast --seed`` without ``--runs`` is refused. A lag shorter than the programme allows for a result the scenario
    expects is refused (crime/ASB/education: 6 months; continuous employment: 13 weeks, so at
    least 4 whole months).

    `rules` defaults to the rule set the allocation was built with (its interpretations
    included); rules that would build a different allocation are refused (`rules_of`).

    `alloc` must be an `Allocation` (`pbr.forecast.allocation`) and `assumptions` an
    `Assumptions` (`pbr.forecast.load_scenarios` reads them from a file); anything else is a
    `TypeError` saying so.

    >>> from pbr.forecast import allocation
    >>> d = drawdown(allocation(790))
    >>> d.total + d.beyond_horizon <= d.maximum, d.windows[0].claim_date
    (True, datetime.date(2012, 6, 30))
    """
    alloc = checked_allocation(alloc)
    assumptions = checked_scenario(assumptions) or default_assumptions(alloc.programme)
    rules = rules_of(alloc, rules)
    terms = programme_terms(rules)
    calendar = claim_calendar(rules, calendar)
    check_expects_results(assumptions)
    check_scenario(assumptions, terms)
    check_band(band)
    if (
        isinstance(runs, bool)
        or not isinstance(runs, numbers.Integral)
        or not 0 <= runs <= MAX_RUNS
    ):
        raise ForecastError(
            f"runs must be a whole number from 0 to {MAX_RUNS:,}, got {shown(runs)}"
        )
    runs = int(runs)  # numpy's integers too, as a notebook gives them
    if seed is not None and not runs:
        raise ForecastError(
            "seed seeds the Monte Carlo: give runs=N too (without runs it does nothing)"
        )
    seed = 0 if seed is None else seed
    cohorts = attachment_cohorts(alloc, quarters)
    kinds = tuple(assumptions.probabilities)
    exact = every_window(calendar)
    for c in cohorts:
        expected_payments(exact, c, c.families, terms, assumptions, calendar, ceiling=True)
    grant_payments(exact, alloc, calendar, after=None)
    bands, mean, std = (
        _simulate(cohorts, assumptions, terms, calendar, exact, alloc, runs, seed, band)
        if runs
        else ({}, None, None)
    )
    windows, beyond, beyond_risk, parts = _windows(exact, kinds, bands, alloc, with_risk=True)
    # beyond a last window on the last claim day, what is not earned could never be paid
    closed_risk = beyond_risk if ends_when_claims_close(rules, calendar) else ZERO
    maximum, by_attachment = alloc.maximum, ()
    if quarters is not None:
        maximum, by_attachment = cohort_maxima(cohorts, terms, alloc)
    return Drawdown(
        scenario=assumptions.name,
        programme=alloc.programme,
        maximum=maximum,
        maximum_by_attachment=by_attachment,
        beyond_band=bands.get(None),
        windows=windows,
        beyond_horizon=beyond,
        runs=runs,
        seed=seed,
        band=band,
        kinds=kinds,
        mc_mean=mean,
        mc_std=std,
        allocation=alloc,
        rates_uncertain=bool(runs and assumptions.ranges),
        beyond_horizon_at_risk=beyond_risk - closed_risk,
        beyond_horizon_by_column=parts,
        assumptions=assumptions,
        never_payable=closed_risk,
        never_payable_after_claims_closed=closed_risk,
        claims_closed_on=rules.claims_until(),
        beyond_never_paid=_never_paid(rules, calendar, kinds, parts),
        rules=rules,
    )


def expected_payments(
    exact: dict[date | None, dict[str, Fraction]],
    cohort: _Cohort,
    families: Fraction,
    terms: ProgrammeTerms,
    assumptions: Assumptions,
    calendar: ClaimCalendar,
    *,
    ceiling: bool,
) -> None:
    """Add a cohort's expected fees and results (and, with `ceiling`, what is at risk)."""
    t = terms.year(cohort.year)
    _add(exact, calendar.window_for(cohort.attached), FEES, families * Fraction(t.attachment_fee))
    for lag, q in assumptions.lag_months.items():
        day = add_months(cohort.attached, lag)
        slot = calendar.window_for(day)
        expected = Fraction(0)
        for kind, p in assumptions.probabilities.items():
            # at the rate the rules pay for a claim in the window (or, beyond it, on the day)
            paid = terms.paid(cohort.year, kind, slot or day)
            amount = families * p * q * Fraction(paid)
            expected += amount
            _add(exact, slot, kind, amount)
        if ceiling:
            _add(exact, slot, RISK, families * q * Fraction(t.results_share) - expected)


def grant_payments(
    exact: dict[date | None, dict[str, Fraction]],
    alloc: Allocation,
    calendar: ClaimCalendar,
    after: date | None,
) -> Decimal:
    """Add each year's up-front grant to its first window; return those paid by `after`.

    A grant is paid in the first claim window of its year: one whose window is on or before
    `after` (a forecast from records' `as_of`) is secured, the rest forecast in their windows.
    """
    received = ZERO
    for y in alloc.years:
        if not y.upfront_grant:
            continue
        paid_on = calendar.window_for(y.year.start)
        if after is not None and paid_on is not None and paid_on <= after:
            received += y.upfront_grant
            continue
        _add(exact, paid_on, GRANT, Fraction(y.upfront_grant))
    return received


def every_window(
    calendar: ClaimCalendar, *, after: date | None = None
) -> dict[date | None, dict[str, Fraction]]:
    """An empty row for each claim window (those after `after` only), to add payments to.

    A window nothing falls in is still a row (of zeros), so that a table joins on the calendar.
    """
    return {day: {} for day in calendar.dates if after is None or day > after}


def _add(
    table: dict[date | None, dict[str, Fraction]], slot: date | None, column: str, amount: Fraction
) -> None:
    row = table.setdefault(slot, {})
    row[column] = row.get(column, Fraction(0)) + amount


def _windows(
    exact: Mapping[date | None, Mapping[str, Fraction]],
    kinds: Sequence[str],
    bands: Mapping[date | None, tuple[Decimal, Decimal, Decimal]],
    alloc: Allocation,
    *,
    with_risk: bool,
) -> tuple[tuple[Window, ...], Decimal, Decimal, tuple[tuple[str, Decimal], ...]]:
    """Round the windows' table once, as a whole: windows, years and columns add up.

    Returns the windows, what is forecast beyond the last window, what is at risk beyond it,
    and the columns of what is beyond. Each window's cumulative total is its exact running
    total rounded half up, the last one the sum of the windows' totals (`_running`).
    """
    grant = alloc.upfront_grant > 0
    forecast_columns = (FEES, *kinds, *((GRANT,) if grant else ()))
    columns = (*forecast_columns, *((RISK,) if with_risk else ()))
    cells: dict[Any, Fraction] = {}
    left: dict[Any, tuple[Any, ...]] = {}
    right: dict[Any, tuple[Any, ...]] = {}
    for slot, row in exact.items():
        year = LATER if slot is None else str(financial_year_of(slot))
        for column in columns:
            key = (slot, column)
            cells[key] = pence(row.get(column, Fraction(0)))
            if column == RISK:
                left[key] = (("all", year),)
                right[key] = (("column", column), ("year column", year, column))
            else:
                left[key] = (("all", year), ("forecast", year), ("window", slot))
                right[key] = (("forecast",), ("column", column), ("year column", year, column))
    rounded = {key: pounds_of(value) for key, value in round_cells(cells, left, right).items()}
    slots = sorted(s for s in exact if s is not None)
    totals = [sum((rounded[slot, c] for c in forecast_columns), ZERO) for slot in slots]
    exact_totals = [sum((cells[slot, c] for c in forecast_columns), Fraction(0)) for slot in slots]
    running = _running(exact_totals, int(pence(sum(totals, ZERO))))
    out = []
    for slot, total, grand in zip(slots, totals, running, strict=True):
        this = {column: rounded[slot, column] for column in columns}
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
                upfront_grant=this.get(GRANT, ZERO),
                at_risk=this[RISK] if with_risk else None,
            )
        )
    later = {column: rounded.get((None, column), ZERO) for column in columns}
    beyond = sum((later[c] for c in forecast_columns), ZERO)
    parts = tuple((c, later[c]) for c in forecast_columns)
    return tuple(out), beyond, later.get(RISK, ZERO), parts


def _running(totals: Sequence[Fraction], last: int) -> list[Decimal]:
    """The running totals of exact `totals` (pence), each rounded half up, the last `last`.

    Rounding the running total itself keeps it within a penny of the exact one, and an amount in
    whole pence as it is (adding up totals rounded one by one can drift a penny from it). `last`,
    the sum of the windows' rounded totals, is the penny below or above the exact sum; an earlier
    running total above it is lowered to it (then the penny below its own exact value), so that
    the column never falls.

    >>> third = Fraction(200000000, 3)  # £666,666.66⅔, in pence
    >>> [str(x) for x in _running([third] * 4, 266666667)]
    ['666666.67', '1333333.33', '2000000.00', '2666666.67']
    """
    found, exact = [], Fraction(0)
    for i, total in enumerate(totals):
        exact += total
        found.append(pounds_of(last if i == len(totals) - 1 else min(half_up(exact), last)))
    return found


def _simulate(
    cohorts: Sequence[_Cohort],
    assumptions: Assumptions,
    terms: ProgrammeTerms,
    calendar: ClaimCalendar,
    exact: Mapping[date | None, Mapping[str, Fraction]],
    alloc: Allocation,
    runs: int,
    seed: int,
    band: tuple[int, int],
) -> tuple[dict[date | None, tuple[Decimal, Decimal, Decimal]], Decimal, Decimal]:
    """Percentile bands of the cumulative total per window (see `pbr.forecast._montecarlo`).

    The key None holds the band of the cumulative total with what lies beyond the last window.
    """
    slots = sorted(s for s in exact if s is not None)
    index: dict[date | None, int] = {slot: i for i, slot in enumerate(slots)}
    index[None] = len(slots)  # beyond the last window: a last column of its own
    lags = sorted(assumptions.lag_months)
    draws = []
    for c in cohorts:
        t = terms.year(c.year)
        days = [add_months(c.attached, m) for m in lags]
        targets = [calendar.window_for(day) for day in days]
        draws.append(
            CohortDraw(
                families=c.families,
                fee=int(t.attachment_fee * 100),
                fee_window=index[calendar.window_for(c.attached)],
                rates={k: int(t.rates[k] * 100) for k in assumptions.probabilities},
                windows=tuple(index[s] for s in targets),
                share=int(t.results_share * 100),
                lag_rates=tuple(  # what the rules pay for a claim in each lag's window
                    {
                        k: int(terms.paid(c.year, k, slot or day) * 100)
                        for k in assumptions.probabilities
                    }
                    for slot, day in zip(targets, days, strict=True)
                ),
            )
        )
    fixed = [0] * (len(slots) + 1)
    for slot, row in exact.items():
        if GRANT in row:
            fixed[index[slot]] = int(pence(row[GRANT]))
    uncertain = {}
    for kind in assumptions.probabilities:
        found = assumptions.beta(kind)
        if found is not None:
            uncertain[kind] = found
    mc = monte_carlo(
        draws,
        assumptions.probabilities,
        [assumptions.lag_months[m] for m in lags],
        len(slots) + 1,
        runs=runs,
        seed=seed,
        band=band,
        uncertain=uncertain,
        fixed=fixed if any(fixed) else None,
        beyond=True,
    )
    bands = {slot: (mc.low[i], mc.median[i], mc.high[i]) for slot, i in index.items()}
    return bands, mc.mean, mc.std


@in_exact_arithmetic
def from_records(
    records: Iterable[Any],
    *,
    as_of: date,
    alloc: Allocation,
    assumptions: Assumptions | None = None,
    rules: RuleSet | None = None,
    calendar: ClaimCalendar | None = None,
    plan: Any = None,
    term_calendar: TermCalendar | None = None,
) -> Drawdown:
    """Forecast from actual records: what is paid, what is claimable now, and what is to come.

    `records` holds `pbr.Family` records, or what `pbr.read_records` yields (a `Family` or a
    `pbr.Rejection` per record), so ``from_records(pbr.read_records(path), ...)`` reads a file.
    Each family is evaluated at `as_of` (`pbr.evaluate`) under `rules` (default: the rule set
    the allocation was built with; rules that would build a different allocation are refused),
    and against `plan` (an outcome plan, for phase two and Supporting Families) with
    `term_calendar` (a council's school terms, `pbr.load_term_calendar`: it replaces the rule
    set's, as ``pbr evaluate --term-calendar`` does; `Drawdown.readings` names it). A record that cannot be used is **rejected**, not fatal: a `Rejection` from the
    reader, a family the rules do not cover (another programme: the one `pbr.rule_set_for`
    gives it, so a 2014/15 record stating no programme is phase one's; or attached outside its
    dates), or a family given again (a family is claimed for once). The rejections are kept in
    `Drawdown.rejected` (each names its record number, family and why; ``pbr forecast --records
    FILE`` names the file and line too, which a `Family` does not carry) and counted in the
    summary's ``rejected``;
    the funded families they leave free are forecast by assumption, as families with no record.
    So are the funded places of families that are not eligible: such a family takes no place
    (`Drawdown.not_eligible` counts them), though what was paid for it is still secured.

    Its payments made by `as_of` are **secured** (an undated payment counts as made, as in
    `pbr.evaluate`, except for a family attached after `as_of`: nothing is paid before a
    family is attached, so its fee is forecast where it attaches). For an eligible family
    attached by `as_of`,
    its payable results and its unpaid attachment fee are **claimable now** (results payable
    after the programme's results claims closed, phase one's 31 May 2015, are not: no claim could
    bring them, so they are counted as never paid, `Drawdown.payable_after_claims_closed`, part
    of `beyond_never_paid`, and a `UserWarning` says so; nor is a fee still unpaid then: no
    source records a fee claim after the programme ended, `Drawdown.fees_after_claims_closed`,
    never paid too, with a warning); an eligible family
    attached after `as_of` has its fee **forecast** in the first window on or after its
    attachment. Results not yet met are **forecast** at the scenario's probability times what
    the rules would pay for each given the family's payments (`_pending_results`: results met
    independently, after one lag for the family, each from the later of its earliest date and
    the lag, never before the day after `as_of`, and paid as the engine pays them, so never
    past the family's room in any outcome); room under a family's cap that no result still to
    be met could fill is `Drawdown.never_payable`, neither forecast nor at risk. Funded families with no record are forecast by assumption in
    the allocation's quarters after `as_of`; when none is left, they are counted in
    `not_attached`. An up-front grant is paid in the first claim window of its year: counted as
    secured when that window is on or before `as_of`, and forecast in it otherwise.

    More records than funded families can bring more than the allocation's maximum: then at
    risk is zero, the excess is `Drawdown.over_maximum`, and a `UserWarning` names the numbers.
    No records at all (an empty list or file) is a `pbr.ForecastError` (a `ValueError`), as
    ``pbr forecast --records`` refuses a file with none. `as_of` must be a `datetime.date`; `alloc`, `assumptions` and `records` of the wrong type
    are a `TypeError` saying what to pass.

    >>> import pbr
    >>> from pbr.forecast import allocation
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> d = from_records([family], as_of=date(2013, 6, 30), alloc=allocation(6))
    >>> str(d.secured), str(d.claimable_now), d.rejected
    ('0.00', '4000.00', ())
    """
    _check_date(as_of)
    checked_records(records)
    numbered = ((None, n, item) for n, item in enumerate(records, start=1))
    return records_forecast(
        _at_least_one(numbered),
        "<records>",
        as_of=as_of,
        alloc=alloc,
        assumptions=assumptions,
        rules=rules,
        calendar=calendar,
        plan=plan,
        term_calendar=term_calendar,
    )


def _at_least_one(
    numbered: Iterable[tuple[int | None, int, Any]],
) -> Iterator[tuple[int | None, int, Any]]:
    """`numbered` as it is; with no record at all, `ForecastError` once it is read to its end.

    An empty list (or file) is a slip far more often than a council with no family yet: it
    would forecast every funded family by assumption, as if from records. Raised when the
    records are read, so that a bad argument is still said first.
    """
    empty = True
    for item in numbered:
        empty = False
        yield item
    if empty:
        raise ForecastError(
            "no records: from_records forecasts from family records, and none was given (an "
            "empty list or file); for a forecast by assumption alone use drawdown(alloc)"
        )


def _check_date(as_of: object) -> None:
    """`as_of` must be a `datetime.date` (text or a `datetime` is a `TypeError` saying so).

    Its type is checked as `pbr.evaluate` checks it, when the call is made; its range is
    `pbr.evaluate`'s to check for each record (with only rejected records, a date before the
    programme simply forecasts every family by assumption).
    """
    if type(as_of) is not date:
        check_as_of(as_of)


def records_forecast(
    numbered: Iterable[tuple[int | None, int, Any]],
    source: str,
    *,
    as_of: date,
    alloc: Allocation,
    assumptions: Assumptions | None = None,
    rules: RuleSet | None = None,
    calendar: ClaimCalendar | None = None,
    plan: Any = None,
    term_calendar: TermCalendar | None = None,
) -> Drawdown:
    """`from_records` over ``(line, record number, item)``: rejections then name `source`:line.

    The command line passes `pbr.io.read_numbered`'s lines, so that a family the rules do not
    cover is reported at its line of the file, as ``pbr evaluate`` reports it.
    """
    from pbr._arguments import check_term_calendar

    _check_date(as_of)
    check_term_calendar(term_calendar)
    alloc = checked_allocation(alloc)
    assumptions = checked_scenario(assumptions) or default_assumptions(alloc.programme)
    rules = rules_of(alloc, rules)
    if term_calendar is not None:  # the families' school terms only: no money of the allocation
        rules = rules.with_term_calendar(term_calendar)
    terms = programme_terms(rules)
    calendar = claim_calendar(rules, calendar)
    check_expects_results(assumptions)
    check_scenario(assumptions, terms)
    kinds = tuple(assumptions.probabilities)
    exact = every_window(calendar, after=as_of)  # those by as_of are past: secured or claimable
    secured = claimable = never_payable = ZERO
    closed_room = Fraction(0)  # room that could only be filled after results claims closed
    over_cap: dict[str, Decimal] = {}  # each family's money past its cap (or paid, not eligible)
    evaluated = attached = 0  # records evaluated; of them, eligible: each takes a funded place
    closed = rules.claims_until()
    too_late = closed is not None and as_of > closed
    late = ZERO  # results payable at as_of, after results claims closed: never paid
    late_families = 0
    late_fees = ZERO  # attachment fees unpaid at as_of, after results claims closed: never paid
    late_fee_families = 0
    examples: dict[str, int] = {}  # families judged against pbr's example plan, by plan
    councils: dict[str, list[str]] = {}  # the evaluated families by the council they name
    rejected: list[Rejection] = []
    after = date.fromordinal(as_of.toordinal() + 1)
    from pbr._rejection import Rejection

    seen: dict[str, int | None] = {}  # each family's first line
    known: dict[Hashable, Any] = {}  # what the rules pay for results met (`_pending_results`)
    for line, n, item in numbered:
        found = _evaluated(item, (source, line, n), as_of, rules, plan)
        if not isinstance(found, tuple):
            rejected.append(found)
            continue
        family, decision = found
        if family.family_id in seen:  # a family is claimed for once, however it was given
            rejected.append(
                Rejection.repeated_family(
                    source=source,
                    line=line,
                    record=n,
                    family_id=family.family_id,
                    first_line=seen[family.family_id],
                    local_authority=family.local_authority,
                )
            )
            continue
        seen[family.family_id] = line
        evaluated += 1
        if family.local_authority is not None:
            councils.setdefault(family.local_authority, []).append(family.family_id)
        for warning in decision.warnings:
            if warning.code == "EXAMPLE_PLAN_USED":
                label = str(warning.compared.get("plan", ""))
                examples[label] = examples.get(label, 0) + 1
        secured += decision.paid_to_date
        if not decision.eligible:  # no funded place: forecast as a family with no record
            if decision.paid_to_date:  # and what was paid for it fills no funded place's room
                over_cap[family.family_id] = decision.paid_to_date
            continue
        attached += 1
        fee_due = _fee_due(family, decision, as_of)
        past = decision.paid_to_date + fee_due + decision.payable - decision.cap
        if past > 0:  # the engine's PAID_OVER_CAP: to be recovered, not another family's room
            over_cap[family.family_id] = past
        if too_late and decision.payable:
            late += decision.payable
            late_families += 1
            for kind, outcome in decision.results.items():
                if outcome.status == "met" and outcome.amount:
                    _add(exact, None, str(kind), Fraction(outcome.amount))
        else:
            claimable += decision.payable
        if family.attached_on <= as_of and too_late and fee_due:
            late_fees += fee_due  # no source records a fee claim after the programme ended
            late_fee_families += 1
            _add(exact, None, FEES, Fraction(fee_due))
        elif family.attached_on <= as_of:
            claimable += fee_due
        elif fee_due:
            _add(exact, calendar.window_for(family.attached_on), FEES, Fraction(fee_due))
        never, late_room = _pending_results(
            exact, family, decision, rules, assumptions, calendar, after, known
        )
        never_payable += never
        closed_room += late_room
    remaining = max(alloc.whole_funded_families - attached, 0)
    future = [c for c in attachment_cohorts(alloc, None) if c.attached > as_of]
    weight = sum((c.families for c in future), Fraction(0))
    for c in future if weight else ():  # no funded family left to attach: none forecast
        families = c.families * remaining / weight
        expected_payments(exact, c, families, terms, assumptions, calendar, ceiling=True)
    secured += grant_payments(exact, alloc, calendar, after=as_of)
    if late:  # a result the scenario leaves out is still shown where it lies
        columns = {column for row in exact.values() for column in row}
        kinds += tuple(k for k in terms.kinds if k in columns and k not in kinds)
    windows, beyond, _risk, parts = _windows(exact, kinds, {}, alloc, with_risk=False)
    never_paid = _never_paid(rules, calendar, kinds, parts)
    if late and calendar.dates[-1] != closed:  # else counted among the results beyond
        never_paid += late
    never_paid += late_fees  # fees beyond are never counted among the results
    # what the families' rules can no longer pay, as far as the maximum reaches (records of more
    # families than funded can pass it: that is over the maximum, and none of it at risk)
    paid_over_cap = sum(over_cap.values(), ZERO)
    money = secured - paid_over_cap + claimable + beyond
    money += windows[-1].cumulative if windows else ZERO
    never_payable = min(never_payable, max(alloc.maximum - money, ZERO))
    left = max(alloc.maximum - money - never_payable, ZERO)
    if ends_when_claims_close(rules, calendar):
        if closed is not None and as_of >= closed:  # no claim is left to bring anything
            after_closed = left
        else:  # what families by assumption would not earn after claims closed, too
            closed_room += exact.get(None, {}).get(RISK, Fraction(0))
            after_closed = min(round_to_penny(closed_room), left)
    else:
        after_closed = ZERO
    never_payable += after_closed
    result = Drawdown(
        scenario=assumptions.name,
        programme=alloc.programme,
        maximum=alloc.maximum,
        windows=windows,
        beyond_horizon=beyond,
        secured=secured,
        claimable_now=claimable,
        kinds=kinds,
        as_of=as_of,
        not_attached=remaining if weight == 0 else 0,
        allocation=alloc,
        beyond_horizon_by_column=parts,
        assumptions=assumptions,
        families_evaluated=evaluated,
        not_eligible=evaluated - attached,
        rejected=tuple(rejected),
        claims_closed_on=closed,
        beyond_never_paid=never_paid,
        payable_after_claims_closed=late,
        fees_after_claims_closed=late_fees,
        never_payable=never_payable,
        never_payable_after_claims_closed=after_closed,
        paid_over_cap=paid_over_cap,
        rules=rules,
        plan=plan,
        example_plan=", ".join(examples),
    )

    pooled = _pooled_message(alloc, councils, evaluated)
    if pooled is not None:
        warn_caller(pooled)
    for label, n in examples.items():
        warn_caller(
            f"{n:,} famil{'y' if n == 1 else 'ies'} judged against pbr's example outcome plan "
            f"{label}, not the council's own: pass the council's plan (plan=, or --plan FILE)"
        )
    if late:
        from pbr.money import format_gbp

        warn_caller(
            f"{late_families:,} famil{'y has' if late_families == 1 else 'ies have'} results "
            f"of {format_gbp(late)} payable as of {as_of}, after {rules.programme}'s results "
            f"claims closed on {closed} ({rules.source_of_rule('payment.claims_closed')}): "
            "not claimable now; counted as never paid (beyond_never_paid)"
        )
    if late_fees:
        from pbr.money import format_gbp

        warn_caller(
            f"{late_fee_families:,} "
            + ("family has an attachment fee" if late_fee_families == 1 else "families have fees")
            + f" of {format_gbp(late_fees)} unpaid as of {as_of}, after "
            f"{rules.programme}'s results claims closed on {closed} "
            f"({rules.source_of_rule('payment.claims_closed')}): no source records a fee claim "
            "after the programme ended: not claimable now; counted as never paid "
            "(beyond_never_paid)"
        )
    if over_cap:
        warn_caller(_over_cap_message(over_cap))
    if result.over_maximum > result.paid_over_cap:
        warn_caller(over_maximum_message(result))
    return result


def _over_cap_message(over_cap: Mapping[str, Decimal]) -> str:
    """The families paid past their caps (or paid though not eligible), for a warning."""
    from pbr.money import format_gbp

    shown = ", ".join(
        f"{family} {format_gbp(amount)}" for family, amount in list(over_cap.items())[:5]
    )
    more = f", … {len(over_cap) - 5:,} more" if len(over_cap) > 5 else ""
    n = len(over_cap)
    return (
        f"{n:,} famil{'y was' if n == 1 else 'ies were'} paid beyond {'its' if n == 1 else 'their'} "
        f"cap, or paid though not eligible, by {format_gbp(sum(over_cap.values(), ZERO))} "
        f"({shown}{more}): to be recovered (pbr evaluate warns PAID_OVER_CAP); counted as over "
        "the maximum (paid_over_cap), not against another family's money at risk"
    )


def _pooled_message(
    alloc: Allocation, councils: Mapping[str, list[str]], records: int
) -> str | None:
    """Why records of other (or several) councils are forecast against one allocation, or None.

    An allocation is one council's: records naming another council bring that council's money
    into it. With a named allocation, records naming any other council are named; with an
    unnamed one, records naming more than one council.
    """
    from pbr.forecast._councils import council_key

    if alloc.council is not None:
        own = council_key(alloc.council)
        others = {name: ids for name, ids in councils.items() if council_key(name) != own}
        if not others:
            return None
        n = sum(len(ids) for ids in others.values())
        return (
            f"{n:,} of {records:,} family records name a council other than the allocation's "
            f"({alloc.council}): {_named_records(others)}; they are forecast against "
            f"{alloc.council}'s allocation: give {alloc.council}'s records only"
        )
    if len(councils) < 2:
        return None
    return (
        f"the family records name {len(councils)} councils, forecast against one allocation "
        f"({alloc.label}): {_named_records(councils)}; give one council's records, and name its "
        "allocation's council (council=, or --council NAME)"
    )


def _named_records(councils: Mapping[str, list[str]]) -> str:
    """``Sampleton 3 (SA-001, SA-002, SA-003)``: each council, its records and their families."""
    parts = []
    for name, ids in sorted(councils.items(), key=lambda item: (-len(item[1]), item[0])):
        shown = ", ".join(ids[:5]) + (f", … {len(ids) - 5:,} more" if len(ids) > 5 else "")
        parts.append(f"{name} {len(ids):,} ({shown})")
    return "; ".join(parts)


def _never_paid(
    rules: RuleSet,
    calendar: ClaimCalendar,
    kinds: Sequence[str],
    beyond: Sequence[tuple[str, Decimal]],
) -> Decimal:
    """`Drawdown.beyond_never_paid`: the results `beyond` a last window on the last claim day."""
    if not ends_when_claims_close(rules, calendar):
        return ZERO
    return sum((amount for column, amount in beyond if column in kinds), ZERO)


def ends_when_claims_close(rules: RuleSet, calendar: ClaimCalendar) -> bool:
    """Whether the last claim window is the programme's last day for results claims."""
    return calendar.dates[-1] == rules.claims_until()


def claim_calendar(rules: RuleSet, calendar: ClaimCalendar | None) -> ClaimCalendar:
    """`calendar`, or the programme's default windows (ending on its last results-claim day).

    Windows of one's own that run past that day are warned of: results forecast in them were
    never paid (phase one: May 2015).
    """
    if calendar is None:
        return ClaimCalendar.default_for(rules)
    closed = rules.claims_until()
    if closed is not None and calendar.dates[-1] > closed:
        warn_caller(
            f"the claim windows run past {closed}, when {rules.programme}'s results claims "
            f"closed ({rules.source_of_rule('payment.claims_closed')}): results forecast in "
            "windows after it were never paid"
        )
    return calendar


def _besides(d: Drawdown) -> str:
    """What of `over_maximum` families were paid past their caps, when any (else nothing)."""
    from pbr.money import format_gbp

    if not d.paid_over_cap:
        return ""
    return f" besides {format_gbp(d.paid_over_cap)} paid beyond families' caps (paid_over_cap)"


def over_maximum_message(d: Drawdown) -> str:
    """Why a forecast from records passes the maximum, with the numbers (for warnings).

    It names every part of the sum it states (`_over_maximum_parts`): they add up to it, and
    it to the maximum and what passes it, to the penny.
    """
    from pbr.money import format_gbp

    funded = d.allocation.whole_funded_families if d.allocation is not None else 0
    others = f" (and {d.not_eligible:,} not eligible)" if d.not_eligible else ""
    parts = [words.format(format_gbp(amount)) for words, amount in _over_maximum_parts(d)]
    named = ", ".join(parts[:-1]) + " and " + parts[-1]
    return (
        f"scenario {d.scenario!r}: {d.families_evaluated - d.not_eligible:,} eligible family "
        f"records{others} against {funded:,} funded families: {named} come to "
        f"{format_gbp(d.maximum + d.over_maximum - d.paid_over_cap)}, "
        f"{format_gbp(d.over_maximum - d.paid_over_cap)} over the maximum "
        f"{format_gbp(d.maximum)}{_besides(d)}; at risk is "
        "£0.00 and the excess is reported as over the maximum (over_maximum)"
    )


def _over_maximum_parts(d: Drawdown) -> list[tuple[str, Decimal]]:
    """The parts of what passes the maximum, each its words (``{}`` for the amount) and amount.

    Secured less what families were paid past their caps (said apart: `_besides`), claimable
    now, forecast, and, when there is any, what lies beyond the last claim window (the part
    never paid, after results claims closed, named as such) and never payable.
    """
    secured = "secured (less paid_over_cap) {}" if d.paid_over_cap else "secured {}"
    parts = [
        (secured, d.secured - d.paid_over_cap),
        ("claimable now {}", d.claimable_now),
        ("forecast {}", d.total),
    ]
    if d.beyond_never_paid:
        never = "{} never paid (beyond the last claim window, after results claims closed)"
        parts.append((never, d.beyond_never_paid))
    if d.beyond_horizon - d.beyond_never_paid:
        parts.append(("{} beyond the last claim window", d.beyond_horizon - d.beyond_never_paid))
    if d.never_payable:
        parts.append(("{} never payable", d.never_payable))
    return parts


def _evaluated(
    item: object,
    where: tuple[str, int | None, int],
    as_of: date,
    rules: RuleSet,
    plan: OutcomePlan | None,
) -> tuple[Family, Decision] | Rejection:
    """A record's family and decision, or its rejection (as `pbr.evaluate_many` makes it)."""
    from pbr._rejection import Rejection, without_family
    from pbr.engine import evaluate
    from pbr.errors import OutsideProgramme
    from pbr.records import Family

    n = where[2]
    if isinstance(item, Rejection):
        return item
    if not isinstance(item, Family):
        raise TypeError(
            f"records must hold pbr.Family records (or what pbr.read_records yields); record "
            f"{n} is {type(item).__name__}; build a family with pbr.Family.model_validate(data)"
        )
    other_programme = _of_another_programme(item, rules, where)
    if other_programme is not None:
        return other_programme
    try:
        decision = evaluate(item, as_of=as_of, rules=rules, plan=plan)
    except OutsideProgramme as exc:
        other = item.programme is not None and item.programme != rules.programme
        return _outside_programme(item, where, without_family(str(exc)), stated=other)
    if as_of < item.attached_on and any(p.paid_on is None for p in item.payments):
        # an undated payment counts as made at any date (clarification 6), but a family not
        # yet attached cannot have been paid: its undated payments are not made by `as_of`, so
        # its fee is forecast where it attaches, as for any later attachment
        dated = tuple(p for p in item.payments if p.paid_on is not None)
        item = item.model_copy(update={"payments": dated})
        decision = evaluate(item, as_of=as_of, rules=rules, plan=plan)
    return item, decision


def _of_another_programme(
    family: Family, rules: RuleSet, where: tuple[str, int | None, int]
) -> Rejection | None:
    """The rejection of a record `pbr.evaluate` puts in a programme other than the forecast's.

    Its programme is the one `pbr.rule_set_for` gives it (stated, else the first covering its
    attachment day), not merely one whose dates cover it: a 2014/15 record stating no programme
    is phase one's, and phase two's forecast taking it too would count it twice across a mixed
    file. A record no programme covers is left to `pbr.evaluate` to refuse.
    """
    from pbr.errors import OutsideProgramme
    from pbr.programmes import programme_for

    try:
        own = programme_for(family).id
    except OutsideProgramme:
        return None
    if own == rules.programme:
        return None
    if family.programme is None:
        message = (
            f"attached {family.attached_on} with no programme stated, so a {own} record; "
            f"this forecast is of {rules.programme}"
        )
        if rules.covers(family.attached_on):
            message += (
                f': state "programme": "{rules.programme}" if it is one of '
                f"{rules.programme}'s families"
            )
    else:
        message = f"the record states programme {own}; this forecast is of {rules.programme}"
    return _outside_programme(family, where, message, stated=family.programme is not None)


def _outside_programme(
    family: Family, where: tuple[str, int | None, int], message: str, *, stated: bool
) -> Rejection:
    """A record's ``outside_programme`` rejection, at its stated `programme` or `attached_on`."""
    from pbr._rejection import Rejection

    source, line, n = where
    return Rejection.single(
        source=source,
        line=line,
        record=n,
        family_id=family.family_id,
        local_authority=family.local_authority,
        loc="programme" if stated else "attached_on",
        value=family.programme if stated else family.attached_on.isoformat(),
        message=message,
        type="outside_programme",
    )


def _fee_due(family: Family, decision: Decision, as_of: date) -> Decimal:
    """The family's unpaid attachment fee (its payments made by `as_of` count)."""
    fee_paid = sum(
        (
            p.amount
            for p in family.payments
            if p.kind == "attachment_fee" and (p.paid_on is None or p.paid_on <= as_of)
        ),
        ZERO,
    )
    return max(decision.attachment_fee - fee_paid, ZERO)


def _pending_results(
    exact: dict[date | None, dict[str, Fraction]],
    family: Family,
    decision: Decision,
    rules: RuleSet,
    assumptions: Assumptions,
    calendar: ClaimCalendar,
    after: date,
    known: dict[Hashable, Any],
) -> tuple[Decimal, Fraction]:
    """Add a family's results not yet met: what the rules would pay for each, as expected.

    Each result the scenario names that the decision has ``not_met`` is met with the scenario's
    probability, independently of the others, after one of the scenario's lags (the same for
    all the family's results, each no sooner than its earliest date nor the day after `as_of`),
    and claimed in the first window on or after that day. Every combination of results met is
    paid as the rules pay it (`Books.pay`: the engine's payment rule), claim window by claim
    window, from the family's payments so far (those made, and those payable now): so in no
    outcome is the family paid more than its room, nor a result the rules would not pay (a
    route excluded, one already paid). What is forecast is each result's expected payment, an
    exact fraction: its probability times what the rules would pay it in each outcome.

    Returns what the rules can no longer pay the family whatever it goes on to meet: its room
    under the cap less the most any results still to be met could bring (`_most_payable`);
    and, when the last window is the last day for results claims, what else of its room could
    only be filled after it: for each lag whose results all fall beyond that window, the room
    left less what is forecast there (never paid), weighted by the lag's chance.

    `known` keeps what the rules paid, for the families of one forecast (`Books.money`).
    """
    books = Books.of(family, decision, rules)
    room = books.room
    if room <= 0:  # nothing more can be paid, whatever is met
        return ZERO, Fraction(0)
    money = books.money
    if money is None:  # a programme whose payment rule may read more: this family's own
        known = {}
    to_meet = tuple(str(kind) for kind, r in decision.results.items() if r.status == "not_met")
    claims = sorted({financial_year_of(after), *(financial_year_of(d) for d in calendar.dates)})
    years = tuple(year for year in claims if year >= financial_year_of(after))
    never = room - _most_payable(books, to_meet, years, known)
    fillable = Fraction(room - never)
    late_lags = set()  # the lags after which no result still to be met can be claimed
    if fillable > 0 and to_meet and ends_when_claims_close(rules, calendar):
        for lag in assumptions.lag_months:
            start = add_months(family.attached_on, lag)
            met_on = (
                max(start, r.earliest_date or after, after)
                for r in decision.results.values()
                if r.status == "not_met"
            )
            if all(calendar.window_for(day) is None for day in met_on):
                late_lags.add(lag)
    late = sum((assumptions.lag_months[lag] * fillable for lag in late_lags), Fraction(0))
    pending = [
        (str(kind), assumptions.probabilities[kind], result.earliest_date)
        for kind, result in decision.results.items()
        if result.status == "not_met" and assumptions.probabilities.get(kind, 0) > 0
    ]
    if not pending:
        return never, late
    chances = tuple((kind, p) for kind, p, _ in pending)
    denominator, outcomes = _outcomes(chances)
    for lag, q in assumptions.lag_months.items():
        if not q:
            continue
        start = add_months(family.attached_on, lag)
        days = {kind: max(start, earliest or after, after) for kind, _, earliest in pending}
        windows = {kind: calendar.window_for(day) for kind, day in days.items()}
        # the day each result is claimed: its window, or beyond the last one, the day it is met
        claimed = {kind: windows[kind] or days[kind] for kind in days}
        order = tuple(
            (tuple(kind for kind in days if claimed[kind] == on), financial_year_of(on))
            for on in sorted(set(claimed.values()))
        )
        expected = known.get((money, chances, order))
        if expected is None:
            expected = known[money, chances, order] = _expected(books, outcomes, order, known)
        for kind, pence_weighted in expected.items():
            if pence_weighted:
                amount = q * Fraction(pence_weighted, denominator * 100)
                _add(exact, windows[kind], kind, amount)
                if lag in late_lags:  # forecast, though never paid: not never payable too
                    late -= amount
    return never, late


def _most_payable(
    books: Books,
    to_meet: Sequence[str],
    years: Sequence[FinancialYear],
    known: dict[Hashable, Any],
) -> Decimal:
    """The most the rules could pay for results among `to_meet`, met together in one of `years`.

    Whatever the family goes on to meet, and when (results met at once are paid in the rules'
    order, and pay at least as much as met one after another: a route taken first can exclude
    a better one), its results bring no more than this, nor than its room.
    """
    key = ("most", books.money, tuple(to_meet), tuple(years))
    found: Decimal | None = known.get(key)
    if found is None:
        found = ZERO
        for mask in range(1, 1 << len(to_meet)):
            met = tuple(kind for i, kind in enumerate(to_meet) if mask >> i & 1)
            for year in years:
                amounts, _ = books.pay(met, year.start)
                found = max(found, sum(amounts.values(), ZERO))
        known[key] = found
    return found


@functools.lru_cache(maxsize=64)
def _outcomes(
    chances: tuple[tuple[str, Fraction], ...],
) -> tuple[int, tuple[tuple[tuple[str, ...], int], ...]]:
    """Every set of the results met that can happen, each with its probability.

    The results are met independently, each with its chance; the probabilities are numerators
    over the common denominator returned first (the product of the chances' denominators), so
    that expected amounts are summed in whole numbers.

    >>> _outcomes((("a", Fraction(1, 2)), ("b", Fraction(1, 10))))
    (20, ((('a',), 9), (('b',), 1), (('a', 'b'), 1)))
    """
    denominator = math.prod(p.denominator for _, p in chances)
    found = []
    for mask in range(1, 1 << len(chances)):
        numerator = 1
        for i, (_, p) in enumerate(chances):
            numerator *= p.numerator if mask >> i & 1 else p.denominator - p.numerator
        if numerator:
            met = tuple(kind for i, (kind, _) in enumerate(chances) if mask >> i & 1)
            found.append((met, numerator))
    return denominator, tuple(found)


def _expected(
    books: Books,
    outcomes: Sequence[tuple[tuple[str, ...], int]],
    order: Sequence[tuple[tuple[str, ...], FinancialYear]],
    known: dict[Hashable, Any],
) -> dict[str, int]:
    """Each result's payment in pence, weighted by `outcomes`' chances, claimed in `order`.

    The results claimed on one day are paid together, days in turn, each from the books the
    earlier ones left (`Books.pay`). The rules' money is by financial year, so what they pay is
    asked once for each set of books, results and year (on the year's first day).
    """
    expected = {kind: 0 for group, _ in order for kind in group}
    money = books.money
    states: dict[tuple[tuple[str, Decimal], ...], Books] = {(): books}
    for met, chance in outcomes:
        extra: tuple[tuple[str, Decimal], ...] = ()  # paid in this outcome so far
        for group, year in order:
            together = tuple(kind for kind in group if kind in met)
            if not together:
                continue
            key = (money, extra, together, year)
            found = known.get(key)
            if found is None:
                state = states.get(extra)
                if state is None:
                    state = states[extra] = books.plus(extra, year.start)
                amounts, _ = state.pay(together, year.start)
                pence = {kind: int(amount * 100) for kind, amount in amounts.items()}
                found = known[key] = pence, tuple((k, a) for k, a in amounts.items() if a)
            pence, more = found
            extra += more
            for kind in together:
                expected[kind] += chance * pence[kind]
    return expected


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class Comparison:
    """Several drawdowns side by side (scenarios, councils or both): tables and one chart.

    >>> from pbr.forecast import allocation, default_scenarios
    >>> both = compare(allocation(790), default_scenarios())
    >>> [row["scenario"] for row in both.summary()]
    ['base', 'pessimistic']
    """

    drawdowns: tuple[Drawdown, ...]

    @property
    def councils(self) -> tuple[str, ...]:
        """The councils compared, in order (their labels).

        >>> from pbr.forecast import allocation
        >>> compare(allocation(790, council="Westminster")).councils
        ('Westminster',)
        """
        return tuple(dict.fromkeys(d.label for d in self.drawdowns))

    def summary(self) -> list[dict[str, Any]]:
        """One row per drawdown: maximum, secured, claimable now, forecast, at risk, band.

        >>> from pbr.forecast import allocation, default_scenarios
        >>> rows = compare(allocation(790), default_scenarios(), runs=50).summary()
        >>> [k for k in rows[0] if k.startswith("p")]
        ['p5', 'p50', 'p95']
        """
        return [d.summary() for d in self.drawdowns]

    def by_year(self) -> list[dict[str, Any]]:
        """Every drawdown's `Drawdown.by_year` rows in one table (columns scenario, council).

        >>> from pbr.forecast import allocation, default_scenarios
        >>> rows = compare(allocation(790), default_scenarios()).by_year()
        >>> sorted({r["scenario"] for r in rows})
        ['base', 'pessimistic']
        """
        return _union([row for d in self.drawdowns for row in d.by_year()])

    def to_records(self) -> list[dict[str, Any]]:
        """Every drawdown's window rows, one table (columns scenario, council).

        >>> from pbr.forecast import allocation, default_scenarios
        >>> len(compare(allocation(790), default_scenarios()).to_records()) > 20
        True
        """
        return _union([row for d in self.drawdowns for row in d.to_records()])

    def _empty_rows(self) -> dict[str, dict[str, Any]]:
        """Every drawdown's `Drawdown._empty_rows` in one row per table (their columns' union)."""
        rows = _union([d._empty_rows()["windows"] for d in self.drawdowns])
        return {"windows": rows[0]} if rows else {}

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every table by name: ``summary``, ``by year``, ``windows`` and ``allocation``.

        >>> from pbr.forecast import allocation, default_scenarios
        >>> [len(rows) for rows in compare(allocation(790), default_scenarios()).tables().values()]
        [2, 10, 26, 3]
        """
        allocations: dict[str, Allocation] = {}
        for d in self.drawdowns:
            if d.allocation is not None:
                allocations.setdefault(d.label, d.allocation)
        return {
            "summary": _union(self.summary()),
            "by year": self.by_year(),
            "windows": self.to_records(),
            "allocation": _union([r for a in allocations.values() for r in a.to_records()]),
        }

    def to_pandas(self, table: str = "windows") -> Any:
        """One table as a DataFrame (money in whole pence; see `Drawdown.to_pandas`).

        Its ``attrs`` hold the drawdowns' `Drawdown.provenance` (`provenance`).

        >>> from pbr.forecast import allocation, default_scenarios
        >>> frame = compare(allocation(790), default_scenarios()).to_pandas("summary")
        >>> list(frame["scenario"])
        ['base', 'pessimistic']
        """
        frame = _frame(self.tables(), self._empty_rows(), table)
        frame.attrs.update(self.provenance)
        return frame

    @property
    def provenance(self) -> dict[str, Any]:
        """Each of `Drawdown.provenance`'s names: the drawdowns' text where they all agree.

        Councils forecast under different rules (programmes or interpretations) each keep
        their own: the name then maps each council's label to its text (the summary table has
        them row by row).

        >>> from pbr.forecast import allocation
        >>> compare(allocation(790)).provenance["outcome_plan"]
        ''
        """
        found: dict[str, Any] = {}
        for name in ("interpretations", "rules_hash", "outcome_plan"):
            by_council = {d.label: d.provenance[name] for d in self.drawdowns}
            texts = set(by_council.values())
            found[name] = texts.pop() if len(texts) == 1 else by_council
        return found

    def to_excel(self, path: str | Path) -> None:
        """Write every table to an XLSX workbook, one sheet each (money as numbers in £).

        >>> import pathlib, tempfile
        >>> from pbr.forecast import allocation
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "scenarios.xlsx"
        >>> compare(allocation(790)).to_excel(path)
        >>> path.exists()
        True
        """
        from pbr.forecast._excel import write_workbook

        write_workbook(path, list(self.tables().items()), columns=self._empty_rows())

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw every drawdown: one chart for one council, small multiples for several.

        >>> from pbr.forecast import allocation, default_scenarios
        >>> figure = compare(allocation(790), default_scenarios()).plot(title="Westminster")
        >>> figure._suptitle.get_text()
        'Westminster'
        """
        from pbr.forecast._plot import plot_councils, plot_drawdowns

        if len(self.councils) > 1:
            return plot_councils(list(self.drawdowns), path=path, title=title)
        return plot_drawdowns(list(self.drawdowns), path=path, title=title)


def _union(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the same columns (the union, in order of appearance; missing money is zero)."""
    names = list(dict.fromkeys(key for row in rows for key in row))
    money = {k for row in rows for k, v in row.items() if isinstance(v, Decimal)}
    return [{k: row.get(k, ZERO if k in money else None) for k in names} for row in rows]


@in_exact_arithmetic
def compare(
    alloc: Any, scenarios: Iterable[Assumptions] | None = None, **options: Any
) -> Comparison:
    """Run `drawdown` for each scenario (same calendar and options), for one council or many.

    `alloc` is an `Allocation` or an `AllocationTable` (`allocation_table`: every council);
    `scenarios` is a list of `Assumptions` (`load_scenarios` reads a file), or None for each
    programme's `default_assumptions`; an empty list is refused, not taken for the default.

    >>> from pbr.forecast import Assumptions, allocation, default_assumptions
    >>> base = default_assumptions()
    >>> half = Assumptions("half", {k: p / 2 for k, p in base.probabilities.items()},
    ...     base.lag_months)
    >>> rows = compare(allocation(790), [base, half]).summary()
    >>> rows[1]["forecast"] < rows[0]["forecast"]
    True
    """
    from pbr.forecast._councils import AllocationTable

    if isinstance(alloc, AllocationTable):
        allocations = tuple(alloc.allocations)
    else:
        allocations = (checked_allocation(alloc),)
    chosen = checked_scenarios(scenarios)
    found = []
    for a in allocations:
        for scenario in chosen or [default_assumptions(a.programme)]:
            try:
                found.append(drawdown(a, scenario, **options))
            except ValueError as exc:
                if len(allocations) == 1:
                    raise
                raise ForecastError(f"council {a.label!r}: {exc}") from None
    seen: set[tuple[str, str]] = set()
    for d in found:
        if (d.label, d.scenario) in seen:
            names = [x.scenario for x in found if x.label == d.label]
            raise ForecastError(f"scenario names must differ: {names}")
        seen.add((d.label, d.scenario))
    return Comparison(tuple(found))
