"""Inputs read to a limit: an endless or huge input is refused in one line, memory kept.

Each of these read its input whole with no limit: ``/dev/zero`` (or a pipe that never ends)
as a claim file, a councils file, a ledger CSV, an audit report or a key file ran until memory
was gone (``MemoryError`` as an "unexpected error", or the process killed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from pbr._bounded import Refused, read_limited
from pbr.ledger import LedgerError, load_key

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = str(ROOT / "examples" / "families.jsonl")
ZERO = "/dev/zero"

pytestmark = pytest.mark.skipif(not Path(ZERO).exists(), reason="no /dev/zero")


def pbr(
    *argv: str, stdin: IO[bytes] | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    """Run the CLI in a child under a memory limit and a time limit: (status, out, err)."""
    limited = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (5 << 29, 5 << 29)); "
        "from pbr.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", limited, *argv],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PBR_LEDGER_KEY": "", "PBR_LEDGER_KEY_FILE": ""},
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def one_line(err: str) -> str:
    """The error as a user sees it: one line starting ``pbr``, no traceback."""
    assert err.count("\n") == 1, err
    assert "Traceback" not in err, err
    assert "unexpected error" not in err, err
    return err.strip()


@pytest.fixture
def endless(tmp_path: Path) -> Iterator[Path]:
    """A FIFO a thread feeds with ``x`` for ever (no line break), until the reader is gone."""
    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed() -> None:
        try:
            with open(fifo, "wb") as pipe:
                while not stop.is_set():
                    pipe.write(b"x" * 65536)
        except (BrokenPipeError, OSError):
            pass

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    yield fifo
    stop.set()
    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # a writer still opening: let it end
    thread.join(timeout=10)


# --- the helper ----------------------------------------------------------------------------------


def test_a_file_within_the_limits_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    data = b"claim_id,family_id\n" + b"C1,F1\r\n" * 400_000  # 2.8 MB, read in pieces
    path.write_bytes(data)
    assert read_limited(path, "a claim file") == data


def test_the_size_limit_refuses_an_endless_stream(endless: Path) -> None:
    with pytest.raises(Refused) as info:
        read_limited(endless, "a claim file", max_bytes=3 << 20, max_line=None)
    assert str(info.value) == (
        f"{endless}: larger than a claim file may be (3 MiB): pbr reads at most 3,145,728 "
        "bytes of a claim file"
    )


def test_a_regular_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as file:
        file.truncate(10 << 20)  # sparse: reading it would find NUL bytes first
    with pytest.raises(Refused, match=r"larger than a claim file may be \(1 MiB\)"):
        read_limited(path, "a claim file", max_bytes=1 << 20)


def test_a_line_over_the_line_limit_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(b"a\nb\n" + b"y" * 5000 + b"\nc\n")
    assert read_limited(path, "a table", max_line=5000).endswith(b"c\n")
    with pytest.raises(Refused) as info:
        read_limited(path, "a table", max_line=4999)
    assert str(info.value) == (
        f"{path}: line 3 is longer than a line of a table may be (4,999 bytes): pbr reads at "
        "most 4,999 bytes a line"
    )


def test_a_nul_after_a_bad_byte_is_left_to_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00\x01")
    assert read_limited(path, "a scenario file") == b"\xff\xfe\x00\x01"
    path.write_bytes(b"ok\n\x00 later")  # a NUL after the first line: the reader's to name
    assert read_limited(path, "a claim file") == b"ok\n\x00 later"


# --- each command ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["claims.csv", "claims.jsonl", "claims.json", "claims"], ids=lambda n: n
)
def test_audit_refuses_an_endless_claim_file(tmp_path: Path, name: str) -> None:
    link = tmp_path / name
    link.symlink_to(ZERO)
    status, out, err = pbr("audit", str(link), "--families", FAMILIES, "--as-of", "2015-03-31")
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"pbr: {link}: not text (a NUL byte at byte 1 of line 1), not a claim file"
    )  # it said "is not UTF-8: it looks like UTF-16"


def test_audit_refuses_endless_standard_input() -> None:
    with open(ZERO, "rb") as zero:
        status, _, err = pbr(
            "audit", "/dev/stdin", "--families", FAMILIES, "--as-of", "2015-03-31", stdin=zero
        )
    assert status == 2
    assert one_line(err).startswith("pbr: /dev/stdin: not text")


def test_audit_refuses_an_endless_line(endless: Path) -> None:
    status, _, err = pbr("audit", str(endless), "--families", FAMILIES, "--as-of", "2015-03-31")
    assert status == 2
    assert one_line(err) == (
        f"pbr: {endless}: line 1 is longer than a line of a claim file may be (1 MiB): pbr "
        "reads at most 1,048,576 bytes a line"
    )


def test_audit_still_reads_the_example_claims() -> None:
    status, out, err = pbr(
        "audit", str(ROOT / "examples" / "claims.csv"), "--families", FAMILIES,
        "--as-of", "2015-03-31",
    )  # fmt: skip
    assert status in (0, 1), err
    assert out


def test_forecast_refuses_an_endless_councils_file(endless: Path) -> None:
    status, out, err = pbr("forecast", "--councils", ZERO)
    assert (status, out) == (2, "")
    assert one_line(err) == (
        "pbr: /dev/zero: not text (a NUL byte at byte 1 of line 1), not a councils file (UTF-8 CSV)"
    )
    status, _, err = pbr("forecast", "--councils", str(endless))
    assert status == 2
    assert "line 1 is longer than a line of a councils file (UTF-8 CSV) may be (1 MiB)" in (
        one_line(err)
    )


def test_ledger_import_refuses_an_endless_file(tmp_path: Path, endless: Path) -> None:
    status, _, err = pbr("ledger", "import", str(tmp_path / "L.db"), ZERO)
    assert status == 2
    assert one_line(err) == (
        "pbr: /dev/zero: not text (a NUL byte at byte 1 of line 1), not a ledger CSV file"
    )
    status, _, err = pbr("ledger", "import", str(tmp_path / "L.db"), str(endless))
    assert status == 2
    assert "line 1 is longer than a line of a ledger CSV file may be (1 MiB)" in one_line(err)
    assert not (tmp_path / "L.db").exists()


def test_ledger_record_refuses_an_endless_report(tmp_path: Path) -> None:
    status, _, err = pbr(
        "ledger", "record", ZERO, str(tmp_path / "r.db"), "--paid-on", "2015-04-01"
    )
    assert status == 2
    assert one_line(err) == (
        "pbr: /dev/zero: not text (a NUL byte at byte 1 of line 1), not an audit CSV report"
    )
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("ledger", "verify", "{db}", "--key-file", ZERO),
        ("audit", str(ROOT / "examples" / "claims.csv"), "--families", FAMILIES,
         "--as-of", "2015-03-31", "--ledger", "{db}", "--key-file", ZERO),
        ("evaluate", FAMILIES, "--as-of", "2015-03-31", "--ledger", "{db}", "--key-file", ZERO),
    ],
    ids=["ledger verify", "audit", "evaluate"],
)  # fmt: skip
def test_an_endless_key_file_is_refused(tmp_path: Path, argv: tuple[str, ...]) -> None:
    db = str(tmp_path / "c.db")
    status, _, err = pbr(*(a.replace("{db}", db) for a in argv))
    assert status == 2
    assert one_line(err).endswith(
        "/dev/zero: larger than a ledger key file may be (4 KiB): pbr reads at most 4,096 "
        "bytes of a ledger key file"
    )


def test_a_key_file_is_read_to_4_kib(tmp_path: Path) -> None:
    key = tmp_path / "ledger.key"
    key.write_bytes(b"k" * 4095 + b"\n")  # its line break is not part of it
    assert load_key(key) == b"k" * 4095
    key.write_bytes(b"\x00\xff" * 16)  # random bytes, a NUL among them
    assert load_key(key) == b"\x00\xff" * 16
    key.write_bytes(b"k" * 4097)
    with pytest.raises(LedgerError, match=r"ledger.key: larger than a ledger key file may be"):
        load_key(key)


def test_forecast_refuses_an_endless_scenario_file(tmp_path: Path) -> None:
    link = tmp_path / "zero.toml"
    link.symlink_to(ZERO)
    councils = str(ROOT / "examples" / "councils.csv")
    status, _, err = pbr("forecast", "--councils", councils, "--scenario", str(link))
    assert status == 2
    assert one_line(err) == (
        f"pbr: {link}: not text (a NUL byte at byte 1 of line 1), not a scenario file (TOML or "
        "JSON)"
    )
