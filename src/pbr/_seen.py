"""A compact set of identifiers in bounded memory, for duplicate checks over huge inputs.

A Python set of strings costs about 100 bytes per family; at national scale that is most of the
memory a streaming run uses. This keeps a 64-bit digest of each identifier (Python's own string
hash: SipHash, keyed per process, half the cost of a BLAKE2b digest) in an open-addressing table
of unsigned 64-bit slots, 8 bytes a family. Past `MEMORY_SLOTS` slots (512 KiB, about 32,000
families: a council's file stays in memory) the digests move to a temporary SQLite database on
disk with a 512 KiB page cache, so memory stays flat however large the input (issue 14). Two
different identifiers share a digest with probability about n²/2⁶⁵ (1 in 10¹¹ for 400,000
families); if it ever happened the second family would be *reported* as a repeated family_id,
never dropped silently.

>>> seen = SeenIds()
>>> seen.add("F1"), seen.add("F2"), seen.add("F1")
(True, True, False)
>>> "F2" in seen, len(seen)
(True, 2)
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence

__all__ = ["MEMORY_SLOTS", "SeenIds"]

MEMORY_SLOTS = 1 << 16
"""The most slots held in memory (8 bytes each); a larger set spills to a temporary file.

Smaller is flatter: at 2 MiB the table and SQLite's first pages (while it spills) cost a
national run 4.7 MiB at its peak, and 2.8 MiB after; at 512 KiB, about 1.5 MiB.
"""

_MASK64 = (1 << 64) - 1


class SeenIds:
    """Identifiers seen so far; `add` says whether an identifier is new."""

    __slots__ = ("_count", "_disk", "_limit", "_mask", "_slots")

    def __init__(self, capacity: int = 1 << 12, *, memory_slots: int = MEMORY_SLOTS) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0
        self._limit = memory_slots
        self._disk: sqlite3.Connection | None = None

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def _key(identifier: str) -> int:
        return (hash(identifier) & _MASK64) or 1  # 0 marks an empty slot

    def __contains__(self, identifier: object) -> bool:
        if not isinstance(identifier, str):
            return False
        key = self._key(identifier)
        if self._disk is not None:
            found = self._disk.execute("SELECT 1 FROM seen WHERE key = ?", (_signed(key),))
            return found.fetchone() is not None
        i = key & self._mask
        while self._slots[i]:
            if self._slots[i] == key:
                return True
            i = (i + 1) & self._mask
        return False

    def add(self, identifier: str) -> bool:
        """Add `identifier`; return False if it was already there."""
        key = self._key(identifier)
        if self._disk is not None:
            added = self._disk.execute("INSERT OR IGNORE INTO seen VALUES (?)", (_signed(key),))
            if added.rowcount != 1:
                return False
            self._count += 1
            return True
        i = key & self._mask
        while self._slots[i]:
            if self._slots[i] == key:
                return False
            i = (i + 1) & self._mask
        self._slots[i] = key
        self._count += 1
        if 2 * self._count > len(self._slots):
            self._grow()
        return True

    def add_all(self, identifiers: Sequence[str]) -> set[int]:
        """Add each of `identifiers` in turn; the positions of those already there.

        The same answers as `add` one at a time; on disk, one query and one insert for all.

        >>> seen = SeenIds()
        >>> seen.add("F1")
        True
        >>> sorted(seen.add_all(["F2", "F1", "F3", "F2"]))
        [1, 3]
        """
        repeated: set[int] = set()
        start = 0
        slots, mask, count = self._slots, self._mask, self._count
        # `add` written out for the table (half the cost a family): ends where the table spills
        while self._disk is None and start < len(identifiers):
            key = (hash(identifiers[start]) & _MASK64) or 1
            i = key & mask
            while True:
                slot = slots[i]
                if not slot:
                    slots[i] = key
                    count += 1
                    break
                if slot == key:
                    repeated.add(start)
                    break
                i = (i + 1) & mask
            start += 1
            if 2 * count > len(slots):
                self._count = count
                self._grow()
                slots, mask = self._slots, self._mask
        self._count = count
        if self._disk is None or start == len(identifiers):
            return repeated
        first: dict[int, int] = {}  # a key's first position
        for i in range(start, len(identifiers)):
            key = _signed(self._key(identifiers[i]))
            if key in first:
                repeated.add(i)
            else:
                first[key] = i
        keys = list(first)
        known: set[int] = set()
        for at in range(0, len(keys), _PER_QUERY):
            some = keys[at : at + _PER_QUERY]
            found = self._disk.execute(
                f"SELECT key FROM seen WHERE key IN ({','.join('?' * len(some))})", some
            )
            known.update(key for (key,) in found)
        repeated.update(first[key] for key in known)
        new = [(key,) for key in keys if key not in known]
        self._disk.executemany("INSERT INTO seen VALUES (?)", new)
        self._count += len(new)
        return repeated

    def _grow(self) -> None:
        old = self._slots
        if 2 * len(old) > self._limit:
            self._spill()
            return
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        for key in old:
            if key:
                i = key & self._mask
                while self._slots[i]:
                    i = (i + 1) & self._mask
                self._slots[i] = key

    def _spill(self) -> None:
        """Move the digests to a temporary SQLite database (its file is deleted with the set)."""
        import sqlite3

        disk = sqlite3.connect("", isolation_level=None)  # "": a private temporary file
        disk.execute("PRAGMA cache_size = -512")  # KiB: the memory SQLite may hold
        disk.execute("PRAGMA journal_mode = OFF")
        disk.execute("PRAGMA synchronous = OFF")
        disk.execute("CREATE TABLE seen (key INTEGER PRIMARY KEY)")
        disk.execute("BEGIN")  # one transaction for the whole run: no commit per family
        # in key order: each insert appends to the B-tree's last page (8x faster than at random)
        keys = sorted(_signed(key) for key in self._slots if key)
        disk.executemany("INSERT INTO seen VALUES (?)", zip(keys))
        self._disk = disk
        self._slots = array("Q")
        self._mask = 0


_PER_QUERY = 500
"""Keys looked up in one query (SQLite allows 999 parameters in older builds)."""


def _signed(key: int) -> int:
    """A 64-bit unsigned digest as SQLite's signed 64-bit integer (the same bits)."""
    return key - (1 << 64) if key >= 1 << 63 else key
