"""Warnings shown at the caller's own line, however deep in pbr they are raised.

The command line shows them as its own messages instead (`warnings_as_lines`).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pbr._terminal import printable

__all__ = ["warn_caller", "warnings_as_lines"]

_PACKAGE = str(Path(__file__).resolve().parent)


def warn_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn at the first line outside pbr: a fixed ``stacklevel`` breaks with each wrapper."""
    frame = sys._getframe(1)  # who called this: stacklevel 2 (1 is this function)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Within, a warning shown is one line, ``pbr: warning: MESSAGE``, as the command's own.

    Python's form names a file and line and prints that line of source (``bin/pbr:5: ...
    from pbr._entry import main``): noise to someone running ``pbr``. The filters stay as they
    are (``-W error`` still raises); outside, warnings are Python's again.
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_line
        yield


def _show_line(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """`warnings.showwarning` for the command line: the message alone, on standard error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr full or closed
        print(f"pbr: warning: {printable(str(message))}", file=file or sys.stderr)
