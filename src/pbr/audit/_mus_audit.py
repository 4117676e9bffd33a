"""Monetary-unit sampling applied to an audit: plan, draw and evaluate on the claims checked.

The population is every claim `verify` checked (malformed rows are not in it: nothing of them can
be sampled or verified); each claim's audited amount is the amount the rules allow it, so the
evaluation's actual over-claim is the reconciliation's over-claimed total, to the penny.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from pbr.audit._mus import (
    MusEvaluation,
    MusPlan,
    MusSample,
    mus_evaluate,
    mus_plan,
    mus_select,
    seed_text,
)
from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.audit._claims import Claim
    from pbr.audit._verify import ClaimCheck, Verification

__all__ = ["MusAudit", "mus_audit", "plan_for", "sampling_ids"]


@dataclass(frozen=True, slots=True)
class MusAudit:
    """A monetary-unit sample of an audit's claims, evaluated against what the rules allow.

    `checks` pairs each claim checked, in file order, with its sampling id (`sampling_ids`):
    its claim id, or ``<claim id>#<k>`` for a claim id on several rows (a repeated row is money
    claimed twice, so it stays in the population), `k` the row's rank among them by what it
    claims, never by where it stands in the file.

    >>> import pbr
    >>> from datetime import date
    >>> from pbr.audit import Claim, verify
    >>> families = [pbr.Family.model_validate({"family_id": f"F{i}", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]}) for i in range(40)]
    >>> claims = [Claim(claim_id=f"C{i:02}", family_id="F99" if i == 5 else f"F{i}",
    ...     kind="attachment_fee", amount="4000.00" if i == 17 else "3200.00",
    ...     claimed_on=date(2012, 11, 1)) for i in range(40)]
    >>> found = mus_audit(verify(claims, families), confidence="95%", tolerable="20%", seed=2015)
    >>> print(found.describe())  # doctest: +NORMALIZE_WHITESPACE
    monetary-unit sample: 15 selections every £8,586.66 from £975.00, seed 2015: 15 of 40 claims
    upper misstatement limit at 95% confidence: £25,723.35 basic precision + £1,717.34
    projected + £1,284.80 incremental allowance = £28,725.49
    With 95% confidence, over-claims in this file do not exceed £28,725.49. That is above the
    tolerable misstatement of £25,760.00: the sample does not show that over-claims are
    tolerable. Checking every claim found over-claims of £4,000.00, within the bound, as it
    should be.
    """

    sample: MusSample
    evaluation: MusEvaluation
    checks: tuple[tuple[str, ClaimCheck], ...]
    """Every claim checked, in file order, with its sampling id."""
    over_claimed: Decimal
    """The over-claims found by checking every claim (the reconciliation's total)."""
    malformed: int
    """Malformed rows: not in the population, so neither sampled nor covered by the bound."""
    unverified: Decimal
    """What the malformed rows claim, where their amounts can be read (the reconciliation's)."""
    unverifiable: Decimal = ZERO
    """What the claims checked that cannot be verified (``FAMILY_RECORD_REJECTED``,
    ``PAYMENT_HISTORY_CONFLICT``) claim: in the population, audited at £0.00, so the sample
    counts them as wholly over-claimed."""
    amounts_not_read: int = 0
    """Malformed rows whose amounts could not be read: their money is in no total at all."""

    @property
    def plan(self) -> MusPlan:
        """The plan the sample was drawn to (sample size, interval, parameters).

        >>> from datetime import date
        >>> from pbr.audit import Claim, verify
        >>> claims = [Claim(claim_id=f"C{n}", family_id="F9", kind="attachment_fee",
        ...                 amount=amount, claimed_on=date(2012, 11, 1))
        ...           for n, amount in enumerate(["3000.00", "300.00"], start=1)]
        >>> found = mus_audit(verify(claims, []), confidence="95%", tolerable="50%", seed=1)
        >>> found.plan.sample_size, found.plan.interval
        (6, Decimal('550.00'))
        """
        return self.sample.plan

    @property
    def consistent(self) -> bool:
        """The actual over-claim is within the stated bound, as it is bar bad luck.

        >>> from datetime import date
        >>> from pbr.audit import Claim, verify
        >>> claims = [Claim(claim_id=f"C{n}", family_id="F9", kind="attachment_fee",
        ...                 amount=amount, claimed_on=date(2012, 11, 1))
        ...           for n, amount in enumerate(["3000.00", "300.00"], start=1)]
        >>> found = mus_audit(verify(claims, []), confidence="95%", tolerable="50%", seed=1)
        >>> found.consistent
        True
        """
        return self.misstated <= self.evaluation.bound

    @property
    def unverifiable_codes(self) -> tuple[str, ...]:
        """The flags of the claims that cannot be verified (`UNJUDGED_FLAGS`), sorted."""
        from pbr.audit._verify import UNJUDGED_FLAGS

        return tuple(
            sorted(
                {code for _, c in self.checks if c.unverified for code in c.codes} & UNJUDGED_FLAGS
            )
        )

    @property
    def misstated(self) -> Decimal:
        """What the bound is about, found by checking every claim: over-claims and unverifiable.

        The reconciliation's over-claimed and unverified totals, malformed rows apart.
        """
        return self.over_claimed + self.unverifiable

    @property
    def population_note(self) -> str:
        """What the sample was drawn from, and what it could not cover, in a sentence or two.

        >>> from datetime import date
        >>> from pbr.audit import Claim, verify
        >>> claims = [Claim(claim_id=f"C{n}", family_id="F9", kind="attachment_fee",
        ...                 amount=amount, claimed_on=date(2012, 11, 1))
        ...           for n, amount in enumerate(["3000.00", "300.00"], start=1)]
        >>> found = mus_audit(verify(claims, []), confidence="95%", tolerable="50%", seed=1)
        >>> found.population_note
        'The population is the 2 claims checked, £3,300.00 in all.'
        """
        plan = self.plan
        note = (
            f"The population is the {len(self.checks)} claims checked, "
            f"{format_gbp(plan.book_value)} in all."
        )
        if self.malformed:
            one = self.malformed == 1
            unread = self.amounts_not_read
            also = (
                f", and {unread} of them whose amount{'s' if unread > 1 else ''} could not be "
                "read, in no total"
                if unread
                else ""
            )
            note += (
                f" {_plural(self.malformed, 'malformed row').capitalize()} "
                f"({format_gbp(self.unverified)} unverified in the reconciliation{also}) could not be "
                f"read: {'it is' if one else 'they are'} outside the population, and the bound "
                f"does not cover {'it' if one else 'them'}."
            )
        if self.unverifiable:
            cannot = [c for _, c in self.checks if c.unverified]
            one = len(cannot) == 1
            why = " or ".join(_UNVERIFIABLE[code] for code in self.unverifiable_codes)
            note += (
                f" {_plural(len(cannot), 'claim').capitalize()} ({format_gbp(self.unverifiable)}) "
                f"cannot be verified, {'its' if one else 'their'} family's {why}: "
                f"{'it is' if one else 'they are'} audited at £0.00, wholly over-claimed, as an "
                "item that cannot be examined is."
            )
        zero = self.sample.not_selectable
        if zero:
            note += (
                f" {_plural(len(zero), 'claim').capitalize()} of £0.00 "
                f"{'has' if len(zero) == 1 else 'have'} no penny to select: {', '.join(zero)}."
            )
        return note

    def describe(self) -> str:
        """The sample and its conclusion in a few lines, for a terminal.

        >>> from datetime import date
        >>> from pbr.audit import Claim, verify
        >>> claims = [Claim(claim_id=f"C{n}", family_id="F9", kind="attachment_fee",
        ...                 amount=amount, claimed_on=date(2012, 11, 1))
        ...           for n, amount in enumerate(["3000.00", "300.00"], start=1)]
        >>> found = mus_audit(verify(claims, []), confidence="95%", tolerable="50%", seed=1)
        >>> print(found.describe().splitlines()[0])
        monetary-unit sample: 6 selections every £550.00 from £376.76, seed 1: 2 of 2 claims
        """
        s, e = self.sample, self.evaluation
        confidence = f"{(e.plan.confidence * 100).normalize():f}%"
        return (
            f"monetary-unit sample: {s.draws} selections every {format_gbp(e.interval)} from "
            f"{format_gbp(s.start)}, seed {s.seed}: {len(s.items)} of {len(self.checks)} claims\n"
            f"upper misstatement limit at {confidence} confidence: "
            f"{format_gbp(e.basic_precision)} basic precision + "
            f"{format_gbp(e.projected_over_claim)} projected + "
            f"{format_gbp(e.incremental_allowance)} incremental allowance = "
            f"{format_gbp(e.upper_limit)}\n{e.conclusion}"
        )


_UNVERIFIABLE = {
    "FAMILY_RECORD_REJECTED": "record rejected",
    "PAYMENT_HISTORY_CONFLICT": "payment records disagreeing",
}
"""Why a claim cannot be verified, by its flag, after "its family's"."""


def _plural(n: int, thing: str) -> str:
    """``the 1 malformed row``, ``the 4 malformed rows``."""
    return f"the {n} {thing}" + ("" if n == 1 else "s")


def sampling_ids(claims: Sequence[Claim]) -> tuple[str, ...]:
    """Each claim's id in the sample, whatever the order of the claims or their rows' numbers.

    A claim id given once is the claim's id. A claim id on several rows (a claim made twice)
    gives each of them ``<claim id>#<k>``: `k` its rank among those rows ordered by what they
    claim (family, kind, amount, date, window), so rows that repeat each other exactly share
    their ranks in any order, and a blank line or a row moved changes no id. A key that is a
    claim id of the file gets a ``#`` more until it is none.

    >>> from datetime import date
    >>> from pbr.audit import Claim
    >>> c = Claim(claim_id="C1", family_id="F", kind="attachment_fee", amount="1",
    ...           claimed_on=date(2013, 1, 1), row=2)
    >>> more = c.model_copy(update={"amount": 2, "row": 9})
    >>> sampling_ids([c, more, c.model_copy(update={"row": 4})])
    ('C1#1', 'C1#3', 'C1#2')
    >>> sampling_ids([more.model_copy(update={"row": 3}), c, c])  # moved, renumbered: the same
    ('C1#3', 'C1#1', 'C1#2')
    """
    rows: dict[str, list[int]] = {}
    for i, claim in enumerate(claims):
        rows.setdefault(claim.claim_id, []).append(i)
    ids = [claim.claim_id for claim in claims]
    taken = set(rows)
    for claim_id in sorted(c for c, where in rows.items() if len(where) > 1):
        ranked = sorted(rows[claim_id], key=lambda i: _content(claims[i]))
        for k, i in enumerate(ranked, start=1):
            key = f"{claim_id}#{k}"
            while key in taken:  # only if a claim id itself looks like this
                key += "#"
            taken.add(key)
            ids[i] = key
    return tuple(ids)


def _content(claim: Claim) -> str:
    """What a claim claims, as text to order by: every field but where it was read."""
    return claim.model_dump_json(exclude={"row"})


def plan_for(
    claims: Sequence[Claim],
    *,
    confidence: Decimal | str,
    tolerable: Decimal | str | int,
    expected: Decimal | str | int = 0,
) -> MusPlan:
    """The plan for these claims: refused, with a reason, when there is nothing to sample.

    >>> from datetime import date
    >>> from pbr.audit import Claim
    >>> free = Claim(claim_id="C1", family_id="F", kind="attachment_fee", amount="0",
    ...              claimed_on=date(2013, 1, 1))
    >>> plan_for([free], confidence="95%", tolerable="2%")
    Traceback (most recent call last):
    ...
    ValueError: a monetary-unit sample needs claims to sample: no claim checked has an amount above £0.00

    Raises:
        ValueError: no claim above £0.00, or what `mus_plan` refuses (a tolerable misstatement
            not below the total claimed among them).

    """
    book = sum((c.amount for c in claims), ZERO)
    if book <= 0:
        raise ValueError(
            "a monetary-unit sample needs claims to sample: no claim checked has an amount "
            "above £0.00"
        )
    return mus_plan(book, confidence=confidence, tolerable=tolerable, expected=expected)


def mus_audit(
    verification: Verification,
    *,
    confidence: Decimal | str,
    tolerable: Decimal | str | int,
    expected: Decimal | str | int = 0,
    seed: str | int,
) -> MusAudit:
    """Plan, draw and evaluate a monetary-unit sample of the claims `verification` checked.

    The arguments are `mus_plan`'s (``"95%"``, ``"2%"`` or pounds) and `mus_select`'s seed.
    Every claim checked is in the population, with its amount claimed; malformed rows are not.
    Each sampled claim's audited amount is the one the rules allow (verified plus
    under-claimed), and every claim's is given, so the evaluation states the actual over-claim
    beside its bound. `pbr.audit.write_report(..., sample=found)` writes it in every format.

    >>> from datetime import date
    >>> from pbr.audit import Claim, verify
    >>> claims = [Claim(claim_id=f"C{n}", family_id="F9", kind="attachment_fee",
    ...                 amount=amount, claimed_on=date(2012, 11, 1))
    ...           for n, amount in enumerate(["3000.00", "300.00"], start=1)]
    >>> found = mus_audit(verify(claims, []), confidence="95%", tolerable="50%", seed=1)
    >>> found.sample.item_ids, found.evaluation.upper_limit, found.evaluation.bound
    (('C1', 'C2'), Decimal('5609.14'), Decimal('3300.00'))
    >>> found.over_claimed, found.consistent
    (Decimal('3300.00'), True)

    Raises:
        ValueError: no claim above £0.00, a tolerable misstatement not below the total
            claimed, a confidence, tolerable or expected misstatement `mus_plan` refuses, or a
            sample larger than the pennies in the file, or a seed with a control character.
        TypeError: `verification` is not a `pbr.audit.Verification`, or `seed` is neither text
            nor a whole number.

    """
    from pbr._arguments import check_verification

    check_verification(verification)
    seed_text(seed)  # before the plan: a bad seed is named whatever else is wrong
    claims = [c.claim for c in verification.checks]
    ids = sampling_ids(claims)
    plan = plan_for(claims, confidence=confidence, tolerable=tolerable, expected=expected)
    drawn = mus_select(zip(ids, (c.amount for c in claims), strict=True), plan, seed=seed)
    audited = {
        key: check.verified + check.under_claimed
        for key, check in zip(ids, verification.checks, strict=True)
    }
    total = verification.reconciliation()[-1]
    unverifiable = [
        key for key, check in zip(ids, verification.checks, strict=True) if check.unverified
    ]
    return MusAudit(
        sample=drawn,
        evaluation=mus_evaluate(drawn, audited, unverifiable=unverifiable),
        checks=tuple(zip(ids, verification.checks, strict=True)),
        over_claimed=total["over_claimed"],
        malformed=len(verification.rejections),
        unverified=sum((r.amount or ZERO for r in verification.rejections), ZERO),
        unverifiable=sum((c.unverified for c in verification.checks), ZERO),
        amounts_not_read=len(verification.amounts_not_read),
    )
