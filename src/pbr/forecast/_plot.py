"""The drawdown chart: fees and results by financial year, and the cumulative drawdown."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pbr.forecast._extras import matplotlib_pyplot
from pbr.periods import financial_year_of

if TYPE_CHECKING:
    from pbr.forecast._drawdown import Drawdown

__all__ = ["plot_drawdowns"]

_COLOURS = ("#1d4e89", "#d1495b", "#00798c", "#edae49", "#66a182")


def plot_drawdowns(
    drawdowns: Sequence[Drawdown], *, path: str | None = None, title: str | None = None
) -> Any:
    """Draw drawdowns side by side and return the matplotlib figure (saved to `path` if given).

    In a notebook the figure shows as the cell's value; elsewhere save it or pass `path`.

    Left: attachment fees and results stacked by financial year of claim, one bar per scenario
    (a forecast from records adds what is claimable now, hatched, to the year of the next
    window); right: the cumulative drawdown of each scenario with its Monte Carlo band, against
    the maximum (a forecast from records starts at what is secured on its `as_of` date).
    Amounts are shown in £ million, or £ thousand below a maximum of £1 million.
    """
    plt = matplotlib_pyplot()
    mdates: Any = importlib.import_module("matplotlib.dates")  # untyped in some versions

    maximum = max(d.maximum for d in drawdowns)
    scale, unit = (Decimal(10**6), "£ million") if maximum >= 10**6 else (Decimal(1000), "£000")

    def value(amount: Decimal | None) -> float:
        return float((amount or Decimal(0)) / scale)

    fig, (bars, lines) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    years = sorted(
        {row["year"] for d in drawdowns for row in d.by_year()}
        | {_claimable_year(d) for d in drawdowns if d.as_of is not None}
    )
    width = 0.8 / len(drawdowns)
    for n, d in enumerate(drawdowns):
        colour = _COLOURS[n % len(_COLOURS)]
        offset = (n - (len(drawdowns) - 1) / 2) * width
        rows = d.by_year()
        fees = [value(r["attachment_fees"]) for r in rows]
        results = [value(r["total"] - r["attachment_fees"]) for r in rows]
        xs = [years.index(r["year"]) + offset for r in rows]
        bars.bar(xs, fees, width, color=colour, alpha=0.45, label=f"{d.scenario}: attachment fees")
        bars.bar(xs, results, width, bottom=fees, color=colour, label=f"{d.scenario}: results")
        start = Decimal(0)
        days = [w.claim_date for w in d.windows]
        if d.as_of is not None:
            year = _claimable_year(d)
            below = sum((value(r["total"]) for r in rows if r["year"] == year), 0.0)
            bars.bar(
                years.index(year) + offset,
                value(d.claimable_now),
                width,
                bottom=below,
                color="white",
                edgecolor=colour,
                hatch="///",
                label=f"{d.scenario}: claimable now",
            )
            start = d.secured + d.claimable_now
            lines.plot(
                [d.as_of],
                [value(d.secured)],
                "o",
                color=colour,
                label=f"{d.scenario}: secured at {d.as_of}",
            )
            days = [d.as_of, *days]
        totals = [start + w.cumulative for w in d.windows]
        if d.as_of is not None:
            totals = [d.secured, *totals]
        label = "expected" if d.as_of is None else "secured + claimable now + forecast"
        lines.step(
            days,
            [value(t) for t in totals],
            where="post",
            color=colour,
            label=f"{d.scenario} ({label})",
        )
        if d.runs:
            lines.fill_between(
                days,
                [value(w.low) for w in d.windows],
                [value(w.high) for w in d.windows],
                step="post",
                color=colour,
                alpha=0.18,
                label=f"{d.scenario}: p{d.band[0]}–p{d.band[1]} of {d.runs:,} runs",
            )
    lines.axhline(
        value(maximum),
        color="#444444",
        linestyle="--",
        linewidth=1,
        label=f"maximum funding (£{maximum:,.0f})",
    )
    bars.set_xticks(range(len(years)), years)
    bars.set_ylabel(unit)
    bars.set_title("Drawdown by financial year of claim")
    bars.legend(fontsize=8, frameon=False)
    locator = mdates.AutoDateLocator()
    lines.xaxis.set_major_locator(locator)
    lines.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    lines.set_ylim(bottom=0)
    lines.set_ylabel(f"{unit}, cumulative")
    lines.set_title("Cumulative drawdown by claim window")
    lines.legend(fontsize=8, frameon=False, loc="lower right")
    for ax in (bars, lines):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=13)
    if path is not None:
        fig.savefig(path, dpi=110)
    plt.close(fig)  # pyplot lets go of it: shown once as a cell's value, never twice
    return fig


def _claimable_year(d: Drawdown) -> str:
    """The financial year in which what is claimable now is claimed: that of the next window."""
    if d.windows:
        return str(d.windows[0].year)
    return str(financial_year_of(d.as_of or date.min))
