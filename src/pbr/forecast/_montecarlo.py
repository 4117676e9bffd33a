"""Seeded Monte Carlo of the drawdown: whole families drawn per cohort and result, in pence.

The scheme, so that anyone can reproduce a run: one ``numpy.random.Generator(PCG64(seed))``;
cohorts are taken in the order given (attachment date), and within a cohort the results in
sorted order of their names. For each cohort and result, the number of families meeting it in
run is ``Binomial(whole families + extra, p)``, where ``extra`` (drawn once per cohort and run,
before its results) is ``Binomial(1, fractional part of the cohort)``: a cohort of 658/12
families is 54 families and, in 5 runs out of 6, a 55th. The families meeting a result are
spread over the lags by one multinomial draw with the lag shares. Rates are whole pence, so the
sums are exact integers. A cohort's results are then cut, in time order, at its room under the
cap (its families in that run × the results share), so no run pays more than the maximum. The
same seed and the same numpy version give the same output on any machine.

Percentiles are exact order statistics (``inverted_cdf``: the smallest total with at least the
wanted share of runs at or below it), and `to_money` is the one place pence become pounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from pbr.money import round_to_penny

__all__ = ["CohortDraw", "MonteCarlo", "check_band", "monte_carlo", "to_money"]


def to_money(pence: int) -> Decimal:
    """Whole pence as pounds to the penny: the one place Monte Carlo output becomes money.

    >>> to_money(70186667)
    Decimal('701866.67')
    """
    return round_to_penny(Fraction(int(pence), 100))


def check_band(band: tuple[int, int]) -> tuple[int, int]:
    """A percentile band ``(low, high)`` with ``0 < low < 50 < high < 100``, else ValueError.

    >>> check_band((5, 95))
    (5, 95)
    """
    low, high = band
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in band) or not (
        0 < low < 50 < high < 100
    ):
        raise ValueError(f"band must be whole percentiles with 0 < low < 50 < high < 100: {band}")
    return band


@dataclass(frozen=True, slots=True)
class CohortDraw:
    """One cohort as the simulation sees it: families, pence per result, windows per lag.

    `windows` gives, for each lag in order, the index of the claim window paying a result met
    after that lag, or None beyond the last window; `share` is one family's results share (the
    cap less the attachment fee) in pence.
    """

    families: Fraction
    rates: Mapping[str, int]
    windows: tuple[int | None, ...]
    share: int


@dataclass(frozen=True, slots=True)
class MonteCarlo:
    """Per window, the low, median and high percentiles of the cumulative total; final mean, std."""

    low: tuple[Decimal, ...]
    median: tuple[Decimal, ...]
    high: tuple[Decimal, ...]
    mean: Decimal
    std: Decimal


def monte_carlo(
    cohorts: Sequence[CohortDraw],
    probabilities: Mapping[str, Fraction],
    lag_shares: Sequence[Fraction],
    fees: Sequence[int],
    *,
    runs: int,
    seed: int,
    band: tuple[int, int],
) -> MonteCarlo:
    """Simulate `runs` runs; `fees` is the certain cumulative attachment fees per window, in pence.

    >>> one = CohortDraw(Fraction(10), {"r": 10000}, (0,), share=10000)
    >>> mc = monte_carlo([one], {"r": Fraction(1, 2)}, [Fraction(1)], [0], runs=100, seed=1,
    ...     band=(5, 95))
    >>> mc.low[0] <= mc.median[0] <= mc.high[0] <= Decimal(1000)
    True
    """
    from pbr.forecast._extras import numpy

    np: Any = numpy()
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs must be a whole number of at least 1, got {runs!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number of 0 or more, got {seed!r}")
    check_band(band)
    rng = np.random.Generator(np.random.PCG64(seed))
    slots = len(fees)
    pence = np.zeros((runs, slots), dtype=np.int64)
    lag_p = np.array([float(q) for q in lag_shares])
    lag_p = lag_p / lag_p.sum()
    for c in cohorts:
        whole, part = divmod(c.families.numerator, c.families.denominator)
        families = whole + rng.binomial(1, float(Fraction(part, c.families.denominator)), runs)
        paid = np.zeros((runs, slots), dtype=np.int64)
        for kind in sorted(probabilities):
            met = rng.binomial(families, float(probabilities[kind]))
            split = rng.multinomial(met, lag_p)
            for j, target in enumerate(c.windows):
                if target is not None:
                    paid[:, target] += split[:, j] * c.rates[kind]
        # the cohort's room under the cap is used in time order; later payments are cut
        cut = np.minimum(np.cumsum(paid, axis=1), (families * c.share)[:, None])
        pence += np.diff(cut, axis=1, prepend=0)
    cumulative = np.cumsum(pence, axis=1) + np.asarray(fees, dtype=np.int64)
    ordered = np.sort(cumulative, axis=0)

    def percentile(q: int) -> tuple[Decimal, ...]:
        k = max(math.ceil(Fraction(q, 100) * runs) - 1, 0)
        return tuple(to_money(int(v)) for v in ordered[k])

    final = [int(v) for v in cumulative[:, -1]] if slots else [0] * runs
    mean = Fraction(sum(final), runs)
    variance = Fraction(sum(v * v for v in final), runs) - mean * mean
    with localcontext() as ctx:
        ctx.prec = 40
        std_pence = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
    return MonteCarlo(
        low=percentile(band[0]),
        median=percentile(50),
        high=percentile(band[1]),
        mean=round_to_penny(mean / 100),
        std=round_to_penny(std_pence / 100),
    )
