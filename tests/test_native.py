"""The rule modules compiled by mypyc: what the suite tests, and their Python source, agree."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pbr
from pbr import _native

ROOT = Path(__file__).resolve().parents[1]
PURE = os.environ.get(_native.PURE_PYTHON) == "1"


def test_the_suite_tests_what_an_install_gives() -> None:
    """Compiled where pbr was installed with a C compiler; ``PBR_PURE_PYTHON=1`` tests the source.

    A build that silently fell back to Python would leave the compiled modules untested and the
    benchmarks slower, so this fails rather than skips: set the variable to test the source.
    """
    modules = [importlib.import_module(name) for name in _native.COMPILED]
    loaded = {module.__name__: _native.compiled(module) for module in modules}
    if PURE:
        assert not any(loaded.values()), loaded
    else:
        assert all(loaded.values()), (
            f"not compiled: {[n for n, c in loaded.items() if not c]}; install pbr again with a "
            "C compiler (pip install -e .), or run the suite with PBR_PURE_PYTHON=1"
        )
    assert not _native.stale()


def test_no_public_name_lives_in_a_compiled_module() -> None:
    for name in pbr.__all__:
        value = getattr(pbr, name)
        home = getattr(value, "__name__", name) if isinstance(value, type(pbr)) else None
        module = home or getattr(value, "__module__", None)
        assert module not in _native.COMPILED, f"pbr.{name} is defined in compiled {module}"


def test_each_compiled_module_has_its_source() -> None:
    for name in _native.COMPILED:
        assert _native.source_module(name).__name__ == name


def test_a_source_newer_than_its_build_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    builds = {name: _native.built(name) for name in _native.COMPILED}
    if not all(builds.values()):
        pytest.skip("the rules were not compiled at install")
    assert _native.stale() == []
    newer = tmp_path / "changed.py"
    newer.write_text("")
    os.utime(newer, (4_000_000_000, 4_000_000_000))  # 2096: after any build
    monkeypatch.setattr(_native, "built", builds.get)
    monkeypatch.setattr(_native, "_source_path", lambda name: newer)
    assert _native.stale() == list(_native.COMPILED)


DIFFERENTIAL = """
import json, os, sys
from datetime import date
import pbr
from pbr import _native
from pbr.batch import Evaluated, evaluate_many_json
lines = open(sys.argv[1], "rb").read().splitlines()
out = {}
for day in ("2014-03-31", "2018-06-30", "2023-03-31"):
    done = evaluate_many_json(lines, as_of=date.fromisoformat(day), workers=1)
    out[day] = [d[3] if isinstance(d, Evaluated) else "rejected" for d in done]
