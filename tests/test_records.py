"""The family record contract: every rejection family-record.md lists, with family, path, value."""

from __future__ import annotations

import copy
import copyreg
import io
import json
import multiprocessing
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import ErrorDetails

import pbr
from pbr.plans import BUILT_IN_INDICATORS

from .builders import RECORD_LISTS, record, term_rows


def errors_of(obj: dict[str, Any]) -> list[ErrorDetails]:
    with pytest.raises(ValidationError) as caught:
        pbr.Family.model_validate(obj)
    from_json = pytest.raises(ValidationError)
    with from_json as caught_json:
        pbr.Family.model_validate_json(json.dumps(obj))
    assert [e["loc"] for e in caught.value.errors()] == [
        e["loc"] for e in caught_json.value.errors()
    ]
    return list(caught.value.errors())


def only(obj: dict[str, Any]) -> ErrorDetails:
    errs = errors_of(obj)
    assert len(errs) == 1, errs
    return errs[0]


def test_the_example_from_the_format_is_valid() -> None:
    obj = {
        "family_id": "LA123-000042",
        "local_authority": "E10000017",
        "programme": "tf-phase-1",
        "attached_on": "2012-10-15",
        "identified_for": ["crime_asb", "education", "work"],
        "local_discretion": ["domestic_abuse"],
        "members": [
            {"person_id": "A1", "date_of_birth": "1979-04-02"},
            {"person_id": "C1", "date_of_birth": "2000-09-13"},
        ],
        "offences": [{"person_id": "C1", "date": "2012-05-02"}],
        "asb_incidents": [{"person_id": "C1", "date": "2012-06-20", "kind": "asb_injunction"}],
        "school_terms": term_rows("C1", [("2012/13", "autumn")], possible=140, unauthorised=12),
        "benefit_spells": [
            {"person_id": "A1", "benefit": "JSA", "start": "2010-01-04", "end": "2013-01-06"}
        ],
        "employment_spells": [{"person_id": "A1", "start": "2013-01-07", "end": None}],
        "work_programme": [
            {"person_id": "A1", "date": "2013-02-01", "provision": "work_programme"}
        ],
        "payments": [
            {
                "kind": "attachment_fee",
                "amount": "3200.00",
                "paid_on": "2012-11-01",
                "claim_id": "C-2012-11-001",
            }
        ],
    }
    family = pbr.Family.model_validate(obj)
    assert (
        family.payments[0].amount
        == pbr.Family.model_validate_json(json.dumps(obj)).payments[0].amount
    )
    assert pbr.Family.model_validate_json(family.model_dump_json()) == family


