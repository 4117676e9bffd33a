"""Around every request: the pbr version and rules hash on the answer, no traceback, one log line.

A HEAD request is answered as its GET, without the body, wherever GET is.

Routes put the rules hash of the rules they used (and the ledger's head) in the ASGI scope;
other answers name the server's default rules hash. An error that escapes a route is answered
with a 500 problem that quotes an error id, and logged by type and place only (`failure`).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import ClientDisconnect

from pbr.serve._limits import App, Message, Receive, Scope, Send
from pbr.serve._logs import LOGGER, failure
from pbr.serve._problems import send_problem

__all__ = ["COUNTS_KEY", "HASH_KEY", "HEAD_KEY", "LOG_KEY", "Guard"]

HASH_KEY = "pbr.rules_hash"
"""Scope key: the rules hash of the rules a request used."""
HEAD_KEY = "pbr.ledger_head"
"""Scope key: the head of the payments ledger a request used."""
LOG_KEY = "pbr.log"
"""Scope key: the family id of a one-family request, logged only when ids are logged."""
COUNTS_KEY = "pbr.counts"
"""Scope key: a batch's counts (records, evaluated, rejected), always logged."""


class Guard:
    """ASGI middleware: response headers, errors as 500 problems, the access log."""

    def __init__(
        self, app: App, *, version: str, rules_hash: str, access_log: bool, log_ids: bool
    ) -> None:
        self.app = app
        self.version = version.encode()
        self.rules_hash = rules_hash
        self.access_log = access_log
        self.log_ids = log_ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "bytes": 0}
        method = scope["method"]
        if method == "HEAD":  # GET's answer, headers and all, without its body (RFC 9110 9.3.2)
            scope = {**scope, "method": "GET"}

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = [
                    *(
                        _with_head(h) if message["status"] == 405 else h
                        for h in message.get("headers", ())
                    ),
                    *self._headers(scope),
                ]
            elif message["type"] == "http.response.body":
                if method == "HEAD":
                    message = {**message, "body": b""}
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except ClientDisconnect:
            state["status"] = state["status"] or "gone"  # nobody to answer
        except Exception as exc:
            error_id = failure(exc, f"{method} {scope['path']}")
            if not state["status"]:
                await send_problem(
                    guarded_send,
                    500,
                    f"pbr could not answer this request (error {error_id} in the server's log)",
                )
        if self.access_log:
            self._log(method, scope, state, time.perf_counter() - started)

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-pbr-version", self.version),
            (b"x-pbr-rules-hash", scope.get(HASH_KEY, self.rules_hash).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store"),
        ]
        head = scope.get(HEAD_KEY)
        if head is not None:
            headers.append((b"x-pbr-ledger-head", head.encode()))
        return headers

    def _log(self, method: str, scope: Scope, state: dict[str, Any], seconds: float) -> None:
        extras = [scope.get(COUNTS_KEY), scope.get(LOG_KEY) if self.log_ids else None]
        extra = " ".join(e for e in extras if e)
        LOGGER.info(
            "%s %s %s %dB %.1fms%s",
            method,
            scope["path"],
            state["status"],
            state["bytes"],
            seconds * 1000,
            f" {extra}" if extra else "",
        )


def _with_head(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    """A 405's ``Allow`` with HEAD where it has GET: HEAD is answered wherever GET is.

    >>> _with_head((b"allow", b"GET")), _with_head((b"allow", b"POST"))
    ((b'allow', b'GET, HEAD'), (b'allow', b'POST'))
    """
    name, value = header
    methods = [m.strip() for m in value.split(b",")]
    if name.lower() != b"allow" or b"GET" not in methods or b"HEAD" in methods:
        return header
    return name, b", ".join([*methods, b"HEAD"])
