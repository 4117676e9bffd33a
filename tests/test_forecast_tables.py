"""Tables analysts can use: numbers in pence that add up to the penny, sums, plots and XLSX."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pbr.forecast import (
    Assumptions,
    ClaimCalendar,
    allocation,
    allocation_table,
    compare,
    default_scenarios,
    drawdown,
    pounds,
    sensitivity,
)
from pbr.forecast._excel import neutralise, safe_target
from pbr.forecast._extras import pandas
from pbr.money import ZERO
from tests.builders import rejected_record

pytestmark = pytest.mark.filterwarnings("ignore:the claim windows run past")
"""Windows past phase one's last day for results claims, on purpose: figures pinned before it."""

pd = pandas()  # untyped: pandas has no stubs here

LANCASHIRE = 2630  # £8,768,000 (the published figure): 2,192 funded families × £4,000
MONEY = ("maximum", "attachment_fees", "results_potential", "upfront_grant")


def total(rows: list[dict[str, Any]], column: str) -> Decimal:
    return sum((r[column] for r in rows if r.get(column) is not None), ZERO)


# --- the defects -------------------------------------------------------------------


def test_per_year_maxima_add_up_to_the_maximum_to_the_penny() -> None:
    """allocation(2630): the years' maxima added to £8,768,000.01 while .maximum was £8,768,000."""
    a = allocation(LANCASHIRE)
    assert a.maximum == Decimal("8768000.00")
    assert sum(y.maximum for y in a.years) == a.maximum
    frame = a.to_pandas()
    assert int(frame["maximum_pence"].sum()) == 876_800_000
    assert round(pounds(frame)["maximum"].sum(), 2) == 8_768_000.00


def test_by_year_adds_up_to_the_totals() -> None:
    """by_year() showed £2,630,399.99 and £2,630,400.01 for years whose exact value is whole."""
    d = drawdown(allocation(LANCASHIRE))
    rows = d.by_year()
    assert total(rows, "total") == d.total + d.beyond_horizon
    assert total(rows, "maximum_by_attachment") == d.maximum
    assert total(rows, "maximum_by_claim") == d.maximum
    assert total(rows, "at_risk") == d.at_risk
    # every money cell is within a penny of its exact value: an exact whole year stays whole
    fees = {r["year"]: r["attachment_fees"] for r in rows}
    assert fees["2013/14"] == Decimal(2192 * 2400) / 3 == Decimal("1753600")


def test_frames_are_numbers() -> None:
    frame = drawdown(allocation(LANCASHIRE), runs=50).to_pandas()
    assert str(frame.index.dtype).startswith("datetime64")
    money = [c for c in frame.columns if c.endswith("_pence")]
    assert money
    assert all(frame[c].dtype == np.int64 for c in money)
    alloc = allocation(LANCASHIRE).to_pandas()
    assert alloc["share"].dtype == np.float64
    assert alloc["families"].dtype == np.float64
    assert alloc["families"].iloc[0] == pytest.approx(2192 / 3)


def test_sum_plot_and_to_excel_just_work(tmp_path: Path) -> None:
    d = drawdown(allocation(LANCASHIRE))
    frame = d.to_pandas()
    sums = frame.sum()
    assert int(sums["total_pence"]) == int(d.total * 100)
    view = pounds(frame)
    axes = view.plot(y="cumulative")
    assert axes.get_lines()[0].get_ydata()[-1] == pytest.approx(float(d.total))
    frame.to_excel(tmp_path / "frame.xlsx")
    sheet = load_workbook(tmp_path / "frame.xlsx").active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("total_pence") + 1)
    assert cell.data_type == "n"
    assert isinstance(
        sheet.cell(row=2, column=1).value, type(pd.Timestamp(2012, 6, 30).to_pydatetime())
    )


def test_pounds_view_of_a_row_and_of_a_frame() -> None:
    frame = allocation(790).to_pandas()
    row = pounds(frame.sum(numeric_only=True))
    assert row["maximum"] == 2_632_000.0
    assert "maximum_pence" not in row.index
    assert list(pounds(frame).columns) == [c.removesuffix("_pence") for c in frame.columns]


def test_records_keep_as_of_in_the_frame_attributes() -> None:
    from pbr.forecast import from_records

    d = from_records([rejected_record()], as_of=date(2013, 6, 30), alloc=allocation(60))
    frame = d.to_pandas()
    assert frame.attrs["as_of"] == date(2013, 6, 30)
    assert "as_of" not in frame.columns
    assert int(frame.sum()["total_pence"]) == int(d.total * 100)


