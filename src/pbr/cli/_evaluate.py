"""``pbr evaluate``: every family in a file, streamed, with a summary and the rejections."""

from __future__ import annotations

import argparse
import csv
import gc
import io
import itertools
import json
import os
import stat
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date
from decimal import Decimal
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, TypeVar, cast, get_args

from pbr._file_lines import AUTO_FILE_BYTES
from pbr._parts import ResultKind
from pbr._seen import SeenIds
from pbr._summary_notes import claims_closed, example_plan_warnings, warned_families
from pbr._terminal import printable
from pbr._unreadable import TEXT_HEAD_BYTES, cannot_read, changed_while_read, not_line_text
from pbr.batch import Evaluated, Span, Workers, available_cores, warning_codes
from pbr.cli._options import (
    add_ledger_options,
    add_record_size_option,
    add_rule_options,
    council_tables,
    evaluation_date,
    file_name,
    key_files,
    load_calendar,
    load_plans,
    rule_files,
    rule_sets_for,
    rules_by_programme,
    stray_ledger_options,
    written_to,
)
from pbr.io import (
    DEFAULT_MAX_RECORD_BYTES,
    UnreadableFile,
    json_lines_start,
    parse_numbered,
    read_raw,
)
from pbr.money import ZERO, format_gbp
from pbr.programmes import programmes
from pbr.totals import Totals

if TYPE_CHECKING:
    from pbr.decisions import Decision
    from pbr.history import PaymentHistory
    from pbr.io import Raw, Rejection
    from pbr.periods import TermCalendar
    from pbr.plans import OutcomePlan

__all__ = ["STDIN", "add", "is_stream", "run", "spooled"]

_KINDS: tuple[ResultKind, ...] = get_args(ResultKind)

_T = TypeVar("_T")


def _workers(text: str) -> Workers:
    """``--workers``: ``auto`` or a whole number of processes, 1 or more."""
    if text == "auto":
        return "auto"
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a number of workers (1 or more): {text!r}"
        )
    return n


def _stat(path: str) -> os.stat_result | None:
    """The file as a run begins to read it: its size bounds what is read."""
    try:
        return os.stat(path)
    except OSError:
        return None  # reading it says why


class _Changed(Exception):
    """The input changed while it was read: the files being written are discarded."""


def _check_unchanged(path: str, readable: str, before: os.stat_result | None) -> None:
    """Raise `_Changed` when the file read is no longer the one whose first `size` bytes were read.

    Records appended after the run began are not read: without this they would be dropped
    without a word (a cron job picking up an export still being written).
    """
    if before is None:
        return
    said = changed_while_read(printable(path), before, _stat(readable))
    if said is not None:
        raise _Changed(said)


def _output_kind(fmt: str, output: str | None) -> str:
    """What is written: ``jsonl``, ``csv`` (terminal), ``csv-file``, ``xlsx`` or ``table``."""
    if output is None:
        return {"json": "jsonl", "csv": "csv"}.get(fmt, "table")
    if fmt == "table" and _to_standard_output(output):  # the table, to be read; its summary
        return "table"  # to standard error, as with any --output
    if fmt == "table":  # by the output's suffix, as `pbr.output.write_decisions` does
        return {".csv": "csv-file", ".xlsx": "xlsx"}.get(Path(output).suffix.lower(), "jsonl")
    return "csv-file" if fmt == "csv" else "jsonl"


_SUFFIX_KINDS = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
"""What a decisions file's suffix says it holds."""


def _check_format(fmt: str, output: str | None) -> None:
    """Refuse ``--format json`` or ``csv`` with an output named for another format.

    CSV text in ``decisions.xlsx`` (or JSON in ``.csv``) is a file its reader cannot open
    (`pbr.cli._options.check_named_format`, as ``pbr forecast`` refuses it).
    """
    if output is None or fmt == "table":
        return
    from pbr.cli._options import check_named_format

    check_named_format(fmt, output, _SUFFIX_KINDS)


