"""``pbr forecast``: allocation and drawdown for one council, many councils, or from records."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pbr._terminal import printable
from pbr.errors import ForecastError
from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.forecast._drawdown import Drawdown

__all__ = ["add_forecast_command", "load_scenarios", "run_forecast"]

FORMATS = ("table", "csv", "json", "xlsx")
TABLES = ("windows", "years", "summary", "allocation", "sensitivity")


def _table_choice(text: str) -> str:
    """`--table`'s value, with the table by year's Python names (``by year``, ``by_year``) as ``years``."""
    return "years" if text.replace("_", " ").replace("-", " ") == "by year" else text


_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json", ".xlsx": "xlsx", ".txt": "table"}
"""What ``--output``'s suffix says it holds (``--format`` must agree)."""
_CHART_SUFFIXES = frozenset(
    {".png", ".svg", ".svgz", ".pdf", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}
)
"""The names of a chart (``--plot``'s), never of ``--output``'s tables."""


_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")
"""A whole number with its thousands grouped by commas, as people write one: ``2,630``."""


def _whole(text: str) -> int:
    """An argparse type: estimated families, 0 to `MAX_FAMILIES` (``2630``, ``2,630``).

    Commas are taken only as they group thousands: ``,7,9,0,`` is no number.
    """
    from pbr.forecast._inputs import MAX_FAMILIES, count

    digits = text.replace(",", "") if _GROUPED.fullmatch(text) else text
    if digits[1:].isdigit() and digits.startswith("-"):
        raise argparse.ArgumentTypeError(f"estimated families must not be negative, got {text}")
    if not (digits.isascii() and digits.isdigit()) or (len(digits) > 1 and digits[0] == "0"):
        raise argparse.ArgumentTypeError(
            "estimated families must be a whole number written as digits with no leading zero, "
            "its thousands grouped by commas or not (such as 0, 790, 2630 or 2,630), got "
            f"{printable(repr(text))}"
        )
    try:
        return count(digits, "estimated families", most=MAX_FAMILIES)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_forecast_command(sub: Any, date_type: Any) -> None:
    """Register ``pbr forecast`` on the CLI's subparsers."""
    from pbr.cli._options import add_rule_options, file_name, utf8_text

    fc = sub.add_parser(
        "forecast",
        help="forecast drawdown: allocation, expected drawdown per claim window, scenarios",
    )
    source = fc.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--families",
        type=_whole,
        action="append",
        metavar="N",
        help="estimated troubled families of a council (repeat for several councils)",
    )
    source.add_argument(
        "--councils",
        type=file_name,
        metavar="FILE",
        help="a CSV of councils: council, estimated_families, programme, upfront_grant",
    )
    source.add_argument(
        "--records",
        type=file_name,
        metavar="FILE",
        help="families already attached: JSON, JSON Lines, a folder of CSV tables or an XLSX "
        "workbook",
    )
    fc.add_argument(
        "--estimated",
        type=_whole,
        metavar="N",
        help="with --records: the council's estimated families",
    )
    fc.add_argument("--as-of", type=date_type, help="with --records: evaluation date")
    fc.add_argument(
        "--council",
        type=utf8_text,
        metavar="NAME",
        help="with --records: the council whose allocation it is (records naming another "
        "council are warned of)",
    )
    fc.add_argument(
        "--programme", help="the programme's id (default: the oldest, Troubled Families phase one)"
    )
    fc.add_argument(
        "--upfront-grant",
        metavar="GBP",
        help="the council's up-front grant per financial year (e.g. Supporting Families)",
    )
    add_rule_options(
        fc,
        interpretation_help="switch an interpretation of the programme's rules, such as "
        "funded_rounding=floor (repeatable)",
        plan_help="with --records: the council's outcome plan (TOML, JSON or YAML) that phase "
        "two and Supporting Families families are judged against, as pbr evaluate --plan "
        "(without one, pbr's example plan, with a warning)",
        calendar_help="with --records: the council's school term dates (TOML, JSON or CSV) its "
        "families' education results are judged by, as pbr evaluate --term-calendar (terms it "
        "does not give keep the default dates)",
    )
    fc.add_argument(
        "--scenario", type=file_name, metavar="FILE", help="scenario file (TOML or JSON)"
    )
    fc.add_argument(
        "--runs", type=int, default=0, help="Monte Carlo runs (default none; not with --records)"
    )
    fc.add_argument("--seed", type=int, help="with --runs: the Monte Carlo seed (default 0)")
    fc.add_argument(
        "--sensitivity",
        action="store_true",
        help="add forecast and money at risk for success rates 0%%, 10%%, ..., 100%% "
        "(not with --records)",
    )
    fc.add_argument("--plot", type=file_name, metavar="PNG", help="write the chart to this file")
    fc.add_argument(
        "--title", type=utf8_text, help="the chart's title (default: council and programme)"
    )
    fc.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: from --output's suffix, else table); with --output it "
        "must agree with the suffix",
    )
    fc.add_argument(
        "--table",
        type=_table_choice,
        choices=TABLES,
        default="windows",
        help="with --format csv or json: which table (default windows; years is the table by "
        "year, also 'by year', by_year or by-year as Python names it)",
    )
    fc.add_argument(
        "--output",
        type=file_name,
        metavar="FILE",
        help="write the output to FILE, atomically (needed for xlsx): .csv, .json or .jsonl "
        "(JSON Lines), .xlsx or .txt (the table); no suffix: the table",
    )


