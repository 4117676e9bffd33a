"""Every tabular form of the decisions names the interpretations in force and the rules hash.

The CSV, the workbook and `pbr.to_pandas` once had no word of them: a CSV of amounts under
``employment_after_crime = exclusive`` could not be told from one under the default.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.cli import main
from pbr.output import RESULT_COLUMNS, decision_text, interpretations_text
from pbr.programmes import programmes
from pbr.testing import PROGRAMMES, families, interpretation_choices

X1 = {
    "family_id": "X1",
    "programme": "tf-phase-1",
    "attached_on": "2013-04-15",
    "members": [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "1997-01-01"},
    ],
    "identified_for": ["crime_asb", "work"],
    "local_discretion": ["dv"],
    "benefit_spells": [
        {"person_id": "A1", "benefit": "ESA", "start": "2011-01-01", "end": "2013-12-31"}
    ],
    "employment_spells": [{"person_id": "A1", "start": "2014-01-06", "end": None}],
}
"""The tester's family: its amounts differ under ``employment_after_crime = exclusive``."""
EXCLUSIVE = ["--interpretation", "employment_after_crime=exclusive"]


@pytest.fixture
def x1(tmp_path: Path) -> Path:
    path = tmp_path / "x1.jsonl"
    path.write_text(json.dumps(X1) + "\n", encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    """``pbr evaluate`` as of 2014-04-10 with `args`: its standard output and error."""
    code = main(["evaluate", *args, "--as-of", "2014-04-10", "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def _json(capsys: pytest.CaptureFixture[str], x1: Path, *choices: str) -> dict[str, Any]:
    out, _ = _run(capsys, str(x1), "--format", "json", *choices)
    decision: dict[str, Any] = json.loads(out)
    return decision


def _joined(interpretations: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in interpretations.items())


@pytest.mark.parametrize("to_file", [False, True])
def test_the_csv_names_the_interpretations_and_the_rules_hash(
    capsys: pytest.CaptureFixture[str], x1: Path, tmp_path: Path, to_file: bool
) -> None:
    """Amounts of 1500/100 and 0/1600 stood in rows otherwise the same: now the rows say why."""
    assert RESULT_COLUMNS[-2:] == ("interpretations", "rules_hash")
    seen = {}
    for choices in ([], EXCLUSIVE):
        if to_file:
            _run(capsys, str(x1), "--output", str(tmp_path / "d.csv"), *choices)
            text = (tmp_path / "d.csv").read_text(encoding="utf-8")
        else:
            text, _ = _run(capsys, str(x1), "--format", "csv", *choices)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 3
        decision = _json(capsys, x1, *choices)
        assert {r["interpretations"] for r in rows} == {_joined(decision["interpretations"])}
        assert {r["rules_hash"] for r in rows} == {decision["provenance"]["rules_hash"]}
        seen[bool(choices)] = rows[0]
    assert "employment_after_crime=exclusive" in seen[True]["interpretations"]
    assert "employment_after_crime=top_up" in seen[False]["interpretations"]
    assert seen[True]["rules_hash"] != seen[False]["rules_hash"]


def test_the_workbook_names_the_interpretations_and_the_rules_hash(
    capsys: pytest.CaptureFixture[str], x1: Path, tmp_path: Path
) -> None:
    load_workbook = pytest.importorskip("openpyxl").load_workbook
    _run(capsys, str(x1), "--output", str(tmp_path / "d.xlsx"), *EXCLUSIVE)
    head, *rows = load_workbook(tmp_path / "d.xlsx")["results"].iter_rows(values_only=True)
    assert list(head) == list(RESULT_COLUMNS)
    decision = _json(capsys, x1, *EXCLUSIVE)
    column = dict(zip(head, zip(*rows, strict=True), strict=True))
    assert set(column["interpretations"]) == {_joined(decision["interpretations"])}
    assert set(column["rules_hash"]) == {decision["provenance"]["rules_hash"]}


def test_the_frame_names_the_interpretations_and_the_rules_hash() -> None:
    pytest.importorskip("pandas")
    family = pbr.Family.model_validate(X1)
    rules = pbr.rules.PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    decision = pbr.evaluate(family, as_of=date(2014, 4, 10), rules=rules)
    frame = pbr.to_pandas([decision])
    assert set(frame["interpretations"]) == {_joined(decision.interpretations)}
    assert decision.provenance is not None
    assert set(frame["rules_hash"]) == {decision.provenance.rules_hash}
    rejected = pbr.to_pandas(
        [pbr.Rejection(source="s", line=1, record=1, family_id="R", errors=())]
    )
    assert rejected["interpretations"].tolist() == rejected["rules_hash"].tolist() == [None]


def test_the_table_s_summary_names_interpretations_other_than_the_defaults(
    capsys: pytest.CaptureFixture[str], x1: Path
) -> None:
    """The table's totals under another interpretation read as the defaults' did."""
    hashed = _json(capsys, x1, *EXCLUSIVE)["provenance"]["rules_hash"]
    out, _ = _run(capsys, str(x1), *EXCLUSIVE)
    said = [line.strip() for line in out.splitlines() if "interpretations" in line]
    assert said == [
        "interpretations: employment_after_crime=exclusive (not the default); "
        f"rules_hash {hashed[:12]}…"
    ]
    out, _ = _run(capsys, str(x1))
    assert "interpretations" not in out  # the defaults: as before
    assert "rules_hash" not in out


@settings(max_examples=60, deadline=None)
@given(data=st.data(), programme=st.sampled_from(PROGRAMMES))
def test_the_csv_s_interpretations_are_the_decision_s_under_any_choice(
    data: st.DataObject, programme: str
) -> None:
    family = data.draw(families(programme))
    rules = pbr.rule_set_for(family)
    rules = rules.with_interpretations(**data.draw(interpretation_choices(rules)))
    as_of = date(2016, 3, 31)
    try:
        decision = pbr.evaluate(family, as_of=as_of, rules=rules)
    except (pbr.OutsideProgramme, ValueError):
        return
    shown = decision.model_dump(mode="json")
    for render in ("csv", "csv-file"):
        rows = list(csv.DictReader(io.StringIO(decision_text(decision, render)), RESULT_COLUMNS))
        assert len(rows) == len(decision.results)
        for row in rows:
            assert row["interpretations"] == _joined(shown["interpretations"])
            assert row["rules_hash"] == shown["provenance"]["rules_hash"]
    assert interpretations_text(decision.interpretations) == _joined(shown["interpretations"])


def test_the_summary_s_rules_hash_is_the_one_each_programme_s_decisions_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Under a council's plan too (the hash covers it), each programme's line is its own."""
    examples = Path(__file__).parents[1] / "examples"
    given = [
        str(examples / "mixed-programmes.jsonl"),
        "--plan",
        str(examples / "plans" / "county-tfop.yaml"),
        "--interpretation",
        "employment_weeks=all_13",
    ]
    code = main(["evaluate", *given, "--as-of", "2024-03-31", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    hashes = {}
    for line in out.splitlines():
        decision = json.loads(line)
        hashes[decision["programme"]] = decision["provenance"]["rules_hash"]
    assert len(set(hashes.values())) == len(hashes) == 3
    said = [line.strip() for line in err.splitlines() if line.startswith("    interpretations")]
    assert said == [
        f"interpretations: employment_weeks=all_13 (not the default); rules_hash {h[:12]}…"
        for h in (hashes[p.id] for p in programmes() if p.id in hashes)  # the summary's order
    ]


def test_interpretations_text_follows_each_mapping_s_order_and_values() -> None:
    """The text kept for the last mapping is not given for an equal one in another order."""
    assert interpretations_text({"a": "1", "b": "2"}) == "a=1; b=2"
    assert interpretations_text({"b": "2", "a": "1"}) == "b=2; a=1"
    assert interpretations_text({"b": "2", "a": "3"}) == "b=2; a=3"
    assert interpretations_text({"a": "1", "b": "2"}) == "a=1; b=2"
    assert interpretations_text({}) == ""
