"""A compact set of identifiers in bounded memory, for duplicate checks over huge inputs.

A Python set of strings costs about 100 bytes per family; at national scale that is most of the
memory a streaming run uses. This keeps a 64-bit digest of each identifier (Python's own string
hash: SipHash, keyed per process, half the cost of a BLAKE2b digest) in an open-addressing table
of unsigned 64-bit slots, with the line the identifier was first given on in a parallel array of
unsigned 32-bit slots (widened to 64 bits should a line pass 4,294,967,295): 12 bytes a family,
so that a repeat's rejection can say where the family was first given. Past `MEMORY_SLOTS` slots
(3 MiB, about 131,000 families: a council's file, and phase one's 120,000 families nationally,
stay in memory) the digests and their lines move to the same kind of table in a temporary file
(`_DiskTable`), read 128 bytes at a time, so memory stays flat however large the input (issue
14). Two different identifiers share a digest with probability about n²/2⁶⁵ (1 in 10¹¹ for
400,000 families); if it ever happened the second family would be *reported* as a repeated
family_id, never dropped silently.

>>> seen = SeenIds()
>>> seen.add("F1", 3), seen.add("F2", 4), seen.add("F1", 9)
(True, True, False)
>>> "F2" in seen, len(seen), seen.first_line("F1"), seen.first_line("F3")
(True, 2, 3, None)
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
"""The most slots held in memory (12 bytes each); a larger set spills to a temporary file.

Smaller is flatter: the table is the only part of the set that grows in memory. Larger is
faster: on disk, each identifier costs a read and a write of the file (about 7 µs). At 1 << 16
(512 KiB, 32,000 families) a run of 100,000 families spent about 0.5 s of the writing
process's CPU on them; at 1 << 18 it spends none, and 400,000 families still peak within
1.2× of the memory of 10,000 (1.09–1.12× measured; 1.04–1.05× at 1 << 16). Keeping each
family's first line (4 bytes a slot more) took ``pbr evaluate --format json`` from 1.09× to
1.12× at 200,000 families against 10,000 (36.4 → 39.5 MiB before, 36.9 → 41.3 MiB after).
"""

_MASK64 = (1 << 64) - 1

_NARROW_LINE = (1 << 32) - 1
"""The largest line a 32-bit slot holds; a larger one widens the memory table's lines to 64."""


