"""Fuzz the input contract for a while: mutated bytes in, never an exception, never a lost line.

The test suite runs the same properties with a small budget (tests/test_input_properties.py and
tests/test_input_fuzz.py). Run this for longer before a release or after touching a reader:

    python scripts/fuzz_input.py --minutes 10

It draws good family records, mutates their bytes (flips, inserts, deletes, splices in bad
bytes, repeats keys, nests deeply), writes JSON Lines and JSON arrays, and checks that every
record read is a `Family` or a `Rejection`, that the count of records equals the count of
non-blank lines (JSON Lines), and that nothing but a `Rejection` ever comes out of a bad record.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()

    from hypothesis import HealthCheck, settings

    # load the profile before the tests are imported: their decorators inherit from it
    settings.register_profile(
        "fuzz",
        max_examples=500,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("fuzz")
    from tests import test_input_fuzz, test_input_properties

    deadline = time.monotonic() + 60 * args.minutes
    checks = [
        test_input_fuzz.test_mutated_bytes_never_raise,
        test_input_fuzz.test_mutated_files_keep_every_line,
        test_input_properties.test_every_line_is_a_decision_or_a_rejection,
        test_input_properties.test_schema_and_model_agree_on_near_misses,
    ]
    rounds = 0
    while time.monotonic() < deadline:
        for check in checks:
            check()
        rounds += 1
        print(f"round {rounds}: {len(checks)} properties x 500 examples passed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
