"""Every script in examples/ runs cleanly (CI runs them through this test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_script_runs(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_main_job_command_evaluates_every_example_family() -> None:
    families = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(families), "--as-of", "2015-03-31"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    count = sum(1 for line in families.read_text().splitlines() if line.strip())
    assert f"families evaluated: {count}" in result.stdout
    assert "families rejected:  0" in result.stdout
