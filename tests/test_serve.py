"""`pbr serve` through httpx's ASGI transport: every answer is the library's, safely delivered.

Nothing here hard-codes a decision or a rejection: each is compared with what the library (or
the ``pbr`` command) makes of the same record.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pbr
from pbr.serve import Settings, create_app
from tests.serve_support import EXAMPLES, call, chunks, cli, generated, library_json, lines_of

AS_OF = date(2015, 3, 31)
Q = {"as_of": AS_OF.isoformat()}
FAMILIES = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()
MIXED = (EXAMPLES / "mixed-programmes.jsonl").read_text(encoding="utf-8").splitlines()
TOKEN = "correct-horse-battery-staple-16"


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app()


# --- one family ------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [FAMILIES[0], FAMILIES[9], MIXED[1], MIXED[-1]])
def test_a_decision_is_the_librarys_json_byte_for_byte(app: Any, line: str) -> None:
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=line)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.text == library_json(line, AS_OF)


def test_a_decision_is_the_line_pbr_evaluate_writes(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(FAMILIES[3] + "\n", encoding="utf-8")
    status, out, _ = cli("evaluate", str(path), "--as-of", "2015-03-31", "--format", "json")
    assert status == 0
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[3])
    assert answer.text + "\n" == out


def test_a_body_with_a_byte_order_mark_is_read_as_pbr_evaluate_reads_it(
    app: Any, tmp_path: Path
) -> None:
    """It was a 422 (json_invalid) on /v1/evaluate and /v1/explain, evaluated by the batch and
    by pbr evaluate: PowerShell 5 and .NET write one."""
    body = b"\xef\xbb\xbf" + FAMILIES[3].encode()
    path = tmp_path / "bom.json"
    path.write_bytes(body)
    status, out, _ = cli("evaluate", str(path), "--as-of", "2015-03-31", "--format", "json")
    assert status == 0
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=body)
    assert answer.status_code == 200, answer.text
    assert answer.text + "\n" == out
    family_id = json.loads(FAMILIES[3])["family_id"]
    status, out, _ = cli("explain", str(path), family_id, "--as-of", "2015-03-31")
    assert status == 0
    assert call(app, "POST", "/v1/explain", params=Q, content=body).text == out
    twice = call(app, "POST", "/v1/evaluate", params=Q, content=b"\xef\xbb\xbf" + body)
    assert twice.status_code == 422  # one mark is taken off, as a file's: a second is the record's


@settings(max_examples=25)
@given(
    record=st.sampled_from(["tf-phase-1", "tf-phase-2", "supporting-families"]).flatmap(
        lambda programme: pbr.testing.family_records(programme)
    ),
    as_of=pbr.testing.as_of_dates(),
)
def test_any_record_gets_what_the_library_gives(record: dict[str, Any], as_of: date) -> None:
    app = _APP
    line = json.dumps(record)
    answer = call(app, "POST", "/v1/evaluate", params={"as_of": as_of.isoformat()}, content=line)
    expected = library_json(line, as_of)
    if isinstance(expected, dict):
        assert answer.status_code == 422
        assert answer.json() == expected
    else:
        assert answer.status_code == 200
        assert answer.text == expected


_APP = create_app()


@pytest.mark.parametrize(
    "body",
    [
        b'{"family_id": "F9", "attached_on": "2013-02-30", "members": []}',
        b'{"family_id": 7}',
        b"not json",
        b"",
        b'{"family_id": "F1", "attached_on": "2008-01-01", '
        b'"members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}',
        FAMILIES[0].encode() + b"\n" + FAMILIES[1].encode(),
    ],
    ids=["bad-fields", "bad-type", "not-json", "empty", "outside-programme", "two-records"],
)
def test_a_rejected_family_is_a_422_with_the_rejection(app: Any, body: bytes) -> None:
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=body)
    assert answer.status_code == 422
    assert answer.json() == library_json(body, AS_OF)
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("field", "written", "said"),
    [
        ('"observations": [{"indicator": "x", "date": "2016-02-01", "value": %s}]', "null",
         "got null"),
        ('"observations": [{"indicator": "x", "date": "2016-02-01", "value": %s}]', '{"a": 1}',
         "got an object"),
        ('"payments": [{"kind": "attachment_fee", "amount": %s}]', "null", "got null"),
    ],
)  # fmt: skip
def test_a_rejection_names_a_bad_value_in_json_terms(
    app: Any, field: str, written: str, said: str
) -> None:
    """It named Python's types: "got NoneType None", "got dict {'a': 1}"."""
    body = (
        '{"family_id": "O1", "programme": "tf-phase-2", "attached_on": "2016-01-01", "members": '
        '[{"person_id": "A1", "date_of_birth": "1980-01-01"}], ' + field % written + "}"
    )
    answer = call(app, "POST", "/v1/evaluate", params={"as_of": "2017-03-31"}, content=body)
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["message"].endswith(said), error["message"]
    assert "NoneType" not in answer.text
    assert "dict" not in answer.text


def test_every_answer_names_the_version_and_the_rules_hash(app: Any) -> None:
    for method, url, kwargs in [
        ("GET", "/v1/health", {}),
        ("GET", "/v1/rules", {}),
        ("GET", "/nowhere", {}),
        ("POST", "/v1/evaluate", {"params": Q, "content": FAMILIES[0]}),
        ("POST", "/v1/evaluate", {"params": Q, "content": "{}"}),
        ("POST", "/v1/evaluate", {"params": {"as_of": "yesterday"}, "content": "{}"}),
        ("POST", "/v1/evaluate/batch", {"params": Q, "content": FAMILIES[0]}),
    ]:
        answer = call(app, method, url, **kwargs)
        assert answer.headers["x-pbr-version"] == pbr.__version__, url
        assert len(answer.headers["x-pbr-rules-hash"]) == 64, url
        assert answer.headers["x-content-type-options"] == "nosniff"


def _rules_hash_of(app: Any, programme: str, **params: Any) -> tuple[str, str]:
    rules = call(app, "GET", "/v1/rules", params=params)
    assert rules.status_code == 200
    (mine,) = [p for p in rules.json()["in_force"] if p["programme"] == programme]
    return mine["rules_hash"], rules.headers["x-pbr-rules-hash"]


def test_the_rules_hash_is_the_one_decisions_carry(app: Any) -> None:
    switched = {"interpretation": "employment_weeks=all_13"}
    for extra in [{}, switched]:
        answer = call(app, "POST", "/v1/evaluate", params={**Q, **extra}, content=FAMILIES[0])
        decision = answer.json()
        programme_hash, combined = _rules_hash_of(app, decision["programme"], **extra)
        assert decision["provenance"]["rules_hash"] == programme_hash
        assert answer.headers["x-pbr-rules-hash"] == combined
    assert _rules_hash_of(app, "tf-phase-1") != _rules_hash_of(app, "tf-phase-1", **switched)


def test_interpretations_per_request_and_from_the_server(app: Any) -> None:
    choice = {"employment_weeks": "all_13"}
    asked = call(
        app,
        "POST",
        "/v1/evaluate",
        params={**Q, "interpretation": "employment_weeks=all_13"},
        content=FAMILIES[5],
    )
    assert asked.text == library_json(FAMILIES[5], AS_OF, interpretations=choice)
    assert asked.json()["interpretations"]["employment_weeks"] == "all_13"
    server = create_app(Settings(interpretations=choice))
    default = call(server, "POST", "/v1/evaluate", params=Q, content=FAMILIES[5])
    assert default.text == asked.text
    back = call(
        server,
        "POST",
        "/v1/evaluate",
        params={**Q, "interpretation": "employment_weeks=jsa_26_other_13"},
        content=FAMILIES[5],
    )
    assert back.text == library_json(FAMILIES[5], AS_OF)


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        ("employment_weeks=forever", "jsa_26_other_13"),
        ("no_such_thing=1", "unknown interpretation 'no_such_thing'; valid: "),
        ("employment_weeks", "ID=VALUE"),
    ],
)
def test_a_bad_interpretation_is_a_400_naming_the_valid_ones(
    app: Any, choice: str, said: str
) -> None:
    answer = call(
        app, "POST", "/v1/evaluate", params={**Q, "interpretation": choice}, content=FAMILIES[0]
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert said in answer.json()["detail"]


@pytest.mark.parametrize("then", ["jsa_26_other_13", "all_13"])
@pytest.mark.parametrize("where", ["evaluate", "rules", "audit"])
def test_an_interpretation_given_twice_is_a_400_as_pbr_refuses_it(
    app: Any, where: str, then: str
) -> None:
    """The last of two was applied without a word (as argparse would): which was meant?"""
    first = ("interpretation", "employment_weeks=all_13")
    second = ("interpretation", f"employment_weeks={then}")
    if where == "evaluate":
        answer = call(app, "POST", "/v1/evaluate", params=[*Q.items(), first, second],
                      content=FAMILIES[0])  # fmt: skip
    elif where == "rules":
        answer = call(app, "GET", "/v1/rules", params=[first, second])
    else:  # one in the form, one in the query
        answer = call(app, "POST", "/v1/audit", params=[first], files=_audit_files(),
                      data={"interpretation": second[1]})  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    status, _, err = cli("evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31",
                         "--interpretation", first[1], "--interpretation", second[1])  # fmt: skip
    assert status == 2
    assert err == f"pbr: {answer.json()['detail']}\n"  # the command line's words


@pytest.mark.parametrize("where", ["evaluate", "rules", "audit"])
def test_an_unknown_interpretation_is_a_400_in_pbr_evaluate_s_words(app: Any, where: str) -> None:
    """The web API said "interpretation: unknown id 'bogus'; valid ids: ...", the command line
    "unknown interpretation 'bogus'; valid: ...": one mistake, two wordings."""
    choice = ("interpretation", "bogus=x")
    if where == "evaluate":
        answer = call(app, "POST", "/v1/evaluate", params=[*Q.items(), choice],
                      content=FAMILIES[0])  # fmt: skip
    elif where == "rules":
        answer = call(app, "GET", "/v1/rules", params=[choice])
    else:
        answer = call(app, "POST", "/v1/audit", files=_audit_files(), data=dict([choice]))
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("unknown interpretation 'bogus'; valid: ")
    status, _, err = cli("evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31",
                         "--interpretation", choice[1])  # fmt: skip
    assert status == 2
    assert err == f"pbr: {answer.json()['detail']}\n"  # the command line's words


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        ("employment_weeks= all_13", "'employment_weeks= all_13' has spaces around its value"),
        ("employment_weeks =all_13", "'employment_weeks =all_13' has spaces around its id"),
        (
            " employment_weeks = all_13 ",
            "' employment_weeks = all_13 ' has spaces around its id and value",
        ),
        ("employment_weeks=all_13\t", "'employment_weeks=all_13\\t' has spaces around its value"),
        ("employment_weeks= ", "expected ID=VALUE, got 'employment_weeks= '"),
        (" =all_13", "expected ID=VALUE, got ' =all_13'"),
    ],
)
@pytest.mark.parametrize("where", ["evaluate", "rules", "audit"])
def test_an_interpretation_with_spaces_around_it_is_a_400_not_trimmed(
    app: Any, where: str, choice: str, said: str
) -> None:
    """``employment_weeks=%20all_13`` was taken as all_13, where Python refuses " all_13": pbr
    never trims."""
    if where == "evaluate":
        answer = call(app, "POST", "/v1/evaluate", params={**Q, "interpretation": choice},
                      content=FAMILIES[0])  # fmt: skip
    elif where == "rules":
        answer = call(app, "GET", "/v1/rules", params={"interpretation": choice})
    else:
        answer = call(app, "POST", "/v1/audit", files=_audit_files(),
                      data={"interpretation": choice})  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    ending = ": remove them" if "spaces" in said else ""
    assert answer.json()["detail"] == f"interpretation: {said}{ending}"


def test_a_bad_server_interpretation_stops_the_app() -> None:
    with pytest.raises(ValueError, match="forever"):
        create_app(Settings(interpretations={"employment_weeks": "forever"}))


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        (
            {"employment_weeks": " all_13"},
            "interpretation 'employment_weeks' has spaces around its value ' all_13': remove "
            "them; valid: jsa_26_other_13, all_13",
        ),
        (
            {"employment_weeks ": "all_13"},
            "interpretation 'employment_weeks ' has spaces around its id: remove them; valid: ",
        ),
        ({"bogus": "x"}, "unknown interpretation 'bogus'; valid: "),
    ],
)
def test_a_server_interpretation_with_spaces_around_it_stops_the_app(
    choice: dict[str, str], said: str
) -> None:
    """Settings(interpretations={"employment_weeks": " all_13"}) was refused as a value it has
    not, "employment_weeks " as an unknown id: neither said the spaces were the matter."""
    with pytest.raises(ValueError, match="^" + re.escape(said)):
        create_app(Settings(interpretations=choice))


def _plan_file(folder: Path, plan_id: str) -> Path:
    text = (EXAMPLES / "plans" / "county-sf.toml").read_text(encoding="utf-8")
    path = folder / f"{plan_id}.toml"
    path.write_text(text.replace('id = "', f'id = "{plan_id}-', 1), encoding="utf-8")
    return path


