"""The C cross-field check (`pbr._facts`) proves only what the Python check would accept.

`pbr._compiled.decode_family` asks `pbr._facts.proved` first and, when it answers True, checks
only the lists few records give in Python (`lists_plainly_consistent`). So: whenever the C check
proves a compiled record, the Python check (`plainly_consistent`) must accept it too; and it must
prove the ordinary record, or it would be a slower no-op. Records are drawn valid and spoiled
near every boundary the check draws (`tests/test_input_fast_paths.spoiled`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from pbr import _compiled
from pbr._record_checks import EARLIEST_TERM_END, lists_plainly_consistent, plainly_consistent
from pbr.records import Family
from pbr.testing import PROGRAMMES, family_records
from tests.test_input_fast_paths import SPOILS, exact_ok, spoiled

_facts = pytest.importorskip("pbr._facts")
REFERENCE = Path(__file__).resolve().parent / "reference" / "families.jsonl"


def compiled(family: Family) -> Any:
    """The compiled record of `family`'s JSON, decoded with no check at all (None: not one)."""
    try:
        return _compiled._decode(family.model_dump_json())
    except msgspec.ValidationError:  # a value the Struct's types refuse (a year with no date)
        return None


def c_accepts(record: Any) -> bool:
    """What `decode_family` takes from the C check: proved, then the rare lists in Python."""
    return _facts.proved(record, EARLIEST_TERM_END) and lists_plainly_consistent(record)


@given(
    record=st.sampled_from(PROGRAMMES).flatmap(family_records),
    spoils=st.lists(st.sampled_from(SPOILS), max_size=3),
    data=st.data(),
)
def test_what_the_c_check_proves_the_python_check_accepts(
    record: dict[str, Any], spoils: list[str], data: st.DataObject
) -> None:
    family = Family.model_validate(record)
    for how in spoils:
        family = spoiled(family, how, data)
    note(repr(family))
    fast = compiled(family)
    if fast is None:
        event("not a compiled record")
        return
    plainly_consistent(fast)  # the years it reads are known to the C check from here on
    accepted = c_accepts(fast)
    event(f"proved: {accepted}")
    if accepted:
        assert plainly_consistent(fast)
        assert exact_ok(family)


@given(record=st.sampled_from(PROGRAMMES).flatmap(family_records))
def test_the_c_check_proves_valid_records_unless_a_child_is_born_late_in_a_year(
    record: dict[str, Any],
) -> None:
    family = Family.model_validate(record)
    fast = compiled(family)
    assert fast is not None
    plainly_consistent(fast)
    born = {m.person_id: m.date_of_birth for m in family.members}
    late = any(
        (end := EARLIEST_TERM_END.get(row.academic_year)) is None or born[row.person_id] > end
        for row in family.school_terms
    )  # the one case it leaves to Python: the row's own term end decides
    assert _facts.proved(fast, EARLIEST_TERM_END) is not late


def test_the_c_check_proves_the_reference_corpus() -> None:
    lines = REFERENCE.read_bytes().splitlines()
    records: list[Any] = [_compiled._decode(line) for line in lines]
    for record in records:
        assert plainly_consistent(record)
    proved = sum(_facts.proved(record, EARLIEST_TERM_END) for record in records)
    assert proved >= 0.95 * len(records), (proved, len(records))


BASE: dict[str, Any] = {
    "family_id": "F1",
    "attached_on": "2013-01-07",
    "members": [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2005-01-01"},
    ],
    "offences": [{"person_id": "A1", "date": "2012-05-01"}],
    "asb_incidents": [{"date": "2012-06-01"}, {"person_id": "C1", "date": "2012-06-02"}],
    "benefit_spells": [
        {"person_id": "A1", "benefit": "JSA", "start": "2012-01-02", "end": "2012-12-01"}
    ],
    "employment_spells": [{"person_id": "A1", "start": "2012-12-02"}],
    "work_programme": [{"person_id": "A1", "date": "2012-03-01", "provision": "esf"}],
    "school_terms": [
        {
            "person_id": "C1",
            "academic_year": "2012/13",
            "term": "autumn",
            "possible_sessions": 100,
            "unauthorised_absences": 100,
        },
        {
            "person_id": "C1",
            "academic_year": "2012/13",
            "term": "spring",
            "possible_sessions": 100,
            "unauthorised_absences": 0,
        },
    ],
}


