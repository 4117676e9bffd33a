"""Phase one's results on the evidence (phase1-spec §4): crime/ASB/education and progress to work.

Every threshold and window comes from the rule set; messages and the numbers compared say what
was used, so an edited rule set explains itself.

What the results compare against depends on the as-of day alone (the terms assessed, the recent
window, the sources cited), so it is worked out once per day (`Assessed`); each rule then reads
the record once, looking only at the facts in its windows. Reasons are built with
`trusted_reason`: their numbers are already plain (text and whole numbers) and their sources
looked up once per day, which the kernel's `reason` would check and look up again.
tests/test_fast_limbs.py checks this equals the plain form it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING

from pbr._dates import add_years
from pbr._parts import trusted_reason
from pbr.periods import TermCalendar, add_months
from pbr.programmes._kernel import Verdict, calendar_named, plain, reason
from pbr.programmes.phase_one._evidence import (
    TermWindow,
    children,
    flagged_terms,
    tally,
    term_window,
)
from pbr.programmes.phase_one._identification import PROBLEMS
from pbr.reasons import ReasonCode
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Compared, Reason
    from pbr.records import Family, SchoolTermRecord

__all__ = [
    "Assessed",
    "Baseline",
    "Recent",
    "assessed",
    "baseline",
    "crime_asb_education",
    "not_identified",
    "progress_to_work",
    "recent_window",
]

_EDUCATION = "results.crime_asb_education.education"
_ASB = "results.crime_asb_education.asb"
_OFFENDING = "results.crime_asb_education.offending"
_WORK = "results.progress_to_work"
_TIMING = "results.crime_asb_education.timing"


@dataclass(frozen=True, slots=True)
class Recent:
    """The recent window of the ASB and offending limbs (interpretation `recent_window`)."""

    after: date
    """The window starts the day after it and ends on `as_of`."""
    after_iso: str
    last: str
    """The window as the messages say it: ``in the last 6 months``, and since when if cut."""
    named: dict[str, str]
    """The interpretation, as the reasons' numbers name it when not the default (else empty)."""


@dataclass(frozen=True, slots=True)
class Assessed:
    """What the results at one as-of day compare against (the rule set's numbers)."""

    as_of: date
    until: str
    """`as_of`, ISO, as the windows that end on it show it."""
    terms: TermWindow
    """The complete terms assessed for education."""
    span: str
    """Those terms as reasons show them: ``2013/14 spring to 2014/15 autumn``."""
    labelled: tuple[tuple[tuple[str, str], str], ...]
    """Each of those terms: (academic year, name) and label."""
    calendar: dict[str, str]
    """A council's own term calendar, as the education reasons' numbers name it (else empty)."""
    calendar_said: str
    """The same as their messages end: `` (council term calendar)``, or nothing."""
    after: date
    """The recent window starts the day after it: `as_of` less `results_months`."""
    after_iso: str
    last: str
    """``in the last 6 months``, as the crime and ASB messages say it."""
    recent: Recent
    """The recent window under the default `recent_window` (built once per day)."""
    adult: int
    """The age from which a member is an adult."""
    absence: int
    """Unauthorised absence (percent of possible sessions) at which a child is not in school."""
    exclusions: int
    """Fixed-term exclusions at which a child is not in school."""
    sources: dict[str, str]
    """The sources the results' rules cite, by rule."""


def assessed(rules: RuleSet, as_of: date) -> Assessed:
    """What the results at `as_of` compare against, worked out once per day.

    Kept in the rule set's memo for the default term calendar (the memo is shared by variants
    with other calendars, so a council's own calendar is worked out each time); a hundred days
    at most (`_DAYS_KEPT`), so a server asked about every day keeps its memory flat, and a
    family judged at a few days in turn still finds each.
    """
    if rules.term_calendar.overrides:
        return _assessed(rules, as_of)
    days: dict[date, Assessed] = rules._derived(("phase_one.results",), dict)
    found = days.get(as_of)
    if found is None:
        if len(days) >= _DAYS_KEPT:
            days.clear()
        found = days[as_of] = _assessed(rules, as_of)
    return found


_DAYS_KEPT = 100

_DEFAULT_CALENDAR = TermCalendar()


