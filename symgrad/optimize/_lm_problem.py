"""What ``lm_solve`` needs of a least-squares problem, whatever form the user gives it in.

The iteration only ever reads, at an accepted point ``x``, a *linearisation*: the
triangular factor ``R_aug`` ((n+1, n+1)) of a QR factorisation of ``[J | r]``,
whose last column holds ``Q^T r``, the norm ``||r||`` and the column norms
``||J_j||`` (equal to those of ``R_aug[:, j]``); and, at trial points, ``||r||``.
So a problem may hand over its residuals and Jacobian, or, for data too large to
hold ``J``, only the factor (built block by block) and the sum of squares.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgrad.errors import InputError, OptionTypeError
from symgrad.optimize._lm_step import dense_linearization, safe_norm

__all__ = ["GRAM_TAU", "Linearization", "as_problem", "gram_factor", "norm"]

#: ``gram_factor`` gives up (and the caller takes a QR of ``[J | r]`` instead) when a column
#: of ``J`` keeps less than this fraction of its norm once the columns before it are
#: projected out: beyond that, the squared condition number of ``J^T J`` would cost the
#: step more than ``eps / GRAM_TAU^2`` (2e-6) of its relative accuracy.
GRAM_TAU = 1e-5


class Linearization(NamedTuple):
    """The residuals at one point as the iteration reads them (``r``, ``jac`` may be ``None``)."""

    fnorm: float
    factor: np.ndarray
    acnorm: np.ndarray
    r: np.ndarray | None
    jac: np.ndarray | None


def norm(v: np.ndarray) -> float:
    """Euclidean norm without overflow or underflow for finite entries; inf or nan propagate."""
    return float(safe_norm(np.ascontiguousarray(v, dtype=np.float64)))


def factor(r: np.ndarray, jac: np.ndarray) -> np.ndarray:
    """``R_aug`` (n+1, n+1): the triangular factor of ``[J | r]`` (``Q^T r`` in its last column)."""
    return dense_linearization(np.ascontiguousarray(r, dtype=np.float64),
                               np.ascontiguousarray(jac, dtype=np.float64))[1]


def gram_factor(gram: np.ndarray, tau: float = GRAM_TAU) -> np.ndarray | None:
    """``R_aug`` with ``R_aug^T R_aug = G`` by Cholesky of ``G = [J | r]^T [J | r]``, or ``None``.

    Row ``j`` of ``R`` is ``R_jj = sqrt(G_jj - sum_{i<j} R_ij^2)`` and
    ``R_jc = (G_jc - sum_{i<j} R_ij R_ic) / R_jj``. A zero column of ``J``
    (``G_jj = 0``) gives a zero row. ``None`` when ``G`` is not finite or a column of
    ``J`` is nearly a combination of the others (``R_jj^2 <= tau^2 G_jj``): then
    only a QR of ``[J | r]`` itself is accurate. The last pivot, the part of ``r``
    outside the span of ``J``, is clipped at 0 (the iteration reads ``||r||`` from
    ``G[n, n]``, not from it).

    Example:
        >>> a = np.array([[1.0, 2.0, 1.0], [0.0, 1.0, 2.0], [1.0, 0.0, 4.0]])
        >>> r = gram_factor(a.T @ a)
        >>> bool(np.allclose(r.T @ r, a.T @ a) and np.allclose(np.tril(r, -1), 0))
        True
    """
    if not np.all(np.isfinite(gram)):
        return None
    p = gram.shape[0]
    out = np.zeros((p, p))
    for j in range(p):
        pivot = gram[j, j] - out[:j, j] @ out[:j, j]
        if j < p - 1:
            if gram[j, j] == 0.0:
                continue
            if not pivot > tau**2 * gram[j, j]:
                return None
        d = math.sqrt(max(pivot, 0.0))
        out[j, j] = d
        if d > 0.0:
            out[j, j + 1:] = (gram[j, j + 1:] - out[:j, j] @ out[:j, j + 1:]) / d
    return out


class _Base:
    #: whether the residuals come as sums over the data (``sum_of_squares``, ``triangular_factor``)
    factored = False

    def __init__(self, n: int):
        self.n = n
        self.nfev = 0
        self.njev = 0
        #: ``(x, v) -> r_vv`` (m,), the second directional derivative of the residuals, or ``None``
        self.curvature = None
        self.ncev = 0

    def second_directional(self, x, v) -> np.ndarray:
        """``r_vv = v^T H_j v`` for every residual ``j`` at ``x`` (counted in ``ncev``)."""
        self.ncev += 1
        return np.asarray(self.curvature(x, v), dtype=np.float64).reshape(-1)

    def _jacobian_shape(self, r, jac):
        jac = np.asarray(jac, dtype=np.float64)
        if jac.shape != (len(r), self.n):
            raise InputError(f"lm_solve: fun returned a Jacobian of shape {jac.shape}; expected "
                             f"({len(r)}, {self.n}) for {len(r)} residuals and {self.n} parameters")
        return jac

    def _dense(self, r, jac) -> Linearization:
        r = np.ascontiguousarray(r, dtype=np.float64)
        jac = np.ascontiguousarray(jac, dtype=np.float64)
        fnorm, base, acnorm = dense_linearization(r, jac)
        return Linearization(fnorm, base, acnorm, r, jac)


class _Callable(_Base):
    """``fun(x) -> (r, J)``: the ``J`` of the last trial is kept, so accepting it costs no call."""

    def __init__(self, fun, n):
        super().__init__(n)
        self.fun = fun
        self._last = None

    def trial(self, x) -> float:
        self.nfev += 1
        r, jac = self.fun(x)
        r = np.asarray(r, dtype=np.float64).reshape(-1)
        self._last = (x, r, jac)
        return float(safe_norm(r))

    def linearize(self, x, counted: bool = False) -> Linearization:
        self.nfev += not counted
        self.njev += 1
        if self._last is not None and self._last[0] is x:
            _, r, jac = self._last
        else:
            r, jac = self.fun(x)
            r = np.asarray(r, dtype=np.float64).reshape(-1)
        self._last = None
        return self._dense(r, self._jacobian_shape(r, jac))


class _Split(_Base):
    """An object with ``residuals(x)`` and ``residuals_and_jacobian(x)``."""

    def __init__(self, obj, n):
        super().__init__(n)
        self.obj = obj

    def trial(self, x) -> float:
        self.nfev += 1
        return float(safe_norm(np.asarray(self.obj.residuals(x), dtype=np.float64).reshape(-1)))

    def linearize(self, x, counted: bool = False) -> Linearization:
        self.nfev += not counted
        self.njev += 1
        r, jac = self.obj.residuals_and_jacobian(x)
        r = np.asarray(r, dtype=np.float64).reshape(-1)
        return self._dense(r, self._jacobian_shape(r, jac))


class _Factored(_Base):
    """An object with ``sum_of_squares(x)`` and ``triangular_factor(x) -> (R_aug, r.r)``."""

    factored = True

    def __init__(self, obj, n):
        super().__init__(n)
        self.obj = obj

    def trial(self, x) -> float:
        self.nfev += 1
        ss = float(self.obj.sum_of_squares(x))
        return math.sqrt(ss) if ss >= 0 else math.nan

    def linearize(self, x, counted: bool = False) -> Linearization:
        self.nfev += not counted
        self.njev += 1
        rfac, ss = self.obj.triangular_factor(x)
        rfac = np.asarray(rfac, dtype=np.float64)
        if rfac.shape != (self.n + 1, self.n + 1):
            raise InputError(f"lm_solve: triangular_factor returned shape {rfac.shape}; expected "
                             f"({self.n + 1}, {self.n + 1}), the R of [J | r]")
        acnorm = np.sqrt(np.einsum("ij,ij->j", rfac[:, :-1], rfac[:, :-1]))
        fnorm = math.sqrt(ss) if ss >= 0 else math.nan
        if not np.all(np.isfinite(rfac)):
            fnorm = math.nan
        return Linearization(fnorm, rfac, acnorm, None, None)


def as_problem(fun, n: int):
    """The adapter of ``fun`` (see :func:`symgrad.optimize._lm.lm_solve`)."""
    if hasattr(fun, "triangular_factor") and hasattr(fun, "sum_of_squares"):
        return _Factored(fun, n)
    if callable(fun):
        problem = _Callable(fun, n)
    elif hasattr(fun, "residuals_and_jacobian") and hasattr(fun, "residuals"):
        problem = _Split(fun, n)
    elif hasattr(fun, "residuals_and_jacobian"):
        problem = _Callable(fun.residuals_and_jacobian, n)
    else:
        problem = None
    if problem is not None:
        problem.curvature = getattr(fun, "second_directional", None)
        return problem
    raise OptionTypeError(f"lm_solve: fun must be a callable x -> (r, J) or an object with "
                          f"residuals_and_jacobian(x), got {type(fun).__name__}")
