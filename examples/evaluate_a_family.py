"""Evaluate one family from Python: validate the record, evaluate it, read and explain the decision.

Run: python examples/evaluate_a_family.py
"""

from __future__ import annotations

import json
from datetime import date

import pbr

RECORD = {
    "family_id": "DEMO-001",
    "attached_on": "2013-05-01",
    "local_discretion": ["domestic_abuse"],
    "members": [
        {"person_id": "A1", "date_of_birth": "1984-03-12"},
        {"person_id": "C1", "date_of_birth": "2001-07-30"},
    ],
    "offences": [{"person_id": "C1", "date": "2013-02-11"}],
    "asb_incidents": [{"person_id": None, "date": "2013-01-20", "kind": "housing_asb_action"}],
    "school_terms": [
        {
            "person_id": "C1",
            "academic_year": year,
            "term": term,
            "possible_sessions": 120,
            "unauthorised_absences": absent,
            "fixed_term_exclusions": 0,
        }
        for year, term, absent in [
            ("2011/12", "summer", 20),
            ("2012/13", "autumn", 25),
            ("2012/13", "spring", 22),
            ("2012/13", "summer", 9),
            ("2013/14", "autumn", 4),
        ]
    ],
    "benefit_spells": [
        {"person_id": "A1", "benefit": "JSA", "start": "2012-06-01", "end": "2013-06-02"}
    ],
    "employment_spells": [{"person_id": "A1", "start": "2013-06-03", "end": None}],
    "payments": [{"kind": "attachment_fee", "amount": "2400.00", "paid_on": "2013-06-01"}],
}


def main() -> None:
    family = pbr.Family.model_validate(RECORD)

    identification = pbr.identify(family)
    print("eligible:", identification.eligible, "identified for:", identification.identified_for)

    # The job reaches 26 weeks (the rule for an adult who was on JSA) on 2 December 2013.
    for as_of in (date(2013, 12, 1), date(2013, 12, 2)):
        decision = pbr.evaluate(family, as_of=as_of)
        employment = decision.results["continuous_employment"]
        print(as_of, employment.status, employment.amount, employment.earliest_date)

    decision = pbr.evaluate(family, as_of=date(2013, 12, 2))
    print("payable now:", decision.payable)
    print(decision.explain())

    # The same family under the all-13-weeks reading: met three months earlier.
    rules = pbr.rules.PHASE_ONE.with_interpretations(employment_weeks="all_13")
    earlier = pbr.evaluate(family, as_of=date(2013, 9, 2), rules=rules)
    print("all_13 on 2013-09-02:", earlier.results["continuous_employment"].status)

    # What a council system would store: JSON with money as decimal strings.
    print(json.dumps(decision.model_dump(mode="json")["results"]["continuous_employment"])[:120])


if __name__ == "__main__":
    main()
