"""Forecasting: allocation arithmetic (phase1-spec §6), drawdown invariants, Monte Carlo, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.forecast import (
    Assumptions,
    ClaimCalendar,
    allocation,
    compare,
    default_scenarios,
    drawdown,
    from_records,
    result_rates,
)
from pbr.money import PENNY, ZERO, round_to_penny, round_to_pound
from pbr.rules import PHASE_ONE

pytestmark = [
    pytest.mark.filterwarnings("ignore:the claim windows run past"),
    pytest.mark.filterwarnings("ignore:the family records name 2 councils"),
]
"""Windows past phase one's last day for results claims, on purpose: figures pinned before it;
and examples/families.jsonl's two councils (Exampleshire, Sampleton) against one allocation."""

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WIDE = ClaimCalendar.quarterly(date(2012, 4, 1), date(2030, 3, 31))


# --- allocation (phase1-spec §6) -------------------------------------------------------------


def test_westminster_worked_example() -> None:
    """S2: Westminster's 790 families: 658 funded; 658/3 × £3,200 = £701,866.67, shown £701,867."""
    a = allocation(790)
    assert a.funded_families == Fraction(790 * 5, 6)
    assert a.whole_funded_families == 658
    first = a.years[0]
    assert first.exact_attachment_fees == Fraction(658 * 3200, 3)
    assert first.attachment_fees == Decimal("701866.67")
    assert round_to_pound(first.exact_attachment_fees) == Decimal("701867.00")
    assert a.maximum == Decimal(658 * 4000)


@pytest.mark.parametrize(
    ("estimated", "nearest", "floor"),
    [(3, 3, 2), (793, 661, 660), (791, 659, 659), (6, 5, 5), (0, 0, 0)],
)
def test_funded_rounding_interpretation(estimated: int, nearest: int, floor: int) -> None:
    assert allocation(estimated).whole_funded_families == nearest
    floored = PHASE_ONE.with_interpretations(funded_rounding="floor")
    assert allocation(estimated, rules=floored).whole_funded_families == floor


def test_fees_and_results_per_year_follow_the_money_table() -> None:
    a = allocation(600)  # 500 funded families
    fees = [y.attachment_fees for y in a.years]
    assert fees == [round_to_penny(Fraction(500, 3) * fee) for fee in (3200, 2400, 1600)]
    # each year's results are within a penny of exact, and the years add up to 500 × £1,600
    results = [y.results_potential for y in a.years]
    exact = [Fraction(500, 3) * r for r in (800, 1600, 2400)]
    assert all(abs(Fraction(r) - e) < Fraction(1, 100) for r, e in zip(results, exact, strict=True))
    assert sum(results) == a.results_potential == Decimal(500 * 1600)
    # the years' maxima (three thirds of £2,000,000) add up to the maximum, not a penny off
    assert sorted(y.maximum for y in a.years) == [
        Decimal("666666.66"),
        Decimal("666666.67"),
        Decimal("666666.67"),
    ]
    assert sum(y.maximum for y in a.years) == a.maximum == Decimal(500 * 4000)


def test_profile_and_bad_input() -> None:
    a = allocation(600, profile={"2012/13": "1/2", "2013/14": "1/4", "2014/15": "1/4"})
    assert a.years[0].families == 250
    # a float share is read through its shortest repr: 0.5 is exactly a half
    floats = allocation(600, profile={"2012/13": 0.5, "2013/14": 0.25, "2014/15": 0.25})
    assert floats == a
    with pytest.raises(ValueError, match="add up to 1"):
        allocation(600, profile={"2012/13": "1/2"})
    with pytest.raises(ValueError, match="outside the programme"):
        allocation(600, profile={"2016/17": "1"})
    with pytest.raises(ValueError, match="profile 2012/13 must be a share"):
        allocation(600, profile={"2012/13": "half"})
    with pytest.raises(ValueError, match="whole number"):
        allocation(12.5)


def test_later_programmes_have_no_deadweight() -> None:
    p2 = allocation(5990, programme="tf-phase-2")
    assert p2.whole_funded_families == 5990
    assert p2.maximum == Decimal(5990 * 1800)  # S25: Bradford, "over £10 million"
    sf = allocation(100, programme="supporting-families")
    assert (sf.attachment_fees, sf.maximum) == (Decimal("0.00"), Decimal("80000.00"))