def _assessed(rules: RuleSet, as_of: date) -> Assessed:
    count = rules.number("terms_assessed")
    terms = rules.term_calendar.complete_terms(as_of, count)
    months = rules.number("results_months")
    after = add_months(as_of, -months)
    last = f"in the last {months} months"
    # a council's calendar is named when it overrides a term assessed, or one the default
    # dates would have assessed (its dates kept that term out)
    calendar, calendar_said = calendar_named(
        rules, (*terms, *_DEFAULT_CALENDAR.complete_terms(as_of, count))
    )
    return Assessed(
        as_of=as_of,
        until=as_of.isoformat(),
        terms=term_window(terms),
        span=f"{terms[0].label} to {terms[-1].label}",
        labelled=tuple(((t.academic_year, t.name), t.label) for t in terms),
        calendar=calendar,
        calendar_said=calendar_said,
        after=after,
        after_iso=after.isoformat(),
        last=last,
        recent=Recent(after, after.isoformat(), last, {}),
        adult=rules.number("adult_age"),
        absence=rules.number("absence_percent"),
        exclusions=rules.number("fixed_term_exclusions"),
        sources={rule: rules.source_of_rule(rule) for rule in (_EDUCATION, _ASB, _OFFENDING)},
    )


def not_identified(rules: RuleSet, limb: str, problem: str, *, code: ReasonCode) -> Reason:
    """A limb or result that does not apply: the family was not identified for its problem."""
    return reason(
        code,
        "results.relevance",
        rules,
        f"{limb}: the family was not identified for {problem}",
        limb=limb,
        problem=problem,
    )


def crime_asb_education(
    family: Family, rules: RuleSet, as_of: date, identified: tuple[str, ...]
) -> Verdict:
    """Every relevant limb holds at `as_of`, and the wait after attachment is over (§4)."""
    relevant = (
        identified if rules.interpretation("relevance") == "identified_problems_only" else PROBLEMS
    )
    at = assessed(rules, as_of)
    reasons: list[Reason] = []
    limbs_met: list[bool] = []
    education_ok = True
    if "education" in relevant:
        ok, why = _education(family, at)
        education_ok = ok
        limbs_met.append(ok)
        reasons.extend(why)
    else:
        reasons.append(not_identified(rules, "education", "education", code="LIMB_NOT_RELEVANT"))
    if "crime_asb" in relevant:
        before = baseline(rules, family.attached_on)
        window = recent_window(rules, at, family.attached_on)
        for limb in (_asb, _offending):
            ok, one = limb(family, rules, at, before, window)
            limbs_met.append(ok)
            reasons.append(one)
    else:
        for limb_name in ("asb", "offending"):
            reasons.append(not_identified(rules, limb_name, "crime_asb", code="LIMB_NOT_RELEVANT"))
    if not limbs_met:
        return Verdict("not_applicable", tuple(reasons))
    wait = rules.number("results_wait_months")
    ready = add_months(family.attached_on, wait)
    if as_of < ready:
        message = f"as_of {as_of} is before attachment + {wait} months ({ready})"
        timing: Compared = {"as_of": at.until, "attached_on": family.attached_on.isoformat()}
        blocked, shown = _ruled_out(family, rules, at, ready, relevant, education_ok)
        if not blocked:
            timing["earliest"] = ready.isoformat()
            timing["wait_months"] = wait
            too_early = trusted_reason(
                "RESULT_TOO_EARLY", _TIMING, rules.source_of_rule(_TIMING), message, timing
            )
            return Verdict("not_met", (too_early, *reasons), ready)
        # the evidence so far already fails a limb on `ready`: no day is knowable (as employment
        # gives none for a run recorded to end before its weeks)
        message += (
            f"; the evidence to {as_of} already fails it on {ready} ({'; '.join(blocked)}),"
            " so there is no earliest date"
        )
        timing.update(wait_ends=ready.isoformat(), wait_months=wait, **shown)
        too_early = trusted_reason(
            "RESULT_TOO_EARLY", _TIMING, rules.source_of_rule(_TIMING), message, timing
        )
        return Verdict("not_met", (too_early, *reasons))
    return Verdict("met" if all(limbs_met) else "not_met", tuple(reasons))


