"""Warnings shown at the caller's own line, however deep in pbr they are raised."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

__all__ = ["warn_caller"]

_PACKAGE = str(Path(__file__).resolve().parent)


def warn_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn at the first line outside pbr: a fixed ``stacklevel`` breaks with each wrapper."""
    frame = sys._getframe(1)  # who called this: stacklevel 2 (1 is this function)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
