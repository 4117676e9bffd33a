"""Writing outputs safely: decisions as JSON Lines, long CSV or XLSX, and the helpers every writer uses.

`atomic_writer` never destroys what is at a path: a regular file is replaced atomically (a crash
or an interrupt leaves the whole old file or the whole new one, never half of either) keeping its
permissions; a new file follows the umask; a character device, FIFO or ``-`` (standard output)
is written directly; a symbolic link (whose target may be anyone's file), a block device and a
folder are refused with a clear error.
`neutralise` is the one formula guard of every CSV, XLSX and Markdown writer: text a spreadsheet
would run as a formula gets a leading apostrophe, as OWASP recommends for CSV injection.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import os
import re
import secrets
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pbr import _rows
from pbr._rows import TABLE_KINDS, csv_lines, result_lists
from pbr._stopping import Stopped, stop_received, stopped_cleanly, stops_held
from pbr.errors import PbrError
from pbr.money import PENNY, in_exact_arithmetic

if TYPE_CHECKING:
    from pbr.decisions import Decision
    from pbr.io import Rejection

__all__ = [
    "RESULT_COLUMNS",
    "TABLE_KINDS",
    "CsvWriter",
    "OutputError",
    "atomic_writer",
    "check_distinct",
    "check_writable",
    "decision_text",
    "interpretations_text",
    "markdown_text",
    "neutralise",
    "neutralised",
    "restore",
    "result_rows",
    "table_cells",
    "table_text",
    "to_pandas",
    "write_decisions",
]

RESULT_COLUMNS = (
    "family_id",
    "local_authority",
    "programme",
    "rules_version",
    "outcome_plan",
    "as_of",
    "attached_on",
    "attachment_year",
    "eligible",
    "attachment_fee",
    "result",
    "status",
    "amount",
    "rate",
    "earliest_date",
    "reason_codes",
    "payable",
    "paid_to_date",
    "warnings",
    "interpretations",
    "rules_hash",
)
"""The columns of the long CSV: one row per family and result, money as decimal text.

``warnings`` holds the codes of the decision's warnings (``RESULTS_CLAIMS_CLOSED``,
``PAID_OVER_CAP``, ``EXAMPLE_PLAN_USED``, ...), space-separated, on each of its rows: what the
JSON's ``warnings`` says, for a reader of the CSV who sees nothing else.

