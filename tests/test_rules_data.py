"""The rule set as data: every value cited, interpretations well formed, variants cheap."""

from __future__ import annotations

import copy
import pickle
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pbr.errors import RulesDataError, UnknownInterpretation
from pbr.periods import FinancialYear, TermCalendar, TermName
from pbr.rules import (
    PHASE_ONE,
    PHASE_TWO,
    SUPPORTING_FAMILIES,
    Interpretation,
    RuleSet,
    load_rule_set,
    sources,
)

ROOT = Path(__file__).resolve().parents[1]
TF_RULES = Path(__file__).resolve().parents[2] / "shared" / "domain" / "tf-rules.md"


def tf_rules_tags() -> set[str]:
    text = TF_RULES.read_text(encoding="utf-8")
    return set(re.findall(r"^\| (S\d+) \|", text, flags=re.MULTILINE))


SPECIFICATIONS = {"P1-SPEC", "PBR-READING"}
"""pbr's own specifications: what a value rests on when no source in tf-rules.md states it."""


def test_bundled_source_list_matches_tf_rules() -> None:
    if not TF_RULES.exists():
        pytest.skip("shared/domain/tf-rules.md is not beside this checkout")
    assert set(sources()) - SPECIFICATIONS == tf_rules_tags()


PHASE_TWO_EARLY_STARTER_MONEY = (
    "attachment_fee",
    "attachment_fee_when_stopped",
    "sustained_progress",
    "continuous_employment",
    "cap",
    "cap_when_stopped",
)
"""Phase two's money whose 2014/15 (early starter) value no listed source states."""


def test_pbrs_own_specifications_are_sources_of_their_own_kind() -> None:
    """A value no listed source states cites the specification that states it, not a source."""
    listed = sources()
    assert set(listed) >= SPECIFICATIONS
    assert {t for t, s in listed.items() if s.kind == "pbr specification"} == SPECIFICATIONS
    assert "phase1-spec.md" in listed["P1-SPEC"].where
    assert "docs/programmes.md" in listed["PBR-READING"].where
    cited = {
        (rules.programme, name): value.source
        for rules in (PHASE_ONE, PHASE_TWO, SUPPORTING_FAMILIES)
        for name, parameter in rules.parameters.items()
        for value in parameter.values
    }
    # the values a review found resting on no listed source (tf-rules.md marks them UNCERTAIN,
    # or the source cited for them does not state them)
    for name in ("baseline_months", "baseline_long_months", "crime_asb_education_share"):
        assert cited["tf-phase-1", name] == ("P1-SPEC",)
    assert cited["tf-phase-1", "results_wait_months"] == ("P1-SPEC",)
    assert cited["tf-phase-1", "employment_weeks_jsa"] == ("P1-SPEC",)
    assert cited["tf-phase-2", "employment_weeks_jsa"] == ("PBR-READING",)
    # tf-rules §2: phase two's employment weeks are a "recollection only; no source seen"
    assert cited["tf-phase-2", "employment_weeks_other"] == ("PBR-READING",)
    # the weeks are pbr's reading; the route itself is the sources' (tf-rules §2: S15, S22, S36;
    # §3: S40): it cited only PBR-READING
    assert PHASE_TWO.source_of_rule("results.continuous_employment") == "PBR-READING, S15, S22, S36"
    assert SUPPORTING_FAMILIES.source_of_rule("results.continuous_employment") == "PBR-READING, S40"
    assert cited["supporting-families", "employment_weeks_other"] == ("PBR-READING",)
    assert cited["tf-phase-2", "adult_age"] == ("S8", "PBR-READING")
    # S37 dates phase two's early starters, not their money (S31 and the rest state 2015-20's);
    # S39 says "dependent children", no age
    money = {name for name, p in PHASE_TWO.parameters.items() if p.unit == "GBP"}
    assert money == set(PHASE_TWO_EARLY_STARTER_MONEY)
    for name in PHASE_TWO_EARLY_STARTER_MONEY:
        early = PHASE_TWO.parameter(name, FinancialYear(2014))
        assert early.source == ("S31", "PBR-READING"), name
    for name in ("dependent_child_age", "dependent_child_age_under_16"):
        assert cited["supporting-families", name] == ("PBR-READING",)
    assert SUPPORTING_FAMILIES.source_of_rule("identification.household") == "PBR-READING, S39"
    assert PHASE_ONE.source_of_rule("payment.once") == "P1-SPEC"


