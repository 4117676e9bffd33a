"""The audit toolkit: one example per flag, reconciliation, missed claims, sampling, reports."""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.audit import AUDIT_FLAGS, Claim, read_claims, sample, verify, write_report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = date(2015, 3, 31)


def families() -> dict[str, pbr.Family]:
    found = {}
    for path in ("families.jsonl", "mixed-programmes.jsonl"):
        for item in pbr.read_records(EXAMPLES / path):
            assert isinstance(item, pbr.Family)
            found[item.family_id] = item
    return found


@pytest.fixture(scope="module")
def result() -> pbr.audit.Verification:
    claims, rejected = read_claims(EXAMPLES / "claims.csv")
    return verify(claims, families(), as_of=AS_OF, rejections=rejected)


def flags_of(result: pbr.audit.Verification, claim_id: str) -> list[str]:
    check = next(c for c in result.checks if c.claim.claim_id == claim_id)
    return [f.code for f in check.flags]


@pytest.mark.parametrize(
    ("claim_id", "flag"),
    [
        ("C-003", "AMOUNT_DIFFERS"),
        ("C-005", "RESULT_NOT_MET"),
        ("C-006", "CLAIMED_TOO_EARLY"),
        ("C-007", "DUPLICATE_IN_FILE"),
        ("C-008", "DUPLICATE_OF_PAYMENT"),
        ("C-009", "FAMILY_NOT_ELIGIBLE"),
        ("C-010", "UNKNOWN_FAMILY"),
        ("C-011", "CAP_EXCEEDED"),
        ("C-013", "KIND_NOT_IN_PROGRAMME"),
        ("C-023", "ROUTE_NOT_ALLOWED"),
    ],
)
def test_each_flag_on_the_example_claims(
    result: pbr.audit.Verification, claim_id: str, flag: str
) -> None:
    assert flags_of(result, claim_id) == [flag]


def test_clean_claims_verify_in_full(result: pbr.audit.Verification) -> None:
    for claim_id in ("C-001", "C-002", "C-012", "C-015", "C-017"):
        check = next(c for c in result.checks if c.claim.claim_id == claim_id)
        assert check.status == "verified", (claim_id, check.flags)
        assert check.verified == check.claim.amount


def test_amounts_of_partial_claims(result: pbr.audit.Verification) -> None:
    over = next(c for c in result.checks if c.claim.claim_id == "C-003")
    assert (over.allowed, over.verified, over.over_claimed) == (
        Decimal("1500.00"),
        Decimal("1500.00"),
        Decimal("100.00"),
    )
    under = next(c for c in result.checks if c.claim.claim_id == "C-004")
    assert (under.verified, under.under_claimed) == (Decimal("600.00"), Decimal("100.00"))
    early = next(c for c in result.checks if c.claim.claim_id == "C-006")
    assert early.flags[0].compared["earliest_date"] == "2015-09-30"


def test_outside_programme_flag() -> None:
    family = pbr.Family.model_validate(
        {
            "family_id": "OLD",
            "attached_on": "2011-01-01",
            "members": [{"person_id": "A", "date_of_birth": "1980-01-01"}],
        }
    )
    claim = Claim(
        claim_id="X",
        family_id="OLD",
        kind="attachment_fee",
        amount=Decimal(1),
        claimed_on=date(2012, 1, 1),
    )
    assert [f.code for f in verify([claim], [family]).checks[0].flags] == ["OUTSIDE_PROGRAMME"]


def test_malformed_rows_are_reported_with_row_numbers(result: pbr.audit.Verification) -> None:
    rows = {(r.row, r.claim_id, r.field) for r in result.rejections}
    assert rows == {
        (20, "C-019", "amount"),
        (21, "C-020", "family_id"),
        (22, "C-021", "kind"),
        (23, "C-022", "claimed_on"),
    }
    assert len(result.checks) + len(result.rejections) == 23  # every row accounted for


def test_reconciliation_adds_up(result: pbr.audit.Verification) -> None:
    rows = result.reconciliation()
    total = rows[-1]
    assert total["kind"] == "total"
    for key in ("claimed", "verified", "over_claimed", "under_claimed", "claims"):
        assert total[key] == sum(r[key] for r in rows[:-1])
    for row in rows:
        assert row["claimed"] == row["verified"] + row["over_claimed"]


def test_missed_claims_name_amount_and_date(result: pbr.audit.Verification) -> None:
    missed = {(m.family_id, m.kind): m for m in result.missed}
    assert missed[("EX-001", "progress_to_work")].amount == Decimal("100.00")
    assert missed[("EX-001", "progress_to_work")].earliest_date == date(2014, 11, 10)
    assert missed[("EX-001", "crime_asb_education")].as_row()["earliest_date"] == "not knowable"
    assert ("EX-010", "crime_asb_education") not in missed  # claimed and verified


