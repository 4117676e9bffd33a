"""Family records from the tables councils export: a folder of CSV files or an XLSX workbook.

One table per list of the family record (``families``, ``members``, ``offences``, ...), keyed by
``family_id``, with columns named as the record's fields. Every row is accounted for: a bad row
is reported with its file, row number, column, value and why; a family with any bad row is
rejected whole (never evaluated on part of its evidence); rows whose ``family_id`` has no family
are reported. `Reconciliation` proves it: rows read = rows used + rows reported, per file.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import json
import marshal
import os
import re
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError, create_model
from pydantic_core import ErrorDetails

from pbr._rejection import council_named, json_text, without_family
from pbr.io import FieldError, Rejection
from pbr.records import (
    AsbIncident,
    BenefitSpell,
    EmploymentSpell,
    EntryProblem,
    Family,
    Member,
    Observation,
    Offence,
    Payment,
    SchoolTermRecord,
    WorkProgrammeReferral,
)

__all__ = [
    "TABLES",
    "Reconciliation",
    "RowProblem",
    "TableFamily",
    "TableInput",
    "columns",
    "read_tables",
    "table_files",
    "write_tables",
    "write_templates",
]

TABLES: Mapping[str, type[BaseModel] | None] = {
    "families": None,
    "members": Member,
    "offences": Offence,
    "asb_incidents": AsbIncident,
    "school_terms": SchoolTermRecord,
    "benefit_spells": BenefitSpell,
    "employment_spells": EmploymentSpell,
    "work_programme": WorkProgrammeReferral,
    "payments": Payment,
    "problems_at_entry": EntryProblem,
    "observations": Observation,
}
"""Every table (file or sheet name) and the record part each row becomes."""
_FAMILY_COLUMNS = (
    "family_id",
    "local_authority",
    "programme",
    "attached_on",
    "identified_for",
    "local_discretion",
)
_LISTS = frozenset({"identified_for", "local_discretion"})
"""Family columns holding several values, separated by semicolons."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that was not used: where it is, which column and value, why, and the error type.

    `type` is a rejection's `pbr.io.FieldError.type`: pydantic's (``date_parsing``,
    ``bool_type``, ...) for a cell the record's field refuses, as JSON input reports it, or one of
    the tables' own (``space_at_edge``, ``row_too_short``, ...; see council-tables.md).
    """

    table: str
    row: int
    family_id: str | None
    column: str
    value: str
    message: str
    type: str = "bad_row"

    def describe(self) -> str:
        """One line: ``members.csv:7 family 'F1': date_of_birth = '1980-13-01': ...``."""
        from pbr._terminal import family_named

        who = f" {family_named(self.family_id)}" if self.family_id else ""
        return f"{self.table}:{self.row}{who}: {self.column} = {self.value!r}: {self.message}"


_Problem = tuple[str, str, str, str]
"""A cell's problem, before it is placed in a table's row: column, value, message, type."""


@dataclass(slots=True)
class Reconciliation:
    """Rows read per table = rows used + rows reported; families read = evaluated + rejected."""

    rows_read: dict[str, int] = field(default_factory=dict)
    rows_used: dict[str, int] = field(default_factory=dict)
    rows_reported: dict[str, int] = field(default_factory=dict)
    families_read: int = 0
    families_rejected: int = 0

    def balanced(self) -> bool:
        """Whether every row and every family is accounted for."""
        return all(
            self.rows_read[t] == self.rows_used.get(t, 0) + self.rows_reported.get(t, 0)
            for t in self.rows_read
        )

    def lines(self) -> list[str]:
        """The reconciliation as lines for people."""
        out = [f"  {'table':20} {'read':>8} {'used':>8} {'reported':>9}"]
        for table in self.rows_read:
            out.append(
                f"  {table:20} {self.rows_read[table]:>8} {self.rows_used.get(table, 0):>8} "
                f"{self.rows_reported.get(table, 0):>9}"
            )
        out.append(
            f"  families read {self.families_read} = valid {self.families_read - self.families_rejected}"
            f" + rejected {self.families_rejected}"
        )
        return out


class TableInput:
    """Tables read from a folder or workbook: families (or their rejections) and row problems.

    The rows wait in a temporary SQLite file indexed by ``family_id`` (removed once `families`
    has been read, or when this object goes), so memory stays flat however many families there
    are: each family is assembled from its own rows only.
    """

    def __init__(
        self, source: str, tables: Mapping[str, Iterable[tuple[int, dict[str, str]]]]
    ) -> None:
        self.source = source
        self._given = frozenset(tables)
        self.reconciliation = Reconciliation()
        self._reported: set[tuple[str, int]] = set()  # the rows reported of the family being read
        self._shared_reported: set[tuple[str, int]] = set()  # those of `_RowStore.shared`
        self._unplaced: list[RowProblem] = []
        try:
            self._store = _RowStore(tables)
        except _RowTwice as exc:
            from pbr.io import UnreadableFile

            raise UnreadableFile(
                f"cannot read {source}: the table {exc.table} has row {exc.n} twice (a sheet "
                "can store a row twice): which of the two is the row cannot be known; write the "
                "workbook again with each row once"
            ) from None

    @property
    def problems(self) -> list[RowProblem]:
        """The problems of rows that belong to no family, and of files or sheets that are no table.

        A family's problems are in its rejection only: kept here too, memory grew with every
        family rejected (3.8 KB each). The same rows as `unplaced`, as `RowProblem`s.
        """
        return list(self._unplaced)

    @property
    def family_rows(self) -> int:
        """The rows of the ``families`` table, empty ones too: its families, at most.

        Known before any family is read (``pbr evaluate`` shows its progress against it).
        """
        return self._store.counts.get("families", 0)

    def families(self) -> Iterator[Family | Rejection]:
        """Each family, or its rejection naming every bad row, in the order of ``families``.

        A row of ``families`` with every cell empty is no family: it is reported as a row (see
        `unplaced`) and not counted among the families read.
        """
        yield from self._read(None)

    def named(self, family_id: str) -> Iterator[Family | Rejection]:
        """What `families` gives for the rows of ``families`` with this family_id, the rest unread.

        The family (or its rejection), then a rejection for each later row that gives it again,
        numbered as `families` numbers them, without validating any other family: what
        ``pbr explain FOLDER FAMILY_ID`` shows. The reconciliation then covers the rows read.
        Rows of other tables naming it when ``families`` does not are reported (`orphan_tables`).
        """
        yield from self._read(family_id)

    def _read(self, only: str | None) -> Iterator[Family | Rejection]:
        """`families`, or (`only` given) `named`."""
        rec = self.reconciliation
        store = self._store
        try:
            if only is None:
                self._start()
            else:
                for table, n, family_id, row in store.orphans(only):
                    self._unplaced.append(self._orphan(table, n, family_id, row))
            for n, row, earlier in store.families():
                if _is_empty(row):
                    if only is None:
                        self._unplaced.append(self._report("families", n, None, *_EMPTY_ROW))
                    continue
                family_id = row.get("family_id", "")
                rec.families_read += 1  # also the record number of its rejection
                if only is not None and family_id != only:
                    continue
                if earlier is not None or not family_id:
                    yield self._refused(n, row, earlier)
                    continue
                yield self._family(n, row, store.parts(family_id))
        finally:
            store.close()

    def evaluated(
        self,
        evaluate: Callable[[Iterator[Any]], Iterable[Any]],
        one: Callable[[Family], Any] | None = None,
    ) -> Iterator[Any]:
        """`evaluate`'s answers for the families, each family validated where it is evaluated.

        `evaluate` is a batch (``lambda families: pbr.evaluate_many(families, as_of=...)``, say):
        it is given each row of ``families`` (bar empty ones) as a `TableFamily`, which
        `pbr.evaluate_many` and `pbr.batch.evaluate_many_json` validate and evaluate, in a
        pool's workers as in this process. The answers are those of `families` evaluated the
        same way, in order, with the same problems, rejections and reconciliation: a family
        whose rows have a problem comes back unvalidated and is read here, where each problem
        is reported at its row and column (`one` evaluates it should it prove valid after all;
        by default `evaluate`, given it alone). In a pool, reading the rows is then this
        process's only part: it was four fifths of a tables run when every family was
        validated here.
        """
        if one is None:

            def one(family: Family) -> Any:
                return next(iter(evaluate(iter([family]))))

        self._start()
        waiting: collections.deque[tuple[int, TableFamily | None]] = collections.deque()
        answers = evaluate(self._rows(waiting))
        rec = self.reconciliation
        for answer in answers:
            item = self._next_family(waiting)
            rec.families_read += 1  # also the family's place among the batch's records
            if item.parts is None:  # no family_id, or one given before
                yield self._refused(item.n, item.row, item.earlier)
            elif type(answer) is TableFamily:  # a row has a problem: report each, here
                found = self._family(item.n, item.row, item.part_rows())
                if isinstance(found, Family):  # valid after all (none is known to be)
                    found = one(found)
                    if isinstance(found, Rejection):
                        found = found.model_copy(update={"record": rec.families_read})
                yield found
            elif isinstance(answer, Rejection):  # rejected where evaluated (outside its programme)
                yield self._rejected_when_evaluated(item, answer)
            else:
                self._use("families", 1)
                for tbl, _, _ in item.parts:
                    self._use(item.layout[0][tbl], 1)
                yield answer
        for n, _ in waiting:  # the empty rows after the last family
            self._unplaced.append(self._report("families", n, None, *_EMPTY_ROW))

    def _rejected_when_evaluated(self, item: TableFamily, rejection: Rejection) -> Rejection:
        """A sound family's rejection by its evaluation: counted rejected, its errors at its rows.

        Its rows were read but not used (reported: "its family is rejected"); each error is
        named by table, row and column (``families:3.attached_on``) as the readers' errors are.
        """
        family_id = item.row.get("family_id", "")
        parts = item.part_rows()
        self.reconciliation.families_rejected += 1
        self._reported.clear()  # another family's rows
        for table, rows in parts.items():
            for _, m, _ in rows:
                self._report(table, m, family_id, "(row)", "", *_ITS_FAMILY_REJECTED)
        self._report("families", item.n, family_id, "(row)", "", *_FAMILY_REJECTED)
        errors = tuple(
            e.model_copy(update={"loc": _table_loc(e.loc, parts, item.n)}) for e in rejection.errors
        )
        return rejection.model_copy(update={"errors": errors})

    def _start(self) -> None:
        """What `families` does before its first family: the tables' rows, the orphan rows."""
        rec = self.reconciliation
        store = self._store
        for table in store.names:
            rec.rows_read[table] = store.counts[table]
        for table, n, family_id, row in store.orphans():
            self._unplaced.append(self._orphan(table, n, family_id, row))

    def _rows(
        self, waiting: collections.deque[tuple[int, TableFamily | None]]
    ) -> Iterator[TableFamily]:
        """Each row of ``families`` with its family's rows, as stored; empty rows only noted.

        A pool reads this in a thread of its own: it touches nothing but `waiting` (whose
        appends are atomic), where the thread that counts and reports finds each row in order.
        """
        store = self._store
        layout = store.layout()
        try:
            for n, row, earlier in store.families():
                if _is_empty(row):
                    waiting.append((n, None))
                    continue
                family_id = row.get("family_id", "")
                parts = store.raw_parts(family_id) if earlier is None and family_id else None
                item = TableFamily(n, row, parts, layout, earlier)
                waiting.append((n, item))
                yield item
        finally:
            store.close()

    def _next_family(
        self, waiting: collections.deque[tuple[int, TableFamily | None]]
    ) -> TableFamily:
        """The next family read, once the empty rows before it are reported."""
        while True:
            n, item = waiting.popleft()
            if item is not None:
                return item
            self._unplaced.append(self._report("families", n, None, *_EMPTY_ROW))

    def orphan_tables(self, family_id: str) -> list[str]:
        """The tables (sorted) whose rows name `family_id` though ``families`` has no row for it.

        As reported so far: after `named` found no family, why none was found where rows name it.
        """
        stored = _stored_id(family_id)
        found = (
            p.table
            for p in self._unplaced
            if p.column == "family_id"
            and p.type in ("no_family", "not_utf8")
            and _stored_id(p.family_id or "") == stored
        )
        return sorted(set(found))

    def unplaced(self) -> list[Rejection]:
        """Rows that belong to no family, and files or sheets that are not tables, as rejections.

        Call it after `families` has been read: with the families' rejections these account for
        every row that was not used.
        """
        return [
            Rejection(
                source=self.source,
                line=None,  # the error names the table and its row
                record=0,  # no family's
                family_id=p.family_id,
                errors=(_field_error(p),),
            )
            for p in self._unplaced
        ]

    def _report(
        self,
        table: str,
        n: int,
        family_id: str | None,
        column: str,
        value: str,
        why: str,
        kind: str,
    ) -> RowProblem:
        problem = RowProblem(table, n, family_id, column, value, why, kind)
        # a row counts once, however many problems it has; a row is one family's (but for
        # those `_RowStore.shared` gives two), so only the family's own are kept, not every row
        seen = self._shared_reported if (table, n) in self._store.shared else self._reported
        if (table, n) not in seen:
            seen.add((table, n))
            rec = self.reconciliation
            rec.rows_reported[table] = rec.rows_reported.get(table, 0) + 1
        return problem

    def _orphan(self, table: str, n: int, family_id: str, row: dict[str, str]) -> RowProblem:
        """Report a row whose ``family_id`` is on no row of ``families`` (or a row left empty)."""
        if _is_empty(row):
            return self._report(table, n, None, *_EMPTY_ROW)
        if not row.get("family_id", family_id):  # (kept under the rows above it: `_grouped`)
            why = "family_id is empty: each row needs its family's family_id"
            return self._report(table, n, None, "family_id", "", why, "missing")
        family_id = row.get("family_id", family_id)  # as written (stored, a byte is ``\x96``)
        if _NOT_UTF8.search(family_id):  # R2\x96 for R2: the cause is the file's encoding
            shown, why = _not_utf8(family_id)
            why += "; as read, no row of families has this family_id"
            return self._report(table, n, family_id, "family_id", shown, why, "not_utf8")
        why = "no family with this family_id in families"
        if family_id != family_id.strip():  # never joined to "F1": say why it matched nothing
            why += f"; it {_SPACE_WHY}"
        return self._report(table, n, family_id, "family_id", family_id, why, "no_family")

    def _refused(self, n: int, row: dict[str, str], earlier: int | None) -> Rejection:
        """The rejection of a ``families`` row given no family_id, or one given on row `earlier`."""
        self._reported.clear()  # another family's rows
        family_id = row.get("family_id", "")
        if family_id:
            why = f"family_id {family_id!r} was already given on line {earlier} of families"
            problem = self._report(
                "families", n, family_id, "family_id", family_id, why, "duplicate_family"
            )
        else:
            problem = self._report("families", n, None, "family_id", "", _REQUIRED, "missing")
        self.reconciliation.families_rejected += 1
        return self._rejection(n, family_id or None, [problem], row)

    def _rejection(
        self, n: int, family_id: str | None, problems: list[RowProblem], row: dict[str, str]
    ) -> Rejection:
        # a folder or a book has no one line: each error names its table and row; the record
        # is the family's place in `families` (its first data row is record 1)
        council = row.get("local_authority")
        if any(p.table == "families" and p.column == "local_authority" for p in problems):
            council = None  # the cell is itself at fault: no council to count the family under
        return Rejection(
            source=self.source,
            line=None,
            record=self.reconciliation.families_read,
            family_id=family_id,
            errors=tuple(_field_error(p) for p in problems),
            local_authority=council_named(council),
        )

    def _family(
        self, n: int, row: dict[str, str], parts: dict[str, list[tuple[str, int, dict[str, str]]]]
    ) -> Family | Rejection:
        """The family of a ``families`` row and its other rows, or its rejection.

        Every bad cell is reported in one run: each row's own cells are checked whatever the
        other rows hold. Only when every row is sound is the record validated whole (its checks
        across rows, such as a person missing from members, need them all).
        """
        family = _plainly_valid(row, parts)
        if family is not None:  # the usual family: every row used, nothing to report
            self._use("families", 1)
            for table, rows in parts.items():
                self._use(table, len(rows))
            return family
        self._reported.clear()  # another family's rows
        family_id = row["family_id"]
        record, bad, flagged = self._family_cells(n, row, family_id)
        used: list[tuple[str, int]] = []
        for table, rows in parts.items():
            record[table] = self._part_rows(table, rows, family_id, bad, used)
        if bad:
            bad += self._own_errors(n, row, family_id, flagged)
        else:
            try:
                family = Family.model_validate(record)
            except ValidationError as exc:
                bad += self._record_errors(exc, parts, n, family_id)
            else:
                self._use("families", 1)
                for table, _ in used:
                    self._use(table, 1)
                return family
        self.reconciliation.families_rejected += 1
        # the family's other rows were read but not used: report them too, so rows reconcile
        for table, m in used:
            if (table, m) not in self._reported:
                self._report(table, m, family_id, "(row)", "", *_ITS_FAMILY_REJECTED)
        if ("families", n) not in self._reported:
            self._report("families", n, family_id, "(row)", "", *_FAMILY_REJECTED)
        return self._rejection(n, family_id, bad, row)

    def _family_cells(
        self, n: int, row: dict[str, str], family_id: str
    ) -> tuple[dict[str, Any], list[RowProblem], set[str]]:
        """The family's own columns as record fields, the problems of its cells, and their places.

        A list cell (``crime_asb;education``) is split at its semicolons, each item as written.
        """
        problems, flagged = _cell_problems(row, _FAMILY_COLUMNS)
        bad = [self._report("families", n, family_id, *p) for p in problems]
        record = _family_fields(row)
        for column in sorted(set(row) - set(_FAMILY_COLUMNS) - _MARKERS):
            if row[column] != "" and column not in flagged:
                why = "unknown column"
                bad.append(
                    self._report(
                        "families", n, family_id, column, row[column], why, "extra_forbidden"
                    )
                )
        return record, bad, flagged

    def _part_rows(
        self,
        table: str,
        rows: list[tuple[str, int, dict[str, str]]],
        family_id: str,
        bad: list[RowProblem],
        used: list[tuple[str, int]],
    ) -> list[dict[str, Any]]:
        """A table's rows for one family as record items; problems go to `bad`, rows to `used`."""
        model = TABLES[table]
        assert model is not None
        known = _known_columns(table)
        items = []
        for _, m, values in rows:
            problems, flagged = _cell_problems(values, known)
            given = values.get("family_id", family_id)
            if given != family_id:  # a family's row but for case or spaces, or left blank
                stray = _stray(given, family_id) if given else _blank_id(family_id)
                problems = [stray] + [p for p in problems if p[0] != "family_id"]
                flagged.add("family_id")
            found = [self._report(table, m, family_id, *p) for p in problems]
            try:
                readable = _readable(values) if problems else values
                item = model.model_validate(_typed(table, readable)).model_dump(mode="json")
            except ValidationError as exc:
                found += [
                    self._report(table, m, family_id, *_field_problem(err, values))
                    for err in exc.errors()
                    if not _flagged(err["loc"], flagged)
                ]
            else:
                if not found:
                    items.append(item)
                    used.append((table, m))
            bad += found
        return items

    def _own_errors(
        self, n: int, row: dict[str, str], family_id: str, flagged: set[str]
    ) -> list[RowProblem]:
        """The errors of the ``families`` row's own cells, checked without the family's other rows.

        For a family already rejected for other rows: its record is not validated whole (that
        would find problems caused only by the rows left out, such as an empty members), so its
        own columns are checked apart, and every bad cell is still reported in one run.
        """
        try:
            _family_row_model().model_validate(_family_fields(_readable(row) if flagged else row))
        except ValidationError as exc:
            return [
                self._report("families", n, family_id, *_field_problem(err, row))
                for err in exc.errors()
                if not _flagged(err["loc"], flagged)
            ]
        return []

    def _record_errors(
        self,
        exc: ValidationError,
        parts: dict[str, list[tuple[str, int, dict[str, str]]]],
        n: int,
        family_id: str,
    ) -> list[RowProblem]:
        """Report the whole record's errors, each at the table row and column it came from."""
        bad = []
        for err in exc.errors():
            table, m, column = self._locate(err["loc"], parts, n)
            # a missing cell's "input" is the whole row: the cell itself was blank
            value = "" if err["type"] == "missing" else str(err["input"])
            why, kind = _plain(err)
            if err["loc"] == ("members",) and kind == "missing":  # no row, not a column
                why = (
                    "the family has no rows in members: each member is a row of members "
                    "with the family's family_id"
                    if "members" in self._given
                    else "the family has no members: there is no members table (members.csv, "
                    "or a sheet named members)"
                )
            bad.append(self._report(table, m, family_id, column, value, why, kind))
        return bad

    def _use(self, table: str, k: int) -> None:
        self.reconciliation.rows_used[table] = self.reconciliation.rows_used.get(table, 0) + k

    @staticmethod
    def _locate(
        loc: tuple[int | str, ...], parts: dict[str, list[tuple[str, int, dict[str, str]]]], n: int
    ) -> tuple[str, int, str]:
        """Map a record path (``offences.0.person_id``) back to its table row and column."""
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
            rows = parts.get(loc[0], [])
            if loc[1] < len(rows):
                column = ".".join(str(p) for p in loc[2:]) or "(row)"
                return loc[0], rows[loc[1]][1], column
        return "families", n, ".".join(str(p) for p in loc) or "(row)"


