"""``pbr audit``, ``pbr ledger`` and ``pbr replay``: the auditor's commands."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.audit._verify import Verification
    from pbr.records import Family, Payment

__all__ = ["add_audit_commands", "ledger_payments", "run_audit", "run_ledger", "run_replay"]


def add_audit_commands(sub: Any, date_type: Any) -> None:
    """Register ``audit``, ``ledger`` and ``replay`` on the CLI's subparsers."""
    from pbr.cli import _choice

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
    au.add_argument(
        "--fraction", metavar="F", help="draw this fraction of each stratum instead (e.g. 0.1)"
    )
    au.add_argument("--seed", default="0", help="sample seed (any text; default 0)")
    au.add_argument(
        "--strata",
        default="kind",
        metavar="FIELDS",
        help="comma-separated claim fields to stratify the sample by (default kind)",
    )
    au.add_argument(
        "--interpretation",
        type=_choice,
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="the interpretations the council claimed under (repeatable)",
    )
    au.add_argument(
        "--plan", action="append", default=[], metavar="FILE", help="the council's outcome plan"
    )
    au.add_argument("--report", metavar="FILE", help="write .html, .md, .csv or .xlsx")

    le = sub.add_parser("ledger", help="the tamper-evident payments ledger (SQLite)")
    le_sub = le.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    for name, text in (
        ("verify", "check the hash chain; name the first bad entry"),
        ("export", "write every entry to a CSV file"),
        ("import", "append the rows of a CSV file (all or nothing)"),
        ("append", "append one payment"),
    ):
        action = le_sub.add_parser(name, help=text)
        action.add_argument("db")
        if name in ("export", "import"):
            action.add_argument("csv")
    append = le_sub.choices["append"]
    for option in ("family-id", "kind", "amount", "claim-id", "rules-version"):
        append.add_argument(f"--{option}", required=True)
    append.add_argument("--paid-on", type=date_type, required=True)

    rp = sub.add_parser("replay", help="re-run recorded decisions and show they are identical")
    rp.add_argument("decisions", help="decisions as JSON Lines (pbr evaluate --format json)")
    rp.add_argument(
        "--families", required=True, action="append", metavar="FILE", help="the family records"
    )
    rp.add_argument("--plan", action="append", default=[], metavar="FILE")
    rp.add_argument("--ledger", metavar="DB", help="the ledger the decisions were made with")


def ledger_payments(path: str) -> dict[str, list[Payment]]:
    """The ledger's payments by family (for ``evaluate --ledger``); a bad ledger is unreadable."""
    from pbr.io import UnreadableFile
    from pbr.ledger import Ledger, LedgerError

    try:
        ledger = Ledger(path, create=False)
        verdict = ledger.verify()
    except LedgerError as exc:
        raise UnreadableFile(str(exc)) from None
    if not verdict.ok:
        raise UnreadableFile(
            f"ledger {path} is broken at entry {verdict.first_bad}: {verdict.why} "
            "(pbr ledger verify)"
        )
    return {family: list(paid) for family, paid in ledger.history().items()}


def _families(paths: list[str]) -> dict[str, Family]:
    from pbr.io import read_records
    from pbr.records import Family

    found: dict[str, Family] = {}
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
    from pbr.cli import _plans, _rules_for

    pick = _rules_for(args.interpretation)
    plans = _plans(args.plan)
    history = ledger_payments(args.ledger) if args.ledger else None
    families = _families(args.families)
    claims, rejections = audit.read_claims(args.claims)
    result = audit.verify(
        claims,
        families,
        as_of=args.as_of,
        history=history,
        rejections=rejections,
        rules_for=pick,
        plans=plans,
    )
    drawn = None
    if args.sample is not None or args.fraction is not None:
        strata = tuple(s.strip() for s in args.strata.split(",") if s.strip())
        try:
            drawn = audit.sample(
                claims, size=args.sample, fraction=args.fraction, seed=args.seed, strata=strata
            )
        except ValueError as exc:
            print(f"pbr: sample: {exc}", file=sys.stderr)
            return 2
    for r in rejections:
        print(r.describe(), file=sys.stderr)
    _print_audit(result, drawn, out)
    if args.report:
        audit.write_report(result, args.report, sample=drawn, sources=[args.claims, *args.families])
        print(f"report written to {args.report}", file=sys.stderr)
    return 1 if result.exceptions or rejections else 0


