"""Evaluate JSON Lines files on a Dask cluster: the same decisions and totals as ``pbr evaluate``.

``pip install "pbr-claims[dask]"`` (Dask's bag and ``distributed``). Each file is cut into
partitions of whole lines (one per file, or byte ranges of `partition_bytes`), so every
rejection keeps its file and line. Workers evaluate their partitions and write the decisions
(one JSON object a line, final newline) to the shared `output` folder; the client then drops a
family that appears again in a later partition or file (it is rejected, as ``pbr evaluate``
rejects a repeated family, and never paid twice), adds up the `pbr.Totals` and writes the
rejections and the totals. Nothing heavier than text and small counts crosses the network.

``import pbr`` never imports Dask: this module does, when it is imported.
"""

from __future__ import annotations

import bisect
import glob
import json
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr.io import DEFAULT_MAX_RECORD_BYTES, HEAD, Rejection, record_size, too_large
from pbr.money import ZERO, in_exact_arithmetic
from pbr.periods import check_as_of
from pbr.totals import Totals

if TYPE_CHECKING:
    from pbr.periods import TermCalendar
    from pbr.plans import OutcomePlan
    from pbr.rules import RuleSet

__all__ = ["Result", "evaluate"]

_BOM = b"\xef\xbb\xbf"
DECISIONS = "decisions-{:05d}.jsonl"
"""The name of each partition's decisions file in the output folder."""
_OWN_DECISIONS = re.compile(r"decisions-[0-9]{5,}\.jsonl")
"""A partition's decisions file, as `DECISIONS` names it (and no other file)."""
REJECTIONS = "rejections.jsonl"
TOTALS = "totals.json"


@dataclass(frozen=True, slots=True)
class Result:
    """What a distributed run did: its totals, its files and how many records it rejected.

    >>> Result(Totals(), 0, (), Path("out/rejections.jsonl"), Path("out/totals.json")).rejected
    0
    """

    totals: Totals
    """Per council and overall: evaluated, rejected, results paid, fees, payments, total."""
    rejected: int
    """Records rejected (bad records, families outside their programme, repeated families)."""
    decisions: tuple[Path, ...]
    """The decisions files, one per partition, in input order."""
    rejections: Path
    """Every rejection, one JSON object a line, with its file and line."""
    totals_file: Path
    """`totals` as JSON (money as decimal strings), naming the term calendar given, if any."""
    warnings: tuple[str, ...] = ()
    """What ``pbr evaluate``'s summary warns of, one sentence each, as the web API gives them."""


@dataclass(slots=True)
class _Notes:
    """What decisions add to the summary's warnings (`pbr._summary_notes.run_warnings`)."""

    counts: dict[str, int] = field(default_factory=dict)
    """Families by programme, in the order first seen."""
    payable: dict[str, Decimal] = field(default_factory=dict)
    """Results payable now, by programme."""
    warned: dict[str, int] = field(default_factory=dict)
    """Families warned of each code (a family once a code)."""

    @in_exact_arithmetic
    def add(self, programme: str, amounts: Iterable[Decimal], codes: Iterable[str]) -> None:
        self.counts[programme] = self.counts.get(programme, 0) + 1
        self.payable[programme] = sum(amounts, self.payable.get(programme, ZERO))
        for code in codes:
            self.warned[code] = self.warned.get(code, 0) + 1

    def add_json(self, text: str) -> None:
        """Count one decision given as its JSON text."""
        data = json.loads(text)
        amounts = (Decimal(r["amount"]) for r in data["results"].values())
        codes = dict.fromkeys(w["code"] for w in data["warnings"])
        self.add(data["programme"], amounts, codes)

    @in_exact_arithmetic
    def merge(self, other: _Notes) -> None:
        """Add `other`'s counts to these (a later partition's)."""
        for programme, count in other.counts.items():
            self.counts[programme] = self.counts.get(programme, 0) + count
            self.payable[programme] = self.payable.get(programme, ZERO) + other.payable[programme]
        for code, count in other.warned.items():
            self.warned[code] = self.warned.get(code, 0) + count


