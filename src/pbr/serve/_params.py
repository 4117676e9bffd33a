"""Query parameters: declared once, read strictly, documented in the OpenAPI document.

Read here rather than by FastAPI: a parameter FastAPI reads costs about 25 µs a request, and a
date must be exactly ``YYYY-MM-DD`` (no week dates, no timestamps). An unknown or repeated
parameter is an error that names it, so that a typo (``asof=``) never passes unnoticed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from starlette.requests import Request

from pbr._scalars import date_from_text
from pbr.serve._problems import ProblemError

__all__ = [
    "AS_OF",
    "AUDIT",
    "EVALUATE",
    "EXPLAIN",
    "RULES",
    "Param",
    "as_of",
    "documented",
    "read",
]


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter: its name, what it is, and what values it takes."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False
    repeat: bool = False
    example: str | None = None
    hint: str = ""
    """What a good value looks like, for the error message."""

    def check(self, value: str) -> str:
        """`value`, if it fits the schema's length, enum, integer bounds and pattern.

        Raises:
            ProblemError: 400 saying what is wrong: its length, its range, or its form.

        """
        schema = self.schema
        longest = schema.get("maxLength", 10_000)
        if len(value) > longest:
            raise ProblemError(
                400, f"{self.name}: {len(value):,} characters long; at most {longest} are allowed"
            )
        if "enum" in schema:
            fits = value in schema["enum"]
        elif schema.get("type") == "integer":
            fits = value.isdigit() and value.isascii()
            if fits:
                self._within(value, schema.get("minimum", 0), schema.get("maximum", 10**9))
        else:
            fits = re.fullmatch(schema.get("pattern", ".*"), value) is not None
        if fits:
            return value
        hint = f"one of {', '.join(schema['enum'])}" if "enum" in schema else self.hint
        raise ProblemError(400, f"{self.name}: {value[:80]!r} is not allowed; expected {hint}")

    def _within(self, digits: str, low: int, high: int) -> None:
        """Refuse a whole number outside `low`..`high`, saying which bound it passes."""
        shown = digits if len(digits) <= 20 else f"{digits[:20]}..."
        if (
            len(digits.lstrip("0")) > len(str(high)) or int(digits) > high
        ):  # no int() of 5,000 digits
            raise ProblemError(400, f"{self.name}: {shown} is more than {high:,}")
        if int(digits) < low:
            raise ProblemError(400, f"{self.name}: {shown} is less than {low:,}")

    def document(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        schema: dict[str, Any] = dict(self.schema)
        if self.repeat:
            schema = {"type": "array", "items": schema}
        parameter: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.description,
            "schema": schema,
        }
        if self.repeat:
            parameter |= {"style": "form", "explode": True}
        if self.example is not None:
            parameter["example"] = [self.example] if self.repeat else self.example
        return parameter


AS_OF = Param(
    "as_of",
    "The evaluation date, YYYY-MM-DD (one the rule sets can evaluate at).",
    {"type": "string", "format": "date"},
    required=True,
    example="2015-03-31",
)
INTERPRETATION = Param(
    "interpretation",
    "Switch an interpretation, ID=VALUE, in every rule set that has it (see /v1/rules).",
    {"type": "string", "pattern": r"^[^=]+=.+$", "maxLength": 200},
    repeat=True,
    example="employment_weeks=all_13",
    hint="ID=VALUE",
)
PLAN = Param(
    "plan",
    "Use the outcome plan the server loaded with this label (id/version) for its programme "
    "(one per programme).",
    {"type": "string", "maxLength": 200},
    repeat=True,
    hint="a plan label, id/version, of at most 200 characters",
)
EVALUATE = (AS_OF, INTERPRETATION, PLAN)
EXPLAIN = (
    *EVALUATE,
    Param("format", "The working paper as text (default) or JSON.", {"enum": ["text", "json"]}),
)
RULES = (INTERPRETATION, PLAN)
AUDIT = (
    Param(
        "as_of",
        "The date for missed claims, YYYY-MM-DD (default: the last claim date).",
        {"type": "string", "format": "date"},
    ),
    INTERPRETATION,
    PLAN,
    Param(
        "format",
        "The report: json (default), html, md, csv or xlsx.",
        {"enum": ["json", "html", "md", "csv", "xlsx"]},
    ),
    Param(
        "sample",
        "Draw a spot-check sample of this many claims.",
        {"type": "integer", "minimum": 1, "maximum": 1_000_000_000},
        hint="a whole number from 1",
    ),
    Param(
        "fraction",
        "Draw this fraction of each stratum instead (e.g. 0.1).",
        {"type": "string", "pattern": r"^(0?\.[0-9]+|1(\.0*)?)$", "maxLength": 20},
        hint="a decimal fraction above 0 and at most 1, such as 0.1",
    ),
    Param(
        "seed",
        "The sample's seed (any printable text; default 0); with sample or fraction only.",
        {"type": "string", "maxLength": 200},
        hint="at most 200 characters",
    ),
    Param(
        "strata",
        "Claim fields to stratify the sample by, comma-separated (default kind); with sample or "
        "fraction only.",
        {"type": "string", "maxLength": 200},
        hint="at most 200 characters",
    ),
)


def read(request: Request, params: Sequence[Param]) -> dict[str, list[str]]:
    """The request's query parameters, checked against `params`.

    Raises:
        ProblemError: 400 for an unknown, repeated, missing or unsuitable parameter.

    """
    known = {p.name: p for p in params}
    found: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        param = known.get(name)
        if param is None:
            names = ", ".join(known) or "none"
            raise ProblemError(400, f"unknown parameter {name[:40]!r}; this endpoint takes {names}")
        values = found.setdefault(name, [])
        if values and not param.repeat:
            raise ProblemError(400, f"{name}: give it once")
        values.append(param.check(value))
    for param in params:
        if param.required and param.name not in found:
            raise ProblemError(400, f"{param.name}: required ({param.description})")
    return found


def documented(params: Sequence[Param]) -> dict[str, Any]:
    """``openapi_extra`` declaring `params`."""
    return {"parameters": [p.document() for p in params]}


def as_of(values: Mapping[str, list[str]], name: str = "as_of") -> date | None:
    """The date given as `name`: exactly ``YYYY-MM-DD``, one pbr evaluates at; None if absent.

    Which dates pbr can evaluate at is the library's to say: the date is tried once on an
    example family, and what the library says of a date it refuses is the answer.

    >>> as_of({"as_of": ["2015-03-31"]})
    datetime.date(2015, 3, 31)
    >>> as_of({"as_of": ["2015-W13-2"]})
    Traceback (most recent call last):
    ...
    pbr.serve._problems.ProblemError: as_of: not a date (YYYY-MM-DD): '2015-W13-2'
    """
    if name not in values:
        return None
    (text,) = values[name]
    when = date_from_text(text)
    if when is None:
        raise ProblemError(400, f"{name}: not a date (YYYY-MM-DD): {text[:40]!r}")
    refused = _refused(when)
    if refused is not None:
        raise ProblemError(400, f"{name}: {refused}")
    return when


@lru_cache(maxsize=4096)
def _refused(when: date) -> str | None:
    """Why the library cannot evaluate at `when`, or None when it can."""
    from pbr.batch import evaluate_many_json
    from pbr.serve._examples import FAMILY

    try:
        list(evaluate_many_json([json.dumps(FAMILY)], as_of=when, workers=1))
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        return f"pbr cannot evaluate at {when}: {exc}"
    return None
