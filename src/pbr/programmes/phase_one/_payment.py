"""Phase one's money (phase1-spec §2, §5, clarifications 7, 8, 16, 17): rates, the cap, the routes.

Results are paid in order (crime/ASB/education, progress to work, continuous employment), each at
its rate within the room left under the cap; nothing is paid twice; continuous employment tops up
or is exclusive of crime/ASB/education (interpretation `employment_after_crime`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from pbr._parts import ResultKind, trusted_result
from pbr.money import ZERO, round_to_penny
from pbr.periods import FinancialYear, financial_year_of
from pbr.programmes._kernel import Account, Payout, Verdict, already_paid, reason, result
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Reason, ResultDecision
    from pbr.records import Family

__all__ = ["KINDS", "Rate", "attachment_fee", "pay", "rates", "rates_year"]

KINDS: tuple[ResultKind, ...] = ("crime_asb_education", "progress_to_work", "continuous_employment")
"""Phase one's results, in the order they are paid (clarification 8)."""

_OTHER_ROUTE: dict[ResultKind, ResultKind] = {
    "crime_asb_education": "continuous_employment",
    "continuous_employment": "crime_asb_education",
}


@dataclass(frozen=True, slots=True)
class Rate:
    """A result's rate in a financial year, with the source tags it comes from."""

    amount: Decimal
    source: str


def attachment_fee(rules: RuleSet, year: FinancialYear) -> Decimal:
    """The attachment fee for a family attached in `year`."""
    return rules.amount("attachment_fee", year)


def rates(rules: RuleSet, year: FinancialYear) -> dict[ResultKind, Rate]:
    """Each result's rate in `year` (interpretation `results_split`)."""
    return dict(_table(rules, year))


def _table(rules: RuleSet, year: FinancialYear) -> Mapping[ResultKind, Rate]:
    """`rates`, built once per rule set, year and split (every family paid asks): not a copy."""
    split = rules.interpretation("results_split")
    return rules._derived(("phase_one.rates", year.start_year, split), lambda: _rates(rules, year))


def _rates(rules: RuleSet, year: FinancialYear) -> dict[ResultKind, Rate]:
    employment = Rate(
        rules.amount("continuous_employment", year),
        rules.parameter("continuous_employment", year).source_text,
    )
    if rules.interpretation("results_split") == "pro_rata":
        share = rules.amount("cap", year) - rules.amount("attachment_fee", year)
        source = rules.parameter("crime_asb_education_share", year).source_text
        crime = round_to_penny(Fraction(share) * rules.fraction("crime_asb_education_share", year))
        return {
            "crime_asb_education": Rate(crime, source),
            "progress_to_work": Rate(share - crime, source),
            "continuous_employment": employment,
        }
    return {
        kind: Rate(rules.amount(kind, year), rules.parameter(kind, year).source_text)
        for kind in ("crime_asb_education", "progress_to_work")
    } | {"continuous_employment": employment}


def rates_year(rules: RuleSet, attached: date, as_of: date) -> FinancialYear:
    """Whose rates apply: the year of attachment, or of `as_of` within the table (clarif. 16)."""
    if rules.interpretation("rates_by") == "claim_year":
        years = rules.years
        return min(max(financial_year_of(as_of), years[0]), years[-1])
    return financial_year_of(attached)


def pay(
    family: Family,
    as_of: date,
    rules: RuleSet,
    books: Account,
    verdicts: Mapping[ResultKind, Verdict],
) -> Payout:
    """Turn verdicts into amounts: rates, payments made, the cap and the combination rules."""
    year = rates_year(rules, family.attached_on, as_of)
    table = _table(rules, year)
    room: Decimal | None = None  # worked out when a result is first payable: most pay nothing
    paid_now = ZERO
    results: dict[ResultKind, ResultDecision] = {}
    for kind in KINDS:
        verdict, rate = verdicts[kind], table[kind]
        made = books.paid(kind) if books.made else None
        if made:
            reasons = (already_paid(kind, made[0], rules), *verdict.reasons)
            results[kind] = result(
                verdict, status="already_paid", rate=rate.amount, reasons=reasons
            )
            continue
        if verdict.status != "met":
            results[kind] = trusted_result(
                verdict.status, ZERO, rate.amount, verdict.earliest, verdict.reasons
            )
            continue
        if room is None:
            room = books.room
        blocked = _exclusive(kind, books, verdicts, rules)
        if blocked is not None:
            reasons = (*verdict.reasons, blocked)
            results[kind] = result(verdict, rate=rate.amount, reasons=reasons)
            continue
        amount = min(rate.amount, room)
        reasons = (
            *verdict.reasons,
            _rate_applied(kind, rate, year, rules),
            *_cut(kind, rate.amount, amount, room, books, paid_now, rules, results),
        )
        results[kind] = result(verdict, amount=amount, rate=rate.amount, reasons=reasons)
        room -= amount
        paid_now += amount
    return results, paid_now


