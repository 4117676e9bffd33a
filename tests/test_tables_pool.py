"""Council tables validated where they are evaluated (`TableInput.evaluated`), in a pool too.

`pbr evaluate FOLDER` hands each family's rows, unvalidated, to the batch; its workers validate
them. Whatever the tables hold, the answers, row problems, rejections and reconciliation must
be those of reading every family here (`TableInput.families`) and evaluating it.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pbr
from pbr import tables
from pbr.batch import Evaluated, evaluate_many_json
from pbr.tables import TableFamily, read_tables, write_tables
from tests.builders import TABLE_FAMILIES
from tests.test_tables_messy import _ROW_BYTES

AS_OF = date(2015, 3, 31)


def _answer(item: Any) -> tuple[Any, ...]:
    if isinstance(item, Evaluated):
        return ("decision", *item, item.local_authority, item.attachment_fee)
    if isinstance(item, pbr.Decision):
        return ("decision", item.model_dump_json())
    assert isinstance(item, pbr.Rejection), item
    return ("rejection", item.model_dump_json())


def _rest(read: tables.TableInput) -> tuple[Any, ...]:
    unplaced = [r.model_dump_json() for r in read.unplaced()]
    return [repr(p) for p in read.problems], unplaced, read.reconciliation.lines()


def _by_reading_here(folder: Path, **options: Any) -> tuple[Any, ...]:
    read = read_tables(folder)
    answers = [_answer(a) for a in evaluate_many_json(read.families(), as_of=AS_OF, **options)]
    return answers, *_rest(read)


def _by_workers(folder: Path, **options: Any) -> tuple[Any, ...]:
    read = read_tables(folder)
    answers = read.evaluated(
        lambda rows: evaluate_many_json(rows, as_of=AS_OF, **options),
        lambda family: next(iter(evaluate_many_json([family], as_of=AS_OF, workers=1))),
    )
    return [_answer(a) for a in answers], *_rest(read)


def _spoilt(folder: Path, families: list[pbr.Family], spoil: list[tuple[int, int, str]]) -> None:
    """The families as tables, with cells replaced and rows added as `spoil` says."""
    import csv

    write_tables(families, folder)
    files = sorted(folder.glob("*.csv"))
    for which, where, text in spoil:
        file = files[which % len(files)]
        with open(file, newline="") as handle:
            rows = list(csv.reader(handle))
        if text == "<empty row>":
            rows.insert(1 + where % len(rows), [""] * len(rows[0]))
        elif text == "<row again>" and len(rows) > 1:
            rows.append(rows[1 + where % (len(rows) - 1)])
        elif len(rows) > 1:
            row = rows[1 + where % (len(rows) - 1)]
            row[where % len(row)] = text
        with open(file, "w", newline="") as handle:
            csv.writer(handle).writerows(rows)


_CELLS = st.sampled_from(
    [
        *("", " 1", "x", "-1", "2012-13-01", "2012-02-29", "A9", "1;2", "F0", "2020-01-01"),
        *("<empty row>", "<row again>", "extra", "tf-phase-2", "1900-01-01"),
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    families=st.lists(TABLE_FAMILIES, min_size=1, max_size=4),
    spoil=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), _CELLS), max_size=4),
    slow=st.booleans(),
)
def test_validated_in_the_batch_as_when_read_here(
    families: list[pbr.Family], spoil: list[tuple[int, int, str]], slow: bool
) -> None:
    """The same answers, problems, rejections and reconciliation, for any tables.

    `slow` sends every family back to the reader, as a family with a problem is: then even a
    sound family is read there and evaluated by `one`, numbered as the batch numbers it.
    """
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "t"
        _spoilt(folder, families, spoil)
        here = _by_reading_here(folder, workers=1)
        # A family outside every programme is rejected only where it is evaluated: `evaluated`
        # names its rows (tests/test_tables_defects.py), which the caller of `families()` cannot.
        assume(not any('"type":"outside_programme"' in str(answer) for answer in here[0]))
        if slow:
            with mock.patch.object(TableFamily, "family", return_value=None):
                there = _by_workers(folder, workers=1)
        else:
            there = _by_workers(folder, workers=1)
    assert there == here


def _messy_council(tmp_path: Path) -> Path:
    """A council's tables with every kind of trouble, and 900 families (past `auto`'s 750)."""
    import json

    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    records = [json.loads(line) for line in examples.read_text(encoding="utf-8").splitlines()]
    families = []
    for i in range(900):
        record = {**records[i % len(records)], "family_id": f"F{i}", "local_authority": f"C{i % 3}"}
        families.append(pbr.Family.model_validate(record))
    folder = tmp_path / "council"
    spoil = [
        (i * 7, i * 13, cell) for i, cell in enumerate(["x", "<empty row>", "<row again>"] * 9)
    ]
    _spoilt(folder, families, spoil)
    with open(folder / "families.csv", "a", encoding="utf-8") as handle:
        handle.write(",,,,,\n" * 2)  # empty rows after the last family
    with open(folder / "members.csv", "a", encoding="utf-8") as handle:
        handle.write("NOBODY,A1,1980-01-01\n")  # a row of no family
    return folder


@pytest.mark.parametrize("workers", [2, "auto"])
def test_a_pool_gives_the_answers_of_reading_here(tmp_path: Path, workers: object) -> None:
    folder = _messy_council(tmp_path)
    here = _by_reading_here(folder, workers=1)
    there = _by_workers(folder, workers=workers)
    assert there == here
    answers, problems, _, _ = there
    assert len(answers) > 900  # each families row but empty ones: repeated rows too
    # a family's problems are in its rejection, rows of no family in `problems`
    kinds = " ".join(problems) + " ".join(str(a) for a in answers)
    for kind in ("duplicate_family", "empty_row", "no_family"):
        assert kind in kinds, kind  # every kind of trouble was met


def test_decisions_as_models_and_a_ledger_are_taken_too(tmp_path: Path) -> None:
    from pbr.history import PaymentHistory

    folder = _messy_council(tmp_path)
    read = read_tables(folder)
    history = PaymentHistory()
    expected = [_answer(a) for a in pbr.evaluate_many(read.families(), as_of=AS_OF, ledger=history)]
    options: dict[str, Any]
    for options in ({"workers": 2}, {"workers": 1, "ledger": history}):
        read = read_tables(folder)

        def batch(rows: Any, options: dict[str, Any] = options) -> Any:
            return pbr.evaluate_many(rows, as_of=AS_OF, **options)

        answers = read.evaluated(
            batch, lambda family: next(iter(pbr.evaluate_many([family], as_of=AS_OF, workers=1)))
        )
        assert [_answer(a) for a in answers] == expected
        assert read.reconciliation.balanced()


def test_a_family_read_here_and_then_rejected_keeps_its_place(tmp_path: Path) -> None:
    """A family sent back to the reader is evaluated by `one`, yet numbered as the batch would."""
    import json

    examples = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
    records = [json.loads(line) for line in examples.read_text(encoding="utf-8").splitlines()]
    records[2]["attached_on"] = "2011-01-01"  # before any programme: rejected when evaluated
    write_tables([pbr.Family.model_validate(r) for r in records[:4]], tmp_path / "t")
    with mock.patch.object(TableFamily, "family", return_value=None):
        answers, *_ = _by_workers(tmp_path / "t", workers=1)
    rejected = pbr.Rejection.model_validate_json(answers[2][1])
    assert (rejected.record, rejected.errors[0].type) == (3, "outside_programme")
    assert answers == _by_reading_here(tmp_path / "t", workers=1)[0]


@pytest.mark.parametrize("output", ["out.jsonl", "out.xlsx"])
def test_the_cli_reads_a_family_sent_back_as_one_it_read_itself(
    tmp_path: Path, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pbr.cli import main

    folder = _messy_council(tmp_path)

    def run(name: str) -> tuple[bytes, str]:
        args = ["evaluate", str(folder), "--as-of", AS_OF.isoformat(), "--workers", "1"]
        assert main([*args, "--output", str(tmp_path / name)]) == 1  # rows were rejected
        return (tmp_path / name).read_bytes(), capsys.readouterr().err.replace(name, "OUT")

    plain = run(output)
    with mock.patch.object(TableFamily, "family", return_value=None):
        sent_back = run("again-" + output)
    if output.endswith(".xlsx"):  # a workbook's bytes hold its time of writing: compare cells
        import openpyxl

        cells = [
            [list(ws.iter_rows(values_only=True)) for ws in openpyxl.load_workbook(tmp_path / n)]
            for n in (output, "again-" + output)
        ]
        assert cells[0] == cells[1]
        plain, sent_back = (b"", plain[1]), (b"", sent_back[1])
    assert sent_back == plain


def test_one_family_is_read_as_families_reads_it_the_others_unread(tmp_path: Path) -> None:
    """`TableInput.named` (``pbr explain FOLDER ID``): what `families` gives for that id."""
    import csv

    folder = _messy_council(tmp_path)
    with open(folder / "families.csv", newline="", encoding="utf-8") as handle:
        given = [row[0] for row in list(csv.reader(handle))[1:]]
    every = [item.model_dump_json() for item in read_tables(folder).families()]
    by_id: dict[str | None, list[str]] = {}
    for text in every:
        by_id.setdefault(pbr.Rejection.model_validate_json(text).family_id
                         if '"errors"' in text else pbr.Family.model_validate_json(text).family_id,
                         []).append(text)  # fmt: skip
    twice = [fid for fid, texts in by_id.items() if fid and len(texts) > 1]
    rejected = [fid for fid, texts in by_id.items() if fid and '"errors"' in texts[0]]
    assert twice
    assert rejected
    for family_id in {*twice[:3], *rejected[:3], given[0], given[-1], "", "NOPE"}:
        read = read_tables(folder)
        with mock.patch.object(tables.TableInput, "_family", wraps=read._family) as validated:
            found = [i.model_dump_json() for i in read.named(family_id) if i.family_id == family_id]
        assert found == by_id.get(family_id, []), family_id
        assert validated.call_count <= 1  # no other family validated


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(sorted(tables.TABLES)),
            st.lists(st.sampled_from(_ROW_BYTES), min_size=1, max_size=9),
        ),
        max_size=12,
    )
)
def test_any_bytes_in_any_table_are_answered_as_when_read_here(
    rows: list[tuple[str, list[bytes]]],
) -> None:
    """Rows of any bytes (a byte-order mark, bytes that are not UTF-8, quotes, short and long
    rows, repeated ids): the batch's answers are those of reading every family here."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "council"
        tables.write_templates(folder)
        for table, cells in rows:
            with open(folder / f"{table}.csv", "ab") as handle:
                handle.write(b",".join(cells) + b"\n")
        there = _by_workers(folder, workers=1)
        assert there == _by_reading_here(folder, workers=1)
    assert there[3][-1].startswith("  families read")


def test_a_family_id_with_a_byte_that_is_not_utf8_is_written_to_the_rejections_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Such a family_id (kept as a surrogate) once stopped ``--rejections FILE`` with "unexpected
    error": JSON cannot hold it. It is written ``\\x96``, in the file and on the terminal."""
    import json

    from pbr.cli import main

    folder = tmp_path / "council"
    tables.write_templates(folder)
    with open(folder / "families.csv", "ab") as handle:
        handle.write(b"F\x963,,,,,\n")
    with open(folder / "members.csv", "ab") as handle:
        handle.write(b"G\x96,A1,1980-01-01,,,\n")  # a row of no family
    out = tmp_path / "rejections.jsonl"
    code = main(["evaluate", str(folder), "--as-of", "2015-03-31", "--format", "json",
                 "--output", str(tmp_path / "out.jsonl"), "--rejections", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2  # no family could be evaluated
    assert "unexpected error" not in err
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["family_id"] for r in written] == ["F\\x963", "G\\x96"]
    assert "family 'F\\x963'" in err  # the byte escaped once
    assert main(["explain", str(folder), "F\udc963", "--as-of", "2015-03-31"]) == 1
    assert "families:2.family_id" in capsys.readouterr().err
