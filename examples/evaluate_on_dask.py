"""Evaluate council files on a Dask cluster, then check the result against ``pbr evaluate``.

Run: python examples/evaluate_on_dask.py  (needs ``pip install "pbr-claims[dask]"``)

A local cluster of two worker processes stands in for a real one: on a cluster, pass the
scheduler's address to ``Client`` instead and put the files and the output folder on storage
every worker can read and write. The ``__main__`` guard is needed: worker processes import this
script, and must not start a cluster of their own.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

from distributed import Client, LocalCluster

import pbr.dask

HERE = Path(__file__).resolve().parent


def split_by_council(source: Path, folder: Path) -> list[Path]:
    """One JSON Lines file per council, as councils send them."""
    files: dict[str, list[str]] = {}
    for line in source.read_text().splitlines():
        council = json.loads(line).get("local_authority") or "unknown"
        files.setdefault(council, []).append(line)
    paths = []
    for council, lines in sorted(files.items()):
        path = folder / f"{council}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pbr-dask-example-") as folder:
        run(Path(folder))


def run(work: Path) -> None:
    files = split_by_council(HERE / "families.jsonl", work)
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),  # type: ignore[no-untyped-call]
    ):
        result = pbr.dask.evaluate(files, as_of=date(2015, 3, 31), output=work / "out")
    print("\n".join(result.totals.lines()))
    print(
        f"{len(result.decisions)} decisions files, {result.rejected} rejections in {work / 'out'}"
    )
    local = pbr.Totals()
    for item in pbr.evaluate_many(
        pbr.read_records(HERE / "families.jsonl"), as_of=date(2015, 3, 31)
    ):
        if isinstance(item, pbr.Decision):
            local.add(item)
        else:
            local.reject()
    assert local == result.totals, "the cluster and the local run disagree"
    print("totals agree with a local run, to the penny")


if __name__ == "__main__":
    main()
