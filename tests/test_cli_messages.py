"""What the command line says when it is given the wrong thing: one line, naming the file or option.

A workbook where a CSV or JSON file was wanted, bytes that are not UTF-8, a missing file or a
folder, an option given twice, an argument too many, a pipe to ``pbr explain``: each was a
misleading message, Python's own text (``[Errno 2]``, ``'utf-8' codec can't decode``), fifty
lines, or silence. Every option of every command has a help text and every command documents
its exit statuses.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pbr.cli import EXIT_STATUS, SHARED_EXIT_STATUS, _parser, main
from pbr.ledger import Entry, Ledger

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FAMILIES = str(EXAMPLES / "families.jsonl")
PYTHON_TEXT = ("Errno", "codec", "Traceback", "can't decode", "seekable")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as stop:  # argparse's errors
        status = int(stop.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    """The one line of an error, checked to hold none of Python's own wording."""
    assert err.count("\n") == 1, err
    for text in PYTHON_TEXT:
        assert text not in err, err
    return err.rstrip("\n")


def workbook(path: Path) -> Path:
    """An XLSX-like file (a zip, as Excel writes) at `path`."""
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/worksheets/sheet1.xml", bytes(range(256)) * 40)
    return path


# --- a workbook or another encoding where a text file was wanted --------------------------------


@pytest.mark.parametrize("name", ["book.xlsx", "claims.json", "claims.csv"])
def test_a_workbook_given_as_the_claim_file_is_named_a_workbook(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    """It said "is not UTF-8: it looks like UTF-16 ...": it is not text at all."""
    book = workbook(tmp_path / name)
    status, out, err = run(capsys, "audit", str(book), "--families", FAMILIES)
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr: {book}: it is an Excel workbook (or another zip file), not a claim file (claims "
        "are CSV or JSON): save it as CSV UTF-8"
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_workbook_named_as_records_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, workers: str
) -> None:
    """An .xlsx renamed .json gave one rejection a line of its zip ("not valid UTF-8")."""
    import pbr

    book = workbook(tmp_path / "families.json")
    status, out, err = run(
        capsys, "evaluate", str(book), "--as-of", "2015-03-31", "--workers", workers
    )
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr: cannot read {book}: it is an Excel workbook (or another zip file), not JSON or "
        "JSON Lines (council tables in a workbook are read from a file named .xlsx)"
    )
    with pytest.raises(pbr.io.UnreadableFile, match="Excel workbook"):
        pbr.read_records(book)


def test_read_records_on_a_workbook_named_xlsx_points_to_read_tables(tmp_path: Path) -> None:
    """It said workbooks are read from a file named .xlsx, of a file named .xlsx."""
    import pbr

    book = workbook(tmp_path / "book.xlsx")
    with pytest.raises(pbr.io.UnreadableFile) as caught:
        list(pbr.read_records(book))
    assert str(caught.value) == (
        f"cannot read {book}: it is an Excel workbook (or another zip file), not JSON or JSON "
        "Lines (read_records reads JSON only: read a workbook of council tables with "
        "pbr.tables.read_tables)"
    )


def test_a_workbook_given_to_replay_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """It printed a "not a decision: 'utf-8' codec can't decode byte" line for each line."""
    book = workbook(tmp_path / "book.xlsx")
    status, out, err = run(capsys, "replay", str(book), "--families", FAMILIES)
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr: {book}: it is an Excel workbook (or another zip file), not decisions (JSON Lines)"
    )
    utf16 = tmp_path / "decisions.jsonl"
    utf16.write_text('{"family_id": "EX-001"}\n', encoding="utf-16")
    status, out, err = run(capsys, "replay", str(utf16), "--families", FAMILIES)
    assert (status, out) == (2, "")
    assert one_line(err) == f"pbr: {utf16} is UTF-16: save it as UTF-8"


