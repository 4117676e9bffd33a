"""The audit toolkit: verify a council's claim file, find missed claims, sample for spot checks.

`verify` re-evaluates every claim against its family's evidence on the claim date and flags each
problem with a code from `AUDIT_FLAGS` and the numbers compared; the reconciliation adds up to the
penny by kind. `missed_claims` lists results the evidence shows payable that nobody claimed.
`sample` draws a spot-check sample that depends only on the claims and the seed. Reports:
`write_report` (HTML, Markdown, CSV, or XLSX with ``pip install "pbr[xlsx]"``).

>>> from pbr.audit import AUDIT_FLAGS
>>> "DUPLICATE_IN_FILE" in AUDIT_FLAGS
True
"""

from __future__ import annotations

from pbr.audit._claims import Claim, ClaimRejection, read_claims
from pbr.audit._report import write_report
from pbr.audit._verify import (
    AUDIT_FLAGS,
    ClaimCheck,
    Flag,
    MissedClaim,
    Sample,
    Verification,
    missed_claims,
    sample,
    verify,
)

__all__ = [
    "AUDIT_FLAGS",
    "Claim",
    "ClaimCheck",
    "ClaimRejection",
    "Flag",
    "MissedClaim",
    "Sample",
    "Verification",
    "missed_claims",
    "read_claims",
    "sample",
    "verify",
    "write_report",
]
