"""Mutation testing over the rule and kernel modules: do the tests notice a wrong rule?

Run by hand, never by the normal test command (see CONTRIBUTING.md, "Mutation testing"):

    python scripts/mutation.py                         # every target module, ~30 minutes
    python scripts/mutation.py --module periods.py     # one module (a substring of its path)
    python scripts/mutation.py --list                  # the mutants, without running them
    python scripts/mutation.py --json run.json         # keep every outcome, then after new tests:
    python scripts/mutation.py --survivors-of run.json # run only what run.json did not kill

A small AST mutator of our own (not mutmut): it makes only the mutants a rule can get wrong
(comparison flips incl. < <-> <=, +/-1 on integers, and <-> or, dropping one operand of and/or,
min <-> max, True <-> False, + <-> -, negating an if/while/ternary test or a bool return, dropping
`not` or a comprehension filter). It never touches message text (f-strings, what a `raise`
says), annotations or docstrings. Each mutant runs only the tests of a fast subset that execute
its line (found once by a traced baseline run), `-x`, under a small hypothesis profile, on at
most two processes under `nice`, with a timeout. It prints a score per module and each survivor
(file:line, the change). Equivalent mutants are listed with a reason in
`scripts/mutation_equivalent.toml` and left out of the score.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
TARGETS = ("pbr/programmes/**/*.py", "pbr/periods.py", "pbr/money.py", "pbr/plans.py")
"""The rule and kernel modules, relative to src/."""
TESTS = (
    "tests/test_rule_edges.py",
    "tests/test_fast_paths.py",
    "tests/test_assembly.py",
    "tests/test_fast_identification.py",
    "tests/test_fast_limbs.py",
    "tests/test_differential.py",
    "tests/test_phase_one_boundaries.py",
    "tests/test_programmes.py",
    "tests/test_later_programmes.py",
    "tests/test_properties.py",
    "tests/test_properties_programmes.py",
    "tests/test_periods_money.py",
    "tests/test_periods_properties.py",
    "tests/test_examples.py",
    "tests/test_mixed_examples.py",
)
"""The fast subset: rule-boundary, programme, example and property tests."""
EQUIVALENT = ROOT / "scripts" / "mutation_equivalent.toml"
TRACE_ENV = "PBR_MUTATION_TRACE"
PYTEST = (
    *("-x", "-q", "--no-header", "-m", "not slow", "-o", "addopts=", "--strict-markers"),
    *("-p", "no:cacheprovider", "-p", "_hypothesis_pytestplugin"),
)
"""Fast: no plugin autoload (schemathesis, benchmark, anyio cost seconds a run), hypothesis only."""

# ---------------------------------------------------------------------------- the mutants

Op = Callable[[ast.AST], ast.AST]
"""A mutation: takes a fresh copy of the node, returns its replacement."""

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass(frozen=True)
class Site:
    """One mutable node: where it is in the traversal, its line, and the mutations to try."""

    index: int
    line: int
    end_line: int
    in_function: bool
    ops: tuple[tuple[str, Op], ...]


@dataclass(frozen=True)
class Mutant:
    """One mutant of one file: the site, which of its mutations, and how it reads."""

    file: str  # relative to src/
    index: int
    op: int
    line: int
    end_line: int
    in_function: bool
    kind: str
    change: str
    source_line: str

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies it across edits elsewhere in the file: file, line text, change."""
        return (self.file, self.source_line, self.change)


def _flip_compare(i: int) -> Op:
    def op(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.Compare)
        node.ops[i] = _FLIP[type(node.ops[i])]()
        return node

    return op


def _add_int(delta: int) -> Op:
    def op(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.Constant)
        assert isinstance(node.value, int)
        node.value = node.value + delta
        return node

    return op


def _swap_boolop(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.BoolOp)
    node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    return node


def _drop_operand(i: int) -> Op:
    def op(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.BoolOp)
        del node.values[i]
        return node.values[0] if len(node.values) == 1 else node

    return op


def _swap_minmax(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.Call)
    assert isinstance(node.func, ast.Name)
    node.func.id = "max" if node.func.id == "min" else "min"
    return node


