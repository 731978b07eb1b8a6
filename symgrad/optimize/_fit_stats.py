"""Covariance of least-squares estimates from a rank-revealing QR of the Jacobian, and the fit statistics.

With weighted residuals ``r`` (N,) and their Jacobian ``J`` (N, n) at the solution,
scaled to unit columns ``J = J_s D`` (so that the rank does not depend on the units
of the parameters), ``J_s P = Q R`` with a column permutation ``P`` that puts the
largest remaining column first at each step, so that ``|R_kk|`` decreases. The numerical rank is the number of
``|R_kk| > rtol |R_00|`` with ``rtol = eps max(N, n)`` (the threshold
``scipy.optimize.curve_fit`` applies to singular values). Splitting
``R = [[R11, R12], [0, R22]]`` at the rank, the directions the data cannot see are the
columns of ``P [[-R11^-1 R12], [I]]``; a parameter with a component along them
cannot be determined (its standard error is ``inf``), and the others get the
covariance ``s^2 D^-1 P diag((R11^T R11)^-1, 0) P^T D^-1``, which for them is the same
whatever generalised inverse of ``J^T J`` is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Covariance", "correlation", "covariance", "covariance_of_factor", "pivoted_r", "statistics"]

#: A parameter whose unit null-space component exceeds this is undetermined.
NULL_COMPONENT = 1e-8

#: lmfit's floor for the total sum of squares in ``r_squared``.
TINY = 1e-15


def pivoted_r(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(R, perm)`` of the Householder QR of ``a[:, perm]`` with column pivoting.

    ``a`` is small (the ``n x n`` factor ``R`` of the Jacobian's plain QR), so the
    column norms are recomputed at each step instead of downdated.
    """
    a = np.array(a, dtype=np.float64, copy=True)
    m, n = a.shape
    perm = np.arange(n)
    for k in range(min(m, n)):
        norms = np.einsum("ij,ij->j", a[k:, k:], a[k:, k:])
        j = k + int(np.argmax(norms))
        if j != k:
            a[:, [k, j]] = a[:, [j, k]]
            perm[[k, j]] = perm[[j, k]]
        x = a[k:, k]
        norm = math.sqrt(float(x @ x))
        if norm == 0.0:
            break
        v = x.copy()
        v[0] += math.copysign(norm, x[0])
        v /= math.sqrt(float(v @ v))
        a[k:, k:] -= 2.0 * np.outer(v, v @ a[k:, k:])
    return np.triu(a[:n, :n]) if m >= n else np.triu(a), perm


@dataclass(frozen=True)
class Covariance:
    """``matrix``: covariance with ``inf`` diagonal (and NaN row/column) for ``undetermined``;
    ``generalized``: the finite ``s^2 P diag((R11^T R11)^-1, 0) P^T``, right for any
    estimable combination (used for prediction bands); ``rank`` of ``J``."""

    matrix: np.ndarray
    generalized: np.ndarray
    undetermined: tuple
    rank: int


def covariance(jac: np.ndarray, scale: float) -> Covariance:
    """The covariance ``scale (J^T J)^-1`` of the parameters, by a rank-revealing QR of ``J``."""
    m, n = jac.shape
    if n == 0:
        return Covariance(np.zeros((0, 0)), np.zeros((0, 0)), (), 0)
    # unit columns first: the rank, and so the answer, must not depend on the parameters' units
    norms = np.sqrt(np.einsum("ij,ij->j", jac, jac))
    unit = np.where(norms > 0, norms, 1.0)
    jac = jac / unit
    return _covariance(np.linalg.qr(jac, mode="r") if m > n else jac, unit, m, scale)


def covariance_of_factor(rfac: np.ndarray, m: int, scale: float) -> Covariance:
    """:func:`covariance` from the ``n x n`` triangular factor ``R`` of ``J`` (``R^T R = J^T J``), ``m`` rows.

    ``R``'s columns have the norms of ``J``'s, and ``R D^-1`` is the factor of ``J D^-1``.
    """
    n = rfac.shape[1]
    if n == 0:
        return Covariance(np.zeros((0, 0)), np.zeros((0, 0)), (), 0)
    norms = np.sqrt(np.einsum("ij,ij->j", rfac, rfac))
    unit = np.where(norms > 0, norms, 1.0)
    return _covariance(rfac / unit, unit, m, scale)


