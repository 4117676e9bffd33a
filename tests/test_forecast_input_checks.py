"""Inputs a user trial broke: huge numbers, repeated columns, keys and councils, odd files, escapes."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from pbr.forecast import Assumptions, allocation, allocation_table, drawdown, load_scenarios
from pbr.forecast._drawdown import MAX_RUNS
from pbr.forecast._extras import pandas
from pbr.forecast._inputs import MAX_FAMILIES, MAX_LAG_MONTHS, count, share

from .forecast_cli import cli

pd = pandas()  # untyped: pandas has no stubs here

DOCS = Path(__file__).resolve().parents[1] / "docs"
HUGE = "99999999999999999999999"
SCENARIO = {"name": "s", "probabilities": {"progress_to_work": "0.2"}, "lag_months": {"6": "1"}}


def refused(*args: str) -> str:
    """The one-line error of a refused command (exit 2, no traceback, no "unexpected")."""
    result = cli(*args)
    assert result.returncode == 2, result
    assert "unexpected error" not in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr.strip()


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- 1 and 2: huge numbers have bounds, named in the error ------------------------------------


def test_a_huge_count_in_a_councils_file_names_file_line_council_and_field(tmp_path: Path) -> None:
    """It was "pbr: unexpected error (OverflowError: Python int too large to convert to C long)"."""
    path = write(tmp_path / "c.csv", f"council,estimated_families\nKent,{HUGE}\n")
    message = refused("--councils", str(path), "--runs", "10")
    assert f"{path} line 2 (council 'Kent'): estimated_families must be at most 10,000,000" in (
        message
    )


def test_a_huge_families_flag_is_refused_naming_the_flag() -> None:
    message = refused("--families", HUGE, "--runs", "10")
    assert "--families" in message
    assert "at most 10,000,000" in message


@pytest.mark.parametrize("lag", ["99999999999999999999", "100000", str(MAX_LAG_MONTHS + 1)])
def test_a_huge_lag_names_file_scenario_and_field(tmp_path: Path, lag: str) -> None:
    """It was an OverflowError, or "pbr: year 10345 is out of range" naming nothing."""
    path = write(
        tmp_path / "lag.toml",
        f'name = "s"\nprobabilities = {{progress_to_work = 0.2}}\nlag_months = {{{lag} = 1}}\n',
    )
    message = refused("--families", "100", "--scenario", str(path))
    assert f"{path}: scenario 's': lag_months: '{lag}' must be at most 600" in message


def test_the_longest_lag_allowed_still_forecasts() -> None:
    scenario = Assumptions("late", {"progress_to_work": "0.2"}, {MAX_LAG_MONTHS: 1})
    d = drawdown(allocation(790), scenario)
    assert d.total + d.beyond_horizon + d.never_payable + d.at_risk == d.maximum


def test_the_largest_council_allowed_keeps_money_exact() -> None:
    """10^23 families gave a maximum rounded by Decimal's 28 digits; 10^20 overflowed int64."""
    biggest = allocation(MAX_FAMILIES)
    assert str(biggest.maximum) == "33333332000.00"  # 8,333,333 funded families × £4,000
    assert biggest.maximum == biggest.whole_funded_families * Decimal(4000)
    frame = biggest.to_pandas()
    assert int(frame["maximum_pence"].sum()) == 3_333_333_200_000


@pytest.mark.parametrize("families", [MAX_FAMILIES + 1, 10**20, 10**30, float(10**23), HUGE])
def test_allocation_refuses_more_families_than_the_bound(families: object) -> None:
    with pytest.raises(ValueError, match="estimated_families must be at most 10,000,000"):
        allocation(families)


