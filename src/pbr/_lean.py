"""Decision parts as plain msgspec Structs, for the batch that only writes them out.

A batch writing text (`pbr evaluate`, `evaluate_many_json`) builds each decision only to write
it as JSON, CSV rows or table cells. Built as these Structs, a part costs a tenth of a pydantic
model, and msgspec writes it without a hook; the bytes are `model_dump_json`'s, and the rows
and cells the same (tests/test_lean_decisions.py). The fields mirror `pbr.decisions`' models,
name for name and in order; the values are exactly what the trusted constructors would put in
the models. Nothing outside a batch's text ever sees one: `pbr.decisions.lean_parts` switches
the constructors for the batch's evaluations only. A pool's worker sends one to the parent
as MessagePack (`pack`, `unpack`): a fifth of a pickled model's cost, both ends together.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec


class Reason(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Reason`'s fields."""

    code: str
    rule: str
    source: str
    message: str
    compared: dict[str, Any]


class ResultDecision(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.ResultDecision`'s fields."""

    status: str
    amount: Decimal
    rate: Decimal
    earliest_date: date | None
    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order (as `pbr.decisions.ResultDecision.codes`: the CSV reads it)."""
        return tuple(r.code for r in self.reasons)


class Identification(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Identification`'s fields."""

    family_id: str
    attached_on: date
    eligible: bool
    identified_for: tuple[str, ...]
    evidence: tuple[str, ...]
    local_discretion: bool
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]


class Provenance(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Provenance`'s fields."""

    pbr_version: str
    rules_hash: str
    input_hash: str


class Decision(msgspec.Struct, frozen=True, gc=False):
    """`pbr.decisions.Decision`'s fields."""

    format_version: str
    family_id: str
    local_authority: str | None
    as_of: date
    programme: str
    rules_version: str
    attached_on: date
    attachment_year: str
    attachment_fee: Decimal
    eligible: bool
    identified_for: tuple[str, ...]
    payable: Decimal
    paid_to_date: Decimal
    cap: Decimal
    interpretations: dict[str, str]
    outcome_plan: str | None
    warnings: tuple[Reason, ...]
    identification: tuple[Reason, ...]
    results: dict[str, ResultDecision]
    provenance: Provenance | None


PARTS: dict[str, type[msgspec.Struct]] = {
    cls.__name__: cls for cls in (Reason, ResultDecision, Identification, Provenance, Decision)
}
"""Each lean part by the name of the model it mirrors (a test compares their fields)."""

pack = msgspec.msgpack.Encoder(decimal_format="string").encode
"""A decision as MessagePack bytes: how a worker of `pbr.evaluate_many` sends it (the types
above are only annotations when a decision is built; `unpack` holds the bytes to them)."""
unpack = msgspec.msgpack.Decoder(Decision).decode
"""The decision `pack` wrote: money back as the same `Decimal`, dates as dates, tuples as tuples."""