claim_rows = st.lists(
    st.tuples(
        st.sampled_from(["EX-010", "EX-012", "EX-013", "EX-044", "EX-048", "EX-001", "NOPE"]),
        st.sampled_from(
            ["attachment_fee", "crime_asb_education", "progress_to_work", "continuous_employment"]
        ),
        st.integers(0, 400_000),
        st.dates(date(2013, 1, 1), date(2015, 12, 31)),
    ),
    max_size=12,
)


@settings(max_examples=40)
@given(claim_rows)
def test_verified_never_exceeds_claimed(rows: list[tuple[str, str, int, date]]) -> None:
    claims = [
        Claim(claim_id=f"P{i}", family_id=f, kind=k, amount=Decimal(p).scaleb(-2), claimed_on=d)
        for i, (f, k, p, d) in enumerate(rows)
    ]
    result = verify(claims, families())
    for check in result.checks:
        assert Decimal(0) <= check.verified <= check.claim.amount
        assert check.claim.amount == check.verified + check.over_claimed
    # nothing is verified twice for one family and kind
    seen = set()
    for check in sorted(result.checks, key=lambda c: (c.claim.claimed_on, c.claim.row)):
        if check.verified > 0:
            key = (check.claim.family_id, check.claim.kind)
            assert key not in seen
            seen.add(key)


# --- sampling -----------------------------------------------------------------------------------


def claims_for_sampling(n: int) -> list[Claim]:
    kinds = ["attachment_fee", "crime_asb_education", "continuous_employment"]
    return [
        Claim(
            claim_id=f"S{i:03d}",
            family_id="F",
            kind=kinds[i % 3],
            amount=Decimal(1),
            claimed_on=date(2014, 1, 1),
        )
        for i in range(n)
    ]


@given(st.integers(1, 60), st.data(), st.text(min_size=1, max_size=8))
def test_sample_depends_only_on_the_claims_and_the_seed(
    n: int, data: st.DataObject, seed: str
) -> None:
    claims = claims_for_sampling(n)
    size = data.draw(st.integers(0, n))
    first = sample(claims, size=size, seed=seed)
    shuffled = claims[:]
    random.Random(data.draw(st.integers())).shuffle(shuffled)
    again = sample(shuffled, size=size, seed=seed)
    assert [c.claim_id for c in first.claims] == [c.claim_id for c in again.claims]
    assert len(first.claims) == size
    assert sum(first.sizes.values()) == size


def test_sample_by_hand_and_by_fraction() -> None:
    import hashlib

    claims = claims_for_sampling(9)
    fees = [c for c in claims if c.kind == "attachment_fee"]
    by_hand = sorted(
        fees, key=lambda c: hashlib.sha256(f"audit|{c.claim_id}".encode()).hexdigest()
    )[:1]
    drawn = sample(claims, size=3, seed="audit")
    assert [c for c in drawn.claims if c.kind == "attachment_fee"] == by_hand
    assert sample(claims, fraction="0.5", seed=1).sizes == {
        "attachment_fee": 2,
        "continuous_employment": 2,
        "crime_asb_education": 2,
    }
    with pytest.raises(ValueError, match="exactly one"):
        sample(claims, seed=1)


# --- reports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".html", ".md", ".csv", ".xlsx"])
def test_reports(result: pbr.audit.Verification, tmp_path: Path, suffix: str) -> None:
    drawn = sample([c.claim for c in result.checks], size=4, seed=2015)
    path = write_report(result, tmp_path / f"audit{suffix}", sample=drawn)
    data = path.read_bytes()
    assert data
    assert not list(tmp_path.glob(".*.tmp"))
    if suffix == ".html":
        text = data.decode()
        assert text.startswith("<!doctype html>")
        assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing to fetch
        for code in ("CAP_EXCEEDED", "ROUTE_NOT_ALLOWED", "C-019"):
            assert code in text
    if suffix == ".csv":
        rows = list(csv.DictReader(data.decode().splitlines()))
        assert len(rows) == 23
        assert {r["status"] for r in rows} == {"verified", "flagged", "malformed"}
        assert all(r["input_hash"] for r in rows if r["status"] == "verified")
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        assert {"Summary", "Reconciliation", "Exceptions", "Missed claims", "Sample"} <= set(
            book.sheetnames
        )


def test_every_flag_is_documented_and_reached(result: pbr.audit.Verification) -> None:
    reached = {f.code for c in result.checks for f in c.flags} | {
        "MALFORMED_ROW",
        "OUTSIDE_PROGRAMME",
    }
    assert set(AUDIT_FLAGS) == reached
    assert all(meaning.endswith(".") for meaning in AUDIT_FLAGS.values())


def test_cli_audit(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pbr.cli",
            "audit",
            str(EXAMPLES / "claims.csv"),
            "--families",
            str(EXAMPLES / "families.jsonl"),
            "--families",
            str(EXAMPLES / "mixed-programmes.jsonl"),
            "--as-of",
            "2015-03-31",
            "--sample",
            "5",
            "--seed",
            "2015",
            "--report",
            str(tmp_path / "r.html"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "total                        19      14" in out.stdout
    assert "claims.csv:20 claim 'C-019': amount" in out.stderr
    assert (tmp_path / "r.html").exists()
