"""A griffe extension for the API page: show docstring doctests as code, not as quotations.

pbr's docstrings carry runnable ``>>>`` examples in their body. Markdown would read each ``>>>``
line as a nested quotation, so this extension fences every doctest (from its ``>>>`` line to the next
blank line) as a ``pycon`` code block before mkdocstrings renders the docstring. Doctests already
inside a fence or a docstring section (indented) are left alone. The docstrings themselves are not
changed.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Return `text` with each unindented doctest wrapped in a ``pycon`` fence."""
    lines = text.splitlines()
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence or not line.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        example: list[str] = []
        while i < len(lines) and lines[i].strip():
            example.append(lines[i])
            i += 1
        out += ["```pycon", *example, "```"]
    return "\n".join(out)


class DoctestsAsCode(griffe.Extension):
    """Fence the doctests of every object's docstring when griffe loads it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite `obj`'s docstring text for rendering (the source is untouched)."""
        docstring = obj.docstring
        if docstring is not None and ">>>" in docstring.value:
            docstring.value = fence_doctests(docstring.value)