@given(st.integers(0, 20_000), st.sampled_from(["nearest", "floor"]))
def test_allocation_adds_up_to_the_maximum(estimated: int, rounding: str) -> None:
    a = allocation(estimated, rules=PHASE_ONE.with_interpretations(funded_rounding=rounding))
    exact = sum((y.exact_attachment_fees + y.exact_results_potential for y in a.years), Fraction(0))
    assert exact == a.whole_funded_families * 4000
    assert a.whole_funded_families <= a.funded_families + 1


STOPPED = pbr.rules.PHASE_TWO.with_interpretations(attachment_fees_after_2017_18="stopped")


@settings(max_examples=30)
@given(
    st.integers(0, 20_000),
    st.lists(st.integers(0, 5), min_size=6, max_size=6).filter(any),
)
def test_the_maximum_is_each_years_families_at_that_years_cap(
    estimated: int, weights: list[int]
) -> None:
    # phase two when fees stopped: no fee and a cap of £800 for families attached from 2018/19
    years = ["2015/16", "2016/17", "2017/18", "2018/19", "2019/20", "2020/21"]
    profile = {y: Fraction(w, sum(weights)) for y, w in zip(years, weights, strict=True)}
    a = allocation(estimated, rules=STOPPED, profile=profile)
    exact = sum((y.families * Fraction(a.caps[str(y.year)]) for y in a.years), Fraction(0))
    assert a.maximum == round_to_penny(exact) == sum((y.maximum for y in a.years), Decimal(0))
    assert a.caps["2018/19"] == Decimal("800.00")
    assert a.caps["2015/16"] == Decimal("1800.00")
    d = drawdown(a)  # the allocation's own rules: no fee from 2018/19
    assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == a.maximum
    assert sum((r["at_risk"] for r in d.by_year()), Decimal(0)) == d.at_risk


def test_a_drawdown_uses_the_allocations_rules_and_refuses_others() -> None:
    a = allocation(600, rules=STOPPED)
    assert a.maximum == Decimal("780000.00")  # 300 × £1,800 + 300 × £800, not 600 × £1,800
    d = drawdown(a)
    assert d.at_risk == drawdown(a, rules=STOPPED).at_risk == Decimal("144000.00")
    assert sum((r["attachment_fees"] for r in d.by_year()), Decimal(0)) == Decimal("300000.00")
    with pytest.raises(ValueError, match=r"attachment_fees_after_2017_18='stopped'.*'continue'"):
        drawdown(a, rules=pbr.rules.PHASE_TWO)
    with pytest.raises(ValueError, match="rules disagree"):
        from_records([], as_of=date(2016, 1, 1), alloc=a, rules=pbr.rules.PHASE_TWO)
    with pytest.raises(ValueError, match="rules are tf-phase-1's"):
        drawdown(a, rules=PHASE_ONE)
    # an interpretation that does not change the allocation's money may differ
    judged = STOPPED.with_interpretations(relevance=_other_relevance())
    assert drawdown(a, rules=judged).maximum == a.maximum


def _other_relevance() -> str:
    choice = pbr.rules.PHASE_TWO.interpretations["relevance"]
    return next(v for v in choice.values if v != pbr.rules.PHASE_TWO.chosen["relevance"])


# --- drawdown --------------------------------------------------------------------------------

probabilities = st.fixed_dictionaries(
    {
        "crime_asb_education": st.fractions(0, Fraction(1, 2), max_denominator=20),
        "progress_to_work": st.fractions(0, 1, max_denominator=20),
        "continuous_employment": st.fractions(0, Fraction(1, 4), max_denominator=20),
    }
)
# crime/ASB/education is met 6 months after attachment at the earliest (shorter lags are refused)
lags = st.dictionaries(st.integers(6, 36), st.integers(1, 5), min_size=1, max_size=4).map(
    lambda w: {m: Fraction(v, sum(w.values())) for m, v in w.items()}
)


