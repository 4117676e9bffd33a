"""What pbr returns, kept in memory rather than streamed: time, full collections and peak memory.

``python benchmarks/bench_kept.py [N] [--repeat 3]``: generates N phase-one families (default
50,000; benchmarks/generate.py), then runs each way of reading or evaluating them in a fresh
process (median wall of the repeats): streamed (each answer let go), kept in a list, and
streamed into `pbr.to_pandas`. Each row also gives the full collections of Python's cyclic
garbage collector in that process, and its peak memory. CPython's collector rescans every
container object alive: before the eighteenth round of ``docs/performance.md``, what was kept
made every later collection longer. Not a test: timings vary; compare rows of one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent

PRELUDE = """
import gc, resource, sys, time
from datetime import date
import pbr
as_of = date(2015, 3, 31)
start = time.perf_counter()
"""

REPORT = """
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{took:.2f} {gc.get_stats()[2]['collections']} {peak}")
"""

RUNS: dict[str, str] = {
    "`evaluate_many` of the file (2 workers), streamed": """
with open(sys.argv[1], "rb") as handle:
    for answer in pbr.evaluate_many(handle, as_of=as_of, workers=2):
        pass
""",
    "`evaluate_many` of the file (2 workers), kept in a list": """
with open(sys.argv[1], "rb") as handle:
    kept = list(pbr.evaluate_many(handle, as_of=as_of, workers=2))
""",
    "`evaluate_many` of a generator of lines (the pool, 2 workers), kept": """
with open(sys.argv[1], "rb") as handle:
    kept = list(pbr.evaluate_many((line for line in handle), as_of=as_of, workers=2))
""",
    "`pbr.to_pandas(evaluate_many(...))` of the file (2 workers)": """
with open(sys.argv[1], "rb") as handle:
    frame = pbr.to_pandas(pbr.evaluate_many(handle, as_of=as_of, workers=2))
""",
    "`read_records`, streamed": """
for record in pbr.read_records(sys.argv[1]):
    pass
""",
    "`read_records`, kept in a list": """
kept = list(pbr.read_records(sys.argv[1]))
""",
    "`read_records` kept, then `pbr.evaluate` of each, kept": """
families = list(pbr.read_records(sys.argv[1]))
kept = [pbr.evaluate(family, as_of=as_of) for family in families]
""",
}


def run(script: str, path: Path) -> tuple[float, int, int]:
    """Wall seconds, full collections and peak MiB of `script` over `path`, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + script + REPORT, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    took, collections, peak = done.stdout.split()
    return float(took), int(collections), int(peak)


def measure(path: Path, repeat: int) -> list[tuple[str, float, int, int]]:
    """Each run's median wall, with the full collections and peak memory of its last repeat."""
    rows = []
    for name, script in RUNS.items():
        done = [run(script, path) for _ in range(repeat)]
        rows.append((name, statistics.median(d[0] for d in done), done[-1][1], done[-1][2]))
    return rows


def table(rows: Sequence[tuple[str, float, int, int]]) -> str:
    lines = ["| run | wall | full collections | peak MiB |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {wall:.2f} s | {full} | {peak} |" for name, wall, full, peak in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="?", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "families.jsonl"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(args.families), str(path)], check=True
        )
        heading = f"python {sys.version.split()[0]}, {args.families:,} families, whole process"
        return f"{heading}\n\n{table(measure(path, args.repeat))}"


if __name__ == "__main__":
    print(main())
