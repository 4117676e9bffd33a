"""Re-check each claim against the family's evidence; reconcile; find what was never claimed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pbr.audit._claims import Claim, ClaimRejection
from pbr.audit._flags import KIND_TITLES, AuditFlag
from pbr.decisions import Decision, Provenance, Reason, ResultDecision
from pbr.errors import OutsideProgramme
from pbr.history import HistoryError, PaymentHistory, merge_payments
from pbr.money import ZERO, in_exact_arithmetic
from pbr.periods import AS_OF_EARLIEST, LATEST_DATE, check_as_of, financial_year_of
from pbr.programmes import programme
from pbr.records import Family, Payment

if TYPE_CHECKING:
    from pbr._rejection import Rejection
    from pbr.ledger import Ledger
    from pbr.plans import OutcomePlan
    from pbr.rules import RuleSet

__all__ = [
    "PARTIAL_FLAGS",
    "UNJUDGED_FLAGS",
    "ClaimCheck",
    "Flag",
    "MissedClaim",
    "PlanUsed",
    "Verification",
    "missed_claims",
    "verify",
]

PARTIAL_FLAGS = frozenset({"AMOUNT_DIFFERS", "CAP_EXCEEDED"})
"""Flags that cut a claim to the allowed amount; every other flag verifies nothing."""
UNJUDGED_FLAGS: Final = frozenset({"FAMILY_RECORD_REJECTED", "PAYMENT_HISTORY_CONFLICT"})
"""The flags of a claim that cannot be judged either way: its amount is unverified, not over.