@pytest.mark.parametrize(
    ("change", "loc", "error_type"),
    [
        (
            {"offences": [{"person_id": "Z9", "date": "2012-01-01"}]},
            ("offences", 0, "person_id"),
            "unknown_person",
        ),
        (
            {
                "employment_spells": [
                    {"person_id": "A1", "start": "2013-01-02", "end": "2013-01-01"}
                ]
            },
            ("employment_spells", 0, "end"),
            "end_before_start",
        ),
        (
            {
                "benefit_spells": [
                    {
                        "person_id": "A1",
                        "benefit": "ESA",
                        "start": "2013-01-02",
                        "end": "2012-12-31",
                    }
                ]
            },
            ("benefit_spells", 0, "end"),
            "end_before_start",
        ),
        (
            {"asb_incidents": [{"person_id": "A1", "date": "1979-12-31"}]},
            ("asb_incidents", 0, "date"),
            "born_after_event",
        ),
        (
            {
                "school_terms": term_rows(
                    "A1", [("2012/13", "autumn")], possible=10, unauthorised=11
                )
            },
            ("school_terms", 0, "unauthorised_absences"),
            "absences_exceed_sessions",
        ),
        (
            {"school_terms": term_rows("A1", [("2012/13", "autumn")], possible=-1)},
            ("school_terms", 0, "possible_sessions"),
            "greater_than_equal",
        ),
        (
            {"payments": [{"kind": "attachment_fee", "amount": "-1.00"}]},
            ("payments", 0, "amount"),
            "money_negative",
        ),
        (
            {"payments": [{"kind": "attachment_fee", "amount": 3200.5}]},
            ("payments", 0, "amount"),
            "money_type",
        ),
        (
            {
                "members": [
                    {"person_id": "A1", "date_of_birth": "1980-01-01"},
                    {"person_id": "A1", "date_of_birth": "1981-01-01"},
                ]
            },
            ("members", 1, "person_id"),
            "duplicate_person_id",
        ),
        (
            {"school_terms": term_rows("A1", [("2012/13", "autumn"), ("2012/13", "autumn")])},
            ("school_terms", 1, "term"),
            "duplicate_term",
        ),
        (
            {"school_terms": term_rows("A1", [("2012/14", "autumn")])},
            ("school_terms", 0, "academic_year"),
            "bad_academic_year",
        ),
        ({"local_authority": "Leeds\n"}, ("local_authority",), "control_character"),
        ({"local_authority": "Lee\x9bds"}, ("local_authority",), "control_character"),
        (
            {"payments": [{"kind": "attachment_fee", "amount": "1.00", "claim_id": "C\x00"}]},
            ("payments", 0, "claim_id"),
            "control_character",
        ),
        (
            {"payments": [{"kind": "attachment_fee", "amount": "-0.00"}]},
            ("payments", 0, "amount"),
            "money_negative",
        ),
        (
            {"school_terms": term_rows("A1", [("0000/01", "autumn")])},
            ("school_terms", 0, "academic_year"),
            "bad_academic_year",
        ),
        (
            {"school_terms": term_rows("A1", [("2099/00", "autumn")])},
            ("school_terms", 0, "academic_year"),
            "bad_academic_year",
        ),
        ({"nickname": "x"}, ("nickname",), "extra_forbidden"),
        ({"members": []}, ("members",), "too_short"),
        ({"attached_on": "2012-13-01"}, ("attached_on",), "date_parsing"),
        ({"family_id": "has space"}, ("family_id",), "string_pattern_mismatch"),
        ({"programme": "tf-phase-9"}, ("programme",), "literal_error"),
    ],
)
def test_each_rejection_names_family_path_and_value(
    change: dict[str, Any], loc: tuple[Any, ...], error_type: str
) -> None:
    error = only(record(**change))
    assert error["loc"] == loc
    assert error["type"] == error_type
    assert error["msg"].startswith("family 'T1': ") or change.get("family_id")


@pytest.mark.parametrize(
    "name", ["Leeds", "Bristol, City of", 'Council "A" \\ B', "Café £", "Ynys\u00a0Môn", "\u00bfX"]
)
def test_printable_names_are_kept_exactly_on_both_paths(name: str) -> None:
    from pbr._compiled import decode_family
    from pbr.io import parse_family

    raw = json.dumps(record(local_authority=name))
    compiled = decode_family(raw, 10**6)
    assert compiled is None or compiled.local_authority == name
    parsed = parse_family(raw)
    assert isinstance(parsed, pbr.Family)
    assert parsed.local_authority == name


@pytest.mark.parametrize(
    "name", [" Leeds", "Leeds ", "Ynys Môn\u00a0", "\u3000Kent", "Leeds\u2003"]
)
def test_a_space_at_an_edge_of_a_name_or_note_is_refused_on_both_paths(name: str) -> None:
    """ "Leeds " would be a council of its own in every total; pbr never trims, and council
    tables refuse the same cell (``space_at_edge``)."""
    from pbr._compiled import decode_family

    for change in (
        {"local_authority": name},
        {"problems_at_entry": [{"problem": "health", "evidence": name}]},
    ):
        raw = json.dumps(record(**change))
        assert decode_family(raw, 10**6) is None
        error = only(record(**change))
        assert error["type"] == "space_at_edge", error


@pytest.mark.parametrize("character", ["\x00", "\t", "\n", "\x1b", "\x7f", "\x80", "\x9f"])
def test_a_control_character_is_refused_on_both_paths(character: str) -> None:
    from pbr._compiled import decode_family

    raw = json.dumps(record(local_authority=f"Lee{character}ds"))
    assert decode_family(raw, 10**6) is None
    error = only(record(local_authority=f"Lee{character}ds"))
    assert error["type"] == "control_character"
    assert f"U+{ord(character):04X}, at character 4" in error["msg"]


