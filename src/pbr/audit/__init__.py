"""The audit toolkit: verify a council's claim file, find missed claims, sample for spot checks.

`verify` re-evaluates every claim against its family's evidence on the claim date and flags each
problem with a code from `AUDIT_FLAGS`, the numbers compared and the rule with its source; the
reconciliation adds up to the penny by kind. `missed_claims` lists results the evidence shows
payable that nobody claimed (results and attachment fees apart). `sample` draws a spot-check
sample that depends only on the claims and the seed; `mus_audit` draws a monetary-unit sample
of the claims checked and bounds the file's over-claims from it (`mus_plan`, `mus_select` and
`mus_evaluate` do each step on any amounts). Reports: `write_report` (HTML, Markdown,
CSV, or XLSX with ``pip install "pbr-claims[xlsx]"``); `payments_from_report` reads a CSV report's
verified claims back as ledger entries. On the command line: ``pbr audit CLAIMS --families
FILE`` and ``pbr ledger record AUDIT.csv DB``.

>>> from pbr.audit import AUDIT_FLAGS
>>> "DUPLICATE_IN_FILE" in AUDIT_FLAGS
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbr._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and the API pages; at run time, on first use
    from pbr.audit._claims import CLAIM_COLUMNS, Claim, ClaimRejection, read_claims
    from pbr.audit._csv import payments_from_report
    from pbr.audit._flags import AUDIT_FLAGS, FLAG_TITLES, KIND_TITLES, AuditFlag
    from pbr.audit._mus import (
        Misstatement,
        MusEvaluation,
        MusItem,
        MusPlan,
        MusSample,
        confidence_factor,
        mus_evaluate,
        mus_plan,
        mus_select,
    )
    from pbr.audit._mus_audit import MusAudit, mus_audit
    from pbr.audit._report import write_report
    from pbr.audit._sample import Sample, rank, sample
    from pbr.audit._verify import (
        ClaimCheck,
        Flag,
        MissedClaim,
        PlanUsed,
        Verification,
        missed_claims,
        verify,
    )

__all__ = [
    "AUDIT_FLAGS",
    "CLAIM_COLUMNS",
    "FLAG_TITLES",
    "KIND_TITLES",
    "AuditFlag",
    "Claim",
    "ClaimCheck",
    "ClaimRejection",
    "Flag",
    "MissedClaim",
    "Misstatement",
    "MusAudit",
    "MusEvaluation",
    "MusItem",
    "MusPlan",
    "MusSample",
    "PlanUsed",
    "Sample",
    "Verification",
    "confidence_factor",
    "missed_claims",
    "mus_audit",
    "mus_evaluate",
    "mus_plan",
    "mus_select",
    "payments_from_report",
    "rank",
    "read_claims",
    "sample",
    "verify",
    "write_report",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "pbr.audit._claims": (
            "CLAIM_COLUMNS",
            "Claim",
            "ClaimRejection",
            "read_claims",
        ),
        "pbr.audit._csv": ("payments_from_report",),
        "pbr.audit._flags": (
            "AUDIT_FLAGS",
            "FLAG_TITLES",
            "KIND_TITLES",
            "AuditFlag",
        ),
        "pbr.audit._mus": (
            "Misstatement",
            "MusEvaluation",
            "MusItem",
            "MusPlan",
            "MusSample",
            "confidence_factor",
            "mus_evaluate",
            "mus_plan",
            "mus_select",
        ),
        "pbr.audit._mus_audit": (
            "MusAudit",
            "mus_audit",
        ),
        "pbr.audit._report": ("write_report",),
        "pbr.audit._sample": (
            "Sample",
            "rank",
            "sample",
        ),
        "pbr.audit._verify": (
            "ClaimCheck",
            "Flag",
            "MissedClaim",
            "PlanUsed",
            "Verification",
            "missed_claims",
            "verify",
        ),
    },
)
