"""A compact set of identifiers in bounded memory, for duplicate checks over huge inputs.

A Python set of strings costs about 100 bytes per family; at national scale that is most of the
memory a streaming run uses. This keeps a 64-bit digest of each identifier (Python's own string
hash: SipHash, keyed per process, half the cost of a BLAKE2b digest) in an open-addressing table
of unsigned 64-bit slots, 8 bytes a family. Past `MEMORY_SLOTS` slots (2 MiB, about 131,000
families: a council's file, and phase one's 120,000 families nationally, stay in memory) the
digests move to the same kind of table in a temporary file (`_DiskTable`), read and written 64
bytes at a time, so memory stays flat however large the input (issue 14). Two different identifiers share a digest with probability about
n²/2⁶⁵ (1 in 10¹¹ for 400,000 families); if it ever happened the second family would be
*reported* as a repeated family_id, never dropped silently.

>>> seen = SeenIds()
>>> seen.add("F1"), seen.add("F2"), seen.add("F1")
(True, True, False)
>>> "F2" in seen, len(seen)
(True, 2)
"""

from __future__ import annotations

import os
import struct
import tempfile
import weakref
from array import array
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["MEMORY_SLOTS", "SeenIds"]

MEMORY_SLOTS = 1 << 18
"""The most slots held in memory (8 bytes each); a larger set spills to a temporary file.

Smaller is flatter: the table is the only part of the set that grows in memory. Larger is
faster: on disk, each identifier costs a read and a write of the file (about 7 µs). At 1 << 16
(512 KiB, 32,000 families) a run of 100,000 families spent about 0.5 s of the writing
process's CPU on them; at 1 << 18 it spends none, and 400,000 families still peak within
1.2× of the memory of 10,000 (1.09–1.12× measured; 1.04–1.05× at 1 << 16).
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
        self._disk: _DiskTable | None = None

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
            return self._disk.holds(key)
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
            added = self._disk.add(key)
            self._count += added
            return added
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

        The same answers as `add` one at a time.

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
        disk = self._disk
        if disk is not None:
            for i in range(start, len(identifiers)):
                if disk.add((hash(identifiers[i]) & _MASK64) or 1):
                    self._count += 1
                else:
                    repeated.add(i)
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
        """Move the digests to a table in a temporary file (deleted with the set)."""
        disk = _DiskTable(_FIRST_ON_DISK * max(len(self._slots), _BUCKET_SLOTS))
        disk.fill(self._slots)
        self._disk = disk
        self._slots = array("Q")
        self._mask = 0


_BUCKET_SLOTS = 8
"""Slots read or written together on disk: 64 bytes, one read a lookup."""

_BUCKET = struct.Struct(f"<{_BUCKET_SLOTS}Q")
_SLOT = struct.Struct("<Q")

_FIRST_ON_DISK = 16
"""The first table on disk has this many times the slots of the memory table it replaces."""

_WINDOW = 1024
"""Buckets written at once when a table is filled whole (64 KiB)."""

_NEXT_ON_DISK = 8
"""Each further table on disk has this many times the slots of the one before."""


class _DiskTable:
    """Open-addressing tables of 64-bit keys in one temporary file, searched 64 bytes at a time.

    A key's home is a bucket of `_BUCKET_SLOTS` slots; a full bucket passes on to the next
    (nothing is ever removed, so a bucket with a free slot ends a search). Each table is filled
    to half its slots, then kept as it is, and a larger one (`_NEXT_ON_DISK` times) takes the
    new keys: a lookup reads one bucket from each table (one table up to about 500,000
    families, two up to 4 million). A table is a sparse region of the file until written to:
    the disk holds the buckets used, and the memory used is the operating system's page cache,
    not this process's. Growing never rewrites a key.

    >>> disk = _DiskTable(16)
    >>> [disk.add(k) for k in (5, 21, 5)], disk.holds(21), disk.holds(6)
    ([True, True, False], True, False)
    """

    __slots__ = ("__weakref__", "_count", "_fd", "_tables")

    def __init__(self, slots: int) -> None:
        handle = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 (closed with the table)
        weakref.finalize(self, handle.close)
        self._fd = handle.fileno()
        self._tables: list[tuple[int, int]] = []  # each table's offset and buckets
        self._count = 0
        self._new_table(slots)

    def _new_table(self, slots: int) -> None:
        offset = sum(buckets for _, buckets in self._tables) * _BUCKET.size
        buckets = max(slots // _BUCKET_SLOTS, 1)
        os.ftruncate(self._fd, offset + buckets * _BUCKET.size)  # zeros: empty slots
        self._tables.append((offset, buckets))
        self._count = 0

    def fill(self, slots: Sequence[int]) -> None:
        """Add the distinct keys in `slots` (0 is no key) to the one, empty table, as `add` would.

        Written a window of buckets at a time, in the order of their home buckets (a few dozen
        writes where `add` would read and write each key's bucket: a spill of 32,000
        families in 15 ms rather than 120). A key that would pass the last bucket is added
        afterwards, by `add`, round to the first.
        """
        ((offset, buckets),) = self._tables
        mask = buckets - 1
        window = array("Q", bytes(_WINDOW * _BUCKET.size))
        start = bucket = used = 0  # the window's first bucket; where the next key goes
        wrapped: list[int] = []
        for key in _by_home(slots, mask):
            home = key & mask
            if home > bucket:
                bucket, used = home, 0
            elif used == _BUCKET_SLOTS:  # full: on to the next bucket
                bucket, used = bucket + 1, 0
            if bucket > mask:
                wrapped.append(key)
                continue
            if bucket >= start + _WINDOW:
                _write_at(self._fd, window.tobytes(), offset + start * _BUCKET.size)
                window = array("Q", bytes(len(window) * 8))
                start = bucket - bucket % _WINDOW
            window[(bucket - start) * _BUCKET_SLOTS + used] = key
            used += 1
            self._count += 1
        if self._count:
            end = min(_WINDOW, buckets - start) * _BUCKET_SLOTS
            _write_at(self._fd, window[:end].tobytes(), offset + start * _BUCKET.size)
        if 2 * self._count > buckets * _BUCKET_SLOTS:  # pragma: no cover - the spill's is 1/32
            raise ValueError("fill a table to less than half its slots")
        for key in wrapped:
            self.add(key)

    def holds(self, key: int) -> bool:
        """Whether `key` was added."""
        return any(self._find(offset, buckets, key) < 0 for offset, buckets in self._tables)

    def add(self, key: int) -> bool:
        """Add `key` (not 0); False if it was there already."""
        *older, (offset, buckets) = self._tables
        if any(self._find(at, size, key) < 0 for at, size in older):
            return False
        free = self._find(offset, buckets, key)
        if free < 0:
            return False
        _write_at(self._fd, _SLOT.pack(key), free)
        self._count += 1
        if 2 * self._count > buckets * _BUCKET_SLOTS:
            self._new_table(buckets * _BUCKET_SLOTS * _NEXT_ON_DISK)
        return True

    def _find(self, offset: int, buckets: int, key: int) -> int:
        """-1 if `key` is in the table at `offset`; else where a new key would be written."""
        bucket = key & (buckets - 1)
        while True:
            at = offset + bucket * _BUCKET.size
            slots = _BUCKET.unpack(_read_at(self._fd, _BUCKET.size, at))
            if key in slots:
                return -1
            if 0 in slots:
                return at + slots.index(0) * _SLOT.size
            bucket = (bucket + 1) & (buckets - 1)


def _by_home(slots: Sequence[int], mask: int) -> Iterator[int]:
    """The keys in `slots` (not 0) in the order of their home buckets (``key & mask``).

    Sorted a window of buckets at a time, the keys first set out by window in one array, so
    that no list of every key is made (131,000 keys as Python integers would take 5 MiB).
    """
    window = min(_WINDOW, mask + 1)
    starts = array("Q", bytes(8 * ((mask + 1) // window + 1)))
    for key in slots:
        if key:
            starts[(key & mask) // window + 1] += 1
    for w in range(1, len(starts)):
        starts[w] += starts[w - 1]
    placed = array("Q", starts)
    grouped = array("Q", bytes(8 * starts[-1]))
    for key in slots:
        if key:
            w = (key & mask) // window
            grouped[placed[w]] = key
            placed[w] += 1
    for w in range(len(starts) - 1):
        yield from sorted(grouped[starts[w] : starts[w + 1]], key=mask.__and__)


def _seek_read(fd: int, size: int, offset: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _seek_write(fd: int, data: bytes, offset: int) -> int:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)


_read_at = getattr(os, "pread", _seek_read)  # Windows has no pread: one process, one reader
_write_at = getattr(os, "pwrite", _seek_write)
