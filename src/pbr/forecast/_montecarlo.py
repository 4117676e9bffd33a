"""Seeded Monte Carlo of the drawdown: whole families drawn per cohort and result, in pence.

The scheme, so that anyone can reproduce a run: one ``numpy.random.Generator(PCG64(seed))``.
First, one uniform ``u`` per run places the fractional families: cohorts hold fractional
families (658 families over 12 quarters is 54 5/6 each), so each cohort gets its whole part and,
by systematic sampling, one more family when an integer lies in ``[C_{i-1} - u, C_i - u)``, where
``C_i`` is the running sum of the fractional parts. A cohort gets its extra family with
probability equal to its fractional part, and every run holds exactly the whole funded families.
Then, cohort by cohort (in the order given: attachment date) and result by result (in sorted
order of their names), the number of the cohort's families meeting the result is binomial, and
those families are spread over the lags by one multinomial draw with the lag shares. Fees and
rates are whole pence, so sums are exact integers. A cohort's results are cut, in time order, at
its room under the cap (its families in that run × the results share), so no run pays more than
its families × the cap: the maximum. The same seed and the same numpy version give the same
output on any machine.

With parameter uncertainty (a scenario's ``ranges``), right after ``u`` each uncertain rate is
drawn once per run, in sorted order of the results' names, from its Beta distribution
(``Generator.beta``); every cohort of that run then uses the drawn rate. Without ranges nothing
more is drawn, so earlier seeds give the same runs. The council's up-front grant, when there is
one, is added to every run as it is certain.

Percentiles are exact order statistics (``inverted_cdf``: the smallest total with at least the
wanted share of runs at or below it), and `to_money` is the one place pence become pounds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from pbr.errors import ForecastError
from pbr.money import round_to_penny

__all__ = ["CohortDraw", "MonteCarlo", "check_band", "monte_carlo", "to_money"]


def to_money(pence: int) -> Decimal:
    """Whole pence as pounds to the penny: the one place Monte Carlo output becomes money.

    >>> to_money(70186667)
    Decimal('701866.67')
    """
    from pbr.forecast._allocation import pounds_of

    return pounds_of(int(pence))


def check_band(band: tuple[int, int]) -> tuple[int, int]:
    """A percentile band ``(low, high)`` with ``0 < low < 50 < high < 100``, else ValueError.

    >>> check_band((5, 95))
    (5, 95)
    """
    low, high = band
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in band) or not (
        0 < low < 50 < high < 100
    ):
        raise ForecastError(
            f"band must be whole percentiles with 0 < low < 50 < high < 100: {band}"
        )
    return band


@dataclass(frozen=True, slots=True)
class CohortDraw:
    """One cohort as the simulation sees it: families, pence per result, windows per lag.

    `fee_window` is the index of the claim window paying the cohort's attachment fees, `windows`
    gives, for each lag in order, the index of the window paying a result met after that lag
    (None: beyond the last window); `fee` and `share` (the cap less the fee) are per family.
    """

    families: Fraction
    fee: int
    fee_window: int | None
    rates: Mapping[str, int]
    windows: tuple[int | None, ...]
    share: int
    lag_rates: tuple[Mapping[str, int], ...] = ()
    """Pence per result for each lag, when they differ from `rates` (a claim's year's rates)."""


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
    slots: int,
    *,
    runs: int,
    seed: int,
    band: tuple[int, int],
    uncertain: Mapping[str, tuple[float, float]] | None = None,
    fixed: Sequence[int] | None = None,
    beyond: bool = False,
) -> MonteCarlo:
    """Simulate `runs` runs over `slots` claim windows; amounts in pence, results in pounds.

    `uncertain` gives the Beta ``(alpha, beta)`` of the rates drawn per run; `fixed` adds the
    same pence to every run in each window (an up-front grant). With `beyond`, the last slot
    holds what falls beyond the last claim window: it has its percentiles (of the cumulative
    total with it), and the mean and standard deviation are of the last window's total.

    >>> one = CohortDraw(Fraction(10), 0, 0, {"r": 10000}, (0,), share=10000)
    >>> mc = monte_carlo([one], {"r": Fraction(1, 2)}, [Fraction(1)], 1, runs=100, seed=1,
    ...     band=(5, 95))
    >>> mc.low[0] <= mc.median[0] <= mc.high[0] <= Decimal(1000)
    True
    """
    from pbr.forecast._extras import numpy

    np: Any = numpy()
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ForecastError(f"runs must be a whole number of at least 1, got {runs!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ForecastError(f"seed must be a whole number of 0 or more, got {seed!r}")
    seed = int(seed)  # numpy's integers too, as a notebook gives them
    check_band(band)
    rng = np.random.Generator(np.random.PCG64(seed))
    pence = np.zeros((runs, slots), dtype=np.int64)
    lag_p = np.array([float(q) for q in lag_shares])
    lag_p = lag_p / lag_p.sum()
    u = rng.random(runs)
    rates: dict[str, Any] = {}
    for kind in sorted(probabilities):
        if uncertain and kind in uncertain:
            alpha, beta = uncertain[kind]
            rates[kind] = rng.beta(alpha, beta, size=runs)
        else:
            rates[kind] = float(probabilities[kind])
    placed = np.zeros(runs, dtype=np.int64)  # ceil(C_{i-1} - u): 0 before the first cohort
    running = Fraction(0)
    for c in cohorts:
        whole = math.floor(c.families)
        running += c.families - whole
        upto = np.ceil(float(running) - u).astype(np.int64)
        families = whole + upto - placed
        placed = upto
        if c.fee_window is not None:
            pence[:, c.fee_window] += families * c.fee
        paid = np.zeros((runs, slots), dtype=np.int64)
        for kind in sorted(probabilities):
            met = rng.binomial(families, rates[kind])
            split = rng.multinomial(met, lag_p)
            for j, target in enumerate(c.windows):
                if target is not None:
                    rate = c.lag_rates[j][kind] if c.lag_rates else c.rates[kind]
                    paid[:, target] += split[:, j] * rate
        # the cohort's room under the cap is used in time order; later payments are cut
        cut = np.minimum(np.cumsum(paid, axis=1), (families * c.share)[:, None])
        pence += np.diff(cut, axis=1, prepend=0)
    if fixed is not None:
        pence += np.array(fixed, dtype=np.int64)[None, :]
    cumulative = np.cumsum(pence, axis=1)
    ordered = np.sort(cumulative, axis=0)

    def percentile(q: int) -> tuple[Decimal, ...]:
        k = max(math.ceil(Fraction(q, 100) * runs) - 1, 0)
        return tuple(to_money(int(v)) for v in ordered[k])

    last = slots - 2 if beyond else slots - 1  # the last claim window's column
    final = [int(v) for v in cumulative[:, last]] if last >= 0 else [0] * runs
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
