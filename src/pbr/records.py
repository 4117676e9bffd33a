"""The family record: `pbr`'s input contract, as frozen pydantic models.

The field names follow ``family-record.md`` (v1) exactly. A record that breaks the contract raises
pydantic's `ValidationError`; every error names the family, the field path and the bad value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from pbr._attribute_docs import describe_fields
from pbr._record_checks import (
    ACADEMIC_YEARS,
    BUILT_IN_INDICATORS_READ_FROM,
    CONTROL_FREE,
    UNSPACED_CONTROL_FREE,
    AsbKind,
    Benefit,
    FamilyNeed,
    PaymentKind,
    PhaseTwoProblem,
    Problem,
    Programme,
    academic_year,
    printable_text,
    unspaced_text,
)
from pbr._record_checks import consistency_problems as _consistency_problems
from pbr._record_checks import plainly_consistent as _plainly_consistent
from pbr._strict import Array, Count, ExactNumber, Flag, IsoDate, ListOrTuple, Money
from pbr._terminal import family_named
from pbr._untracked import untracked
from pbr.periods import TermName

__all__ = [
    "AsbIncident",
    "AsbKind",
    "Benefit",
    "BenefitSpell",
    "EmploymentSpell",
    "EntryProblem",
    "Family",
    "FamilyNeed",
    "Member",
    "Observation",
    "Offence",
    "Payment",
    "PaymentKind",
    "PhaseTwoProblem",
    "Problem",
    "Programme",
    "RecordValidationError",
    "SchoolTermRecord",
    "WorkProgrammeReferral",
]


class RecordValidationError(ValidationError):
    """pydantic's `ValidationError` for a family record, that pickles and deep-copies whole.

    pydantic rebuilds a pickled error from each error's type name alone: pbr's own types
    (``unknown_person``) cannot be rebuilt so, and pydantic's lose the family named in the
    message. This keeps each error's type, loc, input, ctx and message, as a process pool needs.

    >>> import pickle
    >>> try:
    ...     Family.model_validate({"family_id": "F4", "members": []})
    ... except ValidationError as exc:
    ...     again = pickle.loads(pickle.dumps(exc))
    ...     print(again.errors() == exc.errors(), again.errors()[0]["msg"])
    True family 'F4': Field required
    """

    def __reduce__(self) -> tuple[Any, ...]:
        lines = [
            (e["type"], e["loc"], e["msg"], e["input"], e.get("ctx"))
            for e in self.errors(include_url=False)
        ]
        return (_rebuilt, (self.title, lines))


def _uncontexted(error: ValidationError) -> ValidationError:
    """`error`, raised outside the handler of the error it stands for: with no ``__context__``.

    ``raise ... from None`` only hides the context; a pickler of exceptions' chains (tblib, as
    Dask's ``distributed`` installs it) still pickles it, and pydantic's own error holding pbr's
    error types cannot be pickled.
    """
    error.__context__ = None
    error.__cause__ = None
    error.__suppress_context__ = True
    return error


def _rebuilt(title: str, lines: list[tuple[Any, ...]]) -> RecordValidationError:
    """A `RecordValidationError` from what it pickled: each message its own template."""
    return RecordValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(type=PydanticCustomError(kind, message, ctx), loc=loc, input=value)
            for kind, loc, message, value, ctx in lines
        ],
    )


Identifier = Annotated[str, Strict(), Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
"""A pseudonymous reference: 1–64 characters of ``A–Z a–z 0–9 . _ -``."""
_PRINTABLE = {"pattern": CONTROL_FREE}
_UNSPACED = {"pattern": UNSPACED_CONTROL_FREE}
Code = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=64, json_schema_extra=_PRINTABLE),
    AfterValidator(printable_text),
]
"""A council's code or reference (a claim id): 1–64 characters, no control character."""
Label = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=100, json_schema_extra=_UNSPACED),
    AfterValidator(printable_text),
    AfterValidator(unspaced_text),
]
"""A name of up to 100 characters (the council): no control character, no space at an edge."""
Note = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=200, json_schema_extra=_UNSPACED),
    AfterValidator(printable_text),
    AfterValidator(unspaced_text),
]
"""Free text of up to 200 characters (where evidence came from): as a `Label`, longer."""
AcademicYear = Annotated[
    str,
    Strict(),
    # the pattern for the shape (and its error), the enum for the schema: exactly the years
    # `academic_year` accepts (the second following the first, 1900/01 to 2098/99)
    Field(pattern=r"^[0-9]{4}/[0-9]{2}$", json_schema_extra={"enum": list(ACADEMIC_YEARS)}),
    AfterValidator(academic_year),
]

