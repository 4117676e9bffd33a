"""Decision parts as plain msgspec Structs, for the batch that only writes them out.

A batch writing text (`pbr evaluate`, `evaluate_many_json`) builds each decision only to write
it as JSON, CSV rows or table cells. Built as these Structs, a part costs a tenth of a pydantic
model, and msgspec writes it without a hook; the bytes are `model_dump_json`'s, and the rows
and cells the same (tests/test_lean_decisions.py). The fields mirror `pbr.decisions`' models,
name for name and in order; the values are exactly what the trusted constructors would put in
the models. Nothing outside a batch's text ever sees one: `pbr.decisions.lean_parts` switches
the constructors for the batch's evaluations only.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Reason(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Reason`'s fields."""

    code: Any
    rule: Any
    source: Any
    message: Any
    compared: Any


class ResultDecision(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.ResultDecision`'s fields."""

    status: Any
    amount: Any
    rate: Any
    earliest_date: Any
    reasons: Any

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order (as `pbr.decisions.ResultDecision.codes`: the CSV reads it)."""
        return tuple(r.code for r in self.reasons)


class Identification(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Identification`'s fields."""

    family_id: Any
    attached_on: Any
    eligible: Any
    identified_for: Any
    evidence: Any
    local_discretion: Any
    reasons: Any
    warnings: Any


class Provenance(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Provenance`'s fields."""

    pbr_version: Any
    rules_hash: Any
    input_hash: Any


class Decision(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Decision`'s fields."""

    format_version: Any
    family_id: Any
    local_authority: Any
    as_of: Any
    programme: Any
    rules_version: Any
    attached_on: Any
    attachment_year: Any
    attachment_fee: Any
    eligible: Any
    identified_for: Any
    payable: Any
    paid_to_date: Any
    cap: Any
    interpretations: Any
    outcome_plan: Any
    warnings: Any
    identification: Any
    results: Any
    provenance: Any


PARTS: dict[str, type[msgspec.Struct]] = {
    cls.__name__: cls for cls in (Reason, ResultDecision, Identification, Provenance, Decision)
}
"""Each lean part by the name of the model it mirrors (a test compares their fields)."""
