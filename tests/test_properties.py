"""Invariants of the phase-one engine over generated families (strategies from `pbr.testing`)."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from pydantic import ValidationError

import pbr
from pbr.decisions import RESULT_KINDS, Decision
from pbr.rules import PHASE_ONE, RuleSet
from pbr.testing import (
    BREAKAGES,
    as_of_dates_for,
    broken_family_records,
    families,
    family_records,
    interpretation_choices,
)
from tests.builders import RECORD_LISTS

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

ZERO = Decimal(0)


def rules_for(choice: dict[str, str]) -> RuleSet:
    return PHASE_ONE.with_interpretations(**choice)


def run(record: dict[str, Any], as_of: date, rules: RuleSet) -> Decision:
    return pbr.evaluate(pbr.Family.model_validate(record), as_of=as_of, rules=rules)


# a record, and a date drawn for it (where its results are judged), the same record each
_record = st.shared(family_records(), key="record")
scenario = given(_record, _record.flatmap(as_of_dates_for), interpretation_choices())


@scenario
def test_cap_is_never_exceeded(record: dict[str, Any], as_of: date, choice: dict[str, str]) -> None:
    family = pbr.Family.model_validate(record)
    decision = pbr.evaluate(family, as_of=as_of, rules=rules_for(choice))
    counted = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
    fee_paid = sum((p.amount for p in counted if p.kind == "attachment_fee"), ZERO)
    results_paid = sum((p.amount for p in counted if p.kind != "attachment_fee"), ZERO)
    room = max(decision.cap - max(decision.attachment_fee, fee_paid) - results_paid, ZERO)
    assert decision.cap == Decimal(4000)
    assert ZERO <= decision.payable <= room
    if not family.payments:
        assert decision.attachment_fee + decision.payable <= decision.cap


@scenario
def test_payable_is_the_sum_of_the_results(
    record: dict[str, Any], as_of: date, choice: dict[str, str]
) -> None:
    decision = run(record, as_of, rules_for(choice))
    assert decision.payable == sum((r.amount for r in decision.results.values()), ZERO)
    for kind, result in decision.results.items():
        assert ZERO <= result.amount <= result.rate, kind
        assert result.amount == result.amount.quantize(Decimal("0.01")), kind
        if result.amount > 0:
            assert result.status == "met", kind
            # earliest_date is given only when knowable (spec §5); it is never in the future
            assert result.earliest_date is None or result.earliest_date <= as_of
        assert result.reasons, f"{kind} has no reasons"


@scenario
def test_nothing_is_paid_twice(record: dict[str, Any], as_of: date, choice: dict[str, str]) -> None:
    rules = rules_for(choice)
    first = run(record, as_of, rules)
    paid = copy.deepcopy(record)
    for kind, result in first.results.items():
        if result.amount > 0:
            paid["payments"].append(
                {"kind": kind, "amount": str(result.amount), "paid_on": as_of.isoformat()}
            )
    again = run(paid, as_of, rules)
    note(f"first payable {first.payable}, again {again.payable}")
    assert again.payable == ZERO
    for kind, result in first.results.items():
        if result.amount > 0:
            assert again.results[kind].status == "already_paid"
    assert again.paid_to_date == first.paid_to_date + first.payable


@given(
    _record,
    _record.flatmap(as_of_dates_for),
    interpretation_choices(),
    st.sampled_from(["attachment_fee", *RESULT_KINDS]),
    st.integers(0, 400_000),
)
def test_a_prior_payment_never_raises_what_is_payable(
    record: dict[str, Any], as_of: date, choice: dict[str, str], kind: str, pence: int
) -> None:
    rules = rules_for(choice)
    before = run(record, as_of, rules)
    more = copy.deepcopy(record)
    more["payments"].append({"kind": kind, "amount": f"{Decimal(pence).scaleb(-2)}"})
    after = run(more, as_of, rules)
    assert after.payable <= before.payable


@scenario
def test_a_result_listed_as_paid_0_is_not_paid(
    record: dict[str, Any], as_of: date, choice: dict[str, str]
) -> None:
    """Each result is paid once: a £0 payment is none (not `already_paid`, no top-up, no route
    taken, not listed twice), so the decision is the one without it."""
    rules = rules_for(choice)
    zero = copy.deepcopy(record)
    for kind in RESULT_KINDS:
        zero["payments"].append({"kind": kind, "amount": "0.00", "paid_on": as_of.isoformat()})
    same = {"provenance": {"input_hash"}}
    assert run(zero, as_of, rules).model_dump(exclude=same) == run(record, as_of, rules).model_dump(
        exclude=same
    )


@given(
    st.shared(family_records(payments="any"), key="paid"),
    st.shared(family_records(payments="any"), key="paid").flatmap(as_of_dates_for),
    interpretation_choices(),
)
def test_paid_over_cap_counts_the_fee_whether_listed_or_not(
    record: dict[str, Any], as_of: date, choice: dict[str, str]
) -> None:
    family = pbr.Family.model_validate(record)
    d = pbr.evaluate(family, as_of=as_of, rules=rules_for(choice))
    made = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
    fee = max(d.attachment_fee, sum((p.amount for p in made if p.kind == "attachment_fee"), ZERO))
    results = sum((p.amount for p in made if p.kind != "attachment_fee"), ZERO)
    codes = [w.code for w in d.warnings]
    assert ("PAID_OVER_CAP" in codes) is (fee + results > d.cap)
    assert "SECOND_RESULTS_CLAIM_PAID" not in codes  # phase one pays several results
    assert d.payable <= max(d.cap - fee - results, ZERO)


def _fixed(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its problems at entry frozen, so evidence changes cannot move eligibility."""
    fixed = copy.deepcopy(record)
    fixed.setdefault("identified_for", ["crime_asb", "education", "work"])
    return fixed


