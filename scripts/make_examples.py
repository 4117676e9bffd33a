"""Build the bundled example families and write them to ``examples/families.jsonl``.

Every family is synthetic and designed by hand to show one or more rules of phase1-spec v1 at the
single evaluation date ``AS_OF`` (31 March 2015, the end of phase one's attachment window). The
data is deterministic: running the script twice writes the same bytes, and
``tests/test_examples.py`` checks that the committed file is exactly what this script builds.

At ``AS_OF``: the "last 6 months" window is (30 Sep 2014, 31 Mar 2015]; the last 3 complete
school terms are 2013/14 summer, 2014/15 autumn and 2014/15 spring; a family must have been
attached on or before 30 Sep 2014 for its crime/ASB/education result to be due.

Run: python scripts/make_examples.py
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pbr.records import Family

__all__ = ["AS_OF", "OUTPUT", "build_families", "main", "render"]

AS_OF = date(2015, 3, 31)
"""The one evaluation date the examples are designed for."""

OUTPUT = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"

Record = dict[str, Any]
Span = tuple[str, str, int]
"""School rows for a run of terms: (first term, last term, unauthorised absences per term)."""

TERMS: tuple[str, ...] = tuple(
    f"{year}/{(year + 1) % 100:02d} {name}"
    for year in range(2009, 2015)
    for name in ("autumn", "spring", "summer")
)[:-1]
"""Term labels from 2009/10 autumn to 2014/15 spring (the last term complete at AS_OF)."""

POSSIBLE = {"autumn": 140, "spring": 120, "summer": 130}
"""Possible sessions per term (two a day) unless a row says otherwise."""


# --- Builders -------------------------------------------------------------------------------


def member(person_id: str, date_of_birth: str) -> Record:
    """A household member: adults are A1, A2; children C1, C2, C3."""
    return {"person_id": person_id, "date_of_birth": date_of_birth}


def offence(person_id: str, day: str) -> Record:
    """A proven offence."""
    return {"person_id": person_id, "date": day}


def asb(person_id: str | None, day: str, kind: str = "recorded_asb") -> Record:
    """An ASB incident or action; `person_id` None for a household-level action."""
    return {"person_id": person_id, "date": day, "kind": kind}


def school(
    person_id: str,
    *spans: Span,
    edits: Mapping[str, Mapping[str, int | bool]] | None = None,
) -> list[Record]:
    """One row per term in each span, with the span's absences; `edits` overrides single terms."""
    rows: list[Record] = []
    for first, last, absent in spans:
        for label in TERMS[TERMS.index(first) : TERMS.index(last) + 1]:
            academic_year, term = label.split()
            row: Record = {
                "person_id": person_id,
                "academic_year": academic_year,
                "term": term,
                "possible_sessions": POSSIBLE[term],
                "unauthorised_absences": absent,
                "fixed_term_exclusions": 0,
                "permanently_excluded": False,
                "alternative_provision": False,
                "on_roll": True,
            }
            row.update((edits or {}).get(label, {}))
            rows.append(row)
    return rows


def benefit(person_id: str, kind: str, start: str, end: str | None = None) -> Record:
    """An out-of-work benefit spell (`end` None while it continues)."""
    return {"person_id": person_id, "benefit": kind, "start": start, "end": end}


def job(person_id: str, start: str, end: str | None = None) -> Record:
    """An employment spell (`end` None while it continues)."""
    return {"person_id": person_id, "start": start, "end": end}


def referral(person_id: str, day: str, provision: str = "work_programme") -> Record:
    """A Work Programme (or ESF) referral."""
    return {"person_id": person_id, "date": day, "provision": provision}


def paid(kind: str, amount: str, paid_on: str | None) -> tuple[str, str, str | None]:
    """A payment already made (claim ids are numbered by `family`)."""
    return (kind, amount, paid_on)


def family(
    family_id: str,
    attached_on: str,
    *,
    members: Sequence[Record],
    local_authority: str = "Exampleshire",
    identified_for: Sequence[str] | None = None,
    local_discretion: Sequence[str] = (),
    offences: Sequence[Record] = (),
    asb_incidents: Sequence[Record] = (),
    school_terms: Sequence[Record] = (),
    benefit_spells: Sequence[Record] = (),
    employment_spells: Sequence[Record] = (),
    work_programme: Sequence[Record] = (),
    payments: Sequence[tuple[str, str, str | None]] = (),
) -> Record:
    """A family record with its keys in the family-record order; empty lists are left out."""
    record: Record = {
        "family_id": family_id,
        "local_authority": local_authority,
        "programme": "tf-phase-1",
        "attached_on": attached_on,
    }
    if identified_for is not None:
        record["identified_for"] = list(identified_for)
    optional: list[tuple[str, Sequence[Any]]] = [
        ("local_discretion", local_discretion),
        ("members", members),
        ("offences", offences),
        ("asb_incidents", asb_incidents),
        ("school_terms", school_terms),
        ("benefit_spells", benefit_spells),
        ("employment_spells", employment_spells),
        ("work_programme", work_programme),
        (
            "payments",
            [
                {"kind": kind, "amount": amount, "paid_on": day, "claim_id": f"{family_id}-P{i}"}
                for i, (kind, amount, day) in enumerate(payments, start=1)
            ],
        ),
    ]
    for key, values in optional:
        if values:
            record[key] = list(values)
    return record


# --- The families ---------------------------------------------------------------------------


