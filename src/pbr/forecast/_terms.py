"""What a programme pays and when: the one place forecasting reads money from a rule set.

Everything the forecast needs from the rules (the years families attach in, the funded share and
its rounding, each year's attachment fee, cap and result rates, and how long after attachment
each result can first be met) is read here by `programme_terms`, so that a different source of
programme terms (a later programme interface) replaces one function.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, cast

from pbr.errors import ForecastError
from pbr.periods import FinancialYear, add_months, financial_year_of
from pbr.programmes import programme as _programme
from pbr.programmes._registry import BUNDLED
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr._parts import ResultKind
    from pbr.decisions import Decision
    from pbr.programmes._kernel import Account, Verdict
    from pbr.records import Family, Payment, PaymentKind

_BUNDLED = frozenset(programme_id for programme_id, _ in BUNDLED)

__all__ = [
    "Books",
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
        raise ForecastError(str(exc).strip("'\"")) from None


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
    rules: RuleSet | None = None
    """The rule set read (its interpretations included), for `paid`."""
    _paid: dict[tuple[FinancialYear, str, FinancialYear], Decimal] = field(
        default_factory=dict, compare=False, repr=False
    )

    def year(self, year: FinancialYear) -> YearTerms:
        """The terms for a family attached in `year`."""
        return self.by_year[year]

    def paid(self, year: FinancialYear, kind: str, claimed: date) -> Decimal:
        """What the rules pay for `kind` met alone and claimed on `claimed` (family of `year`).

        For a family attached in `year` and paid nothing else: its rate, within the results
        share. The rate is the attachment year's, or under ``rates_by = claim_year`` the
        claim's (phase1-spec clarification 16): the engine's payment rule says which
        (`Books.pay`).

        >>> from pbr.rules import PHASE_ONE
        >>> first, kind = FinancialYear(2012), "crime_asb_education"
        >>> str(programme_terms(PHASE_ONE).paid(first, kind, date(2014, 6, 30)))
        '700.00'
        >>> by_claim = programme_terms(PHASE_ONE.with_interpretations(rates_by="claim_year"))
        >>> [str(by_claim.paid(first, kind, date(y, 6, 30))) for y in (2012, 2013, 2014)]
        ['700.00', '800.00', '800.00']
        """
        claim_year = financial_year_of(claimed)
        key = (year, kind, claim_year)
        found = self._paid.get(key)
        if found is None:
            if self.rules is None:  # terms built by hand: the attachment year's rate
                found = min(self.year(year).rates[kind], self.year(year).results_share)
            else:
                books = Books.new(self.rules, year.start)
                found = books.pay((kind,), claim_year.start)[0][kind]
            self._paid[key] = found
        return found

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
        rules=rules,
    )


@dataclass(frozen=True, slots=True)
class Books:
    """A family's payments as a forecast carries them on, and what the rules would pay next.

    `Books.of` starts from a record and its decision: the payments made by the decision's date
    and the results payable then, taken as paid. `pay` asks the programme's own payment rule
    (`Programme.pay`, the engine's, with the rule set's interpretations: rates, the cap, nothing
    paid twice, employment as a top-up or exclusive of crime/ASB/education) what it would pay
    for results met at one evaluation, and gives the books with those payments made, so that
    what a forecast puts on a family is never more than the rules could pay it.

    >>> import pbr
    >>> from pbr.rules import PHASE_ONE
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-04-16",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "payments": [{"kind": "crime_asb_education", "amount": "700"}]})
    >>> books = Books.of(family, pbr.evaluate(family, as_of=date(2014, 3, 31)), PHASE_ONE)
    >>> paid, after = books.pay({"progress_to_work", "continuous_employment"}, date(2014, 6, 30))
    >>> {kind: str(amount) for kind, amount in paid.items()}  # employment tops up what is left
    {'progress_to_work': '100.00', 'continuous_employment': '0.00'}
    >>> str(books.pay({"continuous_employment"}, date(2014, 6, 30))[0]["continuous_employment"])
    '100.00'
    >>> exclusive = PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    >>> books = Books.of(family, pbr.evaluate(family, as_of=date(2014, 3, 31)), exclusive)
    >>> str(books.pay({"continuous_employment"}, date(2014, 6, 30))[0]["continuous_employment"])
    '0.00'
    """

    family: Family
    rules: RuleSet
    account: Account

    @classmethod
    def of(cls, family: Family, decision: Decision, rules: RuleSet) -> Books:
        """`family`'s books after `decision`: payments made by its date, and what it pays."""
        from pbr.programmes._kernel import Account, account

        year = financial_year_of(family.attached_on)
        made = account(family, decision.as_of, year, decision.attachment_fee, decision.cap).made
        now = tuple(
            _payment(kind, result.amount, decision.as_of)
            for kind, result in decision.results.items()
            if result.amount > 0
        )
        return cls(family, rules, Account(year, decision.attachment_fee, decision.cap, made + now))

    @classmethod
    def new(cls, rules: RuleSet, attached: date) -> Books:
        """The books of a family attached on `attached` and paid nothing (its fee counts)."""
        from pbr.programmes._kernel import Account
        from pbr.records import Family

        source = _programme(rules.programme)
        year = financial_year_of(attached)
        family = Family.model_construct(family_id="forecast", attached_on=attached, members=())
        fee, cap = source.attachment_fee(rules, year), source.cap(rules, year)
        return cls(family, rules, Account(year, fee, cap, ()))

    @property
    def room(self) -> Decimal:
        """What the rules may still pay the family's results (the cap less what is paid)."""
        return self.account.room

    @property
    def money(self) -> Hashable | None:
        """All that a bundled programme's payment rule reads of the books and the family.

        The family's attachment year (whose rates apply, or from which `rates_by` counts), the
        fee and cap, and each payment's kind and amount, in order: books with the same `money`
        are paid the same for the same results, so a forecast asks once. None for a programme
        registered at run time, whose payment rule may read more of the record.
        """
        if self.rules.programme not in _BUNDLED:
            return None
        books = self.account
        made = tuple((p.kind, p.amount) for p in books.made)
        return (self.rules.programme, books.year, books.fee, books.cap, made)

    def plus(self, paid: Sequence[tuple[str, Decimal]], on: date) -> Books:
        """These books with `paid` (kind and amount) made on `on` as well."""
        from pbr.programmes._kernel import Account

        if not paid:
            return self
        books = self.account
        made = books.made + tuple(_payment(kind, amount, on) for kind, amount in paid)
        return Books(
            self.family,
            self.rules,
            Account(books.year, books.fee, books.cap, made, books.cap_source),
        )

    def pay(self, met: Collection[str], on: date) -> tuple[dict[str, Decimal], Books]:
        """What the rules pay for the results `met`, evaluated on `on`, and the books after it.

        Each result in `met` is judged met and every other not met, except one the rules do
        not let any family claim on `on` (`closed_on`), which pays nothing; the amounts, in the
        programme's order of results, are those `Programme.pay` gives (zero for one it does not
        pay).
        """
        source = _programme(self.rules.programme)
        closed = closed_on(self.rules, on)
        verdicts = _verdicts(source.result_kinds, frozenset(met) - closed, closed)
        decided, _ = source.pay(self.family, on, self.rules, self.account, verdicts)
        paid: dict[str, Decimal] = {
            kind: decided[kind].amount for kind in source.result_kinds if kind in met
        }
        return paid, self.plus([(kind, amount) for kind, amount in paid.items() if amount], on)


