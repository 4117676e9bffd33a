"""Outcome plans: a council's measures of progress for each problem or need, as checked data.

Phase two judged "significant and sustained progress" against the council's own Troubled Families
Outcomes Plan (tf-rules §2); Supporting Families against the national outcome framework as each
council measures it (§3). A plan maps each problem to one or more measures: an indicator, an
aggregate over a sustain period ending on the evaluation date (or, in school terms, on the last
term complete by then), a comparison and a threshold.

>>> from pbr.plans import example_plan
>>> plan = example_plan("tf-phase-2")
>>> plan.label
'pbr-example-tfop/1.0'
>>> [m.id for m in plan.outcome_for("education").measures]
['attendance', 'exclusions']
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation
from fractions import Fraction
from functools import cache, reduce
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pbr._record_checks import CONTROL_FREE, FamilyNeed, PhaseTwoProblem, printable_text
from pbr._scalars import exact_number, number_text, shown_number, too_long_to_read
from pbr._strict import ExactNumber
from pbr._unreadable import not_utf8_text
from pbr.errors import PlanError
from pbr.periods import (
    SchoolTerm,
    TermCalendar,
    add_months,
    compulsory_school_age_in,
)
from pbr.records import Family, Observation

__all__ = [
    "BUILT_IN_INDICATORS",
    "Measure",
    "Outcome",
    "OutcomePlan",
    "PlanError",
    "example_plan",
    "load_plan",
    "parse_plan",
]

Comparison = Literal["<", "<=", "==", "!=", ">=", ">"]
Aggregate = Literal["count", "sum", "max", "min", "mean", "latest", "rate"]

BUILT_IN_INDICATORS: Mapping[str, str] = {
    "offences": "Proven offences by any member (the record's `offences`), counted.",
    "asb_incidents": "ASB incidents or actions (the record's `asb_incidents`), counted.",
    "unauthorised_absence_percent": "100 × unauthorised absences ÷ possible sessions over every "
    "child's term rows in the period (aggregate `rate`).",
    "fixed_term_exclusions": "Fixed-term exclusions over every child's term rows in the period "
    "(aggregate `sum`).",
}
"""Indicators computed from the phase-one evidence fields; any other name is read from the
record's `observations`."""

SCHOOL_TERM_INDICATORS = frozenset({"unauthorised_absence_percent", "fixed_term_exclusions"})
"""The built-in indicators read from the record's school-term rows."""

_BUILT_IN_AGGREGATE: Mapping[str, frozenset[str]] = {
    "offences": frozenset({"count"}),
    "asb_incidents": frozenset({"count"}),
    "unauthorised_absence_percent": frozenset({"rate"}),
    "fixed_term_exclusions": frozenset({"sum"}),
}

_STRICT = ConfigDict(frozen=True, extra="forbid", defer_build=True)
_Name = Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
_PRINTABLE = {"pattern": CONTROL_FREE}
_Description = Annotated[
    str,
    Strict(),
    Field(max_length=500, json_schema_extra=_PRINTABLE),
    AfterValidator(printable_text),
]
"""Free text shown in reasons and reports: no control character, as a record's notes."""
_Version = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=32, json_schema_extra=_PRINTABLE),
    AfterValidator(printable_text),
]
"""A plan's version, echoed in every decision: no control character, as a record's codes."""


_SUSTAIN = ("sustain_days", "sustain_weeks", "sustain_months", "sustain_terms")


def _measure_faults(given: list[str], indicator: Any, aggregate: Any) -> list[str]:
    """What is wrong with a measure as a whole: its sustain periods given, its aggregate.

    `aggregate` is None when not given (the default, count, suits every indicator). Shared by
    `Measure` and `parse_plan`, which asks it of a measure whose fields are also wrong.
    """
    faults = []
    if len(given) != 1:
        faults.append(
            f"give exactly one of {', '.join(_SUSTAIN)} (got {', '.join(given) or 'none'})"
        )
    allowed = _BUILT_IN_AGGREGATE.get(indicator) if isinstance(indicator, str) else None
    if allowed is not None and aggregate is not None and aggregate not in allowed:
        faults.append(
            f"indicator {indicator!r} is built in and takes aggregate "
            f"{' or '.join(sorted(allowed))}, not {aggregate!r}"
        )
    if allowed is None and aggregate == "rate":
        faults.append("aggregate 'rate' is only for unauthorised_absence_percent")
    return faults


_RANGES: Mapping[str, tuple[Decimal | None, Decimal | None, bool, str]] = {
    "count": (Decimal(0), None, True, "a count is a whole number, 0 or more"),
    "fixed_term_exclusions": (
        Decimal(0),
        None,
        True,
        "a sum of fixed-term exclusions is a whole number, 0 or more",
    ),
    "rate": (Decimal(0), Decimal(100), False, "a rate is a percentage of sessions, from 0 to 100"),
    "value": (
        Decimal("-999999999999.999999999999"),
        Decimal("999999999999.999999999999"),
        False,
        "an observation's value is less than 10^12 in size, with at most 12 decimal places",
    ),
}
"""What each aggregate can be, whatever the evidence: (least, greatest or None, whole, why).

A rate's absences never exceed its possible sessions. `value` is a maximum, minimum, latest
value or mean of observations, each within an observation's `ExactNumber` (under 10^12 in size,
12 places at most); a sum of observations, or a count, has no greatest."""


def _never_holds(indicator: str, aggregate: str, comparison: str, threshold: Decimal) -> str | None:
    """Why ``aggregate(indicator) comparison threshold`` holds for no evidence, or None if some.

    A count is never below 0 nor a fraction, a rate never over 100: such a measure would wait
    for a result that never comes (and a forecast count its money). Only what the aggregate's
    range rules out is refused; any value it can take is judged on the evidence.
    """
    if aggregate in ("count", "rate"):
        kind = aggregate
    elif indicator == "fixed_term_exclusions":
        kind = "fixed_term_exclusions"
    elif aggregate in ("max", "min", "latest", "mean"):
        kind = "value"
    else:  # an observation's sum: any number
        return None
    least, greatest, whole, why = _RANGES[kind]
    above = greatest is None or greatest > threshold  # some value exceeds the threshold
    below = least is None or least < threshold
    reaches = (least is None or least <= threshold) and (greatest is None or threshold <= greatest)
    can = {
        "<": below,
        "<=": below or reaches,
        "==": reaches and not (whole and Fraction(threshold).denominator != 1),
        "!=": True,
        ">=": above or reaches,
        ">": above,
    }[comparison]
    if can:
        return None
    return f"{aggregate} of {indicator} {comparison} {number_text(threshold)} can never hold: {why}"


