"""Continuous employment, the result every programme shares (phase1-spec §4, clarification 9).

An adult on an out-of-work benefit on the attachment day, in a run of work that started on or
after attachment and has lasted the weeks required (26 for JSA, else 13, interpretation
`employment_weeks`) by `as_of`. Whether the result applies to a family at all is the
programme's call (`applies`); the test itself is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pbr._dates import add_years
from pbr._parts import trusted_reason
from pbr.programmes._kernel import Verdict
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Compared, Reason
    from pbr.records import EmploymentSpell, Family

__all__ = ["continuous_employment", "runs"]

RULE = "results.continuous_employment"


def runs(spells: Iterable[EmploymentSpell], as_of: date) -> list[tuple[date, date | None]]:
    """Merge spells that overlap or touch into continuous runs (clarification 9)."""
    merged: list[tuple[date, date | None]] = []
    for spell in sorted((s for s in spells if s.start <= as_of), key=lambda s: s.start):
        if merged:
            start, end = merged[-1]
            if end is None or spell.start <= end + timedelta(days=1):
                merged[-1] = (
                    start,
                    None if end is None or spell.end is None else max(end, spell.end),
                )
                continue
        merged.append((spell.start, spell.end))
    return merged


def _benefits_at_attachment(family: Family, rules: RuleSet) -> dict[str, set[str]]:
    """Adults on an out-of-work benefit on the attachment day, with the benefits they were on."""
    attached, adult = family.attached_on, rules.number("adult_age")
    born: dict[str, date] | None = None
    found: dict[str, set[str]] = {}
    for s in family.benefit_spells:
        if s.start <= attached and (s.end is None or s.end >= attached):
            if born is None:  # built only for a family with a spell running on the day
                born = family.member_birthdays()
            # an adult on the day: it is on or after the birthday of the adult age
            if attached >= add_years(born[s.person_id], adult):
                found.setdefault(s.person_id, set()).add(s.benefit)
    return found


def continuous_employment(
    family: Family, rules: RuleSet, as_of: date, *, not_applicable: Reason | None = None
) -> Verdict:
    """Judge continuous employment; `not_applicable` says why the result does not apply."""
    if not_applicable is not None:
        return Verdict("not_applicable", (not_applicable,))
    attached = family.attached_on
    benefits = _benefits_at_attachment(family, rules)
    # The reasons are built plain (`trusted_reason`): their numbers are text and whole numbers
    # already, and the rule's source is looked up once for the family.
    source = rules.source_of_rule(RULE)
    on = attached.isoformat()
    if not benefits:
        return Verdict(
            "not_met",
            (
                trusted_reason(
                    "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT",
                    RULE,
                    source,
                    f"no adult was on an out-of-work benefit on {attached}",
                    {"attached_on": on},
                ),
            ),
        )
    interpretation = rules.interpretation("employment_weeks")
    dates = {"attached_on": on, "as_of": as_of.isoformat()}
    reasons: list[Reason] = []
    reached_dates: list[date] = []
    for person_id in sorted(benefits):
        on_benefits = benefits[person_id]
        weeks = weeks_required(rules, on_benefits)
        numbers: Compared = {
            "person": person_id,
            "benefits_at_attachment": ", ".join(sorted(on_benefits)),
            "weeks_required": weeks,
            **dates,
            "employment_weeks_interpretation": interpretation,
        }
        one, reached = _adult(family, as_of, person_id, weeks, numbers, source)
        reasons.append(one)
        if reached is not None:
            reached_dates.append(reached)
    met = any(r.code == "CONTINUOUS_EMPLOYMENT_REACHED" for r in reasons)
    return Verdict("met" if met else "not_met", tuple(reasons), min(reached_dates, default=None))


def weeks_required(rules: RuleSet, benefits: set[str]) -> int:
    """26 weeks after JSA, else 13 (interpretation `employment_weeks`), from the rule set."""
    jsa = "JSA" in benefits and rules.interpretation("employment_weeks") != "all_13"
    return rules.number("employment_weeks_jsa" if jsa else "employment_weeks_other")


def _adult(
    family: Family, as_of: date, person_id: str, weeks: int, numbers: Compared, source: str
) -> tuple[Reason, date | None]:
    """One adult's run of work: its reason, and the day the weeks are (or will be) reached.

    `numbers` are what its reason shows after the run's own (the adult, the weeks, the days).
    """
    attached = family.attached_on
    spells = [s for s in family.employment_spells if s.person_id == person_id]
    current = [(s, e) for s, e in runs(spells, as_of) if e is None or e >= as_of] if spells else []
    if not current:
        message = f"adult {person_id} is not in work on {as_of}"
        return trusted_reason("NO_CURRENT_EMPLOYMENT", RULE, source, message, numbers), None
    start = current[0][0]
    if start < attached:
        return (
            trusted_reason(
                "EMPLOYMENT_STARTED_BEFORE_ATTACHMENT",
                RULE,
                source,
                f"adult {person_id}'s current run of work started {start}, before attachment",
                {"run_start": start.isoformat(), **numbers},
            ),
            None,
        )
    reached = start + timedelta(weeks=weeks)
    worked = (as_of - start).days
    if as_of >= reached:
        code, message = (
            "CONTINUOUS_EMPLOYMENT_REACHED",
            f"adult {person_id} in work since {start}: {weeks} weeks reached on {reached}",
        )
    else:
        code, message = (
            "EMPLOYMENT_TOO_SHORT",
            f"adult {person_id} in work since {start}: {worked} days, {weeks} weeks reached on "
            f"{reached}",
        )
    return (
        trusted_reason(
            code,
            RULE,
            source,
            message,
            {
                "run_start": start.isoformat(),
                "days_worked": worked,
                "reached_on": reached.isoformat(),
                **numbers,
            },
        ),
        reached,
    )
