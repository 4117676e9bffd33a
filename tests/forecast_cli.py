"""`pbr forecast` run in this process, for the forecast tests (fast: no interpreter start)."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from pbr.cli import main


@dataclass(frozen=True)
class Ran:
    """What a run gave: its exit status and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Ran:
    """`pbr forecast ARGS`; argparse's own errors (usage, a bad number) are an exit status too."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = main(["forecast", *args])
        except SystemExit as exc:
            status = int(exc.code or 0)
    return Ran(status, out.getvalue(), err.getvalue())
