"""`decision_json` writes exactly `model_dump_json`'s bytes, faster (issue 14).

The batch writes every decision through it, so any difference would change `pbr evaluate`'s output:
checked on the frozen corpus (every programme), on generated families at edge dates under every
interpretation, and on any text a record or a reason can carry.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

import pbr
from pbr import testing
from pbr.decisions import Decision, decision_json, trusted_reason

LINES = (Path(__file__).resolve().parent / "reference" / "families.jsonl").read_bytes().splitlines()
FAMILIES = [pbr.Family.model_validate_json(line) for line in LINES]
PROGRAMMES = ("tf-phase-1", "tf-phase-2", "supporting-families")


def _pydantic(decision: Decision) -> bytes:
    return decision.model_dump_json().encode()


@pytest.mark.parametrize("as_of", [date(2013, 6, 30), date(2016, 3, 31), date(2024, 3, 31)])
def test_the_reference_corpus_is_written_byte_for_byte(as_of: date) -> None:
    written = 0
    for family in FAMILIES:
        try:
            decision = pbr.evaluate(family, as_of=as_of)
        except (pbr.OutsideProgramme, ValueError):
            continue
        assert decision_json(decision) == _pydantic(decision)
        written += 1
    assert written > 100


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    programme=st.sampled_from(PROGRAMMES),
    as_of=testing.as_of_dates(),
)
def test_generated_families_are_written_byte_for_byte(
    data: st.DataObject, programme: str, as_of: date
) -> None:
    family = data.draw(testing.families(programme))
    rules = pbr.rule_set_for(family)
    chosen = data.draw(testing.interpretation_choices(rules))
    try:
        decision = pbr.evaluate(family, as_of=as_of, rules=rules.with_interpretations(**chosen))
    except (pbr.OutsideProgramme, ValueError):
        event("not evaluated")
        return
    event(f"{programme}, {'eligible' if decision.eligible else 'not eligible'}")
    assert decision_json(decision) == _pydantic(decision)


_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=100)
_VALUE = st.none() | st.booleans() | st.integers() | _TEXT


@settings(max_examples=200, deadline=None)
@given(
    council=_TEXT,
    message=st.text(st.characters(codec="utf-8")),
    compared=st.dictionaries(_TEXT, _VALUE, max_size=5),
)
def test_any_text_or_number_is_written_as_pydantic_writes_it(
    council: str, message: str, compared: dict[str, str | int | bool | None]
) -> None:
    family = pbr.Family.model_validate(
        {
            "family_id": "F1",
            "attached_on": "2012-10-15",
            "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        }
    )
    decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    reason = trusted_reason("CAP_REACHED", "payment.cap", "S1", message, compared)
    # any text at all: a record refuses control characters, a decision built in Python may not
    decision = decision.model_copy(update={"warnings": (reason,), "local_authority": council})
    assert decision_json(decision) == _pydantic(decision)


def test_a_lone_surrogate_fails_as_pydantic_fails() -> None:
    # validation refuses one in a record; a part built in Python might still carry one
    decision = pbr.evaluate(FAMILIES[0], as_of=date(2016, 3, 31))
    reason = trusted_reason("CAP_REACHED", "payment.cap", "S1", "x\ud800", {})
    decision = decision.model_copy(update={"warnings": (reason,)})
    with pytest.raises(PydanticSerializationError, match="surrogates not allowed"):
        _pydantic(decision)
    with pytest.raises(PydanticSerializationError, match="surrogates not allowed"):
        decision_json(decision)


def test_only_decision_parts_are_written_as_their_fields() -> None:
    decision = pbr.evaluate(FAMILIES[0], as_of=date(2016, 3, 31))
    strange = decision.model_copy(update={"warnings": (object(),)})
    with pytest.raises(TypeError, match="a decision holds no object"):
        decision_json(strange)


def test_decisions_and_their_parts_hash_as_frozen_models_should() -> None:
    # frozen, so Hashable; pydantic's hash took every field and a dict field raised TypeError
    family = next(f for f in FAMILIES if f.payments)
    one, two = (pbr.evaluate(family, as_of=date(2016, 3, 31)) for _ in range(2))
    assert one is not two
    assert one == two
    assert len({one, two}) == 1
    parts = [*one.results.values(), *one.identification, *one.warnings, one.provenance]
    again = [*two.results.values(), *two.identification, *two.warnings, two.provenance]
    for a, b in zip(parts, again, strict=True):
        assert hash(a) == hash(b)
    later = pbr.evaluate(family, as_of=date(2016, 4, 1))
    assert len({one, later}) == 2  # as_of differs
