"""Audit reports: the content once, written as HTML, Markdown, CSV or XLSX (extra).

The content is the header (inputs, payment ledger, rule sets, interpretations and outcome plans),
the summary, the reconciliation, exceptions, malformed rows, missed results and missed
attachment fees, and the sample; each private writer module turns it into one format. Codes appear beside their
plain-English names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pbr._rejection import json_text
from pbr.audit._claims import MISALIGNED, readable
from pbr.audit._flags import FLAG_TITLES, KIND_TITLES
from pbr.calendars import own_dates
from pbr.money import ZERO, format_gbp

if TYPE_CHECKING:
    from pbr.audit._mus_audit import MusAudit
    from pbr.audit._sample import Sample
    from pbr.audit._verify import MissedClaim, Verification

__all__ = [
    "REPORT_SUFFIXES",
    "SAMPLE_COLUMNS",
    "Label",
    "Report",
    "Table",
    "check_report_path",
    "write_report",
]

REPORT_SUFFIXES = (".html", ".md", ".csv", ".xlsx")
"""The report formats, by file suffix."""


@dataclass(frozen=True, slots=True)
class Label:
    """A code with its plain-English name, e.g. a kind or a flag (each writer shows both)."""

    text: str
    code: str

    def __str__(self) -> str:
        return f"{self.text} ({self.code})" if self.text != self.code else self.code


Cell = str | int | Decimal | Label | tuple[Label, ...]
"""A table cell: text, a count, money (formatted by each writer), or labelled codes."""


def kind_label(kind: str) -> Label:
    """A kind of claim with its name (``Attachment fee (attachment_fee)``)."""
    return Label(KIND_TITLES.get(kind, kind.replace("_", " ").capitalize()), kind)


def flag_labels(codes: Sequence[str]) -> tuple[Label, ...]:
    """Flag codes with their names."""
    return tuple(Label(FLAG_TITLES.get(c, c), c) for c in codes)


@dataclass(frozen=True, slots=True)
class Table:
    """One section of a report: a title, a note, the column names and the rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    total_last: bool = False
    """The last row is a total (shown in bold)."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report shows, independent of its format."""

    title: str
    meta: tuple[tuple[str, str], ...]
    summary: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    all_claims: tuple[dict[str, Any], ...]
    """Every claim as a flat row, with flags, amounts and provenance (the CSV report)."""
    malformed: tuple[dict[str, Any], ...] = ()
    """Every malformed row as a flat row (the CSV report)."""
    conclusion: str = ""
    """What the sample concludes, shown beside the summary (a monetary-unit sample's bound)."""
    claim_columns: tuple[str, ...] = ()
    """Columns every claim row gains (a sample's), after the usual ones."""
    evaluation: tuple[dict[str, Any], ...] = ()
    """Rows after the claims and malformed rows in the CSV report (the sample's: a monetary-unit
    sample's evaluation, a spot-check sample's seed and method)."""
    rejected_families: tuple[dict[str, Any], ...] = ()
    """Every rejected family record as a flat row of status ``family_rejected`` (the CSV)."""
    not_evaluated: tuple[dict[str, Any], ...] = ()
    """Every family not evaluated as a flat row of status ``family_not_evaluated`` (the CSV)."""


def check_report_path(path: str | Path) -> Path:
    """Check, before any work, that a report can be written to `path` in its format.

    Raises:
        ValueError: the suffix is none of .html, .md, .csv, .xlsx.
        pbr.output.OutputError: the path is (or is written as) a folder, its folder does not
            exist, or it is .xlsx and openpyxl is missing (``pip install "pbr-claims[xlsx]"``).

    """
    from pbr.output import check_writable, refuse_folder_name

    refuse_folder_name(path)  # first, as given: ``r.md/`` names a folder, not r.md
    path = Path(path)
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ValueError(f"{path}: a report ends in .html, .md, .csv or .xlsx")
    return check_writable(path)


