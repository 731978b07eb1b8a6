"""Where to draw each node of a backprop graph: columns by depth, rows with few crossings.

A layered drawing (Sugiyama, Tagawa and Toda, IEEE Trans. SMC 11(2), 1981), kept small:

1. columns: an operation one column right of the deepest node it reads; an input one
   column left of its first consumer (``b`` enters next to ``z = t1 + b``, not far left);
2. an edge that spans several columns gets a waypoint in each column it passes, which
   takes a row there like a node, so no edge is drawn through a box;
3. rows: sweeps left to right and back that sort each column by the mean row of its
   neighbours (the barycenter heuristic), keeping the order with the fewest crossings.

For a few dozen nodes this is instant and readable; ``Layout.crossings`` says how many
edge crossings remain.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Layout", "layout"]

#: Sweeps of the barycenter heuristic (each left to right, then right to left).
SWEEPS = 8


@dataclass(frozen=True)
class Layout:
    """A drawing of the graph.

    Attributes:
        positions: ``{name: (column, row)}``; rows of a column are centred on 0, one apart.
        routes: ``{(source, target): ((column, row), ...)}``: each edge's points from the
            source to the target, through its waypoints.
        crossings: the number of pairs of edge segments that cross.
    """

    positions: dict
    routes: dict
    crossings: int

    def __str__(self) -> str:
        columns: dict = {}
        for name, (c, r) in self.positions.items():
            columns.setdefault(c, []).append((r, name))
        return "\n".join(f"column {c}: " + ", ".join(n for _, n in sorted(v))
                         for c, v in sorted(columns.items()))


def _columns(nodes, edges) -> dict:
    column = {n.name: n.depth for n in nodes if not n.is_input}
    for n in nodes:
        if n.is_input:
            reads = [column[e.target] for e in edges if e.source == n.name]
            column[n.name] = min(reads) - 1 if reads else 0
    low = min(column.values(), default=0)
    return {name: c - low for name, c in column.items()}


def _crossings(order: dict, segments: list) -> int:
    """Pairs of segments between the same two columns whose ends are in opposite order."""
    count = 0
    for i, (a, b) in enumerate(segments):
        for c, d in segments[i + 1:]:
            if order[a][0] == order[c][0]:
                da, dc = order[a][1] - order[c][1], order[b][1] - order[d][1]
                count += da * dc < 0
    return count


def layout(nodes, edges) -> Layout:
    """A layered drawing of ``nodes`` (``Node``) and ``edges`` (``Edge``) with few crossings.

    Example:
        >>> import sympy as sp
        >>> from symgrad.explain import backprop
        >>> x, w, b = sp.symbols("x w b")
        >>> print(backprop(w * x + b, {x: 2.0, w: 0.5, b: 1.0}).layout())
        column 0: w, x
        column 1: b, t1
        column 2: f
    """
    column = _columns(nodes, edges)
    # every edge as a chain of unit segments through waypoints ("source>target#k")
    chains, segments = {}, []
    members = {c: [] for c in range(max(column.values(), default=0) + 1)}
    for n in nodes:
        members[column[n.name]].append(n.name)
    for e in edges:
        points = [e.source]
        for k, c in enumerate(range(column[e.source] + 1, column[e.target]), 1):
            waypoint = f"{e.source}>{e.target}#{k}"
            column[waypoint] = c
            members[c].append(waypoint)
            points.append(waypoint)
        points.append(e.target)
        chains[(e.source, e.target)] = points
        segments += list(zip(points, points[1:]))
    neighbours = {p: ([], []) for p in column}
    for a, b in segments:
        neighbours[b][0].append(a)
        neighbours[a][1].append(b)

    def place(cols):
        return {p: (c, i) for c, ps in cols.items() for i, p in enumerate(ps)}

    best = {c: list(ps) for c, ps in members.items()}
    best_count = _crossings(place(best), segments)
    current = {c: list(ps) for c, ps in best.items()}
    for sweep in range(2 * SWEEPS):
        forward = sweep % 2 == 0
        order = list(current) if forward else list(reversed(current))
        for c in order[1:]:
            rows = place(current)
            side = 0 if forward else 1

            def barycenter(p):
                near = neighbours[p][side]
                return sum(rows[q][1] for q in near) / len(near) if near else rows[p][1]
            current[c] = sorted(current[c], key=barycenter)
        count = _crossings(place(current), segments)
        if count < best_count:
            best, best_count = {c: list(ps) for c, ps in current.items()}, count
    rows = {p: (c, i - (len(ps) - 1) / 2) for c, ps in best.items() for i, p in enumerate(ps)}
    positions = {n.name: rows[n.name] for n in nodes}
    routes = {key: tuple(rows[p] for p in points) for key, points in chains.items()}
    return Layout(positions, routes, best_count)
