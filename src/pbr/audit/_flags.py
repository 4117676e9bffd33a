"""Audit flag codes: the stable, machine-readable vocabulary of every claim check.

Audit systems key on `Flag.code`, never on the message text (which may be reworded).
`AUDIT_FLAGS` maps each code to its meaning; the report's legend and the auditor's tutorial list
them all (a test checks both).
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["AUDIT_FLAGS", "FLAG_TITLES", "KIND_TITLES", "AuditFlag"]

AuditFlag = Literal[
    # the claim row itself
    "MALFORMED_ROW",
    "UNKNOWN_FAMILY",
    "FAMILY_RECORD_REJECTED",
    "OUTSIDE_PROGRAMME",
    "KIND_NOT_IN_PROGRAMME",
    # the evidence
    "FAMILY_NOT_ELIGIBLE",
    "CLAIMED_TOO_EARLY",
    "CLAIMED_AFTER_CLAIMS_CLOSED",
    "RESULT_NOT_MET",
    # payments made and claimed
    "DUPLICATE_IN_FILE",
    "DUPLICATE_OF_PAYMENT",
    "CLAIM_ID_OF_OTHER_PAYMENT",
    "ROUTE_NOT_ALLOWED",
    "PAYMENT_HISTORY_CONFLICT",
    # the money
    "CAP_EXCEEDED",
    "AMOUNT_DIFFERS",
]

AUDIT_FLAGS: dict[str, str] = {
    "MALFORMED_ROW": "The claim row could not be read (or its claim id is on another row with "
    "other values, so which is the claim cannot be known); it is reported with its row number, "
    "the field and the value, and nothing of it is verified.",
    "UNKNOWN_FAMILY": "No family record with this family_id.",
    "FAMILY_RECORD_REJECTED": "The family's record was given but rejected (it could not be "
    "read or validated), so the claim can be neither verified nor refused: its amount is "
    "unverified, not over-claimed, until the record is fixed.",
    "OUTSIDE_PROGRAMME": "No programme covers the family (its programme or attachment date).",
    "KIND_NOT_IN_PROGRAMME": "The family's programme has no result of this kind.",
    "FAMILY_NOT_ELIGIBLE": "The family does not meet the programme's eligibility at attachment, "
    "so nothing is payable.",
    "CLAIMED_TOO_EARLY": "Claimed before the measurement window was complete (or, for an "
    "attachment fee, before attachment); the earliest date the claim could be made is shown.",
    "CLAIMED_AFTER_CLAIMS_CLOSED": "A claim (a result or an attachment fee) dated after the "
    "programme's last day for claims (phase one: May 2015, S12; Supporting Families: 31 March "
    "2025, S39; the rule set's results_claims_until), which would not have been paid; nothing of "
    "it is verified. For an attachment fee this is a judgement: no source records a fee claimed "
    "after the programme ended, and pbr's forecast counts such fees as never paid.",
    "RESULT_NOT_MET": "The family's evidence does not show the result met on the claim date.",
    "DUPLICATE_IN_FILE": "The same family and kind was already verified for a claim of this "
    "file judged before this one (claims are judged in claim-date order, rows of one date in "
    "file order, so that claim may be further down the file), or the row repeats an earlier row "
    "exactly; its amount is over-claimed.",
    "DUPLICATE_OF_PAYMENT": "The same family and kind was already paid (family record or ledger), "
    "whatever the payment's date: a payment made after the claim date (by another claim) would "
    "otherwise be paid twice. A payment under the claim's own id is one too when it is not that "
    "very claim's: for another amount, or recorded for a claim made on another day.",
    "CLAIM_ID_OF_OTHER_PAYMENT": "The claim's claim_id is already that of a payment (family record "
    "or ledger) that cannot be this claim's own: another family's, another kind, or paid before "
    "the claim date. The payment counts (against the cap, and as paid); nothing of the claim is "
    "verified until it has a claim id of its own.",
    "ROUTE_NOT_ALLOWED": "Another route has been paid or claimed and this one may not follow it "
    "(interpretation employment_after_crime, or one results claim per family).",
    "PAYMENT_HISTORY_CONFLICT": "The family record and the ledger disagree about a payment with "
    "the same claim id (its kind, amount or date), so the family's payments are not known and "
    "the claim can be neither verified nor refused: its amount is unverified, not over-claimed, "
    "until they agree.",
    "CAP_EXCEEDED": "The claim would take the family's payments over the per-family cap; only "
    "the room left is verified.",
    "AMOUNT_DIFFERS": "The amount claimed is not the amount the rules allow for this family on "
    "the claim date (its rate, after earlier payments); the lesser is verified.",
}
"""Every audit flag code and its meaning, in the order a report lists them."""

FLAG_TITLES: dict[str, str] = {
    "MALFORMED_ROW": "Row cannot be read",
    "UNKNOWN_FAMILY": "No such family",
    "FAMILY_RECORD_REJECTED": "Family record rejected",
    "OUTSIDE_PROGRAMME": "Outside every programme",
    "KIND_NOT_IN_PROGRAMME": "No such result in the programme",
    "FAMILY_NOT_ELIGIBLE": "Family not eligible",
    "CLAIMED_TOO_EARLY": "Claimed too early",
    "CLAIMED_AFTER_CLAIMS_CLOSED": "Claimed after claims closed",
    "RESULT_NOT_MET": "Result not met",
    "DUPLICATE_IN_FILE": "Claimed twice in this file",
    "DUPLICATE_OF_PAYMENT": "Already paid",
    "CLAIM_ID_OF_OTHER_PAYMENT": "Claim id already a payment's",
    "ROUTE_NOT_ALLOWED": "Route not allowed",
    "PAYMENT_HISTORY_CONFLICT": "Payment records disagree",
    "CAP_EXCEEDED": "Over the cap",
    "AMOUNT_DIFFERS": "Amount differs",
}
"""A short plain-English name for each flag code, shown beside it in reports."""

KIND_TITLES: dict[str, str] = {
    "attachment_fee": "Attachment fee",
    "crime_asb_education": "Crime, ASB and education",
    "progress_to_work": "Progress to work",
    "continuous_employment": "Continuous employment",
    "sustained_progress": "Sustained progress",
}
"""A plain-English name for each kind of claim, shown beside its code in reports."""

assert set(AUDIT_FLAGS) == set(get_args(AuditFlag)) == set(FLAG_TITLES), "every flag: a meaning"