import importlib
out["compiled"] = [_native.compiled(importlib.import_module(n)) for n in _native.COMPILED]
print(json.dumps(out))
"""


def _decisions(corpus: Path, pure: bool) -> dict[str, list[object]]:
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_PYTHON}
    if pure:
        env[_native.PURE_PYTHON] = "1"
    done = subprocess.run(
        [sys.executable, "-c", DIFFERENTIAL, str(corpus)],
        capture_output=True,
        env=env,
        check=True,
        cwd=ROOT,
    )
    found: dict[str, list[object]] = json.loads(done.stdout)
    return found


def test_the_compiled_rules_decide_as_their_source() -> None:
    """The frozen corpus (every programme) at three dates: the same bytes from both forms."""
    corpus = ROOT / "tests" / "reference" / "families.jsonl"
    pure = _decisions(corpus, pure=True)
    native = _decisions(corpus, pure=False)
    assert not any(pure.pop("compiled"))
    assert all(native.pop("compiled")) or PURE
    assert sum(1 for v in pure.values() for d in v if d != "rejected") > 1000
    assert pure == native


def test_the_switch_is_read_once_pbr_is_imported() -> None:
    code = (
        "import os; os.environ['PBR_PURE_PYTHON'] = '1'; import pbr, importlib; "
        "from pbr import _native; import pbr.programmes._kernel as k; print(_native.compiled(k))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"


def test_a_rule_set_that_has_decided_pickles_without_what_it_worked_out() -> None:
    """Dask and the pool send rule sets to workers: its memo (some of it compiled) stays home."""
    import pickle
    from datetime import date

    from pbr.engine import evaluate
    from pbr.rules import PHASE_ONE

    rules = PHASE_ONE.with_interpretations(baseline="twelve_months_before_attachment_halved")
    lines = (ROOT / "examples" / "families.jsonl").read_bytes().splitlines()
    families = [pbr.Family.model_validate_json(line) for line in lines[:10]]
    before = [evaluate(f, as_of=date(2015, 3, 31), rules=rules) for f in families]
    assert rules._memo  # it has worked something out
    copied = pickle.loads(pickle.dumps(rules))
    assert copied == rules
    assert copied._memo == {}
    assert copied.chosen == rules.chosen
    after = [evaluate(f, as_of=date(2015, 3, 31), rules=copied) for f in families]
    assert [d.model_dump_json() for d in after] == [d.model_dump_json() for d in before]


@pytest.mark.parametrize("pure", [False, True])
def test_pbr_version_says_how_the_rules_run(pure: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_PYTHON}
    if pure:
        env[_native.PURE_PYTHON] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "--version"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.startswith(f"pbr {pbr.__version__} on Python 3.")
    built = _native.built("pbr.programmes._kernel") is not None
    expected = "compiled by mypyc" if built and not pure else "from their Python source"
    assert expected in done.stdout


def test_a_stale_build_in_place_runs_the_source_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pip install -e .`, then a rule edited: pbr runs the edited source, never the old build."""
    if PURE:
        pytest.skip("the source is run already under PBR_PURE_PYTHON=1")
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # restored afterwards
    _native.prefer_source_if_stale()  # nothing stale: nothing changes
    assert not any(isinstance(f, _native._SourceFinder) for f in sys.meta_path)
    assert _native.form() == "rules compiled by mypyc"
    monkeypatch.setattr(_native, "stale", lambda: ["pbr.programmes._kernel"])
    _native.prefer_source_if_stale()  # said as the first compiled module is imported
    [finder] = [f for f in sys.meta_path if isinstance(f, _native._SourceFinder)]
    assert finder.find_spec("pbr.io") is None
    with pytest.warns(RuntimeWarning, match=r"older than their source \(pbr.programmes._kernel\)"):
        spec = finder.find_spec("pbr.programmes._kernel")
    assert finder.find_spec("pbr.programmes._kernel") is not None  # once: no warning again
    assert spec is not None
    assert spec.origin is not None
    assert spec.origin.endswith("_kernel.py")
    assert "older (install again)" in _native.form()


SCRIPT = "import sys\nfrom pbr._entry import main\nsys.exit(main())\n"
"""The ``pbr`` script pip writes for the ``[project.scripts]`` entry."""


def _stale_copy(tmp_path: Path) -> Path:
    """A copy of pbr built in place (``src/pbr``) whose kernel's source is newer than its build."""
    if _native.built("pbr.programmes._kernel") is None:
        pytest.skip("the rules were not compiled at install")
    import shutil

    package = tmp_path / "src" / "pbr"
    shutil.copytree(Path(pbr.__file__).parent, package)  # copy2: the builds keep their times
    os.utime(package / "programmes" / "_kernel.py", (4_000_000_000, 4_000_000_000))  # 2096
    (tmp_path / "pbr").write_text(SCRIPT)
    return tmp_path


def _run(copy: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_PYTHON}
    env["PYTHONPATH"] = str(copy / "src")
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, cwd=copy, check=False
    )


@pytest.mark.parametrize("how", ["script", "-m pbr", "-m pbr.cli"])
def test_a_stale_build_is_one_line_from_the_command_line(tmp_path: Path, how: str) -> None:
    """Every command began with ``bin/pbr:5: RuntimeWarning: ...`` and a line of source."""
    copy = _stale_copy(tmp_path)
    start = ["pbr"] if how == "script" else how.split()
    done = _run(copy, *start, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "pbr: warning: pbr's compiled rules are older than their source "
        "(pbr.programmes._kernel): running the source instead, more slowly; install again "
        "(python -m pip install -e .) to compile them\n"
    )
    assert "older (install again)" in done.stdout


def test_a_stale_build_is_still_a_python_warning_to_a_library_user(tmp_path: Path) -> None:
    """Outside the command line it stays a RuntimeWarning, at the user's own line."""
    copy = _stale_copy(tmp_path)
    (copy / "use.py").write_text("import pbr\n\nrules = pbr.rules.PHASE_ONE\n")
    done = _run(copy, "-W", "always", "use.py")
    assert done.returncode == 0, done.stderr
    assert "use.py:3: RuntimeWarning: pbr's compiled rules are older than their source" in (
        done.stderr
    )
    strict = _run(copy, "-W", "error::RuntimeWarning", "use.py")
    assert "RuntimeWarning: pbr's compiled rules are older" in strict.stderr
    inline = _run(copy, "-c", "import pbr.rules")  # the warning's line is no module's source
    assert inline.returncode == 0, inline.stderr  # it raised ImportError ('__main__' is not ...)
    assert "<string>:1: RuntimeWarning: pbr's compiled rules are older" in inline.stderr
