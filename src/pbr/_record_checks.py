"""What a family record must satisfy beyond its fields' types, without pydantic.

The record's vocabularies (programmes, problems, benefits, payment kinds), the academic-year
check and the cross-field checks (members, dates, terms, problems at entry). `pbr.records`'
models validate with them, and the compiled record (`pbr._compiled`) checks a batch's records
with the same functions, so a batch of valid records never imports pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pbr.money import MAX_MONEY
from pbr.periods import TERMS, TermName, default_term
from pbr.programmes._registry import BUNDLED

if TYPE_CHECKING:
    from pbr.programmes import Programme as _Programme
    from pbr.records import BenefitSpell, EmploymentSpell, Family, Payment

__all__ = [
    "ACADEMIC_YEARS",
    "COMPARES_NUMBERS",
    "EARLIEST_TERM_END",
    "AsbKind",
    "Benefit",
    "FamilyNeed",
    "PaymentKind",
    "PhaseTwoProblem",
    "Problem",
    "Programme",
    "academic_year",
    "consistency_problems",
    "control_character",
    "lists_plainly_consistent",
    "plainly_consistent",
    "too_much_paid",
    "unspaced_text",
]

if TYPE_CHECKING:
    Programme = Literal["tf-phase-1", "tf-phase-2", "supporting-families"]
else:  # the ids of the bundled programmes, from their one registry line each
    Programme = Literal[tuple(programme_id for programme_id, _ in BUNDLED)]
Problem = Literal["crime_asb", "education", "work"]
"""Phase one's three national problems."""
PhaseTwoProblem = Literal[
    "crime_asb", "education", "children_need_help", "work", "domestic_abuse", "health"
]
"""Phase two's six headline problems (tf-rules §2, S32, S33)."""
FamilyNeed = Literal[
    "education",
    "early_years",
    "health",
    "substance_use",
    "family_relationships",
    "child_safety",
    "crime",
    "domestic_abuse",
    "housing",
    "financial_stability",
]
"""Supporting Families' ten headline outcomes, as needs at entry (tf-rules §3, S39)."""
Benefit = Literal["JSA", "ESA", "IB", "IS", "CA", "SDA", "UC"]
AsbKind = Literal["asbo", "asb_injunction", "abc", "housing_asb_action", "recorded_asb"]
PaymentKind = Literal[
    "attachment_fee",
    "crime_asb_education",
    "progress_to_work",
    "continuous_employment",
    "sustained_progress",
]


ACADEMIC_YEARS = tuple(f"{year}/{(year + 1) % 100:02d}" for year in range(1900, 2099))
"""Every academic year `academic_year` accepts, ``1900/01`` to ``2098/99``: the schema's enum."""


@lru_cache(maxsize=256)
def academic_year(value: str) -> str:
    """`value` (``YYYY/YY`` text) if its second year follows its first (pydantic's error if not).

    >>> academic_year("2012/13")
    '2012/13'
    """
    start, _, end = value.partition("/")
    if (int(start) + 1) % 100 != int(end) or not 1900 <= int(start) <= 2098:
        from pydantic_core import PydanticCustomError

        if (int(start) + 1) % 100 != int(end):
            raise PydanticCustomError(
                "bad_academic_year",
                "academic year '{value}': {end} does not follow {start}",
                {"value": value, "start": start, "end": end},
            )
        raise PydanticCustomError(
            "bad_academic_year",
            "academic year '{value}' is outside the dates a record may hold (1900/01 to 2098/99)",
            {"value": value},
        )
    return value


