"""Every audit report, and the command's summary, name the outcome plan that judged the claims."""

from __future__ import annotations

import csv
import html
import io
from datetime import date
from pathlib import Path

import pytest

import pbr
from pbr.audit import Claim, verify, write_report
from pbr.cli import main
from pbr.engine import plan_sha256
from pbr.plans import example_plan, parse_plan
from tests.builders import PLAN_FAMILY

FAMILY = PLAN_FAMILY
PLAN = """id = "council-strict"
version = "3"
programme = "tf-phase-2"
[[outcomes]]
problem = "domestic_abuse"
  [[outcomes.measures]]
  id = "no_da"
  indicator = "police_callout_domestic_abuse"
  comparison = "=="
  threshold = 0
  sustain_months = 6
[[outcomes]]
problem = "health"
  [[outcomes.measures]]
  id = "gp_low"
  indicator = "gp_visits"
  aggregate = "sum"
  comparison = "<="
  threshold = 2
  sustain_months = 3
"""
CLAIMS = (
    "claim_id,family_id,kind,amount,claimed_on\nK-1,P2-A,sustained_progress,800.00,2017-03-01\n"
)


def _plan() -> pbr.OutcomePlan:
    import tomllib

    return parse_plan(tomllib.loads(PLAN))


def _claim() -> Claim:
    return Claim(
        claim_id="K-1",
        family_id="P2-A",
        kind="sustained_progress",
        amount="800.00",
        claimed_on=date(2017, 3, 1),
    )


def _text(path: Path) -> str:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        return "\n".join(
            str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value
        )
    text = path.read_text(encoding="utf-8").replace("\\", "")
    return html.unescape(text) if path.suffix == ".html" else text


@pytest.mark.parametrize("suffix", [".md", ".html", ".csv", ".xlsx"])
def test_every_report_names_the_council_s_plan_and_its_hash(tmp_path: Path, suffix: str) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    plan = _plan()
    family = pbr.Family.model_validate(FAMILY)
    result = verify([_claim()], [family], plans={"tf-phase-2": plan})
    text = _text(write_report(result, tmp_path / f"r{suffix}"))
    assert "council-strict/3" in text
    assert plan_sha256(plan) in text
    assert "example plan" not in text


@pytest.mark.parametrize("suffix", [".md", ".html", ".csv", ".xlsx"])
def test_every_report_warns_when_pbr_s_example_plan_judged(tmp_path: Path, suffix: str) -> None:
    if suffix == ".xlsx":
        pytest.importorskip("openpyxl")
    family = pbr.Family.model_validate(FAMILY)
    result = verify([_claim()], [family])
    text = _text(write_report(result, tmp_path / f"r{suffix}"))
    example = example_plan("tf-phase-2")
    assert example.label in text
    assert "pbr's example plan" in text
    assert plan_sha256(example) in text


def test_the_verification_names_the_plan_per_programme_and_phase_one_none() -> None:
    plan = _plan()
    p2 = pbr.Family.model_validate(FAMILY)
    p1 = pbr.Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": "2012-10-15",
            "identified_for": ["crime_asb", "education", "work"],
            "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        }
    )
    p1_claim = Claim(
        claim_id="C1",
        family_id="F1",
        kind="attachment_fee",
        amount="3200.00",
        claimed_on=date(2012, 11, 1),
    )
    result = verify([_claim(), p1_claim], [p2, p1], plans={"tf-phase-2": plan})
    [used] = result.outcome_plans
    assert (used.programme, used.label, used.sha256, used.example) == (
        "tf-phase-2",
        "council-strict/3",
        plan_sha256(plan),
        False,
    )
    rows = {c.claim.claim_id: c.as_row() for c in result.checks}
    assert rows["K-1"]["outcome_plan"] == "council-strict/3"
    assert rows["C1"]["outcome_plan"] == rows["C1"]["outcome_plan_sha256"] == ""


def _files(folder: Path, plan: str) -> tuple[Path, Path, Path]:
    """The phase-two family, its claims and `plan`, written as the command reads them."""
    import json

    families = folder / "fam.jsonl"
    families.write_text(json.dumps(FAMILY) + "\n")
    claims = folder / "claims.csv"
    claims.write_text(CLAIMS)
    plan_file = folder / "plan.toml"
    plan_file.write_text(plan)
    return families, claims, plan_file


def test_the_command_names_the_plan_it_judged_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    families, claims, plan_file = _files(tmp_path, PLAN)
    report = tmp_path / "nop.md"
    assert main(["audit", str(claims), "--families", str(families), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "outcome plan, tf-phase-2: warning: pbr's example plan pbr-example-tfop/1.0" in out
    assert "pbr-example-tfop/1.0" in report.read_text()
    report = tmp_path / "strict.csv"
    given = ["--plan", str(plan_file), "--report", str(report)]
    assert main(["audit", str(claims), "--families", str(families), *given]) == 1
    out = capsys.readouterr().out
    assert f"outcome plan, tf-phase-2: council-strict/3, sha256 {plan_sha256(_plan())}" in out
    [row] = csv.DictReader(io.StringIO(report.read_text()))
    assert row["outcome_plan"] == "council-strict/3"
    assert row["flags"] == "RESULT_NOT_MET"


SF_PLAN = """id = "kent-sf"
version = "3"
programme = "supporting-families"
[[outcomes]]
problem = "housing"
  [[outcomes.measures]]
  id = "no_eviction"
  indicator = "eviction_notice"
  comparison = "=="
  threshold = 0
  sustain_months = 6
"""


def test_a_plan_for_another_programme_is_named_beside_the_example_plan_s_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a phase-two family with only a Supporting Families plan: audit and explain said nothing of
    # the plan given (evaluate named it), and explain said nothing at all on standard error
    families, claims, plan_file = _files(tmp_path, SF_PLAN)
    given = "the plan given, kent-sf/3, is for supporting-families"
    main(["audit", str(claims), "--families", str(families), "--plan", str(plan_file)])
    out = capsys.readouterr().out
    assert "(no --plan given for tf-phase-2; " + given + "), sha256" in out
    argv = ["explain", str(families), "P2-A", "--as-of", "2017-03-01", "--plan", str(plan_file)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err == (
        "pbr: warning: 1 tf-phase-2 family was judged against pbr's example outcome plan "
        f"pbr-example-tfop/1.0, not the council's: no --plan was given for tf-phase-2 ({given})\n"
    )
    assert main(argv[:5]) == 0  # no plan at all: warned as evaluate warns
    assert capsys.readouterr().err.endswith("no --plan was given for tf-phase-2\n")
