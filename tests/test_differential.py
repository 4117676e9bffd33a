"""Every fast path gives today's decisions, byte for byte (tests/reference, frozen).

The corpus (tests/reference/families.jsonl: every programme, drawn from `pbr.testing`, and the
examples) was evaluated by the model path before the hot path was optimised; its decisions'
digests are in tests/reference/decisions.json, at three dates under every interpretation of
every programme. The batch path (what ``pbr evaluate`` and the web API use), the CLI with
workers, and `pbr.evaluate` itself must all reproduce them. The benchmark runs the same check on
20,000 generated families (benchmarks/bench_evaluate.py --check).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pbr.batch import evaluate_many_json
from pbr.io import Rejection
from tests.reference.make_reference import AS_OF, digest, reference, variants

REFERENCE = Path(__file__).resolve().parent / "reference"
LINES = (REFERENCE / "families.jsonl").read_bytes().splitlines()
EXPECTED: dict[str, list[str]] = json.loads((REFERENCE / "decisions.json").read_text())


def key(when: str, choice: dict[str, str]) -> str:
    return f"{when} {json.dumps(choice, sort_keys=True)}"


def batch(when: str, choice: dict[str, str], **options: Any) -> list[str]:
    done = evaluate_many_json(
        LINES, as_of=date.fromisoformat(when), interpretations=choice, **options
    )
    return ["outside" if isinstance(d, Rejection) else digest(d[3]) for d in done]


def test_the_reference_covers_every_interpretation_and_programme() -> None:
    assert set(EXPECTED) == {key(w, c) for w in AS_OF for c in variants()}
    programmes = {json.loads(line).get("programme") for line in LINES}
    assert {"tf-phase-2", "supporting-families"} <= programmes
    assert all(len(v) == len(LINES) for v in EXPECTED.values())


@pytest.mark.parametrize("when", AS_OF)
def test_the_batch_path_gives_todays_decisions(when: str) -> None:
    for choice in variants():
        got = batch(when, choice, workers=1)
        want = EXPECTED[key(when, choice)]
        wrong = [LINES[i][:40] for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b]
        assert not wrong, (when, choice, len(wrong), wrong[:3])


def test_the_model_path_gives_todays_decisions() -> None:
    when = AS_OF[1]
    assert reference(LINES, date.fromisoformat(when), {}) == EXPECTED[key(when, {})]


def test_workers_give_todays_decisions() -> None:
    when = AS_OF[0]
    assert batch(when, {}, workers=2, chunk_size=37) == EXPECTED[key(when, {})]


@pytest.mark.parametrize("when", AS_OF)
def test_a_file_read_in_ranges_gives_todays_decisions(
    when: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`evaluate_spans` (``pbr evaluate`` on JSON Lines), ranges of a few families, every choice."""
    from pbr import batch as batch_module

    monkeypatch.setattr(batch_module, "SPAN_BYTES", 3000)
    path = str(REFERENCE / "families.jsonl")
    for n, choice in enumerate(variants()):
        got: dict[int, str] = {}
        records = 0
        for span in batch_module.evaluate_spans(
            path, as_of=date.fromisoformat(when), interpretations=choice, workers=1 + (n == 0)
        ):
            for (_, record, *_), (start, end) in zip(
                span.decisions(), zip([0, *span.ends][:-1], span.ends, strict=True), strict=True
            ):
                got[records + record] = digest(span.data[start:end].decode().rstrip("\n"))
            for _, record, _ in span.rejections:
                got[records + record] = "outside"
            records += span.records
        assert [got[i] for i in range(1, len(LINES) + 1)] == EXPECTED[key(when, choice)], choice


def test_the_command_line_gives_todays_decisions(tmp_path: Path) -> None:
    when = AS_OF[2]
    choice = {"employment_weeks": "all_13"}
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "pbr.cli", "evaluate", str(REFERENCE / "families.jsonl")]
    command += ["--as-of", when, "--format", "json", "--output", str(out), "--workers", "2"]
    command += ["--interpretation", "employment_weeks=all_13"]
    subprocess.run(
        command,
        capture_output=True,
        check=False,
    )
    want = [d for d in EXPECTED[key(when, choice)] if d != "outside"]
    assert [digest(line) for line in out.read_text().splitlines()] == want


def test_decisions_built_without_validation_are_what_validation_gives() -> None:
    """`pbr.decisions.trusted` skips validation: the objects must be those validation builds."""
    import pbr
    from pbr.decisions import Decision

    for line in LINES[::7]:
        family = pbr.Family.model_validate_json(line)
        try:
            decision = pbr.evaluate(family, as_of=date(2018, 6, 30))
        except pbr.OutsideProgramme:
            continue
        again = Decision.model_validate(decision.model_dump())
        assert repr(decision) == repr(again)
        for kind, result in decision.results.items():
            assert result.model_fields_set == again.results[kind].model_fields_set
            for r in result.reasons:
                assert r.model_fields_set <= {"code", "rule", "source", "message", "compared"}


def test_a_decision_pickles_to_the_same_decision() -> None:
    """Workers send decisions to the parent by pickle (fields only, not validated again)."""
    import pickle

    import pbr

    family = pbr.Family.model_validate_json(LINES[0])
    decision = pbr.evaluate(family, as_of=date(2018, 6, 30))
    again = pickle.loads(pickle.dumps(decision))
    assert again == decision
    assert repr(again) == repr(decision)
    assert again.model_dump_json() == decision.model_dump_json()
    assert again.model_fields_set == decision.model_fields_set


def test_a_decision_written_as_text_pickles_with_its_council_and_fee() -> None:
    """A pool sends `Evaluated` back as its parts; the council and the fee must ride along."""
    import pickle

    from pbr.batch import Evaluated

    (done,) = evaluate_many_json([LINES[0]], as_of=date(2018, 6, 30), workers=1)
    assert isinstance(done, Evaluated)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(done, protocol))
        assert type(again) is Evaluated
        assert tuple(again) == tuple(done)
        assert (again.local_authority, again.attachment_fee) == (
            done.local_authority,
            done.attachment_fee,
        )
    made = Evaluated(("F1", "tf-phase-1", {}, "{}"), "E06000001", Decimal("3200.00"))
    again = pickle.loads(pickle.dumps(made))
    assert (again.local_authority, again.attachment_fee) == ("E06000001", Decimal("3200.00"))
