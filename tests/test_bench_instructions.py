"""The instruction benchmark's arithmetic (its valgrind runs take minutes: not run here)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_instructions.py"


def _script() -> ModuleType:
    return load_script(SCRIPT)


def test_a_family_and_start_up_are_the_difference_and_the_rest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = _script()
    per_family, start_up = 1_367_000, 1_057_000_000

    def counted(src: Path, families: Path, out: Path) -> int:
        n = int(families.stem.rsplit("-", 1)[1])
        out.write_text("written")
        return start_up + n * per_family

    monkeypatch.setattr(script, "count", counted)
    files = {n: tmp_path / f"families-{n}.jsonl" for n in (1000, 3000)}
    row, outputs = script.measure("this tree", tmp_path, files, tmp_path)
    assert row == "| this tree | 2,424M | 5,158M | **1.367M** | 1,057M |"
    assert sorted(outputs) == [1000, 3000]


def test_callgrinds_count_is_read_from_its_report() -> None:
    report = "==123== Events    : Ir\n==123== Collected : 2424012345\n==123==\n"
    found = _script().COLLECTED.search(report)
    assert found is not None
    assert int(found.group(1)) == 2_424_012_345