def _record(change: str) -> Any:
    record = json.loads(json.dumps(BASE))
    if change == "duplicate member":
        record["members"].append({"person_id": "C1", "date_of_birth": "2005-01-01"})
    elif change == "offender not a member":
        record["offences"][0]["person_id"] = "X9"
    elif change == "offence before birth":
        record["offences"][0]["date"] = "1979-12-31"
    elif change == "referral before birth":
        record["work_programme"][0]["date"] = "1979-12-31"
    elif change == "asb before birth":
        record["asb_incidents"][1]["date"] = "2004-12-31"
    elif change == "asb of a stranger":
        record["asb_incidents"][1]["person_id"] = "X9"
    elif change == "spell before birth":
        record["benefit_spells"][0]["start"] = "1979-12-31"
    elif change == "spell ends before it starts":
        record["benefit_spells"][0]["end"] = "2012-01-01"
    elif change == "job before birth":
        record["employment_spells"][0]["start"] = "1979-12-31"
    elif change == "more absences than sessions":
        record["school_terms"][1]["unauthorised_absences"] = 101
    elif change == "a term given twice":
        record["school_terms"][1]["term"] = "autumn"
    elif change == "pupil not a member":
        record["school_terms"][1]["person_id"] = "X9"
    elif change == "observation of a stranger":
        record["observations"] = [{"indicator": "x", "date": "2012-01-01", "person_id": "X9"}]
    return _compiled._decode(json.dumps(record))


def test_the_unspoiled_example_is_proved() -> None:
    record = _record("")
    assert plainly_consistent(record)
    assert _facts.proved(record, EARLIEST_TERM_END)


@pytest.mark.parametrize(
    "change",
    [
        "duplicate member",
        "offender not a member",
        "offence before birth",
        "referral before birth",
        "asb before birth",
        "asb of a stranger",
        "spell before birth",
        "spell ends before it starts",
        "job before birth",
        "more absences than sessions",
        "a term given twice",
        "pupil not a member",
        "observation of a stranger",
    ],
)
def test_each_problem_is_not_proved(change: str) -> None:
    record = _record(change)
    assert not plainly_consistent(record)
    assert not _facts.proved(record, EARLIEST_TERM_END)


def test_a_child_born_after_the_years_first_term_is_left_to_python() -> None:
    record = json.loads(json.dumps(BASE))
    record["members"][1]["date_of_birth"] = "2013-01-01"  # after autumn 2012, before spring's end
    record["school_terms"] = record["school_terms"][1:]
    record["asb_incidents"] = record["asb_incidents"][:1]
    fast: Any = _compiled._decode(json.dumps(record))
    assert plainly_consistent(fast)
    assert not _facts.proved(fast, EARLIEST_TERM_END)
    assert _compiled.decode_family(json.dumps(record), 10**6) is not None


def test_a_year_not_yet_seen_is_left_to_python() -> None:
    assert not _facts.proved(_record(""), {})


@pytest.mark.parametrize("thing", [None, 1, "F1", object()])
def test_anything_but_a_compiled_record_is_not_proved(thing: object) -> None:
    assert _facts.proved(thing, EARLIEST_TERM_END) is False


def test_a_pydantic_family_is_not_proved() -> None:
    family = Family.model_validate(BASE)
    assert plainly_consistent(family)
    assert _facts.proved(family, EARLIEST_TERM_END) is False


def test_a_part_of_another_type_is_not_proved() -> None:
    record = _record("")
    odd = msgspec.structs.replace(record, offences=(object(),))
    assert not _facts.proved(odd, EARLIEST_TERM_END)
    dated = msgspec.structs.replace(
        record, offences=(msgspec.structs.replace(record.offences[0], date="2012-05-01"),)
    )
    assert not _facts.proved(dated, EARLIEST_TERM_END)


def test_wrong_arguments_are_refused_not_crashed_on() -> None:
    with pytest.raises(TypeError):
        _facts.proved(_record(""), [])
    with pytest.raises(TypeError):
        _facts.proved(_record(""))

    class Unslotted:
        person_id = "A1"

    with pytest.raises(TypeError, match="not a slot"):
        _facts.learn(*[Unslotted] * 9)
    with pytest.raises(TypeError):
        _facts.learn(int)
    assert _facts.proved(_record(""), EARLIEST_TERM_END)  # what it had learned is kept