def _table_loc(loc: str, parts: dict[str, list[tuple[str, int, dict[str, str]]]], n: int) -> str:
    """A record path (``attached_on``, ``payments.0.kind``) as the table row and column it is at.

    >>> _table_loc("attached_on", {}, 3), _table_loc("payments", {}, 3)
    ('families:3.attached_on', 'payments')
    """
    path = tuple(int(p) if p.isdigit() else p for p in loc.split("."))
    in_row = len(path) >= 2 and isinstance(path[1], int) and path[0] in parts
    if path[0] not in _FAMILY_COLUMN_SET and not in_row:
        return loc  # a whole list (``payments``): no one row
    table, m, column = TableInput._locate(path, parts, n)
    return f"{table}:{m}.{column}"


class TableFamily(NamedTuple):
    """A row of ``families`` and its family's rows of the other tables, as read, not validated.

    What `TableInput.evaluated` hands its batch: `pbr.evaluate_many` validates it where it
    evaluates it, in a pool's worker too (`family`), and gives it back as it is when a row has
    a problem, for the reader to report.

    >>> layout = (("families", "members"), (("family_id",), ("family_id", "person_id")))
    >>> import marshal
    >>> rows = TableFamily(2, {"family_id": "F1"}, ((1, 2, marshal.dumps(["F1", "A1"])),), layout)
    >>> rows.part_rows()
    {'members': [('members', 2, {'family_id': 'F1', 'person_id': 'A1'})]}
    """

    n: int
    """The row's number in ``families`` (its line, or the sheet's row)."""
    row: dict[str, str]
    """The row's cells by column."""
    parts: tuple[tuple[int, int, bytes], ...] | None
    """Each of the family's other rows as stored: (its table's index in the layout, its row
    number, its cells marshalled), in table and row order; None for a row refused as it is
    (no family_id, or one an earlier row gave)."""
    layout: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]
    """The tables' names and each table's columns (as its first row has them), by index."""
    earlier: int | None = None
    """For a row refused because an earlier row gave its family_id, that row's number (the
    family's first row of ``families``)."""

    def part_rows(self) -> dict[str, list[tuple[str, int, dict[str, str]]]]:
        """The family's other rows, table by table: (table, row number, cells by column)."""
        names, columns = self.layout
        found: dict[str, list[tuple[str, int, dict[str, str]]]] = {}
        for tbl, n, data in self.parts or ():
            table = names[tbl]
            found.setdefault(table, []).append((table, n, _unmarshalled(columns[tbl], data)))
        return found

    def family(self) -> Family | None:
        """The family, validated once as a whole, when none of its rows has a problem; else None.

        `TableInput.families` gives the same family; None leaves it to the reader, which
        reports each problem at its row and column.
        """
        if self.parts is None:
            return None
        return _plainly_valid(self.row, self.part_rows())


def _unmarshalled(columns: Sequence[str], data: bytes) -> dict[str, str]:
    """A row the row store kept, by column: its values under `columns`, or its own dict."""
    values = marshal.loads(data)
    if isinstance(values, dict):
        return values
    return dict(zip(columns, values, strict=False))


def _plainly_valid(
    row: dict[str, str], parts: dict[str, list[tuple[str, int, dict[str, str]]]]
) -> Family | None:
    """The family when none of its rows has a problem, validated once as a whole; else None.

    The same family `TableInput._family` builds (each row validated as its part, written back
    as JSON, then the record validated whole; tests/test_tables_streaming.py holds the two
    equal), in about half the time. None sends the family that way, which reports each
    problem at its row and column.
    """
    if _cell_problems(row, _FAMILY_COLUMNS)[0] or any(
        row[column] != "" for column in row.keys() - _FAMILY_COLUMN_SET - _MARKERS
    ):
        return None
    record: dict[str, Any] = _family_fields(row)
    family_id = row.get("family_id")
    for table, rows in parts.items():
        known = _known_columns(table)
        defaults = _json_defaults(table)
        items = []
        for _, _, values in rows:
            if _cell_problems(values, known)[0] or values.get("family_id") != family_id:
                return None
            # every field given, as the part's JSON gives them: the same fields set
            items.append({**defaults, **_typed(table, values)})
        record[table] = items
    try:
        return Family.model_validate(record)
    except ValidationError:
        return None


_FAMILY_COLUMN_SET = frozenset(_FAMILY_COLUMNS)


@cache
def _json_defaults(table: str) -> dict[str, object]:
    """The fields of `table`'s part that have a default, with it as the part's JSON gives it."""
    from pydantic_core import to_jsonable_python

    model = TABLES[table]
    assert model is not None
    return {
        name: to_jsonable_python(info.get_default(call_default_factory=True))
        for name, info in model.model_fields.items()
        if not info.is_required()
    }


def _field_error(p: RowProblem) -> FieldError:
    """A row problem as a rejection's error, at ``table:line.column`` (a table alone if no row)."""
    loc = f"{p.table}:{p.row}.{p.column}" if p.row else p.table
    if p.type == "missing":  # as from JSON: a missing field has no value
        return FieldError(loc=loc, type=p.type, value=None, message=p.message)
    return FieldError.of(loc=loc, type=p.type, value=p.value, message=p.message)


