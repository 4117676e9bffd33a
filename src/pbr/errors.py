"""The exceptions `pbr` raises. Invalid records raise pydantic's `ValidationError` instead.

```text
PbrError
├── RulesDataError        a rule-set data file is malformed (names the file, key and value)
├── UnknownInterpretation an interpretation id or value that the rule set does not define
├── OutsideProgramme      a family that the chosen rule set does not cover
└── PlanError             an outcome plan that is malformed or for another programme
```
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["OutsideProgramme", "PbrError", "PlanError", "RulesDataError", "UnknownInterpretation"]


class PbrError(Exception):
    """Base class of every error `pbr` raises itself."""


class RulesDataError(PbrError, ValueError):
    """A rule-set data file is malformed."""


class UnknownInterpretation(PbrError, ValueError):
    """An interpretation id or value that the rule set does not define; lists the valid ones."""

    def __init__(self, message: str, *, valid: Iterable[str]) -> None:
        self.valid = tuple(valid)
        super().__init__(f"{message}; valid: {', '.join(self.valid)}")


class OutsideProgramme(PbrError, ValueError):
    """The family is not covered by the rule set (its programme or attachment date)."""

    def __init__(self, family_id: str, message: str) -> None:
        self.family_id = family_id
        super().__init__(f"family {family_id!r}: {message}")


class PlanError(PbrError, ValueError):
    """An outcome plan that cannot be used; the message names the plan, the measure and the field."""
