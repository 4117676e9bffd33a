"""Keys given twice in one JSON object: found, with their paths, in a record that validated.

JSON readers disagree on which of two values counts, so `pbr` uses neither: the readers
(`pbr.io.parse_family`) and `pbr.Family.model_validate_json` refuse such a record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pbr.records import Family

__all__ = ["all_repeated_keys", "family_id_in_doubt", "key_repeats", "repeated_keys"]


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
    return sorted(_values_given(data))


def key_repeats(data: bytes) -> list[tuple[str, list[Any], str]]:
    """Each key given twice in one object of `data`: its path, the values given it, and why.

    One wording for every reader (`pbr.io.parse_family`, `pbr.Family.model_validate_json`): the
    error's value is the values given, in order, so whoever fixes the record sees which to keep.

    >>> key_repeats(b'{"members": [{"person_id": "A1", "person_id": "A2"}]}')[0][:2]
    ('members.0.person_id', ['A1', 'A2'])
    """
    found = []
    for path, values in sorted(_values_given(data).items()):
        times = "twice" if len(values) == 2 else f"{len(values)} times"
        where = path if len(path) <= 80 else path[:79] + "…"
        why = (
            f"the key {where} is given {times} in one object; JSON readers disagree on which "
            "value counts, so pbr uses neither"
        )
        found.append((path, values, why))
    return found


def family_id_in_doubt(repeats: list[tuple[str, list[Any], str]]) -> bool:
    """Whether `key_repeats` found family_id given twice with different values.

    Then which family the record is cannot be said. Given twice with the same value, it can
    (the record is still refused, for the key given twice).

    >>> family_id_in_doubt(key_repeats(b'{"family_id": "F1", "family_id": "F1"}'))
    False
    >>> family_id_in_doubt(key_repeats(b'{"family_id": "F1", "family_id": "F2"}'))
    True
    """
    for path, values, _ in repeats:
        if path == "family_id":
            return len({json.dumps(value, sort_keys=True) for value in values}) > 1
    return False


def _values_given(data: bytes) -> dict[str, list[Any]]:
    """Each key given twice in one object, by path: its values in order (none: JSON unreadable)."""
    try:
        pairs = json.loads(data, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return {}
    found: dict[str, list[Any]] = {}
    try:
        _repeated(pairs, "", found)
    except RecursionError:  # deeper than json itself reads: nothing more can be said
        return found
    return found


class _Pairs(list[tuple[str, Any]]):
    """A JSON object's keys and values, in order, as written (repeats kept): not an array."""


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


def _repeated(node: Any, path: str, found: dict[str, list[Any]]) -> None:
    if isinstance(node, _Pairs):
        given: dict[str, list[Any]] = {}
        for key, value in node:
            where = f"{path}.{key}" if path else key
            given.setdefault(key, []).append(value)
            _repeated(value, where, found)
        for key, values in given.items():
            if len(values) > 1:
                found.setdefault(f"{path}.{key}" if path else key, []).extend(map(_plain, values))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _repeated(item, f"{path}.{i}" if path else str(i), found)


def _plain(value: Any) -> Any:
    """A value as JSON reads it (an object a dict, its last value of a key counting), to show."""
    if isinstance(value, _Pairs):
        return {key: _plain(item) for key, item in value}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
