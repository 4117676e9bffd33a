"""What the server logs: one line per request and one per failure, never any family data.

The access line has the method, the path (no query string), the status, the bytes sent and the
time taken, plus, only when asked (``--log-ids``), the family id of a one-family request and
the counts of a batch. A failure is logged as its exception type and where it was raised, with
an id that is also in the response: exception messages can quote input values, so they are
never logged.
"""

from __future__ import annotations

import logging
import os
import secrets
import traceback

__all__ = ["LOGGER", "failure"]

LOGGER = logging.getLogger("pbr.serve")


def failure(exc: BaseException, what: str) -> str:
    """Log an unexpected error by type and place only; return the id to quote to the client."""
    error_id = secrets.token_hex(6)
    frames = traceback.extract_tb(exc.__traceback__)
    where = ", ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in frames[-3:])
    LOGGER.error("error %s in %s: %s at %s", error_id, what, type(exc).__name__, where or "?")
    return error_id