Its family's record was rejected, or the record and the payment history disagree about a
payment, so what the family was paid is not known."""
_ROUTE_TAKEN = frozenset({"EXCLUSIVE_ROUTE_TAKEN", "ONE_CLAIM_PER_FAMILY"})
_AUDIT_RULE = "audit.claim_file"
_FAILING = frozenset(
    {
        "RESULT_TOO_EARLY",
        "PROBLEM_NOT_IDENTIFIED",
        "ABSENCE_AT_OR_ABOVE_THRESHOLD",
        "FIXED_TERM_EXCLUSIONS_AT_OR_ABOVE_THRESHOLD",
        "PERMANENTLY_EXCLUDED",
        "MISSING_SCHOOL_TERM",
        "NO_POSSIBLE_SESSIONS",
        "ASB_NOT_REDUCED_ENOUGH",
        "ASB_SINCE_ZERO_BASELINE",
        "OFFENDING_NOT_REDUCED_ENOUGH",
        "OFFENDING_SINCE_ZERO_BASELINE",
        "NO_WORK_PROGRAMME_REFERRAL",
        "EMPLOYMENT_TOO_SHORT",
        "NO_CURRENT_EMPLOYMENT",
        "EMPLOYMENT_STARTED_BEFORE_ATTACHMENT",
        "NO_ADULT_ON_BENEFIT_AT_ATTACHMENT",
        "NOT_ELIGIBLE",
        "TOO_FEW_PROBLEMS_AT_ENTRY",
        "NO_DEPENDENT_CHILD_OR_EXPECTANT_PARENT",
        "OUTCOME_NOT_MET",
        "MEASURE_NOT_MET",
        "MEASURE_NO_EVIDENCE",
        "MEASURE_LATEST_READINGS_DISAGREE",
        "MEASURE_COUNT_NOT_EVENTS",
        "SUSTAIN_PERIOD_INCOMPLETE",
        "PROBLEM_NOT_IN_PLAN",
        "EMPLOYMENT_ROUTE_CLOSED",
    }
)
"""Reason codes that say why a result is not met (the others say what held, or are notes)."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One problem with a claim: a stable code, a message, the numbers compared, rule and source.

    `rule` and `source` name the rule applied and its source tags (as in `pbr.Reason`); checks
    of the claim file itself use the rule ``audit.claim_file`` and no source.

    >>> flag = Flag("UNKNOWN_FAMILY", "no family 'F9'", {"family_id": "F9"}, "audit.claim_file")
    >>> flag.code, flag.compared["family_id"]
    ('UNKNOWN_FAMILY', 'F9')
    """

    code: AuditFlag
    message: str
    compared: Mapping[str, str] = field(default_factory=dict)
    rule: str = _AUDIT_RULE
    source: str = ""


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """The verdict on one claim: flags, the amount allowed, verified, over- and under-claimed.

    ``claimed = verified + over_claimed + unverified`` always; `unverified` is the amount of a
    claim that cannot be judged either way (its family's record was rejected,
    ``FAMILY_RECORD_REJECTED``, or its payment records disagree, ``PAYMENT_HISTORY_CONFLICT``),
    0 otherwise; `under_claimed` is what the rules allow above a
    lower claim. `provenance` is the decision's (library version, rules and input hashes).

    >>> import pbr
    >>> from datetime import date
    >>> claim = Claim(claim_id="C1", family_id="F9", kind="attachment_fee", amount="3200.00",
    ...               claimed_on=date(2012, 11, 1))
    >>> check = verify([claim], []).checks[0]
    >>> check.status, check.over_claimed, check.codes
    ('flagged', Decimal('3200.00'), ('UNKNOWN_FAMILY',))
    """

    claim: Claim
    flags: tuple[Flag, ...]
    allowed: Decimal
    verified: Decimal
    over_claimed: Decimal
    under_claimed: Decimal
    rules_version: str = ""
    provenance: Provenance | None = None
    unverified: Decimal = ZERO
    """What of the claim cannot be judged: all of it when its family's record was rejected or
    its payment records disagree."""
    outcome_plan: PlanUsed | None = None
    """The outcome plan the claim's decision was judged against (phase two, Supporting
    Families), or None (phase one, or no decision)."""
    term_calendar: str | None = None
    """The council term calendar the claim's rules read (`pbr.TermCalendar.named`), or None:
    the default term dates, or no decision."""
    interpretations: str = ""
    """The interpretations the claim was judged under, as the long CSV writes them
    (`pbr.output.interpretations_text`); empty when no decision was made."""

    @property
    def status(self) -> str:
        """``verified`` when no flag was raised, else ``flagged``."""
        return "flagged" if self.flags else "verified"

    @property
    def codes(self) -> tuple[str, ...]:
        """The flag codes, in order."""
        return tuple(f.code for f in self.flags)

    def as_row(self) -> dict[str, Any]:
        """A flat row for tables and reports (money as decimal text, hashes for replay)."""
        c = self.claim
        p = self.provenance
        return {
            "row": c.row,
            "claim_id": c.claim_id,
            "family_id": c.family_id,
            "kind": c.kind,
            "claimed_on": c.claimed_on.isoformat(),
            "window": c.window or "",
            "amount": f"{c.amount:.2f}",
            "allowed": f"{self.allowed:.2f}",
            "verified": f"{self.verified:.2f}",
            "over_claimed": f"{self.over_claimed:.2f}",
            "unverified": f"{self.unverified:.2f}",
            "under_claimed": f"{self.under_claimed:.2f}",
            "status": self.status,
            "flags": " ".join(self.codes),
            "why": "; ".join(f.message for f in self.flags),
            "rule": "; ".join(f"{f.rule} [{f.source}]" if f.source else f.rule for f in self.flags),
            "rules_version": self.rules_version,
            "pbr_version": p.pbr_version if p else "",
            "rules_hash": p.rules_hash if p else "",
            "input_hash": p.input_hash if p else "",
            "outcome_plan": self.outcome_plan.shown() if self.outcome_plan else "",
            "outcome_plan_sha256": self.outcome_plan.sha256 if self.outcome_plan else "",
            "term_calendar": self.term_calendar or "",
            "interpretations": self.interpretations,
        }


@dataclass(frozen=True, slots=True)
class MissedClaim:
    """A result (or fee) the evidence shows payable that was neither claimed nor paid.

    >>> from datetime import date
    >>> from decimal import Decimal
    >>> MissedClaim("F1", "crime_asb_education", Decimal("700.00"), None).as_row()["earliest_date"]
    'not knowable'
    """

    family_id: str
    kind: str
    amount: Decimal
    """The amount forgone, still owed: what the engine finds payable for it on the audit date,
    or on the last day it could be claimed when the audit date is after it, with every payment
    known counted as made by then, whatever its date (one dated later pays its result, takes
    its route and its share of the cap, as in the claim check), and the audit's claims counted
    as paid what the rules allow them (an under-claim's room is not missed again)."""
    earliest_date: date | None
    """When it became claimable; None where the rules cannot date it ("not knowable")."""
    claims_closed_on: date | None = None
    """The last day it could be claimed, when the audit date is after it: the programme's last
    day for results claims (phase one: 31 May 2015, S12), or its route's when that closed
    first (Supporting Families' employment route: 31 March 2022, S40); the result was missed
    for good. None while it can be claimed. Such a result was payable on that day: one first
    payable after it could never have been claimed, so it is not missed.
    A missed attachment fee is marked alike (a judgement: no source records a fee claimed after
    the programme ended; the audit flags one ``CLAIMED_AFTER_CLAIMS_CLOSED``)."""
    claimed_before: tuple[str, ...] = ()
    """The claim file's claims of it that the audit allows nothing (claimed too early, say),
    by claim id: only a new claim gets it, while claims are open. Empty when it was never
    claimed."""

    def as_row(self) -> dict[str, Any]:
        """A flat row for tables and reports."""
        return {
            "family_id": self.family_id,
            "kind": self.kind,
            "amount": f"{self.amount:.2f}",
            "earliest_date": self.earliest_date.isoformat()
            if self.earliest_date
            else "not knowable",
            "claims_closed_on": self.claims_closed_on.isoformat() if self.claims_closed_on else "",
            "claimed_before": " ".join(self.claimed_before),
        }


@dataclass(frozen=True, slots=True)
class PlanUsed:
    """The outcome plan a programme's claims were judged against: the council's, or pbr's example.

    `sha256` is `pbr.engine.plan_sha256` of the plan: what ``rules_hash`` folds in.

    >>> from pbr.plans import example_plan
    >>> used = PlanUsed.of("tf-phase-2", example_plan("tf-phase-2"), example=True)
    >>> used.shown()
    "pbr-example-tfop/1.0 (pbr's example plan)"
    >>> used.describe().startswith("warning: pbr's example plan pbr-example-tfop/1.0, not the")
    True
    """

    programme: str
    label: str
    """The plan's id/version (as decisions record it in ``outcome_plan``)."""
    sha256: str
    example: bool
    """True when no plan was given for the programme, so pbr's example plan judged."""
    others: str = ""
    """With `example`, the plans given for other programmes (`pbr._summary_notes.plans_given`):
    the likely slip, named as ``pbr evaluate`` names it."""

    @classmethod
    def of(cls, programme: str, plan: OutcomePlan, *, example: bool, others: str = "") -> PlanUsed:
        """The plan used for `programme`, with its hash (`others`: see the attribute)."""
        from pbr.engine import plan_sha256

        return cls(programme, plan.label, plan_sha256(plan), example, others)

    def shown(self) -> str:
        """The plan's label, saying when it is pbr's example (a report's ``outcome_plan``)."""
        return f"{self.label} (pbr's example plan)" if self.example else self.label

    def describe(self) -> str:
        """The plan for a report's header: its label and hash, and whether it is pbr's example."""
        if self.example:
            return (
                f"warning: pbr's example plan {self.label}, not the council's (no --plan given "
                f"for {self.programme}{f'; {self.others}' if self.others else ''}), "
                f"sha256 {self.sha256}"
            )
        return f"{self.label}, sha256 {self.sha256}"


@dataclass(frozen=True, slots=True)
class Verification:
    """Every claim checked, every malformed row, the reconciliation by kind and missed claims.

    `unevaluated` lists families of the evidence that could not be searched for missed claims
    (family id, why): no programme covers them, or their payment records disagree. They are
    reported rather than dropped. `rejected_families` are the family records that could not be
    read (`pbr.Rejection`, as given to `verify`): a claim for one of them is flagged
    ``FAMILY_RECORD_REJECTED`` and unverified, as is a claim for a family whose payment records
    disagree (``PAYMENT_HISTORY_CONFLICT``). `rule_sets` names each rule set used with the interpretations
    in force (for a claim or for the missed search), `outcome_plans` the plan each phase-two or Supporting Families programme was
    judged against, and `history` where the payments came from (for the report's header).

    >>> result = verify([], [])
    >>> result.reconciliation()[-1]["claimed"], result.exceptions, result.missed
    (Decimal('0.00'), (), ())
    """

    checks: tuple[ClaimCheck, ...]
    rejections: tuple[ClaimRejection, ...]
    missed: tuple[MissedClaim, ...]
    as_of: date | None
    unevaluated: tuple[tuple[str, str], ...] = ()
    rule_sets: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """Each rule-set version used, with the interpretations in force (id, value), sorted: those
    that judged a claim and those that priced the missed search (every family it evaluated)."""
    history: str = ""
    """Where the payment history came from besides the family records (a ledger and its head)."""
    missed_fees: bool = True
    """Whether missed attachment fees were searched for (``missed_fees=False`` leaves them out)."""
    rejected_families: tuple[Rejection, ...] = ()
    """The family records that were rejected (`verify`'s `rejected_families`), in order."""
    outcome_plans: tuple[PlanUsed, ...] = ()
    """The outcome plan each programme with plans (phase two, Supporting Families) was judged
    against, by programme: the council's as given in `verify`'s `plans`, or pbr's example."""
    term_calendars: tuple[tuple[str, str, int], ...] = ()
    """Each rule-set version used (by a claim or the missed search) with a council's term
    calendar: the calendar's name and how many terms it gives its own dates (the others keep
    the default dates)."""

    @property
    def missed_results(self) -> tuple[MissedClaim, ...]:
        """The missed results payments (every missed claim but attachment fees).

        >>> verify([], []).missed_results
        ()
        """
        return tuple(m for m in self.missed if m.kind != "attachment_fee")

    @property
    def missed_for_good(self) -> tuple[MissedClaim, ...]:
        """The missed results that can no longer be claimed: their programme's claims had closed.

        >>> verify([], []).missed_for_good
        ()
        """
        return tuple(m for m in self.missed_results if m.claims_closed_on is not None)

    @property
    def missed_attachment_fees(self) -> tuple[MissedClaim, ...]:
        """The missed attachment fees, kept apart: they are a different kind of money.

        >>> verify([], []).missed_attachment_fees
        ()
        """
        return tuple(m for m in self.missed if m.kind == "attachment_fee")

    def reconciliation(self) -> list[dict[str, Any]]:
        """Claims, malformed rows and the money by kind, then the total row.

        Exact: each column of the total row is the sum of the rows above, and on every row
        ``claimed = verified + over_claimed + unverified``, where `unverified` is what malformed
        rows claim (their amount where it can be read) and what claims that cannot be judged
        claim (their family's record rejected, or its payment records disagreeing). Malformed rows whose kind cannot be read
        are on a row of their own, kind ``unreadable``.

        >>> verify([], []).reconciliation()[-1]["unverified"]
        Decimal('0.00')
        """
        keys = ("claimed", "verified", "over_claimed", "unverified", "under_claimed")
        counts = ("claims", "flagged", "malformed")
        kinds: dict[str, dict[str, Any]] = {}

        def row(kind: str) -> dict[str, Any]:
            blank: dict[str, Any] = {"kind": kind, **dict.fromkeys(counts, 0)}
            return kinds.setdefault(kind, blank | dict.fromkeys(keys, ZERO))

        for check in self.checks:
            r = row(check.claim.kind)
            r["claims"] += 1
            r["flagged"] += bool(check.flags)
            r["claimed"] += check.claim.amount
            r["verified"] += check.verified
            r["over_claimed"] += check.over_claimed
            r["unverified"] += check.unverified
            r["under_claimed"] += check.under_claimed
        for bad in self.rejections:
            r = row(bad.kind or "unreadable")
            r["malformed"] += 1
            r["claimed"] += bad.amount or ZERO
            r["unverified"] += bad.amount or ZERO
        rows = [kinds[k] for k in sorted(kinds, key=lambda k: (k == "unreadable", k))]
        total: dict[str, Any] = {"kind": "total"}
        for key in counts:
            total[key] = sum(r[key] for r in rows)
        for key in keys:
            total[key] = sum((r[key] for r in rows), ZERO)
        return [*rows, total]

    @property
    def amounts_not_read(self) -> tuple[ClaimRejection, ...]:
        """The malformed rows whose amount could not be read, in file order: in no total.

        Every other row's amount is in the reconciliation (a claim's, or a malformed row's as
        unverified); these claim sums nobody can know (``2,300.00``, ``£1500.00``, ``1.5E3``, a
        JSON float, none at all), so the claim file reconciles only with them counted apart:
        `ClaimRejection.amount_text` is each amount as written.

        >>> verify([], []).amounts_not_read
        ()
        """
        return tuple(r for r in self.rejections if r.amount is None)

    @property
    def amounts_read(self) -> int:
        """How many rows' amounts were read (the rows the reconciliation's claimed total adds).

        Every claim checked, and every malformed row whose amount could be read.

        >>> verify([], []).amounts_read
        0
        """
        return len(self.checks) + len(self.rejections) - len(self.amounts_not_read)

    @property
    def exceptions(self) -> tuple[ClaimCheck, ...]:
        """The flagged claims, in file order.

        >>> verify([], []).exceptions
        ()
        """
        return tuple(c for c in self.checks if c.flags)


@in_exact_arithmetic  # the claims' sums, whatever the caller's `decimal` context
def verify(
    claims: Iterable[Claim] | str | Path,
    families: Iterable[Family] | Mapping[str, Family],
    as_of: date | None = None,
    history: PaymentHistory | Ledger | Mapping[str, Iterable[Any]] | Iterable[Any] | None = None,
    *,
    rejections: Sequence[ClaimRejection] = (),
    rules_for: Callable[[Family], RuleSet] | None = None,
    plans: Mapping[str, OutcomePlan] | None = None,
    missed_fees: bool = True,
    rejected_families: Iterable[Rejection] = (),
) -> Verification:
    r"""Re-evaluate every claim against its family's evidence, in claim-date order.

    Each claim is judged on the evidence on its `claimed_on` date, against every payment known:
    the family record's merged with `history` (a `pbr.history.PaymentHistory`, a
    `pbr.ledger.Ledger`, or payments by family; see `pbr.history.merge_payments`), and the
    claims of the file verified before it (claims are judged in claim-date order, claims of
    one date in file order). A payment dated after the claim date counts too (for
    the fee already paid, the routes taken and the room under the cap): the claim would pay
    again what it paid, so a kind it paid is ``DUPLICATE_OF_PAYMENT``. A payment is a claim
    of this file being paid only when it is that very claim's: the same ``claim_id``, family and
    kind, paid on or after the claim date (or undated), made for a claim of that date where the
    history records one (`pbr.history.PaymentHistory.claimed_on`), and for the amount claimed
    (or for less, when the audit verifies exactly that: a cut claim recorded with ``--partial``).
    Then the file's own verdict on it stands in for it, so recording the verified claims (``pbr
    ledger record``) and auditing the same file again gives the same flags and amounts. Any other
    payment with a claim's id still counts: of another family or kind, or paid before the claim
    date, the claim is flagged ``CLAIM_ID_OF_OTHER_PAYMENT``; of its family and kind (another
    amount, another claim date), the kind is paid already: ``DUPLICATE_OF_PAYMENT``. A row that
    repeats an earlier row exactly is flagged ``DUPLICATE_IN_FILE``; claims sharing a claim id
    with other values are each ``MALFORMED_ROW``, whatever their order (the claim file reader
    makes each such row a rejection). `as_of` (default: the last
    claim date) is the date for missed claims: results and fees payable on it that were neither
    claimed in the file nor paid. The missed search counts every payment known as the claim
    check does, whatever its date: a payment dated after `as_of` pays its result or fee (not
    missed), takes its route and its share of the cap (not owed), so no money is both a
    ``DUPLICATE_OF_PAYMENT`` and missed. `missed_fees=False` leaves attachment fees out of
    them. `rules_for` picks each family's rule set (default `pbr.rule_set_for`; pass one with the
    council's interpretations), `plans` the outcome plans by programme. Malformed rows
    (`rejections`, from `read_claims`) are carried into the result, never dropped; given a claim
    file's path instead of claims, `verify` reads it and carries its malformed rows.
    `rejected_families` are the family records that could not be read (the `pbr.Rejection`\ s
    of `pbr.read_records`): a claim for a family with no record but a rejected one is flagged
    ``FAMILY_RECORD_REJECTED`` and counted as unverified, not over-claimed, since its evidence
    could not be read; the rejections are carried into the result for the reports. A claim for
    a family whose record and `history` disagree about a payment (its kind, amount or date) is
    flagged ``PAYMENT_HISTORY_CONFLICT`` and unverified too: what the family was paid is not
    known, so neither is what is due.

    >>> import pbr
    >>> from datetime import date
    >>> from pbr.audit import Claim, verify
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> claim = Claim(claim_id="C1", family_id="F1", kind="continuous_employment",
    ...               amount="800.00", claimed_on=date(2013, 6, 30))
    >>> verify([claim], [family]).checks[0].codes
    ('RESULT_NOT_MET',)

    A claim built without validation (`Claim.model_construct`) and dated outside the days pbr
    evaluates (`pbr.periods.AS_OF_EARLIEST` to 2099-12-31), which `Claim` refuses, is flagged
    ``MALFORMED_ROW``, as the claim file reader makes such a row.

    Raises:
        pbr.ledger.LedgerError: `history` is a ledger that does not verify.
        pbr.history.HistoryError: `history` holds a payment that is not valid, or one claim id
            for two families (a family whose record disagrees with it is flagged instead).
        TypeError: an argument of the wrong type (a claim or family given as a dict, `as_of` as
            text or a `datetime`), named when the call is made.
        ValueError: `as_of` is outside the dates pbr evaluates (`pbr.periods.check_as_of`).

    """
    from pbr._arguments import check_claims, check_families, check_family, check_ledger
    from pbr.engine import evaluate, provenance, rule_set_for

    if as_of is not None:
        check_as_of(as_of)
    check_ledger(history, "history")
    if isinstance(claims, str | Path):
        from pbr.audit._claims import read_claims

        claims, read_rejections = read_claims(claims)
        rejections = (*read_rejections, *rejections)
    claims = check_claims(claims)
    if isinstance(families, Mapping):
        for key, family in families.items():
            check_family(family, f"families[{key!r}]")
        by_id = dict(families)
    else:
        by_id = {f.family_id: f for f in check_families(families)}
    refused = tuple(rejected_families)
    why_refused: dict[str, Rejection] = {}
    for r in refused:
        if r.family_id is not None:
            why_refused.setdefault(r.family_id, r)
    plans = dict(plans or {})
    loaded = PaymentHistory.load(history) if history is not None else PaymentHistory.of({})
    own: dict[tuple[str, str], Claim] = {}
    own_row: dict[tuple[str, str], int] = {}
    for i, c in enumerate(claims):
        own.setdefault((c.family_id, c.claim_id), c)
        own_row.setdefault((c.family_id, c.claim_id), i)
    elsewhere = _paid_ids({c.claim_id for c in claims}, loaded, by_id.values())
    pick = rules_for or rule_set_for
    planned: set[str] = set()  # the programmes judged against an outcome plan
    calendars: dict[str, tuple[str, int]] = {}  # a council's term calendar, by rule-set version
    bounds: dict[str, tuple[Decimal, Decimal]] = {}  # each family's cap and fee due, as judged

    ambiguous = _ambiguous_ids(claims)

    def audit(not_own: frozenset[tuple[str, str]]) -> _Pass:
        """One pass over the claims, taking the payments of `not_own` as not their claims'."""
        paid = _Payments(loaded, own, not_own, pick)
        verified_by: dict[tuple[str, str], str] = {}
        claimed: set[tuple[str, str]] = set()
        checks: dict[int, ClaimCheck] = {}
        used: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        first: dict[str, int] = {}
        for i, claim in enumerate(claims):  # a row repeating an earlier one
            j = first.setdefault(claim.claim_id, i)
            if claim.claim_id in ambiguous:
                checks[i] = _blocked(claim, _ambiguous(claim, ambiguous[claim.claim_id]))
            elif j != i:
                earlier = claims[j]
                same = earlier.model_dump(exclude={"row"}) == claim.model_dump(exclude={"row"})
                what = "repeats" if same else "reuses the claim id of"
                checks[i] = _blocked(
                    claim,
                    Flag(
                        "DUPLICATE_IN_FILE",
                        f"row {claim.row} {what} row {earlier.row} (claim {claim.claim_id})"
                        + (" exactly" if same else ""),
                        _numbers(claim) | {"earlier_row": str(earlier.row)},
                    ),
                )
        for i in sorted(range(len(claims)), key=lambda i: (claims[i].claimed_on, i)):
            if i in checks:
                continue
            claim = claims[i]
            undated = _undated(claim)
            if undated is not None:  # a claim built without validation: as the reader refuses it
                checks[i] = _blocked(claim, undated)
                continue
            key = (claim.family_id, claim.kind)
            claimed.add(key)
            family = by_id.get(claim.family_id)
            if family is None and claim.family_id in why_refused:
                checks[i] = _unverified(claim, why_refused[claim.family_id])
                continue
            if family is None:
                checks[i] = _blocked(
                    claim,
                    Flag(
                        "UNKNOWN_FAMILY",
                        f"no family record {claim.family_id!r}",
                        {"family_id": claim.family_id},
                    ),
                )
                continue
            known, conflict = paid.of(family)
            if conflict is not None:  # what the family was paid is not known: nor what is due
                checks[i] = _unjudged(
                    claim,
                    Flag(
                        "PAYMENT_HISTORY_CONFLICT",
                        str(conflict),
                        _numbers(claim) | {"history": paid.history.source},
                        "payment.history",
                    ),
                )
                continue
            taken = paid.taken.get((claim.family_id, claim.claim_id))
            if taken is not None:  # the id of a payment that is not this claim's: it counts
                checks[i] = _blocked(claim, _id_taken(claim, taken, claim.family_id))
                continue
            owner = elsewhere.get(claim.claim_id)
            if owner is not None and owner[0] != claim.family_id:  # another family's payment
                checks[i] = _blocked(claim, _id_taken(claim, owner[1], owner[0]))
                continue
            day = claim.claimed_on
            made = [p for p in known if p.paid_on is None or p.paid_on <= day]
            later = [p for p in known if p.paid_on is not None and p.paid_on > day]
            try:
                rules = pick(family)
                plan = plans.get(rules.programme)
                record = family.model_copy(update={"payments": tuple(known)})
                counted = _paid_by(record, day, made, later)
                decision = evaluate(counted, as_of=day, rules=rules, plan=plan)
            except OutsideProgramme as exc:
                checks[i] = _blocked(claim, Flag("OUTSIDE_PROGRAMME", str(exc)))
                continue
            used.add((decision.rules_version, tuple(sorted(decision.interpretations.items()))))
            named = rules.term_calendar.named
            if named is not None:
                calendars[decision.rules_version] = (named, len(rules.term_calendar.overrides))
            if decision.outcome_plan is not None:
                planned.add(decision.programme)
            used_plan = _plan_used(decision.programme, plans) if decision.outcome_plan else None
            fee_paid = sum((p.amount for p in known if p.kind == "attachment_fee"), ZERO)
            results_paid = sum((p.amount for p in known if p.kind != "attachment_fee"), ZERO)
            room = max(decision.cap - max(decision.attachment_fee, fee_paid) - results_paid, ZERO)
            bounds[claim.family_id] = (decision.cap, decision.attachment_fee)
            first_fee = next((p for p in (*made, *later) if p.kind == "attachment_fee"), None)
            paid_later: dict[str, Payment] = {}
            for p in later:  # a kind paid only after the claim date: the payment to name
                if all(m.kind != p.kind for m in made):
                    paid_later.setdefault(p.kind, p)
            context = _Context(
                decision,
                rules,
                family,
                verified_by.get(key),
                first_fee,
                room,
                paid_later,
                provenance(record, day, rules, plan) if later else decision.provenance,
                used_plan,
                {
                    p.kind: p.claim_id
                    for p in made
                    if p.claim_id is not None and paid.from_file(claim.family_id, p)
                },
            )
            check = _check(claim, context)
            why = paid.reused.get((claim.family_id, claim.claim_id))
            if why is not None:  # a payment under this claim's id that is another claim's
                check = _not_its_payment(check, why)
            checks[i] = check
            if check.verified > 0:
                verified_by[key] = claim.claim_id
            paid.count(check)
        return checks, used, claimed, paid

    not_own: frozenset[tuple[str, str]] = frozenset()
    while True:  # a payment taken for its claim that the audit does not verify at its amount
        checks, used, claimed, paid = audit(not_own)  # is another payment: again, counting it
        wrong = {
            key
            for key, payment in paid.pending.items()
            if checks[own_row[key]].verified != payment.amount
        }
        if not wrong:
            break
        not_own |= wrong
    _share_room(checks, paid, bounds)
    counted, allowed_nothing = _claimed_kinds(checks, claimed)
    dated = (c.claimed_on for c in claims if AS_OF_EARLIEST <= c.claimed_on <= LATEST_DATE)
    when = as_of or max(dated, default=None)
    missed: list[MissedClaim] = []
    unevaluated: list[tuple[str, str]] = []
    if when is not None:
        missed, unevaluated = _missed(
            by_id.values(),
            when,
            paid,
            pick,
            plans,
            counted,
            fees=missed_fees,
            planned=planned,
            refused=allowed_nothing,
            used=used,
            calendars=calendars,
        )
    return Verification(
        checks=tuple(checks[i] for i in range(len(claims))),
        rejections=tuple(rejections),
        missed=tuple(missed),
        as_of=when,
        unevaluated=tuple(unevaluated),
        rule_sets=tuple(sorted(used)),
        history=loaded.source if history is not None else "",
        missed_fees=missed_fees,
        rejected_families=refused,
        outcome_plans=_plans_used(planned, plans),
        term_calendars=tuple((v, *named) for v, named in sorted(calendars.items())),
    )


def _claimed_kinds(
    checks: Mapping[int, ClaimCheck], claimed: set[tuple[str, str]]
) -> tuple[set[tuple[str, str]], dict[tuple[str, str], tuple[str, ...]]]:
    """The (family, kind) pairs a claim pays, and the claim ids of those only refused claims claim.

    A pair some claim verifies or under-claims is not searched for as missed: its claims hold
    it. A pair whose every claim the audit allows nothing (claimed before its result was met,
    say) is searched: the result is still owed, and the missed claim names those claims.
    """
    counted: set[tuple[str, str]] = {
        (c.claim.family_id, c.claim.kind)
        for c in checks.values()
        if c.verified > 0 or c.under_claimed > 0
    }
    refused: dict[tuple[str, str], tuple[str, ...]] = {}
    for i in sorted(checks, key=lambda i: (checks[i].claim.claimed_on, i)):
        claim = checks[i].claim
        key = (claim.family_id, claim.kind)
        if key in claimed and key not in counted and claim.claim_id not in refused.get(key, ()):
            refused[key] = (*refused.get(key, ()), claim.claim_id)
    return counted, refused


def _share_room(
    checks: dict[int, ClaimCheck],
    paid: _Payments,
    bounds: Mapping[str, tuple[Decimal, Decimal]],
) -> None:
    """Cut a family's under-claims to the room its claims leave: of each kind, then the cap.

    Each claim's under-claim is what the rules allow it above its amount, judged with the
    family's other claims at their amounts, so two claims can be short of the same room. Of
    one kind (a result is paid once, a fee once in all), the claims' under-claims are only what
    the kind allows beyond what its claims verify: a £0.00 claim is not short of a result a
    later claim verifies in full. The results' under-claims together are only what is left
    under the cap once every claim is paid what it verifies. The earliest claim (by claim
    date, then row) keeps its under-claim first. The missed search (`_Payments.at_allowed`)
    reads the cut amounts.
    """
    kinds: dict[tuple[str, str], list[int]] = {}
    for i in sorted(checks, key=lambda i: (checks[i].claim.claimed_on, i)):
        claim = checks[i].claim
        kinds.setdefault((claim.family_id, claim.kind), []).append(i)
    for mine in kinds.values():
        if not any(checks[i].under_claimed > 0 for i in mine):
            continue
        allowed = max(checks[i].allowed for i in mine)
        verified: Decimal = sum((checks[i].verified for i in mine), ZERO)
        left = max(allowed - verified, ZERO)
        note = (
            f"the family's claims of this kind in the file verify £{verified:,.2f} of the "
            f"£{allowed:,.2f} it allows: £{left:,.2f} is left"
        )
        _cut_to(checks, paid, [i for i in mine if checks[i].under_claimed > 0], left, note)
    results: dict[str, list[int]] = {}
    for mine in kinds.values():
        for i in mine:
            if checks[i].under_claimed > 0 and checks[i].claim.kind != "attachment_fee":
                results.setdefault(checks[i].claim.family_id, []).append(i)
    for family_id, mine in results.items():
        if family_id not in bounds:
            continue
        cap, fee_due = bounds[family_id]
        payments = paid.lists.get(family_id, [])
        fee_paid: Decimal = sum((p.amount for p in payments if p.kind == "attachment_fee"), ZERO)
        results_paid: Decimal = sum(
            (p.amount for p in payments if p.kind != "attachment_fee"), ZERO
        )
        room = max(cap - max(fee_due, fee_paid) - results_paid, ZERO)
        note = (
            f"£{room:,.2f} is left under the £{cap:,.0f} cap once the family's claims in the "
            "file are paid what they verify"
        )
        mine.sort(key=lambda i: (checks[i].claim.claimed_on, i))
        _cut_to(checks, paid, mine, room, note)


def _cut_to(
    checks: dict[int, ClaimCheck], paid: _Payments, rows: list[int], room: Decimal, note: str
) -> None:
    """Cut the under-claims of `rows` (earliest first) to `room` in all, the latest cut first."""
    excess = sum((checks[i].under_claimed for i in rows), ZERO) - room
    for i in reversed(rows):
        if excess <= 0:
            return
        check = checks[i]
        cut = min(excess, check.under_claimed)
        excess -= cut
        checks[i] = _under_cut(check, check.under_claimed - cut, note)
        paid.recount_under(check.claim, check.verified + checks[i].under_claimed)


def _under_cut(check: ClaimCheck, under: Decimal, note: str) -> ClaimCheck:
    """`check` with its under-claim cut to `under`, its flag saying why (`note`)."""
    said = (
        f"; of the £{check.under_claimed:,.2f} more it allows, £{under:,.2f} is left to it: "
        f"{note} (to the earliest claims first)"
    )
    flags = tuple(
        replace(
            f,
            message=f.message + said,
            compared={**f.compared, "under_claimed": f"{under:.2f}"},
        )
        if f.code == "AMOUNT_DIFFERS"
        else f
        for f in check.flags
    )
    return replace(check, flags=flags, under_claimed=under)


def _plans_used(
    programmes: Iterable[str], plans: Mapping[str, OutcomePlan]
) -> tuple[PlanUsed, ...]:
    """The plan each programme was judged against (`_plan_used`), by programme."""
    return tuple(_plan_used(p, plans) for p in sorted(programmes))


def _plan_used(programme_id: str, plans: Mapping[str, OutcomePlan]) -> PlanUsed:
    """The plan `programme_id` is judged against: the one given, else pbr's example."""
    given = plans.get(programme_id)
    if given is not None:
        return _hashed(programme_id, given, example=False)
    from pbr._summary_notes import plans_given
    from pbr.plans import example_plan

    others = plans_given(plans)
    return _hashed(programme_id, example_plan(programme_id), example=True, others=others)


@lru_cache(maxsize=16)
def _hashed(programme_id: str, plan: OutcomePlan, *, example: bool, others: str = "") -> PlanUsed:
    """`PlanUsed.of`, hashed once a plan (a claim file asks again and again)."""
    return PlanUsed.of(programme_id, plan, example=example, others=others)


_Pass = tuple[
    dict[int, ClaimCheck],
    set[tuple[str, tuple[tuple[str, str], ...]]],
    set[tuple[str, str]],
    "_Payments",
]
"""One pass of `verify` over the claims: the checks by row, the rule sets used, the (family,
kind) pairs claimed, and the payments as that pass took them."""


def _not_its_payment(check: ClaimCheck, why: str) -> ClaimCheck:
    """The check, its ``DUPLICATE_OF_PAYMENT`` saying why the payment under its id is not its.

    That payment is for another amount, or was recorded for a claim made on another day.
    """
    claim_id = check.claim.claim_id
    flags = tuple(
        replace(
            f,
            message=f"{f.message}; the payment under this claim's id, {claim_id!r}, is not this "
            f"claim's: {why}",
            compared={**f.compared, "reused_claim_id": claim_id},
        )
        if f.code == "DUPLICATE_OF_PAYMENT"
        else f
        for f in check.flags
    )
    return replace(check, flags=flags)


def _paid_by(
    record: Family, day: date, made: Sequence[Payment], later: Sequence[Payment]
) -> Family:
    """The record with the payments dated after `day` counted as made by then, for the engine.

    A payment in the history is known when the audit runs, whatever its date: a claim dated
    before it would pay it again, so the claim is judged as if it had been made (already paid,
    the routes it closes, the room under the cap). The payments made by `day` come first, as
    listed, so that a kind paid by then is named by its own payment.
    """
    if not later:
        return record
    moved = [p.model_copy(update={"paid_on": day}) for p in later]
    return record.model_copy(update={"payments": (*made, *moved)})


def _unverified(claim: Claim, rejection: Rejection) -> ClaimCheck:
    """A claim whose family's record was rejected: nothing of it can be judged either way."""
    from pbr._rejection import json_text

    source = Path(json_text(rejection.source) or "").name
    where = f"{source}:{rejection.line}" if rejection.line is not None else source
    errors = "; ".join(e.describe() for e in rejection.errors[:3])
    more = f" (and {len(rejection.errors) - 3} more)" if len(rejection.errors) > 3 else ""
    flag = Flag(
        "FAMILY_RECORD_REJECTED",
        f"the record of family {claim.family_id!r} was rejected ({where}: {errors}{more}), so "
        "the claim cannot be checked: fix the record and audit again",
        _numbers(claim) | {"family_id": claim.family_id, "record": where},
    )
    return _unjudged(claim, flag)


def _unjudged(claim: Claim, flag: Flag) -> ClaimCheck:
    """A claim `flag` says cannot be judged either way: its amount unverified, not over-claimed."""
    return ClaimCheck(claim, (flag,), ZERO, ZERO, ZERO, ZERO, unverified=claim.amount)


def _undated(claim: Claim) -> Flag | None:
    """The flag of a claim dated outside the days pbr evaluates, or None.

    `Claim` refuses such a date, so only a claim built without validation (``model_construct``)
    has one: it is malformed, as the claim file reader would have made its row.
    """
    day = claim.claimed_on
    if AS_OF_EARLIEST <= day <= LATEST_DATE:
        return None
    if day < AS_OF_EARLIEST:
        bound = {"earliest_date": AS_OF_EARLIEST.isoformat()}
        why = (
            f"a claim is dated from {AS_OF_EARLIEST}, when the first programme began (the "
            "earliest date pbr evaluates)"
        )
    else:
        bound = {"latest_date": LATEST_DATE.isoformat()}
        why = f"a claim is dated up to {LATEST_DATE}, the last date pbr evaluates"
    return Flag(
        "MALFORMED_ROW",
        f"claimed_on = {day}: {why}, so the claim cannot be judged",
        _numbers(claim) | bound,
    )


def _ambiguous_ids(claims: Sequence[Claim]) -> dict[str, list[Claim]]:
    """The claims of each claim id that claims with other values share (`_ambiguous`)."""
    by_id: dict[str, list[Claim]] = {}
    for claim in claims:
        by_id.setdefault(claim.claim_id, []).append(claim)
    return {
        claim_id: them
        for claim_id, them in by_id.items()
        if len({repr(c.model_dump(exclude={"row"})) for c in them}) > 1
    }


def _ambiguous(claim: Claim, sharing: Sequence[Claim]) -> Flag:
    """A claim whose id claims with other values have: which is the claim cannot be known.

    Judging the first would let the order of the claims decide what is verified; the claim
    file reader makes each such row a rejection (`pbr.audit.read_claims`), whatever its order.
    """
    own = claim.model_dump(exclude={"row"})
    others = [c for c in sharing if c.model_dump(exclude={"row"}) != own]
    if all(c.row for c in others):
        rows = [str(c.row) for c in others]
        where = f"row {rows[0]}" if len(rows) == 1 else "rows " + ", ".join(rows)
    else:  # claims made in Python, not read from a file: named by their values
        where = "; ".join(
            f"a claim of {c.family_id}'s {c.kind}, £{c.amount:.2f} on {c.claimed_on}"
            for c in others
        )
    return Flag(
        "MALFORMED_ROW",
        f"the same claim_id is on {where} with other values: which is the claim cannot be "
        "known, so none of them is judged",
        _numbers(claim) | {"other_rows": " ".join(str(c.row) for c in others)},
    )


def _numbers(claim: Claim) -> dict[str, str]:
    return {"claimed": f"{claim.amount:.2f}", "claimed_on": claim.claimed_on.isoformat()}


class _Payments:
    """Each family's payments for this audit: its record's merged with the history's, once.

    A payment that is the payment of one of this file's claims is that claim being paid: it is
    left out, the file's verdict standing in for it, and the claims verified as the audit goes
    are added to the same lists. It is that claim's only when it is that very claim: the same
    family, claim id and kind, paid on or after the claim date (or undated), made for a claim of
    that date where the history records one (`PaymentHistory.claimed_on`), and for the amount
    claimed, or for less when the audit verifies exactly that (a claim cut by `AMOUNT_DIFFERS` or
    `CAP_EXCEEDED` and recorded with ``--partial``: `pending`, checked once the claim is judged).
    Any other payment counts, whatever its claim id: one of another kind or dated before the
    claim is kept in `taken` (``CLAIM_ID_OF_OTHER_PAYMENT``); one of the same kind for another
    amount or claim date pays the kind already (``DUPLICATE_OF_PAYMENT``), and `reused` says why
    it is not the claim's.
    """

    def __init__(
        self,
        history: PaymentHistory,
        own: Mapping[tuple[str, str], Claim],
        not_own: frozenset[tuple[str, str]] = frozenset(),
        pick: Callable[[Family], RuleSet] | None = None,
    ) -> None:
        self.history = history
        self.pick = pick
        """Each family's rule set, which the history's payments are held to (`merge_payments`)."""
        self.own = own
        self.not_own = not_own
        """(family, claim id) whose payment for less than the claim the audit found not its."""
        self.lists: dict[str, list[Payment]] = {}
        self.conflicts: dict[str, HistoryError] = {}
        self.taken: dict[tuple[str, str], Payment] = {}
        """A payment by (family, claim id) whose claim id a claim of the file reuses."""
        self.pending: dict[tuple[str, str], Payment] = {}
        """A payment for less than its claim, taken for it if the audit verifies that much."""
        self.claimed: set[tuple[str, str]] = set()
        """(family, claim id) of each claim of the file counted as paid what it verifies."""
        self.reused: dict[tuple[str, str], str] = {}
        """Why the payment under a claim's id, of its kind, is not that claim's payment."""
        self.under: dict[str, list[tuple[int, bool, Payment]]] = {}
        """By family, each under-claim of the file as paid what the rules allow it: its place in
        the family's list, whether it replaces the payment there (else it goes before), and the
        payment (`at_allowed`)."""

    def of(self, family: Family) -> tuple[list[Payment], HistoryError | None]:
        """The family's payment list (shared: verified claims are appended), or its conflict."""
        fid = family.family_id
        if fid not in self.lists and fid not in self.conflicts:
            try:
                rules = self.pick(family) if self.pick is not None else None
            except OutsideProgramme:  # the audit says so where it judges the family
                rules = None
            try:
                merged = merge_payments(family, self.history, rules=rules).payments
            except HistoryError as exc:
                self.conflicts[fid] = exc
                self.lists[fid] = []
            else:
                self.lists[fid] = [p for p in merged if not self._paying_its_claim(fid, p)]
        return self.lists[fid], self.conflicts.get(fid)

    def count(self, check: ClaimCheck) -> None:
        """Count a judged claim as paid what it verifies, on its claim date; note an under-claim.

        A claim already paid counts as paid what the audit verifies of it, as every claim does:
        what it over-claims is to be given back, and the audit counts it given back (a later
        claim of the result is then verified, and the result, if claimed by no other, missed).

        Later claims are judged against what was claimed (what would be paid); the under-claim
        is kept apart for the missed search (`at_allowed`).
        """
        claim = check.claim
        payments = self.lists[claim.family_id]
        made = Payment.model_construct(
            kind=claim.kind,
            amount=check.verified,
            paid_on=claim.claimed_on,
            claim_id=claim.claim_id,
        )
        if check.verified > 0:
            payments.append(made)
            self.claimed.add((claim.family_id, claim.claim_id))
        if check.under_claimed > 0:
            allowed = made.model_copy(update={"amount": check.verified + check.under_claimed})
            place = (len(payments) - 1, True) if check.verified > 0 else (len(payments), False)
            self.under.setdefault(claim.family_id, []).append((*place, allowed))

    def from_file(self, fid: str, payment: Payment) -> bool:
        """Whether `payment` is a claim of this file counted as paid, not a payment made."""
        return payment.claim_id is not None and (fid, payment.claim_id) in self.claimed

    def recount_under(self, claim: Claim, allowed: Decimal) -> None:
        """Put right `claim`'s under-claim at `allowed` (`_share_room` cut it), or drop it."""
        fixes = self.under.get(claim.family_id, [])
        for n, (place, replaces, payment) in enumerate(fixes):
            if payment.claim_id == claim.claim_id and payment.kind == claim.kind:
                if allowed > 0:
                    fixes[n] = (place, replaces, payment.model_copy(update={"amount": allowed}))
                else:  # nothing verified and nothing left to put right: no payment at all
                    del fixes[n]
                return

    def at_allowed(self, family: Family) -> tuple[list[Payment], HistoryError | None]:
        """The family's payments (`of`) with each claim of the file paid what the rules allow it.

        As if every under-claim were put right: a result is missed only by what would be left
        to pay after that, so no pound is counted both under-claimed and missed.
        """
        known, conflict = self.of(family)
        fixes = self.under.get(family.family_id, [])
        if not fixes:
            return known, conflict
        replaced = {place: payment for place, replaces, payment in fixes if replaces}
        found: list[Payment] = []
        for i in range(len(known) + 1):
            found += [payment for place, replaces, payment in fixes if place == i and not replaces]
            if i < len(known):
                found.append(replaced.get(i, known[i]))
        return found, conflict

    def _paying_its_claim(self, fid: str, payment: Payment) -> bool:
        """Whether `payment` is the payment of the file's claim with its claim id."""
        claim = self.own.get((fid, payment.claim_id)) if payment.claim_id is not None else None
        if claim is None:
            return False
        key = (fid, claim.claim_id)
        paid_on = payment.paid_on
        if payment.kind != claim.kind or (paid_on is not None and paid_on < claim.claimed_on):
            self.taken.setdefault(key, payment)
            return False
        recorded = self.history.claimed_on.get(claim.claim_id)
        amounts = f"it paid £{payment.amount:,.2f}, and this claim is for £{claim.amount:,.2f}"
        if recorded is not None and recorded != claim.claimed_on:
            self.reused[key] = (
                f"it paid a claim made on {recorded}, and this claim was made on {claim.claimed_on}"
            )
            return False
        if payment.amount > claim.amount or key in self.not_own:
            self.reused[key] = amounts + (
                "" if payment.amount > claim.amount else " (and the rules allow it another sum)"
            )
            return False
        if payment.amount < claim.amount:  # this claim's if the audit verifies that much
            self.pending[key] = payment
        return True


def _paid_ids(
    ids: set[str], history: PaymentHistory, families: Iterable[Family]
) -> dict[str, tuple[str, Payment]]:
    """The family and payment of each claim id in `ids` that a payment known already has."""
    found: dict[str, tuple[str, Payment]] = {}
    for fid, payments in history.by_family.items():
        for p in payments:
            if p.claim_id in ids:
                found.setdefault(p.claim_id, (fid, p))
    for family in families:
        for p in family.payments:
            if p.claim_id in ids:
                found.setdefault(p.claim_id, (family.family_id, p))
    return found


def _id_taken(claim: Claim, payment: Payment, owner: str) -> Flag:
    """The flag of a claim whose claim id is a payment's (of family `owner`) that cannot be its."""
    paid_on = payment.paid_on
    why = (
        f"a payment of another family ({owner})"
        if owner != claim.family_id
        else f"a payment of another kind ({payment.kind})"
        if payment.kind != claim.kind
        else f"paid on {paid_on}, before the claim date {claim.claimed_on}"
    )
    return Flag(
        "CLAIM_ID_OF_OTHER_PAYMENT",
        f"claim id {claim.claim_id!r} is already a payment's: family {owner!r} was paid "
        f"{payment.kind} £{payment.amount:,.2f} on {paid_on or '(date not recorded)'} under it, "
        f"which cannot be this claim's payment ({why}); that payment counts, and nothing of this "
        "claim is verified until it has a claim id of its own",
        _numbers(claim)
        | {
            "paid_kind": payment.kind,
            "paid_amount": f"{payment.amount:.2f}",
            "paid_on": paid_on.isoformat() if paid_on else "",
            "paid_claim_id": payment.claim_id or "",
        }
        | ({"paid_family_id": owner} if owner != claim.family_id else {}),
    )


def _blocked(claim: Claim, flag: Flag) -> ClaimCheck:
    return ClaimCheck(claim, (flag,), ZERO, ZERO, claim.amount, ZERO)


@dataclass(frozen=True, slots=True)
class _Context:
    """What a claim is judged against: the decision on its date and the payments before it."""

    decision: Decision
    rules: RuleSet
    family: Family
    verified_in_file: str | None
    """The claim of this file already verified for the same family and kind, if any."""
    fee_paid: Payment | None
    """The first attachment fee paid by the claim date, else the first paid after it, if any."""
    room: Decimal
    """What is left under the cap after every payment known, whatever its date."""
    paid_later: Mapping[str, Payment] = field(default_factory=dict)
    """By kind, the first payment dated after the claim date of a kind not paid by then."""
    provenance: Provenance | None = None
    """The provenance of the record as given (with its payments as dated)."""
    outcome_plan: PlanUsed | None = None
    """The outcome plan the decision was judged against, if its programme has plans."""
    claimed_in_file: Mapping[str, str] = field(default_factory=dict)
    """By kind, the claim of this file counted as paid by the claim date (not a payment made)."""


def _check(claim: Claim, ctx: _Context) -> ClaimCheck:
    """The flags and amounts for one claim, given the decision on its claim date.

    The claim is valued on its own: results the engine finds payable now by other routes are
    the council's to claim or not, so they do not reduce this one (`room` counts only payments
    known); a route is blocked only by another route already paid or claimed, or, under
    ``employment_after_crime = exclusive``, by employment met at the same time.
    """
    from pbr.output import interpretations_text

    decision = ctx.decision
    numbers = {"claimed": f"{claim.amount:.2f}", "claimed_on": claim.claimed_on.isoformat()}
    flags: list[Flag] = []
    allowed = ZERO
    if claim.kind == "attachment_fee":
        flag, allowed = _fee(claim, ctx, numbers)
        flags += [flag] if flag else []
        closed = _claims_closed(claim, ctx, numbers)  # no fee claim is known after it
        flags += [closed] if closed else []
    elif claim.kind not in decision.results:
        flags.append(
            Flag(
                "KIND_NOT_IN_PROGRAMME",
                f"{decision.programme} has no {claim.kind} result "
                f"(it has {', '.join(decision.results)})",
                numbers | {"programme": decision.programme},
                f"results ({decision.rules_version})",
            )
        )
    elif not decision.eligible:
        flags.append(_not_eligible(decision, numbers))
    else:
        flag, allowed = _result(claim, ctx, decision.results[claim.kind], numbers)
        flags += [flag] if flag else []
        closed = _claims_closed(claim, ctx, numbers)
        flags += [closed] if closed else []
    if not flags and claim.amount != allowed:
        result = decision.results.get(claim.kind)  # type: ignore[arg-type]
        rate = _rate_reason(result)
        full = result.rate if result is not None else decision.attachment_fee
        flags.append(
            Flag(
                "AMOUNT_DIFFERS",
                f"claimed £{claim.amount:,.2f}, the rules allow £{allowed:,.2f}",
                numbers | {"rate": f"{full:.2f}", "allowed": f"{allowed:.2f}"},
                rate.rule if rate else "payment.rate.attachment_fee",
                rate.source if rate else _fee_source(ctx),
            )
        )
    partial = all(f.code in PARTIAL_FLAGS for f in flags)
    verified = min(claim.amount, allowed) if partial else ZERO
    return ClaimCheck(
        claim=claim,
        flags=tuple(flags),
        allowed=allowed,
        verified=verified,
        over_claimed=claim.amount - verified,
        under_claimed=allowed - claim.amount if partial and allowed > claim.amount else ZERO,
        rules_version=decision.rules_version,
        provenance=ctx.provenance,
        outcome_plan=ctx.outcome_plan,
        term_calendar=ctx.rules.term_calendar.named,
        interpretations=interpretations_text(ctx.rules.chosen),
    )


def _closed_before(rules: RuleSet, day: date) -> date | None:
    """The programme's last day for results claims, if `day` is after it (phase one: May 2015)."""
    closed = rules.claims_until()
    return closed if closed is not None and day > closed else None


def _claims_closed(claim: Claim, ctx: _Context, numbers: dict[str, str]) -> Flag | None:
    """The flag on a claim dated after the programme's last day for claims.

    The rules date the last day for results claims (phase one: 31 May 2015, S12). An attachment
    fee claimed after it is flagged alike: a judgement, as no source states a last day for fee
    claims, but none records a fee claimed after the programme ended, and pbr's forecast already
    counts such fees as never paid (`pbr.forecast.Drawdown.fees_after_claims_closed`).
    """
    rules = ctx.rules
    closed = _closed_before(rules, claim.claimed_on)
    if closed is None:
        return None
    what = "an attachment fee claim" if claim.kind == "attachment_fee" else "a results claim"
    return Flag(
        "CLAIMED_AFTER_CLAIMS_CLOSED",
        f"claimed on {claim.claimed_on}, after the programme's last day for claims ({closed}): "
        f"{what} made then would not have been paid",
        numbers | {"claims_until": closed.isoformat()},
        "payment.claims_closed",
        rules.source_of_rule("payment.claims_closed"),
    )


def _fee_source(ctx: _Context) -> str:
    """The source of the fee the family's attachment year pays, as the interpretations chose it.

    (Phase two under ``attachment_fees_after_2017_18 = stopped`` pays none from 2018/19, on its
    own sources: `Programme.attachment_fee_source`, as the engine's reasons cite it.)
    """
    chosen = programme(ctx.decision.programme)
    return chosen.attachment_fee_source(ctx.rules, financial_year_of(ctx.decision.attached_on))


def _cap_source(ctx: _Context) -> str:
    """The source of the cap on the family's attachment year, as the engine's reasons cite it.

    (`Programme.cap_source`: the year's value, under the interpretations chosen, not every
    year's; phase two under ``attachment_fees_after_2017_18 = stopped`` has its own.)
    """
    chosen = programme(ctx.decision.programme)
    return chosen.cap_source(ctx.rules, financial_year_of(ctx.decision.attached_on))


def _fee(claim: Claim, ctx: _Context, numbers: dict[str, str]) -> tuple[Flag | None, Decimal]:
    decision = ctx.decision
    if claim.claimed_on < decision.attached_on:
        return Flag(
            "CLAIMED_TOO_EARLY",
            f"the family was attached on {decision.attached_on}, after the claim",
            numbers | {"earliest_date": decision.attached_on.isoformat()},
            "attachment_fee",
            _fee_source(ctx),
        ), ZERO
    if not decision.eligible:
        return _not_eligible(decision, numbers), ZERO
    paid = ctx.fee_paid
    if paid is not None:
        earlier = {
            "paid_amount": f"{paid.amount:.2f}",
            "paid_on": paid.paid_on.isoformat() if paid.paid_on else "",
            "paid_claim_id": paid.claim_id or "",
        }
        flag = _duplicate(ctx.verified_in_file, "the attachment fee", numbers | earlier, None)
        return replace(flag, source=_fee_source(ctx)), ZERO
    return None, decision.attachment_fee


def _result(
    claim: Claim, ctx: _Context, result: ResultDecision, numbers: dict[str, str]
) -> tuple[Flag | None, Decimal]:
    first = result.reasons[0] if result.reasons else None
    rule, source = (first.rule, first.source) if first else (f"results.{claim.kind}", "")
    if result.status == "already_paid":
        paid = next((r for r in result.reasons if r.code == "ALREADY_PAID"), None)
        what = KIND_TITLES.get(claim.kind, claim.kind)
        late = ctx.paid_later.get(claim.kind)
        if late is not None and ctx.verified_in_file is None:
            return _paid_after(claim, late, numbers, paid), ZERO
        return _duplicate(ctx.verified_in_file, what, numbers, paid), ZERO
    if result.status != "met":
        earliest = result.earliest_date
        if earliest is not None and earliest > claim.claimed_on:
            held = any("held_back_by" in r.compared for r in result.reasons)
            return Flag(
                "CLAIMED_TOO_EARLY",
                f"the result can first be met on {earliest}, after the claim date (evidence "
                "recorded since attachment is in its measurement window until then)"
                if held
                else f"the measurement window is complete on {earliest}, after the claim date",
                numbers | {"earliest_date": earliest.isoformat()},
                rule,
                source,
            ), ZERO
        failing = [r for r in result.reasons if r.code in _FAILING] or list(result.reasons)
        named = failing[0] if failing else None
        compared = {
            f"{k}" if len(failing) == 1 else f"{r.code.lower()}.{k}": str(v)
            for r in failing
            for k, v in r.compared.items()
            if v is not None
        }
        return Flag(
            "RESULT_NOT_MET",
            f"{KIND_TITLES.get(claim.kind, claim.kind)} is {result.status.replace('_', ' ')} on "
            "the claim date: " + "; ".join(f"{r.message} [{r.code}]" for r in failing),
            numbers | {"reasons": " ".join(r.code for r in failing)} | compared,
            named.rule if named else rule,
            named.source if named else source,
        ), ZERO
    blocking = _route_blocked(ctx.decision, result.reasons)
    if blocking is not None:
        other = str(blocking.compared.get("other_route", ""))
        by = ctx.claimed_in_file.get(other)
        return Flag(
            "ROUTE_NOT_ALLOWED",
            blocking.message
            if by is None  # the engine's words: the other route was paid
            else f"{other} is claimed earlier in this file ({by}, counted as paid once "
            f"verified), so {claim.kind} pays nothing [{blocking.code}]",
            numbers | {"other_route": str(blocking.compared.get("other_route", ""))},
            blocking.rule,
            blocking.source,
        ), ZERO
    allowed = min(result.rate, ctx.room)
    numbers = numbers | {"rate": f"{result.rate:.2f}", "allowed": f"{allowed:.2f}"}
    if claim.amount > allowed and allowed < result.rate:
        cap = ctx.decision.cap
        return Flag(
            "CAP_EXCEEDED",
            f"only £{allowed:,.2f} is left under the £{cap:,.0f} cap",
            numbers | {"cap": f"{cap:.2f}"},
            "payment.cap",
            _cap_source(ctx),
        ), allowed
    return None, allowed


def _not_eligible(decision: Decision, numbers: dict[str, str]) -> Flag:
    why = next((r for r in decision.identification if r.code.startswith(("NOT_", "TOO_"))), None)
    codes = " ".join(r.code for r in decision.identification)
    return Flag(
        "FAMILY_NOT_ELIGIBLE",
        f"not eligible at attachment ({why.message if why else codes})",
        numbers | {"identification": codes},
        why.rule if why else "identification.eligibility",
        why.source if why else "",
    )


def _rate_reason(result: ResultDecision | None) -> Reason | None:
    if result is None:
        return None
    return next((r for r in result.reasons if r.code == "RATE_APPLIED"), None)


def _route_blocked(decision: Decision, reasons: Sequence[Reason]) -> Reason | None:
    """The reason another route bars this one: it is paid, or (exclusive) employment is met."""
    for reason in reasons:
        if reason.code not in _ROUTE_TAKEN:
            continue
        other = decision.results.get(str(reason.compared.get("other_route")))  # type: ignore[call-overload]
        if other is not None and other.status == "already_paid":
            return reason
        if reason.code == "EXCLUSIVE_ROUTE_TAKEN":
            return reason
    return None


def _paid_after(
    claim: Claim, payment: Payment, numbers: dict[str, str], paid: Reason | None
) -> Flag:
    """``DUPLICATE_OF_PAYMENT`` for a kind paid after the claim date by another claim."""
    rule, source = (paid.rule, paid.source) if paid else ("payment.once", "")
    paid_on = payment.paid_on.isoformat() if payment.paid_on else ""
    return Flag(
        "DUPLICATE_OF_PAYMENT",
        f"{claim.kind} was paid {payment.amount} on {paid_on} (claim "
        f"{payment.claim_id or '(no claim id)'}), after the claim date: paying this claim would "
        "pay it twice",
        numbers
        | {
            "paid_amount": f"{payment.amount:.2f}",
            "paid_on": paid_on,
            "paid_claim_id": payment.claim_id or "",
        },
        rule,
        source,
    )


def _duplicate(
    verified_in_file: str | None, what: str, numbers: dict[str, str], paid: Reason | None
) -> Flag:
    rule, source = (paid.rule, paid.source) if paid else ("payment.once", "")
    if verified_in_file is not None:
        return Flag(
            "DUPLICATE_IN_FILE",
            f"{what} is already claimed in this file by {verified_in_file}",
            numbers | {"earlier_claim": verified_in_file},
            rule,
            source,
        )
    extra: dict[str, str] = {}
    if paid is not None:
        extra = {k: str(v) for k, v in paid.compared.items() if v is not None}
    return Flag(
        "DUPLICATE_OF_PAYMENT",
        paid.message if paid else f"{what} is already paid",
        numbers | {f"paid_{k}" if not k.startswith("paid") else k: v for k, v in extra.items()},
        rule,
        source,
    )


@in_exact_arithmetic
def missed_claims(
    families: Iterable[Family],
    as_of: date,
    *,
    paid: PaymentHistory | Mapping[str, Iterable[Any]] | None = None,
    rules_for: Callable[[Family], RuleSet] | None = None,
    plans: Mapping[str, OutcomePlan] | None = None,
    fees: bool = True,
) -> list[MissedClaim]:
    """Results (and attachment fees) the evidence shows payable at `as_of` but never paid.

    Every payment known counts, whatever its date, as `verify` counts it for a claim: one dated
    after the day judged is counted as made by then (its result paid, its route taken, its share
    of the cap), so a result or fee paid after `as_of` is not missed and the room a later
    payment took is not owed. A family whose programme's claims closed before `as_of` (phase
    one: 31 May 2015, S12) is judged on that last day for claims, counting them: what it missed
    then is missed for good (`MissedClaim.claims_closed_on`), and a result first payable after
    it could never have been claimed, so it is not listed. A result whose route closed first
    (Supporting Families' continuous employment, to 31 March 2022 under ``employment_route =
    claims_to_march_2022``: `Programme.route_claims_until`) is judged alike on its route's last
    day, unless the family's one results claim can still be made by another route.

    `paid` is more payment history (a `pbr.history.PaymentHistory`, a ledger, or payments by
    family), merged with each family's own payments (`pbr.history.merge_payments`). Each missed
    claim has the amount forgone and the earliest date it became claimable, or None where the
    rules cannot date it. `fees=False` leaves attachment fees out. Families that no programme
    covers, or whose payment records disagree, are skipped (`verify` reports them).

    `verify` searches alike, leaving out the kinds its claim file's claims are allowed some of
    and counting each of its claims as paid what the rules allow it, as if every under-claim
    were put right: what a claim under-claims is that claim's, so it is never missed as well.
    A kind claimed only by claims the audit allows nothing (claimed before the result was met,
    say) is searched too, and a missed claim found names them (`MissedClaim.claimed_before`).

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> for m in missed_claims([family], date(2013, 6, 30)):
    ...     print(m.kind, m.amount, m.as_row()["earliest_date"])
    attachment_fee 3200.00 2012-10-15
    crime_asb_education 700.00 not knowable
    continuous_employment 100.00 2013-04-08

    Raises:
        TypeError: an argument of the wrong type (a family given as a dict, `as_of` as text or
            a `datetime`); a family in a list is named when the call is made, one from any other
            iterable as it is read.
        ValueError: `as_of` is outside the dates pbr evaluates (`pbr.periods.check_as_of`).

    """
    from pbr._arguments import check_families, check_ledger
    from pbr.engine import rule_set_for

    check_as_of(as_of)
    check_ledger(paid, "paid")
    checked = check_families(families)
    history = PaymentHistory.load(paid) if paid is not None else PaymentHistory.of({})
    found, _ = _missed(
        checked,
        as_of,
        _Payments(history, {}, pick=rules_for or rule_set_for),
        rules_for or rule_set_for,
        dict(plans or {}),
        set(),
        fees=fees,
    )
    return found


def _missed(
    families: Iterable[Family],
    as_of: date,
    paid: _Payments,
    pick: Callable[[Family], RuleSet],
    plans: Mapping[str, OutcomePlan],
    claimed: set[tuple[str, str]],
    *,
    fees: bool,
    planned: set[str] | None = None,
    refused: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
    used: set[tuple[str, tuple[tuple[str, str], ...]]] | None = None,
    calendars: dict[str, tuple[str, int]] | None = None,
) -> tuple[list[MissedClaim], list[tuple[str, str]]]:
    """The missed claims (see `missed_claims`) and the families skipped, with why.

    Each claim `paid` holds of the audit counts at its allowed amount (`_Payments.at_allowed`),
    so no pound is both under-claimed and missed. `claimed` are the pairs the claims pay, not
    searched; `refused` the claims allowed nothing, named on what they claimed
    (`_claimed_kinds`). The programme of each decision judged against an outcome plan is added
    to `planned`, the rule-set version of each decision with its interpretations to `used`, and
    a council's term calendar its rules read to `calendars` (by rule-set version), as `verify`
    collects them for its claims: the report's header names what judged the missed claims too.
    """
    before = refused or {}
    from pbr.engine import evaluate

    found: list[MissedClaim] = []
    skipped: list[tuple[str, str]] = []
    for family in families:
        known, conflict = paid.at_allowed(family)
        if conflict is not None:
            skipped.append((family.family_id, str(conflict)))
            continue
        counted = family.model_copy(update={"payments": tuple(known)})
        try:
            rules = pick(family)
            closed = _closed_before(rules, as_of)  # fees alike: see `_claims_closed`
            day = closed or as_of
            decision = evaluate(
                _known_by(counted, day),
                as_of=day,
                rules=rules,
                plan=plans.get(rules.programme),
            )
        except OutsideProgramme as exc:
            skipped.append((family.family_id, str(exc)))
            continue
        if planned is not None and decision.outcome_plan is not None:
            planned.add(decision.programme)
        if used is not None:
            used.add((decision.rules_version, tuple(sorted(decision.interpretations.items()))))
        named = rules.term_calendar.named
        if calendars is not None and named is not None:
            calendars[decision.rules_version] = (named, len(rules.term_calendar.overrides))
        fid = family.family_id
        fee_paid = any(p.kind == "attachment_fee" for p in counted.payments)  # at any date
        if (
            fees
            and decision.eligible
            and not fee_paid
            and decision.attachment_fee > 0
            and day >= family.attached_on
            and (fid, "attachment_fee") not in claimed
        ):
            found.append(
                MissedClaim(
                    fid,
                    "attachment_fee",
                    decision.attachment_fee,
                    family.attached_on,
                    closed,
                    before.get((fid, "attachment_fee"), ()),
                )
            )
        for kind, result in decision.results.items():
            if result.amount > 0 and (fid, kind) not in claimed:
                found.append(
                    MissedClaim(
                        fid,
                        kind,
                        result.amount,
                        result.earliest_date,
                        closed,
                        before.get((fid, kind), ()),
                    )
                )
        if decision.eligible:
            found += _missed_on_closed_routes(counted, day, rules, decision, plans, claimed, before)
    return found, skipped


def _missed_on_closed_routes(
    record: Family,
    day: date,
    rules: RuleSet,
    decision: Decision,
    plans: Mapping[str, OutcomePlan],
    claimed: set[tuple[str, str]],
    refused: Mapping[tuple[str, str], tuple[str, ...]],
) -> list[MissedClaim]:
    """The results whose claim route closed before `day`, payable on its last day, unclaimed.

    Each is judged on its route's last claim day (`Programme.route_claims_until`), as a
    programme's results are on its own (`_known_by`), and missed for good then. Where a family
    has one results claim and another route pays now, that claim can still be made: nothing lost.
    """
    from pbr.engine import evaluate

    chosen = programme(decision.programme)
    if chosen.one_claim and any(r.amount > 0 for r in decision.results.values()):
        return []
    fid = record.family_id
    found: list[MissedClaim] = []
    for kind, last in chosen.route_claims_until(rules).items():
        if last >= day or (fid, kind) in claimed or record.attached_on > last:
            continue
        then = evaluate(
            _known_by(record, last), as_of=last, rules=rules, plan=plans.get(rules.programme)
        ).results.get(kind)
        if then is not None and then.amount > 0:
            found.append(
                MissedClaim(
                    fid, kind, then.amount, then.earliest_date, last, refused.get((fid, kind), ())
                )
            )
    return found


def _known_by(record: Family, day: date) -> Family:
    """The record judged on `day` with every payment known counted, whatever its date (`_paid_by`).

    As a claim is judged (`verify`): a payment dated after `day`, after the audit date or after
    the last day claims could be made, still pays its result, takes its route and its share of
    the cap, so a result it paid is not missed and room it took is not owed.
    """
    made = [p for p in record.payments if p.paid_on is None or p.paid_on <= day]
    later = [p for p in record.payments if p.paid_on is not None and p.paid_on > day]
    return _paid_by(record, day, made, later)