``outcome_plan`` is the id/version of the outcome plan a phase-two or Supporting Families
decision was judged against (the council's, or pbr's example when none was given: the
decision's warning ``EXAMPLE_PLAN_USED``), empty for phase one.

``interpretations`` is every interpretation in force, as ``id=value`` in the decision's order
joined by ``; `` (`interpretations_text`), and ``rules_hash`` the decision's
``provenance.rules_hash`` (the rule-set data, those interpretations and the outcome plan): the
same on every row of a programme's run, so that rows judged under a non-default reading can be
told from the defaults' (phase1-spec §5: a decision names every interpretation used)."""


def result_rows(decision: Decision) -> Iterator[dict[str, str]]:
    """One flat row per result of `decision` (money as decimal text, dates ISO).

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> [r["result"] for r in result_rows(pbr.evaluate(family, as_of=date(2013, 1, 1)))]
    ['crime_asb_education', 'progress_to_work', 'continuous_employment']
    """
    for row in result_lists(decision, False):
        yield dict(zip(RESULT_COLUMNS, row, strict=True))


def interpretations_text(interpretations: Mapping[str, str]) -> str:
    """Interpretations as the long CSV shows them: ``id=value`` in their order, joined by ``; ``.

    Joined once per distinct mapping (a run has one a programme), not once a decision.

    >>> interpretations_text({"employment_weeks": "all_13", "relevance": "any_problem"})
    'employment_weeks=all_13; relevance=any_problem'
    """
    return _rows.interpretations_text(interpretations)


def _rules_hash(decision: Decision) -> str:
    """The decision's rules hash (hex digits: no formula), empty when it records no provenance."""
    provenance = decision.provenance
    return provenance.rules_hash if provenance is not None else ""


_DATE_COLUMNS = frozenset({"as_of", "attached_on", "earliest_date"})


def _typed(column: str, text: str) -> object:
    """A long row's value as a workbook holds it: money a number, a date a date, a flag a flag."""
    if column in MONEY_COLUMNS:
        return Decimal(text)
    if column in _DATE_COLUMNS:
        return date.fromisoformat(text) if text else None
    if column == "eligible":
        return text == "true"
    return text


_pounds = _rows.pounds
"""Money as decimal text with two places: ``f"{amount:.2f}"``, as `str` when it has them."""

_two_places = PENNY.same_quantum


def table_cells(decision: Decision) -> list[str]:
    """The cells of a decision's row of ``pbr evaluate``'s table: every `TABLE_KINDS` column.

    A result the decision does not have is an empty cell. The cell before the amount payable is
    the outcome plan (phase two, Supporting Families), with ``(example)`` when it is pbr's
    example plan (``EXAMPLE_PLAN_USED``), empty for phase one.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> table_cells(pbr.evaluate(family, as_of=date(2013, 1, 1)))
    ['F1', 'TF1', '2012-10-15', '2012/13', 'no', 'n/a', 'n/a', 'n/a', '', '', '£0.00']
    """
    return _rows.table_cells(decision, _rows.programme_short_names())


def table_text(cells: list[str]) -> str:
    """A row of the table (`table_cells`) as ``pbr evaluate`` passes it on: a JSON array.

    ``json.dumps(cells, ensure_ascii=False)``'s text, each cell written by the encoder's own
    function (`json.dumps` builds an encoder a call for that option: twice the time).

    >>> table_text(["F1", "TF1", "£0.00"])
    '["F1", "TF1", "£0.00"]'
    """
    return _rows.table_text(cells)


def decision_text(decision: Decision, render: str) -> str:
    """A decision as ``pbr evaluate`` writes it: its long-CSV rows or its table cells.

    `render` is ``csv`` (rows as written to the terminal), ``csv-file`` (as written to a file,
    with `CsvWriter`) or ``table`` (`table_cells` as a JSON array).

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 1, 1))
    >>> decision_text(decision, "csv").splitlines()[0].split(",")[:3]
    ['F1', '', 'tf-phase-1']
    >>> decision_text(decision, "table")[:20]
    '["F1", "TF1", "2012-'
    """
    if render == "table":
        return table_text(table_cells(decision))
    if render not in ("csv", "csv-file"):
        raise ValueError(f"unknown render {render!r}")
    # as `CsvWriter` writes the rows (a row with a carriage return quoted whole, on a terminal
    # too), each value neutralised once: the family's own columns once for all its rows
    plain = csv_lines(decision)
    if plain is not None:  # the usual decision: nothing to quote, so joined as the writer would
        return plain
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    for values in result_lists(decision, True):
        writer.write_neutralised(values)
    return buffer.getvalue()


class OutputError(PbrError, OSError):
    """An output that cannot be written; the message names the path and why (nothing is written).

    >>> import tempfile
    >>> with atomic_writer(tempfile.mkdtemp()) as handle:
    ...     pass
    Traceback (most recent call last):
    ...
    pbr.output.OutputError: cannot write /...: it is a folder
    """


_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})


def neutralise(text: str) -> str:
    r"""`text` made safe for a spreadsheet cell: a leading apostrophe if it could run as a formula.

    OWASP's advice for CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return (also a line feed, a NUL, their full-width forms, or any of these after
    spaces) gets a leading ``'``, which spreadsheets take as "this is text". A plain number such
    as ``-12.50`` is left alone (it is no formula), and text that already starts with ``'`` gets
    another, so `restore` gives back exactly what was written.

    >>> neutralise('=HYPERLINK("http://x","click")')
    '\'=HYPERLINK("http://x","click")'
    >>> neutralise("-12.50"), neutralise("C-001"), restore(neutralise("'quoted"))
    ('-12.50', 'C-001', "'quoted")
    """
    return _rows.neutralise(text)


def formula_safe(text: str) -> str:
    """`text` for a cell or page nobody reads back: `neutralise`, but a leading ``'`` left alone.

    Only a formula gets the apostrophe; text that already starts with one (such as a value
    shown quoted, ``'bonus'``) is shown as it is, not as ``''bonus'``.

    >>> formula_safe("=1+1"), formula_safe("'bonus'"), formula_safe("C-001")
    ("'=1+1", "'bonus'", 'C-001')
    """
    return text if text.startswith("'") else neutralise(text)


def restore(text: str) -> str:
    """The text before `neutralise` (for reading back a CSV that pbr wrote).

    >>> restore("'=1+1"), restore("C-001")
    ('=1+1', 'C-001')
    """
    return text[1:] if text.startswith("'") else text


