"""A mkdocs hook: every bundled rule set gets a page in the nav, listed or not in mkdocs.yml.

`gen_reference.py` writes a rules page for each rule set of ``pbr.rules.RULE_SETS``; this hook puts
the pages mkdocs.yml does not list yet into its "Reference" section, after the last rules page, so
that a new programme appears on the site without anyone editing the nav.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from pbr.rules import RULE_SETS

GEN_SCRIPT = Path(__file__).resolve().with_name("gen_reference.py")
REFERENCE = "Reference"


def _gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", GEN_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(entry: object) -> str | None:
    """The page of a nav entry (``{"title": "page.md"}`` or ``"page.md"``), or None for a section."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:
        (value,) = entry.values()
        return value if isinstance(value, str) else None
    return None


def with_rule_set_pages(nav: list[Any], pages: list[tuple[str, str]]) -> list[Any]:
    """Return `nav` with each ``(title, page)`` not already in it added to the Reference section.

    New pages go after the section's last ``reference/rules*`` page (or first, if it has none).
    """
    out: list[Any] = []
    for entry in nav:
        if isinstance(entry, dict) and isinstance(entry.get(REFERENCE), list):
            section: list[Any] = list(entry[REFERENCE])
            listed = {_page(item) for item in section}
            missing = [{title: page} for title, page in pages if page not in listed]
            rules_at = [
                i
                for i, item in enumerate(section)
                if (_page(item) or "").startswith("reference/rules")
            ]
            at = rules_at[-1] + 1 if rules_at else 0
            entry = {REFERENCE: [*section[:at], *missing, *section[at:]]}
        out.append(entry)
    return out


def rule_set_pages() -> list[tuple[str, str]]:
    """A nav title and the page of every bundled rule set, oldest first."""
    gen = _gen()
    return [(f"Rules ({rules.title})", gen.rules_page(rules)) for rules in RULE_SETS]


def on_config(config: Any) -> Any:
    """Mkdocs event: add the missing rule-set pages to the nav (when mkdocs.yml has a nav)."""
    if config.nav:
        config.nav = with_rule_set_pages(config.nav, rule_set_pages())
    return config