def _flip_bool(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.Constant)
    node.value = not node.value
    return node


def _swap_addsub(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.BinOp)
    node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
    return node


def _negate_test(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.If | ast.While | ast.IfExp)
    node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    return node


def _negate_return(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.Return)
    assert node.value is not None
    node.value = ast.UnaryOp(op=ast.Not(), operand=node.value)
    return node


def _drop_not(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.UnaryOp)
    return node.operand


def _drop_filter(i: int) -> Op:
    def op(node: ast.AST) -> ast.AST:
        assert isinstance(node, ast.comprehension)
        del node.ifs[i]
        return node

    return op


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _ops_for(node: ast.AST, returns_bool: bool) -> list[tuple[str, Op]]:
    """The mutations that apply to `node`."""
    ops: list[tuple[str, Op]] = []
    if isinstance(node, ast.Compare):
        ops += [("compare", _flip_compare(i)) for i in range(len(node.ops))]
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        ops += [("int+1", _add_int(1)), ("int-1", _add_int(-1))]
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        ops.append(("bool", _flip_bool))
    elif isinstance(node, ast.BoolOp):
        ops.append(("and/or", _swap_boolop))
        ops += [("drop condition", _drop_operand(i)) for i in range(len(node.values))]
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"min", "max"}
    ):
        ops.append(("min/max", _swap_minmax))
    elif (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add | ast.Sub)
        and not (_is_str(node.left) or _is_str(node.right))
    ):
        ops.append(("+/-", _swap_addsub))
    elif isinstance(node, ast.If | ast.While | ast.IfExp):
        ops.append(("negate test", _negate_test))
    elif isinstance(node, ast.Return) and returns_bool and node.value is not None:
        ops.append(("negate return", _negate_return))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        ops.append(("drop not", _drop_not))
    elif isinstance(node, ast.comprehension):
        ops += [("drop filter", _drop_filter(i)) for i in range(len(node.ifs))]
    return ops


_Slot = tuple[ast.AST, str, int | None]
"""Where a node hangs: its parent, the field, and the index in a list field."""


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, _Slot, bool, bool]]:
    """Every node worth mutating in a fixed order, with its slot, function context, bool return."""

    def visit(
        node: ast.AST, slot: _Slot, in_function: bool, returns_bool: bool
    ) -> Iterator[tuple[ast.AST, _Slot, bool, bool]]:
        if isinstance(node, ast.JoinedStr | ast.Assert | ast.Raise):
            return  # message text, assertions and error messages are not rules
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return
        yield node, slot, in_function, returns_bool
        defined_in = in_function  # a parameter's default is evaluated where the def runs
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function = True
            returns_bool = isinstance(node.returns, ast.Name) and node.returns.id == "bool"
            if isinstance(node.returns, ast.Constant):  # `from __future__ import annotations`
                returns_bool = node.returns.value == "bool"
        for name, value in ast.iter_fields(node):
            if name in {"annotation", "returns", "decorator_list", "type_comment"}:
                continue
            inside = defined_in if name == "args" else in_function
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        yield from visit(item, (node, name, i), inside, returns_bool)
            elif isinstance(value, ast.AST):
                yield from visit(value, (node, name, None), inside, returns_bool)

    yield from visit(tree, (tree, "", None), False, False)


def _put(slot: _Slot, new: ast.AST) -> None:
    parent, name, i = slot
    if i is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[i] = new


def _show(node: ast.AST) -> str:
    if isinstance(node, ast.If | ast.While):
        text = f"{'if' if isinstance(node, ast.If) else 'while'} {ast.unparse(node.test)}:"
    elif isinstance(node, ast.comprehension):
        text = ast.unparse(node).strip()
    else:
        text = ast.unparse(node)
    text = " ".join(text.split())
    return text if len(text) <= 90 else text[:87] + "..."


