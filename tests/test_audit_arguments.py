"""`pbr.audit` and `pbr.history` name a wrong argument when called, as `pbr.evaluate` does.

docs/api.md ("Errors"): an argument of the wrong type raises `TypeError` naming it, what it got
and what to pass; never an `AttributeError` from deep inside, nor a comparison error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

import pbr
import pbr.audit
import pbr.history
from pbr.audit import Claim

D = date(2015, 3, 31)
FAMILY = pbr.Family.model_validate(
    {
        "family_id": "F1",
        "attached_on": "2012-10-15",
        "identified_for": ["crime_asb", "education", "work"],
        "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    }
)
CLAIM = Claim(claim_id="C1", family_id="F1", kind="attachment_fee", amount="3200.00", claimed_on=D)
RECORD: Any = FAMILY.model_dump(mode="json")
"""A family record as a dict: what a caller without types might pass for a family."""


def wrong(value: object) -> Any:
    """`value`, untyped: an argument of the wrong type, as an untyped caller would pass it."""
    return value


def verification() -> pbr.audit.Verification:
    return pbr.audit.verify([CLAIM], [FAMILY], D)


CALLS: list[tuple[str, Callable[[], object], str]] = [
    (
        "a family record as a dict",
        lambda: pbr.audit.verify([], [RECORD], D),
        r"families\[0\]: expected a pbr\.Family, got dict",
    ),
    (
        "a claim as a dict",
        lambda: pbr.audit.verify(wrong([{"claim_id": "C"}]), [FAMILY], D),
        r"claims\[0\]: expected a pbr\.audit\.Claim, got dict",
    ),
    ("no claims", lambda: pbr.audit.verify(wrong(None), [FAMILY], D), "claims must be"),
    (
        "families by id, one a dict",
        lambda: pbr.audit.verify([], {"F1": RECORD}, D),
        r"families\['F1'\]: expected a pbr\.Family",
    ),
    ("one family, not a list", lambda: pbr.audit.verify([], wrong(FAMILY), D), "families must be"),
    ("families as a path", lambda: pbr.audit.verify([], wrong("f.jsonl"), D), "pbr.read_records"),
    (
        "a date as text",
        lambda: pbr.audit.verify([], [FAMILY], wrong("2015-03-31")),
        "as_of must be",
    ),
    (
        "a datetime",
        lambda: pbr.audit.verify([], [FAMILY], datetime(2015, 3, 31)),
        r"as_of must be a datetime\.date, got datetime.*use its \.date\(\)",
    ),
    (
        "a history of the wrong type",
        lambda: pbr.audit.verify([], [FAMILY], D, wrong(123)),
        "history must be",
    ),
    (
        "missed claims: a family record as a dict",
        lambda: pbr.audit.missed_claims([RECORD], D),
        r"families\[0\]: expected a pbr\.Family, got dict",
    ),
    (
        "missed claims: a date as text",
        lambda: pbr.audit.missed_claims([FAMILY], wrong("2015-03-31")),
        "as_of must be a datetime.date, got str",
    ),
    (
        "missed claims: a datetime",
        lambda: pbr.audit.missed_claims([FAMILY], datetime(2015, 3, 31)),
        "as_of must be a datetime.date, got datetime",
    ),
    (
        "missed claims: a generator with a dict in it",
        lambda: pbr.audit.missed_claims((f for f in [FAMILY, RECORD]), D),
        r"families\[1\]: expected a pbr\.Family, got dict",
    ),
    (
        "missed claims: paid of the wrong type",
        lambda: pbr.audit.missed_claims([FAMILY], D, paid=wrong(7)),
        "paid must be",
    ),
    (
        "sample: a claim as a dict",
        lambda: pbr.audit.sample(wrong([{"claim_id": "C"}]), 1, seed=1),
        r"claims\[0\]: expected a pbr\.audit\.Claim, got dict",
    ),
    (
        "sample: a claim file's name",
        lambda: pbr.audit.sample(wrong("claims.csv"), 1, seed=1),
        r"pbr\.audit\.read_claims",
    ),
    (
        "mus_audit: no verification",
        lambda: pbr.audit.mus_audit(wrong(None), confidence="95%", tolerable="2%", seed=1),
        r"verification must be a pbr\.audit\.Verification, got NoneType",
    ),
    (
        "write_report: no verification",
        lambda: pbr.audit.write_report(wrong(None), "report.html"),
        r"verification must be a pbr\.audit\.Verification, got NoneType",
    ),
    (
        "merge_payments: a family record as a dict",
        lambda: pbr.history.merge_payments(RECORD, {}),
        r"expected a pbr\.Family, got dict",
    ),
    (
        "merge_payments: a dict and no history",
        lambda: pbr.history.merge_payments(RECORD, None),
        r"expected a pbr\.Family, got dict",
    ),
    (
        "merge_payments: a history of the wrong type",
        lambda: pbr.history.merge_payments(FAMILY, wrong(3)),
        "history must be",
    ),
    (
        "PaymentHistory.load: a number",
        lambda: pbr.history.PaymentHistory.load(wrong(3)),
        "source must be",
    ),
    (
        "PaymentHistory.payments: a family, not its id",
        lambda: pbr.history.PaymentHistory.of({}).payments(wrong(FAMILY)),
        "family_id must be text, got Family",
    ),
]


@pytest.mark.parametrize(
    ("call", "message"), [(c, m) for _, c, m in CALLS], ids=[name for name, _, _ in CALLS]
)
def test_a_wrong_type_is_named_when_the_call_is_made(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        call()


def test_an_as_of_outside_the_dates_pbr_evaluates_is_refused_as_evaluate_refuses_it() -> None:
    with pytest.raises(ValueError, match="as_of must be from 2012-04-01"):
        pbr.audit.missed_claims([FAMILY], date(2011, 1, 1))
    with pytest.raises(ValueError, match="as_of must be from 2012-04-01"):
        pbr.audit.verify([CLAIM], [FAMILY], date(2200, 1, 1))


def test_what_is_documented_is_still_taken() -> None:
    by_id: dict[str, pbr.Family] = {"F1": FAMILY}
    assert [c.codes for c in pbr.audit.verify([CLAIM], by_id, D).checks] == [()]
    assert verification().checks[0].codes == ()
    found = pbr.audit.missed_claims(iter([FAMILY]), D)
    assert [m.kind for m in found][:1] == ["attachment_fee"]
    assert len(pbr.audit.sample(iter([CLAIM]), 1, seed=1).claims) == 1
    paid: dict[str, Any] = {
        "F1": [{"kind": "attachment_fee", "amount": Decimal("3200.00"), "claim_id": "C1"}]
    }
    merged = pbr.history.merge_payments(FAMILY, paid)
    assert [p.claim_id for p in merged.payments] == ["C1"]
