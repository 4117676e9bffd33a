"""The payments ledger behind the server: verified once, re-read only when its file changes.

Its payments count as payments made, as with ``pbr evaluate --ledger``. Where the library has
one payment history (``pbr.history``), the server hands it that history and the library merges
the payments (each claim id once); otherwise each family's entries are added to the payments of
its record here (`with_payments`). A ledger that fails verification is refused, at start and on
every change. A keyed ledger is opened with its key (`pbr.serve.Settings.ledger_key`, else the
environment's, `pbr.ledger.load_key`), and is re-opened with it on every change, so that one
rewritten as unkeyed is refused as ``pbr evaluate --ledger`` refuses it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr.serve._logs import LOGGER
from pbr.serve._problems import ProblemError

if TYPE_CHECKING:
    from pbr.ledger import Ledger
    from pbr.records import Family, Payment

__all__ = ["LedgerHistory", "LedgerUnusable", "with_payments"]


class LedgerUnusable(ValueError):
    """The ledger cannot be opened, or its hash chain is broken."""


class LedgerHistory:
    """A ledger's payments by family, and its head hash, kept current with the file."""

    def __init__(self, path: str | Path, key: bytes | None = None) -> None:
        from pbr.ledger import LedgerError, load_key

        self.path = Path(path)
        try:
            self._key = key if key is not None else load_key()
            self.ledger: Ledger = self._open()
        except LedgerError as exc:
            raise LedgerUnusable(str(exc)) from None
        self._stamp: tuple[int, ...] = ()
        self._payments: dict[str, tuple[Payment, ...]] = {}
        self.head = ""
        self.library: Any = None
        """The library's own payment history of the ledger, where the library has one."""
        self._reload()

    def _signature(self) -> tuple[int, ...]:
        """What any change to the ledger's file or its write-ahead log changes, to re-verify then.

        Each file's inode, size, modification and status-change times (``st_ctime_ns``, which
        the kernel sets on every write, rename and ``utime``, so it cannot be set back), and
        the SQLite header's change counter (bumped by every commit). A write in the same tick
        of the kernel's clock that keeps size and counter (a raw byte edit) is not seen.
        """
        stamp: list[int] = []
        for suffix in ("", "-wal"):
            try:
                info = os.stat(f"{self.path}{suffix}")
            except FileNotFoundError:
                stamp += [-1] * 5
            else:
                stamp += [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
                stamp.append(_change_counter(f"{self.path}{suffix}") if not suffix else 0)
        return tuple(stamp)

    def __repr__(self) -> str:
        return f"LedgerHistory({str(self.path)!r})"  # never the key

    def _open(self) -> Ledger:
        """The ledger opened afresh, with its key: its key marker and schema read as they are now.

        A ledger rewritten as unkeyed is refused with the key given, as ``pbr evaluate`` refuses it.
        """
        from pbr.ledger import Ledger

        return Ledger(self.path, create=False, key=self._key)

    def _reload(self) -> None:
        from pbr.ledger import LedgerError

        stamp = self._signature()
        try:
            if self._stamp:  # changed since it was opened: its meta table too, perhaps
                self.ledger = self._open()
            verdict = self.ledger.verify()
            history = self.ledger.history()
        except LedgerError as exc:
            raise LedgerUnusable(str(exc)) from None
        if not verdict.ok:
            raise LedgerUnusable(
                f"the ledger is broken at entry {verdict.first_bad}: {verdict.why} "
                "(pbr ledger verify)"
            )
        self.library = _library_history(self.ledger)
        self._payments, self.head, self._stamp = dict(history), verdict.head, stamp

    def payments(self) -> Mapping[str, tuple[Payment, ...]]:
        """Payments by family as the ledger stands now.

        Raises:
            ProblemError: 503 when the ledger has become unusable since the server started.

        """
        if self._signature() != self._stamp:
            try:
                self._reload()
            except LedgerUnusable as exc:
                raise ProblemError(503, self._unusable(exc)) from None
        return self._payments

    def _unusable(self, exc: LedgerUnusable) -> str:
        """The 503's detail: why, with the ledger's path left to the server's log.

        Health is open to clients without a token, and a path is none of their business.
        """
        LOGGER.warning("ledger %s cannot be used: %s", self.path, exc)
        said = str(exc)
        names = sorted({str(self.path), str(self.path.resolve()), self.path.name}, key=len)
        for name in [f"ledger {n}" for n in reversed(names)] + names[::-1]:
            said = said.replace(name, "the ledger")
        return f"the payments ledger cannot be used: {said}"


def _change_counter(path: str) -> int:
    """The file change counter of an SQLite file (header bytes 24..27); -1 when unreadable."""
    try:
        with open(path, "rb") as file:
            header = file.read(28)
    except OSError:
        return -1
    return int.from_bytes(header[24:28], "big") if len(header) == 28 else -1


def _library_history(ledger: Ledger) -> Any:
    """The library's payment history of `ledger` (``pbr.history``), or None without one."""
    try:
        from pbr.history import PaymentHistory  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    try:
        return PaymentHistory.load(ledger)
    except ValueError as exc:  # a LedgerError or a HistoryError
        raise LedgerUnusable(str(exc)) from None


def with_payments(family: Family, payments: Mapping[str, tuple[Payment, ...]]) -> Family:
    """`family` with its ledger payments added to the payments of its record.

    As ``pbr evaluate --ledger`` adds them today. Where the library merges a payment history
    itself (deduplicating by claim id), the server must hand the ledger to the library instead;
    a test compares the two on a payment that is in both the record and the ledger.
    """
    paid = payments.get(family.family_id)
    if not paid:
        return family
    return family.model_copy(update={"payments": (*family.payments, *paid)})