class SeenIds:
    """Identifiers seen so far: `add` says whether one is new, `first_line` where it was first given."""

    __slots__ = ("_count", "_disk", "_limit", "_lines", "_mask", "_slots")

    def __init__(self, capacity: int = 1 << 12, *, memory_slots: int = MEMORY_SLOTS) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._lines = array("I", bytes(4 * capacity))  # each slot's first line; 0: none given
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
        return isinstance(identifier, str) and self.first_line(identifier) is not None

    def first_line(self, identifier: str) -> int | None:
        """The line `identifier` was first added with (0 if none was given); None if never added.

        Identifiers are kept by digest: should two share one (see the module), the second is
        taken for a repeat of the first, and this is the first's line.
        """
        key = self._key(identifier)
        if self._disk is not None:
            return self._disk.line_of(key)
        i = key & self._mask
        while self._slots[i]:
            if self._slots[i] == key:
                return self._lines[i]
            i = (i + 1) & self._mask
        return None

    def add(self, identifier: str, line: int = 0) -> bool:
        """Add `identifier`, first given on `line`; return False if it was already there.

        An identifier already there keeps the line it was first added with.
        """
        key = self._key(identifier)
        if self._disk is not None:
            added = self._disk.add(key, line)
            self._count += added
            return added
        i = key & self._mask
        while self._slots[i]:
            if self._slots[i] == key:
                return False
            i = (i + 1) & self._mask
        if line > _NARROW_LINE:
            self._widen()
        self._slots[i] = key
        self._lines[i] = line
        self._count += 1
        if 2 * self._count > len(self._slots):
            self._grow()
        return True

    def add_all(self, identifiers: Sequence[str], lines: Sequence[int] = ()) -> set[int]:
        """Add each of `identifiers` in turn, each on its line of `lines`; the positions already there.

        The same answers as `add` one at a time. Without `lines` no line is kept (0).

        >>> seen = SeenIds()
        >>> seen.add("F1", 1)
        True
        >>> sorted(seen.add_all(["F2", "F1", "F3", "F2"], [2, 3, 4, 5])), seen.first_line("F2")
        ([1, 3], 2)
        """
        lines = lines or bytes(len(identifiers))  # zeros: no line given
        if len(lines) != len(identifiers):
            raise ValueError("give one line for each identifier")
        if self._disk is None and max(lines, default=0) > _NARROW_LINE:
            self._widen()
        repeated: set[int] = set()
        start = 0
        slots, numbers, mask, count = self._slots, self._lines, self._mask, self._count
        # `add` written out for the table (half the cost a family): ends where the table spills
        while self._disk is None and start < len(identifiers):
            key = (hash(identifiers[start]) & _MASK64) or 1
            i = key & mask
            while True:
                slot = slots[i]
                if not slot:
                    slots[i] = key
                    numbers[i] = lines[start]
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
                slots, numbers, mask = self._slots, self._lines, self._mask
        self._count = count
        disk = self._disk
        if disk is not None:
            for i in range(start, len(identifiers)):
                if disk.add((hash(identifiers[i]) & _MASK64) or 1, lines[i]):
                    self._count += 1
                else:
                    repeated.add(i)
        return repeated

    def _widen(self) -> None:
        """Hold lines past 4,294,967,295: the lines' slots become 64 bits (none was lost)."""
        if self._lines.typecode != "Q":
            self._lines = array("Q", self._lines)

    def _grow(self) -> None:
        old, old_lines = self._slots, self._lines
        if 2 * len(old) > self._limit:
            self._spill()
            return
        self._slots = array("Q", bytes(16 * len(old)))
        self._lines = array(old_lines.typecode, bytes(2 * old_lines.itemsize * len(old)))
        self._mask = len(self._slots) - 1
        for key, line in zip(old, old_lines, strict=True):
            if key:
                i = key & self._mask
                while self._slots[i]:
                    i = (i + 1) & self._mask
                self._slots[i] = key
                self._lines[i] = line

    def _spill(self) -> None:
        """Move the digests and lines to a table in a temporary file (deleted with the set)."""
        disk = _DiskTable(_FIRST_ON_DISK * max(len(self._slots), _BUCKET_SLOTS))
        disk.fill(self._slots, self._lines)
        self._disk = disk
        self._slots = array("Q")
        self._lines = array("I")
        self._mask = 0


_BUCKET_SLOTS = 8
"""Slots read or written together on disk: 128 bytes, one read a lookup."""

_SLOT = struct.Struct("<QQ")
"""A slot on disk: a key (0: none) and the line it was first given on."""

_BUCKET = struct.Struct(f"<{2 * _BUCKET_SLOTS}Q")

_FIRST_ON_DISK = 16
"""The first table on disk has this many times the slots of the memory table it replaces."""

_WINDOW = 1024
"""Buckets written at once when a table is filled whole (128 KiB)."""

_NEXT_ON_DISK = 8
"""Each further table on disk has this many times the slots of the one before."""


