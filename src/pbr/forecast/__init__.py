"""Drawdown forecasting for analysts: allocation, expected drawdown, Monte Carlo, scenarios.

The arithmetic is exact (fractions, rounded to the penny once per table so that every table adds
up); tables and charts need the forecast extra (``pip install "pbr-claims[forecast]"``: numpy, pandas,
matplotlib, openpyxl), imported only when used. DataFrames hold money in whole pence
(``*_pence`` columns, exact in pandas); `pounds` gives the pounds view for charts and sheets.

>>> from pbr.forecast import allocation, drawdown
>>> council = allocation(790)
>>> council.whole_funded_families, str(council.maximum)
(658, '2632000.00')
>>> d = drawdown(council)
>>> d.total + d.beyond_horizon + d.never_payable + d.at_risk == council.maximum
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbr._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and the API pages; at run time, on first use
    from pbr.forecast._allocation import Allocation, AllocationYear, allocation
    from pbr.forecast._assumptions import (
        Assumptions,
        default_assumptions,
        default_scenarios,
        load_scenarios,
    )
    from pbr.forecast._councils import AllocationTable, allocation_table
    from pbr.forecast._drawdown import (
        ClaimCalendar,
        Comparison,
        Drawdown,
        Window,
        compare,
        drawdown,
        from_records,
        result_rates,
    )
    from pbr.forecast._frames import pounds
    from pbr.forecast._sensitivity import Sensitivity, sensitivity

__all__ = [
    "Allocation",
    "AllocationTable",
    "AllocationYear",
    "Assumptions",
    "ClaimCalendar",
    "Comparison",
    "Drawdown",
    "Sensitivity",
    "Window",
    "allocation",
    "allocation_table",
    "compare",
    "default_assumptions",
    "default_scenarios",
    "drawdown",
    "from_records",
    "load_scenarios",
    "pounds",
    "result_rates",
    "sensitivity",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "pbr.forecast._allocation": (
            "Allocation",
            "AllocationYear",
            "allocation",
        ),
        "pbr.forecast._assumptions": (
            "Assumptions",
            "default_assumptions",
            "default_scenarios",
            "load_scenarios",
        ),
        "pbr.forecast._councils": (
            "AllocationTable",
            "allocation_table",
        ),
        "pbr.forecast._drawdown": (
            "ClaimCalendar",
            "Comparison",
            "Drawdown",
            "Window",
            "compare",
            "drawdown",
            "from_records",
            "result_rates",
        ),
        "pbr.forecast._frames": ("pounds",),
        "pbr.forecast._sensitivity": (
            "Sensitivity",
            "sensitivity",
        ),
    },
)
