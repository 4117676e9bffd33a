"""pbr.dask on a distributed.LocalCluster: the same decisions and totals as ``pbr evaluate``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

import pbr
import pbr.dask
from pbr.calendars import term_calendar_data
from pbr.ledger import Entry, Ledger
from tests.builders import COUNCIL_2012, council_calendar_family

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "families.jsonl"
AS_OF = date(2015, 3, 31)
BAD = '{"family_id": "BAD", "attached_on": "2013-02-30"}'


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as connected,  # type: ignore[no-untyped-call]
    ):
        yield connected


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    """Two council files: the second repeats a family of the first and holds a bad record."""
    lines = EXAMPLES.read_text().splitlines()
    first, second = tmp_path / "in" / "a.jsonl", tmp_path / "in" / "b.jsonl"
    first.parent.mkdir()
    first.write_text("\n".join(lines[:30]) + "\n")
    second.write_text("\n".join([*lines[30:], BAD, "", lines[4]]) + "\n")
    return [first, second]


def _cli(
    files: list[Path], tmp_path: Path, *options: str
) -> tuple[list[str], str, list[dict[str, Any]]]:
    joined = tmp_path / "all.jsonl"
    joined.write_text("".join(f.read_text() for f in files))
    out, rejected = tmp_path / "cli.jsonl", tmp_path / "cli-rejections.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pbr.cli",
            "evaluate",
            str(joined),
            "--as-of",
            str(AS_OF),
            "--format",
            "json",
            "--output",
            str(out),
            "--rejections",
            str(rejected),
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # 1: some records rejected
    rejections = [json.loads(line) for line in rejected.read_text().splitlines()]
    return out.read_text().splitlines(keepends=True), result.stderr, rejections


def _decisions(result: pbr.dask.Result) -> list[str]:
    lines: list[str] = []
    for path in result.decisions:
        text = path.read_text()
        assert not text or text.endswith("\n")
        lines += text.splitlines(keepends=True)
    return lines


@pytest.mark.parametrize("partition_bytes", [None, 20_000])
def test_same_decisions_and_totals_as_the_cli(
    client: object, files: list[Path], tmp_path: Path, partition_bytes: int | None
) -> None:
    cli, stderr, cli_rejections = _cli(files, tmp_path)
    result = pbr.dask.evaluate(
        [str(tmp_path / "in" / "*.jsonl")],
        as_of=AS_OF,
        output=tmp_path / "out",
        partition_bytes=partition_bytes,
    )
    assert _decisions(result) == cli  # byte-identical, and in input order
    assert "\n".join("  " + line for line in result.totals.lines()) in stderr
    assert result.totals.reconciles()
    assert result.totals.overall.families_evaluated == 60
    assert result.totals.overall.total == Decimal("190800.00")
    assert result.rejected == 2
    rejections = [json.loads(line) for line in result.rejections.read_text().splitlines()]
    assert [(r["source"], r["line"], r["record"], r["family_id"]) for r in rejections] == [
        (str(files[1]), 31, 31, "BAD"),
        (str(files[1]), 33, 32, "EX-005"),
    ]
    # the CLI was given the files joined: the repeat's first appearance is in the first file
    first = f"family_id 'EX-005' was already given on line 5 of {files[0]}"
    assert cli_rejections[1]["errors"][0]["message"] == first.replace(f" of {files[0]}", "")
    cli_rejections[1]["errors"][0]["message"] = first
    assert [r["errors"] for r in rejections] == [r["errors"] for r in cli_rejections]
    saved = json.loads(result.totals_file.read_text())
    assert saved == {**result.totals.to_dict(), "warnings": list(result.warnings)}


def test_interpretations_and_ledger_as_the_cli(
    client: object, files: list[Path], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    Ledger(ledger).append(
        [Entry("EX-001", "crime_asb_education", Decimal("700.00"), date(2013, 5, 1), "C-1", "v1")]
    )
    cli, stderr, _ = _cli(
        files, tmp_path, "--interpretation", "results_split=pro_rata", "--ledger", str(ledger)
    )
    result = pbr.dask.evaluate(
        files,
        as_of=AS_OF,
        output=tmp_path / "out",
        interpretations={"results_split": "pro_rata"},
        ledger=ledger,
    )
    assert _decisions(result) == cli
    assert "\n".join("  " + line for line in result.totals.lines()) in stderr


def test_a_bag_and_a_rule_set(client: object, files: list[Path], tmp_path: Path) -> None:
    import dask.bag as db

    paths = [str(f) for f in files]
    bag = db.read_text(paths, files_per_partition=1)  # type: ignore[no-untyped-call]
    result = pbr.dask.evaluate(bag, as_of=AS_OF, output=tmp_path / "out", rules=pbr.rules.PHASE_ONE)
    cli, _, _ = _cli(files, tmp_path)
    assert _decisions(result) == cli
    rejections = [json.loads(line) for line in result.rejections.read_text().splitlines()]
    assert [(r["source"], r["line"]) for r in rejections] == [
        ("<bag partition 1>", 31),
        ("<bag partition 1>", 33),
    ]
    by_path = pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "path")
    assert result.warnings == by_path.warnings != ()  # counted from decisions, not their JSON


def _calendar_input(tmp_path: Path) -> tuple[Path, Path]:
    """A file with the council calendar's family among the examples, and the calendar's file."""
    lines = EXAMPLES.read_text().splitlines()[:5]
    records = tmp_path / "in" / "calendar.jsonl"
    records.parent.mkdir(exist_ok=True)
    records.write_text("\n".join([*lines, council_calendar_family().model_dump_json()]) + "\n")
    calendar = tmp_path / "council.json"
    calendar.write_text(json.dumps(term_calendar_data(COUNCIL_2012)))
    return records, calendar


@pytest.mark.parametrize("rules", [None, pbr.rules.PHASE_ONE])
def test_a_term_calendar_as_the_cli(
    client: object, tmp_path: Path, rules: pbr.RuleSet | None
) -> None:
    import contextlib
    import io

    from pbr.cli import main

    records, calendar = _calendar_input(tmp_path)
    cli_out, err = tmp_path / "cli.jsonl", io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(
            [
                *("evaluate", str(records), "--as-of", "2013-07-31", "--format", "json"),
                *("--output", str(cli_out), "--term-calendar", str(calendar)),
            ]
        )
    assert status == 0, err.getvalue()
    result = pbr.dask.evaluate(
        records,
        as_of=date(2013, 7, 31),
        output=tmp_path / "out",
        rules=rules,
        term_calendar=pbr.load_term_calendar(calendar),
    )
    assert _decisions(result) == cli_out.read_text().splitlines(keepends=True)
    last = json.loads(_decisions(result)[-1])
    assert last["results"]["crime_asb_education"]["status"] == "not_met"  # £700 by default
    saved = json.loads(result.totals_file.read_text())
    assert saved["term_calendar"] == {
        "name": "council",
        "terms": [
            {
                "academic_year": "2012/13",
                "term": "autumn",
                "start": "2012-09-04",
                "end": "2012-12-20",
            }
        ],
    }
    assert saved["warnings"] == list(result.warnings)
    assert {k: v for k, v in saved.items() if k not in ("term_calendar", "warnings")} == (
        result.totals.to_dict()
    )
    default = pbr.dask.evaluate(records, as_of=date(2013, 7, 31), output=tmp_path / "default")
    assert "term_calendar" not in json.loads(default.totals_file.read_text())
    assert json.loads(_decisions(default)[-1])["payable"] == "700.00"


def test_a_term_calendar_must_be_one(tmp_path: Path) -> None:
    records, calendar = _calendar_input(tmp_path)
    with pytest.raises(TypeError, match=r"term_calendar must be a pbr\.TermCalendar or None"):
        pbr.dask.evaluate(
            records,
            as_of=date(2013, 7, 31),
            output=tmp_path / "out",
            term_calendar=str(calendar),  # type: ignore[arg-type]
        )
    assert not (tmp_path / "out").exists()  # refused before the folder is made


def test_an_earlier_run_is_not_overwritten_by_accident(
    client: object, files: list[Path], tmp_path: Path
) -> None:
    pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "out")
    with pytest.raises(pbr.output.OutputError, match="already holds an earlier run"):
        pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "out")
    with pytest.raises(pbr.UnknownInterpretation):  # a run that fails up front deletes nothing
        pbr.dask.evaluate(
            files, as_of=AS_OF, output=tmp_path / "out", overwrite=True, interpretations={"x": "y"}
        )
    assert list((tmp_path / "out").glob("decisions-*.jsonl"))
    again = pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "out", overwrite=True)
    assert again.totals.overall.families_evaluated == 60


def test_a_missing_file_and_a_bad_interpretation_fail_up_front(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        pbr.dask.evaluate(tmp_path / "none.jsonl", as_of=AS_OF, output=tmp_path / "out")
    for bad in ({"nope": "x"}, {"results_split": "nope"}):
        with pytest.raises(pbr.UnknownInterpretation):
            pbr.dask.evaluate(EXAMPLES, as_of=AS_OF, output=tmp_path / "out", interpretations=bad)
    assert not list((tmp_path / "out").glob("decisions-*"))


def test_import_pbr_does_not_import_dask() -> None:
    code = "import sys, pbr; pbr.Totals; pbr.evaluate_many; print('dask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def _script(script: Path, *, timeout: int) -> subprocess.CompletedProcess[str]:
    """Run `script` as a user would, from its own folder."""
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=script.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def test_the_performance_page_dask_snippet_runs_as_a_script(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "performance.md").read_text()
    section = page.split("## Distributed runs with Dask", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'if __name__ == "__main__":' in code
    script = tmp_path / "snippet.py"
    script.write_text(code.replace("examples/families.jsonl", str(EXAMPLES)))
    result = _script(script, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 file(s)"
    [written] = (tmp_path / "partition-decisions").glob("*.jsonl")
    text = written.read_text()
    assert text.endswith("\n")
    assert len(text.splitlines()) == 60


def test_each_cluster_page_block_runs_as_a_script_of_its_own(tmp_path: Path) -> None:
    """The "Collecting rejections" block used ``Path`` without importing it: run alone, as a
    script, it raised NameError (the page's test runs its blocks in one namespace)."""
    from tests.test_docs import fenced_blocks

    page = Path(__file__).resolve().parents[1] / "docs" / "cluster.md"
    blocks = [b for b in fenced_blocks(page) if b.lang == "python" and b.runnable]
    assert len(blocks) >= 2
    shutil.copytree(EXAMPLES.parent, tmp_path / "examples")
    for n, block in enumerate(blocks):  # in page order: a later block reads what one wrote
        script = tmp_path / f"block{n}.py"
        script.write_text(block.code)
        result = _script(script, timeout=300)
        assert result.returncode == 0, f"{block.where}: {result.stderr}"


def test_a_record_over_the_size_limit_is_rejected_with_its_line(
    client: object, files: list[Path], tmp_path: Path
) -> None:
    sizes = [len(line) for line in files[0].read_text().splitlines()]
    limit = sorted(sizes)[-1] - 1  # only the longest line of the first file is too large
    result = pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "out", max_record_bytes=limit)
    rejections = [json.loads(line) for line in result.rejections.read_text().splitlines()]
    too_large = [r for r in rejections if r["errors"][0]["type"] == "record_too_large"]
    assert [(r["source"], r["line"]) for r in too_large][:1] == [
        (str(files[0]), sizes.index(max(sizes)) + 1)
    ]
    assert result.totals.reconciles()
    assert result.totals.overall.families_rejected == result.rejected


