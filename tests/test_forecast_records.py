"""Forecast from actual records (secured, claimable now, forecast) and the CLI around it."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.forecast import Assumptions, ClaimCalendar, allocation, from_records
from pbr.testing import families
from tests.builders import COUNCIL_2012, council_calendar_family, family, rejected_record

from .forecast_cli import cli

pytestmark = [
    pytest.mark.filterwarnings("ignore:the claim windows run past"),
    pytest.mark.filterwarnings("ignore:the family records name 2 councils"),
]
"""Windows past phase one's last day for results claims, on purpose: figures pinned before it;
and examples/families.jsonl's two councils (Exampleshire, Sampleton) against one allocation."""

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = date(2013, 6, 30)
EMPLOYED = {
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}],
}
NOTHING = Assumptions("none", {"continuous_employment": Fraction(0)}, {6: Fraction(1)})


def test_a_met_result_and_the_unpaid_fee_are_claimable_now() -> None:
    met = family(family_id="MET", **EMPLOYED)  # attached 15 Oct 2012: fee £3,200, CE £800
    d = from_records([met], as_of=AS_OF, alloc=allocation(6), assumptions=NOTHING)
    assert (d.secured, d.claimable_now) == (Decimal("0.00"), Decimal("4000.00"))
    assert d.summary()["claimable_now"] == Decimal("4000.00")


def test_payments_made_by_the_date_are_secured_and_later_ones_are_not() -> None:
    paid = family(
        family_id="PAID",
        payments=[
            {"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2012-11-30"},
            {"kind": "continuous_employment", "amount": "800.00", "paid_on": "2013-09-30"},
        ],
        **EMPLOYED,
    )
    d = from_records([paid], as_of=AS_OF, alloc=allocation(6), assumptions=NOTHING)
    # the fee was paid by 30 June 2013; the employment payment of September is not yet made
    assert (d.secured, d.claimable_now) == (Decimal("3200.00"), Decimal("800.00"))
    later = from_records([paid], as_of=date(2013, 10, 1), alloc=allocation(6), assumptions=NOTHING)
    assert (later.secured, later.claimable_now) == (Decimal("4000.00"), Decimal("0.00"))


def test_a_family_attached_after_the_date_has_its_fee_forecast_not_claimable() -> None:
    coming = family(
        family_id="LATER",
        attached_on="2013-08-01",
        payments=[{"kind": "attachment_fee", "amount": "2400.00", "paid_on": "2013-08-20"}],
    )
    d = from_records([coming], as_of=AS_OF, alloc=allocation(1), assumptions=NOTHING)
    assert (d.secured, d.claimable_now) == (Decimal("0.00"), Decimal("0.00"))
    # the allocation's one funded family is this record; its 2013/14 fee, in the first quarterly window on or after 1 August 2013
    fee_windows = [(w.claim_date, w.attachment_fees) for w in d.windows if w.attachment_fees]
    assert fee_windows[0] == (date(2013, 9, 30), Decimal("2400.00"))


def test_an_undated_payment_is_not_secured_before_the_family_is_attached() -> None:
    """EX-004 (attached 1 April 2014) with its fee undated was £1,600 secured in January 2013."""
    fee = {"kind": "attachment_fee", "amount": "1600.00", "claim_id": "EX-004-P1"}
    undated = family(family_id="LATER", attached_on="2014-04-01", payments=[fee])
    d = from_records([undated], as_of=date(2013, 1, 1), alloc=allocation(1), assumptions=NOTHING)
    assert (d.secured, d.claimable_now) == (Decimal("0.00"), Decimal("0.00"))
    fees = [(w.claim_date, w.attachment_fees) for w in d.windows if w.attachment_fees]
    assert fees == [(date(2014, 6, 30), Decimal("1600.00"))]  # as for any later attachment
    # from the day it is attached the undated fee is made (clarification 6), and so secured
    for as_of in (date(2014, 4, 1), date(2014, 6, 30)):
        now = from_records([undated], as_of=as_of, alloc=allocation(1), assumptions=NOTHING)
        assert (now.secured, now.claimable_now) == (Decimal("1600.00"), Decimal("0.00"))
    # a dated payment on or before as_of stays secured, even before attachment
    early = dict(fee, paid_on="2012-12-31")
    dated = family(family_id="EARLY", attached_on="2014-04-01", payments=[early, fee])
    both = from_records([dated], as_of=date(2013, 1, 1), alloc=allocation(1), assumptions=NOTHING)
    assert both.secured == Decimal("1600.00")
    assert sum((w.attachment_fees for w in both.windows), Decimal(0)) == Decimal("0.00")


@settings(max_examples=30, deadline=None)
@given(families(max_events=1), st.dates(min_value=date(2012, 4, 1), max_value=date(2016, 3, 31)))
def test_nothing_undated_is_secured_before_attachment(record: pbr.Family, as_of: date) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = from_records([record], as_of=as_of, alloc=allocation(0), assumptions=NOTHING)
    made = [p for p in record.payments if p.paid_on is None or p.paid_on <= as_of]
    if as_of < record.attached_on:
        made = [p for p in made if p.paid_on is not None]
    assert d.secured == sum((p.amount for p in made), Decimal("0.00"))


def test_an_ineligible_family_has_no_fee_to_claim() -> None:
    not_troubled = family(family_id="NO", identified_for=["work"])
    decision = pbr.evaluate(not_troubled, as_of=AS_OF)
    assert not decision.eligible
    d = from_records([not_troubled], as_of=AS_OF, alloc=allocation(6), assumptions=NOTHING)
    assert d.claimable_now == Decimal("0.00")


