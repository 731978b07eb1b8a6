"""Second-order and quasi-Newton blocks that use the objective itself: Newton and L-BFGS.

Both are :class:`GradientTransformation` s with ``needs_oracle=True``: their
``update`` evaluates the loss and gradient along the search direction (a strong
Wolfe line search) and, for Newton, the exact Hessian, through the :class:`Oracle`
that ``minimize`` and full-batch ``fit`` pass in.

Both say when to stop. At ``x_k`` with loss ``f_k`` and gradient ``g_k``, the block
has converged when one of two tests holds (L-BFGS-B's ``factr`` test, and a gradient
test made relative as Dennis and Schnabel's, section 7.2)::

    relative gradient   max_i |g_i| max(|x_i|, 1) / max(|f_k|, 1) <= gtol
    relative reduction  (f_{k-1} - f_k) / max(|f_{k-1}|, |f_k|, 1) <= factr * eps

(``eps`` the float64 machine epsilon). The state records the first step where a test
held (``state.converged``, ``state.message``) and makes that update zero, so that a
loop that reads ``state.done`` stops there. A block that is driven further keeps
stepping while its line search lowers the loss. When the search finds no lower loss
along the direction nor along ``-g``, or only one lower by less than the reduction
test and without meeting the Wolfe conditions (the loss is flat to rounding there, or
the gradient is wrong), the block has stalled (``state.stalled``): from then on its
update is zero and costs no evaluation.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgrad.optimize._base import GradientTransformation
from symgrad.optimize._transforms import _number
from symgrad.optimize._wolfe import strong_wolfe
from symgrad.errors import OptionError

__all__ = ["LBFGS", "LBFGSState", "Newton", "NewtonState"]

EPS = float(np.finfo(np.float64).eps)

#: The convergence test that held first (``state.stop``; 0: none yet).
RUNNING, GRADIENT_TEST, REDUCTION_TEST = 0, 1, 2


def _need(oracle, caller: str, hessian: bool = False):
    if oracle is None:
        raise OptionError(f"{caller} evaluates the objective itself; run it with sg.minimize or full-batch sg.fit")
    if hessian and oracle.hessian is None:
        raise OptionError(f"{caller} needs the exact Hessian: pass an sg.Objective (or a function of "
                          f"sg.functions), not a plain callable")


def _stop_message(state) -> str:
    """What the state says: the test that held and where, or the stall, or ``"running"``."""
    if state.stop == GRADIENT_TEST:
        text = (f"converged at step {state.stop_step}: relative gradient {state.measure:.3g} "
                f"<= gtol {state.gtol:.3g}")
    elif state.stop == REDUCTION_TEST:
        text = (f"converged at step {state.stop_step}: relative reduction of the loss {state.measure:.3g} "
                f"<= factr * eps {state.factr * EPS:.3g}")
    elif state.stalled:
        return (f"stalled without convergence after step {state.count}: the line search found no "
                f"lower loss along the search direction nor along the negative gradient (the loss is "
                f"flat to rounding there, or the gradient is wrong); the convergence tests did not hold")
    else:
        return "running"
    if state.count > state.stop_step:
        text += f"; driven on for {state.count - state.stop_step} more steps"
    if state.stalled:
        text += f", then no lower loss was found after step {state.count}"
    return text


def _stopping_test(x, f: float, g, prev_f: float | None, gtol: float, factr: float) -> tuple[int, float]:
    """The code of the first test that holds at ``x`` (0 if none) and the quantity it measured."""
    scale_f = max(abs(f), 1.0)
    rel_grad = float(np.max(np.abs(g) * np.maximum(np.abs(x), 1.0))) / scale_f if g.size else 0.0
    if rel_grad <= gtol:
        return GRADIENT_TEST, rel_grad
    if prev_f is not None:
        reduction = (prev_f - f) / max(abs(prev_f), abs(f), 1.0)
        if reduction <= factr * EPS:
            return REDUCTION_TEST, reduction
    return RUNNING, rel_grad


def _record_test(state, x, f: float, g):
    """``state`` with the first convergence test that holds at ``x`` recorded (once)."""
    if state.stop != RUNNING:
        return state
    code, measure = _stopping_test(x, f, g, state.prev_f if state.count else None, state.gtol, state.factr)
    if code == RUNNING:
        return state
    return state._replace(stop=code, stop_step=state.count, measure=measure)


def _no_progress(ls, f: float, factr: float) -> bool:
    """No step, or a step that misses the Wolfe conditions and lowers ``f`` only at rounding level.

    Past the point where the loss is flat to rounding, a search can still meet values
    a few ulps below ``f`` and would spend its whole budget on each of them.
    """
    if ls is None or ls.alpha == 0.0:
        return True
    return not ls.wolfe and (f - ls.value) / max(abs(f), abs(ls.value), 1.0) <= factr * EPS


def _loss_at(oracle, x, state) -> tuple[float, int]:
    """``f(x)``: the value the last line search found there, else one evaluation."""
    if state.count > 0 and state.next_x.shape == x.shape and np.array_equal(state.next_x, x):
        return state.next_f, 0
    return float(oracle.value(x)), 1


def _search(oracle, x, f, g, d, alpha):
    """A strong Wolfe search along ``d``: ``(LineSearch, evaluations)``, ``(None, 0)`` if ``d`` does not descend."""
    slope = float(g @ d)
    if not slope < 0:
        return None, 0
    ls = strong_wolfe(oracle.value_and_grad, x, d, f, slope, alpha)
    return ls, ls.evaluations


class _StopMixin:
    """``converged`` and ``done`` read from the fields ``stop`` and ``stalled``."""

    @property
    def converged(self) -> bool:
        """A convergence test has held (at step ``stop_step``)."""
        return self.stop != RUNNING

    @property
    def done(self) -> bool:
        """The run should stop: a convergence test has held, or the block has stalled."""
        return self.stop != RUNNING or self.stalled


class NewtonState(NamedTuple):
    """``count``: updates so far; ``damping``: the last shift ``mu`` that made ``H + mu I`` definite.

    ``shifted``: steps where the Hessian was not positive definite (and was shifted);
    ``fallbacks``: steps that used ``-g`` (a non-finite Hessian, or no decrease along the
    Newton direction); ``evaluations``: loss evaluations made by the block; ``stop``,
    ``stop_step``, ``measure``: the convergence test that held first (0: none), the
    step and the quantity it measured; ``stalled``: no lower loss could be found.
    """

    count: int
    damping: float
    shifted: int = 0
    fallbacks: int = 0
    evaluations: int = 0
    prev_f: float = math.nan
    next_x: np.ndarray = np.zeros(0)
    next_f: float = math.nan
    stop: int = RUNNING
    stop_step: int = 0
    measure: float = math.nan
    stalled: bool = False
    gtol: float = 1e-10
    factr: float = 1e4

    converged = _StopMixin.converged
    done = _StopMixin.done

    @property
    def message(self) -> str:
        """Why Newton stopped, and how often the Hessian had to be shifted."""
        text = _stop_message(self)
        if self.shifted:
            text += (f"; the Hessian was not positive definite at {self.shifted} of {self.count} steps "
                     f"and was shifted by mu I (last mu {self.damping:.3g})")
        if self.fallbacks:
            text += f"; {self.fallbacks} steps fell back to the negative gradient"
        return text


def _shifted_cholesky(h, damping: float):
    """The Cholesky factor of ``H + mu I`` for the smallest tried ``mu >= damping``, and ``mu``.

    ``None`` when ``H`` is not finite or no shift below 1e300 works.
    """
    if not np.all(np.isfinite(h)):
        return None, damping
    mu, eye = damping, np.eye(h.shape[0])
    floor = 1e-8 * (1.0 + float(np.max(np.abs(np.diag(h))))) if h.size else 1e-8
    while mu <= 1e300:
        try:
            return np.linalg.cholesky(h + mu * eye), mu
        except np.linalg.LinAlgError:
            mu = max(floor, 10.0 * mu)
    return None, mu


def Newton(damping: float = 0.0, line_search: bool = True, *, gtol: float = 1e-10,  # noqa: N802
           factr: float = 1e4) -> GradientTransformation:
    """Damped Newton steps with the exact Hessian, a strong Wolfe line search, and stopping tests.

    With ``H = hessian(x)`` and the smallest shift ``mu >= damping`` (tried as
    ``damping``, then ``1e-8 * (1 + max|H_ii|)`` growing tenfold) for which
    ``H + mu I`` has a Cholesky factor (a Hessian that is not positive definite is
    shifted: the step is then a descent direction, and the state counts such steps)::

        d = -(H + mu I)^{-1} g
        u = alpha d,   alpha from a strong Wolfe search that tries alpha = 1 first

    A non-finite Hessian, or a Newton direction along which the search finds no lower
    loss, falls back to ``d = -g`` for that step. It converges by the tests of the
    module docstring (``gtol``, ``factr``).

    Args:
        damping: the smallest shift ``mu`` (0: pure Newton where ``H`` is definite).
        line_search: search on ``alpha`` (``False``: always ``alpha = 1``).
        gtol: the relative gradient tolerance.
        factr: the relative reduction tolerance, in units of the machine epsilon.

    References:
        J. Nocedal, S. J. Wright, "Numerical Optimization", 2nd ed., sections 3.1, 3.4, 3.5.

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
    gtol = _number(gtol, "gtol")
    factr = _number(factr, "factr")

    def init(x):
        return NewtonState(0, damping, next_x=np.zeros(np.shape(x)[0]), gtol=gtol, factr=factr)

    def update(g, state, x, *, oracle=None):
        _need(oracle, "Newton", hessian=True)
        if state.stalled:
            return np.zeros_like(x), state
        g = np.asarray(g, dtype=np.float64)
        f, evaluations = _loss_at(oracle, x, state)
        tested = _record_test(state, x, f, g)
        if tested is not state:  # a test holds here: stay, so that a loop reading `done` stops at x
            return np.zeros_like(x), tested._replace(evaluations=state.evaluations + evaluations)
        chol, mu = _shifted_cholesky(np.asarray(oracle.hessian(x), dtype=np.float64), damping)
        shifted, fallbacks = state.shifted + (chol is not None and mu > damping), state.fallbacks
        if chol is not None:
            d = -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        else:
            d, fallbacks = -g / max(1.0, float(np.linalg.norm(g))), fallbacks + 1
        if not line_search:
            u = d
            next_f, spent = float(oracle.value(x + u)), 1
        else:
            ls, spent = _search(oracle, x, f, g, d, 1.0)
            if (ls is None or ls.alpha == 0.0) and chol is not None:
                d, fallbacks = -g / max(1.0, float(np.linalg.norm(g))), fallbacks + 1
                ls, more = _search(oracle, x, f, g, d, 1.0)
                spent += more
            if _no_progress(ls, f, factr):
                return np.zeros_like(x), state._replace(evaluations=state.evaluations + evaluations + spent,
                                                        stalled=True, shifted=shifted, fallbacks=fallbacks)
            u, next_f = ls.alpha * d, ls.value
        return u, state._replace(count=state.count + 1, damping=mu, shifted=shifted, fallbacks=fallbacks,
                                 evaluations=state.evaluations + evaluations + spent, prev_f=f,
                                 next_x=x + u, next_f=next_f)

    return GradientTransformation(init, update, f"Newton(damping={damping}, line_search={line_search}, "
                                  f"gtol={gtol}, factr={factr})", True)


