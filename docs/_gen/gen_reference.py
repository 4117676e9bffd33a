"""Write the generated pages of the docs site from pbr itself (a mkdocs-gen-files script).

Run by the ``gen-files`` plugin at every build (``mkdocs build`` / ``mkdocs serve``):

* ``reference/rules.md``: every parameter of ``pbr.rules.PHASE_ONE`` with its value by financial
  year, source tags and status; every interpretation; the cited sources;
* ``reference/reason-codes.md``: every code of ``pbr.reasons.REASON_CODES``;
* ``family-record.md``: the hand-written page with the record's JSON Schema put in at the marker,
  and ``family-record.schema.json`` beside it;
* ``changelog.md``: the repository's ``CHANGELOG.md`` (or a placeholder until there is one).

The ``render_*`` functions are pure (text in, text out) so ``tests/test_docs.py`` can import this
file and check the pages without building the site.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pbr.reasons
import pbr.rules
from pbr.money import format_gbp
from pbr.rules import PHASE_ONE, RULE_SETS, DatedValue, Parameter, RuleSet, Source, sources

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = ROOT / "CHANGELOG.md"
SCHEMA_MARKER = "<!-- pbr:json-schema -->"
SCHEMA_FILE = "family-record.schema.json"
GENERATED = (
    "This page is generated from `{what}` each time the site is built; "
    "change the code or data, not this page."
)

_UNITS = {
    "GBP": "pounds, exact to the penny",
    "fraction": "exact fraction",
    "percent": "percent",
    "months": "calendar months",
    "weeks": "weeks",
    "terms": "complete school terms",
    "count": "count",
    "years": "years of age",
    "date": "a day",
}
_STATUS = {
    "confirmed": "seen in the cited source",
    "derived": "arithmetic from confirmed figures",
    "uncertain": "an inference, or sources that disagree; where it matters, an interpretation "
    "makes the choice explicit",
}


def _cell(text: str) -> str:
    """Make `text` safe inside a Markdown table cell (no pipes, no accidental emphasis)."""
    return re.sub(r"([\\|*_`\[\]<>])", r"\\\1", text).replace("\n", " ")


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def format_value(unit: str, value: object) -> str:
    """Show a parameter value as people read it: ``£3,200.00``, ``15%``, ``6 months``, ``7/8``."""
    if unit == "date" and isinstance(value, date):
        return _long_date(value)
    if unit == "GBP" and isinstance(value, Decimal):
        return format_gbp(value)
    if unit == "percent":
        return f"{value}%"
    if unit in {"months", "weeks", "terms", "years"}:
        return f"{value} {unit}"
    return str(value)


def _parameter_anchor(name: str) -> str:
    return f"parameter-{name}"


def _interpretation_anchor(interpretation_id: str) -> str:
    return f"interpretation-{interpretation_id}"


def _value_rows(parameter: Parameter) -> Iterable[str]:
    yield "| From financial year | Value | Sources | Status |"
    yield "|---|---:|---|---|"
    for dated in parameter.values:
        yield (
            f"| {dated.year} | {format_value(parameter.unit, dated.value)} "
            f"| {dated.source_text} | {dated.status} |"
        )


def _money_table(rules: RuleSet) -> Iterable[str]:
    money = [p for p in rules.parameters.values() if p.unit == "GBP"]
    yield "| Parameter | " + " | ".join(str(y) for y in rules.years) + " |"
    yield "|---|" + "---:|" * len(rules.years)
    for parameter in money:
        cells = []
        for year in rules.years:
            dated: DatedValue = parameter.at(year)
            cells.append(format_value(parameter.unit, dated.value))
        link = f"[`{parameter.name}`](#{_parameter_anchor(parameter.name)})"
        yield f"| {link} | " + " | ".join(cells) + " |"


def _citations(rules: RuleSet) -> dict[str, list[str]]:
    """Which parameters cite each source tag, in the rule set's order."""
    cited: dict[str, list[str]] = {}
    for parameter in rules.parameters.values():
        for dated in parameter.values:
            for tag in dated.source:
                names = cited.setdefault(tag, [])
                if parameter.name not in names:
                    names.append(parameter.name)
    return cited


def render_sources(known: Mapping[str, Source], rules: RuleSet) -> str:
    """The source list as a table: tag, where, kind and the parameters that cite it."""
    cited = _citations(rules)
    lines = ["| Tag | Where | Kind | Cited by |", "|---|---|---|---|"]
    for tag, source in known.items():
        by = ", ".join(f"[`{n}`](#{_parameter_anchor(n)})" for n in cited.get(tag, []))
        lines.append(f"| {tag} | {_cell(source.where)} | {_cell(source.kind)} | {by} |")
    return "\n".join(lines)


