"""A caller's arguments checked before any work: a wrong type or name is named, not run into.

The public functions take families, rule sets, plans and interpretation choices; a dict where a
`Family` belongs, or a misspelt interpretation, would otherwise fail deep in the rules (an
`AttributeError`) or, worse, be ignored. Types are looked up in `sys.modules`: a module not
loaded yet cannot have made the object, and the phase-one batch never loads pydantic. (Nor can
a type another thread's import has not reached yet: its module is there, without the name.)
"""

from __future__ import annotations

import operator
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pbr.audit import Claim
    from pbr.plans import OutcomePlan
    from pbr.records import Family
    from pbr.rules import RuleSet

__all__ = [
    "MOST_RECORD_BYTES",
    "check_chunk_size",
    "check_claims",
    "check_families",
    "check_family",
    "check_family_id",
    "check_instance",
    "check_interpretations",
    "check_ledger",
    "check_max_record_bytes",
    "check_plan",
    "check_plans",
    "check_records",
    "check_rules",
    "check_term_calendar",
    "described",
    "interpretation_choice",
    "short_repr",
    "spaced_interpretation",
]


def _is(value: object, module: str, name: str) -> bool:
    """Whether `value` is a `module`.`name`; not if the module, or that name, is not loaded yet.

    A module another thread is still importing is in `sys.modules` without its later names.
    """
    kind = getattr(sys.modules.get(module), name, None)
    return kind is not None and isinstance(value, kind)


def described(value: object, width: int = 60) -> str:
    """``int 790``: a wrong argument's type and its repr, cut to `width` characters.

    >>> described(10**5000)
    'int a number too long to show'
    """
    return f"{type(value).__name__} {short_repr(value, width)}"


def short_repr(value: object, width: int = 40) -> str:
    """`value` for a message: its repr, cut to `width` characters (a pasted number can be huge).

    A `Decimal` is shown as written (``-0``, not ``Decimal('-0')``).

    >>> short_repr(10**50), short_repr(Decimal("-0"))
    ('1000000000000000000000000000000000000...', '-0')
    """
    try:
        text = str(value) if isinstance(value, Decimal) else repr(value)
    except ValueError:  # an int beyond Python's limit on the digits it turns into text
        return "a number too long to show"
    return text if len(text) <= width else text[: width - 3] + "..."


MOST_RECORD_BYTES = 1 << 40
"""The largest limit on a record's bytes (1 TiB): no record is larger, and a read can be asked
for it (``--max-record-bytes`` takes the same)."""


def whole_number(value: object) -> int | None:
    """`value` as an int if it is a whole number (an int, a numpy integer: ``__index__``), else None.

    A bool is not one: ``True`` given as a count is a mistake, not 1.

    >>> whole_number(7), whole_number(True), whole_number(7.0), whole_number("7")
    (7, None, None, None)
    """
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def check_chunk_size(chunk_size: object) -> int:
    """`chunk_size` as an int; refused unless a whole number of records, 1 or more.

    >>> check_chunk_size(0)
    Traceback (most recent call last):
    ...
    ValueError: chunk_size must be 1 or more, not 0
    """
    size = whole_number(chunk_size)
    if size is None:
        raise TypeError(f"chunk_size must be a whole number, not {short_repr(chunk_size)}")
    if size < 1:  # 0 would divide by zero on a pool, and be taken on one worker
        raise ValueError(f"chunk_size must be 1 or more, not {short_repr(chunk_size)}")
    return size


def check_max_record_bytes(limit: object) -> int:
    """`max_record_bytes` as an int; refused unless a number of bytes from 1 to `MOST_RECORD_BYTES`.

    0 (or ``True``, a 1 by accident) would reject every record as too large, without a word.

    >>> check_max_record_bytes(-1)
    Traceback (most recent call last):
    ...
    ValueError: max_record_bytes must be from 1 to 1,099,511,627,776 (1 TiB), not -1
    """
    size = whole_number(limit)
    if size is None:
        raise TypeError(
            f"max_record_bytes must be a whole number of bytes, not {short_repr(limit)}"
        )
    if not 1 <= size <= MOST_RECORD_BYTES:
        raise ValueError(
            f"max_record_bytes must be from 1 to {MOST_RECORD_BYTES:,} (1 TiB), "
            f"not {short_repr(limit)}"
        )
    return size


