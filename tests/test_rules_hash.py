"""A rule set is hashable, consistently with its equality: equal rule sets hash equal.

Rule sets are immutable and compare by value, so a caller may key a cache or a dict by one
(say, decisions by the interpretations chosen).
"""

from __future__ import annotations

import pickle
from importlib import resources

from hypothesis import given
from hypothesis import strategies as st

from pbr.programmes import programmes
from pbr.rules import PHASE_ONE, RuleSet, load_rule_set

EVERY = [p.rules for p in programmes()]


def phase_one_read_again() -> RuleSet:
    """Phase one's rules loaded from their file again: another object, equal to `PHASE_ONE`."""
    text = resources.files("pbr.rules").joinpath("phase_one.toml").read_text(encoding="utf-8")
    return load_rule_set(text, origin="pbr/rules/phase_one.toml")


def test_every_bundled_rule_set_is_hashable() -> None:
    assert len({hash(rules) for rules in EVERY}) == len(EVERY)


def test_equal_rule_sets_built_two_ways_hash_equal() -> None:
    read_again = phase_one_read_again()
    assert read_again is not PHASE_ONE
    assert read_again == PHASE_ONE
    assert hash(read_again) == hash(PHASE_ONE)
    chosen = PHASE_ONE.with_interpretations(employment_weeks="all_13")
    again = read_again.with_interpretations(employment_weeks="all_13")
    assert chosen == again
    assert hash(chosen) == hash(again)
    unpickled = pickle.loads(pickle.dumps(chosen))
    assert unpickled == chosen
    assert hash(unpickled) == hash(chosen)


def test_a_rule_set_keys_a_dict() -> None:
    chosen = PHASE_ONE.with_interpretations(employment_weeks="all_13")
    by_rules = {PHASE_ONE: "default", chosen: "all_13"}
    assert by_rules[phase_one_read_again()] == "default"
    assert by_rules[PHASE_ONE.with_interpretations(employment_weeks="all_13")] == "all_13"
    assert len(by_rules) == 2


def choices(rules: RuleSet) -> st.SearchStrategy[dict[str, str]]:
    """Any values of any of `rules`' interpretations."""
    return st.fixed_dictionaries(
        {},
        optional={
            key: st.sampled_from(sorted(each.values)) for key, each in rules.interpretations.items()
        },
    )


@given(st.data())
def test_equal_choices_give_equal_hashes(data: st.DataObject) -> None:
    rules = data.draw(st.sampled_from(EVERY))
    first = rules.with_interpretations(**data.draw(choices(rules)))
    second = rules.with_interpretations(**data.draw(choices(rules)))
    assert (first == second) == (first.chosen == second.chosen)
    if first == second:
        assert hash(first) == hash(second)
    both = {first, second}
    assert len(both) == (1 if first == second else 2)
