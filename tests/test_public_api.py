"""The public API: `pbr.__all__` is sorted, complete, documented and cheap to import."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from pathlib import Path

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


def public_submodules() -> tuple[str, ...]:
    """Every module of the package without a leading underscore: what the docs write
    ``pbr.io.x`` of, found in the package's files."""
    import pkgutil

    return tuple(
        sorted(m.name for m in pkgutil.iter_modules(pbr.__path__) if not m.name.startswith("_"))
    )


def test_the_package_names_no_extra_s_module_to_type_checkers() -> None:
    """Naming ``pbr.serve`` or ``pbr.testing`` under TYPE_CHECKING in ``pbr/__init__.py`` made
    mypyc's check at install (a build environment without fastapi or hypothesis) fail, and a
    fresh install ran the rules uncompiled, a third slower, without a word."""
    import ast

    tree = ast.parse(Path(pbr.__file__).read_text(encoding="utf-8"))
    checked = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    named = {
        alias.name.split(".")[0] if node.module == "pbr" else (node.module or "").split(".")[1]
        for node in ast.walk(checked)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pbr")
        for alias in node.names
    }
    assert named.isdisjoint({"cli", "dask", "serve", "testing"})


def test_the_public_submodules_are_the_package_s_own() -> None:
    assert set(pbr._MODULES) == set(public_submodules())


def test_every_public_submodule_is_an_attribute_loaded_on_first_use() -> None:
    """`pbr.schemas.term_calendar_schema()` (docs/api.md) raised AttributeError after
    ``import pbr``, as did `pbr.records`, `pbr.io` and `pbr.serve`: each now loads when read."""
    code = (
        "import sys, pbr\n"
        f"names = {public_submodules()!r}\n"
        "early = [n for n in names if 'pbr.' + n in sys.modules]\n"
        "late = [n for n in names if getattr(pbr, n) is not sys.modules['pbr.' + n]]\n"
        "print(early, late, set(names) <= set(dir(pbr)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] [] True"


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
        if name == "__version__":  # a string: mkdocstrings has nothing to render; said in words
            assert "`pbr.__version__`" in page
            continue
        assert f"::: pbr.{name}" in page, f"pbr.{name} is not on docs/api.md"
        value = getattr(pbr, name)
        if name in EXEMPT or isinstance(value, types.ModuleType):
            continue
        assert ">>>" in (inspect.getdoc(value) or ""), f"pbr.{name} needs a docstring example"


DOCUMENTED_MODULES = (
    "pbr._parts",
    "pbr._rejection",
    "pbr._scalars",
    "pbr.decisions",
    "pbr.errors",
    "pbr.explain",
    "pbr.io",
    "pbr.money",
    "pbr.periods",
    "pbr.records",
    "pbr.rules",
)
"""Modules whose every exported class and function (and their public methods) has an example."""


def _public_callables(module: types.ModuleType) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # constants and type aliases: documented, no example needed
        if getattr(value, "__module__", None) != module.__name__:
            continue
        found.append((name, value))
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, property):
                    found.append((f"{name}.{attr}", member.fget))
                elif isinstance(member, classmethod | staticmethod) or inspect.isfunction(member):
                    found.append((f"{name}.{attr}", getattr(member, "__func__", member)))
    return found


@pytest.mark.parametrize("module_name", DOCUMENTED_MODULES)
def test_every_exported_name_has_an_example(module_name: str) -> None:
    import importlib

    from pbr import _native

    module = importlib.import_module(module_name)
    if _native.compiled(module):  # its functions are not Python functions: read their source
        module = _native.source_module(module_name)
    missing = [
        name
        for name, value in _public_callables(module)
        if ">>>" not in (inspect.getdoc(value) or "")
    ]
    assert not missing, f"{module_name}: docstring examples needed for {missing}"


def test_every_record_field_has_a_docstring() -> None:
    """mkdocstrings shows each field's docstring on the API page, so every field needs one."""
    import ast
    from pathlib import Path

    import pbr.records

    tree = ast.parse(Path(pbr.records.__file__).read_text(encoding="utf-8"))
    checked = 0
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in pbr.records.__all__:
            continue
        body = node.body
        for i, statement in enumerate(body):
            if not isinstance(statement, ast.AnnAssign) or not isinstance(
                statement.target, ast.Name
            ):
                continue
            if statement.target.id == "model_config":
                continue
            following = body[i + 1] if i + 1 < len(body) else None
            documented = (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            )
            assert documented, f"pbr.records.{node.name}.{statement.target.id} needs a docstring"
            checked += 1
    assert checked > 50


def test_no_private_name_is_imported_from_another_module() -> None:
    """A module's private names are its own: shared code gets a public name (issue 13)."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    offenders = []
    for path in sorted((src / "pbr").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            for alias in node.names:
                if not alias.name.startswith("_") or alias.name.startswith("__"):
                    continue
                package = src.joinpath(*node.module.split("."))
                module = package / alias.name
                if any(module.with_suffix(s).exists() for s in (".py", ".pyi")) or module.is_dir():
                    continue  # a private submodule (a C one has its stub): the package's business
                offenders.append(
                    f"{path.relative_to(src)}:{node.lineno} {node.module}.{alias.name}"
                )
    assert offenders == []


@pytest.mark.parametrize("package", ["pbr.audit", "pbr.forecast"])
def test_a_package_loads_its_modules_when_a_name_is_first_read(package: str) -> None:
    import importlib

    code = (
        f"import sys, {package}; "
        f"print(','.join(m for m in sys.modules if m.startswith('{package}.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""  # the command line's parser imports the package, nothing more
    module = importlib.import_module(package)
    assert list(module.__all__) == sorted(set(module.__all__), key=isort_key)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    helpers = {"TYPE_CHECKING", "annotations", "lazy_exports"}
    listed = {
        name
        for name in dir(module)
        if not name.startswith("_")
        and name not in helpers
        and not isinstance(getattr(module, name), types.ModuleType)
    }
    assert listed == set(module.__all__)
    with pytest.raises(AttributeError, match="nothing_here"):
        module.nothing_here  # noqa: B018
