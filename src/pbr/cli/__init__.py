"""The ``pbr`` command, one module per command, thin over the library.

Exit status, for every command: 0 when it did its work and found nothing wrong, 2 when the
command line is wrong or an input cannot be read (nothing is half-done) or an output cannot be
written (standard error included: a full disk is never a clean run; standard error that is
closed, full or whose reader went away, ``2>&1 | head``, does not stop the work, whose output is
written, but ends it with 2), 141 when the reader of the output went away (``| head``), 130 on Ctrl-C, 143 on SIGTERM and 129 on SIGHUP (stopped,
every temporary file removed and no output replaced; ``pbr serve`` shuts down on SIGTERM and
ends by it). What 1 means is each command's own: its section says (and ``pbr COMMAND --help``
ends with it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pbr._caller_warnings import warnings_as_lines
from pbr._stopping import stopped_cleanly
from pbr._terminal import printable

with warnings_as_lines():  # ``python -m pbr.cli`` loads the rules here: a warning is a line
    from pbr.cli import _evaluate, _explain, _rules, _schema, _template
    from pbr.cli._options import Parser, evaluation_date
    from pbr.cli._streams import named_streams, raise_failure, standard_error_lost
    from pbr.errors import CalendarError, MissingExtra, PlanError, UnknownInterpretation
    from pbr.io import UnreadableFile

__all__ = ["EXIT_CLOSED_PIPE", "EXIT_STATUS", "SHARED_EXIT_STATUS", "epilog", "main"]

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
    _add_exit_statuses(parser)
    return parser


EXIT_STATUS: dict[str, str] = {
    "evaluate": "0 every record was evaluated; 1 some were rejected (each reported on stderr); "
    "2 the input cannot be read, holds no records, changed while it was read (records appended "
    "to it are not read: nothing is written to --output or --rejections) or none could be "
    "evaluated",
    "explain": "0 the family was explained; 1 a record of it is rejected, no programme covers "
    "it, or it is given more than once (the record pbr evaluate decides on, if any, is "
    "explained and the others reported, as are its payments the ledger disagrees with); 2 no "
    "such family, or the input or the ledger cannot be read",
    "schema": "0 the schema was printed",
    "template": "0 the tables were written (a table with rows kept); 2 the folder cannot be "
    "written",
    "forecast": "0 the forecast was made; 1 some records (--records) were rejected (each "
    "reported on stderr, then what became of their families); 2 an input cannot be read, holds "
    "no records (--records) or is refused",
    "audit": "0 every claim verified; 1 a claim is flagged, a row is malformed, a family "
    "record is rejected or a family could not be evaluated (its payments disagree with the "
    "ledger's, or no programme covers it), or a council table's row or file was not used; 2 an input cannot be read, or an option or the sample "
    "is refused",
    "ledger": "0 done; 1 the ledger's chain is broken (or does not hold the kept head); 2 the "
    "ledger cannot be opened or written (nothing is half-written): see each action",
    "ledger verify": "0 the chain is intact (and holds --expect-head); 1 the chain is broken "
    "or does not hold the kept head (checked first: a ledger rewritten under another key); 2 "
    "the ledger cannot be opened (not a pbr ledger, a wrong or missing key or, without "
    "--expect-head, a ledger rewritten under another key, locked past --timeout)",
    "ledger head": "0 the head was printed; 1 the chain is broken; 2 the ledger cannot be opened",
    "ledger export": "0 every entry was written; 2 the ledger does not verify or cannot be "
    "opened, or the file cannot be written",
    "ledger import": "0 every row was appended; 1 the chain was broken before it (nothing was "
    "appended) or is broken after it; 2 a row or the ledger is refused, and nothing was appended",
    "ledger append": "0 the payment was appended; 1 the chain was broken before it (nothing was "
    "appended) or is broken after it; 2 it or the ledger is refused, and nothing was appended",
    "ledger record": "0 the verified claims were recorded; 1 the chain was broken before it "
    "(nothing was recorded) or is broken after it; 2 the report, the re-check or the ledger is "
    "refused, and nothing was recorded",
    "replay": "0 every decision was reproduced exactly (and none is missing); 1 one differs, "
    "was made with another library, rules or input, cannot be replayed, or is missing (with "
    "decisions at several dates: a family of the records with a decision at none of them); 2 "
    "an input cannot be read or holds no decisions",
    "serve": "0 the server was stopped (Ctrl+C); 2 it cannot start (the serve extra missing, "
    "a bad setting, the address in use)",
    "rules": "0 the rule sets were printed",
}
"""Each command's exit statuses (besides those every command shares: `SHARED_EXIT_STATUS`)."""

