"""The published JSON Schemas: of what pbr reads (records, term calendars) and writes.

Each schema names the JSON Schema dialect (``$schema``), a stable identifier (``$id``) and the
format version it describes; every decision carries the same `DECISION_FORMAT_VERSION`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DECISION_FORMAT_VERSION",
    "RECORD_FORMAT_VERSION",
    "TERM_CALENDAR_FORMAT_VERSION",
    "decision_schema",
    "family_schema",
    "rejection_schema",
    "term_calendar_schema",
]

RECORD_FORMAT_VERSION = "1.4"
"""The family record format: 1.0 as family-record.md v1 first said, 1.1 with its strict rules,
1.2 with no control character in a text, 1.3 with no line separator or format character either,
1.4 with no problem given twice in `identified_for` (and an empty one accepted in a later
programme's record)."""
DECISION_FORMAT_VERSION = "1.0"
"""The decision format, echoed as ``format_version`` in every decision."""
TERM_CALENDAR_FORMAT_VERSION = "1.1"
"""The term calendar file format (`pbr.load_term_calendar`): 1.0 as first published, 1.1 with no
line separator or format character in its name (as the family record's 1.3)."""
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def family_schema() -> dict[str, Any]:
    """The family record's JSON Schema (what ``pbr schema`` prints).

    >>> schema = family_schema()
    >>> schema["$id"], schema["x-format-version"], schema["required"]
    ('urn:pbr:schema:family-record:1.4', '1.4', ['family_id', 'attached_on', 'members'])
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


_ACADEMIC_YEARS = "^(?:" + "|".join(f"{y}/{(y + 1) % 100:02d}" for y in range(1900, 2099)) + ")$"
"""Every academic year a calendar may date (1900/01 to 2098/99), as one pattern: the years
must follow each other, which a pattern of digits alone cannot say."""


def term_calendar_schema() -> dict[str, Any]:
    """The JSON Schema of a council's term calendar file in JSON (``pbr schema --term-calendar``).

    It says what one field can say; the checks across terms (dates within the academic year,
    first day not after last, no overlap) are `pbr.load_term_calendar`'s alone.

    >>> schema = term_calendar_schema()
    >>> schema["$id"], schema["required"]
    ('urn:pbr:schema:term-calendar:1.1', ['name', 'terms'])
    >>> schema["properties"]["terms"]["items"]["required"]
    ['academic_year', 'term', 'start', 'end']
    """
    from pbr._record_checks import UNSPACED_CONTROL_FREE
    from pbr.calendars import COLUMNS, MAX_NAME
    from pbr.periods import TERMS

    def day(which: str) -> dict[str, Any]:
        return {
            "description": f"The term's {which} day (ISO 8601, 1900-01-01 to 2099-12-31).",
            "type": "string",
            "format": "date",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        }

    term = {
        "title": "Term",
        "description": (
            "One term's dates, replacing the default ones (autumn 1 Sep - 31 Dec, spring "
            "1 Jan - 31 Mar, summer 1 Apr - 31 Jul). Both within the academic year (1 August to "
            "31 August a year later), start not after end, and no two terms overlapping or out "
            "of order (a term not given keeps the default dates): pbr checks these."
        ),
        "type": "object",
        "properties": {
            "academic_year": {
                "description": (
                    "The academic year, two consecutive years written like 2012/13, from "
                    "1900/01 to 2098/99."
                ),
                "type": "string",
                "pattern": _ACADEMIC_YEARS,
            },
            "term": {"description": "Which term of the year.", "enum": list(TERMS)},
            "start": day("first"),
            "end": day("last"),
        },
        "required": list(COLUMNS),
        "additionalProperties": False,
    }
    schema = {
        "title": "TermCalendar",
        "description": (
            "A council's own school term dates, which decisions reading those terms name; "
            "terms not given keep the default dates."
        ),
        "$comment": ("pbr also refuses a term given twice, and a key given twice in one object."),
        "type": "object",
        "properties": {
            "name": {
                "description": (
                    "The council's name for the calendar, which decisions give: no control "
                    "character, line or paragraph separator or format character (as a family "
                    "record's text), no space at either end, and not 'default' or 'own' (in any "
                    "case)."
                ),
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_NAME,
                "pattern": UNSPACED_CONTROL_FREE,
                "not": {"pattern": "^([Dd][Ee][Ff][Aa][Uu][Ll][Tt]|[Oo][Ww][Nn])$"},
            },
            "terms": {
                "description": "The terms given their own dates: at least one.",
                "type": "array",
                "minItems": 1,
                "items": term,
            },
        },
        "required": ["name", "terms"],
        "additionalProperties": False,
    }
    return _head("term-calendar", TERM_CALENDAR_FORMAT_VERSION, schema)


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
