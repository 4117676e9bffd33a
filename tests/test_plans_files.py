"""Reading outcome plan files: every value as written or refused, every problem on its own line.

A tester's plans: YAML 1.1 read ``010`` as 8 and ``yes`` as true, a version carried a newline and
an escape to the terminal, a key given twice was named without its place, several problems came
out as one line, a misspelt problem twice with pydantic's internals, a 5,000-digit threshold as
Python's own words, and ``--plan`` given ``/dev/zero`` read until memory ran out.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import pbr
from pbr.cli import main
from pbr.plans import MAX_PLAN_BYTES, load_plan, parse_plan

PLAN = """\
id: y
version: "1"
programme: tf-phase-2
outcomes:
  - problem: domestic_abuse
    measures:
      - {id: calm, indicator: da, comparison: "==", threshold: 0, sustain_months: 6}
      - {id: quiet, indicator: db, comparison: "<=", threshold: 1, sustain_months: 6}
"""
WHERE = "plan 'y': outcomes[0] (domestic_abuse) measure 'quiet'"


def plan_error(path: Path, text: str) -> str:
    path.write_text(text)
    with pytest.raises(pbr.PlanError) as info:
        load_plan(path)
    return str(info.value)


# --- 1. YAML reads a number only as decimal, a flag only as true or false ----------------------


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("010", "010 as 8 (octal)"),
        ("0x0A", "0x0A as 10 (hexadecimal)"),
        ("0b11", "0b11 as 3 (binary)"),
        ("1:30", "1:30 as 90 (base 60)"),
        ("1_000", "1_000 as 1000"),
    ],
)
def test_a_yaml_1_1_number_form_is_refused_with_its_place(
    tmp_path: Path, written: str, said: str
) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    message = plan_error(path, PLAN.replace("threshold: 1,", f"threshold: {written},"))
    assert message == (
        f"{path}: {WHERE}: threshold: YAML 1.1 reads {said}; a plan's numbers are plain decimals "
        f"(10, -3), or quote the value as text ('{written}')"
    )


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("match: yes", "yes"),
        ("match: off", "off"),
        ("description: 2016-01-01", "2016-01-01"),
    ],
)
def test_a_yaml_1_1_flag_or_date_is_refused_with_its_place(
    tmp_path: Path, field: str, written: str
) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    message = plan_error(path, PLAN.replace("    measures:", f"    {field}\n    measures:", 1))
    assert message.startswith(
        f"{path}: plan 'y': outcomes[0] (domestic_abuse): {field.split(':')[0]}: YAML"
    )
    assert f"quote the value as text ('{written}')" in message


def test_yaml_plain_numbers_flags_and_quoted_text_still_read(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    path.write_text(
        PLAN.replace("threshold: 1,", "threshold: '010',")
        .replace("threshold: 0,", "threshold: -3,")
        .replace('version: "1"', "version: 'yes'\ntitle: '1:30'")
    )
    with pytest.raises(pbr.PlanError, match=r"threshold: expected a whole number .*got '010'"):
        load_plan(path)
    path.write_text(
        PLAN.replace("threshold: 1,", "threshold: +10,").replace(
            "threshold: 0,", "aggregate: sum, threshold: -3,"
        )
    )
    plan = load_plan(path)
    assert [m.threshold for m in plan.outcomes[0].measures] == [-3, 10]


# --- 2. no control character in a plan's text --------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("version", "1\nForged: line\x1b[31m", "version"),
        ("title", "Plan\x85", "title"),
        ("description", "calm\x7f", "outcomes[0] (domestic_abuse): description"),
    ],
)
def test_a_control_character_in_a_plan_s_text_is_refused(
    field: str, value: str, where: str
) -> None:
    data = {
        "id": "p",
        "version": "1",
        "programme": "tf-phase-2",
        "outcomes": [
            {
                "problem": "domestic_abuse",
                "measures": [
                    {"id": "m", "indicator": "da", "comparison": "==", "threshold": 0,
                     "sustain_months": 6},
                ],
            }
        ],
    }  # fmt: skip
    if field == "description":
        data["outcomes"][0]["description"] = value  # type: ignore[index]
    else:
        data[field] = value
    with pytest.raises(pbr.PlanError) as info:
        parse_plan(data)
    code = f"U+{ord(next(c for c in value if not c.isprintable())):04X}"
    assert str(info.value).startswith(f"<plan>: plan 'p': {where}: a control character, {code}")
    assert str(info.value).endswith(f"(got {value!r})")


# --- 3. errors: a repeated key in its place, one line per problem, one for a misspelt problem --


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_key_given_twice_is_named_with_its_place_and_both_values(
    tmp_path: Path, suffix: str
) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / f"p{suffix}"
    if suffix == ".json":
        text = (
            '{"id": "y", "version": "1", "programme": "tf-phase-2", "outcomes": [{"problem": '
            '"domestic_abuse", "measures": [{"id": "calm", "indicator": "da", "comparison": '
            '"==", "threshold": 0, "sustain_months": 6}, {"id": "quiet", "indicator": "db", '
            '"comparison": "<=", "threshold": 1, "threshold": 5, "sustain_months": 6}]}]}'
        )
    else:
        text = PLAN.replace("threshold: 1,", "threshold: 1, threshold: 5,")
    assert plan_error(path, text) == (
        f"{path}: {WHERE}: threshold: given twice (1, then 5): give it once"
    )


def test_a_plan_s_problems_are_printed_one_to_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("")
    status = main(
        [
            "explain",
            str(tmp_path / "none.jsonl"),
            "F1",
            "--as-of",
            "2016-01-01",
            "--plan",
            str(path),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == [
        f"pbr: {path}: plan: {field}: Field required"
        for field in ("id", "version", "programme", "outcomes")
    ]
    assert "\\n" not in err


def test_a_misspelt_problem_is_one_error_naming_its_programme_s_problems() -> None:
    with pytest.raises(pbr.PlanError) as info:
        parse_plan(
            {
                "id": "b",
                "version": "1",
                "programme": "tf-phase-2",
                "outcomes": [{"problem": "domestik_abuse", "measures": []}],
            }
        )
    lines = str(info.value).splitlines()
    assert lines[0] == (
        "<plan>: plan 'b': outcomes[0] (domestik_abuse): problem: Input should be one of "
        "tf-phase-2's problems: crime_asb, education, children_need_help, work, domestic_abuse, "
        "health (got 'domestik_abuse')"
    )
    assert not any("literal[" in line or "housing" in line for line in lines)
    assert len([line for line in lines if ": problem:" in line]) == 1


# --- 4. numbers too long: the field named, the value shortened with a mark ---------------------


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
def test_a_number_too_long_to_read_is_named_at_its_field(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / f"p{suffix}"
    digits = "9" * 5000
    if suffix == ".toml":
        text = (
            'id = "y"\nversion = "1"\nprogramme = "tf-phase-2"\n[[outcomes]]\n'
            'problem = "domestic_abuse"\n  [[outcomes.measures]]\n  id = "calm"\n'
            'indicator = "da"\n  comparison = "=="\n  threshold = 0\n  sustain_months = 6\n'
            '  [[outcomes.measures]]\n  id = "quiet"\n  indicator = "db"\n  comparison = "<="\n'
            f'  threshold = {digits}  # "quoted"\n  sustain_months = 6\n'
        )
    elif suffix == ".json":
        text = (
            '{"id": "y", "version": "1", "programme": "tf-phase-2", "outcomes": [{"problem": '
            '"domestic_abuse", "measures": [{"id": "calm", "indicator": "da", "comparison": '
            '"==", "threshold": 0, "sustain_months": 6}, {"id": "quiet", "indicator": "db", '
            f'"comparison": "<=", "threshold": {digits}, "sustain_months": 6}}]}}]}}'
        )
    else:
        text = PLAN.replace("threshold: 1,", f"threshold: {digits},")
    message = plan_error(path, text)
    assert message == (
        f"{path}: {WHERE}: threshold: a number of 5,000 digits: longer than a JSON reader takes "
        "(4,300), and far beyond any count or amount"
    )


def test_a_long_threshold_is_shown_shortened_with_its_length() -> None:
    measure = {"id": "m", "indicator": "da", "comparison": "==", "sustain_months": 6}
    data = {"id": "p", "version": "1", "programme": "tf-phase-2"}
    for threshold, shown in ((int("9" * 44), "99999999999999999999…(44 digits)"),
                             ("9" * 56, "'99999999999999999999…(56 characters)'")):  # fmt: skip
        with pytest.raises(pbr.PlanError) as info:
            parse_plan(
                {
                    **data,
                    "outcomes": [
                        {"problem": "health", "measures": [{**measure, "threshold": threshold}]}
                    ],
                }
            )
        message = str(info.value)
        assert message.endswith(f"got {shown}"), message
        assert message.count("9" * 21) == 0, message


# --- 5. a plan file is read to a limit ---------------------------------------------------------


def test_a_plan_file_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * MAX_PLAN_BYTES + "\n")
    with pytest.raises(pbr.PlanError) as info:
        load_plan(path)
    assert str(info.value) == (
        f"{path}: larger than a plan file may be (1 MiB): pbr reads at most 1,048,576 bytes "
        "of a plan"
    )


def test_a_plan_that_is_a_device_giving_bytes_for_ever_is_refused(tmp_path: Path) -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero")
    path = tmp_path / "zero.toml"
    path.symlink_to(zero)
    with pytest.raises(pbr.PlanError, match=r"larger than a plan file may be \(1 MiB\)"):
        load_plan(path)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            PLAN.removesuffix("}\n") + "\n",
            "expected ',' or '}', but got '<stream end>' (at line 9, column 1, while parsing "
            "a flow mapping from line 8, column 9)",
        ),
        (
            "id: y\n\tversion: 1\n",
            "found character '\\t' that cannot start any token (at line "
            "2, column 1, while scanning for the next token)",
        ),
        ('id: "\x07"\n', "special characters are not allowed: U+0007 (at character 6)"),
    ],
    ids=["flow", "tab", "control"],
)
def test_a_yaml_syntax_error_is_one_line_with_its_place_as_toml_s(
    tmp_path: Path, text: str, said: str
) -> None:
    # PyYAML's own words: several lines, "<unicode string>" for the file, lines counted from 0
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    assert plan_error(path, text) == f"{path}: not valid YAML: {said}"


def test_two_plans_for_one_programme_are_named_by_their_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same id and version in both files: "kent-sf/3 and kent-sf/3" said nothing of which
    pytest.importorskip("yaml")
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(PLAN)
    second.write_text(PLAN.replace("threshold: 1,", "threshold: 2,"))
    argv = ["evaluate", str(tmp_path / "none.jsonl"), "--as-of", "2016-01-01"]
    assert main([*argv, "--plan", str(first), "--plan", str(second)]) == 2
    assert capsys.readouterr().err == (
        f"pbr: two plans for tf-phase-2: y/1 ({first}) and y/1 ({second}): give one --plan for "
        "each programme\n"
    )


# --- A broken plan is refused once, with every problem at its place ----------------------------

BROKEN = """\
id: kent-sf
version: 3
programme: supporting-families
outcomes:
  - problem: housing
    match: Any
    measures:
      - {id: m1, indicator: eviction_notice, comparison: "==", threshold: 010, sustain_months: 6,
         sustain_weeks: no}
  - problem: helth
    measures:
      - {id: m2, indicator: Eviction, comparison: =<, threshold: 0, sustain_months: 6}
