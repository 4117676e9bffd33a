"""Decisions: what `evaluate` returns for one family, with every reason and number behind it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from pbr._attribute_docs import describe_fields
from pbr._parts import RESULT_KINDS, ResultKind, Status, lean_now, pence
from pbr._parts import decision_json as decision_json
from pbr._parts import lean_parts as lean_parts
from pbr._parts import trusted_decision as trusted_decision
from pbr._parts import trusted_provenance as trusted_provenance
from pbr._parts import trusted_reason as trusted_reason
from pbr._parts import trusted_result as trusted_result
from pbr._strict import Money
from pbr.reasons import ReasonCode, current_code

__all__ = [
    "RESULT_KINDS",
    "RESULT_KINDS_BY_PROGRAMME",
    "Compared",
    "Decision",
    "Identification",
    "Provenance",
    "Reason",
    "ResultDecision",
    "ResultKind",
    "Status",
    "decision_json",
    "term_calendar_named",
    "trusted",
    "trusted_reason",
    "trusted_result",
    "with_provenance",
]


class _SerialisedByKind:
    """Serialise a `Compared` by its values' kinds, as validated: a third cheaper than the union.

    Validation and the JSON Schema are the typed dict's; only the (already valid) values are
    written without trying each type of the union in turn (tests/test_differential.py).
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: dict[str, Any] = dict(handler(source))
        schema["serialization"] = core_schema.simple_ser_schema("dict")
        return cast("CoreSchema", schema)


Compared = Annotated[dict[str, str | int | bool | None], _SerialisedByKind]
"""The numbers, dates and flags a reason compared: counts as integers; dates, money and any
number that can be fractional (a baseline scaled to a period, a rate) as ISO / decimal strings,
so that they stay exact (``"baseline": "2"`` beside ``"recent": 0``)."""

if TYPE_CHECKING:
    RESULT_KINDS_BY_PROGRAMME: dict[str, tuple[ResultKind, ...]]
    """The results each programme decides (`Decision.results` has exactly these keys)."""


def __getattr__(name: str) -> Any:
    if name == "RESULT_KINDS_BY_PROGRAMME":  # from the registry, when read
        from pbr.programmes import programmes

        return {p.id: p.result_kinds for p in programmes()}
    raise AttributeError(f"module 'pbr.decisions' has no attribute {name!r}")


_FROZEN = ConfigDict(
    frozen=True, extra="forbid", json_schema_extra=describe_fields, defer_build=True
)
"""Every decision model's settings: built on first use (a batch writing Structs never needs them)."""

_M = TypeVar("_M", bound=BaseModel)

_TEMPLATES: dict[
    type[BaseModel], tuple[dict[str, Any], tuple[tuple[str, Any], ...], tuple[str, ...]]
] = {}


def trusted(cls: type[_M], **given: Any) -> _M:
    """A decision part built from values the engine computed, without validating them again.

    The hot path builds about fifteen of these per family; validation would cost more than the
    rules. The values must already be what validation gives (tuples, dates, `Decimal` pounds);
    money is put to two places and reason codes renamed, as validation would, so the object,
    its JSON and its fields set are the same as ``cls(**given)``'s (tests/test_differential.py).

    >>> from decimal import Decimal
    >>> built = trusted(ResultDecision, status="met", amount=Decimal(700), rate=Decimal(700))
    >>> built == ResultDecision(status="met", amount=Decimal(700), rate=Decimal(700))
    True
    >>> str(built.amount), built.reasons
    ('700.00', ())
    """
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = _template(cls)
    defaults, factories, money_fields = template
    values = defaults.copy()  # every field, in the model's order
    values.update(given)
    for name, factory in factories:
        if name not in given:
            values[name] = factory()
    for name in money_fields:
        values[name] = pence(values[name])
    if cls is Reason:
        values["code"] = current_code(values["code"])
    lean = lean_now()
    if lean is not None:
        return cast("_M", lean.PARTS[cls.__name__](**values))
    built: _M = _part(cls, values, given)
    return built


