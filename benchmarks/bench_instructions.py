"""Instructions a family and at start-up, counted by callgrind: a measure the machine's noise does not move.

``python benchmarks/bench_instructions.py [--against REV] [--small 1000] [--large 3000]``
generates phase-one families (benchmarks/generate.py), runs ``pbr evaluate FILE --as-of
2015-03-31 --format json --output OUT --workers 1`` under ``valgrind --tool=callgrind`` on
`small` and `large` families, and differences the two counts: instructions a family, and the
start-up left over. With ``--against REV`` it counts that revision too (checked out in a
temporary worktree, its C part built in place, run from its ``src`` with this interpreter and
its packages) and checks that both wrote the same bytes. Timings on a shared machine drift by
a quarter from hour to hour; these counts repeat to a few parts in a thousand, so they judge a
change that timings cannot.
Needs valgrind (skipped with a message if it is missing). Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLLECTED = re.compile(r"Collected : ([0-9]+)")


def generate(n: int, path: Path) -> None:
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(n), str(path)], check=True)


def count(src: Path, families: Path, out: Path) -> int:
    """Instructions of one whole ``pbr evaluate`` run of the code in `src`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "pbr.cli",
        "evaluate",
        str(families),
        "--as-of",
        "2015-03-31",
        "--format",
        "json",
        "--output",
        str(out),
        "--workers",
        "1",
    ]
    # once unmeasured, so that both counts run with compiled bytecode, as after an install
    subprocess.run(command[3:], env=env, check=True, capture_output=True)
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def measure(
    label: str, src: Path, files: dict[int, Path], work: Path
) -> tuple[str, dict[int, Path]]:
    """One Markdown row for the code in `src`, and the outputs it wrote (under `work`)."""
    counts: dict[int, int] = {}
    outputs: dict[int, Path] = {}
    for n, path in files.items():
        outputs[n] = work / f"decisions-{n}.jsonl"
        counts[n] = count(src, path, outputs[n])
    (small, large) = sorted(counts)
    per_family = (counts[large] - counts[small]) / (large - small)
    start_up = counts[small] - small * per_family
    row = (
        f"| {label} | {counts[small] / 1e6:,.0f}M | {counts[large] / 1e6:,.0f}M | "
        f"**{per_family / 1e6:.3f}M** | {start_up / 1e6:,.0f}M |"
    )
    return row, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a git revision to count too (e.g. HEAD~1)")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=3000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing counted (apt install valgrind)")
        return
    if not 0 < args.small < args.large:
        parser.error("--small must be positive and below --large")
    with tempfile.TemporaryDirectory(prefix="pbr-instructions-") as tmp:
        work = Path(tmp)
        files = {n: work / f"families-{n}.jsonl" for n in (args.small, args.large)}
        for n, path in files.items():
            generate(n, path)
        print(f"python {sys.version.split()[0]}, `pbr evaluate --workers 1`, callgrind\n")
        print("| code | instructions, small | large | a family | start-up |")
        print("|---|---:|---:|---:|---:|")
        trees = [("this tree", ROOT / "src")]
        if args.against:
            old = work / "against"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against],
                check=True,
                capture_output=True,
            )
            if (old / "setup.py").exists():  # its C part, built as `pip install` would
                subprocess.run(
                    [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
                    cwd=old,
                    check=True,
                    capture_output=True,
                )
            trees.insert(0, (args.against, old / "src"))
        try:
            written = []
            for i, (label, src) in enumerate(trees):
                (work / str(i)).mkdir()
                row, outputs = measure(label, src, files, work / str(i))
                print(row)
                written.append(outputs)
            if len(written) == 2:
                same = all(written[0][n].read_bytes() == written[1][n].read_bytes() for n in files)
                print(f"\noutputs {'byte-identical' if same else 'DIFFER'}")
        finally:
            if args.against:
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(ROOT),
                        "worktree",
                        "remove",
                        "--force",
                        str(work / "against"),
                    ],
                    check=False,
                    capture_output=True,
                )


if __name__ == "__main__":
    main()