class LBFGSState(NamedTuple):
    """Ring buffers of the last ``m`` steps ``s`` and gradient changes ``y``, and the previous point.

    ``prev_f``: the loss at ``prev_x``; ``next_x``, ``next_f``: the point the last update
    leads to and its loss (found by the line search, so not evaluated again);
    ``evaluations``: loss evaluations made by the block; ``stop``, ``stop_step``,
    ``measure``: the convergence test that held first (0: none), the step and the
    quantity it measured; ``stalled``: no lower loss could be found.
    """

    count: int
    stored: int
    s: np.ndarray
    y: np.ndarray
    rho: np.ndarray
    prev_x: np.ndarray
    prev_g: np.ndarray
    prev_f: float = math.nan
    next_x: np.ndarray = np.zeros(0)
    next_f: float = math.nan
    evaluations: int = 0
    restarts: int = 0
    stop: int = RUNNING
    stop_step: int = 0
    measure: float = math.nan
    stalled: bool = False
    gtol: float = 1e-10
    factr: float = 1e4

    converged = _StopMixin.converged
    done = _StopMixin.done

    @property
    def message(self) -> str:
        """Why L-BFGS stopped."""
        text = _stop_message(self)
        if self.restarts:
            text += f"; the memory was cleared {self.restarts} times (no decrease along the L-BFGS direction)"
        return text


