"""The command line fails in one line, whatever goes wrong: no traceback, no "please report it".

Ctrl-C while a workbook is written or while the command starts, a closed standard output, an
empty file name, a chart title that is not UTF-8 text, a terminal that cannot show ``£``: each
printed a traceback, an "unexpected error", or did nothing and said nothing.
"""

from __future__ import annotations

import builtins
import gc
import io
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pbr.cli import _parser, main
from pbr.ledger import Entry, Ledger

from .builders import evaluate, family

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = str(ROOT / "examples" / "families.jsonl")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- Ctrl-C while a workbook is written ------------------------------------------------------


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What Python would print as "Exception ignored in: ...", collected."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def _interrupted_after(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """Every write-only sheet's append raises KeyboardInterrupt once `rows` rows were appended."""
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    original = WriteOnlyWorksheet.append
    count = [0]

    def append(self: Any, row: Any) -> None:
        count[0] += 1
        if count[0] > rows:
            raise KeyboardInterrupt
        original(self, row)

    monkeypatch.setattr(WriteOnlyWorksheet, "append", append)


def _decisions_workbook(tmp_path: Path) -> None:
    from pbr.output import xlsx_decisions

    xlsx_decisions([evaluate(family(family_id=f"F{n}"), "2013-07-31") for n in range(5)])


def _audit_workbook(tmp_path: Path) -> None:
    from pbr.audit._report import Report
    from pbr.audit._xlsx import render

    meta = tuple((f"key {n}", "value") for n in range(5))
    render(Report(title="t", meta=meta, summary=(), tables=(), all_claims=()))


def _forecast_workbook(tmp_path: Path) -> None:
    from pbr.forecast._excel import write_workbook

    write_workbook(tmp_path / "f.xlsx", [("rows", [{"a": n} for n in range(5)])])


def _tables_workbook(tmp_path: Path) -> None:
    from pbr.tables import write_tables

    write_tables([family(family_id=f"F{n}") for n in range(5)], tmp_path / "t.xlsx")


@pytest.mark.parametrize(
    "write", [_decisions_workbook, _audit_workbook, _forecast_workbook, _tables_workbook]
)
def test_ctrl_c_while_a_workbook_is_written_leaves_nothing_for_python_to_print(
    write: Callable[[Path], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    unraisable: list[Any],
) -> None:
    _interrupted_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path)
    gc.collect()  # the unfinished sheet's generators, closed now rather than at exit
    assert unraisable == []
    assert list(tmp_path.iterdir()) == []


# -- Ctrl-C while the command starts -----------------------------------------------------------


