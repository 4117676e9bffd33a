"""The audit with a ledger, and a report a finance director reads right."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pbr
from pbr.audit import (
    Claim,
    Verification,
    mus_audit,
    payments_from_report,
    read_claims,
    sample,
    verify,
    write_report,
)
from pbr.cli import main
from pbr.engine import provenance
from pbr.history import merge_payments
from pbr.ledger import Entry, Ledger
from pbr.reasons import REASON_CODES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = date(2015, 3, 31)
FAMILY_FILES = [str(EXAMPLES / "families.jsonl"), str(EXAMPLES / "mixed-programmes.jsonl")]


def families() -> dict[str, pbr.Family]:
    found = {}
    for path in FAMILY_FILES:
        for item in pbr.read_records(path):
            assert isinstance(item, pbr.Family)
            found[item.family_id] = item
    return found


def claim(claim_id: str, family_id: str, kind: str, amount: str, on: date = AS_OF) -> Claim:
    return Claim.model_validate(
        {
            "claim_id": claim_id,
            "family_id": family_id,
            "kind": kind,
            "amount": amount,
            "claimed_on": on,
        }
    )


def verdicts(result: Verification) -> list[tuple[object, ...]]:
    """Everything an audit says about each claim and each missed claim, for comparing audits."""
    return [
        (
            c.claim.claim_id,
            c.codes,
            c.allowed,
            c.verified,
            c.over_claimed,
            c.under_claimed,
            tuple(f.message for f in c.flags),
        )
        for c in result.checks
    ] + [(m.family_id, m.kind, m.amount, m.earliest_date) for m in result.missed]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- one payment history, as it stood on each claim date -----------------------------------------


def test_a_claim_paid_later_does_not_change_the_audit_of_the_others(tmp_path: Path) -> None:
    """The issue's case: the top-up was flagged once the first claim was recorded as paid."""
    claims = [
        claim("A-1", "EX-002", "crime_asb_education", "1500.00"),
        claim("A-2", "EX-002", "continuous_employment", "100.00"),
    ]
    before = verify(claims, families())
    assert [(c.codes, c.verified) for c in before.checks] == [
        ((), Decimal("1500.00")),
        ((), Decimal("100.00")),
    ]
    ledger = Ledger(tmp_path / "l.db")
    ledger.append(
        [Entry("EX-002", "crime_asb_education", Decimal(1500), date(2015, 5, 15), "A-1", "v")]
    )
    after = verify(claims, families(), history=ledger)
    assert verdicts(after) == verdicts(before)  # was AMOUNT_DIFFERS, "allowed £1,600.00"


def test_another_claims_payment_counts_whatever_its_date(tmp_path: Path) -> None:
    """A payment dated after the claim date was left out: the claim would have paid it again."""
    ledger = Ledger(tmp_path / "l.db")
    ledger.append(
        [Entry("EX-002", "crime_asb_education", Decimal(1500), date(2015, 5, 15), "OLD", "v")]
    )
    top_up = [claim("A-2", "EX-002", "continuous_employment", "100.00")]
    (check,) = verify(top_up, families(), history=ledger).checks
    # crime/ASB/education is paid, if after the claim date: employment is its top-up, £100
    assert (check.codes, check.allowed, check.verified) == ((), Decimal(100), Decimal(100))
    (again,) = verify(  # was verified: the result paid twice
        [claim("A-1", "EX-002", "crime_asb_education", "1500.00")], families(), history=ledger
    ).checks
    assert (again.codes, again.verified, again.over_claimed) == (
        ("DUPLICATE_OF_PAYMENT",),
        Decimal(0),
        Decimal(1500),
    )
    flag = again.flags[0]
    assert flag.message == (
        "crime_asb_education was paid 1500.00 on 2015-05-15 (claim OLD), after the claim date: "
        "paying this claim would pay it twice"
    )
    assert {k: flag.compared[k] for k in ("paid_amount", "paid_on", "paid_claim_id")} == {
        "paid_amount": "1500.00",
        "paid_on": "2015-05-15",
        "paid_claim_id": "OLD",
    }
    assert (flag.rule, flag.source) == ("payment.once", "P1-SPEC")
    record = merge_payments(families()["EX-002"], ledger)  # as given, its payments as dated
    expected = provenance(record, AS_OF, pbr.rule_set_for(record))
    assert again.provenance == expected
    ledger.append([Entry("EX-002", "attachment_fee", Decimal(3200), date(2015, 3, 1), "FEE", "v")])
    paid_before = verify(
        [claim("A-3", "EX-002", "crime_asb_education", "1500.00", date(2015, 5, 20))],
        families(),
        history=ledger,
    )
    assert paid_before.checks[0].codes == ("DUPLICATE_OF_PAYMENT",)


