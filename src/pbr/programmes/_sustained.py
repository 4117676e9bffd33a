"""What phase two and Supporting Families share: problems at entry, the outcome plan, one claim.

Both pay an eligible family once (tf-rules §2, §3): when it shows significant and sustained
progress against every problem it had at entry, judged by the council's outcome plan, or when an
adult moves into continuous employment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pbr._parts import ResultKind, trusted_identification
from pbr._scalars import number_text
from pbr.money import ZERO
from pbr.periods import FinancialYear, SchoolTerm, TermCalendar, financial_year_of
from pbr.programmes._kernel import (
    Account,
    Payout,
    Verdict,
    already_paid,
    calendar_named,
    reason,
    result,
)
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Identification, Reason, ResultDecision
    from pbr.plans import Measure, OutcomePlan
    from pbr.reasons import ReasonCode
    from pbr.records import Family, Observation

__all__ = [
    "KINDS",
    "attachment_fee",
    "entry_problems",
    "identification",
    "ignored_problems",
    "listed_problems",
    "pay_one_claim",
    "result_rates",
    "sustained_progress",
]

KINDS: tuple[ResultKind, ...] = ("sustained_progress", "continuous_employment")
"""The two routes to the one results payment, in the order they are paid."""


def attachment_fee(rules: RuleSet, year: FinancialYear) -> Decimal:
    """The per-family attachment fee in `year`."""
    return rules.amount("attachment_fee", year)


def result_rates(rules: RuleSet, year: FinancialYear) -> dict[ResultKind, Decimal]:
    """Each route's rate in `year` (either pays the one results payment)."""
    return {kind: rules.amount(kind, year) for kind in KINDS}


def listed_problems(family: Family, order: tuple[str, ...]) -> tuple[str, ...]:
    """The programme's own problems (or needs) at entry, in its `order`, not the record's.

    A decision must not depend on how a record happens to list them (its problems, the order
    of its reasons, the text compared). A problem outside `order` (a record that states no
    programme may list another programme's) is not one of them: it is not counted towards
    eligibility nor judged against the plan (`ignored_problems`).
    """
    listed = {p.problem for p in family.problems_at_entry}
    return tuple(problem for problem in order if problem in listed)


def ignored_problems(family: Family, order: tuple[str, ...]) -> tuple[str, ...]:
    """The problems at entry that are not the programme's (another programme's), by name."""
    own = frozenset(order)
    return tuple(sorted({p.problem for p in family.problems_at_entry if p.problem not in own}))


def entry_problems(
    family: Family, rules: RuleSet, needed_param: str, noun: str, order: tuple[str, ...]
) -> Reason:
    """Whether the programme's own problems (or needs) listed at entry reach the number needed.

    Another programme's problems listed at entry are not counted: the reason names them
    (`not_counted`) and `identification` warns of them.
    """
    needed = rules.number(needed_param)
    problems = listed_problems(family, order)
    enough = len(problems) >= needed
    ignored = ignored_problems(family, order) if family.problems_at_entry else ()
    counted = (
        f"{len(problems)} {noun} of {rules.programme} at entry"
        if ignored
        else (f"{len(problems)} {noun} at entry")
    )
    message = f"{counted} ({', '.join(problems) or 'none recorded'}); {needed} needed"
    compared: dict[str, object] = {
        "problems": len(problems),
        "needed": needed,
        "listed": ", ".join(problems),
    }
    if ignored:
        message += f"; not counted: {', '.join(ignored)} (not {noun} of {rules.programme})"
        compared["not_counted"] = ", ".join(ignored)
    return reason(
        "PROBLEMS_AT_ENTRY" if enough else "TOO_FEW_PROBLEMS_AT_ENTRY",
        "identification.problems_at_entry",
        rules,
        message,
        **compared,
    )


