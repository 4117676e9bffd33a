"""SIGTERM and SIGHUP turned into an exception, so that a stopped run cleans up on its way out.

Cron and systemd stop a job with SIGTERM, and a closed terminal sends SIGHUP: by default either
ends the process at once, leaving its temporary files behind. Inside `stopped_cleanly` they
raise `Stopped` in the main thread instead, every ``with`` and ``finally`` on the way out runs,
and the process exits with the usual status, 128 + the signal.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["Stopped", "stop_received", "stopped_cleanly", "stops_held"]

_SIGNALS = tuple(s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)
_MASKABLE = hasattr(signal, "pthread_sigmask")  # POSIX; not on Windows

_received: list[int] = []
"""The stop signals received inside the outermost `stopped_cleanly` (cleared when it ends)."""


class Stopped(BaseException):
    """Raised in the main thread by SIGTERM or SIGHUP inside `stopped_cleanly`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def stop_received() -> int | None:
    """The stop signal received, if one was: nothing may be committed after it."""
    return _received[0] if _received else None


@contextmanager
def stopped_cleanly() -> Iterator[None]:
    """Within the block SIGTERM and SIGHUP raise `Stopped`; the outermost block then exits.

    The outermost block is the one that set the handlers (only where a signal's handling is
    the default, and in the main thread): it turns `Stopped` into ``SystemExit(128 + signal)``.
    A block inside it lets `Stopped` pass, so that no block inside carries on as if nothing
    had happened (an output written inside another's must not let the outer one be committed).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = _set_handlers()
    received: list[int] = []
    try:
        yield
    except Stopped:
        if not previous:
            raise
    finally:
        if previous:
            _restore(previous)
            received.extend(_received)
            _received.clear()
    if received:
        raise SystemExit(128 + received[0])


@contextmanager
def stops_held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP held back while the block runs: they take effect after it.

    For a step a stop must not cut in two, such as a temporary file made and its name noted.
    """
    if not _MASKABLE:
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, *_SIGNALS})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _set_handlers() -> dict[int, Any]:
    """Set `_handler` for each stop signal whose handling is the default; the handlers replaced."""
    handler = _handler(os.getpid())
    previous: dict[int, Any] = {}
    for sig in _SIGNALS:
        if signal.getsignal(sig) == signal.SIG_DFL:
            previous[sig] = signal.signal(sig, handler)
    return previous


def _restore(previous: dict[int, Any]) -> None:
    """Put back the handlers `_set_handlers` replaced."""
    for sig, old in previous.items():
        signal.signal(sig, old)


def _handler(owner: int) -> Callable[[int, FrameType | None], None]:
    """The handler: note the signal and raise `Stopped` (once: a second does not cut the cleanup short).

    A process forked from `owner` (a pool's worker) that inherited it dies as usual instead.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        _received.append(signum)
        if len(_received) == 1:
            raise Stopped(signum)

    return handler