"""


def test_a_broken_plan_s_problems_are_all_said_at_once(tmp_path: Path) -> None:
    # the YAML 1.1 readings were said first, and the other five only once they were put right
    pytest.importorskip("yaml")
    path = tmp_path / "bad.yaml"
    head = f"{path}: plan 'kent-sf'"
    octal = "YAML 1.1 reads 010 as 8 (octal); a plan's numbers are plain decimals (10, -3)"
    assert plan_error(path, BROKEN).splitlines() == [
        f'{head}: version: a version must be quoted text: write "3" (got the number 3)',
        f"{head}: outcomes[0] (housing) measure 'm1': threshold: {octal}, or quote the value as "
        "text ('010')",
        f"{head}: outcomes[0] (housing) measure 'm1': sustain_weeks: YAML 1.1 reads no as false: "
        "write true or false, or quote the value as text ('no')",
        f"{head}: outcomes[0] (housing) measure 'm1': give exactly one of sustain_days, "
        "sustain_weeks, sustain_months, sustain_terms (got sustain_weeks, sustain_months)",
        f"{head}: outcomes[0] (housing): match: Input should be 'all' or 'any' (got 'Any')",
        f"{head}: outcomes[1] (helth): problem: Input should be one of supporting-families's "
        "problems: education, early_years, health, substance_use, family_relationships, "
        "child_safety, crime, domestic_abuse, housing, financial_stability (got 'helth')",
        f"{head}: outcomes[1] (helth) measure 'm2': indicator: String should match pattern "
        "'^[a-z][a-z0-9_]{0,63}$' (got 'Eviction')",
        f"{head}: outcomes[1] (helth) measure 'm2': comparison: Input should be '<', '<=', '==', "
        "'!=', '>=' or '>' (got '=<')",
    ]


def test_a_measure_s_sustain_period_and_aggregate_are_judged_with_its_fields() -> None:
    # these were asked only of a measure whose every field was right: a second round
    measures = [
        {"id": "a", "indicator": "da", "comparison": "=<", "threshold": 0},
        {"id": "b", "indicator": "fixed_term_exclusions", "aggregate": "count",
         "comparison": "==", "threshold": "x", "sustain_days": 3},
    ]  # fmt: skip
    plan = {"id": "p", "version": "1", "programme": "tf-phase-2"}
    with pytest.raises(pbr.PlanError) as info:
        parse_plan({**plan, "outcomes": [{"problem": "health", "measures": measures}]})
    where = "<plan>: plan 'p': outcomes[0] (health) measure"
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{where} 'a': comparison: Input should be")
    assert lines[1] == (
        f"{where} 'a': give exactly one of sustain_days, sustain_weeks, sustain_months, "
        "sustain_terms (got none)"
    )
    assert lines[2].startswith(f"{where} 'b': threshold: expected a whole number")
    assert lines[3] == (
        f"{where} 'b': indicator 'fixed_term_exclusions' is built in and takes aggregate sum, "
        "not 'count'"
    )
    assert len(lines) == 4


def test_problems_across_a_plan_are_each_named_at_their_place() -> None:
    # "(whole plan): problem 'housing' has two outcomes", the first problem only, no place
    def measure(name: str) -> dict[str, object]:
        return {"id": name, "indicator": "x", "comparison": "==", "threshold": 0,
                "sustain_months": 6}  # fmt: skip

    outcomes = [
        {"problem": "housing", "measures": [measure("m1"), measure("m1"), measure("m1")]},
        {"problem": "housing", "measures": [measure("m2")]},
        {"problem": "work", "measures": [measure("m3")]},
    ]
    plan = {"id": "p", "version": 1, "programme": "supporting-families", "outcomes": outcomes}
    with pytest.raises(pbr.PlanError) as info:
        parse_plan(plan)
    head = "<plan>: plan 'p'"
    assert str(info.value).splitlines() == [
        f'{head}: version: a version must be quoted text: write "1" (got the number 1)',
        f"{head}: outcomes[0] (housing) measure 'm1' (measures[1]): id: measure id 'm1' is given "
        "to measures[0] too: give each measure of an outcome its own id",
        f"{head}: outcomes[0] (housing) measure 'm1' (measures[2]): id: measure id 'm1' is given "
        "to measures[0] too: give each measure of an outcome its own id",
        f"{head}: outcomes[1] (housing): problem: problem 'housing' has two outcomes (the first "
        "is outcomes[0])",
        f"{head}: outcomes[2] (work): problem: problem 'work' is not one of supporting-families's "
        "(education, early_years, health, substance_use, family_relationships, child_safety, "
        "crime, domestic_abuse, housing, financial_stability)",
    ]


TOML_PLAN = """\
id = "y"
version = "1"
programme = "tf-phase-2"
[[outcomes]]
problem = "domestic_abuse"
  [[outcomes.measures]]
  id = "quiet"
  indicator = "db"
  comparison = "<="
  threshold = 1
  sustain_months = 6
