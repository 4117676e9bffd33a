"""The payments ledger: hash chain, tamper detection, atomic and concurrent appends, CSV, CLI."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.ledger import Entry, Ledger, LedgerError
from pbr.replay import replay

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def entry(i: int, family: str = "EX-001", kind: str = "crime_asb_education") -> Entry:
    return Entry(
        family,
        kind,
        Decimal(i % 900 + 100),
        date(2013, 1, 1) + timedelta(days=i),
        f"C{i}",
        "tf-phase-1/1.0",
    )


def filled(path: Path, n: int) -> Ledger:
    ledger = Ledger(path)
    ledger.append(entry(i) for i in range(n))
    return ledger


def test_append_and_verify(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 5)
    assert ledger.verify().ok
    assert [seq for seq, _ in ledger.entries()] == [1, 2, 3, 4, 5]
    ledger.append([entry(99)])
    assert ledger.verify() == pbr.ledger.Verdict(True, 6)


TAMPER = st.sampled_from(["edit_amount", "edit_claim", "delete", "delete_last", "swap"])


@settings(max_examples=30)
@given(st.integers(2, 8), TAMPER, st.data())
def test_any_single_edit_delete_or_swap_is_detected(n: int, how: str, data: st.DataObject) -> None:
    path = Path(tempfile.mkdtemp()) / "t.db"  # a fresh ledger for every example
    filled(path, n)
    row = data.draw(st.integers(1, n))
    db = sqlite3.connect(path)
    with db:
        if how == "edit_amount":
            db.execute("UPDATE entries SET amount = '1.00' WHERE seq = ?", (row,))
        elif how == "edit_claim":
            db.execute("UPDATE entries SET claim_id = 'X' WHERE seq = ?", (row,))
        elif how == "delete":
            db.execute("DELETE FROM entries WHERE seq = ?", (row,))
        elif how == "delete_last":
            db.execute("DELETE FROM entries WHERE seq = ?", (n,))
            row = n
        else:
            other = row % n + 1
            a = db.execute(
                "SELECT family_id, kind, amount, paid_on, claim_id FROM entries WHERE seq = ?",
                (row,),
            ).fetchone()
            b = db.execute(
                "SELECT family_id, kind, amount, paid_on, claim_id FROM entries WHERE seq = ?",
                (other,),
            ).fetchone()
            for seq, values in ((row, b), (other, a)):
                db.execute(
                    "UPDATE entries SET family_id=?, kind=?, amount=?, paid_on=?, claim_id=? WHERE seq=?",
                    (*values, seq),
                )
            row = min(row, other)
    db.close()
    verdict = Ledger(path).verify()
    assert not verdict.ok
    assert verdict.first_bad == row, verdict


def test_a_failed_write_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 3)
    bad = Entry("EX-001", "bonus", Decimal(1), date(2014, 1, 1), "B", "v")
    with pytest.raises(LedgerError, match="unknown kind"):
        ledger.append([entry(10), bad])

    def boom() -> object:
        yield entry(11)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        ledger.append(boom())  # type: ignore[arg-type]
    assert len(list(ledger.entries())) == 3
    assert ledger.verify().ok


def _append_many(path: str, worker: int, count: int) -> None:
    ledger = Ledger(path)
    for i in range(count):
        ledger.append([entry(1000 * worker + i, family=f"W{worker}")])


def test_concurrent_appends_from_several_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    Ledger(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(path, w, 25)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    ledger = Ledger(path)
    assert ledger.verify() == pbr.ledger.Verdict(True, 100)
    per_worker = {f: len(e) for f, e in ledger.payments().items()}
    assert per_worker == {"W0": 25, "W1": 25, "W2": 25, "W3": 25}


def test_csv_round_trip_and_bad_rows(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "a.db", 4)
    assert ledger.export_csv(tmp_path / "a.csv") == 4
    copy = Ledger(tmp_path / "b.db")
    assert copy.import_csv(tmp_path / "a.csv") == 4
    assert [e for _, e in copy.entries()] == [e for _, e in ledger.entries()]
    (tmp_path / "bad.csv").write_text(
        "family_id,kind,amount,paid_on,claim_id,rules_version\nF,attachment_fee,1.001,2013-01-01,C,v\n"
    )
    with pytest.raises(LedgerError, match="row 2"):
        copy.import_csv(tmp_path / "bad.csv")
    assert len(list(copy.entries())) == 4


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pbr.cli", *args], capture_output=True, text=True)


def test_cli_ledger_and_evaluate_with_ledger(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    (tmp_path / "in.csv").write_text(
        "family_id,kind,amount,paid_on,claim_id,rules_version\n"
        "EX-010,crime_asb_education,1500.00,2015-03-01,C-1,tf-phase-1/1.0\n"
    )
    assert "imported 1" in cli("ledger", "import", str(db), str(tmp_path / "in.csv")).stdout
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
    broken = cli("ledger", "verify", str(db))
    assert broken.returncode == 1
    assert "BROKEN at entry 1" in broken.stdout


# --- replay -------------------------------------------------------------------------------------


def test_replay_reproduces_and_shows_what_changed(tmp_path: Path) -> None:
    family = next(
        f
        for f in pbr.read_records(EXAMPLES / "families.jsonl")
        if isinstance(f, pbr.Family) and f.family_id == "EX-048"
    )
    recorded = pbr.evaluate(family, as_of=date(2014, 1, 15))
    assert replay(recorded, family).identical
    changed = family.model_copy(update={"employment_spells": ()})
    result = replay(recorded, changed)
    assert not result.identical
    assert "input" in result.changed
    assert any(d.startswith("results.continuous_employment.status") for d in result.differences)
    variant = pbr.evaluate(
        family,
        as_of=date(2014, 1, 15),
        rules=pbr.rules.PHASE_ONE.with_interpretations(employment_weeks="all_13"),
    )
    assert replay(variant, family).identical  # interpretations are recorded and replayed


@given(st.sampled_from(range(60)), st.dates(date(2012, 4, 1), date(2016, 3, 31)))
def test_replay_property(index: int, as_of: date) -> None:
    family = [
        f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)
    ][index]
    assert replay(pbr.evaluate(family, as_of=as_of), family).identical


def test_cli_replay(tmp_path: Path) -> None:
    out = cli(
        "evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31", "--format", "json"
    )
    (tmp_path / "d.jsonl").write_text(out.stdout)
    same = cli("replay", str(tmp_path / "d.jsonl"), "--families", str(EXAMPLES / "families.jsonl"))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "replayed 60: 60 identical, 0 different" in same.stdout
    lines = out.stdout.splitlines()
    edited = json.loads(lines[0])
    edited["payable"] = "9999.00"
    (tmp_path / "d.jsonl").write_text(json.dumps(edited) + "\n")
    diff = cli("replay", str(tmp_path / "d.jsonl"), "--families", str(EXAMPLES / "families.jsonl"))
    assert diff.returncode == 1
    assert "payable: '9999.00' -> " in diff.stdout