def test_plans_from_the_server_and_chosen_per_request(tmp_path: Path) -> None:
    first, second = _plan_file(tmp_path, "one"), _plan_file(tmp_path, "two")
    plans = [pbr.load_plan(first), pbr.load_plan(second)]
    app = create_app(Settings(plans=(str(first), str(second))))
    sf = next(line for line in MIXED if '"supporting-families"' in line)
    when = {"as_of": "2023-03-31"}
    default = call(app, "POST", "/v1/evaluate", params=when, content=sf)
    assert default.json()["outcome_plan"] == plans[0].label
    assert default.text == library_json(sf, date(2023, 3, 31), plans={plans[0].programme: plans[0]})
    chosen = call(app, "POST", "/v1/evaluate", params={**when, "plan": plans[1].label}, content=sf)
    assert chosen.json()["outcome_plan"] == plans[1].label
    assert chosen.headers["x-pbr-rules-hash"] != default.headers["x-pbr-rules-hash"]
    unknown = call(app, "POST", "/v1/evaluate", params={**when, "plan": "nope/1"}, content=sf)
    assert unknown.status_code == 400
    assert plans[0].label in unknown.json()["detail"]


def test_two_plans_of_one_label_are_refused_naming_their_files(tmp_path: Path) -> None:
    """``pbr serve --plan a.toml --plan b.toml`` said only "two plans are labelled x/1"."""
    first = _plan_file(tmp_path, "one")
    second = tmp_path / "copy.toml"
    second.write_bytes(first.read_bytes())
    with pytest.raises(ValueError, match=r"\(.*one\.toml\) and .* \(.*copy\.toml\)"):
        create_app(Settings(plans=(str(first), str(second))))


@pytest.mark.parametrize("where", ["evaluate", "rules", "audit", "audit-form"])
@pytest.mark.parametrize("same", [False, True])
def test_two_plans_for_one_programme_are_a_400_as_pbr_refuses_them(
    tmp_path: Path, where: str, same: bool
) -> None:
    """The last of two was used without a word: which was meant? (pbr refuses two --plan.)"""
    first, second = _plan_file(tmp_path, "one"), _plan_file(tmp_path, "two")
    labels = [pbr.load_plan(first).label, pbr.load_plan(second).label]
    app = create_app(Settings(plans=(str(first), str(second))))
    chosen = [("plan", labels[0]), ("plan", labels[0] if same else labels[1])]
    if where == "evaluate":
        answer = call(app, "POST", "/v1/evaluate", params=[("as_of", "2023-03-31"), *chosen],
                      content=MIXED[-1])  # fmt: skip
    elif where == "rules":
        answer = call(app, "GET", "/v1/rules", params=chosen)
    else:  # one in the query, one uploaded in the form; or both in the query
        upload = [("plan", ("plan.toml", (second if not same else first).read_bytes()))]
        files = [*_audit_files().items(), *(upload if where == "audit-form" else [])]
        query = chosen[:1] if where == "audit-form" else chosen
        answer = call(app, "POST", "/v1/audit", params=query, files=files)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert labels[0] in detail
    if not same:
        assert labels[1] in detail
        assert "supporting-families" in detail


def test_two_uploaded_plans_for_one_programme_are_named(tmp_path: Path, app: Any) -> None:
    first, second = _plan_file(tmp_path, "one"), _plan_file(tmp_path, "two")
    labels = [pbr.load_plan(first).label, pbr.load_plan(second).label]
    upload = [("plan", ("a.toml", first.read_bytes())), ("plan", ("b.toml", second.read_bytes()))]
    answer = call(app, "POST", "/v1/audit", files=[*_audit_files().items(), *upload])
    assert answer.status_code == 400, answer.text
    assert all(label in answer.json()["detail"] for label in labels)


@pytest.mark.parametrize(
    "as_of", ["2015-3-31", "20150331", "2015-02-30", "2015-W01-1", "9999-12-31", "0001-01-01", ""]
)
def test_a_bad_evaluation_date_is_a_400(app: Any, as_of: str) -> None:
    answer = call(app, "POST", "/v1/evaluate", params={"as_of": as_of}, content=FAMILIES[0])
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("as_of: ")


def test_the_evaluation_date_is_required(app: Any) -> None:
    answer = call(app, "POST", "/v1/evaluate", content=FAMILIES[0])
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert "as_of" in answer.json()["detail"]


def test_an_unknown_or_repeated_parameter_is_a_400(app: Any) -> None:
    typo = call(app, "POST", "/v1/evaluate", params={"asof": "2015-03-31"}, content=FAMILIES[0])
    assert typo.status_code == 400
    assert "'asof'" in typo.json()["detail"]
    assert "as_of" in typo.json()["detail"]
    twice = [("as_of", "2015-03-31"), ("as_of", "2016-03-31")]
    answer = call(app, "POST", "/v1/evaluate", params=twice, content=FAMILIES[0])
    assert answer.status_code == 400
    assert "once" in answer.json()["detail"]
    both = [("interpretation", "employment_weeks=all_13"), ("interpretation", "baseline=x")]
    assert call(app, "GET", "/v1/rules", params=both).status_code == 400  # repeatable, but x is bad
    good = [
        ("interpretation", "employment_weeks=all_13"),
        ("interpretation", "relevance=all_limbs"),
    ]
    assert call(app, "GET", "/v1/rules", params=good).status_code == 200


@pytest.mark.parametrize(
    "path", ["/v1/health", "/v1/schema/family", "/v1/schema/decision", "/openapi.json"]
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_endpoint_without_parameters_refuses_any(app: Any, path: str, method: str) -> None:
    """They were ignored: /v1/health?asof=2015 was "ok", as if the date meant something."""
    answer = call(app, method, path, params={"asof": "2015-03-31"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    if method == "GET":
        assert answer.json()["detail"] == "unknown parameter 'asof'; this endpoint takes none"
    assert call(app, method, path).status_code == 200


@pytest.mark.parametrize(
    ("param", "value", "said"),
    [
        (
            "interpretation",
            "employment_weeks=" + "a" * 283,
            "interpretation: 300 characters long; at most 200 are allowed",
        ),
        ("interpretation", "weeks", "interpretation: 'weeks' is not allowed; expected ID=VALUE"),
        (
            "fraction",
            "0",
            "fraction: '0' is not allowed; expected a decimal fraction above 0 and at most 1, "
            "such as 0.1",
        ),
        ("sample", "0", "sample: 0 is less than 1"),
        ("sample", "2000000000", "sample: 2000000000 is more than 1,000,000,000"),
        ("sample", "-1", "sample: '-1' is not allowed; expected a whole number from 1"),
        ("sample", "9" * 5000, f"sample: {'9' * 20}... is more than 1,000,000,000"),
        ("seed", "s" * 201, "seed: 201 characters long; at most 200 are allowed"),
    ],
)
def test_a_bad_parameter_is_told_what_is_wrong_with_it(
    app: Any, param: str, value: str, said: str
) -> None:
    """A 300-character interpretation was told "expected ID=VALUE", and fraction=0 "a decimal
    fraction from 0 to 1": neither said what was wrong."""
    answer = call(app, "POST", "/v1/audit", params={param: value}, files=_audit_files())
    assert answer.status_code == 400
    assert answer.json()["detail"] == said


def test_a_date_the_library_refuses_is_a_400_with_its_reason(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pbr.batch
    from pbr.serve import _params

    real = pbr.batch.evaluate_many_json

    def refusing(records: Any, **options: Any) -> Any:
        if options["as_of"] == date(2031, 1, 1):
            raise ValueError("as_of must be before the end of time")
        return real(records, **options)

    monkeypatch.setattr(pbr.batch, "evaluate_many_json", refusing)
    _params._refused.cache_clear()
    try:
        when = {"as_of": "2031-01-01"}
        answer = call(app, "POST", "/v1/evaluate/batch", params=when, content=FAMILIES[0])
        assert answer.status_code == 400
        assert "as_of must be before the end of time" in answer.json()["detail"]
        assert call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0]).status_code == 200
    finally:
        _params._refused.cache_clear()


# --- batches ---------------------------------------------------------------------------------


def test_a_batch_is_a_decision_or_a_rejection_per_line_in_order_then_a_summary(app: Any) -> None:
    body = "\n".join(
        [
            FAMILIES[0],
            "",
            '{"family_id": "BAD", "attached_on": "2013-02-30"}',
            FAMILIES[1],
            "   ",
            "not json at all",
            FAMILIES[0],  # the same family again
            MIXED[1],
        ]
    )
    answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=body)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    texts = answer.text.splitlines()
    assert len(texts) == 7
    assert texts[0] == library_json(FAMILIES[0], AS_OF)
    assert texts[2] == library_json(FAMILIES[1], AS_OF)
    assert texts[5] == library_json(MIXED[1], AS_OF)
    bad, not_json, repeated = (json.loads(texts[i])["rejected"] for i in (1, 3, 4))
    library_bad = library_json('{"family_id": "BAD", "attached_on": "2013-02-30"}', AS_OF)
    assert isinstance(library_bad, dict)
    assert bad == {**library_bad, "line": 3, "record": 2}
    assert (not_json["line"], not_json["record"], not_json["family_id"]) == (6, 4, None)
    assert not_json["errors"] == library_json("not json at all", AS_OF)["errors"]  # type: ignore[index]
    assert (repeated["line"], repeated["record"], repeated["errors"][0]["type"]) == (
        7,
        5,
        "duplicate_family",
    )
    family_id = json.loads(FAMILIES[0])["family_id"]
    assert repeated["errors"][0]["message"] == (
        f"family_id {family_id!r} was already given on line 1"
    )
    summary = json.loads(texts[6])["summary"]
    assert summary["records"] == 6
    assert (summary["evaluated"], summary["rejected"], summary["complete"]) == (3, 3, True)


def test_a_batch_is_byte_identical_to_pbr_evaluate(app: Any, tmp_path: Path) -> None:
    path = generated(300, tmp_path)
    status, out, _ = cli("evaluate", str(path), "--as-of", "2014-09-30", "--format", "json")
    assert status == 0
    answer = call(
        app,
        "POST",
        "/v1/evaluate/batch",
        params={"as_of": "2014-09-30"},
        content=path.read_bytes(),
    )
    body, summary = answer.text.rsplit("\n", 2)[0] + "\n", answer.text.splitlines()[-1]
    assert body == out
    assert json.loads(summary)["summary"]["evaluated"] == 300


def test_the_summary_totals_are_the_decisions_amounts(app: Any) -> None:
    body = "\n".join(FAMILIES + MIXED)
    answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=body)
    rows = lines_of(answer)
    summary = rows[-1]["summary"]
    decisions = [r for r in rows[:-1] if "rejected" not in r]
    by_programme: dict[str, dict[str, Decimal]] = {}
    for d in decisions:
        mine = by_programme.setdefault(d["programme"], {})
        for kind, result in d["results"].items():
            mine[kind] = mine.get(kind, Decimal(0)) + Decimal(result["amount"])
    assert set(summary["programmes"]) == set(by_programme)
    for programme, totals in by_programme.items():
        shown = summary["programmes"][programme]
        assert {k: Decimal(v) for k, v in shown["payable"].items()} == totals
        assert Decimal(shown["total"]) == sum(totals.values())
        assert shown["families"] == sum(d["programme"] == programme for d in decisions)
    assert Decimal(summary["payable"]) == sum(sum(t.values()) for t in by_programme.values())
    assert summary["payable"] != "0.00"


def test_the_summary_breaks_the_batch_down_by_council(app: Any) -> None:
    """Each council's families and money, as `pbr.Totals` counts the same answers; rejections
    under the council their record names; the councils add up to the batch."""
    spoilt = json.loads(FAMILIES[3])
    spoilt["attached_on"] = "2013-02-30"  # rejected, but its council is sound
    body = "\n".join([*FAMILIES, *MIXED, json.dumps(spoilt), "not json", FAMILIES[0]])
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=body))
    summary = rows[-1]["summary"]
    expected = pbr.Totals()
    for row in rows[:-1]:
        if "rejected" in row:
            expected.reject(row["rejected"]["local_authority"])
        else:
            expected.add_json(json.dumps(row))
    assert summary["councils"] == expected.to_dict()["councils"]
    councils = {c["local_authority"]: c for c in summary["councils"]}
    assert list(councils) == ["Exampleshire", "Sampleton", None]
    assert councils[spoilt["local_authority"]]["families_rejected"] == 2  # spoilt, then repeated
    assert councils[None]["families_rejected"] == 1  # "not json" names no council
    assert sum(c["families_evaluated"] for c in councils.values()) == summary["evaluated"] == 70
    assert sum(c["families_rejected"] for c in councils.values()) == summary["rejected"] == 3
    results = sum(Decimal(c["results_payments"]) for c in councils.values())
    assert results == Decimal(summary["payable"]) > 0


