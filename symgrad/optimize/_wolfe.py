"""A line search that satisfies the strong Wolfe conditions, with cubic interpolation.

Along a descent direction ``d`` from ``x``, with ``phi(a) = f(x + a d)`` and
``phi'(a) = grad f(x + a d) . d`` (``phi'(0) < 0``), a step ``a > 0`` is accepted when::

    phi(a) <= phi(0) + c1 a phi'(0)          (sufficient decrease)
    |phi'(a)| <= c2 |phi'(0)|                 (strong curvature condition)

with ``0 < c1 < c2 < 1``. The search is Nocedal and Wright's algorithm 3.5 (a growing
trial step until an interval is known to hold acceptable steps) and 3.6 ("zoom":
shrink that interval by the minimiser of the cubic through the values and slopes at its
ends, eq. 3.59, safeguarded by bisection). A non-finite value at a trial step counts as
too long a step.

References:
    J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed. (2006), section 3.5.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["LineSearch", "strong_wolfe"]

#: The trial step grows by at most this factor per bracketing iteration.
_GROWTH = 4.0
#: An interpolated step closer than this fraction of the interval to one of its ends
#: is replaced by the midpoint (the cubic is then not to be trusted).
_SAFEGUARD = 0.1


class LineSearch(NamedTuple):
    """The outcome of :func:`strong_wolfe`.

    ``alpha``: the step (0 when no point with a lower value was found); ``value``,
    ``grad``: ``f`` and its gradient at ``x + alpha d`` (``grad`` is ``None`` when
    ``alpha == 0``); ``evaluations``: calls of ``value_and_grad``; ``wolfe``: both strong
    Wolfe conditions hold at ``alpha`` (when false, ``alpha > 0`` still lowers ``f``
    with sufficient decrease, but the curvature condition was not met within the budget).
    """

    alpha: float
    value: float
    grad: np.ndarray | None
    evaluations: int
    wolfe: bool


def _cubic_minimiser(a, fa, da, b, fb, db) -> float:
    """The minimiser of the cubic with values ``fa, fb`` and slopes ``da, db`` at ``a, b`` (eq. 3.59).

    NaN when the cubic has no minimiser there.
    """
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not disc >= 0.0:
        return math.nan
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0.0:
        return math.nan
    return b - (b - a) * (db + d2 - d1) / denom


def strong_wolfe(value_and_grad, x: np.ndarray, d: np.ndarray, f0: float, slope0: float, alpha: float = 1.0,
                 *, c1: float = 1e-4, c2: float = 0.9, max_evaluations: int = 20) -> LineSearch:
    """Find a step ``alpha`` along ``d`` that satisfies the strong Wolfe conditions.

    Args:
        value_and_grad: ``z -> (f(z), grad f(z))``.
        x: the current point; ``d``: a descent direction (``slope0 < 0``).
        f0, slope0: ``f(x)`` and ``grad f(x) . d``.
        alpha: the first trial step (1 for quasi-Newton directions).
        c1, c2: the constants of the two conditions, ``0 < c1 < c2 < 1``.
        max_evaluations: the largest number of calls of ``value_and_grad``.

    Returns:
        LineSearch: the step, ``f`` and gradient there, and the evaluations spent.
        The trial point is computed as ``x + alpha * d``, bit for bit the point a caller
        reaches by adding the update ``alpha * d`` to ``x``.

    Example:
        >>> import numpy as np
        >>> quadratic = lambda z: (float(z @ z), 2 * z)       # minimum at 0, step 1/2 from x
        >>> x = np.array([1.0, -2.0])
        >>> s = strong_wolfe(quadratic, x, -x, 5.0, -10.0, alpha=2.0)
        >>> float(s.alpha), s.wolfe, s.evaluations
        (1.0, True, 2)
    """
    evaluations = 0

    def phi(a):
        nonlocal evaluations
        evaluations += 1
        f, g = value_and_grad(x + a * d)
        f = float(f)
        if not math.isfinite(f):
            return f, None, math.nan
        g = np.asarray(g, dtype=np.float64)
        return f, g, float(g @ d)

    def sufficient(a, f):
        return f <= f0 + c1 * a * slope0

    # algorithm 3.5: bracket an interval that holds acceptable steps
    lo, f_lo, d_lo, g_lo = 0.0, f0, slope0, None
    hi = f_hi = d_hi = None
    while evaluations < max_evaluations:
        f, g, slope = phi(alpha)
        if not math.isfinite(f) or not sufficient(alpha, f) or (lo > 0 and f >= f_lo):
            hi, f_hi, d_hi = alpha, f, slope
            break
        if abs(slope) <= -c2 * slope0:
            return LineSearch(alpha, f, g, evaluations, True)
        if slope >= 0:
            hi, f_hi, d_hi = lo, f_lo, d_lo
            lo, f_lo, d_lo, g_lo = alpha, f, slope, g
            break
        # still descending: extrapolate by the cubic through the last two points, within limits
        guess = _cubic_minimiser(lo, f_lo, d_lo, alpha, f, slope)
        nxt = guess if math.isfinite(guess) and guess > alpha * 1.1 else _GROWTH * alpha
        lo, f_lo, d_lo, g_lo = alpha, f, slope, g
        alpha = min(nxt, _GROWTH * alpha)
    if hi is None:  # the budget ran out while the steps kept descending
        return LineSearch(lo, f_lo, g_lo, evaluations, False)

    # algorithm 3.6: zoom into [lo, hi] (lo: the best step so far, with sufficient decrease)
    while evaluations < max_evaluations:
        width = hi - lo
        guess = _cubic_minimiser(lo, f_lo, d_lo, hi, f_hi, d_hi) if math.isfinite(f_hi) else math.nan
        a_min, a_max = min(lo, hi), max(lo, hi)
        margin = _SAFEGUARD * abs(width)
        if not (math.isfinite(guess) and a_min + margin <= guess <= a_max - margin):
            guess = lo + 0.5 * width
        if guess == lo or guess == hi:  # the interval is below float64 resolution
            break
        f, g, slope = phi(guess)
        if not math.isfinite(f) or not sufficient(guess, f) or f >= f_lo:
            hi, f_hi, d_hi = guess, f, slope
            continue
        if abs(slope) <= -c2 * slope0:
            return LineSearch(guess, f, g, evaluations, True)
        if slope * (hi - lo) >= 0:
            hi, f_hi, d_hi = lo, f_lo, d_lo
        lo, f_lo, d_lo, g_lo = guess, f, slope, g
    if lo > 0:
        return LineSearch(lo, f_lo, g_lo, evaluations, False)
    return LineSearch(0.0, f0, None, evaluations, False)
