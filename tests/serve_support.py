"""Helpers for the `pbr serve` tests: call the app through httpx's ASGI transport, run the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

import pbr
from pbr.cli import main
from tests.builders import generated as generated
from tests.openapi_check import conforms

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BASE = "http://127.0.0.1"


def call(app: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to `app` through the ASGI transport (the answer read in full).

    Every answer is checked against the app's own OpenAPI document, headers included.
    """

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.request(method, url, **kwargs)

    response = asyncio.run(go())
    if hasattr(app, "openapi"):
        conforms(app.openapi(), response)
    return response


async def chunks(parts: Iterable[bytes], pause: float = 0.0) -> AsyncIterator[bytes]:
    """A request body sent in these parts (chunked, no Content-Length), `pause` s apart."""
    for n, part in enumerate(parts):
        if pause and n:
            await asyncio.sleep(pause)
        yield part


def cli(*argv: str) -> tuple[int, str, str]:
    """Run ``pbr ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def library_json(line: str | bytes, as_of: date, **options: Any) -> str | dict[str, Any]:
    """What the library makes of one record: the decision's JSON text, or the rejection's data.

    The record goes in as text, as ``pbr evaluate`` reads it.
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8")
    (done,) = pbr.evaluate_many([line], as_of=as_of, source="<request>", **options)
    if isinstance(done, pbr.Rejection):
        return done.model_dump(mode="json")
    return done.model_dump_json()


def lines_of(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines()]
