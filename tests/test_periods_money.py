"""Calendar arithmetic and money: the edges everything else stands on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from pbr.money import format_gbp, money, round_to_penny, round_to_pound
from pbr.periods import (
    FinancialYear,
    TermCalendar,
    academic_year_of,
    add_months,
    age_on,
    compulsory_school_age_in,
    financial_year_of,
)


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2013, 3, 31), "2012/13"),
        (date(2013, 4, 1), "2013/14"),
        (date(2012, 4, 1), "2012/13"),
        (date(2012, 3, 31), "2011/12"),
        (date(2000, 1, 1), "1999/00"),
    ],
)
def test_financial_year_edges(day: date, year: str) -> None:
    assert str(financial_year_of(day)) == year


def test_financial_year_parse_round_trip_and_bounds() -> None:
    fy = FinancialYear.parse("2013/14")
    assert (fy.start, fy.end) == (date(2013, 4, 1), date(2014, 3, 31))
    assert str(fy) == "2013/14"
    for bad in ("2013/15", "13/14", "2013-14", "abcd/ef"):
        with pytest.raises(ValueError, match="financial year"):
            FinancialYear.parse(bad)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2013, 8, 31), -6, date(2013, 2, 28)),
        (date(2012, 8, 31), -6, date(2012, 2, 29)),
        (date(2013, 3, 31), -6, date(2012, 9, 30)),
        (date(2012, 10, 15), 6, date(2013, 4, 15)),
        (date(2012, 8, 31), 6, date(2013, 2, 28)),
    ],
)
def test_calendar_months_clamp_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_age_with_29_february_birthday() -> None:
    born = date(1996, 2, 29)
    assert age_on(born, date(2014, 2, 27)) == 17
    assert age_on(born, date(2014, 2, 28)) == 18


def test_academic_year_of() -> None:
    assert academic_year_of(date(2012, 8, 31)) == "2011/12"
    assert academic_year_of(date(2012, 9, 1)) == "2012/13"


def test_term_is_complete_on_its_last_day() -> None:
    calendar = TermCalendar()
    on_last_day = calendar.complete_terms(date(2013, 7, 31), 3)
    assert [t.label for t in on_last_day] == ["2012/13 autumn", "2012/13 spring", "2012/13 summer"]
    day_before = calendar.complete_terms(date(2013, 7, 30), 3)
    assert [t.label for t in day_before] == ["2011/12 summer", "2012/13 autumn", "2012/13 spring"]
    strictly = calendar.complete_terms(date(2013, 7, 31), 3, strictly_before=True)
    assert strictly == day_before


def test_council_term_calendar_overrides_one_term() -> None:
    calendar = TermCalendar({("2012/13", "summer"): (date(2013, 4, 15), date(2013, 7, 19))})
    assert calendar.term("2012/13", "summer").end == date(2013, 7, 19)
    assert calendar.complete_terms(date(2013, 7, 19), 1)[0].label == "2012/13 summer"
    assert calendar.term("2012/13", "autumn").start == date(2012, 9, 1)


@pytest.mark.parametrize(
    ("born", "term_start", "expected"),
    [
        (date(2007, 8, 31), date(2012, 9, 1), True),  # 5 on 31 Aug: the term after counts
        (date(2007, 9, 1), date(2012, 9, 1), False),  # 5 on the term's first day: not after it
        (date(2007, 9, 1), date(2013, 1, 1), True),
        (date(1997, 9, 1), date(2013, 4, 1), True),  # 16 on 1 Sep 2013: school year 2013/14
        (date(1997, 8, 31), date(2013, 4, 1), True),  # 16 on 31 Aug 2013: to 31 Aug 2013
        (date(1997, 8, 31), date(2013, 9, 1), False),
        (date(1997, 9, 1), date(2014, 4, 1), True),
        (date(1997, 9, 1), date(2014, 9, 1), False),
    ],
)
def test_compulsory_school_age(born: date, term_start: date, expected: bool) -> None:
    calendar = TermCalendar()
    year = academic_year_of(term_start)
    name = {9: "autumn", 1: "spring", 4: "summer"}[term_start.month]
    term = calendar.term(year, name)  # type: ignore[arg-type]
    assert term.start == term_start
    assert compulsory_school_age_in(born, term) is expected


def test_money_accepts_strings_and_whole_pounds_only() -> None:
    assert money("700") == Decimal("700.00")
    assert money("700.5") == Decimal("700.50")
    assert money(3200) == Decimal("3200.00")
    assert money(Decimal("3200.10")) == Decimal("3200.10")
    assert money("999999999999.99") == Decimal("999999999999.99")
    for whole_or_fractional_float in (3200.0, 0.1):
        with pytest.raises(TypeError, match="not a float"):
            money(whole_or_fractional_float)
    with pytest.raises(TypeError):
        money(True)
    for text in ("1.001", "ten pounds", "NaN", "24e2", " 100", "100 ", "0100", "+5", "1,000", ""):
        with pytest.raises(ValueError, match="decimal string"):
            money(text)
    with pytest.raises(ValueError, match="two decimal places"):
        money(Decimal("1.001"))
    with pytest.raises(ValueError, match="finite"):
        money(Decimal("NaN"))
    for huge in (10**26, "1000000000000", Decimal("1E+30")):
        with pytest.raises(ValueError, match="at most"):
            money(huge)


def test_money_is_exact_under_any_decimal_context() -> None:
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[decimal.Inexact] = True
        assert money("123456789.99") == Decimal("123456789.99")


def test_rounding_is_half_up() -> None:
    assert round_to_pound(Fraction(658 * 3200, 3)) == Decimal("701867.00")
    assert round_to_pound(Fraction(1, 2)) == Decimal("1.00")
    assert round_to_pound(Fraction(-1, 3) + 1) == Decimal("1.00")
    assert round_to_penny(Fraction(1, 200)) == Decimal("0.01")
    assert round_to_penny(Decimal("2.345")) == Decimal("2.35")
    assert format_gbp(Decimal("701866.67")) == "£701,866.67"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1000000000000", 10**12),
        ("1000000000000.00", Decimal("1000000000000.00")),
        ("99999999999999999999", 99999999999999999999),
        ("-1000000000000", -(10**12)),
    ],
)
def test_money_text_over_the_maximum_is_too_large_as_the_number_is(
    text: str, number: int | Decimal
) -> None:
    """Text written as money is, but over £999,999,999,999.99: too large, not unreadable."""
    from pydantic import TypeAdapter, ValidationError

    from pbr._strict import Money

    errors = []
    for value in (text, number):
        with pytest.raises(ValidationError) as caught:
            TypeAdapter(Money).validate_python(value)
        (error,) = caught.value.errors()
        errors.append((error["type"], error["msg"]))
    assert errors[0] == errors[1]
    assert errors[0][0] == "money_too_large"
    assert errors[0][1] == f"money must be at most 999999999999.99 pounds, got {text}"


def test_money_beyond_python_s_integer_text_is_too_large_not_unreadable() -> None:
    """An integer of over 4,300 digits, which Python will not write as text, is too large."""
    from pydantic import TypeAdapter, ValidationError

    from pbr._strict import Money

    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Money).validate_python(10**5000)
    (error,) = caught.value.errors()
    assert error["type"] == "money_too_large"
    assert len(error["msg"]) < 100


def test_money_is_shown_exactly_in_any_decimal_context() -> None:
    """Under a caller's ``prec=3`` context, £1,234.56 showed as £1,230.00 (``abs`` rounded), and
    the totals printed with it."""
    from decimal import ROUND_FLOOR, Context, localcontext

    from pbr.totals import Totals

    totals = Totals()
    totals.add_amounts("Leeds", Decimal("3200.00"), [Decimal("589600.45")])
    expected = totals.lines()
    with localcontext(Context(prec=3, rounding=ROUND_FLOOR)):
        assert format_gbp(Decimal("1234.56")) == "£1,234.56"
        assert format_gbp(Decimal("-1234.56")) == "-£1,234.56"
        assert totals.lines() == expected
    assert "£592,800.45" in expected[-1]
