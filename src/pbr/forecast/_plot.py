"""Charts: the drawdown, councils side by side, sensitivity; each with a title and its units.

Every chart says what it shows: a title (yours, or one naming the council and programme), axes
in £ million (or £ thousand below £1 million) and, under a Monte Carlo band, a note of what the
band spans (rates drawn from the scenario's ranges, or only which families succeed).
"""

from __future__ import annotations

import importlib
import io
import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr.forecast._extras import matplotlib_pyplot
from pbr.periods import financial_year_of

if TYPE_CHECKING:
    from pbr.forecast._councils import AllocationTable
    from pbr.forecast._drawdown import Drawdown
    from pbr.forecast._sensitivity import Sensitivity

__all__ = [
    "chart_target",
    "plot_allocations",
    "plot_councils",
    "plot_drawdowns",
    "plot_sensitivity",
]

_COLOURS = ("#1d4e89", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d6a9f")


def _scale(maximum: Decimal) -> tuple[Decimal, str]:
    if maximum >= 10**6:
        return Decimal(10**6), "£ million"
    return Decimal(1000), "£ thousand"


def _programme(programme: str) -> str:
    from pbr.forecast._terms import programme_name

    return programme_name(programme)


def chart_target(path: str | None) -> tuple[Path, str | None] | None:
    """Where to save a chart and in which format (None: not saved), checked before drawing.

    The path is refused as every forecast writer refuses it (`pbr.forecast._excel.safe_target`:
    a symbolic link, a folder, a block device or a missing folder is a `ForecastError`); its suffix
    chooses the format, as matplotlib chooses it (none: matplotlib's default, PNG), and a
    suffix matplotlib cannot write is refused too. ``pbr forecast --plot`` checks it first.
    """
    if path is None:
        return None
    matplotlib_pyplot()  # its backend chosen before anything of matplotlib is imported
    # by name, as `_extras` imports matplotlib: mypy, compiling the rules where matplotlib is not
    # installed (pip's build environment), must not look for it
    canvas: Any = importlib.import_module("matplotlib.backend_bases").FigureCanvasBase

    from pbr.errors import ForecastError
    from pbr.forecast._excel import safe_target

    target = safe_target(path)
    suffix = target.suffix[1:].lower() or None
    known = canvas.get_supported_filetypes()
    if suffix is not None and suffix not in known:
        raise ForecastError(
            f"cannot write {target}: a chart's suffix says its format, and matplotlib does not "
            f"write {suffix!r} (choose one of {', '.join(sorted(known))})"
        )
    return target, suffix


def _finish(fig: Any, plt: Any, target: tuple[Path, str | None] | None) -> Any:
    """Save `fig` to `target` (`chart_target`) whole, by a temporary file renamed into place."""
    try:
        if target is not None:
            from pbr.output import atomic_writer

            image = io.BytesIO()
            fig.savefig(image, format=target[1], dpi=110)
            with atomic_writer(target[0], "wb") as handle:
                handle.write(image.getvalue())
    finally:
        plt.close(fig)  # pyplot lets go of it: shown once as a cell's value, never twice
    return fig


def _shown(label: str, values: Sequence[float]) -> str:
    """`label` for the legend, or matplotlib's no-legend label for a series that is all zero.

    A legend entry for money that is not there ("claimable now" at £0) reads as if it were.
    """
    return label if any(values) else "_nolegend_"


def _limits(low: float, high: float, *, headroom: float = 0.0) -> tuple[float, float]:
    """Axis limits from `low` to `high` plus `headroom` (a share of the span), never equal.

    Equal limits (a council with no funded families: a maximum of £0) make matplotlib warn
    "Attempting to set identical low and high ylims"; they are widened to a span of 1.

    >>> _limits(0.0, 0.0), _limits(0.0, 10.0, headroom=0.1)
    ((0.0, 1.0), (0.0, 11.0))
    """
    if high <= low:
        return low, low + 1.0
    return low, high + (high - low) * headroom


def _band_notes(drawdowns: Sequence[Drawdown]) -> str:
    notes = list(dict.fromkeys(f"Band: {d.band_meaning}." for d in drawdowns if d.runs))
    return " ".join(notes)


def plot_drawdowns(
    drawdowns: Sequence[Drawdown], *, path: str | None = None, title: str | None = None
) -> Any:
    """Draw drawdowns side by side and return the matplotlib figure (saved to `path` if given).

    In a notebook the figure shows as the cell's value; elsewhere save it or pass `path`.

    Left: attachment fees and results stacked by financial year of claim, one bar per scenario,
    outlined up to the maximum by year of claim (the dashed part is at risk; a forecast from
    records adds what is claimable now, hatched, to the year of the next window); right: the cumulative drawdown of each scenario with its Monte Carlo band, against
    the maximum (a forecast from records starts at what is secured on its `as_of` date).
    """
    plt = matplotlib_pyplot()
    target = chart_target(path)  # refused before anything is drawn
    mdates: Any = importlib.import_module("matplotlib.dates")  # untyped in some versions

    maximum = max(d.maximum for d in drawdowns)
    scale, unit = _scale(maximum)

    def value(amount: Decimal | None) -> float:
        return float((amount or Decimal(0)) / scale)

    fig, (bars, lines) = plt.subplots(1, 2, figsize=(13, 5.6), constrained_layout=True)
    years = sorted(
        {str(w.year) for d in drawdowns for w in d.windows}
        | {_claimable_year(d) for d in drawdowns if d.as_of is not None}
    )
    width = 0.8 / len(drawdowns)
    for n, d in enumerate(drawdowns):
        colour = _COLOURS[n % len(_COLOURS)]
        offset = (n - (len(drawdowns) - 1) / 2) * width
        rows = [r for r in d.by_year() if r["year"] in years]
        fees = [value(r["attachment_fees"] + r.get("upfront_grant", 0)) for r in rows]
        results = [
            value(r["total"] - r["attachment_fees"] - r.get("upfront_grant", 0)) for r in rows
        ]
        xs = [years.index(r["year"]) + offset for r in rows]
        fee_label = "attachment fees" + (
            " and grant" if any("upfront_grant" in r for r in rows) else ""
        )
        bars.bar(
            xs,
            fees,
            width,
            color=colour,
            alpha=0.45,
            label=_shown(f"{d.scenario}: {fee_label}", fees),
        )
        bars.bar(
            xs,
            results,
            width,
            bottom=fees,
            color=colour,
            label=_shown(f"{d.scenario}: results", results),
        )
        if d.as_of is None:  # up to the maximum by year of claim: what is at risk, outlined
            risks = [value(r["at_risk"]) for r in rows]
            bars.bar(
                xs,
                risks,
                width,
                bottom=[value(r["total"]) for r in rows],
                fill=False,
                edgecolor=colour,
                linestyle="--",
                linewidth=0.8,
                label=_shown(f"{d.scenario}: at risk", risks),
            )
        start = Decimal(0)
        days = [w.claim_date for w in d.windows]
        if d.as_of is not None:
            year = _claimable_year(d)
            below = sum((value(r["total"]) for r in rows if r["year"] == year), 0.0)
            if d.claimable_now:  # a bar of height 0 would pin the axis's top to its base
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
                label=f"{d.scenario}: p{d.band[0]}–p{d.band[1]} band",
            )
    lines.axhline(
        value(maximum),
        color="#444444",
        linestyle="--",
        linewidth=1,
        label=f"maximum funding (£{maximum:,.0f})",
    )
    tallest = max((p.get_y() + p.get_height() for p in bars.patches), default=0.0)
    bars.set_ylim(*_limits(0.0, tallest, headroom=0.08))  # the tallest bar is not clipped
    bars.set_xticks(range(len(years)), years)
    bars.set_xlabel("financial year of claim")
    bars.set_ylabel(unit)
    bars.set_title(
        "Drawdown by financial year of claim"
        + (
            "\n(dashed: at risk, up to the maximum by year of claim)"
            if any(d.as_of is None for d in drawdowns)
            else ""
        )
    )
    if bars.get_legend_handles_labels()[0]:  # nothing to list when nothing is drawn
        bars.legend(
            fontsize=8,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(0, -0.12),
            ncol=min(len(drawdowns), 3),
        )
    locator = mdates.AutoDateLocator()
    lines.xaxis.set_major_locator(locator)
    lines.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    lines.set_ylim(bottom=0)
    lines.set_xlabel("claim window")
    lines.set_ylabel(f"{unit}, cumulative")
    lines.set_title("Cumulative drawdown by claim window")
    lines.legend(fontsize=8, frameon=False, loc="lower right")
    for ax in (bars, lines):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
    first = drawdowns[0]
    fig.suptitle(
        title or f"{first.label}: drawdown forecast, {_programme(first.programme)}", fontsize=13
    )
    notes = _band_notes(drawdowns)
    if notes:
        fig.text(0.01, 0.005, notes, fontsize=8, color="#444444", ha="left", va="bottom")
        fig.get_layout_engine().set(rect=(0, 0.03, 1, 0.97))
    return _finish(fig, plt, target)


