"""The hand-written calendar arithmetic agrees with dateutil.relativedelta everywhere."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from pbr.periods import add_months, age_on, financial_year_of

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@given(DAYS, st.integers(min_value=-240, max_value=240))
def test_add_months_is_relativedelta(day: date, months: int) -> None:
    assert add_months(day, months) == day + relativedelta(months=months)


@given(DAYS, DAYS)
def test_age_is_relativedelta_years(born: date, day: date) -> None:
    if day >= born:
        assert age_on(born, day) == relativedelta(day, born).years


@given(DAYS)
def test_financial_year_contains_the_day(day: date) -> None:
    year = financial_year_of(day)
    assert year.start <= day <= year.end
