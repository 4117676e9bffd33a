"""Phase one identification at attachment (phase1-spec §3, clarifications 1, 2, 12, 15).

Evidence in the window before attachment shows which national problems the family had; a record
may state them instead (`identified_for`), and then disagreement with the evidence is a warning.
Eligible: all three national problems, or two plus the council's local discretion.
"""

from __future__ import annotations

from datetime import date

from pbr.decisions import Identification, Reason, trusted
from pbr.periods import add_months
from pbr.programmes._kernel import reason
from pbr.programmes.phase_one._evidence import Evidence, evidence, tally
from pbr.records import Family
from pbr.rules import RuleSet

__all__ = ["PROBLEMS", "identify"]

PROBLEMS = ("crime_asb", "education", "work")
"""Phase one's three national problems, in the order they are assessed."""


def identify(family: Family, rules: RuleSet) -> Identification:
    """Eligibility at attachment on the evidence before it, or on the problems the record states."""
    arranged = evidence(family)
    adult_from = arranged.adult_from(rules.number("adult_age"))
    crime = _crime_asb(family, rules, adult_from)
    education = _education(family, rules, arranged)
    work = _work(family, rules, adult_from)
    # each list is the problems found, or the one reason saying there were none
    found = tuple(
        problem
        for problem, reasons in zip(PROBLEMS, (crime, education, work), strict=True)
        if reasons[0].code in _PROBLEM_CODES
    )
    reasons = [*crime, *education, *work]
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
    reasons.extend(stated)
    eligible, verdict = _eligibility(rules, len(used), local)
    reasons.append(verdict)
    return trusted(  # every value is already what validation would give
        Identification,
        family_id=family.family_id,
        attached_on=family.attached_on,
        eligible=eligible,
        identified_for=used,
        evidence=found,
        local_discretion=local,
        reasons=tuple(reasons),
        warnings=warnings,
    )


_PROBLEM_CODES = frozenset(
    {"CRIME_ASB_AT_ENTRY", "EDUCATION_PROBLEM_AT_ENTRY", "OUT_OF_WORK_BENEFIT_AT_ENTRY"}
)


def _crime_asb(family: Family, rules: RuleSet, adult_from: dict[str, date]) -> list[Reason]:
    """A proven offence by a child, or any ASB, in the months before attachment."""
    attached = family.attached_on
    months = rules.number("identification_months")
    start = add_months(attached, -months)
    child_offences = sum(
        1
        for o in family.offences
        if start <= o.date < attached and o.date < adult_from[o.person_id]
    )
    asb = sum(1 for a in family.asb_incidents if start <= a.date < attached)
    window = {"window_from": start.isoformat(), "window_before": attached.isoformat()}
    if child_offences or asb:
        return [
            reason(
                "CRIME_ASB_AT_ENTRY",
                "identification.crime_asb",
                rules,
                f"{child_offences} offence(s) by children and {asb} ASB incident(s) in the "
                f"{months} months before attachment",
                **window,
                child_offences=child_offences,
                asb_incidents=asb,
            )
        ]
    return [
        reason(
            "NO_CRIME_ASB_AT_ENTRY",
            "identification.crime_asb",
            rules,
            f"no offence by a child and no ASB incident in the {months} months before attachment",
            **window,
            child_offences=0,
            asb_incidents=0,
        )
    ]


def _education(family: Family, rules: RuleSet, arranged: Evidence) -> list[Reason]:
    """A child excluded, off roll, in alternative provision or absent too often (clarif. 15)."""
    attached = family.attached_on
    terms = rules.term_calendar.complete_terms(
        attached, rules.number("terms_assessed"), strictly_before=True
    )
    absence = rules.number("absence_percent")
    exclusions = rules.number("fixed_term_exclusions")
    span = f"{terms[0].label} to {terms[-1].label}"
    problems: list[Reason] = []
    for person_id, rows, csa in arranged.children_in(terms, rules.number("adult_age")):
        possible, unauthorised, fixed, permanent, alternative, off_roll = tally(rows)
        absent = (csa or possible > 0) and 100 * unauthorised >= absence * possible
        flags: list[str] = []
        if permanent:
            flags.append("permanently excluded")
        if fixed >= exclusions:
            flags.append(f"{fixed} fixed-term exclusions")
        if alternative:
            flags.append("in alternative provision")
        if off_roll:
            flags.append("not on a school roll")
        if absent:
            flags.append(
                f"unauthorised absence {unauthorised}/{possible} sessions"
                if rows
                else "no school record in these terms (0 possible sessions)"
            )
        if flags:
            problems.append(
                reason(
                    "EDUCATION_PROBLEM_AT_ENTRY",
                    "identification.education",
                    rules,
                    f"child {person_id}, {span}: {'; '.join(flags)}",
                    child=person_id,
                    terms=span,
                    possible_sessions=possible,
                    unauthorised_absences=unauthorised,
                    fixed_term_exclusions=fixed,
                    absence_threshold_percent=absence,
                    terms_with_rows=len(rows),
                )
            )
    return problems or [
        reason(
            "NO_EDUCATION_PROBLEM_AT_ENTRY",
            "identification.education",
            rules,
            f"no child met an education criterion over {span}",
            terms=span,
        )
    ]


def _work(family: Family, rules: RuleSet, adult_from: dict[str, date]) -> list[Reason]:
    """An adult on an out-of-work benefit on the attachment day."""
    attached = family.attached_on
    on_benefit = sorted(
        {
            s.person_id
            for s in family.benefit_spells
            if s.start <= attached
            and (s.end is None or s.end >= attached)
            and attached >= adult_from[s.person_id]
        }
    )
    if on_benefit:
        return [
            reason(
                "OUT_OF_WORK_BENEFIT_AT_ENTRY",
                "identification.work",
                rules,
                f"adult(s) {', '.join(on_benefit)} on an out-of-work benefit on {attached}",
                on=attached.isoformat(),
                adults=", ".join(on_benefit),
            )
        ]
    return [
        reason(
            "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY",
            "identification.work",
            rules,
            f"no adult on an out-of-work benefit on {attached}",
            on=attached.isoformat(),
        )
    ]


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


def _eligibility(rules: RuleSet, national: int, local: bool) -> tuple[bool, Reason]:
    """All three national problems, or two plus local discretion."""
    eligible = national == len(PROBLEMS) or (national == len(PROBLEMS) - 1 and local)
    numbers = {"national_criteria": national, "local_discretion": local}
    if eligible:
        message = (
            "all three national criteria"
            if national == len(PROBLEMS)
            else "two national criteria plus local discretion"
        )
        return True, reason("ELIGIBLE", "identification.eligibility", rules, message, **numbers)
    message = (
        f"{national} national criteria{' plus local discretion' if local else ''}: needs all "
        "three, or two plus local discretion"
    )
    return False, reason("NOT_ELIGIBLE", "identification.eligibility", rules, message, **numbers)
