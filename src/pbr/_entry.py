"""The ``pbr`` script: Ctrl-C while the command line loads is said as Ctrl-C later is.

`pbr.cli` loads every command and the bundled rule sets when it is imported, before its `main`
can catch anything: a Ctrl-C then printed a traceback. This module imports nothing of pbr until
it is run, and runs that import under the same rule (one line, status 130).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Load the command line and run it (`pbr.cli.main`); Ctrl-C while it loads: status 130.

    A warning as it loads (pbr's compiled rules older than their source) is a line of its own.
    """
    from pbr._caller_warnings import warnings_as_lines

    try:
        with warnings_as_lines():
            from pbr.cli import main as run
    except KeyboardInterrupt:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr full or closed
            print("pbr: interrupted", file=sys.stderr or sys.stdout)
        return 130
    return run(argv)