"""


@pytest.mark.parametrize(
    ("suffix", "written", "said"),
    [
        (".json", "NaN", "not a finite number"),
        (".json", "-Infinity", "not a finite number"),
        (".json", "1e400", "out of range"),
        (".toml", "1e400", "out of range"),
        (".toml", "nan", "not a finite number"),
        (".toml", "+inf", "not a finite number"),
    ],
)
def test_a_number_beyond_range_or_not_finite_is_named_as_written(
    tmp_path: Path, suffix: str, written: str, said: str
) -> None:
    # "got a number out of range", no value; and JSON's loader took NaN and Infinity
    if suffix == ".json":
        text = (
            '{"id": "y", "version": "1", "programme": "tf-phase-2", "outcomes": [{"problem": '
            '"domestic_abuse", "measures": [{"id": "quiet", "indicator": "db", "comparison": '
            f'"<=", "threshold": {written}, "sustain_months": 6}}]}}]}}'
        )
    else:
        text = TOML_PLAN.replace("threshold = 1", f"threshold = {written}")
    path = tmp_path / f"p{suffix}"
    assert plan_error(path, text) == (
        f"{path}: {WHERE}: threshold: {written} is {said}: a plan's numbers are whole numbers or "
        "decimals such as 7.5"
    )


# --- A bad value is shown as the plan file writes it -------------------------------------------


def written_plan(suffix: str, version: str = '"1"', threshold: str = "1", months: str = "6") -> str:
    """A one-measure plan in `suffix`'s syntax, with the version, threshold and months as given."""
    if suffix == ".json":
        return (
            f'{{"id": "y", "version": {version}, "programme": "tf-phase-2", "outcomes": '
            '[{"problem": "domestic_abuse", "measures": [{"id": "quiet", "indicator": "db", '
            f'"comparison": "<=", "threshold": {threshold}, "sustain_months": {months}}}]}}]}}'
        )
    if suffix == ".yaml":
        return (
            PLAN.replace('version: "1"', f"version: {version}")
            .replace("threshold: 1,", f"threshold: {threshold},")
            .replace("threshold: 0, sustain_months: 6", "threshold: 0, sustain_months: 6")
            .replace("threshold: 1, sustain_months: 6", f"threshold: 1, sustain_months: {months}")
        )
    return (
        TOML_PLAN.replace('version = "1"', f"version = {version}")
        .replace("threshold = 1", f"threshold = {threshold}")
        .replace("sustain_months = 6", f"sustain_months = {months}")
    )


