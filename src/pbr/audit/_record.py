"""Reading an audit's CSV report back as payments (``pbr ledger record``), checked row by row.

The report is a file anyone can edit. Every claim row is held to what the report writer
(`pbr.audit._verify.ClaimCheck.as_row`) guarantees between its own columns; one row that does
not hold refuses the whole file, naming the line and the column. A report edited consistently
(a claim moved to another family, an amount and its allowance raised together) cannot be told
from the report alone: only auditing the claims again against the evidence shows it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from pbr.audit._verify import PARTIAL_FLAGS, UNJUDGED_FLAG

if TYPE_CHECKING:
    from pbr.ledger import Entry

__all__ = ["payments_due"]

_MONEY = ("amount", "allowed", "verified", "over_claimed", "unverified", "under_claimed")
_NEEDED = (
    "claim_id",
    "family_id",
    "kind",
    "claimed_on",
    *_MONEY,
    "status",
    "flags",
    "rules_version",
)
_AMOUNT = re.compile(r"(0|[1-9][0-9]*)\.[0-9]{2}")
"""Money as the report writes it: pounds with exactly two places, no sign."""
_ZERO = Decimal("0.00")


def payments_due(
    path: str | Path, *, paid_on: date, partial: bool = False
) -> tuple[list[Entry], list[str]]:
    """`pbr.audit.payments_from_report`'s entries, and the claim ids claimed after `paid_on`.

    Raises:
        pbr.ledger.LedgerError: the file cannot be read, is not an audit CSV report, or a row
            does not hold together (the line and the column are named); nothing is returned.

    """
    from pbr.ledger import Entry, LedgerError
    from pbr.output import restore

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read audit report {path}: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise LedgerError(f"{path}: line 1: column {twice[0]!r} is named more than once")
    missing = [c for c in _NEEDED if c not in header]
    if missing:
        raise LedgerError(f"{path} is not an audit CSV report (pbr audit --report): no {missing}")
    entries = []
    later: list[str] = []
    last = reader.line_num
    for row in reader:
        first, last = last + 1, reader.line_num
        where = f"{path}: line {first}" if first == last else f"{path}: lines {first}-{last}"
        if not row:
            continue
        if len(row) != len(header):
            raise LedgerError(f"{where}: {len(row)} values for {len(header)} columns")
        values = {c: restore(v) for c, v in zip(header, row, strict=True)}
        status = values["status"]
        if status in ("mus", "family_rejected"):  # a sample's figures, a family record: no claim
            continue
        if status not in ("verified", "flagged", "malformed"):
            raise LedgerError(
                f"{where}: status = {status!r}: not verified, flagged, malformed, "
                "family_rejected or mus"
            )
        if status == "malformed":
            if values["verified"] != "0.00":
                raise _changed(
                    where, "verified", values["verified"], "a malformed row verifies 0.00"
                )
            continue
        money = _amounts(values, where)
        _consistent(values, money, where)
        claimed_on = _date(values["claimed_on"], where)
        flags = values["flags"].split()
        cut_only = bool(flags) and set(flags) <= PARTIAL_FLAGS
        if status != "verified" and not (partial and cut_only):
            continue
        if money["verified"] == 0:
            continue
        if claimed_on > paid_on:  # it cannot have been paid before it was claimed
            later.append(values["claim_id"])
            continue
        entries.append(Entry.from_row(values, money["verified"], paid_on, where))
    return entries, later


def _changed(where: str, column: str, value: str, why: str) -> Exception:
    from pbr.ledger import LedgerError

    return LedgerError(f"{where}: {column} = {value!r}: {why}: the report was changed")


def _amounts(values: dict[str, str], where: str) -> dict[str, Decimal]:
    """The row's money columns, each as the report writes money (``1500.00``)."""
    found = {}
    for column in _MONEY:
        text = values[column]
        if not _AMOUNT.fullmatch(text):
            raise _changed(where, column, text, "not pounds with two decimal places")
        found[column] = Decimal(text)
    return found


def _consistent(values: dict[str, str], money: dict[str, Decimal], where: str) -> None:
    """Refuse a claim row whose columns do not hold together as the audit writes them.

    A claim with no flag is ``verified`` and verifies its whole amount, which is what the rules
    allow; a flagged claim verifies what the rules allow (at most its amount) only when every
    flag just cuts it (``AMOUNT_DIFFERS``, ``CAP_EXCEEDED``), else nothing; the rest of the
    amount is over-claimed (unverified, for a claim whose family's record was rejected), and
    what the rules allow above the amount is under-claimed.
    """
    status, flags = values["status"], values["flags"].split()
    if (status == "verified") != (not flags):
        shown = "verified with flags" if flags else "flagged with no flag"
        raise _changed(where, "status", status, f"{shown} ({values['flags']!r})")
    amount, allowed, verified = money["amount"], money["allowed"], money["verified"]
    cut_only = set(flags) <= PARTIAL_FLAGS
    if status == "verified" and allowed != amount:
        raise _changed(
            where,
            "allowed",
            values["allowed"],
            f"a verified claim is allowed its amount ({amount})",
        )
    due = min(amount, allowed) if cut_only else _ZERO
    if verified != due:
        raise _changed(
            where,
            "verified",
            values["verified"],
            f"amount {amount}, allowed {allowed} and flags {values['flags'] or '(none)'} verify "
            f"{due}",
        )
    unjudged = UNJUDGED_FLAG in flags
    expected = {
        "over_claimed": _ZERO if unjudged else amount - verified,
        "unverified": amount - verified if unjudged else _ZERO,
        "under_claimed": allowed - amount if cut_only and allowed > amount else _ZERO,
    }
    for column, value in expected.items():
        if money[column] != value:
            raise _changed(where, column, values[column], f"the row's amounts make it {value}")


def _date(text: str, where: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _changed(where, "claimed_on", text, "not a date (YYYY-MM-DD)") from None