def test_the_next_file_after_a_record_cannot_pay_a_result_or_the_fee_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tutorial's cycle: C-001 and C-017 (EX-010) recorded as paid on 15 May 2015. A next
    file's claims dated before that were verified, and the second fee was recorded even with the
    full re-check: EX-010 paid £6,300 against the £4,000 cap."""
    db = tmp_path / "payments.db"
    Ledger(db).append(
        [
            Entry("EX-010", "crime_asb_education", Decimal(1500), date(2015, 5, 15), "C-001", "v"),
            Entry("EX-010", "attachment_fee", Decimal(2400), date(2015, 5, 15), "C-017", "v"),
        ]
    )
    day = date(2015, 4, 1)
    following = [
        claim("E-1", "EX-010", "crime_asb_education", "1500.00", day),
        claim("D-1", "EX-010", "attachment_fee", "2400.00", day),
    ]
    result = verify(following, families(), history=Ledger(db))
    assert [(c.codes, c.verified) for c in result.checks] == [
        (("DUPLICATE_OF_PAYMENT",), Decimal(0)),
        (("DUPLICATE_OF_PAYMENT",), Decimal(0)),
    ]
    fee = result.checks[1].flags[0].compared
    assert (fee["paid_amount"], fee["paid_on"], fee["paid_claim_id"]) == (
        "2400.00",
        "2015-05-15",
        "C-017",
    )
    # the fee-only report of an audit that did not read the ledger says verified: the re-check
    # with the ledger the payments are in refuses it (it recorded the fee a second time)
    claims_path = tmp_path / "next.csv"
    claims_path.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nD-1,EX-010,attachment_fee,2400.00,2015-04-01\n"
    )
    report = str(tmp_path / "next.report.csv")
    status, _, _ = run(
        capsys, "audit", str(claims_path), "--families", FAMILY_FILES[0], "--report", report
    )
    assert status == 0
    recheck = ["--claims", str(claims_path), "--families", FAMILY_FILES[0], "--ledger", str(db)]
    status, out, err = run(
        capsys, "ledger", "record", report, str(db), "--paid-on", "2015-06-30", *recheck
    )
    assert (status, out) == (2, "")
    assert err.startswith(
        f"pbr: {report}: line 2: allowed = '2400.00', the re-run audit writes '0.00'"
    )
    assert len(Ledger(db).history()["EX-010"]) == 2  # nothing recorded
    status, _, _ = run(  # audited with the ledger: flagged, so nothing to record
        capsys,
        "audit",
        str(claims_path),
        "--families",
        FAMILY_FILES[0],
        "--ledger",
        str(db),
        "--report",
        report,
    )
    assert status == 1
    status, out, _ = run(
        capsys, "ledger", "record", report, str(db), "--paid-on", "2015-06-30", *recheck
    )
    assert (status, out.split(" from ")[0]) == (0, "recorded 0 payments")


def test_recording_no_payment_creates_no_ledger_and_leaves_one_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report with nothing payable by the day given once left an empty ledger file behind."""
    report = str(tmp_path / "a.csv")
    audit = ["audit", str(EXAMPLES / "claims.csv"), "--as-of", "2015-03-31", "--report", report]
    for path in FAMILY_FILES:
        audit += ["--families", path]
    assert run(capsys, *audit)[0] == 1
    db = tmp_path / "payments.db"
    early = ["ledger", "record", report, str(db), "--paid-on", "2013-01-01"]  # before every claim
    status, out, err = run(capsys, *early)
    assert (status, err) == (0, "")
    assert out.startswith(
        f"recorded 0 payments from {report}: nothing to record, so the ledger {db} was not "
        "created (5 claimed after 2013-01-01 left for a later record: "
    )
    assert out.count("\n") == 1  # no head: there is no ledger
    assert not db.exists()
    assert not list(tmp_path.glob("payments.db*"))  # no journal either
    run(capsys, "ledger", "record", report, str(db), "--paid-on", "2015-05-15")
    kept = db.read_bytes()
    for paid_on in ("2013-01-01", "2015-05-15"):  # nothing new, then all already recorded
        status, out, _ = run(capsys, "ledger", "record", report, str(db), "--paid-on", paid_on)
        assert status == 0
        assert out.startswith(f"recorded 0 payments from {report} in {db}")
        assert out.splitlines()[-1].startswith("head 4:")
        assert db.read_bytes() == kept


def test_audit_record_and_audit_again_gives_the_same_audit(tmp_path: Path) -> None:
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    first = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    report = write_report(first, tmp_path / "first.csv")
    entries = payments_from_report(report, paid_on=date(2015, 5, 15))
    verified = [c.claim.claim_id for c in first.checks if c.status == "verified"]
    assert "C-012" in verified  # claimed on 2023-03-31: not paid on 15 May 2015
    verified.remove("C-012")
    assert [e.claim_id for e in entries] == verified
    by_id = {c.claim.claim_id: c for c in first.checks}
    assert all(e.amount == by_id[e.claim_id].verified for e in entries)
    ledger = Ledger(tmp_path / "l.db")
    assert ledger.append(entries, skip_recorded=True) == len(verified)
    again = verify(claims, families(), as_of=AS_OF, rejections=malformed, history=ledger)
    assert verdicts(again) == verdicts(first)
    assert write_report(again, tmp_path / "again.csv").read_bytes() == report.read_bytes()
    partial = payments_from_report(report, paid_on=date(2015, 5, 15), partial=True)
    assert {e.claim_id for e in partial} - set(verified) == {"C-003", "C-004"}  # cut, not refused
    later = payments_from_report(report, paid_on=date(2023, 3, 31))
    assert {e.claim_id for e in later} == {*verified, "C-012"}  # paid once claimed


def paid_for_the_example_claims(tmp_path: Path, *, partial: bool = False) -> Ledger:
    """The tutorial's ledger: the example claims audited, and recorded as paid on 15 May 2015."""
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    first = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    report = write_report(first, tmp_path / "first.csv")
    ledger = Ledger(tmp_path / "payments.db")
    ledger.append(payments_from_report(report, paid_on=date(2015, 5, 15), partial=partial))
    return ledger


NEXT_WINDOW = [  # the auditor's tut/next-window.csv
    claim("C-002", "EX-012", "crime_asb_education", "700.00", date(2015, 5, 1)),
    claim("C-015", "EX-048", "continuous_employment", "100.00", date(2015, 5, 14)),
    claim("NEW-1", "EX-012", "crime_asb_education", "700.00", date(2015, 5, 1)),
]


def test_a_claim_id_turning_up_in_a_later_window_verifies_nothing_already_paid(
    tmp_path: Path,
) -> None:
    # C-002 (paid £700 for its claim of 31 March) claimed again on 1 May was verified; C-015
    # (paid £1,600) claimed again at £100 was "verified £100, under-claimed £1,500": a payment
    # under a claim's id was taken for that claim whatever its amount or claim date.
    ledger = paid_for_the_example_claims(tmp_path)
    assert [e.claimed_on for _, e in ledger.entries()][:3] == [AS_OF, AS_OF, date(2014, 1, 15)]
    result = verify(NEXT_WINDOW, families(), history=ledger)
    assert [c.codes for c in result.checks] == [("DUPLICATE_OF_PAYMENT",)] * 3
    total = result.reconciliation()[-1]
    assert (total["claimed"], total["verified"], total["over_claimed"]) == (
        Decimal("1500.00"),
        Decimal("0.00"),
        Decimal("1500.00"),
    )
    assert (total["unverified"], total["under_claimed"]) == (Decimal("0.00"), Decimal("0.00"))
    assert all(r["claimed"] == r["verified"] + r["over_claimed"] + r["unverified"]
               for r in result.reconciliation())  # fmt: skip
    c002, c015, new = (c.flags[0] for c in result.checks)
    assert c002.message.endswith(
        "the payment under this claim's id, 'C-002', is not this claim's: it paid a claim made "
        "on 2015-03-31, and this claim was made on 2015-05-01"
    )
    assert c002.compared["paid_claim_id"] == "C-002"
    assert "it paid a claim made on 2014-01-15" in c015.message
    assert "is not this claim's" not in new.message  # NEW-1 has an id of its own