def load_scenarios(path: str) -> list[Any]:
    """Scenarios from a TOML or JSON file: one scenario, or a list under ``scenarios``."""
    from pbr.forecast import load_scenarios as load

    return load(path)


def run_forecast(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``pbr forecast``; returns the exit status."""
    try:
        fmt = _format(args)
        misuse = _misuse(args, fmt)
        if misuse:
            print(f"pbr: {printable(misuse)}", file=sys.stderr)
            return 2
        from pbr.cli._options import key_files, rule_files
        from pbr.output import check_distinct

        check_distinct(
            {
                "--councils": args.councils,
                "--records": args.records,
                "--scenario": args.scenario,
                **key_files(),  # a ledger's key, written over, is gone
                **rule_files(args.plan, args.term_calendar),  # as is a council's plan or calendar
            },
            {"--output": args.output, "--plot": args.plot},
        )
        if args.output:  # refused before any work (a folder, a link), as the chart's path is
            from pbr.forecast._excel import safe_target

            safe_target(args.output)
        if args.plot:  # refused before any work, not after the tables are written
            from pbr.forecast._plot import chart_target

            chart_target(args.plot)
        scenarios = load_scenarios(args.scenario) if args.scenario else None
        rejected: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if args.records is not None:
                result, rejected = _from_records(args, scenarios)
            else:
                result = _by_assumption(args, scenarios)
        _warn(caught)
        sensitivities = _sensitivities(result) if args.sensitivity else []
        _emit(result, sensitivities, fmt, args, out)
        if args.plot:
            with warnings.catch_warnings(record=True) as caught:  # matplotlib's, as pbr's
                warnings.simplefilter("always")
                result.plot(args.plot, title=args.title)
            _warn(caught)
            from pbr.cli._options import written_to

            print(f"chart written to {written_to(args.plot)}", file=sys.stderr)
    except (ValueError, OSError, ImportError) as exc:
        from pbr.cli import problems_of

        for problem in problems_of(exc):  # a plan's or calendar's problems: a line each
            print(f"pbr: {printable(problem)}", file=sys.stderr)
        return 2
    if rejected:
        for line in rejected:
            print(f"pbr: {line}", file=sys.stderr)
        return 1
    return 0


def _format(args: argparse.Namespace) -> str:
    """What ``--output`` is written as: ``--format``, else the name's suffix (none: the table).

    ``--format`` and the name must agree, as ``pbr evaluate`` has them agree
    (`pbr.cli._options.check_named_format`); a chart's name is refused, pointing at ``--plot``,
    and without ``--format`` so is a suffix that names no format (the table is not written
    into ``out.dat`` unasked).
    """
    if not args.output:
        return str(args.format or "table")
    from pbr.output import OutputError

    output = str(args.output)
    suffix = Path(output).suffix.lower()
    takes = ", ".join(sorted(_SUFFIXES))
    if suffix in _CHART_SUFFIXES:
        raise OutputError(
            f"cannot write {printable(output)}: --output writes the tables ({takes}), and the "
            f"name says a chart: draw the chart with --plot {printable(output)}"
        )
    if args.format:
        from pbr.cli._options import check_named_format

        check_named_format(args.format, output, _SUFFIXES)
        return str(args.format)
    if suffix and suffix not in _SUFFIXES:
        raise OutputError(
            f"cannot write {printable(output)}: --output's suffix says what it writes ({takes}), "
            f"and {printable(repr(suffix))} is none of them: name it so, or give --format"
        )
    return _SUFFIXES.get(suffix, "table")


def _misuse(args: argparse.Namespace, fmt: str) -> str | None:
    """Why the options do not fit together (nothing given is silently ignored), or None."""
    if args.records is not None:
        if args.estimated is None or args.as_of is None:
            return "--records needs --estimated N and --as-of DATE"
        if args.runs:
            return "--runs applies to --families and --councils (a forecast from records has no Monte Carlo)"
        if args.sensitivity:
            return (
                "--sensitivity applies to --families and --councils: its table is by assumption "
                "(a share of the funded families succeeding) and would leave the records out"
            )
    elif args.estimated is not None or args.as_of is not None:
        return "--estimated and --as-of apply to --records; with --families give N only"
    elif args.council is not None:
        return "--council names the allocation of --records (--councils' file names its own)"
    elif args.plan:
        return "--plan applies to --records (a forecast by assumption judges no family's results)"
    elif args.term_calendar is not None:
        return (
            "--term-calendar applies only with --records (a forecast by assumption judges no "
            "family's school terms)"
        )
    if args.councils is not None and (args.upfront_grant is not None or args.programme is not None):
        return "with --councils give each council's programme and upfront_grant in the file"
    if args.seed is not None and not args.runs:
        return "--seed seeds the Monte Carlo: give --runs N too (without runs it does nothing)"
    if args.runs < 0 or (args.seed or 0) < 0:
        return f"--runs and --seed must be 0 or more (got {args.runs} and {args.seed})"
    from pbr.forecast._drawdown import MAX_RUNS

    if args.runs > MAX_RUNS:
        return f"--runs must be at most {MAX_RUNS:,} (got {args.runs:,})"
    if fmt == "xlsx" and not args.output:
        return "--format xlsx needs --output FILE.xlsx (a workbook is not written to the terminal)"
    if args.table == "sensitivity" and not args.sensitivity:
        return "--table sensitivity needs --sensitivity"
    if args.table != "windows" and fmt not in ("csv", "json"):
        return "--table chooses the table of --format csv or json"
    if args.title is not None and not args.plot:
        return "--title is the chart's title: give --plot PNG too"
    if args.plot and _standard_output(args.plot) and _standard_output(args.output or "-"):
        return (
            "--plot names standard output, where the table goes too: give --output FILE for the "
            "table, or --plot FILE"
        )
    return None


def _standard_output(path: str) -> bool:
    """Whether `path` writes to this process's standard output (``-``, ``/dev/stdout``, fd 1)."""
    from pbr.output import given_descriptor

    return given_descriptor(path) == 1


def _by_assumption(args: argparse.Namespace, scenarios: list[Any] | None) -> Any:
    from pbr import forecast

    if args.councils is not None:
        table = forecast.allocation_table(args.councils)
        if args.interpretation:
            every = _rule_sets(args.interpretation, [a.programme for a in table.allocations])
            table = forecast.AllocationTable(
                tuple(
                    forecast.allocation(
                        a.estimated_families,
                        rules=every[a.programme],
                        upfront_grant={str(y.year): y.upfront_grant for y in a.years},
                        council=a.council,
                    )
                    for a in table.allocations
                )
            )
    else:
        rules = _rules(args)
        table = forecast.AllocationTable(
            tuple(
                forecast.allocation(
                    n,
                    programme=args.programme,
                    rules=rules,
                    upfront_grant=args.upfront_grant,
                    council=label,
                )
                for n, label in zip(args.families, _family_labels(args.families), strict=True)
            )
        )
    return forecast.compare(table, scenarios, runs=args.runs, seed=args.seed)


def _family_labels(families: Sequence[int]) -> list[str | None]:
    """Each ``--families N``'s council: none for one; ``N estimated families`` for several.

    ``--families N`` may be repeated, one council each, the same N too: such councils are told
    apart by their place among the options (``790 estimated families (council 2)``).

    >>> _family_labels([790]), _family_labels([790, 2630, 790])
    ([None], ['790 estimated families (council 1)', '2,630 estimated families', '790 estimated families (council 3)'])
    """
    if len(families) == 1:
        return [None]
    repeated = {n for n in families if families.count(n) > 1}
    return [
        f"{n:,} estimated families" + (f" (council {place})" if n in repeated else "")
        for place, n in enumerate(families, start=1)
    ]


def _rules(args: argparse.Namespace) -> Any:
    """The programme's rule set with ``--interpretation``'s choices, or None (the bundled one)."""
    if not args.interpretation:
        return None
    from pbr.forecast._terms import default_programme, rules_for_programme

    programme = args.programme or default_programme()
    rules_for_programme(programme)  # an unknown programme: said as without interpretations
    return _rule_sets(args.interpretation, [programme])[programme]


def _rule_sets(choices: list[tuple[str, str]], programmes: Sequence[str]) -> dict[str, Any]:
    """Each programme's rules with ``--interpretation``'s choices (an error if it does nothing).

    A choice none of `programmes` has would change nothing, so it is refused, as is a name or
    value no rule set defines.
    """
    from pbr.cli._options import rules_by_programme

    every = rules_by_programme(choices)
    used = dict.fromkeys(programmes)
    for key, _value in choices:
        if not any(key in every[p].interpretations for p in used if p in every):
            raise ForecastError(
                f"--interpretation {key}: not an interpretation of {', '.join(used)}'s rules, "
                "so it would change nothing"
            )
    return every


def _from_records(args: argparse.Namespace, scenarios: list[Any] | None) -> tuple[Any, list[str]]:
    """Forecast from a records file: each rejection reported with its line, the rest forecast.

    A record the reader rejects, a family given twice, or a family the programme's rules do not
    cover is reported on stderr (file:line, family, field, why), as ``pbr evaluate`` does, and
    the forecast goes on; what became of them (`_rejected_notes`) is returned, to be said last
    (none: exit 0).
    """
    from pbr import forecast
    from pbr.cli._options import load_calendar, load_plans
    from pbr.forecast._drawdown import records_forecast
    from pbr.io import read_numbered

    alloc = forecast.allocation(
        args.estimated,
        programme=args.programme,
        rules=_rules(args),
        upfront_grant=args.upfront_grant,
        council=args.council,
    )
    plans = load_plans(args.plan)
    for programme, given in plans.items():
        if programme != alloc.programme:
            raise ForecastError(
                f"--plan {given.label} is for {programme}, but the forecast is for "
                f"{alloc.programme} (choose it with --programme)"
            )
    plan = plans.get(alloc.programme)
    term_calendar = load_calendar(args.term_calendar)
    path: str = args.records
    tables = None
    numbered: list[tuple[int | None, int, Any]]
    from pbr.cli._options import council_tables

    if council_tables(path):
        from pbr.tables import read_tables

        tables = read_tables(path)
        numbered = [(None, n, item) for n, item in enumerate(tables.families(), start=1)]
    else:
        numbered = [(line, record, item) for line, record, item in read_numbered(path)]
    if not numbered and (tables is None or not tables.unplaced()):  # as pbr evaluate says it
        raise ForecastError(f"no records in {path}")
    chosen = scenarios or [forecast.default_assumptions(alloc.programme)]
    drawdowns = tuple(
        records_forecast(
            numbered,
            args.records,
            as_of=args.as_of,
            alloc=alloc,
            assumptions=s,
            plan=plan,
            term_calendar=term_calendar,
        )
        for s in chosen
    )
    unplaced = list(tables.unplaced()) if tables is not None else []
    for rejection in [*drawdowns[0].rejected, *unplaced]:
        print(rejection.describe(), file=sys.stderr)
    return forecast.Comparison(drawdowns), _rejected_notes(drawdowns[0], len(unplaced))


def _rejected_notes(d: Drawdown, unplaced: int) -> list[str]:
    """What became of the rejected records' families, said once and as the table has it.

    A duplicate record's family is forecast from its first record. The family of any other
    rejected record has no record: it takes one of the funded places left (if any) and is
    forecast as not yet attached only if a quarter to attach in remains after the date (else
    it is among the table's funded families not forecast, `Drawdown.not_attached`). Rows of
    council tables that belong to no family (`unplaced`) are only rows not used.
    """
    duplicates = sum(1 for r in d.rejected if any(e.type == "duplicate_family" for e in r.errors))
    others = len(d.rejected) - duplicates
    notes = []
    if others:
        funded = d.allocation.whole_funded_families if d.allocation is not None else 0
        placed = d.families_evaluated - d.not_eligible  # a family not eligible takes no place
        free = max(funded - placed, 0)
        if not free:
            fate = (
                f"no funded place is left for their families ({placed:,} eligible family "
                f"records against {funded:,} funded families): not forecast"
            )
        elif d.not_attached:
            fate = (
                "their families count as funded families with no record: the "
                f"{d.not_attached:,} such families have no quarter left to attach in after "
                f"{d.as_of}: not forecast"
            )
        else:
            fate = (
                f"their families count as funded families with no record: the {free:,} such "
                f"families are forecast as not yet attached, in the quarters left after {d.as_of}"
            )
        notes.append(f"{others:,} record(s) rejected (above); {fate}")
    if duplicates:
        notes.append(
            f"{duplicates:,} duplicate record(s) rejected (above); each family is forecast from "
            "its first record"
        )
    if unplaced:
        notes.append(f"{unplaced:,} row(s) or table(s) not used (above)")
    return notes


def _sensitivities(result: Any) -> list[Any]:
    from pbr.forecast import sensitivity

    return [
        sensitivity(d.allocation, d.assumptions)
        for d in result.drawdowns
        if d.allocation is not None and d.assumptions is not None
    ]


def _emit(
    result: Any, sensitivities: Sequence[Any], fmt: str, args: argparse.Namespace, out: TextIO
) -> None:
    from pbr.cli._options import written_to

    tables = result.tables()
    empty = result._empty_rows()  # the columns of a table with no rows (no window left)
    extra = [row for s in sensitivities for row in s.to_records()]
    if fmt == "xlsx":
        from pbr.forecast._excel import write_workbook

        sheets = list(tables.items()) + ([("sensitivity", extra)] if extra else [])
        write_workbook(args.output, sheets, columns=empty)
        print(f"workbook written to {written_to(args.output)}", file=sys.stderr)
        return
    buffer = io.StringIO()
    if fmt in ("csv", "json"):
        name = args.table.replace("years", "by year")
        rows = extra if args.table == "sensitivity" else tables[name]
        if fmt == "csv":
            _csv(rows, buffer, empty.get(name, {}))
        else:
            _json(rows, buffer)  # JSON Lines: no rows, no lines
    else:
        _text(result, sensitivities, buffer)
    if args.output:
        from pbr.forecast._excel import safe_target
        from pbr.output import atomic_writer

        with atomic_writer(safe_target(args.output)) as handle:
            handle.write(buffer.getvalue())
        print(f"{fmt} written to {written_to(args.output)}", file=sys.stderr)
    else:
        out.write(buffer.getvalue())


def _warn(caught: list[warnings.WarningMessage]) -> None:
    """Each distinct warning on one line, as pbr's own messages (no source file and line)."""
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"pbr: warning: {printable(message)}", file=sys.stderr)


