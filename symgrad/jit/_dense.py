"""The reverse pass of a dense layer over a block of samples, compiled once for every width.

A loops kernel (``symgrad.codegen._loops``) adds a dense layer's gradient rows
``g[k, m] += sum_s a[k, s] y[s, m]`` and its inputs' adjoints ``A[m, s] += a[k, s] W[k, m]``,
and copies its inputs by sample (``y[s, m]``) for the rows. Written into each kernel
with constant sizes, those register-blocked loops were most of what LLVM compiled for
a new network: LLVM unrolls them completely and vectorises the unrolled copies. Here
they take the sizes and offsets as arguments, are compiled once with one signature
each (cached beside this file), and a kernel calls them: the 4-16-16-1 tanh MLP's
kernel compiles in 2.6-2.9 s instead of 4.1-4.7 s, at the same speed
(docs/performance.md, "Dense layers' reverse pass").

Each function adds in the order the kernel did: a gradient row's samples one after the
other in ``s``, each by one fused multiply-add (``fma``); an input's adjoints the units
in the order the kernel calls, each a product and a sum. How many rows or samples
share one pass (the blocking, chosen for speed) never changes a sum's order, so the
results are the same bits as the loops written out.

Two things keep the loops as fast as the written-out ones:

- the arrays of one call never share memory (the kernel's distinct work arrays), and
  the functions are compiled with that promise (``pipeline_class(distinct=True)``:
  ``noalias`` on the data pointers), so LLVM vectorises them without testing at run
  time whether a row written overlaps a row read;
- an index with a run-time offset (``g[g0 + m]``) is read through a view
  (``h = g[g0:g0 + n]``, ``h[m]``) made once outside the loop: Numba tests each index
  for a negative value unless it can see that it is not, and that test in the loop
  kept LLVM from vectorising it (a gradient row four times slower). No view is made in
  an inner loop: each one counts a reference, and those calls cost more than the loop.
"""

from __future__ import annotations

import numba

from symgrad.jit._cache import cached_njit
from symgrad.jit._elementary import fma
from symgrad.jit._optlevel import pipeline_class

__all__ = ["transpose", "rows", "row", "back", "back_row"]

_A = "float64[:]"  # theta: any layout
_C1 = "float64[::1]"
_C2 = "float64[:, ::1]"
_I = "int64"

#: name -> (plain function, signature) of the functions not compiled yet (see ``__getattr__``).
_PENDING: dict = {}


def _fixed(*types: str):
    """Register a function for ``numba.njit`` with one signature (``void(types)``)."""
    def wrap(function):
        _PENDING[function.__name__] = (function, f"void({', '.join(types)})")
        return function

    return wrap


def __getattr__(name: str):
    """``rows``, ``back``, ...: compiled (or loaded from the cache beside this file) on the
    first request, when Numba types a kernel calling it, and only the ones kernels call.

    Each has one signature: a kernel passes its sizes as integer constants, which Numba
    types as literals, and a dispatcher free to compile would compile a specialisation
    for each new set of them (see ``vm.empty2``).
    """
    if name not in _PENDING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function, signature = _PENDING[name]
    for called in function.__code__.co_names:  # the ones it calls first, for Numba to type
        if called in _PENDING and called not in globals():
            __getattr__(called)
    options = {"error_model": "numpy", "nogil": True, "boundscheck": False, "pipeline_class": pipeline_class(1, 512, distinct=True)}
    compiled = cached_njit(function, signature, **options) or numba.njit(signature, cache=False, **options)(function)
    globals()[name] = compiled
    return compiled


@_fixed(_C2, _I, _I, _I, _I, _C2)
def transpose(src, s0, sm, length, nb, dst):
    """``dst[s, m] = src[s0 + sm m, s]`` for ``m < length``, ``s < nb``: a layer's inputs by sample."""
    for m in range(length):
        i = s0 + sm * m
        for s in range(nb):
            dst[s, m] = src[i, s]


@numba.njit(error_model="numpy", nogil=True, boundscheck=False, inline="always")
def _row(adj, y, h, length, nb):
    """``h[m] += sum_s adj[s] * y[s, m]``, four samples per pass, in sample order."""
    whole = nb - nb % 4
    for s in range(0, whole, 4):
        c0, c1, c2, c3 = adj[s], adj[s + 1], adj[s + 2], adj[s + 3]
        for m in range(length):
            h[m] = fma(c3, y[s + 3, m], fma(c2, y[s + 2, m], fma(c1, y[s + 1, m], fma(c0, y[s, m], h[m]))))
    for s in range(whole, nb):
        c = adj[s]
        for m in range(length):
            h[m] = fma(c, y[s, m], h[m])