def _stray(given: str, family_id: str) -> _Problem:
    """The problem of a row whose family_id is the family's but for case, spaces, invisibles.

    >>> _stray("EX-018 ", "EX-018")[2]
    "no family has this family_id, but it is the family 'EX-018' but for a space or tab at its start or end; pbr does not trim or change case: write it as families does. The family is rejected, not evaluated without this row"
    """
    hidden = ", ".join(sorted({f"U+{ord(c):04X}" for c in given + family_id if _invisible(c)}))
    row_id, own_id = _visible(given), _visible(family_id)
    spaced = row_id.strip() != row_id or own_id.strip() != own_id
    cased = row_id.strip() != own_id.strip()
    diff = " and ".join(
        [
            *([f"an invisible character ({hidden})"] if hidden else []),
            *(["a space or tab at its start or end"] if spaced else []),
            *(["letter case"] if cased else []),
        ]
    )
    why = (
        f"no family has this family_id, but it is the family {family_id!r} but for {diff}; pbr "
        "does not trim or change case: write it as families does. The family is rejected, not "
        "evaluated without this row"
    )
    return "family_id", given, why, "no_family"


def _blank_id(family_id: str) -> _Problem:
    """The problem of a row with an empty family_id under a family's rows (`_grouped`).

    >>> _blank_id("F1")[2]
    "family_id is empty, under the rows of the family 'F1' (its family_id written on its first row only, or a blank cell): taken as its row, so the family is rejected, not evaluated without this row; write the family_id on every row"
    """
    why = (
        f"family_id is empty, under the rows of the family {family_id!r} (its family_id written "
        "on its first row only, or a blank cell): taken as its row, so the family is rejected, "
        "not evaluated without this row; write the family_id on every row"
    )
    return "family_id", "", why, "missing"


_SPACE_WHY = "has a space or tab at its start or end; pbr does not trim: remove it"
_REQUIRED = "required, but the cell is empty"
_EMPTY_ROW = ("(row)", "", "the row is empty (every cell blank): delete it", "empty_row")
_FAMILY_REJECTED = ("the family is rejected", "family_rejected")
_ITS_FAMILY_REJECTED = ("its family is rejected", "family_rejected")


@cache
def _every_column() -> frozenset[str]:
    """The columns of every table."""
    return frozenset(c for table in TABLES for c in columns(table))


@cache
def _known_columns(table: str) -> frozenset[str]:
    """The columns of `table`, as a set (once per table)."""
    return frozenset(columns(table))


@cache
def _family_row_model() -> type[BaseModel]:
    """The family record's own fields (a ``families`` row's columns) as a model of their own.

    Checks a ``families`` row apart from the family's other rows, with the record's rules.
    """
    fields: dict[str, Any] = {
        name: (Family.model_fields[name].annotation, Family.model_fields[name])
        for name in _FAMILY_COLUMNS
    }
    return create_model("FamilyRow", __config__=Family.model_config, **fields)


def _family_fields(row: Mapping[str, str]) -> dict[str, Any]:
    """A ``families`` row's cells as record fields: empty cells left out, lists split at ``;``."""
    return {
        column: row[column].split(";") if column in _LISTS else row[column]
        for column in _FAMILY_COLUMNS
        if row.get(column, "") != ""
    }


_TRUTH = {"true": True, "false": False}


@cache
def _cell_kinds(table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns of `table` that hold whole numbers, and those that hold true/false."""
    model = TABLES[table]
    assert model is not None
    kinds: dict[type, list[str]] = {int: [], bool: []}
    for name, info in model.model_fields.items():
        for kind in (int, bool):
            if info.annotation is kind or info.annotation == kind | None:
                kinds[kind].append(name)
    return tuple(kinds[int]), tuple(kinds[bool])


def _typed(table: str, values: dict[str, str]) -> dict[str, object]:
    """A row's cells as the record's JSON values: ``120`` for a count, ``true`` for a flag.

    Only exact text converts (``120``: digits 0-9 only, at most nine, and no leading zero, as
    JSON writes a number: ``0130`` is no count; ``true``/``false`` in any case, as spreadsheets
    write them); anything else stays text, so validation rejects it naming the cell and its value.
    """
    row: dict[str, object] = {column: text for column, text in values.items() if text != ""}
    for column in ("family_id", *_MARKERS):
        row.pop(column, None)
    whole, flags = _cell_kinds(table)
    for column in whole:
        text = row.get(column)
        if type(text) is str and _whole(text):
            row[column] = int(text)
    for column in flags:
        text = row.get(column)
        if type(text) is str:
            truth = _TRUTH.get(text.lower())
            if truth is not None:
                row[column] = truth
    return row


def _whole(text: str) -> bool:
    """Whether a cell's text is a count as JSON writes one: digits, at most nine, no leading zero.

    >>> _whole("130"), _whole("0"), _whole("0130"), _whole("١٢")
    (True, True, False, False)
    """
    return (
        len(text) <= 9 and text.isascii() and text.isdigit() and _LEADING_ZERO.match(text) is None
    )


_LEADING_ZERO = re.compile("0[0-9]")
"""Text starting with a zero followed by a digit: a number with a leading zero (``0130``)."""


def read_tables(path: str | Path) -> TableInput:
    """Read a folder of CSV files (``families.csv``, ``members.csv``, ...) or an XLSX workbook.

    Missing tables are empty (only ``families`` and ``members`` are needed); a file or sheet
    that is not one of `TABLES` is reported, not silently skipped, and so is a file that looks
    like a table saved under another name (`_mistaken`: ``payments.csv.txt``). The rows are
    read once, in one pass per table, into a temporary file: memory does not grow with the
    number of rows.

    Raises:
        ValueError: `path` is neither a folder nor an ``.xlsx`` workbook.
        pbr.io.UnreadableFile: it has no ``families`` table (any folder would read as none), or
            a table cannot be read as it is: its header lacks ``family_id`` or any other of its
            table's columns or names a column twice, two files or sheets are one table's, a sheet stores a cell or row twice.

    """
    given = os.fspath(path)  # as the user named it ("council/"): every rejection's source
    path = Path(path)
    if _is_dir(path):
        found, stray = _read_folder(path)
        kind = "families.csv"
    elif path.suffix.lower() == ".xlsx":
        found, stray = _read_workbook(path)
        kind = "sheet named families"
    else:
        raise ValueError(f"{path}: expected a folder of CSV files or an .xlsx workbook")
    if "families" not in found._given:
        from pbr.io import UnreadableFile

        raise UnreadableFile(
            f"cannot read {path}: no {kind}, so no families (council tables need families and "
            f"members; pbr template FOLDER writes them empty)"
        )
    found.source = given
    for name in stray:
        why = _unknown_why(name, sheet=not path.is_dir())
        problem = RowProblem(name, 0, None, "(table)", name, why, "unknown_table")
        found._unplaced.append(problem)
    return found


Rows = Iterator[tuple[int, dict[str, str]]]


def table_files(folder: str | Path) -> dict[str, Path]:
    """The files of a folder that `read_tables` reads, by table: each CSV file named for one.

    A table's file is its name and ``.csv``, both in any case (``payments.CSV``, as Windows
    exports name them, or ``Payments.csv``): a table never goes unread for its name's case.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_templates(folder)
    >>> (folder / "notes.csv").write_text("x")
    1
    >>> sorted(table_files(folder))[:2], "notes" in table_files(folder)
    (['asb_incidents', 'benefit_spells'], False)

    Raises:
        pbr.io.UnreadableFile: two files for one table (``payments.csv`` and ``Payments.CSV``).

    """
    found: dict[str, Path] = {}
    for file in _csv_files(Path(folder)):
        table = _table_named(file.stem)
        if table is not None:
            if table in found:
                from pbr.io import UnreadableFile

                raise UnreadableFile(
                    f"cannot read {folder}: two files for the table {table}, "
                    f"{found[table].name} and {file.name}: keep one"
                )
            found[table] = file
    return dict(sorted(found.items()))


def _table_named(name: str) -> str | None:
    """The table a file (without ``.csv``) or sheet is named for, in any case; None if none.

    >>> _table_named("Payments"), _table_named("payments"), _table_named("notes")
    ('payments', 'payments', None)
    """
    table = name.lower()
    return table if table in TABLES else None


def _csv_files(folder: Path) -> list[Path]:
    """The folder's entries whose names end ``.csv`` in any case, sorted."""
    return [f for f in _entries(folder) if f.suffix.lower() == ".csv"]


def _entries(folder: Path) -> list[Path]:
    """The folder's entries, sorted; one that cannot be listed (no permission, gone) is said so.

    Raises:
        pbr.io.UnreadableFile: the folder cannot be listed (``cannot read FOLDER: why``).

    """
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        from pbr._unreadable import cannot_read
        from pbr.io import UnreadableFile

        raise UnreadableFile(cannot_read(folder, exc)) from None


def _is_dir(path: Path) -> bool:
    """Whether `path` is a folder; a name the system refuses (too long) is said, not raised raw.

    ``Path.is_dir`` gives False for a missing path, but raises on others (ENAMETOOLONG on
    Python 3.11).

    Raises:
        pbr.io.UnreadableFile: the system cannot look the path up (``cannot read PATH: why``).

    """
    try:
        return path.is_dir()
    except OSError as exc:
        from pbr._unreadable import cannot_read
        from pbr.io import UnreadableFile

        raise UnreadableFile(cannot_read(path, exc)) from None


def _mistaken(entry: Path) -> bool:
    """Whether a folder's entry not ending ``.csv`` looks like a table saved under another name.

    Left unread without a word, its rows were missing (a payment in ``payments.csv.txt`` paid
    again). It is a file, not hidden (``.DS_Store``, a lock file), whose name holds ``.csv``
    (``payments.csv.bak``, ``x.csv ``) or starts with a table's (`_table_like`).
    """
    name = entry.name
    if name.startswith(".") or entry.is_dir() or entry.suffix.lower() == ".csv":
        return False
    return ".csv" in name.casefold() or _table_like(name) is not None


def _table_like(name: str) -> str | None:
    """The table a name starts with, in any case, followed by no letter; None if none.

    >>> _table_like("Payments 2015.xlsx"), _table_like("payments"), _table_like("membership.txt")
    ('payments', 'payments', None)
    """
    folded = name.casefold()
    for table in sorted(TABLES, key=len, reverse=True):
        if folded.startswith(table) and not folded[len(table) : len(table) + 1].isalpha():
            return table
    return None


def _unknown_why(name: str, *, sheet: bool) -> str:
    """Why a file or sheet that is no table is reported: the table it looks like, if any."""
    table = _table_like(name)
    if table is None:
        return "not a known table; ignored"
    named = f"a sheet named {table}" if sheet else f"a file named {table}.csv"
    return (
        f"not a known table, but it looks like the table {table}: only {named} is read, so its "
        "rows are ignored; rename it, or move it away if it is not the table"
    )


def _read_folder(folder: Path) -> tuple[TableInput, list[str]]:
    files = table_files(folder)
    stray = [
        f.name
        for f in _entries(folder)
        if (f.suffix.lower() == ".csv" and _table_named(f.stem) is None) or _mistaken(f)
    ]
    for file in files.values():
        _regular(file)
    tables = {name: _csv_rows(file, name) for name, file in files.items()}
    found = TableInput(str(folder), tables)
    return found, stray


def _regular(file: Path) -> None:
    """Refuse a table file that is not a regular file, without opening it (a FIFO would hang)."""
    import stat

    from pbr.io import UnreadableFile

    try:
        mode = file.stat().st_mode
    except OSError as exc:
        why = "a link to nothing" if file.is_symlink() else (exc.strerror or str(exc))
        raise UnreadableFile(f"cannot read {file}: {why}") from None
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or device)"
        raise UnreadableFile(f"cannot read {file}: it is {what}, not a table file")


BEYOND_HEADER = "(beyond the header)"
"""Where a CSV row's cells past its header's last column are kept, to be reported, not dropped."""


SHORT_OF_HEADER = "(short of the header)"
"""Where a CSV row with fewer cells than its header notes the columns it lacks (comma-separated):
they are reported, never read as empty cells."""
AS_WRITTEN = "(as written)"
"""Where a row notes the problems of cells that cannot be read as values at all (a stray quote
in a CSV line, an Excel error or formula with no saved value), as JSON: a list of [column, value
as shown, why, type]. Each is reported with its row, never read as a value."""
_MARKERS = frozenset({BEYOND_HEADER, SHORT_OF_HEADER, AS_WRITTEN})


def _unnamed(number: int) -> str:
    """The column name of a header cell left empty (a spacer column): ``(column 4)``."""
    return f"(column {number})"