def check_family(family: object, name: str | None = None) -> None:
    """Raise TypeError unless `family` is a `pbr.Family` (or the batch's compiled record).

    `name` is where it was given (``families[3]``), when it is one of several.

    >>> check_family({"family_id": "F1"})
    Traceback (most recent call last):
    ...
    TypeError: expected a pbr.Family, got dict {'family_id': 'F1'}; read a record with pbr.Family.model_validate(record), or pass records to pbr.evaluate_many
    """
    if _is(family, "pbr.records", "Family") or _is(family, "pbr._compiled", "CompiledFamily"):
        return
    hint = (
        "; read a record with pbr.Family.model_validate(record), or "
        + ("pass records to pbr.evaluate_many" if name is None else "a file with pbr.read_records")
        if isinstance(family, Mapping | str | bytes)
        else ""
    )
    where = "" if name is None else f"{name}: "
    raise TypeError(f"{where}expected a pbr.Family, got {described(family)}{hint}")


def check_families(families: object, name: str = "families") -> Iterable[Family]:
    """`families` (pbr.Family objects), each checked; a text, a path or one family is refused.

    A list or tuple is checked whole now; any other iterable as it is read (a generator of
    records is not held in memory to be checked first). A mapping is refused: `check_family`
    its values where one by family id is taken.

    >>> list(check_families([{"family_id": "F1"}]))
    Traceback (most recent call last):
    ...
    TypeError: families[0]: expected a pbr.Family, got dict {'family_id': 'F1'}; read a record with pbr.Family.model_validate(record), or a file with pbr.read_records
    """
    if isinstance(families, str | bytes | bytearray | os.PathLike):
        hint = "; read a file with pbr.read_records(path)"
    elif _is(families, "pydantic", "BaseModel"):
        hint = "; one family goes in a list: [family]"
    elif isinstance(families, Mapping) or not hasattr(families, "__iter__"):
        hint = ""
    else:
        if isinstance(families, Sequence):
            for i, family in enumerate(families):
                check_family(family, f"{name}[{i}]")
            return families
        return _checked_as_read(families, name)
    raise TypeError(
        f"{name} must be an iterable of pbr.Family objects, got {described(families)}{hint}"
    )


def _checked_as_read(families: Iterable[object], name: str) -> Iterator[Family]:
    """Each of `families`, checked as it is read."""
    for i, family in enumerate(families):
        check_family(family, f"{name}[{i}]")
        yield family  # type: ignore[misc]


def check_claims(claims: object, name: str = "claims") -> list[Claim]:
    """`claims` as a list, each a `pbr.audit.Claim`; else a TypeError naming the one that is not.

    >>> check_claims([{"claim_id": "C1"}])
    Traceback (most recent call last):
    ...
    TypeError: claims[0]: expected a pbr.audit.Claim, got dict {'claim_id': 'C1'}; build one with pbr.audit.Claim.model_validate(row), or read a file with pbr.audit.read_claims(path)
    """
    if isinstance(claims, str | bytes | bytearray | os.PathLike | Mapping) or not hasattr(
        claims, "__iter__"
    ):
        hint = (
            "; read a file with pbr.audit.read_claims(path)"
            if isinstance(claims, str | os.PathLike)
            else ""
        )
        raise TypeError(
            f"{name} must be an iterable of pbr.audit.Claim objects, got {described(claims)}{hint}"
        )
    listed = list(claims)
    for i, claim in enumerate(listed):
        if not _is(claim, "pbr.audit._claims", "Claim"):
            raise TypeError(
                f"{name}[{i}]: expected a pbr.audit.Claim, got {described(claim)}; build one "
                "with pbr.audit.Claim.model_validate(row), or read a file with "
                "pbr.audit.read_claims(path)"
            )
    return listed


