"""Claim files: what a council submits (CSV or JSON), read row by row, bad rows reported."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pbr._strict import IsoDate
from pbr.money import Money
from pbr.records import Identifier, PaymentKind

__all__ = ["CLAIM_COLUMNS", "Claim", "ClaimRejection", "read_claims"]

CLAIM_COLUMNS = ("claim_id", "family_id", "kind", "amount", "claimed_on", "window")
"""The columns of a claim file, in order; ``window`` (the claim window's label) is optional."""


class Claim(BaseModel):
    """One claim line: a payment the council asks for, for one family and one kind.

    `kind` is ``attachment_fee`` or a result kind of the family's programme; `amount` is exact
    pounds (pence at most, never a float).

    >>> from datetime import date
    >>> claim = Claim(claim_id="C-1", family_id="F1", kind="attachment_fee", amount="3200.00",
    ...               claimed_on=date(2012, 11, 1))
    >>> claim.amount, claim.window
    (Decimal('3200.00'), None)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: Annotated[str, Field(min_length=1, max_length=64)]
    family_id: Identifier
    kind: PaymentKind
    amount: Annotated[Money, Field(ge=Decimal(0))]
    claimed_on: IsoDate
    window: Annotated[str, Field(max_length=64)] | None = None
    row: int = 0
    """Where the claim was read (its row in a CSV file, line in JSON Lines, item in an array)."""


@dataclass(frozen=True, slots=True)
class ClaimRejection:
    """A claim row that could not be read: where, which field, what value, and why.

    `kind` and `amount` are the row's kind and amount where they could be read on their own: the
    reconciliation shows that money as claimed but unverified, so nothing claimed drops out.

    >>> ClaimRejection("claims.csv", 4, "C9", "amount", "'12.345'", "too many decimals").describe()
    "claims.csv:4 claim 'C9': amount = '12.345': too many decimals"
    """

    source: str
    row: int
    claim_id: str | None
    field: str
    value: str
    message: str
    kind: str | None = None
    """The row's kind, if it is a payment kind (else None)."""
    amount: Decimal | None = None
    """The row's amount, if it is a sum of money (else None)."""

    def describe(self) -> str:
        """One line for people: ``claims.csv:4 claim 'C9': amount = '12.345': ...``."""
        who = f" claim {self.claim_id!r}" if self.claim_id else ""
        return f"{self.source}:{self.row}{who}: {self.field} = {self.value}: {self.message}"


def read_claims(path: str | Path) -> tuple[list[Claim], list[ClaimRejection]]:
    r"""Read a claim file (``.csv``, ``.json`` or ``.jsonl``); every row is a claim or a rejection.

    CSV columns: ``claim_id, family_id, kind, amount, claimed_on`` and optionally ``window``;
    CSV rows are numbered as a spreadsheet shows them (the header is row 1; a blank line still
    counts). A row that repeats an earlier one exactly is read as a claim (`verify` flags it
    ``DUPLICATE_IN_FILE``); a ``claim_id`` repeated with other values, a missing or unknown
    column, surplus values and a bad value are each a rejection naming the row, the field and the
    value, with its kind and amount where they can be read. Nothing is dropped.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "claims.csv"
    >>> _ = path.write_text("claim_id,family_id,kind,amount,claimed_on\n"
    ...     "C1,F1,attachment_fee,3200.00,2012-11-01\nC2,F2,attachment_fee,12.345,2012-11-01\n")
    >>> claims, rejected = read_claims(path)
    >>> [c.claim_id for c in claims], rejected[0].row, rejected[0].field
    (['C1'], 3, 'amount')

    Raises:
        pbr.io.UnreadableFile: the file cannot be opened, is not UTF-8, or (``.json``) is not
            JSON at all.

    """
    from pbr.io import UnreadableFile

    path = Path(path)
    try:  # a bad byte spoils its own row only: it is kept as a surrogate and rejected there
        text = path.read_bytes().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    except OSError as exc:
        raise UnreadableFile(f"cannot read claim file {path}: {exc}") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows: Iterator[tuple[int, Any]] = _csv_rows(text)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise UnreadableFile(f"{path} is not JSON: {str(exc)[:200]}") from None
        items = data if isinstance(data, list) else [data]
        rows = iter(enumerate(items, start=1))
    else:
        rows = _json_lines(text)
    claims: list[Claim] = []
    rejected: list[ClaimRejection] = []
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    for n, row in rows:
        claim_or_error = _claim(path.name, n, row, seen)
        if isinstance(claim_or_error, Claim):
            claims.append(claim_or_error)
            if claim_or_error.claim_id not in seen:
                seen[claim_or_error.claim_id] = (n, _content(row))
        else:
            rejected.append(claim_or_error)
    return claims, rejected


def _content(row: Any) -> dict[str, Any]:
    """A row's values as compared for an exact duplicate (cells trimmed, empty = missing)."""
    return {k: v for k, v in ((k, _clean(v)) for k, v in row.items()) if v is not None}


_SURPLUS = "__surplus__"
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
"""A byte that was not UTF-8, kept by the ``surrogateescape`` decoding."""
_BAD_JSON = "__bad_json__"


def _csv_rows(text: str) -> Iterator[tuple[int, Any]]:
    """(row number, fields) for each CSV record; blank lines are skipped but still counted."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip() for h in header]
    start = reader.line_num + 1
    for values in reader:
        row_number, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        fields: dict[str, Any] = dict(zip(names, values, strict=False))
        if len(values) > len(names):
            fields[_SURPLUS] = values[len(names) :]
        yield row_number, fields


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield n, {_BAD_JSON: str(exc)[:200]}


def _claim(
    source: str, n: int, row: Any, seen: dict[str, tuple[int, dict[str, Any]]]
) -> Claim | ClaimRejection:
    if not isinstance(row, dict):
        return ClaimRejection(source, n, None, "(row)", repr(row)[:60], "a claim is an object")
    if _BAD_JSON in row:
        return ClaimRejection(source, n, None, "(line)", "", f"invalid JSON: {row[_BAD_JSON]}")
    for field, value in row.items():
        if isinstance(value, str) and _NOT_UTF8.search(value):
            shown = value.encode("utf-8", errors="surrogateescape")[:40].hex(" ")
            return ClaimRejection(
                source, n, None, str(field), shown, "not valid UTF-8: save the file as UTF-8"
            )
    raw_id = row.get("claim_id")
    claim_id = raw_id.strip() or None if isinstance(raw_id, str) else None
    kind, amount = _readable(row)
    if _SURPLUS in row:
        surplus = row[_SURPLUS]
        return ClaimRejection(
            source,
            n,
            claim_id,
            "(row)",
            repr(surplus)[:80],
            f"{len(surplus)} more value(s) than the header has columns",
            kind,
            amount,
        )
    cleaned = {k: _clean(v) for k, v in row.items()}
    if cleaned.get("window") is None:
        cleaned.pop("window", None)
    if claim_id is not None and claim_id in seen:
        first, content = seen[claim_id]
        if content != _content(row):
            return ClaimRejection(
                source,
                n,
                claim_id,
                "claim_id",
                repr(claim_id),
                f"the same claim_id is on row {first} with other values",
                kind,
                amount,
            )
    try:
        return Claim.model_validate({**cleaned, "row": n})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(row)"
        value = repr(err["input"]) if err["type"] != "missing" else "(missing)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] != "missing" and err["input"] is None:
            value, message = "(empty)", "a value is required"
        if err["type"] == "extra_forbidden":
            message = f"unknown column (a claim has {', '.join(CLAIM_COLUMNS)})"
        return ClaimRejection(source, n, claim_id, field, value[:80], message, kind, amount)


def _readable(row: dict[str, Any]) -> tuple[str | None, Decimal | None]:
    """The row's kind and amount where each can be read on its own (for the reconciliation)."""
    from pbr.money import money

    kind = _clean(row.get("kind"))
    try:
        amount: Decimal | None = money(_clean(row.get("amount")))
    except (TypeError, ValueError, ArithmeticError):
        amount = None
    if amount is not None and amount < 0:
        amount = None
    return (kind if kind in get_args(PaymentKind) else None), amount


def _clean(value: Any) -> Any:
    """CSV cells: surrounding spaces go, and an empty cell is a missing value."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
