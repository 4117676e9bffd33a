"""A tamper-evident, append-only ledger of payments per family, in SQLite (standard library).

Each entry carries the SHA-256 of its own content and of the entry before it, so editing,
deleting or reordering any entry breaks the chain; a one-row ``head`` table holds the count and
the last hash, written in the same transaction, so removing the newest entries is caught too.
Appends run in ``BEGIN IMMEDIATE`` transactions: concurrent writers queue, nothing is lost, and
a failed write leaves the ledger as it was.

>>> import tempfile, pathlib
>>> from datetime import date
>>> from decimal import Decimal
>>> db = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
>>> ledger = Ledger(db)
>>> ledger.append([Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1),
...                      "C-1", "tf-phase-1/1.0")])
1
>>> ledger.verify().ok
True
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from pbr.errors import PbrError
from pbr.money import money

__all__ = ["CSV_COLUMNS", "Entry", "Ledger", "LedgerError", "Verdict"]

CSV_COLUMNS = ("family_id", "kind", "amount", "paid_on", "claim_id", "rules_version")
"""The columns of a ledger CSV (import and export), in order."""
_GENESIS = "0" * 64
_KINDS = frozenset(
    {
        "attachment_fee",
        "crime_asb_education",
        "progress_to_work",
        "continuous_employment",
        "sustained_progress",
    }
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    family_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT OR IGNORE INTO head (id, count, hash) VALUES (1, 0, '{_GENESIS}');
"""


class LedgerError(PbrError, ValueError):
    """A ledger entry that cannot be written (the ledger is left unchanged)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One payment: family, kind, amount, date paid, claim id and the rule-set version used."""

    family_id: str
    kind: str
    amount: Decimal
    paid_on: date
    claim_id: str
    rules_version: str

    def canonical(self, seq: int) -> str:
        """The text the entry's hash covers (its position included, so order is fixed)."""
        return "|".join(
            (
                str(seq),
                self.family_id,
                self.kind,
                f"{self.amount:.2f}",
                self.paid_on.isoformat(),
                self.claim_id,
                self.rules_version,
            )
        )

    def check(self) -> None:
        """Raise `LedgerError` naming the field if the entry is not writable."""
        if not self.family_id or not self.claim_id:
            raise LedgerError(f"claim {self.claim_id!r}: family_id and claim_id are required")
        if self.kind not in _KINDS:
            raise LedgerError(f"claim {self.claim_id!r}: unknown kind {self.kind!r}")
        if self.amount < 0 or self.amount != self.amount.quantize(Decimal("0.01")):
            raise LedgerError(f"claim {self.claim_id!r}: bad amount {self.amount!r}")


def _chain(prev: str, entry: Entry, seq: int) -> str:
    return hashlib.sha256(f"{prev}|{entry.canonical(seq)}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of `Ledger.verify`: whether the chain holds, and the first bad entry if not."""

    ok: bool
    entries: int
    first_bad: int | None = None
    why: str = ""


class Ledger:
    """A payments ledger in the SQLite file at `path` (created on first use)."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return db

    def append(self, entries: Iterable[Entry]) -> int:
        """Append `entries` atomically, in order; return how many were written.

        Every entry is checked first; if any is bad, or the write fails, nothing is written.
        """
        batch = list(entries)
        for entry in batch:
            entry.check()
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                count, prev = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
                for entry in batch:
                    count += 1
                    before, prev = prev, _chain(prev, entry, count)
                    db.execute(
                        "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            count,
                            entry.family_id,
                            entry.kind,
                            f"{entry.amount:.2f}",
                            entry.paid_on.isoformat(),
                            entry.claim_id,
                            entry.rules_version,
                            before,
                            prev,
                        ),
                    )
                db.execute("UPDATE head SET count = ?, hash = ? WHERE id = 1", (count, prev))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return len(batch)

    def entries(self) -> Iterator[tuple[int, Entry]]:
        """Every entry with its sequence number, in order."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT seq, family_id, kind, amount, paid_on, claim_id, rules_version "
                "FROM entries ORDER BY seq"
            ).fetchall()
        for seq, family_id, kind, amount, paid_on, claim_id, version in rows:
            yield (
                seq,
                Entry(
                    family_id, kind, Decimal(amount), date.fromisoformat(paid_on), claim_id, version
                ),
            )

    def verify(self) -> Verdict:
        """Recompute the chain; name the first entry that was edited, deleted or moved."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT * FROM entries ORDER BY seq").fetchall()
            count, head = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
        prev = _GENESIS
        for n, (
            seq,
            family_id,
            kind,
            amount,
            paid_on,
            claim_id,
            version,
            stored_prev,
            h,
        ) in enumerate(rows, start=1):
            if seq != n:
                return Verdict(False, len(rows), n, f"entry {n} is missing (next is {seq})")
            try:
                entry = Entry(
                    family_id, kind, Decimal(amount), date.fromisoformat(paid_on), claim_id, version
                )
            except (ValueError, ArithmeticError):
                return Verdict(False, len(rows), seq, f"entry {seq} cannot be read")
            if stored_prev != prev:
                return Verdict(
                    False, len(rows), seq, f"entry {seq} does not follow entry {seq - 1}"
                )
            prev = _chain(prev, entry, seq)
            if h != prev:
                return Verdict(
                    False, len(rows), seq, f"entry {seq} was changed after it was written"
                )
        if count != len(rows) or head != prev:
            first = min(count, len(rows)) + 1
            return Verdict(
                False,
                len(rows),
                first,
                f"the ledger ends at entry {len(rows)} but recorded {count}",
            )
        return Verdict(True, len(rows))

    def payments(self) -> dict[str, list[Entry]]:
        """Entries grouped by family, in order (the payment history `evaluate` can use)."""
        found: dict[str, list[Entry]] = {}
        for _, entry in self.entries():
            found.setdefault(entry.family_id, []).append(entry)
        return found

    def export_csv(self, path: str | Path) -> int:
        """Write every entry to a CSV file; return how many."""
        n = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for _, e in self.entries():
                writer.writerow(
                    [e.family_id, e.kind, f"{e.amount:.2f}", e.paid_on, e.claim_id, e.rules_version]
                )
                n += 1
        return n

    def import_csv(self, path: str | Path) -> int:
        """Append the rows of a CSV file (all or nothing); errors name the row and column."""
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise LedgerError(f"{path}: missing columns {sorted(missing)}")
            batch = []
            for row_number, row in enumerate(reader, start=2):
                try:
                    batch.append(
                        Entry(
                            row["family_id"],
                            row["kind"],
                            money(row["amount"]),
                            date.fromisoformat(row["paid_on"]),
                            row["claim_id"],
                            row["rules_version"],
                        )
                    )
                except (ValueError, TypeError) as exc:
                    raise LedgerError(f"{path}: row {row_number}: {exc}") from None
        try:
            return self.append(batch)
        except LedgerError as exc:
            raise LedgerError(f"{path}: {exc}") from None
