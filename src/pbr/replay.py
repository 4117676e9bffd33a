"""Replay: re-run a recorded decision from the family record and show it is identical.

A decision records the library version and hashes of its rules and input (`Decision.provenance`).
`replay` rebuilds the rule set from the decision's programme and interpretations, re-evaluates
the family on the decision's date and compares the two, field by field.

>>> import pbr
>>> from datetime import date
>>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
>>> recorded = pbr.evaluate(family, as_of=date(2013, 6, 30))
>>> replay(recorded, family).identical
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pbr.decisions import Decision
from pbr.plans import OutcomePlan
from pbr.records import Family

__all__ = ["Replay", "replay"]


@dataclass(frozen=True, slots=True)
class Replay:
    """The outcome of a replay: identical, or the differences and what changed underneath."""

    family_id: str
    identical: bool
    differences: tuple[str, ...]
    changed: tuple[str, ...]
    """Which of ``library version``, ``rules``, ``input`` differ from the recorded provenance."""

    def describe(self) -> str:
        """One paragraph for people."""
        if self.identical:
            return f"{self.family_id}: identical"
        lines = [f"{self.family_id}: differs ({', '.join(self.changed) or 'same provenance'})"]
        lines += [f"  {d}" for d in self.differences]
        return "\n".join(lines)


def replay(recorded: Decision, family: Family, plan: OutcomePlan | None = None) -> Replay:
    """Re-evaluate `family` as `recorded` was evaluated, and compare."""
    from pbr.engine import evaluate
    from pbr.rules import RULE_SETS

    base = next(r for r in RULE_SETS if r.programme == recorded.programme)
    rules = base.with_interpretations(**recorded.interpretations)
    fresh = evaluate(family, as_of=recorded.as_of, rules=rules, plan=plan)
    old, new = recorded.model_dump(mode="json"), fresh.model_dump(mode="json")
    differences = tuple(_diff(old, new, ""))
    changed: list[str] = []
    if recorded.provenance and fresh.provenance:
        was, now = recorded.provenance, fresh.provenance
        if was.pbr_version != now.pbr_version:
            changed.append(f"library version {was.pbr_version} -> {now.pbr_version}")
        if was.rules_hash != now.rules_hash:
            changed.append("rules")
        if was.input_hash != now.input_hash:
            changed.append("input")
    return Replay(recorded.family_id, not differences, differences, tuple(changed))


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
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]