def check_instance(value: object, name: str, module: str, kind: str, hint: str = "") -> None:
    """Raise TypeError unless `value` is a `module`.`kind` (shown as ``pbr.audit.Verification``).

    >>> check_instance(None, "verification", "pbr.audit._verify", "Verification")
    Traceback (most recent call last):
    ...
    TypeError: verification must be a pbr.audit.Verification, got NoneType None
    """
    if not _is(value, module, kind):
        shown = f"{module.split('._')[0]}.{kind}"
        raise TypeError(f"{name} must be a {shown}, got {described(value)}{hint}")


def check_verification(verification: object) -> None:
    """Raise TypeError unless `verification` is what `pbr.audit.verify` returns."""
    check_instance(
        verification,
        "verification",
        "pbr.audit._verify",
        "Verification",
        "; make one with pbr.audit.verify(claims, families)",
    )


def check_family_id(family_id: object, name: str = "family_id") -> None:
    """Raise TypeError unless `family_id` is text (a family's id, not the family).

    >>> check_family_id(7)
    Traceback (most recent call last):
    ...
    TypeError: family_id must be text, got int 7
    """
    if not isinstance(family_id, str):
        raise TypeError(f"{name} must be text, got {described(family_id)}")


def check_records(records: object) -> None:
    """Raise TypeError unless `records` is an iterable of records, not one text, path or table.

    A file's name or text would be read character by character, a DataFrame by its column
    names and one `Family` by its fields: each a "record" that is then rejected.

    >>> check_records("families.jsonl")
    Traceback (most recent call last):
    ...
    TypeError: records must be an iterable of records (Family objects, dicts or JSON texts), got str 'families.jsonl'; read a file with pbr.read_records(path)
    """
    if isinstance(records, str | bytes | bytearray | os.PathLike):
        hint = "; read a file with pbr.read_records(path)"
    elif isinstance(records, Mapping):
        hint = "; one record goes in a list: [record]"
    elif _is(records, "pydantic", "BaseModel"):  # iterable, as its (field, value) pairs
        hint = "; one family goes in a list: [family]"
    elif type(records).__module__.startswith("pandas") and hasattr(records, "columns"):
        hint = "; pass one column of JSON texts or dicts, e.g. frame['record']"
    elif not hasattr(records, "__iter__"):
        hint = ""
    else:
        return
    raise TypeError(
        "records must be an iterable of records (Family objects, dicts or JSON texts), "
        f"got {described(records)}{hint}"
    )


def check_ledger(ledger: object, name: str = "ledger") -> None:
    """Raise TypeError unless `ledger` is None or a payment history `PaymentHistory.load` reads.

    That is a `pbr.history.PaymentHistory`, a `pbr.ledger.Ledger`, a ledger's path, payments
    by family id (a mapping) or ledger entries (any other iterable but text and bytes). `name`
    is the argument's (``history``, ``paid``).

    >>> check_ledger(123)
    Traceback (most recent call last):
    ...
    TypeError: ledger must be a pbr.history.PaymentHistory, a pbr.ledger.Ledger or a ledger's path (or payments by family id), got int 123
    """
    if ledger is None or isinstance(ledger, str | os.PathLike | Mapping):
        return
    if _is(ledger, "pbr.history", "PaymentHistory") or _is(ledger, "pbr.ledger", "Ledger"):
        return
    if hasattr(ledger, "__iter__") and not isinstance(ledger, bytes | bytearray):
        return  # ledger entries (pbr.ledger.Entry), or mappings that name their family
    hint = "; a path is text or a pathlib.Path" if isinstance(ledger, bytes | bytearray) else ""
    raise TypeError(
        f"{name} must be a pbr.history.PaymentHistory, a pbr.ledger.Ledger or a ledger's path "
        f"(or payments by family id), got {described(ledger)}{hint}"
    )


