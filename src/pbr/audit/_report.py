"""Audit reports: the content once, written as HTML, Markdown, CSV or XLSX (extra).

The content is the summary, reconciliation, exceptions, malformed rows, sample and missed claims;
each private writer module turns it into one format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.audit._sample import Sample
    from pbr.audit._verify import Verification

__all__ = ["Report", "Table", "write_report"]

Cell = str | int | Decimal
"""A table cell: text, a count, or money (formatted by each writer)."""


@dataclass(frozen=True, slots=True)
class Table:
    """One section of a report: a title, a note, the column names and the rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    total_last: bool = False
    """The last row is a total (shown in bold)."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report shows, independent of its format."""

    title: str
    meta: tuple[tuple[str, str], ...]
    summary: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    all_claims: tuple[dict[str, Any], ...]
    """Every claim as a flat row, with flags, amounts and provenance (the CSV report)."""


def write_report(
    verification: Verification,
    path: str | Path,
    *,
    sample: Sample | None = None,
    title: str = "Claim audit",
    sources: Sequence[str | Path] = (),
) -> Path:
    """Write the audit report in the format its suffix names (.html, .md, .csv, .xlsx), atomically.

    Every format has the summary, the reconciliation, the exceptions with their reasons, the
    malformed rows, the sample and the missed claims; the CSV has one row per claim (and per
    malformed row) with the hashes ``pbr replay`` needs. `sources` (the claim and family files)
    are listed with their SHA-256, so the report names exactly what was audited.

    >>> import pathlib, tempfile
    >>> from pbr.audit import verify
    >>> path = write_report(verify([], []), pathlib.Path(tempfile.mkdtemp()) / "audit.md")
    >>> path.read_text().splitlines()[0]
    '# Claim audit'

    Raises:
        ValueError: the suffix is none of .html, .md, .csv, .xlsx.
        ImportError: .xlsx without openpyxl (``pip install "pbr[xlsx]"``).

    """
    from pbr.output import atomic_writer

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _WRITERS:
        raise ValueError(f"{path}: a report ends in .html, .md, .csv or .xlsx")
    data = _WRITERS[suffix](build(verification, sample, title, sources))
    with atomic_writer(path, "wb") as handle:
        handle.write(data)
    return path


def _html(report: Report) -> bytes:
    from pbr.audit._html import render

    return render(report).encode("utf-8")


def _markdown(report: Report) -> bytes:
    from pbr.audit._markdown import render

    return render(report).encode("utf-8")


def _csv(report: Report) -> bytes:
    from pbr.audit._csv import render

    return render(report).encode("utf-8")


def _xlsx(report: Report) -> bytes:
    from pbr.audit._xlsx import render

    return render(report)


_WRITERS = {".html": _html, ".md": _markdown, ".csv": _csv, ".xlsx": _xlsx}


