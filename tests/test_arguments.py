"""A caller's wrong argument is named when the call is made, never ignored or run into."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.batch import evaluate_many_json
from pbr.errors import PlanError, UnknownInterpretation
from pbr.plans import example_plan
from pbr.rules import PHASE_ONE

AS_OF = date(2014, 3, 31)
RECORD = {
    "family_id": "F1",
    "attached_on": "2013-05-01",
    "members": [{"person_id": "A1", "date_of_birth": "1984-03-12"}],
}
FAMILY = pbr.Family.model_validate(RECORD)
BATCHES: list[Callable[..., Any]] = [pbr.evaluate_many, evaluate_many_json]


def wrong(value: object) -> Any:
    """`value`, untyped: an argument of the wrong type, as an untyped caller would pass it."""
    return value


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (
            {"interpretations": {"employment_week": "all_13"}},
            UnknownInterpretation,
            "'employment_week'",
        ),
        ({"interpretations": {"employment_weeks": "bogus"}}, UnknownInterpretation, "'bogus'"),
        (
            {"interpretations": {"employment_weeks": "all_13 "}},
            UnknownInterpretation,
            "^interpretation 'employment_weeks' has spaces around its value 'all_13 ': remove them;",
        ),
        (
            {"interpretations": {" employment_weeks": "all_13"}},
            UnknownInterpretation,
            "^interpretation ' employment_weeks' has spaces around its id: remove them; valid: ",
        ),
        ({"interpretations": ["employment_weeks=all_13"]}, TypeError, "map a name to a value"),
        ({"interpretations": {"employment_weeks": 13}}, TypeError, "names and values are text"),
        ({"plans": {"tf_phase_2": None}}, PlanError, "no programme 'tf_phase_2'"),
        ({"plans": ["plan.toml"]}, TypeError, "map a programme id"),
        ({"plans": {"tf-phase-2": "plan.toml"}}, TypeError, "pbr.load_plan"),
        ({"as_of": "2014-03-31"}, TypeError, "as_of"),
    ],
)
def test_a_batch_refuses_a_bad_argument_when_called_before_any_family(
    batch: Callable[..., Any], arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    # nothing iterated, an empty batch: a nightly job fails before it writes anything
    with pytest.raises(error, match=message):
        batch([], **{"as_of": AS_OF, **arguments})


def test_a_plan_under_another_programme_s_key_is_refused() -> None:
    plans = {"supporting-families": example_plan("tf-phase-2")}
    with pytest.raises(PlanError, match=r"is a plan for tf-phase-2, not supporting-families"):
        pbr.evaluate_many([], as_of=AS_OF, plans=plans)


def test_a_rule_set_given_by_name_is_refused_with_the_way_to_get_one() -> None:
    with pytest.raises(TypeError, match=r"programme\('tf-phase-1'\)\.rules"):
        pbr.evaluate_many([], as_of=AS_OF, rules=wrong("tf-phase-1"))


def test_interpretations_apply_to_a_rule_set_given_too() -> None:
    chosen = {"employment_weeks": "all_13"}
    decided = pbr.evaluate_many([FAMILY], as_of=AS_OF, rules=PHASE_ONE, interpretations=chosen)
    decision = next(decided)
    assert isinstance(decision, pbr.Decision)
    assert decision.interpretations["employment_weeks"] == "all_13"
    with pytest.raises(UnknownInterpretation, match="'baseline_x'"):
        pbr.evaluate_many([], as_of=AS_OF, rules=PHASE_ONE, interpretations={"baseline_x": "a"})


def test_good_choices_still_reach_every_decision() -> None:
    chosen = {"employment_weeks": "all_13"}
    decision = next(pbr.evaluate_many([FAMILY], as_of=AS_OF, interpretations=chosen))
    assert isinstance(decision, pbr.Decision)
    assert decision.interpretations["employment_weeks"] == "all_13"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: pbr.evaluate(wrong(RECORD), as_of=AS_OF),
            r"expected a pbr.Family, got dict .*model_validate",
        ),
        (lambda: pbr.identify(wrong(RECORD)), "expected a pbr.Family, got dict"),
        (lambda: pbr.rule_set_for(wrong("F1")), "expected a pbr.Family, got str 'F1'"),
        (
            lambda: pbr.evaluate(FAMILY, as_of=AS_OF, rules=wrong("tf-phase-1")),
            "rules must be a pbr.rules.RuleSet",
        ),
        (
            lambda: pbr.identify(FAMILY, rules=wrong("tf-phase-1")),
            "rules must be a pbr.rules.RuleSet",
        ),
        (
            lambda: pbr.evaluate(FAMILY, as_of=AS_OF, plan=wrong("plan.yaml")),
            r"plan must be a pbr.plans.OutcomePlan or None, got str 'plan.yaml'; load a file",
        ),
        (
            lambda: pbr.evaluate(FAMILY, as_of=AS_OF, plan=wrong({"id": "x"})),
            "OutcomePlan.model_validate",
        ),
        (lambda: pbr.read_records(wrong(5)), "expected a file's path, got int 5"),
        (lambda: pbr.load_plan(wrong({"id": "x"})), "parse_plan"),
        (lambda: pbr.FinancialYear(wrong("2013/15")), "FinancialYear.parse"),
        (lambda: pbr.FinancialYear(True), "got bool True"),
    ],
)
def test_a_wrong_type_is_named_with_what_to_pass(call: Callable[[], object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_a_plan_file_name_to_a_phase_one_family_is_still_named() -> None:
    # phase one never reads a plan: the wrong type is named all the same, not ignored
    with pytest.raises(TypeError, match="plan must be"):
        pbr.evaluate(FAMILY, as_of=AS_OF, plan=wrong(Path("plan.yaml")))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize(
    ("records", "hint"),
    [
        ("families.jsonl", "pbr.read_records"),
        (b"{}", "pbr.read_records"),
        (Path("families.jsonl"), "pbr.read_records"),
        ({"family_id": "F1"}, r"\[record\]"),
        (5, "got int 5"),
        (FAMILY, r"got Family .*; one family goes in a list: \[family\]"),
    ],
)
def test_records_that_are_one_text_path_or_record_are_refused(
    batch: Callable[..., Any], records: object, hint: str
) -> None:
    # iterated, a file's name gives a "record" a character and a dict one a key: all rejected
    with pytest.raises(TypeError, match=hint):
        batch(records, as_of=AS_OF)


LEDGER_NEEDED = (
    r"ledger must be a pbr.history.PaymentHistory, a pbr.ledger.Ledger or a ledger's path"
)


def test_a_ledger_of_the_wrong_type_is_named_not_run_into() -> None:
    # typed: mypy --strict refuses the number (the ignore below fails the run if it did not)
    with pytest.raises(TypeError, match=rf"{LEDGER_NEEDED} \(.*\), got int 123$"):
        pbr.evaluate(FAMILY, as_of=AS_OF, ledger=123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got bytes b'l.db'; a path is text or a pathlib.Path"):
        pbr.evaluate(FAMILY, as_of=AS_OF, ledger=wrong(b"l.db"))


@pytest.mark.parametrize("batch", BATCHES)
def test_a_batch_names_a_ledger_of_the_wrong_type_when_called(batch: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match=rf"{LEDGER_NEEDED}.*, got float 1.5"):
        batch([], as_of=AS_OF, ledger=1.5)


def test_every_kind_of_ledger_is_still_taken(tmp_path: Path) -> None:
    from pbr.history import PaymentHistory
    from pbr.ledger import Ledger

    payments = {"F1": [{"kind": "attachment_fee", "amount": "2400.00", "claim_id": "C-1"}]}
    ledger = Ledger(tmp_path / "l.db")
    history = PaymentHistory.of(payments)

    class Folder:  # a path that is neither text nor a pathlib.Path
        def __fspath__(self) -> str:
            return str(tmp_path / "l.db")

    for given in (history, ledger, tmp_path / "l.db", str(tmp_path / "l.db"), Folder(), payments):
        decision = pbr.evaluate(FAMILY, as_of=AS_OF, ledger=given)
        assert decision.paid_to_date == (2400 if given is history or given is payments else 0)


def test_a_data_frame_is_refused_and_its_column_taken() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"record": [FAMILY.model_dump_json()]})
    with pytest.raises(TypeError, match=r"frame\['record'\]"):
        pbr.evaluate_many(frame, as_of=AS_OF)
    (decision,) = pbr.evaluate_many(frame["record"], as_of=AS_OF)
    assert isinstance(decision, pbr.Decision)


def test_a_number_too_long_to_show_is_still_named() -> None:
    # repr() of an int past Python's digit limit raises: the message must not
    with pytest.raises(TypeError, match=r"got int a number too long to show"):
        pbr.evaluate_many(wrong(10**5000), as_of=AS_OF)


BAD_SIZES = [
    ("chunk_size", 0, ValueError, r"chunk_size must be 1 or more, not 0"),
    ("chunk_size", -1, ValueError, r"chunk_size must be 1 or more, not -1"),
    ("chunk_size", 1.5, TypeError, r"chunk_size must be a whole number, not 1\.5"),
    ("chunk_size", "x", TypeError, r"chunk_size must be a whole number, not 'x'"),
    ("chunk_size", True, TypeError, r"chunk_size must be a whole number, not True"),
    ("max_record_bytes", 0, ValueError, r"max_record_bytes must be from 1 to 1,099,511,627,776"),
    ("max_record_bytes", -1, ValueError, r"max_record_bytes must be .* \(1 TiB\), not -1"),
    ("max_record_bytes", 2**40 + 1, ValueError, r"max_record_bytes must be from 1 to"),
    ("max_record_bytes", True, TypeError, r"max_record_bytes must be a whole number .*True"),
    ("max_record_bytes", 4.5, TypeError, r"max_record_bytes must be a whole number .*4\.5"),
]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("name", "value", "error", "message"), BAD_SIZES)
def test_a_batch_refuses_a_chunk_size_or_record_limit_that_is_no_size(
    batch: Callable[..., Any],
    workers: int,
    name: str,
    value: object,
    error: type[Exception],
    message: str,
) -> None:
    # before: 0 divided by zero on a pool and was taken on one worker; 0 bytes rejected all
    with pytest.raises(error, match=message):
        batch([RECORD, RECORD], as_of=AS_OF, workers=workers, **{name: value})


def test_the_largest_and_smallest_sizes_are_taken() -> None:
    text = FAMILY.model_dump_json()
    for workers in (1, 2):
        (one,) = pbr.evaluate_many([text], as_of=AS_OF, workers=workers, chunk_size=1)
        assert isinstance(one, pbr.Decision)
        (big,) = pbr.evaluate_many([text], as_of=AS_OF, workers=workers, max_record_bytes=2**40)
        assert isinstance(big, pbr.Decision)
        (small,) = pbr.evaluate_many([text], as_of=AS_OF, workers=workers, max_record_bytes=1)
        assert isinstance(small, pbr.Rejection)  # a byte is a limit: the record is over it


class _Index:
    """A whole number as numpy's integers are one: by ``__index__``, not a subclass of int."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_a_whole_number_that_is_not_an_int_is_taken() -> None:
    """numpy's integers (np.int64(10)) were refused as "not a whole number" by the new checks."""
    from pbr.batch import evaluate_many_json

    np = pytest.importorskip("numpy")
    text = FAMILY.model_dump_json()
    for number in (_Index, np.int64):
        sizes: dict[str, Any] = {"chunk_size": number(1), "max_record_bytes": number(10**6)}
        for workers in (1, 2):
            count: Any = number(workers)
            (one,) = pbr.evaluate_many([text], as_of=AS_OF, workers=count, **sizes)
            assert isinstance(one, pbr.Decision)
        (json_one,) = evaluate_many_json([text], as_of=AS_OF, **sizes)
        assert not isinstance(json_one, pbr.Rejection)
        assert json_one[0] == FAMILY.family_id
    with pytest.raises(TypeError, match="workers must be a whole number or 'auto', not True"):
        pbr.evaluate_many([text], as_of=AS_OF, workers=True)


