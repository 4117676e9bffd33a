"""A tamper-evident, append-only ledger of payments per family, in SQLite (standard library).

Each entry carries the SHA-256 of its own content and of the entry before it, so editing,
deleting or reordering any entry breaks the chain and `Ledger.verify` names the first bad
entry; a one-row ``head`` table holds the count and the last hash, written in the same
transaction, so removing the newest entries is caught too. (Cutting the newest entries *and*
rewriting the head to match cannot be seen from inside the file: keep the head hash that
``pbr ledger verify`` prints somewhere else, and compare.) Appends run in ``BEGIN IMMEDIATE``
transactions that read the head and write the chain inside the transaction: concurrent writers
from several processes queue, nothing is lost, and a failed write leaves the ledger as it was.

>>> import tempfile, pathlib
>>> from datetime import date
>>> from decimal import Decimal
>>> db = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
>>> ledger = Ledger(db)
>>> ledger.append([Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1),
...                      "C-1", "tf-phase-1/1.0")])
1
>>> ledger.verify().ok, [p.amount for p in ledger.history()["F1"]]
(True, [Decimal('3200.00')])
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from pbr.errors import PbrError

if TYPE_CHECKING:
    from pbr.records import Payment

__all__ = ["CSV_COLUMNS", "Entry", "Ledger", "LedgerError", "Verdict"]

CSV_COLUMNS = ("family_id", "kind", "amount", "paid_on", "claim_id", "rules_version")
"""The columns of a ledger CSV (import and export), in order."""
GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    family_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    claim_id TEXT NOT NULL UNIQUE,
    rules_version TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_family ON entries (family_id);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT OR IGNORE INTO head (id, count, hash) VALUES (1, 0, '{GENESIS}');
"""
_PENNY = Decimal("0.01")


class LedgerError(PbrError, ValueError):
    """A ledger that cannot be opened, or an entry that cannot be written (nothing is written).

    >>> issubclass(LedgerError, ValueError)
    True
    """


def _kinds() -> frozenset[str]:
    from pbr.records import PaymentKind

    return frozenset(get_args(PaymentKind))