@dataclass(frozen=True, slots=True)
class _Part:
    """A partition: a byte range of whole lines of one file (or lines of a bag's partition)."""

    index: int
    source: str
    start: int = 0
    end: int = -1


@dataclass(frozen=True, slots=True)
class _Done:
    """What a worker sends back for a partition: small things only."""

    index: int
    source: str
    start: int
    """Where the partition starts in its file (0: the file's first partition, or a bag's)."""
    lines: int
    records: int
    ids: list[tuple[str, int, int, str | None]]
    """Each decision's (family_id, line, record, council), relative to the partition, in order."""
    rejections: list[Rejection]
    totals: Totals
    notes: _Notes


@dataclass(frozen=True, slots=True)
class _Settings:
    as_of: date
    rules: RuleSet | None
    plans: dict[str, OutcomePlan]
    interpretations: dict[str, str]
    ledger: Any
    max_record_bytes: int
    output: str
    term_calendar: TermCalendar | None = None


def evaluate(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Any,
    *,
    as_of: date,
    output: str | os.PathLike[str],
    rules: RuleSet | None = None,
    interpretations: Mapping[str, str] | None = None,
    plans: Mapping[str, OutcomePlan] | None = None,
    term_calendar: TermCalendar | None = None,
    ledger: Any = None,
    ledger_key: bytes | None = None,
    partition_bytes: int | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    overwrite: bool = False,
    scheduler: str | None = None,
) -> Result:
    """Evaluate JSON Lines files (paths or globs, or a `dask.bag.Bag` of lines) on Dask.

    A glob's ``**`` matches no folder or any number, and its matches are taken sorted by path.

    The options are ``pbr evaluate``'s: `rules` (a rule set for every family; default each
    family's own), `interpretations`, `plans` (programme to outcome plan), `term_calendar` (a
    council's school terms, `pbr.load_term_calendar`: it replaces every rule set's, and
    ``totals.json`` names it), `ledger` (a payments ledger path on shared storage, or a
    `pbr.history.PaymentHistory`). A keyed ledger's key is
    `ledger_key`, else read as the command line reads it (`pbr.ledger.load_key`: the file named
    by ``PBR_LEDGER_KEY_FILE``, else ``PBR_LEDGER_KEY``). Files are cut into partitions of
    about `partition_bytes` (default: one per file); a bag keeps its partitions, and its
    rejections name ``<bag partition N>`` and the line within it. A file's UTF-8 byte order
    mark is skipped; in a bag, one at the start of a partition's first line is (a file that
    does not start a partition keeps its mark, and its first record is rejected). The work runs
    on the active ``distributed.Client`` if there is one, else on Dask's `scheduler` (e.g.
    ``"processes"``). `output` (a folder every worker can write: shared storage) receives
    ``decisions-NNNNN.jsonl``, ``rejections.jsonl`` and ``totals.json``; it must hold none of
    them unless `overwrite` (which removes those files, and no other, before the run), and must
    not hold an input file. ``Result.warnings`` (and ``totals.json``'s ``warnings``) holds what
    ``pbr evaluate``'s summary warns of; families judged against pbr's example outcome plan are
    also warned of as a `UserWarning`, as ``pbr evaluate`` prints ``pbr: warning: ...``.

    Raises:
        pbr.output.OutputError: `output` cannot be written, holds an earlier run or holds an
            input file.
        pbr.errors.UnknownInterpretation: an interpretation no rule set defines.
        pbr.history.HistoryError: the ledger cannot be read.
        pbr.ledger.LedgerError: the ledger does not verify, or is keyed and no key is given.
        FileNotFoundError: a path or glob matches no file.
        IsADirectoryError: a path or glob match is a folder.
        TypeError: `term_calendar` is not a `pbr.TermCalendar`.
        ValueError: `paths` names no file, or a file that is not JSON Lines (a JSON array, a
            workbook, a CSV table, a compressed file), or `partition_bytes` is not a positive
            number.

    """
    import dask
    from dask.delayed import delayed

    from pbr._arguments import (
        check_interpretations,
        check_max_record_bytes,
        check_plans,
        check_term_calendar,
    )
    from pbr._caller_warnings import warn_caller
    from pbr._summary_notes import example_plan_warnings, run_warnings
    from pbr.output import OutputError

    if partition_bytes is not None and (
        isinstance(partition_bytes, bool)
        or not isinstance(partition_bytes, int)
        or partition_bytes <= 0
    ):
        raise ValueError(
            f"partition_bytes must be a whole number of bytes, 1 or more: {partition_bytes!r}"
        )
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    choices = check_interpretations(interpretations)
    check_plans(plans)  # everything that can fail up front, before any file changes
    check_term_calendar(term_calendar)
    history = None if ledger is None else _history(ledger, ledger_key)
    day = check_as_of(as_of)
    # the inputs are found before the folder is made: a path that matches nothing leaves none
    pieces = None if _is_bag(paths) else list(_partitions(paths, partition_bytes, max_record_bytes))
    folder = Path(output)
    if pieces is not None:
        _check_not_an_input(folder, pieces)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder}: {exc.strerror}") from None
    earlier = _earlier_run(folder)
    if earlier and not overwrite:
        raise OutputError(
            f"{folder} already holds an earlier run's files ({earlier[0].name}, ...): "
            "remove them or pass overwrite=True"
        )
    settings = _Settings(
        day,
        rules,
        dict(plans or {}),
        choices,
        history,
        max_record_bytes,
        str(folder),
        term_calendar,
    )
    task = delayed(_evaluate_part, pure=False)  # a file may change between runs: never cached
    shared = delayed(settings, pure=False)
    if pieces is None:
        bag: Any = paths
        parts = [
            task(_Part(i, f"<bag partition {i}>"), shared, lines)
            for i, lines in enumerate(bag.to_delayed())
        ]
    else:
        parts = [task(part, shared, None) for part in pieces]
    for stale in earlier:  # the rejections and totals too: a failed run leaves no mixed folder
        stale.unlink()
    done: list[_Done] = sorted(_compute(dask, parts, scheduler), key=lambda d: d.index)
    drops, rejections = _reconcile(done)
    finish = delayed(_finish, pure=False)
    kept = _compute(
        dask,
        [finish(str(folder), d.index, sorted(drops.get(d.index, ()))) for d in done],
        scheduler,
    )
    totals, notes = Totals(), _Notes()
    for d, mine in zip(done, kept, strict=True):
        counted, noted = (d.totals, d.notes) if mine is None else mine
        totals = totals.merge(counted)
        notes.merge(noted)
    for rejection in rejections:
        totals.reject(rejection.local_authority)
    said = run_warnings(day, notes.counts, notes.payable, totals, settings.plans, notes.warned)
    result = _write_summary(folder, done, rejections, totals, term_calendar, said)
    for warning in example_plan_warnings(notes.counts, settings.plans):
        warn_caller(warning)  # as pbr evaluate says "pbr: warning: ..."
    return result


