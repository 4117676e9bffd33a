"""Keys given twice in one JSON object: found, with their paths, in a record that validated.

JSON readers disagree on which of two values counts, so `pbr` uses neither: the readers
(`pbr.io.parse_family`) and `pbr.Family.model_validate_json` refuse such a record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pbr.records import Family

__all__ = ["all_repeated_keys", "repeated_keys"]


_SPACED_COLON = re.compile(rb'"[ \t\n\r]+:')


def repeated_keys(data: bytes, family: Family) -> list[str]:
    """The paths of keys given twice in one object of `data` (which validated as `family`).

    Fast path: every key of the record is a field the model saw (unknown keys are already
    refused), and every key is followed by one colon; so when the text holds exactly as many
    colons as the model has fields set, no key can have been given twice. Colons inside strings
    only add to the count (then the exact search decides). The older form of the same proof,
    counting ``":`` with no key spaced from its colon, covers text values holding colons.
    """
    keys = _keys_set(family)
    if data.count(b":") == keys or (data.count(b'":') == keys and not _SPACED_COLON.search(data)):
        return []
    return all_repeated_keys(data)


def all_repeated_keys(data: bytes) -> list[str]:
    """The paths of every key given twice in one object (none if the JSON cannot be read)."""
    try:
        pairs = json.loads(data, object_pairs_hook=list)
    except (ValueError, RecursionError):
        return []
    return sorted(_repeated(pairs, ""))


def _keys_set(family: Family) -> int:
    """How many fields the record and its parts were given: its keys, if none was repeated."""
    total = len(family.__pydantic_fields_set__)
    for parts in _lists_of_parts()(family):
        for part in parts:
            total += len(part.__pydantic_fields_set__)
    return total


@cache
def _lists_of_parts() -> Callable[[Family], tuple[Any, ...]]:
    """Every list of parts of a `Family`, read in one call."""
    from pbr.records import Family

    names = tuple(
        name
        for name, info in Family.model_fields.items()
        if name not in {"identified_for", "local_discretion"}
        and str(info.annotation).startswith(("tuple[", "Annotated[tuple["))
    )
    read: Callable[[Family], tuple[Any, ...]] = attrgetter(*names)
    return read


def _repeated(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, list) and all(isinstance(p, tuple) and len(p) == 2 for p in node) and node:
        seen: set[str] = set()
        for key, value in node:
            where = f"{path}.{key}" if path else key
            if key in seen:
                yield where
            seen.add(key)
            yield from _repeated(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _repeated(item, f"{path}.{i}" if path else str(i))
