"""``pbr explain``: one family's working paper."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any, TextIO

from pbr._summary_notes import example_plan_warnings
from pbr._terminal import printable
from pbr.cli._options import (
    add_ledger_options,
    add_record_size_option,
    add_rule_options,
    council_tables,
    evaluation_date,
    file_name,
    load_calendar,
    load_plans,
    rule_sets_for,
    stray_ledger_options,
)
from pbr.engine import evaluate
from pbr.errors import OutsideProgramme
from pbr.io import DEFAULT_MAX_RECORD_BYTES

if TYPE_CHECKING:
    from pbr.decisions import Decision
    from pbr.history import PaymentHistory
    from pbr.io import Rejection
    from pbr.periods import TermCalendar
    from pbr.plans import OutcomePlan
    from pbr.records import Family
    from pbr.tables import TableInput

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    """Register ``pbr explain``."""
    ex = sub.add_parser("explain", help="print the working paper for one family")
    ex.add_argument(
        "file",
        type=file_name,
        help="families: a JSON array or JSON Lines file ('-' or a pipe: read from it), "
        "a folder of CSV tables, or an XLSX workbook",
    )
    ex.add_argument("family_id", help="the family_id of the family to explain")
    ex.add_argument(
        "--as-of", type=evaluation_date, required=True, help="evaluation date, YYYY-MM-DD"
    )
    add_rule_options(ex)
    add_record_size_option(ex)
    ex.add_argument(
        "--ledger",
        type=file_name,
        metavar="DB",
        help="a payments ledger: its entries count as payments made, as in pbr evaluate --ledger",
    )
    add_ledger_options(ex)
    ex.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr explain``; a ledger is verified (with its key) before any record is read."""
    from pbr.cli._evaluate import STDIN, is_stream, spooled

    stray = stray_ledger_options(args)
    if stray is not None:  # it would do nothing: say so rather than ignore it
        print(f"pbr: {stray} applies only with --ledger DB (no ledger is read without it)",
              file=sys.stderr)  # fmt: skip
        return 2
    rule_sets_for(args.interpretation)  # checks the interpretations up front
    history = None
    if args.ledger is not None:  # verified (with its key) before any record is read
        from pbr.audit._cli import load_history

        history = load_history(args.ledger, args.key_file, args.timeout)
    explain = functools.partial(
        _explain,
        family_id=args.family_id,
        as_of=args.as_of,
        choices=args.interpretation,
        out=out,
        plans=load_plans(args.plan),
        max_record_bytes=args.max_record_bytes,
        calendar=load_calendar(args.term_calendar),
        history=history,
    )
    if is_stream(args.file):  # a pipe cannot be looked at twice: read from a copy, as evaluate
        with spooled(args.file) as copy:
            return explain(STDIN if args.file == "-" else args.file, read_from=copy)
    return explain(args.file)


def _explain(
    path: str,
    family_id: str,
    as_of: date,
    choices: list[tuple[str, str]],
    out: TextIO,
    plans: dict[str, OutcomePlan] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    read_from: str | None = None,
    calendar: TermCalendar | None = None,
    history: PaymentHistory | None = None,
) -> int:
    """Explain `family_id` of `path`; `read_from` is a copy to read instead (of a pipe).

    The record explained is the one ``pbr evaluate`` decides on: the first that is neither
    rejected for its own faults nor outside every programme. The family's other records are
    reported on stderr as evaluate reports them (the exit status is then 1). A ledger's
    payments (`history`) are merged in as ``pbr evaluate --ledger`` merges them.
    """
    tables: TableInput | None = None
    if read_from is None and council_tables(path):
        from pbr.tables import read_tables

        tables = read_tables(path)
        found: Iterator[Found] = (  # the other families are not validated
            (None, 0, item) for item in tables.named(family_id) if item.family_id is not None
        )
    else:
        found = _records_of(path, family_id, max_record_bytes, read_from)
    chosen = _Chosen(path, as_of, rule_sets_for(choices, calendar), plans or {}, history)
    for line, record, item in found:
        chosen.take(line, record, item)
    if chosen.records == 0:
        why = "" if tables is None else _rows_without_family(path, tables.orphan_tables(family_id))
        print(f"pbr: no family {family_id!r} in {printable(path)}{why}", file=sys.stderr)
        return 2
    if chosen.decision is not None:
        out.write(chosen.decision.explain())
        for said in example_plan_warnings({chosen.decision.programme: 1}, chosen.plans):
            print(f"pbr: warning: {said}", file=sys.stderr)
    for said in chosen.rejections:
        print(said, file=sys.stderr)
    stray = _not_tables(tables)
    for said in stray:
        print(said, file=sys.stderr)
    return 0 if chosen.decision is not None and not chosen.rejections and not stray else 1


