"""Claim files: what a council submits (CSV or JSON), read row by row, bad rows reported."""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, cast, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from pbr._bounded import MAX_LINE_BYTES
from pbr._csv_lines import UNCLOSED as _UNCLOSED
from pbr._csv_lines import separator_in, shown_columns, unclosed, unended
from pbr._csv_lines import split as _split
from pbr._record_checks import printable_text
from pbr._strict import IsoDate
from pbr._terminal import printable
from pbr._unreadable import cannot_read, not_a_text_file, not_compressed, not_utf8
from pbr._untracked import untracked
from pbr.money import Money
from pbr.periods import AS_OF_EARLIEST
from pbr.records import Code, Identifier, PaymentKind

__all__ = ["CLAIM_COLUMNS", "Claim", "ClaimRejection", "read_claims"]

CLAIM_COLUMNS = ("claim_id", "family_id", "kind", "amount", "claimed_on", "window")
"""The columns of a claim file, in order; ``window`` (the claim window's label) is optional."""


def _unsigned(amount: Decimal) -> Decimal:
    """Refuse ``-0.00`` as ``-5`` is refused: no amount claimed carries a minus sign."""
    if amount.is_signed():
        raise ValueError(f"money must not be negative, got '{amount}'")
    return amount


def _programme_date(day: date) -> date:
    """Refuse a claim dated before any programme began (pbr evaluates from that day on)."""
    if day < AS_OF_EARLIEST:
        raise ValueError(
            f"a claim is dated from {AS_OF_EARLIEST}, when the first programme began (the "
            f"earliest date pbr evaluates), got {day}"
        )
    return day


class Claim(BaseModel):
    """One claim line: a payment the council asks for, for one family and one kind.

    `kind` is ``attachment_fee`` or a result kind of the family's programme; `amount` is exact
    pounds (pence at most, never a float).

    >>> from datetime import date
    >>> claim = Claim(claim_id="C-1", family_id="F1", kind="attachment_fee", amount="3200.00",
    ...               claimed_on=date(2012, 11, 1))
    >>> claim.amount, claim.window
    (Decimal('3200.00'), None)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: Code
    """1–64 characters, no control character: the rule of a payment's `claim_id` (and so of a
    ledger's), which a claim once escaped, to be refused later by every reader of the ledger."""
    family_id: Identifier
    kind: PaymentKind
    amount: Annotated[Money, Field(ge=Decimal(0)), AfterValidator(_unsigned)]
    claimed_on: Annotated[IsoDate, AfterValidator(_programme_date)]
    """From `pbr.periods.AS_OF_EARLIEST` (1 April 2012) to 2099-12-31: the dates pbr evaluates."""
    window: Annotated[str, Field(max_length=64), AfterValidator(printable_text)] | None = None
    row: int = 0
    """Where the claim was read (its row in a CSV file, line in JSON Lines, item in an array)."""


@dataclass(frozen=True, slots=True)
class ClaimRejection:
    """A claim row that could not be read: where, which field, what value, and why.

    `kind` and `amount` are the row's kind and amount where they could be read on their own: the
    reconciliation shows that money as claimed but unverified, so nothing claimed drops out.

    >>> ClaimRejection("claims.csv", 4, "C9", "amount", "'12.345'", "too many decimals").describe()
    "claims.csv:4 claim 'C9': amount = '12.345': too many decimals"
    """

    source: str
    row: int
    claim_id: str | None
    field: str
    value: str
    message: str
    kind: str | None = None
    """The row's kind, if it is a payment kind (else None)."""
    amount: Decimal | None = None
    """The row's amount, if it is a sum of money (else None)."""
    family_id: str | None = None
    """The row's family id, if it is one (else None): the report keeps what could be read."""
    claimed_on: date | None = None
    """The row's claim date, if it is one a claim may have (else None)."""
    window: str | None = None
    """The row's window, if it is one a claim may have (else None)."""
    amount_text: str = ""
    """The amount as written when it could not be read (``'2,300.00'``, a JSON ``2300.00``),
    ``(empty)``, ``(missing)``, ``(row not readable)``, or for a CSV row whose values cannot be
    lined up with the columns ``(values not lined up with the columns)`` and the row as written;
    empty when `amount` was read."""

    def describe(self) -> str:
        r"""One line for people: ``claims.csv:4 claim 'C9': amount = '12.345': ...``.

        Safe on a terminal: control characters are escaped and a byte that was not UTF-8 is
        shown as ``\xff``.
        """
        who = f" claim {self.claim_id!r}" if self.claim_id else ""
        line = f"{self.source}:{self.row}{who}: {self.field} = {self.value}: {self.message}"
        return readable(line)