# U+2028/U+2029 start a line for splitlines, editors and browsers; the format characters are
# shown as nothing or reorder what follows: either could forge a line of a working paper
UNSEEN = [
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\u202a",  # left-to-right embedding
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
]
TEXT_FIELDS: list[tuple[str, Any]] = [
    ("local_authority", lambda text: {"local_authority": text}),
    ("local_discretion.1", lambda text: {"local_discretion": ["dv", text]}),
    (
        "payments.0.claim_id",
        lambda text: {"payments": [{"kind": "attachment_fee", "amount": "1.00", "claim_id": text}]},
    ),
    (
        "problems_at_entry.0.evidence",
        lambda text: {"problems_at_entry": [{"problem": "health", "evidence": text}]},
    ),
    (
        "observations.0.source",
        lambda text: {
            "observations": [
                {"indicator": "gp_visits", "date": "2013-01-07", "value": 1, "source": text}
            ]
        },
    ),
]


@pytest.mark.parametrize("character", UNSEEN)
@pytest.mark.parametrize(("path", "change"), TEXT_FIELDS, ids=[p for p, _ in TEXT_FIELDS])
def test_a_separator_or_format_character_is_refused_in_every_text_on_both_paths(
    character: str, path: str, change: Any
) -> None:
    from pbr._compiled import decode_family
    from pbr.io import parse_family

    programme = "tf-phase-2" if path.startswith(("problems", "observations")) else "tf-phase-1"
    attached = "2015-06-01" if programme == "tf-phase-2" else "2012-10-15"
    given = record(programme=programme, attached_on=attached, **change(f"C-1{character}MET"))
    if programme == "tf-phase-2":
        del given["identified_for"]
    raw = json.dumps(given, ensure_ascii=False)
    assert decode_family(raw, 10**6) is None
    assert decode_family(raw.encode(), 10**6) is None
    rejection = parse_family(raw)
    assert isinstance(rejection, pbr.Rejection)
    (error,) = rejection.errors
    assert (error.loc, error.type) == (path, "control_character")
    assert f"U+{ord(character):04X}, at character 4" in error.message
    (line,) = rejection.describe().splitlines()  # escaped: one line, nothing unseen
    assert line.isprintable()
    assert "family 'T1'" in line
    assert path in line
    assert character.encode("unicode_escape").decode() in line


def test_the_refused_characters_are_the_separators_and_every_format_character_to_u_ffff() -> None:
    import unicodedata

    from pbr._record_checks import control_character

    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        category = unicodedata.category(chr(code))
        refused = control_character(f"a{chr(code)}b") is not None
        assert refused == (category in {"Cc", "Cf", "Zl", "Zp"}), (hex(code), category)


def test_missing_family_id_is_named_as_missing() -> None:
    obj = record()
    del obj["family_id"]
    error = only(obj)
    assert error["loc"] == ("family_id",)
    assert error["msg"].startswith("family (no family_id): ")


def test_float_money_is_refused_even_when_whole() -> None:
    error = only(record(payments=[{"kind": "attachment_fee", "amount": 3200.0}]))
    assert error["type"] == "money_type"
    assert error["loc"] == ("payments", 0, "amount")


def test_every_problem_in_a_record_is_reported_at_once() -> None:
    errs = errors_of(
        record(
            offences=[{"person_id": "Z9", "date": "2012-01-01"}],
            employment_spells=[{"person_id": "A1", "start": "2013-01-02", "end": "2013-01-01"}],
        )
    )
    assert {e["type"] for e in errs} == {"unknown_person", "end_before_start"}


def test_json_schema_covers_the_record() -> None:
    schema = pbr.Family.model_json_schema()
    assert set(schema["required"]) == {"family_id", "attached_on", "members"}
    assert schema["additionalProperties"] is False
    payment = schema["$defs"]["Payment"]["properties"]["amount"]
    assert '"number"' not in json.dumps(payment)  # never of type number