def test_the_summary_warns_of_council_names_that_differ_only_in_case(
    app: Any, tmp_path: Path
) -> None:
    """As ``pbr evaluate``'s summary does, in the same words; none when the names agree."""
    names = ["Leeds", "LEEDS", "Bury", "leeds", "Bury"]
    records = [json.loads(FAMILIES[i]) | {"local_authority": c} for i, c in enumerate(names)]
    records.append(json.loads(FAMILIES[5]) | {"local_authority": "BURY", "attached_on": "x"})
    body = "\n".join(json.dumps(r) for r in records)
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=body))
    warnings = rows[-1]["summary"]["warnings"]
    assert warnings == [
        "council names that differ only in case are counted apart: BURY, Bury",  # a rejection's
        "council names that differ only in case are counted apart: LEEDS, Leeds, leeds",
    ]
    path = tmp_path / "f.jsonl"
    path.write_text(body + "\n")
    _, _, err = cli("evaluate", str(path), "--as-of", Q["as_of"], "--format", "json")
    assert [line.strip() for line in err.splitlines() if "warning" in line] == [
        f"warning: {warning}" for warning in warnings
    ]
    agreed = "\n".join(FAMILIES[:3])
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=agreed))
    assert rows[-1]["summary"]["warnings"] == []


@pytest.mark.parametrize("name", ["mixed-programmes.jsonl", "families.jsonl"])
def test_the_summary_warns_of_what_pbr_evaluates_summary_warns_of(app: Any, name: str) -> None:
    """The example plans judged against and claims closed were said by pbr evaluate only."""
    when = "2021-03-31"
    body = (EXAMPLES / name).read_bytes()
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params={"as_of": when}, content=body))
    warnings = rows[-1]["summary"]["warnings"]
    _, out, err = cli("evaluate", str(EXAMPLES / name), "--as-of", when)
    said = [
        line.strip().removeprefix("pbr: ").removeprefix("warning: ")
        for line in (out + err).splitlines()
        if line.strip().startswith(("warning: ", "pbr: warning: ", "claims closed on"))
    ]
    block = (out + err).split("families with warnings (", 1)
    warned = block[1].split("\n")[1:] if len(block) > 1 else []
    codes = [
        line.split() for line in warned if line.startswith("    ") and line.split()[0].isupper()
    ]
    said += [  # the summary's block of warning codes, as the server words each line
        f"{code}: {' '.join(count)} warned of it (their decisions' warnings say why)"
        for code, *count in codes
    ]
    assert said  # the example plans (mixed), the first phase's claims closed (both)
    assert len(warnings) == len(said)
    for line in said:
        assert any(warning.endswith(line) for warning in warnings), (line, warnings)
    assert "tf-phase-1: claims closed on 2015-05-31: these could not be claimed" in " ".join(
        warnings
    )


def test_the_openapi_document_describes_the_summarys_warnings(app: Any) -> None:
    schemas = call(app, "GET", "/openapi.json").json()["components"]["schemas"]
    warnings = schemas["Totals"]["properties"]["warnings"]
    assert warnings["type"] == "array"
    assert warnings["items"] == {"type": "string"}
    assert "differ only in case" in warnings["description"]
    assert "warnings" in schemas["Totals"]["required"]


def test_a_batch_sent_in_odd_pieces_reads_the_same(app: Any) -> None:
    body = ("\r\n".join(FAMILIES[:8]) + "\n").encode()
    whole = call(app, "POST", "/v1/evaluate/batch", params=Q, content=body)
    pieces = [body[i : i + 997] for i in range(0, len(body), 997)]
    split = call(app, "POST", "/v1/evaluate/batch", params=Q, content=chunks(pieces))
    assert split.text == whole.text
    assert lines_of(whole)[-1]["summary"]["evaluated"] == 8


def test_a_batch_with_a_byte_order_mark_and_no_final_newline(app: Any) -> None:
    body = b"\xef\xbb\xbf" + "\n".join(FAMILIES[:2]).encode()
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=body))
    assert [r.get("family_id") for r in rows[:2]] == [
        json.loads(FAMILIES[0])["family_id"],
        json.loads(FAMILIES[1])["family_id"],
    ]


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"Content-Encoding": "gzip"}, "Content-Encoding 'gzip' is not accepted"),
        ({"Content-Type": "application/json; charset=utf-16"}, "charset='utf-16'"),
        ({"Content-Type": 'application/x-ndjson; charset="latin-1"'}, "charset='latin-1'"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/evaluate/batch", "/v1/explain"])
def test_a_body_pbr_cannot_read_as_sent_is_a_415(
    app: Any, path: str, headers: dict[str, str], said: str
) -> None:
    """A gzipped body had every line rejected as "save the file as UTF-8"; a UTF-16 one too."""
    import gzip

    body = FAMILIES[0].encode()
    if "Content-Encoding" in headers:
        body = gzip.compress(body)
    answer = call(app, "POST", path, params=Q, content=body, headers=headers)
    assert answer.status_code == 415, answer.text
    assert said in answer.json()["detail"]


def _not_lines(kind: str) -> bytes:
    """A body that is not lines of UTF-8 text, as a file ``pbr evaluate`` refuses is not."""
    import gzip

    second = FAMILIES[0].replace("EX-001", "EX-002")
    return {
        "cr": (FAMILIES[0] + "\r" + second + "\r").encode(),
        "utf-16": (FAMILIES[0] + "\n").encode("utf-16"),
        "utf-16-le": (FAMILIES[0] + "\n" + second + "\n").encode("utf-16-le"),
        "gzip": gzip.compress((FAMILIES[0] + "\n").encode()),
    }[kind]


@pytest.mark.parametrize("kind", ["cr", "utf-16", "utf-16-le", "gzip"])
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/evaluate/batch", "/v1/explain"])
def test_a_body_pbr_evaluate_would_refuse_as_a_file_is_a_415(
    app: Any, tmp_path: Path, path: str, kind: str
) -> None:
    """The batch answered 200, its CR-ended lines read as one (the second family dropped), a
    UTF-16 body as a rejection and a line of NUL bytes; /v1/evaluate a 422 ("invalid_utf8").
    ``pbr evaluate`` refuses the file, in the words the 415 now uses."""
    body = _not_lines(kind)
    file = tmp_path / "body.jsonl"
    file.write_bytes(body)
    status, _, err = cli("evaluate", str(file), "--as-of", AS_OF.isoformat())
    assert status == 2
    pieces = [body[:1], body[1:5], body[5:9], body[9:]]
    for content in (body, chunks(pieces)):
        answer = call(app, "POST", path, params=Q, content=content)
        assert answer.status_code == 415, answer.text
        said = answer.json()["detail"]
        assert said.startswith("the request body")
        assert f"pbr: {said.replace('the request body', str(file), 1)}\n" == err


def test_a_batch_whose_lines_end_in_crlf_is_still_read(app: Any) -> None:
    """One CR between records is a CR-alone body only without any LF (as in a file)."""
    body = ("\r\n".join(FAMILIES[:3]) + "\r\n").encode()
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=chunks([body])))
    assert rows[-1]["summary"]["evaluated"] == 3


@pytest.mark.parametrize("end", [b"\r\n", b"\n", b"\r\n\r\n", b""])
def test_a_batchs_rejection_is_the_one_pbr_evaluate_makes_whatever_the_line_end(
    app: Any, tmp_path: Path, end: bytes
) -> None:
    """A CRLF line's rejection kept its \\r in the value, and its column was one more."""
    body = b'{"family_id":"EX-X5"' + end + b'{"family_id":"EX-X6",' + end
    path = tmp_path / "cut.jsonl"
    path.write_bytes(body)
    rejections = tmp_path / "rejections.jsonl"
    cli("evaluate", str(path), "--as-of", AS_OF.isoformat(), "--rejections", str(rejections))
    expected = [json.loads(line) for line in rejections.read_text(encoding="utf-8").splitlines()]
    assert len(expected) == (1 if end == b"" else 2)
    pieces = [body[i : i + 1] for i in range(len(body))]
    for content in (body, chunks(pieces)):
        rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=content))
        got = [
            {**row["rejected"], "source": e["source"]}
            for row, e in zip(rows[:-1], expected, strict=True)
        ]
        assert got == expected


@pytest.mark.parametrize(
    ("end", "status"),
    [(b"", 200), (b"\n", 200), (b"\r\n", 200), (b"\n\n", 413), (b" \n", 413), (b"\r", 413)],
)
@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/explain"])
def test_a_one_family_bodys_line_end_does_not_count_towards_the_record_limit(
    tmp_path: Path, path: str, end: bytes, status: int
) -> None:
    """A record of exactly the limit and a newline was a 413 ("head -1 ... > family.json" makes
    one), though pbr evaluate takes the file and the batch the line: a line end is no part of
    the record. Anything more is still a 413, whether the length is declared or not."""
    limit = len(FAMILIES[0].encode()) + 100
    app = create_app(Settings(max_record_bytes=limit))
    body = b"\xef\xbb\xbf" + _padded(FAMILIES[0], limit) + end
    if status == 200:
        file = tmp_path / "family.json"
        file.write_bytes(body)
        code, _, _ = cli("evaluate", str(file), "--as-of", AS_OF.isoformat(),
                         "--max-record-bytes", str(limit))  # fmt: skip
        assert code == 0
    for content in (body, chunks([body[:limit], body[limit:]]), chunks([body])):
        answer = call(app, "POST", path, params=Q, content=content)
        assert answer.status_code == status, answer.text
        if status == 413:
            assert answer.json()["detail"] == (
                f"the request body is larger than the limit of {limit:,} bytes"
            )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "application/json; charset=UTF-8"}, {"Content-Encoding": "identity"}],
)
def test_a_utf8_body_is_read_whatever_its_headers_say_of_it(
    app: Any, headers: dict[str, str]
) -> None:
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0], headers=headers)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("path", ["/v1/evaluate", "/v1/explain"])
@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/xml", 415),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json", 200),
        ("Application/JSON; charset=utf-8", 200),
        ("application/vnd.pbr.family+json", 200),
        (None, 200),
    ],
)
def test_a_family_is_sent_as_json_or_without_a_content_type(
    app: Any, path: str, content_type: str | None, status: int
) -> None:
    """application/xml was evaluated, though the OpenAPI document takes only JSON."""
    headers = {"Content-Type": content_type} if content_type else {}
    answer = call(app, "POST", path, params=Q, content=FAMILIES[0], headers=headers)
    assert answer.status_code == status, answer.text
    if status == 415:
        said = f"Content-Type {content_type!r} is not accepted: send the family record as JSON"
        assert answer.json()["detail"] == f"{said} (application/json)"


def test_a_json_array_is_refused_with_a_400(app: Any) -> None:
    body = "[" + ",".join(FAMILIES[:2]) + "]"
    answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=body)
    assert answer.status_code == 400
    assert "JSON Lines" in answer.json()["detail"]


def test_an_empty_batch_is_just_its_summary(app: Any) -> None:
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=b"\n\n"))
    assert rows == [
        {
            "summary": {
                "records": 0,
                "evaluated": 0,
                "rejected": 0,
                "complete": True,
                "stopped": None,
                "programmes": {},
                "payable": "0.00",
                "councils": [],
                "warnings": [],
            }
        }
    ]


def test_a_line_over_the_limit_is_rejected_and_the_batch_goes_on() -> None:
    app = create_app(Settings(max_record_bytes=5000))
    long_line = json.dumps({"family_id": "LONG", "padding": "x" * 9000})
    body = "\n".join([FAMILIES[0], long_line, FAMILIES[1]]) + "\n"
    pieces = [body.encode()[i : i + 1500] for i in range(0, len(body), 1500)]
    for content in (body, chunks(pieces)):
        rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=content))
        assert rows[0]["family_id"] == json.loads(FAMILIES[0])["family_id"]
        rejected = rows[1]["rejected"]
        assert (rejected["line"], rejected["record"]) == (2, 2)
        assert rejected["errors"][0]["type"] == "record_too_large"
        assert rows[2]["family_id"] == json.loads(FAMILIES[1])["family_id"]
        assert rows[3]["summary"]["complete"] is True


def _padded(record: str, size: int) -> bytes:
    """`record` with spaces after its opening brace, to exactly `size` bytes."""
    return ("{" + " " * (size - len(record.encode())) + record[1:]).encode()


@pytest.mark.parametrize("extra", [0, 1])
def test_a_byte_order_mark_does_not_count_towards_the_record_limit(
    tmp_path: Path, extra: int
) -> None:
    """The batch counted it (a record of exactly the limit after a BOM was record_too_large)
    and pbr evaluate did not; the one-family endpoint counted it too."""
    limit = max(len(f.encode()) for f in FAMILIES[:2]) + 100
    app = create_app(Settings(max_record_bytes=limit))
    first = b"\xef\xbb\xbf" + _padded(FAMILIES[0], limit + extra)
    body = first + b"\n" + FAMILIES[1].encode() + b"\n"
    path = tmp_path / "bom.jsonl"
    path.write_bytes(body)
    rejections = tmp_path / "rejections.jsonl"
    _, out, _ = cli("evaluate", str(path), "--as-of", AS_OF.isoformat(), "--format", "json",
                    "--max-record-bytes", str(limit), "--rejections", str(rejections))  # fmt: skip
    pieces = [body[i : i + 1] for i in range(4)] + [body[4:]]
    for content in (body, chunks(pieces)):
        answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=content)
        if extra:
            expected = json.loads(rejections.read_text(encoding="utf-8"))
            rejected = lines_of(answer)[0]["rejected"]
            assert {**rejected, "source": expected["source"]} == expected
        else:
            assert "".join(answer.text.splitlines(keepends=True)[:2]) == out
    for content in (first, chunks([first[:2], first[2:]])):
        one = call(app, "POST", "/v1/evaluate", params=Q, content=content)
        assert one.status_code == (413 if extra else 200), one.text


