"""Decision parts built from values the engine computed: models for the API, Structs in a batch.

The rules build every reason, result and decision through these constructors. Outside a batch
they build `pbr.decisions`' pydantic models (that module is imported on first need); inside
`lean_parts` they build `pbr._lean`'s msgspec Structs, the same fields in the same order, which
a batch only writes out. So a batch of compiled records runs without importing pydantic.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, cast

from pbr.money import MAX_MONEY, PENNY, ZERO, money
from pbr.reasons import RENAMED_REASON_CODES as _RENAMED

if TYPE_CHECKING:
    import msgspec

    from pbr.decisions import Compared, Decision, Identification, Provenance, Reason, ResultDecision

__all__ = [
    "RESULT_KINDS",
    "ResultKind",
    "Status",
    "decision_json",
    "lean_now",
    "lean_parts",
    "pence",
    "trusted_decision",
    "trusted_identification",
    "trusted_provenance",
    "trusted_reason",
    "trusted_result",
]

ResultKind = Literal[
    "crime_asb_education", "progress_to_work", "continuous_employment", "sustained_progress"
]
RESULT_KINDS: tuple[ResultKind, ...] = (
    "crime_asb_education",
    "progress_to_work",
    "continuous_employment",
)
"""Phase one's results, in the order they are decided."""
Status = Literal["met", "not_met", "not_applicable", "already_paid"]

_LEAN: ContextVar[ModuleType | None] = ContextVar("pbr_lean_parts", default=None)
lean_now = _LEAN.get
"""The `pbr._lean` module inside `lean_parts`, else None."""


class lean_parts:  # a context manager read as a verb: ``with lean_parts():``
    """Within: the trusted constructors build `pbr._lean` Structs, not models (this context only).

    For a batch that only writes decisions out (`decision_json` writes the same bytes, the CSV
    rows and table cells read the same attributes): a Struct costs a tenth of a model. A context
    variable, so another thread's or task's `pbr.evaluate` still gets models. A class, not a
    generator: a batch enters it per family.

    >>> with lean_parts():
    ...     inside = trusted_reason("CAP_REACHED", "payment.cap", "S1", "capped", {})
    >>> outside = trusted_reason("CAP_REACHED", "payment.cap", "S1", "capped", {})
    >>> type(inside).__module__, type(outside).__module__
    ('pbr._lean', 'pbr.decisions')
    """

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _LEAN.set(_lean_module())

    def __exit__(self, *exc: object) -> None:
        _LEAN.reset(self._token)


@cache
def _lean_module() -> ModuleType:
    """`pbr._lean`, imported once (an import statement costs a batch 0.6 µs a family)."""
    from pbr import _lean

    return _lean


_models: list[ModuleType] = []
"""`pbr.decisions`, once a model is first built (a batch of Structs never imports it)."""


def _decisions() -> ModuleType:
    if not _models:
        from pbr import decisions

        _models.append(decisions)
    return _models[0]


def _model(kind: str, values: dict[str, Any], fields_set: set[str]) -> Any:
    """The model of `pbr.decisions` named `kind`, from field values already valid."""
    models = _models[0] if _models else _decisions()
    return models.part_model(kind, values, fields_set)


def trusted_reason(code: str, rule: str, source: str, message: str, compared: Compared) -> Reason:
    """A reason with every field given: the kernel's most frequent object.

    >>> trusted_reason("CAP_REACHED", "payment.cap", "S1", "capped", {"cap": "4000.00"}).code
    'CAP_REACHED'
    """
    lean = lean_now()
    if lean is not None:
        lean_reason: Reason = lean.Reason(_RENAMED.get(code, code), rule, source, message, compared)
        return lean_reason  # annotated, not cast(): no call, on the kernel's most frequent path
    models = _models[0] if _models else _decisions()
    built: Reason = models.reason_model(_RENAMED.get(code, code), rule, source, message, compared)
    return built


def trusted_result(
    status: Status,
    amount: Decimal,
    rate: Decimal,
    earliest_date: date | None,
    reasons: tuple[Reason, ...],
) -> ResultDecision:
    """A result with every field given, money put to two places as validation would.

    >>> from decimal import Decimal
    >>> from pbr.decisions import ResultDecision
    >>> trusted_result("met", Decimal(700), Decimal(700), None, ()) == ResultDecision(
    ...     status="met", amount=Decimal(700), rate=Decimal(700), earliest_date=None, reasons=())
    True
    """
    lean = lean_now()
    if lean is not None:
        lean_result: ResultDecision = lean.ResultDecision(
            status, pence(amount), pence(rate), earliest_date, reasons
        )
        return lean_result
    values = {
        "status": status,
        "amount": pence(amount),
        "rate": pence(rate),
        "earliest_date": earliest_date,
        "reasons": reasons,
    }
    built: ResultDecision = _model("ResultDecision", values, set(values))
    return built


