"""A family's evidence as phase one's rules read it: each child's school-term rows in some terms.

`children` reads only the rows in the terms assessed, looked up in a `TermWindow` worked out once
per window (the results' terms depend on the as-of day alone). `Evidence` is the plain form it
replaced, every fact arranged up front: tests/test_fast_limbs.py checks both find the same
children.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter, itemgetter
from weakref import ref

from pbr.periods import (
    SchoolTerm,
    add_years,
    compulsory_school_age_bounds,
    school_age_born_from,
)
from pbr.records import Family, SchoolTermRecord

__all__ = [
    "Child",
    "Evidence",
    "Tally",
    "TermWindow",
    "children",
    "evidence",
    "tally",
    "term_window",
]

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


@dataclass(frozen=True, slots=True)
class TermWindow:
    """Some complete terms, keyed for one pass over a family's rows (built once per window)."""

    terms: tuple[SchoolTerm, ...]
    """The terms, oldest first."""
    position: dict[str, dict[str, int]]
    """Each term's place in `terms`, by academic year, then term name."""
    starts: tuple[date, ...]
    """The terms' first days, oldest term first."""
    school_born_from: date
    """A member born before it is of compulsory school age in none of the terms."""


def term_window(terms: tuple[SchoolTerm, ...]) -> TermWindow:
    """`terms` keyed for `children` (at least one term)."""
    position: dict[str, dict[str, int]] = {}
    for i, term in enumerate(terms):
        position.setdefault(term.academic_year, {})[term.name] = i
    starts = tuple(t.start for t in terms)
    return TermWindow(terms, position, starts, school_age_born_from(min(starts)))


def children(family: Family, window: TermWindow, adult: int) -> list[Child]:
    """The children assessed over the window's terms, in person_id order.

    ``Evidence.of(family).children_in(window.terms, adult)``, reading only the rows in the
    window: a child has rows in its terms (while under `adult` at the term's start) or is of
    compulsory school age in any of them; its rows in term order, then the record's.
    """
    position = window.position
    starts = window.starts
    born: dict[str, date] | None = None
    found: dict[str, list[SchoolTermRecord]] = {}
    latest: dict[str, int] = {}  # each child's latest term so far: rows usually come in order
    in_order = True
    for row in family.school_terms:
        in_year = position.get(row.academic_year)
        if in_year is None:
            continue
        at = in_year.get(row.term)
        if at is None:
            continue
        if born is None:  # most families have no row in the window: no lookup built for them
            born = {m.person_id: m.date_of_birth for m in family.members}
        person_id = row.person_id
        born_on = born[person_id]
        start = starts[at]
        # an adult at the term's start: only possible from the year of the birthday
        if born_on.year + adult <= start.year and start >= add_years(born_on, adult):
            continue
        rows = found.get(person_id)
        if rows is None:
            found[person_id] = [row]
            latest[person_id] = at
        else:
            rows.append(row)
            if at < latest[person_id]:
                in_order = False
            else:
                latest[person_id] = at
    if not in_order:  # stable: a term's rows keep the record's order
        for rows in found.values():
            rows.sort(key=lambda row: position[row.academic_year][row.term])
    assessed: list[Child] = []
    school_born_from = window.school_born_from
    for member in family.members:
        person_id = member.person_id
        born_on = member.date_of_birth
        # Of compulsory school age in a term: it starts after the fifth birthday and by the end
        # of the school year of the sixteenth. One comparison first rules out the adults.
        csa = False
        if born_on >= school_born_from:
            after, until = compulsory_school_age_bounds(born_on)
            for start in starts:
                if after < start <= until:
                    csa = True
                    break
        rows = found.get(person_id)
        if rows is not None:
            assessed.append((person_id, rows, csa))
        elif csa:
            assessed.append((person_id, [], csa))
    if len(assessed) > 1:
        assessed.sort(key=_child_id)
    return assessed


_child_id = itemgetter(0)
_person_id = attrgetter("person_id")


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


Tally = tuple[int, int, int, bool, bool, bool]
"""A child's term rows summed: possible sessions, unauthorised absences, fixed-term exclusions,
and whether any row is a permanent exclusion, alternative provision or off roll."""


def tally(rows: Iterable[SchoolTermRecord]) -> Tally:
    """Sum `rows` in one pass (identification and the education limb both need every total)."""
    possible = unauthorised = fixed = 0
    permanent = alternative = off_roll = False
    for row in rows:
        possible += row.possible_sessions
        unauthorised += row.unauthorised_absences
        fixed += row.fixed_term_exclusions
        permanent |= row.permanently_excluded
        alternative |= row.alternative_provision
        off_roll |= not row.on_roll
    return possible, unauthorised, fixed, permanent, alternative, off_roll
