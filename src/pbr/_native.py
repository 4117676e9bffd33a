"""The rule modules compiled to C by mypyc, and the switch back to their Python source.

The same source is both: setup.py compiles these modules when pbr is installed (a quarter less
time a family, decisions byte for byte the same), and the ``.py`` files stay beside the compiled
ones. ``PBR_PURE_PYTHON=1`` in the environment, set before `pbr` is imported, makes Python import
the source instead: to read a traceback line by line, to try a change to a rule without
installing again, or to compare the two. This module imports nothing outside the standard
library: setup.py reads `COMPILED` from it before pbr is installed.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = [
    "COMPILED",
    "built",
    "compiled",
    "form",
    "prefer_source",
    "prefer_source_if_stale",
    "source_module",
    "stale",
]

COMPILED = (
    "pbr._dates",
    "pbr._parts",
    "pbr._rows",
    "pbr._sums",
    "pbr.programmes._employment",
    "pbr.programmes._kernel",
    "pbr.programmes._sustained",
    "pbr.programmes.phase_one._evidence",
    "pbr.programmes.phase_one._identification",
    "pbr.programmes.phase_one._limbs",
    "pbr.programmes.phase_one._payment",
    "pbr.programmes.phase_two",
    "pbr.programmes.supporting_families",
)
"""The modules compiled: the rules' hot path. No public name lives in one (a compiled function
checks its arguments' types before its body could name what to pass, and a compiled class is
not an ordinary one), so `pbr.periods`, `pbr.engine` and `pbr.totals` stay Python."""

PURE_PYTHON = "PBR_PURE_PYTHON"
"""The environment variable that, set to ``1``, makes pbr import the source of `COMPILED`."""

_PACKAGE = Path(__file__).resolve().parent


def _source_path(name: str) -> Path:
    """Where module `name`'s Python source is."""
    return _PACKAGE.joinpath(*name.split(".")[1:]).with_suffix(".py")


def compiled(module: ModuleType) -> bool:
    """Whether `module` was loaded from a compiled extension rather than its source."""
    loader = getattr(module, "__loader__", None)
    return isinstance(loader, importlib.machinery.ExtensionFileLoader)


class _SourceFinder:
    """A finder that gives the modules of `COMPILED` from their ``.py`` files.

    `unsaid` is a warning to give as the first of them is imported, not before: by then the
    command line shows warnings as its own lines (`pbr._caller_warnings.warnings_as_lines`).
    """

    def __init__(self, unsaid: str | None = None) -> None:
        self.unsaid = unsaid

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in COMPILED:
            return None
        if self.unsaid is not None:
            message, self.unsaid = self.unsaid, None
            _warn_outside(message)
        return importlib.util.spec_from_file_location(name, _source_path(name))


def _warn_outside(message: str) -> None:
    """A RuntimeWarning at the first line outside pbr and the import machinery: the user's."""
    frame = sys._getframe(1)
    while frame.f_back is not None and (
        frame.f_code.co_filename.startswith(str(_PACKAGE))
        or "importlib" in frame.f_code.co_filename
    ):
        frame = frame.f_back
    warnings.warn_explicit(
        message,
        RuntimeWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__", "pbr"),
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )  # no module_globals: the source of ``python -c`` is no module a loader can give


def prefer_source() -> None:
    """Import `COMPILED` from source from now on, if the environment asks (`PURE_PYTHON`)."""
    if os.environ.get(PURE_PYTHON) == "1":
        _from_source()


def prefer_source_if_stale() -> None:
    """In a build in place, import every compiled module from source if one is older than it.

    All of them, not only the changed one: a compiled module calls the others' compiled
    functions directly, so one from source among them would still run the old code. The
    warning saying so is given as the first of them is imported (`_SourceFinder`), by which
    time ``pbr``'s command line shows it as a line of its own.
    """
    found = stale()
    if found:
        _from_source(
            f"pbr's compiled rules are older than their source ({', '.join(found)}): running "
            "the source instead, more slowly; install again (python -m pip install -e .) to "
            "compile them"
        )


def _from_source(unsaid: str | None = None) -> None:
    if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder(unsaid))


def source_module(name: str) -> ModuleType:
    """Module `name` executed from its ``.py`` file, apart from the one imported (for doctests)."""
    spec = importlib.util.spec_from_file_location(name, _source_path(name))
    if spec is None or spec.loader is None:  # pragma: no cover - the file is part of pbr
        raise ImportError(f"no source for {name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def built(name: str) -> Path | None:
    """The compiled file the install built for module `name`, beside its source, if any.

    Looked up by file name, without importing anything: this runs while `pbr` is imported.
    """
    source = _source_path(name)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def form() -> str:
    """How the rules run here, for ``pbr --version`` and bug reports."""
    if os.environ.get(PURE_PYTHON) == "1":
        return f"rules run from their Python source, as {PURE_PYTHON}=1 asks"
    if built(COMPILED[0]) is None:
        return "rules run from their Python source, not compiled at install (no C compiler?)"
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):  # `prefer_source_if_stale`
        return "rules run from their Python source: the compiled ones are older (install again)"
    return "rules compiled by mypyc"


def stale() -> list[str]:
    """The compiled modules whose source changed after they were built (install pbr again).

    Only a build in place, in the repository's ``src`` (``pip install -e .``), can be older
    than its source; an installed wheel writes each ``.py`` file just after its compiled twin.
    """
    found: list[str] = []
    if _PACKAGE.parent.name != "src":
        return found
    for name in COMPILED:
        extension = built(name)
        if extension is not None and _source_path(name).stat().st_mtime > extension.stat().st_mtime:
            found.append(name)
    return found