def mutants_of(path: Path) -> list[Mutant]:
    """Every mutant of one file, in a fixed order."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    rel = path.relative_to(SRC).as_posix()
    found: list[Mutant] = []
    for index, (node, _slot, in_function, returns_bool) in enumerate(_walk(tree)):
        line = getattr(node, "lineno", 0)
        end_line = getattr(node, "end_lineno", line) or line
        if isinstance(node, ast.comprehension):
            line, end_line = (
                node.target.lineno,
                max(i.end_lineno or 0 for i in [node.iter, *node.ifs]),
            )
        if isinstance(node, ast.If | ast.While):
            end_line = node.test.end_lineno or line
        for op, (kind, mutate) in enumerate(_ops_for(node, returns_bool)):
            before = _show(node)
            after = _show(mutate(copy.deepcopy(node)))
            if isinstance(node, ast.Constant):  # a bare number needs its place on the line
                after += f"  (col {node.col_offset})"
            found.append(
                Mutant(
                    file=rel,
                    index=index,
                    op=op,
                    line=line,
                    end_line=end_line,
                    in_function=in_function,
                    kind=kind,
                    change=f"{before}  ->  {after}",
                    source_line=lines[line - 1].strip() if line else "",
                )
            )
    return found


def mutated_source(path: Path, mutant: Mutant) -> str:
    """The file's source with one mutation applied (re-parsed, so formatting is lost)."""
    tree = ast.parse(path.read_text())
    for index, (node, slot, _f, returns_bool) in enumerate(_walk(tree)):
        if index == mutant.index:
            _put(slot, _ops_for(node, returns_bool)[mutant.op][1](node))
            break
    return ast.unparse(ast.fix_missing_locations(tree))


# ---------------------------------------------------------------------------- the trace


def pytest_configure(config: Any) -> None:
    """As a pytest plugin (`-p mutation`): record which test runs which target line."""
    out = os.environ.get(TRACE_ENV)
    if out:
        config.pluginmanager.register(_Tracer(Path(out)), "pbr-mutation-tracer")


