"""The audit toolkit: one example per flag, reconciliation, missed claims, sampling, reports."""

from __future__ import annotations

import csv
import json
import random
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pbr
from pbr.audit import AUDIT_FLAGS, AuditFlag, Claim, read_claims, sample, verify, write_report
from pbr.ledger import Entry, Ledger
from tests.builders import erl_family

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
        claimed_on=date(2012, 6, 1),  # a claim is dated from 2012-04-01
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
    for key in ("claimed", "verified", "over_claimed", "unverified", "under_claimed", "claims"):
        assert total[key] == sum(r[key] for r in rows[:-1])
    for row in rows:
        assert row["claimed"] == row["verified"] + row["over_claimed"] + row["unverified"]
    assert (total["claims"], total["malformed"]) == (19, 4)
    assert total["unverified"] == Decimal("2100.00")  # C-020, C-021, C-022; C-019's is unreadable
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["unreadable"]["unverified"] == Decimal("700.00")  # C-021, kind 'bonus'


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
@pytest.mark.slow
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


@given(
    st.integers(1, 60),
    st.data(),
    st.text(
        st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1, max_size=8
    ),
)
def test_sample_depends_only_on_the_claims_and_the_seed(
    n: int, data: st.DataObject, seed: str
) -> None:
    claims = claims_for_sampling(n)
    size = data.draw(st.integers(1, n))
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


def test_a_missing_value_and_values_with_a_slash_are_groups_of_their_own() -> None:
    """A blank window and the text ``None`` were one group, ``None``, as were claim id ``F/Q1``
    with window ``Q2`` and claim id ``F`` with window ``Q1/Q2``: the groups were joined by
    ``"/".join(str(value))``."""

    def claim(claim_id: str, window: str | None) -> Claim:
        return Claim(
            claim_id=claim_id,
            family_id="F1",
            kind="attachment_fee",
            amount="100.00",
            claimed_on=date(2015, 3, 31),
            window=window,
        )

    windows = [None, None, "None", "None", "Q4"]
    claims = [claim(f"W{i}", w) for i, w in enumerate(windows, start=1)]
    with pytest.raises(ValueError, match="over 3 strata: it must be at least 3"):
        sample(claims, size=2, seed=1, strata=("window",), min_per_stratum=1)
    drawn = sample(claims, size=3, seed=1, strata=("window",), min_per_stratum=1)
    assert drawn.sizes == {"(no window)": 1, "None": 1, "Q4": 1}
    slashed = [claim("F/Q1", "Q2"), claim("F", "Q1/Q2")]
    split = sample(slashed, size=2, seed=1, strata=("claim_id", "window"), min_per_stratum=1)
    assert split.sizes == {'"F/Q1"/Q2': 1, 'F/"Q1/Q2"': 1}
    # values without a slash or quote are named as before, so their samples are unchanged
    assert sample(claims_for_sampling(9), fraction="0.5", seed=1, strata=("kind",)).sizes == {
        "attachment_fee": 2,
        "continuous_employment": 2,
        "crime_asb_education": 2,
    }


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
        assert len(rows) == 23 + 1  # the claim rows, then the sample
        assert {r["status"] for r in rows} == {"verified", "flagged", "malformed", "sample"}
        assert all(r["input_hash"] for r in rows if r["status"] == "verified")
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        assert {
            "Summary",
            "Reconciliation",
            "Exceptions",
            "Missed results",
            "Missed attachment fees",
            "Sample",
        } <= set(book.sheetnames)


def test_every_flag_is_documented_and_reached(result: pbr.audit.Verification) -> None:
    reached = {f.code for c in result.checks for f in c.flags} | {
        "MALFORMED_ROW",
        "OUTSIDE_PROGRAMME",  # test_outside_programme_flag
        "PAYMENT_HISTORY_CONFLICT",  # test_a_payment_history_conflict_is_flagged
        "CLAIMED_AFTER_CLAIMS_CLOSED",  # test_a_results_claim_after_claims_closed_is_flagged
        "FAMILY_RECORD_REJECTED",  # test_audit_inputs: test_a_claim_for_a_rejected_family_...
        "CLAIM_ID_OF_OTHER_PAYMENT",  # test_audit_report: test_a_claim_reusing_the_id_of_a_...
    }
    assert set(AUDIT_FLAGS) == reached
    assert list(AUDIT_FLAGS) == list(get_args(AuditFlag))
    for code, meaning in AUDIT_FLAGS.items():
        assert code.isupper()
        assert " " not in code
        assert meaning.endswith(".")
        assert len(meaning) > 30


def test_the_tutorial_explains_every_flag() -> None:
    page = (EXAMPLES.parent / "docs" / "tutorials" / "audit.md").read_text()
    listed = re.findall(r"^\| `([A-Z_]+)` \|", page, flags=re.M)
    assert sorted(listed) == sorted(AUDIT_FLAGS)


TUTORIAL = EXAMPLES.parent / "docs" / "tutorials" / "audit.md"


def flag_row(code: str) -> str:
    """The tutorial's table row for flag `code`."""
    page = TUTORIAL.read_text()
    return next(line for line in page.splitlines() if line.startswith(f"| `{code}` |"))


def test_duplicate_in_file_is_documented_as_it_is_judged_in_claim_date_order() -> None:
    # The auditor's m1.csv: D-2 (row 4) was flagged because of D-3 (row 5), dated a day
    # earlier, where the tutorial said the duplicate is of a claim "verified earlier in the file".
    rows = [
        claim("D-2", "crime_asb_education", "1500.00", date(2015, 3, 31), "EX-014"),
        claim("D-3", "crime_asb_education", "1500.00", date(2015, 3, 30), "EX-014"),
    ]
    checks = verify(rows, families()).checks
    assert [c.codes for c in checks] == [("DUPLICATE_IN_FILE",), ()]
    assert "already claimed in this file by D-3" in checks[0].flags[0].message
    for text in (flag_row("DUPLICATE_IN_FILE"), AUDIT_FLAGS["DUPLICATE_IN_FILE"]):
        assert "claim-date order" in text
        assert "further down the file" in text
        assert "earlier in the file" not in text
        assert "earlier in this claim file" not in text


def test_the_tutorial_s_hand_edit_rounds_to_the_entry_it_edits(tmp_path: Path) -> None:
    # Section 8 edited entry 3 to '799.995', "a figure that even rounds the same": entry 3 of
    # the tutorial's ledger is C-015's £1,600.00, so it rounded to nothing of the kind.
    page = TUTORIAL.read_text()
    edit = re.search(r"SET amount = '([0-9.]+)' WHERE seq = ([0-9]+)", page)
    assert edit is not None
    value, seq = Decimal(edit.group(1)), int(edit.group(2))
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    both = families() | {
        f.family_id: f
        for f in pbr.read_records(EXAMPLES / "mixed-programmes.jsonl")
        if isinstance(f, pbr.Family)
    }
    audited = verify(claims, both, as_of=AS_OF, rejections=malformed)
    report = write_report(audited, tmp_path / "audit.csv")
    paid = pbr.audit.payments_from_report(report, paid_on=date(2015, 5, 15))
    edited = paid[seq - 1]
    assert value != edited.amount  # an edit, and not in canonical form
    assert value.quantize(Decimal("0.01")) == edited.amount  # "even rounds the same"
    assert f"entry {seq} is {edited.claim_id}'s £{edited.amount:,.2f}" in page.replace("\n", " ")