_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    str_strip_whitespace=False,
    json_schema_extra=describe_fields,
    defer_build=True,  # built on first use: a batch of compiled records never needs them
)
"""Every record model's settings; fields are described in the schema by their docstrings."""


class _Event(BaseModel):
    model_config = _CONFIG


class Member(_Event):
    """A person in the household (no names: a pseudonymous `person_id` and a date of birth).

    >>> Member.model_validate({"person_id": "A1", "date_of_birth": "1984-03-12"})
    Member(person_id='A1', date_of_birth=datetime.date(1984, 3, 12), expectant=False)
    """

    person_id: Identifier
    """Unique within the family; events refer to the member by it."""
    date_of_birth: IsoDate
    """Used for ages: children, compulsory school age, adults."""
    expectant: Flag = False
    """Expecting a baby at attachment (Supporting Families eligibility: an expectant parent)."""


class Offence(_Event):
    """A proven offence by a member, dated when it was committed.

    >>> Offence.model_validate({"person_id": "C1", "date": "2013-02-11"}).date
    datetime.date(2013, 2, 11)
    """

    person_id: Identifier
    """The member who committed the offence."""
    date: IsoDate
    """When the offence was committed."""


class AsbIncident(_Event):
    """An anti-social behaviour incident or action; `person_id` is null for a household action.

    >>> incident = AsbIncident.model_validate({"date": "2013-01-20", "kind": "housing_asb_action"})
    >>> incident.person_id, incident.kind
    (None, 'housing_asb_action')
    """

    person_id: Identifier | None = None
    """The member involved, or null for an action against the whole household."""
    date: IsoDate
    """When the incident happened or the action was taken."""
    kind: AsbKind | None = None
    """``asbo``, ``asb_injunction``, ``abc``, ``housing_asb_action`` or ``recorded_asb``."""


class SchoolTermRecord(_Event):
    """One child's attendance and exclusions in one school term.

    >>> row = SchoolTermRecord.model_validate({"person_id": "C1", "academic_year": "2012/13",
    ...     "term": "autumn", "possible_sessions": 150, "unauthorised_absences": 31})
    >>> row.unauthorised_absences, row.possible_sessions, row.fixed_term_exclusions, row.on_roll
    (31, 150, 0, True)
    """

    person_id: Identifier
    """The child."""
    academic_year: AcademicYear
    """The school year, September to August, written ``2012/13``."""
    term: TermName
    """``autumn``, ``spring`` or ``summer``."""
    possible_sessions: Count
    """Sessions the child could have attended (two a school day)."""
    unauthorised_absences: Count
    """Sessions missed without authorisation; at most `possible_sessions`."""
    fixed_term_exclusions: Count = 0
    """Fixed-term exclusions in the term."""
    permanently_excluded: Flag = False
    """Permanently excluded in or before the term."""
    alternative_provision: Flag = False
    """In a pupil referral unit or alternative provision."""
    on_roll: Flag = True
    """On a school roll."""


