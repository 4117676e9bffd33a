"""The audit report as CSV: one row per claim (and per malformed row), for the auditor's tools."""

from __future__ import annotations

import csv
import io

from pbr.audit._report import Report

__all__ = ["COLUMNS", "render"]

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
"""The report's columns (money as decimal text; the hashes are what ``pbr replay`` checks)."""


def render(report: Report) -> str:
    """Every claim in file order, then every malformed row with its field, value and why."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.all_claims)
    malformed = next(t for t in report.tables if t.title == "Malformed rows")
    for row, claim_id, field, value, why in malformed.rows:
        writer.writerow(
            {
                "row": row,
                "claim_id": claim_id,
                "status": "malformed",
                "flags": "MALFORMED_ROW",
                "why": f"{field} = {value}: {why}",
                "rule": "audit.claim_file",
            }
        )
    return out.getvalue()
