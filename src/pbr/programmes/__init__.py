"""Programmes as plug-ins: a rule set (a TOML file of cited data), a module of rules, a registry line.

The engine, the command line, `pbr.testing`, the forecast and the audit ask this registry; none
of them names a programme. A bundled programme is one line in `_registry.BUNDLED`; a council's
local variant or a programme of its own can be added at run time with `register`.

>>> from pbr.programmes import programme, programmes
>>> [p.id for p in programmes()]
['tf-phase-1', 'tf-phase-2', 'supporting-families']
>>> programme("supporting-families").rules.title
'Supporting Families'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pbr.programmes._registry import BUNDLED

if TYPE_CHECKING:
    from pbr.errors import OutsideProgramme as OutsideProgramme
    from pbr.programmes._programme import Programme
    from pbr.records import Family

__all__ = ["Programme", "programme", "programme_for", "programmes", "register", "unregister"]

_registered: dict[str, Programme] = {}


def programmes() -> tuple[Programme, ...]:
    """Every programme: the bundled ones, oldest first, then those registered at run time.

    >>> [p.short for p in programmes()]
    ['TF1', 'TF2', 'SF']
    """
    every = _every[0]
    if every is None:  # worked out once, and again after each `register`/`unregister`
        bundled = tuple(_bundled(module) for _, module in BUNDLED)
        every = _every[0] = (*bundled, *_registered.values())
    return every


_every: list[tuple[Programme, ...] | None] = [None]
"""`programmes()`'s answer, kept: every family of a batch asks for it."""


def _bundled(module: str) -> Programme:
    found = _loaded.get(module)
    if found is None:  # imported on first use, so `import pbr` stays light
        found = _loaded[module] = importlib.import_module(module).PROGRAMME
    return found


_loaded: dict[str, Programme] = {}


def programme(programme_id: str) -> Programme:
    """The programme with id `programme_id`.

    >>> programme("tf-phase-2").short
    'TF2'

    Raises:
        KeyError: no programme has that id (the message lists those that do).

    """
    for module_id, module in BUNDLED:
        if module_id == programme_id:
            return _bundled(module)
    found = _registered.get(programme_id)
    if found is None:
        known = ", ".join(p.id for p in programmes())
        raise KeyError(f"unknown programme {programme_id!r}; choose from {known}")
    return found


def programme_for(family: Family) -> Programme:
    """The programme a family is evaluated under, by its stated programme and attachment date.

    Its stated programme when that covers the family; else the first, oldest first, whose
    attachment dates cover it.

    >>> import pbr
    >>> family = pbr.Family.model_validate({"family_id": "F2", "attached_on": "2016-05-01",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]})
    >>> programme_for(family).id
    'tf-phase-2'

    Raises:
        OutsideProgramme: no programme covers the family.

    """
    from pbr.errors import OutsideProgramme

    every = programmes()
    for candidate in every:
        if family.programme in (None, candidate.id) and candidate.rules.covers(family.attached_on):
            return candidate
    covered = "; ".join(f"{p.id} {p.rules.attached_from} to {p.rules.attached_to}" for p in every)
    raise OutsideProgramme(
        family.family_id,
        f"no rule set covers programme {family.programme or '(not stated)'} for a family attached "
        f"on {family.attached_on} ({covered})",
    )


def register(new: Programme) -> Programme:
    """Add a programme for this process (a local variant, a new framework edition).

    Families whose records state no programme are matched to it by its attachment dates, after
    the bundled programmes. Returns it, so a module can write ``PROGRAMME = register(...)``.

    Raises:
        ValueError: a programme with that id is already listed.

    """
    if new.id in {p.id for p in programmes()}:
        raise ValueError(f"a programme {new.id!r} is already listed")
    _registered[new.id] = new
    _every[0] = None
    return new


def unregister(programme_id: str) -> None:
    """Remove a programme added with `register` (bundled ones stay)."""
    _registered.pop(programme_id, None)
    _every[0] = None


def __getattr__(name: str) -> Any:
    if name == "Programme":
        from pbr.programmes._programme import Programme

        return Programme
    raise AttributeError(f"module 'pbr.programmes' has no attribute {name!r}")