FORMAT_CHARACTERS = (
    "\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891\\u08e2\\u180e\\u200b-\\u200f"
    "\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
)
"""The line and paragraph separators (U+2028, U+2029) and every format character (Unicode's
``Cf``) up to U+FFFF, as a pattern's class (for Python's `re` and JSON Schema alike).

A separator starts a new line for Python's ``splitlines``, editors and browsers; a format
character is shown as nothing, or reorders the text around it (the bidirectional embeddings,
overrides, isolates and marks U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), or hides
where a word breaks (the zero-width space, joiners and word joiner U+200B–U+200D, U+2060, the
byte-order mark U+FEFF, the soft hyphen U+00AD). Either changes what a reader sees: a
council's text could draw a line of its own in a working paper. The format characters beyond
U+FFFF (tags, musical and hieroglyph format controls) are not in it: a JSON Schema pattern
cannot name them alike in every dialect; every report writes them as escapes
(`pbr._terminal.printable`)."""
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{FORMAT_CHARACTERS}]")
CONTROL_FREE = f"^[^\\u0000-\\u001f\\u007f-\\u009f{FORMAT_CHARACTERS}]*$"
"""JSON Schema's pattern for text with no control, separator or format character (what
`printable_text` accepts)."""
_SPACES = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
"""The characters Python's `str.isspace` calls space that are no control character, as a
pattern's class: JSON Schema's ``\\s`` is another set (it takes U+FEFF, say)."""
UNSPACED_CONTROL_FREE = (
    f"^(?![{_SPACES}])(?![\\s\\S]*[{_SPACES}]$)"
    f"[^\\u0000-\\u001f\\u007f-\\u009f{FORMAT_CHARACTERS}]*$"
)
"""JSON Schema's pattern for what `unspaced_text` and `printable_text` accept together."""


def _character_kind(character: str) -> str:
    """What `_CONTROL` found: a control character, a line or paragraph separator, a format one."""
    if character <= "\x9f":
        return "a control character"
    if character == "\u2028":
        return "a line separator"
    if character == "\u2029":
        return "a paragraph separator"
    return "a format character (shown as nothing, or reordering the text around it)"


def control_character(value: str) -> str | None:
    r"""What makes `value` unprintable (its first control character and where), or None.

    A control character (U+0000–U+001F, U+007F–U+009F), a line or paragraph separator or a
    format character (`FORMAT_CHARACTERS`). The one rule for names, references and notes:
    `printable_text` (the records' readers) and the payments ledger's writers
    (`pbr.ledger.Entry.check`) both apply it.

    >>> control_character("C\tTAB")
    'a control character, U+0009, at character 2'
    >>> control_character("C-1\u2028MET")
    'a line separator, U+2028, at character 4'
    >>> control_character("C-1") is None
    True
    """
    found = _CONTROL.search(value)
    if found is None:
        return None
    return (
        f"{_character_kind(found.group())}, U+{ord(found.group()):04X}, at character "
        f"{found.start() + 1}"
    )


def printable_text(value: str) -> str:
    r"""`value` unless it holds a control, separator or format character (`control_character`).

    Control characters are U+0000–U+001F and U+007F–U+009F; separators U+2028 and U+2029; format
    characters the rest of `FORMAT_CHARACTERS`. A council's name, a claim reference or a note is
    printed in reports, CSV files and terminals, where a newline, an escape, a NUL, a line
    separator or a right-to-left override would change what a reader sees.

    >>> printable_text("Leeds")
    'Leeds'
    """
    found = _CONTROL.search(value)
    if found is not None:
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError(
            "control_character",
            "{kind}, {character}, at character {position}: names, references and notes must be "
            "printable text",
            {
                "kind": _character_kind(found.group()),
                "character": f"U+{ord(found.group()):04X}",
                "position": found.start() + 1,
            },
        )
    return value


def unspaced_text(value: str) -> str:
    """`value` unless a space (or tab, or any white space) starts or ends it.

    A council's name is how decisions are grouped and totalled: ``"Leeds "`` would be a council
    of its own. pbr never trims (that would change what was given); council tables refuse such
    a cell too (``space_at_edge``).

    >>> unspaced_text("North Yorkshire")
    'North Yorkshire'
    """
    if value != value.strip():
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError(
            "space_at_edge",
            "has a space or tab at its start or end; pbr does not trim: remove it",
        )
    return value


_Problem = tuple[str, tuple[str | int, ...], Any, str]


COMPARES_NUMBERS = frozenset({"absences_exceed_sessions"})
"""The cross-field problems that compare numbers of one part of a record (a school term's).

Beside a number too long to read, read as 0 to find the record's other errors, such a problem
is not known (`pbr.io`).
"""


BUILT_IN_INDICATORS_READ_FROM: dict[str, str] = {
    "offences": "offences",
    "asb_incidents": "asb_incidents",
    "unauthorised_absence_percent": "school_terms",
    "fixed_term_exclusions": "school_terms",
}
"""The outcome plans' built-in indicators (`pbr.plans.BUILT_IN_INDICATORS`) and the record's own
list each is read from: an observation of one would never be read, so it is refused."""


