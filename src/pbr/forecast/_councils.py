"""Many councils at once: allocations from a table of councils, side by side.

The table (a CSV file, a DataFrame or rows of mappings) has a row per council with the columns
``council`` and ``estimated_families``, and optionally ``programme`` (without the column,
``tf-phase-1``; with it, every row gives one: an empty cell is an error) and ``upfront_grant``
(the council's up-front money per financial year of the programme, such as a Supporting
Families grant; blank for none). Any other column, a column given twice, a
repeated council (names compared ignoring case and surrounding spaces), a council's name with a
space at an edge or a control character (never trimmed or changed) or a bad value is an error
naming the file, the line, the council and the column; a row of blank cells is an error naming
the line (a line with nothing on it is no row).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pbr._bounded import MAX_LINE_BYTES
from pbr._record_checks import control_character
from pbr.errors import ForecastError
from pbr.forecast._allocation import Allocation, allocation
from pbr.forecast._assumptions import Assumptions
from pbr.forecast._inputs import read_text
from pbr.forecast._terms import default_programme
from pbr.money import ZERO, exact_class, in_exact_arithmetic

__all__ = ["COLUMNS", "AllocationTable", "allocation_table", "council_key"]

COLUMNS = ("council", "estimated_families", "programme", "upfront_grant")
"""The columns of a councils table (the first two required)."""


@exact_class  # its totals and tables whatever the caller's `decimal` context
@dataclass(frozen=True, slots=True)
class AllocationTable:
    """Allocations of several councils: one tidy table, a summary and a chart.

    >>> table = allocation_table([{"council": "Kent", "estimated_families": 2560},
    ...     {"council": "Lancashire", "estimated_families": 2630}])
    >>> [(r["council"], str(r["maximum"])) for r in table.summary()]
    [('Kent', '8532000.00'), ('Lancashire', '8768000.00')]
    """

    allocations: tuple[Allocation, ...]

    @property
    def maximum(self) -> Decimal:
        """Every council's maximum added up.

        >>> allocation_table([{"council": "A", "estimated_families": 6}]).maximum
        Decimal('20000.00')
        """
        return sum((a.maximum for a in self.allocations), ZERO)

    def summary(self) -> list[dict[str, Any]]:
        """One row per council: estimated and funded families, fees, results, grant, maximum.

        >>> allocation_table([{"council": "A", "estimated_families": 6}]).summary()[0]["funded_families"]
        5
        """
        return [
            {
                "council": a.council,
                "programme": a.programme,
                "estimated_families": a.estimated_families,
                "funded_families": a.whole_funded_families,
                "attachment_fees": a.attachment_fees,
                "results_potential": a.results_potential,
                "upfront_grant": a.upfront_grant,
                "maximum": a.maximum,
            }
            for a in self.allocations
        ]

    def to_records(self) -> list[dict[str, Any]]:
        """One row per council and financial year of attachment (a tidy table).

        >>> rows = allocation_table([{"council": "A", "estimated_families": 6}]).to_records()
        >>> [r["year"] for r in rows]
        ['2012/13', '2013/14', '2014/15']
        """
        return [row for a in self.allocations for row in a.to_records()]

    def to_pandas(self, table: str = "years") -> Any:
        """``"years"`` (council × year, default) or ``"summary"`` as a DataFrame (money in pence).

        >>> frame = allocation_table([{"council": "A", "estimated_families": 6}]).to_pandas()
        >>> int(frame["maximum_pence"].sum())
        2000000
        """
        from pbr.forecast._frames import to_frame

        if table not in ("years", "summary"):
            raise ForecastError(f"table must be 'years' or 'summary', got {table!r}")
        return to_frame(self.summary() if table == "summary" else self.to_records())

    def to_excel(self, path: str | Path) -> None:
        """Write the summary and the council × year table to an XLSX workbook.

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "councils.xlsx"
        >>> allocation_table([{"council": "A", "estimated_families": 6}]).to_excel(path)
        >>> path.exists()
        True
        """
        from pbr.forecast._excel import write_workbook

        write_workbook(path, [("summary", self.summary()), ("allocation", self.to_records())])

    def compare(self, scenarios: Iterable[Assumptions] | None = None, **options: Any) -> Any:
        """Every council's drawdown under each scenario (`pbr.forecast.compare`).

        >>> table = allocation_table([{"council": "A", "estimated_families": 6},
        ...     {"council": "B", "estimated_families": 12}])
        >>> [(r["council"], r["scenario"]) for r in table.compare().summary()]
        [('A', 'base'), ('B', 'base')]
        """
        from pbr.forecast._drawdown import compare

        return compare(self, scenarios, **options)

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw each council's maximum by financial year of attachment, side by side.

        >>> table = allocation_table([{"council": "A", "estimated_families": 600},
        ...     {"council": "B", "estimated_families": 1200}])
        >>> table.plot().axes[0].get_title()
        'Maximum funding by council and financial year of attachment'
        """
        from pbr.forecast._plot import plot_allocations

        return plot_allocations(self, path=path, title=title)


