"""Scenarios: what share of families meets each result, how long after attachment, how sure.

A scenario names a central probability for each result, a distribution of lags (months from
attachment to the day a result is met) and, optionally, a range around each probability: the
Monte Carlo then draws each rate once per run from a Beta distribution with the central value
as its mean and a spread set by the range (standard deviation = (high − low) / 3.29, so that a
symmetric range is about the 5th to 95th percentile). Without ranges the rates are fixed and the
band reflects only which families succeed. Values are converted and checked when the scenario
is built, each error naming the scenario, the field and the value; whether the lags suit the
programme's rules is checked when the scenario meets a programme (`pbr.forecast.drawdown`).
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from pbr._scalars import RepeatedKey, unique_keys
from pbr.errors import ForecastError
from pbr.forecast._inputs import MAX_LAG_MONTHS, count, read_text, share, shown
from pbr.forecast._terms import default_programme

__all__ = [
    "Assumptions",
    "default_assumptions",
    "default_scenarios",
    "load_scenarios",
]

Z_90 = Fraction(16449, 10000)
"""The standard normal's 95th percentile: a range of ±1.6449 standard deviations holds 90%."""

DISTRIBUTIONS = ("beta",)


@dataclass(frozen=True, slots=True, init=False)
class Assumptions:
    """What share of families meets each result, and how many months after attachment.

    Probabilities, lag shares and ranges may be `Fraction`, `Decimal`, int, exact text
    (``"0.4"``, ``"1/3"``) or floats (read through their shortest repr: ``0.1`` is 1/10); lag
    months any whole number up to `pbr.forecast._inputs.MAX_LAG_MONTHS` (600: fifty years).
    `ranges` gives a ``(low, high)`` around a result's probability for parameter uncertainty in
    the Monte Carlo (``distribution="beta"``, the only one).

    >>> a = Assumptions("base", {"continuous_employment": 0.2}, {6: "1/2", 12: 0.5})
    >>> a.probabilities["continuous_employment"], a.lag_months[12]
    (Fraction(1, 5), Fraction(1, 2))
    >>> Assumptions("x", {"crime_asb_education": "half"}, {6: 1})
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: scenario 'x': probabilities.crime_asb_education must be a share such as 0.5, '1/3' or Decimal('0.25'), written plainly (digits, a point or a '/'; no sign, space, exponent, separator or leading zero), got 'half'
    """

    name: str
    probabilities: Mapping[str, Fraction]
    """The central probability that a family meets (and is paid) each result."""
    lag_months: Mapping[int, Fraction]
    """Months from attachment to the day a result is met, with the share of families at each."""
    ranges: Mapping[str, tuple[Fraction, Fraction]]
    """An uncertainty range ``(low, high)`` around some probabilities (empty: rates fixed)."""
    distribution: str
    """The distribution each rate with a range is drawn from, once per Monte Carlo run."""
    source: str | None = field(compare=False, repr=False)
    """The file the scenario was read from (`load_scenarios`), which its errors name; else None.

    Not part of the scenario: one read from a file equals the same one built in Python.
    """

    def __init__(
        self,
        name: str,
        probabilities: Mapping[str, object],
        lag_months: Mapping[Any, object],
        ranges: Mapping[str, Sequence[object]] | None = None,
        distribution: str = "beta",
    ) -> None:
        label = scenario_name(name)

        def bad(message: str) -> ForecastError:
            return ForecastError(f"scenario {label!r}: {message}")

        try:
            probs = {
                str(k): share(v, f"probabilities.{k}")
                for k, v in _table(probabilities, "probabilities").items()
            }
            lags: dict[int, Fraction] = {}
            for k, v in _table(lag_months, "lag_months").items():
                months = count(k, f"lag_months: {shown(k)}", most=MAX_LAG_MONTHS)
                if months in lags:  # {6: 0.5, "6": 0.5}: one lag, never added up silently
                    raise ForecastError(f"lag_months: {months} months is given twice ({shown(k)})")
                lags[months] = share(v, f"lag_months.{k}")
            spread = {}
            for k, pair in _table(ranges or {}, "ranges").items():
                if isinstance(pair, str) or not isinstance(pair, tuple | list) or len(pair) != 2:
                    raise ForecastError(f"ranges.{k} must be a pair (low, high), got {pair!r}")
                low = share(pair[0], f"ranges.{k} low")
                high = share(pair[1], f"ranges.{k} high")
                spread[str(k)] = (low, high)
        except ValueError as exc:
            raise bad(str(exc)) from None
        if not lags:
            raise bad("lag_months is empty")
        total = sum(lags.values(), Fraction(0))
        if total != 1:
            raise bad(f"lag_months add up to {total}, not 1")
        if distribution not in DISTRIBUTIONS:
            raise bad(f"distribution {distribution!r} is not one of {', '.join(DISTRIBUTIONS)}")
        for kind, (low, high) in spread.items():
            if kind not in probs:
                raise bad(f"ranges.{kind}: {kind} has no probability")
            centre = probs[kind]
            if low > high:
                raise bad(
                    f"ranges.{kind}: the range is given high to low ({float(low):g} to "
                    f"{float(high):g}): give [low, high]"
                )
            if not low <= centre <= high:
                raise bad(
                    f"ranges.{kind}: the range {float(low):g} to {float(high):g} must hold the "
                    f"probability {float(centre):g}"
                )
            if low < high and _spread(low, high) >= centre * (1 - centre):
                raise bad(
                    f"ranges.{kind}: the range {float(low):g} to {float(high):g} is too wide "
                    f"for a Beta distribution around {float(centre):g}"
                )
        object.__setattr__(self, "name", label)
        object.__setattr__(self, "probabilities", probs)
        object.__setattr__(self, "lag_months", dict(sorted(lags.items())))
        object.__setattr__(self, "ranges", {k: v for k, v in spread.items() if v[0] < v[1]})
        object.__setattr__(self, "distribution", distribution)
        object.__setattr__(self, "source", None)

    @property
    def label(self) -> str:
        """The scenario as its errors name it: its file (when read from one) and its name.

        >>> Assumptions("base", {"progress_to_work": 0.2}, {6: 1}).label
        "scenario 'base'"
        """
        where = f"{self.source}: " if self.source is not None else ""
        return f"{where}scenario {self.name!r}"

    def beta(self, kind: str) -> tuple[float, float] | None:
        """The Beta distribution's ``(alpha, beta)`` for `kind`'s rate, or None if it is fixed.

        >>> a = Assumptions("x", {"progress_to_work": "0.5"}, {6: 1}, {"progress_to_work": (0.4, 0.6)})
        >>> [round(v, 1) for v in a.beta("progress_to_work")]
        [33.3, 33.3]
        """
        if kind not in self.ranges:
            return None
        centre = self.probabilities[kind]
        low, high = self.ranges[kind]
        size = centre * (1 - centre) / _spread(low, high) - 1
        return float(centre * size), float((1 - centre) * size)

    @classmethod
    def from_mapping(cls, data: Any) -> Assumptions:
        """Build from plain data (a scenario file): exact text or numbers, errors named.

        The keys are ``name``, ``probabilities``, ``lag_months`` and optionally ``ranges``
        (``{kind = [low, high]}``) and ``distribution`` (``"beta"``). Each of the first three is
        required: a scenario without a name is refused, not called ``'scenario'``.

        >>> Assumptions.from_mapping({"name": "x", "probabilities": {"progress_to_work": "1/3"},
        ...     "lag_months": {"six": "1"}})
        Traceback (most recent call last):
        ...
        pbr.errors.ForecastError: scenario 'x': lag_months: 'six' must be a whole number written as digits alone, with no leading zero (such as 0, 6 or 790), got 'six'
        """
        if not isinstance(data, Mapping):
            raise ForecastError(
                f"a scenario must be a table of name, probabilities, lag_months: {data!r}"
            )
        raw = data.get("name")
        who = f"scenario {raw!r}" if isinstance(raw, str) and raw.strip() else "a scenario"
        allowed = {"name", "probabilities", "lag_months", "ranges", "distribution"}
        unknown = set(data) - allowed
        if unknown:
            raise ForecastError(f"{who}: unknown keys {sorted(unknown)}")
        for key in ("name", "probabilities", "lag_months"):
            if key not in data:
                raise ForecastError(f"{who}: missing {key!r}")
        try:
            name = scenario_name(raw)
        except TypeError as exc:
            raise ForecastError(str(exc)) from None
        return cls(
            name,
            data["probabilities"],
            data["lag_months"],
            data.get("ranges"),
            str(data.get("distribution", "beta")),
        )

    def to_mapping(self) -> dict[str, Any]:
        """The scenario as plain data (exact text), the shape `from_mapping` reads.

        >>> default_assumptions().to_mapping()["probabilities"]["crime_asb_education"]
        '1/2'
        """
        data: dict[str, Any] = {
            "name": self.name,
            "probabilities": {k: str(v) for k, v in self.probabilities.items()},
            "lag_months": {str(k): str(v) for k, v in self.lag_months.items()},
        }
        if self.ranges:
            data["ranges"] = {k: [str(lo), str(hi)] for k, (lo, hi) in self.ranges.items()}
            data["distribution"] = self.distribution
        return data


