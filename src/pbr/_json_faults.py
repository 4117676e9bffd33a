r"""Where in a record JSON that pydantic cannot read breaks, when that is one field's value.

pydantic-core refuses a whole record, with no field path, for two faults that are each one
value's: a lone surrogate escape in a text (``"\ud800"``: half of a pair of escapes that writes
one character beyond U+FFFF, with its other half missing) and arrays or objects nested more than
it reads. Both are found here at their field, by the record's brackets alone (never by reading
it as JSON, which is what failed), and said in the terms of the record.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DEPTH", "located", "too_deep"]

MAX_DEPTH = 200
"""The most arrays and objects pydantic-core reads nested inside a record (tests/test_startup.py
holds its reader to the edge: 200 arrays in a record read, 201 do not)."""

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}:,]', re.S)
"""A JSON string (escapes and all) or a bracket, colon or comma: what the structure is made of."""
_ESCAPE = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.S)
_POSITION = re.compile(r"(?:Invalid JSON: )?(.*?)(?: at line \d+ column \d+)?", re.S)
_SPACE = b" \t\r\n"

Path = tuple[str | int, ...]
_Part = tuple[str | int, int, int, int]
"""A member's key (an element's index), where it starts (its key), where its value starts and
where it ends."""


def located(message: str, data: bytes) -> tuple[Path, str, str] | None:
    r"""The field of `data` that pydantic's "Invalid JSON" `message` is about: path, value, why.

    The value is as the record writes it (cut at 80 characters); None when the fault is not one
    of a field's value, or cannot be placed.

    >>> located("Invalid JSON: unexpected end of hex escape at line 1 column 37",
    ...     rb'{"family_id": "F1", "local_authority": "\ud800"}')[:2]
    (('local_authority',), '"\\ud800"')
    """
    fault = _POSITION.fullmatch(message)
    why = fault.group(1) if fault is not None else message
    if "recursion limit exceeded" in why:
        surrogate = False
    elif "hex escape" in why or "surrogate" in why:
        surrogate = True
    else:
        return None
    start = _skip(data, 0)
    parts = _parts(data, start) if data[start : start + 1] == b"{" else None
    for name, key_start, value_start, end in parts or ():
        if _fails_alone(data[key_start:end]) != why:
            continue
        if surrogate:
            return _lone_surrogate_at(data, (name,), key_start, value_start, end)
        value = data[value_start:end]
        return (
            (name,),
            _written(value),
            too_deep(value, f" ({MAX_DEPTH} inside a record)", "any field of the record"),
        )
    return None


def too_deep(value: bytes, limit: str, than: str) -> str:
    """Why JSON as deeply nested as `value` is not read (a record's field's, a claim file's).

    >>> too_deep(b"[[[]]]", " (2 here)", "any claim")
    'arrays or objects nested 3 deep: more than pbr reads (2 here), and far deeper than any claim'
    """
    return f"arrays or objects nested {_depth(value)} deep: more than pbr reads{limit}, and far deeper than {than}"


def _fails_alone(member: bytes) -> str | None:
    """Why pydantic-core cannot read one member of the record alone in a record (None if it can)."""
    from pydantic_core import from_json

    try:
        from_json(b"{" + member + b"}")
    except ValueError as exc:
        fault = _POSITION.fullmatch(str(exc))
        return fault.group(1) if fault is not None else str(exc)
    return None


def _lone_surrogate_at(
    data: bytes, path: Path, key_start: int, value_start: int, end: int
) -> tuple[Path, str, str] | None:
    """The text holding the first lone surrogate in the member: its path, as written, and why."""
    while True:
        key = data[key_start:value_start].rstrip(_SPACE + b":").rstrip(_SPACE)
        if key_start < value_start and _lone_escape(key) is not None:
            given = key  # the key is the text at fault: its path names it
            break
        given = data[value_start:end]
        if given[:1] not in (b"{", b"["):
            break
        parts = _parts(data, value_start) or []
        inner = next((p for p in parts if _lone_escape(data[p[1] : p[3]]) is not None), None)
        if inner is None:
            break
        name, key_start, value_start, end = inner
        path = (*path, name)
    escape = _lone_escape(given)
    if escape is None:
        return None
    return (
        path,
        _written(given),
        f"a lone surrogate {escape} is not a character: an escape from \\ud800 to \\udfff is "
        "half of a pair that writes one character (an emoji, say), and the other half is missing",
    )


def _lone_escape(text: bytes) -> str | None:
    r"""The first ``\uXXXX`` escape in `text` that is a surrogate without its other half.

    >>> _lone_escape(rb'"\ud83d\ude00 \udc00"'), _lone_escape(rb'"\\ud800"')
    ('\\udc00', None)
    """
    waiting: tuple[str, int] | None = None  # a first half, and where its escape ends
    for escape in _ESCAPE.finditer(text):
        digits = escape.group(1)
        code = int(digits, 16) if digits is not None else -1
        if waiting is not None:
            if escape.start() == waiting[1] and 0xDC00 <= code <= 0xDFFF:
                waiting = None
                continue
            return waiting[0]
        if 0xD800 <= code <= 0xDBFF:
            waiting = (escape.group().decode("ascii"), escape.end())
        elif 0xDC00 <= code <= 0xDFFF:
            return escape.group().decode("ascii")
    return waiting[0] if waiting is not None else None


def _parts(data: bytes, start: int) -> list[_Part] | None:
    """The members of the object (or elements of the array) opening at `start`; None if unsure."""
    is_object = data[start : start + 1] == b"{"
    parts: list[_Part] = []
    depth = 0
    name: str | int | None = None if is_object else 0
    key_start = value_start = -1
    for token in _TOKENS.finditer(data, start):
        mark = token.group()
        if mark in (b"{", b"["):
            depth += 1
            if depth == 1 and not is_object:
                key_start = value_start = _skip(data, token.end())
        elif mark in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                if name is not None and 0 <= value_start < token.start():
                    parts.append((name, key_start, value_start, _trimmed(data, token.start())))
                return parts
        elif depth != 1:
            continue
        elif mark == b",":
            if name is None or value_start < 0:
                return None
            parts.append((name, key_start, value_start, _trimmed(data, token.start())))
            if is_object:
                name, key_start, value_start = None, -1, -1
            else:
                name = len(parts)
                key_start = value_start = _skip(data, token.end())
        elif mark == b":":
            if not is_object or name is None or value_start >= 0:
                return None
            value_start = _skip(data, token.end())
        elif is_object and name is None:  # a key
            name, key_start = _key(mark), token.start()
    return None


def _key(token: bytes) -> str:
    r"""A key's text; as written (``pers\udfffon_id``) when it holds an escape that is no character.

    >>> _key(rb'"person_id"'), _key(rb'"caf\u00e9"'), _key(rb'"pers\udfffon_id"')
    ('person_id', 'café', 'pers\\udfffon_id')
    """
    import json

    text = token.decode("utf-8", errors="replace")
    try:
        key = json.loads(text)
        key.encode("utf-8")
    except (ValueError, AttributeError):  # UnicodeEncodeError: a lone surrogate
        return text[1:-1]
    return key if isinstance(key, str) else text[1:-1]


def _depth(value: bytes) -> int:
    """How deep the arrays and objects of `value` nest (``[[]]``: 2)."""
    depth = deepest = 0
    for token in _TOKENS.finditer(value):
        mark = token.group()
        if mark in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        elif mark in (b"}", b"]"):
            depth -= 1
    return deepest


def _skip(data: bytes, position: int) -> int:
    while position < len(data) and data[position] in _SPACE:
        position += 1
    return position


def _trimmed(data: bytes, end: int) -> int:
    while end > 0 and data[end - 1] in _SPACE:
        end -= 1
    return end


def _written(value: bytes) -> str:
    """A value as the record writes it, cut at 80 characters."""
    text = value[:320].decode("utf-8", errors="replace")
    return text if len(text) <= 80 and len(value) <= 320 else text[:79] + "…"
