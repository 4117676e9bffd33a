"""The payments ledger: canonical chain, tamper detection, keys, heads, failures, CSV, CLI."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.cli import main
from pbr.ledger import CSV_COLUMNS, GENESIS, Entry, Ledger, LedgerError, chain, load_key

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KEY = b"a secret of at least sixteen bytes"
COLUMNS = "seq, family_id, kind, amount, paid_on, claim_id, rules_version, prev_hash, hash"


def entry(i: int, family: str | None = None, kind: str = "crime_asb_education") -> Entry:
    """Entry `i`: a result for family ``EX-{i}`` unless another is given (a result is paid once)."""
    return Entry(
        family or f"EX-{i:03d}",
        kind,
        Decimal(i % 900 + 100) + Decimal("0.50"),  # stored as a REAL it would read "100.5"
        date(2013, 1, 1) + timedelta(days=i),
        f"C{i}",
        "tf-phase-1/1.0",
    )


def filled(path: Path, n: int, key: bytes | None = None) -> Ledger:
    ledger = Ledger(path, key=key)
    ledger.append(entry(i) for i in range(n))
    return ledger


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbr.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(err: str) -> str:
    """The error a CLI user sees: exactly one line starting ``pbr: ``, no traceback."""
    assert err.startswith("pbr: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_append_and_verify(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 5)
    assert ledger.verify().ok
    assert [seq for seq, _ in ledger.entries()] == [1, 2, 3, 4, 5]
    ledger.append([entry(99)])
    verdict = ledger.verify()
    assert (verdict.ok, verdict.entries, verdict.first_bad, verdict.keyed) == (True, 6, None, False)
    assert len(verdict.head) == 64
    assert verdict.head_text == f"6:{verdict.head}"


def test_amounts_are_stored_in_one_canonical_form(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.append([Entry("F1", "attachment_fee", Decimal("3.2E+3"), date(2013, 1, 1), "C", "v")])
    with sqlite3.connect(tmp_path / "l.db") as db:
        assert db.execute("SELECT amount, typeof(amount) FROM entries").fetchone() == (
            "3200.00",
            "text",
        )
    with pytest.raises(LedgerError, match="at most two decimal places"):
        ledger.append([Entry("F1", "attachment_fee", Decimal("0.001"), date(2013, 1, 1), "D", "v")])


# --- tampering ----------------------------------------------------------------------------------

REENCODED = ["{a}0", "{i}", "{e}", "+{a}", " {a}", "{a} ", "0{a}", "{a}5", "{c}", "-{a}"]
"""Other spellings of the same amount (and a sub-penny one) that SQLite would store as given."""


def tamper(db: sqlite3.Connection, how: str, row: int, n: int, pick: int, keyed: bool) -> int:
    """Change the ledger by hand as `how` says; return the entry verify must name first."""
    amount = db.execute("SELECT amount FROM entries WHERE seq = ?", (row,)).fetchone()[0]
    if how == "edit":
        column = ["family_id", "kind", "amount", "paid_on", "claim_id", "rules_version"][pick % 6]
        value = {
            "family_id": "EX-OTHER",
            "kind": "progress_to_work",
            "amount": "1.00",
            "paid_on": "2020-01-01",
            "claim_id": "X",
            "rules_version": "v9",
        }[column]
        db.execute(f"UPDATE entries SET {column} = ? WHERE seq = ?", (value, row))
    elif how == "reencode_amount":
        whole = Decimal(amount)
        forms = [
            f.format(a=amount, i=int(whole), e=f"{whole:E}", c=amount.replace(".", ","))
            for f in REENCODED
        ]  # e.g. 100.500, 100, 1.005E+2, +100.50, ..., 100.505, 100,50
        db.execute("UPDATE entries SET amount = ? WHERE seq = ?", (forms[pick % len(forms)], row))
    elif how == "retype_amount":  # the amount as a REAL, an INTEGER or a BLOB
        value = [float(amount), int(Decimal(amount)), amount.encode()][pick % 3]
        db.execute("UPDATE entries SET amount = ? WHERE seq = ?", (value, row))
    elif how == "reencode_date":
        paid = db.execute("SELECT paid_on FROM entries WHERE seq = ?", (row,)).fetchone()[0]
        db.execute("UPDATE entries SET paid_on = ? WHERE seq = ?", (paid.replace("-", ""), row))
    elif how == "rehash_one":  # recompute this entry's hash (without the key, if there is one)
        db.execute("UPDATE entries SET amount = '2.00' WHERE seq = ?", (row,))
        values = db.execute(f"SELECT {COLUMNS} FROM entries WHERE seq = ?", (row,)).fetchone()
        fake = Entry(
            values[1],
            values[2],
            Decimal(values[3]),
            date.fromisoformat(values[4]),
            values[5],
            values[6],
        )
        db.execute("UPDATE entries SET hash = ? WHERE seq = ?", (chain(values[7], fake, row), row))
        if keyed:  # an unkeyed hash where an HMAC belongs: this very entry is wrong
            return row
        return row + 1 if row < n else row  # the next entry no longer follows (or the head)
    elif how == "delete":
        db.execute("DELETE FROM entries WHERE seq = ?", (row,))
    elif how == "delete_last":
        db.execute("DELETE FROM entries WHERE seq = ?", (n,))
        return n
    elif how == "insert":  # a well-formed entry, chained to the last, head left alone
        last = db.execute("SELECT hash FROM entries WHERE seq = ?", (n,)).fetchone()[0]
        new = entry(5000)
        db.execute(
            f"INSERT INTO entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                n + 1,
                new.family_id,
                new.kind,
                new.amount_text,
                new.paid_on.isoformat(),
                new.claim_id,
                new.rules_version,
                last,
                chain(last, new, n + 1),
            ),
        )
        return n + 1
    elif how == "insert_before":
        db.execute(
            f"INSERT INTO entries ({COLUMNS}) VALUES (0, 'EX-001', 'attachment_fee', '1.00', "
            "'2013-01-01', "
            "'Z', 'v', ?, ?)",
            (GENESIS, GENESIS),
        )
        return 1
    elif how == "swap":  # whole rows change places
        other = row % n + 1
        db.execute("UPDATE entries SET seq = -1 WHERE seq = ?", (row,))
        db.execute("UPDATE entries SET seq = ? WHERE seq = ?", (row, other))
        db.execute("UPDATE entries SET seq = ? WHERE seq = -1", (other,))
        return min(row, other)
    elif how == "head":
        db.execute("UPDATE head SET count = count - 1")
        return n
    return row


TAMPER_WAYS = [
    "edit",
    "reencode_amount",
    "retype_amount",
    "reencode_date",
    "rehash_one",
    "delete",
    "delete_last",
    "insert",
    "insert_before",
    "swap",
    "head",
]
TAMPER = st.sampled_from(TAMPER_WAYS)


@settings(max_examples=80)
@given(st.integers(2, 7), TAMPER, st.data(), st.booleans())
@pytest.mark.slow
def test_any_single_change_to_any_row_fails_verify(
    n: int, how: str, data: st.DataObject, keyed: bool
) -> None:
    path = Path(tempfile.mkdtemp()) / "t.db"  # a fresh ledger for every example
    key = KEY if keyed else None
    filled(path, n, key)
    row = data.draw(st.integers(1, n))
    pick = data.draw(st.integers(0, 20))
    with sqlite3.connect(path) as db:
        expected = tamper(db, how, row, n, pick, keyed)
    db.close()
    verdict = Ledger(path, key=key).verify()
    assert not verdict.ok, (how, verdict)
    assert verdict.first_bad == expected, (how, verdict)


@pytest.mark.parametrize("how", TAMPER_WAYS)
@pytest.mark.parametrize("keyed", [False, True])
def test_each_way_of_tampering_with_the_middle_entry(how: str, keyed: bool, tmp_path: Path) -> None:
    key = KEY if keyed else None
    filled(tmp_path / "t.db", 3, key)
    picks = {"reencode_amount": len(REENCODED), "edit": 6, "retype_amount": 3}.get(how, 1)
    for pick in range(picks):
        shutil.copy(tmp_path / "t.db", tmp_path / "c.db")
        with sqlite3.connect(tmp_path / "c.db") as db:
            expected = tamper(db, how, 2, 3, pick, keyed)
        db.close()
        verdict = Ledger(tmp_path / "c.db", key=key).verify()
        assert (verdict.ok, verdict.first_bad) == (False, expected), (how, pick, verdict)


def recompute(path: Path, key: bytes | None, *, mac: str | None = None) -> None:
    """Rewrite every hash and the head as someone who knows the method (and maybe a key) would."""
    with sqlite3.connect(path) as db:
        prev, n = GENESIS, 0
        for values in db.execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall():
            n = values[0]
            fake = Entry(
                values[1],
                values[2],
                Decimal(values[3]),
                date.fromisoformat(values[4]),
                values[5],
                values[6],
            )
            digest = chain(prev, fake, n, key)
            db.execute(
                "UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, n)
            )
            prev = digest
        db.execute("UPDATE head SET count = ?, hash = ?", (n, prev))
        if mac is not None:
            db.execute("UPDATE meta SET value = ? WHERE name = 'mac'", (mac,))
    db.close()


@settings(max_examples=25)
@given(st.integers(1, 6), st.data())
@pytest.mark.slow
def test_with_a_key_a_recomputed_chain_fails(n: int, data: st.DataObject) -> None:
    path = Path(tempfile.mkdtemp()) / "k.db"
    filled(path, n, KEY)
    row = data.draw(st.integers(1, n))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET amount = '9999.00' WHERE seq = ?", (row,))
    db.close()
    how = data.draw(st.sampled_from(["sha256", "wrong key", "as unkeyed"]))
    if how == "sha256":
        recompute(path, None)
    elif how == "wrong key":
        recompute(path, b"somebody else's key!!")
    else:  # rewritten as an unkeyed ledger: caught when verified with the key
        recompute(path, None, mac="sha256")
    verdict = Ledger(path, key=KEY).verify()
    assert not verdict.ok, (how, verdict)
    if how != "as unkeyed":
        assert verdict.first_bad == 1
        assert "not made with the ledger's key" in verdict.why
    else:
        assert (  # the marker's key check left behind, or not
            "a key was given but the ledger is not keyed" in verdict.why
            or "key marker was changed" in verdict.why
        )


def test_without_a_key_a_recomputed_chain_passes_but_not_the_kept_head(tmp_path: Path) -> None:
    """What the docs say the unkeyed mode cannot see, and what catches it."""
    path = tmp_path / "l.db"
    ledger = filled(path, 3)
    kept = ledger.verify().head_text
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET amount = '9999.00' WHERE seq = 2")
    db.close()
    recompute(path, None)
    assert ledger.verify().ok  # invisible from inside the file, as documented
    verdict = ledger.verify(expect_head=kept)
    assert not verdict.ok
    assert "entry 3 is not the kept head: the ledger was rewritten" in verdict.why


def test_verify_of_an_unkeyed_ledger_without_a_kept_head_says_what_it_cannot_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The auditor's unk_forged.db: rewritten with its chain recomputed, it passed as "chain
    # intact", with no word that an unkeyed chain cannot show a rewrite (only a kept head can).
    path = tmp_path / "l.db"
    kept = filled(path, 3).verify().head_text
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET amount = '9999.00' WHERE seq = 2")
    db.close()
    recompute(path, None)
    status, out, _ = run(capsys, "ledger", "verify", str(path))
    lines = out.splitlines()
    assert status == 0  # the chain is intact: the exit status says only that
    assert lines[0] == (
        f"ledger {path}: 3 entries, chain intact (unkeyed: its entries agree with each other, "
        "which does not show that nobody rewrote them)"
    )
    assert lines[1].startswith("head 3:")
    assert lines[2] == (
        "note: anyone can rewrite an unkeyed ledger and recompute its chain and head; only a "
        "head kept elsewhere (pbr ledger head, checked with --expect-head) or a keyed ledger "
        "shows that it was not rewritten"
    )
    status, out, _ = run(capsys, "ledger", "verify", str(path), "--expect-head", kept)
    assert status == 1
    assert "BROKEN" in out  # the kept head shows it
    keyed = tmp_path / "k.db"
    filled(keyed, 1, KEY)
    (tmp_path / "key").write_bytes(KEY)
    status, out, _ = run(
        capsys, "ledger", "verify", str(keyed), "--key-file", str(tmp_path / "key")
    )
    assert (status, out.splitlines()[0]) == (
        0,
        f"ledger {keyed}: 1 entry, chain intact (keyed: HMAC-SHA256)",
    )
    assert "(unkeyed" not in out
    assert "note:" not in out
    unkeyed = tmp_path / "u.db"
    head = filled(unkeyed, 1).verify().head_text
    status, out, _ = run(capsys, "ledger", "verify", str(unkeyed), "--expect-head", head)
    assert out == f"ledger {unkeyed}: 1 entry, chain intact and holds the kept head\nhead {head}\n"


def test_verify_of_an_unkeyed_ledger_says_the_entries_after_the_kept_head_are_not_vouched_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The auditor's u.db: entry 5, appended after the head was kept at entry 4, rewritten with
    # its hash and the head recomputed, passed as "chain intact and holds the kept head" with
    # no word that nothing outside an unkeyed file vouches for an entry after the kept head.
    path = tmp_path / "u.db"
    ledger = filled(path, 4)
    kept = ledger.verify().head_text
    ledger.append([entry(50)])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET amount = '9999.00' WHERE seq = 5")
    db.close()
    recompute(path, None)
    verdict = ledger.verify(expect_head=kept)
    assert (verdict.ok, verdict.entries, verdict.kept_at) == (True, 5, 4)
    status, out, err = run(capsys, "ledger", "verify", str(path), "--expect-head", kept)
    assert (status, err) == (0, "")  # the chain is intact and holds the kept head
    assert out == (
        f"ledger {path}: 5 entries, chain intact and holds the kept head\n"
        f"head {verdict.head_text}\n"
        "note: entry 5, appended after the kept head (entry 4), is vouched for by nothing "
        "outside the file: anyone can rewrite an unkeyed ledger's entries after the kept head "
        "and recompute their chain and head; keep the new head elsewhere (pbr ledger head), or "
        "key the ledger\n"
    )
    ledger.append([entry(51), entry(52)])
    status, out, _ = run(capsys, "ledger", "verify", str(path), "--expect-head", kept)
    assert status == 0
    assert out.splitlines()[2].startswith(
        "note: entries 5 to 7, appended after the kept head (entry 4), are vouched for by "
        "nothing outside the file: "
    )
    now = Ledger(path).verify().head_text  # the head kept at the newest entry: nothing after
    status, out, _ = run(capsys, "ledger", "verify", str(path), "--expect-head", now)
    assert out == f"ledger {path}: 7 entries, chain intact and holds the kept head\nhead {now}\n"
    keyed = tmp_path / "k.db"
    (tmp_path / "key").write_bytes(KEY)
    head = filled(keyed, 2, KEY).verify().head_text
    Ledger(keyed, key=KEY).append([entry(60)])  # the key vouches for what came after
    status, out, _ = run(
        capsys, "ledger", "verify", str(keyed), "--key-file", str(tmp_path / "key"),
        "--expect-head", head,
    )  # fmt: skip
    assert (status, "note:" in out) == (0, False)


def test_the_kept_head_survives_appends_and_catches_truncation(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    ledger = filled(path, 4)
    kept = ledger.verify().head_text
    ledger.append([entry(50), entry(51)])
    assert ledger.verify(expect_head=kept).ok  # the ledger grew: it still holds the kept head
    assert ledger.verify(expect_head=kept.split(":")[1]).ok is False  # a bare hash: the newest
    with sqlite3.connect(path) as db:  # cut the newest entries and rewrite the head to match
        db.execute("DELETE FROM entries WHERE seq > 2")
        last = db.execute("SELECT hash FROM entries WHERE seq = 2").fetchone()[0]
        db.execute("UPDATE head SET count = 2, hash = ?", (last,))
    db.close()
    assert ledger.verify().ok  # consistent inside
    verdict = ledger.verify(expect_head=kept)
    assert not verdict.ok
    assert verdict.why == (
        "the kept head is at entry 4 but the ledger has 2 entries: entries were removed"
    )
    with pytest.raises(LedgerError, match="not <entries>:<64 hex digits>"):
        ledger.verify(expect_head="4:xyz")


def test_a_kept_head_in_capitals_is_the_same_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A head copied through a tool that writes hex in capitals said it "is not <entries>:<64
    hex digits>": hex digits are hex digits in either case (pbr writes and compares lowercase)."""
    path = tmp_path / "l.db"
    ledger = filled(path, 4)
    kept = ledger.verify().head_text
    count, _, digest = kept.partition(":")
    assert ledger.verify(expect_head=kept.upper()).ok
    assert ledger.verify(expect_head=f"{count}:{digest[:32]}{digest[32:].upper()}").ok
    assert ledger.verify(expect_head=digest.upper()).ok  # a bare hash: the newest
    assert not ledger.verify(expect_head=f"3:{digest.upper()}").ok  # another entry's hash
    status, out, err = run(capsys, "ledger", "verify", str(path), "--expect-head", kept.upper())
    assert (status, err) == (0, ""), err
    assert "holds the kept head" in out
    with pytest.raises(LedgerError, match="not <entries>:<64 hex digits>"):
        ledger.verify(expect_head=f"4:{'G' * 64}")


