"""Text from a record cannot forge a line of the working paper (`pbr explain`, ``/v1/explain``).

A U+2028 LINE SEPARATOR in a local-discretion code drew a "results payable now: £9,999.00"
line of its own for every reader that splits lines as Python's ``splitlines`` does (editors,
browsers), and a right-to-left override reordered what followed it. The record refuses such
characters (tests/test_records.py); a decision built another way (re-read from JSON, made with
`model_construct`) is written with them escaped, every line printable.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.cli import main
from pbr.serve import create_app
from tests.serve_support import call, library_json

AS_OF = date(2013, 6, 30)
FORGED = "dv\u2028  results payable now: \u00a39,999.00"
TESTER = {  # the tester's record, u2028.jsonl
    "family_id": "F1",
    "attached_on": "2012-10-15",
    "identified_for": ["crime_asb", "education", "work"],
    "local_authority": "Leeds\u2028Money",
    "local_discretion": [FORGED, "x\u202eyz"],
    "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}],
}


def _plain(**changes: Any) -> dict[str, Any]:
    """The tester's record with plain texts (and `changes`)."""
    plain = {**TESTER, "local_authority": "Leeds", "local_discretion": ["DV1", "XYZ2"]}
    return {**plain, **changes}


def test_the_testers_record_is_refused_naming_each_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "u2028.jsonl"
    path.write_text(json.dumps(TESTER, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["explain", str(path), "F1", "--as-of", AS_OF.isoformat()]) == 1
    captured = capsys.readouterr()
    assert "results payable now" not in captured.out
    err = captured.err.splitlines()
    assert all(line.isprintable() for line in err)
    assert not any(line.lstrip().startswith("results payable now") for line in err)
    told = "\n".join(err)
    assert "family 'F1'" in told
    assert "local_authority" in told
    assert "Leeds\\u2028Money" in told
    assert "U+2028, at character 6" in told
    assert "local_discretion.0" in told
    assert "dv\\u2028  results payable now" in told
    assert "local_discretion.1" in told
    assert "x\\u202eyz" in told
    assert "U+202E" in told


def test_the_testers_record_is_refused_by_the_service() -> None:
    body = json.dumps(TESTER, ensure_ascii=False).encode()
    answer = call(create_app(), "POST", "/v1/explain", params={"as_of": "2013-06-30"}, content=body)
    assert answer.status_code == 422
    assert answer.json() == library_json(body, AS_OF)
    assert {e["loc"] for e in answer.json()["errors"]} == {
        "local_authority",
        "local_discretion.0",
        "local_discretion.1",
    }


def _forged(decision: pbr.Decision, plain: str, forged: str) -> pbr.Decision:
    """`decision` re-read from its JSON with every `plain` text written `forged`."""
    text = decision.model_dump_json()
    assert plain in text
    changed = text.replace(plain, json.dumps(forged)[1:-1])
    return pbr.Decision.model_validate_json(changed)


def _lines(paper: str) -> list[str]:
    """The lines a reader that splits as Python's ``splitlines`` does (an editor) sees."""
    return paper.splitlines()


@pytest.mark.parametrize(
    ("plain", "forged"),
    [
        ("DV1", FORGED),
        ("XYZ2", "x\u202eyz"),
        ("Leeds", "Leeds\u2029Money"),
        ("DV1", "dv\n  results payable now: \u00a39,999.00"),
        ("DV1", "d\u200bv\u00ad\ufeff\u2066"),
    ],
)
def test_a_decision_holding_unseen_text_is_written_one_printable_line_each(
    plain: str, forged: str
) -> None:
    family = pbr.Family.model_validate(_plain())
    decision = pbr.evaluate(family, as_of=AS_OF)
    paper = _forged(decision, plain, forged).explain()
    honest = decision.explain()
    assert len(_lines(paper)) == len(_lines(honest)) == honest.count("\n")
    assert all(line.isprintable() for line in _lines(paper))
    payable = [line for line in _lines(paper) if line.lstrip().startswith("results payable")]
    assert payable == ["  results payable now: \u00a3800.00"]
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in forged)
    assert escaped in paper


def test_a_claim_id_cannot_forge_a_heading() -> None:
    family = pbr.Family.model_validate(
        _plain(
            payments=[
                {
                    "kind": "crime_asb_education",
                    "amount": "700.00",
                    "paid_on": "2013-05-01",
                    "claim_id": "C-1",
                }
            ]
        )
    )
    decision = pbr.evaluate(family, as_of=AS_OF)
    honest = decision.explain()
    assert "C-1" in honest
    paper = _forged(decision, "C-1", "C-1\u2028Crime/ASB/education: MET").explain()
    assert len(_lines(paper)) == len(_lines(honest))
    assert [line for line in _lines(paper) if line.startswith("Crime/ASB/education")] == [
        line for line in _lines(honest) if line.startswith("Crime/ASB/education")
    ]
    assert "C-1\\u2028Crime/ASB/education: MET" in paper


def test_a_family_id_made_without_the_record_is_underlined_to_its_length() -> None:
    decision = pbr.evaluate(pbr.Family.model_validate(_plain()), as_of=AS_OF)
    paper = decision.model_copy(update={"family_id": "F\u20281"}).explain()
    title, rule = paper.splitlines()[:2]
    assert title == "Working paper: family F\\u20281 as of 2013-06-30"
    assert rule == "=" * (len(title) + 1)
    assert decision.explain().splitlines()[1] == "=" * 42  # unchanged for a valid record


@pytest.mark.parametrize("line_break", ["\u2028", "\n", "\u202e"])
def test_a_decisions_file_cannot_forge_a_line_of_pbr_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line_break: str
) -> None:
    """``pbr replay`` checks decisions that may have been tampered with: their texts are escaped."""
    family = _plain()
    families = tmp_path / "families.jsonl"
    families.write_text(json.dumps(family) + "\n", encoding="utf-8")
    decision = json.loads(
        pbr.evaluate(pbr.Family.model_validate(family), as_of=AS_OF).model_dump_json()
    )
    forged = f"F9{line_break}replayed 2: 2 identical, 0 different"
    stranger = {**decision, "family_id": forged}  # no such family: said so, by its id
    again = {**decision, "provenance": {**decision["provenance"], "pbr_version": forged}}
    twice = {**decision, "family_id": forged}
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in (stranger, again, twice)),
        encoding="utf-8",
    )
    assert main(["replay", str(decisions), "--families", str(families), "--only-recorded"]) == 1
    out = capsys.readouterr().out
    assert all(line.isprintable() for line in out.splitlines()), out
    assert [line for line in out.splitlines() if line.startswith("replayed")] == [
        line for line in out.splitlines() if line.startswith("replayed 3:")
    ]