def test_the_tutorial_says_a_plain_number_gets_no_apostrophe(tmp_path: Path) -> None:
    # Section 2 said every value starting with "-" gets an apostrophe; a claim id "-1" is
    # written bare (a plain number is no formula), as m1.csv's report showed.
    result = verify([claim("-1", "attachment_fee", "3200.00", AS_OF, "NOPE")], {})
    written = write_report(result, tmp_path / "r.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(written.splitlines()))
    assert rows[1][1] == "-1"
    page = " ".join(TUTORIAL.read_text().split())
    assert "except a plain number" in page
    assert "a claim id `-1` or `+5`" in page


def test_every_flag_names_its_rule_and_the_numbers(result: pbr.audit.Verification) -> None:
    for check in result.exceptions:
        for flag in check.flags:
            assert flag.rule, flag
            assert flag.compared, flag
            if flag.code not in ("UNKNOWN_FAMILY", "KIND_NOT_IN_PROGRAMME"):
                assert flag.source, flag  # the source tags of the rule applied
    cap = next(c for c in result.checks if c.claim.claim_id == "C-011").flags[0]
    assert (cap.rule, cap.compared["cap"], cap.compared["allowed"]) == (
        "payment.cap",
        "4000.00",
        "0.00",
    )


def _capped_family(attached_on: str, **extra: object) -> pbr.Family:
    """A phase-two family whose domestic abuse and health outcomes are met (the example plan)."""
    return pbr.Family.model_validate(
        {
            "family_id": "Q1",
            "programme": "tf-phase-2",
            "attached_on": attached_on,
            "members": [
                {"person_id": "A1", "date_of_birth": "1980-01-01"},
                {"person_id": "C1", "date_of_birth": "2010-01-01"},
            ],
            "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
            **extra,
        }
    )


def test_cap_exceeded_cites_the_cap_the_engine_cites() -> None:
    """The flag cites the cap of the family's year, as `CAP_REACHED` does: not 2014/15's too.

    `PBR-READING` is the source of the early starters' 2014/15 cap only; a family attached in
    2015/16 is capped by the £1,800 of S31, S34 and S25.
    """
    fee = {"kind": "attachment_fee", "amount": "1200.00"}
    family = _capped_family("2016-03-01", payments=[fee])
    on = date(2016, 12, 1)
    flag = verify([claim("Q1-1", "sustained_progress", "800.00", on, "Q1")], [family])
    engine = pbr.evaluate(family, as_of=on).results["sustained_progress"]
    reached = next(r for r in engine.reasons if r.code == "CAP_REACHED")
    cap = flag.checks[0].flags[0]
    assert (cap.code, cap.rule, cap.source) == ("CAP_EXCEEDED", reached.rule, reached.source)
    assert cap.source == "S31, S34, S25"


def test_cap_exceeded_cites_the_cap_of_the_interpretation() -> None:
    """Under ``attachment_fees_after_2017_18 = stopped`` a 2018/19 family's cap is its own.

    No record can take such a family over its £800 cap (a fee paid is refused), so the claim is
    judged with £300 of room left; the engine cites the same cap on a results claim paid.
    """
    from pbr.audit._verify import _check, _Context

    rules = pbr.rule_set_for(_capped_family("2018-06-01")).with_interpretations(
        attachment_fees_after_2017_18="stopped"
    )
    on = date(2019, 3, 1)
    paid = {"kind": "sustained_progress", "amount": "800.00", "paid_on": "2019-01-01"}
    engine = pbr.evaluate(_capped_family("2018-06-01", payments=[paid]), as_of=on, rules=rules)
    cited = engine.results["sustained_progress"].reasons[0]
    family = _capped_family("2018-06-01")
    decision = pbr.evaluate(family, as_of=on, rules=rules)
    ctx = _Context(decision, rules, family, None, None, Decimal("300.00"))
    check = _check(claim("Q1-1", "sustained_progress", "800.00", on, "Q1"), ctx)
    cap = check.flags[0]
    assert (cited.code, cap.code) == ("ALREADY_PAID", "CAP_EXCEEDED")
    assert cap.source == cited.source == "S31, S34, S36, S25"
    assert check.verified == Decimal("300.00")


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
    assert "total                      19      14         4  £26,700.00" in out.stdout
    assert "claims.csv:20 claim 'C-019': amount" in out.stderr
    assert (tmp_path / "r.html").exists()


# --- more flags, on small families --------------------------------------------------------------


def phase_one_family(family_id: str = "F1", **extra: object) -> pbr.Family:
    return pbr.Family.model_validate(
        {
            "family_id": family_id,
            "attached_on": "2012-10-15",
            "identified_for": ["crime_asb", "education", "work"],
            "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
            "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
            "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}],
            **extra,
        }
    )


def claim(claim_id: str, kind: str, amount: str, on: date, family_id: str = "F1") -> Claim:
    return Claim.model_validate(
        {
            "claim_id": claim_id,
            "family_id": family_id,
            "kind": kind,
            "amount": amount,
            "claimed_on": on,
        }
    )


@pytest.mark.parametrize(("on", "flagged"), [(date(2015, 5, 31), False), (date(2015, 6, 1), True)])
def test_a_results_claim_after_claims_closed_is_flagged(on: date, flagged: bool) -> None:
    """Phase one's results claims closed in May 2015 (S12): a later claim is not verified."""
    check = verify([claim("X", "crime_asb_education", "700.00", on, "EX-001")], families())
    codes = [f.code for f in check.checks[0].flags]
    assert codes == (["CLAIMED_AFTER_CLAIMS_CLOSED"] if flagged else [])
    assert check.checks[0].verified == (0 if flagged else Decimal("700.00"))
    if flagged:
        flag = check.checks[0].flags[0]
        assert (flag.rule, flag.source, flag.compared["claims_until"]) == (
            "payment.claims_closed",
            "S12",
            "2015-05-31",
        )


@pytest.mark.parametrize(
    ("on", "flagged"),
    [(date(2015, 5, 31), False), (date(2015, 6, 1), True), (date(2020, 1, 1), True)],
)
def test_an_attachment_fee_claimed_after_claims_closed_is_flagged(on: date, flagged: bool) -> None:
    """The auditor's late.csv: EX-030's £3,200 fee claimed on 2020-01-01 was verified.

    No source records a fee claimed after phase one ended (and pbr's forecast counts such fees
    as never paid), so a fee claimed after the last day for claims is flagged as a result is.
    """
    check = verify([claim("L-1", "attachment_fee", "3200.00", on, "EX-030")], families())
    assert check.checks[0].codes == (("CLAIMED_AFTER_CLAIMS_CLOSED",) if flagged else ())
    assert check.checks[0].verified == (0 if flagged else Decimal("3200.00"))
    assert check.checks[0].over_claimed == (Decimal("3200.00") if flagged else 0)
    if flagged:
        flag = check.checks[0].flags[0]
        assert (flag.rule, flag.source, flag.compared["claims_until"]) == (
            "payment.claims_closed",
            "S12",
            "2015-05-31",
        )
        assert flag.message == (
            f"claimed on {on}, after the programme's last day for claims (2015-05-31): an "
            "attachment fee claim made then would not have been paid"
        )


def test_missed_results_after_claims_closed_are_missed_for_good(tmp_path: Path) -> None:
    """Audited after May 2015, phase one's unclaimed results can no longer be claimed."""
    before = verify([], families(), as_of=date(2015, 5, 31))
    after = verify([], families(), as_of=date(2015, 6, 1))
    assert before.missed_results
    assert before.missed_for_good == ()
    assert {m.claims_closed_on for m in before.missed_results} == {None}
    phase_one = [m for m in after.missed_results if m.family_id.startswith("EX-0")]
    assert phase_one
    assert set(after.missed_for_good) >= set(phase_one)
    assert {m.claims_closed_on for m in after.missed_for_good} == {date(2015, 5, 31)}
    assert after.missed_for_good[0].as_row()["claims_closed_on"] == "2015-05-31"
    # a fee unclaimed by then is missed for good too (it was marked claimable)
    fees = [m for m in after.missed_attachment_fees if m.family_id.startswith("EX-0")]
    assert fees
    assert {m.claims_closed_on for m in fees} == {date(2015, 5, 31)}
    assert all(m.claims_closed_on is None for m in before.missed_attachment_fees)
    report = write_report(after, tmp_path / "after.html").read_text(encoding="utf-8")
    assert "no longer be claimed: claims closed on 2015-05-31" in report
    fee_table = report[report.index("<h2>Missed attachment fees") :]
    assert "<th>claims closed on</th>" in fee_table
    missed = report[report.index("<h2>Missed results") :]
    assert "<th>claims closed on</th>" in missed  # each row says so too
    assert missed.count("<td>2015-05-31</td>") >= len(phase_one)
    earlier = write_report(before, tmp_path / "before.html").read_text(encoding="utf-8")
    assert "claims closed on" not in earlier  # no column when every result can be claimed


def test_a_result_payable_only_after_claims_closed_is_not_missed() -> None:
    """A result first payable after the last day for claims could never have been claimed.

    Missed results are judged on the programme's last claim day when the audit date is after
    it: work from 2 March 2015 pays its result from 1 June 2015, one day too late.
    """
    family = phase_one_family(employment_spells=[{"person_id": "A1", "start": "2015-03-02"}])
    after = verify([], [family], as_of=date(2015, 6, 30))
    assert [(m.kind, m.amount, m.claims_closed_on) for m in after.missed_results] == [
        ("crime_asb_education", Decimal("700.00"), date(2015, 5, 31))
    ]
    assert after.missed_results == after.missed_for_good


def test_results_missed_after_claims_closed_are_those_of_the_last_claim_day() -> None:
    """The example audit after May 2015 misses what it missed on 31 May 2015, no more or less."""
    claims, rejected = read_claims(EXAMPLES / "claims.csv")
    on = verify(claims, families(), as_of=date(2015, 5, 31), rejections=rejected)
    after = verify(claims, families(), as_of=date(2015, 6, 30), rejections=rejected)
    closes = {f.family_id for f in families().values() if pbr.rule_set_for(f).claims_until()}
    closing = {(m.family_id, m.kind, m.amount, m.earliest_date) for m in after.missed_for_good}
    assert closing == {
        (m.family_id, m.kind, m.amount, m.earliest_date)
        for m in on.missed_results
        if m.family_id in closes
    }
    assert all(
        m.earliest_date is None
        or m.claims_closed_on is None
        or m.earliest_date <= m.claims_closed_on
        for m in after.missed
    )
    kinds = {(m.family_id, m.kind) for m in after.missed_results}
    assert ("EX-018", "continuous_employment") not in kinds  # payable from 1 June 2015
    assert ("EX-035", "crime_asb_education") not in kinds  # not payable on 31 May 2015
    assert ("EX-007", "progress_to_work") in kinds  # payable on 31 May 2015, never claimed
    assert ("EX-044", "continuous_employment") in kinds  # claimed too early, not again
    assert len(after.missed_results) == 44
    assert sum(m.amount for m in after.missed_results) == Decimal("55400.00")


@pytest.mark.parametrize("paid_on", ["2015-06-15", "2015-07-15"])
def test_a_result_paid_after_claims_closed_is_not_missed(paid_on: str) -> None:
    """A payment counts, though dated after the last day for claims, or after the audit date."""
    family = phase_one_family(
        employment_spells=[{"person_id": "A1", "start": "2015-01-05"}],
        payments=[{"kind": "continuous_employment", "amount": "100.00", "paid_on": paid_on}],
    )
    kinds = [m.kind for m in verify([], [family], as_of=date(2015, 6, 30)).missed_results]
    assert "continuous_employment" not in kinds
    assert "crime_asb_education" in kinds


def test_a_result_paid_after_the_audit_date_is_a_duplicate_and_not_missed() -> None:
    """The claim check and the missed search count the same payments: never paid and owed."""
    claims = [claim("X1", "crime_asb_education", "2300.00", date(2015, 3, 31), "EX-054")]
    result = verify(claims, families(), missed_fees=False)  # paid on 2015-04-20 (EX-054-P2)
    assert result.checks[0].codes == ("DUPLICATE_OF_PAYMENT",)
    assert not [m for m in result.missed if m.family_id == "EX-054"]
    alone = pbr.audit.missed_claims([families()["EX-054"]], date(2015, 3, 31), fees=False)
    assert not [m for m in alone if m.kind == "crime_asb_education"]


def test_cli_audit_does_not_say_claim_again_of_a_result_paid_after_the_audit_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    claims = tmp_path / "c54.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on\n"
        "X1,EX-054,crime_asb_education,2300.00,2015-03-31\n"
    )
    args = ["audit", str(claims), "--families", str(EXAMPLES / "families.jsonl")]
    assert main([*args, "--no-missed-fees", "--report", str(tmp_path / "r.md")]) == 1
    out = capsys.readouterr().out
    assert "DUPLICATE_OF_PAYMENT" in out
    assert "claim again" not in out
    assert "missed results: 44 worth £50,100.00 (as of 2015-03-31)" in out  # not 45, £52,400
    assert "claimed_before" not in (tmp_path / "r.md").read_text()


