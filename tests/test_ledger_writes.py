"""What the ledger's writers refuse (append, import, record): one rule with its readers."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbr.ledger import Entry, Ledger, LedgerError
from pbr.records import Payment
from tests.test_ledger import one_line_error, run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HEADER = "family_id,kind,amount,paid_on,claim_id,rules_version\n"
APPEND = (
    "--family-id",
    "EX-010",
    "--kind",
    "crime_asb_education",
    "--amount",
    "1500.00",
    "--rules-version",
    "tf-phase-1/1.0",
    "--paid-on",
    "2015-05-01",
)


def entry(claim_id: str = "C1", **changes: object) -> Entry:
    values: dict[str, object] = {
        "family_id": "EX-010",
        "kind": "crime_asb_education",
        "amount": Decimal("1500.00"),
        "paid_on": date(2015, 5, 1),
        "claim_id": claim_id,
        "rules_version": "tf-phase-1/1.0",
    }
    values.update(changes)
    return Entry(**values)  # type: ignore[arg-type]


# 1. A claim id the readers refuse is refused by every writer, before anything is written


@given(st.text(max_size=70))
def test_a_claim_id_is_written_exactly_when_the_readers_accept_it(claim_id: str) -> None:
    try:
        Payment.model_validate({"kind": "attachment_fee", "amount": "1.00", "claim_id": claim_id})
        readable = True
    except ValueError:
        readable = False
    try:
        entry(claim_id).check()
        writable = True
    except LedgerError:
        writable = False
    assert writable == readable


@pytest.mark.parametrize("claim_id", ["C\tTAB", "J15\x00", "A\nB", "DEL\x7f", "C\x85"])
def test_append_refuses_a_control_character_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, claim_id: str
) -> None:
    db = tmp_path / "t.db"
    status, _, err = run(capsys, "ledger", "append", str(db), "--claim-id", claim_id, *APPEND)
    assert status == 2
    assert "a control character" in one_line_error(err)
    assert not db.exists()
    with pytest.raises(LedgerError, match=r"rules_version = .*a control character"):
        entry(rules_version="v\x1b[2J").check()


def test_import_refuses_a_control_character(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "in.csv").write_text(
        HEADER + "EX-001,attachment_fee,1.00,2015-01-01,OK,v\n"
        "EX-010,attachment_fee,1.00,2015-01-01,C\x07BEL,v\n"
    )
    status, _, err = run(
        capsys, "ledger", "import", str(tmp_path / "t.db"), str(tmp_path / "in.csv")
    )
    assert status == 2
    assert "line 3: family 'EX-010': claim_id = 'C\\x07BEL': a control character" in one_line_error(
        err
    )
    assert not (tmp_path / "t.db").exists()


def test_verify_names_an_entry_the_readers_refuse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "t.db"
    with monkeypatch.context() as patch:  # as an earlier pbr wrote it
        patch.setattr("pbr.ledger._text_problem", lambda value: "")
        Ledger(db).append([entry("OK"), entry("C\tTAB", family_id="EX-011")])
    verdict = Ledger(db).verify()
    assert not verdict.ok
    assert verdict.first_bad == 2
    assert "claim_id 'C\\tTAB': a control character, U+0009" in verdict.why
    status, out, _ = run(capsys, "ledger", "verify", str(db))
    assert status == 1
    assert "BROKEN at entry 2" in out
    assert "intact" not in out
    status, _, err = run(
        capsys,
        "audit",
        str(EXAMPLES / "claims.csv"),
        "--families",
        str(EXAMPLES / "families.jsonl"),
        "--ledger",
        str(db),
    )
    assert status == 2
    assert "broken at entry 2" in one_line_error(err)


# 4. Import takes every value exactly, or refuses the file naming the line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "family_id,kind,amount,amount,paid_on,claim_id,rules_version\n"
            "EX-1,attachment_fee,1.00,2.00,2015-01-01,A,v\n",
            "line 1: column 'amount' is named more than once",
        ),
        (
            HEADER.rstrip("\n") + ",note\nEX-1,attachment_fee,1.00,2015-01-01,A,v,x\n",
            "line 1: column 'note' is not a ledger column",
        ),
        (HEADER + "EX-1,attachment_fee,1.00,2015-01-01,A,v,extra\n", "line 2: 7 values for 6"),
        (HEADER + "EX-1,attachment_fee,1.00,2015-01-01,A\n", "line 2: 5 values for 6"),
        (
            HEADER
            + "\n\n\nEX-1,attachment_fee,1.00,2015-01-01,A,v\nEX-2,bad,1.00,2015-01-01,B,v\n",
            "line 6: claim 'B': kind = 'bad'",
        ),
        (
            HEADER
            + 'EX-1,attachment_fee,1.00,2015-01-01,"A,v\nEX-2,attachment_fee,1.00,2015-01-01,B,v\n',
            "lines 2-3: a value holds a line break",
        ),
        (HEADER + 'EX-1,attachment_fee,1.00,2015-01-01,"A\nB",v\n', "lines 2-3: a value holds"),
        (HEADER + "EX-1,attachment_fee,1.00,1950-01-01,A,v\n", "paid_on = '1950-01-01': a payment"),
        (HEADER + "EX-1,attachment_fee, 1.00,2015-01-01,A,v\n", "amount = ' 1.00'"),
        (HEADER + "EX-1,attachment_fee,1.00,2015-01-01 ,A,v\n", "paid_on = '2015-01-01 '"),
        (HEADER + " EX-1,attachment_fee,1.00,2015-01-01,A,v\n", "family_id = ' EX-1'"),
    ],
)
def test_import_refuses_what_it_cannot_take_exactly(
    tmp_path: Path, text: str, message: str
) -> None:
    ledger = Ledger(tmp_path / "l.db")
    (tmp_path / "in.csv").write_text(text)
    with pytest.raises(LedgerError, match=message.replace("(", "\\(")):
        ledger.import_csv(tmp_path / "in.csv")
    assert list(ledger.entries()) == []


def test_import_keeps_a_claim_id_exactly_and_round_trips(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(HEADER + "EX-1,attachment_fee,1.00,2015-01-01, X ,v \n")
    first = Ledger(tmp_path / "a.db")
    assert first.import_csv(tmp_path / "in.csv") == 1
    assert [(e.claim_id, e.rules_version) for _, e in first.entries()] == [(" X ", "v ")]
    first.export_csv(tmp_path / "out.csv")
    second = Ledger(tmp_path / "b.db")
    second.import_csv(tmp_path / "out.csv")
    second.export_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()
    assert second.verify().head == first.verify().head


def test_append_and_import_date_a_payment_by_one_rule(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    for day in (date(2012, 3, 31), date(1950, 1, 1)):
        with pytest.raises(LedgerError, match="a payment is dated from 2012-04-01"):
            ledger.append([entry(paid_on=day)])
    assert ledger.append([entry(paid_on=date(2012, 4, 1))]) == 1
    db = sqlite3.connect(tmp_path / "l.db")
    assert db.execute("SELECT paid_on FROM entries").fetchall() == [("2012-04-01",)]
    db.close()


@pytest.mark.parametrize(
    ("kind", "version", "kinds"),
    [
        ("crime_asb_education", "tf-phase-2/1.0", "attachment_fee, sustained_progress"),
        ("attachment_fee", "supporting-families/1.0", "sustained_progress, continuous_employment"),
    ],
)
def test_append_refuses_a_kind_the_entrys_programme_does_not_pay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, version: str, kinds: str
) -> None:
    """The ledger is append-only: a payment its programme does not have could never be undone."""
    db = tmp_path / "t.db"
    argv = [*APPEND[:2], "--kind", kind, *APPEND[4:6], "--rules-version", version, *APPEND[8:]]
    status, _, err = run(capsys, "ledger", "append", str(db), "--claim-id", "C4", *argv)
    assert status == 2
    programme = version.partition("/")[0]
    assert (
        f"claim 'C4': kind = {kind!r}: not a payment of {programme} (rules_version {version!r}), "
        f"which pays {kinds}"
    ) in one_line_error(err)
    assert not db.exists()
    with pytest.raises(LedgerError, match=f"not a payment of {programme}"):
        Ledger(tmp_path / "api.db").append([entry(kind=kind, rules_version=version)])


@pytest.mark.parametrize("version", ["TF-PHASE-1/1.0", " tf-phase-1/1.0", "Tf-Phase-1"])
def test_a_rules_version_naming_a_programme_as_typed_is_checked_for_kinds(version: str) -> None:
    with pytest.raises(LedgerError, match="not a payment of tf-phase-1 "):
        entry(kind="sustained_progress", rules_version=version).check()


def test_a_rules_version_naming_no_known_programme_is_not_checked_for_kinds() -> None:
    """A programme registered in another process (`pbr.programmes.register`) or a council's
    own scheme is not known to the `pbr ledger` commands: its entries are written as given."""
    entry(kind="attachment_fee", rules_version="v1").check()
    entry(kind="sustained_progress", rules_version="local-scheme/2.0").check()
    entry(
        kind="sustained_progress", rules_version="tf-phase-9/1.0", paid_on=date(2012, 4, 1)
    ).check()


@pytest.mark.parametrize(
    ("version", "paid_on", "programme_id"),
    [
        ("supporting-families/1.0", "2016-06-01", "supporting-families"),
        ("TF-Phase-2/1.0", "2014-03-31", "tf-phase-2"),  # named as typed: the day before
    ],
)
def test_append_refuses_a_payment_dated_before_its_programme_began(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    version: str,
    paid_on: str,
    programme_id: str,
) -> None:
    """An £800 Supporting Families payment dated 2016 was written, and took a phase-two
    family's one claim at every evaluation after."""
    from pbr.programmes import programme

    first = programme(programme_id).rules.attached_from
    db = tmp_path / "t.db"
    argv = ["--family-id", "P6-zero", "--kind", "continuous_employment", "--amount", "800.00",
            "--claim-id", "L6", "--rules-version", version, "--paid-on", paid_on]  # fmt: skip
    status, _, err = run(capsys, "ledger", "append", str(db), *argv)
    assert status == 2
    assert (
        f"claim 'L6': paid_on = {paid_on!r}: before {programme_id} began on {first} (the first "
        f"attachment day its rules cover), so it is no payment under rules_version {version!r}"
    ) in one_line_error(err)
    assert not db.exists()
    on = date.fromisoformat(paid_on)
    with pytest.raises(LedgerError, match=f"before {programme_id} began on {first}"):
        entry(kind="continuous_employment", rules_version=version, paid_on=on).check()
    entry(kind="continuous_employment", rules_version=version, paid_on=first).check()
    (tmp_path / "in.csv").write_text(
        HEADER + f"P6-zero,continuous_employment,800.00,{paid_on},L6,{version}\n"
    )
    status, _, err = run(capsys, "ledger", "import", str(db), str(tmp_path / "in.csv"))
    assert status == 2
    assert f"line 2: claim 'L6': paid_on = {paid_on!r}: before " in one_line_error(err)
    assert not db.exists()


