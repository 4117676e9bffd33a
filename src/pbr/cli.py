"""The ``pbr`` command: evaluate, explain, schema and rules, thin over the library.

Exit status of ``pbr evaluate``: 0 when every record was evaluated, 1 when some were rejected,
2 when the file cannot be read or nothing could be evaluated.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TextIO, get_args

from pbr._seen import SeenIds
from pbr.decisions import Decision, ResultKind
from pbr.engine import evaluate, rule_set_for
from pbr.errors import OutsideProgramme, PlanError, UnknownInterpretation
from pbr.io import DEFAULT_MAX_RECORD_BYTES, Rejection, UnreadableFile, read_numbered, read_raw
from pbr.money import ZERO, format_gbp
from pbr.periods import check_as_of
from pbr.programmes import programmes
from pbr.records import Family
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.plans import OutcomePlan

__all__ = ["main"]

_KINDS: tuple[ResultKind, ...] = get_args(ResultKind)


_SHORT = {"met": "met", "not_met": "not met", "not_applicable": "n/a", "already_paid": "paid"}


def _date(text: str) -> date:
    """An evaluation date from the command line: ``YYYY-MM-DD`` within the range pbr evaluates."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        return check_as_of(day)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {text!r}")
    return size


def _choice(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected ID=VALUE, got {text!r}")
    return key.strip(), value.strip()


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line: what is wrong and where to find help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pbr", description="Payment-by-results claims for the Troubled Families programme."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ev = sub.add_parser("evaluate", help="evaluate every family in a JSON or JSON Lines file")
    ev.add_argument(
        "file",
        help="families: a JSON array or JSON Lines file, a folder of CSV tables, or an XLSX workbook",
    )
    ev.add_argument("--as-of", type=_date, required=True, help="evaluation date, YYYY-MM-DD")
    ev.add_argument("--format", choices=("table", "json", "csv"), default="table")
    ev.add_argument(
        "--interpretation",
        type=_choice,
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="switch an interpretation in every rule set that has it (repeatable)",
    )
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
    ev.add_argument(
        "--max-record-bytes",
        type=_size,
        default=DEFAULT_MAX_RECORD_BYTES,
        metavar="N",
        help=f"reject a record larger than N bytes (default {DEFAULT_MAX_RECORD_BYTES:,})",
    )
    ev.add_argument(
        "--ledger", metavar="DB", help="a payments ledger: its entries count as payments made"
    )
    ev.add_argument(
        "--plan",
        action="append",
        default=[],
        metavar="FILE",
        help="the council's outcome plan (TOML, JSON or YAML) for phase two or Supporting "
        "Families; one per programme (repeatable)",
    )

    ex = sub.add_parser("explain", help="print the working paper for one family")
    ex.add_argument("file")
    ex.add_argument("family_id")
    ex.add_argument("--as-of", type=_date, required=True)
    ex.add_argument(
        "--interpretation", type=_choice, action="append", default=[], metavar="ID=VALUE"
    )
    ex.add_argument("--plan", action="append", default=[], metavar="FILE")
    ex.add_argument("--max-record-bytes", type=_size, default=DEFAULT_MAX_RECORD_BYTES, metavar="N")

    sc = sub.add_parser("schema", help="print the family record's JSON Schema")
    which = sc.add_mutually_exclusive_group()
    which.add_argument("--decision", action="store_true", help="the decision's JSON Schema instead")
    which.add_argument(
        "--rejection", action="store_true", help="the JSON Schema of a --rejections line"
    )

    tp = sub.add_parser("template", help="write empty CSV tables and a README of their columns")
    tp.add_argument("folder")

    from pbr.forecast._cli import add_forecast_command

    add_forecast_command(sub, _date)

    from pbr.audit._cli import add_audit_commands

    add_audit_commands(sub, _date)

    from pbr.serve._cli import add_serve_command

    add_serve_command(sub)

    ru = sub.add_parser("rules", help="print every rule set: parameters, sources, interpretations")
    ru.add_argument("--format", choices=("text", "json"), default="text")
    return parser


EXIT_CLOSED_PIPE = 141
"""The exit status when the reader of the output went away (``pbr evaluate ... | head``).

128 + SIGPIPE, what a shell reports for a Unix tool stopped by a closed pipe; never 1, which
means "some records were rejected".
"""


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
            f"pbr: unexpected error ({type(exc).__name__}: {str(exc)[:300]}); please report it, "
            "with PBR_DEBUG=1 for the traceback",
            file=sys.stderr,
        )
        return 2


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "evaluate":
            plans = _plans(args.plan)
            return _evaluate(
                args.file,
                args.as_of,
                args.format,
                args.interpretation,
                out,
                plans,
                args.ledger,
                args.workers,
                args.output,
                args.rejections,
                args.max_record_bytes,
            )
        if args.command == "explain":
            plans = _plans(args.plan)
            return _explain(
                args.file,
                args.family_id,
                args.as_of,
                args.interpretation,
                out,
                plans,
                args.max_record_bytes,
            )
        if args.command in ("audit", "ledger", "replay"):
            from pbr.audit import _cli as audit_cli

            run = {
                "audit": audit_cli.run_audit,
                "ledger": audit_cli.run_ledger,
                "replay": audit_cli.run_replay,
            }[args.command]
            return run(args, out)
        if args.command == "serve":
            from pbr.serve._cli import run_serve

            return run_serve(args)
        if args.command == "forecast":
            from pbr.forecast._cli import run_forecast

            return run_forecast(args, out)
        if args.command == "template":
            from pbr.tables import TABLES, write_templates

            written = write_templates(args.folder)
            for path in written:
                out.write(f"{path}\n")
            for table in TABLES:  # a table that already has rows is never overwritten
                kept = Path(args.folder) / f"{table}.csv"
                if kept not in written:
                    print(f"kept {kept}: it already has rows", file=sys.stderr)
            return 0
        if args.command == "schema":
            from pbr.schemas import decision_schema, family_schema, rejection_schema

            pick = decision_schema if args.decision else family_schema
            pick = rejection_schema if args.rejection else pick
            out.write(json.dumps(pick(), indent=2) + "\n")
            return 0
        return _rules(args.format, out)
    except UnknownInterpretation as exc:
        print(f"pbr: {exc}", file=sys.stderr)
        return 2
    except (UnreadableFile, PlanError) as exc:
        print(f"pbr: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output that cannot be written (pbr.output.OutputError)
        from pbr.output import OutputError

        if not isinstance(exc, OutputError):
            raise
        print(f"pbr: {exc}", file=sys.stderr)
        return 2


def _plans(paths: list[str]) -> dict[str, OutcomePlan]:
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


def _rules_for(choices: list[tuple[str, str]]) -> Callable[[Family], RuleSet]:
    """The rule set for each family, with each chosen interpretation applied.

    An interpretation applies to every rule set that defines it; an id that none defines, or a
    bad value, is an error up front.
    """
    from pbr.rules import RULE_SETS

    variants: dict[str, RuleSet] = {}
    for rules in RULE_SETS:
        mine = {k: v for k, v in choices if k in rules.interpretations}
        variants[rules.programme] = rules.with_interpretations(**mine)
    known = {k for rules in RULE_SETS for k in rules.interpretations}
    for key, _ in choices:
        if key not in known:
            raise UnknownInterpretation(f"unknown interpretation {key!r}", valid=sorted(known))

    def pick(family: Family) -> RuleSet:
        return variants[rule_set_for(family).programme]

    return pick


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

    _rules_for(choices)  # checks the interpretations up front
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
        _summary(path, as_of, summary.evaluated, summary.rejected, summary.counts, summary.totals),
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
        # raw lines skip the reader's check for a repeated family_id, so it is done here
        self.seen: SeenIds | None = SeenIds() if check_duplicates else None

    def track(self, results: Iterable[Any], lines: deque[int], path: str) -> Iterator[Decision]:
        """Pass decisions on; report rejections (and repeated families) on stderr."""
        for n, item in enumerate(results):
            line = lines.popleft() if lines else None
            if isinstance(item, Decision):
                amounts = {str(kind): r.amount for kind, r in item.results.items()}
                if self._count(item.family_id, item.programme, amounts, n, line, path):
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
    """A progress bar on a terminal when tqdm is installed (``pbr[progress]``); else nothing."""
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
    return "\n".join(lines)


def _explain(
    path: str,
    family_id: str,
    as_of: date,
    choices: list[tuple[str, str]],
    out: TextIO,
    plans: dict[str, OutcomePlan] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> int:
    pick = _rules_for(choices)
    plans = plans or {}
    if Path(path).is_dir() or path.lower().endswith(".xlsx"):
        from pbr.tables import read_tables

        found: Iterable[Family | Rejection] = read_tables(path).families()
    else:
        found = (item for _, _, item in read_numbered(path, max_record_bytes=max_record_bytes))
    for item in found:
        if item.family_id != family_id:
            continue
        if isinstance(item, Rejection):
            print(item.describe(), file=sys.stderr)
            return 1
        try:
            rules = pick(item)
            decision = evaluate(item, as_of=as_of, rules=rules, plan=plans.get(rules.programme))
        except OutsideProgramme as exc:
            print(f"pbr: {exc}", file=sys.stderr)
            return 1
        out.write(decision.explain())
        return 0
    print(f"pbr: no family {family_id!r} in {path}", file=sys.stderr)
    return 2


def _rules(fmt: str, out: TextIO) -> int:
    from pbr.rules import RULE_SETS

    rule_sets = list(RULE_SETS)
    if fmt == "json":
        out.write(json.dumps([_rules_json(r) for r in rule_sets], indent=2) + "\n")
        return 0
    for rules in rule_sets:
        out.write(_rules_text(rules))
    return 0


def _rules_json(rules: RuleSet) -> dict[str, object]:
    return {
        "programme": rules.programme,
        "title": rules.title,
        "version": rules.version,
        "spec": rules.spec,
        "attached_from": rules.attached_from.isoformat(),
        "attached_to": rules.attached_to.isoformat(),
        "parameters": {
            p.name: {
                "description": p.description,
                "unit": p.unit,
                "values": [
                    {
                        "year": str(v.year),
                        "value": str(v.value),
                        "source": list(v.source),
                        "status": v.status,
                    }
                    for v in p.values
                ],
            }
            for p in rules.parameters.values()
        },
        "interpretations": {
            i.id: {
                "description": i.description,
                "default": i.default,
                "values": dict(i.values),
                "source": i.source,
            }
            for i in rules.interpretations.values()
        },
    }


def _rules_text(rules: RuleSet) -> str:
    lines = [
        f"{rules.title} ({rules.rules_version}, {rules.spec})",
        f"Families attached {rules.attached_from} to {rules.attached_to}",
        "",
        "Parameters by financial year (value [source tags] status)",
    ]
    for p in rules.parameters.values():
        lines.append(f"  {p.name} ({p.unit}): {p.description}")
        for v in p.values:
            shown = format_gbp(v.value) if isinstance(v.value, Decimal) else str(v.value)
            lines.append(f"    from {v.year}: {shown}  [{v.source_text}] {v.status}")
    lines += ["", "Interpretations (default marked *)"]
    for i in rules.interpretations.values():
        lines.append(f"  {i.id}: {i.description}  [{i.source}]")
        for value, meaning in i.values.items():
            mark = "*" if value == i.default else " "
            lines.append(f"   {mark} {value}: {meaning}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
