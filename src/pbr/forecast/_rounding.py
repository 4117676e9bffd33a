"""Whole pence from exact amounts so that every table adds up: controlled rounding.

Rounding each figure of a table on its own makes its rows drift from its totals (three thirds of
£2,632,000 shown as £877,333.33 add up to £2,631,999.99). `round_cells` rounds a whole table at
once: every cell goes to the penny below or above its exact value, every group of cells the
caller names (a row, a column, a year, a year's column) adds up to the penny below or above its
exact sum, and the grand total is the exact total rounded half up (so an exact total, such as a
council's maximum, is kept to the penny). Among the roundings that do this it prefers rounding
each cell to its nearest penny, then each group.

Such a rounding exists whenever the groups form two nested families, one "on the left" (rows,
and the years that hold them) and one "on the right" (columns, and the columns within a year):
the constraints are then those of a network flow, whose bounds are whole numbers, so a
whole-number solution exists (the exact amounts are a fractional one). It is found as a
minimum-cost flow: each cell's extra penny is one unit from its innermost left group to its
innermost right group; a group's penny below is compulsory (a large negative cost) and its penny
above optional.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from typing import TypeVar

from pbr.errors import ForecastError

__all__ = ["half_up", "largest_remainder", "round_cells"]

_CELL = 10**6  # the weight of a cell's preference for its nearest penny (a group: × its cells)
K = TypeVar("K", bound=Hashable)


def half_up(value: Fraction) -> int:
    """`value` rounded to a whole number, halves away from zero (the rule of `pbr.money`).

    >>> half_up(Fraction(5, 2)), half_up(Fraction(-5, 2)), half_up(Fraction(7, 3))
    (3, -3, 2)
    """
    if value < 0:
        return -math.floor(-value + Fraction(1, 2))
    return math.floor(value + Fraction(1, 2))


def largest_remainder(values: Sequence[Fraction], total: int | None = None) -> list[int]:
    """Whole numbers, each the floor or ceiling of its value, adding up to `total`.

    `total` defaults to the exact sum rounded half up; the largest fractional parts go up.

    >>> largest_remainder([Fraction(1, 3)] * 3)
    [1, 0, 0]
    >>> largest_remainder([Fraction(2, 3)] * 3)
    [1, 1, 0]
    """
    cells = dict(enumerate(values))
    rounded = round_cells(cells, {}, {}, total=total)
    return [rounded[i] for i in range(len(values))]


def round_cells(
    cells: Mapping[K, Fraction],
    left: Mapping[K, Sequence[Hashable]],
    right: Mapping[K, Sequence[Hashable]],
    *,
    total: int | None = None,
) -> dict[K, int]:
    """Round every cell to a whole number so that every named group stays within a unit.

    `left[key]` and `right[key]` give each cell's groups on each side, outermost first (a cell
    missing from a side has no group there); the groups of one side must nest (each group has one
    parent). Returns the whole number of every cell: the floor or ceiling of its value, with
    every group's sum the floor or ceiling of its exact sum and the grand total `total` (by
    default the exact sum rounded half up; it must be the floor or ceiling of the exact sum).

    >>> third = Fraction(1, 3)
    >>> cells = {(r, c): third for r in range(3) for c in range(3)}
    >>> rows = {key: (("row", key[0]),) for key in cells}
    >>> columns = {key: (("column", key[1]),) for key in cells}
    >>> out = round_cells(cells, rows, columns)
    >>> [sum(out[r, c] for c in range(3)) for r in range(3)], sum(out.values())
    ([1, 1, 1], 3)
    """
    exact = sum(cells.values(), Fraction(0))
    target = half_up(exact) if total is None else total
    if not math.floor(exact) <= target <= math.ceil(exact):
        raise ForecastError(f"a total of {target} is not a rounding of the exact sum {exact}")
    floors = {key: math.floor(value) for key, value in cells.items()}
    units = target - sum(floors.values())
    fractional = [key for key, value in cells.items() if value != floors[key]]
    if units == 0 or not fractional:
        return floors
    graph = _Graph()
    source, sink = graph.node(("source",)), graph.node(("sink",))
    planned: list[tuple[int, int, int, int]] = []  # (start, end, compulsory units, unused)
    optional: list[tuple[int, int, int, int]] = []  # (start, end, units, cost of each)
    inner: dict[str, dict[K, int]] = {}
    for side, paths in (("left", left), ("right", right)):
        sums: dict[Hashable, Fraction] = {}
        bases: dict[Hashable, int] = {}
        sizes: dict[Hashable, int] = {}
        parents: dict[Hashable, Hashable | None] = {}
        for key, value in cells.items():
            parent: Hashable | None = None
            for group in paths.get(key, ()):
                if parents.setdefault(group, parent) != parent:
                    raise ForecastError(f"{side} group {group!r} is not nested in one parent")
                sums[group] = sums.get(group, Fraction(0)) + value
                bases[group] = bases.get(group, 0) + floors[key]
                sizes[group] = sizes.get(group, 0) + (value != floors[key])
                parent = group
        nodes = {group: graph.node((side, group)) for group in sums}
        for group, exact_sum in sums.items():
            low = math.floor(exact_sum) - bases[group]
            high = math.ceil(exact_sum) - bases[group]
            parent = parents[group]
            if side == "left":
                start, end = (source if parent is None else nodes[parent]), nodes[group]
            else:
                start, end = nodes[group], (sink if parent is None else nodes[parent])
            planned.append((start, end, low, 0))
            weight = _CELL * max(sizes[group], 1)
            optional.append((start, end, high - low, _nearer(exact_sum, weight)))
        inner[side] = {key: nodes[paths[key][-1]] for key in cells if paths.get(key)}
    cell_arcs = []
    for key in fractional:
        start = inner["left"].get(key, source)
        end = inner["right"].get(key, sink)
        cell_arcs.append((key, (start, end, 1, _nearer(cells[key], _CELL))))
    # a compulsory unit must outweigh every preference a flow could collect
    big = 1 + sum(abs(c) * cap for _s, _e, cap, c in optional) + _CELL * 2 * len(fractional)
    for start, end, low, _ in planned:
        graph.edge(start, end, low, -big)
    for start, end, room, cost in optional:
        graph.edge(start, end, room, cost)
    edges = {key: graph.edge(*arc) for key, arc in cell_arcs}
    graph.flow(source, sink, units)
    out = dict(floors)
    for key, edge in edges.items():
        out[key] += graph.carried(edge)
    return out


def _nearer(exact: Fraction, weight: int) -> int:
    """The cost of taking the unit above: negative when it is the nearer (a half goes up)."""
    above = exact - math.floor(exact)
    return int((Fraction(1, 2) - above) * 2 * weight) - 1


class _Graph:
    """A small residual graph for successive shortest paths (Dijkstra on reduced costs)."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}
        self.arcs: list[list[int]] = []  # per node: arc numbers leaving it
        self.head: list[int] = []
        self.capacity: list[int] = []
        self.cost: list[int] = []
        self.original: list[int] = []

    def node(self, name: Hashable) -> int:
        self.index[name] = len(self.arcs)
        self.arcs.append([])
        return self.index[name]

    def edge(self, start: int, end: int, capacity: int, cost: int) -> int:
        """Add an arc (and its reverse); returns the arc's number."""
        number = len(self.head)
        for a, b, cap, c in ((start, end, capacity, cost), (end, start, 0, -cost)):
            self.arcs[a].append(len(self.head))
            self.head.append(b)
            self.capacity.append(cap)
            self.cost.append(c)
            self.original.append(cap)
        return number

    def carried(self, arc: int) -> int:
        return self.original[arc] - self.capacity[arc]

    def flow(self, source: int, sink: int, units: int) -> None:
        """Send `units` from `source` to `sink` at least cost, or raise if that cannot be done."""
        n = len(self.arcs)
        potential = self._bellman_ford(source)
        sent = 0
        while sent < units:
            distance: list[int | None] = [None] * n
            via: list[int] = [-1] * n
            distance[source] = 0
            queue = [(0, source)]
            while queue:
                d, u = heapq.heappop(queue)
                if d != distance[u]:
                    continue
                for arc in self.arcs[u]:
                    if self.capacity[arc] <= 0:
                        continue
                    v = self.head[arc]
                    nd = d + self.cost[arc] + potential[u] - potential[v]
                    known = distance[v]
                    if known is None or nd < known:
                        distance[v] = nd
                        via[v] = arc
                        heapq.heappush(queue, (nd, v))
            far = distance[sink]
            if far is None:
                raise RuntimeError("controlled rounding found no solution (a bug in pbr)")
            for v in range(n):
                # min(d[v], d[sink]) keeps every reduced cost non-negative, reached or not
                reached = distance[v]
                potential[v] += far if reached is None else min(reached, far)
            push = units - sent
            v = sink
            while v != source:
                arc = via[v]
                push = min(push, self.capacity[arc])
                v = self.head[arc ^ 1]
            v = sink
            while v != source:
                arc = via[v]
                self.capacity[arc] -= push
                self.capacity[arc ^ 1] += push
                v = self.head[arc ^ 1]
            sent += push

    def _bellman_ford(self, source: int) -> list[int]:
        """Least costs from `source` (the graph starts without negative cycles: it is layered)."""
        n = len(self.arcs)
        best: list[int | None] = [None] * n
        best[source] = 0
        for _ in range(n):
            changed = False
            for u in range(n):
                bu = best[u]
                if bu is None:
                    continue
                for arc in self.arcs[u]:
                    if self.capacity[arc] > 0:
                        v = self.head[arc]
                        bv = best[v]
                        if bv is None or bu + self.cost[arc] < bv:
                            best[v] = bu + self.cost[arc]
                            changed = True
            if not changed:
                break
        return [0 if b is None else b for b in best]
