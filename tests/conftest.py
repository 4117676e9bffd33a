"""Hypothesis profiles: `default` for every run, `thorough` for nightly (HYPOTHESIS_PROFILE=thorough),
`mutation` for scripts/mutation.py."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(  # scripts/mutation.py: many short runs, the same examples each time
    "mutation",
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_sessionstart(session: object) -> None:
    """Stop at once if a compiled rule module is older than its source: it would test old code."""
    import pytest

    from pbr import _native

    stale = _native.stale()
    if stale and os.environ.get(_native.PURE_PYTHON) != "1":
        pytest.exit(
            f"compiled modules older than their source: {', '.join(stale)}. Install pbr again "
            "(python -m pip install -e .) or run with PBR_PURE_PYTHON=1 to test the source.",
            returncode=3,
        )
