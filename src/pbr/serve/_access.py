"""Who may call: the ``Host`` names served, and the bearer token compared in constant time.

A server bound to a non-loopback address must have a token (`pbr.serve._settings.check_bind`).
The token is
compared as SHA-256 digests with `hmac.compare_digest`, so the time taken says nothing about
how much of a guess was right, nor about the token's length. ``/v1/health`` answers without a
token (it shows only the version and the rules hash), so that a load balancer can probe it.
"""

from __future__ import annotations

import hashlib
import hmac

from pbr.serve._limits import App, Receive, Scope, Send
from pbr.serve._problems import send_problem

__all__ = ["OPEN_PATHS", "Access"]

OPEN_PATHS = frozenset({"/v1/health"})
"""Paths answered without a token."""


def _digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


class Access:
    """ASGI middleware: answer only the allowed ``Host`` names, and only with the token."""

    def __init__(self, app: App, *, token: str | None, allowed_hosts: tuple[str, ...]) -> None:
        self.app = app
        self._digest = _digest(token.encode()) if token is not None else None
        self._any_host = "*" in allowed_hosts
        self._hosts = frozenset(h.lower().strip("[]") for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        if not self._any_host:
            host = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in self._hosts:
                await send_problem(
                    send,
                    400,
                    f"this server answers requests for {', '.join(sorted(self._hosts))} only",
                )
                return
        if self._digest is not None and scope["path"] not in OPEN_PATHS:
            given = headers.get(b"authorization", b"")
            scheme, _, token = given.partition(b" ")
            ok = scheme.lower() == b"bearer" and hmac.compare_digest(
                _digest(token.strip()), self._digest
            )
            if not ok:
                await send_problem(
                    send,
                    401,
                    "this server needs the header 'Authorization: Bearer <token>'"
                    if not given
                    else "the bearer token is not this server's",
                    {"WWW-Authenticate": 'Bearer realm="pbr"'},
                )
                return
        await self.app(scope, receive, send)


def _host_name(header: str) -> str:
    """The name in a ``Host`` header: ``[::1]:8000`` is ``::1``, ``localhost:8000`` ``localhost``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
