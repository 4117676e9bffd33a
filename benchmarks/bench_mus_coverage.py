"""Monetary-unit sampling: does the stated bound hold as often as it says, and how fast is it?

Run: ``python benchmarks/bench_mus_coverage.py [SEEDS]`` (default 1,000 seeds per row). For
simulated claim files with a known over-claim, it draws the planned sample under SEEDS seeds
and counts the draws whose upper limit is at least the actual over-claim: the coverage, which
must be at least the stated confidence. Then it times plan, select and evaluate on 100,000
claims. The figures are recorded on docs/audit-sampling.md. Not a test: timings vary
(tests/test_mus.py runs a 200-seed version of the coverage check).
"""

from __future__ import annotations

import random
import sys
import time
from decimal import Decimal

from pbr.audit import mus_evaluate, mus_plan, mus_select

RATES = [100, 700, 800, 800, 1000, 1600, 1600, 4000]
"""Claim amounts like the programmes' (results, progress to work, fees), in pounds."""

SCENARIOS = [
    ("2% of claims wholly wrong", 0.02, False, False),
    ("20% of claims partly wrong", 0.2, True, False),
    ("30% of small claims wholly wrong", 0.3, False, True),
    ("60% of claims partly wrong", 0.6, True, False),
]


def simulated_file(
    seed: int, size: int, wrong_share: float, *, partial: bool, small_only: bool
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Claims and the amounts they should have been: some wholly or partly over-claimed."""
    rnd = random.Random(seed)
    claims: dict[str, Decimal] = {}
    audited: dict[str, Decimal] = {}
    for i in range(size):
        amount = Decimal(rnd.choice(RATES))
        claims[f"C-{i:06}"] = amount
        eligible = amount <= 800 if small_only else True
        if eligible and rnd.random() < wrong_share:
            kept = Decimal(rnd.randint(0, 80)) / 100 if partial else Decimal(0)
            audited[f"C-{i:06}"] = (amount * kept).quantize(Decimal("0.01"))
        else:
            audited[f"C-{i:06}"] = amount
    return claims, audited


def coverage(seeds: int) -> None:
    print(f"coverage over {seeds:,} seeds (tolerable 3%, expected 0.5%, 1,000 claims)")
    print(
        f"{'file':34} {'confidence':>10} {'n':>5} {'over-claim':>12} {'held':>8} {'median bound':>13}"
    )
    for label, share, partial, small in SCENARIOS:
        claims, audited = simulated_file(17, 1000, share, partial=partial, small_only=small)
        for confidence in ("80%", "90%", "95%", "99%"):
            plan = mus_plan(
                sum(claims.values()), confidence=confidence, tolerable="3%", expected="0.5%"
            )
            bounds = []
            actual = Decimal(0)
            for seed in range(seeds):
                found = mus_evaluate(mus_select(claims, plan, seed=seed), audited)
                assert found.actual_over_claim is not None
                actual = found.actual_over_claim
                bounds.append(found.upper_limit)
            held = sum(actual <= b for b in bounds) / seeds
            bounds.sort()
            print(
                f"{label:34} {confidence:>10} {plan.sample_size:>5} {actual:>12,} "
                f"{held:>8.1%} {bounds[seeds // 2]:>13,}"
            )


def timing() -> None:
    claims, audited = simulated_file(1, 100_000, 0.05, partial=True, small_only=False)
    start = time.perf_counter()
    plan = mus_plan(sum(claims.values()), confidence="95%", tolerable="2%", expected="0.5%")
    planned = time.perf_counter()
    drawn = mus_select(claims, plan, seed="2015-Q4")
    selected = time.perf_counter()
    found = mus_evaluate(drawn, audited)
    evaluated = time.perf_counter()
    print(
        f"\n100,000 claims, n = {plan.sample_size}: plan {planned - start:.3f} s, select "
        f"{selected - planned:.3f} s, evaluate {evaluated - selected:.3f} s "
        f"({len(found.factors) - 1} over-claims below the interval)"
    )
    print(found.conclusion)


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    coverage(seeds)
    timing()


if __name__ == "__main__":
    main()
