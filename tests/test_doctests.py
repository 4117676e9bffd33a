"""Every example in a `pbr` docstring runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import pbr
from pbr import _native

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pbr.__path__, "pbr.") if not m.name.endswith("__main__")
)


def _with_docstrings(name: str) -> ModuleType:
    """Module `name` as doctest can read it: a compiled module's functions hide their examples."""
    module = importlib.import_module(name)
    return _native.source_module(name) if name in _native.COMPILED else module


@pytest.mark.parametrize("name", ["pbr", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = _with_docstrings(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert failures == 0, f"{failures} docstring example(s) failed in {name}"


def test_the_public_modules_have_examples() -> None:
    finder = doctest.DocTestFinder()
    with_examples = {
        name for name in MODULES if any(t.examples for t in finder.find(_with_docstrings(name)))
    }
    assert {"pbr.engine", "pbr.money", "pbr.periods", "pbr.rules", "pbr.testing"} <= with_examples
