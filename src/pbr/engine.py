"""The entry points: pick the rule set, identify the family, evaluate its claims."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from datetime import date
from decimal import getcontext, setcontext
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import pbr
from pbr._arguments import check_ledger
from pbr._parts import trusted_provenance
from pbr.money import ARITHMETIC
from pbr.periods import TermCalendar, check_as_of
from pbr.programmes import programme, programme_for
from pbr.programmes._kernel import decide
from pbr.rules import RuleSet

if TYPE_CHECKING:
    from pbr.decisions import Decision, Identification, Provenance
    from pbr.history import HistorySource
    from pbr.plans import OutcomePlan
    from pbr.records import Family

__all__ = ["evaluate", "identify", "plan_sha256", "provenance", "rule_set_for", "rules_hash"]


def rule_set_for(family: Family) -> RuleSet:
    """Return the rule set for a family, chosen by its `programme` and attachment date.

    A stated programme is used when its dates cover the family (phase two also takes 2014/15
    early starters that say ``"tf-phase-2"``); otherwise the first programme, oldest first, whose
    dates cover the attachment day (`pbr.programmes.programme_for`).

    >>> import pbr
    >>> family = pbr.Family.model_validate({"family_id": "F2", "attached_on": "2016-05-01",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]})
    >>> pbr.rule_set_for(family).rules_version
    'tf-phase-2/1.0'

    Raises:
        OutsideProgramme: no programme covers the family.
        TypeError: `family` is not a `pbr.Family`.

    """
    try:
        return programme_for(family).rules
    except (AttributeError, TypeError):
        _wrong_argument(family)
        raise


def evaluate(
    family: Family,
    *,
    as_of: date,
    rules: RuleSet | None = None,
    plan: OutcomePlan | None = None,
    ledger: HistorySource | None = None,
) -> Decision:
    """Evaluate a family's claims at `as_of`: each result's status, amount payable now and reasons.

    `rules=None` picks the rule set by the family's programme and attachment date. `plan` is the
    council's outcome plan for phase two or Supporting Families (`pbr.plans.load_plan`); without
    one, pbr's example plan is used and the decision warns. `ledger` (a
    `pbr.history.PaymentHistory`, or a `pbr.ledger.Ledger` or its path to load one from: any
    `pbr.history.HistorySource`) adds its payments to the record's, each claim id once
    (`pbr.history.merge_payments`). Nothing depends on today's date:
    the same record, date, rules, plan and payments always give the same decision.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({
    ...     "family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}],
    ... })
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> decision.results["continuous_employment"].status, str(decision.payable)
    ('met', '800.00')
    >>> {kind: str(result.amount) for kind, result in decision.results.items()}
    {'crime_asb_education': '700.00', 'progress_to_work': '0.00', 'continuous_employment': '100.00'}

    The £800 is two results: identified for crime/ASB and education with no offences, ASB or
    child in the record, every limb of the first holds (£700); the adult's 13 weeks in work
    then pay the £100 that tops it up to £800 (``employment_after_crime = top_up``).

    Raises:
        OutsideProgramme: the rule set does not cover the family.
        PlanError: the plan is for another programme (phase one has none).
        TypeError: `as_of` is not a `datetime.date` (a `datetime` or text is refused), or
            `family`, `rules`, `plan` or `ledger` is not of its type (the message says what
            to pass).
        ValueError: `as_of` is outside the dates pbr can evaluate (see `check_as_of`).
        pbr.history.HistoryError: the record and the ledger disagree about a payment.

    """
    outer = getcontext()
    if outer is ARITHMETIC:  # a batch sets it once for many families
        return _evaluate(family, as_of, rules, plan, ledger)
    setcontext(ARITHMETIC)  # the rules' sums, whatever the caller's `decimal` context
    try:
        return _evaluate(family, as_of, rules, plan, ledger)
    finally:
        setcontext(outer)


def _evaluate(
    family: Family,
    as_of: date,
    rules: RuleSet | None,
    plan: OutcomePlan | None,
    ledger: HistorySource | None,
) -> Decision:
    """`evaluate` in `pbr.money.ARITHMETIC`."""
    check_as_of(as_of)
    check_ledger(ledger)
    try:
        if ledger is not None:
            from pbr.history import merge_payments

            family = merge_payments(family, ledger, rules=rules)
        chosen = rules if rules is not None else rule_set_for(family)
        # `Programme.evaluate`'s flow, with the provenance recorded as the decision is built
        # rather than copied into it afterwards (computing it cannot fail: refusals unchanged)
        return decide(
            programme(chosen.programme),
            family,
            as_of,
            chosen,
            plan,
            provenance(family, as_of, chosen, plan),
        )
    except (AttributeError, TypeError):
        _wrong_argument(family, rules, plan)
        raise


def evaluate_compiled(
    family: Family, as_of: date, rules: RuleSet, plan: OutcomePlan | None
) -> Decision:
    """`evaluate` of a batch's record, as `pbr._compiled.decode_family` gave it.

    The batch checked `as_of`, chose `rules` and checked `plan` once for all its families, and
    merged any ledger's payments into the record before; so this skips `evaluate`'s checks of
    its arguments (a microsecond a family) and decides at once.
    """
    if getcontext() is not ARITHMETIC:  # not inside the batch's exact arithmetic
        return evaluate(family, as_of=as_of, rules=rules, plan=plan)
    return decide(
        programme(rules.programme),
        family,
        as_of,
        rules,
        plan,
        provenance(family, as_of, rules, plan),
    )


def provenance(
    family: Family, as_of: date, rules: RuleSet, plan: OutcomePlan | None = None
) -> Provenance:
    """The version and hashes recorded in every decision: what `pbr replay` checks.

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> p = provenance(family, date(2013, 1, 1), pbr.rule_set_for(family))
    >>> p.pbr_version == pbr.__version__, len(p.input_hash)
    (True, 64)
    """
    # The serializer's bytes are `model_dump_json().encode()`'s, without the text in between
    # (tests/test_assembly.py); hashed with the date appended.
    # A batch's records: loaded before the first. Another thread may be importing it: then it
    # is in sys.modules without its names, and no compiled record exists yet.
    compiled = sys.modules.get("pbr._compiled")
    canonical_json = getattr(compiled, "canonical_json", None)
    is_compiled = getattr(compiled, "is_compiled", None)
    if canonical_json is not None and is_compiled is not None and is_compiled(family):
        written = canonical_json(family)  # the same bytes, written faster
    else:
        written = record_json(family)
    digest = hashlib.sha256(written)
    digest.update(_dated(as_of))  # the bytes with "|" and the date after, not copied to join them
    return trusted_provenance(pbr.__version__, rules_hash(rules, plan), digest.hexdigest())


def record_json(family: Family) -> bytes:
    """A `Family`'s canonical JSON: pydantic's ``to_json`` bytes, written by msgspec in 2/3 the time.

    For a record as validation gives it (and `model_copy` of one, with validated parts): each
    part is written as its fields, in order. A record whose JSON holds an escape, DEL or a C1
    control character's lead byte, a part that is not one of `pbr.records`' models, or money
    or an exact number that is not a `Decimal` is written by pydantic itself
    (tests/test_record_json.py holds the two equal over records of every programme).
    """
    try:
        written = _record_encoder()(family)
    except (TypeError, UnicodeEncodeError):  # not a record as validation gives it: pydantic's
        written = None
    if written is None or not _plain_json()(written):
        return family.__pydantic_serializer__.to_json(family)
    return written


@cache
def _record_encoder() -> Callable[[object], bytes]:
    """The encoder for record models (msgspec): each part written as its fields, in order."""
    from decimal import Decimal

    import msgspec
    from pydantic import BaseModel

    from pbr import records

    # each record model, with its one field that must hold a Decimal (pydantic writes any other
    # value there as text; msgspec would write a float as a number)
    exact = {records.Payment: "amount", records.Observation: "value"}
    parts = {
        kind: exact.get(kind)
        for kind in vars(records).values()
        if isinstance(kind, type) and issubclass(kind, BaseModel)
    }

    def fields(part: object) -> dict[str, Any]:
        kind = type(part)
        if kind not in parts:
            raise TypeError(f"not a record part: {kind.__name__}")
        values: dict[str, Any] = part.__dict__
        name = parts[kind]
        if name is not None and type(values.get(name)) is not Decimal:
            raise TypeError(f"{kind.__name__}.{name} is not a Decimal")
        return values

    return msgspec.json.Encoder(enc_hook=fields, decimal_format="string").encode


@cache
def _plain_json() -> Callable[[bytes], bool]:
    """Whether JSON bytes hold no backslash, DEL or byte 0xC2 (and no date out of bounds, in C)."""
    try:
        from pbr._jsonscan import plain_canonical
    except ImportError:  # pragma: no cover - built without a C compiler
        return lambda written: not (b"\\" in written or b"\x7f" in written or b"\xc2" in written)
    return plain_canonical


@lru_cache(maxsize=64)
def _dated(as_of: date) -> bytes:
    """What follows a record's bytes in its input hash: ``|`` and the as-of date."""
    return b"|" + as_of.isoformat().encode()


