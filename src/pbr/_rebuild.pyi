from collections.abc import Iterable
from typing import Any, TypeVar

_T = TypeVar("_T")

def model(cls: type[_T], values: dict[str, Any], fields: Iterable[str], /) -> _T: ...
def model_of(
    cls: type[_T], source: Any, names: tuple[str, ...], fields: Iterable[str], /
) -> _T: ...
def untrack(part: _T, walked: tuple[type, ...], leaves: tuple[type, ...], /) -> _T: ...