def read_claims(path: str | Path) -> tuple[list[Claim], list[ClaimRejection]]:
    r"""Read a claim file (``.csv``, ``.json`` or ``.jsonl``); every row is a claim or a rejection.

    CSV columns: ``claim_id, family_id, kind, amount, claimed_on`` and optionally ``window``,
    separated by commas, one row a line; CSV rows are numbered by their lines (the header is row
    1; a blank line, empty or of commas only, is skipped but still counts). No value holds a line
    break: a quote encloses a whole value or is not there, and a stray or unclosed quote makes
    its own row a rejection (it never joins the lines after it). Nothing is trimmed or coerced:
    a value with spaces around it, or a row of white space only, is refused like any other bad
    value. A row that repeats an earlier one exactly is read as a claim (`verify` flags it
    ``DUPLICATE_IN_FILE``). Rows that share a ``claim_id`` with other values are each a
    rejection, naming the rows with other values, whatever their order: which of them is the
    claim cannot be known. A missing or unknown column, surplus values, a JSON key given twice,
    bytes that are not UTF-8 and a bad value are each a rejection naming the row, the field and
    the value, with the claim id, kind and amount where they can be read. Nothing is dropped. The file is read to a
    limit, refused beyond it (an endless stream, ``/dev/zero``): 512 MiB
    (`pbr._bounded.MAX_TEXT_FILE_BYTES`; a national claim file is about 200 MB) and, but in a
    ``.json`` document, 1 MiB a line.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "claims.csv"
    >>> _ = path.write_text("claim_id,family_id,kind,amount,claimed_on\n"
    ...     "C1,F1,attachment_fee,3200.00,2012-11-01\nC2,F2,attachment_fee,12.345,2012-11-01\n")
    >>> claims, rejected = read_claims(path)
    >>> [c.claim_id for c in claims], rejected[0].row, rejected[0].field
    (['C1'], 3, 'amount')

    Raises:
        pbr.io.UnreadableFile: the file cannot be opened, is larger than 512 MiB or has a line
            longer than 1 MiB (not text at all: NUL bytes), holds no claims, is UTF-16 rather than
            UTF-8, (``.json``) is not JSON at all, (read as JSON Lines: any other name) starts
            with a CSV header, or (``.csv``) has a header no row can be read
            by: not UTF-8, a column named twice or with spaces around its name, or none of the
            columns of a claim file (another separator than a comma, say).

    """
    from pbr._bounded import Refused, read_limited
    from pbr.io import UnreadableFile

    path = Path(path)
    suffix = path.suffix.lower()
    try:  # a .json document may be one line: no line limit
        data = read_limited(
            path,
            "a claim file",
            max_line=None if suffix == ".json" else MAX_LINE_BYTES,
            check=lambda head: _text(path, head),
        )
    except UnreadableFile:  # (an OSError) the start is not a claim file's: `_text` says why
        raise
    except OSError as exc:
        raise UnreadableFile(readable(cannot_read(f"claim file {path}", exc))) from None
    except Refused as exc:
        raise UnreadableFile(readable(str(exc))) from None
    text = _text(path, data)
    del data
    if not text.strip():
        raise UnreadableFile(readable(f"no claims in {path}: the file is empty"))
    if suffix == ".csv":
        rows = _csv_rows(path, text)
    elif suffix == ".json":
        rows = _json_items(path, text)
    else:
        _refuse_csv_as_json_lines(path, text)
        rows = _json_lines(text)
    claims, rejected = _read_rows(path.name, rows)
    if not claims and not rejected:
        holds = "a header row but no claim rows" if suffix == ".csv" else "an empty list"
        raise UnreadableFile(readable(f"no claims in {path}: it has {holds}"))
    return claims, rejected


