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
from pbr.ledger import Entry, Ledger, LedgerError, chain

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
    verdict = ledger.verify()
    assert (verdict.ok, verdict.entries, verdict.first_bad) == (True, 6, None)
    assert len(verdict.head) == 64


TAMPER = st.sampled_from(
    ["edit_amount", "edit_claim", "edit_kind", "edit_hash", "delete", "delete_last", "swap"]
)


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
        elif how == "edit_kind":
            db.execute("UPDATE entries SET kind = 'progress_to_work' WHERE seq = ?", (row,))
        elif how == "edit_hash":  # recompute this entry's hash: the next entry no longer follows
            db.execute("UPDATE entries SET amount = '2.00' WHERE seq = ?", (row,))
            prev, *values = db.execute(
                "SELECT prev_hash, family_id, kind, amount, paid_on, claim_id, rules_version "
                "FROM entries WHERE seq = ?",
                (row,),
            ).fetchone()
            fake = Entry(
                values[0],
                values[1],
                Decimal(values[2]),
                date.fromisoformat(values[3]),
                values[4],
                values[5],
            )
            db.execute("UPDATE entries SET hash = ? WHERE seq = ?", (chain(prev, fake, row), row))
            row = row + 1 if row < n else row
        elif how == "delete":
            db.execute("DELETE FROM entries WHERE seq = ?", (row,))
        elif how == "delete_last":
            db.execute("DELETE FROM entries WHERE seq = ?", (n,))
            row = n
        else:  # move whole rows: entries row and row+1 (or 1 and n) change places
            other = row % n + 1
            db.execute("UPDATE entries SET seq = -1 WHERE seq = ?", (row,))
            db.execute("UPDATE entries SET seq = ? WHERE seq = ?", (row, other))
            db.execute("UPDATE entries SET seq = ? WHERE seq = -1", (other,))
            row = min(row, other)
    db.close()
    verdict = Ledger(path).verify()
    assert not verdict.ok
    assert verdict.first_bad == row, verdict


def test_a_failed_write_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    ledger = filled(tmp_path / "l.db", 3)
    bad = Entry("EX-001", "bonus", Decimal(1), date(2014, 1, 1), "B", "v")
    with pytest.raises(LedgerError, match="not a payment kind"):
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
    refused = cli(
        "evaluate", str(EXAMPLES / "families.jsonl"), "--as-of", "2015-03-31", "--ledger", str(db)
    )
    assert refused.returncode == 2
    assert "is broken at entry 1: entry 1 was changed after it was written" in refused.stderr


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


def test_a_failure_inside_the_transaction_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = filled(tmp_path / "l.db", 2)
    calls = []

    def failing(prev: str, e: Entry, seq: int) -> str:
        calls.append(seq)
        if len(calls) == 2:
            raise OSError("disk full")
        return chain(prev, e, seq)

    monkeypatch.setattr(pbr.ledger, "chain", failing)
    with pytest.raises(OSError, match="disk full"):
        ledger.append([entry(7), entry(8)])
    monkeypatch.undo()
    assert calls == [3, 4]
    assert len(list(ledger.entries())) == 2
    assert ledger.verify().ok
    ledger.append([entry(7)])
    assert ledger.verify().entries == 3


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
    with pytest.raises(LedgerError, match="is not a ledger"):
        Ledger(tmp_path / "other.db")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("F", "bonus", "1.00", "2013-01-01", "C", "v"), "row 2: claim 'C': kind = 'bonus'"),
        (("F", "attachment_fee", "1.001", "2013-01-01", "C", "v"), "row 2: amount = '1.001'"),
        (("F", "attachment_fee", "1.00", "2013-02-30", "C", "v"), "row 2: paid_on = '2013-02-30'"),
        (("", "attachment_fee", "1.00", "2013-01-01", "C", "v"), "row 2: claim 'C': family_id"),
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


def test_history_gives_payments_per_family(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.append([entry(1, "F1", "attachment_fee"), entry(2, "F2"), entry(3, "F1")])
    history = ledger.history()
    assert [(p.kind, p.claim_id) for p in history["F1"]] == [
        ("attachment_fee", "C1"),
        ("crime_asb_education", "C3"),
    ]
    assert all(isinstance(p, pbr.records.Payment) for p in history["F2"])


def test_cli_ledger_append_and_refusals(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    args = ["--family-id", "EX-010", "--kind", "attachment_fee", "--amount", "3200.00"]
    args += ["--paid-on", "2013-01-02", "--claim-id", "A-1", "--rules-version", "tf-phase-1/1.0"]
    assert cli("ledger", "append", str(db), *args).stdout == f"appended A-1 to {db}\n"
    again = cli("ledger", "append", str(db), *args)
    assert again.returncode == 2
    assert "already in the ledger" in again.stderr
    missing = cli("ledger", "verify", str(tmp_path / "typo.db"))
    assert missing.returncode == 2
    assert "no ledger at" in missing.stderr
    out = cli("ledger", "verify", str(db))
    assert out.stdout.startswith(f"ledger {db}: 1 entries, chain intact\nhead ")
    exported = cli("ledger", "export", str(db), str(tmp_path / "out.csv"))
    assert exported.stdout == f"exported 1 entries to {tmp_path / 'out.csv'}\n"
    assert (tmp_path / "out.csv").read_text().splitlines()[1] == (
        "EX-010,attachment_fee,3200.00,2013-01-02,A-1,tf-phase-1/1.0"
    )
    broken_evaluate = cli(
        "evaluate",
        str(EXAMPLES / "families.jsonl"),
        "--as-of",
        "2015-03-31",
        "--ledger",
        str(tmp_path / "typo.db"),
    )
    assert broken_evaluate.returncode == 2
    assert "no ledger at" in broken_evaluate.stderr


def test_an_existing_ledger_is_only_read_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.db"
    filled(path, 3)
    monkeypatch.setattr(pbr.ledger, "_SCHEMA", "this is not SQL")  # fails if it were run
    ledger = Ledger(path, create=False)
    assert ledger.verify().ok
    assert len(ledger.history()["EX-001"]) == 3
    with pytest.raises(LedgerError, match="is not a ledger"):
        Ledger(tmp_path / "new.db")  # a new ledger does run it
