"""A record that could not be evaluated (`Rejection`) and its problems (`FieldError`).

Pydantic models (they have a JSON Schema, and serialise as decisions do), kept apart from
`pbr.io`'s readers: a reader builds one only for a bad record, so a batch of valid records never
imports pydantic. Import them from `pbr` or `pbr.io`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_serializer

from pbr._terminal import family_named, printable

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "FieldError",
    "Rejection",
    "Written",
    "already_given",
    "council_named",
    "json_text",
    "shown",
    "without_echoes",
]


class FieldError(BaseModel):
    """One problem with one field: its path, the error type, the bad value and why.

    Key on `type` and `loc` in programs; `message` is for people and may be reworded. `value` is
    the bad value as JSON text (``"2013-02-30"`` with its quotes, ``120.0``), cut at 80
    characters; it is null when the field is missing.

    >>> from pbr.io import records_from_text
    >>> rejection = next(records_from_text('{"family_id": "F9", "attached_on": "2013-02-30"}'))
    >>> error = rejection.errors[0]
    >>> error.loc, error.value, error.type
    ('attached_on', '"2013-02-30"', 'date_parsing')
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    loc: str
    """The field path, e.g. ``members.0.date_of_birth`` (empty for the whole record)."""
    type: str
    """The stable error type, e.g. ``date_parsing``, ``missing``, ``duplicate_key``."""
    value: str | None
    """The bad value as JSON text, cut at 80 characters; null when the field is missing."""
    message: str
    """Why, for people."""

    @field_serializer("loc", "value", "message", when_used="json")
    def _as_json_text(self, text: str | None) -> str | None:
        return json_text(text)

    @classmethod
    def of(cls, *, loc: str, type: str, value: object, message: str) -> FieldError:
        """An error about `value`, which is shown as JSON text and cut at 80 characters.

        >>> len(FieldError.of(loc="amount", type="money_parsing", value="9" * 999, message="").value)
        80
        """
        return cls(loc=loc, type=type, value=shown(value), message=message)

    def describe(self) -> str:
        """``loc = value: message``, or ``loc: missing`` for a missing field (and why, if said).

        A missing field's message is shown when it says more than pydantic's "Field required"
        (a council table's header without the column, a family with no rows in members).

        >>> FieldError(loc="attached_on", type="missing", value=None, message="Field required"
        ...     ).describe()
        'attached_on: missing'
        >>> FieldError(loc="offences:2.family_id", type="missing", value=None,
        ...     message="the header of offences (line 1) has no column family_id").describe()
        'offences:2.family_id: missing: the header of offences (line 1) has no column family_id'
        """
        where = printable(self.loc) or "(record)"  # a key is the record's text: written out
        if self.type == "missing":
            if self.message in ("", _REQUIRED):
                return f"{where}: missing"
            return f"{where}: missing: {printable(self.message)}"
        return f"{where} = {printable(str(self.value))}: {printable(self.message)}"


_REQUIRED = "Field required"
"""pydantic's message for a missing field, which ``missing`` already says."""