def _read_rows(
    source: str, rows: Iterable[tuple[int, Any]]
) -> tuple[list[Claim], list[ClaimRejection]]:
    """Each row as a claim or a rejection, in file order, whatever the order of the rows.

    Rows that are claims on their own but share a claim id with other values are each a
    rejection (`_ambiguous`): which of them is the claim cannot be known, and taking the first
    would let the order of the rows decide what is claimed.
    """
    claims: list[Claim] = []
    rejected: list[ClaimRejection] = []
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    again: dict[str, dict[int, dict[str, Any]]] = {}  # a claim id's rows, once it is on two
    for n, row in rows:
        claim_or_error = _claim(source, n, row)
        if isinstance(claim_or_error, Claim):
            claims.append(claim_or_error)
            claim_id = claim_or_error.claim_id
            if claim_id not in seen:
                seen[claim_id] = (n, _content(row))
            else:
                again.setdefault(claim_id, dict([seen[claim_id]]))[n] = _content(row)
        else:
            rejected.append(claim_or_error)
    ambiguous = {k: rows for k, rows in again.items() if len(set(map(_key, rows.values()))) > 1}
    if not ambiguous:
        return claims, rejected
    rejected += [
        _ambiguous(source, c, ambiguous[c.claim_id]) for c in claims if c.claim_id in ambiguous
    ]
    return [c for c in claims if c.claim_id not in ambiguous], sorted(rejected, key=lambda r: r.row)


def _key(content: dict[str, Any]) -> str:
    """A row's content (`_content`) as one value, to tell rows of other values apart."""
    return repr(sorted(content.items()))


def _ambiguous(source: str, claim: Claim, rows: dict[int, dict[str, Any]]) -> ClaimRejection:
    """The rejection of a claim whose claim id other rows have with other values."""
    own = _key(rows[claim.row])
    others = [n for n, content in rows.items() if _key(content) != own]
    where = f"row {others[0]}" if len(others) == 1 else f"rows {_listed(others)}"
    return ClaimRejection(
        source,
        claim.row,
        claim.claim_id,
        "claim_id",
        repr(claim.claim_id),
        f"the same claim_id is on {where} with other values: which row is the claim cannot be "
        "known, so none of them is read",
        kind=claim.kind,
        amount=claim.amount,
        family_id=claim.family_id,
        claimed_on=claim.claimed_on,
        window=claim.window,
    )


def _listed(numbers: list[int]) -> str:
    """``2, 3 and 5``."""
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def readable(text: str) -> str:
    r"""Text from a claim file as people can read it: bytes not UTF-8 as ``\xff``, controls escaped.

    >>> readable("M-013\x1b[31m"), readable("Q\udcff")
    ('M-013\\x1b[31m', 'Q\\xff')
    """
    return printable(_NOT_UTF8.sub(lambda bad: f"\\x{ord(bad.group()) - 0xDC00:02x}", text))


def _text(path: Path, data: bytes) -> str:
    """The file as text; a bad byte is kept (as a surrogate) to spoil its own row only."""
    from pbr.io import UnreadableFile

    binary = not_a_text_file(data[:8], "a claim file (claims are CSV or JSON)")
    if binary is not None:  # not "UTF-16": a zip's NUL bytes are not text of any encoding
        raise UnreadableFile(readable(f"{path}: {binary}"))
    compressed = not_compressed(str(path), data[:8])  # nor a gzip file's
    if compressed is not None:
        raise UnreadableFile(readable(compressed))
    end = data.find(b"\n")
    first_line = data if end < 0 else data[:end]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in first_line:
        raise UnreadableFile(
            readable(
                f"{path} is not UTF-8: it looks like UTF-16 (a byte-order mark or NUL bytes); "
                "save it as UTF-8 (in Excel: CSV UTF-8)"
            )
        )
    return data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")


