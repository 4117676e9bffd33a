"""The OpenAPI document: FastAPI's paths and parameters, with bodies and answers from the models.

Request and response bodies are read and written by the library, not by FastAPI, so their
schemas are added here from the same models (`pbr.Family`, `pbr.Decision`, `pbr.Rejection` and
the server's own), with examples the library makes (`pbr.serve._examples`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pbr.decisions import Decision
from pbr.io import Rejection
from pbr.records import Family
from pbr.schemas import tidy_descriptions
from pbr.serve import _examples, _models
from pbr.serve._problems import PROBLEM_TYPE

__all__ = ["body", "components", "finish", "json_answer", "problems", "ref"]

_TEMPLATE = "#/components/schemas/{model}"
_HEADERS: dict[str, dict[str, Any]] = {
    "X-Pbr-Version": {
        "description": "The version of pbr that answered.",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-Pbr-Rules-Hash": {
        "description": "The hash of the rules in force for this request (see /v1/rules).",
        "required": True,
        "schema": {"type": "string"},
    },
    "X-Pbr-Ledger-Head": {
        "description": "The payments ledger's head hash, on answers that used it (--ledger).",
        "schema": {"type": "string"},
    },
    "X-Content-Type-Options": {
        "description": "Always nosniff.",
        "required": True,
        "schema": {"type": "string", "const": "nosniff"},
    },
    "Cache-Control": {
        "description": "Always no-store: answers can hold family data.",
        "required": True,
        "schema": {"type": "string", "const": "no-store"},
    },
    "WWW-Authenticate": {
        "description": "On a 401: the scheme a token is sent in, Bearer.",
        "schema": {"type": "string", "pattern": "^Bearer "},
    },
    "Allow": {
        "description": "On a 405: the methods the path takes.",
        "schema": {"type": "string"},
    },
    "Content-Disposition": {
        "description": "On a CSV, Markdown or XLSX report: an attachment named audit.FORMAT.",
        "schema": {"type": "string"},
    },
    "Content-Security-Policy": {
        "description": "On an HTML report: no scripts, no requests, inline styles only.",
        "schema": {"type": "string"},
    },
}
_ON_EVERY_ANSWER = {
    name: {"$ref": f"#/components/headers/{name}"}
    for name in (
        "X-Pbr-Version",
        "X-Pbr-Rules-Hash",
        "X-Pbr-Ledger-Head",
        "X-Content-Type-Options",
        "Cache-Control",
    )
}
_ON_SOME_ANSWERS = {
    ("/v1/audit", "200"): ("Content-Disposition", "Content-Security-Policy"),
    ("*", "401"): ("WWW-Authenticate",),
    ("*", "default"): ("Allow", "WWW-Authenticate"),  # a 401 on a path the API does not have
}
"""(path or "*", status) to the headers only those answers carry."""
_RESPONSE_MODELS: list[type[BaseModel]] = [
    Decision,
    Rejection,
    _models.Problem,
    _models.Health,
    _models.BatchRejected,
    _models.BatchSummary,
    _models.Explained,
    _models.AuditReport,
    _models.RulesDocument,
]


def ref(model: type[BaseModel]) -> dict[str, str]:
    """A reference to `model`'s schema in the components."""
    return {"$ref": _TEMPLATE.format(model=model.__name__)}


def components() -> dict[str, Any]:
    """The schemas of every body the server reads or writes, from their models.

    Their descriptions are cut to their first paragraph, as ``GET /v1/schema/family`` gives
    them: the docstrings' examples and tracebacks are for Python readers.
    """
    _, schemas = models_json_schema(
        [(Family, "validation"), *((m, "serialization") for m in _RESPONSE_MODELS)],
        ref_template=_TEMPLATE,
    )
    tidied: dict[str, Any] = tidy_descriptions(schemas.get("$defs", {}))
    return tidied


def json_lines(model: type[BaseModel]) -> dict[str, Any]:
    """The schema of a JSON Lines body of `model`s: a text (OpenAPI 3.1 has no schema per line)."""
    return {
        "type": "string",
        "description": f"JSON Lines: one {model.__name__} per line "
        f"(see {_TEMPLATE.format(model=model.__name__)}).",
    }


def json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An answer with a JSON body."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Problem answers for `statuses`."""
    from http import HTTPStatus

    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_TYPE: {"schema": ref(_models.Problem)}},
        }
        for status in statuses
    }


