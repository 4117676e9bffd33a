"""Programmes as plug-ins: the registry, explanations that follow the rule data, a toy programme.

A new programme is one TOML file, one module and one registry line; the toy programme below is
registered at run time and goes through evaluate, explain, forecast and audit unchanged.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

import pbr
from pbr.decisions import Identification, ResultKind
from pbr.periods import FinancialYear
from pbr.programmes import Programme, programme, programme_for, programmes, register, unregister
from pbr.programmes._employment import continuous_employment
from pbr.programmes._kernel import Verdict, reason
from pbr.programmes._sustained import pay_one_claim
from pbr.rules import RuleSet, load_rule_set

from .builders import family, record, term_rows

SRC = Path(__file__).resolve().parents[1] / "src" / "pbr"


def phase_one_text() -> str:
    return resources.files("pbr.rules").joinpath("phase_one.toml").read_text(encoding="utf-8")


def edited(text: str, parameter: str, old: str, new: str) -> str:
    """`text` with one parameter's value changed (the line under its table)."""
    head = f"[parameters.{parameter}]"
    start = text.index(head)
    end = text.index("\n[", start + 1)
    section = text[start:end]
    assert f"value = {old}," in section, section
    return text[:start] + section.replace(f"value = {old},", f"value = {new},") + text[end:]


def test_the_registry_lists_every_bundled_programme_oldest_first() -> None:
    ids = [p.id for p in programmes()]
    assert ids == ["tf-phase-1", "tf-phase-2", "supporting-families"]
    assert [p.rules for p in programmes()] == list(pbr.rules.RULE_SETS)
    assert programme("tf-phase-2").uses_plan
    with pytest.raises(KeyError, match="choose from tf-phase-1"):
        programme("tf-phase-9")


def test_explanations_follow_an_edited_threshold_and_window() -> None:
    text = edited(phase_one_text(), "absence_percent", "15", "10")
    text = edited(text, "results_months", "6", "3")
    rules = load_rule_set(text, origin="edited.toml")
    fam = family(
        members=[
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2001-02-03"},
        ],
        school_terms=term_rows(
            "C1",
            [("2012/13", "autumn"), ("2012/13", "spring"), ("2012/13", "summer")],
            possible=100,
            unauthorised=12,
        ),
        asb_incidents=[{"person_id": "A1", "date": "2013-05-20"}],
    )
    as_of = date(2013, 7, 31)
    bundled = pbr.evaluate(fam, as_of=as_of)
    mine = pbr.evaluate(fam, as_of=as_of, rules=rules)
    child = next(
        r for r in bundled.results["crime_asb_education"].reasons if r.compared.get("child")
    )
    assert child.code == "CHILD_IN_SCHOOL"  # 12% is below 15%
    assert "below 15%" in child.message
    failed = next(r for r in mine.results["crime_asb_education"].reasons if r.compared.get("child"))
    assert failed.code == "ABSENCE_AT_OR_ABOVE_THRESHOLD"  # 12% is not below 10%
    assert "not below 10%" in failed.message
    assert failed.compared["absence_threshold_percent"] == 10
    asb = next(r for r in mine.results["crime_asb_education"].reasons if r.rule.endswith(".asb"))
    assert "in the last 3 months" in asb.message
    assert asb.compared["recent_after"] == "2013-04-30"
    assert "in the last 6 months" in next(
        r.message for r in bundled.results["crime_asb_education"].reasons if r.rule.endswith(".asb")
    )
    paper = mine.explain()
    assert "not below 10%" in paper
    assert "in the last 3 months" in paper