def test_a_payment_under_the_claim_s_id_for_another_amount_is_not_its_own(tmp_path: Path) -> None:
    # w1.csv recorded W-1 as £600 (--partial); w2.csv claimed W-1 again at £700 on 15 April and
    # had £700 verified. With no claim date recorded (a family record, or a ledger of an earlier
    # pbr), the amount tells: a payment stands for the claim only for its amount, or for the
    # part the audit verifies of it.
    paid = [
        pbr.records.Payment(
            kind="crime_asb_education", amount=Decimal(600), paid_on=date(2015, 4, 30), claim_id="W-1"
        ),
        pbr.records.Payment(
            kind="continuous_employment", amount=Decimal(1600), paid_on=date(2015, 5, 15), claim_id="C-015"
        ),
    ]  # fmt: skip
    history = {"EX-015": paid[:1], "EX-048": paid[1:]}
    again = claim("W-1", "EX-015", "crime_asb_education", "700.00", date(2015, 4, 15))
    less = claim("C-015", "EX-048", "continuous_employment", "100.00", date(2015, 5, 14))
    result = verify([again, less], families(), history=history)
    none = Decimal("0.00")
    assert [(c.codes, c.verified, c.under_claimed) for c in result.checks] == [
        (("DUPLICATE_OF_PAYMENT",), none, none),
        (("DUPLICATE_OF_PAYMENT",), none, none),
    ]
    assert "it paid £600.00, and this claim is for £700.00" in result.checks[0].flags[0].message
    assert "it paid £1,600.00, and this claim is for £100.00" in result.checks[1].flags[0].message
    own = claim("W-1", "EX-015", "crime_asb_education", "600.00", date(2015, 3, 31))
    check = verify([own], families(), history=history).checks[0]
    assert (check.codes, check.verified, check.under_claimed) == (
        ("AMOUNT_DIFFERS",),
        Decimal("600.00"),
        Decimal("100.00"),
    )  # the claim the £600 paid: its own verdict, as when it was recorded


def test_audit_record_partially_and_audit_again_gives_the_same_audit(tmp_path: Path) -> None:
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    first = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    ledger = paid_for_the_example_claims(tmp_path, partial=True)
    paid = {e.claim_id: e.amount for _, e in ledger.entries()}
    assert (paid["C-003"], paid["C-004"]) == (Decimal("1500.00"), Decimal("600.00"))  # cut
    again = verify(claims, families(), as_of=AS_OF, rejections=malformed, history=ledger)
    assert verdicts(again) == verdicts(first)


def test_the_flow_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "payments.db")
    audit = ["audit", str(EXAMPLES / "claims.csv")]
    for path in FAMILY_FILES:
        audit += ["--families", path]
    audit += ["--as-of", "2015-03-31"]
    status, first, _ = run(capsys, *audit, "--report", str(tmp_path / "a.csv"))
    assert status == 1
    status, out, _ = run(
        capsys, "ledger", "record", str(tmp_path / "a.csv"), db, "--paid-on", "2015-05-15"
    )
    assert status == 0
    recorded, head = out.splitlines()
    assert recorded == (
        f"recorded 4 payments from {tmp_path / 'a.csv'} in {db} "
        "(1 claimed after 2015-05-15 left for a later record: C-012)"
    )
    kept = head.removeprefix("head ")
    status, out, _ = run(
        capsys, "ledger", "record", str(tmp_path / "a.csv"), db, "--paid-on", "2015-05-15"
    )
    assert out.startswith(f"recorded 0 payments from {tmp_path / 'a.csv'} in {db} (4 already")
    status, again, _ = run(capsys, *audit, "--ledger", db, "--report", str(tmp_path / "b.csv"))
    assert status == 1
    assert again == f"payment history: ledger {db}: 4 entries, head {kept}\n" + first
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    status, out, _ = run(capsys, "ledger", "verify", db, "--expect-head", kept)
    assert (status, out.splitlines()[0]) == (
        0,
        f"ledger {db}: 4 entries, chain intact and holds the kept head",
    )


def test_a_payment_history_conflict_is_flagged(tmp_path: Path) -> None:
    family = families()["EX-018"]  # its record has crime/ASB/education paid on 2013-02-15
    paid = family.payments[-1]
    ledger = Ledger(tmp_path / "l.db")
    ledger.append(
        [
            Entry(
                "EX-018",
                paid.kind,
                paid.amount + 1,
                paid.paid_on or date(2013, 2, 15),
                paid.claim_id or "X",
                "v",
            )
        ]
    )
    if paid.claim_id is None:  # the example has no claim id: give it one
        family = family.model_copy(
            update={"payments": (*family.payments[:-1], paid.model_copy(update={"claim_id": "X"}))}
        )
    result = verify(
        [claim("Q-1", "EX-018", "progress_to_work", "100.00")],
        {"EX-018": family},
        history=ledger,
    )
    flag = result.checks[0].flags[0]
    assert flag.code == "PAYMENT_HISTORY_CONFLICT"
    assert "amount is 700.00 in the family record but 701.00 in ledger" in flag.message
    check = result.checks[0]  # not judged either way until the records agree
    assert (check.verified, check.over_claimed, check.unverified) == (
        Decimal(0),
        Decimal(0),
        Decimal("100.00"),
    )
    assert [f for f, _ in result.unevaluated] == ["EX-018"]


def _conflicting_ledger(tmp_path: Path) -> Path:
    """A ledger paying EX-005's fee (EX-005-P1) a day after its record says it was paid."""
    db = tmp_path / "led.db"
    if db.exists():  # made already, by an earlier audit of the test
        return db
    Ledger(db).append(
        [
            Entry(
                "EX-005",
                "attachment_fee",
                Decimal("3200.00"),
                date(2013, 4, 13),  # the record: 2013-04-12
                "EX-005-P1",
                "tf-phase-1/1.0",
            )
        ]
    )
    return db