def reason_model(code: str, rule: str, source: str, message: str, compared: Compared) -> Reason:
    """A `Reason` from field values already valid: `pbr._parts.trusted_reason`'s model.

    The most frequent part, so `part_model` inlined.

    >>> reason_model("CAP_REACHED", "payment.cap", "S1", "capped", {}).model_fields_set == {
    ...     "code", "rule", "source", "message", "compared"}
    True
    """
    built: Reason = _part(
        Reason,
        {"code": code, "rule": rule, "source": source, "message": message, "compared": compared},
        _REASON_FIELDS,
    )
    return built


def term_calendar_named(decision: Decision) -> str | None:
    """The council term calendar a decision's reasons name (``compared["term_calendar"]``).

    None when none names one: the default dates, or a calendar whose dates decided nothing.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> print(term_calendar_named(pbr.evaluate(family, as_of=date(2013, 6, 30))))
    None
    """
    reasons = [*decision.identification, *decision.warnings]
    for result in decision.results.values():
        reasons.extend(result.reasons)
    for reason in reasons:
        name = reason.compared.get("term_calendar")
        if name is not None:
            return str(name)
    return None


def with_provenance(decision: Decision, provenance: Provenance) -> Decision:
    """``decision.model_copy(update={"provenance": provenance})``, without pydantic's overhead.

    >>> from datetime import date
    >>> import pbr
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 1, 1))
    >>> p = decision.provenance.model_copy(update={"input_hash": "0" * 64})
    >>> with_provenance(decision, p) == decision.model_copy(update={"provenance": p})
    True
    """
    values = decision.__dict__.copy()
    values["provenance"] = provenance
    built: Decision = _part(Decision, values, decision.__pydantic_fields_set__ | {"provenance"})
    return built


def part_model(kind: str, values: dict[str, Any], fields_set: set[str]) -> Any:
    """The decision part named `kind` (``"Decision"``, ...) from field values already valid.

    `fields_set` are the fields counted as given (`model_fields_set`). The trusted constructors
    of `pbr._parts` build models this way.

    >>> part_model("Provenance", {"pbr_version": "1", "rules_hash": "r", "input_hash": "i"},
    ...     {"pbr_version", "rules_hash", "input_hash"}).rules_hash
    'r'
    """
    return _part(_PART_MODELS[kind], values, fields_set)


def is_part(value: object) -> bool:
    """Whether `value` is one of the decision models (`Reason`, `Decision`, ...).

    >>> is_part(reason_model("CAP_REACHED", "payment.cap", "S1", "capped", {})), is_part({})
    (True, False)
    """
    return isinstance(value, _Pickled)


def _rebuilt(cls: type[_M], values: dict[str, Any], fields_set: Iterable[str]) -> _M:
    """A decision part from its fields as they are, without validating them (and unpickling).

    `values` becomes the part's ``__dict__`` as it is; the fields set is a new set of
    `fields_set`. `pbr._rebuild.model` where pbr was built with a C compiler (about half the
    cost, and the part kept out of the cyclic collector's rescans: see its source), else
    `_rebuilt_here`: equal parts (tests/test_rebuild.py). Pickles name this function, so that
    they load whether or not the C part is there.
    """
    built: _M = _part(cls, values, fields_set)
    return built


def _rebuilt_here(cls: type[_M], values: dict[str, Any], fields_set: Iterable[str]) -> _M:
    """`_rebuilt` in Python."""
    built = _new(cls)
    _set(built, "__dict__", values)
    # pydantic's own slots, set through their descriptors: a third cheaper than setattr by name
    _set_fields_set(built, set(fields_set))
    _set_extra(built, None)
    _set_private(built, None)
    return built


_Spec = tuple[type[Any], tuple[str, ...], tuple[tuple[int, Any] | None, ...], frozenset[str]]
"""How `_tree` builds a part's model: (model, field names, how each is built, fields set)."""