class Measure(BaseModel):
    """One test of progress: `aggregate(indicator over the sustain period) comparison threshold`.

    The sustain period ends on the evaluation date (in terms, on the last term complete by
    then) and must lie wholly after attachment. Give
    exactly one of `sustain_days`, `sustain_weeks`, `sustain_months` or `sustain_terms`. A
    threshold no evidence could meet (``count < 0``, ``rate > 100``) is refused.

    >>> m = Measure(id="no_callouts", indicator="police_callout_domestic_abuse",
    ...             comparison="==", threshold=0, sustain_months=6)
    >>> m.describe()
    'count of police_callout_domestic_abuse == 0 over 6 months'
    """

    model_config = _STRICT

    id: _Name
    indicator: _Name
    aggregate: Aggregate = "count"
    comparison: Comparison
    threshold: ExactNumber
    sustain_days: Annotated[int, Strict(), Field(ge=1, le=3660)] | None = None
    sustain_weeks: Annotated[int, Strict(), Field(ge=1, le=520)] | None = None
    sustain_months: Annotated[int, Strict(), Field(ge=1, le=120)] | None = None
    sustain_terms: Annotated[int, Strict(), Field(ge=1, le=30)] | None = None
    description: _Description | None = None

    @field_validator("threshold", mode="after")
    @classmethod
    def _can_hold(cls, threshold: Decimal, info: ValidationInfo) -> Decimal:
        """Refuse a threshold no evidence could meet (``count < 0``), at the threshold's place."""
        indicator, aggregate = info.data.get("indicator"), info.data.get("aggregate")
        comparison = info.data.get("comparison")
        if indicator is None or aggregate is None or comparison is None:
            return threshold  # a field before it is wrong: said there
        allowed = _BUILT_IN_AGGREGATE.get(indicator)
        if allowed is not None:
            aggregate = next(iter(allowed))  # the built-in's own, as `effective_aggregate`
        elif aggregate == "rate":
            return threshold  # not an aggregate this indicator has: `_measure_faults` says so
        why = _never_holds(indicator, aggregate, comparison, threshold)
        if why is not None:
            raise ValueError(why)
        return threshold

    @model_validator(mode="after")
    def _one_sustain_period(self) -> Measure:
        given = [n for n in _SUSTAIN if getattr(self, n) is not None]
        chosen = "aggregate" in self.model_fields_set  # the default, "count", is not given
        faults = _measure_faults(given, self.indicator, self.aggregate if chosen else None)
        if faults:
            raise ValueError("; ".join(faults))
        return self

    @property
    def effective_aggregate(self) -> str:
        """The aggregate used: a built-in indicator's own (rate, sum) or the one given."""
        allowed = _BUILT_IN_AGGREGATE.get(self.indicator)
        return next(iter(allowed)) if allowed is not None else self.aggregate

    @property
    def period(self) -> str:
        """The sustain period in words: ``"6 months"``."""
        for unit in ("days", "weeks", "months", "terms"):
            n = getattr(self, f"sustain_{unit}")
            if n is not None:
                return f"{n} {unit[:-1] if n == 1 else unit}"
        raise AssertionError("validated to have one sustain period")  # pragma: no cover

    def describe(self) -> str:
        """The measure in one line, as an auditor reads it."""
        return (
            f"{self.effective_aggregate} of {self.indicator} {self.comparison} "
            f"{number_text(self.threshold)} over {self.period}"
        )


class Outcome(BaseModel):
    """The measures of progress for one problem or need; `all` (default) or `any` must hold."""

    model_config = _STRICT

    problem: PhaseTwoProblem | FamilyNeed
    measures: Annotated[tuple[Measure, ...], Field(min_length=1)]
    match: Literal["all", "any"] = "all"
    description: _Description | None = None


_PROBLEMS: dict[str, tuple[str, ...]] = {
    "tf-phase-2": get_args(PhaseTwoProblem),
    "supporting-families": get_args(FamilyNeed),
}
"""The problems (phase two) or needs (Supporting Families) a plan for each programme may name."""