def _built_in_observations(family: Family) -> Iterator[_Problem]:
    """Each observation named like a built-in indicator: a plan reads the record's list instead."""
    for i, obs in enumerate(family.observations):
        read_from = BUILT_IN_INDICATORS_READ_FROM.get(obs.indicator)
        if read_from is not None:
            yield (
                "built_in_indicator",
                ("observations", i, "indicator"),
                obs.indicator,
                f"{obs.indicator!r} is a built-in indicator, read from the record's own "
                f"{read_from}: an observation of it would never be read; record it in {read_from}",
            )


def consistency_problems(family: Family) -> Iterator[_Problem]:
    """Yield every cross-field problem: (error type, field path, bad value, message)."""
    born: dict[str, date] = {}
    for i, member in enumerate(family.members):
        if member.person_id in born:
            yield (
                "duplicate_person_id",
                ("members", i, "person_id"),
                member.person_id,
                f"person_id {member.person_id!r} appears more than once in members",
            )
        born.setdefault(member.person_id, member.date_of_birth)

    dated: list[tuple[str, int, str | None, date, str]] = []
    for i, o in enumerate(family.offences):
        dated.append(("offences", i, o.person_id, o.date, "date"))
    for i, a in enumerate(family.asb_incidents):
        dated.append(("asb_incidents", i, a.person_id, a.date, "date"))
    for i, w in enumerate(family.work_programme):
        dated.append(("work_programme", i, w.person_id, w.date, "date"))
    for i, obs in enumerate(family.observations):
        dated.append(("observations", i, obs.person_id, obs.date, "date"))
    yield from _entry_problem_issues(family)
    if family.observations:
        yield from _built_in_observations(family)
    if family.payments:
        yield from _payment_issues(family)
        too_much = too_much_paid(family.payments)
        if too_much is not None:
            yield too_much
    spells: list[tuple[str, int, BenefitSpell | EmploymentSpell]] = [
        *(("benefit_spells", i, s) for i, s in enumerate(family.benefit_spells)),
        *(("employment_spells", i, s) for i, s in enumerate(family.employment_spells)),
    ]
    for name, i, spell in spells:
        dated.append((name, i, spell.person_id, spell.start, "start"))
        if spell.end is not None and spell.end < spell.start:
            yield (
                "end_before_start",
                (name, i, "end"),
                spell.end.isoformat(),
                f"end {spell.end} is before start {spell.start}",
            )
    seen_terms: set[tuple[str, str, str]] = set()
    for i, t in enumerate(family.school_terms):
        term_end = default_term(t.academic_year, t.term).end
        dated.append(("school_terms", i, t.person_id, term_end, "academic_year"))
        if t.unauthorised_absences > t.possible_sessions:
            yield (
                "absences_exceed_sessions",
                ("school_terms", i, "unauthorised_absences"),
                t.unauthorised_absences,
                f"unauthorised absences {t.unauthorised_absences} exceed possible sessions "
                f"{t.possible_sessions}",
            )
        key = (t.person_id, t.academic_year, t.term)
        if key in seen_terms:
            yield (
                "duplicate_term",
                ("school_terms", i, "term"),
                t.term,
                f"a second row for {t.person_id} in {t.academic_year} {t.term}",
            )
        seen_terms.add(key)

    for field, i, person_id, when, date_field in dated:
        if person_id is None:
            continue
        dob = born.get(person_id)
        if dob is None:
            yield (
                "unknown_person",
                (field, i, "person_id"),
                person_id,
                f"person_id {person_id!r} is not a member of the family",
            )
        elif dob > when and field == "school_terms":  # the value given is the year, not a date
            row = family.school_terms[i]
            yield (
                "born_after_event",
                (field, i, date_field),
                row.academic_year,
                f"{field}[{i}]: the {row.term} term of {row.academic_year} ends on {when}, "
                f"before {person_id}'s date of birth {dob}",
            )
        elif dob > when:
            yield (
                "born_after_event",
                (field, i, date_field),
                when.isoformat(),
                f"{field}[{i}] ({when}) is before {person_id}'s date of birth {dob}",
            )


