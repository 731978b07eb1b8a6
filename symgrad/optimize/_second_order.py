"""Second-order and quasi-Newton blocks that use the objective itself: Newton and L-BFGS.

Both are :class:`GradientTransformation` s with ``needs_oracle=True``: their
``update`` evaluates the loss (line search) and, for Newton, the exact Hessian
through the :class:`Oracle` that ``minimize`` and full-batch ``fit`` pass in.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgrad.optimize._base import GradientTransformation
from symgrad.optimize._transforms import _number

__all__ = ["LBFGS", "LBFGSState", "Newton", "NewtonState"]

_ARMIJO = 1e-4
_MAX_HALVINGS = 40


def _backtrack(oracle, x, f0: float, g: np.ndarray, d: np.ndarray, alpha: float = 1.0) -> float:
    """Largest ``alpha = alpha0 / 2^k`` with ``f(x + alpha d) <= f(x) + c alpha g.d`` (Armijo, c = 1e-4)."""
    slope = float(g @ d)
    f0 = float(oracle.value(x)) if f0 is None else f0
    for _ in range(_MAX_HALVINGS):
        f = float(oracle.value(x + alpha * d))
        if math.isfinite(f) and f <= f0 + _ARMIJO * alpha * slope:
            return alpha
        alpha *= 0.5
    return alpha


def _need(oracle, caller: str, hessian: bool = False):
    if oracle is None:
        raise ValueError(f"{caller} evaluates the objective itself; run it with sg.minimize or full-batch sg.fit")
    if hessian and oracle.hessian is None:
        raise ValueError(f"{caller} needs the exact Hessian: pass an sg.Objective (or a function of "
                         f"sg.functions), not a plain callable")


class NewtonState(NamedTuple):
    """``count``: updates so far; ``damping``: the last shift ``mu`` that made ``H + mu I`` definite."""

    count: int
    damping: float


def Newton(damping: float = 0.0, line_search: bool = True) -> GradientTransformation:  # noqa: N802
    """Damped Newton steps with the exact Hessian.

    With ``H = hessian(x)`` and the smallest shift ``mu >= damping`` (tried as
    ``damping``, then ``1e-8 * (1 + max|H_ii|)`` growing tenfold) for which
    ``H + mu I`` has a Cholesky factor::

        d = -(H + mu I)^{-1} g
        u = alpha d,   alpha = 1, 1/2, 1/4, ... the first with f(x + alpha d) <= f(x) + 1e-4 alpha g.d

    Args:
        damping: the smallest shift ``mu`` (0: pure Newton where ``H`` is definite).
        line_search: backtrack on ``alpha`` (``False``: always ``alpha = 1``).

    References:
        J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed., sections 3.1 and 3.4.

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> obj = sg.Objective((x - 1) ** 2 + 10 * (y + 2) ** 2, [x, y])
        >>> r = sg.minimize(obj, [5.0, 5.0], optimizer=Newton(), steps=5, tol=1e-10)
        >>> r.steps, np.round(r.x, 12)
        (1, array([ 1., -2.]))
    """
    damping = _number(damping, "damping")
    line_search = bool(line_search)

    def init(x):
        return NewtonState(0, damping)

    def update(g, state, x, *, oracle=None):
        _need(oracle, "Newton", hessian=True)
        h = np.asarray(oracle.hessian(x), dtype=np.float64)
        mu, eye = damping, np.eye(len(x))
        floor = 1e-8 * (1.0 + float(np.max(np.abs(np.diag(h))))) if len(x) else 1e-8
        while True:
            try:
                chol = np.linalg.cholesky(h + mu * eye)
                break
            except np.linalg.LinAlgError:
                mu = max(floor, 10.0 * mu)
                if not math.isfinite(mu) or mu > 1e300:
                    raise
        d = -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        alpha = _backtrack(oracle, x, None, g, d) if line_search else 1.0
        return alpha * d, NewtonState(state.count + 1, mu)

    return GradientTransformation(init, update, f"Newton(damping={damping}, line_search={line_search})", True)


class LBFGSState(NamedTuple):
    """Ring buffers of the last ``m`` steps ``s`` and gradient changes ``y``, and the previous point."""

    count: int
    stored: int
    s: np.ndarray
    y: np.ndarray
    rho: np.ndarray
    prev_x: np.ndarray
    prev_g: np.ndarray


def LBFGS(memory: int = 10) -> GradientTransformation:  # noqa: N802
    """Limited-memory BFGS with an Armijo backtracking line search.

    With the last ``m = memory`` pairs ``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i``
    (a pair is kept only when ``s_i . y_i > 1e-10``), the two-loop recursion gives
    ``d = -H_k g`` with the initial scaling ``H_0 = (s.y / y.y) I`` of the newest
    pair; then ``u = alpha d`` with Armijo backtracking from ``alpha = 1`` (the
    first step is ``-g / max(1, ||g||)``).

    References:
        D. C. Liu, J. Nocedal, "On the limited memory BFGS method for large scale
        optimization", Math. Programming 45 (1989); Nocedal & Wright, algorithm 7.4.

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> rosen = sg.Objective((1 - x) ** 2 + 100 * (y - x**2) ** 2, [x, y])
        >>> r = sg.minimize(rosen, [-1.2, 1.0], optimizer=LBFGS(), steps=200, tol=1e-8)
        >>> r.converged, np.round(r.x, 6)
        (True, array([1., 1.]))
    """
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 1:
        raise ValueError(f"memory must be a positive integer, got {memory!r}")

    def init(x):
        n = np.shape(x)[0]
        return LBFGSState(0, 0, np.zeros((memory, n)), np.zeros((memory, n)), np.zeros(memory),
                          np.zeros(n), np.zeros(n))

    def update(g, state, x, *, oracle=None):
        _need(oracle, "LBFGS")
        count, stored, s_buf, y_buf, rho = state.count, state.stored, state.s, state.y, state.rho
        if count > 0:
            s, y = x - state.prev_x, g - state.prev_g
            sy = float(s @ y)
            if sy > 1e-10:
                slot = stored % memory
                s_buf[slot], y_buf[slot], rho[slot] = s, y, 1.0 / sy
                stored += 1
        if stored == 0:
            d = -g / max(1.0, float(np.linalg.norm(g)))
        else:
            order = [(stored - 1 - k) % memory for k in range(min(stored, memory))]  # newest first
            q = g.copy()
            a = np.empty(len(order))
            for k, i in enumerate(order):
                a[k] = rho[i] * float(s_buf[i] @ q)
                q -= a[k] * y_buf[i]
            newest = order[0]
            q *= 1.0 / (rho[newest] * float(y_buf[newest] @ y_buf[newest]))
            for k in reversed(range(len(order))):
                i = order[k]
                b = rho[i] * float(y_buf[i] @ q)
                q += (a[k] - b) * s_buf[i]
            d = -q
        alpha = _backtrack(oracle, x, None, g, d)
        new_state = LBFGSState(count + 1, stored, s_buf, y_buf, rho, x.copy(), np.array(g, copy=True))
        return alpha * d, new_state

    return GradientTransformation(init, update, f"LBFGS(memory={memory})", True)