def build(
    v: Verification,
    sample: Sample | None = None,
    title: str = "Claim audit",
    sources: Sequence[str | Path] = (),
) -> Report:
    """The report's content from a verification (and a sample), for any writer."""
    from pbr import __version__

    meta = [
        ("Evidence as of", v.as_of.isoformat() if v.as_of else "(no claims)"),
        ("pbr version", __version__),
        ("Rule sets", ", ".join(sorted({c.rules_version for c in v.checks if c.rules_version}))),
        ("Report made", date.today().isoformat()),
    ]
    meta += [(f"Input {Path(s).name}", f"sha256 {_sha256(Path(s))}") for s in sources]
    tables = [
        _reconciliation(v),
        _exceptions(v),
        _malformed(v),
        _missed(v),
        _sample(sample),
    ]
    if v.unevaluated:
        tables.append(
            Table(
                "Families not evaluated",
                ("family_id", "why"),
                tuple((f, why) for f, why in v.unevaluated),
                "No programme covers these records, so they were not searched for missed claims.",
            )
        )
    return Report(
        title,
        tuple(meta),
        tuple(_summary(v, sample)),
        tuple(tables),
        tuple(c.as_row() for c in v.checks),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _summary(v: Verification, sample: Sample | None) -> list[tuple[str, str]]:
    total = v.reconciliation()[-1]
    missed = sum((m.amount for m in v.missed), ZERO)
    lines = [
        ("Claim rows read", f"{len(v.checks) + len(v.rejections)}"),
        ("Claims checked", f"{len(v.checks)}"),
        ("Malformed rows", f"{len(v.rejections)}"),
        ("Claims flagged", f"{total['flagged']}"),
        ("Claimed", format_gbp(total["claimed"])),
        ("Verified", format_gbp(total["verified"])),
        ("Over-claimed", format_gbp(total["over_claimed"])),
        ("Under-claimed", format_gbp(total["under_claimed"])),
        ("Missed claims", f"{len(v.missed)}, {format_gbp(missed)}"),
    ]
    if sample is not None:
        lines.append(("Spot-check sample", f"{len(sample.claims)} claims, seed {sample.seed}"))
    return lines


def _reconciliation(v: Verification) -> Table:
    keys = ("kind", "claims", "flagged", "claimed", "verified", "over_claimed", "under_claimed")
    return Table(
        "Reconciliation",
        keys,
        tuple(tuple(r[k] for k in keys) for r in v.reconciliation()),
        "By kind of claim; on every row claimed = verified + over-claimed, and the total is the "
        "sum of the rows, to the penny.",
        total_last=True,
    )


def _exceptions(v: Verification) -> Table:
    return Table(
        "Exceptions",
        (
            "row",
            "claim_id",
            "family_id",
            "kind",
            "claimed",
            "allowed",
            "verified",
            "flags",
            "why",
            "rule",
        ),
        tuple(
            (
                c.claim.row,
                c.claim.claim_id,
                c.claim.family_id,
                c.claim.kind,
                c.claim.amount,
                c.allowed,
                c.verified,
                " ".join(c.codes),
                "; ".join(f.message for f in c.flags),
                "; ".join(f"{f.rule} [{f.source}]" if f.source else f.rule for f in c.flags),
            )
            for c in v.exceptions
        ),
        "Each flagged claim with the amount the rules allow on its claim date, what is verified, "
        "and why, with the rule and its source tags.",
    )


def _malformed(v: Verification) -> Table:
    return Table(
        "Malformed rows",
        ("row", "claim_id", "field", "value", "why"),
        tuple((r.row, r.claim_id or "", r.field, r.value, r.message) for r in v.rejections),
        "Rows that could not be read (flag MALFORMED_ROW): nothing of them is verified.",
    )


def _missed(v: Verification) -> Table:
    rows = tuple(
        (
            m.family_id,
            m.kind,
            m.amount,
            m.earliest_date.isoformat() if m.earliest_date else "not knowable",
        )
        for m in v.missed
    )
    total = sum((m.amount for m in v.missed), ZERO)
    return Table(
        "Missed claims",
        ("family_id", "kind", "amount", "claimable_from"),
        (*rows, ("total", "", total, "")) if rows else (),
        "Results (and attachment fees) the evidence shows payable on "
        f"{v.as_of or '(no date)'} that were neither claimed nor paid. A crime/ASB/education "
        "result is judged on sliding windows, so the day it first became claimable is not knowable.",
        total_last=bool(rows),
    )


def _sample(sample: Sample | None) -> Table:
    if sample is None:
        return Table("Sample", ("claim_id",), (), "No sample was drawn.")
    return Table(
        "Sample",
        ("claim_id", "family_id", "kind", "claimed", "claimed_on"),
        tuple(
            (c.claim_id, c.family_id, c.kind, c.amount, c.claimed_on.isoformat())
            for c in sample.claims
        ),
        f"Method: {sample.method}.",
    )
