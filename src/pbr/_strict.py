"""The strict types of pbr's input formats: dates, counts, flags, exact numbers, money, arrays.

Nothing is coerced: a date is ``YYYY-MM-DD`` text (or a `datetime.date` from Python, never a
`datetime`), a count a whole JSON number, a flag ``true`` or ``false``, an exact number a whole
number or decimal text, an array a JSON array (a list or a tuple from Python). Each type bounds its values so that no arithmetic the rules do on them
can overflow; the bounds are part of the JSON Schema. From JSON the checks run inside
pydantic-core (no Python call per value).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    Strict,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import (
    CoreSchema,
    PydanticCustomError,
    SchemaValidator,
    ValidationError,
    core_schema,
)

from pbr._scalars import MAX_COUNT, exact_number, number_text
from pbr.money import money_field, money_text
from pbr.periods import EARLIEST_DATE, LATEST_DATE

__all__ = ["MAX_COUNT", "Array", "Count", "ExactNumber", "Flag", "IsoDate", "ListOrTuple", "Money"]

_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
"""The JSON Schema's pattern; with ``format: date`` it admits exactly the dates the model does."""


def _python_date(value: Any) -> date:
    """Validate a date given from Python: a `date` (not a `datetime`) or ISO text."""
    if type(value) is str:
        return _text_date(value)
    if type(value) is not date:
        raise PydanticCustomError(
            "date_type",
            "Input should be a date: YYYY-MM-DD text or a datetime.date (not a datetime), got {kind}",
            {"kind": type(value).__name__},
        )
    if value < EARLIEST_DATE:
        raise PydanticCustomError(
            "greater_than_equal",
            "Input should be greater than or equal to {ge}",
            {"ge": EARLIEST_DATE.isoformat()},
        )
    if value > LATEST_DATE:
        raise PydanticCustomError(
            "less_than_equal",
            "Input should be less than or equal to {le}",
            {"le": LATEST_DATE.isoformat()},
        )
    return value


def _json_date(value: Any) -> date:
    """Validate a date given in JSON: ``YYYY-MM-DD`` text only."""
    if type(value) is str:
        day = _DAYS.get(value)
        return day if day is not None else _text_date(value)
    raise PydanticCustomError("date_type", "Input should be a valid date")


_DAYS: dict[str, date] = {}
"""Each valid day's text seen, and its date: one look-up a date for records' repeated days
(bounded: at most the 73,414 days from `EARLIEST_DATE` to `LATEST_DATE`)."""


_JSON_DATE = SchemaValidator(core_schema.date_schema(strict=True, ge=EARLIEST_DATE, le=LATEST_DATE))
"""pydantic's strict date from JSON: its errors are the ones shown for a date badly written."""


def _text_date(value: str) -> date:
    """A day from ``YYYY-MM-DD`` text, with pydantic's errors for JSON, but never a timestamp.

    pydantic's date from JSON reads digits alone (``"1350000000"``, ``"0"``) as a Unix time;
    a record's dates are days written as days, so such text is refused like other bad text.
    """
    if _DATE_TEXT.fullmatch(value):  # the usual case, without a second parse
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if EARLIEST_DATE <= day <= LATEST_DATE:
                _DAYS[value] = day
                return day
    try:
        _JSON_DATE.validate_json(json.dumps(value))
    except ValidationError as exc:  # its message for the text, as a JSON reader gives it
        error = exc.errors()[0]
        raise PydanticCustomError(error["type"], error["msg"]) from None
    raise PydanticCustomError(
        "date_parsing",
        "Input should be a valid date in the format YYYY-MM-DD, not a number (a Unix time?)",
    )


class _IsoDateSchema:
    """Strict ISO dates between `EARLIEST_DATE` and `LATEST_DATE`, from JSON and from Python."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_plain_validator_function(_json_date),
            python_schema=core_schema.no_info_plain_validator_function(_python_date),
            serialization=core_schema.simple_ser_schema("date"),  # ISO text, no Python call
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "format": "date",
            "pattern": _DATE_PATTERN,
            "description": f"An ISO date, YYYY-MM-DD, from {EARLIEST_DATE} to {LATEST_DATE}.",
        }


IsoDate = Annotated[date, _IsoDateSchema]
"""A day: ``YYYY-MM-DD`` text (or a `datetime.date` from Python), 1900-01-01 to 2099-12-31."""

WRITTEN_WHOLE = (
    "pbr also requires the number written without a point or an exponent (120, not 120.0 or "
    "1e2), which JSON Schema cannot say: its integer is any number with no fractional part."
)
"""The schema's ``$comment`` on each integer form: where every JSON Schema validator and pbr part."""

Count = Annotated[
    int, Strict(), Field(ge=0, le=MAX_COUNT, json_schema_extra={"$comment": WRITTEN_WHOLE})
]
"""A whole number from 0 to `MAX_COUNT`: never ``"120"``, ``120.0`` or ``true``."""

Flag = Annotated[bool, Strict()]
"""``true`` or ``false``: never ``1``, ``"yes"`` or ``"true"``."""


ExactNumber = Annotated[
    Decimal,
    PlainValidator(exact_number, json_schema_input_type=str | int),
    PlainSerializer(number_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$"},
                {
                    "type": "integer",
                    "minimum": -(10**12) + 1,
                    "maximum": 10**12 - 1,
                    "$comment": WRITTEN_WHOLE,
                },
            ],
            "description": "An exact number: a whole number or decimal text.",
        }
    ),
]
"""An exact decimal: a whole number or decimal text in, decimal text out; floats refused."""


# `pbr.money.Money`: built here with the other pydantic types, so that `pbr.money` needs no pydantic
Money = Annotated[
    Decimal,
    PlainValidator(money_field, json_schema_input_type=str | int),
    PlainSerializer(money_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"},
                {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 999_999_999_999,
                    "$comment": WRITTEN_WHOLE,
                },
            ],
            "description": "Pounds: a decimal string with at most two places, or whole pounds.",
        }
    ),
]
"""Pydantic field type for pounds: decimal string or whole pounds in, ``"3200.00"`` out.

Strict: no floats, spaces, exponents or negative amounts; at most £999,999,999,999.99.
"""


class ListOrTuple:
    """From Python, an array is a list or a tuple: never a set, a generator or another iterable.

    Pydantic reads any iterable into a tuple: a set in an order that varies from run to run
    (``PYTHONHASHSEED``, so the input hash did), a generator once. Refused as JSON refuses a
    non-array (``list_type``); from JSON the schema is pydantic's, untouched (no Python call).
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        return core_schema.json_or_python_schema(
            json_schema=schema,
            python_schema=core_schema.chain_schema([_LIST_OR_TUPLE, schema]),
        )


_LIST_OR_TUPLE = core_schema.custom_error_schema(
    core_schema.is_instance_schema((list, tuple)), custom_error_type="list_type"
)
"""A list or a tuple, else pydantic's ``list_type`` error (checked in pydantic-core)."""

_T = TypeVar("_T")

Array = Annotated[tuple[_T, ...], ListOrTuple]
"""A JSON array of `_T`, held as a tuple: a list or a tuple of them from Python, nothing else."""
