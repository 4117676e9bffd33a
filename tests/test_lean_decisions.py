"""A batch writing JSON builds decisions as plain Structs (`pbr._lean`); the bytes must not change.

Held to `model_dump_json` of the decision the public API builds, on the frozen corpus at three
dates, on generated families of every programme under drawn interpretations, and through the
batch itself; and the switch must never leak a Struct to anyone else.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

import pbr
from pbr import _lean, batch, decisions, testing
from pbr.batch import Evaluated, Render, evaluate_many_json
from pbr.decisions import (
    Decision,
    Identification,
    Provenance,
    Reason,
    ResultDecision,
    as_model,
    decision_json,
    lean_parts,
    trusted,
    trusted_reason,
    trusted_result,
)
from pbr.output import decision_text

LINES = (Path(__file__).resolve().parent / "reference" / "families.jsonl").read_bytes().splitlines()
FAMILIES = [pbr.Family.model_validate_json(line) for line in LINES]
PROGRAMMES = ("tf-phase-1", "tf-phase-2", "supporting-families")
MODELS = (Reason, ResultDecision, Identification, Provenance, Decision)


def _lean_decision(family: pbr.Family, as_of: date, **kw: Any) -> Any:
    """The decision as the batch builds it (typed `Any`: it only poses as a `Decision`)."""
    with lean_parts():
        decision: Any = pbr.evaluate(family, as_of=as_of, **kw)
    assert type(decision) is _lean.Decision
    return decision


def assert_same_model(got: Any, model: Decision) -> None:
    """The model the public API builds: equal, the same type and fields set at every level."""
    assert type(got) is Decision
    assert got == model
    assert got.model_fields_set == model.model_fields_set
    assert repr(got) == repr(model)
    pairs = [(got.identification, model.identification), (got.warnings, model.warnings)]
    for kind, result in got.results.items():
        assert type(result) is ResultDecision
        assert result.model_fields_set == model.results[kind].model_fields_set
        pairs.append((result.reasons, model.results[kind].reasons))
    for reasons, expected in pairs:
        for reason, same in zip(reasons, expected, strict=True):
            assert type(reason) is Reason
            assert list(reason.__dict__.items()) == list(same.__dict__.items())
            assert reason.model_fields_set == same.model_fields_set
    assert got.model_dump_json() == model.model_dump_json()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_lean_part_mirrors_its_model_field_for_field(model: type[pbr.Decision]) -> None:
    lean = _lean.PARTS[model.__name__]
    assert tuple(f.name for f in msgspec.structs.fields(lean)) == tuple(model.model_fields)
    assert set(_lean.PARTS) == {m.__name__ for m in MODELS}


@pytest.mark.parametrize("as_of", [date(2013, 6, 30), date(2016, 3, 31), date(2024, 3, 31)])
def test_the_reference_corpus_is_written_byte_for_byte(as_of: date) -> None:
    written = 0
    for family in FAMILIES:
        try:
            model = pbr.evaluate(family, as_of=as_of)
        except (pbr.OutsideProgramme, ValueError):
            continue
        lean = _lean_decision(family, as_of)
        assert decision_json(lean) == model.model_dump_json().encode()
        assert_same_model(as_model(lean), model)
        assert_same_model(as_model(_lean.unpack(_lean.pack(lean))), model)  # a worker's way
        written += 1
    assert written > 100


@settings(max_examples=80, deadline=None)
@given(data=st.data(), programme=st.sampled_from(PROGRAMMES), as_of=testing.as_of_dates())
def test_generated_families_are_written_byte_for_byte(
    data: st.DataObject, programme: str, as_of: date
) -> None:
    family = data.draw(testing.families(programme))
    rules = pbr.rule_set_for(family)
    rules = rules.with_interpretations(**data.draw(testing.interpretation_choices(rules)))
    try:
        model = pbr.evaluate(family, as_of=as_of, rules=rules)
    except (pbr.OutsideProgramme, ValueError):
        event("not evaluated")
        return
    event(f"{programme}, {'eligible' if model.eligible else 'not eligible'}")
    lean = _lean_decision(family, as_of, rules=rules)
    assert decision_json(lean) == model.model_dump_json().encode()
    assert_same_model(as_model(lean), model)
    assert_same_model(as_model(_lean.unpack(_lean.pack(lean))), model)
    # the Python way of building them too, where as_model builds them in C
    assert_same_model(decisions._tree_here(decisions._specs()[_lean.Decision], lean), model)


def test_the_batch_writes_what_the_public_api_would() -> None:
    as_of = date(2016, 3, 31)
    expected: list[str | None] = []
    for family in FAMILIES:
        try:
            expected.append(pbr.evaluate(family, as_of=as_of).model_dump_json())
        except (pbr.OutsideProgramme, ValueError):
            expected.append(None)
    done = list(evaluate_many_json(LINES, as_of=as_of, workers=1))
    assert len(done) == len(expected)
    for got, want in zip(done, expected, strict=True):
        if want is None:
            assert isinstance(got, pbr.Rejection)
        else:
            assert isinstance(got, Evaluated)
            assert got[3] == want


@pytest.mark.parametrize("render", ["csv", "csv-file", "table"])
def test_the_batch_writes_rows_and_cells_as_the_public_api_would(render: Render) -> None:
    as_of = date(2013, 6, 30)
    expected: list[str | None] = []
    for family in FAMILIES:
        try:
            expected.append(decision_text(pbr.evaluate(family, as_of=as_of), render))
        except (pbr.OutsideProgramme, ValueError):
            expected.append(None)
    done = list(evaluate_many_json(LINES, as_of=as_of, workers=1, render=render))
    assert [x[3] if isinstance(x, Evaluated) else None for x in done] == expected
    assert sum(x is not None for x in expected) > 100


def test_nothing_outside_the_switch_gets_a_struct() -> None:
    family, as_of = FAMILIES[0], date(2016, 3, 31)
    seen: list[object] = []

    def elsewhere() -> None:
        seen.append(type(pbr.evaluate(family, as_of=as_of)))

    with lean_parts():
        inside: object = type(pbr.evaluate(family, as_of=as_of))
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
    assert (inside, seen) == (_lean.Decision, [Decision])
    assert type(pbr.evaluate(family, as_of=as_of)) is Decision
    with pytest.raises(RuntimeError), lean_parts():
        raise RuntimeError
    assert type(pbr.evaluate(family, as_of=as_of)) is Decision  # reset after an error too
    assert type(pbr.identify(family)) is Identification


def test_every_constructor_switches() -> None:
    with lean_parts():
        built = [
            trusted_reason("CAP_REACHED", "payment.cap", "S1", "m", {}),
            trusted(Reason, code="CAP_REACHED", rule="r", source="s", message="m"),
            trusted(
                Identification,
                family_id="F",
                attached_on=date(2013, 1, 1),
                eligible=False,
                identified_for=(),
                evidence=(),
                local_discretion=False,
                reasons=(),
            ),
        ]
    kinds: list[object] = [type(b) for b in built]
    assert kinds == [_lean.Reason, _lean.Reason, _lean.Identification]
    assert as_model(built[1]) == Reason(code="CAP_REACHED", rule="r", source="s", message="m")
    assert as_model(built[2]).warnings == ()


def test_money_is_put_to_pence_as_in_a_model() -> None:
    """The engine's amounts are pounds and pence already; a constructor makes sure, either way."""
    given = ("met", Decimal(700), Decimal("0.5"), None, ())
    with lean_parts():
        lean = trusted_result(*given)  # type: ignore[arg-type]
    model = trusted_result(*given)  # type: ignore[arg-type]
    assert (str(lean.amount), str(lean.rate)) == ("700.00", "0.50")
    assert as_model(lean) == model


