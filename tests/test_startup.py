"""What a batch's start-up pays for: pydantic is not even imported for records the batch compiles.

Each run is a fresh interpreter (`subprocess`), since this test process has built every model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import record

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

PROBE = """
import json, sys
from pbr.cli import main
sys.argv = ["pbr", "evaluate", sys.argv[1], "--as-of", "2015-03-31", "--output", sys.argv[2],
            "--format", sys.argv[3]]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
imported = "pydantic" in sys.modules
from pbr import decisions, io, plans, records
built = {"pydantic imported": imported} | {
    cls.__name__: bool(cls.__pydantic_complete__)
    for cls in (records.Family, records.Member, records.SchoolTermRecord, decisions.Decision,
                decisions.Reason, io.Rejection, io.FieldError, plans.OutcomePlan)
}
print(json.dumps(built))
"""


def _built(tmp_path: Path, lines: list[str], render: str = "json") -> dict[str, bool]:
    source = tmp_path / "families.jsonl"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return _probe(tmp_path, source, render)


def _probe(tmp_path: Path, source: Path, render: str = "json") -> dict[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(source), str(tmp_path / "out"), render],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, bool] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_a_batch_of_valid_records_builds_no_pydantic_model(tmp_path: Path) -> None:
    """Phase one's examples in every format: the compiled record and the lean parts only.

    Phase two and Supporting Families validate their outcome plan with pydantic (one model).
    """
    none = dict.fromkeys(
        (
            "pydantic imported",
            "Family",
            "Member",
            "SchoolTermRecord",
            "Decision",
            "Reason",
            "Rejection",
            "FieldError",
            "OutcomePlan",
        ),
        False,
    )
    assert _probe(tmp_path, EXAMPLES / "families.jsonl") == none
    assert _probe(tmp_path, EXAMPLES / "families.jsonl", "csv") == none
    assert _probe(tmp_path, EXAMPLES / "families.jsonl", "table") == none
    records = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()
    array = tmp_path / "families.json"  # a JSON array, one record a line
    array.write_text("[\n" + ",\n".join(records) + "\n]\n", encoding="utf-8")
    assert _probe(tmp_path, array) == none
    assert _probe(tmp_path, EXAMPLES / "mixed-programmes.jsonl") == none | {
        "pydantic imported": True,
        "OutcomePlan": True,
    }


def test_a_record_the_batch_declines_builds_the_models_it_needs(tmp_path: Path) -> None:
    """The probe can see a build: a rejected record validates with pydantic and reports."""
    lines = [json.dumps(record(family_id="F1")), '{"family_id": "F2"}']
    built = _built(tmp_path, lines)
    assert built["pydantic imported"]
    assert built["Family"]
    assert built["Rejection"]
    assert not built["Decision"]


THREADS = """
import json, sys, threading
from datetime import date
import pbr
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert not pbr.Family.__pydantic_complete__  # the first use below builds it
start = threading.Barrier(8)
answers, errors = [], []
def first_use(line):
    start.wait()
    try:
        family = pbr.Family.model_validate_json(line)
        decision = pbr.evaluate(family, as_of=date(2015, 3, 31))
        answers.append((family.family_id, decision.model_dump_json(), decision.explain()))
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=first_use, args=(line,)) for line in lines]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"errors": errors, "answers": sorted(answers)}))
"""


def test_models_first_used_by_eight_threads_at_once_answer_as_one_thread(tmp_path: Path) -> None:
    """Deferred models are built on first use: a threaded embedding may race that build.

    Eight threads validate, evaluate and explain at once in a fresh interpreter; each answer
    must be the one this process (models long built) gives.
    """
    from datetime import date

    import pbr

    lines = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if line.strip()][:8]
    assert len(lines) == 8
    source = tmp_path / "eight.jsonl"
    source.write_text("\n".join(lines), encoding="utf-8")
    expected = []
    for line in lines:
        family = pbr.Family.model_validate_json(line)
        decision = pbr.evaluate(family, as_of=date(2015, 3, 31))
        expected.append([family.family_id, decision.model_dump_json(), decision.explain()])
    for _ in range(3):  # a race shows some of the time, if at all
        done = subprocess.run(
            [sys.executable, "-c", THREADS, str(source)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(done.stdout.splitlines()[-1])
        assert found["errors"] == []
        assert found["answers"] == sorted(expected)


def _pydantic_core_says(line: bytes) -> bool:
    """The oracle: the shape test as it was, by pydantic-core's reader alone."""
    from pydantic_core import from_json

    try:
        return isinstance(from_json(line.decode("utf-8", errors="replace")), dict)
    except ValueError:
        return False