def check_rules(rules: object) -> None:
    """Raise TypeError unless `rules` is None or a `pbr.rules.RuleSet`.

    >>> check_rules("tf-phase-1")
    Traceback (most recent call last):
    ...
    TypeError: rules must be a pbr.rules.RuleSet or None, got str 'tf-phase-1'; a programme's is pbr.programmes.programme('tf-phase-1').rules
    """
    if rules is None or _is(rules, "pbr.rules", "RuleSet"):
        return
    hint = (
        f"; a programme's is pbr.programmes.programme({rules!r}).rules"
        if isinstance(rules, str)
        else ""
    )
    raise TypeError(f"rules must be a pbr.rules.RuleSet or None, got {described(rules)}{hint}")


def check_term_calendar(calendar: object) -> None:
    """Raise TypeError unless `calendar` is None or a `pbr.TermCalendar` a file could give.

    One that says what no calendar file may is a CalendarError
    (`pbr.calendars.check_term_calendar`).

    >>> check_term_calendar("kent.toml")
    Traceback (most recent call last):
    ...
    TypeError: term_calendar must be a pbr.TermCalendar or None, got str 'kent.toml'; load a file with pbr.load_term_calendar(path)
    """
    if calendar is None:
        return
    if _is(calendar, "pbr.periods", "TermCalendar"):
        from pbr.calendars import check_term_calendar as check_dates

        check_dates(cast("Any", calendar))
        return
    hint = "; load a file with pbr.load_term_calendar(path)" if isinstance(calendar, str) else ""
    raise TypeError(
        f"term_calendar must be a pbr.TermCalendar or None, got {described(calendar)}{hint}"
    )


def check_plan(plan: object, name: str = "plan") -> None:
    """Raise TypeError unless `plan` is None or a `pbr.plans.OutcomePlan`.

    >>> check_plan("plan.yaml")
    Traceback (most recent call last):
    ...
    TypeError: plan must be a pbr.plans.OutcomePlan or None, got str 'plan.yaml'; load a file with pbr.load_plan(path)
    """
    if plan is None or _is(plan, "pbr.plans", "OutcomePlan"):
        return
    hint = (
        "; load a file with pbr.load_plan(path)"
        if isinstance(plan, str | os.PathLike)
        else "; build one with pbr.plans.OutcomePlan.model_validate(data)"
        if isinstance(plan, Mapping)
        else ""
    )
    raise TypeError(f"{name} must be a pbr.plans.OutcomePlan or None, got {described(plan)}{hint}")


def check_plans(plans: object) -> dict[str, OutcomePlan]:
    """`plans` as a dict, each key a programme's id whose plan it holds; else an error.

    >>> check_plans({"tf_phase_2": None})
    Traceback (most recent call last):
    ...
    pbr.errors.PlanError: plans: no programme 'tf_phase_2'; programmes: tf-phase-1, tf-phase-2, supporting-families
    """
    if plans is None:
        return {}
    if not isinstance(plans, Mapping):
        raise TypeError(f"plans must map a programme id to its plan, got {described(plans)}")
    from pbr.errors import PlanError
    from pbr.programmes import programmes

    known = [p.id for p in programmes()]
    for key, plan in plans.items():
        if key not in known:
            raise PlanError(f"plans: no programme {key!r}; programmes: {', '.join(known)}")
        check_plan(plan, f"plans[{key!r}]")
        if plan is not None and plan.programme != key:
            raise PlanError(f"plans[{key!r}] is a plan for {plan.programme}, not {key}")
    return {key: plan for key, plan in plans.items() if plan is not None}


