"""Byte-level fuzzing of the readers with a small budget (scripts/fuzz_input.py runs it longer)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pbr
from pbr.io import numbered_from_text, parse_family
from pbr.testing import family_records

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

INSERTS = [
    b"\xff",
    b"\xef\xbb\xbf",
    b"\x00",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b"\\",
    b",",
    b":",
    b"\n",
]


@st.composite
def mutated(draw: st.DrawFn, record: dict[str, Any]) -> bytes:
    """A record's JSON with a few byte-level edits: flips, inserts and deletes."""
    data = bytearray(json.dumps(record).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "repeat"]))
        if edit == "flip":
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.sampled_from(INSERTS) | st.binary(min_size=1, max_size=3))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
    return bytes(data)


FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])


@FUZZ
@given(data=st.data(), record=family_records())
def test_mutated_bytes_never_raise(data: st.DataObject, record: dict[str, Any]) -> None:
    raw = data.draw(mutated(record))
    result = parse_family(raw)
    assert isinstance(result, pbr.Family | pbr.Rejection)
    if isinstance(result, pbr.Rejection):
        assert result.errors


def test_a_file_broken_at_its_very_start_reports_every_line() -> None:
    # Found by the property below: ``[`` typed for ``{`` on the first line, and the second line
    # broken too. Read as one document, nothing after the first bracket could be read or stepped
    # over: one rejection stood for both lines. Now each line is read, and reported.
    record = b'"family_id": "AA0", "attached_on": "2012-04-01", "members": []}'
    good = json.dumps(
        {
            "family_id": "G1",
            "attached_on": "2012-10-15",
            "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
        }
    ).encode()
    data = b"\n".join([b"[\x00" + record, b"\x00" + record, good])
    items = list(numbered_from_text(data))
    assert [(line, number) for line, number, _ in items] == [(1, 1), (2, 2), (3, 3)]
    first, second, third = (item for _, _, item in items)
    assert isinstance(first, pbr.Rejection)
    assert isinstance(second, pbr.Rejection)
    assert isinstance(third, pbr.Family)
    assert third.family_id == "G1"


@FUZZ
@given(data=st.data(), records=st.lists(family_records(), min_size=1, max_size=4))
def test_mutated_files_keep_every_line(data: st.DataObject, records: list[dict[str, Any]]) -> None:
    lines = [
        data.draw(mutated(r)).replace(b"\n", b" ")
        if data.draw(st.booleans())
        else json.dumps(r).encode()
        for r in records
    ]
    items = list(numbered_from_text(b"\n".join(lines)))
    written = [line for line in lines if line.strip()]
    assert all(isinstance(item, pbr.Family | pbr.Rejection) for _, _, item in items)
    if written and written[0].lstrip().startswith(b"["):
        # a file that opens an array may be one (`pbr.io` reads it so when its first line is
        # not a whole value): its records are then those of the array, and an array not
        # closed is reported as a rejection beside the records read (hypothesis found one)
        assert items
    else:
        assert len(items) == len(written)
    array = b"[" + b",\n".join(lines) + b"]"
    for _, _, item in numbered_from_text(
        array
    ):  # an array may lose records, but only as rejections
        assert isinstance(item, pbr.Family | pbr.Rejection)
