"""One payment history: record payments and ledger entries merged once, by every entry point."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pbr
from pbr.cli import main
from pbr.history import HistoryError, PaymentConflict, PaymentHistory, merge_payments
from pbr.ledger import Entry, Ledger, LedgerError
from pbr.money import round_to_penny, round_to_pound
from pbr.records import Payment

from .builders import record

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = date(2013, 7, 31)


def with_payment(**payment: object) -> pbr.Family:
    """A family whose crime/ASB/education result is met on AS_OF, with one recorded payment."""
    return pbr.Family.model_validate(
        record(payments=[{"kind": "crime_asb_education", "amount": "700", **payment}])
    )


def ledger_with(path: Path, *entries: Entry) -> Ledger:
    ledger = Ledger(path)
    ledger.append(entries)
    return ledger


def crime(claim_id: str = "C-1", amount: str = "700.00", on: date = date(2013, 5, 1)) -> Entry:
    return Entry("T1", "crime_asb_education", Decimal(amount), on, claim_id, "tf-phase-1/1.0")


def test_a_payment_in_the_record_and_the_ledger_counts_once(tmp_path: Path) -> None:
    family = with_payment(claim_id="C-1", paid_on="2013-05-01")
    ledger = ledger_with(tmp_path / "l.db", crime())
    decision = pbr.evaluate(family, as_of=AS_OF, ledger=ledger)
    assert decision.paid_to_date == Decimal("700.00")  # it was 1,400.00: counted twice
    assert len(merge_payments(family, ledger).payments) == 1
    both = pbr.evaluate(family, as_of=AS_OF, ledger=PaymentHistory.load(ledger))
    assert both == decision


def test_a_date_the_record_lacks_is_taken_from_the_ledger(tmp_path: Path) -> None:
    family = with_payment(claim_id="C-1")
    merged = merge_payments(family, ledger_with(tmp_path / "l.db", crime()))
    assert [(p.claim_id, p.paid_on) for p in merged.payments] == [("C-1", date(2013, 5, 1))]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (crime(amount="1500.00"), "amount"),
        (crime(on=date(2013, 6, 1)), "paid_on"),
        (Entry("T1", "progress_to_work", Decimal(700), date(2013, 5, 1), "C-1", "v"), "kind"),
    ],
)
def test_a_disagreement_is_a_conflict_naming_family_claim_and_values(
    tmp_path: Path, entry: Entry, field: str
) -> None:
    family = with_payment(claim_id="C-1", paid_on="2013-05-01")
    ledger = ledger_with(tmp_path / "l.db", entry)
    with pytest.raises(PaymentConflict, match=f"family 'T1': payment 'C-1': {field} is ") as err:
        merge_payments(family, ledger)
    assert str(tmp_path / "l.db") in str(err.value)
    assert err.value.field == field


def test_payments_without_claim_ids_are_kept_and_others_added(tmp_path: Path) -> None:
    family = with_payment(paid_on="2013-05-01")  # no claim id: cannot be matched
    fee = Entry("T1", "attachment_fee", Decimal(3200), date(2012, 11, 1), "F-1", "v")
    merged = merge_payments(family, ledger_with(tmp_path / "l.db", fee))
    assert [p.kind for p in merged.payments] == ["crime_asb_education", "attachment_fee"]
    assert merge_payments(family, None) is family
    assert merge_payments(family, {"OTHER": [fee]}) is family


def test_evaluate_many_merges_and_rejects_a_family_in_conflict(tmp_path: Path) -> None:
    good = with_payment(claim_id="C-1", paid_on="2013-05-01")
    other = pbr.Family.model_validate(record(family_id="T2"))
    ledger_with(
        tmp_path / "l.db",
        crime(),
        Entry("T2", "crime_asb_education", Decimal(700), date(2013, 5, 1), "C-2", "v"),
    )
    bad = pbr.Family.model_validate(
        record(
            family_id="T2",
            payments=[{"kind": "crime_asb_education", "amount": "100", "claim_id": "C-2"}],
        )
    )
    rows: list[pbr.batch.Item] = [good, other, bad.model_dump_json()]
    for workers in (1, 2):
        out = list(pbr.evaluate_many(rows, as_of=AS_OF, workers=workers, ledger=tmp_path / "l.db"))
        assert isinstance(out[0], pbr.Decision)
        assert out[0].paid_to_date == Decimal("700.00")
        assert isinstance(out[1], pbr.Decision)
        assert out[1].results["crime_asb_education"].status == "already_paid"
        assert isinstance(out[2], pbr.Rejection)
        assert out[2].errors[0].type == "payment_history"
        assert "amount is 100.00 in the family record but 700.00" in out[2].errors[0].message


def test_a_broken_ledger_is_refused_everywhere(tmp_path: Path) -> None:
    import sqlite3

    ledger_with(tmp_path / "l.db", crime())
    with sqlite3.connect(tmp_path / "l.db") as db:
        db.execute("UPDATE entries SET amount = '3199.995'")
    family = with_payment(claim_id="C-1")
    with pytest.raises(LedgerError, match=r"broken at entry 1: entry 1: amount '3199\.995'"):
        pbr.evaluate(family, as_of=AS_OF, ledger=tmp_path / "l.db")
    with pytest.raises(LedgerError, match="broken"):
        list(pbr.evaluate_many([family], as_of=AS_OF, ledger=tmp_path / "l.db"))
    with pytest.raises(LedgerError, match="broken"):
        pbr.audit.verify([], [family], history=Ledger(tmp_path / "l.db"))


def test_history_payments_are_validated_again() -> None:
    with pytest.raises(HistoryError, match="family 'T1': payment 'X' in payments given: amount"):
        PaymentHistory.of({"T1": [{"kind": "attachment_fee", "amount": "1.001", "claim_id": "X"}]})
    with pytest.raises(PaymentConflict, match="payment 'X': family is 'T1'"):
        PaymentHistory.of(
            {
                "T1": [Payment(kind="attachment_fee", amount=Decimal(1), claim_id="X")],
                "T2": [Payment(kind="attachment_fee", amount=Decimal(1), claim_id="X")],
            }
        )
    twice = Payment(kind="attachment_fee", amount=Decimal(1), claim_id="X")
    assert len(PaymentHistory.of({"T1": [twice, twice]})) == 1
    with pytest.raises(TypeError, match="a payment without a family"):
        PaymentHistory.of([twice])


def test_cli_evaluate_reports_a_conflict_as_a_rejection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f.jsonl").write_text(
        json.dumps(
            record(payments=[{"kind": "crime_asb_education", "amount": "100", "claim_id": "C-1"}])
        )
        + "\n"
        + json.dumps(record(family_id="T2"))
        + "\n"
    )
    ledger_with(tmp_path / "l.db", crime())
    for fmt in ("json", "table"):
        status = main(
            [
                "evaluate",
                str(tmp_path / "f.jsonl"),
                "--as-of",
                "2013-07-31",
                "--format",
                fmt,
                "--ledger",
                str(tmp_path / "l.db"),
            ]
        )
        out, err = capsys.readouterr()
        assert status == 1
        assert "f.jsonl:1 (record 1), family 'T1': payments = \"C-1\"" in err
        assert "amount is 100.00 in the family record but 700.00 in ledger" in err
        assert "families rejected:  1" in out + err


# --- rounding never depends on the caller's decimal context --------------------------------------


def test_round_to_penny_is_exact_under_any_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 7  # Decimal arithmetic would round 12.3449995 to 12.34500 first
        assert round_to_penny(Decimal("12.3449995")) == Decimal("12.34")
        assert round_to_penny(Fraction(123449995, 10**7)) == Decimal("12.34")
        assert round_to_pound(Decimal("1234567.5")) == Decimal("1234568.00")
        assert pbr.money.money("123456789.12") == Decimal("123456789.12")


@given(
    st.fractions(min_value=-(10**9), max_value=10**9, max_denominator=10**6),
    st.integers(1, 40),
    st.sampled_from(["ROUND_DOWN", "ROUND_HALF_EVEN", "ROUND_CEILING"]),
)
def test_rounding_is_half_up_whatever_the_context(value: Fraction, prec: int, mode: str) -> None:
    import decimal

    pence = value * 100
    whole = abs(pence.numerator) // pence.denominator
    if 2 * (abs(pence.numerator) % pence.denominator) >= pence.denominator:
        whole += 1
    expected = Decimal(whole if value >= 0 else -whole).scaleb(-2, decimal.Context(prec=60))
    with localcontext() as ctx:
        ctx.prec = prec
        ctx.rounding = getattr(decimal, mode)
        got = round_to_penny(value)
    assert got == expected
    assert got.as_tuple().exponent == -2


def test_a_result_the_history_pays_again_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.history import PaidTwice

    family = with_payment(claim_id="C-1", paid_on="2013-05-01")
    with pytest.raises(PaidTwice, match=r"payment 'L-2': crime_asb_education is already paid by "):
        merge_payments(family, ledger_with(tmp_path / "a.db", crime("L-2")))
    history = PaymentHistory.of({"T1": [crime("L-1").payment(), crime("L-2").payment()]})
    bare = pbr.Family.model_validate(record())
    with pytest.raises(PaidTwice, match=r"by claim 'L-1' in payments given"):
        merge_payments(bare, history)  # a ledger written before it refused this itself
    fee = Entry("T1", "attachment_fee", Decimal("100.00"), date(2013, 1, 1), "F-2", "v")
    assert len(merge_payments(family, ledger_with(tmp_path / "b.db", fee)).payments) == 2
    twice = pbr.Family.model_validate(
        record(
            payments=[{"kind": "crime_asb_education", "amount": "700", "claim_id": c} for c in "AB"]
        )
    )
    assert (
        merge_payments(twice, ledger_with(tmp_path / "c.db", fee)) is not twice
    )  # the record's own
    families = tmp_path / "f.jsonl"
    families.write_text(family.model_dump_json() + "\n")
    ledger_with(tmp_path / "d.db", crime("L-2"))
    status = main(
        ["evaluate", str(families), "--as-of", "2013-07-31", "--ledger", str(tmp_path / "d.db")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "payments" in err
    assert "already paid by claim 'C-1' in the family record" in err


def test_evaluate_notes_ledger_families_the_input_never_gave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    families = tmp_path / "f.jsonl"
    families.write_text(pbr.Family.model_validate(record()).model_dump_json() + "\n")
    others = [
        Entry(f"GONE-{i}", "attachment_fee", Decimal("1.00"), date(2013, 1, 1), f"G{i}", "v")
        for i in range(7)
    ]
    ledger_with(tmp_path / "l.db", crime("L-1"), *others)
    argv = ["evaluate", str(families), "--as-of", "2013-07-31", "--format", "json"]
    status = main([*argv, "--ledger", str(tmp_path / "l.db")])
    err = capsys.readouterr().err
    assert status == 0, err
    assert (
        f"note: the ledger pays 7 families not in {families} (GONE-0, GONE-1, GONE-2, GONE-3, "
        "GONE-4 and 2 more): their payments were not used" in err
    )
    ledger_with(tmp_path / "m.db", crime("L-1"))
    assert main([*argv, "--ledger", str(tmp_path / "m.db")]) == 0
    assert "note:" not in capsys.readouterr().err


def test_a_ledger_result_paid_before_the_attachment_counts_as_a_record_s_does(
    tmp_path: Path,
) -> None:
    """A result dated before attachment is warned of and counts as paid when the record lists
    it (docs/family-record.md); from the ledger it got the whole family rejected."""
    family = pbr.Family.model_validate(record())
    day = date.fromordinal(family.attached_on.toordinal() - 1)  # the day before
    early = crime("EARLY", on=day)
    merged = merge_payments(family, ledger_with(tmp_path / "a.db", early))
    listed = family.model_copy(update={"payments": (early.payment(),)})
    assert merged.payments == listed.payments
    decision = pbr.evaluate(family, as_of=AS_OF, ledger=tmp_path / "a.db")
    assert decision == pbr.evaluate(listed, as_of=AS_OF)
    assert "RESULTS_PAID_BEFORE_ATTACHMENT" in [w.code for w in decision.warnings]
    assert decision.paid_to_date == Decimal("700.00")


def test_a_ledger_fee_paid_up_front_counts_as_a_record_s_does(tmp_path: Path) -> None:
    """Phase one's fees were claimed up front (tf-rules §1, S2): a fee the ledger dates before
    the family's attachment got the family rejected, while the same fee in its record counted."""
    family = pbr.Family.model_validate(record())
    day = date.fromordinal(family.attached_on.toordinal() - 17)
    fee = Entry("T1", "attachment_fee", Decimal("3200.00"), day, "F1", "tf-phase-1/1.0")
    merged = merge_payments(family, ledger_with(tmp_path / "a.db", fee))
    listed = family.model_copy(
        update={"payments": (pbr.records.Payment(kind="attachment_fee", amount=Decimal("3200.00"),
                                                 paid_on=day, claim_id="F1"),)}
    )  # fmt: skip
    assert merged.payments == listed.payments
    assert pbr.evaluate(merged, as_of=AS_OF) == pbr.evaluate(listed, as_of=AS_OF)