@scenario
def test_more_outcomes_never_lower_what_is_payable(
    record: dict[str, Any], as_of: date, choice: dict[str, str]
) -> None:
    rules = rules_for(choice)
    base = _fixed(record)
    before = run(base, as_of, rules)
    better = copy.deepcopy(base)
    attached = better["attached_on"]
    better["offences"] = [o for o in better["offences"] if o["date"] < attached]
    better["asb_incidents"] = [a for a in better["asb_incidents"] if a["date"] < attached]
    adult = better["members"][0]["person_id"]
    if as_of.isoformat() >= attached:
        better["work_programme"].append(
            {"person_id": adult, "date": as_of.isoformat(), "provision": "work_programme"}
        )
    after = run(better, as_of, rules)
    assert after.payable >= before.payable


NOT_BEFORE = PHASE_ONE.with_interpretations(recent_window="not_before_attachment")


def _recent_counts(decision: Decision) -> list[tuple[str, int, str]]:
    """The ASB and offending reasons' recent counts and windows (where the limbs applied)."""
    return [
        (r.rule, int(str(r.compared["recent"])), str(r.compared["recent_after"]))
        for r in decision.results["crime_asb_education"].reasons
        if r.rule.endswith((".asb", ".offending"))
    ]


@given(_record, _record.flatmap(as_of_dates_for))
def test_not_before_attachment_counts_nothing_before_attachment_as_recent(
    record: dict[str, Any], as_of: date
) -> None:
    """Under recent_window = not_before_attachment, dropping every earlier incident and offence
    leaves the recent counts as they were, and the window never starts before attached_on."""
    base = _fixed(record)
    attached = base["attached_on"]
    later = copy.deepcopy(base)
    later["offences"] = [o for o in later["offences"] if o["date"] >= attached]
    later["asb_incidents"] = [a for a in later["asb_incidents"] if a["date"] >= attached]
    counts = _recent_counts(run(base, as_of, NOT_BEFORE))
    assert [(rule, n) for rule, n, _ in counts] == [
        (rule, n) for rule, n, _ in _recent_counts(run(later, as_of, NOT_BEFORE))
    ]
    eve = (date.fromisoformat(attached) - timedelta(days=1)).isoformat()
    assert all(after >= eve for _, _, after in counts)


