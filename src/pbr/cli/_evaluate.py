"""``pbr evaluate``: every family in a file, streamed, with a summary and the rejections."""

from __future__ import annotations

import argparse
import csv
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, get_args

from pbr._seen import SeenIds
from pbr.cli._options import (
    add_record_size_option,
    add_rule_options,
    evaluation_date,
    load_plans,
    rule_sets_for,
)
from pbr.decisions import Decision, ResultKind
from pbr.io import DEFAULT_MAX_RECORD_BYTES, Rejection, read_numbered, read_raw
from pbr.money import ZERO, format_gbp
from pbr.programmes import programmes
from pbr.totals import Totals

if TYPE_CHECKING:
    from pbr.plans import OutcomePlan

__all__ = ["add", "run"]

_KINDS: tuple[ResultKind, ...] = get_args(ResultKind)
_SHORT = {"met": "met", "not_met": "not met", "not_applicable": "n/a", "already_paid": "paid"}


def add(sub: Any) -> None:
    """Register ``pbr evaluate``."""
    ev = sub.add_parser("evaluate", help="evaluate every family in a JSON or JSON Lines file")
    ev.add_argument(
        "file",
        help="families: a JSON array or JSON Lines file, a folder of CSV tables, or an XLSX workbook",
    )
    ev.add_argument(
        "--as-of", type=evaluation_date, required=True, help="evaluation date, YYYY-MM-DD"
    )
    ev.add_argument("--format", choices=("table", "json", "csv"), default="table")
    ev.add_argument(
        "--workers", type=int, default=1, metavar="N", help="evaluate on N processes (default 1)"
    )
    ev.add_argument(
        "--output",
        metavar="FILE",
        help="write decisions to FILE (.jsonl, .csv or .xlsx), atomically; the summary goes to stdout",
    )
    ev.add_argument(
        "--rejections",
        metavar="FILE",
        help="write one JSON object per rejected record to FILE (JSON Lines), atomically",
    )
    add_record_size_option(ev)
    ev.add_argument(
        "--ledger", metavar="DB", help="a payments ledger: its entries count as payments made"
    )
    add_rule_options(ev)
    ev.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr evaluate``; the exit status says whether every record was evaluated."""
    return _evaluate(
        args.file,
        args.as_of,
        args.format,
        args.interpretation,
        out,
        load_plans(args.plan),
        args.ledger,
        args.workers,
        args.output,
        args.rejections,
        args.max_record_bytes,
    )


def _evaluate(
    path: str,
    as_of: date,
    fmt: str,
    choices: list[tuple[str, str]],
    out: TextIO,
    plans: dict[str, OutcomePlan] | None = None,
    ledger: str | None = None,
    workers: int = 1,
    output: str | None = None,
    rejections: str | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> int:
    from pbr.batch import evaluate_many

    rule_sets_for(choices)  # checks the interpretations up front
    from pbr.output import check_writable

    for target in (output, rejections):  # and that the outputs can be written, before any work
        if target is not None:
            check_writable(target)
    plans = plans or {}
    err = sys.stderr
    tables = None
    history = None
    if ledger is not None:
        from pbr.audit._cli import load_history

        history = load_history(ledger)
    if Path(path).is_dir() or path.lower().endswith(".xlsx"):
        from pbr.tables import read_tables

        tables = read_tables(path)
        numbered: Iterable[tuple[int, Any]] = enumerate(tables.families(), start=1)
    elif workers > 1 and history is None:  # the workers validate: hand them bytes
        numbered = (
            (line, item) for line, _, item in read_raw(path, max_record_bytes=max_record_bytes)
        )
    else:
        numbered = (
            (line, item) for line, _, item in read_numbered(path, max_record_bytes=max_record_bytes)
        )
    lines: deque[int] = deque()  # line numbers of records in flight: bounded, not kept

    def items() -> Iterator[Any]:
        for line, item in _progress(numbered):
            lines.append(line)
            yield item

    with ExitStack() as stack:
        sink = None
        if rejections is not None:
            from pbr.output import atomic_writer

            sink = stack.enter_context(atomic_writer(rejections))
        summary = _Summary(
            check_duplicates=workers > 1 and history is None and tables is None, rejections=sink
        )
        if fmt == "json" and (output is None or not output.lower().endswith((".csv", ".xlsx"))):
            from pbr.batch import evaluate_many_json

            texts = summary.track_json(
                evaluate_many_json(
                    items(),
                    as_of=as_of,
                    workers=workers,
                    plans=plans,
                    interpretations=dict(choices),
                    source=path,
                    ledger=history,
                ),
                lines,
                path,
            )
            if output is not None:
                from pbr.output import atomic_writer

                with atomic_writer(output) as handle:
                    handle.writelines(texts)
            else:
                out.writelines(texts)
        else:
            results = evaluate_many(
                items(),
                as_of=as_of,
                workers=workers,
                plans=plans,
                interpretations=dict(choices),
                source=path,
                ledger=history,
            )
            decisions = summary.track(results, lines, path)
            if output is not None:
                from pbr.output import write_decisions

                write_decisions(decisions, output, None if fmt == "table" else fmt)
            elif fmt == "csv":
                from pbr.output import RESULT_COLUMNS, neutralised, result_rows

                writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS, lineterminator="\n")
                writer.writeheader()
                for decision in decisions:
                    writer.writerows(neutralised(row) for row in result_rows(decision))
            else:
                table = list(decisions)
                if table:
                    _write_table(table, out)
        if tables is not None:
            for rejection in tables.unplaced():
                summary.unplaced(rejection)
    if summary.evaluated + summary.rejected + summary.rows_unplaced == 0:
        print(f"pbr: no records in {path}", file=err)
        return 2
    text = out if fmt == "table" and output is None else err
    if tables is not None:
        rec = tables.reconciliation
        print("Reconciliation of " + path, file=text)
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
        ),
        file=text,
    )
    if summary.rows_unplaced:
        print(f"  rows or tables not used:  {summary.rows_unplaced}", file=text)
    if output is not None:
        print(f"decisions written to {output}", file=err)
    if rejections is not None:
        print(f"rejections written to {rejections}", file=err)
    if summary.evaluated == 0:
        return 2
    return 1 if summary.rejected or summary.rows_unplaced else 0


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
        # raw lines skip the reader's check for a repeated family_id, so it is done here
        self.seen: SeenIds | None = SeenIds() if check_duplicates else None

    def track(self, results: Iterable[Any], lines: deque[int], path: str) -> Iterator[Decision]:
        """Pass decisions on; report rejections (and repeated families) on stderr."""
        for n, item in enumerate(results):
            line = lines.popleft() if lines else None
            if isinstance(item, Decision):
                amounts = {str(kind): r.amount for kind, r in item.results.items()}
                if self._count(item.family_id, item.programme, amounts, n, line, path):
                    self.by_council.add(item)
                    yield item
            else:
                self._reject(item, line, path)

    def track_json(self, results: Iterable[Any], lines: deque[int], path: str) -> Iterator[str]:
        """The same for decisions already written as JSON (`pbr.batch.Evaluated`)."""
        for n, item in enumerate(results):
            line = lines.popleft() if lines else None
            if isinstance(item, Rejection):
                self._reject(item, line, path)
                continue
            family_id, programme, amounts, text = item
            if self._count(family_id, programme, amounts, n, line, path):
                self.by_council.add_json(text, amounts.values())
                yield text + "\n"

    def _count(
        self,
        family_id: str,
        programme: str,
        amounts: dict[str, Decimal],
        n: int,
        line: int | None,
        path: str,
    ) -> bool:
        if self.seen is not None and not self.seen.add(family_id):
            duplicate = Rejection.single(
                source=path,
                line=line,
                record=n + 1,
                family_id=family_id,
                loc="family_id",
                value=family_id,
                type="duplicate_family",
                message="a record with this family_id appeared earlier in the input",
            )
            self._reject(duplicate, line, path)
            return False
        self.evaluated += 1
        self.counts[programme] = self.counts.get(programme, 0) + 1
        mine = self.totals.setdefault(programme, {})
        for kind, amount in amounts.items():
            mine[kind] = mine.get(kind, ZERO) + amount
        return True

    def _reject(self, item: Rejection, line: int | None, path: str) -> None:
        if item.line is None:
            item = item.model_copy(update={"line": line, "source": path})
        self.rejected += 1
        self.by_council.reject()
        self._report(item)

    def unplaced(self, item: Rejection) -> None:
        """A table row or a whole table that belongs to no family: reported, not a family."""
        self.rows_unplaced += 1
        self._report(item)

    def _report(self, item: Rejection) -> None:
        print(item.describe(), file=sys.stderr)
        if self.rejections is not None:
            self.rejections.write(item.model_dump_json() + "\n")


def _progress(items: Iterable[Any]) -> Iterable[Any]:
    """A progress bar on a terminal when tqdm is installed (``pbr-claims[progress]``); else nothing."""
    if not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, unit=" families", file=sys.stderr, mininterval=0.5)  # type: ignore[no-any-return]


def _short(programme_id: str) -> str:
    """A programme's short label for tables (``TF1``), or its id when it has none."""
    return next((p.short for p in programmes() if p.id == programme_id), programme_id)