def write_report(
    verification: Verification,
    path: str | Path,
    *,
    sample: Sample | MusAudit | None = None,
    title: str = "Claim audit",
    sources: Sequence[str | Path] = (),
) -> Path:
    """Write the audit report in the format its suffix names (.html, .md, .csv, .xlsx), atomically.

    Every format has the header (inputs with their SHA-256, the payment ledger and its head, the
    rule sets and interpretations used, and the outcome plan each phase-two or Supporting
    Families programme was judged against, with its SHA-256, or a warning that it was pbr's
    example plan), the summary, the reconciliation, the exceptions with
    their failing reasons, the malformed rows, the missed results and missed attachment fees
    apart, and the sample; the CSV has one row per claim (and per malformed row) with the hashes
    ``pbr replay`` needs. Text a spreadsheet would run as a formula is neutralised in the CSV,
    XLSX and Markdown (`pbr.output.neutralise`), and HTML and Markdown markup is escaped.

    `sample` is a spot-check `Sample` or a monetary-unit sample of this verification
    (`pbr.audit.mus_audit`): then the header gives its method, parameters, seed and interval,
    and every format the sampled claims, the tainting of each misstatement, the upper
    misstatement limit and its parts, and the conclusion beside the over-claim found by
    checking every claim (the CSV as ``mus_*`` columns and rows of status ``mus``). A spot-check
    sample is in the CSV as the column ``sample_order`` (each sampled claim's place in the
    sample) and a last row of status ``sample`` with the seed, the method and the claims drawn.

    >>> import pathlib, tempfile
    >>> from pbr.audit import verify
    >>> path = write_report(verify([], []), pathlib.Path(tempfile.mkdtemp()) / "audit.md")
    >>> path.read_text().splitlines()[0]
    '# Claim audit'

    Raises:
        ValueError: the suffix is none of .html, .md, .csv, .xlsx, or `sample` is a
            monetary-unit sample of other claims than the verification's.
        pbr.output.OutputError: the report cannot be written (nothing is), or it is .xlsx and
            openpyxl is missing (``pip install "pbr-claims[xlsx]"``).
        TypeError: `verification` is not a `pbr.audit.Verification`.

    """
    from pbr._arguments import check_verification
    from pbr.output import atomic_writer

    check_verification(verification)
    path = check_report_path(path)
    data = _WRITERS[path.suffix.lower()](build(verification, sample, title, sources))
    with atomic_writer(path, "wb") as handle:
        handle.write(data)
    return path


def _html(report: Report) -> bytes:
    from pbr.audit._html import render

    return render(report).encode("utf-8")


def _markdown(report: Report) -> bytes:
    from pbr.audit._markdown import render

    return render(report).encode("utf-8")


def _csv(report: Report) -> bytes:
    from pbr.audit._csv import render

    return render(report).encode("utf-8")


def _xlsx(report: Report) -> bytes:
    from pbr.audit._xlsx import render

    return render(report)


_WRITERS = {".html": _html, ".md": _markdown, ".csv": _csv, ".xlsx": _xlsx}