@dataclass(frozen=True, slots=True)
class Entry:
    """One payment: family, kind, amount, date paid, claim id and the rule-set version used.

    >>> e = Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "C-1", "v1")
    >>> e.canonical(1)
    '[1,"F1","attachment_fee","3200.00","2012-11-01","C-1","v1"]'
    """

    family_id: str
    kind: str
    amount: Decimal
    paid_on: date
    claim_id: str
    rules_version: str

    def canonical(self, seq: int) -> str:
        """The text the entry's hash covers: a JSON array, its position first (order is fixed)."""
        return json.dumps(
            [
                seq,
                self.family_id,
                self.kind,
                f"{self.amount:.2f}",
                self.paid_on.isoformat(),
                self.claim_id,
                self.rules_version,
            ],
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def check(self) -> None:
        """Raise `LedgerError` naming the claim, the field and the value if it is not writable.

        >>> Entry("F1", "bonus", Decimal(1), date(2013, 1, 1), "C-9", "v1").check()
        Traceback (most recent call last):
        ...
        pbr.ledger.LedgerError: claim 'C-9': kind = 'bonus': not a payment kind (...)
        """
        who = f"claim {self.claim_id!r}"
        if not self.family_id:
            raise LedgerError(f"{who}: family_id is empty")
        if not self.claim_id:
            raise LedgerError(f"family {self.family_id!r}: claim_id is empty")
        kinds = _kinds()
        if self.kind not in kinds:
            raise LedgerError(
                f"{who}: kind = {self.kind!r}: not a payment kind ({', '.join(sorted(kinds))})"
            )
        amount = self.amount
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            raise LedgerError(f"{who}: amount = {amount!r}: not a sum of money of 0 or more")
        if amount != amount.quantize(_PENNY):
            raise LedgerError(f"{who}: amount = {amount!r}: more than two decimal places")
        if not isinstance(self.paid_on, date):
            raise LedgerError(f"{who}: paid_on = {self.paid_on!r}: not a date")

    def payment(self) -> Payment:
        """The entry as a `pbr.Payment` (for a family record's payments)."""
        from pbr.records import Payment

        return Payment(
            kind=self.kind,
            amount=self.amount,
            paid_on=self.paid_on,
            claim_id=self.claim_id,
        )


def chain(prev_hash: str, entry: Entry, seq: int) -> str:
    """The hash of entry `seq`: SHA-256 of the previous hash, a newline and its canonical text.

    >>> e = Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "C-1", "v1")
    >>> len(chain(GENESIS, e, 1))
    64
    """
    return hashlib.sha256(f"{prev_hash}\n{entry.canonical(seq)}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of `Ledger.verify`: whether the chain holds, and the first bad entry if not.

    >>> Verdict(False, 3, 2, "entry 2 was changed after it was written").ok
    False
    """

    ok: bool
    entries: int
    first_bad: int | None = None
    why: str = ""
    head: str = ""
    """The last entry's hash when the chain holds: keep it elsewhere to detect truncation."""


class Ledger:
    """A payments ledger in the SQLite file at `path`.

    `create=False` refuses a path with no file (so a mistyped path is an error, not an empty
    ledger); a file that is not a ledger is refused either way.

    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
    >>> Ledger(db, create=False)
    Traceback (most recent call last):
    ...
    pbr.ledger.LedgerError: no ledger at .../ledger.db
    >>> Ledger(db).verify().entries
    0
    """

    def __init__(self, path: str | Path, *, create: bool = True, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        if not create and not self.path.is_file():
            raise LedgerError(f"no ledger at {self.path}")
        try:
            with closing(self._connect()) as db:
                tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
                if not {"entries", "head"} <= tables:
                    if tables - {"entries_family"} or not create:
                        raise LedgerError(f"{self.path} is not a ledger: it has tables {tables}")
                    db.executescript(_SCHEMA)  # a new ledger; an existing one is only read
                columns = [row[1] for row in db.execute("PRAGMA table_info(entries)")]
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path} is not a ledger: {exc}") from None
        if columns[: len(CSV_COLUMNS) + 1] != ["seq", *CSV_COLUMNS]:
            raise LedgerError(f"{self.path} is not a ledger: table entries has {columns}")

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _connect(self, *, read_only: bool = False) -> sqlite3.Connection:
        if read_only:  # reads work on a ledger the auditor may only read
            uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
            db = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return db

    def append(self, entries: Iterable[Entry]) -> int:
        """Append `entries` atomically, in order; return how many were written.

        Every entry is checked first; if any is bad, repeats a claim_id, or the write fails,
        nothing is written. The head is read and the chain computed inside the transaction.
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
                    before, prev = prev, chain(prev, entry, count)
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
            except sqlite3.IntegrityError as exc:
                db.execute("ROLLBACK")
                raise LedgerError(_integrity(exc, batch, db)) from None
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return len(batch)

    def entries(self) -> Iterator[tuple[int, Entry]]:
        """Every entry with its sequence number, in order (read in one consistent snapshot)."""
        with closing(self._connect(read_only=True)) as db:
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
        """Recompute the chain; name the first entry that was edited, deleted or moved.

        Reads the entries and the head in one transaction, so appends by other processes
        during the check cannot make a sound ledger look broken.
        """
        with closing(self._connect(read_only=True)) as db:
            db.execute("BEGIN")
            try:
                count, head = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
                rows = db.execute("SELECT * FROM entries ORDER BY seq")
                verdict = _walk(rows, count, head)
            finally:
                db.execute("COMMIT")
        return verdict

    def history(self) -> dict[str, tuple[Payment, ...]]:
        """Payments by family, in ledger order: the payment history `evaluate` and audits use."""
        found: dict[str, list[Payment]] = {}
        for _, entry in self.entries():
            found.setdefault(entry.family_id, []).append(entry.payment())
        return {family: tuple(payments) for family, payments in found.items()}

    def payments(self) -> dict[str, list[Entry]]:
        """Entries grouped by family, in order."""
        found: dict[str, list[Entry]] = {}
        for _, entry in self.entries():
            found.setdefault(entry.family_id, []).append(entry)
        return found

    def export_csv(self, path: str | Path) -> int:
        """Write every entry to a CSV file (`CSV_COLUMNS`), atomically; return how many."""
        from pbr.output import atomic_writer

        n = 0
        with atomic_writer(str(path)) as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for _, e in self.entries():
                writer.writerow(
                    [e.family_id, e.kind, f"{e.amount:.2f}", e.paid_on, e.claim_id, e.rules_version]
                )
                n += 1
        return n

    def import_csv(self, path: str | Path) -> int:
        """Append the rows of a CSV file, all or nothing; errors name the row and the column."""
        from pbr.money import money

        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise LedgerError(f"{path}: missing columns {missing}")
            batch = []
            for row in reader:
                where = f"{path}: row {reader.line_num}"
                values = {c: (row[c] or "").strip() for c in CSV_COLUMNS}
                try:
                    amount = money(values["amount"])
                except (ValueError, TypeError, ArithmeticError) as exc:
                    raise LedgerError(f"{where}: amount = {values['amount']!r}: {exc}") from None
                try:
                    paid_on = date.fromisoformat(values["paid_on"])
                except ValueError:
                    raise LedgerError(
                        f"{where}: paid_on = {values['paid_on']!r}: not a date (YYYY-MM-DD)"
                    ) from None
                entry = Entry(
                    values["family_id"],
                    values["kind"],
                    amount,
                    paid_on,
                    values["claim_id"],
                    values["rules_version"],
                )
                try:
                    entry.check()
                except LedgerError as exc:
                    raise LedgerError(f"{where}: {exc}") from None
                batch.append(entry)
        try:
            return self.append(batch)
        except LedgerError as exc:
            raise LedgerError(f"{path}: {exc}") from None


def _walk(rows: Iterable[tuple[object, ...]], count: int, head: str) -> Verdict:
    prev = GENESIS
    n = 0
    for n, (seq, family_id, kind, amount, paid_on, claim_id, version, stored_prev, h) in enumerate(
        rows, start=1
    ):
        if seq != n:
            return Verdict(False, n - 1, n, f"entry {n} is missing (the next entry is {seq})")
        try:
            entry = Entry(
                str(family_id),
                str(kind),
                Decimal(str(amount)),
                date.fromisoformat(str(paid_on)),
                str(claim_id),
                str(version),
            )
        except (ValueError, ArithmeticError):
            return Verdict(False, n, n, f"entry {n} cannot be read")
        if stored_prev != prev:
            return Verdict(False, n, n, f"entry {n} does not follow entry {n - 1}")
        prev = chain(prev, entry, n)
        if h != prev:
            return Verdict(False, n, n, f"entry {n} was changed after it was written")
    if count != n:
        return Verdict(
            False,
            n,
            min(count, n) + 1,
            f"the ledger ends at entry {n} but its head records {count} entries",
        )
    if head != prev:
        return Verdict(
            False, n, max(n, 1), f"entry {n} does not match the ledger's head: it was changed"
        )
    return Verdict(True, n, head=prev)


def _integrity(exc: sqlite3.IntegrityError, batch: list[Entry], db: sqlite3.Connection) -> str:
    if "claim_id" not in str(exc):
        return f"the ledger refused the entries ({exc}); nothing was written"
    ids = [e.claim_id for e in batch]
    for claim_id in ids:
        found = db.execute(
            "SELECT seq, family_id FROM entries WHERE claim_id = ?", (claim_id,)
        ).fetchone()
        if found is not None:
            return (
                f"claim {claim_id!r}: claim_id is already in the ledger (entry {found[0]}, family "
                f"{found[1]!r}); a payment is recorded once, so nothing was written"
            )
    repeated = next(i for i in ids if ids.count(i) > 1)
    return f"claim {repeated!r}: claim_id is given twice in the entries; nothing was written"
