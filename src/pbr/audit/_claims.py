"""Claim files: what a council submits (CSV or JSON), read row by row, bad rows reported."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pbr.money import Money
from pbr.records import PaymentKind

__all__ = ["Claim", "ClaimRejection", "read_claims"]


class Claim(BaseModel):
    """One claim line: a payment the council asks for, for one family and one kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: Annotated[str, Field(min_length=1, max_length=64)]
    family_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    kind: PaymentKind
    amount: Annotated[Money, Field(ge=Decimal(0))]
    claimed_on: date
    window: Annotated[str, Field(max_length=64)] | None = None
    row: int = 0
    """Where the claim was read (its row in a CSV file, line in JSON Lines, item in an array)."""


@dataclass(frozen=True, slots=True)
class ClaimRejection:
    """A claim row that could not be read: where, which field, what value, and why."""

    source: str
    row: int
    claim_id: str | None
    field: str
    value: str
    message: str

    def describe(self) -> str:
        """One line for people: ``claims.csv:4 claim 'C9': amount = '12.345': ...``."""
        who = f" claim {self.claim_id!r}" if self.claim_id else ""
        return f"{self.source}:{self.row}{who}: {self.field} = {self.value}: {self.message}"


def read_claims(path: str | Path) -> tuple[list[Claim], list[ClaimRejection]]:
    """Read a claim file (``.csv``, ``.json`` or ``.jsonl``); every row is a claim or a rejection.

    CSV columns: ``claim_id, family_id, kind, amount, claimed_on`` and optionally ``window``;
    CSV rows are numbered as a spreadsheet shows them (the header is row 1).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        rows = [(n, dict(row)) for n, row in enumerate(csv.DictReader(text.splitlines()), start=2)]
    elif path.suffix.lower() == ".json":
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
        rows = [(n, item) for n, item in enumerate(items, start=1)]
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except ValueError as exc:
                rows.append((n, {"__bad_json__": str(exc)}))
    claims: list[Claim] = []
    rejected: list[ClaimRejection] = []
    seen: set[str] = set()
    for n, row in rows:
        claim_or_error = _claim(str(path.name), n, row, seen)
        if isinstance(claim_or_error, Claim):
            claims.append(claim_or_error)
            seen.add(claim_or_error.claim_id)
        else:
            rejected.append(claim_or_error)
    return claims, rejected


def _claim(source: str, n: int, row: Any, seen: set[str]) -> Claim | ClaimRejection:
    if not isinstance(row, dict):
        return ClaimRejection(source, n, None, "(row)", repr(row)[:60], "a claim is an object")
    if "__bad_json__" in row:
        return ClaimRejection(source, n, None, "(line)", "", f"invalid JSON: {row['__bad_json__']}")
    cleaned = {k: (v if v != "" else None) for k, v in row.items() if k is not None}
    if cleaned.get("window") is None:
        cleaned.pop("window", None)
    claim_id = cleaned.get("claim_id") if isinstance(cleaned.get("claim_id"), str) else None
    if claim_id is not None and claim_id in seen:
        return ClaimRejection(
            source, n, claim_id, "claim_id", repr(claim_id), "the same claim_id appears earlier"
        )
    try:
        return Claim.model_validate({**cleaned, "row": n})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(row)"
        value = repr(err["input"]) if err["type"] != "missing" else "(missing)"
        message = err["msg"].removeprefix("Value error, ")
        return ClaimRejection(source, n, claim_id, field, value[:80], message)