_PARTS = 1
"""A field of a tuple of parts (`_Spec`'s children)."""
_PARTS_BY_KEY = 2
"""A field of a dict of parts."""
_PART_OR_NONE = 3
"""A field of one part, or None (then not among the fields set)."""


def _tree_here(spec: _Spec, source: Any) -> Any:
    """`source`, a `pbr._lean` part, and the parts it holds as their models (`spec` says how).

    `pbr._rebuild.tree` where pbr was built with a C compiler (about half the cost), else this:
    the same models (tests/test_rebuild.py).
    """
    model, names, children, fields = spec
    values: dict[str, Any] = {}
    unset: list[str] = []
    for name, child in zip(names, children, strict=True):
        value = getattr(source, name)
        if child is not None:
            how, inner = child
            if how == _PARTS:
                value = tuple([_tree_here(inner, p) for p in value])
            elif how == _PARTS_BY_KEY:
                value = {key: _tree_here(inner, p) for key, p in value.items()}
            elif value is None:
                unset.append(name)
            else:
                value = _tree_here(inner, value)
        values[name] = value
    return _part(model, values, fields.difference(unset) if unset else fields)


_new = object.__new__
_set = object.__setattr__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_part: Callable[[type[Any], dict[str, Any], Iterable[str]], Any] = _rebuilt_here
_tree: Callable[[_Spec, Any], Any] = _tree_here
try:
    from pbr import _rebuild
except ImportError:  # pragma: no cover - built without a C compiler
    pass
else:
    _part = _rebuild.model
    _tree = _rebuild.tree
_REASON_FIELDS = frozenset(("code", "rule", "source", "message", "compared"))


class _Pickled(BaseModel):
    """Decision parts pickle as their fields (a third faster to load than pydantic's state).

    Workers of `pbr.evaluate_many` send decisions to the parent process this way.
    """

    model_config = _FROZEN

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (type(self), self.__dict__, self.__pydantic_fields_set__))

    def __hash__(self) -> int:
        # pydantic's hash of a frozen model hashes every field, and a dict field (`compared`,
        # `results`, `interpretations`) cannot be: hash the others. Equal models hash equal;
        # the dicts are plain dicts, to be read, never changed.
        return hash(tuple(v for v in self.__dict__.values() if not isinstance(v, dict)))


def _template(
    cls: type[BaseModel],
) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...], tuple[str, ...]]:
    fields = cls.model_fields
    defaults = {name: None if f.default_factory else f.default for name, f in fields.items()}
    factories = tuple((name, f.default_factory) for name, f in fields.items() if f.default_factory)
    money_fields = tuple(name for name, f in fields.items() if f.annotation is Decimal)
    return defaults, factories, money_fields


class Reason(_Pickled):
    """Why: a stable code, the rule applied, its source tag(s) and the numbers compared.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> reason = decision.results["continuous_employment"].reasons[0]
    >>> reason.code, reason.compared["weeks_required"]
    ('CONTINUOUS_EMPLOYMENT_REACHED', 13)
    """

    model_config = _FROZEN

    code: Annotated[ReasonCode, BeforeValidator(current_code)]
    """The stable machine code; key on it (see `REASON_CODES`)."""
    rule: str
    """The rule applied, e.g. ``results.continuous_employment``."""
    source: str
    """The rule's source tags, e.g. ``S1, S16``."""
    message: str
    """What happened, for people; may be reworded in any release."""
    compared: Compared = Field(default_factory=dict)
    """The numbers, dates and flags compared, by name."""


