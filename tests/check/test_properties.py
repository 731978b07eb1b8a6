"""Property tests: on random expression trees, autograd, finite differences and the
symbolic engine agree, first and second order.

Trees are built so that every subexpression stays inside its domain for points in
``[-2, 2]^n`` (logs and roots of ``1 + u²``, divisions by ``1 + u²``, exponentials of
bounded values), so disagreement can only come from a wrong derivative.

Tolerances (float64): autograd vs complex step, ``rtol = 1e-9``; symbolic vs autograd,
``1e-12`` relative to the gradient's size; Hessians vs finite differences, ``1e-6``.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad import autograd as ag
from symgrad.check import complex_step_gradient, complex_step_hessian
from symgrad.check._evaluate import evaluate
from symgrad.check._finite import central_gradient, steps
from symgrad.check._kinks import find_kinks

SYMBOLS = sp.symbols("a b c d")

UNARY = [
    lambda u: sp.sin(u),
    lambda u: sp.cos(u),
    lambda u: sp.tanh(u),
    lambda u: sp.atan(u),
    lambda u: sp.asinh(u),
    lambda u: sp.exp(sp.tanh(u)),
    lambda u: sp.log(1 + u**2),
    lambda u: sp.sqrt(1 + u**2),
    lambda u: u**2,
    lambda u: u**3 / 4,
    lambda u: 1 / (1 + u**2),
    lambda u: sp.sinh(sp.tanh(u)),
    lambda u: sp.cosh(sp.atan(u)),
    lambda u: sp.asin(sp.tanh(u) / 2),
    lambda u: sp.acos(sp.tanh(u) / 2),
    lambda u: sp.atanh(sp.tanh(u) / 2),
    lambda u: sp.acosh(2 + u**2),
    lambda u: sp.tan(sp.tanh(u)),
    lambda u: (1 + u**2) ** sp.Rational(1, 3),
]
BINARY = [
    lambda u, v: u + v,
    lambda u, v: u - v,
    lambda u, v: u * v,
    lambda u, v: u / (1 + v**2),
    lambda u, v: (2 + sp.sin(u)) ** sp.cos(v),
]


def trees(n_symbols: int):
    leaves = st.sampled_from(SYMBOLS[:n_symbols]) | st.sampled_from(
        [sp.Integer(2), sp.Rational(1, 3), sp.pi])
    return st.recursive(
        leaves,
        lambda sub: st.one_of(
            st.tuples(st.sampled_from(UNARY), sub).map(lambda t: t[0](t[1])),
            st.tuples(st.sampled_from(BINARY), sub, sub).map(lambda t: t[0](t[1], t[2])),
        ),
        max_leaves=8,
    )


@st.composite
def problems(draw):
    n = draw(st.integers(1, 4))
    expr = draw(trees(n))
    wrt = SYMBOLS[:n]
    point = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=n, max_size=n))
    return expr, wrt, np.array(point)


def values(expr, wrt):
    return lambda t: evaluate(expr, dict(zip(wrt, t)))


PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
SYMBOLIC = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(problems())
def test_autograd_agrees_with_the_complex_step(problem):
    expr, wrt, point = problem
    numeric = complex_step_gradient(values(expr, wrt), point)
    np.testing.assert_allclose(ag.grad(expr, wrt, point), numeric, rtol=1e-9, atol=1e-11)


@PROPERTY
@given(problems())
def test_autograd_value_is_the_expression_value(problem):
    expr, wrt, point = problem
    value, _ = ag.value_and_grad(expr, wrt, point)
    expected = float(expr.evalf(30, subs=dict(zip(wrt, map(sp.Float, point)))))
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-13)


@pytest.mark.slow
@SYMBOLIC
@given(problems())
def test_symbolic_agrees_with_autograd_first_and_second_order(problem):
    expr, wrt, point = problem
    symbolic = np.asarray(sg.compile(sg.gradient(expr, wrt), wrt)(*point), dtype=float).ravel()
    autograd = ag.grad(expr, wrt, point)
    scale = 1.0 + np.max(np.abs(autograd))
    np.testing.assert_allclose(symbolic, autograd, rtol=1e-12, atol=1e-12 * scale)

    n = len(wrt)  # a (1, 1) Matrix is also a column, so the kernel gives (1,)
    hessian = np.asarray(sg.compile(sg.hessian(expr, wrt), wrt)(*point), dtype=float).reshape(n, n)
    numeric = complex_step_hessian(values(expr, wrt), point)
    hscale = 1.0 + np.max(np.abs(numeric))
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-7 * hscale)
    # second order through the tape: central differences of the autograd gradient
    h = 1e-5
    jac = np.array([(ag.grad(expr, wrt, point + h * e) - ag.grad(expr, wrt, point - h * e)) / (2 * h)
                    for e in np.eye(len(wrt))])
    np.testing.assert_allclose(hessian, jac, rtol=1e-5, atol=1e-6 * hscale)


KINKED = [
    (sp.Max(0, SYMBOLS[0] * SYMBOLS[1] - 1), (1.0, 1.0)),
    (sp.Min(SYMBOLS[0], SYMBOLS[1] ** 2), (4.0, 2.0)),
    (sp.Abs(SYMBOLS[0] - SYMBOLS[1]) * SYMBOLS[0], (0.5, 0.5)),
    (sp.Piecewise((SYMBOLS[0] ** 2, SYMBOLS[0] > SYMBOLS[1]), (SYMBOLS[1], True)), (1.0, 1.0)),
    (SYMBOLS[0] * sp.Heaviside(SYMBOLS[1]) + sp.sign(SYMBOLS[1]) * SYMBOLS[0], (2.0, 0.0)),
    (sp.Max(SYMBOLS[0], SYMBOLS[1], 1), (1.0, 1.0)),
]


@pytest.mark.parametrize("expr, point", KINKED, ids=[str(k[0]) for k in KINKED])
def test_symbolic_and_autograd_share_the_kink_convention(expr, point):
    wrt = SYMBOLS[:2]
    report = sg.check_gradient(expr, wrt, point)
    assert report.kinks, "the point was chosen on a kink"
    np.testing.assert_array_equal(report.symbolic, report.autograd)
    assert report.ok


KINKY_UNARY = [
    lambda u: sp.Abs(u),
    lambda u: sp.Max(u, 0),
    lambda u: u * sp.Heaviside(u - sp.Rational(1, 2)),
    lambda u: sp.Piecewise((u**2, u < 1), (2 * u - 1, True)),
    lambda u: sp.sign(u) * u**2,
]
KINKY_BINARY = [lambda u, v: sp.Max(u, v), lambda u, v: sp.Min(u, 2 * v)]


@st.composite
def kinky_problems(draw):
    n = draw(st.integers(1, 3))
    leaves = st.sampled_from(SYMBOLS[:n])
    expr = draw(st.recursive(leaves, lambda sub: st.one_of(
        st.tuples(st.sampled_from(UNARY[:6] + KINKY_UNARY), sub).map(lambda t: t[0](t[1])),
        st.tuples(st.sampled_from(BINARY[:3] + KINKY_BINARY), sub, sub).map(lambda t: t[0](t[1], t[2])),
    ), max_leaves=6))
    point = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=n, max_size=n))
    return expr, SYMBOLS[:n], np.array(point)


@PROPERTY
@given(kinky_problems())
def test_autograd_agrees_with_central_differences_away_from_kinks(problem):
    expr, wrt, point = problem
    h = steps(point)
    stencil = [point + s * h[i] * np.eye(len(point))[i] for i in range(len(point)) for s in (1, -1)]
    canonical = expr.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: sp.Heaviside(e.args[0], 0))
    assume(not find_kinks(canonical, wrt, point, stencil, {}))
    numeric = central_gradient(values(canonical, wrt), point)
    scale = 1.0 + np.max(np.abs(numeric))
    np.testing.assert_allclose(ag.grad(expr, wrt, point), numeric, rtol=1e-6, atol=1e-8 * scale)