VERSION = "plan 'y': version: a version must be quoted text:"
QUOTE_IT = "pbr reads a number with a point or an exponent only as text, to read it exactly"


@pytest.mark.parametrize(
    ("suffix", "given", "said"),
    [
        # Python's words: "(got datetime.date(2023, 4, 1))", "(got 1.1)", "(got True)"
        (".toml", {"version": "2023-04-01"},
         f'{VERSION} write "2023-04-01" (got the date 2023-04-01)'),
        (".toml", {"version": "1.10"},
         f'{VERSION} write "1.10" (got the number 1.10)'),
        (".json", {"version": "1.10"},
         f'{VERSION} write "1.10" (got the number 1.10)'),
        (".yaml", {"version": "1.10"},
         f'{VERSION} write "1.10" (got the number 1.10)'),
        (".toml", {"version": "3"},
         f'{VERSION} write "3" (got the number 3)'),
        (".json", {"version": "true"},
         f'{VERSION} write "true" (got true)'),
        (".json", {"months": "true"},
         f"{WHERE}: sustain_months: Input should be a valid integer (got true)"),
        (".yaml", {"months": "true"},
         f"{WHERE}: sustain_months: Input should be a valid integer (got true)"),
        (".json", {"months": "6.0"},
         f"{WHERE}: sustain_months: Input should be a valid integer (got 6.0)"),
        # "got the number 100.0": not what the council wrote
        (".json", {"threshold": "1e2"},
         f"{WHERE}: threshold: expected a whole number or decimal text such as '7.5', got the "
         f'number 1e2: quote it ("100"): {QUOTE_IT}'),
        (".toml", {"threshold": "1_0.50"},
         f"{WHERE}: threshold: expected a whole number or decimal text such as '7.5', got the "
         f'number 1_0.50: quote it ("10.50"): {QUOTE_IT}'),
        (".yaml", {"threshold": "0.50"},
         f"{WHERE}: threshold: expected a whole number or decimal text such as '7.5', got the "
         f'number 0.50: quote it ("0.50"): {QUOTE_IT}'),
        (".toml", {"threshold": "1e20"},
         f"{WHERE}: threshold: expected a whole number or decimal text such as '7.5', got the "
         "number 1e20"),
        (".toml", {"threshold": "2023-01-01T10:00:00"},
         f"{WHERE}: threshold: expected a whole number or decimal text such as '7.5', got the "
         "date and time 2023-01-01T10:00:00"),
    ],
)  # fmt: skip
def test_a_bad_value_is_shown_as_the_plan_file_writes_it(
    tmp_path: Path, suffix: str, given: dict[str, str], said: str
) -> None:
    if suffix == ".yaml":
        pytest.importorskip("yaml")
    path = tmp_path / f"p{suffix}"
    message = plan_error(path, written_plan(suffix, **given))
    assert message == f"{path}: {said}"


