"""One payment history: a family record's own payments merged with a payments ledger's.

`evaluate`, `evaluate_many`, the audit and the command line all merge the same way, through
`merge_payments`: the ledger is verified first (a broken one is refused), every ledger payment
is validated again as a `pbr.records.Payment`, and a payment listed in both the record and the
ledger (the same ``claim_id``) counts once. Where the two disagree about it (kind, amount, or
two different dates), that is a `PaymentConflict` naming the family, the claim and both values:
a payment is never counted twice, and never silently one way or the other.

>>> import pbr
>>> from decimal import Decimal
>>> from datetime import date
>>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
...     "payments": [{"kind": "attachment_fee", "amount": "3200", "claim_id": "C-1"}]})
>>> history = PaymentHistory.of({"F1": [pbr.records.Payment(kind="attachment_fee",
...     amount=Decimal(3200), paid_on=date(2012, 11, 1), claim_id="C-1")]})
>>> [(p.claim_id, p.paid_on) for p in merge_payments(family, history).payments]
[('C-1', datetime.date(2012, 11, 1))]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import ValidationError

from pbr._record_checks import too_much_paid
from pbr._scalars import date_from_text
from pbr.errors import PbrError

if TYPE_CHECKING:
    from pbr.ledger import Entry, Ledger
    from pbr.records import Family, Payment
    from pbr.rules import RuleSet

__all__ = [
    "HistoryError",
    "HistorySource",
    "NotPaidByProgramme",
    "PaidBeforeAttachment",
    "PaidTooMuch",
    "PaidTwice",
    "PaidUnderAnotherProgramme",
    "PaymentConflict",
    "PaymentHistory",
    "merge_payments",
]


HistorySource: TypeAlias = (
    "PaymentHistory | Ledger | str | os.PathLike[str]"
    " | Mapping[str, Iterable[Payment | Entry | Mapping[str, Any]]]"
    " | Iterable[Entry | Mapping[str, Any]]"
)
"""What a payment history is read from (`PaymentHistory.load`): a history, a ledger or its path,
payments by family id, or ledger entries (each naming its family)."""


class HistoryError(PbrError, ValueError):
    """A payment history that cannot be used: a payment that is not valid, or a conflict.

    >>> issubclass(PaymentConflict, HistoryError)
    True
    """


class PaymentConflict(HistoryError):
    """Two sources disagree about one payment (same claim id); names the family, claim and values.

    >>> PaymentConflict("F1", "C-1", "amount", "700.00", "1500.00", "ledger l.db").args[0]
    "family 'F1': payment 'C-1': amount is 700.00 in the family record but 1500.00 in ledger l.db"
    """

    def __init__(
        self,
        family_id: str,
        claim_id: str,
        field: str,
        here: str,
        there: str,
        source: str,
        first: str = "the family record",
    ) -> None:
        self.family_id = family_id
        self.claim_id = claim_id
        self.field = field
        super().__init__(
            f"family {family_id!r}: payment {claim_id!r}: {field} is {here} in {first} but "
            f"{there} in {source}"
        )


class PaidTwice(HistoryError):
    """The history pays a family a result already paid under another claim: nothing is paid twice.

    >>> PaidTwice("F1", "L-2", "progress_to_work", "C-1", "the family record").args[0]
    "family 'F1': payment 'L-2': progress_to_work is already paid by claim 'C-1' in the family record; a result is paid once"
    """

    def __init__(self, family_id: str, claim_id: str, kind: str, earlier: str, where: str) -> None:
        self.family_id = family_id
        self.claim_id = claim_id
        self.kind = kind
        super().__init__(
            f"family {family_id!r}: payment {claim_id!r}: {kind} is already paid by claim "
            f"{earlier!r} in {where}; a result is paid once"
        )


class PaidBeforeAttachment(HistoryError):
    """The history pays a family a result before the day it was attached (no longer raised).

    `merge_payments` of an earlier pbr refused such a payment; it now merges it as a record's own
    payment is taken: warned of (``RESULTS_PAID_BEFORE_ATTACHMENT``) and counted as paid. Kept
    so that code catching it still imports.

    >>> PaidBeforeAttachment("F1", "L-2", "2012-01-01", "2014-04-01", "ledger l.db").args[0]
    "family 'F1': payment 'L-2' is dated 2012-01-01, before the family was attached on 2014-04-01 (in ledger l.db)"
    """

    def __init__(
        self, family_id: str, claim_id: str, paid_on: str, attached_on: str, source: str
    ) -> None:
        self.family_id = family_id
        self.claim_id = claim_id
        super().__init__(
            f"family {family_id!r}: payment {claim_id!r} is dated {paid_on}, before the family "
            f"was attached on {attached_on} (in {source})"
        )


class NotPaidByProgramme(HistoryError):
    """The history pays a family something its programme, under the rules chosen, does not pay.

    A ledger is append-only: the entry cannot be corrected there, and the record (which does
    not list it) is not to blame, so the message names the entry and where it is.

    >>> NotPaidByProgramme("F1", "L-2", "attachment_fee", "no fee", "ledger l.db").args[0]
    "family 'F1': payment 'L-2' in ledger l.db: attachment_fee: no fee; the family is not evaluated with it"
    """

    error_type = "payment_not_in_programme"
    """The type of the rejection this makes of a family in a batch (as for a record's own)."""

    def __init__(self, family_id: str, claim_id: str, kind: str, why: str, source: str) -> None:
        self.family_id = family_id
        self.claim_id = claim_id
        self.value = kind
        """The payment's kind: the rejection's value."""
        super().__init__(
            f"family {family_id!r}: payment {claim_id!r} in {source}: {kind}: {why}; the family "
            "is not evaluated with it"
        )


class PaidUnderAnotherProgramme(NotPaidByProgramme):
    """The history pays a family under the rules of a programme other than the family's.

    Counted, the payment would take the family's one claim (its cap, or a result paid once)
    with nothing said; refused, the family is a rejection naming the entry.

    `paid_by` is the programme the payment's `rules_version` names; `judged_under` the rules
    version of the family's rule set (its programme before the ``/``).

    >>> PaidUnderAnotherProgramme("F1", "L-6", "supporting-families/1.0", "supporting-families",
    ...                           "tf-phase-2/1.0", "ledger l.db").args[0]
    "family 'F1': payment 'L-6' in ledger l.db: rules_version = 'supporting-families/1.0': a payment of supporting-families, but the family is judged under tf-phase-2 (tf-phase-2/1.0); the family is not evaluated with it"
    """

    def __init__(
        self,
        family_id: str,
        claim_id: str,
        rules_version: str,
        paid_by: str,
        judged_under: str,
        source: str,
    ) -> None:
        HistoryError.__init__(
            self,
            f"family {family_id!r}: payment {claim_id!r} in {source}: rules_version = "
            f"{rules_version!r}: a payment of {paid_by}, but the family is judged under "
            f"{judged_under.partition('/')[0]} ({judged_under}); the family is not evaluated "
            "with it",
        )
        self.family_id = family_id
        self.claim_id = claim_id
        self.value = rules_version
        """The payment's rules version: the rejection's value."""


class PaidTooMuch(HistoryError):
    """The record's payments and the history's add up to more than pbr can count.

    Each is at most £999,999,999,999.99, as is every amount a decision holds; what was paid in
    all is one of them (`paid_to_date`). The family is rejected (``money_too_large`` at
    ``payments``), not evaluated with a total that is not what was paid.

    >>> PaidTooMuch("F1", "the payments add up to 1000000000000.00", "ledger l.db", []).args[0]
    "family 'F1': with the payments in ledger l.db, the payments add up to 1000000000000.00"
    """

    error_type = "money_too_large"
    """The type of the rejection this makes of a family in a batch."""

    def __init__(self, family_id: str, why: str, source: str, amounts: list[str]) -> None:
        self.family_id = family_id
        self.value = amounts
        """The amounts, record's then history's, as text: the rejection's value."""
        super().__init__(f"family {family_id!r}: with the payments in {source}, {why}")


@dataclass(frozen=True, slots=True)
class PaymentHistory:
    """Payments by family from a ledger (or given directly), validated, each claim id once.

    Build it once with `PaymentHistory.load` and pass it to `pbr.evaluate`,
    `pbr.evaluate_many` or `pbr.audit.verify`; `source` and `head` say where it came from (for
    an audit report's header).

    >>> PaymentHistory.of({}).source
    'payments given'
    """

    by_family: Mapping[str, tuple[Payment, ...]] = field(default_factory=dict)
    source: str = "payments given"
    """Where the payments came from, for people (a ledger: its path, entries and head)."""
    head: str = ""
    """A ledger's head (``<entries>:<hash>``) when it was loaded from one."""
    claimed_on: Mapping[str, date] = field(default_factory=dict)
    """The date of the claim each payment paid, by claim id, where the history records it (a
    ledger made by this pbr, `pbr.ledger.Entry.claimed_on`, or a payment given with one):
    an audit takes a payment for the claim with its claim id only if it was made that day."""
    rules_version: Mapping[str, str] = field(default_factory=dict)
    """The rules version each payment was made under, by claim id, where the history records it
    (a ledger entry's, `pbr.ledger.Entry.rules_version`): `merge_payments` refuses a payment
    made under another programme than the family's."""

    @classmethod
    def load(
        cls, source: HistorySource, *, key: bytes | None = None, timeout: float = 60.0
    ) -> PaymentHistory:
        """The history in `source`; a ledger (or its path) is verified first.

        `source` is a `pbr.ledger.Ledger`, a ledger's path, a `PaymentHistory` (returned as it
        is), payments by family id, or ledger entries. `key` is a keyed ledger's key
        (`pbr.ledger.load_key`), when `source` is a path.

        >>> import tempfile, pathlib
        >>> from pbr.ledger import Ledger
        >>> ledger = Ledger(pathlib.Path(tempfile.mkdtemp()) / "l.db")
        >>> PaymentHistory.load(ledger).source  # doctest: +ELLIPSIS
        'ledger .../l.db: 0 entries, head 0:000...'

        Raises:
            pbr.ledger.LedgerError: no ledger at the path, or it does not verify.
            HistoryError: a payment is not valid, or one claim id is given for two families,
                or twice with a different kind, amount or date (`PaymentConflict`).
            TypeError: `source` is none of these (a number, bytes, None).

        """
        from pbr._arguments import check_ledger
        from pbr.ledger import Ledger, counted

        if source is None:  # check_ledger takes None: no history, where one is optional
            raise TypeError("source must be a payment history, got NoneType None")
        check_ledger(source, "source")
        if isinstance(source, PaymentHistory):
            return source
        if isinstance(source, str | os.PathLike):
            source = Ledger(Path(source), create=False, key=key, timeout=timeout)
        if isinstance(source, Ledger):
            verdict = source.verify()
            if not verdict.ok:
                at = f" at entry {verdict.first_bad}" if verdict.first_bad is not None else ""
                from pbr.ledger import LedgerError

                raise LedgerError(
                    f"ledger {source.path} is broken{at}: {verdict.why} (pbr ledger verify)"
                )
            keyed = ", keyed" if verdict.keyed else ""
            described = (
                f"ledger {source.path}: {counted(verdict.entries)}, head {verdict.head_text}{keyed}"
            )
            by_family = source.payments()
            payments = {
                family: tuple(_validated(e, family, described) for e in entries)
                for family, entries in by_family.items()
            }
            return cls._checked(
                payments,
                described,
                verdict.head_text,
                _claim_dates(by_family.values()),
                _rules_versions(by_family.values()),
            )
        return cls.of(source)

    @classmethod
    def of(cls, payments: Mapping[str, Iterable[Any]] | Iterable[Any]) -> PaymentHistory:
        """A history from payments by family id, or from ledger entries (which name the family).

        Each item is a `pbr.records.Payment`, a `pbr.ledger.Entry` or a mapping with its fields;
        each is validated again.

        >>> from decimal import Decimal
        >>> from datetime import date
        >>> from pbr.ledger import Entry
        >>> h = PaymentHistory.of([Entry("F1", "attachment_fee", Decimal("3200.00"),
        ...                               date(2012, 11, 1), "C-1", "v1")])
        >>> h.payments("F1")[0].amount, h.payments("F2")
        (Decimal('3200.00'), ())
        """
        grouped: dict[str, list[Any]] = {}
        if isinstance(payments, Mapping):
            for family_id, items in payments.items():
                grouped.setdefault(str(family_id), []).extend(items)
        else:
            for item in payments:
                family_id = getattr(item, "family_id", None)
                if family_id is None and isinstance(item, Mapping):
                    family_id = item.get("family_id")
                if not isinstance(family_id, str):
                    raise TypeError(
                        f"a payment without a family: {item!r} (give payments by family id)"
                    )
                grouped.setdefault(family_id, []).append(item)
        source = "payments given"
        validated = {
            family: tuple(_validated(item, family, source) for item in items)
            for family, items in grouped.items()
        }
        return cls._checked(
            validated,
            source,
            "",
            _claim_dates(grouped.values()),
            _rules_versions(grouped.values()),
        )

    @classmethod
    def _checked(
        cls,
        payments: dict[str, tuple[Payment, ...]],
        source: str,
        head: str,
        claimed_on: Mapping[str, date] | None = None,
        rules_version: Mapping[str, str] | None = None,
    ) -> PaymentHistory:
        """Each claim id once: the same payment given twice counts once; a conflict is an error."""
        owner: dict[str, str] = {}
        merged: dict[str, tuple[Payment, ...]] = {}
        for family_id, items in payments.items():
            for item in items:
                if item.claim_id is None:
                    continue
                first = owner.setdefault(item.claim_id, family_id)
                if first != family_id:
                    raise PaymentConflict(
                        family_id, item.claim_id, "family", repr(first), repr(family_id), source
                    )
            merged[family_id] = _merge((), items, family_id, source, first=source)
        return cls(merged, source, head, dict(claimed_on or {}), dict(rules_version or {}))

    def payments(self, family_id: str) -> tuple[Payment, ...]:
        """The family's payments in this history (none: an empty tuple).

        >>> PaymentHistory.of({}).payments("F1")
        ()
        """
        if type(family_id) is not str:  # a family, not its id, would find none: a miss unsaid
            from pbr._arguments import check_family_id

            check_family_id(family_id)
        return self.by_family.get(family_id, ())

    def __len__(self) -> int:
        return sum(len(p) for p in self.by_family.values())


def merge_payments(
    family: Family, history: HistorySource | None, *, rules: RuleSet | None = None
) -> Family:
    """`family` with its record's payments and the history's for it, each claim id once.

    The record's payments come first, then the history's that the record does not list. A
    payment in both with the same kind and amount counts once (a missing date is taken from the
    other); a disagreement about kind, amount or date is a `PaymentConflict`, a result the
    history pays again under another claim is `PaidTwice`, and payments adding up to more than
    pbr can count (over £999,999,999,999.99) are `PaidTooMuch`. A payment only the history lists
    that the family's programme does not pay under `rules` (by default the family's own rule set,
    `pbr.rule_set_for`) is `NotPaidByProgramme`, naming the entry. A result the history dates before
    the family's attachment is merged as the record's would be: the evaluation warns of it
    (``RESULTS_PAID_BEFORE_ATTACHMENT``) and counts it as paid. With no history, or none for
    this family, the family is returned unchanged.

    >>> import pbr
    >>> from decimal import Decimal
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "payments": [{"kind": "attachment_fee", "amount": "3200", "claim_id": "C-1"}]})
    >>> merge_payments(family, {"F1": [pbr.records.Payment(kind="attachment_fee",
    ...     amount=Decimal(2400), claim_id="C-1")]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.history.PaymentConflict: family 'F1': payment 'C-1': amount is 3200.00 in the family record but 2400.00 in payments given

    Raises:
        PaymentConflict: the record and the history disagree about a payment.
        PaidTwice: the history pays a result the family was already paid.
        PaidTooMuch: the record's payments and the history's add up to more than pbr can count.
        NotPaidByProgramme: the history pays the family a kind its programme does not have, or
            an attachment fee for a year the rules pay none.
        pbr.ledger.LedgerError: `history` is a ledger that does not verify.
        TypeError: `family` is not a `pbr.Family`, or `history` is no payment history.

    """
    from pbr._arguments import check_family, check_ledger

    check_family(family, "family")
    if type(history) is not PaymentHistory:  # (a batch's, once loaded, for every family)
        check_ledger(history, "history")
    if history is None:
        return family
    loaded = PaymentHistory.load(history)
    extra = loaded.payments(family.family_id)
    if not extra:
        return family
    merged = _merge(family.payments, extra, family.family_id, loaded.source)
    _paid_by_programme(family, merged[len(family.payments) :], rules, loaded)
    _results_once(merged, len(family.payments), family.family_id, loaded.source)
    too_much = too_much_paid(merged)
    if too_much is not None:
        raise PaidTooMuch(family.family_id, too_much[3], loaded.source, too_much[2])
    return family.model_copy(update={"payments": merged})


def _paid_by_programme(
    family: Family, added: tuple[Payment, ...], rules: RuleSet | None, history: PaymentHistory
) -> None:
    """Refuse a payment only the history lists that the family's programme does not pay.

    The evaluation would refuse it too, but as the record's (``payments.N.kind``: "correct the
    record"), which does not list it. A payment the history made under another programme's
    rules would take the family's claim unsaid. A family no rule set covers is left to the
    evaluation.
    """
    from pbr.errors import OutsideProgramme
    from pbr.periods import financial_year_of
    from pbr.programmes import programme

    if not added:
        return
    source = history.source
    if rules is None:
        from pbr.engine import rule_set_for

        try:
            rules = rule_set_for(family)
        except OutsideProgramme:
            return
    if not rules.covers(family.attached_on):
        return
    found = programme(rules.programme)
    kinds = found.payment_kinds
    year = financial_year_of(family.attached_on)
    for payment in added:
        claim_id = payment.claim_id or "(no claim id)"
        if payment.kind not in kinds:
            why = f"not a payment of {found.id}, which pays {', '.join(kinds)}"
            raise NotPaidByProgramme(family.family_id, claim_id, payment.kind, why, source)
        if payment.kind == "attachment_fee" and payment.amount:
            if found.attachment_fee(rules, year):
                continue
            chosen = ", ".join(
                f"{k} = {v}"
                for k, v in sorted(rules.chosen.items())
                if found.rules.chosen.get(k) != v
            )
            why = f"{rules.title} pays no attachment fee for a family attached in {year}" + (
                f" (under {chosen})" if chosen else ""
            )
            why += ": choose the interpretation the ledger's payments were made under"
            raise NotPaidByProgramme(family.family_id, claim_id, payment.kind, why, source)
    _under_the_programme(family, added, rules, history)


def _under_the_programme(
    family: Family, added: tuple[Payment, ...], rules: RuleSet, history: PaymentHistory
) -> None:
    """Refuse a payment the history made under a programme pbr knows other than the family's.

    Counted, it would take the claim the family's own programme pays, with nothing said. A
    rules version naming no programme pbr knows is not judged (`pbr.ledger.programme_named`).
    """
    from pbr.ledger import programme_named

    for payment in added:
        claim_id = payment.claim_id or ""
        version = history.rules_version.get(claim_id, "")
        found = programme_named(version) if version else None
        if found is not None and found.id != rules.programme:
            raise PaidUnderAnotherProgramme(
                family.family_id, claim_id, version, found.id, rules.rules_version, history.source
            )


def _results_once(payments: tuple[Payment, ...], own: int, family_id: str, source: str) -> None:
    """Refuse a result the history pays again under another claim (its first `own` are the record's).

    An attachment fee may be listed more than once (paid in parts: phase-one spec clarification
    7); a record that itself lists a result twice is the record's to explain, as before.
    """
    first: dict[str, int] = {}
    for i, payment in enumerate(payments):
        if payment.kind == "attachment_fee":
            continue
        earlier = first.setdefault(payment.kind, i)
        if earlier != i and i >= own:
            where = "the family record" if earlier < own else source
            raise PaidTwice(
                family_id,
                payment.claim_id or "",
                payment.kind,
                payments[earlier].claim_id or "(no claim id)",
                where,
            )


def _merge(
    record: tuple[Payment, ...],
    extra: Iterable[Payment],
    family_id: str,
    source: str,
    first: str = "the family record",
) -> tuple[Payment, ...]:
    out = list(record)
    where = {p.claim_id: i for i, p in enumerate(out) if p.claim_id is not None}
    for payment in extra:
        i = where.get(payment.claim_id) if payment.claim_id is not None else None
        if i is None:
            if payment.claim_id is not None:
                where[payment.claim_id] = len(out)
            out.append(payment)
            continue
        known = out[i]
        claim_id = payment.claim_id or ""
        for name in ("kind", "amount"):
            here, there = getattr(known, name), getattr(payment, name)
            if here != there:
                raise PaymentConflict(
                    family_id, claim_id, name, str(here), str(there), source, first
                )
        if known.paid_on is None and payment.paid_on is not None:
            out[i] = known.model_copy(update={"paid_on": payment.paid_on})
        elif payment.paid_on not in (None, known.paid_on):
            raise PaymentConflict(
                family_id,
                claim_id,
                "paid_on",
                str(known.paid_on),
                str(payment.paid_on),
                source,
                first,
            )
    return tuple(out)


def _claim_dates(groups: Iterable[Iterable[Any]]) -> dict[str, date]:
    """The claim date of each payment that records one (a ledger entry's, or ``claimed_on``).

    Raises:
        HistoryError: a ``claimed_on`` given that is not a date.

    """
    found: dict[str, date] = {}
    for items in groups:
        for item in items:
            if isinstance(item, Mapping):
                claim_id, day = item.get("claim_id"), item.get("claimed_on")
            else:
                claim_id, day = getattr(item, "claim_id", None), getattr(item, "claimed_on", None)
            if isinstance(day, str):
                text = day
                day = date_from_text(text)  # never an ISO week date (2015-W14-2)
                if day is None:
                    raise HistoryError(
                        f"payment {claim_id!r}: claimed_on = {text!r}: not a date (YYYY-MM-DD)"
                    )
            if isinstance(claim_id, str) and isinstance(day, date):
                found[claim_id] = day
    return found


def _rules_versions(groups: Iterable[Iterable[Any]]) -> dict[str, str]:
    """The rules version of each payment that records one (a ledger entry's), by claim id."""
    found: dict[str, str] = {}
    for items in groups:
        for item in items:
            version = None if isinstance(item, Mapping) else getattr(item, "rules_version", None)
            claim_id = getattr(item, "claim_id", None)
            if isinstance(claim_id, str) and isinstance(version, str):
                found[claim_id] = version
    return found


def _validated(item: Any, family_id: str, source: str) -> Payment:
    """A payment validated from a `Payment`, a ledger `Entry` or a mapping of its fields."""
    from pbr._untracked import untracked
    from pbr.records import Payment

    if isinstance(item, Payment):
        data: Any = item.model_dump()
    elif isinstance(item, Mapping):  # its claim date is kept apart (`_claim_dates`)
        data = {k: v for k, v in item.items() if k not in ("family_id", "claimed_on")}
    else:
        data = {
            name: getattr(item, name)
            for name in ("kind", "amount", "paid_on", "claim_id")
            if hasattr(item, name)
        }
    try:
        return untracked(Payment.model_validate(data), (), (Payment,))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(payment)"
        message = err["msg"].removeprefix("Value error, ")
        raise HistoryError(
            f"family {family_id!r}: payment {data.get('claim_id')!r} in {source}: {loc} = "
            f"{err.get('input')!r}: {message}"
        ) from None
