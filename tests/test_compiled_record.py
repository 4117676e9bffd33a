"""The compiled record (`pbr._compiled`) accepts only what pydantic accepts, and means the same.

The batch tries raw JSON as a msgspec Struct first and falls back to pydantic when the Struct
declines. So, for any bytes at all: the fast path declines, or pydantic accepts the same bytes,
the canonical JSON (the input hash's bytes) is pydantic's byte for byte, and every decision is the
same. Valid records of every programme are drawn from `pbr.testing`, then spoiled in the ways
councils' exports and attackers spoil them: wrong types, values out of range, bad patterns,
unknown and repeated keys at every depth, escapes, control characters, text around the record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pydantic
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

import pbr.records
from pbr import _compiled
from pbr._compiled import STRUCTS, canonical_json, decode_family, is_compiled
from pbr.batch import evaluate_many_json
from pbr.engine import evaluate
from pbr.io import DEFAULT_MAX_RECORD_BYTES, Rejection, parse_family
from pbr.periods import check_as_of
from pbr.records import Family
from pbr.testing import PROGRAMMES, family_records

REFERENCE = Path(__file__).resolve().parent / "reference" / "families.jsonl"
_to_json = Family.__pydantic_serializer__.to_json
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def fast(data: bytes | str) -> Family | None:
    return decode_family(data, DEFAULT_MAX_RECORD_BYTES)


def _as_of_dates(family: Family) -> list[date]:
    days = [family.attached_on + timedelta(days=n) for n in (1, 400, 1500)]
    return [d for d in days if date(2012, 4, 1) <= d <= date(2099, 12, 31)] or [date(2013, 1, 1)]


def _outcome(family: Family, as_of: date) -> str:
    try:
        return evaluate(family, as_of=check_as_of(as_of)).model_dump_json()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def assert_never_wrong(data: bytes | str) -> Family | None:
    """The property: the fast path declines, or it agrees with pydantic in every way."""
    compiled = fast(data)
    if compiled is None:
        return None
    assert is_compiled(compiled)
    slow = parse_family(data)
    assert isinstance(slow, Family), (data, slow)  # never accept what pydantic rejects
    assert _compiled._encode(compiled) == _to_json(slow)
    assert canonical_json(compiled) == _to_json(slow)
    for as_of in _as_of_dates(slow):
        assert _outcome(compiled, as_of) == _outcome(slow, as_of)
    return compiled


# -- spoiling records ------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _paths(node: Any, here: Path_ = ()) -> list[Path_]:
    """Every position in a JSON-ready record: object members and list items, at every depth."""
    found: list[Path_] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*here, key))
            found.extend(_paths(value, (*here, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.append((*here, i))
            found.extend(_paths(value, (*here, i)))
    return found


def _objects(node: Any, here: Path_ = ()) -> list[Path_]:
    """The position of every object in the record (the record itself is ``()``)."""
    found: list[Path_] = []
    if isinstance(node, dict):
        found.append(here)
        for key, value in node.items():
            found.extend(_objects(value, (*here, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_objects(value, (*here, i)))
    return found


def _at(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


MESSY_VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            1,
            -1,
            1.0,
            100.0,
            0.5,
            1e2,
            100_000,
            100_001,
            10**12,
            10**12 - 1,
            10**19,
            10**30,
            -(10**30),
            "",
            "1",
            "0",
            "-0",
            "-0.00",
            "0.00",
            "1.005",
            "1e2",
            "24E2",
            " 1",
            "1 ",
            "01",
            "00.10",
            "0.000000001",
            "0.0000001",
            "1.5",
            "-1.5",
            "3200.00",
            "999999999999.99",
            "1000000000000",
            "A1",
            "A1\n",
            "A1 ",
            "a\nb",
            "\ud800",
            "x\udc00y",
            "x\x00y",
            "x\x01y",
            "x\x7fy",
            "é",
            "É1",
            "😀",
            "\u2028",
            "C-1\u2028Crime/ASB/education: MET",
            "x\u2029y",
            "x\u202eyz",
            "\u2066x\u2069",
            "x\u200by",
            "x\u200dy",
            "x\u200e",
            "\u061cx",
            "x\u2060y",
            "x\ufeffy",
            "x\u00ady",
            "x\u180ey",
            "x\ufffay",
            "Café\u00ad",
            "日本",
            "2012/13",
            "2012/14",
            "1999/00",
            "9999/00",
            "0000/01",
            "2012/13\n",
            "2012-13",
            "1900-01-01",
            "1899-12-31",
            "2099-12-31",
            "2100-01-01",
            "0001-01-01",
            "9999-12-31",
            "2013-02-29",
            "2012-02-29",
            "2013-1-01",
            "2013-01-01T00:00:00",
            "2013-01-01\n",
            "20130101",
            "autumn",
            "Autumn",
            "summer ",
            "JSA",
            "jsa",
            "esf",
            "asbo",
            "health",
            "crime_asb",
            "tf-phase-1",
            "tf-phase-2",
            "supporting-families",
            "attachment_fee",
            "gp_visits",
            "GP_visits",
            "a" * 64,
            "a" * 65,
            "a" * 100,
            "a" * 101,
            "a" * 200,
            "a" * 201,
            "A" * 65,
            "x:y",
            'x":y',
            "x\\",
            "[]",
            [],
            {},
            ["crime_asb"],
            ["crime_asb", "crime_asb"],
            [None],
            {"a": 1},
        ]
    ),
    st.integers(),
    st.text(max_size=12),
    st.dates().map(date.isoformat),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


Draw = Callable[[st.SearchStrategy[Any]], Any]


def _dumps(node: Any, draw: Draw, repeat: Path_ | None = None, here: Path_ = ()) -> str:
    """JSON text of `node`, written in varied but valid ways; the object at `repeat` gives one of
    its keys twice (with the same value or another)."""
    if isinstance(node, dict):
        pairs = list(node.items())
        if here == repeat and pairs:
            key, value = pairs[draw(st.integers(0, len(pairs) - 1))]
            other = draw(st.one_of(st.just(value), MESSY_VALUES))
            pairs.insert(draw(st.integers(0, len(pairs))), (key, other))
        colon = draw(st.sampled_from([":", ": ", " : ", ":\t"]))
        inner = ",".join(
            f"{_key(key, draw)}{colon}{_dumps(value, draw, repeat, (*here, key))}"
            for key, value in pairs
        )
        return "{" + inner + "}"
    if isinstance(node, list):
        items = [_dumps(v, draw, repeat, (*here, i)) for i, v in enumerate(node)]
        return "[" + ", ".join(items) + "]"
    if isinstance(node, str):
        return _string(node, draw)
    return json.dumps(node)


def _key(key: str, draw: Draw) -> str:
    if draw(st.integers(0, 30)) == 0:  # a key written with an escape
        return '"' + "".join(f"\\u{ord(c):04x}" if c == "_" else c for c in key) + '"'
    return json.dumps(key)


def _string(text: str, draw: Draw) -> str:
    written = json.dumps(text, ensure_ascii=draw(st.booleans()) or not _encodable(text))
    if ":" in text and draw(st.booleans()):  # a colon can be written as an escape
        written = written.replace(":", "\\u003a")
    return written


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


PROGRAMME_IDS = st.sampled_from([None, *PROGRAMMES])


@st.composite
def spoiled_lines(draw: st.DrawFn) -> bytes:
    """A valid record, spoiled in one or two ways (or not at all), as the bytes of a line."""
    record = draw(family_records(draw(PROGRAMME_IDS)))
    repeat: Path_ | None = None
    for _ in range(draw(st.integers(0, 2))):
        how = draw(st.sampled_from(["value", "value", "value", "unknown", "drop", "repeat"]))
        paths = _paths(record)
        if how == "value" and paths:
            path = draw(st.sampled_from(paths))
            _at(record, path[:-1])[path[-1]] = draw(MESSY_VALUES)
        elif how == "unknown":
            where = draw(st.sampled_from(_objects(record)))
            _at(record, where)[draw(st.sampled_from(["surname", "note", "Family_id"]))] = 1
        elif how == "drop":
            keyed = [p for p in paths if isinstance(p[-1], str)]
            if keyed:
                path = draw(st.sampled_from(keyed))
                del _at(record, path[:-1])[path[-1]]
        else:
            repeat = draw(st.sampled_from(_objects(record)))
    text = _dumps(record, draw, repeat).encode("utf-8", errors="surrogatepass")
    around = draw(st.sampled_from(["", "", "", "bom", "nl", "ws", "tail", "crlf", "nul"]))
    return {
        "": text,
        "bom": b"\xef\xbb\xbf" + text,
        "nl": text + b"\n",
        "ws": b" \t" + text + b" ",
        "tail": text + b" x",
        "crlf": text + b"\r\n",
        "nul": text + b"\x00",
    }[around]


# -- the properties --------------------------------------------------------------------------


@FAST
@given(PROGRAMME_IDS.flatmap(family_records))
def test_valid_records_of_every_programme_are_accepted_and_mean_the_same(record: Any) -> None:
    data = json.dumps(record).encode()
    assert assert_never_wrong(data) is not None
    compact = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    assert assert_never_wrong(compact) is not None  # text as well as bytes


@settings(FAST, max_examples=600)
@given(spoiled_lines())
def test_spoiled_records_are_declined_or_mean_the_same(data: bytes) -> None:
    assert_never_wrong(data)


@FAST
@given(st.data())
def test_a_key_given_twice_at_any_depth_is_always_declined(data: st.DataObject) -> None:
    record = data.draw(PROGRAMME_IDS.flatmap(family_records))
    where = data.draw(st.sampled_from(_objects(record)))
    assume(_at(record, where))
    line = _dumps(record, data.draw, where).encode("utf-8", errors="surrogatepass")
    assert fast(line) is None
    rejection = parse_family(line)
    assert isinstance(rejection, Rejection)


@FAST
@given(PROGRAMME_IDS.flatmap(family_records), st.data())
def test_records_written_with_spaces_and_escaped_colons_are_still_accepted(
    record: Any, data: st.DataObject
) -> None:
    record["local_authority"] = 'Leeds: City "Council" \\ A:B'
    line = _dumps(record, data.draw).encode()
    assert assert_never_wrong(line) is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("local_authority", "Leeds\\u003aCouncil"),  # an escaped colon, and a repeated key
        ("local_authority", "Leeds:Council"),
        ("local_authority", "Leeds\\\\\\u003aCouncil"),
    ],
)
def test_an_escaped_colon_cannot_hide_a_repeated_key(field: str, value: str) -> None:
    good = (
        '{"family_id": "F1", "attached_on": "2013-01-07", "' + field + '": "' + value + '", '
        '"members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}'
    )
    assert assert_never_wrong(good) is not None
    twice = good.replace('"family_id": "F1"', '"family_id": "F0", "family_id": "F1"')
    assert fast(twice) is None
    assert isinstance(parse_family(twice), Rejection)


_GOOD = {
    "family_id": "F1",
    "attached_on": "2013-01-07",
    "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}],
}


@pytest.mark.parametrize(
    "line",
    [
        b'\xef\xbb\xbf{"family_id": "F1"}',
        b'{"family_id": "F1\\n", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1\\n", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "local_authority": "\\ud800", '
        b'"members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "1899-12-31", "members": '
        b'[{"person_id": "A1", "date_of_birth": "1880-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1", "date_of_birth": "2100-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1", "date_of_birth": "1980-01-01"}], "school_terms": [{"person_id": '
        b'"A1", "academic_year": "2012/14", "term": "autumn", "possible_sessions": 1, '
        b'"unauthorised_absences": 0}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1", "date_of_birth": "1980-01-01"}], "payments": [{"kind": '
        b'"attachment_fee", "amount": 3200.0}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1", "date_of_birth": "1980-01-01"}], "offences": [{"person_id": '
        b'"A1 ", "date": "2013-01-07"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": '
        b'[{"person_id": "A1", "date_of_birth": "1980-01-01"}]} x',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": []}',
        # a line separator, a right-to-left override, a soft hyphen: as UTF-8 and as escapes
        b'{"family_id": "F1", "attached_on": "2013-01-07", "local_authority": "Leeds\xe2\x80\xa8'
        b'Money", "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "local_discretion": ["x\xe2\x80\xaeyz"],'
        b' "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "local_discretion": ["x\xc2\xady"],'
        b' "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "local_discretion": ["x\\u2029y"],'
        b' "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": [{"person_id": "A1", '
        b'"date_of_birth": "1980-01-01"}], "payments": [{"kind": "attachment_fee", "amount": '
        b'"1.00", "claim_id": "C-1\xef\xbb\xbf"}]}',
    ],
)
def test_what_pydantic_refuses_is_declined(line: bytes) -> None:
    assert fast(line) is None
    assert isinstance(parse_family(line), Rejection)


def _with_a_school_term(academic_year: str, *, born: str) -> str:
    """`_GOOD` with a child born on `born` and one school-term row in `academic_year`."""
    row = {
        "person_id": "C1",
        "academic_year": academic_year,
        "term": "autumn",
        "possible_sessions": 1,
        "unauthorised_absences": 0,
    }
    child = {"person_id": "C1", "date_of_birth": born}
    return json.dumps({**_GOOD, "members": [*_GOOD["members"], child], "school_terms": [row]})


@pytest.mark.parametrize("year", ["２０１２/１３", "٢٠١٢/١٣", "2012/14", "2012/13\n", " 2012/13"])
def test_academic_years_pydantic_refuses_are_declined(year: str) -> None:
    # the term calendar reads any Unicode digits ("２０１２/１３"); the record's pattern does not
    line = _with_a_school_term(year, born="2005-01-01")
    assert fast(line) is None
    assert isinstance(parse_family(line), Rejection)


def test_numbers_pydantic_writes_otherwise_are_declined() -> None:
    line = json.dumps(
        {**_GOOD, "observations": [{"indicator": "a", "date": "2013-01-07", "value": "0.0000001"}]}
    )
    assert fast(line) is None  # msgspec would write 1E-7; pydantic writes 0.0000001
    assert isinstance(parse_family(line), Family)


def test_a_record_over_the_size_limit_is_declined() -> None:
    line = json.dumps(_GOOD).encode()
    assert decode_family(line, len(line)) is not None
    assert decode_family(line, len(line) - 1) is None


def test_money_and_numbers_are_pbrs_exact_decimals() -> None:
    record = {
        **_GOOD,
        "payments": [
            {"kind": "attachment_fee", "amount": "3200"},
            {"kind": "attachment_fee", "amount": 700, "claim_id": "c:1"},
        ],
        "observations": [
            {"indicator": "gp_visits", "date": "2013-01-07", "value": "7.50"},
            {"indicator": "gp_visits", "date": "2013-01-08"},
        ],
    }
    compiled = assert_never_wrong(json.dumps(record))
    assert compiled is not None
    assert [p.amount for p in compiled.payments] == [Decimal("3200.00"), Decimal("700.00")]
    assert [str(o.value) for o in compiled.observations] == ["7.50", "1"]


# -- the mirror is complete -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_every_field_of_every_record_model_is_mirrored(name: str) -> None:
    model = getattr(pbr.records, name)
    mirror = msgspec.structs.fields(STRUCTS[name])
    assert [f.name for f in mirror] == list(model.model_fields)
    for field in mirror:
        info = model.model_fields[field.name]
        assert field.required == info.is_required(), field.name
        if not field.required:
            assert info.default is not PydanticUndefined
            assert field.default == info.default, field.name
            assert type(field.default) is type(info.default), field.name


def test_every_record_model_has_a_mirror() -> None:
    models = {
        name
        for name in pbr.records.__all__
        if isinstance(getattr(pbr.records, name), type)
        and issubclass(getattr(pbr.records, name), BaseModel)
    }
    assert models == set(STRUCTS)


def test_the_mirror_has_the_record_methods_the_rules_use() -> None:
    compiled = fast(json.dumps(_GOOD))
    assert compiled is not None
    assert compiled.member_birthdays() == {"A1": date(1980, 1, 1)}
    import weakref

    assert weakref.ref(compiled)() is compiled


# -- the batch -------------------------------------------------------------------------------


def test_the_reference_corpus_is_all_accepted_by_the_fast_path() -> None:
    lines = REFERENCE.read_bytes().splitlines()
    assert all(fast(line) is not None for line in lines)


def test_the_batch_gives_the_same_text_with_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = REFERENCE.read_bytes().splitlines()
    lines += [b'{"family_id": "F1", "family_id": "F2"}', b"[]", json.dumps(_GOOD).encode()]

    def run() -> list[Any]:
        done = evaluate_many_json(lines, as_of=date(2016, 3, 31), workers=1)
        return [d.model_dump() if isinstance(d, Rejection) else tuple(d) for d in done]

    on = run()
    monkeypatch.setattr("pbr.batch._COMPILED", False)
    assert run() == on


# -- every constraint at its edge ------------------------------------------------------------

_FULL: dict[str, Any] = {
    "family_id": "F1",
    "local_authority": "Leeds",
    "programme": "tf-phase-2",
    "attached_on": "2016-01-07",
    "local_discretion": ["R1"],
    "members": [
        {"person_id": "A1", "date_of_birth": "1980-01-01", "expectant": False},
        {"person_id": "C1", "date_of_birth": "2005-01-01"},
    ],
    "offences": [{"person_id": "A1", "date": "2015-01-07"}],
    "asb_incidents": [{"person_id": None, "date": "2015-02-01", "kind": "asbo"}],
    "school_terms": [
        {
            "person_id": "C1",
            "academic_year": "2014/15",
            "term": "autumn",
            "possible_sessions": 100,
            "unauthorised_absences": 5,
        }
    ],
    "benefit_spells": [{"person_id": "A1", "benefit": "JSA", "start": "2014-01-01", "end": None}],
    "employment_spells": [{"person_id": "A1", "start": "2016-06-01"}],
    "work_programme": [{"person_id": "A1", "date": "2015-03-01", "provision": "esf"}],
    "payments": [
        {"kind": "attachment_fee", "amount": "1000.00", "paid_on": "2016-02-01", "claim_id": "C-1"}
    ],
    "problems_at_entry": [{"problem": "health", "identified_on": "2015-12-01", "evidence": "GP"}],
    "observations": [
        {
            "indicator": "gp_visits",
            "date": "2016-02-01",
            "value": "2.5",
            "person_id": "A1",
            "source": "GP",
        }
    ],
}

EDGES = [
    ("family_id", "a" * 64, True),
    ("family_id", "a" * 65, False),
    ("family_id", "F1\n", False),
    ("family_id", "", False),
    ("local_authority", "a" * 100, True),
    ("local_authority", "a" * 101, False),
    ("local_authority", "", False),
    ("local_discretion", ["a" * 64], True),
    ("local_discretion", ["a" * 65], False),
    ("local_discretion", [""], False),
    ("local_discretion", ["dv\u2028  results payable now: \u00a39,999.00"], False),
    ("local_discretion", ["x\u202eyz"], False),
    ("local_authority", "Leeds\u2028Money", False),
    ("local_authority", "Leeds\u200b", False),
    ("local_authority", "Ynys\u00a0M\u00f4n", True),
    ("programme", "tf-phase-3", False),
    ("attached_on", "2016-02-30", False),
    ("members.0.expectant", 1, False),
    ("members.0.person_id", "A1\n", False),
    ("school_terms.0.possible_sessions", 100_000, True),
    ("school_terms.0.possible_sessions", 100_001, False),
    ("school_terms.0.possible_sessions", -1, False),
    ("school_terms.0.fixed_term_exclusions", 100_000, True),
    ("school_terms.0.fixed_term_exclusions", 100_001, False),
    ("school_terms.0.fixed_term_exclusions", -1, False),
    ("school_terms.0.term", "Autumn", False),
    ("payments.0.claim_id", "a" * 64, True),
    ("payments.0.claim_id", "a" * 65, False),
    ("payments.0.claim_id", "", False),
    ("payments.0.claim_id", "C-1\u2028Crime/ASB/education: MET", False),
    ("payments.0.claim_id", "C-1\u2066", False),
    ("payments.0.amount", 1000, True),
    ("payments.0.amount", "999999999999.99", True),
    ("payments.0.amount", "1000.001", False),
    ("payments.0.amount", "-0.01", False),
    ("payments.0.amount", 10**12, False),
    ("payments.0.amount", 1000.0, False),
    ("payments.0.kind", "fee", False),
    ("problems_at_entry.0.evidence", "a" * 200, True),
    ("problems_at_entry.0.evidence", "a" * 201, False),
    ("problems_at_entry.0.evidence", "", False),
    ("problems_at_entry.0.evidence", "G\u00adP", False),
    ("problems_at_entry.0.problem", "crime", False),
    ("observations.0.indicator", "a" * 64, True),
    ("observations.0.indicator", "a" * 65, False),
    ("observations.0.indicator", "gp_visits\n", False),
    ("observations.0.indicator", "Gp", False),
    ("observations.0.indicator", "1gp", False),
    ("observations.0.source", "a" * 200, True),
    ("observations.0.source", "a" * 201, False),
    ("observations.0.source", "G\u2029P", False),
    ("observations.0.value", 10**12 - 1, True),
    ("observations.0.value", 10**12, False),
    ("observations.0.value", "-7.5", True),
    ("observations.0.value", "7.5e0", False),
    ("observations.0.value", 7.5, False),
    ("asb_incidents.0.kind", "ASBO", False),
    ("benefit_spells.0.benefit", "jsa", False),
    ("work_programme.0.provision", "ESF", False),
]


@pytest.mark.parametrize(("where", "value", "valid"), EDGES)
def test_each_constraint_holds_at_its_edge(where: str, value: Any, valid: bool) -> None:
    record = json.loads(json.dumps(_FULL))
    *parents, last = [int(p) if p.isdigit() else p for p in where.split(".")]
    _at(record, tuple(parents))[last] = value
    line = json.dumps(record).encode()
    assert isinstance(parse_family(line), Family) is valid
    assert (assert_never_wrong(line) is not None) is valid


def test_the_canonical_json_of_an_earlier_record_is_its_own() -> None:
    first, second = json.dumps(_GOOD), json.dumps({**_GOOD, "family_id": "F2"})
    one, two = fast(first), fast(second)
    assert one is not None
    assert two is not None
    assert canonical_json(one) == _to_json(Family.model_validate_json(first))
    assert canonical_json(two) == _to_json(Family.model_validate_json(second))


def _accepted_by(kind: Any) -> Callable[[str], bool]:
    """Whether pydantic accepts a text as `kind` (a record's annotated type)."""
    adapter: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(kind)

    def accepts(text: str) -> bool:
        try:
            adapter.validate_python(text)
        except pydantic.ValidationError:
            return False
        return True

    return accepts


_pydantic_accepts_identifier = _accepted_by(pbr.records.Identifier)


@settings(FAST, max_examples=1000)
@given(
    st.text(max_size=70)
    | st.text(st.sampled_from("aZ09._-²٣Ａß\n "), max_size=66)
    | st.sampled_from(["a" * 64, "a" * 65, "A1", "BENCH-0000001", "A1\n", "", "F.1_x-2"])
)
def test_an_id_is_accepted_exactly_as_pydantic_accepts_it(text: str) -> None:
    """The family's and members' ids are matched after decoding, letters and digits first
    (``isalnum``, only where the text is ASCII): the pattern's answer for any text."""
    assert _compiled._identifier(text) is _pydantic_accepts_identifier(text)


_pydantic_accepts_year = _accepted_by(pbr.records.AcademicYear)


def test_the_academic_years_decoded_are_exactly_those_pydantic_accepts() -> None:
    """Every ``dddd/dd`` from 1800/00 to 2199/99 (80,000 texts, both ends of the range and
    every wrong second year): accepted by pydantic exactly when in `ACADEMIC_YEARS`."""
    listed = set(_compiled.ACADEMIC_YEARS)
    accepted = {
        text
        for text in (f"{year}/{end:02d}" for year in range(1800, 2200) for end in range(100))
        if _pydantic_accepts_year(text)
    }
    assert accepted == listed
    assert len(listed) == 199


@settings(FAST, max_examples=500)
@given(
    st.text(st.sampled_from("0123456789/２٣ \n"), max_size=9)
    | st.text(max_size=9)
    | st.sampled_from(_compiled.ACADEMIC_YEARS)
)
def test_any_academic_year_is_decoded_only_where_pydantic_accepts_it(text: str) -> None:
    line = _with_a_school_term(text, born="1900-01-01")
    assert (fast(line) is not None) is _pydantic_accepts_year(text)
    assert isinstance(parse_family(line), Family) is _pydantic_accepts_year(text)


def test_a_batch_decides_a_compiled_record_as_evaluate_does() -> None:
    """`pbr.engine.evaluate_compiled` (the batch's way, its arguments checked once) writes the
    decision `evaluate` writes, inside the batch's exact arithmetic and outside it."""
    from pbr.engine import evaluate_compiled, rule_set_for
    from pbr.money import exact_arithmetic

    lines = (Path(__file__).parent / "reference" / "families.jsonl").read_bytes().splitlines()
    for line in lines[::7]:
        family = decode_family(line, DEFAULT_MAX_RECORD_BYTES)
        assert family is not None
        rules = rule_set_for(family)
        for as_of in (date(2013, 3, 31), date(2016, 6, 30), date(2024, 3, 31)):
            expected = evaluate(family, as_of=as_of, rules=rules).model_dump_json()
            with exact_arithmetic():
                inside = evaluate_compiled(family, as_of, rules, None)
            assert inside.model_dump_json() == expected
            assert evaluate_compiled(family, as_of, rules, None).model_dump_json() == expected
