"""A forecast says which interpretations, outcome plan and rules produced it, as evaluate does.

And the warning of a forecast from records over the maximum names every part of the sum it
states (it once called never-paid money "secured, claimable now and forecast").
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

import pbr
from pbr.engine import rules_hash
from pbr.forecast import allocation, compare, drawdown, from_records
from pbr.forecast._drawdown import over_maximum_message
from pbr.forecast._terms import rules_for_programme
from pbr.output import interpretations_text
from pbr.plans import load_plan
from pbr.rules import PHASE_ONE

from .forecast_cli import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CLAIM_YEAR = PHASE_ONE.with_interpretations(rates_by="claim_year")
PROVENANCE = ("interpretations", "rules_hash", "outcome_plan")
MIXED = (
    "--records",
    str(EXAMPLES / "mixed-programmes.jsonl"),
    "--programme",
    "tf-phase-2",
    "--estimated",
    "10",
    "--as-of",
    "2019-12-31",
)
PLAN = str(EXAMPLES / "plans" / "county-tfop.yaml")


def _summary_csv(*args: str) -> list[dict[str, str]]:
    ran = cli("--families", "790", "--format", "csv", "--table", "summary", *args)
    assert ran.returncode == 0, ran.stderr
    return list(csv.DictReader(io.StringIO(ran.stdout)))


def _first_row(text: str) -> dict[str, str]:
    return next(iter(csv.DictReader(io.StringIO(text))))


def test_the_summary_csv_names_the_interpretations_and_the_rules_hash() -> None:
    default = _summary_csv()[0]
    other = _summary_csv("--interpretation", "rates_by=claim_year")[0]
    assert default["forecast"] != other["forecast"]
    assert default["interpretations"] == interpretations_text(PHASE_ONE.chosen)
    assert "rates_by=attachment_year" in default["interpretations"]
    assert "rates_by=claim_year" in other["interpretations"]
    assert default["rules_hash"] == rules_hash(PHASE_ONE)
    assert other["rules_hash"] == rules_hash(CLAIM_YEAR)
    assert default["rules_hash"] != other["rules_hash"]
    # appended at the end: the columns there before keep their places
    assert list(default)[-2:] == ["interpretations", "rules_hash"]
    assert list(default)[:3] == ["scenario", "maximum", "secured"]


def test_the_summary_json_names_them_too() -> None:
    ran = cli(
        "--families", "790", "--format", "json", "--table", "summary",
        "--interpretation", "results_split=pro_rata",
    )  # fmt: skip
    row = json.loads(ran.stdout.splitlines()[0])
    assert "results_split=pro_rata" in row["interpretations"]
    assert row["rules_hash"] == rules_hash(PHASE_ONE.with_interpretations(results_split="pro_rata"))


def test_the_workbook_summary_sheet_names_them(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    ran = cli("--families", "790", "--interpretation", "rates_by=claim_year", "--output", str(path))
    assert ran.returncode == 0, ran.stderr
    sheet = load_workbook(path)["summary"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert "rates_by=claim_year" in row["interpretations"]
    assert row["rules_hash"] == rules_hash(CLAIM_YEAR)


def test_pandas_frames_carry_them_in_attrs_and_the_summary_frame_in_columns() -> None:
    d = drawdown(allocation(790, rules=CLAIM_YEAR))
    expected = {
        "interpretations": interpretations_text(CLAIM_YEAR.chosen),
        "rules_hash": rules_hash(CLAIM_YEAR),
        "outcome_plan": "",
    }
    for table in ("windows", "by year", "summary", "allocation"):
        assert d.to_pandas(table).attrs == expected, table
        assert compare(allocation(790, rules=CLAIM_YEAR)).to_pandas(table).attrs == expected
    summary = d.summary()
    assert {k: summary[k] for k in ("interpretations", "rules_hash")} == {
        k: expected[k] for k in ("interpretations", "rules_hash")
    }
    frame = d.to_pandas("summary")
    assert frame["rules_hash"].iloc[0] == expected["rules_hash"]


def test_councils_of_different_readings_keep_theirs_by_council() -> None:
    one = allocation(790, council="A")
    two = allocation(790, council="B", rules=CLAIM_YEAR)
    both = compare(pbr.forecast.AllocationTable((one, two)))
    attrs = both.to_pandas("summary").attrs
    assert attrs["rules_hash"] == {"A": rules_hash(PHASE_ONE), "B": rules_hash(CLAIM_YEAR)}
    rows = both.summary()
    assert [r["rules_hash"] for r in rows] == [rules_hash(PHASE_ONE), rules_hash(CLAIM_YEAR)]


def test_the_table_names_non_default_interpretations_and_nothing_under_the_defaults() -> None:
    default = cli("--families", "790")
    assert "interpretations" not in default.stdout
    assert "rules_hash" not in default.stdout
    other = cli("--families", "790", "--interpretation", "rates_by=claim_year")
    line = f"  interpretations: rates_by=claim_year (not the default); rules_hash {rules_hash(CLAIM_YEAR)[:12]}…"
    assert line in other.stdout.splitlines()
    several = cli(
        "--families", "790", "--families", "100", "--interpretation", "rates_by=claim_year"
    )
    assert line.strip() in several.stdout.splitlines()
    assert "rules_hash" not in cli("--families", "790", "--families", "100").stdout


def test_a_plan_is_named_in_the_table_and_the_summary() -> None:
    plan = load_plan(PLAN)
    without, given = cli(*MIXED), cli(*MIXED, "--plan", PLAN)
    assert without.stdout != given.stdout
    rules = rules_for_programme("tf-phase-2")
    assert (
        f"  outcome plan: {plan.label}; rules_hash {rules_hash(rules, plan)[:12]}…"
        in given.stdout.splitlines()
    )
    assert "outcome plan" not in without.stdout  # pbr's example plan: the default, warned of
    rows = {
        name: _first_row(cli(*MIXED, *extra, "--format", "csv", "--table", "summary").stdout)
        for name, extra in (("without", ()), ("given", ("--plan", PLAN)))
    }
    assert rows["given"]["outcome_plan"] == plan.label
    assert rows["given"]["rules_hash"] == rules_hash(rules, plan)
    assert rows["without"]["outcome_plan"].endswith(" (example)")
    assert rows["without"]["rules_hash"] == rules_hash(rules)


# --- over the maximum: the warning's parts add up to what it states -------------------------


_MONEY = re.compile(r"£([0-9,]+\.[0-9]{2})")


def _pounds(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_the_over_maximum_warning_names_every_part_of_its_sum() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = from_records(
            pbr.read_records(EXAMPLES / "families.jsonl"),
            as_of=date(2014, 3, 31),
            alloc=allocation(0, council="Exampleshire"),
        )
    message = over_maximum_message(d)
    assert message in [str(w.message) for w in caught]
    parts, _, rest = message.partition(" come to ")
    stated = _pounds(_MONEY.match(rest).group(1))  # type: ignore[union-attr]
    named = [_pounds(m) for m in _MONEY.findall(parts.split("funded families: ", 1)[1])]
    assert sum(named, Decimal(0)) == stated
    assert stated == d.maximum + d.over_maximum - d.paid_over_cap
    assert d.beyond_horizon > 0
    assert "never paid" in parts
    assert "£10,964.50" in parts


@pytest.mark.filterwarnings("ignore")
def test_the_over_maximum_warning_adds_up_with_money_past_caps_too() -> None:
    d = from_records(
        pbr.read_records(EXAMPLES / "families.jsonl"), as_of=date(2015, 3, 31), alloc=allocation(10)
    )
    message = over_maximum_message(d)
    parts, _, rest = message.partition(" come to ")
    stated = _pounds(_MONEY.match(rest).group(1))  # type: ignore[union-attr]
    named = [_pounds(m) for m in _MONEY.findall(parts.split("funded families: ", 1)[1])]
    assert sum(named, Decimal(0)) == stated == d.maximum + d.over_maximum - d.paid_over_cap
