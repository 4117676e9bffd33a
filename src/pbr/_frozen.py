"""Read-only mappings for the rule sets' data: a dict that refuses every change.

A rule set's data is hashed as its file: a mapping changed in place would pay other amounts
under the same hash, so the dataclasses that hold the data hold read-only mappings. They are
dicts still (not mapping proxies), so they JSON-encode, pickle and copy as the dicts before did.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

__all__ = ["FrozenDict", "read_only"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenDict(dict[_K, _V]):
    """A dict whose items cannot be set, removed or updated (`TypeError`).

    >>> view = FrozenDict({"a": 1})
    >>> view["a"], view == {"a": 1}, isinstance(view, dict)
    (1, True, True)
    >>> view["b"] = 2
    Traceback (most recent call last):
    ...
    TypeError: a rule set's data is read-only (its hash is its file's): cannot change it in place
    """

    __slots__ = ()

    def _refused(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            "a rule set's data is read-only (its hash is its file's): cannot change it in place"
        )

    __setitem__ = __delitem__ = _refused
    clear = pop = popitem = setdefault = update = _refused
    __ior__ = _refused

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict[_K, _V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[_K, _V]:
        return type(self)(copy.deepcopy(dict(self), memo))


def read_only(mapping: Mapping[_K, _V]) -> Mapping[_K, _V]:
    """A read-only copy of `mapping`; one already read-only is kept (and shared).

    >>> view = read_only({"a": 1})
    >>> view["a"], read_only(view) is view
    (1, True)
    """
    if type(mapping) is FrozenDict:
        return mapping
    return FrozenDict(mapping)
