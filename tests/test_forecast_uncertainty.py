"""Parameter uncertainty: rates drawn per run from a Beta around the scenario's central value."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pbr.forecast import (
    Assumptions,
    allocation,
    default_assumptions,
    default_scenarios,
    drawdown,
    load_scenarios,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LAGS = {6: Fraction(1, 2), 12: Fraction(1, 2)}


def test_the_beta_has_the_central_value_as_mean_and_the_range_as_its_90_percent() -> None:
    a = Assumptions(
        "x", {"crime_asb_education": "0.5"}, LAGS, {"crime_asb_education": ("0.35", "0.65")}
    )
    found = a.beta("crime_asb_education")
    assert found is not None
    alpha, beta = found
    assert alpha / (alpha + beta) == pytest.approx(0.5)
    draws = np.random.default_rng(1).beta(alpha, beta, size=200_000)
    low, high = np.quantile(draws, [0.05, 0.95])
    assert low == pytest.approx(0.35, abs=0.005)
    assert high == pytest.approx(0.65, abs=0.005)


def test_an_asymmetric_range_keeps_the_mean() -> None:
    a = Assumptions("x", {"progress_to_work": "0.1"}, LAGS, {"progress_to_work": ("0.05", "0.2")})
    found = a.beta("progress_to_work")
    assert found is not None
    draws = np.random.default_rng(2).beta(*found, size=200_000)
    assert draws.mean() == pytest.approx(0.1, abs=0.001)


def test_rate_uncertainty_widens_the_band_honestly() -> None:
    """The ±1% band reflected only which families succeed at fixed rates."""
    base = default_assumptions()
    fixed = Assumptions("fixed", base.probabilities, base.lag_months)
    council = allocation(2630)
    narrow = drawdown(council, fixed, runs=2000, seed=3).windows[-1]
    wide = drawdown(council, base, runs=2000, seed=3).windows[-1]
    assert narrow.low is not None
    assert narrow.high is not None
    assert wide.low is not None
    assert wide.high is not None
    assert (narrow.high - narrow.low) / narrow.cumulative < Decimal("0.03")
    assert (wide.high - wide.low) > 4 * (narrow.high - narrow.low)
    d = drawdown(council, base, runs=2000, seed=3)
    assert d.rates_uncertain
    assert "rates drawn from the scenario ranges" in d.band_meaning
    f = drawdown(council, fixed, runs=2000, seed=3)
    assert not f.rates_uncertain
    assert "rate uncertainty not included" in f.band_meaning


def test_the_mean_of_the_runs_is_still_the_expected_value() -> None:
    d = drawdown(allocation(1200), runs=20_000, seed=5)
    assert d.mc_mean is not None
    assert d.mc_std is not None
    assert abs(d.mc_mean - d.total) <= 4 * d.mc_std / Decimal(20_000).sqrt() + 1


def test_the_same_seed_gives_the_same_band_with_uncertainty() -> None:
    a = allocation(790)
    assert drawdown(a, runs=300, seed=9) == drawdown(a, runs=300, seed=9)
    assert drawdown(a, runs=300, seed=9) != drawdown(a, runs=300, seed=10)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"progress_to_work": ("0.2", "0.3")}, "must hold the probability 0.1"),
        ({"progress_to_work": ("0", "1")}, "too wide for a Beta"),
        ({"crime_asb_education": ("0.1", "0.3")}, "crime_asb_education has no probability"),
        ({"progress_to_work": "0.05"}, "must be a pair"),
        (
            {"progress_to_work": ("0.05", "2")},
            "ranges.progress_to_work high must be between 0 and 1",
        ),
    ],
)
def test_bad_ranges_name_the_field(ranges: object, message: str) -> None:
    with pytest.raises(ValueError, match="scenario 'r'") as error:
        Assumptions("r", {"progress_to_work": "0.1"}, LAGS, ranges)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_an_unknown_distribution_is_refused() -> None:
    with pytest.raises(ValueError, match="distribution 'normal' is not one of beta"):
        Assumptions("r", {"progress_to_work": "0.1"}, LAGS, distribution="normal")


def test_an_empty_range_means_a_fixed_rate() -> None:
    a = Assumptions("r", {"progress_to_work": "0.1"}, LAGS, {"progress_to_work": ("0.1", "0.1")})
    assert a.ranges == {}
    assert a.beta("progress_to_work") is None


def test_the_example_file_names_its_distribution_and_round_trips() -> None:
    scenarios = load_scenarios(EXAMPLES / "forecast-scenarios.toml")
    assert [s.distribution for s in scenarios] == ["beta", "beta"]
    assert all(s.ranges for s in scenarios)
    for s in scenarios:
        assert Assumptions.from_mapping(s.to_mapping()) == s


def test_one_pessimistic_scenario_across_docs_and_examples() -> None:
    """The tutorial's and the example file's "pessimistic" scenarios differed."""
    assert load_scenarios(EXAMPLES / "forecast-scenarios.toml") == list(default_scenarios())
    docs = (EXAMPLES.parent / "docs" / "tutorials" / "forecast.md").read_text(encoding="utf-8")
    assert 'load_scenarios("examples/forecast-scenarios.toml")' in docs
    notebook = (EXAMPLES / "forecast.ipynb").read_text(encoding="utf-8")
    assert 'load_scenarios(\\"forecast-scenarios.toml\\")' in notebook
    assert "Assumptions(" not in notebook  # no scenario of its own