def build(
    v: Verification,
    sample: Sample | MusAudit | None = None,
    title: str = "Claim audit",
    sources: Sequence[str | Path] = (),
) -> Report:
    """The report's content from a verification (and a sample), for any writer."""
    from pbr import __version__
    from pbr.audit._mus_audit import MusAudit

    mus = sample if isinstance(sample, MusAudit) else None
    spot = sample if not isinstance(sample, MusAudit) else None
    if mus is not None and tuple(check for _, check in mus.checks) != v.checks:
        raise ValueError(
            "the monetary-unit sample was drawn from other claims than this verification's: "
            "draw it with mus_audit(verification, ...)"
        )

    meta = [
        ("Evidence as of", v.as_of.isoformat() if v.as_of else "(no claims)"),
        ("pbr version", __version__),
        ("Rule sets", ", ".join(sorted({version for version, _ in v.rule_sets})) or "(none used)"),
    ]
    meta += [
        (f"Interpretations, {version}", ", ".join(f"{k} = {value}" for k, value in chosen))
        for version, chosen in v.rule_sets
    ]
    meta += [(f"Outcome plan, {used.programme}", used.describe()) for used in v.outcome_plans]
    meta += [
        (f"Term calendar, {version}", own_dates(name, terms))
        for version, name, terms in v.term_calendars
    ]
    # a file name's byte that is not UTF-8 (kept as a lone surrogate) shown as \x96: no
    # report could be written with it; a control character (ESC, a newline) escaped, as the
    # command line and the workbook show it
    ledger = readable(v.history) if v.history else "none (the family records' own payments only)"
    meta.append(("Payment ledger", ledger))
    meta += [(f"Input {name}", f"sha256 {_sha256(file)}") for name, file in _inputs(sources)]
    if spot is not None:
        meta += [("Sample method", spot.method), ("Sample seed", spot.seed)]
    if mus is not None:
        from pbr.audit import _mus_report

        meta += _mus_report.meta(mus)
    meta.append(("Report made", date.today().isoformat()))
    tables = [
        _reconciliation(v),
        _exceptions(v),
        _malformed(v),
        *([_rejected_families(v)] if v.rejected_families else []),
        _missed(
            "Missed results",
            v.missed_results,
            v,
            "Results the evidence shows payable on {as_of} that were neither claimed nor paid, "
            "with each claim counted at the amount the rules allow it: room an under-claim "
            "already shows is not missed again. A crime/ASB/education result is judged on "
            "sliding windows, so the day it first became claimable is not knowable.",
        ),
    ]
    if v.missed_fees:
        tables.append(
            _missed(
                "Missed attachment fees",
                v.missed_attachment_fees,
                v,
                "Attachment fees of eligible families attached by {as_of} that were neither "
                "claimed nor paid (a fee, not a result: kept apart from the results above).",
            )
        )
    if mus is not None:
        tables += _mus_report.tables(mus)
    else:
        tables.append(_sample(spot))
    if v.unevaluated:
        tables.append(
            Table(
                "Families not evaluated",
                ("family_id", "why"),
                tuple((f, readable(why)) for f, why in v.unevaluated),
                "No programme covers these records, or their payment records disagree, so they "
                "were not searched for missed claims.",
            )
        )
    summary = _summary(v, spot)
    claims = [c.as_row() for c in v.checks]
    refused = tuple(_rejected_family_row(r) for r in v.rejected_families)
    skipped = tuple(_not_evaluated_row(f, why) for f, why in v.unevaluated)
    if mus is None:
        return Report(
            title,
            tuple(meta),
            tuple(summary),
            tuple(tables),
            tuple(_sampled(claims, v, spot)),
            tuple(_malformed_row(r) for r in v.rejections),
            claim_columns=SAMPLE_COLUMNS if spot is not None else (),
            evaluation=(_sample_row(spot),) if spot is not None else (),
            rejected_families=refused,
            not_evaluated=skipped,
        )
    return Report(
        title,
        tuple(meta),
        tuple(summary + _mus_report.summary(mus)),
        tuple(tables),
        tuple(
            row | extra for row, extra in zip(claims, _mus_report.claim_columns(mus), strict=True)
        ),
        tuple(_malformed_row(r) for r in v.rejections),
        conclusion=_mus_report.conclusion(mus),
        claim_columns=_mus_report.MUS_COLUMNS,
        evaluation=tuple(_mus_report.csv_rows(mus)),
        rejected_families=refused,
        not_evaluated=skipped,
    )