def test_a_dask_worker_never_starts_a_pool_of_its_own(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "auto" would move a large partition to every core; inside Dask that is Dask's job
    import pbr.batch

    def no_pool(workers: int) -> None:
        raise AssertionError(f"a pool of {workers} started inside a Dask task")

    monkeypatch.setattr(pbr.batch, "AUTO_SERIAL_FAMILIES", 1)
    monkeypatch.setattr(pbr.batch, "_pool", no_pool)
    done = pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "out", scheduler="sync")
    assert done.totals.overall.families_evaluated > 1


def test_inputs_that_match_nothing_leave_no_output_folder(tmp_path: Path) -> None:
    """The folder was made before the inputs were looked for: an empty one was left behind."""
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match="no such file"):
        pbr.dask.evaluate(
            str(tmp_path / "nomatch" / "*.jsonl"), output=out, as_of=date(2015, 3, 31)
        )
    assert not out.exists()


def test_a_bag_skips_the_byte_order_mark_of_a_file(client: object, tmp_path: Path) -> None:
    """A bag's lines kept the mark: the file's first family was rejected and not paid."""
    import dask.bag as db

    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + EXAMPLES.read_bytes())
    bag = db.read_text(str(marked), errors="surrogateescape")  # type: ignore[no-untyped-call]
    by_bag = pbr.dask.evaluate(bag, as_of=AS_OF, output=tmp_path / "bag")
    by_path = pbr.dask.evaluate(marked, as_of=AS_OF, output=tmp_path / "path")
    assert by_bag.rejected == by_path.rejected == 0
    assert by_bag.totals == by_path.totals
    assert by_bag.totals.overall.total == Decimal("190800.00")
    assert _decisions(by_bag) == _decisions(by_path)


