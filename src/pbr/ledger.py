"""A tamper-evident, append-only ledger of payments per family, in SQLite (standard library).

Each entry is stored in one canonical text form (amounts as pounds with exactly two decimal
places, dates as ``YYYY-MM-DD``) and carries a hash of that text chained to the entry before it;
a one-row ``head`` table holds the count and the last hash, written in the same transaction.
`Ledger.verify` walks the chain and names the first entry that is edited, deleted, inserted,
moved, or not in canonical form, and a ``meta`` row pbr does not write. What each mode detects:

* **Unkeyed** (SHA-256): any change made with a database tool that does not also recompute the
  chain. Someone who knows the method can rewrite entries and recompute every hash (or cut the
  newest entries and rewrite the head): that is invisible from inside the file. Keep the head
  (``pbr ledger head``) somewhere else and check it with ``verify --expect-head``.
* **Keyed** (HMAC-SHA256 with a secret key from ``PBR_LEDGER_KEY`` or a key file, never stored in
  the ledger): recomputing the chain needs the key, so any change by someone without it is found.
  Always verify a keyed ledger with its key: a ledger rewritten as unkeyed is refused only when
  a key is given. Cutting the newest entries and rewriting the head to an earlier entry's hash
  still needs ``--expect-head``, and so does telling a ledger rewritten under another key (its
  key marker too) from a wrong key: the kept head is checked first, against the stored hashes.

An entry records the date of the claim it paid where that is known (`Entry.claimed_on`: ``pbr
ledger record`` takes it from the audit report), hashed with the rest; an audit takes a payment
for the claim with its claim id only if that claim was made that day. A ledger made by an
earlier pbr (format ``pbr-ledger/2``) has no place for it: it is read, verified and appended to
as it was, its entries keeping no claim date.

Appends run in ``BEGIN IMMEDIATE`` transactions that read the head and write the chain inside the
transaction: concurrent writers from several processes (first use included) queue, nothing is
lost, and a failed write leaves the ledger as it was. Every failure (a busy lock, a full disk, a
read-only file, a file that is not a ledger) is a `LedgerError` naming the ledger.

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
import hmac
import io
import json
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, suppress
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from pbr.errors import PbrError

if TYPE_CHECKING:
    from pbr.programmes import Programme
    from pbr.records import Payment

__all__ = [
    "CLAIMED_ON",
    "CSV_COLUMNS",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "Entry",
    "Ledger",
    "LedgerError",
    "Verdict",
    "chain",
    "load_key",
]

CSV_COLUMNS = ("family_id", "kind", "amount", "paid_on", "claim_id", "rules_version")
"""The columns of a ledger CSV (import and export), in order."""
CLAIMED_ON = "claimed_on"
"""The column after `CSV_COLUMNS` of a ledger that records claim dates: the date of the claim
each payment paid (empty where it is not known). ``import`` takes it when it is there."""
KEY_ENV = "PBR_LEDGER_KEY"
"""The environment variable holding a keyed ledger's secret key (at least 16 characters)."""
KEY_FILE_ENV = "PBR_LEDGER_KEY_FILE"
"""The environment variable naming a file that holds the key (takes precedence over the key)."""
GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""
FORMAT = "pbr-ledger/3"
"""The format of a new ledger, in the ``meta`` table: its entries record the claim dates."""
EARLIER_FORMAT = "pbr-ledger/2"
"""The format of a ledger made by an earlier pbr: no claim dates. Read, verified and appended to
as it was (its entries keep no claim date)."""
_COLUMNS = ("seq", *CSV_COLUMNS, "prev_hash", "hash")
_ENTRIES = """CREATE TABLE entries (
    seq INTEGER PRIMARY KEY,
    family_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    claim_id TEXT NOT NULL UNIQUE,
    rules_version TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL"""
_REST = (
    "CREATE INDEX entries_family ON entries (family_id)",
    "CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, "
    "hash TEXT NOT NULL)",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"INSERT INTO head (id, count, hash) VALUES (1, 0, '{GENESIS}')",
)
_SCHEMAS = {
    EARLIER_FORMAT: (_ENTRIES + "\n)", *_REST),
    FORMAT: (_ENTRIES + ",\n    claimed_on TEXT\n)", *_REST),
}
"""The statements that create a ledger of each format (the text SQLite keeps, to the byte)."""
_SCHEMA = _SCHEMAS[FORMAT]
"""What a new ledger is created with."""
_ENTRY_COLUMNS = {EARLIER_FORMAT: _COLUMNS, FORMAT: (*_COLUMNS, CLAIMED_ON)}
_OTHER_TABLES = {"head": ["id", "count", "hash"], "meta": ["name", "value"]}
_META_NAMES = ("format", "key_check", "mac")
"""The rows of the ``meta`` table, as pbr writes them."""
_PENNY = Decimal("0.01")
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})\.[0-9]{2}")
"""The one text form of an amount: pounds, no sign, no leading zeros, exactly two places."""
_HASH = re.compile(r"[0-9a-f]{64}")
_KEPT_HASH = re.compile(r"[0-9a-fA-F]{64}")
"""A kept head's hash as given (``--expect-head``): hex digits in either case."""
_COUNT = re.compile(r"[0-9]+")
"""A kept head's entry count: ASCII digits only (`str.isdigit` takes ``²``, `int` does not)."""
_IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,64}")
_MIN_KEY = 16
_MAX_KEY_FILE = 4096
"""The largest key file read, 4 KiB: a key is 16 bytes or more (32 random bytes in the docs);
HMAC-SHA256 hashes one longer than 64 bytes down to 32, so no key needs a larger file."""
_KEY_CHECK = b"pbr ledger key check"


class LedgerError(PbrError, ValueError):
    """A ledger that cannot be opened, read or written; the message names it (nothing is written).

    >>> issubclass(LedgerError, ValueError)
    True
    """


