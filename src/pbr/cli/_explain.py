"""``pbr explain``: one family's working paper."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pbr.cli._options import (
    add_record_size_option,
    add_rule_options,
    evaluation_date,
    load_plans,
    rule_sets_for,
)
from pbr.engine import evaluate
from pbr.errors import OutsideProgramme
from pbr.io import DEFAULT_MAX_RECORD_BYTES, read_numbered

if TYPE_CHECKING:
    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    """Register ``pbr explain``."""
    ex = sub.add_parser("explain", help="print the working paper for one family")
    ex.add_argument("file")
    ex.add_argument("family_id")
    ex.add_argument("--as-of", type=evaluation_date, required=True)
    add_rule_options(ex)
    add_record_size_option(ex)
    ex.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr explain``."""
    return _explain(
        args.file,
        args.family_id,
        args.as_of,
        args.interpretation,
        out,
        load_plans(args.plan),
        args.max_record_bytes,
    )


def _explain(
    path: str,
    family_id: str,
    as_of: date,
    choices: list[tuple[str, str]],
    out: TextIO,
    plans: dict[str, OutcomePlan] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> int:
    from pbr.io import Rejection

    pick = rule_sets_for(choices)
    plans = plans or {}
    if Path(path).is_dir() or path.lower().endswith(".xlsx"):
        from pbr.tables import read_tables

        found: Iterable[Family | Rejection] = read_tables(path).families()
    else:
        found = (item for _, _, item in read_numbered(path, max_record_bytes=max_record_bytes))
    for item in found:
        if item.family_id != family_id:
            continue
        if isinstance(item, Rejection):
            print(item.describe(), file=sys.stderr)
            return 1
        try:
            rules = pick(item)
            decision = evaluate(item, as_of=as_of, rules=rules, plan=plans.get(rules.programme))
        except OutsideProgramme as exc:
            print(f"pbr: {exc}", file=sys.stderr)
            return 1
        out.write(decision.explain())
        return 0
    print(f"pbr: no family {family_id!r} in {path}", file=sys.stderr)
    return 2
