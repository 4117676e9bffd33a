"""``pbr audit``, ``pbr ledger`` and ``pbr replay``: the auditor's commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from pbr.money import format_gbp

__all__ = ["add_audit_commands", "ledger_payments", "run_audit", "run_ledger", "run_replay"]


def add_audit_commands(sub: Any, date_type: Any) -> None:
    """Register ``audit``, ``ledger`` and ``replay`` on the CLI's subparsers."""
    au = sub.add_parser("audit", help="verify a claim file against the families' evidence")
    au.add_argument("claims", help="claim file: CSV, JSON or JSON Lines")
    au.add_argument(
        "--families",
        required=True,
        action="append",
        metavar="FILE",
        help="family records, JSON or JSON Lines (repeatable)",
    )
    au.add_argument("--ledger", metavar="DB", help="payments ledger used as payment history")
    au.add_argument("--as-of", type=date_type, help="date for missed claims (default: last claim)")
    au.add_argument("--sample", type=int, metavar="N", help="draw a spot-check sample of N claims")
    au.add_argument("--seed", default="0", help="sample seed (any text)")
    au.add_argument("--report", metavar="FILE", help="write .html, .md, .csv or .xlsx")

    le = sub.add_parser("ledger", help="the tamper-evident payments ledger (SQLite)")
    le_sub = le.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    for name, text in (
        ("verify", "check the hash chain; name the first bad entry"),
        ("export", "write every entry to a CSV file"),
        ("import", "append the rows of a CSV file (all or nothing)"),
    ):
        action = le_sub.add_parser(name, help=text)
        action.add_argument("db")
        if name != "verify":
            action.add_argument("csv")

    rp = sub.add_parser("replay", help="re-run recorded decisions and show they are identical")
    rp.add_argument("decisions", help="decisions as JSON Lines (pbr evaluate --format json)")
    rp.add_argument(
        "--families", required=True, action="append", metavar="FILE", help="the family records"
    )
    rp.add_argument("--plan", action="append", default=[], metavar="FILE")


def ledger_payments(path: str) -> dict[str, list[Any]]:
    """The ledger's entries by family, as payments (for ``evaluate --ledger``)."""
    from pbr.ledger import Ledger
    from pbr.records import Payment

    return {
        family: [
            Payment(kind=e.kind, amount=e.amount, paid_on=e.paid_on, claim_id=e.claim_id)
            for e in entries
        ]
        for family, entries in Ledger(path).payments().items()
    }


def _families(paths: list[str]) -> dict[str, Any]:
    from pbr.io import read_records
    from pbr.records import Family

    found: dict[str, Any] = {}
    for path in paths:
        for item in read_records(path):
            if isinstance(item, Family):
                found[item.family_id] = item
            else:
                print(item.describe(), file=sys.stderr)
    return found


def run_audit(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr audit``; exit 0 when every claim verifies, 1 when any is flagged or malformed."""
    from pbr import audit
    from pbr.ledger import Ledger

    families = _families(args.families)
    claims, rejections = audit.read_claims(args.claims)
    history = [e for _, e in Ledger(args.ledger).entries()] if args.ledger else []
    result = audit.verify(
        claims, families, as_of=args.as_of, history=history, rejections=rejections
    )
    drawn = audit.sample(claims, size=args.sample, seed=args.seed) if args.sample else None
    for r in rejections:
        print(r.describe(), file=sys.stderr)
    out.write(
        f"{'kind':24} {'claims':>6} {'flagged':>7} {'claimed':>14} {'verified':>14} "
        f"{'over':>12} {'under':>12}\n"
    )
    for row in result.reconciliation():
        out.write(
            f"{row['kind']:24} {row['claims']:>6} {row['flagged']:>7} "
            f"{format_gbp(row['claimed']):>14} {format_gbp(row['verified']):>14} "
            f"{format_gbp(row['over_claimed']):>12} {format_gbp(row['under_claimed']):>12}\n"
        )
    out.write(
        f"\nexceptions: {len(result.exceptions)}; malformed rows: {len(rejections)}; "
        f"missed claims: {len(result.missed)} worth "
        f"{format_gbp(sum((m.amount for m in result.missed), start=_zero()))}\n"
    )
    for check in result.exceptions:
        out.write(
            f"  {check.claim.claim_id} {check.claim.family_id} {check.claim.kind}: "
            f"{' '.join(f.code for f in check.flags)}\n"
        )
    if drawn is not None:
        out.write(f"sample ({drawn.method}): {' '.join(c.claim_id for c in drawn.claims)}\n")
    if args.report:
        audit.write_report(result, args.report, sample=drawn, sources=[args.claims, *args.families])
        print(f"report written to {args.report}", file=sys.stderr)
    return 1 if result.exceptions or rejections else 0


def _zero() -> Any:
    from pbr.money import ZERO

    return ZERO


def run_ledger(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr ledger verify|export|import``."""
    from pbr.ledger import Ledger, LedgerError

    ledger = Ledger(args.db)
    if args.ledger_command == "verify":
        verdict = ledger.verify()
        if verdict.ok:
            out.write(f"ledger {args.db}: {verdict.entries} entries, chain intact\n")
            return 0
        out.write(f"ledger {args.db}: BROKEN at entry {verdict.first_bad}: {verdict.why}\n")
        return 1
    try:
        if args.ledger_command == "export":
            n = ledger.export_csv(args.csv)
            out.write(f"exported {n} entries to {args.csv}\n")
        else:
            n = ledger.import_csv(args.csv)
            out.write(f"imported {n} entries into {args.db}\n")
    except LedgerError as exc:
        print(f"pbr: {exc}", file=sys.stderr)
        return 2
    return 0


def run_replay(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr replay``: 0 when every decision is reproduced, 1 otherwise."""
    from pbr.decisions import Decision
    from pbr.plans import load_plan
    from pbr.replay import replay

    families = _families(args.families)
    plans: dict[str, Any] = {p.programme: p for p in map(load_plan, args.plan)}
    same = differ = 0
    with open(args.decisions, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            recorded = Decision.model_validate(json.loads(line))
            family = families.get(recorded.family_id)
            if family is None:
                out.write(f"{recorded.family_id}: no family record\n")
                differ += 1
                continue
            result = replay(recorded, family, plans.get(recorded.programme))
            same += result.identical
            differ += not result.identical
            if not result.identical:
                out.write(result.describe() + "\n")
    out.write(f"replayed {same + differ}: {same} identical, {differ} different\n")
    return 1 if differ else 0