def test_room_under_the_cap_taken_by_a_later_payment_is_not_missed() -> None:
    """A payment dated after the audit date takes its share of the cap, as in the claim check."""
    family = phase_one_family(
        payments=[
            {"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2012-11-01"},
            {"kind": "continuous_employment", "amount": "800.00", "paid_on": "2013-08-01"},
        ]
    )
    on = date(2013, 6, 30)
    early = verify([claim("C1", "crime_asb_education", "700.00", on)], [family], as_of=on)
    assert early.checks[0].codes == ("CAP_EXCEEDED",)
    assert early.missed == ()  # not "still owed, claim again" as well
    assert verify([], [family], as_of=on).missed == ()
    assert pbr.audit.missed_claims([family], on) == []


def test_an_attachment_fee_paid_after_the_audit_date_is_not_missed() -> None:
    family = phase_one_family(
        payments=[{"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2013-08-01"}]
    )
    missed = pbr.audit.missed_claims([family], date(2013, 6, 30))
    assert [m.kind for m in missed] == ["crime_asb_education", "continuous_employment"]


def test_an_attachment_fee_claimed_before_attachment_is_too_early() -> None:
    check = verify(
        [claim("X", "attachment_fee", "3200.00", date(2012, 10, 1))], [phase_one_family()]
    )
    flag = check.checks[0].flags[0]
    assert (flag.code, flag.compared["earliest_date"]) == ("CLAIMED_TOO_EARLY", "2012-10-15")


