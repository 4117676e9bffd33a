"""The server's settings: the rules in force, the ledger, the token, the limits, CORS, logging."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pbr._arguments import interpretation_choice

if TYPE_CHECKING:
    from pbr.periods import TermCalendar
    from pbr.plans import OutcomePlan

__all__ = [
    "LOOPBACK_HOSTS",
    "MIN_TOKEN_LENGTH",
    "Settings",
    "check_bind",
    "is_loopback",
    "parse_choice",
]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
"""The names a client on this machine uses for a server bound to the loopback interface."""
MIN_TOKEN_LENGTH = 16
"""The shortest bearer token accepted (use 32 or more random characters)."""
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """How the server answers: the rules in force, the ledger, access, limits and logging.

    `interpretations` and `plans` (outcome plans, or paths to plan files) are the defaults of
    every request; a request may choose other interpretations, and any plan loaded here by its
    label. `term_calendar` (a council's school term dates, or the path of a calendar file that
    `pbr.load_term_calendar` reads) applies to every rule set of every request: no request can
    change it. `ledger` (a payments ledger's path) is verified at start and whenever its file
    changes, with `ledger_key` if it is keyed. `token` (at least 16 characters) makes every endpoint but ``/v1/health`` require
    ``Authorization: Bearer <token>``. `allowed_hosts` are the ``Host`` names answered (``*``
    for any): loopback names by default, which stops a web page from reaching the server
    through DNS rebinding. Limits: a request body larger than its limit is refused with 413; a
    body not received within `timeout` seconds with 408; a batch runs at most `batch_timeout`
    seconds. `log_ids` adds family ids to the access log (which never holds any other family
    data).

    >>> Settings(max_record_bytes=1 << 20).max_record_bytes
    1048576
    >>> Settings(token="short")
    Traceback (most recent call last):
    ...
    ValueError: the token must be at least 16 characters without spaces (got 5)
    """

    interpretations: Mapping[str, str] = field(default_factory=dict)
    plans: tuple[OutcomePlan | str | Path, ...] = ()
    term_calendar: TermCalendar | str | Path | None = None
    ledger: str | Path | None = None
    ledger_key: bytes | None = field(default=None, repr=False)
    """A keyed ledger's key (`pbr.ledger.load_key`); None reads it as ``pbr serve`` does, from
    ``PBR_LEDGER_KEY_FILE`` or ``PBR_LEDGER_KEY``. Never shown in a repr or a log."""
    token: str | None = None
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    cors_origins: tuple[str, ...] = ()
    max_record_bytes: int = 4 * _MIB
    """The largest body of a one-family request, and the longest line of a batch."""
    max_upload_bytes: int = 256 * _MIB
    """The largest body of a batch or an audit."""
    timeout: float = 30.0
    """Seconds to receive a request body (for a batch: the longest wait for more of it)."""
    batch_timeout: float = 3600.0
    """Seconds a batch may run in all; then it stops, and its summary says so."""
    access_log: bool = True
    log_ids: bool = False

    def __post_init__(self) -> None:
        if self.ledger_key is not None and self.ledger is None:
            raise ValueError("ledger_key is given but no ledger: give the ledger's path as ledger")
        if self.token is not None and (
            len(self.token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in self.token)
        ):
            raise ValueError(
                f"the token must be at least {MIN_TOKEN_LENGTH} characters without spaces "
                f"(got {len(self.token)})"
            )
        for name in ("max_record_bytes", "max_upload_bytes", "timeout", "batch_timeout"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):  # inf: the 408 would never come
                raise ValueError(f"{name} must be positive and finite, got {value!r}")
        if self.max_upload_bytes < self.max_record_bytes:
            raise ValueError("max_upload_bytes must be at least max_record_bytes")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback interface only.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.10"), is_loopback("example.org")
    (False, False, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve a non-loopback address without a token.

    >>> check_bind("0.0.0.0", None)
    Traceback (most recent call last):
    ...
    ValueError: refusing to listen on 0.0.0.0 without a token: give --token-file FILE (or bind to 127.0.0.1)
    """
    if token is None and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without a token: give --token-file FILE "
            "(or bind to 127.0.0.1)"
        )


def parse_choice(text: str) -> tuple[str, str]:
    """``"employment_weeks=all_13"`` as ``("employment_weeks", "all_13")``.

    As ``pbr evaluate`` reads ``--interpretation``: spaces around the id or value are refused,
    not trimmed.

    >>> parse_choice("employment_weeks=all_13")
    ('employment_weeks', 'all_13')
    """
    return interpretation_choice(text)
