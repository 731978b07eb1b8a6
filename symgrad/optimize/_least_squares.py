"""Least squares with the exact Jacobian: Levenberg–Marquardt and the fit report.

A residual expression ``r(p; d)`` over parameters ``p`` and data symbols ``d``
gives one residual per sample, ``r_j = r(p; d_j)``. Its Jacobian
``J[j, i] = dr_j/dp_i`` is derived symbolically and compiled once into fused loops
over the data that read the parameters as scalars (``_ls_kernels``). Up to
``FACTOR_FROM`` samples the solver gets ``r`` and ``J``; from there on only the
triangular factor of ``[J | r]``, so ``J`` is never stored: a trial point costs one
threaded pass summing ``[J | r]^T [J | r]``, whose Cholesky factor serves when the
trial is accepted, and where ``J`` is too ill-conditioned for that, the blocked QR of
``[J | r]``. The solver is :func:`symgrad.optimize._lm.lm_solve` (MINPACK's
``lmder``), and the standard errors come from the blocked QR factor.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from symgrad._expr import as_expr, as_symbols
from symgrad.errors import InputError
from symgrad.optimize._lm import lm_solve
from symgrad.optimize._lm_problem import factor, gram_factor
from symgrad.optimize._lm_step import pivoted_qr
from symgrad._ls_kernels import ResidualKernels
from symgrad.optimize._problem import check_count, check_x0
from symgrad.optimize._result import Result, make_result

__all__ = ["FACTOR_FROM", "FitReport", "LeastSquares", "fit_report", "levenberg_marquardt"]

#: From this many samples on, the solver reads the blocked QR factor instead of ``J``.
FACTOR_FROM = 50_000


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
        from symgrad.jit import check_arguments

        self.residual = as_expr(residual, "residual")
        self.params = as_symbols(params, "params")
        self.data = as_symbols(data, "data") if len(data) else ()
        check_arguments([self.residual], list(self.params) + list(self.data), "params + data")
        self._kernels = ResidualKernels(self.residual, self.params, self.data)

    @property
    def source(self) -> str:
        """The generated source of the fused kernels."""
        return self._kernels.source.text

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

    def _theta(self, x) -> np.ndarray:
        if type(x) is np.ndarray and x.dtype == np.float64 and x.shape == (len(self.params),) and x.flags.c_contiguous:
            return x
        return np.ascontiguousarray(x, dtype=np.float64).reshape(len(self.params))

    def residuals(self, x: np.ndarray, columns) -> np.ndarray:
        """``r_j``, shape (N,)."""
        return self._kernels.residuals(self._theta(x), tuple(columns), self.n_samples(columns))

    def jacobian(self, x: np.ndarray, columns) -> np.ndarray:
        """``J[j, i] = dr_j/dp_i``, shape (N, n)."""
        return self._kernels.residuals_jacobian(self._theta(x), tuple(columns), self.n_samples(columns))[1]

    def residuals_and_jacobian(self, x: np.ndarray, columns):
        """``(r, J)`` in one pass over the data."""
        return self._kernels.residuals_jacobian(self._theta(x), tuple(columns), self.n_samples(columns))

    def second_directional(self, x: np.ndarray, v: np.ndarray, columns) -> np.ndarray:
        """``v^T H_j v``, shape (N,): the exact second derivative of ``r_j(x + t v)`` at ``t = 0``."""
        return self._kernels.second_directional(self._theta(x), v, tuple(columns), self.n_samples(columns))

    def problem(self, columns, factor: bool | None = None):
        """The problem ``lm_solve`` reads, bound to checked ``columns``.

        ``factor``: hand over only the blocked QR factor of ``[J | r]`` and the sum of
        squares (default: from ``FACTOR_FROM`` samples on) instead of ``r`` and ``J``.
        """
        n_samples = self.n_samples(columns)
        if factor is None:
            factor = n_samples >= FACTOR_FROM
        return (_Factored if factor else _Dense)(self, tuple(columns), n_samples)


class _Dense:
    """``residuals_and_jacobian(x)`` of a :class:`LeastSquares` on its data.

    Trial points get the Jacobian too (for data this small it costs little, and an
    accepted trial needs no second pass), so a fit compiles one kernel.
    """

    def __init__(self, ls, columns, n_samples):
        self.kernels, self.theta, self.columns, self.n_samples = ls._kernels, ls._theta, columns, n_samples

    def residuals(self, x):
        return self.kernels.residuals(self.theta(x), self.columns, self.n_samples)

    def residuals_and_jacobian(self, x):
        return self.kernels.residuals_jacobian(self.theta(x), self.columns, self.n_samples)

    def __call__(self, x):
        return self.residuals_and_jacobian(x)

    def second_directional(self, x, v):
        """``v^T H_j v`` for every sample: the exact curvature of the residuals along ``v``."""
        return self.kernels.second_directional(self.theta(x), v, self.columns, self.n_samples)


class _Factored(_Dense):
    """``sum_of_squares(x)`` and ``triangular_factor(x)`` for data too large to store ``J``.

    A trial point costs one fused threaded pass that sums ``G = [J | r]^T [J | r]``
    (whose last entry is the sum of squares); when the trial is accepted, its ``G``
    gives the factor by Cholesky (:func:`gram_factor`) with no second pass. Where
    ``J`` is too ill-conditioned for that, the factor is the blocked QR of ``[J | r]``
    (``qr_factor``), which the fit report always uses.
    """

    def __init__(self, ls, columns, n_samples):
        super().__init__(ls, columns, n_samples)
        self._last = None

    def _gram(self, x):
        theta = self.theta(x)
        if self._last is not None and np.array_equal(self._last[0], theta):
            return self._last[1]
        gram = self.kernels.gram(theta, self.columns, self.n_samples)
        self._last = (theta.copy(), gram)
        return gram

    def sum_of_squares(self, x):
        return float(self._gram(x)[-1, -1])

    def triangular_factor(self, x):
        gram = self._gram(x)
        rfac = gram_factor(gram)
        if rfac is None:
            return self.qr_factor(x)
        return rfac, float(gram[-1, -1])

    def qr_factor(self, x):
        return self.kernels.triangular_factor(self.theta(x), self.columns, self.n_samples)


@dataclass(frozen=True)
class FitReport:
    """Parameter uncertainties of a least-squares fit, as ``scipy.optimize.curve_fit`` scales them.

    With ``N`` samples, ``n`` parameters, residuals ``r`` and Jacobian ``J`` at
    the fitted parameters: ``s^2 = sum r_j^2 / (N - n)``, ``covariance = s^2 (J^T J)^{-1}``
    with ``(J^T J)^{-1} = R^{-1} R^{-T}`` from the triangular factor ``R`` of a QR
    factorisation of ``J`` (never ``J^T J`` itself, whose condition number is squared);
    where ``J`` is numerically rank deficient, a pseudo-inverse that drops singular
    values below ``eps * max(N, n) * s_max``. ``stderr = sqrt(diag(covariance))``. With
    ``N <= n`` the uncertainties are infinite.
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


