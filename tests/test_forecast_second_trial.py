"""Defects a second trial of the forecasts found: output names, pounds, empty scenario files,
whole-number messages, and an overpaid family netted against another family's risk.

Each test fails on the code before its fix (the trial's exact call is in it).
"""

from __future__ import annotations

import io
import json
import warnings
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import pbr
from pbr.cli import main
from pbr.forecast import (
    allocation,
    drawdown,
    from_records,
    load_scenarios,
    pounds,
    sensitivity,
)
from pbr.forecast._extras import pandas
from tests.builders import family

from .forecast_cli import cli

pd = pandas()  # untyped: pandas has no stubs here
np = pytest.importorskip("numpy")


def refused(*args: str) -> str:
    """The one-line error of a refused command (exit 2, nothing on stdout, no traceback)."""
    result = cli(*args)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


# --- 1. --output's name and --format must agree, as pbr evaluate's do ------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "says"),
    [
        ("csv", "y.xlsx", "--format csv writes CSV, but the name says XLSX"),
        ("json", "y.csv", "--format json writes JSON, but the name says CSV"),
        ("xlsx", "x.csv", "--format xlsx writes XLSX, but the name says CSV"),
        ("table", "x.json", "--format table writes a text table, but the name says JSON"),
        ("csv", "x.txt", "--format csv writes CSV, but the name says a text table"),
    ],
)
def test_a_format_the_output_name_contradicts_is_refused(
    tmp_path: Path, fmt: str, name: str, says: str
) -> None:
    """``--format csv --output y.xlsx`` wrote CSV text into y.xlsx (exit 0)."""
    out = tmp_path / name
    message = refused("--families", "790", "--format", fmt, "--output", str(out))
    assert message == (
        f"pbr: cannot write {out}: {says}: name it for "
        f"{'a text table' if fmt == 'table' else fmt.upper()} or leave out --format (the name "
        "decides)"
    )
    assert not out.exists()


def test_evaluate_and_forecast_refuse_a_clash_in_the_same_words(tmp_path: Path) -> None:
    out = tmp_path / "ev2.xlsx"
    forecast = refused("--families", "790", "--format", "csv", "--output", str(out))
    err = io.StringIO()
    families = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    evaluate = ["evaluate", str(families), "--as-of", "2014-03-31", "--format", "csv"]
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        status = main([*evaluate, "--output", str(out)])
    assert status == 2
    assert err.getvalue().strip() == forecast


@pytest.mark.parametrize("name", ["chart.png", "chart.svg", "chart.PDF"])
def test_a_chart_name_for_output_is_refused_pointing_at_plot(tmp_path: Path, name: str) -> None:
    """``--output chart.png`` wrote the text table into chart.png (exit 0)."""
    out = tmp_path / name
    for fmt in ((), ("--format", "csv")):
        message = refused("--families", "790", *fmt, "--output", str(out))
        assert f"cannot write {out}" in message
        assert "--output writes the tables" in message
        assert f"--plot {out}" in message
        assert ".csv, .json, .jsonl, .txt, .xlsx" in message
        assert not out.exists()


