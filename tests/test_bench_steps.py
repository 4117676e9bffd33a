"""The step benchmark runs, and times the work the batch path does (its timings are not tested)."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

from tests.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_steps.py"


def _script() -> ModuleType:
    return load_script(SCRIPT)


def test_every_step_is_a_row_against_the_floor() -> None:
    printed = _script().main(["12", "--repeat", "1"])
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "µs" not in line]
    assert len(rows) == 11
    assert rows[0].startswith("| `json.loads` (the floor) |")
    assert rows[0].endswith("| 1.00 |")
    assert "whole batch path" in rows[-1]
    for row in rows:
        assert re.fullmatch(r"\| .+ \| [0-9]+\.[0-9] \| [0-9]+\.[0-9]{2} \|", row), row


def test_the_table_divides_by_the_first_step() -> None:
    table = _script().table([("floor", 30.0), ("step", 45.0)])
    assert table.splitlines()[2:] == ["| floor | 30.0 | 1.00 |", "| step | 45.0 | 1.50 |"]