def _plain(value: Any, spreadsheet: bool = True) -> Any:
    """A cell for CSV or JSON: money and dates as text, shares as decimals, names as they are.

    For a spreadsheet (CSV) names are neutralised; JSON, which no spreadsheet runs, keeps them.
    """
    from pbr.output import neutralise

    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{float(value):.6f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value) if spreadsheet else value
    return value


def _csv(rows: Sequence[dict[str, Any]], out: TextIO, empty: Iterable[str] = ()) -> None:
    """The rows as CSV under their keys; no rows: the header `empty` gives, and no row."""
    names = list(dict.fromkeys(k for row in rows for k in row)) if rows else list(empty)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else _plain(v)) for k, v in row.items()} for row in rows)


def _json(rows: Sequence[dict[str, Any]], out: TextIO) -> None:
    for row in rows:
        out.write(json.dumps({k: _plain(v, spreadsheet=False) for k, v in row.items()}) + "\n")


def _text(result: Any, sensitivities: Sequence[Any], out: TextIO) -> None:
    if len(result.councils) > 1:
        _councils_text(result, out)
    else:
        for d in result.drawdowns:
            _drawdown_text(d, out)
    for s in sensitivities:
        title = f"{printable(s.allocation.label)}: " if len(result.councils) > 1 else ""
        out.write(
            f"{title}Sensitivity (families earning their whole results share; "
            f"'{printable(s.scenario)}' timing); maximum {format_gbp(s.maximum)}\n"
        )
        out.write(
            f"  {'success':>8} {'forecast':>16} {'beyond':>14} {'never payable':>14} "
            f"{'at risk':>16}\n"
        )
        for row in s.to_records():
            out.write(
                f"  {float(row['success_rate']):>8.0%} {format_gbp(row['forecast']):>16} "
                f"{format_gbp(row['beyond_horizon']):>14} "
                f"{format_gbp(row['never_payable']):>14} {format_gbp(row['at_risk']):>16}\n"
            )
        out.write("\n")


