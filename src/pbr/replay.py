"""Replay: re-run a recorded decision from the family record and show it is identical.

A decision records the library version and hashes of its rules and input (`Decision.provenance`).
`replay` rebuilds the rule set from the decision's programme and interpretations, re-evaluates
the family on the decision's date and compares the two, field by field; when they differ, the
provenance says whether the library, the rules or the input changed.

>>> import pbr
>>> from datetime import date
>>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
>>> recorded = pbr.evaluate(family, as_of=date(2013, 6, 30))
>>> replay(recorded, family).identical
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pbr.errors import OutsideProgramme, PbrError

if TYPE_CHECKING:
    from datetime import date

    from pbr.decisions import Decision
    from pbr.plans import OutcomePlan
    from pbr.records import Family
    from pbr.rules import RuleSet

__all__ = ["Replay", "ReplayError", "replay"]


class ReplayError(PbrError, ValueError):
    """A recorded decision that cannot be replayed (another family, programme or interpretation).

    >>> issubclass(ReplayError, ValueError)
    True
    """


@dataclass(frozen=True, slots=True)
class Replay:
    r"""The outcome of a replay: identical, or the differences and what changed underneath.

    >>> Replay("F1", False, ("payable: '800.00' -> '0.00'",), ("input",)).describe()
    "F1: differs (input)\n  payable: '800.00' -> '0.00'"
    """

    family_id: str
    identical: bool
    differences: tuple[str, ...]
    """Each differing field as ``path: recorded -> now`` (provenance excluded)."""
    changed: tuple[str, ...]
    """Which of ``library version``, ``rules``, ``input`` differ from the recorded provenance.

    The recorded ``rules_hash`` covers the outcome plan too (phase two, Supporting Families):
    when it differs for a decision with a plan, the entry says which changed where replay can
    tell (``outcome plan A -> B``), else ``rules or outcome plan A (the rules_hash covers
    both)`` (`_rules_change`). A decision whose reasons name a council's term calendar that
    the rules replayed did not have says so (``term calendar: ...``)."""
    term_calendar: str | None = None
    """The council term calendar the recorded decision's reasons name, when the rules replayed
    had other dates (the default ones, or another calendar): give them with ``rules=``."""

    def describe(self) -> str:
        """For people: ``F1: identical``, or what differs and why.

        Each line printable (`printable`): a decisions file may have been altered, and its texts
        (a library version, say) must not draw lines of their own.
        """
        from pbr._terminal import printable

        if self.identical:
            note = f" (though {', '.join(self.changed)} changed)" if self.changed else ""
            return printable(f"{self.family_id}: identical{note}")
        why = ", ".join(self.changed) or (
            "same library, rules and input: the record was altered, or this pbr is a build "
            "that decides differently under the same version"
        )
        lines = [f"{self.family_id}: differs ({why})"]
        lines += [f"  {d}" for d in self.differences]
        return "\n".join(map(printable, lines))


def replay(
    recorded: Decision,
    family: Family,
    plan: OutcomePlan | None = None,
    *,
    ledger: Any = None,
    as_written: Mapping[str, Any] | None = None,
    rules: RuleSet | Mapping[str, RuleSet] | Callable[[Family], RuleSet] | None = None,
) -> Replay:
    """Re-evaluate `family` as `recorded` was evaluated (date, programme, interpretations).

    The decision is identical when every field but the provenance is the same. A decision made
    with a ledger's payments needs the same payments: pass the ledger (or its
    `pbr.history.PaymentHistory`) as `ledger`, merged as `pbr.evaluate` merges it
    (``pbr replay --ledger``). `as_written` is the decision as read from its file (parsed
    JSON): its values are compared exactly as written (``"800.0"`` or ``800`` is not
    ``"800.00"``), not as `recorded` holds them once validated.

    `rules` is the rule set the decision was made under, when it is not pbr's own: one with a
    council's term calendar (`pbr.rules.RuleSet.with_term_calendar`), which the decision names
    but cannot carry. Give a `~pbr.rules.RuleSet`, rule sets by programme, or a function
    picking a family's (as `pbr.audit.verify`'s `rules_for`); the decision's interpretations
    are applied to it. Without it, replay uses pbr's rules for the decision's programme, and a
    decision whose reasons name a council's term calendar is said to differ by its calendar.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> recorded = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> again = replay(recorded, family.model_copy(update={"employment_spells": ()}))
    >>> again.identical, again.changed, again.differences[0]
    (False, ('input',), "payable: '800.00' -> '700.00'")

    Raises:
        ReplayError: the family is not the decision's, no rule set has its programme, its
            rule set does not define an interpretation value it records or does not cover the
            family, its date is outside those pbr evaluates, or the decision has no provenance
            (nothing says what made it: it is not replayable), or `rules` gives a rule set of
            another programme. The message names the family, the field and its value.
        pbr.history.HistoryError: the record and the ledger disagree about a payment.

    """
    from pbr.engine import evaluate
    from pbr.rules import RULE_SETS

    if family.family_id != recorded.family_id:
        raise ReplayError(
            f"decision for {recorded.family_id!r} cannot be replayed with family {family.family_id!r}"
        )
    if recorded.provenance is None or (
        as_written is not None and not isinstance(as_written.get("provenance"), dict)
    ):
        raise ReplayError(
            f"decision for {recorded.family_id!r} has no provenance (the library version and "
            "the hashes of its rules and input): it is not replayable"
        )
    base = _given_rules(rules, recorded, family)
    if base is None:
        base = next((r for r in RULE_SETS if r.programme == recorded.programme), None)
    if base is None:
        known = ", ".join(r.programme for r in RULE_SETS)
        raise ReplayError(
            f"family {recorded.family_id!r}: programme = {recorded.programme!r}: no rule set "
            f"(this library has {known})"
        )
    said = _interpretation_problem(base, recorded.interpretations) or _date_problem(recorded.as_of)
    if said:
        raise ReplayError(f"family {recorded.family_id!r}: {said}")
    used = base.with_interpretations(**recorded.interpretations)
    try:
        fresh = evaluate(family, as_of=recorded.as_of, rules=used, plan=plan, ledger=ledger)
    except OutsideProgramme as exc:
        raise _outside(recorded, exc) from None
    old = (
        recorded.model_dump(mode="json", exclude={"provenance"})
        if as_written is None
        else {k: v for k, v in as_written.items() if k != "provenance"}
    )
    new = fresh.model_dump(mode="json", exclude={"provenance"})
    differences = tuple(_diff(old, new, ""))
    changed: list[str] = []
    calendar = _calendar_missed(recorded, used)
    if recorded.provenance and fresh.provenance:
        was, now = recorded.provenance, fresh.provenance
        if was.pbr_version != now.pbr_version:
            changed.append(f"library version {was.pbr_version} -> {now.pbr_version}")
        if was.rules_hash != now.rules_hash:
            changed.append(_rules_change(recorded, fresh, used, plan, calendar))
        if was.input_hash != now.input_hash:
            changed.append("input")
    return Replay(recorded.family_id, not differences, differences, tuple(changed), calendar)


def _given_rules(
    rules: RuleSet | Mapping[str, RuleSet] | Callable[[Family], RuleSet] | None,
    recorded: Decision,
    family: Family,
) -> RuleSet | None:
    """The rule set `replay` was given for `recorded` (None: pbr's own), of its programme."""
    from pbr.rules import RuleSet

    if rules is None:
        return None
    if isinstance(rules, RuleSet):
        given: RuleSet | None = rules
    elif isinstance(rules, Mapping):
        given = rules.get(recorded.programme)
    else:
        given = rules(family)
    if given is not None and given.programme != recorded.programme:
        raise ReplayError(
            f"family {recorded.family_id!r}: rules = {given.programme!r}: the decision's "
            f"programme is {recorded.programme!r}"
        )
    return given


def _calendar_missed(recorded: Decision, rules: RuleSet) -> str | None:
    """The term calendar `recorded`'s reasons name, when `rules` has other dates (else None)."""
    from pbr.decisions import term_calendar_named

    named = term_calendar_named(recorded)
    if named is None or named == rules.term_calendar.named:
        return None
    return named


def _rules_change(
    recorded: Decision,
    fresh: Decision,
    rules: RuleSet,
    plan: OutcomePlan | None,
    calendar: str | None = None,
) -> str:
    """What a changed ``rules_hash`` says changed: the term calendar, rules, outcome plan, or either.

    The hash folds the term calendar and the outcome plan in with the rules. A decision whose
    reasons name a council's term calendar (`calendar`) that `rules` does not have was made
    under other dates: that is named first. A decision records only the plan's id/version
    (``outcome_plan``). The rules are known unchanged when the recorded hash is that
    of today's rules with no plan given (pbr's example plan judged then); the plan is known
    changed when its id/version differs; else either may have changed.
    """
    from pbr.engine import rules_hash

    if calendar is not None:
        from pbr._terminal import printable

        now = rules.term_calendar.named
        used = "the default dates" if now is None else f"the term calendar {printable(now)!r}"
        return (
            f"term calendar: the decision was made under the term calendar "
            f"{printable(calendar)!r}; replay used {used} — replay it with that calendar "
            "(pbr replay --term-calendar FILE; from Python, rules=)"
        )
    was, now = recorded.outcome_plan, fresh.outcome_plan
    if was is None and now is None:  # phase one: no plan
        return "rules"
    from pbr.plans import example_plan

    example = example_plan(recorded.programme).label
    before, after = _plan_name(was, was == example), _plan_name(now, plan is None)
    assert recorded.provenance is not None  # replay refuses a decision without one
    if plan is not None and rules_hash(rules, None) == recorded.provenance.rules_hash:
        return f"outcome plan {before} -> {after} (the rules are unchanged)"
    if was != now:
        return (
            f"outcome plan {before} -> {after} (perhaps the rules too: the rules_hash covers both)"
        )
    return f"rules or outcome plan {after} (the rules_hash covers both)"


def _plan_name(label: str | None, example: bool) -> str:
    """A plan as replay names it: its id/version, saying when it is pbr's example plan."""
    if label is None:
        return "none"
    return f"pbr's example plan {label}" if example else label


def _interpretation_problem(rules: RuleSet, recorded: Mapping[str, str]) -> str:
    """The first recorded interpretation `rules` does not define, as ``path = value: why``, or "".

    >>> from pbr.rules import PHASE_ONE
    >>> _interpretation_problem(PHASE_ONE, {"rates_by": "moon"})[:52]
    "interpretations.rates_by = 'moon': not a value of tf"
    """
    for key, value in recorded.items():
        definition = rules.interpretations.get(key)
        where = f"interpretations.{key} = {value!r}"
        if definition is None:
            known = ", ".join(sorted(rules.interpretations))
            return f"{where}: {rules.programme} has no interpretation {key!r} (it has {known})"
        if value not in definition.values:
            valid = ", ".join(definition.values)
            return (
                f"{where}: not a value of {rules.programme}'s interpretation {key!r} "
                f"(valid: {valid})"
            )
    return ""


def _date_problem(as_of: date) -> str:
    """Why `as_of` is not a date pbr evaluates on, as ``as_of = value: why``, or "".

    >>> from datetime import date
    >>> _date_problem(date(2015, 3, 31)), _date_problem(date(1999, 1, 1))[:24]
    ('', "as_of = '1999-01-01': a ")
    """
    from pbr.periods import AS_OF_EARLIEST, LATEST_DATE

    if AS_OF_EARLIEST <= as_of <= LATEST_DATE:
        return ""
    return (
        f"as_of = {as_of.isoformat()!r}: a decision is made on a date from {AS_OF_EARLIEST} "
        f"to {LATEST_DATE}"
    )


def _outside(recorded: Decision, exc: OutsideProgramme) -> ReplayError:
    """The decision's rule set does not cover the family: named by the decision's programme.

    A payment of the record the programme does not pay is named by its own field already.
    """
    if exc.field is not None:
        return ReplayError(str(exc))
    said = str(exc).removeprefix(f"family {exc.family_id!r}: ")
    return ReplayError(f"family {recorded.family_id!r}: programme = {recorded.programme!r}: {said}")


def _diff(old: Any, new: Any, path: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            found += _diff(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found += _diff(a, b, f"{path}[{i}]")
        return found
    same = type(old) is type(new) and old == new  # 800 is not "800.00", nor 1.0 the number 1
    return [] if same else [f"{path}: {old!r} -> {new!r}"]