class Rejection(BaseModel):
    """A record that could not be evaluated, and everything needed to find and fix it.

    Its JSON (``model_dump(mode="json")``) is one line of ``pbr evaluate --rejections FILE``.

    >>> from pbr.io import records_from_text
    >>> bad = next(records_from_text('{"family_id": "F9", "attached_on": "2013-02-30"}'))
    >>> bad.family_id, bad.line, bad.errors[0].loc
    ('F9', 1, 'attached_on')
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    source: str
    """The file (or ``<input>``) the record came from."""
    line: int | None
    """The line the record starts on, when known."""
    record: int
    """The record's 1-based position among the records of its source; 0 for a table's row that
    belongs to no family (its error names the table and row)."""
    family_id: str | None
    """The family, when the record names one."""
    errors: tuple[FieldError, ...]
    """Every problem found, one per field."""
    local_authority: str | None = None
    """The council the record names, when its ``local_authority`` is itself sound (`council_named`):
    a run's per-council totals count the rejection there, not under "(no council)"."""

    @field_serializer("source", "family_id", when_used="json")
    def _as_json_text(self, text: str | None) -> str | None:
        return json_text(text)

    def describe(self) -> str:
        """One line per error: where, which family, which field, which value, why.

        >>> from pbr.io import records_from_text
        >>> text = '{"family_id": "F2", "attached_on": "2013-02-30", "members": []}'
        >>> print(next(records_from_text(text, source="tonight.jsonl")).describe())
        ... # doctest: +NORMALIZE_WHITESPACE
        tonight.jsonl:1 (record 1), family 'F2': attached_on = "2013-02-30": Input should be a
        valid date in the format YYYY-MM-DD, day value is outside expected range
        tonight.jsonl:1 (record 1), family 'F2': members = []: Input should be an array of at
        least 1 item
        """
        source = printable(json_text(self.source) or "")
        where = f"{source}:{self.line}" if self.line is not None else source
        who = family_named(self.family_id or None)  # a byte not UTF-8 shown once: ``'R1\x96'``
        record = f" (record {self.record})" if self.record else ""
        return "\n".join(f"{where}{record}, {who}: {e.describe()}" for e in self.errors)

    @classmethod
    def from_validation_error(
        cls,
        exc: ValidationError,
        *,
        source: str,
        line: int | None,
        record: int,
        family_id: str | None,
        local_authority: str | None = None,
    ) -> Rejection:
        """Build a rejection from pydantic's error, keeping every field path and value.

        >>> import pydantic, pbr
        >>> try:
        ...     pbr.Family.model_validate({"family_id": "F3", "attached_on": "2013-01-07"})
        ... except pydantic.ValidationError as exc:
        ...     rejection = Rejection.from_validation_error(
        ...         exc, source="api", line=None, record=1, family_id="F3")
        >>> rejection.errors[0].loc, rejection.errors[0].type, rejection.errors[0].value
        ('members', 'missing', None)
        """
        return cls(
            source=source,
            line=line,
            record=record,
            family_id=family_id,
            local_authority=local_authority,
            errors=tuple(
                FieldError(
                    loc=".".join(str(p) for p in err["loc"]),
                    type=err["type"],
                    value=None if err["type"] == "missing" else shown(_given(err)),
                    message=without_family(err["msg"]),
                )
                for err in without_echoes(exc.errors())
            ),
        )

    @classmethod
    def single(
        cls,
        *,
        source: str,
        line: int | None,
        record: int,
        family_id: str | None,
        loc: str,
        value: object,
        message: str,
        type: str,
        local_authority: str | None = None,
    ) -> Rejection:
        """A rejection with one error.

        >>> print(Rejection.single(source="claims.csv", line=3, record=2, family_id="F7",
        ...     loc="amount", value="12.345", message="at most two pence places", type="money"
        ... ).describe())
        claims.csv:3 (record 2), family 'F7': amount = "12.345": at most two pence places
        """
        return cls(
            source=source,
            line=line,
            record=record,
            family_id=family_id,
            errors=(FieldError.of(loc=loc, type=type, value=value, message=message),),
            local_authority=local_authority,
        )

    @classmethod
    def repeated_family(
        cls,
        *,
        source: str,
        line: int | None,
        record: int,
        family_id: str,
        first_line: int | None,
        first_source: str | None = None,
        local_authority: str | None = None,
    ) -> Rejection:
        """A record whose family_id an earlier record of the input had: a family is claimed once.

        The message says where the family was first given (`already_given`).

        >>> print(Rejection.repeated_family(source="f.jsonl", line=9, record=8, family_id="F1",
        ...     first_line=2).describe())
        f.jsonl:9 (record 8), family 'F1': family_id = "F1": family_id 'F1' was already given on line 2
        """
        return cls.single(
            source=source,
            line=line,
            record=record,
            family_id=family_id,
            loc="family_id",
            value=family_id,
            type="duplicate_family",
            message=already_given(family_id, first_line, first_source, source),
            local_authority=local_authority,
        )


