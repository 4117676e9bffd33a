"""Hypothesis strategies for property-testing systems that produce or consume family records.

Install with ``pip install "pbr-claims[testing]"``. `family_records` draws plain JSON-ready
dicts (the interchange format of family-record.md), to feed `pbr` or any other system, and
`broken_family_records` and `broken_lines` draw such records and lines broken; `families` and
`families_with_as_of` draw them validated as `pbr.Family` (with a `date` to evaluate at);
`as_of_dates` and `as_of_dates_for` draw `datetime.date`, `money` `Decimal` pounds,
`financial_years` `pbr.periods.FinancialYear` and `interpretation_choices` dicts of
interpretation id to value.

A property of the money needs a family and a date to judge it at: `families_with_as_of` draws
both, the date chosen for that family (its 6-month wait, its weeks in work, its terms' ends),
so that results are met and paid, not only refused. The cap bounds the attachment fee (the
larger of the year's fee and the fees paid) plus every results payment:

>>> import pbr
>>> from hypothesis import given, settings
>>> from pbr.testing import families_with_as_of
>>> @settings(max_examples=20, database=None)
... @given(families_with_as_of("tf-phase-1"))
... def test_cap_holds(pair):
...     family, as_of = pair
...     decision = pbr.evaluate(family, as_of=as_of)
...     paid = [p for p in family.payments if p.paid_on is None or p.paid_on <= as_of]
...     fee_paid = sum(p.amount for p in paid if p.kind == "attachment_fee")
...     results_paid = decision.paid_to_date - fee_paid
...     fee = max(decision.attachment_fee, fee_paid)
...     assert fee + results_paid + decision.payable <= decision.cap
>>> test_cap_holds()

`as_of_dates_for(record)` draws the dates for a record of your own. `broken_family_records(kind)`
draws records broken in one named way (`BREAKAGES`), for testing that bad input is reported,
never silently accepted.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as exc:  # an optional extra: say which, as the forecast extra does
    if exc.name != "hypothesis":
        raise
    raise ModuleNotFoundError(
        'hypothesis is not installed; this needs the testing extra: pip install "pbr-claims[testing]"',
        name="hypothesis",
    ) from exc

from pbr.periods import (
    AS_OF_EARLIEST,
    LATEST_DATE,
    TERMS,
    FinancialYear,
    academic_year_of,
    add_months,
    compulsory_school_age_in,
    default_term,
    financial_year_of,
)

if TYPE_CHECKING:
    from pbr.plans import Measure
    from pbr.programmes import Programme
    from pbr.records import Family
    from pbr.rules import RuleSet

__all__ = [
    "BREAKAGES",
    "LINE_BREAKAGES",
    "PROGRAMMES",
    "as_of_dates",
    "as_of_dates_for",
    "broken_family_records",
    "broken_lines",
    "families",
    "families_with_as_of",
    "family_records",
    "financial_years",
    "interpretation_choices",
    "money",
]

Record = dict[str, Any]
Payments = Literal["realistic", "any"]
"""How `family_records` draws earlier payments: at the programme's own amounts, or any."""

_TERMS: Final = ("autumn", "spring", "summer")
_BENEFITS: Final = ("JSA", "ESA", "IB", "IS", "CA", "SDA", "UC")
_ASB_KINDS: Final = (None, "asbo", "asb_injunction", "abc", "housing_asb_action", "recorded_asb")
_COUNCILS: Final = ("E08000035", "Leeds", "E09000013", "Hammersmith and Fulham", "E10000016")
_DISCRETION: Final = ("domestic_abuse", "mental_health", "LD-07")
_HORIZON_DAYS: Final = 1100
"""How far after attachment `as_of_dates_for` draws, and records' evidence reaches: 3 years."""
_DAY: Final = timedelta(days=1)

BREAKAGES: Final[tuple[str, ...]] = (
    "absences_exceed_sessions",
    "bad_date",
    "bad_identifier",
    "born_after_event",
    "built_in_indicator",
    "control_character",
    "datetime_for_date",
    "duplicate_person_id",
    "duplicate_problem",
    "duplicate_term",
    "end_before_start",
    "exponent_money",
    "far_future_date",
    "float_count",
    "fractional_float_money",
    "fractional_float_observation",
    "huge_money",
    "identified_after_attachment",
    "missing_field",
    "negative_count",
    "negative_money",
    "number_for_flag",
    "payment_not_in_programme",
    "problem_not_in_programme",
    "text_for_count",
    "timestamp_for_date",
    "unknown_field",
    "unknown_person",
    "whole_float_money",
)
"""The ways `broken_family_records` can break a record; each must be rejected on validation."""


def money(*, max_pounds: int = 5000) -> st.SearchStrategy[Decimal]:
    """Whole-penny amounts from £0.00 to `max_pounds`, as `Decimal` with two places.

    >>> from hypothesis import find
    >>> find(money(), lambda m: m > 1)
    Decimal('1.01')
    """
    _whole("money()", max_pounds=max_pounds)
    return st.integers(0, max_pounds * 100).map(lambda pence: Decimal(pence).scaleb(-2))


def financial_years(first: int = 2012, last: int = 2025) -> st.SearchStrategy[FinancialYear]:
    """Financial years (April to March) starting in `first` … `last`.

    >>> from hypothesis import find
    >>> str(find(financial_years(), lambda fy: True))
    '2012/13'
    """
    _whole("financial_years()", first=first, last=last)
    if first > last:
        raise ValueError(f"financial_years(): first={first}, last={last}; need first <= last")
    return st.integers(first, last).map(FinancialYear)


def as_of_dates(after: date | None = None, before: date | None = None) -> st.SearchStrategy[date]:
    """Evaluation dates in [`after`, `before`], biased towards month, term and year edges.

    The edges are every month's last day (31 March and 31 July among them) and the first days
    of January, April and September: the ends and starts of financial years and school terms.
    A bound left out is the end of every bundled programme's span of attachment dates (1 April
    2012 to 31 March 2025), so by default dates reach every programme; a bound given may be any
    date `pbr.evaluate` accepts (`pbr.periods.AS_OF_EARLIEST` to `pbr.periods.LATEST_DATE`), and
    `after` <= `before`. Other bounds raise `ValueError`.

    These dates ignore the family: most fall before a family's attachment or long after its
    results could be judged. To judge a family, draw its dates with `as_of_dates_for` (or the
    pair with `families_with_as_of`).

    >>> from hypothesis import find
    >>> find(as_of_dates(), lambda d: True)
    datetime.date(2012, 4, 1)
    >>> find(as_of_dates(after=date(2021, 4, 1)), lambda d: True)
    datetime.date(2021, 4, 1)
    >>> find(as_of_dates(after=date(2025, 1, 1), before=date(2025, 9, 30)), lambda d: d.month > 3)
    datetime.date(2025, 4, 1)
    """
    limits = (AS_OF_EARLIEST, LATEST_DATE)
    after, before = _within(_span(), limits, "as_of_dates", after=after, before=before)
    return _near_edges(after, before)