def test_phase_two_s_800_cites_the_sources_that_state_it_by_either_route() -> None:
    """tf-rules §2: the £800 results payment is S31, S34, S35, S25's (S36: the three streams).

    Continuous employment cited S31, S15, S36: S15 states the claim route, not the amount.
    """
    year = FinancialYear(2015)
    employment = PHASE_TWO.parameter("continuous_employment", year)
    progress = PHASE_TWO.parameter("sustained_progress", year)
    assert employment.source == progress.source == ("S31", "S34", "S35", "S25")
    assert employment.value == progress.value == Decimal("800.00")


def test_supporting_families_800_cites_s41_and_its_cap_s44_s_one_claim_too() -> None:
    """tf-rules §3: £800 per successful family is S41's; one claim per family is S44's.

    The results payment cited S44 too, which gives the quarterly payments, not the amount.
    """
    for year in (FinancialYear(2021), FinancialYear(2022)):
        assert SUPPORTING_FAMILIES.parameter("sustained_progress", year).source == ("S41",)
        assert SUPPORTING_FAMILIES.parameter("cap", year).source == ("S41", "S44")


def test_the_employment_route_s_last_day_is_a_day() -> None:
    """It was a count, 2021 (the financial year), shown as "2021" with unit "count"."""
    until = SUPPORTING_FAMILIES.parameters["employment_route_until"]
    assert until.unit == "date"
    assert SUPPORTING_FAMILIES.day("employment_route_until") == date(2022, 3, 31)
    assert [(v.source, v.status) for v in until.values] == [(("S40",), "confirmed")]


def test_every_money_parameter_cites_a_listed_source() -> None:
    listed = (tf_rules_tags() | SPECIFICATIONS) if TF_RULES.exists() else set(sources())
    money = [p for p in PHASE_ONE.parameters.values() if p.unit == "GBP"]
    assert {p.name for p in money} >= {
        "attachment_fee",
        "crime_asb_education",
        "progress_to_work",
        "continuous_employment",
        "cap",
    }
    for parameter in PHASE_ONE.parameters.values():
        for value in parameter.values:
            assert value.source, parameter.name
            assert set(value.source) <= listed, (parameter.name, value.source)
            assert value.status in {"confirmed", "derived", "uncertain"}


def test_money_table_matches_the_spec() -> None:
    table = {
        2012: ("3200.00", "700.00", "100.00", "800.00"),
        2013: ("2400.00", "1500.00", "100.00", "1600.00"),
        2014: ("1600.00", "2300.00", "100.00", "2400.00"),
    }
    for year, row in table.items():
        fy = FinancialYear(year)
        names = (
            "attachment_fee",
            "crime_asb_education",
            "progress_to_work",
            "continuous_employment",
        )
        assert tuple(str(PHASE_ONE.amount(n, fy)) for n in names) == row
        assert PHASE_ONE.amount("cap", fy) == Decimal("4000.00")
        fee = PHASE_ONE.amount("attachment_fee", fy)
        assert fee + PHASE_ONE.amount("continuous_employment", fy) == Decimal("4000.00")


def test_interpretations_have_defaults_and_alternatives() -> None:
    expected = {
        "baseline": "six_months_before_attachment",
        "recent_window": "last_six_months",
        "rates_by": "attachment_year",
        "results_split": "flat_progress_to_work",
        "relevance": "identified_problems_only",
        "employment_weeks": "jsa_26_other_13",
        "employment_after_crime": "top_up",
        "funded_rounding": "nearest",
    }
    assert dict(PHASE_ONE.chosen) == expected
    for interpretation in PHASE_ONE.interpretations.values():
        assert len(interpretation.values) >= 2
        assert interpretation.default in interpretation.values


def test_variant_shares_data_and_leaves_the_original_alone() -> None:
    variant = PHASE_ONE.with_interpretations(employment_weeks="all_13")
    assert variant.parameters is PHASE_ONE.parameters
    assert variant.interpretation("employment_weeks") == "all_13"
    assert PHASE_ONE.interpretation("employment_weeks") == "jsa_26_other_13"
    assert PHASE_ONE.is_default
    assert not variant.is_default