def _letter(number: int) -> str:
    """A column's letters in a spreadsheet: 1 is A, 28 is AB."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_columns(names: Sequence[str | None], where: str) -> list[str]:
    """A header's column names, without spaces around them; an empty one by its place.

    Raises:
        pbr.io.UnreadableFile: a name given twice (also once trimmed): which column holds the
            value cannot be known, so no row is read by this header.

    """
    columns: list[str] = []
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        column = "" if name is None else name.strip()
        if column == "":
            column = _unnamed(number)
        elif column in seen:
            from pbr.io import UnreadableFile

            first = seen[column]
            raise UnreadableFile(
                f"{where}: the header names the column {column!r} twice (columns {first} "
                f"({_letter(first)}) and {number} ({_letter(number)})): which one holds the value "
                "cannot be known, so no row of the table is read; remove or rename one"
            )
        seen[column] = number
        columns.append(column)
    return columns


def _joinable(header: Sequence[str], where: str, *, sheet: bool) -> None:
    """Refuse a table's header that has no ``family_id`` column: no row of it joins a family.

    Every family would otherwise be evaluated without the table (a payment already made paid
    again), each row reported as missing its family_id. The likely cause is named: a separator
    other than a comma, the column under another spelling (``Family ID``), or a title row above
    the header.

    >>> _joinable(["Family ID", "kind"], "payments.csv", sheet=False)
    Traceback (most recent call last):
    ...
    pbr.io.UnreadableFile: payments.csv: the header has no column family_id, so no row of the table can be joined to its family: its columns are 'Family ID', 'kind'; the column 'Family ID' must be named family_id; no row of the table is read

    Raises:
        pbr.io.UnreadableFile: the header has no ``family_id`` column.

    """
    if "family_id" in header:
        return
    from pbr._csv_lines import separator_in, shown_columns
    from pbr.io import UnreadableFile

    separator = separator_in(header)
    spelt = [c for c in header if re.sub("[^a-z0-9]", "", c.lower()) == "familyid"]
    if separator and sheet:
        cause = (
            f"the header's cells seem to hold several columns separated by {separator}: "
            "put each column in a cell of its own"
        )
    elif separator:
        cause = f"the separator seems to be {separator}: it must be a comma"
    elif spelt:
        cause = f"the column {spelt[0]!r} must be named family_id"
    elif not set(header) & _every_column():
        cause = (
            "none of its columns is a table's: the header must be the first row (delete any "
            "title or blank row above it)"
        )
    else:
        cause = "add a family_id column: each row needs its family's family_id"
    raise UnreadableFile(
        f"{where}: the header has no column family_id, so no row of the table can be joined to "
        f"its family: its columns are {shown_columns(header) or 'none'}; {cause}; no row of the "
        "table is read"
    )


def _whole_header(header: Sequence[str], table: str, where: str, *, sheet: bool) -> None:
    """Refuse a table's header unless it has ``family_id`` (`_joinable`) and every other column.

    Raises:
        pbr.io.UnreadableFile: the header lacks ``family_id`` or any other of the table's columns.

    """
    _joinable(header, where, sheet=sheet)
    _complete(header, table, where)


def _complete(header: Sequence[str], table: str, where: str) -> None:
    """Refuse a table's header that lacks any of the table's columns: no row of it is read.

    A column left out was read as a cell left empty on every row, "not recorded": every benefit
    spell with no ``end`` open-ended, every child with no exclusions, and a different sum paid,
    without a word. An empty cell says "not recorded"; a column left out says nothing.

    >>> _complete(["family_id", "person_id", "benefit", "End date"], "benefit_spells", "b.csv")
    Traceback (most recent call last):
    ...
    pbr.io.UnreadableFile: b.csv: the header of benefit_spells has no columns start, end: every column of the table must be in its header (an empty cell, not a column left out, says a value is not recorded), so no row of the table is read; its columns are 'family_id', 'person_id', 'benefit', 'End date'; the column 'End date' must be named end

    Raises:
        pbr.io.UnreadableFile: a column of the table is not in the header.

    """
    missing = [c for c in columns(table) if c not in header]
    if not missing:
        return
    from pbr._csv_lines import separator_in, shown_columns
    from pbr.io import UnreadableFile

    def plain(name: str) -> str:
        return re.sub("[^a-z0-9]", "", name.lower())

    others = [c for c in header if c not in _known_columns(table)]
    spelt = [
        f"the column {c!r} must be named {m}"
        for m in missing
        for c in others
        if plain(c) == plain(m) or plain(c).startswith(plain(m))
    ]
    separator = separator_in(header)
    if spelt:
        cause = "; ".join(spelt)
    elif separator:
        cause = f"the separator seems to be {separator}: it must be a comma"
    else:
        cause = (
            "add each column, with an empty cell on each row where nothing is recorded "
            "(pbr template FOLDER writes every table's header)"
        )
    raise UnreadableFile(
        f"{where}: the header of {table} has no column{'s' * (len(missing) > 1)} "
        f"{', '.join(missing)}: every column of "
        "the table must be in its header (an empty cell, not a column left out, says a value is "
        "not recorded), so no row of the table is read; its columns are "
        f"{shown_columns(header) or 'none'}; {cause}"
    )


_UNNAMED_WHY = (
    "has no name in the header: a value under it cannot be read as any column; name the "
    "column, or delete the value"
)


def _csv_rows(file: Path, table: str | None = None) -> Rows:
    """A CSV file's rows, numbered by line (the header is line 1), each cell exactly as written.

    One line is one row: no table value holds a line break, so a quote is closed on its line or
    is a problem of that row (`pbr._csv_lines.split`), and the next line is a row of its own. A
    line ends at CR, LF or CRLF; a line with nothing on it is no row. Cells are never trimmed:
    a space at a cell's edge is reported (`_cell_problems`). Column names in the header are
    taken without spaces around them (`_header_columns`). Read as `table`, the header must
    name every column of that table (`_whole_header`).

    Raises:
        pbr.io.UnreadableFile: the file cannot be opened or read (no permission, gone while the
            run went on), is compressed or UTF-16, or no row can be read by its header (a stray
            quote in it, a column named twice).

    """
    from pbr._unreadable import cannot_read
    from pbr.io import UnreadableFile

    try:
        yield from _csv_file_rows(file, table)
    except UnreadableFile:
        raise
    except OSError as exc:
        raise UnreadableFile(cannot_read(file, exc)) from None


def _csv_file_rows(file: Path, table: str | None) -> Rows:
    """`_csv_rows`, but a file that cannot be opened or read raises Python's own `OSError`."""
    from pbr._csv_lines import UNCLOSED, closing_quote, joined, split, unended
    from pbr._unreadable import not_compressed
    from pbr.io import UnreadableFile

    with open(file, "rb") as raw:
        head = raw.read(4096)
    first = head.split(b"\n", 1)[0]
    compressed = not_compressed(str(file), head)
    if compressed is not None:  # its NUL bytes are not UTF-16
        raise UnreadableFile(compressed)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first:
        raise UnreadableFile(
            f"cannot read {file}: it is not UTF-8 but looks like UTF-16 (a byte-order mark or "
            'NUL bytes; Excel\'s "Unicode text"): save it as CSV UTF-8'
        )
    # a byte that is not UTF-8 is kept (as a surrogate) and reported with its row (`_cell_problems`)
    with open(file, newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        header = next(handle, None)
        if header is None:
            return
        names, quoting = split(unended(header))
        if quoting is not None:
            raise UnreadableFile(
                f'{file}: column {quoting[0]} of the header has a stray or unclosed quote ("): '
                "no row can be read by this header"
            )
        columns = _header_columns(names, str(file))
        # an empty header line is checked only if a row is under it (a file of one blank line
        # is a table with no rows, as an empty file is)
        unchecked = table is not None and not any(name.strip() for name in names)
        if table is not None and not unchecked:
            _whole_header(columns, table, str(file), sheet=False)
        width = len(columns)
        pending: tuple[int, dict[str, str], list[str]] | None = None  # an unclosed quote's row
        number = 1
        for number, line in enumerate(handle, start=2):
            if pending is not None and closing_quote(line, -1) >= 0:
                # where a CSV reader would have closed the quote: the row can now say so
                yield _unclosed_row(pending, number, True, joined)
                pending = None
            content = unended(line)
            if not content:  # a line with nothing on it: no row
                continue
            if unchecked and table is not None:
                _whole_header(columns, table, str(file), sheet=False)
            if '"' not in content and "'" not in content:  # the usual row
                cells = content.split(",")
                if len(cells) == width:
                    yield number, dict(zip(columns, cells, strict=True))
                else:
                    yield number, _line_cells(columns, cells)
                continue
            values, problem = split(content)
            if "'" in content:
                values = [_restored(v) for v in values]
            row = _line_cells(columns, values)
            if problem is None:
                yield number, row
                continue
            at, value, why = problem
            column = _column_at(columns, at)
            entry = [column, row.get(column, value), why, "stray_quote"]  # the cell as written
            if why == UNCLOSED:
                pending = (number, row, entry)
                continue
            row[AS_WRITTEN] = json.dumps([entry])
            yield number, row
        if pending is not None:
            yield _unclosed_row(pending, number, False, joined)


def _column_at(columns: Sequence[str], number: int) -> str:
    """The column at a place of a row (from 1), or `BEYOND_HEADER` past the header's end."""
    return columns[number - 1] if number <= len(columns) else BEYOND_HEADER


def _unclosed_row(
    pending: tuple[int, dict[str, str], list[str]],
    last: int,
    closed: bool,
    joined: Callable[[int, int, bool, str], str],
) -> tuple[int, dict[str, str]]:
    """A row whose quote is not closed on its line, with why, once that is known.

    That is once the line a CSV reader would close the quote on is read (`closed`), or the
    file's `last` line.
    """
    number, row, entry = pending
    entry[2] = joined(number, last, closed, "table value")
    row[AS_WRITTEN] = json.dumps([entry])
    return number, row


def _line_cells(columns: list[str], cells: list[str]) -> dict[str, str]:
    """A CSV row's cells by column; cells past the header, or columns past the row, are noted.

    Empty cells past the header hold no value (a spreadsheet's trailing commas): nothing is
    noted for them, as a workbook's empty cells past its header are not.
    """
    row = dict(zip(columns, cells, strict=False))
    if len(cells) > len(columns):
        beyond = cells[len(columns) :]
        if any(beyond):
            row[BEYOND_HEADER] = ",".join(beyond)
    elif len(cells) < len(columns):
        row[SHORT_OF_HEADER] = ",".join(columns[len(cells) :])
    return row


def _restored(text: str) -> str:
    """A text cell as written before `pbr.output.neutralise` (what `write_tables` writes).

    A leading apostrophe is a spreadsheet's "this is text" mark: it is taken off where
    `neutralise` would have put it (before a formula character or another apostrophe), so
    ``'-F1`` is ``-F1`` and ``''Quoted`` is ``'Quoted``; any other text is as written
    (``'-12.50`` and ``'Leeds`` keep it).

    >>> _restored("'=cmd"), _restored("''Q"), _restored("'-12.50"), _restored("'Leeds")
    ('=cmd', "'Q", "'-12.50", "'Leeds")
    """
    if text[:1] != "'":
        return text
    from pbr.output import neutralise

    return text[1:] if neutralise(text[1:]) == text else text


_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _is_empty(row: Mapping[str, str]) -> bool:
    """Whether every cell of a row is empty (a line of commas): no row of any family."""
    return all(value == "" for column, value in row.items() if column != SHORT_OF_HEADER)


def _cell_problems(
    values: Mapping[str, str], known: Collection[str]
) -> tuple[list[_Problem], set[str]]:
    """The problems of a row's cells as written, before any field reads them, and their places.

    Bytes that are not UTF-8; cells past the header or columns past the row's end; a space at a
    cell's edge (pbr never trims) or at an item's of a ``;`` list, and an empty item. The places
    are columns (``column.i`` for a list's item): their validation errors would only repeat these.
    """
    if _PLAIN.fullmatch("".join([*values, *values.values()])):  # the usual row, checked at once
        return [], set()
    problems: list[_Problem] = []
    written: list[_Problem] = []
    if values.get(AS_WRITTEN):
        written = [(c, v, why, kind) for c, v, why, kind in json.loads(values[AS_WRITTEN])]
        problems += written
    for column, value in values.items():
        if column in _MARKERS or (written and any(p[0] == column for p in written)):
            continue
        if column.startswith("(column ") and column not in known:
            if value != "":
                why = f"{column[1:-1]} ({_letter(int(column[8:-1]))}) {_UNNAMED_WHY}"
                problems.append((column, value, why, "unnamed_column"))
        elif _NOT_UTF8.search(value) or _NOT_UTF8.search(column):
            problems.append((column, *_not_utf8(value or column), "not_utf8"))
        elif column in _LISTS and column in known:
            problems += _item_problems(column, value)
        elif column in known and value != value.strip():
            problems.append((column, value, _SPACE_WHY, "space_at_edge"))
    if values.get(BEYOND_HEADER):
        why = "more cells than the header has columns"
        problems.append((BEYOND_HEADER, values[BEYOND_HEADER], why, "row_too_long"))
    lacking = values[SHORT_OF_HEADER].split(",") if values.get(SHORT_OF_HEADER) else []
    if lacking and not any(p[3] == "stray_quote" for p in written):  # the quote ended it
        why = (
            f"fewer cells than the header has columns: the row ends before this column "
            f"({len(lacking)} missing); pbr does not fill them in: add them (empty for not "
            f"recorded)"
        )
        problems.append((lacking[0], "", why, "row_too_short"))
    return problems, {p[0] for p in problems} | set(lacking)


_PLAIN = re.compile("[^\\s;()\udc80-\udcff]*")
"""Text with no blank, no semicolon, no bracket (each marker column has one), and only UTF-8:
a row that is all such text has none of `_cell_problems`."""


def _item_problems(column: str, value: str) -> list[_Problem]:
    """The items of a ``;`` list cell that are empty or have a space at an edge."""
    if value == "":
        return []  # the whole cell empty: not recorded
    problems: list[_Problem] = []
    for i, item in enumerate(value.split(";")):
        if item == "":
            why = "an empty item (two semicolons together, or one at an end): remove it"
            problems.append((f"{column}.{i}", item, why, "empty_item"))
        elif item != item.strip():
            problems.append((f"{column}.{i}", item, _SPACE_WHY, "space_at_edge"))
    return problems


def _readable(values: Mapping[str, str]) -> dict[str, str]:
    """A row's cells, each byte that is not UTF-8 shown as U+FFFD, for validation to read.

    Such a cell is reported as written (`_cell_problems`); pydantic cannot hold the text (its
    errors raised UnicodeEncodeError), and its errors at that cell are left out anyway.
    """
    return {_shown(column): _shown(value) for column, value in values.items()}


def _shown(text: str) -> str:
    """`text` with each byte that is not UTF-8 (kept as a surrogate) as U+FFFD."""
    if _NOT_UTF8.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _not_utf8(text: str) -> tuple[str, str]:
    r"""A cell with bytes that are not UTF-8: the cell as shown (each such byte as U+FFFD) and why.

    The bytes are named, as the JSON reader names them, not written as escapes inside the value.

    >>> _not_utf8("Bromley \udc96 \udca3")
    ('Bromley \ufffd \ufffd', 'bytes 96 a3 are not UTF-8 (Windows-1252, perhaps): save the file as UTF-8')
    """
    from pbr._unreadable import not_utf8

    bad = bytes(ord(c) - 0xDC00 for c in text if "\udc80" <= c <= "\udcff")
    return _shown(text), not_utf8(bad)


def _flagged(loc: tuple[int | str, ...], flagged: Collection[str]) -> bool:
    """Whether a validation error is at a cell (or list item) already reported as written."""
    return bool(loc) and (str(loc[0]) in flagged or ".".join(str(p) for p in loc[:2]) in flagged)


def _field_problem(err: ErrorDetails, values: Mapping[str, str]) -> _Problem:
    """A row's validation error as a cell's problem: its column, its text, why, and its type."""
    loc = err["loc"]
    column = ".".join(str(p) for p in loc) or "(row)"
    given = err.get("input")
    if err["type"] == "missing":
        value = ""
    elif isinstance(given, str):
        value = given
    else:
        value = values.get(str(loc[0]), "") if loc else ""
    return (column, value, *_plain(err))


_DATES = "write dates as YYYY-MM-DD, e.g. 2015-03-31"
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PATTERNS = {
    "^[A-Za-z0-9._-]{1,64}$": "use 1 to 64 of the characters A-Z, a-z, 0-9, '.', '_' and '-' "
    "(no spaces)",
    "^[a-z][a-z0-9_]{0,63}$": "use lower-case letters, digits and '_', starting with a letter "
    "(at most 64)",
    "^[0-9]{4}/[0-9]{2}$": "write the academic year as YYYY/YY, e.g. 2012/13",
}
"""Plain words for the record's text patterns, by pattern."""


def _plain(err: ErrorDetails) -> tuple[str, str]:
    """A validation error's message for a council data officer, and its type.

    The type is pydantic's, as JSON input reports the same mistake (text that is no date is
    ``date_parsing``, as from JSON, where Python input says ``date_type``); the message says
    how to write the cell rather than showing a pattern.
    """
    kind = err["type"]
    message = without_family(err["msg"]).removeprefix("Value error, ")
    given = err.get("input")
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        if isinstance(given, str) and _DATE_SHAPE.fullmatch(given):
            return message, kind  # the right shape, but no such day: pydantic says which part
        return _DATES, "date_parsing" if isinstance(given, str) else kind
    if kind in ("bool_type", "bool_parsing"):
        return "write true or false", kind
    if kind in ("int_type", "int_parsing"):
        if isinstance(given, str) and given.isascii() and given.isdigit() and given[:1] == "0":
            return _leading_zero(given), kind
        return "write a whole number, e.g. 120", kind
    if kind == "string_pattern_mismatch":
        return next((v for k, v in _PATTERNS.items() if k in message), message), kind
    if kind == "missing":
        return _REQUIRED, kind
    if kind == "extra_forbidden":
        return "unknown column", kind
    return message, kind


def _leading_zero(text: str) -> str:
    """Why a count written with leading zeros (``0130``) is refused: JSON cannot write it either.

    >>> _leading_zero("0130")
    'a whole number with a leading zero: write the number without leading zeros, e.g. 130'
    """
    example = text.lstrip("0") or "0"
    return (
        "a whole number with a leading zero: write the number without leading zeros, "
        f"e.g. {example}"
    )


def _read_workbook(path: Path) -> tuple[TableInput, list[str]]:
    """The tables of a workbook, one a sheet.

    Raises:
        pbr.io.UnreadableFile: it is not a regular file, or not a workbook openpyxl can read
            (not a zip, empty, or its parts malformed), or a sheet's header names a column twice.
        pbr.errors.MissingExtra: openpyxl is not installed (the ``xlsx`` extra).

    """
    try:
        from openpyxl import load_workbook
    except ImportError as exc:
        from pbr.errors import MissingExtra

        raise MissingExtra('reading XLSX needs openpyxl: pip install "pbr-claims[xlsx]"') from exc
    import zipfile
    from xml.parsers.expat import ExpatError

    from pbr.io import UnreadableFile

    _regular(path)
    try:
        with warnings.catch_warnings():
            # "Workbook contains no default style, apply openpyxl's default", "... no
            # stylesheet": about how cells look, which changes no value
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            book = load_workbook(path, read_only=True, data_only=True)
            try:
                stray: list[str] = []
                sheets: dict[str, Any] = {}
                for sheet in book.worksheets:
                    table = _table_named(sheet.title)
                    if table is None:
                        stray.append(sheet.title)
                    elif table in sheets:
                        raise UnreadableFile(
                            f"cannot read {path}: two sheets for the table {table}, "
                            f"{sheets[table].title} and {sheet.title}: keep one"
                        )
                    else:
                        sheets[table] = sheet
                tables = {
                    table: _sheet_rows(sheet, f"{path}: sheet {sheet.title}", whole_header=True)
                    for table, sheet in sheets.items()
                }
                found = TableInput(str(path), tables)
            finally:
                book.close()
    except UnreadableFile:
        raise
    except OSError as exc:
        if exc.errno is None:  # not the system's: a zip member cut short, say
            raise UnreadableFile(
                f"cannot read {path}: its parts cannot be read ({type(exc).__name__}: {exc})"[:300]
            ) from None
        from pbr._unreadable import cannot_read

        raise UnreadableFile(cannot_read(path, exc)) from None
    except (zipfile.BadZipFile, ExpatError, KeyError, TypeError, ValueError) as exc:
        why = (
            "it is not an XLSX workbook (not a zip file)"
            if isinstance(exc, zipfile.BadZipFile)
            else f"its parts cannot be read ({type(exc).__name__}: {exc})"
        )
        raise UnreadableFile(f"cannot read {path}: {why}"[:300]) from None
    return found, stray


_NO_SAVED_VALUE = (
    "a formula with no saved value: open and save the workbook in Excel (or write the value)"
)
_Mark = tuple[str, str, str]
"""A workbook cell that cannot be read as a value: the value as shown, why, and the type."""
_NO_VALUE_MARK: _Mark = ("", _NO_SAVED_VALUE, "formula_no_value")


def _error_mark(error: object) -> _Mark:
    """An Excel error cell (``#N/A``), or one with no error stored, as a cell's problem."""
    if error is None or error == "":
        return "", "an Excel error cell where a value should be", "excel_error"
    return str(error), f"an Excel error ({error}) where a value should be", "excel_error"


def _date_mark(serial: object) -> _Mark:
    """A date-formatted number no date can be (``99999999``), as a cell's problem."""
    why = (
        "a number formatted as a date, but outside the dates Excel can show (it shows ####): "
        "write the date as YYYY-MM-DD"
    )
    return _cell(serial), why, "date_out_of_range"


def _percent_mark(number: float, code: str) -> _Mark:
    """A number formatted as a percentage, as a cell's problem: Excel shows it times 100.

    >>> _percent_mark(0.5, "0%")
    ('50%', 'formatted as a percentage (50%, stored 0.5): write the number itself, in a cell not formatted as a percentage', 'percent_format')
    """
    stored = _cell(number)
    shown = f"{_times_100(stored, _percent_places(code))}%"
    why = (
        f"formatted as a percentage ({shown}, stored {stored}): write the number itself, in a "
        "cell not formatted as a percentage"
    )
    return shown, why, "percent_format"


def _times_100(stored: str, places: int) -> str:
    """A number's text times 100, to `places` decimal places, rounded half up as Excel shows it.

    >>> _times_100("0.945", 0), _times_100("1", 2)
    ('95', '100.00')
    """
    from decimal import ROUND_HALF_UP, Decimal

    exponent = Decimal(1).scaleb(-places)
    return str((Decimal(stored) * 100).quantize(exponent, rounding=ROUND_HALF_UP))


_FORMAT_TEXT = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|[_*].')
"""The parts of a number format that are text Excel writes, not placeholders: ``"..."``,
``[Red]``, ``\\%``, and ``_x``, ``*x`` (space for, or fill with, a character)."""


def _is_percent(code: str | None) -> bool:
    r"""Whether a number format shows a number times 100 with ``%`` (``0%``, ``0.00%``).

    A ``%`` in quotes or brackets, or escaped, is text Excel writes: it does not scale.

    >>> _is_percent("0.00%"), _is_percent('0" %"'), _is_percent("0\\%"), _is_percent(None)
    (True, False, False, False)
    """
    return code is not None and "%" in _FORMAT_TEXT.sub("", code)


def _percent_places(code: str) -> int:
    """The decimal places a percentage format shows: the placeholders after its point.

    >>> _percent_places("0%"), _percent_places("0.00%"), _percent_places('0.0%" done"')
    (0, 2, 1)
    """
    section = next(s for s in _FORMAT_TEXT.sub("", code).split(";") if "%" in s)
    _, point, decimals = section.partition(".")
    return sum(decimals.count(c) for c in "0#?") if point else 0


def _percent_styles(book: Any) -> dict[int, str]:
    """A read-only workbook's cell styles that format a number as a percentage, with their codes.

    As openpyxl indexes date styles (``book._date_formats``), from its styles' number formats:
    a built-in one by its id (9 is ``0%``, 10 ``0.00%``), a workbook's own from 164 up.
    """
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

    own = list(book._number_formats)
    found: dict[int, str] = {}
    for index, style in enumerate(book._cell_styles):
        number = style.numFmtId - BUILTIN_FORMATS_MAX_SIZE
        code: str | None = BUILTIN_FORMATS.get(style.numFmtId) if number < 0 else _nth(own, number)
        if code is not None and index not in book._date_formats and _is_percent(code):
            found[index] = code
    return found


def _nth(items: Sequence[str], index: int) -> str | None:
    """The item at `index`, or None past the end (a style naming a format the book lacks)."""
    return items[index] if index < len(items) else None


def _sheet_rows(sheet: Any, where: str = "", *, whole_header: bool = False) -> Rows:
    """A sheet's rows, numbered as the sheet numbers them, each cell's text as `_cell` gives it.

    The header keeps every column's place: an empty header cell is a column with no name
    (`_unnamed`), as in a CSV file. A formula cell with no saved value and an Excel error
    (``#N/A``) are noted as problems of their cells (`AS_WRITTEN`), never read as values.
    With `whole_header`, the header must name every column of the sheet's table (`_whole_header`).
    """
    marks: dict[tuple[int, int], _Mark] = {}
    rows = _fast_values(sheet, marks, where) or _parsed_values(sheet, marks, where)
    try:
        yield from _sheet_rows_of(rows, sheet, marks, whole_header, where)
    finally:  # the sheet's file closed now, even when a header is refused, not when collected
        closing = getattr(rows, "close", None)
        if closing is not None:
            closing()


def _sheet_rows_of(
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    sheet: Any,
    marks: dict[tuple[int, int], _Mark],
    whole_header: bool,
    where: str,
) -> Rows:
    """`_sheet_rows`, given the sheet's rows of values."""
    from pbr.io import UnreadableFile

    number, first = next(rows, (1, ()))
    while number != 1 and _no_value(first) and not any(row == number for row, _ in marks):
        number, first = next(rows, (1, ()))  # a row stored with no value (its format only)
    if number != 1:  # row 1 left out (a blank row above the header), or stored later
        raise UnreadableFile(
            f"{where or sheet.title}: the first row stored is row {number}: the header must be "
            "row 1, stored first (delete any blank row above it)"
        )
    names = [None if h is None else str(h) for h in first]
    while names and (names[-1] is None or not names[-1].strip()):
        names.pop()  # empty header cells past the last name: no columns
    header = _header_columns(names, where or str(sheet.title))
    if whole_header and header:  # (an empty one, only if a row is under it: an empty sheet
        # is a table with no rows)
        _whole_header(header, sheet.title.lower(), where or str(sheet.title), sheet=True)
    merged = _Merged(_merged_ranges(sheet), len(header))
    merged.saw(1, dict(zip(header, ["" if h is None else h for h in names], strict=False)), header)
    for n, values in rows:
        if n > _LAST_ROW:
            raise ValueError(f"a row is numbered {n}, past the last row a sheet can have")
        if n <= 1:
            why = (
                "the header (row 1) is stored again, or after rows under it"
                if n == 1
                else f"a row is numbered {n}, but rows are numbered from 1"
            )
            raise UnreadableFile(
                f"{where or sheet.title}: {why}: the sheet cannot be read as stored; write the "
                "workbook again with each row once"
            )
        if not _no_value(values):
            if not header and whole_header:
                _whole_header(header, sheet.title.lower(), where or str(sheet.title), sheet=True)
            cells = {
                k: v if type(v) is str else _cell(v)  # text: as it is (`_cell` would give it)
                for k, v in zip(header, values, strict=False)
            }
            for k, v in cells.items():
                if v[:1] == "'":
                    cells[k] = _restored(v)
            if merged:
                merged.saw(n, cells, header)
                _merged_cells(cells, n, header, merged, marks)
            extra = [_cell(v) for v in values[len(header) :] if v not in (None, "")]
            if extra:  # reported with its row, never dropped (`_cell_problems`)
                cells[BEYOND_HEADER] = ",".join(extra)
            if marks:
                _mark(cells, n, header, values, marks)
            yield n, cells
        elif marks:
            _mark(cells := {}, n, header, values, marks)
            if cells:
                yield n, cells


_MERGE_CELLS = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCells[\s>/]")
_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([A-Za-z]+[0-9]+:[A-Za-z]+[0-9]+)"
)


