"""What every worker process of a batch shares: its signals, and memory given back as it goes.

Used by the pool of `pbr.batch` and by the processes of `pbr._slices` alike.
"""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import cast

__all__ = ["give_back_freed_memory", "held_signals", "worker_signals"]

_MASKABLE = hasattr(signal, "pthread_sigmask")  # POSIX; not on Windows
_WORKER_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM held back while worker processes start (they take effect after).

    A worker started with them held resets its handlers first (`worker_signals`), so a batch
    stopped while its workers start still stops them (a race seen under load).
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _WORKER_SIGNALS) if _MASKABLE else None
    try:
        yield
    finally:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def worker_signals() -> None:
    """A worker's first act: SIGTERM stops it, Ctrl-C is left to the process that started it.

    Whatever handlers that process had (a server's SIGTERM handler would otherwise keep a
    worker alive when the batch is stopped early).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _MASKABLE:  # a stop that came while the worker started takes effect now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _WORKER_SIGNALS)
    gc.freeze()  # what the worker inherited is never garbage: the collector need not rescan it


def give_back_freed_memory() -> bool:
    """Return the C heap's freed memory to the system (glibc's `malloc_trim`); False elsewhere.

    >>> give_back_freed_memory() in (True, False)
    True
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library this process runs on
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast("Callable[[int], int]", trim)