def _audit_with_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], report: str, *more: str
) -> tuple[int, str, Path]:
    """A claim for EX-005 (payment records disagree) and one for EX-010 (verified), audited."""
    claims = tmp_path / "c.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on,window\n"
        "H-1,EX-005,crime_asb_education,700.00,2015-03-31,Q4\n"
        "N-1,EX-010,crime_asb_education,1500.00,2015-03-31,Q4\n"
    )
    path = tmp_path / report
    status, out, _ = run(
        capsys,
        "audit",
        str(claims),
        "--families",
        str(EXAMPLES / "families.jsonl"),
        "--as-of",
        "2015-03-31",
        "--ledger",
        str(_conflicting_ledger(tmp_path)),
        "--report",
        str(path),
        *more,
    )
    return status, out, path


def test_a_claim_whose_payment_records_disagree_is_unverified_in_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tester's c1.csv: H-1 was £700 over-claimed (to recover), though it cannot be judged."""
    status, out, path = _audit_with_conflict(tmp_path, capsys, "r.md")
    assert status == 1
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.split()[1:] == [
        *("2", "1", "0"),
        *("£2,200.00", "£1,500.00", "£0.00", "£700.00", "£0.00"),
    ]
    text = path.read_text()
    assert "- **Over-claimed**: £0.00\n" in text
    assert (
        "- **Unverified (malformed rows, claims whose payment records disagree)**: £700.00\n"
        in text
    )
    status, out, path = _audit_with_conflict(tmp_path, capsys, "r.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    h1 = rows[0]
    assert (h1["claim_id"], h1["over_claimed"], h1["unverified"]) == ("H-1", "0.00", "700.00")
    result = verify(
        read_claims(tmp_path / "c.csv")[0],
        families(),
        as_of=AS_OF,
        history=Ledger(tmp_path / "led.db"),
    )
    found = mus_audit(result, confidence="95%", tolerable="50%", seed=1)
    assert (found.over_claimed, found.unverifiable) == (Decimal("0.00"), Decimal("700.00"))
    assert (
        "1 claim (£700.00) cannot be verified, its family's payment records disagreeing"
        in found.population_note
    )
    text = (write_report(result, tmp_path / "m.md", sample=found)).read_text()
    assert "and unverified £700.00 (payment records that disagree)" in text


def test_the_csv_report_lists_the_families_not_evaluated_and_recording_skips_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The .md, .html and .xlsx listed EX-005 (its payment records disagree); the .csv did not."""
    status, _, path = _audit_with_conflict(tmp_path, capsys, "r.csv")
    assert status == 1
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [(r["claim_id"], r["family_id"], r["status"]) for r in rows] == [
        ("H-1", "EX-005", "flagged"),
        ("N-1", "EX-010", "verified"),
        ("", "EX-005", "family_not_evaluated"),
    ]
    last = rows[-1]
    assert last["why"].startswith(
        "family 'EX-005': payment 'EX-005-P1': paid_on is 2013-04-12 in the family record but "
        "2013-04-13 in ledger"
    )
    assert (last["amount"], last["verified"], last["flags"]) == ("0.00", "0.00", "")
    db = tmp_path / "paid.db"
    status, out, err = run(
        capsys, "ledger", "record", str(path), str(db), "--paid-on", "2015-05-15"
    )
    assert (status, err) == (0, "")
    assert out.startswith(f"recorded 1 payment from {path}")
    assert [e.claim_id for _, e in Ledger(db).entries()] == ["N-1"]
    # an earlier pbr wrote H-1 over-claimed: it records nothing either way, and is read
    text = path.read_text()
    new, earlier = ",0.00,0.00,0.00,700.00,0.00,flagged,", ",0.00,0.00,700.00,0.00,0.00,flagged,"
    old = text.replace(new, earlier)
    assert old != text
    path.write_text(old)
    status, out, err = run(
        capsys, "ledger", "record", str(path), str(db), "--paid-on", "2015-05-15"
    )
    assert (status, err) == (0, "")


def test_a_ledger_result_dated_before_attachment_counts_as_paid_in_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The auditor's q.csv with pre.db: a ledger result dated before EX-008's attachment kept
    # the family out of the search for missed claims ("not evaluated", exit 1), while the same
    # payment in its record is only warned of (RESULTS_PAID_BEFORE_ATTACHMENT) and counts as
    # paid. Now the ledger's counts as the record's would: a claim for it again is a duplicate.
    db = tmp_path / "pre.db"
    Ledger(db).append(
        [Entry("EX-008", "crime_asb_education", Decimal(700), date(2014, 1, 1), "PRE-1", "v")]
    )
    claims = tmp_path / "q.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nQ-1,EX-012,crime_asb_education,700.00,"
        "2015-03-31\n"
    )
    families = str(EXAMPLES / "families.jsonl")
    status, out, _ = run(capsys, "audit", str(claims), "--families", families, "--ledger", str(db))
    assert "exceptions: 0; malformed rows: 0" in out
    assert "not evaluated" not in out
    assert status == 0
    status, out, _ = run(
        capsys, "evaluate", families, "--as-of", "2015-03-31", "--ledger", str(db), "--format",
        "json",
    )  # fmt: skip
    assert status == 0  # the same ledger, the same verdict on the family
    (ex8,) = [json.loads(line) for line in out.splitlines() if '"EX-008"' in line]
    assert ex8["paid_to_date"] == "700.00"
    assert "RESULTS_PAID_BEFORE_ATTACHMENT" in [w["code"] for w in ex8["warnings"]]
    again = tmp_path / "again.csv"
    again.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nQ-2,EX-008,crime_asb_education,700.00,"
        "2015-03-31\n"
    )
    status, out, _ = run(capsys, "audit", str(again), "--families", families, "--ledger", str(db))
    assert "Q-2 EX-008 crime_asb_education: DUPLICATE_OF_PAYMENT" in out  # paid already
    assert status == 1


def test_a_claim_reusing_the_id_of_a_payment_not_its_own_hides_nothing(tmp_path: Path) -> None:
    """The id of a claim in the file left the payment out, whatever its kind or date: a second
    attachment fee was verified and recorded (EX-001: £7,100 against the £4,000 cap)."""
    reused = [  # EX-001's record: attachment fee EX-001-P1, £3,200.00 paid on 2012-05-01
        claim("EX-001-P1", "EX-001", "crime_asb_education", "700.00"),
        claim("Z-2", "EX-001", "attachment_fee", "3200.00"),
    ]
    result = verify(reused, families())
    assert [(c.codes, c.verified, c.over_claimed) for c in result.checks] == [
        (("CLAIM_ID_OF_OTHER_PAYMENT",), Decimal(0), Decimal("700.00")),
        (("DUPLICATE_OF_PAYMENT",), Decimal(0), Decimal("3200.00")),  # the fee counts
    ]
    flag = result.checks[0].flags[0]
    assert flag.message == (
        "claim id 'EX-001-P1' is already a payment's: family 'EX-001' was paid attachment_fee "
        "£3,200.00 on 2012-05-01 under it, which cannot be this claim's payment (a payment of "
        "another kind (attachment_fee)); that payment counts, and nothing of this claim is "
        "verified until it has a claim id of its own"
    )
    assert {k: flag.compared[k] for k in ("paid_kind", "paid_amount", "paid_on")} == {
        "paid_kind": "attachment_fee",
        "paid_amount": "3200.00",
        "paid_on": "2012-05-01",
    }
    assert flag.compared["paid_claim_id"] == "EX-001-P1"
    # the same kind, but paid two years before the claim was made: not this claim's payment
    (old,) = verify(
        [claim("EX-018-P2", "EX-018", "crime_asb_education", "700.00")], families()
    ).checks
    assert (old.codes, old.verified) == (("CLAIM_ID_OF_OTHER_PAYMENT",), Decimal(0))
    assert "(paid on 2013-02-15, before the claim date 2015-03-31)" in old.flags[0].message
    # through a ledger: its fee L-1 counts though a crime claim reuses the id
    ledger = Ledger(tmp_path / "l.db")
    ledger.append([Entry("EX-010", "attachment_fee", Decimal(2400), date(2013, 10, 2), "L-1", "v")])
    through = [
        claim("L-1", "EX-010", "crime_asb_education", "1500.00"),
        claim("F-2", "EX-010", "attachment_fee", "2400.00"),
    ]
    codes = [c.codes for c in verify(through, families(), history=ledger).checks]
    assert codes == [("CLAIM_ID_OF_OTHER_PAYMENT",), ("DUPLICATE_OF_PAYMENT",)]
    # the claim's own payment (same family, kind, paid on or after the claim date) stands for it
    own = [claim("L-1", "EX-010", "attachment_fee", "2400.00", date(2013, 10, 1))]
    assert verify(own, families(), history=ledger).checks[0].codes == ()
    # another family's payment, in its record or the ledger: its claim id is taken too
    for taken, owner in (("EX-001-P1", "EX-001"), ("L-1", "EX-010")):
        (other,) = verify(
            [claim(taken, "EX-012", "attachment_fee", "3200.00", date(2013, 10, 1))],
            families(),
            history=ledger,
        ).checks
        assert (other.codes, other.verified) == (("CLAIM_ID_OF_OTHER_PAYMENT",), Decimal(0))
        assert f"(a payment of another family ({owner}))" in other.flags[0].message
        assert other.flags[0].compared["paid_family_id"] == owner


# --- the claim file: every row's money accounted for ---------------------------------------------


def test_an_exact_duplicate_row_is_a_duplicate_with_its_money(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    exact = "C1,EX-010,crime_asb_education,1500.00,2015-03-31\n"
    path.write_text("claim_id,family_id,kind,amount,claimed_on\n" + exact * 3)
    claims, malformed = read_claims(path)
    assert [c.row for c in claims] == [2, 3, 4]
    assert malformed == []
    result = verify(claims, families(), rejections=malformed)
    assert [c.codes for c in result.checks] == [(), ("DUPLICATE_IN_FILE",), ("DUPLICATE_IN_FILE",)]
    assert result.checks[1].flags[0].message == "row 3 repeats row 2 (claim C1) exactly"
    total = result.reconciliation()[-1]
    assert (total["claimed"], total["verified"], total["over_claimed"], total["unverified"]) == (
        Decimal("4500.00"),
        Decimal("1500.00"),
        Decimal("3000.00"),
        Decimal("0"),
    )
    assert len(sample(claims[:1], size=1, seed=0).claims) == 1


def test_rows_sharing_a_claim_id_with_other_values_are_each_malformed_with_their_money(
    tmp_path: Path,
) -> None:
    """Only the later row was malformed, so the order of the rows decided which was verified."""
    path = tmp_path / "claims.csv"
    exact = "C1,EX-010,crime_asb_education,1500.00,2015-03-31\n"
    other = "C1,EX-010,crime_asb_education,700.00,2015-03-31\n"
    for body in (exact * 3 + other, other + exact * 3):
        path.write_text("claim_id,family_id,kind,amount,claimed_on\n" + body)
        claims, malformed = read_claims(path)
        assert claims == []
        assert [(r.row, r.field, r.family_id) for r in malformed] == [
            (n, "claim_id", "EX-010") for n in (2, 3, 4, 5)
        ]
        total = verify(claims, families(), rejections=malformed).reconciliation()[-1]
        assert (total["claimed"], total["verified"], total["unverified"]) == (
            Decimal("5200.00"),
            Decimal("0"),
            Decimal("5200.00"),
        )
    assert malformed[0].message == (
        "the same claim_id is on rows 3, 4 and 5 with other values: which row is the claim "
        "cannot be known, so none of them is read"
    )
    assert "the same claim_id is on row 2 with other values" in malformed[1].message


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2", "C3"]),
            st.sampled_from(["EX-010", "EX-002", "", "EX-999"]),
            st.sampled_from(["crime_asb_education", "attachment_fee", "bonus", ""]),
            st.sampled_from(["700.00", "1500", "12.345", "", "-5", "x"]),
            st.sampled_from(["2015-03-31", "2015-02-30", ""]),
        ),
        min_size=1,
        max_size=8,
    )
)
@pytest.mark.slow
def test_claimed_is_verified_plus_over_claimed_plus_unverified(
    rows: list[tuple[str, ...]],
) -> None:
    text = "claim_id,family_id,kind,amount,claimed_on\n" + "".join(",".join(r) + "\n" for r in rows)
    path = Path(tempfile_dir()) / "c.csv"
    path.write_text(text)
    claims, malformed = read_claims(path)
    assert len(claims) + len(malformed) == len(rows)  # every row accounted for
    table = verify(claims, families(), rejections=malformed).reconciliation()
    *kinds, total = table
    for row in table:
        assert row["claimed"] == row["verified"] + row["over_claimed"] + row["unverified"]
    for key in ("claims", "malformed", "claimed", "verified", "over_claimed", "unverified"):
        assert total[key] == sum(r[key] for r in kinds)
    readable = sum(
        (Decimal(r[3]) for r in rows if re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", r[3])), Decimal(0)
    )
    assert total["claimed"] == readable  # every readable amount, and nothing else


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp()


# --- reasons that fail, in plain words -----------------------------------------------------------

PASSING = {
    "CRIME_ASB_AT_ENTRY",
    "NO_CRIME_ASB_AT_ENTRY",
    "EDUCATION_PROBLEM_AT_ENTRY",
    "NO_EDUCATION_PROBLEM_AT_ENTRY",
    "OUT_OF_WORK_BENEFIT_AT_ENTRY",
    "NO_OUT_OF_WORK_BENEFIT_AT_ENTRY",
    "LOCAL_DISCRETION_RECORDED",
    "IDENTIFIED_FOR_STATED",
    "EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR",
    "LATER_PROGRAMME_LISTS_IGNORED",
    "ELIGIBLE",
    "LIMB_NOT_RELEVANT",
    "CHILD_IN_SCHOOL",
    "NO_CHILD_TO_ASSESS",
    "ASB_REDUCED_ENOUGH",
    "ASB_NONE_BEFORE_OR_SINCE",
    "OFFENDING_REDUCED_ENOUGH",
    "OFFENDING_NONE_BEFORE_OR_SINCE",
    "WORK_PROGRAMME_REFERRAL",
    "CONTINUOUS_EMPLOYMENT_REACHED",
    "RATE_APPLIED",
    "ALREADY_PAID",
    "CAP_REACHED",
    "EMPLOYMENT_TOP_UP",
    "EXCLUSIVE_ROUTE_TAKEN",
    "PROBLEMS_AT_ENTRY",
    "DEPENDENT_CHILD_OR_EXPECTANT_PARENT",
    "OUTCOME_MET",
    "MEASURE_MET",
    "EXAMPLE_PLAN_USED",
    "OBSERVATIONS_NOT_READ",
    "RESULT_PAID_MORE_THAN_ONCE",
    "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE",
    "PAID_OVER_CAP",
    "RESULTS_PAID_BEFORE_ATTACHMENT",
    "EVALUATED_BEFORE_ATTACHMENT",
    "RESULTS_CLAIMS_CLOSED",
    "EARLIEST_DATE_AFTER_CLAIMS_CLOSED",
    "ONE_CLAIM_PER_FAMILY",
    "IDENTIFIED_FOR_IGNORED",
    "PROBLEMS_NOT_IN_PROGRAMME",
    "SECOND_RESULTS_CLAIM_PAID",
}
"""Reason codes that say what held, or are notes: never the reason a result is not met."""


def test_every_reason_code_is_either_failing_or_not() -> None:
    from pbr.audit._verify import _FAILING

    assert not _FAILING & PASSING
    assert set(REASON_CODES) == _FAILING | PASSING  # a new code must be placed


def test_a_result_not_met_names_only_what_failed_with_the_child_and_term() -> None:
    result = verify([claim("X", "EX-025", "crime_asb_education", "1500.00")], families())
    flag = result.checks[0].flags[0]
    assert flag.code == "RESULT_NOT_MET"
    assert flag.message == (
        "Crime, ASB and education is not met on the claim date: child C2 is of compulsory "
        "school age but has no record for 2014/15 autumn [MISSING_SCHOOL_TERM]"
    )
    assert (flag.compared["reasons"], flag.compared["child"], flag.compared["term"]) == (
        "MISSING_SCHOOL_TERM",
        "C2",
        "2014/15 autumn",
    )
    for passing in ("CHILD_IN_SCHOOL", "ASB_REDUCED_ENOUGH", "OFFENDING_NONE"):
        assert passing not in flag.message


# --- the report ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Verification, Path, str]:
    folder = tmp_path_factory.mktemp("ledger")
    ledger = Ledger(folder / "payments.db")
    ledger.append(
        [Entry("EX-001", "progress_to_work", Decimal(100), date(2014, 12, 1), "L-1", "v")]
    )
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed, history=ledger)
    return result, folder, ledger.verify().head_text


@pytest.mark.parametrize("suffix", [".html", ".md", ".xlsx"])
def test_the_header_names_the_ledger_rule_sets_and_interpretations(
    with_ledger: tuple[Verification, Path, str], suffix: str
) -> None:
    result, folder, head = with_ledger
    path = write_report(result, folder / f"r{suffix}", sources=[EXAMPLES / "claims.csv"])
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        text = "\n".join(
            str(c.value) for row in load_workbook(path)["Summary"].iter_rows() for c in row
        )
    else:
        text = path.read_text().replace("\\", "")
    assert str(folder / "payments.db") in text
    assert head in text
    assert "tf-phase-1/1.0, tf-phase-2/1.0" in text
    assert "employment_after_crime = top_up" in text
    assert "relevance = all_limbs" in text  # phase two's, not phase one's
    assert "Missed results" in text
    assert "Missed attachment fees" in text
    assert "Unverified (malformed rows)" in text


def test_the_header_names_the_rule_sets_and_calendars_that_priced_the_missed_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Phase one's results split prices phase-one families' missed results: the header says so."""
    claims = tmp_path / "p2b.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on,window\n"
        "P02,MX-P2-02,continuous_employment,800.00,2018-05-01,2018-Q1\n"
    )
    args = ["audit", str(claims), "--families", FAMILY_FILES[1], "--families", FAMILY_FILES[0]]
    args += ["--as-of", "2020-03-31", "--plan", str(EXAMPLES / "plans" / "county-tfop.yaml")]
    args += ["--no-missed-fees", "--term-calendar", str(EXAMPLES / "term-calendar.toml")]
    headers = {}
    for split in ("flat_progress_to_work", "pro_rata"):
        report = tmp_path / f"{split}.md"
        run(capsys, *args, "--interpretation", f"results_split={split}", "--report", str(report))
        text = report.read_text().replace("\\", "")
        headers[split] = text[: text.index("Payment ledger")]
        assert "**Rule sets**: supporting-families/1.0, tf-phase-1/1.0, tf-phase-2/1.0" in text
        phase_one = next(
            line for line in text.splitlines() if "**Interpretations, tf-phase-1/1.0**" in line
        )
        assert f"results_split = {split}" in phase_one
        assert "**Term calendar, tf-phase-1/1.0**: Example County Council" in text
    assert headers["flat_progress_to_work"] != headers["pro_rata"]


