"""Properties of the input contract: no line lost, and the schema and the model agree exactly."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from typing import Any

import hypothesis_jsonschema
import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pbr
from pbr.batch import evaluate_many
from pbr.io import FieldError, numbered_from_text, parse_family
from pbr.schemas import family_schema
from pbr.testing import BREAKAGES, broken_family_records, broken_lines, family_records

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

AS_OF = date(2015, 3, 31)


def decisions_of(data: bytes) -> tuple[list[str], int]:
    """Decisions (as JSON) and the number of rejections for a file's bytes."""
    items = (item for _, _, item in numbered_from_text(data))
    decided: list[str] = []
    rejected = 0
    for done in evaluate_many(items, as_of=AS_OF):
        if isinstance(done, pbr.Decision):
            decided.append(done.model_dump_json())
        else:
            rejected += 1
    return decided, rejected


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(
    goods=st.lists(family_records(), max_size=5, unique_by=lambda r: r["family_id"]),
    bads=st.lists(broken_lines(), max_size=4),
    data=st.data(),
)
def test_every_line_is_a_decision_or_a_rejection(
    goods: list[dict[str, Any]], bads: list[bytes], data: st.DataObject
) -> None:
    lines = [json.dumps(g).encode() for g in goods]
    spliced = list(lines)
    for bad in bads:
        spliced.insert(data.draw(st.integers(0, len(spliced))), bad)
    # a file whose first line opens a JSON array is read as an array (its records, not its
    # lines, are counted; tests/test_input_contract.py covers broken and cut-short arrays)
    assume(not (spliced and spliced[0].lstrip().startswith(b"[")))
    decided, rejected = decisions_of(b"\n".join(spliced) + b"\n")
    # a byte-order mark that begins the file marks its encoding: it is not a record
    marker = bool(spliced) and spliced[0].startswith(b"\xef\xbb\xbf") and not spliced[0][3:].strip()
    assert len(decided) + rejected == len(spliced) - marker
    alone, none = decisions_of(b"\n".join(lines) + b"\n")
    assert (decided, none) == (alone, 0)


# The JSON Schema and the model must accept exactly the same records, field by field. What the
# schema cannot say (an event's person is a member, an end is after its start, ...) is checked
# by the model alone and reported with these documented types.
CROSS_FIELD = frozenset(
    {
        "absences_exceed_sessions",
        "bad_academic_year",
        "born_after_event",
        "duplicate_person_id",
        "duplicate_problem",
        "duplicate_term",
        "end_before_start",
        "identified_after_attachment",
        "identified_for_not_in_programme",
        "payment_not_in_programme",
        "problem_not_in_programme",
        "unknown_person",
    }
)


