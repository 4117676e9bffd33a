"""Supporting Families (families attached 1 April 2021 – 31 March 2025; tf-rules §3).

Three or more of ten needs at entry and a dependent child or an expectant parent; one results
payment of £800 for a successful family outcome against the council's plan, or (interpretation
`employment_route`) by continuous employment; no per-family attachment fee.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, get_args

from pbr._dates import age_on
from pbr._parts import ResultKind
from pbr._record_checks import FamilyNeed
from pbr.programmes._employment import continuous_employment
from pbr.programmes._kernel import Verdict, reason
from pbr.programmes._programme import Programme
from pbr.programmes._sustained import (
    KINDS,
    attachment_fee,
    entry_problems,
    identification,
    pay_one_claim,
    result_rates,
    sustained_progress,
)
from pbr.rules import RuleSet, bundled_rule_set

if TYPE_CHECKING:
    from pbr.decisions import Identification, Reason
    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = ["PROGRAMME"]

_NEEDS: tuple[str, ...] = get_args(FamilyNeed)
"""The ten headline needs, in tf-rules' order: how a decision lists a family's."""


def identify(family: Family, rules: RuleSet) -> Identification:
    """Eligible with `needs_required` needs at entry and a dependent child or expectant parent."""
    checks = (
        entry_problems(family, rules, "needs_required", "needs", _NEEDS),
        _dependent_or_expectant(family, rules),
    )
    passing = frozenset({"PROBLEMS_AT_ENTRY", "DEPENDENT_CHILD_OR_EXPECTANT_PARENT"})
    return identification(family, rules, checks, passing, _NEEDS, "needs")


def _dependent_or_expectant(family: Family, rules: RuleSet) -> Reason:
    under_16 = rules.interpretation("dependent_child") == "under_16"
    limit = rules.number("dependent_child_age_under_16" if under_16 else "dependent_child_age")
    attached = family.attached_on
    children = sorted(
        m.person_id for m in family.members if age_on(m.date_of_birth, attached) < limit
    )
    expectant = sorted(m.person_id for m in family.members if m.expectant)
    return reason(
        "DEPENDENT_CHILD_OR_EXPECTANT_PARENT"
        if children or expectant
        else "NO_DEPENDENT_CHILD_OR_EXPECTANT_PARENT",
        "identification.household",
        rules,
        f"dependent children under {limit}: {', '.join(children) or 'none'}; "
        f"expectant: {', '.join(expectant) or 'none'}",
        child_age_limit=limit,
        dependent_children=len(children),
        expectant_parents=len(expectant),
        dependent_child=rules.interpretation("dependent_child"),
    )


def results(
    family: Family, as_of: date, rules: RuleSet, plan: OutcomePlan | None, ident: Identification
) -> Mapping[ResultKind, Verdict]:
    """A successful family outcome against the plan, and the employment route while it is open."""
    assert plan is not None, "the kernel always gives a plan to a programme that uses one"
    progress = sustained_progress(family, rules, as_of, plan, ident)
    return {
        "sustained_progress": progress,
        "continuous_employment": continuous_employment(
            family,
            rules,
            as_of,
            not_applicable=_employment_closed(family, rules, as_of, ident, plan, progress),
        ),
    }


def _employment_closed(
    family: Family,
    rules: RuleSet,
    as_of: date,
    ident: Identification,
    plan: OutcomePlan,
    progress: Verdict,
) -> Reason | None:
    """Why the employment route does not apply on `as_of`, or None when it does."""
    route = rules.interpretation("employment_route")
    last_day = route_claims_until(rules).get("continuous_employment")
    open_now = route == "always" or (last_day is not None and as_of <= last_day)
    if not open_now:
        rule = _CLOSED_RULE[route == "never"]
        message = (
            f"continuous employment is not a route of its own on {as_of} "
            f"(employment_route = {route})"
        )
        unread = _employment_unread(family, as_of, progress)
        if unread is None:
            return reason(
                "EMPLOYMENT_ROUTE_CLOSED",
                rule,
                rules,
                message,
                as_of=as_of,
                employment_route=route,
            )
        working, measures = unread
        return reason(
            "EMPLOYMENT_ROUTE_CLOSED",
            rule,
            rules,
            f"{message}: employment counts only through the plan, which reads no "
            f"employment_spells (in work: {working}), and plan {plan.label}'s financial_stability "
            f"outcome is not met, with no evidence for {measures}: record the work as the "
            "observations the plan reads",
            as_of=as_of,
            employment_route=route,
            employment_spells_not_read=working,
            measures_without_evidence=measures,
        )
    relevant = rules.interpretation("relevance") != "identified_problems_only"
    if relevant or "financial_stability" in ident.identified_for:
        return None
    return reason(
        "LIMB_NOT_RELEVANT",
        "results.relevance",
        rules,
        "continuous_employment: the family did not have the financial_stability need at entry",
        limb="continuous_employment",
        problem="financial_stability",
    )


_CLOSED_RULE = ("results.continuous_employment.route", "results.continuous_employment.route.never")
"""The closed route's rule, by whether it is closed from the start (``never``): the first cites
S40 (the route open to March 2022) and pbr's reading (closed after), the second pbr's reading
only, as no source says the route was never open."""


def route_claims_until(rules: RuleSet) -> Mapping[ResultKind, date]:
    """The employment route's last claim day, when it closes before results claims do.

    Under ``employment_route = claims_to_march_2022``, `employment_route_until` (31 March 2022,
    the end of the 2021/22 guidance, S40); none under ``always`` (open to the end) or ``never``
    (never open).
    """
    if rules.interpretation("employment_route") != "claims_to_march_2022":
        return {}
    return {"continuous_employment": rules.day("employment_route_until")}


def _employment_unread(family: Family, as_of: date, progress: Verdict) -> tuple[str, str] | None:
    """Employment recorded since attachment that the plan's financial_stability outcome misses.

    The adults with employment spells from attachment to `as_of`, and the financial_stability
    measures that found no evidence (``in_work (adult_in_work)``); None unless the outcome is
    not met and there are both.
    """
    if not family.employment_spells or not any(
        r.code == "OUTCOME_NOT_MET" and r.compared.get("problem") == "financial_stability"
        for r in progress.reasons
    ):
        return None
    missing = [
        f"{r.compared['measure']} ({r.compared['indicator']})"
        for r in progress.reasons
        if r.code == "MEASURE_NO_EVIDENCE" and r.compared.get("problem") == "financial_stability"
    ]
    if not missing:
        return None
    attached = family.attached_on
    working = sorted(
        {
            s.person_id
            for s in family.employment_spells
            if s.start <= as_of and (s.end is None or s.end >= attached)
        }
    )
    return (", ".join(working), ", ".join(missing)) if working else None


PROGRAMME = Programme(
    rules=bundled_rule_set("supporting_families.toml"),
    short="SF",
    name="Supporting Families",
    result_kinds=KINDS,
    problems=_NEEDS,
    states_problems_in="problems_at_entry",
    identify=identify,
    results=results,
    pay=pay_one_claim,
    attachment_fee=attachment_fee,
    result_rates=result_rates,
    uses_plan=True,
    one_claim=True,
    route_claims_until=route_claims_until,
    illustrative_rates={
        "sustained_progress": (Fraction(1, 2), Fraction(15, 100)),
        "continuous_employment": (Fraction(1, 5), Fraction(5, 100)),
    },
)
"""Supporting Families, as the registry lists it."""