class ResultDecision(_Pickled):
    """The verdict on one result: status, amount payable now, earliest date and reasons.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> result = decision.results["continuous_employment"]
    >>> result.status, str(result.amount), result.earliest_date, result.codes[-1]
    ('met', '100.00', datetime.date(2013, 4, 8), 'EMPLOYMENT_TOP_UP')
    """

    model_config = _FROZEN

    status: Status
    """``met``, ``not_met``, ``not_applicable`` or ``already_paid``."""
    amount: Money
    """Payable now for this result, after payments made and the cap."""
    rate: Money
    """The result's rate for the family (before payments and the cap)."""
    earliest_date: date | None = None
    """When a result not met yet will be met, if that can be known."""
    reasons: tuple[Reason, ...] = ()
    """Why, in order."""

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order.

        >>> import pbr
        >>> from datetime import date
        >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
        ...     "identified_for": ["crime_asb", "education", "work"],
        ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
        ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
        >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
        >>> decision.results["progress_to_work"].codes
        ('NO_WORK_PROGRAMME_REFERRAL',)
        """
        return tuple(r.code for r in self.reasons)


class Identification(_Pickled):
    """Eligibility at attachment (phase1-spec §3): the problems found and whether they qualify.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> ident = pbr.identify(family)
    >>> ident.eligible, ident.identified_for
    (True, ('crime_asb', 'education', 'work'))
    """

    model_config = _FROZEN

    family_id: str
    """The family."""
    attached_on: date
    """The attachment day."""
    eligible: bool
    """Whether the family qualifies for the programme."""
    identified_for: tuple[str, ...]
    """The problems the family was identified for."""
    evidence: tuple[str, ...]
    """The problems the evidence shows at attachment."""
    local_discretion: bool
    """Whether the council recorded a local-discretion reason."""
    reasons: tuple[Reason, ...]
    """Why, criterion by criterion."""
    warnings: tuple[Reason, ...] = ()
    """Disagreements between the record and the evidence."""


class Provenance(_Pickled):
    """What a decision was computed from, so that `pbr replay` can show it is reproduced.

    `rules_hash` covers the rule-set data, the interpretations chosen and the outcome plan;
    `input_hash` covers the canonical family record and the evaluation date.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> provenance = decision.provenance
    >>> provenance.pbr_version == pbr.__version__, len(provenance.rules_hash)
    (True, 64)
    """

    model_config = _FROZEN

    pbr_version: str
    """The version of `pbr` that made the decision."""
    rules_hash: str
    """SHA-256 of the rule-set data, the interpretations and the outcome plan."""
    input_hash: str
    """SHA-256 of the canonical family record and the evaluation date.

    The canonical record is the record's JSON as the model writes it: money to the penny, an
    exact number as it was given (an observation of ``0.50`` and one of ``0.5`` are equal
    records with different hashes), so a system that rewrites its numbers changes the hash."""


class Decision(_Pickled):
    """The claim decision for one family at `as_of`.

    `payable` counts results payments only; the attachment fee is reported separately and counts
    against the cap whether or not the record lists it as paid (phase1-spec §5).

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> decision.attachment_year, str(decision.attachment_fee), str(decision.payable)
    ('2012/13', '3200.00', '800.00')
    >>> decision.model_dump(mode="json")["results"]["continuous_employment"]["status"]
    'met'
    """

    model_config = _FROZEN

    format_version: Literal["1.0"] = "1.0"
    """The decision format's version (`pbr.schemas.DECISION_FORMAT_VERSION`)."""
    family_id: str
    """The family."""
    local_authority: str | None = None
    """The council, as the record gives it (for a breakdown by council)."""
    as_of: date
    """The evaluation date."""
    programme: str
    """``tf-phase-1``, ``tf-phase-2`` or ``supporting-families``."""
    rules_version: str
    """The rule set and its data version, e.g. ``tf-phase-1/1.0``."""
    attached_on: date
    """The attachment day."""
    attachment_year: str
    """The financial year of attachment, e.g. ``2013/14``."""
    attachment_fee: Money
    """The attachment fee of that year (not counted in `payable`)."""
    eligible: bool
    """Whether the family qualified at attachment."""
    identified_for: tuple[str, ...]
    """The problems the family was identified for."""
    payable: Money
    """Results payments payable now, all results together."""
    paid_to_date: Money
    """The payments listed for the family (or in the ledger) made on or before `as_of`."""
    cap: Money
    """The most the programme pays for one family, fee included."""
    interpretations: dict[str, str]
    """Every interpretation in force, id to value."""
    outcome_plan: str | None = None
    """Phase two and Supporting Families: the outcome plan judged against, as ``id/version``."""
    warnings: tuple[Reason, ...] = ()
    """Problems with the record that did not stop the evaluation."""
    identification: tuple[Reason, ...] = ()
    """The reasons for eligibility at attachment."""
    results: dict[ResultKind, ResultDecision]
    """One verdict per result the programme decides, keyed by result kind."""
    provenance: Provenance | None = None
    """The library version and the hashes of the rules and the input (see `pbr replay`)."""

    @property
    def codes(self) -> dict[str, tuple[str, ...]]:
        """Reason codes by result kind.

        >>> import pbr
        >>> from datetime import date
        >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
        ...     "identified_for": ["crime_asb", "education", "work"],
        ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
        ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
        >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
        >>> decision.codes["continuous_employment"]
        ('CONTINUOUS_EMPLOYMENT_REACHED', 'RATE_APPLIED', 'EMPLOYMENT_TOP_UP')
        """
        return {kind: result.codes for kind, result in self.results.items()}

    def explain(self) -> str:
        """Return the decision as a plain-text working paper an auditor can follow.

        Each result shows its limbs, the windows used, the counts compared with their threshold,
        the verdict and the source, then the money and the interpretations in force.

        >>> import pbr
        >>> from datetime import date
        >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
        ...     "identified_for": ["crime_asb", "education", "work"],
        ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
        ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
        >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
        >>> print(decision.explain().splitlines()[2])
        Programme tf-phase-1, rules tf-phase-1/1.0
        """
        from pbr.explain import explain

        return explain(self)


