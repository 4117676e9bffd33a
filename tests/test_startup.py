"""What a batch's start-up pays for: no pydantic model is built for records the batch compiles.

Each run is a fresh interpreter (`subprocess`), since this test process has built every model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.builders import record

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

PROBE = """
import json, sys
from pbr.cli import main
sys.argv = ["pbr", "evaluate", sys.argv[1], "--as-of", "2015-03-31", "--output", sys.argv[2],
            "--format", sys.argv[3]]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
from pbr import decisions, io, plans, records
built = {
    cls.__name__: bool(cls.__pydantic_complete__)
    for cls in (records.Family, records.Member, records.SchoolTermRecord, decisions.Decision,
                decisions.Reason, io.Rejection, io.FieldError, plans.OutcomePlan)
}
print(json.dumps(built))
"""


def _built(tmp_path: Path, lines: list[str], render: str = "json") -> dict[str, bool]:
    source = tmp_path / "families.jsonl"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return _probe(tmp_path, source, render)


def _probe(tmp_path: Path, source: Path, render: str = "json") -> dict[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(source), str(tmp_path / "out"), render],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, bool] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_a_batch_of_valid_records_builds_no_pydantic_model(tmp_path: Path) -> None:
    """Every programme's examples, as JSON and CSV: the compiled record and the lean parts.

    Phase two and Supporting Families validate their bundled outcome plan (one model, once).
    """
    none = dict.fromkeys(
        (
            "Family",
            "Member",
            "SchoolTermRecord",
            "Decision",
            "Reason",
            "Rejection",
            "FieldError",
            "OutcomePlan",
        ),
        False,
    )
    assert _probe(tmp_path, EXAMPLES / "families.jsonl") == none
    assert _probe(tmp_path, EXAMPLES / "families.jsonl", "csv") == none
    assert _probe(tmp_path, EXAMPLES / "mixed-programmes.jsonl") == none | {"OutcomePlan": True}


def test_a_record_the_batch_declines_builds_the_models_it_needs(tmp_path: Path) -> None:
    """The probe can see a build: a rejected record validates with pydantic and reports."""
    lines = [json.dumps(record(family_id="F1")), '{"family_id": "F2"}']
    built = _built(tmp_path, lines)
    assert built["Family"]
    assert built["Rejection"]
    assert not built["Decision"]
