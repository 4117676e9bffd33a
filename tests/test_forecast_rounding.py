"""Controlled rounding: every cell, every named group and the grand total within a unit."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbr.forecast._rounding import half_up, largest_remainder, round_cells

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

Key = tuple[int, int]


def groups(paths: Mapping[Key, Sequence[Hashable]]) -> dict[Hashable, list[Key]]:
    found: dict[Hashable, list[Key]] = {}
    for key, path in paths.items():
        for group in path:
            found.setdefault(group, []).append(key)
    return found


def assert_controlled(
    cells: Mapping[Key, Fraction],
    left: Mapping[Key, Sequence[Hashable]],
    right: Mapping[Key, Sequence[Hashable]],
    out: Mapping[Key, int],
    total: int,
) -> None:
    assert sum(out.values()) == total
    for key, value in cells.items():
        assert math.floor(value) <= out[key] <= math.ceil(value), (key, value, out[key])
    for side in (left, right):
        for group, keys in groups(side).items():
            exact = sum((cells[k] for k in keys), Fraction(0))
            shown = sum(out[k] for k in keys)
            assert math.floor(exact) <= shown <= math.ceil(exact), (group, exact, shown)


amounts = st.fractions(0, 5000, max_denominator=12) | st.integers(0, 5000).map(Fraction)


@st.composite
def tables(
    draw: st.DrawFn,
) -> tuple[dict[Key, Fraction], dict[Key, tuple[Hashable, ...]], dict[Key, tuple[Hashable, ...]]]:
    """A windows × columns table with the drawdown's groups: years, windows, columns, at risk."""
    rows = draw(st.integers(1, 14))
    columns = draw(st.integers(1, 6))
    years = draw(st.integers(1, rows))
    cells = {(r, c): draw(amounts) for r in range(rows) for c in range(columns)}
    year = {r: r * years // rows for r in range(rows)}
    risk = columns - 1 if columns > 1 and draw(st.booleans()) else None
    left: dict[Key, tuple[Hashable, ...]] = {}
    right: dict[Key, tuple[Hashable, ...]] = {}
    for r, c in cells:
        y = year[r]
        if c == risk:
            left[r, c] = (("all", y),)
            right[r, c] = (("column", c), ("year column", y, c))
        else:
            left[r, c] = (("all", y), ("forecast", y), ("window", r))
            right[r, c] = (("forecast",), ("column", c), ("year column", y, c))
    return cells, left, right


@settings(max_examples=200, deadline=None)
@given(tables())
def test_every_cell_and_group_is_within_a_unit_and_the_total_is_exact(
    table: tuple[
        dict[Key, Fraction], dict[Key, tuple[Hashable, ...]], dict[Key, tuple[Hashable, ...]]
    ],
) -> None:
    cells, left, right = table
    out = round_cells(cells, left, right)
    assert_controlled(cells, left, right, out, half_up(sum(cells.values(), Fraction(0))))


@settings(max_examples=100, deadline=None)
@given(tables(), st.booleans())
def test_a_given_total_is_kept(
    table: tuple[
        dict[Key, Fraction], dict[Key, tuple[Hashable, ...]], dict[Key, tuple[Hashable, ...]]
    ],
    up: bool,
) -> None:
    cells, left, right = table
    exact = sum(cells.values(), Fraction(0))
    total = math.ceil(exact) if up else math.floor(exact)
    assert_controlled(cells, left, right, round_cells(cells, left, right, total=total), total)


@given(st.lists(amounts, min_size=1, max_size=30))
def test_largest_remainder_adds_up_and_prefers_the_largest_fractions(
    values: list[Fraction],
) -> None:
    out = largest_remainder(values)
    assert sum(out) == half_up(sum(values, Fraction(0)))
    ups = [v - math.floor(v) for v, o in zip(values, out, strict=True) if o > v]
    downs = [v - math.floor(v) for v, o in zip(values, out, strict=True) if o < v]
    assert all(u >= d for u in ups for d in downs)


def test_three_thirds_of_the_maximum_add_up_to_it() -> None:
    """The issue's drift: thirds of £8,768,000 rounded alone add up to a penny too many."""
    third = Fraction(876_800_000, 3)
    alone = [half_up(third)] * 3
    assert sum(alone) == 876_800_001
    assert sum(largest_remainder([third] * 3)) == 876_800_000


def test_integral_cells_are_never_moved() -> None:
    cells = {
        (0, 0): Fraction(5),
        (0, 1): Fraction(1, 2),
        (1, 0): Fraction(1, 2),
        (1, 1): Fraction(7),
    }
    left = {k: (("row", k[0]),) for k in cells}
    right = {k: (("column", k[1]),) for k in cells}
    out = round_cells(cells, left, right)
    assert (out[0, 0], out[1, 1]) == (5, 7)
    assert out[0, 1] + out[1, 0] == 1


def test_groups_that_do_not_nest_and_impossible_totals_are_refused() -> None:
    cells = {(0, 0): Fraction(1, 2), (0, 1): Fraction(1, 2)}
    tangled = {(0, 0): ("a", "b"), (0, 1): ("c", "b")}
    with pytest.raises(ValueError, match="not nested"):
        round_cells(cells, tangled, {})
    with pytest.raises(ValueError, match="not a rounding"):
        round_cells(cells, {}, {}, total=3)


def test_half_up_matches_the_money_rule() -> None:
    assert [half_up(Fraction(n, 2)) for n in (-3, -1, 1, 3)] == [-2, -1, 1, 2]
