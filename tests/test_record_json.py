"""A `Family`'s canonical JSON written by msgspec (`pbr.engine.record_json`) is pydantic's.

The input hash in every decision is the SHA-256 of these bytes (with the date): `pbr replay`
and an auditor's re-check recompute it, so a single byte of difference would read as a changed
record. Records of every programme, texts that need escapes, and parts that are not what
validation gives are all checked against pydantic's own ``to_json``.
"""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

from pbr import Family, evaluate
from pbr.engine import record_json
from pbr.records import Payment
from pbr.testing import PROGRAMMES, families

_to_json = Family.__pydantic_serializer__.to_json
_BASE: dict[str, Any] = {
    "family_id": "F1",
    "attached_on": "2013-01-07",
    "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}],
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([None, *PROGRAMMES]).flatmap(lambda p: families(p, max_events=6)))
def test_records_of_every_programme_are_written_as_pydantic_writes_them(family: Family) -> None:
    assert record_json(family) == _to_json(family)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=100))
def test_any_text_is_written_as_pydantic_writes_it(text: str) -> None:
    """Quotes, backslashes, accents, emoji, £ (byte 0xC2): the same bytes, by msgspec or by the
    fallback to pydantic (for an escape, DEL or 0xC2)."""
    try:
        family = Family.model_validate({**_BASE, "local_authority": text})
    except ValueError:  # a control character, or too long: pydantic refuses the record
        return
    assert record_json(family) == _to_json(family)


@pytest.mark.parametrize(
    "text", ['Leeds "City"', "a\\b", "Café", "£", "😀", "Ōsaka", "x" * 100, "a\u2028b"]
)
def test_texts_that_need_care_are_written_alike(text: str) -> None:
    if text == "a\u2028b":  # a record refuses it (a line separator); one made otherwise may not
        family = Family.model_validate(_BASE).model_copy(update={"local_authority": text})
    else:
        family = Family.model_validate({**_BASE, "local_authority": text})
    assert record_json(family) == _to_json(family)


def test_parts_that_validation_would_not_give_are_left_to_pydantic() -> None:
    family = Family.model_validate(
        {**_BASE, "payments": [{"kind": "attachment_fee", "amount": "3200.00"}]}
    )
    float_amount: dict[str, Any] = {"kind": "attachment_fee", "amount": 1000.0}
    whole_amount: dict[str, Any] = {"kind": "attachment_fee", "amount": 1000}
    odd = [
        family.model_copy(update={"local_authority": 1.5}),
        family.model_copy(update={"local_authority": 10**30}),
        family.model_copy(update={"local_authority": Decimal("1E+3")}),
        family.model_copy(update={"local_authority": date(2013, 1, 7)}),
        family.model_copy(update={"payments": (Payment.model_construct(**float_amount),)}),
        family.model_copy(update={"payments": (Payment.model_construct(**whole_amount),)}),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns of the unexpected values it writes
        for changed in odd:
            assert record_json(changed) == _to_json(changed)


def test_a_part_of_another_kind_goes_to_pydantic_which_decides() -> None:
    class Other:
        pass

    family = Family.model_validate(_BASE).model_copy(update={"local_authority": Other()})
    with pytest.raises(PydanticSerializationError, match="Unable to serialize"):
        record_json(family)
    with pytest.raises(PydanticSerializationError, match="Unable to serialize"):
        _to_json(family)


def test_the_input_hash_of_a_validated_family_is_unchanged() -> None:
    """The hash a decision records, computed from pydantic's bytes as before."""
    import hashlib

    family = Family.model_validate({**_BASE, "local_authority": "Leeds"})
    as_of = date(2013, 6, 30)
    expected = hashlib.sha256(_to_json(family) + b"|2013-06-30").hexdigest()
    provenance = evaluate(family, as_of=as_of).provenance
    assert provenance is not None
    assert provenance.input_hash == expected


def test_a_part_missing_its_money_goes_to_pydantic() -> None:
    """A payment built without its amount (`model_construct`): pydantic decides, as before."""
    family = Family.model_validate(_BASE)
    no_amount: dict[str, Any] = {"kind": "attachment_fee"}
    changed = family.model_copy(update={"payments": (Payment.model_construct(**no_amount),)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected: bytes | type[Exception] = _to_json(changed)
        except Exception as exc:  # whatever pydantic does, record_json does
            expected = type(exc)
        if isinstance(expected, bytes):
            assert record_json(changed) == expected
        else:
            with pytest.raises(expected):
                record_json(changed)
