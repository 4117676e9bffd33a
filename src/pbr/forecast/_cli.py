"""``pbr forecast``: allocation and drawdown from a number of families or from records."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tomllib
from pathlib import Path
from typing import Any, TextIO

from pbr.money import ZERO, format_gbp

__all__ = ["add_forecast_command", "run_forecast"]


def add_forecast_command(sub: Any, date_type: Any) -> None:
    """Register ``pbr forecast`` on the CLI's subparsers."""
    fc = sub.add_parser(
        "forecast",
        help="forecast drawdown: allocation, expected drawdown per claim window, scenarios",
    )
    source = fc.add_mutually_exclusive_group(required=True)
    source.add_argument("--families", type=int, metavar="N", help="estimated troubled families")
    source.add_argument("--records", metavar="FILE", help="families already attached (JSON/JSONL)")
    fc.add_argument(
        "--estimated",
        type=int,
        metavar="N",
        help="with --records: the council's estimated families",
    )
    fc.add_argument("--as-of", type=date_type, help="with --records: evaluation date")
    fc.add_argument("--programme", default="tf-phase-1", help="programme (default tf-phase-1)")
    fc.add_argument("--scenario", metavar="FILE", help="scenario file (TOML or JSON)")
    fc.add_argument(
        "--runs", type=int, default=0, help="with --families: Monte Carlo runs (default none)"
    )
    fc.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default 0)")
    fc.add_argument("--plot", metavar="PNG", help="write the chart to this file")
    fc.add_argument("--format", choices=("table", "csv", "json"), default="table")


def load_scenarios(path: str) -> list[Any]:
    """Scenarios from a TOML or JSON file: one scenario, or a list under ``scenarios``."""
    from pbr.forecast import Assumptions

    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    items = data.get("scenarios", [data]) if isinstance(data, dict) else data
    return [Assumptions.from_mapping(item) for item in items]


def run_forecast(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr forecast``; returns the exit status."""
    from pbr import forecast

    try:
        scenarios = load_scenarios(args.scenario) if args.scenario else None
        misuse = _misuse(args)
        if misuse:
            print(f"pbr: {misuse}", file=sys.stderr)
            return 2
        rejected = 0
        if args.records is not None:
            result, rejected = _from_records(args, scenarios)
        else:
            alloc = forecast.allocation(args.families, programme=args.programme)
            result = forecast.compare(
                alloc,
                scenarios or [forecast.default_assumptions(alloc.programme)],
                runs=args.runs,
                seed=args.seed,
            )
    except (ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"pbr: {exc}", file=sys.stderr)
        return 2
    _write(result, args.format, out)
    if args.plot:
        result.plot(args.plot)
        print(f"chart written to {args.plot}", file=sys.stderr)
    if rejected:
        print(
            f"pbr: {rejected} record(s) rejected (above); their families are forecast as not yet "
            "attached",
            file=sys.stderr,
        )
        return 1
    return 0


def _misuse(args: argparse.Namespace) -> str | None:
    """Why the options do not fit together (nothing given is silently ignored), or None."""
    if args.records is not None:
        if args.estimated is None or args.as_of is None:
            return "--records needs --estimated N and --as-of DATE"
        if args.runs:
            return "--runs applies to --families (a forecast from records has no Monte Carlo)"
    elif args.estimated is not None or args.as_of is not None:
        return "--estimated and --as-of apply to --records; with --families give N only"
    if args.runs < 0 or args.seed < 0:
        return f"--runs and --seed must be 0 or more (got {args.runs} and {args.seed})"
    return None


def _from_records(args: argparse.Namespace, scenarios: list[Any] | None) -> tuple[Any, int]:
    from pbr import forecast
    from pbr.io import read_records
    from pbr.records import Family

    alloc = forecast.allocation(args.estimated, programme=args.programme)
    families, rejected = [], 0
    for item in read_records(args.records):
        if isinstance(item, Family):
            families.append(item)
        else:
            rejected += 1
            print(item.describe(), file=sys.stderr)
    chosen = scenarios or [forecast.default_assumptions(alloc.programme)]
    comparison = forecast.Comparison(
        tuple(
            forecast.from_records(families, as_of=args.as_of, alloc=alloc, assumptions=s)
            for s in chosen
        )
    )
    return comparison, rejected


def _write(result: Any, fmt: str, out: TextIO) -> None:
    rows = result.to_records()
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(row, default=str) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: str(v) for k, v in row.items()} for row in rows)
        return
    for d in result.drawdowns:
        out.write(f"Scenario {d.scenario} ({d.programme}); maximum {format_gbp(d.maximum)}\n")
        if d.as_of is not None:
            out.write(
                f"  as of {d.as_of}: secured (paid) {format_gbp(d.secured)}; claimable now "
                f"{format_gbp(d.claimable_now)}\n"
            )
        out.write(f"  {'year':8} {'fees':>15} {'results':>15} {'total':>15} {'cumulative':>15}\n")
        for row in d.by_year():
            results = row["total"] - row["attachment_fees"]
            out.write(
                f"  {row['year']:8} {format_gbp(row['attachment_fees']):>15} "
                f"{format_gbp(results):>15} {format_gbp(row['total']):>15} "
                f"{format_gbp(row['cumulative']):>15}\n"
            )
        out.write(
            f"  forecast {format_gbp(d.total)}; beyond the last claim window "
            f"{format_gbp(d.beyond_horizon)}\n"
        )
        if d.not_attached:
            out.write(
                f"  {d.not_attached:,} funded families have no record and no quarter left to "
                "attach in: not forecast\n"
            )
        if d.runs:
            last = d.windows[-1]
            out.write(
                f"  Monte Carlo ({d.runs:,} runs, seed {d.seed}): cumulative p{d.band[0]} "
                f"{format_gbp(last.low or ZERO)}, median {format_gbp(last.median or ZERO)}, "
                f"p{d.band[1]} {format_gbp(last.high or ZERO)}\n"
            )
        out.write("\n")
