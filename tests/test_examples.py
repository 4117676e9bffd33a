"""The bundled example families: exactly what scripts/make_examples.py builds, covering every rule.

`examples/families.jsonl` is generated (``python scripts/make_examples.py``); these tests keep it
from drifting and check that, between them, the families reach every result status, every reason
code and the effect of every interpretation at the one evaluation date, 31 March 2015.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest

import pbr
from pbr.decisions import RESULT_KINDS, Decision, Status
from pbr.reasons import REASON_CODES, ReasonCode
from pbr.records import Family
from pbr.rules import PHASE_ONE, RuleSet
from tests.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_examples.py"
EXAMPLES = ROOT / "examples" / "families.jsonl"
AS_OF = date(2015, 3, 31)

Record = dict[str, Any]

EXTRA_EVALUATIONS: dict[str, tuple[date, dict[str, str], tuple[str, ...]]] = {
    # code: (as_of, interpretations, families that reach it). Every other code is reached at
    # AS_OF with the default rules; EXCLUSIVE_ROUTE_TAKEN exists only under `exclusive`.
    "EXCLUSIVE_ROUTE_TAKEN": (
        AS_OF,
        {"employment_after_crime": "exclusive"},
        ("EX-002", "EX-045", "EX-050", "EX-051", "EX-052", "EX-059"),
    ),
    # only a date before a family's attachment raises it: EX-004 is attached on 1 April 2014
    "EVALUATED_BEFORE_ATTACHMENT": (date(2012, 6, 30), {}, ("EX-004",)),
    # only a date after phase one's last results claims (May 2015), with results still payable
    "RESULTS_CLAIMS_CLOSED": (date(2015, 6, 1), {}, ("EX-001", "EX-002", "EX-003")),
}

UNSOUND_RECORD_CODES = frozenset(
    {
        "RESULT_PAID_MORE_THAN_ONCE",
        "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE",
        "PAID_OVER_CAP",
        "RESULTS_PAID_BEFORE_ATTACHMENT",
        "LATER_PROGRAMME_LISTS_IGNORED",
    }
)
"""Warnings about a record's own past payments, or its later programmes' lists: sound example
records never raise them (the README says so); tests/test_history.py,
tests/test_input_contract.py and tests/test_paid_before_attachment.py reach them."""

INTERPRETATION_EFFECTS: dict[tuple[str, str], tuple[str, ...]] = {
    # (interpretation, non-default value): families whose decision at AS_OF it changes.
    ("baseline", "twelve_months_before_attachment_halved"): (
        "EX-034",  # zero 6-month ASB baseline becomes 1.5: SINCE_ZERO -> BELOW_60 (still not met)
        "EX-035",  # ASB 2 in 6 months, 8 in 12: not met -> met
        "EX-032",  # ASB 5 -> 2 met; halved 12-month count 2.5: not met
        "EX-013",  # offending 3 -> 2 met; halved 12-month count 1.5: not met
    ),
    ("recent_window", "not_before_attachment"): (
        "EX-008",  # attached on as_of itself: the ASB incident the day before is not recent
    ),
    ("rates_by", "claim_year"): (
        "EX-001",  # 2012/13 family, 2014/15 rate £2,300 cut to the £800 room (CAP_REACHED)
        "EX-003",  # 2013/14 family: £1,500 -> £1,600 (the cap)
        "EX-048",  # employment £1,600 at 2013/14 rates; £2,400 at 2014/15 cut to £1,600
    ),
    ("results_split", "pro_rata"): (
        "EX-003",  # 2013/14 crime/ASB/education £1,500 -> £1,400
        "EX-007",  # 2014/15 progress to work £100 -> £300
        "EX-044",  # progress to work £200, so the employment top-up is £1,400
    ),
    ("relevance", "all_limbs"): (
        "EX-010",  # education limb now applies: the truancy fails crime/ASB/education
        "EX-012",  # ASB limb now applies: ASB since a zero baseline fails
        "EX-015",  # education stated away; under all_limbs the absence fails
    ),
    ("employment_weeks", "all_13"): (
        "EX-043",  # JSA job of 21 weeks: EMPLOYMENT_TOO_SHORT -> met (£2,400)
        "EX-018",  # JSA job of 17 weeks: met, top-up £100
        "EX-047",  # restarted after a one-day gap, 21 weeks: met, top-up £100
    ),
    ("employment_after_crime", "exclusive"): (
        "EX-051",  # crime/ASB/education paid in 2012: no employment top-up
        "EX-002",  # both met now: employment paid (£1,600), crime/ASB/education not
        "EX-052",  # employment paid in 2013: crime/ASB/education EXCLUSIVE_ROUTE_TAKEN
    ),
}

EXPECTED: dict[str, str] = {
    # family: "status amount" for crime/ASB/education | progress to work | continuous employment,
    # at AS_OF with the default rules (what examples/README.md says each family shows).
    "EX-001": "met 700.00 | met 100.00 | not_met 0.00",
    "EX-002": "met 1500.00 | not_met 0.00 | met 100.00",
    "EX-003": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-004": "met 2300.00 | not_met 0.00 | not_met 0.00",
    "EX-005": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-006": "met 2300.00 | not_met 0.00 | not_met 0.00",
    "EX-007": "not_met 0.00 | met 100.00 | not_met 0.00",
    "EX-008": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-009": "not_applicable 0.00 | not_applicable 0.00 | not_applicable 0.00",
    "EX-010": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-011": "met 1500.00 | not_applicable 0.00 | not_applicable 0.00",
    "EX-012": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-013": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-014": "met 1500.00 | met 100.00 | not_met 0.00",
    "EX-015": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-016": "not_applicable 0.00 | not_applicable 0.00 | not_applicable 0.00",
    "EX-017": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-018": "already_paid 0.00 | not_met 0.00 | not_met 0.00",
    "EX-019": "met 2300.00 | not_met 0.00 | not_met 0.00",
    "EX-020": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-021": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-022": "not_met 0.00 | met 100.00 | not_met 0.00",
    "EX-023": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-024": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-025": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-026": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-027": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-028": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-029": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-030": "met 700.00 | not_met 0.00 | not_met 0.00",
    "EX-031": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-032": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-033": "met 2300.00 | not_met 0.00 | not_met 0.00",
    "EX-034": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-035": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-036": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-037": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-038": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-039": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-040": "met 2300.00 | not_met 0.00 | not_met 0.00",
    "EX-041": "met 2300.00 | met 100.00 | not_met 0.00",
    "EX-042": "already_paid 0.00 | already_paid 0.00 | not_met 0.00",
    "EX-043": "not_met 0.00 | not_met 0.00 | not_met 0.00",
    "EX-044": "not_met 0.00 | met 100.00 | met 1500.00",
    "EX-045": "already_paid 0.00 | not_met 0.00 | met 100.00",
    "EX-046": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-047": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-048": "not_met 0.00 | not_met 0.00 | met 1600.00",
    "EX-049": "already_paid 0.00 | not_met 0.00 | not_met 0.00",
    "EX-050": "met 2300.00 | not_met 0.00 | met 100.00",
    "EX-051": "already_paid 0.00 | not_met 0.00 | met 100.00",
    "EX-052": "met 0.00 | met 0.00 | already_paid 0.00",
    "EX-053": "already_paid 0.00 | not_met 0.00 | already_paid 0.00",
    "EX-054": "met 2300.00 | not_met 0.00 | not_met 0.00",
    "EX-055": "met 2300.00 | already_paid 0.00 | not_met 0.00",
    "EX-056": "not_met 0.00 | not_met 0.00 | already_paid 0.00",
    "EX-057": "met 1500.00 | not_met 0.00 | not_met 0.00",
    "EX-058": "met 1500.00 | met 100.00 | not_met 0.00",
    "EX-059": "met 2300.00 | met 100.00 | met 0.00",
    "EX-060": "not_applicable 0.00 | not_applicable 0.00 | not_applicable 0.00",
}


def _load_script() -> ModuleType:
    return load_script(SCRIPT, "make_examples")


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return EXAMPLES.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def families(lines: list[str]) -> dict[str, Family]:
    parsed = [Family.model_validate_json(line) for line in lines]
    return {f.family_id: f for f in parsed}


@pytest.fixture(scope="module")
def decisions(families: dict[str, Family]) -> dict[str, Decision]:
    return {fid: pbr.evaluate(f, as_of=AS_OF) for fid, f in families.items()}


def codes_in(decision: Decision) -> Iterator[str]:
    """Every reason code in a decision: identification, warnings and each result."""
    yield from (r.code for r in decision.identification)
    yield from (r.code for r in decision.warnings)
    for result in decision.results.values():
        yield from result.codes


def outcome(decision: Decision) -> Record:
    """What a council acts on: eligibility, money, and each result's status, amount, date and codes.

    The decision's model_dump minus the interpretation names it echoes (in `interpretations` and
    in reasons' messages and compared numbers), so a difference here is a real effect.
    """
    dump = decision.model_dump(mode="json")
    return {
        "eligible": dump["eligible"],
        "identified_for": dump["identified_for"],
        "payable": dump["payable"],
        "results": {
            kind: (
                result["status"],
                result["amount"],
                result["rate"],
                result["earliest_date"],
                [r["code"] for r in result["reasons"]],
            )
            for kind, result in dump["results"].items()
        },
    }


# --- (1) the file is exactly what the script builds ------------------------------------------


def test_file_is_exactly_what_the_script_builds(script: ModuleType) -> None:
    build: Callable[[], list[Record]] = script.build_families
    render: Callable[[Sequence[Record]], str] = script.render
    assert script.AS_OF == AS_OF
    assert EXAMPLES.read_text(encoding="utf-8") == render(build()), (
        "examples/families.jsonl is stale: run python scripts/make_examples.py"
    )


def test_script_help_prints_help_and_writes_nothing() -> None:
    """``--help`` rewrote examples/families.jsonl instead of printing help."""
    import subprocess
    import sys

    before = EXAMPLES.stat().st_mtime_ns
    shown = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: python scripts/make_examples.py")
    assert "examples/families.jsonl" in shown.stdout
    assert "wrote" not in shown.stdout
    assert EXAMPLES.stat().st_mtime_ns == before


def test_script_is_deterministic(script: ModuleType) -> None:
    build: Callable[[], list[Record]] = script.build_families
    assert build() == build()


# --- (2) at least 50 valid families -----------------------------------------------------------


def test_at_least_fifty_valid_families(lines: list[str], families: dict[str, Family]) -> None:
    assert len(lines) >= 50
    assert len(families) == len(lines), "family ids must be unique"
    for line, (fid, fam) in zip(lines, families.items(), strict=True):
        assert fid.startswith("EX-")
        assert PHASE_ONE.covers(fam.attached_on), fid
        assert all(m.person_id[0] in "AC" for m in fam.members), fid
        compact = json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False)
        assert line == compact, f"{fid}: not one compact JSON object"
    assert all(isinstance(r, Family) for r in pbr.read_records(EXAMPLES))


def test_keys_follow_the_family_record_order(lines: list[str]) -> None:
    order = list(Family.model_fields)
    for line in lines:
        keys = list(json.loads(line))
        assert keys == sorted(keys, key=order.index), keys


def test_examples_are_ordered_and_numbered(families: dict[str, Family]) -> None:
    assert list(families) == [f"EX-{i:03d}" for i in range(1, len(families) + 1)]


# --- (3) every result kind reaches every status -----------------------------------------------


def test_every_result_reaches_every_status(decisions: dict[str, Decision]) -> None:
    reached = {(kind, r.status) for d in decisions.values() for kind, r in d.results.items()}
    statuses: tuple[Status, ...] = get_args(Status)
    assert {status for _, status in reached} == set(statuses)
    for kind in RESULT_KINDS:
        assert (kind, "met") in reached, kind
        assert (kind, "already_paid") in reached, kind
    missing = {(k, s) for k in RESULT_KINDS for s in statuses} - reached
    assert not missing, f"no example family reaches {sorted(missing)}"


def test_each_family_shows_what_the_readme_says(decisions: dict[str, Decision]) -> None:
    assert set(EXPECTED) == set(decisions)
    for fid, decision in decisions.items():
        shown = " | ".join(f"{r.status} {r.amount}" for r in decision.results.values())
        assert shown == EXPECTED[fid], fid


def test_cap_always_holds(families: dict[str, Family], decisions: dict[str, Decision]) -> None:
    for fid, d in decisions.items():
        made = [p for p in families[fid].payments if p.paid_on is None or p.paid_on <= AS_OF]
        fee_paid = sum((p.amount for p in made if p.kind == "attachment_fee"), Decimal(0))
        results_paid = sum((p.amount for p in made if p.kind != "attachment_fee"), Decimal(0))
        assert d.payable == sum((r.amount for r in d.results.values()), Decimal(0)), fid
        assert max(d.attachment_fee, fee_paid) + results_paid + d.payable <= d.cap, fid


# --- (4) every reason code is reached ---------------------------------------------------------

_ALL_CODES = list(get_args(ReasonCode))
LATER_PROGRAMME_CODES = set(_ALL_CODES[_ALL_CODES.index("PROBLEMS_AT_ENTRY") :])


def test_every_reason_code_is_reached(
    families: dict[str, Family], decisions: dict[str, Decision]
) -> None:
    reached = {code for d in decisions.values() for code in codes_in(d)}
    # The README's claim: the defaults at AS_OF reach every phase-one code but the ones listed
    # as extra (phase two and Supporting Families codes: tests/test_mixed_examples.py).
    reached |= LATER_PROGRAMME_CODES | UNSOUND_RECORD_CODES
    assert set(REASON_CODES) - reached == set(EXTRA_EVALUATIONS)
    for code, (as_of, choices, ids) in EXTRA_EVALUATIONS.items():
        rules = PHASE_ONE.with_interpretations(**choices)
        for fid in ids:
            found = set(codes_in(pbr.evaluate(families[fid], as_of=as_of, rules=rules)))
            assert code in found, f"{fid} at {as_of} with {choices} does not reach {code}"
        reached.add(code)
    missing = set(REASON_CODES) - reached
    assert not missing, f"no example family reaches {sorted(missing)}"


# --- (5) every interpretation changes some decision -------------------------------------------


def test_every_interpretation_value_is_demonstrated() -> None:
    wanted = {
        (iid, value)
        for iid, interpretation in PHASE_ONE.interpretations.items()
        if iid != "funded_rounding"  # forecasting only: no family decision depends on it
        for value in interpretation.values
        if value != interpretation.default
    }
    assert set(INTERPRETATION_EFFECTS) == wanted


def test_the_readme_counts_every_family_an_interpretation_changes(
    families: dict[str, Family], decisions: dict[str, Decision]
) -> None:
    """Its table was headed as if it listed every family changed; it gave examples (3 of 42)."""
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)=(\w+)` \| (\d+) \| ([^|]+) \|$", readme, flags=re.MULTILINE)
    assert {(i, v) for i, v, _, _ in rows} == set(INTERPRETATION_EFFECTS)
    for interpretation, value, count, examples in rows:
        rules = PHASE_ONE.with_interpretations(**{interpretation: value})
        changed = {
            fid
            for fid, family in families.items()
            if outcome(pbr.evaluate(family, as_of=AS_OF, rules=rules)) != outcome(decisions[fid])
        }
        assert int(count) == len(changed), (interpretation, value, sorted(changed))
        shown = examples.strip().split(", ")
        assert set(shown) == set(INTERPRETATION_EFFECTS[interpretation, value]) <= changed


@pytest.mark.parametrize(("interpretation", "value"), sorted(INTERPRETATION_EFFECTS))
def test_interpretation_changes_the_named_families(
    interpretation: str,
    value: str,
    families: dict[str, Family],
    decisions: dict[str, Decision],
) -> None:
    rules: RuleSet = PHASE_ONE.with_interpretations(**{interpretation: value})
    ids = INTERPRETATION_EFFECTS[interpretation, value]
    assert ids
    for fid in ids:
        default = decisions[fid]
        other = pbr.evaluate(families[fid], as_of=AS_OF, rules=rules)
        assert other.interpretations[interpretation] == value
        assert other.model_dump() != default.model_dump()
        assert outcome(other) != outcome(default), f"{interpretation}={value} does not change {fid}"
