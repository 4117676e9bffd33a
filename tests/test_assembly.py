"""The kernel's fast assembly builds what the generic, validated path builds (issue 14).

`trusted_result`, `trusted_decision` and `trusted_provenance` skip the template of `trusted`;
`pbr.engine.evaluate` records the provenance as the decision is built; the input hash takes the
serializer's bytes; `rules_hash` keeps its last answer. Each must change nothing: object, JSON
and fields set.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pbr
from pbr._parts import pence as _pence
from pbr.decisions import (
    Decision,
    Provenance,
    ResultDecision,
    trusted,
    trusted_decision,
    trusted_provenance,
    trusted_result,
    with_provenance,
)
from pbr.engine import _rules_hash, provenance, rules_hash
from pbr.money import MAX_MONEY, money
from pbr.programmes import programme
from pbr.programmes._kernel import account, paid_order

LINES = (Path(__file__).resolve().parent / "reference" / "families.jsonl").read_bytes().splitlines()
FAMILIES = [pbr.Family.model_validate_json(line) for line in LINES]
WHEN = date(2016, 3, 31)


def _same(built: object, validated: object, *, fields_set: bool = True) -> None:
    assert isinstance(built, pbr.Decision | ResultDecision | Provenance)
    assert isinstance(validated, type(built))
    assert built == validated
    assert repr(built) == repr(validated)
    assert built.model_dump_json() == validated.model_dump_json()
    if fields_set:  # a dump validated again sets every field, those left at their default too
        assert built.model_fields_set == validated.model_fields_set


def _decisions() -> list[Decision]:
    found = []
    for family in FAMILIES:
        try:
            found.append(pbr.evaluate(family, as_of=WHEN))
        except pbr.OutsideProgramme:
            continue
    return found


DECISIONS = _decisions()


def test_the_corpus_gives_decisions_of_every_programme() -> None:
    assert {d.programme for d in DECISIONS} == {"tf-phase-1", "tf-phase-2", "supporting-families"}


def test_the_input_hash_takes_the_serializers_bytes() -> None:
    label = {"local_authority": "Conseil de l’Île — ü"}  # non-ASCII text is written as it is
    odd = FAMILIES[0].model_copy(update=label)
    for family in [*FAMILIES, odd]:
        text = family.model_dump_json().encode() + b"|" + WHEN.isoformat().encode()
        got = provenance(family, WHEN, pbr.rule_set_for(FAMILIES[0]))
        assert got.input_hash == hashlib.sha256(text).hexdigest()


def test_the_engine_gives_the_programmes_decision_with_its_provenance() -> None:
    """What `evaluate` did before: the programme's decision, the provenance copied in."""
    for family, decision in zip(
        (f for f in FAMILIES if f.family_id in {d.family_id for d in DECISIONS}),
        DECISIONS,
        strict=False,
    ):
        rules = pbr.rule_set_for(family)
        plain = programme(rules.programme).evaluate(family, WHEN, rules, None)
        assert plain.provenance is None
        assert "provenance" not in plain.model_fields_set
        _same(decision, with_provenance(plain, provenance(family, WHEN, rules)))


def test_decisions_are_what_validation_builds() -> None:
    for decision in DECISIONS:
        again = Decision.model_validate(decision.model_dump())
        _same(decision, again, fields_set=False)
        for kind, result in decision.results.items():
            _same(result, again.results[kind])
        assert decision.provenance is not None
        _same(decision.provenance, Provenance(**decision.provenance.model_dump()))


def test_every_amount_in_a_decision_has_two_places() -> None:
    """The engine's arithmetic keeps pence: `str` of each amount is what JSON shows."""
    for decision in DECISIONS:
        amounts = [decision.attachment_fee, decision.payable, decision.paid_to_date, decision.cap]
        for result in decision.results.values():
            amounts += [result.amount, result.rate]
        assert all(a.as_tuple().exponent == -2 for a in amounts), decision.family_id


money_like = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.decimals(min_value=-MAX_MONEY * 2, max_value=MAX_MONEY * 2, places=2),
    st.integers(min_value=-(10**13), max_value=10**13),
)


@given(money_like)
def test_pence_is_money(value: Decimal | int) -> None:
    try:
        want = money(value)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            _pence(value)
        return
    got = _pence(value)
    assert got == want
    assert str(got) == str(want)


@given(money_like, money_like, st.sampled_from(["met", "not_met", "already_paid"]))
def test_a_result_built_directly_is_the_templates(
    amount: Decimal | int, rate: Decimal | int, status: str
) -> None:
    reason = DECISIONS[0].identification[0]
    try:
        want = trusted(
            ResultDecision,
            status=status,
            amount=amount,
            rate=rate,
            earliest_date=date(2014, 1, 2),
            reasons=(reason,),
        )
    except (ValueError, TypeError):
        with pytest.raises((ValueError, TypeError)):
            trusted_result(status, amount, rate, date(2014, 1, 2), (reason,))  # type: ignore[arg-type]
        return
    got = trusted_result(status, amount, rate, date(2014, 1, 2), (reason,))  # type: ignore[arg-type]
    _same(got, want)
    if got.amount >= 0 and got.rate >= 0:  # validation refuses negative money
        _same(got, ResultDecision.model_validate(got.model_dump()))


@pytest.mark.parametrize("with_provenance_given", [False, True])
def test_a_decision_built_directly_is_the_templates(with_provenance_given: bool) -> None:
    for decision in DECISIONS[::5]:
        fields = {k: v for k, v in decision.__dict__.items() if k != "format_version"}
        if not with_provenance_given:
            fields["provenance"] = None
            del fields["provenance"]
        want = trusted(Decision, **fields)
        _same(trusted_decision(**fields), want)


