"""Defects an analyst's trial found: wrong types, options silently accepted, values filled in.

Each test fails on the code before its fix (the trial's exact call is in it).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from pbr.forecast import (
    Assumptions,
    allocation,
    allocation_table,
    compare,
    default_scenarios,
    drawdown,
    from_records,
    load_scenarios,
    sensitivity,
)
from pbr.forecast._extras import pandas
from tests.builders import rejected_record

from .forecast_cli import cli

SCENARIO = {"name": "s", "probabilities": {"progress_to_work": "1/5"}, "lag_months": {6: 1}}

# --- 2. a wrong type is a TypeError naming the argument and what to pass ----------------------


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (
            lambda: drawdown(allocation(790), SCENARIO),  # type: ignore[arg-type]
            "assumptions must be an Assumptions object, got dict",
        ),
        (
            lambda: drawdown(allocation(790), "scenarios.toml"),  # type: ignore[arg-type]
            "load a file with pbr.forecast.load_scenarios(path)",
        ),
        (
            lambda: drawdown(790),  # type: ignore[arg-type]
            "alloc must be an Allocation, got int 790; make one with pbr.forecast.allocation(790)",
        ),
        (
            lambda: from_records([], as_of="2015-03-31", alloc=allocation(6)),  # type: ignore[arg-type]
            "as_of must be a datetime.date, got str '2015-03-31'; use date.fromisoformat",
        ),
        (
            lambda: from_records("families.jsonl", as_of=date(2014, 3, 31), alloc=allocation(6)),
            "read a file with pbr.read_records(path)",
        ),
        (
            lambda: from_records(
                [{"family_id": "F"}], as_of=date(2014, 3, 31), alloc=allocation(6)
            ),
            "record 1 is dict; build a family with pbr.Family.model_validate(data)",
        ),
        (
            lambda: compare(allocation(790), "scenarios.toml"),  # type: ignore[arg-type]
            "scenarios must be Assumptions objects, got str",
        ),
        (
            lambda: compare(allocation(790), [SCENARIO]),  # type: ignore[list-item]
            "scenario 1 is dict",
        ),
        (
            lambda: compare(allocation(790), default_scenarios()[0]),  # type: ignore[arg-type]
            "pass [scenario]",
        ),
        (lambda: compare(790), "alloc must be an Allocation"),
        (lambda: sensitivity(790), "alloc must be an Allocation"),  # type: ignore[arg-type]
        (
            lambda: sensitivity(allocation(790), "s.toml"),  # type: ignore[arg-type]
            "load_scenarios",
        ),
    ],
)
def test_a_wrong_argument_type_is_a_type_error_saying_what_to_pass(call: Any, says: str) -> None:
    """These raised AttributeError ('dict' object has no attribute 'name') from deep inside."""
    with pytest.raises(TypeError) as error:
        call()
    assert says in str(error.value)


# --- 4. options and values that do not apply are refused ---------------------------------------


def test_an_empty_list_of_scenarios_is_refused_not_taken_for_the_defaults() -> None:
    with pytest.raises(ValueError, match="scenarios is empty"):
        compare(allocation(790), [])
    with pytest.raises(ValueError, match="scenarios is empty"):
        allocation_table([{"council": "A", "estimated_families": 6}]).compare([])


@pytest.mark.parametrize(
    "args",
    [
        ("--families", "790", "--seed", "5"),
        ("--families", "790", "--runs", "0", "--seed", "5"),
        ("--records", "x.jsonl", "--estimated", "80", "--as-of", "2014-03-31", "--seed", "5"),
    ],
)
def test_cli_refuses_a_seed_without_runs(args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert "--seed seeds the Monte Carlo: give --runs N too" in result.stderr


def test_python_refuses_a_seed_without_runs_as_the_command_does() -> None:
    """drawdown(a, seed=3) ignored the seed without a word; the command refused it."""
    import pbr

    a = allocation(60)
    for make in (
        lambda: drawdown(a, seed=3),
        lambda: drawdown(a, runs=0, seed=3),
        lambda: drawdown(a, seed=0),
        lambda: compare(a, seed=3),
        lambda: allocation_table([{"council": "A", "estimated_families": 6}]).compare(seed=3),
    ):
        with pytest.raises(pbr.ForecastError) as refused:
            make()
        assert str(refused.value) == (
            "seed seeds the Monte Carlo: give runs=N too (without runs it does nothing)"
        )
        assert isinstance(refused.value, ValueError)
    assert drawdown(a).seed == drawdown(a, runs=10).seed == 0
    assert drawdown(a, runs=10, seed=3).seed == 3


def test_every_programme_takes_its_councils_up_front_money() -> None:
    """Phase one's co-ordinator money and phase two's transformation grant were up front too.

    tf-rules §1 (S2, S28) and §2 (S31, S36): outside the per-family cap, so outside its results.
    """
    for programme in ("tf-phase-1", "tf-phase-2", "supporting-families"):
        with_grant = allocation(100, programme, upfront_grant=1000)
        without = allocation(100, programme)
        assert with_grant.upfront_grant > 0
        assert with_grant.maximum == without.maximum + with_grant.upfront_grant
    assert allocation(100, upfront_grant=0).maximum == allocation(100).maximum  # none is none


# --- 5. missing values are refused, not filled in ----------------------------------------------


def test_a_missing_programme_cell_is_refused_naming_row_and_column() -> None:
    """A None cell used to make council B phase one in a table of Supporting Families."""
    pd = pandas()
    frame = pd.DataFrame(
        {
            "council": ["A", "B"],
            "estimated_families": [100, 50],
            "programme": ["supporting-families", None],
        }
    )
    with pytest.raises(ValueError, match=r"row 2 \(council 'B'\): programme: the cell is empty"):
        allocation_table(frame)
    nan = frame.assign(programme=["supporting-families", float("nan")])
    with pytest.raises(ValueError, match="row 2"):
        allocation_table(nan)
    # without the column, the documented default applies
    assert allocation_table(frame.drop(columns="programme")).allocations[1].programme == (
        "tf-phase-1"
    )


@pytest.mark.parametrize("name", [None, 7, "", "  "])
def test_a_scenario_needs_a_name(name: Any) -> None:
    """Assumptions(None, ...) used to be the scenario 'None'."""
    with pytest.raises((TypeError, ValueError), match="scenario's name"):
        Assumptions(name, {"progress_to_work": "0.2"}, {6: 1})


def test_a_scenario_file_without_a_name_or_with_a_misspelt_list(tmp_path: Path) -> None:
    nameless = tmp_path / "nameless.toml"
    nameless.write_text("probabilities = {progress_to_work = 0.2}\nlag_months = {6 = 1}\n")
    with pytest.raises(ValueError, match="missing 'name'"):
        load_scenarios(nameless)
    typo = tmp_path / "typo.toml"
    typo.write_text(
        '[[scenario]]\nname = "x"\nprobabilities = {progress_to_work = 0.2}\nlag_months = {6 = 1}\n'
    )
    with pytest.raises(ValueError, match="top-level") as error:
        load_scenarios(typo)
    message = str(error.value)
    assert "unknown top-level table 'scenario' (did you mean 'scenarios'" in message
    assert "[[scenarios]]" in message
    assert "scenario 'scenario'" not in message


def test_a_scenario_with_no_probabilities_is_refused_when_forecast() -> None:
    """probabilities={} used to forecast fees only, without a word."""
    empty = Assumptions("fees", {}, {6: 1})
    with pytest.raises(ValueError, match="scenario 'fees': probabilities is empty"):
        drawdown(allocation(790), empty)
    with pytest.raises(ValueError, match="probabilities is empty"):
        from_records([], as_of=date(2013, 3, 31), alloc=allocation(80), assumptions=empty)
    # no results, said explicitly, is a forecast of fees only
    none = Assumptions("fees", {"crime_asb_education": 0}, {6: 1})
    assert drawdown(allocation(790), none).total == allocation(790).attachment_fees


# --- 7. charts ---------------------------------------------------------------------------------


def test_the_drawdown_chart_has_headroom_and_lists_only_what_is_there() -> None:
    figure = from_records([rejected_record()], as_of=date(2013, 3, 31), alloc=allocation(80)).plot()
    bars = figure.axes[0]
    tallest = max(p.get_y() + p.get_height() for p in bars.patches)
    assert bars.get_ylim()[1] > tallest * 1.05  # was equal: the tallest bar was clipped
    labels = [t.get_text() for t in bars.get_legend().get_texts()]
    assert not any("claimable now" in label for label in labels)  # there is none


def test_charts_of_a_council_with_no_families_do_not_warn() -> None:
    """The suite turns warnings into errors: identical ylims used to warn for a £0 maximum."""
    empty = allocation(0)
    assert sensitivity(empty).plot().axes[0].get_ylim() == (0.0, 1.0)
    assert drawdown(empty).plot().axes[0].get_ylim()[1] > 0
    one_rate = sensitivity(allocation(60), rates=[Fraction(1, 2)]).plot()
    low, high = one_rate.axes[0].get_xlim()
    assert low < high


# --- 3, 6 and 8: what the tutorial and the notebook teach --------------------------------------

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = (ROOT / "docs" / "tutorials" / "forecast.md").read_text(encoding="utf-8")


def _python_blocks(markdown: str) -> str:
    return "\n".join(part.split("```")[0] for part in markdown.split("```python\n")[1:])


def test_the_tutorial_sums_only_per_window_columns_and_names_the_repeated_ones() -> None:
    """`windows.sum(numeric_only=True)` added up maximum_pence (and secured, claimable) per row."""
    code = _python_blocks(TUTORIAL)
    assert "sum(numeric_only=True)" not in code
    for column in ("maximum_pence", "secured_pence", "claimable_now_pence", "cumulative_pence"):
        assert column in TUTORIAL
    frame = drawdown(allocation(790)).to_pandas()
    per_window = frame[["attachment_fees_pence", "total_pence", "at_risk_pence"]].sum()
    assert int(per_window["total_pence"]) == int(drawdown(allocation(790)).total * 100)
    assert frame["maximum_pence"].nunique() == 1  # the scenario's figure, on every row


def test_the_tutorial_counts_rejected_records_rather_than_filtering_them_out() -> None:
    code = _python_blocks(TUTORIAL)
    assert "isinstance(f, pbr.Family)" not in code  # it dropped rejections without a count
    assert "now.rejected" in code


def test_the_notebook_shows_the_scenario_rate_as_the_tutorial_does() -> None:
    """The notebook printed 'about 57%' where the tutorial shows 57.5%."""
    notebook = (ROOT / "examples" / "forecast.ipynb").read_text(encoding="utf-8")
    shown_as = "{float(risk.scenario_rate):.1%} of the results potential"
    assert shown_as in TUTORIAL
    assert shown_as in notebook
    assert "about {" not in notebook
