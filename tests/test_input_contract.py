"""The strict, lossless input contract: nothing lost, nothing coerced, no poison record.

Each bad record sits between two good ones: the good ones are evaluated, the bad one is rejected
with its line and family, the exit status says so, and no traceback reaches the user.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pbr
from pbr.cli import main
from pbr.io import numbered_from_text, parse_family, read_records

from .builders import record

AS_OF = "2013-07-31"


def good(family_id: str, **fields: Any) -> dict[str, Any]:
    return record(**{"family_id": family_id, "local_discretion": ["x"], **fields})


def sandwich(bad: bytes | str) -> bytes:
    """A good record, the bad line, another good record: JSON Lines bytes."""
    middle = bad.encode() if isinstance(bad, str) else bad
    return b"\n".join([json.dumps(good("G1")).encode(), middle, json.dumps(good("G2")).encode()])


def run(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, list[pbr.Decision], list[dict[str, Any]], str]:
    """Run `pbr evaluate` in-process with --format json and --rejections; parse both outputs."""
    status = main(list(argv))
    captured = capsys.readouterr()
    decisions = [pbr.Decision.model_validate_json(line) for line in captured.out.splitlines()]
    rejections: list[dict[str, Any]] = []
    if "--rejections" in argv:
        target = Path(argv[argv.index("--rejections") + 1])
        rejections = [json.loads(line) for line in target.read_text().splitlines()]
    assert "Traceback" not in captured.err
    return status, decisions, rejections, captured.err


def evaluate_sandwich(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: bytes | str, *extra: str
) -> tuple[int, list[pbr.Decision], list[dict[str, Any]], str]:
    path = tmp_path / "in.jsonl"
    path.write_bytes(sandwich(bad))
    rejected = tmp_path / "rejected.jsonl"
    return run(
        capsys,
        "evaluate",
        str(path),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--rejections",
        str(rejected),
        *extra,
    )


def line_of(change: dict[str, Any], family_id: str = "B1") -> str:
    return json.dumps({**good(family_id), **change})


COERCIONS: dict[str, tuple[dict[str, Any], str, str]] = {
    "unix timestamp date": ({"attached_on": 1370822400}, "attached_on", "date_type"),
    "datetime text for a date": (
        {"attached_on": "2013-05-10T00:00:00Z"},
        "attached_on",
        "date_parsing",
    ),
    "date without leading zeros": ({"attached_on": "2013-5-10"}, "attached_on", "date_parsing"),
    "money with an exponent": (
        {"payments": [{"kind": "attachment_fee", "amount": "24e2"}]},
        "payments.0.amount",
        "money_parsing",
    ),
    "money with a space": (
        {"payments": [{"kind": "attachment_fee", "amount": " 100"}]},
        "payments.0.amount",
        "money_parsing",
    ),
    "money as a whole float": (
        {"payments": [{"kind": "attachment_fee", "amount": 100.0}]},
        "payments.0.amount",
        "money_type",
    ),
    "money of 10^26": (
        {"payments": [{"kind": "attachment_fee", "amount": 10**26}]},
        "payments.0.amount",
        "money_too_large",
    ),
    "money text over the maximum": (
        {"payments": [{"kind": "attachment_fee", "amount": "1000000000000"}]},
        "payments.0.amount",
        "money_too_large",
    ),
    "yes for a flag": (
        {"members": [{"person_id": "A1", "date_of_birth": "1980-01-01", "expectant": "yes"}]},
        "members.0.expectant",
        "bool_type",
    ),
    "1 for a flag": (
        {"members": [{"person_id": "A1", "date_of_birth": "1980-01-01", "expectant": 1}]},
        "members.0.expectant",
        "bool_type",
    ),
    "text for a count": (
        {
            "school_terms": [
                {
                    "person_id": "A1",
                    "academic_year": "2012/13",
                    "term": "autumn",
                    "possible_sessions": "120",
                    "unauthorised_absences": 0,
                }
            ]
        },
        "school_terms.0.possible_sessions",
        "int_type",
    ),
    "float for a count": (
        {
            "school_terms": [
                {
                    "person_id": "A1",
                    "academic_year": "2012/13",
                    "term": "autumn",
                    "possible_sessions": 120.0,
                    "unauthorised_absences": 0,
                }
            ]
        },
        "school_terms.0.possible_sessions",
        "int_type",
    ),
    "a count beyond any term": (
        {
            "school_terms": [
                {
                    "person_id": "A1",
                    "academic_year": "2012/13",
                    "term": "autumn",
                    "possible_sessions": 10**30,
                    "unauthorised_absences": 0,
                }
            ]
        },
        "school_terms.0.possible_sessions",
        "less_than_equal",
    ),
    "birth date 9999-12-31": (
        {"members": [{"person_id": "A1", "date_of_birth": "9999-12-31"}]},
        "members.0.date_of_birth",
        "less_than_equal",
    ),
    "event in year 1": (
        {"offences": [{"person_id": "A1", "date": "0001-01-01"}]},
        "offences.0.date",
        "greater_than_equal",
    ),
    "a number for a family id": ({"family_id": 42}, "family_id", "string_type"),
    "a huge observation": (
        {"observations": [{"indicator": "x", "date": "2013-01-01", "value": "1" * 5000}]},
        "observations.0.value",
        "number_parsing",
    ),
}


@pytest.mark.parametrize("case", list(COERCIONS), ids=list(COERCIONS))
def test_nothing_is_coerced(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    change, loc, error_type = COERCIONS[case]
    status, decisions, rejections, err = evaluate_sandwich(tmp_path, capsys, line_of(change))
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [rejected] = rejections
    assert rejected["line"] == 2
    assert rejected["record"] == 2
    assert rejected["family_id"] in ("B1", None)  # None only when family_id itself is bad
    assert (loc, error_type) in [(e["loc"], e["type"]) for e in rejected["errors"]]
    assert "in.jsonl:2 (record 2)" in err


TERM = (
    '{"family_id": "T1", "attached_on": "2012-10-15", "members": [{"person_id": "A1", '
    '"date_of_birth": "2002-01-01"}], "school_terms": [{"person_id": "A1", '
    '"academic_year": "2012/13", "term": "autumn", "possible_sessions": %s, '
    '"unauthorised_absences": %s}]}'
)


@pytest.mark.parametrize(
    ("written", "field"),
    [
        ("1e400", "possible_sessions"),  # pydantic saw Infinity
        ("-1e400", "possible_sessions"),
        ("12.50", "possible_sessions"),  # pydantic saw 12.5
        ("1E2", "possible_sessions"),  # pydantic saw 100.0
        ("NaN", "possible_sessions"),
        ("1" * 100, "possible_sessions"),  # too large: cut, as every echoed value is
    ],
)
def test_a_rejected_number_is_echoed_as_written(written: str, field: str) -> None:
    rejection = parse_family((TERM % (written, "0")).encode())
    assert isinstance(rejection, pbr.Rejection)
    [error] = [e for e in rejection.errors if e.loc == f"school_terms.0.{field}"]
    expected = written if len(written) <= 80 else written[:79] + "…"
    assert error.value == expected
    assert f"= {expected}:" in rejection.describe()


def test_only_numbers_are_echoed_from_the_text() -> None:
    rejection = parse_family((TERM % ("true", '"7"')).encode())
    assert isinstance(rejection, pbr.Rejection)
    assert [(e.loc.rsplit(".", 1)[-1], e.value) for e in rejection.errors] == [
        ("possible_sessions", "true"),
        ("unauthorised_absences", '"7"'),
    ]


def test_python_inputs_are_as_strict_as_json() -> None:
    accepted = pbr.Family.model_validate(good("P1", attached_on=date(2012, 10, 15)))
    assert accepted.attached_on == date(2012, 10, 15)
    for change in (
        {"attached_on": datetime(2012, 10, 15)},
        {"attached_on": 1350259200},
        {"members": [{"person_id": "A1", "date_of_birth": "1980-01-01", "expectant": 1}]},
        {"payments": [{"kind": "attachment_fee", "amount": 3200.0}]},
    ):
        with pytest.raises(pydantic_validation_error()):
            pbr.Family.model_validate(good("P2", **change))


@pytest.mark.parametrize("workers", [1, 2])
def test_no_python_item_stops_evaluate_many(workers: int) -> None:
    """Whatever a caller's iterable holds, each item is a decision or a rejection, in order.

    A number too long for Python to write as text (over 4,300 digits), an item that is no
    mapping, one a pool cannot pickle (a ``memoryview``; a mapping proxy; a dict holding an open
    file): each once stopped the whole batch with a traceback.
    """
    import types

    huge = good("H1")
    huge["school_terms"] = [{"person_id": "C1", "academic_year": "2012/13", "term": "autumn",
                             "possible_sessions": 10**5000, "unauthorised_absences": 0}]  # fmt: skip
    with open(__file__, encoding="utf-8") as handle:
        holding_a_file = {**good("F1"), "note": handle}
        items: list[Any] = [good("G1"), huge, None, 42, [1], bytearray(b"{}"),
                            memoryview(b"{}"), types.MappingProxyType(good("M1")),
                            holding_a_file, good("G2")]  # fmt: skip
        out = list(pbr.evaluate_many(items, as_of=date(2013, 7, 31), workers=workers))
    assert [type(x).__name__ for x in out] == ["Decision", *["Rejection"] * 6, "Decision",
                                               "Rejection", "Decision"]  # fmt: skip
    assert [x.record for x in out if isinstance(x, pbr.Rejection)] == [2, 3, 4, 5, 6, 7, 9]
    first = out[1]
    assert isinstance(first, pbr.Rejection)
    assert (first.family_id, first.errors[0].loc) == ("H1", "school_terms.0.possible_sessions")
    assert first.errors[0].value == "a whole number of about 5,001 digits"
    assert isinstance(out[2], pbr.Rejection)
    assert "a valid dictionary" in out[2].describe()


@pytest.mark.parametrize("workers", [0, -1])
def test_workers_below_one_are_refused_when_called(workers: int) -> None:
    from pbr.batch import evaluate_many_json

    with pytest.raises(ValueError, match="1 or more"):
        pbr.evaluate_many([], as_of=date(2013, 7, 31), workers=workers)
    with pytest.raises(ValueError, match="1 or more"):
        evaluate_many_json([], as_of=date(2013, 7, 31), workers=workers)


def pydantic_validation_error() -> type[Exception]:
    from pydantic import ValidationError

    return ValidationError


def test_deep_nesting_rejects_one_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = '{"family_id": "B1", "members": ' + "[" * 100_000 + "]" * 100_000 + "}"
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, deep)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert rejections[0]["family_id"] == "B1"
    assert rejections[0]["errors"][0]["type"] == "json_invalid"


def test_deep_nesting_in_an_array_rejects_one_record() -> None:
    deep = '{"family_id": "B1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    text = "[" + json.dumps(good("G1")) + ", " + deep + ", " + json.dumps(good("G2")) + "]"
    kinds = [(type(i).__name__, i.family_id) for i in read_records_text(text)]
    assert kinds == [("Family", "G1"), ("Rejection", "B1"), ("Family", "G2")]


def read_records_text(text: str) -> list[pbr.Family | pbr.Rejection]:
    return [item for _, _, item in numbered_from_text(text)]


def test_a_bad_byte_rejects_its_line_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = b'{"family_id": "B1", "local_authority": "Caf\xe9"}'
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, bad)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert rejections[0]["line"] == 2
    assert rejections[0]["family_id"] == "B1"
    assert rejections[0]["errors"][0]["type"] == "invalid_utf8"


def test_a_bad_byte_with_two_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = b'{"family_id": "B1", "local_authority": "\xff"}'
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, bad, "--workers", "2")
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert (rejections[0]["line"], rejections[0]["errors"][0]["type"]) == (2, "invalid_utf8")


def test_a_bad_byte_in_an_array_rejects_its_record() -> None:
    data = (
        b"[" + json.dumps(good("G1")).encode() + b",\n"
        b'{"family_id": "B1", "local_authority": "\xff"},\n'
        + json.dumps(good("G2")).encode()
        + b"]"
    )
    items = list(numbered_from_text(data))
    assert [(line, type(i).__name__) for line, _, i in items] == [
        (1, "Family"),
        (2, "Rejection"),
        (3, "Family"),
    ]


def test_a_byte_order_mark_loses_nothing(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    lines = tmp_path / "bom.jsonl"
    lines.write_bytes(
        bom + json.dumps(good("G1")).encode() + b"\r\n" + json.dumps(good("G2")).encode()
    )
    assert [f.family_id for f in read_records(lines)] == ["G1", "G2"]
    array = tmp_path / "bom.json"
    array.write_bytes(bom + json.dumps([good("G1"), good("G2")]).encode())
    assert [f.family_id for f in read_records(array)] == ["G1", "G2"]


def test_a_duplicate_key_is_a_rejection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twice = json.dumps(good("B1"))[:-1] + ', "family_id": "B2"}'
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, twice)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert [(e["loc"], e["type"]) for e in rejections[0]["errors"]] == [
        ("family_id", "duplicate_key")
    ]
    assert rejections[0]["family_id"] is None  # neither B1 nor B2: which one is not known
    other = json.dumps(good("B1"))[:-1] + ', "attached_on": "2013-13-01"}'
    status, _, rejections, _ = evaluate_sandwich(tmp_path, capsys, other)
    assert rejections[0]["family_id"] == "B1"
    both = json.dumps(good("B1"))[:-1] + ', "family_id": "B2", "attached_on": "2013-13-01"}'
    status, _, rejections, _ = evaluate_sandwich(tmp_path, capsys, both)
    assert rejections[0]["family_id"] is None


def test_a_duplicate_key_shows_its_path_and_values_alike_on_every_path(tmp_path: Path) -> None:
    """Its value was the key itself (``"person_id"``): now the values given, on every path."""
    from pydantic import ValidationError

    text = json.dumps(good("B1")).replace('"person_id": "A1"', '"person_id": "A1", "person_id": "A2"', 1)  # fmt: skip
    why = (
        "the key members.0.person_id is given twice in one object; JSON readers disagree on "
        "which value counts, so pbr uses neither"
    )
    (tmp_path / "f.jsonl").write_text(text + "\n", encoding="utf-8")
    found = [
        parse_family(text),
        *read_records(tmp_path / "f.jsonl"),
        *pbr.evaluate_many([text.encode()], as_of=date(2013, 7, 31)),
        *list(pbr.evaluate_many([text.encode()] * 2, as_of=date(2013, 7, 31), workers=2))[:1],
    ]
    with pytest.raises(ValidationError) as caught:
        pbr.Family.model_validate_json(text)
    found.append(
        pbr.Rejection.from_validation_error(
            caught.value, source="<input>", line=1, record=1, family_id="B1"
        )
    )
    for rejection in found:
        assert isinstance(rejection, pbr.Rejection)
        assert [(e.loc, e.type, e.value, e.message) for e in rejection.errors] == [
            ("members.0.person_id", "duplicate_key", '["A1", "A2"]', why)
        ]


@pytest.mark.parametrize(
    "text",
    [
        '{"family_id": "B1", "family_id": "B1"}',
        '{"family_id": "B1", "members": [{"person_id": "A1", "person_id": "A2"}]}',
        '{"family_id" : "B1", "family_id": "B2"}',
        '{"family_id": "B1", "local_authority": "say \\"x\\": y", "local_authority": "z"}',
    ],
)
def test_duplicate_keys_are_found_wherever_they_are(text: str) -> None:
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert "duplicate_key" in [e.type for e in rejection.errors]


@given(space=st.text(alphabet=" \t\n\r", max_size=4), where=st.sampled_from(["top", "member"]))
def test_a_duplicate_key_is_found_whatever_white_space_precedes_its_colon(
    space: str, where: str
) -> None:
    # the fast check counts '":' once; a key spaced from its colon must not slip past it
    record = good("G1")
    text = json.dumps(record)
    if where == "top":
        text = text.replace('"family_id": "G1"', f'"family_id": "G1", "family_id"{space}: "G2"', 1)
    else:
        text = text.replace('"person_id": ', f'"person_id"{space}: "X9", "person_id": ', 1)
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert "duplicate_key" in [e.type for e in rejection.errors]


def test_no_false_duplicate_from_text_that_looks_like_a_key() -> None:
    looks = good("G1", local_authority='a "b": c', local_discretion=['"x":'])
    assert isinstance(parse_family(json.dumps(looks)), pbr.Family)
    spaced = json.dumps(good("G1"), separators=(", ", " : "))
    assert isinstance(parse_family(spaced), pbr.Family)


def test_an_empty_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, content in (
        ("empty.jsonl", b""),
        ("blank.jsonl", b"\n \n"),
        ("bom.json", b"\xef\xbb\xbf"),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        status = main(["evaluate", str(path), "--as-of", AS_OF])
        err = capsys.readouterr().err
        assert status == 2
        assert f"pbr: no records in {path}" in err


def test_a_missing_field_reads_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = good("B1", offences=[{"person_id": "A1", "date": "2012-01-01"}] * 50)
    del missing["attached_on"]
    status, _, rejections, err = evaluate_sandwich(tmp_path, capsys, json.dumps(missing))
    assert status == 1
    [error] = rejections[0]["errors"]
    assert (error["loc"], error["type"], error["value"]) == ("attached_on", "missing", None)
    assert "family 'B1': attached_on: missing" in err
    assert "offences" not in err  # never the whole record


def test_a_huge_record_is_rejected_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = good("B1", local_discretion=["x" * 60] * 100_000)  # about 6.4 MB
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, json.dumps(huge))
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert rejections[0]["errors"][0]["type"] == "record_too_large"
    assert rejections[0]["family_id"] == "B1"
    assert rejections[0]["line"] == 2


def test_the_record_size_limit_can_be_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = good("B1", local_discretion=["x" * 60] * 100)
    _, decisions, rejections, _ = evaluate_sandwich(
        tmp_path, capsys, json.dumps(big), "--max-record-bytes", "2000"
    )
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert rejections[0]["errors"][0]["type"] == "record_too_large"


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "2012-03-31", "2013-02-30", "x"])
def test_an_as_of_out_of_range_is_a_usage_error(
    as_of: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(sandwich(json.dumps(good("B1"))))
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", str(path), "--as-of", as_of])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--as-of" in err
    assert len(err.strip().splitlines()) == 1


def test_the_api_checks_as_of_up_front() -> None:
    family = pbr.Family.model_validate(good("G1"))
    for wrong in (datetime(2015, 3, 31), "2015-03-31"):
        with pytest.raises(TypeError, match=r"as_of must be a datetime\.date"):
            pbr.evaluate(family, as_of=wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"as_of must be a datetime\.date"):
            next(iter(pbr.evaluate_many([family], as_of=wrong)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2012-04-01 to 2099-12-31"):
        pbr.evaluate(family, as_of=date(9999, 12, 31))
    with pytest.raises(TypeError):
        pbr.evaluate_many([family], date(2015, 3, 31))  # type: ignore[call-arg]


def test_a_closed_pipe_is_not_the_rejection_code(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    # enough families for many writes (some systems take a whole write into the pipe), and
    # one repeated family, so that the run would otherwise end with the rejection code
    records = [json.loads(line) for line in examples.read_text().splitlines() if line.strip()]
    many = tmp_path / "many.jsonl"
    with many.open("w") as out:
        for copy in range(40):
            for record in records:
                out.write(json.dumps({**record, "family_id": f"{record['family_id']}-{copy}"}))
                out.write("\n")
        out.write(json.dumps(records[0]) + "\n" + json.dumps(records[0]) + "\n")
    result = subprocess.run(
        [
            "bash",
            "-c",
            f"{sys.executable} -m pbr.cli evaluate {many} --as-of 2015-03-31 "
            "--format json | head -c 100 > /dev/null; echo ${PIPESTATUS[0]}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "141"
    assert result.stderr == ""


def test_every_record_is_a_decision_or_a_rejection_in_the_output_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [json.dumps(good(f"G{i}")) for i in range(5)]
    rows[1] = "{broken"
    rows[3] = json.dumps(good("B3", attached_on="2013-02-30"))
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(rows) + "\n")
    out, rejected = tmp_path / "out.jsonl", tmp_path / "rejected.jsonl"
    status = main(
        [
            "evaluate",
            str(path),
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--output",
            str(out),
            "--rejections",
            str(rejected),
        ]
    )
    capsys.readouterr()
    assert status == 1
    decided = [json.loads(line)["family_id"] for line in out.read_text().splitlines()]
    refused = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert decided == ["G0", "G2", "G4"]
    assert [(r["line"], r["family_id"]) for r in refused] == [(2, None), (4, "B3")]
    assert json.loads(out.read_text().splitlines()[0])["format_version"] == "1.0"


def test_rejections_from_tables_include_rows_without_a_family(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "families.csv").write_text(
        "family_id,attached_on,identified_for,local_discretion,local_authority,programme\n"
        "G1,2012-10-15,crime_asb;education;work,x,,\n"
        "B1,2012-10-15,crime_asb;education;work,x,,\n"
    )
    (folder / "members.csv").write_text(
        "family_id,person_id,date_of_birth,expectant\n"
        "G1,A1,1980-01-01,FALSE\n"
        "B1,A1,1980-01-01,yes\n"
        "NOBODY,A1,1980-01-01,false\n"
    )
    (folder / "school_terms.csv").write_text(
        "family_id,person_id,academic_year,term,possible_sessions,unauthorised_absences,"
        "fixed_term_exclusions,permanently_excluded,alternative_provision,on_roll\n"
        "G1,A1,2012/13,autumn,120,0,,,,\n"
        "B1,A1,2012/13,autumn,12.5,0,,,,\n"
    )
    rejected = tmp_path / "rejected.jsonl"
    status = main(
        [
            "evaluate",
            str(folder),
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--rejections",
            str(rejected),
        ]
    )
    capsys.readouterr()
    assert status == 1
    refused = [json.loads(line) for line in rejected.read_text().splitlines()]
    by_family = {r["family_id"]: r for r in refused}
    assert set(by_family) == {"B1", "NOBODY"}
    assert {e["loc"] for e in by_family["B1"]["errors"]} == {
        "members:3.expectant",
        "school_terms:3.possible_sessions",
    }
    assert by_family["NOBODY"]["errors"][0]["loc"] == "members:4.family_id"


def test_explain_on_a_poisoned_file_finds_the_family(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(sandwich(b'{"family_id": "B1", "x": "\xff' + b"[" * 5000 + b'"}'))
    assert main(["explain", str(path), "G2", "--as-of", AS_OF]) == 0
    assert main(["explain", str(path), "B1", "--as-of", AS_OF]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_poisoned_workbook_rejects_only_its_families(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    families = book.active
    families.title = "families"
    families.append(["family_id", "attached_on", "identified_for", "local_discretion"])
    families["E1"], families["F1"] = "local_authority", "programme"  # every column named
    for family_id in ("G1", "B1", "B2", "B3", "G2"):
        families.append([family_id, datetime(2012, 10, 15), "crime_asb;education;work", "x"])
    members = book.create_sheet("members")
    members.append(["family_id", "person_id", "date_of_birth", "expectant"])
    members.append(["G1", "A1", datetime(1980, 1, 1)])
    members.append(["B1", "A1", datetime(9999, 12, 31)])  # a date beyond any rule
    members.append(["B2", "A1", datetime(1980, 1, 1, 13, 30)])  # a time of day would be lost
    members.append(["B3", "A1", datetime(1980, 1, 1)])
    members.append(["G2", "A1", datetime(1980, 1, 1)])
    terms = book.create_sheet("school_terms")
    terms.append(
        [
            "family_id",
            "person_id",
            "academic_year",
            "term",
            "possible_sessions",
            "unauthorised_absences",
            "on_roll",
            "fixed_term_exclusions",
            "permanently_excluded",
            "alternative_provision",
        ]
    )
    terms.append(["G1", "A1", "2012/13", "autumn", 120, 0, True])
    terms.append(["B3", "A1", "2012/13", "autumn", 1e300, 0, 1])  # a huge float, a number flag
    path = tmp_path / "poison.xlsx"
    book.save(path)
    rejected = tmp_path / "rejected.jsonl"
    status, decisions, rejections, _ = run(
        capsys,
        "evaluate",
        str(path),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--rejections",
        str(rejected),
    )
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert {r["family_id"]: {e["loc"] for e in r["errors"]} for r in rejections} == {
        "B1": {"members:3.date_of_birth"},
        "B2": {"members:4.date_of_birth"},
        "B3": {"school_terms:3.possible_sessions", "school_terms:3.on_roll"},
    }


def test_a_poisoned_plan_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_bytes(sandwich(json.dumps(good("B1"))))
    plans: dict[str, str] = {
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "huge.json": json.dumps(
            {
                "id": "p",
                "version": "1",
                "programme": "tf-phase-2",
                "outcomes": [
                    {
                        "problem": "health",
                        "measures": [
                            {
                                "id": "m",
                                "indicator": "x",
                                "comparison": "==",
                                "threshold": 10**40,
                                "sustain_days": 6.0,
                            }
                        ],
                    }
                ],
            }
        ),
        "bytes.toml": 'id = "\udcff"',
    }
    for name, content in plans.items():
        plan = tmp_path / name
        plan.write_bytes(content.encode("utf-8", errors="surrogateescape"))
        status = main(["evaluate", str(records), "--as-of", AS_OF, "--plan", str(plan)])
        err = capsys.readouterr().err
        assert status == 2, name
        assert err.startswith(f"pbr: {plan}"), err
        assert "Traceback" not in err
        assert len(err) < 1000, err


def test_forecast_records_reads_a_poisoned_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(sandwich(b'{"family_id": "B1", "attached_on": 1370822400, "x": "\xff"}'))
    status = main(["forecast", "--records", str(path), "--estimated", "10", "--as-of", AS_OF])
    err = capsys.readouterr().err
    assert status == 1
    assert "in.jsonl:2" in err
    assert "Traceback" not in err


def test_a_poisoned_claim_file_rejects_its_rows_only(tmp_path: Path) -> None:
    from pbr.audit import read_claims

    claims = tmp_path / "claims.csv"
    claims.write_bytes(
        b"claim_id,family_id,kind,amount,claimed_on\n"
        b"C1,EX-001,attachment_fee,3200.00,2013-01-01\n"
        b"C2,EX-002,attachment_fee,1e30,2013-01-01\n"
        b"C3,EX-003,attachment_fee,\xff,2013-01-01\n"
        b"C4,EX-004,attachment_fee,1600.00,9999-12-31\n"
        b"C5,EX-005,attachment_fee,1600.00,2013-01-01\n"
    )
    read, refused = read_claims(claims)
    assert [c.claim_id for c in read] == ["C1", "C5"]
    assert [(r.row, r.field) for r in refused] == [
        (3, "amount"),
        (4, "amount"),
        (5, "claimed_on"),
    ]
    assert "UTF-8" in refused[1].message


def test_a_poisoned_decisions_file_is_replayed_line_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    families = tmp_path / "families.jsonl"
    families.write_text(json.dumps(good("G1")) + "\n")
    decisions = tmp_path / "decisions.jsonl"
    assert (
        main(
            [
                "evaluate",
                str(families),
                "--as-of",
                AS_OF,
                "--format",
                "json",
                "--output",
                str(decisions),
            ]
        )
        == 0
    )
    good_line = decisions.read_bytes()
    decisions.write_bytes(good_line + b"\xff\xfe\n" + b"[" * 5000 + b"]" * 5000 + b"\n" + good_line)
    capsys.readouterr()
    status = main(["replay", str(decisions), "--families", str(families)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "decisions.jsonl:2: not a decision" in out
    assert "decisions.jsonl:3: not a decision" in out
    assert "decisions.jsonl:4: G1: decided again for 2013-07-31 (first at line 1)" in out
    assert "replayed 4: 1 identical, 1 different, 2 not replayable" in out
    assert "Traceback" not in err


def test_a_poisoned_ledger_import_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = b"family_id,kind,amount,paid_on,claim_id,rules_version\n"
    row = b"EX-001,attachment_fee,3200.00,2012-11-01,C1,tf-phase-1/1.0\n"
    for bad in (
        b"EX-002,attachment_fee,\xff,2012-11-01,C2,tf-phase-1/1.0\n",
        b"EX-002,attachment_fee,1600.00,9999-12-31,C2,tf-phase-1/1.0\n",
        b"EX-002,attachment_fee,1e30,2012-11-01,C2,tf-phase-1/1.0\n",
    ):
        source = tmp_path / "in.csv"
        source.write_bytes(head + row + bad)
        ledger = tmp_path / "l.db"
        ledger.unlink(missing_ok=True)
        status = main(["ledger", "import", str(ledger), str(source)])
        err = capsys.readouterr().err
        assert status == 2, err
        assert err.startswith(f"pbr: {source}: line 3: ")
        assert len(err.strip().splitlines()) == 1


def test_one_bad_member_is_reported_once_not_also_as_an_empty_list() -> None:
    rejection = parse_family(
        '{"family_id": "F1", "attached_on": "2013-01-07", '
        '"members": [{"person_id": "A1", "date_of_birth": "9999-12-31"}]}'
    )
    assert isinstance(rejection, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejection.errors] == [
        ("members.0.date_of_birth", "less_than_equal")
    ]
    empty = parse_family('{"family_id": "F1", "attached_on": "2013-01-07", "members": []}')
    assert isinstance(empty, pbr.Rejection)
    assert [(e.loc, e.type) for e in empty.errors] == [("members", "too_short")]


@pytest.mark.parametrize("space", [b"  ", b" \t", b"\n\n ", b"\r\n"])
def test_a_key_given_twice_is_refused_whatever_the_space_before_its_colon(space: bytes) -> None:
    record = (
        b'{"family_id": "F1", "attached_on": "2013-01-07", "members": [{"person_id"'
        + space
        + b': "A1", "date_of_birth": "1980-01-01", "person_id": "A1"}]}'
    )
    rejection = parse_family(record)
    assert isinstance(rejection, pbr.Rejection)
    assert [e.loc for e in rejection.errors] == ["members.0.person_id"]
    assert rejection.errors[0].type == "duplicate_key"


@pytest.mark.parametrize("after", ['], "payments": []}', ' {"family_id": "G2"}', " x"])
def test_text_after_a_one_line_record_rejects_that_line_alone(after: str) -> None:
    # the first line's object ends on that line: JSON Lines with a broken first record, one
    # line one record, never a family evaluated from a line that carries junk after it
    line = json.dumps(good("G1")) + after
    items = list(numbered_from_text(line + "\n" if after == " x" else line))
    assert [(n, r) for n, r, _ in items] == [(1, 1)]
    assert isinstance(items[0][2], pbr.Rejection)
    spread = json.dumps(good("G1"), indent=2)  # one object over many lines is still one record
    assert [type(x).__name__ for _, _, x in numbered_from_text(spread)] == ["Family"]


def test_a_json_array_cut_short_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an export cut off after a whole record: every record read is decided, and the missing
    # ']' is a rejection, so the run cannot look complete (exit 1)
    path = tmp_path / "cut.json"
    path.write_text("[\n" + json.dumps(good("G1")) + ",\n" + json.dumps(good("G2")) + "\n")
    code = main(["evaluate", str(path), "--as-of", "2015-03-31", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert [json.loads(x)["family_id"] for x in out.splitlines()] == ["G1", "G2"]
    assert "cut.json:3 (record 3)" in err
    assert "JSON array is not closed" in err
    closed = tmp_path / "whole.json"
    closed.write_text("[" + json.dumps(good("G1")) + "]")
    assert main(["evaluate", str(closed), "--as-of", "2015-03-31", "--format", "json"]) == 0


@pytest.mark.parametrize("first", ["[\x00family_id", '["G0", ', "[{"])
def test_a_broken_first_line_opening_a_bracket_loses_no_later_line(first: str) -> None:
    # found by the fuzz run: a JSON Lines file whose first line opens '[' but is not JSON was
    # read as one broken JSON array, and every later line was lost with it
    text = first + "\n" + json.dumps(good("G1")) + "\n" + json.dumps(good("G2")) + "\n"
    items = list(numbered_from_text(text))
    assert [(n, type(x).__name__) for n, _, x in items] == [
        (1, "Rejection"),
        (2, "Family"),
        (3, "Family"),
    ]
    # an array whose records sit one a line is still read as an array
    array = "[\n" + json.dumps(good("G1")) + ",\n" + json.dumps(good("G2")) + "\n]\n"
    assert [type(x).__name__ for _, _, x in numbered_from_text(array)] == ["Family", "Family"]
    single = "[\n" + json.dumps(good("G1")) + "\n]\n"
    assert [type(x).__name__ for _, _, x in numbered_from_text(single)] == ["Family"]


def test_braces_in_a_message_are_shown_as_they_are() -> None:
    # pydantic-core does not read a custom message as a template when it has no context, so the
    # braces once doubled "to escape them" were shown doubled (and quadrupled when re-raised)
    bad_money = good("F1") | {"payments": [{"kind": "attachment_fee", "amount": "{x}"}]}
    rejection = parse_family(json.dumps(bad_money))
    assert isinstance(rejection, pbr.Rejection)
    assert rejection.errors[0].message.endswith("got '{x}'")
    bad_id = parse_family(json.dumps(good("=HYPERLINK(1)")))
    assert isinstance(bad_id, pbr.Rejection)
    assert "{1,64}" in bad_id.errors[0].message
    assert "{{" not in bad_id.errors[0].message


def test_a_number_too_long_to_read_is_named_at_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over 4,300 digits the JSON reader stops at the record; the rejection names each field."""
    bad = good("B1")
    bad["school_terms"] = [
        {
            "person_id": "C1",
            "academic_year": "2011/12",
            "term": "autumn",
            "possible_sessions": 0,
            "unauthorised_absences": 0,
        }
    ]
    bad["members"] = [*bad["members"], {"person_id": "C1", "date_of_birth": "2004-05-06"}]
    text = json.dumps(bad).replace('"possible_sessions": 0', '"possible_sessions": 1' + "0" * 5000)
    text = text.replace('"unauthorised_absences": 0', '"unauthorised_absences": -' + "9" * 4400)
    status, decisions, rejections, err = evaluate_sandwich(tmp_path, capsys, text)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [rejection] = rejections
    assert rejection["family_id"] == "B1"
    assert [(e["loc"], e["type"]) for e in rejection["errors"]] == [
        ("school_terms.0.possible_sessions", "number_too_long"),
        ("school_terms.0.unauthorised_absences", "number_too_long"),
    ]
    assert rejection["errors"][0]["message"].startswith("a number of 5,001 digits")
    assert rejection["errors"][1]["message"].startswith("a number of 4,400 digits")
    assert len(rejection["errors"][0]["value"]) < 100  # shown cut, never the whole number
    assert "school_terms.0.possible_sessions" in err