def test_ctrl_c_while_the_command_loads_is_said_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbr import _entry

    real_import = builtins.__import__

    def interrupted(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pbr.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    assert _entry.main(["rules"]) == 130
    out, err = capsys.readouterr()
    assert (out, err) == ("", "pbr: interrupted\n")


def test_the_pbr_script_starts_through_the_guarded_entry() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["pbr"] == "pbr._entry:main"
    assert "_entry" in (ROOT / "src" / "pbr" / "cli" / "__main__.py").read_text()


# -- a closed standard output ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["rules"], ["schema"], ["forecast", "--families", "10"]])
def test_a_closed_standard_output_is_said_as_a_full_disk_is(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert err == "pbr: cannot write standard output: Bad file descriptor\n"


def test_a_ledger_exported_to_a_closed_standard_output_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "l.db"
    paid = date(2013, 1, 1)
    Ledger(db).append([Entry("F1", "attachment_fee", Decimal("3200.00"), paid, "C1", "v1")])
    monkeypatch.setattr(sys, "stdout", None)
    status = main(["ledger", "export", str(db), "-"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines()[0] == "pbr: cannot write standard output: Bad file descriptor"
    assert "unexpected" not in err


# -- an empty file name ------------------------------------------------------------------------

_EMPTY_PATHS = {
    "evaluate FILE": ["evaluate", "", "--as-of", "2015-03-31"],
    "evaluate --output": ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--output", ""],
    "evaluate --rejections": ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--rejections", ""],
    "evaluate --ledger": ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--ledger", ""],
    "evaluate --plan": ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--plan", ""],
    "evaluate --key-file": ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--key-file", ""],
    "explain FILE": ["explain", "", "F1", "--as-of", "2015-03-31"],
    "template FOLDER": ["template", ""],
    "forecast --councils": ["forecast", "--councils", ""],
    "forecast --records": ["forecast", "--records", ""],
    "forecast --scenario": ["forecast", "--families", "10", "--scenario", ""],
    "forecast --plot": ["forecast", "--families", "10", "--plot", ""],
    "forecast --output": ["forecast", "--families", "10", "--output", ""],
    "audit CLAIMS": ["audit", "", "--families", FAMILIES],
    "audit --families": ["audit", "c.csv", "--families", ""],
    "audit --ledger": ["audit", "c.csv", "--families", FAMILIES, "--ledger", ""],
    "audit --report": ["audit", "c.csv", "--families", FAMILIES, "--report", ""],
    "ledger verify DB": ["ledger", "verify", ""],
    "ledger head DB": ["ledger", "head", ""],
    "ledger export CSV": ["ledger", "export", "l.db", ""],
    "ledger import CSV": ["ledger", "import", "l.db", ""],
    "ledger record REPORT": ["ledger", "record", "", "l.db", "--paid-on", "2015-03-31"],
    "ledger record --claims": [
        *("ledger", "record", "r.csv", "l.db", "--paid-on", "2015-03-31", "--claims", ""),
    ],
    "ledger record --families": [
        *("ledger", "record", "r.csv", "l.db", "--paid-on", "2015-03-31", "--families", ""),
    ],
    "ledger record --ledger": [
        *("ledger", "record", "r.csv", "l.db", "--paid-on", "2015-03-31", "--ledger", ""),
    ],
    "ledger verify --key-file": ["ledger", "verify", "l.db", "--key-file", ""],
    "replay DECISIONS": ["replay", "", "--families", FAMILIES],
    "replay --families": ["replay", "d.jsonl", "--families", ""],
    "replay --plan": ["replay", "d.jsonl", "--families", FAMILIES, "--plan", ""],
    "replay --ledger": ["replay", "d.jsonl", "--families", FAMILIES, "--ledger", ""],
}


@pytest.mark.parametrize("argv", list(_EMPTY_PATHS.values()), ids=list(_EMPTY_PATHS))
def test_an_empty_file_name_is_refused_naming_its_option(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        _parser(argv[0]).parse_args(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert len(err.splitlines()) == 1
    assert "an empty file name" in err


def test_every_file_option_refuses_an_empty_name() -> None:
    """Every option that names a file (its metavar says so) checks for an empty name."""
    import argparse

    from pbr.cli._options import file_name

    def actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for command in action.choices.values():
                    yield from actions(command)
            else:
                yield action

    unchecked = [
        action.option_strings or action.dest
        for action in actions(_parser())
        if action.metavar in ("FILE", "DB", "PNG", "HISTORY") and action.type is not file_name
    ]
    assert unchecked == []


# -- a chart title that is not UTF-8 text ------------------------------------------------------


@pytest.mark.parametrize("option", ["--title", "--council"])
def test_a_chart_text_that_is_not_utf8_is_refused_before_any_work(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "t.png"
    argv = ["forecast", "--families", "100", option, "caf\udce9", "--plot", str(chart)]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    out, err = capsys.readouterr()
    assert stopped.value.code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert f"argument {option}" in err
    assert "not UTF-8 text" in err
    assert not chart.exists()


# -- a terminal that cannot show £ -------------------------------------------------------------


class _Terminal(io.TextIOWrapper):
    """An ASCII stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_that_cannot_show_a_pound_sign_gets_an_escape(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = io.BytesIO()
    ascii_out = _Terminal(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    status = main(["rules"])
    ascii_out.flush()
    err = capsys.readouterr().err
    assert (status, err) == (0, "")
    assert b"\\xa3" in raw.getvalue()
    assert ascii_out.encoding == "ascii"  # as it was, once the command is done


def test_data_piped_from_an_ascii_standard_output_is_utf8_not_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Escapes went into the JSON Lines (``"Ynys M\\xf4n"``: not JSON), read back by pbr replay."""
    line = (EXAMPLES / "families.jsonl").read_text().splitlines()[0]
    source = tmp_path / "uni.jsonl"
    source.write_text(line.replace('"Exampleshire"', '"Ynys Môn £"') + "\n", encoding="utf-8")
    raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    status = main(["evaluate", str(source), "--as-of", "2015-03-31", "--format", "json"])
    ascii_out.flush()
    capsys.readouterr()
    assert status == 0
    decision = json.loads(raw.getvalue().decode("utf-8"))
    assert decision["local_authority"] == "Ynys Môn £"


COUNCIL = "Pen-y-bont ar Ogwr – Ŵ"  # Ŵ is neither latin-1 nor cp1252, the dash not latin-1


def _council_families(tmp_path: Path) -> Path:
    """The example's first family, its council `COUNCIL`."""
    line = (EXAMPLES / "families.jsonl").read_text().splitlines()[0]
    source = tmp_path / "uni.jsonl"
    source.write_text(line.replace("Exampleshire", COUNCIL) + "\n", encoding="utf-8")
    return source


LOCALES = [
    {"PYTHONIOENCODING": "latin-1"},
    {"PYTHONIOENCODING": "cp1252"},
    {"PYTHONIOENCODING": "ascii"},
    {"LANG": "C", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"},
]


@pytest.mark.parametrize("locale", LOCALES, ids=lambda env: " ".join(env.values()))
@pytest.mark.parametrize("form", ["json", "table", "csv"])
def test_standard_output_to_a_file_is_utf8_in_any_locale(
    tmp_path: Path, locale: dict[str, str], form: str
) -> None:
    """cp1252 wrote bytes pbr replay refused; latin-1 stopped with an "unexpected error"."""
    import os
    import subprocess

    source = _council_families(tmp_path)
    argv = ["evaluate", str(source), "--as-of", "2015-03-31", "--format", form]
    done = subprocess.run(
        [sys.executable, "-m", "pbr.cli", *argv],
        capture_output=True, env={**os.environ, **locale}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (COUNCIL if form != "table" else "£800.00") in done.stdout.decode("utf-8")
    assert b"unexpected error" not in done.stderr
    if form == "json":  # read back as pbr replay reads it
        decisions = tmp_path / "decisions.jsonl"
        decisions.write_bytes(done.stdout)
        assert main(["replay", str(decisions), "--families", str(source)]) == 0


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "ascii"])
def test_explain_and_rules_to_a_pipe_are_utf8_in_any_encoding(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    encoding: str,
) -> None:
    source = _council_families(tmp_path)
    family_id = json.loads(source.read_text())["family_id"]
    for argv in (["explain", str(source), family_id, "--as-of", "2015-03-31"], ["rules"]):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding=encoding)
        monkeypatch.setattr(sys, "stdout", out)
        status = main(argv)
        out.flush()
        err = capsys.readouterr().err
        assert (status, err) == (0, "")
        assert ("£" if argv == ["rules"] else COUNCIL) in raw.getvalue().decode("utf-8")
        assert out.encoding == encoding  # as it was, once the command is done


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_terminal_or_standard_error_without_a_character_gets_an_escape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    """A terminal, or standard error, in latin-1 stopped the command at the first ``–``."""
    source = _council_families(tmp_path)
    family_id = json.loads(source.read_text())["family_id"]
    screen, log = io.BytesIO(), io.BytesIO()
    terminal = _Terminal(screen, encoding=encoding)
    error = io.TextIOWrapper(log, encoding=encoding)
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "stderr", error)
    status = main(["explain", str(source), family_id, "--as-of", "2015-03-31"])
    named = tmp_path / "Ŵ–out.jsonl"
    status += main(["evaluate", str(source), "--as-of", "2015-03-31", "--output", str(named)])
    terminal.flush()
    error.flush()
    shown = screen.getvalue().decode(encoding)
    said = log.getvalue().decode(encoding)
    assert status == 0, said
    assert "Pen-y-bont ar Ogwr " in shown
    assert "\\u0174" in shown  # (cp1252 has the dash)
    assert "\\u0174" in said
    assert "out.jsonl" in said
    assert "unexpected error" not in said


def test_an_empty_key_file_name_is_refused_not_taken_for_the_environment_key() -> None:
    from pbr.ledger import LedgerError, load_key

    with pytest.raises(LedgerError, match="empty name"):
        load_key("", {"PBR_LEDGER_KEY": "correct horse battery staple"})


# -- a name longer than the system allows ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["evaluate", "{long}.jsonl"], "cannot read {long}.jsonl: File name too long"),
        (
            ["evaluate", FAMILIES, "--output", "{long}.csv"],
            "cannot write {long}.csv: File name too long",
        ),
        (
            ["evaluate", FAMILIES, "--output", "{tmp}/out.csv", "--rejections", "{long}.csv"],
            "cannot write {long}.csv: File name too long",
        ),
        (
            [
                "audit",
                str(EXAMPLES / "claims.csv"),
                "--families",
                FAMILIES,
                "--report",
                "{long}.csv",
            ],
            "cannot write {long}.csv: File name too long",
        ),
    ],
)
def test_a_name_too_long_for_the_system_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    """Python 3.11's ``Path.is_dir`` raises ENAMETOOLONG: it was an "unexpected error"."""
    long = str(tmp_path / ("a" * 300))
    argv = [a.format(long=long, tmp=tmp_path) for a in args]
    status, _, err = run(capsys, *argv, "--as-of", "2015-03-31")
    assert status == 2, err
    assert err == f"pbr: {said.format(long=long)}\n"
