"""pbr: exact, explained payment-by-results claims for the Troubled Families programme.

Import what you need from here; modules load on first use so ``import pbr`` stays fast. Each
public submodule is an attribute too (``pbr.io``, ``pbr.schemas``), imported when first read.
`pbr.testing` (hypothesis strategies, the ``testing`` extra) is imported by name only, so
``from pbr import *`` works on a core install.

>>> import pbr
>>> pbr.rules.PHASE_ONE.rules_version
'tf-phase-1/1.0'
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if os.environ.get("PBR_PURE_PYTHON") == "1":  # the rules' Python source, not their compiled form
    from pbr._native import prefer_source

    prefer_source()
elif os.path.basename(os.path.dirname(os.path.dirname(__file__))) == "src":  # pip install -e
    from pbr._native import prefer_source_if_stale  # never the old code of an edited rule

    prefer_source_if_stale()

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    # not the modules of the extras (cli, dask, serve, testing): mypyc's type check at install,
    # in a build environment without them, follows these imports, and failing it leaves the
    # rules uncompiled (tests/test_public_api.py)
    from pbr import (  # type: ignore[attr-defined, unused-ignore]  # noqa: F401 (submodules)
        audit,
        batch,
        calendars,
        decisions,
        engine,
        errors,
        explain,
        forecast,
        history,
        io,
        ledger,
        money,
        output,
        periods,
        plans,
        programmes,
        reasons,
        records,
        replay,
        rules,
        schemas,
        tables,
        totals,
    )
    from pbr.batch import evaluate_many
    from pbr.calendars import load_term_calendar
    from pbr.decisions import Decision, Identification, Reason, ResultDecision
    from pbr.engine import evaluate, identify, rule_set_for
    from pbr.errors import (
        CalendarError,
        ForecastError,
        MissingExtra,
        OutsideProgramme,
        PbrError,
        PlanError,
        RulesDataError,
        UnknownInterpretation,
    )
    from pbr.io import Rejection, UnreadableFile, read_records
    from pbr.money import Money
    from pbr.output import to_pandas
    from pbr.periods import FinancialYear, TermCalendar
    from pbr.plans import OutcomePlan, load_plan
    from pbr.reasons import REASON_CODES
    from pbr.records import Family
    from pbr.rules import RuleSet
    from pbr.totals import CouncilTotals, Totals

__all__ = [
    "REASON_CODES",
    "CalendarError",
    "CouncilTotals",
    "Decision",
    "Family",
    "FinancialYear",
    "ForecastError",
    "Identification",
    "MissingExtra",
    "Money",
    "OutcomePlan",
    "OutsideProgramme",
    "PbrError",
    "PlanError",
    "Reason",
    "Rejection",
    "ResultDecision",
    "RuleSet",
    "RulesDataError",
    "TermCalendar",
    "Totals",
    "UnknownInterpretation",
    "UnreadableFile",
    "__version__",
    "audit",
    "evaluate",
    "evaluate_many",
    "forecast",
    "history",
    "identify",
    "ledger",
    "load_plan",
    "load_term_calendar",
    "plans",
    "read_records",
    "replay",
    "rule_set_for",
    "rules",
    "to_pandas",
]

_WHERE = {
    "REASON_CODES": "pbr.reasons",
    "CalendarError": "pbr.errors",
    "CouncilTotals": "pbr.totals",
    "Decision": "pbr.decisions",
    "Family": "pbr.records",
    "FinancialYear": "pbr.periods",
    "ForecastError": "pbr.errors",
    "Identification": "pbr.decisions",
    "MissingExtra": "pbr.errors",
    "Money": "pbr.money",
    "OutcomePlan": "pbr.plans",
    "OutsideProgramme": "pbr.errors",
    "PbrError": "pbr.errors",
    "PlanError": "pbr.errors",
    "Reason": "pbr.decisions",
    "Rejection": "pbr.io",
    "ResultDecision": "pbr.decisions",
    "RuleSet": "pbr.rules",
    "RulesDataError": "pbr.errors",
    "TermCalendar": "pbr.periods",
    "Totals": "pbr.totals",
    "UnknownInterpretation": "pbr.errors",
    "UnreadableFile": "pbr.io",
    "evaluate": "pbr.engine",
    "evaluate_many": "pbr.batch",
    "identify": "pbr.engine",
    "load_plan": "pbr.plans",
    "load_term_calendar": "pbr.calendars",
    "read_records": "pbr.io",
    "rule_set_for": "pbr.engine",
    "to_pandas": "pbr.output",
}
_MODULES = frozenset(
    {
        "audit",
        "batch",
        "calendars",
        "cli",
        "dask",
        "decisions",
        "engine",
        "errors",
        "explain",
        "forecast",
        "history",
        "io",
        "ledger",
        "money",
        "output",
        "periods",
        "plans",
        "programmes",
        "reasons",
        "records",
        "replay",
        "rules",
        "schemas",
        "serve",
        "tables",
        "testing",
        "totals",
    }
)
"""Every public submodule, so ``pbr.io.parse_family`` works after ``import pbr`` alone: each is
imported when first read (`pbr.serve`, `pbr.dask` and `pbr.testing` need their extras then)."""


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"pbr.{name}")
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'pbr' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*__all__, *sorted(_MODULES.difference(__all__))]
