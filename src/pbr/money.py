"""Exact money: pounds as `Decimal` quantised to the penny; the only place that rounds.

Floats are refused everywhere: a float amount is a bug waiting to lose a penny.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    getcontext,
    setcontext,
)
from fractions import Fraction
from types import FunctionType
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, cast

from pbr._scalars import json_term

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pbr._strict import Money

_P = ParamSpec("_P")
_R = TypeVar("_R")
_C = TypeVar("_C", bound=type)

__all__ = [
    "ARITHMETIC",
    "PENNY",
    "ZERO",
    "Money",
    "exact_arithmetic",
    "exact_class",
    "format_gbp",
    "in_exact_arithmetic",
    "money",
    "round_to_penny",
    "round_to_pound",
    "round_up_to_penny",
]

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")


_MONEY_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?")
"""Money as text: optional minus, whole pounds without leading zeros, at most two pence places."""
_LARGE_MONEY_TEXT = re.compile(r"-?[1-9][0-9]{12,}(?:\.[0-9]{1,2})?")
"""Money text written as `_MONEY_TEXT` writes it but with 13 or more whole-pound digits: too large,
not unreadable (the same error as the number)."""
MAX_MONEY = Decimal("999999999999.99")
"""The largest amount `money` takes: far beyond any payment, well inside `Decimal`'s precision."""
_EXACT = Context(prec=40, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
"""A private context, so that no caller's `decimal` settings can change a result."""


class _TooLarge(ValueError):
    """An amount beyond `MAX_MONEY`."""


def money(value: object) -> Decimal:
    """Return `value` as exact pounds with two decimal places.

    Accepts a `Decimal` or an `int` (whole pounds), or text such as ``"3200.00"`` or ``"700"``:
    digits, at most two pence places, no spaces, exponents or thousands separators. Refuses
    floats (even whole ones: a float has already lost the exact amount it was meant to carry),
    booleans, non-finite values and amounts beyond ±£999,999,999,999.99.

    >>> money("700")
    Decimal('700.00')
    >>> money(3200)
    Decimal('3200.00')
    >>> money("24e2")
    Traceback (most recent call last):
    ...
    ValueError: money must be a decimal string such as '3200.00' (at most two pence places, no spaces or exponent), got '24e2'
    >>> money(0.1)
    Traceback (most recent call last):
    ...
    TypeError: money must be a decimal string or whole pounds, not a float: got 0.1
    """
    kind = type(value)
    if kind is str:
        text = cast(str, value)
        if _MONEY_TEXT.fullmatch(text) is None:
            if _LARGE_MONEY_TEXT.fullmatch(text) is not None:
                raise _TooLarge(f"money must be at most {MAX_MONEY} pounds, got {_cut(text)}")
            raise ValueError(
                "money must be a decimal string such as '3200.00' (at most two pence places, "
                f"no spaces or exponent), got {text[:40]!r}"
            )
        number = Decimal(text)
    elif kind is int:
        number = Decimal(cast(int, value))
    elif isinstance(value, Decimal):
        number = value
        if not number.is_finite():
            raise ValueError(f"money must be finite, got {_cut(number)}")
        exponent = number.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and exponent < -2
            and number != number.quantize(PENNY, context=_EXACT)
        ):
            raise ValueError(f"money has at most two decimal places (pence), got {_cut(number)}")
    elif kind is float:
        raise TypeError(
            f"money must be a decimal string or whole pounds, not a float: got {value!r}"
        )
    else:
        raise TypeError(f"money must be a decimal string or whole pounds, got {value!r}"[:120])
    if number.copy_abs() > MAX_MONEY:  # copy_abs is exact; abs() rounds to the context
        raise _TooLarge(f"money must be at most {MAX_MONEY} pounds, got {_cut(number)}")
    return number.quantize(PENNY, context=_EXACT)


def _cut(value: str | Decimal) -> str:
    """`value` as text for a message, cut at 40 characters (an ellipsis says where)."""
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _shown(value: object) -> str:
    """`value` for a message as it was written: a `Decimal` as its text (``-0``), else its repr.

    >>> _shown(Decimal("-0")), _shown("-5"), _shown(-5)
    ('-0', "'-5'", '-5')
    """
    return _cut(value) if isinstance(value, Decimal) else repr(value)


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
    return f"{sign}£{value.copy_abs():,.2f}"  # exact: abs() rounds in the caller's context