def identification(
    family: Family,
    rules: RuleSet,
    checks: tuple[Reason, ...],
    passing: frozenset[str],
    order: tuple[str, ...],
    noun: str = "problems",
) -> Identification:
    """Eligible when every check passed (its code is in `passing`); phase one's list is ignored.

    The problems at entry are the programme's own, listed in its `order` (`listed_problems`);
    another programme's listed at entry are warned of (`PROBLEMS_NOT_IN_PROGRAMME`).
    """
    failed = [check.code for check in checks if check.code not in passing]
    eligible = not failed
    compared: dict[str, object] = {
        "checks": ", ".join(check.code for check in checks),
        "failed": ", ".join(failed),
    }
    for check in checks:  # the counts the verdict rests on, for the working paper
        if "problems" in check.compared:
            compared["problems"] = check.compared["problems"]
            compared["needed"] = check.compared["needed"]
    verdict = reason(
        "ELIGIBLE" if eligible else "NOT_ELIGIBLE",
        "identification.eligibility",
        rules,
        "eligible for a results payment"
        if eligible
        else f"not eligible ({', '.join(failed)}): nothing is payable",
        **compared,
    )
    warnings: tuple[Reason, ...] = ()
    if family.identified_for:  # an empty list gives nothing to ignore
        warnings = (
            reason(
                "IDENTIFIED_FOR_IGNORED",
                "identification.problems_at_entry",
                rules,
                f"identified_for ({', '.join(family.identified_for)}) is not used by "
                f"{rules.programme}: problems_at_entry decides eligibility",
                identified_for=", ".join(family.identified_for),
            ),
        )
    ignored = ignored_problems(family, order) if family.problems_at_entry else ()
    if ignored:
        warnings = (
            *warnings,
            reason(
                "PROBLEMS_NOT_IN_PROGRAMME",
                "identification.problems_at_entry",
                rules,
                f"problems_at_entry lists {', '.join(ignored)}, not {noun} of {rules.programme} "
                f"({', '.join(order)}): not counted towards eligibility and not judged against "
                "the outcome plan",
                ignored=", ".join(ignored),
                programme_problems=", ".join(order),
            ),
        )
    problems = listed_problems(family, order)
    return trusted_identification(  # every value is already what validation would give
        family_id=family.family_id,
        attached_on=family.attached_on,
        eligible=eligible,
        identified_for=problems,
        evidence=problems,
        local_discretion=False,
        reasons=(*checks, verdict),
        warnings=warnings,
    )


