"""Evaluate many families: streaming, in input order, optionally on a pool of processes.

Memory stays flat in the number of families: records are read, evaluated and handed on one
chunk at a time, and nothing is kept (CPython's cyclic collector rescans every live object, so a
batch that holds its families slows down as it grows).

>>> import pbr
>>> from datetime import date
>>> rows = ['{"family_id": "F1", "attached_on": "2012-10-15", "members": '
...         '[{"person_id": "A1", "date_of_birth": "1979-04-02"}]}', '{"family_id": 7}']
>>> [type(x).__name__ for x in pbr.evaluate_many(rows, as_of=date(2013, 6, 30))]
['Decision', 'Rejection']
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import os
import pickle
import sys
import threading
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache, partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeGuard, TypeVar, cast

from pbr import _lean
from pbr._arguments import (
    check_chunk_size,
    check_ledger,
    check_max_record_bytes,
    check_records,
    whole_number,
)
from pbr._compiled import CompiledFamily, decode_family
from pbr._parts import decision_json, lean_parts
from pbr._processes import give_back_freed_memory, held_signals, worker_signals
from pbr._rows import programme_short_names, table_row
from pbr._sums import Detail, detail_row, span_sums
from pbr.errors import OutsideProgramme
from pbr.io import DEFAULT_MAX_RECORD_BYTES
from pbr.money import ZERO, exact_arithmetic, in_exact_arithmetic
from pbr.periods import check_as_of
from pbr.totals import Totals, fee_due

if TYPE_CHECKING:
    from typing import TypeAlias

    from pbr.decisions import Decision, Reason
    from pbr.history import HistoryError, HistorySource, PaymentHistory
    from pbr.io import Rejection
    from pbr.periods import TermCalendar
    from pbr.plans import OutcomePlan
    from pbr.records import Family
    from pbr.rules import RuleSet
    from pbr.tables import TableFamily

__all__ = [
    "AUTO_SERIAL_FAMILIES",
    "Evaluated",
    "Item",
    "Workers",
    "available_cores",
    "evaluate_many",
    "evaluate_many_json",
    "evaluate_partition",
]

Item: TypeAlias = "Family | Rejection | Mapping[str, Any] | str | bytes | TableFamily"
"""What `evaluate_many` takes: a family, a rejection (passed on), a dict or a JSON text (or a
family's rows from council tables, `pbr.tables.TableInput.evaluated`)."""

_T = TypeVar("_T")
_R = TypeVar("_R")

Workers = int | Literal["auto"]
"""A number of worker processes, or ``"auto"``: one for a small batch, every core for a large one."""

AUTO_SERIAL_FAMILIES = 750
"""With ``workers="auto"``, the families evaluated in this process before a pool is started.

A pool costs a few hundredths of a second to start; below several hundred families one process
is as fast, so a batch starts serially and moves to every core only when it turns out larger.
"""

Render = Literal["json", "csv", "csv-file", "table"]
"""What `evaluate_many_json` writes each decision as (see its `render`)."""


def available_cores() -> int:
    """The processor cores this process may run on (at least 1).

    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def _in_a_daemon() -> bool:
    import multiprocessing

    return bool(multiprocessing.current_process().daemon)


def _in_this_process_if_a_daemon(workers: int, stacklevel: int) -> int:
    """`workers`, or 1 with a warning in a daemonic process (a pool's worker, Celery's prefork).

    Such a process may not start processes: Python's bare ``AssertionError`` would follow.
    """
    if workers > 1 and _in_a_daemon():
        warnings.warn(
            f"workers={workers}: evaluating in this process, as a daemonic process (a pool's "
            "worker) may not start the processes",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
        return 1
    return workers


def _check_workers(workers: object) -> Workers:
    """`workers` as ``"auto"`` or an int (a numpy integer too); refused unless 1 or more."""
    if isinstance(workers, str) and workers == "auto":
        return "auto"
    count = whole_number(workers)
    if count is None:
        raise TypeError(f"workers must be a whole number or 'auto', not {workers!r}")
    if count < 1:  # as the command line refuses them: not "as few as possible"
        raise ValueError(f"workers must be 1 or more, or 'auto', not {workers!r}")
    return count


def _auto(
    numbered: Iterable[tuple[int, Item]], workers: Workers
) -> tuple[int, Iterator[tuple[int, Item]], list[tuple[int, Item]]]:
    """Resolve `workers`: for ``"auto"``, the pool size and the first records, held back.

    ``"auto"`` reads up to `AUTO_SERIAL_FAMILIES` records ahead; if the input ends there, the
    batch runs in this process (1), else on every core. The records read are returned, to be
    evaluated first.
    """
    iterator = iter(numbered)
    if workers != "auto":
        return _in_this_process_if_a_daemon(cast(int, _check_workers(workers)), 3), iterator, []
    cores = available_cores()
    if cores == 1 or _in_a_daemon():  # a pool's worker (Dask's, ours) may not start processes
        return 1, iterator, []
    head = list(itertools.islice(iterator, AUTO_SERIAL_FAMILIES + 1))
    return (1 if len(head) <= AUTO_SERIAL_FAMILIES else cores), iterator, head


def evaluate_many(
    records: Iterable[Item],
    *,
    as_of: date,
    rules: RuleSet | None = None,
    workers: Workers = "auto",
    plans: Mapping[str, OutcomePlan] | None = None,
    interpretations: Mapping[str, str] | None = None,
    chunk_size: int = 100,
    source: str = "<input>",
    ledger: HistorySource | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    term_calendar: TermCalendar | None = None,
) -> Generator[Decision | Rejection, None, None]:
    """Yield a `Decision` or a `Rejection` for every record, in input order.

    `rules=None` picks each family's rule set (with `interpretations` applied to every rule set
    that defines them; a name none defines, or a value it does not, is refused before any
    family); `plans` maps a programme's id to its outcome plan; `term_calendar` (a council's
    school terms, `pbr.load_term_calendar`) replaces every rule set's, `rules`' too. `ledger` (a
    `pbr.history.PaymentHistory`, or a ledger or its path to load one from, once) adds its
    payments to each family's (`pbr.history.merge_payments`); a family whose record disagrees
    with it is a rejection. With `workers` > 1 the records are evaluated in chunks on a pool of processes;
    the output is the same; in a daemonic process (a pool's worker), which may not start
    processes, they are evaluated in this one, with a `UserWarning`. The default, ``"auto"``, evaluates a batch of up to
    `AUTO_SERIAL_FAMILIES` records in this process and a larger one on every core. A record
    given as JSON text over `max_record_bytes` is a rejection. If iterating `records` raises,
    every record it gave is answered first (on a pool too), then its exception is raised.

    A file opened with ``open(path, "rb")`` is fastest: with more than one process (``"auto"``:
    from 4 MiB left in the file) and no `ledger`, each process reads its own ranges of the
    file rather than this one sending every line down a pipe, a quarter less time at 50,000
    families. The answers are those of iterating its lines, from where the file stands to its
    end when the first answer is asked for, and the file is left at that end. Stopped before
    the end (the answers' generator closed: its ``close()``, or a `break` out of a loop that
    alone holds it), a file opened ``"rb"`` is left just after the last line answered, however
    many processes read it: a second call on it goes on from there. The processes open it by
    its name: a range read from a file that is no longer the one opened, as it was
    then (another file put in its place, or the same file grown, shrunk or written to), raises
    `pbr.io.UnreadableFile` saying so, rather than mixing its records in. Such a file that is
    compressed, UTF-16 or of lines ending in CR alone is refused (`pbr.io.UnreadableFile`)
    when the call is made, as `pbr.read_records` refuses it.

    Each record is judged on its own, as given: a family given twice is evaluated twice, and
    text is one record (a blank line, or a file's byte-order mark, is a rejection). To read a
    file as ``pbr evaluate`` does (a second record of a family_id refused, blank lines and the
    mark skipped), pass `pbr.read_records`'s items. Texts are the fast way in: a record read
    from its text skips the pydantic model that `read_records` builds, so a file's lines (as
    bytes) evaluate about three times as fast as `read_records`' families, reading included
    (0.08 against 0.25 ms a family on one core, measured on generated phase-one families).

    >>> import pbr
    >>> from datetime import date
    >>> rows = ['{"family_id": "F1", "attached_on": "2012-10-15", "members": '
    ...         '[{"person_id": "A1", "date_of_birth": "1979-04-02"}]}', '{"family_id": 7}']
    >>> [type(x).__name__ for x in pbr.evaluate_many(rows, as_of=date(2013, 6, 30))]
    ['Decision', 'Rejection']
    """
    job = _checked_job(as_of, rules, plans, interpretations, source, term_calendar)
    job.max_record_bytes = check_max_record_bytes(max_record_bytes)
    _check_records(records)
    check_ledger(ledger)
    workers = _check_workers(workers)
    chunk_size = check_chunk_size(chunk_size)
    return _left_after_answered(records, _evaluated(job, records, workers, chunk_size, ledger))


def _check_records(records: object) -> None:
    """Refuse what is not records (`check_records`), or a file of them that is not lines of text.

    Both batches (`evaluate_many`, `evaluate_many_json`) take the same records, so refuse alike.
    """
    check_records(records)
    _refuse_what_is_not_lines(records)


def _refuse_what_is_not_lines(records: object) -> None:
    """Refuse a file opened ``"rb"`` that is compressed, UTF-16 or of CR-only lines, at once.

    Its lines would be thousands of rejections of byte noise (or one line for the whole file),
    as `pbr.read_records` and ``pbr evaluate`` refuse it. Only looked at where the file can be
    read without moving it (a buffered reader): nothing is taken from the caller's file.
    """
    peek = getattr(records, "peek", None)
    if peek is None or not isinstance(records, io.BufferedIOBase):
        return
    from pbr._unreadable import TEXT_HEAD_BYTES, not_line_text
    from pbr.io import UnreadableFile

    try:
        head = _head(records, TEXT_HEAD_BYTES)
    except (OSError, ValueError):
        return  # closed or unreadable: iterating it says so, as before
    said = not_line_text(str(getattr(records, "name", "the file")), head)
    if said is not None:
        raise UnreadableFile(said)


def _head(records: Any, size: int) -> bytes:
    """Up to `size` bytes of `records` from where it stands, without moving it.

    A file on disk is read at its position (`os.pread`): `peek` gives only what its buffer
    holds (4 KiB), less than one long record, so a file of lines ending in CR alone would pass.
    Anything else (a pipe) is peeked at.
    """
    try:
        on_disk = hasattr(os, "pread") and records.seekable()
        fd = records.fileno() if on_disk else -1
    except io.UnsupportedOperation:  # a buffered reader over bytes in memory, say
        fd = -1
    if fd >= 0:
        return os.pread(fd, size, records.tell())
    head: bytes = records.peek(size)[:size]
    return head


def _checked_job(
    as_of: date,
    rules: RuleSet | None,
    plans: Mapping[str, OutcomePlan] | None,
    interpretations: Mapping[str, str] | None,
    source: str,
    term_calendar: TermCalendar | None = None,
) -> _Job:
    """A batch's job, its arguments checked when the call is made, before any family."""
    from pbr._arguments import (
        check_interpretations,
        check_plans,
        check_rules,
        check_term_calendar,
    )

    check_rules(rules)
    check_term_calendar(term_calendar)
    chosen = check_interpretations(interpretations, rules)
    if rules is not None and chosen:  # a rule set given is taken with the choices given too
        rules = rules.with_interpretations(**chosen)
    if rules is not None and term_calendar is not None:
        rules = rules.with_term_calendar(term_calendar)
    job = _Job(check_as_of(as_of), rules, check_plans(plans), chosen, source)
    job.term_calendar = term_calendar
    return job


def _evaluated(
    job: _Job,
    records: Iterable[Item],
    workers: Workers,
    chunk_size: int,
    ledger: HistorySource | None,
) -> Iterator[Decision | Rejection]:
    """`evaluate_many`'s answers, once its arguments are checked."""
    if ledger is None and workers != 1 and not _in_a_daemon():
        from pbr import _file_lines

        workers = _check_workers(workers)
        whole = _file_lines.file_to_read(records, workers, available_cores())
        if whole is not None:  # a large file opened "rb": each process reads its own ranges
            yield from _file_lines.evaluate_file(job, cast("Any", records), *whole)
            return
    numbered: Iterable[tuple[int, Item]] = enumerate(records, start=1)
    if ledger is not None:
        numbered = job.with_history(numbered, ledger)
    raised: list[Exception] = []
    pool_size, rest, head = _auto(_until_raised(numbered, raised), workers)
    if pool_size <= 1:
        one = in_exact_arithmetic(job.one)  # validation too, as in a pool's workers
        for n, item in itertools.chain(head, rest):
            yield one(n, item)
    else:
        numbered = itertools.chain(head, rest)
        chunks = _chunks(((n, _portable(item)) for n, item in numbered), chunk_size)
        with _pool(pool_size) as pool:
            sent = (_pickled(job, chunk) for chunk in chunks)
            for done in _trimming(pool.imap(job.many_packed_pickled, sent, chunk_size)):
                yield from map(_unpacked, done)
    if raised:
        raise raised[0]


def _left_after_answered(records: object, answers: Iterator[_T]) -> Generator[_T, None, None]:
    """`answers`, one a line of `records`; stopped early, a file is left after the last answered.

    Each way of answering reads a file ahead of its answers, by records or by ranges: without
    this, where a batch stopped part-way left the file would depend on the workers and the
    file's size, and a second call on it would skip or repeat families. Only for a file that
    can be moved about (opened ``"rb"``): its lines are counted again from where it stood.
    """
    if not isinstance(records, io.BufferedReader | io.BufferedRandom):
        yield from answers
        return
    try:
        start = records.tell() if records.seekable() else None
    except (OSError, ValueError):  # closed: answering says so
        start = None
    answered = 0
    ended = False
    try:
        for answer in answers:
            answered += 1
            yield answer
        ended = True
    finally:
        if not ended and start is not None:
            close = getattr(answers, "close", None)
            if close is not None:  # the other processes stopped, and nothing more read
                close()
            with suppress(OSError, ValueError):
                records.seek(_after_lines(records, start, answered))


def _after_lines(records: io.BufferedIOBase, start: int, lines: int) -> int:
    """Where the file's `lines`-th line from `start` ends (the file's end, if it has fewer)."""
    records.seek(start)
    at, left = start, lines
    while left:
        chunk = records.read(1 << 20)
        if not chunk:
            break
        count = chunk.count(b"\n")
        if count < left:
            left -= count
            at += len(chunk)
            continue
        end = -1
        for _ in range(left):
            end = chunk.index(b"\n", end + 1)
        return at + end + 1
    return at


def _until_raised(items: Iterable[_T], raised: list[Exception]) -> Iterator[_T]:
    """`items` until they end or raise; what they raise is kept in `raised`, for later.

    The caller's iterator may fail part-way (a dropped connection): the records it gave before,
    the chunk being gathered for the pool among them, are each answered first, then the batch
    raises it.
    """
    try:
        yield from items
    except Exception as exc:
        raised.append(exc)


class Evaluated(tuple[str, str, dict[str, Decimal], str]):
    """A decision already written as text: (family_id, programme, amount by result, text).

    What `evaluate_many_json` yields: workers serialise, so the parent only writes text. The
    family's council, the attachment fee it counts (`pbr.totals.fee_due`) and its warnings'
    codes ride along as attributes, so totals by council and the summary's count of warnings
    need not read the text back.
    """

    local_authority: str | None
    attachment_fee: Decimal
    warnings: tuple[str, ...]

    def __new__(
        cls,
        parts: tuple[str, str, dict[str, Decimal], str],
        local_authority: str | None = None,
        attachment_fee: Decimal = ZERO,
        warnings: tuple[str, ...] = (),
    ) -> Evaluated:
        """The four parts, with the council, the fee counted and the warnings' codes.

        >>> from decimal import Decimal
        >>> done = Evaluated(("F1", "tf-phase-1", {}, "{}"), "Leeds", Decimal("3200.00"))
        >>> done[0], done.local_authority, done.attachment_fee, done.warnings
        ('F1', 'Leeds', Decimal('3200.00'), ())
        """
        self = super().__new__(cls, parts)
        self.local_authority = local_authority
        self.attachment_fee = attachment_fee
        self.warnings = warnings
        return self

    def __reduce__(self) -> tuple[type[Evaluated], tuple[Any, ...]]:
        # as its parts: a pool sends one back for every family, and the default (the tuple,
        # then the attributes as state) costs the two processes twice as much
        return Evaluated, (tuple(self), self.local_authority, self.attachment_fee, self.warnings)


def evaluate_many_json(
    records: Iterable[Item],
    *,
    as_of: date,
    workers: Workers = "auto",
    plans: Mapping[str, OutcomePlan] | None = None,
    interpretations: Mapping[str, str] | None = None,
    chunk_size: int = 100,
    source: str = "<input>",
    ledger: HistorySource | None = None,
    render: Render = "json",
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    term_calendar: TermCalendar | None = None,
) -> Generator[Evaluated | Rejection, None, None]:
    """Like `evaluate_many`, but each decision comes back as JSON text with its totals.

    Serialising in the workers keeps the parent process (and a pool's pipes) light: this is
    the path ``pbr evaluate`` takes. `render` chooses the text: ``"json"`` (the decision's
    JSON), ``"csv"`` or ``"csv-file"`` (its rows of the long CSV, as ``pbr evaluate --format
    csv`` writes them to the terminal or to a file) or ``"table"`` (the cells of its row of
    the table, as a JSON array). `workers`, `max_record_bytes` and `term_calendar` as for
    `evaluate_many`; a file opened ``"rb"`` that is compressed, UTF-16 or of lines ending in
    CR alone is refused (`pbr.io.UnreadableFile`) when the call is made, as `evaluate_many`
    refuses it.
    """
    job = _checked_job(as_of, None, plans, interpretations, source, term_calendar)
    job.render = render
    job.max_record_bytes = check_max_record_bytes(max_record_bytes)
    _check_records(records)
    check_ledger(ledger)
    workers = _check_workers(workers)
    chunk_size = check_chunk_size(chunk_size)
    return _left_after_answered(records, _evaluated_json(job, records, workers, chunk_size, ledger))


def _evaluated_json(
    job: _Job,
    records: Iterable[Item],
    workers: Workers,
    chunk_size: int,
    ledger: HistorySource | None,
) -> Iterator[Evaluated | Rejection]:
    """`evaluate_many_json`'s answers, once its arguments are checked."""
    pairs: Iterable[tuple[int, Item]] = enumerate(records, start=1)
    if ledger is not None:
        pairs = job.with_history(pairs, ledger)
    raised: list[Exception] = []
    pool_size, rest, head = _auto(_until_raised(pairs, raised), workers)
    if pool_size <= 1:
        for pair in itertools.chain(head, rest):
            yield from job.many_json([pair])
    else:
        numbered = ((n, _portable(item)) for n, item in itertools.chain(head, rest))
        with _pool(pool_size) as pool:
            sent = (_pickled(job, chunk) for chunk in _chunks(numbered, chunk_size))
            for done in _trimming(pool.imap(job.many_json_pickled, sent, chunk_size)):
                yield from done
    if raised:
        raise raised[0]


class Span(NamedTuple):
    """A byte range of a JSON Lines file evaluated: what `evaluate_spans` yields, in file order.

    Its decisions come as one text, with the range's totals already summed, so the process
    that writes them does a range's work, not a family's. Lines and records are numbered
    from the range's start (`pbr.io.RawRange`): add the lines and records of the ranges
    before it. `detail` holds each decision's numbers, for the rare range that must be
    counted family by family (a family_id seen before).

    >>> from pbr.totals import Totals
    >>> span = Span(b"", [], [], [], [], 0, 0, 0, {}, {}, Totals(), bytes([0x90]))
    >>> span.decisions()
    []
    """

    data: bytes
    """The decisions' text (`evaluate_many_json`'s `render`) in UTF-8, in order, as it is
    written to a file (bytes: they cross from the worker and go to the file as they are, never
    decoded and encoded again); a JSON decision or a table row ends with a newline."""
    ends: list[int]
    """Where each decision's bytes end in `data`."""
    family_ids: list[str]
    """Each decision's family, in order."""
    family_lines: list[int]
    """Each decision's line in the range, in order (where a later repeat says it was given)."""
    rejections: list[tuple[int, int, Rejection]]
    """Each rejected record's line and record number in the range, and its rejection."""
    lines: int
    """The lines the range holds."""
    records: int
    """The records (non-blank lines) it holds."""
    size: int
    """Its length in bytes."""
    counts: dict[str, int]
    """Decisions by programme."""
    totals: dict[str, dict[str, Decimal]]
    """Results paid by programme and kind of result."""
    councils: Totals
    """Counts and money by council."""
    detail: bytes
    """`decisions`, packed."""
    widths: tuple[int, ...] = ()
    """For the table (`render` ``"table"``): each column's widest cell in the range."""
    warned: tuple[tuple[int, tuple[str, ...]], ...] = ()
    """Each decision with warnings: its place among the range's decisions, and the warnings'
    codes (each once). Most decisions have none, so this is short or empty."""

    def decisions(self) -> list[tuple[int, int, str, str, str | None, Decimal, dict[str, Decimal]]]:
        """Each decision's line, record, family, programme, council, fee counted and results."""
        import msgspec

        return msgspec.msgpack.decode(self.detail, type=list[_Detail])


_Detail = Detail


SPAN_BYTES = 1 << 19
"""About how many bytes of a JSON Lines file a process reads and evaluates at a time (~100 families)."""


def evaluate_spans(
    path: str,
    *,
    as_of: date,
    start: int = 0,
    workers: int = 1,
    plans: Mapping[str, OutcomePlan] | None = None,
    interpretations: Mapping[str, str] | None = None,
    source: str | None = None,
    render: Render = "json",
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    stop: int | None = None,
    term_calendar: TermCalendar | None = None,
) -> Iterator[Span]:
    """Evaluate a JSON Lines file from byte `start`, range by range (`pbr.io.line_ranges`).

    With `stop`, no byte past it is read: the size the file had when the run began.

    Each process reads its own ranges of the file: the path ``pbr evaluate`` takes for a JSON
    Lines file. With `workers` 1, this process reads and evaluates; with more, this process
    and `workers` − 1 others share the ranges a slice at a time (`pbr._slices`), and the spans
    come in file order. The answers are those of `evaluate_many_json` over the file's records
    (`pbr.io.read_raw`); a repeated family_id is the caller's to find, as there. Its arguments
    are checked when the call is made.
    """
    max_record_bytes = check_max_record_bytes(max_record_bytes)
    named = str(path) if source is None else source
    job = _checked_job(as_of, None, plans, interpretations, named, term_calendar)
    job.render = render
    job.max_record_bytes = max_record_bytes
    return _spans(job, path, start, stop, workers)


def _spans(job: _Job, path: str, start: int, stop: int | None, workers: int) -> Iterator[Span]:
    """`evaluate_spans`' spans, once its arguments are checked."""
    from pbr.io import line_ranges

    ranges = ((path, first, end) for first, end in line_ranges(path, start, SPAN_BYTES, stop))
    if _in_this_process_if_a_daemon(workers, 2) <= 1:
        yield from map(job.span, ranges)
        return
    from pbr._slices import evaluate_sliced

    yield from evaluate_sliced(job.span, list(ranges), workers)


def outside_programme(
    exc: OutsideProgramme, family: Family, *, source: str, record: int, line: int | None = None
) -> Rejection:
    """The rejection of a family no programme covers: one wording for evaluate and explain."""
    from pbr._rejection import Rejection, without_family

    return Rejection.single(
        source=source,
        line=line,
        record=record,
        family_id=family.family_id,
        local_authority=family.local_authority,
        loc=exc.field or "attached_on",
        value=family.attached_on.isoformat() if exc.field is None else exc.value,
        message=without_family(str(exc)),
        type="outside_programme" if exc.field is None else "payment_not_in_programme",
    )


def payments_refused(
    exc: HistoryError, family: Family, *, source: str, record: int, line: int | None = None
) -> Rejection:
    """The rejection of a family its ledger's payments refuse: one wording for evaluate, explain."""
    from pbr._rejection import Rejection, without_family

    return Rejection.single(
        source=source,
        line=line,
        record=record,
        family_id=family.family_id,
        local_authority=family.local_authority,
        loc="payments",
        value=getattr(exc, "value", getattr(exc, "claim_id", "")),
        message=without_family(str(exc)),
        type=getattr(exc, "error_type", "payment_history"),
    )


@contextmanager
def _pool(workers: int) -> Iterator[Any]:
    """A pool of worker processes, closed and joined when the work is done.

    Workers start with the default signal handling whatever the parent had (a server's SIGTERM
    handler would otherwise keep them alive when the pool is stopped early) and leave Ctrl-C to
    the parent, which stops them. The signals are held back while the workers start, so a pool
    stopped before a worker has reset its handlers still stops it (a race seen under load). Its
    `imap` keeps a few chunks at most ahead of what was taken (`_InStep`).
    """
    import multiprocessing

    with held_signals():
        pool = _quiet_pool_class()(
            workers, initializer=worker_signals, context=multiprocessing.get_context()
        )
    _widen_pipes(pool)
    stepped = _InStep(pool, workers)
    try:
        yield stepped
    except BaseException:
        stepped.stop()
        pool.terminate()
        pool.join()
        raise
    stepped.stop()
    pool.close()
    pool.join()


def _widen_pipes(pool: Any) -> None:
    """Give the pipe from the workers 1 MiB, where the system allows (Linux).

    A chunk's answers (a hundred decisions: about 400 KB) then pass in one write rather than
    in seven of the default 64 KiB, each waiting for this process to drain the pipe: a worker
    goes on to its next chunk at once, and both processes switch far less. Measured when
    `pbr evaluate` still sent a file's ranges through this pool (before `pbr._slices`), by
    default at 50,000 families: 3.39 → 3.14 s, and 6.07 → 5.82 s of CPU (means of four runs
    each, alternated). The pipe to the workers is left as it is: a larger one made
    `evaluate_many`, whose records travel that way, no faster.
    """
    try:
        from fcntl import F_SETPIPE_SZ, fcntl
    except ImportError:  # no such setting here: the default pipes do
        return
    # beyond this user's limit for pipe buffers, or a pool built otherwise: the default stays
    with suppress(OSError, AttributeError):
        fcntl(pool._outqueue._writer.fileno(), F_SETPIPE_SZ, _PIPE_BYTES)


_PIPE_BYTES = 1 << 20
"""The size asked for the pipe from the workers (Linux's default limit for one pipe: 1 MiB)."""


@lru_cache(maxsize=1)
def _quiet_pool_class() -> type[Any]:
    """`multiprocessing.pool.Pool` whose worker-keeping thread sleeps while results wait.

    The stock pool's thread that replaces dead workers also wakes whenever a result is waiting in
    the pipe, and finds nothing to do until the result thread has read it: it spins, costing this
    process about 16 µs of CPU a family (29 → 12 µs in all, measured). Here it waits for what it
    acts on: a worker's exit (the workers' sentinels, which it adds itself) and the pool's own
    changes (its notifier), as `ThreadPool`'s does.
    """
    from multiprocessing import pool

    class QuietPool(pool.Pool):
        def _get_sentinels(self) -> list[Any]:
            return [self._change_notifier._reader]  # type: ignore[attr-defined]

    return QuietPool


class _InStep:
    """A pool whose `imap` sends a chunk only when an answer is taken: a few in the air at most.

    `multiprocessing`'s `imap` sends chunks as fast as workers take them and keeps every answer
    until it is asked for: when the workers outrun this process (writing, totals), answers pile
    up here, and a national run's peak memory grew with its size (ten chunks, 5 MB, behind at
    50,000 families). `stop` lets a task thread that waits for room go, so that the pool can
    be closed or terminated at any point.
    """

    def __init__(self, pool: Any, workers: int) -> None:
        self._pool = pool
        self._workers = workers
        self._room = threading.Semaphore(0)
        self._stopped = False

    def imap(self, work: Callable[[_T], _R], chunks: Iterable[_T], size: int) -> Iterator[_R]:
        """`work` on each chunk of `size` items, in order.

        In the air: a chunk a worker, and enough more for about a hundred items waiting (small
        chunks travel slower than their workers run them: with only one waiting, a batch in
        chunks of one family took a quarter longer).
        """
        self._room = threading.Semaphore(self._workers + max(1, _WAITING // size))
        for answer in self._pool.imap(partial(_tidied, work), self._sent(chunks)):
            self._room.release()
            yield answer

    def _sent(self, chunks: Iterable[_T]) -> Iterator[_T]:  # read by the pool's task thread
        for chunk in chunks:
            self._room.acquire()
            if self._stopped:
                return
            yield chunk

    def stop(self) -> None:
        self._stopped = True
        self._room.release()


_WAITING = 128
"""About how many items a pool keeps waiting for its workers beyond a chunk each."""


_TRIM_EVERY = 50
"""Chunks received from a pool between two returns of freed memory to the system."""


def _trimming(chunks: Iterable[_T]) -> Iterator[_T]:
    """Pass a pool's chunks on, giving the C heap's freed memory back every `_TRIM_EVERY`.

    The pool's result thread unpickles every chunk and this process frees it, and glibc keeps
    the freed memory in that thread's heap: about 5 MiB a 100,000 families, so a national run's
    peak grew with its size (issue 14). `malloc_trim` returns it, in about a millisecond.
    """
    for n, chunk in enumerate(chunks, start=1):
        if n % _TRIM_EVERY == 0:
            give_back_freed_memory()
        yield chunk


def _tidied(work: Callable[[_T], _R], chunk: _T) -> _R:
    """`work` on a chunk in a pool's worker; every `_TRIM_EVERY` chunks, its freed memory back.

    A worker's free lists (tuples, mostly) fill slowly and only a full collection empties them,
    which a worker whose inherited objects are frozen (`pbr._processes.worker_signals`) seldom
    makes: its peak grew by 3 MiB over 400,000 families. A collection of what the worker made
    since costs about a millisecond.
    """
    done = work(chunk)
    if next(_worker_chunks) % _TRIM_EVERY == 0:
        gc.collect()
        give_back_freed_memory()
    return done


_worker_chunks = itertools.count(1)
"""Chunks this worker process has done (`_tidied`)."""


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _unpacked(done: bytes | Decision | Rejection) -> Decision | Rejection:
    """A worker's answer as `evaluate_many` yields it: MessagePack back into the model."""
    if isinstance(done, bytes):
        from pbr.decisions import as_model

        decision: Decision = as_model(_lean.unpack(done))
        return decision
    return done


def _pickled(job: _Job, chunk: list[tuple[int, Item]]) -> bytes:
    """A chunk as the pool sends it, pickled here (the pool then sends bytes: no second pickle).

    A record that cannot be pickled (a ``memoryview``, a dict holding an open file) is validated
    here instead, and its `Family` or rejection crosses, rather than stopping the pool.
    """
    try:
        return pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps([(n, _crossing(job, n, item)) for n, item in chunk])


def _crossing(job: _Job, n: int, item: Item) -> Item:
    try:
        pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return in_exact_arithmetic(job._validate)(n, cast("Mapping[str, Any]", item))
    return item


def _portable(item: Item) -> Item:
    """What crosses to a worker: JSON text where we have a model (cheaper than a pickle)."""
    if type(item) is not bytes and type(item) is not str and _is_family(item):
        return item.model_dump_json()
    return item


_CHOSEN_KEPT = 100_000
"""The most (programme, attachment day) pairs a batch keeps its rule set for."""


class _Job:
    """One batch's settings; picklable, so that workers can run it."""

    def __init__(
        self,
        as_of: date,
        rules: RuleSet | None,
        plans: dict[str, OutcomePlan],
        interpretations: dict[str, str],
        source: str,
    ) -> None:
        self.as_of = as_of
        self.rules = rules
        self.plans = plans
        self.interpretations = interpretations
        self.source = source
        self.term_calendar: TermCalendar | None = None
        """A council's term calendar for every rule set chosen (`rules`' already has it)."""
        self.render: Render = "json"
        self.max_record_bytes = DEFAULT_MAX_RECORD_BYTES
        self._variants: dict[str, RuleSet] = {}
        self._chosen: dict[tuple[str | None, date], RuleSet] = {}
        self._token = os.urandom(8)  # the same job, wherever it is sent

    def __reduce__(self) -> tuple[Any, ...]:
        # a pool sends the job with every chunk: a worker keeps the one it was last sent, with
        # the rule sets it chose, rather than choosing them again each chunk (5 µs a family)
        state = {k: v for k, v in self.__dict__.items() if k not in _JOB_CACHES}
        return _job_from, (state,)

    def _rules_for(self, family: Family) -> RuleSet:
        if self.rules is not None:
            return self.rules
        # the rule set depends on the stated programme and the attachment day alone: chosen
        # once a pair (a few thousand at most), not by walking the programmes a family
        key = (family.programme, family.attached_on)
        chosen = self._chosen.get(key)
        if chosen is not None:
            return chosen
        base = _engine().rule_set_for(family)  # OutsideProgramme: not kept, raised each time
        variant = self._variants.get(base.programme)
        if variant is None:
            mine = {k: v for k, v in self.interpretations.items() if k in base.interpretations}
            variant = base.with_interpretations(**mine)
            if self.term_calendar is not None:
                variant = variant.with_term_calendar(self.term_calendar)
            self._variants[base.programme] = variant
        if len(self._chosen) < _CHOSEN_KEPT:
            self._chosen[key] = variant
        return variant

    def with_history(
        self, numbered: Iterable[tuple[int, Item]], ledger: HistorySource
    ) -> Iterator[tuple[int, Item]]:
        """Each family with the ledger's payments merged in (validated here, in this process)."""
        from pbr.history import PaymentHistory

        history = PaymentHistory.load(ledger)
        for n, item in numbered:
            yield n, self._with_payments(n, item, history)

    @in_exact_arithmetic  # validated and merged in pbr's context, as in a pool's workers
    def _with_payments(self, n: int, item: Item, history: PaymentHistory) -> Item:
        """Record `n` as a family with the ledger's payments merged in, or its rejection."""
        from pbr.history import HistoryError, merge_payments
        from pbr.io import Rejection
        from pbr.records import Family

        if _is_table_family(item):  # validated here, to merge the payments in
            found = item.family()
            if found is None:  # a row has a problem: passed on, back to the reader
                return item
            family: Family | Rejection = found
        elif isinstance(item, Family | Rejection):
            family = item
        else:
            family = self._validate(n, cast("Mapping[str, Any] | str | bytes", item))
        if isinstance(family, Family):
            try:
                rules: RuleSet | None = self._rules_for(family)
            except OutsideProgramme:  # its evaluation says so
                rules = None
            try:
                family = merge_payments(family, history, rules=rules)
            except HistoryError as exc:
                family = payments_refused(exc, family, source=self.source, record=n)
        return family

    def many(self, chunk: list[tuple[int, Item]]) -> list[Decision | Rejection]:
        return [self.one(n, item) for n, item in chunk]

    def many_packed(self, chunk: list[tuple[int, Item]]) -> list[bytes | Decision | Rejection]:
        """`many` for a pool: each decision built as Structs and sent as MessagePack.

        A fifth of what pickling the models costs the two processes (`pbr._lean.pack`); the
        parent turns each back into the model (`_unpacked`). A decision MessagePack cannot hold
        (an integer beyond 64 bits in a reason, say) is sent as the model, pickled.
        """
        pack = _lean.pack
        out: list[bytes | Decision | Rejection] = []
        with lean_parts(), exact_arithmetic():
            for n, item in chunk:
                done = self.one(n, item)
                if not _is_lean(done):  # a rejection
                    out.append(done)
                    continue
                try:
                    out.append(pack(done))
                except (TypeError, ValueError, OverflowError):
                    from pbr.decisions import as_model

                    out.append(as_model(done))
        return out

    def many_packed_pickled(self, chunk: bytes) -> list[bytes | Decision | Rejection]:
        """`many_packed` of a chunk `_pickled` in the parent."""
        return self.many_packed(pickle.loads(chunk))

    def many_json_pickled(self, chunk: bytes) -> list[Evaluated | Rejection]:
        """`many_json` of a chunk `_pickled` in the parent."""
        return self.many_json(pickle.loads(chunk))

    def many_json(self, chunk: list[tuple[int, Item]]) -> list[Evaluated | Rejection]:
        with (
            lean_parts(),
            exact_arithmetic(),
        ):  # decisions built only to be written: as plain Structs (`pbr._lean`)
            return self._many_json(chunk)

    def _many_json(self, chunk: list[tuple[int, Item]]) -> list[Evaluated | Rejection]:
        out: list[Evaluated | Rejection] = []
        for n, item in chunk:
            done = self.one(n, item)
            if not _is_lean(done):  # a rejection
                out.append(cast("Rejection", done))
                continue
            done = cast("Decision", done)
            amounts = {str(kind): r.amount for kind, r in done.results.items()}
            out.append(
                Evaluated(
                    (done.family_id, done.programme, amounts, self._text(done)),
                    done.local_authority,
                    fee_due(done.eligible, done.attachment_fee, done.attached_on, done.as_of),
                    warning_codes(done.warnings) if done.warnings else (),
                )
            )
        return out

    def span(self, task: tuple[str, int, int]) -> Span:
        """Read and evaluate one byte range of a JSON Lines file (`evaluate_spans`)."""
        from pbr.io import RawRange

        path, start, end = task
        part = RawRange(
            path, start, end, max_record_bytes=self.max_record_bytes, source=self.source
        )
        texts: list[bytes] = []
        ends: list[int] = []
        family_ids: list[str] = []
        rejections: list[tuple[int, int, Rejection]] = []
        detail: list[_Detail] = []
        warned: list[tuple[int, tuple[str, ...]]] = []
        written = records = 0
        newline = "" if self.render.startswith("csv") else "\n"
        widths: list[int] = []
        shorts = programme_short_names() if self.render == "table" else {}
        with lean_parts(), exact_arithmetic():
            for line, record, raw in part:
                records = record
                done = self.one_raw(record, raw)
                if not _is_lean(done):  # a rejection
                    rejections.append((line, record, cast("Rejection", done)))
                    continue
                done = cast("Decision", done)
                if self.render == "json":  # msgspec's bytes, as the file takes them
                    text = decision_json(done) + b"\n"
                elif self.render == "table":  # measured here: the writer need not read it back
                    text = (table_row(done, widths, shorts) + newline).encode()
                else:
                    text = (self._text(done) + newline).encode()
                texts.append(text)
                written += len(text)
                ends.append(written)
                if done.warnings:  # rare: most decisions have none
                    warned.append((len(family_ids), warning_codes(done.warnings)))
                family_ids.append(done.family_id)
                detail.append(detail_row(done, line, record))
        # counted after the loop, not in it: 2-3% less a family (measured, alternated)
        with exact_arithmetic():
            rows, overall, counts, totals = span_sums(detail)
        councils = Totals._of(rows, overall)
        return Span(
            b"".join(texts),
            ends,
            family_ids,
            [row[0] for row in detail],
            rejections,
            part.lines,
            records,
            end - start,
            counts,
            totals,
            councils,
            _lean.pack(detail),
            tuple(widths),
            tuple(warned),
        )

    def _text(self, decision: Decision) -> str:
        if self.render == "json":
            return decision_json(decision).decode()
        from pbr.output import decision_text

        return decision_text(decision, self.render)

    def one(self, n: int, item: Item) -> Decision | Rejection:
        family: Family | Rejection
        if type(item) is bytes or type(item) is str:
            family = self._evaluable(n, item)
        elif _is_rejection(item):
            return item
        elif _is_family(item):
            family = item
        elif _is_table_family(item):
            found = item.family()
            if found is None:  # a row has a problem: back to the reader, which reports it
                return cast("Rejection", item)
            family = found
        else:
            family = self._validate(n, cast("Mapping[str, Any]", item))
        if not _is_compiled(family) and _is_rejection(family):
            return family
        return self._decided(n, cast("Family", family))

    def one_raw(self, n: int, raw: bytes | Rejection) -> Decision | Rejection:
        """`one` for a line of a file read as bytes (or its rejection): the usual case first."""
        if not _COMPILED or type(raw) is not bytes:
            return self.one(n, raw)
        family = decode_family(raw, self.max_record_bytes)
        if family is None:  # pydantic decides, with its messages
            return self.one(n, self._validate(n, raw))
        return self._decided(n, family)

    def _decided(self, n: int, family: Family) -> Decision | Rejection:
        """The family decided under its rule set and plan, or why no programme covers it.

        A compiled record is decided at once (`pbr.engine.evaluate_compiled`): the job checked
        its date, rule sets and plans when it was made, and `evaluate` would check them again.
        """
        try:
            rules = self._rules_for(family)
            plan = self.plans.get(rules.programme)
            engine = _engine()
            decision: Decision
            if _is_compiled(family):
                decision = engine.evaluate_compiled(family, self.as_of, rules, plan)
            else:
                decision = engine.evaluate(family, as_of=self.as_of, rules=rules, plan=plan)
            return decision
        except OutsideProgramme as exc:
            return outside_programme(exc, family, source=self.source, record=n)

    def _evaluable(self, n: int, item: Mapping[str, Any] | str | bytes) -> Family | Rejection:
        """The record to evaluate: JSON text is tried first as a compiled record.

        A compiled record (`pbr._compiled`) is read by the rules as a `Family` is; what it does
        not accept, pydantic decides (`_validate`), with its messages.
        """
        if _COMPILED and isinstance(item, str | bytes):
            compiled = decode_family(item, self.max_record_bytes)
            if compiled is not None:
                return compiled
        return self._validate(n, item)

    def _validate(self, n: int, item: Mapping[str, Any] | str | bytes) -> Family | Rejection:
        from pydantic import ValidationError

        from pbr._rejection import council_named
        from pbr.io import Rejection, parse_family
        from pbr.records import Family

        if isinstance(item, str | bytes):
            return parse_family(
                item, source=self.source, record=n, max_record_bytes=self.max_record_bytes
            )
        try:
            return Family.model_validate(item)
        except ValidationError as exc:
            return Rejection.from_validation_error(
                exc,
                source=self.source,
                line=None,
                record=n,
                family_id=_family_id(item),
                local_authority=council_named(
                    item.get("local_authority") if isinstance(item, Mapping) else None
                ),
            )


def warning_codes(warnings: Iterable[Reason]) -> tuple[str, ...]:
    """The warnings' codes, each once, in order: a family is counted once a code.

    >>> from types import SimpleNamespace as Warned
    >>> warning_codes([Warned(code="PAID_OVER_CAP"), Warned(code="RESULT_PAID_MORE_THAN_ONCE"),
    ...     Warned(code="PAID_OVER_CAP")])
    ('PAID_OVER_CAP', 'RESULT_PAID_MORE_THAN_ONCE')
    """
    return tuple(dict.fromkeys(w.code for w in warnings))


_JOB_CACHES = ("_variants", "_chosen")
"""A job's rule sets chosen so far: kept by the process that chose them, never sent."""

_kept_job: list[tuple[dict[str, Any], _Job]] = []
"""The job this worker process was last sent, with the state it was sent with."""


def _job_from(state: dict[str, Any]) -> _Job:
    """A job as sent to a worker: the one this process already has for it, if any, else new."""
    if _kept_job and _kept_job[0][0] == state:
        return _kept_job[0][1]
    job = _Job.__new__(_Job)
    job.__dict__.update(state)
    job._variants = {}
    job._chosen = {}
    _kept_job[:] = [(state, job)]
    return job


@cache
def _engine() -> ModuleType:
    """`pbr.engine`, imported once: an import statement in the loop costs 1.5 µs a family."""
    from pbr import engine

    return engine


_COMPILED = True
"""Whether a batch tries JSON records as compiled records first (off: pydantic validates all)."""


def _is_family(item: object) -> TypeGuard[Family]:
    """Whether `item` is a `pbr.Family` (a model can only exist once its module is loaded)."""
    family = getattr(sys.modules.get("pbr.records"), "Family", None)  # (or half imported)
    return family is not None and isinstance(item, family)


def _is_rejection(item: object) -> TypeGuard[Rejection]:
    """Whether `item` is a `pbr.Rejection` (likewise)."""
    rejection = getattr(sys.modules.get("pbr._rejection"), "Rejection", None)
    return rejection is not None and isinstance(item, rejection)


def _is_table_family(item: object) -> TypeGuard[TableFamily]:
    """Whether `item` is a family's rows from council tables (`pbr.tables.TableFamily`)."""
    # none can exist before pbr.tables has defined it (another thread may be importing it)
    table_family = getattr(sys.modules.get("pbr.tables"), "TableFamily", None)
    return table_family is not None and type(item) is table_family


def _is_compiled(item: object) -> bool:
    """Whether `item` is a batch's compiled record (`pbr._compiled`)."""
    return type(item) is CompiledFamily


def _is_lean(item: object) -> bool:
    """Whether `item` is a decision built as Structs (`lean_parts`), not a rejection."""
    return type(item) is _lean.Decision


def _family_id(item: Any) -> str | None:
    value = item.get("family_id") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else None


def evaluate_partition(lines: Iterable[str], as_of: date) -> list[str]:
    """Evaluate a partition of JSON Lines to decision JSON (rejections as ``{"rejected": ...}``).

    The building block for distributed runs, e.g. ``dask.bag.read_text(paths)
    .map_partitions(evaluate_partition, as_of)``: plain strings in, plain strings out. It does
    no bookkeeping across partitions: for a whole run (repeated families rejected, rejections
    with file and line, totals) use `pbr.dask.evaluate`.
    """
    from pbr.decisions import Decision

    out = []
    for item in evaluate_many((line for line in lines if line.strip()), as_of=as_of, workers=1):
        if isinstance(item, Decision):
            out.append(item.model_dump_json())
        else:
            out.append(json.dumps({"rejected": item.model_dump(mode="json")}))
    return out
