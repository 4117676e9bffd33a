"""Phase one's identification reads each fact once and equals the plain form it replaced."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from pbr.decisions import Identification, Reason, trusted
from pbr.periods import (
    TermCalendar,
    add_months,
    compulsory_school_age_bounds,
    school_age_born_from,
)
from pbr.programmes._kernel import reason
from pbr.programmes.phase_one import PROGRAMME
from pbr.programmes.phase_one._evidence import tally
from pbr.programmes.phase_one._identification import (
    PROBLEMS,
    _stated,
    identify,
    window,
)
from pbr.records import Family, SchoolTermRecord
from pbr.rules import RuleSet
from pbr.testing import family_records

from . import plain_evidence
from .builders import around
from .plain_evidence import Evidence, evidence

# --- the plain form: identification as pbr first wrote it (arrange the evidence, then judge) ---


def plain_identify(family: Family, rules: RuleSet) -> Identification:
    """`identify` as pbr wrote it before: the evidence arranged, then each rule applied."""
    arranged = Evidence.of(family)
    adult_from = arranged.adult_from(rules.number("adult_age"))
    crime = _plain_crime_asb(family, rules, adult_from)
    education = _plain_education(family, rules, arranged)
    work = _plain_work(family, rules, adult_from)
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
    eligible, verdict = _plain_eligibility(rules, len(used), local)
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


def _plain_crime_asb(family: Family, rules: RuleSet, adult_from: dict[str, date]) -> list[Reason]:
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


_FLAGS: list[tuple[str, Callable[[SchoolTermRecord], bool]]] = [
    ("permanently_excluded_terms", lambda r: r.permanently_excluded),
    ("alternative_provision_terms", lambda r: r.alternative_provision),
    ("off_roll_terms", lambda r: not r.on_roll),
]
"""The flags a row may set, as the reasons' numbers name the terms they are set in."""


def _plain_education(family: Family, rules: RuleSet, arranged: Evidence) -> list[Reason]:
    """A child excluded, off roll, in alternative provision or absent too often (clarif. 15)."""
    attached = family.attached_on
    terms = rules.term_calendar.complete_terms(
        attached, rules.number("terms_assessed"), strictly_before=True
    )
    absence = rules.number("absence_percent")
    exclusions = rules.number("fixed_term_exclusions")
    span = f"{terms[0].label} to {terms[-1].label}"
    # a council's own calendar: each reason names it, when it dates a term assessed here or
    # by the default dates
    read = {(t.academic_year, t.name) for t in terms} | {
        (t.academic_year, t.name)
        for t in TermCalendar().complete_terms(
            attached, rules.number("terms_assessed"), strictly_before=True
        )
    }
    named = rules.term_calendar.named
    if not read & set(rules.term_calendar.overrides):
        named = None
    calendar = {} if named is None else {"term_calendar": named}
    said = "" if named is None else f" ({named} term calendar)"
    problems: list[Reason] = []
    for person_id, rows, csa in arranged.children_in(terms, rules.number("adult_age")):
        possible, unauthorised, fixed, permanent, alternative, off_roll = tally(rows)
        absent = (csa or possible > 0) and 100 * unauthorised >= absence * possible
        # each flag set: the terms whose rows set it, oldest first
        flagged = {
            key: ", ".join(
                t.label
                for t in terms
                if any(
                    set_in(r) and (r.academic_year, r.term) == (t.academic_year, t.name)
                    for r in rows
                )
            )
            for key, set_in in _FLAGS
        }
        flag_terms = {key: labels for key, labels in flagged.items() if labels}
        flags: list[str] = []
        if permanent:
            flags.append(f"permanently excluded in {flag_terms['permanently_excluded_terms']}")
        if fixed >= exclusions:
            flags.append(f"{fixed} fixed-term exclusions")
        if alternative:
            flags.append(f"in alternative provision in {flag_terms['alternative_provision_terms']}")
        if off_roll:
            flags.append(f"not on a school roll in {flag_terms['off_roll_terms']}")
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
                    f"child {person_id}, {span}: {'; '.join(flags)}{said}",
                    child=person_id,
                    terms=span,
                    possible_sessions=possible,
                    unauthorised_absences=unauthorised,
                    fixed_term_exclusions=fixed,
                    absence_threshold_percent=absence,
                    exclusion_threshold=exclusions,
                    **flag_terms,
                    terms_with_rows=len(rows),
                    **calendar,
                )
            )
    return problems or [
        reason(
            "NO_EDUCATION_PROBLEM_AT_ENTRY",
            "identification.education",
            rules,
            f"no child met an education criterion over {span}{said}",
            terms=span,
            **calendar,
        )
    ]