@settings(max_examples=40)
@given(st.integers(0, 6000), probabilities, lags)
def test_drawdown_invariants(
    estimated: int, probs: dict[str, Fraction], lag: dict[int, Fraction]
) -> None:
    a = allocation(estimated)
    d = drawdown(a, Assumptions("any", probs, lag), calendar=WIDE)
    assert d.beyond_horizon == 0
    # never more than the maximum, and forecast + at risk is the maximum to the penny
    assert d.total <= a.maximum
    assert d.total + d.at_risk == a.maximum
    # attachment fees are the profile times the fees (the same exact total, within a penny)
    fees = sum((w.attachment_fees for w in d.windows), Decimal(0))
    assert abs(fees - a.attachment_fees) <= PENNY
    # expected results are probability times amounts (each total within a penny of exact)
    for kind, p in probs.items():
        exact = sum(
            (y.families * p * Fraction(result_rates(PHASE_ONE, y.year)[kind]) for y in a.years),
            Fraction(0),
        )
        shown = sum((w.results[kind] for w in d.windows), Decimal(0))
        assert abs(Fraction(shown) - exact) < Fraction(1, 100)
    # windows add up to the cumulative total, to the penny
    assert sum((w.total for w in d.windows), Decimal(0)) == d.total


def test_results_are_paid_in_the_first_window_on_or_after_they_are_met() -> None:
    calendar = ClaimCalendar((date(2012, 11, 15), date(2012, 11, 16), date(2013, 5, 31)))
    a = allocation(6, profile={"2012/13": "1", "2013/14": "0", "2014/15": "0"})
    d = drawdown(
        a,
        Assumptions("x", {"continuous_employment": Fraction(1)}, {6: Fraction(1)}),
        calendar=calendar,
        quarters={"2012/13 Q1": "1"},  # attached 15 May 2012: met 15 Nov 2012
    )
    by_date = {w.claim_date: w for w in d.windows}
    assert by_date[date(2012, 11, 15)].results["continuous_employment"] == Decimal("4000.00")
    assert by_date[date(2012, 11, 16)].total == 0  # nothing falls in it: a row of zeros


# claim windows of one day each after 30 June 2012, 31 March 2013 and 30 June 2014: empty
SPARSE = ClaimCalendar(
    tuple(
        date(*ymd)
        for ymd in (
            (2012, 6, 30), (2012, 7, 1), (2012, 9, 30), (2013, 3, 31),
            (2013, 4, 1), (2014, 6, 30), (2014, 7, 1), (2015, 5, 31),
        )
    )
)  # fmt: skip


def test_a_forecast_by_assumption_has_a_row_for_every_claim_window() -> None:
    """Empty windows are rows of zeros, so a table joins on the calendar; totals are unchanged."""
    d = drawdown(allocation(12), calendar=SPARSE, runs=50, seed=3)
    assert tuple(w.claim_date for w in d.windows) == SPARSE.dates
    by_date = {w.claim_date: w for w in d.windows}
    for day, before in (
        (date(2012, 7, 1), date(2012, 6, 30)),
        (date(2014, 7, 1), date(2014, 6, 30)),
    ):
        empty, previous = by_date[day], by_date[before]
        assert (empty.total, empty.attachment_fees, empty.at_risk) == (ZERO, ZERO, ZERO)
        assert set(empty.results.values()) == {ZERO}
        assert empty.cumulative == previous.cumulative
        assert (empty.low, empty.median, empty.high) == (
            previous.low,
            previous.median,
            previous.high,
        )
    assert sum((w.total for w in d.windows), Decimal(0)) == d.total
    assert len(d.to_pandas()) == len(SPARSE.dates)


def test_the_default_phase_two_table_runs_to_the_calendar_end() -> None:
    d = drawdown(allocation(790, programme="tf-phase-2"))
    dates = ClaimCalendar.default_for(pbr.rules.PHASE_TWO).dates
    assert tuple(w.claim_date for w in d.windows) == dates
    assert d.windows[-1].claim_date == date(2023, 3, 31)


def test_a_forecast_from_records_has_a_row_for_every_claim_window_after_as_of() -> None:
    """Windows on or before `as_of` are past (secured or claimable); every later one is a row."""
    as_of = date(2013, 1, 1)
    calendar = ClaimCalendar((*SPARSE.dates[:-1], date(2015, 5, 30), date(2015, 5, 31)))
    d = from_records(
        pbr.read_records(EXAMPLES / "families.jsonl"),
        as_of=as_of,
        alloc=allocation(100),
        calendar=calendar,
    )
    assert tuple(w.claim_date for w in d.windows) == tuple(x for x in calendar.dates if x > as_of)
    assert d.windows[-1].total == 0  # 31 May 2015 alone: nothing falls in it
    assert sum((w.total for w in d.windows), Decimal(0)) == d.total


