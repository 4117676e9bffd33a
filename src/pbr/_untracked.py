"""Frozen models kept out of the cyclic garbage collector's rescans, once they are built.

CPython's collector rescans every container object alive, so each record or claim a caller
keeps in a list makes every later collection longer: reading 50,000 families into a list took
twice as long as reading them. A validated record or claim is frozen and holds only text,
numbers, dates and tuples of other such parts, so it can never be in a reference cycle, and
reference counting frees it as any object. `untracked` takes it out of the collector's sight
with `pbr._rebuild.untrack` (C); without pbr's C part, it is left as pydantic made it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["untracked"]

_T = TypeVar("_T")

_untrack: Callable[[Any, tuple[type, ...]], Any] | None = None
try:
    from pbr import _rebuild
except ImportError:  # pragma: no cover - built without a C compiler
    pass
else:
    _untrack = _rebuild.untrack


def untracked(part: _T, classes: tuple[type, ...]) -> _T:
    """`part` and the parts it holds, out of the collector's sight; `part` itself, returned.

    Only where `part`'s class is exactly one of `classes` (a caller's subclass of it is left
    as pydantic made it); inside it, the parts of those classes and tuples of them. About 3 µs
    for a 5.5 KB family record.
    """
    if _untrack is not None and type(part) in classes:
        _untrack(part, classes)
    return part
