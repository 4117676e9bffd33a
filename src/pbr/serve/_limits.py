"""Request size and time limits: 413 for a body over its limit, 408 for one too slow to arrive.

A body pbr cannot read as sent is a 415 before any of it is read: one with a Content-Encoding
(gzip, say: every line would be rejected as "not UTF-8") or a charset other than UTF-8. A body
that says nothing of it but is not lines of UTF-8 text (UTF-16, compressed, lines ended by CR
alone) is a 415 once its start is read (`unreadable_body`), as ``pbr evaluate`` refuses the file.

A declared ``Content-Length`` over the limit is refused before anything is read; a body sent
without one is counted as it arrives. One-family requests and audits must arrive whole within
the timeout; a batch may take longer in all, but never waits more than the timeout for the next
part of its body. Both answers close the connection, since the rest of the body is not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pbr._unreadable import TEXT_HEAD_BYTES, not_line_text
from pbr.serve._problems import ProblemError, send_problem

__all__ = ["BodyTimeout", "BodyTooLarge", "Limits", "told_by", "unreadable_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_CLOSE = {"Connection": "close"}


class BodyTooLarge(ProblemError):
    """The request body is larger than its limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request body is larger than the limit of {limit:,} bytes", headers=_CLOSE
        )


class BodyTimeout(ProblemError):
    """The request body did not arrive in time (408)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408, f"the request body did not arrive within {seconds:g} seconds", headers=_CLOSE
        )


class Limits:
    """ASGI middleware: each path's body limit, and the time allowed to receive a body."""

    def __init__(
        self,
        app: App,
        *,
        record_bytes: int,
        upload_bytes: int,
        upload_paths: frozenset[str],
        timeout: float,
        streaming_paths: frozenset[str],
    ) -> None:
        self.app = app
        self.record_bytes = record_bytes
        self.upload_bytes = upload_bytes
        self.upload_paths = upload_paths
        self.timeout = timeout
        self.streaming_paths = streaming_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        record = path not in self.upload_paths
        limit = self.record_bytes if record else self.upload_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit + (_NOT_THE_RECORDS if record else 0):
            await send_problem(send, 413, BodyTooLarge(limit).detail, _CLOSE)
            return
        unreadable = _unreadable(scope)
        if unreadable is not None:
            await send_problem(send, 415, unreadable, _CLOSE)
            return
        whole = path not in self.streaming_paths
        body = _Body(receive, limit, self.timeout, whole=whole, mark_free=record)
        await self.app(scope, body.receive, send)


_BOM = b"\xef\xbb\xbf"
_NOT_THE_RECORDS = len(_BOM) + len(b"\r\n")
"""The most bytes of a one-record body that are not its record: a leading mark, a line end."""


class _Body:
    r"""`receive`, counting the bytes and watching the clock.

    With `mark_free` (a body that is one record), a leading byte-order mark and one line end
    (``\n`` or ``\r\n``) at its end are not counted: they are no part of the record, as
    ``pbr evaluate`` does not count them in a file (``head -1 file.jsonl`` leaves the \n on).
    """

    def __init__(
        self, receive: Receive, limit: int, timeout: float, *, whole: bool, mark_free: bool = False
    ) -> None:
        self._receive = receive
        self._limit = limit
        self._start: bytes | None = b"" if mark_free else None
        self._timeout = timeout
        self._whole = whole
        self._deadline: float | None = None
        self._received = 0
        self._last = b""  # the body's last two bytes so far, for its line end
        self._done = False

    async def receive(self) -> Message:
        if self._done:  # the body is in: what follows is the client leaving, whenever it does
            return await self._receive()
        loop = asyncio.get_running_loop()
        if self._deadline is None or not self._whole:
            self._deadline = loop.time() + self._timeout
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise BodyTimeout(self._timeout) from None
        if message["type"] == "http.request":
            data = message.get("body", b"")
            self._received += len(data)
            self._done = not message.get("more_body", False)
            if self._received - self._not_the_records(data) > self._limit:
                raise BodyTooLarge(self._limit)
        return message

    def _not_the_records(self, data: bytes) -> int:
        """The bytes received so far that are no part of a one-record body's record.

        A mark at its start (`_mark`); and its last line end once the body is in, or the most
        one could be (2 bytes) until then, so that no body that might fit is cut short.
        """
        if self._start is None:
            return 0
        self._last = (self._last + data)[-2:]
        if not self._done:
            return self._mark(data) + 2
        end = 2 if self._last == b"\r\n" else 1 if self._last.endswith(b"\n") else 0
        return self._mark(data) + end

    def _mark(self, data: bytes) -> int:
        """The bytes of a leading byte-order mark among those received so far (0 to 3)."""
        if self._start is None:
            return 0
        if len(self._start) < len(_BOM):
            self._start += data[: len(_BOM) - len(self._start)]
        return len(_BOM) if self._start == _BOM else 0


_UTF8 = frozenset({"utf-8", "utf8", "us-ascii"})
"""The charsets a body may declare: UTF-8, and ASCII, which is UTF-8."""


def _unreadable(scope: Scope) -> str | None:
    """Why the body cannot be read as it is sent (its encoding or charset), or None."""
    for name, raw in scope.get("headers", ()):
        value = raw.decode("latin-1").strip()
        if name == b"content-encoding" and value.lower() not in ("", "identity"):
            return (
                f"Content-Encoding {value[:40]!r} is not accepted: send the body as it is, "
                "uncompressed"
            )
        if name == b"content-type":
            for parameter in value.split(";")[1:]:
                key, _, given = parameter.partition("=")
                charset = given.strip().strip('"').lower()
                if key.strip().lower() == "charset" and charset not in _UTF8:
                    return (
                        f"Content-Type says charset={charset[:40]!r}: pbr reads bodies as "
                        "UTF-8; send UTF-8 (or say nothing of the charset)"
                    )
    return None


def told_by(start: bytes | bytearray) -> bool:
    """Whether a body's first bytes say as much as its first 64 KiB of whether it is line text.

    A line end (with the few bytes a compression's or UTF-16's mark takes) settles it: only a
    body without one can be of lines ended by CR alone, or nothing but NUL bytes.
    """
    return len(start) >= TEXT_HEAD_BYTES or (len(start) >= _MARKS and b"\n" in start)


_MARKS = 8
"""Bytes enough for any mark `not_line_text` looks for at a start (xz's is the longest, 6)."""


def unreadable_body(start: bytes) -> str | None:
    """Why a body starting so is not lines of UTF-8 text, as ``pbr evaluate`` says of a file.

    >>> unreadable_body("{}".encode("utf-16"))
    'the request body is UTF-16: save it as UTF-8'
    """
    return not_line_text("the request body", start[:TEXT_HEAD_BYTES])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
