"""Drawdown forecasting for analysts: allocation, expected drawdown, Monte Carlo, scenarios.

The arithmetic is exact (fractions, rounded once to the penny for display); tables and charts
need the forecast extra (``pip install "pbr[forecast]"``: numpy, pandas, matplotlib), imported
only when used.

>>> from pbr.forecast import allocation, drawdown
>>> council = allocation(790)
>>> council.whole_funded_families, str(council.maximum)
(658, '2632000.00')
>>> d = drawdown(council)
>>> d.total + d.beyond_horizon <= council.maximum
True
"""

from __future__ import annotations

from pbr.forecast._allocation import Allocation, AllocationYear, allocation
from pbr.forecast._drawdown import (
    Assumptions,
    ClaimCalendar,
    Comparison,
    Drawdown,
    Window,
    compare,
    default_assumptions,
    drawdown,
    from_records,
    result_rates,
)

__all__ = [
    "Allocation",
    "AllocationYear",
    "Assumptions",
    "ClaimCalendar",
    "Comparison",
    "Drawdown",
    "Window",
    "allocation",
    "compare",
    "default_assumptions",
    "drawdown",
    "from_records",
    "result_rates",
]
