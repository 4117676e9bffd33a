"""Phase one identification at attachment (phase1-spec §3, clarifications 1, 2, 12, 15).

Evidence in the window before attachment shows which national problems the family had; a record
may state them instead (`identified_for`), and then disagreement with the evidence is a warning.
Eligible: all three national problems, or two plus the council's local discretion.

Identification runs for every family, so each rule reads the record once, looking only at the
facts in its window; the windows depend on the attachment day alone and are worked out once per
day (`Window`). tests/test_fast_identification.py checks this equals the plain form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Literal

from pbr._dates import add_years, compulsory_school_age_bounds
from pbr._parts import trusted_identification, trusted_reason
from pbr.periods import TermCalendar, add_months, school_age_born_from
from pbr.programmes._employment import benefits_at_attachment, not_counted, out_of_work_benefits
from pbr.programmes._kernel import calendar_named, reason
from pbr.programmes.phase_one._evidence import flagged_terms, tally
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Compared, Identification, Reason
    from pbr.records import Family, SchoolTermRecord

__all__ = ["PROBLEMS", "Window", "identify", "window"]

PROBLEMS = ("crime_asb", "education", "work")
"""Phase one's three national problems, in the order they are assessed."""


@dataclass(frozen=True, slots=True)
class Window:
    """What identification at one attachment day compares against (the rule set's numbers)."""

    start: date
    """The first day of the crime/ASB window; it ends the day before attachment."""
    crime_window: dict[str, str]
    """That window as the crime/ASB reason shows it (ISO dates)."""
    crime_months: str
    """``in the 12 months before attachment``, as the crime/ASB reasons end."""
    no_work: str
    """The work reason's message when no adult is on an out-of-work benefit."""
    on: str
    """The attachment day, ISO, as the work reason shows it."""
    span: str
    """The complete terms before attachment, as reasons show them: ``2011/12 spring to ...``."""
    terms: dict[str, dict[str, date]]
    """Those terms' first days by academic year, then term name."""
    starts: tuple[date, ...]
    """Those terms' first days, oldest term first."""
    school_born_from: date
    """A member born before it is of compulsory school age in none of those terms."""
    calendar: dict[str, str]
    """A council's own term calendar, as the education reasons' numbers name it (else empty)."""
    calendar_said: str
    """The same as their messages end: `` (council term calendar)``, or nothing."""
    adult: int
    """The age from which a member is an adult."""
    sources: dict[str, str]
    """The sources identification's rules cite, by rule (from the rule set's data)."""
    absence: int
    """Unauthorised absence (percent of possible sessions) that is a problem."""
    exclusions: int
    """Fixed-term exclusions that are a problem."""


def window(rules: RuleSet, attached: date) -> Window:
    """The identification window for a family attached on `attached`, worked out once per day.

    Kept in the rule set's memo for the default term calendar (the memo is shared by variants
    with other calendars, so a council's own calendar is worked out each time).
    """
    if rules.term_calendar.overrides:
        return _window(rules, attached)
    return rules._derived(("phase_one.identification", attached), lambda: _window(rules, attached))


_DEFAULT_CALENDAR = TermCalendar()


def _window(rules: RuleSet, attached: date) -> Window:
    months = rules.number("identification_months")
    start = add_months(attached, -months)
    count = rules.number("terms_assessed")
    terms = rules.term_calendar.complete_terms(attached, count, strictly_before=True)
    keyed: dict[str, dict[str, date]] = {}
    for term in terms:
        keyed.setdefault(term.academic_year, {})[term.name] = term.start
    # a council's calendar is named when it overrides a term assessed, or one the default
    # dates would have assessed (its dates kept that term out)
    calendar, calendar_said = calendar_named(
        rules,
        (*terms, *_DEFAULT_CALENDAR.complete_terms(attached, count, strictly_before=True)),
    )
    return Window(
        start=start,
        crime_window={"window_from": start.isoformat(), "window_before": attached.isoformat()},
        crime_months=f"in the {months} months before attachment",
        no_work=f"no adult on an out-of-work benefit on {attached}",
        on=attached.isoformat(),
        span=f"{terms[0].label} to {terms[-1].label}",
        terms=keyed,
        starts=tuple(t.start for t in terms),
        school_born_from=school_age_born_from(min(t.start for t in terms)),
        calendar=calendar,
        calendar_said=calendar_said,
        adult=rules.number("adult_age"),
        absence=rules.number("absence_percent"),
        exclusions=rules.number("fixed_term_exclusions"),
        sources={rule: rules.source_of_rule(rule) for rule in _RULES},
    )