def test_a_lone_surrogate_fails_as_pydantic_fails() -> None:
    lean = _lean_decision(FAMILIES[0], date(2016, 3, 31))
    with lean_parts():
        reason = trusted_reason("CAP_REACHED", "payment.cap", "S1", "x\ud800", {})
    spoiled = msgspec.structs.replace(lean, warnings=(reason,))
    with pytest.raises(PydanticSerializationError, match="surrogates not allowed"):
        decision_json(spoiled)


def test_a_pool_of_evaluate_many_gives_the_models_one_process_gives() -> None:
    """Workers send MessagePack; the parent's models are the serial ones, fields set and all."""
    as_of = date(2016, 3, 31)
    serial = list(pbr.evaluate_many(LINES, as_of=as_of, workers=1))
    pooled = list(pbr.evaluate_many(LINES, as_of=as_of, workers=2, chunk_size=50))
    assert len(pooled) == len(serial)
    for got, want in zip(pooled, serial, strict=True):
        if isinstance(want, Decision):
            assert_same_model(got, want)
        else:
            assert got == want


def test_a_decision_messagepack_cannot_hold_is_sent_as_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(decision: object) -> bytes:
        raise OverflowError("integer out of range")

    monkeypatch.setattr(_lean, "pack", refuse)
    job = batch._Job(date(2016, 3, 31), None, {}, {}, "x")
    done = job.many_packed([(1, LINES[0]), (2, b'{"family_id": 7}')])
    assert [type(x) for x in done] == [Decision, pbr.Rejection]
    assert_same_model(done[0], pbr.evaluate(FAMILIES[0], as_of=date(2016, 3, 31)))


def test_messagepack_refuses_what_it_cannot_hold_rather_than_change_it() -> None:
    with lean_parts():
        reason = trusted_reason("CAP_REACHED", "payment.cap", "S1", "m", {"n": 2**70})
    lean = msgspec.structs.replace(
        _lean_decision(FAMILIES[0], date(2016, 3, 31)), warnings=(reason,)
    )
    with pytest.raises(OverflowError):
        _lean.pack(lean)