class BenefitSpell(_Event):
    """A spell on an out-of-work benefit (`end` null while it continues).

    >>> spell = BenefitSpell.model_validate({"person_id": "A1", "benefit": "JSA",
    ...     "start": "2012-06-01"})
    >>> spell.benefit, spell.end
    ('JSA', None)
    """

    person_id: Identifier
    """The adult on the benefit."""
    benefit: Benefit
    """``JSA``, ``ESA``, ``IB``, ``IS``, ``CA``, ``SDA`` or ``UC``."""
    start: IsoDate
    """First day on the benefit."""
    end: IsoDate | None = None
    """Last day on the benefit, or null while it continues."""


class EmploymentSpell(_Event):
    """A spell in work (`end` null while it continues).

    >>> EmploymentSpell.model_validate({"person_id": "A1", "start": "2013-06-03"}).start
    datetime.date(2013, 6, 3)
    """

    person_id: Identifier
    """The adult in work."""
    start: IsoDate
    """First day in work."""
    end: IsoDate | None = None
    """Last day in work, or null while it continues."""


class WorkProgrammeReferral(_Event):
    """A referral to the DWP Work Programme or to ESF provision for families.

    >>> WorkProgrammeReferral.model_validate({"person_id": "A1", "date": "2012-11-20",
    ...     "provision": "esf"}).provision
    'esf'
    """

    person_id: Identifier
    """The adult referred."""
    date: IsoDate
    """The day of the referral."""
    provision: Literal["work_programme", "esf"]
    """``work_programme`` or ``esf``."""


class Payment(_Event):
    """A payment already made for this family (counts against the cap once made).

    Amounts are exact: a decimal string or whole pounds; a float is refused, even a whole one.

    >>> Payment.model_validate({"kind": "attachment_fee", "amount": "3200"}).amount
    Decimal('3200.00')
    >>> Payment.model_validate({"kind": "attachment_fee", "amount": 3200.5})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Payment
    amount
      money must be a decimal string such as '3200.00' or whole pounds, got the number 3200.5 ...
    """

    kind: PaymentKind
    """The attachment fee or the result paid."""
    amount: Money
    """Pounds, exact to the penny."""
    paid_on: IsoDate | None = None
    """When it was paid; a payment dated after the evaluation date is ignored."""
    claim_id: Code | None = None
    """The council's reference for the claim it was paid on."""


class EntryProblem(_Event):
    """A problem (phase two) or need (Supporting Families) the family had at entry, with evidence.

    >>> EntryProblem.model_validate({"problem": "health", "evidence": "GP"})
    EntryProblem(problem='health', identified_on=None, evidence='GP')
    """

    problem: Literal[PhaseTwoProblem, FamilyNeed]
    """A phase-two problem or a Supporting Families need."""
    identified_on: IsoDate | None = None
    """When it was identified; not after attachment."""
    evidence: Note | None = None
    """Where the evidence came from, e.g. ``"school census"`` or ``"police notification"``."""


Indicator = Annotated[
    str,
    Strict(),
    # the pattern for the model; the schema also says what the record check refuses
    # (`built_in_indicator`): a built-in indicator is read from the record's own lists
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        json_schema_extra={"not": {"enum": sorted(BUILT_IN_INDICATORS_READ_FROM)}},
    ),
]
"""An outcome-plan indicator name: lower-case letters, digits and underscores, not a built-in's."""


class Observation(_Event):
    """A dated observation of an outcome-plan indicator (an event when `value` is 1).

    `value` is a whole number or a decimal string (``"7.5"``); fractional floats are refused, as
    for money, so that thresholds are compared exactly.

    >>> Observation.model_validate({"indicator": "gp_visits", "date": "2016-04-02",
    ...     "value": "7.5"}).value
    Decimal('7.5')
    """

    indicator: Indicator
    """The outcome plan's indicator name (lower case, digits, underscores); not a built-in
    indicator's (`offences`, ...), which a plan reads from the record's own lists."""
    date: IsoDate
    """When it was observed."""
    value: ExactNumber = Decimal(1)
    """The amount observed; 1 for an event."""
    person_id: Identifier | None = None
    """The member observed, if any."""
    source: Note | None = None
    """Where the observation came from, e.g. ``"police"``."""