def test_employment_after_crime_exclusive_refuses_the_second_route() -> None:
    family = phase_one_family()
    claims = [
        claim("A", "crime_asb_education", "700.00", date(2013, 6, 30)),
        claim("B", "continuous_employment", "800.00", date(2013, 6, 30)),
    ]
    top_up = verify(claims, [family])
    assert [c.codes for c in top_up.checks] == [(), ("CAP_EXCEEDED",)]  # tops up by 100.00
    assert top_up.checks[1].verified == Decimal("100.00")
    exclusive = pbr.rules.PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    both = verify(claims, [family], rules_for=lambda f: exclusive)
    flag = both.checks[0].flags[0]  # both met at once: employment is paid, crime is not
    assert (flag.code, flag.rule, flag.compared["other_route"]) == (
        "ROUTE_NOT_ALLOWED",
        "payment.employment_after_crime",
        "continuous_employment",
    )
    assert both.checks[1].status == "verified"
    paid_first = {
        "F1": [
            pbr.records.Payment(
                kind="crime_asb_education", amount=Decimal("700.00"), paid_on=date(2013, 5, 1)
            )
        ]
    }
    after = verify(claims[1:], [family], history=paid_first, rules_for=lambda f: exclusive)
    flag = after.checks[0].flags[0]
    assert (flag.code, flag.compared["other_route"]) == ("ROUTE_NOT_ALLOWED", "crime_asb_education")
    assert after.checks[0].verified == 0
    paid_later = {"F1": [paid_first["F1"][0].model_copy(update={"paid_on": date(2013, 9, 1)})]}
    known = verify(claims[1:], [family], history=paid_later, rules_for=lambda f: exclusive)
    assert known.checks[0].codes == ("ROUTE_NOT_ALLOWED",)  # paid after the claim date: known
    assert known.checks[0].verified == 0  # (it was verified, all £800.00 of it)


def test_the_ledger_is_payment_history(tmp_path: Path) -> None:
    family = phase_one_family()
    ledger = Ledger(tmp_path / "l.db")
    ledger.append(
        [Entry("F1", "attachment_fee", Decimal("3200.00"), date(2012, 11, 1), "P-1", "v")]
    )
    claims = [
        claim("P-1", "attachment_fee", "3200.00", date(2012, 11, 1)),  # the ledger's own entry
        claim("P-2", "attachment_fee", "3200.00", date(2013, 1, 1)),  # paid again
    ]
    assert verify(claims[:1], [family], history=ledger).checks[0].status == "verified"
    result = verify(claims[1:], [family], history=ledger)
    flag = result.checks[0].flags[0]
    assert (flag.code, flag.compared["paid_claim_id"], flag.compared["paid_on"]) == (
        "DUPLICATE_OF_PAYMENT",
        "P-1",
        "2012-11-01",
    )
    assert verify(claims, [family], history=ledger).checks[1].codes == ("DUPLICATE_IN_FILE",)
    as_mapping = verify(claims[1:], [family], history={"F1": ledger.history()["F1"]})
    assert as_mapping.checks[0].codes == ("DUPLICATE_OF_PAYMENT",)


def test_a_claim_not_verified_does_not_make_a_later_one_a_duplicate() -> None:
    family = phase_one_family()
    claims = [
        claim("E1", "continuous_employment", "800.00", date(2013, 2, 1)),  # too early
        claim("E2", "continuous_employment", "100.00", date(2013, 6, 30)),
        claim("E3", "continuous_employment", "100.00", date(2013, 7, 30)),
    ]
    result = verify(claims, [family])
    assert [c.codes for c in result.checks] == [
        ("CLAIMED_TOO_EARLY",),
        ("AMOUNT_DIFFERS",),  # 800.00 allowed alone: crime/ASB/education is not yet claimed
        ("DUPLICATE_IN_FILE",),
    ]
    assert result.checks[2].flags[0].compared["earlier_claim"] == "E2"


def test_missed_claims_leave_out_what_was_claimed_and_report_families_out_of_programme() -> None:
    old = pbr.Family.model_validate(
        {
            "family_id": "OLD",
            "attached_on": "2011-01-01",
            "members": [{"person_id": "A", "date_of_birth": "1980-01-01"}],
        }
    )
    result = verify(
        [claim("E1", "continuous_employment", "800.00", date(2013, 2, 1))],
        [phase_one_family(), old],
        as_of=date(2013, 6, 30),
    )
    assert {(m.kind, m.amount, m.claimed_before) for m in result.missed} == {
        ("attachment_fee", Decimal("3200.00"), ()),
        ("crime_asb_education", Decimal("700.00"), ()),
        ("continuous_employment", Decimal("100.00"), ("E1",)),
    }  # claimed too early, so allowed nothing: an exception, and still owed on the audit date
    assert result.checks[0].codes == ("CLAIMED_TOO_EARLY",)
    assert [f for f, _ in result.unevaluated] == ["OLD"]


def test_a_kind_some_claim_is_allowed_is_not_missed_though_another_was_too_early() -> None:
    claims = [
        claim("E1", "continuous_employment", "800.00", date(2013, 2, 1)),  # too early
        claim("E2", "continuous_employment", "100.00", date(2013, 6, 30)),  # allowed: holds it
    ]
    result = verify(claims, [phase_one_family()], as_of=date(2013, 6, 30))
    assert result.checks[1].verified > 0
    assert "continuous_employment" not in [m.kind for m in result.missed]
    assert all(m.claimed_before == () for m in result.missed)


def test_a_result_claimed_too_early_and_not_again_before_claims_closed_is_missed_for_good() -> None:
    result = verify(
        [claim("E1", "continuous_employment", "800.00", date(2013, 2, 1))],
        [phase_one_family()],
        as_of=date(2015, 7, 1),
    )
    (employment,) = [m for m in result.missed if m.kind == "continuous_employment"]
    assert (employment.claimed_before, employment.claims_closed_on) == (("E1",), date(2015, 5, 31))
    assert employment.as_row()["claimed_before"] == "E1"


