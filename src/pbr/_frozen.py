"""Read-only mappings for frozen dataclasses, and their pickling (a mapping proxy cannot pickle).

A rule set's data is hashed as its file: a mapping changed in place would pay other amounts
under the same hash, so the dataclasses that hold the data hold read-only views of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import Any, TypeVar

__all__ = ["read_only", "set_state", "state"]

_K = TypeVar("_K")
_V = TypeVar("_V")


def read_only(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    """A read-only view of a copy of `mapping`; a view already read-only is kept (and shared).

    >>> view = read_only({"a": 1})
    >>> view["a"], read_only(view) is view
    (1, True)
    >>> view["b"] = 2
    Traceback (most recent call last):
    ...
    TypeError: 'mappingproxy' object does not support item assignment
    """
    if type(mapping) is MappingProxyType:
        return mapping
    return MappingProxyType(dict(mapping))


def state(obj: Any) -> list[Any]:
    """A frozen dataclass's fields for pickling, each read-only mapping as a plain dict."""
    return [_plain(getattr(obj, f.name)) for f in fields(obj)]


def set_state(obj: Any, values: list[Any]) -> None:
    """Set a frozen dataclass's fields from `state`'s list (its ``__post_init__`` then freezes)."""
    for f, value in zip(fields(obj), values, strict=True):
        object.__setattr__(obj, f.name, value)


def _plain(value: object) -> object:
    return dict(value) if type(value) is MappingProxyType else value