def test_missed_results_and_fees_are_apart_and_fees_can_be_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    assert {m.kind for m in result.missed_attachment_fees} == {"attachment_fee"}
    assert "attachment_fee" not in {m.kind for m in result.missed_results}
    assert len(result.missed_results) + len(result.missed_attachment_fees) == len(result.missed)
    without = verify(claims, families(), as_of=AS_OF, missed_fees=False)
    assert without.missed == result.missed_results
    args = ["audit", str(EXAMPLES / "claims.csv"), "--families", FAMILY_FILES[0]]
    args += ["--families", FAMILY_FILES[1], "--as-of", "2015-03-31"]
    _, out, _ = run(capsys, *args)
    assert "missed results: 40 worth £45,700.00 (as of 2015-03-31)" in out
    assert "missed attachment fees: 37 worth £86,400.00" in out
    assert "can no longer be claimed" not in out  # claims still open on 2015-03-31
    _, out, _ = run(capsys, *args, "--no-missed-fees")
    assert "missed results: 40 worth £45,700.00" in out
    assert "attachment fees" not in out
    later = [*args[:-1], "2015-06-01"]
    _, out, _ = run(capsys, *later)
    fees = out[out.index("missed attachment fees:") :].splitlines()
    assert fees[1].startswith("  of which ")
    assert fees[1].endswith("can no longer be claimed: claims closed on 2015-05-31")