def add(sub: Any) -> None:
    """Register ``pbr evaluate``."""
    ev = sub.add_parser(
        "evaluate",
        help="evaluate every family of a JSON or JSON Lines file, CSV tables or a workbook",
    )
    ev.add_argument(
        "file",
        type=file_name,
        help="families: a JSON array or JSON Lines file ('-' or a pipe: read from it), "
        "a folder of CSV tables, or an XLSX workbook",
    )
    ev.add_argument(
        "--as-of", type=evaluation_date, required=True, help="evaluation date, YYYY-MM-DD"
    )
    ev.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default=None,
        help="table (the default without --output): a line per family and a summary, to read; "
        "json: a decision per line (JSON Lines, what pbr replay reads); csv: a row per family "
        "and result",
    )
    ev.add_argument(
        "--workers",
        type=_workers,
        default="auto",
        metavar="N",
        help="evaluate on N processes; 'auto' (the default) uses one for a small file "
        "(under 4 MB, about 750 families) and every core for a larger one",
    )
    ev.add_argument(
        "--output",
        type=file_name,
        metavar="FILE",
        help="write decisions to FILE, atomically: CSV for a .csv name, XLSX for .xlsx, else JSON "
        "Lines (or as --format says); the summary goes to standard error",
    )
    ev.add_argument(
        "--rejections",
        type=file_name,
        metavar="FILE",
        help="write one JSON object per rejected record to FILE (JSON Lines), atomically",
    )
    add_record_size_option(ev)
    ev.add_argument(
        "--ledger",
        type=file_name,
        metavar="DB",
        help="a payments ledger: its entries count as payments made",
    )
    add_ledger_options(ev)
    add_rule_options(ev)
    ev.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr evaluate``; the exit status says whether every record was evaluated."""
    stray = stray_ledger_options(args)
    if stray is not None:  # it would do nothing: say so rather than ignore it
        print(f"pbr: {stray} applies only with --ledger DB (no ledger is read without it)",
              file=sys.stderr)  # fmt: skip
        return 2
    output = args.output
    if args.format == "table" and output is not None:
        refused = _table_refused(output)
        if refused is not None:
            print(f"pbr: cannot write {printable(output)}: {refused}", file=sys.stderr)
            return 2
    return _evaluate(
        args.file,
        args.as_of,
        args.format or _default_format(output),
        args.interpretation,
        out,
        load_plans(args.plan),
        args.ledger,
        args.workers,
        output,
        args.rejections,
        args.max_record_bytes,
        args.key_file,
        args.timeout,
        load_calendar(args.term_calendar),
        rule_files(args.plan, args.term_calendar),
    )


def _default_format(output: str | None) -> str:
    """The format without ``--format``: the table, but JSON Lines with ``--output``.

    ``--output -`` (or ``/dev/stdout``) too: it names a file, standard output, as any other
    (the table there is ``--format table``'s).
    """
    return "json" if output is not None and _to_standard_output(output) else "table"


def _to_standard_output(output: str) -> bool:
    """Whether `output` names standard output (``-``, ``/dev/stdout``)."""
    from pbr.output import given_descriptor

    return given_descriptor(output) == 1


def _table_refused(output: str) -> str | None:
    """Why ``--format table --output OUTPUT`` cannot be written as asked, or None.

    The table asked for would otherwise be written as JSON Lines: to a name that says no
    format, or to a descriptor other than standard output.
    """
    from pbr.output import given_descriptor

    given = given_descriptor(output)
    if given is None and Path(output).suffix.lower() not in _SUFFIX_KINDS:
        return (
            "--format table is the table for the terminal, and a file's name says its format: "
            "name it .csv, .xlsx or .jsonl, or give --format csv or json"
        )
    if given is not None and given != 1:
        return (
            "--format table is the table for the terminal, written only to standard output: "
            "give --format csv or json to write to another descriptor"
        )
    return None


def _evaluate(
    path: str,
    as_of: date,
    fmt: str,
    choices: list[tuple[str, str]],
    out: TextIO,
    plans: dict[str, OutcomePlan] | None = None,
    ledger: str | None = None,
    workers: Workers = "auto",
    output: str | None = None,
    rejections: str | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    key_file: str | None = None,
    timeout: float = 60.0,
    calendar: TermCalendar | None = None,
    council_files: Mapping[str, str] | None = None,
) -> int:
    rule_sets_for(choices)  # checks the interpretations up front
    from pbr.output import check_distinct, check_writable

    _check_format(fmt, output)
    check_distinct(  # first: "the same file as the input" says more than "a link"
        {
            "the input": None if is_stream(path) else path,
            "--ledger": ledger,
            **key_files(key_file),
            **(council_files or {}),  # a council's plan or term calendar, written over, is gone
        },
        {"--output": output, "--rejections": rejections},
    )
    for target in (output, rejections):  # and that the outputs can be written, before any work
        if target is not None:
            check_writable(target)
    history = None
    if ledger is not None:  # verified (with its key) before any record is read
        from pbr.audit._cli import load_history

        history = load_history(ledger, key_file, timeout)
    given = (
        as_of,
        fmt,
        choices,
        out,
        plans,
        history,
        workers,
        output,
        rejections,
        max_record_bytes,
        calendar,
    )
    if not is_stream(path):
        return _evaluate_file(path, path, *given)
    with spooled(path) as copy:
        return _evaluate_file(STDIN if path == "-" else path, copy, *given)


STDIN = "<stdin>"
"""How reports name standard input (``-``)."""


def is_stream(path: str) -> bool:
    """Whether `path` is ``-`` (standard input), a named pipe or a socket: read once, no seeking."""
    if path == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # reading it says why
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextmanager
def spooled(path: str, what: str = "families") -> Iterator[str]:
    """A pipe's records copied to a private temporary file, read from there, then removed.

    `what` the pipe holds (``families``, ``decisions``) is named when it cannot be read.

    The reader looks at a file's start twice to find its shape and the progress bar shows its
    size: a pipe (``zcat f.jsonl.gz | pbr evaluate -``) allows neither, so it is read once,
    a block at a time, into the system's temporary folder (as much disk as the input; the
    copy stops, refused, when less than `SPOOL_LEAVES_FREE` would be left).
    """
    name = STDIN if path == "-" else path
    if path == "-" and sys.stdin is None:  # closed (``<&-``), as a daemon may leave it
        raise UnreadableFile(
            f"no standard input (it is closed): pipe the {what} in or give the file's path"
        )
    if path == "-" and sys.stdin.isatty():
        example = " (zcat families.jsonl.gz | pbr evaluate - ...)" if what == "families" else ""
        raise UnreadableFile(
            f"cannot read {what} from the terminal: pipe them in{example} or give the file's path"
        )
    with tempfile.TemporaryDirectory(prefix="pbr-input-") as folder:
        copy = os.path.join(folder, "families")
        try:
            source = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise UnreadableFile(cannot_read(name, exc)) from None
        try:
            with open(copy, "xb") as sink:
                _refuse_what_is_not_text(name, source, sink)
                _copy_leaving_room(name, source, sink, folder)
        except UnreadableFile:
            raise
        except OSError as exc:
            raise UnreadableFile(
                f"cannot copy {name} to a temporary file in {tempfile.gettempdir()}: {exc}"
            ) from None
        finally:
            if source is not sys.stdin.buffer:
                source.close()
        yield copy


SPOOL_LEAVES_FREE = 256 << 20
"""The disk space a pipe's copy leaves free, 256 MiB: an endless pipe (``yes |``) or one larger
than the disk stops the copy there, rather than filling the disk for everyone."""


_SPOOL_CHECKS_EVERY = 64 << 20
"""How often (bytes copied) the free space is looked at: a small pipe is never refused for it."""


def _copy_leaving_room(name: str, source: IO[bytes], sink: IO[bytes], folder: str) -> None:
    """Copy `source` to `sink` a block at a time, stopping before the disk has too little left."""
    import shutil

    copied, check_at = 0, _SPOOL_CHECKS_EVERY
    while True:
        block = source.read(1 << 20)
        if not block:
            return
        copied += len(block)
        if copied < check_at:
            sink.write(block)
            continue
        check_at = copied + _SPOOL_CHECKS_EVERY
        if shutil.disk_usage(folder).free < SPOOL_LEAVES_FREE:
            raise UnreadableFile(
                f"cannot copy {name} to a temporary file in {tempfile.gettempdir()}: the disk "
                f"has less than {SPOOL_LEAVES_FREE >> 20} MiB left after {copied:,} bytes; give "
                "the file's path instead, or set TMPDIR to a folder on a larger disk"
            )
        sink.write(block)


def _refuse_what_is_not_text(name: str, source: IO[bytes], sink: IO[bytes]) -> None:
    """Copy the pipe's first block, unless it says the pipe is not text (`not_line_text`).

    Refused before the copy, not after: a stream of NUL bytes (``< /dev/zero``) has no end.
    """
    head = source.read(TEXT_HEAD_BYTES)
    said = not_line_text(name, head)
    if said is not None:
        raise UnreadableFile(said)
    sink.write(head)


def _evaluate_file(
    path: str,
    readable: str,
    as_of: date,
    fmt: str,
    choices: list[tuple[str, str]],
    out: TextIO,
    plans: dict[str, OutcomePlan] | None,
    history: PaymentHistory | None,
    workers: Workers,
    output: str | None,
    rejections: str | None,
    max_record_bytes: int,
    calendar: TermCalendar | None = None,
) -> int:
    """`_evaluate` once the input can be read: `path` names it in reports, `readable` is read."""
    from pbr.batch import evaluate_many

    plans = plans or {}
    err = sys.stderr
    tables = None
    total: int | None = None
    kind = _output_kind(fmt, output)
    lines_from: int | None = None  # where a JSON Lines file's records start: read in ranges
    before: os.stat_result | None = None  # the file as it began to be read (not tables)
    numbered: Iterable[tuple[int | None, Any]] = ()
    measure: Callable[[tuple[int | None, Any]], tuple[int, int]] = _a_record
    of_families = False  # `total` counts families, not bytes
    if council_tables(path):
        from pbr.tables import read_tables

        tables = read_tables(path)
        total, of_families = tables.family_rows, True
        # no line of one file: each rejection names its tables' rows, and its family's record
    elif history is None:  # the workers (or this process) validate: hand them bytes
        before = _stat(readable)
        total = None if before is None else before.st_size
        if workers == "auto":
            workers = 1 if total is None or total < AUTO_FILE_BYTES else available_cores()
        if kind != "xlsx":
            lines_from = json_lines_start(readable, max_record_bytes=max_record_bytes, source=path)
        if lines_from is None:
            raw = read_raw(readable, max_record_bytes=max_record_bytes, source=path, size=total)
            numbered = ((line, item) for line, _, item in raw)
    else:  # validated here, where the ledger's payments are merged in: count the bytes read
        before = _stat(readable)
        total = None if before is None else before.st_size
        read = _BytesRead()
        raw = read_raw(readable, max_record_bytes=max_record_bytes, source=path, size=total)
        records = parse_numbered(
            read.counted(raw), source=path, max_record_bytes=max_record_bytes, once=False
        )
        numbered = ((line, item) for line, _, item in records)
        measure = read.measure
    unpaid_for: set[str] = set()  # the ledger's families not (yet) met in the input
    if history is not None:
        unpaid_for = set(history.by_family)
        numbered = _noting(numbered, unpaid_for)
    lines: deque[int | None] = deque()  # line numbers of records in flight: bounded, not kept

    def items(numbered: Iterable[tuple[int | None, Any]]) -> Iterator[Any]:
        for line, item in _progress(numbered, total, measure, of_families=of_families):
            lines.append(line)
            yield item

    def answers(run: Callable[..., Iterable[Any]]) -> Iterable[Any]:
        """`run` (a batch, given the run's settings) over the input's records.

        Council tables' families are validated where they are evaluated, by the pool's
        workers too (`pbr.tables.TableInput.evaluated`), or here when a ledger's payments are
        to be merged in first; the tables count and locate each family rejected either way.
        """
        if tables is None:
            return run(items(numbered), **options)
        return tables.evaluated(
            lambda rows: run(items(_noting(((None, r) for r in rows), unpaid_for)), **options),
            lambda family: next(iter(run([family], **{**options, "workers": 1}))),
        )

    options: dict[str, Any] = {
        "as_of": as_of,
        "workers": workers,
        "plans": plans,
        "interpretations": dict(choices),
        "source": path,
        "ledger": history,
        "max_record_bytes": max_record_bytes,
        "term_calendar": calendar,
    }

    def _decide(stack: ExitStack) -> _Summary:
        """Evaluate, writing the decisions and rejections through writers `stack` closes."""
        from pbr.output import atomic_writer

        sink = None
        if rejections is not None:
            sink = stack.enter_context(atomic_writer(rejections))
        summary = _Summary(check_duplicates=tables is None, rejections=sink)
        if kind == "xlsx":
            from pbr.output import xlsx_decisions

            assert output is not None
            book, _ = xlsx_decisions(summary.track(answers(evaluate_many), lines, path))
            stack.enter_context(atomic_writer(output, "wb")).write(book)
        else:
            from pbr.batch import evaluate_many_json

            render = {"jsonl": "json", "table": "table"}.get(kind, kind)
            if lines_from is not None:
                from pbr.batch import evaluate_spans

                spans = evaluate_spans(
                    readable,
                    as_of=as_of,
                    start=lines_from,
                    workers=workers if isinstance(workers, int) else 1,
                    plans=plans,
                    interpretations=dict(choices),
                    source=path,
                    render=render,  # type: ignore[arg-type]
                    max_record_bytes=max_record_bytes,
                    stop=total,
                    term_calendar=calendar,
                )
                blocks: Iterator[tuple[bytes, tuple[int, ...] | None]] = summary.track_spans(
                    _progress(spans, total, _a_range), path
                )
            else:
                decided = summary.track_json(
                    answers(partial(evaluate_many_json, render=render)),  # type: ignore[arg-type]
                    lines,
                    path,
                    newline=kind in ("jsonl", "table"),
                )
                blocks = ((text.encode(), None) for text in decided)
            data = (block for block, _ in blocks)  # the table also takes the widths
            if kind == "table":
                _write_table(((block.decode(), widths) for block, widths in blocks), out)
            elif output is not None:
                # the first block before the file: a pool is started (forked) before the
                # writer's thread that syncs the file as it goes
                first = next(data, b"")
                handle = stack.enter_context(atomic_writer(output, "wb", sync_as_it_goes=True))
                if kind == "csv-file":
                    handle.write(_csv_file_header())
                handle.write(first)
                handle.writelines(data)
            else:
                if kind == "csv":
                    from pbr.output import RESULT_COLUMNS

                    csv.DictWriter(
                        out, fieldnames=RESULT_COLUMNS, lineterminator="\n"
                    ).writeheader()
                out.writelines(block.decode() for block in data)
        if tables is not None:
            for rejection in tables.unplaced():
                summary.unplaced(rejection)
        return summary

    gc.freeze()  # everything imported so far lives to the end: the collector need not rescan it
    # The files written are committed when the stack closes, and discarded if it closes on an
    # exception: an input with no records leaves an earlier run's --output and --rejections.
    try:
        with ExitStack() as stack:
            stack.callback(gc.unfreeze)  # back to normal for a caller that goes on (tests, scripts)
            summary = _decide(stack)
            _check_unchanged(path, readable, before)
            if summary.evaluated + summary.rejected + summary.rows_unplaced == 0:
                raise _NoRecords
    except _NoRecords:
        print(f"pbr: no records in {printable(path)}", file=err)
        return 2
    except _Changed as exc:
        print(f"pbr: {exc}", file=err)
        return 2
    text = out if fmt == "table" and output is None else err
    if tables is not None:
        rec = tables.reconciliation
        print("Reconciliation of " + printable(path), file=text)
        print("\n".join(rec.lines()), file=text)
    print(
        _summary(
            path,
            as_of,
            summary.evaluated,
            summary.rejected,
            summary.counts,
            summary.totals,
            summary.by_council,
            _readings(choices, plans, calendar),
            summary.warned,
        ),
        file=text,
    )
    if summary.rows_unplaced:
        print(f"  rows or tables not used:  {summary.rows_unplaced}", file=text)
    for warning in example_plan_warnings(summary.counts, plans):
        print(f"pbr: warning: {warning}", file=err)
    if unpaid_for:
        _note_unmatched(unpaid_for, path, err)
    if output is not None:
        none = ": none, no family was evaluated" if summary.evaluated == 0 else ""
        print(f"decisions written to {written_to(output)}{none}", file=err)
    if rejections is not None:
        print(f"rejections written to {written_to(rejections)}", file=err)
    if summary.evaluated == 0:
        return 2
    return 1 if summary.rejected or summary.rows_unplaced else 0


class _NoRecords(Exception):
    """The input held no records: the files being written are discarded, not committed."""


def _noting(
    numbered: Iterable[tuple[int | None, Any]], unmet: set[str]
) -> Iterator[tuple[int | None, Any]]:
    """The records as they are, crossing each family_id off `unmet` (the ledger's families)."""
    from pbr.tables import TableFamily

    for line, item in numbered:
        if unmet:
            named = item.row.get("family_id") if type(item) is TableFamily else None
            unmet.discard(named or getattr(item, "family_id", None) or "")
        yield line, item


def _note_unmatched(unmet: set[str], path: str, err: TextIO) -> None:
    """Say which of the ledger's families the input never gave: their payments were not used."""
    shown = ", ".join(printable(f) for f in sorted(unmet)[:5])
    more = f" and {len(unmet) - 5} more" if len(unmet) > 5 else ""
    families = f"{len(unmet)} famil{'y' if len(unmet) == 1 else 'ies'}"
    print(
        f"note: the ledger pays {families} not in {printable(path)} ({shown}{more}): their "
        "payments were not used (another input, or families left out of it?)",
        file=err,
    )


class _Summary:
    """Counts and totals of a run, kept while decisions stream past (memory stays flat)."""

    def __init__(
        self, *, check_duplicates: bool = False, rejections: IO[str] | None = None
    ) -> None:
        self.evaluated = 0
        self.rejected = 0
        self.rows_unplaced = 0
        self.rejections = rejections
        self.counts: dict[str, int] = {}
        self.totals: dict[str, dict[str, Decimal]] = {}
        self.by_council = Totals()
        self.warned: dict[str, int] = {}
        """The families warned of each code (`pbr.batch.warning_codes`)."""
        # raw lines skip the reader's check for a repeated family_id, so it is done here
        self.seen: SeenIds | None = SeenIds() if check_duplicates else None

    def track(
        self, results: Iterable[Any], lines: deque[int | None], path: str
    ) -> Iterator[Decision]:
        """Pass decisions on; report rejections (and repeated families) on stderr."""
        from pbr.decisions import Decision

        for n, item in enumerate(results):
            line = lines.popleft() if lines else None
            if isinstance(item, Decision):
                amounts = {str(kind): r.amount for kind, r in item.results.items()}
                council = item.local_authority
                if self._count(item.family_id, council, item.programme, amounts, n, line, path):
                    self.by_council.add(item)
                    if item.warnings:
                        self._warn(warning_codes(item.warnings))
                    yield item
            else:
                self._reject(item, line, path)

    def track_json(
        self, results: Iterable[Any], lines: deque[int | None], path: str, *, newline: bool = True
    ) -> Iterator[str]:
        """The same for decisions already written as text (`pbr.batch.Evaluated`)."""
        end = "\n" if newline else ""
        for n, item in enumerate(results):
            line = lines.popleft() if lines else None
            if not isinstance(item, Evaluated):  # a rejection
                self._reject(item, line, path)
                continue
            family_id, programme, amounts, text = item
            council = item.local_authority
            if self._count(family_id, council, programme, amounts, n, line, path):
                self.by_council.add_amounts(council, item.attachment_fee, amounts.values())
                if item.warnings:
                    self._warn(item.warnings)
                yield text + end

    def track_spans(
        self, spans: Iterable[Span], path: str
    ) -> Iterator[tuple[bytes, tuple[int, ...] | None]]:
        """The same for a file evaluated range by range (`pbr.batch.evaluate_spans`).

        A range's counts and totals are added at once; only a range holding a family seen
        before is counted family by family. Yields each range's bytes with its table widths
        (`Span.widths`), or None for them when some of its decisions were left out.
        """
        lines = records = 0  # before the range
        for span in spans:
            repeated = self._repeated(span.family_ids, [lines + n for n in span.family_lines])
            if repeated:
                kept = self._counted_by_family(span, repeated, lines, records, path)
                self._warn_of(span.warned, set(kept))
                ends = span.ends
                data = b"".join(span.data[ends[i - 1] if i else 0 : ends[i]] for i in kept)
                yield data, None
            else:
                self._counted_at_once(span, lines, records, path)
                yield span.data, span.widths
            lines += span.lines
            records += span.records

    def _counted_at_once(self, span: Span, lines: int, records: int, path: str) -> None:
        """Count a range whose families are all new: its totals as summed by the worker."""
        for line, record, item in span.rejections:
            self._reject_at(item, lines + line, records + record, path)
        self.evaluated += len(span.family_ids)
        for programme, count in span.counts.items():
            self.counts[programme] = self.counts.get(programme, 0) + count
            mine = self.totals.setdefault(programme, {})
            for kind, amount in span.totals[programme].items():
                mine[kind] = mine.get(kind, ZERO) + amount
        self.by_council = self.by_council.merge(span.councils)
        if span.warned:
            self._warn_of(span.warned)

    def _repeated(self, family_ids: list[str], lines: list[int]) -> set[int]:
        """Which of a range's decisions are of a family seen before (now seen, with its line)."""
        return set() if self.seen is None else self.seen.add_all(family_ids, lines)

    def _counted_by_family(
        self, span: Span, repeated: set[int], lines: int, records: int, path: str
    ) -> list[int]:
        """Count a range one record at a time, in order; the decisions kept (not repeated)."""
        kept: list[int] = []
        rejections = iter(span.rejections)
        waiting = next(rejections, None)
        for i, (line, record, family_id, programme, council, fee, amounts) in enumerate(
            span.decisions()
        ):
            while waiting is not None and waiting[1] < record:
                self._reject_at(waiting[2], lines + waiting[0], records + waiting[1], path)
                waiting = next(rejections, None)
            if i in repeated:
                self._reject(
                    self._duplicate(family_id, council, records + record, lines + line, path),
                    None,
                    path,
                )
                continue
            self._add(programme, amounts)
            self.by_council.add_amounts(council, fee, amounts.values())
            kept.append(i)
        while waiting is not None:
            self._reject_at(waiting[2], lines + waiting[0], records + waiting[1], path)
            waiting = next(rejections, None)
        return kept

    def _count(
        self,
        family_id: str,
        council: str | None,
        programme: str,
        amounts: dict[str, Decimal],
        n: int,
        line: int | None,
        path: str,
    ) -> bool:
        if self.seen is not None and not self.seen.add(family_id, line or 0):
            self._reject(self._duplicate(family_id, council, n + 1, line, path), line, path)
            return False
        self._add(programme, amounts)
        return True

    def _duplicate(
        self, family_id: str, council: str | None, record: int, line: int | None, path: str
    ) -> Rejection:
        """The rejection of a family's later record, naming the line of its first."""
        from pbr.io import Rejection

        assert self.seen is not None  # repeats are found only where families are kept
        return Rejection.repeated_family(
            source=path,
            line=line,
            record=record,
            family_id=family_id,
            first_line=self.seen.first_line(family_id),
            local_authority=council,
        )

    def _add(self, programme: str, amounts: dict[str, Decimal]) -> None:
        self.evaluated += 1
        self.counts[programme] = self.counts.get(programme, 0) + 1
        mine = self.totals.setdefault(programme, {})
        for kind, amount in amounts.items():
            mine[kind] = mine.get(kind, ZERO) + amount

    def _warn(self, codes: Iterable[str]) -> None:
        """Count a decision kept (not a repeat) warned of `codes`, each once."""
        warned = self.warned
        for code in codes:
            warned[code] = warned.get(code, 0) + 1

    def _warn_of(
        self, warned: Iterable[tuple[int, tuple[str, ...]]], kept: set[int] | None = None
    ) -> None:
        """Count a range's decisions warned of (`Span.warned`): those `kept`, when given."""
        for i, codes in warned:
            if kept is None or i in kept:
                self._warn(codes)

    def _reject(self, item: Rejection, line: int | None, path: str) -> None:
        if item.line is None:
            item = item.model_copy(update={"line": line, "source": path})
        self.rejected += 1
        self.by_council.reject(item.local_authority)
        self._report(item)

    def _reject_at(self, item: Rejection, line: int, record: int, path: str) -> None:
        """A rejection from a range of the file, placed at its line and record in the file."""
        self._reject(
            item.model_copy(update={"line": line, "record": record, "source": path}), line, path
        )

    def unplaced(self, item: Rejection) -> None:
        """A table row or a whole table that belongs to no family: reported, not a family."""
        self.rows_unplaced += 1
        self._report(item)

    def _report(self, item: Rejection) -> None:
        print(item.describe(), file=sys.stderr)
        if self.rejections is not None:
            self.rejections.write(item.model_dump_json() + "\n")


def _progress(
    items: Iterable[_T],
    total: int | None,
    measure: Callable[[_T], tuple[int, int]],
    *,
    of_families: bool = False,
) -> Iterable[_T]:
    """A progress bar on a terminal (never on a pipe): bytes read of the file, with an ETA.

    tqdm draws it when installed (``pbr-claims[progress]``); otherwise a plain line is redrawn
    every half second. `total` is the file's size (None when unknown: then a count), or with
    `of_families` a number of families (council tables: the rows of their ``families``);
    `measure` says how many families and bytes of the file an item is.
    """
    if not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain_progress(items, total, measure, of_families=of_families)
    return _tqdm_progress(items, total, measure, tqdm, of_families=of_families)


class _BytesRead:
    """The bytes of a file's records read so far, for the progress of records validated as read.

    `counted` passes `pbr.io.read_raw`'s records on, adding up their bytes; `measure` gives an
    item validated from them as one family and the bytes read since the last item.
    """

    def __init__(self) -> None:
        self.read = self.shown = 0

    def counted(self, raw: Iterable[Raw]) -> Iterator[Raw]:
        for entry in raw:
            if isinstance(entry[2], bytes):
                self.read += len(entry[2])
            yield entry

    def measure(self, _item: object) -> tuple[int, int]:
        done, self.shown = self.read - self.shown, self.read
        return 1, done


def _a_record(pair: tuple[int | None, Any]) -> tuple[int, int]:
    """A numbered record read from a file: one family, its bytes."""
    item = pair[1]
    return 1, len(item) if isinstance(item, bytes) else 0


def _a_range(span: Span) -> tuple[int, int]:
    """A range of a file evaluated: its records, its bytes."""
    return span.records, span.size


def _tqdm_progress(
    items: Iterable[_T],
    total: int | None,
    measure: Callable[[_T], tuple[int, int]],
    tqdm: Any,
    *,
    of_families: bool = False,
) -> Iterator[_T]:
    # the first item before the bar: a pool is started (forked) before tqdm's monitor thread
    items = iter(items)
    first = next(items, _NOTHING)
    if first is _NOTHING:
        return
    ahead = itertools.chain([cast("_T", first)], items)
    shape = _bar_shape()
    if total is None:
        with tqdm(unit=" families", file=sys.stderr, mininterval=0.5, **shape) as bar:
            for item in ahead:
                bar.update(measure(item)[0])
                yield item
        return
    unit = {"unit": " families"} if of_families else {"unit": "B", "unit_scale": True}
    which = 0 if of_families else 1
    with tqdm(total=total, file=sys.stderr, mininterval=0.5, delay=0.5, **unit, **shape) as bar:
        for item in ahead:
            bar.update(measure(item)[which])
            yield item


_NOTHING = object()


def _bar_shape() -> dict[str, int]:
    """The size tqdm is told: none (it measures), or 80 × 20 for a terminal that says 0 × 0.

    A pseudo-terminal whose size was never set (as ``pty.openpty()`` makes one) reports 0
    columns and 0 lines, and tqdm then draws nothing at all.
    """
    try:
        columns, lines = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return {}
    return {} if columns and lines else {"ncols": columns or 80, "nrows": lines or 20}


def _plain_progress(
    items: Iterable[_T],
    total: int | None,
    measure: Callable[[_T], tuple[int, int]],
    *,
    of_families: bool = False,
) -> Iterator[_T]:
    start = shown = time.monotonic()
    done = count = 0
    drawn = False
    line = partial(_progress_line, of_families=of_families)
    for item in items:
        families, size = measure(item)
        done += families if of_families else size
        count += families
        now = time.monotonic()
        if now - shown >= 0.5:
            shown = now
            drawn = True
            sys.stderr.write("\r" + line(count, done, total, now - start))
            sys.stderr.flush()
        yield item
    if drawn:
        sys.stderr.write("\r" + line(count, done, total, time.monotonic() - start) + "\n")


def _progress_line(
    count: int, done: int, total: int | None, elapsed: float, *, of_families: bool = False
) -> str:
    """``pbr: 45% of 277 MB, 22,500 families, 0:12 left`` (``45% of 50,000 families``)."""
    if not total:
        return f"pbr: {count:,} families, {elapsed:.0f} s"
    share = min(done / total, 1.0)
    left = elapsed * (1 - share) / share if share else 0.0
    minutes, seconds = divmod(int(left + 0.5), 60)
    if of_families:
        return f"pbr: {share:4.0%} of {total:,} families, {minutes}:{seconds:02d} left "
    return (
        f"pbr: {share:4.0%} of {total / 1e6:,.0f} MB, {count:,} families, "
        f"{minutes}:{seconds:02d} left "
    )


_TITLES = {
    "crime_asb_education": "crime/ASB/edu",
    "progress_to_work": "progress to work",
    "continuous_employment": "employment",
    "sustained_progress": "sustained progress",
}


def _write_table(blocks: Iterable[tuple[str, Sequence[int] | None]], out: TextIO) -> None:
    """The table of decisions, streamed in bounded memory, then written aligned.

    Each block is rows (`pbr.output.table_cells` as JSON, each ending with a newline) with
    their columns' widths, or None to measure them here. Rows are spooled to a temporary file
    while the widths are gathered. Memory stays flat: up to 1 MiB of rows is kept in memory,
    the rest goes to disk.
    """
    from pbr.output import TABLE_KINDS

    fixed = ["family", "programme", "attached", "FY", "eligible"]
    plan = len(fixed) + len(TABLE_KINDS)  # the outcome plan's column, shown when some row has one
    widths = [0] * (plan + 2)
    n = 0
    with tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8") as spool:
        for text, measured in blocks:
            for i, width in enumerate(_widths(text) if measured is None else measured):
                if width > widths[i]:
                    widths[i] = width
            spool.write(text)
            n += text.count("\n")
        if not n:
            return
        # a result column is shown when some row has something in it
        shown = [k for k in range(len(TABLE_KINDS)) if widths[len(fixed) + k]] or [0, 1, 2]
        planned = [plan] if widths[plan] else []
        columns = [*range(len(fixed)), *(len(fixed) + k for k in shown), *planned, plan + 1]
        titles = [_TITLES[TABLE_KINDS[k]] for k in shown]
        head = [*fixed, *titles, *(["outcome plan"] if planned else []), "payable"]
        sizes = [max(widths[c], len(title)) for c, title in zip(columns, head, strict=True)]
        # each cell padded to its column (the last, money, to the right), as one format
        line = "  ".join([*(f"{{:<{w}}}" for w in sizes[:-1]), f"{{:>{sizes[-1]}}}"]).format
        pick = itemgetter(*columns)
        out.write(line(*head).rstrip() + "\n")
        out.write("  ".join("-" * w for w in sizes) + "\n")
        spool.seek(0)
        for text in spool:
            out.write(line(*pick(json.loads(text))).rstrip() + "\n")
    out.write("\n")


def _csv_file_header() -> bytes:
    """The header line of a decisions CSV file, as `pbr.output.CsvWriter` writes it."""
    from pbr.output import RESULT_COLUMNS, CsvWriter

    header = io.StringIO()
    CsvWriter(header, RESULT_COLUMNS).writeheader()
    return header.getvalue().encode()


def _widths(rows: str) -> list[int]:
    """The widest cell of each column of `rows` (table rows as JSON, one a line)."""
    widths: list[int] = []
    for row in rows.split("\n")[:-1]:  # each row ends with a newline (and holds no other)
        cells = json.loads(row)
        if not widths:
            widths = [0] * len(cells)
        for i, cell in enumerate(cells):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    return widths


def _readings(
    choices: list[tuple[str, str]],
    plans: dict[str, OutcomePlan],
    calendar: TermCalendar | None = None,
) -> dict[str, str]:
    """A summary line per programme judged under a non-default interpretation or a calendar.

    The line ends with the start of the rules hash its decisions record (in full in each
    decision's ``rules_hash``): a non-default reading's totals otherwise read as the defaults'.
    Under the defaults the summary is as it always was.
    """
    from pbr.engine import rules_hash

    lines: dict[str, str] = {}
    for programme, rules in rules_by_programme(choices, calendar).items():
        other = [
            f"{k}={v} (not the default)"
            for k, v in rules.chosen.items()
            if v != rules.interpretations[k].default
        ]
        said = [f"interpretations: {'; '.join(other)}"] if other else []
        named = rules.term_calendar.named
        if named is not None:
            from pbr.calendars import own_dates

            said.append(f"term calendar: {own_dates(named, len(rules.term_calendar.overrides))}")
        if said:
            hashed = rules_hash(rules, plans.get(programme))
            lines[programme] = f"{'; '.join(said)}; rules_hash {hashed[:12]}…"
    return lines


def _summary(
    path: str,
    as_of: date,
    evaluated: int,
    rejected: int,
    counts: dict[str, int],
    totals: dict[str, dict[str, Decimal]],
    by_council: Totals | None = None,
    readings: dict[str, str] | None = None,
    warned: dict[str, int] | None = None,
) -> str:
    """The run's summary: counts, each programme's payable (and `readings`' line), the total.

    `readings` are `_readings`; `warned` the families warned of each code, said after the
    total (`pbr._summary_notes.warned_families`: nothing when none was); with several
    councils, each council's totals follow.
    """
    lines = [
        f"Summary for {printable(path)} as of {as_of}",
        f"  families evaluated: {evaluated}",
        f"  families rejected:  {rejected}",
    ]
    width = max([len(k) for k in _KINDS] + [len("total")])
    grand = ZERO
    order = [p.id for p in programmes()]
    for programme in sorted(totals, key=order.index):
        lines.append(f"  {programme}: {counts[programme]} families; payable now by result:")
        for kind, amount in totals[programme].items():
            lines.append(f"    {kind.ljust(width)}  {format_gbp(amount).rjust(12)}")
        subtotal = sum(totals[programme].values(), ZERO)
        grand += subtotal
        lines.append(f"    {'total'.ljust(width)}  {format_gbp(subtotal).rjust(12)}")
        closed = claims_closed(programme, as_of, subtotal)
        if closed is not None:
            lines.append(f"    {closed}")
        if readings and programme in readings:
            lines.append(f"    {readings[programme]}")
    lines.append(f"  payable now, all programmes: {format_gbp(grand)}")
    said = warned_families(warned or {})
    if said:
        lines.append(
            "  families with warnings (their decisions say why: --format json, or pbr explain):"
        )
        wide = max(len(code) for code, _ in said)
        lines.extend(f"    {code.ljust(wide)}  {families}" for code, families in said)
    if by_council is not None and len(by_council.councils) > 1:
        lines.append("  by council (attachment fees of eligible families and results payable now):")
        lines.extend("  " + line for line in by_council.lines())
    return "\n".join(lines)
