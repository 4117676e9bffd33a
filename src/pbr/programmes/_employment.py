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

__all__ = [
    "benefits_at_attachment",
    "continuous_employment",
    "not_counted",
    "out_of_work_benefits",
    "runs",
]

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


def out_of_work_benefits(rules: RuleSet) -> frozenset[str] | None:
    """The benefits that count as out of work (phase one: not UC); None: every benefit counts.

    None only for a rule set of a user's own that does not list them (`out_of_work_benefits`).
    """
    return rules._derived(_BENEFITS_KEY, lambda: _benefits_listed(rules))


_BENEFITS_KEY = ("employment.out_of_work_benefits",)


def _benefits_listed(rules: RuleSet) -> frozenset[str] | None:
    if "out_of_work_benefits" not in rules.parameters:
        return None
    return rules.codes("out_of_work_benefits")


def benefits_at_attachment(
    family: Family, rules: RuleSet
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Adults on an out-of-work benefit on the attachment day, with the benefits they were on.

    Second, adults on the day only on benefits the programme does not count (phase one's UC):
    their reasons name them, so a spell that made no difference is seen not to.
    """
    attached, adult = family.attached_on, rules.number("adult_age")
    counted = out_of_work_benefits(rules)
    born: dict[str, date] | None = None
    found: dict[str, set[str]] = {}
    other: dict[str, set[str]] = {}
    for s in family.benefit_spells:
        if s.start <= attached and (s.end is None or s.end >= attached):
            if born is None:  # built only for a family with a spell running on the day
                born = family.member_birthdays()
            # an adult on the day: it is on or after the birthday of the adult age
            if attached >= add_years(born[s.person_id], adult):
                into = found if counted is None or s.benefit in counted else other
                into.setdefault(s.person_id, set()).add(s.benefit)
    for person_id in found:
        other.pop(person_id, None)
    return found, other


def not_counted(other: dict[str, set[str]], programme: str) -> tuple[str, str]:
    """A message tail and a compared value naming benefits that do not count: ``A1 on UC``."""
    named = "; ".join(f"{p} on {', '.join(sorted(b))}" for p, b in sorted(other.items()))
    return f" ({named}: not an out-of-work benefit in {programme})", named


def continuous_employment(
    family: Family, rules: RuleSet, as_of: date, *, not_applicable: Reason | None = None
) -> Verdict:
    """Judge continuous employment; `not_applicable` says why the result does not apply."""
    if not_applicable is not None:
        return Verdict("not_applicable", (not_applicable,))
    attached = family.attached_on
    benefits, other = benefits_at_attachment(family, rules)
    # The reasons are built plain (`trusted_reason`): their numbers are text and whole numbers
    # already, and the rule's source is looked up once for the family.
    source = rules.source_of_rule(RULE)
    on = attached.isoformat()
    if not benefits:
        message = f"no adult was on an out-of-work benefit on {attached}"
        compared: Compared = {"attached_on": on}
        if other:
            tail, compared["not_counted"] = not_counted(other, rules.programme)
            message += tail
        return Verdict(
            "not_met",
            (trusted_reason("NO_ADULT_ON_BENEFIT_AT_ATTACHMENT", RULE, source, message, compared),),
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


def _run_end(spells: list[EmploymentSpell], start: date) -> date:
    """The last day of the run starting `start`, spells recorded after `as_of` included."""
    return next(e for s, e in runs(spells, date.max) if s == start) or date.max


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
    start, end = current[0]
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
    compared: Compared = {
        "run_start": start.isoformat(),
        "days_worked": worked,
        "reached_on": reached.isoformat(),
    }
    if as_of >= reached:
        code, message = (
            "CONTINUOUS_EMPLOYMENT_REACHED",
            f"adult {person_id} in work since {start}: {weeks} weeks reached on {reached}",
        )
        return trusted_reason(code, RULE, source, message, {**compared, **numbers}), reached
    last = None if end is None else _run_end(spells, start)
    # the weeks are counted as days after the start (reached `weeks` × 7 days after it), so
    # the days shown are too: as_of − start, the start day itself not one of them
    needed = (reached - start).days
    if last is not None and last < reached:  # the run recorded ends first: it never reaches
        message = (
            f"adult {person_id} in work since {start}: {worked} days after the start; the run "
            f"ends on {last}, before {weeks} weeks ({needed} days after the start) would be "
            f"reached on {reached}"
        )
        compared["run_end"] = last.isoformat()
        return trusted_reason(
            "EMPLOYMENT_TOO_SHORT", RULE, source, message, {**compared, **numbers}
        ), None
    message = (
        f"adult {person_id} in work since {start}: {worked} days after the start; {weeks} weeks "
        f"({needed} days after the start) would be reached on {reached}"
    )
    return trusted_reason(
        "EMPLOYMENT_TOO_SHORT", RULE, source, message, {**compared, **numbers}
    ), reached