def test_a_csv_or_pretty_json_given_to_replay_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A CSV of decisions, or an audit's CSV report, was one "not a decision" line per row."""
    decided = tmp_path / "d.csv"
    report = tmp_path / "a.csv"
    jsonl = tmp_path / "d.jsonl"
    run(capsys, "evaluate", FAMILIES, "--as-of", "2015-03-31", "--output", str(decided))
    claims = str(EXAMPLES / "claims.csv")
    run(capsys, "audit", claims, "--families", FAMILIES, "--as-of", "2015-03-31", "--report",
        str(report))  # fmt: skip
    run(capsys, "evaluate", FAMILIES, "--as-of", "2015-03-31", "--format", "json", "--output",
        str(jsonl))  # fmt: skip
    wanted = "pbr replay reads the JSON Lines of pbr evaluate --format json (a decision a line)"
    for csv in (decided, report):
        header = csv.read_text().split("\n", 1)[0]
        status, out, err = run(capsys, "replay", str(csv), "--families", FAMILIES)
        assert (status, out) == (2, "")
        assert one_line(err) == (
            f"pbr: {csv} is CSV (its first line is a header: {header[:60]!r}), not decisions: "
            + wanted
        )
    pretty = tmp_path / "d.json"
    pretty.write_text(json.dumps([json.loads(line) for line in jsonl.read_text().splitlines()],
                                 indent=2))  # fmt: skip
    status, out, err = run(capsys, "replay", str(pretty), "--families", FAMILIES)
    assert (status, out) == (2, "")
    assert one_line(err) == f"pbr: {pretty} holds no decisions: no line is a JSON object; " + wanted
    lines = jsonl.read_text().splitlines(keepends=True)  # a bad line among good ones is evidence
    jsonl.write_text("not json\n" + "".join(lines[1:]) + "x,1\n" + lines[0])
    status, out, err = run(capsys, "replay", str(jsonl), "--families", FAMILIES)
    assert (status, err) == (1, "")
    assert out.startswith(f"{jsonl}:1: not a decision: Expecting value")
    assert f"{jsonl}:61: not a decision: Expecting value" in out
    assert out.endswith("replayed 62: 60 identical, 0 different, 2 not replayable\n")


def test_a_decision_line_that_is_not_utf8_says_which_byte(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_bytes(b'{"family_id": "Bromley \x96"}\n')
    status, out, _ = run(capsys, "replay", str(decisions), "--families", FAMILIES)
    assert status == 1
    first = out.splitlines()[0]
    assert first == (
        f"{decisions}:1: not a decision: byte 96 is not UTF-8 (Windows-1252, perhaps): save the "
        "file as UTF-8"
    )


def test_a_windows_1252_councils_file_names_its_line_and_the_likely_cause(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """It said "byte 51 is not UTF-8 text (a binary file?)": no line, and the wrong guess."""
    councils = tmp_path / "c.csv"
    councils.write_bytes(b"council,estimated_families,upfront_grant\nKent,2560,\xa31000\n")
    status, out, err = run(capsys, "forecast", "--councils", str(councils))
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr: {councils}: not a councils file (UTF-8 CSV): line 2: byte a3 is not UTF-8 "
        "(Windows-1252, perhaps): save the file as UTF-8"
    )
    book = workbook(tmp_path / "councils.xlsx")
    status, out, err = run(capsys, "forecast", "--councils", str(book))
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr: {book}: it is an Excel workbook (or another zip file), not a councils file "
        "(UTF-8 CSV): save it as CSV UTF-8"
    )


