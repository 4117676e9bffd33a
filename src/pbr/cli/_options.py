"""What the ``pbr`` commands share: argument types, the rule options, plans and rule sets."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

from pbr._arguments import MOST_RECORD_BYTES
from pbr._arguments import interpretation_choice as _interpretation_choice
from pbr._terminal import printable
from pbr.errors import PlanError
from pbr.io import DEFAULT_MAX_RECORD_BYTES
from pbr.periods import TermCalendar, check_as_of
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pathlib import Path

    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = [
    "Parser",
    "add_record_size_option",
    "add_rule_options",
    "byte_count",
    "check_named_format",
    "council_tables",
    "evaluation_date",
    "file_name",
    "interpretation_choice",
    "load_calendar",
    "load_plans",
    "rule_sets_for",
    "rules_by_programme",
    "utf8_text",
    "written_to",
]


def written_to(path: str | Path) -> str:
    """Where an output went, as the line saying so names it: its path, or the standard stream.

    >>> written_to("-"), written_to("/dev/stdout"), written_to("out.jsonl")
    ('standard output', 'standard output', 'out.jsonl')
    """
    from pbr.output import given_descriptor

    stream = {1: "standard output", 2: "standard error"}.get(given_descriptor(path) or 0)
    return stream or printable(os.fspath(path))


def council_tables(path: str) -> bool:
    """Whether `path` names council tables (a folder of CSV files, or an XLSX workbook).

    Every command that reads families tells tables from a JSON or JSON Lines file this way. A
    file that is neither (one CSV table, a workbook in another format) is refused here, rather
    than read as JSON Lines and every line rejected as "invalid JSON".
    """
    from pathlib import Path

    from pbr._unreadable import cannot_read
    from pbr.io import UnreadableFile

    try:
        if Path(path).is_dir():
            return True
    except OSError as exc:  # a name too long: is_dir raises all but "not there" (Python 3.11)
        raise UnreadableFile(cannot_read(printable(path), exc)) from None
    suffix = Path(path).suffix.lower()
    if suffix == ".csv" or (suffix in (".tsv", ".txt") and _looks_like_a_table(path)):
        raise UnreadableFile(
            f"{printable(path)} is a table, not family records: give the folder that holds "
            "the council tables (families.csv, members.csv, ...), or JSON records "
            "(.json, .jsonl)"
        )
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods"):
        raise UnreadableFile(
            f"{printable(path)}: pbr reads workbooks saved as .xlsx (Excel Workbook): save it so"
        )
    return suffix == ".xlsx"


def _looks_like_a_table(path: str) -> bool:
    """Whether a .txt or .tsv file starts with a header naming ``family_id`` (not JSON)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(200).lstrip(b"\xef\xbb\xbf").lstrip()
    except OSError:
        return False
    return not head.startswith((b"{", b"[")) and b"family_id" in head.split(b"\n", 1)[0]


def check_named_format(fmt: str, output: str, kinds: Mapping[str, str]) -> None:
    """Refuse ``--format FMT`` with an `output` whose suffix (`kinds`: suffix to format) says another.

    CSV text in ``decisions.xlsx`` (or JSON in ``.csv``) is a file its reader cannot open. One
    rule, in the same words, for every command with ``--format`` and ``--output``; a suffix
    `kinds` does not know is left to the caller.
    """
    from pathlib import Path

    said = kinds.get(Path(output).suffix.lower())
    if said is not None and said != fmt:
        from pbr.output import OutputError

        raise OutputError(
            f"cannot write {printable(output)}: --format {fmt} writes {_format_name(fmt)}, but "
            f"the name says {_format_name(said)}: name it for {_format_name(fmt)} or leave out "
            "--format (the name decides)"
        )


def _format_name(fmt: str) -> str:
    """A format as messages name it: ``CSV``, ``JSON``, ``XLSX``, ``a text table``."""
    return "a text table" if fmt == "table" else fmt.upper()


def evaluation_date(text: str) -> date:
    """An evaluation date from the command line: ``YYYY-MM-DD`` within the range pbr evaluates."""
    from pbr._scalars import date_from_text

    day = date_from_text(text)  # not an ISO week date (2015-W14-2), which 3.11 would read
    if day is None:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        return check_as_of(day)
    except ValueError as exc:  # argparse names the option (--as-of, --paid-on): not "as_of"
        raise argparse.ArgumentTypeError(str(exc).removeprefix("as_of ")) from None


MAX_BYTE_COUNT = MOST_RECORD_BYTES
"""The largest ``--max-record-bytes`` (1 TiB): no record is larger, and a read can be asked for it."""


def byte_count(text: str) -> int:
    """A number of bytes from 1 to `MAX_BYTE_COUNT` (beyond, a read cannot be asked for it)."""
    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_BYTE_COUNT:
        raise argparse.ArgumentTypeError(
            f"expected a number of bytes from 1 to {MAX_BYTE_COUNT:,} (1 TiB), got {text!r}"
        )
    return size


