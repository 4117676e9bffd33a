"""Audit reports: one self-contained HTML page, Markdown, CSV, or an XLSX workbook (extra)."""

from __future__ import annotations

import csv
import html
import io
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.audit._verify import Sample, Verification

__all__ = ["write_report"]

_RECON = ("kind", "claims", "flagged", "claimed", "verified", "over_claimed", "under_claimed")
_EXCEPTION = (
    "row",
    "claim_id",
    "family_id",
    "kind",
    "amount",
    "allowed",
    "verified",
    "flags",
    "why",
)
_MISSED = ("family_id", "kind", "amount", "earliest_date")
_SAMPLE = ("claim_id", "family_id", "kind", "amount", "claimed_on")


def write_report(
    verification: Verification,
    path: str | Path,
    *,
    sample: Sample | None = None,
    title: str = "Claim audit",
    sources: Sequence[str] = (),
) -> Path:
    """Write the report in the format its suffix names (.html, .md, .csv, .xlsx), atomically."""
    from pbr import __version__

    path = Path(path)
    sections = _sections(verification, sample)
    meta = {
        "title": title,
        "as_of": verification.as_of.isoformat() if verification.as_of else "",
        "sources": ", ".join(sources),
        "version": __version__,
        "made": date.today().isoformat(),
    }
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        _atomic_bytes(path, _xlsx(sections, meta))
        return path
    if suffix == ".html":
        text = _html(verification, sections, meta, sample)
    elif suffix == ".md":
        text = _markdown(verification, sections, meta, sample)
    elif suffix == ".csv":
        text = _csv(verification)
    else:
        raise ValueError(f"{path}: a report ends in .html, .md, .csv or .xlsx")
    _atomic_bytes(path, text.encode("utf-8"))
    return path


def _atomic_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never half a report."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _money(value: Any) -> str:
    from decimal import Decimal

    return format_gbp(value) if isinstance(value, Decimal) else str(value)


def _sections(v: Verification, sample: Sample | None) -> dict[str, list[dict[str, Any]]]:
    rejected = [
        {
            "row": r.row,
            "claim_id": r.claim_id or "",
            "field": r.field,
            "value": r.value,
            "why": r.message,
        }
        for r in v.rejections
    ]
    return {
        "Reconciliation": [{k: r[k] for k in _RECON} for r in v.reconciliation()],
        "Exceptions": [{k: c.as_row()[k] for k in _EXCEPTION} for c in v.exceptions],
        "Malformed rows": rejected,
        "Missed claims": [m.as_row() for m in v.missed],
        "Sample": [
            {
                "claim_id": c.claim_id,
                "family_id": c.family_id,
                "kind": c.kind,
                "amount": f"{c.amount:.2f}",
                "claimed_on": c.claimed_on.isoformat(),
            }
            for c in (sample.claims if sample else ())
        ],
        "All claims": [c.as_row() for c in v.checks],
    }


def _summary_lines(v: Verification, sample: Sample | None) -> list[tuple[str, str]]:
    total = v.reconciliation()[-1]
    missed = sum((m.amount for m in v.missed), ZERO)
    lines = [
        ("Claims read", f"{len(v.checks) + len(v.rejections)}"),
        ("Claims checked", f"{len(v.checks)}"),
        ("Malformed rows (not checked)", f"{len(v.rejections)}"),
        ("Claims flagged", f"{total['flagged']}"),
        ("Claimed", format_gbp(total["claimed"])),
        ("Verified", format_gbp(total["verified"])),
        ("Over-claimed", format_gbp(total["over_claimed"])),
        ("Under-claimed", format_gbp(total["under_claimed"])),
        ("Missed claims", f"{len(v.missed)} worth {format_gbp(missed)}"),
    ]
    if sample is not None:
        lines.append(("Spot-check sample", f"{len(sample.claims)} claims, seed {sample.seed}"))
    return lines