def test_the_three_csv_readers_give_one_wording_for_bytes_that_are_not_utf8(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Council tables, a claim file and a councils file: the same cause and advice."""
    said = "byte a3 is not UTF-8 (Windows-1252, perhaps): save the file as UTF-8"
    claims = tmp_path / "claims.csv"
    claims.write_bytes(
        b"claim_id,family_id,kind,amount,claimed_on\nC\xa3,EX-001,attachment_fee,3200.00,"
        b"2012-11-01\n"
    )
    status, _, err = run(capsys, "audit", str(claims), "--families", FAMILIES)
    assert status == 1
    assert f"claim_id = C\\xa3: {said}" in err
    from pbr.tables import _not_utf8

    assert _not_utf8("\udca3")[1] == said


# --- missing files, folders and pipes -----------------------------------------------------------


def test_a_missing_file_or_a_folder_is_said_without_errno(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``cannot read nosuch.jsonl: [Errno 2] No such file or directory: 'nosuch.jsonl'``."""
    missing = str(tmp_path / "nosuch.jsonl")
    folder = tmp_path / "d"
    folder.mkdir()
    claims = str(EXAMPLES / "claims.csv")
    cases = [
        (["evaluate", missing, "--as-of", "2015-03-31"], f"pbr: cannot read {missing}: No such"),
        (["explain", missing, "EX-001", "--as-of", "2015-03-31"], f"pbr: cannot read {missing}"),
        (["audit", missing, "--families", FAMILIES], f"pbr: cannot read claim file {missing}: "),
        (["audit", claims, "--families", missing], f"pbr: cannot read {missing}: No such file"),
        (["audit", str(folder), "--families", FAMILIES], f"pbr: cannot read claim file {folder}"),
        (["replay", str(folder), "--families", FAMILIES], f"pbr: cannot read {folder}: it is a"),
    ]
    for argv, start in cases:
        status, out, err = run(capsys, *argv)
        assert (status, out) == (2, ""), argv
        assert one_line(err).startswith(start), (argv, err)
    status, _, err = run(capsys, "audit", str(folder), "--families", FAMILIES)
    assert err.endswith(": it is a folder, not a file\n")


def test_explain_reads_standard_input_and_a_pipe(tmp_path: Path) -> None:
    """``cat f | pbr explain - ID``: "cannot read -: [Errno 2]"; /dev/stdin: "not seekable"."""
    data = Path(FAMILIES).read_bytes()
    for source in ("-", "/dev/stdin"):
        shown = subprocess.run(
            [sys.executable, "-m", "pbr.cli", "explain", source, "EX-002", "--as-of", "2015-03-31"],
            input=data,
            capture_output=True,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(b"Working paper: family EX-002 as of 2015-03-31\n")
    missing = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "explain", "-", "EX-999", "--as-of", "2015-03-31"],
        input=data.decode(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (missing.returncode, missing.stderr) == (2, "pbr: no family 'EX-999' in <stdin>\n")


@pytest.mark.parametrize("command", ["evaluate", "explain"])
def test_a_closed_standard_input_is_said_in_one_line(command: str) -> None:
    """``pbr evaluate - <&-`` (a daemon's, a cron wrapper's): "unexpected error (AttributeError)"."""
    family = ["EX-001"] if command == "explain" else []
    shown = subprocess.run(
        ["sh", "-c", f'exec "$0" -m pbr.cli {command} - {" ".join(family)} --as-of 2015-03-31 <&-',
         sys.executable],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert (shown.returncode, shown.stdout) == (2, "")
    assert one_line(shown.stderr) == (
        "pbr: no standard input (it is closed): pipe the families in or give the file's path"
    )


def _encoded(text: str, how: str) -> bytes:
    """`text` saved as gzip, bzip2, lz4, UTF-16 (with or without its byte-order mark) or with CR
    line ends."""
    import bz2
    import gzip

    if how == "gzip":
        return gzip.compress(text.encode())
    if how == "bzip2":
        return bz2.compress(text.encode())
    if how == "lz4":  # a frame's magic number and descriptor (Python has no lz4), then blocks
        return bytes.fromhex("04224d18604082") + text.encode()
    if how == "cr":
        return text.replace("\n", "\r").encode()
    return text.encode(how)


_SAID = {
    "gzip": " is gzip-compressed: decompress it first",
    "bzip2": " is bzip2-compressed: decompress it first",
    "lz4": " is lz4-compressed: decompress it first",
    "utf-16": " is UTF-16: save it as UTF-8",
    "utf-16-le": " is UTF-16: save it as UTF-8",
    "utf-16-be": " is UTF-16: save it as UTF-8",
    "cr": "'s lines end in CR alone (old Mac line endings): save it with LF or CRLF line endings",
}


@pytest.mark.parametrize("how", list(_SAID))
@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "{f}", "--workers", "1"],
        ["evaluate", "{f}", "--workers", "2", "--format", "json"],
        ["evaluate", "{f}", "--output", "{tmp}/d.xlsx"],
        ["evaluate", "-", "--format", "csv"],
        ["explain", "{f}", "EX-001"],
        ["audit", str(EXAMPLES / "claims.csv"), "--families", "{f}"],
        ["replay", "{tmp}/empty.jsonl", "--families", "{f}"],
        ["replay", "{f}", "--families", FAMILIES],
    ],
)
def test_a_compressed_utf16_or_cr_file_is_said_in_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    how: str,
    command: list[str],
) -> None:
    """Each was thousands of garbage rejections, or one record for the whole file."""
    data = _encoded(Path(FAMILIES).read_text(), how)
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    (tmp_path / "empty.jsonl").write_text("")
    argv = [a.format(f=path, tmp=tmp_path) for a in command]
    if "-" in argv:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    day = ["--as-of", "2015-03-31"] if command[0] != "replay" else []
    status, out, err = run(capsys, *argv, *day)
    named = "<stdin>" if "-" in argv else str(path)
    assert (status, out, one_line(err)) == (2, "", f"pbr: {named}{_SAID[how]}")
    assert not (tmp_path / "d.xlsx").exists()


