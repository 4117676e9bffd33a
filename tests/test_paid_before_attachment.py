"""A results payment listed as paid before the family's attachment is warned of.

No result is paid for a family before it is attached, so such a payment is a data error (a wrong
date, or another family's payment): `RESULTS_PAID_BEFORE_ATTACHMENT`, in every programme. The
decision is otherwise unchanged: the result still counts as paid (paying it again would be
worse). An attachment fee before attachment is no error (phase one paid its fees up front).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.cli import main
from pbr.decisions import Decision, decision_json
from pbr.explain import explain

CODE = "RESULTS_PAID_BEFORE_ATTACHMENT"

ATTACHED = {
    "tf-phase-1": date(2012, 10, 15),
    "tf-phase-2": date(2016, 1, 15),
    "supporting-families": date(2022, 1, 15),
}
AS_OF = {
    "tf-phase-1": date(2013, 6, 30),
    "tf-phase-2": date(2016, 6, 1),
    "supporting-families": date(2022, 6, 1),
}
SOURCE = {
    "tf-phase-1": "P1-SPEC",
    "tf-phase-2": "PBR-READING",
    "supporting-families": "PBR-READING",
}
PROGRAMMES = list(ATTACHED)


def record(programme: str, payments: list[dict[str, str]]) -> dict[str, Any]:
    """A valid record of `programme` listing `payments`."""
    base: dict[str, Any] = {
        "family_id": "B1",
        "programme": programme,
        "attached_on": ATTACHED[programme].isoformat(),
        "members": [
            {"person_id": "A1", "date_of_birth": "1980-01-01"},
            {"person_id": "C1", "date_of_birth": "2010-03-01"},
        ],
        "payments": payments,
    }
    if programme == "tf-phase-1":
        base["identified_for"] = ["crime_asb", "education", "work"]
    elif programme == "tf-phase-2":
        base["problems_at_entry"] = [{"problem": "domestic_abuse"}, {"problem": "health"}]
    else:
        base["problems_at_entry"] = [{"problem": p} for p in ("health", "housing", "crime")]
    return base


def employment(on: date, claim_id: str = "C-1") -> dict[str, str]:
    """A continuous employment payment of £800 (every programme has the result) paid `on`."""
    return {
        "kind": "continuous_employment",
        "amount": "800.00",
        "paid_on": on.isoformat(),
        "claim_id": claim_id,
    }


def evaluate(programme: str, payments: list[dict[str, str]]) -> Decision:
    family = pbr.Family.model_validate(record(programme, payments))
    return pbr.evaluate(family, as_of=AS_OF[programme])


def warned(d: Decision) -> list[pbr.Reason]:
    return [w for w in d.warnings if w.code == CODE]


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_a_results_payment_the_day_before_attachment_is_warned(programme: str) -> None:
    attached = ATTACHED[programme]
    early = attached - timedelta(days=1)
    d = evaluate(programme, [employment(early)])
    (w,) = warned(d)
    assert w.rule == "payment.after_attachment"
    assert w.source == SOURCE[programme]
    assert w.message == (
        f"continuous_employment 800.00 (claim C-1) is listed as paid on {early}, before the "
        f"family was attached on {attached}: no result is paid before attachment; check the "
        "payment's date and family"
    )
    assert dict(w.compared) == {
        "kind": "continuous_employment",
        "claim_id": "C-1",
        "paid_on": early.isoformat(),
        "attached_on": attached.isoformat(),
        "amount": "800.00",
    }
    # still counted as paid: paying it again would be worse
    assert d.results["continuous_employment"].status == "already_paid"
    assert d.paid_to_date == 800
    # the boundary: paid on the attachment day is no error
    assert warned(evaluate(programme, [employment(attached)])) == []


def test_the_example_from_the_report_is_warned_with_no_claim_id_named_as_none() -> None:
    """Phase one, attached 2012-10-15, continuous employment paid 2012-05-01 (no claim id)."""
    paid = {"kind": "continuous_employment", "amount": "800.00", "paid_on": "2012-05-01"}
    d = evaluate("tf-phase-1", [paid])
    (w,) = warned(d)
    assert w.message.startswith("continuous_employment 800.00 (no claim id) is listed as paid on")
    assert w.compared["claim_id"] is None


@pytest.mark.parametrize("programme", ["tf-phase-1", "tf-phase-2"])
def test_an_attachment_fee_paid_before_attachment_is_not_warned(programme: str) -> None:
    """Phase one paid its fees up front: of a fee and a result paid the day before attachment,
    only the result is warned of (Supporting Families pays no fee: listing one is refused)."""
    early = ATTACHED[programme] - timedelta(days=1)
    fee = {"kind": "attachment_fee", "amount": "1000.00", "paid_on": early.isoformat()}
    d = evaluate(programme, [fee, employment(early)])
    assert d.paid_to_date == Decimal("1800.00")
    assert [w.compared["kind"] for w in warned(d)] == ["continuous_employment"]


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_results_paid_at_nought_or_undated_are_not_warned(programme: str) -> None:
    """£0 is no payment made; an undated payment has no date to compare: of the three, only
    the dated payment of £800 is warned of."""
    early = ATTACHED[programme] - timedelta(days=1)
    nought = {**employment(early, "C-0"), "amount": "0.00"}
    undated = {"kind": "sustained_progress", "amount": "800.00", "claim_id": "C-2"}
    if programme == "tf-phase-1":
        undated["kind"] = "progress_to_work"
    d = evaluate(programme, [nought, undated, employment(early)])
    assert [w.compared["claim_id"] for w in warned(d)] == ["C-1"]


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_the_decision_is_otherwise_that_of_the_payment_made_on_attachment_day(
    programme: str,
) -> None:
    """Only the warning is added: the same record with the payment dated on the attachment day
    gives the same decision, byte for byte, once the payment's date (and so the record's hash)
    is set aside."""
    attached = ATTACHED[programme]
    early = attached - timedelta(days=1)
    before = evaluate(programme, [employment(early)])
    on_day = evaluate(programme, [employment(attached)])
    (w,) = warned(before)
    kept = tuple(x for x in before.warnings if x is not w)
    assert kept == tuple(on_day.warnings)
    without = before.model_copy(update={"warnings": kept})
    # the result's ALREADY_PAID reason names the payment's own date: set it to the other's
    assert early.isoformat() not in decision_json(on_day).decode()
    assert before.provenance is not None
    assert on_day.provenance is not None
    text = decision_json(without).decode().replace(early.isoformat(), attached.isoformat())
    text = text.replace(before.provenance.input_hash, on_day.provenance.input_hash)
    assert text == decision_json(on_day).decode()


def test_explain_shows_the_warning_as_it_shows_others() -> None:
    d = evaluate("tf-phase-1", [employment(date(2012, 5, 1))])
    said = explain(d)
    warnings = said.split("Warnings\n--------\n", 1)[1]
    assert (
        "  - [RESULTS_PAID_BEFORE_ATTACHMENT] continuous_employment 800.00 (claim C-1) is listed "
        "as paid on 2012-05-01, before the family was attached on 2012-10-15"
    ) in warnings
    assert "  rule payment.after_attachment; source P1-SPEC" in warnings
    assert (
        "  compared: kind=continuous_employment, claim_id=C-1, paid_on=2012-05-01, "
        "attached_on=2012-10-15, amount=800.00"
    ) in warnings


def _write(tmp_path: Path, on: date) -> str:
    path = tmp_path / f"families-{on}.jsonl"
    path.write_text(json.dumps(record("tf-phase-1", [employment(on)])) + "\n", encoding="utf-8")
    return str(path)


def test_pbr_evaluate_writes_the_warning_where_it_writes_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CSV's `warnings` column and JSON's `warnings` carry it; the table's summary counts it,
    and is otherwise that of the payment made on attachment day."""
    early = _write(tmp_path, date(2012, 5, 1))
    args = ["evaluate", "--as-of", "2013-06-30"]
    assert main([*args, "--format", "csv", early]) == 0
    rows = capsys.readouterr().out.splitlines()
    header = rows[0].split(",")
    column = header.index("warnings")
    assert all(CODE in row.split(",")[column].split() for row in rows[1:4])
    assert main([*args, "--format", "json", early]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    codes = [w["code"] for w in json.loads(line)["warnings"]]
    assert CODE in codes
    assert main([*args, early]) == 0
    table = capsys.readouterr()
    on_day = _write(tmp_path, date(2012, 10, 15))
    assert main([*args, on_day]) == 0
    same = capsys.readouterr()
    warned = [line for line in table.out.splitlines() if CODE in line]
    assert [line.split() for line in warned] == [[CODE, "1", "family"]]  # the summary says it
    shown = [line for line in table.out.replace(early, on_day).splitlines() if CODE not in line]
    assert shown == same.out.splitlines()  # and nothing else differs
    assert table.err.replace(early, on_day) == same.err


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_a_ledger_result_paid_before_attachment_is_warned_as_the_record_s_is(
    programme: str, tmp_path: Path
) -> None:
    """The ledger's payments are payments made (`evaluate --help`): one dated before attachment
    is the same data error as the record's, not a reason to drop the family."""
    from pbr.ledger import Entry, Ledger

    early = ATTACHED[programme] - timedelta(days=1)
    Ledger(tmp_path / "l.db").append(
        [Entry("B1", "continuous_employment", Decimal("800.00"), early, "C-1", f"{programme}/1.0")]
    )
    family = pbr.Family.model_validate(record(programme, []))
    d = pbr.evaluate(family, as_of=AS_OF[programme], ledger=tmp_path / "l.db")
    assert d == evaluate(programme, [employment(early)])
    (w,) = warned(d)
    assert w.compared["claim_id"] == "C-1"