def _html(
    v: Verification,
    sections: dict[str, list[dict[str, Any]]],
    meta: dict[str, str],
    sample: Sample | None,
) -> str:
    from pbr.audit._verify import AUDIT_FLAGS

    e = html.escape
    out = io.StringIO()
    out.write(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(meta['title'])}</title><style>{_CSS}</style></head><body><main>"
    )
    out.write(f"<h1>{e(meta['title'])}</h1>")
    out.write(
        f"<p class='meta'>Evidence as of {e(meta['as_of'])} · sources {e(meta['sources'])} · "
        f"pbr {e(meta['version'])} · made {e(meta['made'])}</p>"
    )
    out.write("<section class='cards'>")
    for label, value in _summary_lines(v, sample):
        out.write(f"<div class='card'><div class='v'>{e(value)}</div><div>{e(label)}</div></div>")
    out.write("</section>")
    for name in ("Reconciliation", "Exceptions", "Malformed rows", "Missed claims", "Sample"):
        rows = sections[name]
        out.write(f"<h2>{e(name)} <span class='n'>{len(rows)}</span></h2>")
        if name == "Sample" and sample is not None:
            out.write(f"<p class='meta'>Method: {e(sample.method)}</p>")
        if not rows:
            out.write("<p class='none'>None.</p>")
            continue
        out.write("<table><thead><tr>")
        out.write("".join(f"<th>{e(k.replace('_', ' '))}</th>" for k in rows[0]))
        out.write("</tr></thead><tbody>")
        for row in rows:
            css = " class='total'" if row.get("kind") == "total" else ""
            out.write(f"<tr{css}>")
            for key, value in row.items():
                shown = _money(value)
                if key == "flags":
                    shown = " ".join(
                        f"<span class='flag'>{e(c)}</span>" for c in str(value).split()
                    )
                    out.write(f"<td>{shown}</td>")
                else:
                    num = " class='num'" if key in _NUMERIC else ""
                    out.write(f"<td{num}>{e(shown)}</td>")
            out.write("</tr>")
        out.write("</tbody></table>")
    out.write("<h2>Flags</h2><dl>")
    for code, meaning in AUDIT_FLAGS.items():
        out.write(f"<dt><span class='flag'>{e(code)}</span></dt><dd>{e(meaning)}</dd>")
    out.write(
        "</dl><p class='meta'>Every claim, with its rules and input hashes for "
        "<code>pbr replay</code>, is in the CSV report.</p></main></body></html>\n"
    )
    return out.getvalue()


_NUMERIC = frozenset(
    {
        "claims",
        "flagged",
        "claimed",
        "verified",
        "over_claimed",
        "under_claimed",
        "amount",
        "allowed",
        "row",
    }
)
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;background:#f6f7f9;margin:0}
main{max-width:1180px;margin:0 auto;padding:28px 32px 48px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:30px 0 8px;border-bottom:2px solid #1d4e89;padding-bottom:4px}
.meta{color:#5b6570;font-size:13px}.none{color:#5b6570}
.n{background:#e8eef6;color:#1d4e89;border-radius:10px;padding:1px 8px;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:18px 0}
.card{border:1px solid #dde3ea;border-radius:8px;padding:10px 12px;font-size:13px;color:#5b6570}
.card .v{font-size:19px;font-weight:600;color:#1b1f24}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;background:#eef2f6;padding:6px 8px;border-bottom:1px solid #cfd8e2}
td{padding:5px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:600;border-top:2px solid #1b1f24}
.flag{display:inline-block;background:#fdecee;color:#a4262c;border-radius:4px;padding:0 5px;margin:1px;font-size:12px;font-family:ui-monospace,monospace}
dt{margin-top:6px}dd{margin:2px 0 0 0;color:#3c4650}
"""


def _markdown(
    v: Verification,
    sections: dict[str, list[dict[str, Any]]],
    meta: dict[str, str],
    sample: Sample | None,
) -> str:
    lines = [
        f"# {meta['title']}",
        "",
        f"Evidence as of {meta['as_of']}; pbr {meta['version']}.",
        "",
    ]
    lines += [f"- **{label}**: {value}" for label, value in _summary_lines(v, sample)]
    for name in ("Reconciliation", "Exceptions", "Malformed rows", "Missed claims", "Sample"):
        rows = sections[name]
        lines += ["", f"## {name} ({len(rows)})", ""]
        if name == "Sample" and sample is not None:
            lines += [f"Method: {sample.method}", ""]
        if not rows:
            lines.append("None.")
            continue
        keys = list(rows[0])
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        for row in rows:
            lines.append("| " + " | ".join(_money(row[k]).replace("|", "/") for k in keys) + " |")
    return "\n".join(lines) + "\n"


def _csv(v: Verification) -> str:
    out = io.StringIO()
    rows = [c.as_row() for c in v.checks]
    fields = list(rows[0]) if rows else ["claim_id"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    for r in v.rejections:
        writer.writerow(
            {
                "row": r.row,
                "claim_id": r.claim_id or "",
                "status": "malformed",
                "flags": "MALFORMED_ROW",
                "why": f"{r.field} = {r.value}: {r.message}",
            }
        )
    return out.getvalue()


def _xlsx(sections: dict[str, list[dict[str, Any]]], meta: dict[str, str]) -> bytes:
    try:
        from openpyxl import Workbook
    except ImportError as exc:
        raise ImportError('XLSX reports need openpyxl: pip install "pbr[xlsx]"') from exc
    book = Workbook()
    first = book.active
    first.title = "Summary"
    for key, value in meta.items():
        first.append([key, value])
    for name, rows in sections.items():
        sheet = book.create_sheet(name[:31])
        if rows:
            sheet.append(list(rows[0]))
            for row in rows:
                sheet.append([str(v) for v in row.values()])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
