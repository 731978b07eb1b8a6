"""Least squares with the exact Jacobian: Levenberg–Marquardt and the fit report.

A residual expression ``r(p; d)`` over parameters ``p`` and data symbols ``d``
gives one residual per sample, ``r_j = r(p; d_j)``. Its Jacobian
``J[j, i] = dr_j/dp_i`` is derived symbolically (``symgrad.jacobian``) and
compiled once (``symgrad.compile``), broadcasting over the data columns.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from symgrad._expr import as_expr, as_symbols
from symgrad.errors import InputError
from symgrad.optimize._problem import check_count, check_tol, check_x0
from symgrad.optimize._result import Result, make_result

__all__ = ["FitReport", "LeastSquares", "fit_report", "levenberg_marquardt"]


class LeastSquares:
    """A residual compiled with its exact Jacobian.

    Args:
        residual: scalar SymPy expression ``r(p; d)``.
        params: the parameter symbols ``p``, in vector order.
        data: the data symbols ``d``, in column order.

    Example:
        >>> import numpy as np, sympy as sp
        >>> a, t, y = sp.symbols("a t y")
        >>> ls = LeastSquares(a * t - y, [a], [t, y])
        >>> cols = ls.prepare([np.array([1.0, 2.0]), np.array([2.0, 3.0])])
        >>> ls.residuals(np.array([1.0]), cols), ls.jacobian(np.array([1.0]), cols)
        (array([-1., -1.]), array([[1.],
               [2.]]))
    """

    def __init__(self, residual, params, data=()):
        import symgrad

        self.residual = as_expr(residual, "residual")
        self.params = as_symbols(params, "params")
        self.data = as_symbols(data, "data") if len(data) else ()
        args = list(self.params) + list(self.data)
        self._r = symgrad.compile(self.residual, args)
        self._j = symgrad.compile(symgrad.jacobian([self.residual], list(self.params)), args)

    def __repr__(self) -> str:
        return f"LeastSquares({self.residual}, params={self.params}, data={self.data})"

    def prepare(self, columns) -> tuple[np.ndarray, ...]:
        """Check the data columns (one 1-D finite numeric array per data symbol, equal lengths)."""
        columns = tuple(columns)
        if len(columns) != len(self.data):
            names = ", ".join(map(str, self.data)) or "none"
            raise InputError(f"expected {len(self.data)} data column(s), one per data symbol ({names}); "
                             f"got {len(columns)}")
        out = []
        for s, c in zip(self.data, columns):
            try:
                col = np.ascontiguousarray(c, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InputError(f"data column {s} is not numeric; pass numbers") from exc
            if col.ndim != 1 or col.size == 0:
                raise InputError(f"data column {s} must be a non-empty 1-D array, got shape {col.shape}")
            if not np.all(np.isfinite(col)):
                raise InputError(f"data column {s} holds NaN or infinity; remove or impute those rows")
            out.append(col)
        if len({len(c) for c in out}) > 1:
            detail = ", ".join(f"{s}: {len(c)}" for s, c in zip(self.data, out))
            raise InputError(f"data columns must all have the same length; got {detail}")
        return tuple(out)

    def n_samples(self, columns) -> int:
        return len(columns[0]) if columns else 1

    def residuals(self, x: np.ndarray, columns) -> np.ndarray:
        """``r_j``, shape (N,)."""
        return np.broadcast_to(np.asarray(self._r(*x, *columns), dtype=np.float64), (self.n_samples(columns),))

    def jacobian(self, x: np.ndarray, columns) -> np.ndarray:
        """``J[j, i] = dr_j/dp_i``, shape (N, n)."""
        jac = np.asarray(self._j(*x, *columns), dtype=np.float64)
        return np.broadcast_to(jac.reshape(-1, len(self.params)), (self.n_samples(columns), len(self.params)))


@dataclass(frozen=True)
class FitReport:
    """Parameter uncertainties of a least-squares fit, as ``scipy.optimize.curve_fit`` scales them.

    With ``N`` samples, ``n`` parameters, residuals ``r`` and Jacobian ``J`` at
    the fitted parameters: ``s^2 = sum r_j^2 / (N - n)``, ``covariance = s^2 (J^T J)^{-1}``
    (a pseudo-inverse that drops singular values below ``eps * max(N, n) * s_max``),
    ``stderr = sqrt(diag(covariance))``. With ``N <= n`` the uncertainties are infinite.
    """

    params: tuple
    values: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    residual_variance: float
    sse: float
    n_samples: int
    dof: int

    @property
    def correlation(self) -> np.ndarray:
        """``covariance[i, k] / (stderr[i] stderr[k])``."""
        return self.covariance / np.outer(self.stderr, self.stderr)

    def __str__(self) -> str:
        lines = [f"least-squares fit: {self.n_samples} samples, {len(self.params)} parameters, "
                 f"{self.dof} degrees of freedom, residual std {math.sqrt(self.residual_variance):.6g}",
                 f"  {'parameter':<10s} {'value':>14s} {'std error':>12s} {'rel. %':>8s}"]
        for s, v, e in zip(self.params, self.values, self.stderr):
            rel = abs(e / v) * 100 if v != 0 else math.inf
            lines.append(f"  {str(s):<10s} {v:>14.8g} {e:>12.4g} {rel:>8.3g}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(str(s))}</td><td>{v:.8g}</td><td>{e:.4g}</td></tr>"
                       for s, v, e in zip(self.params, self.values, self.stderr))
        return (f"<p>least-squares fit: {self.n_samples} samples, {self.dof} degrees of freedom</p>"
                f"<table><tr><th>parameter</th><th>value</th><th>std error</th></tr>{rows}</table>")


def _report(problem: LeastSquares, x: np.ndarray, columns) -> FitReport:
    r = problem.residuals(x, columns)
    jac = problem.jacobian(x, columns)
    n_samples, n = jac.shape
    sse = float(r @ r)
    dof = n_samples - n
    _, sv, vt = np.linalg.svd(jac, full_matrices=False)
    keep = sv > np.finfo(np.float64).eps * max(jac.shape) * (sv[0] if sv.size else 0.0)
    vt, sv = vt[keep], sv[keep]
    jtj_inv = (vt.T / sv**2) @ vt
    if dof > 0:
        variance = sse / dof
        cov = jtj_inv * variance
    else:
        variance = math.inf
        cov = np.full((n, n), math.inf)
    return FitReport(problem.params, np.array(x, copy=True), np.sqrt(np.diag(cov)), cov, variance, sse,
                     n_samples, dof)


def fit_report(residual, params, data, columns, x) -> FitReport:
    """The :class:`FitReport` of a least-squares fit at parameters ``x``.

    Example:
        >>> import numpy as np, sympy as sp
        >>> a, t, y = sp.symbols("a t y")
        >>> rep = fit_report(a * t - y, [a], [t, y], [np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])], [1.0])
        >>> round(float(rep.stderr[0]), 12)  # s^2 = 1/2, J^T J = 14
        0.188982236505
    """
    problem = residual if isinstance(residual, LeastSquares) else LeastSquares(residual, params, data)
    cols = problem.prepare(columns)
    return _report(problem, check_x0(x, len(problem.params), problem.params, "fit_report"), cols)


def levenberg_marquardt(residual, params, data, columns, x0, *, steps: int = 200, tol=1e-10,
                        xtol: float = 1e-12, damping: float = 1e-3) -> Result:
    """Minimize ``L(p) = mean_j r_j(p)^2`` by Levenberg–Marquardt with the exact Jacobian.

    With ``A = J^T J``, ``D = diag(A)`` and the damping ``lam``, each trial step solves
    ``(A + lam D) delta = -J^T r``; a step that lowers the sum of squares is taken and
    ``lam <- lam / 10``, otherwise ``lam <- 10 lam``. The run converges when
    ``max |grad L| <= tol`` or a taken step has ``||delta|| <= xtol (||p|| + xtol)``.

    Args:
        residual: scalar SymPy expression ``r(p; d)``, or a :class:`LeastSquares`.
        params: parameter symbols ``p``; data: data symbols ``d``.
        columns: one 1-D array per data symbol.
        x0: starting parameters (never modified).
        steps: the largest number of trial steps.
        tol, xtol: convergence thresholds (see above).
        damping: the starting ``lam``.

    Returns:
        Result: ``loss`` the mean squared residual, ``history`` one entry per taken
        step, ``report`` a :class:`FitReport` (standard errors, covariance).

    References:
        K. Levenberg (1944); D. W. Marquardt, "An Algorithm for Least-Squares
        Estimation of Nonlinear Parameters", SIAM J. Appl. Math. 11 (1963).

    Example:
        >>> import numpy as np, sympy as sp
        >>> a, b, t, y = sp.symbols("a b t y")
        >>> ts = np.linspace(0, 1, 20)
        >>> r = levenberg_marquardt(a * sp.exp(b * t) - y, [a, b], [t, y], [ts, 2 * np.exp(-3 * ts)], [1.0, 0.0])
        >>> r.converged, np.round(r.x, 8)
        (True, array([ 2., -3.]))
    """
    problem = residual if isinstance(residual, LeastSquares) else LeastSquares(residual, params, data)
    cols = problem.prepare(columns)
    x = check_x0(x0, len(problem.params), problem.params, "levenberg_marquardt")
    steps = check_count(steps, "steps")
    tol = check_tol(tol)
    lam = float(damping)
    n_samples = problem.n_samples(cols)
    with np.errstate(over="ignore", invalid="ignore"):
        r = problem.residuals(x, cols)
        sse = float(r @ r)
        if not math.isfinite(sse):
            raise InputError(f"levenberg_marquardt: the residuals at x0 are not finite (sum of squares {sse})")
        history, taken = [sse / n_samples], 0
        converged, message = False, f"reached the step limit ({steps} steps)"
        jac = problem.jacobian(x, cols)
        for _ in range(steps):
            grad = jac.T @ r
            worst = float(np.max(np.abs(grad))) * 2 / n_samples
            if tol is not None and worst <= tol:
                converged, message = True, f"converged: the gradient's largest entry {worst:.3g} <= tol {tol:.3g}"
                break
            a = jac.T @ jac
            scaled = np.maximum(np.diag(a), 1e-300)
            try:
                delta = np.linalg.solve(a + lam * np.diag(scaled), -grad)
            except np.linalg.LinAlgError:
                delta = np.full_like(x, np.nan)
            x_new = x + delta
            r_new = problem.residuals(x_new, cols)
            sse_new = float(r_new @ r_new)
            if math.isfinite(sse_new) and sse_new < sse:
                x, r, sse = x_new, r_new, sse_new
                jac = problem.jacobian(x, cols)
                lam = max(lam / 10.0, 1e-15)
                taken += 1
                history.append(sse / n_samples)
                if float(np.linalg.norm(delta)) <= xtol * (float(np.linalg.norm(x)) + xtol):
                    converged, message = True, "converged: the step became smaller than xtol"
                    break
            else:
                lam *= 10.0
                if lam > 1e16:  # even a tiny gradient step fails: a minimum to rounding
                    converged, message = True, "converged: no step lowers the sum of squares any more"
                    break
    report = _report(problem, x, cols)
    return make_result(x, problem.params, sse / n_samples, history, converged, message, taken, report)