def test_a_number_too_long_to_read_hides_none_of_the_record_s_other_errors() -> None:
    """The record's other errors are found too, and the number is shown as a number."""
    text = json.dumps(good("B1", attached_on="2012-13-15", local_authority="9" * 5000))
    text = text[:-1] + ', "extra": ' + "9" * 4301 + "}"
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    found = {(e.loc, e.type): e.value for e in rejection.errors}
    assert (rejection.errors[0].loc, rejection.errors[0].type) == ("extra", "number_too_long")
    assert set(found) == {
        ("extra", "number_too_long"),
        ("attached_on", "date_parsing"),
        ("local_authority", "string_too_long"),
        ("extra", "extra_forbidden"),
    }
    assert str(found["extra", "number_too_long"]).startswith("999")  # a number, not text
    assert found["extra", "extra_forbidden"] == found["extra", "number_too_long"]  # never "0"
    assert str(found["local_authority", "string_too_long"]).startswith('"999')  # text


def test_a_number_too_long_to_read_is_compared_with_nothing() -> None:
    """Read as 0 to find the other errors, it once made "absences 30 exceed possible sessions 0"."""
    bad = good("B1")
    bad["members"] = [*bad["members"], {"person_id": "C1", "date_of_birth": "2004-05-06"}]
    term = {"person_id": "C1", "academic_year": "2011/12", "possible_sessions": 140}
    bad["school_terms"] = [
        {**term, "term": "autumn", "unauthorised_absences": 30},
        {**term, "term": "spring", "possible_sessions": 20, "unauthorised_absences": 30},
    ]
    text = json.dumps(bad).replace(
        '"possible_sessions": 140', '"possible_sessions": 1' + "0" * 5000
    )
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejection.errors] == [
        ("school_terms.0.possible_sessions", "number_too_long"),
        # beside a term whose numbers were all read, the comparison is still made
        ("school_terms.1.unauthorised_absences", "absences_exceed_sessions"),
    ]


