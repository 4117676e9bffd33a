"""The API against its own OpenAPI document (schemathesis): no 500s, every answer as documented.

Bounded: a few examples per operation and no deadline per example; the whole file takes tens of
seconds. The checks are the ones a contract makes: no server error, documented statuses,
content types, headers and bodies. (Schema-valid data is not always accepted: a family record
can be well formed and still rejected, 422, by the record's cross-field rules.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pbr.serve import Settings, create_app

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx: Any, value: Any) -> bytes:
    """A generated batch body: one JSON value per line."""
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


APP = create_app(Settings(allowed_hosts=("testserver",), timeout=10))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)


@SCHEMA.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_its_own_contract(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