def test_an_ineligible_family_takes_no_funded_place() -> None:
    """A NOT_ELIGIBLE record filled one of the funded places, whose money was then not forecast."""
    not_troubled = family(family_id="NO", identified_for=["work"])
    as_of = date(2012, 12, 31)  # a quarter of 2012/13 and two years are still to come
    none = from_records([rejected_record()], as_of=as_of, alloc=allocation(1), assumptions=NOTHING)
    d = from_records([not_troubled], as_of=as_of, alloc=allocation(1), assumptions=NOTHING)
    # the one funded place is forecast as with no record: its fee in the quarters left
    assert d.total == none.total == Decimal("2133.33")  # 1/9 × £3,200 + 4/9 × (£2,400 + £1,600)
    assert [w.attachment_fees for w in d.windows] == [w.attachment_fees for w in none.windows]
    assert (d.families_evaluated, d.not_eligible) == (1, 1)
    assert d.summary()["not_eligible"] == 1
    # what was paid for it still counts as secured, and is over the maximum: it fills no funded
    # place's room, so the funded family's money at risk stays at risk (it was netted, £0.00)
    paid = [{"kind": "attachment_fee", "amount": "3200.00", "paid_on": "2012-11-30"}]
    wrongly = family(family_id="NO", identified_for=["work"], payments=paid)
    with pytest.warns(UserWarning, match=r"paid though not eligible, by £3,200\.00 \(NO"):
        over = from_records([wrongly], as_of=as_of, alloc=allocation(1), assumptions=NOTHING)
    assert (over.secured, over.total) == (Decimal("3200.00"), Decimal("2133.33"))
    assert (over.over_maximum, over.paid_over_cap) == (Decimal("3200.00"), Decimal("3200.00"))
    assert over.at_risk == none.at_risk == Decimal("1600.00")  # £266.67 only after claims closed
    assert over.never_payable == none.never_payable == Decimal("266.67")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(families(max_events=1), max_size=4, unique_by=lambda f: f.family_id),
    families(max_events=1),
    st.dates(min_value=date(2012, 4, 1), max_value=date(2016, 3, 31)),
    st.integers(0, 8),
)
def test_a_family_not_eligible_changes_only_what_is_secured(
    records: list[pbr.Family], other: pbr.Family, as_of: date, estimated: int
) -> None:
    ineligible = other.model_copy(update={"family_id": "NOT-ELIGIBLE", "identified_for": ("work",)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        none = [rejected_record()]  # no record at all is refused; a rejected one changes no money
        without = from_records(records or none, as_of=as_of, alloc=allocation(estimated))
        given = from_records([*records, ineligible], as_of=as_of, alloc=allocation(estimated))
    paid = pbr.evaluate(ineligible, as_of=as_of).paid_to_date
    if as_of < ineligible.attached_on:  # undated payments are not made before attachment
        dated = (p for p in ineligible.payments if p.paid_on and p.paid_on <= as_of)
        paid = sum((p.amount for p in dated), Decimal("0.00"))
    assert given.secured == without.secured + paid
    for money in ("claimable_now", "total", "beyond_horizon", "not_attached"):
        assert getattr(given, money) == getattr(without, money), money
    assert given.families_evaluated == without.families_evaluated + 1
    assert given.not_eligible == without.not_eligible + 1


def test_pending_results_are_forecast_from_their_earliest_date_within_the_cap() -> None:
    # attached 15 Oct 2012, nothing met yet at 31 Dec 2012: employment is forecast at p = 1,
    # never before the day after the evaluation date, and never beyond the family's room
    pending = family(family_id="PENDING")
    sure = Assumptions("sure", {"continuous_employment": Fraction(1)}, {4: Fraction(1)})
    calendar = ClaimCalendar.quarterly(date(2012, 4, 1), date(2016, 3, 31))
    as_of = date(2013, 3, 31)  # the 4-month lag (15 February 2013) falls before it
    d = from_records(
        [pending], as_of=as_of, alloc=allocation(1), assumptions=sure, calendar=calendar
    )
    assert d.claimable_now == Decimal("3200.00")  # the unpaid fee
    results = [(w.claim_date, w.results["continuous_employment"]) for w in d.windows]
    assert all(day > as_of for day, _ in results)
    assert results[0][0] == date(2013, 6, 30)  # the day after as_of, in the next window
    # allocation(1) funds one family (5/6 rounded), which the record already is: no extra cohort
    assert sum((amount for _, amount in results), Decimal(0)) == Decimal("800.00")
    assert d.secured + d.claimable_now + d.total <= allocation(1).maximum


def test_funded_families_with_no_quarter_left_are_reported_not_dropped() -> None:
    d = from_records(
        [rejected_record()], as_of=date(2015, 3, 31), alloc=allocation(12), assumptions=NOTHING
    )
    assert d.not_attached == 10
    assert d.summary()["not_attached"] == 10
    early = from_records(
        [rejected_record()], as_of=date(2012, 3, 31), alloc=allocation(12), assumptions=NOTHING
    )
    assert early.not_attached == 0
    assert (
        sum((w.attachment_fees for w in early.windows), Decimal(0))
        == allocation(12).attachment_fees
    )


def test_a_record_of_another_programme_is_rejected_counted_and_the_rest_forecast() -> None:
    """One record the rules do not cover used to stop the whole forecast (a ValueError)."""
    items = pbr.read_records(EXAMPLES / "mixed-programmes.jsonl")
    with pytest.warns(UserWarning, match="not claimable now"):  # its results: claims closed
        d = from_records(items, as_of=date(2016, 3, 31), alloc=allocation(80))
    assert d.families_evaluated == 1  # MX-P1-01, the one phase-one family
    assert [r.family_id for r in d.rejected][:2] == ["MX-P2-01", "MX-P2-02"]
    assert all(r.errors[0].type == "outside_programme" for r in d.rejected)
    assert d.rejected[0].errors[0].loc == "programme"  # it names another programme
    assert d.rejected[1].errors[0].loc == "attached_on"  # no programme: its date is outside
    assert d.summary()["rejected"] == len(d.rejected) == 9
    assert d.summary()["records"] == 1


def test_from_records_takes_what_read_records_yields_and_keeps_its_rejections(
    tmp_path: Path,
) -> None:
    """The tutorial's `isinstance(f, pbr.Family)` filter dropped rejections without a count."""
    path = _mixed_file(tmp_path)
    d = from_records(pbr.read_records(path), as_of=date(2014, 3, 31), alloc=allocation(12))
    # the reader's rejections keep their line; a family the rules do not cover, its record
    assert [(r.line, r.record, r.family_id) for r in d.rejected] == [
        (4, 4, "BAD"),
        (5, 5, "EX-002"),
        (None, 6, "BAD-PHASE"),
    ]
    assert d.families_evaluated == 3
    assert d.summary()["rejected"] == 3
    # the ten funded families less the three with records are forecast by assumption
    good = [f for f in pbr.read_records(path) if isinstance(f, pbr.Family)][:3]
    assert d.total == from_records(good, as_of=date(2014, 3, 31), alloc=allocation(12)).total


def _mixed_file(tmp_path: Path) -> Path:
    """Three good families, then a bad record, a repeated family and one attached too early."""
    lines = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()
    early = json.loads(lines[0]) | {"family_id": "BAD-PHASE", "attached_on": "2011-01-01"}
    path = tmp_path / "mixed.jsonl"
    bad = '{"family_id": "BAD", "attached_on": "not a date"}'
    path.write_text("\n".join([*lines[:3], bad, lines[1], json.dumps(early)]) + "\n")
    return path


def test_more_records_than_funded_families_is_over_the_maximum_not_negative_risk() -> None:
    """60 records against 8 funded families used to give at risk -£184,470.00 without a word."""
    families = [
        f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)
    ]
    with pytest.warns(
        UserWarning,
        match=r"57 eligible family records \(and 3 not eligible\) against 8 funded families",
    ):
        d = from_records(families, as_of=date(2015, 3, 31), alloc=allocation(10))
    assert d.at_risk == Decimal("0.00")
    assert d.over_maximum == Decimal("181302.00")
    assert d.never_payable == Decimal("0.00")  # none of the maximum is left to be payable
    got = d.secured + d.claimable_now + d.total + d.beyond_horizon
    assert got + d.at_risk - d.over_maximum == d.maximum  # reconciles to the penny
    row = d.summary()
    assert (row["at_risk"], row["over_maximum"]) == (Decimal("0.00"), Decimal("181302.00"))
    within = from_records(families, as_of=date(2015, 3, 31), alloc=allocation(80))
    assert within.over_maximum == Decimal("0.00")
    assert within.summary()["over_maximum"] == Decimal("0.00")


def test_records_rows_carry_secured_and_claimable() -> None:
    met = family(family_id="MET", **EMPLOYED)
    rows = from_records([met], as_of=AS_OF, alloc=allocation(60)).to_records()
    assert rows
    assert {(r["as_of"], r["secured"], r["claimable_now"]) for r in rows} == {
        (AS_OF, Decimal("0.00"), Decimal("4000.00"))
    }


# --- command line -----------------------------------------------------------------------------


def test_cli_records_as_csv_and_json_keep_secured_and_claimable() -> None:
    args = ("--records", str(EXAMPLES / "families.jsonl"), "--estimated", "80")
    table = cli(*args, "--as-of", "2014-03-31")
    assert table.returncode == 0, table.stderr
    # EX-054, attached 14 April 2014, has an undated fee: not secured before it attaches
    assert "as of 2014-03-31: secured (paid) £45,300.00; claimable now £95,800.00" in table.stdout
    rows = list(
        csv.DictReader(io.StringIO(cli(*args, "--as-of", "2014-03-31", "--format", "csv").stdout))
    )
    assert rows[0]["secured"] == "45300.00"
    # EX-009, EX-016 and EX-060 are not eligible: counted, and taking no funded place
    assert "records: 60 families evaluated, 3 not eligible" in table.stdout
    summary = cli(*args, "--as-of", "2014-03-31", "--format", "csv", "--table", "summary")
    assert next(csv.DictReader(io.StringIO(summary.stdout)))["not_eligible"] == "3"
    assert rows[0]["claimable_now"] == "95800.00"
    first = json.loads(
        cli(*args, "--as-of", "2014-03-31", "--format", "json").stdout.splitlines()[0]
    )
    assert (first["as_of"], first["claimable_now"]) == ("2014-03-31", "95800.00")


@pytest.mark.parametrize("name", ["tables", "book.xlsx"])
def test_cli_records_from_council_tables_forecast_as_the_same_records(
    tmp_path: Path, name: str
) -> None:
    from pbr.tables import write_tables

    pytest.importorskip("openpyxl")
    records = [
        f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)
    ]
    write_tables(records, tmp_path / name)
    args = ("--estimated", "80", "--as-of", "2014-03-31", "--format", "json")
    from_tables = cli("--records", str(tmp_path / name), *args)
    from_lines = cli("--records", str(EXAMPLES / "families.jsonl"), *args)
    assert from_tables.returncode == 0
    assert from_tables.stderr == from_lines.stderr  # the two councils' records, warned of
    assert "warning: the family records name 2 councils" in from_tables.stderr
    assert from_tables.stdout == from_lines.stdout
    assert json.loads(from_tables.stdout.splitlines()[0])["claimable_now"] == "95800.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--families", "790", "--as-of", "2014-03-31"), "apply to --records"),
        (("--families", "790", "--estimated", "80"), "apply to --records"),
        (
            ("--records", "x.jsonl", "--estimated", "80", "--as-of", "2014-03-31", "--runs", "5"),
            "--runs applies",
        ),
        (
            (
                "--records",
                "x.jsonl",
                "--estimated",
                "80",
                "--as-of",
                "2014-03-31",
                "--sensitivity",
            ),
            "--sensitivity applies to --families and --councils",
        ),
        (("--families", "790", "--runs", "-3"), "0 or more"),
        (("--families", "-1"), "must not be negative"),
        (("--families", "790", "--format", "xlsx"), "needs --output"),
        (("--families", "790", "--title", "x"), "give --plot"),
        (("--families", "790", "--table", "years"), "--format csv or json"),
        (("--families", "790", "--format", "csv", "--table", "sensitivity"), "needs --sensitivity"),
        (("--councils", "c.csv", "--upfront-grant", "5"), "in the file"),
    ],
)
def test_cli_refuses_options_that_do_not_apply(args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_cli_reports_rejected_records_and_exits_1(tmp_path: Path) -> None:
    good = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "some.jsonl"
    path.write_text(
        good + '\n{"family_id": "BAD", "attached_on": "not a date"}\n', encoding="utf-8"
    )
    result = cli("--records", str(path), "--estimated", "12", "--as-of", "2014-03-31")
    assert result.returncode == 1
    assert "BAD" in result.stderr
    assert "attached_on" in result.stderr
    assert "1 record(s) rejected" in result.stderr
    assert "Scenario base" in result.stdout


def test_no_records_is_refused_not_forecast_by_assumption(tmp_path: Path) -> None:
    """An empty file forecast all 50 funded families by assumption and exited 0."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    for path in (empty, blank):
        result = cli("--records", str(path), "--estimated", "60", "--as-of", "2014-03-31")
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"pbr: no records in {path}\n"  # as pbr evaluate says it
    nothing: list[Iterable[pbr.Family | pbr.Rejection]] = [[], iter(()), pbr.read_records(empty)]
    for records in nothing:
        with pytest.raises(pbr.ForecastError, match=r"^no records: from_records forecasts") as no:
            from_records(records, as_of=AS_OF, alloc=allocation(60))
        assert isinstance(no.value, ValueError)
    # a record that is rejected is a record: its family is forecast by assumption
    only = from_records([rejected_record()], as_of=AS_OF, alloc=allocation(60))
    assert (only.families_evaluated, len(only.rejected)) == (0, 1)


def test_cli_other_programme_records_are_reported_with_their_line_and_exit_1() -> None:
    path = EXAMPLES / "mixed-programmes.jsonl"
    result = cli("--records", str(path), "--estimated", "80", "--as-of", "2016-03-31")
    assert result.returncode == 1
    assert f"{path}:2 (record 2), family 'MX-P2-01': programme = " in result.stderr
    assert "9 record(s) rejected" in result.stderr
    assert "records: 1 families evaluated; 9 rejected" in result.stdout


def test_cli_says_once_and_truly_what_became_of_rejected_records(tmp_path: Path) -> None:
    """The table said 9 families were not forecast (no quarter left) while stderr said they were
    forecast as not yet attached; a duplicate's family, forecast from its first record, too."""
    path = EXAMPLES / "mixed-programmes.jsonl"  # 1 phase-one family, 9 of later programmes

    def last(estimated: str, as_of: str) -> str:
        ran = cli("--records", str(path), "--estimated", estimated, "--as-of", as_of)
        assert ran.returncode == 1
        assert ran.stderr.count("not yet attached") <= 1
        return ran.stderr.splitlines()[-1]

    late = cli("--records", str(path), "--estimated", "12", "--as-of", "2020-03-31")
    assert "9 funded families have no record and no quarter left to attach in: not forecast" in (
        late.stdout
    )
    assert late.stderr.splitlines()[-1] == (
        "pbr: 9 record(s) rejected (above); their families count as funded families with no "
        "record: the 9 such families have no quarter left to attach in after 2020-03-31: not "
        "forecast"
    )
    assert "not yet attached" not in late.stderr
    assert last("12", "2013-03-31").endswith(
        "the 9 such families are forecast as not yet attached, in the quarters left after "
        "2013-03-31"
    )
    assert last("0", "2013-03-31").endswith(
        "no funded place is left for their families (1 eligible family records against 0 funded "
        "families): not forecast"
    )
    twice = tmp_path / "twice.jsonl"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    twice.write_text(f"{first}\n{first}\n", encoding="utf-8")
    ran = cli("--records", str(twice), "--estimated", "12", "--as-of", "2013-03-31")
    assert ran.returncode == 1
    assert ran.stderr.splitlines()[-1] == (
        "pbr: 1 duplicate record(s) rejected (above); each family is forecast from its first record"
    )
    assert "not yet attached" not in ran.stderr


def test_cli_forecasts_the_good_records_and_reports_each_bad_line(tmp_path: Path) -> None:
    """A bad, a repeated and an out-of-programme line used to exit 2 with no table."""
    path = _mixed_file(tmp_path)
    result = cli("--records", str(path), "--estimated", "12", "--as-of", "2014-03-31")
    assert result.returncode == 1
    for line, family_id in ((4, "BAD"), (5, "EX-002"), (6, "BAD-PHASE")):
        assert f"{path}:{line} (record {line}), family '{family_id}'" in result.stderr
    assert "pbr: 2 record(s) rejected (above)" in result.stderr  # the bad line, the phase two
    assert "pbr: 1 duplicate record(s) rejected (above)" in result.stderr
    assert "records: 3 families evaluated; 3 rejected (see stderr)" in result.stdout
    assert "Scenario base" in result.stdout
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli(
                    "--records",
                    str(path),
                    "--estimated",
                    "12",
                    "--as-of",
                    "2014-03-31",
                    "--format",
                    "csv",
                    "--table",
                    "summary",
                ).stdout
            )
        )
    )
    assert (rows[0]["records"], rows[0]["rejected"]) == ("3", "3")