def _near_edges(low: date, high: date) -> st.SearchStrategy[date]:
    """Dates in [`low`, `high`], half of them on a month, term or financial-year edge."""
    anywhere = st.dates(min_value=low, max_value=high)
    edges = _edges(low, high)
    return st.one_of(anywhere, st.sampled_from(edges)) if edges else anywhere


def _edges(low: date, high: date) -> list[date]:
    """Every month's last day, and 1 January, 1 April and 1 September, in [`low`, `high`]."""
    found = [
        edge
        for year in range(low.year, high.year + 1)
        for month in range(1, 13)
        for edge in (
            date(year, month, monthrange(year, month)[1]),
            *([date(year, month, 1)] if month in (1, 4, 9) else []),
        )
    ]
    return sorted(edge for edge in found if low <= edge <= high)


def as_of_dates_for(family: Family | Mapping[str, Any]) -> st.SearchStrategy[date]:
    """Evaluation dates for one family (a `pbr.Family` or a record from `family_records`).

    Drawn from attachment to three years later, a third of them on the days on which a
    decision for this family can change, each with the day before or after it:

    - the first day a result can be judged: phase one's 6 months after attachment, or in later
      programmes the first day each sustain period of the example outcome plan
      (`pbr.plans.example_plan`) for the family's problems at entry lies after attachment;
    - each employment spell's start plus 13 and 26 weeks, and its end;
    - the day each referral to the Work Programme, and each offence or ASB incident after
      attachment, leaves the last 6 months;
    - school terms' last days (31 December, 31 March, 31 July) once results can be judged,
      and a programme's last day for claims;
    - and, now and then, the day of attachment and the day before it.

    A third fall in the year after the first day every result can be judged (the last of
    those days), and a third anywhere, half of those on a month's or a financial year's edge.
    Dates stay within what `pbr.evaluate` accepts (to `pbr.periods.LATEST_DATE`), so a family
    attached late in a programme is judged after its last attachment day. A record is
    validated first: an invalid one raises pydantic's `ValidationError`.

    >>> import pbr
    >>> from hypothesis import find
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> find(as_of_dates_for(family), lambda d: True)  # the simplest: 6 months after attachment
    datetime.date(2013, 4, 15)
    """
    from pbr._arguments import check_family
    from pbr.records import Family

    chosen = Family.model_validate(family) if isinstance(family, Mapping) else family
    check_family(chosen)
    attached = chosen.attached_on
    first = min(max(attached, AS_OF_EARLIEST), LATEST_DATE)
    last = min(first + timedelta(days=_HORIZON_DAYS), LATEST_DATE)
    judged, marks = _marks(chosen)
    start = min(max(judged, first), LATEST_DATE)
    settled = st.dates(start, min(start + timedelta(days=365), LATEST_DATE))
    return st.one_of(st.sampled_from(marks), settled, _near_edges(first, last))


def _marks(family: Family) -> tuple[date, list[date]]:
    """The first day every result can be judged, and the days a decision can change.

    The days are those `as_of_dates_for` lists, the first day every result can be judged first.
    """
    from pbr.errors import OutsideProgramme
    from pbr.programmes import programme_for

    attached = family.attached_on
    try:
        chosen: Programme | None = programme_for(family)
    except OutsideProgramme:
        chosen = None
    waits: list[date] = []
    weeks = {13, 26}
    calendar = None
    if chosen is not None:
        rules = chosen.rules
        calendar = rules.term_calendar
        waits = _first_days(chosen, family)
        weeks |= {rules.number(n) for n in _WEEKS if n in rules.parameters}
    judged = waits[0] if waits else attached
    until = chosen.rules.claims_until() if chosen is not None else None
    if until is not None:
        waits.append(until + _DAY)
    front = [day for wait in waits for day in (wait, wait - _DAY)]
    marks: list[date] = [attached - _DAY, attached]
    for spell in family.employment_spells:
        for n in sorted(weeks):
            reached = spell.start + timedelta(weeks=n)
            marks += (reached, reached - _DAY)
        if spell.end is not None:
            marks += (spell.end, spell.end + _DAY)
    leaving = [r.date for r in family.work_programme] + [
        day
        for day in (*(o.date for o in family.offences), *(a.date for a in family.asb_incidents))
        if day >= attached
    ]
    for day in leaving:
        last_in = add_months(day, 6)
        marks += (last_in, last_in + _DAY)
    horizon = attached + timedelta(days=_HORIZON_DAYS)
    for start_year in range(judged.year - 1, horizon.year + 1):  # terms once results are judged
        year = f"{start_year}/{(start_year + 1) % 100:02d}"
        for name in TERMS:
            term = calendar.term(year, name) if calendar is not None else default_term(year, name)
            if judged <= term.end <= horizon:
                marks += (term.end, term.end - _DAY)
    low = max(AS_OF_EARLIEST, attached - _DAY)
    inside = dict.fromkeys(m for m in (*front, *sorted(marks)) if low <= m <= LATEST_DATE)
    return judged, list(inside)


_WEEKS: Final = ("employment_weeks_other", "employment_weeks_jsa")


def _first_days(chosen: Programme, family: Family) -> list[date]:
    """The first days `chosen`'s results can be judged for `family` (its waits after attachment)."""
    rules = chosen.rules
    attached = family.attached_on
    if "results_wait_months" in rules.parameters:
        return [add_months(attached, rules.number("results_wait_months"))]
    if not chosen.uses_plan:
        return []
    from pbr.plans import earliest_window_end

    problems = {p.problem for p in family.problems_at_entry}
    firsts = {
        earliest_window_end(measure, attached, rules.term_calendar)
        for outcome in _example_outcomes(chosen.id)
        if not problems or outcome[0] in problems
        for measure in outcome[1]
    }
    return sorted(firsts, reverse=True)  # the latest first: every measure's period has begun


@cache  # the bundled example plans: read once, not for every record drawn
def _example_outcomes(programme_id: str) -> tuple[tuple[str, tuple[Measure, ...]], ...]:
    """The example plan's outcomes for `programme_id`: (problem, measures); none without one."""
    from pbr.errors import PlanError
    from pbr.plans import example_plan

    try:
        plan = example_plan(programme_id)
    except PlanError:
        return ()
    return tuple((o.problem, o.measures) for o in plan.outcomes)


def families_with_as_of(
    programme: str | None = None,
    *,
    attached_from: date | None = None,
    attached_to: date | None = None,
    max_events: int = 4,
    payments: Payments = "realistic",
    rules: RuleSet | None = None,
) -> st.SearchStrategy[tuple[Family, date]]:
    """`(family, as_of)` pairs: a `families` draw and an evaluation date `as_of_dates_for` it.

    The pairing to property-test the money with: the dates fall where the family's results
    are judged, so that many decisions have something payable (see the module's example). The
    arguments are those of `family_records`.

    >>> import pbr
    >>> from hypothesis import find
    >>> family, as_of = find(families_with_as_of("supporting-families"),
    ...                      lambda pair: pbr.evaluate(pair[0], as_of=pair[1]).payable > 0)
    >>> str(pbr.evaluate(family, as_of=as_of).payable)
    '800.00'
    """
    records = families(
        programme,
        attached_from=attached_from,
        attached_to=attached_to,
        max_events=max_events,
        payments=payments,
        rules=rules,
    )
    return records.flatmap(lambda family: st.tuples(st.just(family), as_of_dates_for(family)))