def sustained_progress(
    family: Family, rules: RuleSet, as_of: date, plan: OutcomePlan, ident: Identification
) -> Verdict:
    """Every problem at entry has its plan outcome met over sustain periods after attachment."""
    reasons: list[Reason] = []
    all_met = True
    waiting: list[date | None] = []  # per outcome not met: when it could be, None if unknowable
    for problem in ident.identified_for:
        outcome = plan.outcome_for(problem)
        if outcome is None:
            all_met = False
            waiting.append(None)
            reasons.append(
                reason(
                    "PROBLEM_NOT_IN_PLAN",
                    "results.sustained_progress.plan",
                    rules,
                    f"plan {plan.label} has no outcome for {problem!r}",
                    problem=problem,
                    plan=plan.label,
                )
            )
            continue
        held: list[bool] = []
        measured: list[Reason] = []
        completes: list[date | None] = []
        for measure in outcome.measures:
            ok, one, earliest = _measure(family, rules, as_of, plan, problem, measure)
            held.append(ok)
            measured.append(one)
            completes.append(earliest)
        met = all(held) if outcome.match == "all" else any(held)
        all_met = all_met and met
        if not met:
            waiting.append(_outcome_earliest(outcome.match, held, completes))
        reasons.append(
            reason(
                "OUTCOME_MET" if met else "OUTCOME_NOT_MET",
                f"results.sustained_progress.{problem}",
                rules,
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
        return Verdict("met", tuple(reasons))
    known = [day for day in waiting if day is not None]
    earliest = max(known) if known and len(known) == len(waiting) else None
    return Verdict("not_met", tuple(reasons), earliest)


def _outcome_earliest(match: str, held: list[bool], completes: list[date | None]) -> date | None:
    """When an outcome not met could first be met, if that can be known; else None.

    Only a measure waiting for its period to complete (SUSTAIN_PERIOD_INCOMPLETE) has a known
    day; one that fails on its evidence may hold on any later day, or never. So an `all` outcome
    has a date only when every other measure holds (the day the last waiting one completes), and
    an `any` outcome only when every measure is waiting (the day the first completes).
    """
    if match == "all":
        if any(not ok and day is None for ok, day in zip(held, completes, strict=True)):
            return None
        return max((day for day in completes if day is not None), default=None)
    if any(day is None for day in completes):
        return None
    return min(day for day in completes if day is not None)


def _measure(
    family: Family,
    rules: RuleSet,
    as_of: date,
    plan: OutcomePlan,
    problem: str,
    measure: Measure,
) -> tuple[bool, Reason, date | None]:
    """Judge one measure: (holds, its reason, the earliest date when its period is incomplete)."""
    # pbr.plans holds the plan models (pydantic): loaded with the first plan, not with the rules
    from pbr.plans import (
        SCHOOL_TERM_INDICATORS,
        compare,
        earliest_window_end,
        indicator_values,
        measure_window,
        missing_terms,
        shown_value,
        unreadable_readings,
        window_terms,
    )

    low, high, terms = measure_window(measure, as_of, rules.term_calendar)
    rule = f"results.sustained_progress.{problem}.{measure.id}"
    source = f"plan {plan.label}"
    numbers: dict[str, object] = {
        "problem": problem,
        "measure": measure.id,
        "indicator": measure.indicator,
        "aggregate": measure.effective_aggregate,
        "comparison": measure.comparison,
        "threshold": number_text(measure.threshold),
        "period": measure.period,
        "window_after": low,
        "window_to": high,
    }
    attached = family.attached_on
    if low < attached:  # its first day, low + 1, is the attachment day or before it
        complete = earliest_window_end(measure, attached, rules.term_calendar)
        earliest, waits = _held_back(family, measure, rules, as_of, complete)
        left = waits[-1][0] if waits else None
        calendar, said = _calendar_named(measure, rules, as_of, low, high, terms, attached, left)
        numbers.update(calendar)
        first = low + timedelta(days=1)
        begins = (
            f"begins on the attachment day, {attached}"
            if first == attached
            else f"begins on {first}, before attachment on {attached}"
        )
        message = (
            f"{measure.describe()}: the period ({low}, {high}] {begins}; it must lie wholly after "
        )
        if waits:  # evidence recorded since attachment keeps it from holding until it leaves
            listed = "; ".join(shown for _, shown in waits)
            numbers["period_complete_on"] = complete
            numbers["held_back_by"] = listed
            message += (
                f"the attachment day, as the period first does on {complete}, but the "
                f"{measure.indicator} recorded since attachment ({listed}) keeps the measure "
                f"from holding until the period leaves {'it' if len(waits) == 1 else 'them'} "
                f"behind, so the earliest date is {earliest}{said}"
            )
        else:
            message += f"the attachment day, so the earliest date is {earliest}{said}"
        return (
            False,
            reason(
                "SUSTAIN_PERIOD_INCOMPLETE",
                rule,
                rules,
                message,
                source=source,
                earliest=earliest,
                **numbers,
            ),
            earliest,
        )
    calendar, said = _calendar_named(measure, rules, as_of, low, high, terms)
    numbers.update(calendar)
    value, rows = indicator_values(
        family, measure, low, high, terms, as_of, term_calendar=rules.term_calendar
    )
    missing = (
        missing_terms(family, window_terms(low, high, terms, rules.term_calendar))
        if measure.indicator in SCHOOL_TERM_INDICATORS
        else ()
    )
    if missing:  # a term without a child's row: missing evidence is not assumed good
        said_missing = "; ".join(
            f"child {child} is of compulsory school age but has no school-term row for "
            f"{', '.join(t.label for t in missed)}"
            for child, missed in missing
        )
        numbers["missing_terms"] = "; ".join(
            f"{child}: {', '.join(t.label for t in missed)}" for child, missed in missing
        )
        message = f"{measure.describe()}: {said_missing}, in the period ({low}, {high}]{said}"
        return (
            False,
            reason(
                "MEASURE_NO_EVIDENCE", rule, rules, message, source=source, rows=rows, **numbers
            ),
            None,
        )
    unreadable = unreadable_readings(family, measure, low, high)
    if unreadable:  # contradictory or uncountable evidence: judged neither way, never paid on
        code, said_why, more = _unreadable(measure, unreadable)
        numbers.update(more)
        message = f"{measure.describe()}: {said_why}, in the period ({low}, {high}]{said}"
        return (
            False,
            reason(code, rule, rules, message, source=source, rows=rows, **numbers),
            None,
        )
    if value is None:
        message = f"{measure.describe()}: no {measure.indicator} evidence in ({low}, {high}]{said}"
        return (
            False,
            reason(
                "MEASURE_NO_EVIDENCE", rule, rules, message, source=source, rows=rows, **numbers
            ),
            None,
        )
    ok = compare(value, measure.comparison, measure.threshold)
    shown, fraction = shown_value(value)
    if fraction is not None:  # a mean or rate no decimal writes: compared exactly, shown rounded
        numbers["value_exact"] = fraction
    message = (
        f"{measure.describe()}: "
        f"{shown if fraction is None else f'≈{shown} ({fraction})'} {measure.comparison} "
        f"{numbers['threshold']} is {'true' if ok else 'false'} over ({low}, {high}]{said}"
    )
    return (
        ok,
        reason(
            "MEASURE_MET" if ok else "MEASURE_NOT_MET",
            rule,
            rules,
            message,
            source=source,
            value=shown,
            rows=rows,
            **numbers,
        ),
        None,
    )


_RISING = frozenset({"count", "max"})
"""Aggregates that evidence added to a period can only raise (or leave as they are)."""
_FALLING = frozenset({"min"})
"""Aggregates that evidence added to a period can only lower (or leave as they are)."""


def _held_back(
    family: Family, measure: Measure, rules: RuleSet, as_of: date, complete: date
) -> tuple[date, tuple[tuple[date, str], ...]]:
    """The earliest date of a measure whose period is incomplete, and the evidence delaying it.

    `complete` is the first day its period lies wholly after attachment. On it, or a later day,
    the measure can hold unless the evidence recorded by `as_of` in that day's period rules it
    out whatever evidence is added (`_rules_out`): too many events for a count (or a maximum too
    high, a minimum too low), or a count's reading that is not an event. That evidence only
    leaves the period as the period moves on, so the earliest date is the first day from
    `complete` whose period it no longer rules out, and the readings that leave it by then are
    what delayed it (by date; none when nothing recorded delays it, as with no evidence).
    """
    from pbr.plans import BUILT_IN_INDICATORS, earliest_window_end

    name = measure.indicator
    if name in BUILT_IN_INDICATORS and name not in ("offences", "asb_incidents"):
        return complete, ()  # a school term's row is not dated: nothing to read here
    calendar = rules.term_calendar
    if not _rules_out(family, measure, rules, as_of, complete):
        return complete, ()
    low = _window_after(measure, complete, rules)  # on or after the attachment day
    one = Decimal(1)
    recorded: list[tuple[date, Decimal, str]] = []  # in the period ending on `complete`
    if name == "offences":
        recorded = [(e.date, one, str(e.date)) for e in family.offences if low < e.date <= as_of]
    elif name == "asb_incidents":
        recorded = [
            (e.date, one, str(e.date)) for e in family.asb_incidents if low < e.date <= as_of
        ]
    else:
        recorded = [
            (o.date, o.value, f"{o.date}: {_reading(o)}")
            for o in family.observations
            if o.indicator == name and low < o.date <= as_of
        ]
    recorded.sort()  # by date (then value, text: one day's in a fixed order)
    # the period's content changes only as a reading leaves it: the first day it no longer holds it
    for day in sorted({earliest_window_end(measure, seen[0], calendar) for seen in recorded}):
        if not _rules_out(family, measure, rules, as_of, day):
            gone = _window_after(measure, day, rules)
            return day, tuple(
                (on, shown)
                for on, value, shown in recorded
                if on <= gone and _against(measure, value)
            )
    return complete, ()  # unreached: a plan refuses a measure no evidence meets (``count < 0``)


def _against(measure: Measure, value: Decimal) -> bool:
    """Whether a reading of `value` is one that keeps `measure` from holding while in its period.

    An event counted towards too many, or a reading that is not one (a count's); a maximum's
    reading too high, a minimum's too low (`_rules_out`).
    """
    from pbr.plans import compare

    aggregate = measure.effective_aggregate
    comparison = measure.comparison
    if aggregate == "count":
        return comparison in ("<", "<=", "==") or value != 1
    if aggregate in _RISING:
        return not compare(value, "<=" if comparison == "==" else comparison, measure.threshold)
    return not compare(value, ">=" if comparison == "==" else comparison, measure.threshold)


def _window_after(measure: Measure, day: date, rules: RuleSet) -> date:
    """The day before the first day of `measure`'s period ending on (judged at) `day`."""
    from pbr.plans import measure_window

    return measure_window(measure, day, rules.term_calendar)[0]


def _rules_out(family: Family, measure: Measure, rules: RuleSet, as_of: date, day: date) -> bool:
    """Whether the evidence recorded by `as_of` keeps `measure` from holding on `day`.

    Whatever is added: a count's reading that is not an event, or a value that more evidence
    can only move further from the threshold (a count or maximum too high, a minimum too low).
    """
    from pbr.plans import compare, indicator_values, unreadable_readings

    low = _window_after(measure, day, rules)
    if low >= as_of:  # nothing recorded by `as_of` is in the period
        return False
    aggregate = measure.effective_aggregate
    if aggregate == "count" and unreadable_readings(family, measure, low, as_of):
        return True
    value, _ = indicator_values(family, measure, low, as_of, (), as_of)
    if value is None:
        return False
    comparison = measure.comparison
    if aggregate in _RISING and comparison in ("<", "<=", "=="):
        return not compare(value, "<=" if comparison == "==" else comparison, measure.threshold)
    if aggregate in _FALLING and comparison in (">", ">=", "=="):
        return not compare(value, ">=" if comparison == "==" else comparison, measure.threshold)
    return False


def _unreadable(
    measure: Measure, readings: tuple[Observation, ...]
) -> tuple[ReasonCode, str, dict[str, object]]:
    """Why `unreadable_readings` stops `measure`: its code, what the message says, its numbers."""
    name = measure.indicator
    if measure.effective_aggregate == "latest":
        day = readings[0].date
        person = readings[0].person_id
        whose = f"for {person}" if person is not None else "for the household"
        values = ", ".join(_reading(o) for o in readings)
        said = (
            f"the latest readings of {name} {whose}, on {day}, disagree: {values}; pbr does "
            "not choose between them, so the measure does not hold"
        )
        return (
            "MEASURE_LATEST_READINGS_DISAGREE",
            said,
            {"day": day, "values": values, "person_id": person},
        )
    listed = "; ".join(f"{o.date}: {_reading(o)}" for o in readings)
    said = (
        f"{len(readings)} {'reading' if len(readings) == 1 else 'readings'} of {name} with a "
        f"value other than 1 ({listed}): a count counts events, each of value 1, so pbr does not "
        "count them and the measure does not hold"
    )
    return "MEASURE_COUNT_NOT_EVENTS", said, {"not_events": listed}


def _reading(observation: Observation) -> str:
    """A reading's value as the record writes it, with its source: ``0 (dismissed)``."""
    value = number_text(observation.value)
    return value if observation.source is None else f"{value} ({observation.source})"


_DEFAULT_CALENDAR = TermCalendar()


def _calendar_named(
    measure: Measure,
    rules: RuleSet,
    as_of: date,
    low: date,
    high: date,
    terms: tuple[SchoolTerm, ...],
    incomplete_after: date | None = None,
    held_back_after: date | None = None,
) -> tuple[dict[str, str], str]:
    """The council term calendar a measure's reason names (`calendar_named`), if its dates decided.

    A period of terms reads its terms, and its earliest date (`incomplete_after`: the
    attachment day, when the period is incomplete) the terms of the first period after it; a
    period of days, weeks or months reads the terms ending in it (a school-term indicator's rows)
    and begins on a day no term's dates move, so an incomplete one names no calendar. With each,
    the terms the default dates would have read: a council's dates may keep a term out. An
    earliest date put back until evidence leaves the period (`held_back_after`: the last such
    reading's date, `_held_back`) reads the terms of the first period after that day too.
    """
    from pbr.plans import SCHOOL_TERM_INDICATORS, earliest_window_end, window_terms

    calendar = rules.term_calendar
    if not calendar.overrides:
        return {}, ""
    count = measure.sustain_terms
    if count is not None:
        read = [*terms, *_DEFAULT_CALENDAR.complete_terms(as_of, count)]
        for after in (incomplete_after, held_back_after):
            if after is None:
                continue
            for dates in (calendar, _DEFAULT_CALENDAR):
                end = earliest_window_end(measure, after, dates)
                read.extend(dates.complete_terms(end, count))
        return calendar_named(rules, read)
    if incomplete_after is not None or measure.indicator not in SCHOOL_TERM_INDICATORS:
        return {}, ""
    return calendar_named(
        rules,
        (*window_terms(low, high, (), calendar), *window_terms(low, high, (), _DEFAULT_CALENDAR)),
    )


def _one_claim_taken(kind: str, other: str, state: str, rules: RuleSet) -> Reason:
    """`kind` pays nothing: the family's one results claim is `other` (`state`: paid, ...)."""
    return reason(
        "ONE_CLAIM_PER_FAMILY",
        "payment.one_claim",
        rules,
        f"the family's one results claim is {other} ({state}), so {kind} pays nothing",
        other_route=other,
    )


def pay_one_claim(
    family: Family,
    as_of: date,
    rules: RuleSet,
    books: Account,
    verdicts: Mapping[ResultKind, Verdict],
) -> Payout:
    """One results payment per family: the first route met pays, within the cap."""
    year = financial_year_of(family.attached_on)
    results_made = books.results_claimed  # £0 is no claim paid (`Account.paid`)
    claimed_by = results_made[0].kind if results_made else None
    claimed_now: ResultKind | None = None
    room = books.room
    results: dict[ResultKind, ResultDecision] = {}
    payable = ZERO
    for kind in KINDS:
        verdict = verdicts[kind]
        rate = rules.amount(kind, year)
        made = books.paid(kind)
        if made:
            paid = already_paid(kind, made[0], rules, books.cap_source)  # one claim: the cap
            reasons = (paid, *verdict.reasons)
            results[kind] = result(verdict, status="already_paid", rate=rate, reasons=reasons)
            continue
        if verdict.status != "met":
            if claimed_by:  # not met, and the one claim is made: it could not pay if it were
                taken = _one_claim_taken(kind, claimed_by, "paid", rules)
                results[kind] = result(verdict, rate=rate, reasons=(*verdict.reasons, taken))
            else:
                results[kind] = result(verdict, rate=rate)
            continue
        other = claimed_by or claimed_now
        if other is not None:
            if claimed_by:
                state = "paid"
            elif payable:
                state = "payable now"
            else:  # met now, but the cap leaves it nothing (CAP_REACHED): neither pays
                state = f"met now, but the {books.cap} cap leaves nothing to pay"
            taken = _one_claim_taken(kind, other, state, rules)
            results[kind] = result(verdict, rate=rate, reasons=(*verdict.reasons, taken))
            continue
        claimed_now = kind
        amount = min(rate, room)
        paid_reasons = [
            *verdict.reasons,
            reason(
                "RATE_APPLIED",
                f"payment.rate.{kind}",
                rules,
                f"rate {rate} for {kind} for a family attached in {year}",
                source=rules.parameter(kind, year).source_text,
                rate=str(rate),
                year=str(year),
            ),
        ]
        if amount < rate:
            paid_reasons.append(
                reason(
                    "CAP_REACHED",
                    "payment.cap",
                    rules,
                    f"only {room} left under the {books.cap} cap",
                    source=books.cap_source,
                    rate=str(rate),
                    room=str(room),
                    cap=str(books.cap),
                    amount=str(amount),
                )
            )
        results[kind] = result(verdict, amount=amount, rate=rate, reasons=paid_reasons)
        payable += amount
    return results, payable
