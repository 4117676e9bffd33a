"""Benchmark: 10,000 Monte Carlo runs of the drawdown of a 5,000-family council.

Run: ``python benchmarks/bench_forecast.py`` (needs ``pbr[forecast]``). Prints the median of
five timings; the figure is recorded in docs/tutorials/forecast.md. Not a test: timings vary.
"""

from __future__ import annotations

import statistics
import time

from pbr.forecast import allocation, drawdown

ESTIMATED = 6000  # 5/6 of 6,000 = 5,000 funded families
RUNS = 10_000


def main() -> None:
    council = allocation(ESTIMATED)
    assert council.whole_funded_families == 5000
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        result = drawdown(council, runs=RUNS, seed=2012)
        timings.append(time.perf_counter() - start)
    last = result.windows[-1]
    print(
        f"families: {council.whole_funded_families:,}; runs: {RUNS:,}; windows: {len(result.windows)}"
    )
    print(f"median of 5: {statistics.median(timings):.3f} s (min {min(timings):.3f} s)")
    print(f"expected total £{result.total:,}; p5 £{last.low:,}; p95 £{last.high:,}")


if __name__ == "__main__":
    main()