@settings(max_examples=25, deadline=None)
@given(claim_rows)
def test_reconciliation_adds_up_for_any_claims(rows: list[tuple[str, str, int, date]]) -> None:
    claims = [
        Claim(claim_id=f"P{i}", family_id=f, kind=k, amount=Decimal(p).scaleb(-2), claimed_on=d)
        for i, (f, k, p, d) in enumerate(rows)
    ]
    table = verify(claims, families()).reconciliation()
    *kinds, total = table
    for key in ("claims", "flagged", "claimed", "verified", "over_claimed", "under_claimed"):
        assert total[key] == sum(r[key] for r in kinds)
    for row in table:
        assert row["claimed"] == row["verified"] + row["over_claimed"]
        assert row["verified"] <= row["claimed"]
        assert row["claimed"].as_tuple().exponent == -2  # pence, exactly


# --- claim files --------------------------------------------------------------------------------


def test_claim_csv_rows_keep_their_spreadsheet_numbers(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        "\ufeffclaim_id,family_id,kind,amount,claimed_on\n"
        "C1,F1,attachment_fee,3200.00,2012-11-01\n"
        "\n"
        '"C2",F1,crime_asb_education,"700.00",2013-06-30\n'
        "C3,F1,attachment_fee,1.00,2013-06-30,surplus\n"
        "C1,F1,progress_to_work,100.00,2013-06-30\n"
        "C4,F1,progress_to_work,100.00,2013-06-30\n",
        encoding="utf-8",
    )
    claims, rejected = read_claims(path)
    assert [(c.claim_id, c.row) for c in claims] == [("C2", 4), ("C4", 7)]
    assert [(r.row, r.claim_id, r.field) for r in rejected] == [
        (2, "C1", "claim_id"),
        (5, "C3", "(row)"),
        (6, "C1", "claim_id"),
    ]
    assert "the same claim_id is on row 6" in rejected[0].message
    assert "the same claim_id is on row 2" in rejected[2].message


def test_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("claim_id,family_id,kind,amount,paid\nC1,F1,attachment_fee,1.00,x\n")
    _, rejected = read_claims(path)
    fields = {r.field for r in rejected}
    assert fields <= {"paid", "claimed_on"}
    assert rejected[0].row == 2


def test_json_claim_files(tmp_path: Path) -> None:
    good = {"claim_id": "C1", "family_id": "F1", "kind": "attachment_fee", "amount": "3200.00"}
    lines = tmp_path / "claims.jsonl"
    lines.write_text(
        json.dumps({**good, "claimed_on": "2012-11-01"})
        + "\n{not json\n"
        + json.dumps({**good, "claim_id": "C2", "amount": 3200.5, "claimed_on": "2012-11-01"})
        + "\n"
    )
    claims, rejected = read_claims(lines)
    assert [c.claim_id for c in claims] == ["C1"]
    assert [(r.row, r.field) for r in rejected] == [(2, "(line)"), (3, "amount")]
    array = tmp_path / "claims.json"
    array.write_text(json.dumps([{**good, "claimed_on": "2012-11-01"}, "oops"]))
    claims, rejected = read_claims(array)
    assert (len(claims), rejected[0].row, rejected[0].field) == (1, 2, "(row)")
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(pbr.io.UnreadableFile, match="is not JSON"):
        read_claims(tmp_path / "broken.json")
    with pytest.raises(pbr.io.UnreadableFile, match="cannot read claim file"):
        read_claims(tmp_path / "absent.csv")


# --- sampling, exactly --------------------------------------------------------------------------


def test_proportional_allocation_is_exact_largest_remainder() -> None:
    claims = claims_for_sampling(10)  # 4 attachment fees, 3 crime/ASB/education, 3 employment
    assert sample(claims, size=5, seed=0).sizes == {
        "attachment_fee": 2,
        "continuous_employment": 2,  # remainders 0.5 and 0.5: ties go alphabetically
        "crime_asb_education": 1,
    }
    assert sample(claims, size=10, seed=0).sizes == {
        "attachment_fee": 4,
        "continuous_employment": 3,
        "crime_asb_education": 3,
    }
    assert sample(claims, size=3, seed=0, strata=()).sizes == {"all": 3}


def test_sample_refuses_bad_arguments() -> None:
    claims = claims_for_sampling(4)
    with pytest.raises(ValueError, match="between 1 and 4"):
        sample(claims, size=5, seed=1)
    with pytest.raises(ValueError, match="above 0 and at most 1"):
        sample(claims, fraction="1.5", seed=1)
    with pytest.raises(ValueError, match="a number above 0 and at most 1"):
        sample(claims, fraction="half", seed=1)
    with pytest.raises(ValueError, match="unknown strata"):
        sample(claims, size=1, seed=1, strata=("colour",))
    with pytest.raises(ValueError, match="between 1 and 5"):
        sample([*claims, claims[0]], size=6, seed=1)  # a repeated row is sampled as any other


@pytest.mark.parametrize("seed", [None, b"1", 1.0, True, (1,), Decimal(1)])
def test_a_seed_neither_text_nor_a_whole_number_is_refused_by_name(seed: object) -> None:
    """None was hashed as the seed ``"None"``, and ``1.0`` or True unlike ``--seed 1``."""
    claims = claims_for_sampling(4)
    plan = pbr.audit.mus_plan("4", confidence="95%", tolerable="2")
    amounts = {c.claim_id: c.amount for c in claims}
    for draw in (
        lambda: sample(claims, size=3, seed=seed),  # type: ignore[arg-type]
        lambda: pbr.audit.rank(seed, "C1"),  # type: ignore[arg-type]
        lambda: pbr.audit.mus_select(amounts, plan, seed=seed),  # type: ignore[arg-type]
    ):
        with pytest.raises(
            TypeError, match=re.escape(f"seed must be text or a whole number, got {seed!r}")
        ):
            draw()
    assert sample(claims, size=3, seed=1) == sample(claims, size=3, seed="1")
    assert sample(claims, size=3, seed=1).seed == "1"


