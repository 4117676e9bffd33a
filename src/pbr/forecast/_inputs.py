"""Inputs as people type them: counts, shares and amounts from Python, numpy, pandas or a file.

A count accepts any whole number: ``2630``, ``numpy.int64(2630)``, ``2630.0``, ``Decimal("2630")``
or the text ``"2630"``. A share or probability accepts a `Fraction`, a `Decimal`, an int, exact
text (``"0.5"``, ``"1/3"``) or a float, which is read through its shortest repr (``0.1`` is
exactly 1/10, not 0.1000000000000000055…): the number you typed, not its binary neighbour. An
amount of money is `pbr.money.money` (a float only when it is whole pounds). Every error is a
`ValueError` naming the field and the value. Counts have upper bounds (`MAX_FAMILIES`,
`MAX_LAG_MONTHS`) so that every figure stays exact, and numbers written with more than
`MAX_DIGITS` digits are refused before they are expanded.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from pbr.errors import ForecastError
from pbr.money import money

__all__ = [
    "MAX_DIGITS",
    "MAX_FAMILIES",
    "MAX_LAG_MONTHS",
    "amount",
    "count",
    "read_text",
    "share",
    "shown",
]

MAX_FAMILIES = 10_000_000
"""The most estimated families a council (or ``--families``) may have: ten million.

Far above any real case (the largest phase-one council estimate was about 4,200 families and
the national programmes 120,000 to 400,000 families), and low enough that every money figure is
exact: ten million × £4,000 is £4 × 10^10, 13 digits in pence, inside `Decimal`'s 28-digit
context and ``int64`` pence (up to 9.2 × 10^18) with room for grants (at most £10^12 a year).
"""

MAX_LAG_MONTHS = 600
"""The longest lag a scenario may give, in months from attachment to a result: fifty years.