# --- keys ---------------------------------------------------------------------------------------


def test_keys_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(KEY + b"\n")
    assert load_key(tmp_path / "key", environ={}) == KEY
    assert load_key(environ={"PBR_LEDGER_KEY_FILE": str(tmp_path / "key")}) == KEY
    assert load_key(environ={"PBR_LEDGER_KEY": KEY.decode()}) == KEY
    assert load_key(environ={}) is None
    with pytest.raises(LedgerError, match="is 5 bytes long; a key has at least 16"):
        load_key(environ={"PBR_LEDGER_KEY": "short"})
    with pytest.raises(LedgerError, match="cannot read the ledger key file"):
        load_key(tmp_path / "missing", environ={})


@pytest.mark.parametrize(
    ("key", "error", "said"),
    [
        (b"x", LedgerError, "the key is 1 bytes long; a key has at least 16"),
        (b"", LedgerError, "the key is 0 bytes long; a key has at least 16"),
        ("a string key of sixteen or more", TypeError, "key must be bytes, got str"),
        (bytearray(KEY), TypeError, "key must be bytes, got bytearray"),
    ],
)
def test_a_key_the_command_line_could_never_give_is_refused_before_any_file(
    tmp_path: Path, key: Any, error: type[Exception], said: str
) -> None:
    """`Ledger(path, key=b"x")` made a keyed ledger no command could open (a key has at least
    16 bytes), and a str key raised a bare TypeError after leaving an empty file behind."""
    path = tmp_path / "k.db"
    with pytest.raises(error) as raised:
        Ledger(path, key=key)
    assert str(raised.value).startswith(f"ledger {path}: {said}")
    assert "sixteen" not in str(raised.value)  # the key itself is never shown
    assert not path.exists()
    filled(path, 1, KEY)
    before = path.read_bytes()
    with pytest.raises(error, match=said):
        Ledger(path, key=key, create=False)
    assert path.read_bytes() == before