def _inputs(sources: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """Each input file by the name the report gives it: a folder of tables, each table's file.

    A name's control characters (ESC, TAB, a newline) are escaped (`readable`): raw, they broke
    the HTML and Markdown reports' lines.
    """
    found: list[tuple[str, Path]] = []
    for source in map(Path, sources):
        if source.is_dir():
            from pbr.tables import table_files

            name = readable(source.name)
            found += [(f"{name}/{readable(f.name)}", f) for f in table_files(source).values()]
        else:
            found.append((readable(source.name), source))
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _summary(v: Verification, sample: Sample | None) -> list[tuple[str, str]]:
    total = v.reconciliation()[-1]
    results = v.missed_results
    fees = v.missed_attachment_fees
    lines = [
        ("Claim rows read", f"{len(v.checks) + len(v.rejections)}"),
        ("Claims checked", f"{len(v.checks)}"),
        ("Malformed rows", f"{len(v.rejections)}"),
    ]
    if v.rejected_families:
        lines.append(("Family records rejected", f"{len(v.rejected_families)}"))
    unverified = ", ".join(unverified_causes(v))
    unread = v.amounts_not_read
    claimed = format_gbp(total["claimed"])
    if unread:  # the money of these rows is in no total: say so beside the total
        claimed += f" in {rows_read(v.amounts_read)}"
    lines += [
        ("Claims flagged", f"{total['flagged']}"),
        ("Claimed", claimed),
    ]
    if unread:
        lines.append(
            (
                "Rows with amounts not read",
                f"{len(unread)}, in no total (each listed under Malformed rows, as written)",
            )
        )
    lines += [
        ("Verified", format_gbp(total["verified"])),
        ("Over-claimed", format_gbp(total["over_claimed"])),
        (f"Unverified ({unverified})", format_gbp(total["unverified"])),
        ("Under-claimed", format_gbp(total["under_claimed"])),
        ("Missed results", f"{len(results)}, {format_gbp(_sum(results))}"),
    ]
    gone = v.missed_for_good
    if gone:
        lines.append(
            ("Missed results no longer claimable", f"{len(gone)}, {format_gbp(_sum(gone))}")
        )
    if v.missed_fees:
        lines.append(("Missed attachment fees", f"{len(fees)}, {format_gbp(_sum(fees))}"))
    else:
        lines.append(("Missed attachment fees", "not searched for"))
    if sample is not None:
        lines.append(("Spot-check sample", f"{len(sample.claims)} claims, seed {sample.seed}"))
    return lines


def unverified_causes(v: Verification) -> list[str]:
    """What the unverified total is made of, as the summary names it.

    Malformed rows, and claims that cannot be judged: a rejected family record, payment records
    that disagree.
    """
    causes = ["malformed rows"]
    if v.rejected_families:
        causes.append("rejected family records")
    if any("PAYMENT_HISTORY_CONFLICT" in c.codes for c in v.checks):
        causes.append("claims whose payment records disagree")
    return causes


def rows_read(n: int) -> str:
    """``1 row whose amount was read``, ``22 rows whose amounts were read``."""
    return f"{n} row whose amount was read" if n == 1 else f"{n} rows whose amounts were read"


def _sum(missed: Sequence[MissedClaim]) -> Decimal:
    return sum((m.amount for m in missed), ZERO)


def _reconciliation(v: Verification) -> Table:
    keys = (
        "claims",
        "flagged",
        "malformed",
        "claimed",
        "verified",
        "over_claimed",
        "unverified",
        "under_claimed",
    )
    rows = []
    for r in v.reconciliation():
        kind = r["kind"]
        name: Cell = kind if kind in ("total", "unreadable") else kind_label(kind)
        if kind == "unreadable":
            name = Label("Kind not readable", "unreadable")
        rows.append((name, *(r[k] for k in keys)))
    return Table(
        "Reconciliation",
        ("kind", *keys),
        tuple(rows),
        "By kind of claim; on every row claimed = verified + over-claimed + unverified (the "
        "amounts of malformed rows, where readable, and of claims that cannot be judged: their "
        "family's record rejected, or its payment records disagreeing), and the total is the "
        "sum of the rows, to the penny.",
        total_last=True,
    )


def _exceptions(v: Verification) -> Table:
    return Table(
        "Exceptions",
        (
            "row",
            "claim_id",
            "family_id",
            "kind",
            "claimed",
            "allowed",
            "verified",
            "flags",
            "why",
            "rule",
        ),
        tuple(
            (
                c.claim.row,
                c.claim.claim_id,
                c.claim.family_id,
                kind_label(c.claim.kind),
                c.claim.amount,
                c.allowed,
                c.verified,
                flag_labels(c.codes),
                "; ".join(f.message for f in c.flags),
                "; ".join(f"{f.rule} [{f.source}]" if f.source else f.rule for f in c.flags),
            )
            for c in v.exceptions
        ),
        "Each flagged claim with the amount the rules allow on its claim date, what is verified, "
        "and why (the failing reasons only, with the child, term or numbers), with the rule and "
        "its source tags.",
    )


def _malformed(v: Verification) -> Table:
    return Table(
        "Malformed rows",
        ("row", "claim_id", "kind", "amount", "field", "value", "why"),
        tuple(
            (
                r.row,
                shown_claim_id(r),
                kind_label(r.kind) if r.kind else "(not readable)",
                r.amount if r.amount is not None else f"not read: {r.amount_text}",
                readable(r.field),  # a JSON row's unknown key, as written
                readable(r.value),
                readable(r.message),
            )
            for r in v.rejections
        ),
        "Rows that could not be read (flag MALFORMED_ROW): nothing of them is verified; their "
        "amounts, where readable, are in the reconciliation as unverified, and an amount that "
        "could not be read is shown as written, in no total.",
    )


def _rejected_families(v: Verification) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for r in v.rejected_families:
        claims = [
            c
            for c in v.checks
            if "FAMILY_RECORD_REJECTED" in c.codes and r.family_id == c.claim.family_id
        ]
        rows.append(
            (
                _where(r),
                _family_id(r) or "(not readable)",
                len(claims),
                "; ".join(e.describe() for e in r.errors),
            )
        )
    return Table(
        "Rejected family records",
        ("record", "family_id", "claims", "why"),
        tuple(rows),
        "Family records that could not be read or validated: their claims (flag "
        "FAMILY_RECORD_REJECTED) are unverified in the reconciliation, neither verified nor "
        "over-claimed, and the families are not searched for missed claims.",
    )


def _where(r: Any) -> str:
    """Where a rejected record is: ``file:line`` (or the file)."""
    source = Path(json_text(r.source) or "").name  # the name, as the inputs are: reproducible
    return f"{source}:{r.line}" if r.line is not None else source


def _rejected_family_row(r: Any) -> dict[str, Any]:
    """A rejected family record, as a CSV row of status ``family_rejected``."""
    why = f"{_where(r)}: " + "; ".join(e.describe() for e in r.errors)
    return _family_row(_family_id(r), "family_rejected", why, "audit.family_records")


def _not_evaluated_row(family_id: str, why: str) -> dict[str, Any]:
    """A family the missed search skipped, as a CSV row of status ``family_not_evaluated``."""
    return _family_row(family_id, "family_not_evaluated", readable(why), "audit.missed_claims")


def _family_row(family_id: str, status: str, why: str, rule: str) -> dict[str, Any]:
    """A CSV row about a family, not a claim: no claim id, kind or money."""
    return {
        "row": "",
        "claim_id": "",
        "family_id": family_id,
        "kind": "",
        **dict.fromkeys(
            ("amount", "verified", "over_claimed", "unverified", "under_claimed"), "0.00"
        ),
        "status": status,
        "flags": "",
        "why": why,
        "rule": rule,
    }


def _family_id(r: Any) -> str:
    r"""A rejected record's family id as every report shows it: controls escaped (``X\nY``).

    The id is what made the record rejected, often enough: copied raw, a newline would split
    the CSV's row and the Markdown's table, and an escape would act on a terminal.
    """
    return readable(r.family_id) if r.family_id else ""


def _malformed_row(r: Any) -> dict[str, Any]:
    amount = f"{r.amount:.2f}" if r.amount is not None else ""
    why = readable(f"{r.field} = {r.value}: {r.message}")  # a JSON row's unknown key as written
    if r.amount is None and r.field != "amount" and not r.amount_text.startswith("("):
        why += f"; amount = {r.amount_text}: not read either"  # listed, as written
    elif r.amount_text.startswith(MISALIGNED):
        why += "; amount not read: the values cannot be lined up with the columns"
    return {
        "row": r.row,
        "claim_id": shown_claim_id(r),
        "family_id": r.family_id or "",  # what could be read of the row is kept
        "kind": r.kind or "",
        "claimed_on": r.claimed_on.isoformat() if r.claimed_on else "",
        "window": r.window or "",
        "amount": amount,
        "verified": "0.00",
        "over_claimed": "0.00",
        "unverified": amount,
        "under_claimed": "0.00",
        "status": "malformed",
        "flags": "MALFORMED_ROW",
        "why": why,
        "rule": "audit.claim_file",
    }


def shown_claim_id(r: Any) -> str:
    r"""A malformed row's claim id as every report shows it: controls escaped (``C\x1b[31m``).

    It is kept as written, and may be malformed for holding a control character: copied raw,
    it would act on the terminal that shows the report (and openpyxl refuses it). One with white
    space around it is quoted, as its ``why`` shows it (``' C9'``, ``'C9\t'``): bare, it looked
    like the claim ``C9``.
    """
    if not r.claim_id:
        return ""
    return readable(repr(r.claim_id) if r.claim_id != r.claim_id.strip() else r.claim_id)


def _missed(title: str, missed: Sequence[MissedClaim], v: Verification, note: str) -> Table:
    gone = [m for m in missed if m.claims_closed_on is not None]
    columns: tuple[str, ...] = ("family_id", "kind", "amount", "claimable_from")
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (
            m.family_id,
            kind_label(m.kind),
            m.amount,
            m.earliest_date.isoformat() if m.earliest_date else "not knowable",
        )
        for m in missed
    )
    total: tuple[Cell, ...] = ("total", "", _sum(missed), "")
    if gone:  # each row says whether it can still be claimed, and the note how much cannot
        columns += ("claims_closed_on",)
        rows = tuple(
            (*row, m.claims_closed_on.isoformat() if m.claims_closed_on else "")
            for row, m in zip(rows, missed, strict=True)
        )
        total += ("",)
        closed = ", ".join(sorted({str(m.claims_closed_on) for m in gone}))
        note += (
            f" {len(gone)} of them ({format_gbp(_sum(gone))}) can no longer be claimed: "
            f"claims closed on {closed}, and they are judged as on that day (what first became "
            "payable after it could never have been claimed, so it is not listed)."
        )
    again = [m for m in missed if m.claimed_before]
    if again:  # claimed, but only by claims allowed nothing: owed, and a new claim gets it
        columns += ("claimed_before",)
        rows = tuple(
            (*row, " ".join(m.claimed_before)) for row, m in zip(rows, missed, strict=True)
        )
        total += ("",)
        note += (
            f" {len(again)} of them ({format_gbp(_sum(again))}) were claimed only by claims "
            "the audit allows nothing (claimed_before: claimed too early, say): only a new "
            "claim gets them, while claims are open."
        )
    return Table(
        title,
        columns,
        (*rows, total) if rows else (),
        note.format(as_of=v.as_of or "(no date)"),
        total_last=bool(rows),
    )


