"""The documentation: it builds strictly and offline, its examples run, its references are complete.

Conventions for pages under ``docs/`` (this file enforces them):

* every `` ```python `` block is run, in page order, in one namespace per page, in a scratch
  directory; mark a fragment that is not meant to run `` ```{.python .no-run} ``;
* the scratch directory holds a copy of ``examples/``, so pages may use it as from the repository
  root;
* every `` ```console `` block is run too: each ``$ command`` line goes to bash (with ``pbr`` on
  the path) and the lines after it, up to the next ``$``, are its expected standard output;
* a `` ```text `` block whose first line is ``# output``, coming next after a python block, is what
  that block must print (the marker line excluded; trailing spaces and blank lines ignored);
* every `` ```json `` block that holds a ``family_id`` is a family record and must be valid.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

from pbr.reasons import REASON_CODES
from pbr.records import Family
from pbr.rules import PHASE_ONE, RULE_SETS, RuleSet, sources
from pbr.schemas import (
    DECISION_FORMAT_VERSION,
    RECORD_FORMAT_VERSION,
    TERM_CALENDAR_FORMAT_VERSION,
    family_schema,
)
from tests.scripts import load_script

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GEN_SCRIPT = DOCS / "_gen" / "gen_reference.py"
OUTPUT_MARKER = "# output"
QUIET_MKDOCS = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
"""Silence the theme's and a plugin's end-of-life banners (they are not build warnings)."""

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    lang: str
    classes: tuple[str, ...]
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.lang in {"python", "console"} and "no-run" not in self.classes

    @property
    def is_output(self) -> bool:
        first = self.code.split("\n", 1)[0].strip()
        return self.lang == "text" and first == OUTPUT_MARKER

    @property
    def output(self) -> str:
        return self.code.split("\n", 1)[1] if "\n" in self.code else ""


def _info(info: str) -> tuple[str, tuple[str, ...]]:
    """The language and classes of a fence's info string: ``python`` or ``{.python .no-run}``."""
    if info.startswith("{"):
        classes = tuple(w[1:] for w in info.strip("{}").split() if w.startswith("."))
        return (classes[0] if classes else ""), classes[1:]
    words = info.split()
    return (words[0] if words else ""), ()


def fenced_blocks(page: Path) -> list[Block]:
    """Every fenced block of `page`, in order (fences may be indented, as inside admonitions)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        lang, classes = _info(opening["info"])
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if (
                closing is not None
                and not closing["info"]
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
            ):
                break
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        blocks.append(Block(page, i + 1, lang, classes, "\n".join(body)))
        i = j + 1
    return blocks


def doc_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_gen" not in p.relative_to(DOCS).parts)


def pages_with_examples() -> list[Path]:
    return [p for p in doc_pages() if any(b.runnable for b in fenced_blocks(p))]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _assert_same(actual: str, expected: str, where: str) -> None:
    actual, expected = _normalise(actual), _normalise(expected)
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(),
                actual.splitlines(),
                "shown in the docs",
                "printed",
                lineterm="",
            )
        )
        pytest.fail(f"{where}: the output differs from the page\n{diff}")


def _console_steps(code: str) -> Iterator[tuple[str, str]]:
    """Each ``$ command`` of a console block with the output lines shown after it."""
    command: str | None = None
    shown: list[str] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(shown)
            command, shown = line[2:], []
        elif command is not None:
            shown.append(line)
    if command is not None:
        yield command, "\n".join(shown)


def _pbr_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``pbr`` is this interpreter's, however the package was installed."""
    bin_dir = tmp_path / "_bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pbr"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pbr.cli "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def gen() -> types.ModuleType:
    return load_script(GEN_SCRIPT)


# --- (a) the site builds ------------------------------------------------------------------------


def test_site_builds_strictly_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, **QUIET_MKDOCS},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, (
        f"mkdocs build --strict failed after {elapsed:.1f} s\n{result.stdout}\n{result.stderr}"
    )
    assert (site / "index.html").is_file()
    for page in ["quickstart", "concepts", "family-record", "api", "changelog"]:
        assert (site / page / "index.html").is_file(), page
    for page in ["rules", "reason-codes", "cli"]:
        assert (site / "reference" / page / "index.html").is_file(), page
    for rules in RULE_SETS:
        generated = load_script(GEN_SCRIPT).rules_page(rules).removesuffix(".md")
        assert (site / generated / "index.html").is_file(), rules.programme
    schema = json.loads((site / "family-record.schema.json").read_text(encoding="utf-8"))
    assert schema == family_schema()
    assert "pbr:json-schema" not in (site / "family-record" / "index.html").read_text("utf-8")