def test_messages_and_codes_carry_no_threshold_of_their_own() -> None:
    """No number that is a rule in the programme modules' messages, codes or comparisons."""
    for path in (SRC / "programmes").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        illustrative = {  # a forecast's illustrative rates are not rules
            id(arg)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Fraction"
            for arg in call.args
        }
        illustrative |= {  # docstrings describe the bundled values; messages may not
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        illustrative |= {  # attribute docstrings, as in the Programme dataclass
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if id(node) in illustrative:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not re.search(
                    r"\b(15|60|33|40|26|13|12|16)(%| percent| months| weeks)", node.value
                ), (
                    path.name,
                    node.value,
                )
            if isinstance(node, ast.Constant) and type(node.value) is int:
                assert node.value in (0, 1, 2, 100), (path.name, node.lineno, node.value)


def test_every_rule_a_reason_cites_has_a_source_in_the_data() -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    seen: set[str] = set()
    for path in (examples / "families.jsonl", examples / "mixed-programmes.jsonl"):
        for item in pbr.read_records(path):
            assert isinstance(item, pbr.Family)
            decision = pbr.evaluate(
                item, as_of=date(2015, 3, 31) if "families" in path.name else date(2023, 3, 31)
            )
            reasons = [*decision.identification, *decision.warnings]
            reasons += [r for result in decision.results.values() for r in result.reasons]
            for r in reasons:
                assert r.source, r
                seen.add(r.rule)
    assert len(seen) > 20


def test_a_rule_without_a_source_is_refused_at_load() -> None:
    text = phase_one_text().replace(
        '[rules."payment.cap"]\nparameters = ["cap"]', '[rules."payment.cap"]\nsource = ["S99"]'
    )
    with pytest.raises(pbr.RulesDataError, match=r"rules.payment.cap: unknown source tag"):
        load_rule_set(text)


# --- a toy programme, registered at run time ----------------------------------------------------

TOY_TOML = """
programme = "toy-next-edition"
title = "A toy next edition of the programme"
version = "0.1"
spec = "tests/test_programmes.py"
attached_from = 2025-04-01
attached_to = 2026-03-31

[parameters.attachment_fee]
description = "Attachment fee."
unit = "GBP"
values = [{ year = "2025/26", value = "200.00", source = ["S41"] }]

[parameters.continuous_employment]
description = "Results payment for continuous employment."
unit = "GBP"
values = [{ year = "2025/26", value = "600.00", source = ["S41"] }]

[parameters.sustained_progress]
description = "Not paid by this toy (the one-claim payment reads both routes' rates)."
unit = "GBP"
values = [{ year = "2025/26", value = "0.00", source = ["S41"] }]

[parameters.cap]
description = "Cap."
unit = "GBP"
values = [{ year = "2025/26", value = "800.00", source = ["S41"] }]

[parameters.employment_weeks_jsa]
description = "Weeks after JSA."
unit = "weeks"
values = [{ year = "2025/26", value = 26, source = ["S40"] }]

[parameters.employment_weeks_other]
description = "Weeks after other benefits."
unit = "weeks"
values = [{ year = "2025/26", value = 13, source = ["S40"] }]

[parameters.adult_age]
description = "Adult from."
unit = "years"
values = [{ year = "2025/26", value = 18, source = ["S8"] }]

[rules."identification.eligibility"]
source = ["S41"]
[rules."results"]
parameters = ["employment_weeks_jsa", "employment_weeks_other"]
[rules."payment"]
parameters = ["cap"]

[interpretations.employment_weeks]
description = "Weeks needed."
source = "toy"
default = "jsa_26_other_13"
[interpretations.employment_weeks.values]
jsa_26_other_13 = "26 after JSA, else 13."
all_13 = "13 for all."
"""


def _toy_identify(family: pbr.Family, rules: RuleSet) -> Identification:
    return Identification(
        family_id=family.family_id,
        attached_on=family.attached_on,
        eligible=True,
        identified_for=(),
        evidence=(),
        local_discretion=False,
        reasons=(reason("ELIGIBLE", "identification.eligibility", rules, "every family is"),),
    )


def _toy_results(
    family: pbr.Family, as_of: date, rules: RuleSet, plan: object, ident: Identification
) -> Mapping[ResultKind, Verdict]:
    none = Verdict("not_applicable", (reason("LIMB_NOT_RELEVANT", "results", rules, "no plan"),))
    return {
        "sustained_progress": none,
        "continuous_employment": continuous_employment(family, rules, as_of),
    }


def _toy_fee(rules: RuleSet, year: FinancialYear) -> Decimal:
    return rules.amount("attachment_fee", year)


TOY = Programme(
    rules=load_rule_set(TOY_TOML, origin="toy.toml"),
    short="TOY",
    name="A toy next edition",
    result_kinds=("sustained_progress", "continuous_employment"),
    problems=(),
    states_problems_in="problems_at_entry",
    identify=_toy_identify,
    results=_toy_results,
    pay=pay_one_claim,
    attachment_fee=_toy_fee,
    result_rates=lambda rules, year: {
        "continuous_employment": rules.amount("continuous_employment", year)
    },
)


@pytest.fixture
def toy() -> Iterator[Programme]:
    register(TOY)
    yield TOY
    unregister(TOY.id)


def toy_family(family_id: str = "T1") -> pbr.Family:
    return pbr.Family.model_validate(
        record(
            family_id=family_id,
            attached_on="2025-06-02",
            identified_for=None,
            benefit_spells=[{"person_id": "A1", "benefit": "UC", "start": "2024-01-01"}],
            employment_spells=[{"person_id": "A1", "start": "2025-07-07"}],
        )
    )


def test_a_toy_programme_is_evaluated_and_explained(toy: Programme) -> None:
    fam = toy_family()
    assert programme_for(fam) is toy
    decision = pbr.evaluate(fam, as_of=date(2026, 1, 5))
    assert decision.programme == "toy-next-edition"
    assert str(decision.attachment_fee) == "200.00"
    ce = decision.results["continuous_employment"]
    assert (ce.status, str(ce.amount)) == ("met", "600.00")
    assert "toy-next-edition" in decision.explain()
    unregister(toy.id)
    with pytest.raises(pbr.OutsideProgramme):
        pbr.evaluate(fam, as_of=date(2026, 1, 5))


def test_a_toy_programme_is_forecast(toy: Programme) -> None:
    pytest.importorskip("pandas")
    from pbr.forecast import allocation

    a = allocation(600, toy.id)
    assert a.programme == toy.id
    assert [str(y.year) for y in a.years] == ["2025/26"]
    # no funded fraction in the toy's data: every one of the 600 families is funded, at £200
    assert str(a.years[0].attachment_fees) == "120000.00"


def test_a_toy_programme_is_audited(toy: Programme, tmp_path: Path) -> None:
    from pbr.audit import verify

    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on\n"
        "C1,T1,attachment_fee,200.00,2025-06-30\n"
        "C2,T1,continuous_employment,600.00,2026-01-05\n"
        "C3,T1,continuous_employment,700.00,2026-01-05\n"
    )
    result = verify(claims, [toy_family()])
    statuses = {c.claim.claim_id: c.status for c in result.checks}
    assert statuses["C1"] == "verified"
    assert statuses["C2"] == "verified"
    assert statuses["C3"] != "verified"


def test_no_module_outside_the_programmes_names_a_programme() -> None:
    """The engine, CLI, testing, forecast and audit ask the registry (issue 13)."""
    ids = ("tf-phase-1", "tf-phase-2", "supporting-families")
    offenders = []
    for name in ("engine.py", "batch.py", "cli.py", "testing.py", "forecast", "audit"):
        paths = [SRC / name] if name.endswith(".py") else list((SRC / name).rglob("*.py"))
        for path in paths:
            if not path.exists():
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and node.value in ids:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def _every_variant(rules: RuleSet) -> Iterator[RuleSet]:
    import itertools

    ids = sorted(rules.interpretations)
    for values in itertools.product(*(sorted(rules.interpretations[i].values) for i in ids)):
        yield rules.with_interpretations(**dict(zip(ids, values, strict=True)))


@pytest.mark.parametrize("programme_id", ["tf-phase-1", "tf-phase-2", "supporting-families"])
def test_forecast_fees_equal_evaluated_fees(programme_id: str) -> None:
    """The forecast reads money through the programme: every year, every interpretation."""
    pytest.importorskip("pandas")
    from pbr.forecast._terms import programme_terms

    source = programme(programme_id)
    for rules in _every_variant(source.rules):
        terms = programme_terms(rules)
        for year in terms.years:
            attached = max(year.start, rules.attached_from)
            family = pbr.Family.model_validate(
                record(family_id="F", attached_on=attached.isoformat(), identified_for=None)
                | {"programme": programme_id}
            )
            decision = pbr.evaluate(family, as_of=year.end, rules=rules)
            assert terms.year(year).attachment_fee == decision.attachment_fee, (rules.chosen, year)


def test_the_list_of_programmes_follows_register_and_unregister() -> None:
    """`programmes()` is kept between calls; registering or removing one must renew it."""
    before = programmes()
    assert programmes() is before  # kept: a batch asks once a family
    register(TOY)
    try:
        assert programmes() == (*before, TOY)
    finally:
        unregister(TOY.id)
    assert programmes() == before


def test_the_table_names_a_programme_registered_after_a_first_row() -> None:
    """The short names are kept with the list of programmes: one registered later is named."""
    from pbr.output import table_cells

    bundled = pbr.evaluate(  # a first row: the names worked out before the registering
        pbr.Family.model_validate(record(family_id="P1")), as_of=date(2013, 1, 1)
    )
    assert table_cells(bundled)[1] == "TF1"
    register(TOY)
    try:
        toy_decision = pbr.evaluate(toy_family(), as_of=date(2026, 1, 5))
        assert table_cells(toy_decision)[1] == "TOY"
    finally:
        unregister(TOY.id)
    assert table_cells(toy_decision)[1] == "toy-next-edition"  # unregistered: its id


def test_each_programme_and_rule_set_keep_their_own_money() -> None:
    """The kernel works out a year's fee and cap once per programme and rule set: a variant of
    either, asked in turn with the original, gets its own."""
    from dataclasses import replace

    tf1 = programme("tf-phase-1")
    fam = family(attached_on="2013-06-01")
    as_of = date(2014, 6, 1)
    own_fee = replace(tf1, attachment_fee=lambda rules, year: Decimal("1.00"))
    lower_cap = replace(tf1, cap=lambda rules, year: Decimal("2000.00"))
    for _ in range(2):
        assert tf1.evaluate(fam, as_of).attachment_fee == Decimal("2400.00")
        assert own_fee.evaluate(fam, as_of).attachment_fee == Decimal("1.00")
        assert lower_cap.evaluate(fam, as_of).cap == Decimal("2000.00")
        assert tf1.evaluate(fam, as_of).cap == Decimal("4000.00")
        assert tf1.evaluate(family(attached_on="2012-06-01"), as_of).attachment_year == "2012/13"
        assert tf1.evaluate(fam, as_of).attachment_year == "2013/14"


def test_a_verdict_and_an_account_compare_and_show_their_values() -> None:
    """The kernel's `Verdict` and `Account` (compiled plain classes, once frozen dataclasses)
    compare by value and show every value, the account's total paid included."""
    from pbr.programmes._kernel import Account

    assert Verdict("met", ()) == Verdict("met", (), None)
    assert Verdict("met", ()) != Verdict("not_met", ())
    year = FinancialYear(2013)
    books = Account(year, Decimal("2400.00"), Decimal("4000.00"), ())
    assert books == Account(year, Decimal("2400.00"), Decimal("4000.00"), (), None)
    assert "paid_to_date=Decimal('0.00')" in repr(books)
    assert "status='met'" in repr(Verdict("met", ()))
