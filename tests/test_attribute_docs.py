"""Field descriptions come from the docstrings under the fields, as pydantic itself would read them.

pbr reads them when a schema is asked for (`pbr._attribute_docs`), not while each model class is
built (``use_attribute_docstrings``, about 6% of start-up); the schemas must not change.
"""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from pydantic import BaseModel, ConfigDict, Field

import pbr.decisions
import pbr.records
from pbr._attribute_docs import describe_fields, field_docs
from pbr._strict import IsoDate

MODELS = [
    cls
    for module in (pbr.records, pbr.decisions)
    for cls in vars(module).values()
    if inspect.isclass(cls)
    and issubclass(cls, BaseModel)
    and cls.__module__ == module.__name__
    and cls.model_fields
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_docstrings_read_are_pydantics(model: type[BaseModel]) -> None:
    """The oracle is pydantic's own reader (an internal: skipped if a release moves it)."""
    extraction = pytest.importorskip("pydantic._internal._docs_extraction")
    theirs = extraction.extract_docstrings_from_cls(model, use_inspect=True)
    expected = {name: doc for name, doc in theirs.items() if name in model.model_fields}
    assert field_docs(model) == expected
    assert expected  # every record and decision model documents its fields


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_every_documented_field_is_described_in_the_schema(
    model: type[BaseModel], mode: str
) -> None:
    schema = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
    described = {
        name: part["description"]
        for name, part in schema["properties"].items()
        if "description" in part
    }
    for name, doc in field_docs(model).items():
        assert described[name] == doc


_ALONG = ConfigDict(frozen=True, use_attribute_docstrings=True)
_ASKED = ConfigDict(frozen=True, json_schema_extra=describe_fields)


class _PartAlong(BaseModel):
    model_config = _ALONG
    day: IsoDate
    """A day (over IsoDate's own description)."""


class _PartAsked(BaseModel):
    model_config = _ASKED
    day: IsoDate
    """A day (over IsoDate's own description)."""


class _BaseAlong(BaseModel):
    model_config = _ALONG
    inherited: int = 0
    """Declared on the base."""


class _BaseAsked(BaseModel):
    model_config = _ASKED
    inherited: int = 0
    """Declared on the base."""


class _Along(_BaseAlong):
    plain: str
    """Text,

        cleaned of its indentation."""
    optional: date | None = None
    """A day or nothing."""
    part: _PartAlong
    """One part (a reference)."""
    parts: tuple[_PartAlong, ...] = ()
    """Many parts."""
    told: int = Field(0, description="Field's description wins.")
    """Not this."""
    undocumented: int = 0
    after_a_gap: int = 0

    """A string after a blank line still follows the field."""


class _Asked(_BaseAsked):
    plain: str
    """Text,

        cleaned of its indentation."""
    optional: date | None = None
    """A day or nothing."""
    part: _PartAsked
    """One part (a reference)."""
    parts: tuple[_PartAsked, ...] = ()
    """Many parts."""
    told: int = Field(0, description="Field's description wins.")
    """Not this."""
    undocumented: int = 0
    after_a_gap: int = 0

    """A string after a blank line still follows the field."""


@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_a_schema_is_the_one_pydantic_would_write(mode: str) -> None:
    along = _Along.model_json_schema(mode=mode)  # type: ignore[arg-type]
    asked = _Asked.model_json_schema(mode=mode)  # type: ignore[arg-type]
    renamed = repr(asked).replace("Asked", "Along")
    assert renamed == repr(along)
    assert along["properties"]["plain"]["description"] == "Text,\n\ncleaned of its indentation."
    assert along["$defs"]["_PartAlong"]["properties"]["day"]["description"].startswith("A day")


def test_nothing_is_read_while_classes_are_built() -> None:
    """The point: pydantic's reader is off, so building a model reads no source."""
    for model in MODELS:
        assert not model.model_config.get("use_attribute_docstrings")
        assert model.model_config.get("json_schema_extra") is describe_fields