@lru_cache(maxsize=1)
def _kinds() -> frozenset[str]:
    from pbr.records import PaymentKind

    return frozenset(get_args(PaymentKind))


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _canonical_text(values: tuple[Any, ...]) -> str:
    """A JSON array with no spaces, non-ASCII as is: the one text an entry's hash covers."""
    return _ENCODER.encode(list(values))


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
    claimed_on: date | None = None
    """The date of the claim this payment paid, where it is known (`pbr ledger record` knows
    it): an audit takes the payment for a claim with its claim id only if it was made that day."""

    @property
    def amount_text(self) -> str:
        """The amount in its one stored and hashed form: pounds with exactly two places.

        >>> Entry("F1", "attachment_fee", Decimal("3200"), date(2012, 11, 1), "C", "v").amount_text
        '3200.00'
        """
        return f"{self.amount:.2f}"

    def canonical(self, seq: int) -> str:
        """The text the entry's hash covers: a JSON array, its position first (order is fixed).

        A claim date, where the entry has one, comes last; an entry without one is hashed as an
        earlier pbr hashed it.

        >>> Entry("F", "attachment_fee", Decimal("1.5"), date(2013, 1, 1), "C", "v").canonical(2)
        '[2,"F","attachment_fee","1.50","2013-01-01","C","v"]'
        >>> Entry("F", "attachment_fee", Decimal("1.5"), date(2013, 1, 1), "C", "v",
        ...       date(2012, 12, 1)).canonical(2)
        '[2,"F","attachment_fee","1.50","2013-01-01","C","v","2012-12-01"]'
        """
        claimed = (self.claimed_on.isoformat(),) if self.claimed_on is not None else ()
        return _canonical_text(
            (
                seq,
                self.family_id,
                self.kind,
                self.amount_text,
                self.paid_on.isoformat(),
                self.claim_id,
                self.rules_version,
                *claimed,
            )
        )

    @classmethod
    def from_row(
        cls,
        values: Mapping[str, str],
        amount: Decimal,
        paid_on: date,
        where: str,
        claimed_on: date | None = None,
    ) -> Entry:
        """The checked entry of a CSV row read at `where` (its amount and date already parsed).

        >>> row = {"family_id": "F1", "kind": "attachment_fee", "claim_id": "C-1",
        ...        "rules_version": "v1"}
        >>> Entry.from_row(row, Decimal("3200.00"), date(2012, 11, 1), "row 2").claim_id
        'C-1'
        >>> Entry.from_row({**row, "kind": "bonus"}, Decimal(1), date(2013, 1, 1), "row 3")
        Traceback (most recent call last):
        ...
        pbr.ledger.LedgerError: row 3: claim 'C-1': kind = 'bonus': not a payment kind (...)
        """
        entry = cls(
            values["family_id"],
            values["kind"],
            amount,
            paid_on,
            values["claim_id"],
            values["rules_version"],
            claimed_on,
        )
        try:
            entry.check()
        except LedgerError as exc:
            raise LedgerError(f"{where}: {exc}") from None
        return entry

    def check(self) -> None:
        """Raise `LedgerError` naming the claim, the field and the value if it is not writable.

        >>> Entry("F1", "bonus", Decimal(1), date(2013, 1, 1), "C-9", "v1").check()
        Traceback (most recent call last):
        ...
        pbr.ledger.LedgerError: claim 'C-9': kind = 'bonus': not a payment kind (...)
        """
        from pbr.periods import AS_OF_EARLIEST, LATEST_DATE

        who = f"claim {self.claim_id!r}"
        bad = _text_problem(self.claim_id)
        if bad:
            raise LedgerError(f"family {self.family_id!r}: claim_id = {self.claim_id!r}: {bad}")
        if not isinstance(self.family_id, str) or not _IDENTIFIER.fullmatch(self.family_id):
            why = "is empty" if not self.family_id else "1 to 64 characters of A-Z a-z 0-9 . _ -"
            raise LedgerError(f"{who}: family_id = {self.family_id!r}: {why}")
        kinds = _kinds()
        if self.kind not in kinds:
            raise LedgerError(
                f"{who}: kind = {self.kind!r}: not a payment kind ({', '.join(sorted(kinds))})"
            )
        amount = self.amount
        shown = repr(str(amount))
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            raise LedgerError(f"{who}: amount = {shown}: not a sum of money of 0 or more")
        if amount != amount.quantize(_PENNY) or not _AMOUNT.fullmatch(self.amount_text):
            raise LedgerError(
                f"{who}: amount = {shown}: pounds with at most two decimal places, "
                "below £1,000,000,000,000"
            )
        if type(self.paid_on) is not date:
            raise LedgerError(f"{who}: paid_on = {self.paid_on!r}: not a date")
        if not AS_OF_EARLIEST <= self.paid_on <= LATEST_DATE:
            raise LedgerError(
                f"{who}: paid_on = {self.paid_on.isoformat()!r}: a payment is dated from "
                f"{AS_OF_EARLIEST} (when the first programme began) to {LATEST_DATE}"
            )
        bad = _text_problem(self.rules_version)
        if bad:
            raise LedgerError(f"{who}: rules_version = {self.rules_version!r}: {bad}")
        bad = _not_paid_by(self.kind, self.rules_version)
        if bad:
            raise LedgerError(f"{who}: kind = {self.kind!r}: {bad}")
        bad = _paid_before_programme(self.paid_on, self.rules_version)
        if bad:
            raise LedgerError(f"{who}: paid_on = {self.paid_on.isoformat()!r}: {bad}")
        claimed = self.claimed_on
        if claimed is None:
            return
        if type(claimed) is not date:
            raise LedgerError(f"{who}: claimed_on = {claimed!r}: not a date")
        if not AS_OF_EARLIEST <= claimed <= self.paid_on:
            raise LedgerError(
                f"{who}: claimed_on = {claimed.isoformat()!r}: a claim is dated from "
                f"{AS_OF_EARLIEST} and is paid on or after its date (paid_on "
                f"{self.paid_on.isoformat()})"
            )

    def payment(self) -> Payment:
        """The entry as a `pbr.Payment` (for a family record's payments), validated.

        >>> Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "C-1", "v1"
        ...       ).payment().claim_id
        'C-1'
        """
        from pbr._untracked import untracked
        from pbr.records import Payment

        payment = Payment.model_validate(
            {
                "kind": self.kind,
                "amount": self.amount,
                "paid_on": self.paid_on,
                "claim_id": self.claim_id,
            }
        )
        return untracked(payment, (), (Payment,))


def _not_paid_by(kind: str, rules_version: str) -> str:
    """Why `kind` is no payment of the programme `rules_version` names ('' if it is one).

    A ledger is append-only: an entry its own programme could not have paid would reject its
    family at every evaluation, with nothing the user could correct. A rules_version naming
    no programme pbr knows (bundled or registered: `programme_named`) is not checked.

    >>> _not_paid_by("attachment_fee", "supporting-families/1.0")
    "not a payment of supporting-families (rules_version 'supporting-families/1.0'), which pays sustained_progress, continuous_employment"
    >>> _not_paid_by("attachment_fee", "tf-phase-2/1.0"), _not_paid_by("bonus", "local/1")
    ('', '')
    """
    found = programme_named(rules_version)
    if found is None or kind in found.payment_kinds:
        return ""
    return (
        f"not a payment of {found.id} (rules_version {rules_version!r}), which pays "
        f"{', '.join(found.payment_kinds)}"
    )


def _paid_before_programme(paid_on: date, rules_version: str) -> str:
    """Why a payment on `paid_on` is none of the programme `rules_version` names ('' if it can be).

    A programme pays nothing before the first attachment day its rules cover: such an entry
    names the wrong programme, and would take a family's claim under another. A rules_version
    naming no programme pbr knows is not checked.

    >>> _paid_before_programme(date(2016, 6, 1), "supporting-families/1.0")
    "before supporting-families began on 2021-04-01 (the first attachment day its rules cover), so it is no payment under rules_version 'supporting-families/1.0'"
    >>> on = date(2016, 6, 1)
    >>> _paid_before_programme(on, "tf-phase-2/1.0"), _paid_before_programme(on, "tf-phase-9/1")
    ('', '')
    """
    found = programme_named(rules_version)
    if found is None or paid_on >= found.rules.attached_from:
        return ""
    return (
        f"before {found.id} began on {found.rules.attached_from} (the first attachment day its "
        f"rules cover), so it is no payment under rules_version {rules_version!r}"
    )


def programme_named(rules_version: str) -> Programme | None:
    """The programme (bundled or registered) a ledger entry's `rules_version` names, or None.

    Its part before ``/``, as a person might type it: in capitals or with spaces around it.

    >>> programme_named(" TF-Phase-2/1.0").id, programme_named("tf-phase-9/1.0")
    ('tf-phase-2', None)
    """
    from pbr.programmes import programmes

    name = rules_version.partition("/")[0].strip().casefold()
    return next((p for p in programmes() if p.id.casefold() == name), None)


def counted(n: int, one: str = "entry", many: str = "entries") -> str:
    """``1 entry``, ``2 entries``: a count with its noun in the right number.

    >>> counted(1), counted(0), counted(2, "payment", "payments")
    ('1 entry', '0 entries', '2 payments')
    """
    return f"{n} {one if n == 1 else many}"


def _text_problem(value: object) -> str:
    """Why `value` cannot be a claim id or rules version in the ledger, or "" (one rule).

    1 to 64 characters of UTF-8 text with no control character: what `pbr.records.Payment`
    (every reader of the ledger) accepts as a claim id, checked by the same function.
    """
    from pbr._record_checks import control_character

    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        return "1 to 64 characters"
    found = control_character(value)
    if found is not None:
        return f"{found}: a claim id or rules version must be printable text"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not UTF-8 text"
    return ""


