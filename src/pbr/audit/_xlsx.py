"""The audit report as an XLSX workbook (``pip install "pbr-claims[xlsx]"``): a sheet per section."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from pbr._xlsx import cell_text
from pbr.audit._csv import COLUMNS
from pbr.audit._report import Label, Report
from pbr.output import formula_safe

__all__ = ["render"]

_GBP = '"£"#,##0.00'
_MONEY = frozenset(
    {
        "amount",
        "allowed",
        "verified",
        "over_claimed",
        "unverified",
        "under_claimed",
        "mus_selected_at",
        "mus_audited",
        "mus_projected",
        "mus_allowance",
    }
)
"""The All claims sheet's columns of money (decimal text in the flat rows): numbers in £ here."""


def render(report: Report) -> bytes:
    """The workbook's bytes: Summary, each section, and All claims (money as numbers in £).

    Written in openpyxl's write-only mode, so a large claim file takes time in proportion to it.
    """
    try:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
    except ImportError as exc:
        from pbr.errors import MissingExtra

        raise MissingExtra('XLSX reports need openpyxl: pip install "pbr-claims[xlsx]"') from exc
    from pbr._xlsx import discarded_if_unfinished, saved

    with discarded_if_unfinished(Workbook(write_only=True)) as book:
        _fill(book, report, WriteOnlyCell, Font(bold=True))
        return saved(book)


def _fill(book: Any, report: Report, make: Any, bold: Any) -> None:
    """Add `report`'s sheets to `book` (`make`: openpyxl's ``WriteOnlyCell``; `bold`: its font)."""

    def cells(sheet: Any, values: Sequence[Any], strong: bool = False) -> list[Any]:
        row = []
        for value in values:
            cell = make(sheet, value=_value(value))
            if isinstance(value, Decimal):
                cell.number_format = _GBP
            if strong:
                cell.font = bold
            row.append(cell)
        return row

    def table(title: str, head: Sequence[str], rows: Iterable[Sequence[Any]], total: bool) -> None:
        sheet = book.create_sheet(title[:31])
        sheet.freeze_panes = "A2"
        sheet.append(cells(sheet, head, strong=True))
        listed = list(rows)
        for n, row in enumerate(listed, start=1):
            sheet.append(cells(sheet, row, strong=total and n == len(listed)))

    summary = book.create_sheet("Summary")
    summary.column_dimensions["A"].width = 26
    summary.column_dimensions["B"].width = 80
    summary.append(cells(summary, [report.title], strong=True))
    for key, value in (*report.meta, ("", ""), *report.summary):
        summary.append(cells(summary, [key, value]))
    if report.conclusion:
        summary.append(cells(summary, ["Conclusion", report.conclusion], strong=True))
    for t in report.tables:
        table(t.title, t.columns, t.rows, t.total_last and bool(t.rows))
    columns = (*COLUMNS, *report.claim_columns)
    table(
        "All claims",
        columns,
        (
            [_money(flat.get(c, "")) if c in _MONEY else flat.get(c, "") for c in columns]
            for flat in (*report.all_claims, *report.malformed)
        ),
        False,
    )


def _money(value: Any) -> Any:
    """Money written as decimal text (``"700.00"``) as a `Decimal`; anything else as it is."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    return value


_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]{2}")


def _value(value: Any) -> Any:
    """A cell's value: labels as ``name (code)``, and text never a formula (`formula_safe`).

    Text a cell cannot hold (a control character from a claim file) is escaped (`cell_text`):
    openpyxl refuses it, which stopped the whole report.

    Nobody reads the workbook back, so a value that starts with an apostrophe (one shown
    quoted, ``'bonus'``) is written as it is: only a formula gets one.
    """
    if isinstance(value, Label):
        value = str(value)
    elif isinstance(value, tuple):
        value = "; ".join(str(v) for v in value)
    return formula_safe(cell_text(value)) if isinstance(value, str) else value
