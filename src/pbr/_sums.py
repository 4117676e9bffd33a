"""A batch's sums of its decisions: what each byte range of a file tells the parent, compiled.

`pbr.batch`'s workers keep, for each decision, a short row (`detail_row`) and, for their byte
range, its sums (`span_sums`): each council's counts and money, and each programme's results
paid. The same loops were the last Python a family ran in a worker (a fiftieth of its time);
compiled with the rules (`pbr._native.COMPILED`), the sums are the same to the penny
(tests/test_totals.py holds them to `pbr.Totals.add_amounts`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pbr.money import ZERO

__all__ = ["Detail", "detail_row", "span_sums"]

Detail = tuple[int, int, str, str, str | None, Decimal, dict[str, Decimal]]
"""A decision's row: line, record, family_id, programme, local_authority, the attachment fee
counted (`pbr.totals.fee_due`) and each result's amount by kind."""

CouncilRow = list[Any]
"""A council's counts and money as `pbr.Totals` keeps them: families, rejected, results paid,
fees, payments."""


def detail_row(decision: Any, line: int, record: int) -> Detail:
    """`decision`'s row (a decision of either kind: model or `pbr._lean` Struct)."""
    amounts: dict[str, Decimal] = {}
    for kind, result in decision.results.items():
        amounts[str(kind)] = result.amount
    fee = ZERO
    if decision.eligible and decision.attached_on <= decision.as_of:  # `fee_due`
        fee = decision.attachment_fee
    return (
        line,
        record,
        decision.family_id,
        decision.programme,
        decision.local_authority,
        fee,
        amounts,
    )


def span_sums(
    detail: list[Detail],
) -> tuple[dict[str | None, CouncilRow], CouncilRow, dict[str, int], dict[str, dict[str, Decimal]]]:
    """Each council's row and the overall row; the decisions and results paid by programme.

    The rows as `Totals.add_amounts` counts them family by family; the decisions by programme,
    and the results paid by programme and kind, both in the order first seen. In the caller's
    `decimal` context (the batch's exact one).
    """
    councils: dict[str | None, CouncilRow] = {}
    overall: CouncilRow = [0, 0, 0, ZERO, ZERO]
    counts: dict[str, int] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    for row in detail:
        paid = 0
        payments = ZERO
        for amount in row[6].values():
            if amount > 0:
                paid += 1
                payments += amount
        council = councils.get(row[4])
        if council is None:
            council = councils[row[4]] = [0, 0, 0, ZERO, ZERO]
        for kept in (council, overall):
            kept[0] += 1
            kept[2] += paid
            kept[3] += row[5]
            kept[4] += payments
        programme = row[3]
        counts[programme] = counts.get(programme, 0) + 1
        by_kind = totals.get(programme)
        if by_kind is None:
            by_kind = totals[programme] = {}
        for kind, amount in row[6].items():
            by_kind[kind] = by_kind.get(kind, ZERO) + amount
    return councils, overall, counts, totals