class Family(BaseModel):
    """One family's record, exactly as the interchange format (family-record.md v1) defines it.

    >>> family = Family.model_validate({
    ...     "family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ... })
    >>> family.attached_on
    datetime.date(2012, 10, 15)
    """

    model_config = _CONFIG

    family_id: Identifier
    """The council's pseudonymous reference for the family (no names)."""
    local_authority: Label | None = None
    """The council: its ONS code or its name."""
    programme: Programme | None = None
    """The programme; left out, the first whose dates cover `attached_on`."""
    attached_on: IsoDate
    """The day the council started working with the family (attachment)."""
    identified_for: (
        Annotated[Array[Problem], Field(json_schema_extra={"uniqueItems": True})] | None
    ) = None
    """Phase one's problems at entry, each once; left out, worked out from the evidence."""
    local_discretion: Array[Code] = ()
    """Codes for the council's own local-filter reasons."""
    members: Annotated[tuple[Member, ...], Field(min_length=1), ListOrTuple]
    """The people in the household; at least one."""
    offences: Array[Offence] = ()
    """Proven offences by members."""
    asb_incidents: Array[AsbIncident] = ()
    """Anti-social behaviour incidents and actions."""
    school_terms: Array[SchoolTermRecord] = ()
    """One row per child per school term."""
    benefit_spells: Array[BenefitSpell] = ()
    """Spells on an out-of-work benefit."""
    employment_spells: Array[EmploymentSpell] = ()
    """Spells in work."""
    work_programme: Array[WorkProgrammeReferral] = ()
    """Referrals to the Work Programme or to ESF provision."""
    payments: Array[Payment] = ()
    """What has already been paid for this family."""
    problems_at_entry: Array[EntryProblem] = ()
    """Phase two and Supporting Families: the problems or needs at entry, with evidence."""
    observations: Array[Observation] = ()
    """Phase two and Supporting Families: dated observations of the outcome plan's indicators."""

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """Validate a record given as Python data; every error names the family.

        >>> Family.model_validate({"family_id": "F2", "attached_on": "2013-01-07",
        ...     "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}],
        ...     "offences": [{"person_id": "C9", "date": "2012-11-02"}]})
        Traceback (most recent call last):
        ...
        pbr.records.RecordValidationError: 1 validation error for Family
        offences.0.person_id
          family 'F2': person_id 'C9' is not a member of the family [type=unknown_person, ...]
        """
        try:
            return untracked(super().model_validate(obj, *args, **kwargs), (Family,), _PARTS)
        except ValidationError as exc:
            family_id = obj.get("family_id") if isinstance(obj, dict) else None
            failed = _naming_family(exc, family_id)
        raise _uncontexted(failed)

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        """Validate a record given as JSON text; every error names the family.

        A key given twice in one object is refused (``duplicate_key``), as `pbr.read_records`
        and `pbr.evaluate_many` refuse it: JSON readers disagree on which value counts.

        >>> Family.model_validate_json('{"family_id": "F3", "attached_on": "2013-01-07"}')
        Traceback (most recent call last):
        ...
        pbr.records.RecordValidationError: 1 validation error for Family
        members
          family 'F3': Field required [type=missing, ...]
        """
        from pbr._keys import family_id_in_doubt, key_repeats, repeated_keys

        data = json_bytes(json_data)
        failed: ValidationError | None
        try:
            family = cls._validated_json(data, *args, **kwargs)
        except ValidationError as exc:
            again = lambda text: cls._validated_json(text, *args, **kwargs)  # noqa: E731
            located = _with_long_numbers(exc, data, again)
            failed = _with_repeated_keys(located, data)
        else:
            failed = None
        if failed is not None:
            raise _uncontexted(failed)
        if repeated_keys(data, family):
            repeats = key_repeats(data)
            prefix = _prefix(None if family_id_in_doubt(repeats) else family.family_id)
            raise RecordValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("duplicate_key", prefix + why),
                        loc=tuple(int(p) if p.isdigit() else p for p in path.split(".")),
                        input=values,  # the values given, in order: as the readers show them
                    )
                    for path, values, why in repeats
                ],
            )
        return family

    @classmethod
    def _validated_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        """`model_validate_json` without the search for keys given twice.

        For `pbr.io`'s readers, which search for them and report them with the other errors.
        """
        try:
            if args or kwargs:
                family = super().model_validate_json(json_data, *args, **kwargs)
            else:  # every reader's hot path: the validator itself, without pydantic's method
                family = cls.__pydantic_validator__.validate_json(json_data)
        except ValidationError as exc:
            located = _at_its_field(exc, json_data)
            failed = _naming_family(located, _family_id_in(json_data))
        else:
            return untracked(family, (Family,), _PARTS)
        raise _uncontexted(failed)

    @model_validator(mode="after")
    def _check_consistency(self) -> Family:
        if _plainly_consistent(self):  # the usual case, proved cheaply; else list every problem
            return self
        problems = list(_consistency_problems(self))
        if problems:
            raise RecordValidationError.from_exception_data(
                "Family",
                [
                    InitErrorDetails(
                        type=PydanticCustomError(code, f"family {self.family_id!r}: {message}"),
                        loc=loc,
                        input=value,
                    )
                    for code, loc, value, message in problems
                ],
            )
        return self

    def member_birthdays(self) -> dict[str, date]:
        """Return each member's date of birth keyed by `person_id`.

        >>> Family.model_validate({"family_id": "F1", "attached_on": "2013-01-07",
        ...     "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]}
        ... ).member_birthdays()
        {'A1': datetime.date(1980, 1, 1)}
        """
        return {m.person_id: m.date_of_birth for m in self.members}


