"""The Levenberg-Marquardt trust-region step, after Moré (1978), compiled by Numba.

For a linearisation ``r + J p`` of the residuals, a diagonal scaling ``D`` (``diag``)
and a trust-region radius ``delta``, the step ``p`` solves

    min ||r + J p||  subject to  ||D p|| <= delta,

and is ``p(par) = -(J^T J + par D^2)^{-1} J^T r`` for the Levenberg-Marquardt
parameter ``par >= 0`` found by a safeguarded Newton iteration on
``phi(par) = ||D p(par)|| - delta`` (``|phi| <= 0.1 delta`` is accepted). Everything
works on the ``n x n`` triangular factor of a QR factorisation of ``J`` with column
pivoting, ``J P = Q R``, and on ``Q^T r``: the data are never touched here. The
matrices are a few parameters wide, so plain loops (compiled once, cached on disk)
beat calls into LAPACK.

References:
    J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and theory",
    in Numerical Analysis, Lecture Notes in Mathematics 630, Springer (1978), 105-116.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad._ls_blocks import householder
from symgrad.jit import DEFAULT_OPTIONS
from symgrad.jit._cache import builtin_kernel

__all__ = ["acceleration", "lm_parameter", "pivoted_qr", "propose"]

_TINY = np.finfo(np.float64).tiny


@builtin_kernel(options=DEFAULT_OPTIONS)
def _augmented_qr(a, b, pivot):  # pragma: no cover - compiled
    """``(w, perm)``: the Householder QR of ``[a | b]`` ((k, n) and (k,)) on a copy by columns.

    With ``pivot`` the columns of ``a`` are pivoted (``perm``) and ``b`` only receives
    the reflections (``w[n] = Q^T b``); without, all ``n + 1`` columns are triangularised.
    ``w[c, :c+1]`` is then column ``c`` of ``R`` (see :func:`symgrad._ls_blocks.householder`).
    """
    k, n = a.shape
    w = np.empty((n + 1, k))
    for i in range(k):
        for j in range(n):
            w[j, i] = a[i, j]
        w[n, i] = b[i]
    perm = np.arange(n)
    householder(w, k, n if pivot else n + 1, n + 1, pivot, perm)
    return w, perm


@builtin_kernel(options=DEFAULT_OPTIONS)
def _upper(w, k, p):  # pragma: no cover - compiled
    """The (p, p) upper triangle of the first ``p`` columns of ``w`` (column storage, ``k`` rows), zero past row ``k``."""
    out = np.zeros((p, p))
    for i in range(min(k, p)):
        for j in range(i, p):
            out[i, j] = w[j, i]
    return out


@builtin_kernel(options=DEFAULT_OPTIONS)
def pivoted_qr(a, b):  # pragma: no cover - compiled
    """``(R, perm, qtb)``: ``a[:, perm] = Q R`` with column pivoting, ``qtb = (Q^T b)[:n]``.

    ``a`` (k, n) and ``b`` (k,) are not modified; ``R`` is (n, n), zero past row ``k``.
    """
    k, n = a.shape
    w, perm = _augmented_qr(a, b, True)
    qtb = np.zeros(n)
    for i in range(min(k, n)):
        qtb[i] = w[n, i]
    return _upper(w, k, n), perm, qtb


@builtin_kernel(options=DEFAULT_OPTIONS)
def _solve_upper(r, b, size):  # pragma: no cover - compiled
    """``x`` (r.shape[1],): the leading ``size`` entries solve the leading block of ``r x = b``, the rest 0."""
    x = np.zeros(r.shape[1])
    for i in range(size - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, size):
            s -= r[i, j] * x[j]
        x[i] = s / r[i, i]
    return x


@builtin_kernel(options=DEFAULT_OPTIONS)
def _nonsingular(r):  # pragma: no cover - compiled
    """The size of the leading block of the triangular ``r`` whose diagonal has no zero."""
    for j in range(r.shape[1]):
        if r[j, j] == 0.0:
            return j
    return r.shape[1]


@builtin_kernel(options=DEFAULT_OPTIONS)
def _solve_lower_transposed(s, b):  # pragma: no cover - compiled
    n = b.size
    x = np.zeros(n)
    for i in range(n):
        t = b[i]
        for j in range(i):
            t -= s[j, i] * x[j]
        x[i] = t / s[i, i]
    return x


@builtin_kernel(options=DEFAULT_OPTIONS)
def _damped(r, dp, qtb, par):  # pragma: no cover - compiled
    """``(z, S)``: ``z`` minimises ``||R z - qtb||^2 + par ||Dp z||^2``, ``S^T S = R^T R + par Dp^2``.

    The QR of ``[[R, qtb], [sqrt(par) Dp, 0]]`` (2n, n+1), stored by columns; ``S`` is
    its upper triangle, returned as a transposed view of that storage.
    """
    n = qtb.size
    a = np.zeros((n + 1, 2 * n))
    sq = math.sqrt(par)
    for j in range(n):
        for i in range(j + 1):
            a[j, i] = r[i, j]
        a[j, n + j] = sq * dp[j]
        a[n, j] = qtb[j]
    householder(a, 2 * n, n, n + 1, False, np.empty(0, np.int64))
    s = a[:n, :n].T
    return _solve_upper(s, a[n], n), s


@builtin_kernel(options=DEFAULT_OPTIONS)
def _norm(v):  # pragma: no cover - compiled
    s = 0.0
    for x in v:
        s += x * x
    return math.sqrt(s)


@builtin_kernel(options=DEFAULT_OPTIONS)
def _dot(u, v):  # pragma: no cover - compiled
    s = 0.0
    for i in range(u.size):
        s += u[i] * v[i]
    return s


@builtin_kernel(options=DEFAULT_OPTIONS)
def _unpermute(z, perm, diag, sign):  # pragma: no cover - compiled
    """``step[perm] = sign z``, ``dx = diag * step`` and ``||dx||``."""
    n = z.size
    step = np.empty(n)
    dx = np.empty(n)
    for j in range(n):
        step[perm[j]] = sign * z[j]
    for j in range(n):
        dx[j] = diag[j] * step[j]
    return step, dx, _norm(dx)


@builtin_kernel(options=DEFAULT_OPTIONS)
def _newton_rhs(dx, perm, dp, dxnorm):  # pragma: no cover - compiled
    """``Dp (dx[perm] / ||dx||)``: the right-hand side of the Newton correction of ``par``."""
    n = dx.size
    out = np.empty(n)
    for j in range(n):
        out[j] = dp[j] * (dx[perm[j]] / dxnorm)
    return out


@builtin_kernel(options=DEFAULT_OPTIONS)
def lm_parameter(r, perm, diag, qtb, delta, par):  # pragma: no cover - compiled
    """The Levenberg-Marquardt parameter and step for a trust region of radius ``delta``.

    With ``J P = Q R`` and ``qtb = Q^T r``: if the Gauss-Newton step ``p(0)`` (on the
    leading nonsingular block of ``R``) has ``||D p|| <= 1.1 delta`` it is taken with
    ``par = 0``; otherwise ``par`` is bracketed by ``[parl, paru]`` and refined by
    Newton's method on ``phi(par) = ||D p(par)|| - delta``, at most 10 times, until
    ``|phi| <= 0.1 delta``.

    Returns:
        ``(par, step)``: the parameter and the step ``p`` in the original order.
    """
    n = qtb.size
    dp = np.empty(n)
    for j in range(n):
        dp[j] = diag[perm[j]]
    nsing = _nonsingular(r)
    minus = np.empty(n)
    for j in range(n):
        minus[j] = -qtb[j]
    z = _solve_upper(r, minus, nsing)
    step, dx, dxnorm = _unpermute(z, perm, diag, 1.0)
    fp = dxnorm - delta
    if fp <= 0.1 * delta:
        return 0.0, step
    parl = 0.0
    if nsing == n:
        w = _solve_lower_transposed(r, _newton_rhs(dx, perm, dp, dxnorm))
        parl = fp / delta / _dot(w, w)
    grad = np.empty(n)
    for j in range(n):
        s = 0.0
        for i in range(j + 1):
            s += r[i, j] * qtb[i]
        grad[j] = s / dp[j]
    gnorm = _norm(grad)
    paru = gnorm / delta
    if paru == 0.0:
        paru = _TINY / min(delta, 0.1)
    par = min(max(par, parl), paru)
    if par == 0.0:
        par = gnorm / dxnorm
    for _ in range(10):
        if par == 0.0:
            par = max(_TINY, 0.001 * paru)
        z, s = _damped(r, dp, qtb, par)
        step, dx, dxnorm = _unpermute(z, perm, diag, -1.0)
        previous = fp
        fp = dxnorm - delta
        if abs(fp) <= 0.1 * delta or (parl == 0.0 and fp <= previous and previous < 0.0):
            break
        w = _solve_lower_transposed(s, _newton_rhs(dx, perm, dp, dxnorm))
        parc = fp / delta / _dot(w, w)
        if fp > 0.0:
            parl = max(parl, par)
        elif fp < 0.0:
            paru = min(paru, par)
        par = max(parl, par + parc)
    return par, step


@builtin_kernel(options=DEFAULT_OPTIONS)
def propose(base, cols, diag, delta, par, x, lo, hi):  # pragma: no cover - compiled
    """One trial step over the free parameters ``cols``, projected onto the box ``[lo, hi]``.

    Args:
        base: (n+1, n+1) triangular factor of ``[J | r]`` at ``x``.

    Returns:
        ``(par, trial, pnorm, jpnorm, gstep, clipped)``: the parameter, the trial
        point, ``||D s||``, ``||J s||`` and ``(J^T r) . s`` for the step ``s``, and
        whether the projection changed it.
    """
    n = x.size
    m = cols.size
    sub = np.empty((n + 1, m))
    rhs = np.empty(n + 1)
    for i in range(n + 1):
        for c in range(m):
            sub[i, c] = base[i, cols[c]]
        rhs[i] = base[i, n]
    rf, perm, qtf = pivoted_qr(sub, rhs)
    dfree = np.empty(m)
    for c in range(m):
        dfree[c] = diag[cols[c]]
    par, free_step = lm_parameter(rf, perm, dfree, qtf, delta, par)
    step = np.zeros(n)
    for c in range(m):
        step[cols[c]] = free_step[c]
    trial = np.empty(n)
    clipped = False
    for i in range(n):
        t = x[i] + step[i]
        if t < lo[i]:
            t, clipped = lo[i], True
        elif t > hi[i]:
            t, clipped = hi[i], True
        trial[i] = t
        step[i] = t - x[i]
    scaled = np.empty(n)
    for i in range(n):
        scaled[i] = diag[i] * step[i]
    pnorm = _norm(scaled)
    jp = np.zeros(n)
    gstep = 0.0
    for i in range(n):
        s = 0.0
        for j in range(i, n):
            s += base[i, j] * step[j]
        jp[i] = s
        gstep += s * base[i, n]
    return par, trial, pnorm, _norm(jp), gstep, clipped


@builtin_kernel(options=DEFAULT_OPTIONS)
def factor_dense(r, jac):  # pragma: no cover - compiled
    """``R_aug`` (n+1, n+1): the triangular factor of ``[J | r]`` (``Q^T r`` in its last column)."""
    m, n = jac.shape
    return _upper(_augmented_qr(jac, r, False)[0], m, n + 1)


@builtin_kernel(options=DEFAULT_OPTIONS)
def safe_norm(v):  # pragma: no cover - compiled
    """Euclidean norm, scaled by the largest entry so that neither squares overflow nor underflow."""
    big = 0.0
    for x in v:
        a = abs(x)
        if not a <= big:  # also catches nan
            big = a
    if big == 0.0 or not math.isfinite(big):
        return big
    if 1e-150 < big < 1e150:
        return _norm(v)
    s = 0.0
    for x in v:
        s += (x / big) * (x / big)
    return big * math.sqrt(s)


@builtin_kernel(options=DEFAULT_OPTIONS)
def dense_linearization(r, jac):  # pragma: no cover - compiled
    """``(||r||, R_aug, ||J_j||)`` of dense residuals and Jacobian (nan norm if any is not finite)."""
    m, n = jac.shape
    acnorm = np.zeros(n)
    finite = True
    for i in range(m):
        for j in range(n):
            v = jac[i, j]
            if not math.isfinite(v):
                finite = False
            acnorm[j] += v * v
    for j in range(n):
        acnorm[j] = math.sqrt(acnorm[j])
    fnorm = safe_norm(r)
    if not finite:
        fnorm = math.nan
        return fnorm, np.full((n + 1, n + 1), math.nan), acnorm
    return fnorm, factor_dense(r, jac), acnorm


@builtin_kernel(options=DEFAULT_OPTIONS)
def gradient_state(base, acnorm, fnorm, x, lo, hi):  # pragma: no cover - compiled
    """``(grad, cols, gnorm)`` at ``x``: ``J^T r``, the free parameters, and the gtol measure.

    A parameter is held when it sits on a bound and its descent direction ``-grad``
    points out of the box; ``gnorm = max |grad_j| / (||J_j|| ||r||)`` over the free
    ``j`` with ``J_j != 0`` (0 when ``r = 0``).
    """
    n = x.size
    grad = np.zeros(n)
    for j in range(n):
        s = 0.0
        for i in range(j + 1):
            s += base[i, j] * base[i, n]
        grad[j] = s
    free = np.empty(n, dtype=np.int64)
    m = 0
    gnorm = 0.0
    for j in range(n):
        held = (x[j] <= lo[j] and grad[j] > 0.0) or (x[j] >= hi[j] and grad[j] < 0.0)
        if held:
            continue
        free[m] = j
        m += 1
        if fnorm != 0.0 and acnorm[j] != 0.0:
            g = abs(grad[j]) / (acnorm[j] * fnorm)
            if not g <= gnorm:
                gnorm = g
    return grad, free[:m].copy(), gnorm


@builtin_kernel(options=DEFAULT_OPTIONS)
def acceleration(jac, rvv, cols, diag, par):  # pragma: no cover - compiled
    """Geodesic acceleration ``a`` over the free parameters ``cols`` (zero elsewhere).

    ``a`` minimises ``||J a + r_vv||^2 + par ||D a||^2``, i.e.
    ``a = -(J^T J + par D^2)^{-1} J^T r_vv``, the velocity's own system with the
    residuals replaced by their second directional derivative ``r_vv = v^T H v``
    along the step ``v`` (Transtrum & Sethna 2012). Solved, like the step, from a QR
    of ``J`` with column pivoting; with ``par = 0`` on the leading nonsingular block.
    """
    m = jac.shape[0]
    k = cols.size
    sub = np.empty((m, k))
    for i in range(m):
        for c in range(k):
            sub[i, c] = jac[i, cols[c]]
    rf, perm, qtb = pivoted_qr(sub, rvv)
    if par > 0.0:
        dp = np.empty(k)
        for c in range(k):
            dp[c] = diag[cols[perm[c]]]
        z = _damped(rf, dp, qtb, par)[0]
    else:
        nsing = _nonsingular(rf)
        z = _solve_upper(rf, qtb, nsing)
    out = np.zeros(diag.size)
    for c in range(k):
        out[cols[perm[c]]] = -z[c]
    return out