def _two_loop(g, s_buf, y_buf, rho, stored: int, memory: int) -> np.ndarray:
    """``H_k g`` by the two-loop recursion over the stored pairs, newest first (N&W algorithm 7.4)."""
    order = [(stored - 1 - k) % memory for k in range(min(stored, memory))]
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
    return q


def LBFGS(memory: int = 10, *, gtol: float = 1e-10, factr: float = 1e4) -> GradientTransformation:  # noqa: N802
    """Limited-memory BFGS with a strong Wolfe line search and stopping tests.

    With the last ``m = memory`` pairs ``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i``
    (a pair is kept only when ``s_i . y_i > 1e-10 |s_i| |y_i|``), the two-loop recursion
    gives ``d = -H_k g`` with the initial scaling ``H_0 = (s.y / y.y) I`` of the newest
    pair; then ``u = alpha d`` with ``alpha`` from a strong Wolfe search (``c1 = 1e-4``,
    ``c2 = 0.9``, cubic interpolation, at most 20 evaluations) that tries ``alpha = 1``
    first (the first step is ``-g / max(1, ||g||)``). A direction along which the search
    finds no lower loss clears the memory and retries along ``-g``. It converges by the
    tests of the module docstring.

    Args:
        memory: the number ``m`` of pairs kept.
        gtol: the relative gradient tolerance.
        factr: the relative reduction tolerance, in units of the machine epsilon
            (L-BFGS-B's ``factr``; its default 1e7 stops at about 8 digits of the loss,
            1e4 here at about 11).

    References:
        D. C. Liu, J. Nocedal, "On the limited memory BFGS method for large scale
        optimization", Math. Programming 45 (1989); Nocedal & Wright, algorithms 3.5,
        3.6 and 7.4; R. H. Byrd, P. Lu, J. Nocedal, C. Zhu, "A limited memory algorithm
        for bound constrained optimization", SIAM J. Sci. Comput. 16 (1995) (the tests).

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> rosen = sg.Objective((1 - x) ** 2 + 100 * (y - x**2) ** 2, [x, y])
        >>> r = sg.minimize(rosen, [-1.2, 1.0], optimizer=LBFGS(), steps=200, tol=1e-8)
        >>> r.converged, np.round(r.x, 6)
        (True, array([1., 1.]))
    """
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 1:
        raise OptionError(f"memory must be a positive integer, got {memory!r}")
    gtol = _number(gtol, "gtol")
    factr = _number(factr, "factr")

    def init(x):
        n = np.shape(x)[0]
        return LBFGSState(0, 0, np.zeros((memory, n)), np.zeros((memory, n)), np.zeros(memory),
                          np.zeros(n), np.zeros(n), next_x=np.zeros(n), gtol=gtol, factr=factr)

    def update(g, state, x, *, oracle=None):
        _need(oracle, "LBFGS")
        if state.stalled:
            return np.zeros_like(x), state
        g = np.asarray(g, dtype=np.float64)
        count, stored, s_buf, y_buf, rho = state.count, state.stored, state.s, state.y, state.rho
        f, evaluations = _loss_at(oracle, x, state)
        tested = _record_test(state, x, f, g)
        if tested is not state:  # a test holds here: stay, so that a loop reading `done` stops at x
            return np.zeros_like(x), tested._replace(evaluations=state.evaluations + evaluations)
        if count > 0:
            s, y = x - state.prev_x, g - state.prev_g
            sy = float(s @ y)
            if sy > 1e-10 * float(np.linalg.norm(s) * np.linalg.norm(y)):
                slot = stored % memory
                s_buf[slot], y_buf[slot], rho[slot] = s, y, 1.0 / sy
                stored += 1
        steepest = -g / max(1.0, float(np.linalg.norm(g)))
        d = steepest if stored == 0 else -_two_loop(g, s_buf, y_buf, rho, stored, memory)
        ls, spent = _search(oracle, x, f, g, d, 1.0)
        restarts = state.restarts
        if (ls is None or ls.alpha == 0.0) and stored > 0:
            stored, restarts, d = 0, restarts + 1, steepest
            ls, more = _search(oracle, x, f, g, d, 1.0)
            spent += more
        evaluations += state.evaluations + spent
        if _no_progress(ls, f, factr):
            return np.zeros_like(x), state._replace(stored=stored, evaluations=evaluations, restarts=restarts,
                                                    stalled=True)
        u = ls.alpha * d
        return u, state._replace(count=count + 1, stored=stored, prev_x=x.copy(), prev_g=g.copy(), prev_f=f,
                                 next_x=x + u, next_f=ls.value, evaluations=evaluations, restarts=restarts)

    return GradientTransformation(init, update, f"LBFGS(memory={memory}, gtol={gtol}, factr={factr})", True)
