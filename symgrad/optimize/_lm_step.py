"""The Levenberg-Marquardt trust-region step, after Moré (1978).

For a linearisation ``r + J p`` of the residuals, a diagonal scaling ``D`` (``diag``)
and a trust-region radius ``delta``, the step ``p`` solves

    min ||r + J p||  subject to  ||D p|| <= delta,

and is ``p(par) = -(J^T J + par D^2)^{-1} J^T r`` for the Levenberg-Marquardt
parameter ``par >= 0`` found by a safeguarded Newton iteration on
``phi(par) = ||D p(par)|| - delta`` (``|phi| <= 0.1 delta`` is accepted). Everything
works on the ``n x n`` triangular factor of a QR factorisation of ``J`` with column
pivoting, ``J P = Q R``, and on ``Q^T r``: the data are never touched here.

References:
    J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and theory",
    in Numerical Analysis, Lecture Notes in Mathematics 630, Springer (1978), 105-116.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lm_parameter", "pivoted_qr"]

_TINY = np.finfo(np.float64).tiny


def pivoted_qr(a: np.ndarray, b: np.ndarray):
    """Householder QR with column pivoting of a small matrix: ``a[:, perm] = Q R``.

    At step ``j`` the remaining column of largest norm is moved to position ``j``,
    so ``|R[0, 0]| >= |R[1, 1]| >= ...``, and an exactly zero column gives an exactly
    zero diagonal entry (the rank test of the Gauss-Newton step).

    Args:
        a: (k, n) matrix; b: (k,) vector to which ``Q^T`` is applied.

    Returns:
        ``(R, perm, qtb)``: ``R`` (n, n) upper triangular (rows past ``k`` zero),
        ``perm`` (n,) int, ``qtb = (Q^T b)[:n]`` (zero-padded past ``k``).
    """
    a = np.array(a, dtype=np.float64, copy=True)
    b = np.array(b, dtype=np.float64, copy=True)
    k, n = a.shape
    perm = np.arange(n)
    for j in range(min(k, n)):
        norms = np.sqrt(np.einsum("ij,ij->j", a[j:, j:], a[j:, j:]))
        p = j + int(np.argmax(norms))
        if p != j:
            a[:, [j, p]] = a[:, [p, j]]
            perm[[j, p]] = perm[[p, j]]
        column = a[j:, j]
        norm = float(norms[p - j])
        if norm == 0.0:
            a[j:, j:] = 0.0
            break
        alpha = -norm if column[0] >= 0 else norm
        v = column.copy()
        v[0] -= alpha
        v /= np.linalg.norm(v)
        a[j:, j:] -= 2.0 * np.outer(v, v @ a[j:, j:])
        b[j:] -= 2.0 * v * (v @ b[j:])
        a[j + 1:, j] = 0.0
        a[j, j] = alpha
    r = np.zeros((n, n))
    rows = min(k, n)
    r[:rows] = np.triu(a[:rows])
    qtb = np.zeros(n)
    qtb[:rows] = b[:rows]
    return r, perm, qtb


def _solve_upper(r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x`` with ``r x = b`` for nonsingular upper triangular ``r`` (back substitution)."""
    n = len(b)
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (b[i] - r[i, i + 1:] @ x[i + 1:]) / r[i, i]
    return x


def _solve_lower_transposed(s: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x`` with ``s^T x = b`` for nonsingular upper triangular ``s`` (forward substitution)."""
    n = len(b)
    x = np.zeros(n)
    for i in range(n):
        x[i] = (b[i] - s[:i, i] @ x[:i]) / s[i, i]
    return x


def _damped_solve(r: np.ndarray, dp: np.ndarray, qtb: np.ndarray, par: float):
    """The damped step in pivoted order and the factor ``S``: ``S^T S = R^T R + par Dp^2``.

    ``z`` minimises ``||R z - qtb||^2 + par ||Dp z||^2``; it comes from a QR
    factorisation of the stacked ``[R; sqrt(par) Dp]``.
    """
    n = len(qtb)
    q, s = np.linalg.qr(np.vstack([r, np.diag(np.sqrt(par) * dp)]))
    z = _solve_upper(s, q[:n].T @ qtb)
    return -z, s


def lm_parameter(r: np.ndarray, perm: np.ndarray, diag: np.ndarray, qtb: np.ndarray, delta: float,
                 par: float):
    """The Levenberg-Marquardt parameter and step for a trust region of radius ``delta``.

    With ``J P = Q R`` and ``qtb = Q^T r``: if the Gauss-Newton step ``p(0)`` (computed
    on the leading nonsingular block of ``R``) has ``||D p|| <= 1.1 delta`` it is taken
    with ``par = 0``; otherwise ``par`` is bracketed by ``[parl, paru]`` and refined by
    Newton's method on ``phi(par) = ||D p(par)|| - delta``, at most 10 times, until
    ``|phi| <= 0.1 delta``.

    Args:
        r: (n, n) upper triangular factor; perm: its column permutation.
        diag: (n,) positive scaling ``D``; qtb: (n,) ``Q^T r``.
        delta: trust-region radius (> 0); par: the previous parameter (a first guess).

    Returns:
        ``(par, step)``: the parameter and the step ``p`` in the original order.
    """
    n = len(qtb)
    dp = diag[perm]
    # Gauss-Newton step on the nonsingular leading block (exact zero diagonal = rank).
    zero = np.flatnonzero(np.diag(r) == 0.0)
    nsing = int(zero[0]) if zero.size else n
    z = np.zeros(n)
    if nsing:
        z[:nsing] = _solve_upper(r[:nsing, :nsing], -qtb[:nsing])
    step = np.empty(n)
    step[perm] = z
    dx = diag * step
    dxnorm = float(np.linalg.norm(dx))
    fp = dxnorm - delta
    if fp <= 0.1 * delta:
        return 0.0, step
    # Lower bound: the Newton step from par = 0 (only for full rank).
    parl = 0.0
    if nsing == n:
        w = _solve_lower_transposed(r, dp * (dx[perm] / dxnorm))
        parl = fp / delta / float(w @ w)
    # Upper bound: ||(J D^-1)^T r|| / delta.
    grad = (r.T @ qtb) / dp
    gnorm = float(np.linalg.norm(grad))
    paru = gnorm / delta
    if paru == 0.0:
        paru = _TINY / min(delta, 0.1)
    par = min(max(par, parl), paru)
    if par == 0.0:
        par = gnorm / dxnorm
    for _ in range(10):
        if par == 0.0:
            par = max(_TINY, 0.001 * paru)
        z, s = _damped_solve(r, dp, qtb, par)
        step = np.empty(n)
        step[perm] = z
        dx = diag * step
        dxnorm = float(np.linalg.norm(dx))
        previous, fp = fp, dxnorm - delta
        if abs(fp) <= 0.1 * delta or (parl == 0.0 and fp <= previous < 0.0):
            break
        w = _solve_lower_transposed(s, dp * (dx[perm] / dxnorm))
        parc = fp / delta / float(w @ w)
        if fp > 0.0:
            parl = max(parl, par)
        elif fp < 0.0:
            paru = min(paru, par)
        par = max(parl, par + parc)
    return par, step