def _content(row: Any) -> dict[str, Any]:
    """A row's values as compared for an exact duplicate (an empty value = missing)."""
    return {k: v for k, v in ((k, _clean(v)) for k, v in row.items()) if v is not None}


_SURPLUS = "__surplus__"
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
"""A byte that was not UTF-8, kept by the ``surrogateescape`` decoding."""
_BAD_JSON = "__bad_json__"
_QUOTE = "__quote__"
"""A CSV row's quoting problem (or a row of white space only): (field, value, why)."""
_Problem = tuple[str, str, str]
"""What is wrong with a row: the field, its value as shown, and why."""


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """(row number, fields) for each CSV line, once the header is known to be readable.

    The file is read line by line (a line ends at CR, LF or CRLF, as a spreadsheet counts
    them): no claim value holds a line break, so a quote never joins lines into one row. A
    stray or unclosed quote spoils its own row only, which is reported (`_split`).
    """
    from pbr.io import UnreadableFile

    lines = io.StringIO(text, newline="")
    header = next(lines, "")
    names, quoting = _split(unended(header))
    if quoting is not None:
        column, value, _ = quoting
        shown = value if value.startswith("'") else repr(value)
        raise UnreadableFile(
            readable(
                f"{path}: column {column} of the header, {shown[:80]}, has a stray or unclosed "
                'quote ("): no row can be read by this header'
            )
        )
    problem = _header_problem(names)
    if problem is not None:
        raise UnreadableFile(readable(f"{path}: {problem}"))
    return _csv_records(text, lines, names, len(header))


def _csv_records(
    text: str, lines: Iterable[str], names: list[str], offset: int
) -> Iterator[tuple[int, Any]]:
    """(row number, fields) for each line after the header; a row number is its line number.

    An empty line, or one of commas only (how a spreadsheet saves an empty row), is blank:
    skipped, though still counted. A line of white space only is a row, and is reported.
    """
    for number, line in enumerate(lines, start=2):
        start, offset = offset, offset + len(line)
        content = unended(line)
        if not content.strip(","):
            continue
        values, problem = _split(content)
        fields = _CsvRow(zip(names, values, strict=False))
        fields.line = content
        fields.unfilled = tuple(n for n in names[len(values) :] if n != "window")
        if len(values) > len(names):
            fields[_SURPLUS] = values[len(names) :]
        if problem is not None:
            column, value, message = problem
            field = names[column - 1] if column <= len(names) else f"(column {column})"
            if message == _UNCLOSED:
                message = unclosed(text, start + len(content) - len(value), number, "claim value")
                value = repr(value)[:80]
            fields[_QUOTE] = (field, value, message)
        elif not content.strip(", \t"):
            fields[_QUOTE] = ("(row)", repr(content)[:80], _WHITE_ROW)
        yield number, fields


class _CsvRow(dict[str, Any]):
    """A CSV row's values by column, with its line as written and the columns it leaves empty.

    The line is what the audit lists for a row whose values cannot be lined up with the columns
    (`_misaligned`): which value is the amount cannot be known, so none is read.
    """

    __slots__ = ("line", "unfilled")
    line: str
    unfilled: tuple[str, ...]
    """The columns (``window`` aside, which may be left off) after the row's last value."""


MISALIGNED = "(values not lined up with the columns)"
"""How `ClaimRejection.amount_text` begins for such a row (the row as written follows)."""
_THOUSANDS = re.compile(r"\d{1,3}")
_GROUP = re.compile(r"\d{3}(\.\d*)?")
"""An amount and the value after it as a thousands separator splits ``1,500.00``."""
_NO_GROUP = frozenset({"claimed_on", "kind", "window"})
"""The columns whose values are never three digits: one there is a split amount's tail. A
window is a label (``2015-Q4``), which may be a number: three digits alone there, after an
amount of one to three, are taken for ``1,500.00`` unquoted only when the two make a claim pbr
could allow (`_LARGEST_CLAIM`); reading £1.00 would be silent."""