def test_a_seed_with_a_control_character_is_refused_in_python_and_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed was printed raw in some reports (an escape in .csv, .html and .md, a newline
    splitting the terminal's line) and escaped in others: it is the text hashed, which no
    escaped form lets a reader redo, so it is refused."""
    from pbr.cli import main

    claims = claims_for_sampling(4)
    with pytest.raises(ValueError, match=r"seed 'Q4\\n' has a control character, U\+000A"):
        sample(claims, size=1, seed="Q4\n")
    with pytest.raises(ValueError, match="U\\+001B, at character 1"):
        pbr.audit.mus_select(
            {"C1": "4"}, pbr.audit.mus_plan("4", confidence="95%", tolerable="2"), seed="\x1b[31m"
        )
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nC1,EX-010,attachment_fee,1.00,2015-03-31\n"
    )
    for method in (
        ["--sample", "1"],
        ["--sample-method", "mus", "--confidence", "95", "--tolerable", "50%"],
    ):
        status = main(
            [
                "audit",
                str(path),
                "--families",
                str(EXAMPLES / "families.jsonl"),
                *method,
                "--seed",
                "\x1b[31mRED\nX",
            ]
        )
        out, err = capsys.readouterr()
        assert (status, out) == (2, "")
        assert err == (
            "pbr: --seed '\\x1b[31mRED\\nX' has a control character, U+001B, at character 1: a seed "
            "is printed in every report as the text hashed, so it must be printable\n"
        )


_PRINTABLE = st.characters(exclude_categories=["Cc", "Cs", "Cf", "Zl", "Zp"])
"""What a claim id or a seed may hold: no control, separator or format character."""
_PRINTABLE_IDS = st.text(_PRINTABLE, min_size=1, max_size=6)


@given(st.lists(_PRINTABLE_IDS, min_size=1, max_size=30, unique=True), st.text(_PRINTABLE))
def test_sample_ranks_by_the_published_hash(ids: list[str], seed: str) -> None:
    import hashlib

    claims = [
        Claim(claim_id=i, family_id="F", kind="attachment_fee", amount=Decimal(1), claimed_on=AS_OF)
        for i in ids
    ]
    k = max(1, len(ids) // 2)
    expected = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}|{i}".encode()).hexdigest())[:k]
    assert [c.claim_id for c in sample(claims, size=k, seed=seed).claims] == expected


# --- the public names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module", ["pbr.audit", "pbr.ledger", "pbr.replay", "pbr.history", "pbr.output"]
)
def test_public_names_have_docstrings_with_examples(module: str) -> None:
    import importlib
    import inspect

    mod = importlib.import_module(module)
    for name in mod.__all__:
        value = getattr(mod, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            doc = inspect.getdoc(value) or ""
            assert ">>>" in doc, f"{module}.{name} needs an example"


@pytest.mark.slow
def test_cli_audit_outputs_and_refusals(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "pbr.cli", "audit", str(EXAMPLES / "claims.csv")]
    fams = ["--families", str(EXAMPLES / "families.jsonl")]
    missing = subprocess.run(
        [*base, *fams, "--ledger", str(tmp_path / "typo.db")], capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert "no ledger at" in missing.stderr
    bad = subprocess.run(
        [*base, *fams, "--interpretation", "nope=1"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "unknown interpretation 'nope'" in bad.stderr
    for suffix in (".md", ".csv", ".xlsx"):
        out = subprocess.run(
            [*base, *fams, "--fraction", "0.5", "--report", str(tmp_path / f"r{suffix}")],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 1, out.stderr
        assert (tmp_path / f"r{suffix}").stat().st_size > 0
    assert "sample: " in out.stdout


def test_verify_reads_a_claim_file_and_a_rerun_gives_the_same_report(tmp_path: Path) -> None:
    by_path = verify(EXAMPLES / "claims.csv", families(), as_of=AS_OF)
    assert len(by_path.checks) == 19
    assert [r.row for r in by_path.rejections] == [20, 21, 22, 23]
    first = write_report(by_path, tmp_path / "a.csv").read_bytes()
    again = verify(EXAMPLES / "claims.csv", families(), as_of=AS_OF)
    assert write_report(again, tmp_path / "b.csv").read_bytes() == first  # byte for byte


@pytest.mark.parametrize("read", ["claims", "families"])
def test_the_report_never_replaces_what_the_audit_reads(
    tmp_path: Path, read: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    claims = tmp_path / "claims.csv"
    claims.write_bytes((EXAMPLES / "claims.csv").read_bytes())
    records = tmp_path / "families.csv"  # a report name: .csv
    records.write_bytes((EXAMPLES / "families.jsonl").read_bytes())
    target = claims if read == "claims" else records
    before = target.read_bytes()
    argv = ["audit", str(claims), "--families", str(records), "--as-of", "2015-03-31"]
    assert main([*argv, "--report", str(target)]) == 2
    assert "--report names the same file as" in capsys.readouterr().err
    assert target.read_bytes() == before


# --- under-claimed and missed: the same room counted once ---------------------------------------


def _both_routes_family(family_id: str = "B1314") -> pbr.Family:
    """Attached in 2013/14 (fee £2,400, results share £1,600): crime/ASB/education (£1,500) and
    continuous employment (13 weeks from 3 June 2013) both met on 20 October 2013."""
    return pbr.Family.model_validate(
        {
            "family_id": family_id,
            "attached_on": "2013-04-15",
            "members": [
                {"person_id": "A1", "date_of_birth": "1980-01-01"},
                {"person_id": "C1", "date_of_birth": "1997-01-01"},
            ],
            "identified_for": ["crime_asb", "work"],
            "local_discretion": ["dv"],
            "benefit_spells": [
                {"person_id": "A1", "benefit": "ESA", "start": "2011-01-01", "end": "2013-06-02"}
            ],
            "employment_spells": [{"person_id": "A1", "start": "2013-06-03", "end": None}],
        }
    )


_BOTH_MET = date(2013, 10, 20)


def _under_and_missed(result: pbr.audit.Verification) -> tuple[Decimal, Decimal]:
    under = sum((c.under_claimed for c in result.checks), Decimal(0))
    return under, sum((m.amount for m in result.missed_results), Decimal(0))


def test_an_under_claim_s_room_is_not_also_a_missed_result(tmp_path: Path) -> None:
    """£1,000 claimed of the £1,600 results share: £600 is left, under-claimed, and missed once.

    Employment is worth the whole share, so the claim is allowed £1,600; the crime result that
    the £600 would otherwise pay is judged with the claim at that amount, and pays nothing.
    """
    family = _both_routes_family()
    result = verify(
        [claim("K9", "continuous_employment", "1000.00", _BOTH_MET, "B1314")],
        [family],
        missed_fees=False,
    )
    (check,) = result.checks
    assert (check.codes, check.allowed, check.verified) == (
        ("AMOUNT_DIFFERS",),
        Decimal("1600.00"),
        Decimal("1000.00"),
    )
    assert check.under_claimed == Decimal("600.00")
    assert result.missed_results == ()
    under, missed = _under_and_missed(result)
    assert under + missed == Decimal("1600.00") - Decimal("1000.00")  # the room left, once
    report = write_report(result, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "- **Under-claimed**: £600.00\n- **Missed results**: 0, £0.00" in report


def test_a_claim_of_nothing_under_claims_the_share_and_misses_nothing() -> None:
    """A £0.00 claim verifies nothing but is still the claim the room is under-claimed on."""
    result = verify(
        [claim("K0", "continuous_employment", "0.00", _BOTH_MET, "B1314")],
        [_both_routes_family()],
        missed_fees=False,
    )
    assert (result.checks[0].verified, result.checks[0].under_claimed) == (
        Decimal("0.00"),
        Decimal("1600.00"),
    )
    assert result.missed_results == ()


def test_an_under_claimed_crime_result_leaves_only_the_employment_top_up_missed() -> None:
    """Crime/ASB/education claimed at £1,000 of its £1,500: £500 under-claimed, and employment
    tops up the share by £100 after the £1,500 the claim is allowed, not by £600."""
    result = verify(
        [claim("K1", "crime_asb_education", "1000.00", _BOTH_MET, "B1314")],
        [_both_routes_family()],
        missed_fees=False,
    )
    assert result.checks[0].under_claimed == Decimal("500.00")
    assert [(m.kind, m.amount) for m in result.missed_results] == [
        ("continuous_employment", Decimal("100.00"))
    ]
    assert sum(_under_and_missed(result)) == Decimal("600.00")


def test_an_over_claim_is_cut_and_the_rest_of_the_share_is_missed_once() -> None:
    """An over-claim is counted at what it is allowed: its excess frees no room for a missed one."""
    over = verify(
        [claim("K2", "crime_asb_education", "2000.00", _BOTH_MET, "B1314")],
        [_both_routes_family()],
        missed_fees=False,
    )
    (check,) = over.checks
    assert (check.verified, check.over_claimed, check.under_claimed) == (
        Decimal("1500.00"),
        Decimal("500.00"),
        Decimal(0),
    )
    assert [(m.kind, m.amount) for m in over.missed_results] == [
        ("continuous_employment", Decimal("100.00"))
    ]
    whole = verify(
        [claim("K3", "continuous_employment", "2000.00", _BOTH_MET, "B1314")],
        [_both_routes_family()],
        missed_fees=False,
    )
    assert whole.checks[0].verified == Decimal("1600.00")
    assert whole.missed_results == ()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["B1314", "EX-010", "EX-012", "EX-015", "EX-044", "EX-048", "EX-001"]),
    st.sampled_from(["crime_asb_education", "progress_to_work", "continuous_employment"]),
    st.integers(0, 250_000),
    st.dates(date(2013, 1, 1), date(2015, 12, 31)),
)
def test_under_claimed_and_missed_never_count_the_same_pounds(
    family_id: str, kind: str, pence: int, on: date
) -> None:
    """What a family's claim verifies and under-claims, and what it misses, fit in what the
    engine finds payable for it with nothing claimed (the audit dated the claim's date)."""
    family = _both_routes_family() if family_id == "B1314" else families()[family_id]
    amount = str(Decimal(pence).scaleb(-2))
    result = verify([claim("P", kind, amount, on, family_id)], [family], missed_fees=False)
    (check,) = result.checks
    payable = sum((m.amount for m in pbr.audit.missed_claims([family], on, fees=False)), Decimal(0))
    under, missed = _under_and_missed(result)
    assert check.verified + under + missed <= payable


def test_two_under_claims_of_one_family_share_the_room_left_once() -> None:
    """Crime/ASB/education claimed at £1,000 and employment at £0.00: each alone is £500 and
    £600 short of what the rules allow it, but £600 is all that is left under the share, and
    the report said £1,100 could still be claimed. The first claim keeps its £500; the second
    only the £100 left, and its flag says why."""
    result = verify(
        [
            claim("K1", "crime_asb_education", "1000.00", _BOTH_MET, "B1314"),
            claim("K2", "continuous_employment", "0.00", _BOTH_MET, "B1314"),
        ],
        [_both_routes_family()],
        missed_fees=False,
    )
    first, second = result.checks
    assert (first.under_claimed, second.under_claimed) == (Decimal("500.00"), Decimal("100.00"))
    (flag,) = second.flags
    assert flag.code == "AMOUNT_DIFFERS"
    assert flag.message.endswith(
        "; of the £600.00 more it allows, £100.00 is left to it: £600.00 is left under the "
        "£4,000 cap once the family's claims in the file are paid what they verify (to the "
        "earliest claims first)"
    )
    assert flag.compared["under_claimed"] == "100.00"
    assert result.reconciliation()[-1]["under_claimed"] == Decimal("600.00")
    assert result.missed_results == ()


def test_a_later_claim_that_takes_the_room_leaves_an_earlier_under_claim_nothing() -> None:
    result = verify(
        [
            claim("K1", "crime_asb_education", "1000.00", _BOTH_MET, "B1314"),
            claim("K2", "continuous_employment", "600.00", _BOTH_MET, "B1314"),
        ],
        [_both_routes_family()],
        missed_fees=False,
    )
    assert [c.verified for c in result.checks] == [Decimal("1000.00"), Decimal("600.00")]
    assert [c.under_claimed for c in result.checks] == [Decimal(0), Decimal(0)]
    assert result.missed_results == ()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["B1314", "EX-010", "EX-012", "EX-015", "EX-044", "EX-048", "EX-001"]),
    st.lists(
        st.tuples(
            st.sampled_from(["crime_asb_education", "progress_to_work", "continuous_employment"]),
            st.integers(0, 250_000),
        ),
        min_size=2,
        max_size=3,
        unique_by=lambda t: t[0],
    ),
    st.dates(date(2013, 1, 1), date(2015, 12, 31)),
)
@example("B1314", [("crime_asb_education", 100_000), ("continuous_employment", 0)], _BOTH_MET)
@example("B1314", [("continuous_employment", 10_000), ("crime_asb_education", 0)], _BOTH_MET)
def test_claims_of_one_family_never_under_claim_more_than_is_payable(
    family_id: str, claims: list[tuple[str, int]], on: date
) -> None:
    """Several claims of one family on one day: what they verify and under-claim, and what is
    missed, fit in what the engine finds payable for it with nothing claimed."""
    family = _both_routes_family() if family_id == "B1314" else families()[family_id]
    made = [
        claim(f"P{n}", kind, str(Decimal(pence).scaleb(-2)), on, family_id)
        for n, (kind, pence) in enumerate(claims)
    ]
    result = verify(made, [family], missed_fees=False)
    payable = sum((m.amount for m in pbr.audit.missed_claims([family], on, fees=False)), Decimal(0))
    verified = sum((c.verified for c in result.checks), Decimal(0))
    under, missed = _under_and_missed(result)
    assert verified + under + missed <= payable