def _merged_ranges(sheet: Any) -> list[tuple[int, int, int, int]]:
    """A sheet's merged ranges (its ``<mergeCells>``): min column, min row, max column, max row.

    They are stored after the rows, so the sheet's XML is read again, a block at a time, and
    only what follows ``<mergeCells`` is kept (a few bytes a range).
    """
    from openpyxl.utils.cell import range_boundaries

    found: list[bytes] = []
    kept = b""
    with sheet._get_source() as source:
        while block := source.read(1 << 20):
            if found:
                found.append(block)
                continue
            kept = kept[-64:] + block
            if b"mergeCells" not in kept:  # (a search for the word alone: a fiftieth of a read)
                continue
            start = _MERGE_CELLS.search(kept)
            if start is not None:
                found.append(kept[start.start() :])
    ranges = []
    for ref in _MERGE_CELL.findall(b"".join(found)):
        try:
            ranges.append(range_boundaries(ref.decode("ascii")))
        except ValueError:
            continue  # not a range Excel could store: no cell is taken from it
    return [(a, b, c, d) for a, b, c, d in ranges if None not in (a, b, c, d)]


class _Merged:
    """A sheet's merged ranges: what Excel shows in each cell a range covers, from its top-left.

    Excel shows a range's top-left value in every cell it covers; the others are stored empty.
    Ranges never overlap, so each column's are kept sorted by their top row, found by bisection.
    """

    def __init__(self, ranges: Sequence[tuple[int, int, int, int]], width: int) -> None:
        spans: dict[int, list[tuple[int, int, int]]] = {}
        self._origins: dict[int, list[int]] = {}  # a top row: the columns of its ranges' top-left
        for left, top, right, bottom in ranges:
            if (left, top) == (right, bottom):
                continue  # a range of one cell covers no other
            self._origins.setdefault(top, []).append(left)
            for column in range(left, min(right, width) + 1):
                spans.setdefault(column, []).append((top, bottom, left))
        self._spans = {column: sorted(found) for column, found in spans.items()}
        self._tops = {column: [top for top, _, _ in found] for column, found in self._spans.items()}
        self._values: dict[tuple[int, int], str] = {}  # a range's top-left (row, column): its text

    def __bool__(self) -> bool:
        """Whether any range covers a cell of the header's columns (most sheets: none)."""
        return bool(self._spans)

    @property
    def columns(self) -> list[int]:
        """The columns (from 1) that a range covers, in order."""
        return sorted(self._spans)

    def saw(self, n: int, cells: Mapping[str, str], header: Sequence[str]) -> None:
        """Note row `n`'s cells that are a range's top-left: their text is shown under them."""
        for left in self._origins.get(n, ()):
            if left <= len(header):
                self._values[n, left] = cells.get(header[left - 1], "")

    def shown(self, n: int, column: int) -> tuple[str, str] | None:
        """What Excel shows in a covered cell, not a top-left, and the top-left's reference.

        None when no range covers it, or the range's top-left is empty (Excel shows nothing).
        """
        import bisect

        tops = self._tops.get(column)
        i = bisect.bisect_right(tops, n) - 1 if tops else -1
        if i < 0:
            return None
        top, bottom, left = self._spans[column][i]
        value = self._values.get((top, left), "")
        if n > bottom or (n, column) == (top, left) or not value:
            return None
        return value, f"{_letter(left)}{top}"