def test_codes_appear_beside_plain_names(tmp_path: Path) -> None:
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    text = write_report(result, tmp_path / "r.md").read_text()
    assert "Crime, ASB and education (`crime_asb_education`)" in text
    assert "Amount differs (`AMOUNT_DIFFERS`)" in text
    html = write_report(result, tmp_path / "r.html").read_text()
    assert "Over the cap</span>" in html


# --- sampling: at least k per stratum ------------------------------------------------------------


@given(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=40), st.integers(0, 4), st.data())
def test_min_per_stratum_gives_every_stratum_its_share(
    groups: list[str], k: int, data: st.DataObject
) -> None:
    claims = [
        Claim(
            claim_id=f"S{i}",
            family_id="F",
            kind="attachment_fee",
            amount=Decimal(1),
            claimed_on=AS_OF,
            window=g,
        )
        for i, g in enumerate(groups)
    ]
    counts = {g: groups.count(g) for g in set(groups)}
    floor = sum(min(k, n) for n in counts.values())
    size = data.draw(st.integers(max(floor, 1), len(claims)))
    drawn = sample(claims, size=size, seed="s", strata=("window",), min_per_stratum=k)
    assert len(drawn.claims) == size
    for g, n in counts.items():
        assert drawn.sizes[g] >= min(k, n)
        assert drawn.sizes[g] <= n
    if k:
        assert f"at least {k} per group" in drawn.method
    if floor > 1:  # a size of 0 is refused on its own: a sample has at least one claim
        with pytest.raises(ValueError, match="too small"):
            sample(claims, size=floor - 1, seed="s", strata=("window",), min_per_stratum=k)
    tiny = "0.001"  # rounds to no claim in any group: only the k per group are drawn
    if not k:
        with pytest.raises(ValueError, match="draws no claim"):
            sample(claims, fraction=tiny, seed="s", strata=("window",))
        return
    by_fraction = sample(claims, fraction=tiny, seed="s", strata=("window",), min_per_stratum=k)
    assert by_fraction.sizes == {g: min(k, n) for g, n in counts.items()}