def _plain_work(family: Family, rules: RuleSet, adult_from: dict[str, date]) -> list[Reason]:
    """An adult on an out-of-work benefit on the attachment day (one the programme counts)."""
    attached = family.attached_on
    counted = rules.codes("out_of_work_benefits")
    on_day = [
        s
        for s in family.benefit_spells
        if s.start <= attached
        and (s.end is None or s.end >= attached)
        and attached >= adult_from[s.person_id]
    ]
    on_benefit = sorted({s.person_id for s in on_day if s.benefit in counted})
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
    others: dict[str, set[str]] = {}
    for s in on_day:
        others.setdefault(s.person_id, set()).add(s.benefit)
    if others:
        named = "; ".join(f"{p} on {', '.join(sorted(b))}" for p, b in sorted(others.items()))
        return [
            reason(
                "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY",
                "identification.work",
                rules,
                f"no adult on an out-of-work benefit on {attached} ({named}: not an "
                f"out-of-work benefit in {rules.programme})",
                on=attached.isoformat(),
                not_counted=named,
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


def _plain_eligibility(rules: RuleSet, national: int, local: bool) -> tuple[bool, Reason]:
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


# --- the fast form equals it ---------------------------------------------------------------

OWN_CALENDAR = TermCalendar(
    {
        ("2012/13", "autumn"): (date(2012, 8, 31), date(2012, 12, 20)),  # starts on 31 August
        ("2013/14", "spring"): (date(2014, 1, 6), date(2014, 4, 4)),
        ("2011/12", "summer"): (date(2012, 4, 16), date(2012, 7, 20)),
        ("2013/14", "summer"): (date(2014, 4, 22), date(2014, 7, 22)),
    }
)
RULE_SETS = (
    PROGRAMME.rules,
    PROGRAMME.rules.with_term_calendar(OWN_CALENDAR),
    PROGRAMME.rules.with_interpretations(relevance="all_limbs"),
)


def _same(fast: Identification, plain: Identification) -> None:
    assert fast == plain
    # JSON as well: `==` holds 1 == True, the decision's text does not
    assert fast.model_dump_json() == plain.model_dump_json()
    assert fast.model_fields_set == plain.model_fields_set


@given(
    family_records(max_events=6),
    st.sampled_from(RULE_SETS),
    st.one_of(st.none(), st.lists(st.sampled_from(PROBLEMS), unique=True)),
    st.lists(st.sampled_from(["LD1", "LD2", "x{y}"]), unique=True, max_size=2),
)
def test_identification_is_the_plain_form(
    record: dict[str, object],
    rules: RuleSet,
    stated: list[str] | None,
    local: list[str],
) -> None:
    record = {**record, "local_discretion": local}
    if stated is not None:
        record["identified_for"] = stated
    family = Family.model_validate(record)
    _same(identify(family, rules), plain_identify(family, rules))


@st.composite
def edge_records(draw: st.DrawFn) -> tuple[RuleSet, dict[str, object]]:
    """A rule set, and a record whose facts sit on identification's edges: members turning
    five, sixteen or the adult age on a term's first day or the attachment day, rows in (and
    just before) the assessed terms, offences, ASB and benefit spells at the window's ends."""
    rules = draw(st.sampled_from(RULE_SETS))
    attached = draw(st.dates(min_value=date(2012, 4, 1), max_value=date(2015, 3, 31)))
    terms = rules.term_calendar.complete_terms(attached, 4, strictly_before=True)
    start = add_months(attached, -rules.number("identification_months"))
    adult = rules.number("adult_age")
    members: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    offences: list[dict[str, object]] = []
    spells: list[dict[str, object]] = []
    for i in range(draw(st.integers(1, 4))):
        person = f"P{i}"
        term = draw(st.sampled_from(terms))
        years, anchor = draw(
            st.sampled_from(
                [
                    (5, term.start),
                    (5, terms[-1].start),
                    (16, term.start),
                    (16, date(term.start.year, 9, 1)),
                    (16, date(term.start.year, 8, 31)),
                    (adult, term.start),
                    (adult, attached),
                    (40, attached),
                    (10, attached),
                ]
            )
        )
        born = draw(st.one_of(around(add_months(anchor, -12 * years)), st.just(date(2000, 2, 29))))
        members.append({"person_id": person, "date_of_birth": born.isoformat()})
        for row_term in terms if draw(st.booleans()) else ():
            if draw(st.booleans()):
                possible = draw(st.integers(0, 40))
                rows.append(
                    {
                        "person_id": person,
                        "academic_year": row_term.academic_year,
                        "term": row_term.name,
                        "possible_sessions": possible,
                        "unauthorised_absences": draw(st.integers(0, possible)),
                        "fixed_term_exclusions": draw(st.integers(0, 2)),
                        "permanently_excluded": draw(st.booleans()) and draw(st.booleans()),
                        "alternative_provision": draw(st.booleans()) and draw(st.booleans()),
                        "on_roll": draw(st.booleans()) or draw(st.booleans()),
                    }
                )
        grown = add_months(born, 12 * adult)
        for day in draw(st.lists(st.one_of(around(start), around(attached), around(grown)))):
            if day >= born:
                offences.append({"person_id": person, "date": day.isoformat()})
        for _ in range(draw(st.integers(0, 2))):  # two spells at once are allowed
            begun = min(draw(around(attached)), draw(around(grown)))
            end = draw(st.one_of(st.none(), around(attached), around(grown)))
            spells.append(
                {
                    "person_id": person,
                    "benefit": "JSA",
                    "start": max(begun, born).isoformat(),
                    "end": None if end is None or end < max(begun, born) else end.isoformat(),
                }
            )
    asb = [{"date": day.isoformat()} for day in draw(st.lists(around(start) | around(attached)))]
    return rules, {
        "family_id": "F1",
        "attached_on": attached.isoformat(),
        "members": draw(st.permutations(members)),
        "offences": offences,
        "asb_incidents": asb,
        "school_terms": rows,
        "benefit_spells": draw(st.permutations(spells)),
        "local_discretion": draw(st.lists(st.just("LD1"), max_size=1)),
    }


@settings(max_examples=400)
@given(edge_records())
def test_identification_on_the_edges_is_the_plain_form(
    drawn: tuple[RuleSet, dict[str, object]],
) -> None:
    rules, record = drawn
    family = Family.model_validate(record)
    _same(identify(family, rules), plain_identify(family, rules))


def _education_reasons(family: Family, rules: RuleSet) -> list[tuple[str, object]]:
    fast = identify(family, rules)
    _same(fast, plain_identify(family, rules))
    return [(r.code, r.compared.get("child")) for r in fast.reasons if "EDUCATION" in r.code]


def test_a_term_starting_on_the_last_day_of_school_age_counts() -> None:
    # sixteen in 2011/12: of compulsory school age to 31 August 2012, the day the council's
    # 2012/13 autumn term starts (the window's earliest term for an attachment in October 2013)
    family = Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": "2013-10-01",
            "members": [{"person_id": "C1", "date_of_birth": "1996-08-31"}],
        }
    )
    own = PROGRAMME.rules.with_term_calendar(OWN_CALENDAR)
    assert _education_reasons(family, own) == [("EDUCATION_PROBLEM_AT_ENTRY", "C1")]
    assert _education_reasons(family, PROGRAMME.rules) == [("NO_EDUCATION_PROBLEM_AT_ENTRY", None)]
    # the windows of both calendars are kept apart, whichever is asked for first
    assert window(own, family.attached_on).starts[0] == date(2012, 8, 31)
    assert window(PROGRAMME.rules, family.attached_on).starts[0] == date(2012, 9, 1)
    assert _education_reasons(family, own) == [("EDUCATION_PROBLEM_AT_ENTRY", "C1")]


def test_children_are_assessed_in_person_id_order() -> None:
    family = Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": "2013-10-01",
            "members": [
                {"person_id": pid, "date_of_birth": "2004-01-01"} for pid in ("C3", "C1", "C2")
            ],
        }
    )
    assert _education_reasons(family, PROGRAMME.rules) == [
        ("EDUCATION_PROBLEM_AT_ENTRY", child) for child in ("C1", "C2", "C3")
    ]


@given(family_records())
def test_arranged_evidence_keeps_no_family_alive(record: dict[str, object]) -> None:
    family = Family.model_validate(record)  # hypothesis holds what it draws: build our own
    assert evidence(family) is evidence(family)
    alive = weakref.ref(family)
    del family
    gc.collect()
    assert alive() is None
    assert plain_evidence._last is None


DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))


@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2099, 12, 31)), st.integers(-800, 800))
def test_school_age_born_from_is_the_end_of_school_age(day: date, offset: int) -> None:
    born = date.fromordinal(add_months(day, -12 * 17).toordinal() + offset)  # near the edge
    assert (compulsory_school_age_bounds(born)[1] >= day) == (born >= school_age_born_from(day))
