"""The public API: `pbr.__all__` is sorted, complete, documented and cheap to import."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import pytest

import pbr


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then everything else, each alphabetical."""
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def test_all_is_sorted_and_unique() -> None:
    assert list(pbr.__all__) == sorted(set(pbr.__all__), key=isort_key)


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in pbr.__all__:
        value = getattr(pbr, name)
        if name in {"__version__", "REASON_CODES"}:
            continue
        if isinstance(value, types.ModuleType):
            assert value.__doc__, name
            continue
        doc = inspect.getdoc(value)
        assert doc, f"pbr.{name} needs a docstring"
        assert len(doc) > 20, f"pbr.{name} needs a real docstring"


def test_dir_lists_the_public_api() -> None:
    assert set(pbr.__all__) <= set(dir(pbr))


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nothing_here"):
        pbr.nothing_here  # noqa: B018


def test_import_pbr_loads_nothing_heavy() -> None:
    code = (
        "import sys, pbr; heavy = [m for m in ('pydantic', 'dateutil', 'pbr.rules', 'pbr.records',"
        " 'hypothesis', 'pandas') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_reason_codes_are_documented_and_upper_snake() -> None:
    for code, meaning in pbr.REASON_CODES.items():
        assert code.isupper()
        assert " " not in code
        assert meaning.endswith(".")
        assert len(meaning) > 20


EXEMPT = {"__version__", "REASON_CODES", "Money"}
"""A version string, a constant and a type alias: documented on the API page without examples."""


def test_every_public_name_is_on_the_api_page_with_an_example() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    for name in pbr.__all__:
        if name == "__version__":
            continue
        assert f"::: pbr.{name}" in page, f"pbr.{name} is not on docs/api.md"
        value = getattr(pbr, name)
        if name in EXEMPT or isinstance(value, types.ModuleType):
            continue
        assert ">>>" in (inspect.getdoc(value) or ""), f"pbr.{name} needs a docstring example"
