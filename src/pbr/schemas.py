"""The published JSON Schemas: the family record pbr reads, and the decisions and rejections it writes.

Each schema names the JSON Schema dialect (``$schema``), a stable identifier (``$id``) and the
format version it describes; every decision carries the same `DECISION_FORMAT_VERSION`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DECISION_FORMAT_VERSION",
    "RECORD_FORMAT_VERSION",
    "decision_schema",
    "family_schema",
    "rejection_schema",
]

RECORD_FORMAT_VERSION = "1.2"
"""The family record format: 1.0 as family-record.md v1 first said, 1.1 with its strict rules, 1.2 with no control character in a text."""
DECISION_FORMAT_VERSION = "1.0"
"""The decision format, echoed as ``format_version`` in every decision."""
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def family_schema() -> dict[str, Any]:
    """The family record's JSON Schema (what ``pbr schema`` prints).

    >>> schema = family_schema()
    >>> schema["$id"], schema["x-format-version"], schema["required"]
    ('urn:pbr:schema:family-record:1.2', '1.2', ['family_id', 'attached_on', 'members'])
    """
    from pbr.records import Family

    return _head("family-record", RECORD_FORMAT_VERSION, Family.model_json_schema())


def decision_schema() -> dict[str, Any]:
    """The JSON Schema of a decision as ``pbr evaluate --format json`` writes it.

    >>> decision_schema()["properties"]["format_version"]["const"]
    '1.0'
    """
    from pbr.decisions import Decision

    return _head(
        "decision", DECISION_FORMAT_VERSION, Decision.model_json_schema(mode="serialization")
    )


def rejection_schema() -> dict[str, Any]:
    """The JSON Schema of one line of ``pbr evaluate --rejections FILE``.

    >>> sorted(rejection_schema()["properties"])
    ['errors', 'family_id', 'line', 'local_authority', 'record', 'source']
    """
    from pbr.io import Rejection

    return _head(
        "rejection", DECISION_FORMAT_VERSION, Rejection.model_json_schema(mode="serialization")
    )


def _head(name: str, version: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": _DIALECT,
        "$id": f"urn:pbr:schema:{name}:{version}",
        "x-format-version": version,
        **tidy_descriptions(schema),
    }


def tidy_descriptions(node: Any) -> Any:
    """Descriptions cut to their first paragraph: the docstrings' examples are for Python readers.

    The web API's OpenAPI document (``pbr serve``) tidies its schemas so too.
    """
    if isinstance(node, dict):
        return {
            key: value.split("\n\n", 1)[0].replace("\n", " ")
            if key == "description" and isinstance(value, str)
            else tidy_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [tidy_descriptions(item) for item in node]
    return node