def _drawdown_text(d: Any, out: TextIO) -> None:
    name = f"{printable(d.council)}: " if d.council else ""
    out.write(
        f"{name}Scenario {printable(d.scenario)} ({printable(d.programme)}); "
        f"maximum {format_gbp(d.maximum)}\n"
    )
    if d.readings is not None:  # under another reading the figures are not the defaults'
        out.write(f"  {printable(d.readings)}\n")
    if d.as_of is not None:
        out.write(
            f"  as of {d.as_of}: secured (paid) {format_gbp(d.secured)}; claimable now "
            f"{format_gbp(d.claimable_now)}\n"
        )
        rejected = f"; {len(d.rejected):,} rejected (see stderr)" if d.rejected else ""
        ineligible = f", {d.not_eligible:,} not eligible" if d.not_eligible else ""
        out.write(f"  records: {d.families_evaluated:,} families evaluated{ineligible}{rejected}\n")
    risk = d.as_of is None
    head = f"  {'year':8} {'max by attach':>15}"
    head += f" {'max by claim':>15}" if risk else ""
    head += f" {'fees':>15} {'results':>15} {'total':>15} {'cumulative':>15}"
    head += f" {'at risk':>15}" if risk else ""
    out.write(head + "\n")
    rows = d.by_year()
    for row in rows:
        fees = row["attachment_fees"] + row.get("upfront_grant", ZERO)
        line = f"  {row['year']:8} {format_gbp(row['maximum_by_attachment']):>15}"
        line += f" {format_gbp(row['maximum_by_claim']):>15}" if risk else ""
        line += (
            f" {format_gbp(fees):>15} {format_gbp(row['total'] - fees):>15}"
            f" {format_gbp(row['total']):>15} {format_gbp(row['cumulative']):>15}"
        )
        line += f" {format_gbp(row['at_risk']):>15}" if risk else ""
        out.write(line + "\n")
    if any("upfront_grant" in row for row in rows):
        out.write("  (fees include the up-front grant)\n")
    out.write(
        f"  forecast {format_gbp(d.total)}; beyond the last claim window "
        f"{format_gbp(d.beyond_horizon)}; at risk {format_gbp(d.at_risk)}\n"
    )
    _claims_closed(out, d)
    _never_payable(out, d)
    if d.over_maximum:
        out.write(f"  over the maximum {format_gbp(d.over_maximum)}: {_over_parts(d)}\n")
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
            f"  band: {d.band_meaning}\n"
        )
    out.write("\n")


