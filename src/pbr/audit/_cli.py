"""``pbr audit``, ``pbr ledger`` and ``pbr replay``: the auditor's commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from pbr._terminal import printable
from pbr.cli._options import (
    add_ledger_options,
    add_rule_options,
    council_tables,
    file_name,
    key_files,
    load_calendar,
    utf8_text,
    written_to,
)
from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.audit._verify import MissedClaim, Verification
    from pbr.history import PaymentHistory
    from pbr.io import Rejection
    from pbr.ledger import Ledger, Verdict
    from pbr.periods import TermCalendar
    from pbr.records import Family
    from pbr.rules import RuleSet

__all__ = ["add_audit_commands", "load_history", "run_audit", "run_ledger", "run_replay"]

_METHODS = ("simple", "stratified", "mus")


def _confidence_option(text: str) -> str:
    """``95`` or ``95%`` as ``"95%"``: a percentage from 50 to below 100, 10 places at most."""
    from pbr.audit._mus import CONFIDENCE_PLACES, TooPrecise
    from pbr.audit._mus import confidence_level as share

    value = text.strip().removesuffix("%").strip() + "%"
    try:
        share(value)
    except TooPrecise:
        raise argparse.ArgumentTypeError(
            f"a percentage from 50 to below 100 with at most {CONFIDENCE_PLACES} decimal places, "
            f"such as 95 or 99.5: got {text!r}"
        ) from None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a percentage from 50 to below 100, such as 95: got {text!r}"
        ) from None
    return value


def _misstatement(text: str) -> str:
    """Pounds (``5000``, ``5000.00``) or a percentage of the claims (``2%``), not negative."""
    from pbr.audit._mus import amount_in_pence as in_pence

    try:
        in_pence(text.strip(), 10**15, "amount", round_up=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"pounds such as 5000 or a percentage of the claims such as 2%: got {text!r}"
        ) from None
    return text.strip()


def add_audit_commands(sub: Any, date_type: Any) -> None:
    """Register ``audit``, ``ledger`` and ``replay`` on the CLI's subparsers."""
    au = sub.add_parser("audit", help="verify a claim file against the families' evidence")
    au.add_argument("claims", type=file_name, help="claim file: CSV, JSON or JSON Lines")
    au.add_argument(
        "--families",
        required=True,
        action="append",
        type=file_name,
        metavar="FILE",
        help="family records: JSON, JSON Lines ('-' or a pipe: read from it), a folder of CSV "
        "tables or an XLSX workbook (repeatable)",
    )
    au.add_argument(
        "--ledger", type=file_name, metavar="DB", help="payments ledger used as payment history"
    )
    add_ledger_options(au)
    au.add_argument("--as-of", type=date_type, help="date for missed claims (default: last claim)")
    au.add_argument(
        "--no-missed-fees",
        action="store_true",
        help="leave attachment fees out of the missed claims (missed results only)",
    )
    au.add_argument(
        "--sample-method",
        choices=_METHODS,
        help="how to draw the sample: simple (one group) or stratified (by --strata; the "
        "default) take --sample N or --fraction F claims; mus (monetary-unit sampling) sizes the "
        "sample from --confidence, --tolerable and --expected and bounds the over-claims",
    )
    au.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="draw a spot-check sample of N claims (simple or stratified)",
    )
    au.add_argument(
        "--fraction",
        metavar="F",
        help="draw this fraction of each stratum instead (e.g. 0.1; simple or stratified)",
    )
    au.add_argument("--seed", type=utf8_text, help="sample seed, any text (default 0)")
    au.add_argument(
        "--strata",
        metavar="FIELDS",
        help="comma-separated claim fields to stratify the sample by (stratified; default kind)",
    )
    au.add_argument(
        "--min-per-stratum",
        type=int,
        metavar="K",
        help="draw at least K claims from every stratum, all of a smaller one (stratified)",
    )
    au.add_argument(
        "--confidence",
        type=_confidence_option,
        metavar="PERCENT",
        help="mus: the confidence of the bound, a percentage from 50 to below 100 (e.g. 95)",
    )
    au.add_argument(
        "--tolerable",
        type=_misstatement,
        metavar="AMOUNT",
        help="mus: the tolerable over-claim, in pounds (5000) or as a percentage of the total "
        "claimed (a number and a percent sign)",
    )
    au.add_argument(
        "--expected",
        type=_misstatement,
        metavar="AMOUNT",
        help="mus: the over-claim expected, in pounds or as a percentage of the total claimed "
        "(default 0)",
    )
    add_rule_options(
        au,
        "the interpretations the council claimed under (repeatable)",
        "the council's outcome plan the claims were made under; one per programme (repeatable)",
        "the council's school term dates (TOML, JSON or CSV) the claims were made under",
    )
    au.add_argument(
        "--report", type=file_name, metavar="FILE", help="write .html, .md, .csv or .xlsx"
    )

    le = sub.add_parser("ledger", help="the tamper-evident payments ledger (SQLite)")
    le_sub = le.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    actions = (
        ("verify", "check the hash chain; name the first bad entry"),
        ("head", "print the head to keep elsewhere (entries:hash), after verifying"),
        ("export", "write every entry to a CSV file"),
        ("import", "append the rows of a CSV file (all or nothing)"),
        ("append", "append one payment"),
        ("record", "record the verified claims of an audit's CSV report as payments"),
    )
    for name, text in actions:
        action = le_sub.add_parser(name, help=text)
        if name == "record":
            action.add_argument(
                "report", type=file_name, help="the CSV report of pbr audit --report"
            )
        action.add_argument("db", type=file_name, help="the ledger (an SQLite file)")
        if name == "export":
            action.add_argument(
                "csv",
                type=file_name,
                help="the CSV file to write, e.g. entries.csv ('-': standard output)",
            )
        elif name == "import":
            action.add_argument(
                "csv", type=file_name, help="a CSV file with the columns pbr ledger export writes"
            )
        add_ledger_options(action)
    le_sub.choices["verify"].add_argument(
        "--expect-head",
        metavar="HEAD",
        help="the head kept from earlier (entries:hash): the ledger must still hold it",
    )
    append = le_sub.choices["append"]
    for option, text in (
        ("family-id", "the family paid"),
        ("kind", "what was paid: attachment_fee or a result (crime_asb_education, ...)"),
        ("amount", "the amount paid in pounds, to the penny (3200.00)"),
        ("claim-id", "the claim this payment settles; a claim id is recorded once"),
        ("rules-version", "the rule set the claim was made under (tf-phase-1/1.0)"),
    ):
        append.add_argument(f"--{option}", required=True, help=text)
    append.add_argument(
        "--paid-on", type=date_type, required=True, help="the date it was paid, YYYY-MM-DD"
    )
    append.add_argument(
        "--claimed-on",
        type=date_type,
        help="the date of the claim it paid, YYYY-MM-DD (on or before --paid-on): an audit then "
        "takes it for the claim with its claim id only if that claim was made that day",
    )
    record = le_sub.choices["record"]
    record.add_argument(
        "--paid-on", type=date_type, required=True, help="the date the claims were paid"
    )
    record.add_argument(
        "--partial",
        action="store_true",
        help="also record the verified part of claims cut by AMOUNT_DIFFERS or CAP_EXCEEDED",
    )
    recheck = record.add_argument_group(
        "re-check (audit the claims again; the report must be exactly that audit's)",
        "Give the inputs of the pbr audit that wrote the report: --claims and --families, and "
        "its --interpretation, --plan, --term-calendar and --ledger if it had any. Every claim row (and "
        "malformed row) of the report must then be, column for column, the row the audit "
        "writes again, none missing and none added, or nothing is recorded. No --as-of: it "
        "dates only the missed claims, which the CSV report does not hold (each claim is "
        "judged on its own claim date). Use it for any report someone else could have touched.",
    )
    recheck.add_argument(
        "--claims", type=file_name, metavar="FILE", help="the claim file the audit read"
    )
    recheck.add_argument(
        "--families",
        action="append",
        default=[],
        type=file_name,
        metavar="FILE",
        help="the family records the audit read (repeatable, in the same order)",
    )
    add_rule_options(
        recheck,
        "the interpretations the audit used (repeatable)",
        "the audit's outcome plans",
        "the audit's term calendar",
    )
    recheck.add_argument(
        "--ledger",
        type=file_name,
        metavar="HISTORY",
        help="the ledger the audit read as payment history (pbr audit --ledger), often DB "
        "itself; opened with --key-file and --timeout",
    )

    rp = sub.add_parser("replay", help="re-run recorded decisions and show they are identical")
    rp.add_argument(
        "decisions",
        type=file_name,
        help="decisions as JSON Lines (pbr evaluate --format json); '-' or a pipe: read from it",
    )
    rp.add_argument(
        "--families",
        required=True,
        action="append",
        type=file_name,
        metavar="FILE",
        help="the family records: JSON, JSON Lines ('-' or a pipe: read from it), a folder of "
        "CSV tables or an XLSX workbook",
    )
    rp.add_argument(
        "--plan",
        action="append",
        default=[],
        type=file_name,
        metavar="FILE",
        help="the outcome plan the decisions were made with; one per programme (repeatable)",
    )
    rp.add_argument(
        "--term-calendar",
        type=file_name,
        metavar="FILE",
        help="the council's term calendar the decisions were made with (TOML, JSON or CSV)",
    )
    rp.add_argument(
        "--ledger", type=file_name, metavar="DB", help="the ledger the decisions were made with"
    )
    rp.add_argument(
        "--only-recorded",
        action="store_true",
        help="replay the decisions given (a sample) without asking that every family decided "
        "at their date has one (at several dates: one at any of them)",
    )
    add_ledger_options(rp)