def json_bytes(text: str | bytes | bytearray) -> bytes:
    r"""A record's JSON as bytes: text as UTF-8, a character no UTF-8 holds as the bytes it was.

    Bytes read with ``surrogateescape`` go back as they were; a lone surrogate (``"\ud800"``
    in a Python string) as its three bytes. Either way the bytes are not UTF-8, so the record
    is refused as such (``invalid_utf8``), never an exception.
    """
    if not isinstance(text, str):
        return bytes(text)
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="surrogatepass")


def _family_id_in(json_data: str | bytes | bytearray) -> str | None:
    """The record's family_id, even in JSON that cannot be read (as the file readers find it)."""
    from pbr.io import family_id_in as found_in

    return found_in(json_bytes(json_data))


def _at_its_field(exc: ValidationError, json_data: str | bytes | bytearray) -> ValidationError:
    """`exc` with JSON that cannot be read placed at the field at fault, where that is one.

    A lone surrogate escape in a text, or a value nested deeper than the reader goes, is one
    field's fault: its error names that field's path and value (`pbr._json_faults`).
    """
    from pbr._json_faults import located
    from pbr._rejection import Written

    errors = exc.errors()
    if not any(e["type"] == "json_invalid" and not e["loc"] for e in errors):
        return exc
    data = json_bytes(json_data)
    details: list[InitErrorDetails] = []
    for err in errors:
        found = located(err["msg"], data) if err["type"] == "json_invalid" else None
        if found is None:
            details.append(
                InitErrorDetails(
                    type=PydanticCustomError(err["type"], err["msg"]),
                    loc=err["loc"],
                    input=err["input"],
                )
            )
            continue
        path, value, why = found
        details.append(
            InitErrorDetails(
                type=PydanticCustomError("json_invalid", why), loc=path, input=Written(value)
            )
        )
    return RecordValidationError.from_exception_data(exc.title, details)