def test_overwrite_removes_only_the_files_of_a_run(
    client: object, files: list[Path], tmp_path: Path
) -> None:
    """overwrite=True deleted every decisions-*.jsonl, a user's own file too."""
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "decisions-2014-final.jsonl"
    mine.write_text("the user's own file\n")
    first = pbr.dask.evaluate(files, as_of=AS_OF, output=out)  # not refused: no run's files
    assert mine.read_text() == "the user's own file\n"
    (out / "decisions-00007.jsonl").write_text("an earlier, longer run\n")
    again = pbr.dask.evaluate(files, as_of=AS_OF, output=out, overwrite=True)
    assert again.totals == first.totals
    assert mine.read_text() == "the user's own file\n"
    assert sorted(p.name for p in out.iterdir()) == [
        "decisions-00000.jsonl",
        "decisions-00001.jsonl",
        "decisions-2014-final.jsonl",
        "rejections.jsonl",
        "totals.json",
    ]


@pytest.mark.parametrize("name", ["rejections.jsonl", "totals.json"])
def test_a_folder_holding_a_runs_rejections_or_totals_is_refused(
    files: list[Path], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("kept\n")
    with pytest.raises(pbr.output.OutputError, match=f"earlier run's files \\({name}"):
        pbr.dask.evaluate(files, as_of=AS_OF, output=out, scheduler="sync")
    assert [p.name for p in out.iterdir()] == [name]
    assert (out / name).read_text() == "kept\n"


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_output_folder_holding_an_input_is_refused_up_front(
    files: list[Path], tmp_path: Path, overwrite: bool
) -> None:
    """The folder's own decisions were read as input, then deleted under the workers."""
    folder = files[0].parent
    (folder / "decisions-00000.jsonl").write_text("an earlier run\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    link = tmp_path / "link"
    link.symlink_to(folder)
    for output in (folder, link, folder / ".." / folder.name):
        with pytest.raises(pbr.output.OutputError, match="it holds the input"):
            pbr.dask.evaluate(
                str(folder / "*.jsonl"),
                as_of=AS_OF,
                output=output,
                overwrite=overwrite,
                scheduler="sync",
            )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_the_same_file_twice_keeps_its_own_line_numbers(
    client: object, files: list[Path], tmp_path: Path
) -> None:
    """The repeat's lines were numbered on from the end of the first copy: lines that do not exist."""
    once = files[0]
    result = pbr.dask.evaluate([once, once], as_of=AS_OF, output=tmp_path / "out")
    rejections = [json.loads(line) for line in result.rejections.read_text().splitlines()]
    assert len(rejections) == 30
    assert [(r["line"], r["record"]) for r in rejections] == [(n, n) for n in range(1, 31)]
    assert {r["errors"][0]["type"] for r in rejections} == {"duplicate_family"}
    assert [r["errors"][0]["message"] for r in rejections[:2]] == [
        f"family_id {json.loads(line)['family_id']!r} was already given on line {n}"
        for n, line in enumerate(once.read_text().splitlines()[:2], start=1)
    ]


@pytest.mark.parametrize("partition_bytes", [None, 2_000])
def test_a_repeat_names_the_file_and_line_of_the_first_across_partitions(
    client: object, tmp_path: Path, partition_bytes: int | None
) -> None:
    """In the same file (a later partition or not), the line; in another file, the file too."""
    lines = EXAMPLES.read_text().splitlines()
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join([*lines[:20], lines[3]]) + "\n")  # line 21 repeats line 4
    second.write_text("\n".join(["", lines[7]]) + "\n")  # line 2 repeats a.jsonl's line 8
    result = pbr.dask.evaluate(
        [first, second], as_of=AS_OF, output=tmp_path / "out", partition_bytes=partition_bytes
    )
    rejections = [json.loads(line) for line in result.rejections.read_text().splitlines()]
    ids = [json.loads(lines[n])["family_id"] for n in (3, 7)]
    assert [(r["source"], r["line"], r["errors"][0]["message"]) for r in rejections] == [
        (str(first), 21, f"family_id {ids[0]!r} was already given on line 4"),
        (str(second), 2, f"family_id {ids[1]!r} was already given on line 8 of {first}"),
    ]
    if partition_bytes:  # the repeat came in another partition than its first line
        assert len(result.decisions) > 2


def test_a_keyed_ledger_by_path(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment's key was ignored, and the error suggested a --key-file option."""
    key = b"correct horse battery staple"
    path = tmp_path / "keyed.db"
    Ledger(path, key=key).append(
        [Entry("EX-001", "crime_asb_education", Decimal("700.00"), date(2013, 5, 1), "C-1", "v1")]
    )
    unkeyed = tmp_path / "plain.db"
    Ledger(unkeyed).append(
        [Entry("EX-001", "crime_asb_education", Decimal("700.00"), date(2013, 5, 1), "C-1", "v1")]
    )
    expected = pbr.dask.evaluate(
        files, as_of=AS_OF, output=tmp_path / "plain", ledger=unkeyed, scheduler="sync"
    ).totals
    monkeypatch.delenv("PBR_LEDGER_KEY", raising=False)
    monkeypatch.delenv("PBR_LEDGER_KEY_FILE", raising=False)
    with pytest.raises(pbr.ledger.LedgerError) as refused:
        pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "none", ledger=path)
    assert "--" not in str(refused.value)
    assert "ledger_key=" in str(refused.value)
    assert not (tmp_path / "none").exists()
    given = pbr.dask.evaluate(
        files, as_of=AS_OF, output=tmp_path / "given", ledger=path, ledger_key=key, scheduler="sync"
    )
    assert given.totals == expected
    monkeypatch.setenv("PBR_LEDGER_KEY", key.decode())
    from_env = pbr.dask.evaluate(
        files, as_of=AS_OF, output=tmp_path / "env", ledger=str(path), scheduler="sync"
    )
    assert from_env.totals == expected


def test_a_folder_no_paths_and_a_bad_partition_size_are_refused(
    files: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    folder = files[0].parent
    with pytest.raises(IsADirectoryError, match=f"{folder} is a folder"):
        pbr.dask.evaluate(folder, as_of=AS_OF, output=out)
    (folder / "sub.jsonl").mkdir()
    with pytest.raises(IsADirectoryError, match=r"sub\.jsonl is a folder \(matched by"):
        pbr.dask.evaluate(str(folder / "*.jsonl"), as_of=AS_OF, output=out)
    with pytest.raises(ValueError, match="paths names no file"):
        pbr.dask.evaluate([], as_of=AS_OF, output=out)
    for size in (0, -5, 1.5):
        with pytest.raises(ValueError, match="partition_bytes"):
            pbr.dask.evaluate(files, as_of=AS_OF, output=out, partition_bytes=size)  # type: ignore[arg-type]
    assert not out.exists()


def _not_json_lines(folder: Path) -> dict[str, bytes]:
    """Files pbr.dask cannot read as JSON Lines, by name: each gave a rejection a line."""
    import gzip

    from pbr.tables import write_tables

    records = EXAMPLES.read_text().splitlines()[:3]
    families = [pbr.Family.model_validate_json(line) for line in records]
    book = write_tables(families, folder / "tables.xlsx")
    array = [json.loads(line) for line in records]
    return {
        "pretty.json": json.dumps(array, indent=2).encode(),  # 558 rejections for 3 families
        "one-line.json": b"\xef\xbb\xbf \n" + json.dumps(array).encode() + b"\n",
        "families.xlsx": book.read_bytes(),
        "renamed.jsonl": book.read_bytes(),  # a workbook by its bytes
        "families.csv": b"family_id,attached_on\nF1,2013-05-01\n",
        "families.jsonl.gz": gzip.compress("\n".join(records).encode()),
    }


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("pretty.json", "a JSON document"),
        ("one-line.json", "a JSON document"),
        ("families.xlsx", "workbook"),
        ("renamed.jsonl", "workbook"),
        ("families.csv", "a table"),
        ("families.jsonl.gz", "gzip-compressed"),
    ],
)
def test_a_file_that_is_not_json_lines_is_refused_up_front(
    tmp_path: Path, name: str, said: str
) -> None:
    """Each was read line by line: a JSON array of 3 families gave 558 rejections, a workbook
    162, a CSV file 61, where ``pbr evaluate`` reads the array and refuses the others."""
    path = tmp_path / name
    path.write_bytes(_not_json_lines(tmp_path)[name])
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"pbr\.dask reads JSON Lines only") as refused:
        pbr.dask.evaluate([EXAMPLES, path], as_of=AS_OF, output=out, scheduler="sync")
    assert str(path) in str(refused.value)
    assert said in str(refused.value)
    assert not out.exists()  # refused before any work: no folder made