def _merged_cells(
    cells: dict[str, str],
    n: int,
    header: Sequence[str],
    merged: _Merged,
    marks: dict[tuple[int, int], _Mark],
) -> None:
    """Read a row's empty cells that a merged range covers, as Excel shows them.

    A ``family_id`` is read as shown (a family's rows grouped under one cell); any other is
    reported (`_merged_mark`): money, dates and counts are never guessed from another row.
    """
    for column in merged.columns:
        if column > len(header) or cells.get(header[column - 1], "") != "":
            continue
        found = merged.shown(n, column)
        if found is None:
            continue
        if header[column - 1] == "family_id":
            cells["family_id"] = found[0]
        else:
            marks.setdefault((n, column), _merged_mark(*found))


def _merged_mark(value: str, origin: str) -> _Mark:
    """An empty cell under a merged range's value, as a cell's problem.

    >>> _merged_mark("2013-06-01", "D2")[1]
    "a merged cell: Excel shows '2013-06-01' here, from D2 at the top of the merged range, but the cell itself is empty: unmerge the cells and write the value on each row"
    """
    why = (
        f"a merged cell: Excel shows {value!r} here, from {origin} at the top of the merged "
        "range, but the cell itself is empty: unmerge the cells and write the value on each row"
    )
    return value, why, "merged_cell"


def _no_value(values: Iterable[Any]) -> bool:
    """Whether a sheet's row holds no value (every cell empty, or none stored)."""
    return all(v in (None, "") for v in values)


def _mark(
    cells: dict[str, str],
    n: int,
    header: Sequence[str],
    values: Sequence[Any],
    marks: dict[tuple[int, int], _Mark],
) -> None:
    """Note the row's cells that cannot be read as values (`_Mark`), each with its column."""
    found = []
    for column in range(1, max(len(values), len(header)) + 1):
        mark = marks.pop((n, column), None)
        if mark is not None:
            found.append([_column_at(header, column), *mark])
    if found:
        cells[AS_WRITTEN] = json.dumps(found)


def _fast_values(
    sheet: Any, marks: dict[tuple[int, int], _Mark] | None = None, where: str = ""
) -> Iterator[tuple[int, tuple[Any, ...]]] | None:
    """A read-only sheet's rows of values, each with its number, as the sheet stores them.

    The values are those of ``iter_rows(values_only=True)``, each cell placed by its column
    whatever the order it is stored in; a row is given by its own number, whatever the order
    of the rows (openpyxl takes a row's width from its last-stored cell and skips a row stored
    after a higher one: a value lost without a word). Rows the sheet leaves out are not given.
    A cell stored twice stops the read (`pbr.io.UnreadableFile`, naming `where` and the cell);
    a row stored twice is found where the rows are kept (`_RowStore`).

    openpyxl builds an element tree for every cell and reads an inline string (what write-only
    workbooks, `write_tables` included, hold) through a general rich-text model; this reads the
    sheet's XML with expat (`_SheetCells`), cell by cell, with openpyxl's own rules for each kind
    of cell (shared and inline strings, numbers, dates by their style, booleans), in 60% of the
    time (the parser's calls into Python are most of what is left). It also reads the sheet
    once, where openpyxl reads a sheet without a stored size twice (once to size it; a row is as
    wide as its last cell, which changes no value). If openpyxl's internals are not as expected
    it returns None, and openpyxl's own parser is used (`_parsed_values`).

    `marks` is given each cell (row, column) that holds an Excel error (its text, ``#N/A``) or
    a formula with no saved value (``""``), as the sheet is read: openpyxl reads the one as
    text and the other as an empty cell.
    """
    try:
        from openpyxl.utils.cell import coordinate_to_tuple
        from openpyxl.utils.datetime import from_excel, from_ISO8601
        from openpyxl.xml.constants import SHEET_MAIN_NS

        book = sheet.parent
        if not book.data_only:  # formulas wanted: only openpyxl reads them
            return None
        source = sheet._get_source()
        cells = _SheetCells(
            SHEET_MAIN_NS,
            sheet._shared_strings,
            book._date_formats,
            book._timedelta_formats,
            {
                "coordinate": coordinate_to_tuple,
                "number": _sheet_number,
                "excel": partial(from_excel, epoch=book.epoch),
                "iso": from_ISO8601,
            },
            marks,
            _percent_styles(book),
        )
    except (ImportError, AttributeError):
        return None

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        with source:
            for index, found in cells.rows(source):
                width = found[-1][0] if found else 0
                values: list[Any] = [None] * width
                previous = 0
                for column, value in found:
                    if column <= previous or column > width:  # out of order, or twice
                        values = _placed(found, index, where)
                        break
                    values[column - 1] = value
                    previous = column
                yield index, tuple(values)

    return rows()