def test_a_number_the_reader_takes_is_left_to_the_fields_own_checks() -> None:
    """4,300 digits is read: the field's own rule (a bounded count) rejects it, as before."""
    text = json.dumps(good("B1")).replace(
        '"family_id"', '"expectant": 1' + "0" * 4299 + ', "family_id"'
    )
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert all(e.type != "number_too_long" for e in rejection.errors)


def _with_number(field: str, number: str) -> str:
    """A record with `number` written as a term's absences or as a payment's amount."""
    if field == "count":
        bad = good("B1")
        bad["members"] = [*bad["members"], {"person_id": "C1", "date_of_birth": "2004-05-06"}]
        bad["school_terms"] = [
            {
                "person_id": "C1",
                "academic_year": "2012/13",
                "term": "autumn",
                "possible_sessions": 5,
                "unauthorised_absences": 0,
            }
        ]
        return json.dumps(bad).replace(
            '"unauthorised_absences": 0', f'"unauthorised_absences": {number}'
        )
    bad = good("B1", payments=[{"kind": "attachment_fee", "amount": 1}])
    return json.dumps(bad).replace('"amount": 1', f'"amount": {number}')


@pytest.mark.parametrize("field", ["count", "amount"])
@pytest.mark.parametrize("sign", ["", "-"])
@pytest.mark.parametrize("digits", [4299, 4300, 4301])
def test_a_number_at_the_json_reader_s_limit_gets_one_error_at_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, sign: str, digits: int
) -> None:
    """The reader takes 4,300 characters, a minus sign counted: "-" and 4,300 digits was named
    too long "(4,300 digits, longer than 4,300)" and then the whole record was json_invalid."""
    text = _with_number(field, sign + "9" * digits)
    where = "school_terms.0.unauthorised_absences" if field == "count" else "payments.0.amount"
    from pbr.io import _reader_counts_the_sign, readable_number

    counted = _reader_counts_the_sign()  # pydantic-core 2.46 counts the sign, 2.50 does not
    unread = not readable_number(sign + "9" * digits)
    assert unread is (digits + (len(sign) if counted else 0) > 4300)
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    [error] = rejection.errors
    assert error.loc == where
    assert (error.type == "number_too_long") is unread
    if unread:
        assert error.message.startswith(f"a number of {digits:,} digits")
        assert ("digits and a minus sign" in error.message) is (sign == "-" and counted)
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as raised:
        pbr.Family.model_validate_json(text)
    assert [(".".join(map(str, e["loc"])), e["type"]) for e in raised.value.errors()] == [
        (where, error.type)
    ]
    status, decisions, rejections, err = evaluate_sandwich(tmp_path, capsys, text)
    assert status == 1
    assert "Invalid JSON" not in err
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert [[(e["loc"], e["type"], e["message"]) for e in r["errors"]] for r in rejections] == [
        [(where, error.type, error.message)]
    ]
    path = tmp_path / "alone.jsonl"
    path.write_text(text + "\n")
    [read] = read_records(path)
    assert isinstance(read, pbr.Rejection)
    assert read.errors == rejection.errors


