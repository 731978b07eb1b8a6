"""A long sum inside another node, and the one walk that checks a long expression.

``S = sum_{k < n} (x - k)**2`` has ``S(a) = n a^2 - a n (n - 1) + (n - 1) n (2n - 1) / 6``
and ``S'(a) = 2 n a - n (n - 1)``; the expected values of ``exp(-S / n**3)`` and
``sqrt(1 + S)`` and of their derivatives are the chain rule of these, evaluated with
mpmath at 30 digits.
"""

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad._expr import canonicalize, check_supported, checked_canonical, free_symbols
from symgrad.errors import UnsupportedFunctionError

x, y = sp.symbols("x y")
N = 3_000
S = sp.Add(*[(x - k) ** 2 for k in range(N)])


def s_at(a):
    return N * a**2 - a * N * (N - 1) + sp.Rational((N - 1) * N * (2 * N - 1), 6)


def ds_at(a):
    return 2 * N * a - N * (N - 1)


# (expression, point, exact value, exact derivative), outer nodes built unevaluated as a
# user would to spare SymPy's own exp of a long sum
A_EXP = sp.Rational(N + 1, 2)
CASES = {
    "exp": (sp.exp(sp.Mul(sp.Rational(-1, N**3), S, evaluate=False), evaluate=False), A_EXP,
            lambda: mpmath.exp(-mpmath.mpf(s_at(A_EXP)) / N**3),
            lambda: -mpmath.mpf(ds_at(A_EXP)) / N**3 * mpmath.exp(-mpmath.mpf(s_at(A_EXP)) / N**3)),
    "sqrt": (sp.sqrt(1 + S), sp.Rational(1, 2),
             lambda: mpmath.sqrt(1 + mpmath.mpf(s_at(sp.Rational(1, 2)))),
             lambda: mpmath.mpf(ds_at(sp.Rational(1, 2))) / (2 * mpmath.sqrt(1 + mpmath.mpf(s_at(sp.Rational(1, 2)))))),
}


@pytest.mark.parametrize("name", CASES)
def test_the_gradient_through_a_long_sum_is_the_chain_rule(name):
    expr, a, _, derivative = CASES[name]
    mpmath.mp.dps = 30
    (d,) = sg.gradient(expr, [x])
    got = mpmath.mpf(sp.N(d.subs(x, a), 30))
    assert abs(got - derivative()) <= mpmath.mpf(10) ** -25 * abs(derivative())


def test_the_gradient_of_a_long_sum_times_a_symbol_and_beside_others():
    expr = y * S + sp.sin(x * y)
    gx, gy = sg.gradient(expr, [x, y])
    a, b = sp.Rational(1, 3), sp.Rational(5, 7)
    assert sp.simplify(gx.subs({x: a, y: b}) - (b * ds_at(a) + b * sp.cos(a * b))) == 0
    assert sp.simplify(gy.subs({x: a, y: b}) - (s_at(a) + a * sp.cos(a * b))) == 0


@pytest.mark.parametrize("name", CASES)
def test_objective_and_compile_of_a_long_sum_inside_a_node(name):
    expr, a, value, derivative = CASES[name]
    mpmath.mp.dps = 30
    exact_value, exact_derivative = float(value()), float(derivative())
    # rounding: (N - 1) u sum |t| bounds the sum, amplified by the outer function's
    # condition number (at most a few here); 1e-11 relative is well above both
    v, g = sg.Objective(expr, [x]).value_and_grad([float(a)])
    assert v == pytest.approx(exact_value, rel=1e-11)
    assert float(g[0]) == pytest.approx(exact_derivative, rel=1e-11)
    assert sg.compile(expr, [x])(float(a)) == pytest.approx(exact_value, rel=1e-11)


SMALL = [
    sp.Heaviside(x) * y + sp.log(sp.exp(x)),
    sp.exp(x) ** y + sp.Piecewise((x, x > 0), (y, True)),
    sp.ITE(x > 0, y > 0, x < 1) | (y > 2),
    (x - 1) ** 2 + sp.Float(0.25) * sp.pi * y,
]


@pytest.mark.parametrize("expr", SMALL, ids=range(len(SMALL)))
def test_the_one_walk_agrees_with_the_three_walks(expr):
    checked, free = checked_canonical(expr)
    assert checked == canonicalize(expr)
    assert free == free_symbols(expr) == expr.free_symbols
    check_supported(checked)


@pytest.mark.parametrize("expr, name", [
    (x + sp.zeta(x), "zeta"), (x * sp.oo, "oo"), (x + sp.I, "I"), (x + sp.EulerGamma, "EulerGamma"),
])
def test_the_one_walk_names_an_unsupported_construct(expr, name):
    with pytest.raises(UnsupportedFunctionError, match=name):
        checked_canonical(expr, "stage")
    with pytest.raises(UnsupportedFunctionError, match=name):
        check_supported(expr, "stage")


def test_compile_names_a_missing_symbol_of_a_long_sum():
    with pytest.raises(sg.errors.MissingSymbolError, match="y"):
        sg.compile(S + y, [x])
    assert np.isfinite(sg.compile(S, [x])(0.5))