def neutralised(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with every text value passed through `neutralise` (numbers and dates unchanged).

    >>> neutralised({"claim_id": "@SUM(A1)", "amount": "700.00"})
    {'claim_id': "'@SUM(A1)", 'amount': '700.00'}
    """
    return {k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()}


class CsvWriter:
    r"""A CSV writer for files people open in spreadsheets: every text value is `neutralise`\ d.

    Rows are lists, or mappings written in the order of `fieldnames`. Lines end in ``\n``; a
    row with a carriage return inside a value has every value quoted, so that no reader splits
    the row there (Python's writer would not quote it).

    >>> import io
    >>> out = io.StringIO()
    >>> writer = CsvWriter(out, ("claim_id", "amount"))
    >>> writer.writeheader()
    >>> writer.writerow({"claim_id": "=1+1", "amount": "700.00"})
    >>> writer.writerow(["a\rb", "1.00"])
    >>> out.getvalue()
    'claim_id,amount\n\'=1+1,700.00\n"a\rb","1.00"\n'
    """

    def __init__(self, handle: IO[str], fieldnames: Iterable[str] = ()) -> None:
        self.fieldnames = tuple(fieldnames)
        self._handle = handle
        self._plain = csv.writer(handle, lineterminator="\n")
        self._quoted: Any = None  # made for the first row that needs it (rare)

    def writeheader(self) -> None:
        """Write `fieldnames` as the first row."""
        self._plain.writerow(self.fieldnames)

    def writerow(self, row: Iterable[Any] | Mapping[str, Any]) -> None:
        """Write one row (a list, or a mapping by `fieldnames`; a missing key is empty)."""
        if isinstance(row, Mapping):
            values = [row.get(name, "") for name in self.fieldnames]
        else:
            values = list(row)
        self.write_neutralised([neutralise(v) if isinstance(v, str) else v for v in values])

    def write_neutralised(self, values: list[Any]) -> None:
        """Write one row whose text is already neutralised (as `writerow` would, after it)."""
        if any(isinstance(v, str) and "\r" in v for v in values):
            if self._quoted is None:
                self._quoted = csv.writer(self._handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
            self._quoted.writerow(values)
        else:
            self._plain.writerow(values)

    def writerows(self, rows: Iterable[Iterable[Any] | Mapping[str, Any]]) -> None:
        """Write each row."""
        for row in rows:
            self.writerow(row)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#!])")


def markdown_text(value: object) -> str:
    r"""`value` as inert Markdown text: formulas neutralised, markup and HTML escaped, one line.

    >>> markdown_text("<script>alert(1)</script> *bold* | pipe")
    '&lt;script&gt;alert(1)&lt;/script&gt; \\*bold\\* \\| pipe'
    """
    text = formula_safe(str(value))  # Markdown is never read back: no apostrophe doubled
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # one line for every reader: a line separator (U+2028) breaks one too, as splitlines does
    return text if text.isprintable() else " ".join(text.splitlines())


def _is_dir(path: Path, shown: str) -> bool:
    """Whether `path` is a folder, for writing `shown`; a name the system refuses is said.

    ``Path.is_dir`` is False for a path not there, but raises for others (a name too long,
    on Python 3.11), which reached the user as an unexpected error.

    Raises:
        OutputError: the system cannot look `path` up (``cannot write SHOWN: why``).

    """
    try:
        return path.is_dir()
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror or type(exc).__name__}") from None


def _no_folder(shown: str, folder: Path) -> OutputError:
    """Why `shown` cannot be written in `folder`, which is not a folder: missing, or a file.

    ``--output out.jsonl/x.jsonl`` with ``out.jsonl`` a file was said as a folder that does not
    exist.

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> _ = file.write_text("")
    >>> print(_no_folder("x", file / "a"))
    cannot write x: /.../out.jsonl is a file, not a folder
    """
    for above in (folder, *folder.parents):
        if os.path.lexists(above):
            if not above.is_dir():
                kind = "a file, not a folder" if above.is_file() else "not a folder"
                return OutputError(f"cannot write {shown}: {above} is {kind}")
            break
    return OutputError(f"cannot write {shown}: folder {folder} does not exist")


def check_writable(path: str | Path) -> Path:
    """Check, before any work, that `atomic_writer` would write `path`: refused up front.

    Not a folder, a block device or a symbolic link, and its folder there. An ``.xlsx`` path also needs openpyxl (``pip install "pbr-claims[xlsx]"``). ``-`` is standard
    output. Run it first, so that a long job does not fail at its very end.

    >>> import tempfile
    >>> check_writable(tempfile.mkdtemp() + "/no/such/folder/out.csv")
    Traceback (most recent call last):
    ...
    pbr.output.OutputError: cannot write /.../out.csv: folder /.../folder does not exist

    Raises:
        OutputError: the path cannot be written, or an extra its format needs is missing.

    """
    refuse_folder_name(path)  # before `Path` drops the trailing "/"
    path = Path(path)
    if given_descriptor(path) is not None:
        return path
    _refuse_link(path, str(path))
    target = Path(os.path.realpath(path))
    if _is_dir(target, str(path)):
        raise OutputError(f"cannot write {path}: it is a folder")
    if target.is_block_device():
        raise OutputError(f"will not write over {path}: it is a block device (a disk)")
    if not _is_dir(target.parent, str(path)):
        raise _no_folder(str(path), target.parent)
    if path.suffix.lower() == ".xlsx":
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            raise OutputError(
                f'cannot write {path}: XLSX needs openpyxl: pip install "pbr-claims[xlsx]"'
            ) from None
    return path


def _folder_ending(path: str | Path) -> str | None:
    """How `path` ends if that ending names a folder (``/``, ``/.``, ``/..``), else None.

    ``in.jsonl/`` is no file name: the system reads it as the folder ``in.jsonl``, and `Path`
    and ``realpath`` drop the ``/``, so a writer would replace the file ``in.jsonl``.

    >>> _folder_ending("out/"), _folder_ending("out/."), _folder_ending("out.csv")
    ('/', '/.', None)
    """
    text = os.fspath(path)
    separators = os.sep + (os.altsep or "")
    if text.endswith(tuple(separators)):
        return text[-1]
    last = os.path.basename(text)
    if last in (".", "..") and len(text) > len(last):
        return text[-len(last) - 1 :]
    return None


def refuse_folder_name(path: str | Path, name: str = "the name") -> None:
    """Refuse an output path written as a folder's (``in.jsonl/``): its file would be replaced.

    `name` is what gave the path (``"--output"``), for the message.

    Raises:
        OutputError: the path ends in a separator, or in ``/.`` or ``/..``.

    """
    ending = _folder_ending(path)
    if ending is not None:
        raise OutputError(
            f"cannot write {os.fspath(path)}: {name} ends in {ending!r}, which names a folder: "
            "give a file name"
        )


def _refuse_link(path: str | Path, shown: str) -> None:
    """Refuse a symbolic link: writing through it would replace a file the path does not name.

    The link's target may be anyone's file (another run's decisions, a council's table, a
    colleague's work): the path to write must name the file itself.
    """
    try:
        target = os.readlink(path)
    except OSError:  # not a link (or not there): nothing to refuse
        return
    raise OutputError(
        f"will not write through {shown}: it is a symbolic link (to {target}); "
        "name the file itself to replace it"
    )


def check_distinct(
    reads: Mapping[str, str | Path | None], writes: Mapping[str, str | Path | None]
) -> None:
    """Check, before any work, that no output would replace an input or another output.

    `reads` and `writes` name each path by the option that gave it (``"--output"``), for the
    message; None is a path not given. An output inside a folder that is read is refused too (a
    folder of council tables). Devices and pipes (``/dev/null``) may be named twice: writing
    them destroys nothing.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "families.jsonl")
    >>> check_distinct({"the input": path}, {"--output": path})
    Traceback (most recent call last):
    ...
    pbr.output.OutputError: cannot write /.../families.jsonl: --output names the same file as the input: choose another file

    Raises:
        OutputError: two of the paths are the same file.

    """
    seen: list[tuple[str, str | Path, object]] = []
    for name, path in reads.items():
        if path is not None and str(path) != "-":
            seen.append((name, path, _identity(path)))
    for name, path in writes.items():
        if path is None or str(path) == "-":
            continue
        refuse_folder_name(path, name)  # ``in.jsonl/`` would replace in.jsonl
        mine = _identity(path)
        inside = os.path.dirname(os.path.realpath(path))  # a link's target's folder, not its own
        for other, other_path, theirs in seen:
            same = mine is not None and mine == theirs
            if not same and other in reads and os.path.isdir(other_path):
                same = os.path.commonpath([inside, os.path.realpath(other_path)]) == (
                    os.path.realpath(other_path)
                )
            if same and mine == theirs:
                raise OutputError(
                    f"cannot write {path}: {name} names the same file as {other}: "
                    "choose another file"
                )
            if same:
                raise OutputError(
                    f"cannot write {path}: {name} is inside {other} ({other_path}), a folder "
                    "that is read: choose a path outside it"
                )
        seen.append((name, path, mine))


def _identity(path: str | Path) -> object:
    """What makes two paths one file: device and inode, or the resolved name of a new file.

    None for a device, pipe or socket, which may be named twice.
    """
    try:
        found = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    if stat.S_ISREG(found.st_mode) or stat.S_ISDIR(found.st_mode):
        return (found.st_dev, found.st_ino)
    return None


@contextmanager
def atomic_writer(
    path: str | Path, mode: str = "w", *, sync_as_it_goes: bool = False
) -> Iterator[IO[Any]]:
    r"""A handle to write `path` with, that never destroys what is there.

    `mode` is ``"w"`` (UTF-8 text) or ``"wb"``. A regular file (or a new one) is written to a
    temporary file beside it and renamed into place only when the block succeeds; the file keeps
    its permissions (a new one follows the umask); on an exception, Ctrl-C, SIGTERM or SIGHUP
    the temporary file is removed (one left by a process killed outright is removed by the next
    write to the same path), and after SIGTERM or SIGHUP no writer, however nested, replaces its
    file (`pbr._stopping`). ``-`` is standard output; a character device (``/dev/null``) or
    FIFO is written directly; a block device (a disk) and a symbolic link (`check_writable`) are
    refused. With `sync_as_it_goes`, a thread sends what is written to the disk
    every half second, so that a large file's last sync is short (do not start processes with
    ``fork`` inside the block: the thread is running).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_writer(path) as handle:
    ...     _ = handle.write("done\n")
    >>> path.read_text()
    'done\n'

    Raises:
        OutputError: the path is a folder, a block device or a symbolic link, its folder does
            not exist, permission is refused, or the disk is full (the old file is then left
            as it was).

    """
    binary = "b" in mode
    descriptor = given_descriptor(path)
    if descriptor is not None:  # "-", /dev/stdout, /dev/fd/N: the stream this process was given
        with _given_stream(descriptor, mode, str(path)) as stream:
            yield stream
        return
    shown = str(path)
    refuse_folder_name(path)  # before ``realpath`` drops the trailing "/"
    _refuse_link(path, shown)
    target = Path(os.path.realpath(path))  # its folder's links resolved
    try:
        found: os.stat_result | None = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # a file on the way: said below
        found = None
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise OutputError(f"cannot write {shown}: it is a folder")
    if found is not None and stat.S_ISBLK(found.st_mode):
        raise OutputError(f"will not write over {shown}: it is a block device (a disk)")
    if found is not None and not stat.S_ISREG(found.st_mode):
        with _direct(target, mode, shown) as handle:  # a character device, FIFO or socket
            yield handle
        return
    if not _is_dir(target.parent, shown):
        raise _no_folder(shown, target.parent)
    if found is not None and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {shown}: the file is read-only")
    _sweep(target)
    tmp: str | None = None
    try:
        with stopped_cleanly():  # a stop removes the temporary file: the old one is kept
            with stops_held():  # a stop as the file is made finds its name noted
                tmp, fd = _temporary(target, found, shown)
            handle = (
                os.fdopen(fd, mode) if binary else os.fdopen(fd, mode, encoding="utf-8", newline="")
            )
            with handle, _syncing(handle.fileno(), sync_as_it_goes) as synced:
                try:
                    yield handle
                except OSError as exc:
                    if exc.errno in _WRITE_ERRORS:
                        raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
                    raise
                try:
                    handle.flush()
                    synced()
                    os.fsync(handle.fileno())
                except OSError as exc:
                    raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
            _not_stopped()
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where the system allows
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _not_stopped() -> None:
    """Raise `Stopped` if a stop signal has come: no output is committed after it.

    Whoever caught the stop before this writer saw it (a caller's ``except BaseException``),
    the file stays as it was.
    """
    signum = stop_received()
    if signum is not None:
        raise Stopped(signum)


@contextmanager
def _syncing(fd: int, wanted: bool) -> Iterator[Callable[[], None]]:
    """If `wanted`, send what is written to `fd` to the disk every `_SYNC_EVERY` s, in a thread.

    So the final `os.fsync` of a large output has only its last part left to wait for: a
    national run's 230 MB took a quarter of a second at the end, with nothing else to do. The
    block gets a function that stops the thread and raises the first error it met (an error
    reported by one sync may not be reported again by the next, so none is dropped).
    """
    if not wanted:
        yield _nothing
        return
    done = threading.Event()
    errors: list[OSError] = []
    flush = getattr(os, "fdatasync", os.fsync)  # macOS and Windows have only fsync

    def sync() -> None:
        while not done.wait(_SYNC_EVERY):
            try:
                flush(fd)
            except OSError as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=sync, name="pbr-sync", daemon=True)
    thread.start()

    def stop() -> None:
        done.set()
        thread.join()
        if errors:
            raise errors[0]

    try:
        yield stop
    finally:
        done.set()
        thread.join()


_SYNC_EVERY = 0.5
"""Seconds between two syncs of an output written with ``sync_as_it_goes``."""


def _nothing() -> None:
    pass


_TEMP_SUFFIX = ".pbr-tmp"


_NAME_ROOM = len(f"..{2**31 - 1}.{'0' * 8}{_TEMP_SUFFIX}")
"""What a temporary name adds to its stem: dots, the largest pid, the random token, the suffix."""


def _stem(target: Path) -> str:
    """What `target`'s temporary files are named after: its name, or a cut one that fits.

    A temporary name is `_NAME_ROOM` longer than its stem, and the folder takes names of
    NAME_MAX bytes at most (usually 255): a longer target name is cut to fit, and ends with
    ``~`` and 16 hex digits of its hash, to keep it recognisable and its own.
    """
    room = _name_max(target.parent) - _NAME_ROOM
    name = target.name
    if len(os.fsencode(name)) <= room:
        return name
    mark = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    while name and len(os.fsencode(name + mark)) > room:
        name = name[:-1]
    return name + mark


def _name_max(folder: Path) -> int:
    """The longest name `folder` takes, in bytes (255 where the system does not say)."""
    try:
        longest = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such setting, or no pathconf (Windows)
        return 255
    return longest if longest > 0 else 255


def _temporary(target: Path, found: os.stat_result | None, shown: str) -> tuple[str, int]:
    """Create the temporary file beside `target`: a new file's mode follows the umask."""
    stem = _stem(target)
    for _ in range(100):
        tmp = str(target.parent / f".{stem}.{os.getpid()}.{secrets.token_hex(4)}{_TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if found else 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
        if found is not None:
            try:
                os.fchmod(fd, stat.S_IMODE(found.st_mode))
                if (found.st_uid, found.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(OSError):
                        os.fchown(fd, found.st_uid, found.st_gid)
            except OSError as exc:
                os.close(fd)
                os.unlink(tmp)
                raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
        return tmp, fd
    raise OutputError(f"cannot write {shown}: no free temporary name")  # pragma: no cover


def _sweep(target: Path) -> None:
    """Remove temporary files of `target` left by processes that no longer exist."""
    stem = _stem(target)
    with contextlib.suppress(OSError):
        for left in target.parent.glob(f".{_glob_escape(stem)}.*{_TEMP_SUFFIX}"):
            pid = left.name[len(stem) + 2 :].split(".", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    left.unlink()


def _glob_escape(name: str) -> str:
    """`name` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextmanager
def _given_stream(descriptor: int, mode: str, shown: str) -> Iterator[IO[Any]]:
    """Write a descriptor this process was given (standard output, say) where it points."""
    binary = "b" in mode
    if descriptor in (1, 2):
        stream = sys.stdout if descriptor == 1 else sys.stderr
        yield stream.buffer if binary else stream
        stream.flush()
        return
    try:
        handle: IO[Any] = (
            os.fdopen(os.dup(descriptor), mode)
            if binary
            else os.fdopen(os.dup(descriptor), mode, encoding="utf-8", newline="")
        )
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
    with handle:
        yield handle
        handle.flush()


_GIVEN = re.compile(r"/(?:dev/fd|proc/self/fd|proc/\d+/fd)/(\d+)")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def given_descriptor(path: str | Path) -> int | None:
    """The descriptor `path` writes to: 1 for ``-``, else `inherited_descriptor`'s.

    >>> given_descriptor("-"), given_descriptor("/dev/stdout"), given_descriptor("out.csv")
    (1, 1, None)
    """
    return 1 if str(path) == "-" else inherited_descriptor(path)


def inherited_descriptor(path: str | Path) -> int | None:
    """The descriptor `path` names, for ``/dev/stdout``, ``/dev/fd/3`` and links to them; else None.

    Opening such a path opens the file the descriptor points to again: written by renaming a
    new file over it, a shell's ``>> log.txt`` lost what the log held, and a pipe could not be
    opened at all. Such a path is written through the descriptor itself, as it is.

    >>> inherited_descriptor("/dev/stdout"), inherited_descriptor("/dev/fd/7"), inherited_descriptor("out.csv")
    (1, 7, None)
    """
    text = os.path.abspath(path)
    for _ in range(40):  # a chain of links, followed one at a time
        if text in _STANDARD:
            return _STANDARD[text]
        found = _GIVEN.fullmatch(text)
        if found is not None and (found.group(0).startswith(("/dev/fd/", "/proc/self/")) or
                                  text.startswith(f"/proc/{os.getpid()}/")):  # fmt: skip
            return int(found.group(1))
        try:
            link = os.readlink(text)
        except OSError:
            return None
        text = os.path.normpath(os.path.join(os.path.dirname(text), link))
    return None


@contextmanager
def _direct(target: Path, mode: str, shown: str) -> Iterator[IO[Any]]:
    """Write a device or FIFO in place (it cannot be replaced, and must not be)."""
    try:
        handle: IO[Any] = (
            open(target, mode)  # noqa: SIM115 - closed below
            if "b" in mode
            else open(target, mode, encoding="utf-8", newline="")  # noqa: SIM115
        )
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
    try:
        with handle:
            yield handle
            handle.flush()
    except OSError as exc:
        if exc.errno in _WRITE_ERRORS or exc.errno == errno.EPIPE:
            raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
        raise


def write_decisions(decisions: Iterable[Decision], path: str | Path, fmt: str | None = None) -> int:
    """Write decisions to `path` as ``jsonl``, ``csv`` (long) or ``xlsx`` (by suffix by default).

    Streams for JSON Lines and CSV; returns how many decisions were written. The file is written
    with `atomic_writer`, and CSV and XLSX values with `neutralise`.

    >>> import pbr, pathlib, tempfile
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "decisions.csv"
    >>> write_decisions([pbr.evaluate(family, as_of=date(2013, 1, 1))], path)
    1
    >>> path.read_text().splitlines()[1].split(",")[:3]
    ['F1', '', 'tf-phase-1']
    """
    refuse_folder_name(path)  # Path() drops a trailing separator: the file would be replaced
    path = Path(path)
    fmt = fmt or {".csv": "csv", ".xlsx": "xlsx"}.get(path.suffix.lower(), "jsonl")
    n = 0
    if fmt == "xlsx":
        data, n = xlsx_decisions(decisions)
        with atomic_writer(path, "wb") as handle:
            handle.write(data)
        return n
    with atomic_writer(path) as handle:
        if fmt == "csv":
            writer = CsvWriter(handle, RESULT_COLUMNS)
            writer.writeheader()
            for decision in decisions:
                writer.writerows(result_rows(decision))
                n += 1
        else:
            for decision in decisions:
                handle.write(decision.model_dump_json() + "\n")
                n += 1
    return n


def xlsx_decisions(decisions: Iterable[Decision]) -> tuple[bytes, int]:
    """An XLSX workbook of `decisions` (`write_decisions`' ``xlsx``), and how many it holds.

    The bytes are made in memory, for the caller to write when (and whether) it chooses.

    Raises:
        pbr.errors.MissingExtra: openpyxl is not installed (an `ImportError`).

    """
    try:
        from openpyxl import Workbook
    except ImportError as exc:
        from pbr.errors import MissingExtra

        raise MissingExtra('XLSX output needs openpyxl: pip install "pbr-claims[xlsx]"') from exc
    from openpyxl.cell import WriteOnlyCell

    from pbr._xlsx import discarded_if_unfinished, saved, typed_cell

    n = 0
    with discarded_if_unfinished(Workbook(write_only=True)) as book:
        sheet = book.create_sheet("results")
        sheet.append(list(RESULT_COLUMNS))
        for decision in decisions:
            for row in result_rows(decision):
                sheet.append(
                    [typed_cell(WriteOnlyCell, sheet, _typed(c, row[c])) for c in RESULT_COLUMNS]
                )
            n += 1
        return saved(book), n


MONEY_COLUMNS = ("attachment_fee", "amount", "rate", "payable", "paid_to_date")
"""The long table's money columns: `Decimal` in `to_pandas`, each with a ``_pence`` twin."""
FAMILY_MONEY = ("attachment_fee", "payable", "paid_to_date", "fee_due")
"""Money of the family, not of the result: repeated on each of the family's result rows."""
FRAME_COLUMNS = (
    *RESULT_COLUMNS,
    *(f"{name}_pence" for name in MONEY_COLUMNS),
    "fee_due_pence",
    "source",
    "line",
    "record",
    "rejection",
)
"""The columns of `to_pandas`' frame, in order."""
_TEXT_OR_NONE = (
    "local_authority",
    "outcome_plan",
    "warnings",
    "interpretations",
    "rules_hash",
    "source",
    "rejection",
)
"""`to_pandas`' text columns that a row may lack: None there, not NaN."""


def to_pandas(decisions: Iterable[Decision | Rejection]) -> Any:
    """A pandas DataFrame with one row per family and result (``pip install "pbr-claims[pandas]"``).

    The columns of the long CSV (`RESULT_COLUMNS`), typed for analysis: `eligible` is boolean,
    `as_of`, `attached_on` and `earliest_date` are dates (``datetime64``, NaT when none), and
    money is exact twice over: `Decimal` in the CSV's columns and whole pence (``Int64``) in
    their ``_pence`` twins, which sum and plot. `fee_due_pence` is the attachment fee a run
    counts (an eligible family's, once attached by the as-of date: `pbr.totals.fee_due`).

    `attachment_fee`, `payable`, `paid_to_date` and `fee_due_pence` belong to the family and
    are repeated on each of its result rows: sum them over ``frame.drop_duplicates("family_id")``;
    `amount` and `rate` belong to the row's result and sum as they are. A `Rejection` becomes one
    row with status ``rejected``, its council (as `pbr.Totals` counts it), its error types as
    reason codes, where it is, and each error as ``field = value: why`` in `rejection`, so
    nothing is dropped. Where it is: its `source`, its `line` when known (a record
    `pbr.read_records` could not read has one; one `pbr.evaluate_many` rejects, say a family
    attached outside every programme, has none) and its `record`, the 1-based record number,
    always. A decision's rows have NA in both.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> frame = pbr.to_pandas([pbr.evaluate(family, as_of=date(2013, 1, 1))])
    >>> frame.shape, frame.loc[0, "result"], str(frame["eligible"].dtype)
    ((3, 31), 'crime_asb_education', 'boolean')
    """
    from pbr.forecast._extras import pandas
    from pbr.io import Rejection
    from pbr.totals import fee_due

    rows: list[dict[str, Any]] = []
    for decision in decisions:
        if isinstance(decision, Rejection):
            rows.append(
                {
                    "family_id": decision.family_id,
                    "local_authority": decision.local_authority,  # as totals count it
                    "status": "rejected",
                    "reason_codes": " ".join(e.type for e in decision.errors),
                    "source": decision.source,
                    "line": decision.line,
                    "record": decision.record,
                    "rejection": "; ".join(e.describe() for e in decision.errors),
                }
            )
            continue
        if not hasattr(decision, "results"):
            raise TypeError(
                f"to_pandas takes decisions (and rejections), got {type(decision).__name__}; "
                "evaluate first: pbr.to_pandas(pbr.evaluate_many(records, as_of=...))"
            )
        due = fee_due(
            decision.eligible, decision.attachment_fee, decision.attached_on, decision.as_of
        )
        _typed_rows(decision, due, rows)
    pd = pandas()
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    for column in _TEXT_OR_NONE:  # not NaN
        frame[column] = pd.Series([row.get(column) for row in rows], dtype=object)
    frame["eligible"] = frame["eligible"].astype("boolean")
    for column in ("as_of", "attached_on", "earliest_date"):
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d")
    for column in (*(f"{name}_pence" for name in MONEY_COLUMNS), "fee_due_pence", "line", "record"):
        frame[column] = frame[column].astype("Int64")
    return frame


@in_exact_arithmetic  # pence whatever the caller's `decimal` context
def _typed_rows(d: Decision, due: Decimal, rows: list[dict[str, Any]]) -> None:
    """`to_pandas`'s rows of one decision (`due`: its fee counted): the CSV's rows, typed.

    Money is the `Decimal` the CSV's text reads back as, with whole pence beside it; the flag
    a bool; a missing council or date None. Built from the decision's own values, not by
    reading its CSV text back: half the time (tests/test_tables_batch.py holds them equal).
    """
    fee, payable, paid = _money(d.attachment_fee), _money(d.payable), _money(d.paid_to_date)
    family = {
        "family_id": d.family_id,
        "local_authority": d.local_authority,  # none: missing, not ""
        "programme": d.programme,
        "rules_version": d.rules_version,
        "outcome_plan": d.outcome_plan,  # phase one: missing, not ""
        "as_of": d.as_of.isoformat(),
        "attached_on": d.attached_on.isoformat(),
        "attachment_year": d.attachment_year,
        "eligible": d.eligible,
        "attachment_fee": fee,
        "payable": payable,
        "paid_to_date": paid,
        "attachment_fee_pence": int(fee * 100),
        "payable_pence": int(payable * 100),
        "paid_to_date_pence": int(paid * 100),
        "fee_due_pence": int(due * 100),
        "warnings": " ".join(dict.fromkeys(w.code for w in d.warnings)),
        "interpretations": interpretations_text(d.interpretations),
        "rules_hash": _rules_hash(d),
    }
    for kind, r in d.results.items():
        amount, rate = _money(r.amount), _money(r.rate)
        rows.append(
            {
                **family,
                "result": kind,
                "status": r.status,
                "amount": amount,
                "rate": rate,
                "earliest_date": r.earliest_date.isoformat() if r.earliest_date else None,
                "reason_codes": " ".join(r.codes),
                "amount_pence": int(amount * 100),
                "rate_pence": int(rate * 100),
            }
        )


def _money(amount: Decimal) -> Decimal:
    """The `Decimal` the CSV's text of `amount` reads back as (`_pounds`): two places."""
    return amount if _two_places(amount) else Decimal(f"{amount:.2f}")