def test_a_ledger_written_before_the_date_check_still_verifies_and_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbr.history import PaymentHistory

    db = tmp_path / "old.db"
    early = entry(kind="continuous_employment", rules_version="supporting-families/1.0")
    with monkeypatch.context() as patched:  # as an earlier pbr wrote it
        patched.setattr(Entry, "check", lambda self: None)
        Ledger(db).append([early])
    status, out, _ = run(capsys, "ledger", "verify", str(db))
    assert status == 0, out
    assert PaymentHistory.load(db).rules_version == {"C1": "supporting-families/1.0"}
    status, _, err = run(capsys, "ledger", "append", str(db), "--claim-id", "C2", *APPEND)
    assert status == 0, err  # appending after it still works


def test_import_refuses_a_kind_the_rows_programme_does_not_pay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "in.csv").write_text(
        HEADER + "EX-001,attachment_fee,1.00,2015-01-01,OK,tf-phase-1/1.0\n"
        "SF-EMP,attachment_fee,100.00,2022-02-01,C3,supporting-families/1.0\n"
    )
    status, _, err = run(
        capsys, "ledger", "import", str(tmp_path / "t.db"), str(tmp_path / "in.csv")
    )
    assert status == 2
    assert (
        "line 3: claim 'C3': kind = 'attachment_fee': not a payment of supporting-families"
    ) in one_line_error(err)
    assert not (tmp_path / "t.db").exists()