_CRIME_ASB = "identification.crime_asb"
_EDUCATION = "identification.education"
_WORK = "identification.work"
_ELIGIBILITY = "identification.eligibility"
_RULES = (_CRIME_ASB, _EDUCATION, _WORK, _ELIGIBILITY)


def identify(family: Family, rules: RuleSet) -> Identification:
    """Eligibility at attachment on the evidence before it, or on the problems the record states."""
    at = window(rules, family.attached_on)
    born = {m.person_id: m.date_of_birth for m in family.members}
    crime, crime_reason = _crime_asb(family, rules, at, born)
    education, reasons = _education(family, rules, at, born)
    work, work_reason = _work(family, rules, at, born)
    found = _FOUND[crime, education, work]
    reasons.insert(0, crime_reason)
    reasons.append(work_reason)
    local = bool(family.local_discretion)
    if local:
        reasons.append(
            reason(
                "LOCAL_DISCRETION_RECORDED",
                "identification.local_discretion",
                rules,
                f"local discretion: {', '.join(family.local_discretion)}",
                codes=", ".join(family.local_discretion),
            )
        )
    used, stated, warnings = _stated(family, rules, found)
    if family.problems_at_entry or family.observations:
        warnings = (*warnings, _lists_ignored(family, rules))
    reasons.extend(stated)
    eligible, verdict = _eligibility(rules, len(used), local)
    reasons.append(verdict)
    return trusted_identification(  # every value is already what validation would give
        family_id=family.family_id,
        attached_on=family.attached_on,
        eligible=eligible,
        identified_for=used,
        evidence=found,
        local_discretion=local,
        reasons=tuple(reasons),
        warnings=warnings,
    )


_FOUND = {
    (crime, education, work): tuple(
        problem
        for problem, present in zip(PROBLEMS, (crime, education, work), strict=True)
        if present
    )
    for crime in (False, True)
    for education in (False, True)
    for work in (False, True)
}
"""The problems found, by whether each of `PROBLEMS` was."""


def _crime_asb(
    family: Family, rules: RuleSet, at: Window, born: dict[str, date]
) -> tuple[bool, Reason]:
    """A proven offence by a child, or any ASB, in the months before attachment."""
    attached = family.attached_on
    start = at.start
    adult = at.adult
    child_offences = 0
    for o in family.offences:
        day = o.date
        if start <= day < attached and day < add_years(born[o.person_id], adult):
            child_offences += 1
    asb = 0
    for a in family.asb_incidents:
        if start <= a.date < attached:
            asb += 1
    # reasons built directly (`trusted_reason`): their numbers are plain, their source looked up
    # once per window; the kernel's `reason` would check and look up both again
    if child_offences or asb:
        return True, trusted_reason(
            "CRIME_ASB_AT_ENTRY",
            _CRIME_ASB,
            at.sources[_CRIME_ASB],
            f"{child_offences} offence(s) by children and {asb} ASB incident(s) " + at.crime_months,
            {**at.crime_window, "child_offences": child_offences, "asb_incidents": asb},
        )
    return False, trusted_reason(
        "NO_CRIME_ASB_AT_ENTRY",
        _CRIME_ASB,
        at.sources[_CRIME_ASB],
        "no offence by a child and no ASB incident " + at.crime_months,
        {**at.crime_window, "child_offences": 0, "asb_incidents": 0},
    )