def test_cli_reports_over_the_maximum_and_never_negative_risk() -> None:
    args = ("--records", str(EXAMPLES / "families.jsonl"), "--estimated", "10")
    result = cli(*args, "--as-of", "2015-03-31")
    assert result.returncode == 0, result.stderr
    assert "-£" not in result.stdout
    assert "at risk £0.00" in result.stdout
    assert "over the maximum £181,302.00: 57 eligible family records against 8 funded families" in (
        result.stdout
    )
    assert (
        "pbr: warning: scenario 'base': 57 eligible family records (and 3 not eligible) against 8 funded families"
        in (result.stderr)
    )


def test_cli_same_seed_same_output_and_default_seed() -> None:
    one = cli("--families", "790", "--runs", "300", "--seed", "9", "--format", "csv")
    two = cli("--families", "790", "--runs", "300", "--seed", "9", "--format", "csv")
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout
    assert "p5,p50,p95" in one.stdout.splitlines()[0]
    default = cli("--families", "790", "--runs", "300")
    assert "seed 0" in default.stdout


def test_a_records_chart_shows_secured_and_claimable(tmp_path: Path) -> None:
    met = family(family_id="MET", **EMPLOYED)
    figure = from_records([met], as_of=AS_OF, alloc=allocation(60)).plot(str(tmp_path / "r.png"))
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    bars, lines = figure.axes
    assert "base: claimable now" in [t.get_text() for t in bars.get_legend().get_texts()]
    cumulative = next(line for line in lines.get_lines() if "forecast" in str(line.get_label()))
    # £0 secured on the date, then £4,000 claimable now in the next window, in £000
    assert list(cumulative.get_ydata()[:2]) == [0.0, pytest.approx(4.0 + _first_window(met))]


