"""The rule kernel every programme shares: verdicts, reasons, payments made, the cap, the decision.

A programme module supplies what differs (identification, its results, how they are paid); the
flow here is the same for all: check the family is covered, identify it, count what has been paid
by `as_of`, judge each result, pay within the cap, and assemble the `Decision`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from pbr._parts import ResultKind, trusted_decision, trusted_reason, trusted_result
from pbr._parts import Status as Status
from pbr.errors import OutsideProgramme, PlanError
from pbr.money import ZERO
from pbr.periods import FinancialYear, SchoolTerm, financial_year_of
from pbr.reasons import ReasonCode
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import (
        Compared,
        Decision,
        Identification,
        Provenance,
        Reason,
        ResultDecision,
    )
    from pbr.plans import OutcomePlan
    from pbr.programmes import Programme
    from pbr.records import Family, Payment

__all__ = [
    "Account",
    "Status",
    "Verdict",
    "account",
    "already_paid",
    "calendar_named",
    "decide",
    "plain",
    "reason",
    "result",
]


class Verdict:
    """A result judged on the evidence, before money: status, reasons and earliest date.

    Never changed once made. A plain class rather than a frozen dataclass: compiled, its
    `__init__` is too (a dataclass's is generated in Python, a third of a microsecond a result).
    """

    __slots__ = ("earliest", "reasons", "status")

    def __init__(
        self, status: Status, reasons: tuple[Reason, ...], earliest: date | None = None
    ) -> None:
        self.status = status
        self.reasons = reasons
        self.earliest = earliest

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return (self.status, self.reasons, self.earliest) == (
            other.status,
            other.reasons,
            other.earliest,
        )

    __hash__ = None  # type: ignore[assignment]  # equal by value, never changed: not a key

    def __repr__(self) -> str:
        return (
            f"Verdict(status={self.status!r}, reasons={self.reasons!r}, earliest={self.earliest!r})"
        )


def plain(value: object) -> str | int | bool | None:
    """A value as a reason's `compared` holds it: dates ISO, fractions and money as exact text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Fraction):
        return str(Decimal(value.numerator) / Decimal(value.denominator))
    return str(value)


def calendar_named(rules: RuleSet, terms: Iterable[SchoolTerm]) -> tuple[dict[str, str], str]:
    """What a reason reading the school `terms` adds for a council's own term calendar.

    Its numbers (``{"term_calendar": "council"}``) and the end of its message
    (`` (council term calendar)``), when the calendar overrides the dates of one of `terms`: the
    terms the reason read, and those that decided which were read (the default dates' choice,
    when the council's kept a term out). Nothing for the default calendar, nor for a council's
    whose dates are all for other terms: those decisions are as the default dates give them.
    """
    calendar = rules.term_calendar
    name = calendar.named
    if name is None or not calendar.overrides_any(terms):
        return {}, ""
    return {"term_calendar": name}, f" ({name} term calendar)"


def reason(
    code: ReasonCode,
    rule: str,
    rules: RuleSet,
    message: str,
    *,
    source: object = None,
    **compared: object,
) -> Reason:
    """A reason for `rule`, citing the rule's sources from the rule set's data.

    `source` overrides the lookup where the source is not the rule set (an outcome plan) or
    depends on the year (a rate).
    """
    for name, value in compared.items():  # `compared` is this call's own dict: plain in place
        if type(value) not in _AS_IS:
            compared[name] = plain(value)
    return trusted_reason(
        code,
        rule,
        source if isinstance(source, str) else rules.source_of_rule(rule),
        message,
        compared,  # type: ignore[arg-type]
    )


_AS_IS = frozenset({str, int, bool, type(None)})
"""Types `plain` returns unchanged (checked exactly: a subclass goes through `plain`)."""


def result(
    verdict: Verdict | None,
    *,
    status: Status | None = None,
    amount: Decimal = ZERO,
    rate: Decimal = ZERO,
    reasons: Iterable[Reason] | None = None,
) -> ResultDecision:
    """A result's decision from its verdict, with the status, amount and reasons payment settled."""
    if reasons is None:
        reasons = verdict.reasons if verdict else ()
    return trusted_result(
        status if status is not None else (verdict.status if verdict else "not_applicable"),
        amount,
        rate,
        verdict.earliest if verdict else None,
        reasons if type(reasons) is tuple else tuple(reasons),
    )


class Account:
    """What the family has been paid by `as_of`, and the room left under the cap for results.

    Never changed once made; a plain class, compiled with its `__init__` (as `Verdict`).
    """

    __slots__ = ("cap", "cap_source", "fee", "made", "paid_to_date", "year")

    def __init__(
        self,
        year: FinancialYear,
        fee: Decimal,
        cap: Decimal,
        made: tuple[Payment, ...],
        cap_source: str | None = None,
    ) -> None:
        self.year = year
        """The financial year of attachment."""
        self.fee = fee
        """The attachment fee of that year (interpretations applied)."""
        self.cap = cap
        """The most paid for one family, fee included."""
        self.made = made
        """Payments made on or before `as_of` (or undated): clarification 6; `account` puts
        them in the order paid (`paid_order`)."""
        self.cap_source = cap_source
        """The source tags of `cap` (`Programme.cap_source`), cited by the reasons about the
        cap; None: the rule's own (`RuleSet.source_of_rule`)."""
        self.paid_to_date: Decimal = sum((p.amount for p in made), ZERO) if made else ZERO
        """Everything paid by `as_of`, fee included (summed once: every decision reports it)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Account):
            return NotImplemented
        return (self.year, self.fee, self.cap, self.made, self.cap_source) == (
            other.year,
            other.fee,
            other.cap,
            other.made,
            other.cap_source,
        )

    __hash__ = None  # type: ignore[assignment]  # equal by value, never changed: not a key

    def __repr__(self) -> str:
        return (
            f"Account(year={self.year!r}, fee={self.fee!r}, cap={self.cap!r}, "
            f"made={self.made!r}, cap_source={self.cap_source!r}, "
            f"paid_to_date={self.paid_to_date!r})"
        )

    @property
    def fee_counted(self) -> Decimal:
        """The fee counted against the cap: the table's, or more if more was paid (clarif. 7)."""
        if not self.made:  # most families: nothing paid yet, so no generator to run
            return max(self.fee, ZERO)
        paid = sum((p.amount for p in self.made if p.kind == "attachment_fee"), ZERO)
        return max(self.fee, paid)

    @property
    def results_paid(self) -> Decimal:
        """Results payments already made."""
        if not self.made:
            return ZERO
        return sum((p.amount for p in self.made if p.kind != "attachment_fee"), ZERO)

    @property
    def room(self) -> Decimal:
        """What results may still be paid: cap − fee counted − results paid, never negative."""
        return max(self.cap - self.fee_counted - self.results_paid, ZERO)

    def paid(self, kind: str) -> list[Payment]:
        """The payments made for `kind`, in the order of `made`: £0 is not a payment made.

        A result listed as paid £0 was not paid (as an attachment fee listed at £0 is none,
        `check_no_fee_paid`): it neither stops the result being paid nor uses up phase two's
        and Supporting Families' one claim.
        """
        return [p for p in self.made if p.kind == kind and p.amount] if self.made else []

    @property
    def results_claimed(self) -> list[Payment]:
        """The results payments made (not £0), in the order of `made`."""
        return (
            [p for p in self.made if p.kind != "attachment_fee" and p.amount] if self.made else []
        )


def account(
    family: Family,
    as_of: date,
    year: FinancialYear,
    fee: Decimal,
    cap: Decimal,
    cap_source: str | None = None,
) -> Account:
    """The family's account at `as_of`: payments dated after it are not yet made.

    The payments made are put in the order paid (`paid_order`), so that which of two is the
    first (the one claim, the payment `ALREADY_PAID` names) does not hang on the order listed.
    """
    payments = family.payments
    if not payments:
        return Account(year, fee, cap, (), cap_source)
    made = [p for p in payments if p.paid_on is None or p.paid_on <= as_of]
    if len(made) > 1:
        made.sort(key=paid_order)  # stable: the same day (or none) keeps the order listed
    return Account(year, fee, cap, tuple(made), cap_source)


def paid_order(payment: Payment) -> tuple[bool, date]:
    """The key putting payments in the order paid: by date, then the undated (when unknown).

    An undated payment counts as paid after every dated one: only the dated are known to be
    earlier. Payments the key does not tell apart keep the order listed (the sort is stable).
    """
    return (payment.paid_on is None, payment.paid_on or date.min)


def _paid_when(payment: Payment) -> str:
    """When `payment` was paid, as a reason's message says it."""
    return f"paid {payment.paid_on}" if payment.paid_on else "date not recorded"


def _told_later(first: Payment, again: Payment) -> str:
    """How `again` (after `first` in `paid_order`) was told the later, where not by its date."""
    if again.paid_on is None:
        if first.paid_on is None:
            return " (neither date is recorded: the one listed later counts as the later)"
        return " (its date is not recorded: an undated payment counts as the later)"
    if again.paid_on == first.paid_on:
        return f" (both paid {again.paid_on}: the one listed later counts as the later)"
    return ""


def before_attachment(
    attached_on: date, as_of: date, fee: Decimal, rules: RuleSet, source: str
) -> Reason:
    """The warning on a decision dated before the family's attachment: nothing is due yet.

    The decision still says what the family's attachment will earn and whether it is eligible
    (judged on the evidence at attachment), so that a run to an earlier date reads plainly.
    `source` is that of the fee's parameter as the interpretations chose it
    (`Programme.attachment_fee_source`: phase two's none under `stopped` cites S36, S25). Where
    no fee is due at attachment (Supporting Families; phase two under `stopped`) the message
    names none: "not even the attachment fee of 0.00" would say a fee of nothing falls due.
    """
    fee_too = f", not even the attachment fee of {fee}" if fee else ""
    return reason(
        "EVALUATED_BEFORE_ATTACHMENT",
        "payment.attachment_fee",
        rules,
        f"as of {as_of} is before attachment on {attached_on}: nothing is due yet{fee_too}",
        source=source,
        as_of=as_of,
        attached_on=attached_on,
        attachment_fee=fee,
    )


def claims_closed(as_of: date, payable: Decimal, rules: RuleSet) -> tuple[Reason, ...]:
    """The warning on results payable after the programme's last day for results claims.

    Phase one's claims closed in May 2015 (S12), Supporting Families' with its 2022-25 guidance
    on 31 March 2025 (S39); no rule withholds a result after them, so the results stay payable
    by the rules and the decision says that no claim could be made for them. Phase two has no
    such day (no source gives one).
    """
    closed = rules.claims_until()
    if closed is None or as_of <= closed:
        return ()
    return (
        reason(
            "RESULTS_CLAIMS_CLOSED",
            "payment.claims_closed",
            rules,
            f"{payable} of results payable as of {as_of}, after the last day for results claims "
            f"({closed}): a claim made then would not have been paid",
            payable=payable,
            as_of=as_of,
            claims_until=closed,
        ),
    )


def never_claimable(
    results: Mapping[ResultKind, ResultDecision],
    rules: RuleSet,
    route_until: Mapping[ResultKind, date],
) -> tuple[Reason, ...]:
    """Warnings on earliest dates after the last day a claim for the result could be made.

    A result not yet met whose earliest date is after the programme's last day for results
    claims (`RuleSet.claims_until`), or its route's (`Programme.route_claims_until`), could
    never be claimed: its earliest date alone would suggest otherwise. Phase two has no such day.
    """
    closes = rules.claims_until()
    warnings = []
    for kind, decided in results.items():
        if decided.status != "not_met":  # a met result is payable now, or claims closed says why
            continue
        earliest = decided.earliest_date
        route = route_until.get(kind)
        closed = route if route is not None else closes
        if earliest is None or closed is None or earliest <= closed:
            continue
        whose = "the route's last claim day" if route is not None else "results claims close"
        warnings.append(
            reason(
                "EARLIEST_DATE_AFTER_CLAIMS_CLOSED",
                "payment.claims_closed" if route is None else _ROUTE_RULE[kind],
                rules,
                f"{kind}: the earliest date, {earliest}, is after {whose} on {closed}: "
                "it could never be claimed",
                result=kind,
                earliest_date=earliest,
                claims_until=closed,
            )
        )
    return tuple(warnings)


_ROUTE_RULE: Mapping[str, str] = {"continuous_employment": "results.continuous_employment.route"}
"""The rule that closes a result's route before results claims close (Supporting Families)."""


def overpaid(
    books: Account, rules: RuleSet, attached_on: date, *, one_claim: bool = False
) -> tuple[Reason, ...]:
    """Warnings for payments made that break the rules: early, twice, by two routes, over the cap.

    A result paid before the family was `attached_on` is a wrong date or another family's
    payment (`_paid_before_attachment`). Results by two routes are warned of where a family has
    one claim (`one_claim`: phase two, Supporting Families). The decision still pays nothing
    twice and keeps the cap (`Account.room`); these say the record shows money already paid
    that should be recovered or checked. The cap is passed when the fee counted (the year's fee
    whether listed or not, or more if more is listed: phase1-spec §5) and the results paid
    exceed it, not only when the payments listed do. Of two payments, the later paid
    (`paid_order`) is the one to be recovered, however they are listed.
    """
    claimed = books.results_claimed
    found = [
        _paid_before_attachment(p, attached_on, rules)
        for p in claimed
        if p.paid_on is not None and p.paid_on < attached_on
    ]
    first: dict[str, Payment] = {}
    for payment in claimed:  # in the order paid: the later is to be recovered
        earlier = first.get(payment.kind)
        if earlier is None:
            if one_claim and first:  # a second route: the family has one results claim
                found.append(_second_claim(next(iter(first.values())), payment, rules))
            first[payment.kind] = payment
        else:  # a fee may be paid in parts (clarification 7): `_fee_paid_twice`
            found.append(_paid_twice(earlier, payment, rules))
    if books.fee:
        found.extend(_fee_paid_twice(books, rules))
    fee, results = books.fee_counted, books.results_paid
    counted = fee + results
    if counted > books.cap:
        listed = books.paid_to_date - results
        found.append(
            reason(
                "PAID_OVER_CAP",
                "payment.cap",
                rules,
                f"attachment fee counted {fee} (listed as paid: {listed}) + results paid "
                f"{results} = {counted}, over the cap of {books.cap}: {counted - books.cap} is "
                "to be recovered",
                source=books.cap_source,
                paid_to_date=books.paid_to_date,
                cap=books.cap,
                attachment_fee_counted=fee,
                results_paid=results,
                over_cap=counted - books.cap,
            )
        )
    return tuple(found)


def _claim(payment: Payment) -> str:
    """The claim a payment was made on, as reasons name it."""
    return payment.claim_id or "(no claim id)"


def _paid_before_attachment(payment: Payment, attached_on: date, rules: RuleSet) -> Reason:
    """The warning that a result is listed as paid before the family was attached.

    No result is paid before attachment, so the payment's date or family is wrong. It still
    counts as paid (paying the result again would be worse); an attachment fee paid before
    attachment is no error (phase one paid fees up front), so only results are checked.
    """
    claim = f"claim {payment.claim_id}" if payment.claim_id else "no claim id"
    return reason(
        "RESULTS_PAID_BEFORE_ATTACHMENT",
        "payment.after_attachment",
        rules,
        f"{payment.kind} {payment.amount} ({claim}) is listed as paid on {payment.paid_on}, "
        f"before the family was attached on {attached_on}: no result is paid before "
        "attachment; check the payment's date and family",
        kind=payment.kind,
        claim_id=payment.claim_id,
        paid_on=payment.paid_on,
        attached_on=attached_on,
        amount=payment.amount,
    )


def _second_claim(first: Payment, again: Payment, rules: RuleSet) -> Reason:
    """The warning that results are paid by two routes: `again`, paid later, is to be recovered."""
    was, claim = _claim(first), _claim(again)
    return reason(
        "SECOND_RESULTS_CLAIM_PAID",
        "payment.one_claim",
        rules,
        f"results are listed as paid by two routes ({first.kind} {was}, {_paid_when(first)}; "
        f"then {again.kind} {claim}, {_paid_when(again)}): the family has one results claim, so "
        f"the later ({again.kind} {claim}) is to be recovered{_told_later(first, again)}",
        first_route=first.kind,
        first_claim=was,
        first_paid_on=first.paid_on,
        again_route=again.kind,
        again_claim=claim,
        again_paid_on=again.paid_on,
    )


def _paid_twice(first: Payment, again: Payment, rules: RuleSet) -> Reason:
    """The warning that a result is paid twice: `again`, paid later, is to be recovered."""
    was, claim = _claim(first), _claim(again)
    return reason(
        "RESULT_PAID_MORE_THAN_ONCE",
        "payment.once",
        rules,
        f"{again.kind} is listed as paid more than once ({was}, {_paid_when(first)}; then "
        f"{claim}, {_paid_when(again)}): nothing is paid twice, so the later ({again.kind} "
        f"{claim}) is to be recovered{_told_later(first, again)}",
        kind=again.kind,
        first_claim=was,
        first_paid_on=first.paid_on,
        again_claim=claim,
        again_paid_on=again.paid_on,
    )


def _fee_paid_twice(books: Account, rules: RuleSet) -> list[Reason]:
    """Warnings for attachment fees listed at twice the year's fee or more: a fee paid twice.

    A fee may be paid in parts, and more than the year's fee listed counts (clarification 7),
    so a fee payment is warned of only when, after another, it takes the fees listed to twice
    the year's fee: the fee paid again. The warning names the first fee payment and it. The fee
    counted against the cap is still the fees listed (clarification 7), so results are cut as
    the spec says: this says why, and that what is over the fee may be money to recover.
    """
    fees = [p for p in books.made if p.kind == "attachment_fee" and p.amount]
    if len(fees) < 2:
        return []
    found: list[Reason] = []
    first, year_fee = fees[0], books.fee
    listed, twice = first.amount, year_fee + year_fee
    for again in fees[1:]:  # in the order paid: the later is the one paid again
        before, listed = listed, listed + again.amount
        if listed < twice or before >= twice:  # not yet twice, or warned of already
            continue
        was, claim = _claim(first), _claim(again)
        over = listed - year_fee
        found.append(
            reason(
                "ATTACHMENT_FEE_PAID_MORE_THAN_ONCE",
                "payment.once",
                rules,
                f"the attachment fee is listed as paid more than once ({was} {first.amount}, "
                f"{_paid_when(first)}; then {claim} {again.amount}, {_paid_when(again)}): "
                f"{listed} listed, at least twice the year's fee of {year_fee}; the fees listed "
                "count against the cap, so results are cut to the room left: nothing is paid "
                f"twice, so the {over} over the fee is to be recovered{_told_later(first, again)}",
                first_claim=was,
                first_paid_on=first.paid_on,
                first_amount=first.amount,
                again_claim=claim,
                again_paid_on=again.paid_on,
                again_amount=again.amount,
                attachment_fee=year_fee,
                fees_listed=listed,
                over_fee=over,
            )
        )
    return found


def already_paid(kind: str, payment: Payment, rules: RuleSet, source: str | None = None) -> Reason:
    """Nothing is paid twice: `kind` was paid by `payment` (`source`: the rule's, if None)."""
    return reason(
        "ALREADY_PAID",
        "payment.once",
        rules,
        f"{kind} was paid {payment.amount} on {payment.paid_on or '(date not recorded)'}",
        source=source,
        amount=str(payment.amount),
        paid_on=payment.paid_on,
        claim_id=payment.claim_id,
    )


Results = Callable[
    ["Family", date, RuleSet, "OutcomePlan | None", "Identification"],
    Mapping[ResultKind, Verdict],
]
Pay = Callable[["Family", date, RuleSet, Account, Mapping[ResultKind, Verdict]], "Payout"]
Payout = tuple[dict[ResultKind, "ResultDecision"], Decimal]
"""Each result's decision, and the results payable now in all."""


def check_covers(family: Family, rules: RuleSet) -> None:
    """Refuse a family the rule set does not cover (another programme, or attached outside)."""
    if family.programme not in (None, rules.programme) or not rules.covers(family.attached_on):
        raise OutsideProgramme(
            family.family_id,
            f"{rules.title} covers families attached {rules.attached_from} to "
            f"{rules.attached_to}; this one ({family.programme or 'programme not stated'}) was "
            f"attached on {family.attached_on}",
        )


def check_payments(family: Family, programme: Programme) -> None:
    """Refuse a family paid a result the programme does not have (another programme's).

    Reading a record refuses such a payment where the record's programme is known
    (`pbr._record_checks`); this catches the rest: a 2014/15 record stating no programme
    evaluated under the one whose kind it is not, and payments merged from a ledger.
    """
    kinds = programme.payment_kinds
    for i, payment in enumerate(family.payments):
        if payment.kind not in kinds:
            raise OutsideProgramme(
                family.family_id,
                f"payments[{i}].kind {payment.kind!r} is not a payment of {programme.id}; "
                f"expected one of {', '.join(sorted(kinds))}",
                field=f"payments.{i}.kind",
                value=payment.kind,
            )


def check_no_fee_paid(
    family: Family, rules: RuleSet, year: FinancialYear, defaults: Mapping[str, str]
) -> None:
    """Refuse a family listed as paid an attachment fee for a year the rules pay none (£0 passes).

    Phase two under ``attachment_fees_after_2017_18 = stopped`` pays no fee for a family
    attached from 2018/19 and caps it at the results payment: a fee listed as paid contradicts
    the interpretation chosen, and counted against that cap it would take the results payment.
    The message names the interpretations chosen other than the programme's `defaults`.
    """
    for i, payment in enumerate(family.payments):
        if payment.kind == "attachment_fee" and payment.amount:
            chosen = ", ".join(
                f"{k} = {v}" for k, v in sorted(rules.chosen.items()) if defaults.get(k) != v
            )
            raise OutsideProgramme(
                family.family_id,
                f"payments[{i}] is an attachment fee, but {rules.title} pays none for a family "
                f"attached in {year}"
                + (f" (under {chosen})" if chosen else "")
                + ": correct the record, or choose the interpretation its payments were made under",
                field=f"payments.{i}.kind",
                value=payment.kind,
            )


def decide(
    programme: Programme,
    family: Family,
    as_of: date,
    rules: RuleSet,
    plan: OutcomePlan | None,
    provenance: Provenance | None = None,
) -> Decision:
    """The one flow of every programme: covered, identified, judged, paid, decided.

    `provenance`, when given (by `pbr.engine.evaluate`), is recorded in the decision as built,
    rather than copied into it afterwards.
    """
    check_covers(family, rules)
    if family.payments:
        check_payments(family, programme)
    warnings: tuple[Reason, ...] = ()
    if programme.uses_plan:
        plan, warnings = _plan_for(programme, family, rules, plan)
    elif plan is not None:
        raise PlanError(
            f"family {family.family_id!r} is evaluated under {rules.title}, which has no outcome "
            f"plan; plan {plan.label} is for {plan.programme}"
        )
    terms = _terms_of(programme, rules, family.attached_on)
    year = terms.year
    fee = terms.fee
    if not fee and family.payments:
        check_no_fee_paid(family, rules, year, programme.rules.chosen)
    books = account(family, as_of, year, fee, terms.cap, terms.cap_source)
    if books.made:  # a record whose payments break the rules says so (most have none yet)
        warnings = (
            *warnings,
            *overpaid(books, rules, family.attached_on, one_claim=programme.one_claim),
        )
    if as_of < family.attached_on:  # an export run to an earlier date: nothing is due yet
        source = programme.attachment_fee_source(rules, year)
        warnings = (*warnings, before_attachment(family.attached_on, as_of, fee, rules, source))
    ident = programme.identify(family, rules)
    if ident.eligible:
        verdicts = programme.results(family, as_of, rules, plan, ident)
        results, payable = programme.pay(family, as_of, rules, books, verdicts)
    else:
        why = (next(r for r in ident.reasons if r.code == "NOT_ELIGIBLE"),)
        results = {
            k: trusted_result("not_applicable", ZERO, ZERO, None, why)
            for k in programme.result_kinds
        }
        payable = ZERO
    if payable:
        warnings = (*warnings, *claims_closed(as_of, payable, rules))
    if ident.eligible:
        late = never_claimable(results, rules, terms.route_claims_until)
        if late:
            warnings = (*warnings, *late)
    return trusted_decision(
        family_id=family.family_id,
        local_authority=family.local_authority,
        as_of=as_of,
        programme=rules.programme,
        rules_version=terms.rules_version,
        attached_on=family.attached_on,
        attachment_year=terms.label,
        attachment_fee=fee,
        eligible=ident.eligible,
        identified_for=ident.identified_for,
        payable=payable,
        paid_to_date=books.paid_to_date,
        cap=books.cap,
        interpretations=dict(rules.chosen),
        outcome_plan=plan.label if plan is not None else None,
        warnings=(*ident.warnings, *warnings) if warnings else ident.warnings,
        identification=ident.reasons,
        results=results,
        provenance=provenance,
    )


class _YearTerms:
    """A programme's money and labels for families attached in one financial year.

    Worked out once per rule set and year (`_terms_of`): each is a pure function of the two,
    and asking the rule set for them was a dozen Python calls a family.
    """

    def __init__(self, programme: Programme, rules: RuleSet, year: FinancialYear) -> None:
        self.year = year
        self.label = str(year)
        self.fee = programme.attachment_fee(rules, year)
        self.cap = programme.cap(rules, year)
        self.cap_source = programme.cap_source(rules, year)
        self.rules_version = rules.rules_version
        self.route_claims_until = programme.route_claims_until(rules)


class _Kept:
    """A programme and rule set's `_YearTerms`, by attachment day and by year."""

    def __init__(self, programme: Programme, rules: RuleSet) -> None:
        self.programme = programme
        self.rules = rules
        self.days: dict[date, _YearTerms] = {}  # the days covered: a few years' (check_covers)
        self.years: dict[int, _YearTerms] = {}


_TERMS: dict[int, _Kept] = {}
"""What `_terms_of` worked out, by the rule set's id: kept with the objects themselves, which
are compared (an id can be reused once they are gone) and never change."""


def _terms_of(programme: Programme, rules: RuleSet, attached_on: date) -> _YearTerms:
    """The terms for a family attached on `attached_on` under `programme` and `rules`."""
    kept = _TERMS.get(id(rules))
    if kept is None or kept.programme is not programme or kept.rules is not rules:
        if len(_TERMS) >= 100:  # a program making rule sets without end: start again
            _TERMS.clear()
        kept = _TERMS[id(rules)] = _Kept(programme, rules)
    found = kept.days.get(attached_on)
    if found is None:
        year = financial_year_of(attached_on)
        found = kept.years.get(year.start_year)
        if found is None:
            found = kept.years[year.start_year] = _YearTerms(programme, rules, year)
        kept.days[attached_on] = found
    return found


def _plan_for(
    programme: Programme, family: Family, rules: RuleSet, plan: OutcomePlan | None
) -> tuple[OutcomePlan, tuple[Reason, ...]]:
    """The plan judged against: the council's, or pbr's example with a warning."""
    from pbr.plans import example_plan

    warnings: tuple[Reason, ...] = ()
    if plan is None:
        plan = example_plan(rules.programme)
        warnings = (
            reason(
                "EXAMPLE_PLAN_USED",
                "results.sustained_progress.plan",
                rules,
                f"judged against pbr's example plan {plan.label}: pass the council's own plan",
                plan=plan.label,
            ),
        )
    elif plan.programme != rules.programme:
        raise PlanError(
            f"plan {plan.label} is for {plan.programme}, but family {family.family_id!r} is "
            f"evaluated under {rules.programme}"
        )
    if family.observations:
        warnings = (*warnings, *_observations_not_read(family, plan, rules))
    return plan, warnings


def _observations_not_read(family: Family, plan: OutcomePlan, rules: RuleSet) -> tuple[Reason, ...]:
    """A warning naming the record's observations no measure of `plan` reads, if any.

    A plan's indicator spelt otherwise than the record's reads nothing: a count of it holds at
    0 and pays. Said, not refused: a record may hold observations a plan does not measure.
    """
    unread = sorted({o.indicator for o in family.observations} - plan.indicators())
    if not unread:
        return ()
    return (
        reason(
            "OBSERVATIONS_NOT_READ",
            "results.sustained_progress.plan",
            rules,
            f"the record's observations of {', '.join(unread)} are read by no measure of plan "
            f"{plan.label}: check the spelling of the plan's indicators and the record's",
            indicators=", ".join(unread),
            plan=plan.label,
        ),
    )


def numbers(**values: object) -> Compared:
    """Values for a reason's `compared`, made JSON-safe."""
    return {k: plain(v) for k, v in values.items()}