# 2. pbr ledger record holds every claim row of the report to what the audit wrote


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    """The examples' audit report, as rows of values (the header first)."""
    import csv

    from pbr.audit import read_claims, verify, write_report

    families = {}
    for name in ("families.jsonl", "mixed-programmes.jsonl"):
        for item in pbr_read(EXAMPLES / name):
            families[item.family_id] = item
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    result = verify(claims, families, as_of=date(2015, 3, 31), rejections=malformed)
    path = write_report(result, tmp_path_factory.mktemp("r") / "audit.csv")
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def pbr_read(path: Path) -> list[Any]:
    import pbr

    return [item for item in pbr.read_records(path) if isinstance(item, pbr.Family)]


def edited(rows: list[list[str]], which: str, **changes: str) -> list[list[str]]:
    header = rows[0]
    out = [list(header)]
    for row in rows[1:]:
        values = dict(zip(header, row, strict=True))
        if values["claim_id"] == which:
            values.update(changes)
        out.append([values[c] for c in header])
    return out


def write(path: Path, rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, rows: list[list[str]], *more: str
) -> tuple[int, str, str]:
    report = write(tmp_path / "edited.csv", rows)
    return run(
        capsys,
        "ledger",
        "record",
        str(report),
        str(tmp_path / "l.db"),
        "--paid-on",
        "2015-05-15",
        *more,
    )