def _first_window(met: pbr.Family) -> float:
    d = from_records([met], as_of=AS_OF, alloc=allocation(60))
    return float(d.windows[0].cumulative) / 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name = "x"\nprobabilities = "x"\nlag_months = {6 = "1"}\n',
            "probabilities must be a table, got 'x'",
        ),
        ("scenarios = [1, 2]\n", "a scenario must be a table"),
        (
            'name = "x"\n[probabilities]\nprogress_to_work = "1/5"\n[lag_months]\nsix = "1"\n',
            "lag_months: 'six' must be a whole number",
        ),
        ('name = "x"\n[probabilities]\nprogress_to_work = "1/5"\n', "missing 'lag_months'"),
        (
            'name = "x"\n[probabilities]\nprogress_to_work = "3/2"\n[lag_months]\n6 = "1"\n',
            "between 0 and 1",
        ),
        ('[probabilities]\nprogress_to_work = "1/5"\n[lag_months]\n6 = "1"\n', "missing 'name'"),
        ('name = ""\nprobabilities = {progress_to_work = 0.2}\nlag_months = {6 = 1}\n', "blank"),
        (
            '[[scenario]]\nname = "x"\nprobabilities = {progress_to_work = 0.2}\n'
            "lag_months = {6 = 1}\n",
            "unknown top-level table 'scenario' (did you mean 'scenarios'",
        ),
        (
            'name = "x"\nprobabilities = {}\nlag_months = {6 = 1}\n',
            "probabilities is empty, so the forecast would hold attachment fees only",
        ),
        (
            'name = "x"\n[probabilities]\nprogress_to_work = "1/5"\n[lag_months]\n6 = "1/2"\n',
            "add up to 1/2",
        ),
        (
            'name = "x"\n[probabilities]\ncrime_asb_educaton = 0.5\n[lag_months]\n6 = 1\n',
            "scenario 'x': ['crime_asb_educaton'] are not results of tf-phase-1",
        ),
        (
            'name = "x"\n[probabilities]\ncontinuous_employment = 0.5\n[lag_months]\n3 = 1\n',
            "scenario 'x': lag_months 3: continuous_employment cannot be met sooner than 13 weeks",
        ),
        (
            'name = "x"\n[probabilities]\ncrime_asb_education = 1\ncontinuous_employment = 1\n'
            "[lag_months]\n6 = 1\n",
            "scenario 'x': expected results per family in 2012/13 are 1500.00, more than",
        ),
    ],
)
def test_cli_bad_scenario_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    """Checked against the programme, a scenario's unknown result, short lag or greedy rates
    (and no probabilities) were said without the file: `pbr: scenario 'x': ...`."""
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    result = cli("--families", "60", "--scenario", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith(f"pbr: {path}: ")
    assert "Traceback" not in result.stderr


def test_a_scenario_read_from_a_file_is_named_by_it_and_equals_the_same_in_python(
    tmp_path: Path,
) -> None:
    from pbr.forecast import default_scenarios, drawdown, load_scenarios

    path = tmp_path / "short.toml"
    path.write_text(
        'name = "short"\nprobabilities = {crime_asb_education = 0.5}\nlag_months = {3 = 1}\n',
        encoding="utf-8",
    )
    (short,) = load_scenarios(path)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: scenario 'short': lag_months"):
        drawdown(allocation(60), short)
    same = Assumptions("short", {"crime_asb_education": 0.5}, {3: 1})
    assert short == same
    assert same.label == "scenario 'short'"
    with pytest.raises(ValueError, match=r"^scenario 'short': lag_months 3"):
        drawdown(allocation(60), same)
    assert load_scenarios(EXAMPLES / "forecast-scenarios.toml") == list(default_scenarios())


def test_a_forecast_from_records_says_what_beyond_was_never_paid() -> None:
    """As of April 2015 the last default window is 31 May 2015: later results never paid."""
    records = list(pbr.read_records(EXAMPLES / "families.jsonl"))
    d = from_records(records, as_of=date(2015, 4, 30), alloc=allocation(120))
    assert d.claims_closed_on == date(2015, 5, 31)
    beyond = dict(d.beyond_horizon_by_column)
    results = sum((beyond[k] for k in d.kinds), Decimal(0))
    assert d.beyond_never_paid == results > 0
    assert beyond["attachment_fees"] + results == d.beyond_horizon
    mine = ClaimCalendar.quarterly(date(2012, 4, 1), date(2015, 3, 31))  # ends earlier
    early = from_records(records, as_of=date(2015, 1, 1), alloc=allocation(120), calendar=mine)
    assert early.beyond_horizon > 0
    assert early.beyond_never_paid == 0  # what lies beyond may still be claimable


F1 = {"identified_for": ["crime_asb", "education", "work"], **EMPLOYED}
"""`from_records`'s docstring family: crime/ASB/education £700 and employment £100 payable."""


def test_results_payable_after_claims_closed_are_never_paid_not_claimable() -> None:
    f1 = family(family_id="F1", **F1)
    assert "RESULTS_CLAIMS_CLOSED" in {
        w.code for w in pbr.evaluate(f1, as_of=date(2020, 1, 1)).warnings
    }
    with (
        pytest.warns(UserWarning, match=r"£800\.00 payable as of 2020-01-01.*closed on 2015-05-31"),
        pytest.warns(UserWarning, match=r"attachment fee of £3,200\.00 unpaid as of 2020-01-01"),
    ):
        d = from_records([f1], as_of=date(2020, 1, 1), alloc=allocation(6))
    assert d.claimable_now == Decimal("0.00")  # neither the results nor the unpaid fee
    assert d.payable_after_claims_closed == Decimal("800.00")
    assert d.fees_after_claims_closed == Decimal("3200.00")
    assert d.beyond_never_paid == d.beyond_horizon == Decimal("4000.00")
    beyond = dict(d.beyond_horizon_by_column)
    assert (beyond["crime_asb_education"], beyond["continuous_employment"]) == (
        Decimal("700.00"),
        Decimal("100.00"),
    )
    assert beyond["attachment_fees"] == Decimal("3200.00")
    got = d.secured + d.claimable_now + d.total + d.beyond_horizon + d.never_payable + d.at_risk
    assert got == d.maximum
    # the 5 funded places left could only be claimed for after claims closed
    assert (d.never_payable, d.at_risk) == (Decimal("16000.00"), Decimal("0.00"))
    # before claims closed the same results are claimable now, with no warning
    before = from_records([f1], as_of=date(2015, 5, 31), alloc=allocation(6))
    assert (before.claimable_now, before.payable_after_claims_closed) == (
        Decimal("4000.00"),
        Decimal("0.00"),
    )
    # windows of one's own ending elsewhere: still never paid, and a result the scenario leaves
    # out is shown under its own column
    mine = ClaimCalendar.quarterly(date(2012, 4, 1), date(2014, 3, 31))
    with pytest.warns(UserWarning, match="not claimable now"):
        other = from_records(
            [f1], as_of=date(2020, 1, 1), alloc=allocation(6), assumptions=NOTHING, calendar=mine
        )
    assert other.beyond_never_paid == Decimal("4000.00")
    assert dict(other.beyond_horizon_by_column)["crime_asb_education"] == Decimal("700.00")


def test_cli_says_results_payable_after_claims_closed_are_never_paid() -> None:
    result = cli(
        "--records", str(EXAMPLES / "families.jsonl"), "--estimated", "80", "--as-of", "2016-01-01"
    )
    assert result.returncode == 0
    assert "claimable now £0.00" in result.stdout  # was £88,800.00: 38 families' unpaid fees
    assert "£19,000.00 were payable as of 2016-01-01 but results claims closed" in result.stdout
    assert "warning: 15 families have results of £19,000.00 payable" in result.stderr
    assert "attachment fees £88,800.00 were unpaid as of 2016-01-01" in result.stdout
    assert "warning: 38 families have fees of £88,800.00 unpaid as of 2016-01-01" in result.stderr
    assert "results £31,724.00 would be met after results claims closed" in result.stdout


def test_nothing_is_at_risk_once_results_claims_closed() -> None:
    """As of 1 June 2015 no claim is left: £61,432 was at risk; it is never payable."""
    records = [r for r in pbr.read_records(EXAMPLES / "families.jsonl")
               if r.local_authority in ("Exampleshire", None)]  # fmt: skip
    alloc = allocation(80, council="Exampleshire")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the results and fees left unclaimed: warned of
        d = from_records(records, as_of=date(2015, 6, 1), alloc=alloc)
        before = from_records(records, as_of=date(2015, 5, 30), alloc=alloc)
    assert d.at_risk == Decimal("0.00")
    assert d.never_payable_after_claims_closed == Decimal("61432.00")
    row = d.summary()
    money = ("secured", "claimable_now", "forecast", "beyond_horizon", "never_payable", "at_risk")
    assert sum((row[k] for k in money), Decimal(0)) == d.maximum + d.over_maximum
    assert before.at_risk > 0  # the last window, 31 May 2015, is still to come


def test_an_unpaid_fee_is_not_claimable_after_claims_closed() -> None:
    """EX-008's unpaid fee was £1,600 claimable now in 2016, when no fee claim was paid."""
    (ex008,) = [f for f in _example_families() if f.family_id == "EX-008"]

    def alone(record: pbr.Family, as_of: date) -> pbr.forecast.Drawdown:
        return from_records([record], as_of=as_of, alloc=allocation(1), assumptions=NOTHING)

    zero = Decimal("0.00")
    last = alone(ex008, date(2015, 5, 31))  # the last day for claims
    assert (last.claimable_now, last.fees_after_claims_closed) == (Decimal("1600.00"), zero)
    with pytest.warns(UserWarning, match=r"1 family has an attachment fee of £1,600\.00 unpaid"):
        after = alone(ex008, date(2015, 6, 1))
    assert (after.claimable_now, after.fees_after_claims_closed) == (zero, Decimal("1600.00"))
    assert dict(after.beyond_horizon_by_column)["attachment_fees"] == Decimal("1600.00")
    assert after.beyond_never_paid == after.beyond_horizon == Decimal("1600.00")
    assert after.summary()["beyond_never_paid"] == Decimal("1600.00")
    # no claim is left: the rest of the maximum is never payable, none of it at risk
    assert after.at_risk == 0
    assert after.never_payable == after.never_payable_after_claims_closed == Decimal("2400.00")
    # a fee paid before claims closed stays secured; only what is unpaid is never paid
    part_paid = pbr.records.Payment(kind="attachment_fee", amount=Decimal(1000))
    paid = ex008.model_copy(update={"payments": (part_paid,)})
    with pytest.warns(UserWarning, match=r"£600\.00 unpaid"):
        part = alone(paid, date(2016, 1, 1))
    assert (part.secured, part.claimable_now, part.fees_after_claims_closed) == (
        Decimal("1000.00"),
        zero,
        Decimal("600.00"),
    )


def _example_families() -> list[pbr.Family]:
    return [f for f in pbr.read_records(EXAMPLES / "families.jsonl") if isinstance(f, pbr.Family)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(families(max_events=2), min_size=1, max_size=6, unique_by=lambda f: f.family_id),
    st.dates(min_value=date(2012, 4, 1), max_value=date(2021, 3, 31)),
    st.integers(0, 12),
)
def test_from_records_money_adds_up(records: list[pbr.Family], as_of: date, estimated: int) -> None:
    """maximum + over = secured + claimable now + forecast + beyond + never payable + at risk."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = from_records(records, as_of=as_of, alloc=allocation(estimated))
    got = d.secured + d.claimable_now + d.total + d.beyond_horizon + d.never_payable + d.at_risk
    assert d.maximum + d.over_maximum == got
    # money past a family's cap is over the maximum however much other families have at risk
    assert 0 <= d.paid_over_cap <= d.over_maximum
    past_places = d.over_maximum - d.paid_over_cap  # records past the funded places
    assert min(d.at_risk, past_places) == 0
    assert min(d.never_payable, past_places) == 0 <= d.never_payable
    assert 0 <= d.beyond_never_paid <= d.beyond_horizon
    assert 0 <= d.never_payable_after_claims_closed <= d.never_payable
    if as_of >= date(2015, 5, 31):  # no claim window is left: nothing at risk
        assert d.at_risk == 0
    if as_of > date(2015, 5, 31) and not d.rejected:  # nothing claimable once claims closed
        decisions = [pbr.evaluate(f, as_of=as_of) for f in records]
        late = sum((x.payable for x in decisions if x.eligible), Decimal(0))
        assert d.payable_after_claims_closed == late
        assert d.claimable_now == 0
        fees = sum((_fee_unpaid(f, x) for f, x in zip(records, decisions, strict=True)), Decimal(0))
        assert d.fees_after_claims_closed == fees
        assert d.beyond_never_paid >= late + fees
    if as_of <= date(2015, 5, 31) and not d.rejected:  # what pbr evaluate says is claimable
        decisions = [pbr.evaluate(f, as_of=as_of) for f in records]
        payable = sum((x.payable for x in decisions if x.eligible), Decimal(0))
        fees = sum((_fee_unpaid(f, x) for f, x in zip(records, decisions, strict=True)), Decimal(0))
        assert d.claimable_now == payable + fees
    # the windows, the years and the summary hold the same money
    rows = d.by_year()
    assert sum((w.total for w in d.windows), Decimal(0)) == d.total == d.summary()["forecast"]
    assert sum((r["total"] for r in rows), Decimal(0)) == d.total + d.beyond_horizon
    for column in ("attachment_fees", *d.kinds):
        by_window = sum(
            (
                w.attachment_fees if column == "attachment_fees" else w.results[column]
                for w in d.windows
            ),
            Decimal(0),
        )
        assert sum((r[column] for r in rows), Decimal(0)) == by_window + dict(
            d.beyond_horizon_by_column
        ).get(column, Decimal(0))


def _fee_unpaid(record: pbr.Family, decision: pbr.Decision) -> Decimal:
    """What of an eligible family's attachment fee its payments made by the date leave unpaid."""
    if not decision.eligible or record.attached_on > decision.as_of:
        return Decimal(0)
    made = (p for p in record.payments if p.paid_on is None or p.paid_on <= decision.as_of)
    paid = sum((p.amount for p in made if p.kind == "attachment_fee"), Decimal(0))
    return max(decision.attachment_fee - paid, Decimal(0))


MIXED = ("--records", str(EXAMPLES / "mixed-programmes.jsonl"), "--programme", "tf-phase-2")
TFOP = str(EXAMPLES / "plans" / "county-tfop.yaml")


def test_cli_records_are_judged_against_the_plan_given_as_evaluate_judges_them() -> None:
    """Phase two records were judged against the example plan: £0 where evaluate says £800."""
    base = (*MIXED, "--estimated", "10", "--as-of", "2016-09-30")
    own = cli(*base, "--plan", TFOP)
    assert "claimable now £800.00" in own.stdout
    assert "example outcome plan" not in own.stderr
    example = cli(*base)
    assert "claimable now £0.00" in example.stdout
    assert (
        "warning: 5 families judged against pbr's example outcome plan pbr-example-tfop/1.0"
        in example.stderr
    )
    evaluated = _evaluated_payable(TFOP)
    assert evaluated == Decimal("800.00")


def _evaluated_payable(plan_path: str) -> Decimal:
    """What `pbr evaluate --plan` finds payable for the phase-two records on the same day."""
    from pbr.plans import load_plan

    plan = load_plan(plan_path)
    total = Decimal(0)
    for item in pbr.read_records(EXAMPLES / "mixed-programmes.jsonl"):
        if isinstance(item, pbr.Family) and pbr.rule_set_for(item).programme == "tf-phase-2":
            total += pbr.evaluate(item, as_of=date(2016, 9, 30), plan=plan).payable
    return total


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--families", "10", "--plan", TFOP), "--plan applies to --records"),
        (
            (
                "--records",
                str(EXAMPLES / "families.jsonl"),
                "--estimated",
                "80",
                "--as-of",
                "2014-01-01",
                "--plan",
                TFOP,
            ),
            "is for tf-phase-2, but the forecast is for tf-phase-1",
        ),
    ],
)
def test_cli_refuses_a_plan_that_does_not_apply(args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_from_records_warns_of_the_example_plan_and_takes_the_councils() -> None:
    from pbr.plans import load_plan

    records = [
        item
        for item in pbr.read_records(EXAMPLES / "mixed-programmes.jsonl")
        if isinstance(item, pbr.Family) and pbr.rule_set_for(item).programme == "tf-phase-2"
    ]
    alloc = allocation(10, "tf-phase-2")
    with pytest.warns(UserWarning, match="5 families judged against pbr's example outcome plan"):
        example = from_records(records, as_of=date(2016, 9, 30), alloc=alloc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        own = from_records(records, as_of=date(2016, 9, 30), alloc=alloc, plan=load_plan(TFOP))
    assert (example.claimable_now, own.claimable_now) == (Decimal("0.00"), Decimal("800.00"))


def test_from_records_judges_the_families_under_a_term_calendar() -> None:
    """A council's terms could not reach a forecast from records: its families were judged
    under the default dates (a result met by them, £700, claimable now)."""
    records, day, alloc = [council_calendar_family()], date(2013, 7, 31), allocation(1)
    default = from_records(records, as_of=day, alloc=alloc, assumptions=NOTHING)
    own = from_records(
        records, as_of=day, alloc=alloc, assumptions=NOTHING, term_calendar=COUNCIL_2012
    )
    assert default.claimable_now - own.claimable_now == Decimal("700.00")
    assert own.rules is not None
    assert own.rules.term_calendar is COUNCIL_2012
    assert own.rules_hash != default.rules_hash
    assert default.readings is None
    assert own.readings is not None
    assert own.readings.startswith("term calendar: council (1 term of its own dates); rules_hash")
    with pytest.raises(TypeError, match=r"term_calendar must be a pbr\.TermCalendar or None"):
        from_records(records, as_of=day, alloc=alloc, term_calendar="kent.toml")  # type: ignore[arg-type]


def _calendar_files(tmp_path: Path) -> tuple[str, str]:
    """The council calendar's family as a JSON Lines file, and the calendar as a file."""
    from pbr.calendars import term_calendar_data

    records, calendar = tmp_path / "records.jsonl", tmp_path / "council.json"
    records.write_text(council_calendar_family().model_dump_json() + "\n")
    calendar.write_text(json.dumps(term_calendar_data(COUNCIL_2012)))
    return str(records), str(calendar)


def test_cli_term_calendar_reaches_a_forecast_from_records(tmp_path: Path) -> None:
    """``pbr forecast --records --term-calendar`` took the option and left it unused."""
    records, calendar = _calendar_files(tmp_path)
    base = ("--records", records, "--estimated", "1", "--as-of", "2013-07-31")
    default, own = cli(*base), cli(*base, "--term-calendar", calendar)
    assert (default.returncode, own.returncode) == (0, 0), own.stderr
    assert "claimable now £3,900.00" in default.stdout  # the fee, £3,200, and the result met
    assert "claimable now £3,200.00" in own.stdout
    assert "term calendar: council (1 term of its own dates); rules_hash" in own.stdout
    assert "term calendar" not in default.stdout


def test_cli_refuses_a_term_calendar_without_records(tmp_path: Path) -> None:
    _, calendar = _calendar_files(tmp_path)
    for source in (("--families", "10"), ("--councils", str(EXAMPLES / "councils.csv"))):
        result = cli(*source, "--term-calendar", calendar)
        assert result.returncode == 2
        assert result.stderr == (
            "pbr: --term-calendar applies only with --records (a forecast by assumption judges "
            "no family's school terms)\n"
        )


def test_cli_says_each_problem_of_a_term_calendar_on_a_line(tmp_path: Path) -> None:
    """A plan's or calendar's problems were printed joined by a literal ``\\n``."""
    records, _ = _calendar_files(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "terms": [{"term": "nope"}, {"term": "autumn"}]}))
    result = cli(
        *("--records", records, "--estimated", "1", "--as-of", "2013-07-31"),
        *("--term-calendar", str(bad)),
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) > 1
    assert all(line.startswith(f"pbr: {bad}") for line in lines), lines
    assert "\\n" not in result.stderr