def test_the_earlier_claim_by_date_keeps_the_shared_room_whatever_the_rows_order() -> None:
    rows = [
        claim("K1", "crime_asb_education", "1000.00", _BOTH_MET, "B1314"),
        claim("K2", "continuous_employment", "0.00", date(2013, 10, 1), "B1314"),
    ]
    for ordered in (rows, rows[::-1]):
        result = verify(ordered, [_both_routes_family()], missed_fees=False)
        under = {c.claim.claim_id: c.under_claimed for c in result.checks}
        assert sum(under.values()) == result.reconciliation()[-1]["under_claimed"]
        assert under["K2"] > 0  # the earlier claim date, whichever row it is
        assert sum(under.values()) <= Decimal("600.00")


def test_a_nil_claim_is_not_short_of_a_result_a_later_claim_verifies() -> None:
    """A £0.00 crime claim, then the crime result claimed in full: the first was shown short
    of what the second verified (£700, then £100 of progress-to-work room)."""
    family = families()["EX-012"]
    result = verify(
        [
            claim("F", "attachment_fee", "3200.00", date(2013, 1, 1), "EX-012"),
            claim("A", "crime_asb_education", "0.00", date(2013, 6, 23), "EX-012"),
            claim("B", "crime_asb_education", "700.00", date(2014, 1, 27), "EX-012"),
        ],
        [family],
        missed_fees=False,
    )
    assert [c.under_claimed for c in result.checks] == [Decimal(0)] * 3
    assert result.checks[2].verified == Decimal("700.00")


