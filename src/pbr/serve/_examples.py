"""Examples for the OpenAPI document, made by the library so that they are always right."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

__all__ = ["AS_OF", "FAMILY", "decision", "rejection"]

AS_OF = date(2013, 6, 30)
"""The evaluation date of the examples."""

FAMILY: dict[str, Any] = {
    "family_id": "F1",
    "attached_on": "2012-10-15",
    "identified_for": ["crime_asb", "education", "work"],
    "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}],
}
"""A phase-one family back in work: continuous employment is met by 30 June 2013."""

BAD_FAMILY: dict[str, Any] = {"family_id": "F2", "attached_on": "2013-02-30", "members": []}
"""A record with an impossible date and no members."""


@cache
def decision() -> Any:
    """The decision on `FAMILY` at `AS_OF`, as JSON data."""
    from pbr.batch import evaluate_many_json
    from pbr.io import Rejection

    (done,) = evaluate_many_json([json.dumps(FAMILY)], as_of=AS_OF, workers=1)
    assert not isinstance(done, Rejection), done
    return json.loads(done[3])


@cache
def rejection() -> Any:
    """The rejection of `BAD_FAMILY`, as JSON data."""
    from pbr.batch import evaluate_many
    from pbr.io import Rejection

    (done,) = evaluate_many([json.dumps(BAD_FAMILY)], as_of=AS_OF, workers=1, source="<request>")
    assert isinstance(done, Rejection), done
    return done.model_dump(mode="json")
