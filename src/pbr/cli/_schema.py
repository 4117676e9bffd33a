"""``pbr schema``: the JSON Schemas of a family record, a decision, a rejection, a term calendar."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    """Register ``pbr schema``."""
    sc = sub.add_parser("schema", help="print the family record's JSON Schema")
    which = sc.add_mutually_exclusive_group()
    which.add_argument("--decision", action="store_true", help="the decision's JSON Schema instead")
    which.add_argument(
        "--rejection", action="store_true", help="the JSON Schema of a --rejections line"
    )
    which.add_argument(
        "--term-calendar",
        action="store_true",
        help="the JSON Schema of a --term-calendar file (in JSON)",
    )
    sc.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Print the schema asked for."""
    from pbr.schemas import decision_schema, family_schema, rejection_schema, term_calendar_schema

    pick = decision_schema if args.decision else family_schema
    pick = rejection_schema if args.rejection else pick
    pick = term_calendar_schema if args.term_calendar else pick
    out.write(json.dumps(pick(), indent=2) + "\n")
    return 0