def test_a_record_paid_a_result_twice_or_over_the_cap_says_so() -> None:
    def paid(*payments: tuple[str, str, str]) -> pbr.Decision:
        rows = [{"kind": k, "amount": a, "claim_id": c} for k, a, c in payments]
        return pbr.evaluate(pbr.Family.model_validate(record(payments=rows)), as_of=AS_OF)

    def codes(decision: pbr.Decision) -> list[str]:
        return [w.code for w in decision.warnings if w.rule.startswith("payment.")]

    fee = ("attachment_fee", "3200", "F-1")
    assert codes(paid(fee, ("crime_asb_education", "700", "C-1"))) == []
    twice = paid(fee, ("crime_asb_education", "700", "C-1"), ("crime_asb_education", "700", "C-2"))
    assert codes(twice) == ["RESULT_PAID_MORE_THAN_ONCE", "PAID_OVER_CAP"]
    first, over = (w for w in twice.warnings if w.rule.startswith("payment."))
    assert (first.rule, first.compared) == (
        "payment.once",
        {
            "kind": "crime_asb_education",
            "first_claim": "C-1",
            "first_paid_on": None,
            "again_claim": "C-2",
            "again_paid_on": None,
        },
    )
    assert over.compared == {
        "paid_to_date": "4600.00",
        "cap": "4000.00",
        "attachment_fee_counted": "3200.00",
        "results_paid": "1400.00",
        "over_cap": "600.00",
    }
    assert twice.payable == Decimal("0.00")  # nothing more is paid, whatever was
    assert codes(paid(fee, ("attachment_fee", "100", "F-2"))) == []  # a fee paid in parts
    assert codes(paid(("attachment_fee", "4100", "F-1"))) == ["PAID_OVER_CAP"]


