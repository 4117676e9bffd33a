"""The optional packages forecasting uses, imported only when asked for, with a helpful error."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

__all__ = ["matplotlib_pyplot", "numpy", "pandas"]

_HINT = 'this needs the forecast extra: pip install "pbr-claims[forecast]"'


def _load(name: str, hint: str = _HINT) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        from pbr.errors import MissingExtra

        raise MissingExtra(f"{name} is not installed; {hint}") from exc


def numpy() -> Any:
    """The numpy module."""
    return _load("numpy")


def pandas() -> Any:
    """The pandas module (the ``pandas`` extra alone, or the forecast extra, which has it)."""
    return _load(
        "pandas",
        'this needs pandas: pip install "pbr-claims[pandas]" (the forecast extra has it too)',
    )


def matplotlib_pyplot() -> Any:
    """Matplotlib's pyplot, on the non-interactive Agg backend unless one was chosen already.

    Agg works without a screen (scripts, CI, the command line). A backend chosen by the
    environment (``MPLBACKEND``: Jupyter sets its inline backend this way) or by importing pyplot
    first is kept, so that a chart returned as a notebook cell's value is shown there.
    """
    matplotlib = _load("matplotlib")
    if not os.environ.get("MPLBACKEND") and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")
