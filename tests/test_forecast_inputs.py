"""Inputs as people type them: numpy and float counts, float and text shares, named errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbr.forecast import (
    Assumptions,
    ClaimCalendar,
    allocation,
    default_assumptions,
    drawdown,
    from_records,
    sensitivity,
)
from pbr.forecast._extras import pandas
from pbr.forecast._inputs import amount, count, share
from pbr.rules import RuleSet

pd = pandas()  # untyped: pandas has no stubs here

LAGS = {6: Fraction(1)}


@pytest.mark.parametrize(
    "families",
    [2630, np.int64(2630), np.int32(2630), 2630.0, np.float64(2630.0), Decimal("2630"), "2630"],
    ids=repr,
)
def test_any_whole_number_is_a_count(families: object) -> None:
    assert allocation(families).maximum == Decimal("8768000.00")


def test_a_count_from_a_dataframe_cell() -> None:
    """allocation(df.loc[0, "families"]) was refused ("must be a whole number")."""
    frame = pd.DataFrame({"council": ["Lancashire"], "families": [2630]})
    assert allocation(frame.loc[0, "families"]).whole_funded_families == 2192


@pytest.mark.parametrize(
    ("families", "message"),
    [
        (2630.5, "must be a whole number, got 2630.5"),
        (-1, "must not be negative"),
        (True, "must be a whole number, got True"),
        (float("nan"), "finite"),
        (None, "got None"),
        ("lots", "got 'lots'"),
    ],
)
def test_a_bad_count_names_the_field(families: object, message: str) -> None:
    with pytest.raises(ValueError, match="estimated_families") as error:
        allocation(families)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "value",
    [0.5, np.float64(0.5), np.float32(0.5), Decimal("0.5"), Fraction(1, 2), "0.5", "1/2"],
    ids=repr,
)
def test_a_half_is_a_half_however_typed(value: object) -> None:
    a = Assumptions("x", {"crime_asb_education": value}, LAGS)
    assert a.probabilities["crime_asb_education"] == Fraction(1, 2)


def test_floats_are_read_through_their_shortest_repr() -> None:
    a = Assumptions("x", {"progress_to_work": 0.1}, {6: 0.7, 12: 0.3})
    assert a.probabilities["progress_to_work"] == Fraction(1, 10)  # not 3602879701896397/2**55
    assert a.lag_months == {6: Fraction(7, 10), 12: Fraction(3, 10)}


@given(st.floats(0, 1))
def test_any_float_probability_is_its_repr(p: float) -> None:
    a = Assumptions("x", {"progress_to_work": p}, LAGS)
    assert a.probabilities["progress_to_work"] == Fraction(repr(p))


@pytest.mark.parametrize(
    ("probabilities", "lags", "message"),
    [
        (
            {"crime_asb_education": "half"},
            LAGS,
            "probabilities.crime_asb_education must be a share",
        ),
        (
            {"crime_asb_education": 1.5},
            LAGS,
            "probabilities.crime_asb_education must be between 0 and 1, got 1.5",
        ),
        ({"crime_asb_education": None}, LAGS, "got None"),
        ({"crime_asb_education": float("inf")}, LAGS, "finite"),
        ({"crime_asb_education": 0.5}, {6.5: 1}, "lag_months: 6.5 must be a whole number"),
        ({"crime_asb_education": 0.5}, {-6: 1}, "must not be negative"),
        ({"crime_asb_education": 0.5}, {6: "x"}, "lag_months.6 must be a share"),
        ({"crime_asb_education": 0.5}, {6: 0.5}, "add up to 1/2, not 1"),
        ({"crime_asb_education": 0.5}, {}, "lag_months is empty"),
        ({"crime_asb_education": 0.5}, [6], "lag_months must be a table"),
    ],
)
def test_a_bad_scenario_fails_when_built_naming_the_field(
    probabilities: object, lags: object, message: str
) -> None:
    """A float was accepted and failed later inside: 'float' object has no attribute 'quantize'."""
    with pytest.raises(ValueError, match="scenario 'bad'") as error:
        Assumptions("bad", probabilities, lags)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_numpy_lag_months_and_whole_float_lags() -> None:
    a = Assumptions("x", {"progress_to_work": 0.1}, {np.int64(6): 0.5, 12.0: 0.5})
    assert a.lag_months == {6: Fraction(1, 2), 12: Fraction(1, 2)}


def test_shares_amounts_and_counts_directly() -> None:
    assert share("0.25", "p") == Fraction(1, 4)
    assert count(np.uint8(7), "n") == 7
    assert amount("1081000", "upfront_grant") == Decimal("1081000.00")
    assert amount(1081000.0, "upfront_grant") == Decimal("1081000.00")
    with pytest.raises(
        ValueError,
        match="upfront_grant: money must be a decimal string or whole pounds, not a float",
    ):
        amount(0.1, "upfront_grant")
    with pytest.raises(ValueError, match="upfront_grant must not be negative"):
        amount("-5", "upfront_grant")


# --- lags shorter than the programme allows: refused ----------------------------------------


def test_a_lag_shorter_than_the_wait_is_refused_not_paid_early() -> None:
    """{0: 1} paid crime/ASB/education in the attachment quarter (£584,533 for £292,267)."""
    early = Assumptions("early", {"crime_asb_education": Fraction(1, 2)}, {0: Fraction(1)})
    with pytest.raises(
        ValueError, match="lag_months 0: crime_asb_education cannot be met sooner than 6 months"
    ) as error:
        drawdown(allocation(2630), early)
    assert "results_wait_months" in str(error.value)
    assert "at least 6 months" in str(error.value)
    with pytest.raises(ValueError, match="cannot be met sooner"):
        sensitivity(allocation(2630), early)
    with pytest.raises(ValueError, match="cannot be met sooner"):
        from_records([], as_of=date(2013, 3, 31), alloc=allocation(60), assumptions=early)


def test_continuous_employment_needs_13_weeks_so_four_whole_months() -> None:
    three = Assumptions("three", {"continuous_employment": Fraction(1, 10)}, {3: Fraction(1)})
    with pytest.raises(ValueError, match=r"sooner than 13 weeks .*at least 4 months"):
        drawdown(allocation(600), three)
    four = Assumptions("four", {"continuous_employment": Fraction(1, 10)}, {4: Fraction(1)})
    assert drawdown(allocation(600), four).total > 0


def test_the_shortest_lag_is_allowed_and_pays_six_months_on() -> None:
    """At 6 months crime/ASB/education is paid in the window after attachment + 6 months."""
    a = allocation(2630)
    six = Assumptions("six", {"crime_asb_education": Fraction(1, 2)}, {6: Fraction(1)})
    d = drawdown(a, six)
    first = d.windows[0]  # attachments of 2012/13 Q1 on 15 May 2012, paid from 15 November
    assert first.results["crime_asb_education"] == Decimal(0)
    paid = next(w for w in d.windows if w.results["crime_asb_education"])
    assert paid.claim_date == date(2012, 12, 31)
    assert paid.results["crime_asb_education"] == Decimal("63933.33")  # 2192/12 × ½ × £700


def test_a_result_with_no_chance_and_no_range_may_have_any_lag() -> None:
    zero = Assumptions("zero", {"crime_asb_education": 0, "progress_to_work": 0.1}, {0: 1})
    assert drawdown(allocation(600), zero).total > 0


def test_progress_to_work_may_be_met_at_once() -> None:
    quick = Assumptions("quick", {"progress_to_work": Fraction(1, 10)}, {0: Fraction(1)})
    d = drawdown(allocation(600), quick, calendar=ClaimCalendar.default_for(_rules()))
    assert d.windows[0].results["progress_to_work"] > 0


def _rules() -> RuleSet:
    from pbr.rules import PHASE_ONE

    return PHASE_ONE


def test_the_default_scenario_passes_its_own_checks() -> None:
    for programme in ("tf-phase-1", "tf-phase-2", "supporting-families"):
        assert drawdown(allocation(600, programme), default_assumptions(programme)).total > 0