def rules_hash(rules: RuleSet, plan: OutcomePlan | None = None) -> str:
    """A hash of the rule-set data, the interpretations chosen and the outcome plan."""
    # A batch asks for the same rule set and plan once a family: the last answer is kept with
    # the objects themselves (held, so their identity cannot be reused) and copies of the two
    # mappings it was computed from (compared, cheaply: a caller could change one in place).
    calendar = rules.term_calendar.overrides
    named = rules.term_calendar.named
    last = _last_rules_hash[0]
    if (
        last[0] is rules
        and last[1] is plan
        and last[2] == rules.chosen
        and last[3] == (named, calendar)
    ):
        hashed: str = last[4]
        return hashed
    found = _rules_hash(
        rules.data_sha256,
        tuple(sorted(rules.chosen.items())),
        _calendar_key(rules.term_calendar),
        plan,
    )
    _last_rules_hash[0] = (rules, plan, dict(rules.chosen), (named, dict(calendar)), found)
    return found


def _calendar_key(calendar: TermCalendar) -> tuple[Any, ...]:
    """A term calendar as `rules_hash` reads it: its name and dates, or nothing for the default.

    Its name is in it as decisions give it (`TermCalendar.named`): two calendars with the same
    dates but other names make decisions whose reasons differ. The default calendar, whatever
    its name, adds nothing, so that hashes made under it are as they were.
    """
    dates = tuple(sorted(calendar.overrides.items()))
    return (("term_calendar", calendar.named), *dates) if dates else ()


