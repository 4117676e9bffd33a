"""Phase one's results on the evidence (phase1-spec §4): crime/ASB/education and progress to work.

Every threshold and window comes from the rule set; messages and the numbers compared say what
was used, so an edited rule set explains itself.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from functools import cache

from pbr.decisions import Compared, Reason
from pbr.periods import add_months
from pbr.programmes._kernel import Verdict, plain, reason
from pbr.programmes.phase_one._evidence import Evidence, evidence, tally
from pbr.programmes.phase_one._identification import PROBLEMS
from pbr.reasons import ReasonCode
from pbr.records import Family, SchoolTermRecord
from pbr.rules import RuleSet

__all__ = ["crime_asb_education", "not_identified", "progress_to_work"]


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
        set(identified)
        if rules.interpretation("relevance") == "identified_problems_only"
        else set(PROBLEMS)
    )
    arranged = evidence(family)
    reasons: list[Reason] = []
    limbs_met: list[bool] = []
    if "education" in relevant:
        ok, why = _education(rules, as_of, arranged)
        limbs_met.append(ok)
        reasons.extend(why)
    else:
        reasons.append(not_identified(rules, "education", "education", code="LIMB_NOT_RELEVANT"))
    if "crime_asb" in relevant:
        for limb in (_asb, _offending):
            ok, one = limb(family, rules, as_of, arranged)
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
        too_early = reason(
            "RESULT_TOO_EARLY",
            "results.crime_asb_education.timing",
            rules,
            f"as_of {as_of} is before attachment + {wait} months ({ready})",
            as_of=as_of.isoformat(),
            attached_on=family.attached_on.isoformat(),
            earliest=ready.isoformat(),
            wait_months=wait,
        )
        return Verdict("not_met", (too_early, *reasons), ready)
    return Verdict("met" if all(limbs_met) else "not_met", tuple(reasons))


def _education(rules: RuleSet, as_of: date, arranged: Evidence) -> tuple[bool, list[Reason]]:
    """Every child in school over the last complete terms: missing terms, exclusions, absence."""
    terms = rules.term_calendar.complete_terms(as_of, rules.number("terms_assessed"))
    span = f"{terms[0].label} to {terms[-1].label}"
    reasons: list[Reason] = []
    met = True
    for person_id, rows, _ in arranged.children_in(terms, rules.number("adult_age")):
        have = {(r.academic_year, r.term) for r in rows}
        after, until = arranged.school_age(person_id)  # compulsory school age in a term
        missing = [
            term
            for term in terms
            if after < term.start <= until and (term.academic_year, term.name) not in have
        ]
        for term in missing:
            reasons.append(
                reason(
                    "MISSING_SCHOOL_TERM",
                    _EDUCATION,
                    rules,
                    f"child {person_id} is of compulsory school age but has no record for "
                    f"{term.label}",
                    child=person_id,
                    term=term.label,
                )
            )
        child_ok = not missing
        if rows:
            ok, found = _child(rules, person_id, span, rows)
            child_ok = child_ok and ok
            reasons.extend(found)
        met = met and child_ok
    if not reasons:
        reasons.append(
            reason(
                "NO_CHILD_TO_ASSESS",
                _EDUCATION,
                rules,
                f"no child of school age has terms to assess in {span}",
                terms=span,
            )
        )
    return met, reasons


_EDUCATION = "results.crime_asb_education.education"


def _child(
    rules: RuleSet, person_id: str, span: str, rows: list[SchoolTermRecord]
) -> tuple[bool, list[Reason]]:
    """One child's term rows summed: each failing test, or that the child is in school."""
    absence = rules.number("absence_percent")
    exclusions = rules.number("fixed_term_exclusions")
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
    failed: list[tuple[ReasonCode, str]] = []
    if permanent:
        failed.append(("PERMANENTLY_EXCLUDED", f"was permanently excluded in {span}"))
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
            reason(code, _EDUCATION, rules, f"child {person_id}: {why}", **numbers)
            for code, why in failed
        ]
    return True, [
        reason(
            "CHILD_IN_SCHOOL",
            _EDUCATION,
            rules,
            f"child {person_id}: {fixed} fixed-term exclusions, unauthorised absence "
            f"{unauthorised}/{possible} sessions (below {absence}%)",
            **numbers,
        )
    ]