def test_a_refused_sustain_period_is_not_also_said_to_be_missing(tmp_path: Path) -> None:
    # a second line claimed "give exactly one of sustain_days, ... (got none)"
    pytest.importorskip("yaml")
    path = tmp_path / "p.yaml"
    assert plan_error(path, written_plan(".yaml", months="0x6")) == (
        f"{path}: {WHERE}: sustain_months: YAML 1.1 reads 0x6 as 6 (hexadecimal); a plan's "
        "numbers are plain decimals (10, -3), or quote the value as text ('0x6')"
    )


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_a_utf_16_plan_is_said_to_be_utf_16(tmp_path: Path, suffix: str, encoding: str) -> None:
    # without a byte-order mark: "not valid TOML: Expected '=' after a key ... (line 1, column 2)"
    path = tmp_path / f"p{suffix}"
    path.write_bytes(written_plan(suffix).encode(encoding))
    with pytest.raises(pbr.PlanError) as info:
        load_plan(path)
    assert str(info.value) == f"{path}: the plan is UTF-16: save it as UTF-8"


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("0x10", "0x10 as 16 (hexadecimal)"),
        ("0o10", "0o10 as 8 (octal)"),
        ("0b11", "0b11 as 3 (binary)"),
        ("1_0", "1_0 as 10"),
        ("+1_000", "+1_000 as 1000"),
    ],
)
def test_a_toml_number_not_in_plain_decimal_is_refused_as_yaml_s(
    tmp_path: Path, written: str, said: str
) -> None:
    # TOML read them as 16, 8, 3, 10 where a YAML plan refused them
    path = tmp_path / "p.toml"
    refused = (
        f"TOML reads {said}; a plan's numbers are plain decimals (10, -3), or quote the value as "
        f"text ('{written}')"
    )
    assert plan_error(path, written_plan(".toml", threshold=written)) == (
        f"{path}: {WHERE}: threshold: {refused}"
    )
    assert plan_error(path, written_plan(".toml", months=written)) == (
        f"{path}: {WHERE}: sustain_months: {refused}"
    )


def test_toml_text_and_comments_that_look_like_numbers_are_read_as_they_are(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        written_plan(".toml", threshold="+10").replace(
            'id = "quiet"', 'id = "quiet" # threshold = 0x10\n  description = "a = 0x10, b = 1_0"'
        )
    )
    (measure,) = load_plan(path).outcomes[0].measures
    assert (measure.threshold, measure.description) == (Decimal(10), "a = 0x10, b = 1_0")


def test_a_plan_whose_measure_can_never_hold_is_refused_by_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # explain said "NOT MET, earliest date 2023-03-01", and on that day it was still not met
    path = tmp_path / "p.toml"
    path.write_text(written_plan(".toml", threshold="-1").replace("<=", "<"))
    argv = ["explain", str(tmp_path / "none.jsonl"), "F", "--as-of", "2023-01-15"]
    assert main([*argv, "--plan", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"pbr: {path}: {WHERE}: threshold: count of db < -1 can never hold: a count is a whole "
        "number, 0 or more\n"
    )
