"""Find the kinks of ``Abs sign Heaviside Max Min Piecewise`` (and the jumps of ``floor``,
``ceiling``, ``acot``, ``atan2``) that a point sits on.

A point is *at* a kink when an argument of ``Abs``/``sign``/``Heaviside`` is zero (the
``kink`` of its row in ``symgrad._functions``: ``floor`` at an integer), two
arguments of ``Max``/``Min`` tie for the extreme, or the two sides of a ``Piecewise``
condition are equal (for any sample, with data). It is *within the step* of one when
the finite-difference stencil crosses it (the argument changes sign, the winner of
``Max`` changes, a condition flips between the stencil points). Either way central
differences cannot agree with any convention for the derivative there.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, islice

import numpy as np
import sympy as sp

from symgrad._expr import unique_nodes
from symgrad._functions import row_of
from symgrad.check._evaluate import evaluate

__all__ = ["AxisStencil", "Kink", "find_kinks"]

#: |z| at or below this counts as exactly on the kink.
KINK_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Kink:
    """One non-differentiable point: ``where`` names the construct and its boundary.

    ``exact`` is ``True`` when the point is on the boundary, ``False`` when only the
    finite-difference stencil crosses it.
    """

    where: str
    exact: bool

    def __str__(self) -> str:
        return self.where if self.exact else f"{self.where} (within the finite-difference step)"


#: Entries (points x samples x subexpressions) evaluated at once; bounds the memory.
BUDGET = 2**24

#: Expressions longer than this are shortened in the kink descriptions.
SHOWN = 80


def _short(expr) -> str:
    """``str(expr)`` cut to ``SHOWN`` characters, without printing a large tree whole."""
    if _size(expr, SHOWN // 2 + 1) <= SHOWN // 2:
        text = str(expr)
    elif isinstance(expr, sp.Add):
        text = f"{_short(expr.args[0])} + ... ({len(expr.args)} terms)"
    else:
        text = f"{type(expr).__name__}({_short(expr.args[0])}, ...)"
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


class AxisStencil:
    """The ``2n`` points ``theta + h_i e_i`` and ``theta - h_i e_i``, made a slice at a time."""

    def __init__(self, theta, h):
        self.theta = np.asarray(theta, dtype=float).ravel()
        self.h = np.asarray(h, dtype=float).ravel()

    def __len__(self) -> int:
        return 2 * self.theta.size

    def __getitem__(self, where: slice) -> np.ndarray:
        k = np.arange(len(self))[where]
        points = np.repeat(self.theta[None, :], k.size, axis=0)
        points[np.arange(k.size), k // 2] += np.where(k % 2 == 0, 1.0, -1.0) * self.h[k // 2]
        return points


def _boundaries(expr: sp.Basic):
    """Yield ``(node, z, pair)`` for every boundary ``z = 0`` of a kink in ``expr``.

    ``pair`` is ``(a, b)`` for two arguments of a ``Max``/``Min`` (``z = a - b``), else ``None``.
    """
    for node in unique_nodes(expr):
        row = row_of(node)
        if row is not None and row.kink is not None:  # Abs, sign, Heaviside, floor, acot...
            yield node, row.kink(*node.args), None
        elif isinstance(node, (sp.Max, sp.Min)):
            for a, b in combinations(node.args, 2):
                yield node, (b if a == 0 else a if b == 0 else a - b), (a, b)
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in sp.preorder_traversal(cond):
                    if isinstance(rel, sp.core.relational.Relational):
                        yield node, rel.lhs - rel.rhs, None


def _size(expr: sp.Basic, limit: int | None = None) -> int:
    """Number of distinct subexpressions (what one evaluation keeps in its memo), counted
    up to ``limit`` at most."""
    return sum(1 for _ in islice(unique_nodes(expr), limit))


class _Reach:
    """Which parameters each node depends on, as a bit mask (bit ``i`` for ``wrt[i]``)."""

    def __init__(self, wrt):
        self.masks = {w: 1 << i for i, w in enumerate(wrt)}

    def __call__(self, expr) -> int:
        masks = self.masks
        if expr in masks:
            return masks[expr]
        stack = [(expr, False)]
        while stack:
            node, ready = stack.pop()
            if node in masks:
                continue
            if ready or not node.args:
                mask = 0
                for a in node.args:
                    mask |= masks[a]
                masks[node] = mask
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if a not in masks)
        return masks[expr]


class _Overlay(dict):
    """The memo of a chunk of stencil points: a node that none of the parameters moved
    in the chunk reaches has its value at the centre, which is not evaluated again."""

    def __init__(self, center: dict, reach: _Reach, moved: int):
        super().__init__()
        self.center, self.reach, self.moved = center, reach, moved

    def __contains__(self, node) -> bool:
        return dict.__contains__(self, node) or (node in self.center and not self.reach(node) & self.moved)

    def __getitem__(self, node):
        return dict.__getitem__(self, node) if dict.__contains__(self, node) else self.center[node]


def find_kinks(expr, wrt, theta, stencil, env: dict) -> tuple[Kink, ...]:
    """Kinks of ``expr`` at ``theta`` or crossed by the stencil points.

    The stencil is evaluated in chunks of points that broadcast against the data
    (``(points, 1)`` against ``(N,)``), and in each chunk only the subexpressions that
    reach a parameter the chunk moves are evaluated again: for a network, a weight's
    stencil points touch one unit and what follows it, not the whole expression.

    Args:
        expr: the (canonical) expression.
        wrt: symbols of ``theta``.
        theta: the point, ``ndarray (n,)``.
        stencil: the other points finite differences visit: a list of ``ndarray (n,)``,
            or anything that slices into such lists or ``(k, n)`` arrays (``AxisStencil``).
        env: values of every other symbol (numbers or data columns).
    """
    items, seen = [], set()
    for node, z, pair in _boundaries(expr):
        if (node, z) not in seen:
            seen.add((node, z))
            items.append((node, z, pair))
    if not items:
        return ()
    theta = np.asarray(theta, dtype=float).ravel()
    samples = max([np.size(v) for v in env.values()], default=1)
    reach = _Reach(wrt)
    with np.errstate(all="ignore"):
        bound = dict(env)
        bound.update(zip(wrt, theta.tolist()))
        memo: dict = {}
        center = [_state(item, bound, memo, 1, samples)[0] for item in items]
        open_items = [j for j, c in enumerate(center) if not _on(c)]
        crossed = set()
        chunk = max(1, BUDGET // (samples * _size(expr)))
        for lo in range(0, len(stencil), chunk):
            block = np.asarray(stencil[lo: lo + chunk], dtype=float).reshape(-1, theta.size)
            moved = 0
            for i in np.flatnonzero(np.any(block != theta, axis=0)).tolist():
                moved |= 1 << i
            bound = dict(env)
            bound.update((w, block[:, i: i + 1]) for i, w in enumerate(wrt))
            overlay = _Overlay(memo, reach, moved)
            for j in open_items:
                node, z, pair = items[j]
                if j in crossed or not reach(node if pair else z) & moved:
                    continue
                if _crosses(center[j], _state(items[j], bound, overlay, len(block), samples)):
                    crossed.add(j)
    found = []
    for j, ((node, z, _), c) in enumerate(zip(items, center)):
        where = f"{_short(node)} at {_short(z)} = 0"
        if _on(c):
            if c.size > 1:
                where += f" (in {int(np.sum(np.abs(c) <= KINK_TOLERANCE))} of {c.size} samples)"
            found.append(Kink(where, True))
        elif j in crossed:
            found.append(Kink(where, False))
    return tuple(found)


def _state(item, bound, memo, points: int, samples: int) -> np.ndarray:
    """The boundary's signed distance, ``points x samples``."""
    node, z, pair = item
    state = _pair_state(node, pair, bound, memo) if pair else evaluate(z, bound, memo)
    return np.broadcast_to(np.real(np.asarray(state, dtype=complex)), (points, samples))


def _pair_state(node, pair, bound, memo):
    """For a pair ``(a, b)`` of ``node = Max/Min(...)``: ``a - b`` where the pair holds the
    extreme, NaN (ignored) where another argument wins."""
    va, vb, vn = (np.real(np.asarray(evaluate(e, bound, memo))) for e in (*pair, node))
    holds = (np.abs(va - vn) <= KINK_TOLERANCE) | (np.abs(vb - vn) <= KINK_TOLERANCE)
    return np.where(holds, va - vb, np.nan)


def _on(center) -> bool:
    return bool(np.any(np.abs(center) <= KINK_TOLERANCE))


def _crosses(center, values) -> bool:
    """Whether any point of ``values`` (points x samples) is on the other side of zero."""
    change = (np.sign(values) != np.sign(center)) & np.isfinite(values) & np.isfinite(center)
    return bool(np.any(change))