def test_a_keyed_ledger_needs_its_key_and_never_stores_it(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    ledger = filled(path, 2, KEY)
    assert ledger.keyed
    assert KEY not in path.read_bytes()
    assert Ledger(path, key=KEY).verify().ok
    with pytest.raises(LedgerError, match=r"is keyed \(HMAC-SHA256\): give its key"):
        Ledger(path).verify()
    with pytest.raises(LedgerError, match="the key given is not the key of ledger"):
        Ledger(path, key=b"x" * 20).append([entry(9)])
    with pytest.raises(LedgerError, match="not keyed, but a key was given"):
        filled(tmp_path / "plain.db", 1).__class__(tmp_path / "plain.db", key=KEY).append(
            [entry(9)]
        )
    assert not Ledger(tmp_path / "plain.db", key=KEY).verify().ok


def forge_under_another_key(path: Path, key: bytes) -> None:
    """Edit entry 1 and rewrite the chain, the head and the key marker under `key`."""
    import hashlib
    import hmac

    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET amount = '4000.00' WHERE seq = 1")
        marker = hmac.new(key, b"pbr ledger key check", hashlib.sha256).hexdigest()
        db.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", (marker,))
    db.close()
    recompute(path, key)


def test_a_ledger_rewritten_under_another_key_does_not_hold_the_kept_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was "the key given is wrong", exit 2, even with the head kept: an operator's error."""
    path = tmp_path / "k.db"
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    kept = filled(path, 3, KEY).verify().head_text
    forge_under_another_key(path, b"the forger's own key, not ours")
    forged = Ledger(path).verify  # no key: the stored hashes alone show the kept head is gone
    for verdict in (forged(expect_head=kept), Ledger(path, key=KEY).verify(expect_head=kept)):
        assert (verdict.ok, verdict.first_bad) == (False, 3)
        now = f"3:{verdict.why.split('its head 3:')[1][:64]}"
        assert now != kept
        assert verdict.why == (
            "entry 3 is not the kept head: the ledger was rewritten after the head was kept "
            f"(its head {now} differs from the head kept, {kept})"
        )
    status, out, err = run(
        capsys, "ledger", "verify", str(path), "--key-file", str(key_file), "--expect-head", kept
    )
    assert (status, err) == (1, "")
    assert out.startswith(f"ledger {path}: BROKEN at entry 3: entry 3 is not the kept head")
    status, _, err = run(capsys, "ledger", "verify", str(path), "--key-file", str(key_file))
    assert status == 2  # without the head kept, its key check cannot tell it from a wrong key
    assert one_line_error(err) == (
        f"pbr: the key given is not the key of ledger {path}, or the ledger was rewritten under "
        "another key (check it with --expect-head and the head kept)\n"
    )


def test_a_kept_head_is_checked_against_the_stored_hash_of_its_entry(tmp_path: Path) -> None:
    """Before the chain is walked: the entry kept, grown past, rewritten, or a bare hash."""
    path = tmp_path / "k.db"
    ledger = filled(path, 2, KEY)
    kept = ledger.verify().head_text
    ledger.append([entry(7)])
    assert ledger.verify(expect_head=kept).ok  # grown since: still holds it
    forge_under_another_key(path, b"the forger's own key, not ours")
    why = Ledger(path).verify(expect_head=kept).why
    assert why.startswith(
        "entry 2 is not the kept head: the ledger was rewritten after the head was kept (entry "
        "2's hash "
    )
    assert f"differs from the head kept, {kept}; its head is now 3:" in why
    bare = Ledger(path).verify(expect_head=kept.split(":")[1])
    assert (bare.ok, bare.first_bad) == (False, 3)
    assert "not the head kept" in bare.why


@pytest.mark.parametrize("count", ["²", "٣", "-1", "+2", "", "1 "])
def test_a_kept_head_s_count_is_ascii_digits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: str
) -> None:
    """``²`` passed `str.isdigit` and failed `int`: "unexpected error" reached the user."""
    path = tmp_path / "l.db"
    digest = filled(path, 1).verify().head
    status, out, err = run(capsys, "ledger", "verify", str(path), f"--expect-head={count}:{digest}")
    assert (status, out) == (2, "")
    assert one_line_error(err).startswith(f"pbr: expected head '{count}:{digest}' is not <entries>")


@pytest.mark.slow
def test_cli_keyed_ledger_from_the_environment(tmp_path: Path) -> None:
    db = str(tmp_path / "k.db")
    args = append_a1()
    made = cli("ledger", "append", db, *args, PBR_LEDGER_KEY=KEY.decode())
    assert made.returncode == 0, made.stderr
    ok = cli("ledger", "verify", db, PBR_LEDGER_KEY=KEY.decode())
    assert "1 entry, chain intact (keyed: HMAC-SHA256)" in ok.stdout
    refused = cli("ledger", "verify", db)
    assert refused.returncode == 2
    one_line_error(refused.stderr)
    assert "is keyed (HMAC-SHA256): give its key" in refused.stderr
    (tmp_path / "key").write_bytes(KEY)
    by_file = cli("ledger", "head", db, "--key-file", str(tmp_path / "key"))
    assert by_file.stdout.startswith("1:")


# --- failures: each one line naming the ledger, exit 2, nothing half-written --------------------


def _append_when_ready(path: str, worker: int, barrier: Any) -> None:
    barrier.wait()
    Ledger(path).append([entry(1000 + worker, family=f"W{worker}")])


