"""Decision parts built without validation, in C (`pbr._rebuild`) and in Python alike.

`pbr.decisions` builds every model of a decision from values already valid; where pbr was built
with a C compiler it does so in C. Both must give the same part: equal, the same fields set (a
set of its own), no extra or private values, the same JSON, and a part that pickles, copies
and refuses assignment as a validated one does.
"""

from __future__ import annotations

import gc
import pickle
import shutil
import sysconfig
import tracemalloc
from contextlib import suppress
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbr import _lean, decisions
from pbr.decisions import Provenance, Reason, ResultDecision, as_model
from pbr.serve._examples import AS_OF, FAMILY

try:
    from pbr import _rebuild
except ImportError:  # built without a C compiler: the C part's own tests are skipped
    BUILT = False
else:
    BUILT = True
needs_c = pytest.mark.skipif(not BUILT, reason="pbr was built without its C part")

REASON = ("code", "rule", "source", "message", "compared")


def test_the_c_part_is_built_where_there_is_a_c_compiler() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): pbr builds models in Python")
    assert BUILT, "pbr._rebuild was not built: run pip install -e . again and read its output"
    assert decisions._part is _rebuild.model
    assert decisions._tree is _rebuild.tree


def _same(a: pydantic.BaseModel, b: pydantic.BaseModel) -> None:
    assert type(a) is type(b)
    assert a == b
    assert a.__dict__ == b.__dict__
    assert list(a.__dict__) == list(b.__dict__)
    assert a.model_fields_set == b.model_fields_set
    assert type(a.model_fields_set) is set
    assert a.__pydantic_extra__ is None
    assert a.__pydantic_private__ is None
    assert a.model_dump_json() == b.model_dump_json()


COMPARED = st.dictionaries(
    st.text(max_size=8), st.none() | st.booleans() | st.integers() | st.text(max_size=8), max_size=4
)


@needs_c
@given(
    st.text(min_size=1, max_size=12),
    st.text(max_size=20),
    st.text(max_size=6),
    st.text(max_size=40),
    COMPARED,
)
def test_a_reason_built_in_c_is_the_one_built_in_python(
    code: str, rule: str, source: str, message: str, compared: dict[str, Any]
) -> None:
    values = dict(zip(REASON, (code, rule, source, message, compared), strict=True))
    fields = frozenset(REASON)
    c = _rebuild.model(Reason, dict(values), fields)
    py = decisions._rebuilt_here(Reason, dict(values), fields)
    _same(c, py)
    lean = _lean.Reason(code, rule, source, message, compared)
    spec = decisions._specs()[_lean.Reason]
    _same(_rebuild.tree(spec, lean), py)
    _same(decisions._tree_here(spec, lean), py)


@needs_c
def test_the_fields_set_is_a_set_of_the_part_s_own() -> None:
    fields = {"pbr_version", "rules_hash", "input_hash"}
    values = {"pbr_version": "1", "rules_hash": "r", "input_hash": "i"}
    first = _rebuild.model(Provenance, dict(values), fields)
    second = _rebuild.model(Provenance, dict(values), fields)
    first.model_fields_set.add("other")  # what pydantic's model_copy(update=...) does to a copy
    assert second.model_fields_set == fields
    assert fields == set(values)
    partly = _rebuild.model(Provenance, dict(values), ["input_hash"])
    assert partly.model_fields_set == {"input_hash"}


@needs_c
def test_a_part_built_in_c_behaves_as_a_validated_one() -> None:
    values = {
        "status": "met",
        "amount": Decimal("700.00"),
        "rate": Decimal("700.00"),
        "earliest_date": date(2013, 1, 7),
        "reasons": (),
    }
    built = _rebuild.model(ResultDecision, dict(values), values)
    validated = ResultDecision.model_validate(values)
    _same(built, validated)
    _same(pickle.loads(pickle.dumps(built)), validated)
    _same(built.model_copy(), validated)
    assert built.model_copy(update={"status": "not_met"}).status == "not_met"
    assert built.status == "met"
    with pytest.raises(pydantic.ValidationError):
        built.status = "not_met"
    assert hash(built.model_dump_json()) == hash(validated.model_dump_json())