def _history(ledger: Any, key: bytes | None) -> Any:
    """`ledger` as payment history: a path is opened with `key` (else the environment's key)."""
    from pbr.history import PaymentHistory
    from pbr.ledger import KEY_ENV, KEY_FILE_ENV, Ledger, LedgerError, load_key

    if isinstance(ledger, str | os.PathLike):
        key = key if key is not None else load_key()
        ledger = Ledger(os.fspath(ledger), create=False, key=key)
        if ledger.keyed and key is None:
            raise LedgerError(
                f"ledger {ledger.path} is keyed (HMAC-SHA256): pass its key as ledger_key=, "
                f"or set {KEY_FILE_ENV} or {KEY_ENV} in the environment"
            )
    return PaymentHistory.load(ledger, key=key)


def _earlier_run(folder: Path) -> list[Path]:
    """The files of an earlier run in `folder`: pbr's own names only, never a user's file."""
    found = [
        entry
        for entry in folder.iterdir()
        if _OWN_DECISIONS.fullmatch(entry.name) or entry.name in (REJECTIONS, TOTALS)
    ]
    # decisions first, so that the message names one
    return sorted(found, key=lambda p: (not p.name.startswith("decisions-"), p.name))


def _check_not_an_input(folder: Path, pieces: list[_Part]) -> None:
    """Refuse an output folder holding an input file: the run would read what it writes."""
    from pbr.output import OutputError

    where = os.path.realpath(folder)
    for source in dict.fromkeys(p.source for p in pieces):
        held = (
            os.path.dirname(os.path.realpath(source)),
            os.path.realpath(os.path.dirname(os.path.abspath(source))),
        )
        if where in held:
            raise OutputError(
                f"cannot write to {folder}: it holds the input {source}; "
                "write the decisions to a folder of their own"
            )