def plainly_consistent(family: Family) -> bool:
    """Whether `consistency_problems` would find nothing, checked without building any problem.

    The same checks in direct loops, stopping at the first problem (then the generator lists
    them all, in its order, with its messages): about 10 µs for a 5.5 KB record where the
    generator takes 16. A property test holds it to "true exactly when the generator yields
    nothing and does not raise".
    """
    born: dict[str, date] = {}
    for member in family.members:
        if member.person_id in born:
            return False
        born[member.person_id] = member.date_of_birth
    if not lists_plainly_consistent(family):
        return False
    birthday = born.get
    for events in (family.offences, family.work_programme):
        for event in events:
            dob = birthday(event.person_id)
            if dob is None or dob > event.date:
                return False
    for maybe_household in (family.asb_incidents, family.observations):
        for noted in maybe_household:  # person_id is null for the household or no one
            if noted.person_id is not None:
                dob = birthday(noted.person_id)
                if dob is None or dob > noted.date:
                    return False
    for spells in (family.benefit_spells, family.employment_spells):
        for spell in spells:
            dob = birthday(spell.person_id)
            if (
                dob is None
                or dob > spell.start
                or (spell.end is not None and spell.end < spell.start)
            ):
                return False
    rows = family.school_terms
    slots = set()  # (child, year, term): a term given twice for a child is one slot
    for row in rows:
        if row.unauthorised_absences > row.possible_sessions:
            return False
        person_id, year = row.person_id, row.academic_year
        slots.add((person_id, year, row.term))
        dob = birthday(person_id)
        if dob is None:
            return False
        earliest = EARLIEST_TERM_END.get(year) or _earliest_term_end(year)
        if earliest is None or dob > earliest:  # rare: look at the row's own term
            end = _term_end(year, row.term)
            if end is None or dob > end:
                return False
    return len(slots) == len(rows)


def lists_plainly_consistent(family: Family) -> bool:
    """`plainly_consistent`'s checks of the lists few records give (entry problems, payments...).

    Problems at entry, observations' indicators and payments. The rest (members, and the dates and people of events, spells and school terms) a compiled
    record may have proved in C (`pbr._facts`): then only these are left to check.
    """
    if (
        family.problems_at_entry or family.observations or family.identified_for is not None
    ) and next(_entry_problem_issues(family), None) is not None:
        return False
    if family.observations and next(_built_in_observations(family), None) is not None:
        return False
    return not family.payments or (
        _payments_plainly_allowed(family)
        and (len(family.payments) == 1 or too_much_paid(family.payments) is None)
    )


EARLIEST_TERM_END: dict[str, date | None] = {}
"""`_earliest_term_end` of each academic year seen: one dict look-up a school-term row (the C
check, `pbr._facts`, reads it too, and leaves a year not in it to this module)."""


def _earliest_term_end(academic_year: str) -> date | None:
    """The earliest end of the year's three terms (autumn's); None if one of them has no date."""
    ends = [_term_end(academic_year, name) for name in TERMS]
    earliest = None if None in ends else min(end for end in ends if end is not None)
    EARLIEST_TERM_END[academic_year] = earliest  # bounded: at most 10,000 valid year texts
    return earliest


def _term_end(academic_year: str, term: TermName) -> date | None:
    """The term's last day; None when no date can hold it (``0000/01`` autumn, ``9999/00`` spring).

    The full check raises there, so the fast one must not pass such a row.
    """
    try:
        return default_term(academic_year, term).end
    except ValueError:
        return None


def _listed_at_entry(
    programme_id: str | None, attached_on: date
) -> tuple[str, frozenset[str]] | None:
    """The family's programme as named, and the problems it allows at entry; None for phase one.

    Its stated programme's, else those of the programmes whose attachment dates cover the
    family's when every one of them lists its problems so (a record of 2016 stating no
    programme is phase two's, of 2022 Supporting Families'; one of 2014/15 may be phase one's,
    whose `identified_for` is checked as phase one's).
    """
    found = _programmes_of(programme_id, attached_on)
    if found is None or any(p.states_problems_in != "problems_at_entry" for p in found[1]):
        return None
    named, chosen = found
    return named, frozenset(problem for p in chosen for problem in p.problems)