def trusted_identification(
    *,
    family_id: str,
    attached_on: date,
    eligible: bool,
    identified_for: tuple[str, ...],
    evidence: tuple[str, ...],
    local_discretion: bool,
    reasons: tuple[Reason, ...],
    warnings: tuple[Reason, ...],
) -> Identification:
    """An identification with every field given (each programme's one a family).

    >>> from datetime import date
    >>> trusted_identification(family_id="F1", attached_on=date(2012, 10, 15), eligible=True,
    ...     identified_for=("work",), evidence=(), local_discretion=False, reasons=(),
    ...     warnings=()).model_fields_set == {"family_id", "attached_on", "eligible",
    ...     "identified_for", "evidence", "local_discretion", "reasons", "warnings"}
    True
    """
    lean = lean_now()
    if lean is not None:
        return cast(
            "Identification",
            lean.Identification(
                family_id,
                attached_on,
                eligible,
                identified_for,
                evidence,
                local_discretion,
                reasons,
                warnings,
            ),
        )
    values = {
        "family_id": family_id,
        "attached_on": attached_on,
        "eligible": eligible,
        "identified_for": identified_for,
        "evidence": evidence,
        "local_discretion": local_discretion,
        "reasons": reasons,
        "warnings": warnings,
    }
    built: Identification = _model("Identification", values, set(values))
    return built


def trusted_decision(
    *,
    family_id: str,
    local_authority: str | None,
    as_of: date,
    programme: str,
    rules_version: str,
    attached_on: date,
    attachment_year: str,
    attachment_fee: Decimal,
    eligible: bool,
    identified_for: tuple[str, ...],
    payable: Decimal,
    paid_to_date: Decimal,
    cap: Decimal,
    interpretations: dict[str, str],
    outcome_plan: str | None,
    warnings: tuple[Reason, ...],
    identification: tuple[Reason, ...],
    results: dict[ResultKind, ResultDecision],
    provenance: Provenance | None = None,
) -> Decision:
    """A decision with every field but `format_version` (and `provenance`, if None).

    The kernel's one decision a family; money put to two places.

    >>> from datetime import date
    >>> decision = trusted_decision(family_id="F1", local_authority=None, as_of=date(2013, 6, 30),
    ...     programme="tf-phase-1", rules_version="tf-phase-1/1.0", attached_on=date(2012, 10, 15),
    ...     attachment_year="2012/13", attachment_fee=Decimal(3200), eligible=True,
    ...     identified_for=(), payable=ZERO, paid_to_date=ZERO, cap=Decimal(4000),
    ...     interpretations={}, outcome_plan=None, warnings=(), identification=(), results={})
    >>> str(decision.attachment_fee), "provenance" in decision.model_fields_set
    ('3200.00', False)
    """
    values = {
        "format_version": "1.0",
        "family_id": family_id,
        "local_authority": local_authority,
        "as_of": as_of,
        "programme": programme,
        "rules_version": rules_version,
        "attached_on": attached_on,
        "attachment_year": attachment_year,
        "attachment_fee": pence(attachment_fee),
        "eligible": eligible,
        "identified_for": identified_for,
        "payable": pence(payable),
        "paid_to_date": pence(paid_to_date),
        "cap": pence(cap),
        "interpretations": interpretations,
        "outcome_plan": outcome_plan,
        "warnings": warnings,
        "identification": identification,
        "results": results,
        "provenance": provenance,
    }
    lean = lean_now()
    if lean is not None:
        return cast("Decision", lean.Decision(**values))
    fields_set = set(values)
    fields_set.discard("format_version")  # its default: not counted as given
    if provenance is None:
        fields_set.discard("provenance")
    built: Decision = _model("Decision", values, fields_set)
    return built


def trusted_provenance(pbr_version: str, rules_hash: str, input_hash: str) -> Provenance:
    """A provenance with every field given.

    >>> trusted_provenance("1.0", "r" * 64, "i" * 64).pbr_version
    '1.0'
    """
    lean = lean_now()
    if lean is not None:
        return cast("Provenance", lean.Provenance(pbr_version, rules_hash, input_hash))
    values = {"pbr_version": pbr_version, "rules_hash": rules_hash, "input_hash": input_hash}
    built: Provenance = _model("Provenance", values, set(values))
    return built


def pence(value: Any) -> Decimal:
    """`money`, with a fast path for an amount already in pounds and pence.

    >>> pence(Decimal("3200")), pence(ZERO)
    (Decimal('3200.00'), Decimal('0.00'))
    """
    if value is ZERO:  # the most frequent amount of all, and two places by construction
        return value
    # `same_quantum` asks "exactly two places?" without building `as_tuple`'s digit tuple (4x
    # cheaper); it is False for NaN and infinities, which `money` then refuses.
    if type(value) is Decimal and _two_places(value) and -MAX_MONEY <= value <= MAX_MONEY:
        return value
    return money(value)


_two_places = PENNY.same_quantum


def decision_json(decision: Decision) -> bytes:
    """The decision's JSON: `model_dump_json`'s bytes, written about twice as fast (msgspec).

    For decisions as the engine builds them or validation gives them, whose money is in pounds
    and pence: a part is written as its fields in order, money and other `Decimal` values as
    their text, which is what pydantic's serializer writes for them (tests/test_decision_json.py
    holds the two equal). The batch writes every decision this way, from Structs.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> decision_json(decision) == decision.model_dump_json().encode()
    True
    """
    try:
        return _encoder().encode(decision)
    except UnicodeEncodeError:  # a lone surrogate from Python data: pydantic says so, as before
        models = _decisions()
        return cast(
            bytes, models.Decision.__pydantic_serializer__.to_json(models.as_model(decision))
        )


@cache
def _encoder() -> msgspec.json.Encoder:
    import msgspec

    return msgspec.json.Encoder(enc_hook=_fields, decimal_format="string")


def _fields(part: object) -> dict[str, Any]:
    """A model's fields, in order, for the encoder (which writes Structs itself)."""
    if _decisions().is_part(part):
        fields: dict[str, Any] = part.__dict__
        return fields
    raise TypeError(f"a decision holds no {type(part).__name__}")
