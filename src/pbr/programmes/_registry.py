"""The bundled programmes: one line each, id and the module that defines its `PROGRAMME`.

Kept free of imports, so that the record format can take its programme ids from here.
"""

from __future__ import annotations

BUNDLED: tuple[tuple[str, str], ...] = (
    ("tf-phase-1", "pbr.programmes.phase_one"),
    ("tf-phase-2", "pbr.programmes.phase_two"),
    ("supporting-families", "pbr.programmes.supporting_families"),
)
"""(programme id, module), oldest first: a family without a stated programme gets the first
whose attachment dates cover it."""