def constant(rules: RuleSet) -> str:
    """The name under which `pbr.rules` exports `rules` (``PHASE_ONE``), found, not listed."""
    for name in pbr.rules.__all__:
        if getattr(pbr.rules, name) is rules:
            return name
    raise LookupError(f"pbr.rules exports no constant for the {rules.programme} rule set")


def rules_page(rules: RuleSet) -> str:
    """Where a rule set's reference page goes: phase one's stays at ``reference/rules.md``."""
    return "reference/rules.md" if rules is PHASE_ONE else f"reference/rules-{rules.programme}.md"


CLI_WIDTH = 92
"""Columns for the generated usage lines, fixed so the page does not depend on the terminal."""


def _commands(parser: argparse.ArgumentParser, prefix: str = "pbr") -> Iterator[Command]:
    """Every (sub)command under `parser`, depth first: its full name, one-line help and parser."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            full = f"{prefix} {name}"
            yield full, helps.get(name, ""), sub
            yield from _commands(sub, full)


Command = tuple[str, str, argparse.ArgumentParser]
"""A command's full name (``pbr ledger verify``), its one-line help and its parser."""


def _argument_name(action: argparse.Action) -> str:
    if not action.option_strings:
        return str(action.metavar or action.dest)
    names = ", ".join(action.option_strings)
    if action.nargs == 0:
        return names
    if action.metavar is not None:
        return f"{names} {action.metavar}"
    if action.choices is not None:
        return f"{names} {{{','.join(map(str, action.choices))}}}"
    return f"{names} {action.dest.upper()}"


def _shared_help(commands: list[Command]) -> dict[str, str]:
    """Help text by option string (or positional name) from whichever command gives one."""
    found: dict[str, str] = {}
    for _, _, parser in commands:
        for action in parser._actions:
            if action.help and action.help != argparse.SUPPRESS:
                for key in action.option_strings or [action.dest]:
                    found.setdefault(key, action.help)
    return found


