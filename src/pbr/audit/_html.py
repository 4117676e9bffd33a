"""The audit report as one self-contained HTML page: no scripts, fonts or images to fetch."""

from __future__ import annotations

import html
from decimal import Decimal

from pbr.audit._flags import AUDIT_FLAGS, FLAG_TITLES
from pbr.audit._report import Cell, Label, Report, Table
from pbr.money import format_gbp

__all__ = ["render"]

_NUMERIC = frozenset(
    {"row", "claims", "flagged", "malformed", "claimed", "verified", "over_claimed"}
    | {"unverified", "under_claimed", "amount", "allowed"}
    | {"selected_at", "hits", "audited", "tainting", "factor_step", "projected", "allowance"}
)
_ALERTS = ("Claims flagged", "Over-claimed", "Malformed rows", "Unverified (malformed rows)")


def render(report: Report) -> str:
    """The whole page."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{e(report.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(report.title)}</h1><dl class='meta'>",
    ]
    parts += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in report.meta]
    parts.append("</dl><section class='cards'>")
    for label, value in report.summary:
        alert = " alert" if label in _ALERTS else ""
        quiet = alert and value in ("0", "£0.00")
        css = "card" + ("" if quiet else alert)
        parts.append(f"<div class='{css}'><div class='v'>{e(value)}</div>{e(label)}</div>")
    parts.append("</section>")
    if report.conclusion:
        parts.append(f"<p class='conclusion'>{e(report.conclusion)}</p>")
    parts += [_table(t) for t in report.tables]
    parts.append("<h2>Flags</h2><dl class='legend'>")
    for code, meaning in AUDIT_FLAGS.items():
        parts.append(
            f"<dt><span class='flag'>{e(code)}</span></dt>"
            f"<dd><b>{e(FLAG_TITLES[code])}.</b> {e(meaning)}</dd>"
        )
    parts.append(
        "</dl><p class='note'>Every claim, with its rule-set version and the rules and input "
        "hashes that <code>pbr replay</code> checks, is in the CSV report.</p>"
        "<section class='sign'><div>Prepared by</div><div>Reviewed by</div>"
        "<div>Date</div></section></main></body></html>\n"
    )
    return "".join(parts)


def _table(table: Table) -> str:
    e = html.escape
    parts = [f"<h2>{e(table.title)} <span class='n'>{_count(table)}</span></h2>"]
    if table.note:
        parts.append(f"<p class='note'>{e(table.note)}</p>")
    if not table.rows:
        parts.append("<p class='none'>None.</p>")
        return "".join(parts)
    parts.append("<table><thead><tr>")
    for name in table.columns:
        num = " class='num'" if name in _NUMERIC else ""
        parts.append(f"<th{num}>{e(name.replace('_', ' '))}</th>")
    parts.append("</tr></thead><tbody>")
    last = len(table.rows) - 1
    for n, row in enumerate(table.rows):
        parts.append("<tr class='total'>" if table.total_last and n == last else "<tr>")
        for name, value in zip(table.columns, row, strict=True):
            parts.append(_cell(name, value))
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _count(table: Table) -> int:
    return len(table.rows) - (1 if table.total_last and table.rows else 0)


def _cell(name: str, value: Cell) -> str:
    e = html.escape
    if isinstance(value, tuple):  # flags: each code with its name
        return (
            "<td>"
            + "<br>".join(
                f"<span class='flag' title='{e(AUDIT_FLAGS.get(f.code, ''))}'>{e(f.code)}</span> "
                f"<span class='fname'>{e(f.text)}</span>"
                for f in value
            )
            + "</td>"
        )
    if isinstance(value, Label):
        return (
            f"<td class='label'>{e(value.text)}<br><code class='code'>{e(value.code)}</code></td>"
        )
    if isinstance(value, Decimal):
        shown = format_gbp(value)
        muted = " zero" if not value else ""
        return f"<td class='num{muted}'>{e(shown)}</td>"
    if name in _NUMERIC:
        return f"<td class='num'>{e(str(value))}</td>"
    if name == "rule":
        return f"<td class='rule'>{e(str(value))}</td>"
    if value == "not knowable":
        return f"<td class='muted'>{e(value)}</td>"
    if name in ("why", "value", "how"):
        return f"<td class='why'>{e(str(value))}</td>"
    if name in ("kind", "claim_id", "family_id", "claimed_on", "claimable_from"):
        return f"<td class='key'>{e(str(value))}</td>"
    return f"<td>{e(str(value))}</td>"


_CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;background:#eef1f4;margin:0}
main{max-width:1200px;margin:0 auto;padding:28px 36px 40px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 10px}
h2{font-size:18px;margin:32px 0 6px;border-bottom:2px solid #1d4e89;padding-bottom:4px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:1px 14px;margin:0;font-size:13px;color:#4b5560}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
.note{color:#4b5560;font-size:13px;margin:4px 0 8px}.none{color:#4b5560}
.conclusion{border-left:4px solid #1d4e89;background:#f3f6fa;padding:10px 14px;margin:16px 0 4px;font-size:15px}
.n{background:#e8eef6;color:#1d4e89;border-radius:10px;padding:1px 8px;font-size:13px;vertical-align:middle}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;margin:20px 0 4px}
.card{border:1px solid #dde3ea;border-left:4px solid #1d4e89;border-radius:6px;padding:8px 12px;font-size:13px;color:#4b5560}
.card.alert{border-left-color:#a4262c}
.card .v{font-size:19px;font-weight:600;color:#1b1f24;white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;background:#eef2f6;padding:6px 8px;border-bottom:1px solid #cfd8e2;white-space:nowrap}
td{padding:5px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
td.why{overflow-wrap:break-word;min-width:240px}td.key{white-space:nowrap}td.label{min-width:120px}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.zero,td.muted{color:#8a939c}
td.rule{color:#5b6570;font-size:11px;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere;min-width:110px;max-width:150px}
tr.total td{font-weight:600;border-top:2px solid #1b1f24;color:#1b1f24}
tbody tr:nth-child(even){background:#fafbfc}
.fname{font-size:12px;color:#3c4650}
code.code{font-size:11px;color:#6b7580;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.flag{display:inline-block;background:#fdecee;color:#a4262c;border-radius:4px;padding:0 5px;margin:1px 0;font-size:11.5px;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap}
dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;font-size:13px}
dl.legend dd{margin:0;color:#3c4650}
.sign{display:grid;grid-template-columns:2fr 2fr 1fr;gap:28px;margin-top:40px;font-size:13px;color:#4b5560}
.sign div{border-top:1px solid #1b1f24;padding-top:4px}
@media print{body{background:#fff}main{padding:0}h2{break-after:avoid}tr{break-inside:avoid}}
"""