def already_given(
    family_id: str, line: int | None, first_source: str | None = None, source: str | None = None
) -> str:
    """Why a repeated family's record is rejected: the line (and file) its family_id was first on.

    The file is named only when it is not the repeat's own `source`; a line not known (None or
    0) is said as "earlier in the input".

    >>> already_given("F1", 12)
    "family_id 'F1' was already given on line 12"
    >>> already_given("F1", 4, "a.jsonl", "b.jsonl")
    "family_id 'F1' was already given on line 4 of a.jsonl"
    >>> already_given("F1", None)
    "family_id 'F1' was already given earlier in the input"
    """
    if not line:
        return f"family_id {family_id!r} was already given earlier in the input"
    elsewhere = f" of {first_source}" if first_source and first_source != source else ""
    return f"family_id {family_id!r} was already given on line {line}{elsewhere}"


def json_text(text: str | None) -> str | None:
    r"""`text` as JSON can hold it: a byte that was not UTF-8 (kept as a surrogate) as ``\x96``.

    A file's name, or a cell read from a CSV file, keeps such a byte as a lone surrogate, which
    no JSON can hold: writing ``--rejections FILE`` once stopped on it.

    >>> json_text("bad\udc96.jsonl"), json_text("Leeds"), json_text(None)
    ('bad\\x96.jsonl', 'Leeds', None)
    """
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate no byte stands for: \udXXX
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
        return raw.decode("utf-8", "backslashreplace")
    return text


def council_named(value: object) -> str | None:
    r"""`value` if it is a sound ``local_authority`` (as `pbr.records.Family` takes one), else None.

    A rejected record's council is counted only when the record states it plainly: text of 1 to
    100 characters with no control character and no space at an edge, that UTF-8 can write.

    >>> council_named("Leeds"), council_named(""), council_named("Le\neds"), council_named(7)
    ('Leeds', None, None, None)
    >>> council_named("Leeds ")
    """
    from pbr._record_checks import printable_text, unspaced_text  # `Family`'s rules for it

    if type(value) is not str or not 1 <= len(value) <= 100:
        return None
    try:
        unspaced_text(printable_text(value))
        value.encode("utf-8")  # a lone surrogate: not text a report can print
    except ValueError:  # a control character (pydantic's error is one); UnicodeEncodeError too
        return None
    return value


class Written(str):
    r"""A value as the record's JSON writes it: shown as it is, not quoted again.

    For a value no JSON reader here gives back as it was written (``"\ud800"``, a lone
    surrogate escape).

    >>> shown(Written('"\\ud800"'))
    '"\\ud800"'
    """

    __slots__ = ()


def _given(err: Any) -> object:
    """What an error of pydantic's was given: the record's text when its JSON could not be read.

    pydantic gives JSON it cannot read as the bytes it was given: the record, shown as text.
    """
    given = err.get("input")
    if err["type"] == "json_invalid" and isinstance(given, bytes | bytearray):
        return bytes(given[:320]).decode("utf-8", errors="backslashreplace")
    return given


