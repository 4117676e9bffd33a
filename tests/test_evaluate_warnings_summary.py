"""``pbr evaluate``'s summary counts the families each warning code was raised for.

Money already paid that is to be recovered (``PAID_OVER_CAP``, ``RESULT_PAID_MORE_THAN_ONCE``)
or a payment dated before attachment was said only in each decision's JSON: a council reading
the table or the summary never learnt of it. The summary now has a block of the warning codes
seen, in the vocabulary's order, each with the families warned of it (a family once a code), on
every path a decision takes (ranges of a JSON Lines file, records read one by one, a workbook's
decisions, council tables, a ledger's payments). A run without warnings prints no such block.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.cli import main

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2015-03-31"
HEAD = "  families with warnings (their decisions say why: --format json, or pbr explain):"


def clean(family_id: str = "CLEAN") -> dict[str, Any]:
    """Example family EX-001, which no warning is raised for, under another family_id."""
    first = json.loads((ROOT / "examples" / "families.jsonl").read_text().splitlines()[0])
    return {**first, "family_id": family_id}


def paid(family_id: str, *payments: tuple[str, str, str, str]) -> dict[str, Any]:
    """The clean family with results `payments` (kind, amount, paid_on, claim_id) listed too."""
    base = clean(family_id)
    listed = [{"kind": k, "amount": a, "paid_on": on, "claim_id": c} for k, a, on, c in payments]
    return {**base, "payments": [*base["payments"], *listed]}


OVER_CAP = (("crime_asb_education", "1000.00", "2013-05-01", "C-1"),)
"""The £3,200 fee and £1,000 more: over phase one's £4,000 cap (PAID_OVER_CAP)."""

TWICE = (
    ("crime_asb_education", "400.00", "2013-05-01", "C-1"),
    ("crime_asb_education", "400.00", "2013-06-01", "C-2"),
    ("progress_to_work", "100.00", "2013-05-01", "C-1"),
    ("progress_to_work", "100.00", "2013-06-01", "C-2"),
)
"""Two results each listed as paid twice: RESULT_PAID_MORE_THAN_ONCE twice for one family (and
PAID_OVER_CAP, the fee and £1,000 paid)."""

BEFORE = (("crime_asb_education", "1000.00", "2012-03-01", "C-1"),)
"""A results payment before the attachment (1 April 2012): also over the cap."""


def families() -> list[dict[str, Any]]:
    return [
        clean(),
        paid("OVER-1", *OVER_CAP),
        paid("TWICE", *TWICE),
        paid("OVER-2", *OVER_CAP),
        paid("BEFORE", *BEFORE),
    ]


BLOCK = [
    HEAD,
    "    RESULT_PAID_MORE_THAN_ONCE      1 family",
    "    PAID_OVER_CAP                   4 families",
    "    RESULTS_PAID_BEFORE_ATTACHMENT  1 family",
]


def block(text: str) -> list[str]:
    """The summary's block of warnings in `text` (empty when there is none)."""
    lines = text.splitlines()
    if HEAD not in lines:
        return []
    at = lines.index(HEAD)
    found = [HEAD]
    for line in lines[at + 1 :]:
        if not line.startswith("    "):
            break
        found.append(line)
    return found