def _education(
    family: Family, rules: RuleSet, at: Window, born: dict[str, date]
) -> tuple[bool, list[Reason]]:
    """A child excluded, off roll, in alternative provision or absent too often (clarif. 15).

    A child is assessed when it has rows in the terms (while under the adult age at a term's
    start) or is of compulsory school age in any of them; children in person_id order.
    """
    # One pass over the rows, keeping each child's in the window (in the record's order: only
    # their sums and count are needed, `tally`).
    terms = at.terms
    adult = at.adult
    rows_of: dict[str, list[SchoolTermRecord]] = {}
    for row in family.school_terms:
        in_year = terms.get(row.academic_year)
        if in_year is None:
            continue
        start = in_year.get(row.term)
        if start is None:
            continue
        person_id = row.person_id
        born_on = born[person_id]
        # an adult at the term's start: only possible from the year of the birthday
        if born_on.year + adult <= start.year and start >= add_years(born_on, adult):
            continue
        found = rows_of.get(person_id)
        if found is None:
            rows_of[person_id] = [row]
        else:
            found.append(row)
    children: list[tuple[str, list[SchoolTermRecord], bool]] = []
    starts = at.starts
    school_born_from = at.school_born_from
    for member in family.members:
        person_id = member.person_id
        born_on = member.date_of_birth
        # Of compulsory school age in a term: it starts after the fifth birthday and by the end
        # of the school year of the sixteenth. One comparison first rules out the adults.
        csa = False
        if born_on >= school_born_from:
            after, until = compulsory_school_age_bounds(born_on)
            for start in starts:
                if after < start <= until:
                    csa = True
                    break
        rows = rows_of.get(person_id)
        if rows is not None:
            children.append((person_id, rows, csa))
        elif csa:
            children.append((person_id, [], csa))
    if len(children) > 1:
        children.sort(key=_first)
    problems: list[Reason] = []
    absence = at.absence
    exclusions = at.exclusions
    span = at.span
    for person_id, rows, csa in children:
        possible, unauthorised, fixed, permanent, alternative, off_roll = tally(rows)
        absent = (csa or possible > 0) and 100 * unauthorised >= absence * possible
        if not (permanent or fixed >= exclusions or alternative or off_roll or absent):
            continue  # the usual case: no criterion met, no message to build
        compared: Compared = {
            "child": person_id,
            "terms": span,
            "possible_sessions": possible,
            "unauthorised_absences": unauthorised,
            "fixed_term_exclusions": fixed,
            "absence_threshold_percent": absence,
            "exclusion_threshold": exclusions,
        }
        excluded_in = provision_in = off_roll_in = ""
        if permanent or alternative or off_roll:  # the terms whose rows say so (only then)
            excluded_in, provision_in, off_roll_in = flagged_terms(rows)
            if permanent:
                compared["permanently_excluded_terms"] = excluded_in
            if alternative:
                compared["alternative_provision_terms"] = provision_in
            if off_roll:
                compared["off_roll_terms"] = off_roll_in
        flags: list[str] = []
        if permanent:
            flags.append(f"permanently excluded in {excluded_in}")
        if fixed >= exclusions:
            flags.append(f"{fixed} fixed-term exclusions")
        if alternative:
            flags.append(f"in alternative provision in {provision_in}")
        if off_roll:
            flags.append(f"not on a school roll in {off_roll_in}")
        if absent:
            flags.append(
                f"unauthorised absence {unauthorised}/{possible} sessions"
                if rows
                else "no school record in these terms (0 possible sessions)"
            )
        problems.append(
            trusted_reason(
                "EDUCATION_PROBLEM_AT_ENTRY",
                _EDUCATION,
                at.sources[_EDUCATION],
                f"child {person_id}, {span}: {'; '.join(flags)}{at.calendar_said}",
                {**compared, "terms_with_rows": len(rows), **at.calendar},
            )
        )
    if problems:
        return True, problems
    return False, [
        trusted_reason(
            "NO_EDUCATION_PROBLEM_AT_ENTRY",
            _EDUCATION,
            at.sources[_EDUCATION],
            f"no child met an education criterion over {span}{at.calendar_said}",
            {"terms": span, **at.calendar},
        )
    ]


_first = itemgetter(0)