def test_a_line_over_the_limit_is_the_rejection_pbr_evaluate_makes(tmp_path: Path) -> None:
    """The same family, council, value and message as the command's (the API said "no family"
    and "a line of more than 5,000 bytes"), however the body arrives."""
    app = create_app(Settings(max_record_bytes=5000))
    long_line = json.dumps({"family_id": "LONG", "local_authority": "Leeds", "pad": "x" * 9000})
    body = "\n".join([FAMILIES[0], long_line, FAMILIES[1]]) + "\n"
    path = tmp_path / "body.jsonl"
    path.write_text(body, encoding="utf-8")
    rejections = tmp_path / "rejections.jsonl"
    cli("evaluate", str(path), "--as-of", AS_OF.isoformat(), "--format", "json",
        "--max-record-bytes", "5000", "--rejections", str(rejections))  # fmt: skip
    expected = json.loads(rejections.read_text(encoding="utf-8"))
    assert (expected["family_id"], expected["local_authority"]) == ("LONG", "Leeds")
    pieces = [body.encode()[i : i + 1500] for i in range(0, len(body), 1500)]
    for content in (body, chunks(pieces)):
        rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=content))
        assert {**rows[1]["rejected"], "source": expected["source"]} == expected


@settings(max_examples=60)
@example(texts=["x" * 30, ""], cuts=[31], crlf=True, final_newline=False)  # \r, then \n alone
@given(
    texts=st.lists(st.sampled_from(["", " ", "a", "bb", "x" * 30, "é", "{}"]), max_size=12),
    cuts=st.lists(st.integers(0, 200), max_size=8),
    crlf=st.booleans(),
    final_newline=st.booleans(),
)
def test_lines_are_split_the_same_however_the_body_arrives(
    texts: list[str], cuts: list[int], crlf: bool, final_newline: bool
) -> None:
    from pbr.io import HEAD
    from pbr.serve._batch import _Cut, _Lines

    body = ("\r\n" if crlf else "\n").join(texts).encode()
    body += b"\n" if final_newline and texts else b""
    marks = sorted({min(c, len(body)) for c in cuts})
    parts = [body[a:b] for a, b in zip([0, *marks], [*marks, len(body)], strict=True)]
    splitter = _Lines(limit=20)
    found = []
    for n, part in enumerate(parts):
        found += splitter.feed(part, final=n == len(parts) - 1)
    pieces = body.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    records = [p.removesuffix(b"\r") for p in pieces]  # read as pbr evaluate reads a line
    assert found == [
        (n, _Cut(p[:HEAD], len(r)) if len(r) > 20 else r)
        for n, (p, r) in enumerate(zip(pieces, records, strict=True), start=1)
    ]


def test_a_batch_that_runs_out_of_time_says_so_in_its_summary() -> None:
    app = create_app(Settings(batch_timeout=0.001))
    body = "\n".join(FAMILIES[:3] * 50)
    pieces = [body.encode()[i : i + 4000] for i in range(0, len(body), 4000)]
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=chunks(pieces)))
    summary = rows[-1]["summary"]
    assert summary["complete"] is False
    assert "longer than" in summary["stopped"]
    assert summary["records"] < 150


def test_a_batch_bigger_than_the_upload_limit_stops(app: Any) -> None:
    small = create_app(Settings(max_record_bytes=10_000, max_upload_bytes=20_000))
    body = ("\n".join(FAMILIES) + "\n").encode()
    declared = call(small, "POST", "/v1/evaluate/batch", params=Q, content=body)
    assert declared.status_code == 413
    assert declared.headers["connection"] == "close"
    pieces = [body[i : i + 5000] for i in range(0, len(body), 5000)]
    streamed = call(small, "POST", "/v1/evaluate/batch", params=Q, content=chunks(pieces))
    summary = lines_of(streamed)[-1]["summary"]
    assert summary["complete"] is False
    assert "20,000 bytes" in summary["stopped"]


# --- limits ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_before_it_is_read() -> None:
    app = create_app(Settings(max_record_bytes=1000))
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0].encode() * 2)
    assert answer.status_code == 413
    assert answer.headers["connection"] == "close"
    assert answer.json()["title"] == "Request Entity Too Large"
    assert "1,000 bytes" in answer.json()["detail"]
    body = FAMILIES[0].encode() * 2
    chunked = call(app, "POST", "/v1/evaluate", params=Q, content=chunks([body[:600], body[600:]]))
    assert chunked.status_code == 413


def test_a_body_too_slow_to_arrive_is_a_408() -> None:
    app = create_app(Settings(timeout=0.2))
    body = FAMILIES[0].encode()
    slow = chunks([body[:100], body[100:]], pause=0.5)
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=slow)
    assert answer.status_code == 408
    assert answer.headers["connection"] == "close"
    assert "0.2 seconds" in answer.json()["detail"]


def test_a_batch_whose_body_stops_arriving_is_a_408_or_a_stopped_summary() -> None:
    app = create_app(Settings(timeout=0.2))
    nothing_yet = chunks([b"", FAMILIES[0].encode()], pause=0.5)
    early = call(app, "POST", "/v1/evaluate/batch", params=Q, content=nothing_yet)
    assert early.status_code == 408
    later = chunks([FAMILIES[0].encode() + b"\n", FAMILIES[1].encode()], pause=0.3)
    answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=later)
    assert answer.status_code == 200
    summary = lines_of(answer)[-1]["summary"]
    assert (summary["complete"], summary["evaluated"]) == (False, 1)
    assert "0.2 seconds" in summary["stopped"]


# --- access ----------------------------------------------------------------------------------


def test_a_token_is_needed_everywhere_but_health() -> None:
    app = create_app(Settings(token=TOKEN))
    good = {"Authorization": f"Bearer {TOKEN}"}
    for headers in [
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": TOKEN},
    ]:
        answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0], headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.headers["x-pbr-version"] == pbr.__version__
        assert call(app, "GET", "/v1/rules", headers=headers).status_code == 401
        assert call(app, "GET", "/openapi.json", headers=headers).status_code == 401
    assert call(app, "GET", "/v1/health").status_code == 200
    ok = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0], headers=good)
    assert ok.status_code == 200
    lower = {"Authorization": f"bearer {TOKEN}"}
    assert call(app, "GET", "/v1/rules", headers=lower).status_code == 200


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare)
    app = create_app(Settings(token=TOKEN))
    call(app, "GET", "/v1/rules", headers={"Authorization": "Bearer x"})
    call(app, "GET", "/v1/rules", headers={"Authorization": f"Bearer {TOKEN}"})
    assert len(seen) == 2
    assert all(len(a) == len(b) == 32 for a, b in seen)  # digests: the length says nothing