def test_the_unedited_report_records(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    status, out, _ = record(capsys, tmp_path, report)
    assert status == 0
    assert out.startswith("recorded 4 payments")


def flagged(report: list[list[str]], cut: bool) -> str:
    """A flagged claim id: one cut only (AMOUNT_DIFFERS, CAP_EXCEEDED), or one refused."""
    header = report[0]
    for row in report[1:]:
        values = dict(zip(header, row, strict=True))
        if values["status"] != "flagged":
            continue
        only_cut = set(values["flags"].split()) <= {"AMOUNT_DIFFERS", "CAP_EXCEEDED"}
        if only_cut == cut and values["amount"] != values["allowed"]:
            return values["claim_id"]
    raise AssertionError("no such claim in the examples")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("verified-above-allowed", "verified = '9999.00'"),
        ("flagged-made-verified", "allowed = "),
        ("refused-made-verified", "status = 'verified': verified with flags"),
        ("flags-removed", "allowed = "),
        ("partial-raised", "verified = "),
        ("over-claimed", "over_claimed = '0.00'"),
        ("claimed-on-deleted", "no ['claimed_on']"),
        ("claimed-on-blank", "claimed_on = '': not a date"),
        ("claimed-on-week", "claimed_on = '2015-W14-2': not a date (YYYY-MM-DD)"),
        ("amount-form", "amount = '1500'"),
        ("amount-negative", "amount = '-1500.00'"),
        ("duplicate-column", "column 'verified' is named more than once"),
        ("newline-claim-id", "claim_id = 'C-001\\nX': a control character"),
        ("other-programme", "kind = 'crime_asb_education': not a payment of tf-phase-2"),
        ("surplus-value", "25 values for 24 columns"),
    ],
)
def test_record_refuses_a_report_that_does_not_hold_together(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    report: list[list[str]],
    change: str,
    message: str,
) -> None:
    rows = report
    cut, refused = flagged(report, True), flagged(report, False)
    if change == "verified-above-allowed":
        rows = edited(report, "C-001", verified="9999.00")
    elif change == "flagged-made-verified":
        rows = edited(report, cut, status="verified", flags="", verified="0.00")
        values = dict(zip(report[0], next(r for r in rows if r[1] == cut), strict=True))
        rows = edited(rows, cut, verified=values["amount"], over_claimed="0.00")
    elif change == "refused-made-verified":
        rows = edited(report, refused, status="verified")
    elif change == "flags-removed":
        rows = edited(report, cut, flags="", status="verified")
    elif change == "partial-raised":
        values = dict(zip(report[0], next(r for r in report if r[1] == cut), strict=True))
        rows = edited(report, cut, verified=values["amount"], over_claimed="0.00")
    elif change == "over-claimed":
        values = dict(zip(report[0], next(r for r in report if r[1] == refused), strict=True))
        rows = edited(report, refused, over_claimed="0.00")
        assert values["over_claimed"] != "0.00"
    elif change == "claimed-on-deleted":
        at = report[0].index("claimed_on")
        rows = [row[:at] + row[at + 1 :] for row in report]
    elif change == "claimed-on-blank":
        rows = edited(report, "C-001", claimed_on="")
    elif change == "claimed-on-week":  # 2015-03-31 to Python 3.11's date.fromisoformat
        rows = edited(report, "C-001", claimed_on="2015-W14-2")
    elif change == "amount-form":
        rows = edited(report, "C-001", amount="1500", allowed="1500", verified="1500")
    elif change == "amount-negative":
        rows = edited(report, "C-001", amount="-1500.00")
    elif change == "duplicate-column":
        rows = [[*row, row[report[0].index("verified")]] for row in report]
    elif change == "newline-claim-id":
        rows = edited(report, "C-001", claim_id="C-001\nX")
    elif change == "other-programme":
        rows = edited(report, "C-001", rules_version="tf-phase-2/1.0")
    elif change == "surplus-value":
        rows = [report[0], [*report[1], "x"], *report[2:]]
    status, _, err = record(capsys, tmp_path, rows, "--partial")
    assert status == 2
    assert message in one_line_error(err)
    assert not (tmp_path / "l.db").exists()


def test_a_report_edited_consistently_is_recorded_as_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    """The documented limit: a claim moved to another family, every column kept in step."""
    rows = edited(report, "C-001", family_id="EX-999")
    status, _, _ = record(capsys, tmp_path, rows)
    assert status == 0
    paid = Ledger(tmp_path / "l.db").payments()
    assert "EX-999" in paid


# 3. With --claims and --families, the report must be exactly the audit run again

AUDITED = (
    "--claims",
    str(EXAMPLES / "claims.csv"),
    "--families",
    str(EXAMPLES / "families.jsonl"),
    "--families",
    str(EXAMPLES / "mixed-programmes.jsonl"),
)


@pytest.fixture(scope="module")
def again() -> Any:
    """The examples' claims audited again, as the re-check does (no as-of: it is not needed)."""
    from pbr.audit import read_claims, verify

    families = {}
    for name in ("families.jsonl", "mixed-programmes.jsonl"):
        for item in pbr_read(EXAMPLES / name):
            families[item.family_id] = item
    claims, malformed = read_claims(EXAMPLES / "claims.csv")
    return verify(claims, families, rejections=malformed)


def line_of(rows: list[list[str]], claim_id: str) -> int:
    """The report line of a claim's row (no value of the examples spans lines)."""
    return next(n for n, row in enumerate(rows, start=1) if row[1] == claim_id)


def rewritten_as_verified(report: list[list[str]], claim_id: str) -> list[list[str]]:
    """A flagged claim made verified, every column kept in step (the row checks pass it)."""
    values = dict(zip(report[0], next(r for r in report if r[1] == claim_id), strict=True))
    amount = values["amount"]
    return edited(
        report,
        claim_id,
        status="verified",
        flags="",
        why="",
        rule="",
        allowed=amount,
        verified=amount,
        over_claimed="0.00",
        unverified="0.00",
        under_claimed="0.00",
    )


