"""A first-in first-out byte buffer that spills to a temporary file beyond a memory limit.

A batch answer is written while its request is still being read. A client that reads the answer
only after sending the whole request (many do) would otherwise stall both sides once the
network buffers fill; the spool lets evaluation run on, with memory bounded, until the client
reads.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import deque
from typing import IO

__all__ = ["Spool"]

_READ = 1 << 20


class Spool:
    """Bytes put by one task and taken, in order, by another.

    >>> import asyncio
    >>> async def demo():
    ...     spool = Spool(memory=4)
    ...     for part in (b"ab", b"cd", b"ef", b"gh"):
    ...         spool.put(part)
    ...     spool.close()
    ...     return [part async for part in spool]
    >>> asyncio.run(demo())
    [b'abcd', b'efgh']
    """

    def __init__(self, memory: int) -> None:
        self._memory = memory
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._file: IO[bytes] | None = None
        self._written = 0
        self._read = 0
        self._closed = False
        self._ready = asyncio.Event()

    @property
    def waiting(self) -> int:
        """Bytes put and not yet taken."""
        return self._size + self._written - self._read

    @property
    def spilled(self) -> int:
        """Bytes waiting in the temporary file."""
        return self._written - self._read

    def put(self, data: bytes) -> None:
        """Add `data` after everything put before it."""
        if not data:
            return
        if self._file is None and self._size + len(data) <= self._memory:
            self._chunks.append(data)
            self._size += len(data)
        else:
            if self._file is None:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed when drained
            self._file.seek(self._written)
            self._file.write(data)
            self._written += len(data)
        self._ready.set()

    def close(self) -> None:
        """Nothing more will be put."""
        self._closed = True
        self._ready.set()

    def __aiter__(self) -> Spool:
        return self

    async def __anext__(self) -> bytes:
        while True:
            if self._chunks:
                data = b"".join(self._chunks)
                self._chunks.clear()
                self._size = 0
                return data
            if self._file is not None:
                self._file.seek(self._read)
                data = self._file.read(_READ)
                self._read += len(data)
                if self._read == self._written:
                    self._file.close()
                    self._file, self._written, self._read = None, 0, 0
                return data
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()

    def discard(self) -> None:
        """Drop what is waiting (the client has gone)."""
        self._chunks.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