def _misaligned(row: dict[str, Any]) -> bool:
    """Whether a CSV row's values cannot be lined up with its columns, so no amount is read.

    It has more values than the header has columns (``2,300.00`` unquoted in a row with a
    window; empty values past the last column are no values), fewer than the columns it needs,
    or an amount of one to three digits followed, in a column that cannot hold it (the claim
    date, the kind or the window), by a value of three (``1,500.00`` in a row with a window, or
    in a row whose window after the amount is left empty): a comma split the amount. A value of three digits that its column can hold (a family id ``123``) is no
    sign of a split.
    """
    if not isinstance(row, _CsvRow):
        return False
    if any(v.strip() for v in row.get(_SURPLUS, ())) or row.unfilled:
        return True
    columns = list(row)
    at = columns.index("amount") + 1 if "amount" in columns else len(columns)
    if not (
        at < len(columns)
        and columns[at] in _NO_GROUP
        and isinstance(row["amount"], str)
        and _THOUSANDS.fullmatch(row["amount"]) is not None
        and isinstance(row[columns[at]], str)
        and _GROUP.fullmatch(row[columns[at]]) is not None
    ):
        return False
    # a window can be a number: after an amount, three digits are its split tail only when
    # the two make a claim pbr could allow (no family is allowed over £4,000)
    tail = row[columns[at]]
    return columns[at] != "window" or int(row["amount"]) * 1000 + int(tail[:3]) <= _LARGEST_CLAIM


_LARGEST_CLAIM = 4000
"""The most any claim can be allowed, in whole pounds: phase one's cap per family."""


_WHITE_ROW = (
    "the row holds only white space: delete the line, or leave its values empty (nothing "
    "in a claim file is trimmed)"
)


def _header_problem(names: list[str]) -> str | None:
    """Why no row could be read by this header: not UTF-8, a name spaced or repeated, or foreign.

    >>> _header_problem(["claim_id", "amount", "amount"])
    "the header has the column 'amount' twice (columns 2 and 3): which one holds the value cannot be known, so no row is read"
    """
    for number, name in enumerate(names, start=1):
        if _NOT_UTF8.search(name):
            return (
                f"the header is not UTF-8 (column {number} is '{readable(name)}'): save the "
                "file as UTF-8"
            )
    for number, name in enumerate(names, start=1):
        if name != name.strip():
            return (
                f"column {number} of the header, {name!r}, has spaces around it: remove them "
                "(nothing in a claim file is trimmed)"
            )
    for number, name in enumerate(names, start=1):
        if name in names[: number - 1]:
            first = names.index(name) + 1
            return (
                f"the header has the column {name!r} twice (columns {first} and {number}): which "
                "one holds the value cannot be known, so no row is read"
            )
    if not set(names) & set(CLAIM_COLUMNS):
        return _foreign_header(names)
    return None


def _foreign_header(names: list[str]) -> str:
    """The columns found and those expected, for a header with none of a claim file's."""
    found = shown_columns(names) or "no columns"
    separator = separator_in(names)
    hints = (
        [f"this file seems to use {separator}: the separator must be a comma"] if separator else []
    )
    if {n.lower() for n in names} & set(CLAIM_COLUMNS):
        hints.append("the column names are lower case")
    return (
        f"the header has none of the columns of a claim file: found {found}; expected "
        f"{', '.join(CLAIM_COLUMNS[:-1])} and optionally {CLAIM_COLUMNS[-1]}, separated by "
        "commas" + "".join(f" ({hint})" for hint in hints)
    )


