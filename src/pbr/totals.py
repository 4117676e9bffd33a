"""Totals of a run, per council and overall, in exact pence: what a national summary reports.

`Totals` accumulates decisions (and rejections) as they stream past, so memory stays flat; two
totals add up (`Totals.merge`, ``+``), which is how partitions of a distributed run combine. The
councils always reconcile to the overall figures to the penny.

>>> import pbr
>>> from datetime import date
>>> family = pbr.Family.model_validate({"family_id": "F1", "local_authority": "Leeds",
...     "attached_on": "2012-10-15", "identified_for": ["crime_asb", "education", "work"],
...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
>>> totals = pbr.Totals()
>>> totals.add(pbr.evaluate(family, as_of=date(2013, 6, 30)))
>>> totals.reject()
>>> row = totals.councils["Leeds"]
>>> row.families_evaluated, str(row.attachment_fees), str(row.results_payments), str(row.total)
(1, '3200.00', '800.00', '4000.00')
>>> totals.overall.families_rejected
1
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, getcontext, setcontext
from typing import TYPE_CHECKING

from pbr._terminal import printable
from pbr.money import ARITHMETIC, ZERO, format_gbp, in_exact_arithmetic

if TYPE_CHECKING:
    from pbr._rejection import Rejection
    from pbr.decisions import Decision

__all__ = ["CouncilTotals", "Totals", "fee_due"]

NO_COUNCIL = "(no council)"
"""How a run's families without a ``local_authority`` are labelled (a rejection too, unless its
record names a sound one: `pbr.Rejection.local_authority`)."""


def fee_due(eligible: bool, attachment_fee: Decimal, attached_on: object, as_of: object) -> Decimal:
    """The attachment fee a run counts: an eligible family's, once it is attached by `as_of`.

    A decision made before the family's attachment (a council's export run to an earlier date)
    still states the fee its attachment will earn, but none is due yet. Dates are
    `datetime.date` or ISO text, as long as both are the same.

    >>> from datetime import date
    >>> fee = Decimal("2400.00")
    >>> [str(fee_due(True, fee, date(2013, 5, 1), d)) for d in (date(2013, 4, 30), date(2013, 5, 1))]
    ['0.00', '2400.00']
    """
    if eligible and attached_on <= as_of:  # type: ignore[operator]
        return attachment_fee
    return ZERO


@dataclass(frozen=True, slots=True)
class CouncilTotals:
    """One council's (or the whole run's) counts and money; `total` = fees + results payments.

    Attachment fees count for eligible families attached by the as-of date only (an ineligible
    family earns no fee, and one attached later has not earned it yet: `fee_due`).

    >>> from decimal import Decimal
    >>> row = CouncilTotals(2, 0, 1, Decimal("6400.00"), Decimal("800.00"))
    >>> str(row.total), (row + row).families_evaluated
    ('7200.00', 4)
    """

    families_evaluated: int = 0
    families_rejected: int = 0
    results_paid: int = 0
    """Results with a payment due now (amount above zero)."""
    attachment_fees: Decimal = ZERO
    results_payments: Decimal = ZERO

    @property
    @in_exact_arithmetic
    def total(self) -> Decimal:
        """Attachment fees and results payments together."""
        return self.attachment_fees + self.results_payments

    @in_exact_arithmetic
    def __add__(self, other: CouncilTotals) -> CouncilTotals:
        return CouncilTotals(
            self.families_evaluated + other.families_evaluated,
            self.families_rejected + other.families_rejected,
            self.results_paid + other.results_paid,
            self.attachment_fees + other.attachment_fees,
            self.results_payments + other.results_payments,
        )


_EVALUATED_ONE = {"families_evaluated": 1}


class Totals:
    """Counts and money of a run, per council and overall, accumulated one decision at a time.

    The overall row is kept on its own (not summed from the councils), so the two can be
    checked against each other: `reconciles` says they agree to the penny.

    >>> from decimal import Decimal
    >>> totals = Totals()
    >>> totals.add_amounts("Leeds", Decimal("3200.00"), [Decimal("800.00")])
    >>> totals.add_amounts("Bury", Decimal("0.00"), [])
    >>> str(totals.overall.total), list(totals.councils), totals.reconciles()
    ('4000.00', ['Bury', 'Leeds'], True)
    """

    __slots__ = ("_councils", "_overall")

    def __init__(self) -> None:
        self._councils: dict[str | None, list[Decimal | int]] = {}
        self._overall: list[Decimal | int] = [0, 0, 0, ZERO, ZERO]

    @classmethod
    def _of(
        cls, councils: dict[str | None, list[Decimal | int]], overall: list[Decimal | int]
    ) -> Totals:
        """Totals from rows already counted as `add_amounts` counts them (`pbr._sums`)."""
        totals = cls()
        totals._councils = councils
        totals._overall = overall
        return totals

    def add(self, decision: Decision) -> None:
        """Count one decision under its council (a rejection is counted by `reject`)."""
        if not hasattr(decision, "results"):
            raise TypeError(
                f"add takes a pbr.Decision, not {type(decision).__name__}: count a rejection "
                "with reject(rejection)"
            )
        self.add_amounts(
            decision.local_authority,
            fee_due(
                decision.eligible, decision.attachment_fee, decision.attached_on, decision.as_of
            ),
            (r.amount for r in decision.results.values()),
        )

    def add_json(self, text: str) -> None:
        """Count one decision given as its JSON text (as ``pbr evaluate --format json`` writes)."""
        data = json.loads(text)
        fee = fee_due(
            data["eligible"], Decimal(data["attachment_fee"]), data["attached_on"], data["as_of"]
        )
        amounts = (Decimal(r["amount"]) for r in data["results"].values())
        self.add_amounts(data["local_authority"], fee, amounts)

    def add_amounts(
        self, local_authority: str | None, attachment_fee: Decimal, amounts: Iterable[Decimal]
    ) -> None:
        """Count one evaluated family: its council, its fee (`fee_due`), its results."""
        outer = getcontext()
        if outer is ARITHMETIC:  # a batch sets it once for many families
            self._add_amounts(local_authority, attachment_fee, amounts)
            return
        setcontext(ARITHMETIC)  # the sums, whatever the caller's `decimal` context
        try:
            self._add_amounts(local_authority, attachment_fee, amounts)
        finally:
            setcontext(outer)

    def _add_amounts(
        self, local_authority: str | None, attachment_fee: Decimal, amounts: Iterable[Decimal]
    ) -> None:
        paid = 0
        payments = ZERO
        for amount in amounts:
            if amount > 0:
                paid += 1
                payments += amount
        for row in (self._row(local_authority), self._overall):
            row[0] += 1
            row[2] += paid
            row[3] += attachment_fee
            row[4] += payments

    def reject(self, rejected: Rejection | str | None = None) -> None:
        """Count one rejected family, under the council a `pbr.Rejection` names, or the one given.

        None (the default) counts it under no council.
        """
        council = getattr(rejected, "local_authority", rejected)
        if council is not None and not isinstance(council, str):
            raise TypeError(
                f"reject takes a pbr.Rejection, a council's name or None, not "
                f"{type(rejected).__name__}"
            )
        self._row(council)[1] += 1
        self._overall[1] += 1

    @in_exact_arithmetic
    def merge(self, other: Totals) -> Totals:
        """These totals and `other` together, as new totals (neither is changed)."""
        out = Totals()
        for source in (self, other):
            for council, row in source._councils.items():
                mine = out._row(council)
                for i, value in enumerate(row):
                    mine[i] += value
            for i, value in enumerate(source._overall):
                out._overall[i] += value
        return out

    __add__ = merge

    def _row(self, council: str | None) -> list[Decimal | int]:
        row = self._councils.get(council)
        if row is None:
            row = self._councils[council] = [0, 0, 0, ZERO, ZERO]
        return row

    @property
    def councils(self) -> Mapping[str | None, CouncilTotals]:
        """Each council's totals, by name in order (families with no council, `None`, last)."""
        names = sorted(self._councils, key=lambda c: (c is None, c or ""))
        return {name: _frozen(self._councils[name]) for name in names}

    @property
    def overall(self) -> CouncilTotals:
        """The whole run's totals."""
        return _frozen(self._overall)

    def reconciles(self) -> bool:
        """Whether the councils add up to the overall totals, exactly."""
        return sum(self.councils.values(), CouncilTotals()) == self.overall

    def to_dict(self) -> dict[str, object]:
        """The totals as JSON-ready values (money as decimal strings), councils by name."""
        return {
            "overall": _as_dict(self.overall),
            "councils": [
                {"local_authority": name, **_as_dict(row)} for name, row in self.councils.items()
            ],
        }

    def case_variants(self) -> list[tuple[str, ...]]:
        """Councils whose names differ only in case (``Leeds``, ``LEEDS``): each group, sorted.

        They are counted apart, as the records name them; `lines` warns of them, since they
        are most likely one council written two ways.

        >>> totals = Totals()
        >>> for name in ("Leeds", "LEEDS", "Bury"):
        ...     totals.reject(name)
        >>> totals.case_variants()
        [('LEEDS', 'Leeds')]
        """
        groups: dict[str, list[str]] = {}
        for council in self._councils:
            if council is not None:
                groups.setdefault(council.casefold(), []).append(council)
        return sorted(tuple(sorted(g)) for g in groups.values() if len(g) > 1)

    def warnings(self) -> list[str]:
        """What a reader of these totals is warned of, one sentence each.

        Councils whose names differ only in case (`case_variants`) are counted apart. `lines`
        ends with the warnings; the web API's batch summary gives them as its ``warnings``.

        >>> totals = Totals()
        >>> for name in ("Leeds", "LEEDS", "Bury"):
        ...     totals.reject(name)
        >>> totals.warnings()
        ['council names that differ only in case are counted apart: LEEDS, Leeds']
        """
        return [
            "council names that differ only in case are counted apart: "
            + ", ".join(_label(c) for c in group)
            for group in self.case_variants()
        ]

    def lines(self) -> list[str]:
        """The totals as lines for people: one per council, then the whole run, then any warning.

        Families without a council are labelled ``(no council)``; a council whose name is a
        label (``(no council)``, ``all councils``) or is itself in double quotes is shown in
        double quotes, so that no two rows read alike. Councils whose names differ only in case
        are warned of after the table (`warnings`).
        """
        names = {c: _label(c) for c in self._councils}
        width = max([len(n) for n in names.values()] + [len("all councils")])
        head = (
            f"  {'council'.ljust(width)}  {'evaluated':>9}  {'rejected':>8}  {'results':>7}  "
            f"{'fees':>14}  {'payments':>14}  {'total':>14}"
        )
        out = [head]
        rows = [*((names[c], r) for c, r in self.councils.items())]
        rows.append(("all councils", self.overall))
        for name, row in rows:
            out.append(
                f"  {name.ljust(width)}  {row.families_evaluated:>9}  {row.families_rejected:>8}  "
                f"{row.results_paid:>7}  {format_gbp(row.attachment_fees):>14}  "
                f"{format_gbp(row.results_payments):>14}  {format_gbp(row.total):>14}"
            )
        out += [f"  warning: {warning}" for warning in self.warnings()]
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Totals):
            return NotImplemented
        return self.councils == other.councils and self.overall == other.overall

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Totals(overall={self.overall!r}, councils={len(self._councils)})"


_LABELS = (NO_COUNCIL, "all councils")


def _label(council: str | None) -> str:
    """A council's name as `Totals.lines` shows it: never one of its labels, never two alike."""
    if council is None:
        return NO_COUNCIL
    shown = printable(council)
    if shown in _LABELS or (len(shown) > 1 and shown[0] == shown[-1] == '"'):
        return f'"{shown}"'
    return shown


def _frozen(row: list[Decimal | int]) -> CouncilTotals:
    return CouncilTotals(int(row[0]), int(row[1]), int(row[2]), Decimal(row[3]), Decimal(row[4]))


def _as_dict(row: CouncilTotals) -> dict[str, object]:
    return {
        "families_evaluated": row.families_evaluated,
        "families_rejected": row.families_rejected,
        "results_paid": row.results_paid,
        "attachment_fees": str(row.attachment_fees),
        "results_payments": str(row.results_payments),
        "total": str(row.total),
    }
