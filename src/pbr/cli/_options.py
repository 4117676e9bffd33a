"""What the ``pbr`` commands share: argument types, the rule options, plans and rule sets."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, NoReturn

from pbr._terminal import printable
from pbr.errors import PlanError, UnknownInterpretation
from pbr.io import DEFAULT_MAX_RECORD_BYTES
from pbr.periods import check_as_of
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = [
    "Parser",
    "add_record_size_option",
    "add_rule_options",
    "byte_count",
    "council_tables",
    "evaluation_date",
    "interpretation_choice",
    "load_plans",
    "rule_sets_for",
]


def council_tables(path: str) -> bool:
    """Whether `path` names council tables (a folder of CSV files, or an XLSX workbook).

    Every command that reads families tells tables from a JSON or JSON Lines file this way. A
    file that is neither (one CSV table, a workbook in another format) is refused here, rather
    than read as JSON Lines and every line rejected as "invalid JSON".
    """
    from pathlib import Path

    from pbr.io import UnreadableFile

    if Path(path).is_dir():
        return True
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


def evaluation_date(text: str) -> date:
    """An evaluation date from the command line: ``YYYY-MM-DD`` within the range pbr evaluates."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        return check_as_of(day)
    except ValueError as exc:  # argparse names the option (--as-of, --paid-on): not "as_of"
        raise argparse.ArgumentTypeError(str(exc).removeprefix("as_of ")) from None


def byte_count(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {text!r}")
    return size


def interpretation_choice(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected ID=VALUE, got {text!r}")
    return key.strip(), value.strip()


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line: what is wrong and where to find help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")


def add_rule_options(
    parser: argparse.ArgumentParser,
    interpretation_help: str = "switch an interpretation in every rule set that has it "
    "(repeatable)",
    plan_help: str = "the council's outcome plan (TOML, JSON or YAML) for a programme judged "
    "against one; one per programme (repeatable)",
) -> None:
    """``--interpretation ID=VALUE`` and ``--plan FILE``, both repeatable.

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
    parser.add_argument("--plan", action="append", default=[], metavar="FILE", help=plan_help)


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


def add_ledger_options(parser: argparse.ArgumentParser) -> None:
    """``--key-file`` and ``--timeout``: how a command opens a (keyed, shared) ledger."""
    parser.add_argument("--key-file", metavar="FILE", help=LEDGER_KEY_HELP)
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
    for path in paths:
        plan = load_plan(path)
        if plan.programme in plans:
            raise PlanError(
                f"two plans for {plan.programme}: {plans[plan.programme].label} and {plan.label}"
            )
        plans[plan.programme] = plan
    return plans


def rule_sets_for(choices: list[tuple[str, str]]) -> Callable[[Family], RuleSet]:
    """The rule set for each family, with each chosen interpretation applied.

    An interpretation applies to every rule set that defines it; an id that none defines, or a
    bad value, is an error up front.
    """
    from pbr._arguments import check_interpretations
    from pbr.engine import rule_set_for
    from pbr.programmes import programmes

    every = [p.rules for p in programmes()]
    given: dict[str, str] = {}
    for key, value in choices:  # the last of two would win silently: which did they mean?
        if key in given:
            values = next(
                (r.interpretations[key].values for r in every if key in r.interpretations), ()
            )
            raise UnknownInterpretation(
                f"interpretation {key!r} is given twice ({given[key]!r}, then {value!r}): give it once",
                valid=values,
            )
        given[key] = value
    check_interpretations(given)
    variants: dict[str, RuleSet] = {}
    for rules in every:
        mine = {k: v for k, v in choices if k in rules.interpretations}
        variants[rules.programme] = rules.with_interpretations(**mine)

    def pick(family: Family) -> RuleSet:
        return variants[rule_set_for(family).programme]

    return pick
