"""The entry points: pick the rule set, identify the family, evaluate its claims."""

from __future__ import annotations

from datetime import date

from pbr import phase_one
from pbr.decisions import Decision, Identification
from pbr.records import Family
from pbr.rules import RuleSet

__all__ = ["evaluate", "identify", "rule_set_for"]


def rule_set_for(family: Family) -> RuleSet:
    """Return the rule set for a family, chosen by its `programme` and attachment date.

    Raises:
        OutsideProgramme: no bundled rule set covers the family.

    """
    return phase_one.rule_set_for(family)


def evaluate(family: Family, *, as_of: date, rules: RuleSet | None = None) -> Decision:
    """Evaluate a family's claims at `as_of`: each result's status, amount payable now and reasons.

    `rules=None` picks the rule set by the family's programme and attachment date. Nothing
    depends on today's date: the same record, date and rules always give the same decision.

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

    Raises:
        OutsideProgramme: the rule set does not cover the family.

    """
    chosen = rules if rules is not None else rule_set_for(family)
    return phase_one.evaluate(family, as_of, chosen)


def identify(family: Family, rules: RuleSet | None = None) -> Identification:
    """Evaluate eligibility at attachment: the problems the evidence shows and whether they qualify.

    Where the record states `identified_for`, that list is used and any disagreement with the
    evidence is reported as a warning, not an error.
    """
    chosen = rules if rules is not None else rule_set_for(family)
    return phase_one.identify(family, chosen)