def test_assumptions_that_overpay_a_family_are_refused() -> None:
    too_much = Assumptions(
        "greedy",
        {"crime_asb_education": Fraction(1), "continuous_employment": Fraction(1)},
        {6: Fraction(1)},
    )
    with pytest.raises(ValueError, match="more than the results share"):
        drawdown(allocation(100), too_much)
    with pytest.raises(ValueError, match="add up to"):
        Assumptions("bad", {}, {6: Fraction(1, 2)})
    with pytest.raises(ValueError, match="not results of tf-phase-1"):
        drawdown(
            allocation(100),
            Assumptions("x", {"sustained_progress": Fraction(1, 2)}, {6: Fraction(1)}),
        )


def test_same_seed_same_output_and_bands_hold_the_median() -> None:
    a = allocation(790)
    one = drawdown(a, runs=300, seed=11)
    two = drawdown(a, runs=300, seed=11)
    other = drawdown(a, runs=300, seed=12)
    assert one == two
    assert one.windows != other.windows
    for w in one.windows:
        assert w.low is not None
        assert w.high is not None
        assert w.median is not None
        assert w.low <= w.median <= w.high


def test_monte_carlo_mean_approaches_the_expected_value() -> None:
    a = allocation(1200)
    for runs in (50, 5000):
        d = drawdown(a, runs=runs, seed=3, calendar=WIDE)
        assert d.mc_mean is not None
        assert d.mc_std is not None
        # within 4 standard errors of the exact expectation: the error shrinks as 1/sqrt(runs)
        assert abs(d.mc_mean - d.total) <= 4 * d.mc_std / Decimal(runs).sqrt() + 1
    assert d.mc_mean is not None
    assert abs(d.mc_mean - d.total) / d.total < Decimal("0.002")


def test_scenarios_side_by_side() -> None:
    base, pessimistic = default_scenarios()
    both = compare(allocation(790), [base, pessimistic])
    totals = {row["scenario"]: row["forecast"] for row in both.summary()}
    assert totals["pessimistic"] < totals["base"]
    assert {r["scenario"] for r in both.to_records()} == {"base", "pessimistic"}
    with pytest.raises(ValueError, match="must differ"):
        compare(allocation(790), [base, base])


def test_tables_and_chart(tmp_path: Path) -> None:
    d = drawdown(allocation(790), runs=100, seed=1)
    frame = d.to_pandas()
    assert frame.index.name == "claim_date"
    assert list(frame.columns)[:3] == ["scenario", "year", "attachment_fees_pence"]
    assert int(frame["total_pence"].sum()) == int(d.total * 100)
    assert "p5_pence" in frame.columns
    d.plot(str(tmp_path / "chart.png"))
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the published figure rounds the exact fees to the pound (S2): £701,867
    first = allocation(790).years[0]
    assert round_to_pound(first.exact_attachment_fees) == Decimal("701867.00")


# --- from records -----------------------------------------------------------------------------


def test_forecast_from_records_separates_secured_claimable_and_forecast() -> None:
    families = [
        f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)
    ]
    as_of = date(2014, 3, 31)
    decisions = [pbr.evaluate(f, as_of=as_of) for f in families]
    d = from_records(families, as_of=as_of, alloc=allocation(80))
    # all paid by as_of, except the undated fee of EX-054, attached on 14 April 2014 (£1,600)
    paid = sum((x.paid_to_date for x in decisions), Decimal(0))
    assert d.secured == paid - Decimal("1600.00") == Decimal("45300.00")
    assert d.claimable_now >= sum((x.payable for x in decisions), Decimal(0))
    assert all(w.claim_date > as_of for w in d.windows)
    assert d.secured + d.claimable_now + d.total + d.beyond_horizon <= allocation(80).maximum


# --- command line -----------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbr.cli", "forecast", *args], capture_output=True, text=True
    )


