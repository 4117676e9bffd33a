"""The audit report as CSV: one row per claim (and per malformed row), for the auditor's tools."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pbr.audit._report import Report

if TYPE_CHECKING:
    from pbr.audit._verify import Verification
    from pbr.ledger import Entry

__all__ = ["COLUMNS", "payments_from_report", "render"]

COLUMNS = (
    "row",
    "claim_id",
    "family_id",
    "kind",
    "claimed_on",
    "window",
    "amount",
    "allowed",
    "verified",
    "over_claimed",
    "unverified",
    "under_claimed",
    "status",
    "flags",
    "why",
    "rule",
    "rules_version",
    "outcome_plan",
    "outcome_plan_sha256",
    "term_calendar",
    "interpretations",
    "pbr_version",
    "rules_hash",
    "input_hash",
)
"""The report's columns (money as decimal text; the hashes are what ``pbr replay`` checks).

``outcome_plan`` is the id/version of the outcome plan a phase-two or Supporting Families claim
was judged against (``... (pbr's example plan)`` when no ``--plan`` was given for its
programme), with its SHA-256 in ``outcome_plan_sha256``; both are empty for phase one.
``term_calendar`` names the council's term calendar the claim was judged on (``--term-calendar``),
empty for the default term dates; ``interpretations`` every interpretation it was judged under,
``id=value`` joined by ``; `` as in the long decisions CSV (empty when no decision was made).

On every claim row ``amount = verified + over_claimed + unverified``; a malformed row's amount
(where it can be read) is unverified, as is the amount of a claim that cannot be judged (its
family's record rejected, or its payment records disagreeing). After the malformed rows, each
rejected family record is a row of status ``family_rejected`` (no claim: its ``why`` says where
and why), then each family not evaluated (not searched for missed claims: no programme covers
it, or its payment records disagree) a row of status ``family_not_evaluated`` (no claim: its
``why`` says why). Text a spreadsheet would run as a formula starts with
``'``. A report with a monetary-unit sample has more columns and, after the malformed rows, rows
of status ``mus`` that are no claims: the sample's evaluation. A report with a spot-check sample
has the column ``sample_order`` (a sampled claim's place in the sample, 1 for the first drawn)
and, last, one row of status ``sample`` that is no claim: its ``why`` gives the seed, the method,
the claims drawn per group and the sampled claim ids in order (``<claim id>#<k>`` for a claim id
on several rows: each row is a claim that can be drawn).
"""


def render(report: Report) -> str:
    """Every claim in file order, then every malformed row with its field, value and why.

    Then every rejected family record and every family not evaluated, each with why.

    With a monetary-unit sample, every row also has the ``mus_*`` columns
    (`pbr.audit._mus_report.MUS_COLUMNS`) and the evaluation follows as rows of status ``mus``;
    with a spot-check sample, the column ``sample_order`` and one row of status ``sample``.
    """
    from pbr.output import CsvWriter

    out = io.StringIO(newline="")
    writer = CsvWriter(out, (*COLUMNS, *report.claim_columns))
    writer.writeheader()
    writer.writerows(report.all_claims)
    writer.writerows(report.malformed)
    writer.writerows(report.rejected_families)
    writer.writerows(report.not_evaluated)
    writer.writerows(report.evaluation)
    return out.getvalue()


def payments_from_report(
    path: str | Path,
    *,
    paid_on: date,
    partial: bool = False,
    recheck: Verification | None = None,
) -> list[Entry]:
    """The verified claims of an audit's CSV report, as ledger entries paid on `paid_on`.

    A claim with status ``verified`` is recorded at its verified amount; with `partial`, so is
    the verified part of a claim cut only by ``AMOUNT_DIFFERS`` or ``CAP_EXCEEDED``. Flagged and
    malformed rows are not, nor the rows of status ``mus`` (a monetary-unit sample's figures),
    ``sample``, ``family_rejected`` or ``family_not_evaluated`` (no claims),
    nor a claim made after `paid_on` (it cannot have been paid then: record it with a later
    report or date). Every claim row must hold together as the audit wrote it (status, flags,
    amount, allowed, verified and the rest, claimed_on a date), or the whole file is refused.

    A report edited consistently (a claim moved to another family, a flagged claim rewritten
    as verified with matching amounts) cannot be told from the report alone: pass `recheck`,
    the claims audited again with what the audit used (`verify` with the same claims, families,
    rejected family records, rule sets, plans and payment history; its `as_of` does not matter,
    since each claim is judged on its own claim date). Then every claim row and malformed row
    of the report must be, column for column as text (the columns of `COLUMNS`), the row that
    audit's report writes, in the same order, none missing and none added; else the whole file
    is refused, naming the first line and column that differ with both values. Record the
    entries with ``Ledger.append(entries, skip_recorded=True)`` (``pbr ledger record``), so
    that recording the same report twice writes nothing twice.

    >>> import pathlib, tempfile
    >>> from datetime import date
    >>> from pbr.audit import Claim, verify, write_report
    >>> family = __import__("pbr").Family.model_validate({"family_id": "F1",
    ...     "attached_on": "2012-10-15", "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}]})
    >>> claim = Claim(claim_id="C1", family_id="F1", kind="attachment_fee", amount="3200.00",
    ...               claimed_on=date(2012, 11, 1))
    >>> report = write_report(verify([claim], [family]),
    ...                       pathlib.Path(tempfile.mkdtemp()) / "audit.csv")
    >>> [(e.claim_id, str(e.amount), e.paid_on) for e in
    ...  payments_from_report(report, paid_on=date(2012, 12, 1))]
    [('C1', '3200.00', datetime.date(2012, 12, 1))]
    >>> again = verify([claim], [family])
    >>> [e.claim_id for e in payments_from_report(report, paid_on=date(2012, 12, 1),
    ...                                          recheck=again)]
    ['C1']
    >>> moved = verify([claim.model_copy(update={"family_id": "F2"})], [family])
    >>> payments_from_report(report, paid_on=date(2012, 12, 1), recheck=moved)
    Traceback (most recent call last):
    ...
    pbr.ledger.LedgerError: ...: line 2: family_id = 'F1', the re-run audit writes 'F2': ...

    Raises:
        pbr.ledger.LedgerError: the file cannot be read, is not an audit CSV report, a row's
            value is bad or does not fit its other values, or (with `recheck`) a row is not
            the audit's (the line and column are named).

    """
    from pbr.audit._record import payments_due

    return payments_due(path, paid_on=paid_on, partial=partial, recheck=recheck)[0]