def _argument_rows(parser: argparse.ArgumentParser, shared: Mapping[str, str]) -> list[str]:
    rows = ["| Argument | Required | Default | What it is |", "|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        keys = action.option_strings or [action.dest]
        help_text = action.help or next((shared[k] for k in keys if k in shared), "")
        parts = [_cell(help_text)] if help_text else []
        if action.choices is not None and not isinstance(action.choices, Mapping):
            parts.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
        if isinstance(action, argparse._AppendAction) and "repeatable" not in help_text:
            parts.append("may be given more than once")
        required = "yes" if action.required or not action.option_strings else ""
        default = action.default
        shown = (
            f"`{default}`"
            if default not in (None, [], False, argparse.SUPPRESS) and action.nargs != 0
            else ""
        )
        rows.append(f"| `{_argument_name(action)}` | {required} | {shown} | {'; '.join(parts)} |")
    return rows


def render_cli() -> str:
    """The CLI reference, from the argument parser itself: every command, argument and help.

    Each (sub)command gets its one-line help, its usage and a table of its arguments. An argument
    without help of its own borrows the help of the same option in another command (``--as-of``
    means the evaluation date everywhere).
    """
    from pbr import cli

    parser = cli._parser()
    commands = list(_commands(parser))
    shared = _shared_help(commands)
    out = [
        "# Command-line reference",
        "",
        '!!! note "Generated"',
        f"    {GENERATED.format(what='pbr.cli')}",
        "",
        (cli.__doc__ or "").strip().replace("``", "`"),
        "",
        "Every command takes `-h` / `--help` to print its usage. The commands:",
        "",
        "| Command | What it does |",
        "|---|---|",
        *(
            f"| [`{name}`](#{name.replace(' ', '-')}) | {_cell(text)} |"
            for name, text, _ in commands
        ),
        "",
    ]
    for name, text, sub in commands:
        sub.formatter_class = functools.partial(sub.formatter_class, width=CLI_WIDTH)
        level = "#" * (name.count(" ") + 1)
        out += [
            f"{level} `{name}` {{#{name.replace(' ', '-')}}}",
            "",
            (text[:1].upper() + text[1:] + ".") if text else "",
            "",
            "```text",
            sub.format_usage().strip(),
            "```",
            "",
        ]
        if sub.epilog:  # its exit statuses
            out += [_cell(sub.epilog), ""]
        if any(
            not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
            for a in sub._actions
        ):
            out += [*_argument_rows(sub, shared), ""]
    return "\n".join(out)


def render_rules(rules: RuleSet = PHASE_ONE, known: Mapping[str, Source] | None = None) -> str:
    """The rules reference page for `rules`: parameters, interpretations and sources."""
    known = sources() if known is None else known
    out: list[str] = [
        f"# Rules reference: {rules.title}",
        "",
        '!!! note "Generated"',
        f"    {GENERATED.format(what=f'pbr.rules.{constant(rules)}')}",
        "",
        "The rule set is data: dated, cited parameters and named interpretations. "
        "`pbr rules` prints the same content; `pbr rules --format json` gives it as JSON.",
        "",
        "| | |",
        "|---|---|",
        f"| Rule set | `{rules.rules_version}` |",
        f"| Specification | {rules.spec} |",
        f"| Families attached | {_long_date(rules.attached_from)} to "
        f"{_long_date(rules.attached_to)} |",
        f"| Financial years | {', '.join(str(y) for y in rules.years)} |",
        f"| Data file SHA-256 | `{rules.data_sha256}` |",
        "",
        "## Money by financial year of attachment",
        "",
        "The amounts in force in each financial year in which a family can be attached"
        + (
            " (interpretation [`rates_by`](#interpretation-rates_by) decides which year's "
            "results rates a family gets)."
            if "rates_by" in rules.interpretations
            else "."
        ),
        "",
        *_money_table(rules),
        "",
        "## Parameters",
        "",
        "Each value is in force from the start of the financial year shown until a later row "
        "replaces it. Sources are tags of the [source list](#sources). Status:",
        "",
        *(f"- **{status}**: {meaning}." for status, meaning in _STATUS.items()),
        "",
        "Some tags name pbr's own specifications, not sources: "
        + ", ".join(f"`{t}`" for t, s in known.items() if s.kind == "pbr specification")
        + ". A value citing one rests on the behaviour pbr chose, written there, where no listed "
        "source states it (tf-rules.md marks most such values UNCERTAIN); where the choice "
        "matters, an interpretation names it.",
        "",
    ]
    for parameter in rules.parameters.values():
        out += [
            f"### `{parameter.name}` {{#{_parameter_anchor(parameter.name)}}}",
            "",
            parameter.description,
            "",
            f"Unit: `{parameter.unit}` ({_UNITS.get(parameter.unit, parameter.unit)})",
            "",
            *_value_rows(parameter),
            "",
        ]
    out += [
        "## Interpretations",
        "",
        "Where the guidance can be read more than one way, the rule set names the reading. "
        "Every decision lists the interpretations it used. Switch one in Python with "
        f"`pbr.rules.{constant(rules)}.with_interpretations(ID=VALUE)` or on the "
        "command line with "
        "`--interpretation ID=VALUE`.",
        "",
    ]
    for interpretation in rules.interpretations.values():
        out += [
            f"### `{interpretation.id}` {{#{_interpretation_anchor(interpretation.id)}}}",
            "",
            interpretation.description,
            "",
            f"Default: `{interpretation.default}`. Source: {_cell(interpretation.source)}.",
            "",
            "| Value | Meaning |",
            "|---|---|",
        ]
        for value, meaning in interpretation.values.items():
            mark = " (default)" if value == interpretation.default else ""
            out.append(f"| `{value}`{mark} | {_cell(meaning)} |")
        alternatives = [v for v in interpretation.values if v != interpretation.default]
        out += [
            "",
            "```text",
            *(f"--interpretation {interpretation.id}={value}" for value in alternatives),
            "```",
            "",
        ]
    out += [
        "## Sources",
        "",
        "The cited sources (the source list of the programme's rules reference), from "
        "`pbr.rules.sources()`. Addresses are given as written there, without a scheme.",
        "",
        render_sources(known, rules),
        "",
    ]
    return "\n".join(out)


def reason_code_groups() -> list[tuple[str, list[str]]]:
    """Reason codes grouped under the comments of the `ReasonCode` literal, in their order.

    Codes the comments do not place (there should be none) come last under "Other".
    """
    groups: list[tuple[str, list[str]]] = []
    inside = False
    for raw in inspect.getsource(pbr.reasons).splitlines():
        line = raw.strip()
        if line.startswith("ReasonCode = Literal["):
            inside = True
            continue
        if not inside:
            continue
        if line == "]":
            break
        if line.startswith("#"):
            title = line.lstrip("# ").strip()
            groups.append((title[:1].upper() + title[1:], []))
        elif line.startswith('"'):
            if not groups:
                groups.append(("Codes", []))
            groups[-1][1].append(line.strip('",'))
    placed = {code for _, codes in groups for code in codes}
    other = [code for code in pbr.reasons.REASON_CODES if code not in placed]
    if other:
        groups.append(("Other", other))
    return [(title, codes) for title, codes in groups if codes]


def render_reason_codes(codes: Mapping[str, str] | None = None) -> str:
    """The reason-codes page: one heading per code with its meaning."""
    codes = pbr.reasons.REASON_CODES if codes is None else codes
    out = [
        "# Reason codes",
        "",
        '!!! note "Generated"',
        f"    {GENERATED.format(what='pbr.REASON_CODES')}",
        "",
        "Every reason in a decision carries a stable machine code, the rule it applied, that "
        "rule's source tags, a message for people and the numbers it compared. **Key on the "
        "code, never on the message**: messages may be reworded in any release, while renaming "
        "or removing a code is a breaking change.",
        "",
        "A reason whose evidence depends on the school terms' dates (phase one's education "
        "reasons; a plan measure over `sustain_terms`, or of a school-term indicator over "
        "days, weeks or months) names a council's own term calendar "
        "(`RuleSet.with_term_calendar`) in `compared.term_calendar` and at the end of its "
        "message, `(council term calendar)`, when a term it read, or one the default dates "
        "would have had it read, is one whose dates the calendar overrides; under the default "
        "calendar, or reading only terms at their default dates, it has no such key.",
        "",
        "```python",
        'for reason in decision.results["continuous_employment"].reasons:',
        "    reason.code, reason.rule, reason.source, reason.compared",
        "```",
        "",
    ]
    for title, group in reason_code_groups():
        listed = [code for code in group if code in codes]
        if not listed:
            continue
        out += [f"## {title}", ""]
        for code in listed:
            out += [f"### `{code}` {{#{code}}}", "", codes[code], ""]
    renamed = pbr.reasons.RENAMED_REASON_CODES
    if renamed:
        out += [
            "## Renamed codes",
            "",
            "Codes renamed so that a code names its test, not the threshold the rule set holds "
            "(the phase-one specification gives some by their old names). Decisions read back "
            "(`pbr replay`, `Decision.model_validate_json`) still accept an old code for one "
            "release and read it as the new one; a system keyed on an old code should move to "
            "the new (`pbr.reasons.RENAMED_REASON_CODES`).",
            "",
            "| old code | now |",
            "|---|---|",
            *(f"| `{old}` | [`{new}`](#{new}) |" for old, new in renamed.items()),
            "",
        ]
    return "\n".join(out)


def render_schema() -> str:
    """The family record's JSON Schema, as `pbr schema` prints it."""
    from pbr.schemas import family_schema

    return json.dumps(family_schema(), indent=2)


def render_family_record(page: str, schema: str) -> str:
    """The hand-written family-record page with the JSON Schema put in at its marker."""
    if SCHEMA_MARKER not in page:
        raise ValueError(f"family-record.md has no {SCHEMA_MARKER} marker for the JSON Schema")
    block = "\n".join(
        [
            f"Download it as [`{SCHEMA_FILE}`]({SCHEMA_FILE}), or print it with `pbr schema`.",
            "",
            '??? abstract "The JSON Schema of the family record (generated)"',
            "",
            "    ```json",
            *(f"    {line}" if line else "" for line in schema.splitlines()),
            "    ```",
        ]
    )
    return page.replace(SCHEMA_MARKER, block)


def render_changelog(path: Path = CHANGELOG) -> str:
    """The changelog page: the repository's CHANGELOG.md, or a placeholder if it has none yet."""
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return "# Changelog\n\nNothing has been released yet: the changelog starts with the first release.\n"


def main() -> None:
    """Write the generated pages into the build (not into docs/)."""
    import mkdocs_gen_files

    for rules in RULE_SETS[1:]:
        with mkdocs_gen_files.open(rules_page(rules), "w") as f:
            f.write(render_rules(rules))
    with mkdocs_gen_files.open("reference/cli.md", "w") as f:
        f.write(render_cli())
    with mkdocs_gen_files.open("reference/rules.md", "w") as f:
        f.write(render_rules())
    with mkdocs_gen_files.open("reference/reason-codes.md", "w") as f:
        f.write(render_reason_codes())

    schema = render_schema()
    with mkdocs_gen_files.open(SCHEMA_FILE, "w") as f:
        f.write(schema + "\n")
    with mkdocs_gen_files.open("family-record.md", "r") as f:
        page = f.read()
    with mkdocs_gen_files.open("family-record.md", "w") as f:
        f.write(render_family_record(page, schema))

    with mkdocs_gen_files.open("changelog.md", "w") as f:
        f.write(render_changelog())


if __name__ in {"__main__", "<run_path>"}:
    main()