def load_history(path: str, key_file: str | None = None, timeout: float = 60.0) -> PaymentHistory:
    """The ledger at `path` as payment history (verified); a bad ledger is an unreadable file."""
    from pbr.history import HistoryError, PaymentHistory
    from pbr.io import UnreadableFile
    from pbr.ledger import LedgerError, load_key

    try:
        return PaymentHistory.load(path, key=load_key(key_file), timeout=timeout)
    except (LedgerError, HistoryError) as exc:
        raise UnreadableFile(str(exc)) from None


def _families(
    paths: list[str],
    rejected: list[Rejection] | None = None,
    unused: list[Rejection] | None = None,
) -> dict[str, Family]:
    """The families of each ``--families`` path, by family_id; rejections go to stderr.

    A path is a JSON or JSON Lines file, a folder of CSV tables or an XLSX workbook, read as
    ``pbr evaluate`` reads it. The rejected family records are also added to `rejected`, and
    council tables' rows of no family and files that are no table to `unused`.
    """
    from pbr.io import UnreadableFile
    from pbr.records import Family

    found: dict[str, Family] = {}
    for path in paths:
        records = 0
        tables = None
        if council_tables(path):
            from pbr.tables import read_tables

            tables = read_tables(path)
            items: Iterable[Family | Rejection] = tables.families()
        else:
            items = _records(path)
        for item in items:  # a file's own repeats are its rejections
            records += 1
            if not isinstance(item, Family):
                print(item.describe(), file=sys.stderr)
                if rejected is not None:
                    rejected.append(item)
            elif item.family_id in found:  # as one file would be: the first record counts
                print(
                    f"{printable(path)}: family {item.family_id!r} is in an earlier --families file too; "
                    "the first record is used",
                    file=sys.stderr,
                )
            else:
                found[item.family_id] = item
        for row in tables.unplaced() if tables is not None else ():  # rows of no family
            print(row.describe(), file=sys.stderr)
            if unused is not None:  # a payment in a table misnamed: claims look unpaid
                unused.append(row)
        if not records:  # an empty file (or /dev/null) is not "no family has evidence"
            raise UnreadableFile(f"no family records in {_shown_name(path)}")
    return found


def _records(path: str) -> Iterator[Family | Rejection]:
    """A file's family records; standard input's (``-``) or a pipe's read from a private copy."""
    from pbr.io import read_numbered

    with _input_file(path, "family records") as (name, readable):
        for _, _, item in read_numbered(readable, source=name):
            yield item


@contextmanager
def _input_file(path: str, what: str) -> Iterator[tuple[str, str]]:
    """(`path`'s name in reports, a file to read it from): a stream is copied to a private file.

    A file is looked at twice (its start, then its records): standard input (``-``) or a pipe
    is copied first, as ``pbr evaluate`` does (`pbr.cli._evaluate.spooled`).
    """
    from pbr.cli._evaluate import is_stream, spooled

    if not is_stream(path):
        yield path, path
        return
    with spooled(path, what) as copy:
        yield _shown_name(path), copy


def _shown_name(path: str) -> str:
    """How reports name an input: ``<stdin>`` for ``-``."""
    from pbr.cli._evaluate import STDIN

    return STDIN if path == "-" else path


