"""The audit report as Markdown: the same sections as the HTML page, as pipe tables."""

from __future__ import annotations

from decimal import Decimal

from pbr.audit._flags import AUDIT_FLAGS
from pbr.audit._report import Cell, Report
from pbr.money import format_gbp

__all__ = ["render"]


def render(report: Report) -> str:
    """The whole document."""
    lines = [f"# {report.title}", ""]
    lines += [f"- {k}: `{v}`" for k, v in report.meta]
    lines += ["", "## Summary", ""]
    lines += [f"- **{label}**: {value}" for label, value in report.summary]
    for table in report.tables:
        count = len(table.rows) - (1 if table.total_last and table.rows else 0)
        lines += ["", f"## {table.title} ({count})", ""]
        if table.note:
            lines += [table.note, ""]
        if not table.rows:
            lines.append("None.")
            continue
        lines.append("| " + " | ".join(c.replace("_", " ") for c in table.columns) + " |")
        lines.append(
            "|"
            + "|".join(
                "---:" if _numeric(table.rows[0][i]) else "---" for i in range(len(table.columns))
            )
            + "|"
        )
        last = len(table.rows) - 1
        for n, row in enumerate(table.rows):
            cells = [_cell(v) for v in row]
            if table.total_last and n == last:
                cells = [f"**{c}**" if c else c for c in cells]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Flags", ""]
    lines += [f"- `{code}`: {meaning}" for code, meaning in AUDIT_FLAGS.items()]
    return "\n".join(lines) + "\n"


def _numeric(value: Cell) -> bool:
    return isinstance(value, int | Decimal)


def _cell(value: Cell) -> str:
    shown = format_gbp(value) if isinstance(value, Decimal) else str(value)
    return shown.replace("|", "\\|").replace("\n", " ")
