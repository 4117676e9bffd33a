"""Generate N synthetic phase-one families as JSON Lines, realistic in size (no real people).

``python benchmarks/generate.py N OUT.jsonl [--seed S]``: 1–3 adults and 0–5 children, a year or
more of school terms per child, offences, ASB, benefit and employment spells, referrals and
payments; about 5.5 KB and 33 facts per family, like the OpenFisca yardstick's file.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, timedelta

TERMS = ("autumn", "spring", "summer")


def day(rng: random.Random, low: date, high: date) -> str:
    return (low + timedelta(days=rng.randrange((high - low).days + 1))).isoformat()


def family(rng: random.Random, n: int) -> dict[str, object]:
    attached = date(2012, 4, 1) + timedelta(days=rng.randrange(1095))
    before, after = attached - timedelta(days=365), attached + timedelta(days=540)
    adults = [
        {"person_id": f"A{i}", "date_of_birth": day(rng, date(1965, 1, 1), date(1992, 12, 31))}
        for i in range(1, rng.randint(1, 3) + 1)
    ]
    children = [
        {"person_id": f"C{i}", "date_of_birth": day(rng, date(1998, 9, 1), date(2007, 8, 31))}
        for i in range(1, rng.randint(0, 5) + 1)
    ]
    first_year = attached.year - 1
    school_terms = [
        {
            "person_id": child["person_id"],
            "academic_year": f"{year}/{(year + 1) % 100:02d}",
            "term": term,
            "possible_sessions": (possible := rng.randint(110, 150)),
            "unauthorised_absences": rng.randint(0, possible // 4),
            "fixed_term_exclusions": rng.choice((0, 0, 0, 1, 2, 3)),
            "permanently_excluded": False,  # every column written, as a council's export does
            "alternative_provision": False,
            "on_roll": True,
        }
        for child in children
        for year in range(first_year, first_year + 3)
        for term in TERMS
    ]
    people = [m["person_id"] for m in adults + children]
    record: dict[str, object] = {
        "family_id": f"BENCH-{n:07d}",
        "local_authority": "E10000017",
        "attached_on": attached.isoformat(),
        "members": adults + children,
        "offences": [
            {"person_id": rng.choice(people), "date": day(rng, before, after)}
            for _ in range(rng.randint(0, 3))
        ],
        "asb_incidents": [
            {
                "person_id": rng.choice([None, *people]),
                "date": day(rng, before, after),
                "kind": rng.choice(["recorded_asb", "asbo", "housing_asb_action"]),
            }
            for _ in range(rng.randint(0, 4))
        ],
        "school_terms": school_terms,
        "benefit_spells": [
            {
                "person_id": a["person_id"],
                "benefit": rng.choice(["JSA", "ESA", "IS"]),
                "start": day(rng, before - timedelta(days=700), before),
                "end": None,
            }
            for a in adults
            if rng.random() < 0.7
        ],
        "employment_spells": [
            {"person_id": a["person_id"], "start": day(rng, attached, after), "end": None}
            for a in adults
            if rng.random() < 0.3
        ],
        "work_programme": [
            {
                "person_id": adults[0]["person_id"],
                "date": day(rng, attached, after),
                "provision": "work_programme",
            }
        ]
        if rng.random() < 0.2
        else [],
        "payments": [
            {"kind": "attachment_fee", "amount": "3200.00", "paid_on": None, "claim_id": f"C{n}"}
        ]
        if rng.random() < 0.5
        else [],
    }
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=2012)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "w", encoding="utf-8") as handle:
        for n in range(args.n):
            handle.write(json.dumps(family(rng, n), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