def plot_councils(
    drawdowns: Sequence[Drawdown], *, path: str | None = None, title: str | None = None
) -> Any:
    """Small multiples: one panel per council, each scenario's cumulative drawdown and band.

    Each panel has its own scale (councils differ in size), in £ million, against the council's
    maximum (dashed).
    """
    plt = matplotlib_pyplot()
    target = chart_target(path)  # refused before anything is drawn
    mdates: Any = importlib.import_module("matplotlib.dates")
    councils = list(dict.fromkeys(d.label for d in drawdowns))
    scenarios = list(dict.fromkeys(d.scenario for d in drawdowns))
    columns = min(5, len(councils))
    rows = math.ceil(len(councils) / columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.1 * columns + 0.6, 2.7 * rows + 1.1),
        sharex=True,
        squeeze=False,
        constrained_layout=True,
    )
    for n, council in enumerate(councils):
        ax = axes[n // columns][n % columns]
        mine = [d for d in drawdowns if d.label == council]
        maximum = max(d.maximum for d in mine)
        for d in mine:
            colour = _COLOURS[scenarios.index(d.scenario) % len(_COLOURS)]
            start = d.secured + d.claimable_now
            days = [w.claim_date for w in d.windows]
            ax.step(
                days,
                [float((start + w.cumulative) / 10**6) for w in d.windows],
                where="post",
                color=colour,
                linewidth=1.4,
                label=d.scenario,
            )
            if d.runs:
                ax.fill_between(
                    days,
                    [float((w.low or 0) / 10**6) for w in d.windows],
                    [float((w.high or 0) / 10**6) for w in d.windows],
                    step="post",
                    color=colour,
                    alpha=0.18,
                )
        ax.axhline(float(maximum / 10**6), color="#444444", linestyle="--", linewidth=0.9)
        ax.set_title(f"{council}\nmaximum £{maximum / 10**6:,.2f}m", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        if n % columns == 0:
            ax.set_ylabel("£ million, cumulative", fontsize=8)
        locator = mdates.YearLocator(2)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    for n in range(len(councils), rows * columns):
        axes[n // columns][n % columns].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper right", fontsize=8, frameon=False)
    programmes = ", ".join(dict.fromkeys(_programme(d.programme) for d in drawdowns))
    fig.suptitle(
        title or f"Cumulative drawdown by council ({programmes}); dashed: maximum", fontsize=12
    )
    notes = _band_notes(drawdowns)
    if notes:
        fig.supxlabel(notes, fontsize=8, color="#444444")
    return _finish(fig, plt, target)


def plot_allocations(
    table: AllocationTable, *, path: str | None = None, title: str | None = None
) -> Any:
    """Each council's maximum funding, stacked by financial year of attachment (horizontal)."""
    plt = matplotlib_pyplot()
    target = chart_target(path)  # refused before anything is drawn
    allocations = sorted(table.allocations, key=lambda a: a.maximum)
    scale, unit = _scale(max(a.maximum for a in allocations))
    years = list(dict.fromkeys(str(y.year) for a in allocations for y in a.years))
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(allocations) + 1.8), constrained_layout=True)
    names = [a.label for a in allocations]
    left = [0.0] * len(allocations)
    for n, year in enumerate(years):
        widths = [
            float(sum((y.maximum for y in a.years if str(y.year) == year), Decimal(0)) / scale)
            for a in allocations
        ]
        ax.barh(names, widths, left=left, color=_COLOURS[n % len(_COLOURS)], label=year)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for i, a in enumerate(allocations):
        ax.text(left[i], i, f" £{a.maximum:,.0f}", va="center", fontsize=8)
    ax.set_xlabel(unit)
    ax.set_xlim(right=max(left) * 1.18)
    ax.legend(title="year of attachment", fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or "Maximum funding by council and financial year of attachment")
    return _finish(fig, plt, target)


def plot_sensitivity(
    result: Sensitivity, *, path: str | None = None, title: str | None = None
) -> Any:
    """Forecast (fees and results), beyond the horizon and at risk against the success rate."""
    plt = matplotlib_pyplot()
    target = chart_target(path)  # refused before anything is drawn
    scale, unit = _scale(result.maximum)
    xs = [float(r) * 100 for r in result.rates]

    def series(values: Sequence[Decimal]) -> list[float]:
        return [float(v / scale) for v in values]

    fixed = series([result.attachment_fees + result.upfront_grant] * len(xs))
    layers = [
        ("attachment fees" + (" and grant" if result.upfront_grant else ""), fixed, "#9bb7d4"),
        ("results", series(result.results), _COLOURS[0]),
        ("beyond the last claim window", series(result.beyond_horizon), "#bbbbbb"),
        *(
            [("never payable (after claims closed)", series(result.never_payable), "#dddddd")]
            if any(result.never_payable)
            else []
        ),
        ("at risk (not earned)", series(result.at_risk), _COLOURS[1]),
    ]
    fig, ax = plt.subplots(figsize=(9, 6), constrained_layout=True)
    ax.stackplot(
        xs,
        *[values for _, values, _ in layers],
        labels=[name for name, _, _ in layers],
        colors=[colour for _, _, colour in layers],
        alpha=0.85,
    )
    ax.axhline(
        float(result.maximum / scale),
        color="#444444",
        linestyle="--",
        linewidth=1,
        label=f"maximum funding (£{result.maximum:,.0f})",
    )
    rate = float(result.scenario_rate) * 100
    ax.axvline(rate, color="#222222", linestyle=":", linewidth=1)
    ax.annotate(
        f"scenario '{result.scenario}'\n≈ {rate:.0f}% of the results",
        (rate, float(result.maximum / scale) * 0.5),
        xytext=(6, 0),
        textcoords="offset points",
        fontsize=8,
    )
    ax.set_xlim(*_limits(min(xs), max(xs)))
    ax.set_ylim(*_limits(0.0, float(result.maximum / scale), headroom=0.05))
    ax.set_xlabel("families that earn their whole results share (%)")
    ax.set_ylabel(unit)
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(
        title
        or f"{result.allocation.label}: drawdown and money at risk by success rate\n"
        f"{_programme(result.allocation.programme)}; results paid on the "
        f"'{result.scenario}' scenario's timing",
        fontsize=11,
    )
    return _finish(fig, plt, target)


def _claimable_year(d: Drawdown) -> str:
    """The financial year in which what is claimable now is claimed: that of the next window."""
    if d.windows:
        return str(d.windows[0].year)
    return str(financial_year_of(d.as_of or date.min))
