"""Reading an audit's CSV report back as payments (``pbr ledger record``), checked row by row.

The report is a file anyone can edit. Every claim row is held to what the report writer
(`pbr.audit._verify.ClaimCheck.as_row`) guarantees between its own columns; one row that does
not hold refuses the whole file, naming the line and the column. A report edited consistently
(a claim moved to another family, an amount and its allowance raised together) cannot be told
from the report alone: only auditing the claims again against the evidence shows it. That is the
re-check (`recheck`, ``pbr ledger record --claims --families``): the claims audited again, every
claim row of the report (and every malformed row) must be, column for column as text, the row
the audit writes, and the report must have exactly those rows.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from pbr.audit._verify import PARTIAL_FLAGS, UNJUDGED_FLAGS

if TYPE_CHECKING:
    from pbr.audit._verify import Verification
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
_NO_CLAIM = ("mus", "sample", "family_rejected", "family_not_evaluated")
"""The statuses of the report's rows that are no claim: a sample's, a family record's."""
_RECHECKED = ("verified", "flagged", "malformed")
"""The statuses of the rows the re-check holds to the audit: every row of the claim file."""


def payments_due(
    path: str | Path,
    *,
    paid_on: date,
    partial: bool = False,
    recheck: Verification | None = None,
) -> tuple[list[Entry], list[str]]:
    """`pbr.audit.payments_from_report`'s entries, and the claim ids claimed after `paid_on`.

    With `recheck` (the claims audited again), the report's claim and malformed rows must be
    exactly the rows that audit writes (`recheck_rows`).

    The report is read to a limit (512 MiB, and 1 MiB a line), refused beyond it.

    Raises:
        pbr.ledger.LedgerError: the file cannot be read, is not an audit CSV report, a row
            does not hold together, or (with `recheck`) a row differs from the audit's (the
            line and the column are named); nothing is returned.

    """
    from pbr._bounded import Refused, json_like, read_limited
    from pbr.ledger import Entry, LedgerError
    from pbr.output import restore

    try:
        text = read_limited(path, "an audit CSV report").decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read audit report {path}: {exc}") from None
    except Refused as exc:
        raise LedgerError(str(exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    missing = [c for c in _NEEDED if c not in header]  # first: a foreign file named as such
    if missing and json_like(text):
        raise LedgerError(
            f"{path} is JSON, not an audit CSV report (pbr audit --report FILE.csv writes one)"
        )
    if missing:
        raise LedgerError(f"{path} is not an audit CSV report (pbr audit --report): no {missing}")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise LedgerError(f"{path}: line 1: column {twice[0]!r} is named more than once")
    if recheck is not None:
        from pbr.audit._csv import COLUMNS

        missing = [c for c in COLUMNS if c not in header and c not in LATER_COLUMNS]
        if missing:
            raise LedgerError(
                f"{path}: line 1: no {missing}: the re-check compares every column the audit "
                "writes (the report was changed)"
            )
    entries = []
    later: list[str] = []
    kept: list[tuple[str, int, list[str]]] = []  # the rows the re-check compares
    after_header = reader.line_num + 1
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
        if status in _NO_CLAIM:  # a sample, a family: no claim
            continue
        if status not in ("verified", "flagged", "malformed"):
            raise LedgerError(
                f"{where}: status = {status!r}: not verified, flagged, malformed, "
                "family_rejected, family_not_evaluated, sample or mus"
            )
        kept.append((where, last, row))
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
        entries.append(Entry.from_row(values, money["verified"], paid_on, where, claimed_on))
    if recheck is not None:
        _same_rows(path, header, kept, recheck_rows(recheck), after_header)
    return entries, later


LATER_COLUMNS = frozenset({"outcome_plan", "outcome_plan_sha256"})
"""Columns the CSV report gained after reports were first recorded: a report written by an earlier
pbr, without them, is re-checked on the others (the verdicts the plan decided are among them)."""


def recheck_rows(verification: Verification) -> list[list[str]]:
    """The claim rows and malformed rows the audit's CSV report writes, as text, in order.

    Written by the report writer itself (`pbr.audit._csv.render`) and read back as a CSV reader
    reads the report: each value exactly as it is in the file (a ``'`` before a formula too).
    The columns are `pbr.audit._csv.COLUMNS`: a monetary-unit sample's are the sample's, not
    the audit's verdict, and are not compared.
    """
    from pbr.audit._csv import COLUMNS, render
    from pbr.audit._report import build

    text = render(build(verification))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    status = COLUMNS.index("status")
    return [row[: len(COLUMNS)] for row in rows[1:] if row and row[status] in _RECHECKED]


def _same_calendar(
    header: list[str], found: list[tuple[str, int, list[str]]], expected: list[list[str]]
) -> None:
    """Refuse a report made under another term calendar than the re-check's, saying so.

    Its amounts would differ first, and be blamed on a changed report. Only rows that line up
    (the same row and claim) are compared: a row deleted or added is `_same_rows`' to name.
    """
    from pbr.audit._csv import COLUMNS
    from pbr.ledger import LedgerError

    if "term_calendar" not in header:  # a report of an earlier pbr
        return
    j, k = header.index("term_calendar"), COLUMNS.index("term_calendar")
    keys = [(header.index(c), COLUMNS.index(c)) for c in ("row", "claim_id") if c in header]
    for (where, _, row), want in zip(found, expected, strict=False):
        if any(row[a] != want[b] for a, b in keys):
            return  # out of line from here
        if row[j] == want[k]:
            continue
        made = f"the term calendar {row[j]!r}" if row[j] else "the default term dates"
        now = f"the term calendar {want[k]!r}" if want[k] else "the default term dates"
        fix = (
            "give the audit's calendar file with --term-calendar FILE"
            if row[j]
            else "leave --term-calendar out, as the audit had none"
        )
        raise LedgerError(
            f"{where}: term_calendar = {row[j]!r}: the report says it was made under {made}, "
            f"the re-run audit judges on {now}: {fix} (or the report was changed); nothing "
            "was recorded"
        )


def _same_rows(
    path: str | Path,
    header: list[str],
    found: list[tuple[str, int, list[str]]],
    expected: list[list[str]],
    first_line: int,
) -> None:
    """Refuse a report whose claim rows are not, in order and column for column, `expected`.

    `found` holds each claim or malformed row of the report with where it is and its last
    line; `first_line` is the line after the header. The first row that differs is named by
    its line, its column and both values; a row the report lacks is named at the line where it
    would be, a row the audit does not write where it is.
    """
    from pbr.audit._csv import COLUMNS
    from pbr.ledger import LedgerError

    at = [(column, header.index(column), k) for k, column in enumerate(COLUMNS) if column in header]
    why = (
        "the report was changed, or was not made from these claims, families, interpretations, "
        "plans, term calendar and payment history; nothing was recorded"
    )
    _same_calendar(header, found, expected)
    for (where, _, row), want in zip(found, expected, strict=False):
        for column, j, k in at:  # a column a report of an earlier pbr lacks is not compared
            if row[j] != want[k]:
                raise LedgerError(
                    f"{where}: {column} = {row[j]!r}, the re-run audit writes {want[k]!r}: {why}"
                )
    if len(found) < len(expected):
        want = expected[len(found)]
        line = found[-1][1] + 1 if found else first_line
        raise LedgerError(
            f"{path}: line {line}: claim_id = (no row), the re-run audit writes "
            f"{want[COLUMNS.index('claim_id')]!r} (claim file row {want[0]}): {why}"
        )
    if len(found) > len(expected):
        where, _, row = found[len(expected)]
        raise LedgerError(
            f"{where}: claim_id = {row[header.index('claim_id')]!r}, the re-run audit writes "
            f"(no row): it writes {len(expected)} claim and malformed rows: {why}"
        )


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
    amount is over-claimed (unverified, for a claim that cannot be judged: its family's record
    rejected, or its payment records disagreeing), and what the rules allow above the amount is
    under-claimed. A report of an earlier pbr has a claim whose payment records disagree
    over-claimed: it verifies nothing either way, so that row is read too.
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
    unjudged = not UNJUDGED_FLAGS.isdisjoint(flags)
    expected = {
        "over_claimed": _ZERO if unjudged else amount - verified,
        "unverified": amount - verified if unjudged else _ZERO,
    }
    earlier = {"over_claimed": amount - verified, "unverified": _ZERO}
    if "PAYMENT_HISTORY_CONFLICT" in flags and all(money[c] == v for c, v in earlier.items()):
        expected = earlier  # as an earlier pbr wrote it: over-claimed
    for column, value in expected.items():
        if money[column] != value:
            raise _changed(where, column, values[column], f"the row's amounts make it {value}")
    # what the rules allow above the amount, or less: the family's other claims of the file
    # may take that room (`pbr.audit._verify._share_room`)
    most = allowed - amount if cut_only and allowed > amount else _ZERO
    if not _ZERO <= money["under_claimed"] <= most:
        raise _changed(
            where,
            "under_claimed",
            values["under_claimed"],
            f"the row's amounts make it at most {most}"
            if most
            else f"the row's amounts make it {most}",
        )


def _date(text: str, where: str) -> date:
    from pbr._scalars import date_from_text

    day = date_from_text(text)  # never an ISO week date (2015-W14-2), which 3.11 would read
    if day is None:
        raise _changed(where, "claimed_on", text, "not a date (YYYY-MM-DD)")
    return day
