"""Exact money: pounds as `Decimal` quantised to the penny; the only place that rounds.

Floats are refused everywhere: a float amount is a bug waiting to lose a penny.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = [
    "PENNY",
    "ZERO",
    "Money",
    "format_gbp",
    "money",
    "round_to_penny",
    "round_to_pound",
    "round_up_to_penny",
]

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: object) -> Decimal:
    """Return `value` as exact pounds with two decimal places.

    Accepts a `Decimal`, an `int` (whole pounds) or a decimal string such as ``"3200.00"``.
    Refuses floats with a fractional part, more than two decimal places, and non-finite values.

    >>> money("700")
    Decimal('700.00')
    >>> money(3200)
    Decimal('3200.00')
    >>> money(0.1)
    Traceback (most recent call last):
    ...
    TypeError: money must not be a float with a fractional part, got 0.1
    """
    if isinstance(value, bool):
        raise TypeError(f"money must be a decimal string or whole pounds, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise TypeError(f"money must not be a float with a fractional part, got {value!r}")
        value = int(value)
    if isinstance(value, int):
        return Decimal(value).quantize(PENNY)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(
                f"money must be a decimal string such as '3200.00', got {value!r}"
            ) from None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"money must be finite, got {value!r}")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2 and value != value.quantize(PENNY):
            raise ValueError(f"money has at most two decimal places (pence), got {value!r}")
        return value.quantize(PENNY)
    raise TypeError(f"money must be a decimal string or whole pounds, got {value!r}")


def round_to_penny(value: Fraction | Decimal) -> Decimal:
    """Round an exact amount half up to the penny (the one rounding rule for payments).

    >>> round_to_penny(Fraction(3200, 3))
    Decimal('1066.67')
    >>> round_to_penny(Decimal("0.125"))
    Decimal('0.13')
    """
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def round_to_pound(value: Fraction | Decimal) -> Decimal:
    """Round an exact amount half up to the whole pound (as published allocations are shown).

    >>> round_to_pound(Fraction(658 * 3200, 3))
    Decimal('701867.00')
    """
    if isinstance(value, Fraction):
        whole, rest = divmod(value.numerator, value.denominator)
        if 2 * rest >= value.denominator:
            whole += 1
        return Decimal(whole).quantize(PENNY)
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP).quantize(PENNY)


def round_up_to_penny(value: Fraction | Decimal) -> Decimal:
    """Round an exact amount up (towards +∞) to the penny: for upper bounds, never understated.

    Integer arithmetic, so the ambient `decimal` context plays no part.

    >>> round_up_to_penny(Fraction(1, 3)), round_up_to_penny(Decimal("-0.019"))
    (Decimal('0.34'), Decimal('-0.01'))
    """
    exact = Fraction(value) * 100
    pence = -(-exact.numerator // exact.denominator)
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return Decimal(f"{sign}{pounds}.{rest:02d}")


def format_gbp(value: Decimal) -> str:
    """Format pounds for people: ``£3,200.00`` (en-GB grouping, never the machine's locale).

    >>> format_gbp(Decimal("3200")), format_gbp(Decimal("-0.5"))
    ('£3,200.00', '-£0.50')
    """
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


def _money_before(value: Any) -> Decimal:
    # pydantic turns ValueError into a validation error; a TypeError would escape it.
    try:
        return money(value)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


Money = Annotated[
    Decimal,
    BeforeValidator(_money_before),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"},
                {"type": "integer", "minimum": 0},
            ],
            "description": "Pounds: a decimal string with at most two places, or whole pounds.",
        }
    ),
]
"""Pydantic field type for pounds: decimal string or whole pounds in, ``"3200.00"`` out."""