def test_an_untouched_report_passes_the_recheck_and_records_the_same(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    status, plain, _ = record(capsys, tmp_path, report, "--partial")
    assert status == 0
    without = list(Ledger(tmp_path / "l.db").entries())
    (tmp_path / "l.db").unlink()
    status, out, err = record(capsys, tmp_path, report, "--partial", *AUDITED)
    assert (status, err) == (0, "")
    assert out == plain
    assert list(Ledger(tmp_path / "l.db").entries()) == without
    # recorded, then recorded again with that ledger as the audit's payment history: the
    # file's own claims are not history to it, so the report is still the audit's
    status, out, err = record(
        capsys, tmp_path, report, "--partial", *AUDITED, "--ledger", str(tmp_path / "l.db")
    )
    assert (status, err) == (0, "")
    assert out.startswith("recorded 0 payments")


def test_a_report_of_an_earlier_pbr_without_the_plan_columns_passes_the_recheck(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    """The report gained ``outcome_plan`` and ``outcome_plan_sha256``: a report written before
    them was refused by the re-check (no such column), though its verdicts are the audit's."""
    keep = [j for j, c in enumerate(report[0]) if c not in ("outcome_plan", "outcome_plan_sha256")]
    assert len(keep) == len(report[0]) - 2
    earlier = [[row[j] for j in keep] for row in report]
    status, out, err = record(capsys, tmp_path, earlier, "--partial", *AUDITED)
    assert (status, err) == (0, "")
    assert out.startswith("recorded ")
    changed = edited(earlier, "C-001", family_id="EX-999")  # the rest is still compared
    (tmp_path / "l.db").unlink()
    status, _, err = record(capsys, tmp_path, changed, "--partial", *AUDITED)
    assert status == 2
    assert "family_id = 'EX-999', the re-run audit writes" in err


@pytest.mark.parametrize(
    "change",
    [
        "moved-to-another-family",
        "flagged-rewritten-as-verified",
        "row-deleted",
        "last-row-deleted",
        "row-added",
        "row-added-among-the-claims",
        "made-a-sample-row",
    ],
)
def test_the_recheck_refuses_a_report_edited_consistently(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    report: list[list[str]],
    change: str,
) -> None:
    refused = flagged(report, False)
    claim_rows = [r for r in report if r[report[0].index("status")] in ("verified", "flagged")]
    copy = next(r for r in report if r[1] == refused)  # an added row that pays nothing
    copy = [copy[0], "C-900", *copy[2:]]
    if change == "moved-to-another-family":
        rows = edited(report, "C-001", family_id="EX-999")
        message = "line 2: family_id = 'EX-999', the re-run audit writes 'EX-010'"
    elif change == "flagged-rewritten-as-verified":
        rows = rewritten_as_verified(report, refused)
        original = next(r for r in report if r[1] == refused)
        now = next(r for r in rows if r[1] == refused)
        at = next(i for i, (a, b) in enumerate(zip(original, now, strict=True)) if a != b)
        message = (
            f"line {line_of(report, refused)}: {report[0][at]} = {now[at]!r}, "
            f"the re-run audit writes {original[at]!r}"
        )
    elif change == "row-deleted":
        rows = [report[0], report[1], *report[3:]]
        message = f"line 3: row = {report[3][0]!r}, the re-run audit writes {report[2][0]!r}"
    elif change == "last-row-deleted":
        rows = report[:-1]
        message = (
            f"line {len(report)}: claim_id = (no row), the re-run audit writes "
            f"{report[-1][1]!r} (claim file row {report[-1][0]})"
        )
    elif change == "row-added":
        rows = [*report, copy]
        message = f"line {len(report) + 1}: claim_id = 'C-900', the re-run audit writes (no row)"
    elif change == "row-added-among-the-claims":
        after = line_of(report, claim_rows[-1][1])
        rows = [*report[:after], copy, *report[after:]]
        message = f"line {after + 1}: row = {copy[0]!r}, the re-run audit writes"
    else:  # a claim row made a sample's row, which nothing records: it goes missing
        rows = edited(report, "C-001", status="mus")
        message = f"line 3: row = {report[2][0]!r}, the re-run audit writes {report[1][0]!r}"
    status, _, _ = record(capsys, tmp_path, rows)
    assert status == 0, "the row checks alone pass the edit"
    (tmp_path / "l.db").unlink()
    status, out, err = record(capsys, tmp_path, rows, *AUDITED)
    assert (status, out) == (2, "")
    line = one_line_error(err)
    assert f"edited.csv: {message}" in line, line
    assert line.rstrip().endswith("; nothing was recorded")
    assert not (tmp_path / "l.db").exists()


def test_the_as_of_is_not_asked_for(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    report: list[list[str]],
    again: Any,
) -> None:
    """The as-of dates only the missed claims, which no row holds: every as-of, one report.

    The report was written at 2015-03-31; the audit at another as-of (or none) writes the same
    claim rows, so a report cannot differ by its as-of and --as-of is no option of the re-check.
    """
    from dataclasses import replace

    from pbr.audit._record import recheck_rows

    assert recheck_rows(again) == [r for r in report[1:] if r[12] != "family_rejected"]
    assert recheck_rows(replace(again, as_of=date(2016, 1, 1))) == recheck_rows(again)
    with pytest.raises(SystemExit) as stop:
        record(capsys, tmp_path, report, *AUDITED, "--as-of", "2015-03-31")
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "pbr ledger record: error: unrecognized arguments: --as-of 2015-03-31 "
        "(see pbr ledger record --help)\n"
    )


def test_the_recheck_refuses_other_interpretations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    """Interpretations change every row's rules hash, and its interpretations column names
    them: give the audit's own."""
    status, _, err = record(
        capsys, tmp_path, report, *AUDITED, "--interpretation", "employment_after_crime=exclusive"
    )
    assert status == 2
    said = one_line_error(err)
    assert "edited.csv: line 2: interpretations = " in said  # the column that says which
    assert "employment_after_crime=top_up" in said
    assert "employment_after_crime=exclusive" in said
    assert not (tmp_path / "l.db").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--families", "f.jsonl"), "--families applies only with --claims FILE"),
        (("--ledger", "h.db"), "--ledger applies only with --claims FILE"),
        (("--plan", "p.toml"), "--plan applies only with --claims FILE"),
        (("--interpretation", "a=b"), "--interpretation applies only with --claims FILE"),
        (("--claims", "c.csv"), "--claims needs --families FILE"),
    ],
)
def test_recheck_options_go_together(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    report: list[list[str]],
    options: tuple[str, ...],
    message: str,
) -> None:
    status, _, err = record(capsys, tmp_path, report, *options)
    assert status == 2
    assert message in one_line_error(err)
    assert not (tmp_path / "l.db").exists()


