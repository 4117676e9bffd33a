"""Errors as RFC 9457 problem details (``application/problem+json``), never a traceback.

.NET (``ProblemDetails``) and Spring (``ProblemDetail``) read this shape natively. A rejected
family is not a problem: it is answered with its `pbr.Rejection` (422).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from http import HTTPStatus
from typing import Any

__all__ = ["PROBLEM_TYPE", "ProblemError", "problem_body", "send_problem"]

PROBLEM_TYPE = "application/problem+json"

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem of this status."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def problem_body(status: int, detail: str) -> bytes:
    """The JSON body of a problem of `status`.

    >>> problem_body(413, "too big")
    b'{"type":"about:blank","title":"Request Entity Too Large","status":413,"detail":"too big"}'
    """
    from pbr.serve._models import Problem

    title = HTTPStatus(status).phrase
    return Problem(title=title, status=status, detail=detail).model_dump_json().encode()


async def send_problem(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    """Answer with a problem straight through ASGI (from middleware, before any route runs)."""
    body = problem_body(status, detail)
    raw = [
        (b"content-type", PROBLEM_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
