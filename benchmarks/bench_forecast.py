"""Benchmark: Monte Carlo of a 5,000-family council, and every council of England at once.

Run: ``python benchmarks/bench_forecast.py`` (needs ``pbr[forecast]``). Prints medians of five
timings; the figures are recorded in docs/tutorials/forecast.md. Not a test: timings vary.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from pbr.forecast import (
    Assumptions,
    allocation,
    allocation_table,
    default_assumptions,
    default_scenarios,
    drawdown,
)

ESTIMATED = 6000  # 5/6 of 6,000 = 5,000 funded families
RUNS = 10_000
COUNCILS = 152  # upper-tier councils in England in phase one


def median_of_five(work: Callable[[], Any]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(5):
        start = time.perf_counter()
        result = work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), result


def main() -> None:
    council = allocation(ESTIMATED)
    assert council.whole_funded_families == 5000
    base = default_assumptions()
    fixed = Assumptions("fixed", base.probabilities, base.lag_months)
    for scenario in (base, fixed):
        seconds, result = median_of_five(
            lambda s=scenario: drawdown(council, s, runs=RUNS, seed=2012)  # type: ignore[misc]
        )
        last = result.windows[-1]
        print(
            f"{scenario.name:>5}: {council.whole_funded_families:,} families, {RUNS:,} runs, "
            f"{len(result.windows)} windows: median {seconds:.3f} s; expected £{result.total:,}; "
            f"p5 £{last.low:,}; p95 £{last.high:,}"
        )
    seconds, _ = median_of_five(lambda: drawdown(council))
    print(f"expected drawdown alone (exact, rounded as one table): median {seconds * 1000:.1f} ms")
    rows = [
        {"council": f"council {n}", "estimated_families": 300 + 37 * n} for n in range(COUNCILS)
    ]
    table = allocation_table(rows)
    seconds, both = median_of_five(lambda: table.compare(default_scenarios()))
    print(
        f"{COUNCILS} councils × 2 scenarios, expected drawdown: median {seconds:.2f} s "
        f"({len(both.drawdowns)} drawdowns)"
    )


if __name__ == "__main__":
    main()
