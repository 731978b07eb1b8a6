"""Elementary functions in branch-free float64 arithmetic, so loops over samples vectorise.

Numba compiles ``math.exp``, ``math.log`` and ``math.tanh`` to calls of the C
library, one value at a time, and a call in a loop keeps LLVM from vectorising
the loop (Numba's SVML route is not in the PyPI llvmlite). The functions here are
plain arithmetic instead: a range reduction, a polynomial, and selects (never
branches) for the special values, so each inlines into the caller and LLVM
computes four samples per AVX2 instruction. The generated kernels call them as
``vm.exp(t)``; ``JitOptions(vector_math=False)`` prints ``math.exp(t)`` instead.

The methods (the coefficients are the Taylor coefficients, exact rationals
rounded once; no tables, so no gathers):

- ``exp(x) = 2**k * exp(r)``, ``k = round(x / ln 2)``, ``r = x - k ln 2`` with
  ``ln 2 = LN2_HI + LN2_LO`` split so that ``k * LN2_HI`` is exact (Cody and
  Waite's reduction), ``|r| <= ln(2)/2``; ``exp(r)`` by Taylor to degree 13 (the
  remainder is below 0.05 ulp); ``2**k`` applied as two factors ``2**k1 * 2**k2``
  so that results from the overflow threshold down to the smallest subnormal
  are rounded once.
- ``expm1(x) = 2**k * expm1(r) + (2**k - 1)``, ``expm1(r) = r + r**2 Q(r)``, as
  ``fma(2**k, r**2 Q(r), fma(2**k, r, 2**k - 1))``: the inner sum is exact or
  rounded once, the small term added last.
- ``log(x) = e ln 2 + log(m)``, ``m in [sqrt(1/2), sqrt(2))``; with ``f = m - 1``,
  ``s = f / (2 + f)``: ``log(m) = 2 atanh(s) = f - s (f - T(s**2))``, ``T`` the
  atanh series to ``s**20`` (``|s| <= 0.172``).
- ``log1p(x)``: the same with ``u = 1 + x`` and ``f`` corrected by the rounding
  error of that sum, ``c = x - (u - 1)``: ``f = m - 1 + c 2**-e`` (no division).
- ``tanh(x) = sign(x) e / (e + 2)`` with ``e = expm1(2|x|)``, 1 beyond ``|x| = 22``;
  the quotient is corrected by its residual, computed exactly with fused multiply-adds.

Measured errors against mpmath (``bench/bench_elementary.py``) are in
``docs/numerics.md``: within 2 ulp each, the same for every input in serial and threaded
runs. The special values follow IEEE 754 and the C library: ``exp``
overflows to ``inf`` and underflows through the subnormals to 0; ``log(0) = -inf``,
``log`` of a negative number is NaN; ``tanh(±inf) = ±1``; signed zeros are kept;
NaN gives NaN.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from symgrad.jit._cache import cached_njit
from symgrad.jit._window import window  # noqa: F401  (re-exported for the generated modules)

__all__ = ["exp", "expm1", "log", "log1p", "tanh", "accumulate", "fma", "empty1", "empty2", "window", "LN2_HI", "LN2_LO"]

_JIT = {"error_model": "numpy", "nogil": True}


def _jit(**extra):
    """``numba.njit``, cached beside this file (each new process would otherwise compile
    the functions a kernel calls again: 0.5 s of CPU for ``tanh``), in memory where the
    folder cannot be written."""
    def wrap(function):
        return cached_njit(function, **_JIT, **extra) or numba.njit(cache=False, **_JIT, **extra)(function)

    return wrap


@intrinsic
def _bits(typingctx, x):
    """The IEEE 754 bit pattern of a float64 as an int64 (a bit cast, no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, i):
    """The float64 whose bit pattern is the int64 ``i``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once: one instruction where the processor has fused
    multiply-adds (every x86-64 since 2013, every ARMv8), the C library's ``fma``
    elsewhere, so the same bits on every machine.

    The loops engine adds each product term of a sum this way (a dense layer's
    ``sum_m W[k, m] * y[m]`` and its gradient rows): one rounding per term instead
    of two, in the same order, and half the arithmetic instructions. An intrinsic,
    not a compiled function, so that it is written into the caller's code as it is
    compiled (a call of a function, sixteen to a loop, is not always inlined).
    The range reductions and polynomials below use it too. Integers and booleans
    are converted to float64 first.
    """
    if not all(isinstance(t, (types.Float, types.Integer, types.Boolean)) for t in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):
        x, y, z = (context.cast(builder, v, t, types.float64) for v, t in zip(args, signature.args))
        return builder.fma(x, y, z)

    return types.float64(a, b, c), codegen