def test_json_lines_files_are_still_read(tmp_path: Path) -> None:
    """A byte-order mark, blank lines first, and a first record that is a bad array: JSON Lines."""
    lines = EXAMPLES.read_text().splitlines()[:3]
    path = tmp_path / "in" / "a.jsonl"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf\n" + b"[1]\n" + "\n".join(lines).encode() + b"\n")
    result = pbr.dask.evaluate(path, as_of=AS_OF, output=tmp_path / "out", scheduler="sync")
    assert result.rejected == 1
    assert result.totals.overall.families_evaluated == 3


def test_a_recursive_glob_reads_the_files_in_the_folder_itself(
    client: object, tmp_path: Path
) -> None:
    """``**`` matched one folder or more: the folder's own files were never read, no error."""
    import dask.bag as db

    lines = EXAMPLES.read_text().splitlines()
    folder = tmp_path / "in"
    top, first, second = (
        folder / "top.jsonl",
        folder / "2014" / "a.jsonl",
        folder / "2015" / "b.jsonl",
    )
    first.parent.mkdir(parents=True)
    second.parent.mkdir()
    top.write_text("\n".join(lines[:3]) + "\n")
    first.write_text(lines[3] + "\n")
    second.write_text("\n".join([lines[4], BAD, lines[0]]) + "\n")  # lines[0]: also in top's
    pattern = str(folder / "**" / "*.jsonl")
    assert db.read_text(pattern).count().compute() == 7  # type: ignore[no-untyped-call]
    result = pbr.dask.evaluate(pattern, as_of=AS_OF, output=tmp_path / "out")
    # every file, in sorted order (as dask.bag.read_text takes them): top.jsonl's first is a repeat
    assert _decisions(result) == _cli([first, second, top], tmp_path)[0]
    assert result.totals.overall.families_evaluated == 5
    rejections = [json.loads(line) for line in result.rejections.read_text().splitlines()]
    assert [(r["source"], r["line"]) for r in rejections] == [(str(second), 2), (str(top), 1)]
    assert rejections[1]["errors"][0]["type"] == "duplicate_family"
    flat = tmp_path / "flat"  # every file in the folder itself: "no such file"
    flat.mkdir()
    shutil.copy(top, flat / "top.jsonl")
    alone = pbr.dask.evaluate(str(flat / "**" / "*.jsonl"), as_of=AS_OF, output=tmp_path / "o2")
    assert alone.totals.overall.families_evaluated == 3


