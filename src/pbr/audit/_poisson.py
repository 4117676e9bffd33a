"""Poisson upper limits (the audit-sampling "confidence factors"), to 50 digits, with no floats.

The upper limit for k misstatements at confidence c is the λ at which finding k or fewer has
probability 1 − c: ``P(X ≤ k; λ) = 1 − c``, the same as ``P(k + 1, λ) = c`` for the regularised
lower incomplete gamma function P. Sample sizing needs it for a non-whole expected number of
misstatements too, which the gamma form gives. Everything is computed in `Decimal` at 60 digits
in a private context (the caller's `decimal` context plays no part), from the series
``P(a, x) = e^(a·ln x − x − ln Γ(a+1)) · Σ x^n / ((a+1)…(a+n))`` below a + 1 and Legendre's
continued fraction for 1 − P above it, with Stirling's series for ln Γ; the limit is found by
Newton's method from the Wilson–Hilferty estimate.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from functools import cache
from math import comb
from statistics import NormalDist

__all__ = ["gamma_cdf", "upper_limit"]

_CONTEXT = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_EPSILON = Decimal("1e-55")
_SHIFT = 40
"""ln Γ(z) is computed as Stirling's series at z + m ≥ 40, less ln(z(z+1)…(z+m−1))."""
_SERIES_UP_TO = 50
"""Below this x the series is quicker than the continued fraction, whatever the shape."""
_STIRLING_TERMS = 30
"""Bernoulli terms of Stirling's series: the 30th is below 1e-60 at z ≥ 40."""


def _dec(value: Fraction | int) -> Decimal:
    """A fraction as a `Decimal` in the current (private) context."""
    value = Fraction(value)
    return Decimal(value.numerator) / Decimal(value.denominator)


@cache
def _pi() -> Decimal:
    """π to the working precision (the `decimal` module documentation's recipe)."""
    with localcontext(_CONTEXT) as ctx:
        ctx.prec += 2
        three = Decimal(3)
        last, t, s, n, na, d, da = Decimal(0), three, three, 1, 0, 0, 24
        while s != last:
            last = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
    return +s


@cache
def _bernoulli(count: int) -> tuple[Fraction, ...]:
    """B_0 … B_count exactly (B_1 = −1/2), by the defining recurrence."""
    numbers: list[Fraction] = [Fraction(1)]
    for m in range(1, count + 1):
        total = sum((comb(m + 1, j) * numbers[j] for j in range(m)), Fraction(0))
        numbers.append(-total / (m + 1))
    return tuple(numbers)


def _ln_gamma(z: Decimal) -> Decimal:
    """The natural logarithm of Γ(z) for z > 0, in the current context."""
    shift = max(0, _SHIFT - int(z))
    product = Decimal(1)
    for i in range(shift):
        product *= z + i
    w = z + shift
    bernoulli = _bernoulli(2 * _STIRLING_TERMS)
    series = Decimal(0)
    power = w
    w_squared = w * w
    for j in range(1, _STIRLING_TERMS + 1):
        series += _dec(bernoulli[2 * j]) / (2 * j * (2 * j - 1) * power)
        power *= w_squared
    stirling = (w - Decimal("0.5")) * w.ln() - w + (2 * _pi()).ln() / 2 + series
    return stirling - product.ln()


def _lower_gamma(a: Decimal, x: Decimal) -> Decimal:
    """The regularised lower incomplete gamma function P(a, x), in the current context.

    By its power series when x < a + 1 or x < 50 (a hundred terms or so), else as 1 − Q(a, x)
    by Legendre's continued fraction (modified Lentz), which needs about √a terms where the
    series would need about x − a.
    """
    if x <= 0:
        return Decimal(0)
    if x < a + 1 or x < _SERIES_UP_TO:
        return _lower_gamma_series(a, x)
    return 1 - _upper_gamma_fraction(a, x)


def _lower_gamma_series(a: Decimal, x: Decimal) -> Decimal:
    """P(a, x) = e^(a·ln x − x − ln Γ(a+1)) · Σ x^n / ((a+1)…(a+n))."""
    term = Decimal(1)
    total = Decimal(1)
    n = 1
    while True:
        term = term * x / (a + n)
        total += term
        if term < total * _EPSILON and n > x:
            break
        n += 1
    return (a * x.ln() - x - _ln_gamma(a + 1)).exp() * total


def _upper_gamma_fraction(a: Decimal, x: Decimal) -> Decimal:
    """Q(a, x) = e^(a·ln x − x − ln Γ(a)) / (x + 1 − a − 1·(1 − a) / (x + 3 − a − …))."""
    tiny = Decimal("1e-300")
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    i = 1
    while True:
        an = -i * (i - a)
        b += 2
        d = an * d + b
        if abs(d) < tiny:  # pragma: no cover - Lentz's guard; b > 0 keeps d away from zero
            d = tiny
        c = b + an / c
        if abs(c) < tiny:  # pragma: no cover - as above
            c = tiny
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < _EPSILON:
            break
        i += 1
    return (a * x.ln() - x - _ln_gamma(a)).exp() * h


def _density(a: Decimal, x: Decimal) -> Decimal:
    """The gamma(a, 1) density at x: the derivative of P(a, x) in x."""
    return ((a - 1) * x.ln() - x - _ln_gamma(a)).exp()


def gamma_cdf(shape: Fraction, x: Fraction | Decimal) -> Decimal:
    """P(shape, x), the regularised lower incomplete gamma function, to 50 significant digits.

    For a whole number k, ``1 − gamma_cdf(k + 1, λ)`` is the Poisson probability of k or fewer.

    >>> round(gamma_cdf(Fraction(1), Decimal(3)), 10)  # 1 − e^−3
    Decimal('0.9502129316')
    """
    with localcontext(_CONTEXT):
        point = x if isinstance(x, Decimal) else _dec(x)
        return +_lower_gamma(_dec(shape), point)


@cache
def upper_limit(misstatements: Fraction, confidence: Fraction) -> Decimal:
    """The Poisson upper limit λ with ``P(1 + misstatements, λ) = confidence``, to 50 digits.

    `misstatements` is the number (or, for planning, the expected total tainting) found.

    >>> round(upper_limit(Fraction(0), Fraction(95, 100)), 6)
    Decimal('2.995732')
    >>> round(upper_limit(Fraction(1), Fraction(95, 100)), 6)
    Decimal('4.743865')
    """
    if misstatements < 0 or not 0 < confidence < 1:
        raise ValueError(
            f"need misstatements ≥ 0 and 0 < confidence < 1, got {misstatements}, {confidence}"
        )
    with localcontext(_CONTEXT):
        if misstatements == 0:  # P(1, x) = 1 − e^−x
            return +(-(1 - _dec(confidence)).ln())
        a = 1 + _dec(misstatements)
        target = _dec(confidence)
        # Wilson–Hilferty: a float first guess, good to a few per cent; Newton does the rest.
        shape = float(misstatements) + 1
        z = NormalDist().inv_cdf(float(confidence))
        guess = shape * (1 - 1 / (9 * shape) + z / (3 * shape**0.5)) ** 3
        x = Decimal(repr(max(guess, shape / 2)))
        for _ in range(200):
            step = (_lower_gamma(a, x) - target) / _density(a, x)
            nxt = x - step
            if nxt <= 0:
                nxt = x / 2
            if abs(nxt - x) <= x * _EPSILON:
                return +nxt
            x = nxt
    raise ArithmeticError(  # pragma: no cover - Newton converges from the estimate above
        f"the upper limit for {misstatements} at {confidence} did not converge"
    )
