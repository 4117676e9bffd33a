"""Check an answer of `pbr serve` against its own OpenAPI document: status, body and headers."""

from __future__ import annotations

import json
from typing import Any

import httpx
from jsonschema import Draft202012Validator

__all__ = ["conforms"]

_FRAMING = {"content-type", "content-length", "transfer-encoding", "connection", "date", "vary"}
"""Headers of HTTP itself, which OpenAPI does not describe."""


def conforms(document: dict[str, Any], response: httpx.Response) -> None:
    """Assert that `response` is an answer `document` describes, headers included.

    An answer to a path or method the document does not have is its `Problem` response.
    """
    request = response.request
    if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
        return  # a CORS preflight (--cors-origin), answered by the CORS middleware, not the API
    method = "get" if request.method == "HEAD" else request.method.lower()
    operation = document["paths"].get(request.url.path, {}).get(method)
    answers = operation["responses"] if operation else {}
    status = str(response.status_code)
    answer = _resolved(document, answers.get(status) or answers.get("default") or _OTHER)
    where = (request.method, request.url.path, status)
    if request.method != "HEAD" and response.content:
        _body_conforms(document, answer, response, where)
    declared = {name.lower(): _resolved(document, h) for name, h in answer["headers"].items()}
    for name in response.headers:
        assert name in declared or name in _FRAMING or name.startswith("access-control-"), (
            *where,
            f"header {name} is not in the document",
        )
    for name, header in declared.items():
        if header.get("required"):
            assert name in response.headers, (*where, f"header {name} is missing")
        if name in response.headers:
            _valid(document, header["schema"], response.headers[name], (*where, name))


_OTHER = {"$ref": "#/components/responses/Problem"}


def _body_conforms(
    document: dict[str, Any], answer: dict[str, Any], response: httpx.Response, where: Any
) -> None:
    media = response.headers["content-type"].split(";")[0].strip()
    assert media in answer["content"], (*where, media)
    schema = answer["content"][media]["schema"]
    if media == "application/x-ndjson":
        for line in response.text.splitlines():
            _valid(document, schema, json.loads(line), where)
    elif media.endswith("json"):
        _valid(document, schema, response.json(), where)


def _resolved(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        target: Any = document
        for key in item["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        item = target
    return item


def _valid(document: dict[str, Any], schema: dict[str, Any], value: Any, where: Any) -> None:
    errors = list(
        Draft202012Validator({**schema, "components": document["components"]}).iter_errors(value)
    )
    assert not errors, (*where, errors[0].message[:300])
