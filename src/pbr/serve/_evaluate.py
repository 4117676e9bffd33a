"""Families in, decisions or rejections out: the library does the work, in input order.

Each record goes through `pbr.batch.evaluate_many_json` (or `pbr.batch.evaluate_many` where a
`Decision` is needed), so validation, rejections, interpretations, plans, the term calendar and
serialisation are exactly those of ``pbr evaluate``. What is added here: the ledger's payments,
the line and record number of a rejection, and a guard so that a record which makes the library
fail is rejected on its own instead of ending the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pbr.batch import Evaluated, evaluate_many, evaluate_many_json
from pbr.decisions import Decision
from pbr.io import Rejection
from pbr.records import Family
from pbr.serve._ledger import with_payments
from pbr.serve._logs import failure

if TYPE_CHECKING:
    from pbr.plans import OutcomePlan
    from pbr.records import Payment
    from pbr.serve._rules import InForce

__all__ = ["SOURCE", "Evaluator", "Numbered"]

SOURCE = "<request>"
"""The `source` of every rejection the server makes."""

Numbered = tuple[int | None, int, bytes]
"""(line in the body, if it has lines; record number; the record's JSON text)."""


class Evaluator:
    """Evaluates the records of one request with the rules in force and the ledger's payments."""

    def __init__(
        self,
        in_force: InForce,
        as_of: date,
        payments: Mapping[str, tuple[Payment, ...]] | None = None,
        library_history: Any = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "as_of": as_of,
            "workers": 1,
            "plans": in_force.plans,
            "interpretations": in_force.interpretations,
            "term_calendar": in_force.term_calendar,
            "source": SOURCE,
        }
        self._payments = payments
        if library_history is not None:  # the library merges the ledger's payments itself
            self._options["ledger"] = library_history
            self._payments = None

    @property
    def as_of(self) -> date:
        """The evaluation date."""
        as_of: date = self._options["as_of"]
        return as_of

    @property
    def plans(self) -> Mapping[str, OutcomePlan]:
        """The outcome plans in force, by programme (the server's and the request's)."""
        plans: Mapping[str, OutcomePlan] = self._options["plans"]
        return plans

    def json(self, records: Sequence[Numbered]) -> list[Evaluated | Rejection]:
        """A decision (as its JSON and totals) or a rejection for each record, in order."""
        items = [self._item(text) for _, _, text in records]
        try:
            done = list(evaluate_many_json(items, **self._options))
        except Exception as exc:
            if len(records) > 1:  # find the record that failed; evaluate the others
                return [result for one in records for result in self.json([one])]
            line, record, text = records[0]
            return [_failed(line, record, text, exc)]
        return [
            _placed(result, line, record)
            for result, (line, record, _) in zip(done, records, strict=True)
        ]

    def decision(self, text: bytes) -> Decision | Rejection:
        """The `Decision` (or the rejection) for one record, for the working paper."""
        try:
            (done,) = evaluate_many([self._item(text)], **self._options)
        except Exception as exc:
            return _failed(None, 1, text, exc)
        return done

    def _item(self, text: bytes) -> Family | str | bytes:
        """What the library is given: the record's text, or the family with its ledger payments.

        Text is given as ``str``, as ``pbr evaluate`` reads it, so that a rejection quotes its
        values the same way; a record that is not UTF-8 goes as bytes, for the library to reject.
        """
        try:
            record: str | bytes = text.decode("utf-8")
        except UnicodeDecodeError:
            record = text
        if not self._payments:
            return record
        try:
            family = Family.model_validate_json(record)
        except ValidationError:
            return record  # the library rejects it again, with the same errors
        return with_payments(family, self._payments)


def _placed(result: Evaluated | Rejection, line: int | None, record: int) -> Evaluated | Rejection:
    """A rejection with its place in the request body (the library numbers each call from 1)."""
    if isinstance(result, Rejection):
        return result.model_copy(update={"line": line, "record": record})
    return result


def _failed(line: int | None, record: int, text: bytes, exc: BaseException) -> Rejection:
    """The rejection of a record that made the library fail; the failure goes to the log."""
    error_id = failure(exc, "evaluation")
    family_id: str | None = None
    council: str | None = None
    try:
        family = Family.model_validate_json(text)
        family_id, council = family.family_id, family.local_authority
    except Exception:
        pass
    return Rejection.single(
        source=SOURCE,
        line=line,
        record=record,
        family_id=family_id,
        local_authority=council,
        loc="",
        value="(the record)",
        type="evaluation_error",
        message=f"pbr could not evaluate this record (error {error_id} in the server's log)",
    )