def test_a_long_fraction_beside_a_number_too_long_keeps_its_own_error() -> None:
    """The reader takes a fraction of any length; it was read as 0 beside a number too long."""
    fraction = "1." + "5" * 5000
    alone = parse_family(_with_number("amount", fraction))
    assert isinstance(alone, pbr.Rejection)
    [own] = alone.errors
    text = _with_number("amount", fraction).replace(
        '"date_of_birth": "1980-01-01"',
        '"date_of_birth": "1980-01-01", "expectant": 1' + "0" * 5000,
    )
    rejection = parse_family(text)
    assert isinstance(rejection, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejection.errors] == [
        ("members.0.expectant", "number_too_long"),
        (own.loc, own.type),
    ]


def test_a_long_family_id_is_cut_where_it_names_the_family() -> None:
    """A 100,000-character family_id made a 100 KB line on stderr; its value is cut already."""
    record = {"family_id": "F" * 100_000, "attached_on": "2013-02-30"}
    for item in (record, json.dumps(record)):
        (rejection,) = pbr.evaluate_many([item], as_of=date(2013, 7, 31), workers=1)
        assert isinstance(rejection, pbr.Rejection)
        assert rejection.family_id == "F" * 100_000  # the field keeps it whole
        lines = rejection.describe().splitlines()
        assert all(f"family '{'F' * 64}…': " in line and len(line) < 400 for line in lines)
    with pytest.raises(pydantic_validation_error()) as raised:
        pbr.Family.model_validate({**good("X"), "family_id": "F" * 1000, "members": []})
    assert f"family '{'F' * 64}…': " in str(raised.value)


