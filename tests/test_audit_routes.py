"""Missed results of a claim route that closes before its programme's claims do.

Supporting Families' continuous-employment route took claims to 31 March 2022 (S40,
``employment_route = claims_to_march_2022``): a result met while it was open and never claimed
is missed for good, as phase one's results are after its claims closed (`test_audit.py`).
"""

from __future__ import annotations

import contextlib
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.audit import missed_claims, verify
from pbr.cli import main
from pbr.programmes import programme

ROUTE_CLOSED = date(2022, 3, 31)

SF_WORKING: dict[str, Any] = {
    "family_id": "M1",
    "programme": "supporting-families",
    "attached_on": "2021-10-01",
    "members": [
        {"person_id": "A1", "date_of_birth": "1984-05-01"},
        {"person_id": "C1", "date_of_birth": "2010-02-01"},
    ],
    "problems_at_entry": [
        {"problem": "domestic_abuse"},
        {"problem": "housing"},
        {"problem": "financial_stability"},
    ],
    "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2014-01-01"}],
    "employment_spells": [{"person_id": "A1", "start": "2021-10-01"}],
}
"""A Supporting Families family in work from attachment: 13 weeks met on 31 December 2021."""


def _family(**changes: Any) -> pbr.Family:
    return pbr.Family.model_validate(SF_WORKING | changes)


def _rows(missed: list[pbr.audit.MissedClaim]) -> list[tuple[str, Decimal, date | None, Any]]:
    return [(m.kind, m.amount, m.earliest_date, m.claims_closed_on) for m in missed]


def test_the_route_s_last_claim_day_is_read_from_the_rules() -> None:
    """`employment_route_until` (2021/22) ends the route on 31 March 2022; other readings never."""
    sf = programme("supporting-families")
    assert sf.route_claims_until(sf.rules) == {"continuous_employment": ROUTE_CLOSED}
    for route in ("always", "never"):
        assert sf.route_claims_until(sf.rules.with_interpretations(employment_route=route)) == {}
    assert programme("tf-phase-1").route_claims_until(programme("tf-phase-1").rules) == {}


@pytest.mark.parametrize(
    ("as_of", "closed"),
    [(ROUTE_CLOSED, None), (date(2022, 4, 1), ROUTE_CLOSED), (date(2023, 1, 2), ROUTE_CLOSED)],
)
def test_employment_met_while_its_route_was_open_is_missed_for_good(
    as_of: date, closed: date | None
) -> None:
    """Unclaimed when the route closed, the £800 is lost, however late the audit date."""
    assert _rows(missed_claims([_family()], as_of)) == [
        ("continuous_employment", Decimal("800.00"), date(2021, 12, 31), closed)
    ]


@pytest.mark.parametrize(("start", "missed"), [("2021-12-30", True), ("2021-12-31", False)])
def test_employment_first_met_after_its_route_closed_is_not_missed(
    start: str, missed: bool
) -> None:
    """Met first on 1 April 2022 it could never have been claimed, so it is not listed.

    As phase one's result first payable after its claims closed (`test_audit.py`): work from
    31 December 2021 completes its 13 weeks on 1 April 2022, one day too late.
    """
    family = _family(employment_spells=[{"person_id": "A1", "start": start}])
    found = missed_claims([family], date(2022, 6, 30))
    assert _rows(found) == (
        [("continuous_employment", Decimal("800.00"), ROUTE_CLOSED, ROUTE_CLOSED)] if missed else []
    )


@pytest.mark.parametrize("paid_on", ["2022-06-15", "2022-07-15"])
def test_employment_paid_after_its_route_closed_is_not_missed(paid_on: str) -> None:
    """A payment pays the result, whatever its date: after the route closed or the audit date."""
    payment = {"kind": "continuous_employment", "amount": "800.00", "paid_on": paid_on}
    family = _family(payments=[payment])
    assert missed_claims([family], date(2022, 6, 30)) == []


def test_the_route_stays_open_under_employment_route_always() -> None:
    """Under ``employment_route = always`` the result can still be claimed: not closed."""
    rules = programme("supporting-families").rules.with_interpretations(employment_route="always")
    found = missed_claims([_family()], date(2023, 1, 2), rules_for=lambda _: rules)
    assert _rows(found) == [("continuous_employment", Decimal("800.00"), date(2021, 12, 31), None)]


def test_the_audit_counts_it_and_says_it_can_no_longer_be_claimed(tmp_path: Path) -> None:
    """The command's summary counts the lost employment result, as it does phase one's."""
    families = tmp_path / "families.jsonl"
    other = SF_WORKING | {"family_id": "M2", "employment_spells": []}
    families.write_text(
        "\n".join(pbr.Family.model_validate(r).model_dump_json() for r in (SF_WORKING, other))
        + "\n",
        encoding="utf-8",
    )
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,family_id,kind,amount,claimed_on\nM2-1,M2,sustained_progress,800.00,2022-06-01\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["audit", str(claims), "--families", str(families), "--as-of", "2022-07-01"])
    text = out.getvalue()
    assert "missed results: 1 worth £800.00 (as of 2022-07-01)" in text
    assert "of which 1 worth £800.00 can no longer be claimed: claims closed on 2022-03-31" in text
    result = verify(str(claims), [_family(), pbr.Family.model_validate(other)])
    assert [m.family_id for m in result.missed_for_good] == ["M1"]


def test_nothing_is_lost_while_the_one_claim_can_be_made_by_sustained_progress() -> None:
    """A family has one results claim: payable now by sustained progress, it is still there.

    No rent arrears in December 2022 meets the example plan's financial_stability outcome, so
    the £800 is missed by sustained progress (claimable), not lost by employment as well.
    """
    arrears = {"indicator": "rent_arrears_pounds", "date": "2022-12-01", "value": 0}
    found = missed_claims([_family(observations=[arrears])], date(2023, 1, 2))
    assert [(m.kind, m.amount, m.claims_closed_on) for m in found] == [
        ("sustained_progress", Decimal("800.00"), None)
    ]
