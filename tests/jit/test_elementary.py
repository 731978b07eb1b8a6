"""The branch-free elementary functions: special values, accuracy against mpmath, vectorised loops.

Expected values come from IEEE 754 (the special values) and from mpmath at 80 bits;
the million-point measurement is ``bench/bench_elementary.py``.
"""

import functools
import inspect
import math
import platform
import sys

import mpmath
import numba
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.codegen import BLOCK, KernelPrinter
from symgrad.jit import JitOptions, _cache, source_key
from symgrad.jit import _elementary as vm

INF, NAN = math.inf, math.nan
TINY = 5e-324  # smallest subnormal

SPECIAL = {
    "exp": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), (710.0, INF), (709.0, math.exp(709.0)),
            (-746.0, 0.0), (-745.0, 5e-324), (-740.0, 4.1995e-322), (TINY, 1.0), (1.0, math.e)],
    "expm1": [(0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -1.0), (NAN, NAN), (TINY, TINY), (-TINY, -TINY),
              (1e-300, 1e-300), (-50.0, -1.0), (710.0, INF), (709.7, 1.6549840276802644e308)],
    "log": [(1.0, 0.0), (0.0, -INF), (-0.0, -INF), (-1.0, NAN), (-INF, NAN), (INF, INF), (NAN, NAN),
            (TINY, -744.4400719213812), (2.2250738585072014e-308, -708.3964185322641), (math.e, 1.0)],
    "log1p": [(0.0, 0.0), (-0.0, -0.0), (-1.0, -INF), (-2.0, NAN), (-INF, NAN), (INF, INF), (NAN, NAN),
              (TINY, TINY), (-TINY, -TINY), (1e-20, 1e-20), (1.7976931348623157e308, 709.782712893384)],
    "tanh": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), (TINY, TINY), (-TINY, -TINY),
             (22.0, 1.0), (-30.0, -1.0), (1e-200, 1e-200)],
}


@functools.cache
def _apply(f):
    @numba.njit
    def apply(xs, out):
        for i in range(xs.shape[0]):
            out[i] = f(xs[i])

    return apply


def _values(name, xs):
    out = np.empty(len(xs))
    _apply(getattr(vm, name))(np.asarray(xs, dtype=float), out)
    return out


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_values_follow_ieee(name):
    xs, expected = zip(*SPECIAL[name])
    got = _values(name, xs)
    for x, e, g in zip(xs, expected, got):
        if math.isnan(e):
            assert math.isnan(g), f"{name}({x!r}) = {g!r}, expected NaN"
        else:
            assert g == pytest.approx(e, rel=3e-16, abs=0.0), f"{name}({x!r}) = {g!r}, expected {e!r}"
            assert math.copysign(1.0, g) == math.copysign(1.0, e), f"{name}({x!r}): sign of zero"


def _ulp_error(y, exact):
    _, e = mpmath.frexp(exact)
    ulp = mpmath.ldexp(1, max(int(e) - 1, -1022) - 52)
    return float(abs(mpmath.mpf(y) - exact) / ulp)


def _by_bits(rng, n, lo, hi):
    a, b = np.array([lo, hi]).view(np.int64)
    return rng.integers(a, b, n).view(np.float64)


