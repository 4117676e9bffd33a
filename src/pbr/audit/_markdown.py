"""The audit report as Markdown: the same sections as the HTML page, as pipe tables.

Every value is escaped (`pbr.output.markdown_text`): no markup, HTML or formula gets through.
"""

from __future__ import annotations

from decimal import Decimal

from pbr.audit._flags import AUDIT_FLAGS, FLAG_TITLES
from pbr.audit._report import Cell, Label, Report
from pbr.money import format_gbp
from pbr.output import markdown_text

__all__ = ["render"]


def render(report: Report) -> str:
    """The whole document."""
    e = markdown_text
    lines = [f"# {e(report.title)}", ""]
    lines += [f"- **{e(k)}**: {e(v)}" for k, v in report.meta]
    lines += ["", "## Summary", ""]
    lines += [f"- **{e(label)}**: {e(value)}" for label, value in report.summary]
    if report.conclusion:
        lines += ["", f"> {e(report.conclusion)}"]
    for table in report.tables:
        count = len(table.rows) - (1 if table.total_last and table.rows else 0)
        lines += ["", f"## {e(table.title)} ({count})", ""]
        if table.note:
            lines += [e(table.note), ""]
        if not table.rows:
            lines.append("None.")
            continue
        lines.append("| " + " | ".join(e(c.replace("_", " ")) for c in table.columns) + " |")
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
    lines += [
        f"- `{code}` ({e(FLAG_TITLES[code])}): {e(meaning)}"
        for code, meaning in AUDIT_FLAGS.items()
    ]
    return "\n".join(lines) + "\n"


def _numeric(value: Cell) -> bool:
    return isinstance(value, int | Decimal)


def _cell(value: Cell) -> str:
    if isinstance(value, Decimal):
        return format_gbp(value)
    if isinstance(value, Label):
        return _label(value)
    if isinstance(value, tuple):
        return "; ".join(_label(v) for v in value)
    return markdown_text(value)


def _label(label: Label) -> str:
    """A name with its code: the code is one of pbr's own, so it can go in a code span."""
    if label.text == label.code:
        return f"`{label.code}`"
    return f"{markdown_text(label.text)} (`{label.code}`)"
