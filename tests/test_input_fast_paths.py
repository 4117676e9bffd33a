"""The input side's fast paths agree with the exact checks they stand in front of.

`_record_checks.plainly_consistent` must say "consistent" exactly when `_consistency_problems` finds
nothing (and does not raise); `_keys.repeated_keys` must find exactly the keys `all_repeated_keys`
finds. Families are drawn valid and then spoiled at the model level, near every boundary.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st
from pydantic import ValidationError

from pbr._keys import all_repeated_keys, repeated_keys
from pbr._record_checks import consistency_problems as _consistency_problems
from pbr._record_checks import plainly_consistent as _plainly_consistent
from pbr.periods import default_term
from pbr.records import Family, Payment
from pbr.testing import PROGRAMMES, broken_family_records, family_records

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

DATED = ("offences", "asb_incidents", "work_programme", "observations")
SPELLS = ("benefit_spells", "employment_spells")
SPOILS = (
    "duplicate_member",
    "stranger",
    "household",
    "born_near_event",
    "born_near_term_end",
    "spell_end",
    "absences",
    "repeat_term",
    "undatable_year",
    "entry_problem",
    "identified_on",
    "identified_for",
    "programme",
    "payment_kind",
    "attached_on",
)
PAYMENT_KINDS = (
    "attachment_fee",
    "crime_asb_education",
    "progress_to_work",
    "continuous_employment",
    "sustained_progress",
)


def exact_ok(family: Family) -> bool:
    try:
        return next(_consistency_problems(family), None) is None
    except ValueError:  # an academic year whose terms have no date: the validator raises
        return False


def near(day: date, shift: int) -> date:
    try:
        return day + timedelta(days=shift)
    except OverflowError:
        return day


def spoiled(family: Family, how: str, data: st.DataObject) -> Family:
    """`family` with one thing changed, unvalidated (`model_copy` does not check)."""
    pick = data.draw
    shift = pick(st.sampled_from([-1, 0, 1]))
    members = family.members
    update: dict[str, Any] = {}
    lists = [n for n in (*DATED, *SPELLS, "school_terms") if getattr(family, n)]
    if how == "duplicate_member":
        twin = pick(st.sampled_from(members))
        update["members"] = (*members, twin.model_copy(update={"date_of_birth": date(2000, 1, 1)}))
    elif how in ("stranger", "household", "born_near_event") and lists:
        name = pick(st.sampled_from(lists))
        items = list(getattr(family, name))
        i = pick(st.integers(0, len(items) - 1))
        if how == "stranger":
            items[i] = items[i].model_copy(update={"person_id": "Z9"})
        elif how == "household" and name in ("asb_incidents", "observations"):
            items[i] = items[i].model_copy(update={"person_id": None})
        elif how == "born_near_event" and name != "school_terms":
            member = pick(st.sampled_from(members))
            field = "start" if name in SPELLS else "date"
            when = near(member.date_of_birth, shift)
            items[i] = items[i].model_copy(update={"person_id": member.person_id, field: when})
        update[name] = tuple(items)
    elif how == "born_near_term_end" and family.school_terms:
        row = pick(st.sampled_from(family.school_terms))
        try:
            end = default_term(row.academic_year, row.term).end
        except ValueError:  # a year no date can hold ('9999/00' spring): nothing near its end
            return family
        update["members"] = tuple(
            m.model_copy(update={"date_of_birth": near(end, shift)})
            if m.person_id == row.person_id
            else m
            for m in members
        )
    elif how == "spell_end" and (family.benefit_spells or family.employment_spells):
        name = pick(st.sampled_from([n for n in SPELLS if getattr(family, n)]))
        items = list(getattr(family, name))
        i = pick(st.integers(0, len(items) - 1))
        items[i] = items[i].model_copy(update={"end": near(items[i].start, shift)})
        update[name] = tuple(items)
    elif how in ("absences", "repeat_term", "undatable_year") and family.school_terms:
        rows = list(family.school_terms)
        i = pick(st.integers(0, len(rows) - 1))
        if how == "absences":
            absences = max(rows[i].possible_sessions + shift, 0)
            rows[i] = rows[i].model_copy(update={"unauthorised_absences": absences})
        elif how == "repeat_term":
            term = pick(st.sampled_from(["autumn", "spring", "summer"]))
            rows.append(rows[i].model_copy(update={"term": term}))
        else:
            year = pick(st.sampled_from(["0000/01", "0099/00", "9998/99", "9999/00"]))
            rows[i] = rows[i].model_copy(update={"academic_year": year})
        update["school_terms"] = tuple(rows)
    elif how == "entry_problem" and family.problems_at_entry:
        again = pick(st.sampled_from(family.problems_at_entry))
        problem = pick(st.sampled_from([again.problem, "health", "work", "housing", "crime"]))
        update["problems_at_entry"] = (
            *family.problems_at_entry,
            again.model_copy(update={"problem": problem}),
        )
    elif how == "identified_on" and family.problems_at_entry:
        entries = list(family.problems_at_entry)
        i = pick(st.integers(0, len(entries) - 1))
        when = near(family.attached_on, shift)
        entries[i] = entries[i].model_copy(update={"identified_on": when})
        update["problems_at_entry"] = tuple(entries)
    elif how == "identified_for":
        given = [None, (), ("work",), ("work", "work"), ("work", "education", "work")]
        update["identified_for"] = pick(st.sampled_from(given))
    elif how == "programme":
        update["programme"] = pick(st.sampled_from([None, *PROGRAMMES]))
    elif how == "payment_kind":  # another programme's result, or one of its own
        kind = pick(st.sampled_from(PAYMENT_KINDS))
        payments = list(family.payments)
        replace = pick(st.booleans())
        if payments and replace:
            i = pick(st.integers(0, len(payments) - 1))
            payments[i] = payments[i].model_copy(update={"kind": kind})
        else:
            payments.append(Payment(kind=kind, amount=Decimal("100.00")))
        update["payments"] = tuple(payments)
    elif how == "attached_on":  # the programmes covering the record's attachment change
        day = pick(st.sampled_from(["2011-06-01", "2014-03-31", "2014-04-01", "2015-04-01"]))
        update["attached_on"] = date.fromisoformat(day)
    return family.model_copy(update=update)


@given(
    record=st.sampled_from(PROGRAMMES).flatmap(family_records),
    spoils=st.lists(st.sampled_from(SPOILS), max_size=3),
    data=st.data(),
)
def test_the_fast_consistency_check_agrees_with_the_full_one(
    record: dict[str, Any], spoils: list[str], data: st.DataObject
) -> None:
    family = Family.model_validate(record)
    assert _plainly_consistent(family)
    assert_fast_agrees(family, spoils, data)


def assert_fast_agrees(family: Family, spoils: list[str], data: st.DataObject) -> None:
    """`family` spoiled in each of `spoils` ways: the fast check says what the full one says."""
    for how in spoils:
        family = spoiled(family, how, data)
    note(repr(family))
    ok = exact_ok(family)
    event(f"consistent: {ok}")
    assert _plainly_consistent(family) == ok


@given(
    record=st.sampled_from(PROGRAMMES).flatmap(family_records),
    spoils=st.lists(
        st.sampled_from(["payment_kind", "programme", "attached_on"]), min_size=1, max_size=3
    ),
    data=st.data(),
)
def test_the_fast_check_agrees_on_payments_of_another_programme(
    record: dict[str, Any], spoils: list[str], data: st.DataObject
) -> None:
    # a payment's kind is checked against the stated programme, or those covering attachment
    assert_fast_agrees(Family.model_validate(record), spoils, data)


KEYED = ('"person_id":', '"date":', '"family_id":', '"term":', '"start":', '"members":')


@given(
    record=st.sampled_from(PROGRAMMES).flatmap(family_records),
    colon=st.sampled_from([": ", ":", " : ", "\t:", ":\n"]),
    repeats=st.lists(st.tuples(st.sampled_from(KEYED), st.integers(0, 3)), max_size=2),
    spaced=st.lists(st.sampled_from(KEYED), max_size=2),
    text=st.sampled_from([None, "a: b", 'say "x": y', '":', "12:30"]),
)
def test_the_fast_duplicate_key_check_agrees_with_the_full_one(
    record: dict[str, Any],
    colon: str,
    repeats: list[tuple[str, int]],
    spaced: list[str],
    text: str | None,
) -> None:
    if text is not None:
        record = {**record, "local_authority": text}
    data = json.dumps(record, separators=(",", colon))
    data = data.replace(colon, ":")  # keys glued to their colons, then spoiled below
    for key, nth in repeats:  # give the nth such key twice, with the same value
        at = -1
        for _ in range(nth + 1):
            at = data.find(key, at + 1)
        if at >= 0:
            end = data.index(",", at) if "," in data[at:] else len(data) - 1
            data = data[:end] + "," + data[at:end] + data[end:]
    for key in spaced:
        data = data.replace(key, key[:-1] + " :", 1)
    raw = data.encode()
    note(data)
    try:
        family = Family.model_validate_json(raw)
    except ValueError:  # a repeated key made the record invalid: not the fast path's case
        event("invalid")
        return
    repeated = all_repeated_keys(raw)
    event(f"repeated keys: {bool(repeated)}")
    assert repeated_keys(raw, family) == repeated


def with_an_argument(raw: bytes) -> Family:
    return Family.model_validate_json(raw, strict=None)  # through pydantic's own method


@given(
    pair=st.one_of(broken_family_records(), family_records().map(lambda r: ("valid", r))),
    spoil_json=st.booleans(),
)
def test_model_validate_json_without_arguments_is_pydantics_method(
    pair: tuple[str, dict[str, Any]], spoil_json: bool
) -> None:
    # without arguments the method calls the validator itself: the same families and errors
    raw = json.dumps(pair[1], default=str).encode()
    if spoil_json:
        raw = raw[: len(raw) // 2]
    outcomes = []
    for validate in (Family.model_validate_json, with_an_argument):
        try:
            outcomes.append(repr(validate(raw)))
        except ValidationError as exc:
            outcomes.append(json.dumps(exc.errors(), default=repr) + exc.title)
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("rows_of_c1", [["2011/12 autumn", "2012/13 summer"], ["2012/13 summer"]])
def test_the_fast_check_of_births_before_terms_agrees_on_every_day_around_them(
    rows_of_c1: list[str],
) -> None:
    """Children born on each day from before the first term's end to after the last one's."""
    rows = [
        {
            "person_id": "C1",
            "academic_year": year,
            "term": term,
            "possible_sessions": 100,
            "unauthorised_absences": 3,
        }
        for year, term in (row.split() for row in rows_of_c1)
    ] + [
        {
            "person_id": "C2",
            "academic_year": "2012/13",
            "term": "spring",
            "possible_sessions": 9,
            "unauthorised_absences": 0,
        },
    ]
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2005-01-01"},
        {"person_id": "C2", "date_of_birth": "2005-01-01"},
    ]
    family = Family.model_validate(
        {"family_id": "F1", "attached_on": "2013-01-07", "members": members, "school_terms": rows}
    )
    day, verdicts = date(2011, 12, 1), set()
    while day < date(2013, 9, 1):
        for child in ("C1", "C2"):
            born = tuple(
                m.model_copy(update={"date_of_birth": day}) if m.person_id == child else m
                for m in family.members
            )
            changed = family.model_copy(update={"members": born})
            verdicts.add(exact_ok(changed))
            assert _plainly_consistent(changed) == exact_ok(changed), (child, day)
        day += timedelta(days=1)
    assert verdicts == {True, False}
