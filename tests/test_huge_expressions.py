"""Huge expressions: sums of thousands of terms through sg.gradient, sg.hessian and sg.compile.

Expected values are closed forms: ``sum_{k < n} (x - k)**2`` has the derivative
``2 n x - n (n - 1)`` and the value ``n a^2 - a n (n - 1) + (n - 1) n (2n - 1) / 6``;
other sums are compared with SymPy's own ``diff``.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

x, y, w, u = sp.symbols("x y w u")
UNIT_ROUNDOFF = 2.0**-53


def squares(n):
    return sp.Add(*[(x - k) ** 2 for k in range(n)])


def squares_at(a, n):
    return n * a**2 - a * n * (n - 1) + sp.Rational((n - 1) * n * (2 * n - 1), 6)


def test_the_gradient_of_5000_shifted_squares_is_the_exact_closed_form():
    n = 5_000
    (d,) = sg.gradient(squares(n), [x])
    assert d == 2 * n * x - n * (n - 1)
    assert sg.hessian(squares(n), [x])[0, 0] == 2 * n


def test_families_of_terms_give_sympys_derivatives():
    # polynomial templates (summed in closed form), a transcendental one (one instance per
    # term), float offsets, and terms in no family, in one sum
    expr = (
        sp.Add(*[3 * (w * u - k) ** 2 for k in range(1, 40)])
        + sp.Add(*[sp.sin(x - k) * y for k in range(40)])
        + sp.Add(*[sp.exp(-((x - k / 4.0) ** 2)) for k in range(20)])
        + sp.log(1 + x**2) + w * y
    )
    wrt = [w, u, x, y]
    got = sg.gradient(expr, wrt)
    for g, s in zip(got, wrt):
        assert sp.expand(g - sp.diff(expr, s)) == 0 or abs(
            sp.N((g - sp.diff(expr, s)).subs({w: 0.3, u: -1.2, x: 0.7, y: 1.9}), 30)
        ) < 1e-25
    h = sg.hessian(expr, [w, u])
    assert sp.expand(h - sp.hessian(expr, [w, u])) == sp.zeros(2, 2)


def test_compile_of_12000_terms_loops_over_a_table_of_offsets():
    # 24,000 operations, past the straight-line limit of 20,000 statements: one loop
    # reading the offsets
    n = 12_000
    kernel = sg.compile(squares(n), [x])
    assert kernel._source.statements < 40
    assert "_C0 = np.array([" in kernel.source
    exact = squares_at(sp.Rational(1, 2), n)
    # any order of summation is within (n - 1) u sum |t_k| (and every t_k here is exact)
    bound = (n - 1) * UNIT_ROUNDOFF * float(exact)
    assert abs(kernel(0.5) - float(exact)) <= bound


def test_compile_of_a_long_sum_beside_short_outputs_keeps_the_shape():
    n = 1000
    kernel = sg.compile([squares(n), sp.sin(y) * squares(n), x * y], [x, y])
    got = kernel(0.5, 1.5)
    exact = float(squares_at(sp.Rational(1, 2), n))
    assert got.shape == (3,)
    assert got[0] == pytest.approx(exact, rel=1e-14)
    assert got[1] == pytest.approx(np.sin(1.5) * exact, rel=1e-14)
    assert got[2] == 0.75
    values = kernel(np.array([0.5, -1.25]), 1.5)  # the vector loop, over blocks of elements
    assert values.shape == (2, 3)
    assert values[1, 0] == pytest.approx(float(squares_at(sp.Rational(-5, 4), n)), rel=1e-14)


def test_a_short_sum_keeps_the_straight_line_kernel():
    kernel = sg.compile(squares(20), [x])
    assert "_C0" not in kernel.source
    assert kernel(0.5) == float(squares_at(sp.Rational(1, 2), 20))
