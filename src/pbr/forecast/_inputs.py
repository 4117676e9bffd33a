"""Inputs as people type them: counts, shares and amounts from Python, numpy, pandas or a file.

A count accepts any whole number: ``2630``, ``numpy.int64(2630)``, ``2630.0``, ``Decimal("2630")``
or the text ``"2630"``. A share or probability accepts a `Fraction`, a `Decimal`, an int, exact
text (``"0.5"``, ``"1/3"``) or a float, which is read through its shortest repr (``0.1`` is
exactly 1/10, not 0.1000000000000000055…): the number you typed, not its binary neighbour. An
amount of money is `pbr.money.money` (a float only when it is whole pounds). Every error is a
`ValueError` naming the field and the value.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from pbr.money import money

__all__ = ["amount", "count", "share"]


def count(value: object, field: str) -> int:
    """A whole number of at least 0 from any integral number.

    >>> count(2630.0, "estimated_families"), count("2630", "estimated_families")
    (2630, 2630)
    >>> count(2630.5, "estimated_families")
    Traceback (most recent call last):
    ...
    ValueError: estimated_families must be a whole number, got 2630.5
    """
    number = _number(value, field, "a whole number")
    if number.denominator != 1:
        raise ValueError(f"{field} must be a whole number, got {value!r}")
    if number < 0:
        raise ValueError(f"{field} must not be negative, got {value!r}")
    return int(number)


def share(value: object, field: str) -> Fraction:
    """An exact share or probability between 0 and 1 (floats read through their shortest repr).

    >>> share(0.1, "p"), share("1/3", "p"), share(Decimal("0.25"), "p")
    (Fraction(1, 10), Fraction(1, 3), Fraction(1, 4))
    >>> share(1.5, "probabilities.progress_to_work")
    Traceback (most recent call last):
    ...
    ValueError: probabilities.progress_to_work must be between 0 and 1, got 1.5
    """
    number = _number(value, field, "a share such as 0.5, '1/3' or Decimal('0.25')")
    if not 0 <= number <= 1:
        raise ValueError(f"{field} must be between 0 and 1, got {value!r}")
    return number


def amount(value: object, field: str) -> Decimal:
    """Pounds to the penny, at least 0: `pbr.money.money` with the field named in its errors.

    A whole float is taken as whole pounds (a spreadsheet column with a blank cell is float);
    a float with pence is refused, as everywhere in pbr.

    >>> amount("1081000", "upfront_grant"), amount(1081000.0, "upfront_grant")
    (Decimal('1081000.00'), Decimal('1081000.00'))
    """
    plain = _plain(value)
    if isinstance(plain, float) and plain.is_integer():
        plain = int(plain)
    try:
        pounds = money(plain)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: {exc}") from None
    if pounds < 0:
        raise ValueError(f"{field} must not be negative, got {value!r}")
    return pounds


def _plain(value: object) -> object:
    """Scalars of numpy and pandas as the Python numbers they stand for."""
    if isinstance(value, bool | int | float | str | Decimal | Fraction):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _number(value: object, field: str, wanted: str) -> Fraction:
    value = _plain(value)
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field} must be {wanted}, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{field} must be a finite number, got {value!r}")
        return Fraction(repr(float(value)))
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{field} must be a finite number, got {value!r}")
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return Fraction(Decimal(text)) if "/" not in text else Fraction(text)
        except (ValueError, ZeroDivisionError, OverflowError, InvalidOperation):
            raise ValueError(f"{field} must be {wanted}, got {value!r}") from None
    raise ValueError(f"{field} must be {wanted}, got {value!r}")
