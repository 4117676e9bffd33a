"""``pbr rules``: every programme's rule set: parameters by year, interpretations, rules' sources."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any, TextIO

from pbr.money import format_gbp
from pbr.rules import RuleSet

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    """Register ``pbr rules``."""
    ru = sub.add_parser("rules", help="print every rule set: parameters, sources, interpretations")
    ru.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text to read, or JSON for a program (the same content)",
    )
    ru.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Print every rule set."""
    return _rules(args.format, out)


def _rules(fmt: str, out: TextIO) -> int:
    from pbr.programmes import programmes

    rule_sets = [p.rules for p in programmes()]
    if fmt == "json":
        out.write(json.dumps([_rules_json(r) for r in rule_sets], indent=2) + "\n")
        return 0
    for rules in rule_sets:
        out.write(_rules_text(rules))
    return 0


def _rules_json(rules: RuleSet) -> dict[str, object]:
    return {
        "programme": rules.programme,
        "title": rules.title,
        "version": rules.version,
        "spec": rules.spec,
        "attached_from": rules.attached_from.isoformat(),
        "attached_to": rules.attached_to.isoformat(),
        "parameters": {
            p.name: {
                "description": p.description,
                "unit": p.unit,
                "values": [
                    {
                        "year": str(v.year),
                        "value": str(v.value),
                        "source": list(v.source),
                        "status": v.status,
                    }
                    for v in p.values
                ],
            }
            for p in rules.parameters.values()
        },
        "interpretations": {
            i.id: {
                "description": i.description,
                "default": i.default,
                "values": dict(i.values),
                "source": i.source,
            }
            for i in rules.interpretations.values()
        },
        "rules": dict(rules.rule_sources),
    }


def _rules_text(rules: RuleSet) -> str:
    lines = [
        f"{rules.title} ({rules.rules_version}, {rules.spec})",
        f"Families attached {rules.attached_from} to {rules.attached_to}",
        "",
        "Parameters by financial year (value [source tags] status)",
    ]
    for p in rules.parameters.values():
        lines.append(f"  {p.name} ({p.unit}): {p.description}")
        for v in p.values:
            shown = format_gbp(v.value) if isinstance(v.value, Decimal) else str(v.value)
            lines.append(f"    from {v.year}: {shown}  [{v.source_text}] {v.status}")
    lines += ["", "Interpretations (default marked *)"]
    for i in rules.interpretations.values():
        lines.append(f"  {i.id}: {i.description}  [{i.source}]")
        for value, meaning in i.values.items():
            mark = "*" if value == i.default else " "
            lines.append(f"   {mark} {value}: {meaning}")
    lines += ["", "Rules and the sources their reasons cite"]
    lines += [f"  {rule}: [{cited}]" for rule, cited in rules.rule_sources.items()]
    return "\n".join(lines) + "\n"
