"""The benchmark of what is kept runs every way of reading and evaluating (its timings are not tested)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_kept.py"


def test_every_run_is_a_row_with_its_collections_and_memory() -> None:
    script = load_script(SCRIPT)
    printed = script.main(["12", "--repeat", "1"])
    assert printed.startswith("python 3.")
    assert "12 families" in printed.splitlines()[0]
    rows = [line for line in printed.splitlines() if line.startswith("| `")]
    assert len(rows) == len(script.RUNS) == 7
    for row in rows:
        assert re.fullmatch(r"\| .+ \| [0-9]+\.[0-9]{2} s \| [0-9]+ \| [0-9]+ \|", row), row
