"""Replay: every decision records its provenance, and re-running it reproduces it or says what changed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.ledger import Entry, Ledger
from pbr.replay import ReplayError, replay

from .builders import COUNCIL_2016

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_families() -> list[pbr.Family]:
    return [
        f
        for path in ("families.jsonl", "mixed-programmes.jsonl")
        for f in pbr.read_records(EXAMPLES / path)
        if isinstance(f, pbr.Family)
    ]


FAMILIES = example_families()


def by_id(family_id: str) -> pbr.Family:
    return next(f for f in FAMILIES if f.family_id == family_id)


def test_every_decision_records_its_provenance() -> None:
    family = by_id("EX-048")
    decision = pbr.evaluate(family, as_of=date(2014, 1, 15))
    assert decision.provenance is not None
    assert decision.provenance.pbr_version == pbr.__version__
    later = pbr.evaluate(family, as_of=date(2014, 1, 16))
    assert later.provenance is not None
    assert later.provenance.input_hash != decision.provenance.input_hash  # the date is input
    assert later.provenance.rules_hash == decision.provenance.rules_hash
    other = pbr.evaluate(
        family,
        as_of=date(2014, 1, 15),
        rules=pbr.rules.PHASE_ONE.with_interpretations(employment_weeks="all_13"),
    )
    assert other.provenance is not None
    assert other.provenance.rules_hash != decision.provenance.rules_hash


def test_replay_reproduces_and_shows_what_changed() -> None:
    family = by_id("EX-048")
    recorded = pbr.evaluate(family, as_of=date(2014, 1, 15))
    assert replay(recorded, family).identical
    changed = family.model_copy(update={"employment_spells": ()})
    result = replay(recorded, changed)
    assert not result.identical
    assert result.changed == ("input",)
    assert any(d.startswith("results.continuous_employment.status") for d in result.differences)
    assert result.describe().startswith("EX-048: differs (input)\n  ")
    variant = pbr.evaluate(
        family,
        as_of=date(2014, 1, 15),
        rules=pbr.rules.PHASE_ONE.with_interpretations(employment_weeks="all_13"),
    )
    assert replay(variant, family).identical  # interpretations are recorded and replayed


def test_a_tampered_decision_is_caught() -> None:
    family = by_id("EX-010")
    recorded = pbr.evaluate(family, as_of=date(2015, 3, 31))
    edited = recorded.model_copy(update={"payable": Decimal("9999.00")})
    result = replay(edited, family)
    assert not result.identical
    assert result.changed == ()  # same library, rules and input: the decision itself was edited
    assert result.differences[0].startswith("payable: '9999.00' -> ")
    # or a build deciding differently under the same version: the message does not accuse
    assert "the record was altered, or this pbr is a build" in result.describe()


def test_replay_refuses_another_family_or_an_unknown_programme() -> None:
    recorded = pbr.evaluate(by_id("EX-010"), as_of=date(2015, 3, 31))
    with pytest.raises(ReplayError, match="cannot be replayed with family 'EX-012'"):
        replay(recorded, by_id("EX-012"))
    alien = recorded.model_copy(update={"programme": "tf-phase-9"})
    with pytest.raises(ReplayError, match="programme = 'tf-phase-9': no rule set"):
        replay(alien, by_id("EX-010"))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda d: d["interpretations"].update(baseline="bogus"),
            "family 'EX-010': interpretations.baseline = 'bogus': not a value of tf-phase-1's "
            "interpretation 'baseline' (valid: six_months_before_attachment, "
            "twelve_months_before_attachment_halved)",
        ),
        (
            lambda d: d["interpretations"].update(extra="x"),
            "family 'EX-010': interpretations.extra = 'x': tf-phase-1 has no interpretation "
            "'extra' (it has baseline, employment_after_crime, ",
        ),
        (
            lambda d: d.update(as_of="1999-01-01"),
            "family 'EX-010': as_of = '1999-01-01': a decision is made on a date from "
            "2012-04-01 to 2099-12-31",
        ),
        (
            lambda d: d.update(
                programme="tf-phase-2",
                interpretations=dict(pbr.rules.PHASE_TWO.chosen),
            ),
            "family 'EX-010': programme = 'tf-phase-2': Troubled Families programme, phase two "
            "covers families attached 2014-04-01 to ",
        ),
    ],
)
def test_replay_names_the_field_and_value_of_a_decision_it_cannot_replay(
    change: object, said: str
) -> None:
    # A tampered interpretation raised UnknownInterpretation, an as_of out of range a bare
    # ValueError, another programme OutsideProgramme: none a ReplayError, so `pbr replay`
    # stopped the whole file on that one line (exit status 2) instead of naming it.
    family = by_id("EX-010")
    written = json.loads(pbr.evaluate(family, as_of=date(2015, 3, 31)).model_dump_json())
    change(written)  # type: ignore[operator]
    recorded = pbr.Decision.model_validate(written)
    with pytest.raises(ReplayError) as caught:
        replay(recorded, family, as_written=written)
    assert str(caught.value).startswith(said)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FAMILIES), st.dates(date(2012, 4, 1), date(2025, 3, 31)))
def test_replay_reproduces_any_decision(family: pbr.Family, as_of: date) -> None:
    try:
        recorded = pbr.evaluate(family, as_of=as_of)
    except pbr.OutsideProgramme:  # pragma: no cover - every example family is in a programme
        return
    again = pbr.Decision.model_validate_json(recorded.model_dump_json())  # as saved to a file
    result = replay(again, family)
    assert result.identical, result.describe()
    assert result.changed == ()


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbr.cli", *args], capture_output=True, text=True, input=input
    )


@pytest.mark.slow
def test_cli_replay(tmp_path: Path) -> None:
    families = str(EXAMPLES / "families.jsonl")
    out = cli("evaluate", families, "--as-of", "2015-03-31", "--format", "json")
    (tmp_path / "d.jsonl").write_text(out.stdout)
    same = cli("replay", str(tmp_path / "d.jsonl"), "--families", families)
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout == "replayed 60: 60 identical, 0 different\n"
    lines = out.stdout.splitlines()
    edited = json.loads(lines[0])
    edited["payable"] = "9999.00"
    (tmp_path / "d.jsonl").write_text(json.dumps(edited) + "\n" + "not json\n")
    diff = cli("replay", str(tmp_path / "d.jsonl"), "--families", families, "--only-recorded")
    assert diff.returncode == 1
    assert "payable: '9999.00' -> " in diff.stdout
    assert f"{tmp_path / 'd.jsonl'}:2: not a decision" in diff.stdout
    assert diff.stdout.endswith("replayed 2: 0 identical, 1 different, 1 not replayable\n")


@pytest.mark.slow
def test_cli_replay_with_the_ledger_the_decisions_were_made_with(tmp_path: Path) -> None:
    families = str(EXAMPLES / "families.jsonl")
    db = tmp_path / "l.db"
    Ledger(db).append(
        [
            Entry(
                "EX-010",
                "crime_asb_education",
                Decimal("1500.00"),
                date(2015, 3, 1),
                "C-1",
                "tf-phase-1/1.0",
            )
        ]
    )
    out = cli(
        "evaluate", families, "--as-of", "2015-03-31", "--format", "json", "--ledger", str(db)
    )
    (tmp_path / "d.jsonl").write_text(out.stdout)
    without = cli("replay", str(tmp_path / "d.jsonl"), "--families", families)
    assert without.returncode == 1
    assert "EX-010: differs (input)" in without.stdout
    assert "replayed 60: 59 identical, 1 different" in without.stdout
    with_ledger = cli(
        "replay", str(tmp_path / "d.jsonl"), "--families", families, "--ledger", str(db)
    )
    assert with_ledger.returncode == 0, with_ledger.stdout


def replay_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from pbr.cli import main

    status = main(["replay", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def decisions_of(path: Path, as_of: str) -> list[str]:
    from pbr.cli import main

    out = path.parent / f"decisions-{as_of}.jsonl"
    main(["evaluate", str(path), "--as-of", as_of, "--format", "json", "--output", str(out)])
    return out.read_text().splitlines(keepends=True)


@pytest.fixture
def families(tmp_path: Path) -> Path:
    """The example families, copied where the run writes its decisions."""
    path = tmp_path / "families.jsonl"
    path.write_bytes((EXAMPLES / "families.jsonl").read_bytes())
    return path


def test_replay_finds_a_decision_deleted_or_given_twice(
    tmp_path: Path, families: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = decisions_of(families, "2015-03-31")
    capsys.readouterr()
    path = tmp_path / "d.jsonl"
    path.write_text("".join(lines))
    assert replay_cli(capsys, str(path), "--families", str(families))[0] == 0
    other = tmp_path / "other.jsonl"  # a family in two files: the first record counts
    other.write_text((EXAMPLES / "families.jsonl").read_text().splitlines()[0] + "\n")
    status, _, err = replay_cli(
        capsys, str(path), "--families", str(families), "--families", str(other)
    )
    assert status == 0
    assert (
        err
        == f"{other}: family 'EX-001' is in an earlier --families file too; the first record is used\n"
    )
    deleted = json.loads(lines[5])["family_id"]
    path.write_text("".join(lines[:5] + lines[6:]))
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families))
    assert status == 1
    assert out.startswith(f"{deleted}: no decision in {path}, though pbr decides its record at")
    assert out.endswith("replayed 59: 59 identical, 0 different; 1 decision(s) missing\n")
    sampled = replay_cli(capsys, str(path), "--families", str(families), "--only-recorded")
    assert sampled[:2] == (0, "replayed 59: 59 identical, 0 different\n")
    path.write_text("".join(lines[:3] + lines[2:]))  # the third decision twice
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families))
    assert status == 1
    twice = json.loads(lines[2])["family_id"]
    assert f"{path}:4: {twice}: decided again for 2015-03-31 (first at line 3)" in out
    assert out.endswith("replayed 61: 60 identical, 1 different\n")


def test_replay_of_runs_at_two_dates_and_of_nothing(
    tmp_path: Path, families: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    later = decisions_of(families, "2015-03-31")
    earlier = decisions_of(families, "2014-03-31")
    capsys.readouterr()
    path = tmp_path / "d.jsonl"
    path.write_text("".join(later[1:] + earlier[:1]))  # the first family at the earlier date
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families))
    assert (status, out) == (0, "replayed 60: 60 identical, 0 different\n")
    path.write_text("".join(later[:10] + later[11:] + earlier[:5]))
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families))
    gone = json.loads(later[10])["family_id"]  # at neither date: a deleted line, though another
    assert status == 1, out  # run's decisions were added (it was exit status 0, none judged)
    assert out == (
        "the decisions are at 2 dates (2014-03-31 to 2015-03-31): a family of the records is "
        "judged missing only when it has a decision at none of them\n"
        f"{gone}: no decision in {path} at any of its 2 dates, though pbr decides its record "
        "(replaying a sample? add --only-recorded)\n"
        "replayed 64: 64 identical, 0 different; 1 decision(s) missing\n"
    )
    sampled = replay_cli(capsys, str(path), "--families", str(families), "--only-recorded")
    assert sampled[:2] == (0, "replayed 64: 64 identical, 0 different\n")
    path.write_text("\n")
    status, out, err = replay_cli(capsys, str(path), "--families", str(families))
    assert (status, out) == (2, "")
    assert err == f"pbr: no decisions in {path}\n"


def _stopped_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *more: str) -> list[str]:
    """The mixed example families' decisions at 2020-03-31, phase two's fees stopped."""
    from pbr.cli import main

    out = tmp_path / "stopped.jsonl"
    argv = [str(EXAMPLES / "mixed-programmes.jsonl"), "--as-of", "2020-03-31", "--format", "json"]
    main(["evaluate", *argv, "--output", str(out), *more])
    capsys.readouterr()
    return out.read_text().splitlines(keepends=True)


def test_replay_judges_a_family_without_decision_under_the_decisions_interpretations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # MX-P2-03, paid a fee for 2019/20, is rejected under attachment_fees_after_2017_18 =
    # stopped: its absence was reported as a deleted decision (pbr's default rules decide it),
    # so the replay of exactly what evaluate wrote failed (exit status 1).
    stopped = ["--interpretation", "attachment_fees_after_2017_18=stopped"]
    lines = _stopped_run(tmp_path, capsys, *stopped)
    families = str(EXAMPLES / "mixed-programmes.jsonl")
    assert not any('"MX-P2-03"' in line for line in lines)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(lines))
    assert replay_cli(capsys, str(path), "--families", families)[:2] == (
        0,
        "replayed 9: 9 identical, 0 different\n",
    )
    gone = next(i for i, line in enumerate(lines) if '"MX-P2-05"' in line)
    path.write_text("".join(lines[:gone] + lines[gone + 1 :]))  # decided under stopped too
    status, out, _ = replay_cli(capsys, str(path), "--families", families)
    assert (status, out) == (
        1,
        f"MX-P2-05: no decision in {path}, though pbr decides its record at 2020-03-31 "
        "(replaying a sample? add --only-recorded)\n"
        "replayed 8: 8 identical, 0 different; 1 decision(s) missing\n",
    )
    # Joined with a run under the default (fees continue), MX-P2-03 is one it would decide.
    first = next(i for i, line in enumerate(lines) if '"MX-P2-01"' in line)
    default = [line for line in _stopped_run(tmp_path, capsys) if '"MX-P2-01"' in line]
    path.write_text("".join(lines[:first] + default + lines[first + 1 :]))
    status, out, _ = replay_cli(capsys, str(path), "--families", families)
    assert (status, out) == (
        1,
        "the tf-phase-2 decisions were made under 2 sets of interpretations: a family of the "
        "records is judged missing when a run under any of them would decide it\n"
        f"MX-P2-03: no decision in {path}, though pbr decides its record at 2020-03-31 "
        "(replaying a sample? add --only-recorded)\n"
        "replayed 9: 9 identical, 0 different; 1 decision(s) missing\n",
    )


def test_replay_does_not_miss_a_family_evaluate_rejects_for_its_payments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 2014/15 record stating no programme is phase one's; paid a phase-two result, evaluate
    # rejects it. Replay judged only its programme's dates, and reported its decision missing.
    families = tmp_path / "families.jsonl"
    first = (EXAMPLES / "families.jsonl").read_text().splitlines()[0]
    paid = {"kind": "sustained_progress", "amount": "800.00", "claim_id": "Z-1"}
    odd = {**json.loads(first), "family_id": "ODD-1", "attached_on": "2014-06-01"}
    odd.update(payments=[paid], programme=None)
    families.write_text(json.dumps(odd) + "\n" + first + "\n")
    lines = decisions_of(families, "2015-03-31")
    capsys.readouterr()
    assert len(lines) == 1
    path = tmp_path / "d.jsonl"
    path.write_text("".join(lines))
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families))
    assert (status, out) == (0, "replayed 1: 1 identical, 0 different\n")


@pytest.mark.parametrize("name", ["tables", "book.xlsx"])
def test_replay_and_audit_read_families_from_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    # A council that keeps its records as tables replays and audits against them, as it
    # evaluated them: the same answers as from the same families as JSON Lines.
    from pbr.cli import main
    from pbr.tables import write_tables

    pytest.importorskip("openpyxl")
    jsonl = tmp_path / "families.jsonl"
    jsonl.write_bytes((EXAMPLES / "families.jsonl").read_bytes())
    tables = tmp_path / name
    write_tables([f for f in pbr.read_records(jsonl) if isinstance(f, pbr.Family)], tables)
    decisions = decisions_of(tables, "2015-03-31")
    assert decisions == decisions_of(jsonl, "2015-03-31")  # the same records, the same bytes
    (tmp_path / "d.jsonl").write_text("".join(decisions))
    capsys.readouterr()
    status, out, _ = replay_cli(capsys, str(tmp_path / "d.jsonl"), "--families", str(tables))
    assert (status, out) == (0, "replayed 60: 60 identical, 0 different\n")
    audits = []
    for families in (tables, jsonl):
        argv = [str(EXAMPLES / "claims.csv"), "--families", str(families), "--as-of", "2015-03-31"]
        assert main(["audit", *argv]) == 1  # the example claims hold planted flaws
        audits.append(capsys.readouterr().out)
    assert audits[0] == audits[1]
    assert "total                      19" in audits[0]


@pytest.mark.parametrize("suffix", [".html", ".md"])  # the CSV has no header
def test_an_audit_report_lists_each_table_of_a_folder_with_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    # A report names its inputs with their SHA-256: for a folder of tables, each table read
    # (a report once stopped with "Is a directory").
    import hashlib

    from pbr.cli import main
    from pbr.tables import write_tables

    tables = tmp_path / "tables"
    write_tables([f for f in pbr.read_records(EXAMPLES / "families.jsonl")
                  if isinstance(f, pbr.Family)], tables)  # fmt: skip
    (tables / "notes.csv").write_text("not a table\n")  # reported, not read, not hashed
    report = tmp_path / f"audit{suffix}"
    argv = [str(EXAMPLES / "claims.csv"), "--families", str(tables), "--report", str(report)]
    assert main(["audit", *argv]) == 1  # the example claims hold planted flaws
    assert "unexpected error" not in capsys.readouterr().err
    text = report.read_text(encoding="utf-8").replace("\\_", "_")
    members = hashlib.sha256((tables / "members.csv").read_bytes()).hexdigest()
    assert "tables/members.csv" in text
    assert members in text
    assert "notes.csv" not in text


def _edited(lines: list[str], change: object) -> str:
    first = json.loads(lines[0])
    change(first)  # type: ignore[operator]
    return json.dumps(first, separators=(",", ":")) + "\n" + "".join(lines[1:])


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (lambda d: d.pop("provenance"), "has no provenance"),
        (lambda d: d.update(provenance=None), "it is not replayable"),
        (lambda d: d.update(payable="800.0"), "payable: '800.0' -> '800.00'"),
        (lambda d: d.update(payable=800), "payable: 800 -> '800.00'"),
        (lambda d: d.update(eligible=1), "eligible: 1 -> True"),
        (lambda d: d.update(note="x"), ":1: not a decision: 'note' is not a key of a decision\n"),
    ],
)
def test_replay_compares_the_decision_as_written(
    tmp_path: Path,
    families: Path,
    capsys: pytest.CaptureFixture[str],
    change: object,
    shown: str,
) -> None:
    lines = decisions_of(families, "2015-03-31")
    assert json.loads(lines[0])["payable"] == "800.00"
    capsys.readouterr()
    path = tmp_path / "d.jsonl"
    path.write_text(_edited(lines, change))
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families), "--only-recorded")
    assert status == 1
    assert shown in out
    assert "errors.pydantic.dev" not in out
    compared = "has no provenance" not in shown and "not" not in shown  # values compared
    ending = "1 different" if compared else "0 different, 1 not replayable"
    assert out.endswith(f"replayed 60: 59 identical, {ending}\n")


def test_replay_reads_a_file_with_a_byte_order_mark(
    tmp_path: Path, families: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = decisions_of(families, "2015-03-31")
    capsys.readouterr()
    path = tmp_path / "d.jsonl"
    path.write_text("".join(lines), encoding="utf-8-sig")
    status, out, _ = replay_cli(capsys, str(path), "--families", str(families))
    assert (status, out) == (0, "replayed 60: 60 identical, 0 different\n")


def test_replay_refuses_a_decision_without_provenance() -> None:
    family = by_id("EX-001")
    recorded = pbr.evaluate(family, as_of=date(2015, 3, 31))
    bare = recorded.model_copy(update={"provenance": None})
    with pytest.raises(ReplayError, match="not replayable"):
        replay(bare, family)


@pytest.mark.parametrize(
    ("old", "new", "path", "values"),
    [
        ('"payable":"800.00"', '"payable":"9999.00","payable":"800.00"', "payable", "'9999.00', '800.00'"),
        ('"payable":"800.00"', '"payable":"800.00","payable":"9999.00"', "payable", "'800.00', '9999.00'"),
        ('"payable":"800.00"', '"payable":"800.00","payable":"800.00"', "payable", "'800.00', '800.00'"),
        ('"status":"met","amount":"700.00"', '"status":"met","amount":"0.00","amount":"700.00"',
         "results.crime_asb_education.amount", "'0.00', '700.00'"),
    ],
)  # fmt: skip
def test_a_decision_with_a_key_given_twice_is_not_one_pbr_wrote(
    tmp_path: Path,
    families: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    path: str,
    values: str,
) -> None:
    # The auditor's r_dupkey2.jsonl: "payable" given twice was replayed as "60 identical", exit
    # 0, though JSON readers disagree on which value counts (Python's takes the last).
    lines = decisions_of(families, "2015-03-31")
    capsys.readouterr()
    first = lines[0]
    assert old in first
    edited = tmp_path / "d.jsonl"
    edited.write_text(first.replace(old, new, 1) + "".join(lines[1:]))
    status, out, _ = replay_cli(capsys, str(edited), "--families", str(families))
    assert status == 1
    assert out == (
        f"{edited}:1: EX-001: not a decision pbr wrote: the key {path!r} is given 2 times "
        f"({values}); JSON readers disagree on which value counts, so it is not compared\n"
        "replayed 60: 59 identical, 1 different\n"
    )  # EX-001 has its line: not reported missing as well


def test_replay_and_audit_read_standard_input_as_evaluate_does(tmp_path: Path) -> None:
    """``cat d.jsonl | pbr replay - ...`` said "cannot read -: No such file or directory"."""
    families = str(EXAMPLES / "families.jsonl")
    decided = cli("evaluate", families, "--as-of", "2015-03-31", "--format", "json").stdout
    (tmp_path / "d.jsonl").write_text(decided)
    records = Path(families).read_text()
    for argv, piped_in in (
        (["replay", "-", "--families", families], decided),
        (["replay", str(tmp_path / "d.jsonl"), "--families", "-"], records),
    ):
        same = cli(*argv, input=piped_in)
        assert (same.returncode, same.stderr) == (0, ""), same.stdout + same.stderr
        assert same.stdout == "replayed 60: 60 identical, 0 different\n"
    diff = cli("replay", "-", "--families", families, input="not json\n" + decided)
    assert diff.returncode == 1
    assert diff.stdout.startswith("<stdin>:1: not a decision")
    claims = str(EXAMPLES / "claims.csv")
    piped = cli("audit", claims, "--families", "-", input=records)
    named = cli("audit", claims, "--families", families)
    assert (piped.returncode, piped.stdout) == (named.returncode, named.stdout)
    for argv in (["replay", "-", "--families", "-"], ["audit", claims, *["--families", "-"] * 2]):
        twice = cli(*argv, input=records)
        assert (twice.returncode, twice.stdout) == (2, "")
        said = "the decisions and --families -" if argv[0] == "replay" else "--families - twice"
        assert twice.stderr == (
            f"pbr: standard input ('-') is given for {said}: it can be read once: give the "
            "other inputs as files\n"
        )


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            '"baseline":"six_months_before_attachment"',
            '"baseline":"bogus"',
            "interpretations.baseline = 'bogus': not a value of tf-phase-1's interpretation",
        ),
        (
            '"interpretations":{',
            '"interpretations":{"extra":"x",',
            "interpretations.extra = 'x': tf-phase-1 has no interpretation 'extra'",
        ),
        (
            '"as_of":"2015-03-31"',
            '"as_of":"1999-01-01"',
            "as_of = '1999-01-01': a decision is made on a date from 2012-04-01",
        ),
    ],
)
def test_replay_counts_a_line_it_cannot_replay_and_replays_the_rest(
    tmp_path: Path,
    families: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    said: str,
) -> None:
    # One decision with an interpretation its rules do not define stopped the whole replay:
    # "pbr: interpretation 'baseline' has no value 'bogus'", exit status 2, no line named.
    lines = decisions_of(families, "2015-03-31")
    capsys.readouterr()
    assert old in lines[3]
    path = tmp_path / "d.jsonl"
    path.write_text("".join([*lines[:3], lines[3].replace(old, new, 1), *lines[4:]]))
    status, out, err = replay_cli(capsys, str(path), "--families", str(families))
    assert (status, err) == (1, "")
    assert out.startswith(f"{path}:4: family 'EX-004': {said}")
    assert out.endswith("replayed 60: 59 identical, 0 different, 1 not replayable\n")


def _p2_family_and_plans() -> tuple[pbr.Family, pbr.OutcomePlan, pbr.OutcomePlan, pbr.OutcomePlan]:
    """A phase-two family whose health outcome turns on a threshold, and three plans of one
    id/version: strict, lenient, and strict with a change to an outcome the family has not."""
    from pbr.plans import parse_plan
    from tests.builders import PLAN_FAMILY

    family = pbr.Family.model_validate(PLAN_FAMILY)

    def plan(threshold: int, unused: int = 0) -> pbr.OutcomePlan:
        def measure(mid: str, indicator: str, limit: int) -> dict[str, object]:
            return {"id": mid, "indicator": indicator, "aggregate": "sum", "comparison": "<=",
                    "threshold": limit, "sustain_months": 3}  # fmt: skip

        return parse_plan(
            {
                "id": "t-p2",
                "version": "1",
                "programme": "tf-phase-2",
                "outcomes": [
                    {"problem": "health", "measures": [measure("gp", "gp_visits", threshold)]},
                    {
                        "problem": "domestic_abuse",
                        "measures": [measure("da", "police_callout_domestic_abuse", 1)],
                    },
                    {
                        "problem": "work",  # the family does not have it: never judged
                        "measures": [measure("jobs", "claimant_months", unused)],
                    },
                ],
            }
        )

    return family, plan(2), plan(3), plan(2, unused=5)


def test_a_changed_plan_is_named_as_the_rules_hash_covers_it_too() -> None:
    family, strict, lenient, _ = _p2_family_and_plans()
    recorded = pbr.evaluate(family, as_of=date(2017, 3, 1), plan=strict)
    again = replay(recorded, family, lenient)
    assert not again.identical
    assert again.changed == ("rules or outcome plan t-p2/1 (the rules_hash covers both)",)
    assert again.describe().startswith(
        "P2-A: differs (rules or outcome plan t-p2/1 (the rules_hash covers both))"
    )


def test_a_plan_change_the_family_does_not_feel_is_named_too() -> None:
    family, strict, _, other = _p2_family_and_plans()
    recorded = pbr.evaluate(family, as_of=date(2017, 3, 1), plan=strict)
    again = replay(recorded, family, other)
    assert again.identical
    assert again.describe() == (
        "P2-A: identical (though rules or outcome plan t-p2/1 (the rules_hash covers both) changed)"
    )


def test_replay_says_exactly_which_changed_when_it_can_tell() -> None:
    family, strict, _, _ = _p2_family_and_plans()
    day = date(2017, 3, 1)
    by_example = pbr.evaluate(family, as_of=day)  # no plan: pbr's example
    again = replay(by_example, family, strict)
    assert again.changed == (
        "outcome plan pbr's example plan pbr-example-tfop/1.0 -> t-p2/1 (the rules are unchanged)",
    )
    by_council = pbr.evaluate(family, as_of=day, plan=strict)
    again = replay(by_council, family)  # the plan left out
    assert again.changed == (
        "outcome plan t-p2/1 -> pbr's example plan pbr-example-tfop/1.0 (perhaps the rules too: "
        "the rules_hash covers both)",
    )
    phase_one = by_id("EX-048")
    recorded = pbr.evaluate(phase_one, as_of=date(2015, 3, 31))
    changed = recorded.model_copy(
        update={"provenance": recorded.provenance.model_copy(update={"rules_hash": "0" * 64})}  # type: ignore[union-attr]
    )
    assert replay(changed, phase_one).changed == ("rules",)  # phase one has no plan


# --- a decision made under a council's term calendar ----------------------------------------

TERMS_PLAN = {
    "id": "xcounty-terms",
    "version": "1",
    "programme": "tf-phase-2",
    "outcomes": [
        {
            "problem": "education",
            "measures": [
                {
                    "id": "excl_terms",
                    "indicator": "fixed_term_exclusions",
                    "comparison": "<=",
                    "threshold": 1,
                    "sustain_terms": 1,
                }
            ],
        },
        {
            "problem": "domestic_abuse",
            "measures": [
                {
                    "id": "da_days",
                    "indicator": "police_callout_domestic_abuse",
                    "comparison": "==",
                    "threshold": 0,
                    "sustain_days": 90,
                }
            ],
        },
    ],
}
R1 = {
    "family_id": "R1",
    "programme": "tf-phase-2",
    "attached_on": "2016-09-02",
    "members": [
        {"person_id": "A1", "date_of_birth": "1984-05-01"},
        {"person_id": "C1", "date_of_birth": "2008-01-01"},
    ],
    "problems_at_entry": [
        {"problem": "education", "evidence": "school"},
        {"problem": "domestic_abuse", "evidence": "MARAC"},
    ],
    "school_terms": [
        {
            "person_id": "C1",
            "academic_year": "2016/17",
            "term": term,
            "possible_sessions": 100,
            "unauthorised_absences": 0,
            "fixed_term_exclusions": exclusions,
        }
        for term, exclusions in (("autumn", 0), ("spring", 2), ("summer", 0))
    ],
}


def _council_decision() -> tuple[pbr.Family, pbr.plans.OutcomePlan, pbr.Decision]:
    """A family paid under the council's dates (summer over on 22 July) and not by default."""
    family = pbr.Family.model_validate(R1)
    plan = pbr.plans.parse_plan(TERMS_PLAN)
    rules = pbr.rules.PHASE_TWO.with_term_calendar(COUNCIL_2016)
    recorded = pbr.evaluate(family, as_of=date(2017, 7, 25), rules=rules, plan=plan)
    assert recorded.payable == Decimal("800.00")
    return family, plan, recorded