@pytest.mark.parametrize("how", list(_SAID))
def test_read_records_refuses_a_compressed_utf16_or_cr_file(tmp_path: Path, how: str) -> None:
    import pbr
    from pbr.io import UnreadableFile

    path = tmp_path / "f.jsonl"
    path.write_bytes(_encoded(Path(FAMILIES).read_text(), how))
    with pytest.raises(UnreadableFile) as refused:
        list(pbr.read_records(path))
    assert str(refused.value) == f"{path}{_SAID[how]}"


def test_explain_given_decisions_says_it_wants_the_records(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # pbr evaluate's output given to explain: 17 field errors, and never what the file is
    decisions = tmp_path / "decisions.jsonl"
    status, _, _ = run(
        capsys, "evaluate", FAMILIES, "--as-of", "2015-03-31", "--output", str(decisions)
    )
    assert status == 0
    status, out, err = run(capsys, "explain", str(decisions), "EX-001", "--as-of", "2015-03-31")
    assert (status, out) == (1, "")
    assert err.endswith(
        f"pbr: {decisions} holds decisions (pbr evaluate's output), not family records: give "
        "pbr explain the records the decisions were made from\n"
    )
    status, _, err = run(capsys, "explain", FAMILIES, "EX-001", "--as-of", "2015-03-31")
    assert status == 0
    assert "holds decisions" not in err


def test_explain_from_a_pipe_rejects_a_repeat_as_evaluate_does(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = Path(FAMILIES).read_bytes().splitlines(keepends=True)

    class Stdin:
        buffer = io.BytesIO(b"".join([*lines, lines[0]]))

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdin", Stdin())
    status, out, err = run(capsys, "explain", "-", "EX-001", "--as-of", "2015-03-31")
    assert status == 1
    assert out.startswith("Working paper: family EX-001")
    assert err.startswith("<stdin>:61 (record 61), family 'EX-001': family_id = \"EX-001\"")


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["forecast", "--scenario", "a.toml", "--scenario", "b.toml", "--families", "10"],
        ["forecast", "--councils", "a.csv", "--councils", "b.csv"],
        [
            "forecast",
            "--records",
            "a",
            "--records",
            "b",
            "--estimated",
            "9",
            "--as-of",
            "2015-03-31",
        ],
        ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--as-of", "2016-03-31"],
        ["explain", FAMILIES, "EX-001", "--as-of", "2015-03-31", "--as-of", "2016-03-31"],
        ["rules", "--format", "json", "--format", "text"],
        ["audit", "c.csv", "--families", FAMILIES, "--report", "a.md", "--report", "b.md"],
    ],
    ids=["scenario", "councils", "records", "evaluate-as-of", "explain-as-of", "rules", "audit"],
)
def test_a_single_valued_option_given_twice_is_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """The last one was taken silently: which did the user mean?"""
    option = next(a for n, a in enumerate(argv) if a.startswith("--") and a in argv[n + 1 :])
    first, second = (argv[n + 1] for n, a in enumerate(argv) if a == option)
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr {argv[0]}: error: {option} is given twice ('{first}', then '{second}'): give it "
        f"once (see pbr {argv[0]} --help)"
    )


