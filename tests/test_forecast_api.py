"""The forecast API: every exported name and public method has a docstring example; lazy imports."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types

import pbr.forecast


def _public_callables(module: types.ModuleType) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
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


def test_every_exported_name_and_method_has_an_example() -> None:
    found = _public_callables(pbr.forecast)
    assert len(found) > 60
    missing = [name for name, value in found if ">>>" not in (inspect.getdoc(value) or "")]
    assert not missing, f"docstring examples needed for {missing}"


def test_all_is_sorted_like_the_package() -> None:
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2), name

    assert list(pbr.forecast.__all__) == sorted(set(pbr.forecast.__all__), key=key)


def test_importing_the_forecast_loads_no_heavy_package() -> None:
    code = (
        "import sys, pbr.forecast; print(','.join(m for m in ('numpy', 'pandas', 'matplotlib',"
        " 'openpyxl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