@pytest.mark.slow
def test_concurrent_first_use_of_a_new_ledger(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for attempt in range(5):
        path = str(tmp_path / f"new{attempt}.db")
        barrier = context.Barrier(10)
        workers = [
            context.Process(target=_append_when_ready, args=(path, w, barrier)) for w in range(10)
        ]
        for p in workers:
            p.start()
        for p in workers:
            p.join(60)
        assert [p.exitcode for p in workers] == [0] * 10
        verdict = Ledger(path).verify()
        assert (verdict.ok, verdict.entries) == (True, 10)


@pytest.mark.slow
def test_concurrent_first_use_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "new.db")
    base = [sys.executable, "-m", "pbr.cli", "ledger", "append", db, "--kind", "attachment_fee"]
    base += ["--amount", "1.00", "--paid-on", "2013-01-01", "--rules-version", "v"]
    children = [
        subprocess.Popen(
            [*base, "--family-id", f"W{i}", "--claim-id", f"C{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(10)
    ]
    results = [(c.communicate(timeout=120), c.returncode) for c in children]
    assert [code for _, code in results] == [0] * 10, results
    assert Ledger(db).verify().entries == 10


def _append_many(path: str, worker: int, count: int) -> None:
    ledger = Ledger(path)
    for i in range(count):
        ledger.append([entry(1000 * worker + i, family=f"W{worker}", kind="attachment_fee")])


@pytest.mark.slow
def test_concurrent_appends_from_several_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    Ledger(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(path, w, 25)) for w in range(4)]
    for p in workers:
        p.start()
    checks = 0
    while any(p.is_alive() for p in workers):  # a reader meanwhile never sees a broken chain
        verdict = Ledger(path).verify()
        assert verdict.ok, verdict
        checks += 1
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    ledger = Ledger(path)
    verdict = ledger.verify()
    assert (verdict.ok, verdict.entries) == (True, 100)
    assert [seq for seq, _ in ledger.entries()] == list(range(1, 101))
    per_worker = {f: [p.claim_id for p in paid] for f, paid in ledger.history().items()}
    assert sorted(per_worker) == ["W0", "W1", "W2", "W3"]
    for w in range(4):  # each worker's payments, all there and in its own order
        assert per_worker[f"W{w}"] == [f"C{1000 * w + i}" for i in range(25)]
    assert checks > 0


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holding the ledger's lock (an exclusive transaction) meanwhile."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_a_busy_lock_is_a_clear_error_after_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.db"
    filled(path, 2)
    args = append_a1("v")
    with locked(path):
        status, _, err = run(capsys, "ledger", "append", str(path), *args, "--timeout", "0.2")
        assert status == 2
        assert one_line_error(err) == (
            f"pbr: ledger {path} is busy: another process held its lock for more than 0.2 s; "
            "nothing was written (try again, or wait longer with --timeout)\n"
        )
        status, _, err = run(capsys, "ledger", "verify", str(path), "--timeout", "0.2")
        assert status == 2
        assert "is busy" in one_line_error(err)
    assert len(list(Ledger(path).entries())) == 2
    waited = threading.Timer(0.3, lambda: None)
    waited.start()
    waited.join()
    assert run(capsys, "ledger", "append", str(path), *args)[0] == 0  # free again


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the ledger's disk full: SQLite may not grow the file by a single page."""
    original = Ledger._connect

    def connect(self: Ledger, *, read_only: bool = False) -> sqlite3.Connection:
        db = original(self, read_only=read_only)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return db

    monkeypatch.setattr(Ledger, "_connect", connect)


def test_a_full_disk_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.db"
    filled(path, 3)
    before = path.read_bytes()
    full_disk(monkeypatch)
    with pytest.raises(LedgerError, match=f"ledger {path}: the disk is full; nothing was written"):
        Ledger(path).append(entry(i) for i in range(100, 400))
    (tmp_path / "in.csv").write_text(
        "family_id,kind,amount,paid_on,claim_id,rules_version\n"
        + "".join(f"F,attachment_fee,1.00,2013-01-01,X{i},v\n" for i in range(300))
    )
    status, _, err = run(capsys, "ledger", "import", str(path), str(tmp_path / "in.csv"))
    assert status == 2
    assert "the disk is full; nothing was written" in one_line_error(err)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert Ledger(path).verify().entries == 3


def append_a1(rules_version: str = "tf-phase-1/1.0") -> list[str]:
    """The options of ``pbr ledger append`` for EX-010's £3,200.00 fee, claim A-1."""
    fee = ["--family-id", "EX-010", "--kind", "attachment_fee", "--amount", "3200.00"]
    return [*fee, "--paid-on", "2013-01-02", "--claim-id", "A-1", "--rules-version", rules_version]


@contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    """`folder` made read-only: a read-only mount for root (who ignores file modes), else chmod."""
    if os.geteuid() == 0:
        if subprocess.run(
            ["mount", "-o", "bind,ro", str(folder), str(folder)], capture_output=True
        ).returncode:
            pytest.skip("cannot make a read-only mount here")
        try:
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def test_a_read_only_ledger_can_be_read_but_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "l.db"
    filled(path, 2)
    args = append_a1("v")
    with read_only_folder(folder):
        assert Ledger(path, create=False).verify().ok  # an auditor may only read it
        status, _, err = run(capsys, "ledger", "append", str(path), *args)
        assert status == 2
        assert f"ledger {path} is read-only" in one_line_error(err)
        status, _, err = run(capsys, "ledger", "append", str(folder / "new.db"), *args)
        assert status == 2
        assert str(folder / "new.db") in one_line_error(err)
        status, out, _ = run(capsys, "ledger", "verify", str(path))
        assert status == 0
        assert "chain intact" in out
    assert Ledger(path).verify().entries == 2


@contextmanager
def read_only_folder_only(folder: Path) -> Iterator[None]:
    """`folder` made read-only, the files in it left writable: immutable for root, else chmod."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("cannot make a folder immutable here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)


def test_a_ledger_in_a_read_only_folder_is_said_to_be_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writable ledger in a folder that may not be written (read-only, or immutable) said
    "cannot open ledger ...: unable to open database file (does its folder exist...?)": the
    journal of a write goes in the folder. The docs promise "read-only (the file or its folder)"."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "l.db"
    filled(path, 2)
    args = append_a1("v")
    with read_only_folder_only(folder):
        assert os.access(path, os.W_OK)
        status, _, err = run(capsys, "ledger", "append", str(path), *args)
        assert status == 2
        assert one_line_error(err) == (
            f"pbr: ledger {path} is read-only (the file or its folder); nothing was written\n"
        )
        with pytest.raises(LedgerError, match=r"is read-only \(the file or its folder\)"):
            Ledger(path).append([entry(7)])
        status, _, err = run(capsys, "ledger", "append", str(folder / "new.db"), *args)
        assert status == 2
        assert one_line_error(err) == (
            f"pbr: cannot create ledger {folder / 'new.db'}: its folder {folder} is read-only; "
            "nothing was written\n"
        )
        assert Ledger(path, create=False).verify().entries == 2
    assert not (folder / "new.db").exists()


HALF_WRITTEN = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size = 1")  # so that pages reach the file before the commit
db.execute("BEGIN IMMEDIATE")
for i in range(3000):
    db.execute(
        "INSERT INTO entries (%s) VALUES (?, 'F1', 'attachment_fee', '1.00', '2013-01-01', ?, 'v', ?, ?)",
        (i + 10, f"X{i}", "0" * 64, "0" * 64),
    )
print("writing", flush=True)
time.sleep(60)
""".replace("%s", COLUMNS)


def test_a_writer_killed_mid_transaction_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    filled(path, 3)
    child = subprocess.Popen(
        [sys.executable, "-c", HALF_WRITTEN, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    child.kill()
    child.communicate(timeout=30)
    assert Path(f"{path}-journal").exists()  # a hot journal: the file holds half a write
    verdict = Ledger(path, create=False).verify()  # rolled back on opening
    assert (verdict.ok, verdict.entries) == (True, 3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda db: db.execute("ALTER TABLE entries ADD COLUMN note TEXT"), "table entries has"),
        (lambda db: db.execute("DROP TABLE meta"), "table meta has no such table"),
        (lambda db: db.execute("UPDATE meta SET value = 'x/1' WHERE name = 'format'"), "format"),
        (  # the auditor's t_trigger.db: it rewrote entry 1 at every append, and verified
            lambda db: db.execute(
                "CREATE TRIGGER tr AFTER INSERT ON entries BEGIN "
                "UPDATE entries SET amount = '1.00' WHERE seq = 1; END"
            ),
            "(another schema): it has a trigger 'tr' on table entries, which pbr does not create",
        ),
        (
            lambda db: db.execute("CREATE VIEW v AS SELECT * FROM entries"),
            "(another schema): it has a view 'v'",
        ),
        (
            lambda db: db.execute("CREATE INDEX by_kind ON entries (kind)"),
            "(another schema): it has an index 'by_kind' on table entries",
        ),
        (
            lambda db: db.execute("CREATE TABLE notes (x TEXT)"),
            "(another schema): it has a table 'notes', which pbr does not create",
        ),
        (
            lambda db: db.execute("DROP INDEX entries_family"),
            "(another schema): it has no index 'entries_family' on table entries, which pbr "
            "creates",
        ),
        (
            lambda db: db.executescript(
                "DROP INDEX entries_family; CREATE INDEX entries_family ON entries (claim_id)"
            ),
            "(another schema): its index 'entries_family' is not defined as pbr defines it",
        ),
    ],
)
def test_a_foreign_schema_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[sqlite3.Connection], object],
    message: str,
) -> None:
    path = tmp_path / "l.db"
    filled(path, 2)
    with sqlite3.connect(path) as db:
        make(db)
    db.close()
    for action in ("verify", "head", "export"):
        extra = [str(tmp_path / "out.csv")] if action == "export" else []
        status, _, err = run(capsys, "ledger", action, str(path), *extra)
        assert status == 2
        assert str(path) in one_line_error(err)
        assert message in err
    assert not (tmp_path / "out.csv").exists()