def test_api_page_shows_doctests_as_code() -> None:
    module = load_script(DOCS / "_gen" / "griffe_doctests.py")
    text = "Summary.\n\n>>> 1 + 1\n2\n\nMore.\n\nExamples:\n    >>> 2\n    2"
    fenced: str = module.fence_doctests(text)
    assert fenced == (
        "Summary.\n\n```pycon\n>>> 1 + 1\n2\n```\n\nMore.\n\nExamples:\n    >>> 2\n    2"
    )


def test_config_needs_no_network() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "font: false" in config
    for needs_network in ("import:", "inventories:", "- social", "privacy", "cdn."):
        assert needs_network not in config, needs_network


# --- (b) the examples run and print what the pages show -------------------------------------------


def test_quickstart_has_examples() -> None:
    assert DOCS / "quickstart.md" in pages_with_examples()


@pytest.mark.parametrize("page", pages_with_examples(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # pages may use the bundled examples as from the repository root (as the README does)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = _pbr_on_path(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    blocks = fenced_blocks(page)
    for n, block in enumerate(blocks):
        if not block.runnable:
            continue
        if block.lang == "console":
            for command, shown in _console_steps(block.code):
                result = subprocess.run(
                    ["bash", "-c", command],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=False,
                    timeout=120,
                )
                if result.stderr and not result.stdout:
                    pytest.fail(f"{block.where}: $ {command}\n{result.stderr}")
                _assert_same(result.stdout, shown, f"{block.where}: $ {command}")
            continue
        printed = StringIO()
        with redirect_stdout(printed):
            exec(compile(block.code, block.where, "exec"), namespace)
        following = blocks[n + 1] if n + 1 < len(blocks) else None
        if following is not None and following.is_output:
            _assert_same(printed.getvalue(), following.output, block.where)


_SHOWN = re.compile(r"^(?P<expr>[^#=\s][^#]*?)  # (?P<shown>Decimal\('[^']*'\)|'[^']*')")
"""A README line ``expression  # value``: the comment says what the expression gives."""


def test_readme_python_runs_from_the_repository_root_and_its_comments_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's snippet ran ``open("family.json")`` (no such file) and said 'met' for not_met."""
    from decimal import Decimal

    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    blocks = [b for b in fenced_blocks(ROOT / "README.md") if b.lang == "python"]
    assert blocks, "the README has a Python example"
    checked = 0
    for block in blocks:
        lines = []
        for line in block.code.splitlines():
            comment = _SHOWN.match(line)
            if comment is not None:  # check the value the comment gives, then go on
                line = f"_said({comment['expr']}, {comment['shown']}, {line!r})"
                checked += 1
            lines.append(line)
        namespace: dict[str, object] = {"__name__": "__readme__", "Decimal": Decimal}

        def said(value: object, shown: object, line: str) -> None:
            assert value == shown, f"README.md: {line}: the value is {value!r}"

        namespace["_said"] = said
        with redirect_stdout(StringIO()):
            exec(compile("\n".join(lines), block.where, "exec"), namespace)
    assert checked >= 3


def test_output_blocks_follow_python_blocks() -> None:
    for page in doc_pages():
        blocks = fenced_blocks(page)
        for n, block in enumerate(blocks):
            if block.is_output:
                before = blocks[n - 1] if n else None
                assert before is not None, block.where
                assert before.lang == "python", f"{block.where}: # output after a non-python block"
                assert before.runnable, f"{block.where}: # output after a block that is not run"


def test_json_family_records_in_the_docs_are_valid() -> None:
    checked = 0
    for page in doc_pages():
        for block in fenced_blocks(page):
            if block.lang == "json" and '"family_id"' in block.code:
                Family.model_validate_json(block.code)
                checked += 1
    assert checked


# --- (c) the generated reference pages are complete ----------------------------------------------


def test_reason_codes_page_has_every_code(gen: types.ModuleType) -> None:
    page: str = gen.render_reason_codes()
    headed = re.findall(r"^### `([A-Z0-9_]+)`", page, flags=re.MULTILINE)
    assert headed == [c for c in REASON_CODES if c in headed]
    assert set(headed) == set(REASON_CODES)
    for code, meaning in REASON_CODES.items():
        assert meaning in page, code


def _sections(page: str) -> dict[str, str]:
    """The page's ``### `name` {#anchor}`` sections keyed by anchor."""
    parts = re.split(r"^### `[^`]+` \{#([^}]+)\}$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("rules", RULE_SETS, ids=lambda r: r.programme)
def test_rules_page_has_every_parameter_value(gen: types.ModuleType, rules: RuleSet) -> None:
    page: str = gen.render_rules(rules)
    sections = _sections(page)
    for name, parameter in rules.parameters.items():
        section = sections[f"parameter-{name}"]
        assert parameter.description in section, name
        assert f"`{parameter.unit}`" in section, name
        for dated in parameter.values:
            row = (
                f"| {dated.year} | {gen.format_value(parameter.unit, dated.value)} "
                f"| {dated.source_text} | {dated.status} |"
            )
            assert row in section, (name, str(dated.year))


@pytest.mark.parametrize("rules", RULE_SETS, ids=lambda r: r.programme)
def test_rules_page_has_every_interpretation(gen: types.ModuleType, rules: RuleSet) -> None:
    page: str = gen.render_rules(rules)
    sections = _sections(page)
    for key, interpretation in rules.interpretations.items():
        section = sections[f"interpretation-{key}"]
        assert interpretation.description in section, key
        assert f"Default: `{interpretation.default}`" in section, key
        assert f"| `{interpretation.default}` (default) |" in section, key
        for value in interpretation.values:
            assert f"| `{value}`" in section, (key, value)
            if value != interpretation.default:
                assert f"--interpretation {key}={value}" in section, (key, value)


def test_cli_reference_has_every_command(gen: types.ModuleType) -> None:
    import argparse

    from pbr.cli import _parser

    page: str = gen.render_cli()
    commands = list(gen._commands(_parser()))
    names = {name for name, _, _ in commands}
    assert {"pbr evaluate", "pbr explain", "pbr schema", "pbr rules", "pbr ledger verify"} <= names
    for name, text, parser in commands:
        level = "#" * (name.count(" ") + 1)
        assert f"\n{level} `{name}` {{#{name.replace(' ', '-')}}}\n" in page, name
        assert f"| [`{name}`](#{name.replace(' ', '-')}) |" in page, name
        assert text, f"{name} has no help line"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert f"| `{gen._argument_name(action)}` |" in page, (name, action.dest)


def test_cli_reference_borrows_help_and_does_not_depend_on_the_terminal(
    gen: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    narrow: str = gen.render_cli()
    monkeypatch.setenv("COLUMNS", "300")
    assert gen.render_cli() == narrow
    explain = narrow.split("## `pbr explain`", 1)[1].split("\n## ", 1)[0]
    assert "| `--as-of AS_OF` | yes |  | evaluation date, YYYY-MM-DD |" in explain


def _nav() -> list[object]:
    """The nav of mkdocs.yml (its ``!!python/name`` tags read as plain strings)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    nav: list[object] = config["nav"]
    return nav


def _pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _pages(value)]
    if isinstance(nav, list):
        return [page for item in nav for page in _pages(item)]
    return []


def test_every_rule_set_has_a_page_in_the_nav(gen: types.ModuleType) -> None:
    hook = load_script(DOCS / "_gen" / "nav_hook.py")
    assert "docs/_gen/nav_hook.py" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = _pages(hook.with_rule_set_pages(_nav(), hook.rule_set_pages()))
    for rules in RULE_SETS:
        assert pages.count(gen.rules_page(rules)) == 1, rules.programme
    assert "reference/cli.md" in pages


def test_nav_hook_adds_a_new_programme_after_the_last_rules_page() -> None:
    hook = load_script(DOCS / "_gen" / "nav_hook.py")
    nav = [
        {"Home": "index.md"},
        {"Reference": [{"Rules": "reference/rules.md"}, {"Command line": "reference/cli.md"}]},
    ]
    added = hook.with_rule_set_pages(
        nav, [("Rules", "reference/rules.md"), ("Rules (new)", "reference/rules-new.md")]
    )
    assert added == [
        {"Home": "index.md"},
        {
            "Reference": [
                {"Rules": "reference/rules.md"},
                {"Rules (new)": "reference/rules-new.md"},
                {"Command line": "reference/cli.md"},
            ]
        },
    ]
    assert nav[1] == {
        "Reference": [{"Rules": "reference/rules.md"}, {"Command line": "reference/cli.md"}]
    }


def test_rules_pages_name_the_constant_of_each_rule_set(gen: types.ModuleType) -> None:
    import pbr.rules

    for rules in RULE_SETS:
        name = gen.constant(rules)
        assert getattr(pbr.rules, name) is rules
        assert f"pbr.rules.{name}" in gen.render_rules(rules)


def test_rules_page_has_every_source(gen: types.ModuleType) -> None:
    page: str = gen.render_rules()
    cited = {tag for p in PHASE_ONE.parameters.values() for v in p.values for tag in v.source}
    for tag, source in sources().items():
        assert f"\n| {tag} | " in page, tag
        assert gen._cell(source.kind) in page, tag
    assert cited <= set(sources())


def test_family_record_page_gets_the_schema(gen: types.ModuleType) -> None:
    schema: str = gen.render_schema()
    assert json.loads(schema) == family_schema()
    page = (DOCS / "family-record.md").read_text(encoding="utf-8")
    rendered: str = gen.render_family_record(page, schema)
    assert gen.SCHEMA_MARKER not in rendered
    assert '"$defs"' in rendered
    with pytest.raises(ValueError, match="marker"):
        gen.render_family_record("# no marker here\n", schema)


SCHEMA_VERSIONS = {
    "family-record": RECORD_FORMAT_VERSION,
    "term-calendar": TERM_CALENDAR_FORMAT_VERSION,
    "decision": DECISION_FORMAT_VERSION,
    "rejection": DECISION_FORMAT_VERSION,
}
"""Each published schema's name in its ``$id`` and the format version pbr prints for it."""


def test_the_docs_name_each_schema_at_the_version_pbr_prints() -> None:
    """family-record.md said ``urn:pbr:schema:family-record:1.2`` while `pbr schema` printed 1.3."""
    named = 0
    for page in [*doc_pages(), ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        for found in re.finditer(r"urn:pbr:schema:([a-z-]+):([0-9.]*[0-9])", text):
            name, version = found.groups()
            line = text.count("\n", 0, found.start()) + 1
            assert SCHEMA_VERSIONS.get(name) == version, f"{page.name}:{line}: {found.group()}"
            named += 1
    assert named
    record_page = (DOCS / "family-record.md").read_text(encoding="utf-8")
    history = re.search(r"`x-format-version`: (.*?)\)\.", record_page, flags=re.DOTALL)
    assert history is not None, "family-record.md tells the format's versions"
    last = re.findall(r"(?<![0-9.])([0-9]+\.[0-9]+)(?= )", history.group(1))[-1]
    assert last == RECORD_FORMAT_VERSION, history.group(1)


def test_changelog_page(gen: types.ModuleType, tmp_path: Path) -> None:
    changelog = ROOT / "CHANGELOG.md"
    if changelog.is_file():
        assert gen.render_changelog(changelog) == changelog.read_text(encoding="utf-8")
    placeholder: str = gen.render_changelog(tmp_path / "CHANGELOG.md")
    assert placeholder.startswith("# Changelog")


def test_the_cap_reason_is_described_for_every_programme() -> None:
    # phase one's £4,000, phase two's £1,800 and Supporting Families' £800 all use CAP_REACHED
    meaning = REASON_CODES["CAP_REACHED"]
    assert "£" not in meaning
    assert "programme" in meaning


def test_reason_codes_page_maps_every_renamed_code(gen: types.ModuleType) -> None:
    """The specification names some codes by their old names; the page did not say what they became."""
    from pbr.reasons import RENAMED_REASON_CODES

    page: str = gen.render_reason_codes()
    assert "## Renamed codes" in page
    for old, new in RENAMED_REASON_CODES.items():
        assert f"| `{old}` | [`{new}`](#{new}) |" in page