def _ruled_out(
    family: Family,
    rules: RuleSet,
    at: Assessed,
    ready: date,
    relevant: Sequence[str],
    education_ok: bool,
) -> tuple[list[str], Compared]:
    """What the evidence to `as_of` already fails on `ready` (the wait's end, after `as_of`).

    Said as the reason's message parts and numbers; none: `ready` is the earliest date. The
    windows on `ready` end after `as_of`, so what they hold can only grow: ASB incidents and
    offences by children recorded in the recent window on `ready` already over the share
    allowed fail their limb then. Education on `ready` assesses the terms complete then: of
    those complete now, a permanent exclusion or fixed-term exclusions at the threshold fail
    it whatever the later terms hold; when no term completes before `ready`, the terms are
    today's, and so is the verdict. What later evidence could still change (absence, a
    missing term, a term not yet complete) rules nothing out.
    """
    blocked: list[str] = []
    shown: Compared = {}
    if "education" in relevant:
        _education_then(family, rules, at, ready, education_ok, blocked, shown)
    if "crime_asb" in relevant:
        attached = family.attached_on
        months = rules.number("results_months")
        after = add_months(ready, -months)
        if rules.interpretation("recent_window") == _NOT_BEFORE:
            after = max(after, attached - timedelta(days=1))
        recorded = Recent(
            after,
            after.isoformat(),
            f"recorded in ({after}, {at.as_of}], within the last {months} months on {ready},",
            {},
        )
        before = baseline(rules, attached)
        for name, limb in (("asb", _asb), ("offending", _offending)):
            ok, one = limb(family, rules, at, before, recorded)
            if not ok:
                blocked.append(one.message)
                shown[f"{name}_recorded"] = one.compared["recent"]
                shown[f"{name}_baseline"] = one.compared["baseline"]
                shown["recorded_after"] = recorded.after_iso
                shown["recorded_until"] = at.until
    return blocked, shown


def _education_then(
    family: Family,
    rules: RuleSet,
    at: Assessed,
    ready: date,
    education_ok: bool,
    blocked: list[str],
    shown: Compared,
) -> None:
    """The education limb's part of `_ruled_out`, added to `blocked` and `shown`."""
    then = rules.term_calendar.complete_terms(ready, len(at.labelled))
    if then == at.terms.terms:
        if not education_ok:
            blocked.append(f"education is not met over {at.span}, the terms assessed then too")
            shown["education_terms"] = at.span
        return
    done = tuple(t for t in then if t.end <= at.as_of)
    if not done:
        return
    span = done[0].label if len(done) == 1 else f"{done[0].label} to {done[-1].label}"
    failing: list[str] = []
    excluded_in: list[str] = []  # each permanently excluded child's flagged terms
    for person_id, rows, _ in children(family, term_window(done), at.adult):
        _, _, fixed, permanent, _, _ = tally(rows)
        if permanent:
            excluded = flagged_terms(rows)[0]
            blocked.append(
                f"child {person_id} was permanently excluded in {excluded} "
                f"(terms complete so far: {span})"
            )
            excluded_in.append(f"{person_id}: {excluded}")
        elif fixed >= at.exclusions:
            blocked.append(
                f"child {person_id}: {fixed} fixed-term exclusions in {span} "
                f"(must be fewer than {at.exclusions})"
            )
        else:
            continue
        failing.append(person_id)
    if failing:
        shown["education_terms"] = span
        shown["education_children"] = ", ".join(failing)
        if excluded_in:
            shown["permanently_excluded_terms"] = "; ".join(excluded_in)


