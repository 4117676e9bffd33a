"""Forecast tables as an XLSX workbook: one sheet per table, numbers as numbers.

Money is written as numbers in pounds with a £ format (the exact `Decimal`, which the file stores
as a number), shares and families as numbers, dates as dates. Text (scenario and council names)
is neutralised as every pbr spreadsheet is (`pbr.output.neutralise`): a cell that a spreadsheet
would read as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab, a carriage return, their
full-width forms, or any of these after spaces) is written as text behind an apostrophe. The workbook is
written beside the target and renamed onto it when complete; a path every pbr writer refuses (a
folder, a block device, a symbolic link) is refused rather than replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pbr._xlsx import typed_cell
from pbr.output import OutputError, check_writable, neutralise

__all__ = ["neutralise", "safe_target", "write_workbook"]


def safe_target(path: str | Path) -> Path:
    """`path`, if every pbr writer would write it (`pbr.output.check_writable`): else ForecastError.

    The one check of every forecast writer (``to_excel``, ``plot``, ``pbr forecast --output``
    and ``--plot``), made before any work: a folder, a block device, a symbolic link or a
    missing folder is refused; `ForecastError` is a `ValueError`.

    >>> import tempfile
    >>> safe_target(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: cannot write /...: it is a folder
    """
    from pbr.errors import ForecastError

    try:
        return check_writable(path)
    except OutputError as exc:
        raise ForecastError(str(exc)) from None


def write_workbook(
    path: str | Path,
    sheets: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
    *,
    columns: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Write each ``(title, rows)`` as a sheet of `path` (``pip install "pbr-claims[forecast]"``).

    A sheet's header is its rows' keys; a sheet with no rows has the header `columns` gives
    for its title (a header and no rows, rather than a blank sheet).
    """
    target = safe_target(path)
    try:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
    except ImportError as exc:
        from pbr.errors import MissingExtra

        raise MissingExtra(
            'XLSX output needs openpyxl: pip install "pbr-claims[forecast]"'
        ) from exc
    from pbr._xlsx import discarded_if_unfinished, saved
    from pbr.output import atomic_writer

    bold = Font(bold=True)
    with discarded_if_unfinished(Workbook(write_only=True)) as book:
        for title, rows in sheets:
            sheet = book.create_sheet(title[:31])  # our own table names, never user text
            sheet.freeze_panes = "A2"
            names = list(dict.fromkeys(key for row in rows for key in row))
            if not rows:
                names = list((columns or {}).get(title, ()))
            for n, name in enumerate(names):
                sheet.column_dimensions[_letter(n)].width = max(12, len(name) + 2)
            head = []
            for name in names:
                cell = WriteOnlyCell(sheet, value=neutralise(name))
                cell.font = bold
                head.append(cell)
            sheet.append(head)
            for row in rows:
                sheet.append([typed_cell(WriteOnlyCell, sheet, row.get(name)) for name in names])
        data = saved(book)  # the same bytes whenever it is written
    with atomic_writer(target, "wb") as handle:
        handle.write(data)


def _letter(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