def _parsed_values(
    sheet: Any, marks: dict[tuple[int, int], _Mark], where: str = ""
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """A read-only sheet's rows by openpyxl's parser, where `_fast_values` cannot be used: alike.

    Each row is given by its number and each cell placed by its column, as there.
    ``iter_rows`` numbers rows by their place and sizes them by the last cell stored: it skips
    a row stored after a higher one or twice, and drops a cell stored after one to its right
    (a value lost without a word). Its parser (``WorkSheetParser``, which ``iter_rows`` reads
    through) gives each row with its number and each cell with its column, in the order
    stored, so they are placed here as `_fast_values` places them: a cell stored twice stops
    the read with its message (`_placed`), a row stored twice is found by `_RowStore`. An
    Excel error and a formula with no saved value are noted in `marks`, as there.

    Raises:
        pbr.io.UnreadableFile: openpyxl's parser is not there or not as expected (another
            openpyxl than 3.1): its rows could not be placed by their numbers.

    """
    try:
        from openpyxl.worksheet._reader import WorkSheetParser
        from openpyxl.xml.constants import SHEET_MAIN_NS

        class _Noting(WorkSheetParser):  # type: ignore[misc]
            def parse_cell(self, element: Any) -> dict[str, Any]:
                if element.get("t") == "s":  # (openpyxl: IndexError, or -1 the last string)
                    _shared_string(self.shared_strings, element.findtext(value), element.get("r"))
                cell: dict[str, Any] = super().parse_cell(element)
                at = cell["row"], cell["column"]
                if element.get("t") == "e":
                    marks[at] = _error_mark(cell["value"])
                elif cell["data_type"] == "e":  # a date serial no date can be: openpyxl's "#VALUE!"
                    marks[at] = _date_mark(_sheet_number(element.findtext(value)))
                elif cell["data_type"] == "n" and cell["style_id"] in percents:
                    if cell["value"] is not None:
                        marks[at] = _percent_mark(cell["value"], percents[cell["style_id"]])
                elif (
                    cell["value"] is None
                    and element.find(formula) is not None
                    and not _saved_text(element.get("t"), element.find(value) is not None)
                ):
                    marks[at] = _NO_VALUE_MARK
                return cell

        formula, value = f"{{{SHEET_MAIN_NS}}}f", f"{{{SHEET_MAIN_NS}}}v"
        book = sheet.parent
        percents = _percent_styles(book)
        parser = _Noting(
            sheet._get_source(),
            sheet._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
    except (ImportError, AttributeError, TypeError):
        from pbr.io import UnreadableFile

        raise UnreadableFile(
            f"{where or sheet.title}: this openpyxl cannot be read cell by cell, so rows and "
            "cells could not be placed where their references put them: "
            'pip install "openpyxl>=3.1,<4"'
        ) from None

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        with parser.source:
            for index, cells in parser.parse():
                found = [(cell["column"], cell["value"]) for cell in cells]
                yield index, tuple(_placed(found, index, where)) if found else ()

    return rows()


def _shared_string(shared: Sequence[Any], index: str | None, coordinate: str | None) -> Any:
    """The shared string a cell's value numbers, if the workbook has it.

    Raises:
        ValueError: the number is past the workbook's shared strings, or below 0.

    """
    if not index:
        return None
    number = int(index)
    if not 0 <= number < len(shared):
        raise ValueError(
            f"the cell {coordinate} names shared string {number}, but the workbook has "
            f"{len(shared)}"
        )
    return shared[number]


_LAST_ROW = 1_048_576
"""The last row a sheet can have (Excel's limit)."""


def _saved_text(kind: str | None, has_value: bool) -> bool:
    """Whether an empty formula cell holds a saved result of empty text: an empty cell.

    Excel saves ``=IF(A1="","",A1)``'s empty result as text (``t="str"``) with an empty ``<v>``;
    a formula never calculated has no text type (openpyxl writes ``<v/>``, others no ``<v>``).
    """
    return kind == "str" and has_value


def _placed(found: Sequence[tuple[int, Any]], row: int, where: str) -> list[Any]:
    """A row's values placed by their columns, its cells stored in any order.

    Raises:
        pbr.io.UnreadableFile: a cell is stored twice: which value it holds cannot be known.

    """
    values: list[Any] = [None] * max(column for column, _ in found)
    seen: set[int] = set()
    for column, value in found:
        if column in seen:
            from pbr.io import UnreadableFile

            raise UnreadableFile(
                f"{where}: the cell {_letter(column)}{row} is stored twice: which value it "
                "holds cannot be known, so the sheet cannot be read; write the workbook again "
                "with each cell once"
            )
        seen.add(column)
        values[column - 1] = value
    return values


class _SheetCells:
    """A worksheet's rows read from its XML by expat: each row's number and (column, value) cells.

    The values are openpyxl's for a workbook read with ``data_only=True`` (its
    ``WorkSheetParser.parse_row`` and ``parse_cell``, rule for rule: every child of a row is a
    cell; a cell's first ``v`` is its value; an inline string is its last ``t`` and the last
    ``t`` of each run, as openpyxl's ``Text.content``). tests/test_tables_streaming.py holds the
    two equal on workbooks of every kind of cell.
    """

    _CHUNK = 1 << 16
    _OUTSIDE = -(1 << 30)
    """`_row_depth` outside a row: every element's level is then far above a cell's."""

    def __init__(
        self,
        namespace: str,
        shared: Any,
        date_formats: Collection[int],
        timedelta_formats: Collection[int],
        convert: dict[str, Any],
        marks: dict[tuple[int, int], _Mark] | None = None,
        percents: Mapping[int, str] | None = None,
    ) -> None:
        main = namespace + "}"
        self._formula_tag = main + "f"
        self._marks = marks
        self._row_tag, self._value_tag, self._inline_tag = main + "row", main + "v", main + "is"
        self._shared = shared
        self._dates = date_formats
        self._timedeltas = timedelta_formats
        self._percents = percents or {}  # styles that show a number as a percentage: their codes
        self._convert = convert
        self._columns: dict[str, int] = {}  # a coordinate's letters: its column

    def rows(self, source: Any) -> Iterator[tuple[int, list[tuple[int, Any]]]]:
        """Each row of the sheet, as read (the XML read a block at a time: memory stays flat)."""
        from xml.parsers import expat

        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._done: list[tuple[int, list[tuple[int, Any]]]] = []
        self._depth = 0
        self._row_depth = self._OUTSIDE  # the depth of the row being read
        self._row = 0  # the row counter, as openpyxl keeps it
        self._column = 0
        self._cells: list[tuple[int, Any]] = []
        self._capture: list[str] | None = None  # the text of the element being read, if wanted
        self._capture_at = -1  # its depth
        self._stopped = False  # a child of it has started: its text (openpyxl's) has ended
        self._what = ""
        self._in_inline = self._in_run = False
        while True:
            block = source.read(self._CHUNK)
            parser.Parse(block, not block)
            yield from self._done
            self._done.clear()
            if not block:
                return

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self._depth = self._depth + 1
        if self._capture is not None:  # an element inside the text's: its text ends there
            self._stopped = True
        level = depth - self._row_depth
        if level == 1:  # every child of a row is a cell
            self._kind = attrs.get("t", "n")
            self._coordinate = attrs.get("r")
            style: Any = attrs.get("s", 0)
            self._style = int(style) if style else style
            self._value: str | None = None
            self._has_value = False
            self._inline: list[str] | None = None
            self._plain: str | None = None
            self._formula = False
        elif level == 2:
            self._in_inline = False
            if name == self._formula_tag:
                self._formula = True
            if name == self._inline_tag and self._inline is None:
                self._inline = []
                self._in_inline = True
            elif name == self._value_tag and not self._has_value:
                self._has_value = True
                self._begin("value", depth)
        elif level == 3:
            self._in_run = False
            if self._in_inline:
                local = name.rpartition("}")[2]
                if local == "t":
                    self._begin("plain", depth)
                elif local == "r":
                    self._run: str | None = None
                    self._in_run = True
        elif level == 4:
            if self._in_run and name.rpartition("}")[2] == "t":
                self._begin("run", depth)
        elif self._row_depth == self._OUTSIDE and name == self._row_tag:
            self._start_row(attrs)

    def _start_row(self, attrs: dict[str, str]) -> None:
        number = attrs.get("r")
        if number is not None:
            try:
                self._row = int(number)
            except ValueError:
                real = float(number)
                if not real.is_integer():
                    raise ValueError(f"{number} is not a valid row number") from None
                self._row = int(real)
        else:
            self._row += 1
        self._column = 0
        self._cells = []
        self._row_depth = self._depth

    def _begin(self, what: str, depth: int) -> None:
        self._capture = []
        self._capture_at = depth
        self._stopped = False
        self._what = what

    def _text(self, data: str) -> None:
        if self._capture is not None and not self._stopped and self._capture_at == self._depth:
            self._capture.append(data)

    def _end(self, name: str) -> None:
        depth = self._depth
        self._depth = depth - 1
        if self._capture is not None and depth == self._capture_at:
            text = "".join(self._capture) or None  # an element's text: None when it has none
            self._capture = None
            if self._what == "plain":
                self._plain = text
            elif self._what == "value":
                self._value = text
            else:
                self._run = text
            return
        level = depth - self._row_depth
        if level == 1:
            cell = self._cell()
            self._cells.append(cell)
            if self._marks is None:
                pass
            elif self._kind == "e":
                self._marks[self._row, cell[0]] = _error_mark(cell[1])
            elif self._formula and cell[1] is None and not _saved_text(self._kind, self._has_value):
                self._marks[self._row, cell[0]] = _NO_VALUE_MARK
        elif level == 3:
            if self._in_run and self._run is not None and self._inline is not None:
                self._inline.append(self._run)
            self._in_run = False
        elif level == 2:
            self._in_inline = False
        elif level == 0:  # the row's end
            self._done.append((self._row, self._cells))
            self._row_depth = self._OUTSIDE

    def _cell(self) -> tuple[int, Any]:
        """The cell just read: its column and value, as openpyxl's ``parse_cell`` gives them."""
        coordinate = self._coordinate
        if coordinate:
            column = self._column = self._column_of(coordinate)
        else:
            column = self._column = self._column + 1
        kind = self._kind
        if kind == "inlineStr":
            if self._inline is None:
                return column, None
            return column, "".join(
                self._inline if self._plain is None else [self._plain, *self._inline]
            )
        value: Any = self._value
        if value is None:
            return column, None
        if kind == "n":
            value = self._convert["number"](value)
            if self._style in self._dates:
                try:
                    value = self._convert["excel"](value, timedelta=self._style in self._timedeltas)
                except (OverflowError, ValueError):  # openpyxl warns, and reads "#VALUE!"
                    if self._marks is not None:
                        self._marks[self._row, column] = _date_mark(value)
                    value = "#VALUE!"
            elif self._style in self._percents and self._marks is not None:
                self._marks[self._row, column] = _percent_mark(value, self._percents[self._style])
        elif kind == "s":
            value = _shared_string(self._shared, value, coordinate)
        elif kind == "b":
            value = bool(int(value))
        elif kind == "d":
            value = self._convert["iso"](value)
        return column, value

    def _column_of(self, coordinate: str) -> int:
        """The column of a cell's coordinate (``AB12``: 28), as openpyxl reads it.

        The letters are looked up once: then a coordinate of known letters and digits is theirs.
        """
        letters = coordinate.rstrip(_DIGITS)
        column = self._columns.get(letters)
        if column is None or len(letters) == len(coordinate):
            _, column = self._convert["coordinate"](coordinate)  # raises as openpyxl does
            if len(letters) < len(coordinate) and not any(c in _DIGITS for c in letters):
                self._columns[letters] = column  # letters, then digits: the column is theirs
        return column


_DIGITS = "0123456789"


def _sheet_number(text: str) -> int | float:
    """A number cell's text as openpyxl reads it: a float with a point or exponent, else an int."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class _RowTwice(Exception):
    """Two rows of a table have one number (a workbook's sheet can store a row twice)."""

    def __init__(self, table: str, n: int) -> None:
        super().__init__(table, n)
        self.table = table
        self.n = n


class _RowStore:
    """Every table's rows in a temporary SQLite file, found again by ``family_id``.

    One pass per table writes the rows (in batches, each marshalled: a row's values alone when
    its columns are its table's, the usual case, so the file stays near the size of the tables;
    any text, bytes that are not UTF-8 included, comes back as it was); each family's rows are
    then one indexed query. The file is this process's own, read back in the same run, and
    removed by `close` (or when the store is collected).
    """

    _BATCH = 5000

    def __init__(self, tables: Mapping[str, Iterable[tuple[int, dict[str, str]]]]) -> None:
        import sqlite3
        import tempfile
        import weakref

        self._folder = tempfile.TemporaryDirectory(prefix="pbr-tables-")
        # One thread at a time, but not always the one that built it: a pool of processes
        # iterates the families in a thread of its own, and the last reference may go anywhere.
        self._db = sqlite3.connect(Path(self._folder.name) / "rows.sqlite", check_same_thread=False)
        self._closer = weakref.finalize(self, _RowStore._shut, self._db, self._folder)
        db = self._db
        db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA temp_store = FILE;
            CREATE TABLE fam (seq INTEGER PRIMARY KEY, fid TEXT, data BLOB);  -- seq: the row's number
            CREATE TABLE part (tbl INTEGER, n INTEGER, fid TEXT, data BLOB);
            -- data: a list of the row's values under its table's columns, or, for a row
            -- whose columns differ, a dict of column to value (marshalled)
            """
        )
        self.names: list[str] = []
        self.counts: dict[str, int] = {}
        self._columns: list[list[str]] = []  # each table's columns, as its first row has them
        for table, rows in tables.items():
            self.names.append(table)
            self.counts[table] = self._load(table, len(self.names) - 1, rows)
        db.executescript(
            """
            CREATE INDEX fam_fid ON fam (fid, seq);
            CREATE INDEX part_fid ON part (fid, tbl, n);
            """
        )
        self._orphaned = True  # whether any row may name no family (`orphans`)
        self.shared: set[tuple[str, int]] = set()  # rows given to two families (`_join_strays`)
        self._join_strays()
        db.commit()

    def _join_strays(self) -> None:
        """Give each row whose family_id is a family's but for case or spaces to that family.

        ``EX-018 `` (or ``ex-018``, or ``EX-018`` and a zero-width space: `_near_id`) names no
        family, yet it is plainly family ``EX-018``'s row: reported only as a row of no family,
        it left the family evaluated without it (a payment made, paid again). Stored under the
        family's id, it is among the family's rows, whose reader rejects the family for it
        (`TableInput._part_rows`). A row that could be two families' (``F1`` and ``f1``) is
        given to both: both are rejected.
        """
        db = self._db
        query = (
            "SELECT DISTINCT fid FROM part WHERE fid != '' AND NOT EXISTS "
            "(SELECT 1 FROM fam WHERE fam.fid = part.fid)"
        )
        strays = {fid: _near_id(fid) for (fid,) in db.execute(query)}
        unnamed = db.execute("SELECT 1 FROM part WHERE fid = '' LIMIT 1").fetchone()
        self._orphaned = bool(strays) or unnamed is not None
        if not strays:
            return
        wanted = set(strays.values())
        families: dict[str, list[str]] = {}
        for (fid,) in db.execute("SELECT DISTINCT fid FROM fam WHERE fid != '' ORDER BY fid"):
            near = _near_id(fid)
            if near in wanted:
                families.setdefault(near, []).append(fid)
        for fid, near in strays.items():
            found = families.get(near, [])
            if len(found) > 1:
                self.shared.update(
                    (self.names[tbl], n)
                    for tbl, n in db.execute("SELECT tbl, n FROM part WHERE fid = ?", (fid,))
                )
            for other in found[1:]:
                db.execute(
                    "INSERT INTO part (tbl, n, fid, data) SELECT tbl, n, ?, data FROM part "
                    "WHERE fid = ?",
                    (other, fid),
                )
            if found:
                db.execute("UPDATE part SET fid = ? WHERE fid = ?", (found[0], fid))

    def _load(self, table: str, index: int, rows: Iterable[tuple[int, dict[str, str]]]) -> int:
        dumps = marshal.dumps  # a tenth of JSON's cost, and exact
        count = 0
        batch: list[tuple[Any, ...]] = []
        if table == "families":
            # the row's number orders the families: a CSV row is given late when its quote is
            # not closed on its line (it waits for the line the quote would close on)
            sql = "INSERT INTO fam (seq, fid, data) VALUES (?, ?, ?)"
        else:
            sql = f"INSERT INTO part (tbl, n, fid, data) VALUES ({index}, ?, ?, ?)"
        columns: list[str] | None = None
        last = 0
        ordered = True  # each row numbered after the one before: none can be given twice
        group = ""  # the family_id of the last row that has one (`_grouped`)
        for n, row in rows:
            count += 1
            if n <= last:
                ordered = False
            last = n
            keys = list(row)
            if columns is None:
                columns = keys
            # the table's columns (or the first of them): the values alone
            data = dumps(list(row.values()) if keys == columns[: len(keys)] else row)
            fid = _stored_id(row.get("family_id", ""))
            if fid:
                group = fid
            elif table != "families":
                fid = _grouped(row, group)
            batch.append((n, fid, data))
            if len(batch) >= self._BATCH:
                self._insert(sql, batch, table)
                batch.clear()
        self._insert(sql, batch, table)
        self._columns.append(columns or [])
        if not ordered and table != "families":  # (families: its row number is its key)
            again = self._db.execute(
                f"SELECT n FROM part WHERE tbl = {index} GROUP BY n HAVING COUNT(*) > 1 "
                "ORDER BY n LIMIT 1"
            ).fetchone()
            if again is not None:
                raise _RowTwice(table, again[0])
        return count

    def _insert(self, sql: str, batch: list[tuple[Any, ...]], table: str) -> None:
        """Insert a batch of rows; a row of ``families`` numbered as one stored raises `_RowTwice`."""
        import sqlite3

        try:
            self._db.executemany(sql, batch)
        except sqlite3.IntegrityError:
            seen: set[int] = set()
            for n, *_ in batch:
                if (
                    n in seen
                    or self._db.execute("SELECT 1 FROM fam WHERE seq = ?", (n,)).fetchone()
                ):
                    raise _RowTwice(table, n) from None
                seen.add(n)
            raise

    def _row(self, tbl: int, data: bytes) -> dict[str, str]:
        return _unmarshalled(self._columns[tbl], data)

    def layout(self) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        """The tables' names and columns by index, as `raw_parts` numbers them."""
        return tuple(self.names), tuple(tuple(c) for c in self._columns)

    def orphans(self, only: str | None = None) -> Iterator[tuple[str, int, str, dict[str, str]]]:
        """Rows of the other tables whose ``family_id`` is on no row of ``families`` (`only`'s).

        An empty ``family_id`` names no family, even where a ``families`` row has none too.
        """
        if not self._orphaned:  # the usual tables: no query over every row again
            return
        query = (
            "SELECT tbl, n, fid, data FROM part WHERE (fid = '' OR NOT EXISTS "
            "(SELECT 1 FROM fam WHERE fam.fid = part.fid))"
        )
        found = (
            self._db.execute(query + " ORDER BY tbl, n")
            if only is None
            else self._db.execute(query + " AND fid = ? ORDER BY tbl, n", (_stored_id(only),))
        )
        for tbl, n, fid, data in found:
            yield self.names[tbl], n, fid, self._row(tbl, data)

    def families(self) -> Iterator[tuple[int, dict[str, str], int | None]]:
        """Each row of ``families`` in order, and its family_id's first row (None if it is that row)."""
        families = self.names.index("families") if "families" in self.names else -1
        query = (
            "SELECT seq, data, (SELECT MIN(e.seq) FROM fam AS e WHERE e.fid = fam.fid "
            "AND e.seq < fam.seq) FROM fam ORDER BY seq"
        )
        for n, data, earlier in self._db.execute(query):
            yield n, self._row(families, data), earlier

    def raw_parts(self, family_id: str) -> tuple[tuple[int, int, bytes], ...]:
        """A family's rows of the other tables as stored, in table and row order (`TableFamily`)."""
        query = "SELECT tbl, n, data FROM part WHERE fid = ? ORDER BY tbl, n"
        return tuple(self._db.execute(query, (_stored_id(family_id),)))

    def parts(self, family_id: str) -> dict[str, list[tuple[str, int, dict[str, str]]]]:
        """A family's rows of the other tables, table by table, in table and row order."""
        found: dict[str, list[tuple[str, int, dict[str, str]]]] = {}
        query = "SELECT tbl, n, data FROM part WHERE fid = ? ORDER BY tbl, n"
        for tbl, n, data in self._db.execute(query, (_stored_id(family_id),)):
            table = self.names[tbl]
            found.setdefault(table, []).append((table, n, self._row(tbl, data)))
        return found

    def close(self) -> None:
        """Remove the temporary file (idempotent)."""
        self._closer()

    @staticmethod
    def _shut(db: Any, folder: Any) -> None:
        db.close()
        folder.cleanup()


def _grouped(row: Mapping[str, str], group: str) -> str:
    """The family a row with an empty family_id is kept under: that of the rows above it.

    A family's later rows left blank (``family_id`` written on its first row only) are plainly
    its own: reported only as rows of no family, the family was evaluated without them (a
    payment made, paid again). Kept under its id, the family's reader rejects it for the row
    (`TableInput._part_rows`). A row with no value at all is no one's (an empty row).
    """
    return "" if _is_empty(row) else group


def _near_id(family_id: str) -> str:
    r"""A family_id without edge spaces, invisible characters and case: rows of one family match.

    An invisible (format) character anywhere, a zero-width space or a byte-order mark left by
    two CSV exports pasted together, shows as the family's id yet once named no family.

    >>> _near_id(" EX-018\t") == _near_id("ex-018") == _near_id("\ufeffEX-\u200b018")
    True
    """
    return _visible(family_id).strip().casefold()


def _visible(text: str) -> str:
    r"""`text` without its format characters (Unicode's ``Cf``: ``\u200b``, ``\ufeff``, ...)."""
    return "".join(c for c in text if not _invisible(c))


def _invisible(char: str) -> bool:
    """Whether a character is a format character, shown as nothing (Unicode's category Cf)."""
    import unicodedata

    return unicodedata.category(char) == "Cf"


def _stored_id(family_id: str) -> str:
    r"""A family_id as the row store keys it, here and when its rows are looked up.

    SQLite holds UTF-8 only: a byte of a CSV file that is not UTF-8 (kept as a surrogate, and
    reported with its row) is keyed as ``\x96`` (as a rejection writes it: `json_text`). Such a
    family_id in ``families`` once stopped the whole run ("another row available").
    """
    return json_text(family_id) or ""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):  # a date cell; a time of day would be lost, so keep it
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)  # never trimmed: a space at an edge is reported (`_cell_problems`)


def columns(table: str) -> list[str]:
    """The columns of `table`, in order (``family_id`` first)."""
    model = TABLES[table]
    if model is None:
        return list(_FAMILY_COLUMNS)
    return ["family_id", *model.model_fields]


def write_templates(folder: str | Path) -> list[Path]:
    r"""Write an empty CSV per table, with its header, and a README of the columns.

    Never overwrites data: a table file that already has rows (anything after its header) is
    kept as it is, and so is a README.md that pbr did not write (the guide is then written to
    ``pbr-tables.md``, unless that too is someone else's). A table's file named in another
    case (``Payments.CSV``: `table_files`) is that table's: written over if it has no rows, never
    joined by a second file. Returns the files written.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "families.csv").write_text("family_id\nF1\n")
    >>> written = write_templates(folder)
    >>> folder / "families.csv" in written, (folder / "families.csv").read_text()
    (False, 'family_id\nF1\n')

    Raises:
        pbr.output.OutputError: the folder or a file cannot be written.
        pbr.io.UnreadableFile: two files for one table (``payments.csv`` and ``Payments.CSV``).

    """
    from pbr.output import OutputError, atomic_writer

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write templates to {folder}: it is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write templates to {folder}: {exc.strerror}") from None
    written = []
    existing = table_files(folder)  # ``Payments.CSV`` is the payments table: never add another
    lines = [
        _README_TITLE,
        "",
        "One CSV file per table, keyed by `family_id`; columns are the family-record fields",
        "(see the family record page of the pbr docs). Dates are YYYY-MM-DD; money is a decimal",
        "such as 3200.00; booleans are true/false; `identified_for` and `local_discretion` hold",
        "several values separated by semicolons. Leave a cell empty for 'not recorded', but",
        "keep every column in the header: a table whose header lacks one is not read.",
        "",
    ]
    for table in TABLES:
        path = existing.get(table, folder / f"{table}.csv")
        lines += [f"## {table}.csv", "", ", ".join(f"`{c}`" for c in columns(table)), ""]
        if _has_rows(path):
            continue
        with atomic_writer(path) as handle:
            csv.writer(handle, lineterminator="\n").writerow(columns(table))
        written.append(path)
    for name in README_NAMES:  # a README.md of the council's own is kept: the guide beside it
        readme = folder / name
        if not readme.exists() or _first_line(readme) == _README_TITLE:
            with atomic_writer(readme) as handle:
                handle.write("\n".join(lines))
            written.append(readme)
            break
    return written


README_NAMES = ("README.md", "pbr-tables.md")
"""Where `write_templates` writes its column guide: the first that is missing or pbr's own."""


_README_TITLE = "# Family record tables"


def _has_rows(path: Path) -> bool:
    """Whether a file holds anything after its first line (or is not a plain file at all)."""
    if not path.exists():
        return False
    if not path.is_file():
        return True
    with open(path, "rb") as handle:
        handle.readline()
        return bool(handle.read(4096).strip())


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\n")
    except OSError:
        return ""


def write_tables(families: Iterable[Family], dest: str | Path) -> Path:
    """Write families as tables: a folder of CSV files, or an XLSX workbook if `dest` ends .xlsx.

    The inverse of `read_tables`: reading the result back gives the same families. Each file is
    written atomically. Text a spreadsheet would run as a formula (a cell starting with ``=``,
    ``+``, ``-``, ``@``, ...) is written with a leading apostrophe (`pbr.output.neutralise`),
    which `read_tables` takes off. A family stating an empty `identified_for` (no problem) is
    refused (`ValueError`): a table cannot hold it, as an empty cell reads as not recorded.

    >>> import pathlib, tempfile
    >>> write_tables([], pathlib.Path(tempfile.mkdtemp()) / "t").name
    't'
    """
    from pbr.output import CsvWriter, OutputError, atomic_writer, neutralise

    dest = Path(dest)
    rows: dict[str, list[list[str]]] = {table: [] for table in TABLES}
    for family in families:
        data = family.model_dump(mode="json")
        if data["identified_for"] == []:  # an empty cell would read back as None: not the same
            raise ValueError(
                f"family {family.family_id!r}: identified_for is an empty list, which a table "
                "cannot hold (an empty cell reads as not recorded): give no identified_for, or "
                "its problems"
            )
        rows["families"].append(
            [
                ";".join(data[c]) if c in _LISTS and data[c] is not None else _text(data[c])
                for c in _FAMILY_COLUMNS
            ]
        )
        for table in list(TABLES)[1:]:
            for item in data[table]:
                rows[table].append(
                    [family.family_id, *(_text(item[c]) for c in columns(table)[1:])]
                )
    if dest.suffix.lower() == ".xlsx":
        try:
            from openpyxl import Workbook
        except ImportError as exc:
            from pbr.errors import MissingExtra

            raise MissingExtra(
                'writing XLSX needs openpyxl: pip install "pbr-claims[xlsx]"'
            ) from exc
        from pbr._xlsx import discarded_if_unfinished

        buffer = io.BytesIO()
        with discarded_if_unfinished(Workbook(write_only=True)) as book:
            for table, table_rows in rows.items():
                sheet = book.create_sheet(table)
                sheet.append(columns(table))
                for row in table_rows:
                    sheet.append([neutralise(v) for v in row])
            book.save(buffer)
        sizes = [(len(table_rows) + 1, len(columns(table))) for table, table_rows in rows.items()]
        with atomic_writer(dest, "wb") as binary:
            _with_sizes(buffer, sizes, binary)
        return dest
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write tables to {dest}: {exc.strerror}") from None
    for table, table_rows in rows.items():
        with atomic_writer(dest / f"{table}.csv") as handle:
            writer = CsvWriter(handle, columns(table))
            writer.writeheader()
            writer.writerows(table_rows)
    return dest


def _with_sizes(book: io.BytesIO, sizes: list[tuple[int, int]], out: Any) -> None:
    """Copy a write-only workbook, giving each sheet its size (``<dimension ref="A1:K9"/>``).

    openpyxl's write-only mode stores no sheet size, and without one a reader sizes a sheet by
    reading it whole first (openpyxl keeping every row's element while it does): with the size
    stored, pbr's own workbooks read in one pass and in flat memory.
    """
    import zipfile

    from openpyxl.utils.cell import get_column_letter

    from pbr._xlsx import entry, unstamped

    with zipfile.ZipFile(book) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            found = re.fullmatch(r"xl/worksheets/sheet([0-9]+)\.xml", info.filename)
            if info.filename == "docProps/core.xml":  # its times: fixed, as `pbr._xlsx.saved`
                dest.writestr(entry(info), unstamped(info.filename, source.read(info)))
                continue
            with source.open(info) as src, dest.open(entry(info), "w") as copy:
                if found and int(found[1]) <= len(sizes):
                    height, width = sizes[int(found[1]) - 1]
                    head = src.read(4096)
                    ref = f'<dimension ref="A1:{get_column_letter(width)}{height}"/>'.encode()
                    at = head.find(b"</sheetPr>")
                    if at >= 0 and b"<dimension" not in head:
                        at += len(b"</sheetPr>")
                        head = head[:at] + ref + head[at:]
                    copy.write(head)
                while chunk := src.read(1 << 20):
                    copy.write(chunk)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