def test_the_schema_accepts_exactly_the_academic_years_the_model_accepts() -> None:
    """The pattern YYYY/YY let 2012/14, 1899/00 and 2099/00 through, which the model rejects."""
    import jsonschema_rs
    import pydantic

    from pbr import _compiled
    from pbr.records import AcademicYear

    schema = pbr.Family.model_json_schema()["$defs"]["SchoolTermRecord"]["properties"]
    validator = jsonschema_rs.validator_for(schema["academic_year"])
    model = pydantic.TypeAdapter(AcademicYear)
    years = [f"{y}/{e:02d}" for y in (*range(1890, 1910), *range(2010, 2020), *range(2090, 2110))
             for e in range(100)]  # fmt: skip
    for text in [*years, "2012/13 ", "12/13", "2012-13", "２０１２/13"]:
        try:
            model.validate_python(text)
        except pydantic.ValidationError:
            assert not validator.is_valid(text), text
        else:
            assert validator.is_valid(text), text
    assert not validator.is_valid("2012/14")
    assert schema["academic_year"]["enum"] == list(_compiled.ACADEMIC_YEARS)  # the fast path's


def test_bad_academic_year_message_shows_the_value() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError) as info:
        pbr.Family.model_validate(
            {
                "family_id": "AY",
                "attached_on": "2013-01-07",
                "members": [{"person_id": "C1", "date_of_birth": "2004-01-01"}],
                "school_terms": [
                    {
                        "person_id": "C1",
                        "academic_year": "2012/14",
                        "term": "autumn",
                        "possible_sessions": 10,
                        "unauthorised_absences": 0,
                    }
                ],
            }
        )
    message = info.value.errors()[0]["msg"]
    assert "academic year '2012/14': 14 does not follow 2012" in message
    assert "{" not in message


@given(family_id=st.text(max_size=30), message=st.text(max_size=30))
def test_a_message_loses_exactly_its_family_prefix(family_id: str, message: str) -> None:
    from pbr._rejection import without_family

    assert without_family(f"family {family_id!r}: {message}") == message
    assert without_family(f"family (no family_id): {message}") == message


def test_an_invalid_family_id_with_a_colon_keeps_the_whole_message() -> None:
    from pbr.io import parse_family

    text = json.dumps(record(family_id="LA 12: Smith"))
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert rejection.errors[0].message.startswith("String should match pattern")


def test_model_validate_json_refuses_a_key_given_twice_as_the_readers_do() -> None:
    text = json.dumps(record(payments=[{"kind": "attachment_fee", "amount": "1.00"}]))
    doubled = text.replace('"amount": "1.00"', '"amount": "1.00", "amount": "99999.00"')
    with pytest.raises(ValidationError) as caught:
        pbr.Family.model_validate_json(doubled)
    (error,) = caught.value.errors()
    assert error["type"] == "duplicate_key"
    assert error["loc"] == ("payments", 0, "amount")
    assert error["msg"] == (
        "family 'T1': the key payments.0.amount is given twice in one object; JSON readers "
        "disagree on which value counts, so pbr uses neither"
    )
    assert error["input"] == ["1.00", "99999.00"]  # the values given, not the key
    twice = text.replace('"family_id": "T1"', '"family_id": "T0", "family_id": "T1"')
    with pytest.raises(ValidationError, match=r"family \(no family_id\): the key family_id is"):
        pbr.Family.model_validate_json(twice)
    assert pbr.Family.model_validate_json(text).payments[0].amount == 1  # once: accepted


@pytest.mark.parametrize("read", ["model_validate", "model_validate_json"])
def test_one_bad_member_is_not_also_a_list_too_short(read: str) -> None:
    obj = record(members=[{"person_id": "A1", "date_of_birth": "1984-02-30"}])
    given: Any = obj if read == "model_validate" else json.dumps(obj)
    with pytest.raises(ValidationError) as caught:
        getattr(pbr.Family, read)(given)
    assert [e["type"] for e in caught.value.errors()] == ["date_parsing"]
    with pytest.raises(ValidationError, match="too_short"):  # an empty list still is
        pbr.Family.model_validate(record(members=[]))