def test_the_batch_is_the_same_without_the_c_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from pbr.batch import evaluate_many_json

    lines = REFERENCE.read_bytes().splitlines()
    as_of = date(2015, 3, 31)
    with_c = list(evaluate_many_json(lines, as_of=as_of, workers=1))
    monkeypatch.setattr(_compiled, "_facts_proved", _compiled._facts_not_proved)
    without = list(evaluate_many_json(lines, as_of=as_of, workers=1))
    assert with_c == without


def test_every_day_of_birth_around_the_terms_is_proved_only_where_python_accepts() -> None:
    record = json.loads(json.dumps(BASE))
    day = date(2012, 8, 1)
    while day < date(2013, 8, 1):
        record["members"][1]["date_of_birth"] = day.isoformat()
        fast: Any = _compiled._decode(json.dumps(record))
        if _facts.proved(fast, EARLIEST_TERM_END):
            assert plainly_consistent(fast), day
        day += timedelta(days=1)


def python_tally(rows: list[Any]) -> tuple[int, int, int, bool, bool, bool]:
    """`pbr.programmes.phase_one._evidence.tally` with its C sum switched off: Python's loop."""
    from pbr.programmes.phase_one import _evidence

    kept = _evidence._summed
    _evidence._summed = _evidence._not_summed
    try:
        return _evidence.tally(rows)
    finally:
        _evidence._summed = kept


@given(record=st.sampled_from(PROGRAMMES).flatmap(family_records), data=st.data())
def test_the_c_sum_of_term_rows_is_the_python_sum(record: dict[str, Any], data: Any) -> None:
    from pbr.programmes.phase_one._evidence import tally

    fast = compiled(Family.model_validate(record))
    if fast is None:
        return
    rows = list(fast.school_terms)
    some = data.draw(st.lists(st.sampled_from(rows), max_size=12)) if rows else []
    summed = _facts.tally(some)
    assert summed == python_tally(some)
    assert [type(value) for value in summed] == [int, int, int, bool, bool, bool]
    assert tally(some) == summed
    validated = Family.model_validate(record).school_terms
    assert tally(list(validated)) == python_tally(list(validated))  # pydantic's rows: Python


def test_the_c_sum_leaves_what_it_cannot_read_to_python() -> None:
    rows = list(_record("").school_terms)
    assert rows
    assert _facts.tally(rows) is not None
    big = msgspec.structs.replace(rows[0], possible_sessions=2**70)  # beyond a machine word
    sums = [
        _facts.tally([*rows, big]),
        _facts.tally([*rows, msgspec.structs.replace(rows[0], on_roll=1)]),  # not a bool
        _facts.tally([*rows, msgspec.structs.replace(rows[0], fixed_term_exclusions=1.0)]),
        _facts.tally([*rows, Family.model_validate(BASE).school_terms[0]]),  # pydantic's
        _facts.tally(tuple(rows)),  # not a list
    ]
    assert sums == [None] * 5
    huge = [msgspec.structs.replace(rows[0], possible_sessions=2**62)] * 2  # the sum overflows
    assert _facts.tally(huge) is None
    from pbr.programmes.phase_one._evidence import tally

    assert tally([big]) == python_tally([big])
    assert tally(huge) == python_tally(huge)


@pytest.mark.parametrize(
    "text",
    [
        "C-1",
        "c.1_x",
        "C" * 64,
        "C" * 65,
        "C 1",
        "",
        "C1\n",
        "Cé",
        "C\u0661",  # an Arabic-Indic digit: `isalnum`, but not the pattern's
        "C/1",
        "_.-",
    ],
)
@pytest.mark.parametrize("whose", ["family_id", "person_id"])
def test_an_id_the_c_check_cannot_prove_is_left_to_python(text: str, whose: str) -> None:
    """The C check proves an id only when it matches pbr.records.Identifier's pattern; any other
    it leaves to `decode_family`, which refuses it, as pydantic does."""
    old = '"F1"' if whose == "family_id" else '"C1"'
    line = json.dumps(BASE).replace(old, json.dumps(text)).encode()
    record = _compiled._decode(line)
    valid = _compiled._IDENTIFIER.fullmatch(text) is not None
    assert _facts.proved(record, EARLIEST_TERM_END) is valid
    assert (_compiled.decode_family(line, 10**6) is not None) is valid
    try:
        Family.model_validate_json(line)
    except ValueError:
        assert not valid
    else:
        assert valid