def test_an_unknown_output_suffix_is_refused_naming_the_suffixes(tmp_path: Path) -> None:
    out = tmp_path / "out.dat"
    message = refused("--families", "790", "--output", str(out))
    assert message == (
        f"pbr: cannot write {out}: --output's suffix says what it writes (.csv, .json, .jsonl, "
        ".txt, .xlsx), and '.dat' is none of them: name it so, or give --format"
    )
    assert not out.exists()
    # --format says it: the name is the user's to choose (as pbr evaluate allows)
    assert cli("--families", "790", "--format", "csv", "--output", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8").startswith("scenario,")
    # no suffix at all: the text table, as the help says
    plain = tmp_path / "out"
    assert cli("--families", "790", "--output", str(plain)).returncode == 0
    assert "Scenario base" in plain.read_text(encoding="utf-8")


def test_an_output_folder_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder for --output was found only when the tables were written, after the forecast."""
    import pbr.forecast._cli as forecast_cli

    called: list[object] = []
    monkeypatch.setattr(forecast_cli, "_by_assumption", lambda *args: called.append(args))
    message = refused("--families", "790", "--format", "csv", "--output", str(tmp_path))
    assert "it is a folder" in message
    assert called == []


# --- 2. pounds() of a column, and of what is not a table ------------------------------------


def test_pounds_of_a_pence_column_is_that_column_in_pounds() -> None:
    """pounds(frame["total_pence"]) returned it in pence, under its name, its dates as text."""
    frame = drawdown(allocation(790)).to_pandas()
    column = frame["total_pence"]
    view = pounds(column)
    assert view.name == "total"
    assert view.index.equals(column.index)
    assert str(view.index.dtype).startswith("datetime64")
    assert view.tolist() == [v / 100 for v in column.tolist()]
    assert str(view.dtype) == "float64"


def test_pounds_of_a_column_not_in_pence_is_left_as_it_is() -> None:
    frame = drawdown(allocation(790)).to_pandas()
    view = pounds(frame["year"])
    assert view.name == "year"
    assert view.index.equals(frame.index)
    assert view.tolist() == frame["year"].tolist()


def test_pounds_of_a_row_is_still_the_row_in_pounds() -> None:
    """A row (``frame.iloc[0]``) is what the docs call a Series: its labels say the pence."""
    frame = allocation(2630).to_pandas()
    row = pounds(frame.iloc[1])
    assert row["maximum"] == 2922666.67
    assert "maximum_pence" not in row.index


@pytest.mark.parametrize(
    "table",
    [
        {"total_pence": 100},
        [("total_pence", 100)],
        "total_pence",
        None,
    ],
)
def test_pounds_of_what_is_not_a_frame_is_a_type_error_naming_table(table: object) -> None:
    """pounds(dict) raised AttributeError: 'dict' object has no attribute 'columns'."""
    with pytest.raises(TypeError, match=r"^table must be a pandas DataFrame or Series, got "):
        pounds(table)


def test_pounds_of_a_numpy_record_array_is_a_type_error() -> None:
    records = np.rec.fromrecords([(100,)], names="total_pence")
    with pytest.raises(
        TypeError, match=r"table must be a pandas DataFrame or Series, got recarray"
    ):
        pounds(records)


# --- 3. a scenario file that holds nothing but comments ---------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [("c.toml", "# just a comment\n"), ("c.json", "{}"), ("d.toml", "\n# a\n\n# b\n")],
)
def test_a_scenario_file_with_no_scenario_says_so(tmp_path: Path, name: str, text: str) -> None:
    """A comment-only TOML file said "unknown top-level tables : ...", naming no table."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="holds no scenario") as caught:
        load_scenarios(path)
    assert str(caught.value).startswith(f"{path} holds no scenario: a scenario file holds one")
    assert "unknown" not in str(caught.value)
    message = refused("--families", "790", "--scenario", str(path))
    assert message == f"pbr: {caught.value}"


# --- 4. a whole number's message says what is accepted; rates as text ------------------------


@pytest.mark.parametrize("text", ["abc", "100.0", "1e3", "06", "+6", "6 "])
def test_a_whole_number_is_asked_for_in_one_way(text: str) -> None:
    """``abc`` was told "digits, a point or a '/'", and ``100.0`` then "written as digits"."""
    message = refused("--families", text)
    assert (
        "estimated families must be a whole number written as digits with no leading zero, its "
        "thousands grouped by commas or not (such as 0, 790, 2630 or 2,630), got "
        f"{text!r}"
    ) in message
    assert "a point" not in message
    assert "'/'" not in message


@pytest.mark.parametrize("key", ["06", "1e3", "six", "6.0"])
def test_a_lag_key_is_asked_for_in_one_way(key: str) -> None:
    scenario = {"name": "x", "probabilities": {"progress_to_work": "0.2"}, "lag_months": {key: 1}}
    with pytest.raises(ValueError, match="must be a whole number written as digits alone") as e:
        pbr.forecast.Assumptions.from_mapping(scenario)
    assert "a point" not in str(e.value)


def test_a_councils_count_is_asked_for_in_one_way(tmp_path: Path) -> None:
    path = tmp_path / "councils.csv"
    path.write_text("council,estimated_families\nKent,1e3\n", encoding="utf-8")
    message = refused("--councils", str(path))
    assert "estimated_families must be a whole number written as digits alone" in message
    assert "a point" not in message


@pytest.mark.parametrize("rates", ["0.5", b"0.5", 0.5, {"0.5": 1}])
def test_rates_of_the_wrong_type_is_a_type_error_naming_rates(rates: object) -> None:
    """``rates="0.5"`` was read letter by letter: "... got '.'"."""
    with pytest.raises(TypeError, match=r"^rates must be a list of success rates"):
        sensitivity(allocation(790), rates=rates)  # type: ignore[arg-type]


# --- 5. a family paid over its cap is not netted against another family's risk ---------------


def _ex001(payments: list[dict[str, str]]) -> pbr.Family:
    """The trial's EX-001 (crime/ASB/education and employment met by 2013) with `payments`."""
    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    for line in examples.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        if data["family_id"] == "EX-001":
            data["payments"] = payments
            return pbr.Family.model_validate(data)
    raise AssertionError("EX-001 is not in the examples")


FEE = {"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2012-05-01"}
FULL = [FEE, {"kind": "crime_asb_education", "amount": "700.00", "paid_on": "2013-01-01"},
        {"kind": "progress_to_work", "amount": "100.00", "paid_on": "2013-02-01"}]  # fmt: skip
OVER = [FEE, {"kind": "continuous_employment", "amount": "800.00", "paid_on": "2013-01-01"},
        {"kind": "crime_asb_education", "amount": "700.00", "paid_on": "2013-02-01"}]  # fmt: skip


def test_a_family_paid_over_its_cap_is_over_the_maximum_not_less_at_risk() -> None:
    """£700 paid over EX-001's cap lowered the other funded family's risk from £840 to £140."""
    as_of, alloc = date(2013, 3, 31), allocation(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = from_records([_ex001(FULL)], as_of=as_of, alloc=alloc)
    with pytest.warns(UserWarning, match=r"EX-001 £700\.00") as caught:
        over = from_records([_ex001(OVER)], as_of=as_of, alloc=alloc)
    assert len(caught) == 1
    assert "paid beyond its cap" in str(caught[0].message)
    assert (full.secured, over.secured) == (Decimal("4000.00"), Decimal("4700.00"))
    # of the other family's £840 not forecast, £333.75 could only be met after claims closed
    assert over.at_risk == full.at_risk == Decimal("506.25")
    assert over.never_payable == full.never_payable == Decimal("333.75")
    assert (over.over_maximum, over.paid_over_cap) == (Decimal("700.00"), Decimal("700.00"))
    assert (full.over_maximum, full.paid_over_cap) == (Decimal("0.00"), Decimal("0.00"))
    got = over.secured + over.claimable_now + over.total + over.beyond_horizon
    assert over.maximum + over.over_maximum == got + over.never_payable + over.at_risk
    row = over.summary()
    assert (row["over_maximum"], row["paid_over_cap"]) == (Decimal("700.00"), Decimal("700.00"))


def test_the_cli_says_a_family_was_paid_over_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "over.jsonl"
    path.write_text(_ex001(OVER).model_dump_json() + "\n", encoding="utf-8")
    ran = cli("--records", str(path), "--estimated", "2", "--as-of", "2013-03-31")
    assert ran.returncode == 0, ran.stderr
    assert "at risk £506.25" in ran.stdout
    assert "over the maximum £700.00: £700.00 paid beyond families' caps" in ran.stdout
    assert "pbr: warning: " in ran.stderr
    assert "EX-001 £700.00" in ran.stderr


def test_a_payment_for_a_family_not_eligible_is_not_netted_against_risk() -> None:
    """What was paid for a family with no funded place lowered the funded family's risk."""
    paid = [{"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2012-11-30"}]
    not_troubled = family(family_id="NO", identified_for=["work"], payments=paid)
    nothing = pbr.forecast.Assumptions("none", {"continuous_employment": 0}, {6: 1})
    as_of = date(2012, 12, 31)
    with pytest.warns(UserWarning, match=r"NO £3,200\.00"):
        d = from_records([not_troubled], as_of=as_of, alloc=allocation(1), assumptions=nothing)
    assert d.at_risk == d.maximum - d.total - d.never_payable == Decimal("1600.00")
    assert d.never_payable == d.never_payable_after_claims_closed == Decimal("266.67")
    assert (d.over_maximum, d.paid_over_cap) == (Decimal("3200.00"), Decimal("3200.00"))


# --- found on a second look: standard output named twice, commas anywhere in a count -----------


@pytest.mark.parametrize("plot", ["-", "/dev/stdout"])
def test_a_chart_to_standard_output_beside_the_table_is_refused(plot: str) -> None:
    """``--plot -`` wrote the PNG's bytes to standard output straight after the text table."""
    said = refused("--families", "790", "--plot", plot)
    assert said == (
        "pbr: --plot names standard output, where the table goes too: give --output FILE for "
        "the table, or --plot FILE"
    )


@pytest.mark.parametrize("text", [",7,9,0,", "12,34", "1,0000", "2,630,", "７９０", "0,790"])
def test_families_take_commas_only_as_thousands_separators(text: str) -> None:
    """``--families ,7,9,0,`` ran as 790 families, while the message said "digits alone"."""
    said = refused("--families", text)
    assert "digits with no leading zero, its thousands grouped by commas or not" in said


def test_families_grouped_in_thousands_are_the_same_number() -> None:
    assert cli("--families", "2,630").stdout == cli("--families", "2630").stdout
    assert cli("--families", "1,000,000").returncode == 0