# inputs where each result is finite and nonzero: by bit pattern (every binade) and by value
DOMAINS = {
    "exp": (mpmath.exp, lambda r, n: np.concatenate([r.uniform(-745, 709.7, n // 2), _by_bits(r, n // 4, TINY, 709.7),
                                                     -_by_bits(r, n // 4, TINY, 745.0)])),
    "expm1": (mpmath.expm1, lambda r, n: np.concatenate([r.uniform(-40, 709.7, n // 2), _by_bits(r, n // 4, TINY, 709.7),
                                                         -_by_bits(r, n // 4, TINY, 40.0)])),
    "log": (mpmath.log, lambda r, n: np.concatenate([_by_bits(r, n // 2, TINY, 1.7e308), r.uniform(0.5, 2.0, n // 2)])),
    "log1p": (mpmath.log1p, lambda r, n: np.concatenate([_by_bits(r, n // 2, TINY, 1.7e308), -_by_bits(r, n // 4, TINY, 1.0),
                                                         r.uniform(-0.9, 1.0, n // 4)])),
    "tanh": (mpmath.tanh, lambda r, n: np.concatenate([_by_bits(r, n // 2, TINY, 19.0), -_by_bits(r, n // 4, TINY, 19.0),
                                                       r.uniform(-3, 3, n // 4)])),
}


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_within_two_ulp_of_mpmath(name):
    exact_fn, draw = DOMAINS[name]
    xs = draw(np.random.default_rng(12), 10_000)
    got = _values(name, xs)
    with mpmath.workprec(80):
        errors = [_ulp_error(y, exact_fn(mpmath.mpf(x))) for x, y in zip(xs.tolist(), got.tolist())]
    worst = int(np.argmax(errors))
    assert errors[worst] <= 2.0, f"{name}({xs[worst]!r}) is {errors[worst]:.2f} ulp off"


def test_ln2_split_is_exact_to_far_beyond_float64():
    with mpmath.workprec(200):
        assert abs(mpmath.mpf(vm.LN2_HI) + mpmath.mpf(vm.LN2_LO) - mpmath.log(2)) < mpmath.mpf(2) ** -86
    assert int(vm.LN2_HI.hex().split("p")[0][4:].rstrip("0"), 16) < 2**32  # few enough bits for k*LN2_HI exact


def test_printer_writes_the_vector_functions_and_recognises_log1p_and_expm1():
    x, t, u = sp.symbols("x t u")
    printer = KernelPrinter({x: "x", t: "t", u: "u"}, vector_math=True, definitions={t: sp.exp(x), u: 1 + x})
    assert printer.doprint(sp.exp(x) + sp.tanh(x)) == "vm.exp(x) + vm.tanh(x)"
    assert printer.doprint(sp.log(u)) == "vm.log1p(x)"
    assert printer.doprint(t - 1) == "vm.expm1(x)"
    assert printer.doprint(sp.log(x + 1)) == "vm.log1p(x)"
    assert printer.doprint(sp.sin(x)) == "math.sin(x)"
    assert KernelPrinter({x: "x"}).doprint(sp.exp(x)) == "math.exp(x)"


def _logistic(options=JitOptions()):
    ws, xs = sp.symbols("w0:3"), sp.symbols("x0:3")
    y = sp.Symbol("y")
    z = sum(w * v for w, v in zip(ws, xs))
    return sg.Objective(sp.log(1 + sp.exp(z)) - y * z, list(ws), data=[*xs, y], options=options)


def _columns(n, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=n) for _ in range(3)] + [(rng.uniform(size=n) < 0.5).astype(float)]


def test_the_sample_loop_is_vectorised():
    obj = _logistic(JitOptions(cache=False, parallel=False))  # machine code loaded from disk cannot be inspected
    assert "vm.exp(" in obj.source and "vm.accumulate(" in obj.source
    obj.value_and_grad(np.zeros(3), *_columns(100))
    asm = "\n".join(obj._vg.blocks.inspect_asm().values())
    packed = {"x86_64": "mulpd", "AMD64": "mulpd", "aarch64": ".2d", "arm64": ".2d"}[platform.machine()]
    assert packed in asm, "no packed float64 multiplication in the block kernel"


def test_serial_threaded_and_indexed_runs_agree_bit_for_bit():
    obj = _logistic()
    cols = _columns(20_000)
    theta = np.array([0.3, -0.2, 0.1])
    threaded = obj.value_and_grad(theta, *cols)
    blocks = -(-20_000 // BLOCK)
    out = np.empty((blocks, 5))
    obj._vg.blocks(theta, tuple(cols), np.empty(0, dtype=np.int64), 20_000, out, 0, blocks)  # one thread
    serial = out.sum(axis=0) / 20_000
    assert serial[0] == threaded[0] and np.array_equal(serial[1:4], threaded[1])
    idx = np.random.default_rng(0).permutation(20_000)[:5000]
    by_index = obj.batch_value_and_grad(theta, obj.prepare(*cols, rows=False), idx)
    subset = obj.value_and_grad(theta, *[c[idx] for c in cols])
    assert by_index[0] == subset[0] and np.array_equal(by_index[1], subset[1])


def test_vector_math_false_compiles_the_c_library():
    x = sp.Symbol("x")
    k = sg.compile([sp.exp(x), sp.log(x), sp.tanh(x)], [x], options=JitOptions(vector_math=False))
    assert "from symgrad.jit import _libm as vm" in inspect.getsource(sys.modules[k.scalar.py_func.__module__])
    for v in (0.1, 1.7, 33.3):
        assert k(v).tolist() == [math.exp(v), math.log(v), math.tanh(v)]


def test_the_cache_key_follows_the_elementary_functions(monkeypatch):
    before = source_key("text")
    monkeypatch.setattr(_cache, "_ELEMENTARY", _cache._ELEMENTARY + b"# changed\n")
    assert source_key("text") != before
    assert source_key("text", JitOptions(vector_math=False)) != source_key("text", JitOptions(vector_math=True))


@numba.njit
def _fused(a, b, c, out):
    for i in range(a.shape[0]):
        out[i] = vm.fma(a[i], b[i], c[i])


def test_fma_rounds_once():
    """``vm.fma(a, b, c)`` is the exact ``a * b + c`` rounded once to nearest (Python's
    ``float(Fraction)`` rounds correctly), vectorised or not; ``a * b + c`` rounds twice."""
    from fractions import Fraction

    rng = np.random.default_rng(11)
    a = rng.standard_normal(2000) * 10.0 ** rng.integers(-20, 20, 2000)
    b = rng.standard_normal(2000) * 10.0 ** rng.integers(-20, 20, 2000)
    c = -a * b * (1 + rng.integers(-3, 4, 2000) * 2.0 ** -52)  # cancellation: the product's error shows
    c[:500] = rng.standard_normal(500)
    a[0], b[0], c[0] = 1.0 + 2.0 ** -30, 1.0 - 2.0 ** -30, -1.0  # a*b = 1 - 2**-60 exactly
    out = np.empty_like(a)
    _fused(a, b, c, out)
    want = np.array([float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)])
    assert np.array_equal(out, want)
    assert out[0] == -(2.0 ** -60) and a[0] * b[0] + c[0] == 0.0
    assert np.count_nonzero(a * b + c != want) > 100  # the unfused sum differs: the check can fail


def test_fma_special_values():
    """IEEE 754's fusedMultiplyAdd: NaN for inf * 0 and inf - inf, no overflow of the
    product where the sum is finite, the sign of an exact zero, integers converted."""
    from fractions import Fraction

    @numba.njit
    def f(a, b, c):
        return vm.fma(a, b, c)

    assert math.isnan(f(INF, 0.0, 1.0)) and math.isnan(f(NAN, 1.0, 1.0)) and math.isnan(f(INF, 1.0, -INF))
    assert f(1e308, 10.0, -INF) == -INF
    assert f(1e308, 2.5, -1.7e308) == float(Fraction(1e308) * Fraction(2.5) - Fraction(1.7e308))  # unfused: inf
    assert math.copysign(1.0, f(-0.0, 1.0, -0.0)) == -1.0 and math.copysign(1.0, f(-0.0, 1.0, 0.0)) == 1.0
    assert f(2, 3, 1) == 7.0 and f(TINY, 0.5, 0.0) == 0.0 and f(TINY, 1.5, 0.0) == 2 * TINY