def _never_payable(out: TextIO, d: Drawdown) -> None:
    """Say what the rules can no longer pay (not at risk), each part with why, when any."""
    closed = d.never_payable_after_claims_closed
    room = d.never_payable - closed
    if room:
        out.write(
            f"  never payable {format_gbp(room)}: room under the families' caps that "
            "no result still to be met could fill (not at risk)\n"
        )
    if closed:
        out.write(
            f"  never payable {format_gbp(closed)}: could only be met or claimed after results "
            f"claims closed on {d.claims_closed_on} (not at risk)\n"
        )


def _over_parts(d: Drawdown) -> str:
    """What `Drawdown.over_maximum` is made of: money past families' caps, records past places."""
    funded = d.allocation.whole_funded_families if d.allocation is not None else 0
    parts = []
    if d.paid_over_cap:
        parts.append(
            f"{format_gbp(d.paid_over_cap)} paid beyond families' caps or to families not "
            "eligible (to be recovered; see the warning)"
        )
    if d.over_maximum > d.paid_over_cap:
        parts.append(
            f"{d.families_evaluated - d.not_eligible:,} eligible family records against "
            f"{funded:,} funded families"
        )
    return "; ".join(parts)


def _councils_text(result: Any, out: TextIO) -> None:
    rows = result.summary()
    labels = [printable(d.label) for d in result.drawdowns]
    width = max(len("council"), *(len(label) for label in labels))
    band = result.drawdowns[0].runs > 0
    low, high = result.drawdowns[0].band
    head = (
        f"{'council':{width}} {'scenario':12} {'maximum':>15} {'forecast':>15} "
        f"{'beyond':>13} {'never payable':>15} {'at risk':>15}"
    )
    head += f" {f'p{low}':>15} {f'p{high}':>15}" if band else ""
    out.write(head + "\n")
    total = dict.fromkeys(
        ("maximum", "forecast", "beyond_horizon", "never_payable", "at_risk"), ZERO
    )
    for d, label, row in zip(result.drawdowns, labels, rows, strict=True):
        line = (
            f"{label:{width}} {printable(d.scenario):12} {format_gbp(row['maximum']):>15} "
            f"{format_gbp(row['forecast']):>15} {format_gbp(row['beyond_horizon']):>13} "
            f"{format_gbp(row['never_payable']):>15} {format_gbp(row['at_risk']):>15}"
        )
        if band:
            line += f" {format_gbp(row[f'p{low}']):>15} {format_gbp(row[f'p{high}']):>15}"
        out.write(line + "\n")
    scenarios = list(dict.fromkeys(d.scenario for d in result.drawdowns))
    for scenario in scenarios:
        mine = [r for d, r in zip(result.drawdowns, rows, strict=True) if d.scenario == scenario]
        for key in total:
            total[key] = sum((r[key] for r in mine), ZERO)
        out.write(
            f"{'all councils':{width}} {printable(scenario):12} {format_gbp(total['maximum']):>15} "
            f"{format_gbp(total['forecast']):>15} {format_gbp(total['beyond_horizon']):>13} "
            f"{format_gbp(total['never_payable']):>15} {format_gbp(total['at_risk']):>15}\n"
        )
    if band:
        out.write(f"band: {result.drawdowns[0].band_meaning}\n")
    _councils_readings(result.drawdowns, out)


