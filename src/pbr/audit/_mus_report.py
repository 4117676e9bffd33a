"""The monetary-unit sample's part of the audit report: header lines, tables, CSV columns and rows.

Money stays `Decimal` (each writer formats it); taintings and confidence factors are text, so no
writer shows them as pounds.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from pbr.audit._report import Cell, Table, flag_labels, kind_label
from pbr.money import format_gbp

if TYPE_CHECKING:
    from pbr.audit._mus import Misstatement
    from pbr.audit._mus_audit import MusAudit

__all__ = ["MUS_COLUMNS", "claim_columns", "conclusion", "csv_rows", "meta", "summary", "tables"]

MUS_COLUMNS = (
    "mus_id",
    "mus_selected_at",
    "mus_hits",
    "mus_top_stratum",
    "mus_audited",
    "mus_tainting",
    "mus_rank",
    "mus_factor_step",
    "mus_projected",
    "mus_allowance",
    "mus_figure",
)
"""Columns the CSV report gains when a monetary-unit sample was drawn.

On a claim's row: its sampling id (every claim), and, when sampled, the running total of its
first selected penny, the pennies selected in it, whether it is at least the interval, its
audited amount, and for a misstatement its tainting (6 places), rank, confidence-factor step,
projected misstatement and incremental allowance. Rows of status ``mus`` after the claims give
the evaluation: ``rule`` names the figure, ``mus_figure`` is it in pounds, ``why`` says how.
"""


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _tainting(t: Fraction) -> str:
    """``1/2 (50.00%)``; an under-claim's is negative, with a minus sign no formula starts with."""
    sign = "\u2212" if t < 0 else ""
    t = abs(t)
    share = (Decimal(t.numerator) / Decimal(t.denominator) * 100).quantize(Decimal("0.01"))
    exact = str(t.numerator) if t.denominator == 1 else f"{t.numerator}/{t.denominator}"
    return f"{sign}{exact} ({sign}{share}%)"


def _tainting_number(t: Fraction) -> str:
    """The tainting as a plain number, 6 places, half even (a spreadsheet reads it as such)."""
    value = Decimal(t.numerator) / Decimal(t.denominator)
    return f"{value.quantize(Decimal('0.000001'), rounding=ROUND_HALF_EVEN).normalize():f}"


def meta(m: MusAudit) -> list[tuple[str, str]]:
    """Header lines: the method, its parameters, the seed, the interval and the start."""
    plan, drawn = m.plan, m.sample
    tolerable = format_gbp(plan.tolerable)
    return [
        ("Sample method", "monetary-unit sampling (MUS): each penny claimed equally likely"),
        ("Confidence", _percent(plan.confidence)),
        ("Tolerable misstatement", f"{tolerable} of {format_gbp(plan.book_value)} claimed"),
        ("Expected misstatement", format_gbp(plan.expected)),
        ("Sample seed", drawn.seed),
        ("Sample size", f"{plan.sample_size} selections"),
        ("Sampling interval", format_gbp(plan.interval)),
        ("Random start", format_gbp(drawn.start)),
        ("Sample plan", plan.method),
        ("Sample selection", drawn.method),
    ]


def summary(m: MusAudit) -> list[tuple[str, str]]:
    """Summary lines: the sample's size and the upper misstatement limit."""
    e = m.evaluation
    return [
        (
            f"Monetary-unit sample, {m.sample.draws} selections",
            f"{len(m.sample.items)} of {len(m.checks)} claims",
        ),
        (f"Upper misstatement limit ({_percent(m.plan.confidence)})", format_gbp(e.upper_limit)),
    ]


def conclusion(m: MusAudit) -> str:
    """The statement, against tolerable and the actual over-claim, and what it does not cover."""
    text = m.evaluation.conclusion
    if m.malformed:
        one = m.malformed == 1
        rows = f"{m.malformed} malformed row" + ("" if one else "s")
        text += (
            f" The {rows} ({format_gbp(m.unverified)} unverified) {'is' if one else 'are'} not "
            f"in the sample's population, so the bound does not cover {'it' if one else 'them'}."
        )
    return text


def tables(m: MusAudit) -> list[Table]:
    """The sampled claims, the misstatements found in them, and the upper misstatement limit."""
    return [_sampled(m), _misstatements(m), _limit(m)]


def _sampled(m: MusAudit) -> Table:
    checks = dict(m.checks)
    rows: list[tuple[Cell, ...]] = []
    for item in m.sample.items:
        check = checks[item.item_id]
        rows.append(
            (
                check.claim.row,
                item.item_id,
                check.claim.family_id,
                kind_label(check.claim.kind),
                item.amount,
                item.selected_at,
                item.hits,
                "yes" if item.top_stratum else "no",
                check.verified + check.under_claimed,
                flag_labels(check.codes),
            )
        )
    return Table(
        "Monetary-unit sample",
        (
            "row",
            "claim_id",
            "family_id",
            "kind",
            "claimed",
            "selected_at",
            "hits",
            "top_stratum",
            "audited",
            "flags",
        ),
        tuple(rows),
        f"Plan: {m.plan.method}. Selection: {m.sample.method}. {m.population_note} Each sampled "
        "claim was checked by the rules on its claim date: audited is the amount they allow. A "
        "claim of at least the interval (top stratum) is always sampled.",
    )


def _rank(x: Misstatement) -> Cell:
    if x.rank is not None:
        return x.rank
    return "top stratum" if x.over_claim > 0 else "under-claim"