def test_replay_with_the_council_calendar_reproduces_its_decision() -> None:
    family, plan, recorded = _council_decision()
    rules = pbr.rules.PHASE_TWO.with_term_calendar(COUNCIL_2016)
    for chosen in (rules, {"tf-phase-2": rules}, lambda f: rules):
        again = replay(recorded, family, plan, rules=chosen)
        assert again.identical, again.describe()
        assert again.changed == ()
        assert again.term_calendar is None


def test_replay_without_the_council_calendar_names_it() -> None:
    # replay rebuilt the bundled rules: payable 800 -> 0, blamed on "rules or outcome plan"
    family, plan, recorded = _council_decision()
    again = replay(recorded, family, plan)
    assert not again.identical
    assert "payable: '800.00' -> '0.00'" in again.differences
    assert again.term_calendar == "council"
    assert again.changed == (
        "term calendar: the decision was made under the term calendar 'council'; replay used "
        "the default dates — replay it with that calendar (pbr replay --term-calendar FILE; "
        "from Python, rules=)",
    )
    own = pbr.rules.PHASE_TWO.with_term_calendar(pbr.TermCalendar(COUNCIL_2016.overrides))
    other = replay(recorded, family, plan, rules=own)
    assert other.changed == (
        "term calendar: the decision was made under the term calendar 'council'; replay used "
        "the term calendar 'own' — replay it with that calendar (pbr replay --term-calendar "
        "FILE; from Python, rules=)",
    )