def test_a_provenance_built_directly_is_the_templates() -> None:
    got = trusted_provenance("1.2.3", "a" * 64, "b" * 64)
    _same(got, trusted(Provenance, pbr_version="1.2.3", rules_hash="a" * 64, input_hash="b" * 64))


def test_the_rules_hash_follows_the_rule_set_and_plan() -> None:
    from pbr.plans import example_plan

    for p in pbr.programmes.programmes():
        plans = [None, example_plan(p.id)] if p.uses_plan else [None]
        for plan in plans:
            other = {
                name: next(v for v in i.values if v != i.default)
                for name, i in list(p.rules.interpretations.items())[:1]
            }
            for rules in (p.rules, p.rules.with_interpretations(**other)):
                for _ in range(2):  # the second asks the kept answer
                    assert rules_hash(rules, plan) == _rules_hash(
                        rules.data_sha256,
                        tuple(sorted(rules.chosen.items())),
                        tuple(sorted(rules.term_calendar.overrides.items())),
                        plan,
                    )


def test_the_rules_hash_follows_a_council_calendar_s_name() -> None:
    # the same dates named 'own' and 'council' give decisions whose reasons differ, yet their
    # rules hash was the same: the hash must tell them apart
    from pbr.periods import TermCalendar, TermName

    base = programme("tf-phase-2").rules
    dates: dict[tuple[str, TermName], tuple[date, date]] = {
        ("2016/17", "autumn"): (date(2016, 9, 5), date(2016, 12, 20))
    }
    own = base.with_term_calendar(TermCalendar(dates))
    council = base.with_term_calendar(TermCalendar(dates, name="council"))
    other = base.with_term_calendar(TermCalendar(dates, name="other"))
    hashes = {rules_hash(rules) for rules in (own, council, other, own, council)}
    assert len(hashes) == 3
    # the default calendar, whatever its name, hashes as it always did
    assert rules_hash(base.with_term_calendar(TermCalendar(name="x"))) == rules_hash(base)
    assert rules_hash(base) == _rules_hash(
        base.data_sha256, tuple(sorted(base.chosen.items())), (), None
    )


def test_a_rule_set_s_mappings_cannot_change_beneath_its_hash() -> None:
    """A rule set copies the mappings it is given, read-only: neither the caller's dict nor the
    rule set's own can change what is paid under its hash."""
    from dataclasses import replace
    from types import MappingProxyType

    base = pbr.programmes.programme("tf-phase-1").rules
    for mine in (dict(base.chosen), MappingProxyType(dict(base.chosen))):
        rules = replace(base, chosen=mine)
        before = rules_hash(rules)
        with pytest.raises(TypeError, match="read-only"):
            rules.chosen["funded_rounding"] = "changed in place"  # type: ignore[index]
        if isinstance(mine, dict):
            mine["funded_rounding"] = "changed in place"
        assert rules.chosen["funded_rounding"] == base.chosen["funded_rounding"]
        assert rules_hash(rules) == before


def test_the_account_sums_the_payments_made_once() -> None:
    paying = [f for f in FAMILIES if f.payments]
    assert len(paying) > 10
    for family in FAMILIES:
        year = pbr.periods.financial_year_of(family.attached_on)
        books = account(family, WHEN, year, Decimal("1.00"), Decimal("2.00"))
        made = [p for p in family.payments if p.paid_on is None or p.paid_on <= WHEN]
        assert books.made == tuple(sorted(made, key=paid_order))  # in the order paid
        assert books.paid_to_date == sum((p.amount for p in made), Decimal("0.00"))
        assert str(books.paid_to_date) == str(sum((p.amount for p in made), Decimal("0.00")))


COMPARED_VALUES = st.none() | st.booleans() | st.integers() | st.text()


@given(compared=st.dictionaries(st.text(), COMPARED_VALUES, max_size=6))
def test_compared_is_written_as_the_typed_dict_writes_it(
    compared: dict[str, str | int | bool | None],
) -> None:
    """`Compared` serialises by kind, not by trying the union: the same JSON, schema unchanged."""
    from pydantic import TypeAdapter

    from pbr.decisions import Reason, trusted_reason

    typed = TypeAdapter(dict[str, str | int | bool | None])
    reason = trusted_reason("CAP_REACHED", "payment.cap", "S1", "capped", compared)
    written = reason.model_dump_json()
    assert written.endswith(',"compared":' + typed.dump_json(compared).decode() + "}")
    assert Reason.model_validate_json(written) == reason
    properties = Reason.model_json_schema(mode="serialization")["properties"]["compared"]
    assert properties == Reason.model_json_schema(mode="validation")["properties"]["compared"]
    assert (
        properties["additionalProperties"]["anyOf"]
        == typed.json_schema()["additionalProperties"]["anyOf"]
    )


def test_a_result_holds_its_reasons_as_a_tuple_whatever_it_was_given() -> None:
    from pbr.decisions import trusted_reason
    from pbr.programmes._kernel import result

    why = trusted_reason("CAP_REACHED", "payment.cap", "S1", "capped", {})
    for supplied in ([why], iter([why]), (why,)):
        built = result(None, reasons=supplied)
        assert type(built.reasons) is tuple
        assert built.reasons == (why,)
        assert built == ResultDecision(
            status="not_applicable", amount=Decimal(0), rate=Decimal(0), reasons=[why]
        )