def shown(value: object, limit: int = 80) -> str:
    """The value as JSON text, cut to `limit` characters (never the whole of a huge value).

    A value given from Python that JSON has no such value for (bytes, a `datetime`, a
    `Decimal`) is shown as Python writes it: ``b'EX-1'`` is not the text ``"EX-1"``, which
    would be valid.

    >>> shown("2013-02-30"), shown(120.0), len(shown("9" * 999))
    ('"2013-02-30"', '120.0', 80)
    >>> from datetime import datetime
    >>> shown(b"EX-1"), shown(datetime(2012, 10, 1)), shown(["F1", b"F2"])
    ("b'EX-1'", 'datetime.datetime(2012, 10, 1, 0, 0)', "['F1', b'F2']")
    """
    if isinstance(value, Written):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, str | bytes) and len(value) > limit:
        value = value[:limit]
    try:
        text = json.dumps(value, default=_not_json, ensure_ascii=False)
    except (ValueError, RecursionError, _NotJson):
        text = _described(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _NotJson(Exception):
    """A value (or a part of one) that JSON has no such value for."""


def _not_json(value: object) -> object:
    raise _NotJson


def _described(value: object) -> str:
    """A value JSON cannot write, in words (a huge integer by its size).

    Python will not write an integer of over 4,300 digits as text (``ValueError``), in JSON or
    by ``repr``.

    >>> _described(10**5000), _described([10**5000])
    ('a whole number of about 5,001 digits', 'a list too large to show')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        return repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too large to show"


_FAMILY_PREFIX = re.compile(
    r"""family (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\(no family_id\)): """
)
"""How an error names its family first: ``family 'F1': `` (the id as Python writes it)."""


def without_family(message: str) -> str:
    """`message` without the ``family 'F1': `` it starts with, however the family_id reads.

    >>> without_family("family 'LA 12: Smith': String should match pattern")
    'String should match pattern'
    """
    found = _FAMILY_PREFIX.match(message)
    return message if found is None else message[found.end() :]


_JSON_VALUES = (str, int, float, dict)
"""What JSON gives where an array is wanted and none is (null aside): said as JSON says it."""

_ARRAYS = frozenset({"Tuple", "List"})
"""The Python types pydantic names for a JSON array (the record's lists are tuples)."""


def in_users_terms(err: Mapping[str, Any]) -> tuple[str, str]:
    """A pydantic error's type and message in the record's terms: an array, never a tuple.

    Pydantic reads each list of the record as a Python tuple, and said so: ``members: []`` was
    "Tuple should have at least 1 item after validation, not 0", and ``members: null`` type
    ``tuple_type``. The type becomes ``list_type`` (pydantic's own for an array that is not one)
    and the messages speak of arrays; ``too_short`` keeps its type. Any other error is as given.

    >>> in_users_terms({"type": "tuple_type", "msg": "Input should be a valid tuple"})
    ('list_type', 'Input should be an array')
    >>> in_users_terms({"type": "list_type", "msg": "", "input": {"A1"}})[1]
    'Input should be an array: from Python, a list or a tuple, not set'
    >>> in_users_terms({"type": "too_short", "msg": "Tuple should have at least 1 item after "
    ...     "validation, not 0", "ctx": {"field_type": "Tuple", "min_length": 1, "actual_length": 0}})
    ('too_short', 'Input should be an array of at least 1 item')
    """
    kind = err["type"]
    if kind in ("tuple_type", "list_type"):
        given = err.get("input")
        if given is not None and not isinstance(given, _JSON_VALUES):  # from Python: say what
            return "list_type", (
                f"Input should be an array: from Python, a list or a tuple, not {type(given).__name__}"
            )
        return "list_type", "Input should be an array"
    context = err.get("ctx") or {}
    if kind in ("too_short", "too_long") and context.get("field_type") in _ARRAYS:
        bound, limit = ("least", "min_length") if kind == "too_short" else ("most", "max_length")
        wanted = context.get(limit)  # the array itself is shown beside the message, as the value
        return kind, f"Input should be an array of at {bound} {wanted} item{'s' * (wanted != 1)}"
    return kind, err["msg"]


def without_echoes(errors: list[Any]) -> list[Any]:
    """Pydantic's errors without the "too short" a list reports when an item inside it failed.

    A list of one bad member also says "should have at least 1 item after validation, not 0",
    which misleads: the item, not the list, is what is wrong.

    >>> errors = [{"type": "too_short", "loc": ("members",)},
    ...           {"type": "missing", "loc": ("members", 0, "person_id")}]
    >>> [e["type"] for e in without_echoes(errors)]
    ['missing']
    """
    failed = [tuple(err["loc"]) for err in errors]
    return [
        err
        for err in errors
        if not (
            err["type"] == "too_short"
            and any(
                len(loc) > len(err["loc"]) and loc[: len(err["loc"])] == tuple(err["loc"])
                for loc in failed
            )
        )
    ]