def _education(family: Family, at: Assessed) -> tuple[bool, list[Reason]]:
    """Every child in school over the last complete terms: missing terms, exclusions, absence."""
    span = at.span
    source = at.sources[_EDUCATION]
    reasons: list[Reason] = []
    met = True
    for person_id, rows, school_age in children(family, at.terms, at.adult):
        # only a child of compulsory school age in some term assessed can miss one
        missing = _missing_terms(at, rows, school_age) if school_age else []
        for term in missing:
            reasons.append(
                trusted_reason(
                    "MISSING_SCHOOL_TERM",
                    _EDUCATION,
                    source,
                    f"child {person_id} is of compulsory school age but has no record for {term}"
                    + at.calendar_said,
                    {"child": person_id, "term": term, **at.calendar},
                )
            )
        child_ok = not missing
        if rows:
            ok, found = _child(at, person_id, rows)
            child_ok = child_ok and ok
            reasons.extend(found)
        met = met and child_ok
    if not reasons:
        reasons.append(
            trusted_reason(
                "NO_CHILD_TO_ASSESS",
                _EDUCATION,
                source,
                f"no child of school age has terms to assess in {span}{at.calendar_said}",
                {"terms": span, **at.calendar},
            )
        )
    return met, reasons


def _missing_terms(
    at: Assessed, rows: list[SchoolTermRecord], school_age: Sequence[int]
) -> list[str]:
    """The terms (labels) a child has no row for, of those it is of compulsory school age in."""
    have = {(r.academic_year, r.term) for r in rows}
    labelled = at.labelled
    return [labelled[i][1] for i in school_age if labelled[i][0] not in have]


def _child(at: Assessed, person_id: str, rows: list[SchoolTermRecord]) -> tuple[bool, list[Reason]]:
    """One child's term rows summed: each failing test, or that the child is in school."""
    span = at.span
    absence = at.absence
    exclusions = at.exclusions
    source = at.sources[_EDUCATION]
    possible, unauthorised, fixed, permanent, _, _ = tally(rows)
    numbers: Compared = {
        "child": person_id,
        "terms": span,
        "possible_sessions": possible,
        "unauthorised_absences": unauthorised,
        "fixed_term_exclusions": fixed,
        "absence_threshold_percent": absence,
        "exclusion_threshold": exclusions,
    }
    excluded = ""
    if permanent:  # the terms whose rows say so (only then: other children's numbers unchanged)
        excluded = flagged_terms(rows)[0]
        numbers["permanently_excluded_terms"] = excluded
    over = ""  # the terms summed, when some assessed term has no row (MISSING_SCHOOL_TERM)
    if len(rows) < len(at.labelled):
        numbers["terms_with_rows"] = len(rows)
        over = f" (summed over the {len(rows)} of {len(at.labelled)} terms with a record)"
    if at.calendar:
        numbers.update(at.calendar)
        over += at.calendar_said
    failed: list[tuple[ReasonCode, str]] = []
    if permanent:
        failed.append(
            (
                "PERMANENTLY_EXCLUDED",
                f"was permanently excluded in {excluded} (terms assessed {span})",
            )
        )
    if fixed >= exclusions:
        failed.append(
            (
                "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD",
                f"{fixed} fixed-term exclusions (must be fewer than {exclusions})",
            )
        )
    if possible == 0:
        failed.append(("NO_POSSIBLE_SESSIONS", f"0 possible sessions over {span}"))
    elif 100 * unauthorised >= absence * possible:
        failed.append(
            (
                "ABSENCE_AT_OR_ABOVE_THRESHOLD",
                f"unauthorised absence {unauthorised}/{possible} sessions is not below {absence}%",
            )
        )
    if failed:
        return False, [
            trusted_reason(
                code, _EDUCATION, source, f"child {person_id}: {why}{over}", numbers.copy()
            )
            for code, why in failed
        ]
    return True, [
        trusted_reason(
            "CHILD_IN_SCHOOL",
            _EDUCATION,
            source,
            f"child {person_id}: {fixed} fixed-term exclusions, unauthorised absence "
            f"{unauthorised}/{possible} sessions (below {absence}%){over}",
            numbers,
        )
    ]


@dataclass(frozen=True, slots=True)
class Baseline:
    """The baseline window before one attachment day (interpretation `baseline`)."""

    start: date
    """The window's first day; it ends the day before attachment."""
    shown: dict[str, str]
    """The window as the reasons show it (ISO dates)."""
    months: int
    """The months counted over."""
    scaled_to: int
    """The months the count is scaled to (`months` itself unless halved)."""
    interpretation: str