def test_only_the_allowed_host_names_are_answered(app: Any) -> None:
    for host in ["127.0.0.1:8000", "localhost", "[::1]:8000"]:
        assert call(app, "GET", "/v1/rules", headers={"Host": host}).status_code == 200, host
    rebound = call(app, "GET", "/v1/rules", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 400
    assert "127.0.0.1" in rebound.json()["detail"]
    anyone = create_app(Settings(token=TOKEN, allowed_hosts=("*",)))
    headers = {"Host": "pbr.council.example", "Authorization": f"Bearer {TOKEN}"}
    assert call(anyone, "GET", "/v1/rules", headers=headers).status_code == 200


def test_no_cors_unless_asked(app: Any) -> None:
    origin = {"Origin": "https://casework.example"}
    plain = call(app, "GET", "/v1/health", headers=origin)
    assert "access-control-allow-origin" not in plain.headers
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    assert (
        "access-control-allow-origin"
        not in call(app, "OPTIONS", "/v1/evaluate", headers=preflight).headers
    )
    allowed = create_app(Settings(token=TOKEN, cors_origins=("https://casework.example",)))
    answer = call(allowed, "OPTIONS", "/v1/evaluate", headers=preflight)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://casework.example"
    other = call(allowed, "GET", "/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "asked",
    [
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        {"Origin": "https://casework.example", "Access-Control-Request-Method": "DELETE"},
    ],
)
def test_a_refused_cors_preflight_is_a_problem(asked: dict[str, str]) -> None:
    """It was plain text, "Disallowed CORS origin": every error is a problem."""
    allowed = create_app(Settings(cors_origins=("https://casework.example",)))
    answer = call(allowed, "OPTIONS", "/v1/evaluate", headers=asked)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("Disallowed CORS ")
    assert answer.json()["status"] == 400


def test_binding_off_loopback_needs_a_token() -> None:
    from pbr.serve._settings import check_bind

    for host in ["127.0.0.1", "::1", "localhost", "127.0.0.2"]:
        check_bind(host, None)
    for host in ["0.0.0.0", "::", "10.1.2.3", "pbr.council.example"]:
        with pytest.raises(ValueError, match="token"):
            check_bind(host, None)
        check_bind(host, TOKEN)


# --- errors and logs -------------------------------------------------------------------------


def test_an_error_in_the_library_rejects_that_record_and_logs_no_data(
    app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pbr.batch

    real = pbr.batch._Job.one
    family_id = json.loads(FAMILIES[1])["family_id"]

    def failing(self: Any, n: int, item: Any) -> Any:
        text = item if isinstance(item, str | bytes) else b""
        if family_id.encode() in (text.encode() if isinstance(text, str) else text):
            raise OverflowError(f"secret value 1979-04-02 of {family_id}")
        return real(self, n, item)

    monkeypatch.setattr(pbr.batch._Job, "one", failing)
    caplog.set_level(logging.INFO, logger="pbr.serve")
    one = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[1])
    assert one.status_code == 422
    error = one.json()["errors"][0]
    assert error["type"] == "evaluation_error"
    assert one.json()["family_id"] == family_id
    body = "\n".join(FAMILIES[:3])
    rows = lines_of(call(app, "POST", "/v1/evaluate/batch", params=Q, content=body))
    assert rows[0]["family_id"] == json.loads(FAMILIES[0])["family_id"]
    assert rows[1]["rejected"]["errors"][0]["type"] == "evaluation_error"
    assert rows[1]["rejected"]["line"] == 2
    assert rows[2]["family_id"] == json.loads(FAMILIES[2])["family_id"]
    logged = caplog.text
    assert "OverflowError" in logged
    assert "secret" not in logged
    assert "1979" not in logged
    assert family_id not in logged


def test_an_error_outside_evaluation_is_a_500_without_a_traceback(
    app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pbr.serve import _documents

    def broken() -> Any:
        raise RuntimeError("family F1 born 1979-04-02")

    monkeypatch.setattr(_documents, "rule_sets", broken)
    caplog.set_level(logging.INFO, logger="pbr.serve")
    answer = call(app, "GET", "/v1/rules")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-pbr-version"] == pbr.__version__
    detail = answer.json()["detail"]
    assert "Traceback" not in answer.text
    assert "1979" not in answer.text
    error_id = detail.split("error ")[1].split()[0]
    assert f"error {error_id}" in caplog.text
    assert "RuntimeError" in caplog.text
    assert "1979" not in caplog.text


def test_the_access_log_has_no_family_data_and_ids_only_when_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pbr.serve")
    record = json.loads(FAMILIES[0])
    for log_ids in (False, True):
        caplog.clear()
        app = create_app(Settings(log_ids=log_ids))
        call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
        call(app, "POST", "/v1/evaluate/batch", params=Q, content="\n".join(FAMILIES[:4]))
        lines = [r.getMessage() for r in caplog.records if r.name == "pbr.serve"]
        assert len(lines) == 2
        assert lines[0].startswith("POST /v1/evaluate 200 ")
        assert "records=4 evaluated=4 rejected=0" in lines[1]
        text = "\n".join(lines)
        assert (record["family_id"] in text) is log_ids
        for member in record["members"]:
            assert member["date_of_birth"] not in text
        assert "2015-03-31" not in text  # not even the query string
    caplog.clear()
    quiet = create_app(Settings(access_log=False))
    call(quiet, "GET", "/v1/health")
    assert not [r for r in caplog.records if r.name == "pbr.serve"]


def test_unknown_paths_and_methods_are_problems(app: Any) -> None:
    assert call(app, "GET", "/v1/nothing").status_code == 404
    wrong = call(app, "GET", "/v1/evaluate", params=Q)
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/v1/evaluate/", "/v1/evaluate/batch/", "/v1/audit/"])
def test_a_path_with_a_trailing_slash_is_a_404_problem(app: Any, path: str) -> None:
    """It was a 307 to the path without the slash, an absolute http:// URL (behind a proxy that
    terminates TLS, the internal address)."""
    answer = call(app, "POST", path, params=Q, content=FAMILIES[0])
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "location" not in answer.headers
    assert call(app, "GET", "/v1/health/").status_code == 404


@pytest.mark.parametrize(
    "path", ["/v1/health", "/v1/rules", "/v1/schema/family", "/v1/schema/decision", "/openapi.json"]
)
def test_head_is_answered_wherever_get_is(app: Any, path: str) -> None:
    """It was a 405 (Allow: GET): load balancers probe with HEAD."""
    got, head = call(app, "GET", path), call(app, "HEAD", path)
    assert head.status_code == 200
    assert head.content == b""
    assert dict(head.headers.items()) == dict(got.headers.items())  # content-length included
    assert int(head.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize("path", ["/v1/health", "/v1/rules", "/openapi.json"])
def test_a_405_where_get_is_answered_allows_head_too(app: Any, path: str) -> None:
    """Allow said GET alone, though HEAD is answered wherever GET is."""
    answer = call(app, "DELETE", path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
    assert call(app, "HEAD", path).status_code == 200


def test_head_where_only_post_is_answered_is_a_405(app: Any) -> None:
    answer = call(app, "HEAD", "/v1/evaluate", params=Q)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.content == b""


# --- explain ---------------------------------------------------------------------------------


def test_explain_gives_the_working_paper_as_text_and_as_json(app: Any) -> None:
    decision = pbr.evaluate(pbr.Family.model_validate_json(FAMILIES[2]), as_of=AS_OF)
    text = call(app, "POST", "/v1/explain", params=Q, content=FAMILIES[2])
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == decision.explain()
    as_json = call(app, "POST", "/v1/explain", params={**Q, "format": "json"}, content=FAMILIES[2])
    assert as_json.json() == {
        "decision": json.loads(decision.model_dump_json()),
        "working_paper": decision.explain(),
    }
    assert as_json.text.startswith('{"decision":' + decision.model_dump_json() + ",")


def test_explain_matches_pbr_explain(app: Any, tmp_path: Path) -> None:
    family_id = json.loads(FAMILIES[7])["family_id"]
    status, out, _ = cli(
        "explain", str(EXAMPLES / "families.jsonl"), family_id, "--as-of", "2015-03-31"
    )
    assert status == 0
    assert call(app, "POST", "/v1/explain", params=Q, content=FAMILIES[7]).text == out


def test_explain_rejects_like_evaluate(app: Any) -> None:
    body = b'{"family_id": "F9", "attached_on": "2013-02-30", "members": []}'
    answer = call(app, "POST", "/v1/explain", params=Q, content=body)
    assert answer.status_code == 422
    assert answer.json() == library_json(body, AS_OF)
    assert (
        call(app, "POST", "/v1/explain", params={**Q, "format": "pdf"}, content=body).status_code
        == 400
    )


# --- audit -----------------------------------------------------------------------------------


def _audit_files(claims: Path | None = None) -> dict[str, Any]:
    claims = claims or EXAMPLES / "claims.csv"
    return {
        "claims": (claims.name, claims.read_bytes(), "text/csv"),
        "families": ("families.jsonl", (EXAMPLES / "families.jsonl").read_bytes()),
    }


def test_audit_as_json_is_the_librarys_verification(app: Any) -> None:
    from pbr import audit

    answer = call(app, "POST", "/v1/audit", files=_audit_files())
    assert answer.status_code == 200, answer.text
    report = answer.json()
    families = [
        f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)
    ]
    expected = audit.verify(EXAMPLES / "claims.csv", families)
    assert [c["claim_id"] for c in report["claims"]] == [c.claim.claim_id for c in expected.checks]
    for shown, check in zip(report["claims"], expected.checks, strict=True):
        row = check.as_row()
        assert shown == {k: v if isinstance(v, int) else str(v) for k, v in row.items()}
    assert (
        report["reconciliation"][-1]["claimed"] == f"{expected.reconciliation()[-1]['claimed']:.2f}"
    )
    assert len(report["missed"]) == len(expected.missed)
    assert report["as_of"] == expected.as_of.isoformat()  # type: ignore[union-attr]
    assert report["sample"] is None


@pytest.mark.parametrize(
    ("claims", "families"),
    [("€.csv", "families.jsonl"), ("claims.csv", "日本.jsonl"), ("Ärzte 2015.CSV", "ü.JSON")],
)
def test_audit_file_names_with_any_letters_are_judged_by_their_suffix(
    app: Any, claims: str, families: str
) -> None:
    """'€.csv' was refused: "the file name must end in .csv" (cleaned, it had become 'csv')."""
    plain = call(app, "POST", "/v1/audit", files=_audit_files())
    files = {
        "claims": (claims, (EXAMPLES / "claims.csv").read_bytes()),
        "families": (families, (EXAMPLES / "families.jsonl").read_bytes()),
    }
    if families.endswith(".JSON"):  # a JSON array of the same records
        records = [json.loads(line) for line in FAMILIES]
        files["families"] = (families, json.dumps(records).encode())
    answer = call(app, "POST", "/v1/audit", files=files)
    assert answer.status_code == 200, answer.text
    assert answer.json()["reconciliation"] == plain.json()["reconciliation"]


def test_audit_reports_in_other_formats_are_write_reports(app: Any, tmp_path: Path) -> None:
    from pbr import audit

    families = [
        f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)
    ]
    expected = audit.verify(EXAMPLES / "claims.csv", families)
    for fmt, media in [("html", "text/html"), ("md", "text/markdown"), ("csv", "text/csv")]:
        answer = call(app, "POST", "/v1/audit", params={"format": fmt}, files=_audit_files())
        assert answer.status_code == 200, fmt
        assert answer.headers["content-type"].startswith(media)
        (tmp_path / "claims").mkdir(exist_ok=True)
        path = audit.write_report(expected, tmp_path / "claims" / f"audit.{fmt}")
        if fmt == "csv":
            assert answer.text == path.read_text(encoding="utf-8")
        else:
            assert "C-001" in answer.text
    html = call(app, "POST", "/v1/audit", params={"format": "html"}, files=_audit_files())
    assert "default-src 'none'" in html.headers["content-security-policy"]


def test_audit_sample_and_interpretations(app: Any) -> None:
    from pbr import audit

    answer = call(
        app,
        "POST",
        "/v1/audit",
        params={"sample": 3, "seed": "2015"},
        files=_audit_files(),
        data={"interpretation": "employment_weeks=all_13"},
    )
    assert answer.status_code == 200, answer.text
    claims, _ = audit.read_claims(EXAMPLES / "claims.csv")
    drawn = audit.sample(claims, size=3, seed="2015")
    assert answer.json()["sample"] == [c.claim_id for c in drawn.claims]
    switched = call(app, "GET", "/v1/rules", params={"interpretation": "employment_weeks=all_13"})
    assert answer.headers["x-pbr-rules-hash"] == switched.headers["x-pbr-rules-hash"]


@pytest.mark.parametrize(
    ("kwargs", "status", "said"),
    [
        ({"content": b"claims", "headers": {"Content-Type": "text/csv"}}, 415, "multipart"),
        ({"files": {"families": ("f.jsonl", b"")}}, 400, "'claims'"),
        ({"files": {"claims": ("c.csv", b"")}}, 400, "'families'"),
        ({"files": {"claims": ("c.exe", b""), "families": ("f.jsonl", b"")}}, 400, ".csv"),
        ({"files": {**_audit_files(), "other": ("x.txt", b"")}}, 400, "unknown part"),
        ({"files": _audit_files(), "params": {"sample": 0}}, 400, "sample"),
        ({"files": _audit_files(), "params": {"as_of": "soon"}}, 400, "as_of"),
        (
            {"files": _audit_files(), "data": {"interpretation": "employment_weeks=x"}},
            400,
            "jsa_26_other_13",
        ),
        (
            {"files": {**_audit_files(), "plan": ("p.toml", b"id = ")}},
            400,
            "plan",
        ),
    ],
    ids=[
        "not-multipart",
        "no-claims",
        "no-families",
        "claims-suffix",
        "extra-part",
        "sample-0",
        "bad-date",
        "bad-interpretation",
        "bad-plan",
    ],
)
def test_audit_requests_that_cannot_be_audited(
    app: Any, kwargs: dict[str, Any], status: int, said: str
) -> None:
    answer = call(app, "POST", "/v1/audit", **kwargs)
    assert answer.status_code == status, answer.text
    assert said in answer.json()["detail"]
    assert "/tmp" not in answer.text


def test_audit_plans_are_read_off_the_event_loop(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow plan held every other request: plans were read on the loop, the audit in a thread."""
    import asyncio

    from pbr.serve import _audit

    on_loop: list[bool] = []
    load = _audit.load_plans

    def watched(paths: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            on_loop.append(False)
        else:
            on_loop.append(True)
        return load(paths)

    monkeypatch.setattr(_audit, "load_plans", watched)
    plan = _plan_file(tmp_path, "county-sf").read_bytes()
    files = {**_audit_files(), "plan": ("p.toml", plan)}
    answer = call(app, "POST", "/v1/audit", files=files)
    assert answer.status_code == 200, answer.text
    assert on_loop == [False]


def test_a_claim_file_nested_too_deep_is_a_400_in_pbrs_words(app: Any) -> None:
    """It quoted Python: "maximum recursion depth exceeded while decoding a JSON array"."""
    files = {
        **_audit_files(),
        "claims": ("deep.json", b"[" * 5000 + b"]" * 5000, "application/json"),
    }
    answer = call(app, "POST", "/v1/audit", files=files)
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "arrays or objects nested 5000 deep: more than pbr reads" in detail
    assert "recursion" not in detail


def test_an_audit_plan_with_yaml_aliases_is_a_400_naming_the_line(app: Any) -> None:
    pytest.importorskip("yaml")
    plan = b"id: p\nversion: '1'\nprogramme: tf-phase-2\ntitle: &t x\n"
    answer = call(app, "POST", "/v1/audit", files={**_audit_files(), "plan": ("p.yaml", plan)})
    assert answer.status_code == 400, answer.text
    said = "plan: p.yaml: line 4: YAML anchors (&t) are not read in a plan: write the value out"
    assert answer.json()["detail"] == said


@pytest.mark.parametrize(("stray", "value"), [("seed", "7"), ("strata", "kind")])
def test_audit_refuses_a_seed_or_strata_without_a_sample_as_the_cli_does(
    app: Any, stray: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once ignored: a client asking for seed=7 alone got no sample and no word why."""
    from pbr.cli import main

    answer = call(app, "POST", "/v1/audit", params={stray: value}, files=_audit_files())
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    said = f"{stray} applies only to a sample: add sample=N or fraction=F"
    assert answer.json()["detail"] == said
    argv = ["audit", str(EXAMPLES / "claims.csv"), "--families", str(EXAMPLES / "families.jsonl")]
    assert main([*argv, f"--{stray}", value]) == 2
    cli = f"pbr: --{stray} applies only to a sample: add --sample N, --fraction F or --sample-method mus\n"
    assert capsys.readouterr().err == cli
    assert call(app, "POST", "/v1/audit", params={stray: value, "sample": 3}, files=_audit_files()).status_code == 200  # fmt: skip


def test_audit_refuses_a_seed_with_a_control_character_as_the_cli_does(app: Any) -> None:
    """The seed is printed in the report as the text hashed: an escape there was raw in .csv,
    .html and .md reports and escaped in .xlsx ones."""
    params = {"sample": 1, "seed": "\x1b[31mRED"}
    answer = call(app, "POST", "/v1/audit", params=params, files=_audit_files())
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == (
        "sample: seed '\\x1b[31mRED' has a control character, U+001B, at character 1: a seed "
        "is printed in every report as the text hashed, so it must be printable"
    )


def test_audit_with_malformed_rows_and_bad_families(app: Any, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        (EXAMPLES / "claims.csv").read_text(encoding="utf-8")
        + "C-999,EX-010,attachment_fee,12.345,2015-03-31,\n",
        encoding="utf-8",
    )
    files = _audit_files(claims)
    files["families"] = (
        "families.jsonl",
        (EXAMPLES / "families.jsonl").read_bytes() + b'{"family_id": "BROKEN"}\n',
    )
    report = call(app, "POST", "/v1/audit", files=files).json()
    _, malformed = pbr.audit.read_claims(claims)
    assert [m["claim_id"] for m in report["malformed"]] == [m.claim_id for m in malformed]
    assert report["malformed"][-1]["claim_id"] == "C-999"
    assert report["malformed"][-1]["field"] == "amount"
    assert [r["family_id"] for r in report["family_rejections"]] == ["BROKEN"]
    assert report["family_rejections"][0]["source"] == "families.jsonl"


def test_audit_shows_a_claim_id_with_white_space_around_it_as_read(
    app: Any, tmp_path: Path
) -> None:
    """`` C-001`` and ``C-998\\t`` were ``C-001`` and ``C-998``: the first like the claim C-001."""
    claims = tmp_path / "claims.csv"
    claims.write_text(
        (EXAMPLES / "claims.csv").read_text(encoding="utf-8")
        + " C-001,EX-012,crime_asb_education,700.00,2015-03-31,\n"
        + "C-998\t,EX-012,crime_asb_education,700.00,2015-03-31,\n",
        encoding="utf-8",
    )
    report = call(app, "POST", "/v1/audit", files=_audit_files(claims)).json()
    assert [m["claim_id"] for m in report["malformed"]][-2:] == [" C-001", "C-998\t"]
    md = call(app, "POST", "/v1/audit", params={"format": "md"}, files=_audit_files(claims)).text
    rows = claims.read_text(encoding="utf-8").count("\n")  # the last two, by their row numbers
    assert f"| {rows - 1} | ' C-001' | " in md
    assert f"| {rows} | 'C-998\\\\t' | " in md  # Markdown escapes the backslash


def _paid_ex010(tmp_path: Path) -> Path:
    """EX-010's record with its crime/ASB/education result already paid (claim OLD)."""
    for line in (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["family_id"] == "EX-010":
            record.setdefault("payments", []).append(
                {
                    "kind": "crime_asb_education",
                    "amount": "1500.00",
                    "paid_on": "2015-01-01",
                    "claim_id": "OLD",
                }
            )
            path = tmp_path / "paid.jsonl"
            path.write_text(json.dumps(record) + "\n", encoding="utf-8")
            return path
    raise AssertionError("no EX-010 in the examples")


def _cli_report(tmp_path: Path, *families: Path) -> tuple[int, str, str]:
    """``pbr audit --report audit.csv`` on the example claims: status, report, standard error."""
    report = tmp_path / "cli" / "audit.csv"
    report.parent.mkdir(exist_ok=True)
    argv = [arg for f in families for arg in ("--families", str(f))]
    status, _, err = cli("audit", str(EXAMPLES / "claims.csv"), *argv, "--report", str(report))
    return status, report.read_text(encoding="utf-8") if report.exists() else "", err


@pytest.mark.parametrize("first", ["paid", "examples"])
def test_audit_families_parts_are_read_as_pbr_audit_reads_its_files(
    app: Any, tmp_path: Path, first: str
) -> None:
    """A family in two parts: the API kept the last record (C-001 verified), the CLI the first
    (C-001 a duplicate of the payment already made)."""
    paid, examples = _paid_ex010(tmp_path), EXAMPLES / "families.jsonl"
    order = [paid, examples] if first == "paid" else [examples, paid]
    files = [("claims", ("claims.csv", (EXAMPLES / "claims.csv").read_bytes()))] + [
        ("families", (path.name, path.read_bytes())) for path in order
    ]
    answer = call(app, "POST", "/v1/audit", params={"format": "csv"}, files=files)
    assert answer.status_code == 200, answer.text
    _, report, err = _cli_report(tmp_path, *order)
    assert answer.text == report
    assert "family 'EX-010' is in an earlier --families file too" in err
    shown = call(app, "POST", "/v1/audit", files=files).json()
    flags = {c["claim_id"]: c["flags"] for c in shown["claims"] if c["family_id"] == "EX-010"}
    assert ("DUPLICATE_OF_PAYMENT" in flags["C-001"]) is (first == "paid")
    (repeat,) = shown["family_rejections"]  # the later record: not used, and said so
    assert (repeat["family_id"], repeat["source"]) == ("EX-010", order[1].name)
    assert repeat["errors"][0]["type"] == "duplicate_family"
    assert "the first record is used" in repeat["errors"][0]["message"]


@pytest.mark.parametrize("also", [False, True])
def test_an_empty_families_part_is_refused_as_pbr_audit_refuses_it(
    app: Any, tmp_path: Path, also: bool
) -> None:
    """It was audited as if no family had evidence: every claim flagged, HTTP 200."""
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    files = [("claims", ("claims.csv", (EXAMPLES / "claims.csv").read_bytes()))]
    if also:
        files.append(("families", ("families.jsonl", (EXAMPLES / "families.jsonl").read_bytes())))
    files.append(("families", ("empty.jsonl", b"")))
    answer = call(app, "POST", "/v1/audit", files=files)
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == "no family records in empty.jsonl"
    status, _, err = _cli_report(tmp_path, *([EXAMPLES / "families.jsonl"] if also else []), empty)
    assert status == 2
    assert f"no family records in {empty}" in err


def test_audit_claims_of_a_rejected_family_record_are_flagged_as_pbr_audit_flags_them(
    app: Any, tmp_path: Path
) -> None:
    """They were UNKNOWN_FAMILY (and over-claimed): pbr audit says FAMILY_RECORD_REJECTED."""
    broken = tmp_path / "families.jsonl"
    broken.write_text(
        "".join(
            line.replace('"attached_on"', '"attached"') if '"EX-010"' in line else line
            for line in (EXAMPLES / "families.jsonl").read_text("utf-8").splitlines(True)
        ),
        encoding="utf-8",
    )
    files = {
        "claims": ("claims.csv", (EXAMPLES / "claims.csv").read_bytes()),
        "families": ("families.jsonl", broken.read_bytes()),
    }
    answer = call(app, "POST", "/v1/audit", params={"format": "csv"}, files=files)
    assert answer.text == _cli_report(tmp_path, broken)[1]
    shown = call(app, "POST", "/v1/audit", files=files).json()
    flags = {c["claim_id"]: c["flags"] for c in shown["claims"]}
    assert "FAMILY_RECORD_REJECTED" in flags["C-001"]


# --- documents -------------------------------------------------------------------------------


def test_the_family_schema_is_what_pbr_schema_prints(app: Any) -> None:
    _, out, _ = cli("schema")
    assert call(app, "GET", "/v1/schema/family").text == out


def test_the_openapi_descriptions_hold_no_python_examples(app: Any) -> None:
    """They held the docstrings' doctests (47 ``>>>``, a pydantic traceback), cut from the
    schemas /v1/schema/family gives."""
    document = call(app, "GET", "/openapi.json").text
    assert ">>>" not in document
    assert "Traceback" not in document
    components = call(app, "GET", "/openapi.json").json()["components"]["schemas"]
    family = call(app, "GET", "/v1/schema/family").json()
    assert components["Family"]["description"] == family["description"]


def test_decisions_match_the_decision_schema(app: Any) -> None:
    import jsonschema_rs

    schema = call(app, "GET", "/v1/schema/decision").json()
    status, printed, _ = cli("schema", "--decision") if _has_decision_schema() else (1, "", "")
    if status == 0:
        assert schema == json.loads(printed)
    validator = jsonschema_rs.validator_for(schema)
    for line in [FAMILIES[0], MIXED[1], MIXED[-1]]:
        validator.validate(call(app, "POST", "/v1/evaluate", params=Q, content=line).json())
    assert not validator.is_valid({"family_id": "F1"})


def _has_decision_schema() -> bool:
    try:
        cli("schema", "--decision")
    except SystemExit:
        return False
    return True


def test_the_rule_sets_are_what_pbr_rules_prints(app: Any) -> None:
    _, out, _ = cli("rules", "--format", "json")
    document = call(app, "GET", "/v1/rules").json()
    assert document["rule_sets"] == json.loads(out)
    assert document["pbr_version"] == pbr.__version__
    assert [p["programme"] for p in document["in_force"]] == [
        r.programme for r in pbr.rules.RULE_SETS
    ]


def test_health(app: Any) -> None:
    answer = call(app, "GET", "/v1/health").json()
    assert answer["status"] == "ok"
    assert answer["pbr_version"] == pbr.__version__
    assert answer["rules_hash"] == call(app, "GET", "/v1/rules").json()["rules_hash"]


def test_the_openapi_document_is_built_from_the_models(app: Any) -> None:
    document = call(app, "GET", "/openapi.json").json()
    assert document["info"]["version"] == pbr.__version__
    schemas = document["components"]["schemas"]
    for model in ("Family", "Decision", "Rejection", "Problem", "BatchSummary", "AuditReport"):
        assert model in schemas, model
    assert "HTTPValidationError" not in json.dumps(document)
    paths = document["paths"]
    assert set(paths) == {
        "/v1/evaluate",
        "/v1/evaluate/batch",
        "/v1/explain",
        "/v1/audit",
        "/v1/schema/family",
        "/v1/schema/decision",
        "/v1/rules",
        "/v1/health",
        "/openapi.json",
    }
    evaluate = paths["/v1/evaluate"]["post"]
    example = evaluate["requestBody"]["content"]["application/json"]["example"]
    decision = evaluate["responses"]["200"]["content"]["application/json"]["example"]
    assert decision == json.loads(library_json(json.dumps(example), date(2013, 6, 30)))  # type: ignore[arg-type]
    rejection = evaluate["responses"]["422"]["content"]["application/json"]["example"]
    assert set(rejection) == set(pbr.Rejection.model_fields)
    assert "security" not in evaluate
    secured = call(
        create_app(Settings(token=TOKEN)),
        "GET",
        "/openapi.json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert secured["paths"]["/v1/evaluate"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in secured["paths"]["/v1/health"]["get"]


def test_every_example_in_the_openapi_document_is_valid_against_its_schema(app: Any) -> None:
    """The batch's body was a JSON Lines text against the schema of one Family."""
    from jsonschema import Draft202012Validator

    document = call(app, "GET", "/openapi.json").json()
    found = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += list(operation.get("responses", {}).items())
            for where, place in bodies:
                for media, content in place.get("content", {}).items():
                    if "example" not in content:
                        continue
                    found += 1
                    schema = {**content["schema"], "components": document["components"]}
                    errors = list(Draft202012Validator(schema).iter_errors(content["example"]))
                    assert not errors, (path, method, where, media, errors[0].message[:200])
    assert found >= 6


def test_the_openapi_document_lists_the_500_and_503_problems() -> None:
    """A client generated from it had no type for them: a fault, or a ledger that stopped
    verifying (every path that reads it)."""
    paths = call(create_app(), "GET", "/openapi.json").json()["paths"]
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            answers = operation["responses"]
            wanted = {"500"} | ({"503"} if method == "post" or path == "/v1/health" else set())
            for status in wanted:
                assert answers[status]["content"]["application/problem+json"]["schema"] == problem
            assert "503" not in answers or "503" in wanted, (path, method)


def _requests_of(path: str, method: str, token: str | None) -> list[tuple[str, dict[str, Any]]]:
    """Requests to one operation: a sound one, then each way the tests spoil one."""
    signed = {"Authorization": f"Bearer {token}"} if token else {}
    if path == "/v1/audit":
        sound: dict[str, Any] = {"files": _audit_files()}
    elif method == "post":
        body = FAMILIES[0] + "\n" if path.endswith("batch") else FAMILIES[0]
        sound = {"params": Q, "content": body}
    else:
        sound = {}
    spoiled: list[tuple[str, dict[str, Any]]] = [
        ("sound", sound),
        ("foreign Host", {**sound, "headers": {"Host": "attacker.example"}}),
        ("unknown parameter", {**sound, "params": {**sound.get("params", {}), "nonsense": "1"}}),
        ("bad as_of", {**sound, "params": {**sound.get("params", {}), "as_of": "soon"}}),
        ("declared too large", {**sound, "headers": {"Content-Length": str(10**12)}}),
        ("compressed body", {**sound, "headers": {"Content-Encoding": "gzip"}}),
        ("latin-1 body", {**sound, "headers": {"Content-Type": "text/plain; charset=latin-1"}}),
    ]
    if method == "post":
        spoiled += [
            ("rejected record", {**sound, "content": b'{"family_id": "F1", "members": []}'}),
            ("not JSON", {**sound, "content": b"{not json"}),
            ("empty body", {**sound, "content": b""}),
            ("not multipart", {"content": b"claims", "headers": {"Content-Type": "text/csv"}}),
        ]
    signed_requests = [
        (name, {**kwargs, "headers": {**signed, **kwargs.get("headers", {})}})
        for name, kwargs in spoiled
    ]
    return signed_requests + ([("no token", sound)] if token else [])


@pytest.mark.parametrize(
    "server",
    [Settings(timeout=5), Settings(timeout=5, token=TOKEN, allowed_hosts=("*",))],
    ids=["default", "token-any-host"],
)
def test_every_answer_an_endpoint_gives_is_in_the_openapi_document(server: Settings) -> None:
    """GET /v1/health and /v1/schema/family answered a foreign Host with a 400 problem that
    their OpenAPI answers (200 and 500, health 503) left out; serve.md says every answer is in it."""
    app = create_app(server)
    signed = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    document = call(app, "GET", "/openapi.json", headers=signed).json()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            for scenario, kwargs in _requests_of(path, method, server.token):
                status = str(call(app, method.upper(), path, **kwargs).status_code)
                assert status in answers, (method, path, scenario, status)
                if status >= "400" and status != "422":
                    content = answers[status]["content"]["application/problem+json"]
                    assert content["schema"] == problem, (method, path, status)
    health = document["paths"]["/v1/health"]["get"]["responses"]
    assert "400" in health  # an unknown parameter, whatever the Host


# --- the ledger ------------------------------------------------------------------------------


def _ledger(tmp_path: Path, amount: str = "3200.00") -> Path:
    from pbr.ledger import Entry, Ledger

    db = tmp_path / "ledger.db"
    first = json.loads(FAMILIES[0])
    Ledger(db).append(
        [
            Entry(
                first["family_id"],
                "attachment_fee",
                Decimal(amount),
                date(2014, 1, 6),
                "L-1",
                "tf-phase-1/1.0",
            )
        ]
    )
    return db


def test_the_ledger_counts_as_payments_made_like_pbr_evaluate_ledger(tmp_path: Path) -> None:
    from pbr.ledger import Entry, Ledger

    db = _ledger(tmp_path)
    app = create_app(Settings(ledger=db))
    path = tmp_path / "families.jsonl"
    path.write_text("\n".join(FAMILIES[:3]) + "\n", encoding="utf-8")
    _, out, _ = cli(
        "evaluate", str(path), "--as-of", "2015-03-31", "--format", "json", "--ledger", str(db)
    )
    answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=path.read_bytes())
    assert answer.text.rsplit("\n", 2)[0] + "\n" == out
    assert answer.headers["x-pbr-ledger-head"] == Ledger(db).verify().head
    one = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert one.text + "\n" == out.splitlines(keepends=True)[0]
    assert one.json()["paid_to_date"] != library_json(FAMILIES[0], AS_OF)
    first = json.loads(FAMILIES[0])["family_id"]
    Ledger(db).append(
        [Entry(first, "crime_asb_education", Decimal("100.00"), date(2014, 2, 3), "L-2", "v")]
    )
    later = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert Decimal(later.json()["paid_to_date"]) == Decimal(one.json()["paid_to_date"]) + 100
    assert later.headers["x-pbr-ledger-head"] == Ledger(db).verify().head


def test_the_audit_with_a_ledger_that_disagrees_is_pbr_audit_s(tmp_path: Path) -> None:
    """A claim whose family's payment records disagree is unverified, as in ``pbr audit``; the
    family is not evaluated, in the JSON and in the CSV report (which left it out)."""
    from pbr.ledger import Entry, Ledger

    db = tmp_path / "ledger.db"  # EX-005's fee, paid 2013-04-12 in its record: a day later
    Ledger(db).append(
        [
            Entry(
                "EX-005",
                "attachment_fee",
                Decimal("3200.00"),
                date(2013, 4, 13),
                "EX-005-P1",
                "tf-phase-1/1.0",
            )
        ]
    )
    claims = tmp_path / "c1.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on,window\n"
        "H-1,EX-005,crime_asb_education,700.00,2015-03-31,Q4\n"
    )
    app = create_app(Settings(ledger=db))
    answer = call(
        app, "POST", "/v1/audit", params={"as_of": "2015-03-31"}, files=_audit_files(claims)
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    (h1,) = report["claims"]
    assert (h1["flags"], h1["over_claimed"], h1["unverified"]) == (
        "PAYMENT_HISTORY_CONFLICT",
        "0.00",
        "700.00",
    )
    assert report["reconciliation"][-1]["over_claimed"] == "0.00"
    assert [u["family_id"] for u in report["unevaluated"]] == ["EX-005"]
    params = {"as_of": "2015-03-31", "format": "csv"}
    text = call(app, "POST", "/v1/audit", params=params, files=_audit_files(claims)).text
    assert ",EX-005," in text.splitlines()[-1]
    assert "family_not_evaluated" in text.splitlines()[-1]


def test_pbr_explain_ledger_explains_the_decision_of_pbr_evaluate_ledger(tmp_path: Path) -> None:
    """``pbr explain`` had no --ledger: its working paper showed none of the ledger's payments,
    contradicting ``pbr evaluate --ledger`` and the server's /v1/explain."""
    import sqlite3

    db = _ledger(tmp_path)
    path = tmp_path / "families.jsonl"
    path.write_text("\n".join(FAMILIES[:3]) + "\n", encoding="utf-8")
    family_id = json.loads(FAMILIES[0])["family_id"]
    day = ["--as-of", AS_OF.isoformat()]
    _, out, _ = cli("evaluate", str(path), *day, "--format", "json", "--ledger", str(db))
    decided = pbr.Decision.model_validate_json(out.splitlines()[0])
    status, paper, err = cli("explain", str(path), family_id, *day, "--ledger", str(db))
    assert (status, err) == (0, "")
    assert paper == decided.explain()
    assert paper != cli("explain", str(path), family_id, *day)[1]  # the ledger's fee counts
    app = create_app(Settings(ledger=db))
    assert call(app, "POST", "/v1/explain", params=Q, content=FAMILIES[0]).text == paper
    record = json.loads(FAMILIES[0])  # its payment and the ledger's disagree: rejected
    record["payments"] = [{"kind": "attachment_fee", "amount": "2400.00", "claim_id": "L-1"}]
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    _, _, rejected = cli("evaluate", str(path), *day, "--format", "json", "--ledger", str(db))
    status, paper, err = cli("explain", str(path), family_id, *day, "--ledger", str(db))
    assert (status, paper) == (1, "")
    assert err == rejected.splitlines(keepends=True)[0]
    assert "amount is 2400.00 in the family record but 3200.00 in ledger" in err
    missing = tmp_path / "missing.db"
    status, paper, err = cli("explain", str(path), family_id, *day, "--ledger", str(missing))
    assert (status, paper) == (2, "")
    assert err == f"pbr: no ledger at {missing}\n"
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE entries SET amount = '1.00' WHERE seq = 1")
    status, paper, err = cli("explain", str(path), family_id, *day, "--ledger", str(db))
    assert (status, paper) == (2, "")
    assert err == (
        f"pbr: ledger {db} is broken at entry 1: entry 1 was changed after it was written "
        "(pbr ledger verify)\n"
    )
    status, _, err = cli("explain", str(path), family_id, *day, "--key-file", "k")
    assert (status, err) == (2, "pbr: --key-file applies only with --ledger DB (no ledger is "
                                "read without it)\n")  # fmt: skip


def test_a_payment_in_both_the_record_and_the_ledger_is_counted_as_pbr_evaluate_counts_it(
    tmp_path: Path,
) -> None:
    """The same claim in the record and in the ledger: the server agrees with the command."""
    db = _ledger(tmp_path)
    record = json.loads(FAMILIES[0])
    record["payments"] = [
        *record.get("payments", []),
        {"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2014-01-06", "claim_id": "L-1"},
    ]
    path = tmp_path / "family.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    _, out, _ = cli(
        "evaluate", str(path), "--as-of", "2015-03-31", "--format", "json", "--ledger", str(db)
    )
    app = create_app(Settings(ledger=db))
    answer = call(app, "POST", "/v1/evaluate/batch", params=Q, content=path.read_bytes())
    assert answer.text.rsplit("\n", 2)[0] + "\n" == out


def test_a_broken_ledger_stops_the_app_and_a_tampered_one_is_a_503(tmp_path: Path) -> None:
    import sqlite3

    db = _ledger(tmp_path)
    app = create_app(Settings(ledger=db))
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE entries SET amount = '1.00' WHERE seq = 1")
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert answer.status_code == 503
    assert "ledger" in answer.json()["detail"]
    assert call(app, "GET", "/v1/health").status_code == 503
    with pytest.raises(ValueError, match="broken"):
        create_app(Settings(ledger=db))
    with pytest.raises(ValueError, match="no ledger"):
        create_app(Settings(ledger=tmp_path / "missing.db"))


def test_an_edit_that_keeps_the_files_size_and_modification_time_is_still_seen(
    tmp_path: Path,
) -> None:
    """The server watched size and mtime only: an edit of the same size with the mtime set back
    (os.utime, touch -r) left health "ok" and the old head on a ledger that no longer verified."""
    import os
    import sqlite3

    db = _ledger(tmp_path)
    app = create_app(Settings(ledger=db))
    head = call(app, "GET", "/v1/health").json()["ledger_head"]
    before = os.stat(db)
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE entries SET amount = '0200.00' WHERE seq = 1")
    connection.close()
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(db).st_size == before.st_size
    health = call(app, "GET", "/v1/health")
    assert health.status_code == 503, health.text
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert answer.status_code == 503
    assert answer.headers.get("x-pbr-ledger-head") != head


def test_a_broken_ledger_is_named_to_clients_without_its_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The 503 of /v1/health (open to anyone) showed the --ledger path; the log keeps it."""
    import sqlite3

    db = _ledger(tmp_path)
    app = create_app(Settings(ledger=db))
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE entries SET amount = '1.00' WHERE seq = 1")
    connection.close()
    with caplog.at_level(logging.WARNING, logger="pbr.serve"):
        answer = call(app, "GET", "/v1/health")
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert detail.startswith("the payments ledger cannot be used: the ledger is broken at entry 1")
    assert str(tmp_path) not in answer.text
    assert "ledger.db" not in answer.text
    assert str(db) in caplog.text


LEDGER_KEY = b"a ledger key of sixteen bytes or more"


def _unkeyed_rewrite(db: Path) -> None:
    """What someone without the key can do: edit an entry, recompute the chain as unkeyed."""
    import hashlib
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE entries SET amount = '1.00' WHERE seq = 1")
        rows = connection.execute(
            "SELECT seq, family_id, kind, amount, paid_on, claim_id, rules_version, claimed_on "
            "FROM entries ORDER BY seq"
        ).fetchall()
        prev = "0" * 64
        for row in rows:
            values = list(row[:7]) + ([row[7]] if row[7] is not None else [])
            text = prev + "\n" + json.dumps(values, separators=(",", ":"), ensure_ascii=False)
            digest = hashlib.sha256(text.encode()).hexdigest()
            connection.execute(
                "UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row[0])
            )
            prev = digest
        connection.execute("UPDATE head SET count = ?, hash = ?", (len(rows), prev))
        connection.execute("UPDATE meta SET value = 'sha256' WHERE name = 'mac'")
        connection.execute("UPDATE meta SET value = '' WHERE name = 'key_check'")
    connection.close()


def _keyed_ledger(tmp_path: Path) -> tuple[Path, Path]:
    from pbr.ledger import Entry, Ledger

    db = tmp_path / "keyed.db"
    first = json.loads(FAMILIES[0])["family_id"]
    Ledger(db, key=LEDGER_KEY).append(
        [Entry(first, "attachment_fee", Decimal("3200.00"), date(2014, 1, 6), "L-1", "v")]
    )
    key_file = tmp_path / "ledger.key"
    key_file.write_bytes(LEDGER_KEY + b"\n")
    key_file.chmod(0o600)
    return db, key_file


def test_a_keyed_ledger_is_served_with_its_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``pbr serve --ledger`` opened every ledger without a key: a keyed one could not be
    served at all (it said to give the key, which serve could not take)."""
    import os

    from pbr.ledger import Ledger

    monkeypatch.delenv("PBR_LEDGER_KEY", raising=False)
    monkeypatch.delenv("PBR_LEDGER_KEY_FILE", raising=False)
    db, key_file = _keyed_ledger(tmp_path)
    path = tmp_path / "family.jsonl"
    path.write_text(FAMILIES[0] + "\n", encoding="utf-8")
    _, out, _ = cli(
        "evaluate", str(path), *("--as-of", AS_OF.isoformat(), "--format", "json"),
        *("--ledger", str(db), "--key-file", str(key_file)),
    )  # fmt: skip
    head = Ledger(db, key=LEDGER_KEY).verify().head
    argv = ["--port", "18999", "--ledger", str(db)]
    status, seen, err = _run_serve(monkeypatch, *argv, "--key-file", str(key_file))
    assert (status, err.count("\n")) == (0, 1), err  # the start-up line only
    answer = call(seen["target"], "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-pbr-ledger-head"] == head
    assert answer.text + "\n" == out
    assert answer.json()["paid_to_date"] != library_json(FAMILIES[0], AS_OF)
    monkeypatch.setenv("PBR_LEDGER_KEY_FILE", str(key_file))  # or from the environment
    status, seen, err = _run_serve(monkeypatch, *argv, "--workers", "2")
    assert status == 0, err
    assert str(LEDGER_KEY) not in os.environ["PBR_SERVE_OPTIONS"]  # a path travels, not a key
    from pbr.serve._cli import app_from_environment

    answer = call(app_from_environment(), "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert (answer.status_code, answer.headers["x-pbr-ledger-head"]) == (200, head)
    monkeypatch.delenv("PBR_LEDGER_KEY_FILE")
    app = create_app(Settings(ledger=db, ledger_key=LEDGER_KEY))  # from Python
    assert call(app, "GET", "/v1/health").json()["ledger_head"] == head
    assert "sixteen" not in repr(Settings(ledger=db, ledger_key=LEDGER_KEY))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ([], "is keyed (HMAC-SHA256): give its key with PBR_LEDGER_KEY, PBR_LEDGER_KEY_FILE or "
             "--key-file"),
        (["--key-file", "WRONG"], "the key given is not the key of ledger"),
        (["--key-file", "SHORT"], "bytes long; a key has at least 16"),
        (["--key-file", "MISSING"], "cannot read the ledger key file"),
    ],
)  # fmt: skip
def test_a_keyed_ledger_without_its_key_stops_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], said: str
) -> None:
    monkeypatch.delenv("PBR_LEDGER_KEY", raising=False)
    monkeypatch.delenv("PBR_LEDGER_KEY_FILE", raising=False)
    db, _ = _keyed_ledger(tmp_path)
    (tmp_path / "WRONG").write_bytes(b"another key of sixteen bytes or more")
    (tmp_path / "SHORT").write_bytes(b"short")
    argv = [str(tmp_path / a) if a.isupper() else a for a in argv]
    status, seen, err = _run_serve(monkeypatch, "--port", "18999", "--ledger", str(db), *argv)
    assert (status, seen) == (2, {})
    assert err.startswith("pbr: "), err
    assert err.count("\n") == 1, err
    assert said in err


