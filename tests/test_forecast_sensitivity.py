"""Sensitivity over success rates: monotone, adding up, and the Lancashire figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbr.forecast import Assumptions, ClaimCalendar, allocation, default_scenarios, sensitivity

SHORT = ClaimCalendar.quarterly(date(2012, 4, 1), date(2014, 12, 31))  # before claims closed
lags = st.dictionaries(st.integers(6, 40), st.integers(1, 5), min_size=1, max_size=4).map(
    lambda w: {m: Fraction(v, sum(w.values())) for m, v in w.items()}
)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 40_000),
    st.lists(st.fractions(0, 1, max_denominator=1000), min_size=2, max_size=12, unique=True),
    lags,
    st.sampled_from([None, SHORT]),
    st.sampled_from([None, "1081000", "0.01"]),
)
def test_sensitivity_is_monotone_in_the_success_rate(
    estimated: int,
    rates: list[Fraction],
    lag: dict[int, Fraction],
    calendar: ClaimCalendar | None,
    grant: str | None,
) -> None:
    a = allocation(estimated, upfront_grant=grant)
    s = sensitivity(a, Assumptions("t", {}, lag), rates, calendar=calendar)
    assert list(s.rates) == sorted(rates)
    pairs = list(zip(s.to_records(), s.to_records()[1:], strict=False))
    for lower, higher in pairs:
        assert lower["forecast"] <= higher["forecast"]
        assert lower["results"] <= higher["results"]
        assert lower["at_risk"] >= higher["at_risk"]
        assert lower["never_payable"] >= higher["never_payable"]
        assert (
            lower["forecast"] + lower["beyond_horizon"]
            <= higher["forecast"] + higher["beyond_horizon"]
        )
    for row in s.to_records():
        money = row["forecast"] + row["beyond_horizon"] + row["never_payable"] + row["at_risk"]
        assert money == a.maximum
        assert min(row["results"], row["beyond_horizon"], row["never_payable"], row["at_risk"]) >= 0


def test_lancashire_at_risk_if_half_succeed() -> None:
    """With claim windows to March 2017, every result earned is claimed in a window."""
    with pytest.warns(UserWarning, match="run past 2015-05-31"):  # the published reading's
        s = sensitivity(
            allocation(2630, council="Lancashire"), rates=["0", "0.5", "1"], calendar=TO_2017
        )
    fees = Decimal(2192) * (3200 + 2400 + 1600) / 3  # £5,260,800: secured on attachment
    results = Decimal(2192) * (800 + 1600 + 2400) / 3  # £3,507,200 results potential
    assert s.attachment_fees == fees
    assert s.forecast == (fees, fees + results / 2, fees + results)
    assert s.at_risk == (results, results / 2, Decimal("0.00"))
    assert s.at_risk[1] == Decimal("1753600.00")


TO_2017 = ClaimCalendar.quarterly(date(2012, 4, 1), date(2017, 3, 31))


def test_phase_one_results_met_after_claims_closed_lie_beyond_the_last_window() -> None:
    """By default phase one's windows end on 31 May 2015 (S12): later results were never paid."""
    a = allocation(2630, council="Lancashire")
    late = sensitivity(a, rates=["0", "0.5", "1"])
    with pytest.warns(UserWarning, match="run past 2015-05-31"):
        early = sensitivity(a, rates=["0", "0.5", "1"], calendar=TO_2017)
    # what the families that fail would have earned after claims closed is never payable
    assert late.never_payable[0] > 0
    assert late.never_payable[-1] == 0  # every family earns everything
    assert [r + n for r, n in zip(late.at_risk, late.never_payable, strict=True)] == list(
        early.at_risk
    )
    assert (
        early.never_payable == (Decimal(0),) * 3
    )  # windows past closing: what lies beyond is at risk
    for row in late.to_records():
        money = row["forecast"] + row["beyond_horizon"] + row["never_payable"] + row["at_risk"]
        assert money == row["maximum"]
    assert [f + b for f, b in zip(late.forecast, late.beyond_horizon, strict=True)] == list(
        early.forecast
    )
    assert late.beyond_horizon[0] == 0  # fees are all claimed by May 2015
    assert late.beyond_horizon[1] > 0
    assert late.forecast[1] == Decimal("6429866.67")