SHARED_EXIT_STATUS = (
    "2 also when an output or standard error cannot be written (a full disk; standard error "
    "closed, full or its reader gone, as in 2>&1 | head, ends the run with 2 once its output is "
    "written); 141 when the reader of the output goes away (| head); 130, 143 or 129 when "
    "stopped by Ctrl-C, SIGTERM or SIGHUP (every temporary file removed, no output replaced)"
)
"""The exit statuses every command but ``pbr serve`` shares (the module's doc says them too)."""


def epilog(command: str) -> str:
    """What ends ``pbr COMMAND --help`` (and its section of the CLI reference): its exit statuses.

    >>> epilog("rules")[:57]
    'Exit status: 0 the rule sets were printed; 2 also when an'
    """
    shared = "" if command == "serve" else f"; {SHARED_EXIT_STATUS}"  # it stops as a server does
    return f"Exit status: {EXIT_STATUS[command]}{shared}."


def _add_exit_statuses(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """End each command's help with its exit statuses (`epilog`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                full = f"{prefix}{name}"
                command.epilog = epilog(full)
                _add_exit_statuses(command, f"{full} ")


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
    see the traceback of an unexpected error. SIGTERM or SIGHUP stops the command as Ctrl-C
    does, every temporary file and folder removed, with status 128 + the signal (``pbr
    serve`` shuts its server down instead). A warning is one line, ``pbr: warning: ...``, not
    Python's form with a file, a line number and a line of source.
    """
    with named_streams(), warnings_as_lines():
        return _guarded(argv)


def _guarded(argv: Sequence[str] | None) -> int:
    """`_main`, every error it lets out turned into a line on stderr and an exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (``pbr evaluate ... | head``): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt:
        _say("pbr: interrupted")
        return 130
    except Exception as exc:
        from pbr.output import OutputError

        if not isinstance(exc, OutputError) and os.environ.get("PBR_DEBUG"):
            raise
        _say(_one_line(exc))
        return 2


def _one_line(exc: Exception) -> str:
    """What to say of an error `_main` let out: an output that cannot be written, or a defect."""
    from pbr.output import OutputError

    if isinstance(exc, OutputError):  # standard error, say, met while saying something else
        return f"pbr: {printable(str(exc))}"
    return (
        f"pbr: unexpected error ({type(exc).__name__}: {printable(str(exc)[:300])}); "
        "please report it, with PBR_DEBUG=1 for the traceback"
    )


def problems_of(exc: Exception) -> tuple[str, ...]:
    """What an error says, a line each: a plan's or a calendar's problems, else its text."""
    if isinstance(exc, PlanError | CalendarError) and exc.problems:
        return exc.problems
    return (str(exc),)


def _say(line: str) -> None:
    """Print `line` on stderr, if it can be written (a full disk gets nothing more)."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr)


def _main(argv: Sequence[str] | None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parsed(given)
        with _stops_handled(args.command):
            status = _run(args, sys.stdout)
        _flush()  # what is still buffered is written now, while a failure can be reported
        return 2 if standard_error_lost() else status  # the work is done, but not all said
    except (UnknownInterpretation, UnreadableFile, PlanError, CalendarError, MissingExtra) as exc:
        for problem in problems_of(exc):
            print(f"pbr: {printable(problem)}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output that cannot be written (pbr.output.OutputError)
        from pbr.output import OutputError

        if not isinstance(exc, OutputError):
            raise
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2


def _parsed(given: list[str]) -> argparse.Namespace:
    """The command line parsed; what argparse prints before it exits (help, errors) written."""
    try:
        return _parser(given[0] if given else None).parse_args(given)
    except SystemExit:
        _flush()
        raise_failure()
        raise


def _stops_handled(command: str) -> contextlib.AbstractContextManager[None]:
    """SIGTERM and SIGHUP handled as Ctrl-C is (`stopped_cleanly`), but by ``pbr serve``.

    The server shuts down on SIGTERM itself, then ends by the signal, as systemd expects.
    """
    return contextlib.nullcontext() if command == "serve" else stopped_cleanly()


def _flush() -> None:
    """Write out what standard output and standard error still hold."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


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
