"""Writing decisions: JSON Lines, long CSV or XLSX, atomically; and a pandas table.

Files are written to a temporary file beside the target and renamed into place when complete,
so a crash leaves either the whole output or none of it — never half a file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pbr.decisions import Decision
from pbr.io import Rejection

__all__ = ["RESULT_COLUMNS", "atomic_writer", "result_rows", "to_pandas", "write_decisions"]

RESULT_COLUMNS = (
    "family_id",
    "programme",
    "rules_version",
    "as_of",
    "attached_on",
    "attachment_year",
    "eligible",
    "attachment_fee",
    "result",
    "status",
    "amount",
    "rate",
    "earliest_date",
    "reason_codes",
    "payable",
    "paid_to_date",
)
"""The columns of the long CSV: one row per family and result, money as decimal text."""


def result_rows(decision: Decision) -> Iterator[dict[str, str]]:
    """One flat row per result of `decision` (money as decimal text, dates ISO).

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> [r["result"] for r in result_rows(pbr.evaluate(family, as_of=date(2013, 1, 1)))]
    ['crime_asb_education', 'progress_to_work', 'continuous_employment']
    """
    d = decision
    for kind, r in d.results.items():
        yield {
            "family_id": d.family_id,
            "programme": d.programme,
            "rules_version": d.rules_version,
            "as_of": d.as_of.isoformat(),
            "attached_on": d.attached_on.isoformat(),
            "attachment_year": d.attachment_year,
            "eligible": "true" if d.eligible else "false",
            "attachment_fee": f"{d.attachment_fee:.2f}",
            "result": kind,
            "status": r.status,
            "amount": f"{r.amount:.2f}",
            "rate": f"{r.rate:.2f}",
            "earliest_date": r.earliest_date.isoformat() if r.earliest_date else "",
            "reason_codes": " ".join(r.codes),
            "payable": f"{d.payable:.2f}",
            "paid_to_date": f"{d.paid_to_date:.2f}",
        }


@contextmanager
def atomic_writer(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        binary = "b" in mode
        handle: IO[Any] = (
            os.fdopen(fd, mode) if binary else os.fdopen(fd, mode, encoding="utf-8", newline="")
        )
        with handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_decisions(decisions: Iterable[Decision], path: str | Path, fmt: str | None = None) -> int:
    """Write decisions to `path` as ``jsonl``, ``csv`` (long) or ``xlsx`` (by suffix by default).

    Streams for JSON Lines and CSV; returns how many decisions were written.
    """
    path = Path(path)
    fmt = fmt or {".csv": "csv", ".xlsx": "xlsx"}.get(path.suffix.lower(), "jsonl")
    n = 0
    if fmt == "xlsx":
        try:
            from openpyxl import Workbook
        except ImportError as exc:
            raise ImportError('XLSX output needs openpyxl: pip install "pbr[xlsx]"') from exc
        book = Workbook(write_only=True)
        sheet = book.create_sheet("results")
        sheet.append(list(RESULT_COLUMNS))
        for decision in decisions:
            for row in result_rows(decision):
                sheet.append([row[c] for c in RESULT_COLUMNS])
            n += 1
        buffer = io.BytesIO()
        book.save(buffer)
        with atomic_writer(path, "wb") as handle:
            handle.write(buffer.getvalue())
        return n
    with atomic_writer(path) as handle:
        if fmt == "csv":
            writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for decision in decisions:
                writer.writerows(result_rows(decision))
                n += 1
        else:
            for decision in decisions:
                handle.write(decision.model_dump_json() + "\n")
                n += 1
    return n


def to_pandas(decisions: Iterable[Decision | Rejection]) -> Any:
    """A pandas DataFrame with one row per family and result (``pip install "pbr[pandas]"``).

    Money columns hold `Decimal` values, exact to the penny. A `Rejection` becomes one row with
    status ``rejected`` and its error types as reason codes, so nothing is dropped.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> frame = pbr.to_pandas([pbr.evaluate(family, as_of=date(2013, 1, 1))])
    >>> frame.shape, frame.loc[0, "result"]
    ((3, 16), 'crime_asb_education')
    """
    from decimal import Decimal

    from pbr.forecast._extras import pandas

    rows: list[dict[str, Any]] = []
    for decision in decisions:
        if isinstance(decision, Rejection):
            rows.append(
                {
                    "family_id": decision.family_id,
                    "status": "rejected",
                    "reason_codes": " ".join(e.type for e in decision.errors),
                }
            )
            continue
        for row in result_rows(decision):
            typed: dict[str, Any] = dict(row)
            for key in ("attachment_fee", "amount", "rate", "payable", "paid_to_date"):
                typed[key] = Decimal(row[key])
            rows.append(typed)
    return pandas().DataFrame(rows, columns=list(RESULT_COLUMNS))
