"""The Householder triangularisation of one block of ``[J | r]``, shared by every generated least-squares module.

It does not depend on the model, so it is compiled once (and cached on disk with
the package, :func:`symgrad.jit._cache.builtin_kernel`) instead of once per model:
the generated ``qr_range`` of ``symgrad._ls_kernels`` imports it.
"""

from __future__ import annotations

import math

from symgrad.jit import DEFAULT_OPTIONS
from symgrad.jit._cache import builtin_kernel

__all__ = ["dot_range", "triangularise"]


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
def triangularise(a, k, p):  # pragma: no cover - compiled
    """Householder QR in place of the (p, k) array ``a`` holding the ``p`` columns of a ``k x p`` matrix.

    Afterwards ``a[c, :c+1]`` is column ``c`` of the triangular factor (its rows
    ``0..c``); the entries below are the reflections' vectors.
    """
    for j in range(min(k, p)):
        vj = a[j]
        below = dot_range(vj, vj, j + 1, k)
        top = vj[j]
        norm = math.sqrt(top * top + below)
        if norm == 0.0:
            continue
        alpha = -norm if top >= 0.0 else norm
        v0 = top - alpha
        vv = v0 * v0 + below
        for c in range(j + 1, p):
            col = a[c]
            f = 2.0 * (v0 * col[j] + dot_range(vj, col, j + 1, k)) / vv
            col[j] -= f * v0
            for i in range(j + 1, k):
                col[i] -= f * vj[i]
        vj[j] = alpha