def ecma(schema: Any) -> Any:
    """The schema with ECMA-262 pattern semantics in Python: ``$`` is the end of the text only.

    (Python's ``$`` also matches before a final newline; JSON Schema's, like pydantic's, does
    not.)
    """
    if isinstance(schema, dict):
        return {
            k: (v[:-1] + r"\Z" if k == "pattern" and v.endswith("$") else ecma(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [ecma(v) for v in schema]
    return schema


SCHEMA = ecma({k: v for k, v in family_schema().items() if k != "$schema"})


def validator() -> Any:
    base = jsonschema.Draft202012Validator
    # pbr's reading of "integer": a whole JSON number written as one (120, never 120.0)
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    strict = jsonschema.validators.extend(base, type_checker=checker)
    return strict(SCHEMA, format_checker=jsonschema.FormatChecker())


VALIDATOR = validator()


def schema_accepts(instance: Any) -> bool:
    return bool(VALIDATOR.is_valid(instance))


def model_accepts(instance: Any) -> bool:
    """Whether the model accepts every field (cross-field checks aside)."""
    parsed = parse_family(json.dumps(instance))
    if isinstance(parsed, pbr.Family):
        return True
    return all(e.type in CROSS_FIELD and not said_by_the_schema(e) for e in parsed.errors)


def said_by_the_schema(error: FieldError) -> bool:
    """A cross-field error type the schema says in one place: a problem given twice in
    identified_for, a list of plain values (``uniqueItems``); problems_at_entry's are objects."""
    return error.type == "duplicate_problem" and str(error.loc).startswith("identified_for")


def from_schema() -> st.SearchStrategy[Any]:
    small = copy.deepcopy(SCHEMA)
    # keep generated records small: a few items per list is enough to meet every field
    for definition in [small, *small["$defs"].values()]:
        for prop in definition.get("properties", {}).values():
            if prop.get("type") == "array":
                prop["maxItems"] = min(prop.get("maxItems", 3), 3)
    strategy: st.SearchStrategy[Any] = hypothesis_jsonschema.from_schema(small)
    return strategy


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(instance=from_schema())
def test_what_the_schema_generates_the_model_accepts(instance: Any) -> None:
    assert schema_accepts(instance)
    assert model_accepts(instance), parse_family(json.dumps(instance))


NEAR_MISSES: list[Any] = [
    1370822400,
    "2013-05-10T00:00:00Z",
    "2013-5-10",
    "20130510",
    "9999-12-31",
    "1899-12-31",
    "2013-02-30",
    "24e2",
    " 100",
    "100 ",
    "0100",
    "1.001",
    "-1",
    "+1",
    "1,000",
    "NaN",
    "yes",
    "true",
    "1",
    "120",
    120.0,
    12.5,
    -1,
    10**26,
    100_001,
    True,
    1,
    0,
    None,
    "",
    "x" * 65,
    "A1\n",
    "has space",
    "offences",  # an observation's indicator: a built-in one is refused by both
    [],
    {},
]


def scalar_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in scalar_paths(v, (*path, k))]
    if isinstance(node, list):
        found = [p for i, v in enumerate(node) for p in scalar_paths(v, (*path, i))]
        return found or [path]
    return [path]


def replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(node)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(record=family_records(), data=st.data())
def test_schema_and_model_agree_on_near_misses(record: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(scalar_paths(record)))
    value = data.draw(st.sampled_from(NEAR_MISSES) | st.text(max_size=12) | st.integers())
    mutant = replaced(record, path, value)
    assert schema_accepts(mutant) == model_accepts(mutant), (path, value)


@given(pair=broken_family_records())
def test_every_breakage_is_refused_by_the_model(pair: tuple[str, dict[str, Any]]) -> None:
    kind, record = pair
    assert kind in BREAKAGES
    assert isinstance(parse_family(json.dumps(record)), pbr.Rejection)


@pytest.mark.parametrize(
    "kind",
    [k for k in BREAKAGES if k not in CROSS_FIELD and k not in {"fractional_float_observation"}],
)
def test_every_field_breakage_is_refused_by_the_schema(kind: str) -> None:
    @settings(max_examples=5)
    @given(pair=broken_family_records(kind))
    def check(pair: tuple[str, dict[str, Any]]) -> None:
        assert not schema_accepts(pair[1])

    check()


def test_a_problem_given_twice_in_identified_for_is_refused_by_the_schema_and_the_model() -> None:
    record = {
        "family_id": "D1",
        "attached_on": "2013-05-01",
        "members": [{"person_id": "A1", "date_of_birth": "1984-03-12"}],
    }
    for once in ([], ["work"], ["work", "education"]):
        assert schema_accepts({**record, "identified_for": once})
        assert isinstance(parse_family(json.dumps({**record, "identified_for": once})), pbr.Family)
    twice = {**record, "identified_for": ["work", "education", "work"]}
    assert not schema_accepts(twice)
    rejected = parse_family(json.dumps(twice))
    assert isinstance(rejected, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejected.errors] == [("identified_for.2", "duplicate_problem")]
    assert not model_accepts(twice)


def test_the_schema_names_its_dialect_id_and_version() -> None:
    schema = family_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:pbr:schema:family-record:1.4"
    assert schema["x-format-version"] == "1.4"
    assert re.fullmatch(r"\d+\.\d+", schema["x-format-version"])
