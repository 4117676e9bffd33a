"""Benchmark ``pbr evaluate`` against the ``json.loads`` floor, in one run (issue 14).

``python benchmarks/bench_evaluate.py [N ...] [--council 2630] [--repeat 1] [--check 20000]
[--memory 400000]``:
for each size N (default 50,000) generates phase-one families (benchmarks/generate.py, about
5.5 KB and 33 facts each), then times on the same file, whole process unless marked:

- the floor: a plain ``json.loads`` loop over the file's lines (and ``orjson.loads``, in process,
  where orjson is installed);
- ``pbr evaluate FILE --as-of D --format json --output OUT`` with default settings, with
  ``--workers 1``, with ``--format csv --output OUT.csv``, and the table format (to a file);
- ``pbr.evaluate_many`` over the open file (``open(path, "rb")``) in a fresh process (default
  settings);
- the ceiling of any pool: the file cut into one slice a core, each evaluated by its own
  ``pbr evaluate --workers 1`` process, all at once (no pool, pipes or writing process);
- one council (``--council`` families) whole process, start-up included;

with the peak resident memory of each (``/usr/bin/time``, the largest process of the run) and
the ratio to the floor. ``--memory N`` compares each format's peak memory at 10,000 and N
families (default settings). ``--check N`` then compares, on the first N families at three dates
and under every interpretation, the decisions of ``pbr evaluate`` (default settings, bytes of
each line) with those of the reference path (`pbr.evaluate` of a validated `Family`, one at a
time). Not a test: timings vary; compare ratios from one run. Prints Markdown.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2015-03-31"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Commands run as after ``pip install``, with compiled bytecode: a machine that forbids writing
it (as some CI images do) would otherwise time compiling pbr's sources at every start."""


def timed(args: list[str], repeat: int = 1) -> tuple[float, float, float]:
    """Median wall seconds, peak resident memory (MiB) and median CPU seconds of a command.

    CPU time (user + system, the process and its children) is less disturbed than wall time
    when other work shares the machine.
    """
    walls, peaks, cpus = [], [], []
    for _ in range(repeat):
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M %U %S", *args],
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        if out.returncode not in (0, 1):
            raise SystemExit(f"{args} failed:\n{out.stderr[-2000:]}")
        seconds, kib, user, system = out.stderr.strip().splitlines()[-1].split()
        walls.append(float(seconds))
        peaks.append(int(kib) / 1024)
        cpus.append(float(user) + float(system))
    return statistics.median(walls), max(peaks), statistics.median(cpus)


FLOOR = """
import json, sys, time
start = time.perf_counter()
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        json.loads(line)
print(time.perf_counter() - start, time.process_time())
"""

ORJSON_FLOOR = FLOOR.replace("import json,", "import orjson as json,")

EVALUATE_MANY = """
import sys
from datetime import date
import pbr
n = 0
with open(sys.argv[1], "rb") as handle:
    for item in pbr.evaluate_many(handle, as_of=date.fromisoformat(sys.argv[2])):
        n += 1
"""