@given(_record, _record.flatmap(as_of_dates_for))
def test_recent_windows_agree_once_results_can_be_met_after_a_mid_month_attachment(
    record: dict[str, Any], as_of: date
) -> None:
    """Attached on day 1-28, from attachment + 6 months the two recent windows are one."""
    attached = date.fromisoformat(record["attached_on"])
    if attached.day > 28 or as_of < pbr.periods.add_months(attached, 6):
        return
    default, alternative = run(record, as_of, PHASE_ONE), run(record, as_of, NOT_BEFORE)
    assert _recent_counts(default) == _recent_counts(alternative)
    for kind in default.results:
        assert default.results[kind].status == alternative.results[kind].status
        assert default.results[kind].amount == alternative.results[kind].amount
    assert default.payable == alternative.payable


@given(
    _record,
    _record.flatmap(as_of_dates_for),
    interpretation_choices(),
    st.randoms(use_true_random=False),
)
def test_event_order_does_not_matter(
    record: dict[str, Any], as_of: date, choice: dict[str, str], rnd: Any
) -> None:
    rules = rules_for(choice)
    shuffled = copy.deepcopy(record)
    for field in RECORD_LISTS:
        rnd.shuffle(shuffled.get(field, []))
    # the decision is the same; only the input hash, of the record as given, may differ
    same = {"provenance": {"input_hash"}}
    left = run(shuffled, as_of, rules).model_dump(exclude=same)
    assert left == run(record, as_of, rules).model_dump(exclude=same)


@given(families())
def test_family_json_round_trip_is_lossless(family: pbr.Family) -> None:
    assert pbr.Family.model_validate_json(family.model_dump_json()) == family
    assert pbr.Family.model_validate(json.loads(family.model_dump_json())) == family


@scenario
def test_decision_json_round_trip_is_lossless(
    record: dict[str, Any], as_of: date, choice: dict[str, str]
) -> None:
    decision = run(record, as_of, rules_for(choice))
    text = decision.model_dump_json()
    assert Decision.model_validate_json(text) == decision
    dumped = decision.model_dump(mode="json")
    assert isinstance(dumped["payable"], str)
    assert Decimal(dumped["payable"]) == decision.payable


@pytest.mark.parametrize("kind", BREAKAGES)
@given(data=st.data())
def test_every_breakage_is_rejected_naming_the_family(kind: str, data: st.DataObject) -> None:
    _, record = data.draw(broken_family_records(kind))
    with pytest.raises(ValidationError) as info:
        pbr.Family.model_validate(record)
    family_id = record["family_id"]
    for error in info.value.errors():
        assert error["msg"].startswith(f"family {family_id!r}: "), error


def test_unknown_breakage_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown breakage 'nope'"):
        broken_family_records("nope")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=12)
    | st.dates().map(date.isoformat),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON-like structure."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


@given(family_records(), st.data())
def test_any_mangled_record_is_valid_or_a_validation_error(
    record: dict[str, Any], data: st.DataObject
) -> None:
    mangled = copy.deepcopy(record)
    for _ in range(data.draw(st.integers(1, 3))):
        *parent_path, last = data.draw(st.sampled_from(_paths(mangled)))
        parent = mangled
        for step in parent_path:
            parent = parent[step]
        parent[last] = data.draw(json_values)
    messages: list[str] = []
    try:
        family = pbr.Family.model_validate(mangled)
    except ValidationError as error:
        messages = [e["msg"] for e in error.errors()]
    else:
        with contextlib.suppress(pbr.OutsideProgramme):
            pbr.evaluate(family, as_of=date(2016, 3, 31))
    assert all(m.startswith("family ") for m in messages), messages
    try:
        text = json.dumps(mangled, allow_nan=False)
    except ValueError:
        return
    with contextlib.suppress(ValidationError):
        pbr.Family.model_validate_json(text)
