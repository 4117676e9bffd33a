"""The audit report as CSV: one row per claim (and per malformed row), for the auditor's tools."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pbr.audit._report import Report

if TYPE_CHECKING:
    from pbr.ledger import Entry

__all__ = ["COLUMNS", "payments_due", "payments_from_report", "render"]

_PARTIAL = frozenset({"AMOUNT_DIFFERS", "CAP_EXCEEDED"})
"""Flags that cut a claim to what the rules allow (the rest of it verifies)."""

COLUMNS = (
    "row",
    "claim_id",
    "family_id",
    "kind",
    "claimed_on",
    "window",
    "amount",
    "allowed",
    "verified",
    "over_claimed",
    "unverified",
    "under_claimed",
    "status",
    "flags",
    "why",
    "rule",
    "rules_version",
    "pbr_version",
    "rules_hash",
    "input_hash",
)
"""The report's columns (money as decimal text; the hashes are what ``pbr replay`` checks).

On every claim row ``amount = verified + over_claimed + unverified``; a malformed row's amount
(where it can be read) is unverified. After the malformed rows, each rejected family record is a
row of status ``family_rejected`` (no claim: its ``why`` says where and why). Text a spreadsheet would run as a formula starts with
``'``. A report with a monetary-unit sample has more columns and, after the malformed rows, rows
of status ``mus`` that are no claims: the sample's evaluation.
"""


def render(report: Report) -> str:
    """Every claim in file order, then every malformed row with its field, value and why.

    With a monetary-unit sample, every row also has the ``mus_*`` columns
    (`pbr.audit._mus_report.MUS_COLUMNS`) and the evaluation follows as rows of status ``mus``.
    """
    from pbr.output import CsvWriter

    out = io.StringIO(newline="")
    writer = CsvWriter(out, (*COLUMNS, *report.claim_columns))
    writer.writeheader()
    writer.writerows(report.all_claims)
    writer.writerows(report.malformed)
    writer.writerows(report.rejected_families)
    writer.writerows(report.evaluation)
    return out.getvalue()


def payments_from_report(path: str | Path, *, paid_on: date, partial: bool = False) -> list[Entry]:
    """The verified claims of an audit's CSV report, as ledger entries paid on `paid_on`.

    A claim with status ``verified`` is recorded at its verified amount; with `partial`, so is
    the verified part of a claim cut only by ``AMOUNT_DIFFERS`` or ``CAP_EXCEEDED``. Flagged and
    malformed rows are not, nor the rows of status ``mus`` (a monetary-unit sample's figures),
    nor a claim made after `paid_on` (it cannot have been paid then: record it with a later
    report or date). Record them with ``Ledger.append(entries, skip_recorded=True)``
    (``pbr ledger record``), so that recording the same report twice writes nothing twice.

    >>> import pathlib, tempfile
    >>> from datetime import date
    >>> from pbr.audit import Claim, verify, write_report
    >>> family = __import__("pbr").Family.model_validate({"family_id": "F1",
    ...     "attached_on": "2012-10-15", "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> claim = Claim(claim_id="C1", family_id="F1", kind="attachment_fee", amount="3200.00",
    ...               claimed_on=date(2012, 11, 1))
    >>> report = write_report(verify([claim], [family]),
    ...                       pathlib.Path(tempfile.mkdtemp()) / "audit.csv")
    >>> [(e.claim_id, str(e.amount), e.paid_on) for e in
    ...  payments_from_report(report, paid_on=date(2012, 12, 1))]
    [('C1', '3200.00', datetime.date(2012, 12, 1))]

    Raises:
        pbr.ledger.LedgerError: the file cannot be read, is not an audit CSV report, or a row's
            value is bad (the row and column are named).

    """
    return payments_due(path, paid_on=paid_on, partial=partial)[0]


def payments_due(
    path: str | Path, *, paid_on: date, partial: bool = False
) -> tuple[list[Entry], list[str]]:
    """`payments_from_report`'s entries, and the claim ids left out as claimed after `paid_on`."""
    from pbr.ledger import Entry, LedgerError
    from pbr.money import money
    from pbr.output import restore

    needed = ("claim_id", "family_id", "kind", "amount", "verified", "status", "flags")
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read audit report {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in (*needed, "rules_version") if c not in (reader.fieldnames or ())]
    if missing:
        raise LedgerError(f"{path} is not an audit CSV report (pbr audit --report): no {missing}")
    entries = []
    later: list[str] = []
    for row in reader:
        where = f"{path}: row {reader.line_num}"
        values = {c: restore(row.get(c) or "") for c in (*needed, "rules_version")}
        status = values["status"]
        if status in ("mus", "family_rejected"):  # a sample's figures, a family record: no claim
            continue
        if status not in ("verified", "flagged", "malformed"):
            raise LedgerError(
                f"{where}: status = {status!r}: not verified, flagged, malformed, "
                "family_rejected or mus"
            )
        cut_only = bool(values["flags"]) and set(values["flags"].split()) <= _PARTIAL
        if status != "verified" and not (partial and status == "flagged" and cut_only):
            continue
        try:
            verified = money(values["verified"])
            claimed = money(values["amount"])
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise LedgerError(f"{where}: verified = {values['verified']!r}: {exc}") from None
        if verified > claimed or (status == "verified" and verified != claimed):
            raise LedgerError(
                f"{where}: verified = {values['verified']!r} does not fit amount = "
                f"{values['amount']!r} and status {status!r}: the report was changed"
            )
        if verified == 0:
            continue
        if _claimed_after(row.get("claimed_on") or "", paid_on, where):
            later.append(values["claim_id"])
            continue
        entries.append(Entry.from_row(values, verified, paid_on, where))
    return entries, later


def _claimed_after(claimed_on: str, paid_on: date, where: str) -> bool:
    """Whether the row's claim was made after `paid_on` (a report without the column: no)."""
    from pbr.ledger import LedgerError

    if not claimed_on:
        return False
    try:
        return date.fromisoformat(claimed_on) > paid_on
    except ValueError:
        raise LedgerError(
            f"{where}: claimed_on = {claimed_on!r}: not a date: the report was changed"
        ) from None