class _Repeats(dict[str, Any]):
    """A JSON object with a key given more than once, with every value of each such key."""

    __slots__ = ("repeated",)
    repeated: dict[str, list[Any]]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; one with a key given twice keeps every value of that key."""
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    values: dict[str, list[Any]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    found = _Repeats(obj)
    found.repeated = {k: v for k, v in values.items() if len(v) > 1}
    return found


def _repeats(row: dict[str, Any]) -> dict[str, list[Any]]:
    """The keys the row gives more than once, with their values (none for a CSV row)."""
    return row.repeated if isinstance(row, _Repeats) else {}


def json_keeping_repeats(text: str) -> Any:
    """JSON read as usual, but each object with a key given twice keeps every value of it.

    What the claim file reader sees (`repeated_key` finds such a key at any depth).

    >>> repeated_key(json_keeping_repeats('{"a": {"b": 1, "b": 2}}'))
    ('a.b', [1, 2])
    """
    return json.loads(text, object_pairs_hook=_object)


def repeated_key(value: Any, path: str = "") -> tuple[str, list[Any]] | None:
    """The first key given more than once in `value` (read by `json_keeping_repeats`), anywhere.

    Its dotted path (list items by their index) and every value given for it; None when every
    key is given once. JSON readers disagree on which value of such a key counts.

    >>> repeated_key(json_keeping_repeats('[{"x": 1}, {"y": [0, {"z": 1, "z": 1}]}]'))
    ('1.y.1.z', [1, 1])
    >>> repeated_key({"a": 1}) is None
    True
    """
    if isinstance(value, dict):
        for key, values in _repeats(value).items():
            return f"{path}{key}", values
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        found = repeated_key(inner, f"{path}{key}.")
        if found is not None:
            return found
    return None


def _json_items(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """(item number, item) for a ``.json`` file: an array of claims, or one claim."""
    from pbr.io import UnreadableFile

    try:
        data = _json(text)
    except (ValueError, RecursionError) as exc:
        why = _too_deep(text) if isinstance(exc, RecursionError) else str(exc)[:200]
        raise UnreadableFile(readable(f"{path} is not JSON: {why}")) from None
    items = data if isinstance(data, list) else [data]
    return iter(enumerate(items, start=1))


def _too_deep(text: str) -> str:
    """Why JSON nested deeper than Python reads is not read: in the family reader's words."""
    from pbr._json_faults import too_deep

    return too_deep(text.encode("utf-8", "surrogatepass"), "", "any claim")


def _refuse_csv_as_json_lines(path: Path, text: str) -> None:
    """Refuse a file read as JSON Lines whose first line is a CSV header: it is CSV misnamed.

    Read as JSON Lines, every row of it would be "invalid JSON": say why, once, instead.
    """
    from pbr.io import UnreadableFile

    first = next((line for line in text.split("\n") if line.strip()), "")
    if "claim_id" in first and "," in first and not first.lstrip().startswith(("{", "[")):
        named = f"its name ends in {path.suffix}" if path.suffix else "it has no suffix"
        raise UnreadableFile(
            readable(
                f"{path} is read as JSON Lines ({named}), but its first line looks like a CSV "
                f"header ({first.strip()[:60]!r}): if it is CSV, name it .csv"
            )
        )


def _json_number(text: str) -> int | Decimal:
    """A JSON integer; ``-0`` kept as ``Decimal('-0')``, so an amount of -0 is refused."""
    return Decimal(text) if text.startswith("-0") else int(text)


def _json(text: str) -> Any:
    """JSON as a claim file holds it: a key given twice kept, numbers as written (not floats)."""
    return json.loads(
        text, object_pairs_hook=_object, parse_int=_json_number, parse_float=_WrittenFloat
    )