def test_a_trigger_added_to_an_open_ledger_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.db"
    ledger = filled(path, 2)
    before = list(ledger.entries())
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER tr AFTER INSERT ON entries BEGIN "
            "UPDATE entries SET amount = '1.00' WHERE seq = 1; END"
        )
    db.close()
    with pytest.raises(LedgerError, match=r"another schema\): it has a trigger 'tr'"):
        ledger.append([entry(7)])  # opened before the trigger was added
    with pytest.raises(LedgerError, match="another schema"):
        ledger.verify()
    args = ["--family-id", "EX-900", "--kind", "attachment_fee", "--amount", "1.00"]
    args += ["--claim-id", "N1", "--rules-version", "v", "--paid-on", "2013-01-01"]
    status, _, err = run(capsys, "ledger", "append", str(path), *args)
    assert status == 2
    assert "another schema" in one_line_error(err)
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER tr")
    db.close()
    assert list(ledger.entries()) == before  # nothing was written, entry 1 untouched
    assert ledger.verify().ok


def test_the_query_planner_s_statistics_are_not_another_schema(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    filled(path, 2)
    with sqlite3.connect(path) as db:
        db.execute("ANALYZE")
    db.close()
    assert Ledger(path).verify().ok  # SQLite's own sqlite_stat1, no entry changed, no code run


def test_opening_refuses_a_missing_path_or_a_file_that_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no ledger at"):
        Ledger(tmp_path / "typo.db", create=False)
    assert not (tmp_path / "typo.db").exists()
    (tmp_path / "junk.db").write_text("not sqlite at all " * 100)
    with pytest.raises(LedgerError, match="is not a ledger"):
        Ledger(tmp_path / "junk.db")
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE entries (x INTEGER)")
    other.close()
    with pytest.raises(LedgerError, match="is not a pbr ledger"):
        Ledger(tmp_path / "other.db")
    (tmp_path / "empty.db").touch()
    with pytest.raises(LedgerError, match="the file is empty"):
        Ledger(tmp_path / "empty.db", create=False)
    with pytest.raises(LedgerError, match="is a folder"):
        Ledger(tmp_path)


def test_a_failed_write_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 3)
    bad = Entry("EX-001", "bonus", Decimal(1), date(2014, 1, 1), "B", "v")
    with pytest.raises(LedgerError, match="not a payment kind"):
        ledger.append([entry(10), bad])

    def boom() -> Iterator[Entry]:
        yield entry(11)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        ledger.append(boom())
    assert len(list(ledger.entries())) == 3
    assert ledger.verify().ok


def test_a_failure_inside_the_transaction_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = filled(tmp_path / "l.db", 2)
    calls = []

    def failing(prev: str, e: Entry, seq: int, key: bytes | None = None) -> str:
        calls.append(seq)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return chain(prev, e, seq, key)

    monkeypatch.setattr(pbr.ledger, "chain", failing)
    with pytest.raises(KeyboardInterrupt):
        ledger.append([entry(7), entry(8)])
    monkeypatch.undo()
    assert calls == [3, 4]
    assert len(list(ledger.entries())) == 2
    assert ledger.verify().ok
    ledger.append([entry(7)])
    assert ledger.verify().entries == 3


def test_a_repeated_claim_id_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 3)
    before = list(ledger.entries())
    with pytest.raises(
        LedgerError, match=r"claim 'C1': claim_id is already in the ledger \(entry 2"
    ):
        ledger.append([entry(50), entry(1)])  # the first insert succeeds, the second fails
    with pytest.raises(LedgerError, match="claim 'C60': claim_id is given twice"):
        ledger.append([entry(60), entry(60)])
    assert list(ledger.entries()) == before
    assert ledger.verify().ok
    assert ledger.append([entry(1), entry(61)], skip_recorded=True) == 1
    changed = Entry("EX-001", "attachment_fee", Decimal(1), date(2013, 1, 1), "C2", "v")
    with pytest.raises(LedgerError, match=r"claim 'C2' is already in ledger .* not family"):
        ledger.append([changed], skip_recorded=True)


def test_appending_to_a_ledger_whose_head_was_changed_is_refused(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 2)
    with sqlite3.connect(tmp_path / "l.db") as db:
        db.execute("UPDATE head SET count = 5")
    db.close()
    with pytest.raises(LedgerError, match="broken at entry 3: the ledger ends at entry 2 but"):
        ledger.append([entry(9)])
    with pytest.raises(LedgerError, match="its head does not match its last entry"):
        ledger.append([entry(9)], verify=False)  # the one check left without the walk


@pytest.mark.parametrize("verify", [True, False])
def test_appending_to_a_ledger_whose_head_row_was_deleted_is_refused(
    tmp_path: Path, verify: bool
) -> None:
    # With verify=False, `_write` unpacked the missing row: a raw "TypeError: cannot unpack
    # non-iterable NoneType object", not a LedgerError naming the ledger.
    path = tmp_path / "l.db"
    ledger = filled(path, 2)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM head")
    db.close()
    before = path.read_bytes()
    said = (
        rf"ledger {re.escape(str(path))} is broken at entry 2: the ledger's head row is missing"
        if verify
        else rf"ledger {re.escape(str(path))} is broken: its head row is missing \(pbr ledger "
        r"verify\); nothing was written"
    )
    with pytest.raises(LedgerError, match=said):
        ledger.append([entry(9)], verify=verify)
    assert path.read_bytes() == before


@pytest.mark.parametrize("how", TAMPER_WAYS)
@pytest.mark.parametrize("keyed", [False, True])
def test_the_library_s_append_refuses_a_ledger_that_does_not_verify(
    how: str, keyed: bool, tmp_path: Path
) -> None:
    """`Ledger.append` wrote onto a ledger whose middle entry was changed (only its head was
    checked); a payment written after it could not be told from the change."""
    key = KEY if keyed else None
    path = tmp_path / "t.db"
    filled(path, 3, key)
    with sqlite3.connect(path) as db:
        expected = tamper(db, how, 2, 3, 0, keyed)
    db.close()
    ledger = Ledger(path, key=key)
    verdict = ledger.verify()
    before = path.read_bytes()
    with pytest.raises(LedgerError) as refused:
        ledger.append([entry(9)])
    assert str(refused.value) == (
        f"ledger {path} is broken at entry {expected}: {verdict.why}; nothing was written "
        "(pbr ledger verify)"
    )
    assert path.read_bytes() == before