# --- found by a differential fuzzer: the readers and the model agree -----------------------------


@pytest.mark.parametrize("written", ["1350000000", "0", "-0", "00", "1350000000000"])
def test_digits_alone_are_not_a_date_on_any_path(written: str) -> None:
    """pydantic reads digits as a Unix time; a record's dates are days, written as days."""
    fields = good("F1", attached_on=written)
    line = json.dumps(fields).encode()
    paths: list[Any] = [
        parse_family(line),
        *pbr.evaluate_many([line], as_of=date(2013, 7, 31), workers=1),
        *read_records_of(line),
    ]
    for answer in paths:
        assert isinstance(answer, pbr.Rejection)
        (error,) = answer.errors
        assert (error.loc, error.type) == ("attached_on", "date_parsing")
        assert "not a number" in error.message
    with pytest.raises(ValueError, match="not a number") as from_json:
        pbr.Family.model_validate_json(line)
    with pytest.raises(ValueError, match="not a number") as from_python:
        pbr.Family.model_validate(fields)
    for caught in (from_json, from_python):
        assert caught.value.errors()[0]["type"] == "date_parsing"  # type: ignore[attr-defined]


def read_records_of(line: bytes) -> list[pbr.Family | pbr.Rejection]:
    from pbr.io import records_from_text

    return list(records_from_text(line))