@pytest.mark.parametrize(("name", "value", "error", "message"), BAD_SIZES[5:])
def test_every_reader_refuses_a_record_limit_that_is_no_size(
    tmp_path: Path, name: str, value: object, error: type[Exception], message: str
) -> None:
    from pbr import dask as pbr_dask
    from pbr import io
    from pbr.batch import evaluate_spans

    path = tmp_path / "families.jsonl"
    path.write_text(FAMILY.model_dump_json() + "\n", encoding="utf-8")
    limit: Any = value
    calls: list[Callable[[], object]] = [
        lambda: evaluate_spans(str(path), as_of=AS_OF, max_record_bytes=limit),
        lambda: io.read_records(path, max_record_bytes=limit),
        lambda: io.read_numbered(path, max_record_bytes=limit),
        lambda: io.read_raw(path, max_record_bytes=limit),
        lambda: io.json_lines_start(path, max_record_bytes=limit),
        lambda: io.parse_numbered([], source="f", max_record_bytes=limit),
        lambda: io.records_from_text("", max_record_bytes=limit),
        lambda: io.numbered_from_text("", max_record_bytes=limit),
        lambda: io.RawRange(path, 0, 10, max_record_bytes=limit),
        lambda: pbr_dask.evaluate(
            path, as_of=AS_OF, output=tmp_path / "out", max_record_bytes=limit
        ),
    ]
    for call in calls:
        with pytest.raises(error, match=message):
            call()
    assert not (tmp_path / "out").exists()
