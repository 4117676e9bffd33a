"""A compiled mirror of the family record (msgspec Structs): the batch's fast accept.

pydantic's `pbr.records.Family` is the authority on what a record is. For a batch evaluating raw
JSON, `decode_family` first tries msgspec Structs with the same fields, in the same order, with
the same defaults and constraints; it returns a record only when pydantic would accept the same
bytes and would serialise it to the same canonical JSON, and None otherwise (then the caller
takes the pydantic path, so every rejection and its message stay pydantic's). About 9x faster
to validate and 6x faster to serialise than pydantic-core here. The rules read records by their
attributes and `member_birthdays()`, so they run unchanged on a Struct.

What msgspec cannot say in a type is checked after decoding, by the functions the record models
validate with (`pbr._scalars`, `pbr.money`, `pbr._record_checks`; none needs pydantic): money and
exact numbers (in ``__post_init__``) and the family's cross-field check; and here, the family's
and members' ids, dates within `EARLIEST_DATE`..`LATEST_DATE` and keys given twice (msgspec keeps
the last; pbr refuses the record). An academic year is one of the 199 texts pydantic accepts,
as a `Literal`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast, get_args, get_origin

import msgspec

from pbr._record_checks import (
    EARLIEST_TERM_END,
    FORMAT_CHARACTERS,
    AsbKind,
    Benefit,
    FamilyNeed,
    PaymentKind,
    PhaseTwoProblem,
    Problem,
    Programme,
    lists_plainly_consistent,
    plainly_consistent,
)
from pbr._scalars import MAX_COUNT, exact_number, number_text
from pbr.money import money_field, money_text
from pbr.periods import EARLIEST_DATE, LATEST_DATE, TermName

if TYPE_CHECKING:
    from pbr.records import Family

__all__ = ["STRUCTS", "canonical_json", "decode_family", "is_compiled"]

# Patterns use \A and \Z: msgspec matches with Python's `re`, where `$` also matches before a
# final newline; pydantic-core's Rust regex does not (so "A1\n" must be refused here too).
Identifier = str
"""The family's and each member's id: matched after decoding (`_identifier`), not by msgspec,
whose pattern costs 0.27 µs an id where a plain id (letters and digits) is proved in 0.05."""
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_UNSPACED = r"\A\S(?:[\s\S]*\S)?\Z"
"""No white space at either edge (`pbr.records.Label`'s `unspaced_text`; ``\\s`` is `str.isspace`)."""
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=_UNSPACED)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_UNSPACED)]
Indicator = Annotated[str, msgspec.Meta(pattern=r"\A[a-z][a-z0-9_]{0,63}\Z")]
MemberId = str
"""A member's `person_id` in an event: `Family`'s consistency check proves it is one of the members'
(each matched as an identifier), so the pattern is not matched again."""
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
ACADEMIC_YEARS = tuple(f"{year}/{(year + 1) % 100:02d}" for year in range(1900, 2099))
"""Every academic year `pbr.records.AcademicYear` accepts: ``1900/01`` to ``2098/99``."""
if TYPE_CHECKING:
    AcademicYear = str
else:  # matched in msgspec's C, one look-up; each year decoded is one text object, its hash kept
    AcademicYear = Literal[ACADEMIC_YEARS]
if TYPE_CHECKING:
    MoneyIn = Decimal
    NumberIn = Decimal
else:  # decoded as JSON gives them, then converted by pbr's own validators in __post_init__
    MoneyIn = int | str
    NumberIn = int | str

# Record parts are frozen, keyword-only and refuse unknown keys, as pydantic's models; and hold
# only text, numbers, dates and other parts, so can never be in a reference cycle: gc=False keeps
# them out of the cyclic collector's rescans.


