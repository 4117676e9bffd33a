"""The compact identifier set used for duplicate checks at national scale."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pbr._seen import SeenIds


@given(st.lists(st.text(min_size=1, max_size=12), max_size=300))
def test_behaves_like_a_set(ids: list[str]) -> None:
    seen = SeenIds(capacity=4)
    reference: set[str] = set()
    for identifier in ids:
        assert seen.add(identifier) == (identifier not in reference)
        reference.add(identifier)
    assert len(seen) == len(reference)
    assert all(i in seen for i in reference)
    assert 123 not in seen
