"""Many councils at once, the Supporting Families up-front grant, titles, and the CLI around them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pbr.forecast import (
    allocation,
    allocation_table,
    compare,
    default_scenarios,
    drawdown,
    from_records,
    sensitivity,
)
from pbr.forecast._extras import pandas
from tests.builders import rejected_record

from .forecast_cli import cli

pd = pandas()  # untyped: pandas has no stubs here

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COUNCILS = EXAMPLES / "councils.csv"
PUBLISHED = {"Lancashire": "8768000.00", "Birmingham": "13932000.00", "Kent": "8532000.00"}


def test_the_example_councils_match_the_published_maxima() -> None:
    table = allocation_table(COUNCILS)
    assert len(table.allocations) == 10
    found = {a.council: str(a.maximum) for a in table.allocations}
    assert {k: found[k] for k in PUBLISHED} == PUBLISHED
    assert found["Westminster"] == "2632000.00"  # S2
    assert found["Hammersmith & Fulham"] == "1800000.00"  # S2


def test_one_tidy_table_of_councils_and_years() -> None:
    table = allocation_table(COUNCILS)
    frame = table.to_pandas()
    assert list(frame.columns[:3]) == ["council", "programme", "year"]
    assert len(frame) == 30
    by_council = frame.groupby("council")["maximum_pence"].sum()
    assert int(by_council["Lancashire"]) == 876_800_000
    summary = table.to_pandas("summary")
    assert int(summary["maximum_pence"].sum()) == int(table.maximum * 100)
    with pytest.raises(ValueError, match="'years' or 'summary'"):
        table.to_pandas("windows")


@pytest.mark.slow
def test_every_council_under_each_scenario_side_by_side(tmp_path: Path) -> None:
    table = allocation_table(COUNCILS)
    both = table.compare(default_scenarios(), runs=100, seed=1)
    assert len(both.drawdowns) == 20
    assert both.councils[0] == "Birmingham"
    summary = both.to_pandas("summary")
    assert set(summary["scenario"]) == {"base", "pessimistic"}
    assert summary.groupby("scenario")["maximum_pence"].sum().nunique() == 1
    windows = both.to_pandas()
    assert {"council", "scenario"} <= set(windows.columns)
    figure = both.plot(str(tmp_path / "councils.png"))
    assert (tmp_path / "councils.png").read_bytes()[:4] == b"\x89PNG"
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == 10
    assert panels[0].get_title().startswith("Birmingham\nmaximum £13.93m")
    assert "Cumulative drawdown by council" in figure._suptitle.get_text()
    assert "Band: p5–p95 of 100 runs" in figure._supxlabel.get_text()
    chart = table.plot(str(tmp_path / "allocations.png"), title="Ten councils")
    assert chart.axes[0].get_title() == "Ten councils"
    assert "£ million" in chart.axes[0].get_xlabel()


def test_a_dataframe_of_councils_with_blank_cells() -> None:
    frame = pd.DataFrame(
        {
            "council": ["A", "B"],
            "estimated_families": [600, 1200],
            "programme": ["tf-phase-1", "supporting-families"],
            "upfront_grant": [float("nan"), 1081000.0],
        }
    )
    table = allocation_table(frame)
    assert [a.upfront_grant for a in table.allocations] == [Decimal("0.00"), Decimal("4324000.00")]
    rows = table.compare().summary()
    assert [r["scenario"] for r in rows] == ["base", "base"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("council,estimated_families,region\nKent,2560,SE\n", "line 2: unknown columns ['region']"),
        ("council,estimated_families\n,2560\n", "line 2: council: a name is required"),
        (
            "council,estimated_families\nKent,lots\n",
            "line 2 (council 'Kent'): estimated_families must be a whole number written as digits",
        ),
        (
            "council,estimated_families\nKent,\n",
            "(council 'Kent'): estimated_families: a number is required",
        ),
        ("council,estimated_families\nKent,2560\nKent,2561\n", "council 'Kent' is listed twice"),
        (
            "council,estimated_families,programme\nKent,2560,phase-9\n",
            "unknown programme 'phase-9'",
        ),
        (
            "council,estimated_families,upfront_grant\nKent,2560,-5\n",
            "upfront_grant must not be negative",
        ),
        ("council,estimated_families\n", "no councils"),
        ("council,estimated_families\nKent,2560,extra\n", "line 2: more cells than columns"),
    ],
)
def test_a_bad_councils_file_names_line_council_and_column(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "councils.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r".") as error:
        allocation_table(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("cell", "shown", "character"),
    [
        ('"\r=cr"', "'\\r=cr'", "U+000D, at character 1"),
        ('"Kent\r"', "'Kent\\r'", "U+000D, at character 5"),
        ('"North\nYorkshire"', "'North\\nYorkshire'", "U+000A, at character 6"),
        ('"North\r\nYorkshire"', "'North\\r\\nYorkshire'", "U+000D, at character 6"),
        ("Ke\x1bnt", "'Ke\\x1bnt'", "U+001B, at character 3"),
    ],
)
def test_a_council_name_with_a_control_character_is_refused_not_changed(
    tmp_path: Path, cell: str, shown: str, character: str
) -> None:
    """The CSV reader split the text into lines first: "\r=cr" was read as "=cr", and a quoted
    name spanning two lines as the two joined ("NorthYorkshire"), without a word."""
    path = tmp_path / "councils.csv"
    path.write_text(f"council,estimated_families\nLeeds,60\n{cell},70\n", "utf-8", newline="")
    with pytest.raises(ValueError, match=r".") as error:
        allocation_table(path)
    assert str(error.value) == (
        f"{path} line 3: council {shown} holds a control character, {character}: a council's "
        "name must be printable text; pbr does not trim or change it: remove it"
    )
    name = cell.strip('"')
    with pytest.raises(ValueError, match=r".") as framed:  # the DataFrame's own path
        allocation_table(pd.DataFrame({"council": [name], "estimated_families": [70]}))
    assert str(framed.value).startswith(f"row 1: council {shown} holds a control character")


def test_councils_csv_line_ends_and_line_numbers_as_written(tmp_path: Path) -> None:
    path = tmp_path / "councils.csv"
    path.write_text(
        'council,estimated_families\r\nKent,60\r\n\r\n"Leeds, West",70\rBad,x\r\n',
        "utf-8",
        newline="",
    )
    with pytest.raises(ValueError, match=r"councils\.csv line 5 \(council 'Bad'\)"):
        allocation_table(path)
    path.write_text('council,estimated_families\r\nKent,60\r\n"Leeds, West",70\r\n', "utf-8")
    assert [a.council for a in allocation_table(path).allocations] == ["Kent", "Leeds, West"]


@pytest.mark.parametrize("blank", [",,,", "   ", " , ,\t,", '"",,,'])
def test_a_blank_row_of_the_councils_csv_is_an_error_naming_its_line(
    tmp_path: Path, blank: str
) -> None:
    """A row of empty cells was skipped without a word; council tables report it (empty_row)."""
    path = tmp_path / "councils.csv"
    path.write_text(
        "council,estimated_families,programme,upfront_grant\nKent,2560,tf-phase-1,\n"
        f'{blank}\nLeeds,"2,630",tf-phase-1,\n',
        encoding="utf-8",
    )
    said = f"{path} line 3: the row is empty (every cell blank): delete it"
    with pytest.raises(ValueError, match=r".") as error:
        allocation_table(path)
    assert str(error.value) == said
    result = cli("--councils", str(path), "--format", "csv", "--table", "summary")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"pbr: {said}\n")


def test_an_empty_line_of_the_councils_csv_is_no_row(tmp_path: Path) -> None:
    """As in council tables: a line with nothing on it, not even a comma, is skipped."""
    path = tmp_path / "councils.csv"
    path.write_text("council,estimated_families\n\nKent,2560\n\n\nLeeds,60\n\n", "utf-8")
    assert [a.council for a in allocation_table(path).allocations] == ["Kent", "Leeds"]


def test_people_type_numbers_with_commas_and_pounds(tmp_path: Path) -> None:
    path = tmp_path / "typed.csv"
    path.write_text(
        'council,estimated_families,programme,upfront_grant\n"Kent","2,560",tf-phase-1,\n'
        'North Yorkshire,1000,supporting-families,"£1,081,000"\n',
        encoding="utf-8-sig",
    )
    table = allocation_table(path)
    assert [str(a.maximum) for a in table.allocations] == ["8532000.00", "5124000.00"]


# --- the Supporting Families up-front grant -------------------------------------------------


def test_north_yorkshire_up_front_grant_and_800_per_family() -> None:
    """tf-rules §3 (S41): £1,081,000 a year up front + £800 per successful family."""
    a = allocation(1000, "supporting-families", upfront_grant="1081000", council="North Yorkshire")
    assert [str(y.year) for y in a.years] == ["2021/22", "2022/23", "2023/24", "2024/25"]
    assert all(y.upfront_grant == Decimal("1081000.00") for y in a.years)
    assert a.maximum == 1000 * Decimal(800) + 4 * Decimal(1_081_000)
    d = drawdown(a)
    grants = {w.claim_date: w.upfront_grant for w in d.windows if w.upfront_grant}
    assert grants == {date(y, 6, 30): Decimal("1081000.00") for y in (2021, 2022, 2023, 2024)}
    assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == a.maximum
    assert d.at_risk <= 1000 * Decimal(800)  # the grant is never at risk
    s = sensitivity(a, rates=[0])
    assert s.forecast[0] == 4 * Decimal(1_081_000)
    records = from_records([rejected_record()], as_of=date(2022, 6, 30), alloc=a)
    assert records.secured == 2 * Decimal(1_081_000)  # the years begun: 2021/22 and 2022/23


def test_a_grant_by_year_and_bad_grants() -> None:
    a = allocation(
        100, "supporting-families", upfront_grant={"2021/22": "500000", "2022/23": 250000}
    )
    assert [str(y.upfront_grant) for y in a.years] == ["500000.00", "250000.00", "0.00", "0.00"]
    with pytest.raises(ValueError, match="upfront_grant year 2030/31 is outside"):
        allocation(100, "supporting-families", upfront_grant={"2030/31": "1"})
    with pytest.raises(
        ValueError,
        match="upfront_grant: money must be a decimal string or whole pounds, not a float",
    ):
        allocation(100, "supporting-families", upfront_grant=0.5)


# --- titles and units by default ------------------------------------------------------------------


def test_charts_have_titles_units_and_say_what_the_band_is(tmp_path: Path) -> None:
    d = drawdown(allocation(2630, council="Lancashire"), runs=100)
    figure = d.plot()
    title = figure._suptitle.get_text()
    assert title == "Lancashire: drawdown forecast, Troubled Families phase one"
    bars, lines = figure.axes
    assert bars.get_ylabel() == "£ million"
    assert lines.get_ylabel() == "£ million, cumulative"
    notes = " ".join(t.get_text() for t in figure.texts)
    assert "Band: p5–p95 of 100 runs: rates drawn from the scenario ranges" in notes
    custom = compare(allocation(790), default_scenarios()).plot(title="Westminster")
    assert custom._suptitle.get_text() == "Westminster"
    small = drawdown(allocation(60)).plot()
    assert small.axes[0].get_ylabel() == "£ thousand"
    assert "60 estimated families" in small._suptitle.get_text()


# --- command line -----------------------------------------------------------------------------


def test_cli_several_families_are_several_councils() -> None:
    """--families 4180 --families 2560 silently used the last."""
    result = cli("--families", "4180", "--families", "2560")
    assert result.returncode == 0, result.stderr
    assert "4,180 estimated families base          £13,932,000.00" in result.stdout
    assert "2,560 estimated families base           £8,532,000.00" in result.stdout
    assert "all councils" in result.stdout


def test_cli_councils_file_as_table_csv_json_and_xlsx(tmp_path: Path) -> None:
    table = cli(
        "--councils",
        str(COUNCILS),
        "--scenario",
        str(EXAMPLES / "forecast-scenarios.toml"),
        "--runs",
        "50",
    )
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["council", "scenario"]
    assert any(line.startswith("Lancashire") and "pessimistic" in line for line in lines)
    assert "band: p5–p95 of 50 runs" in table.stdout
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli("--councils", str(COUNCILS), "--format", "csv", "--table", "summary").stdout
            )
        )
    )
    assert [r["council"] for r in rows][:2] == ["Birmingham", "Lancashire"]
    assert rows[1]["maximum"] == "8768000.00"
    years = [
        json.loads(line)
        for line in cli(
            "--councils", str(COUNCILS), "--format", "json", "--table", "years"
        ).stdout.splitlines()
    ]
    assert {r["council"] for r in years} == {r["council"] for r in rows}
    path = tmp_path / "councils.xlsx"
    written = cli("--councils", str(COUNCILS), "--output", str(path), "--sensitivity")
    assert written.returncode == 0, written.stderr
    book = load_workbook(path)
    assert book.sheetnames == ["summary", "by year", "windows", "allocation", "sensitivity"]
    sheet = book["summary"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("maximum") + 1)
    assert (cell.value, cell.data_type) == (13932000, "n")


def test_cli_shows_the_maximum_by_year_of_attachment_and_of_claim() -> None:
    result = cli("--families", "2630")
    assert result.returncode == 0, result.stderr
    head = result.stdout.splitlines()[1]
    assert "max by attach" in head
    assert "max by claim" in head
    assert "at risk" in head
    assert (
        "2012/13    £2,922,666.67   £2,447,733.33" in result.stdout
        or "2012/13    £2,922,666.66   £2,447,733.33" in result.stdout
    )
    assert "at risk £1,002,840.00" in result.stdout  # was £1,490,560.00, met after claims closed
    assert "never payable £487,720.00: could only be met or claimed after results" in result.stdout


def test_cli_sensitivity_table_and_csv() -> None:
    result = cli("--families", "2630", "--sensitivity")
    assert (
        "Sensitivity (families earning their whole results share; 'base' timing)" in result.stdout
    )
    # phase one's windows end with its results claims (31 May 2015): later results lie beyond
    assert (
        "      50%    £6,429,866.67    £584,533.33    £584,533.33    £1,169,066.67" in result.stdout
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli(
                    "--families",
                    "2630",
                    "--sensitivity",
                    "--format",
                    "csv",
                    "--table",
                    "sensitivity",
                ).stdout
            )
        )
    )
    assert rows[5] == {
        "scenario": "base",
        "success_rate": "0.500000",
        "attachment_fees": "5260800.00",
        "results": "1169066.67",
        "forecast": "6429866.67",
        "beyond_horizon": "584533.33",
        "never_payable": "584533.33",  # the half that fails, after claims closed
        "at_risk": "1169066.67",
        "maximum": "8768000.00",
    }


def test_cli_up_front_grant_title_and_safe_output(tmp_path: Path) -> None:
    grant = cli(
        "--families", "1000", "--programme", "supporting-families", "--upfront-grant", "1081000"
    )
    assert grant.returncode == 0, grant.stderr
    assert "maximum £5,124,000.00" in grant.stdout
    assert "(fees include the up-front grant)" in grant.stdout
    png = tmp_path / "chart.png"
    titled = cli("--families", "790", "--plot", str(png), "--title", "Westminster: drawdown")
    assert titled.returncode == 0, titled.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "years.csv"
    written = cli("--families", "790", "--output", str(out), "--table", "years")
    assert written.returncode == 0, written.stderr
    assert out.read_text(encoding="utf-8").startswith("scenario,year,maximum_by_attachment")
    refused = cli("--families", "790", "--output", str(tmp_path))
    assert refused.returncode == 2
    assert "it is a folder" in refused.stderr
    bad = cli("--families", "790", "--upfront-grant", "lots")
    assert bad.returncode == 2
    assert "upfront_grant" in bad.stderr


def test_cli_refuses_a_chart_path_before_any_work(tmp_path: Path) -> None:
    """--plot through a link was refused only after --output was written (exit 2 beside it)."""
    precious = tmp_path / "precious.txt"
    precious.write_text("keep", encoding="utf-8")
    (tmp_path / "l.png").symlink_to(precious)
    out = tmp_path / "out.csv"
    for plot, why in (
        ("l.png", "will not write through"),
        ("x.foo", "matplotlib does not write 'foo'"),
        ("missing/x.png", "does not exist"),
    ):
        refused = cli("--families", "790", "--output", str(out), "--plot", str(tmp_path / plot))
        assert refused.returncode == 2
        assert refused.stderr.startswith("pbr: ")
        assert why in refused.stderr
        assert refused.stderr.count("\n") == 1, refused.stderr
        assert not out.exists()
    assert precious.read_text(encoding="utf-8") == "keep"


def test_cli_families_may_repeat_a_number_one_council_each() -> None:
    """The tutorial says --families N may be repeated (one council each); the same N twice was
    refused ("--families given twice with the same number")."""
    twice = cli("--families", "790", "--families", "790")
    assert twice.returncode == 0, twice.stderr
    assert [line.split(" base ")[0] for line in twice.stdout.splitlines()[1:3]] == [
        "790 estimated families (council 1)",
        "790 estimated families (council 2)",
    ]
    assert "all councils" in twice.stdout
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli(
                    "--families", "790", "--families", "2630", "--families", "790",
                    "--format", "csv", "--table", "summary",
                ).stdout
            )
        )
    )  # fmt: skip
    assert [r["council"] for r in rows] == [
        "790 estimated families (council 1)",
        "2,630 estimated families",
        "790 estimated families (council 3)",
    ]
    assert rows[0]["maximum"] == rows[2]["maximum"] == "2632000.00"


def test_cli_text_cells_are_neutralised_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "evil.csv"
    path.write_text("council,estimated_families\n=cmd|' /C calc'!A0,600\n", encoding="utf-8")
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli("--councils", str(path), "--format", "csv", "--table", "summary").stdout
            )
        )
    )
    assert rows[0]["council"] == "'=cmd|' /C calc'!A0"


def test_every_formula_form_is_neutralised_in_csv_and_xlsx_and_json_keeps_names(
    tmp_path: Path,
) -> None:
    """Full-width and space-led formulas too, as `pbr.output.neutralise` does for every
    spreadsheet pbr writes; JSON, which no spreadsheet runs, keeps each name as it is."""
    names = ["\uff1d1+1", "-2+3", "@SUM(1)", "\uff0bB2", "'quoted", "Kent"]
    path = tmp_path / "councils.csv"
    path.write_text(
        "council,estimated_families\n" + "".join(f"{n},60\n" for n in names), encoding="utf-8"
    )
    shown = cli("--councils", str(path), "--format", "csv", "--table", "summary").stdout
    assert [r["council"] for r in csv.DictReader(io.StringIO(shown))] == [
        "'\uff1d1+1", "'-2+3", "'@SUM(1)", "'\uff0bB2", "''quoted", "Kent"
    ]  # fmt: skip
    kept = cli("--councils", str(path), "--format", "json", "--table", "summary").stdout
    assert [json.loads(line)["council"] for line in kept.splitlines()] == names
    book = tmp_path / "out.xlsx"
    assert cli("--councils", str(path), "--output", str(book)).returncode == 0
    from openpyxl import load_workbook

    column = [c.value for c in load_workbook(book)["summary"]["B"]][1:]
    assert column == ["'\uff1d1+1", "'-2+3", "'@SUM(1)", "'\uff0bB2", "''quoted", "Kent"]


def test_a_scenario_that_does_not_fit_a_council_names_the_council() -> None:
    table = allocation_table(
        [
            {"council": "Kent", "estimated_families": 2560},
            {
                "council": "North Yorkshire",
                "estimated_families": 1000,
                "programme": "supporting-families",
            },
        ]
    )
    with pytest.raises(ValueError, match="council 'North Yorkshire': scenario 'base'"):
        table.compare(default_scenarios())


def test_cli_refuses_to_write_over_its_own_input(tmp_path: Path) -> None:
    path = tmp_path / "councils.csv"
    path.write_text("council,estimated_families\nLeeds,600\n", encoding="utf-8")
    before = path.read_bytes()
    for option in ("--output", "--plot"):
        refused = cli("--councils", str(path), option, str(path))
        assert refused.returncode == 2
        assert f"{option} names the same file as --councils" in refused.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("cell", "plain", "column"),
    [("2,630", "2630", "estimated_families"), ("£1,081,000", "1081000", "upfront_grant")],
)
def test_a_spreadsheet_number_is_read_when_written_as_one(
    tmp_path: Path, cell: str, plain: str, column: str
) -> None:
    """Thousands separators (and £ for money) in their places, as a spreadsheet writes them."""
    other = "upfront_grant" if column == "estimated_families" else "estimated_families"
    fill = "1000" if other == "estimated_families" else "5"
    tables: list[object] = []
    for written in (cell, plain):
        path = tmp_path / f"{len(tables)}.csv"
        path.write_text(f'council,{column},{other}\nKent,"{written}",{fill}\n', encoding="utf-8")
        tables.append(allocation_table(str(path)).summary())
    assert tables[0] == tables[1]


@pytest.mark.parametrize(
    ("cell", "column"),
    [
        ("1e3", "estimated_families"),
        ("1_000", "estimated_families"),
        (" 12", "estimated_families"),
        ("+12", "estimated_families"),
        ("012", "estimated_families"),
        ("1,0,0", "estimated_families"),
        ("£100", "estimated_families"),
        (" 100", "upfront_grant"),
        ("1,00", "upfront_grant"),
        ("£ 100", "upfront_grant"),
    ],
)
def test_a_number_written_otherwise_is_refused_not_read(
    tmp_path: Path, cell: str, column: str
) -> None:
    """Nothing Python would also read (an exponent, underscores, a sign, a space, a stray
    separator) is taken: the value is refused, naming the line, council and column."""
    path = tmp_path / "councils.csv"
    other = "upfront_grant" if column == "estimated_families" else "estimated_families"
    path.write_text(
        f'council,{column},{other}\nKent,"{cell}",{"1000" if other == "estimated_families" else "5"}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=f"line 2 \\(council 'Kent'\\): {column}"):
        allocation_table(str(path))