def test_the_library_s_append_refuses_a_row_added_to_meta(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    ledger = filled(path, 2)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO meta (name, value) VALUES ('note', 'x')")
    with pytest.raises(LedgerError, match=r"is broken: the ledger's meta table was changed"):
        ledger.append([entry(9)])
    assert [seq for seq, _ in ledger.entries()] == [1, 2]


def test_history_refuses_a_broken_ledger(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.append([entry(1, "F1", "attachment_fee"), entry(2, "F2"), entry(3, "F1")])
    history = ledger.history()
    assert [(p.kind, p.claim_id) for p in history["F1"]] == [
        ("attachment_fee", "C1"),
        ("crime_asb_education", "C3"),
    ]
    assert all(isinstance(p, pbr.records.Payment) for p in history["F2"])
    with sqlite3.connect(tmp_path / "l.db") as db:
        db.execute("UPDATE entries SET amount = '3199.995' WHERE seq = 2")
    db.close()
    with pytest.raises(LedgerError, match=r"broken at entry 2: entry 2: amount '3199\.995'"):
        ledger.history()


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_round_trip_and_bad_rows(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "a.db", 4)
    assert ledger.export_csv(tmp_path / "a.csv") == 4
    copy = Ledger(tmp_path / "b.db")
    assert copy.import_csv(tmp_path / "a.csv") == 4
    assert [e for _, e in copy.entries()] == [e for _, e in ledger.entries()]
    (tmp_path / "bad.csv").write_text(
        "family_id,kind,amount,paid_on,claim_id,rules_version\nF,attachment_fee,1.001,2013-01-01,C,v\n"
    )
    with pytest.raises(LedgerError, match="line 2"):
        copy.import_csv(tmp_path / "bad.csv")
    assert len(list(copy.entries())) == 4


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("F", "bonus", "1.00", "2013-01-01", "C", "v"), "line 2: claim 'C': kind = 'bonus'"),
        (("F", "attachment_fee", "1.001", "2013-01-01", "C", "v"), "line 2: amount = '1.001'"),
        (("F", "attachment_fee", "1.00", "2013-02-30", "C", "v"), "line 2: paid_on = '2013-02-30'"),
        (("", "attachment_fee", "1.00", "2013-01-01", "C", "v"), "line 2: claim 'C': family_id"),
        (("F F", "attachment_fee", "1.00", "2013-01-01", "C", "v"), "family_id = 'F F'"),
    ],
)
def test_import_names_the_row_and_the_column(
    tmp_path: Path, values: tuple[str, ...], message: str
) -> None:
    ledger = filled(tmp_path / "l.db", 1)
    (tmp_path / "bad.csv").write_text(
        "family_id,kind,amount,paid_on,claim_id,rules_version\n" + ",".join(values) + "\n"
    )
    with pytest.raises(LedgerError, match=message.replace("(", "\\(")):
        ledger.import_csv(tmp_path / "bad.csv")
    assert len(list(ledger.entries())) == 1


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_ledger_and_evaluate_with_ledger(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    (tmp_path / "in.csv").write_text(
        "family_id,kind,amount,paid_on,claim_id,rules_version\n"
        "EX-010,crime_asb_education,1500.00,2015-03-01,C-1,tf-phase-1/1.0\n"
    )
    imported = cli("ledger", "import", str(db), str(tmp_path / "in.csv"))
    assert imported.stdout.startswith(f"imported 1 entry into {db}\nhead 1:")
    assert "chain intact" in cli("ledger", "verify", str(db)).stdout
    out = cli(
        "evaluate",
        str(EXAMPLES / "families.jsonl"),
        "--as-of",
        "2015-03-31",
        "--format",
        "json",
        "--ledger",
        str(db),
    )
    ex010 = next(json.loads(line) for line in out.stdout.splitlines() if '"EX-010"' in line)
    assert ex010["results"]["crime_asb_education"]["status"] == "already_paid"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entries SET amount = '15.00'")
    conn.close()
    broken = cli("ledger", "verify", str(db))
    assert broken.returncode == 1
    assert "BROKEN at entry 1: entry 1 was changed after it was written" in broken.stdout
    assert cli("ledger", "head", str(db)).returncode == 1
    refused = cli(
        "evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31", "--ledger", str(db)
    )
    assert refused.returncode == 2
    one_line_error(refused.stderr)
    assert "is broken at entry 1: entry 1 was changed after it was written" in refused.stderr


@pytest.mark.slow
def test_cli_a_sub_penny_edit_is_caught_and_nothing_crashes(tmp_path: Path) -> None:
    """The issue's case: an amount rewritten to three places passed verify and crashed evaluate."""
    db = tmp_path / "l.db"
    filled(db, 3)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entries SET amount = '3199.995' WHERE seq = 3")
    conn.close()
    verified = cli("ledger", "verify", str(db))
    assert verified.returncode == 1
    assert "BROKEN at entry 3: entry 3: amount '3199.995' is not in canonical form" in (
        verified.stdout
    )
    evaluated = cli(
        "evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31", "--ledger", str(db)
    )
    assert evaluated.returncode == 2
    one_line_error(evaluated.stderr)


def test_cli_ledger_append_head_export_and_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "l.db"
    args = append_a1()
    status, out, _ = run(capsys, "ledger", "append", str(db), *args)
    head = Ledger(db).verify().head_text
    assert (status, out) == (0, f"appended A-1 to {db}\nhead {head}\n")
    status, _, err = run(capsys, "ledger", "append", str(db), *args)
    assert status == 2
    assert "already in the ledger" in one_line_error(err)
    status, _, err = run(capsys, "ledger", "verify", str(tmp_path / "typo.db"))
    assert status == 2
    assert "no ledger at" in one_line_error(err)
    assert run(capsys, "ledger", "head", str(db))[1] == f"{head}\n"
    status, out, _ = run(capsys, "ledger", "verify", str(db), "--expect-head", head)
    assert (status, out) == (
        0,
        f"ledger {db}: 1 entry, chain intact and holds the kept head\nhead {head}\n",
    )
    status, out, _ = run(capsys, "ledger", "export", str(db), str(tmp_path / "out.csv"))
    assert out == f"exported 1 entry to {tmp_path / 'out.csv'}\n"
    assert (tmp_path / "out.csv").read_text().splitlines()[:2] == [
        "family_id,kind,amount,paid_on,claim_id,rules_version,claimed_on",
        "EX-010,attachment_fee,3200.00,2013-01-02,A-1,tf-phase-1/1.0,",  # no claim date given
    ]
    status, _, err = run(capsys, "ledger", "export", str(db), str(tmp_path))
    assert status == 2
    assert "it is a folder" in one_line_error(err)
    status, _, err = run(capsys, "ledger", "append", str(db), *args[:-1], "")
    assert status == 2
    one_line_error(err)
    status, _, err = run(
        capsys,
        "evaluate",
        str(EXAMPLES / "families.jsonl"),
        "--as-of",
        "2015-03-31",
        "--ledger",
        str(tmp_path / "typo.db"),
    )
    assert status == 2
    assert "no ledger at" in one_line_error(err)


def test_an_existing_ledger_is_only_read_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.db"
    filled(path, 3)
    monkeypatch.setattr(pbr.ledger, "_SCHEMA", ("this is not SQL",))  # fails if it were run
    ledger = Ledger(path, create=False)
    assert ledger.verify().ok
    assert len(ledger.history()) == 3
    with pytest.raises(LedgerError, match="syntax error"):
        Ledger(tmp_path / "new.db")  # a new ledger does run it


WRITERS = [
    ["ledger", "export", "{db}", "{key}"],
    ["audit", "{claims}", "--families", "{families}", "--ledger", "{db}", "--report", "{key}"],
    ["evaluate", "{families}", "--as-of", "2015-03-31", "--ledger", "{db}", "--output", "{key}"],
    ["evaluate", "{families}", "--as-of", "2015-03-31", "--ledger", "{db}", "--rejections", "{key}"],
    ["ledger", "append", "{key}", "--family-id", "F", "--kind", "attachment_fee", "--amount",
     "1.00", "--claim-id", "X", "--rules-version", "v", "--paid-on", "2013-01-01"],
    ["ledger", "import", "{key}", "{csv}"],
    ["ledger", "record", "{report}", "{key}", "--paid-on", "2015-05-15"],
    ["template", "{folder}"],
    ["forecast", "--councils", "{claims}", "--output", "{key}"],
    ]  # fmt: skip
"""Every command that writes a file, with {key} where the key file is named as its output."""


@pytest.mark.parametrize(
    ("command", "given"),
    [(c, g) for c in WRITERS for g in ("--key-file", "PBR_LEDGER_KEY_FILE")
     if g == "PBR_LEDGER_KEY_FILE" or c[0] not in ("template", "forecast")],  # no --key-file
)  # fmt: skip
def test_no_command_writes_over_the_ledger_key_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    given: str,
) -> None:
    # The auditor's three: an export, an audit report and pbr evaluate --output written over the
    # key file (named by PBR_LEDGER_KEY_FILE or --key-file): the ledger could never be verified
    # again. Every command that writes now refuses it, however the key file is given.
    folder = tmp_path / "tables"
    folder.mkdir()
    key = folder / "families.csv"  # a name template would write, a suffix reports take
    key.write_bytes(KEY)
    db = tmp_path / "l.db"
    filled(db, 1, KEY)
    (tmp_path / "in.csv").write_text(
        ",".join(CSV_COLUMNS) + "\nF9,attachment_fee,1.00,2013-01-01,Y,v\n"
    )
    (tmp_path / "report.csv").write_text("row,claim_id\n")
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nQ,EX-012,crime_asb_education,700.00,2015-03-31\n"
    )
    names = {
        "db": db,
        "key": key,
        "claims": claims,
        "families": EXAMPLES / "families.jsonl",
        "csv": tmp_path / "in.csv",
        "report": tmp_path / "report.csv",
        "folder": folder,
    }
    argv = [part.format(**names) for part in command]
    monkeypatch.delenv("PBR_LEDGER_KEY", raising=False)
    if given == "--key-file":
        argv.append(f"--key-file={key}")
        monkeypatch.delenv("PBR_LEDGER_KEY_FILE", raising=False)
    else:
        monkeypatch.setenv("PBR_LEDGER_KEY_FILE", str(key))
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"names the same file as {given}: choose another file" in err
    assert key.read_bytes() == KEY  # the key is still there, and the ledger still verifies
    assert Ledger(db, key=KEY).verify().ok


