"""Phase two and Supporting Families: one results payment per family, by outcome plan or work.

Both programmes pay an eligible family once (tf-rules §2, §3): when it shows significant and
sustained progress against every problem it had at entry, judged by the council's outcome plan
(`sustained_progress`), or when an adult moves into continuous employment, judged as in phase
one (`continuous_employment`). Supporting Families has no per-family attachment fee, needs
three needs and a dependent child or expectant parent, and may close the employment route
(interpretation `employment_route`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pbr.decisions import (
    RESULT_KINDS_BY_PROGRAMME,
    Decision,
    Identification,
    Reason,
    ResultDecision,
    ResultKind,
    Status,
    construct,
)
from pbr.errors import OutsideProgramme
from pbr.money import ZERO
from pbr.periods import FinancialYear, age_on, financial_year_of
from pbr.phase_one import _reason, _Verdict, continuous_employment
from pbr.plans import (
    Measure,
    OutcomePlan,
    PlanError,
    compare,
    earliest_window_end,
    example_plan,
    indicator_values,
    measure_window,
)
from pbr.records import Family, Payment
from pbr.rules import RuleSet

__all__ = ["evaluate", "identify"]

SUPPORTING_FAMILIES = "supporting-families"


def identify(family: Family, rules: RuleSet) -> Identification:
    """Eligibility at attachment: enough problems or needs at entry.

    Supporting Families also needs a dependent child or an expectant parent.
    """
    sf = rules.programme == SUPPORTING_FAMILIES
    needed_param = "needs_required" if sf else "problems_needed"
    needed = rules.number(needed_param)
    problems = tuple(p.problem for p in family.problems_at_entry)
    src = rules.sources_of(needed_param)
    rule = "identification.problems_at_entry"
    enough = len(problems) >= needed
    reasons: list[Reason] = [
        _reason(
            "PROBLEMS_AT_ENTRY" if enough else "TOO_FEW_PROBLEMS_AT_ENTRY",
            rule,
            src,
            f"{len(problems)} {'needs' if sf else 'problems'} at entry "
            f"({', '.join(problems) or 'none recorded'}); {needed} needed",
            problems=len(problems),
            needed=needed,
            listed=", ".join(problems),
        )
    ]
    eligible = enough
    if sf:
        household = _dependent_or_expectant(family, rules)
        reasons.append(household)
        eligible = eligible and household.code == "DEPENDENT_CHILD_OR_EXPECTANT_PARENT"
    reasons.append(
        _reason(
            "ELIGIBLE" if eligible else "NOT_ELIGIBLE",
            "identification.eligibility",
            src,
            "eligible for a results payment" if eligible else "not eligible: nothing is payable",
        )
    )
    warnings: tuple[Reason, ...] = ()
    if family.identified_for is not None:
        warnings = (
            _reason(
                "IDENTIFIED_FOR_IGNORED",
                "identification.problems_at_entry",
                src,
                f"identified_for ({', '.join(family.identified_for) or 'empty'}) is not used by "
                f"{rules.programme}: problems_at_entry decides eligibility",
                identified_for=", ".join(family.identified_for),
            ),
        )
    return construct(
        Identification,
        family_id=family.family_id,
        attached_on=family.attached_on,
        eligible=eligible,
        identified_for=problems,
        evidence=problems,
        local_discretion=False,
        reasons=tuple(reasons),
        warnings=warnings,
    )


def _dependent_or_expectant(family: Family, rules: RuleSet) -> Reason:
    limit = (
        16
        if rules.interpretation("dependent_child") == "under_16"
        else (rules.number("dependent_child_age"))
    )
    attached = family.attached_on
    children = sorted(
        m.person_id for m in family.members if age_on(m.date_of_birth, attached) < limit
    )
    expectant = sorted(m.person_id for m in family.members if m.expectant)
    found = bool(children or expectant)
    return _reason(
        "DEPENDENT_CHILD_OR_EXPECTANT_PARENT"
        if found
        else "NO_DEPENDENT_CHILD_OR_EXPECTANT_PARENT",
        "identification.household",
        rules.sources_of("dependent_child_age"),
        (
            f"dependent children under {limit}: {', '.join(children) or 'none'}; "
            f"expectant: {', '.join(expectant) or 'none'}"
        ),
        child_age_limit=limit,
        dependent_children=len(children),
        expectant_parents=len(expectant),
        dependent_child=rules.interpretation("dependent_child"),
    )


def evaluate(
    family: Family, as_of: date, rules: RuleSet, plan: OutcomePlan | None = None
) -> Decision:
    """Evaluate a phase-two or Supporting Families family at `as_of` against `plan`.

    `plan=None` uses pbr's example plan for the programme, with an `EXAMPLE_PLAN_USED` warning.
    """
    if family.programme not in (None, rules.programme) or not rules.covers(family.attached_on):
        raise OutsideProgramme(
            family.family_id,
            f"{rules.title} covers families attached {rules.attached_from} to "
            f"{rules.attached_to}; this one ({family.programme or 'programme not stated'}) was "
            f"attached on {family.attached_on}",
        )
    warnings: tuple[Reason, ...] = ()
    if plan is None:
        plan = example_plan(rules.programme)
        warnings = (
            _reason(
                "EXAMPLE_PLAN_USED",
                "results.sustained_progress.plan",
                "S22, S36",
                f"judged against pbr's example plan {plan.label}: pass the council's own plan",
                plan=plan.label,
            ),
        )
    elif plan.programme != rules.programme:
        raise PlanError(
            f"plan {plan.label} is for {plan.programme}, but family {family.family_id!r} is "
            f"evaluated under {rules.programme}"
        )
    year = financial_year_of(family.attached_on)
    fee = _attachment_fee(rules, year)
    cap = rules.amount("cap", year)
    ident = identify(family, rules)
    counted = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
    paid_to_date = sum((p.amount for p in counted), ZERO)
    kinds = RESULT_KINDS_BY_PROGRAMME[rules.programme]
    if not ident.eligible:
        why = next(r for r in ident.reasons if r.code == "NOT_ELIGIBLE")
        results = {
            kind: construct(
                ResultDecision, status="not_applicable", amount=ZERO, rate=ZERO, reasons=(why,)
            )
            for kind in kinds
        }
        payable = ZERO
    else:
        verdicts = {
            "sustained_progress": sustained_progress(family, rules, as_of, plan, ident),
            "continuous_employment": _employment(family, rules, as_of, ident),
        }
        results, payable = _pay(rules, year, fee, cap, counted, verdicts)
    return construct(
        Decision,
        family_id=family.family_id,
        as_of=as_of,
        programme=rules.programme,
        rules_version=rules.rules_version,
        attached_on=family.attached_on,
        attachment_year=str(year),
        attachment_fee=fee,
        eligible=ident.eligible,
        identified_for=ident.identified_for,
        payable=payable,
        paid_to_date=paid_to_date,
        cap=cap,
        interpretations=dict(rules.chosen),
        outcome_plan=plan.label,
        warnings=(*ident.warnings, *warnings),
        identification=ident.reasons,
        results=results,
    )


def _attachment_fee(rules: RuleSet, year: FinancialYear) -> Decimal:
    if rules.chosen.get("attachment_fees_after_2017_18") == "stopped" and year.start_year >= 2018:
        return ZERO
    return rules.amount("attachment_fee", year)


# --- Sustained progress against the outcome plan ----------------------------------------------


def sustained_progress(
    family: Family, rules: RuleSet, as_of: date, plan: OutcomePlan, ident: Identification
) -> _Verdict:
    """Every problem at entry has its plan outcome met over sustain periods after attachment."""
    reasons: list[Reason] = []
    all_met = True
    waiting: list[date] = []
    for problem in ident.identified_for:
        outcome = plan.outcome_for(problem)
        if outcome is None:
            all_met = False
            reasons.append(
                _reason(
                    "PROBLEM_NOT_IN_PLAN",
                    "results.sustained_progress.plan",
                    "S22, S36",
                    f"plan {plan.label} has no outcome for {problem!r}",
                    problem=problem,
                    plan=plan.label,
                )
            )
            continue
        held: list[bool] = []
        measured: list[Reason] = []
        for measure in outcome.measures:
            ok, reason, earliest = _measure(family, rules, as_of, plan, problem, measure)
            held.append(ok)
            measured.append(reason)
            if earliest is not None:
                waiting.append(earliest)
        met = all(held) if outcome.match == "all" else any(held)
        all_met = all_met and met
        reasons.append(
            _reason(
                "OUTCOME_MET" if met else "OUTCOME_NOT_MET",
                f"results.sustained_progress.{problem}",
                "S15, S22, S36" if rules.programme != SUPPORTING_FAMILIES else "S39, S41",
                f"{problem}: {sum(held)} of {len(held)} measures hold ({outcome.match} needed)",
                problem=problem,
                measures=len(held),
                measures_met=sum(held),
                match=outcome.match,
                plan=plan.label,
            )
        )
        reasons.extend(measured)
    if all_met:
        return _Verdict("met", tuple(reasons))
    earliest = max(waiting) if waiting else None
    return _Verdict("not_met", tuple(reasons), earliest)


def _measure(
    family: Family,
    rules: RuleSet,
    as_of: date,
    plan: OutcomePlan,
    problem: str,
    measure: Measure,
) -> tuple[bool, Reason, date | None]:
    """Judge one measure: (holds, its reason, the earliest date when its period is incomplete)."""
    low, high, terms = measure_window(measure, as_of, rules.term_calendar)
    rule = f"results.sustained_progress.{problem}.{measure.id}"
    src = f"plan {plan.label}"
    numbers: dict[str, object] = {
        "problem": problem,
        "measure": measure.id,
        "indicator": measure.indicator,
        "aggregate": measure.effective_aggregate,
        "comparison": measure.comparison,
        "threshold": str(measure.threshold),
        "period": measure.period,
        "window_after": low,
        "window_to": high,
    }
    if low < family.attached_on:
        earliest = earliest_window_end(measure, family.attached_on, rules.term_calendar)
        return (
            False,
            _reason(
                "SUSTAIN_PERIOD_INCOMPLETE",
                rule,
                src,
                f"{measure.describe()}: the period ({low}, {high}] starts before attachment on "
                f"{family.attached_on}; earliest {earliest}",
                earliest=earliest,
                **numbers,
            ),
            earliest,
        )
    value, rows = indicator_values(family, measure, low, high, terms, as_of)
    if value is None:
        return (
            False,
            _reason(
                "MEASURE_NO_EVIDENCE",
                rule,
                src,
                f"{measure.describe()}: no {measure.indicator} evidence in ({low}, {high}]",
                rows=rows,
                **numbers,
            ),
            None,
        )
    ok = compare(value, measure.comparison, measure.threshold)
    shown = _shown(value)
    return (
        ok,
        _reason(
            "MEASURE_MET" if ok else "MEASURE_NOT_MET",
            rule,
            src,
            f"{measure.describe()}: {shown} {measure.comparison} {measure.threshold} is "
            f"{'true' if ok else 'false'} over ({low}, {high}]",
            value=shown,
            rows=rows,
            **numbers,
        ),
        None,
    )


def _shown(value: Decimal) -> str:
    """An exact value for the record, to at most 4 decimal places: ``"7.1429"``, ``"0"``."""
    return format(value.quantize(Decimal("0.0001")).normalize(), "f")


# --- Continuous employment ---------------------------------------------------------------------


def _employment(family: Family, rules: RuleSet, as_of: date, ident: Identification) -> _Verdict:
    if rules.programme == SUPPORTING_FAMILIES:
        route = rules.interpretation("employment_route")
        last_year = rules.number("employment_route_until")
        open_now = route == "always" or (
            route == "claims_to_march_2022" and financial_year_of(as_of).start_year <= last_year
        )
        if not open_now:
            return _Verdict(
                "not_applicable",
                (
                    _reason(
                        "EMPLOYMENT_ROUTE_CLOSED",
                        "results.continuous_employment.route",
                        rules.sources_of("employment_route_until"),
                        f"continuous employment is not a route of its own on {as_of} "
                        f"(employment_route = {route})",
                        as_of=as_of,
                        employment_route=route,
                    ),
                ),
            )
        # the relevance check in continuous_employment looks for "work": SF calls it
        # financial_stability
        work = ("work",) if "financial_stability" in ident.identified_for else ()
        return continuous_employment(family, rules, as_of, work)
    return continuous_employment(family, rules, as_of, ident.identified_for)


# --- Money: one results payment per family -----------------------------------------------------


def _pay(
    rules: RuleSet,
    year: FinancialYear,
    fee: Decimal,
    cap: Decimal,
    counted: list[Payment],
    verdicts: dict[str, _Verdict],
) -> tuple[dict[ResultKind, ResultDecision], Decimal]:
    fee_paid = sum((p.amount for p in counted if p.kind == "attachment_fee"), ZERO)
    results_paid = [p for p in counted if p.kind != "attachment_fee"]
    room = max(cap - max(fee, fee_paid) - sum((p.amount for p in results_paid), ZERO), ZERO)
    claimed_by = results_paid[0].kind if results_paid else None
    claimed_now: ResultKind | None = None
    results: dict[ResultKind, ResultDecision] = {}
    payable = ZERO
    kinds: tuple[ResultKind, ...] = ("sustained_progress", "continuous_employment")
    for kind in kinds:
        verdict = verdicts[kind]
        rate = rules.amount(kind, year)
        reasons = list(verdict.reasons)
        status: Status = verdict.status
        amount = ZERO
        paid_here = [p for p in results_paid if p.kind == kind]
        if paid_here:
            first = paid_here[0]
            status = "already_paid"
            reasons.insert(
                0,
                _reason(
                    "ALREADY_PAID",
                    "payment.once",
                    rules.sources_of("cap"),
                    f"{kind} was paid {first.amount} on {first.paid_on or '(date not recorded)'}",
                    amount=str(first.amount),
                    paid_on=first.paid_on,
                    claim_id=first.claim_id,
                ),
            )
        elif status == "met" and (claimed_by is not None or claimed_now is not None):
            other = claimed_by or claimed_now
            reasons.append(
                _reason(
                    "ONE_CLAIM_PER_FAMILY",
                    "payment.one_claim",
                    rules.sources_of("cap"),
                    f"the family's one results claim is {other} "
                    f"({'paid' if claimed_by else 'payable now'}), so {kind} pays nothing",
                    other_route=other,
                ),
            )
        elif status == "met":
            claimed_now = kind
            amount = min(rate, room)
            reasons.append(
                _reason(
                    "RATE_APPLIED",
                    f"payment.rate.{kind}",
                    rules.parameter(kind, year).source_text,
                    f"rate {rate} for {kind} for a family attached in {year}",
                    rate=str(rate),
                    year=str(year),
                )
            )
            if amount < rate:
                reasons.append(
                    _reason(
                        "CAP_REACHED",
                        "payment.cap",
                        rules.sources_of("cap"),
                        f"only {room} left under the {cap} cap",
                        rate=str(rate),
                        room=str(room),
                        cap=str(cap),
                        amount=str(amount),
                    )
                )
            payable += amount
        results[kind] = construct(
            ResultDecision,
            status=status,
            amount=amount,
            rate=rate,
            earliest_date=verdict.earliest,
            reasons=tuple(reasons),
        )
    return results, payable