def test_a_count_of_a_million_digits_is_refused_quickly() -> None:
    started = time.perf_counter()
    for value in ("0." + "0" * 999_999 + "1", "9" * 1_000_000):
        with pytest.raises(ValueError, match="at most 400 digits"):
            share(value, "p")
    with pytest.raises(ValueError, match="at most 400 digits"):
        count("9" * 1_000_000, "n", most=MAX_FAMILIES)
    with pytest.raises(ValueError, match="written as digits alone"):  # not a whole number's text
        count("0." + "0" * 999_999 + "1", "n", most=MAX_FAMILIES)
    with pytest.raises(ValueError, match="written plainly"):
        share("1e-99999999", "p")  # an exponent is refused before any digit is written out
    with pytest.raises(ValueError, match="must be at most 10,000,000, got a number too long"):
        count(10**5000, "n", most=MAX_FAMILIES)
    assert time.perf_counter() - started < 5


def test_monte_carlo_runs_have_a_bound() -> None:
    """--runs 99999999999999999999 said only "pbr: Maximum allowed dimension exceeded"."""
    with pytest.raises(ValueError, match="runs must be a whole number from 0 to 100,000"):
        drawdown(allocation(790), runs=MAX_RUNS + 1)
    message = refused("--families", "790", "--runs", "99999999999999999999")
    assert "--runs must be at most 100,000" in message


# --- 3: a column given twice ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("council,estimated_families,estimated_families", "estimated_families"),
        ("council,Council,estimated_families", "council"),
    ],
)
def test_a_councils_file_with_a_column_twice_is_refused(
    tmp_path: Path, header: str, column: str
) -> None:
    """The last value silently won."""
    path = write(tmp_path / "c.csv", f"{header}\nKent,100,200\n")
    with pytest.raises(ValueError, match=f"column '{column}' is given twice") as error:
        allocation_table(path)
    assert str(error.value).startswith(f"{path} line 1: ")
    assert f"{path} line 1: column '{column}' is given twice" in refused("--councils", str(path))


def test_a_dataframe_or_row_with_a_column_twice_is_refused() -> None:
    frame = pd.DataFrame(
        [["Kent", 100, 200]], columns=["council", "estimated_families", "estimated_families"]
    )
    with pytest.raises(ValueError, match="column 'estimated_families' is given twice"):
        allocation_table(frame)
    with pytest.raises(ValueError, match="row 1: column 'council' is given twice"):
        allocation_table([{"council": "Kent", "Council ": "Kent", "estimated_families": 1}])


# --- 4: a key given twice in a scenario file --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"name": "a", "name": "b", "probabilities": {}, "lag_months": {"6": 1}}', "name"),
        (
            '{"name": "a", "probabilities": {"progress_to_work": 0.2},'
            ' "lag_months": {"6": 0.5, "6": 1}}',
            "6",
        ),
    ],
)
def test_a_json_scenario_with_a_key_twice_is_refused(tmp_path: Path, text: str, key: str) -> None:
    """JSON kept the last value silently."""
    path = write(tmp_path / "s.json", text)
    with pytest.raises(ValueError, match=f"key '{key}' is given twice") as error:
        load_scenarios(path)
    assert str(error.value).startswith(f"{path}: ")


def test_a_toml_scenario_with_a_key_twice_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.toml",
        'name = "a"\nname = "b"\nprobabilities = {progress_to_work = 0.2}\nlag_months = {6 = 1}\n',
    )
    message = refused("--families", "100", "--scenario", str(path))
    assert f"{path}: not a scenario file" in message
    assert "line 2" in message


# --- 5: names with control characters are escaped in the terminal table -----------------------

EVIL = "K\x1b]0;x\x07ent"


def test_a_council_name_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """The name went to the terminal raw: ESC ] 0 ; x BEL retitles the window. A council's name
    with a control character is now refused (as records refuse it), and said escaped."""
    path = write(tmp_path / "c.csv", f"council,estimated_families\n{EVIL},100\nLeeds,200\n")
    result = cli("--councils", str(path), "--sensitivity")
    assert result.returncode == 2
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert "line 2: council 'K\\x1b]0;x\\x07ent' holds a control character, U+001B" in (
        result.stderr
    )