def _compute(dask: Any, tasks: list[Any], scheduler: str | None) -> list[Any]:
    if not tasks:
        return []
    return list(dask.compute(*tasks, scheduler=scheduler))


def _is_bag(value: Any) -> bool:
    return type(value).__module__.startswith("dask.bag") and hasattr(value, "to_delayed")


def _partitions(
    paths: Any, size: int | None, limit: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[_Part]:
    """Each file (in the order given, a glob's matches sorted) cut into byte ranges of whole lines.

    Every file is checked to be JSON Lines (`_not_json_lines`) before any is cut.
    """
    named = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not named:
        raise ValueError("no input: paths names no file")
    files: list[str] = []
    for name in named:
        text = os.fspath(name)
        # ``**``: no folder or any number, as dask.bag.read_text (fsspec) reads it
        matched = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]
        if not matched:
            raise FileNotFoundError(f"no such file: {text}")
        for match in matched:
            if os.path.isdir(match):
                said = "" if match == text else f" (matched by {text})"
                raise IsADirectoryError(
                    f"{match} is a folder{said}: give JSON Lines files, or a glob such as "
                    f"{os.path.join(match, '*.jsonl')}"
                )
            if not os.path.isfile(match):
                raise FileNotFoundError(f"no such file: {match}")
            why = _not_json_lines(match, limit)
            if why is not None:
                raise ValueError(f"{why} (pbr.dask reads JSON Lines only: one record a line)")
        files += matched
    index = 0
    for file in files:
        total = os.path.getsize(file)
        start = 0
        with open(file, "rb") as handle:
            while True:
                end = total if size is None else min(total, start + size)
                if end < total:
                    handle.seek(end)
                    handle.readline()  # to the end of the line the cut falls in
                    end = handle.tell()
                yield _Part(index, file, start, end)
                index += 1
                if end >= total:
                    break
                start = end


_TABLES = {".csv": "a table (CSV)", ".tsv": "a table (TSV)"}
_WORKBOOKS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
_NOT_RECORDS = (
    "not JSON Lines: pbr evaluate reads council tables; for pbr.dask, write each family record "
    "as a line of JSON"
)


def _not_json_lines(file: str, limit: int) -> str | None:
    """Why `file` is not JSON Lines, by its name or its start, or None if it is.

    Read line by line, a JSON array gave a rejection a line (558 for 3 families), and so did a
    workbook, a CSV table or a compressed file: said once, before any work. A file is JSON
    Lines when ``pbr evaluate`` would read it line by line (`pbr.io.json_lines_start`: its
    first two records, at most, are read).
    """
    from pbr._unreadable import TEXT_HEAD_BYTES, not_a_text_file, not_line_text
    from pbr.io import UnreadableFile, json_lines_start

    suffix = os.path.splitext(file)[1].lower()
    if suffix in _TABLES:
        return f"{file} is {_TABLES[suffix]}, {_NOT_RECORDS}"
    try:
        with open(file, "rb") as handle:
            head = handle.read(TEXT_HEAD_BYTES)
        if suffix in _WORKBOOKS or not_a_text_file(head, "") is not None:
            return f"{file} is a workbook (or another zip file), {_NOT_RECORDS}"
        said = not_line_text(file, head)
        if said is not None:
            return said
        if json_lines_start(file, max_record_bytes=limit) is None:
            return (
                f"{file} is a JSON document (an array, or an object over several lines), not "
                "JSON Lines: write each record on a line of its own"
            )
    except (OSError, UnreadableFile) as exc:
        return str(exc)
    return None