def test_a_rejection_line_writes_out_what_a_terminal_would_act_on() -> None:
    from pbr.io import parse_family

    text = json.dumps({**record(), "zz\n\x1b[2J": 1, "local_authority": "Lee\x07ds"})
    rejection = parse_family(text, source="in\x1b]0;x\x07.jsonl")
    assert isinstance(rejection, pbr.Rejection)
    lines = rejection.describe().split("\n")  # one line an error, each printable
    assert len(lines) == 2
    assert all(line.isprintable() for line in lines)
    assert any("zz\\n\\x1b[2J = 1" in line for line in lines)  # the errors' order is pydantic's
    assert all(line.startswith("in\\x1b]0;x\\x07.jsonl (record 1)") for line in lines)


def test_an_unknown_problem_is_one_error_at_its_field() -> None:
    from pbr.io import parse_family

    text = json.dumps(record(programme="tf-phase-2", problems_at_entry=[{"problem": "nonsense"}]))
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    # one error at the field: not one per programme's list, under pydantic's union tags
    assert [(e.loc, e.type) for e in rejection.errors] == [
        ("problems_at_entry.0.problem", "literal_error")
    ]
    assert "'financial_stability'" in rejection.errors[0].message


# --- where the JSON Schema and pbr part: a whole number written with a point or an exponent ---

_WRITTEN_WHOLE = [  # (field path, the number as the JSON text writes it, pbr's error type)
    (("school_terms", 0, "possible_sessions"), "120.0", "int_type"),
    (("school_terms", 0, "possible_sessions"), "1e2", "int_type"),
    (("school_terms", 0, "fixed_term_exclusions"), "-0.0", "int_type"),
    (("payments", 0, "amount"), "3200.0", "money_type"),
    (("payments", 0, "amount"), "1e3", "money_type"),
    (("observations", 0, "value"), "2.0", "number_type"),
    (("observations", 0, "value"), "1e3", "number_type"),
]


def _written(path: tuple[str | int, ...], raw: str) -> str:
    """A valid phase-two record with the number at `path` written as `raw`."""
    obj: dict[str, Any] = {
        "family_id": "W1",
        "programme": "tf-phase-2",
        "attached_on": "2016-01-07",
        "members": [{"person_id": "C1", "date_of_birth": "2008-01-01"}],
        "problems_at_entry": [{"problem": "education"}, {"problem": "health"}],
        "school_terms": [
            {
                "person_id": "C1",
                "academic_year": "2015/16",
                "term": "spring",
                "possible_sessions": 100,
                "unauthorised_absences": 5,
            }
        ],
        "payments": [{"kind": "attachment_fee", "amount": "800.00"}],
        "observations": [{"indicator": "gp_visits", "date": "2016-02-01", "value": 2}],
    }
    node: Any = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = "@@"
    return json.dumps(obj).replace('"@@"', raw)