def _councils_readings(drawdowns: Sequence[Drawdown], out: TextIO) -> None:
    """The councils' non-default interpretations (and plans): one line if all share them.

    Under the defaults nothing is written, as ever.
    """
    readings = {d.label: d.readings for d in drawdowns}
    if len(set(readings.values())) == 1:
        shared = next(iter(readings.values()))
        if shared is not None:
            out.write(f"{printable(shared)}\n")
        return
    for label, reading in readings.items():
        if reading is not None:
            out.write(f"{printable(label)}: {printable(reading)}\n")


def _claims_closed(out: TextIO, d: Drawdown) -> None:
    """Say that the results beyond the last window were never paid, when it is the last day."""
    closed = d.claims_closed_on
    if closed is None or not d.beyond_never_paid:
        return
    from pbr.forecast._terms import rules_for_programme

    source = rules_for_programme(d.programme).source_of_rule("payment.claims_closed")
    late = d.payable_after_claims_closed
    if late:
        out.write(
            f"  of what lies beyond, results {format_gbp(late)} were payable as of {d.as_of} "
            f"but results claims closed on {closed} ({source}): never paid, not claimable now\n"
        )
    fees = d.fees_after_claims_closed
    if fees:
        out.write(
            f"  of what lies beyond, attachment fees {format_gbp(fees)} were unpaid as of "
            f"{d.as_of}, after results claims closed on {closed} ({source}): no source records "
            "a fee claim after it, so never paid, not claimable now\n"
        )
    if d.beyond_never_paid > late + fees:
        out.write(
            f"  of what lies beyond, results {format_gbp(d.beyond_never_paid - late - fees)} "
            f"would be met after results claims closed on {closed} ({source}): never paid\n"
        )