def test_a_bad_date_is_the_same_error_from_python_as_from_json() -> None:
    fields = good("F1", attached_on="2012-5-10")
    with pytest.raises(ValueError, match="valid date in the format YYYY-MM-DD") as from_json:
        pbr.Family.model_validate_json(json.dumps(fields))
    with pytest.raises(ValueError, match="valid date in the format YYYY-MM-DD") as from_python:
        pbr.Family.model_validate(fields)
    errors = [
        [(e["type"], e["msg"]) for e in caught.value.errors()]  # type: ignore[attr-defined]
        for caught in (from_json, from_python)
    ]
    assert errors[0] == errors[1]
    assert errors[0][0][0] == "date_parsing"


def test_a_lone_surrogate_in_a_python_string_is_a_rejection_not_an_exception() -> None:
    text = json.dumps(good("F1", local_authority="LA")).replace('"LA"', '"\ud800"')
    assert "\ud800" in text
    for workers in (1, 2):
        answers = list(
            pbr.evaluate_many(
                [text, json.dumps(good("F2"))], as_of=date(2013, 7, 31), workers=workers
            )
        )
        assert [type(a).__name__ for a in answers] == ["Rejection", "Decision"]
        assert answers[0].errors[0].type == "invalid_utf8"  # type: ignore[union-attr]
    assert isinstance(parse_family(text), pbr.Rejection)
    with pytest.raises(ValueError, match="Invalid JSON"):
        pbr.Family.model_validate_json(text)


def test_model_validate_json_reports_a_key_given_twice_beside_the_other_errors() -> None:
    """As the readers do: the key first, and no family named when family_id is the key."""
    line = (
        b'{"family_id":"F1","family_id":"F2","attached_on":"2012-13-01",'
        b'"members":[{"person_id":"A1","date_of_birth":"1979-04-02"}]}'
    )
    with pytest.raises(ValueError, match="duplicate_key") as caught:
        pbr.Family.model_validate_json(line)
    errors = caught.value.errors()  # type: ignore[attr-defined]
    assert [(e["loc"], e["type"]) for e in errors] == [
        (("family_id",), "duplicate_key"),
        (("attached_on",), "date_parsing"),
    ]
    assert all(e["msg"].startswith("family (no family_id): ") for e in errors)
    rejection = parse_family(line)
    assert isinstance(rejection, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejection.errors] == [
        ("family_id", "duplicate_key"),
        ("attached_on", "date_parsing"),
    ]


def padded(size: int, family_id: str = "F1") -> bytes:
    """A valid record of exactly `size` bytes (spaces after its first comma)."""
    text = json.dumps(good(family_id), separators=(",", ":"))
    return text.replace(",", "," + " " * (size - len(text)), 1).encode()


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b""])
def test_a_record_s_size_leaves_out_its_line_end_on_every_path(end: bytes, tmp_path: Path) -> None:
    """A record of exactly the limit is read, one byte more is not, whatever ends its line."""
    from pbr.serve._batch import _Lines

    for size, taken in ((1000, True), (1001, False)):
        line = padded(size) + end
        answers = [
            parse_family(line, max_record_bytes=1000),
            *pbr.evaluate_many([line], as_of=date(2013, 7, 31), max_record_bytes=1000),
        ]
        path = tmp_path / "f.jsonl"
        path.write_bytes(padded(300, "F0") + b"\n" + line)
        answers += list(read_records(path, max_record_bytes=1000))[1:]
        for answer in answers:
            if taken:
                assert isinstance(answer, pbr.Family | pbr.Decision), answer
            else:
                assert isinstance(answer, pbr.Rejection)
                assert answer.errors[0].type == "record_too_large"
                assert "1,001 bytes" in answer.errors[0].message
        (found,) = _Lines(1000).feed(line, final=True)
        assert isinstance(found[1], bytes) is taken


OVER_THE_MAXIMUM = [
    {"kind": "attachment_fee", "amount": "999999999999.99"},
    {"kind": "progress_to_work", "amount": "0.01"},
]
"""Payments each within the maximum amount, adding up to a penny more than it."""


def test_payments_adding_up_beyond_the_maximum_are_a_rejection_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The schema and each amount accept them; the decision's paid_to_date could not hold them.

    It stopped the run ("unexpected error", exit 2, nothing written, not even the good families).
    """
    status, decisions, rejections, err = evaluate_sandwich(
        tmp_path, capsys, line_of({"payments": OVER_THE_MAXIMUM})
    )
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [rejected] = rejections
    assert rejected["family_id"] == "B1"
    [error] = rejected["errors"]
    assert (error["loc"], error["type"]) == ("payments", "money_too_large")
    assert "1000000000000.00" in error["message"]
    assert "999999999999.99" in error["message"]
    assert "unexpected error" not in err


def test_payments_adding_up_beyond_the_maximum_are_refused_on_every_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pydantic import ValidationError

    from pbr._compiled import decode_family
    from pbr.serve import create_app

    from .serve_support import call

    fields = good("B1", payments=OVER_THE_MAXIMUM)
    line = json.dumps(fields)
    with pytest.raises(ValidationError) as from_python:
        pbr.Family.model_validate(fields)
    with pytest.raises(ValidationError) as from_json:
        pbr.Family.model_validate_json(line)
    for caught in (from_python, from_json):
        [error] = caught.value.errors()
        assert (error["loc"], error["type"]) == (("payments",), "money_too_large")
        assert error["msg"].startswith("family 'B1': the payments add up to 1000000000000.00")
    assert decode_family(line.encode(), 1 << 20) is None  # the fast path declines it too
    rejected = parse_family(line)
    assert isinstance(rejected, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejected.errors] == [("payments", "money_too_large")]
    assert rejected.errors[0].value == '["999999999999.99", "0.01"]'
    for workers in (1, 2):
        answers = list(
            pbr.evaluate_many(
                [json.dumps(good("G1")), line, fields, json.dumps(good("G2"))],
                as_of=date(2013, 7, 31),
                workers=workers,
            )
        )
        assert [type(a).__name__ for a in answers] == [
            "Decision",
            "Rejection",
            "Rejection",
            "Decision",
        ]
    path = tmp_path / "in.jsonl"
    path.write_text(f"{json.dumps(good('G1'))}\n{line}\n")
    assert main(["explain", str(path), "B1", "--as-of", AS_OF]) == 1
    assert main(["explain", str(path), "G1", "--as-of", AS_OF]) == 0
    assert "unexpected error" not in capsys.readouterr().err
    answer = call(create_app(), "POST", "/v1/evaluate", params={"as_of": AS_OF}, content=line)
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert (error["loc"], error["type"]) == ("payments", "money_too_large")


def test_a_later_record_of_a_family_paid_beyond_the_maximum_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    lines = [good("B1"), good("B1", payments=OVER_THE_MAXIMUM), good("G2")]
    path.write_text("".join(json.dumps(fields) + "\n" for fields in lines))
    rejected = tmp_path / "rejected.jsonl"
    status, decisions, rejections, _ = run(
        capsys, "evaluate", str(path), "--as-of", AS_OF, "--format", "json",
        "--rejections", str(rejected),
    )  # fmt: skip
    assert status == 1
    assert [d.family_id for d in decisions] == ["B1", "G2"]
    assert [r["record"] for r in rejections] == [2]


def test_a_ledger_paying_beyond_the_maximum_with_the_record_rejects_the_family() -> None:
    """Each source's payments are within the maximum; merged, they would not be."""
    from decimal import Decimal

    from pbr.history import HistoryError, PaidTooMuch, merge_payments
    from pbr.records import Payment

    ledger = {"B1": [Payment(kind="progress_to_work", amount=Decimal("0.01"), claim_id="L-1")]}
    paid = [{"kind": "attachment_fee", "amount": "999999999999.99", "claim_id": "C-1"}]
    family = pbr.Family.model_validate(good("B1", payments=paid))
    with pytest.raises(PaidTooMuch, match=r"add up to 1000000000000\.00") as caught:
        merge_payments(family, ledger)
    assert isinstance(caught.value, HistoryError)
    with pytest.raises(HistoryError):
        pbr.evaluate(family, as_of=date(2013, 7, 31), ledger=ledger)
    answers = list(
        pbr.evaluate_many(
            [json.dumps(good("G1")), json.dumps(good("B1", payments=paid))],
            as_of=date(2013, 7, 31),
            ledger=ledger,
        )
    )
    assert isinstance(answers[0], pbr.Decision)
    rejected = answers[1]
    assert isinstance(rejected, pbr.Rejection)
    [error] = rejected.errors
    assert (error.loc, error.type) == ("payments", "money_too_large")
    assert error.value == '["999999999999.99", "0.01"]'