@_fixed(_C2, _C2, _C1, _I, _I, _I, _I, _I)
def rows(adj, y, g, g0, gk, size, length, nb):
    """``g[g0 + gk k + m] += sum_s adj[k, s] * y[s, m]`` for ``k < size``, in sample order.

    Four rows per pass share each load of ``y``, four samples are added into each per
    pass; a row's sum is the same bits as one sample at a time.
    """
    whole_k = size - size % 4
    whole = nb - nb % 4
    for k in range(0, whole_k, 4):
        r0, r1, r2, r3 = g0 + gk * k, g0 + gk * (k + 1), g0 + gk * (k + 2), g0 + gk * (k + 3)
        h0, h1, h2, h3 = g[r0:r0 + length], g[r1:r1 + length], g[r2:r2 + length], g[r3:r3 + length]
        for s in range(0, whole, 4):
            c00, c01, c02, c03 = adj[k, s], adj[k, s + 1], adj[k, s + 2], adj[k, s + 3]
            c10, c11, c12, c13 = adj[k + 1, s], adj[k + 1, s + 1], adj[k + 1, s + 2], adj[k + 1, s + 3]
            c20, c21, c22, c23 = adj[k + 2, s], adj[k + 2, s + 1], adj[k + 2, s + 2], adj[k + 2, s + 3]
            c30, c31, c32, c33 = adj[k + 3, s], adj[k + 3, s + 1], adj[k + 3, s + 2], adj[k + 3, s + 3]
            for m in range(length):
                z0, z1, z2, z3 = y[s, m], y[s + 1, m], y[s + 2, m], y[s + 3, m]
                h0[m] = fma(c03, z3, fma(c02, z2, fma(c01, z1, fma(c00, z0, h0[m]))))
                h1[m] = fma(c13, z3, fma(c12, z2, fma(c11, z1, fma(c10, z0, h1[m]))))
                h2[m] = fma(c23, z3, fma(c22, z2, fma(c21, z1, fma(c20, z0, h2[m]))))
                h3[m] = fma(c33, z3, fma(c32, z2, fma(c31, z1, fma(c30, z0, h3[m]))))
        for s in range(whole, nb):
            for j, h in enumerate((h0, h1, h2, h3)):
                c = adj[k + j, s]
                for m in range(length):
                    h[m] = fma(c, y[s, m], h[m])
    for k in range(whole_k, size):
        r = g0 + gk * k
        _row(adj[k], y, g[r:r + length], length, nb)


@_fixed(_C1, _C2, _C1, _I, _I, _I)
def row(adj, y, g, g0, length, nb):
    """``g[g0 + m] += sum_s adj[s] * y[s, m]`` for ``m < length``, in sample order (one unit)."""
    _row(adj, y, g[g0:g0 + length], length, nb)


@numba.njit(error_model="numpy", nogil=True, boundscheck=False, inline="always")
def _back(adj, theta, w0, length, dst, s0, sm, nb):
    for m in range(length):
        w = theta[w0 + m]
        i = s0 + sm * m
        for s in range(nb):
            dst[i, s] += adj[s] * w


@_fixed(_C1, _A, _I, _I, _C2, _I, _I, _I)
def back(adj, theta, w0, length, dst, s0, sm, nb):
    """``dst[s0 + sm m, s] += adj[s] * theta[w0 + m]`` for ``m < length``: one unit's share of
    its inputs' adjoints (a product, then a sum: the two roundings the kernel wrote)."""
    _back(adj, theta, w0, length, dst, s0, sm, nb)


@_fixed(_C2, _I, _A, _I, _I, _C2, _I, _I, _I)
def back_row(adj, k, theta, w0, length, dst, s0, sm, nb):
    """:func:`back` for the adjoints in row ``k`` of ``adj``."""
    _back(adj[k], theta, w0, length, dst, s0, sm, nb)


for _name in _PENDING:  # compiled on first use, by ``__getattr__``
    del globals()[_name]
