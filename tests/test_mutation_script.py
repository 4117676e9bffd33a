"""scripts/mutation.py makes the mutants it promises, and its allowlist names real ones.

Enumeration only: the mutation run itself is by hand (CONTRIBUTING.md), never part of pytest.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts import load_script

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "mutation.py"


@pytest.fixture(scope="module")
def mutation() -> ModuleType:
    return load_script(SCRIPT, "pbr_mutation_script")


def test_targets_are_the_rule_and_kernel_modules(mutation: ModuleType) -> None:
    names = {p.relative_to(mutation.SRC).as_posix() for p in mutation.target_files()}
    assert {"pbr/periods.py", "pbr/money.py", "pbr/plans.py"} <= names
    assert "pbr/programmes/phase_one/_identification.py" in names
    assert all(
        n.startswith("pbr/programmes/")
        for n in names - {"pbr/periods.py", "pbr/money.py", "pbr/plans.py"}
    )


def test_every_mutant_parses_and_changes_the_code(mutation: ModuleType) -> None:
    path = mutation.SRC / "pbr" / "programmes" / "_kernel.py"
    original = ast.dump(ast.parse(path.read_text()))
    mutants = mutation.mutants_of(path)
    kinds = {m.kind for m in mutants}
    assert {"compare", "min/max", "drop condition", "negate test"} <= kinds
    for m in mutants:
        assert ast.dump(ast.parse(mutation.mutated_source(path, m))) != original, m.change


def test_message_text_and_annotations_are_not_mutated(mutation: ModuleType) -> None:
    tree = ast.parse('def f(x: int = 3) -> bool:\n    raise ValueError(f"{x > 1}")\n')
    walked = [node for node, *_ in mutation._walk(tree)]
    assert not [n for n in walked if isinstance(n, ast.Compare | ast.JoinedStr | ast.Raise)]
    assert not [n for n in walked if isinstance(n, ast.Name)], "annotations are left alone"
    assert [n.value for n in walked if isinstance(n, ast.Constant)] == [3], "defaults are code"


def test_the_allowlist_names_current_mutants_with_reasons(mutation: ModuleType) -> None:
    keys = {m.key for f in mutation.target_files() for m in mutation.mutants_of(f)}
    allowed = mutation.load_equivalent()
    assert allowed, "the allowlist is read"
    stale = [key for key in allowed if key not in keys]
    assert stale == [], "an allowlisted mutant no longer exists: remove or update its entry"
    assert all(len(reason) > 20 for reason in allowed.values())
