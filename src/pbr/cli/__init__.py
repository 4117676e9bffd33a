"""The ``pbr`` command, one module per command, thin over the library.

Exit status: 0 when every record was evaluated, 1 when some were rejected, 2 when the input
cannot be read, holds no records or nothing could be evaluated (or the command line is wrong),
141 when the reader of the output went away (``| head``), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pbr._terminal import printable
from pbr.cli import _evaluate, _explain, _rules, _schema, _template
from pbr.cli._options import Parser, evaluation_date
from pbr.errors import PlanError, UnknownInterpretation
from pbr.io import UnreadableFile

__all__ = ["EXIT_CLOSED_PIPE", "main"]

EXIT_CLOSED_PIPE = 141
"""The exit status when the reader of the output went away (``pbr evaluate ... | head``).

128 + SIGPIPE, what a shell reports for a Unix tool stopped by a closed pipe; never 1, which
means "some records were rejected".
"""


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command, or only `command` when pbr has it.

    Building every command's options costs about a tenth of a batch's start-up, and a run needs
    only its own; help and errors are the same either way (a name pbr does not have gets the
    full parser, whose error lists every command).
    """
    parser = Parser(
        prog="pbr", description="Payment-by-results claims for the Troubled Families programme."
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = any(command in names for names, _ in _COMMANDS)
    for names, add in _COMMANDS:
        if not known or command in names:
            add(sub)
    return parser


class _Version(argparse.Action):
    """``pbr --version``: the version, Python's, and how the rules run (worked out if asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="print pbr's version and how its rules run here, then exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        import platform

        from pbr import __version__
        from pbr._native import form

        print(f"pbr {__version__} on Python {platform.python_version()}: {form()}")
        parser.exit()


def _add_forecast(sub: Any) -> None:
    from pbr.forecast._cli import add_forecast_command

    add_forecast_command(sub, evaluation_date)


def _add_audit(sub: Any) -> None:
    from pbr.audit._cli import add_audit_commands

    add_audit_commands(sub, evaluation_date)


def _add_serve(sub: Any) -> None:
    from pbr.serve._cli import add_serve_command

    add_serve_command(sub)


_COMMANDS: tuple[tuple[tuple[str, ...], Callable[[Any], None]], ...] = (
    (("evaluate",), _evaluate.add),
    (("explain",), _explain.add),
    (("schema",), _schema.add),
    (("template",), _template.add),
    (("forecast",), _add_forecast),
    (("audit", "ledger", "replay"), _add_audit),
    (("serve",), _add_serve),
    (("rules",), _rules.add),
)
"""Each command's names and what adds it to the parser, in the order help lists them."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pbr`` command line; returns the exit status.

    No traceback reaches the user: every error is one line on stderr. Set ``PBR_DEBUG=1`` to
    see the traceback of an unexpected error.
    """
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (``pbr evaluate ... | head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt:
        print("pbr: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("PBR_DEBUG"):
            raise
        print(
            f"pbr: unexpected error ({type(exc).__name__}: {printable(str(exc)[:300])}); "
            "please report it, with PBR_DEBUG=1 for the traceback",
            file=sys.stderr,
        )
        return 2


def _main(argv: Sequence[str] | None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    args = _parser(given[0] if given else None).parse_args(given)
    out = sys.stdout
    try:
        return _run(args, out)
    except (UnknownInterpretation, UnreadableFile, PlanError) as exc:
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output that cannot be written (pbr.output.OutputError)
        from pbr.output import OutputError

        if not isinstance(exc, OutputError):
            raise
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, out: object) -> int:
    """The command's own runner, or the forecast's, the audit's and the server's."""
    run = getattr(args, "run", None)
    if run is not None:
        status: int = run(args, out)
        return status
    if args.command in ("audit", "ledger", "replay"):
        from pbr.audit import _cli as audit_cli

        runner = {
            "audit": audit_cli.run_audit,
            "ledger": audit_cli.run_ledger,
            "replay": audit_cli.run_replay,
        }[args.command]
        return runner(args, out)  # type: ignore[arg-type]
    if args.command == "serve":
        from pbr.serve._cli import run_serve

        return run_serve(args)
    from pbr.forecast._cli import run_forecast

    return run_forecast(args, out)  # type: ignore[arg-type]