def test_the_scenario_rate_is_its_results_over_the_potential() -> None:
    base, pessimistic = default_scenarios()
    a = allocation(2630)
    rate = sensitivity(a, base).scenario_rate
    # per family: ½×£700 + ⅒×£100 + ⅒×£800 = £440 of £800 in 2012/13, and so on each year
    expected = (Fraction(440) + Fraction(920) + Fraction(1400)) / (800 + 1600 + 2400)
    assert rate == expected
    assert sensitivity(a, pessimistic).scenario_rate == expected / 2


def test_results_beyond_the_last_window_are_not_counted_as_at_risk() -> None:
    late = Assumptions("late", {}, {36: Fraction(1)})
    s = sensitivity(allocation(600), late, rates=[1], calendar=SHORT)
    assert s.beyond_horizon[0] > 0
    assert s.at_risk[0] == Decimal("0.00")


def test_the_sensitivity_chart_and_frame(tmp_path: Path) -> None:
    s = sensitivity(allocation(2630, council="Lancashire"))
    figure = s.plot(str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    axes = figure.axes[0]
    assert "Lancashire" in axes.get_title()
    assert "£ million" in axes.get_ylabel()
    assert "whole results share" in axes.get_xlabel()
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert "at risk (not earned)" in labels
    frame = s.to_pandas()
    assert frame["at_risk_pence"].is_monotonic_decreasing
    assert frame["success_rate"].tolist() == [n / 10 for n in range(11)]


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sensitivity(allocation(60), rates=[])
    with pytest.raises(ValueError, match="rates must be between 0 and 1"):
        sensitivity(allocation(60), rates=[1.5])


@pytest.mark.parametrize(
    ("closed", "last_two"),
    [
        ("2015-05-31", (date(2015, 3, 31), date(2015, 5, 31))),  # phase one: a window that day
        ("2015-03-31", (date(2014, 12, 31), date(2015, 3, 31))),  # on a quarter end: no extra
        ("2030-05-31", (date(2016, 12, 31), date(2017, 3, 31))),  # after the default: no change
        ("2012-05-31", (date(2012, 5, 31),)),  # before the first quarter end: that day alone
    ],
)
def test_default_windows_end_with_the_results_claims(
    closed: str, last_two: tuple[date, ...]
) -> None:
    from importlib import resources

    from pbr.rules import load_rule_set

    text = resources.files("pbr.rules").joinpath("phase_one.toml").read_text(encoding="utf-8")
    rules = load_rule_set(text.replace("value = 2015-05-31", f"value = {closed}"))
    assert ClaimCalendar.default_for(rules).dates[-2:] == last_two


def test_results_beyond_phase_one_s_last_day_for_results_claims_were_never_paid() -> None:
    """The default windows end on that day: the results beyond them are all never paid."""
    from pbr.forecast import drawdown

    d = drawdown(allocation(790))
    assert d.claims_closed_on == date(2015, 5, 31)
    assert d.windows[-1].claim_date == d.claims_closed_on
    beyond = dict(d.beyond_horizon_by_column)
    assert beyond["attachment_fees"] == 0
    assert d.beyond_never_paid == d.beyond_horizon == Decimal("204528.33")
    short = ClaimCalendar.quarterly(date(2012, 4, 1), date(2014, 3, 31))
    early = drawdown(allocation(790), calendar=short)  # ends before: may still be claimable
    assert early.beyond_horizon > d.beyond_horizon
    assert early.beyond_never_paid == 0
    later = drawdown(allocation(790, programme="tf-phase-2"))
    assert later.claims_closed_on is None
    assert later.beyond_never_paid == 0


@pytest.mark.parametrize("last", [date(2015, 5, 31), date(2015, 6, 1), date(2017, 3, 31)])
def test_windows_past_the_last_day_for_results_claims_are_warned_of(last: date) -> None:
    """A calendar of one's own running past 31 May 2015 forecasts results never paid: said."""
    import warnings

    from pbr.forecast import drawdown

    calendar = ClaimCalendar(
        (*ClaimCalendar.quarterly(date(2012, 4, 1), date(2015, 3, 31)).dates, last)
    )
    if last == date(2015, 5, 31):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            drawdown(allocation(790), calendar=calendar)
        return
    with pytest.warns(UserWarning, match=r"run past 2015-05-31.*\(S12\).*never paid"):
        drawdown(allocation(790), calendar=calendar)


def test_the_forecast_command_says_what_beyond_was_never_paid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pbr.cli import main

    assert main(["forecast", "--families", "790"]) == 0
    out = capsys.readouterr().out
    assert (
        "of what lies beyond, results £204,528.33 would be met after results claims closed on "
        "2015-05-31 (S12): never paid"
    ) in out
    assert main(["forecast", "--families", "790", "--programme", "tf-phase-2"]) == 0
    assert "never paid" not in capsys.readouterr().out


def test_the_summary_table_holds_what_beyond_was_never_paid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Part of "beyond", next to it in the summary row, its JSON and its CSV; 0 where none is."""
    import csv
    import io
    import json

    from pbr.cli import main
    from pbr.forecast import drawdown

    row = drawdown(allocation(790)).summary()
    keys = list(row)
    assert keys[keys.index("beyond_horizon") + 1] == "beyond_never_paid"
    assert row["beyond_never_paid"] == row["beyond_horizon"] == Decimal("204528.33")
    assert (
        row["forecast"] + row["beyond_horizon"] + row["never_payable"] + row["at_risk"]
        == row["maximum"]
    )
    short = ClaimCalendar.quarterly(date(2012, 4, 1), date(2014, 3, 31))
    assert drawdown(allocation(790), calendar=short).summary()["beyond_never_paid"] == 0
    base = ["forecast", "--families", "790", "--table", "summary", "--format"]
    assert main([*base, "json"]) == 0
    (written,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert written["beyond_never_paid"] == written["beyond_horizon"] == "204528.33"
    assert main([*base, "csv", "--programme", "tf-phase-2"]) == 0
    (later,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert later["beyond_never_paid"] == "0.00"


def test_results_only_met_after_claims_closed_are_never_payable_not_at_risk() -> None:
    """At risk is what more could be claimed: at 100% success only £301,035 more is (was £447,440).

    The results share the base scenario's families do not earn, in results met after 31 May
    2015, could never be paid: never payable, as the `later` row of the table by year says.
    """
    from pbr.forecast import drawdown

    base = default_scenarios()[0]
    d = drawdown(allocation(790), base)
    best = sensitivity(allocation(790), base, rates=[1]).to_records()[0]
    assert d.at_risk == best["forecast"] - d.total == Decimal("301035.00")
    assert d.at_risk == sum((w.at_risk or Decimal(0) for w in d.windows), Decimal(0))
    assert d.never_payable == d.never_payable_after_claims_closed == Decimal("146405.00")
    assert d.beyond_horizon_at_risk == 0
    row = d.summary()
    assert (row["at_risk"], row["never_payable"]) == (Decimal("301035.00"), Decimal("146405.00"))
    assert (
        row["forecast"] + row["beyond_horizon"] + row["never_payable"] + row["at_risk"]
        == (row["maximum"])
    )
    later = d.by_year()[-1]
    assert (later["year"], later["at_risk"], later["never_payable"]) == (
        "later",
        Decimal("0.00"),
        Decimal("146405.00"),
    )
    assert later["maximum_by_claim"] == later["total"] + later["never_payable"]
    # windows of one's own ending before claims closed: what lies beyond may still be claimed
    short = drawdown(allocation(790), base, calendar=SHORT)
    assert short.never_payable == 0
    assert short.at_risk > sum((w.at_risk or Decimal(0) for w in short.windows), Decimal(0))
    assert short.at_risk == short.maximum - short.total - short.beyond_horizon


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 40_000), lags, st.sampled_from(list(default_scenarios())))
def test_at_risk_is_at_most_what_full_success_would_add(
    estimated: int, lag: dict[int, Fraction], scenario: Assumptions
) -> None:
    """At risk ≤ the forecast at 100% success less the central forecast (to a penny's rounding)."""
    from pbr.forecast import drawdown

    a = allocation(estimated)
    timed = Assumptions(scenario.name, scenario.probabilities, lag)
    d = drawdown(a, timed)
    best = sensitivity(a, timed, rates=[1]).forecast[0]
    assert d.at_risk <= best - d.total + Decimal("0.01")
    assert d.never_payable == d.never_payable_after_claims_closed >= 0
    assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum
    for table in ("at_risk", "never_payable", "maximum_by_claim"):
        assert sum((r[table] for r in d.by_year()), Decimal(0)) == (
            d.maximum if table == "maximum_by_claim" else getattr(d, table)
        )