INTERPRETING = {
    "evaluate": ["evaluate", FAMILIES, "--as-of", "2015-03-31"],
    "explain": ["explain", FAMILIES, "EX-001", "--as-of", "2015-03-31"],
    "audit": ["audit", str(EXAMPLES / "claims.csv"), "--families", FAMILIES],
    "ledger record": ["ledger", "record", "r.csv", "l.db", "--claims", "c.csv"],
    "forecast": ["forecast", "--families", "10"],
    "serve": ["serve", "--host", "0.0.0.0"],  # without a token: never listens, if taken
}
"""A command line of every command taking ``--interpretation``, but for it."""


@pytest.mark.parametrize(
    ("choice", "said"),
    [
        (
            " employment_weeks = all_13 ",
            "' employment_weeks = all_13 ' has spaces around its id and value: remove them",
        ),
        (
            "employment_weeks= all_13",
            "'employment_weeks= all_13' has spaces around its value: remove them",
        ),
        (
            "\temployment_weeks=all_13",
            "'\\temployment_weeks=all_13' has spaces around its id: remove them",
        ),
        ("employment_weeks= ", "expected ID=VALUE, got 'employment_weeks= '"),
        (" =all_13", "expected ID=VALUE, got ' =all_13'"),
    ],
)
@pytest.mark.parametrize("command", list(INTERPRETING))
def test_an_interpretation_with_spaces_around_it_is_refused_not_trimmed(
    capsys: pytest.CaptureFixture[str], command: str, choice: str, said: str
) -> None:
    """``" employment_weeks = all_13 "`` was taken as employment_weeks=all_13, where Python
    refuses " all_13": pbr never trims. "employment_weeks= " passed the ID=VALUE check."""
    status, out, err = run(capsys, *INTERPRETING[command], "--interpretation", choice)
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr {command}: error: argument --interpretation: {said} (see pbr {command} --help)"
    )


@pytest.mark.parametrize("size", ["99999999999999999999", "9223372036854775807", "0", "-1", "abc"])
@pytest.mark.parametrize("command", ["evaluate", "explain"])
def test_a_record_size_out_of_range_is_refused_with_the_range(
    capsys: pytest.CaptureFixture[str], size: str, command: str
) -> None:
    """A size past what a read can be asked for was an "unexpected error (OverflowError)"."""
    argv = [command, FAMILIES, *(["EX-001"] if command == "explain" else [])]
    status, out, err = run(capsys, *argv, "--as-of", "2015-03-31", "--max-record-bytes", size)
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr {command}: error: argument --max-record-bytes: expected a number of bytes from 1 "
        f"to 1,099,511,627,776 (1 TiB), got '{size}' (see pbr {command} --help)"
    )
    largest = ["--max-record-bytes", "1099511627776"]
    assert run(capsys, *argv, "--as-of", "2015-03-31", *largest)[0] == 0


