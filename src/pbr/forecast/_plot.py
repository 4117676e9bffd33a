"""The drawdown chart: fees and results by financial year, and the cumulative drawdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pbr.forecast._extras import matplotlib_pyplot

if TYPE_CHECKING:
    from pbr.forecast._drawdown import Drawdown

__all__ = ["plot_drawdowns"]

_COLOURS = ("#1d4e89", "#d1495b", "#00798c", "#edae49", "#66a182")


def plot_drawdowns(
    drawdowns: Sequence[Drawdown], *, path: str | None = None, title: str | None = None
) -> Any:
    """Draw drawdowns side by side and return the matplotlib figure (saved to `path` if given).

    Left: attachment fees and results stacked by financial year, one bar per scenario; right:
    the cumulative drawdown of each scenario with its Monte Carlo band, and the maximum.
    """
    plt = matplotlib_pyplot()
    fig, (bars, lines) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    years = sorted({row["year"] for d in drawdowns for row in d.by_year()})
    width = 0.8 / len(drawdowns)
    for n, d in enumerate(drawdowns):
        rows = d.by_year()
        fees = [float(r["attachment_fees"]) / 1e6 for r in rows]
        results = [float(r["total"] - r["attachment_fees"]) / 1e6 for r in rows]
        xs = [years.index(r["year"]) + (n - (len(drawdowns) - 1) / 2) * width for r in rows]
        colour = _COLOURS[n % len(_COLOURS)]
        bars.bar(xs, fees, width, color=colour, alpha=0.45, label=f"{d.scenario}: attachment fees")
        bars.bar(xs, results, width, bottom=fees, color=colour, label=f"{d.scenario}: results")
        days = [w.claim_date for w in d.windows]
        lines.step(
            days,
            [float(w.cumulative) / 1e6 for w in d.windows],
            where="post",
            color=colour,
            label=f"{d.scenario} (expected)",
        )
        if d.runs:
            lines.fill_between(
                days,
                [float(w.low or 0) / 1e6 for w in d.windows],
                [float(w.high or 0) / 1e6 for w in d.windows],
                step="post",
                color=colour,
                alpha=0.18,
                label=f"{d.scenario}: p{d.band[0]}–p{d.band[1]} of {d.runs:,} runs",
            )
    maximum = float(drawdowns[0].maximum) / 1e6
    lines.axhline(
        maximum,
        color="#444444",
        linestyle="--",
        linewidth=1,
        label=f"maximum funding (£{maximum:,.2f} million)",
    )
    bars.set_xticks(range(len(years)), years)
    bars.set_ylabel("£ million")
    bars.set_title("Drawdown by financial year of claim")
    bars.legend(fontsize=8, frameon=False)
    lines.set_ylim(bottom=0)
    lines.set_ylabel("£ million, cumulative")
    lines.set_title("Cumulative drawdown by claim window")
    lines.legend(fontsize=8, frameon=False, loc="lower right")
    for ax in (bars, lines):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=13)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