def _lines(part: _Part, given: Iterable[str] | None) -> Iterator[bytes]:
    """A partition's lines as bytes, without its file's byte order mark.

    A bag's partition is taken to start a file (as ``dask.bag.read_text`` makes one a file, or
    its first block): one mark at the start of its first line is skipped.
    """
    if given is not None:
        first = True
        for text in given:
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = False
            yield text.encode("utf-8", errors="surrogateescape")
        return
    with open(part.source, "rb") as handle:
        handle.seek(part.start)
        left = part.end - part.start
        first = True
        while left > 0:
            line = handle.readline(left)
            if not line:
                break
            left -= len(line)
            if first and part.start == 0 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            first = False
            yield line


def _evaluate_part(part: _Part, settings: _Settings, given: Iterable[str] | None) -> _Done:
    """On a worker: evaluate one partition, write its decisions, send back ids and counts."""
    from pbr.batch import evaluate_many, evaluate_many_json, warning_codes
    from pbr.output import atomic_writer

    numbers: deque[tuple[int, int]] = deque()  # (line, record) of each record in flight
    count = {"lines": 0, "records": 0}
    limit = settings.max_record_bytes

    def records() -> Iterator[bytes | Rejection]:
        for line in _lines(part, given):
            count["lines"] += 1
            if not line.strip():
                continue
            count["records"] += 1
            numbers.append((count["lines"], count["records"]))
            size = record_size(line)
            if size > limit:
                yield too_large(line[:HEAD], size, limit, part.source, None, 1)
                continue
            yield line

    options: dict[str, Any] = {
        "as_of": settings.as_of,
        "plans": settings.plans,
        "interpretations": settings.interpretations,
        "source": part.source,
        "ledger": settings.ledger,
        "workers": 1,  # Dask is the parallelism: a worker never starts a pool of its own
        "max_record_bytes": limit,
        "term_calendar": settings.term_calendar,
    }
    ids: list[tuple[str, int, int, str | None]] = []
    rejections: list[Rejection] = []
    totals, notes = Totals(), _Notes()
    path = Path(settings.output) / DECISIONS.format(part.index)
    with atomic_writer(path) as handle:
        results: Iterable[Any]
        if settings.rules is not None:
            results = evaluate_many(records(), rules=settings.rules, **options)
        else:
            results = evaluate_many_json(records(), **options)
        for item in results:
            line, record = numbers.popleft()
            if isinstance(item, Rejection):
                rejections.append(
                    item.model_copy(update={"source": part.source, "line": line, "record": record})
                )
                continue
            if isinstance(item, tuple):  # pbr.batch.Evaluated: already JSON
                family_id, programme, amounts, text = item
                totals.add_amounts(item.local_authority, item.attachment_fee, amounts.values())
                notes.add(programme, amounts.values(), item.warnings)
            else:
                family_id, text = item.family_id, item.model_dump_json()
                totals.add(item)
                results = (r.amount for r in item.results.values())
                notes.add(item.programme, results, warning_codes(item.warnings))
            handle.write(text + "\n")
            ids.append((family_id, line, record, item.local_authority))
    return _Done(
        part.index,
        part.source,
        part.start,
        count["lines"],
        count["records"],
        ids,
        rejections,
        totals,
        notes,
    )