class _Tracer:
    """Lines of the target files each test executes, written as JSON at the end."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files = {str(p) for p in target_files()}
        self.lines: dict[str, set[tuple[str, int]]] = defaultdict(set)
        self.current: set[tuple[str, int]] | None = None

    def _local(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line" and self.current is not None:
            self.current.add((frame.f_code.co_filename, frame.f_lineno))
        return self._local

    def _global(self, frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename in self.files:
            return self._local
        return None

    def pytest_runtest_setup(self, item: Any) -> None:
        # a cached result hides the lines that made it: start every test with empty caches
        for name, module in list(sys.modules.items()):
            if name == "pbr" or name.startswith("pbr."):
                for value in list(vars(module).values()):
                    clear = getattr(value, "cache_clear", None)
                    if callable(clear):
                        clear()
        self.current = self.lines[item.nodeid]
        sys.settrace(self._global)
        threading.settrace(self._global)

    def pytest_runtest_teardown(self, item: Any) -> None:
        sys.settrace(None)
        threading.settrace(None)
        self.current = None

    def pytest_sessionfinish(self) -> None:
        by_line: dict[str, list[str]] = defaultdict(list)
        for nodeid, hits in self.lines.items():
            for filename, line in hits:
                rel = Path(filename).relative_to(SRC).as_posix()
                by_line[f"{rel}:{line}"].append(nodeid)
        self.out.write_text(json.dumps(by_line))


# ---------------------------------------------------------------------------- the run


def target_files(only: list[str] | None = None) -> list[Path]:
    """The target modules, filtered by substrings of their paths."""
    files = sorted({p.resolve() for pattern in TARGETS for p in SRC.glob(pattern)})
    if only:
        files = [p for p in files if any(o in p.relative_to(SRC).as_posix() for o in only)]
    return files


def _env(src: Path, trace: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(ROOT / "scripts")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PBR_PURE_PYTHON"] = "1"  # the mutated source, not the rules compiled at install
    env["HYPOTHESIS_PROFILE"] = "mutation"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if trace is not None:
        env[TRACE_ENV] = str(trace)
    return env


def _tests() -> list[str]:
    return [t for t in TESTS if (ROOT / t).exists()]


def trace_baseline(workdir: Path) -> dict[str, list[str]]:
    """Run the subset once, unmutated and traced: it must pass; return line -> tests."""
    out = workdir / "trace.json"
    command = [sys.executable, "-m", "pytest", *PYTEST, "-p", "mutation", *_tests()]
    done = subprocess.run(
        command, cwd=ROOT, env=_env(SRC, out), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"the unmutated test subset fails; fix it first:\n{done.stdout[-3000:]}")
    trace: dict[str, list[str]] = json.loads(out.read_text())
    return trace


@dataclass
class Outcome:
    """What a mutant did to the tests."""

    mutant: Mutant
    status: str  # killed, timeout, survived, no-tests, equivalent, error
    seconds: float = 0.0
    detail: str = ""
    tests: int = 0


@dataclass
class Slots:
    """Private copies of src/, one per process, each mutated one file at a time."""

    root: Path
    count: int
    free: Queue[Path] = field(default_factory=Queue)

    def __post_init__(self) -> None:
        for i in range(self.count):
            src = self.root / f"slot{i}" / "src"
            shutil.copytree(SRC, src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            self.free.put(src)


def run_mutant(mutant: Mutant, tests: list[str], slots: Slots, timeout: float) -> Outcome:
    """Apply the mutant in a free slot, run its tests, restore the file."""
    src = slots.free.get()
    target = src / mutant.file
    original = target.read_text()
    started = time.monotonic()
    try:
        target.write_text(mutated_source(SRC / mutant.file, mutant))
        command = [sys.executable, "-m", "pytest", *PYTEST, *tests]
        try:
            done = subprocess.run(
                command,
                cwd=ROOT,
                env=_env(src),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome(mutant, "timeout", time.monotonic() - started, tests=len(tests))
        seconds = time.monotonic() - started
        if done.returncode == 0:
            return Outcome(mutant, "survived", seconds, tests=len(tests))
        # 2, or 4 with node ids: the mutant broke an import, so the tests could not be collected
        broken = done.returncode == 4 and "found no collectors" in done.stderr
        if done.returncode in {1, 2} or broken:
            failed = [ln for ln in done.stdout.splitlines() if ln.startswith("FAILED")]
            return Outcome(mutant, "killed", seconds, failed[0] if failed else "", len(tests))
        return Outcome(mutant, "error", seconds, done.stdout[-500:], len(tests))
    finally:
        target.write_text(original)
        slots.free.put(src)


def load_equivalent() -> dict[tuple[str, str, str], str]:
    """The allowlist: (file, line text, change) -> why the mutant cannot change a result."""
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text())
    return {(e["file"], e["line"], e["change"]): e["reason"] for e in data.get("equivalent", [])}


def _killed_in(earlier: Path) -> set[tuple[str, str, str]]:
    """The mutants an earlier run (its --json) killed, by key."""
    rows = json.loads(earlier.read_text())
    return {
        (r["file"], r["source_line"], r["change"])
        for r in rows
        if r["status"] in {"killed", "timeout"}
    }


def main(argv: list[str] | None = None) -> int:
    """Mutate, test, score, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="substring of a target path")
    parser.add_argument("--jobs", type=int, default=2, help="processes (at most 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--fail-under", type=float, default=95.0, help="score per module, %%")
    parser.add_argument(
        "--survivors-of",
        type=Path,
        help="a --json file of an earlier run: run only what was not killed then (quick re-check)",
    )
    args = parser.parse_args(argv)
    killed_before = _killed_in(args.survivors_of) if args.survivors_of else set()
    files = target_files(args.module)
    mutants = [m for f in files for m in mutants_of(f)]
    if args.list:
        for m in mutants:
            print(f"{m.file}:{m.line}: [{m.kind}] {m.change}")
        print(f"{len(mutants)} mutants in {len(files)} files")
        return 0
    os.nice(15)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the copies when stopped
    jobs = max(1, min(args.jobs, 2))
    equivalent = load_equivalent()
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="pbr-mutation-") as tmp:
        trace = trace_baseline(Path(tmp))
        print(f"baseline traced in {time.monotonic() - started:.0f}s; {len(mutants)} mutants")
        slots = Slots(Path(tmp), jobs)
        work: list[tuple[Mutant, list[str]]] = []
        for m in mutants:
            if m.key in equivalent:
                outcomes.append(Outcome(m, "equivalent", detail=equivalent[m.key]))
                continue
            if m.key in killed_before:
                outcomes.append(Outcome(m, "killed", detail=f"in {args.survivors_of}"))
                continue
            if m.in_function:
                tests = sorted(
                    {
                        t
                        for ln in range(m.line, m.end_line + 1)
                        for t in trace.get(f"{m.file}:{ln}", [])
                    }
                )
                if not tests:
                    outcomes.append(Outcome(m, "no-tests"))
                    continue
                # a node id of a parametrised test is fine, but keep the command line short
                if len(tests) > 150:
                    tests = _tests()
            else:
                tests = _tests()  # module level: runs at import, so every test may see it
            work.append((m, tests))
        pool = ThreadPoolExecutor(jobs)
        futures = [pool.submit(run_mutant, m, t, slots, args.timeout) for m, t in work]
        try:
            for n, future in enumerate(futures, 1):
                outcome = future.result()
                outcomes.append(outcome)
                if outcome.status in {"survived", "error"}:
                    print(
                        f"  {outcome.status}: {outcome.mutant.file}:{outcome.mutant.line}: "
                        f"{outcome.mutant.change}",
                        flush=True,
                    )
                if n % 50 == 0:
                    print(f"  {n}/{len(work)} run, {time.monotonic() - started:.0f}s", flush=True)
        finally:  # stopped (Ctrl-C, SIGTERM): run nothing more, let the running mutants end
            pool.shutdown(wait=True, cancel_futures=True)
    return report(outcomes, time.monotonic() - started, args.fail_under, args.json)


