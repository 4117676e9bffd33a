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