def interpretation_choices(rules: RuleSet | None = None) -> st.SearchStrategy[dict[str, str]]:
    """Mappings of interpretation id to one of its allowed values (a subset of the ids).

    Pass them to ``rules.with_interpretations(**choice)``. `rules` defaults to phase one. A
    family to evaluate under the choice is drawn for that rule set (`families_with_as_of`'s
    `rules`), since some interpretations refuse what the defaults allow (phase two's
    ``attachment_fees_after_2017_18 = stopped`` refuses a fee paid from 2018/19): draw the
    choice, then the family, with ``flatmap`` (or ``st.data()``):

    >>> import pbr
    >>> from hypothesis import given, settings
    >>> from pbr.rules import PHASE_TWO
    >>> def under(choice):
    ...     rules = PHASE_TWO.with_interpretations(**choice)
    ...     return families_with_as_of(rules=rules).map(lambda pair: (rules, *pair))
    >>> @settings(max_examples=20, database=None)
    ... @given(interpretation_choices(PHASE_TWO).flatmap(under))
    ... def test_any_reading(drawn):
    ...     rules, family, as_of = drawn
    ...     decision = pbr.evaluate(family, as_of=as_of, rules=rules)
    ...     assert decision.payable <= decision.cap
    >>> test_any_reading()
    """
    if rules is None:
        from pbr.rules import PHASE_ONE

        rules = PHASE_ONE
    options = {
        name: st.sampled_from(sorted(interp.values))
        for name, interp in sorted(rules.interpretations.items())
    }
    return st.fixed_dictionaries({}, optional=options)


def _day(value: date) -> str:
    return value.isoformat()


def _span() -> tuple[date, date]:
    """The first and last attachment dates of every programme the registry lists."""
    rules = [p.rules for p in _programmes()]
    return min(r.attached_from for r in rules), max(r.attached_to for r in rules)


def _whole(where: str, **counts: object) -> None:
    """Refuse a count that is not a whole number from 0, naming it (not at the first draw).

    >>> _whole("money()", max_pounds=-1)
    Traceback (most recent call last):
    ...
    ValueError: money(): max_pounds=-1; need a whole number from 0
    """
    for name, value in counts.items():
        if type(value) is not int or value < 0:
            raise ValueError(f"{where}: {name}={value!r}; need a whole number from 0")


def _within(
    span: tuple[date, date], limits: tuple[date, date], where: str, **bounds: date | None
) -> tuple[date, date]:
    """The two `bounds` (low, high), a missing one taken from `span`; `ValueError` unless in order.

    Each must lie within `limits`, and low <= high.

    >>> every = (date(2012, 4, 1), date(2015, 3, 31))
    >>> _within(every, every, "f", after=date(2013, 1, 1), before=None)
    (datetime.date(2013, 1, 1), datetime.date(2015, 3, 31))
    """
    (low_name, low), (high_name, high) = bounds.items()
    first, last = limits
    start, end = span[0] if low is None else low, span[1] if high is None else high
    if not first <= start <= end <= last:
        given = ", ".join(
            f"{name}={value}{'' if bound is not None else ' (the default)'}"
            for name, value, bound in ((low_name, start, low), (high_name, end, high))
        )
        raise ValueError(
            f"{where}: {given}; need {low_name} <= {high_name}, both within {first} to {last}"
        )
    return start, end


def _programme(programme_id: str | None) -> Programme:
    """The registry's programme `programme_id`, or the oldest (phase one) when None."""
    from pbr.programmes import programme, programmes

    if programme_id is None:
        return programmes()[0]
    try:
        return programme(programme_id)
    except KeyError as exc:
        raise ValueError(str(exc).strip("'\"")) from None


def __getattr__(name: str) -> Any:
    if name == "PROGRAMMES":  # every programme the registry lists, when read
        from pbr.programmes import programmes

        return tuple(p.id for p in programmes())
    raise AttributeError(f"module 'pbr.testing' has no attribute {name!r}")


if TYPE_CHECKING:
    PROGRAMMES: tuple[str, ...]
    """The programmes `family_records` can draw records for (every one the registry lists)."""

_INDICATORS: Final = (
    "child_protection_plan_start",
    "progress_to_work_step",
    "police_callout_domestic_abuse",
    "health_crisis_contact",
    "early_years_check_on_track",
    "substance_incident",
    "police_callout_family_conflict",
    "eviction_notice",
    "rent_arrears_pounds",
    "adult_in_work",
)


def family_records(
    programme: str | None = None,
    *,
    attached_from: date | None = None,
    attached_to: date | None = None,
    max_events: int = 4,
    payments: Payments = "realistic",
    rules: RuleSet | None = None,
) -> st.SearchStrategy[Record]:
    """Valid family records of `programme` as JSON-ready dicts (dates and money as strings).

    Households of one or two adults and up to three children, sometimes with their council
    (`local_authority`), with offences, ASB, school terms, benefit and employment spells,
    referrals and earlier payments around the attachment date; phase two and Supporting
    Families records add problems at entry and observations of the example plans' indicators.
    Every record passes `pbr.Family.model_validate`. `programme` is any id the registry lists
    (`pbr.programmes`); None draws phase one.

    Most records meet the programme's criteria, with the evidence that shows it (in phase one
    sometimes two criteria and `local_discretion`), and many go on to meet its results after
    attachment, so that decisions reach the rules' edges:

    - ASB and offences in the 6 months before attachment and after it, in counts on a
      reduction's boundary (5 incidents, then 2 or 3; 100 offences, then 66, 67 or 68, where
      "at least 33%" and "a third" differ);
    - a row for every term a child is of compulsory school age around attachment, some at
      exactly the absence threshold (15% in phase one, the example plans' 10% later);
    - an adult on an out-of-work benefit at attachment who starts work after it, in a spell
      that ends just before or on 13 or 26 weeks, or with a next spell that touches it or
      leaves a one-day gap;
    - observations before attachment that show each problem at entry, and after it that show
      progress against the example plan (now and then a setback);
    - attachment on a month's last day or a financial year's first day as often as not.

    `max_events` bounds the offences, ASB incidents and observations drawn at random on top,
    within two years of attachment; the boundary counts above are not bounded by it.

    With `payments="realistic"` (the default) earlier payments are the programme's own, under
    its default interpretations: the attachment fee of the family's attachment year (never a
    fee where that is £0, as in Supporting Families), and results at their rates cut to the
    room the cap leaves, so no family is paid over the cap. `payments="any"` draws any amount
    up to £3,500 for any kind of payment the programme makes, often more than the cap allows:
    payment histories that cannot be right, for testing how a system reports them.

    `rules` (the programme's own by default) is the rule set the payments are drawn under: pass
    ``rules.with_interpretations(**choice)`` to draw only what those interpretations allow (no
    attachment fee for a family attached in a year whose fee is £0 under them, as phase two's
    ``attachment_fees_after_2017_18 = stopped`` has from 2018/19); `programme` defaults to the
    programme of `rules`.

    Attachment dates lie in [`attached_from`, `attached_to`], which must lie within the
    programme's attachment window (a bound left out is the window's end); others raise
    `ValueError`, as does an unknown `programme` or `payments`, or `rules` of another programme.
    """
    chosen, rules = _programme_and_rules(programme, rules)
    window = (chosen.rules.attached_from, chosen.rules.attached_to)
    where = f"family_records({chosen.id!r})"
    low, high = _within(window, window, where, attached_from=attached_from, attached_to=attached_to)
    if payments not in ("realistic", "any"):
        raise ValueError(f"{where}: payments={payments!r}; choose 'realistic' or 'any'")
    _whole(where, max_events=max_events)
    return _family_records(chosen, rules, (low, high), max_events, payments)


