"""The optional packages forecasting uses, imported only when asked for, with a helpful error."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["matplotlib_pyplot", "numpy", "pandas"]

_HINT = 'this needs the forecast extra: pip install "pbr[forecast]"'


def _load(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"{name} is not installed; {_HINT}") from exc


def numpy() -> Any:
    """The numpy module."""
    return _load("numpy")


def pandas() -> Any:
    """The pandas module."""
    return _load("pandas")


def matplotlib_pyplot() -> Any:
    """Matplotlib's pyplot on the non-interactive Agg backend (works without a screen)."""
    matplotlib = _load("matplotlib")
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")
