"""``POST /v1/audit``: a claim file and its families in (multipart), the audit report out.

The parts are written to a private temporary folder under their own (cleaned) file names and
handed to the library as the command hands them: `pbr.audit.read_claims`, `pbr.read_records`,
`pbr.plans.load_plan`, `pbr.audit.verify`, `pbr.audit.sample` and `pbr.audit.write_report`.
The report is JSON (`AuditReport`) or, on request, any format `write_report` writes.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from pbr.serve._models import AuditReport
from pbr.serve._problems import ProblemError

if TYPE_CHECKING:
    from starlette.datastructures import FormData, UploadFile

    from pbr.io import Rejection
    from pbr.plans import OutcomePlan
    from pbr.records import Family
    from pbr.serve._rules import InForce

__all__ = ["REPORT_TYPES", "AuditRequest", "read_parts", "run_audit"]

REPORT_TYPES: Mapping[str, str] = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
"""The report formats and their media types."""

_CLAIM_SUFFIXES = (".csv", ".json", ".jsonl")
_FAMILY_SUFFIXES = (".json", ".jsonl")
_PLAN_SUFFIXES = (".toml", ".json", ".yaml", ".yml")
_UNSAFE = re.compile(r"[^\w.-]+")
"""What a stored file name does not keep: anything but letters, digits, '_', '.' and '-'."""
_STEM = 60
"""The characters of a stored name kept before its suffix: at most 240 bytes in UTF-8."""


@dataclass(frozen=True, slots=True)
class AuditRequest:
    """The parts of an audit request, saved as files in `folder`."""

    folder: Path
    claims: Path
    families: tuple[Path, ...]
    plans: tuple[Path, ...]
    interpretations: tuple[str, ...]


async def read_parts(form: FormData, folder: Path) -> AuditRequest:
    """Save the parts of an audit form in `folder`, checking that each is what it should be.

    Raises:
        ProblemError: 400, naming the missing or unsuitable part.

    """
    from starlette.datastructures import UploadFile

    known = {"claims", "families", "plan", "interpretation"}
    unknown = sorted(set(form.keys()) - known)
    if unknown:
        raise ProblemError(400, f"unknown part {unknown[0]!r}; the parts are {sorted(known)}")
    claims = [p for p in form.getlist("claims") if isinstance(p, UploadFile)]
    if len(claims) != 1 or len(form.getlist("claims")) != 1:
        raise ProblemError(400, "send the claim file as exactly one file part named 'claims'")
    families = form.getlist("families")
    if not families or not all(isinstance(p, UploadFile) for p in families):
        raise ProblemError(400, "send the family records as file parts named 'families'")
    plans = form.getlist("plan")
    if not all(isinstance(p, UploadFile) for p in plans):
        raise ProblemError(400, "send each outcome plan as a file part named 'plan'")
    choices = form.getlist("interpretation")
    if not all(isinstance(c, str) for c in choices):
        raise ProblemError(400, "send each interpretation as a text part 'ID=VALUE'")
    return AuditRequest(
        folder=folder,
        claims=await _save(claims[0], folder / "claims", "claims.csv", _CLAIM_SUFFIXES),
        families=tuple(
            [
                await _save(part, folder / f"families-{n}", "families.jsonl", _FAMILY_SUFFIXES)  # type: ignore[arg-type]
                for n, part in enumerate(families, start=1)
            ]
        ),
        plans=tuple(
            [
                await _save(part, folder / f"plan-{n}", "plan.toml", _PLAN_SUFFIXES)  # type: ignore[arg-type]
                for n, part in enumerate(plans, start=1)
            ]
        ),
        interpretations=tuple(str(c) for c in choices),
    )


async def _save(part: UploadFile, folder: Path, default: str, suffixes: tuple[str, ...]) -> Path:
    """Save an uploaded part under its cleaned file name (or `default`) in its own folder."""
    name = _stored_name(part.filename or "", default, suffixes)
    folder.mkdir()
    path = folder / name
    with path.open("wb") as out:
        await part.seek(0)
        await anyio.to_thread.run_sync(shutil.copyfileobj, part.file, out)  # a large copy
    return path


def _stored_name(given: str, default: str, suffixes: tuple[str, ...]) -> str:
    """A safe file name for a part named `given`: its letters and digits, and its suffix.

    The suffix tells the library the format, so it is judged on the name as given ('€.csv'
    ends in .csv even though '€' is not kept); a name with nothing left is `default`'s stem.

    Raises:
        ProblemError: 400 when the name does not end in one of `suffixes`.

    """
    name = Path(given).name or default
    suffix = next((s for s in suffixes if name.lower().endswith(s)), None)
    if suffix is None:
        raise ProblemError(
            400, f"part {given or default!r}: the file name must end in {', '.join(suffixes)}"
        )
    stem = _UNSAFE.sub("_", name[: -len(suffix)]).strip("._")[:_STEM] or Path(default).stem
    return stem + suffix


def load_plans(paths: Sequence[Path]) -> list[OutcomePlan]:
    """The uploaded outcome plans, at most one per programme.

    Raises:
        ProblemError: 400, with the plan's own error.

    """
    from pbr.errors import PlanError
    from pbr.plans import load_plan

    plans: dict[str, OutcomePlan] = {}
    for path in paths:
        try:
            plan = load_plan(path)
        except PlanError as exc:
            raise ProblemError(400, f"plan: {exc}".replace(str(path.parent) + "/", "")) from None
        if plan.programme in plans:
            raise ProblemError(
                400,
                f"plan: two plans for {plan.programme} ({plans[plan.programme].label!r}, "
                f"then {plan.label!r}): give one",
            )
        plans[plan.programme] = plan
    return list(plans.values())


def sample_request(query: Mapping[str, list[str]]) -> dict[str, Any] | None:
    """`pbr.audit.sample`'s options from the query, or None when no sample is asked for.

    Raises:
        ProblemError: 400 for ``seed`` or ``strata`` without ``sample`` or ``fraction``: they
            would do nothing, and ``pbr audit`` refuses ``--seed`` and ``--strata`` so too.

    """
    if "sample" not in query and "fraction" not in query:
        stray = [name for name in ("strata", "seed") if name in query]
        if stray:
            raise ProblemError(
                400, f"{stray[0]} applies only to a sample: add sample=N or fraction=F"
            )
        return None
    strata = query.get("strata", ["kind"])[0]
    return {
        "size": int(query["sample"][0]) if "sample" in query else None,
        "fraction": query["fraction"][0] if "fraction" in query else None,
        "seed": query.get("seed", ["0"])[0],
        "strata": tuple(s.strip() for s in strata.split(",") if s.strip()),
    }


def run_audit(
    parts: AuditRequest,
    in_force: InForce,
    *,
    as_of: date | None,
    payments: Any,
    report: str,
    sample: Mapping[str, Any] | None,
) -> bytes:
    """Audit the claims against the families; the report in the `report` format, as bytes.

    `payments` is the payment history (`pbr.audit.verify`'s `history`): the ledger's, or None.
    Runs in a worker thread: it reads files and evaluates every claim.

    Raises:
        ProblemError: 400 for a claim or family file that cannot be read at all, or a bad
            sample request.

    """
    from pbr import audit
    from pbr.io import UnreadableFile

    try:
        claims, malformed = audit.read_claims(parts.claims)
        families, rejected, repeated = _families(parts.families)
    except UnreadableFile as exc:
        raise ProblemError(400, _short_paths(str(exc), parts.folder)) from None
    result = audit.verify(
        claims,
        families,
        as_of=as_of,
        history=payments,
        rejections=malformed,
        rules_for=in_force.rules_for,
        plans=in_force.plans,
        rejected_families=rejected,
    )
    drawn = None
    if sample is not None:
        try:
            drawn = audit.sample(claims, **sample)
        except ValueError as exc:
            raise ProblemError(400, f"sample: {exc}") from None
    if report == "json":
        return _json(result, [*rejected, *repeated], drawn)
    path = parts.folder / f"audit.{report}"
    audit.write_report(result, path, sample=drawn, sources=[parts.claims, *parts.families])
    return path.read_bytes()


def _families(
    paths: Sequence[Path],
) -> tuple[dict[str, Family], list[Rejection], list[Rejection]]:
    """The families of the ``families`` parts, read as ``pbr audit --families`` reads its files.

    The first record of a family counts; a later part's record of it is not used, and said so
    (the third list: ``pbr audit`` warns of it on standard error). The second list holds the
    records rejected (a part's own repeats among them).

    Raises:
        UnreadableFile: a part with no record at all (an empty file is not "no family has
            evidence": every claim would be flagged).

    """
    from pbr.io import Rejection, UnreadableFile, read_records
    from pbr.records import Family

    found: dict[str, Family] = {}
    rejected: list[Rejection] = []
    repeated: list[Rejection] = []
    for path in paths:
        records = 0
        for records, item in enumerate(read_records(path), start=1):
            if not isinstance(item, Family):  # named by the file's name, not the server's path
                rejected.append(item.model_copy(update={"source": path.name}))
            elif item.family_id in found:  # as in one part: the first record counts
                repeated.append(
                    Rejection.single(
                        source=path.name,
                        line=None,
                        record=records,
                        family_id=item.family_id,
                        loc="family_id",
                        value=item.family_id,
                        type="duplicate_family",
                        message="the family is in an earlier families part too; the first "
                        "record is used",
                        local_authority=item.local_authority,
                    )
                )
            else:
                found[item.family_id] = item
        if not records:
            raise UnreadableFile(f"no family records in {path.name}")
    return found, rejected, repeated


def _json(result: Any, rejected: Sequence[Rejection], drawn: Any) -> bytes:
    report = AuditReport(
        as_of=result.as_of,
        reconciliation=[_plain(row) for row in result.reconciliation()],
        claims=[_plain(check.as_row()) for check in result.checks],
        malformed=[_plain(dataclasses.asdict(r)) for r in result.rejections],
        missed=[_plain(m.as_row()) for m in result.missed],
        unevaluated=[{"family_id": f, "why": why} for f, why in result.unevaluated],
        family_rejections=list(rejected),
        sample=list(drawn.item_ids) if drawn is not None else None,
    )
    return report.model_dump_json().encode()


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A report row as JSON values: money as text with pence, counts as numbers."""
    return {
        key: f"{value:.2f}"
        if isinstance(value, Decimal)
        else value
        if isinstance(value, int | str) or value is None
        else str(value)
        for key, value in row.items()
    }


def _short_paths(message: str, folder: Path) -> str:
    """A message without the server's temporary folder in it."""
    return re.sub(re.escape(str(folder)) + r"/[^/\s]+/", "", message)


def temporary_folder() -> tempfile.TemporaryDirectory[str]:
    """A private folder for one audit's files, removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="pbr-serve-audit-")
