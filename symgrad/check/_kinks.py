"""Find the kinks of ``Abs sign Heaviside Max Min Piecewise`` that a point sits on.

A point is *at* a kink when an argument of ``Abs``/``sign``/``Heaviside`` is zero, two
arguments of ``Max``/``Min`` tie for the extreme, or the two sides of a ``Piecewise``
condition are equal (for any sample, with data). It is *within the step* of one when
the finite-difference stencil crosses it (the argument changes sign, the winner of
``Max`` changes, a condition flips between the stencil points). Either way central
differences cannot agree with any convention for the derivative there.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import sympy as sp

from symgrad.check._evaluate import evaluate

__all__ = ["Kink", "find_kinks"]

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


def _boundaries(expr: sp.Basic):
    """Yield ``(description, z)`` for every boundary ``z = 0`` of a kink in ``expr``."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            z = node.args[0]
            yield f"{node} at {z} = 0", z
        elif isinstance(node, (sp.Max, sp.Min)):
            for a, b in combinations(node.args, 2):
                z = a - b if b != 0 else a
                if a == 0:
                    z = b
                yield f"{node} at {z} = 0", z, (a, b, node)
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in sp.preorder_traversal(cond):
                    if isinstance(rel, sp.core.relational.Relational):
                        z = rel.lhs - rel.rhs
                        yield f"{node} at {z} = 0", z


def find_kinks(expr, wrt, theta, stencil, env: dict) -> tuple[Kink, ...]:
    """Kinks of ``expr`` at ``theta`` or crossed by the stencil points.

    Args:
        expr: the (canonical) expression.
        wrt: symbols of ``theta``.
        theta: the point, ``ndarray (n,)``.
        stencil: the other points finite differences visit, a list of ``ndarray (n,)``.
        env: values of every other symbol (numbers or data columns).
    """
    points = [np.asarray(theta, dtype=float)] + [np.asarray(p, dtype=float) for p in stencil]
    found, seen = [], set()
    memos = [{} for _ in points]
    with np.errstate(all="ignore"):
        for item in _boundaries(expr):
            where, z = item[0], item[1]
            if where in seen:
                continue
            values = []
            for p, memo in zip(points, memos):
                bound = dict(env)
                bound.update(zip(wrt, p))
                if len(item) == 3:
                    values.append(_pair_state(item[2], bound, memo))
                else:
                    values.append(np.real(np.asarray(evaluate(z, bound, memo), dtype=float)))
            kink = _classify(values)
            if kink is not None:
                seen.add(where)
                center = np.asarray(values[0])
                if kink and center.size > 1:
                    hits = int(np.sum(np.abs(center) <= KINK_TOLERANCE))
                    where = f"{where} (in {hits} of {center.size} samples)"
                found.append(Kink(where, kink))
    return tuple(found)


def _pair_state(pair, bound, memo):
    """For a pair ``(a, b)`` of ``node = Max/Min(...)``: ``a − b`` where the pair holds the
    extreme, NaN (ignored) where another argument wins."""
    a, b, node = pair
    va, vb, vn = (np.asarray(evaluate(e, bound, memo), dtype=float) for e in (a, b, node))
    holds = (np.abs(va - vn) <= KINK_TOLERANCE) | (np.abs(vb - vn) <= KINK_TOLERANCE)
    return np.where(holds, va - vb, np.nan)


def _classify(values):
    """``True`` if on the boundary, ``False`` if the stencil crosses it, ``None`` otherwise."""
    center = values[0]
    if np.any(np.abs(center) <= KINK_TOLERANCE):
        return True
    sign0 = np.sign(center)
    for v in values[1:]:
        change = (np.sign(v) != sign0) & np.isfinite(v) & np.isfinite(center)
        if np.any(change):
            return False
    return None
