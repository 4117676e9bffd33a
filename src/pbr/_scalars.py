"""The checks behind the record's strict scalar types that need no pydantic.

`pbr._strict` builds pydantic's field types from them, and the compiled record (`pbr._compiled`)
calls them directly, so a batch of valid records never imports pydantic. Their errors are
pydantic's `PydanticCustomError` (imported when one is raised), as a field validator raises.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NoReturn

__all__ = ["MAX_COUNT", "RepeatedKey", "exact_number", "number_text", "unique_keys"]

MAX_COUNT = 100_000
"""The largest count a record may hold (a term has at most a few hundred sessions)."""

_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,12})?")
_MAX_NUMBER = 10**12


def exact_number(value: Any) -> Decimal:
    """An exact number from a whole number, decimal text or a `Decimal`; floats refused.

    >>> exact_number("7.5"), exact_number(3)
    (Decimal('7.5'), Decimal('3'))
    """
    kind = type(value)
    if kind is int:
        if abs(value) >= _MAX_NUMBER:
            _refuse(
                "number_too_large",
                "a number must be less than 10^12 in size, got {value}",
                {"value": str(value)[:40]},
            )
        return Decimal(value)
    if kind is str:
        if _NUMBER_TEXT.fullmatch(value) is None:
            _refuse(
                "number_parsing",
                "expected a whole number or decimal text such as '7.5' (at most 12 digits each "
                "side of the point, no spaces or exponent), got '{value}'",
                {"value": value[:40]},
            )
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if value.copy_abs() < _MAX_NUMBER and isinstance(exponent, int) and exponent >= -12:
            return value
    _refuse(
        "number_type",
        "expected a whole number or decimal text such as '7.5', got {kind} {value}",
        {"kind": kind.__name__, "value": str(value)[:40]},
    )


def number_text(number: Decimal) -> str:
    """An exact number as JSON writes it: plain decimal text, never an exponent.

    >>> number_text(Decimal("1E-7"))
    '0.0000001'
    """
    return format(number, "f")


def _refuse(kind: str, template: str, context: dict[str, Any]) -> NoReturn:
    from pydantic_core import PydanticCustomError

    raise PydanticCustomError(kind, template, context)


class RepeatedKey(ValueError):
    """A JSON object gives a key twice: which value counts cannot be known (json keeps the last).

    >>> issubclass(RepeatedKey, ValueError)
    True
    """


def unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A JSON object as a dict, refusing a key given twice (``json.loads``'s `object_pairs_hook`).

    >>> unique_keys([("name", "a"), ("name", "b")])
    Traceback (most recent call last):
    ...
    pbr._scalars.RepeatedKey: key 'name' is given twice in one object (give it once)
    """
    data: dict[Any, Any] = {}
    for key, value in pairs:
        if key in data:
            raise RepeatedKey(f"key {key!r} is given twice in one object (give it once)")
        data[key] = value
    return data