def test_a_school_term_before_a_birth_shows_the_academic_year_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The value was the term's end date (``"2010-12-31"``), which the record does not hold."""
    change = {
        "members": [
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2012-01-01"},
        ],
        "school_terms": [
            {
                "person_id": "C1",
                "academic_year": "2010/11",
                "term": "autumn",
                "possible_sessions": 10,
                "unauthorised_absences": 0,
            }
        ],
    }
    status, decisions, rejections, err = evaluate_sandwich(tmp_path, capsys, line_of(change))
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [error] = rejections[0]["errors"]
    assert (error["loc"], error["type"]) == ("school_terms.0.academic_year", "born_after_event")
    assert error["value"] == '"2010/11"'
    assert "2010-12-31" in error["message"]
    assert "2012-01-01" in error["message"]
    assert 'school_terms.0.academic_year = "2010/11": ' in err
    with pytest.raises(ValueError, match="born_after_event") as caught:
        pbr.Family.model_validate(good("B1", **change))
    assert caught.value.errors()[0]["input"] == "2010/11"  # type: ignore[attr-defined]


def _with_raw(family_id: str, key: str, raw: str, first: bool = False) -> str:
    """A good record's JSON with `key` holding `raw` (JSON text as written), last or first."""
    text = json.dumps(good(family_id))
    if first:
        return "{" + json.dumps(key) + ": " + raw + ", " + text[1:]
    return text[:-1] + ", " + json.dumps(key) + ": " + raw + "}"


LONE_SURROGATES = {
    "high, last key": (_with_raw("B1", "local_authority", r'"\ud800"'), r"\ud800"),
    "high, first key": (_with_raw("B1", "local_authority", r'"\ud800"', first=True), r"\ud800"),
    "high, mid-text": (_with_raw("B1", "local_authority", r'"Le\ud800eds"'), r"\ud800"),
    "low alone": (_with_raw("B1", "local_authority", r'"\udc00"'), r"\udc00"),
    "two highs": (_with_raw("B1", "local_authority", r'"\ud83d\ud83d"'), r"\ud83d"),
}


