"""A JSON array is read a block at a time: the same records as reading it whole, in bounded memory."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pbr
from pbr import io as pbr_io
from pbr.io import read_raw
from pbr.testing import family_records

RECORD = {
    "family_id": "F1",
    "attached_on": "2012-10-15",
    "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    "local_authority": "Leeds é € 😀",
}

PIECES = [b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98\x80", b"\xc3\xa9", b"{", b"}", b"[", b"]"]
PIECES += [b'"', b"\\", b",", b":", b"\n", b" ", b"\t", b"\r\n", b"\x0b", b"NaN", b"1e400"]


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """JSON arrays (or not quite): records, pretty or compact, some broken, cut or followed."""
    records = draw(st.lists(family_records() | st.just(RECORD), min_size=0, max_size=4))
    texts = [json.dumps(r, indent=draw(st.sampled_from([None, 1]))).encode() for r in records]
    for i in range(len(texts)):
        if draw(st.integers(0, 3)) == 0:  # break one: insert a few odd bytes somewhere
            at = draw(st.integers(0, len(texts[i])))
            texts[i] = texts[i][:at] + draw(st.sampled_from(PIECES)) + texts[i][at:]
    glue = draw(st.sampled_from([b",", b",\n", b" , ", b"\n", b",\r\n  ", b",,"]))
    head = draw(st.sampled_from([b"[", b"[\n", b"  [ ", b"\xef\xbb\xbf[\n", b"{"]))
    tail = draw(st.sampled_from([b"]", b"\n]\n", b"", b"]\nmore", b"] ", b"\n"]))
    return head + glue.join(texts) + tail


def _read(path: Path, block: int, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(pbr_io._Stream, "BLOCK", block)
    return [
        (line, record, item.model_dump() if isinstance(item, pbr.Rejection) else item)
        for line, record, item in read_raw(path)
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=documents(), block=st.integers(1, 97))
def test_any_block_size_reads_the_same_records(
    document: bytes, block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "families.json"
    path.write_bytes(document)
    assert _read(path, block, monkeypatch) == _read(path, 1 << 20, monkeypatch)


def _spread_over_lines_whole(data: bytes) -> bool:
    """The check as it was: one `json` parse of the whole file's first value."""
    text = data.decode("utf-8", errors="surrogateescape")
    start = pbr_io._skip(text, 0, "")
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError):
        return False
    return "\n" in text[start:end]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents(), block=st.integers(1, 97))
def test_the_shape_check_agrees_with_one_parse_of_the_whole(document: bytes, block: int) -> None:
    expected = _spread_over_lines_whole(document.removeprefix(pbr_io._BOM))
    stream = pbr_io._Stream(io.BytesIO(document.removeprefix(pbr_io._BOM)))
    default = pbr_io._Stream.BLOCK
    pbr_io._Stream.BLOCK = block
    try:
        assert pbr_io._spread_over_lines(stream) is expected
    finally:
        pbr_io._Stream.BLOCK = default


