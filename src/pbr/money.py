"""Exact money: pounds as `Decimal` quantised to the penny; the only place that rounds.

Floats are refused everywhere: a float amount is a bug waiting to lose a penny.
"""

from __future__ import annotations

from decimal import MAX_PREC, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = ["PENNY", "ZERO", "Money", "format_gbp", "money", "round_to_penny", "round_to_pound"]

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
_WIDE = Context(prec=MAX_PREC, rounding=ROUND_HALF_UP)
"""Quantising to the penny here never rounds: it is independent of the caller's context."""


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
        return Decimal(value).quantize(PENNY, context=_WIDE)
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
        if (
            isinstance(exponent, int)
            and exponent < -2
            and value != value.quantize(PENNY, context=_WIDE)
        ):
            raise ValueError(f"money has at most two decimal places (pence), got {value!r}")
        return value.quantize(PENNY, context=_WIDE)
    raise TypeError(f"money must be a decimal string or whole pounds, got {value!r}")


def round_to_penny(value: Fraction | Decimal) -> Decimal:
    """Round an exact amount half up to the penny (the one rounding rule for payments).

    Integer arithmetic on the exact value: the result never depends on the ambient `decimal`
    context (its precision or rounding mode).

    >>> round_to_penny(Fraction(3200, 3))
    Decimal('1066.67')
    >>> round_to_penny(Decimal("0.125"))
    Decimal('0.13')
    >>> from decimal import localcontext
    >>> with localcontext() as ctx:
    ...     ctx.prec = 7
    ...     round_to_penny(Decimal("12.3449995"))
    Decimal('12.34')
    """
    return _pence(_half_up(Fraction(value) * 100))


def round_to_pound(value: Fraction | Decimal) -> Decimal:
    """Round an exact amount half up to the whole pound (as published allocations are shown).

    Like `round_to_penny`, exact under any `decimal` context.

    >>> round_to_pound(Fraction(658 * 3200, 3))
    Decimal('701867.00')
    """
    return _pence(_half_up(Fraction(value)) * 100)


def _half_up(value: Fraction) -> int:
    """The nearest whole number to `value`, halves away from zero (as ``ROUND_HALF_UP``)."""
    whole, rest = divmod(abs(value.numerator), value.denominator)
    if 2 * rest >= value.denominator:
        whole += 1
    return -whole if value < 0 else whole


def _pence(pence: int) -> Decimal:
    """Whole pence as pounds with two places, built from text (exact, context-free)."""
    pounds, rest = divmod(abs(pence), 100)
    return Decimal(f"{'-' if pence < 0 else ''}{pounds}.{rest:02d}")


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