def test_a_history_keeps_the_claim_date_a_payment_is_given_with() -> None:
    paid = {"F1": [{"kind": "attachment_fee", "amount": "3200", "claim_id": "C-1",
                     "paid_on": "2013-01-01", "claimed_on": "2012-12-01"}]}  # fmt: skip
    history = PaymentHistory.of(paid)
    assert history.claimed_on == {"C-1": date(2012, 12, 1)}
    assert history.payments("F1")[0].claim_id == "C-1"  # a payment, its claim date apart
    with pytest.raises(HistoryError, match="claimed_on = '1 Dec 2012': not a date"):
        PaymentHistory.of({"F1": [{**paid["F1"][0], "claimed_on": "1 Dec 2012"}]})
    with pytest.raises(HistoryError, match="claimed_on = '2012-W48-6': not a date"):
        PaymentHistory.of({"F1": [{**paid["F1"][0], "claimed_on": "2012-W48-6"}]})  # 12-01


# A ledger entry its family's programme could not have paid: the entry is to blame, not the record

PHASE_TWO = {
    "family_id": "BOTH",
    "programme": "tf-phase-2",
    "members": [{"person_id": "A1", "date_of_birth": "1984-05-01"}],
    "problems_at_entry": [{"problem": "work"}, {"problem": "health"}],
}


