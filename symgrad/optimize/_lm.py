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

Geodesic acceleration (Transtrum & Sethna 2012), for a problem that offers the
second directional derivative ``r_vv = v^T H v`` of its residuals (``H`` the exact
Hessian of each residual: ``LeastSquares`` and ``curve_fit`` derive it): a damped
step ``v`` (``par > 0``) becomes ``v + a/2`` with

    a = -(J^T J + par D^2)^{-1} J^T r_vv      used while  2 ||D a|| <= ALPHA ||D v||,

the second-order correction that lets a step follow a curved, narrow valley
instead of leaving it. It starts at the ``ACCELERATE_AFTER``-th accepted step, so a
fit that converges sooner never evaluates (nor compiles) ``r_vv``. The radius,
``par`` and the ratio ``rho`` are those of ``v``, so the tests above are unchanged.
On NIST's Bennett5 from the first start the iteration then needs 109 residual
evaluations (and 81 of ``r_vv``) instead of 765.

Where this differs from ``lmder``: the first trust-region radius is ``10 ||D x0||``
(``STEP_BOUND``, lmder's ``factor``); the acceleration above; after ftol, xtol or
gtol holds, up to ten Gauss-Newton steps polish the answer (each kept only if
``||r||`` does not grow beyond rounding; one that would is retried with its
acceleration: they add digits where the tests stop early, e.g. from 3 to 5 on
NIST's ENSO and from 3.5 to 11 on Bennett5 with the default tolerances); and a run
whose tests hold while the residuals no longer depend on some parameter (it ran
away along a flat direction) is not a success: ``status = -1``, and a warning names
the parameter.

References:
    J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and theory",
    Lecture Notes in Mathematics 630, Springer (1978), 105-116.
    M. K. Transtrum, J. P. Sethna, "Improvements to the Levenberg-Marquardt algorithm
    for nonlinear least-squares minimization", arXiv:1201.5885 (2012).
    J. J. Moré, B. S. Garbow, K. E. Hillstrom, "User guide for MINPACK-1",
    Argonne National Laboratory report ANL-80-74 (1980).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from symgrad.errors import InputError
from symgrad.optimize._lm_checks import check_bounds, check_max_nfev, runaway_parameters
from symgrad.optimize._lm_problem import as_problem, norm
from symgrad.optimize._lm_step import acceleration, gradient_state, lm_parameter, pivoted_qr, propose, safe_norm

__all__ = ["LMResult", "lm_solve"]

EPS = np.finfo(np.float64).eps
#: The first trust-region radius is ``STEP_BOUND ||D x0||`` (lmder's ``factor``, which its
#: guide puts between 0.1 and 100, recommending 100). 10 keeps the first steps from
#: leaping to a distant plateau: on the 54 NIST StRD fits it turns the failures at
#: MGH09 and BoxBOD from the first start into certified answers, and costs none.
STEP_BOUND = 10.0
#: Geodesic acceleration ``a`` is added to a step ``v`` only while ``2 ||D a|| / ||D v|| <= ALPHA``
#: (the value Transtrum and Sethna recommend).
ALPHA = 0.75
#: Accepted steps before the acceleration starts: 32 of the 54 NIST fits at 1e-14 converge
#: sooner (they would gain 0-3 evaluations each from it, and pay its compilation).
ACCELERATE_AFTER = 10
#: Relative change of ``||r||`` below which the Gauss-Newton polish reads it as rounding.
ROUNDING = 1e-13

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
        ncev: evaluations of the residuals' second directional derivative (geodesic
            acceleration; 0 for a problem that offers none). Not counted in ``nfev``,
            as ``lmder`` does not count Jacobians there.
        status: MINPACK's ``info`` (1..8, see the module docstring); 0: the residuals
            at the start are not finite; -1: a parameter ran away while the residuals
            stopped depending on it (see ``warnings``); -2: the Jacobian at an accepted
            point is not finite.
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
    ncev: int = 0
    warnings: tuple = field(default_factory=tuple)


def lm_solve(fun, x0, *, lower=None, upper=None, ftol=1e-8, xtol=1e-8, gtol=1e-8, max_nfev=None,
             x_scale=None) -> LMResult:
    """Minimise ``1/2 ||r(x)||^2`` by Levenberg-Marquardt with the exact Jacobian (MINPACK ``lmder``).

    Args:
        fun: a callable ``x -> (r, J)`` with ``r`` (m,) and ``J`` (m, n) float64 (called at
            every trial point; the ``J`` of an accepted trial is reused), or an object
            with ``residuals_and_jacobian(x) -> (r, J)`` and, optionally,
            ``residuals(x) -> r`` (then trial points evaluate only the residuals); either
            may offer ``second_directional(x, v) -> r_vv`` (m,) for geodesic acceleration; or,
            for data too large to hold ``J``, an object with ``sum_of_squares(x)`` and
            ``triangular_factor(x) -> (R, r.r)``, ``R`` the (n+1, n+1) triangular factor
            of a QR factorisation of ``[J | r]`` (then ``residuals`` and ``jacobian`` of
            the result are ``None``).
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
    max_nfev = check_max_nfev(max_nfev, n, "lm_solve")
    fixed_diag = None
    if x_scale is not None:
        fixed_diag = np.asarray(x_scale, dtype=np.float64).reshape(-1)
        if fixed_diag.shape != (n,) or not np.all((fixed_diag > 0) & np.isfinite(fixed_diag)):
            raise InputError(f"lm_solve: x_scale must hold {n} positive finite numbers, got {x_scale!r}")
        fixed_diag = 1.0 / fixed_diag
    x = np.clip(x, lo, hi)
    problem = as_problem(fun, n)
    with np.errstate(all="ignore"):
        return _iterate(problem, x, lo, hi, float(ftol), float(xtol), float(gtol), max_nfev, fixed_diag)


def _iterate(problem, x, lo, hi, ftol, xtol, gtol, max_nfev, fixed_diag) -> LMResult:
    x_start = x.copy()
    lin = problem.linearize(x)
    if not math.isfinite(lin.fnorm):
        return _result(problem, x, lin, 0, "the residuals or the Jacobian at the starting point are not "
                       "finite; start elsewhere or bound the parameters", lo, hi, math.nan, 0, ())
    diag = fixed_diag.copy() if fixed_diag is not None else np.where(lin.acnorm == 0.0, 1.0, lin.acnorm)
    xnorm = norm(diag * x)
    delta = STEP_BOUND * xnorm if xnorm != 0.0 else STEP_BOUND
    par, status, nit, first = 0.0, 0, 0, True
    while True:
        fnorm, base = lin.fnorm, lin.factor
        grad, cols, gnorm = gradient_state(base, lin.acnorm, fnorm, x, lo, hi)
        if gnorm <= gtol:
            status = 4
            break
        if fixed_diag is None:
            diag = np.maximum(diag, lin.acnorm)
        while True:
            par, trial, pnorm, jp, gstep, clipped = propose(base, cols, diag, delta, par, x, lo, hi)
            if first:
                delta = min(delta, pnorm)
            if problem.curvature is not None and nit >= ACCELERATE_AFTER and not clipped and pnorm > 0.0 and par > 0.0:
                trial = _accelerate(problem, lin, x, trial, cols, diag, par, lo, hi)
            fnorm_new = problem.trial(trial)
            if not math.isfinite(fnorm_new):
                fnorm_new = math.inf
            actred = 1.0 - (fnorm_new / fnorm) ** 2 if 0.1 * fnorm_new < fnorm else -1.0
            if clipped:
                prered = (-2.0 * gstep - jp * jp) / fnorm**2
                dirder = gstep / fnorm**2
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
                xnorm = float(safe_norm(diag * x))
                nit += 1
            status = _tests(actred, prered, ratio, delta, xnorm, gnorm, ftol, xtol, problem.nfev >= max_nfev)
            if accepted:
                lin = problem.linearize(x, counted=True)
                first = False
                if not math.isfinite(lin.fnorm):
                    status = -2
                break
            if status:
                break
        if status:
            break
    if 1 <= status <= 4 and math.isfinite(lin.fnorm):
        x, lin = _polish(problem, x, lin, lo, hi, max_nfev)
    gnorm = gradient_state(lin.factor, lin.acnorm, lin.fnorm, x, lo, hi)[2]
    runaway = runaway_parameters(x, x_start, lin.fnorm, lin.acnorm, (x <= lo) | (x >= hi))
    message = MESSAGES.get(status, "")
    if status == -2:
        message = ("the Jacobian at an accepted point is not finite (the residuals are); "
                   "bound the parameters away from where the model's derivative breaks down")
    if runaway and 1 <= status <= 4:
        message = f"{message}; but {runaway[0]}"
        status = -1
    return _result(problem, x, lin, status, message, lo, hi, gnorm, nit, tuple(runaway))


def _accelerate(problem, lin, x, trial, cols, diag, par, lo, hi):
    """The trial ``x + v + a/2`` with geodesic acceleration ``a``, or ``x + v`` where it does not help.

    ``a`` corrects the step ``v`` for the curvature of the residuals along it
    (:func:`symgrad.optimize._lm_step.acceleration`, from the exact ``r_vv``); it is
    used only while ``2 ||D a|| <= ALPHA ||D v||``, so that the second-order term
    stays smaller than the first, and while the point stays in the box.
    """
    v = trial - x
    rvv = problem.second_directional(x, v)
    if rvv.shape != lin.r.shape or not np.all(np.isfinite(rvv)):
        return trial
    a = acceleration(lin.jac, rvv, cols, diag, par)
    if not 2.0 * norm(diag * a) <= ALPHA * norm(diag * v):
        return trial
    out = x + v + 0.5 * a
    if np.any(out < lo) or np.any(out > hi):
        return trial
    return out


def _tests(actred, prered, ratio, delta, xnorm, gnorm, ftol, xtol, exhausted) -> int:
    """MINPACK's ``info`` after a trial step: 1-3 the tests, 5 out of evaluations, 6-8 float64 limits."""
    status = 0
    if abs(actred) <= ftol and prered <= ftol and 0.5 * ratio <= 1.0:
        status = 1
    if delta <= xtol * xnorm:
        status = 3 if status == 1 else 2
    if status:
        return status
    if exhausted:
        return 5
    if abs(actred) <= EPS and prered <= EPS and 0.5 * ratio <= 1.0:
        return 6
    if delta <= EPS * xnorm:
        return 7
    if gnorm <= EPS:
        return 8
    return 0


def _polish(problem, x, lin, lo, hi, max_nfev, steps=10):
    """Up to ``steps`` Gauss-Newton steps after a test held, each kept only if ``||r||`` does not grow.

    The ftol, xtol and gtol tests stop the iteration when the sum of squares (or the
    step) changes relatively little; the parameters can then still be a multiple
    of ``sqrt(ftol)`` of their standard error from the minimiser. A Gauss-Newton
    step (the Levenberg-Marquardt step with ``par = 0``) removes most of that error
    for one residual evaluation where the residuals at the minimum are small, and
    a fixed fraction of it per step where they are large. Close to the minimiser
    ``||r||`` changes by less than its rounding error, so a step is kept unless it
    raises ``||r||`` by more than ``ROUNDING`` (relative); the steps stop at the first
    that would, that moves no parameter by more than a few rounding units, or, for a
    problem given as sums over the data (``problem.factored``), after the first kept
    step that changed ``||r||`` by less than ``ROUNDING``: on 10^6 samples the steps after
    it only trade the rounding errors of the sums, one pass over the data each (on
    small data they still add digits: NIST's mean goes from 9.5 to 10.2 at 1e-14).
    """
    n = x.size
    for _ in range(steps):
        if problem.nfev >= max_nfev or lin.fnorm == 0.0:
            break
        base = lin.factor
        cols = gradient_state(base, lin.acnorm, lin.fnorm, x, lo, hi)[1]
        sub = np.ascontiguousarray(base[:, np.append(cols, n)])
        rf, perm, qtf = pivoted_qr(sub[:, :-1].copy(), sub[:, -1].copy())
        _, step_free = lm_parameter(rf, perm, np.ones(cols.size), qtf, math.inf, 0.0)
        trial = x.copy()
        trial[cols] += step_free
        trial = np.clip(trial, lo, hi)
        if not np.all(np.isfinite(trial)) or np.all(np.abs(trial - x) <= 4 * EPS * np.abs(x)):
            break
        if not problem.trial(trial) <= lin.fnorm * (1.0 + ROUNDING):
            if problem.curvature is None or problem.nfev >= max_nfev:
                break
            # the straight step left a curved valley: follow it with geodesic acceleration
            scale = np.where(lin.acnorm > 0.0, lin.acnorm, 1.0)  # unit-invariant, as D is
            bent = _accelerate(problem, lin, x, trial, cols, scale, 0.0, lo, hi)
            if bent is trial or not problem.trial(bent) <= lin.fnorm * (1.0 + ROUNDING):
                break
            trial = bent
        new = problem.linearize(trial, counted=True)
        if not new.fnorm <= lin.fnorm * (1.0 + ROUNDING):
            break
        settled = new.fnorm >= lin.fnorm * (1.0 - ROUNDING)
        x, lin = trial, new
        if settled and problem.factored:  # what is left is the rounding of sums over >= FACTOR_FROM samples
            break
    return x, lin


def _result(problem, x, lin, status, message, lo, hi, gnorm, nit, warnings) -> LMResult:
    active = np.zeros(x.size, dtype=np.int64)
    active[(x <= lo) & np.isfinite(lo)] = -1
    active[(x >= hi) & np.isfinite(hi)] = 1
    cost = 0.5 * lin.fnorm**2 if math.isfinite(lin.fnorm) else math.inf
    return LMResult(x=x, residuals=lin.r, jacobian=lin.jac, cost=cost, nfev=problem.nfev, njev=problem.njev,
                    status=int(status), success=1 <= status <= 4, message=message, active_mask=active,
                    nit=nit, optimality=gnorm, warnings=warnings, ncev=problem.ncev)