def test_a_scenario_name_cannot_drive_the_terminal(tmp_path: Path) -> None:
    path = write(tmp_path / "s.json", json.dumps({**SCENARIO, "name": f"b{EVIL}"}))
    for families in (["100"], ["100", "--families", "200"]):
        result = cli("--families", *families, "--scenario", str(path), "--sensitivity")
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout
        assert "\x07" not in result.stdout
        assert "bK\\x1b]0;x\\x07ent" in result.stdout
    data = cli("--families", "100", "--scenario", str(path), "--format", "json")
    assert json.loads(data.stdout.splitlines()[0])["scenario"] == f"b{EVIL}"


# --- 6: the same council twice, however typed -------------------------------------------------


@pytest.mark.parametrize("second", ["kent", "KENT"])
def test_a_council_listed_twice_names_the_file_and_both_lines(tmp_path: Path, second: str) -> None:
    """'Kent' and 'kent' were two councils; an exact repeat named neither file nor line."""
    path = write(tmp_path / "c.csv", f"council,estimated_families\nKent,100\n{second},200\n")
    message = refused("--councils", str(path))
    assert f"{path} line 3: council '{second}' is listed twice (also line 2, as 'Kent'" in message
    again = write(tmp_path / "d.csv", "council,estimated_families\nKent,100\nKent,200\n")
    assert refused("--councils", str(again)).endswith("line 3: council 'Kent' is listed twice "
                                                     "(also line 2)")  # fmt: skip


@pytest.mark.parametrize("name", ["kent ", " KENT", "\t=1+1", "Kent\u00a0"])
def test_a_council_name_with_a_space_at_an_edge_is_refused_not_trimmed(
    tmp_path: Path, name: str
) -> None:
    """A trimmed name hid which of two rows was which ('=1+1' listed twice, as '=1+1')."""
    path = write(tmp_path / "c.csv", f"council,estimated_families\nKent,100\n{name},200\n")
    message = refused("--councils", str(path))
    assert f"line 3: council {name!r} has a space or tab at its start or end" in message


def test_rows_with_the_same_council_name_the_rows() -> None:
    with pytest.raises(ValueError, match=r"row 2: council 'kent' is listed twice \(also row 1"):
        allocation_table(
            [
                {"council": "Kent", "estimated_families": 100},
                {"council": "kent", "estimated_families": 200},
            ]
        )
    table = allocation_table([allocation(100, council="Kent"), allocation(5, council="Kentish")])
    assert [a.council for a in table.allocations] == ["Kent", "Kentish"]  # names kept as written


# --- 7: scenario files that are not scenario files --------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.toml", "", "the scenario file is empty"),
        ("blank.json", "  \n", "the scenario file is empty"),
        ("s.yaml", "name: s\n", "must be TOML (.toml) or JSON (.json), not '.yaml'"),
        ("scenario", "name = 's'\n", "must be TOML (.toml) or JSON (.json)"),
        ("binary.toml", b"\xff\xfe\x00\x01", "line 1: byte ff is not UTF-8"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "not a scenario file"),
        ("none.toml", "scenarios = []\n", "the list of scenarios under 'scenarios' is empty"),
        ("none.json", '{"scenarios": []}', "the list of scenarios under 'scenarios' is empty"),
        ("list.json", "[]", "the list of scenarios is empty: give at least one scenario"),
    ],
    ids=[
        "empty",
        "blank",
        "yaml",
        "no-suffix",
        "binary",
        "deeply-nested",
        "none",
        "none-json",
        "[]",
    ],
)
def test_a_scenario_file_that_is_not_one_says_which_file_and_why(
    tmp_path: Path, name: str, content: str | bytes, says: str
) -> None:
    """An empty or YAML file said "missing 'probabilities'"; binary: a raw codec error."""
    path = write(tmp_path / name, content)
    message = refused("--families", "100", "--scenario", str(path))
    assert message.startswith(f"pbr: {path}: ")
    assert says in message