def old_ledger(path: Path, monkeypatch: pytest.MonkeyPatch, *entries: Entry) -> Path:
    """A ledger as an earlier pbr wrote it: no check of an entry against its programme (its kind,
    its date)."""
    with monkeypatch.context() as patched:
        patched.setattr(Entry, "check", lambda self: None)
        ledger_with(path, *entries)
    return path


def phase_two_file(tmp_path: Path, attached_on: str) -> Path:
    path = tmp_path / "both.jsonl"
    path.write_text(json.dumps({**PHASE_TWO, "attached_on": attached_on}) + "\n")
    return path


def test_a_ledger_kind_the_programme_does_not_pay_names_the_entry_not_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The record lists no payment: telling its user to correct it (payments.0.kind) was
    impossible advice, and the ledger is append-only."""
    on = date(2016, 5, 1)
    entry = Entry("BOTH", "crime_asb_education", Decimal("700.00"), on, "C4", "tf-phase-2/1.0")
    db = old_ledger(tmp_path / "l.db", monkeypatch, entry)
    families = phase_two_file(tmp_path, "2016-01-04")
    family = pbr.Family.model_validate({**PHASE_TWO, "attached_on": "2016-01-04"})
    with pytest.raises(HistoryError, match=r"payment 'C4' in ledger .*l\.db.*crime_asb_education"):
        pbr.evaluate(family, as_of=date(2020, 1, 1), ledger=db)
    status, _, err = run_cli(capsys, "evaluate", str(families), "--as-of", "2020-01-01",
                             "--ledger", str(db))  # fmt: skip
    assert status == 2
    assert "payment 'C4' in ledger " in err
    assert "crime_asb_education: not a payment of tf-phase-2" in err
    assert "correct the record" not in err
    assert "Traceback" not in err


def test_a_ledger_fee_under_stopped_fees_names_the_entry_not_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on = date(2018, 5, 1)
    fee = Entry("BOTH", "attachment_fee", Decimal("1000.00"), on, "FEE-1", "tf-phase-2/1.0")
    db = tmp_path / "l.db"
    ledger_with(db, fee)
    families = phase_two_file(tmp_path, "2018-04-01")
    status, _, err = run_cli(capsys, "evaluate", str(families), "--as-of", "2020-01-01",
                             "--ledger", str(db), "--interpretation",
                             "attachment_fees_after_2017_18=stopped")  # fmt: skip
    assert status == 2
    assert "payment 'FEE-1' in ledger " in err
    assert "attachment_fees_after_2017_18 = stopped" in err
    assert "correct the record" not in err
    status, _, err = run_cli(capsys, "evaluate", str(families), "--as-of", "2020-01-01",
                             "--ledger", str(db))  # fmt: skip
    assert status == 0, err  # the default reading pays the fee


# A ledger entry made under another programme's rules: the family's one claim is not silently
# taken by it

P6_ZERO = {
    "family_id": "P6-zero",
    "programme": "tf-phase-2",
    "attached_on": "2016-01-04",
    "members": [{"person_id": "A1", "date_of_birth": "1984-05-01"},
                {"person_id": "C1", "date_of_birth": "2010-02-01"}],
    "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
    "payments": [{"kind": "sustained_progress", "amount": "0", "paid_on": "2016-05-01"}],
}  # fmt: skip
"""A phase-two family no result has been paid for."""


def employment(version: str, on: date = date(2016, 6, 1), claim_id: str = "L6") -> Entry:
    return Entry("P6-zero", "continuous_employment", Decimal("800.00"), on, claim_id, version)


def test_cli_evaluate_rejects_a_family_paid_under_another_programme_naming_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An £800 Supporting Families payment dated 2016 took the phase-two family's one claim:
    sustained progress met but £0.00 payable, employment already paid, and nothing said."""
    db = old_ledger(tmp_path / "l.db", monkeypatch, employment("supporting-families/1.0"))
    families = tmp_path / "p2.jsonl"
    other = {**P6_ZERO, "family_id": "P6-other"}
    families.write_text(json.dumps(P6_ZERO) + "\n" + json.dumps(other) + "\n")
    argv = ["evaluate", str(families), "--as-of", "2016-12-31", "--ledger", str(db)]
    status, out, err = run_cli(capsys, *argv, "--format", "json")
    assert status == 1, err
    assert [json.loads(line)["family_id"] for line in out.splitlines()] == ["P6-other"]
    assert (
        "family 'P6-zero': payments = \"supporting-families/1.0\": payment 'L6' in ledger "
    ) in err
    assert (
        "rules_version = 'supporting-families/1.0': a payment of supporting-families, but the "
        "family is judged under tf-phase-2"
    ) in err
    assert "Traceback" not in err
    status, out, err = run_cli(capsys, *argv)  # the table too
    assert status == 1
    assert "payment 'L6' in ledger " in err
    assert "families rejected:  1" in out + err


