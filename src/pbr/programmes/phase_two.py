"""Troubled Families phase two (attached 1 April 2015 – 31 March 2021; early starters 2014/15).

Two or more of six headline problems at entry; one results payment of £800 when the family makes
significant and sustained progress against the council's outcome plan, or an adult moves into
continuous employment; a £1,000 attachment fee (interpretation `attachment_fees_after_2017_18`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, get_args

from pbr._parts import ResultKind
from pbr._record_checks import PhaseTwoProblem
from pbr.periods import FinancialYear
from pbr.programmes._employment import continuous_employment
from pbr.programmes._kernel import Verdict, reason
from pbr.programmes._programme import Programme
from pbr.programmes._sustained import (
    KINDS,
    entry_problems,
    identification,
    pay_one_claim,
    result_rates,
    sustained_progress,
)
from pbr.rules import RuleSet, bundled_rule_set

if TYPE_CHECKING:
    from pbr.decisions import Identification
    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = ["PROGRAMME"]

_PROBLEMS: tuple[str, ...] = get_args(PhaseTwoProblem)
"""The six headline problems, in tf-rules' order: how a decision lists a family's."""


def identify(family: Family, rules: RuleSet) -> Identification:
    """Eligible with at least `problems_needed` of the six problems at entry."""
    checks = (entry_problems(family, rules, "problems_needed", "problems", _PROBLEMS),)
    return identification(family, rules, checks, frozenset({"PROBLEMS_AT_ENTRY"}), _PROBLEMS)


def results(
    family: Family, as_of: date, rules: RuleSet, plan: OutcomePlan | None, ident: Identification
) -> Mapping[ResultKind, Verdict]:
    """Sustained progress against the plan, and continuous employment (`relevance` decides who)."""
    assert plan is not None, "the kernel always gives a plan to a programme that uses one"
    skip = None
    if rules.interpretation("relevance") == "identified_problems_only" and (
        "work" not in ident.identified_for
    ):
        skip = reason(
            "LIMB_NOT_RELEVANT",
            "results.relevance",
            rules,
            "continuous_employment: the family was not identified for work",
            limb="continuous_employment",
            problem="work",
        )
    return {
        "sustained_progress": sustained_progress(family, rules, as_of, plan, ident),
        "continuous_employment": continuous_employment(family, rules, as_of, not_applicable=skip),
    }


def _fee_parameter(rules: RuleSet) -> str:
    """The fee's parameter under `attachment_fees_after_2017_18`."""
    stopped = rules.interpretation("attachment_fees_after_2017_18") == "stopped"
    return "attachment_fee_when_stopped" if stopped else "attachment_fee"


def attachment_fee(rules: RuleSet, year: FinancialYear) -> Decimal:
    """£1,000 a family, or none from 2018/19 under `attachment_fees_after_2017_18 = stopped`."""
    return rules.amount(_fee_parameter(rules), year)


def attachment_fee_source(rules: RuleSet, year: FinancialYear) -> str:
    """The source of the fee `attachment_fee` gives: the parameter the interpretation chose."""
    return rules.parameter(_fee_parameter(rules), year).source_text


def _cap_parameter(rules: RuleSet) -> str:
    """The cap's parameter under `attachment_fees_after_2017_18`."""
    stopped = rules.interpretation("attachment_fees_after_2017_18") == "stopped"
    return "cap_when_stopped" if stopped else "cap"


def cap(rules: RuleSet, year: FinancialYear) -> Decimal:
    """£1,800 a family, or the £800 results payment alone where `attachment_fee` pays none."""
    return rules.amount(_cap_parameter(rules), year)


def cap_source(rules: RuleSet, year: FinancialYear) -> str:
    """The source of the cap `cap` gives: the parameter the interpretation chose."""
    return rules.parameter(_cap_parameter(rules), year).source_text


PROGRAMME = Programme(
    rules=bundled_rule_set("phase_two.toml"),
    short="TF2",
    name="Troubled Families phase two",
    result_kinds=KINDS,
    problems=_PROBLEMS,
    states_problems_in="problems_at_entry",
    identify=identify,
    results=results,
    pay=pay_one_claim,
    attachment_fee=attachment_fee,
    attachment_fee_source=attachment_fee_source,
    result_rates=result_rates,
    cap=cap,
    cap_source=cap_source,
    uses_plan=True,
    one_claim=True,
    illustrative_rates={
        "sustained_progress": (Fraction(1, 2), Fraction(15, 100)),
        "continuous_employment": (Fraction(1, 5), Fraction(5, 100)),
    },
)
"""Phase two, as the registry lists it."""