def report(outcomes: list[Outcome], seconds: float, fail_under: float, out: Path | None) -> int:
    """Print the score per module and the survivors; non-zero if a module is under the bar."""
    by_file: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_file[o.mutant.file].append(o)
    print(f"\nmutation score per module ({seconds / 60:.1f} min)")
    print(f"{'module':<44}{'mutants':>8}{'killed':>8}{'equiv':>7}{'alive':>7}{'score':>8}")
    worst = 100.0
    total_killed = total_scored = 0
    for file in sorted(by_file):
        rows = by_file[file]
        killed = sum(o.status in {"killed", "timeout"} for o in rows)
        equiv = sum(o.status == "equivalent" for o in rows)
        scored = len(rows) - equiv
        alive = scored - killed
        score = 100.0 * killed / scored if scored else 100.0
        worst = min(worst, score)
        total_killed += killed
        total_scored += scored
        print(f"{file:<44}{len(rows):>8}{killed:>8}{equiv:>7}{alive:>7}{score:>7.1f}%")
    total = 100.0 * total_killed / total_scored if total_scored else 100.0
    print(
        f"{'all':<44}{len(outcomes):>8}{total_killed:>8}{'':>7}"
        f"{total_scored - total_killed:>7}{total:>7.1f}%"
    )
    alive_rows = sorted(
        (o for o in outcomes if o.status in {"survived", "no-tests", "error"}),
        key=lambda o: (o.mutant.file, o.mutant.line),
    )
    if alive_rows:
        print("\nsurvivors (file:line [status] change):")
        for o in alive_rows:
            print(f"  {o.mutant.file}:{o.mutant.line} [{o.status}] {o.mutant.change}")
            print(f"      line: {o.mutant.source_line}")
    if out is not None:
        out.write_text(
            json.dumps(
                [
                    {
                        "file": o.mutant.file,
                        "line": o.mutant.line,
                        "kind": o.mutant.kind,
                        "change": o.mutant.change,
                        "source_line": o.mutant.source_line,
                        "status": o.status,
                        "seconds": round(o.seconds, 2),
                        "detail": o.detail,
                    }
                    for o in outcomes
                ],
                indent=1,
            )
        )
    return 0 if worst >= fail_under else 1


if __name__ == "__main__":
    sys.exit(main())