def test_a_directory_is_not_a_scenario_or_councils_file(tmp_path: Path) -> None:
    """It was "pbr: [Errno 21] Is a directory: '/tmp'"."""
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert refused("--families", "100", "--scenario", str(folder)) == (
        f"pbr: {folder}: is a directory, not a scenario file (TOML or JSON)"
    )
    assert refused("--councils", str(tmp_path)) == (
        f"pbr: {tmp_path}: is a directory, not a councils file (UTF-8 CSV)"
    )
    assert "No such file or directory" in refused("--councils", str(tmp_path / "none.csv"))


@pytest.mark.parametrize("compression", ["gzip", "bzip2"])
def test_a_compressed_councils_or_scenario_file_is_said_to_be_compressed(
    tmp_path: Path, compression: str
) -> None:
    """It was "line 1: byte 8b is not UTF-8 (Windows-1252, perhaps)"."""
    import bz2
    import gzip

    compress = gzip.compress if compression == "gzip" else bz2.compress
    councils = write(tmp_path / "councils.csv", compress(b"council,estimated_families\nK,10\n"))
    assert refused("--councils", str(councils)) == (
        f"pbr: {councils} is {compression}-compressed: decompress it first"
    )
    scenario = write(tmp_path / "s.json", compress(json.dumps(SCENARIO).encode()))
    assert refused("--families", "100", "--scenario", str(scenario)) == (
        f"pbr: {scenario} is {compression}-compressed: decompress it first"
    )


def test_a_bad_scenario_value_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "s.json", json.dumps({**SCENARIO, "probabilities": {"x": "2"}}))
    with pytest.raises(ValueError, match="between 0 and 1") as error:
        load_scenarios(path)
    assert str(error.value).startswith(f"{path}: scenario 's': probabilities.x")
    assert load_scenarios(write(tmp_path / "S.JSON", json.dumps(SCENARIO)))[0].lag_months == {
        6: Fraction(1)
    }


# --- 8: the docs sum a window table the way that works ----------------------------------------


def test_the_docs_sum_only_the_number_columns() -> None:
    """The docs said frame.sum() "adds up every column"; it also joins text columns into junk."""
    for page in (DOCS / "forecasting.md", DOCS / "tutorials" / "forecast.md"):
        text = page.read_text(encoding="utf-8")
        assert "frame.sum(numeric_only=True)" in text
        assert "`frame.sum()` adds up every column" not in text
        assert "`frame.sum()` and `frame.plot()` work directly" not in text
    windows = drawdown(allocation(790)).to_pandas()
    totals = windows.sum(numeric_only=True)
    assert "scenario" not in totals
    assert int(totals["total_pence"]) == sum(int(v) for v in windows["total_pence"])


@pytest.mark.parametrize("key", ["06", "+6", " 6", "6 ", "6.0", "6e0", "0x6"])
def test_a_lag_written_otherwise_than_plainly_is_refused_not_merged(key: str) -> None:
    """``{"6": 0.5, "06": 0.5}`` was one lag of 6 months: keys read as 6 and added up, silently."""
    with pytest.raises(ValueError, match=r"written plainly|written as digits"):
        Assumptions("x", {"continuous_employment": "0.2"}, {"6": "1/2", key: "1/2"})
    assert Assumptions("x", {"continuous_employment": "0.2"}, {"6": "1/2", "12": "1/2"})


def test_a_range_given_high_to_low_says_so() -> None:
    """It said the range 0.6 to 0.4 "must hold the probability 0.5", which it does."""
    with pytest.raises(ValueError, match=r"given high to low \(0.6 to 0.4\): give \[low, high\]"):
        Assumptions(
            "x",
            {"crime_asb_education": "0.5"},
            {12: 1},
            ranges={"crime_asb_education": ("0.6", "0.4")},
        )