def test_merge_payments_refuses_a_ledger_payment_under_another_known_programme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbr.history import NotPaidByProgramme

    family = pbr.Family.model_validate(P6_ZERO)
    db = old_ledger(tmp_path / "l.db", monkeypatch, employment("supporting-families/1.0"))
    history = PaymentHistory.load(db)
    assert history.rules_version == {"L6": "supporting-families/1.0"}
    with pytest.raises(NotPaidByProgramme) as err:
        merge_payments(family, history)
    assert (err.value.family_id, err.value.claim_id, err.value.value) == (
        "P6-zero", "L6", "supporting-families/1.0"
    )  # fmt: skip
    assert str(err.value) == (
        f"family 'P6-zero': payment 'L6' in {history.source}: rules_version = "
        "'supporting-families/1.0': a payment of supporting-families, but the family is judged "
        "under tf-phase-2 (tf-phase-2/1.0); the family is not evaluated with it"
    )
    with pytest.raises(NotPaidByProgramme, match=r"= ' TF-PHASE-1/1\.0': a payment of tf-phase-1,"):
        merge_payments(family, [employment(" TF-PHASE-1/1.0", claim_id="L9")])  # as typed
    (rejected,) = pbr.evaluate_many([family], as_of=date(2016, 12, 31), ledger=db)
    assert isinstance(rejected, pbr.Rejection)
    error = rejected.errors[0]
    assert (error.type, error.loc, error.value) == (
        "payment_not_in_programme", "payments", '"supporting-families/1.0"'
    )  # fmt: skip
    claim = pbr.audit.Claim(family_id="P6-zero", kind="sustained_progress", claim_id="C-1",
                            amount=Decimal("800.00"), claimed_on=date(2016, 12, 1))  # fmt: skip
    (check,) = pbr.audit.verify([claim], [family], history=history).checks
    assert [flag.code for flag in check.flags] == ["PAYMENT_HISTORY_CONFLICT"]
    assert "rules_version = 'supporting-families/1.0'" in check.flags[0].message


def test_a_payment_under_the_family_s_programme_or_none_pbr_knows_still_counts(
    tmp_path: Path,
) -> None:
    family = pbr.Family.model_validate(P6_ZERO)
    for n, version in enumerate(["tf-phase-2/1.0", "Tf-Phase-2/2.0", "local-tf2/1", "v1"]):
        merged = merge_payments(family, ledger_with(tmp_path / f"{n}.db", employment(version)))
        assert merged.payments[-1].claim_id == "L6"
    given = {"P6-zero": [employment("supporting-families/1.0").payment()]}  # no rules_version
    assert PaymentHistory.of(given).rules_version == {}
    assert merge_payments(family, given).payments[-1].claim_id == "L6"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err
