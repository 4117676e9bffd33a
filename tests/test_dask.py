"""pbr.dask on a distributed.LocalCluster: the same decisions and totals as ``pbr evaluate``."""

from __future__ import annotations

import json
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
from pbr.ledger import Entry, Ledger

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
    assert [r["errors"] for r in rejections] == [r["errors"] for r in cli_rejections]
    saved = json.loads(result.totals_file.read_text())
    assert saved == result.totals.to_dict()


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


def test_an_earlier_run_is_not_overwritten_by_accident(
    client: object, files: list[Path], tmp_path: Path
) -> None:
    pbr.dask.evaluate(files, as_of=AS_OF, output=tmp_path / "out")
    with pytest.raises(pbr.output.OutputError, match="already holds decisions"):
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


def test_the_performance_page_dask_snippet_runs_as_a_script(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "performance.md").read_text()
    section = page.split("## Distributed runs with Dask", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'if __name__ == "__main__":' in code
    script = tmp_path / "snippet.py"
    script.write_text(code.replace("examples/families.jsonl", str(EXAMPLES)))
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 file(s)"
    [written] = (tmp_path / "partition-decisions").glob("*.jsonl")
    text = written.read_text()
    assert text.endswith("\n")
    assert len(text.splitlines()) == 60


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