class _DiskTable:
    """Open-addressing tables of 64-bit keys and their lines in one temporary file.

    A slot holds a key and its line (`_SLOT`). A key's home is a bucket of `_BUCKET_SLOTS`
    slots, read whole; a full bucket passes on to the next (nothing is ever removed, so a
    bucket with a free slot ends a search). Each table is filled to half its slots, then kept as
    it is, and a larger one (`_NEXT_ON_DISK` times) takes the new keys: a lookup reads one
    bucket from each table (one table up to about 500,000 families, two up to 4 million). A
    table is a sparse region of the file until written to: the disk holds the buckets used, and
    the memory used is the operating system's page cache, not this process's. Growing never
    rewrites a key.

    >>> disk = _DiskTable(16)
    >>> [disk.add(k, line) for k, line in ((5, 1), (21, 2), (5, 3))], disk.holds(21), disk.holds(6)
    ([True, True, False], True, False)
    >>> disk.line_of(5), disk.line_of(6)
    (1, None)
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

    def fill(self, slots: Sequence[int], lines: Sequence[int] = ()) -> None:
        """Add the distinct keys in `slots` (0 is no key) to the one, empty table, as `add` would.

        Each key goes with its line in `lines` (none given: every line 0).
        Written a window of buckets at a time, in the order of their home buckets (a few dozen
        writes where `add` would read and write each key's bucket: a spill of 32,000
        families in 15 ms rather than 120). A key that would pass the last bucket is added
        afterwards, by `add`, round to the first.
        """
        ((offset, buckets),) = self._tables
        mask = buckets - 1
        per_bucket = 2 * _BUCKET_SLOTS  # a key and its line a slot
        window = array("Q", bytes(_WINDOW * _BUCKET.size))
        start = bucket = used = 0  # the window's first bucket; where the next key goes
        wrapped: list[tuple[int, int]] = []
        for key, line in _by_home(slots, lines or bytes(len(slots)), mask):
            home = key & mask
            if home > bucket:
                bucket, used = home, 0
            elif used == _BUCKET_SLOTS:  # full: on to the next bucket
                bucket, used = bucket + 1, 0
            if bucket > mask:
                wrapped.append((key, line))
                continue
            if bucket >= start + _WINDOW:
                _write_at(self._fd, window.tobytes(), offset + start * _BUCKET.size)
                window = array("Q", bytes(len(window) * 8))
                start = bucket - bucket % _WINDOW
            at = (bucket - start) * per_bucket + 2 * used
            window[at] = key
            window[at + 1] = line
            used += 1
            self._count += 1
        if self._count:
            end = min(_WINDOW, buckets - start) * per_bucket
            _write_at(self._fd, window[:end].tobytes(), offset + start * _BUCKET.size)
        if 2 * self._count > buckets * _BUCKET_SLOTS:  # pragma: no cover - the spill's is 1/32
            raise ValueError("fill a table to less than half its slots")
        for key, line in wrapped:
            self.add(key, line)

    def holds(self, key: int) -> bool:
        """Whether `key` was added."""
        return self.line_of(key) is not None

    def line_of(self, key: int) -> int | None:
        """The line `key` was added with; None if it was not."""
        for offset, buckets in self._tables:
            _, line = self._find(offset, buckets, key)
            if line is not None:
                return line
        return None

    def add(self, key: int, line: int = 0) -> bool:
        """Add `key` (not 0) with its `line`; False if it was there already (its line kept)."""
        *older, (offset, buckets) = self._tables
        if any(self._find(at, size, key)[1] is not None for at, size in older):
            return False
        free, found = self._find(offset, buckets, key)
        if found is not None:
            return False
        _write_at(self._fd, _SLOT.pack(key, line), free)
        self._count += 1
        if 2 * self._count > buckets * _BUCKET_SLOTS:
            self._new_table(buckets * _BUCKET_SLOTS * _NEXT_ON_DISK)
        return True

    def _find(self, offset: int, buckets: int, key: int) -> tuple[int, int | None]:
        """`key`'s slot in the table at `offset` and its line; else a free slot for it and None."""
        bucket = key & (buckets - 1)
        while True:
            at = offset + bucket * _BUCKET.size
            pairs = _BUCKET.unpack(_read_at(self._fd, _BUCKET.size, at))
            keys = pairs[::2]
            if key in keys:
                i = keys.index(key)
                return at + i * _SLOT.size, pairs[2 * i + 1]
            if 0 in keys:
                return at + keys.index(0) * _SLOT.size, None
            bucket = (bucket + 1) & (buckets - 1)


def _by_home(slots: Sequence[int], lines: Sequence[int], mask: int) -> Iterator[tuple[int, int]]:
    """The keys in `slots` (not 0) with their `lines`, in the order of their home buckets.

    A key's home is ``key & mask``. Sorted a window of buckets at a time, the keys first set
    out by window in one array (their lines in another), so that no list of every key is made
    (131,000 keys as Python integers would take 5 MiB).
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
    kind = lines.typecode if isinstance(lines, array) else "Q"  # 32 bits while they fit
    grouped_lines = array(kind, bytes(array(kind).itemsize * starts[-1]))
    for key, line in zip(slots, lines, strict=True):
        if key:
            w = (key & mask) // window
            grouped[placed[w]] = key
            grouped_lines[placed[w]] = line
            placed[w] += 1
    for w in range(len(starts) - 1):
        for j in sorted(range(starts[w], starts[w + 1]), key=lambda j: grouped[j] & mask):
            yield grouped[j], grouped_lines[j]


def _seek_read(fd: int, size: int, offset: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _seek_write(fd: int, data: bytes, offset: int) -> int:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)


_read_at = getattr(os, "pread", _seek_read)  # Windows has no pread: one process, one reader
_write_at = getattr(os, "pwrite", _seek_write)