@in_exact_arithmetic
def allocation_table(councils: Any) -> AllocationTable:
    """Allocations for every council of `councils`: a CSV path, a DataFrame or rows of mappings.

    Rows may also be `Allocation` objects (each needs a council name).

    >>> table = allocation_table([
    ...     {"council": "North Yorkshire", "estimated_families": 1000,
    ...      "programme": "supporting-families", "upfront_grant": "1081000"}])
    >>> str(table.allocations[0].upfront_grant)
    '4324000.00'
    """
    if isinstance(councils, str | Path):
        return _table(_read_csv(Path(councils)), f"{councils} ")
    if hasattr(councils, "to_dict") and hasattr(councils, "columns"):
        _check_header([str(c) for c in councils.columns], "the table")
        councils = councils.to_dict("records")
    found: list[tuple[str, Allocation]] = []
    for n, row in enumerate(councils, start=1):
        if isinstance(row, Allocation):
            if row.council is None:
                raise ForecastError(f"row {n}: an allocation in a table needs a council name")
            found.append((f"row {n}", row))
        elif isinstance(row, Mapping):
            found.append((f"row {n}", _council(row, f"row {n}")))
        else:
            raise ForecastError(f"row {n}: expected a mapping of {', '.join(COLUMNS)}, got {row!r}")
    return _table(found, "")


def _read_csv(path: Path) -> list[tuple[str, Allocation]]:
    """The councils of a CSV file, each with the line its row starts on.

    The text goes to the csv module as written (``newline=""``): a quoted cell keeps a line
    break or carriage return it holds (a council's name is then refused, never changed), and a
    row whose cell spans lines is one row, named by its first line. As in council tables, a
    line with nothing on it is no row, and a row of blank cells (``,,,``) is an error.
    """
    text = read_text(
        path,
        "councils file (UTF-8 CSV)",
        encoding="utf-8-sig",
        newline="",
        max_line=MAX_LINE_BYTES,
    )
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    found = []
    end = 0  # the last line of the row before
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num
            if not cells:  # a blank line
                continue
            if header is None:
                header = cells
                _check_header(header, f"{path} line {line}")
                continue
            if len(cells) > len(header):
                raise ForecastError(f"{path} line {line}: more cells than columns")
            row: dict[str, str | None] = dict.fromkeys(header)
            row.update(zip(header, cells, strict=False))
            if not any((v or "").strip() for v in row.values()):  # as council tables' empty_row
                raise ForecastError(
                    f"{path} line {line}: the row is empty (every cell blank): delete it"
                )
            found.append((f"line {line}", _council(row, f"{path} line {line}")))
    except csv.Error as exc:
        raise ForecastError(f"{path} line {reader.line_num}: not a CSV file: {exc}") from None
    if not found:
        raise ForecastError(f"{path}: no councils (expected columns {', '.join(COLUMNS)})")
    return found


def _check_header(names: list[str], where: str) -> None:
    """Refuse a column given twice (the last would silently win), as `_council` reads names."""
    seen: set[str] = set()
    for name in names:
        key = _column(name)
        if key in seen:
            raise ForecastError(f"{where}: column {key!r} is given twice (give each column once)")
        seen.add(key)