def test_a_keyed_ledger_rewritten_as_unkeyed_is_refused_and_a_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The server opened a keyed ledger without its key, so a rewrite as unkeyed (an amount
    changed, the chain recomputed with SHA-256) was served as sound; the CLI refuses it."""
    db, key_file = _keyed_ledger(tmp_path)
    app = create_app(Settings(ledger=db, ledger_key=LEDGER_KEY))
    assert call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0]).status_code == 200
    _unkeyed_rewrite(db)
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=FAMILIES[0])
    assert answer.status_code == 503, answer.text
    assert "not keyed" in answer.json()["detail"]
    assert call(app, "GET", "/v1/health").status_code == 503
    with pytest.raises(ValueError, match="not keyed"):
        create_app(Settings(ledger=db, ledger_key=LEDGER_KEY))
    monkeypatch.delenv("PBR_LEDGER_KEY", raising=False)
    monkeypatch.setenv("PBR_LEDGER_KEY_FILE", str(key_file))
    status, seen, err = _run_serve(monkeypatch, "--port", "18999", "--ledger", str(db))
    assert (status, seen) == (2, {})
    assert err.startswith("pbr: "), err
    assert err.count("\n") == 1, err
    assert "not keyed" in err
    status, seen, err = _run_serve(monkeypatch, "--port", "18999", "--key-file", str(key_file))
    assert (status, seen) == (2, {})
    assert err == "pbr: --key-file applies only with --ledger DB (no ledger is read without it)\n"
    with pytest.raises(ValueError, match="ledger_key"):
        Settings(ledger_key=LEDGER_KEY)


# --- settings and import ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token": "short"},
        {"token": "has spaces in the middle of it"},
        {"max_record_bytes": 0},
        {"timeout": -1},
        {"max_record_bytes": 10, "max_upload_bytes": 5},
    ],
)
def test_settings_refuse_what_would_be_unsafe(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each says why in its own words
        Settings(**kwargs)


def test_importing_pbr_or_its_command_line_loads_no_web_framework() -> None:
    import subprocess

    code = (
        "import sys, pbr, pbr.cli, pbr.serve; pbr.cli._parser(); "
        "print(','.join(m for m in ('fastapi', 'starlette', 'uvicorn', 'anyio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_an_unknown_name_in_pbr_serve_is_an_attribute_error() -> None:
    import pbr.serve

    with pytest.raises(AttributeError, match="nothing"):
        pbr.serve.nothing  # noqa: B018
    assert set(pbr.serve.__all__) <= set(dir(pbr.serve))


# --- the command's hand-off to uvicorn -------------------------------------------------------


def _run_serve(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, dict[str, Any], str]:
    import argparse
    import io

    import uvicorn

    from pbr.cli import _parser

    seen: dict[str, Any] = {}

    def run(target: Any, **kwargs: Any) -> None:
        seen.update(kwargs, target=target)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.delenv("PBR_SERVE_OPTIONS", raising=False)
    from pbr.serve._cli import run_serve

    args: argparse.Namespace = _parser().parse_args(["serve", *argv])
    err = io.StringIO()
    return run_serve(args, err), seen, err.getvalue()


def test_the_command_runs_uvicorn_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastapi

    status, seen, said = _run_serve(monkeypatch, "--port", "18999")
    assert status == 0
    assert isinstance(seen["target"], fastapi.FastAPI)
    assert (seen["host"], seen["port"], seen["workers"]) == ("127.0.0.1", 18999, 1)
    assert seen["http"] == "h11"
    assert seen["server_header"] is False
    assert seen["access_log"] is False  # the server logs its own line, without the query
    assert said.startswith("pbr serve: http://127.0.0.1:18999 ")
    assert "token not required" in said
    _, faster, _ = _run_serve(monkeypatch, "--port", "18999", "--http-parser", "httptools")
    assert faster["http"] == "httptools"


def test_an_upgrade_offer_logs_no_advice_to_install_websockets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every stock Java HttpClient offers h2c: uvicorn logged "Unsupported upgrade request" and
    "No supported WebSocket library detected. Please use pip install 'uvicorn[standard]'"."""
    from pbr.serve._cli import _log_config

    _, seen, _ = _run_serve(monkeypatch, "--port", "18999")
    assert seen["ws"] == "none"  # no WebSocket endpoint: none is served, whatever is installed
    config = _log_config()
    (name,) = config["loggers"]["uvicorn.error"]["filters"]
    quiet = config["filters"][name]["()"]()
    said = [
        "Unsupported upgrade request.",
        'No supported WebSocket library detected. Please use "pip install '
        "'uvicorn[standard]'\", or install 'websockets' or 'wsproto' manually.",
        "Invalid HTTP request received.",
    ]
    records = [
        logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, text, None, None)
        for text in said
    ]
    assert [r.getMessage() for r in records if quiet.filter(r)] == [said[-1]]


