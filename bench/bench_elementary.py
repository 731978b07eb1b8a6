"""Accuracy of symgrad's branch-free elementary functions against mpmath.

Run: python bench/bench_elementary.py [--points N] [--seed S]

For each function, N float64 inputs (default 10^6) are drawn over the whole double
range where the function is finite and not constant: half of them uniform in bit
pattern (so every binade, subnormals included, is as likely as any other), half
uniform in value over the range where the result varies, plus the special values.
Each result of ``symgrad.jit._elementary`` is first screened against NumPy's
extended-precision (x87, 64-bit significand) functions; the 5,000 inputs with the
largest screened errors (and every special value, zero or infinite result) are
then compared with the exact value from mpmath at 80 bits, and the maximum error
is printed in units in the last place of the exact value (``2**(e - 52)`` for ``2**e <= |exact| < 2**(e+1)``,
``2**-1074`` below the normal range). The same inputs also go through the C
library's ``math`` functions (``symgrad.jit._libm``) for comparison.
The table goes to docs/numerics.md.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time

import mpmath
import numba
import numpy as np

from symgrad.jit import _elementary as vm
from symgrad.jit import _libm

MAX = mpmath.mpf(np.finfo(float).max) * (1 + mpmath.mpf(2) ** -54)  # results above round to inf


def applier(f):
    @numba.njit
    def apply(xs, out):
        for i in range(xs.shape[0]):
            out[i] = f(xs[i])

    return apply


def ulp_error(y: float, exact) -> float:
    """|y - exact| in ulps of ``exact``; 0 or inf for infinite and NaN expectations."""
    if mpmath.isnan(exact):
        return 0.0 if math.isnan(y) else math.inf
    if abs(exact) > MAX or mpmath.isinf(exact):
        return 0.0 if math.isinf(y) and (y > 0) == (exact > 0) else math.inf
    if not math.isfinite(y):
        return math.inf
    if exact == 0:
        return 0.0 if y == 0 else math.inf
    _, e = mpmath.frexp(exact)  # 2**(e-1) <= |exact| < 2**e
    ulp = mpmath.ldexp(1, max(int(e) - 1, -1022) - 52)
    return float(abs(mpmath.mpf(y) - exact) / ulp)


def by_bits(rng, n, lo, hi):
    """``n`` doubles uniform in bit pattern between the positive ``lo`` and ``hi``."""
    a, b = np.array([lo, hi]).view(np.int64)
    return rng.integers(a, b, n).view(np.float64)


SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308, 1.0, -1.0])


def inputs(name, rng, n):
    q = n // 4
    tiny = 5e-324
    ranges = {
        "exp": [rng.uniform(-746, 710, 2 * q), by_bits(rng, q, tiny, 746.0), -by_bits(rng, q, tiny, 746.0)],
        "expm1": [rng.uniform(-40, 710, 2 * q), by_bits(rng, q, tiny, 710.0), -by_bits(rng, q, tiny, 40.0)],
        "log": [by_bits(rng, 2 * q, tiny, np.finfo(float).max), rng.uniform(0.5, 2.0, 2 * q)],
        "log1p": [by_bits(rng, q, tiny, np.finfo(float).max), -by_bits(rng, q, tiny, 1.0), rng.uniform(-1, 1, 2 * q)],
        "tanh": [by_bits(rng, q, tiny, 20.0), -by_bits(rng, q, tiny, 20.0), rng.uniform(-20, 20, 2 * q)],
    }
    return np.concatenate([SPECIAL] + ranges[name])


EXACT = {"exp": mpmath.exp, "expm1": mpmath.expm1, "log": mpmath.log, "log1p": mpmath.log1p, "tanh": mpmath.tanh}


def exact_value(name, x):
    if math.isnan(x):
        return mpmath.nan
    if name in ("log", "log1p") and (x < 0 if name == "log" else x < -1):
        return mpmath.nan
    if name == "log" and x == 0 or name == "log1p" and x == -1:
        return -mpmath.inf
    return EXACT[name](mpmath.mpf(x))


LONG = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh}


def screen(name, xs, ys):
    """Errors in ulps against the function in x87 extended precision (64-bit significands).

    Only a screen: NumPy's extended-precision functions are within about an ulp of
    their own 64-bit format, so these errors are right to about 2**-10 ulp of float64,
    enough to find the inputs where the errors are largest.
    """
    x = xs.astype(np.longdouble)
    with np.errstate(all="ignore"):
        exact = LONG[name](x)
        finite = np.isfinite(exact) & (exact != 0) & (np.abs(exact) <= np.finfo(float).max)
        e = np.frexp(np.where(finite, exact, 1.0))[1].astype(np.int64)
        ulp = np.ldexp(np.longdouble(1), np.maximum(e - 1, -1022) - 52)
        err = np.abs(ys.astype(np.longdouble) - exact) / ulp
    return np.where(finite, err, 0.0).astype(float)


def measure(name, n, seed, recheck=5000):
    """``(name, points, max error, where, mean error, the C library's max)`` for one function.

    Every input is screened in extended precision; the ``recheck`` inputs with the
    largest screened errors, the non-finite and zero results and the special values
    are then measured against mpmath at 80 bits, and the maximum comes from those.
    """
    mpmath.mp.prec = 80
    rng = np.random.default_rng(seed)
    xs = inputs(name, rng, n)
    ours, libm = np.empty_like(xs), np.empty_like(xs)
    applier(getattr(vm, name))(xs, ours)
    applier(getattr(_libm, name))(xs, libm)
    rough, rough_libm = screen(name, xs, ours), screen(name, xs, libm)
    with np.errstate(all="ignore"):
        odd = ~np.isfinite(LONG[name](xs.astype(np.longdouble))) | ~np.isfinite(ours) | (ours == 0)
    picks = set(np.argsort(rough)[-recheck:].tolist()) | set(np.argsort(rough_libm)[-recheck:].tolist())
    picks |= set(np.flatnonzero(odd).tolist()) | set(range(len(SPECIAL)))
    worst, worst_x, worst_libm = 0.0, 0.0, 0.0
    for i in sorted(picks):
        x = float(xs[i])
        exact = exact_value(name, x)
        err = ulp_error(float(ours[i]), exact)
        if err > worst:
            worst, worst_x = err, x
        worst_libm = max(worst_libm, ulp_error(float(libm[i]), exact))
    return name, len(xs), worst, worst_x, float(rough.mean()), worst_libm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10**6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=len(EXACT), help="functions measured at once")
    args = parser.parse_args()
    t = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        rows = pool.starmap(measure, [(name, args.points, args.seed) for name in EXACT])
    print("| function | points | max error (ulp) | at x | mean error (ulp) | C library's max (ulp) |")
    print("|---|---|---|---|---|---|")
    for name, n, worst, at, mean, libm in rows:
        print(f"| `{name}` | {n:,} | {worst:.3f} | {at!r} | {mean:.3f} | {libm:.3f} |")
    print(f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
