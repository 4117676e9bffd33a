"""Where a family's time goes, step by step, against the ``json.loads`` floor, in one run.

``python benchmarks/bench_steps.py [N] [--repeat 5]`` generates N phase-one families (default
3,000; benchmarks/generate.py), reads them into memory, then times in this process, as CPU time
(best of `repeat`), each step the batch path takes for a family of JSON text:

- the floor: ``json.loads`` of the line;
- reading it as a compiled record (`pbr._compiled.decode_family`), and its parts: msgspec's
  typed decode, the proof that no key is given twice, the cross-field check, and the canonical
  JSON with its date check;
- the rules: identification alone, then the whole decision (identification, results, payment,
  the input hash), built as the batch builds it (`pbr._parts.lean_parts`);
- the decision's JSON (`pbr._parts.decision_json`), and its rows of the long CSV
  (`pbr.output.decision_text`, as ``--format csv`` writes them);
- the whole batch path, one worker (`pbr.evaluate_many_json`): all of the above, plus the
  batch's own work.

Prints a Markdown table: µs a family, and each step as a multiple of the floor. Not a test:
timings vary from machine to machine (and the floor with them: compare ratios from one run).
The whole path's ratio is what the one-worker target of issue 14 (3.5x, start-up aside) is
about; the steps show how much of it is reading, which the rules cannot win back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AS_OF = date(2015, 3, 31)


def best(step: Callable[[], object], repeat: int) -> float:
    """The least CPU seconds `step` took in `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return min(times)


def steps(lines: Sequence[bytes]) -> list[tuple[str, Callable[[], object]]]:
    """Each step as a function over all `lines` (inputs each step needs are made first)."""
    from pbr import _compiled
    from pbr._parts import decision_json, lean_parts
    from pbr._record_checks import plainly_consistent
    from pbr.batch import Evaluated, evaluate_many_json
    from pbr.engine import evaluate, rule_set_for
    from pbr.output import decision_text
    from pbr.programmes import programme

    records = [_compiled.decode_family(line, 10**9) for line in lines]
    if any(record is None for record in records):
        raise SystemExit("a generated family was not read as a compiled record")
    families: list[Any] = records
    decoded: list[Any] = [_compiled._decode(line) for line in lines]
    rules = rule_set_for(families[0])
    phase_one = programme(rules.programme)
    with lean_parts():
        decisions = [evaluate(f, as_of=AS_OF, rules=rules) for f in families]
    written = [
        done[3] if isinstance(done, Evaluated) else done
        for done in evaluate_many_json(lines, as_of=AS_OF, workers=1)
    ]
    if [decision_json(d).decode() for d in decisions] != written:  # the steps are the path's
        raise SystemExit("the steps' decisions differ from the batch path's")

    def identified() -> None:
        with lean_parts():
            for family in families:
                phase_one.identify(family, rules)

    def decided() -> None:
        with lean_parts():
            for family in families:
                evaluate(family, as_of=AS_OF, rules=rules)

    def canonical() -> None:
        for family in decoded:
            _compiled._dates_in_bounds(_compiled._encode(family))

    def batch() -> None:
        for _ in evaluate_many_json(lines, as_of=AS_OF, workers=1):
            pass

    def each(work: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], None]:
        def run() -> None:
            for item in items:  # nothing kept: a list of answers would time the collector too
                work(item)

        return run

    def csv_rows(decision: Any) -> object:
        return decision_text(decision, "csv-file")

    def read(line: bytes) -> object:
        return _compiled.decode_family(line, 10**9)

    return [
        ("`json.loads` (the floor)", each(json.loads, lines)),
        ("reading as a compiled record (`decode_family`), in all", each(read, lines)),
        ("… msgspec's typed decode", each(_compiled._decode, lines)),
        ("… no key given twice (the proof)", each(_compiled._keys_given_once, lines)),
        ("… the cross-field check", each(plainly_consistent, decoded)),
        ("… canonical JSON and its date check", canonical),
        ("identification", identified),
        ("the decision (identification, results, payment, input hash)", decided),
        ("the decision's JSON", each(decision_json, decisions)),
        ("its rows of the long CSV", each(csv_rows, decisions)),
        ("**the whole batch path, one worker** (`evaluate_many_json`)", batch),
    ]


def measure(lines: Sequence[bytes], repeat: int) -> list[tuple[str, float]]:
    """µs a family of each step (each run once unmeasured first, to warm its caches)."""
    timed = []
    for name, step in steps(lines):
        step()
        timed.append((name, best(step, repeat) / len(lines) * 1e6))
    return timed


def table(timed: Sequence[tuple[str, float]]) -> str:
    """The Markdown table of `measure`'s answer, each step also as a multiple of the first."""
    floor = timed[0][1]
    rows = ["| step | µs a family | × `json.loads` |", "|---|---:|---:|"]
    rows += [f"| {name} | {us:.1f} | {us / floor:.2f} |" for name, us in timed]
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="?", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "families.jsonl"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(args.families), str(path)], check=True
        )
        lines = path.read_bytes().splitlines()
    heading = f"python {sys.version.split()[0]}, {len(lines):,} families, in process, CPU time"
    return f"{heading}\n\n{table(measure(lines, args.repeat))}"


if __name__ == "__main__":
    print(main())