def test_several_workers_build_their_app_from_the_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    token = tmp_path / "token"
    token.write_text(TOKEN, encoding="utf-8")
    token.chmod(0o600)
    argv = ["--port", "18999", "--workers", "3", "--token-file", str(token)]
    status, seen, _ = _run_serve(
        monkeypatch, *argv, "--interpretation", "employment_weeks=all_13", "--log-ids"
    )
    assert status == 0
    assert seen["target"] == "pbr.serve._cli:app_from_environment"
    assert seen["factory"] is True
    assert seen["workers"] == 3
    from pbr.serve._cli import app_from_environment

    app = app_from_environment()
    answer = call(
        app,
        "POST",
        "/v1/evaluate",
        params=Q,
        content=FAMILIES[5],
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.text == library_json(
        FAMILIES[5], AS_OF, interpretations={"employment_weeks": "all_13"}
    )
    assert call(app, "GET", "/v1/rules").status_code == 401
    assert TOKEN not in os.environ["PBR_SERVE_OPTIONS"]  # the path travels, not the token


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--port", "0"], "not a port"),
        (["--workers", "0"], "not a number of workers"),
        (["--max-record-bytes", "lots"], "not a size"),
        (["--timeout", "-1"], "not a positive number"),
        (["--timeout", "inf"], "not a positive number of seconds: 'inf'"),
        (["--batch-timeout", "Infinity"], "not a positive number of seconds: 'Infinity'"),
        (["--interpretation", "employment_weeks"], "ID=VALUE"),
    ],
)
def test_bad_options_are_usage_errors(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import _parser

    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(["serve", *argv])
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    "values",
    [
        ("employment_weeks=all_13", "employment_weeks=jsa_26_other_13"),
        ("employment_weeks=all_13",) * 2,
    ],
)
def test_an_interpretation_given_twice_stops_the_command(
    monkeypatch: pytest.MonkeyPatch, values: tuple[str, str]
) -> None:
    """The last of two would win silently, as a request or ``pbr evaluate`` with both may not."""
    argv = [a for value in values for a in ("--interpretation", value)]
    status, seen, said = _run_serve(monkeypatch, "--port", "18999", *argv)
    assert (status, seen) == (2, {})
    first, then = (value.partition("=")[2] for value in values)
    assert said == (
        f"pbr: interpretation 'employment_weeks' is given twice ({first!r}, then {then!r}): "
        "give it once; valid: jsa_26_other_13, all_13\n"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["--max-upload-bytes", "1K"],
            "--max-upload-bytes 1,024 is smaller than --max-record-bytes 4,194,304 (its default)",
        ),
        (
            ["--max-record-bytes", "300M"],
            "--max-upload-bytes 268,435,456 (its default) is smaller than --max-record-bytes "
            "314,572,800",
        ),
        (
            ["--max-record-bytes", "2K", "--max-upload-bytes", "1K"],
            "--max-upload-bytes 1,024 is smaller than --max-record-bytes 2,048",
        ),
    ],
)
def test_conflicting_size_limits_are_named_as_options(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], said: str
) -> None:
    """Not ``max_upload_bytes must be at least max_record_bytes``: which option, which value?"""
    status, seen, err = _run_serve(monkeypatch, "--port", "18999", *argv)
    assert (status, seen) == (2, {})
    assert err == f"pbr: {said}: --max-upload-bytes must be at least --max-record-bytes\n"


