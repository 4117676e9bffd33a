"""Small builders for readable example tests: a family record as a dict, then a Family."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import pbr
from pbr.decisions import Decision, ResultKind
from pbr.rules import RuleSet

ALL_THREE = ["crime_asb", "education", "work"]
BENCH_GENERATOR = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"

COUNCIL_2016 = pbr.TermCalendar(
    {
        ("2016/17", "autumn"): (date(2016, 9, 5), date(2016, 12, 20)),
        ("2016/17", "spring"): (date(2017, 1, 4), date(2017, 4, 7)),
        ("2016/17", "summer"): (date(2017, 4, 24), date(2017, 7, 22)),
    },
    name="council",
)
"""A council's dates for 2016/17's terms only."""

COUNCIL_2012 = pbr.TermCalendar(
    {("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))}, name="council"
)
"""A council's autumn 2012 (from 4 September): `council_calendar_family` misses that term."""


def record(**fields: Any) -> dict[str, Any]:
    """A valid phase-one record: one adult A1 (born 1980) attached 2012-10-15, plus `fields`."""
    base: dict[str, Any] = {
        "family_id": "T1",
        "attached_on": "2012-10-15",
        "identified_for": list(ALL_THREE),
        "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}],
    }
    base.update(fields)
    return base


def family(**fields: Any) -> pbr.Family:
    return pbr.Family.model_validate(record(**fields))


def rejected_record(family_id: str = "UNUSED") -> pbr.Rejection:
    """A record a forecast cannot use (a reader's rejection): with it alone, `from_records`
    forecasts every funded family by assumption, as for a council with no family yet (no
    records at all is refused)."""
    return pbr.Rejection.single(
        source="<records>",
        line=None,
        record=1,
        family_id=family_id,
        loc="members",
        value=None,
        message="Field required",
        type="missing",
    )


def term_rows(
    person_id: str,
    terms: list[tuple[str, str]],
    *,
    possible: int = 100,
    unauthorised: int = 0,
    exclusions: int = 0,
    **flags: bool,
) -> list[dict[str, Any]]:
    """One school-term row per (academic year, term) with the same figures."""
    return [
        {
            "person_id": person_id,
            "academic_year": year,
            "term": term,
            "possible_sessions": possible,
            "unauthorised_absences": unauthorised,
            "fixed_term_exclusions": exclusions,
            **flags,
        }
        for year, term in terms
    ]


def evaluate(fam: pbr.Family, as_of: str | date, rules: RuleSet | None = None) -> Decision:
    day = as_of if isinstance(as_of, date) else date.fromisoformat(as_of)
    return pbr.evaluate(fam, as_of=day, rules=rules)


def codes(decision: Decision, kind: ResultKind) -> list[str]:
    return [r.code for r in decision.results[kind].reasons]


def around(day: date) -> st.SearchStrategy[date]:
    """`day` or the day either side: where a comparison can go wrong."""
    return st.integers(-1, 1).map(lambda n: date.fromordinal(day.toordinal() + n))


def generated(n: int, folder: Path, seed: int = 16) -> Path:
    """`n` families from benchmarks/generate.py, as JSON Lines."""
    import subprocess
    import sys

    path = folder / f"families-{n}.jsonl"
    subprocess.run(
        [sys.executable, str(BENCH_GENERATOR), str(n), str(path), "--seed", str(seed)],
        check=True,
        capture_output=True,
    )
    return path


def tableable(family: pbr.Family) -> pbr.Family:
    """`family` as council tables can hold it: an empty `identified_for` (no problem stated) has
    no cell of its own (an empty cell reads as not recorded), so it is left unstated."""
    return (
        family.model_copy(update={"identified_for": None})
        if family.identified_for == ()
        else family
    )


TABLE_FAMILIES = pbr.testing.families(max_events=3).map(tableable)
"""Generated families that `pbr.tables.write_tables` can write (`tableable`)."""


RECORD_LISTS = (
    "members",
    "offences",
    "asb_incidents",
    "school_terms",
    "benefit_spells",
    "employment_spells",
    "work_programme",
    "payments",
    "problems_at_entry",  # listed in the programme's order in the decision, not the record's
    "observations",
)
"""Every list in a record: the order it is given in must not change the decision."""


PLAN_FAMILY: dict[str, Any] = {
    "family_id": "P2-A",
    "programme": "tf-phase-2",
    "attached_on": "2016-08-31",
    "members": [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2010-01-01"},
    ],
    "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
    "observations": [
        {"indicator": "police_callout_domestic_abuse", "date": "2016-09-01"},
        {"indicator": "gp_visits", "date": "2017-02-20", "value": 3},
    ],
}
"""A phase-two family whose outcomes turn on a plan's thresholds (domestic abuse and health)."""


def council_calendar_family(family_id: str = "CAL") -> pbr.Family:
    """A child with school rows for spring and summer 2013 only: met (£700) at 31 July 2013
    under the default terms, not met under `COUNCIL_2012` (autumn 2012 then falls after
    attachment, and the child has no record for it: MISSING_SCHOOL_TERM)."""
    members = [
        {"person_id": "A1", "date_of_birth": "1980-01-01"},
        {"person_id": "C1", "date_of_birth": "2007-09-03"},
    ]
    return family(
        family_id=family_id,
        attached_on="2012-10-01",
        identified_for=["education", "work"],
        local_discretion=["x"],
        members=members,
        school_terms=term_rows("C1", [("2012/13", "spring"), ("2012/13", "summer")]),
    )


def erl_family(*observations: dict[str, Any], **fields: Any) -> pbr.Family:
    """A rules tester's ERL: phase two, attached 7 March 2016, a call-out on 1 June 2016.

    `observations` replace the call-out; `fields` replace the record's own.
    """
    given = {
        "family_id": "ERL",
        "programme": "tf-phase-2",
        "attached_on": "2016-03-07",
        "members": [
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2010-01-01"},
        ],
        "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
        "observations": list(observations)
        or [{"indicator": "police_callout_domestic_abuse", "date": "2016-06-01"}],
    }
    return pbr.Family.model_validate(given | fields)