#: ln 2 = LN2_HI + LN2_LO: LN2_HI is ln 2 rounded to 32 significant bits, so that
#: ``k * LN2_HI`` is exact for |k| < 2**21; LN2_LO is the rest rounded to float64
#: (both from mpmath at 300 bits; tests/jit/test_elementary.py checks them).
LN2_HI = float.fromhex("0x1.62e42ff000000p-1")
LN2_LO = float.fromhex("-0x1.718432a1b0e26p-35")
_INV_LN2 = 1.4426950408889634  # 1/ln 2 rounded to float64
#: Adding 1.5 * 2**52 rounds a float of magnitude below 2**51 to an integer, which
#: then sits in the low bits of the sum: no float-to-integer conversion (AVX2 has
#: none for 64-bit integers) is needed.
_SHIFT = 6755399441055744.0
_SHIFT_BITS = 0x4338000000000000
_SIGN = -0x8000000000000000  # the sign bit as an int64
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # sqrt(1/2) rounded to float64
_ONE_BITS = 0x3FF0000000000000
_TINY = 2.2250738585072014e-308  # smallest normal float64
_TWO54 = 18014398509481984.0

# Taylor coefficients 1/n! of exp, each rounded once.
_F2, _F3, _F4, _F5, _F6, _F7 = (1.0 / math.factorial(n) for n in range(2, 8))
_F8, _F9, _F10, _F11, _F12, _F13 = (1.0 / math.factorial(n) for n in range(8, 14))
# atanh series: 2 atanh(s) = 2 s + s (T1 w + T2 w**2 + ...), w = s**2, Tk = 2 / (2k + 1).
_T1, _T2, _T3, _T4, _T5 = (2.0 / (2 * k + 1) for k in range(1, 6))
_T6, _T7, _T8, _T9, _T10 = (2.0 / (2 * k + 1) for k in range(6, 11))


@_jit()
def _reduce(x):
    """``(k, r)`` with ``x = k ln 2 + r``, ``|r| <= ln(2)/2``; ``k`` as a float and as bits."""
    t = fma(x, _INV_LN2, _SHIFT)
    k = t - _SHIFT
    r = fma(-k, LN2_HI, x)
    r = fma(-k, LN2_LO, r)
    return k, r, _bits(t) - _SHIFT_BITS


@_jit()
def _q(r):
    """``(exp(r) - 1 - r) / r**2`` by its Taylor polynomial, ``1/2 + r/6 + ... + r**11/13!``.

    Evaluated by Estrin's scheme (pairs, then pairs of pairs): four multiply-adds
    deep instead of Horner's eleven, so that the samples of a vectorised loop do
    not wait on one long chain.
    """
    r2 = r * r
    r4 = r2 * r2
    a = fma(fma(_F5, r, _F4), r2, fma(_F3, r, _F2))
    b = fma(fma(_F9, r, _F8), r2, fma(_F7, r, _F6))
    c = fma(fma(_F13, r, _F12), r2, fma(_F11, r, _F10))
    return fma(fma(c, r4, b), r4, a)


@_jit()
def _pow2(k):
    """``2.0**k`` for an int64 ``k`` in [-1022, 1023]."""
    return _float((k + 1023) << 52)


@_jit()
def exp(x):
    """e**x for a float64, branch-free.

    Args:
        x: a float64.

    Returns:
        ``exp(x)`` to within 1 ulp: ``inf`` above 709.78, subnormal results
        rounded once, 0 below -745.13; NaN for NaN.
    """
    xc = min(max(x, -746.0), 710.0)
    k, r, kb = _reduce(xc)
    p = fma(r * r, _q(r), r) + 1.0
    half = _bits(fma(k, 0.5, _SHIFT)) - _SHIFT_BITS  # k1 = round(k / 2), k2 = k - k1
    y = p * _pow2(half) * _pow2(kb - half)
    return x if x != x else y


@_jit()
def _expm1(x):
    """``e**x - 1`` for a non-NaN float64 (the NaN select is left to the callers)."""
    xc = min(max(x, -60.0), 710.0)
    k, r, kb = _reduce(xc)
    big = kb > 1000  # 2**k itself overflows: scale by 2**24 afterwards
    k1 = kb - 24 if big else kb
    s = _pow2(k1)
    # s (r + r**2 q) + (s - 1), its large part s r + (s - 1) rounded on its own first
    y = fma(s, r * r * _q(r), fma(s, r, s - 1.0))
    y = y * 16777216.0 if big else y
    return x if x == 0.0 else y  # keeps the sign of zero


@_jit()
def expm1(x):
    """e**x - 1 for a float64, accurate for small ``x`` too, branch-free.

    Returns:
        ``expm1(x)``: ``x`` itself for ±0 and tiny ``x``, -1 below about -37.4,
        ``inf`` above 709.78, NaN for NaN.
    """
    y = _expm1(x)
    return x if x != x else y