EDGES = [
    b'{"a": 1}',
    b'  {"a": 1}  \n',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e999}',
    b'{"a": 1} x',
    b'{"a": 1,}',
    b'{"a": "\t"}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\udc00\\ud800"}',
    b'{"a": "\\u0041"}',
    b'{"a": "\xff"}',
    b'{"a": 01}',
    b'{"a": 1, "a": 2}',
    b"[1, 2]",
    b'"text"',
    b"",
    b'{"a":' + b"[" * 198 + b"]" * 198 + b"}",
    b'{"a":' + b"[" * 199 + b"]" * 199 + b"}",
    b'{"a":' + b"[" * 200 + b"]" * 200 + b"}",
    b'{"a":' + b"[" * 201 + b"]" * 201 + b"}",
    b'{"a":' * 205 + b"1" + b"}" * 205,
]


def _whole_value_as_it_was(line: bytes) -> bool:
    """The oracle for `_whole_json`: pydantic-core's reader, then the brackets alone."""
    from pydantic_core import from_json

    from pbr.io import _end_of_value

    try:
        from_json(line.decode("utf-8", errors="replace"))
    except ValueError:
        text = line.decode("utf-8", errors="surrogateescape").strip()
        return bool(text) and _end_of_value(text, 0) == len(text)
    return True


VALUES = [
    *EDGES,
    b"[1, 2]",
    b"[",
    b"[1, 2",
    b'["a", {"b": NaN}]',
    b"[" * 199 + b"]" * 199,
    b"[" * 201 + b"]" * 201,
    b"1e999",
    b"-0",
    b"nul",
    b"[1] [2]",
]


@pytest.mark.parametrize("line", VALUES)
def test_the_shape_tests_are_pydantic_cores(line: bytes) -> None:
    """msgspec answers the usual first line; wherever the two readers differ, pydantic-core does."""
    from pbr.io import _whole_json, _whole_json_object

    assert _whole_json_object(line) == _pydantic_core_says(line)
    assert _whole_json(line) == _whole_value_as_it_was(line)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=30,
    ),
    st.sampled_from(["", " ", "x", ",", "}", "\n"]),
)
def test_the_shape_tests_agree_on_drawn_json(value: object, tail: str) -> None:
    from pbr.io import _whole_json, _whole_json_object

    for text in (json.dumps({"v": value}, allow_nan=True), json.dumps(value, allow_nan=True)):
        line = (text + tail).encode("utf-8", "surrogatepass")
        assert _whole_json_object(line) == _pydantic_core_says(line)
        assert _whole_json(line) == _whole_value_as_it_was(line)


def _commands(parser: Any) -> dict[str, Any]:
    (action,) = (a for a in parser._actions if a.dest == "command")
    found: dict[str, Any] = action.choices
    return found


def test_a_run_builds_only_its_own_commands_parser() -> None:
    """A tenth of start-up went to building every command's options for one run."""
    from pbr.cli import _COMMANDS, _parser

    every = _commands(_parser())
    assert list(every) == [name for names, _ in _COMMANDS for name in names]
    assert list(_commands(_parser("evaluate"))) == ["evaluate"]
    assert list(_commands(_parser("replay"))) == ["audit", "ledger", "replay"]
    assert list(_commands(_parser("evalute"))) == list(every)  # its error lists every command
    assert list(_commands(_parser("-h"))) == list(every)
    for name, full in every.items():
        assert _commands(_parser(name))[name].format_help() == full.format_help()