def money_field(value: Any) -> Decimal:
    """The record field's validator: `money`'s rules, non-negative, with stable error types.

    Its errors are pydantic's `PydanticCustomError` (imported only to raise one): the compiled
    record (`pbr._compiled`) calls it too, without pydantic.

    >>> money_field("700")
    Decimal('700.00')
    """
    kind = type(value)
    if kind is str or kind is int or isinstance(value, Decimal):
        try:
            amount = money(value)
        except ValueError as exc:
            kind_of_error = "money_too_large" if isinstance(exc, _TooLarge) else "money_parsing"
            _refuse(kind_of_error, str(exc))
        if amount.is_signed():  # -0 too: it would be written back as "-0.00"
            _refuse(
                "money_negative",
                f"money must not be negative (nor minus zero), got {_shown(value)}",
            )
        return amount
    _refuse(
        "money_type",
        f"money must be a decimal string such as '3200.00' or whole pounds, got {json_term(value)}",
    )


def money_text(amount: Decimal) -> str:
    """Pounds as JSON writes them: two places, no exponent (``"3200.00"``).

    >>> money_text(Decimal("700"))
    '700.00'
    """
    return f"{amount:.2f}"


def _refuse(kind: str, message: str) -> NoReturn:
    from pydantic_core import PydanticCustomError

    raise PydanticCustomError(kind, message) from None


def __getattr__(name: str) -> Any:
    if name == "Money":  # pydantic's field type, built by `pbr._strict` when first asked for
        from pbr._strict import Money

        return Money
    raise AttributeError(f"module 'pbr.money' has no attribute {name!r}")


ARITHMETIC = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The context pbr's rules and totals compute in: Python's default, whatever the caller's is.

A notebook that sets ``decimal.getcontext().prec = 4`` for display would otherwise have the
rules' sums and differences rounded to 4 digits (room under the cap £1,234.56 taken as £1,230)
and `compared` values written ``1.50E+3``.
"""


def in_exact_arithmetic(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function` run in `ARITHMETIC`, the caller's context restored after (not a generator's).

    >>> from decimal import Decimal, localcontext
    >>> room = in_exact_arithmetic(lambda cap, paid: cap - paid)
    >>> with localcontext() as ctx:
    ...     ctx.prec = 3
    ...     room(Decimal("4000.00"), Decimal("2765.44")), Decimal("4000.00") - Decimal("2765.44")
    (Decimal('1234.56'), Decimal('1.23E+3'))
    """

    @functools.wraps(function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        outer = getcontext()
        if outer is ARITHMETIC:  # already inside: a batch sets it once for a range of families
            return function(*args, **kwargs)
        setcontext(ARITHMETIC)
        try:
            return function(*args, **kwargs)
        finally:
            setcontext(outer)

    return run


def exact_class(cls: _C) -> _C:
    """`cls` with its public methods and properties (and ``+``, ``-``) run in `ARITHMETIC`.

    For the results a notebook keeps and asks again (a forecast's totals, tables and charts).
    A generator method is left as it is: its body runs as it is iterated, in the caller's
    context, and setting pbr's around each step is not worth it (none does arithmetic).

    >>> from dataclasses import dataclass
    >>> from decimal import Decimal, localcontext
    >>> @exact_class
    ... @dataclass(frozen=True)
    ... class Books:
    ...     cap: Decimal
    ...     paid: Decimal
    ...     @property
    ...     def room(self) -> Decimal:
    ...         return self.cap - self.paid
    >>> with localcontext() as ctx:
    ...     ctx.prec = 3
    ...     Books(Decimal("4000.00"), Decimal("2765.44")).room
    Decimal('1234.56')
    """
    for name, attr in list(vars(cls).items()):
        if name.startswith("_") and name not in _OPERATORS:
            continue
        if isinstance(attr, property) and attr.fget is not None:
            setattr(cls, name, property(in_exact_arithmetic(attr.fget), doc=attr.__doc__))
        elif isinstance(attr, staticmethod | classmethod):
            if not _generator(attr.__func__):
                setattr(cls, name, type(attr)(in_exact_arithmetic(attr.__func__)))
        elif isinstance(attr, FunctionType) and not _generator(attr):
            setattr(cls, name, in_exact_arithmetic(attr))
    return cls


_OPERATORS = frozenset({"__add__", "__sub__", "__radd__", "__rsub__"})


def _generator(function: Callable[..., object]) -> bool:
    """Whether `function` makes a generator (`inspect`'s test, without its start-up cost)."""
    code = getattr(function, "__code__", None)
    return code is not None and bool(code.co_flags & 0x20)  # inspect.CO_GENERATOR


@contextmanager
def exact_arithmetic() -> Iterator[None]:
    """Compute in `ARITHMETIC` inside the block (never around a ``yield`` to a caller).

    >>> from decimal import Decimal, localcontext
    >>> with localcontext() as ctx:
    ...     ctx.prec = 3
    ...     with exact_arithmetic():
    ...         print(Decimal("4000.00") - Decimal("2765.44"))
    ...     print(Decimal("4000.00") - Decimal("2765.44"))
    1234.56
    1.23E+3
    """
    outer = getcontext()
    setcontext(ARITHMETIC)
    try:
        yield
    finally:
        setcontext(outer)