def _work(family: Family, rules: RuleSet, at: Window, born: dict[str, date]) -> tuple[bool, Reason]:
    """An adult on an out-of-work benefit on the attachment day."""
    attached = family.attached_on
    adult = at.adult
    counted = out_of_work_benefits(rules)
    on_benefit: list[str] = []
    uncounted = False
    for s in family.benefit_spells:
        if (
            s.start <= attached
            and (s.end is None or s.end >= attached)
            and attached >= add_years(born[s.person_id], adult)
            and s.person_id not in on_benefit
        ):
            if counted is None or s.benefit in counted:
                on_benefit.append(s.person_id)
            else:
                uncounted = True
    if uncounted and not on_benefit:  # rare: say which spells did not count
        tail, named = not_counted(benefits_at_attachment(family, rules)[1], rules.programme)
        return False, trusted_reason(
            "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY",
            _WORK,
            at.sources[_WORK],
            at.no_work + tail,
            {"on": at.on, "not_counted": named},
        )
    if on_benefit:
        on_benefit.sort()
        return True, trusted_reason(
            "OUT_OF_WORK_BENEFIT_AT_ENTRY",
            _WORK,
            at.sources[_WORK],
            f"adult(s) {', '.join(on_benefit)} on an out-of-work benefit on {attached}",
            {"on": at.on, "adults": ", ".join(on_benefit)},
        )
    return False, trusted_reason(
        "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY", _WORK, at.sources[_WORK], at.no_work, {"on": at.on}
    )


def _stated(
    family: Family, rules: RuleSet, found: tuple[str, ...]
) -> tuple[tuple[str, ...], list[Reason], tuple[Reason, ...]]:
    """The problems used (stated, else found), the reason saying so, and any disagreement."""
    if family.identified_for is None:
        return found, [], ()
    used = tuple(p for p in PROBLEMS if p in family.identified_for)
    rule = "identification.identified_for"
    stated = reason(
        "IDENTIFIED_FOR_STATED",
        rule,
        rules,
        f"the record states identified_for = {', '.join(used) or '(none)'}",
        stated=", ".join(used),
        evidence=", ".join(found),
    )
    stated_only = [p for p in used if p not in found]
    evidence_only = [p for p in found if p not in used]
    if not (stated_only or evidence_only):
        return used, [stated], ()
    warning = reason(
        "EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR",
        rule,
        rules,
        "stated without evidence: "
        + (", ".join(stated_only) or "none")
        + "; evidence of an unstated problem: "
        + (", ".join(evidence_only) or "none"),
        stated=", ".join(used),
        evidence=", ".join(found),
        stated_without_evidence=", ".join(stated_only),
        evidence_not_stated=", ".join(evidence_only),
    )
    return used, [stated], (warning,)


def _lists_ignored(family: Family, rules: RuleSet) -> Reason:
    """The warning on a record giving a later programme's lists, which phase one does not read.

    A record stating phase one is refused for them (`pbr._record_checks`); one stating no
    programme is evaluated, as a later programme's record with phase one's `identified_for` is.
    """
    lists = [
        name
        for name, given in (
            ("problems_at_entry", family.problems_at_entry),
            ("observations", family.observations),
        )
        if given
    ]
    return reason(
        "LATER_PROGRAMME_LISTS_IGNORED",
        "identification.identified_for",
        rules,
        f"{' and '.join(lists)} {'are' if len(lists) > 1 else 'is'} not used by "
        f"{rules.programme}: eligibility comes from "
        + ("identified_for" if family.identified_for is not None else "the evidence"),
        lists=", ".join(lists),
    )


def _eligibility(rules: RuleSet, national: int, local: bool) -> tuple[bool, Reason]:
    """All three national problems, or two plus local discretion."""
    code, message = _verdict(national, local)
    return code == "ELIGIBLE", trusted_reason(
        code,
        _ELIGIBILITY,
        rules.source_of_rule(_ELIGIBILITY),
        message,
        {"national_criteria": national, "local_discretion": local},
    )


@cache  # eight answers; worked out when first asked, so a test run sees the rule applied
def _verdict(national: int, local: bool) -> tuple[Literal["ELIGIBLE", "NOT_ELIGIBLE"], str]:
    """The verdict and its message by the number of national problems and local discretion."""
    if national == len(PROBLEMS):
        return "ELIGIBLE", "all three national criteria"
    if national == len(PROBLEMS) - 1 and local:
        return "ELIGIBLE", "two national criteria plus local discretion"
    return "NOT_ELIGIBLE", (
        f"{national} national criteria{' plus local discretion' if local else ''}: needs all "
        "three, or two plus local discretion"
    )
