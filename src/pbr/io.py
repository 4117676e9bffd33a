"""Reading family records from JSON and JSON Lines: every record ends up a `Family` or a `Rejection`.

A bad record never stops the batch: it is reported with its line, its family, the field path,
the bad value and why, and reading goes on with the next one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pbr._seen import SeenIds
from pbr.errors import PbrError
from pbr.records import Family

__all__ = [
    "FieldError",
    "Numbered",
    "Rejection",
    "UnreadableFile",
    "numbered_from_text",
    "read_numbered",
    "read_records",
    "records_from_text",
]


class UnreadableFile(PbrError, OSError):
    """The input file cannot be opened or is not JSON / JSON Lines at all.

    >>> import pbr
    >>> list(pbr.read_records("no-such-file.jsonl"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.io.UnreadableFile: cannot read no-such-file.jsonl: [Errno 2] No such file or directory: ...
    """


class FieldError(BaseModel):
    """One problem with one field: its path, the bad value and why.

    Key on `type` and `loc` in programs; `message` is for people and may be reworded.

    >>> rejection = next(records_from_text('{"family_id": "F9", "attached_on": "2013-02-30"}'))
    >>> error = rejection.errors[0]
    >>> error.loc, error.value, error.type
    ('attached_on', "'2013-02-30'", 'date_from_datetime_parsing')
    """

    model_config = ConfigDict(frozen=True)

    loc: str
    value: str
    message: str
    type: str


class Rejection(BaseModel):
    """A record that could not be evaluated, and everything needed to find and fix it.

    >>> from pbr.io import records_from_text
    >>> bad = next(records_from_text('{"family_id": "F9", "attached_on": "2013-02-30"}'))
    >>> bad.family_id, bad.errors[0].loc
    ('F9', 'attached_on')
    """

    model_config = ConfigDict(frozen=True)

    source: str
    line: int | None
    record: int
    family_id: str | None
    errors: tuple[FieldError, ...]

    def describe(self) -> str:
        """One line per error: where, which family, which field, which value, why.

        >>> text = '{"family_id": "F2", "attached_on": "2013-02-30", "members": []}'
        >>> print(next(records_from_text(text, source="tonight.jsonl")).describe())
        ... # doctest: +NORMALIZE_WHITESPACE
        tonight.jsonl:1 (record 1), family 'F2': attached_on = '2013-02-30': Input should be a
        valid date or datetime, day value is outside expected range
        tonight.jsonl:1 (record 1), family 'F2': members = []: Tuple should have at least 1 item
        after validation, not 0
        """
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        who = f"family {self.family_id!r}" if self.family_id else "family (no family_id)"
        return "\n".join(
            f"{where} (record {self.record}), {who}: {e.loc or '(record)'} = {e.value}: {e.message}"
            for e in self.errors
        )

    @classmethod
    def from_validation_error(
        cls,
        exc: ValidationError,
        *,
        source: str,
        line: int | None,
        record: int,
        family_id: str | None,
    ) -> Rejection:
        """Build a rejection from pydantic's error, keeping every field path and value.

        >>> import pydantic, pbr
        >>> try:
        ...     pbr.Family.model_validate({"family_id": "F3", "attached_on": "2013-01-07"})
        ... except pydantic.ValidationError as exc:
        ...     rejection = Rejection.from_validation_error(
        ...         exc, source="api", line=None, record=1, family_id="F3")
        >>> rejection.errors[0].loc, rejection.errors[0].type
        ('members', 'missing')
        """
        return cls(
            source=source,
            line=line,
            record=record,
            family_id=family_id,
            errors=tuple(
                FieldError(
                    loc=".".join(str(p) for p in err["loc"]),
                    value=_short(err.get("input")),
                    message=_without_family_prefix(err["msg"]),
                    type=err["type"],
                )
                for err in exc.errors()
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
    ) -> Rejection:
        """A rejection with one error.

        >>> print(Rejection.single(source="claims.csv", line=3, record=2, family_id="F7",
        ...     loc="amount", value="12.345", message="at most two pence places", type="money"
        ... ).describe())
        claims.csv:3 (record 2), family 'F7': amount = '12.345': at most two pence places
        """
        return cls(
            source=source,
            line=line,
            record=record,
            family_id=family_id,
            errors=(FieldError(loc=loc, value=_short(value), message=message, type=type),),
        )


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _without_family_prefix(message: str) -> str:
    if message.startswith("family ") and ": " in message:
        return message.split(": ", 1)[1]
    return message


def _family_id_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        value = obj.get("family_id")
        return value if isinstance(value, str) else None
    return None


Numbered = tuple[int, int, "Family | Rejection"]
"""(line, record number, the family or its rejection)."""


def read_records(path: str | Path) -> Iterator[Family | Rejection]:
    """Yield each record of a JSON array, a single JSON object or a JSON Lines file, in order.

    A record that breaks the format is yielded as a `Rejection`, and reading goes on.

    >>> import pbr, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> good = ('{"family_id": "F1", "attached_on": "2013-01-07", '
    ...     '"members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}')
    >>> _ = path.write_text(good + chr(10) + '{"oops": 1}' + chr(10))
    >>> [type(item).__name__ for item in pbr.read_records(path)]
    ['Family', 'Rejection']

    Raises:
        UnreadableFile: the file cannot be opened or decoded at all.

    """
    return (item for _, _, item in read_numbered(path))


def read_numbered(path: str | Path) -> Iterator[Numbered]:
    """Like `read_records`, with each record's line and 1-based record number.

    JSON Lines are streamed line by line (memory stays flat however long the file); a JSON
    array or a single object is read whole.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "families.jsonl"
    >>> _ = path.write_text(chr(10) + '{"oops": 1}' + chr(10))
    >>> [(line, record, type(item).__name__) for line, record, item in read_numbered(path)]
    [(2, 1, 'Rejection')]
    """
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed by _stream
        first = handle.readline()
        while first and not first.strip():
            first = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"cannot read {path}: {exc}") from None
    if not _whole_json_object(first):  # an array, or an object over several lines
        try:
            handle.seek(0)
            text = handle.read()
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"cannot read {path}: {exc}") from None
        finally:
            handle.close()
        return numbered_from_text(text, source=str(path))
    handle.seek(0)
    return _stream(handle, str(path))


def _whole_json_object(line: str) -> bool:
    """Whether `line` holds one complete JSON object (so the file is JSON Lines)."""
    if not line.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _stream(handle: Any, source: str) -> Iterator[Numbered]:
    with handle:
        try:
            yield from _from_lines(handle, source)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"cannot read {source}: {exc}") from None


def records_from_text(text: str, *, source: str = "<input>") -> Iterator[Family | Rejection]:
    """Yield a `Family` or a `Rejection` for every record in `text` (JSON array or JSON Lines).

    >>> text = ('[{"family_id": "F1", "attached_on": "2013-01-07", "members": '
    ...     '[{"person_id": "A1", "date_of_birth": "1980-01-01"}]}, {"family_id": "F2"}]')
    >>> [type(item).__name__ for item in records_from_text(text)]
    ['Family', 'Rejection']
    """
    return (item for _, _, item in numbered_from_text(text, source=source))


def numbered_from_text(text: str, *, source: str = "<input>") -> Iterator[Numbered]:
    """Like `records_from_text`, with each record's line and 1-based record number.

    >>> lines = chr(10).join(['{"family_id": "F1"}', "", '{"family_id": "F2"}'])
    >>> [(line, record) for line, record, _ in numbered_from_text(lines)]
    [(1, 1), (3, 2)]
    """
    stripped = text.lstrip()
    if stripped.startswith("["):
        return _from_array(text, source)
    if stripped.startswith("{") and _is_single_object(text):
        return _from_array("[" + text + "]", source)
    return _from_lines(text.splitlines(), source)


def _is_single_object(text: str) -> bool:
    try:
        _, end = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError:
        return False
    return not text.lstrip()[end:].strip()


def _from_lines(lines: Iterable[str], source: str) -> Iterator[Numbered]:
    record = 0
    seen = SeenIds()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record += 1
        try:
            family = Family.model_validate_json(line)
        except ValidationError as exc:
            try:
                family_id = _family_id_of(json.loads(line))
            except ValueError:
                family_id = None
            yield (
                number,
                record,
                Rejection.from_validation_error(
                    exc, source=source, line=number, record=record, family_id=family_id
                ),
            )
            continue
        yield number, record, _once(family, seen, source=source, line=number, record=record)


def _from_array(text: str, source: str) -> Iterator[Numbered]:
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    record = 0
    seen = SeenIds()
    while True:
        position = _skip(text, position, ",")
        if position >= len(text) or text[position] == "]":
            return
        record += 1
        line = text.count("\n", 0, position) + 1
        try:
            obj, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            yield (
                exc.lineno,
                record,
                Rejection.single(
                    source=source,
                    line=exc.lineno,
                    record=record,
                    family_id=None,
                    loc="",
                    value=text[exc.pos : exc.pos + 20],
                    type="json_invalid",
                    message=f"invalid JSON ({exc.msg}); the rest of the array cannot be read",
                ),
            )
            return
        try:
            family = Family.model_validate(obj)
        except ValidationError as exc:
            yield (
                line,
                record,
                Rejection.from_validation_error(
                    exc, source=source, line=line, record=record, family_id=_family_id_of(obj)
                ),
            )
            continue
        yield line, record, _once(family, seen, source=source, line=line, record=record)


def _skip(text: str, position: int, separators: str) -> int:
    while position < len(text) and (text[position].isspace() or text[position] in separators):
        position += 1
    return position


def _once(
    family: Family, seen: SeenIds, *, source: str, line: int, record: int
) -> Family | Rejection:
    """Reject a second record with the same family_id: a family is claimed for once."""
    if not seen.add(family.family_id):
        return Rejection.single(
            source=source,
            line=line,
            record=record,
            family_id=family.family_id,
            loc="family_id",
            value=family.family_id,
            type="duplicate_family",
            message="a record with this family_id appeared earlier in the input",
        )
    return family