@functools.lru_cache(maxsize=1024)
def _payment(kind: str, amount: Decimal, on: date) -> Payment:
    """A payment the forecast takes as made (immutable, so one object serves every family)."""
    from pbr.records import Payment

    return Payment.model_construct(kind=cast("PaymentKind", kind), amount=amount, paid_on=on)


@functools.lru_cache(maxsize=256)
def _verdicts(
    kinds: tuple[ResultKind, ...], met: frozenset[str], closed: frozenset[str] = frozenset()
) -> dict[ResultKind, Verdict]:
    """Each of `kinds` judged met (those in `met`), not applicable (`closed`) or not met."""
    from pbr.programmes._kernel import Verdict

    return {
        kind: Verdict(
            "met" if kind in met else "not_applicable" if kind in closed else "not_met", ()
        )
        for kind in kinds
    }


def closed_on(rules: RuleSet, on: date) -> frozenset[str]:
    """The results no family can be paid for on `on`, whatever its record: a route closed.

    Asked of the programme's own rules: its results judged on `on` for a family identified for
    every problem it knows (so that no result is out of reach for want of one), with nothing
    recorded; those the rules then find not applicable are closed that day. Supporting
    Families' continuous employment is closed to claims from April 2022 under
    ``employment_route = claims_to_march_2022``, and always under ``never``. The rules change
    by financial year, so each year is asked once.

    >>> from pbr.rules import SUPPORTING_FAMILIES
    >>> sorted(closed_on(SUPPORTING_FAMILIES, date(2022, 3, 31))), sorted(
    ...     closed_on(SUPPORTING_FAMILIES, date(2022, 4, 1)))
    ([], ['continuous_employment'])
    """
    from pbr.engine import rules_hash

    year = financial_year_of(on)
    key = (rules_hash(rules), year)
    found = _CLOSED.get(key)
    if found is None:
        found = _CLOSED[key] = _closed(rules, year.start)
    return found


_CLOSED: dict[tuple[str, FinancialYear], frozenset[str]] = {}
"""`closed_on` by rule set (its hash) and financial year."""


def _closed(rules: RuleSet, on: date) -> frozenset[str]:
    from pbr.decisions import Identification
    from pbr.plans import example_plan
    from pbr.records import Family

    source = _programme(rules.programme)
    attached = min(max(rules.attached_from, date(on.year - 3, 4, 1)), rules.attached_to, on)
    family = Family.model_construct(family_id="forecast", attached_on=attached, members=())
    every = Identification.model_construct(
        family_id="forecast",
        attached_on=attached,
        eligible=True,
        identified_for=source.problems,
        evidence=(),
        local_discretion=False,
        reasons=(),
    )
    plan = example_plan(rules.programme) if source.uses_plan else None
    verdicts = source.results(family, on, rules, plan, every)
    return frozenset(
        kind for kind, verdict in verdicts.items() if verdict.status == "not_applicable"
    )