def write_lines(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["evaluate", *argv, "--as-of", AS_OF])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_records_raise_the_warnings_counted() -> None:
    """The fixture's premise: each family's own warnings, as its decision gives them."""
    raised = {
        f["family_id"]: [
            w.code
            for w in pbr.evaluate(pbr.Family.model_validate(f), as_of=date(2015, 3, 31)).warnings
        ]
        for f in families()
    }
    assert raised == {
        "CLEAN": [],
        "OVER-1": ["PAID_OVER_CAP"],
        "TWICE": ["RESULT_PAID_MORE_THAN_ONCE", "RESULT_PAID_MORE_THAN_ONCE", "PAID_OVER_CAP"],
        "OVER-2": ["PAID_OVER_CAP"],
        "BEFORE": ["RESULTS_PAID_BEFORE_ATTACHMENT", "PAID_OVER_CAP"],
    }


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_table_says_each_warning_with_its_families(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    path = write_lines(tmp_path / "f.jsonl", families())
    status, out, _ = evaluate(capsys, str(path), "--workers", workers)
    assert status == 0
    assert block(out) == BLOCK
    summary = out[out.index("Summary for") :].splitlines()
    after = summary.index(HEAD)
    assert summary[after - 1].startswith("  payable now, all programmes: ")


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--format", "json", "--output"], "d.jsonl"),
        (["--format", "csv", "--output"], "d.csv"),
        (["--format", "csv"], None),
        (["--format", "json"], None),
        (["--output"], "d.xlsx"),
    ],
)
def test_every_format_says_them_in_the_summary_on_standard_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    workers: str,
    argv: list[str],
    name: str | None,
) -> None:
    path = write_lines(tmp_path / "f.jsonl", families())
    given = [*argv, str(tmp_path / name)] if name else argv
    status, out, err = evaluate(capsys, str(path), "--workers", workers, *given)
    assert status == 0
    assert block(err) == BLOCK
    assert HEAD not in out


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_records_read_one_by_one_say_them_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """A JSON array is not read in ranges: each decision comes back on its own."""
    path = tmp_path / "f.json"
    path.write_text(json.dumps(families()))
    status, out, err = evaluate(capsys, str(path), "--format", fmt)
    assert status == 0
    assert block(out if fmt == "table" else err) == BLOCK


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("suffix", ["jsonl", "json"])
def test_a_repeated_family_is_counted_once_and_its_rejected_record_not_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str, suffix: str
) -> None:
    """OVER-1 again, this time paid before attachment: rejected, so not counted."""
    rows = [*families(), paid("OVER-1", *BEFORE), paid("OVER-3", *OVER_CAP)]
    path = tmp_path / f"f.{suffix}"
    if suffix == "json":
        path.write_text(json.dumps(rows))
    else:
        write_lines(path, rows)
    status, out, err = evaluate(capsys, str(path), "--workers", workers)
    assert status == 1
    assert "OVER-1" in err  # the repeat is rejected
    assert block(out) == [
        HEAD,
        "    RESULT_PAID_MORE_THAN_ONCE      1 family",
        "    PAID_OVER_CAP                   5 families",
        "    RESULTS_PAID_BEFORE_ATTACHMENT  1 family",
    ]


def test_council_tables_say_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pbr.tables import write_tables

    folder = write_tables([pbr.Family.model_validate(f) for f in families()], tmp_path / "t")
    status, out, _ = evaluate(capsys, str(folder))
    assert status == 0
    assert block(out) == BLOCK


def test_a_ledgers_payments_are_warned_of_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ledger pays CLEAN £1,000 more: over its cap, as the record alone is not."""
    from pbr.ledger import Entry, Ledger

    ledger = Ledger(tmp_path / "ledger.db")
    ledger.append(
        [Entry("CLEAN", "crime_asb_education", Decimal("1000.00"), date(2013, 5, 1), "L-1", "v1")]
    )
    path = write_lines(tmp_path / "f.jsonl", families())
    status, out, _ = evaluate(capsys, str(path), "--ledger", str(tmp_path / "ledger.db"))
    assert status == 0
    assert block(out) == [
        HEAD,
        "    RESULT_PAID_MORE_THAN_ONCE      1 family",
        "    PAID_OVER_CAP                   5 families",
        "    RESULTS_PAID_BEFORE_ATTACHMENT  1 family",
    ]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_run_without_warnings_says_nothing_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    path = write_lines(tmp_path / "f.jsonl", [clean("C1"), clean("C2")])
    status, out, err = evaluate(capsys, str(path), "--workers", workers)
    assert status == 0
    assert "families with warnings" not in out + err
    summary = out[out.index("Summary for") :].splitlines()
    assert summary[-1].startswith("  payable now, all programmes: ")


def test_the_example_plans_warning_is_not_said_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """EXAMPLE_PLAN_USED has its own warning, with its count: the block leaves it out."""
    path = ROOT / "examples" / "mixed-programmes.jsonl"
    status, out, err = evaluate(capsys, str(path))
    assert status == 0
    assert "judged against pbr's example outcome plan" in err
    assert "EXAMPLE_PLAN_USED" not in out


def test_a_decision_sent_back_by_a_pool_keeps_its_warnings() -> None:
    """`pbr.batch.Evaluated` crosses from a worker as its parts: the codes are among them."""
    import pickle

    from pbr.batch import Evaluated

    done = Evaluated(
        ("F1", "tf-phase-1", {}, "{}"), "Leeds", Decimal("3200.00"), ("PAID_OVER_CAP",)
    )
    back = pickle.loads(pickle.dumps(done))
    assert (back.local_authority, back.attachment_fee, back.warnings) == (
        "Leeds",
        Decimal("3200.00"),
        ("PAID_OVER_CAP",),
    )
