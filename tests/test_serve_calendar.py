"""`pbr serve --term-calendar`: the council's school term dates, read at start-up, for every request.

Each answer is compared with what the library makes of the family with the calendar applied to
its rule set (`RuleSet.with_term_calendar`), and with the default dates without the setting.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.engine import rule_set_for
from pbr.periods import TermCalendar
from pbr.serve import Settings, create_app
from tests.builders import family, term_rows
from tests.serve_support import call, library_json, lines_of

AS_OF = date(2013, 7, 31)
Q = {"as_of": AS_OF.isoformat()}
CAE = "crime_asb_education"
KENT = TermCalendar(
    {("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))}, name="Kent 2012-2013"
)
"""A council's dates for 2012/13's autumn term: the family below misses it on them."""
KENT_TOML = """\
name = "Kent 2012-2013"

[[terms]]
academic_year = "2012/13"
term = "autumn"
start = 2012-09-04
end = 2012-12-20
"""


def _family() -> pbr.Family:
    """A family met (700.00) on the default dates, not met on Kent's: no autumn term record."""
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2007-09-03"},
    ]
    return family(
        attached_on="2012-10-01",
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=members,
        school_terms=term_rows("C1", [("2012/13", "spring"), ("2012/13", "summer")]),
    )


FAMILY = _family()
BODY = FAMILY.model_dump_json()


def _expected(calendar: TermCalendar | None) -> str:
    """The decision's JSON from `pbr.evaluate`, with `calendar` applied to its rule set."""
    rules = rule_set_for(FAMILY)
    if calendar is not None:
        rules = rules.with_term_calendar(calendar)
    return pbr.evaluate(FAMILY, as_of=AS_OF, rules=rules).model_dump_json()


@pytest.fixture(scope="module")
def kent_app() -> Any:
    return create_app(Settings(term_calendar=KENT))


def test_a_decision_reads_the_servers_term_calendar(kent_app: Any, tmp_path: Path) -> None:
    plain = call(create_app(), "POST", "/v1/evaluate", params=Q, content=BODY)
    assert plain.text == _expected(None)
    assert Decimal(plain.json()["payable"]) == Decimal("700.00")
    answer = call(kent_app, "POST", "/v1/evaluate", params=Q, content=BODY)
    assert answer.status_code == 200, answer.text
    assert answer.text == _expected(KENT)
    result = answer.json()["results"][CAE]
    assert result["status"] == "not_met"
    named = [r for r in result["reasons"] if r["code"] == "MISSING_SCHOOL_TERM"]
    assert named
    assert all(r["compared"]["term_calendar"] == "Kent 2012-2013" for r in named)
    path = tmp_path / "kent.toml"  # a path is read, as --term-calendar's file is
    path.write_text(KENT_TOML, encoding="utf-8")
    from_file = create_app(Settings(term_calendar=str(path)))
    assert call(from_file, "POST", "/v1/evaluate", params=Q, content=BODY).text == answer.text


def test_a_request_choosing_interpretations_keeps_the_servers_calendar(kent_app: Any) -> None:
    switched = {**Q, "interpretation": "employment_weeks=all_13"}
    answer = call(kent_app, "POST", "/v1/evaluate", params=switched, content=BODY)
    rules = rule_set_for(FAMILY).with_interpretations(employment_weeks="all_13")
    expected = pbr.evaluate(FAMILY, as_of=AS_OF, rules=rules.with_term_calendar(KENT))
    assert answer.text == expected.model_dump_json()
    refused = call(
        kent_app, "POST", "/v1/evaluate", params={**Q, "term_calendar": "x"}, content=BODY
    )
    assert refused.status_code == 400  # no request can change the council's calendar


def test_a_batch_reads_the_servers_term_calendar(kent_app: Any) -> None:
    other = json.loads(BODY) | {"family_id": "T2", "school_terms": []}
    body = f"{BODY}\n{json.dumps(other)}\n"
    answer = call(kent_app, "POST", "/v1/evaluate/batch", params=Q, content=body)
    assert answer.status_code == 200, answer.text
    *decisions, summary = answer.text.splitlines()
    assert decisions == [
        library_json(line, AS_OF, term_calendar=KENT) for line in body.splitlines()
    ]
    assert decisions[0] == _expected(KENT)
    assert json.loads(summary)["summary"]["evaluated"] == 2
    plain = lines_of(call(create_app(), "POST", "/v1/evaluate/batch", params=Q, content=body))
    assert json.dumps(plain[0], separators=(",", ":")) != decisions[0]


def test_explain_reads_the_servers_term_calendar(kent_app: Any) -> None:
    answer = call(kent_app, "POST", "/v1/explain", params=Q, content=BODY)
    assert answer.status_code == 200, answer.text
    rules = rule_set_for(FAMILY).with_term_calendar(KENT)
    assert answer.text == pbr.evaluate(FAMILY, as_of=AS_OF, rules=rules).explain()
    assert "Kent 2012-2013 term calendar" in answer.text