def _covariance_factor(rfac: np.ndarray, n_samples: int) -> np.ndarray:
    """``(J^T J)^{-1}`` from the triangular factor ``R`` of ``J`` (``J^T J = R^T R``).

    With a pivoted QR of ``R`` (``R P = Q' R'``) of full numerical rank (every
    ``|R'_kk| > eps max(N, n) |R'_00|``): ``P R'^{-1} R'^{-T} P^T``. Otherwise the
    pseudo-inverse, from the singular values of the ``n x n`` ``R`` (those of ``J``),
    dropping those below ``eps max(N, n) s_max``.
    """
    n = rfac.shape[1]
    rp, perm, _ = pivoted_qr(np.ascontiguousarray(rfac), np.zeros(rfac.shape[0]))
    d = np.abs(np.diag(rp))
    cut = np.finfo(np.float64).eps * max(n_samples, n) * (d[0] if n else 0.0)
    if n and d[0] > 0 and np.all(d > cut):
        inv = np.linalg.solve(rp, np.eye(n))
        out = np.empty((n, n))
        out[np.ix_(perm, perm)] = inv @ inv.T
        return out
    _, sv, vt = np.linalg.svd(rfac, full_matrices=False)
    keep = sv > cut
    vt, sv = vt[keep], sv[keep]
    return (vt.T / sv**2) @ vt