def _programme_and_rules(
    programme_id: str | None, rules: RuleSet | None
) -> tuple[Programme, RuleSet]:
    """The programme to draw for and the rule set to draw under; `ValueError` if they differ."""
    if rules is None:
        chosen = _programme(programme_id)
        return chosen, chosen.rules
    chosen = _programme(rules.programme if programme_id is None else programme_id)
    if rules.programme != chosen.id:
        raise ValueError(
            f"family_records({chosen.id!r}): rules={rules.programme} {rules.version} are another "
            f"programme's; pass {chosen.id}'s rules (with any interpretations) or none"
        )
    return chosen, rules


@st.composite
def _family_records(
    draw: st.DrawFn,
    chosen: Programme,
    rules: RuleSet,
    attached_in: tuple[date, date],
    max_events: int,
    payments: Payments,
) -> Record:
    """A valid record of `chosen`, attached in `attached_in`, paid under `rules`.

    See `family_records`.
    """
    attached = draw(_near_edges(*attached_in))

    def years_before(n: int) -> date:
        return date(attached.year - n, attached.month, 1)

    adults: list[Record] = [
        {
            "person_id": f"A{i}",
            "date_of_birth": _day(draw(_dates(years_before(60), years_before(18)))),
        }
        for i in range(1, draw(st.integers(1, 2)) + 1)
    ]
    problems = draw(_problems(chosen))
    # a problem at school has a child of school age (6 to 15) to show it; a child who offends
    # is 10 or more
    pupil = "education" in problems
    crime = bool({"crime_asb", "crime"} & set(problems))
    eldest = (years_before(15 if pupil else 17), years_before(10 if crime else 6 if pupil else 0))
    children = [
        {
            "person_id": f"C{i}",
            "date_of_birth": _day(
                draw(_dates(*eldest) if i == 1 else _dates(years_before(17), attached))
            ),
        }
        for i in range(1, draw(st.sampled_from(range(1 if pupil else 0, 4))) + 1)
    ]
    members = adults + children
    born = {m["person_id"]: date.fromisoformat(m["date_of_birth"]) for m in members}
    adult_ids = [a["person_id"] for a in adults]
    child_ids = [c["person_id"] for c in children]
    window = (attached - timedelta(days=730), attached + timedelta(days=730))

    def when(person: str | None) -> str:
        low = max(window[0], born[person]) if person is not None else window[0]
        return _day(draw(_dates(low, window[1])))

    record: Record = {
        "family_id": draw(st.from_regex(r"[A-Z]{2}[0-9]{1,6}", fullmatch=True)),
        "attached_on": _day(attached),
        "members": members,
    }
    council = draw(st.one_of(st.none(), st.sampled_from(_COUNCILS)))
    if council is not None:
        record["local_authority"] = council
    # a family the dates alone would give another programme (an early starter) must say which
    by_date = next(p for p in _programmes() if p.rules.covers(attached))
    if by_date is not chosen or draw(st.booleans()):
        record["programme"] = chosen.id
    if chosen.states_problems_in == "identified_for":
        # left to the evidence most often, else stated: as drawn, or now and then any list
        stated = draw(st.sampled_from(range(6)))
        if stated >= 3:
            every = st.lists(st.sampled_from(chosen.problems), unique=True)
            record["identified_for"] = list(problems) if stated < 5 else draw(every)
        # two criteria need the council's own reason; a family with three may have one too
        if len(problems) < len(chosen.problems) or _chance(draw, 1, 4):
            codes = st.lists(st.sampled_from(_DISCRETION), min_size=1, unique=True)
            record["local_discretion"] = draw(codes)
    else:
        dependent = any(born[c] > years_before(16) for c in child_ids)
        if not dependent and _chance(draw, 3, 4):  # an expectant parent, most often
            adults[0]["expectant"] = True
        elif draw(st.booleans()):
            for adult in adults:
                adult["expectant"] = draw(st.booleans())
        record["problems_at_entry"] = [
            {
                "problem": problem,
                "identified_on": draw(st.one_of(st.none(), _dates(window[0], attached).map(_day))),
                "evidence": draw(st.one_of(st.none(), st.sampled_from(["police", "school"]))),
            }
            for problem in problems
        ]
        record["observations"] = [
            *draw(_plan_observations(chosen.id, problems, attached)),
            *(
                {
                    "indicator": indicator,
                    "date": when(None),
                    "value": draw(st.one_of(st.integers(0, 3), st.sampled_from(["0.5", "120.00"]))),
                }
                for indicator in _some(draw, st.sampled_from(_INDICATORS), max_events)
            ),
        ]
    settled = add_months(attached, -6)  # members born by the baseline's first day
    offenders = [c for c in child_ids if born[c] <= years_before(10)] if crime else []
    households = [None, *(m for m in adult_ids + child_ids if born[m] <= settled)] if crime else []
    people = st.sampled_from(adult_ids + child_ids)
    record["offences"] = [
        *draw(_reduction(offenders, attached, rules, chosen.uses_plan, "offences")),
        *({"person_id": p, "date": when(p)} for p in _some(draw, people, max_events)),
    ]
    record["asb_incidents"] = [
        {**incident, "kind": draw(st.sampled_from(_ASB_KINDS))}
        for incident in [
            *draw(_reduction(households, attached, rules, chosen.uses_plan, "asb_incidents")),
            *(
                {"person_id": p, "date": when(p)}
                for p in _some(draw, st.one_of(st.none(), people), max_events)
            ),
        ]
    ]
    if child_ids:
        threshold = _absence_threshold(chosen)
        troubled = next((c for c in child_ids if _school_age_before(born[c], attached)), None)
        if "education" not in problems:
            troubled = None
        terse = not _chance(draw, 1, 4)  # most rows leave out the fields as their defaults
        record["school_terms"] = [
            row
            for child in child_ids
            for row in draw(
                _term_rows(child, born[child], attached, threshold, child == troubled, terse)
            )
        ]
    record["benefit_spells"] = [
        {**_spell(draw, when(p)), "person_id": p, "benefit": draw(st.sampled_from(_BENEFITS))}
        for p in draw(st.lists(st.sampled_from(adult_ids), max_size=2))
    ]
    record["employment_spells"] = [
        {**_spell(draw, when(p)), "person_id": p}
        for p in draw(st.lists(st.sampled_from(adult_ids), max_size=2))
    ]
    record["work_programme"] = [
        {
            "person_id": p,
            "date": when(p),
            "provision": draw(st.sampled_from(["work_programme", "esf"])),
        }
        for p in draw(st.lists(st.sampled_from(adult_ids), max_size=1))
    ]
    if bool({"work", "financial_stability"} & set(problems)) or draw(st.booleans()):
        for field, rows in draw(_into_work(adult_ids[0], attached, rules)).items():
            record[field] = [*rows, *record[field]]
    if payments == "realistic":
        record["payments"] = draw(_realistic_payments(chosen, rules, attached))
    else:
        record["payments"] = draw(_any_payments(chosen, rules, attached))
    return record