_last_rules_hash: list[tuple[Any, ...]] = [(None, None, None, None, "")]
"""The last rule set, plan, interpretations, term calendar (name, dates) and hash `rules_hash` gave."""


@lru_cache(maxsize=256)
def _rules_hash(
    data: str, chosen: tuple[tuple[str, str], ...], calendar: tuple[Any, ...], plan: Any
) -> str:
    text = "|".join((data, repr(chosen), repr(calendar), _plan_text(plan)))
    return hashlib.sha256(text.encode()).hexdigest()


def _plan_text(plan: OutcomePlan | None) -> str:
    """A plan as `rules_hash` reads it: its canonical JSON, or ``-`` for none given."""
    return plan.model_dump_json() if plan is not None else "-"


def plan_sha256(plan: OutcomePlan) -> str:
    """The SHA-256 of an outcome plan as `rules_hash` reads it (its canonical JSON, hex).

    It names the plan a report or a replay judged with: two plans with the same id and version
    but other measures have different hashes.

    >>> from pbr.plans import example_plan
    >>> len(plan_sha256(example_plan("tf-phase-2")))
    64
    """
    return hashlib.sha256(_plan_text(plan).encode()).hexdigest()


def identify(family: Family, rules: RuleSet | None = None) -> Identification:
    """Evaluate eligibility at attachment: the problems the evidence shows and whether they qualify.

    Where a phase-one record states `identified_for`, that list is used and any disagreement
    with the evidence is reported as a warning, not an error.

    >>> import pbr
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> ident = pbr.identify(family)
    >>> ident.eligible, [w.code for w in ident.warnings]
    (True, ['EVIDENCE_DISAGREES_WITH_IDENTIFIED_FOR'])
    """
    try:
        chosen = rules if rules is not None else rule_set_for(family)
        return programme(chosen.programme).identify(family, chosen)
    except (AttributeError, TypeError):
        _wrong_argument(family, rules)
        raise


def _wrong_argument(family: object, rules: object = None, plan: object = None) -> None:
    """Raise `TypeError` naming the argument of the wrong type, if one is (else return).

    Checked only once the rules have failed on an argument, so a sound call pays nothing.
    """
    from pbr._arguments import check_family, check_plan, check_rules

    check_family(family)
    check_rules(rules)
    check_plan(plan)
