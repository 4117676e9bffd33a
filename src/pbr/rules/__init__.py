"""Rule sets: cited, dated parameters plus named interpretations, loaded from data files.

`PHASE_ONE` is the Troubled Families phase-one rule set. Variants with other interpretations are
cheap (they share the loaded data):

>>> from pbr.rules import PHASE_ONE
>>> PHASE_ONE.interpretation("employment_weeks")
'jsa_26_other_13'
>>> PHASE_ONE.with_interpretations(employment_weeks="all_13").interpretation("employment_weeks")
'all_13'
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from pbr._arguments import spaced_interpretation
from pbr._frozen import read_only
from pbr.errors import RulesDataError, UnknownInterpretation
from pbr.money import money
from pbr.periods import FinancialYear, TermCalendar, financial_year_of

__all__ = [
    "PHASE_ONE",
    "PHASE_TWO",
    "RULE_SETS",
    "SUPPORTING_FAMILIES",
    "DatedValue",
    "Interpretation",
    "Parameter",
    "RuleSet",
    "Source",
    "bundled_rule_set",
    "load_rule_set",
    "sources",
]


class Codes(tuple[str, ...]):
    """A parameter that is a list of codes (the out-of-work benefits), shown as ``JSA, ESA``.

    >>> str(PHASE_ONE.parameters["out_of_work_benefits"].values[0].value)
    'JSA, ESA, IB, IS, CA, SDA'
    """

    __slots__ = ()

    def __str__(self) -> str:
        return ", ".join(self)


ParameterValue = Decimal | int | Fraction | date | Codes
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Source:
    """A cited source from tf-rules.md's source list.

    >>> source = sources()["S2"]
    >>> source.tag, source.kind
    ('S2', 'council paper quoting FF 2012')
    """

    tag: str
    where: str
    kind: str


@dataclass(frozen=True, slots=True)
class DatedValue:
    """A parameter's value in force from the start of a financial year, with its provenance.

    >>> dated = PHASE_ONE.parameters["attachment_fee"].values[0]
    >>> str(dated.year), dated.value, dated.source, dated.status
    ('2012/13', Decimal('3200.00'), ('S2', 'S1'), 'confirmed')
    """

    year: FinancialYear
    value: ParameterValue
    source: tuple[str, ...]
    status: str
    source_text: str = field(init=False, repr=False, compare=False)
    """The source tags joined for display, e.g. ``"S2, S1"`` (joined once: reasons cite it for
    every family).

    >>> PHASE_ONE.parameters["attachment_fee"].values[0].source_text
    'S2, S1'
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", tuple(self.source))  # read-only, whatever was given
        object.__setattr__(self, "source_text", ", ".join(self.source))


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named rule value that may change by financial year.

    >>> fee = PHASE_ONE.parameters["attachment_fee"]
    >>> fee.unit, [str(v.value) for v in fee.values]
    ('GBP', ['3200.00', '2400.00', '1600.00'])
    """

    name: str
    description: str
    unit: str
    values: tuple[DatedValue, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))  # read-only, whatever was given

    def at(self, year: FinancialYear) -> DatedValue:
        """Return the value in force in `year` (the latest one starting on or before it).

        >>> from pbr.periods import FinancialYear
        >>> PHASE_ONE.parameters["attachment_fee"].at(FinancialYear(2014)).value
        Decimal('1600.00')
        """
        current: DatedValue | None = None
        for dated in self.values:
            if dated.year <= year:
                current = dated
        if current is None:
            raise KeyError(f"parameter {self.name!r} has no value for {year}")
        return current


@dataclass(frozen=True, slots=True)
class Interpretation:
    """A named reading of an ambiguous rule: its default and every allowed value.

    >>> weeks = PHASE_ONE.interpretations["employment_weeks"]
    >>> weeks.default, list(weeks.values)
    ('jsa_26_other_13', ['jsa_26_other_13', 'all_13'])
    """

    id: str
    description: str
    source: str
    default: str
    values: Mapping[str, str]
    """Each allowed value and what it means: read-only (a copy of the mapping given)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", read_only(self.values))


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A programme's rules: dated parameters, interpretations (with the values chosen) and terms.

    Build variants with `with_interpretations` and `with_term_calendar`; a rule set is never
    changed in place. Its mappings are read-only views of copies of those it was given (a view
    already read-only is shared, as variants share their data): its hash is its data file's,
    so data changed in memory would pay other amounts under the same hash.

    >>> from pbr.periods import FinancialYear
    >>> PHASE_ONE.amount("attachment_fee", FinancialYear(2013)), PHASE_ONE.sources_of("cap")
    (Decimal('2400.00'), 'S1, S4, S5')
    """

    programme: str
    title: str
    version: str
    spec: str
    attached_from: date
    attached_to: date
    parameters: Mapping[str, Parameter]
    interpretations: Mapping[str, Interpretation]
    chosen: Mapping[str, str]
    term_calendar: TermCalendar = field(default_factory=TermCalendar)
    data_sha256: str = ""
    rule_sources: Mapping[str, str] = field(default_factory=dict)
    """Each rule's source tags (its parameters' and its own), from the data's ``[rules]`` table."""
    forecast_from: date | None = None
    """The first attachment day a funding forecast counts (earlier families are early starters,
    evaluated but not in the funding model); None: `attached_from`."""
    _memo: dict[str | tuple[object, ...], Any] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )
    """Values derived from the data only (never from interpretations); shared by variants."""

    def __post_init__(self) -> None:
        for name in _MAPPINGS:
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def __getstate__(self) -> list[object]:
        """Its fields for pickling (to a worker), without the memo, worked out again there.

        Some of what the memo holds is compiled (`pbr._native`) and cannot be unpickled.
        """
        return [{} if f.name == "_memo" else getattr(self, f.name) for f in fields(self)]

    def __hash__(self) -> int:
        """A hash of its identity: programme, data file and the choices made (dict keys, sets).

        Equal rule sets hash equal: these fields are compared too. Its mappings are read-only
        dicts, not hashable themselves, so the data is stood for by its file's hash.
        """
        return hash(
            (
                self.programme,
                self.version,
                self.data_sha256,
                self.attached_from,
                self.attached_to,
                frozenset(self.chosen.items()),
            )
        )

    @property
    def rules_version(self) -> str:
        """``"tf-phase-1/1.0"``: the programme and the version of its data file.

        >>> PHASE_ONE.rules_version
        'tf-phase-1/1.0'
        """
        return f"{self.programme}/{self.version}"

    @property
    def years(self) -> tuple[FinancialYear, ...]:
        """The financial years in which families can be attached.

        >>> [str(year) for year in PHASE_ONE.years]
        ['2012/13', '2013/14', '2014/15']
        """
        years: tuple[FinancialYear, ...] | None = self._memo.get(("years",))
        if years is None:
            first = financial_year_of(self.attached_from).start_year
            last = financial_year_of(self.attached_to).start_year
            years = tuple(FinancialYear(y) for y in range(first, last + 1))
            self._memo["years",] = years
        return years

    def covers(self, attached_on: date) -> bool:
        """Whether a family attached on `attached_on` falls under this rule set.

        >>> PHASE_ONE.covers(date(2015, 3, 31)), PHASE_ONE.covers(date(2015, 4, 1))
        (True, False)
        """
        return self.attached_from <= attached_on <= self.attached_to

    def parameter(self, name: str, year: FinancialYear) -> DatedValue:
        """Return parameter `name` in force in `year`.

        >>> PHASE_ONE.parameter("cap", PHASE_ONE.years[0]).source_text
        'S1, S4, S5'
        """
        # Memoised: every family asks for the fee, the cap and the rates of its year.
        key = ("parameter", name, year.start_year)
        found: DatedValue | None = self._memo.get(key)
        if found is None:
            try:
                found = self._memo[key] = self.parameters[name].at(year)
            except KeyError:
                raise KeyError(f"rule set {self.rules_version} has no parameter {name!r}") from None
        return found

    def amount(self, name: str, year: FinancialYear) -> Decimal:
        """Return money parameter `name` in force in `year`.

        >>> PHASE_ONE.amount("continuous_employment", PHASE_ONE.years[-1])
        Decimal('2400.00')
        """
        value = self.parameter(name, year).value
        if not isinstance(value, Decimal):
            raise TypeError(f"parameter {name!r} is not money: {value!r}")
        return value

    def number(self, name: str, year: FinancialYear | None = None) -> int:
        """Return whole-number parameter `name` (months, weeks, percent, count) in `year`.

        >>> PHASE_ONE.number("employment_weeks_jsa")
        26
        """
        # The rules ask for a number per family many times over: a name alone is the key for
        # the first year (the usual call), kept apart from the tuple keys of other memos.
        key: str | tuple[str, str, int] = (
            name if year is None else ("number", name, year.start_year)
        )
        found: int | None = self._memo.get(key)
        if found is not None:
            return found
        value = self.parameter(name, year or self.years[0]).value
        if not isinstance(value, int):
            raise TypeError(f"parameter {name!r} is not a whole number: {value!r}")
        self._memo[key] = value
        return value

    def sources_of(self, *names: str) -> str:
        """Return the source tags of parameters `names`, de-duplicated, in order: ``"S1, S3"``.

        >>> PHASE_ONE.sources_of("attachment_fee", "cap")
        'S2, S1, S4, S5'
        """
        key = ("sources", *names)
        found: str | None = self._memo.get(key)
        if found is None:
            tags: list[str] = []
            for name in names:
                for value in self.parameters[name].values:
                    tags.extend(t for t in value.source if t not in tags)
            found = self._memo[key] = ", ".join(tags)
        return found

    def source_of_rule(self, rule: str) -> str:
        """The source tags a rule's reasons cite: the rule's own entry, or its nearest parent's.

        >>> PHASE_ONE.source_of_rule("identification.eligibility")
        'S45, S1, S8'
        >>> PHASE_ONE.source_of_rule("results.crime_asb_education.asb")
        'S1, S3, S15, P1-SPEC'

        Raises:
            RulesDataError: no entry for the rule or any parent (a rule needs a source).

        """
        found = self.rule_sources.get(rule)
        if found is not None:
            return found
        key = ("source_of_rule", rule)
        memo: str | None = self._memo.get(key)  # a parent's, found before
        if memo is not None:
            return memo
        parent = rule
        while "." in parent:
            parent = parent.rsplit(".", 1)[0]
            found = self.rule_sources.get(parent)
            if found is not None:
                self._memo[key] = found
                return found
        raise RulesDataError(f"rule set {self.rules_version} cites no source for rule {rule!r}")

    def _derived(self, key: tuple[object, ...], build: Callable[[], _T]) -> _T:
        """`build()`, kept for the next call with `key` (for the programmes' hot paths).

        Shared by the variants of this rule set, so only for values derived from its data:
        `key` must name every interpretation the value depends on.
        """
        found: _T | None = self._memo.get(key)
        if found is None:
            found = self._memo[key] = build()
        return found

    def day(self, name: str, year: FinancialYear | None = None) -> date:
        """Return date parameter `name` in `year`.

        >>> PHASE_ONE.day("results_claims_until")
        datetime.date(2015, 5, 31)
        """
        value = self.parameter(name, year or self.years[0]).value  # memoised there
        if not isinstance(value, date):
            raise TypeError(f"parameter {name!r} is not a date: {value!r}")
        return value

    def claims_until(self) -> date | None:
        """The programme's last day for results claims, if it had one (phase one: May 2015).

        Supporting Families' is the end of its 2022-25 guidance (S39); no source gives phase
        two's (tf-rules §2: claim windows UNCERTAIN), so it has none.

        >>> PHASE_ONE.claims_until(), PHASE_TWO.claims_until(), SUPPORTING_FAMILIES.claims_until()
        (datetime.date(2015, 5, 31), None, datetime.date(2025, 3, 31))
        """
        if "results_claims_until" not in self.parameters:
            return None
        return self.day("results_claims_until")

    def fraction(self, name: str, year: FinancialYear | None = None) -> Fraction:
        """Return fraction parameter `name` (such as 5/6) in `year`.

        >>> PHASE_ONE.fraction("funded_fraction")
        Fraction(5, 6)
        """
        value = self.parameter(name, year or self.years[0]).value
        if not isinstance(value, Fraction):
            raise TypeError(f"parameter {name!r} is not a fraction: {value!r}")
        return value

    def codes(self, name: str, year: FinancialYear | None = None) -> frozenset[str]:
        """Return code-list parameter `name` (such as the out-of-work benefits) in `year`.

        >>> sorted(PHASE_ONE.codes("out_of_work_benefits"))
        ['CA', 'ESA', 'IB', 'IS', 'JSA', 'SDA']
        """
        # a name alone is the key for the first year (the rules' call, once a family)
        key = ("codes", name) if year is None else ("codes", name, year.start_year)
        found: frozenset[str] | None = self._memo.get(key)
        if found is None:
            value = self.parameter(name, year or self.years[0]).value
            if not isinstance(value, Codes):
                raise TypeError(f"parameter {name!r} is not a list of codes: {value!r}")
            found = self._memo[key] = frozenset(value)
        return found

    def interpretation(self, interpretation_id: str) -> str:
        """Return the value chosen for `interpretation_id`.

        >>> PHASE_ONE.interpretation("rates_by")
        'attachment_year'
        """
        try:
            return self.chosen[interpretation_id]
        except KeyError:
            raise UnknownInterpretation(
                f"unknown interpretation {interpretation_id!r}", valid=sorted(self.interpretations)
            ) from None

    def with_interpretations(self, **choices: str) -> RuleSet:
        """Return this rule set with other interpretation values; the data is shared, not rebuilt.

        >>> PHASE_ONE.with_interpretations(rates_by="claim_year").interpretation("rates_by")
        'claim_year'

        Raises:
            UnknownInterpretation: an id or a value the rule set does not define, or one with
                spaces around it (never trimmed).

        """
        for key, value in choices.items():
            definition = self.interpretations.get(key)
            if definition is None:
                raise UnknownInterpretation(
                    spaced_interpretation(key, None) or f"unknown interpretation {key!r}",
                    valid=sorted(self.interpretations),
                )
            spaced = spaced_interpretation(key, value)
            if spaced is not None:
                raise UnknownInterpretation(spaced, valid=list(definition.values))
            if value not in definition.values:
                raise UnknownInterpretation(
                    f"interpretation {key!r} has no value {value!r}", valid=list(definition.values)
                )
        return replace(self, chosen={**self.chosen, **choices})

    def with_term_calendar(self, calendar: TermCalendar) -> RuleSet:
        """Return this rule set using a council's own school term dates.

        Its decisions name a calendar that overrides some term: every reason reading the dates
        of a term it overrides gives its name in ``compared["term_calendar"]`` and at its
        message's end. The rules hash counts its dates and name; `pbr.replay.replay` takes
        this rule set as ``rules=`` to replay such a decision.

        >>> from pbr.periods import TermCalendar
        >>> own = TermCalendar({("2012/13", "autumn"): (date(2012, 9, 4), date(2012, 12, 20))})
        >>> PHASE_ONE.with_term_calendar(own).term_calendar.term("2012/13", "autumn").end
        datetime.date(2012, 12, 20)

        Raises:
            TypeError: `calendar` is not a `pbr.TermCalendar`.
            pbr.errors.CalendarError: it says what no calendar file may (a term that ends before
                it starts, overlaps another, or is not a term of an academic year; a name that is
                not printable text): `pbr.calendars.check_term_calendar`.

        """
        from pbr._arguments import check_term_calendar

        if calendar is None:
            raise TypeError("with_term_calendar takes a pbr.TermCalendar, not None")
        check_term_calendar(calendar)
        return replace(self, term_calendar=calendar)

    @property
    def is_default(self) -> bool:
        """Whether every interpretation has its default value.

        >>> PHASE_ONE.is_default, PHASE_ONE.with_interpretations(rates_by="claim_year").is_default
        (True, False)
        """
        return all(self.chosen[k] == i.default for k, i in self.interpretations.items())