def file_name(text: str) -> str:
    """A file or folder named on the command line: any text but none (``--report ""``).

    An empty name was taken as no option at all (``--report ""``: no report, nothing said) or
    as the current folder; every option and argument that names a file is typed with this.
    """
    if not text:
        raise argparse.ArgumentTypeError("an empty file name: give a file name, or leave it out")
    return text


def utf8_text(text: str) -> str:
    """Text that will be written (a chart's title, a council's name): UTF-8 text, not raw bytes.

    Bytes that are not UTF-8 reach Python as lone surrogates, which no file or chart can hold:
    refused before any work, in the words ``pbr ledger append`` uses.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"not UTF-8 text: {text!r}") from None
    return text


def interpretation_choice(text: str) -> tuple[str, str]:
    """``--interpretation ID=VALUE`` as (id, value); spaces around either are refused, not cut."""
    try:
        return _interpretation_choice(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class StoreOnce(argparse.Action):
    """Store an option's value, refusing a second, different one (which one was meant?).

    argparse keeps the last of ``--as-of 2015-03-31 --as-of 2016-03-31`` silently. The same
    value given twice is taken (nothing is in doubt: a script that adds its own defaults may
    repeat one). Every single-valued option of every command stores with this action (`Parser`
    makes it the default); a repeatable option says ``action="append"``.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self._given_to: argparse.Namespace | None = None  # the namespace of the last parse

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if self.option_strings and self._given_to is namespace:
            before = getattr(namespace, self.dest, None)
            if before != values:
                shown = "/".join(self.option_strings)
                raise argparse.ArgumentError(
                    None,
                    f"{shown} is given twice ({_given(before)}, then {_given(values)}): give it once",
                )
        self._given_to = namespace
        setattr(namespace, self.dest, values)


def _given(value: object) -> str:
    """A value given on the command line, as a message shows it (a date as written).

    >>> _given(date(2015, 3, 31)), _given("a.toml")
    ("'2015-03-31'", "'a.toml'")
    """
    return repr(value.isoformat() if isinstance(value, date) else value)


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line: what is wrong and where to find help.

    An option given twice with different values is an error (`StoreOnce`), and an argument
    too many is reported by the command it was given to, which says what it takes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, StoreOnce)
        self.register("action", "store", StoreOnce)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self._command(parsed)
            command.error(f"unrecognized arguments: {' '.join(extras)}{command._takes(extras)}")
        return parsed

    def _command(self, parsed: argparse.Namespace) -> Parser:
        """The (sub)command's own parser that `parsed` ran: ``pbr ledger verify``'s, say."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
                if isinstance(chosen, Parser):
                    return chosen._command(parsed)
        return self

    def _takes(self, extras: Sequence[str]) -> str:
        """What the command takes, when `extras` are arguments rather than options."""
        if any(extra.startswith("-") for extra in extras) or self._subparsers is not None:
            return ""
        name = self.prog.removeprefix("pbr ")
        wanted = [
            a.metavar if isinstance(a.metavar, str) else a.dest
            for a in self._actions
            if not a.option_strings and a.nargs is None
        ]
        if not wanted:
            return f"; {name} takes no arguments, only options"
        if len(wanted) == 1:
            return f"; {name} takes one {wanted[0]}"
        return f"; {name} takes {len(wanted)} arguments: {' '.join(wanted)}"


def add_rule_options(
    parser: argparse.ArgumentParser,
    interpretation_help: str = "switch an interpretation in every rule set that has it "
    "(repeatable)",
    plan_help: str = "the council's outcome plan (TOML, JSON or YAML) for a programme judged "
    "against one; one per programme (repeatable)",
    calendar_help: str = "the council's school term dates (TOML, JSON or CSV) for every "
    "programme: terms it does not give keep the default dates",
) -> None:
    """``--interpretation ID=VALUE`` and ``--plan FILE``, both repeatable, and ``--term-calendar``.

    Each command's help says what they are to it (the audit's: those the claims were made under).
    """
    parser.add_argument(
        "--interpretation",
        type=interpretation_choice,
        action="append",
        default=[],
        metavar="ID=VALUE",
        help=interpretation_help,
    )
    parser.add_argument(
        "--plan", action="append", default=[], type=file_name, metavar="FILE", help=plan_help
    )
    parser.add_argument("--term-calendar", type=file_name, metavar="FILE", help=calendar_help)


def rule_files(plans: Sequence[str], calendar: str | None) -> dict[str, str]:
    """Every ``--plan`` file and the ``--term-calendar`` file, by the option that gave each.

    The council's own files: give them to `pbr.output.check_distinct` as files read, so that
    no output replaces them.

    >>> rule_files(["sf.toml"], "terms.csv")
    {'--plan sf.toml': 'sf.toml', '--term-calendar': 'terms.csv'}
    """
    found = {f"--plan {path}": path for path in plans}
    if calendar is not None:
        found["--term-calendar"] = calendar
    return found


def load_calendar(path: str | None) -> TermCalendar | None:
    """``--term-calendar``'s calendar, read and checked (`pbr.load_term_calendar`), or None."""
    if path is None:
        return None
    from pbr.calendars import load_term_calendar

    return load_term_calendar(path)


