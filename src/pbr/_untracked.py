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

_untrack: Callable[[Any, tuple[type, ...], tuple[type, ...]], Any] | None = None
try:
    from pbr import _rebuild
except ImportError:  # pragma: no cover - built without a C compiler
    pass
else:
    _untrack = _rebuild.untrack


def untracked(part: _T, walked: tuple[type, ...], leaves: tuple[type, ...] = ()) -> _T:
    """`part` and the parts it holds, out of the collector's sight; `part` itself, returned.

    Only where `part`'s class is exactly one of `walked` or `leaves` (a caller's subclass is
    left as pydantic made it). Inside a part of a `walked` class, the parts of those classes
    and tuples of them are too; a part of a `leaves` class holds only text, numbers and dates,
    which are not looked at. About 2 µs for a 5.5 KB family record.
    """
    if _untrack is not None and (type(part) in walked or type(part) in leaves):
        _untrack(part, walked, leaves)
    return part