def test_sizes_take_units() -> None:
    from pbr.serve._cli import _size

    assert [_size(t) for t in ("4194304", "4M", "512K", "1G", "2MiB")] == [
        4 * 2**20,
        4 * 2**20,
        512 * 2**10,
        2**30,
        2 * 2**20,
    ]


def test_an_audit_over_the_upload_limit_is_a_413() -> None:
    app = create_app(Settings(max_record_bytes=10_000, max_upload_bytes=20_000))
    declared = call(app, "POST", "/v1/audit", files=_audit_files())
    assert declared.status_code == 413
    form = httpx.Request("POST", "http://127.0.0.1/v1/audit", files=_audit_files())
    body = form.read()
    pieces = [body[i : i + 4000] for i in range(0, len(body), 4000)]
    streamed = call(
        app,
        "POST",
        "/v1/audit",
        content=chunks(pieces),
        headers={"Content-Type": form.headers["content-type"]},
    )
    assert streamed.status_code == 413
    assert "20,000 bytes" in streamed.json()["detail"]


@settings(max_examples=60)
@given(
    parts=st.lists(st.binary(min_size=0, max_size=40), max_size=30),
    memory=st.integers(1, 64),
    reads=st.lists(st.integers(0, 5), max_size=30),
)
def test_the_spool_gives_back_every_byte_in_order(
    parts: list[bytes], memory: int, reads: list[int]
) -> None:
    import asyncio

    from pbr.serve._spool import Spool

    async def run() -> tuple[bytes, int]:
        spool = Spool(memory)
        taken: list[bytes] = []
        spilled = 0
        reader = aiter(spool)
        for n, part in enumerate(parts):
            spool.put(part)
            spilled = max(spilled, spool.spilled)
            for _ in range(reads[n] if n < len(reads) else 0):  # a reader slower or faster
                if spool.waiting:
                    taken.append(await anext(reader))
        spool.close()
        taken += [part async for part in reader]
        return b"".join(taken), spilled

    got, spilled = asyncio.run(run())
    assert got == b"".join(parts)
    if sum(len(p) for p in parts) > memory and not reads:
        assert spilled > 0


def test_a_client_that_leaves_mid_body_is_no_error(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    caplog.set_level(logging.INFO, logger="pbr.serve")
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": FAMILIES[0][:100].encode(), "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/evaluate",
        "raw_path": b"/v1/evaluate",
        "query_string": b"as_of=2015-03-31",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    assert sent == []
    assert "error" not in caplog.text.lower()
    assert "POST /v1/evaluate gone" in caplog.text


def test_the_guide_shows_the_summary_the_server_writes(app: Any) -> None:
    """docs/serve.md's summary of examples/families.jsonl, its broken lines joined, is the answer's."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "serve.md").read_text(encoding="utf-8")
    shown = next(b for b in page.split("```text\n")[1:] if b.startswith('{"summary"'))
    body = "\n".join(FAMILIES)
    answer = call(app, "POST", "/v1/evaluate/batch", params={"as_of": "2015-03-31"}, content=body)
    assert answer.text.splitlines()[-1] == "".join(shown.split("\n```")[0].split("\n "))


def test_the_guide_shows_the_rejection_the_server_writes(app: Any) -> None:
    """docs/serve.md's 422 example, its broken lines joined, is the answer to the record it names
    (it once showed an older error type, which a client keying on `type` would never meet)."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "serve.md").read_text(encoding="utf-8")
    block = next(b for b in page.split("```text\n")[1:] if b.startswith("HTTP/1.1 422"))
    shown = block.split("\n```")[0].split("\n\n", 1)[1]
    body = page.split("(the answer to `", 1)[1].split("`, broken over lines", 1)[0]
    answer = call(app, "POST", "/v1/evaluate", params=Q, content=body.replace("\n", " "))
    assert answer.status_code == 422
    assert answer.text == "".join(shown.split("\n "))


@pytest.mark.parametrize("name", ["timeout", "batch_timeout", "max_record_bytes"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0, -1])
def test_settings_refuse_a_limit_that_is_not_positive_and_finite(name: str, value: float) -> None:
    """``Settings(timeout=inf)`` turned the 408 off, as ``--timeout inf`` did on the command line."""
    with pytest.raises(ValueError, match=f"{name} must be positive and finite, got {value!r}"):
        Settings(**{name: value})  # type: ignore[arg-type]