def test_the_schema_and_pbr_differ_where_family_record_md_says_and_only_there() -> None:
    """The docs said they "accept exactly the same records field by field" and blamed "some
    validators" for taking 120.0 as an integer: JSON Schema 2020-12 makes every validator do so."""
    import jsonschema

    from pbr.io import parse_family
    from pbr.schemas import family_schema

    schema = family_schema()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for path, raw, kind in _WRITTEN_WHOLE:
        text = _written(path, raw)
        assert validator.is_valid(json.loads(text)), raw  # a standard validator takes it
        refused = parse_family(text)
        assert isinstance(refused, pbr.Rejection), raw  # pbr does not
        assert [(e.loc, e.type) for e in refused.errors] == [(".".join(map(str, path)), kind)]
        whole = _written(path, str(int(float(raw))))  # the same number written whole
        assert isinstance(parse_family(whole), pbr.Family), raw  # both take it
        assert validator.is_valid(json.loads(whole))
    docs = (Path(__file__).resolve().parents[1] / "docs" / "family-record.md").read_text()
    assert "exactly the same records" not in docs
    assert "Some\nJSON Schema validators" not in docs
    differ = docs[docs.index("**Where they differ") :]
    differ = differ[: differ.index("\n\n")]
    for _, raw, kind in _WRITTEN_WHOLE:
        assert f"`{raw}`" in differ, raw
        assert f"`{kind}`" in differ, kind
    # and the schema itself says so at every integer it holds
    from pbr._strict import WRITTEN_WHOLE

    def integers(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            here = [node] if node.get("type") == "integer" else []
            return here + [i for v in node.values() for i in integers(v)]
        if isinstance(node, list):
            return [i for v in node for i in integers(v)]
        return []

    found = integers(schema)
    assert len(found) == 5
    assert all(i.get("$comment") == WRITTEN_WHOLE for i in found)


@pytest.mark.parametrize("indicator", sorted(BUILT_IN_INDICATORS))
def test_the_schema_refuses_an_observation_of_a_built_in_indicator_as_pbr_does(
    indicator: str,
) -> None:
    """`"offences"` passed the schema, and pbr refused it (`built_in_indicator`)."""
    import jsonschema

    from pbr.io import parse_family
    from pbr.schemas import family_schema

    validator = jsonschema.Draft202012Validator(family_schema())
    record = json.loads(_written(("observations", 0, "value"), "2"))
    assert validator.is_valid(record)
    assert isinstance(parse_family(json.dumps(record)), pbr.Family)
    record["observations"][0]["indicator"] = indicator
    assert not validator.is_valid(record)
    refused = parse_family(json.dumps(record))
    assert isinstance(refused, pbr.Rejection)
    assert [(e.loc, e.type) for e in refused.errors] == [
        ("observations.0.indicator", "built_in_indicator")
    ]


# --- arrays: the record's terms, not Python's tuples ----------------------------------------

_MEMBER = {"person_id": "A1", "date_of_birth": "1980-01-01"}


@pytest.mark.parametrize(
    ("field", "given", "kind", "said"),
    [
        ("members", [], "too_short", "Input should be an array of at least 1 item"),
        ("members", None, "list_type", "Input should be an array"),
        ("members", {}, "list_type", "Input should be an array"),
        ("members", "A1", "list_type", "Input should be an array"),
        ("offences", None, "list_type", "Input should be an array"),
        ("payments", {"kind": "attachment_fee"}, "list_type", "Input should be an array"),
        ("observations", 7, "list_type", "Input should be an array"),
    ],
)
def test_an_array_is_called_an_array_on_every_path(
    field: str, given: Any, kind: str, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``members: []`` was "Tuple should have at least 1 item after validation, not 0", and
    ``members: null`` type ``tuple_type``: pydantic's names for a Python tuple."""
    from datetime import date

    from pbr._compiled import decode_family
    from pbr.batch import evaluate_many_json
    from pbr.io import DEFAULT_MAX_RECORD_BYTES, parse_family

    obj: dict[str, Any] = {"family_id": "F1", "attached_on": "2013-01-07", "members": [_MEMBER]}
    obj[field] = given
    line = json.dumps(obj)
    assert decode_family(line, DEFAULT_MAX_RECORD_BYTES) is None  # the fast path declines
    rejected = parse_family(line)
    assert isinstance(rejected, pbr.Rejection)
    assert [(e.loc, e.type, e.message) for e in rejected.errors] == [(field, kind, said)]
    assert "uple" not in rejected.describe()
    (batch,) = evaluate_many_json([line.encode()], as_of=date(2014, 1, 1), workers=1)
    monkeypatch.setattr("pbr.batch._COMPILED", False)
    (slow,) = evaluate_many_json([line.encode()], as_of=date(2014, 1, 1), workers=1)
    assert isinstance(batch, pbr.Rejection)
    assert batch.model_dump() == slow.model_dump()  # type: ignore[union-attr]
    assert batch.errors == rejected.errors
    err = only(obj)  # the ValidationError from Python and from JSON alike
    assert (err["type"], err["msg"]) == (kind, f"family 'F1': {said}")


SEQUENCE_FIELDS = ["identified_for", "local_discretion", *RECORD_LISTS]
"""Every array of the record: a list or a tuple from Python, nothing else."""


def test_the_sequence_fields_are_every_array_of_the_record() -> None:
    arrays = {
        name for name, info in pbr.Family.model_fields.items() if "tuple[" in str(info.annotation)
    }
    assert arrays == set(SEQUENCE_FIELDS)


def _not_arrays(items: list[Any]) -> list[Any]:
    """Python values that iterate `items` but are no list or tuple (a set's order varies)."""
    np = pytest.importorskip("numpy")  # an array, of Python's kind: said so (a list or a tuple)
    return [
        np.array(items, dtype=object),
        set(map(json.dumps, items)) if items else set(),
        frozenset(map(json.dumps, items)),
        (item for item in items),
        iter(items),
        dict.fromkeys(map(json.dumps, items)).keys(),
        dict.fromkeys(map(json.dumps, items)).values(),
        range(len(items)),
    ]


@pytest.mark.parametrize("field", SEQUENCE_FIELDS)
def test_an_array_from_python_is_a_list_or_a_tuple_and_nothing_else(field: str) -> None:
    """A set gave an order that varied run to run (PYTHONHASHSEED), so the input hash did; a
    generator was read once. Each is refused as JSON refuses a non-array: ``list_type``."""
    valid = pbr.Family.model_validate(record(**{field: []}) if field != "members" else record())
    items = list(getattr(valid, field) or ()) or ([_MEMBER] if field == "members" else [])
    given = [i.model_dump(mode="json") if hasattr(i, "model_dump") else i for i in items]
    for ok in (list(given), tuple(given)):
        assert pbr.Family.model_validate(record(**{field: ok})) == valid
    from_json = json.dumps(record(**{field: "not an array"}))
    with pytest.raises(ValidationError) as caught_json:
        pbr.Family.model_validate_json(from_json)
    (said,) = [(e["type"], e["msg"]) for e in caught_json.value.errors()]
    for bad in _not_arrays(given):
        with pytest.raises(ValidationError) as caught:
            pbr.Family.model_validate(record(**{field: bad}))
        errors = caught.value.errors()
        python = f"{said[1]}: from Python, a list or a tuple, not {type(bad).__name__}"
        assert [(e["loc"], e["type"], e["msg"]) for e in errors] == [((field,), said[0], python)], (
            bad
        )
        assert f"input_type={type(bad).__name__}" in str(caught.value)


def test_a_set_of_codes_is_refused_rather_than_hashed_in_an_order_that_varies() -> None:
    """The tester's case: the same set gave different input hashes from run to run."""
    obj = record(local_discretion={"alpha", "beta"}, identified_for={"work", "education"})
    with pytest.raises(ValidationError) as caught:
        pbr.Family.model_validate(obj)
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [
        (("identified_for",), "list_type"),
        (("local_discretion",), "list_type"),
    ]
    assert "family 'T1': Input should be an array" in str(caught.value)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_generator_of_members_is_the_same_rejection_on_every_path(workers: int) -> None:
    """A generator gave a decision with one worker and ``members too_short`` with two."""
    from datetime import date

    def given() -> dict[str, Any]:
        return record(members=(m for m in [_MEMBER]))

    out = list(pbr.evaluate_many([given(), given()], as_of=date(2015, 3, 31), workers=workers))
    for rejected in out:
        assert isinstance(rejected, pbr.Rejection)
        assert [(e.loc, e.type) for e in rejected.errors] == [("members", "list_type")]


def _long_number_records() -> list[str]:
    """Records holding numbers too long for the JSON reader (over 4,300 digits)."""
    child = {"person_id": "C1", "date_of_birth": "2004-05-06"}
    term = {"person_id": "C1", "academic_year": "2011/12", "possible_sessions": 140}
    terms = [
        {**term, "term": "autumn", "unauthorised_absences": 30},
        {**term, "term": "spring", "possible_sessions": 20, "unauthorised_absences": 30},
    ]
    paid = record(
        family_id="F1",
        payments=[{"kind": "attachment_fee", "amount": 1}],
        offences=[{"person_id": "C9", "date": "2012-11-02"}],
    )
    extra = json.dumps(record(attached_on="2012-13-15", local_authority="9" * 5000))
    return [
        json.dumps(paid).replace('"amount": 1', '"amount": ' + "9" * 5000),
        extra[:-1] + ', "extra": ' + "9" * 4301 + "}",
        json.dumps(record(members=[_MEMBER, child], school_terms=terms)).replace(
            '"possible_sessions": 140', '"possible_sessions": 1' + "0" * 5000
        ),
        json.dumps(record(members=[{**_MEMBER, "expectant": 0}])).replace(
            '"expectant": 0', '"expectant": -' + "9" * 4400
        ),
    ]


@pytest.mark.parametrize("text", _long_number_records(), ids=["money", "extra", "count", "flag"])
def test_a_number_too_long_to_read_is_named_at_its_field_from_model_validate_json(
    text: str,
) -> None:
    """It was ``json_invalid`` for the whole record ("number out of range at line 1 column
    4453"), where `pbr.read_records` and `evaluate_many` name the field: now alike."""
    from pbr._rejection import Written
    from pbr.io import parse_family

    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert rejection.errors[0].type == "number_too_long"
    with pytest.raises(ValidationError) as caught:
        pbr.Family.model_validate_json(text)
    prefix = f"family {rejection.family_id!r}: "
    assert [(".".join(map(str, e["loc"])), e["type"], e["msg"]) for e in caught.value.errors()] == [
        (e.loc, e.type, prefix + e.message) for e in rejection.errors
    ]
    long = [e for e in caught.value.errors() if e["type"] == "number_too_long"]
    assert [str(e["input"]) for e in long] == [
        str(e.value) for e in rejection.errors if e.type == "number_too_long"
    ]
    assert all(isinstance(e["input"], Written) for e in long)  # a number: not quoted again


def pickle_round_trip(exc: ValidationError) -> ValidationError:
    again: ValidationError = pickle.loads(pickle.dumps(exc))
    return again


_STRANGER = {
    "family_id": "LA-9",
    "attached_on": "2013-05-01",
    "members": [{"person_id": "A1", "date_of_birth": "1984-03-12"}],
    "employment_spells": [{"person_id": "A9", "start": "2013-06-03"}],
}
_NO_DATE = {"family_id": "LA-9", "members": _STRANGER["members"]}


def _validated(row: dict[str, Any]) -> str:
    """A process pool's job: a record's family_id, or the record's ValidationError raised."""
    return pbr.Family.model_validate(row).family_id


def _refusals(row: dict[str, Any]) -> list[ValidationError]:
    """The errors `row` is refused with, read as a dict and as JSON text."""
    with pytest.raises(ValidationError) as as_dict:
        pbr.Family.model_validate(row)
    with pytest.raises(ValidationError) as as_json:
        pbr.Family.model_validate_json(json.dumps(row))
    return [as_dict.value, as_json.value]


@pytest.mark.parametrize("row", [_STRANGER, _NO_DATE], ids=["pbr's type", "pydantic's type"])
@pytest.mark.parametrize("copied", [pickle_round_trip, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_a_records_error_pickles_and_copies_whole(
    row: dict[str, Any], copied: Callable[[ValidationError], ValidationError]
) -> None:
    for error in _refusals(row):
        again = copied(error)
        assert isinstance(again, ValidationError)
        assert again.errors() == error.errors()
        assert str(again) == str(error)
        assert again.errors()[0]["msg"].startswith("family 'LA-9': ")


@pytest.mark.parametrize("row", [_STRANGER, _NO_DATE], ids=["pbr's type", "pydantic's type"])
def test_a_records_error_pickles_with_its_chain_as_tblib_pickles_it(row: dict[str, Any]) -> None:
    """tblib (which Dask's distributed installs) pickles an exception's __context__ too: the
    error pbr raises carries none, since pydantic's error it stands for cannot be pickled."""
    tblib = pytest.importorskip("tblib.pickling_support")
    for error in _refusals(row):
        assert error.__context__ is None
        assert error.__cause__ is None
        table = {**copyreg.dispatch_table, TracebackType: tblib.pickle_traceback}
        table[type(error)] = tblib.pickle_exception  # as tblib's install() does
        written = io.BytesIO()
        pickler = pickle.Pickler(written)
        pickler.dispatch_table = table
        pickler.dump(error)
        again = pickle.loads(written.getvalue())
        assert again.errors() == error.errors()
        assert str(again) == str(error)


def test_a_records_error_raised_in_a_process_pool_reaches_the_caller() -> None:
    spawned = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    with spawned as pool, pytest.raises(ValidationError) as caught:
        pool.submit(_validated, _STRANGER).result()
    assert caught.value.errors()[0]["type"] == "unknown_person"
    assert caught.value.errors()[0]["msg"].startswith("family 'LA-9': ")