def _covariance(small: np.ndarray, unit: np.ndarray, m: int, scale: float) -> Covariance:
    n = small.shape[1]
    r, perm = pivoted_r(small)
    diag = np.abs(np.diag(r)) if r.shape[0] >= n else np.abs(np.concatenate([np.diag(r), np.zeros(n - r.shape[0])]))
    rtol = np.finfo(np.float64).eps * max(m, n)
    rank = int(np.sum(diag > rtol * diag[0])) if diag.size and diag[0] > 0 else 0
    r11 = r[:rank, :rank]
    r11_inv = np.linalg.solve(r11, np.eye(rank)) if rank else np.zeros((0, 0))
    gen_p = np.zeros((n, n))
    gen_p[:rank, :rank] = r11_inv @ r11_inv.T
    undetermined_p = np.zeros(n, dtype=bool)
    if rank < n:
        r12 = r[:rank, rank:] if r.shape[1] >= n else np.zeros((rank, n - rank))
        null = np.vstack([-r11_inv @ r12, np.eye(n - rank)])
        basis, _ = np.linalg.qr(null)
        undetermined_p = np.sqrt(np.einsum("ij,ij->i", basis, basis)) > NULL_COMPONENT
    inverse = np.empty((n, n))
    inverse[np.ix_(perm, perm)] = gen_p
    undetermined = np.empty(n, dtype=bool)
    undetermined[perm] = undetermined_p
    generalized = scale * inverse / np.outer(unit, unit)
    matrix = generalized.copy()
    matrix[undetermined, :] = np.nan
    matrix[:, undetermined] = np.nan
    idx = np.flatnonzero(undetermined)
    matrix[idx, idx] = np.inf
    return Covariance(matrix, generalized, tuple(int(i) for i in idx), rank)


def correlation(cov: np.ndarray) -> np.ndarray:
    """``cov[i, k] / sqrt(cov[i, i] cov[k, k])``; 1 on the diagonal, NaN where a variance is not finite."""
    n = cov.shape[0]
    var = np.diag(cov).copy()
    ok = np.isfinite(var) & (var > 0)
    out = np.full((n, n), np.nan)
    sd = np.sqrt(var[ok])
    out[np.ix_(ok, ok)] = cov[np.ix_(ok, ok)] / np.outer(sd, sd)
    out[np.arange(n), np.arange(n)] = 1.0
    return out


def statistics(chisqr: float, n_samples: int, n_params: int, y: np.ndarray, yhat: np.ndarray | None = None,
               sse: float | None = None) -> dict:
    """The goodness-of-fit numbers as lmfit defines them.

    ``dof = N - n``, ``redchi = chisqr / max(1, dof)``,
    ``aic = N ln(chisqr/N) + 2n``, ``bic = N ln(chisqr/N) + ln(N) n`` (``-inf`` for a
    perfect fit), ``r_squared = 1 - sum (y - yhat)^2 / max(TINY, sum (y - mean y)^2)``
    (unweighted, as lmfit's ``rsquared``). ``sse = sum (y - yhat)^2`` may be given instead of ``yhat``.

    Example:
        >>> s = statistics(2.0, 4, 1, np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 4.0]))
        >>> s["dof"], round(s["redchi"], 6), round(s["aic"], 6)  # aic = 4 ln(1/2) + 2
        (3, 0.666667, -0.772589)
    """
    dof = n_samples - n_params
    neg2 = n_samples * math.log(chisqr / n_samples) if chisqr > 0 else -math.inf
    centred = y - y.mean()
    sst = float(centred @ centred)
    if sse is None:
        sse = float(np.sum((y - yhat) ** 2))
    return {
        "chisqr": float(chisqr),
        "dof": int(dof),
        "redchi": chisqr / max(1, dof),
        "aic": neg2 + 2 * n_params,
        "bic": neg2 + math.log(n_samples) * n_params,
        "r_squared": 1.0 - sse / max(TINY, sst),
    }
