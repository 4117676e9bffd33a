"""A rejected family is counted under the council its record names, when it names a sound one.

Every per-council breakdown (``pbr evaluate``'s summary, `pbr.dask.evaluate`'s totals) has a
"rejected" column: a rejection carries its record's ``local_authority`` (`Rejection.local_authority`)
so that column is filled council by council, not all under "(no council)". A council that is
itself at fault (a control character, a number, given twice) is never taken.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pbr
from pbr.io import parse_family
from pbr.tables import read_tables, write_tables

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AS_OF = "2015-03-31"


def _base() -> dict[str, Any]:
    first = (EXAMPLES / "families.jsonl").read_text(encoding="utf-8").splitlines()[0]
    record: dict[str, Any] = json.loads(first)
    return record


def _record(family_id: str, council: object = None, *, bad: bool = False) -> dict[str, Any]:
    record = {**_base(), "family_id": family_id}
    record.pop("local_authority", None)
    if council is not None:
        record["local_authority"] = council
    if bad:
        record["attached_on"] = "2013-02-30"
    return record


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode() + b"\n"


def messy_file(path: Path) -> Path:
    """Two good families and eight rejections: Leeds 2, York 3, no sound council 3."""
    leeds_bad_byte = json.dumps(_record("F8", "Leeds")).replace('"F8"', '"F8", "x": "\xff"')
    lines = [
        _line(_record("F0", "Leeds")),
        _line(_record("F1", "Leeds", bad=True)),
        _line(_record("F2", "York")),
        _line(_record("F3", "York", bad=True)),
        _line(_record("F4", None, bad=True)),
        b'{"family_id": "F5", "local_authority": "York", "attached_on": \n',  # cut off
        _line(_record("F6", "Le\u0007eds", bad=True)),  # the council is itself at fault
        _line(_record("F2", "York")),  # the family again
        _line(_record("F7", 5)),
        leeds_bad_byte.encode("utf-8").replace(b"\xc3\xbf", b"\xff") + b"\n",  # not UTF-8
    ]
    path.write_bytes(b"".join(lines))
    return path


EXPECTED = {"Leeds": (1, 2), "York": (1, 3), "(no council)": (0, 3)}


def _by_council(stderr: str) -> dict[str, tuple[int, int]]:
    """The summary's per-council rows as (evaluated, rejected)."""
    rows: dict[str, tuple[int, int]] = {}
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("council "))
    for line in lines[start + 1 :]:
        if not line.startswith("    ") or line.strip().startswith("all councils"):
            break
        name, evaluated, rejected = line.strip().rsplit(None, 6)[0:3]
        rows[name] = (int(evaluated), int(rejected))
    return rows


@pytest.mark.parametrize(
    ("fmt", "workers"), [("json", "1"), ("json", "2"), ("csv", "2"), ("", "1")]
)
def test_the_summary_counts_each_rejection_under_its_council(
    tmp_path: Path, fmt: str, workers: str
) -> None:
    path = messy_file(tmp_path / "messy.jsonl")
    rejections = tmp_path / "rejections.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pbr.cli", "evaluate", str(path), "--as-of", AS_OF,
         *(["--format", fmt] if fmt else []), "--workers", workers, "--output", str(tmp_path / "out"),
         "--rejections", str(rejections)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # some records were rejected
    assert "Traceback" not in result.stderr
    assert _by_council(result.stderr) == EXPECTED
    written = [json.loads(line) for line in rejections.read_text().splitlines()]
    assert [(r["family_id"], r["local_authority"]) for r in written] == [
        ("F1", "Leeds"),
        ("F3", "York"),
        ("F4", None),
        ("F5", "York"),
        ("F6", None),
        ("F2", "York"),
        ("F7", None),
        ("F8", "Leeds"),
    ]