def test_cli_interpretation_chooses_the_rules_of_the_forecast() -> None:
    """funded_rounding=floor could not be chosen from the command line."""
    nearest, floor = (
        cli("--families", "3"),
        cli("--families", "3", "--interpretation", "funded_rounding=floor"),
    )
    assert "maximum £12,000.00" in nearest.stdout  # 2.5 funded families: 3
    assert "maximum £8,000.00" in floor.stdout  # 2
    records = cli(
        "--records",
        str(EXAMPLES / "families.jsonl"),
        "--estimated",
        "3",
        "--as-of",
        "2013-06-30",
        "--interpretation",
        "funded_rounding=floor",
    )
    assert "maximum £8,000.00" in records.stdout
    stopped = cli(
        "--families",
        "6",
        "--programme",
        "tf-phase-2",
        "--interpretation",
        "attachment_fees_after_2017_18=stopped",
    )
    assert "maximum £7,800.00" in stopped.stdout  # 3 × £1,800 + 3 × £800
    for wrong, message in [
        (("--programme", "supporting-families"), "not an interpretation of supporting-families"),
        ((), "unknown interpretation"),
    ]:
        choice = "funded_rounding=floor" if wrong else "funded_roundin=floor"
        bad = cli("--families", "3", *wrong, "--interpretation", choice)
        assert bad.returncode == 2
        assert message in bad.stderr


