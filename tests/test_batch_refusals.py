"""Both batch entry points refuse a file opened "rb" that is not lines of text, when called."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.batch import evaluate_many_json
from pbr.io import UnreadableFile

AS_OF = date(2015, 3, 31)
LINE = (
    '{"family_id": "F1", "attached_on": "2013-05-01", '
    '"members": [{"person_id": "A1", "date_of_birth": "1984-03-12"}]}\n'
)
BATCHES: list[Callable[..., Any]] = [pbr.evaluate_many, evaluate_many_json]


@pytest.mark.parametrize("batch", BATCHES, ids=["evaluate_many", "evaluate_many_json"])
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (gzip.compress(LINE.encode() * 200), "gzip-compressed"),
        (LINE.encode("utf-16"), "UTF-16"),
    ],
    ids=["gzip", "utf-16"],
)
def test_a_file_that_is_not_lines_is_refused_when_called(
    tmp_path: Path, batch: Callable[..., Any], content: bytes, message: str
) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(content)
    with path.open("rb") as handle, pytest.raises(UnreadableFile, match=message):
        batch(handle, as_of=AS_OF, workers=1)


@pytest.mark.parametrize("batch", BATCHES, ids=["evaluate_many", "evaluate_many_json"])
def test_a_file_of_lines_is_still_evaluated(tmp_path: Path, batch: Callable[..., Any]) -> None:
    path = tmp_path / "families.jsonl"
    path.write_text(LINE * 3)
    with path.open("rb") as handle:
        answers = list(batch(handle, as_of=AS_OF, workers=1))
    assert len(answers) == 3
    assert not any(isinstance(a, pbr.Rejection) for a in answers)


LONG_LINE = LINE.replace('"members"', '"note_text": "' + "x" * 6000 + '", "members"', 1)
"""A record longer than a buffered reader's buffer (4 KiB), as real records are."""


@pytest.mark.parametrize("batch", BATCHES, ids=["evaluate_many", "evaluate_many_json"])
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("line", [LINE, LONG_LINE], ids=["short", "long"])
def test_a_file_of_lines_ending_in_cr_alone_is_refused_however_long_its_records(
    tmp_path: Path, batch: Callable[..., Any], workers: int, line: str
) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(line.replace("\n", "\r").encode() * 3)
    with path.open("rb") as handle, pytest.raises(UnreadableFile, match="end in CR alone"):
        batch(handle, as_of=AS_OF, workers=workers)


@pytest.mark.parametrize("batch", BATCHES, ids=["evaluate_many", "evaluate_many_json"])
def test_the_file_is_looked_at_from_where_it_stands_and_left_there(
    tmp_path: Path, batch: Callable[..., Any]
) -> None:
    path = tmp_path / "families.jsonl"
    path.write_bytes(LINE.encode() + LONG_LINE.replace("\n", "\r").encode() * 3)
    with path.open("rb") as handle:
        handle.readline()  # a first line of its own, ending in LF; the rest end in CR alone
        with pytest.raises(UnreadableFile, match="end in CR alone"):
            batch(handle, as_of=AS_OF, workers=1)
        assert handle.tell() == len(LINE)
    with path.open("rb") as handle:  # from the start: the first line ends in LF, as lines do
        assert handle.peek(1)
        answers = list(batch(handle, as_of=AS_OF, workers=1))
    assert len(answers) == 2  # the first family, and the rest as one line (a rejection)


def test_a_buffered_reader_over_bytes_in_memory_is_peeked_at() -> None:
    import io

    handle = io.BufferedReader(io.BytesIO(LINE.replace("\n", "\r").encode() * 3))
    with pytest.raises(UnreadableFile, match="end in CR alone"):
        pbr.evaluate_many(handle, as_of=AS_OF, workers=1)
