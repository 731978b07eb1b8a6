"""Householder QR, with column pivoting and right-hand sides: the one QR of least squares.

Every triangular factor of the package comes from :func:`householder`: the blocks of
``[J | r]`` of the generated ``qr_range`` (through :func:`triangularise`, whose
signature the generated source relies on) and the pivoted QR, damped systems and
dense factors of the Levenberg-Marquardt step (``symgrad.optimize._lm_step``). It
does not depend on the model, so it is compiled once (and cached on disk with the
package, :func:`symgrad.jit._cache.builtin_kernel`) instead of once per model.

The matrices are stored by columns (``a[c]`` is column ``c``), so that a reflection
reads and updates contiguous memory, however many rows there are.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.jit import DEFAULT_OPTIONS
from symgrad.jit._cache import builtin_kernel

__all__ = ["dot_range", "householder", "triangularise"]


@builtin_kernel(options=DEFAULT_OPTIONS)
def dot_range(x, y, lo, hi):  # pragma: no cover - compiled
    """``sum x[i] y[i]`` over ``lo <= i < hi``, in four interleaved partial sums.

    A fixed order, so the result is reproducible; four chains keep the multiply-adds in flight.
    """
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    i = lo
    while i + 4 <= hi:
        s0 += x[i] * y[i]
        s1 += x[i + 1] * y[i + 1]
        s2 += x[i + 2] * y[i + 2]
        s3 += x[i + 3] * y[i + 3]
        i += 4
    while i < hi:
        s0 += x[i] * y[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@builtin_kernel(options=DEFAULT_OPTIONS)
def householder(a, k, p, q, pivot, perm):  # pragma: no cover - compiled
    """Householder QR ``A P = Q R`` in place, the reflections applied to ``B`` too: ``[A | B] -> [R | Q^T B]``.

    ``a`` holds the columns of the ``k x q`` matrix ``[A | B]``: ``a[c, :k]`` is column
    ``c``; the first ``p`` are ``A``, the other ``q - p`` are right-hand sides ``B``,
    never pivoted. Step ``j < min(k, p)`` reflects ``x = A[j:, j]`` onto
    ``alpha e_1`` with ``alpha = -sign(x_0) ||x||`` by ``H = I - 2 v v^T / v^T v``,
    ``v = x - alpha e_1``, and applies ``H`` to columns ``j+1 .. q-1``; a zero ``x`` is
    left as it is.

    With ``pivot``, step ``j`` first swaps in the column of ``A`` of largest norm over
    rows ``j..k-1`` (the first of equals), swapping ``perm`` alike (``p`` entries;
    untouched, and may be empty, without ``pivot``). Then
    ``|R[0, 0]| >= |R[1, 1]| >= ...`` and a zero column gives an exactly zero diagonal.

    Afterwards ``a[c, :min(c+1, k)]`` is column ``c`` of ``R`` (``c < p``), the entries
    below hold the reflections' ``v`` but for its first entry, and ``a[c, :k]``
    (``c >= p``) is column ``c`` of ``Q^T B``.

    Example:
        >>> a = np.array([[3.0, 4.0], [1.0, 2.0]])  # columns (3, 4) and (1, 2)
        >>> householder(a, 2, 1, 2, False, np.empty(0, np.int64))
        >>> a.round(12).tolist()  # R = [-5], Q^T (1, 2) = (-2.2, 0.4)
        [[-5.0, 4.0], [-2.2, 0.4]]
    """
    for j in range(min(k, p)):
        if pivot:
            best, at = -1.0, j
            for c in range(j, p):
                s = dot_range(a[c], a[c], j, k)
                if s > best:
                    best, at = s, c
            if at != j:
                for i in range(k):
                    a[j, i], a[at, i] = a[at, i], a[j, i]
                perm[j], perm[at] = perm[at], perm[j]
        vj = a[j]
        below = dot_range(vj, vj, j + 1, k)
        top = vj[j]
        norm = math.sqrt(top * top + below)
        if norm == 0.0:
            continue
        alpha = -norm if top >= 0.0 else norm
        v0 = top - alpha
        vv = v0 * v0 + below
        for c in range(j + 1, q):
            col = a[c]
            f = 2.0 * (v0 * col[j] + dot_range(vj, col, j + 1, k)) / vv
            col[j] -= f * v0
            for i in range(j + 1, k):
                col[i] -= f * vj[i]
        vj[j] = alpha


@builtin_kernel(options=DEFAULT_OPTIONS)
def triangularise(a, k, p):  # pragma: no cover - compiled
    """Householder QR in place of the (p, k) array ``a`` holding the ``p`` columns of a ``k x p`` matrix.

    :func:`householder` with no pivoting and no right-hand side (the ``r`` of a block
    ``[J | r]`` is its last column). Afterwards ``a[c, :c+1]`` is column ``c`` of the
    triangular factor (its rows ``0..c``); the entries below are the reflections' vectors.
    """
    householder(a, k, p, p, False, np.empty(0, np.int64))