def test_an_unknown_table_is_an_error() -> None:
    with pytest.raises(ValueError, match="table must be one of"):
        drawdown(allocation(6)).to_pandas("nonsense")


@pytest.mark.parametrize("name", ["by year", "by_year", "by-year", "years"])
def test_the_table_by_year_has_the_same_names_in_python_and_on_the_command_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`to_pandas("years")` was refused, though the command's `--table` accepted only it."""
    from pbr.cli import main

    d = drawdown(allocation(790))
    assert d.to_pandas(name).equals(d.to_pandas("by year"))
    assert compare(allocation(790)).to_pandas(name)["year"].tolist()[-1] == "later"
    assert main(["forecast", "--families", "790", "--format", "csv", "--table", name]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("scenario,year,maximum_by_attachment")
    assert lines[-1].startswith("base,later,")


# --- XLSX -----------------------------------------------------------------------------------


def test_excel_has_a_sheet_per_table_with_numbers_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "forecast.xlsx"
    compare(allocation(LANCASHIRE), default_scenarios(), runs=50).to_excel(path)
    book = load_workbook(path)
    assert book.sheetnames == ["summary", "by year", "windows", "allocation"]
    summary = book["summary"]
    header = [c.value for c in summary[1]]
    maximum = summary.cell(row=2, column=header.index("maximum") + 1)
    assert (maximum.value, maximum.data_type) == (8768000, "n")
    assert "£" in maximum.number_format
    windows = book["windows"]
    dates = [c.value for c in windows["B" if windows["A1"].value == "scenario" else "A"]]
    assert any(hasattr(v, "year") for v in dates)


def test_a_workbook_has_the_columns_of_its_tables_none_of_them_empty(tmp_path: Path) -> None:
    """A forecast from an allocation has no as_of: its workbook once had an empty as_of column."""
    from pbr.forecast import Comparison, from_records

    councils = allocation_table([{"council": "A", "estimated_families": 6}, {"council": "B", "estimated_families": 9}])  # fmt: skip
    cases = {
        "one": compare(allocation(790), default_scenarios()),
        "councils": councils.compare(),
        "records": Comparison(
            (from_records([rejected_record()], as_of=date(2013, 6, 30), alloc=allocation(60)),)
        ),
    }
    for name, both in cases.items():
        path = tmp_path / f"{name}.xlsx"
        both.to_excel(path)
        book = load_workbook(path)
        for table in book.sheetnames:
            rows = list(book[table].iter_rows(values_only=True))
            header = list(rows[0])
            empty = [c for i, c in enumerate(header) if all(r[i] is None for r in rows[1:])]
            assert empty == [], (name, table)
            frame = both.to_pandas(table)
            # attrs hold every table's provenance too; the workbook gives it in its summary
            kept = set(frame.attrs) - {"interpretations", "rules_hash", "outcome_plan"}
            shown = {str(c).removesuffix("_pence") for c in frame.columns} | kept
            assert set(header) == shown | ({frame.index.name} - {None}), (name, table)
            if table == "summary":
                assert {"interpretations", "rules_hash"} <= set(header), name
        assert ("as_of" in both.summary()[0]) is (name == "records")


def test_no_window_left_keeps_the_windows_columns_in_pandas_and_xlsx(tmp_path: Path) -> None:
    """As of 2016 phase one's windows are all past: the DataFrame was of shape (0, 0) and the
    windows sheet blank; each now has the columns (and dtypes) it has with windows."""
    import warnings

    import pbr
    from pbr.forecast import Comparison, from_records

    records = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two councils; results payable after claims closed
        made = {
            when: from_records(pbr.read_records(records), as_of=when, alloc=allocation(80))
            for when in (date(2014, 3, 31), date(2016, 6, 30))
        }
    some, none = made[date(2014, 3, 31)], made[date(2016, 6, 30)]
    assert some.windows
    assert none.windows == ()
    for kind in (lambda d: d, lambda d: Comparison((d,))):
        full, empty = kind(some).to_pandas(), kind(none).to_pandas()
        assert empty.shape == (0, full.shape[1])
        assert empty.dtypes.to_dict() == full.dtypes.to_dict()
        assert str(empty["total_pence"].dtype) == "int64"
        assert (empty.index.name, str(empty.index.dtype)) == ("claim_date", "datetime64[us]")
        assert empty.attrs == {"as_of": date(2016, 6, 30), **some.provenance}
        assert pounds(empty).columns.tolist() == pounds(full).columns.tolist()
        kind(none).to_excel(tmp_path / "none.xlsx")
        kind(some).to_excel(tmp_path / "some.xlsx")
        sheets = [load_workbook(tmp_path / f"{n}.xlsx")["windows"] for n in ("some", "none")]
        header = [c.value for c in next(sheets[0].iter_rows(max_row=1))]
        assert list(sheets[1].iter_rows(values_only=True)) == [tuple(header)]


def test_cli_no_window_left_keeps_the_windows_header(tmp_path: Path) -> None:
    """``--format csv`` printed one blank line and the workbook's windows sheet was blank."""
    import csv
    import io

    from .forecast_cli import cli

    records = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    args = ("--records", str(records), "--estimated", "80")
    ran = {when: cli(*args, "--as-of", when, "--format", "csv") for when in ("2014-03-31", "2016-06-30")}  # fmt: skip
    assert {r.returncode for r in ran.values()} == {0}
    head = ran["2014-03-31"].stdout.splitlines()[0]
    assert ran["2016-06-30"].stdout == head + "\n"
    assert next(csv.reader(io.StringIO(head)))[:2] == ["scenario", "as_of"]
    assert cli(*args, "--as-of", "2016-06-30", "--format", "json").stdout == ""  # JSON Lines
    out = tmp_path / "cli.xlsx"
    assert cli(*args, "--as-of", "2016-06-30", "--output", str(out)).returncode == 0
    rows = list(load_workbook(out)["windows"].iter_rows(values_only=True))
    assert rows == [tuple(next(csv.reader(io.StringIO(head))))]


def test_excel_text_is_neutralised_and_odd_targets_refused(tmp_path: Path) -> None:
    table = allocation_table([{"council": '=HYPERLINK("x")', "estimated_families": 60}])
    path = tmp_path / "councils.xlsx"
    table.to_excel(path)
    cell = load_workbook(path)["summary"]["A2"]
    assert cell.value == '\'=HYPERLINK("x")'
    assert cell.data_type == "s"
    assert neutralise("+SUM(1)") == "'+SUM(1)"
    assert neutralise("Kent") == "Kent"
    (tmp_path / "folder.xlsx").mkdir()
    with pytest.raises(ValueError, match="it is a folder"):
        table.to_excel(tmp_path / "folder.xlsx")
    link = tmp_path / "link.xlsx"
    os.symlink(path, link)
    with pytest.raises(ValueError, match="it is a symbolic link"):
        safe_target(link)
    with pytest.raises(ValueError, match="does not exist"):
        safe_target(tmp_path / "missing" / "x.xlsx")
    table.to_excel("/dev/null")  # a device is written as every pbr writer writes it


def test_to_excel_refusing_a_path_is_a_pbr_error_and_still_a_value_error(tmp_path: Path) -> None:
    """docs/api.md promises a PbrError; to_excel refusing a link raised a plain ValueError."""
    import pbr

    precious = tmp_path / "precious.txt"
    precious.write_text("keep", encoding="utf-8")
    link = tmp_path / "link.xlsx"
    os.symlink(precious, link)
    a = allocation(790)
    tables: list[Any] = [
        a,
        drawdown(a),
        compare(a),
        allocation_table([{"council": "A", "estimated_families": 60}]),
        sensitivity(a),
    ]
    for table in tables:
        with pytest.raises(pbr.ForecastError, match=r"through .*link\.xlsx: it is a symbolic"):
            table.to_excel(link)
        with pytest.raises(pbr.PbrError, match="does not exist"):
            table.to_excel(tmp_path / "missing" / "x.xlsx")
    assert issubclass(pbr.ForecastError, ValueError)
    assert precious.read_text(encoding="utf-8") == "keep"


def _charts() -> list[Any]:
    """Every object with a ``plot(path)``: one council, councils side by side, sensitivity."""
    a = allocation(60)
    table = allocation_table(
        [{"council": "A", "estimated_families": 60}, {"council": "B", "estimated_families": 90}]
    )
    return [drawdown(a), compare(a), table.compare(), sensitivity(a), table]


def test_plot_refuses_what_to_excel_refuses_and_writes_nothing_through_a_link(
    tmp_path: Path,
) -> None:
    """``plot("l.png")`` wrote through a link (over precious.txt); a missing folder was raw."""
    import pbr

    precious = tmp_path / "precious.txt"
    precious.write_text("keep", encoding="utf-8")
    link = tmp_path / "l.png"
    os.symlink(precious, link)
    (tmp_path / "folder.png").mkdir()
    for chart in _charts():
        with pytest.raises(pbr.ForecastError, match=r"through .*l\.png: it is a symbolic link"):
            chart.plot(str(link))
        with pytest.raises(pbr.ForecastError, match=r"folder\.png: it is a folder"):
            chart.plot(str(tmp_path / "folder.png"))
        with pytest.raises(pbr.ForecastError, match=r"cannot write .*x\.png: folder .* does not"):
            chart.plot(str(tmp_path / "missing" / "x.png"))
        with pytest.raises(pbr.ForecastError, match="matplotlib does not write 'foo'"):
            chart.plot(str(tmp_path / "x.foo"))
    assert precious.read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.png", "l.png", "precious.txt"]


def test_plot_replaces_a_regular_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    path.write_bytes(b"an old chart")
    path.chmod(0o640)
    for chart in _charts():
        chart.plot(str(path))
        assert path.read_bytes()[:4] == b"\x89PNG"
        assert path.stat().st_mode & 0o777 == 0o640  # replaced, as pbr replaces every file
    drawdown(allocation(60)).plot(str(tmp_path / "chart.svg"))
    assert b"<svg" in (tmp_path / "chart.svg").read_bytes()[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png", "chart.svg"]


def test_excel_replaces_a_regular_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"not a workbook")
    allocation(790).to_excel(path)
    assert load_workbook(path).sheetnames == ["allocation"]
    assert [p.name for p in tmp_path.iterdir()] == ["old.xlsx"]  # no temporary file left


# --- every table adds up to the penny -----------------------------------------------------------

probabilities = st.fixed_dictionaries(
    {
        "crime_asb_education": st.fractions(0, Fraction(1, 2), max_denominator=40),
        "progress_to_work": st.fractions(0, 1, max_denominator=40),
        "continuous_employment": st.fractions(0, Fraction(1, 4), max_denominator=40),
    }
)
lags = st.dictionaries(st.integers(6, 40), st.integers(1, 7), min_size=1, max_size=4).map(
    lambda w: {m: Fraction(v, sum(w.values())) for m, v in w.items()}
)
shares = (
    st.lists(st.integers(0, 9), min_size=3, max_size=3)
    .filter(any)
    .map(
        lambda w: {
            y: Fraction(v, sum(w))
            for y, v in zip(("2012/13", "2013/14", "2014/15"), w, strict=True)
        }
    )
)
SHORT = ClaimCalendar.quarterly(date(2012, 4, 1), date(2016, 3, 31))  # some results fall beyond


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 30_000),
    shares,
    probabilities,
    lags,
    st.sampled_from([None, SHORT]),
    st.sampled_from([None, "1081000", "87500.55"]),
)
@pytest.mark.slow
def test_every_table_adds_up_to_the_penny(
    estimated: int,
    profile: dict[str, Fraction],
    probs: dict[str, Fraction],
    lag: dict[int, Fraction],
    calendar: ClaimCalendar | None,
    grant: str | None,
) -> None:
    a = allocation(estimated, profile=profile, upfront_grant=grant, council="C")
    # the allocation: years add up to the totals, and the totals to the maximum
    rows = a.to_records()
    for column in MONEY:
        assert total(rows, column) == getattr(a, column)
    assert a.attachment_fees + a.results_potential + a.upfront_grant == a.maximum
    for y in a.years:
        assert abs(Fraction(y.attachment_fees) - y.exact_attachment_fees) < Fraction(1, 100)
        assert abs(Fraction(y.results_potential) - y.exact_results_potential) < Fraction(1, 100)
    # the drawdown: windows, years and summary add up to one another and to the maximum
    d = drawdown(a, Assumptions("s", probs, lag), calendar=calendar)
    windows = d.to_records()
    years = d.by_year()
    summary = d.summary()
    money = ("forecast", "beyond_horizon", "never_payable", "at_risk")
    assert sum((summary[k] for k in money), ZERO) == a.maximum
    assert total(windows, "total") == d.total
    for w in windows:
        parts = w["attachment_fees"] + w.get("upfront_grant", ZERO)
        parts += sum((w[k] for k in probs), ZERO)
        assert parts == w["total"]
    for column in (
        "total",
        "at_risk",
        "never_payable",
        "maximum_by_claim",
        "maximum_by_attachment",
    ):
        assert (
            total(years, column)
            == {
                "total": d.total + d.beyond_horizon,
                "at_risk": d.at_risk,
                "never_payable": d.never_payable,
                "maximum_by_claim": a.maximum,
                "maximum_by_attachment": a.maximum,
            }[column]
        )
    for row in years:
        assert row["total"] + row["at_risk"] + row["never_payable"] == row["maximum_by_claim"]
        assert min(row["at_risk"], row["total"], row["never_payable"]) >= 0
    assert years[-1]["cumulative"] == d.total + d.beyond_horizon
    # the frames hold the same pence
    frame = d.to_pandas("by year")
    assert int(frame["maximum_by_claim_pence"].sum()) == int(a.maximum * 100)
    # the sensitivity rows add up to the maximum at every rate
    for row in sensitivity(a, Assumptions("s", probs, lag), calendar=calendar).to_records():
        money = row["forecast"] + row["beyond_horizon"] + row["never_payable"] + row["at_risk"]
        assert money == a.maximum
        assert (
            row["attachment_fees"] + row.get("upfront_grant", ZERO) + row["results"]
            == row["forecast"]
        )


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 9000), min_size=1, max_size=6, unique=True))
def test_a_councils_table_adds_up(estimates: list[int]) -> None:
    table = allocation_table(
        [{"council": f"C{n}", "estimated_families": e} for n, e in enumerate(estimates)]
    )
    assert total(table.to_records(), "maximum") == table.maximum
    assert total(table.summary(), "maximum") == table.maximum
    both = table.compare()
    summary = both.summary()
    money = ("forecast", "beyond_horizon", "never_payable", "at_risk")
    assert sum((total(summary, k) for k in money), ZERO) == table.maximum