def test_one_fee_is_under_claimed_once_however_many_claims_of_it() -> None:
    """A £0.00 fee claim and a £700.00 one: £4,100 was shown under-claimed of a £2,400 fee."""
    result = verify(
        [
            claim("A", "attachment_fee", "0.00", date(2014, 9, 15), "EX-046"),
            claim("B", "attachment_fee", "700.00", date(2015, 2, 26), "EX-046"),
        ],
        [families()["EX-046"]],
        missed_fees=False,
    )
    fee = max(c.allowed for c in result.checks)
    assert sum(c.under_claimed for c in result.checks) == fee - Decimal("700.00")


def test_a_report_whose_under_claims_were_shared_is_recorded_as_written(tmp_path: Path) -> None:
    """The ledger's check of a report held every under-claim to ``allowed - amount``: a report
    the audit wrote, untouched, was refused once an under-claim had been cut."""
    made = [
        claim("K1", "crime_asb_education", "1000.00", _BOTH_MET, "B1314"),
        claim("K2", "continuous_employment", "0.00", _BOTH_MET, "B1314"),
    ]
    result = verify(made, [_both_routes_family()], missed_fees=False)
    assert result.checks[1].under_claimed < result.checks[1].allowed - Decimal("0.00")
    report = write_report(result, tmp_path / "audit.csv")
    paid = pbr.audit.payments_from_report(
        report, paid_on=date(2013, 11, 1), partial=True, recheck=result
    )
    assert [(p.claim_id, p.amount) for p in paid] == [("K1", Decimal("1000.00"))]
    text = report.read_text().replace(",100.00,flagged,", ",700.00,flagged,")
    assert text != report.read_text()
    (tmp_path / "edited.csv").write_text(text)
    with pytest.raises(
        pbr.ledger.LedgerError,
        match=r"under_claimed = '700.00': the row.s amounts make it at most 600.00",
    ):
        pbr.audit.payments_from_report(tmp_path / "edited.csv", paid_on=date(2013, 11, 1))


def test_a_paid_claim_the_audit_allows_nothing_is_counted_as_given_back() -> None:
    """E1, claimed too early and paid, is over-claimed, to be given back: the audit counts it
    so, and a later claim of the result (E2) is judged as if E1 were not paid. (Keeping E1's
    payment as well had the council give £800 back and be paid nothing for a met result.)"""
    paid = {
        "F1": [
            pbr.records.Payment(
                kind="continuous_employment",
                amount=Decimal("800.00"),
                paid_on=date(2013, 2, 15),
                claim_id="E1",
            )
        ]
    }
    early = claim("E1", "continuous_employment", "800.00", date(2013, 2, 1))
    again = claim("E2", "continuous_employment", "800.00", date(2013, 6, 30))
    both = verify([early, again], [phase_one_family()], history=paid, as_of=date(2013, 6, 30))
    assert [c.codes for c in both.checks] == [("CLAIMED_TOO_EARLY",), ()]
    assert both.checks[0].over_claimed == Decimal("800.00")  # to be given back
    assert both.checks[1].verified == Decimal("800.00")  # paid once in all
    assert "continuous_employment" not in [m.kind for m in both.missed]
    alone = verify([early], [phase_one_family()], history=paid, as_of=date(2013, 6, 30))
    (owed,) = [m for m in alone.missed if m.kind == "continuous_employment"]
    assert owed.claimed_before == ("E1",)


def test_a_route_claimed_earlier_in_the_file_is_named_as_claimed_not_paid() -> None:
    """ROUTE_NOT_ALLOWED said the other route was "paid" when a claim of the file took it."""
    exclusive = pbr.rules.PHASE_ONE.with_interpretations(employment_after_crime="exclusive")
    claims = [
        claim("B", "continuous_employment", "800.00", date(2013, 6, 30)),
        claim("A", "crime_asb_education", "700.00", date(2013, 7, 1)),
    ]
    result = verify(claims, [phase_one_family()], rules_for=lambda f: exclusive)
    flag = result.checks[1].flags[0]
    assert flag.code == "ROUTE_NOT_ALLOWED"
    assert flag.message.startswith(
        "continuous_employment is claimed earlier in this file (B, counted as paid once verified)"
    )
    paid = {
        "F1": [
            pbr.records.Payment(
                kind="continuous_employment", amount=Decimal("800.00"), paid_on=date(2013, 6, 1)
            )
        ]
    }
    after = verify(claims[1:], [phase_one_family()], history=paid, rules_for=lambda f: exclusive)
    assert after.checks[0].flags[0].message.startswith("continuous_employment is paid")


def test_claims_sharing_an_id_with_other_values_are_judged_alike_in_any_order() -> None:
    """`verify` of claims made in Python judged the first of two X-1s and flagged the other."""
    small = claim("X-1", "attachment_fee", "100.00", date(2015, 3, 31), "EX-010")
    other = claim("X-2", "attachment_fee", "800.00", date(2015, 3, 31), "EX-011")
    large = claim("X-1", "attachment_fee", "4000.00", date(2015, 3, 31), "EX-013")
    runs = [verify(rows, families()) for rows in ([small, other, large], [large, other, small])]
    for run in runs:
        by_amount = {c.claim.amount: c for c in run.checks}
        for amount in (Decimal("100.00"), Decimal("4000.00")):
            check = by_amount[amount]
            assert check.codes == ("MALFORMED_ROW",)
            assert check.verified == 0
            assert "same claim_id is on a claim of EX-01" in check.flags[0].message
        assert by_amount[Decimal("800.00")].codes != ("MALFORMED_ROW",)
    assert runs[0].reconciliation() == runs[1].reconciliation()


def test_a_claim_before_evidence_leaves_the_period_names_the_day_it_can_be_met() -> None:
    # a call-out of 1 June 2016 is in every 6-month period to 30 November: a claim on
    # 1 August 2016 was told the window is complete on 7 September, not when it can be met
    family = erl_family()
    early = claim("E-1", "sustained_progress", "800.00", date(2016, 8, 1), family_id="ERL")
    flag = verify([early], [family], as_of=date(2017, 3, 31)).checks[0].flags[0]
    assert (flag.code, flag.compared["earliest_date"]) == ("CLAIMED_TOO_EARLY", "2016-12-01")
    assert flag.message == (
        "the result can first be met on 2016-12-01, after the claim date (evidence recorded "
        "since attachment is in its measurement window until then)"
    )


@pytest.mark.parametrize("seed", ["\ud800", "Q4\udfff"])
def test_a_seed_no_utf8_can_hold_is_refused_naming_it(seed: str) -> None:
    """A lone surrogate crashed the sample with UnicodeEncodeError while hashing the seed."""
    with pytest.raises(ValueError, match=r"has a lone surrogate, U\+D[8F]"):
        sample(claims_for_sampling(3), size=1, seed=seed)