@needs_c
def test_wrong_arguments_are_refused_not_crashed_on() -> None:
    with pytest.raises(TypeError, match="3 arguments"):
        _rebuild.model(Reason, {})  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="must be a class"):
        _rebuild.model("Reason", {}, ())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a dict"):
        _rebuild.model(Reason, [("code", "A")], ())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _rebuild.model(Reason, {}, 7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"object\.__new__ makes"):
        _rebuild.model(int, {}, ())  # as object.__new__(int) refuses
    with pytest.raises(TypeError, match=r"object\.__new__ makes"):
        _rebuild.model(Exception, {}, ())

    class Slotted:
        __slots__ = ("a",)

    with pytest.raises(AttributeError):
        _rebuild.model(Slotted, {}, ())  # no __dict__ to set

    lean = _lean.Reason("A", "b", "S1", "m", {})
    for spec, why in [
        ((Reason, ["code"], (None,), ()), "tuples of one length"),
        ((Reason, ("code",), (), ()), "tuples of one length"),
        ((Reason, ("code",)), "spec must be"),
        ([Reason, ("code",), (None,), ()], "spec must be"),
        ((Reason, ("code",), ((1,),), ()), r"\(how, spec\)"),
        ((Reason, ("code",), ((4, None),), ()), "1, 2 or 3"),
        ((Reason, ("code",), ((1, None),), ()), "must hold a tuple"),
        ((Reason, ("code",), ((2, None),), ()), "must hold a dict"),
        (("Reason", ("code",), (None,), ()), "must be a class"),
    ]:
        with pytest.raises(TypeError, match=why):
            _rebuild.tree(spec, lean)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="2 arguments"):
        _rebuild.tree((Reason, (), (), ()))  # type: ignore[call-arg]
    with pytest.raises(AttributeError, match="code"):
        _rebuild.tree((Reason, ("code",), (None,), ()), object())
    with pytest.raises(TypeError, match="1, 2 or 3"):  # inside a part inside a part
        _rebuild.tree(_holding(_holding((Reason, ("code",), ((0, None),), ()))), _Holder())
    deep: Any = (Reason, ("code",), (None,), ())
    for _ in range(20):
        deep = _holding(deep)
    with pytest.raises(TypeError, match="too deep"):
        _rebuild.tree(deep, _Holder())


@pytest.mark.parametrize("where", ["c", "python"])
def test_a_part_given_as_none_is_kept_as_none_and_not_set(where: str) -> None:
    if where == "c" and not BUILT:
        pytest.skip("pbr was built without its C part")
    tree = _rebuild.tree if where == "c" else decisions._tree_here
    spec = decisions._specs()[_lean.Decision]
    lean = _lean_of(FAMILY)
    with_provenance = tree(spec, lean)
    assert "provenance" in with_provenance.model_fields_set
    without = tree(spec, msgspec.structs.replace(lean, provenance=None))
    assert without.provenance is None
    assert without.model_fields_set == with_provenance.model_fields_set - {"provenance"}
    assert "format_version" not in without.model_fields_set  # as the trusted constructors
    assert (
        without.model_dump_json()
        == with_provenance.model_copy(update={"provenance": None}).model_dump_json()
    )
    assert list(without.results) == list(lean.results)  # the keys, in order


class _Holder:
    """A part whose one field `code` is itself (to nest a spec as deep as wanted)."""

    @property
    def code(self) -> _Holder:
        return self


def _holding(spec: Any) -> Any:
    """A spec of a Reason whose `code` is one part built as `spec` says."""
    return (Reason, ("code",), ((3, spec),), ("code",))


def _lean_of(record: dict[str, Any]) -> Any:
    """The record's decision as a batch's worker builds it (`pbr._lean` parts)."""
    import pbr
    from pbr._parts import lean_parts

    with lean_parts():
        decision: Any = pbr.evaluate(pbr.Family.model_validate(record), as_of=AS_OF)
    assert type(decision) is _lean.Decision
    return decision


@needs_c
def test_building_keeps_no_memory_behind() -> None:
    """A reference counted once too often would keep every part: a million of them would show."""
    lean = _lean.Reason("A", "b", "S1", "m", {"n": 1})
    fields = frozenset(REASON)

    decision = _lean_of(FAMILY)
    spec = decisions._specs()[_lean.Decision]
    bad = (Reason, ("code", "rule"), (None, (1, spec)), ())  # fails on its second field

    def build(n: int) -> None:
        for _ in range(n):
            _rebuild.tree(spec, decision)
            _rebuild.model(Reason, {"code": "A", "compared": {"n": (1,)}, "t": ((), {})}, fields)
            with suppress(TypeError):
                _rebuild.tree(bad, lean)

    build(1000)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    build(100_000)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 100_000  # 200,000 parts of about 400 bytes each, had they leaked


