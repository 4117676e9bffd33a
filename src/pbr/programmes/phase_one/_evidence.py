"""A family's evidence as phase one's rules read it: each child's school-term rows in some terms.

`children` reads only the rows in the terms assessed, looked up in a `TermWindow` worked out once
per window (the results' terms depend on the as-of day alone), so a family's facts outside the
window are never arranged. The plain form it replaced, every fact arranged up front, is kept in
the tests as their oracle (tests/plain_evidence.py).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import TYPE_CHECKING

from pbr._dates import add_years, compulsory_school_age_bounds
from pbr.periods import SchoolTerm, school_age_born_from

if TYPE_CHECKING:
    from pbr.records import Family, SchoolTermRecord

__all__ = [
    "ChildInWindow",
    "Tally",
    "TermWindow",
    "children",
    "flagged_terms",
    "school_age_terms",
    "tally",
    "term_window",
]

ChildInWindow = tuple[str, list["SchoolTermRecord"], Sequence[int]]
"""A child assessed over a window's terms: its person_id, its rows in them (in term order) and
the places (in the window) of the terms in which it is of compulsory school age."""


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


Tally = tuple[int, int, int, bool, bool, bool]
"""A child's term rows summed: possible sessions, unauthorised absences, fixed-term exclusions,
and whether any row is a permanent exclusion, alternative provision or off roll."""


def _not_summed(rows: object) -> Tally | None:
    """Stands in for the C sum where pbr was installed without a C compiler: sums nothing."""
    return None


_summed: Callable[[object], Tally | None] = _not_summed
"""Compiled rows summed in C, reading their slots (`pbr._facts.tally`); None: sum them here."""
try:
    from pbr import _facts
except ImportError:  # pragma: no cover - built without a C compiler
    pass
else:
    _summed = _facts.tally


def tally(rows: Iterable[SchoolTermRecord]) -> Tally:
    """Sum `rows` in one pass (identification and the education limb both need every total)."""
    summed = _summed(rows)
    if summed is not None:
        return summed
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


def flagged_terms(rows: list[SchoolTermRecord]) -> tuple[str, str, str]:
    """The terms (labels, oldest first) of a child's rows with each flag set.

    Permanently excluded, in alternative provision, and not on a school roll: each empty when
    no row sets it.
    """
    excluded: set[tuple[str, str]] = set()
    provision: set[tuple[str, str]] = set()
    off_roll: set[tuple[str, str]] = set()
    for row in rows:  # in the record's order: sorted below
        term = (row.academic_year, row.term)
        if row.permanently_excluded:
            excluded.add(term)
        if row.alternative_provision:
            provision.add(term)
        if not row.on_roll:
            off_roll.add(term)
    return _labels(excluded), _labels(provision), _labels(off_roll)


def _labels(terms: set[tuple[str, str]]) -> str:
    """Terms' labels, oldest first: ``2011/12`` before ``2012/13``, autumn, spring, summer."""
    return ", ".join(f"{year} {name}" for year, name in sorted(terms))
