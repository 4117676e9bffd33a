"""A compact set of identifiers: 8 bytes per member, for duplicate checks over huge inputs.

A Python set of strings costs about 100 bytes per family; at national scale that is most of the
memory a streaming run uses. This keeps a 64-bit BLAKE2b digest of each identifier in an
open-addressing table of unsigned 64-bit slots. Two different identifiers share a digest with
probability about n²/2⁶⁵ (1 in 10¹¹ for 400,000 families); if it ever happened the second family
would be *reported* as a repeated family_id, never dropped silently.

>>> seen = SeenIds()
>>> seen.add("F1"), seen.add("F2"), seen.add("F1")
(True, True, False)
>>> "F2" in seen, len(seen)
(True, 2)
"""

from __future__ import annotations

from array import array
from hashlib import blake2b

__all__ = ["SeenIds"]


class SeenIds:
    """Identifiers seen so far; `add` says whether an identifier is new."""

    __slots__ = ("_count", "_mask", "_slots")

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def _key(identifier: str) -> int:
        key = int.from_bytes(blake2b(identifier.encode(), digest_size=8).digest(), "little")
        return key or 1  # 0 marks an empty slot

    def __contains__(self, identifier: object) -> bool:
        if not isinstance(identifier, str):
            return False
        key = self._key(identifier)
        i = key & self._mask
        while self._slots[i]:
            if self._slots[i] == key:
                return True
            i = (i + 1) & self._mask
        return False

    def add(self, identifier: str) -> bool:
        """Add `identifier`; return False if it was already there."""
        key = self._key(identifier)
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

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        for key in old:
            if key:
                i = key & self._mask
                while self._slots[i]:
                    i = (i + 1) & self._mask
                self._slots[i] = key