def _peak_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        read = sum(1 for _ in read_raw(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return read, peak


@pytest.mark.parametrize("layout", ["compact", "one record a line"])
def test_a_large_array_is_read_in_flat_memory(layout: str, tmp_path: Path) -> None:
    record = json.dumps(RECORD | {"local_discretion": ["x" * 60] * 40}).encode()  # ~2.6 KB
    glue = b"," if layout == "compact" else b",\n"
    peaks = []
    for count in (2000, 8000):  # about 5 MB, then 21 MB
        path = tmp_path / f"families-{count}.json"
        records = (record.replace(b'"F1"', b'"F%d"' % i) for i in range(count))
        path.write_bytes(b"[\n" + glue.join(records) + b"\n]\n")
        read, peak = _peak_reading(path)
        assert read == count
        peaks.append(peak)
    # a record, a block or two of text and (to find the file's shape) two lines of at most
    # the record limit: flat in the file's size, and well under the 21 MB file (and its text)
    assert peaks[1] < peaks[0] + 1_500_000
    assert peaks[1] < 12_000_000


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    records=st.lists(family_records(), min_size=1, max_size=4),
    strays=st.lists(st.sampled_from(["lead", "double", "trail"]), max_size=3, unique=True),
)
def test_a_stray_comma_in_an_array_is_never_passed_over_in_silence(
    records: list[dict[str, Any]], strays: list[str], tmp_path: Path
) -> None:
    records = [{**r, "family_id": f"F{i}"} for i, r in enumerate(records)]  # each family once
    texts = [json.dumps(r) for r in records]
    glue = ",,\n" if "double" in strays and len(texts) > 1 else ",\n"
    lead = "[," if "lead" in strays else "["
    body = lead + glue.join(texts) + (",\n]" if "trail" in strays else "\n]")
    path = tmp_path / "families.json"
    path.write_text(body)
    read = list(pbr.read_records(path))
    families = [r for r in read if isinstance(r, pbr.Family)]
    rejected = [r for r in read if isinstance(r, pbr.Rejection)]
    if glue == ",\n" and not {"lead", "trail"} & set(strays):  # strict JSON: nothing to say
        assert json.loads(body) == records
        assert (len(families), rejected) == (len(records), [])
    else:  # JSON refuses it; pbr reads what it can and says so, once a comma at least
        assert rejected
        commas = [r for r in rejected if r.errors[0].value == '","']
        assert len(families) == len(records) or not commas  # read as an array: every record


def _pretty(indent: int | str, broken: int, commas_first: bool = False) -> str:
    """Four families A1-A4 as a pretty-printed JSON array, record `broken` with a stray ``]``.

    Each family has two members, so each record holds lines indented deeper that open an
    object (``{``): members, not records.
    """
    records = [
        {
            "family_id": f"A{i}",
            "attached_on": "2013-01-07",
            "members": [
                {"person_id": "P1", "date_of_birth": "1980-01-01"},
                {"person_id": "P2", "date_of_birth": "1981-01-01"},
            ],
        }
        for i in range(1, 5)
    ]
    text = json.dumps(records, indent=indent)
    if commas_first:  # "},\n  {" written as "}\n  , {"
        step = " " * indent if isinstance(indent, int) else indent
        text = text.replace("},\n" + step + "{", "}\n" + step + ", {")
    return text.replace(f'"family_id": "A{broken}",', f'"family_id": "A{broken}", "x": ],', 1)


@pytest.mark.parametrize("commas_first", [False, True], ids=["commas-last", "commas-first"])
@pytest.mark.parametrize("broken", [1, 2, 4], ids=["first", "middle", "last"])
@pytest.mark.parametrize("indent", [2, 4, "\t"], ids=["2-spaces", "4-spaces", "tab"])
def test_a_broken_record_of_a_pretty_array_loses_no_other_family(
    indent: int | str, broken: int, commas_first: bool, tmp_path: Path
) -> None:
    """Reading goes on at the next line opening a record at the records' own indent.

    A member's ``{``, indented deeper, was taken for the next record: it was rejected as a
    record of its own, and then "text after the end of the JSON array" lost the families after.
    A broken first record had the whole file read as lines, each rejected.
    """
    path = tmp_path / "families.json"
    path.write_text(_pretty(indent, broken, commas_first))
    read = list(pbr_io.read_numbered(path))
    assert [
        (type(item).__name__, item.family_id if isinstance(item, pbr.Family) else None)
        for _, _, item in read
    ] == [("Rejection", None) if i == broken else ("Family", f"A{i}") for i in range(1, 5)]
    ((line, record, rejected),) = [r for r in read if isinstance(r[2], pbr.Rejection)]
    assert isinstance(rejected, pbr.Rejection)
    assert (record, rejected.family_id) == (broken, f"A{broken}")
    assert _pretty(indent, broken, commas_first).splitlines()[line - 1].lstrip(" \t,") == "{"