def test_the_council_of_a_record_is_taken_only_when_sound() -> None:
    def council(data: bytes) -> str | None:
        rejected = parse_family(data)
        assert isinstance(rejected, pbr.Rejection)
        return rejected.local_authority

    bad = b'"attached_on": "2013-02-30"'
    assert council(b'{"local_authority": "Leeds", ' + bad + b"}") == "Leeds"
    assert council(b'{"local_authority": "Ynys M\xc3\xb4n", ' + bad + b"}") == "Ynys M\u00f4n"
    assert council(b'{"local_authority": "L\\u0065eds", ' + bad + b"}") == "Leeds"
    for wrong in (b'""', b"5", b"null", b'"Le\\neds"', b'"' + b"x" * 101 + b'"', b'["Leeds"]'):
        assert council(b'{"local_authority": ' + wrong + b", " + bad + b"}") is None, wrong
    twice = b'{"local_authority": "Leeds", "local_authority": "York", ' + bad + b"}"
    assert council(twice) is None
    # JSON that cannot be read: one plain value is taken, an escaped or repeated one is not
    assert council(b'{"family_id": "F1", "local_authority": "Leeds", "members": [') == "Leeds"
    assert council(b'{"local_authority": "Le\\"eds", "members": [') is None
    assert council(b'{"local_authority": "Leeds", "local_authority": "York", [') is None
    assert council(b'{"local_authority": "Leeds\xff", "members": [') is None
    # a record too large to read: found in its first bytes
    big = b'{"family_id": "F1", "local_authority": "Leeds", "x": "' + b"y" * 2000 + b'"}'
    too_large = parse_family(big, max_record_bytes=1000)
    assert isinstance(too_large, pbr.Rejection)
    assert too_large.errors[0].type == "record_too_large"
    assert too_large.local_authority == "Leeds"


def test_a_record_given_as_a_mapping_and_a_repeated_family_keep_their_council(
    tmp_path: Path,
) -> None:
    answers = list(
        pbr.evaluate_many(
            [_record("F1", "Leeds", bad=True), _record("F2", "Le\u0007eds")],
            as_of=date.fromisoformat(AS_OF),
            workers=1,
        )
    )
    assert [a.local_authority for a in answers] == ["Leeds", None]
    path = tmp_path / "twice.jsonl"
    path.write_bytes(_line(_record("F1", "York")) * 2)
    second = list(pbr.read_records(path))[1]
    assert isinstance(second, pbr.Rejection)
    assert (second.errors[0].type, second.local_authority) == ("duplicate_family", "York")


def test_a_rejected_table_family_is_counted_under_its_council(tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    families = [pbr.Family.model_validate(_record(f"F{i}", c)) for i, c in enumerate("AB")]
    write_tables(families, folder)
    table = folder / "families.csv"
    text = table.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    rows = [line.split(",") for line in text[1:]]
    rows[0][header.index("attached_on")] = "2013-02-30"  # A's family: its own cell is bad
    rows[1][header.index("local_authority")] = " B"  # B's family: its council cell is bad too
    rows[1][header.index("attached_on")] = "2013-02-30"
    table.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    rejected = list(read_tables(folder).families())
    assert all(isinstance(r, pbr.Rejection) for r in rejected)
    assert [r.local_authority for r in rejected] == ["A", None]


def test_dask_counts_each_rejection_under_its_council(tmp_path: Path) -> None:
    pytest.importorskip("dask")
    import pbr.dask

    path = messy_file(tmp_path / "messy.jsonl")
    done = pbr.dask.evaluate([path], as_of=date.fromisoformat(AS_OF), output=tmp_path / "out",
                             scheduler="sync")  # fmt: skip
    councils = {k or "(no council)": v for k, v in done.totals.councils.items()}
    got = {k: (v.families_evaluated, v.families_rejected) for k, v in councils.items()}
    assert got == EXPECTED


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=110), st.booleans())
def test_a_council_is_taken_exactly_when_a_family_would_accept_it(
    council: str, bad_date: bool
) -> None:
    """Whatever the text: the rejection names it only if `pbr.Family` takes it as it is."""
    record = _record("F1", council, bad=bad_date)
    record["members"] = []  # always rejected, whatever the council
    rejected = parse_family(json.dumps(record))
    assert isinstance(rejected, pbr.Rejection)
    try:  # (hypothesis's text holds no lone surrogate, which no JSON record carries either)
        pbr.Family.model_validate({**_record("F1"), "local_authority": council})
    except pydantic.ValidationError:
        sound = False
    else:
        sound = True
    assert rejected.local_authority == (council if sound else None)


def test_a_rejected_value_is_shown_with_its_controls_escaped() -> None:
    """The value of a rejection line went to the terminal raw: an 8-bit CSI (U+009B) and a
    right-to-left override (U+202E), which the message beside it named as control characters."""
    from pbr.io import parse_family

    raw = (
        '{"family_id":"OK-3","attached_on":"2013-05-01","local_authority":"\\u202eevil",'
        '"members":[{"person_id":"A1","date_of_birth":"1980-01-01"}],'
        '"local_discretion":["\\u009b31m"]}'
    )
    rejection = parse_family(raw)
    assert isinstance(rejection, pbr.Rejection)
    said = rejection.describe()
    assert "\u009b" not in said
    assert "\u202e" not in said
    assert '"\\x9b31m"' in said
