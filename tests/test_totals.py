"""pbr.Totals: per-council and overall totals reconcile to the penny, whichever path fed them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.testing import family_records
from pbr.totals import CouncilTotals
from tests.builders import family

COUNCILS = st.sampled_from([None, "Leeds", "Bury", "Kent"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(family_records(), COUNCILS), max_size=8),
    st.lists(COUNCILS, max_size=4),
)
def test_councils_add_up_to_the_overall_to_the_penny(
    rows: list[tuple[dict[str, object], str | None]], rejected: list[str | None]
) -> None:
    totals = pbr.Totals()
    from_json = pbr.Totals()
    payable = Decimal("0.00")
    for record, council in rows:
        record = {**record, "local_authority": council}
        decision = pbr.evaluate(pbr.Family.model_validate(record), as_of=date(2016, 3, 31))
        payable += decision.payable
        totals.add(decision)
        from_json.add_json(decision.model_dump_json())
    for council in rejected:
        totals.reject(council)
        from_json.reject(council)
    assert totals.reconciles()
    assert totals == from_json
    overall = totals.overall
    assert sum(totals.councils.values(), CouncilTotals()) == overall
    assert overall.families_evaluated == len(rows)
    assert overall.families_rejected == len(rejected)
    assert overall.results_payments == payable
    assert overall.total == overall.attachment_fees + overall.results_payments


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(COUNCILS, st.integers(0, 3), st.integers(0, 999_999)), max_size=12))
def test_merged_parts_equal_one_run(rows: list[tuple[str | None, int, int]]) -> None:
    whole, left, right = pbr.Totals(), pbr.Totals(), pbr.Totals()
    for i, (council, n, pence) in enumerate(rows):
        amounts = [Decimal(pence) / 100] * n
        whole.add_amounts(council, Decimal("3200.00"), amounts)
        (left if i % 2 else right).add_amounts(council, Decimal("3200.00"), amounts)
    assert left + right == whole
    assert whole.reconciles()


def test_fee_counts_for_eligible_families_only() -> None:
    eligible = pbr.evaluate(family(local_authority="Leeds"), as_of=date(2013, 6, 30))
    ineligible = pbr.evaluate(family(family_id="T2", identified_for=[]), as_of=date(2013, 6, 30))
    totals = pbr.Totals()
    totals.add(eligible)
    totals.add(ineligible)
    assert totals.councils["Leeds"].attachment_fees == eligible.attachment_fee
    assert totals.councils[None].attachment_fees == Decimal("0.00") or ineligible.eligible
    assert list(totals.councils) == ["Leeds", None]
    assert totals.to_dict()["overall"]["families_evaluated"] == 2  # type: ignore[index]
    assert "all councils" in totals.lines()[-1]


def test_summary_shows_councils_when_more_than_one(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path

    families = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pbr.cli",
            "evaluate",
            str(families),
            "--as-of",
            "2015-03-31",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Exampleshire" in result.stderr
    assert "all councils" in result.stderr


def test_council_lines_are_the_same_in_every_format_and_with_workers() -> None:
    # every format renders decisions as different text; the totals must not depend on it
    import subprocess
    import sys
    from pathlib import Path

    families = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    summaries = set()
    for fmt, workers in [("json", "1"), ("csv", "1"), ("table", "1"), ("csv", "2"), ("json", "2")]:
        result = subprocess.run(
            [sys.executable, "-m", "pbr.cli", "evaluate", str(families), "--as-of",
             "2015-03-31", "--format", fmt, "--workers", workers, "--output", "-"],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        head = result.stderr[result.stderr.index("all councils") - 400 :]
        summaries.add(head[: head.index("all councils") + 120])
    assert len(summaries) == 1
    assert "Exampleshire" in summaries.pop()


@given(st.text(min_size=1, max_size=20))
def test_a_council_name_reaches_the_terminal_as_printable_text(name: str) -> None:
    from pbr.totals import Totals

    totals = Totals()
    totals.add_amounts(name, Decimal("1000.00"), [Decimal("800.00")])
    totals.add_amounts("Leeds", Decimal("1000.00"), [])
    lines = totals.lines()
    assert all(line.isprintable() for line in lines)
    table = [line for line in lines if not line.startswith("  warning: ")]
    assert len({len(line) for line in table}) == 1  # the columns stay in line
    if name.isprintable():
        rows = [line[2:] for line in table[1:-1]]  # after the indent, as written
        assert any(row.startswith((f"{name}  ", f'"{name}"  ')) for row in rows)


def test_the_working_paper_names_the_council_printably() -> None:
    # a record refuses control characters; a decision read from elsewhere may still hold them
    decision = pbr.evaluate(family(family_id="F1"), as_of=date(2013, 6, 30))
    paper = decision.model_copy(update={"local_authority": "Ex\x1b]0;t\x07"}).explain()
    assert paper.splitlines()[3] == "Council Ex\\x1b]0;t\\x07"
    assert "Council" not in pbr.evaluate(family(family_id="F1"), as_of=date(2013, 6, 30)).explain()


def test_a_fee_is_not_counted_before_the_family_is_attached(tmp_path: Path) -> None:
    from pbr.batch import evaluate_many_json
    from pbr.cli import main

    later = family(family_id="F1", local_authority="X", attached_on="2013-05-01")
    earlier = family(family_id="F2", local_authority="Y", attached_on="2012-05-01")
    fees = {}
    for as_of in (date(2013, 4, 30), date(2013, 5, 1)):
        totals, from_json, from_text = pbr.Totals(), pbr.Totals(), pbr.Totals()
        for one in (later, earlier):
            decision = pbr.evaluate(one, as_of=as_of)
            assert decision.attachment_fee == Decimal("2400.00") or one is earlier
            totals.add(decision)
            from_json.add_json(decision.model_dump_json())
        for done in evaluate_many_json([later, earlier], as_of=as_of, workers=1):
            assert not isinstance(done, pbr.Rejection)
            from_text.add_amounts(done.local_authority, done.attachment_fee, done[2].values())
        assert totals == from_json == from_text
        fees[as_of] = {c: str(row.attachment_fees) for c, row in totals.councils.items()}
    assert fees == {
        date(2013, 4, 30): {"X": "0.00", "Y": "3200.00"},  # X's fee is not yet due
        date(2013, 5, 1): {"X": "2400.00", "Y": "3200.00"},
    }
    path = tmp_path / "families.jsonl"
    path.write_text(later.model_dump_json() + "\n" + earlier.model_dump_json() + "\n")
    out = tmp_path / "decisions.jsonl"
    assert main(["evaluate", str(path), "--as-of", "2013-04-30", "--output", str(out)]) == 0
    counted = pbr.Totals()
    for line in out.read_text().splitlines():
        counted.add_json(line)
    assert str(counted.overall.attachment_fees) == "3200.00"


def test_a_range_of_the_file_counts_fees_the_same_way(tmp_path: Path) -> None:
    from pbr.batch import evaluate_spans

    later = family(family_id="F1", local_authority="X", attached_on="2013-05-01")
    path = tmp_path / "families.jsonl"
    path.write_text(later.model_dump_json() + "\n")
    (span,) = evaluate_spans(str(path), as_of=date(2013, 4, 30))
    assert str(span.councils.overall.attachment_fees) == "0.00"
    (span,) = evaluate_spans(str(path), as_of=date(2013, 5, 1))
    assert str(span.councils.overall.attachment_fees) == "2400.00"


def test_the_working_paper_says_a_fee_is_not_yet_due_before_attachment() -> None:
    later = family(family_id="F1", attached_on="2013-05-01")
    before = pbr.evaluate(later, as_of=date(2013, 4, 30)).explain().splitlines()[3]
    on_the_day = pbr.evaluate(later, as_of=date(2013, 5, 1)).explain().splitlines()[3]
    assert "£2,400.00 (not yet due: as of is before attachment); cap" in before
    assert "not yet due" not in on_the_day


KINDS = st.sampled_from(["crime_asb_education", "progress_to_work", "sustained_progress", "x"])
PENCE = st.integers(0, 10**9).map(lambda p: Decimal(p) / 100)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["tf-phase-1", "tf-phase-2", "supporting-families"]),
            st.dictionaries(KINDS, PENCE, max_size=4),
        ),
        max_size=30,
    )
)
def test_a_range_s_programme_totals_are_the_family_by_family_sums(
    rows: list[tuple[str, dict[str, Decimal]]],
) -> None:
    """`pbr._sums.span_sums`: the counts and sums by programme, each in the order first seen."""
    from pbr._sums import Detail, span_sums

    counts: dict[str, int] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    for programme, amounts in rows:  # as a range was counted before, one family at a time
        counts[programme] = counts.get(programme, 0) + 1
        mine = totals.setdefault(programme, {})
        for kind, amount in amounts.items():
            mine[kind] = mine.get(kind, Decimal(0)) + amount
    detail: list[Detail] = [
        (n, n, f"F{n}", programme, None, Decimal(0), amounts)
        for n, (programme, amounts) in enumerate(rows)
    ]
    _, _, got_counts, got_totals = span_sums(detail)
    assert list(got_counts.items()) == list(counts.items())
    assert [(p, list(k.items())) for p, k in got_totals.items()] == [
        (p, list(k.items())) for p, k in totals.items()
    ]


def test_a_rejection_is_counted_under_its_council_and_a_wrong_argument_is_refused() -> None:
    """``reject(rejection)`` is what a caller holding `evaluate_many`'s answers writes; it once
    stored the object as a council and failed later, far from the mistake."""
    spoilt = {"family_id": "F9", "local_authority": "Leeds", "attached_on": "2013-02-30"}
    rejection, unnamed = pbr.evaluate_many([spoilt, {"family_id": 7}], as_of=date(2013, 6, 30))
    assert isinstance(rejection, pbr.Rejection)
    assert isinstance(unnamed, pbr.Rejection)
    totals = pbr.Totals()
    totals.reject(rejection)
    totals.reject(unnamed)
    totals.reject("York")
    assert {c: r.families_rejected for c, r in totals.councils.items()} == {
        "Leeds": 1,
        "York": 1,
        None: 1,
    }
    with pytest.raises(TypeError, match="a council's name or None"):
        totals.reject(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="count a rejection with reject"):
        totals.add(rejection)  # type: ignore[arg-type]


def test_councils_that_differ_only_in_case_are_kept_apart_with_a_warning(tmp_path: Path) -> None:
    """Leeds, LEEDS and leeds were three rows of the summary, without a word."""
    import subprocess
    import sys

    from tests.builders import record

    path = tmp_path / "councils.jsonl"
    names = ["Leeds", "LEEDS", "Bury", "leeds", "Bury"]
    rows = [record(family_id=f"F{i}", local_authority=c) for i, c in enumerate(names)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(path), "--as-of", "2015-03-31",
         "--format", "json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    warning = (
        "warning: council names that differ only in case are counted apart: LEEDS, Leeds, leeds"
    )
    assert f"\n    {warning}\n" in result.stderr
    totals = pbr.Totals()
    for row in rows:
        totals.add_json(
            pbr.evaluate(pbr.Family.model_validate(row), as_of=date(2015, 3, 31)).model_dump_json()
        )
    assert list(totals.councils) == ["Bury", "LEEDS", "Leeds", "leeds"]  # counted apart
    assert totals.case_variants() == [("LEEDS", "Leeds", "leeds")]
    assert totals.lines()[-1] == "  " + warning
    totals.reject("BURY")
    assert totals.case_variants() == [("BURY", "Bury"), ("LEEDS", "Leeds", "leeds")]
    assert len([line for line in totals.lines() if "warning" in line]) == 2


def test_a_council_named_like_a_label_is_shown_in_quotes() -> None:
    """A council named "(no council)" printed a row just like the families with none."""
    totals = pbr.Totals()
    for council in ("(no council)", None, "all councils", '"Leeds"', "Leeds"):
        totals.add_amounts(council, Decimal("1000.00"), [])
    names = [line[2:].split("  ")[0] for line in totals.lines()[1:]]
    assert names == [
        '""Leeds""',
        '"(no council)"',
        "Leeds",
        '"all councils"',
        "(no council)",
        "all councils",
    ]
    assert len(set(names)) == len(names)


AMOUNTS = st.dictionaries(
    st.sampled_from(["crime_asb_education", "progress_to_work", "sustained_progress"]),
    st.integers(0, 400_000).map(lambda p: Decimal(p).scaleb(-2)),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            COUNCILS,
            st.sampled_from(["tf-phase-1", "tf-phase-2", "supporting-families"]),
            st.sampled_from([Decimal("0.00"), Decimal("1000.00"), Decimal("3200.00")]),
            AMOUNTS,
        ),
        max_size=12,
    )
)
def test_a_spans_sums_are_the_totals_family_by_family(
    rows: list[tuple[str | None, str, Decimal, dict[str, Decimal]]],
) -> None:
    """`pbr._sums.span_sums` (compiled) counts as `Totals.add_amounts` does, to the penny."""
    from pbr._sums import span_sums
    from pbr.money import exact_arithmetic

    detail = [
        (i, i, f"F{i}", p, council, fee, amounts)
        for i, (council, p, fee, amounts) in enumerate(rows)
    ]
    one_by_one = pbr.Totals()
    for _, _, _, _, council, fee, amounts in detail:
        one_by_one.add_amounts(council, fee, amounts.values())
    with exact_arithmetic():
        councils, overall, counts, _ = span_sums(detail)
    summed = pbr.Totals._of(councils, overall)
    assert summed == one_by_one
    assert list(summed.councils) == list(one_by_one.councils)
    assert summed.overall == one_by_one.overall
    assert summed.reconciles()
    assert sum(counts.values()) == len(detail)


def test_a_decisions_row_holds_the_fee_counted_and_each_amount() -> None:
    from pbr._sums import detail_row
    from pbr.totals import fee_due

    before = pbr.evaluate(family(local_authority="Leeds"), as_of=date(2012, 10, 1))
    after = pbr.evaluate(family(local_authority="Leeds"), as_of=date(2013, 6, 30))
    for decision in (before, after):
        row = detail_row(decision, 7, 3)
        assert row == (
            7,
            3,
            decision.family_id,
            decision.programme,
            "Leeds",
            fee_due(
                decision.eligible, decision.attachment_fee, decision.attached_on, decision.as_of
            ),
            {str(k): r.amount for k, r in decision.results.items()},
        )
    assert detail_row(before, 1, 1)[5] == Decimal("0.00")  # not yet attached: no fee counted
    assert detail_row(after, 1, 1)[5] == after.attachment_fee > 0