def build_families() -> list[Record]:
    """Return every example family, in order (EX-001, EX-002, ...)."""
    return [
        # Attached 1 Apr 2012 (phase one's first day): crime/ASB/education £700, progress £100
        family(
            "EX-001",
            "2012-04-01",
            members=[member("A1", "1978-06-14"), member("C1", "2001-02-03")],
            asb_incidents=[
                asb("C1", "2011-11-20"),
                asb("C1", "2012-01-14", "asb_injunction"),
            ],
            school_terms=school(
                "C1",
                ("2010/11 summer", "2011/12 spring", 30),
                ("2011/12 summer", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "JSA", "2010-09-06")],
            work_programme=[referral("A1", "2014-11-10")],
            payments=[paid("attachment_fee", "3200.00", "2012-05-01")],
        ),
        # Attached 1 Apr 2013: crime/ASB/education £1,500 and ESA 13 weeks met at once, top-up £100
        family(
            "EX-002",
            "2013-04-01",
            members=[member("A1", "1983-09-22"), member("C1", "2004-05-18")],
            asb_incidents=[
                asb(None, "2012-12-03", "housing_asb_action"),
                asb("A1", "2013-02-15"),
            ],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 28),
                ("2012/13 summer", "2014/15 spring", 3),
            ),
            benefit_spells=[benefit("A1", "ESA", "2011-03-07", "2014-10-05")],
            employment_spells=[job("A1", "2014-10-06")],
            payments=[paid("attachment_fee", "2400.00", "2013-04-30")],
        ),
        # Attached 31 Mar 2014 (last day of 2013/14): 2013/14 fee and rate; two adults on IS and CA
        family(
            "EX-003",
            "2014-03-31",
            local_authority="Sampleton",
            members=[
                member("A1", "1975-01-30"),
                member("A2", "1977-08-08"),
                member("C1", "2000-10-01"),
                member("C2", "2003-03-12"),
            ],
            offences=[offence("C1", "2013-11-02"), offence("C1", "2014-01-19")],
            asb_incidents=[asb("C1", "2013-10-12")],
            school_terms=[
                *school(
                    "C1",
                    ("2012/13 spring", "2013/14 autumn", 30),
                    ("2013/14 spring", "2014/15 spring", 5),
                ),
                *school("C2", ("2012/13 spring", "2014/15 spring", 3)),
            ],
            benefit_spells=[
                benefit("A1", "IS", "2012-01-09"),
                benefit("A2", "CA", "2012-01-09"),
            ],
            payments=[paid("attachment_fee", "2400.00", "2014-04-28")],
        ),
        # Attached 1 Apr 2014 (2014/15): £1,600 fee, £2,300 rate; JSA claim from the attachment day
        family(
            "EX-004",
            "2014-04-01",
            members=[member("A1", "1986-12-02"), member("C1", "2002-07-07")],
            asb_incidents=[asb("C1", "2013-11-30", "abc"), asb("C1", "2014-02-21")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 25),
                ("2013/14 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2014-04-01")],
            payments=[paid("attachment_fee", "1600.00", "2014-05-15")],
        ),
        # Attached 31 Mar 2013 (last day of 2012/13): £700; ASB 3 -> 1, one the day before attaching
        family(
            "EX-005",
            "2013-03-31",
            members=[member("A1", "1981-04-25"), member("C1", "2003-11-11")],
            asb_incidents=[
                asb("A1", "2012-11-05"),
                asb(None, "2013-01-22", "housing_asb_action"),
                asb("A1", "2013-03-30"),
                asb("A1", "2014-12-06"),
            ],
            school_terms=school(
                "C1",
                ("2011/12 spring", "2012/13 autumn", 30),
                ("2012/13 spring", "2014/15 spring", 6),
            ),
            benefit_spells=[benefit("A1", "ESA", "2012-06-11")],
            payments=[paid("attachment_fee", "3200.00", "2013-04-12")],
        ),
        # Attached 30 Sep 2014, the last date due by as_of; the pre-attachment term still counts
        family(
            "EX-006",
            "2014-09-30",
            members=[member("A1", "1979-02-17"), member("C1", "2001-12-24")],
            offences=[offence("C1", "2014-05-04"), offence("C1", "2014-08-09")],
            asb_incidents=[asb("C1", "2014-07-19")],
            school_terms=school(
                "C1",
                ("2013/14 autumn", "2013/14 summer", 30),
                ("2014/15 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-01-07")],
            payments=[paid("attachment_fee", "1600.00", "2014-10-20")],
        ),
        # Attached 1 Oct 2014: RESULT_TOO_EARLY (earliest 1 Apr 2015); progress to work met anyway
        family(
            "EX-007",
            "2014-10-01",
            members=[member("A1", "1990-03-03"), member("C1", "2007-06-30")],
            asb_incidents=[asb("A1", "2014-02-11"), asb("A1", "2014-06-27", "asbo")],
            school_terms=school(
                "C1",
                ("2013/14 autumn", "2013/14 summer", 26),
                ("2014/15 autumn", "2014/15 spring", 2),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-05-20")],
            work_programme=[referral("A1", "2014-12-01")],
            payments=[paid("attachment_fee", "1600.00", "2014-10-31")],
        ),
        # Attached 31 Mar 2015, phase one's last day: nothing can be met yet
        family(
            "EX-008",
            "2015-03-31",
            members=[
                member("A1", "1985-10-10"),
                member("A2", "1984-01-05"),
                member("C1", "2005-02-14"),
            ],
            asb_incidents=[
                asb(None, "2014-08-15", "housing_asb_action"),
                asb("A2", "2015-01-09"),
            ],
            school_terms=school(
                "C1",
                ("2013/14 spring", "2014/15 autumn", 24),
                ("2014/15 spring", "2014/15 spring", 20),
            ),
            benefit_spells=[benefit("A1", "IB", "2007-03-12")],
        ),
        # Not eligible: ASB and JSA, no child and no local discretion: every result not_applicable
        family(
            "EX-009",
            "2013-07-15",
            members=[member("A1", "1969-05-05")],
            asb_incidents=[asb("A1", "2013-03-03"), asb("A1", "2013-05-29")],
            benefit_spells=[benefit("A1", "JSA", "2012-10-01", "2014-08-03")],
            employment_spells=[job("A1", "2014-08-04")],
        ),
        # Crime/ASB + work + discretion: education limb not relevant (all_limbs: truancy fails)
        family(
            "EX-010",
            "2013-09-16",
            local_discretion=["domestic_abuse"],
            members=[member("A1", "1982-07-21"), member("C1", "2002-01-15")],
            asb_incidents=[
                asb("C1", "2013-04-06"),
                asb("C1", "2013-06-18"),
                asb("C1", "2013-08-30", "abc"),
                asb("C1", "2014-10-25"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 autumn", "2012/13 summer", 10),
                ("2013/14 autumn", "2014/15 spring", 25),
            ),
            benefit_spells=[benefit("A1", "IS", "2011-02-14")],
        ),
        # Crime/ASB + education + local discretion, parent in work: work results not relevant
        family(
            "EX-011",
            "2014-01-20",
            local_discretion=["child_in_need"],
            members=[member("A1", "1976-11-30"), member("C1", "1999-09-09")],
            offences=[
                offence("C1", "2013-08-10"),
                offence("C1", "2013-10-02"),
                offence("C1", "2013-12-12"),
                offence("C1", "2014-11-15"),
            ],
            asb_incidents=[asb("C1", "2013-10-02")],
            school_terms=school(
                "C1",
                ("2012/13 spring", "2013/14 autumn", 8),
                ("2013/14 spring", "2014/15 spring", 6),
                edits={
                    "2012/13 spring": {"fixed_term_exclusions": 1},
                    "2012/13 summer": {"fixed_term_exclusions": 1},
                    "2013/14 autumn": {"fixed_term_exclusions": 1},
                },
            ),
            employment_spells=[job("A1", "2010-05-04")],
        ),
        # Education + work + discretion: ASB limb not relevant (all_limbs: ASB since zero fails)
        family(
            "EX-012",
            "2012-11-05",
            local_discretion=["health_problems"],
            members=[member("A1", "1988-08-08"), member("C1", "2005-03-01")],
            asb_incidents=[asb(None, "2014-12-19", "housing_asb_action")],
            school_terms=school(
                "C1",
                ("2011/12 autumn", "2011/12 summer", 35),
                ("2012/13 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "ESA", "2012-02-20")],
        ),
        # identified_for stated and matching the evidence; offending 3 -> 2 (33.3% fall) met
        family(
            "EX-013",
            "2013-06-10",
            identified_for=["crime_asb", "education", "work"],
            members=[member("A1", "1980-02-29"), member("C1", "2000-04-04")],
            offences=[
                offence("C1", "2013-01-15"),
                offence("C1", "2013-03-20"),
                offence("C1", "2013-05-02"),
                offence("C1", "2014-10-10"),
                offence("C1", "2015-02-02"),
            ],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 30),
                ("2012/13 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2012-08-20")],
        ),
        # identified_for states work against evidence: warning, NO_ADULT_ON_BENEFIT_AT_ATTACHMENT
        family(
            "EX-014",
            "2014-02-03",
            identified_for=["crime_asb", "education", "work"],
            members=[member("A1", "1983-05-15"), member("C1", "2001-08-19")],
            asb_incidents=[asb("C1", "2013-09-14"), asb("C1", "2013-12-01")],
            school_terms=school(
                "C1",
                ("2012/13 spring", "2013/14 autumn", 25),
                ("2013/14 spring", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-03-04", "2014-01-31")],
            employment_spells=[job("A1", "2014-02-03")],
            work_programme=[referral("A1", "2014-10-13")],
        ),
        # identified_for omits education the evidence shows: warning; still eligible by discretion
        family(
            "EX-015",
            "2012-09-03",
            identified_for=["crime_asb", "work"],
            local_discretion=["mental_health"],
            members=[
                member("A1", "1972-12-12"),
                member("C1", "1998-10-10"),
                member("C2", "2006-01-26"),
            ],
            asb_incidents=[
                asb("C1", "2012-03-03"),
                asb("C1", "2012-06-06"),
                asb("C1", "2012-08-08", "asbo"),
            ],
            school_terms=[
                *school(
                    "C1",
                    ("2011/12 autumn", "2011/12 summer", 40),
                    ("2012/13 autumn", "2014/15 spring", 30),
                ),
                *school("C2", ("2011/12 autumn", "2014/15 spring", 3)),
            ],
            benefit_spells=[benefit("A1", "CA", "2010-01-04")],
        ),
        # One national criterion (work) plus discretion: not eligible; toddler not of school age
        family(
            "EX-016",
            "2014-06-02",
            local_discretion=["debt"],
            members=[member("A1", "1991-09-09"), member("C1", "2010-12-12")],
            benefit_spells=[benefit("A1", "IS", "2011-01-10")],
        ),
        # Education at entry by permanent exclusion, then a PRU; back in school since: limb met
        family(
            "EX-017",
            "2013-10-07",
            members=[member("A1", "1977-03-19"), member("C1", "1999-12-01")],
            offences=[offence("C1", "2013-02-22"), offence("C1", "2013-07-07")],
            school_terms=school(
                "C1",
                ("2012/13 autumn", "2012/13 summer", 12),
                ("2013/14 autumn", "2014/15 spring", 5),
                edits={
                    "2012/13 autumn": {"fixed_term_exclusions": 1},
                    "2012/13 spring": {"permanently_excluded": True, "unauthorised_absences": 20},
                    "2012/13 summer": {"alternative_provision": True, "unauthorised_absences": 10},
                },
            ),
            benefit_spells=[benefit("A1", "ESA", "2009-09-14")],
        ),
        # Education at entry by 3 fixed-term exclusions; crime paid 2013; JSA job 17 of 26 weeks
        family(
            "EX-018",
            "2012-07-02",
            members=[member("A1", "1984-06-06"), member("C1", "2000-06-30")],
            asb_incidents=[asb("C1", "2012-02-14"), asb("C1", "2012-05-05")],
            school_terms=school(
                "C1",
                ("2010/11 summer", "2014/15 spring", 6),
                edits={"2011/12 spring": {"fixed_term_exclusions": 3, "unauthorised_absences": 10}},
            ),
            benefit_spells=[benefit("A1", "JSA", "2011-11-21", "2014-11-30")],
            employment_spells=[job("A1", "2014-12-01")],
            payments=[
                paid("attachment_fee", "3200.00", "2012-08-01"),
                paid("crime_asb_education", "700.00", "2013-02-15"),
            ],
        ),
        # Education at entry by alternative provision; offending 3 -> 1 met
        family(
            "EX-019",
            "2014-05-12",
            members=[member("A1", "1987-07-07"), member("C1", "2001-05-05")],
            offences=[
                offence("C1", "2013-12-20"),
                offence("C1", "2014-03-15"),
                offence("C1", "2014-04-30"),
                offence("C1", "2014-12-13"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 8),
                ("2013/14 summer", "2014/15 spring", 5),
                edits={
                    "2013/14 autumn": {"alternative_provision": True, "unauthorised_absences": 10},
                    "2013/14 spring": {"alternative_provision": True, "unauthorised_absences": 9},
                },
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-08-05")],
        ),
        # Education at entry because the child was off a school roll; on roll since: limb met
        family(
            "EX-020",
            "2013-02-11",
            members=[member("A1", "1980-10-30"), member("C1", "2002-09-02")],
            asb_incidents=[
                asb(None, "2012-10-01", "housing_asb_action"),
                asb("C1", "2013-01-05"),
            ],
            school_terms=school(
                "C1",
                ("2011/12 spring", "2011/12 spring", 12),
                ("2011/12 summer", "2012/13 autumn", 0),
                ("2012/13 spring", "2014/15 spring", 6),
                edits={
                    "2011/12 summer": {"possible_sessions": 0, "on_roll": False},
                    "2012/13 autumn": {"possible_sessions": 0, "on_roll": False},
                },
            ),
            benefit_spells=[benefit("A1", "IS", "2010-07-19")],
        ),
        # Absence exactly 15% at entry (60/400) identifies education; 14.4% at results is met
        family(
            "EX-021",
            "2012-12-03",
            members=[member("A1", "1979-08-08"), member("C1", "2003-01-01")],
            asb_incidents=[asb("C1", "2012-07-07"), asb("C1", "2012-10-10")],
            school_terms=school(
                "C1",
                ("2011/12 autumn", "2011/12 summer", 21),
                ("2012/13 autumn", "2013/14 spring", 10),
                ("2013/14 summer", "2014/15 spring", 19),
                edits={
                    "2011/12 spring": {"unauthorised_absences": 18},
                    "2011/12 summer": {"possible_sessions": 140},
                    "2014/15 autumn": {"unauthorised_absences": 20},
                    "2014/15 spring": {"unauthorised_absences": 17},
                },
            ),
            benefit_spells=[benefit("A1", "ESA", "2011-05-09")],
        ),
        # Absence exactly 15% at results (60/400) fails; referral on 1 Oct 2014, first day of window
        family(
            "EX-022",
            "2013-05-20",
            members=[
                member("A1", "1985-04-04"),
                member("A2", "1983-03-03"),
                member("C1", "2004-10-10"),
            ],
            asb_incidents=[asb("A2", "2013-01-01"), asb("A2", "2013-04-04")],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 35),
                ("2012/13 summer", "2013/14 spring", 10),
                ("2013/14 summer", "2014/15 spring", 21),
                edits={
                    "2013/14 summer": {"possible_sessions": 140},
                    "2014/15 spring": {"unauthorised_absences": 18},
                },
            ),
            benefit_spells=[benefit("A1", "JSA", "2012-04-02"), benefit("A2", "CA", "2012-04-02")],
            work_programme=[referral("A1", "2014-10-01")],
        ),
        # A child with 0 possible sessions: a problem at entry, NO_POSSIBLE_SESSIONS at results
        family(
            "EX-023",
            "2014-07-14",
            members=[member("A1", "1981-01-21"), member("C1", "2006-06-06")],
            asb_incidents=[asb("A1", "2014-03-03"), asb("A1", "2014-06-06")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2014/15 spring", 0),
                edits={
                    label: {"possible_sessions": 0}
                    for label in TERMS[TERMS.index("2012/13 summer") :]
                },
            ),
            benefit_spells=[benefit("A1", "ESA", "2013-10-07")],
        ),
        # A school-age child with no school record before attachment counts as an education problem
        family(
            "EX-024",
            "2013-11-25",
            members=[member("A1", "1986-06-16"), member("C1", "2005-09-30")],
            asb_incidents=[
                asb(None, "2013-07-07", "housing_asb_action"),
                asb("A1", "2013-09-09"),
            ],
            school_terms=school("C1", ("2013/14 autumn", "2014/15 spring", 7)),
            benefit_spells=[benefit("A1", "JSA", "2013-01-14")],
        ),
        # A second child has no 2014/15 autumn row: MISSING_SCHOOL_TERM fails the education limb
        family(
            "EX-025",
            "2013-03-04",
            members=[
                member("A1", "1978-09-09"),
                member("C1", "2002-02-02"),
                member("C2", "2004-04-04"),
            ],
            asb_incidents=[asb("C1", "2012-11-11"), asb("C1", "2013-01-01")],
            school_terms=[
                *school(
                    "C1",
                    ("2011/12 spring", "2012/13 autumn", 30),
                    ("2012/13 spring", "2014/15 spring", 5),
                ),
                *school(
                    "C2",
                    ("2011/12 spring", "2013/14 summer", 4),
                    ("2014/15 spring", "2014/15 spring", 4),
                ),
            ],
            benefit_spells=[benefit("A1", "JSA", "2012-05-05")],
        ),
        # Permanently excluded in autumn 2014: PERMANENTLY_EXCLUDED fails the education limb
        family(
            "EX-026",
            "2013-08-19",
            members=[member("A1", "1982-12-25"), member("C1", "2000-03-15")],
            offences=[offence("C1", "2013-05-05"), offence("C1", "2013-07-07")],
            school_terms=school(
                "C1",
                ("2012/13 autumn", "2012/13 summer", 30),
                ("2013/14 autumn", "2014/15 spring", 8),
                edits={
                    "2014/15 autumn": {"permanently_excluded": True, "fixed_term_exclusions": 2},
                    "2014/15 spring": {"alternative_provision": True, "unauthorised_absences": 4},
                },
            ),
            benefit_spells=[benefit("A1", "ESA", "2012-12-03")],
        ),
        # One fixed-term exclusion in each of the last 3 terms: 3 summed fail the education limb
        family(
            "EX-027",
            "2012-06-18",
            members=[member("A1", "1976-04-01"), member("C1", "2001-11-11")],
            asb_incidents=[
                asb("C1", "2012-01-01"),
                asb("C1", "2012-04-04"),
                asb("C1", "2012-05-05"),
            ],
            school_terms=school(
                "C1",
                ("2010/11 summer", "2011/12 spring", 30),
                ("2011/12 summer", "2014/15 spring", 5),
                edits={
                    "2013/14 summer": {"fixed_term_exclusions": 1},
                    "2014/15 autumn": {"fixed_term_exclusions": 1},
                    "2014/15 spring": {"fixed_term_exclusions": 1},
                },
            ),
            benefit_spells=[benefit("A1", "JSA", "2011-06-06")],
            payments=[paid("attachment_fee", "3200.00", "2012-07-20")],
        ),
        # The truanting child has passed school-leaving age: NO_CHILD_TO_ASSESS, limb holds
        family(
            "EX-028",
            "2012-10-01",
            members=[member("A1", "1970-01-20"), member("C1", "1997-03-03")],
            offences=[offence("C1", "2012-05-05"), offence("C1", "2012-08-08")],
            school_terms=school(
                "C1",
                ("2011/12 autumn", "2011/12 summer", 40),
                ("2012/13 autumn", "2012/13 summer", 20),
            ),
            benefit_spells=[benefit("A1", "IB", "2006-05-05")],
        ),
        # Two children, one attending and one at 23% absence: the limb needs every child
        family(
            "EX-029",
            "2014-02-24",
            members=[
                member("A1", "1984-02-14"),
                member("C1", "2000-07-07"),
                member("C2", "2003-09-09"),
            ],
            asb_incidents=[asb("C1", "2013-12-12"), asb("C1", "2014-01-30")],
            school_terms=[
                *school("C1", ("2012/13 spring", "2014/15 spring", 30)),
                *school("C2", ("2012/13 spring", "2014/15 spring", 4)),
            ],
            benefit_spells=[benefit("A1", "JSA", "2013-04-15")],
        ),
        # A 17-year-old's sixth-form rows are assessed; an 18-year-old's rows are ignored
        family(
            "EX-030",
            "2013-01-07",
            members=[
                member("A1", "1968-08-08"),
                member("C1", "1997-10-20"),
                member("C2", "1996-09-01"),
            ],
            asb_incidents=[asb("C1", "2012-08-08"), asb("C1", "2012-11-11")],
            school_terms=[
                *school(
                    "C1",
                    ("2011/12 spring", "2012/13 autumn", 30),
                    ("2012/13 spring", "2014/15 spring", 5),
                ),
                *school(
                    "C2",
                    ("2011/12 spring", "2013/14 summer", 5),
                    ("2014/15 autumn", "2014/15 spring", 60),
                ),
            ],
            benefit_spells=[benefit("A1", "ESA", "2012-03-03")],
        ),
        # ASB 5 -> 3, more than 40% of the baseline: ASB_NOT_REDUCED_ENOUGH
        family(
            "EX-031",
            "2013-12-02",
            members=[member("A1", "1983-11-11"), member("C1", "2001-04-04")],
            asb_incidents=[
                asb("C1", "2013-06-15"),
                asb("C1", "2013-07-20"),
                asb("C1", "2013-08-25"),
                asb("C1", "2013-10-01", "abc"),
                asb("C1", "2013-11-11"),
                asb("C1", "2014-10-15"),
                asb("C1", "2014-12-24"),
                asb("C1", "2015-02-14"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 autumn", "2012/13 summer", 25),
                ("2013/14 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2012-12-12")],
        ),
        # ASB 5 -> 2, exactly 40%: met; baseline start and as_of are inside their windows
        family(
            "EX-032",
            "2014-03-10",
            members=[
                member("A1", "1987-05-05"),
                member("A2", "1986-06-06"),
                member("C1", "2003-07-07"),
            ],
            asb_incidents=[
                asb(None, "2013-09-10", "housing_asb_action"),
                asb("A2", "2013-10-10"),
                asb("C1", "2013-11-11"),
                asb("C1", "2014-01-01"),
                asb(None, "2014-03-09", "asb_injunction"),
                asb("A2", "2014-11-11"),
                asb("C1", "2015-03-31"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 spring", "2013/14 autumn", 25),
                ("2013/14 spring", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A2", "ESA", "2013-02-04")],
        ),
        # Identified by a child's offending alone, no ASB before or since; offending 4 -> 2 met
        family(
            "EX-033",
            "2014-08-04",
            members=[member("A1", "1980-05-05"), member("C1", "1999-11-11")],
            offences=[
                offence("C1", "2014-02-20"),
                offence("C1", "2014-03-30"),
                offence("C1", "2014-05-15"),
                offence("C1", "2014-07-25"),
                offence("C1", "2014-11-05"),
                offence("C1", "2015-01-20"),
            ],
            school_terms=school(
                "C1",
                ("2013/14 autumn", "2013/14 summer", 30),
                ("2014/15 autumn", "2014/15 spring", 6),
            ),
            benefit_spells=[benefit("A1", "JSA", "2014-01-06")],
        ),
        # ASB only 7-12 months before attachment: zero 6-month baseline, one since fails
        family(
            "EX-034",
            "2013-10-14",
            members=[member("A1", "1984-03-03"), member("C1", "2002-02-20")],
            asb_incidents=[
                asb("C1", "2012-11-20"),
                asb("C1", "2013-01-15"),
                asb("C1", "2013-03-02"),
                asb("C1", "2015-01-10"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 autumn", "2012/13 summer", 25),
                ("2013/14 autumn", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "ESA", "2013-06-03")],
        ),
        # ASB 2 in the 6 months, 8 in the 12 before attachment; 1 since: halved baseline is met
        family(
            "EX-035",
            "2014-01-13",
            members=[
                member("A1", "1979-09-19"),
                member("C1", "2000-08-08"),
                member("C2", "2002-12-12"),
            ],
            asb_incidents=[
                asb("C1", "2013-02-01"),
                asb("C1", "2013-03-01"),
                asb("C1", "2013-04-01"),
                asb("C1", "2013-05-01"),
                asb("C1", "2013-05-20"),
                asb(None, "2013-06-15", "housing_asb_action"),
                asb("C1", "2013-09-09"),
                asb("C1", "2013-12-12"),
                asb("C1", "2014-12-01"),
            ],
            school_terms=[
                *school(
                    "C1",
                    ("2012/13 spring", "2013/14 autumn", 30),
                    ("2013/14 spring", "2014/15 spring", 5),
                ),
                *school("C2", ("2012/13 spring", "2014/15 spring", 3)),
            ],
            benefit_spells=[benefit("A1", "JSA", "2012-09-24")],
        ),
        # Offending 4 -> 3, a 25% fall: OFFENDING_NOT_REDUCED_ENOUGH
        family(
            "EX-036",
            "2013-07-01",
            members=[member("A1", "1975-05-25"), member("C1", "1998-12-12")],
            offences=[
                offence("C1", "2013-01-01"),
                offence("C1", "2013-02-14"),
                offence("C1", "2013-04-04"),
                offence("C1", "2013-06-30"),
                offence("C1", "2014-10-10"),
                offence("C1", "2014-12-20"),
                offence("C1", "2015-03-01"),
            ],
            asb_incidents=[asb("C1", "2013-05-05")],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 30),
                ("2012/13 summer", "2014/15 spring", 6),
            ),
            benefit_spells=[benefit("A1", "IS", "2012-02-02")],
        ),
        # Identified by ASB; a child's first offence came after attachment: SINCE_ZERO_BASELINE
        family(
            "EX-037",
            "2014-04-28",
            members=[member("A1", "1989-01-01"), member("C1", "2001-10-10")],
            offences=[offence("C1", "2015-02-02")],
            asb_incidents=[asb("C1", "2013-11-11"), asb("C1", "2014-03-03")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 28),
                ("2013/14 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-09-09")],
        ),
        # Household-level ASB actions (no person) count: 2 -> 1 is more than 40%
        family(
            "EX-038",
            "2012-08-13",
            local_authority="Sampleton",
            members=[
                member("A1", "1974-07-07"),
                member("A2", "1976-06-06"),
                member("C1", "2000-01-01"),
            ],
            asb_incidents=[
                asb(None, "2012-03-01", "housing_asb_action"),
                asb(None, "2012-06-01", "asb_injunction"),
                asb(None, "2014-11-30", "housing_asb_action"),
            ],
            school_terms=school(
                "C1",
                ("2011/12 autumn", "2011/12 summer", 30),
                ("2012/13 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2011-09-09")],
            payments=[paid("attachment_fee", "3200.00", "2012-09-10")],
        ),
        # Only children's offences count: leap-day child's offence on his 18th birthday is adult
        family(
            "EX-039",
            "2014-03-03",
            members=[
                member("A1", "1976-02-02"),
                member("C1", "1996-02-29"),
                member("C2", "2002-06-06"),
            ],
            offences=[
                offence("C1", "2013-12-12"),
                offence("C1", "2014-02-28"),
                offence("C1", "2014-10-10"),
                offence("A1", "2015-01-15"),
                offence("C2", "2014-11-11"),
            ],
            school_terms=school(
                "C2",
                ("2012/13 spring", "2013/14 autumn", 25),
                ("2013/14 spring", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "ESA", "2013-03-11")],
        ),
        # No referral in the window: one before attachment, one exactly 6 months before as_of
        family(
            "EX-040",
            "2014-06-23",
            members=[member("A1", "1982-02-02"), member("C1", "2004-04-14")],
            asb_incidents=[asb("A1", "2014-01-10"), asb("C1", "2014-04-04")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 26),
                ("2013/14 summer", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-11-25")],
            work_programme=[referral("A1", "2014-05-05"), referral("A1", "2014-09-30", "esf")],
        ),
        # ESF referral on as_of; the working partner was never on benefit, so cannot meet employment
        family(
            "EX-041",
            "2014-08-26",
            members=[
                member("A1", "1990-10-10"),
                member("A2", "1992-02-02"),
                member("C1", "2008-03-03"),
            ],
            asb_incidents=[asb("A2", "2014-05-05"), asb("A2", "2014-07-07")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 summer", 25),
                ("2014/15 autumn", "2014/15 spring", 3),
            ),
            benefit_spells=[benefit("A2", "JSA", "2014-02-03")],
            employment_spells=[job("A1", "2013-01-07")],
            work_programme=[referral("A2", "2015-03-31", "esf")],
        ),
        # Progress to work and crime/ASB/education paid in 2013: a new referral changes nothing
        family(
            "EX-042",
            "2012-11-19",
            members=[member("A1", "1981-08-18"), member("C1", "2002-11-11")],
            asb_incidents=[asb("C1", "2012-06-06"), asb("C1", "2012-09-09")],
            school_terms=school(
                "C1",
                ("2011/12 autumn", "2011/12 summer", 30),
                ("2012/13 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2012-01-16")],
            work_programme=[referral("A1", "2013-01-14"), referral("A1", "2014-10-20")],
            payments=[
                paid("attachment_fee", "3200.00", "2012-12-14"),
                paid("progress_to_work", "100.00", "2013-03-01"),
                paid("crime_asb_education", "700.00", "2013-06-28"),
            ],
        ),
        # JSA job of 21 weeks: EMPLOYMENT_TOO_SHORT, earliest 4 May 2015 (all_13: £2,400 now)
        family(
            "EX-043",
            "2014-05-19",
            members=[member("A1", "1985-05-05"), member("C1", "2002-02-02")],
            asb_incidents=[
                asb("C1", "2013-12-12"),
                asb("C1", "2014-02-02"),
                asb("C1", "2014-04-04"),
                asb("C1", "2014-10-10"),
                asb("C1", "2015-01-01"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 27),
                ("2013/14 summer", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-07-08", "2014-11-02")],
            employment_spells=[job("A1", "2014-11-03")],
        ),
        # ESA job reaches 13 weeks on as_of; after progress to work £100, employment tops up £1,500
        family(
            "EX-044",
            "2014-02-17",
            members=[member("A1", "1980-12-12"), member("C1", "2003-03-03")],
            asb_incidents=[
                asb("C1", "2013-10-10"),
                asb("C1", "2014-01-01"),
                asb("C1", "2014-11-11"),
                asb("C1", "2015-02-22"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 spring", "2013/14 autumn", 25),
                ("2013/14 spring", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "ESA", "2012-10-01", "2014-12-29")],
            employment_spells=[job("A1", "2014-12-30")],
            work_programme=[referral("A1", "2014-10-06")],
        ),
        # JSA job reaches 26 weeks on as_of; crime paid in 2014, so employment tops up £100
        family(
            "EX-045",
            "2014-01-06",
            members=[
                member("A1", "1977-07-17"),
                member("A2", "1979-09-29"),
                member("C1", "2001-01-31"),
                member("C2", "2005-05-05"),
            ],
            offences=[offence("C1", "2013-08-08"), offence("C1", "2013-10-10")],
            asb_incidents=[asb("C1", "2013-11-11")],
            school_terms=[
                *school(
                    "C1",
                    ("2012/13 spring", "2013/14 autumn", 30),
                    ("2013/14 spring", "2014/15 spring", 5),
                ),
                *school("C2", ("2012/13 spring", "2014/15 spring", 3)),
            ],
            benefit_spells=[
                benefit("A1", "JSA", "2012-06-04", "2014-09-29"),
                benefit("A2", "IS", "2012-06-04"),
            ],
            employment_spells=[job("A1", "2014-09-30")],
            payments=[
                paid("attachment_fee", "2400.00", "2014-01-31"),
                paid("crime_asb_education", "1500.00", "2014-08-29"),
            ],
        ),
        # Working part-time on IS since before attachment: EMPLOYMENT_STARTED_BEFORE_ATTACHMENT
        family(
            "EX-046",
            "2013-04-22",
            members=[member("A1", "1984-08-28"), member("C1", "2002-12-12")],
            asb_incidents=[asb("C1", "2012-12-12"), asb("C1", "2013-03-03")],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 30),
                ("2012/13 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "IS", "2011-09-05", "2013-06-30")],
            employment_spells=[job("A1", "2012-10-01")],
        ),
        # A one-day gap in work restarts the 26-week count: EMPLOYMENT_TOO_SHORT (all_13: met)
        family(
            "EX-047",
            "2014-03-17",
            members=[member("A1", "1988-04-04"), member("C1", "2004-09-09")],
            asb_incidents=[asb("A1", "2013-11-11"), asb("A1", "2014-02-02")],
            school_terms=school(
                "C1",
                ("2012/13 spring", "2013/14 autumn", 26),
                ("2013/14 spring", "2014/15 spring", 4),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-10-07", "2014-05-05")],
            employment_spells=[job("A1", "2014-05-06", "2014-10-31"), job("A1", "2014-11-02")],
        ),
        # Touching spells (job change, no day off) are one run: employment paid in full £1,600
        family(
            "EX-048",
            "2013-05-13",
            members=[member("A1", "1983-01-01"), member("C1", "2000-02-02")],
            offences=[
                offence("C1", "2013-01-01"),
                offence("C1", "2013-04-04"),
                offence("C1", "2014-11-11"),
                offence("C1", "2015-01-15"),
            ],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 30),
                ("2012/13 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2012-11-12", "2013-06-02")],
            employment_spells=[job("A1", "2013-06-03", "2013-10-31"), job("A1", "2013-11-01")],
        ),
        # The job ended in January 2015 and the adult is back on ESA: NO_CURRENT_EMPLOYMENT
        family(
            "EX-049",
            "2012-05-08",
            members=[member("A1", "1982-03-03"), member("C1", "2001-01-01")],
            asb_incidents=[asb("C1", "2011-12-12"), asb("C1", "2012-03-03")],
            school_terms=school(
                "C1",
                ("2010/11 summer", "2011/12 spring", 30),
                ("2011/12 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[
                benefit("A1", "ESA", "2011-11-11", "2014-04-06"),
                benefit("A1", "ESA", "2015-01-05"),
            ],
            employment_spells=[job("A1", "2014-04-07", "2015-01-02")],
            payments=[
                paid("attachment_fee", "3200.00", "2012-06-01"),
                paid("crime_asb_education", "700.00", "2012-12-14"),
            ],
        ),
        # Two adults on benefit: ESA partner's 13 weeks met, JSA claimant's job too short
        family(
            "EX-050",
            "2014-07-07",
            members=[
                member("A1", "1986-01-01"),
                member("A2", "1987-02-02"),
                member("C1", "2003-03-03"),
                member("C2", "2006-06-06"),
            ],
            asb_incidents=[asb("C1", "2014-01-01"), asb("C1", "2014-05-05")],
            school_terms=[
                *school(
                    "C1",
                    ("2012/13 summer", "2013/14 spring", 28),
                    ("2013/14 summer", "2014/15 spring", 4),
                ),
                *school("C2", ("2012/13 summer", "2014/15 spring", 2)),
            ],
            benefit_spells=[
                benefit("A1", "JSA", "2013-03-03", "2015-01-11"),
                benefit("A2", "ESA", "2013-06-06", "2014-10-05"),
            ],
            employment_spells=[job("A1", "2015-01-12"), job("A2", "2014-10-06")],
        ),
        # Crime/ASB/education paid 2012; employment met now tops up £100 (exclusive: not paid)
        family(
            "EX-051",
            "2012-04-16",
            members=[member("A1", "1980-06-06"), member("C1", "1999-05-05")],
            asb_incidents=[asb("C1", "2011-11-11"), asb("C1", "2012-02-02")],
            school_terms=school(
                "C1",
                ("2010/11 summer", "2011/12 spring", 30),
                ("2011/12 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2011-04-04", "2014-06-01")],
            employment_spells=[job("A1", "2014-06-02")],
            payments=[
                paid("attachment_fee", "3200.00", "2012-05-11"),
                paid("crime_asb_education", "700.00", "2012-11-30"),
            ],
        ),
        # Cap reached by fee £3,200 + employment £800: crime and progress to work pay nothing
        family(
            "EX-052",
            "2012-06-25",
            members=[
                member("A1", "1985-09-09"),
                member("A2", "1984-04-04"),
                member("C1", "2000-09-09"),
            ],
            asb_incidents=[asb("C1", "2012-01-20"), asb("C1", "2012-04-04")],
            school_terms=school(
                "C1",
                ("2010/11 summer", "2011/12 spring", 30),
                ("2011/12 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[
                benefit("A1", "ESA", "2011-02-02", "2013-01-06"),
                benefit("A2", "JSA", "2012-01-01"),
            ],
            employment_spells=[job("A1", "2013-01-07")],
            work_programme=[referral("A2", "2014-11-24")],
            payments=[
                paid("attachment_fee", "3200.00", "2012-07-16"),
                paid("continuous_employment", "800.00", "2013-04-19"),
            ],
        ),
        # Fully claimed: crime/ASB/education £700 and employment top-up £100 paid, £4,000 in all
        family(
            "EX-053",
            "2012-09-24",
            members=[member("A1", "1978-03-08"), member("C1", "2001-06-06")],
            offences=[offence("C1", "2012-04-04"), offence("C1", "2012-07-07")],
            school_terms=school(
                "C1",
                ("2011/12 autumn", "2011/12 summer", 30),
                ("2012/13 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2011-10-10", "2013-07-07")],
            employment_spells=[job("A1", "2013-07-08")],
            payments=[
                paid("attachment_fee", "3200.00", "2012-10-19"),
                paid("crime_asb_education", "700.00", "2013-04-26"),
                paid("continuous_employment", "100.00", "2014-01-24"),
            ],
        ),
        # A payment dated after as_of is ignored; an attachment fee with no paid_on counts
        family(
            "EX-054",
            "2014-04-14",
            members=[member("A1", "1983-10-10"), member("C1", "2002-10-02")],
            offences=[offence("C1", "2013-11-11"), offence("C1", "2014-02-02")],
            asb_incidents=[asb("C1", "2014-01-01")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 30),
                ("2013/14 summer", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2013-06-17")],
            payments=[
                paid("attachment_fee", "1600.00", None),
                paid("crime_asb_education", "2300.00", "2015-04-20"),
            ],
        ),
        # Progress to work paid 2014; crime/ASB/education met now for the full £2,300
        family(
            "EX-055",
            "2014-05-27",
            members=[member("A1", "1992-12-12"), member("C1", "2008-01-01")],
            asb_incidents=[asb("A1", "2013-12-20"), asb("A1", "2014-04-20")],
            school_terms=school(
                "C1",
                ("2012/13 summer", "2013/14 spring", 30),
                ("2013/14 summer", "2014/15 spring", 3),
            ),
            benefit_spells=[benefit("A1", "JSA", "2014-01-13")],
            work_programme=[referral("A1", "2014-07-14")],
            payments=[
                paid("attachment_fee", "1600.00", "2014-06-20"),
                paid("progress_to_work", "100.00", "2014-08-15"),
            ],
        ),
        # Continuous employment paid £1,600 in 2014; ASB 2 -> 2, so crime/ASB/education not met
        family(
            "EX-056",
            "2013-08-05",
            members=[member("A1", "1981-11-11"), member("C1", "2003-03-30")],
            asb_incidents=[
                asb("C1", "2013-03-03"),
                asb("C1", "2013-06-06"),
                asb("C1", "2014-10-30"),
                asb("C1", "2015-03-03"),
            ],
            school_terms=school(
                "C1",
                ("2012/13 autumn", "2012/13 summer", 30),
                ("2013/14 autumn", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "ESA", "2012-03-03", "2013-10-13")],
            employment_spells=[job("A1", "2013-10-14")],
            payments=[
                paid("attachment_fee", "2400.00", "2013-08-30"),
                paid("continuous_employment", "1600.00", "2014-02-14"),
            ],
        ),
        # A child who turned 5 in Aug 2014 needs rows only from autumn 2014
        family(
            "EX-057",
            "2013-11-04",
            members=[
                member("A1", "1985-01-15"),
                member("C1", "2002-05-05"),
                member("C2", "2009-08-15"),
            ],
            asb_incidents=[asb("C1", "2013-06-06"), asb("C1", "2013-09-09")],
            school_terms=[
                *school(
                    "C1",
                    ("2012/13 autumn", "2012/13 summer", 30),
                    ("2013/14 autumn", "2014/15 spring", 5),
                ),
                *school("C2", ("2014/15 autumn", "2014/15 spring", 2)),
            ],
            benefit_spells=[benefit("A1", "IS", "2012-11-11")],
        ),
        # A 16-year-old who left school in summer 2014 needs only that term's row; ESF referral
        family(
            "EX-058",
            "2013-06-17",
            members=[member("A1", "1971-07-07"), member("C1", "1998-07-10")],
            offences=[offence("C1", "2013-02-02"), offence("C1", "2013-05-05")],
            school_terms=school(
                "C1",
                ("2011/12 summer", "2012/13 spring", 30),
                ("2012/13 summer", "2013/14 summer", 8),
            ),
            benefit_spells=[benefit("A1", "ESA", "2010-10-10")],
            work_programme=[referral("A1", "2015-02-16", "esf")],
        ),
        # Every result met at once (2014/15): £2,300 + £100 fill the share, employment tops up £0
        family(
            "EX-059",
            "2014-04-07",
            local_authority="Sampleton",
            members=[
                member("A1", "1980-08-08"),
                member("A2", "1982-02-28"),
                member("C1", "2000-12-12"),
                member("C2", "2003-06-06"),
                member("C3", "2007-09-09"),
            ],
            offences=[offence("C1", "2013-12-01"), offence("C1", "2014-03-03")],
            asb_incidents=[
                asb(None, "2013-08-08", "housing_asb_action"),
                asb("C1", "2014-02-02"),
            ],
            school_terms=[
                *school(
                    "C1",
                    ("2012/13 summer", "2013/14 spring", 30),
                    ("2013/14 summer", "2014/15 spring", 5),
                ),
                *school("C2", ("2012/13 summer", "2014/15 spring", 3)),
                *school("C3", ("2012/13 summer", "2014/15 spring", 4)),
            ],
            benefit_spells=[
                benefit("A1", "JSA", "2013-02-04", "2014-07-06"),
                benefit("A2", "ESA", "2012-01-01"),
            ],
            employment_spells=[job("A1", "2014-07-07")],
            work_programme=[referral("A2", "2014-11-17")],
        ),
        # identified_for omits work the evidence shows, no discretion: not eligible, with a warning
        family(
            "EX-060",
            "2013-01-28",
            identified_for=["crime_asb", "education"],
            members=[member("A1", "1981-05-05"), member("C1", "2001-09-09")],
            asb_incidents=[asb("C1", "2012-09-09"), asb("C1", "2012-12-12")],
            school_terms=school(
                "C1",
                ("2011/12 spring", "2012/13 autumn", 30),
                ("2012/13 spring", "2014/15 spring", 5),
            ),
            benefit_spells=[benefit("A1", "JSA", "2012-03-05")],
        ),
    ]


# --- Output ---------------------------------------------------------------------------------


def render(families: Sequence[Record]) -> str:
    """Validate every record with `pbr.Family` and return the JSON Lines text (compact, one a line).

    Raises:
        pydantic.ValidationError: a record is not valid.
        ValueError: two records share a family_id.

    """
    seen: set[str] = set()
    lines: list[str] = []
    for record in families:
        Family.model_validate(record)
        if record["family_id"] in seen:
            raise ValueError(f"duplicate family_id {record['family_id']!r}")
        seen.add(record["family_id"])
        lines.append(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
    return "".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Write ``examples/families.jsonl`` (``--help`` says so and writes nothing)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python scripts/make_examples.py",
        description="Write the bundled example families, built by hand to show the phase-one "
        f"rules at {AS_OF:%d %B %Y}, to examples/families.jsonl (the same bytes every run; "
        "tests/test_examples.py checks the committed file is what this builds).",
    )
    parser.parse_args(argv)
    families = build_families()
    OUTPUT.write_text(render(families), encoding="utf-8")
    print(f"wrote {len(families)} families to {OUTPUT}")


if __name__ == "__main__":
    main()