def _report(problem: LeastSquares, x: np.ndarray, columns) -> FitReport:
    """The :class:`FitReport` at ``x`` from the triangular factor of ``[J | r]`` (no SVD of ``J``)."""
    n = len(problem.params)
    bound = problem.problem(columns)
    if hasattr(bound, "qr_factor"):
        rfac, sse = bound.qr_factor(x)
    else:
        r, jac = bound.residuals_and_jacobian(x)
        rfac, sse = factor(r, jac), float(r @ r)
    n_samples = bound.n_samples
    dof = n_samples - n
    with np.errstate(all="ignore"):
        jtj_inv = _covariance_factor(rfac[:n, :n], n_samples)
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


def levenberg_marquardt(residual, params, data, columns, x0, *, ftol: float = 1e-8, xtol: float = 1e-8,
                        gtol: float = 1e-8, max_nfev: int | None = None, lower=None, upper=None) -> Result:
    """Minimise ``L(p) = mean_j r_j(p)^2`` by Levenberg-Marquardt with the exact Jacobian.

    A wrapper of :func:`~symgrad.optimize._lm.lm_solve` (MINPACK's ``lmder``: a
    trust-region step on a QR factorisation of ``J``, scaled by the column norms
    of ``J``; relative tests ``ftol`` on the sum of squares, ``xtol`` on the
    scaled step, ``gtol`` on the cosine between ``r`` and the columns of ``J``).

    Args:
        residual: scalar SymPy expression ``r(p; d)``, or a :class:`LeastSquares`.
        params: parameter symbols ``p``; data: data symbols ``d``.
        columns: one 1-D array per data symbol.
        x0: starting parameters (never modified).
        ftol, xtol, gtol: MINPACK's relative tolerances.
        max_nfev: the largest number of residual evaluations (default ``100 (n + 1)``).
        lower, upper: bounds (sequences of ``n`` numbers, ``-inf``/``inf`` for open sides).

    Returns:
        Result: ``converged`` when a test holds (and no parameter ran away); ``loss``
        the mean squared residual; ``history`` the loss at the start and at the end;
        ``steps`` the accepted steps; ``report`` a :class:`FitReport`.

    Raises:
        InputError: bad columns or ``x0`` (naming the column or the parameter).

    References:
        J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and theory",
        Lecture Notes in Mathematics 630 (1978).

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
    if max_nfev is not None:
        max_nfev = check_count(max_nfev, "max_nfev")
    bound = problem.problem(cols)
    n_samples = bound.n_samples
    with np.errstate(all="ignore"):
        start = (bound.sum_of_squares(x) if hasattr(bound, "sum_of_squares")
                 else float(np.sum(bound.residuals_and_jacobian(x)[0] ** 2)))
    if not math.isfinite(start):
        raise InputError(f"levenberg_marquardt: the residuals at x0 are not finite (sum of squares {start}); "
                         "start elsewhere")
    lm = lm_solve(bound, x, lower=lower, upper=upper, ftol=ftol, xtol=xtol, gtol=gtol, max_nfev=max_nfev)
    names = dict(zip((f"x[{i}]" for i in range(len(problem.params))), map(str, problem.params)))
    message = lm.message
    for key, name in names.items():
        message = message.replace(key, name)
    report = _report(problem, lm.x, cols)
    loss = 2 * lm.cost / n_samples
    return make_result(lm.x, problem.params, loss, [start / n_samples, loss], lm.success, message, lm.nit,
                       report)