class _WrittenFloat(float):
    """A JSON number with a fraction or an exponent: a float, shown as the file writes it.

    Such a number is refused wherever a claim has it (an amount is never a float), and the
    rejection shows it as written (``700.000000000000001``, ``1e3``), not as Python reads it
    (``700.0``, ``1000.0``), so that the auditor can find it in the file.

    >>> _WrittenFloat("1e3"), float(_WrittenFloat("1e3"))
    (1e3, 1000.0)
    """

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> _WrittenFloat:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    """(line number, claim) for each JSON line; lines end at a newline only, as JSON Lines say."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield n, _json(line)
        except (ValueError, RecursionError) as exc:
            yield (
                n,
                {_BAD_JSON: _too_deep(line) if isinstance(exc, RecursionError) else str(exc)[:200]},
            )


def _claim(source: str, n: int, row: Any) -> Claim | ClaimRejection:
    unread = "(row not readable)"
    if not isinstance(row, dict):
        return ClaimRejection(
            source, n, None, "(row)", repr(row)[:60], "a claim is an object", amount_text=unread
        )
    if _BAD_JSON in row:
        return ClaimRejection(
            source, n, None, "(line)", "", f"invalid JSON: {row[_BAD_JSON]}", amount_text=unread
        )
    claim_id = _claim_id(row)
    read = _readable(row)
    problem = (
        row.get(_QUOTE)
        or _repeated_key(row)
        or _bad_bytes(row)
        or _surplus(row)
        or _short(row)
        or _split_amount(row)
        or _spaced(row)
    )
    if problem is not None:
        field, value, message = problem
        return ClaimRejection(source, n, claim_id, field, value, message, **read)
    return _validated(source, n, row, claim_id, read)


def _claim_id(row: dict[str, Any]) -> str | None:
    """The row's claim id as written, to name it in a rejection, when it can be read.

    Spaces around it are kept: trimmed, `` C9`` named the row as the claim ``C9``. An id of
    white space only names no claim.
    """
    raw = row.get("claim_id")
    if not isinstance(raw, str) or "claim_id" in _repeats(row) or _NOT_UTF8.search(raw):
        return None
    if len(raw) > 64:  # no claim id is longer (`Claim.claim_id`): not one to name the row by
        return None
    return raw if raw.strip() else None


def _repeated_key(row: dict[str, Any]) -> _Problem | None:
    """A key given twice: JSON readers disagree on which value counts, so neither is used."""
    repeats = _repeats(row)
    if not repeats:
        return None
    key, values = next(iter(repeats.items()))
    more = [repr(k) for k in repeats if k != key]
    also = f" (and {', '.join(more)})" if more else ""
    return (
        readable(key),
        ", ".join(repr(v) for v in values)[:80],
        f"the key {key!r} is given {len(values)} times in this claim{also}; JSON readers "
        "disagree on which value counts, so pbr uses neither",
    )


def _bad_bytes(row: dict[str, Any]) -> _Problem | None:
    """The first key or value holding bytes that are not UTF-8, shown in hex."""
    for field, value in row.items():
        cells = value if field == _SURPLUS else [value]
        for cell in (field, *cells):
            if isinstance(cell, str) and _NOT_UTF8.search(cell):
                bad = bytes(ord(c) - 0xDC00 for c in cell if "\udc80" <= c <= "\udcff")
                name = "(row)" if field == _SURPLUS else readable(str(field))
                return name, readable(cell)[:80], not_utf8(bad)
    return None


def _surplus(row: dict[str, Any]) -> _Problem | None:
    """Values beyond the header's columns (a CSV row only)."""
    surplus = row.get(_SURPLUS)
    if surplus is None:
        return None
    return (
        "(row)",
        repr(surplus)[:80],
        f"{len(surplus)} more value(s) than the header has columns",
    )


def _split_amount(row: dict[str, Any]) -> _Problem | None:
    """An amount with a comma left unquoted (``1,500.00``), its tail in the next column."""
    if not isinstance(row, _CsvRow) or not _misaligned(row):
        return None
    columns = list(row)
    tail = columns[columns.index("amount") + 1]
    written = f"{row['amount']},{row[tail]}"
    return (
        "amount",
        repr(row["amount"]),
        f"read with the {tail} {row[tail]!r} after it, this is {written!r} unquoted: a comma "
        f'split the amount; quote it ("{written}") or write it with no comma',
    )


def _short(row: dict[str, Any]) -> _Problem | None:
    """Fewer values than the columns a claim needs (a CSV row only; a window may be left off)."""
    if not isinstance(row, _CsvRow) or not row.unfilled:
        return None
    return (
        "(row)",
        repr(row.line)[:80],
        f"{len(row.unfilled)} fewer value(s) than the columns it needs (none for "
        f"{', '.join(row.unfilled)}): which value is which cannot be known",
    )