@pytest.mark.parametrize("where", ["c", "python"])
def test_a_lean_decision_becomes_the_model_a_plain_evaluation_builds(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`as_model` (a parallel `evaluate_many`'s parent) against `pbr.evaluate`'s own models.

    Both ways of building: in C where built, and the Python fallback (what an install without
    a C compiler runs), for the models of the plain evaluation and of the lean one alike.
    """
    import pbr
    from pbr._parts import lean_parts

    if where == "python":
        monkeypatch.setattr(decisions, "_part", decisions._rebuilt_here)
        monkeypatch.setattr(decisions, "_tree", decisions._tree_here)
    elif not BUILT:
        pytest.skip("pbr was built without its C part")

    family = pbr.Family.model_validate(FAMILY)  # back in work: results with reasons
    modelled = pbr.evaluate(family, as_of=AS_OF)
    with lean_parts():
        lean = pbr.evaluate(family, as_of=AS_OF)
    assert isinstance(lean, _lean.Decision)
    rebuilt = as_model(lean)
    _same(rebuilt, modelled)
    for kind, result in modelled.results.items():
        _same(rebuilt.results[kind], result)
        for mine, theirs in zip(rebuilt.results[kind].reasons, result.reasons, strict=True):
            _same(mine, theirs)
    assert rebuilt.provenance is not None
    assert modelled.provenance is not None
    _same(rebuilt.provenance, modelled.provenance)


@needs_c
def test_a_part_and_what_it_holds_are_kept_out_of_the_collector_s_rescans() -> None:
    """A kept decision adds nothing the cyclic collector rescans: its parts cannot form a cycle."""
    import pbr

    decision = pbr.evaluate(pbr.Family.model_validate(FAMILY), as_of=AS_OF)
    parts: list[Any] = [decision, decision.provenance, *decision.identification]
    parts += [
        *decision.results.values(),
        *(r for x in decision.results.values() for r in x.reasons),
    ]
    held = [
        held
        for part in parts
        for held in (part, part.__dict__, part.model_fields_set, *part.__dict__.values())
        if isinstance(held, tuple | dict | set | pydantic.BaseModel)
    ]
    assert len(held) > 40
    assert [h for h in held if gc.is_tracked(h)] == []
    listed = _rebuild.model(Reason, {"code": "A", "compared": [{}]}, ())
    assert gc.is_tracked(listed.compared)  # only tuples and dicts are a part's own kinds


@needs_c
def test_a_part_out_of_the_collector_s_sight_is_still_freed_with_what_it_holds() -> None:
    class Held:
        """An object that says when it is freed."""

        freed = 0

        def __del__(self) -> None:
            Held.freed += 1

    fields = frozenset(REASON)
    for _ in range(10):
        values = {"code": "A", "compared": {"n": Held()}, "reasons": (Held(), {"x": Held()})}
        _rebuild.model(Reason, values, fields)
        del values
    assert Held.freed == 30  # by reference counting alone: no collection asked for


def _tracked_in(family: Any) -> list[Any]:
    """What of a record (itself, its parts, their dicts, fields sets and tuples) is tracked."""
    seen: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, tuple):
            seen.append(value)
            for item in value:
                walk(item)
        elif isinstance(value, pydantic.BaseModel):
            seen.extend((value, value.__dict__, value.model_fields_set))
            for item in value.__dict__.values():
                walk(item)

    walk(family)
    assert len(seen) > 20
    return [value for value in seen if gc.is_tracked(value)]


@needs_c
def test_a_validated_record_is_kept_out_of_the_collector_s_rescans(tmp_path: Any) -> None:
    import json

    import pbr

    path = tmp_path / "families.jsonl"
    path.write_text(json.dumps(FAMILY) + "\n")
    for family in (
        pbr.Family.model_validate(FAMILY),
        pbr.Family.model_validate_json(json.dumps(FAMILY)),
        pbr.Family.model_validate_json(json.dumps(FAMILY), strict=True),
        *pbr.read_records(path),
    ):
        assert type(family) is pbr.Family
        assert _tracked_in(family) == []
        copied = family.model_copy(update={"local_authority": "Kent"})  # pydantic's own copy
        assert (copied.local_authority, family.local_authority) == ("Kent", None)
        assert "local_authority" not in family.model_fields_set
        assert pbr.evaluate(copied, as_of=AS_OF).local_authority == "Kent"

    class Mine(pbr.Family):
        """A caller's own kind of record: left as pydantic made it."""

    assert _tracked_in(Mine.model_validate(FAMILY)) != []


@needs_c
def test_untrack_looks_only_into_the_classes_it_is_given() -> None:
    from pbr import records

    family = records.Family.model_validate(FAMILY)
    shown = Reason(code="CAP_REACHED", rule="r", source="s", message="m")  # not a record part
    listed = [family]
    mapping = {"a": (family,)}
    held = (shown, listed, mapping, (family,))
    assert _rebuild.untrack(held, (records.Family,), records._PARTS) is held
    assert not gc.is_tracked(held)
    assert not gc.is_tracked(held[3])
    assert gc.is_tracked(shown)
    assert gc.is_tracked(listed)
    assert gc.is_tracked(mapping)  # a dict not a part's own: not looked into
    with pytest.raises(TypeError, match="must be tuples"):
        _rebuild.untrack(family, [records.Family], ())  # type: ignore[arg-type]

    # a leaf's fields are not looked at (a record part's hold text, numbers and dates); a
    # walked part's are
    def odd() -> dict[str, Any]:  # never validated: a tuple of its own holding a list
        return {"person_id": ("A1", []), "date_of_birth": None}

    leaf, walked = (records.Member.model_construct(**odd()) for _ in range(2))
    _rebuild.untrack(leaf, (), (records.Member,))
    _rebuild.untrack(walked, (records.Member,), ())
    assert not gc.is_tracked(leaf)
    assert not gc.is_tracked(leaf.__dict__)
    assert not gc.is_tracked(leaf.model_fields_set)
    assert gc.is_tracked(leaf.person_id)
    assert not gc.is_tracked(walked.person_id)

    class Slotted:
        __slots__ = ("a",)

    with pytest.raises(AttributeError):
        _rebuild.untrack(Slotted(), (Slotted,), ())  # no __dict__: refused, not crashed on
    assert _rebuild.untrack(7, (int,), (int,)) == 7  # a built-in kind is never looked into
    deep: Any = ()
    for _ in range(100):
        deep = (deep, [])  # a list: the collector itself never untracks these tuples
    _rebuild.untrack(deep, (), ())  # deeper than any record: the rest left tracked
    inner = deep
    for _ in range(40):
        inner = inner[0]
    assert not gc.is_tracked(deep)
    assert gc.is_tracked(inner)


@needs_c
def test_records_read_and_let_go_leave_no_memory_behind() -> None:
    import json

    import pbr

    text = json.dumps(FAMILY)

    def read(n: int) -> None:
        for _ in range(n):
            pbr.Family.model_validate_json(text)

    read(100)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    read(5_000)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 200_000  # 5,000 records of several KB each, had they stayed


@needs_c
def test_claims_read_are_kept_out_of_the_collector_s_rescans(tmp_path: Any) -> None:
    from pbr.audit import Claim, read_claims

    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,family_id,kind,amount,claimed_on,window\n"
        "C-1,F1,attachment_fee,3200.00,2012-11-01,\n"
        "C-2,F1,crime_asb_education,800.00,2013-06-30,2013-Q1\n"
    )
    claims, rejected = read_claims(path)
    assert (len(claims), rejected) == (2, [])
    for claim in claims:
        assert type(claim) is Claim
        assert not gc.is_tracked(claim)
        assert not gc.is_tracked(claim.__dict__)
        assert not gc.is_tracked(claim.model_fields_set)
    made = Claim(
        claim_id="C-3",
        family_id="F1",
        kind="attachment_fee",
        amount="1.00",
        claimed_on=date(2012, 11, 1),
    )
    assert gc.is_tracked(made)  # built by a caller: left as pydantic made it


@needs_c
def test_payments_loaded_into_a_history_are_kept_out_of_the_collector_s_rescans() -> None:
    from pbr.history import PaymentHistory
    from pbr.ledger import Entry
    from pbr.records import Payment

    rows = [
        {"family_id": "F1", "kind": "attachment_fee", "amount": "3200.00", "claim_id": "C-1"},
        {"family_id": "F2", "kind": "crime_asb_education", "amount": "800.00", "claim_id": "C-2"},
    ]
    history = PaymentHistory.load(rows)
    entry = Entry("F3", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "C-3", "v1")
    for payment in (*history.payments("F1"), *history.payments("F2"), entry.payment()):
        assert type(payment) is Payment
        assert not gc.is_tracked(payment)
        assert not gc.is_tracked(payment.__dict__)
