"""Output paths that name a folder, or a file the command reads, are refused before any work."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from pbr.cli import main
from pbr.output import OutputError, atomic_writer, check_distinct, check_writable

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DAY = ["--as-of", "2015-03-31"]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples' families, claims, term calendar and plan, an empty ledger, and a keeper."""
    from pbr.ledger import Ledger

    for name in ("families.jsonl", "claims.csv", "term-calendar.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    shutil.copy(EXAMPLES / "plans" / "county-sf.toml", tmp_path / "plan.toml")
    Ledger(str(tmp_path / "l.db"))
    (tmp_path / "keep.txt").write_text("important\n")
    (tmp_path / "ex.csv").write_text("someone's export\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


_AUDIT = ["audit", "claims.csv", "--families", "families.jsonl"]
_RECORDS = ["forecast", "--records", "families.jsonl", "--estimated", "100", *DAY]


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "families.jsonl", *DAY, "--output", "families.jsonl/"],
        ["evaluate", "families.jsonl", *DAY, "--rejections", "families.jsonl/"],
        ["evaluate", "families.jsonl", *DAY, "--output", "keep.txt/"],
        ["evaluate", "families.jsonl", *DAY, "--output", "keep.txt/."],
        ["evaluate", "families.jsonl", *DAY, "--output", "new.jsonl/"],
        [*_AUDIT, "--report", "claims.csv/"],
        [*_AUDIT, "--report", "families.jsonl/"],
        [*_AUDIT, "--term-calendar", "term-calendar.csv", "--report", "term-calendar.csv/"],
        [*_AUDIT, "--report", "keep.txt/"],
        [*_RECORDS, "--plot", "families.jsonl/"],
        [*_RECORDS, "--output", "families.jsonl/"],
        [*_RECORDS, "--output", "keep.txt/"],
        ["ledger", "export", "l.db", "ex.csv/"],
        ["ledger", "export", "l.db", "keep.txt/"],
    ],
    ids=lambda argv: " ".join(argv[:1] + argv[-2:]),
)
def test_an_output_path_ending_in_a_separator_is_refused_and_nothing_changes(
    files: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """``--output in.jsonl/`` replaced in.jsonl with the decisions and said it wrote them."""
    before = _contents(files)
    status = main(argv)
    err = capsys.readouterr().err
    name = argv[-1]
    assert status == 2, err
    assert f"pbr: cannot write {name}: " in err
    assert f"ends in '{name[name.rindex('/') :]}', which names a folder: give a file name" in err
    if argv[-2].startswith("--"):  # the option that gave it, as the user wrote it
        assert f": {argv[-2]} ends in " in err
    assert "Traceback" not in err
    assert _contents(files) == before
    assert not (files / "new.jsonl").exists()


@pytest.mark.parametrize("name", ["out.csv/", "out.csv/.", "out.csv/..", f"out.csv{'/'}/"])
def test_the_library_refuses_a_path_that_names_a_folder(tmp_path: Path, name: str) -> None:
    """`check_writable`, `check_distinct` and `atomic_writer` alike: nothing is written."""
    path = f"{tmp_path}/{name}"
    with pytest.raises(OutputError, match="which names a folder: give a file name"):
        check_writable(path)
    with pytest.raises(OutputError, match=r"--output ends in '/\.*', which names a folder"):
        check_distinct({}, {"--output": path})
    written = pytest.raises(OutputError, match="which names a folder: give a file name")
    with written, atomic_writer(path) as handle:
        handle.write("lost")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", [None, "csv"])
def test_write_decisions_refuses_a_path_ending_in_a_separator(
    tmp_path: Path, fmt: str | None
) -> None:
    """``pbr.output.write_decisions(d, "x.jsonl/")`` replaced the file x.jsonl."""
    import pbr
    from pbr.output import write_decisions

    kept = tmp_path / "x.jsonl"
    kept.write_text("a family record\n")
    family = pbr.Family.model_validate(
        {"family_id": "F1", "attached_on": "2012-10-15",
         "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]}
    )  # fmt: skip
    decision = pbr.evaluate(family, as_of=date(2013, 1, 1))
    with pytest.raises(OutputError, match="which names a folder"):
        write_decisions([decision], f"{kept}/", fmt)
    assert kept.read_text() == "a family record\n"


@pytest.mark.parametrize("option", ["--output", "--rejections"])
@pytest.mark.parametrize(
    ("given", "read"),
    [
        (["--term-calendar", "term-calendar.csv"], "term-calendar.csv"),
        (["--plan", "plan.toml"], "plan.toml"),
    ],
)
def test_evaluate_never_writes_over_its_plan_or_term_calendar(
    files: Path, capsys: pytest.CaptureFixture[str], option: str, given: list[str], read: str
) -> None:
    """``--output`` naming the ``--term-calendar`` file replaced the council's calendar."""
    before = _contents(files)
    status = main(["evaluate", "families.jsonl", *DAY, *given, option, read])
    err = capsys.readouterr().err
    assert status == 2, err
    named = "--term-calendar" if read.startswith("term") else f"--plan {read}"
    assert f"pbr: cannot write {read}: {option} names the same file as {named}" in err
    assert _contents(files) == before


@pytest.mark.parametrize(
    ("option", "given", "read"),
    [
        ("--output", ["--term-calendar", "term-calendar.csv"], "term-calendar.csv"),
        ("--plot", ["--term-calendar", "term-calendar.csv"], "term-calendar.csv"),
        ("--plot", ["--plan", "plan.toml"], "plan.toml"),  # --output x.toml: no such format
    ],
)
def test_forecast_never_writes_over_its_plan_or_term_calendar(
    files: Path, capsys: pytest.CaptureFixture[str], option: str, given: list[str], read: str
) -> None:
    """``pbr forecast --records --term-calendar t.csv --output t.csv`` replaced the calendar."""
    before = _contents(files)
    status = main([*_RECORDS, *given, option, read])
    err = capsys.readouterr().err
    assert status == 2, err
    named = "--term-calendar" if read.startswith("term") else f"--plan {read}"
    assert f"pbr: cannot write {read}: {option} names the same file as {named}" in err
    assert _contents(files) == before