def _with_long_numbers(
    exc: ValidationError, data: bytes, read: Callable[[bytes], object]
) -> ValidationError:
    """`exc` with a number too long for the JSON reader named at its field, as `pbr.io` names it.

    Pydantic stops at such a number (`pbr.io.readable_number`) with "number out of range" for
    the whole record: each is named ``number_too_long`` at its path, shown as written, then the record's
    other errors follow, found by `read` of the record with each such number as ``0``, bar
    those the ``0`` made (`pbr.io.holds_beside_long_numbers`).
    """
    from pbr._rejection import Written
    from pbr.io import holds_beside_long_numbers, long_numbers, out_of_range, without_long_numbers

    errors = exc.errors()
    if len(errors) != 1 or not out_of_range(errors[0]["type"], errors[0]["msg"]):
        return exc
    found = long_numbers(data)
    if not found:  # not JSON after all, or no such number: keep what pydantic said
        return exc
    prefix = _prefix(_family_id_in(data))
    details = [
        InitErrorDetails(
            type=PydanticCustomError("number_too_long", prefix + why), loc=loc, input=Written(text)
        )
        for loc, text, why in found
    ]
    named = {".".join(map(str, loc)): text for loc, text, _ in found}
    try:
        read(without_long_numbers(data))
    except ValidationError as rest:
        for err in rest.errors():
            where = ".".join(map(str, err["loc"]))
            if holds_beside_long_numbers(where, err["type"], named):
                details.append(
                    InitErrorDetails(
                        type=PydanticCustomError(err["type"], err["msg"]),
                        loc=err["loc"],
                        input=Written(named[where]) if where in named else err["input"],
                    )
                )
    return RecordValidationError.from_exception_data(exc.title, details)


def _with_repeated_keys(exc: ValidationError, data: bytes) -> ValidationError:
    """`exc` with the keys `data` gives twice put first, as the readers put them (`pbr.io`).

    A ``family_id`` given twice with different values names no family: which is meant cannot
    be said.
    """
    from pbr._keys import family_id_in_doubt, key_repeats

    repeats = key_repeats(data)
    if not repeats:
        return exc
    named = _prefix(_family_id_in(data))
    prefix = _prefix(None) if family_id_in_doubt(repeats) else named
    details = [
        InitErrorDetails(
            type=PydanticCustomError("duplicate_key", prefix + why),
            loc=tuple(int(p) if p.isdigit() else p for p in path.split(".")),
            input=values,
        )
        for path, values, why in repeats
    ]
    for err in exc.errors():
        message = err["msg"]
        if message.startswith(named):
            message = prefix + message[len(named) :]
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(err["type"], message), loc=err["loc"], input=err["input"]
            )
        )
    return RecordValidationError.from_exception_data(exc.title, details)


def _prefix(family_id: object) -> str:
    """How an error names its family: ``family 'F1': ``."""
    return f"{family_named(family_id)}: "


def _naming_family(exc: ValidationError, family_id: object) -> ValidationError:
    """Return `exc` with every message prefixed by the family it is about."""
    from pbr._rejection import in_users_terms, without_echoes

    prefix = _prefix(family_id)
    details: list[InitErrorDetails] = []
    for err in without_echoes(exc.errors()):  # a list of one bad member is not "too short"
        kind, said = in_users_terms(err)  # an array, as the record says, not a Python tuple
        message = said if said.startswith("family ") else prefix + said
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(kind, message),
                loc=err["loc"],
                input=err["input"],
            )
        )
    return RecordValidationError.from_exception_data(exc.title, details)


_PARTS = (
    Member,
    Offence,
    AsbIncident,
    SchoolTermRecord,
    BenefitSpell,
    EmploymentSpell,
    WorkProgrammeReferral,
    Payment,
    EntryProblem,
    Observation,
)
"""The parts of a record, each holding only text, numbers and dates: with the `Family` that
holds them, what of a validated record is kept out of the cyclic collector's rescans
(`pbr._untracked`). Left in its sight, 50,000 records kept in a list took 10 s rather than 5
to read."""