def test_the_same_value_twice_is_taken_and_repeatable_options_still_repeat(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--format", "csv"]
    status, once, _ = run(capsys, *argv)
    assert status == 0
    assert run(capsys, *argv, "--as-of", "2015-03-31")[:2] == (0, once)
    mixed = str(EXAMPLES / "mixed-programmes.jsonl")
    claims = str(EXAMPLES / "claims.csv")
    both = run(capsys, "audit", claims, "--families", FAMILIES, "--families", mixed)
    assert both[0] == 1  # the example's deliberate problems
    assert both[1] != run(capsys, "audit", claims, "--families", FAMILIES)[1]  # both were read
    plans = ["--plan", "a", "--plan", "b"]
    choices = ["--interpretation", "baseline=x", "--interpretation", "rates_by=y"]
    args = _parser("evaluate").parse_args(
        ["evaluate", FAMILIES, "--as-of", "2015-03-31", *plans, *choices]
    )
    assert args.plan == ["a", "b"]
    assert args.interpretation == [("baseline", "x"), ("rates_by", "y")]


def test_an_argument_too_many_is_the_commands_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``pbr: error: unrecognized arguments: f.jsonl (see pbr --help)``: the wrong command."""
    cases = {
        ("evaluate", "f.jsonl", "f.jsonl", "--as-of", "2015-03-31"): (
            "pbr evaluate: error: unrecognized arguments: f.jsonl; evaluate takes one file "
            "(see pbr evaluate --help)"
        ),
        ("explain", "f.jsonl", "EX-001", "more", "--as-of", "2015-03-31"): (
            "pbr explain: error: unrecognized arguments: more; explain takes 2 arguments: file "
            "family_id (see pbr explain --help)"
        ),
        ("forecast", "f.csv", "--families", "10"): (
            "pbr forecast: error: unrecognized arguments: f.csv; forecast takes no arguments, "
            "only options (see pbr forecast --help)"
        ),
        ("ledger", "verify", "a.db", "b.db"): (
            "pbr ledger verify: error: unrecognized arguments: b.db; ledger verify takes one db "
            "(see pbr ledger verify --help)"
        ),
        ("evaluate", "f.jsonl", "--as-of", "2015-03-31", "--bogus"): (
            "pbr evaluate: error: unrecognized arguments: --bogus (see pbr evaluate --help)"
        ),
    }
    for argv, said in cases.items():
        status, out, err = run(capsys, *argv)
        assert (status, out) == (2, "")
        assert one_line(err) == said


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix}{name}", sub))
                found += _commands(sub, f"{prefix}{name} ")
    return found


def test_every_argument_of_every_command_has_a_help_text() -> None:
    """``pbr evaluate --format``, ``pbr ledger append --amount`` and others had none."""
    missing = [
        f"pbr {name} {action.option_strings or action.dest}"
        for name, sub in _commands(_parser())
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]
    assert missing == []


def test_every_command_documents_its_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    """Only ``pbr evaluate``'s were documented; ``ledger verify`` was said to exit 2, not 1."""
    commands = _commands(_parser())
    assert {name for name, _ in commands} == set(EXIT_STATUS)
    for name, sub in commands:
        shared = "" if name == "serve" else f"; {SHARED_EXIT_STATUS}"
        assert sub.epilog == f"Exit status: {EXIT_STATUS[name]}{shared}.", name
        assert EXIT_STATUS[name].startswith("0 "), name
    with pytest.raises(SystemExit):
        main(["ledger", "verify", "--help"])
    assert "Exit status: 0 the chain is intact" in capsys.readouterr().out


def test_every_command_s_help_says_the_exit_statuses_all_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``pbr evaluate --help`` said 0, 1 and 2 only: not 141 (``| head``), 130, 143 or 129
    (stopped), nor 2 for an output or standard error that cannot be written."""
    for command in (["evaluate"], ["explain"], ["ledger", "export"], ["rules"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        said = " ".join(capsys.readouterr().out.split())
        assert "2 also when an output or standard error cannot be written" in said, command
        assert "141 when the reader of the output goes away (| head)" in said, command
        assert "130, 143 or 129 when stopped by Ctrl-C, SIGTERM or SIGHUP" in said, command


def test_ledger_verify_exits_as_documented(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "payments.db"
    entry = Entry("EX-001", "attachment_fee", Decimal(3200), date(2013, 1, 2), "A-1", "v1")
    Ledger(db).append([entry])
    assert "1 the chain is broken or does not hold the kept head" in EXIT_STATUS["ledger verify"]
    assert run(capsys, "ledger", "verify", str(db))[0] == 0
    status, out, _ = run(capsys, "ledger", "verify", str(db), "--expect-head", "2:" + "0" * 64)
    assert status == 1
    assert "BROKEN" in out
    assert "2 the ledger cannot be opened" in EXIT_STATUS["ledger verify"]
    assert run(capsys, "ledger", "verify", str(tmp_path / "none.db"))[0] == 2


# --- standard output or standard error on a full disk -------------------------------------------

FULL = Path("/dev/full")
needs_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full here")


def pbr_into_full(*args: str, full: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m pbr.cli ARGS`` with `full` (``stdout`` or ``stderr``) on /dev/full."""
    with FULL.open("wb") as sink:
        return subprocess.run(
            [sys.executable, "-m", "pbr.cli", *args],
            stdout=sink if full == "stdout" else subprocess.PIPE,
            stderr=sink if full == "stderr" else subprocess.PIPE,
            timeout=120,
            check=False,
        )


@needs_full
@pytest.mark.parametrize("where", ["stdout", "--output"])
def test_a_standard_error_that_cannot_be_written_exits_2(tmp_path: Path, where: str) -> None:
    """It was 1, "some records were rejected", on a clean run: the error escaped `main`."""
    output = ["--output", str(tmp_path / "d.jsonl")] if where == "--output" else []
    done = pbr_into_full(
        "evaluate", FAMILIES, "--as-of", "2015-03-31", "--format", "json", *output, full="stderr"
    )
    assert done.returncode == 2
    decisions = (tmp_path / "d.jsonl").read_bytes() if output else done.stdout
    assert len(decisions.splitlines()) == 60  # the work was done; its summary could not be said


HALF_REJECTED = "\n".join(
    line if n % 2 == 0 else f'{{"family_id": "X{n}"}}'
    for n, line in enumerate(Path(FAMILIES).read_text(encoding="utf-8").splitlines())
)


@pytest.mark.parametrize("stderr", ["reader gone", "closed", "full"])
def test_standard_error_lost_mid_run_does_not_lose_the_decisions(
    tmp_path: Path, stderr: str
) -> None:
    """``pbr evaluate ... 2>&1 | head`` lost the whole run at its first rejection (status 141)."""
    if stderr == "full" and not FULL.exists():
        pytest.skip("no /dev/full here")
    families = tmp_path / "half.jsonl"
    families.write_text(HALF_REJECTED + "\n", encoding="utf-8")
    out = tmp_path / "d.jsonl"
    command = [sys.executable, "-m", "pbr.cli", "evaluate", str(families), "--as-of",
               "2015-03-31", "--output", str(out)]  # fmt: skip
    if stderr == "reader gone":
        read, write = os.pipe()
        os.close(read)  # every write to it fails: EPIPE
        try:
            done = subprocess.run(command, stderr=write, timeout=120, check=False)
        finally:
            os.close(write)
    elif stderr == "closed":
        done = subprocess.run(command, stderr=subprocess.DEVNULL, timeout=120, check=False,
                              preexec_fn=lambda: os.close(2))  # fmt: skip
    else:
        with FULL.open("wb") as sink:
            done = subprocess.run(command, stderr=sink, timeout=120, check=False)
    assert done.returncode == 2  # the rejections could not be said: never a clean run
    assert len(out.read_bytes().splitlines()) == 30  # but the decisions are all written


@needs_full
@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", FAMILIES, "--as-of", "2015-03-31"],
        ["evaluate", FAMILIES, "--as-of", "2015-03-31", "--format", "csv", "--output", "-"],
        ["explain", FAMILIES, "EX-001", "--as-of", "2015-03-31"],
        ["schema"],
        ["rules"],
        ["replay", "DECISIONS", "--families", FAMILIES],
        ["--help"],
    ],
    ids=lambda command: " ".join(command[:1] + command[-2:-1]),
)
def test_a_standard_output_that_cannot_be_written_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command said "unexpected error, please report it" for a full disk."""
    decisions = tmp_path / "decisions.jsonl"
    if "DECISIONS" in command:
        main(["evaluate", FAMILIES, "--as-of", "2015-03-31", "--format", "json",
              "--output", str(decisions)])  # fmt: skip
        capsys.readouterr()
    done = pbr_into_full(
        *(str(decisions) if a == "DECISIONS" else a for a in command), full="stdout"
    )
    assert done.returncode == 2
    assert done.stderr == b"pbr: cannot write standard output: No space left on device\n"


@pytest.mark.parametrize(
    "data", [b"\r[]\n", b'{"a": 1}\r\n{"a": 2}\r\n', b"[\r\n]\r\n", b"\r\n\r\n"]
)
def test_a_cr_that_is_not_a_line_end_is_not_old_mac_text(data: bytes) -> None:
    """``\\r[]\\n`` (a CR as JSON whitespace before an empty array) was refused as CR-only text."""
    from pbr._unreadable import not_line_text

    assert not_line_text("f.jsonl", data) is None


@pytest.mark.parametrize("how", list(_SAID))
def test_evaluate_many_refuses_a_compressed_utf16_or_cr_file_opened_rb(
    tmp_path: Path, how: str
) -> None:
    """A file opened ``"rb"`` gave thousands of rejections of byte noise (or one record)."""
    import re

    import pbr
    from pbr.io import UnreadableFile

    path = tmp_path / "f.jsonl"
    path.write_bytes(_encoded(Path(FAMILIES).read_text(), how))
    with path.open("rb") as handle:
        with pytest.raises(UnreadableFile, match=re.escape(f"{path}{_SAID[how]}")):
            pbr.evaluate_many(handle, as_of=date(2015, 3, 31))
        assert handle.tell() == 0  # nothing was taken from the caller's file
    with Path(FAMILIES).open("rb") as handle:
        assert len(list(pbr.evaluate_many(handle, as_of=date(2015, 3, 31), workers=1))) == 60


def test_explain_warns_of_the_example_plan_as_every_command_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    mixed = str(EXAMPLES / "mixed-programmes.jsonl")
    status, out, err = run(capsys, "explain", mixed, "MX-P2-01", "--as-of", "2024-03-31")
    assert status == 0
    assert out
    assert err.splitlines()[0].startswith(
        "pbr: warning: 1 tf-phase-2 family was judged against pbr's example outcome plan"
    )


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_families_judged_against_the_example_plan_are_counted_on_stderr(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    mixed = str(EXAMPLES / "mixed-programmes.jsonl")
    sf_plan = str(EXAMPLES / "plans" / "county-sf.toml")
    args = ["evaluate", mixed, "--as-of", "2024-03-31", "--format", fmt, "--workers", "1"]
    status, _, err = run(capsys, *args, "--plan", sf_plan)
    assert status == 0  # a warning: the decisions are made
    assert (
        "warning: 5 tf-phase-2 families were judged against pbr's example outcome plan "
        "pbr-example-tfop/1.0, not the council's: no --plan was given for tf-phase-2 (the plan "
        "given, example-county-sf/1.0, is for supporting-families)"
    ) in err
    assert "supporting-families famil" not in err  # its plan was given
    assert "\npbr: warning: 5 tf-phase-2 families" in "\n" + err  # as every command's warnings
    status, _, err = run(capsys, *args)
    assert status == 0
    assert "5 tf-phase-2 families were judged against" in err
    assert "4 supporting-families families were judged against" in err
    assert "(the plan given" not in err