def test_cli_min_per_stratum(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["audit", str(EXAMPLES / "claims.csv"), "--families", FAMILY_FILES[0]]
    args += ["--families", FAMILY_FILES[1], "--as-of", "2015-03-31", "--seed", "2015"]
    _, out, _ = run(capsys, *args, "--sample", "5", "--min-per-stratum", "1")
    drawn = out.split("sample: ")[1].split()
    kinds = {c.claim_id: c.kind for c in read_claims(EXAMPLES / "claims.csv")[0]}
    assert len(drawn) == 5
    assert {kinds[d] for d in drawn} == set(kinds.values())  # all five kinds
    status, out, err = run(capsys, *args, "--sample", "3", "--min-per-stratum", "1")
    assert status == 2
    assert out == ""  # refused before any work
    assert err.startswith(
        "pbr: --sample 3 is too small for --min-per-stratum 1 over 5 strata: it must be at least 5"
    )


# --- refused before any work ---------------------------------------------------------------------


def test_report_problems_fail_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["audit", str(EXAMPLES / "claims.csv"), "--families", FAMILY_FILES[0]]
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # the xlsx extra is not installed
    for report, why in (
        (tmp_path / "r.xlsx", 'XLSX needs openpyxl: pip install "pbr-claims[xlsx]"'),
        (tmp_path / "r.txt", "a report ends in .html, .md, .csv or .xlsx"),
        (tmp_path / "no" / "r.csv", "does not exist"),
        (tmp_path, "a report ends in"),
    ):
        status, out, err = run(capsys, *args, "--report", str(report))
        assert status == 2
        assert out == ""
        assert err.startswith("pbr: ")
        assert why in err
        assert err.count("\n") == 1
    status, out, err = run(
        capsys,
        "evaluate",
        FAMILY_FILES[0],
        "--as-of",
        "2015-03-31",
        "--output",
        str(tmp_path / "d.xlsx"),
    )
    assert (status, out) == (2, "")
    assert 'XLSX needs openpyxl: pip install "pbr-claims[xlsx]"' in err


# --- replay --------------------------------------------------------------------------------------


def test_replay_exits_1_when_anything_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "evaluate", FAMILY_FILES[0], "--as-of", "2015-03-31", "--format", "json"
    )
    (tmp_path / "d.jsonl").write_text(out)
    ledger = Ledger(tmp_path / "later.db")  # paid after the decisions' date: same output
    ledger.append([Entry("EX-010", "attachment_fee", Decimal(1), date(2016, 1, 1), "Z", "v")])
    status, out, _ = run(
        capsys,
        "replay",
        str(tmp_path / "d.jsonl"),
        "--families",
        FAMILY_FILES[0],
        "--ledger",
        str(tmp_path / "later.db"),
    )
    assert status == 1
    assert "EX-010: identical (though input changed)" in out
    assert out.endswith(
        "replayed 60: 59 identical, 0 different, 1 with the same output but a changed library, "
        "rules or input\n"
    )
    status, _, err = run(
        capsys, "replay", str(tmp_path / "none.jsonl"), "--families", FAMILY_FILES[0]
    )
    assert status == 2
    assert err.startswith(f"pbr: cannot read {tmp_path / 'none.jsonl'}")