def chain(prev_hash: str, entry: Entry, seq: int, key: bytes | None = None) -> str:
    """The hash of entry `seq`: SHA-256 (HMAC-SHA256 with `key`) of the previous hash and its text.

    The text hashed is the previous hash, a newline and `Entry.canonical`.

    >>> e = Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "C-1", "v1")
    >>> len(chain(GENESIS, e, 1)), chain(GENESIS, e, 1) != chain(GENESIS, e, 1, b"k" * 16)
    (64, True)
    """
    return _digest(f"{prev_hash}\n{entry.canonical(seq)}", key)


def _digest(text: str, key: bytes | None) -> str:
    if key is None:
        return hashlib.sha256(text.encode()).hexdigest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def load_key(
    key_file: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The ledger key: from `key_file`, else the file named by ``PBR_LEDGER_KEY_FILE``, else ``PBR_LEDGER_KEY``.

    None when none is set (an unkeyed ledger). A key file's trailing newline is not part of the
    key; a key has at least 16 bytes. The key is never written into a ledger. A key file of
    more than 4 KiB is refused, read no further (``/dev/zero``, say).

    >>> load_key(environ={"PBR_LEDGER_KEY": "correct horse battery staple"})
    b'correct horse battery staple'
    >>> load_key(environ={}) is None
    True

    Raises:
        LedgerError: the key file cannot be read or is larger than 4 KiB, or the key is
            shorter than 16 bytes.

    """
    from pbr._bounded import Refused, read_limited

    env = os.environ if environ is None else environ
    path = (env.get(KEY_FILE_ENV) or None) if key_file is None else key_file
    if str(path) == "":  # given, but empty: never the environment's key instead, unsaid
        raise LedgerError("the ledger key file is named by an empty name")
    if path is not None:
        try:
            data = read_limited(
                path, "a ledger key file", max_bytes=_MAX_KEY_FILE, max_line=None, text=False
            )
        except OSError as exc:
            raise LedgerError(f"cannot read the ledger key file {path}: {exc.strerror}") from None
        except Refused as exc:
            raise LedgerError(str(exc)) from None
        key = data.rstrip(b"\r\n")
        where = f"the ledger key in {path}"
    elif env.get(KEY_ENV):
        key = env[KEY_ENV].encode()
        where = f"the ledger key in {KEY_ENV}"
    else:
        return None
    short = _short_key(key)
    if short:
        raise LedgerError(f"{where} {short}")
    return key


def _short_key(key: bytes) -> str:
    """Why `key` is too short to be a ledger's key, or "": one rule for a file, a variable, Python.

    >>> _short_key(b"x"), _short_key(b"s" * 16)
    ('is 1 bytes long; a key has at least 16', '')
    """
    return f"is {len(key)} bytes long; a key has at least {_MIN_KEY}" if len(key) < _MIN_KEY else ""


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
    """The last entry's hash when the chain holds: keep `head_text` elsewhere to detect rewrites."""
    keyed: bool = False
    """Whether the chain is an HMAC under the ledger's key (checked with the key given)."""
    kept_at: int | None = None
    """The entry the kept head given to `Ledger.verify` is at, when it holds (None without one).
    Of an unkeyed ledger, nothing outside the file vouches for the entries after it."""

    @property
    def head_text(self) -> str:
        """The head to keep elsewhere: ``<entries>:<hash>`` (what ``pbr ledger head`` prints).

        >>> Verdict(True, 2, head="ab" * 32).head_text[:8]
        '2:ababab'
        """
        return f"{self.entries}:{self.head or GENESIS}"


class Ledger:
    """A payments ledger in the SQLite file at `path`.

    `create=False` refuses a path with no file (so a mistyped path is an error, not an empty
    ledger); a file that is not a pbr ledger is refused either way. `key` (see `load_key`) makes
    a new ledger keyed, and is needed to verify, read as history or append to a keyed one: bytes,
    at least 16 of them, as every command takes a key (`TypeError` for another type, and
    `LedgerError` for a shorter key, before the file is touched).
    `timeout` is how long to wait, in seconds, for another process's lock.

    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "ledger.db"
    >>> Ledger(db, create=False)
    Traceback (most recent call last):
    ...
    pbr.ledger.LedgerError: no ledger at .../ledger.db
    >>> Ledger(db).verify().entries
    0
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        timeout: float = 60.0,
        key: bytes | None = None,
    ) -> None:
        self.path = Path(path)
        if not 0 <= timeout < 10**6:
            raise LedgerError(f"timeout = {timeout!r}: seconds, 0 or more (and less than 10^6)")
        self.timeout = timeout
        if key is not None:  # before the file is touched: a ledger no command could open
            if not isinstance(key, bytes):  # its type only: never the key itself
                raise TypeError(
                    f"ledger {self.path}: key must be bytes, got {type(key).__name__} (a str "
                    "key: its .encode(); or pbr.ledger.load_key()); nothing was read or written"
                )
            short = _short_key(key)
            if short:
                raise LedgerError(
                    f"ledger {self.path}: the key {short} (as {KEY_ENV} and a key file); "
                    "nothing was read or written"
                )
        self._key = key
        if self.path.is_dir():
            raise LedgerError(f"{self.path} is a folder, not a ledger")
        if not create and not self.path.is_file():
            raise LedgerError(f"no ledger at {self.path}")
        self._meta: dict[str, str] = {}
        new = not self.path.is_file() or self.path.stat().st_size == 0
        try:
            with closing(self._connect(read_only=not new)) as db:
                found = self._state(db)
                if found == "empty":
                    if not create:
                        raise LedgerError(f"{self.path} is not a ledger: the file is empty")
                    found = self._create(db)
                self._meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            raise self._error(exc, "create" if create else "read") from None
        said = self._meta.get("format")
        if said not in _SCHEMAS:
            raise LedgerError(
                f"{self.path} is not a ledger of this pbr: format {said or '(none)'!r}, expected "
                f"{FORMAT!r} (or {EARLIER_FORMAT!r}, made by an earlier pbr)"
            )
        if said != found:
            raise LedgerError(
                f"{self.path} is not a pbr ledger (another schema): its meta table says format "
                f"{said!r}, but its tables are those of {found!r}; nothing was read or written"
            )
        self._format = found

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    @property
    def records_claim_dates(self) -> bool:
        """Whether the ledger records the date of the claim each payment paid (`FORMAT`).

        A ledger made by an earlier pbr (`EARLIER_FORMAT`) does not: entries appended to it keep
        no claim date, and an audit then takes a payment for the claim with its claim id, family,
        kind and amount when it was paid on or after the claim date.

        >>> import tempfile, pathlib
        >>> Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db").records_claim_dates
        True
        """
        return self._format == FORMAT

    @property
    def keyed(self) -> bool:
        """Whether the ledger's chain is an HMAC under a secret key (it says so in its ``meta``).

        >>> import tempfile, pathlib
        >>> Ledger(pathlib.Path(tempfile.mkdtemp()) / "k.db", key=b"s" * 16).keyed
        True
        """
        return self._meta.get("mac") == "hmac-sha256"

    def _connect(self, *, read_only: bool = False) -> sqlite3.Connection:
        writable = os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)
        if read_only and not writable:  # reads work on a ledger the auditor may only read
            # (where we may write, a read-write connection finishes a crashed writer's rollback)
            uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
            db = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return db

    def _state(self, db: sqlite3.Connection) -> str:
        """``empty`` (a new file) or the format whose schema it has; else refused, naming what.

        A ledger holds exactly the schema pbr creates: its tables with their columns, and its
        indexes, and nothing else. A trigger, a view, another index or another table is refused
        before anything is read or written: a trigger can rewrite an entry while pbr appends
        (the chain then breaks at the next append), and a view or table is not pbr's to trust.
        """
        objects = _schema_of(db)
        if not objects:
            return "empty"
        names = {name for kind, name, _, _ in objects if kind == "table"}
        entries = [row[1] for row in db.execute("PRAGMA table_info(entries)")]
        fmt = next((f for f, c in _ENTRY_COLUMNS.items() if entries == list(c)), None)
        tables = {"entries": list(_ENTRY_COLUMNS[fmt or FORMAT]), **_OTHER_TABLES}
        for name, expected in tables.items():  # our own names: safe to put in the statement
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({name})")]
            if columns != expected:
                found = f"columns {columns}" if name in names else "no such table"
                raise LedgerError(
                    f"{self.path} is not a pbr ledger: table {name} has {found}, expected "
                    f"{expected}"
                )
        assert fmt is not None  # the entries' columns are a format's, checked above
        problem = _schema_problem(objects, fmt)
        if problem:
            raise LedgerError(
                f"{self.path} is not a pbr ledger (another schema): {problem}; nothing was read "
                "or written"
            )
        return fmt

    def _same_schema(self, db: sqlite3.Connection) -> None:
        """Refuse, inside a transaction, a schema changed since the ledger was opened."""
        if self._state(db) != self._format:
            raise LedgerError(
                f"{self.path} is not a pbr ledger (another schema): its tables changed since it "
                "was opened; nothing was read or written"
            )

    def _create(self, db: sqlite3.Connection) -> str:
        """Create the tables in one transaction, unless another process got there first.

        Returns the format of the ledger now in the file.
        """
        db.execute("BEGIN IMMEDIATE")
        try:
            found = self._state(db)
            if found == "empty":
                for statement in _SCHEMA:
                    db.execute(statement)
                keyed = self._key is not None
                meta = {
                    "format": FORMAT,
                    "mac": "hmac-sha256" if keyed else "sha256",
                    "key_check": _digest(_KEY_CHECK.decode(), self._key) if keyed else "",
                }
                db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", meta.items())
                found = FORMAT
            db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        return found

    def _marker_problem(self) -> str:
        """Why the ``meta`` table's key marker cannot be as pbr wrote it, or "".

        pbr writes ``mac`` ``sha256`` with an empty ``key_check``, or ``hmac-sha256`` with a
        64-digit ``key_check``; anything else means the marker (the keying) was changed, and
        checking the chain under it would only blame the first entry.
        """
        mac, check = self._meta.get("mac"), self._meta.get("key_check")
        if (mac, check) == ("sha256", "") or (
            mac == "hmac-sha256" and isinstance(check, str) and _HASH.fullmatch(check)
        ):
            return ""
        return (
            f"the ledger's key marker was changed (meta: mac {mac!r}, key_check "
            f"{'(none)' if check is None else 'empty' if not check else 'set'}): whether and how "
            "it is keyed is not as it was written, so its chain cannot be checked"
        )

    def _chain_key(self, *, writing: bool = False, checked: bool = True) -> bytes | None:
        """The key the chain is computed with; refuses a keyed ledger without it, or a wrong key.

        Writing with a key to a ledger that is not keyed is refused too (it would not be keyed).
        With `checked` false, a key its key marker does not fit is returned for the caller to
        walk the chain under (`_key_fits`): entries that hold under it show the marker changed.
        """
        if not self.keyed:
            if writing and self._key is not None:
                raise LedgerError(
                    f"ledger {self.path} is not keyed, but a key was given: it was made without "
                    "a key (or rewritten without it); nothing was written"
                )
            return None
        if self._key is None:
            raise LedgerError(
                f"ledger {self.path} is keyed (HMAC-SHA256): give its key with {KEY_ENV}, "
                f"{KEY_FILE_ENV} or --key-file"
            )
        if checked and not self._key_fits():
            raise self._wrong_key(head_kept=False)
        return self._key

    def _key_fits(self) -> bool:
        """Whether the key given is the one the ledger's key marker (``key_check``) was made with."""
        check = self._meta.get("key_check", "")
        return self._key is not None and hmac.compare_digest(
            _digest(_KEY_CHECK.decode(), self._key), check
        )

    def _wrong_key(self, *, head_kept: bool) -> LedgerError:
        """The error for a key that neither the key marker nor the entries were made with.

        Without a kept head it cannot be told from a ledger rewritten under another key.
        """
        advice = "" if head_kept else " (check it with --expect-head and the head kept)"
        return LedgerError(
            f"the key given is not the key of ledger {self.path}, or the ledger was rewritten "
            f"under another key{advice}"
        )

    def _kept_head_moved(self, expected: tuple[int | None, str]) -> Verdict | None:
        """The verdict when the stored hashes no longer hold the kept head, else None.

        Needs no key: the kept head is compared with the hash stored for its entry (or, for a
        bare hash, with the stored head). A ledger rewritten under another key is caught here,
        where its key check would only say that the key given is wrong. Where the stored head
        cannot be read as pbr writes it, the chain walk says what is wrong.
        """
        kept_at, kept = expected
        stored: list[tuple[Any, ...]] = []
        try:
            with closing(self._connect(read_only=True)) as db:
                db.execute("BEGIN")
                try:
                    head = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchall()
                    readable = len(head) == 1 and isinstance(head[0][0], int)
                    if readable and kept_at is not None and 0 < kept_at <= head[0][0]:
                        query = "SELECT hash FROM entries WHERE seq = ?"
                        stored = db.execute(query, (kept_at,)).fetchall()
                finally:
                    db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from None
        if len(head) != 1 or not isinstance(head[0][0], int) or not isinstance(head[0][1], str):
            return None
        count, last = head[0]
        now = f"{count}:{last}"
        keyed = self.keyed
        if kept_at is None:
            if last == kept:
                return None
            why = (
                f"the ledger's head is {now}, not the head kept ({kept}): the ledger was "
                "rewritten after the head was kept (or has grown since: give the kept head as "
                "<entries>:<hash>)"
            )
            return Verdict(False, count, max(count, 1), why, keyed=keyed)
        if kept_at > count:
            why = (
                f"the kept head is at entry {kept_at} but the ledger has {counted(count)}: "
                "entries were removed"
            )
            return Verdict(False, count, count + 1, why, keyed=keyed)
        found = GENESIS if kept_at == 0 else stored[0][0] if len(stored) == 1 else None
        if found is None or found == kept:
            return None
        differs = (
            f"its head {now} differs from the head kept, {kept_at}:{kept}"
            if kept_at == count
            else f"entry {kept_at}'s hash {found} differs from the head kept, {kept_at}:{kept}; "
            f"its head is now {now}"
        )
        why = (
            f"entry {kept_at} is not the kept head: the ledger was rewritten after the head was "
            f"kept ({differs})"
        )
        return Verdict(False, count, max(kept_at, 1), why, keyed=keyed)

    def _error(self, exc: sqlite3.Error, doing: str) -> LedgerError:
        """A one-line error naming the ledger, what failed and that nothing was written."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        written = "nothing was written" if doing in ("append", "create") else "nothing was read"
        where = f"ledger {self.path}"
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            return LedgerError(
                f"{where} is busy: another process held its lock for more than "
                f"{self.timeout:g} s; {written} (try again, or wait longer with --timeout)"
            )
        if name.startswith("SQLITE_FULL") or "disk is full" in text:
            return LedgerError(f"{where}: the disk is full; {written}")
        if name == "SQLITE_READONLY_ROLLBACK":
            return LedgerError(
                f"{where} holds an unfinished write of a process that stopped; someone who may "
                f"write to it must open it once (pbr ledger verify) to roll it back; {written}"
            )
        if name.startswith("SQLITE_READONLY") or "readonly" in text:
            return LedgerError(f"{where} is read-only (the file or its folder); {written}")
        if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text:
            return LedgerError(f"{self.path} is not a ledger: {text}")
        if (
            name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"))
            or "unable to open" in text
        ):
            folder = self.path.parent
            if doing in ("append", "create") and folder.is_dir() and not os.access(folder, os.W_OK):
                # a write's journal goes in the folder: read-only, or immutable (chattr +i)
                if self.path.is_file() and self.path.stat().st_size:
                    return LedgerError(f"{where} is read-only (the file or its folder); {written}")
                return LedgerError(
                    f"cannot create {where}: its folder {folder} is read-only; {written}"
                )
            return LedgerError(
                f"cannot open {where}: {text} (does its folder exist, and may you write there?)"
            )
        if name.startswith("SQLITE_IOERR"):
            return LedgerError(f"{where}: input/output error ({text}); {written}")
        return LedgerError(f"{where}: {text}; {written}")

    def append(
        self, entries: Iterable[Entry], *, skip_recorded: bool = False, verify: bool = True
    ) -> int:
        """Append `entries` atomically, in order; return how many were written.

        Every entry is checked first; if any is bad, repeats a claim_id, pays a family a result
        already paid (in the ledger or in `entries`), or the write fails, nothing is written.
        The head is read and the chain computed inside the transaction. With `verify` (the
        default) the whole chain is first walked inside it too, as `verify` walks it: a ledger
        that does not verify is refused (`LedgerError`), since a payment written onto it could
        not be told from one that broke it. That reads every entry (about 1 s per 100,000);
        ``verify=False`` only checks that the head matches the last entry, for a caller that
        has just verified the ledger itself. With `skip_recorded`, an entry whose claim is
        already in the ledger for the same family, kind and amount is skipped (recording an
        audit twice writes nothing twice); one that differs is still refused.

        >>> import tempfile, pathlib
        >>> ledger = Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db")
        >>> e = Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "C-1", "v1")
        >>> ledger.append([e]), ledger.append([e], skip_recorded=True)
        (1, 0)
        """
        batch = list(entries)
        for entry in batch:
            entry.check()
        key = self._chain_key(writing=True, checked=not verify)
        if verify:
            self._refuse(self._marker_problem(), None)
            if not self._key_fits() and key is not None:  # a changed marker, or a wrong key
                self._verified("nothing was written")
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    if verify:
                        self._walked(db, key)
                    written = self._write(db, batch, key, skip_recorded)
                    db.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
        except sqlite3.IntegrityError as exc:
            raise LedgerError(self._integrity(exc, batch)) from None
        except sqlite3.Error as exc:
            raise self._error(exc, "append") from None
        return written

    def _walked(self, db: sqlite3.Connection, key: bytes | None) -> None:
        """Refuse, inside the write's transaction, a ledger that does not verify."""
        self._same_schema(db)
        self._refuse(_meta_not_written(db), None)
        head = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchall()
        columns = ", ".join(_ENTRY_COLUMNS[self._format])
        verdict = _walk(db.execute(f"SELECT {columns} FROM entries ORDER BY seq"), head, key, None)
        if not verdict.ok:
            self._refuse(verdict.why, verdict.first_bad)

    def _refuse(
        self, why: str, first_bad: int | None, consequence: str = "nothing was written"
    ) -> None:
        """Refuse a ledger broken for reason `why` (none: not broken): its entries are no evidence."""
        if why:
            at = f" at entry {first_bad}" if first_bad is not None else ""
            raise LedgerError(
                f"ledger {self.path} is broken{at}: {why}; {consequence} (pbr ledger verify)"
            )

    def _write(
        self, db: sqlite3.Connection, batch: list[Entry], key: bytes | None, skip: bool
    ) -> int:
        self._same_schema(db)  # in the transaction: no trigger added since it was opened
        head = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
        if head is None:  # deleted with a database tool: the chain has no end to append to
            raise LedgerError(
                f"ledger {self.path} is broken: its head row is missing (pbr ledger verify); "
                "nothing was written"
            )
        count, prev = head
        last = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        if (last or (0, GENESIS)) != (count, prev):
            raise LedgerError(
                f"ledger {self.path} is broken: its head does not match its last entry "
                "(pbr ledger verify); nothing was written"
            )
        written = 0
        paid: dict[tuple[str, str], str] = {}  # results paid by this batch: claim id
        columns = _ENTRY_COLUMNS[self._format]
        insert = (
            f"INSERT INTO entries ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        for entry in batch:
            if not self.records_claim_dates:  # an earlier pbr's ledger: no claim date kept
                entry = replace(entry, claimed_on=None)
            if skip and self._recorded(db, entry):
                continue
            self._paid_once(db, entry, paid)
            count += 1
            before, prev = prev, chain(prev, entry, count, key)
            values: tuple[Any, ...] = (
                count,
                entry.family_id,
                entry.kind,
                entry.amount_text,
                entry.paid_on.isoformat(),
                entry.claim_id,
                entry.rules_version,
                before,
                prev,
            )
            if self.records_claim_dates:
                claimed = entry.claimed_on
                values += (claimed.isoformat() if claimed is not None else None,)
            db.execute(insert, values)
            written += 1
        db.execute("UPDATE head SET count = ?, hash = ? WHERE id = 1", (count, prev))
        return written

    def _paid_once(
        self, db: sqlite3.Connection, entry: Entry, paid: dict[tuple[str, str], str]
    ) -> None:
        """Refuse a second payment of a result for a family: nothing is paid twice.

        An attachment fee may be listed more than once (paid in parts: phase-one spec
        clarification 7 counts "the attachment fees listed as paid"); a result may not.
        """
        if entry.kind == "attachment_fee":
            return
        pair = (entry.family_id, entry.kind)
        earlier = paid.get(pair)
        where = "earlier in these entries"
        if earlier is None:
            found = db.execute(
                "SELECT seq, claim_id FROM entries WHERE family_id = ? AND kind = ?", pair
            ).fetchone()
            if found is not None:
                earlier, where = found[1], f"entry {found[0]}"
        if earlier == entry.claim_id:
            return  # the same claim given again: its claim_id says so (`_integrity`)
        if earlier is not None:
            raise LedgerError(
                f"claim {entry.claim_id!r}: family {entry.family_id!r} was already paid "
                f"{entry.kind} by claim {earlier!r} ({where}); a result is paid once, so nothing "
                "was written"
            )
        paid[pair] = entry.claim_id

    def _recorded(self, db: sqlite3.Connection, entry: Entry) -> bool:
        claimed = ", claimed_on" if self.records_claim_dates else ""
        found = db.execute(
            f"SELECT seq, family_id, kind, amount{claimed} FROM entries WHERE claim_id = ?",
            (entry.claim_id,),
        ).fetchone()
        if found is None:
            return False
        seq, family_id, kind, amount = found[:4]
        if (family_id, kind, amount) != (entry.family_id, entry.kind, entry.amount_text):
            raise LedgerError(
                f"claim {entry.claim_id!r} is already in ledger {self.path} (entry {seq}) as "
                f"family {family_id!r} {kind} {amount}, not family {entry.family_id!r} "
                f"{entry.kind} {entry.amount_text}; nothing was written"
            )
        day = entry.claimed_on.isoformat() if entry.claimed_on is not None else None
        if claimed and None not in (found[4], day) and found[4] != day:  # another claim, one id
            raise LedgerError(
                f"claim {entry.claim_id!r} is already in ledger {self.path} (entry {seq}) as a "
                f"claim made on {found[4]}, not on {day}: another claim under the same claim id; "
                "nothing was written"
            )
        return True

    def entries(self) -> Iterator[tuple[int, Entry]]:
        """Every entry with its sequence number, in order (read in one consistent snapshot).

        Values are read as stored; `verify` is what checks them.

        >>> import tempfile, pathlib
        >>> list(Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db").entries())
        []
        """
        claimed = f", {CLAIMED_ON}" if self.records_claim_dates else ", NULL"
        rows = self._read(
            "SELECT seq, family_id, kind, amount, paid_on, claim_id, rules_version"
            f"{claimed} FROM entries ORDER BY seq"
        )
        for seq, family_id, kind, amount, paid_on, claim_id, version, day in rows:
            try:
                entry = Entry(
                    family_id,
                    kind,
                    Decimal(amount),
                    date.fromisoformat(paid_on),
                    claim_id,
                    version,
                    date.fromisoformat(day) if day is not None else None,
                )
            except (ValueError, TypeError, ArithmeticError):
                raise LedgerError(
                    f"ledger {self.path}: entry {seq} cannot be read (pbr ledger verify)"
                ) from None
            yield seq, entry

    def _read(self, query: str) -> list[tuple[Any, ...]]:
        try:
            with closing(self._connect(read_only=True)) as db:
                return db.execute(query).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from None

    def verify(self, *, expect_head: str | None = None) -> Verdict:
        """Walk the chain; name the first entry that was edited, deleted, inserted or moved.

        Every stored value must be in its canonical form. Reads the entries and the head in one
        transaction, so appends by other processes during the check cannot make a sound ledger
        look broken. `expect_head` (``<entries>:<hash>`` from `Verdict.head_text`, kept
        elsewhere) must be the hash of that entry: the ledger holds what it held then, and has
        at most grown since (`Verdict.kept_at`: of an unkeyed ledger, the entries after it are
        vouched for by nothing outside the file).

        >>> import tempfile, pathlib
        >>> ledger = Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db")
        >>> kept = ledger.verify().head_text
        >>> ledger.verify(expect_head=kept).ok, ledger.verify(expect_head="1:" + "0" * 64).why
        (True, 'the kept head is at entry 1 but the ledger has 0 entries: entries were removed')
        """
        expected = _parse_head(expect_head) if expect_head is not None else None
        marker = self._marker_problem()
        if marker:
            return Verdict(False, 0, None, marker)
        if expected is not None:  # before the key: a ledger rewritten under another key
            moved = self._kept_head_moved(expected)  # fails its key check, but is tampered
            if moved is not None:
                return moved
        key = self._chain_key(checked=False)
        try:
            with closing(self._connect(read_only=True)) as db:
                db.execute("BEGIN")
                try:
                    self._same_schema(db)  # the schema read with the entries, in one snapshot
                    extra = _meta_not_written(db)
                    if extra:
                        return Verdict(False, 0, None, extra)
                    head = db.execute("SELECT count, hash FROM head WHERE id = 1").fetchall()
                    columns = ", ".join(_ENTRY_COLUMNS[self._format])
                    rows = db.execute(f"SELECT {columns} FROM entries ORDER BY seq")
                    verdict = _walk(rows, head, key, expected)
                    if key is not None and not self._key_fits():
                        verdict = self._marker_not_the_key(verdict, expected is not None)
                    if not verdict.ok and self._key is not None and key is None:
                        rows = db.execute(f"SELECT {columns} FROM entries ORDER BY seq")
                        if _walk(rows, head, self._key, expected).ok:  # keyed after all
                            verdict = Verdict(
                                False,
                                verdict.entries,
                                None,
                                "the ledger's key marker was changed: its chain is an HMAC under "
                                "the key given, but its meta table says it is not keyed",
                            )
                finally:
                    db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from None
        if self._key is not None and not self.keyed and verdict.ok:
            return Verdict(
                False,
                verdict.entries,
                None,
                "a key was given but the ledger is not keyed: it was made without a key, or "
                "rewritten by someone without the key",
            )
        return verdict

    def _marker_not_the_key(self, walked: Verdict, head_kept: bool) -> Verdict:
        """The verdict when the key marker does not fit the key given; the chain walked under it.

        Entries can only hold under the key given if they were made with it (an HMAC): then
        the key is the ledger's and its marker was changed (and whatever else the walk found
        after the first entry). Else the key is wrong (or the ledger rewritten under another
        key, its marker with it), and `LedgerError` says so; a ledger with no entries shows
        nothing either way.
        """
        changed = (
            "the ledger's key marker was changed: its chain is an HMAC under the key given, "
            "but its meta table's key check was not made with that key"
        )
        if walked.ok and walked.entries:
            return Verdict(False, walked.entries, None, changed)
        if not walked.ok and (walked.first_bad or 0) > 1:  # entry 1 holds under the key given
            return replace(walked, why=f"{changed}; and {walked.why}")
        raise self._wrong_key(head_kept=head_kept)

    def verify_for_writing(self) -> Verdict:
        """`verify`, after refusing (`LedgerError`) a key this ledger would not be written with.

        What ``pbr ledger append``, ``import`` and ``record`` check before writing: a new
        payment on a broken ledger is refused by every reader after it.
        """
        self._chain_key(writing=True, checked=False)  # a key the marker does not fit: verify
        return self.verify()

    def history(self) -> dict[str, tuple[Payment, ...]]:
        """Payments by family, in ledger order, after `verify` (a broken ledger is refused).

        For the payment history of `pbr.evaluate` and audits, use `pbr.history.PaymentHistory`,
        which merges these with each family record's own payments.

        >>> import tempfile, pathlib
        >>> Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db").history()
        {}

        Raises:
            LedgerError: the ledger does not verify.

        """
        self._verified("nothing was read")
        found: dict[str, list[Payment]] = {}
        for _, entry in self.entries():
            found.setdefault(entry.family_id, []).append(entry.payment())
        return {family: tuple(payments) for family, payments in found.items()}

    def _verified(self, consequence: str) -> None:
        """Refuse a ledger that does not verify (or a wrong key): its entries are not evidence."""
        verdict = self.verify()
        if not verdict.ok:
            self._refuse(verdict.why, verdict.first_bad, consequence)

    def payments(self) -> dict[str, list[Entry]]:
        """Entries grouped by family, in order.

        >>> import tempfile, pathlib
        >>> Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db").payments()
        {}
        """
        found: dict[str, list[Entry]] = {}
        for _, entry in self.entries():
            found.setdefault(entry.family_id, []).append(entry)
        return found

    def export_csv(self, path: str | Path) -> int:
        """Write every entry to a CSV file (`CSV_COLUMNS`), atomically; return how many.

        Text a spreadsheet would run as a formula is written with a leading apostrophe
        (`pbr.output.neutralise`); `import_csv` reads it back exactly. A ledger that does not
        verify (or a wrong key) is refused: an export is evidence only of a sound chain.

        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> Ledger(folder / "l.db").export_csv(folder / "out.csv")
        0
        """
        from pbr.output import CsvWriter, atomic_writer

        self._verified("nothing was exported")
        rows = list(self.entries())
        dated = self.records_claim_dates  # the claim dates too, where the ledger keeps them
        with atomic_writer(str(path)) as handle:
            writer = CsvWriter(handle, (*CSV_COLUMNS, CLAIMED_ON) if dated else CSV_COLUMNS)
            writer.writeheader()
            for _, e in rows:
                claimed = [e.claimed_on.isoformat() if e.claimed_on else ""] if dated else []
                writer.writerow(
                    [
                        e.family_id,
                        e.kind,
                        e.amount_text,
                        e.paid_on.isoformat(),
                        e.claim_id,
                        e.rules_version,
                        *claimed,
                    ]
                )
        return len(rows)

    def import_csv(self, path: str | Path, *, verify: bool = True) -> int:
        r"""Append the rows of a CSV file, all or nothing; errors name the line and the column.

        `verify` as for `append`: the ledger is walked first, inside the write's transaction.

        Values are taken exactly as written (no space is trimmed: a claim id ``' X '`` is that
        claim id, and an amount or date with spaces is refused), so an export imports back
        exactly. A leading apostrophe that `export_csv` added against spreadsheet formulas is
        removed. Refused, naming the line: a column named twice, a row with more or fewer
        values than the header, a value holding a line break (often an unclosed quote joining
        lines), a byte that is not UTF-8, a last row with no line break after it (a file cut
        short looks so), and any value `Entry.check` refuses (the one rule of `append`). The file is read to a limit, refused beyond it: 512 MiB, and 1 MiB a line
        (a row is under 200 bytes), so an endless stream is refused, not read until memory runs out.

        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "in.csv").write_text(",".join(CSV_COLUMNS) + "\n"
        ...     "F1,attachment_fee,3200.00,2012-11-01,'=C1,tf-phase-1/1.0\n")
        >>> ledger = Ledger(folder / "l.db")
        >>> ledger.import_csv(folder / "in.csv"), next(ledger.entries())[1].claim_id
        (1, '=C1')
        """
        from pbr._bounded import Refused, read_limited

        try:
            data = read_limited(path, "a ledger CSV file", check=lambda head: _csv_text(path, head))
        except OSError as exc:
            raise LedgerError(f"cannot read {path}: {exc.strerror}") from None
        except Refused as exc:
            raise LedgerError(str(exc)) from None
        # a bad byte is kept as a surrogate and refused with its line, below
        text = data.decode("utf-8-sig", errors="surrogateescape")
        del data
        try:
            batch = _import_rows(path, text)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise LedgerError(f"{path}: not a readable CSV file: {exc}") from None
        try:
            return self.append(batch, verify=verify)
        except LedgerError as exc:
            raise LedgerError(f"{path}: {exc}") from None

    def _integrity(self, exc: sqlite3.IntegrityError, batch: list[Entry]) -> str:
        if "claim_id" not in str(exc):
            return f"ledger {self.path} refused the entries ({exc}); nothing was written"
        ids = [e.claim_id for e in batch]
        for claim_id in ids:
            found = self._read_one(
                "SELECT seq, family_id FROM entries WHERE claim_id = ?", (claim_id,)
            )
            if found is not None:
                return (
                    f"claim {claim_id!r}: claim_id is already in the ledger (entry {found[0]}, "
                    f"family {found[1]!r}); a payment is recorded once, so nothing was written"
                )
        repeated = next((i for i in ids if ids.count(i) > 1), "?")
        return f"claim {repeated!r}: claim_id is given twice in the entries; nothing was written"

    def _read_one(self, query: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        try:
            with closing(self._connect(read_only=True)) as db:
                row: tuple[Any, ...] | None = db.execute(query, args).fetchone()
                return row
        except sqlite3.Error:
            return None


def _csv_text(path: str | Path, head: bytes) -> None:
    """Refuse a file starting with `head` that is no text file at all: a workbook, compressed, UTF-16.

    Read as text, each was "missing columns", which does not say what to do.
    """
    from pbr._unreadable import not_a_text_file, not_utf8_text

    binary = not_a_text_file(head, "a ledger CSV file")
    if binary is not None:
        raise LedgerError(f"{path}: {binary}")
    said = not_utf8_text(str(path), head)
    if said is not None:
        raise LedgerError(said)


def _import_rows(path: str | Path, text: str) -> list[Entry]:
    """The checked entries of a ledger CSV file's `text` (`Ledger.import_csv`), in order.

    Its columns are checked before any is found named twice: a file that is not a ledger CSV
    at all (JSON, say) is named as such.
    """
    from pbr._bounded import json_like
    from pbr._scalars import date_from_text
    from pbr.money import money
    from pbr.output import restore

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise LedgerError(f"{path}: missing columns {list(CSV_COLUMNS)} (the file is empty)")
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing and json_like(text):
        raise LedgerError(f"{path} is JSON, not a ledger CSV (pbr ledger export writes one)")
    if missing:
        raise LedgerError(f"{path}: missing columns {missing}")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise LedgerError(
            f"{path}: line 1: column {twice[0]!r} is named more than once: which value "
            "would be meant is not knowable, so nothing was imported"
        )
    unknown = [c for c in header if c not in (*CSV_COLUMNS, CLAIMED_ON)]
    if unknown:
        raise LedgerError(
            f"{path}: line 1: column {unknown[0]!r} is not a ledger column "
            f"({', '.join(CSV_COLUMNS)}, and {CLAIMED_ON}): its values would be lost, so nothing "
            "was imported"
        )
    batch = []
    last = reader.line_num
    for row in reader:
        first, last = last + 1, reader.line_num
        lines = f"line {first}" if first == last else f"lines {first}-{last}"
        where = f"{path}: {lines}"
        if not row:  # a blank line
            continue
        if first != last or any("\n" in v or "\r" in v for v in row):
            raise LedgerError(
                f"{where}: a value holds a line break (a quote not closed on its line joins "
                "lines into one row?); nothing was imported"
            )
        if len(row) != len(header):
            raise LedgerError(
                f"{where}: {len(row)} values for {len(header)} columns; nothing was imported"
            )
        values = {c: restore(v) for c, v in zip(header, row, strict=True)}
        for column in values:
            if any("\udc80" <= ch <= "\udcff" for ch in values[column]):
                raise LedgerError(f"{where}: {column} is not valid UTF-8 text")
        try:
            amount = money(values["amount"])
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise LedgerError(f"{where}: amount = {values['amount']!r}: {exc}") from None
        paid_on = date_from_text(values["paid_on"])  # never an ISO week date (2015-W14-2)
        if paid_on is None:
            raise LedgerError(f"{where}: paid_on = {values['paid_on']!r}: not a date (YYYY-MM-DD)")
        claimed = values.get(CLAIMED_ON, "")
        claimed_on = date_from_text(claimed) if claimed else None
        if claimed and claimed_on is None:
            raise LedgerError(
                f"{where}: {CLAIMED_ON} = {claimed!r}: not a date (YYYY-MM-DD), nor empty"
            )
        batch.append(Entry.from_row(values, amount, paid_on, where, claimed_on))
    if batch and not text.endswith(("\n", "\r")):
        raise LedgerError(
            f"{path}: line {last}: the last row does not end with a line break, so it may have "
            "been cut short (pbr ledger export ends every row with one; a cut rules_version "
            "still reads as one); nothing was imported: if the row is whole, end it with a "
            "line break"
        )
    return batch


_Object = tuple[str, str, str, str | None]
"""A schema object as ``sqlite_master`` lists it: type, name, table and the SQL creating it."""


def _schema_of(db: sqlite3.Connection) -> set[_Object]:
    """Every schema object of the database, but the statistics ``ANALYZE`` keeps.

    ``sqlite_stat1`` (and 2 to 4) hold only the query planner's counts: SQLite's own tables,
    made by ``ANALYZE`` or ``PRAGMA optimize``, which change no entry and run no code.
    """
    rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {tuple(row) for row in rows if not str(row[1]).startswith("sqlite_stat")}


@lru_cache(maxsize=len(_SCHEMAS))
def _pbr_schema(fmt: str) -> frozenset[_Object]:
    """The schema objects pbr creates in a ledger of format `fmt`, as SQLite lists them."""
    with closing(sqlite3.connect(":memory:")) as db:
        for statement in _SCHEMAS[fmt]:
            if statement.startswith("CREATE"):
                db.execute(statement)
        return frozenset(_schema_of(db))


def _schema_problem(objects: set[_Object], fmt: str = FORMAT) -> str:
    """What in `objects` is not the schema pbr creates (an object added, changed or gone), or "".

    >>> db = sqlite3.connect(":memory:")
    >>> for statement in _SCHEMA:
    ...     _ = db.execute(statement)
    >>> _schema_problem(_schema_of(db)), _schema_problem(_schema_of(db), EARLIER_FORMAT)[:37]
    ('', "its table 'entries' is not defined as")
    >>> _ = db.execute("CREATE TRIGGER t AFTER INSERT ON entries BEGIN SELECT 1; END")
    >>> _schema_problem(_schema_of(db))
    "it has a trigger 't' on table entries, which pbr does not create"
    """
    expected = _pbr_schema(fmt)
    ours = {(kind, name): sql for kind, name, _, sql in expected}
    for kind, name, table, sql in sorted(objects - expected, key=lambda o: (o[0], o[1])):
        if (kind, name) in ours:
            return f"its {kind} {name!r} is not defined as pbr defines it ({sql})"
        on = f" on table {table}" if kind in ("index", "trigger") else ""
        return f"it has {'an' if kind == 'index' else 'a'} {kind} {name!r}{on}, which pbr does not create"
    for kind, name, table, _ in sorted(expected - objects, key=lambda o: (o[0], o[1])):
        return f"it has no {kind} {name!r} on table {table}, which pbr creates"
    return ""


def _meta_not_written(db: sqlite3.Connection) -> str:
    """Why the ``meta`` table holds rows pbr does not write, or "".

    A row added is a change the chain cannot see, so the ledger is not reported intact with it
    (rows pbr writes but that are missing or changed are refused earlier, on opening or by the
    key marker's check).
    """
    added = sorted(
        str(name) for (name,) in db.execute("SELECT name FROM meta") if name not in _META_NAMES
    )
    if not added:
        return ""
    return (
        f"the ledger's meta table was changed (rows pbr does not write: "
        f"{', '.join(map(repr, added))}): it is not as pbr wrote it"
    )


def _parse_head(text: str) -> tuple[int | None, str]:
    """``<entries>:<hash>`` (or a bare hash: the current head) as (entries, hash).

    The hex digits may be in either case (a head copied through a tool that writes capitals is
    the same head); the hash returned is lowercase, as pbr stores and compares hashes.

    >>> _parse_head("2:" + "AB" * 32) == (2, "ab" * 32)
    True
    """
    count, sep, digest = text.strip().rpartition(":")
    if not _KEPT_HASH.fullmatch(digest) or (sep and not _COUNT.fullmatch(count)):
        raise LedgerError(
            f"expected head {text!r} is not <entries>:<64 hex digits> (as pbr ledger head prints)"
        )
    return (int(count) if sep else None), digest.lower()


def _walk(
    rows: Iterable[tuple[Any, ...]],
    head: list[tuple[Any, ...]],
    key: bytes | None,
    expected: tuple[int | None, str] | None,
) -> Verdict:
    keyed = key is not None
    prev = GENESIS
    n = 0
    at_expected: str | None = None
    for n, row in enumerate(rows, start=1):
        seq = row[0]
        if seq != n:
            why = (
                f"entry {n} is missing (the next entry is {seq})"
                if isinstance(seq, int) and seq > n
                else f"an entry numbered {seq!r} was inserted before entry {n}"
            )
            return Verdict(False, n - 1, n, why, keyed=keyed)
        problem = _not_canonical(row)
        if problem:
            return Verdict(False, n, n, f"entry {n}: {problem}", keyed=keyed)
        if row[7] != prev:
            return Verdict(False, n, n, f"entry {n} does not follow entry {n - 1}", keyed=keyed)
        claimed = (row[9],) if len(row) > 9 and row[9] is not None else ()
        prev = _digest(f"{prev}\n{_canonical_text((*row[:7], *claimed))}", key)
        if row[8] != prev:
            why = f"entry {n} was changed after it was written"
            if keyed:
                why += " (or its hash was not made with the ledger's key)"
            return Verdict(False, n, n, why, keyed=keyed)
        if expected is not None and expected[0] == n:
            at_expected = prev
    if len(head) != 1 or not isinstance(head[0][0], int) or not isinstance(head[0][1], str):
        return Verdict(
            False, n, max(n, 1), "the ledger's head row is missing or malformed", keyed=keyed
        )
    count, last = head[0]
    if count != n:
        return Verdict(
            False,
            n,
            min(count, n) + 1,
            f"the ledger ends at entry {n} but its head records {counted(count)}",
            keyed=keyed,
        )
    if last != prev:
        return Verdict(
            False,
            n,
            max(n, 1),
            f"entry {n} does not match the ledger's head: it was changed",
            keyed=keyed,
        )
    kept_at: int | None = None
    if expected is not None:
        kept_at, kept = expected
        if kept_at is None:
            kept_at, at_expected = n, prev
        if kept_at == 0:
            at_expected = GENESIS
        if kept_at > n:
            return Verdict(
                False,
                n,
                n + 1,
                f"the kept head is at entry {kept_at} but the ledger has {counted(n)}: entries "
                "were removed",
                keyed=keyed,
            )
        if at_expected != kept:
            return Verdict(
                False,
                n,
                max(kept_at, 1),
                f"entry {kept_at} is not the kept head: the ledger was rewritten after the head "
                "was kept",
                keyed=keyed,
            )
    return Verdict(True, n, head=prev, keyed=keyed, kept_at=kept_at)


def _not_canonical(row: tuple[Any, ...]) -> str:
    """Why a stored row is not in canonical form, or "" (types matter: SQLite keeps any type)."""
    _, family_id, kind, amount, paid_on, claim_id, version, prev_hash, digest = row[:9]
    claimed = row[9] if len(row) > 9 else None  # NULL: the claim date is not known
    stored = (*row[1:9], *((claimed,) if claimed is not None else ()))
    if not all(isinstance(value, str) for value in stored):
        name, value = next(
            (n, v)
            for n, v in zip((*_COLUMNS[1:], CLAIMED_ON), stored, strict=False)
            if not isinstance(v, str)
        )
        return f"{name} is stored as {type(value).__name__} {value!r}, not text"
    if not _IDENTIFIER.fullmatch(family_id):
        return f"family_id {family_id!r} is not a family id"
    if kind not in _kinds():
        return f"kind {kind!r} is not a payment kind"
    if not _AMOUNT.fullmatch(amount):
        return (
            f"amount {amount!r} is not in canonical form (pounds with exactly two decimal "
            "places, e.g. 3200.00)"
        )
    try:
        canonical_date = date.fromisoformat(paid_on).isoformat() == paid_on
    except ValueError:
        canonical_date = False
    if not canonical_date:
        return f"paid_on {paid_on!r} is not a date in canonical form (YYYY-MM-DD)"
    if claimed is not None:
        from pbr.periods import AS_OF_EARLIEST

        try:
            day = date.fromisoformat(claimed)
        except ValueError:
            day = None
        if day is None or day.isoformat() != claimed:
            return f"claimed_on {claimed!r} is not a date in canonical form (YYYY-MM-DD)"
        if not AS_OF_EARLIEST.isoformat() <= claimed <= paid_on:
            return f"claimed_on {claimed!r} is not a claim date on or before paid_on {paid_on!r}"
    if not 1 <= len(claim_id) <= 64 or not 1 <= len(version) <= 64:
        return "claim_id or rules_version is empty or longer than 64 characters"
    for name, value in (("claim_id", claim_id), ("rules_version", version)):
        bad = _text_problem(value)
        if bad:  # pbr writes no such value; every reader of the ledger refuses it
            return (
                f"{name} {value!r}: {bad}; pbr no longer writes such an entry, and "
                "evaluate, audit and replay refuse it (written by an earlier pbr, or edited)"
            )
    if not _HASH.fullmatch(prev_hash) or not _HASH.fullmatch(digest):
        return "a hash is not 64 lowercase hex digits"
    return ""
