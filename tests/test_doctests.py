"""Every example in a `pbr` docstring runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pbr

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pbr.__path__, "pbr.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["pbr", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert failures == 0, f"{failures} docstring example(s) failed in {name}"


def test_the_public_modules_have_examples() -> None:
    finder = doctest.DocTestFinder()
    with_examples = {
        name
        for name in MODULES
        if any(t.examples for t in finder.find(importlib.import_module(name)))
    }
    assert {"pbr.engine", "pbr.money", "pbr.rules", "pbr.testing"} <= with_examples