def test_export_refuses_to_write_over_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.db"
    filled(path, 3)
    before = path.read_bytes()
    status, _, err = run(capsys, "ledger", "export", str(path), str(path))
    assert status == 2
    assert "the CSV names the same file as the ledger" in one_line_error(err)
    assert path.read_bytes() == before
    assert Ledger(path).verify().ok


@pytest.mark.parametrize(
    ("name", "says"),
    [("out.xlsx", "XLSX"), ("out.JSON", "JSON"), ("out.jsonl", "JSON Lines"),
     ("out.md", "Markdown"), ("out.html", "HTML")],
)  # fmt: skip
def test_export_refuses_a_name_that_says_another_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, says: str
) -> None:
    """``export DB out.xlsx`` wrote CSV text under a workbook's name, exit status 0."""
    path = tmp_path / "l.db"
    filled(path, 2)
    target = tmp_path / name
    status, out, err = run(capsys, "ledger", "export", str(path), str(target))
    assert (status, out) == (2, "")
    assert one_line_error(err) == (
        f"pbr: cannot write {target}: pbr ledger export writes CSV, but the name says {says}: "
        "name it .csv (or give - for standard output)\n"
    )
    assert not target.exists()


@pytest.mark.parametrize("name", ["out.csv", "OUT.CSV", "entries", "entries.txt"])
def test_export_writes_csv_to_a_csv_name_or_one_without_a_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """As `pbr.cli._options.check_named_format`: a suffix that names no other format is kept."""
    path = tmp_path / "l.db"
    filled(path, 2)
    status, _, _ = run(capsys, "ledger", "export", str(path), str(tmp_path / name))
    assert status == 0
    assert (tmp_path / name).read_text().startswith(",".join(CSV_COLUMNS))


def test_a_result_is_paid_once_in_the_ledger(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 2)  # EX-000 and EX-001, each paid crime_asb_education
    before = list(ledger.entries())
    again = entry(7, family="EX-001")  # the same result, another claim
    with pytest.raises(LedgerError, match=r"claim 'C7': family 'EX-001' was already paid "):
        ledger.append([entry(5), again])
    with pytest.raises(LedgerError, match=r"by claim 'C8' \(earlier in these entries\)"):
        ledger.append([entry(8, family="F9"), entry(9, family="F9")])
    with pytest.raises(LedgerError, match="already paid"):
        ledger.append([again], skip_recorded=True)  # recording an audit: refused alike
    assert list(ledger.entries()) == before
    fee = [entry(i, family="EX-001", kind="attachment_fee") for i in (10, 11)]
    assert ledger.append(fee) == 2  # a fee may be paid in parts (phase-one clarification 7)
    assert ledger.append([entry(12, family="EX-001", kind="progress_to_work")]) == 1
    assert ledger.verify().ok
    csv_path = tmp_path / "in.csv"
    rows = [",".join(CSV_COLUMNS), "F1,continuous_employment,800.00,2014-01-01,D1,v1"]
    csv_path.write_text(
        "\n".join([*rows, "F1,continuous_employment,800.00,2014-02-01,D2,v1"]) + "\n"
    )
    with pytest.raises(LedgerError, match=r"in\.csv: claim 'D2': family 'F1' was already paid"):
        ledger.import_csv(csv_path)
    assert ledger.verify().entries == 5  # all or nothing: nothing


def test_export_refuses_a_broken_ledger_or_a_wrong_key(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    filled(path, 3, KEY)
    with pytest.raises(LedgerError, match="the key given is not the key of ledger"):
        Ledger(path, key=b"another key of sixteen bytes+").export_csv(tmp_path / "a.csv")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET amount = '1.00' WHERE seq = 2")
    db.close()
    with pytest.raises(LedgerError, match=r"is broken at entry 2: .*; nothing was exported"):
        Ledger(path, key=KEY).export_csv(tmp_path / "b.csv")
    assert not (tmp_path / "a.csv").exists()
    assert not (tmp_path / "b.csv").exists()


def test_evaluate_reads_a_keyed_ledger_with_its_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "k.db"
    filled(path, 2, KEY)
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY + b"\n")
    families = str(EXAMPLES / "families.jsonl")
    argv = [
        "evaluate",
        families,
        "--as-of",
        "2015-03-31",
        "--format",
        "json",
        "--ledger",
        str(path),
    ]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert "--key-file" in one_line_error(err)
    status, out, err = run(capsys, *argv, "--key-file", str(key_file), "--timeout", "5")
    assert status == 0, err
    paid = {d["family_id"]: d["paid_to_date"] for d in map(json.loads, out.splitlines())}
    assert paid["EX-001"] != "0.00"  # the ledger's payment counted


def test_a_failed_first_import_leaves_no_ledger_and_verify_says_what_it_cannot_see(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(CSV_COLUMNS) + "\nF1,bonus,1.00,2013-01-01,C1,v\n")
    path = tmp_path / "new.db"
    status, _, err = run(capsys, "ledger", "import", str(path), str(bad))
    assert status == 2
    assert "not a payment kind" in one_line_error(err)
    assert not path.exists()  # created for the import, then removed: nothing was written
    kept = tmp_path / "kept.db"
    filled(kept, 1)
    status, _, err = run(capsys, "ledger", "import", str(kept), str(bad))
    assert status == 2
    assert kept.exists()  # a ledger that was there stays, whatever it holds
    status, out, err = run(capsys, "ledger", "verify", str(kept))
    assert status == 0
    assert "chain intact" in out
    assert err.startswith("note: a chain cannot show entries cut from its end")
    head = out.splitlines()[1].removeprefix("head ")
    assert run(capsys, "ledger", "verify", str(kept), "--expect-head", head)[2] == ""


# --- claim dates: a payment says which claim it paid ------------------------------------------


def earlier_ledger(path: Path) -> None:
    """A ledger as an earlier pbr made it (format pbr-ledger/2): no claim dates."""
    with closing(sqlite3.connect(path)) as db:
        for statement in pbr.ledger._SCHEMAS["pbr-ledger/2"]:
            db.execute(statement)
        meta = [("format", "pbr-ledger/2"), ("mac", "sha256"), ("key_check", "")]
        db.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", meta)
        db.commit()


def dated(i: int, claimed_on: date | None) -> Entry:
    e = entry(i)
    return Entry(e.family_id, e.kind, e.amount, e.paid_on, e.claim_id, e.rules_version, claimed_on)