# --- the HTML report in a real browser -----------------------------------------------------------

HOSTILE_IDS = [
    "<script>document.title='pwned'</script>",
    '"><img src=x onerror="document.title=\'pwned\'">',
    '=HYPERLINK("http://evil.example","x")',
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless Chromium here (apt-get install chromium)")


@pytest.mark.slow
def test_the_html_report_in_headless_chromium(tmp_path: Path) -> None:
    browser = chromium()
    rows = ["claim_id,family_id,kind,amount,claimed_on,window"]
    for i, hostile in enumerate(HOSTILE_IDS):
        rows.append(
            f'"{hostile.replace(chr(34), chr(34) * 2)}",EX-010,attachment_fee,1.00,2015-03-31,'
        )
        rows.append(
            f'H{i},EX-999,crime_asb_education,700.00,2015-03-31,"{hostile.replace(chr(34), chr(34) * 2)}"'
        )
    (tmp_path / "claims.csv").write_text("\n".join(rows) + "\n")
    claims, malformed = read_claims(tmp_path / "claims.csv")
    assert len(claims) == 6
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    page = write_report(result, tmp_path / "r.html", sample=sample(claims, size=2, seed=1))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    flags += ["--disable-background-networking", "--window-size=1280,1800"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "<title>Claim audit</title>" in dom  # no script ran to change it
    assert "<script" not in dom  # the hostile text is text, not elements
    assert "<img" not in dom
    assert dom.count("&lt;script&gt;") >= 2
    assert "Reconciliation" in dom
    assert "Missed attachment fees" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a page was drawn, not a blank one


def test_the_csv_report_reads_back_as_written(tmp_path: Path) -> None:
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    rows = list(csv.DictReader(io.StringIO(write_report(result, tmp_path / "r.csv").read_text())))
    for row in rows:
        amount = Decimal(row["amount"] or "0")
        assert amount == Decimal(row["verified"]) + Decimal(row["over_claimed"]) + Decimal(
            row["unverified"] or "0"
        )


def test_the_csv_report_of_a_spot_check_sample_records_the_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CSV had nothing of the sample (the docs say every format has it): byte for byte the
    report without one. It gains the claims' places in the sample and the seed and method."""
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    drawn = sample(claims, size=5, seed=2015)
    plain = write_report(result, tmp_path / "plain.csv").read_text()
    text = write_report(result, tmp_path / "sample.csv", sample=drawn).read_text()
    assert text != plain
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [*plain.splitlines()[0].split(","), "sample_order"]
    in_order = sorted((int(r["sample_order"]), r["claim_id"]) for r in rows if r["sample_order"])
    assert [claim_id for _, claim_id in in_order] == [c.claim_id for c in drawn.claims]
    assert [n for n, _ in in_order] == [1, 2, 3, 4, 5]
    last = rows[-1]
    assert (last["status"], last["rule"], last["claim_id"]) == ("sample", "audit.sample", "")
    assert last["why"] == (
        f"spot-check sample of 5 claims, seed 2015: Method: {drawn.method}. Drawn per group: "
        + ", ".join(f"{k} {n}" for k, n in drawn.sizes.items())
        + ". Sampled, in order: "
        + " ".join(c.claim_id for c in drawn.claims)
    )
    without = [{k: v for k, v in r.items() if k != "sample_order"} for r in rows[:-1]]
    assert without == list(csv.DictReader(io.StringIO(plain)))  # else the same report
    # pbr ledger record reads it, the re-check too: the sample is no claim
    paid = date(2015, 5, 15)
    assert payments_from_report(tmp_path / "sample.csv", paid_on=paid, recheck=result) == (
        payments_from_report(tmp_path / "plain.csv", paid_on=paid)
    )
    audit = ["audit", str(EXAMPLES / "claims.csv"), "--families", FAMILY_FILES[0]]
    report = str(tmp_path / "s.csv")
    status, _, _ = run(capsys, *audit, "--sample", "5", "--seed", "2015", "--report", report)
    assert status == 1
    db = str(tmp_path / "l.db")
    status, out, _ = run(
        capsys,
        "ledger",
        "record",
        report,
        db,
        "--paid-on",
        "2015-05-15",
        "--claims",
        str(EXAMPLES / "claims.csv"),
        "--families",
        FAMILY_FILES[0],
    )
    assert (status, out.split(" from ")[0]) == (0, "recorded 4 payments")


@pytest.mark.parametrize("suffix", [".html", ".md"])
def test_an_input_files_control_characters_are_escaped_in_the_report(
    tmp_path: Path, suffix: str
) -> None:
    """An input named with ESC, TAB or a newline broke the report's "Input" line, raw."""
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families(), as_of=AS_OF, rejections=malformed)
    source = tmp_path / "x\x1b[31m\x01\tnl\nname.csv"
    shutil.copyfile(EXAMPLES / "claims.csv", source)
    text = write_report(result, tmp_path / f"r{suffix}", sources=[source]).read_text()
    assert not any(c in text for c in "\x1b\x01\t")
    line = next(line for line in text.splitlines() if "Input" in line)
    assert "sha256" in line
    assert "x\\x1b[31m\\x01\\tnl\\nname.csv" in line.replace("\\\\", "\\").replace("\\[", "[")
