"""The compact identifier set used for duplicate checks at national scale."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbr._seen import _BUCKET, SeenIds, _DiskTable


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
    seen = SeenIds(capacity=4, memory_slots=8)
    assert all(seen.add(f"F{i}") for i in range(1000))
    assert seen._disk is not None
    assert len(seen._disk._tables) == 3  # 64 keys fill the first table, 512 the second
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
)
def test_adding_many_at_once_answers_as_adding_one_at_a_time(
    batches: list[list[str]], memory_slots: int
) -> None:
    """The positions already seen, in memory, while spilling and on disk."""
    one = SeenIds(capacity=4, memory_slots=memory_slots)
    many = SeenIds(capacity=4, memory_slots=memory_slots)
    for ids in batches:
        expected = {i for i, identifier in enumerate(ids) if not one.add(identifier)}
        assert many.add_all(ids) == expected
        assert len(many) == len(one)


def test_a_full_bucket_passes_keys_on_to_the_next_and_wraps_round() -> None:
    """Keys sharing a home bucket fill it and go on to the next, the last bucket to the first."""
    disk = _DiskTable(64)  # 8 buckets of 8 slots; a key's home is its last three bits
    same_home = [7 + 8 * i for i in range(1, 12)]  # all at home in the last bucket
    assert all(disk.add(key) for key in same_home)
    assert not any(disk.add(key) for key in same_home)
    assert all(disk.holds(key) for key in same_home)
    assert not disk.holds(7)
    assert not disk.holds(7 + 8 * 12)
    assert disk.add(8)  # at home in the first bucket, where three keys went round to
    assert disk.holds(8)


def test_the_disk_table_grows_into_a_new_table_and_still_finds_the_old_keys() -> None:
    disk = _DiskTable(16)
    keys = list(range(1, 200))
    assert all(disk.add(key) for key in keys)
    assert len(disk._tables) == 3  # 8 keys fill the first (16 slots), 64 the second
    assert not any(disk.add(key) for key in keys)
    assert all(disk.holds(key) for key in keys)
    assert not disk.holds(200)


@given(
    st.sets(st.integers(1, (1 << 64) - 1), max_size=40),
    st.sets(st.integers(1, (1 << 64) - 1), max_size=10),
    st.sampled_from([1, 2, 1024]),
)
def test_filling_a_table_at_once_finds_what_adding_one_by_one_finds(
    keys: set[int], others: set[int], window: int
) -> None:
    """Every key found, no other, the count kept: across windows and round the last bucket."""
    import pbr._seen as seen_module

    wanted = sorted(keys)
    with mock.patch.object(seen_module, "_WINDOW", window):
        disk = _DiskTable(128)  # 16 buckets: keys share homes and pass the last bucket
        disk.fill([0, *wanted, 0])  # slots of a memory table: 0 is none
    assert disk._count == len(wanted)
    assert all(disk.holds(key) for key in wanted)
    assert not any(disk.holds(key) for key in others - keys)
    assert not any(disk.add(key) for key in wanted)


def test_filling_passes_a_full_last_bucket_round_to_the_first() -> None:
    disk = _DiskTable(64)  # 8 buckets of 8 slots
    same_home = [7 + 8 * i for i in range(1, 12)]  # eleven keys at home in the last bucket
    disk.fill([*same_home, 8])  # and one at home in the first
    assert all(disk.holds(key) for key in [*same_home, 8])
    assert not disk.holds(7)
    first = _BUCKET.unpack(os.pread(disk._fd, _BUCKET.size, 0))[::2]  # keys, not their lines
    assert sorted(k for k in first if k) == sorted([8, *same_home[8:]])


@given(
    st.lists(
        st.tuples(
            st.sampled_from([f"F{i}" for i in range(60)]),
            st.integers(0, (1 << 64) - 1) | st.integers(0, 50),
        ),
        max_size=200,
    ),
    st.sampled_from([1 << 18, 64, 8]),
)
def test_each_identifier_keeps_the_line_it_was_first_given_on(
    given: list[tuple[str, int]], memory_slots: int
) -> None:
    """In memory (a line past 32 bits too), while spilling and on disk: the first line stays."""
    seen = SeenIds(capacity=4, memory_slots=memory_slots)
    first: dict[str, int] = {}
    for identifier, line in given:
        assert seen.add(identifier, line) == (identifier not in first)
        first.setdefault(identifier, line)
        assert seen.first_line(identifier) == first[identifier]
    assert all(seen.first_line(i) == line for i, line in first.items())
    assert seen.first_line("not given") is None


@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from([f"F{i}" for i in range(40)]), st.integers(1, 1 << 40)),
            max_size=30,
        ),
        max_size=12,
    ),
    st.sampled_from([1 << 18, 64, 8]),
)
def test_adding_many_at_once_keeps_the_lines_adding_one_at_a_time_keeps(
    batches: list[list[tuple[str, int]]], memory_slots: int
) -> None:
    one = SeenIds(capacity=4, memory_slots=memory_slots)
    many = SeenIds(capacity=4, memory_slots=memory_slots)
    for batch in batches:
        for identifier, line in batch:
            one.add(identifier, line)
        many.add_all([i for i, _ in batch], [line for _, line in batch])
    for identifier in {i for batch in batches for i, _ in batch}:
        assert many.first_line(identifier) == one.first_line(identifier)


def test_a_spilled_set_names_the_first_line_of_each_identifier() -> None:
    seen = SeenIds(capacity=4, memory_slots=8)
    assert all(seen.add(f"F{i}", 10 + i) for i in range(1000))
    assert seen._disk is not None
    assert not seen.add("F7", 5000)
    assert [seen.first_line(f"F{i}") for i in (0, 7, 999)] == [10, 17, 1009]
    assert seen.first_line("F1000") is None


def test_adding_many_needs_a_line_for_each() -> None:
    with pytest.raises(ValueError, match="one line for each"):
        SeenIds().add_all(["F1", "F2"], [1])