class OutcomePlan(BaseModel):
    """A council's outcome plan for one programme, with an id and version echoed in decisions.

    >>> plan = example_plan("supporting-families")
    >>> plan.programme, len(plan.outcomes), plan.outcome_for("housing").measures[0].describe()
    ('supporting-families', 10, 'count of eviction_notice == 0 over 6 months')
    """

    model_config = _STRICT

    id: Annotated[str, Strict(), Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    version: _Version
    programme: Literal["tf-phase-2", "supporting-families"]
    title: _Description | None = None
    outcomes: Annotated[tuple[Outcome, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct(self) -> OutcomePlan:
        outcomes = [
            {"problem": o.problem, "measures": [{"id": m.id} for m in o.measures]}
            for o in self.outcomes
        ]
        faults = _plan_faults(self.programme, outcomes)
        if faults:
            raise ValueError("; ".join(f"{_place(loc)}: {why}" for loc, why in faults))
        return self

    @property
    def label(self) -> str:
        """``"id/version"``, as echoed in every decision."""
        return f"{self.id}/{self.version}"

    def indicators(self) -> frozenset[str]:
        """Every indicator a measure of the plan reads.

        >>> sorted(example_plan("tf-phase-2").indicators())[:2]
        ['asb_incidents', 'child_protection_plan_start']
        """
        return frozenset(m.indicator for o in self.outcomes for m in o.measures)

    def outcome_for(self, problem: str) -> Outcome | None:
        """The outcome for `problem`, or None when the plan does not cover it."""
        return next((o for o in self.outcomes if o.problem == problem), None)


def _plan_faults(programme: Any, outcomes: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """What is wrong across a plan's outcomes, each at its place.

    A problem of another programme or given two outcomes; a measure id given twice in one outcome.

    Read from the data as given, so that `parse_plan` lists these with the fields' errors;
    anything not yet of the right type is left to those.
    """
    if not isinstance(outcomes, list | tuple):
        return []
    own = _PROBLEMS.get(programme) if isinstance(programme, str) else None
    every = {p for problems in _PROBLEMS.values() for p in problems}
    faults: list[tuple[tuple[int | str, ...], str]] = []
    first: dict[str, int] = {}
    for i, outcome in enumerate(outcomes):
        if not isinstance(outcome, dict):
            continue
        problem = outcome.get("problem")
        if isinstance(problem, str) and problem in every:
            if own is not None and problem not in own:  # no family could reach it
                faults.append(
                    (
                        ("outcomes", i, "problem"),
                        f"problem {problem!r} is not one of {programme}'s ({', '.join(own)})",
                    )
                )
            elif problem in first:
                faults.append(
                    (
                        ("outcomes", i, "problem"),
                        f"problem {problem!r} has two outcomes (the first is "
                        f"outcomes[{first[problem]}])",
                    )
                )
            first.setdefault(problem, i)
        faults += _repeated_ids(i, outcome.get("measures"))
    return faults


def _repeated_ids(outcome: int, measures: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """Each measure id given again in one outcome, at its place, naming the first measure."""
    if not isinstance(measures, list | tuple):
        return []
    first: dict[str, int] = {}
    faults: list[tuple[tuple[int | str, ...], str]] = []
    for j, measure in enumerate(measures):
        given = measure.get("id") if isinstance(measure, dict) else None
        if not isinstance(given, str):
            continue
        if given in first:
            faults.append(
                (
                    ("outcomes", outcome, "measures", j, "id"),
                    f"measure id {given!r} is given to measures[{first[given]}] too: give each "
                    "measure of an outcome its own id",
                )
            )
        first.setdefault(given, j)
    return faults


def _place(loc: tuple[int | str, ...]) -> str:
    """A place in a plan as its data is written: ``outcomes[1]: measures[0]: id``."""
    out: list[str] = []
    for key in loc:
        if isinstance(key, int) and out:
            out[-1] += f"[{key}]"
        else:
            out.append(str(key))
    return ": ".join(out)


def parse_plan(data: Any, *, origin: str = "<plan>") -> OutcomePlan:
    """Validate a plan given as Python data; errors name the plan, the measure and the field.

    Each problem is one of the error's `~pbr.errors.PlanError.problems`, a line of its message.

    >>> parse_plan({"id": "p", "version": "1", "programme": "tf-phase-2", "outcomes": [
    ...     {"problem": "health", "measures": [{"id": "gp", "indicator": "gp_crisis_visits",
    ...      "comparison": "<=", "threshold": 1, "sustain_months": 13, "sustain_days": 2}]}]})
    Traceback (most recent call last):
    ...
    pbr.errors.PlanError: <plan>: plan 'p': outcomes[0] (health) measure 'gp': give exactly one of sustain_days, sustain_weeks, sustain_months, sustain_terms (got sustain_days, sustain_months)
    """
    try:
        return OutcomePlan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(*_plan_errors(exc, data, origin)) from None
    # a value a plan file's loader would not read (`_Unread`) never validates: it is named at
    # its place by `_plan_errors`, with every other problem of the plan


MAX_PLAN_BYTES = 1 << 20
"""The largest plan file read, 1 MiB: a plan is a few kilobytes (the example plans are under 3 KB)
and 2,000 measures with 400-character descriptions fit, while a YAML plan of that size already
takes over 2 seconds to read (10 MiB would hold a command or the server for half a minute). A
larger file, or a device that keeps giving bytes (``/dev/zero``), is refused once that much is
read, instead of filling memory."""


def load_plan(path: str | Path) -> OutcomePlan:
    """Read and validate a plan file: TOML (``.toml``), JSON (``.json``) or YAML (``.yaml``).

    YAML needs PyYAML (``pip install "pbr-claims[yaml]"``). Every value is read as written or
    refused: YAML's and TOML's numbers only in plain decimal (YAML 1.1 reads ``010`` as 8, TOML
    ``0x10`` as 16) and YAML's flags only as ``true`` or ``false`` (not ``yes``, ``on``); a key
    given twice, a number of over 4,300 digits and NaN, an infinity or a float out of range are
    named at their place, as written, with every other problem of the plan. A UTF-16 file is
    refused as such. At most `MAX_PLAN_BYTES` are read.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "plan.json"
    >>> _ = path.write_text('{"id": "county", "version": "2", "programme": "tf-phase-2", '
    ...     '"outcomes": [{"problem": "health", "measures": [{"id": "calm", '
    ...     '"indicator": "health_crisis_contact", "comparison": "==", "threshold": 0, '
    ...     '"sustain_months": 6}]}]}')
    >>> load_plan(path).label
    'county/2'
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"load_plan reads a file: expected its path, got {type(path).__name__}"
            + (
                "; a plan as data is read with pbr.plans.parse_plan(data)"
                if isinstance(path, dict)
                else ""
            )
        )
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan: {exc.strerror or exc}") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(
            f"{path}: larger than a plan file may be ({MAX_PLAN_BYTES >> 20} MiB): pbr reads at "
            f"most {MAX_PLAN_BYTES:,} bytes of a plan"
        )
    not_text = not_utf8_text("the plan", data[:8])
    if not_text is not None:
        raise PlanError(f"{path}: {not_text}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(
            f"{path}: not UTF-8 text (byte {exc.start + 1} is {exc.object[exc.start]:#04x})"
        ) from None
    return parse_plan(_decode(text, path.suffix.lower(), str(path)), origin=str(path))


def _decode(text: str, suffix: str, origin: str) -> Any:
    """The plan file's data, once every value is known to be read as written (`_Unread`)."""
    try:
        if suffix == ".toml":
            data = _toml(text)
        elif suffix == ".json":
            data = json.loads(
                text,
                object_pairs_hook=_keeping_repeats,
                parse_int=_json_int,
                parse_float=_finite,
                parse_constant=_finite,  # NaN, Infinity: not JSON, though Python reads them
            )
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise PlanError(
                    f'{origin}: reading YAML plans needs PyYAML: pip install "pbr-claims[yaml]"'
                ) from None
            loader = _plan_loader(yaml)
            _refuse_aliases(yaml, text, loader, origin)
            data = yaml.load(text, Loader=loader)
        else:
            raise PlanError(f"{origin}: a plan file ends in .toml, .json, .yaml or .yml")
        list(_unread(data, ()))  # nested too deeply for `parse_plan` to walk: said here
    except RecursionError:
        raise PlanError(f"{origin}: not a plan: nested too deeply") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        if isinstance(exc, PlanError):
            raise
        raise PlanError(f"{origin}: not valid {suffix[1:].upper()}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError, without importing yaml at module level
        raise PlanError(f"{origin}: not valid YAML: {_yaml_fault(exc)}") from None
    return data


def _yaml_fault(exc: Exception) -> str:
    """PyYAML's error on one line, worded as TOML's: what is wrong, then where (from 1).

    PyYAML's own text spans lines and points into ``"<unicode string>"``, not the file.
    """
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem is None:
        reason, position = getattr(exc, "reason", None), getattr(exc, "position", None)
        if isinstance(reason, str) and isinstance(position, int):  # a ReaderError
            char = getattr(exc, "character", None)
            shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
            return f"{reason}: {shown} (at character {position + 1})"
        return " ".join(str(exc).split())
    where = [f"at {_at(mark)}"] if mark is not None else []
    context, since = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        where.append(context + (f" from {_at(since)}" if since is not None else ""))
    return f"{problem} ({', '.join(where)})" if where else str(problem)


def _at(mark: Any) -> str:
    """A PyYAML mark (counted from 0) as ``line 7, column 9``."""
    return f"line {mark.line + 1}, column {mark.column + 1}"


class _Unread:
    """A value of a plan file that pbr will not read as any value, and why (for the message)."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return self.why


class _Repeated(_Unread):
    """A key given more than once in one object: which value is meant cannot be known."""

    def __init__(self, values: list[Any]) -> None:
        self.values = values
        super().__init__(
            f"given {'twice' if len(values) == 2 else f'{len(values)} times'} "
            f"({', then '.join(_shown_input(v) for v in values)}): give it once"
        )


def _keeping_repeats(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """An object as a dict, a key given twice holding `_Repeated` (named at its place later)."""
    data: dict[Any, Any] = {}
    for key, value in pairs:
        if key not in data:
            data[key] = value
            continue
        held = data[key]
        data[key] = _Repeated(
            [*held.values, value] if isinstance(held, _Repeated) else [held, value]
        )
    return data


_MAX_DIGITS = 4300
"""The most digits Python turns into an `int` (`sys.get_int_max_str_digits`, by default)."""


def _json_int(text: str) -> int | _Unread:
    """A JSON whole number; one too long for Python to read is kept to be named at its field."""
    if len(text) - text.startswith("-") > _MAX_DIGITS:
        return _Unread(too_long_to_read(text))
    return int(text)


class _Float(float):
    """A float of a plan file, shown as written (``1e2``, ``1.10``), not as Python writes it.

    No plan field holds a float: each is refused, and its message shows what the council wrote.
    """

    text: str

    def __new__(cls, value: float, text: str) -> _Float:
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __repr__(self) -> str:
        return self.text


def _finite(text: str) -> float | _Unread:
    """A JSON or TOML float; NaN, an infinity or one out of range kept as written, to be refused.

    Python reads ``1e400`` as infinity, which a plan's field could then only call out of range.
    """
    value = float(text)
    if math.isfinite(value):
        return _Float(value, text)
    said = "out of range" if any(c.isdigit() for c in text) else "not a finite number"
    return _Unread(
        f"{_written(text)} is {said}: a plan's numbers are whole numbers or decimals such as 7.5"
    )


_TOML_MARKED = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*'
    r"|(=[ \t]*)([-+]?(?:0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|[0-9]+(?:_[0-9]+)+))(?![\w.:+-])"
    rf"|(?<![\w.+-])([-+]?[0-9](?:_?[0-9]){{{_MAX_DIGITS},}})(?![\w.:+-])"
)
"""A TOML string or comment (kept as it is); a value written as a whole number in another base
or with underscores (``0x10``, ``0o10``, ``0b11``, ``1_0``: after its ``=``); or a whole number
too long for Python to read."""
_MARK = "\x00pbr-number:"
_MARK_TOML = "\\u0000pbr-number:"
"""`_MARK` as TOML text writes it (a string holds a control character only escaped)."""


def _toml(text: str) -> Any:
    """TOML's data, each whole number not written in plain decimal kept to be named at its field.

    TOML reads ``0x10`` as 16 and ``1_0`` as 10, where YAML 1.2 and JSON read neither: refused
    at its place as a YAML plan's are. `tomllib` stops at a number too long for Python to read
    with Python's own words and no place: it is named at its field too. The text is read again
    with each such number as a marked string, which is then the number's `_Unread`.
    """
    try:
        data = tomllib.loads(text, parse_float=_finite)
    except tomllib.TOMLDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        data = None
    numbers: list[_Unread] = []

    def marked(match: re.Match[str]) -> str:
        refused = _not_decimal(match.group(2)) if match.group(2) is not None else None
        if refused is not None:
            numbers.append(refused)
            return f'{match.group(1)}"{_MARK_TOML}{len(numbers) - 1}"'
        if match.group(3) is not None:
            numbers.append(_Unread(too_long_to_read(match.group(3))))
            return f'"{_MARK_TOML}{len(numbers) - 1}"'
        return match.group()

    again = _TOML_MARKED.sub(marked, text)
    if data is not None and not numbers:
        return data
    try:
        data = tomllib.loads(again, parse_float=_finite)
    except ValueError:
        raise ValueError(f"a number too long to read (over {_MAX_DIGITS:,} digits)") from None
    return _with_marked_numbers(data, numbers)


def _not_decimal(text: str) -> _Unread | None:
    """Why a TOML whole number written as `text` (``0x10``, ``1_0``) is refused; None if not one.

    Not one (``0x_1``) only in a file `tomllib` refused for a number too long to read: it is then
    left as written, for `tomllib` to say what is wrong with it.
    """
    digits = text.lstrip("+-").replace("_", "")
    if len(digits) > _MAX_DIGITS:
        return _Unread(too_long_to_read(digits))
    try:
        value = shown_number(tomllib.loads(f"n = {text}")["n"])
    except ValueError:
        return None
    base, written = _yaml_base(text), _written(text)
    return _Unread(
        f"TOML reads {written} as {value}{f' ({base})' if base else ''}; a plan's numbers are "
        f"plain decimals (10, -3), {_QUOTE.format(written)}"
    )


def _with_marked_numbers(tree: Any, numbers: list[_Unread]) -> Any:
    """`tree` with each marked string of `_toml` as its number's `_Unread`."""
    if isinstance(tree, str) and tree.startswith(_MARK):
        index = tree.removeprefix(_MARK)
        if index.isdigit() and int(index) < len(numbers):
            return numbers[int(index)]
    if isinstance(tree, dict):
        return {key: _with_marked_numbers(value, numbers) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_with_marked_numbers(value, numbers) for value in tree]
    return tree


def _unread(tree: Any, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], _Unread]]:
    """Each `_Unread` value in a plan file's data, with its place."""
    if isinstance(tree, _Unread):
        yield loc, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            if isinstance(key, _Unread):
                yield (*loc, "(a key)"), key
            yield from _unread(value, (*loc, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _unread(value, (*loc, i))


def _refuse_aliases(yaml: Any, text: str, loader: Any, origin: str) -> None:
    """Refuse a YAML anchor or alias, naming its line, before anything is built.

    Nested aliases ("billion laughs") make a few hundred bytes into millions of items, and a
    plan never needs one. Scanning the tokens takes time in proportion to the text.
    """
    for token in yaml.scan(text, Loader=loader):
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            what, sign = (
                ("anchors", "&") if isinstance(token, yaml.AnchorToken) else ("aliases", "*")
            )
            raise PlanError(
                f"{origin}: line {token.start_mark.line + 1}: YAML {what} ({sign}{token.value}) "
                "are not read in a plan: write the value out"
            )


_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
"""A whole number as YAML 1.2, JSON and TOML all read it: plain decimal, no leading zero."""
_QUOTE = "or quote the value as text ('{}')"


def _written(text: str) -> str:
    """A YAML value as written, for a message: whole up to 40 characters, else shortened, marked."""
    return text if len(text) <= 40 else f"{text[:20]}…({len(text):,} characters)"


def _plan_loader(yaml: Any) -> Any:
    """PyYAML's safe loader, reading each value as written or keeping it to be refused.

    YAML 1.1 (PyYAML's) reads ``010`` as 8, ``0x0A`` as 10, ``1:30`` as 90, ``1_000`` as 1000,
    ``yes``, ``on`` and ``off`` as flags and ``2016-01-01`` as a date, where YAML 1.2, JSON and
    TOML read no such thing: those are kept (`_Unread`) and refused at their place, as is a key
    given twice in one mapping (as TOML refuses it). Plain decimals, ``true`` and ``false`` read
    as usual; floats are read (kept as written, `_Float`), and refused by the plan's fields as a
    JSON plan's are.
    """

    class PlanLoader(yaml.SafeLoader):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            pairs = []
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    hash(key)
                except TypeError:  # an unhashable key: the loader says so itself
                    return super().construct_mapping(node, deep=deep)
                pairs.append((key, self.construct_object(value_node, deep=deep)))
            return _keeping_repeats(pairs)

        def construct_plain_int(self, node: Any) -> int | _Unread:
            text: str = self.construct_scalar(node)
            if _PLAIN_INT.fullmatch(text):
                return _json_int(text.removeprefix("+"))
            try:
                value = shown_number(super().construct_yaml_int(node))
            except ValueError:  # digits beyond Python's limit, with underscores
                return _Unread(too_long_to_read(text))
            base, text = _yaml_base(text), _written(text)
            return _Unread(
                f"YAML 1.1 reads {text} as {value}{f' ({base})' if base else ''}; a plan's "
                f"numbers are plain decimals (10, -3), {_QUOTE.format(text)}"
            )

        def construct_plain_bool(self, node: Any) -> bool | _Unread:
            text: str = self.construct_scalar(node)
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            value = str(super().construct_yaml_bool(node)).lower()
            return _Unread(
                f"YAML 1.1 reads {text} as {value}: write true or false, {_QUOTE.format(text)}"
            )

        def construct_written_float(self, node: Any) -> float:
            value: float = super().construct_yaml_float(node)
            if not math.isfinite(value):
                return value
            return _Float(value, self.construct_scalar(node))

        def construct_no_timestamp(self, node: Any) -> _Unread:
            text = _written(self.construct_scalar(node))
            return _Unread(
                f"YAML reads {text} as a date, which no plan field holds: "
                f"{_QUOTE.format(text).removeprefix('or ')}"
            )

    PlanLoader.add_constructor("tag:yaml.org,2002:int", PlanLoader.construct_plain_int)
    PlanLoader.add_constructor("tag:yaml.org,2002:bool", PlanLoader.construct_plain_bool)
    PlanLoader.add_constructor("tag:yaml.org,2002:float", PlanLoader.construct_written_float)
    PlanLoader.add_constructor("tag:yaml.org,2002:timestamp", PlanLoader.construct_no_timestamp)
    return PlanLoader


def _yaml_base(text: str) -> str:
    """The base YAML 1.1 (or TOML: ``0o10``) reads a whole number written as `text` in, unless ten."""
    digits = text.lstrip("+-")
    if ":" in digits:
        return "base 60"
    if digits.startswith("0b"):
        return "binary"
    if digits.startswith("0x"):
        return "hexadecimal"
    if digits.startswith("0") and digits.strip("0_"):
        return "octal"
    return ""


def _head(data: Any, origin: str) -> str:
    """``file: plan 'id'``, or ``file: plan`` when the plan has no id as text."""
    plan_id = data.get("id") if isinstance(data, dict) else None
    return f"{origin}: plan {plan_id!r}" if isinstance(plan_id, str) else f"{origin}: plan"


def _plan_errors(exc: ValidationError, data: Any, origin: str) -> list[str]:
    """Each of pydantic's errors as one line: where in the plan, what is wrong, the value."""
    from pbr._rejection import in_users_terms

    head = _head(data, origin)
    unread = list(_unread(data, ()))
    found: list[tuple[tuple[Any, ...], str]] = [(loc, value.why) for loc, value in unread]
    every = exc.errors()
    errors = [
        e
        for e in every
        if not _under(e["loc"], [loc for loc, _ in unread])
        and not isinstance(e["input"], _Unread)  # a key pbr would not read, named as "(a key)"
    ]
    faults = (
        _plan_faults(data.get("programme"), data.get("outcomes")) if isinstance(data, dict) else []
    )
    if faults:  # said at their places, for the whole plan's one error once its fields are right
        errors = [e for e in errors if e["loc"] or e["type"] != "value_error"]
    found += [(loc, why) for loc, why in faults]
    found += _unjudged_measures(data, [e["loc"] for e in errors] + [loc for loc, _ in unread])
    chosen: set[tuple[int | str, ...]] = set()
    for err in errors:
        # a list whose items failed also reports "too short": say only what is wrong inside it
        if err["type"] == "too_short" and any(
            e["loc"][: len(err["loc"])] == err["loc"] and len(e["loc"]) > len(err["loc"])
            for e in every
        ):
            continue
        if _is_problem_choice(err["loc"]):  # one error for each of the union's two lists
            if err["loc"][:3] not in chosen:
                chosen.add(err["loc"][:3])
                found.append(
                    (
                        err["loc"][:3],
                        f"{_problem_choice(data)} (got {_shown_input(err['input'])})",
                    )
                )
            continue
        message = in_users_terms(err)[1].removeprefix("Value error, ")  # an array, not a Tuple
        shows_value = err["type"] in ("value_error", "missing", *_NAMES_ITS_VALUE)
        got = "" if shows_value else f" (got {_shown_input(err['input'])})"
        if err["loc"] == ("version",) and err["type"] == "string_type":
            message, got = _unquoted_version(err["input"], message, got)
        elif err["type"] == "number_type" and isinstance(err["input"], float | date | time):
            said = message.rpartition(", got ")[0]  # Python's name for a date: "datetime ..."
            message = f"{said}, got {_kind(err['input'])}{_shown_input(err['input'])}"
            message += _quote_float(err["input"]) if isinstance(err["input"], float) else ""
        found.append((err["loc"], f"{message}{got}"))
    found.sort(key=lambda item: (*_order(item[0]), _LAST))  # a place's own after its fields
    return [f"{head}: {_where(loc, data)}: {why}" for loc, why in found]


def _unquoted_version(value: Any, message: str, got: str) -> tuple[str, str]:
    """A version given as a number, date or flag: say it is text, and how to write it.

    TOML and YAML read ``2023-04-01`` as a date, ``1.10`` as the number 1.1: quoted, it is the
    version as written. Anything else keeps pydantic's `message` and the value `got`.
    """
    if not isinstance(value, int | float | date | time):  # a flag is an int
        return message, got
    shown = _shown_input(value)
    return f'a version must be quoted text: write "{shown}"', f" (got {_kind(value)}{shown})"


def _kind(value: Any) -> str:
    """What a plan file's value is, before it is shown: ``the date `` 2023-04-01."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return "the number "
    if isinstance(value, datetime):
        return "the date and time "
    if isinstance(value, date):
        return "the date "
    return "the time " if isinstance(value, time) else ""


def _quote_float(value: float) -> str:
    """What to write for a float given as a threshold: the decimal it is, in quotes, if it fits.

    A float is refused to keep thresholds exact; the council's ``1e2`` or ``0.5`` is the decimal
    ``"100"`` or ``"0.5"`` as text.
    """
    text = value.text if isinstance(value, _Float) else repr(value)
    try:
        decimal = number_text(Decimal(text.replace("_", "")))
        exact_number(decimal)
    except (InvalidOperation, ValueError):  # YAML 1.1's base 60 (1:30.5), or out of bounds
        return ""
    return (
        f': quote it ("{decimal}"): pbr reads a number with a point or an exponent only as '
        "text, to read it exactly"
    )


def _under(loc: tuple[Any, ...], places: list[tuple[Any, ...]]) -> bool:
    """Whether `loc` is one of `places` or inside one."""
    return any(loc[: len(place)] == place for place in places)


def _unjudged_measures(
    data: Any, failed: list[tuple[Any, ...]]
) -> list[tuple[tuple[Any, ...], str]]:
    """`_measure_faults` of each measure with a field wrong, which `Measure` did not get to ask."""
    measures = {
        loc[:4]
        for loc in failed
        if len(loc) > 4
        and loc[0::2][:2] == ("outcomes", "measures")
        and isinstance(loc[1], int)
        and isinstance(loc[3], int)
    }
    found = []
    for loc in sorted(measures):
        raw = _index(_index(data, "outcomes", loc[1]), "measures", loc[3])
        if not isinstance(raw, dict):
            continue
        given = [n for n in _SUSTAIN if raw.get(n) is not None]  # refused or not, it was given
        aggregate = raw.get("aggregate")
        chosen = aggregate if aggregate in get_args(Aggregate) else None
        found += [(loc, why) for why in _measure_faults(given, raw.get("indicator"), chosen)]
    return found


_LAST = 1 << 62
"""After every place inside: what is wrong with a measure as a whole is said after its fields."""


def _order(loc: tuple[Any, ...]) -> tuple[int, ...]:
    """Where `loc` comes in the plan: by outcome and measure, then in the model's field order.

    Pydantic lists a model's errors in its fields' order; a value a loader would not read, or a
    problem across fields, is put among them at its place.
    """
    models = iter((Outcome, Measure))
    fields = list(OutcomePlan.model_fields)
    order = []
    for key in loc:
        if isinstance(key, int):  # an item of outcomes (an Outcome) or of measures (a Measure)
            order.append(key)
            fields = list(next(models, Measure).model_fields)
        else:
            order.append(fields.index(key) if key in fields else len(fields))
    return tuple(order)


_NAMES_ITS_VALUE = ("number_too_large", "number_parsing", "number_type")
"""`pbr._scalars.exact_number`'s errors, whose message shows the value itself (shortened)."""


def _is_problem_choice(loc: tuple[int | str, ...]) -> bool:
    """Whether `loc` is one of the two lists `Outcome.problem` may be from (pydantic's union)."""
    return (
        len(loc) == 4
        and loc[0] == "outcomes"
        and loc[2] == "problem"
        and str(loc[3]).startswith("literal[")
    )


def _problem_choice(data: Any) -> str:
    """What an outcome's problem should be: one of the plan's programme's (or either's)."""
    programme = data.get("programme") if isinstance(data, dict) else None
    if isinstance(programme, str) and programme in _PROBLEMS:
        return f"Input should be one of {programme}'s problems: {', '.join(_PROBLEMS[programme])}"
    return "Input should be one of a programme's problems: " + "; ".join(
        f"{name}'s {', '.join(problems)}" for name, problems in _PROBLEMS.items()
    )


def _shown_input(value: Any) -> str:
    """A bad value as a plan file writes it, cut at 60 characters; a long number by its size.

    ``true``, ``null``, ``2023-04-01`` and a float as written (``1.10``), not Python's ``True``,
    ``None``, ``datetime.date(2023, 4, 1)`` and ``1.1``; text and the rest as Python writes them.
    """
    if isinstance(value, bool) or value is None:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return shown_number(value)
    if isinstance(value, date | time):  # a datetime too: TOML's date-times are ISO 8601
        return value.isoformat()
    try:
        shown = repr(value)
    except ValueError:  # an integer inside of over 4,300 digits, which Python will not write
        return f"a {type(value).__name__} too large to show"
    return shown if len(shown) <= 60 else shown[:59] + "…"


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A readable path: ``outcomes[0] (education) measure 'attendance': comparison``."""
    out = ""
    node = data
    i = 0
    while i < len(loc):
        key, nxt = loc[i], loc[i + 1] if i + 1 < len(loc) else None
        if key in ("outcomes", "measures") and isinstance(nxt, int):
            parent, node = node, _index(node, str(key), nxt)
            name = (
                node.get("problem" if key == "outcomes" else "id")
                if isinstance(node, dict)
                else None
            )
            if key == "outcomes":
                shown = f" ({name})" if isinstance(name, str) and name else ""
                out += f"{': ' if out else ''}outcomes[{nxt}]{shown}"
            elif not isinstance(name, str):
                out += f" measure [{nxt}]"
            elif _id_count(parent, name) > 1:  # its id is another's too: its place tells them apart
                out += f" measure {name!r} (measures[{nxt}])"
            else:
                out += f" measure {name!r}"
            i += 2
        else:
            out += f"{': ' if out else ''}{key}"
            i += 1
    return out or "(whole plan)"


def _id_count(outcome: Any, given: str) -> int:
    """How many of an outcome's measures (as written) have the id `given`."""
    measures = outcome.get("measures") if isinstance(outcome, dict) else None
    if not isinstance(measures, list | tuple):
        return 0
    return sum(1 for m in measures if isinstance(m, dict) and m.get("id") == given)


def _index(node: Any, key: str, index: int) -> Any:
    if isinstance(node, dict):
        seq = node.get(key)
        if isinstance(seq, list | tuple) and 0 <= index < len(seq):
            return seq[index]
    return None


@cache
def example_plan(programme: str) -> OutcomePlan:
    """The documented example plan `pbr` ships for `programme` (a starting point, not a real plan).

    >>> example_plan("supporting-families").label
    'pbr-example-sf-outcomes/1.0'
    """
    names = {
        "tf-phase-2": "plan_phase_two.toml",
        "supporting-families": "plan_supporting_families.toml",
    }
    if programme not in names:
        raise PlanError(f"no example plan for {programme!r}; choose from {', '.join(names)}")
    text = resources.files("pbr.rules").joinpath(names[programme]).read_text("utf-8")
    return parse_plan(tomllib.loads(text), origin=f"pbr/rules/{names[programme]}")


# --- Measuring -------------------------------------------------------------------------------

_DEFAULT_CALENDAR = TermCalendar()


def measure_window(
    measure: Measure, as_of: date, term_calendar: TermCalendar
) -> tuple[date, date, tuple[SchoolTerm, ...]]:
    """The sustain period judged at `as_of`: (first day excluded, last day included, terms).

    Day, week and month periods are the half-open ``(as_of − period, as_of]``, as phase one's
    "last 6 months"; a term period is the `n` latest terms complete at `as_of`, so it ends on the
    last one's last day, not on `as_of`.
    """
    if measure.sustain_terms is not None:
        terms = term_calendar.complete_terms(as_of, measure.sustain_terms)
        return terms[0].start - timedelta(days=1), terms[-1].end, tuple(terms)
    if measure.sustain_months is not None:
        return add_months(as_of, -measure.sustain_months), as_of, ()
    return as_of - timedelta(days=_days(measure)), as_of, ()


def earliest_window_end(measure: Measure, attached_on: date, term_calendar: TermCalendar) -> date:
    """The first evaluation date whose sustain period lies wholly after the attachment day.

    The first `as_of` for which `measure_window` gives a period whose excluded lower end is on
    or after `attached_on`, so that its first day comes after the attachment day (a property
    test holds it to that: the day before, the period begins on or before that day).

    >>> m = Measure.model_validate({"id": "m", "indicator": "eviction_notice",
    ...     "comparison": "==", "threshold": 0, "sustain_months": 6})
    >>> from pbr.rules import PHASE_TWO
    >>> earliest_window_end(m, date(2016, 8, 31), PHASE_TWO.term_calendar)
    datetime.date(2017, 3, 1)
    """
    if measure.sustain_terms is not None:
        day = attached_on
        while True:
            terms = term_calendar.complete_terms(day, measure.sustain_terms)
            if terms[0].start > attached_on:
                return terms[-1].end
            ahead = term_calendar.complete_terms(day + timedelta(days=400), 6)
            day = min(t.end for t in ahead if t.end > day)
    if measure.sustain_months is not None:
        # the first day whose period (day − n months, day] lies wholly after attachment: n
        # months after it, or a day or three later when it falls at the end of a longer month
        # (attached 31 August, 6 months: the period to 28 February, (28 August, 28 February],
        # begins on 29 August, before attachment)
        months = measure.sustain_months
        day = add_months(attached_on, months)
        while add_months(day, -months) < attached_on:
            day += timedelta(days=1)
        return day
    return attached_on + timedelta(days=_days(measure))


def window_terms(
    low: date,
    high: date,
    terms: tuple[SchoolTerm, ...],
    term_calendar: TermCalendar = _DEFAULT_CALENDAR,
) -> tuple[SchoolTerm, ...]:
    """The school terms a sustain period reads: a period of terms' own, else those ending in it.

    A period of days, weeks or months reads `term_calendar`'s terms ending in ``(low, high]``
    (the rule set's calendar: a council's own dates decide which terms those are), as
    `indicator_values` reads the rows.

    >>> [t.label for t in window_terms(date(2016, 12, 31), date(2017, 7, 31), ())]
    ['2016/17 spring', '2016/17 summer']
    """
    if terms:
        return terms
    count = 3 * ((high - low).days // 365 + 2)  # more terms than the period can end
    return tuple(t for t in term_calendar.complete_terms(high, count) if t.end > low)


def missing_terms(
    family: Family, terms: tuple[SchoolTerm, ...]
) -> tuple[tuple[str, tuple[SchoolTerm, ...]], ...]:
    """Each member of compulsory school age in some of `terms` with no school-term row for it.

    As phase one's MISSING_SCHOOL_TERM: missing evidence is not assumed good, so a measure
    over school terms needs every such child's row for every term of its period. By person_id.
    """
    have = {(r.person_id, r.academic_year, r.term) for r in family.school_terms}
    found = []
    for member in sorted(family.members, key=lambda m: m.person_id):
        missed = tuple(
            t
            for t in terms
            if compulsory_school_age_in(member.date_of_birth, t)
            and (member.person_id, t.academic_year, t.name) not in have
        )
        if missed:
            found.append((member.person_id, missed))
    return tuple(found)


def _days(measure: Measure) -> int:
    return (
        measure.sustain_days
        if measure.sustain_days is not None
        else 7 * (measure.sustain_weeks or 0)
    )


def indicator_values(
    family: Family,
    measure: Measure,
    low: date,
    high: date,
    terms: tuple[SchoolTerm, ...],
    as_of: date,
    term_calendar: TermCalendar = _DEFAULT_CALENDAR,
) -> tuple[Decimal | Fraction | None, int]:
    """The aggregate of `measure.indicator` over ``(low, high]``: (value or None, rows used).

    A school-term indicator over a period of days, weeks or months reads the rows of the terms
    ending in it by `term_calendar` (the rule set's).

    The value is exact: a `Decimal` whenever a decimal writes it exactly (counts, sums, maxima,
    minima, latest values, and a mean or rate such as 3.5), else a `Fraction` (a mean of 1, 1 and
    2 is 4/3). No arithmetic rounds, whatever the caller's `decimal` context.

    A `count` or `latest` of readings `unreadable_readings` names is no value to judge: the
    caller asks it first (this then counts every reading, and reads the last day's largest).
    """
    name = measure.indicator
    if name in ("offences", "asb_incidents"):
        events = family.offences if name == "offences" else family.asb_incidents
        n = sum(1 for e in events if low < e.date <= high)
        return Decimal(n), n
    if name in SCHOOL_TERM_INDICATORS:
        if terms:
            keys = {(t.academic_year, t.name) for t in terms}
            rows = [r for r in family.school_terms if (r.academic_year, r.term) in keys]
        else:
            rows = [
                r
                for r in family.school_terms
                if low < term_calendar.term(r.academic_year, r.term).end <= high
            ]
        if not rows:  # no term's evidence: not a sum of 0, nor a rate
            return None, 0
        if name == "fixed_term_exclusions":
            return Decimal(sum(r.fixed_term_exclusions for r in rows)), len(rows)
        possible = sum(r.possible_sessions for r in rows)
        if possible == 0:
            return None, len(rows)
        absent = sum(r.unauthorised_absences for r in rows)
        return exact(Fraction(100 * absent, possible)), len(rows)
    found = _readings(family, name, low, high)
    aggregate = measure.aggregate
    if aggregate == "count":
        return Decimal(len(found)), len(found)
    if not found:
        return None, 0
    values = [o.value for o in found]
    if aggregate == "sum":
        return _sum(values), len(found)
    if aggregate == "max":
        return max(values), len(found)
    if aggregate == "min":
        return min(values), len(found)
    if aggregate == "latest":  # one person's last readings agree (`unreadable_readings`);
        last = [o.value for o in found if o.date == found[-1].date]  # of several people's,
        return max(last), len(found)  # the largest, whatever their order (as before)
    return exact(Fraction(_sum(values)) / len(values)), len(found)  # mean


def unreadable_readings(
    family: Family, measure: Measure, low: date, high: date
) -> tuple[Observation, ...]:
    """The readings in ``(low, high]`` that `measure`'s aggregate cannot read; none if it can.

    `latest`: the last day's readings of one person (or of the household, no person named)
    when they disagree (pbr never chooses between contradictory evidence; readings of several
    people that day are several facts, and the largest is read); `count`: each reading whose
    value is not 1 (a count counts events, and an event's value is 1). Built-in indicators are
    read from the record's own lists.

    >>> fam = Family.model_validate({"family_id": "F", "attached_on": "2016-01-04",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}], "observations": [
    ...     {"indicator": "x", "date": "2016-06-20", "value": v} for v in (1, "1.0", 0)]})
    >>> m = Measure.model_validate({"id": "m", "indicator": "x", "aggregate": "latest",
    ...     "comparison": ">=", "threshold": 1, "sustain_months": 3})
    >>> [str(o.value) for o in unreadable_readings(fam, m, date(2016, 3, 31), date(2016, 6, 30))]
    ['1', '1.0', '0']
    """
    aggregate = measure.effective_aggregate
    if aggregate not in ("count", "latest") or measure.indicator in BUILT_IN_INDICATORS:
        return ()
    found = _readings(family, measure.indicator, low, high)
    if aggregate == "count":
        return tuple(o for o in found if o.value != 1)
    last = tuple(o for o in found if o.date == found[-1].date) if found else ()
    for person in dict.fromkeys(o.person_id for o in last):
        theirs = tuple(o for o in last if o.person_id == person)
        if len({o.value for o in theirs}) > 1:  # 1 and 1.0 agree
            return theirs
    return ()


def _readings(family: Family, name: str, low: date, high: date) -> list[Observation]:
    """The observations of indicator `name` in ``(low, high]``, by date (one day's as given)."""
    return sorted(
        (o for o in family.observations if o.indicator == name and low < o.date <= high),
        key=lambda o: o.date,
    )


_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation])
"""Addition that never rounds (only as many digits as the sum has), whatever the caller's context."""


def _sum(values: Iterable[Decimal]) -> Decimal:
    return reduce(_EXACT.add, values, Decimal(0))


def exact(value: Fraction) -> Decimal | Fraction:
    """`value` as a `Decimal` when a decimal writes it exactly, else the `Fraction` itself.

    >>> exact(Fraction(7, 2)), exact(Fraction(4, 3))
    (Decimal('3.5'), Fraction(4, 3))
    """
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return value
    places = max(twos, fives)
    scaled = value.numerator * 10**places // value.denominator  # exact: 10^places is a multiple
    return Decimal(f"{scaled}E-{places}")  # from text: no context, no rounding


SHOWN_PLACES = 16
"""Decimal places shown for a value no decimal writes exactly (a mean of 4/3): more than the 12 a
threshold can have, so the value shown differs from a threshold it does not equal."""


def shown_value(value: Decimal | Fraction) -> tuple[str, str | None]:
    """How a reason shows a measure's value: (decimal text, the exact fraction or None).

    Exact values are written in full, without exponent or trailing zeros (``"0.000000000001"``,
    ``"3"`` for 3.00). A value no decimal writes exactly is rounded to `SHOWN_PLACES` places, and
    the fraction (``"4/3"``) is given too, since that is the value compared.

    >>> shown_value(Decimal("1E-12")), shown_value(Decimal("2.50")), shown_value(Fraction(4, 3))
    (('0.000000000001', None), ('2.5', None), ('1.3333333333333333', '4/3'))
    """
    if isinstance(value, Fraction):
        rounded = exact(Fraction(round(value * 10**SHOWN_PLACES), 10**SHOWN_PLACES))
        assert isinstance(rounded, Decimal)
        return _plain(rounded), f"{value.numerator}/{value.denominator}"
    return _plain(value), None


def _plain(value: Decimal) -> str:
    text = number_text(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def compare(value: Decimal | Fraction, comparison: str, threshold: Decimal) -> bool:
    """Whether ``value comparison threshold`` holds, exactly: neither side is rounded.

    A `Fraction` is compared with the threshold's exact value.

    >>> compare(Fraction(4, 3), "==", Decimal("1.333333333333"))
    False
    >>> compare(Decimal("1E-12"), ">", Decimal(0))
    True
    """
    if isinstance(value, Fraction):
        given = Fraction(threshold)
        order = (value > given) - (value < given)
    else:
        order = (value > threshold) - (value < threshold)
    return {
        "<": order < 0,
        "<=": order <= 0,
        "==": order == 0,
        "!=": order != 0,
        ">=": order >= 0,
        ">": order > 0,
    }[comparison]
