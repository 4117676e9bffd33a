"""A package's public names, each imported from its module on first use (PEP 562).

So importing a package (``pbr.audit`` for its command-line options, say) costs nothing until one
of its names is read; the names, their modules and `__all__` stay in the package's own file.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's ``__getattr__`` and ``__dir__`` for `modules`: each module and its names.

    >>> getattr_, dir_ = lazy_exports("pbr", {"pbr.money": ("format_gbp",)})
    >>> "format_gbp" in dir_()
    True
    """
    where = {name: module for module, names in modules.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # read once: later reads find it in the package itself
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
