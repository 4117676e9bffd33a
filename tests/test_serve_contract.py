"""The API against its own OpenAPI document (schemathesis): no 500s, every answer as documented.

Bounded: a few examples per operation and no deadline per example; the whole file takes tens of
seconds. The checks are the ones a contract makes: no server error, documented statuses,
content types, headers and bodies. (Schema-valid data is not always accepted: a family record
can be well formed and still rejected, 422, by the record's cross-field rules.)
"""

from __future__ import annotations

import json
from pathlib import Path
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


TOKEN = "correct-horse-battery-staple-16"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nowhere"),
        ("POST", "/v1/evaluate/"),
        ("GET", "/v1/evaluate"),
        ("OPTIONS", "/v1/evaluate"),
        ("DELETE", "/v1/health"),
        ("HEAD", "/v1/health"),
        ("HEAD", "/v1/rules"),
        ("HEAD", "/openapi.json"),
        ("GET", "/v1/rules"),
    ],
)
@pytest.mark.parametrize("token", [None, TOKEN])
def test_answers_off_the_documented_operations_are_in_the_document(
    tmp_path: Path, method: str, path: str, token: str | None
) -> None:
    """404 and 405 problems, HEAD, a 401 with its WWW-Authenticate, and X-Pbr-Ledger-Head were
    sent but not described: `call` checks every answer against the document, headers too."""
    from datetime import date
    from decimal import Decimal

    from pbr.ledger import Entry, Ledger
    from tests.serve_support import call

    ledger = tmp_path / "ledger.db"
    Ledger(ledger).append(
        [Entry("EX-001", "attachment_fee", Decimal("3200.00"), date(2014, 1, 6), "L-1", "v")]
    )
    app = create_app(Settings(token=token, ledger=ledger))
    for headers in ({}, {"Authorization": f"Bearer {token}"} if token else {}):
        answer = call(app, method, path, headers=headers)
        assert answer.status_code < 500


@pytest.mark.parametrize("report", ["json", "html", "md", "csv", "xlsx"])
def test_every_audit_report_is_in_the_document(report: str) -> None:
    """Content-Disposition (csv, md, xlsx) and Content-Security-Policy (html) were undeclared."""
    from tests.serve_support import EXAMPLES, call

    files = {
        "claims": ("claims.csv", (EXAMPLES / "claims.csv").read_bytes()),
        "families": ("families.jsonl", (EXAMPLES / "families.jsonl").read_bytes()),
    }
    answer = call(create_app(), "POST", "/v1/audit", params={"format": report}, files=files)
    assert answer.status_code == 200