def test_unknown_interpretation_lists_valid_ones() -> None:
    with pytest.raises(UnknownInterpretation, match=r"valid: jsa_26_other_13, all_13"):
        PHASE_ONE.with_interpretations(employment_weeks="all_12")
    with pytest.raises(UnknownInterpretation, match="baseline") as caught:
        PHASE_ONE.with_interpretations(weeks="all_13")
    assert "employment_weeks" in caught.value.valid
    with pytest.raises(UnknownInterpretation):
        PHASE_ONE.interpretation("nope")


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        (
            {"employment_weeks": " all_13"},
            "interpretation 'employment_weeks' has spaces around its value ' all_13': remove "
            "them; valid: jsa_26_other_13, all_13",
        ),
        (
            {"employment_weeks\u00a0": "all_13"},
            "interpretation 'employment_weeks\\xa0' has spaces around its id: remove them; "
            "valid: baseline, employment_after_crime, employment_weeks, funded_rounding, rates_by, "
            "recent_window, relevance, results_split",
        ),
        (  # an unknown id is said so, whatever its value
            {"weeks": " all_13"},
            "unknown interpretation 'weeks'; valid: baseline, employment_after_crime, "
            "employment_weeks, funded_rounding, rates_by, recent_window, relevance, results_split",
        ),
    ],
)
def test_an_interpretation_with_spaces_around_it_is_refused_saying_so(
    choice: dict[str, str], said: str
) -> None:
    """ " all_13" was refused as a value the rule set has not: not that the spaces were the
    matter, which the command line and web API trimmed."""
    with pytest.raises(UnknownInterpretation) as refused:
        PHASE_ONE.with_interpretations(**choice)
    assert str(refused.value) == said


BROKEN = [
    (
        '[parameters.x]\ndescription="d"\nunit="GBP"\nvalues=[{year="2012/13", value=1.5, '
        'source=["S1"]}]',
        "float",
    ),
    (
        '[parameters.x]\ndescription="d"\nunit="GBP"\nvalues=[{year="2012/13", value="1", '
        'source=["S99"]}]',
        "unknown source",
    ),
    (
        '[parameters.x]\ndescription="d"\nunit="GBP"\nvalues=[{year="2012/13", value="1"}]',
        "no source",
    ),
    (
        '[parameters.x]\ndescription="d"\nunit="GBP"\nvalues=[{year="2012-13", value="1", '
        'source=["S1"]}]',
        "year",
    ),
    (
        '[parameters.x]\ndescription="d"\nunit="weeks"\nvalues=[{year="2012/13", value="26", '
        'source=["S1"]}]',
        "whole number",
    ),
    (
        '[parameters.x]\ndescription="d"\nunit="date"\nvalues=[{year="2012/13", '
        'value="2015-05-31", source=["S12"]}]',
        "must be a date",
    ),
    (
        '[parameters.x]\ndescription="d"\nunit="date"\nvalues=[{year="2012/13", '
        'value=2015-05-31T00:00:00, source=["S12"]}]',
        "must be a date",
    ),
    (
        '[interpretations.i]\ndescription="d"\nsource="s"\ndefault="c"\n'
        '[interpretations.i.values]\na="A"\nb="B"',
        "default",
    ),
    ("not = [toml", "not valid TOML"),
]

HEAD = (
    'programme="p"\ntitle="t"\nversion="1"\nspec="s"\nattached_from=2012-04-01\n'
    "attached_to=2015-03-31\n"
)


@pytest.mark.parametrize(("body", "message"), BROKEN)
def test_broken_rule_files_are_refused_with_the_key(body: str, message: str) -> None:
    with pytest.raises(RulesDataError, match=message):
        load_rule_set(HEAD + body, origin="broken.toml")


def test_a_date_parameter_is_read_as_a_day_and_only_as_one() -> None:
    assert PHASE_ONE.day("results_claims_until") == date(2015, 5, 31)
    with pytest.raises(TypeError, match="not a date"):
        PHASE_ONE.day("cap")
    with pytest.raises(TypeError, match="not a whole number"):
        PHASE_ONE.number("results_claims_until")