Claim windows close within a few years of the last attachment (phase one: two years), so a
longer lag only says "beyond the last window"; fifty years keeps every date a lag reaches far
inside the calendar (``datetime.date`` ends in the year 9999).
"""

MAX_DIGITS = 400
"""The most digits (or decimal places) a number may be written with: a float's smallest value,
``5e-324``, needs 324 places; ``1e-999999999`` would take gigabytes as an exact fraction."""


def count(value: object, field: str, *, most: int | None = None) -> int:
    """A whole number of at least 0 (and at most `most`, when given) from any integral number.

    >>> count(2630.0, "estimated_families"), count("2630", "estimated_families")
    (2630, 2630)
    >>> count(2630.5, "estimated_families")
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: estimated_families must be a whole number, got 2630.5
    >>> count("2630.0", "estimated_families")  # text: digits alone, one way to write a number
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: estimated_families must be a whole number written as digits alone, with no leading zero (such as 0, 6 or 790), got '2630.0'
    >>> count(10**23, "estimated_families", most=MAX_FAMILIES)
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: estimated_families must be at most 10,000,000, got 100000000000000000000000
    """
    if isinstance(value, str) and _DIGITS.fullmatch(value) is None:  # "6.0", "06": a key "6"'s
        raise ForecastError(
            f"{field} must be a whole number written as digits alone, with no leading zero "
            f"(such as 0, 6 or 790), got {shown(value)}"
        )
    number = _number(value, field, "a whole number")
    if number.denominator != 1:
        raise ForecastError(f"{field} must be a whole number, got {shown(value)}")
    if number < 0:
        raise ForecastError(f"{field} must not be negative, got {shown(value)}")
    if most is not None and number > most:
        raise ForecastError(f"{field} must be at most {most:,}, got {shown(value)}")
    return int(number)


def share(value: object, field: str) -> Fraction:
    """An exact share or probability between 0 and 1 (floats read through their shortest repr).

    >>> share(0.1, "p"), share("1/3", "p"), share(Decimal("0.25"), "p")
    (Fraction(1, 10), Fraction(1, 3), Fraction(1, 4))
    >>> share(1.5, "probabilities.progress_to_work")
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: probabilities.progress_to_work must be between 0 and 1, got 1.5
    """
    number = _number(value, field, "a share such as 0.5, '1/3' or Decimal('0.25')")
    if not 0 <= number <= 1:
        raise ForecastError(f"{field} must be between 0 and 1, got {shown(value)}")
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
        raise ForecastError(f"{field}: {exc}") from None
    if pounds < 0:
        raise ForecastError(f"{field} must not be negative, got {shown(value)}")
    return pounds


def shown(value: object, width: int = 40) -> str:
    """`value` for a message: its repr, cut to `width` characters (`pbr._arguments.short_repr`).

    >>> shown(10**50)
    '1000000000000000000000000000000000000...'
    """
    from pbr._arguments import short_repr

    return short_repr(value, width)


def read_text(
    path: str | Path,
    what: str,
    encoding: str = "utf-8",
    *,
    newline: str | None = None,
    max_line: int | None = None,
) -> str:
    r"""The text of the file at `path`; one-line errors naming the file and `what` it should be.

    Line ends are read as `open`'s `newline` says: by default each ``\r\n`` or ``\r`` becomes
    ``\n``; with ``newline=""`` they are kept as written (for the csv module, whose quoted cells
    may hold them). Read to a limit, refused beyond it (an endless stream, ``/dev/zero``):
    512 MiB (`pbr._bounded.MAX_TEXT_FILE_BYTES`), and `max_line` bytes a line (None: any).

    >>> read_text("/", "scenario file (TOML or JSON)")
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: /: is a directory, not a scenario file (TOML or JSON)
    """
    from pbr._bounded import Refused, read_limited
    from pbr._unreadable import not_a_text_file, not_compressed, os_reason, undecodable

    def refuse_binary(head: bytes) -> None:
        binary = not_a_text_file(head[:8], f"a {what}", csv="CSV" in what)
        if binary is not None:
            raise ForecastError(f"{path}: {binary}")
        compressed = not_compressed(str(path), head)  # not "byte 8b is not UTF-8"
        if compressed is not None:
            raise ForecastError(compressed)

    try:
        data = read_limited(path, f"a {what}", max_line=max_line, check=refuse_binary)
    except IsADirectoryError:
        raise ForecastError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise ForecastError(f"{path}: cannot read the {what}: {os_reason(exc)}") from None
    except Refused as exc:
        raise ForecastError(str(exc)) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ForecastError(f"{path}: not a {what}: {undecodable(data, exc)}") from None
    return text if newline == "" else text.replace("\r\n", "\n").replace("\r", "\n")


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
        raise ForecastError(f"{field} must be {wanted}, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ForecastError(f"{field} must be a finite number, got {value!r}")
        return Fraction(repr(float(value)))
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ForecastError(f"{field} must be a finite number, got {value!r}")
        return _exact(value, field, value)
    if isinstance(value, str):
        written = _WRITTEN.fullmatch(value)
        if written is None:
            raise ForecastError(
                f"{field} must be {wanted}, written plainly (digits, a point or a '/'; no sign, "
                f"space, exponent, separator or leading zero), got {shown(value)}"
            )
        sign, text = written.groups()
        number = Fraction(text) if "/" in text else _exact(Decimal(text), field, value)
        return -number if sign else number  # a minus: refused by the caller as negative
    raise ForecastError(f"{field} must be {wanted}, got {shown(value)}")


_DIGITS = re.compile(r"-?(?:0|[1-9][0-9]*)")
"""A whole number as text: digits alone, no leading zero (a minus, to be refused as negative)."""

_WRITTEN = re.compile(r"(-?)((?:0|[1-9][0-9]*)(?:\.[0-9]+|/[1-9][0-9]*)?)")
"""A number as text: ``12``, ``0.25``, ``1/3`` (and a minus, to be refused as negative). Nothing
that Python would also read (``"06"``, ``" 6"``, ``"+6"``, ``"1e3"``, ``"1_000"``, ``"6.0"`` as a
key): a lag of ``"06"`` and one of ``"6"`` would be one lag, merged without a word."""


def _exact(number: Decimal, field: str, value: object) -> Fraction:
    """`number` as an exact fraction, unless writing it out would take more than `MAX_DIGITS`."""
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if number and (number.adjusted() >= MAX_DIGITS or places > MAX_DIGITS):
        raise ForecastError(
            f"{field} must be written with at most {MAX_DIGITS} digits, got {shown(value)}"
        )
    return Fraction(number)