def test_the_summarys_warnings_are_the_web_apis_and_the_clis(
    client: object, tmp_path: Path
) -> None:
    """Families judged against pbr's example plans, claims closed, council names differing
    only in case, warning codes: ``pbr evaluate`` and the web API said them, pbr.dask nothing."""
    from pbr.serve import create_app
    from tests.serve_support import call, cli, lines_of

    mixed = (EXAMPLES.parent / "mixed-programmes.jsonl").read_text().splitlines()
    named = [
        json.dumps(json.loads(line) | {"local_authority": council})
        for line, council in zip(mixed, ["Leeds", "LEEDS"] * 5, strict=True)
    ]
    first, second = tmp_path / "in" / "a.jsonl", tmp_path / "in" / "b.jsonl"
    first.parent.mkdir()
    first.write_text("\n".join(named[:6]) + "\n")
    second.write_text("\n".join([*named[6:], named[1]]) + "\n")  # a tf-phase-2 family again
    when = date(2020, 3, 31)
    with pytest.warns(UserWarning, match="example outcome plan") as warned:
        result = pbr.dask.evaluate(
            [first, second], as_of=when, output=tmp_path / "out", partition_bytes=20_000
        )
    body = first.read_bytes() + second.read_bytes()
    params = {"as_of": when.isoformat()}
    rows = lines_of(call(create_app(), "POST", "/v1/evaluate/batch", params=params, content=body))
    api = rows[-1]["summary"]["warnings"]
    assert list(result.warnings) == api
    assert json.loads(result.totals_file.read_text())["warnings"] == api
    assert "5 tf-phase-2 families were judged" in " ".join(api)  # the repeat is not counted
    assert any("differ only in case" in said for said in api)
    assert any("claims closed" in said for said in api)
    # pbr evaluate's "pbr: warning:" lines, a Python warning each, at the caller's line
    joined = tmp_path / "joined.jsonl"
    joined.write_bytes(body)
    _, _, err = cli("evaluate", str(joined), "--as-of", when.isoformat(), "--format", "json")
    said = [line.removeprefix("pbr: warning: ") for line in err.splitlines()]
    assert [str(w.message) for w in warned] == [s for s in said if "example outcome plan" in s]
    assert len(warned) == 2
    assert {w.filename for w in warned} == {__file__}