_PART_MODELS: dict[str, type[_Pickled]] = {
    model.__name__: model
    for model in (Reason, ResultDecision, Identification, Provenance, Decision)
}
_DECISION_FIELDS = frozenset(Decision.model_fields) - {"format_version"}


def as_model(part: Any) -> Any:
    """A `pbr._lean` part (and the parts in it) as the model it mirrors; anything else as it is.

    The model is the one the trusted constructors would have built: equal, with the same fields
    set. A parallel `pbr.evaluate_many` turns each decision its workers send back into a model
    this way.
    """
    spec = _specs().get(type(part))
    if spec is not None:
        return _tree(spec, part)
    if isinstance(part, tuple):
        return tuple(as_model(p) for p in part)
    if isinstance(part, dict):
        return {k: as_model(v) for k, v in part.items()}
    return part


def _spec_of(
    model: type[_Pickled],
    children: dict[str, tuple[int, _Spec]] | None = None,
    fields: frozenset[str] | None = None,
) -> _Spec:
    names = tuple(model.model_fields)
    built = tuple((children or {}).get(name) for name in names)
    return (model, names, built, frozenset(names) if fields is None else fields)


@cache
def _specs() -> dict[type, _Spec]:
    """Each `pbr._lean` part's type, and how its model is built."""
    from pbr import _lean

    reason = _spec_of(Reason)
    result = _spec_of(ResultDecision, {"reasons": (_PARTS, reason)})
    provenance = _spec_of(Provenance)
    identification = _spec_of(
        Identification, {"reasons": (_PARTS, reason), "warnings": (_PARTS, reason)}
    )
    decision = _spec_of(
        Decision,
        {
            "warnings": (_PARTS, reason),
            "identification": (_PARTS, reason),
            "results": (_PARTS_BY_KEY, result),
            "provenance": (_PART_OR_NONE, provenance),
        },
        _DECISION_FIELDS,
    )
    return {
        _lean.Reason: reason,
        _lean.ResultDecision: result,
        _lean.Identification: identification,
        _lean.Provenance: provenance,
        _lean.Decision: decision,
    }