def _stdin_once(given: list[str]) -> None:
    """Refuse standard input (``-``) given for more than one input: it can be read once.

    `given` names each input given as ``-`` (ValueError).
    """
    if len(given) < 2:
        return
    if len(set(given)) == 1:
        said = f"{given[0]} {'twice' if len(given) == 2 else f'{len(given)} times'}"
    else:
        said = ", ".join(given[:-1]) + " and " + given[-1]
    raise ValueError(
        f"standard input ('-') is given for {said}: it can be read once: give the other inputs "
        "as files"
    )


def _families_from_stdin(args: argparse.Namespace) -> list[str]:
    """``--families -`` for each time it is given (`_stdin_once`)."""
    return ["--families -" for path in getattr(args, "families", None) or () if path == "-"]


@dataclass(frozen=True, slots=True)
class _Sampling:
    """The sample the command line asks for, its options checked."""

    method: str
    seed: str
    strata: tuple[str, ...] = ()
    min_per_stratum: int = 0


def _sampling(args: argparse.Namespace) -> _Sampling | None:
    """The sample asked for, or None; options that do not apply are refused (ValueError)."""
    sized = args.sample is not None or args.fraction is not None
    method = args.sample_method or ("stratified" if sized else None)
    given = {
        "--sample": args.sample,
        "--fraction": args.fraction,
        "--strata": args.strata,
        "--min-per-stratum": args.min_per_stratum,
        "--confidence": args.confidence,
        "--tolerable": args.tolerable,
        "--expected": args.expected,
    }
    given = {name: value for name, value in given.items() if value is not None}
    mus_only: list[str] = [n for n in ("--confidence", "--tolerable", "--expected") if n in given]
    if method is None:
        stray = mus_only or [n for n in ("--strata", "--min-per-stratum") if n in given]
        if args.seed is not None:
            stray.append("--seed")
        if stray:
            raise ValueError(
                f"{stray[0]} applies only to a sample: add --sample N, --fraction F or "
                "--sample-method mus"
            )
        return None
    from pbr.audit._mus import seed_text

    seed = "0" if args.seed is None else seed_text(args.seed, "--seed")
    if method == "mus":
        size = "whose size follows from --confidence, --tolerable and --expected"
        no_strata = "which has no strata (every claim of at least the interval is taken)"
        for name, why in (
            ("--sample", size),
            ("--fraction", size),
            ("--strata", no_strata),
            ("--min-per-stratum", no_strata),
        ):
            if name in given:
                raise ValueError(f"{name} does not apply to --sample-method mus, {why}")
        missing = [n for n in ("--confidence", "--tolerable") if n not in given]
        if missing:
            raise ValueError(
                f"--sample-method mus needs {' and '.join(missing)} "
                "(e.g. --confidence 95 --tolerable 2%)"
            )
        _check_misstatements(args.tolerable, args.expected or "0")
        return _Sampling("mus", seed)
    if mus_only:
        raise ValueError(f"{mus_only[0]} applies only to --sample-method mus")
    if not sized:
        raise ValueError(f"--sample-method {method} needs --sample N or --fraction F")
    if args.sample is not None and args.fraction is not None:
        raise ValueError("give --sample N or --fraction F, not both")
    _check_size(args.sample, args.fraction)
    if method == "simple":
        for name in ("--strata", "--min-per-stratum"):
            if name in given:
                raise ValueError(
                    f"{name} does not apply to --sample-method simple, which draws from all "
                    "claims as one group: use --sample-method stratified"
                )
        return _Sampling("simple", seed)
    text = "kind" if args.strata is None else args.strata
    strata = tuple(s.strip() for s in text.split(",") if s.strip())
    if not strata:  # not simple sampling in disguise: that is --sample-method simple
        raise ValueError(
            f"--strata needs at least one claim field, such as kind (got {args.strata!r}); "
            "to draw from all claims as one group, use --sample-method simple"
        )
    return _Sampling("stratified", seed, strata, args.min_per_stratum or 0)


def _check_size(sample: int | None, fraction: str | None) -> None:
    """Refuse a sample of no claims: --sample at least 1, --fraction above 0 and at most 1."""
    from pbr.audit._sample import check_options

    if sample is not None and sample < 1:
        raise ValueError(
            f"--sample must be at least 1 (a sample of no claims checks nothing): got {sample}"
        )
    if fraction is not None:
        try:
            check_options(None, fraction, (), 0)
        except ValueError:
            raise ValueError(
                "--fraction must be a number above 0 and at most 1, such as 0.1 (a sample of "
                f"no claims checks nothing): got {fraction!r}"
            ) from None


def _check_misstatements(tolerable: str, expected: str) -> None:
    """Refuse, before any work, a tolerable of nothing or an expected not below it."""
    from pbr.audit._mus import amount_in_pence, percent_share

    book = 10**15  # any: the comparison is checked only where it does not depend on the file
    pence = amount_in_pence(tolerable, book, "tolerable", round_up=False)
    if pence == 0:
        raise ValueError(f"--tolerable must be above zero, got {tolerable!r}")
    same_kind = (percent_share(tolerable, "tolerable") is None) == (
        percent_share(expected, "expected") is None
    )
    if same_kind and amount_in_pence(expected, book, "expected", round_up=True) >= pence:
        raise ValueError(
            f"--expected ({expected}) must be below --tolerable ({tolerable}): no sample "
            "can conclude when the over-claim expected is already intolerable"
        )


def _check_distinct(args: argparse.Namespace, writes: dict[str, str | None]) -> None:
    """Refuse an output that names a file the command reads (`pbr.output.check_distinct`)."""
    from pbr.output import check_distinct

    reads: dict[str, str | None] = {
        "the claims": getattr(args, "claims", None),
        "the ledger": getattr(args, "db", None),
        "--ledger": getattr(args, "ledger", None),
        **key_files(getattr(args, "key_file", None)),  # written over, no ledger verifies again
    }
    for option in ("families", "plan"):
        for path in getattr(args, option, None) or ():
            reads[f"--{option} {path}"] = path
    calendar = getattr(args, "term_calendar", None)
    if calendar is not None:
        reads["--term-calendar"] = calendar
    check_distinct(reads, writes)


def _inputs(args: argparse.Namespace) -> tuple[Any, ...]:
    """What ``pbr audit`` verifies, read from its options (``pbr ledger record`` re-checks).

    The rule sets for the interpretations, the plans, the ledger's payment history, the
    families and their rejected records, the claims and the malformed rows, in that order.
    """
    from pbr import audit
    from pbr.cli._options import load_plans as _plans
    from pbr.cli._options import rule_sets_for as _rules_for

    pick = _rules_for(args.interpretation, load_calendar(args.term_calendar))
    plans = _plans(args.plan)
    history = load_history(args.ledger, args.key_file, args.timeout) if args.ledger else None
    refused: list[Rejection] = []
    unused: list[Rejection] = []
    families = _families(args.families, refused, unused)
    claims, rejections = audit.read_claims(args.claims)
    return pick, plans, history, families, refused, claims, rejections, unused


