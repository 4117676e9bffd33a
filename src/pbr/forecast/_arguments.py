"""Arguments of the forecast functions checked at call time, each error saying what to pass.

A wrong type deep inside a forecast surfaces as ``AttributeError: 'dict' object has no
attribute 'name'``, far from the mistake. These checks run first and raise `TypeError` naming
the argument, what it got and the function that makes the right thing (values are checked
later, as `ValueError`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from pbr._arguments import described
from pbr.errors import ForecastError
from pbr.forecast._allocation import Allocation
from pbr.forecast._assumptions import Assumptions

__all__ = [
    "checked_allocation",
    "checked_rates",
    "checked_records",
    "checked_scenario",
    "checked_scenarios",
]


def checked_allocation(alloc: object) -> Allocation:
    """`alloc` if it is an `Allocation`; else a `TypeError` saying how to make one.

    >>> checked_allocation(790)
    Traceback (most recent call last):
    ...
    TypeError: alloc must be an Allocation, got int 790; make one with pbr.forecast.allocation(790)
    """
    if isinstance(alloc, Allocation):
        return alloc
    hint = "pbr.forecast.allocation(estimated_families)"
    if isinstance(alloc, int | str) and not isinstance(alloc, bool):
        hint = f"pbr.forecast.allocation({alloc!r})"
    raise TypeError(f"alloc must be an Allocation, got {described(alloc)}; make one with {hint}")


def _scenario_hint(value: object) -> str:
    """How to turn `value` (a path, a mapping or anything else) into a scenario."""
    if isinstance(value, str | os.PathLike):
        return "load a file with pbr.forecast.load_scenarios(path)"
    if isinstance(value, Mapping):
        return "build one from plain data with pbr.forecast.Assumptions.from_mapping(data)"
    return "build one with pbr.forecast.Assumptions(name, probabilities, lag_months)"


def checked_scenario(value: object, name: str = "assumptions") -> Assumptions | None:
    """`value` if it is an `Assumptions` (or None: the default); else a `TypeError`.

    >>> checked_scenario("scenarios.toml")
    Traceback (most recent call last):
    ...
    TypeError: assumptions must be an Assumptions object, got str 'scenarios.toml'; load a file with pbr.forecast.load_scenarios(path)
    """
    if value is None or isinstance(value, Assumptions):
        return value
    raise TypeError(
        f"{name} must be an Assumptions object, got {described(value)}; {_scenario_hint(value)}"
    )


def checked_scenarios(value: object) -> list[Assumptions] | None:
    """`compare`'s scenarios: None (each programme's default) or a non-empty list of scenarios.

    A path, a mapping or one scenario on its own is a `TypeError` saying what to pass; an empty
    list is a `ValueError` (it would otherwise mean "the defaults" without a word).

    >>> checked_scenarios([])
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: scenarios is empty: give at least one scenario, or leave scenarios out for each programme's default scenario
    """
    if value is None:
        return None
    if isinstance(value, Assumptions):
        raise TypeError(
            f"scenarios must be a list of Assumptions objects, got one Assumptions "
            f"({value.name!r}); pass [scenario]"
        )
    if isinstance(value, str | os.PathLike | Mapping) or not isinstance(value, Iterable):
        raise TypeError(
            f"scenarios must be Assumptions objects, got {described(value)}; {_scenario_hint(value)}"
        )
    found = list(value)
    if not found:
        raise ForecastError(
            "scenarios is empty: give at least one scenario, or leave scenarios out for each "
            "programme's default scenario"
        )
    for n, item in enumerate(found, start=1):
        if not isinstance(item, Assumptions):
            raise TypeError(
                f"scenarios must be Assumptions objects; scenario {n} is {described(item)}; "
                f"{_scenario_hint(item)}"
            )
    return found


def checked_records(records: object) -> Iterable[Any]:
    """`from_records`'s records: an iterable of families, not a file's name.

    >>> checked_records("families.jsonl")
    Traceback (most recent call last):
    ...
    TypeError: records must be an iterable of pbr.Family (or of what pbr.read_records yields), got str 'families.jsonl'; read a file with pbr.read_records(path)
    """
    if isinstance(records, str | bytes | os.PathLike | Mapping) or not isinstance(
        records, Iterable
    ):
        hint = (
            "read a file with pbr.read_records(path)"
            if isinstance(records, str | os.PathLike)
            else "pass a list of pbr.Family"
        )
        raise TypeError(
            "records must be an iterable of pbr.Family (or of what pbr.read_records yields), "
            f"got {described(records)}; {hint}"
        )
    return records


def checked_rates(rates: object) -> Iterable[object] | None:
    """`sensitivity`'s rates: None (the default rates) or a list of them, never one rate alone.

    Text would be read letter by letter (``"0.5"`` as ``"0"``, ``"."``, ``"5"``), and a number
    is not a list, so both are a `TypeError` saying to pass a list.

    >>> checked_rates("0.5")
    Traceback (most recent call last):
    ...
    TypeError: rates must be a list of success rates such as [0.5] or ['0', '1/2', '1'], got str '0.5'; for one rate pass [rate]
    """
    if rates is None:
        return None
    if isinstance(rates, str | bytes | Mapping) or not isinstance(rates, Iterable):
        raise TypeError(
            "rates must be a list of success rates such as [0.5] or ['0', '1/2', '1'], got "
            f"{described(rates)}; for one rate pass [rate]"
        )
    return rates