def test_the_later_row_has_a_band_so_the_band_columns_stay_whole_pence() -> None:
    """by year's 'later' row had p5/p50/p95 of None: the frame's band columns became Int64."""
    d = drawdown(allocation(790), runs=300, seed=3)
    rows = d.by_year()
    later = rows[-1]
    assert later["year"] == "later"
    assert later["p5"] <= later["p50"] <= later["p95"]
    assert later["p5"] >= rows[-2]["p5"]  # the running total goes on beyond the last window
    assert d.beyond_band == (later["p5"], later["p50"], later["p95"])
    frame = d.to_pandas("by year")
    assert {str(frame[c].dtype) for c in ("p5_pence", "p50_pence", "p95_pence")} == {"int64"}
    # the windows' bands and the mean are those of the windows, as before
    assert d.windows[-1].median == rows[-2]["p50"]
    assert abs(d.mc_mean - d.total) < d.total / 100  # type: ignore[operator]


def test_the_cumulative_total_is_the_exact_running_total_to_the_penny() -> None:
    """By 31 December 2012 only fees, exactly £2,000,000.00, are due: it showed £2,000,000.01.

    Three windows of £666,666.666… each rounded to £666,666.67 and added up drifted a penny, and
    the central estimate fell outside its Monte Carlo band of no spread.
    """
    d = drawdown(allocation(3000), default_scenarios()[1], runs=1000, seed=5)
    w = d.windows[2]
    assert w.claim_date == date(2012, 12, 31)
    assert (w.cumulative, w.low, w.median, w.high) == (Decimal("2000000.00"),) * 4
    assert sum((x.total for x in d.windows[:3]), ZERO) == Decimal("2000000.01")  # the totals
    years = d.by_year()
    assert years[0]["cumulative"] == d.windows[3].cumulative  # 2012/13 ends on 31 March 2013


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 250), st.integers(0, 2**32 - 1), st.sampled_from(list(default_scenarios())))
def test_a_band_with_no_spread_holds_the_cumulative_total(
    units: int, seed: int, scenario: Assumptions
) -> None:
    """Where every run has drawn the same money (fees only), it is the exact amount due.

    36 estimated families a unit: 30 funded, 10 a year, 2½ a quarter, so a run's families to
    date are whole (and the same in every run) or a half (and differ between the 40 runs).
    """
    d = drawdown(allocation(36 * units), scenario, runs=40, seed=seed)
    previous = ZERO
    for w in d.windows:
        assert w.low is not None
        assert w.high is not None
        if w.low == w.high:
            assert w.cumulative == w.low
        assert w.cumulative >= previous
        previous = w.cumulative
    assert d.windows[-1].cumulative == d.total == sum((w.total for w in d.windows), ZERO)
    assert d.by_year()[-1]["cumulative"] == d.total + d.beyond_horizon