def test_a_warning_while_drawing_is_one_line_like_pbrs_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """matplotlib's missing-glyph warning reached stderr with its source file and line."""
    import warnings

    from pbr.forecast import _drawdown

    def plot(self: object, path: str | None = None, *, title: str | None = None) -> None:
        warnings.warn("Glyph 128512 missing from font(s) DejaVu Sans.", UserWarning, stacklevel=1)
        Path(str(path)).write_bytes(b"")

    monkeypatch.setattr(_drawdown.Comparison, "plot", plot)
    monkeypatch.setattr(_drawdown.Drawdown, "plot", plot)
    ran = cli("--families", "790", "--plot", str(tmp_path / "c.png"))
    assert ran.returncode == 0, ran.stderr
    assert "pbr: warning: Glyph 128512 missing from font(s) DejaVu Sans.\n" in ran.stderr
    assert "UserWarning" not in ran.stderr
    assert ".py:" not in ran.stderr


@pytest.mark.filterwarnings("ignore:the family records name 2 councils")
def test_a_family_given_twice_to_from_records_is_rejected_not_counted_twice() -> None:
    """A plain list of families (not `read_records`' items) counted a repeat again: claimable
    now went from £5,300 to £7,700."""
    from datetime import date

    import pbr
    from pbr.forecast import from_records

    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    families = [f for f in pbr.read_records(examples) if isinstance(f, pbr.Family)][:5]
    once = from_records(families, as_of=date(2014, 3, 31), alloc=allocation(80))
    twice = from_records([*families, families[2]], as_of=date(2014, 3, 31), alloc=allocation(80))
    assert twice.summary()["claimable_now"] == once.summary()["claimable_now"]
    assert twice.summary()["rejected"] == 1
    (rejection,) = twice.rejected
    assert (rejection.record, rejection.errors[0].type) == (6, "duplicate_family")


def test_numpy_integers_are_runs_and_seeds() -> None:
    import numpy as np

    a = drawdown(allocation(10), runs=np.int64(20), seed=np.int64(1))  # type: ignore[arg-type]
    b = drawdown(allocation(10), runs=20, seed=1)
    assert a.summary() == b.summary()


def test_claim_dates_given_as_text_are_refused_at_once() -> None:
    from pbr.forecast import ClaimCalendar

    with pytest.raises(TypeError, match=r"claim dates must be datetime.date, not str"):
        ClaimCalendar(("2013-03-31", "2015-05-31"))  # type: ignore[arg-type]


def test_a_lag_or_a_rate_given_twice_is_refused() -> None:
    from pbr.forecast import sensitivity

    with pytest.raises(ValueError, match="6 months is given twice"):
        Assumptions("d", {"crime_asb_education": "0.5"}, {6: "0.5", "6": "0.5"})
    with pytest.raises(ValueError, match="more than once"):
        sensitivity(allocation(10), rates=[0.5, "1/2"])


BAD_SCENARIO = Path(tempfile.mkdtemp()) / "bad.toml"
BAD_SCENARIO.write_text(
    'name = "x"\nprobabilities = {progress_to_work = 0.2}\nlag_months = {6 = "six"}\n'
)


@pytest.mark.parametrize(
    "call",
    [
        lambda: allocation(-1),
        lambda: allocation(10, programme="tf-phase-9"),
        lambda: count("many", "estimated_families"),
        lambda: share("half", "probabilities.crime_asb_education"),
        lambda: Assumptions("x", {"crime_asb_education": "half"}, {6: 1}),
        lambda: drawdown(allocation(790), runs=-1),
        lambda: load_scenarios(BAD_SCENARIO),
    ],
)
def test_every_refusal_is_a_forecast_error(call: Callable[[], object]) -> None:
    """About 80 refusals were plain `ValueError`s, which ``except pbr.PbrError`` missed."""
    from pbr.errors import ForecastError

    with pytest.raises(ForecastError):
        call()