def baseline(rules: RuleSet, attached: date) -> Baseline:
    """The baseline window for a family attached on `attached`, worked out once per day."""
    chosen = rules.interpretation("baseline")
    return rules._derived(
        ("phase_one.baseline", attached, chosen), lambda: _baseline_window(rules, attached, chosen)
    )


_HALVED = "twelve_months_before_attachment_halved"


def _baseline_window(rules: RuleSet, attached: date, chosen: str) -> Baseline:
    scaled_to = rules.number("baseline_months")
    months = scaled_to
    if chosen == _HALVED:
        months = rules.number("baseline_long_months")
    start = add_months(attached, -months)
    shown = {"baseline_from": start.isoformat(), "baseline_before": attached.isoformat()}
    return Baseline(start, shown, months, scaled_to, chosen)


_NOT_BEFORE = "not_before_attachment"


def recent_window(rules: RuleSet, at: Assessed, attached: date) -> Recent:
    """The last `results_months` to `as_of`; under `not_before_attachment`, from attachment on.

    The default (phase1-spec §1) can reach back before a month-end attachment into the
    baseline; the alternative counts only what happened on or after `attached`.
    """
    chosen = rules.interpretation("recent_window")
    if chosen != _NOT_BEFORE:
        return at.recent
    named = {"recent_window_interpretation": chosen}
    eve = attached - timedelta(days=1)
    if at.after >= eve:
        return Recent(at.after, at.after_iso, at.last, named)
    return Recent(eve, eve.isoformat(), f"{at.last} on or after attachment ({attached})", named)


def _asb(
    family: Family, rules: RuleSet, at: Assessed, before: Baseline, window: Recent
) -> tuple[bool, Reason]:
    """ASB across the family (household actions included) down to the share allowed."""
    attached = family.attached_on
    after, as_of, start = window.after, at.as_of, before.start
    recent = counted = 0
    for incident in family.asb_incidents:
        day = incident.date
        if after < day <= as_of:
            recent += 1
        if start <= day < attached:
            counted += 1
    allowed = rules.number("asb_remaining_percent")
    return _reduction("asb", recent, counted, before, at, window, allowed)


def _offending(
    family: Family, rules: RuleSet, at: Assessed, before: Baseline, window: Recent
) -> tuple[bool, Reason]:
    """Offences by children down by at least the reduction required."""
    attached = family.attached_on
    after, as_of, start = window.after, at.as_of, before.start
    adult = at.adult
    born: dict[str, date] | None = None
    recent = counted = 0
    for offence in family.offences:
        day = offence.date
        in_recent = after < day <= as_of
        in_baseline = start <= day < attached
        if not (in_recent or in_baseline):
            continue  # the usual case: no need to know the offender's age
        if born is None:
            born = family.member_birthdays()
        if day >= add_years(born[offence.person_id], adult):
            continue  # by an adult
        recent += in_recent
        counted += in_baseline
    allowed = 100 - rules.number("offending_reduction_percent")
    return _reduction("offending", recent, counted, before, at, window, allowed)


def _scaled(count: int, before: Baseline) -> tuple[int, int, str, str]:
    """The baseline from the count in its window: numerator, denominator, shown, and how found.

    `twelve_months_before_attachment_halved` counts over `baseline_long_months` and scales the
    count to `baseline_months` (12 months halved to 6), exactly; `plain` shows the fraction.
    """
    months, scaled_to = before.months, before.scaled_to
    if before.interpretation != _HALVED:  # a whole count, shown as `plain` shows Fraction(count)
        return count, 1, str(count), f"{count} in the {months} months before attachment"
    exact = Fraction(count * scaled_to, months)
    return (
        exact.numerator,
        exact.denominator,
        str(plain(exact)),
        f"{count} in the {months} months before attachment, scaled to {scaled_to} months",
    )


_REDUCTION_CODES: dict[str, tuple[ReasonCode, ReasonCode, ReasonCode, ReasonCode]] = {
    "asb": (
        "ASB_REDUCED_ENOUGH",
        "ASB_NOT_REDUCED_ENOUGH",
        "ASB_NONE_BEFORE_OR_SINCE",
        "ASB_SINCE_ZERO_BASELINE",
    ),
    "offending": (
        "OFFENDING_REDUCED_ENOUGH",
        "OFFENDING_NOT_REDUCED_ENOUGH",
        "OFFENDING_NONE_BEFORE_OR_SINCE",
        "OFFENDING_SINCE_ZERO_BASELINE",
    ),
}