SAMPLE_COLUMNS = ("sample_order",)
"""The column the CSV report's claim rows gain with a spot-check sample: a sampled claim's place
in the sample (1 for the first drawn), empty for the others."""


def _sampled(
    claims: list[dict[str, Any]], v: Verification, spot: Sample | None
) -> list[dict[str, Any]]:
    """The claim rows, each with its place in the spot-check sample when one was drawn."""
    if spot is None:
        return claims
    order: dict[tuple[str, int | None], list[int]] = {}
    for n, c in enumerate(spot.claims, start=1):  # rows repeating each other: one place each
        order.setdefault((c.claim_id, c.row), []).append(n)
    marked = []
    for row, check in zip(claims, v.checks, strict=True):
        places = order.get((check.claim.claim_id, check.claim.row))
        marked.append(row | {"sample_order": str(places.pop(0)) if places else ""})
    return marked


def _sample_row(spot: Sample) -> dict[str, Any]:
    """The spot-check sample as one CSV row of status ``sample``: its seed, method and claims."""
    return {
        "status": "sample",
        "rule": "audit.sample",
        "why": f"spot-check sample of {len(spot.claims)} claims, seed {spot.seed}: "
        + _sample_note(spot)
        + " Sampled, in order: "
        + " ".join(_item_ids(spot)),
    }


def _item_ids(spot: Sample) -> tuple[str, ...]:
    """The sampled claims' sampling ids (a claim id, or ``<claim id>#<k>`` for a repeated one)."""
    return spot.item_ids or tuple(c.claim_id for c in spot.claims)


def _sample_note(sample: Sample) -> str:
    return (
        f"Method: {sample.method}. Drawn per group: "
        + ", ".join(f"{k} {n}" for k, n in sample.sizes.items())
        + "."
    )


def _sample(sample: Sample | None) -> Table:
    if sample is None:
        return Table("Sample", ("claim_id",), (), "No sample was drawn.")
    return Table(
        "Sample",
        ("claim_id", "family_id", "kind", "claimed", "claimed_on"),
        tuple(
            (item, c.family_id, kind_label(c.kind), c.amount, c.claimed_on.isoformat())
            for item, c in zip(_item_ids(sample), sample.claims, strict=True)
        ),
        _sample_note(sample),
    )
