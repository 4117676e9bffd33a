"""The audit report as an XLSX workbook (``pip install "pbr[xlsx]"``): a sheet per section."""

from __future__ import annotations

import io
from decimal import Decimal

from pbr.audit._csv import COLUMNS
from pbr.audit._report import Report

__all__ = ["render"]

_GBP = '"£"#,##0.00'


def render(report: Report) -> bytes:
    """The workbook's bytes: Summary, each section, and All claims (money as numbers in £)."""
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError as exc:
        raise ImportError('XLSX reports need openpyxl: pip install "pbr[xlsx]"') from exc
    book = Workbook()
    bold = Font(bold=True)
    summary = book.active
    summary.title = "Summary"
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=14)
    for key, value in (*report.meta, ("", ""), *report.summary):
        summary.append([key, value])
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 80
    for table in report.tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, Decimal):
                    cell.number_format = _GBP
        if table.total_last and table.rows:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        sheet.freeze_panes = "A2"
    claims = book.create_sheet("All claims")
    claims.append(list(COLUMNS))
    for cell in claims[1]:
        cell.font = bold
    for flat in report.all_claims:
        claims.append([flat.get(c, "") for c in COLUMNS])
    claims.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