def _print_audit(result: Verification, drawn: Any, out: TextIO) -> None:
    out.write(
        f"{'kind':24} {'claims':>6} {'flagged':>7} {'claimed':>12} {'verified':>12} "
        f"{'over':>12} {'under':>10}\n"
    )
    for row in result.reconciliation():
        out.write(
            f"{row['kind']:24} {row['claims']:>6} {row['flagged']:>7} "
            f"{format_gbp(row['claimed']):>12} {format_gbp(row['verified']):>12} "
            f"{format_gbp(row['over_claimed']):>12} {format_gbp(row['under_claimed']):>10}\n"
        )
    missed: Decimal = sum((m.amount for m in result.missed), ZERO)
    out.write(
        f"\nexceptions: {len(result.exceptions)}; malformed rows: {len(result.rejections)}; "
        f"missed claims: {len(result.missed)} worth {format_gbp(missed)}"
        f" (as of {result.as_of})\n"
    )
    for check in result.exceptions:
        c = check.claim
        out.write(f"  row {c.row} {c.claim_id} {c.family_id} {c.kind}: {' '.join(check.codes)}\n")
    for family_id, why in result.unevaluated:
        out.write(f"  family {family_id} not evaluated: {why}\n")
    if drawn is not None:
        out.write(f"sample: {' '.join(c.claim_id for c in drawn.claims)}\n")


def run_ledger(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr ledger verify|export|import|append``: 0 on success, 1 broken, 2 refused."""
    from pbr.ledger import Entry, Ledger, LedgerError

    command = args.ledger_command
    try:
        ledger = Ledger(args.db, create=command in ("import", "append"))
        if command == "verify":
            verdict = ledger.verify()
            if verdict.ok:
                out.write(
                    f"ledger {args.db}: {verdict.entries} entries, chain intact\n"
                    f"head {verdict.head}\n"
                )
                return 0
            out.write(f"ledger {args.db}: BROKEN at entry {verdict.first_bad}: {verdict.why}\n")
            return 1
        if command == "export":
            n = ledger.export_csv(args.csv)
            out.write(f"exported {n} entries to {args.csv}\n")
        elif command == "import":
            n = ledger.import_csv(args.csv)
            out.write(f"imported {n} entries into {args.db}\n")
        else:
            entry = Entry(
                args.family_id,
                args.kind,
                _amount(args.amount),
                args.paid_on,
                args.claim_id,
                args.rules_version,
            )
            ledger.append([entry])
            out.write(f"appended {entry.claim_id} to {args.db}\n")
    except (LedgerError, OSError) as exc:
        print(f"pbr: {exc}", file=sys.stderr)
        return 2
    return 0


def _amount(text: str) -> Decimal:
    from pbr.ledger import LedgerError
    from pbr.money import money

    try:
        return money(text)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise LedgerError(f"amount = {text!r}: {exc}") from None


def run_replay(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr replay``: 0 when every decision is reproduced, 1 otherwise."""
    from pydantic import ValidationError

    from pbr.cli import _plans
    from pbr.decisions import Decision
    from pbr.replay import ReplayError, replay

    families = _families(args.families)
    plans = _plans(args.plan)
    history = ledger_payments(args.ledger) if args.ledger else {}
    same = differ = 0
    with open(args.decisions, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                recorded = Decision.model_validate(json.loads(line))
            except (ValueError, ValidationError) as exc:
                out.write(f"{args.decisions}:{number}: not a decision: {str(exc)[:200]}\n")
                differ += 1
                continue
            family = families.get(recorded.family_id)
            if family is None:
                out.write(f"{recorded.family_id}: no family record\n")
                differ += 1
                continue
            if recorded.family_id in history:
                paid = (*family.payments, *history[recorded.family_id])
                family = family.model_copy(update={"payments": paid})
            try:
                result = replay(recorded, family, plans.get(recorded.programme))
            except ReplayError as exc:
                out.write(f"{args.decisions}:{number}: {exc}\n")
                differ += 1
                continue
            same += result.identical
            differ += not result.identical
            if not result.identical or result.changed:
                out.write(result.describe() + "\n")
    out.write(f"replayed {same + differ}: {same} identical, {differ} different\n")
    return 1 if differ else 0