_ASB_BASELINES: Final = (1, 5, 2, 10, 3)
"""ASB incidents in the 6 months before attachment: 5 and 10 put 40% of them on a whole number."""
_OFFENCE_BASELINES: Final = (1, 3, 2, 6, 0, 4, 9, 100)
"""Offences in the 6 months before: at 100, "at least 33%" (67 left) and "a third" (66) differ."""


@st.composite
def _problems(draw: st.DrawFn, chosen: Programme) -> tuple[str, ...]:
    """The problems a record is drawn to show: most often enough for the programme's criteria."""
    every = chosen.problems
    route = draw(st.sampled_from(range(6)))  # 0-2: every problem; 3-4: just enough; 5: any
    if chosen.states_problems_in == "identified_for":
        least = len(every) if route <= 2 else len(every) - 1 if route <= 4 else 0
        most = len(every) - 1 if route in (3, 4) else len(every)
    else:
        rules = chosen.rules
        names = [n for n in ("problems_needed", "needs_required") if n in rules.parameters]
        least = rules.number(names[0]) if names and route < 5 else 0
        most = max(least, 5)
    picked = draw(st.lists(st.sampled_from(every), unique=True, min_size=least, max_size=most))
    return tuple(p for p in every if p in picked)


@st.composite
def _reduction(
    draw: st.DrawFn,
    people: list[str | None] | list[str],
    attached: date,
    rules: RuleSet,
    plan: bool,
    kind: str,
) -> list[Record]:
    """Events of `people` in the 6 months before attachment and in the 6 months after it.

    Phase one's counts sit on its reduction's boundary (its `asb_remaining_percent` or
    `offending_reduction_percent`); a plan's "none in 6 months" is met most often.
    """
    if not people:
        return []
    offences = kind == "offences"
    if plan:
        baseline = draw(st.sampled_from((1, 2, 5)))
        recent = int(_chance(draw, 1, 4))
    else:
        baseline = draw(st.sampled_from(_OFFENCE_BASELINES if offences else _ASB_BASELINES))
        name = "offending_reduction_percent" if offences else "asb_remaining_percent"
        if name not in rules.parameters:
            edges = {1}
        elif offences:  # met while (baseline - recent) / baseline >= 33%: recent <= 67% of it
            most = baseline * (100 - rules.number(name)) // 100
            edges = {most, most + 1, 2 * baseline // 3}
        else:  # met while recent <= 40% of the baseline
            most = baseline * rules.number(name) // 100
            edges = {most, most + 1}
        recent = draw(st.sampled_from(sorted({0, *edges})))
    spans = (
        (baseline, add_months(attached, -6), attached - _DAY),
        (recent, attached + _DAY, add_months(attached, 6)),
    )
    events: list[Record] = []
    for count, first, last in spans:
        if count <= 12:
            chosen = [
                (draw(st.sampled_from(people)), draw(_dates(first, last))) for _ in range(count)
            ]
        else:  # spread evenly: a hundred draws each would slow every test that draws records
            days = (last - first).days + 1
            start = draw(st.integers(0, days - 1))
            chosen = [
                (people[i % len(people)], first + timedelta(days=(start + 7 * i) % days))
                for i in range(count)
            ]
        events += ({"person_id": person, "date": _day(day)} for person, day in chosen)
    return events


def _absence_threshold(chosen: Programme) -> int:
    """The absence percent a term row is judged against: phase one's, or the example plan's."""
    rules = chosen.rules
    if "absence_percent" in rules.parameters:
        return rules.number("absence_percent")
    for _, measures in _example_outcomes(chosen.id):
        for measure in measures:
            if measure.indicator == "unauthorised_absence_percent":
                return int(measure.threshold)
    return 15


def _school_age_before(born: date, attached: date) -> bool:
    """Whether a child was of compulsory school age in a term of the year before attachment."""
    terms = [
        default_term(academic_year_of(attached - timedelta(days=d)), n)
        for d in (1, 365)
        for n in TERMS
    ]
    return any(t.end < attached and compulsory_school_age_in(born, t) for t in terms)


_BEFORE: Final = ("high", "exact", "excluded", "permanent", "elsewhere", "no_sessions")
"""How a troubled child's terms before attachment show the education problem."""
_AFTER: Final = ("low", "low", "low", "low", "exact", "any")
"""How a child's terms after attachment look: attending, on the threshold, or anything."""


@st.composite
def _term_rows(
    draw: st.DrawFn,
    child: str,
    born: date,
    attached: date,
    threshold: int,
    troubled: bool,
    terse: bool,
) -> list[Record]:
    """A row for each term `child` is of compulsory school age, from a year before attachment.

    To 18 months after it; `terse` rows leave out the fields that are as their defaults.
    """
    first = int(academic_year_of(add_months(attached, -12))[:4])
    last = int(academic_year_of(add_months(attached, 18))[:4])
    terms = [
        default_term(f"{y}/{(y + 1) % 100:02d}", name)
        for y in range(first, last + 1)
        for name in TERMS
    ]
    terms = [t for t in terms if compulsory_school_age_in(born, t)]
    if not terms:
        return []
    before = draw(st.sampled_from(_BEFORE)) if troubled else "low"
    after = draw(st.sampled_from(_AFTER))
    missing = draw(st.sampled_from(range(4 * len(terms))))  # a term without a row, at times
    rows = [
        _regime_row(
            draw, child, t.academic_year, t.name, before if t.end < attached else after, threshold
        )
        for i, t in enumerate(terms)
        if i != missing
    ]
    if terse:
        return [
            {k: v for k, v in row.items() if k not in _ROW_DEFAULTS or _ROW_DEFAULTS[k] != v}
            for row in rows
        ]
    return rows


_ROW_DEFAULTS: Final = {
    "fixed_term_exclusions": 0,
    "permanently_excluded": False,
    "alternative_provision": False,
    "on_roll": True,
}
"""A term row's fields that may be left out, and what they are then."""


def _regime_row(
    draw: st.DrawFn, person: str, year: str, term: str, regime: str, threshold: int
) -> Record:
    if regime == "any":
        return _term_row(draw, person, year, term)
    possible = 0 if regime == "no_sessions" else draw(st.sampled_from((120, 140, 100, 160)))
    below = max(0, (possible * threshold - 1) // 100)  # the most absences under the threshold
    at = -(-possible * threshold // 100)  # the fewest at or over it
    absences = {
        "low": st.integers(0, below),
        "exact": st.just(at),
        "high": st.integers(at, possible),
    }.get(regime, st.integers(0, below))
    exclusions = (
        st.integers(1, 3) if regime == "excluded" else st.sampled_from((0, 0, 0, 0, 0, 0, 0, 1))
    )
    elsewhere = regime == "elsewhere" and draw(st.booleans())  # else off the school's roll
    return {
        "person_id": person,
        "academic_year": year,
        "term": term,
        "possible_sessions": possible,
        "unauthorised_absences": 0 if possible == 0 else draw(absences),
        "fixed_term_exclusions": draw(exclusions),
        "permanently_excluded": regime == "permanent",
        "alternative_provision": elsewhere,
        "on_roll": regime != "elsewhere" or (elsewhere and draw(st.booleans())),
    }


@st.composite
def _into_work(
    draw: st.DrawFn, adult: str, attached: date, rules: RuleSet
) -> dict[str, list[Record]]:
    """An adult on an out-of-work benefit at attachment, a referral and work after it."""
    named = "out_of_work_benefits" in rules.parameters
    out_of_work = sorted(rules.codes("out_of_work_benefits")) if named else list(_BENEFITS)
    others = st.sampled_from([b for b in out_of_work if b != "JSA"] or ["JSA"])
    benefit = "JSA" if "JSA" in out_of_work and _chance(draw, 1, 2) else draw(others)
    ended = draw(st.one_of(st.none(), _dates(attached, attached + timedelta(days=400))))
    found: dict[str, list[Record]] = {
        "benefit_spells": [
            {
                "person_id": adult,
                "benefit": benefit,
                "start": _day(attached - timedelta(days=draw(st.integers(0, 1100)))),
                "end": None if ended is None else _day(ended),
            }
        ],
        "employment_spells": [],
        "work_programme": [],
    }
    if draw(st.booleans()):
        found["work_programme"].append(
            {
                "person_id": adult,
                "date": _day(draw(_dates(attached, attached + timedelta(days=365)))),
                "provision": draw(st.sampled_from(["work_programme", "esf"])),
            }
        )
    if _chance(draw, 1, 4):  # no work yet
        return found
    start = draw(_dates(attached, attached + timedelta(days=365)))
    # still in work, or a job that ends the day before or on 13 or 26 weeks, or later
    weeks = draw(st.sampled_from((None, 13, 26, 60)))
    end = None if weeks is None else start + timedelta(weeks=weeks, days=-draw(st.integers(0, 1)))
    found["employment_spells"].append({"person_id": adult, "start": _day(start), "end": _opt(end)})
    if end is not None and draw(st.booleans()):  # the next job: touching (one run) or a day apart
        later = end + timedelta(days=draw(st.integers(1, 2)))
        found["employment_spells"].append({"person_id": adult, "start": _day(later), "end": None})
    return found


def _opt(value: date | None) -> str | None:
    return None if value is None else _day(value)


@st.composite
def _plan_observations(
    draw: st.DrawFn, programme_id: str, problems: tuple[str, ...], attached: date
) -> list[Record]:
    """Observations of the example plan's indicators for `problems`.

    The problem before attachment, progress after it (a reading every three months for three
    years), now and then a setback.
    """
    from pbr.plans import BUILT_IN_INDICATORS

    found: list[Record] = []
    for problem, measures in _example_outcomes(programme_id):
        if problem not in problems:
            continue
        for measure in measures:
            if measure.indicator in BUILT_IN_INDICATORS:
                continue
            good, bad = _readings(measure)
            name = measure.indicator
            if bad is not None:
                before = _dates(add_months(attached, -12), attached - _DAY)
                for _ in range(draw(st.integers(1, 2))):
                    found.append({"indicator": name, "date": _day(draw(before)), "value": bad})
            if good is not None:
                found += (
                    {"indicator": name, "date": _day(add_months(attached, k)), "value": good}
                    for k in range(1, 37, 3)
                )
            if bad is not None and _chance(draw, 1, 4):
                setback = _dates(attached + _DAY, attached + timedelta(days=_HORIZON_DAYS))
                found.append({"indicator": name, "date": _day(draw(setback)), "value": bad})
    return found


def _readings(measure: Measure) -> tuple[int | str | None, int | str | None]:
    """A value `measure` holds for and one it fails for.

    None: no reading is needed (a count that holds at none), or no value fails (a count's
    readings are events, of value 1: it fails by how many there are, not by their value).
    """
    from pbr.plans import compare

    threshold = measure.threshold
    if measure.effective_aggregate == "count":
        return (None, 1) if compare(Decimal(0), measure.comparison, threshold) else (1, None)
    values = (Decimal(0), Decimal(1), threshold, threshold + 1, threshold - 1)
    good = next((v for v in values if compare(v, measure.comparison, threshold)), None)
    bad = next((v for v in values if not compare(v, measure.comparison, threshold)), None)
    return _number(good), _number(bad)


def _number(value: Decimal | None) -> int | str | None:
    """`value` as a record writes it: a whole number as a number, a fraction as text."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else str(value)


def families(
    programme: str | None = None,
    *,
    attached_from: date | None = None,
    attached_to: date | None = None,
    max_events: int = 4,
    payments: Payments = "realistic",
    rules: RuleSet | None = None,
) -> st.SearchStrategy[Family]:
    """Valid `pbr.Family` objects (`family_records` validated); the same arguments and limits."""
    from pbr.records import Family

    records = family_records(
        programme,
        attached_from=attached_from,
        attached_to=attached_to,
        max_events=max_events,
        payments=payments,
        rules=rules,
    )
    return records.map(Family.model_validate)


def _chance(draw: st.DrawFn, k: int, n: int) -> bool:
    """True `k` times in `n` (False when shrunk: the plainer record)."""
    return draw(st.sampled_from(range(n))) >= n - k


def _some(draw: st.DrawFn, each: st.SearchStrategy[Any], most: int) -> list[Any]:
    """Up to `most` draws of `each`, none most often (hypothesis' lists fill up half the time)."""
    return [draw(each) for _ in range(draw(st.integers(0, most)))]


def _dates(low: date, high: date) -> st.SearchStrategy[date]:
    return st.dates(min_value=low, max_value=max(low, high))


def _spell(draw: st.DrawFn, start: str) -> Record:
    begun = date.fromisoformat(start)
    length = draw(st.one_of(st.none(), st.integers(0, 800)))
    end = None if length is None else _day(begun + timedelta(days=length))
    return {"start": start, "end": end}


def _term_row(draw: st.DrawFn, person: str, year: str, term: str) -> Record:
    possible = draw(st.integers(0, 160))
    return {
        "person_id": person,
        "academic_year": year,
        "term": term,
        "possible_sessions": possible,
        "unauthorised_absences": draw(st.integers(0, possible)),
        "fixed_term_exclusions": draw(st.integers(0, 3)),
        "permanently_excluded": draw(st.booleans()) and draw(st.booleans()),
        "alternative_provision": draw(st.booleans()) and draw(st.booleans()),
        "on_roll": draw(st.booleans()) or draw(st.booleans()),
    }


def _programmes() -> tuple[Programme, ...]:
    from pbr.programmes import programmes

    return programmes()


def _paid_on(low: date, high: date) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), _dates(low, high).map(_day))


@st.composite
def _realistic_payments(
    draw: st.DrawFn, chosen: Programme, rules: RuleSet, attached: date
) -> list[Record]:
    """Payments the programme makes under `rules`: its fee for the year, and results at rates.

    Within the cap, which the year's fee counts against whether or not it is listed.
    """
    year = financial_year_of(attached)
    fee = chosen.attachment_fee(rules, year)
    rates = chosen.result_rates(rules, year)
    room = chosen.cap(rules, year) - fee
    paid: list[Record] = []
    if fee > 0 and draw(st.booleans()):
        when = _paid_on(attached, attached + timedelta(days=90))
        paid.append({"kind": "attachment_fee", "amount": str(fee), "paid_on": draw(when)})
    if not _chance(draw, 1, 5):  # four families in five: no result paid yet
        return paid
    kinds = st.lists(st.sampled_from(chosen.result_kinds), min_size=1, max_size=2, unique=True)
    for kind in draw(kinds):
        amount = min(rates[kind], room)
        if amount <= 0:
            continue
        room -= amount
        when = _paid_on(add_months(attached, 3), attached + timedelta(days=_HORIZON_DAYS))
        paid.append({"kind": kind, "amount": str(amount), "paid_on": draw(when)})
    return paid


@st.composite
def _any_payments(
    draw: st.DrawFn, chosen: Programme, rules: RuleSet, attached: date
) -> list[Record]:
    """Payments of any amount to £3,500, of any kind the programme pays under `rules`.

    An attachment fee only where the year has one under `rules`.
    """
    has_fee = chosen.attachment_fee(rules, financial_year_of(attached)) > 0
    kinds = [*(["attachment_fee"] if has_fee else []), *chosen.result_kinds]
    return [
        {
            "kind": kind,
            "amount": str(draw(money(max_pounds=3500))),
            "paid_on": draw(_paid_on(attached, attached + timedelta(days=_HORIZON_DAYS))),
        }
        for kind in draw(st.lists(st.sampled_from(kinds), unique=True, max_size=2))
    ]


def broken_family_records(
    kind: str | None = None, programme: str | None = None
) -> st.SearchStrategy[tuple[str, Record]]:
    """`(breakage, record)` pairs: a valid record broken in exactly one way from `BREAKAGES`.

    `kind=None` draws the breakage too. `pbr.Family.model_validate` must reject every one.
    """
    if kind is not None and kind not in BREAKAGES:
        raise ValueError(f"unknown breakage {kind!r}; choose from {', '.join(BREAKAGES)}")
    kinds = st.sampled_from(BREAKAGES) if kind is None else st.just(kind)
    return st.tuples(kinds, family_records(programme)).map(_broken)


LINE_BREAKAGES: Final[tuple[str, ...]] = (
    "broken_record",
    "deep_nesting",
    "duplicate_key",
    "invalid_utf8",
    "not_an_object",
    "random_bytes",
    "truncated",
)
"""The ways `broken_lines` can spoil a line of JSON Lines; a reader must reject each line alone."""


def broken_lines(programme: str | None = None) -> st.SearchStrategy[bytes]:
    """Single lines of bytes (no newline) that no reader may accept as a family record.

    Each is one of `LINE_BREAKAGES`: a record broken in a named way, JSON nested 10,000 deep,
    a key given twice, a bad UTF-8 byte, a JSON value that is not an object, random bytes, or a
    record cut short. Splice them between good lines to check a reader keeps every good record.
    No line is blank or an empty JSON array (``[]``), nor starts as a workbook does: alone in
    a file, a reader may rightly take that for a whole file of another kind (a JSON array of
    no records, a workbook), with no line to reject.

    >>> from hypothesis import find
    >>> line = find(broken_lines(), lambda b: b.startswith(b"[[["))
    >>> line.count(b"[") == 10_000
    True
    """
    import json

    records = family_records(programme)
    return st.one_of(
        broken_family_records(programme=programme).map(lambda pair: json.dumps(pair[1]).encode()),
        st.just(b'{"family_id": "DEEP", "members": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
        st.just(b"[" * 10_000 + b"]" * 10_000),
        records.map(lambda r: json.dumps(r)[:-1].encode() + b', "family_id": "TWICE"}'),
        records.map(
            lambda r: (
                json.dumps(_without(r, "local_authority")).encode()[:-1]
                + b', "local_authority": "\xff"}'
            )
        ),
        st.sampled_from([b"null", b"42", b'"text"', b"[null]", b"true"]),
        st.binary(min_size=1, max_size=200).filter(_not_an_object_line),
        records.flatmap(
            lambda r: st.integers(1, len(json.dumps(r)) - 1).map(
                lambda n: json.dumps(r).encode()[:n]
            )
        ),
    ).filter(_alone_is_no_file)


def _without(record: Record, key: str) -> Record:
    return {k: v for k, v in record.items() if k != key}


def _alone_is_no_file(line: bytes) -> bool:
    """Whether `line` alone is not a file of records.

    No newline, not blank, not an empty JSON array (``[]``), which a reader may rightly take
    for a whole file of no records, and not the start of a workbook, which a reader may rightly
    refuse as a whole file of another format.
    """
    text = line.removeprefix(b"\xef\xbb\xbf").strip()
    empty_array = text[:1] == b"[" and text[-1:] == b"]" and not text[1:-1].strip()
    workbook = line.startswith(_WORKBOOKS)
    return b"\n" not in line and bool(text) and not empty_array and not workbook


_WORKBOOKS: Final = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
"""How a workbook (a zip, or Excel 97-2003's) begins: a reader refuses such a file whole."""


def _not_an_object_line(data: bytes) -> bool:
    """Random bytes that cannot be a family: not blank, no newline, not a JSON object."""
    return bool(data.strip()) and b"\n" not in data and not data.lstrip().startswith(b"{")


def _broken(pair: tuple[str, Record]) -> tuple[str, Record]:
    kind, record = pair
    _BREAK[kind](record)
    return kind, record


def _break_unknown_person(record: Record) -> None:
    record["offences"].append({"person_id": "NOBODY", "date": record["attached_on"]})


def _break_control_character(record: Record) -> None:
    record["local_authority"] = "Leeds\x1b[2J"


def _break_end_before_start(record: Record) -> None:
    adult = record["members"][0]["person_id"]
    record["employment_spells"].append(
        {"person_id": adult, "start": record["attached_on"], "end": "2012-01-01"}
    )


def _break_born_after_event(record: Record) -> None:
    adult = record["members"][0]
    before_birth = date.fromisoformat(adult["date_of_birth"]) - timedelta(days=1)
    record["offences"].append({"person_id": adult["person_id"], "date": before_birth.isoformat()})


def _child_row(record: Record, **row: Any) -> None:
    record["members"].append({"person_id": "CX", "date_of_birth": "2004-01-01"})
    record.setdefault("school_terms", []).append(
        {
            "person_id": "CX",
            "academic_year": "2012/13",
            "term": "autumn",
            "possible_sessions": 100,
            "unauthorised_absences": 0,
            **row,
        }
    )


def _break_absences_exceed_sessions(record: Record) -> None:
    _child_row(record, possible_sessions=10, unauthorised_absences=11)


def _break_negative_count(record: Record) -> None:
    _child_row(record, fixed_term_exclusions=-1)


def _break_duplicate_term(record: Record) -> None:
    _child_row(record)
    record["school_terms"].append(dict(record["school_terms"][-1]))


def _break_negative_money(record: Record) -> None:
    record["payments"] = [{"kind": "attachment_fee", "amount": "-0.01"}]


def _break_fractional_float_money(record: Record) -> None:
    record["payments"] = [{"kind": "attachment_fee", "amount": 3200.5}]


def _break_duplicate_person_id(record: Record) -> None:
    record["members"].append(dict(record["members"][0]))


def _break_duplicate_problem(record: Record) -> None:
    _lists_problems_at_entry(record)
    record["problems_at_entry"] = [{"problem": "health"}, {"problem": "health"}]


def _lists_problems_at_entry(record: Record) -> None:
    """Make `record` one that may list problems at entry, changing nothing else.

    A record stating phase one may not (phase one identifies by `identified_for`); one stating
    no programme may, and is evaluated by its dates as before (the list is warned of).
    """
    if _own_programme(record).states_problems_in == "identified_for":
        record.pop("programme", None)


def _break_problem_not_in_programme(record: Record) -> None:
    # a problem another programme lists and the record's own does not, where the record's
    # programme lists its problems (phase one's identified_for; later, problems_at_entry): the
    # programme, dates and payments stay, so nothing else is wrong
    own = _own_programme(record)
    listed = (p for other in _programmes() for p in other.problems)
    outside = next((p for p in listed if p not in own.problems), "not_a_problem")
    if own.states_problems_in == "identified_for":
        record["identified_for"] = [outside]
    else:  # a programme's list is checked where the record names it (its own: no change)
        record["programme"] = own.id
        record["problems_at_entry"] = [{"problem": outside}]


def _break_payment_not_in_programme(record: Record) -> None:
    # a result another programme pays and the record's own (stated, or by date) does not
    own = _own_programme(record)
    record["programme"] = own.id
    foreign = next(k for p in _programmes() for k in p.result_kinds if k not in own.payment_kinds)
    record["payments"] = [*record["payments"], {"kind": foreign, "amount": "100.00"}]


def _own_programme(record: Record) -> Programme:
    """The programme of a valid record: the one it states, or the first whose dates cover it."""
    attached = date.fromisoformat(record["attached_on"])
    stated = record.get("programme")
    return next(
        p for p in _programmes() if p.id == stated or (stated is None and p.rules.covers(attached))
    )


def _break_identified_after_attachment(record: Record) -> None:
    _lists_problems_at_entry(record)
    later = date.fromisoformat(record["attached_on"]) + timedelta(days=1)
    record["problems_at_entry"] = [{"problem": "health", "identified_on": later.isoformat()}]


def _break_built_in_indicator(record: Record) -> None:
    # an observation of an indicator a plan reads from the record's own lists (offences)
    _lists_problems_at_entry(record)  # a record that may hold observations
    record["observations"] = [{"indicator": "offences", "date": record["attached_on"]}]


def _break_fractional_float_observation(record: Record) -> None:
    record["observations"] = [{"indicator": "eviction_notice", "date": "2016-01-01", "value": 0.5}]


def _break_datetime_for_date(record: Record) -> None:
    record["attached_on"] += "T00:00:00Z"


def _break_exponent_money(record: Record) -> None:
    record["payments"] = [{"kind": "attachment_fee", "amount": "32e2"}]


def _break_far_future_date(record: Record) -> None:
    record["members"][0]["date_of_birth"] = "9999-12-31"


def _break_float_count(record: Record) -> None:
    _child_row(record, possible_sessions=120.0)


def _break_huge_money(record: Record) -> None:
    record["payments"] = [{"kind": "attachment_fee", "amount": 10**26}]


def _break_number_for_flag(record: Record) -> None:
    _child_row(record, on_roll=1)


def _break_text_for_count(record: Record) -> None:
    _child_row(record, possible_sessions="120")


def _break_timestamp_for_date(record: Record) -> None:
    record["attached_on"] = 1370822400


def _break_whole_float_money(record: Record) -> None:
    record["payments"] = [{"kind": "attachment_fee", "amount": 3200.0}]


def _break_unknown_field(record: Record) -> None:
    record["surname"] = "Smith"


def _break_missing_field(record: Record) -> None:
    del record["attached_on"]


def _break_bad_date(record: Record) -> None:
    record["attached_on"] = "2013-02-30"


def _break_bad_identifier(record: Record) -> None:
    record["family_id"] = "has spaces/and slashes"


_BREAK = {
    "absences_exceed_sessions": _break_absences_exceed_sessions,
    "bad_date": _break_bad_date,
    "bad_identifier": _break_bad_identifier,
    "born_after_event": _break_born_after_event,
    "built_in_indicator": _break_built_in_indicator,
    "control_character": _break_control_character,
    "datetime_for_date": _break_datetime_for_date,
    "duplicate_person_id": _break_duplicate_person_id,
    "duplicate_problem": _break_duplicate_problem,
    "duplicate_term": _break_duplicate_term,
    "end_before_start": _break_end_before_start,
    "exponent_money": _break_exponent_money,
    "far_future_date": _break_far_future_date,
    "float_count": _break_float_count,
    "fractional_float_money": _break_fractional_float_money,
    "fractional_float_observation": _break_fractional_float_observation,
    "huge_money": _break_huge_money,
    "identified_after_attachment": _break_identified_after_attachment,
    "missing_field": _break_missing_field,
    "negative_count": _break_negative_count,
    "negative_money": _break_negative_money,
    "number_for_flag": _break_number_for_flag,
    "payment_not_in_programme": _break_payment_not_in_programme,
    "problem_not_in_programme": _break_problem_not_in_programme,
    "text_for_count": _break_text_for_count,
    "timestamp_for_date": _break_timestamp_for_date,
    "unknown_field": _break_unknown_field,
    "unknown_person": _break_unknown_person,
    "whole_float_money": _break_whole_float_money,
}
assert tuple(_BREAK) == BREAKAGES
