"""``pbr serve``: a JSON web API over the library, for systems that cannot ``import pbr``.

Install the extra (``pip install "pbr-claims[serve]"``) and run ``pbr serve``, or build the ASGI app
with `create_app` and serve it yourself. Every endpoint calls the library (`pbr.Family`,
`pbr.batch.evaluate_many_json`, `pbr.audit`), so a decision is exactly the JSON that
``pbr evaluate --format json`` writes. Nothing here is imported by ``import pbr``; FastAPI loads
only when `create_app` is first used.

>>> from pbr.serve import Settings
>>> Settings().allowed_hosts
('127.0.0.1', 'localhost', '::1')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from pbr.serve._app import create_app
    from pbr.serve._settings import Settings

__all__ = ["Settings", "create_app"]

_WHERE = {"Settings": "pbr.serve._settings", "create_app": "pbr.serve._app"}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'pbr.serve' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
