"""The exceptions `pbr` raises. Invalid records raise pydantic's `ValidationError` instead.

```text
PbrError
├── RulesDataError        a rule-set data file is malformed (names the file, key and value)
├── UnknownInterpretation an interpretation id or value that the rule set does not define
├── OutsideProgramme      a family that the chosen rule set does not cover (or its payment)
├── PlanError             an outcome plan that is malformed or for another programme
├── CalendarError         a council's term calendar that is malformed or inconsistent
├── ForecastError         a forecast's input, option or output path that pbr refuses
└── MissingExtra          what was asked for needs an extra that is not installed (an ImportError)
```
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "CalendarError",
    "ForecastError",
    "MissingExtra",
    "OutsideProgramme",
    "PbrError",
    "PlanError",
    "RulesDataError",
    "UnknownInterpretation",
]


class PbrError(Exception):
    """Base class of every error `pbr` raises itself.

    >>> import pbr
    >>> all(issubclass(e, pbr.PbrError) for e in (pbr.OutsideProgramme, pbr.PlanError))
    True

    Every one pickles, whatever its constructor takes: a worker process's error reaches its
    caller as itself (with its message, attributes and notes), not as a broken pool.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self.args, dict(vars(self)))


def _rebuilt(kind: type[PbrError], args: tuple[Any, ...], state: dict[str, Any]) -> PbrError:
    """An unpickled error: its class, `args` and attributes as they were, `__init__` not run.

    Rerunning the constructor on ``args`` (pickle's way for an exception) would give it the
    finished message where it takes a family id, a message and keywords.
    """
    error = kind.__new__(kind, *args)
    error.args = args
    vars(error).update(state)
    return error


class RulesDataError(PbrError, ValueError):
    """A rule-set data file is malformed.

    >>> from pbr.rules import load_rule_set
    >>> load_rule_set("programme = ", origin="mine.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.errors.RulesDataError: mine.toml: not valid TOML: ...
    """


class UnknownInterpretation(PbrError, ValueError):
    """An interpretation id or value that the rule set does not define; lists the valid ones.

    >>> from pbr.rules import PHASE_ONE
    >>> PHASE_ONE.with_interpretations(employment_weeks="all_52")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.errors.UnknownInterpretation: ... valid: jsa_26_other_13, all_13
    """

    def __init__(self, message: str, *, valid: Iterable[str]) -> None:
        self.valid = tuple(valid)
        super().__init__(f"{message}; valid: {', '.join(self.valid)}")


class OutsideProgramme(PbrError, ValueError):
    """The rule set does not cover the family (its programme, attachment date or a payment).

    A payment of a kind the rule set's programme does not pay is named by `field` and `value`.

    >>> import pbr
    >>> family = pbr.Family.model_validate({"family_id": "F0", "attached_on": "2011-05-01",
    ...     "members": [{"person_id": "A1", "date_of_birth": "1980-01-01"}]})
    >>> pbr.rule_set_for(family)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.errors.OutsideProgramme: family 'F0': no rule set covers programme (not stated) ...
    """

    def __init__(
        self, family_id: str, message: str, *, field: str | None = None, value: object = None
    ) -> None:
        self.family_id = family_id
        self.field = field
        """The record's field that the rule set cannot take (``payments.0.kind``), or None when
        the family as a whole is outside it (its programme or attachment date)."""
        self.value = value
        """That field's value."""
        super().__init__(f"family {family_id!r}: {message}")


class PlanError(PbrError, ValueError):
    """An outcome plan that cannot be used; the message names the plan, the measure and the field.

    >>> from pbr.plans import parse_plan
    >>> parse_plan({"id": "p", "version": "1", "programme": "tf-phase-9", "outcomes": []})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pbr.errors.PlanError: <plan>: plan 'p': programme: Input should be 'tf-phase-2' or ...

    A plan with several problems gives each as one of `problems`; the message is them, a line
    each (the command line prints each on its own line).
    """

    def __init__(self, *problems: str) -> None:
        self.problems = problems
        """Each problem, in one line (a value shown as Python writes it, never a raw newline)."""
        super().__init__("\n".join(problems))


class CalendarError(PbrError, ValueError):
    """A council's term calendar that cannot be used; the message names the file, term and field.

    >>> from pbr.calendars import parse_term_calendar
    >>> parse_term_calendar({"name": "Kent", "terms": []})
    Traceback (most recent call last):
    ...
    pbr.errors.CalendarError: <calendar>: no terms: a term calendar gives the dates of at least one term

    Each problem is one of `problems`, a line of the message.
    """

    def __init__(self, *problems: str) -> None:
        self.problems = problems
        """Each problem, in one line."""
        super().__init__("\n".join(problems))


class ForecastError(PbrError, ValueError):
    """A forecast's input, option or output path that `pbr.forecast` refuses; one line naming it.

    A `ValueError` too, so ``except ValueError`` keeps catching it. A path every pbr writer
    refuses (a folder, a block device, a symbolic link, a missing folder) is refused before any
    work, as ``pbr forecast --output`` and ``--plot`` refuse it.

    >>> from pbr.forecast import allocation
    >>> allocation(790).to_excel("/no/such/folder/councils.xlsx")
    Traceback (most recent call last):
    ...
    pbr.errors.ForecastError: cannot write /no/such/folder/councils.xlsx: folder /no/such/folder does not exist
    """


class MissingExtra(PbrError, ImportError):
    """What was asked for needs an optional dependency that is not installed; says what to install.

    Reading a workbook without openpyxl raises ``MissingExtra: reading XLSX needs openpyxl: pip
    install "pbr-claims[xlsx]"``; the command line prints it as one line, as it does an input it
    cannot read. An `ImportError` too, so ``except ImportError`` keeps catching it:

    >>> import pbr
    >>> issubclass(pbr.MissingExtra, ImportError), issubclass(pbr.MissingExtra, pbr.PbrError)
    (True, True)
    """
