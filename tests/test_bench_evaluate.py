"""The pipeline benchmark runs, checks what it compares, and leaves no files (timings not tested)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_evaluate.py"


@pytest.mark.slow
def test_the_benchmark_prints_its_table_and_removes_what_it_wrote(tmp_path: Path) -> None:
    # Its files run to gigabytes at 50,000 families: every run once left them in the temporary
    # folder, and the machine's disk filled.
    work = tmp_path / "tmp"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "200", "--council", "40", "--check", "5"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(work)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| 200 |" in done.stdout
    assert "evaluate_many, default" in done.stdout
    from pbr.rules import PHASE_ONE

    ways = 1 + sum(len(i.values) - 1 for i in PHASE_ONE.interpretations.values())
    assert (
        f"differential check: {5 * 3 * ways} decisions (5 families × 3 dates × {ways} "
        "interpretations)"
    ) in done.stdout
    assert list(work.iterdir()) == []
