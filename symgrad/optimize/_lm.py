"""Levenberg-Marquardt least squares with the exact Jacobian, stopped as MINPACK's ``lmder``.

Minimises ``F(x) = 1/2 ||r(x)||^2`` for residuals ``r`` (m,) with Jacobian ``J`` (m, n).
Each iteration factorises ``J`` by QR, takes a trust-region step in the norm
``||D p||`` (``D`` the column norms of ``J``, never decreased, as ``lmder``'s mode 1),
and accepts it when the actual reduction is at least 1e-4 of the predicted one.
The relative tests, with ``rho = actred / prered`` of the last trial step:

    ftol:  |actred| <= ftol and prered <= ftol and rho <= 2       (status 1)
    xtol:  delta <= xtol ||D x||                                  (status 2; 3 if both)
    gtol:  max_j |J_j^T r| / (||J_j|| ||r||) <= gtol              (status 4)

``actred = 1 - ||r(x + p)||^2 / ||r(x)||^2`` and ``prered`` is the same for the linear
model. Status 5: ``max_nfev`` residual evaluations; 6, 7, 8: ftol, xtol, gtol too small
for float64. Every test is relative, so the answer does not depend on the units of ``r``
or of any parameter.

Bounds are kept by an active set: a parameter at a bound whose gradient points out of
the box is held, the step is taken over the others and projected onto the box, and
the predicted reduction is that of the projected step. At an interior point no
bound is active and the iteration is exactly the unbounded one.

References:
    J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and theory",
    Lecture Notes in Mathematics 630, Springer (1978), 105-116.
    J. J. Moré, B. S. Garbow, K. E. Hillstrom, "User guide for MINPACK-1",
    Argonne National Laboratory report ANL-80-74 (1980).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from symgrad.errors import InputError
from symgrad.optimize._lm_checks import check_bounds, runaway_parameters
from symgrad.optimize._lm_step import lm_parameter, pivoted_qr

__all__ = ["LMResult", "lm_solve"]

EPS = np.finfo(np.float64).eps

MESSAGES = {
    1: "ftol: both the actual and the predicted relative reductions of the sum of squares are at most ftol",
    2: "xtol: the relative change of the scaled parameters is at most xtol",
    3: "ftol and xtol: the relative reductions are at most ftol and the relative step at most xtol",
    4: "gtol: the cosine of the angle between the residuals and every Jacobian column is at most gtol",
    5: "max_nfev: the number of residual evaluations reached max_nfev",
    6: "ftol is too small: no further reduction of the sum of squares is possible in float64",
    7: "xtol is too small: no further improvement of the parameters is possible in float64",
    8: "gtol is too small: the residuals are orthogonal to the Jacobian columns to float64 precision",
}


@dataclass(frozen=True)
class LMResult:
    """The outcome of :func:`lm_solve`.

    Attributes:
        x: (n,) the parameters reached.
        residuals: (m,) ``r(x)``; jacobian: (m, n) ``J(x)``.
        cost: ``0.5 r.r``.
        nfev, njev: residual and Jacobian evaluations.
        status: MINPACK's ``info`` (1..8, see the module docstring); 0: the residuals
            at the start are not finite; -1: a parameter ran away while the residuals
            stopped depending on it (see ``warnings``).
        success: ``True`` only when one of ftol, xtol, gtol holds (status 1..4) and no
            parameter ran away.
        message: which test stopped the run, in words.
        active_mask: (n,) int: -1 at the lower bound, +1 at the upper bound, 0 free.
        nit: accepted steps; optimality: the gtol measure at ``x``.
        warnings: tuple of str, naming parameters by index ``x[i]``.
    """

    x: np.ndarray
    residuals: np.ndarray
    jacobian: np.ndarray
    cost: float
    nfev: int
    njev: int
    status: int
    success: bool
    message: str
    active_mask: np.ndarray
    nit: int = 0
    optimality: float = math.nan
    warnings: tuple = field(default_factory=tuple)


class _Problem:
    """``fun`` as the iteration sees it, counting evaluations.

    A plain callable returns ``(r, J)`` at every trial point; the ``J`` of the last
    trial is kept, so accepting it costs no second call.
    """

    def __init__(self, fun):
        self.split = hasattr(fun, "residuals_and_jacobian")
        if self.split:
            self.both = fun.residuals_and_jacobian
            self.only = getattr(fun, "residuals", None)
            if self.only is None:
                self.split = False
        elif callable(fun):
            self.both = fun
        else:
            raise TypeError(f"lm_solve: fun must be a callable x -> (r, J) or an object with "
                            f"residuals_and_jacobian(x), got {type(fun).__name__}")
        self.nfev = 0
        self.njev = 0
        self._last = None

    def residuals(self, x):
        """``r(x)`` at a trial point."""
        self.nfev += 1
        if self.split:
            return np.asarray(self.only(x), dtype=np.float64).reshape(-1)
        r, jac = self.both(x)
        r = np.asarray(r, dtype=np.float64).reshape(-1)
        self._last = (x, r, jac)
        return r

    def linearize(self, x, n, counted=False):
        """``(r, J)`` at ``x``; ``counted``: ``r(x)`` was the last trial evaluation."""
        if not counted:
            self.nfev += 1
        self.njev += 1
        if self._last is not None and self._last[0] is x:
            _, r, jac = self._last
        else:
            r, jac = self.both(x)
            r = np.asarray(r, dtype=np.float64).reshape(-1)
        self._last = None
        jac = np.asarray(jac, dtype=np.float64)
        if jac.shape != (len(r), n):
            raise InputError(f"lm_solve: fun returned a Jacobian of shape {jac.shape}; expected "
                             f"({len(r)}, {n}) for {len(r)} residuals and {n} parameters")
        return r, jac


def _norm(v: np.ndarray) -> float:
    """Euclidean norm without overflow for finite entries; inf or nan propagate."""
    big = float(np.max(np.abs(v))) if v.size else 0.0
    if big == 0.0 or not math.isfinite(big):
        return big if v.size else 0.0
    if 1e-150 < big < 1e150:
        return float(np.sqrt(v @ v))
    w = v / big
    return big * float(np.sqrt(w @ w))


def _factor(r: np.ndarray, jac: np.ndarray) -> np.ndarray:
    """``R_aug`` (n+1, n+1): the triangular factor of ``[J | r]`` (``Q^T r`` in its last column)."""
    m, n = jac.shape
    top = np.linalg.qr(np.column_stack([jac, r]), mode="r")
    out = np.zeros((n + 1, n + 1))
    out[:top.shape[0]] = top
    return out


def lm_solve(fun, x0, *, lower=None, upper=None, ftol=1e-8, xtol=1e-8, gtol=1e-8, max_nfev=None,
             x_scale=None) -> LMResult:
    """Minimise ``1/2 ||r(x)||^2`` by Levenberg-Marquardt with the exact Jacobian (MINPACK ``lmder``).

    Args:
        fun: a callable ``x -> (r, J)`` with ``r`` (m,) and ``J`` (m, n) float64, or an
            object with ``residuals_and_jacobian(x) -> (r, J)`` and, optionally,
            ``residuals(x) -> r`` (then trial points evaluate only the residuals).
        x0: (n,) starting point (never modified).
        lower, upper: (n,) bounds, ``-inf`` / ``inf`` for an open side; ``None``: open.
        ftol, xtol, gtol: the relative tolerances of the module docstring (>= 0).
        max_nfev: the largest number of residual evaluations; default ``100 (n + 1)``.
        x_scale: (n,) positive typical magnitudes of the parameters: fixes ``D = 1 / x_scale``
            instead of the column norms of ``J``.

    Returns:
        LMResult.

    Raises:
        InputError: ``x0``, bounds, tolerances or ``x_scale`` of the wrong shape or value.

    Example:
        >>> import numpy as np
        >>> t = np.linspace(0.0, 1.0, 12)
        >>> def fun(p):
        ...     e = np.exp(p[1] * t)
        ...     return p[0] * e - 2.0 * np.exp(-3.0 * t), np.column_stack([e, p[0] * t * e])
        >>> res = lm_solve(fun, [1.0, 0.0])
        >>> res.success, np.round(res.x, 10)
        (True, array([ 2., -3.]))
    """
    x = np.array(x0, dtype=np.float64, copy=True).reshape(-1)
    n = x.size
    if n == 0 or not np.all(np.isfinite(x)):
        raise InputError(f"lm_solve: x0 must be a non-empty vector of finite numbers, got {x0!r}")
    lo, hi = check_bounds(lower, upper, n)
    for name, tol in (("ftol", ftol), ("xtol", xtol), ("gtol", gtol)):
        if not (isinstance(tol, (int, float, np.floating)) and tol >= 0 and math.isfinite(tol)):
            raise InputError(f"lm_solve: {name} must be a finite number >= 0, got {tol!r}")
    max_nfev = 100 * (n + 1) if max_nfev is None else int(max_nfev)
    if max_nfev < 1:
        raise InputError(f"lm_solve: max_nfev must be a positive integer, got {max_nfev!r}")
    fixed_diag = None
    if x_scale is not None:
        fixed_diag = np.asarray(x_scale, dtype=np.float64).reshape(-1)
        if fixed_diag.shape != (n,) or not np.all((fixed_diag > 0) & np.isfinite(fixed_diag)):
            raise InputError(f"lm_solve: x_scale must hold {n} positive finite numbers, got {x_scale!r}")
        fixed_diag = 1.0 / fixed_diag
    x = np.clip(x, lo, hi)
    problem = _Problem(fun)
    with np.errstate(all="ignore"):
        return _iterate(problem, x, lo, hi, float(ftol), float(xtol), float(gtol), max_nfev, fixed_diag)


def _iterate(problem, x, lo, hi, ftol, xtol, gtol, max_nfev, fixed_diag) -> LMResult:
    n = x.size
    x_start = x.copy()
    r, jac = problem.linearize(x, n)
    fnorm = _norm(r)
    if not math.isfinite(fnorm) or not np.all(np.isfinite(jac)):
        what = "residuals" if not math.isfinite(fnorm) else "Jacobian"
        return _result(problem, x, r, jac, 0, f"the {what} at the starting point are not finite; "
                       "start elsewhere or bound the parameters", lo, hi, np.full(n, math.nan), math.nan, 0, ())
    diag = fixed_diag.copy() if fixed_diag is not None else None
    par, delta, xnorm = 0.0, 0.0, 0.0
    status, nit, first = 0, 0, True
    gnorm = math.nan
    while True:
        base = _factor(r, jac)
        acnorm = np.sqrt(np.einsum("ij,ij->j", jac, jac))
        grad = base[:n, :n].T @ base[:n, n]  # J^T r
        if first:
            if diag is None:
                diag = np.where(acnorm == 0.0, 1.0, acnorm)
            xnorm = _norm(diag * x)
            delta = 100.0 * xnorm if xnorm != 0.0 else 100.0
        free = ~(((x <= lo) & (grad > 0)) | ((x >= hi) & (grad < 0)))
        cols = np.flatnonzero(free)
        gnorm = 0.0
        if fnorm != 0.0:
            with_norm = free & (acnorm != 0.0)
            if with_norm.any():
                gnorm = float(np.max(np.abs(grad[with_norm]) / (acnorm[with_norm] * fnorm)))
        if gnorm <= gtol:
            status = 4
            break
        if fixed_diag is None:
            diag = np.maximum(diag, acnorm)
        sub = base[:, np.append(cols, n)]
        rf, perm, qtf = pivoted_qr(sub[:, :-1], sub[:, -1])
        while True:
            par, step_free = lm_parameter(rf, perm, diag[cols], qtf, delta, par)
            step = np.zeros(n)
            step[cols] = step_free
            trial = np.clip(x + step, lo, hi)
            clipped = not np.array_equal(trial, x + step)
            step = trial - x
            pnorm = _norm(diag * step)
            if first:
                delta = min(delta, pnorm)
            r_new = problem.residuals(trial)
            fnorm_new = _norm(r_new)
            if not math.isfinite(fnorm_new):
                fnorm_new = math.inf
            actred = 1.0 - (fnorm_new / fnorm) ** 2 if 0.1 * fnorm_new < fnorm else -1.0
            jp = _norm(base[:n, :n] @ step)
            if clipped:
                prered = (-2.0 * float(grad @ step) - jp * jp) / fnorm**2
                dirder = float(grad @ step) / fnorm**2
            else:
                t1, t2 = jp / fnorm, math.sqrt(par) * pnorm / fnorm
                prered = t1 * t1 + 2.0 * t2 * t2
                dirder = -(t1 * t1 + t2 * t2)
            ratio = actred / prered if prered > 0.0 else 0.0
            if ratio <= 0.25:
                shrink = 0.5 if actred >= 0.0 else 0.5 * dirder / (dirder + 0.5 * actred)
                if 0.1 * fnorm_new >= fnorm or not shrink >= 0.1:
                    shrink = 0.1
                delta = shrink * min(delta, pnorm / 0.1)
                par /= shrink
            elif par == 0.0 or ratio >= 0.75:
                delta = pnorm / 0.5
                par *= 0.5
            accepted = ratio >= 1e-4
            if accepted:
                x = trial
                xnorm = _norm(diag * x)
                nit += 1
            status = 0
            if abs(actred) <= ftol and prered <= ftol and 0.5 * ratio <= 1.0:
                status = 1
            if delta <= xtol * xnorm:
                status = 3 if status == 1 else 2
            if status == 0:
                if problem.nfev >= max_nfev:
                    status = 5
                elif abs(actred) <= EPS and prered <= EPS and 0.5 * ratio <= 1.0:
                    status = 6
                elif delta <= EPS * xnorm:
                    status = 7
                elif gnorm <= EPS:
                    status = 8
            if accepted:
                # The Jacobian at the new point: fetched with the residuals in one call.
                r, jac = problem.linearize(x, n, counted=True)
                fnorm = _norm(r)
                first = False
                break
            if status:
                break
        if status:
            break
    if status and status != 4:
        gnorm = _optimality(r, jac, x, lo, hi)
    runaway = runaway_parameters(x, x_start, r, jac, status)
    warnings = tuple(runaway)
    message = MESSAGES.get(status, "")
    if runaway and 1 <= status <= 4:
        message = f"{message}; but {runaway[0]}"
        status = -1
    return _result(problem, x, r, jac, status, message, lo, hi, grad, gnorm, nit, warnings)


def _optimality(r, jac, x, lo, hi) -> float:
    """The gtol measure at ``x`` over the parameters not held by a bound."""
    grad = jac.T @ r
    acnorm = np.sqrt(np.einsum("ij,ij->j", jac, jac))
    fnorm = _norm(r)
    free = ~(((x <= lo) & (grad > 0)) | ((x >= hi) & (grad < 0))) & (acnorm != 0)
    if fnorm == 0 or not free.any():
        return 0.0
    return float(np.max(np.abs(grad[free]) / (acnorm[free] * fnorm)))


def _result(problem, x, r, jac, status, message, lo, hi, grad, gnorm, nit, warnings) -> LMResult:
    active = np.zeros(x.size, dtype=np.int64)
    active[(x <= lo) & np.isfinite(lo)] = -1
    active[(x >= hi) & np.isfinite(hi)] = 1
    cost = 0.5 * float(r @ r) if np.all(np.isfinite(r)) else math.inf
    return LMResult(x=x, residuals=r, jacobian=jac, cost=cost, nfev=problem.nfev, njev=problem.njev,
                    status=int(status), success=1 <= status <= 4, message=message, active_mask=active,
                    nit=nit, optimality=gnorm, warnings=warnings)