def _entry_problem_issues(family: Family) -> Iterator[_Problem]:
    """Duplicate problems at entry, and problems outside the stated programme's vocabulary.

    An empty `identified_for` in a later programme's record gives nothing to ignore, so it is
    accepted, as an empty `problems_at_entry` in a phase-one record is.
    """
    listed = _problems_listed_at_entry(family)
    named, allowed = listed if listed is not None else ("", None)
    if family.identified_for:
        yield from _stated_twice(family.identified_for)
    if allowed is not None and family.programme is not None and family.identified_for:
        # stating no programme, it is warned of at evaluation (IDENTIFIED_FOR_IGNORED)
        yield (
            "identified_for_not_in_programme",
            ("identified_for",),
            list(family.identified_for),
            f"identified_for is phase one's problem list; {named} records list their "
            "problems in problems_at_entry",
        )
    if allowed is None and family.programme is not None:
        # a programme that reads neither list (phase one); stating no programme, they are
        # warned of at evaluation (LATER_PROGRAMME_LISTS_IGNORED)
        yield from _lists_not_read(family, family.programme)
    seen: set[str] = set()
    for i, entry in enumerate(family.problems_at_entry):
        if entry.problem in seen:
            yield (
                "duplicate_problem",
                ("problems_at_entry", i, "problem"),
                entry.problem,
                f"problem {entry.problem!r} appears more than once in problems_at_entry",
            )
        seen.add(entry.problem)
        if allowed is not None and entry.problem not in allowed:
            yield (
                "problem_not_in_programme",
                ("problems_at_entry", i, "problem"),
                entry.problem,
                f"{entry.problem!r} is not a problem of {named}; expected one of "
                f"{', '.join(sorted(allowed))}",
            )
        if entry.identified_on is not None and entry.identified_on > family.attached_on:
            yield (
                "identified_after_attachment",
                ("problems_at_entry", i, "identified_on"),
                entry.identified_on.isoformat(),
                f"problem {entry.problem!r} identified on {entry.identified_on}, after attachment "
                f"on {family.attached_on}",
            )


def _stated_twice(identified_for: Sequence[str]) -> Iterator[_Problem]:
    """Each problem of `identified_for` given again: refused, as in problems_at_entry, not merged."""
    seen: set[str] = set()
    for i, problem in enumerate(identified_for):
        if problem in seen:
            yield (
                "duplicate_problem",
                ("identified_for", i),
                problem,
                f"problem {problem!r} appears more than once in identified_for",
            )
        seen.add(problem)


def _lists_not_read(family: Family, programme_id: str) -> Iterator[_Problem]:
    """The later programmes' lists in a record of a programme that reads neither (phase one)."""
    later = " and ".join(p.id for p in _programmes() if p.states_problems_in == "problems_at_entry")
    if family.problems_at_entry:
        yield (
            "problems_at_entry_not_in_programme",
            ("problems_at_entry",),
            [entry.problem for entry in family.problems_at_entry],
            f"problems_at_entry is the problem list of {later}; {programme_id} records give "
            "their problems in identified_for (or leave them to the evidence)",
        )
    if family.observations:
        yield (
            "observations_not_in_programme",
            ("observations",),
            [observation.indicator for observation in family.observations],
            f"observations are read by the outcome plans of {later}; {programme_id} has no "
            "outcome plan and reads none",
        )


def _payments_plainly_allowed(family: Family) -> bool:
    """Whether `_payment_issues` would find nothing: one set of kinds, one look-up, no loop."""
    kinds = {p.kind for p in family.payments}
    found = _payment_kinds_allowed(family)
    return found is None or kinds <= found[1]


def _programmes() -> tuple[_Programme, ...]:
    """`pbr.programmes.programmes()`, imported once (on first use: it imports this module)."""
    if not _PROGRAMMES:
        from pbr.programmes import programmes

        _PROGRAMMES.append(programmes)
    return _PROGRAMMES[0]()


_PROGRAMMES: list[Callable[[], tuple[_Programme, ...]]] = []


def _kinds_allowed(
    programme_id: str | None, attached_on: date
) -> tuple[str, frozenset[str]] | None:
    """The payment kinds the family's programme has, and how to name that programme; None if unknown.

    Its stated programme's, else those of every programme whose attachment dates cover the
    family's attachment (phase one's and phase two's for a 2014/15 early starter): the family
    may be evaluated under any of them, and the evaluation refuses a payment its own rule set
    does not have (`pbr.programmes._kernel.check_payments`). A family no programme covers is
    refused when it is evaluated, so its payments are not checked here.
    """
    found = _programmes_of(programme_id, attached_on)
    if found is None:
        return None
    named, chosen = found
    return named, frozenset(k for p in chosen for k in p.payment_kinds)