@pytest.mark.slow
def test_cli_table_csv_json_and_plot(tmp_path: Path) -> None:
    table = cli(
        "--families", "790", "--runs", "200", "--seed", "5", "--plot", str(tmp_path / "d.png")
    )
    assert table.returncode == 0, table.stderr
    assert "maximum £2,632,000.00" in table.stdout
    assert "2012/13      £877,333.34     £734,766.67     £701,866.67" in table.stdout
    assert "Monte Carlo (200 runs, seed 5)" in table.stdout
    assert "band: p5–p95 of 200 runs: rates drawn from the scenario ranges" in table.stdout
    assert (tmp_path / "d.png").exists()
    rows = [
        json.loads(line)
        for line in cli("--families", "790", "--format", "json").stdout.splitlines()
    ]
    assert rows[0]["claim_date"] == "2012-06-30"
    assert cli("--families", "790", "--format", "csv").stdout.startswith(
        "scenario,claim_date,year,"
    )


@pytest.mark.slow
def test_cli_scenario_file_and_records(tmp_path: Path) -> None:
    result = cli("--families", "790", "--scenario", str(EXAMPLES / "forecast-scenarios.toml"))
    assert result.returncode == 0, result.stderr
    assert "Scenario base" in result.stdout
    assert "Scenario pessimistic" in result.stdout
    records = cli(
        "--records", str(EXAMPLES / "families.jsonl"), "--estimated", "80", "--as-of", "2014-03-31"
    )
    assert records.returncode == 0, records.stderr
    assert "secured (paid)" in records.stdout
    missing = cli("--records", str(EXAMPLES / "families.jsonl"))
    assert missing.returncode == 2
    assert "--estimated" in missing.stderr
    (tmp_path / "bad.toml").write_text(
        'name = "x"\n[probabilities]\ncontinuous_employment = 1.5\n[lag_months]\n6 = 1\n'
    )
    bad = cli("--families", "790", "--scenario", str(tmp_path / "bad.toml"))
    assert bad.returncode == 2
    assert "probabilities.continuous_employment must be between 0 and 1, got 1.5" in bad.stderr


def test_quarters_give_the_maximum_by_attachment_of_the_cohorts_they_make() -> None:
    """quarters= left maximum_by_attachment on the allocation's yearly profile."""
    d = drawdown(allocation(790), quarters={"2012/13 Q1": 1})
    rows = {r["year"]: r for r in d.by_year()}
    assert rows["2012/13"]["maximum_by_attachment"] == Decimal("2632000.00")  # every family
    assert rows["2013/14"]["maximum_by_attachment"] == Decimal("0.00")
    assert sum((r["maximum_by_attachment"] for r in d.by_year()), Decimal(0)) == d.maximum
    # phase two when fees stopped: families put in 2019/20 have a cap of £800, not £1,800
    a = allocation(600, rules=STOPPED)
    late = drawdown(a, quarters={"2019/20 Q1": 1})
    assert late.maximum == Decimal("480000.00")
    assert late.total + late.beyond_horizon + late.never_payable + late.at_risk == late.maximum
    assert sum((r["at_risk"] for r in late.by_year()), Decimal(0)) == late.at_risk
    assert sum((r["maximum_by_attachment"] for r in late.by_year()), Decimal(0)) == late.maximum
    with pytest.raises(ValueError, match="build the allocation with that profile"):
        pbr.forecast.sensitivity(a, quarters={"2019/20 Q1": 1})


@settings(max_examples=30)
@given(st.lists(st.integers(0, 4), min_size=24, max_size=24).filter(any), st.integers(0, 3000))
def test_any_quarters_add_up_to_the_maximum_by_attachment_and_claim(
    weights: list[int], estimated: int
) -> None:
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(2015, 2021)]
    labels = [f"{y} Q{q}" for y in years for q in range(1, 5)]
    quarters = {k: Fraction(w, sum(weights)) for k, w in zip(labels, weights, strict=True)}
    a = allocation(estimated, rules=STOPPED)
    d = drawdown(a, quarters=quarters)
    rows = d.by_year()
    assert sum((r["maximum_by_attachment"] for r in rows), Decimal(0)) == d.maximum
    assert sum((r["maximum_by_claim"] for r in rows), Decimal(0)) == d.maximum
    assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum
