from collections.abc import Iterable
from typing import Any, TypeVar

_T = TypeVar("_T")

def model(cls: type[_T], values: dict[str, Any], fields: Iterable[str], /) -> _T: ...
def untrack(part: _T, walked: tuple[type, ...], leaves: tuple[type, ...], /) -> _T: ...

Spec = tuple[type, tuple[str, ...], tuple[tuple[int, Any] | None, ...], Iterable[str]]

def tree(spec: Spec, source: Any, /) -> Any: ...