def test_a_ledger_records_the_claim_date_of_each_payment_and_hashes_it(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    ledger = Ledger(path)
    assert ledger.records_claim_dates
    first = dated(1, date(2012, 12, 1))
    ledger.append([first, dated(2, None)])  # a payment appended by hand may have none
    assert [e.claimed_on for _, e in ledger.entries()] == [date(2012, 12, 1), None]
    assert pbr.history.PaymentHistory.load(ledger).claimed_on == {"C1": date(2012, 12, 1)}
    head = ledger.verify().head_text
    for value in ("2012-12-02", None, "20121201", "2013-01-03"):  # after paid_on 2013-01-02
        with sqlite3.connect(path) as db:
            db.execute("UPDATE entries SET claimed_on = ? WHERE seq = 1", (value,))
        db.close()
        verdict = ledger.verify()
        assert (verdict.ok, verdict.first_bad) == (False, 1), value
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET claimed_on = '2012-12-01' WHERE seq = 1")
    db.close()
    assert ledger.verify().head_text == head
    with pytest.raises(LedgerError, match="claimed_on = '2013-01-05': a claim is dated from"):
        ledger.append([dated(3, date(2013, 1, 5))])  # paid on 2013-01-04, claimed after


def test_the_same_claim_id_recorded_for_another_claim_date_is_refused(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.append([dated(1, date(2012, 12, 1))])
    assert ledger.append([dated(1, date(2012, 12, 1))], skip_recorded=True) == 0  # recorded
    with pytest.raises(LedgerError, match="as a claim made on 2012-12-01, not on 2012-12-20"):
        ledger.append([dated(1, date(2012, 12, 20))], skip_recorded=True)


def test_export_and_import_carry_the_claim_dates(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.append([dated(1, date(2012, 12, 1)), dated(2, None)])
    ledger.export_csv(tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text()
    assert text.splitlines()[0] == ",".join((*CSV_COLUMNS, "claimed_on"))
    copy = Ledger(tmp_path / "copy.db")
    copy.import_csv(tmp_path / "out.csv")
    assert list(copy.entries()) == list(ledger.entries())
    assert copy.verify().head_text == ledger.verify().head_text
    (tmp_path / "bad.csv").write_text(text.replace("2012-12-01", "1/12/2012"))
    with pytest.raises(LedgerError, match=r"line 2: claimed_on = '1/12/2012': not a date"):
        Ledger(tmp_path / "other.db").import_csv(tmp_path / "bad.csv")
    # an ISO week date is the same day to `date.fromisoformat` (3.11), and was taken as it
    (tmp_path / "week.csv").write_text(text.replace("2012-12-01", "2012-W48-6"))
    with pytest.raises(LedgerError, match=r"line 2: claimed_on = '2012-W48-6': not a date"):
        Ledger(tmp_path / "week.db").import_csv(tmp_path / "week.csv")
    paid_on = next(ledger.entries())[1].paid_on
    year, week, day = paid_on.isocalendar()
    week_text = f"{year}-W{week:02d}-{day}"
    (tmp_path / "week.csv").write_text(text.replace(paid_on.isoformat(), week_text, 1))
    with pytest.raises(LedgerError, match=rf"line 2: paid_on = '{week_text}': not a date"):
        Ledger(tmp_path / "week.db").import_csv(tmp_path / "week.csv")
    assert list(Ledger(tmp_path / "week.db").entries()) == []


_NOT_CSV_TEXT = {
    "gzip": " is gzip-compressed: decompress it first",
    "bzip2": " is bzip2-compressed: decompress it first",
    "utf-16": " is UTF-16: save it as UTF-8",
    "workbook": ": it is an Excel workbook (or another zip file), not a ledger CSV file",
}


@pytest.mark.parametrize("how", list(_NOT_CSV_TEXT))
def test_import_says_a_file_is_compressed_utf16_or_a_workbook(tmp_path: Path, how: str) -> None:
    """Each was "missing columns [...]", which does not say what to do."""
    import bz2
    import gzip

    ledger = Ledger(tmp_path / "l.db")
    ledger.append([dated(1, date(2012, 12, 1))])
    ledger.export_csv(tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_bytes()
    path = tmp_path / "in.csv"
    saved: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.compress,
        "bzip2": bz2.compress,
        "utf-16": lambda data: data.decode().encode("utf-16"),
        "workbook": lambda data: b"PK\x03\x04" + data,
    }
    path.write_bytes(saved[how](text))
    with pytest.raises(LedgerError) as refused:
        Ledger(tmp_path / "copy.db").import_csv(path)
    assert str(refused.value).startswith(f"{path}{_NOT_CSV_TEXT[how]}")


def test_a_ledger_of_an_earlier_pbr_is_read_and_appended_to_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.db"
    earlier_ledger(path)
    ledger = Ledger(path)
    assert not ledger.records_claim_dates
    ledger.append([dated(1, date(2012, 12, 1))])  # the claim date has nowhere to go
    assert [e.claimed_on for _, e in ledger.entries()] == [None]
    assert ledger.verify().head == chain(GENESIS, entry(1), 1)  # hashed as an earlier pbr did
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() == (
            "pbr-ledger/2",
        )
    args = ["--family-id", "F9", "--kind", "attachment_fee", "--amount", "1.00", "--claim-id"]
    args += ["N1", "--rules-version", "v", "--paid-on", "2013-01-01", "--claimed-on", "2012-12-01"]
    status, _, err = run(capsys, "ledger", "append", str(path), *args)
    assert status == 0
    assert err.startswith(f"note: ledger {path} was made by an earlier pbr (pbr-ledger/2)")
    assert ledger.export_csv(tmp_path / "out.csv") == 2
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    with closing(sqlite3.connect(path)) as db:
        db.execute("ALTER TABLE entries ADD COLUMN claimed_on TEXT")  # the columns of /3, not
        db.commit()  # its table: the format says /2
    with pytest.raises(LedgerError, match="not a pbr ledger"):
        Ledger(path)


@pytest.mark.parametrize("keyed", [False, True])
def test_a_row_added_to_the_meta_table_is_not_reported_intact(keyed: bool, tmp_path: Path) -> None:
    """It was "intact": a row pbr never writes is a change the chain cannot see."""
    key = KEY if keyed else None
    path = tmp_path / "m.db"
    assert filled(path, 3, key).verify().ok
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO meta (name, value) VALUES ('note', 'x')")
    verdict = Ledger(path, key=key).verify()
    assert not verdict.ok
    assert verdict.why == (
        "the ledger's meta table was changed (rows pbr does not write: 'note'): it is not as pbr "
        "wrote it"
    )


@pytest.mark.parametrize("target", ["-", "/dev/stdout", "/dev/fd/1"])
def test_an_export_to_standard_output_says_so_on_standard_error(
    tmp_path: Path, target: str
) -> None:
    """``export DB /dev/stdout`` wrote "exported 2 entries to /dev/stdout" into the CSV; ``-``
    was named as "-"."""
    filled(tmp_path / "l.db", 2)
    done = cli("ledger", "export", str(tmp_path / "l.db"), target)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(",".join(CSV_COLUMNS))
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == "exported 2 entries to standard output\n"


def test_a_file_whose_last_row_may_be_cut_short_is_not_imported(tmp_path: Path) -> None:
    """A file with rules_version last, cut inside its last row's rules_version, still read as
    a whole row: the cut value went into the ledger for good."""
    whole = (
        "family_id,kind,amount,paid_on,claim_id,rules_version\n"
        "F1,attachment_fee,3200.00,2012-11-01,C1,tf-phase-1/1.0\n"
    )
    (tmp_path / "cut.csv").write_text(whole[:-3])  # "tf-phase-1/1" and no line break
    ledger = Ledger(tmp_path / "b.db")
    with pytest.raises(LedgerError, match=r"cut\.csv: line 2: the last row does not end with a"):
        ledger.import_csv(tmp_path / "cut.csv")
    assert list(ledger.entries()) == []
    (tmp_path / "whole.csv").write_text(whole)
    assert ledger.import_csv(tmp_path / "whole.csv") == 1


def test_the_head_of_a_broken_ledger_is_an_error_not_the_head_to_keep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pbr ledger head l.db > kept-head.txt`` kept "ledger l.db: BROKEN ..." as the head."""
    db = tmp_path / "l.db"
    args = append_a1()
    assert run(capsys, "ledger", "append", str(db), *args)[0] == 0
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE entries SET amount = '15.00'")
    status, out, err = run(capsys, "ledger", "head", str(db))
    assert (status, out) == (1, "")
    assert one_line_error(err).startswith(f"pbr: ledger {db} is broken at entry 1: ")
    assert err.endswith("; no head printed\n")