def test_an_unreadable_claim_file_creates_no_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    status, _, err = record(
        capsys, tmp_path, report, "--claims", str(tmp_path / "none.csv"), *AUDITED[2:]
    )
    assert status == 2
    assert "none.csv" in one_line_error(err)
    assert not (tmp_path / "l.db").exists()


def test_the_api_rechecks_too(tmp_path: Path, report: list[list[str]], again: Any) -> None:
    from pbr.audit import payments_from_report

    path = write(tmp_path / "r.csv", report)
    paid_on = date(2015, 5, 15)
    assert payments_from_report(path, paid_on=paid_on, recheck=again) == payments_from_report(
        path, paid_on=paid_on
    )
    moved = write(tmp_path / "m.csv", edited(report, "C-001", family_id="EX-999"))
    with pytest.raises(
        LedgerError, match=re.escape("m.csv: line 2: family_id = 'EX-999', the re-run")
    ):
        payments_from_report(moved, paid_on=paid_on, recheck=again)


@given(data=st.data())
def test_any_change_to_a_claim_row_is_refused_by_the_recheck(
    tmp_path_factory: pytest.TempPathFactory,
    report: list[list[str]],
    again: Any,
    data: st.DataObject,
) -> None:
    """One value of one claim or malformed row changed, anyhow: refused, naming it (or earlier)."""
    from pbr.audit import payments_from_report

    header = report[0]
    lines = [n for n, r in enumerate(report) if n and r[12] in ("verified", "flagged", "malformed")]
    n = data.draw(st.sampled_from(lines), label="line index")
    column = data.draw(st.sampled_from(range(len(header))), label="column")
    value = data.draw(st.text(max_size=12).filter(lambda v: v != report[n][column]))
    rows = [list(r) for r in report]
    rows[n][column] = value
    path = write(tmp_path_factory.mktemp("h") / "r.csv", rows)
    with pytest.raises(LedgerError) as refused:
        payments_from_report(path, paid_on=date(2015, 5, 15), partial=True, recheck=again)
    text = str(refused.value)
    assert "\n" not in text  # one line, whatever the value holds
    # the edited row's line is named, or an earlier one (the line count stops at a row that
    # no longer parses); a value with line breaks moves the lines after it
    named = int(re.findall(r": lines? (\d+)", text)[0])
    assert named <= n + 1 + value.count("\n") + value.count("\r"), text


@pytest.mark.parametrize("command", ["append", "import", "record"])
def test_a_broken_ledger_is_refused_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]], command: str
) -> None:
    """Writing onto a ledger already broken was told apart from breaking it by nothing."""
    db = tmp_path / "l.db"
    Ledger(db).append([entry("C0", family_id="EX-050", kind="attachment_fee")])
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE entries SET family_id = 'EX-051' WHERE seq = 1")
    connection.close()
    if command == "append":
        argv = ["ledger", "append", str(db), "--claim-id", "C1", *APPEND]
    elif command == "import":
        rows = tmp_path / "in.csv"
        rows.write_text(
            HEADER + "EX-010,crime_asb_education,1500.00,2015-05-01,C1,tf-phase-1/1.0\n"
        )
        argv = ["ledger", "import", str(db), str(rows)]
    else:
        argv = ["ledger", "record", str(write(tmp_path / "r.csv", report)), str(db)]
        argv += ["--paid-on", "2015-05-15"]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert one_line_error(err) == (
        f"pbr: ledger {db} is broken at entry 1: entry 1 was changed after it was written; "
        "nothing was written\n"
    )
    assert [seq for seq, _ in Ledger(db).entries()] == [1]


# 5. Small things: counts, options that would do nothing, a changed key marker


