"""The date arithmetic the rules run for every fact of every family, compiled with them.

`pbr.periods` is the public home of these functions (its `add_years`, `age_on` and
`compulsory_school_age_bounds` call these); the rule modules call them here, so that in a
compiled install the call stays in compiled code (about a quarter of a microsecond less a
call, a dozen calls a family).
"""

from __future__ import annotations

from calendar import isleap
from datetime import date

__all__ = ["add_years", "age_on", "compulsory_school_age_bounds"]

MEMO_LIMIT = 1 << 15
"""The most days each memo below keeps (then it starts again): more than the birthdays of the
children born in 80 years, so a national run looks each up once, in bounded memory."""

_ADDED: dict[int, dict[date, date]] = {}
"""`add_years`' answers, by `years` then day: a family's rules ask them a dozen times."""
_SCHOOL_AGE: dict[date, tuple[date, date]] = {}
"""`compulsory_school_age_bounds`' answers, by date of birth."""


def add_years(day: date, years: int) -> date:
    """`pbr.periods.add_years`."""
    # Remembered: building a date costs about 1,100 instructions (its arguments are parsed as
    # keywords), a look-up about 250; children's birthdays repeat across families.
    memo = _ADDED.get(years)
    if memo is None:
        memo = _ADDED[years] = {}
    found = memo.get(day)
    if found is None:
        found = _add_years(day, years)
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[day] = found
    return found


def _add_years(day: date, years: int) -> date:
    """`add_years`, worked out."""
    # Written out rather than `add_months(day, 12 * years)` (a property test checks they agree):
    # only 29 February moves, and this runs for every member of every family.
    year = day.year + years
    if day.day == 29 and day.month == 2 and not isleap(year):
        return date(year, 2, 28)
    return date(year, day.month, day.day)


def age_on(date_of_birth: date, day: date) -> int:
    """`pbr.periods.age_on`."""
    # Compares (month, day) instead of building the birthday (`add_years`): this runs for
    # every dated fact of every family. A property test checks it against the plain form.
    month, day_of_month = date_of_birth.month, date_of_birth.day
    if month == 2 and day_of_month == 29 and not isleap(day.year):
        day_of_month = 28
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (month, day_of_month):
        years -= 1
    return years


def compulsory_school_age_bounds(date_of_birth: date) -> tuple[date, date]:
    """`pbr.periods.compulsory_school_age_bounds`."""
    found = _SCHOOL_AGE.get(date_of_birth)
    if found is None:
        # The sixteenth birthday is in the birth month, so its school year follows from it.
        last_year = date_of_birth.year + 16 + (date_of_birth.month >= 9)
        found = (_add_years(date_of_birth, 5), date(last_year, 8, 31))
        if len(_SCHOOL_AGE) >= MEMO_LIMIT:
            _SCHOOL_AGE.clear()
        _SCHOOL_AGE[date_of_birth] = found
    return found
