"""What a programme is: its rule set and the small functions that apply it.

A `Programme` is data plus functions, never a class to subclass: the kernel calls `identify`,
`results` and `pay` in one fixed flow (`pbr.programmes._kernel.decide`), and the forecast reads
money only through `attachment_fee` and `result_rates`, so interpretations apply everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from pbr._parts import ResultKind
from pbr.periods import FinancialYear
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Decision, Identification
    from pbr.plans import OutcomePlan
    from pbr.programmes._kernel import Pay, Results
    from pbr.records import Family

__all__ = ["Programme"]


def _cap(rules: RuleSet, year: FinancialYear) -> Decimal:
    """The rule set's `cap` for `year`: a programme's cap unless it says otherwise."""
    return rules.amount("cap", year)


def _cap_source(rules: RuleSet, year: FinancialYear) -> str:
    """The source tags of the rule set's `cap` in `year`, unless the programme says otherwise."""
    return rules.parameter("cap", year).source_text


def _fee_source(rules: RuleSet, year: FinancialYear) -> str:
    """The source tags of the rule set's `attachment_fee` in `year`, unless it says otherwise."""
    return rules.parameter("attachment_fee", year).source_text


def _no_route_closes(rules: RuleSet) -> Mapping[ResultKind, date]:
    """No result's route closes before the programme's results claims do."""
    return {}


_PAYMENT_KINDS: dict[int, tuple[Programme, tuple[str, ...]]] = {}
"""`Programme.payment_kinds` by programme (worked out once: every family paid anything asks)."""


@dataclass(frozen=True, slots=True)
class Programme:
    """A programme: its cited rule set and the rules as small pure functions.

    >>> from pbr.programmes import programme
    >>> p = programme("tf-phase-1")
    >>> p.id, p.short, p.result_kinds
    ('tf-phase-1', 'TF1', ('crime_asb_education', 'progress_to_work', 'continuous_employment'))
    """

    rules: RuleSet
    """The bundled rule set, with the default interpretations."""
    short: str
    """A short label for tables, e.g. ``TF1``."""
    name: str
    """The programme's name for titles, e.g. ``Troubled Families phase one``."""
    result_kinds: tuple[ResultKind, ...]
    """The results the programme decides, in the order they are paid."""
    problems: tuple[str, ...]
    """The problems (or needs) a family may have at entry."""
    states_problems_in: Literal["identified_for", "problems_at_entry"]
    """Where a record lists them: phase one's `identified_for`, or `problems_at_entry`."""
    identify: Callable[[Family, RuleSet], Identification]
    """Eligibility at attachment."""
    results: Results
    """Each result judged on the evidence at the evaluation date."""
    pay: Pay
    """The verdicts turned into amounts within the cap."""
    attachment_fee: Callable[[RuleSet, FinancialYear], Decimal]
    """The attachment fee for a family attached in a year (interpretations applied)."""
    result_rates: Callable[[RuleSet, FinancialYear], Mapping[ResultKind, Decimal]]
    """Each result's rate for a family attached in a year (interpretations applied)."""
    uses_plan: bool = False
    """Whether results are judged against the council's outcome plan."""
    illustrative_rates: Mapping[str, tuple[Fraction, Fraction]] = field(default_factory=dict)
    """Illustrative success rates for a forecast's default scenario, by result: (central value,
    half-width of its range). Not evidence: analysts replace them with their own."""
    cap: Callable[[RuleSet, FinancialYear], Decimal] = _cap
    """The most paid for a family attached in a year, fee included (interpretations applied);
    by default the rule set's `cap`."""
    cap_source: Callable[[RuleSet, FinancialYear], str] = _cap_source
    """The source tags of the cap `cap` gives for a family attached in a year: what the reasons
    about the cap cite (the value applied, not every year's)."""
    attachment_fee_source: Callable[[RuleSet, FinancialYear], str] = _fee_source
    """The source tags of the parameter `attachment_fee` reads for a family attached in a year
    (interpretations applied); by default the rule set's `attachment_fee`."""
    one_claim: bool = False
    """Whether a family has one results claim, by any route (phase two, Supporting Families):
    a record listing results paid by two routes is warned of (`SECOND_RESULTS_CLAIM_PAID`)."""
    route_claims_until: Callable[[RuleSet], Mapping[ResultKind, date]] = _no_route_closes
    """The last claim day of each result whose route closes before results claims do
    (`RuleSet.claims_until`), interpretations applied: Supporting Families' employment route,
    31 March 2022. What the audit judges a result missed for good on (`pbr.audit`)."""

    @property
    def id(self) -> str:
        """The programme's id as records and decisions write it, e.g. ``tf-phase-1``."""
        return self.rules.programme

    @property
    def payment_kinds(self) -> tuple[str, ...]:
        """The payments a family of the programme may have been paid: its fee and its results.

        A programme that pays no attachment fee in any year (Supporting Families) has none to
        have been paid.

        >>> from pbr.programmes import programme
        >>> programme("tf-phase-2").payment_kinds
        ('attachment_fee', 'sustained_progress', 'continuous_employment')
        >>> programme("supporting-families").payment_kinds
        ('sustained_progress', 'continuous_employment')
        """
        found = _PAYMENT_KINDS.get(id(self))
        if found is None or found[0] is not self:
            pays_fee = any(self.attachment_fee(self.rules, year) for year in self.rules.years)
            kinds = ("attachment_fee", *self.result_kinds) if pays_fee else self.result_kinds
            found = _PAYMENT_KINDS[id(self)] = (self, kinds)
        return found[1]

    def evaluate(
        self,
        family: Family,
        as_of: date,
        rules: RuleSet | None = None,
        plan: OutcomePlan | None = None,
    ) -> Decision:
        """Decide `family` at `as_of` under this programme (the kernel's one flow)."""
        from pbr.programmes._kernel import decide

        return decide(self, family, as_of, rules if rules is not None else self.rules, plan)