def test_no_funded_family_forecasts_none_rather_than_dividing_by_zero() -> None:
    """allocation(0), or one family floored to none, raised ZeroDivisionError."""
    floor = pbr.rules.PHASE_ONE.with_interpretations(funded_rounding="floor")
    for alloc in (allocation(0), allocation(1, rules=floor)):
        assert alloc.whole_funded_families == 0
        d = from_records([rejected_record()], as_of=date(2013, 1, 1), alloc=alloc)
        assert (d.maximum, d.total, d.at_risk, d.not_attached) == (Decimal("0.00"),) * 3 + (0,)
    result = cli(
        "--records", str(EXAMPLES / "families.jsonl"), "--estimated", "0", "--as-of", "2013-01-01"
    )
    assert result.returncode == 0, result.stderr
    assert "over the maximum £187,109.00: 57 eligible family records against 0 funded families" in (
        result.stdout
    )


def test_records_of_another_council_are_named_not_pooled_without_a_word() -> None:
    """examples/families.jsonl holds Exampleshire's 57 and Sampleton's 3 families."""
    records = list(pbr.read_records(EXAMPLES / "families.jsonl"))
    named = allocation(80, council="Exampleshire")
    with pytest.warns(UserWarning, match="Sampleton 3") as caught:
        from_records(records, as_of=date(2014, 3, 31), alloc=named)
    assert [str(w.message) for w in caught] == [
        "3 of 60 family records name a council other than the allocation's (Exampleshire): "
        "Sampleton 3 (EX-003, EX-038, EX-059); they are forecast against Exampleshire's "
        "allocation: give Exampleshire's records only"
    ]
    with pytest.warns(UserWarning, match=r"name 2 councils.*Exampleshire 57 \(EX-001, "):
        from_records(records, as_of=date(2014, 3, 31), alloc=allocation(80))
    own = [r for r in records if isinstance(r, pbr.Family) and r.local_authority == "Exampleshire"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_records(own, as_of=date(2014, 3, 31), alloc=named)  # one council: no word
        from_records(own, as_of=date(2014, 3, 31), alloc=allocation(80))
    result = cli(
        "--records",
        str(EXAMPLES / "families.jsonl"),
        "--estimated",
        "80",
        "--as-of",
        "2014-03-31",
        "--council",
        "Exampleshire",
    )
    assert result.stdout.startswith("Exampleshire: Scenario base")
    assert "warning: 3 of 60 family records name a council other than" in result.stderr
    assert cli("--families", "80", "--council", "X").returncode == 2


def test_an_upfront_grant_is_secured_once_its_window_has_paid_it() -> None:
    """A grant was counted as secured from its year's first day, before its window paid it."""
    sf = allocation(1000, "supporting-families", upfront_grant="1081000")
    first = _grant_window(sf)
    assert first == date(2021, 6, 30)
    before = from_records([rejected_record()], as_of=date(2021, 4, 1), alloc=sf)
    assert before.secured == Decimal("0.00")
    by_date = {w.claim_date: w.upfront_grant for w in before.windows}
    assert by_date[date(2021, 6, 30)] == Decimal("1081000.00")
    on = from_records([rejected_record()], as_of=date(2021, 6, 30), alloc=sf)
    assert on.secured == Decimal("1081000.00")
    assert date(2021, 6, 30) not in {w.claim_date for w in on.windows if w.upfront_grant}
    for d in (before, on):
        assert (
            d.secured + d.claimable_now + d.total + d.beyond_horizon + d.never_payable + d.at_risk
            == d.maximum
        )


def _grant_window(alloc: pbr.forecast.Allocation) -> date:
    from pbr.forecast import drawdown

    return next(w.claim_date for w in drawdown(alloc).windows if w.upfront_grant)


EARLY_STARTER = {
    "family_id": "E-1014-NP",
    "local_authority": "Kent",
    "attached_on": "2014-10-01",
    "members": [
        {"person_id": "A1", "date_of_birth": "1984-05-01"},
        {"person_id": "C1", "date_of_birth": "2010-02-01"},
    ],
    "problems_at_entry": [{"problem": "domestic_abuse"}, {"problem": "health"}],
}
"""Attached in 2014/15 stating no programme: phase one's, as `pbr.rule_set_for` has it."""


def test_a_2014_15_record_stating_no_programme_is_phase_ones_not_phase_twos() -> None:
    """Phase two's forecast took it (£1,800 claimable now) as phase one's did: counted twice."""
    record = pbr.Family.model_validate(EARLY_STARTER)
    assert pbr.rule_set_for(record).programme == "tf-phase-1"
    day = date(2016, 6, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # phase one's claims closed; phase two's example plan
        two = from_records([record], as_of=day, alloc=allocation(1, "tf-phase-2"))
        one = from_records([record], as_of=day, alloc=allocation(1, "tf-phase-1"))
    assert (two.families_evaluated, two.claimable_now) == (0, Decimal("0.00"))
    assert (one.families_evaluated, len(one.rejected)) == (1, 0)
    [error] = two.rejected[0].errors
    assert (error.type, error.loc, error.value) == (
        "outside_programme",
        "attached_on",
        '"2014-10-01"',
    )
    assert error.message == (
        "attached 2014-10-01 with no programme stated, so a tf-phase-1 record; this forecast is "
        'of tf-phase-2: state "programme": "tf-phase-2" if it is one of tf-phase-2\'s families'
    )
    # stated, it is phase two's early starter: phase two's to forecast, and phase one's not
    stated = pbr.Family.model_validate(EARLY_STARTER | {"programme": "tf-phase-2"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = from_records([stated], as_of=day, alloc=allocation(1, "tf-phase-2"))
        one = from_records([stated], as_of=day, alloc=allocation(1, "tf-phase-1"))
    assert (two.families_evaluated, len(two.rejected)) == (1, 0)
    assert one.families_evaluated == 0
    [error] = one.rejected[0].errors
    assert (error.type, error.loc, error.value) == (
        "outside_programme",
        "programme",
        '"tf-phase-2"',
    )
    assert error.message == "the record states programme tf-phase-2; this forecast is of tf-phase-1"


EDGES = [
    ("2014-03-31", None),
    ("2014-04-01", None),
    ("2014-04-01", "tf-phase-2"),
    ("2015-03-31", None),
    ("2015-03-31", "tf-phase-1"),
    ("2015-04-01", None),
    ("2015-04-01", "tf-phase-1"),
    ("2021-03-31", None),
    ("2021-03-31", "tf-phase-2"),
    ("2021-03-31", "supporting-families"),
    ("2021-04-01", None),
    ("2021-04-01", "tf-phase-2"),
    ("2021-04-01", "supporting-families"),
]


@pytest.mark.parametrize(("attached_on", "stated"), EDGES)
def test_each_record_is_forecast_by_its_own_programme_alone(
    attached_on: str, stated: str | None
) -> None:
    """A record is forecast by the programme `pbr.evaluate` puts it in, and by no other."""
    data = {"family_id": "EDGE", "attached_on": attached_on, "members": EARLY_STARTER["members"]}
    record = pbr.Family.model_validate(data | ({"programme": stated} if stated else {}))
    try:
        own: str | None = pbr.rule_set_for(record).programme
    except pbr.OutsideProgramme:
        own = None
    took = []
    for programme in ("tf-phase-1", "tf-phase-2", "supporting-families"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = from_records([record], as_of=date(2021, 6, 30), alloc=allocation(1, programme))
        assert d.families_evaluated + len(d.rejected) == 1
        if d.families_evaluated:
            took.append(programme)
        else:
            assert d.rejected[0].errors[0].type == "outside_programme"
    assert took == ([own] if own else [])


def test_cli_rejects_a_record_of_another_programme_in_every_scenario(tmp_path: Path) -> None:
    """The analyst's mixed file: the 2014/15 record stating no programme in phase two's forecast."""
    records, scenarios = tmp_path / "np1414.jsonl", tmp_path / "sc.toml"
    records.write_text(json.dumps(EARLY_STARTER) + "\n")
    scenarios.write_text(
        '[[scenarios]]\nname = "base"\n[scenarios.probabilities]\nsustained_progress = "1/3"\n'
        '[scenarios.lag_months]\n4 = "1"\n\n'
        '[[scenarios]]\nname = "low"\n[scenarios.probabilities]\nsustained_progress = "0.2"\n'
        '[scenarios.lag_months]\n12 = "1"\n'
    )
    base = ("--records", str(records), "--estimated", "1", "--as-of", "2016-06-30")
    table = ("--scenario", str(scenarios), "--format", "csv", "--table", "summary")
    two = cli(*base, "--programme", "tf-phase-2", *table)
    assert two.returncode == 1
    rows = list(csv.DictReader(io.StringIO(two.stdout)))
    assert [(r["scenario"], r["claimable_now"], r["records"], r["rejected"]) for r in rows] == [
        ("base", "0.00", "0", "1"),
        ("low", "0.00", "0", "1"),
    ]
    assert (
        f"{records}:1 (record 1), family 'E-1014-NP': attached_on = \"2014-10-01\": attached "
        "2014-10-01 with no programme stated, so a tf-phase-1 record; this forecast is of "
        "tf-phase-2"
    ) in two.stderr
    one = cli(*base, "--programme", "tf-phase-1")
    assert one.returncode == 0, one.stderr
    assert "records: 1 families evaluated" in one.stdout