_MAPPINGS = ("parameters", "interpretations", "chosen", "rule_sources")
"""A rule set's mappings, each held read-only."""


@cache
def sources() -> Mapping[str, Source]:
    """Return the cited sources (tf-rules.md's source list) keyed by tag.

    >>> sources()["S39"].kind
    'DLUHC guidance'
    """
    text = resources.files("pbr.rules").joinpath("sources.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return read_only({tag: Source(tag, row["where"], row["kind"]) for tag, row in data.items()})


def _value(name: str, unit: str, raw: Any, where: str) -> ParameterValue:
    if isinstance(raw, float):
        raise RulesDataError(f"{where}: {name} is a float ({raw!r}); write money as a string")
    if unit == "GBP":
        try:
            return money(raw)
        except (TypeError, ValueError) as exc:
            raise RulesDataError(f"{where}: {name}: {exc}") from None
    if unit == "date":
        if type(raw) is not date:  # TOML's dates; a date and time is not one
            raise RulesDataError(f"{where}: {name} must be a date like 2015-05-31, got {raw!r}")
        return raw
    if unit == "fraction":
        if not isinstance(raw, str):
            raise RulesDataError(f"{where}: {name} must be a fraction string like '5/6'")
        return Fraction(raw)
    if unit == "codes":
        if (
            not isinstance(raw, list)
            or not all(isinstance(code, str) and code for code in raw)
            or len(set(raw)) != len(raw)
        ):
            raise RulesDataError(
                f'{where}: {name} must be a list of distinct codes like ["JSA", "ESA"], got {raw!r}'
            )
        return Codes(raw)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise RulesDataError(f"{where}: {name} must be a whole number, got {raw!r}")
    return raw


def load_rule_set(text: str, *, origin: str = "<rules>") -> RuleSet:
    """Build a `RuleSet` from a TOML document, checking every value and source tag.

    >>> rules = load_rule_set(chr(10).join([
    ...     'programme = "my-programme"', 'title = "A test programme"', 'version = "0.1"',
    ...     'spec = "none"', "attached_from = 2012-04-01", "attached_to = 2013-03-31",
    ...     "[parameters.cap]", 'description = "Cap per family."', 'unit = "GBP"',
    ...     'values = [{year = "2012/13", value = "4000", source = ["S1"]}]']))
    >>> rules.rules_version, rules.amount("cap", rules.years[0])
    ('my-programme/0.1', Decimal('4000.00'))
    >>> load_rule_set(chr(10).join([
    ...     "[parameters.cap]", 'description = "Cap."', 'unit = "GBP"',
    ...     'values = [{year = "2012/13", value = "4000", source = ["S99"]}]']), origin="mine.toml")
    Traceback (most recent call last):
    ...
    pbr.errors.RulesDataError: mine.toml: parameters.cap.values[0]: unknown source tag(s) ['S99']

    Raises:
        RulesDataError: naming the file, the key and the bad value.

    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesDataError(f"{origin}: not valid TOML: {exc}") from None
    known = sources()
    parameters: dict[str, Parameter] = {}
    for name, spec in data.get("parameters", {}).items():
        where = f"{origin}: parameters.{name}"
        values = []
        for i, row in enumerate(spec.get("values", ())):
            tags = tuple(row.get("source", ()))
            if not tags:
                raise RulesDataError(f"{where}.values[{i}]: no source tag")
            unknown = [t for t in tags if t not in known]
            if unknown:
                raise RulesDataError(f"{where}.values[{i}]: unknown source tag(s) {unknown}")
            try:
                year = FinancialYear.parse(row["year"])
            except (KeyError, ValueError) as exc:
                raise RulesDataError(f"{where}.values[{i}].year: {exc}") from None
            values.append(
                DatedValue(
                    year,
                    _value(name, spec["unit"], row.get("value"), where),
                    tags,
                    row.get("status", "confirmed"),
                )
            )
        if not values:
            raise RulesDataError(f"{where}: no values")
        parameters[name] = Parameter(name, spec["description"], spec["unit"], tuple(values))
    rule_sources = _rule_sources(data.get("rules", {}), parameters, known, origin)
    interpretations: dict[str, Interpretation] = {}
    for key, spec in data.get("interpretations", {}).items():
        if spec["default"] not in spec["values"]:
            raise RulesDataError(
                f"{origin}: interpretations.{key}.default {spec['default']!r} is not one of "
                f"{list(spec['values'])}"
            )
        interpretations[key] = Interpretation(
            key, spec["description"], spec["source"], spec["default"], dict(spec["values"])
        )
    return RuleSet(
        programme=data["programme"],
        title=data["title"],
        version=data["version"],
        spec=data["spec"],
        attached_from=data["attached_from"],
        attached_to=data["attached_to"],
        parameters=parameters,
        interpretations=interpretations,
        chosen={k: i.default for k, i in interpretations.items()},
        data_sha256=hashlib.sha256(text.encode()).hexdigest(),
        rule_sources=rule_sources,
        forecast_from=data.get("forecast_from"),
    )


def _rule_sources(
    table: Mapping[str, Any],
    parameters: Mapping[str, Parameter],
    known: Mapping[str, Source],
    origin: str,
) -> dict[str, str]:
    """Each rule's tags: those of the parameters it reads, then its own, de-duplicated."""
    out: dict[str, str] = {}
    for rule, spec in table.items():
        where = f"{origin}: rules.{rule}"
        tags: list[str] = []
        for name in spec.get("parameters", ()):
            if name not in parameters:
                raise RulesDataError(f"{where}: no parameter {name!r}")
            for dated in parameters[name].values:
                tags.extend(t for t in dated.source if t not in tags)
        own = list(spec.get("source", ()))
        unknown = [t for t in own if t not in known]
        if unknown:
            raise RulesDataError(f"{where}: unknown source tag(s) {unknown}")
        tags.extend(t for t in own if t not in tags)
        if not tags:
            raise RulesDataError(f"{where}: no source (give parameters or source tags)")
        out[rule] = ", ".join(tags)
    return out


@cache
def bundled_rule_set(name: str) -> RuleSet:
    """A rule set shipped with pbr, by its data file's name in ``pbr/rules`` (loaded once).

    >>> bundled_rule_set("phase_one.toml") is PHASE_ONE
    True
    """
    text = resources.files("pbr.rules").joinpath(name).read_text(encoding="utf-8")
    return load_rule_set(text, origin=f"pbr/rules/{name}")


PHASE_ONE: RuleSet = bundled_rule_set("phase_one.toml")
"""Troubled Families phase one (families attached 1 April 2012 – 31 March 2015)."""
PHASE_TWO: RuleSet = bundled_rule_set("phase_two.toml")
"""Troubled Families phase two (attached 1 April 2015 – 31 March 2021; early starters 2014/15)."""
SUPPORTING_FAMILIES: RuleSet = bundled_rule_set("supporting_families.toml")
"""Supporting Families (families attached 1 April 2021 – 31 March 2025)."""


if TYPE_CHECKING:
    RULE_SETS: tuple[RuleSet, ...]
    """Every programme's rule set, oldest first (computed from `pbr.programmes` when read)."""


def __getattr__(name: str) -> Any:
    if name == "RULE_SETS":  # every programme's rule set, those registered at run time included
        from pbr.programmes import programmes

        return tuple(p.rules for p in programmes())
    raise AttributeError(f"module 'pbr.rules' has no attribute {name!r}")
