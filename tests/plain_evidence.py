"""The plain form of phase one's evidence: every fact arranged up front (the tests' oracle).

The rules once read a family through `Evidence` (and `evidence`, which kept the last family's);
they now read only what their windows need (`pbr.programmes.phase_one._evidence.children`).
This copy of the plain form stays here so that tests/test_fast_identification.py,
tests/test_fast_limbs.py and tests/test_fast_paths.py can hold the fast forms equal to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from weakref import ref

from pbr.periods import SchoolTerm, add_years, compulsory_school_age_bounds
from pbr.records import Family, SchoolTermRecord

Child = tuple[str, list[SchoolTermRecord], bool]
"""A child assessed over some terms: its person_id, its rows in those terms (in term order) and
whether it is of compulsory school age in any of them."""


@dataclass(slots=True)
class Evidence:
    """One family's facts arranged for the rules: members in person_id order, term rows by child."""

    members: tuple[tuple[str, date, date], ...]
    """(person_id, and the bounds of compulsory school age), in person_id order."""
    born: dict[str, date]
    """Each member's date of birth."""
    term_rows: dict[str, dict[tuple[str, str], list[SchoolTermRecord]]]
    """Each child's school-term rows keyed by (academic_year, term), in the record's order."""
    _school_age: dict[str, tuple[date, date]]
    _adult_from: dict[int, dict[str, date]] = field(default_factory=dict)

    @classmethod
    def of(cls, family: Family) -> Evidence:
        """Arrange `family`'s facts (no rule is applied here)."""
        term_rows: dict[str, dict[tuple[str, str], list[SchoolTermRecord]]] = {}
        for row in family.school_terms:
            key = (row.academic_year, row.term)
            by_term = term_rows.get(row.person_id)
            if by_term is None:
                term_rows[row.person_id] = {key: [row]}
            elif key not in by_term:
                by_term[key] = [row]
            else:  # a second row for the term: refused on input, kept here all the same
                by_term[key].append(row)
        born = {m.person_id: m.date_of_birth for m in family.members}
        school_age = {person_id: compulsory_school_age_bounds(b) for person_id, b in born.items()}
        members = tuple(
            (m.person_id, *school_age[m.person_id]) for m in sorted(family.members, key=_person_id)
        )
        return cls(members, born, term_rows, school_age)

    def adult_from(self, adult: int) -> dict[str, date]:
        """The day each member turns `adult` (29 February birthdays fall on 28 February).

        ``age_on(born, day) < adult`` exactly when ``day < adult_from(adult)[person]``: one
        date comparison per fact instead of an age calculation.
        """
        found = self._adult_from.get(adult)
        if found is None:
            found = self._adult_from[adult] = {
                person_id: add_years(born, adult) for person_id, born in self.born.items()
            }
        return found

    def school_age(self, person_id: str) -> tuple[date, date]:
        """A member's bounds of compulsory school age (`compulsory_school_age_bounds`)."""
        return self._school_age[person_id]

    def children_in(self, terms: tuple[SchoolTerm, ...], adult: int) -> list[Child]:
        """The children assessed over `terms`, in person_id order.

        A child has rows in `terms` (while under `adult` at the term's start) or is of
        compulsory school age in any of them. The same as scanning every row for the window's
        terms and sorting them by term (a property test checks it), on rows grouped once.
        """
        adult_from = self.adult_from(adult)
        windows = [((t.academic_year, t.name), t.start) for t in terms]
        children: list[Child] = []
        for person_id, after, until in self.members:
            rows: list[SchoolTermRecord] = []
            by_term = self.term_rows.get(person_id)
            if by_term is not None:
                grown = adult_from[person_id]
                for key, start in windows:
                    found = by_term.get(key)
                    if found is not None and start < grown:
                        rows.extend(found)
            csa = False
            for _, start in windows:
                if after < start <= until:
                    csa = True
                    break
            if csa or rows:
                children.append((person_id, rows, csa))
        return children


_last: tuple[ref[Family], Evidence] | None = None
"""The last family arranged (held weakly: the cache keeps no family alive) and its evidence."""


def evidence(family: Family) -> Evidence:
    """`family`'s evidence, arranged once however many rules ask for it in a row."""
    global _last
    last = _last
    if last is not None and last[0]() is family:
        return last[1]
    arranged = Evidence.of(family)
    _last = (ref(family, _forget), arranged)
    return arranged


def _forget(gone: ref[Family]) -> None:
    """Let go of a family's evidence when the family is freed."""
    global _last
    last = _last
    if last is not None and last[0] is gone:
        _last = None


_person_id = attrgetter("person_id")
