"""A family's evidence as phase one's rules read it: each child's school-term rows in some terms.

`children` reads only the rows in the terms assessed, looked up in a `TermWindow` worked out once
per window (the results' terms depend on the as-of day alone), so a family's facts outside the
window are never arranged. `Evidence` (and `evidence`, which kept the last family's) is the plain
form it replaced, every fact arranged up front: no rule runs it now; the tests check the fast
forms against it (tests/test_fast_limbs.py, tests/test_fast_paths.py).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
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
    "ChildInWindow",
    "Evidence",
    "Tally",
    "TermWindow",
    "children",
    "evidence",
    "school_age_terms",
    "tally",
    "term_window",
]

Child = tuple[str, list[SchoolTermRecord], bool]
"""A child assessed over some terms: its person_id, its rows in those terms (in term order) and
whether it is of compulsory school age in any of them."""

ChildInWindow = tuple[str, list[SchoolTermRecord], Sequence[int]]
"""A child assessed over a window's terms: its person_id, its rows in them (in term order) and
the places (in the window) of the terms in which it is of compulsory school age."""


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
    in_order: bool
    """Whether the first days rise term by term (a council's calendar may say otherwise)."""


def term_window(terms: tuple[SchoolTerm, ...]) -> TermWindow:
    """`terms` keyed for `children` (at least one term)."""
    position: dict[str, dict[str, int]] = {}
    for i, term in enumerate(terms):
        position.setdefault(term.academic_year, {})[term.name] = i
    starts = tuple(t.start for t in terms)
    return TermWindow(
        terms,
        position,
        starts,
        school_age_born_from(min(starts)),
        list(starts) == sorted(starts),
    )


def school_age_terms(window: TermWindow, born: date) -> Sequence[int]:
    """The places of the window's terms in which a member born on `born` is of school age.

    Of compulsory school age in a term: it starts after the fifth birthday and by the end of the
    school year of the sixteenth (`compulsory_school_age_bounds`).
    """
    if born < window.school_born_from:  # one comparison rules out the adults
        return ()
    after, until = compulsory_school_age_bounds(born)
    starts = window.starts
    if window.in_order:  # the terms starting in (after, until]: a run found by bisection
        return range(bisect_right(starts, after), bisect_right(starts, until))
    return tuple(i for i, start in enumerate(starts) if after < start <= until)


def children(family: Family, window: TermWindow, adult: int) -> list[ChildInWindow]:
    """The children assessed over the window's terms, in person_id order.

    ``Evidence.of(family).children_in(window.terms, adult)``, reading only the rows in the
    window: a child has rows in its terms (while under `adult` at the term's start) or is of
    compulsory school age in any of them; its rows in term order, then the record's. Where that
    says whether the child is of school age in any term, this says in which.
    """
    position = window.position
    found: dict[str, list[tuple[int, SchoolTermRecord]]] = {}
    for row in family.school_terms:  # one pass, keeping each person's rows in the window
        in_year = position.get(row.academic_year)
        if in_year is None:
            continue
        at = in_year.get(row.term)
        if at is None:
            continue
        pairs = found.get(row.person_id)
        if pairs is None:
            found[row.person_id] = [(at, row)]
        else:
            pairs.append((at, row))
    assessed: list[ChildInWindow] = []
    for member in family.members:
        person_id = member.person_id
        born_on = member.date_of_birth
        school_age = school_age_terms(window, born_on)
        pairs = found.get(person_id)
        if pairs is not None:
            rows = _under_age(pairs, window, born_on, adult)
            if rows or school_age:
                assessed.append((person_id, rows, school_age))
        elif school_age:
            assessed.append((person_id, [], school_age))
    assessed.sort(key=_child_id)
    return assessed


def _under_age(
    pairs: list[tuple[int, SchoolTermRecord]], window: TermWindow, born: date, adult: int
) -> list[SchoolTermRecord]:
    """A member's rows (with their terms' places) in the terms it starts under `adult`.

    In term order, then the record's.
    """
    pairs.sort(key=_term_place)  # stable: a term's rows keep the record's order
    grown = add_years(born, adult)
    starts = window.starts
    return [row for at, row in pairs if starts[at] < grown]


_term_place = itemgetter(0)
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