def test_last_day_for_results_claims_of_each_programme() -> None:
    """Phase one: May 2015 (S12); Supporting Families: the end of its 2022-25 guidance (S39);
    phase two: none, as no listed source gives its claim windows (tf-rules §2)."""
    assert PHASE_ONE.claims_until() == date(2015, 5, 31)
    assert SUPPORTING_FAMILIES.claims_until() == date(2025, 3, 31)
    closes = SUPPORTING_FAMILIES.parameters["results_claims_until"].values
    assert [(v.source, v.status) for v in closes] == [(("S39",), "uncertain")]
    assert SUPPORTING_FAMILIES.source_of_rule("payment.claims_closed") == "S39"
    assert PHASE_TWO.claims_until() is None
    assert "results_claims_until" not in PHASE_TWO.parameters
    always = SUPPORTING_FAMILIES.interpretations["employment_route"].values["always"]
    assert "31 March 2025" in always
    assert "RESULTS_CLAIMS_CLOSED" in always


def test_later_programmes_cite_their_own_sources_for_relevance() -> None:
    """S10 is a phase-one FOI ("where relevant"): the later routes cite what tf-rules gives."""
    assert PHASE_ONE.source_of_rule("results.relevance") == "S10"
    assert PHASE_TWO.source_of_rule("results.relevance") == "S15, PBR-READING"
    assert SUPPORTING_FAMILIES.source_of_rule("results.relevance") == "S40, PBR-READING"


@pytest.mark.parametrize("year", range(2014, 2021))
def test_phase_two_money_is_as_certain_as_each_other_every_year(year: int) -> None:
    """tf-rules §6 question 8: fee, results payment and cap alike are uncertain in 2019/20-20/21
    (the cap read "confirmed" there, its 2015/16 entry)."""
    fy = FinancialYear(year)
    names = ("attachment_fee", "sustained_progress", "continuous_employment", "cap")
    statuses = {PHASE_TWO.parameter(name, fy).status for name in names}
    assert statuses == {"confirmed" if 2015 <= year <= 2018 else "uncertain"}, year
    assert PHASE_TWO.amount("cap", fy) == Decimal("1800.00")


def test_the_phase_two_example_plan_says_what_its_education_measure_counts() -> None:
    """S33's 10% counts authorised and/or unauthorised absence; the measure, unauthorised only."""
    from pbr.plans import example_plan

    education = example_plan("tf-phase-2").outcome_for("education")
    assert education is not None
    assert education.measures[0].indicator == "unauthorised_absence_percent"
    assert "authorised and/or unauthorised" in (education.description or "")
    assert "unauthorised absence only" in (education.description or "")


BUNDLED = [PHASE_ONE, PHASE_TWO, SUPPORTING_FAMILIES]


def _refused(target: Any, method: str, *args: Any) -> None:
    """``target.method(*args)`` raises TypeError or AttributeError: `target` is read-only."""
    with pytest.raises((TypeError, AttributeError)):
        getattr(target, method)(*args)


@pytest.mark.parametrize("rules", BUNDLED, ids=lambda r: r.programme)
def test_a_rule_set_s_data_cannot_be_changed_in_place(rules: RuleSet) -> None:
    """Its hash is its data file's: data changed in memory would pay under the file's hash."""
    name, parameter = next(iter(rules.parameters.items()))
    key, interpretation = next(iter(rules.interpretations.items()))
    rule = next(iter(rules.rule_sources))
    _refused(rules.parameters, "__setitem__", name, replace(parameter, unit="x"))
    _refused(rules.parameters, "__delitem__", name)
    _refused(rules.parameters, "clear")
    _refused(rules.interpretations, "__setitem__", key, interpretation)
    _refused(interpretation.values, "clear")
    _refused(interpretation.values, "__setitem__", "new", "a new reading")
    _refused(rules.chosen, "__setitem__", key, "a new reading")
    _refused(rules.rule_sources, "__setitem__", rule, "S1")
    _refused(rules.term_calendar.overrides, "__setitem__", ("2012/13", "autumn"), ())
    _refused(sources(), "__setitem__", "S0", sources()["S1"])
    _refused(parameter.values, "append", parameter.values[0])
    _refused(parameter.values[0], "__setattr__", "value", Decimal("1.00"))
    _refused(parameter.values[0].source, "append", "S1")


