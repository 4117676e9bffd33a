"""Phase-one rules as small pure functions: identification, the three results, and payment.

Each function reads its numbers from the `RuleSet` (cited data) and returns its verdict with
`Reason`s that carry the rule, the source tags and the numbers compared. phase1-spec.md v1 is the
behaviour; section numbers below refer to it.

Output models are built with `construct` (no re-validation): every value is typed and made JSON-safe here, so
re-validating what the engine itself produced would only cost time. The JSON round-trip property
tests check that what is built this way equals what validation would build.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from pbr.decisions import (
    RESULT_KINDS,
    Compared,
    Decision,
    Identification,
    Reason,
    ResultDecision,
    ResultKind,
    Status,
    construct,
)
from pbr.errors import OutsideProgramme
from pbr.money import ZERO, round_to_penny
from pbr.periods import (
    FinancialYear,
    SchoolTerm,
    add_months,
    age_on,
    compulsory_school_age_in,
    financial_year_of,
)
from pbr.reasons import ReasonCode
from pbr.records import EmploymentSpell, Family, Payment, SchoolTermRecord
from pbr.rules import RuleSet

__all__ = ["evaluate", "identify"]

PROBLEMS = ("crime_asb", "education", "work")


def _reason(code: ReasonCode, rule: str, source: str, message: str, **compared: object) -> Reason:
    # Built without re-validation: every field is typed here and `_plain` makes `compared` JSON-safe.
    return construct(
        Reason,
        code=code,
        rule=rule,
        source=source,
        message=message,
        compared={k: _plain(v) for k, v in compared.items()},
    )


def _plain(value: object) -> str | int | bool | None:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return str(Decimal(value.numerator) / Decimal(value.denominator))
    return str(value)


def _src(rules: RuleSet, *names: str) -> str:
    return rules.sources_of(*names)


def _int(rules: RuleSet, name: str) -> int:
    return rules.number(name)


# --- Identification (§3) -------------------------------------------------------------------


def identify(family: Family, rules: RuleSet) -> Identification:
    """Evaluate eligibility at attachment on the evidence before it (§3, clarifications 1, 15).

    An explicit `identified_for` is used as the problem list; where the evidence disagrees the
    identification carries an `EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR` warning.
    """
    attached = family.attached_on
    born = family.member_birthdays()
    adult = _int(rules, "adult_age")
    window_start = add_months(attached, -_int(rules, "identification_months"))
    reasons: list[Reason] = []
    found: list[str] = []

    child_offences = sum(
        1
        for o in family.offences
        if window_start <= o.date < attached and age_on(born[o.person_id], o.date) < adult
    )
    asb = sum(1 for a in family.asb_incidents if window_start <= a.date < attached)
    crime_rule, crime_src = "identification.crime_asb", _src(rules, "identification_months")
    if child_offences or asb:
        found.append("crime_asb")
        reasons.append(
            _reason(
                "CRIME_ASB_AT_ENTRY",
                crime_rule,
                crime_src,
                f"{child_offences} offence(s) by children and {asb} ASB incident(s) in the 12 months "
                "before attachment",
                window_from=window_start,
                window_before=attached,
                child_offences=child_offences,
                asb_incidents=asb,
            )
        )
    else:
        reasons.append(
            _reason(
                "NO_CRIME_ASB_AT_ENTRY",
                crime_rule,
                crime_src,
                "no offence by a child and no ASB incident in the 12 months before attachment",
                window_from=window_start,
                window_before=attached,
                child_offences=0,
                asb_incidents=0,
            )
        )

    education_reasons = _education_at_entry(family, rules, born)
    if any(r.code == "EDUCATION_PROBLEM_AT_ENTRY" for r in education_reasons):
        found.append("education")
    reasons.extend(education_reasons)

    work_rule, work_src = "identification.work", _src(rules, "adult_age")
    on_benefit = sorted(
        {
            s.person_id
            for s in family.benefit_spells
            if s.start <= attached
            and (s.end is None or s.end >= attached)
            and age_on(born[s.person_id], attached) >= adult
        }
    )
    if on_benefit:
        found.append("work")
        reasons.append(
            _reason(
                "OUT_OF_WORK_BENEFIT_AT_ENTRY",
                work_rule,
                work_src,
                f"adult(s) {', '.join(on_benefit)} on an out-of-work benefit on {attached}",
                on=attached,
                adults=", ".join(on_benefit),
            )
        )
    else:
        reasons.append(
            _reason(
                "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY",
                work_rule,
                work_src,
                f"no adult on an out-of-work benefit on {attached}",
                on=attached,
            )
        )

    local = bool(family.local_discretion)
    if local:
        reasons.append(
            _reason(
                "LOCAL_DISCRETION_RECORDED",
                "identification.local_discretion",
                "S8, S1",
                f"local discretion: {', '.join(family.local_discretion)}",
                codes=", ".join(family.local_discretion),
            )
        )

    warnings: list[Reason] = []
    if family.identified_for is None:
        used = tuple(found)
    else:
        used = tuple(p for p in PROBLEMS if p in family.identified_for)
        reasons.append(
            _reason(
                "IDENTIFIED_FOR_STATED",
                "identification.identified_for",
                "S8",
                f"the record states identified_for = {', '.join(used) or '(none)'}",
                stated=", ".join(used),
                evidence=", ".join(found),
            )
        )
        stated_only = [p for p in used if p not in found]
        evidence_only = [p for p in found if p not in used]
        if stated_only or evidence_only:
            warnings.append(
                _reason(
                    "EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR",
                    "identification.identified_for",
                    "S8",
                    "stated without evidence: "
                    + (", ".join(stated_only) or "none")
                    + "; evidence of an unstated problem: "
                    + (", ".join(evidence_only) or "none"),
                    stated=", ".join(used),
                    evidence=", ".join(found),
                    stated_without_evidence=", ".join(stated_only),
                    evidence_not_stated=", ".join(evidence_only),
                )
            )

    national = len(used)
    eligible = national == 3 or (national == 2 and local)
    rule = "identification.eligibility"
    if eligible:
        reasons.append(
            _reason(
                "ELIGIBLE",
                rule,
                "S45, S1, S8",
                "all three national criteria"
                if national == 3
                else "two national criteria plus local discretion",
                national_criteria=national,
                local_discretion=local,
            )
        )
    else:
        reasons.append(
            _reason(
                "NOT_ELIGIBLE",
                rule,
                "S45, S1, S8",
                f"{national} national criteria{' plus local discretion' if local else ''}: needs all "
                "three, or two plus local discretion",
                national_criteria=national,
                local_discretion=local,
            )
        )
    return construct(
        Identification,
        family_id=family.family_id,
        attached_on=attached,
        eligible=eligible,
        identified_for=used,
        evidence=tuple(found),
        local_discretion=local,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
    )


def _education_at_entry(family: Family, rules: RuleSet, born: dict[str, date]) -> list[Reason]:
    attached = family.attached_on
    terms = rules.term_calendar.complete_terms(
        attached, _int(rules, "terms_assessed"), strictly_before=True
    )
    rule = "identification.education"
    src = _src(rules, "absence_percent", "fixed_term_exclusions", "terms_assessed")
    absence, exclusions, adult = (
        _int(rules, "absence_percent"),
        _int(rules, "fixed_term_exclusions"),
        _int(rules, "adult_age"),
    )
    term_span = f"{terms[0].label} to {terms[-1].label}"
    problems: list[Reason] = []
    for person_id, rows, csa in _children_in_terms(family, terms, born, adult):
        possible = sum(r.possible_sessions for r in rows)
        unauthorised = sum(r.unauthorised_absences for r in rows)
        fixed = sum(r.fixed_term_exclusions for r in rows)
        flags = [
            name
            for name, hit in (
                ("permanently excluded", any(r.permanently_excluded for r in rows)),
                (f"{fixed} fixed-term exclusions", fixed >= exclusions),
                ("in alternative provision", any(r.alternative_provision for r in rows)),
                ("not on a school roll", any(not r.on_roll for r in rows)),
                (
                    f"unauthorised absence {unauthorised}/{possible} sessions"
                    if rows
                    else "no school record in these terms (0 possible sessions)",
                    (csa or possible > 0) and 100 * unauthorised >= absence * possible,
                ),
            )
            if hit
        ]
        if flags:
            problems.append(
                _reason(
                    "EDUCATION_PROBLEM_AT_ENTRY",
                    rule,
                    src,
                    f"child {person_id}, {term_span}: {'; '.join(flags)}",
                    child=person_id,
                    terms=term_span,
                    possible_sessions=possible,
                    unauthorised_absences=unauthorised,
                    fixed_term_exclusions=fixed,
                    absence_threshold_percent=absence,
                    terms_with_rows=len(rows),
                )
            )
    if problems:
        return problems
    return [
        _reason(
            "NO_EDUCATION_PROBLEM_AT_ENTRY",
            rule,
            src,
            f"no child met an education criterion over {term_span}",
            terms=term_span,
        )
    ]


def _children_in_terms(
    family: Family, terms: tuple[SchoolTerm, ...], born: dict[str, date], adult: int
) -> Iterable[tuple[str, list[SchoolTermRecord], bool]]:
    """Yield (child, its term rows in `terms`, of compulsory school age in any of them)."""
    by_key = {(t.academic_year, t.name): (i, t) for i, t in enumerate(terms)}
    found: dict[str, list[tuple[int, SchoolTermRecord]]] = defaultdict(list)
    for row in family.school_terms:
        hit = by_key.get((row.academic_year, row.term))
        if hit is not None and age_on(born[row.person_id], hit[1].start) < adult:
            found[row.person_id].append((hit[0], row))
    # children by person_id and rows in term order, so the record's order never shows
    rows = {
        child: [row for _, row in sorted(pairs, key=lambda p: p[0])]
        for child, pairs in found.items()
    }
    for member in sorted(family.members, key=lambda m: m.person_id):
        csa = any(compulsory_school_age_in(member.date_of_birth, t) for t in terms)
        if csa or member.person_id in rows:
            yield member.person_id, rows.get(member.person_id, []), csa


# --- Results (§4) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: Status
    reasons: tuple[Reason, ...]
    earliest: date | None = None


def _not_relevant(limb: str, problem: str) -> Reason:
    return _reason(
        "LIMB_NOT_RELEVANT",
        "results.relevance",
        "S10",
        f"{limb}: the family was not identified for {problem}",
        limb=limb,
        problem=problem,
    )


def _recent(as_of: date, months: int) -> tuple[date, date]:
    """The half-open window (as_of - months, as_of] as (exclusive start, inclusive end)."""
    return add_months(as_of, -months), as_of


def crime_asb_education(
    family: Family, rules: RuleSet, as_of: date, identified: tuple[str, ...]
) -> _Verdict:
    """Crime/ASB/education: every relevant limb holds at `as_of`, 6+ months after attachment."""
    relevant = (
        set(identified)
        if rules.interpretation("relevance") == "identified_problems_only"
        else set(PROBLEMS)
    )
    born = family.member_birthdays()
    reasons: list[Reason] = []
    limbs_met: list[bool] = []
    if "education" in relevant:
        ok, why = _education_limb(family, rules, as_of, born)
        limbs_met.append(ok)
        reasons.extend(why)
    else:
        reasons.append(_not_relevant("education", "education"))
    if "crime_asb" in relevant:
        for limb in (_asb_limb, _offending_limb):
            ok, one = limb(family, rules, as_of, born)
            limbs_met.append(ok)
            reasons.append(one)
    else:
        reasons.append(_not_relevant("asb", "crime_asb"))
        reasons.append(_not_relevant("offending", "crime_asb"))
    if not limbs_met:
        return _Verdict("not_applicable", tuple(reasons))
    ready = add_months(family.attached_on, _int(rules, "results_wait_months"))
    if as_of < ready:
        reasons.insert(
            0,
            _reason(
                "RESULT_TOO_EARLY",
                "results.crime_asb_education.timing",
                _src(rules, "results_wait_months"),
                f"as_of {as_of} is before attachment + 6 months ({ready})",
                as_of=as_of,
                attached_on=family.attached_on,
                earliest=ready,
            ),
        )
        return _Verdict("not_met", tuple(reasons), ready)
    return _Verdict("met" if all(limbs_met) else "not_met", tuple(reasons))


def _education_limb(
    family: Family, rules: RuleSet, as_of: date, born: dict[str, date]
) -> tuple[bool, list[Reason]]:
    terms = rules.term_calendar.complete_terms(as_of, _int(rules, "terms_assessed"))
    absence, exclusions, adult = (
        _int(rules, "absence_percent"),
        _int(rules, "fixed_term_exclusions"),
        _int(rules, "adult_age"),
    )
    rule = "results.crime_asb_education.education"
    src = _src(rules, "absence_percent", "fixed_term_exclusions", "terms_assessed")
    term_span = f"{terms[0].label} to {terms[-1].label}"
    reasons: list[Reason] = []
    met = True
    for person_id, rows, _csa in _children_in_terms(family, terms, born, adult):
        dob = born[person_id]
        have = {(r.academic_year, r.term) for r in rows}
        child_ok = True
        for term in terms:
            if compulsory_school_age_in(dob, term) and (term.academic_year, term.name) not in have:
                child_ok = False
                reasons.append(
                    _reason(
                        "MISSING_SCHOOL_TERM",
                        rule,
                        src,
                        f"child {person_id} is of compulsory school age but has no record for "
                        f"{term.label}",
                        child=person_id,
                        term=term.label,
                    )
                )
        if rows:
            possible = sum(r.possible_sessions for r in rows)
            unauthorised = sum(r.unauthorised_absences for r in rows)
            fixed = sum(r.fixed_term_exclusions for r in rows)
            numbers: Compared = {
                "child": person_id,
                "terms": term_span,
                "possible_sessions": possible,
                "unauthorised_absences": unauthorised,
                "fixed_term_exclusions": fixed,
                "absence_threshold_percent": absence,
                "exclusion_threshold": exclusions,
            }
            if any(r.permanently_excluded for r in rows):
                child_ok = False
                reasons.append(
                    _reason(
                        "PERMANENTLY_EXCLUDED",
                        rule,
                        src,
                        f"child {person_id} was permanently excluded in {term_span}",
                        **numbers,
                    )
                )
            if fixed >= exclusions:
                child_ok = False
                reasons.append(
                    _reason(
                        "FIXED_TERM_EXCLUSIONS_3_OR_MORE",
                        rule,
                        src,
                        f"child {person_id}: {fixed} fixed-term exclusions (must be fewer than "
                        f"{exclusions})",
                        **numbers,
                    )
                )
            if possible == 0:
                child_ok = False
                reasons.append(
                    _reason(
                        "NO_POSSIBLE_SESSIONS",
                        rule,
                        src,
                        f"child {person_id}: 0 possible sessions over {term_span}",
                        **numbers,
                    )
                )
            elif 100 * unauthorised >= absence * possible:
                child_ok = False
                reasons.append(
                    _reason(
                        "ABSENCE_15_PERCENT_OR_MORE",
                        rule,
                        src,
                        f"child {person_id}: unauthorised absence {unauthorised}/{possible} sessions "
                        f"is not below {absence}%",
                        **numbers,
                    )
                )
            if child_ok:
                reasons.append(
                    _reason(
                        "CHILD_IN_SCHOOL",
                        rule,
                        src,
                        f"child {person_id}: {fixed} fixed-term exclusions, unauthorised absence "
                        f"{unauthorised}/{possible} sessions (below {absence}%)",
                        **numbers,
                    )
                )
        met = met and child_ok
    if not reasons:
        reasons.append(
            _reason(
                "NO_CHILD_TO_ASSESS",
                rule,
                src,
                f"no child of school age has terms to assess in {term_span}",
                terms=term_span,
            )
        )
    return met, reasons


def _baseline(dates: list[date], attached: date, rules: RuleSet) -> tuple[Fraction, date, str]:
    """The baseline count (interpretation `baseline`), the window start and its description."""
    if rules.interpretation("baseline") == "twelve_months_before_attachment_halved":
        start = add_months(attached, -12)
        count = sum(1 for d in dates if start <= d < attached)
        return Fraction(count, 2), start, f"{count} in the 12 months before attachment, halved"
    start = add_months(attached, -_int(rules, "baseline_months"))
    count = sum(1 for d in dates if start <= d < attached)
    return Fraction(count), start, f"{count} in the 6 months before attachment"


def _asb_limb(
    family: Family, rules: RuleSet, as_of: date, born: dict[str, date]
) -> tuple[bool, Reason]:
    dates = [a.date for a in family.asb_incidents]
    return _reduction(
        "asb",
        dates,
        family.attached_on,
        as_of,
        rules,
        threshold=Fraction(_int(rules, "asb_remaining_percent"), 100),
        source=_src(rules, "asb_remaining_percent", "results_months"),
    )


def _offending_limb(
    family: Family, rules: RuleSet, as_of: date, born: dict[str, date]
) -> tuple[bool, Reason]:
    adult = _int(rules, "adult_age")
    dates = [o.date for o in family.offences if age_on(born[o.person_id], o.date) < adult]
    return _reduction(
        "offending",
        dates,
        family.attached_on,
        as_of,
        rules,
        threshold=1 - Fraction(_int(rules, "offending_reduction_percent"), 100),
        source=_src(rules, "offending_reduction_percent", "results_months"),
    )


_REDUCTION_CODES: dict[str, tuple[ReasonCode, ReasonCode, ReasonCode, ReasonCode]] = {
    "asb": (
        "ASB_REDUCED_60_PERCENT",
        "ASB_REDUCTION_BELOW_60_PERCENT",
        "ASB_NONE_BEFORE_OR_SINCE",
        "ASB_SINCE_ZERO_BASELINE",
    ),
    "offending": (
        "OFFENDING_REDUCED_33_PERCENT",
        "OFFENDING_REDUCTION_BELOW_33_PERCENT",
        "OFFENDING_NONE_BEFORE_OR_SINCE",
        "OFFENDING_SINCE_ZERO_BASELINE",
    ),
}


def _reduction(
    limb: str,
    dates: list[date],
    attached: date,
    as_of: date,
    rules: RuleSet,
    *,
    threshold: Fraction,
    source: str,
) -> tuple[bool, Reason]:
    """Recent count at most `threshold` × baseline; with a zero baseline, met only at zero."""
    after, until = _recent(as_of, _int(rules, "results_months"))
    recent = sum(1 for d in dates if after < d <= until)
    baseline, baseline_from, described = _baseline(dates, attached, rules)
    reduced, below, none, since = _REDUCTION_CODES[limb]
    numbers: Compared = {
        "recent": recent,
        "recent_after": after.isoformat(),
        "recent_until": until.isoformat(),
        "baseline": _plain(baseline),
        "baseline_from": baseline_from.isoformat(),
        "baseline_before": attached.isoformat(),
        "max_recent_share_of_baseline": _plain(threshold),
        "baseline_interpretation": rules.interpretation("baseline"),
    }
    rule = f"results.crime_asb_education.{limb}"
    label = "ASB incidents" if limb == "asb" else "offences by children"
    if baseline == 0:
        if recent == 0:
            return True, _reason(none, rule, source, f"no {label} before or since", **numbers)
        return False, _reason(
            since,
            rule,
            source,
            f"{recent} {label} in the last 6 months against a baseline of 0",
            **numbers,
        )
    met = recent <= threshold * baseline
    return met, _reason(
        reduced if met else below,
        rule,
        source,
        f"{recent} {label} in the last 6 months against a baseline of {described}: "
        f"{'at most' if met else 'more than'} {_plain(threshold * 100)}% of it",
        **numbers,
    )


def _needs_work(rules: RuleSet, identified: tuple[str, ...], limb: str) -> Reason | None:
    if rules.interpretation("relevance") == "identified_problems_only" and "work" not in identified:
        return _not_relevant(limb, "work")
    return None


def progress_to_work(
    family: Family, rules: RuleSet, as_of: date, identified: tuple[str, ...]
) -> _Verdict:
    """An adult referred to the Work Programme or ESF in the last 6 months, on/after attachment."""
    skip = _needs_work(rules, identified, "progress_to_work")
    if skip is not None:
        return _Verdict("not_applicable", (skip,))
    born = family.member_birthdays()
    adult = _int(rules, "adult_age")
    after, until = _recent(as_of, _int(rules, "results_months"))
    rule, src = "results.progress_to_work", _src(rules, "results_months")
    hits = sorted(
        (
            r
            for r in family.work_programme
            if after < r.date <= until
            and r.date >= family.attached_on
            and age_on(born[r.person_id], r.date) >= adult
        ),
        key=lambda r: (r.date, r.person_id, r.provision),
    )
    if hits:
        first = hits[0]
        return _Verdict(
            "met",
            (
                _reason(
                    "WORK_PROGRAMME_REFERRAL",
                    rule,
                    src,
                    f"adult {first.person_id} referred to {first.provision} on {first.date}",
                    person=first.person_id,
                    referred_on=first.date,
                    provision=first.provision,
                    window_after=after,
                    window_until=until,
                    attached_on=family.attached_on,
                ),
            ),
            first.date,
        )
    return _Verdict(
        "not_met",
        (
            _reason(
                "NO_WORK_PROGRAMME_REFERRAL",
                rule,
                src,
                f"no adult referral in ({after}, {until}] on or after attachment ({family.attached_on})",
                window_after=after,
                window_until=until,
                attached_on=family.attached_on,
            ),
        ),
    )


def _runs(spells: Iterable[EmploymentSpell], as_of: date) -> list[tuple[date, date | None]]:
    """Merge spells that overlap or touch into continuous runs (clarification 9)."""
    runs: list[tuple[date, date | None]] = []
    for spell in sorted((s for s in spells if s.start <= as_of), key=lambda s: s.start):
        if runs:
            start, end = runs[-1]
            if end is None or spell.start <= end + timedelta(days=1):
                merged = None if end is None or spell.end is None else max(end, spell.end)
                runs[-1] = (start, merged)
                continue
        runs.append((spell.start, spell.end))
    return runs


def continuous_employment(
    family: Family, rules: RuleSet, as_of: date, identified: tuple[str, ...]
) -> _Verdict:
    """An adult on an out-of-work benefit at attachment in work since then for 13 or 26 weeks."""
    skip = _needs_work(rules, identified, "continuous_employment")
    if skip is not None:
        return _Verdict("not_applicable", (skip,))
    attached = family.attached_on
    born = family.member_birthdays()
    adult = _int(rules, "adult_age")
    rule = "results.continuous_employment"
    src = _src(rules, "employment_weeks_jsa", "employment_weeks_other")
    benefits: dict[str, set[str]] = defaultdict(set)
    for s in family.benefit_spells:
        if (
            s.start <= attached
            and (s.end is None or s.end >= attached)
            and age_on(born[s.person_id], attached) >= adult
        ):
            benefits[s.person_id].add(s.benefit)
    if not benefits:
        return _Verdict(
            "not_met",
            (
                _reason(
                    "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT",
                    rule,
                    src,
                    f"no adult was on an out-of-work benefit on {attached}",
                    attached_on=attached,
                ),
            ),
        )
    all_13 = rules.interpretation("employment_weeks") == "all_13"
    reasons: list[Reason] = []
    met = False
    earliest: date | None = None
    for person_id in sorted(benefits):
        jsa = "JSA" in benefits[person_id]
        weeks = _int(
            rules, "employment_weeks_jsa" if jsa and not all_13 else "employment_weeks_other"
        )
        numbers: Compared = {
            "person": person_id,
            "benefits_at_attachment": ", ".join(sorted(benefits[person_id])),
            "weeks_required": weeks,
            "attached_on": attached.isoformat(),
            "as_of": as_of.isoformat(),
            "employment_weeks_interpretation": rules.interpretation("employment_weeks"),
        }
        spells = [s for s in family.employment_spells if s.person_id == person_id]
        current = [(s, e) for s, e in _runs(spells, as_of) if e is None or e >= as_of]
        if not current:
            reasons.append(
                _reason(
                    "NO_CURRENT_EMPLOYMENT",
                    rule,
                    src,
                    f"adult {person_id} is not in work on {as_of}",
                    **numbers,
                )
            )
            continue
        start = current[0][0]
        if start < attached:
            reasons.append(
                _reason(
                    "EMPLOYMENT_STARTED_BEFORE_ATTACHMENT",
                    rule,
                    src,
                    f"adult {person_id}'s current run of work started {start}, before attachment",
                    run_start=start.isoformat(),
                    **numbers,
                )
            )
            continue
        reached = start + timedelta(weeks=weeks)
        earliest = reached if earliest is None else min(earliest, reached)
        worked = (as_of - start).days
        if as_of >= reached:
            met = True
            reasons.append(
                _reason(
                    "CONTINUOUS_EMPLOYMENT_REACHED",
                    rule,
                    src,
                    f"adult {person_id} in work since {start}: {weeks} weeks reached on {reached}",
                    run_start=start.isoformat(),
                    days_worked=worked,
                    reached_on=reached.isoformat(),
                    **numbers,
                )
            )
        else:
            reasons.append(
                _reason(
                    "EMPLOYMENT_TOO_SHORT",
                    rule,
                    src,
                    f"adult {person_id} in work since {start}: {worked} days, {weeks} weeks "
                    f"reached on {reached}",
                    run_start=start.isoformat(),
                    days_worked=worked,
                    reached_on=reached.isoformat(),
                    **numbers,
                )
            )
    return _Verdict("met" if met else "not_met", tuple(reasons), earliest)


# --- Money and the decision (§2, §5) ---------------------------------------------------------


def _rates(rules: RuleSet, year: FinancialYear) -> dict[ResultKind, tuple[Decimal, str]]:
    """The rate of each result in `year` with its source tags (interpretation results_split)."""
    employment = rules.amount("continuous_employment", year)
    employment_src = rules.parameter("continuous_employment", year).source_text
    if rules.interpretation("results_split") == "pro_rata":
        share = rules.amount("cap", year) - rules.amount("attachment_fee", year)
        src = rules.parameter("crime_asb_education_share", year).source_text
        crime = round_to_penny(Fraction(share) * rules.fraction("crime_asb_education_share", year))
        return {
            "crime_asb_education": (crime, src),
            "progress_to_work": (share - crime, src),
            "continuous_employment": (employment, employment_src),
        }
    return {
        "crime_asb_education": (
            rules.amount("crime_asb_education", year),
            rules.parameter("crime_asb_education", year).source_text,
        ),
        "progress_to_work": (
            rules.amount("progress_to_work", year),
            rules.parameter("progress_to_work", year).source_text,
        ),
        "continuous_employment": (employment, employment_src),
    }


def _rates_year(rules: RuleSet, attached: date, as_of: date) -> FinancialYear:
    if rules.interpretation("rates_by") == "claim_year":
        years = rules.years
        return min(max(financial_year_of(as_of), years[0]), years[-1])
    return financial_year_of(attached)


def evaluate(family: Family, as_of: date, rules: RuleSet) -> Decision:
    """Evaluate a phase-one family at `as_of`: identification, each result, then the money (§5)."""
    if family.programme not in (None, rules.programme) or not rules.covers(family.attached_on):
        raise OutsideProgramme(
            family.family_id,
            f"{rules.title} covers families attached {rules.attached_from} to "
            f"{rules.attached_to}; this one ({family.programme or 'programme not stated'}) was "
            f"attached on {family.attached_on}",
        )
    attached = family.attached_on
    year = financial_year_of(attached)
    fee = rules.amount("attachment_fee", year)
    cap = rules.amount("cap", year)
    ident = identify(family, rules)

    counted = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
    paid_to_date = sum((p.amount for p in counted), ZERO)

    if not ident.eligible:
        why = next(r for r in ident.reasons if r.code == "NOT_ELIGIBLE")
        results = {
            kind: construct(
                ResultDecision, status="not_applicable", amount=ZERO, rate=ZERO, reasons=(why,)
            )
            for kind in RESULT_KINDS
        }
        return _decision(family, as_of, rules, year, fee, cap, ident, ZERO, paid_to_date, results)

    verdicts: dict[ResultKind, _Verdict] = {
        "crime_asb_education": crime_asb_education(family, rules, as_of, ident.identified_for),
        "progress_to_work": progress_to_work(family, rules, as_of, ident.identified_for),
        "continuous_employment": continuous_employment(family, rules, as_of, ident.identified_for),
    }
    results, payable = _pay(family, rules, as_of, year, fee, cap, counted, verdicts)
    return _decision(family, as_of, rules, year, fee, cap, ident, payable, paid_to_date, results)


_OTHER_ROUTE: dict[ResultKind, ResultKind] = {
    "crime_asb_education": "continuous_employment",
    "continuous_employment": "crime_asb_education",
}


def _pay(
    family: Family,
    rules: RuleSet,
    as_of: date,
    year: FinancialYear,
    fee: Decimal,
    cap: Decimal,
    counted: list[Payment],
    verdicts: dict[ResultKind, _Verdict],
) -> tuple[dict[ResultKind, ResultDecision], Decimal]:
    """Turn verdicts into amounts: rates, prior payments, the cap and the combination rules."""
    paid: dict[str, list[Payment]] = defaultdict(list)
    for p in counted:
        paid[p.kind].append(p)
    fee_paid = sum((p.amount for p in paid["attachment_fee"]), ZERO)
    fee_counted = max(fee, fee_paid)
    results_paid = sum((p.amount for k in RESULT_KINDS for p in paid[k]), ZERO)
    room = max(cap - fee_counted - results_paid, ZERO)
    rates_year = _rates_year(rules, family.attached_on, as_of)
    rates = _rates(rules, rates_year)
    exclusive = rules.interpretation("employment_after_crime") == "exclusive"
    cap_src = _src(rules, "cap")
    results: dict[ResultKind, ResultDecision] = {}
    paid_now = ZERO
    for kind in RESULT_KINDS:
        verdict = verdicts[kind]
        rate, rate_src = rates[kind]
        reasons = list(verdict.reasons)
        amount = ZERO
        status: Status = verdict.status
        if paid[kind]:
            status = "already_paid"
            first = paid[kind][0]
            reasons.insert(
                0,
                _reason(
                    "ALREADY_PAID",
                    "payment.once",
                    "S1",
                    f"{kind} was paid {first.amount} on {first.paid_on or '(date not recorded)'}",
                    amount=str(first.amount),
                    paid_on=first.paid_on,
                    claim_id=first.claim_id,
                ),
            )
        elif status == "met":
            other = _OTHER_ROUTE.get(kind)
            if (
                exclusive
                and other is not None
                and (
                    paid[other]
                    or (kind == "crime_asb_education" and verdicts[other].status == "met")
                )
            ):
                reasons.append(
                    _reason(
                        "EXCLUSIVE_ROUTE_TAKEN",
                        "payment.employment_after_crime",
                        "S2, S3",
                        f"{other} is {'paid' if paid[other] else 'payable now'}, so {kind} is not paid",
                        other_route=other,
                        interpretation="exclusive",
                    )
                )
            else:
                reasons.append(
                    _reason(
                        "RATE_APPLIED",
                        f"payment.rate.{kind}",
                        rate_src,
                        f"rate {rate} for {kind} in {rates_year} "
                        f"(rates_by = {rules.interpretation('rates_by')})",
                        rate=str(rate),
                        rates_year=str(rates_year),
                        rates_by=rules.interpretation("rates_by"),
                        results_split=rules.interpretation("results_split"),
                    )
                )
                amount = min(rate, room)
                if amount < rate:
                    numbers: Compared = {
                        "rate": str(rate),
                        "room": str(room),
                        "cap": str(cap),
                        "attachment_fee_counted": str(fee_counted),
                        "results_paid_before": str(results_paid),
                        "results_payable_earlier_now": str(paid_now),
                        "amount": str(amount),
                    }
                    earlier = results_paid + paid_now > 0
                    if kind == "continuous_employment" and not exclusive and earlier:
                        reasons.append(
                            _reason(
                                "EMPLOYMENT_TOP_UP",
                                "payment.employment_after_crime",
                                cap_src,
                                f"earlier results leave {room} of the results share: employment "
                                f"tops up by {amount}",
                                **numbers,
                            )
                        )
                    else:
                        reasons.append(
                            _reason(
                                "CAP_REACHED",
                                "payment.cap",
                                cap_src,
                                f"only {room} left under the {cap} cap (fee counted {fee_counted}, "
                                f"results already {results_paid + paid_now})",
                                **numbers,
                            )
                        )
                room -= amount
                paid_now += amount
        results[kind] = construct(
            ResultDecision,
            status=status,
            amount=amount,
            rate=rate,
            earliest_date=verdict.earliest,
            reasons=tuple(reasons),
        )
    return results, paid_now


def _decision(
    family: Family,
    as_of: date,
    rules: RuleSet,
    year: FinancialYear,
    fee: Decimal,
    cap: Decimal,
    ident: Identification,
    payable: Decimal,
    paid_to_date: Decimal,
    results: dict[ResultKind, ResultDecision],
) -> Decision:
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
        warnings=ident.warnings,
        identification=ident.reasons,
        results=results,
    )