def _audit_again(args: argparse.Namespace) -> Verification | None:
    """The audit ``pbr ledger record --claims`` holds the report to, or None without --claims.

    Its as-of is left to the default: it dates only the missed claims, which no claim row holds.

    Raises:
        ValueError: a re-check option without --claims, or --claims without --families.

    """
    from pbr import audit

    given = [
        name
        for name, value in (
            ("--families", args.families),
            ("--interpretation", args.interpretation),
            ("--plan", args.plan),
            ("--term-calendar", args.term_calendar),
            ("--ledger", args.ledger),
        )
        if value
    ]
    if args.claims is None:
        if given:
            raise ValueError(
                f"{given[0]} applies only with --claims FILE (the re-check audits the claims again)"
            )
        return None
    if not args.families:
        raise ValueError("--claims needs --families FILE: the family records the audit read")
    _stdin_once(_families_from_stdin(args))
    pick, plans, history, families, refused, claims, rejections, _ = _inputs(args)
    result: Verification = audit.verify(
        claims,
        families,
        history=history,
        rejections=rejections,
        rules_for=pick,
        plans=plans,
        rejected_families=refused,
    )
    return result


def run_audit(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr audit``: 0 when every claim verifies, else 1 (or 2: `EXIT_STATUS`).

    1 when a claim is flagged, a row is malformed, a family record is rejected, or a family
    could not be evaluated (`Verification.unevaluated`: the ledger's payments disagree with its
    record's, or no programme covers it), as ``pbr evaluate`` exits 1 for that family.
    """
    from pbr import audit
    from pbr.audit._mus_audit import plan_for
    from pbr.audit._report import check_report_path
    from pbr.audit._sample import CLI_NAMES, check_options, draw
    from pbr.output import refuse_folder_name

    try:  # everything that can be refused is refused before any work
        _check_ledger_options(args)
        _stdin_once(_families_from_stdin(args))
        if args.report:
            refuse_folder_name(args.report, "--report")  # named as given, as pbr evaluate does
            check_report_path(args.report)
            _check_distinct(args, {"--report": args.report})
        wanted = _sampling(args)
        if wanted is not None and wanted.method != "mus":
            check_options(
                args.sample, args.fraction, wanted.strata, wanted.min_per_stratum, CLI_NAMES
            )
    except ValueError as exc:
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2
    pick, plans, history, families, refused, claims, rejections, unused = _inputs(args)
    drawn: audit.Sample | None = None
    mus = {"confidence": args.confidence, "tolerable": args.tolerable}
    mus["expected"] = args.expected or "0"
    try:  # before the audit: a sample that cannot be drawn stops it early
        if wanted is not None and wanted.method == "mus":
            plan_for(claims, **mus)
        elif wanted is not None:  # every row, a repeat too: money claimed twice, as in MUS
            drawn = draw(
                claims,
                args.sample,
                args.fraction,
                wanted.seed,
                wanted.strata,
                wanted.min_per_stratum,
                CLI_NAMES,
            )
    except ValueError as exc:
        for r in rejections if not claims else ():  # why there is no claim to draw from
            print(r.describe(), file=sys.stderr)
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2
    result = audit.verify(
        claims,
        families,
        as_of=args.as_of,
        history=history,
        rejections=rejections,
        rules_for=pick,
        plans=plans,
        missed_fees=not args.no_missed_fees,
        rejected_families=refused,
    )
    found = None
    if wanted is not None and wanted.method == "mus":
        found = audit.mus_audit(result, seed=wanted.seed, **mus)
    if args.report:  # first: a reader of the summary that stops early cannot lose the report
        sources = [args.claims, *args.families]
        audit.write_report(result, args.report, sample=found or drawn, sources=sources)
    for r in rejections:
        print(r.describe(), file=sys.stderr)
    if args.report:
        print(f"report written to {written_to(args.report)}", file=sys.stderr)
    _print_audit(result, drawn, out)
    if found is not None:
        out.write(f"{_shown(found.describe())}\n")
        if found.malformed:
            out.write(f"{_shown(found.population_note)}\n")
        out.write(f"sample: {_ids(found.sample.item_ids)}\n")
    return 1 if result.exceptions or rejections or refused or result.unevaluated or unused else 0


def _shown(text: str) -> str:
    """Lines for a terminal: what came from the files (claim ids, the seed) escaped, line by line."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _ids(ids: Iterable[str]) -> str:
    """Claim ids from the file, space-separated, each safe on a terminal."""
    return " ".join(printable(i) for i in ids)


def _print_audit(result: Verification, drawn: Any, out: TextIO) -> None:
    if result.history:
        out.write(f"payment history: {result.history}\n")
    for used in result.outcome_plans:  # what judged phase two's and Supporting Families' claims
        out.write(f"outcome plan, {used.programme}: {printable(used.describe())}\n")
    out.write(
        f"{'kind':22} {'claims':>6} {'flagged':>7} {'malformed':>9} {'claimed':>11} "
        f"{'verified':>11} {'over':>11} {'unverified':>10} {'under':>9}\n"
    )
    for row in result.reconciliation():
        out.write(
            f"{row['kind']:22} {row['claims']:>6} {row['flagged']:>7} {row['malformed']:>9} "
            f"{format_gbp(row['claimed']):>11} {format_gbp(row['verified']):>11} "
            f"{format_gbp(row['over_claimed']):>11} {format_gbp(row['unverified']):>10} "
            f"{format_gbp(row['under_claimed']):>9}\n"
        )
    unread = result.amounts_not_read
    if unread:  # their money is in no total: the file reconciles only with them counted
        from pbr.audit._report import rows_read, shown_claim_id

        claimed = format_gbp(result.reconciliation()[-1]["claimed"])
        out.write(
            f"claimed {claimed} in {rows_read(result.amounts_read)}; "
            f"{len(unread)} "
            + ("rows with amounts" if len(unread) > 1 else "row with an amount")
            + " that could not be read, in no total:\n"
        )
        for r in unread:
            who = f" {shown_claim_id(r)}" if r.claim_id else ""
            out.write(f"  row {r.row}{who}: amount {printable(r.amount_text)}\n")
    results = result.missed_results
    fees = result.missed_attachment_fees
    missed_results: Decimal = sum((m.amount for m in results), ZERO)
    missed_fees: Decimal = sum((m.amount for m in fees), ZERO)
    out.write(
        f"\nexceptions: {len(result.exceptions)}; malformed rows: {len(result.rejections)}"
        + (
            f"; family records rejected: {len(result.rejected_families)}"
            if result.rejected_families
            else ""
        )
        + "\n"
        f"missed results: {len(results)} worth {format_gbp(missed_results)} "
        f"(as of {result.as_of})\n"
    )
    gone = result.missed_for_good
    if gone:
        closed = ", ".join(sorted({str(m.claims_closed_on) for m in gone}))
        out.write(
            f"  of which {len(gone)} worth {format_gbp(sum((m.amount for m in gone), ZERO))} "
            f"can no longer be claimed: claims closed on {closed}\n"
        )
    _claimed_before(out, results)
    if result.missed_fees:
        out.write(f"missed attachment fees: {len(fees)} worth {format_gbp(missed_fees)}\n")
        _claimed_before(out, fees)
        lost = [m for m in fees if m.claims_closed_on is not None]
        if lost:
            closed = ", ".join(sorted({str(m.claims_closed_on) for m in lost}))
            out.write(
                f"  of which {len(lost)} worth {format_gbp(sum((m.amount for m in lost), ZERO))} "
                f"can no longer be claimed: claims closed on {closed}\n"
            )
    from pbr.calendars import own_dates

    for version, name, terms in result.term_calendars:  # judged on the council's dates
        out.write(f"term calendar, {version}: {printable(own_dates(name, terms))}\n")
    for check in result.exceptions:
        c = check.claim
        who = _ids((c.claim_id, c.family_id, c.kind))
        out.write(f"  row {c.row} {who}: {' '.join(check.codes)}\n")
    for family_id, why in result.unevaluated:
        out.write(f"  family {printable(family_id)} not evaluated: {printable(why)}\n")
    if drawn is not None:
        out.write(f"sample: {_ids(drawn.item_ids)}\n")


def _claimed_before(out: TextIO, missed: Sequence[MissedClaim]) -> None:
    """Say which missed claims were claimed, but only by claims the audit allows nothing."""
    for still_open in (True, False):
        again = [
            m for m in missed if m.claimed_before and (m.claims_closed_on is None) == still_open
        ]
        if again:
            worth = format_gbp(sum((m.amount for m in again), ZERO))
            ids = _ids(tuple(i for m in again for i in m.claimed_before))
            out.write(
                f"  of which {len(again)} worth {worth} claimed only by claims allowed nothing "
                f"({ids})"
                + (": still owed, claim again\n" if still_open else ", and not claimed again\n")
            )


_OTHER_FORMATS = {
    ".xlsx": "XLSX",
    ".xls": "XLS",
    ".ods": "ODS",
    ".json": "JSON",
    ".jsonl": "JSON Lines",
    ".ndjson": "JSON Lines",
    ".md": "Markdown",
    ".html": "HTML",
    ".htm": "HTML",
    ".tsv": "TSV",
    ".db": "SQLite",
    ".sqlite": "SQLite",
    ".sqlite3": "SQLite",
}
"""What a name's suffix says a file holds, when it is not the CSV ``pbr ledger export`` writes."""


def _check_export_name(name: str) -> None:
    """Refuse an export named for another format (CSV text in ``out.xlsx`` opens as nothing).

    The rule of `pbr.cli._options.check_named_format`: a suffix naming no other format (``.csv``,
    ``.txt``, none, ``-`` or a descriptor) is written as named.
    """
    from pbr.output import OutputError

    said = _OTHER_FORMATS.get(Path(name).suffix.lower())
    if said is not None:
        raise OutputError(
            f"cannot write {printable(name)}: pbr ledger export writes CSV, but the name says "
            f"{said}: name it .csv (or give - for standard output)"
        )


def run_ledger(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr ledger ACTION``: 0 on success, 1 when the ledger is broken, 2 when refused."""
    from pbr.ledger import Entry, Ledger, LedgerError, counted, load_key
    from pbr.output import OutputError, given_descriptor

    command = args.ledger_command
    recheck = None
    try:
        if command in ("import", "append", "record"):  # the ledger is written: not over a key
            from pbr.output import check_distinct

            read = {
                "the CSV": getattr(args, "csv", None),
                "the report": getattr(args, "report", None),
            }
            check_distinct({**read, **key_files(args.key_file)}, {"the ledger": args.db})
        if command == "record":  # before the ledger is opened: a refused re-check creates nothing
            recheck = _audit_again(args)
        if command == "export":  # before the ledger is opened: the ledger, then the name
            _check_distinct(args, {"the CSV": args.csv})
            _check_export_name(args.csv)
    except (ValueError, OutputError) as exc:
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2
    new = command in ("import", "append", "record") and not os.path.lexists(args.db)
    try:
        key = load_key(args.key_file)
        due: tuple[list[Entry], list[str]] = ([], [])
        if command == "record":  # read first: a report with no payment creates no ledger
            from pbr.audit._record import payments_due

            due = payments_due(
                args.report, paid_on=args.paid_on, partial=args.partial, recheck=recheck
            )
            if new and not due[0]:
                out.write(
                    f"recorded 0 payments from {printable(args.report)}: nothing to record, so "
                    f"the ledger {printable(args.db)} was not created"
                    f"{_record_notes(0, due[1], args.paid_on)}\n"
                )
                return 0
        ledger = Ledger(
            args.db,
            create=command in ("import", "append", "record"),
            key=key,
            timeout=args.timeout,
        )
        if command in ("import", "append", "record") and _broken(ledger, args.db):
            return 1
        if command in ("verify", "head"):
            verdict = ledger.verify(expect_head=getattr(args, "expect_head", None))
            if not verdict.ok:
                at = f" at entry {verdict.first_bad}" if verdict.first_bad is not None else ""
                if command == "head":  # its output is the head to keep: an error is no head
                    print(
                        f"pbr: ledger {printable(args.db)} is broken{at}: "
                        f"{printable(verdict.why)}; no head printed",
                        file=sys.stderr,
                    )
                    return 1
                out.write(f"ledger {printable(args.db)}: BROKEN{at}: {printable(verdict.why)}\n")
                return 1
            if command == "head":
                out.write(f"{verdict.head_text}\n")
                return 0
            keyed = " (keyed: HMAC-SHA256)" if verdict.keyed else ""
            kept = " and holds the kept head" if args.expect_head else ""
            alone = not verdict.keyed and not args.expect_head  # nothing outside the file
            if alone:
                keyed = (
                    " (unkeyed: its entries agree with each other, which does not show that "
                    "nobody rewrote them)"
                )
            out.write(
                f"ledger {printable(args.db)}: {counted(verdict.entries)}, chain intact{keyed}{kept}\n"
                f"head {verdict.head_text}\n"
            )
            if alone:
                out.write(
                    "note: anyone can rewrite an unkeyed ledger and recompute its chain and "
                    "head; only a head kept elsewhere (pbr ledger head, checked with "
                    "--expect-head) or a keyed ledger shows that it was not rewritten\n"
                )
            after = _after_kept_head(verdict)
            if after:
                out.write(f"note: {after}\n")
            if not args.expect_head:  # what the chain alone cannot show: say so
                print(
                    "note: a chain cannot show entries cut from its end; keep the head "
                    "elsewhere (pbr ledger head) and check it with --expect-head",
                    file=sys.stderr,
                )
            return 0
        if command == "export":  # its name checked above
            n = ledger.export_csv(args.csv)
            to_stdout = given_descriptor(args.csv) == 1
            done = sys.stderr if to_stdout else out  # stdout holds the entries then
            print(f"exported {counted(n)} to {written_to(args.csv)}", file=done)
            return 0
        if command == "import":
            n = ledger.import_csv(args.csv, verify=False)  # verified above (`_broken`)
            out.write(f"imported {counted(n)} into {printable(args.db)}\n")
            _no_claim_dates(ledger, n)
        elif command == "record":
            entries, later = due
            # verified above (`_broken`): not walked twice; none written: left as it was
            n = ledger.append(entries, skip_recorded=True, verify=False)
            again = _record_notes(len(entries) - n, later, args.paid_on)
            out.write(
                f"recorded {counted(n, 'payment', 'payments')} from {printable(args.report)} in {printable(args.db)}{again}\n"
            )
            _no_claim_dates(ledger, n)
        else:
            entry = Entry(
                args.family_id,
                args.kind,
                _ledger_amount(args.amount),
                args.paid_on,
                args.claim_id,
                args.rules_version,
                args.claimed_on,
            )
            ledger.append([entry], verify=False)  # verified above (`_broken`)
            out.write(f"appended {printable(entry.claim_id)} to {printable(args.db)}\n")
            _no_claim_dates(ledger, 1)
        return _print_head(ledger, args.db, out)
    except (LedgerError, OutputError) as exc:
        if new:  # a ledger this command created and then wrote nothing to: not left behind
            _remove_empty(args.db)
        print(f"pbr: {printable(str(exc))}", file=sys.stderr)
        return 2


def _broken(ledger: Ledger, db: str) -> bool:
    """Whether the ledger fails verification (said on stderr): nothing is written onto it.

    Else a payment written onto it would be told from one that broke it by nothing.
    """
    verdict = ledger.verify_for_writing()
    if verdict.ok:
        return False
    at = f" at entry {verdict.first_bad}" if verdict.first_bad is not None else ""
    print(f"pbr: ledger {printable(db)} is broken{at}: {printable(verdict.why)}; nothing was written",
          file=sys.stderr)  # fmt: skip
    return True


def _no_claim_dates(ledger: Ledger, written: int) -> None:
    """Say, on standard error, that a ledger of an earlier pbr kept no claim date given to it."""
    from pbr.ledger import EARLIER_FORMAT

    if ledger.records_claim_dates or not written:
        return
    print(
        f"note: ledger {printable(str(ledger.path))} was made by an earlier pbr "
        f"({EARLIER_FORMAT}) and records no claim dates: an audit takes a payment in it for the "
        "claim with its claim id, family, kind and amount if the claim was made on or before "
        "the payment's date; a new ledger records the claim dates",
        file=sys.stderr,
    )


def _record_notes(skipped: int, later: list[str], paid_on: date) -> str:
    """What ``pbr ledger record`` left out, in brackets; empty when nothing was.

    Claims already recorded, and claims made after the payment day (not payable that day).
    """
    notes = [f"{skipped} already recorded"] if skipped else []
    if later:
        notes.append(
            f"{len(later)} claimed after {paid_on} left for a later record: "
            + ", ".join(printable(c) for c in later[:5])
            + (f" and {len(later) - 5} more" if len(later) > 5 else "")
        )
    return f" ({'; '.join(notes)})" if notes else ""


def _remove_empty(path: str) -> None:
    """Remove a ledger file with no entries (one a failed import or append just created)."""
    import sqlite3

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
    except sqlite3.Error:
        return
    if count == 0:
        with suppress(OSError):
            os.remove(path)


def _print_head(ledger: Ledger, db: str, out: TextIO) -> int:
    verdict = ledger.verify()
    if not verdict.ok:
        out.write(f"ledger {db}: BROKEN at entry {verdict.first_bad}: {verdict.why}\n")
        return 1
    out.write(f"head {verdict.head_text}\n")
    return 0


def _ledger_amount(text: str) -> Decimal:
    from pbr.ledger import LedgerError
    from pbr.money import money

    try:
        return money(text)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise LedgerError(f"amount = {text!r}: {exc}") from None


def run_replay(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr replay``: 0 when every decision is reproduced exactly, 1 when anything differs.

    A decision whose output is the same but whose library version, rules or input changed is
    reported, and counts as a difference: the replay did not run what was run then.
    """
    from pbr.cli._options import load_plans as _plans

    try:
        _check_ledger_options(args)
        _stdin_once(["the decisions"] * (args.decisions == "-") + _families_from_stdin(args))
    except ValueError as exc:
        print(f"pbr: {exc}", file=sys.stderr)
        return 2
    rules = _calendar_rules(load_calendar(args.term_calendar))
    families = _families(args.families)
    plans = _plans(args.plan)
    history = load_history(args.ledger, args.key_file, args.timeout) if args.ledger else None
    with _input_file(args.decisions, "decisions") as (name, readable):
        return _replay(args, name, readable, families, plans, history, out, rules)


def _calendar_rules(calendar: TermCalendar | None) -> dict[str, RuleSet] | None:
    """Every programme's rule set with a council's term calendar, or None (pbr's own)."""
    if calendar is None:
        return None
    from pbr.programmes import programmes

    return {p.id: p.rules.with_term_calendar(calendar) for p in programmes()}


def _replay(
    args: argparse.Namespace,
    name: str,
    readable: str,
    families: dict[str, Family],
    plans: dict[str, Any],
    history: PaymentHistory | None,
    out: TextIO,
    rules: dict[str, RuleSet] | None = None,
) -> int:
    """`run_replay` once its inputs are read: the decisions (`name`) are read from `readable`.

    `rules`, by programme, have the council's term calendar (``--term-calendar``).
    """
    from pydantic import ValidationError

    from pbr._unreadable import (
        TEXT_HEAD_BYTES,
        cannot_read,
        not_a_text_file,
        not_line_text,
        not_utf8,
    )
    from pbr.audit._claims import json_keeping_repeats, repeated_key
    from pbr.decisions import Decision
    from pbr.history import HistoryError, merge_payments
    from pbr.io import UnreadableFile
    from pbr.replay import ReplayError, replay

    try:
        handle = open(readable, "rb")  # noqa: SIM115 - closed below
        head = handle.read(TEXT_HEAD_BYTES)
        handle.seek(0)
    except OSError as exc:
        raise UnreadableFile(cannot_read(name, exc)) from None
    said = not_line_text(name, head)  # compressed, UTF-16, lines ended by CR alone
    if said is not None:
        handle.close()
        raise UnreadableFile(said)
    binary = not_a_text_file(head, "decisions (JSON Lines)", csv=False)
    if binary is None and b"\x00" in head:  # UTF-16, or no text at all: every line would fail
        binary = "it is not UTF-8 text (a binary file, or UTF-16?): give the JSON Lines of pbr evaluate --format json"
    if binary is not None:
        handle.close()
        raise UnreadableFile(f"{name}: {binary}")
    said = _not_json_lines(name, handle)
    if said is not None:
        handle.close()
        raise UnreadableFile(said)
    same = differ = changed = unreplayable = read = 0
    first: dict[tuple[str, date], int] = {}  # each decision's family and date: its line
    runs: dict[str, set[_Interpretations]] = {}  # each programme's interpretations decided under
    calendars: dict[str, int] = {}  # the council term calendars decisions named: how many
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            read += 1
            try:  # a byte order mark opens the file as the claims reader allows
                written = json_keeping_repeats(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
                recorded = Decision.model_validate(written)
                twice = repeated_key(written)
            except UnicodeDecodeError as exc:
                out.write(
                    f"{printable(name)}:{number}: not a decision: "
                    f"{not_utf8(exc.object[exc.start : exc.end])}\n"
                )
                unreplayable += 1
                continue
            except ValidationError as exc:
                out.write(
                    f"{printable(name)}:{number}: not a decision: {printable(_one_problem(exc))}\n"
                )
                unreplayable += 1
                continue
            except (ValueError, RecursionError) as exc:
                out.write(
                    f"{printable(name)}:{number}: not a decision: {printable(str(exc)[:200])}\n"
                )
                unreplayable += 1
                continue
            key = (recorded.family_id, recorded.as_of)
            if twice is not None:  # pbr writes each key once: which value counts is not known
                path, values = twice
                shown = ", ".join(repr(v) for v in values)
                said = (
                    f"{name}:{number}: {recorded.family_id}: not a decision pbr "
                    f"wrote: the key {path!r} is given {len(values)} times ({shown[:120]}); "
                    "JSON readers disagree on which value counts, so it is not compared"
                )
                out.write(f"{printable(said)}\n")
                first.setdefault(key, number)  # decided, though not as pbr wrote it
                differ += 1
                continue
            if key in first:  # one run decides a family once: a second is a claim made twice
                out.write(
                    f"{printable(name)}:{number}: {printable(recorded.family_id)}: decided again "
                    f"for {recorded.as_of} (first at line {first[key]})\n"
                )
                differ += 1
                continue
            first[key] = number
            runs.setdefault(recorded.programme, set()).add(
                tuple(sorted(recorded.interpretations.items()))
            )
            family = families.get(recorded.family_id)
            if family is None:
                out.write(f"{printable(recorded.family_id)}: no family record\n")
                unreplayable += 1
                continue
            try:
                family = merge_payments(family, history)
                result = replay(
                    recorded, family, plans.get(recorded.programme), as_written=written, rules=rules
                )
            except (ReplayError, HistoryError) as exc:
                out.write(f"{printable(name)}:{number}: {printable(str(exc))}\n")
                unreplayable += 1
                continue
            if not result.identical:
                differ += 1
            elif result.changed:
                changed += 1
            else:
                same += 1
            if not result.identical or result.changed:
                out.write(result.describe() + "\n")
            if result.term_calendar is not None:
                calendars[result.term_calendar] = calendars.get(result.term_calendar, 0) + 1
    if not read:
        print(f"pbr: no decisions in {printable(name)}", file=sys.stderr)
        return 2
    missing = 0
    if not args.only_recorded:
        missing = _missing(first, families, history, name, out, runs, plans, rules)
    note = (
        f", {changed} with the same output but a changed library, rules or input" if changed else ""
    )
    if unreplayable:  # not a decision, no family record, nothing to replay it by
        note += f", {unreplayable} not replayable"
    if missing:
        note += f"; {missing} decision(s) missing"
    total = same + differ + changed + unreplayable
    if calendars:
        out.write(_calendar_note(calendars, args.term_calendar))
    out.write(f"replayed {total}: {same} identical, {differ} different{note}\n")
    return 1 if differ or changed or missing or unreplayable else 0


_JSON_LINES = "pbr replay reads the JSON Lines of pbr evaluate --format json (a decision a line)"


def _not_json_lines(name: str, handle: BinaryIO) -> str | None:
    """Why a decisions file with no line that is a JSON object is refused, or None.

    A CSV file (``pbr evaluate --output d.csv``, an audit's CSV report) or a pretty-printed
    JSON document would be a "not a decision" for every line: said once, as a file holding no
    decisions. A bad line among decisions is reported on its own (evidence of an edit). A line
    that is braced is taken for an object here; `handle` is left at its start.
    """
    first: bytes | None = None
    try:
        for raw in handle:
            line = raw.strip()
            if first is None:
                line = line.removeprefix(b"\xef\xbb\xbf").strip()  # a byte order mark
            if not line:
                continue
            if line.startswith(b"{") and line.endswith(b"}"):
                return None
            if first is None:
                first = line
                if b"," in line and b"family_id" in line and not line.startswith(b"["):
                    header = line.decode("utf-8", "replace")[:60]
                    return (
                        f"{name} is CSV (its first line is a header: {header!r}), not "
                        f"decisions: {_JSON_LINES}"
                    )
    finally:
        handle.seek(0)
    if first is None:  # nothing but blank lines: "no decisions", once the lines are counted
        return None
    return f"{name} holds no decisions: no line is a JSON object; {_JSON_LINES}"


def _calendar_note(calendars: dict[str, int], given: str | None = None) -> str:
    """Why decisions made under a council's term calendar differ: replayed under other dates.

    `given` is ``--term-calendar``'s file, whose calendar is not the one they name.

    >>> _calendar_note({"council": 2})[:78]
    'note: 2 decision(s) were made under a term calendar of their council (council)'
    """
    count = sum(calendars.values())
    names = ", ".join(printable(name) for name in sorted(calendars))
    used = (
        "the default dates"
        if given is None
        else f"the calendar of --term-calendar {printable(given)}, which is another"
    )
    used += ": give that calendar's file with --term-calendar FILE"
    return (
        f"note: {count} decision(s) were made under a term calendar of their council ({names}), "
        f"not the term dates they were replayed with: {used}\n"
    )


def _after_kept_head(verdict: Verdict) -> str:
    """What nothing vouches for in an unkeyed ledger: its entries after the kept head, or "".

    >>> from pbr.ledger import Verdict
    >>> _after_kept_head(Verdict(True, 7, kept_at=4))[:52]
    'entries 5 to 7, appended after the kept head (entry '
    >>> _after_kept_head(Verdict(True, 7, kept_at=4, keyed=True))
    ''
    """
    kept, last = verdict.kept_at, verdict.entries
    if verdict.keyed or kept is None or kept >= last:
        return ""
    which = f"entry {last}" if kept + 1 == last else f"entries {kept + 1} to {last}"
    verb = "is" if kept + 1 == last else "are"
    at = f"entry {kept}" if kept else "no entries yet"
    return (
        f"{which}, appended after the kept head ({at}), {verb} vouched for by nothing "
        "outside the file: anyone can rewrite an unkeyed ledger's entries after the kept head "
        "and recompute their chain and head; keep the new head elsewhere (pbr ledger head), or "
        "key the ledger"
    )


def _check_ledger_options(args: argparse.Namespace) -> None:
    """Refuse ``--key-file`` or ``--timeout`` without ``--ledger`` (they would do nothing)."""
    from pbr.cli._options import stray_ledger_options

    stray = stray_ledger_options(args)
    if stray is not None:
        raise ValueError(f"{stray} applies only with --ledger DB (no ledger is read without it)")


def _one_problem(exc: Any) -> str:
    """A pydantic error as one line: the first problem's field and what is wrong (no URL)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "(the decision)"
    if first["type"] == "extra_forbidden":
        text = f"{where!r} is not a key of a decision"
    elif first["type"] == "missing":
        text = f"{where}: missing"
    else:
        text = f"{where} = {str(first.get('input'))[:60]!r}: {first['msg']}"
    more = len(errors) - 1
    return text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


_Interpretations = tuple[tuple[str, str], ...]
"""A decision's interpretations, sorted: one run's, as `_missing` tells runs apart."""


def _missing(
    decided: dict[tuple[str, date], int],
    families: dict[str, Family],
    history: PaymentHistory | None,
    decisions: str,
    out: TextIO,
    runs: dict[str, set[_Interpretations]] | None = None,
    plans: dict[str, Any] | None = None,
    rules: dict[str, RuleSet] | None = None,
) -> int:
    """Report each family of the records a run on the decisions' date would have decided.

    A family is judged as the run judged it: under the interpretations its programme's
    decisions record (`runs`), with `plans` and `rules` (the term calendar). A family that run
    would reject (outside every programme, a payment its rules refuse, or the ledger's) was a
    rejection, not a decision. Decisions under several interpretations of its programme (runs
    joined) cannot say which run was its: it is missing when a run under any of them would
    decide it. A programme no decision names is judged under pbr's own interpretations.
    Decisions at several dates are alike: a family is missing only when it has a decision at
    none of them, and a run at one of them would decide it.
    """
    from pbr.engine import rule_set_for
    from pbr.errors import OutsideProgramme

    dates = sorted({day for _, day in decided})
    ids = {family_id for family_id, _ in decided}
    absent = [family for family_id, family in families.items() if family_id not in ids]
    if not absent or not dates:
        return 0
    where, at = "", f" at {dates[0]}"
    if len(dates) > 1:
        where, at = f" at any of its {len(dates)} dates", ""
    missing = 0
    noted: set[str] = set()  # the programmes whose several runs were said
    for family in absent:
        try:
            base = rule_set_for(family)
        except OutsideProgramme:
            continue
        base = (rules or {}).get(base.programme, base)
        variants = _run_rules(base, (runs or {}).get(base.programme, set()))
        plan = (plans or {}).get(base.programme)
        if not any(_decides(family, used, dates, plan, history) for used in variants):
            continue
        if not missing and len(dates) > 1:
            out.write(
                f"the decisions are at {len(dates)} dates ({dates[0]} to {dates[-1]}): a family "
                "of the records is judged missing only when it has a decision at none of them\n"
            )
        if len(variants) > 1 and base.programme not in noted:
            noted.add(base.programme)
            out.write(
                f"the {printable(base.programme)} decisions were made under {len(variants)} "
                "sets of interpretations: a family of the records is judged missing when a run "
                "under any of them would decide it\n"
            )
        out.write(
            f"{family.family_id}: no decision in {printable(decisions)}{where}, though pbr "
            f"decides its record{at} (replaying a sample? add --only-recorded)\n"
        )
        missing += 1
    return missing


def _run_rules(base: RuleSet, runs: set[_Interpretations]) -> list[RuleSet]:
    """`base` under each set of interpretations `runs` recorded; `base` if none it defines.

    A set naming an interpretation or value `base` does not define is not one pbr decided
    under (that decision is reported as not replayable).
    """
    from pbr.errors import UnknownInterpretation

    variants = []
    for chosen in sorted(runs):
        try:
            variants.append(base.with_interpretations(**dict(chosen)))
        except UnknownInterpretation:
            continue
    return variants or [base]


def _decides(
    family: Family,
    rules: RuleSet,
    dates: Sequence[date],
    plan: Any,
    history: PaymentHistory | None,
) -> bool:
    """Whether a run under `rules` at one of `dates` decides `family` (as pbr evaluate would)."""
    from pbr.engine import evaluate
    from pbr.errors import OutsideProgramme
    from pbr.history import HistoryError, merge_payments
    from pbr.periods import check_as_of

    try:
        merged = merge_payments(family, history, rules=rules)
    except HistoryError:
        return False
    for day in dates:
        try:
            check_as_of(day)  # an edited decision's date is no run's (said as not replayable)
        except ValueError:
            continue
        try:
            evaluate(merged, as_of=day, rules=rules, plan=plan)
        except OutsideProgramme:
            continue
        return True
    return False