def interpretation_choice(text: str) -> tuple[str, str]:
    """``ID=VALUE`` (``pbr --interpretation``, the web API's ``interpretation=``) as (id, value).

    An id or value missing (or only spaces) is refused, then one with spaces around it: pbr
    never trims, so ``" all_13"`` is refused as `pbr.RuleSet.with_interpretations` refuses it.

    >>> interpretation_choice("employment_weeks=all_13")
    ('employment_weeks', 'all_13')
    >>> interpretation_choice("employment_weeks= all_13")
    Traceback (most recent call last):
    ...
    ValueError: 'employment_weeks= all_13' has spaces around its value: remove them
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ValueError(f"expected ID=VALUE, got {text!r}")
    spaced = [name for name, part in (("id", key), ("value", value)) if part != part.strip()]
    if spaced:
        raise ValueError(f"{text!r} has spaces around its {' and '.join(spaced)}: remove them")
    return key, value


def spaced_interpretation(key: object, value: object) -> str | None:
    """Why a choice with spaces around its id (else its value) is refused; None if it has none.

    pbr never trims: taking ``" all_13"`` as ``all_13`` would be a silent conversion.

    >>> spaced_interpretation("employment_weeks", "all_13 ")
    "interpretation 'employment_weeks' has spaces around its value 'all_13 ': remove them"
    """
    if isinstance(key, str) and key != key.strip():
        return f"interpretation {key!r} has spaces around its id: remove them"
    if isinstance(value, str) and value != value.strip():
        return f"interpretation {key!r} has spaces around its value {value!r}: remove them"
    return None


def interpretations_once(choices: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The interpretations chosen, by id; one given twice is refused, even with one value.

    The last of two would win silently: which was meant? (``pbr evaluate`` and the web API.)

    >>> interpretations_once([("employment_weeks", "all_13"), ("employment_weeks", "all_13")])
    Traceback (most recent call last):
    ...
    pbr.errors.UnknownInterpretation: interpretation 'employment_weeks' is given twice ('all_13', then 'all_13'): give it once; valid: jsa_26_other_13, all_13
    """
    from pbr.errors import UnknownInterpretation
    from pbr.programmes import programmes

    given: dict[str, str] = {}
    for key, value in choices:
        if key in given:
            every = (p.rules for p in programmes())
            values = next(
                (r.interpretations[key].values for r in every if key in r.interpretations), ()
            )
            raise UnknownInterpretation(
                f"interpretation {key!r} is given twice ({given[key]!r}, then {value!r}): "
                "give it once",
                valid=values,
            )
        given[key] = value
    return given


def check_interpretations(choices: object, rules: RuleSet | None = None) -> dict[str, str]:
    """`choices` as a dict, each a name and value `rules` defines (any programme's if None).

    A name no rule set defines is refused, as is a value its rule set does not define: a
    misspelt name would otherwise be ignored and the default used.

    >>> check_interpretations({"employment_week": "all_13"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.errors.UnknownInterpretation: unknown interpretation 'employment_week'; valid: ...
    """
    from pbr.errors import UnknownInterpretation

    if choices is None:
        return {}
    if not isinstance(choices, Mapping):
        raise TypeError(
            f"interpretations must map a name to a value, got {described(choices)}; "
            'e.g. {"employment_weeks": "all_13"}'
        )
    given = dict(choices)
    for key, value in given.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"interpretation {key!r}: names and values are text, got {value!r}")
    if rules is not None:
        rules.with_interpretations(**given)  # the rule set's own refusal
        return given
    from pbr.programmes import programmes

    every = [p.rules for p in programmes()]
    known = {k for each in every for k in each.interpretations}
    for key in given:
        if key not in known:
            spaced = spaced_interpretation(key, None)
            if spaced is not None:
                raise UnknownInterpretation(spaced, valid=sorted(known))
            raise UnknownInterpretation(f"unknown interpretation {key!r}", valid=sorted(known))
    for each in every:
        each.with_interpretations(**{k: v for k, v in given.items() if k in each.interpretations})
    return given
