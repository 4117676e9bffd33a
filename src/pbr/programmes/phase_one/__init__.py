"""Troubled Families phase one (families attached 1 April 2012 – 31 March 2015; phase1-spec v1).

Three results: crime/ASB/education, progress to work and continuous employment; an attachment
fee up front; at most £4,000 a family. Identification, the limbs and the payment each have their
own module; this one wires them into the `Programme` the registry lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from pbr._parts import ResultKind
from pbr.programmes._employment import continuous_employment
from pbr.programmes._kernel import Verdict
from pbr.programmes._programme import Programme
from pbr.programmes.phase_one._identification import PROBLEMS, identify
from pbr.programmes.phase_one._limbs import crime_asb_education, not_identified, progress_to_work
from pbr.programmes.phase_one._payment import KINDS, attachment_fee, pay, rates
from pbr.rules import RuleSet, bundled_rule_set

if TYPE_CHECKING:
    from pbr.decisions import Identification
    from pbr.records import Family

__all__ = ["PROGRAMME"]


def results(
    family: Family, as_of: date, rules: RuleSet, plan: object, ident: Identification
) -> Mapping[ResultKind, Verdict]:
    """Judge the three results on the evidence at `as_of`."""
    identified = ident.identified_for
    employment_applies = "work" in identified  # whatever `relevance` says (clarification 18)
    return {
        "crime_asb_education": crime_asb_education(family, rules, as_of, identified),
        "progress_to_work": progress_to_work(family, rules, as_of, identified),
        "continuous_employment": continuous_employment(
            family,
            rules,
            as_of,
            not_applicable=None
            if employment_applies
            else not_identified(
                rules, "continuous_employment", "work", code="PROBLEM_NOT_IDENTIFIED"
            ),
        ),
    }


PROGRAMME = Programme(
    rules=bundled_rule_set("phase_one.toml"),
    short="TF1",
    name="Troubled Families phase one",
    result_kinds=KINDS,
    problems=PROBLEMS,
    states_problems_in="identified_for",
    identify=identify,
    results=results,
    pay=pay,
    attachment_fee=attachment_fee,
    result_rates=lambda rules, year: {
        kind: rate.amount for kind, rate in rates(rules, year).items()
    },
    illustrative_rates={
        "crime_asb_education": (Fraction(1, 2), Fraction(15, 100)),
        "progress_to_work": (Fraction(1, 10), Fraction(5, 100)),
        "continuous_employment": (Fraction(1, 10), Fraction(5, 100)),
    },
)
"""Phase one, as the registry lists it."""