def _baseline(dates: list[date], attached: date, rules: RuleSet) -> tuple[Fraction, date, str]:
    """The baseline count (interpretation `baseline`), the window's start and its description.

    `twelve_months_before_attachment_halved` counts over `baseline_long_months` and scales the
    count to `baseline_months` (12 months halved to 6), exactly.
    """
    months = rules.number("baseline_months")
    if rules.interpretation("baseline") == "twelve_months_before_attachment_halved":
        long = rules.number("baseline_long_months")
        start = add_months(attached, -long)
        count = sum(1 for d in dates if start <= d < attached)
        scaled = Fraction(count * months, long)
        return (
            scaled,
            start,
            (f"{count} in the {long} months before attachment, scaled to {months} months"),
        )
    start = add_months(attached, -months)
    count = sum(1 for d in dates if start <= d < attached)
    return Fraction(count), start, f"{count} in the {months} months before attachment"


def _asb(family: Family, rules: RuleSet, as_of: date, arranged: Evidence) -> tuple[bool, Reason]:
    """ASB across the family (household actions included) down to the share allowed."""
    return _reduction(
        "asb",
        [a.date for a in family.asb_incidents],
        family.attached_on,
        as_of,
        rules,
        allowed_percent=rules.number("asb_remaining_percent"),
    )


def _offending(
    family: Family, rules: RuleSet, as_of: date, arranged: Evidence
) -> tuple[bool, Reason]:
    """Offences by children down by at least the reduction required."""
    adult_from = arranged.adult_from(rules.number("adult_age"))
    return _reduction(
        "offending",
        [o.date for o in family.offences if o.date < adult_from[o.person_id]],
        family.attached_on,
        as_of,
        rules,
        allowed_percent=100 - rules.number("offending_reduction_percent"),
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
    dates: list[date],
    attached: date,
    as_of: date,
    rules: RuleSet,
    *,
    allowed_percent: int,
) -> tuple[bool, Reason]:
    """Recent count at most `allowed_percent`% of the baseline; with a zero baseline, met at zero."""
    allowed, shown_share, shown_percent = _share(allowed_percent)
    months = rules.number("results_months")
    after = add_months(as_of, -months)
    recent = sum(1 for d in dates if after < d <= as_of)
    baseline, baseline_from, described = _baseline(dates, attached, rules)
    reduced, below, none, since = _REDUCTION_CODES[limb]
    numbers: Compared = {
        "recent": recent,
        "recent_after": after.isoformat(),
        "recent_until": as_of.isoformat(),
        "baseline": plain(baseline),
        "baseline_from": baseline_from.isoformat(),
        "baseline_before": attached.isoformat(),
        "max_recent_share_of_baseline": shown_share,
        "baseline_interpretation": rules.interpretation("baseline"),
    }
    rule = f"results.crime_asb_education.{limb}"
    label = "ASB incidents" if limb == "asb" else "offences by children"
    last = f"in the last {months} months"
    if baseline == 0:
        if recent == 0:
            return True, reason(none, rule, rules, f"no {label} before or since", **numbers)
        message = f"{recent} {label} {last} against a baseline of 0"
        return False, reason(since, rule, rules, message, **numbers)
    # recent <= allowed × baseline, in whole numbers (exact, and cheaper than Fraction's product)
    met = (
        recent * allowed.denominator * baseline.denominator
        <= allowed.numerator * baseline.numerator
    )
    message = (
        f"{recent} {label} {last} against a baseline of {described}: "
        f"{'at most' if met else 'more than'} {shown_percent}% of it"
    )
    return met, reason(reduced if met else below, rule, rules, message, **numbers)


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
    adult_from = evidence(family).adult_from(rules.number("adult_age"))
    months = rules.number("results_months")
    after = add_months(as_of, -months)
    window = {
        "window_after": after.isoformat(),
        "window_until": as_of.isoformat(),
        "attached_on": family.attached_on.isoformat(),
    }
    hits = sorted(
        (
            r
            for r in family.work_programme
            if after < r.date <= as_of
            and r.date >= family.attached_on
            and r.date >= adult_from[r.person_id]
        ),
        key=lambda r: (r.date, r.person_id, r.provision),
    )
    if not hits:
        message = (
            f"no adult referral in ({after}, {as_of}] on or after attachment ({family.attached_on})"
        )
        return Verdict(
            "not_met",
            (
                reason(
                    "NO_WORK_PROGRAMME_REFERRAL",
                    "results.progress_to_work",
                    rules,
                    message,
                    **window,
                ),
            ),
        )
    first = hits[0]
    referred = reason(
        "WORK_PROGRAMME_REFERRAL",
        "results.progress_to_work",
        rules,
        f"adult {first.person_id} referred to {first.provision} on {first.date}",
        person=first.person_id,
        referred_on=first.date.isoformat(),
        provision=first.provision,
        **window,
    )
    return Verdict("met", (referred,), first.date)
