"""Standard output and standard error that say which they are when they cannot be written.

A write to a full disk (``pbr evaluate ... > /dev/full``) fails with a bare OSError, which
cannot be told from a defect. Through `named_streams` it is an `pbr.output.OutputError` naming
the stream, and the stream is then silenced: what it still holds goes nowhere, so nothing fails
again (Python's own flush at exit would print an error and end the process with status 120).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, cast

__all__ = ["Closed", "NamedStream", "named_streams", "raise_failure", "standard_error_lost"]


class NamedStream:
    """`stream` with its write errors raised as `pbr.output.OutputError` naming it (`name`).

    A closed pipe stays a `BrokenPipeError` (``| head``: the command ends quietly). After the
    first error the stream is silenced and what is written to it is dropped. Anything else is
    the stream's own (`fileno`, `isatty`, `encoding`); `buffer` is named the same way.

    With `carry_on` (standard error: messages, not the command's output) no error is raised,
    a closed pipe's neither: the command's work goes on and is written, and it ends with status
    2 (`standard_error_lost`) (``2>&1 | head`` in a cron job lost the whole run).
    """

    def __init__(
        self,
        stream: Any,
        name: str,
        failures: list[OSError] | None = None,
        *,
        carry_on: bool = False,
    ) -> None:
        self._stream = stream
        self._name = name
        self._carry_on = carry_on
        self.failures: list[OSError] = [] if failures is None else failures
        """The error that silenced the stream, as raised, if one did (shared with `buffer`)."""

    def write(self, data: Any) -> int:
        if self.failures:
            return len(data)
        written: int = len(data)  # what is dropped counts as written: the command goes on
        with self._named():
            written = self._stream.write(data)
        return written

    def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.failures:
            with self._named():
                self._stream.flush()

    @property
    def buffer(self) -> NamedStream:
        return NamedStream(self._stream.buffer, self._name, self.failures, carry_on=self._carry_on)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream, attribute)

    @contextlib.contextmanager
    def _named(self) -> Iterator[None]:
        """Turn an error writing the stream into an `OutputError` naming it, and silence it."""
        try:
            yield
        except BrokenPipeError:
            if not self._carry_on:
                raise
            self._failed("its reader went away")
        except OSError as exc:
            failure = self._failed(exc.strerror or str(exc))
            if not self._carry_on:
                raise failure from None

    def _failed(self, why: str) -> OSError:
        """Note that the stream cannot be written, and silence it."""
        from pbr.output import OutputError

        failure = OutputError(f"cannot write {self._name}: {why}")
        self.failures.append(failure)
        _silence(self._stream)
        return failure


class Closed(io.TextIOBase):
    """A stream that was closed before the command started: every write fails (EBADF)."""

    encoding = "utf-8"

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def flush(self) -> None:
        """Nothing is held: nothing to write."""

    @property
    def buffer(self) -> Closed:
        return self


def raise_failure() -> None:
    """Raise again the error of a standard stream that failed, for code that swallowed it.

    (argparse ignores an error writing its help.)
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, NamedStream) and stream.failures:
            raise stream.failures[0]


def standard_error_lost() -> bool:
    """Whether standard error failed while the command ran (its messages went nowhere)."""
    return isinstance(sys.stderr, NamedStream) and bool(sys.stderr.failures)


def _silence(stream: Any) -> None:
    """Point `stream`'s descriptor at the null device, if it has one (a test's capture has not)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


@contextlib.contextmanager
def named_streams() -> Iterator[None]:
    """Standard output and standard error as `NamedStream` while the block runs.

    A stream the command was started without (``pbr rules >&-``: Python's is None) is a
    `Closed` one: writing it fails as writing a full disk does, naming the stream.
    """
    saved = sys.stdout, sys.stderr
    errors = [_escaping(saved[0], data=True), _escaping(saved[1], data=False)]
    sys.stdout = cast("TextIO", NamedStream(saved[0] or Closed(), "standard output"))
    sys.stderr = cast("TextIO", NamedStream(saved[1] or Closed(), "standard error", carry_on=True))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream, before in zip(saved, errors, strict=True):
            if before is not None:
                with contextlib.suppress(Exception):
                    stream.flush()
                    stream.reconfigure(encoding=before[0], errors=before[1])  # type: ignore[union-attr]


def _escaping(stream: Any, *, data: bool) -> tuple[str, str] | None:
    """Have `stream` write what its encoding cannot (``£`` in ASCII); its old encoding and way.

    A terminal or pipe in an encoding other than UTF-8 (``LC_ALL=C``, ``PYTHONIOENCODING=
    latin-1``) stopped a command with an "unexpected error" at the first character it lacks,
    or wrote bytes no pbr command reads back (cp1252's ``£``). Standard output that is no
    terminal (`data`: a pipe or file, what ``pbr replay`` or a ledger import reads back) is
    written as UTF-8, as ``--output`` writes, never changed by an escape; a terminal and
    standard error (read by a person) keep their encoding and show an escape for what it
    lacks. None when the stream needs no change (or allows none).
    """
    try:
        if codecs.lookup(stream.encoding or "utf-8").name == "utf-8":
            return None
    except LookupError:
        pass
    except (AttributeError, TypeError):
        return None
    before = (stream.encoding, getattr(stream, "errors", None) or "strict")
    try:
        if data and not stream.isatty():
            stream.reconfigure(encoding="utf-8", errors="strict")
        else:
            stream.reconfigure(errors="backslashreplace")
    except Exception:  # not a TextIOWrapper (a test's capture): left as it is
        return None
    return before