def _not_tables(tables: TableInput | None) -> list[str]:
    """Files or sheets that are not tables, as ``pbr evaluate`` reports them.

    One may be a table saved under another name (``payments.csv.txt``) holding this family's
    rows: the working paper would then leave them out, as the evaluation does.
    """
    if tables is None:
        return []
    return [
        rejection.describe()
        for rejection in tables.unplaced()
        if any(error.type == "unknown_table" for error in rejection.errors)
    ]


Found = tuple["int | None", int, "Family | Rejection"]
"""A record of the family: its line (None in council tables), its record number, what it is."""


class _Chosen:
    """The family's record evaluate decides on, and what is said of each of its other records."""

    def __init__(
        self,
        path: str,
        as_of: date,
        pick: Any,
        plans: dict[str, OutcomePlan],
        history: PaymentHistory | None = None,
    ) -> None:
        self.path, self.as_of, self.pick, self.plans = path, as_of, pick, plans
        self.history = history
        self.decision: Decision | None = None
        self.line: int | None = None  # the decided record's
        self.records = 0
        self.rejections: list[str] = []

    def take(self, line: int | None, record: int, item: Family | Rejection) -> None:
        """Decide on `item` if no earlier record was decided on; else say why it is not."""
        from pbr.batch import outside_programme, payments_refused
        from pbr.history import HistoryError, merge_payments
        from pbr.io import Rejection

        self.records += 1
        if isinstance(item, Rejection):  # rejected for its own faults: not the family's record
            self._rejected(item)
        elif self.decision is not None:  # evaluate decides on the first and rejects the rest
            self._rejected(Rejection.repeated_family(source=self.path, line=line, record=record,
                family_id=item.family_id, first_line=self.line,
                local_authority=item.local_authority))  # fmt: skip
        else:
            try:
                rules = self.pick(item)
                plan = self.plans.get(rules.programme)
                family = item
                if self.history is not None:
                    family = merge_payments(item, self.history, rules=rules)
                self.decision = evaluate(family, as_of=self.as_of, rules=rules, plan=plan)
                self.line = line
            except OutsideProgramme as exc:  # not the family's record either: a later one may be
                self._rejected(outside_programme(exc, item, source=self.path, record=record,
                                                 line=line))  # fmt: skip
            except HistoryError as exc:  # its payments and the ledger's disagree, as evaluate says
                self._rejected(payments_refused(exc, item, source=self.path, record=record,
                                                line=line))  # fmt: skip

    def _rejected(self, item: Rejection) -> None:
        self.rejections.append(item.describe())
        if {e.loc for e in item.errors if e.type == "extra_forbidden"} >= _DECISION_KEYS:
            self.rejections.append(
                f"pbr: {printable(self.path)} holds decisions (pbr evaluate's output), not family "
                "records: give pbr explain the records the decisions were made from"
            )


_DECISION_KEYS = frozenset(("format_version", "payable", "results"))
"""Keys of a decision that a family record has not: a record holding them all is a decision."""


def _rows_without_family(path: str, tables: list[str]) -> str:
    """Why ``pbr explain`` finds no family that rows of `tables` name: ``families`` has no row."""
    if not tables:
        return ""
    from pathlib import Path

    from pbr.tables import table_files

    if Path(path).is_dir():
        files = table_files(path)
        named = [files[t].name for t in tables]
        families = files["families"].name
    else:
        named = [f"sheet {t}" for t in tables]
        families = "sheet families"
    where = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    return f": rows in {printable(where)} name it, but {printable(families)} has none"


def _records_of(
    path: str, family_id: str, max_record_bytes: int, read_from: str | None = None
) -> Iterator[Found]:
    r"""The records of `family_id` in a JSON file, as `pbr evaluate` reads them, in order.

    Only a record whose bytes hold the id (or a ``\u`` escape that may spell it) is parsed,
    so the whole file is read for a repeat quickly. Each is numbered (its line and record).
    """
    from pbr.io import parse_family, read_raw

    needle = json.dumps(family_id).encode()  # with its quotes: "F1" is not in "F10"
    for line, record, raw in read_raw(
        read_from or path, max_record_bytes=max_record_bytes, source=path
    ):
        if isinstance(raw, bytes):
            if needle not in raw and b"\\u" not in raw:
                continue
            item = parse_family(
                raw, source=path, line=line, record=record, max_record_bytes=max_record_bytes
            )
        else:
            item = raw
        if item.family_id == family_id:
            yield line, record, item