def test_a_changed_copy_of_the_data_leaves_the_bundled_rule_set_paying_the_same() -> None:
    """The tester's case: a parameter changed in place paid 10428.00 rather than 52400.00."""
    import pbr

    fee = PHASE_ONE.parameters["crime_asb_education"]
    cheap = replace(fee, values=tuple(replace(v, value=Decimal("1.00")) for v in fee.values))
    _refused(PHASE_ONE.parameters, "__setitem__", "crime_asb_education", cheap)
    lines = (ROOT / "examples" / "families.jsonl").read_bytes().splitlines()
    decisions = [
        pbr.evaluate(pbr.Family.model_validate_json(line), as_of=date(2015, 3, 31))
        for line in lines
        if line.strip()
    ]
    paid = sum((d.payable for d in decisions if isinstance(d, pbr.Decision)), Decimal(0))
    assert paid == Decimal("52400.00")


def test_a_rule_set_built_from_plain_mappings_is_read_only_too() -> None:
    """`replace` and the constructor take any mapping; the rule set keeps a read-only copy."""
    chosen = dict(PHASE_ONE.chosen)
    calendar: dict[tuple[str, TermName], tuple[date, date]] = {
        ("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))
    }
    own = replace(
        PHASE_ONE,
        chosen=chosen,
        parameters=dict(PHASE_ONE.parameters),
        term_calendar=TermCalendar(calendar),
    )
    chosen["employment_weeks"] = "all_13"
    calendar.clear()
    assert own.interpretation("employment_weeks") == "jsa_26_other_13"
    assert own.term_calendar.term("2012/13", "autumn").end == date(2012, 12, 20)
    _refused(own.chosen, "__setitem__", "employment_weeks", "all_13")
    _refused(own.parameters, "__setitem__", "cap", PHASE_ONE.parameters["cap"])
    _refused(own.term_calendar.overrides, "__setitem__", ("2012/13", "autumn"), ())
    weeks = Interpretation("w", "d", "s", "a", {"a": "A", "b": "B"})
    _refused(weeks.values, "__setitem__", "c", "C")


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_a_read_only_rule_set_pickles_and_copies_to_the_same_rule_set(protocol: int) -> None:
    """A pool and Dask send rule sets to workers by pickle; the copy is read-only as well."""
    calendar = TermCalendar({("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))})
    rules = PHASE_ONE.with_interpretations(employment_weeks="all_13").with_term_calendar(calendar)
    for copied in (pickle.loads(pickle.dumps(rules, protocol)), copy.deepcopy(rules)):
        assert copied == rules
        assert copied.interpretation("employment_weeks") == "all_13"
        assert copied.term_calendar.term("2012/13", "autumn").end == date(2012, 12, 20)
        _refused(copied.chosen, "__setitem__", "employment_weeks", "jsa_26_other_13")
        _refused(copied.parameters, "__delitem__", "cap")
        _refused(copied.interpretations["employment_weeks"].values, "clear")
        _refused(copied.term_calendar.overrides, "clear")


def test_a_rule_set_s_read_only_mappings_encode_pickle_and_copy_as_dicts() -> None:
    """Held as mapping proxies, `rules.chosen` and `sources()` no longer JSON-encoded, pickled
    or deep-copied, as the dicts before them did."""
    import json

    from pbr.rules import sources

    rules = PHASE_ONE.with_interpretations(employment_weeks="all_13")
    for mapping in (rules.chosen, rules.rule_sources, rules.interpretations["baseline"].values):
        assert json.loads(json.dumps(mapping)) == dict(mapping)
        assert json.dumps(mapping, default=str) == json.dumps(dict(mapping))
        for copied in (pickle.loads(pickle.dumps(mapping)), copy.deepcopy(mapping)):
            assert copied == mapping
            _refused(copied, "__setitem__", "x", "y")
    assert copy.deepcopy(sources()) == sources()
    assert pickle.loads(pickle.dumps(rules.parameters)) == rules.parameters