def _programmes_of(
    programme_id: str | None, attached_on: date
) -> tuple[str, tuple[_Programme, ...]] | None:
    """The programme stated, or those covering the attachment day, and how to name them."""
    from pbr.programmes import programme

    if programme_id is not None:
        try:
            return programme_id, (programme(programme_id),)
        except KeyError:
            return None
    chosen = tuple(p for p in _programmes() if p.rules.covers(attached_on))
    if not chosen:
        return None
    return (
        f"{' or '.join(p.id for p in chosen)} (the programme{'s' if len(chosen) > 1 else ''} "
        f"covering attachment on {attached_on}; the record states none)"
    ), chosen


class _ByProgramme:
    """An answer about a family's programme kept by (programme stated, attachment day).

    Every family of a batch asks; few pairs recur. Forgotten when the programmes change
    (`pbr.programmes.register`), and when it grows large.
    """

    __slots__ = ("every", "found", "work")

    def __init__(
        self, work: Callable[[str | None, date], tuple[str, frozenset[str]] | None]
    ) -> None:
        self.work = work
        self.every: object = None
        self.found: dict[tuple[str | None, date], tuple[str, frozenset[str]] | None] = {}

    def __call__(self, family: Family) -> tuple[str, frozenset[str]] | None:
        every = _programmes()
        if self.every is not every or len(self.found) > 10_000:
            self.every, self.found = every, {}
        key = (family.programme, family.attached_on)
        found = self.found
        if key not in found:
            found[key] = self.work(*key)
        return found[key]


_problems_listed_at_entry = _ByProgramme(_listed_at_entry)
"""`_listed_at_entry` of a family, kept."""
_payment_kinds_allowed = _ByProgramme(_kinds_allowed)
"""`_kinds_allowed` of a family, kept."""


_SUM = Context(prec=60, rounding=ROUND_HALF_UP)
"""Enough digits to add up any list of amounts exactly, whatever the caller's `decimal` context."""

_NOTHING = Decimal(0)


def too_much_paid(payments: Sequence[Payment]) -> _Problem | None:
    """The problem of payments that add up to more than `pbr.money.MAX_MONEY`, or None.

    Each amount is at most £999,999,999,999.99, but a family's decision reports what was paid
    in all (`paid_to_date`) as money too: payments adding up to more are refused with the
    record (``money_too_large``, at ``payments``), never an error in the middle of evaluating it.
    A payments ledger's payments merged with the record's are checked the same way
    (`pbr.history.merge_payments`).

    >>> from types import SimpleNamespace as Paid
    >>> too_much_paid([Paid(amount=Decimal("999999999999.99")), Paid(amount=Decimal("0.01"))])[3]
    'the payments add up to 1000000000000.00, more than pbr can count: money must be at most 999999999999.99 pounds'
    """
    total = _NOTHING
    add = _SUM.add
    for payment in payments:
        total = add(total, payment.amount)
    if total.copy_abs() <= MAX_MONEY:  # exact in any context (``-MAX_MONEY`` is rounded in one)
        return None
    from pbr.money import money_text

    return (
        "money_too_large",
        ("payments",),
        [money_text(payment.amount) for payment in payments],
        f"the payments add up to {money_text(total)}, more than pbr can count: money must be "
        f"at most {MAX_MONEY} pounds",
    )


def _payment_issues(family: Family) -> Iterator[_Problem]:
    """Payments of a kind the family's programme does not have (its results and attachment fee).

    Supporting Families pays no attachment fee: a fee listed as paid would use up the room
    its cap leaves for the one results payment.

    A phase-one result paid to a phase-two family would otherwise use up its one results claim,
    and a later programme's result paid to a phase-one family would count against its cap.
    """
    payments = family.payments
    found = _payment_kinds_allowed(family)
    if found is None:
        return
    named, allowed = found
    for i, payment in enumerate(payments):
        if payment.kind not in allowed:
            yield (
                "payment_not_in_programme",
                ("payments", i, "kind"),
                payment.kind,
                f"{payment.kind!r} is not a payment of {named}"
                + (" (it pays no attachment fee)" if payment.kind == "attachment_fee" else "")
                + f"; expected one of {', '.join(sorted(allowed))}",
            )