@cache
def _share(percent: int) -> tuple[Fraction, str, str]:
    """`percent`% as an exact fraction, and as `plain` shows it and its percentage (built once)."""
    share = Fraction(percent, 100)
    return share, str(plain(share)), str(plain(share * 100))


def _reduction(
    limb: str,
    recent: int,
    counted: int,
    before: Baseline,
    at: Assessed,
    window: Recent,
    allowed_percent: int,
) -> tuple[bool, Reason]:
    """Recent count at most `allowed_percent`% of the baseline; with a zero baseline, met at zero.

    `recent` is the count in the recent `window`, `counted` the count in the baseline window.
    """
    allowed, shown_share, shown_percent = _share(allowed_percent)
    numerator, denominator, shown, described = _scaled(counted, before)
    reduced, below, none, since = _REDUCTION_CODES[limb]
    numbers: Compared = {
        "recent": recent,
        "recent_after": window.after_iso,
        "recent_until": at.until,
        "baseline": shown,
        **before.shown,
        "max_recent_share_of_baseline": shown_share,
        "baseline_interpretation": before.interpretation,
        **window.named,
    }
    rule = _ASB if limb == "asb" else _OFFENDING
    source = at.sources[rule]
    label = "ASB incidents" if limb == "asb" else "offences by children"
    if numerator == 0:
        if recent == 0:
            # the windows, not the record: an incident outside both is no incident of either
            message = f"no {label} {window.last}, against a baseline of {described}"
            return True, trusted_reason(none, rule, source, message, numbers)
        message = f"{recent} {label} {window.last} against a baseline of 0"
        return False, trusted_reason(since, rule, source, message, numbers)
    # recent <= allowed × baseline, in whole numbers (exact, and cheaper than Fraction's product)
    met = recent * allowed.denominator * denominator <= allowed.numerator * numerator
    message = (
        f"{recent} {label} {window.last} against a baseline of {described}: "
        f"{'at most' if met else 'more than'} {shown_percent}% of it"
    )
    return met, trusted_reason(reduced if met else below, rule, source, message, numbers)


def progress_to_work(
    family: Family, rules: RuleSet, as_of: date, identified: tuple[str, ...]
) -> Verdict:
    """An adult referred to the Work Programme or ESF recently, on or after attachment.

    It needs the work problem whatever the `relevance` interpretation (clarification 18).
    """
    if "work" not in identified:
        return Verdict(
            "not_applicable",
            (not_identified(rules, "progress_to_work", "work", code="PROBLEM_NOT_IDENTIFIED"),),
        )
    at = assessed(rules, as_of)
    attached = family.attached_on
    after = at.after
    adult = at.adult
    born: dict[str, date] | None = None
    first = None
    for referral in family.work_programme:
        day = referral.date
        if not (after < day <= as_of and day >= attached):
            continue
        if born is None:
            born = family.member_birthdays()
        if day < add_years(born[referral.person_id], adult):
            continue  # referred as a child
        # the earliest referral (then by person and provision); the record's first of equals
        if first is None or (day, referral.person_id, referral.provision) < (
            first.date,
            first.person_id,
            first.provision,
        ):
            first = referral
    window: Compared = {
        "window_after": at.after_iso,
        "window_until": at.until,
        "attached_on": attached.isoformat(),
    }
    source = rules.source_of_rule(_WORK)
    if first is None:
        message = f"no adult referral in ({after}, {as_of}] on or after attachment ({attached})"
        return Verdict(
            "not_met",
            (trusted_reason("NO_WORK_PROGRAMME_REFERRAL", _WORK, source, message, window),),
        )
    referred = trusted_reason(
        "WORK_PROGRAMME_REFERRAL",
        _WORK,
        source,
        f"adult {first.person_id} referred to {first.provision} on {first.date}",
        {
            "person": first.person_id,
            "referred_on": first.date.isoformat(),
            "provision": first.provision,
            **window,
        },
    )
    return Verdict("met", (referred,), first.date)