def in_process(script: str, path: Path) -> tuple[float, float]:
    """Wall and CPU seconds a loop over the file takes, measured inside a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def pbr_cmd(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pbr.cli", "evaluate", str(path), "--as-of", AS_OF, *extra]


def generate(n: int, path: Path) -> None:
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(path)], check=True)


def side_by_side(path: Path, parts: int, work: Path) -> list[str]:
    """A command running ``pbr evaluate --workers 1`` on `parts` slices of the file at once.

    No pool, no pipes, no writing process: each slice is a whole process of its own, started
    together on as many cores. What it takes is the least any pool can take on these cores
    with today's work a family: the ceiling of `--workers auto`, set by the cores and the
    evaluation, not by how the work is shared out.
    """
    lines = path.read_bytes().splitlines(keepends=True)
    commands = []
    for i in range(parts):
        part = work / f"{path.stem}-part{i}.jsonl"
        part.write_bytes(b"".join(lines[i * len(lines) // parts : (i + 1) * len(lines) // parts]))
        out = work / f"{path.stem}-part{i}-out.jsonl"
        run = pbr_cmd(part, "--format", "json", "--output", str(out), "--workers", "1")
        commands.append(" ".join(run) + " 2>/dev/null &")
    return ["sh", "-c", " ".join(commands) + " wait"]


def check(path: Path, n: int, work: Path) -> str:
    """Decision bytes of ``pbr evaluate`` (default settings) against the reference, one by one."""
    import pbr
    from pbr.programmes import programmes

    head = work / f"check{n}.jsonl"
    with open(path, "rb") as src, open(head, "wb") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    lines = head.read_bytes().splitlines()
    choices: list[list[str]] = [[]]
    rules = programmes()[0].rules
    for name, interpretation in rules.interpretations.items():
        for option in interpretation.values:
            if option != interpretation.default:
                choices.append(["--interpretation", f"{name}={option}"])
    compared = 0
    out = work / "check-out.jsonl"
    for when in ("2013-06-30", AS_OF, "2016-12-31"):
        for choice in choices:
            cmd = [sys.executable, "-m", "pbr.cli", "evaluate", str(head), "--as-of", when]
            cmd += ["--format", "json", "--output", str(out), *choice]
            out.unlink(missing_ok=True)  # a failed run must not leave the last run's output
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{cmd} failed:\n{done.stderr[-2000:]}")
            got = out.read_bytes().splitlines()
            variant = rules.with_interpretations(**dict(c.split("=", 1) for c in choice[1::2]))
            as_of = date.fromisoformat(when)
            want = [
                pbr.evaluate(pbr.Family.model_validate_json(line), as_of=as_of, rules=variant)
                .model_dump_json()
                .encode()
                for line in lines
            ]
            if got != want:
                bad = next(i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b)
                raise SystemExit(f"decision {bad} differs at {when} {choice}")
            compared += len(want)
    return f"{compared:,} decisions ({n:,} families × 3 dates × {len(choices)} interpretations)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[50_000])
    parser.add_argument("--council", type=int, default=2630)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--check", type=int, default=0, metavar="N")
    parser.add_argument("--workers", default=None, help="also time --workers W (e.g. 2)")
    parser.add_argument(
        "--memory",
        type=int,
        default=0,
        metavar="N",
        help="also compare peak memory at 10,000 and N families, every format (issue 14: 1.2x)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pbr-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # gigabytes at 50,000 families
    print(f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    import pbr

    package = str(Path(pbr.__file__).parent)  # bytecode written once, as pip install does
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True, env=ENV)
    council = work / "council.jsonl"
    generate(args.council, council)
    for extra in ([], ["--workers", "1"]):
        command = pbr_cmd(council, "--format", "json", "--output", str(work / "c.jsonl"), *extra)
        wall, peak, cpu = timed(command, 3)
        print(
            f"one council ({args.council:,} families), whole process {' '.join(extra)}: "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU, {peak:.0f} MiB"
        )
    print(
        "\n| families | MB | floor json.loads (CPU) | orjson | run | wall | CPU | wall × floor "
        "| CPU × floor CPU | peak MiB |\n|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    for n in args.sizes:
        path = work / f"f{n}.jsonl"
        generate(n, path)
        # the floor's best of three: a single run can catch the disk flushing the new file
        floor, floor_cpu = min(in_process(FLOOR, path) for _ in range(3))
        fast = (  # orjson is not among pbr's dependencies: a column left empty without it
            f"{min(in_process(ORJSON_FLOOR, path) for _ in range(3))[0]:.2f} s"
            if importlib.util.find_spec("orjson") is not None
            else "-"
        )
        out = str(work / "out")
        runs = {
            "json, default": pbr_cmd(path, "--format", "json", "--output", out + ".jsonl"),
            "json, 1 worker": pbr_cmd(
                path, "--format", "json", "--output", out + ".jsonl", "--workers", "1"
            ),
            "csv, default": pbr_cmd(path, "--format", "csv", "--output", out + ".csv"),
            "csv, 1 worker": pbr_cmd(
                path, "--format", "csv", "--output", out + ".csv", "--workers", "1"
            ),
            "table, default": ["sh", "-c", " ".join(pbr_cmd(path)) + f" > {out}.txt"],
            "evaluate_many, default": [sys.executable, "-c", EVALUATE_MANY, str(path), AS_OF],
            f"json, {cores} parts side by side (no pool)": side_by_side(path, cores, work),
        }
        if args.workers:
            runs[f"json, {args.workers} workers"] = pbr_cmd(
                path, "--format", "json", "--output", out + ".jsonl", "--workers", args.workers
            )
        size = path.stat().st_size / 1e6
        for name, cmd in runs.items():
            wall, peak, cpu = timed(cmd, args.repeat)
            print(
                f"| {n:,} | {size:.0f} | {floor:.2f} s ({floor_cpu:.2f}) | {fast} | {name} "
                f"| {wall:.2f} s | {cpu:.2f} s | {wall / floor:.2f} | {cpu / floor_cpu:.2f} "
                f"| {peak:.0f} |",
                flush=True,
            )
    if args.memory:
        print(memory(args.memory, work))
    if args.check:
        path = work / f"f{max(args.sizes)}.jsonl"
        print("\ndifferential check:", check(path, args.check, work))


def memory(large: int, work: Path) -> str:
    """Peak memory of each output format, default settings, at 10,000 and `large` families."""
    rows = [
        f"\n| format (default settings) | 10,000 families | {large:,} families | ratio |",
        "|---|---:|---:|---:|",
    ]
    peaks: dict[int, dict[str, float]] = {}
    for n in (10_000, large):
        path = work / f"m{n}.jsonl"
        generate(n, path)
        out = str(work / "m-out")
        runs = {
            "json": pbr_cmd(path, "--format", "json", "--output", out + ".jsonl"),
            "csv": pbr_cmd(path, "--format", "csv", "--output", out + ".csv"),
            "table": ["sh", "-c", " ".join(pbr_cmd(path)) + f" > {out}.txt"],
        }
        peaks[n] = {name: timed(cmd)[1] for name, cmd in runs.items()}
        path.unlink()
    for name, small in peaks[10_000].items():
        big = peaks[large][name]
        rows.append(f"| {name} | {small:.1f} MiB | {big:.1f} MiB | {big / small:.2f}× |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
