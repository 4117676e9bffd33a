"""A decision's long-CSV rows as text: what `pbr evaluate --format csv` writes, compiled.

`pbr.output` owns the long CSV (its columns, its writer, `neutralise`'s rule); these are the
functions it writes every decision's rows with, compiled with the rules (`pbr._native`) so a
national run's CSV costs about what its JSON does. The same source runs as Python where pbr
is not compiled; tests/test_output.py holds both to the csv module's rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pbr.money import PENNY

__all__ = ["csv_lines", "interpretations_text", "neutralise", "pounds", "result_lists"]

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