def body(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its body itself."""
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


def family_body() -> dict[str, Any]:
    """The body of a one-family request: a family record."""
    return body("application/json", ref(Family))


def audit_body() -> dict[str, Any]:
    """The body of an audit: a multipart form of files and interpretations."""
    files = {"type": "array", "items": {"type": "string", "format": "binary"}}
    form = {
        "type": "object",
        "required": ["claims", "families"],
        "properties": {
            "claims": {"type": "string", "format": "binary"},
            "families": files,
            "plan": files,
            "interpretation": {"type": "array", "items": {"type": "string"}},
        },
    }
    return body("multipart/form-data", form)


def _examples_by_place() -> dict[tuple[str, str, str], Any]:
    """(path, answer status or "request", media type) to the example there.

    Added after FastAPI has built the document, which drops every null from examples.
    """
    import json

    family, decision, rejection = _examples.FAMILY, _examples.decision(), _examples.rejection()
    return {
        ("/v1/evaluate", "request", "application/json"): family,
        ("/v1/evaluate", "200", "application/json"): decision,
        ("/v1/evaluate", "422", "application/json"): rejection,
        ("/v1/evaluate/batch", "request", "application/x-ndjson"): json.dumps(family) + "\n",
        ("/v1/explain", "request", "application/json"): family,
        ("/v1/explain", "422", "application/json"): rejection,
    }


_ANY_PATH = (400, 413, 415, 500)
"""Problems any path may answer, whatever the endpoint: an unknown query parameter (or a
``Host`` the server does not answer) (400), a body declared over
its limit (413), sent compressed or in a charset other than UTF-8 (415; `Limits`, which reads
only the headers, so a GET with such headers gets them too), and a fault in pbr (500, `Guard`)."""


def _headers(path: str, status: str) -> dict[str, Any]:
    """The headers of the answer `status` of `path`: those of every answer, and its own."""
    own = [*_ON_SOME_ANSWERS.get((path, status), ()), *_ON_SOME_ANSWERS.get(("*", status), ())]
    return _ON_EVERY_ANSWER | {name: {"$ref": f"#/components/headers/{name}"} for name in own}


def _other_problem() -> dict[str, Any]:
    """Any other answer: a problem, such as a 404 for an unknown path or a 405 (with Allow)."""
    return {
        "description": "Any other error, as a problem: an unknown path (404), a method the "
        "path does not take (405, with Allow), or, with a token, a 401 on a path the API does "
        "not have.",
        "headers": _headers("*", "default"),
        "content": {PROBLEM_TYPE: {"schema": ref(_models.Problem)}},
    }


def finish(document: dict[str, Any], *, token: bool) -> dict[str, Any]:
    """Add the components, the headers, the middleware's problems and a token's security scheme.

    Every answer declares the headers the server sends on it; every operation has a `default`
    problem for the answers no operation has (404, 405), as `components/responses/Problem`.

    The middleware answers before any endpoint: `_ANY_PATH`'s problems on every path, and with
    a token a 401 on every path but ``/v1/health``. FastAPI documents a 422 "validation error" for any route
    with parameters; here a bad parameter is a 400 problem and a 422 is a rejected family, so
    those entries go.
    """
    parts = document.setdefault("components", {})
    schemas = parts.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(components())
    parts["headers"] = _HEADERS
    for (path, where, media), example in _examples_by_place().items():
        (operation,) = document["paths"][path].values()
        place = operation["requestBody"] if where == "request" else operation["responses"][where]
        place["content"][media]["example"] = example
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            wrong = answers.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(wrong.get("schema", "")):
                del answers["422"]
            for status, answer in problems(*_ANY_PATH).items():
                answers.setdefault(str(status), answer)
            if token and path != "/v1/health":
                answers.update({str(k): v for k, v in problems(401).items()})
                operation["security"] = [{"bearer": []}]
            answers["default"] = {"$ref": "#/components/responses/Problem"}
            operation["responses"] = answers = dict(sorted(answers.items()))
            for status, answer in answers.items():
                if status != "default":
                    answer.setdefault("headers", {}).update(_headers(path, status))
    parts["responses"] = {"Problem": _other_problem()}
    if token:
        parts["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "--token-file"}
        }
    return document
