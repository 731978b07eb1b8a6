"""The replayed tape (TapeProgram): every primitive and every sample against the mpmath oracle."""

import numpy as np
import pytest
import sympy as sp

from symgrad._expr import canonicalize
from symgrad.autograd import value_and_grad
from symgrad.autograd._program import TapeProgram
from symgrad.errors import UnsupportedFunctionError
import oracle

a, b, c = sp.symbols("a b c")
u, v = sp.symbols("u v")
PARAMS = [a, b, c]
DATA = [u, v]

# every translation of the program: n-ary sums and products (the prefix/suffix partials
# of three or more factors), powers of each kind, every function, folded Max/Min,
# Heaviside with its value at 0, constants, and slots shared between nodes
EXPRESSIONS = [
    a * b * c * u,
    a * u + b * v + c + a * b + a * v,
    (a + u) ** 3 / (b + 2) ** 2 + 1 / (c + v),
    sp.sqrt(a**2 + u**2) + (b**2 + 1) ** sp.Rational(-3, 2) + (c**2 + v**2) ** sp.Rational(1, 3),
    (a**2 + 1) ** (b + u) + sp.exp(c * v) + sp.E ** (a * u),
    sp.log(a**2 + u**2) + sp.sin(b * v) * sp.cos(c) + sp.tan(a / 4),
    sp.asin(a / 3) + sp.acos(b / 3) + sp.atan(c * u),
    sp.sinh(a) + sp.cosh(b * v) + sp.tanh(c + u),
    sp.asinh(a * u) + sp.acosh(b**2 + 2) + sp.atanh(c / 2),
    sp.Abs(a - u) + sp.sign(b) * c + sp.Heaviside(c - v, sp.Rational(1, 3)) * a,
    sp.Max(a * u, b, c * v) - sp.Min(a, b * u, v) + sp.Max(0, a + b),
    sp.pi * a * u - sp.E * b + 3 * c**4 - 2,
]
THETA = np.array([0.7, -1.3, 0.45])
COLUMNS = [np.array([0.3, 1.9, -0.6, 2.4]), np.array([1.1, -0.8, 0.25, 0.9])]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e)[:40] for e in EXPRESSIONS])
def test_every_sample_against_the_oracle(expr):
    expr = canonicalize(expr)
    values, grads = TapeProgram(expr, PARAMS, DATA).run(THETA, COLUMNS)
    assert values.shape == (4,) and grads.shape == (3, 4)
    for s in range(4):
        point = dict(zip(PARAMS + DATA, [*THETA, COLUMNS[0][s], COLUMNS[1][s]]))
        exact = oracle.derivatives(expr, PARAMS, point, order=1)
        assert oracle.rel_error(values[s], exact["value"], exact["value_M"]) <= oracle.TOLERANCE
        for i in range(3):
            err = oracle.rel_error(grads[i, s], exact["grad"][i], exact["grad_M"][i])
            assert err <= oracle.TOLERANCE, (s, PARAMS[i], grads[i, s], oracle.mp_float(exact["grad"][i]))


def test_a_network_agrees_with_the_tape():
    """Shared inputs read by many nodes (non-unique slots) and ReLU ties at zero inputs."""
    xs = sp.symbols("x0:6")
    weights = sp.symbols("w0:24")
    hidden = [sp.Max(0, sum(weights[4 * j + i] * xs[i] for i in range(4)) + weights[20 + j]) for j in range(4)]
    expr = (sum(h * w for h, w in zip(hidden, weights[16:20])) - xs[5]) ** 2 + sp.exp(-hidden[0]) * xs[4]
    rng = np.random.default_rng(3)
    theta = rng.normal(size=24)
    theta[20] = 0.0  # a unit whose input is exactly 0 on the sample with zero inputs: a tie
    columns = [rng.normal(size=7) for _ in xs]
    for col in columns[:4]:
        col[0] = 0.0
    values, grads = TapeProgram(expr, weights, xs).run(theta, columns)
    value, grad = value_and_grad(expr, weights, theta, dict(zip(xs, columns)))
    np.testing.assert_allclose(values.mean(), value, rtol=1e-14)
    np.testing.assert_allclose(grads.mean(axis=1), grad, rtol=1e-13, atol=1e-15)


def test_no_data_is_one_sample_and_a_constant_has_no_gradient():
    values, grads = TapeProgram(a**2 * b, [a, b]).run(np.array([3.0, 2.0]))
    assert values.tolist() == [18.0] and grads.tolist() == [[12.0], [9.0]]
    values, grads = TapeProgram(u**2 + 1, [a], [u]).run(np.array([5.0]), [np.array([1.0, 2.0])])
    assert values.tolist() == [2.0, 5.0] and grads.tolist() == [[0.0, 0.0]]


def test_piecewise_and_unknown_symbols_are_named():
    with pytest.raises(UnsupportedFunctionError, match="Piecewise"):
        TapeProgram(sp.Piecewise((a, u > 0), (b, True)), [a, b], [u])
    with pytest.raises(UnsupportedFunctionError, match="symbol c is neither"):
        TapeProgram(a * c, [a])
