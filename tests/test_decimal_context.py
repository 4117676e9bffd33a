"""The caller's `decimal` context changes no decision and no total (`pbr.money.ARITHMETIC`)."""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import pbr
from pbr.testing import families_with_as_of

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
AS_OF = date(2015, 3, 31)


@pytest.fixture
def a_notebook_s_context() -> Iterator[decimal.Context]:
    """What an analyst might set for display: 3 digits, rounding down, lower-case exponents."""
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_DOWN
        ctx.capitals = 0
        yield ctx


def _decisions(workers: int) -> list[str]:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    return [d.model_dump_json() for d in pbr.evaluate_many(lines, as_of=AS_OF, workers=workers)]


def test_the_rules_compute_in_their_own_context_and_give_the_caller_s_back(
    a_notebook_s_context: decimal.Context,
) -> None:
    with localcontext(decimal.DefaultContext):
        expected = _decisions(1)
    # once the room under the cap was 1.5e+3 in reasons, and 4000.00 - 2765.44 was 1.23E+3
    assert any('"1500.00"' in d for d in expected)
    for workers in (1, 2):
        assert _decisions(workers) == expected
    assert decimal.getcontext() is a_notebook_s_context
    assert str(Decimal("4000.00") - Decimal("2765.44")) == "1.23e+3"  # the caller's, as set


def test_a_batch_never_leaks_its_context_into_the_caller_s_loop(
    a_notebook_s_context: decimal.Context,
) -> None:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    for n, _ in enumerate(pbr.evaluate_many(lines, as_of=AS_OF, workers=1)):
        assert decimal.getcontext() is a_notebook_s_context, n


def test_totals_add_up_in_their_own_context(a_notebook_s_context: decimal.Context) -> None:
    totals = pbr.Totals()
    totals.add_amounts("Leeds", Decimal("2400.00"), [Decimal("1234.56"), Decimal("100.00")])
    doubled = totals + totals
    assert doubled.overall.results_payments == Decimal("2669.12")
    assert doubled.overall.total == Decimal("7469.12")
    assert (doubled.overall + doubled.overall).total == Decimal("14938.24")
    assert decimal.getcontext() is a_notebook_s_context


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(families_with_as_of())
def test_any_decision_is_the_same_in_any_caller_s_context(pair: tuple[pbr.Family, date]) -> None:
    family, as_of = pair
    expected = pbr.evaluate(family, as_of=as_of).model_dump_json()
    with localcontext() as ctx:
        ctx.prec, ctx.rounding, ctx.capitals = 2, ROUND_DOWN, 0
        assert pbr.evaluate(family, as_of=as_of).model_dump_json() == expected
        assert decimal.getcontext() is ctx


def test_an_audit_and_a_frame_are_the_same_in_any_caller_s_context(
    a_notebook_s_context: decimal.Context,
) -> None:
    import pbr.audit

    families = [f for f in pbr.read_records(EXAMPLES) if isinstance(f, pbr.Family)]
    claims, _ = pbr.audit.read_claims(EXAMPLES.parent / "claims.csv")

    def audited() -> str:
        return repr(pbr.audit.verify(claims, families)) + repr(
            pbr.audit.missed_claims(families, AS_OF)
        )

    def frame() -> str:
        decisions = pbr.evaluate_many(EXAMPLES.read_bytes().splitlines(), as_of=AS_OF, workers=1)
        return str(pbr.to_pandas(decisions).to_dict("list"))

    found = audited(), frame() if _has_pandas() else ""
    with localcontext(decimal.DefaultContext):
        expected = audited(), frame() if _has_pandas() else ""
    assert "over_claimed=Decimal('100.00')" in expected[0]  # was Decimal('100') at 3 digits
    assert found == expected
    assert decimal.getcontext() is a_notebook_s_context


def _has_pandas() -> bool:
    import importlib.util

    return importlib.util.find_spec("pandas") is not None


def test_a_forecast_is_the_same_in_any_caller_s_context(
    a_notebook_s_context: decimal.Context,
) -> None:
    from pbr.forecast import allocation, drawdown, from_records

    families = [f for f in pbr.read_records(EXAMPLES) if f.local_authority == "Exampleshire"]

    def forecast() -> list[str]:
        expected = drawdown(allocation(790), runs=20, seed=1)
        records = from_records(families, as_of=date(2014, 3, 31), alloc=allocation(80))
        shown = [repr(expected), repr(records), str(expected.total), str(records.at_risk)]
        if _has_pandas():
            shown += [str(d.to_pandas().to_dict("list")) for d in (expected, records)]
        return shown

    found = forecast()
    with localcontext(decimal.DefaultContext):
        expected = forecast()
    assert "maximum=Decimal('2632000.00')" in expected[0]  # was Decimal('2.62e+6') at 3 digits
    assert found == expected
    assert decimal.getcontext() is a_notebook_s_context


def test_a_forecast_s_warning_points_at_the_caller_s_line() -> None:
    """Each wrapper pbr puts round its public functions is one more frame to a fixed stacklevel."""
    from pbr.forecast import allocation, from_records

    families = list(pbr.read_records(EXAMPLES))  # two councils: a warning
    with pytest.warns(UserWarning, match="name 2 councils") as caught:
        from_records(families, as_of=date(2014, 3, 31), alloc=allocation(80))
    assert {w.filename for w in caught} == {__file__}


@pytest.fixture
def a_trapping_context() -> Iterator[decimal.Context]:
    """3 digits, and any rounding at all an error: pbr's arithmetic must never meet it."""
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[decimal.Inexact] = ctx.traps[decimal.Rounded] = True
        yield ctx


def _every_path(workers: int) -> list[str]:
    """The examples' decisions by every way a batch takes records in, and as validated alone."""
    import json

    from pbr.batch import evaluate_many_json

    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    out = [x.model_dump_json() for x in pbr.evaluate_many(lines, as_of=AS_OF, workers=workers)]
    dicts = [json.loads(line) for line in lines]
    out += [x.model_dump_json() for x in pbr.evaluate_many(dicts, as_of=AS_OF, workers=workers)]
    ledger = {"NO-SUCH-FAMILY": [{"kind": "attachment_fee", "amount": "1.00", "claim_id": "C"}]}
    with_ledger = pbr.evaluate_many(lines, as_of=AS_OF, workers=workers, ledger=ledger)
    out += [x.model_dump_json() for x in with_ledger]
    for x in evaluate_many_json(lines, as_of=AS_OF, workers=workers):
        out.append(x[3] if isinstance(x, tuple) else x.model_dump_json())
    out += [x.model_dump_json() for x in pbr.read_records(EXAMPLES)]
    out += [pbr.Family.model_validate_json(line).model_dump_json() for line in lines]
    out += [pbr.Family.model_validate(record).model_dump_json() for record in dicts]
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_records_are_validated_in_pbr_s_context_whatever_the_caller_s_traps(
    a_trapping_context: decimal.Context, workers: int
) -> None:
    # a family's payments added up to check them against the largest sum: the caller's
    # context rounded the bound, and with Inexact trapped the batch raised decimal.Inexact
    found = _every_path(workers)
    with localcontext(decimal.DefaultContext):
        expected = _every_path(1)
    assert found == expected
    assert decimal.getcontext() is a_trapping_context
