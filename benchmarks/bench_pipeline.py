"""Benchmark the pipeline on generated files: the issue's (a)-(d), memory and import time.

``python benchmarks/bench_pipeline.py 1000 10000 100000``: for each size, generates the file
(benchmarks/generate.py), then measures in one run on the same file (a) ``json.loads`` of every
line, (b) ``Family.model_validate_json`` of every line (streaming), (c) ``pbr evaluate FILE
--format json --output OUT`` end to end and (d) the same with ``--workers 2``, with wall time
and peak memory (``/usr/bin/time``), and ``python -c "import pbr"``. Prints a Markdown table.
Not a test: timings vary from machine to machine; compare ratios from one run.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of a command."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *args], capture_output=True, text=True, check=True
    )
    seconds, kib = out.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024


def in_process(path: Path) -> tuple[float, float]:
    import pbr

    lines = path.read_text().splitlines()
    start = time.perf_counter()
    for line in lines:
        json.loads(line)
    loads = time.perf_counter() - start
    start = time.perf_counter()
    for line in lines:
        pbr.Family.model_validate_json(line)
    validate = time.perf_counter() - start
    return loads, validate


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    work = Path(tempfile.mkdtemp())
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # gigabytes at 50,000 families
    imports = [timed([sys.executable, "-c", "import pbr"])[0] for _ in range(5)]
    print(f"import pbr: {min(imports) * 1000:.0f} ms (best of 5, whole process)\n")
    print(
        "| families | MB | (a) json.loads | (b) validate | (c) evaluate, 1 worker | (c)/(b) "
        "| (d) 2 workers | (c)/(d) | peak MiB (c) | families/s (c) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        path = work / f"f{n}.jsonl"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(path)], check=True)
        loads, validate = in_process(path)
        base = [
            sys.executable,
            "-m",
            "pbr.cli",
            "evaluate",
            str(path),
            "--as-of",
            "2015-03-31",
            "--format",
            "json",
            "--output",
            str(work / "out.jsonl"),
        ]
        one, peak = timed(base)
        two, _ = timed([*base, "--workers", "2"])
        size = path.stat().st_size / 1e6
        print(
            f"| {n:,} | {size:.0f} | {loads:.2f} s | {validate:.2f} s | {one:.2f} s | "
            f"{one / validate:.1f} | {two:.2f} s | {one / two:.2f} | {peak:.0f} | {n / one:,.0f} |"
        )


if __name__ == "__main__":
    main()
