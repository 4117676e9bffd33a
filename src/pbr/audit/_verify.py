"""Re-check each claim against the family's evidence; reconcile; find what was never claimed."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pbr.audit._claims import Claim, ClaimRejection
from pbr.decisions import Decision, Provenance
from pbr.errors import OutsideProgramme
from pbr.money import ZERO
from pbr.records import Family, Payment

__all__ = [
    "AUDIT_FLAGS",
    "ClaimCheck",
    "Flag",
    "MissedClaim",
    "Sample",
    "Verification",
    "missed_claims",
    "sample",
    "verify",
]

AUDIT_FLAGS: dict[str, str] = {
    "AMOUNT_DIFFERS": "The amount claimed is not the amount the rules allow for this family now "
    "(its rate, after earlier payments).",
    "CAP_EXCEEDED": "The claim would take the family's payments over the per-family cap.",
    "CLAIMED_TOO_EARLY": "Claimed before the result's measurement window was complete; it could "
    "not be met before the earliest date shown.",
    "DUPLICATE_IN_FILE": "The same family and kind was claimed earlier in this claim file.",
    "DUPLICATE_OF_PAYMENT": "The same family and kind was already paid (record or ledger).",
    "FAMILY_NOT_ELIGIBLE": "The family does not meet the programme's eligibility at attachment.",
    "KIND_NOT_IN_PROGRAMME": "The family's programme has no result of this kind.",
    "MALFORMED_ROW": "The claim row could not be read; it is reported with its row number.",
    "OUTSIDE_PROGRAMME": "No programme covers the family (its programme or attachment date).",
    "RESULT_NOT_MET": "The family's evidence does not show the result met on the claim date.",
    "ROUTE_NOT_ALLOWED": "Another route has been paid or claimed and this one may not follow it "
    "(interpretation employment_after_crime, or one results claim per family).",
    "UNKNOWN_FAMILY": "No family record with this family_id.",
}
"""Every audit flag code and its meaning (the report's legend is generated from this)."""

_PARTIAL = frozenset({"AMOUNT_DIFFERS", "CAP_EXCEEDED"})
"""Flags that cut a claim to the allowed amount; every other flag verifies nothing."""
_ROUTE_TAKEN = frozenset({"EXCLUSIVE_ROUTE_TAKEN", "ONE_CLAIM_PER_FAMILY"})


@dataclass(frozen=True, slots=True)
class Flag:
    """One problem with a claim: a stable code, a message and the numbers compared."""

    code: str
    message: str
    compared: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """The verdict on one claim: flags, the amount allowed, verified, over- and under-claimed."""

    claim: Claim
    flags: tuple[Flag, ...]
    allowed: Decimal
    verified: Decimal
    over_claimed: Decimal
    under_claimed: Decimal
    rules_version: str = ""
    provenance: Provenance | None = None

    @property
    def status(self) -> str:
        """``verified`` when no flag was raised, else ``flagged``."""
        return "flagged" if self.flags else "verified"

    def as_row(self) -> dict[str, Any]:
        """A flat row for tables and reports (money as decimal text)."""
        c = self.claim
        p = self.provenance
        return {
            "row": c.row,
            "claim_id": c.claim_id,
            "family_id": c.family_id,
            "kind": c.kind,
            "claimed_on": c.claimed_on.isoformat(),
            "amount": f"{c.amount:.2f}",
            "allowed": f"{self.allowed:.2f}",
            "verified": f"{self.verified:.2f}",
            "over_claimed": f"{self.over_claimed:.2f}",
            "under_claimed": f"{self.under_claimed:.2f}",
            "status": self.status,
            "flags": " ".join(f.code for f in self.flags),
            "why": "; ".join(f.message for f in self.flags),
            "rules_version": self.rules_version,
            "pbr_version": p.pbr_version if p else "",
            "rules_hash": p.rules_hash if p else "",
            "input_hash": p.input_hash if p else "",
        }


@dataclass(frozen=True, slots=True)
class MissedClaim:
    """A result (or fee) the evidence shows payable that was neither claimed nor paid."""

    family_id: str
    kind: str
    amount: Decimal
    earliest_date: date | None
    """When it became claimable, if knowable; None means "not knowable" (see the message)."""

    def as_row(self) -> dict[str, Any]:
        """A flat row for tables and reports."""
        return {
            "family_id": self.family_id,
            "kind": self.kind,
            "amount": f"{self.amount:.2f}",
            "earliest_date": self.earliest_date.isoformat()
            if self.earliest_date
            else "not knowable",
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """Every claim checked, every malformed row, the reconciliation by kind and missed claims."""

    checks: tuple[ClaimCheck, ...]
    rejections: tuple[ClaimRejection, ...]
    missed: tuple[MissedClaim, ...]
    as_of: date | None

    def reconciliation(self) -> list[dict[str, Any]]:
        """Claimed, verified, over- and under-claimed by kind, and a total row; exact."""
        kinds: dict[str, dict[str, Any]] = {}
        for check in self.checks:
            row = kinds.setdefault(
                check.claim.kind,
                {"kind": check.claim.kind, "claims": 0, "flagged": 0}
                | dict.fromkeys(("claimed", "verified", "over_claimed", "under_claimed"), ZERO),
            )
            row["claims"] += 1
            row["flagged"] += bool(check.flags)
            row["claimed"] += check.claim.amount
            row["verified"] += check.verified
            row["over_claimed"] += check.over_claimed
            row["under_claimed"] += check.under_claimed
        rows = [kinds[k] for k in sorted(kinds)]
        total: dict[str, Any] = {"kind": "total"}
        for key in ("claims", "flagged", "claimed", "verified", "over_claimed", "under_claimed"):
            total[key] = sum((r[key] for r in rows), 0 if key in ("claims", "flagged") else ZERO)
        return [*rows, total]

    @property
    def exceptions(self) -> tuple[ClaimCheck, ...]:
        """The flagged claims."""
        return tuple(c for c in self.checks if c.flags)


def verify(
    claims: Iterable[Claim],
    families: Iterable[Family] | Mapping[str, Family],
    as_of: date | None = None,
    history: Iterable[Any] = (),
    *,
    rejections: Sequence[ClaimRejection] = (),
    rules_for: Any = None,
) -> Verification:
    """Re-evaluate every claim against its family's evidence, in claim-date order.

    Each claim is judged on its `claimed_on` date with the payments made before it: the
    family record's, `history` (ledger entries or payments with ``family_id``) and the claims
    verified earlier in the file. `as_of` (default: the last claim date) is the date for missed
    claims. Malformed rows (`rejections`) are carried into the report, never dropped.

    >>> import pbr
    >>> from datetime import date
    >>> from pbr.audit import Claim, verify
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> claim = Claim(claim_id="C1", family_id="F1", kind="continuous_employment",
    ...               amount="800.00", claimed_on=date(2013, 6, 30))
    >>> [f.code for f in verify([claim], [family]).checks[0].flags]
    ['RESULT_NOT_MET']
    """
    from pbr.engine import evaluate, rule_set_for

    by_id = dict(families) if isinstance(families, Mapping) else {f.family_id: f for f in families}
    claims = list(claims)
    paid: dict[str, list[Payment]] = {}
    for item in history:
        paid.setdefault(item.family_id, []).append(_payment(item))
    from_file: dict[tuple[str, str], str] = {}
    checks: dict[int, ClaimCheck] = {}
    order = sorted(range(len(claims)), key=lambda i: (claims[i].claimed_on, i))
    pick = rules_for or rule_set_for
    for i in order:
        claim = claims[i]
        family = by_id.get(claim.family_id)
        if family is None:
            checks[i] = _blocked(claim, Flag("UNKNOWN_FAMILY", f"no family {claim.family_id!r}"))
            continue
        known = [*family.payments, *paid.get(claim.family_id, [])]
        counted = family.model_copy(update={"payments": tuple(known)})
        try:
            decision = evaluate(counted, as_of=claim.claimed_on, rules=pick(family))
        except OutsideProgramme as exc:
            checks[i] = _blocked(claim, Flag("OUTSIDE_PROGRAMME", str(exc)))
            continue
        earlier = from_file.get((claim.family_id, claim.kind))
        made = [p for p in known if p.paid_on is None or p.paid_on <= claim.claimed_on]
        fee_paid = sum((p.amount for p in made if p.kind == "attachment_fee"), ZERO)
        results_paid = sum((p.amount for p in made if p.kind != "attachment_fee"), ZERO)
        room = max(decision.cap - max(decision.attachment_fee, fee_paid) - results_paid, ZERO)
        check = _check(claim, decision, earlier, fee_paid > 0, room)
        checks[i] = check
        if check.verified > 0:
            paid.setdefault(claim.family_id, []).append(
                Payment.model_construct(
                    kind=claim.kind,
                    amount=check.verified,
                    paid_on=claim.claimed_on,
                    claim_id=claim.claim_id,
                )
            )
        from_file.setdefault((claim.family_id, claim.kind), claim.claim_id)
    last = max((c.claimed_on for c in claims), default=None)
    when = as_of or last
    missed = missed_claims(by_id.values(), when, paid=paid, rules_for=pick) if when else ()
    return Verification(
        checks=tuple(checks[i] for i in range(len(claims))),
        rejections=tuple(rejections),
        missed=tuple(missed),
        as_of=when,
    )


def _payment(item: Any) -> Payment:
    return Payment.model_construct(
        kind=item.kind,
        amount=Decimal(item.amount),
        paid_on=getattr(item, "paid_on", None),
        claim_id=getattr(item, "claim_id", None),
    )


def _blocked(claim: Claim, flag: Flag) -> ClaimCheck:
    return ClaimCheck(claim, (flag,), ZERO, ZERO, claim.amount, ZERO)


def _check(
    claim: Claim, decision: Decision, earlier_in_file: str | None, fee_paid: bool, room: Decimal
) -> ClaimCheck:
    """The flags and amounts for one claim, given the decision on its claim date.

    The claim is valued on its own: results the engine finds payable now by other routes are
    the council's to claim or not, so they do not reduce this one (`room` counts only payments
    made); a route is blocked only by another route already paid or claimed, or, under
    ``employment_after_crime = exclusive``, by employment met at the same time.
    """
    flags: list[Flag] = []
    allowed = ZERO
    numbers = {"claimed": f"{claim.amount:.2f}", "claimed_on": claim.claimed_on.isoformat()}
    if claim.kind == "attachment_fee":
        if not decision.eligible:
            flags.append(Flag("FAMILY_NOT_ELIGIBLE", "not eligible at attachment", numbers))
        elif fee_paid:
            flags.append(_duplicate(earlier_in_file, "attachment fee", numbers))
        else:
            allowed = decision.attachment_fee
    elif claim.kind not in decision.results:
        flags.append(
            Flag(
                "KIND_NOT_IN_PROGRAMME",
                f"{decision.programme} has no {claim.kind} result",
                numbers | {"programme": decision.programme},
            )
        )
    elif not decision.eligible:
        flags.append(Flag("FAMILY_NOT_ELIGIBLE", "not eligible at attachment", numbers))
    else:
        result = decision.results[claim.kind]
        if result.status == "already_paid":
            flags.append(_duplicate(earlier_in_file, claim.kind, numbers))
        elif result.status != "met":
            earliest = result.earliest_date
            if earliest is not None and earliest > claim.claimed_on:
                flags.append(
                    Flag(
                        "CLAIMED_TOO_EARLY",
                        f"the measurement window completes on {earliest}, after the claim",
                        numbers | {"earliest_date": earliest.isoformat()},
                    )
                )
            else:
                flags.append(
                    Flag(
                        "RESULT_NOT_MET",
                        f"{claim.kind} is {result.status.replace('_', ' ')}: "
                        + ", ".join(result.codes),
                        numbers | {"reasons": " ".join(result.codes)},
                    )
                )
        elif _route_blocked(decision, result.reasons):
            why = next(r.message for r in result.reasons if r.code in _ROUTE_TAKEN)
            flags.append(Flag("ROUTE_NOT_ALLOWED", why, numbers))
        else:
            allowed = min(result.rate, room)
            numbers |= {"rate": f"{result.rate:.2f}", "allowed": f"{allowed:.2f}"}
            if claim.amount > allowed and allowed < result.rate:
                flags.append(Flag("CAP_EXCEEDED", f"only {allowed} is left under the cap", numbers))
    if not flags and claim.amount != allowed:
        flags.append(
            Flag(
                "AMOUNT_DIFFERS",
                f"claimed {claim.amount:.2f}, the rules allow {allowed:.2f}",
                numbers | {"allowed": f"{allowed:.2f}"},
            )
        )
    partial = all(f.code in _PARTIAL for f in flags)
    verified = min(claim.amount, allowed) if partial else ZERO
    return ClaimCheck(
        claim=claim,
        flags=tuple(flags),
        allowed=allowed,
        verified=verified,
        over_claimed=claim.amount - verified,
        under_claimed=allowed - claim.amount if partial and allowed > claim.amount else ZERO,
        rules_version=decision.rules_version,
        provenance=decision.provenance,
    )


def _route_blocked(decision: Decision, reasons: Sequence[Any]) -> bool:
    """Whether another route bars this one: it is paid, or (exclusive) employment is met too."""
    for reason in reasons:
        if reason.code not in _ROUTE_TAKEN:
            continue
        other = decision.results.get(str(reason.compared.get("other_route")))  # type: ignore[call-overload]
        if other is not None and other.status == "already_paid":
            return True
        if reason.code == "EXCLUSIVE_ROUTE_TAKEN":
            return True
    return False


def _duplicate(earlier_in_file: str | None, what: str, numbers: dict[str, str]) -> Flag:
    if earlier_in_file is not None:
        return Flag(
            "DUPLICATE_IN_FILE",
            f"{what} already claimed in this file by {earlier_in_file}",
            numbers | {"earlier_claim": earlier_in_file},
        )
    return Flag("DUPLICATE_OF_PAYMENT", f"{what} already paid", numbers)


def missed_claims(
    families: Iterable[Family],
    as_of: date,
    *,
    paid: Mapping[str, Sequence[Payment]] | None = None,
    rules_for: Any = None,
) -> list[MissedClaim]:
    """Results (and attachment fees) the evidence shows payable at `as_of` but never paid.

    `paid` adds payments (history and verified claims) to each family's own.
    """
    from pbr.engine import evaluate, rule_set_for

    pick = rules_for or rule_set_for
    found = []
    for family in families:
        extra = tuple((paid or {}).get(family.family_id, ()))
        counted = family.model_copy(update={"payments": (*family.payments, *extra)})
        try:
            decision = evaluate(counted, as_of=as_of, rules=pick(family))
        except OutsideProgramme:
            continue
        fee_paid = any(p.kind == "attachment_fee" for p in counted.payments)
        if decision.eligible and not fee_paid and decision.attachment_fee > 0:
            found.append(
                MissedClaim(
                    family.family_id, "attachment_fee", decision.attachment_fee, family.attached_on
                )
            )
        for kind, result in decision.results.items():
            if result.amount > 0:
                found.append(
                    MissedClaim(family.family_id, kind, result.amount, result.earliest_date)
                )
    return found


@dataclass(frozen=True, slots=True)
class Sample:
    """A reproducible spot-check sample and how it was drawn."""

    claims: tuple[Claim, ...]
    seed: str
    strata: tuple[str, ...]
    sizes: Mapping[str, int]
    method: str


def sample(
    claims: Iterable[Claim],
    size: int | None = None,
    fraction: Decimal | str | None = None,
    *,
    seed: str | int,
    strata: Sequence[str] = ("kind",),
) -> Sample:
    """Draw a spot-check sample that anyone can reproduce by hand from the claims and the seed.

    Method: group claims by `strata` (e.g. kind); in each group rank claims by the SHA-256 hex
    digest of ``"<seed>|<claim_id>"`` (smallest first) and take the first n. With `size`, n is
    proportional to the group's claims, largest remainders first (ties by group name); with
    `fraction`, n = fraction × group claims rounded half up. No random generator is involved,
    so the sample depends only on the claims and the seed, on any machine and Python.

    >>> from datetime import date
    >>> cs = [Claim(claim_id=f"C{i}", family_id="F", kind="attachment_fee", amount="1",
    ...       claimed_on=date(2013, 1, 1)) for i in range(5)]
    >>> [c.claim_id for c in sample(cs, size=2, seed=7).claims]
    ['C4', 'C3']
    """
    if (size is None) == (fraction is None):
        raise ValueError("give exactly one of size and fraction")
    claims = list(claims)
    groups: dict[str, list[Claim]] = {}
    for claim in claims:
        key = "/".join(str(getattr(claim, s)) for s in strata) or "all"
        groups.setdefault(key, []).append(claim)
    if size is not None:
        if not 0 <= size <= len(claims):
            raise ValueError(f"size must be between 0 and {len(claims)}, got {size}")
        quotas = {k: size * len(v) / len(claims) if claims else 0 for k, v in groups.items()}
        sizes = {k: math.floor(q) for k, q in quotas.items()}
        left = size - sum(sizes.values())
        for k in sorted(groups, key=lambda k: (-(quotas[k] - sizes[k]), k))[:left]:
            sizes[k] += 1
    else:
        share = Decimal(str(fraction))
        if not 0 <= share <= 1:
            raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
        sizes = {
            k: int((share * len(v)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            for k, v in groups.items()
        }
    chosen: list[Claim] = []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=lambda c: _rank(seed, c.claim_id))
        chosen.extend(ranked[: sizes[key]])
    method = (
        f"groups by {', '.join(strata) or 'none'}; within each, claims ranked by "
        f"sha256('{seed}|<claim_id>') ascending; "
        + (
            f"{size} in all, proportional, largest remainders"
            if size is not None
            else f"{fraction} of each group, rounded half up"
        )
    )
    return Sample(tuple(chosen), str(seed), tuple(strata), sizes, method)


def _rank(seed: str | int, claim_id: str) -> str:
    return hashlib.sha256(f"{seed}|{claim_id}".encode()).hexdigest()
