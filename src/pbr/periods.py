"""Financial years, calendar-month windows, school terms and ages.

Every period here is exact calendar arithmetic with `dateutil.relativedelta`'s semantics, never a
count of days standing in for a month: 31 August minus six months is 28 or 29 February.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from pbr import _dates
from pbr._frozen import read_only

__all__ = [
    "AS_OF_EARLIEST",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "TERMS",
    "FinancialYear",
    "SchoolTerm",
    "TermCalendar",
    "TermName",
    "academic_year_of",
    "add_months",
    "add_years",
    "age_on",
    "check_as_of",
    "compulsory_school_age_bounds",
    "compulsory_school_age_in",
    "compulsory_school_age_in_any",
    "default_term",
    "financial_year_of",
    "parse_academic_year",
    "school_age_born_from",
]

EARLIEST_DATE = date(1900, 1, 1)
"""The earliest date a record may hold (a date of birth in 1900 is the oldest plausible)."""
LATEST_DATE = date(2099, 12, 31)
"""The latest date a record or an evaluation may use; rule arithmetic stays far from overflow."""
AS_OF_EARLIEST = date(2012, 4, 1)
"""The earliest evaluation date: the first day of the first programme (phase one)."""


def check_as_of(as_of: object) -> date:
    """Return `as_of` if it is an evaluation date pbr can use; raise a clear error otherwise.

    It must be a `datetime.date` (not a `datetime`, not text) from `AS_OF_EARLIEST` (1 April
    2012, when the first programme began) to `LATEST_DATE`.

    >>> check_as_of(date(2015, 3, 31))
    datetime.date(2015, 3, 31)
    >>> check_as_of("2015-03-31")
    Traceback (most recent call last):
    ...
    TypeError: as_of must be a datetime.date, got str '2015-03-31'; use date.fromisoformat('2015-03-31')
    >>> check_as_of(date(2200, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: as_of must be from 2012-04-01 to 2099-12-31, got 2200-01-01
    """
    if type(as_of) is not date:
        hint = f"; use date.fromisoformat({as_of!r})" if isinstance(as_of, str) else ""
        if hasattr(as_of, "date") and isinstance(as_of, date):
            hint = "; use its .date()"
        raise TypeError(
            f"as_of must be a datetime.date, got {type(as_of).__name__} {as_of!r}"[:120] + hint
        )
    if not AS_OF_EARLIEST <= as_of <= LATEST_DATE:
        raise ValueError(f"as_of must be from {AS_OF_EARLIEST} to {LATEST_DATE}, got {as_of}")
    return as_of


TermName = Literal["autumn", "spring", "summer"]
TERMS: tuple[TermName, ...] = ("autumn", "spring", "summer")


@lru_cache(maxsize=1 << 12)
def add_months(day: date, months: int) -> date:
    """Return `day` moved by whole calendar months, clamped to the month's end.

    The same as ``day + dateutil.relativedelta(months=months)`` (a property test checks it),
    written out because it runs for every window of every family.

    >>> add_months(date(2013, 8, 31), -6)
    datetime.date(2013, 2, 28)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if day.day <= 28:  # every month has the day
        return date(year, month, day.day)
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """Return `day` moved by whole years; 29 February becomes 28 February in a common year.

    >>> add_years(date(2012, 2, 29), 1)
    datetime.date(2013, 2, 28)
    """
    return _dates.add_years(day, years)


def age_on(date_of_birth: date, day: date) -> int:
    """Return the age in whole years on `day` (a 29 February birthday falls on 28 February).

    The same as ``relativedelta(day, date_of_birth).years`` for `day` on or after the birth.

    >>> age_on(date(2001, 7, 30), date(2017, 7, 29)), age_on(date(2001, 7, 30), date(2017, 7, 30))
    (15, 16)
    """
    return _dates.age_on(date_of_birth, day)


@dataclass(frozen=True, order=True, slots=True)
class FinancialYear:
    """An English public-sector financial year, 1 April to 31 March, written ``2012/13``.

    >>> year = FinancialYear.parse("2012/13")
    >>> year.start, year.end, str(year)
    (datetime.date(2012, 4, 1), datetime.date(2013, 3, 31), '2012/13')
    """

    start_year: int

    def __post_init__(self) -> None:
        if type(self.start_year) is not int:  # bool too: True is not a year
            hint = (
                "; read '2013/14' with FinancialYear.parse"
                if isinstance(self.start_year, str)
                else ""
            )
            raise TypeError(
                f"a financial year's start_year is a whole year like 2013, got "
                f"{type(self.start_year).__name__} {self.start_year!r}{hint}"
            )

    @classmethod
    def parse(cls, text: str) -> FinancialYear:
        """Read ``"2012/13"``; the second part must be the next year.

        >>> FinancialYear.parse("2014/15").start_year
        2014
        >>> FinancialYear.parse("2014/16")
        Traceback (most recent call last):
        ...
        ValueError: financial year '2014/16': 16 does not follow 2014
        """
        head, _, tail = text.partition("/")
        if not (head.isdigit() and tail.isdigit() and len(head) == 4 and len(tail) == 2):
            raise ValueError(f"financial year must look like '2012/13', got {text!r}")
        year = int(head)
        if (year + 1) % 100 != int(tail):
            raise ValueError(f"financial year {text!r}: {tail} does not follow {head}")
        return cls(year)

    @property
    def start(self) -> date:
        """1 April of the start year.

        >>> FinancialYear(2013).start
        datetime.date(2013, 4, 1)
        """
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        """31 March of the following year.

        >>> FinancialYear(2013).end
        datetime.date(2014, 3, 31)
        """
        return date(self.start_year + 1, 3, 31)

    def __str__(self) -> str:
        return _year_text(self.start_year)


@lru_cache(maxsize=256)
def _year_text(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


@lru_cache(maxsize=1 << 12)  # the rules ask for a few days' years, again and again
def financial_year_of(day: date) -> FinancialYear:
    """Return the financial year containing `day` (31 March 2013 is 2012/13; 1 April is 2013/14).

    >>> str(financial_year_of(date(2013, 3, 31))), str(financial_year_of(date(2013, 4, 1)))
    ('2012/13', '2013/14')
    """
    return FinancialYear(day.year if day.month >= 4 else day.year - 1)


def academic_year_of(day: date) -> str:
    """Return the school year (September to August) containing `day`, as ``"2012/13"``.

    >>> academic_year_of(date(2013, 8, 31)), academic_year_of(date(2013, 9, 1))
    ('2012/13', '2013/14')
    """
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def parse_academic_year(text: str) -> int:
    """Return the first calendar year of an academic year written ``"2012/13"``.

    >>> parse_academic_year("2012/13")
    2012
    """
    return FinancialYear.parse(text).start_year


@dataclass(frozen=True, order=True, slots=True)
class SchoolTerm:
    """One school term: its academic year, its name and its first and last days.

    >>> term = TermCalendar().term("2012/13", "spring")
    >>> term.start, term.end, term.label
    (datetime.date(2013, 1, 1), datetime.date(2013, 3, 31), '2012/13 spring')
    """

    start: date
    end: date
    academic_year: str
    name: TermName

    @property
    def label(self) -> str:
        """The academic year and the term's name, for people.

        >>> default_term("2012/13", "autumn").label
        '2012/13 autumn'
        """
        return f"{self.academic_year} {self.name}"


_DEFAULT_BOUNDS: Mapping[TermName, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    # (year offset, month, day) of the first and last day, from the academic year's start year.
    "autumn": ((0, 9, 1), (0, 12, 31)),
    "spring": ((1, 1, 1), (1, 3, 31)),
    "summer": ((1, 4, 1), (1, 7, 31)),
}


@dataclass(frozen=True, slots=True)
class TermCalendar:
    """School term dates: the spec's default calendar, optionally overridden per term.

    The default (phase1-spec §1) is autumn 1 Sep – 31 Dec, spring 1 Jan – 31 Mar and summer
    1 Apr – 31 Jul. A council may supply its own dates for any term in `overrides`, keyed by
    ``("2012/13", "autumn")``, and give the calendar a `name`. A calendar overriding some term
    is not the default one: every reason whose evidence depends on the dates of a term it
    overrides then names it (`named`), in its numbers (``compared["term_calendar"]``) and its
    message; a reason reading only terms it leaves at the default dates does not.

    >>> from datetime import date
    >>> [t.label for t in TermCalendar().complete_terms(date(2013, 4, 1), 2)]
    ['2012/13 autumn', '2012/13 spring']
    >>> own = TermCalendar({("2012/13", "spring"): (date(2013, 1, 7), date(2013, 3, 28))})
    >>> own.term("2012/13", "spring").end
    datetime.date(2013, 3, 28)
    """

    overrides: Mapping[tuple[str, TermName], tuple[date, date]] = field(default_factory=dict)
    """Read-only (a copy of the mapping given): a rule set's hash counts the dates it held."""
    name: str = "default"

    @property
    def named(self) -> str | None:
        """What decisions call this calendar: None for the default (no term overridden).

        A calendar overriding terms but left named ``default`` is called ``own``, so that no
        decision calls a council's dates the default ones.

        >>> TermCalendar(name="council").named is None  # no term overridden: the default dates
        True
        >>> own = {("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))}
        >>> TermCalendar(own, name="council").named, TermCalendar(own).named
        ('council', 'own')
        """
        if not self.overrides:
            return None
        return "own" if self.name == "default" else self.name

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", read_only(self.overrides))

    def overrides_any(self, terms: Iterable[SchoolTerm]) -> bool:
        """Whether this calendar gives its own dates to any of `terms`.

        >>> own = TermCalendar({("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))})
        >>> own.overrides_any(TermCalendar().complete_terms(date(2013, 7, 31), 3))
        True
        >>> own.overrides_any(TermCalendar().complete_terms(date(2014, 7, 31), 3))
        False
        """
        overrides = self.overrides
        return bool(overrides) and any((t.academic_year, t.name) in overrides for t in terms)

    def term(self, academic_year: str, name: TermName) -> SchoolTerm:
        """Return the dated term of `academic_year` called `name`.

        >>> TermCalendar().term("2013/14", "autumn")  # doctest: +NORMALIZE_WHITESPACE
        SchoolTerm(start=datetime.date(2013, 9, 1), end=datetime.date(2013, 12, 31),
                   academic_year='2013/14', name='autumn')
        """
        override = self.overrides.get((academic_year, name))
        if override is not None:
            return SchoolTerm(override[0], override[1], academic_year, name)
        return default_term(academic_year, name)

    def _terms_from(self, year: int) -> Iterable[SchoolTerm]:
        while True:
            academic_year = f"{year}/{(year + 1) % 100:02d}"
            for name in reversed(TERMS):
                yield self.term(academic_year, name)
            year -= 1

    def complete_terms(
        self, day: date, count: int, *, strictly_before: bool = False
    ) -> tuple[SchoolTerm, ...]:
        """Return the `count` latest terms complete at `day`, oldest first.

        A term is complete when its last day is on or before `day` (strictly before it with
        `strictly_before`, as identification at attachment requires).

        >>> calendar = TermCalendar()
        >>> [t.label for t in calendar.complete_terms(date(2013, 7, 31), 3)]
        ['2012/13 autumn', '2012/13 spring', '2012/13 summer']
        >>> [t.label for t in calendar.complete_terms(date(2013, 7, 31), 1, strictly_before=True)]
        ['2012/13 spring']
        """
        if not self.overrides:
            return _default_complete_terms(day, count, strictly_before)
        return _complete_terms(self, day, count, strictly_before)


def _complete_terms(
    calendar: TermCalendar, day: date, count: int, strictly_before: bool
) -> tuple[SchoolTerm, ...]:
    found: list[SchoolTerm] = []
    for term in calendar._terms_from(day.year):
        if term.end < day or (term.end == day and not strictly_before):
            found.append(term)
            if len(found) == count:
                break
    return tuple(reversed(found))


@lru_cache(maxsize=4096)
def _default_complete_terms(day: date, count: int, strictly_before: bool) -> tuple[SchoolTerm, ...]:
    return _complete_terms(TermCalendar(), day, count, strictly_before)


@lru_cache(maxsize=1024)
def default_term(academic_year: str, name: TermName) -> SchoolTerm:
    """Return a term of the default calendar (autumn 1 Sep-31 Dec, spring, summer to 31 Jul).

    >>> default_term("2013/14", "summer").end
    datetime.date(2014, 7, 31)
    """
    year = parse_academic_year(academic_year)
    (sy, sm, sd), (ey, em, ed) = _DEFAULT_BOUNDS[name]
    return SchoolTerm(date(year + sy, sm, sd), date(year + ey, em, ed), academic_year, name)


def compulsory_school_age_in(date_of_birth: date, term: SchoolTerm) -> bool:
    """Whether a child is of compulsory school age in `term` (Education Act 1996 s.8).

    From the first term that starts after the fifth birthday to the end of the school year
    (September to August) in which the child turns 16 (phase1-spec §7.2).

    >>> born = date(2001, 7, 30)  # sixteen on 30 July 2017
    >>> compulsory_school_age_in(born, default_term("2016/17", "summer"))
    True
    >>> compulsory_school_age_in(born, default_term("2017/18", "autumn"))
    False
    """
    after, until = compulsory_school_age_bounds(date_of_birth)
    return after < term.start <= until


def compulsory_school_age_in_any(date_of_birth: date, terms: Iterable[SchoolTerm]) -> bool:
    """Whether a child is of compulsory school age in any of `terms` (one lookup for them all).

    >>> born = date(2001, 7, 30)
    >>> compulsory_school_age_in_any(born, [default_term("2017/18", "autumn")])
    False
    """
    after, until = compulsory_school_age_bounds(date_of_birth)
    return any(after < term.start <= until for term in terms)


def compulsory_school_age_bounds(date_of_birth: date) -> tuple[date, date]:
    """The fifth birthday and the last day of the school year in which the child turns 16.

    A term is of compulsory school age when it starts after the first and on or before the
    second (`compulsory_school_age_in`).

    >>> compulsory_school_age_bounds(date(2001, 7, 30))
    (datetime.date(2006, 7, 30), datetime.date(2017, 8, 31))
    >>> compulsory_school_age_bounds(date(2004, 2, 29))  # 28 February in a common year
    (datetime.date(2009, 2, 28), datetime.date(2020, 8, 31))
    >>> compulsory_school_age_bounds(date(2001, 10, 1))[1]  # sixteen in the autumn: a year more
    datetime.date(2018, 8, 31)
    """
    return _dates.compulsory_school_age_bounds(date_of_birth)


def school_age_born_from(day: date) -> date:
    """The earliest date of birth whose compulsory school age lasts to `day` or later.

    ``compulsory_school_age_bounds(born)[1] >= day`` exactly when ``born >= school_age_born_from(day)``:
    a child born before it had left school by `day` (one comparison rules out the adults).

    >>> school_age_born_from(date(2013, 9, 1))
    datetime.date(1997, 9, 1)
    """
    # school age ends on 31 August of the school year of the sixteenth birthday: born from
    # September, a year later; the first 31 August on or after `day` must be reached
    last_year = day.year + (day.month >= 9)
    return date(last_year - 17, 9, 1)


def days(n: int) -> timedelta:
    """A `timedelta` of `n` days (for readable date arithmetic)."""
    return timedelta(days=n)
