"""The checks behind the record's strict scalar types that need no pydantic.

`pbr._strict` builds pydantic's field types from them, and the compiled record (`pbr._compiled`)
calls them directly, so a batch of valid records never imports pydantic. Their errors are
pydantic's `PydanticCustomError` (imported when one is raised), as a field validator raises.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

__all__ = [
    "DATE_TEXT",
    "MAX_COUNT",
    "RepeatedKey",
    "date_from_text",
    "exact_number",
    "json_term",
    "number_text",
    "shown_number",
    "too_long_to_read",
    "unique_keys",
]

DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A date as pbr reads one from text: ``YYYY-MM-DD``, ASCII digits, nothing else."""


def date_from_text(text: str) -> date | None:
    """The date `text` writes as ``YYYY-MM-DD``, or None: the one reading of a date from text.

    Python 3.11's `date.fromisoformat` also reads other ISO 8601 forms, among them an ISO week
    date of ten characters (``2015-W14-2`` is 2015-03-31) and ``20150331``: a date written so
    is refused, never converted, as the web API and the record's dates refuse it.

    >>> date_from_text("2015-03-31"), date_from_text("2015-W14-2"), date_from_text("20150331")
    (datetime.date(2015, 3, 31), None, None)
    >>> date_from_text("2015-02-30") is None
    True
    """
    if not DATE_TEXT.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


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
                {"value": shown_number(value)},
            )
        return Decimal(value)
    if kind is str:
        if _NUMBER_TEXT.fullmatch(value) is None:
            _refuse(
                "number_parsing",
                "expected a whole number or decimal text such as '7.5' (at most 12 digits each "
                "side of the point, no spaces or exponent), got '{value}'",
                {"value": _shortened(value, "characters")},
            )
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if value.copy_abs() < _MAX_NUMBER and isinstance(exponent, int) and exponent >= -12:
            return value
    _refuse(
        "number_type",
        "expected a whole number or decimal text such as '7.5', got {value}",
        {"value": json_term(value)},
    )


def json_term(value: Any) -> str:
    """`value` named as JSON would name it, for a message: ``null``, ``an object``, ``true``.

    A record is JSON: Python's names for what it read (``NoneType``, ``dict``) mean nothing to
    the client who wrote it. A value JSON has no name for is named by its Python type.

    >>> json_term(None), json_term({"a": 1}), json_term([1]), json_term(True), json_term(1.5)
    ('null', 'an object', 'an array', 'true', 'the number 1.5')
    >>> json_term(float("inf")), json_term("x"), json_term(Decimal("1E+20"))
    ('a number out of range', "'x'", 'the number 1E+20')
    """
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, int):
        return f"the number {shown_number(value)}"
    if isinstance(value, float | Decimal):
        exact = Decimal(value)  # a float exactly, infinity and NaN included
        if exact.is_nan():
            return "NaN"
        if exact.is_infinite():
            return "a number out of range"
        return f"the number {_shortened(str(value), 'characters')}"
    if isinstance(value, str):
        return repr(_shortened(value, "characters"))
    return f"{type(value).__name__} {_shortened(str(value), 'characters')}"


_SHOWN = 40
"""The longest value a message shows whole; a longer one shows its first half and its length."""


def shown_number(value: int) -> str:
    """A whole number as a message shows it: whole up to 40 digits, else shortened, marked.

    Python will not write an integer of over 4,300 digits as text: such a one is described.

    >>> shown_number(-12), shown_number(10**43), shown_number(10**5000)
    ('-12', '10000000000000000000…(44 digits)', 'a number of about 5,001 digits')
    """
    if value.bit_length() > 14_000:  # about 4,214 digits: below Python's limit of 4,300
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    return _shortened(str(value), "digits")


def _shortened(text: str, unit: str) -> str:
    """`text` whole up to `_SHOWN` characters, else its first 20, ``…`` and its length."""
    if len(text) <= _SHOWN:
        return text
    size = sum(c.isdigit() for c in text) if unit == "digits" else len(text)
    return f"{text[: _SHOWN // 2]}…({size:,} {unit})"


def too_long_to_read(text: str, *, sign_counts: bool = False) -> str:
    """Why a number written with over 4,300 digits is refused (``number_too_long``).

    Python's `int` (a plan's reader) counts digits; pydantic's JSON reader (a record's) counts
    the characters of the whole part, in some versions a minus sign too (`sign_counts`: ``-``
    and 4,300 digits is too long there, and so the message says).

    >>> too_long_to_read("9" * 5000)
    'a number of 5,000 digits: longer than a JSON reader takes (4,300), and far beyond any count or amount'
    >>> too_long_to_read("-" + "9" * 4300, sign_counts=True)
    'a number of 4,300 digits and a minus sign: longer than a JSON reader takes (4,300 characters before any decimal point, a minus sign counted), and far beyond any count or amount'
    """
    if not sign_counts and text.lstrip("-").isdigit():  # a plan's integer, as written
        digits = sum(c.isdigit() for c in text)
        return (
            f"a number of {digits:,} digits: longer than a JSON reader takes (4,300), and "
            "far beyond any count or amount"
        )
    whole = text[: len(text) - len(text.lstrip("-0123456789"))]
    sign = " and a minus sign" if whole.startswith("-") and sign_counts else ""
    before = "" if whole == text else " before its decimal point or exponent"
    counted = ", a minus sign counted" if sign_counts else ""
    return (
        f"a number of {len(whole.lstrip('-')):,} digits{sign}{before}: longer than a JSON reader "
        f"takes (4,300 characters before any decimal point{counted}), and far beyond any count "
        "or amount"
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