def test_one_entry_is_one_entry(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    assert run(capsys, "ledger", "append", db, "--claim-id", "C1", *APPEND)[0] == 0
    status, out, _ = run(capsys, "ledger", "verify", db)
    assert (status, out.split("\n")[0]) == (
        0,
        f"ledger {db}: 1 entry, chain intact (unkeyed: its entries agree with each other, which "
        "does not show that nobody rewrote them)",
    )
    status, out, _ = run(capsys, "ledger", "export", db, str(tmp_path / "o.csv"))
    assert (status, out) == (0, f"exported 1 entry to {tmp_path / 'o.csv'}\n")
    status, out, _ = run(
        capsys, "ledger", "import", str(tmp_path / "u.db"), str(tmp_path / "o.csv")
    )
    assert status == 0
    assert out.startswith(f"imported 1 entry into {tmp_path / 'u.db'}\n")
    _, out, _ = run(
        capsys,
        "audit",
        str(EXAMPLES / "claims.csv"),
        "--families",
        str(EXAMPLES / "families.jsonl"),
        "--ledger",
        db,
    )
    assert out.startswith(f"payment history: ledger {db}: 1 entry, head 1:")


@pytest.mark.parametrize("option", [("--key-file", "k.key"), ("--timeout", "60")])
@pytest.mark.parametrize("command", ["audit", "replay", "evaluate"])
def test_ledger_options_without_a_ledger_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: tuple[str, str], command: str
) -> None:
    families = str(EXAMPLES / "families.jsonl")
    first = str(EXAMPLES / "claims.csv") if command == "audit" else str(tmp_path / "d.jsonl")
    argv = [command, first, "--families", families, *option]
    if command == "evaluate":
        argv = [command, families, "--as-of", "2015-03-31", *option]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert f"{option[0]} applies only with --ledger DB" in one_line_error(err)


def test_a_changed_key_marker_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = b"a secret of at least sixteen bytes"
    db = tmp_path / "k.db"
    Ledger(db, key=key).append([entry()])
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE meta SET value = 'sha256' WHERE name = 'mac'")
    connection.close()
    for key_given in (None, key):
        verdict = Ledger(db, key=key_given).verify()
        assert not verdict.ok
        assert "key marker was changed" in verdict.why
        assert "entry 1 was changed" not in verdict.why
    with sqlite3.connect(db) as connection:  # the whole marker rewritten as unkeyed
        connection.execute("UPDATE meta SET value = '' WHERE name = 'key_check'")
    connection.close()
    verdict = Ledger(db, key=key).verify()
    assert "key marker was changed: its chain is an HMAC under the key given" in verdict.why
    (tmp_path / "k.key").write_bytes(key)
    status, out, _ = run(capsys, "ledger", "verify", str(db), "--key-file", str(tmp_path / "k.key"))
    assert status == 1
    assert "BROKEN: the ledger's key marker was changed" in out


def test_a_key_check_replaced_by_another_is_a_changed_marker_not_a_wrong_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Entries that hold under the key given prove it is the ledger's: the marker was changed."""
    key = b"a secret of at least sixteen bytes"
    db = tmp_path / "k.db"
    ledger = Ledger(db, key=key)
    ledger.append([entry("C1"), entry("C2", family_id="EX-011")])
    kept = ledger.verify().head_text
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", ("0" * 64,))
    connection.close()
    for expect_head in (None, kept):
        verdict = Ledger(db, key=key).verify(expect_head=expect_head)
        assert (verdict.ok, verdict.entries, verdict.first_bad) == (False, 2, None)
        assert verdict.why.startswith("the ledger's key marker was changed")
    (tmp_path / "k.key").write_bytes(key)
    argv = ("ledger", "verify", str(db), "--key-file", str(tmp_path / "k.key"))
    for extra in ((), ("--expect-head", kept)):
        status, out, err = run(capsys, *argv, *extra)
        assert (status, err) == (1, "")
        assert out.startswith(f"ledger {db}: BROKEN: the ledger's key marker was changed")
    key_file = ("--key-file", str(tmp_path / "k.key"))
    status, _, err = run(
        capsys, "ledger", "append", str(db), *APPEND, "--claim-id", "C3", *key_file
    )
    assert status == 1
    assert "is broken: the ledger's key marker was changed" in one_line_error(err)
    with pytest.raises(LedgerError, match="broken: the ledger's key marker was changed"):
        Ledger(db, key=key).append([entry("C3")])
    assert Ledger(db, key=key).verify().entries == 2  # nothing was written


