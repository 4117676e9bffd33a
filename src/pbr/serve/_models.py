"""The shapes the server adds around the library's own models, for responses and OpenAPI.

A decision is `pbr.Decision` and a rejection `pbr.Rejection`, unchanged; these models are only
what an HTTP answer needs besides them: a batch's rejected line and summary, the working paper
as JSON, the audit report as JSON, the health answer and the problem details of an error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pbr.decisions import Decision
from pbr.io import Rejection

__all__ = [
    "AuditReport",
    "BatchRejected",
    "BatchSummary",
    "Explained",
    "Health",
    "Problem",
    "ProgrammeInForce",
    "ProgrammeTotals",
    "RulesDocument",
    "Totals",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Problem(BaseModel):
    """What went wrong with a request (RFC 9457 problem details)."""

    model_config = _FROZEN

    type: str = "about:blank"
    title: str = Field(description="The HTTP status phrase, e.g. 'Payload Too Large'.")
    status: int
    detail: str = Field(description="What went wrong and what to change, in a sentence.")


class Health(BaseModel):
    """The server is up: its pbr version and the rules hash of its default rules."""

    model_config = _FROZEN

    status: str = "ok"
    pbr_version: str
    rules_hash: str
    ledger_head: str | None = Field(
        default=None, description="The payments ledger's head hash, when the server has one."
    )


class BatchRejected(BaseModel):
    """A batch line for a record that was rejected: the rejection, as ``pbr.Rejection``."""

    model_config = _FROZEN

    rejected: Rejection


class ProgrammeTotals(BaseModel):
    """One programme's families and the amounts payable now, by result kind (money as text)."""

    model_config = _FROZEN

    families: int
    payable: dict[str, str] = Field(description="Payable now by result kind, in pounds.")
    total: str = Field(description="Payable now, all results, in pounds.")


class CouncilTotals(BaseModel):
    """One council's families and money in a batch, as `pbr.Totals` counts them (money as text).

    The rows reconcile to the batch: families evaluated and rejected add up to its counts.
    """

    model_config = _FROZEN

    local_authority: str | None = Field(
        description="The council the records name; null for records that name none (or a "
        "rejected record whose council is not sound)."
    )
    families_evaluated: int
    families_rejected: int
    results_paid: int = Field(description="Results with a payment due now.")
    attachment_fees: str = Field(
        description="Attachment fees earned by the as-of date (eligible families), in pounds."
    )
    results_payments: str = Field(description="Results payments due now, in pounds.")
    total: str = Field(description="Attachment fees and results payments, in pounds.")


class Totals(BaseModel):
    """The counts and totals of a batch; `complete` is false when it was stopped early."""

    model_config = _FROZEN

    records: int = Field(description="Records read (lines that are not blank).")
    evaluated: int
    rejected: int
    complete: bool = Field(description="Whether every line of the body was answered.")
    stopped: str | None = Field(default=None, description="Why the batch stopped early.")
    programmes: dict[str, ProgrammeTotals]
    payable: str = Field(description="Payable now, all programmes, in pounds.")
    councils: list[CouncilTotals] = Field(
        description="Each council's families and money, by name (records naming none last): "
        "the per-council breakdown of ``pbr evaluate``'s summary."
    )
    warnings: list[str] = Field(
        description="What ``pbr evaluate``'s summary warns of, one sentence each, in its "
        "words: a programme whose results payable now could no longer be claimed at the date "
        "(``tf-phase-1: claims closed on 2015-05-31: ...``); council names that differ only in "
        "case (``Leeds``, ``LEEDS``), which are counted apart but are most likely one council "
        "written two ways; families judged against pbr's example outcome plan because no plan "
        "was given for their programme; each warning code the decisions carry, with the "
        "families warned of it (``PAID_OVER_CAP: 2 families warned of it ...``: money paid "
        "over a cap or twice is to be recovered). Empty when there is nothing to say.",
    )


class BatchSummary(BaseModel):
    """The last line of every batch answer: its totals (a cut stream has no summary)."""

    model_config = _FROZEN

    summary: Totals


class Explained(BaseModel):
    """The working paper of one family as JSON: the decision and its text."""

    model_config = _FROZEN

    decision: Decision
    working_paper: str


class AuditReport(BaseModel):
    """An audit as JSON: the rows of `pbr.audit`'s reports (money as text)."""

    model_config = _FROZEN

    as_of: date | None = Field(description="The date missed claims were looked for at.")
    reconciliation: list[dict[str, str | int]] = Field(
        description="Claims, flagged, claimed, verified, over- and under-claimed by kind, "
        "then the total row."
    )
    claims: list[dict[str, str | int]] = Field(
        description="Every claim with its status, flags, amounts and provenance hashes."
    )
    malformed: list[dict[str, str | int | None]] = Field(
        description="Claim rows that could not be read: where, which field, what value, why."
    )
    missed: list[dict[str, str]] = Field(
        description="Results the evidence shows payable that nobody claimed."
    )
    unevaluated: list[dict[str, str]] = Field(
        description="Families not searched for missed claims (family_id, why): no programme "
        "covers them, or their payment records disagree (their claims are "
        "PAYMENT_HISTORY_CONFLICT, unverified)."
    )
    family_rejections: list[Rejection] = Field(
        description="Family records that could not be read (their claims are "
        "FAMILY_RECORD_REJECTED), and each later part's record of a family an earlier part "
        "gave (duplicate_family: not used, the first record counts)."
    )
    sample: list[str] | None = Field(
        default=None,
        description="The claims drawn for spot checks, when a sample was asked: each by its "
        "claim id, or <claim id>#<k> for a claim id on several rows (a repeated row is money "
        "claimed twice, so each row can be drawn).",
    )


class ProgrammeInForce(BaseModel):
    """One programme's rules as a request evaluates them: what its decisions' hash covers."""

    model_config = _FROZEN

    programme: str
    rules_version: str
    interpretations: dict[str, str] = Field(description="Every interpretation in force.")
    outcome_plan: str | None = Field(description="The outcome plan, as id/version.")
    term_calendar: str | None = Field(
        description="The council's term calendar its school terms are read on, by name (the "
        "server's --term-calendar); null: the default term dates."
    )
    rules_hash: str = Field(description="The rules_hash in the provenance of its decisions.")


class RulesDocument(BaseModel):
    """The rules in force (for the request's interpretations and plan) and every rule set."""

    model_config = _FROZEN

    pbr_version: str
    rules_hash: str = Field(description="The hash named on responses: every programme's, hashed.")
    in_force: list[ProgrammeInForce]
    plans: list[str] = Field(description="The outcome plans the server loaded, as id/version.")
    term_calendar: dict[str, Any] | None = Field(
        description="The council's term calendar the server was started with (--term-calendar), "
        "applied to every rule set: its name and its own terms, as the calendar file gives them "
        "(null: the default term dates)."
    )
    rule_sets: list[dict[str, Any]] = Field(
        description="Every rule set, as 'pbr rules --format json' prints them."
    )