def test_an_audit_reads_the_servers_term_calendar(kent_app: Any) -> None:
    from pbr import audit

    claims = f"claim_id,family_id,kind,amount,claimed_on,window\nC-1,T1,{CAE},700.00,2013-07-31,\n"
    files = {
        "claims": ("claims.csv", claims.encode(), "text/csv"),
        "families": ("families.jsonl", (BODY + "\n").encode()),
    }
    report = call(kent_app, "POST", "/v1/audit", files=files)
    assert report.status_code == 200, report.text
    (shown,) = report.json()["claims"]
    expected = audit.verify(
        _claims(claims),
        [FAMILY],
        rules_for=lambda f: rule_set_for(f).with_term_calendar(KENT),
    )
    (check,) = expected.checks
    assert shown == {k: v if isinstance(v, int) else str(v) for k, v in check.as_row().items()}
    plain = call(create_app(), "POST", "/v1/audit", files=files).json()["claims"][0]
    assert plain["status"] != shown["status"]


def _claims(text: str) -> list[Any]:
    import tempfile

    from pbr import audit

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.csv"
        path.write_text(text, encoding="utf-8")
        claims, malformed = audit.read_claims(path)
    assert not malformed
    return list(claims)


def test_the_rules_report_names_the_servers_calendar(kent_app: Any) -> None:
    plain = call(create_app(), "GET", "/v1/rules").json()
    assert plain["term_calendar"] is None
    assert {p["term_calendar"] for p in plain["in_force"]} == {None}
    rules = call(kent_app, "GET", "/v1/rules")
    document = rules.json()
    assert document["term_calendar"] == {
        "name": "Kent 2012-2013",
        "terms": [
            {
                "academic_year": "2012/13",
                "term": "autumn",
                "start": "2012-09-04",
                "end": "2012-12-20",
            }
        ],
    }
    assert {p["term_calendar"] for p in document["in_force"]} == {"Kent 2012-2013"}
    decision = call(kent_app, "POST", "/v1/evaluate", params=Q, content=BODY)
    (mine,) = [p for p in document["in_force"] if p["programme"] == decision.json()["programme"]]
    assert mine["rules_hash"] == decision.json()["provenance"]["rules_hash"]
    assert decision.headers["x-pbr-rules-hash"] == rules.headers["x-pbr-rules-hash"]
    assert rules.headers["x-pbr-rules-hash"] != plain["rules_hash"]
    assert (
        "term calendar Kent 2012-2013 (1 term of its own dates)"
        in kent_app.openapi()["info"]["description"]
    )
    assert "term calendar" not in create_app().openapi()["info"]["description"]


# --- the command -----------------------------------------------------------------------------


def _run_serve(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, dict[str, Any], str]:
    """``pbr serve ARGV`` with uvicorn's run replaced: (status, what it was given, stderr)."""
    import argparse
    import io

    import uvicorn

    from pbr.cli import _parser
    from pbr.serve._cli import run_serve

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: seen.update(kwargs, target=target))
    monkeypatch.delenv("PBR_SERVE_OPTIONS", raising=False)
    args: argparse.Namespace = _parser().parse_args(["serve", *argv])
    err = io.StringIO()
    return run_serve(args, err), seen, err.getvalue()


def test_the_command_serves_with_the_calendar_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "kent.toml"
    path.write_text(KENT_TOML, encoding="utf-8")
    status, seen, said = _run_serve(monkeypatch, "--port", "18998", "--term-calendar", str(path))
    assert status == 0, said
    assert f"term calendar {path}" in said
    answer = call(seen["target"], "POST", "/v1/evaluate", params=Q, content=BODY)
    assert answer.text == _expected(KENT)
    status, seen, _ = _run_serve(
        monkeypatch, "--port", "18998", "--workers", "2", "--term-calendar", str(path)
    )
    assert status == 0
    from pbr.serve._cli import app_from_environment

    worker = app_from_environment()  # each worker reads the file named in the options
    assert call(worker, "POST", "/v1/evaluate", params=Q, content=BODY).text == _expected(KENT)


def test_a_bad_calendar_file_stops_the_command_with_each_problem_on_a_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "Kent"\n\n[[terms]]\nacademic_year = "2012/13"\nterm = "autumn"\n'
        "start = 2012-12-20\nend = 2012-09-04\n\n"
        '[[terms]]\nacademic_year = "2012/13"\nterm = "winter"\n'
        "start = 2013-01-03\nend = 2013-03-28\n",
        encoding="utf-8",
    )
    with pytest.raises(pbr.CalendarError) as raised:
        pbr.load_term_calendar(path)
    assert len(raised.value.problems) >= 2
    status, seen, said = _run_serve(monkeypatch, "--port", "18998", "--term-calendar", str(path))
    assert status == 2
    assert not seen  # nothing listens
    assert "Traceback" not in said
    assert said.splitlines() == [f"pbr: {p}" for p in raised.value.problems]
    assert all(str(path) in line for line in said.splitlines())
    missing = tmp_path / "missing.toml"
    status, _, said = _run_serve(monkeypatch, "--port", "18998", "--term-calendar", str(missing))
    assert status == 2
    (line,) = said.splitlines()
    assert line.startswith(f"pbr: {missing}: cannot read the term calendar")
