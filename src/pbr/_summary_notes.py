"""What a run's summary warns of, in words shared by ``pbr evaluate`` and the web API.

``pbr evaluate`` prints these in its summary (an example plan's warning after ``pbr: warning: ``);
the batch summary of ``pbr serve`` gives the same sentences as its ``warnings``, so that a client
is told what a person at the command line is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbr.plans import OutcomePlan
    from pbr.totals import Totals

__all__ = [
    "claims_closed",
    "example_plan_warnings",
    "plans_given",
    "run_warnings",
    "warned_families",
]


def example_plan_warnings(counts: Mapping[str, int], plans: Mapping[str, OutcomePlan]) -> list[str]:
    """A warning per programme whose families were judged against pbr's example outcome plan.

    A family of a programme with plans (phase two, Supporting Families) and no ``--plan`` for it
    is judged against pbr's example plan (``EXAMPLE_PLAN_USED`` in each decision, which the
    table and CSV do not show): the summary says how many, and names a plan given for another
    programme, the likely slip.

    >>> from pbr.plans import example_plan
    >>> [said] = example_plan_warnings({"tf-phase-1": 3, "tf-phase-2": 1},
    ...     {"supporting-families": example_plan("supporting-families")})
    >>> said.startswith("1 tf-phase-2 family was judged against pbr's example")
    True
    >>> said.endswith("(the plan given, pbr-example-sf-outcomes/1.0, is for supporting-families)")
    True
    """
    from pbr.programmes import programme

    found = []
    for programme_id, count in counts.items():
        if not programme(programme_id).uses_plan or programme_id in plans:
            continue
        from pbr.plans import example_plan  # pydantic: only for a programme with plans

        others = plans_given(plans)
        given = f" ({others})" if others else ""
        families = f"{count:,} {programme_id} famil{'y was' if count == 1 else 'ies were'}"
        found.append(
            f"{families} judged against pbr's example outcome plan "
            f"{example_plan(programme_id).label}, not the council's: no --plan was given for "
            f"{programme_id}{given}"
        )
    return found


def plans_given(plans: Mapping[str, OutcomePlan]) -> str:
    """The plans given and their programmes, or "": named beside pbr's example plan's warning.

    A plan given for the wrong programme is the likely reason no plan was given for the family's
    own; ``pbr evaluate``, ``explain``, ``audit`` and the web API all name it in these words.

    >>> from pbr.plans import example_plan
    >>> plans_given({"tf-phase-2": example_plan("tf-phase-2")})
    'the plan given, pbr-example-tfop/1.0, is for tf-phase-2'
    """
    others = ", ".join(f"{p.label}, is for {p.programme}" for p in plans.values())
    return f"the plan given, {others}" if others else ""


def claims_closed(programme_id: str, as_of: date, payable: Decimal) -> str | None:
    """Why money payable now for `programme_id` could not be claimed at `as_of`, if it could not.

    Each decision warns of it (``RESULTS_CLAIMS_CLOSED``); the summary says it once, under the
    programme's total.

    >>> from decimal import Decimal
    >>> claims_closed("tf-phase-1", date(2021, 3, 31), Decimal("100"))
    'claims closed on 2015-05-31: these could not be claimed (RESULTS_CLAIMS_CLOSED)'
    >>> claims_closed("tf-phase-1", date(2015, 3, 31), Decimal("100")) is None
    True
    """
    from pbr.programmes import programme

    closed = programme(programme_id).rules.claims_until()
    if not payable or closed is None or as_of <= closed:
        return None
    return f"claims closed on {closed}: these could not be claimed (RESULTS_CLAIMS_CLOSED)"


SAID_ON_THEIR_OWN = frozenset({"EXAMPLE_PLAN_USED", "RESULTS_CLAIMS_CLOSED"})
"""Warning codes the summary already says in words of their own (`example_plan_warnings`,
`claims_closed`): `warned_families` leaves them out rather than say them twice."""


def warned_families(counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """Each warning code the decisions gave, with the families warned of it, in words.

    `counts` holds the families warned of each code (a family once a code). The codes come in
    the vocabulary's order (`pbr.reasons.ReasonCode`), a code it does not know after them, and
    those `SAID_ON_THEIR_OWN` not at all: money paid over the cap, or twice, is to be recovered,
    and a council reading only the summary would otherwise never learn of it.

    >>> warned_families({"PAID_OVER_CAP": 2, "EXAMPLE_PLAN_USED": 5,
    ...     "RESULT_PAID_MORE_THAN_ONCE": 1})
    [('RESULT_PAID_MORE_THAN_ONCE', '1 family'), ('PAID_OVER_CAP', '2 families')]
    """
    from typing import get_args

    from pbr.reasons import ReasonCode

    known = get_args(ReasonCode)
    order = [c for c in known if c in counts] + sorted(c for c in counts if c not in known)
    return [
        (code, f"{counts[code]:,} famil{'y' if counts[code] == 1 else 'ies'}")
        for code in order
        if code not in SAID_ON_THEIR_OWN and counts[code]
    ]


def run_warnings(
    as_of: date,
    counts: Mapping[str, int],
    payable: Mapping[str, Decimal],
    by_council: Totals,
    plans: Mapping[str, OutcomePlan],
    warned: Mapping[str, int],
) -> list[str]:
    """Everything a run's summary warns of, one sentence each, in ``pbr evaluate``'s words.

    `counts` and `payable` (results payable now) are by programme, in the order first seen;
    `warned` the families warned of each code. The web API's batch summary and `pbr.dask` give
    these as their ``warnings``: claims closed, council names differing only in case, pbr's
    example plans judged against, then the warning codes.
    """
    from pbr.programmes import programmes

    order = [p.id for p in programmes()]
    closed = ((p, claims_closed(p, as_of, payable[p])) for p in sorted(payable, key=order.index))
    return [
        *(f"{programme}: {note}" for programme, note in closed if note is not None),
        *by_council.warnings(),
        *example_plan_warnings(counts, plans),
        *(
            f"{code}: {families} warned of it (their decisions' warnings say why)"
            for code, families in warned_families(warned)
        ),
    ]