@_jit()
def _log(u, c):
    """``log(u + c)`` for a positive finite ``u`` and a correction ``c`` with ``|c| <= ulp(u)``.

    With ``u = 2**e m``: ``log(u + c) = e ln 2 + log1p(f)``, ``f = m - 1 + c 2**-e``.
    """
    tiny = u < _TINY
    us = u * _TWO54 if tiny else u
    iu = _bits(us)
    e = ((iu + (_ONE_BITS - _SQRT_HALF_BITS)) >> 52) - 1023
    m = _float(iu - (e << 52))  # in [sqrt(1/2), sqrt(2))
    ef = _float(_SHIFT_BITS + e) - _SHIFT
    ef = ef - 54.0 if tiny else ef
    f = (m - 1.0) + c * _pow2(-min(e, 1000))
    s = f / (2.0 + f)
    w = s * s
    w2 = w * w
    w4 = w2 * w2
    a = fma(fma(_T4, w, _T3), w2, fma(_T2, w, _T1))
    b = fma(fma(_T8, w, _T7), w2, fma(_T6, w, _T5))
    t = fma(fma(fma(_T10, w, _T9), w4, b), w4, a) * w  # Estrin's scheme, as in _q
    small = ef * LN2_LO - s * (f - t)
    return fma(ef, LN2_HI, f + small)


@_jit()
def log(x):
    """The natural logarithm of a float64, branch-free.

    Returns:
        ``log(x)``: ``-inf`` at ±0, NaN for ``x < 0`` and NaN, ``inf`` at ``inf``;
        subnormal ``x`` are scaled by 2**54 first.
    """
    ok = (x > 0.0) & (x < math.inf)
    y = _log(x if ok else 1.0, 0.0)
    y = y if ok else (-math.inf if x == 0.0 else (math.inf if x == math.inf else math.nan))
    return x if x != x else y


@_jit()
def log1p(x):
    """log(1 + x) for a float64, accurate for small ``x``, branch-free.

    Returns:
        ``log1p(x)``: ``x`` for ±0 and tiny ``x``, ``-inf`` at -1, NaN below -1 and
        for NaN, ``inf`` at ``inf``.
    """
    ok = (x > -1.0) & (x < math.inf)
    xs = x if ok else 0.0
    u = 1.0 + xs
    y = _log(u, xs - (u - 1.0))
    y = y if ok else (-math.inf if x == -1.0 else (math.inf if x == math.inf else math.nan))
    y = x if x == 0.0 else y
    return x if x != x else y


@_jit()
def tanh(x):
    """The hyperbolic tangent of a float64, branch-free.

    Returns:
        ``tanh(x)``: odd (signed zeros kept), ±1 beyond ``|x| = 22`` and at ±inf,
        NaN for NaN.
    """
    e = _expm1(2.0 * min(abs(x), 22.0))
    d = e + 2.0
    dl = (2.0 - d) + e if e < 2.0 else (e - d) + 2.0  # e + 2 = d + dl exactly
    inv = 1.0 / d
    t0 = e * inv
    t = fma(fma(-t0, d, e) - t0 * dl, inv, t0)  # t0 + (e - t0 (d + dl)) / d
    y = _float(_bits(t) | (_bits(x) & _SIGN))
    return x if x != x else y


@_jit(fastmath={"reassoc"})
def accumulate(total, term):
    """``total + term``, an addition LLVM may reassociate.

    A loop that adds up ``s = accumulate(s, v)`` is vectorised into several partial
    sums added at the end. Only this addition is marked; every other operation
    keeps IEEE semantics. The order depends on the loop's length and the vector
    width of the machine, never on the number of threads.
    """
    return total + term


def _sized(signature: str):
    """``_jit`` with one explicit signature: the dispatcher takes no other.

    A kernel calls ``vm.empty2(16, 64)`` with integer constants, which Numba types as
    literals; a dispatcher that may compile would compile (and cache) a new
    specialisation for each pair of sizes, ``np.empty`` with it: 0.1 s of CPU for each
    new work array shape of a new network. With the signature fixed, every call
    converts its literals to ``int64`` and uses the one machine code.
    """
    def wrap(function):
        compiled = cached_njit(function, signature, **_JIT)
        return compiled if compiled is not None else numba.njit(signature, cache=False, **_JIT)(function)

    return wrap


@_sized("float64[::1](int64)")
def empty1(n):
    """``np.empty(n)``, for a kernel's work arrays.

    Numba compiles its own ``np.empty`` again for every process that compiles a
    kernel calling it (0.3 s of CPU for the one- and two-dimensional forms); these
    two are compiled once and cached with the functions above.
    """
    return np.empty(n)


@_sized("float64[:, ::1](int64, int64)")
def empty2(rows, cols):
    """``np.empty((rows, cols))``, C-contiguous (see :func:`empty1`)."""
    return np.empty((rows, cols))