def _exclusive(
    kind: ResultKind, books: Account, verdicts: Mapping[ResultKind, Verdict], rules: RuleSet
) -> Reason | None:
    """Under `exclusive`, the route not taken (clarification 17); None when `kind` may be paid."""
    other = _OTHER_ROUTE.get(kind)
    if rules.interpretation("employment_after_crime") != "exclusive" or other is None:
        return None
    other_paid = bool(books.paid(other))
    payable_together = kind == "crime_asb_education" and verdicts[other].status == "met"
    if not (other_paid or payable_together):
        return None
    return reason(
        "EXCLUSIVE_ROUTE_TAKEN",
        "payment.employment_after_crime",
        rules,
        f"{other} is {'paid' if other_paid else 'payable now'}, so {kind} is not paid",
        other_route=other,
        interpretation="exclusive",
    )


def _after_crime(books: Account, results: Mapping[ResultKind, ResultDecision]) -> bool:
    """Whether crime/ASB/education was paid before or is payable now (in `results` already)."""
    now = results.get("crime_asb_education")
    return (now is not None and now.amount > 0) or bool(
        books.made and books.paid("crime_asb_education")
    )


def _rate_applied(kind: ResultKind, rate: Rate, year: FinancialYear, rules: RuleSet) -> Reason:
    return reason(
        "RATE_APPLIED",
        f"payment.rate.{kind}",
        rules,
        f"rate {rate.amount} for {kind} in {year} (rates_by = {rules.interpretation('rates_by')})",
        source=rate.source,
        rate=str(rate.amount),
        rates_year=str(year),
        rates_by=rules.interpretation("rates_by"),
        results_split=rules.interpretation("results_split"),
    )


def _cut(
    kind: ResultKind,
    rate: Decimal,
    amount: Decimal,
    room: Decimal,
    books: Account,
    paid_now: Decimal,
    rules: RuleSet,
    results: Mapping[ResultKind, ResultDecision],
) -> tuple[Reason, ...]:
    """Why an amount is below its rate: an employment top-up, or the cap (clarification 7).

    A top-up (interpretation `employment_after_crime`) is employment after crime/ASB/education,
    paid before or payable now; after progress to work alone the cap's room is all it is.
    """
    if amount >= rate:
        return ()
    numbers = {
        "rate": str(rate),
        "room": str(room),
        "cap": str(books.cap),
        "attachment_fee_counted": str(books.fee_counted),
        "results_paid_before": str(books.results_paid),
        "results_payable_earlier_now": str(paid_now),
        "amount": str(amount),
    }
    top_up = rules.interpretation("employment_after_crime") != "exclusive"
    if kind == "continuous_employment" and top_up and _after_crime(books, results):
        shown = (
            f"earlier results leave {room} of the results share: employment tops up by {amount}"
            if amount
            else "earlier results use the whole results share: employment adds nothing"
        )
        return (
            reason("EMPLOYMENT_TOP_UP", "payment.employment_after_crime", rules, shown, **numbers),
        )
    return (
        reason(
            "CAP_REACHED",
            "payment.cap",
            rules,
            f"only {room} left under the {books.cap} cap ({_counted(books, paid_now)})",
            source=books.cap_source,
            **numbers,
        ),
    )


def _counted(books: Account, paid_now: Decimal) -> str:
    """What the cap's room is after: the fee, results paid, results payable now (no zero shown).

    Results payable now are not paid yet, so they are never called paid.
    """
    parts = [f"fee counted {books.fee_counted}"]
    if books.results_paid:
        parts.append(f"results paid {books.results_paid}")
    if paid_now:
        parts.append(f"other results payable now {paid_now}")
    return ", ".join(parts)
