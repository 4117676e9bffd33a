"""Freeze the differential reference: a corpus of families and today's decision for each.

``python tests/reference/make_reference.py [--new-corpus]``: keeps the frozen families of
``families.jsonl`` (with ``--new-corpus``, or when there is none, draws families of every
programme from `pbr.testing.family_records`, derandomised, plus the examples, and writes them
there: a change to the strategies draws other families), and writes to ``decisions.json`` a short SHA-256
of every decision's JSON at three dates under every interpretation of every programme. Run it
only when a decision is meant to change (and say so in the changelog): the test
(tests/test_differential.py) holds every faster path to these bytes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PER_PROGRAMME = 100
AS_OF = ("2014-03-31", "2018-06-30", "2023-03-31")


def variants() -> list[dict[str, str]]:
    """No choice (every default), then each non-default value of each interpretation alone."""
    from pbr.programmes import programmes

    found: list[dict[str, str]] = [{}]
    for p in programmes():
        for name, interpretation in p.rules.interpretations.items():
            for value in interpretation.values:
                if value != interpretation.default and {name: value} not in found:
                    found.append({name: value})
    return found


def digest(text: str) -> str:
    """A decision's short SHA-256, with the pbr version blanked (a release changes only that)."""
    from pbr import __version__

    text = text.replace(f'"pbr_version":"{__version__}"', '"pbr_version":""', 1)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def reference(lines: list[bytes], as_of: date, choice: dict[str, str]) -> list[str]:
    """Today's decisions, one at a time by the model path (`pbr.evaluate`), as short digests."""
    import pydantic

    import pbr
    from pbr.errors import OutsideProgramme

    out = []
    for line in lines:
        try:
            family = pbr.Family.model_validate_json(line)
        except pydantic.ValidationError:  # a record the batch rejects too
            out.append("outside")
            continue
        base = pbr.rule_set_for(family)
        mine = {k: v for k, v in choice.items() if k in base.interpretations}
        try:
            decision = pbr.evaluate(family, as_of=as_of, rules=base.with_interpretations(**mine))
        except OutsideProgramme:
            out.append("outside")
            continue
        out.append(digest(decision.model_dump_json()))
    return out


def corpus() -> list[bytes]:
    from hypothesis import HealthCheck, given, settings

    from pbr.programmes import programmes
    from pbr.testing import family_records

    drawn: list[dict[str, Any]] = []
    for p in programmes():

        @settings(
            derandomize=True,
            max_examples=PER_PROGRAMME,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(family_records(p.id))
        def draw(record: dict[str, Any]) -> None:
            drawn.append(record)

        before = len(drawn)
        draw()
        for i, record in enumerate(drawn[before:]):
            record["family_id"] = f"{p.short}-{i:04d}"
    lines = [json.dumps(r, separators=(",", ":")).encode() for r in drawn]
    for example in ("families.jsonl", "mixed-programmes.jsonl"):
        lines += [x for x in (ROOT / "examples" / example).read_bytes().splitlines() if x.strip()]
    return lines


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--new-corpus",
        action="store_true",
        help="draw the families again (a change to pbr.testing's strategies draws others)",
    )
    args = parser.parse_args(argv)
    path = HERE / "families.jsonl"
    if args.new_corpus or not path.exists():
        lines = corpus()
        path.write_bytes(b"".join(line + b"\n" for line in lines))
    else:  # the frozen corpus: only the decisions are made again
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    table = {
        f"{when} {json.dumps(choice, sort_keys=True)}": reference(
            lines, date.fromisoformat(when), choice
        )
        for when in AS_OF
        for choice in variants()
    }
    (HERE / "decisions.json").write_text(json.dumps(table, indent=0) + "\n")
    print(f"{len(lines)} families, {len(table)} combinations")


if __name__ == "__main__":
    main()
