"""A decision's rows as text, the long CSV's and the table's: what `pbr evaluate` writes, compiled.

`pbr.output` owns both formats (their columns, the CSV's writer, `neutralise`'s rule); these
are the functions it writes every decision's rows with, compiled with the rules
(`pbr._native`) so a national run's CSV or table costs about what its JSON does. The same
source runs as Python where pbr is not compiled; tests/test_output.py holds both to the csv
module's rows and to `json.dumps`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from pbr.money import PENNY, format_gbp

__all__ = [
    "TABLE_KINDS",
    "csv_lines",
    "interpretations_text",
    "neutralise",
    "pounds",
    "programme_short_names",
    "result_lists",
    "table_cells",
    "table_row",
    "table_text",
]

_FORMULA_START = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\0",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)
"""What a spreadsheet may run as a formula at a cell's start (OWASP), and full-width forms."""
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def neutralise(text: str) -> str:
    """`pbr.output.neutralise`: a leading apostrophe if `text` could run as a formula."""
    if text[:1].isalnum():  # the usual cell: no formula, space or apostrophe can start it
        return text
    if text.startswith("'"):
        return "'" + text
    if text.lstrip(" ").startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def pounds(amount: Decimal) -> str:
    """Money as decimal text with two places: ``f"{amount:.2f}"``, as `str` when it has them."""
    return str(amount) if amount.same_quantum(PENNY) else f"{amount:.2f}"


_INTERPRETATIONS_TEXT: dict[tuple[tuple[str, str], ...], str] = {}
"""`interpretations_text` by the mapping's items, in order."""


def interpretations_text(interpretations: Mapping[str, str]) -> str:
    """`pbr.output.interpretations_text`: ``id=value`` in order, joined by ``; ``."""
    key = tuple(interpretations.items())
    found = _INTERPRETATIONS_TEXT.get(key)
    if found is None:
        found = "; ".join(f"{k}={v}" for k, v in key)
        if len(_INTERPRETATIONS_TEXT) >= 256:  # bounded: a caller could vary them without end
            _INTERPRETATIONS_TEXT.clear()
        _INTERPRETATIONS_TEXT[key] = found
    return found


def _kept(text: str, neutralised: bool) -> str:
    return neutralise(text) if neutralised else text


def result_lists(decision: Any, neutralised: bool) -> list[list[str]]:
    """`pbr.output.result_rows` as lists in its columns' order (`pbr.output.RESULT_COLUMNS`).

    With `neutralised`, each value a record, rule set or plan wrote (ids, council, programme,
    rules version, outcome plan, reason codes, interpretations) goes through `neutralise`
    once; the others are dates, money, years, flags and the vocabulary's statuses and result
    kinds, which start with a digit or a letter and so pass it unchanged. The family's own
    columns are worked out once for all its rows.
    """
    d = decision
    family = [
        _kept(d.family_id, neutralised),
        _kept(d.local_authority or "", neutralised),
        _kept(d.programme, neutralised),
        _kept(d.rules_version, neutralised),
        _kept(d.outcome_plan or "", neutralised),
        d.as_of.isoformat(),
        d.attached_on.isoformat(),
        d.attachment_year,
        "true" if d.eligible else "false",
        pounds(d.attachment_fee),
    ]
    warned = ""
    if d.warnings:
        warned = _kept(" ".join(dict.fromkeys(w.code for w in d.warnings)), neutralised)
    provenance = d.provenance
    after = [
        pounds(d.payable),
        pounds(d.paid_to_date),
        warned,
        _kept(interpretations_text(d.interpretations), neutralised),
        provenance.rules_hash if provenance is not None else "",  # hex digits: no formula
    ]
    rows: list[list[str]] = []
    for kind, r in d.results.items():
        earliest = r.earliest_date
        row = family.copy()
        row.append(kind)
        row.append(r.status)
        row.append(pounds(r.amount))
        row.append(pounds(r.rate))
        row.append(earliest.isoformat() if earliest else "")
        row.append(_kept(" ".join([reason.code for reason in r.reasons]), neutralised))
        row.extend(after)
        rows.append(row)
    return rows


def csv_lines(decision: Any) -> str | None:
    r"""The decision's rows as `pbr.output.CsvWriter` writes them, when no value needs quoting.

    None when one does (a comma, a quote or a line break in it): the writer then writes them.
    Each row ends with ``\n``; the values neutralised.
    """
    lines: list[str] = []
    for values in result_lists(decision, True):
        line = ",".join(values)
        if (
            not line  # a row of one empty value is written ""
            or line.count(",") != len(values) - 1
            or '"' in line
            or "\r" in line
            or "\n" in line
        ):
            return None
        lines.append(line)
        lines.append("\n")
    return "".join(lines)


TABLE_KINDS: tuple[str, ...] = (
    "crime_asb_education",
    "progress_to_work",
    "continuous_employment",
    "sustained_progress",
)
"""The result columns of `pbr evaluate`'s table, in order (only those some family has are shown)."""

_SHORT_STATUS = {
    "met": "met",
    "not_met": "not met",
    "not_applicable": "n/a",
    "already_paid": "paid",
}


_shorts: list[Any] = [None, {}]
"""The programmes (`pbr.programmes.programmes()`, whose tuple changes when one is registered)
and their short names by id."""


def programme_short_names() -> dict[str, str]:
    """The programmes' short names (``TF1``) by id, as registered now."""
    from pbr.programmes import programmes

    every = programmes()
    if _shorts[0] is not every:
        _shorts[:] = [every, {p.id: p.short for p in every}]
    names: dict[str, str] = _shorts[1]
    return names


def table_cells(decision: Any, short_names: Mapping[str, str]) -> list[str]:
    """`pbr.output.table_cells`, the programmes' short names given (by id)."""
    d = decision
    programme: str = d.programme
    cells = [
        d.family_id,
        short_names.get(programme, programme),
        d.attached_on.isoformat(),
        d.attachment_year,
        "yes" if d.eligible else "no",
    ]
    results = d.results
    for kind in TABLE_KINDS:
        r = results.get(kind)
        if r is None:
            cells.append("")
        elif r.amount:
            cells.append(_SHORT_STATUS[r.status] + " " + format_gbp(r.amount))
        else:
            cells.append(_SHORT_STATUS[r.status])
    plan = d.outcome_plan
    if not plan:
        cells.append("")
    elif any(w.code == "EXAMPLE_PLAN_USED" for w in d.warnings):
        cells.append(f"{plan} (example)")
    else:
        cells.append(plan)
    cells.append(format_gbp(d.payable))
    return cells


def table_text(cells: list[str]) -> str:
    """`pbr.output.table_text`: ``json.dumps(cells, ensure_ascii=False)``'s text."""
    return "[" + ", ".join([encode_basestring(cell) for cell in cells]) + "]"


def table_row(decision: Any, widths: list[int], short_names: Mapping[str, str]) -> str:
    """The decision's row of the table as text, widening `widths` to its cells."""
    cells = table_cells(decision, short_names)
    if not widths:
        widths.extend([0] * len(cells))
    for i, cell in enumerate(cells):
        if len(cell) > widths[i]:
            widths[i] = len(cell)
    return table_text(cells)