def _misstatements(m: MusAudit) -> Table:
    rows = tuple(
        (
            _rank(x),
            x.item_id,
            x.claimed,
            x.audited,
            x.over_claim,
            x.under_claim,
            _tainting(x.tainting),
            f"{x.factor_increment}" if x.factor_increment is not None else "",
            x.projected,
            x.allowance,
        )
        for x in m.evaluation.misstatements
    )
    return Table(
        "Misstatements in the sample",
        (
            "rank",
            "claim_id",
            "claimed",
            "audited",
            "over_claimed",
            "under_claimed",
            "tainting",
            "factor_step",
            "projected",
            "allowance",
        ),
        rows,
        "Tainting = (claimed − audited) / claimed. An over-claim below the interval projects to "
        "tainting × interval and adds (factor step − 1) × tainting × interval to the allowance "
        "(nothing when the step is below 1, as below about 63% confidence), "
        "taintings ranked largest first; one in a claim of at least the interval counts as "
        "found, not projected. Under-claims are shown and projected, never netted off.",
    )


def _limit(m: MusAudit) -> Table:
    e = m.evaluation
    plan = m.plan
    ranked = [x for x in e.misstatements if x.rank is not None]
    top = [x for x in e.misstatements if x.rank is None and x.over_claim > 0]
    how_projected = f"Σ tainting × interval over {len(ranked)} over-claims below the interval"
    if top:
        found = sum((x.over_claim for x in top), Decimal("0.00"))
        how_projected += f", plus {format_gbp(found)} found in {len(top)} top-stratum claims"
    within = "within the bound" if m.consistent else "ABOVE the bound"
    rows: tuple[tuple[Cell, ...], ...] = (
        (
            "Basic precision",
            f"F(0) = {e.factors[0]} × interval {format_gbp(e.interval)}",
            e.basic_precision,
        ),
        ("Projected misstatement", how_projected, e.projected_over_claim),
        (
            "Incremental allowance",
            "Σ max(0, F(i) − F(i−1) − 1) × tainting × interval, taintings ranked largest first",
            e.incremental_allowance,
        ),
        (
            f"Upper misstatement limit ({_percent(plan.confidence)} confidence)",
            "basic precision + projected + incremental allowance",
            e.upper_limit,
        ),
        ("Tolerable misstatement", "as planned", plan.tolerable),
        (
            "Over-claimed, every claim checked",
            f"the reconciliation's total: {within}",
            m.over_claimed,
        )
        if not m.unverifiable
        else (
            "Over-claimed or unverifiable, every claim checked",
            f"the reconciliation's over-claimed {format_gbp(m.over_claimed)} and unverified "
            f"{format_gbp(m.unverifiable)} ({_unverifiable(m)}): {within}",
            m.misstated,
        ),
    )
    return Table(
        "Upper misstatement limit",
        ("figure", "how", "amount"),
        rows,
        conclusion(m),
    )


def _unverifiable(m: MusAudit) -> str:
    """Why the claims that cannot be verified cannot be, as the limit's table says it."""
    why = {
        "FAMILY_RECORD_REJECTED": "records rejected",
        "PAYMENT_HISTORY_CONFLICT": "payment records that disagree",
    }
    return " or ".join(why[code] for code in m.unverifiable_codes)


def claim_columns(m: MusAudit) -> list[dict[str, str]]:
    """The MUS columns of each claim's row, in file order."""
    items = {item.item_id: item for item in m.sample.items}
    found = {x.item_id: x for x in m.evaluation.misstatements}
    rows = []
    for key, check in m.checks:
        row = dict.fromkeys(MUS_COLUMNS, "")
        row["mus_id"] = key
        item = items.get(key)
        if item is not None:
            row["mus_selected_at"] = f"{item.selected_at:.2f}"
            row["mus_hits"] = str(item.hits)
            row["mus_top_stratum"] = "yes" if item.top_stratum else "no"
            row["mus_audited"] = f"{check.verified + check.under_claimed:.2f}"
        x = found.get(key)
        if x is not None:
            row["mus_tainting"] = _tainting_number(x.tainting)
            row["mus_rank"] = str(x.rank) if x.rank is not None else ""
            row["mus_factor_step"] = (
                f"{x.factor_increment}" if x.factor_increment is not None else ""
            )
            row["mus_projected"] = f"{x.projected:.2f}"
            row["mus_allowance"] = f"{x.allowance:.2f}"
        rows.append(row)
    return rows


def csv_rows(m: MusAudit) -> list[dict[str, Any]]:
    """The evaluation as rows of status ``mus``: the figure, in pounds, and how it was found."""
    e = m.evaluation

    def row(name: str, figure: Decimal, why: str) -> dict[str, Any]:
        return {
            "status": "mus",
            "why": why,
            "rule": f"audit.mus.{name}",
            "mus_figure": f"{figure:.2f}",
        }

    return [
        row("plan", m.plan.tolerable, f"tolerable misstatement; {m.plan.method}"),
        row("selection", e.interval, f"sampling interval; {m.sample.method}"),
        row(
            "basic_precision",
            e.basic_precision,
            f"F(0) = {e.factors[0]} × interval {format_gbp(e.interval)}",
        ),
        row("projected_over_claim", e.projected_over_claim, "projected misstatement"),
        row("incremental_allowance", e.incremental_allowance, "incremental allowance"),
        row("upper_limit", e.upper_limit, e.statement),
        row("actual_over_claim", m.misstated, conclusion(m)),
    ]