def _spaced(row: dict[str, Any]) -> _Problem | None:
    """The first value with white space around it: refused, as nothing is trimmed or coerced."""
    for field, value in row.items():
        if isinstance(value, str) and value != value.strip():
            bare = value.strip()
            fix = f"write {bare!r} with no spaces around it" if bare else "leave it empty"
            return (
                str(field),
                repr(value)[:80],
                f"white space around the value: {fix} (nothing in a claim file is trimmed)",
            )
    return None


def _validated(
    source: str,
    n: int,
    row: dict[str, Any],
    claim_id: str | None,
    read: dict[str, Any],
) -> Claim | ClaimRejection:
    """The row as a claim, or its first bad field (with what else of it could be `read`)."""
    unknown = f"unknown column (a claim has {', '.join(CLAIM_COLUMNS)})"
    if "row" in row:  # not a claim's column, though a `Claim` has a field of that name
        return ClaimRejection(source, n, claim_id, "row", repr(row["row"])[:80], unknown, **read)
    cleaned = {k: _clean(v) for k, v in row.items()}
    if cleaned.get("window") is None:
        cleaned.pop("window", None)
    try:
        return untracked(Claim.model_validate({**cleaned, "row": n}), (), (Claim,))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(row)"
        shown = err["input"]
        shown = str(shown) if isinstance(shown, Decimal) else repr(shown)  # a JSON -0 as -0
        value = shown if err["type"] != "missing" else "(missing)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] != "missing" and err["input"] is None:
            value, message = "(empty)", "a value is required"
        if err["type"] == "extra_forbidden":
            message = unknown
        return ClaimRejection(source, n, claim_id, field, value[:80], message, **read)


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """What of a row can be read field by field, each on its own (`ClaimRejection`'s fields).

    The kind and the amount go into the reconciliation (an amount read is claimed but
    unverified); the family, date and window are kept so that the report shows them. An amount
    that cannot be read is kept as written (`ClaimRejection.amount_text`), so that the rows
    whose money is in no total can be counted and listed. Of a CSV row whose values cannot be
    lined up with its columns (`_misaligned`) nothing is read: its line is kept instead.
    """
    from pbr.money import money

    if _misaligned(row):
        line = readable(repr(cast(_CsvRow, row).line))[:80]
        return {
            **dict.fromkeys(("kind", "amount", "family_id", "claimed_on", "window")),
            "amount_text": f"{MISALIGNED} {line}",
        }
    repeats = _repeats(row)
    kind = None if "kind" in repeats else row.get("kind")
    raw = row.get("amount")
    try:
        amount: Decimal | None = None if "amount" in repeats else money(raw)
    except (TypeError, ValueError, ArithmeticError):
        amount = None
    if amount is not None and amount.is_signed():
        amount = None
    if amount is not None:
        written = ""
    elif "amount" in repeats:
        written = readable(", ".join(repr(v) for v in repeats["amount"]))[:80]
    elif "amount" not in row:
        written = "(missing)"
    elif raw is None or raw == "":
        written = "(empty)"
    else:
        shown = str(raw) if isinstance(raw, Decimal) else repr(raw)  # a JSON -0 as -0
        written = readable(shown)[:80]  # a JSON number as written, text in quotes
    found = {name: _one_field(row, name, repeats) for name in ("family_id", "claimed_on", "window")}
    return {
        "kind": kind if kind in get_args(PaymentKind) else None,
        "amount": amount,
        **found,
        "amount_text": written,
    }


def _one_field(row: dict[str, Any], name: str, repeats: dict[str, list[Any]]) -> Any:
    """The value of field `name` if it is one a claim may have, read on its own; else None."""
    value = row.get(name)
    if name in repeats or value is None or value == "":
        return None
    if isinstance(value, str) and (_NOT_UTF8.search(value) or value != value.strip()):
        return None
    try:
        return _FIELDS[name].validate_python(value)
    except ValidationError:
        return None


_FIELDS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(info.rebuild_annotation())
    for name, info in Claim.model_fields.items()
    if name in ("family_id", "claimed_on", "window")
}
"""A claim's field checks, one field at a time (as `Claim` checks it)."""


def _clean(value: Any) -> Any:
    """An empty value is a missing one; nothing else is changed (spaces are refused)."""
    return None if value == "" else value