def test_a_wrong_key_is_still_a_wrong_key_with_or_without_the_kept_head(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A marker and entries forged under another key never verify under the key given."""
    key = b"a secret of at least sixteen bytes"
    db = tmp_path / "k.db"
    ledger = Ledger(db, key=key)
    ledger.append([entry("C1")])
    kept = ledger.verify().head_text
    (tmp_path / "w.key").write_bytes(b"not the ledger's key, sixteen+")
    argv = ("ledger", "verify", str(db), "--key-file", str(tmp_path / "w.key"))
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert one_line_error(err) == (
        f"pbr: the key given is not the key of ledger {db}, or the ledger was rewritten under "
        "another key (check it with --expect-head and the head kept)\n"
    )
    status, _, err = run(capsys, *argv, "--expect-head", kept)
    assert status == 2
    assert one_line_error(err) == (
        f"pbr: the key given is not the key of ledger {db}, or the ledger was rewritten under "
        "another key\n"
    )
    with sqlite3.connect(db) as connection:  # with the key check replaced too: still wrong
        connection.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", ("0" * 64,))
    connection.close()
    with pytest.raises(LedgerError, match="the key given is not the key of ledger"):
        Ledger(db, key=b"not the ledger's key, sixteen+").verify()
    empty = tmp_path / "e.db"  # no entry to show the key is the ledger's: a wrong key
    Ledger(empty, key=key).verify()
    with sqlite3.connect(empty) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", ("0" * 64,))
    connection.close()
    with pytest.raises(LedgerError, match="the key given is not the key of ledger"):
        Ledger(empty, key=key).verify()


def test_a_changed_key_marker_and_a_later_entry_changed_are_both_named(tmp_path: Path) -> None:
    """Entry 1 holds under the key given, so the key is the ledger's: not "a wrong key"."""
    key = b"a secret of at least sixteen bytes"
    db = tmp_path / "k.db"
    Ledger(db, key=key).append([entry("C1"), entry("C2", family_id="EX-011")])
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", ("0" * 64,))
        connection.execute("UPDATE entries SET amount = '1400.00' WHERE seq = 2")
    connection.close()
    verdict = Ledger(db, key=key).verify()
    assert (verdict.ok, verdict.first_bad) == (False, 2)
    assert verdict.why.startswith("the ledger's key marker was changed: ")
    assert verdict.why.endswith("; and entry 2 was changed after it was written (or its hash "
                                "was not made with the ledger's key)")  # fmt: skip


JSON_TEXTS = [
    '{"family_id": "EX-001", "decisions": [{"kind": "attachment_fee"}], " P1-SPEC": 1}\n',
    '\ufeff\n  [{"family_id": "EX-001"}, {"family_id": "EX-002"}]\n',
]


def _reading(command: str, given: Path, db: Path) -> list[str]:
    """`pbr ledger record` (a report) or `import` (a ledger CSV) reading `given` into `db`."""
    if command == "record":
        return ["ledger", "record", str(given), str(db), "--paid-on", "2015-05-15"]
    return ["ledger", "import", str(db), str(given)]


@pytest.mark.parametrize("text", JSON_TEXTS)
@pytest.mark.parametrize("command", ["record", "import"])
def test_a_json_file_is_named_as_json_not_as_a_csv_with_a_column_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, command: str
) -> None:
    """``record d1.jsonl`` said "column ' P1-SPEC"' is named more than once"."""
    given = tmp_path / "d1.jsonl"
    given.write_text(text, encoding="utf-8")
    db = tmp_path / "l.db"
    said = (
        "is JSON, not an audit CSV report (pbr audit --report FILE.csv writes one)"
        if command == "record"
        else "is JSON, not a ledger CSV (pbr ledger export writes one)"
    )
    status, out, err = run(capsys, *_reading(command, given, db))
    assert (status, out) == (2, "")
    assert one_line_error(err) == f"pbr: {given} {said}\n"
    assert not db.exists()


@pytest.mark.parametrize("command", ["record", "import"])
def test_a_foreign_csv_is_named_by_its_missing_columns_before_a_column_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    given = tmp_path / "other.csv"
    given.write_text("name,name,value\na,b,1\n", encoding="utf-8")
    db = tmp_path / "l.db"
    said = (
        "is not an audit CSV report (pbr audit --report): no ["
        if command == "record"
        else ": missing columns ["
    )
    status, _, err = run(capsys, *_reading(command, given, db))
    assert status == 2
    assert one_line_error(err).startswith(f"pbr: {given}{' ' if command == 'record' else ''}{said}")
    assert "named more than once" not in err


def test_a_report_and_an_export_starting_with_a_bom_still_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, report: list[list[str]]
) -> None:
    text = io_text(report)
    (tmp_path / "r.csv").write_text("\ufeff" + text, encoding="utf-8")
    db = str(tmp_path / "l.db")
    argv = ["ledger", "record", str(tmp_path / "r.csv"), db, "--paid-on", "2015-05-15"]
    status, out, _ = run(capsys, *argv)
    assert (status, out.startswith("recorded 4 payments")) == (0, True)
    assert run(capsys, "ledger", "export", db, str(tmp_path / "e.csv"))[0] == 0
    exported = (tmp_path / "e.csv").read_text(encoding="utf-8")
    (tmp_path / "e.csv").write_text("\ufeff" + exported, encoding="utf-8")
    status, out, _ = run(
        capsys, "ledger", "import", str(tmp_path / "u.db"), str(tmp_path / "e.csv")
    )
    assert (status, out.startswith("imported 4 entries")) == (0, True)
    assert exported.startswith("family_id,")


def io_text(rows: list[list[str]]) -> str:
    import csv
    import io

    handle = io.StringIO()
    csv.writer(handle, lineterminator="\n").writerows(rows)
    return handle.getvalue()
