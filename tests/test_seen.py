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


@given(
    st.lists(
        st.lists(st.sampled_from([f"F{i}" for i in range(40)] + ["é", ""]), max_size=30),
        max_size=12,
    ),
    st.sampled_from([1 << 18, 64, 8]),
    st.sampled_from([500, 3]),
)
def test_adding_many_at_once_answers_as_adding_one_at_a_time(
    batches: list[list[str]], memory_slots: int, per_query: int
) -> None:
    """The positions already seen, in memory, while spilling and on disk (queries cut small)."""
    import pbr._seen

    one = SeenIds(capacity=4, memory_slots=memory_slots)
    many = SeenIds(capacity=4, memory_slots=memory_slots)
    saved = pbr._seen._PER_QUERY
    pbr._seen._PER_QUERY = per_query
    try:
        for ids in batches:
            expected = {i for i, identifier in enumerate(ids) if not one.add(identifier)}
            assert many.add_all(ids) == expected
            assert len(many) == len(one)
    finally:
        pbr._seen._PER_QUERY = saved