@pytest.mark.parametrize("case", list(LONE_SURROGATES), ids=list(LONE_SURROGATES))
def test_a_lone_surrogate_escape_names_the_family_the_field_and_the_text(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was "family (no family_id)", an empty path and "unexpected end of hex escape"."""
    line, escape = LONE_SURROGATES[case]
    written = json.loads(line.replace("\\", "\\\\"))["local_authority"]  # the text as written
    status, decisions, rejections, err = evaluate_sandwich(tmp_path, capsys, line)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [rejected] = rejections
    assert rejected["family_id"] == "B1"
    [error] = rejected["errors"]
    assert (error["loc"], error["type"]) == ("local_authority", "json_invalid")
    assert error["value"] == f'"{written}"'
    assert error["message"].startswith(f"a lone surrogate {escape} is not a character")
    assert f"family 'B1': local_authority = \"{written}\": a lone surrogate" in err
    with pytest.raises(ValueError, match="lone surrogate") as caught:
        pbr.Family.model_validate_json(line)
    [raised] = caught.value.errors()  # type: ignore[attr-defined]
    assert raised["loc"] == ("local_authority",)
    assert raised["msg"].startswith(f"family 'B1': a lone surrogate {escape} ")
    [from_batch] = pbr.evaluate_many([line], as_of=date(2013, 7, 31))
    assert isinstance(from_batch, pbr.Rejection)
    assert [e.model_dump(mode="json") for e in from_batch.errors] == [error]


def test_a_lone_surrogate_deeper_in_a_record_is_named_at_its_own_path() -> None:
    member = r'[{"person_id": "A1", "date_of_birth": "1980-01-01"}, {"pers\udfffon_id": "A2"}]'
    line = _with_raw("B1", "members", member).replace('"members": [{', '"x": [{', 1)
    rejected = parse_family(line)
    assert isinstance(rejected, pbr.Rejection)
    assert rejected.family_id == "B1"
    [error] = rejected.errors
    assert (error.loc, error.value) == (r"members.1.pers\udfffon_id", r'"pers\udfffon_id"')
    assert r"a lone surrogate \udfff is not" in error.message


def test_a_value_nested_too_deeply_names_the_family_and_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was "(record)": "recursion limit exceeded", the record's start as its value."""
    line = _with_raw("B1", "local_authority", "[" * 600 + "]" * 600)
    status, decisions, rejections, err = evaluate_sandwich(tmp_path, capsys, line)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [rejected] = rejections
    assert rejected["family_id"] == "B1"
    [error] = rejected["errors"]
    assert (error["loc"], error["type"]) == ("local_authority", "json_invalid")
    assert error["value"] == "[" * 79 + "…"
    assert error["message"].startswith("arrays or objects nested 600 deep")
    assert "local_authority = [[[" in err
    with pytest.raises(ValueError, match="nested 600 deep") as caught:
        pbr.Family.model_validate_json(line)
    assert caught.value.errors()[0]["loc"] == ("local_authority",)  # type: ignore[attr-defined]


def test_a_family_id_given_twice_alike_names_the_family() -> None:
    """Given twice with one value, which family the record is can be said (it is still refused)."""
    alike = json.dumps(good("B1"))[:-1] + ', "family_id": "B1"}'
    apart = json.dumps(good("B1"))[:-1] + ', "family_id": "B2"}'
    for line, named in ((alike, "B1"), (apart, None)):
        rejected = parse_family(line)
        assert isinstance(rejected, pbr.Rejection)
        assert rejected.family_id == named
        assert [(e.loc, e.type) for e in rejected.errors] == [("family_id", "duplicate_key")]
        with pytest.raises(ValueError, match="duplicate_key") as caught:
            pbr.Family.model_validate_json(line)
        who = f"family {named!r}" if named else "family (no family_id)"
        assert caught.value.errors()[0]["msg"].startswith(who)  # type: ignore[attr-defined]
        [from_batch] = pbr.evaluate_many([line], as_of=date(2013, 7, 31))
        assert isinstance(from_batch, pbr.Rejection)
        assert from_batch.family_id == named


PYTHON_VALUES: dict[str, tuple[dict[str, Any], str, str]] = {
    "bytes for a family_id": ({"family_id": b"EX-1"}, "family_id", "b'EX-1'"),
    "a datetime for a date": (
        {"attached_on": datetime(2012, 10, 1)},
        "attached_on",
        "datetime.datetime(2012, 10, 1, 0, 0)",
    ),
    "a date for a text": (
        {"local_authority": date(2012, 10, 1)},
        "local_authority",
        "datetime.date(2012, 10, 1)",
    ),
    "a list holding bytes": (
        {"local_discretion": ["x", b"y"]},
        "local_discretion.1",
        "b'y'",
    ),
}


@pytest.mark.parametrize("case", list(PYTHON_VALUES), ids=list(PYTHON_VALUES))
def test_a_python_value_json_has_none_of_is_shown_as_python_writes_it(case: str) -> None:
    """``b"EX-1"`` was shown ``"EX-1"``, and a datetime ``"2012-10-01 00:00:00"``: as valid text."""
    change, loc, value = PYTHON_VALUES[case]
    [rejected] = pbr.evaluate_many([{**good("B1"), **change}], as_of=date(2013, 7, 31))
    assert isinstance(rejected, pbr.Rejection)
    assert [(e.loc, e.value) for e in rejected.errors] == [(loc, value)]
    assert f"{loc} = {value}: " in rejected.describe()


def test_json_values_are_still_shown_as_json_text() -> None:
    [rejected] = pbr.evaluate_many(
        [{**good("B1"), "attached_on": "2013-02-30", "local_discretion": [7]}],
        as_of=date(2013, 7, 31),
    )
    assert isinstance(rejected, pbr.Rejection)
    assert [(e.loc, e.value) for e in rejected.errors] == [
        ("attached_on", '"2013-02-30"'),
        ("local_discretion.0", "7"),
    ]
    unreadable = parse_family(b'{"family_id": "B1", "x": ]}')
    assert isinstance(unreadable, pbr.Rejection)
    assert unreadable.errors[0].value is not None
    assert unreadable.errors[0].value.startswith('"{\\"family_id\\": \\"B1\\"')


LATER_LISTS = {
    "problems_at_entry": (
        {"problems_at_entry": [{"problem": "health"}]},
        "problems_at_entry_not_in_programme",
        '["health"]',
    ),
    "observations": (
        {"observations": [{"indicator": "gp_visits", "date": "2012-11-01"}]},
        "observations_not_in_programme",
        '["gp_visits"]',
    ),
}


@pytest.mark.parametrize("field", list(LATER_LISTS))
def test_a_record_stating_phase_one_with_a_later_programme_s_list_is_refused(
    field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a record stating a later programme is refused with phase one's identified_for.

    It was evaluated with the list ignored, without a word.
    """
    from pbr._compiled import decode_family

    change, error_type, value = LATER_LISTS[field]
    line = line_of({"programme": "tf-phase-1", **change})
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, line)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    [error] = rejections[0]["errors"]
    assert (error["loc"], error["type"], error["value"]) == (field, error_type, value)
    assert "tf-phase-1" in error["message"]
    assert decode_family(line.encode(), 1 << 20) is None  # the fast path declines it too
    with pytest.raises(ValueError, match=error_type):
        pbr.Family.model_validate({**good("B1"), "programme": "tf-phase-1", **change})
    empty = {**good("B1"), "programme": "tf-phase-1", field: []}  # nothing there to ignore
    assert pbr.Family.model_validate(empty).family_id == "B1"


@pytest.mark.parametrize("attached_on", ["2012-10-15", "2014-06-02"])
def test_a_later_programme_s_lists_in_an_unstated_phase_one_record_are_warned_of(
    attached_on: str,
) -> None:
    """Stating no programme, as phase one's identified_for in a later programme's record."""
    fields = {**good("B1", attached_on=attached_on)}
    for change in ({}, *(change for change, _, _ in LATER_LISTS.values())):
        fields.update(change)
        for done in (
            pbr.evaluate(pbr.Family.model_validate(fields), as_of=date(2015, 3, 31)),
            *pbr.evaluate_many([json.dumps(fields)], as_of=date(2015, 3, 31)),
        ):
            assert isinstance(done, pbr.Decision)
            assert done.programme == "tf-phase-1"
            warned = [w for w in done.warnings if w.code == "LATER_PROGRAMME_LISTS_IGNORED"]
            lists = [name for name in LATER_LISTS if fields.get(name)]
            assert [w.compared.get("lists") for w in warned] == (
                [", ".join(lists)] if lists else []
            )


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        (["work", "work"], [("identified_for.1", '"work"')]),
        (
            ["work", "education", "work", "work"],
            [("identified_for.2", '"work"'), ("identified_for.3", '"work"')],
        ),
    ],
)
def test_a_problem_given_twice_in_identified_for_is_refused_on_every_path(
    given: list[str],
    errors: list[tuple[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As one given twice in problems_at_entry is: it was read as given once, without a word."""
    from pbr._compiled import decode_family
    from pbr.batch import evaluate_many_json

    line = line_of({"identified_for": given})
    status, decisions, rejections, _ = evaluate_sandwich(tmp_path, capsys, line)
    assert status == 1
    assert [d.family_id for d in decisions] == ["G1", "G2"]
    assert [(e["loc"], e["type"], e["value"]) for e in rejections[0]["errors"]] == [
        (loc, "duplicate_problem", value) for loc, value in errors
    ]
    assert rejections[0]["errors"][0]["message"] == (
        "problem 'work' appears more than once in identified_for"
    )
    assert decode_family(line.encode(), 1 << 20) is None  # the fast path declines it
    (rejected,) = evaluate_many_json([line.encode()], as_of=date(2013, 7, 31), workers=1)
    assert isinstance(rejected, pbr.Rejection)
    assert [(e.loc, e.type) for e in rejected.errors] == [
        (loc, "duplicate_problem") for loc, _ in errors
    ]
    with pytest.raises(pydantic.ValidationError) as refused:
        pbr.Family.model_validate(json.loads(line))
    assert [(e["loc"], e["type"], e["input"]) for e in refused.value.errors()] == [
        (("identified_for", int(loc.rsplit(".", 1)[1])), "duplicate_problem", "work")
        for loc, _ in errors
    ]


@pytest.mark.parametrize(
    ("programme", "attached_on"),
    [
        ("tf-phase-2", "2016-01-15"),
        ("supporting-families", "2022-01-15"),
        (None, "2016-01-15"),
        (None, "2022-01-15"),
    ],
)
def test_an_empty_identified_for_in_a_later_programme_s_record_is_as_none_given(
    programme: str | None, attached_on: str
) -> None:
    """An empty list says nothing: a serialiser writing [] for every list is not refused.

    It was refused when the record stated its programme (identified_for_not_in_programme), and
    warned of (IDENTIFIED_FOR_IGNORED) when it did not, while an empty problems_at_entry or
    observations in a phase-one record was accepted without a word.
    """
    from pbr._compiled import decode_family

    fields: dict[str, Any] = {
        "family_id": "E1",
        "attached_on": attached_on,
        "members": [{"person_id": "A1", "date_of_birth": "1985-01-01"}],
        "problems_at_entry": [{"problem": "health"}, {"problem": "domestic_abuse"}],
    }
    if programme is not None:
        fields["programme"] = programme
    as_of = date.fromisoformat(attached_on).replace(year=int(attached_on[:4]) + 1)
    without = pbr.evaluate(pbr.Family.model_validate(fields), as_of=as_of)
    line = json.dumps({**fields, "identified_for": []})
    assert decode_family(line.encode(), 1 << 20) is not None  # the fast path takes it
    for done in (
        pbr.evaluate(pbr.Family.model_validate_json(line), as_of=as_of),
        *pbr.evaluate_many([line], as_of=as_of),
    ):
        assert isinstance(done, pbr.Decision)
        assert "IDENTIFIED_FOR_IGNORED" not in [w.code for w in done.warnings]
        # the same decision, but for the hash of the record as given (which holds the list)
        assert done.provenance is not None
        assert without.provenance is not None
        same = done.provenance.model_copy(update={"input_hash": without.provenance.input_hash})
        assert same == without.provenance
        assert done.model_copy(update={"provenance": same}) == without


_OBSERVED = (
    '{"family_id": "O1", "programme": "tf-phase-2", "attached_on": "2016-01-01", "members": '
    '[{"person_id": "A1", "date_of_birth": "1980-01-01"}], %s}'
)
_WHERE = {
    "observations.0.value": '"observations": [{"indicator": "x", "date": "2016-02-01", "value": %s}]',
    "payments.0.amount": '"payments": [{"kind": "attachment_fee", "amount": %s}]',
}


@pytest.mark.parametrize("loc", list(_WHERE))
@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("null", "got null"),
        ('{"a": 1}', "got an object"),
        ("[1, 2]", "got an array"),
        ("true", "got true"),
        ("false", "got false"),
        ("1.5", "got the number 1.5"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_named_in_json_terms(
    loc: str, written: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was Python's: "got NoneType None", "got dict {'a': 1}", "got bool True"."""
    line = _OBSERVED % (_WHERE[loc] % written)
    rejection = parse_family(line.encode())
    assert isinstance(rejection, pbr.Rejection)
    [error] = [e for e in rejection.errors if e.loc == loc]
    assert error.message.endswith(said), error.message
    path = tmp_path / "f.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    main(["evaluate", str(path), "--as-of", "2017-03-31"])
    err = capsys.readouterr().err
    assert f"{loc} = {written}: " in err
    assert said in err
    for python in ("NoneType", "dict", "list", "bool", "float"):
        assert python not in err


@pytest.mark.parametrize(
    ("line", "loc", "value"),
    [
        (b'{"family_id": "B1", "local_authority": "Caf\xe9"}\n', "local_authority", "e9 22 7d"),
        (b'{"family_id": "F\xe9"}\r\n', "family_id", "e9 22 7d"),  # the line's end not quoted
        (
            b'{"family_id": "B2", "members": [{"person_id": "A1"}, {"person_id": "B\xe9"}]}\n',
            "members.1.person_id",
            "e9 22 7d 5d",
        ),
        (b'{"family_id": "B3", "n\xe9": 1}\n', "", "e9 22 3a 20"),  # in a key: no field to name
    ],
)
def test_a_bad_byte_is_named_by_its_field_and_quoted_without_the_line_end(
    tmp_path: Path, line: bytes, loc: str, value: str
) -> None:
    """A Latin-1 é in a council's name was rejected with no field path, and the command line
    quoted the line's end among the bytes where the web API did not."""
    path = tmp_path / "families.jsonl"
    path.write_bytes(line)
    for answer in (
        next(iter(pbr.read_records(path))),
        next(pbr.evaluate_many([line], as_of=date(2013, 7, 31), workers=1)),
        parse_family(line),
    ):
        assert isinstance(answer, pbr.Rejection)
        error = answer.errors[0]
        assert (error.type, error.loc, error.value) == ("invalid_utf8", loc, json.dumps(value))