class Member(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.Member`."""

    person_id: Identifier
    date_of_birth: date
    expectant: bool = False


class Offence(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.Offence`."""

    person_id: MemberId
    date: date


class AsbIncident(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.AsbIncident`."""

    person_id: MemberId | None = None
    date: date
    kind: AsbKind | None = None


class SchoolTermRecord(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False
):
    """`pbr.records.SchoolTermRecord`."""

    person_id: MemberId
    academic_year: AcademicYear
    term: TermName
    possible_sessions: Count
    unauthorised_absences: Count
    fixed_term_exclusions: Count = 0
    permanently_excluded: bool = False
    alternative_provision: bool = False
    on_roll: bool = True


class BenefitSpell(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.BenefitSpell`."""

    person_id: MemberId
    benefit: Benefit
    start: date
    end: date | None = None


class EmploymentSpell(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False
):
    """`pbr.records.EmploymentSpell`."""

    person_id: MemberId
    start: date
    end: date | None = None


class WorkProgrammeReferral(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False
):
    """`pbr.records.WorkProgrammeReferral`."""

    person_id: MemberId
    date: date
    provision: Literal["work_programme", "esf"]


class Payment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.Payment`: the amount is checked and made exact by `pbr.money`'s validator."""

    kind: PaymentKind
    amount: MoneyIn
    paid_on: date | None = None
    claim_id: Code | None = None

    def __post_init__(self) -> None:
        amount = money_field(self.amount)
        if str(amount) != money_text(amount):  # msgspec writes str(): pydantic's text too?
            raise ValueError("not written as pydantic writes it")
        msgspec.structs.force_setattr(self, "amount", amount)


class EntryProblem(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.EntryProblem`."""

    problem: PhaseTwoProblem | FamilyNeed
    identified_on: date | None = None
    evidence: Note | None = None


class Observation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """`pbr.records.Observation`: the value is checked by `pbr._strict`'s validator."""

    indicator: Indicator
    date: date
    value: NumberIn = Decimal(1)
    person_id: MemberId | None = None
    source: Note | None = None

    def __post_init__(self) -> None:
        if type(self.value) is not Decimal:  # not the default
            value = exact_number(self.value)
            if str(value) != number_text(value):  # not 1E-7 where pydantic writes 0.0000001
                raise ValueError("not written as pydantic writes it")
            msgspec.structs.force_setattr(self, "value", value)


class CompiledFamily(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, weakref=True
):
    """`pbr.records.Family` (weak references allowed: phase one keeps its evidence by one)."""

    family_id: Identifier
    local_authority: Label | None = None
    programme: Programme | None = None
    attached_on: date
    identified_for: tuple[Problem, ...] | None = None
    local_discretion: tuple[Code, ...] = ()
    members: Annotated[tuple[Member, ...], msgspec.Meta(min_length=1)]
    offences: tuple[Offence, ...] = ()
    asb_incidents: tuple[AsbIncident, ...] = ()
    school_terms: tuple[SchoolTermRecord, ...] = ()
    benefit_spells: tuple[BenefitSpell, ...] = ()
    employment_spells: tuple[EmploymentSpell, ...] = ()
    work_programme: tuple[WorkProgrammeReferral, ...] = ()
    payments: tuple[Payment, ...] = ()
    problems_at_entry: tuple[EntryProblem, ...] = ()
    observations: tuple[Observation, ...] = ()

    def member_birthdays(self) -> dict[str, date]:
        """Each member's date of birth keyed by `person_id` (as `Family.member_birthdays`)."""
        return {m.person_id: m.date_of_birth for m in self.members}


STRUCTS: dict[str, type[msgspec.Struct]] = {
    "Member": Member,
    "Offence": Offence,
    "AsbIncident": AsbIncident,
    "SchoolTermRecord": SchoolTermRecord,
    "BenefitSpell": BenefitSpell,
    "EmploymentSpell": EmploymentSpell,
    "WorkProgrammeReferral": WorkProgrammeReferral,
    "Payment": Payment,
    "EntryProblem": EntryProblem,
    "Observation": Observation,
    "Family": CompiledFamily,
}
"""Each record model of `pbr.records` by name, and its mirror (a test compares their fields)."""


# Keys given twice. msgspec keeps the last value of a repeated key; pbr refuses the record. So
# the record is decoded a second time into a "given keys" mirror: its fields default to UNSET
# (left out when encoded) and every value but a record part is decoded as plain JSON. Encoding it
# writes each key the record gave once, without the white space between: the colons it holds
# are the record's own (keys' and text's), less at least one for every key given twice. Equal
# counts prove no key was repeated. Text can also write a colon as ``\u003a``, which would come
# out as a colon; a record holding ``\u003`` is mirrored with every value kept as written (Raw).
def _given_keys_mirror(struct: type[msgspec.Struct], leaf: Any) -> type[msgspec.Struct]:
    fields = [
        (field.name, _given_keys_type(field.type, leaf), msgspec.UNSET)
        for field in msgspec.structs.fields(struct)
    ]
    return msgspec.defstruct(
        f"GivenKeys{struct.__name__}", fields, kw_only=True, forbid_unknown_fields=True, gc=False
    )


def _given_keys_type(kind: Any, leaf: Any) -> Any:
    """`kind` with each record part replaced by its mirror, and anything else by `leaf`."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return _given_keys_mirror(kind, leaf)
    origin, args = get_origin(kind), get_args(kind)
    if origin is Annotated:
        return _given_keys_type(args[0], leaf)
    if origin is tuple and args[1:] == (...,):
        part = _given_keys_type(args[0], leaf)
        if part is not leaf:
            return tuple[part, ...]  # type: ignore[valid-type]
    return leaf


def _keys_given_once(data: bytes) -> bool:
    """Whether no object in `data` (which decoded as a family) gives a key twice."""
    return _scanned_once(data) or _decoded_once(data)


def _decoded_once(data: bytes) -> bool:
    """`_keys_given_once` in Python: the mirror's colons (what the C scan cannot prove)."""
    decode = _decode_as_written if b"\\u003" in data else _decode_given
    return data.count(b":") == _encode(decode(data)).count(b":")


def _not_scanned(data: bytes) -> bool:
    """Stands in for the C scan where pbr was installed without a C compiler: proves nothing."""
    return False


_BAD_YEAR = re.compile(rb':"(?!19|20)[0-9]{4}-[0-9]{2}-[0-9]{2}"')
"""A value in canonical JSON that looks like a date outside 1900-2099 (then pydantic decides)."""
if (date(1900, 1, 1), date(2099, 12, 31)) != (EARLIEST_DATE, LATEST_DATE):
    raise ImportError("pbr._compiled's date check is written for 1900-01-01 to 2099-12-31")


def _dates_searched(canonical: bytes) -> bool:
    """Whether no value of the canonical JSON looks like a date outside 1900-2099."""
    return _BAD_YEAR.search(canonical) is None


# The same two checks in one pass over the bytes each, in C (`pbr._jsonscan`), where pbr was
# built with a C compiler: about 24 µs less a 5.5 KB record. The C key scan answers True only
# when it proved no key given twice; else the Python proof decides.
_scanned_once: Callable[[bytes], bool] = _not_scanned
_dates_in_bounds: Callable[[bytes], bool] = _dates_searched
_plain_canonical: Callable[[bytes], bool] = _not_scanned
"""Both checks of the canonical JSON in one pass (the dates, the bytes of a control character):
True proves both; False leaves each to be made on its own. About 1.5 µs less a record."""
try:
    from pbr import _jsonscan
except ImportError:  # pragma: no cover - built without a C compiler
    pass
else:
    _scanned_once = _jsonscan.keys_given_once
    _dates_in_bounds = _jsonscan.dates_in_bounds
    _plain_canonical = _jsonscan.plain_canonical


def _facts_not_proved(family: object, earliest_term_end: dict[str, date | None]) -> bool:
    """Stands in for the C check where pbr was installed without a C compiler: proves nothing."""
    return False


_facts_proved: Callable[[object, dict[str, date | None]], bool] = _facts_not_proved
"""The cross-field check's loops over members, events, spells and school terms, in C
(`pbr._facts`): True proves them; False leaves the whole check to `plainly_consistent`."""
try:
    from pbr import _facts

    _facts.learn(
        CompiledFamily,
        Member,
        Offence,
        AsbIncident,
        SchoolTermRecord,
        BenefitSpell,
        EmploymentSpell,
        WorkProgrammeReferral,
        Observation,
    )
except (ImportError, TypeError):  # pragma: no cover - no C compiler, or Structs laid out otherwise
    pass
else:
    _facts_proved = _facts.proved

_last: list[tuple[object, bytes]] = [(None, b"")]
"""The last family decoded and its canonical JSON (computed in the check; the hash reuses it).

One tuple, replaced whole: a thread reading it never pairs one family with another's bytes."""
_decode = msgspec.json.Decoder(CompiledFamily).decode
_decode_given = msgspec.json.Decoder(_given_keys_mirror(CompiledFamily, Any)).decode
_decode_as_written = msgspec.json.Decoder(_given_keys_mirror(CompiledFamily, msgspec.Raw)).decode
_encode = msgspec.json.Encoder(decimal_format="string").encode


def canonical_json(family: Family) -> bytes:
    """A compiled record's canonical JSON: byte for byte pydantic's ``to_json`` of the same record."""
    last, known = _last[0]
    return known if last is family else _encode(family)


def is_compiled(family: object) -> bool:
    """Whether `family` is a compiled record (from `decode_family`), not a pydantic `Family`."""
    return type(family) is CompiledFamily


_MAY_HOLD_CONTROL = re.compile(rb"\\[bfnrtu]|\x7f|\xc2[\x80-\x9f]")
"""A control character as the canonical JSON writes it (or an escaped backslash before a letter)."""
_FORMAT = re.compile(f"[{FORMAT_CHARACTERS}]")
"""A line or paragraph separator or a format character (`pbr._record_checks.FORMAT_CHARACTERS`):
canonical JSON writes them as they are, and the C scan looks only for a backslash, DEL and 0xC2."""


def decode_family(raw: str | bytes, max_bytes: int) -> Family | None:
    """The record as a compiled `Family` when pydantic would accept it, else None.

    None means only "not proved here": the caller validates with pydantic (`pbr.io.parse_family`),
    which accepts or rejects with its own messages.
    """
    try:
        data = raw if isinstance(raw, bytes) else raw.encode()
        if len(data) > max_bytes:
            return None
        family = _decode(data)
        if not _keys_given_once(data):
            return None
        # The one place a compiled record poses as a `Family`: it has the same fields and
        # values, and the rules only read them (tests/test_compiled_record.py holds it to that).
        typed = cast("Family", family)
        # The C check proves the family's and members' ids and the facts consistent, every
        # event's person_id a member's; what it cannot prove, Python decides.
        if not (_facts_proved(family, EARLIEST_TERM_END) and lists_plainly_consistent(typed)):
            if not _identifier(family.family_id):
                return None
            for member in family.members:
                if not _identifier(member.person_id):
                    return None
            if not plainly_consistent(typed):
                return None
        canonical = _encode(family)
        if not _plain_canonical(canonical):
            if not _dates_in_bounds(canonical):
                return None
            # JSON escapes every C0 control character: a text with no backslash, DEL or lead
            # byte of U+0080-U+00BF holds none; one that may goes to pydantic's exact check.
            if (
                b"\\" in canonical or b"\x7f" in canonical or b"\xc2" in canonical
            ) and _MAY_HOLD_CONTROL.search(canonical) is not None:
                return None
        # A text beyond ASCII may hold a separator or a format character: pydantic refuses it.
        if not canonical.isascii() and _FORMAT.search(canonical.decode()) is not None:
            return None
    except Exception:  # any doubt at all: pydantic decides
        return None
    _last[0] = (family, canonical)
    return typed


_IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _identifier(text: str) -> bool:
    """Whether `text` matches `pbr.records.Identifier`'s pattern (letters and digits at once)."""
    if text.isascii() and text.isalnum() and len(text) <= 64:
        return True
    return _IDENTIFIER.fullmatch(text) is not None