LEDGER_KEY_HELP = (
    "file holding a keyed ledger's key (default: $PBR_LEDGER_KEY_FILE, or the key itself in "
    "$PBR_LEDGER_KEY)"
)


def seconds(text: str) -> float:
    """``--timeout``: a number of seconds, 0 or more (not NaN or infinite)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 10**6:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"not a number of seconds, 0 or more: {text!r}")
    return value


class _DefaultSeconds(float):
    """The default ``--timeout``: a float a command can tell from one given on the line."""


DEFAULT_TIMEOUT = _DefaultSeconds(60.0)


def stray_ledger_options(args: argparse.Namespace) -> str | None:
    """``--key-file`` or ``--timeout`` given to a command with no ``--ledger``, or None.

    >>> stray_ledger_options(argparse.Namespace(ledger=None, key_file="k", timeout=DEFAULT_TIMEOUT))
    '--key-file'
    """
    if getattr(args, "ledger", None) is not None:
        return None
    if getattr(args, "key_file", None) is not None:
        return "--key-file"
    timeout = getattr(args, "timeout", DEFAULT_TIMEOUT)
    return None if timeout is DEFAULT_TIMEOUT else "--timeout"


def key_files(
    key_file: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ledger key files a command must never write over, by the name that gave each.

    ``--key-file``, and the file ``PBR_LEDGER_KEY_FILE`` names (`pbr.ledger.KEY_FILE_ENV`):
    written over, the key is gone, and the ledger keyed with it can never be verified again.
    (``PBR_LEDGER_KEY`` holds the key itself, not a file.) Give the result to
    `pbr.output.check_distinct` as files read.

    >>> key_files("k.txt", {"PBR_LEDGER_KEY_FILE": "/secrets/ledger.key"})
    {'--key-file': 'k.txt', 'PBR_LEDGER_KEY_FILE': '/secrets/ledger.key'}
    >>> key_files(None, {"PBR_LEDGER_KEY_FILE": ""})
    {}
    """
    from pbr.ledger import KEY_FILE_ENV

    env = os.environ if environ is None else environ
    found = {"--key-file": key_file, KEY_FILE_ENV: env.get(KEY_FILE_ENV)}
    return {name: path for name, path in found.items() if path}


def add_ledger_options(parser: argparse.ArgumentParser) -> None:
    """``--key-file`` and ``--timeout``: how a command opens a (keyed, shared) ledger."""
    parser.add_argument("--key-file", type=file_name, metavar="FILE", help=LEDGER_KEY_HELP)
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for another process's lock on the ledger (default 60)",
    )


def add_record_size_option(parser: argparse.ArgumentParser) -> None:
    """``--max-record-bytes N``."""
    parser.add_argument(
        "--max-record-bytes",
        type=byte_count,
        default=DEFAULT_MAX_RECORD_BYTES,
        metavar="N",
        help=f"reject a record larger than N bytes (default {DEFAULT_MAX_RECORD_BYTES:,})",
    )


def load_plans(paths: list[str]) -> dict[str, OutcomePlan]:
    """The outcome plans given, keyed by programme (at most one per programme)."""
    if not paths:
        return {}
    from pbr.plans import load_plan

    plans: dict[str, OutcomePlan] = {}
    files: dict[str, str] = {}  # where each programme's plan was read from, to name both
    for path in paths:
        plan = load_plan(path)
        if plan.programme in plans:
            raise PlanError(
                f"two plans for {plan.programme}: {plans[plan.programme].label} "
                f"({files[plan.programme]}) and {plan.label} ({path}): give one --plan "
                "for each programme"
            )
        plans[plan.programme], files[plan.programme] = plan, path
    return plans


def rule_sets_for(
    choices: list[tuple[str, str]], calendar: TermCalendar | None = None
) -> Callable[[Family], RuleSet]:
    """The rule set for each family, with each chosen interpretation (and `calendar`) applied.

    An interpretation applies to every rule set that defines it; an id that none defines, or a
    bad value, is an error up front.
    """
    from pbr.engine import rule_set_for

    variants = rules_by_programme(choices, calendar)

    def pick(family: Family) -> RuleSet:
        return variants[rule_set_for(family).programme]

    return pick


def rules_by_programme(
    choices: list[tuple[str, str]], calendar: TermCalendar | None = None
) -> dict[str, RuleSet]:
    """Every programme's rule set with the chosen interpretations that it defines applied.

    With a council's `calendar`, every rule set reads its term dates.

    An id that no rule set defines, a bad value or an id given twice is an error up front.
    """
    from pbr._arguments import check_interpretations, interpretations_once
    from pbr.programmes import programmes

    every = [p.rules for p in programmes()]
    check_interpretations(interpretations_once(choices))
    variants: dict[str, RuleSet] = {}
    for rules in every:
        mine = {k: v for k, v in choices if k in rules.interpretations}
        variant = rules.with_interpretations(**mine)
        variants[rules.programme] = (
            variant if calendar is None else variant.with_term_calendar(calendar)
        )
    return variants