def _column(name: object) -> str:
    """A column's name as the table reads it: case and surrounding spaces do not matter."""
    return str(name).strip().lower()


def _council(row: Mapping[Any, Any], where: str) -> Allocation:
    _check_header([str(k) for k in row], where)
    cells = {_column(k): v for k, v in row.items()}
    unknown = sorted(set(cells) - set(COLUMNS))
    if unknown:
        raise ForecastError(f"{where}: unknown columns {unknown} (expected {', '.join(COLUMNS)})")
    name = _text(cells.get("council"))
    if not name:
        raise ForecastError(f"{where}: council: a name is required")
    written = cells["council"]
    edge = isinstance(written, str) and written != written.strip(" \t")
    unprintable = control_character(written) if isinstance(written, str) else None
    if unprintable is not None and not edge:  # "\r=cr" was read as "=cr": never changed
        raise ForecastError(
            f"{where}: council {written!r} holds {unprintable}: a council's name must be "
            "printable text; pbr does not trim or change it: remove it"
        )
    if isinstance(written, str) and written != name:  # as records and council tables refuse it
        raise ForecastError(
            f"{where}: council {written!r} has a space or tab at its start or end; pbr does not "
            "trim: remove it"
        )
    where = f"{where} (council {name!r})"
    if _blank(cells.get("estimated_families")):
        raise ForecastError(f"{where}: estimated_families: a number is required")
    programme = _programme(cells, where)
    grant = None if _blank(cells.get("upfront_grant")) else cells["upfront_grant"]
    try:
        return allocation(
            _spreadsheet_number(cells["estimated_families"]),
            programme,
            upfront_grant=_spreadsheet_number(grant, pounds=True),
            council=name,
        )
    except ValueError as exc:
        raise ForecastError(f"{where}: {exc}") from None


def _programme(cells: Mapping[str, object], where: str) -> str:
    """The row's programme: the default only when the table has no ``programme`` column.

    A blank cell in a ``programme`` column (an empty CSV cell, None or NaN in a DataFrame) is
    refused: in a table of several programmes it would quietly make the council phase one.
    """
    if "programme" not in cells:
        return default_programme()
    if _blank(cells["programme"]):
        raise ForecastError(
            f"{where}: programme: the cell is empty; give the council's programme (such as "
            f"{default_programme()}), or leave the whole column out for {default_programme()}"
        )
    return _text(cells["programme"])


def _table(found: list[tuple[str, Allocation]], source: str) -> AllocationTable:
    """The councils as one table, refusing a council listed twice (naming both rows or lines)."""
    first: dict[str, tuple[str, str]] = {}
    for where, a in found:
        name = a.council or ""
        key = council_key(name)
        if key in first:
            earlier, as_written = first[key]
            raise ForecastError(
                f"{source}{where}: council {name!r} is listed twice (also {earlier}, as "
                f"{as_written!r}; names are compared ignoring case)"
                if name != as_written
                else f"{source}{where}: council {name!r} is listed twice (also {earlier})"
            )
        first[key] = (where, name)
    if not found:
        raise ForecastError("no councils given")
    return AllocationTable(tuple(a for _, a in found))


def council_key(name: str) -> str:
    """A council's name for telling councils apart: case and surrounding spaces ignored.

    >>> council_key(" Kent ") == council_key("KENT")
    True
    """
    return name.strip().casefold()


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN: an empty cell in a DataFrame
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: object) -> str:
    return "" if _blank(value) else str(value).strip()


def _spreadsheet_number(value: object, pounds: bool = False) -> object:
    """A cell's number as a spreadsheet writes it, its separators (and for money, £) taken off.

    ``2,630`` and ``£1,081,000`` are read when every separator is in its place; anything else is
    left as it is, for the field's own check to refuse (`` 12``, ``1,0,0``, ``1e3``).
    """
    if isinstance(value, str) and (_POUNDS if pounds else _GROUPED).fullmatch(value):
        return value.removeprefix("£").replace(",", "")
    return value


_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")
_POUNDS = re.compile(r"£?(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|0|[1-9][0-9]*)(?:\.[0-9]{2})?")