def _reconcile(done: list[_Done]) -> tuple[dict[int, set[int]], list[Rejection]]:
    """Lines and records numbered within each file; a family's later appearances rejected.

    Returns, per partition, the positions of decisions to drop, and every rejection in input
    order. A repeat names the file and line of its family's first appearance: the identifiers
    are kept with a line numbered across the whole run, which `_first_place` turns back into
    a file and its line.
    """
    from pbr._seen import SeenIds

    seen = SeenIds()
    places: list[tuple[int, str, int]] = []  # each partition's run-wide start, file, first line
    drops: dict[int, set[int]] = {}
    rejections: list[Rejection] = []
    line_base = record_base = run_base = 0
    for d in done:
        name = d.source
        if d.start == 0:  # a file's first partition (the same file given again too), or a bag's
            line_base = record_base = 0
        places.append((run_base, name, line_base))
        found: list[tuple[int, Rejection]] = [
            (
                r.line or 0,
                r.model_copy(
                    update={"line": (r.line or 0) + line_base, "record": r.record + record_base}
                ),
            )
            for r in d.rejections
        ]
        for position, (family_id, line, record, council) in enumerate(d.ids):
            if not seen.add(family_id, run_base + line):
                drops.setdefault(d.index, set()).add(position)
                first = seen.first_line(family_id)
                first_source, first_line = _first_place(places, first or 0)
                found.append(
                    (
                        line,
                        Rejection.repeated_family(
                            source=name,
                            line=line + line_base,
                            record=record + record_base,
                            family_id=family_id,
                            first_line=first_line,
                            first_source=first_source,
                            local_authority=council,
                        ),
                    )
                )
        rejections += [r for _, r in sorted(found, key=lambda pair: pair[0])]
        line_base += d.lines
        record_base += d.records
        run_base += d.lines
    return drops, rejections


def _first_place(places: list[tuple[int, str, int]], line: int) -> tuple[str | None, int | None]:
    """The file and line of a run-wide `line` (0: none), by the partitions' `places`.

    Each place is a partition's run-wide start, its file and its first line there (`_reconcile`).

    >>> places = [(0, "a.jsonl", 0), (5, "a.jsonl", 5), (9, "b.jsonl", 0)]
    >>> _first_place(places, 7), _first_place(places, 9), _first_place(places, 10)
    (('a.jsonl', 7), ('a.jsonl', 9), ('b.jsonl', 1))
    """
    if line <= 0:
        return None, None
    at = bisect.bisect_left(places, line, key=lambda place: place[0]) - 1
    start, source, first = places[at]
    return source, first + line - start


def _finish(output: str, index: int, drop: list[int]) -> tuple[Totals, _Notes] | None:
    """On a worker: drop repeated families from a partition's decisions; their new totals."""
    if not drop:
        return None
    from pbr.output import atomic_writer

    path = Path(output) / DECISIONS.format(index)
    unwanted = set(drop)
    totals, notes = Totals(), _Notes()
    with open(path, encoding="utf-8") as source, atomic_writer(path.with_suffix(".tmp")) as out:
        for position, text in enumerate(source):
            if position in unwanted:
                continue
            totals.add_json(text.rstrip("\n"))
            notes.add_json(text)
            out.write(text)
    os.replace(path.with_suffix(".tmp"), path)
    return totals, notes


def _totals_data(
    totals: Totals, calendar: TermCalendar | None, warnings: Sequence[str] = ()
) -> dict[str, object]:
    """``totals.json``'s data: `totals`, the term calendar when it overrides a term, `warnings`.

    As ``pbr evaluate``'s summary names it: totals under a council's terms otherwise read as
    the default dates'. A calendar that overrides no term changes nothing and is not named.
    """
    data = totals.to_dict()
    if calendar is not None and calendar.named is not None:
        from pbr.calendars import term_calendar_data

        data["term_calendar"] = {**term_calendar_data(calendar), "name": calendar.named}
    data["warnings"] = list(warnings)
    return data


def _write_summary(
    folder: Path,
    done: list[_Done],
    rejections: list[Rejection],
    totals: Totals,
    calendar: TermCalendar | None = None,
    warnings: Sequence[str] = (),
) -> Result:
    """Write the rejections and the totals (naming `calendar`, if it gives dates of its own)."""
    from pbr.output import atomic_writer

    with atomic_writer(folder / REJECTIONS) as handle:
        for rejection in rejections:
            handle.write(rejection.model_dump_json() + "\n")
    with atomic_writer(folder / TOTALS) as handle:
        handle.write(json.dumps(_totals_data(totals, calendar, warnings), indent=2) + "\n")
    return Result(
        totals,
        len(rejections),
        tuple(folder / DECISIONS.format(d.index) for d in done),
        folder / REJECTIONS,
        folder / TOTALS,
        tuple(warnings),
    )