def test_replay_applies_the_decision_s_interpretations_to_the_rules_given() -> None:
    family = by_id("EX-048")
    chosen = pbr.rules.PHASE_ONE.with_interpretations(employment_weeks="all_13")
    recorded = pbr.evaluate(family, as_of=date(2014, 1, 15), rules=chosen)
    assert replay(recorded, family, rules=pbr.rules.PHASE_ONE).identical
    with pytest.raises(ReplayError, match=r"rules = .*tf-phase-2.*'tf-phase-1'"):
        replay(recorded, family, rules=pbr.rules.PHASE_TWO)


@pytest.mark.slow
def test_cli_replay_of_a_council_calendar_s_decision_asks_for_its_file(
    tmp_path: Path,
) -> None:
    from pbr.calendars import term_calendar_data

    _, _, recorded = _council_decision()
    (tmp_path / "r1.jsonl").write_text(json.dumps(R1) + "\n")
    (tmp_path / "d.jsonl").write_text(recorded.model_dump_json() + "\n")
    (tmp_path / "plan.toml").write_text(PLAN_TOML)
    (tmp_path / "council.json").write_text(json.dumps(term_calendar_data(COUNCIL_2016)))
    args = ["--families", str(tmp_path / "r1.jsonl"), "--plan", str(tmp_path / "plan.toml")]
    out = cli("replay", str(tmp_path / "d.jsonl"), *args)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "R1: differs (term calendar: the decision was made under the term calendar " in (
        out.stdout
    )
    assert "rules or outcome plan" not in out.stdout
    assert "give that calendar's file with --term-calendar FILE" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr
    again = cli(
        "replay",
        str(tmp_path / "d.jsonl"),
        *args,
        "--term-calendar",
        str(tmp_path / "council.json"),
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout == "replayed 1: 1 identical, 0 different\n"


PLAN_TOML = """
id = "xcounty-terms"
version = "1"
programme = "tf-phase-2"
[[outcomes]]
problem = "education"
  [[outcomes.measures]]
  id = "excl_terms"
  indicator = "fixed_term_exclusions"
  comparison = "<="
  threshold = 1
  sustain_terms = 1
[[outcomes]]
problem = "domestic_abuse"
  [[outcomes.measures]]
  id = "da_days"
  indicator = "police_callout_domestic_abuse"
  comparison = "=="
  threshold = 0
  sustain_days = 90
"""
"""`TERMS_PLAN` as a plan file."""
