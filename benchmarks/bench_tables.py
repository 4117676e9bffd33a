"""Council tables (a CSV folder and an XLSX workbook) read family by family: time and peak memory.

``python benchmarks/bench_tables.py 10000 100000 [--xlsx]``: writes N generated families
(`benchmarks/generate.py`) as tables with `pbr.tables.write_tables` (the first 10,000, then
copies with new family ids, so writing stays cheap), then times, in a fresh process each,
reading every family (``read``: `pbr.tables.read_tables` and `TableInput.families`) and the
whole ``pbr evaluate FOLDER --as-of 2015-03-31 --format json --output OUT``, with peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import family

import pbr
from pbr.tables import TABLES, write_tables

BASE = 10_000


def write_folder(n: int, folder: Path) -> None:
    base = min(n, BASE)
    seed = folder.parent / f"base-{base}"
    if not seed.exists():
        rng = random.Random(2026)
        families = (pbr.Family.model_validate(family(rng, i)) for i in range(base))
        write_tables(families, seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(seed / "families.csv", newline="") as src:
        ids = [row[0] for row in list(csv.reader(src))[1:]]
    copies, rest = divmod(n, base)
    last = set(ids[:rest])  # a last, partial copy: its families' rows in every table
    for table in TABLES:
        with open(seed / f"{table}.csv", newline="") as src:
            rows = list(csv.reader(src))
        with open(folder / f"{table}.csv", "w", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(rows[0])
            for copy in range(copies):
                writer.writerows([f"R{copy}-{row[0]}", *row[1:]] for row in rows[1:])
            writer.writerows(
                [f"R{copies}-{row[0]}", *row[1:]] for row in rows[1:] if row[0] in last
            )


def write_workbook(folder: Path, book: Path) -> None:
    """The CSV tables as a workbook, as `write_tables` writes one (sheet sizes stored)."""
    import io

    from openpyxl import Workbook

    from pbr import tables

    workbook = Workbook(write_only=True)
    sizes = []
    for table in TABLES:
        sheet = workbook.create_sheet(table)
        rows = 0
        with open(folder / f"{table}.csv", newline="") as src:
            for row in csv.reader(src):
                sheet.append(row)
                rows += 1
        sizes.append((rows, len(tables.columns(table))))
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open(book, "wb") as out:
        tables._with_sizes(buffer, sizes, out)


READ = """
import sys, time
from pbr.tables import read_tables
start = time.perf_counter()
found = read_tables(sys.argv[1])
n = sum(1 for _ in found.families())
assert found.reconciliation.balanced(), found.reconciliation.lines()
print(n, f"{time.perf_counter() - start:.2f}", peak())
"""

PEAK = """
def peak():  # VmHWM: this process's own peak (ru_maxrss also counts the parent's, across exec)
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmHWM"))
"""


EVALUATE = """
import runpy, sys
report = peak
try:
    runpy.run_module("pbr.cli", run_name="__main__", alter_sys=True)
finally:
    print(report(), file=sys.stderr)
"""


def measure(path: Path, out: Path, evaluate: bool = True) -> tuple[str, str]:
    read = subprocess.run(
        [sys.executable, "-c", PEAK + READ, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    if not evaluate:
        return f"{read[1]} s, {read[2]} MiB", "-"
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK + EVALUATE,
            "evaluate",
            str(path),
            "--as-of",
            "2015-03-31",
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:  # generated families are all sound: any refusal is a failure
        raise SystemExit(f"pbr evaluate {path} failed ({done.returncode}):\n{done.stderr}")
    peak = done.stderr.strip().splitlines()[-1]
    return f"{read[1]} s, {read[2]} MiB", f"{took:.2f} s, {peak} MiB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--xlsx", action="store_true", help="also as an XLSX workbook")
    parser.add_argument("--no-csv", action="store_true", help="measure the workbook only")
    parser.add_argument("--no-evaluate", action="store_true", help="time reading only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pbr-bench-tables-"))
    try:
        print("| input | families | read every family | `pbr evaluate` |")
        print("|---|---:|---:|---:|")
        for n in args.sizes:
            folder = work / f"t{n}"
            write_folder(n, folder)
            if not args.no_csv:
                read, whole = measure(folder, work / "out.jsonl", not args.no_evaluate)
                print(f"| CSV folder | {n:,} | {read} | {whole} |", flush=True)
            if args.xlsx:
                book = work / f"t{n}.xlsx"
                write_workbook(folder, book)
                read, whole = measure(book, work / "out.jsonl", not args.no_evaluate)
                print(f"| XLSX | {n:,} | {read} | {whole} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
