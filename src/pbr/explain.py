"""Render a `Decision` as an auditor's working paper: plain text, one section per result."""

from __future__ import annotations

from collections.abc import Mapping

from pbr._terminal import printable
from pbr.decisions import Decision, Reason, ResultDecision, term_calendar_named
from pbr.money import format_gbp

__all__ = ["explain"]

_TITLES = {
    "crime_asb_education": "Crime/ASB/education",
    "progress_to_work": "Progress to work",
    "continuous_employment": "Continuous employment",
    "sustained_progress": "Significant and sustained progress",
}


def _reason_lines(reason: Reason, indent: str) -> list[str]:
    lines = [f"{indent}- [{reason.code}] {reason.message}"]
    lines.append(f"{indent}  rule {reason.rule}; source {reason.source}")
    if reason.compared:
        numbers = ", ".join(f"{k}={_shown(v)}" for k, v in reason.compared.items())
        lines.append(f"{indent}  compared: {numbers}")
    return lines


def _shown(value: object) -> str:
    """A compared value as written after ``name=``; text that would blur with it is quoted.

    >>> _shown("=="), _shown("<="), _shown("count"), _shown(3)
    ('"=="', '"<="', 'count', '3')
    """
    text = str(value)
    if isinstance(value, str) and any(c in text for c in "=<>,"):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def _money_sources(decision: Decision) -> list[str]:
    """The line citing the sources of the attachment fee and the cap, from the rules they came from.

    The decision's own programme's rules, under the decision's interpretations, cite them where
    they are the decision's (its rules version, and the same fee and cap for its attachment
    year); a decision made under other rules (a rule set of the caller's) has no such line.
    """
    from pbr.periods import financial_year_of
    from pbr.programmes import programme

    try:
        found = programme(decision.programme)
        rules = found.rules.with_interpretations(**decision.interpretations)
        year = financial_year_of(decision.attached_on)
        same = (
            rules.rules_version == decision.rules_version
            and found.attachment_fee(rules, year) == decision.attachment_fee
            and found.cap(rules, year) == decision.cap
        )
        if not same:
            return []
        return [
            f"Sources: attachment fee {found.attachment_fee_source(rules, year)}; "
            f"cap {found.cap_source(rules, year)}"
        ]
    except (KeyError, ValueError, LookupError):  # not a programme pbr has, or not its rules
        return []


def _calendar_line(decision: Decision) -> list[str]:
    """The council term calendar the decision's reasons name (none for the default calendar)."""
    name = term_calendar_named(decision)
    if name is None:
        return []
    return [f"School terms: {printable(name)} term calendar (not the default dates)"]


def _result_lines(kind: str, result: ResultDecision, closes: Mapping[str, str]) -> list[str]:
    head = f"{_TITLES.get(kind, kind)}: {result.status.upper().replace('_', ' ')}"
    lines = [head, "-" * len(head)]
    lines.append(
        f"  rate {format_gbp(result.rate)}; payable now {format_gbp(result.amount)}"
        + (f"; earliest date {result.earliest_date}" if result.earliest_date else "")
        + (f" {closes[kind]}" if kind in closes else "")
    )
    for reason in result.reasons:
        lines.extend(_reason_lines(reason, "  "))
    return lines


def _closed_before_earliest(decision: Decision) -> dict[str, str]:
    """Per result whose earliest date is after its last claim day, the words saying so.

    From the decision's EARLIEST_DATE_AFTER_CLAIMS_CLOSED warnings, so the earliest date is
    never shown as a day a claim could still be made.
    """
    return {
        str(w.compared["result"]): (
            f"(after {_CLOSING.get(w.rule, 'the route closes')} on {w.compared['claims_until']}: "
            "never claimable)"
        )
        for w in decision.warnings
        if w.code == "EARLIEST_DATE_AFTER_CLAIMS_CLOSED"
    }


_CLOSING = {"payment.claims_closed": "results claims close"}
"""What closes on a warning's claims_until, by its rule; else a route's own last claim day."""


def explain(decision: Decision) -> str:
    """Return the working paper for `decision` (what `Decision.explain` shows).

    >>> import pbr
    >>> from datetime import date
    >>> family = pbr.Family.model_validate({"family_id": "F1", "attached_on": "2012-10-15",
    ...     "identified_for": ["crime_asb", "education", "work"],
    ...     "members": [{"person_id": "A1", "date_of_birth": "1979-04-02"}],
    ...     "benefit_spells": [{"person_id": "A1", "benefit": "ESA", "start": "2011-01-01"}],
    ...     "employment_spells": [{"person_id": "A1", "start": "2013-01-07"}]})
    >>> decision = pbr.evaluate(family, as_of=date(2013, 6, 30))
    >>> paper = explain(decision)
    >>> print(paper.splitlines()[0])
    Working paper: family F1 as of 2013-06-30
    >>> "Continuous employment: MET" in paper
    True
    """
    d = decision
    title = printable(f"Working paper: family {d.family_id} as of {d.as_of}")
    lines = [
        title,
        "=" * (len(title) + 1),
        f"Programme {d.programme}, rules {d.rules_version}",
        *_calendar_line(d),
        *([f"Council {printable(d.local_authority)}"] if d.local_authority else []),
        f"Attached {d.attached_on} (financial year {d.attachment_year}); attachment fee "
        f"{format_gbp(d.attachment_fee)}"
        f"{' (not yet due: as of is before attachment)' if d.as_of < d.attached_on else ''}; "
        f"cap {format_gbp(d.cap)}",
        *_money_sources(d),
        f"Eligible: {'yes' if d.eligible else 'no'}; identified for: "
        f"{', '.join(d.identified_for) or '(none)'}",
        *([f"Outcome plan: {d.outcome_plan}"] if d.outcome_plan else []),
        "",
        "Identification at attachment",
        "----------------------------",
    ]
    for reason in d.identification:
        lines.extend(_reason_lines(reason, "  "))
    if d.warnings:
        lines += ["", "Warnings", "--------"]
        for reason in d.warnings:
            lines.extend(_reason_lines(reason, "  "))
    closes = _closed_before_earliest(d)
    for kind, result in d.results.items():
        lines.append("")
        lines.extend(_result_lines(kind, result, closes))
    lines += [
        "",
        "Money",
        "-----",
        f"  paid to date (counted at {d.as_of}): {format_gbp(d.paid_to_date)}",
        f"  results payable now: {format_gbp(d.payable)}",
        "  by result: "
        + "; ".join(f"{kind} {format_gbp(r.amount)}" for kind, r in d.results.items()),
        "",
        "Interpretations in force",
        "------------------------",
    ]
    lines.extend(f"  {key} = {value}" for key, value in d.interpretations.items())
    # Messages, compared values and claim ids carry the record's texts: a record refuses a
    # character that would break or reorder a line, but a decision re-read from JSON or made
    # with `model_construct` was never so checked. Each line is written printable (an escape
    # for a newline, a U+2028 line separator, a right-to-left override), so no text can draw
    # a line of its own ("results payable now: ...", a result's heading).
    return "\n".join(map(printable, lines)) + "\n"
