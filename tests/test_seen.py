"""The compact identifier set used for duplicate checks at national scale."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pbr._seen import SeenIds


@given(
    st.lists(st.text(min_size=1, max_size=12), max_size=300),
    st.sampled_from([1 << 18, 64, 8]),
)
def test_behaves_like_a_set(ids: list[str], memory_slots: int) -> None:
    """In memory, and spilled to disk past `memory_slots` (small here so that it happens)."""
    seen = SeenIds(capacity=4, memory_slots=memory_slots)
    reference: set[str] = set()
    for identifier in ids:
        assert seen.add(identifier) == (identifier not in reference)
        reference.add(identifier)
    assert len(seen) == len(reference)
    assert all(i in seen for i in reference)
    assert 123 not in seen


def test_a_large_set_spills_to_disk_and_keeps_every_identifier() -> None:
    seen = SeenIds(capacity=4, memory_slots=256)
    assert all(seen.add(f"F{i}") for i in range(1000))
    assert seen._disk is not None
    assert len(seen._slots) == 0  # memory given back
    assert not any(seen.add(f"F{i}") for i in range(1000))
    assert len(seen) == 1000
    assert "F999" in seen
    assert "F1000" not in seen