def _write_table(decisions: list[Decision], out: TextIO) -> None:
    kinds = [k for k in _KINDS if any(k in d.results for d in decisions)] or list(_KINDS[:3])
    titles = {
        "crime_asb_education": "crime/ASB/edu",
        "progress_to_work": "progress to work",
        "continuous_employment": "employment",
        "sustained_progress": "sustained progress",
    }
    head = ["family", "programme", "attached", "FY", "eligible", *(titles[k] for k in kinds)]
    head.append("payable")
    rows = [head]
    for d in decisions:
        cells = [
            d.family_id,
            _short(d.programme),
            d.attached_on.isoformat(),
            d.attachment_year,
            "yes" if d.eligible else "no",
        ]
        for kind in kinds:
            r = d.results.get(kind)
            if r is None:
                cells.append("")
                continue
            cells.append(_SHORT[r.status] + (f" {format_gbp(r.amount)}" if r.amount else ""))
        cells.append(format_gbp(d.payable))
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    right = {len(head) - 1}
    for n, row in enumerate(rows):
        out.write(
            "  ".join(
                cell.rjust(w) if i in right else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            + "\n"
        )
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    out.write("\n")


def _summary(
    path: str,
    as_of: date,
    evaluated: int,
    rejected: int,
    counts: dict[str, int],
    totals: dict[str, dict[str, Decimal]],
    by_council: Totals | None = None,
) -> str:
    lines = [
        f"Summary for {path} as of {as_of}",
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
    lines.append(f"  payable now, all programmes: {format_gbp(grand)}")
    if by_council is not None and len(by_council.councils) > 1:
        lines.append("  by council (attachment fees of eligible families and results payable now):")
        lines.extend("  " + line for line in by_council.lines())
    return "\n".join(lines)
