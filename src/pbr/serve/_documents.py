"""The documents the server hands out as they are: JSON Schemas and the rule sets.

They are taken from the ``pbr`` command itself, so that they are always the same bytes as
``pbr schema`` and ``pbr rules --format json`` print.
"""

from __future__ import annotations

import contextlib
import io
import json
from functools import cache
from typing import Any

__all__ = ["decision_schema", "family_schema", "rule_sets"]


def _printed(*argv: str) -> str | None:
    """What ``pbr ARGV`` prints, or None when the command does not take these arguments."""
    from pbr.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
    except SystemExit:
        return None
    return out.getvalue() if status == 0 else None


@cache
def family_schema() -> bytes:
    """The family record's JSON Schema, as ``pbr schema`` prints it."""
    printed = _printed("schema")
    if printed is None:  # pragma: no cover - the command always has it
        from pbr.records import Family

        return json.dumps(Family.model_json_schema(), indent=2).encode()
    return printed.encode()


@cache
def decision_schema() -> bytes:
    """The decision's JSON Schema: ``pbr schema --decision`` where the command has it."""
    printed = _printed("schema", "--decision")
    if printed is None:
        from pbr.decisions import Decision

        return json.dumps(Decision.model_json_schema(mode="serialization"), indent=2).encode()
    return printed.encode()


@cache
def rule_sets() -> Any:
    """Every rule set, as ``pbr rules --format json`` prints it."""
    printed = _printed("rules", "--format", "json")
    if printed is None:  # pragma: no cover - the command always has it
        raise RuntimeError("pbr rules --format json failed")
    return json.loads(printed)