def scenario_name(name: object) -> str:
    """A scenario's name: text that is not blank (tables, charts and errors name it).

    A missing name is refused rather than filled in: ``None`` would otherwise become the
    scenario ``'None'`` and two unnamed scenarios could not be told apart.

    >>> scenario_name(None)
    Traceback (most recent call last):
    ...
    TypeError: a scenario's name must be text such as 'base', got NoneType None
    """
    if not isinstance(name, str):
        raise TypeError(
            f"a scenario's name must be text such as 'base', got {type(name).__name__} "
            f"{shown(name)}"
        )
    if not name.strip():
        raise ForecastError(f"a scenario's name must not be blank, got {name!r}")
    return name


def _table(value: object, field: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ForecastError(f"{field} must be a table, got {value!r}")
    return value


def _spread(low: Fraction, high: Fraction) -> Fraction:
    """The variance that a range implies: ((high − low) / 3.29)², as an exact fraction."""
    return ((high - low) / (2 * Z_90)) ** 2


def default_scenarios(programme: str | None = None) -> tuple[Assumptions, Assumptions]:
    """The illustrative base and pessimistic scenarios (not evidence: replace them with yours).

    The pessimistic scenario halves the base probabilities (and their ranges) and takes a year
    or two: the one definition used by the docs, the notebook and
    ``examples/forecast-scenarios.toml``.

    >>> base, pessimistic = default_scenarios()
    >>> str(pessimistic.probabilities["crime_asb_education"]), sorted(pessimistic.lag_months)
    ('1/4', [12, 24])
    """
    from pbr.programmes import programme as find

    rates = find(programme or default_programme()).illustrative_rates
    central = {kind: mid for kind, (mid, _) in rates.items()}
    width = {kind: half for kind, (_, half) in rates.items()}
    base = Assumptions(
        "base",
        central,
        {6: Fraction(1, 4), 9: Fraction(1, 4), 12: Fraction(1, 4), 18: Fraction(1, 4)},
        {k: (p - width[k], p + width[k]) for k, p in central.items()},
    )
    pessimistic = Assumptions(
        "pessimistic",
        {k: p / 2 for k, p in central.items()},
        {12: Fraction(1, 2), 24: Fraction(1, 2)},
        {k: ((p - width[k]) / 2, (p + width[k]) / 2) for k, p in central.items()},
    )
    return base, pessimistic


def default_assumptions(programme: str | None = None) -> Assumptions:
    """The illustrative base scenario for `programme` (not evidence: replace it with yours).

    Without a programme, the oldest the registry lists (phase one).

    >>> base = default_assumptions()
    >>> base.name, str(base.probabilities["crime_asb_education"]), sorted(base.lag_months)
    ('base', '1/2', [6, 9, 12, 18])
    >>> [str(v) for v in base.ranges["crime_asb_education"]]
    ['7/20', '13/20']
    """
    return default_scenarios(programme)[0]


def load_scenarios(path: str | Path) -> list[Assumptions]:
    r"""Scenarios from a TOML or JSON file: one scenario, or a list under ``scenarios``.

    The suffix says which (``.toml`` or ``.json``); a key given twice in one table is refused
    (JSON would keep only the last). Every error names the file.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "flat.toml"
    >>> _ = path.write_text('name = "flat"\nprobabilities = {progress_to_work = 0.2}\n'
    ...     'lag_months = {6 = 1}\n')
    >>> [(s.name, s.probabilities["progress_to_work"]) for s in load_scenarios(path)]
    [('flat', Fraction(1, 5))]
    """
    where = str(path)
    suffix = Path(path).suffix.lower()
    if os.path.isdir(path):  # never raises: a name too long is said by `read_text`
        raise ForecastError(f"{where}: is a directory, not a scenario file (TOML or JSON)")
    if suffix not in SCENARIO_SUFFIXES:
        raise ForecastError(
            f"{where}: a scenario file must be TOML (.toml) or JSON (.json), not "
            f"{suffix or 'a file without a suffix'!r}"
        )
    text = read_text(path, "scenario file (TOML or JSON)")
    if not text.strip():
        raise ForecastError(f"{where}: the scenario file is empty (expected {suffix[1:].upper()})")
    data = _parse(text, suffix, where)
    _check_top_level(data, where)
    items = data.get("scenarios", [data]) if isinstance(data, dict) else data
    if isinstance(items, list) and not items:  # `scenarios = []`, or a JSON file's `[]`
        under = " under 'scenarios'" if isinstance(data, dict) else ""
        raise ForecastError(
            f"{where}: the list of scenarios{under} is empty: give at least one scenario (for "
            "the default scenarios, give no scenario file)"
        )
    if not isinstance(items, list):
        raise ForecastError(f"{where}: expected a list of scenarios under 'scenarios'")
    try:
        found = [Assumptions.from_mapping(item) for item in items]
    except ValueError as exc:
        raise ForecastError(f"{where}: {exc}") from None
    for scenario in found:  # checked against a programme later: its errors name the file too
        object.__setattr__(scenario, "source", where)
    names = [s.name for s in found]
    if len(set(names)) != len(names):
        raise ForecastError(f"{where}: scenario names must differ: {names}")
    return found


def _check_top_level(data: object, where: str) -> None:
    """A file's top level is one scenario's keys, or ``scenarios`` (a list), never a mix.

    A misspelt list (``[[scenario]]`` for ``[[scenarios]]``) is said as such, with the name it
    should have, rather than as an unknown key of a scenario the file does not hold; a file of
    comments alone (or ``{}``) holds no scenario, and is said to.
    """
    if not isinstance(data, dict) or "scenarios" in data:
        others = sorted(set(data) - {"scenarios"}) if isinstance(data, dict) else []
        if others:
            raise ForecastError(
                f"{where}: unknown top-level keys {others} beside 'scenarios' (put each "
                "scenario's keys in its [[scenarios]] table)"
            )
        return
    keys = {"name", "probabilities", "lag_months", "ranges", "distribution"}
    if set(data) & keys:
        return
    if not data:  # comments alone (TOML), or `{}` (JSON): nothing unknown, nothing at all
        raise ForecastError(f"{where} holds no scenario: {_WHAT_A_FILE_HOLDS}")
    lists = sorted(k for k, v in data.items() if isinstance(v, list))
    unknown = lists or sorted(data)
    close = [k for k in unknown if difflib.get_close_matches(str(k), ["scenarios"], cutoff=0.7)]
    meant = f" (did you mean 'scenarios' for {close[0]!r}?)" if close else ""
    raise ForecastError(
        f"{where}: unknown top-level {'table' if len(unknown) == 1 else 'tables'} "
        f"{', '.join(repr(k) for k in unknown)}{meant}: {_WHAT_A_FILE_HOLDS}"
    )


_WHAT_A_FILE_HOLDS = (
    "a scenario file holds one scenario (name, probabilities, lag_months) or a list of them "
    """under 'scenarios' ([[scenarios]] in TOML, {"scenarios": [...]} in JSON)"""
)


SCENARIO_SUFFIXES = (".toml", ".json")
"""The scenario files `load_scenarios` reads, by suffix."""


def _parse(text: str, suffix: str, where: str) -> Any:
    """The data of a scenario file's text, with one-line errors naming the file."""
    try:
        if suffix == ".json":
            return json.loads(text, object_pairs_hook=unique_keys)
        return tomllib.loads(text)
    except RepeatedKey as exc:
        raise ForecastError(f"{where}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and TOMLDecodeError among them
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ForecastError(f"{where}: not a scenario file: {reason}") from None
