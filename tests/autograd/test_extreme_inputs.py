"""Values and gradients of the tape at extreme inputs, against oracles outside symgrad:
mpmath at 50 digits (the exact value rounded to float64), the power rule, and torch's conventions at 0.

Covers the stable sigmoid (no cancellation on either tail, no overflow), powers at 0
and of negative bases (``d(x**0)/dx = 0`` also at 0), ``exp``/``log``/``sqrt``/``tanh``
near the ends of float64, and a Piecewise evaluated outside all of its conditions (NaN,
value and gradient, as SymPy and the symbolic derivative give).
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from symgrad import autograd as ag

mpmath.mp.dps = 50
RTOL = 1e-15  # a correctly rounded float64 result is within half a unit in the last place
TINY = 1e-300  # below this (subnormals) only the absolute error is meaningful


def _tape(method, xs):
    """Value and gradient of ``method`` entry by entry on the tape."""
    a = ag.Tensor(xs, requires_grad=True)
    out = method(a)
    out.sum().backward()
    return out.data, a.grad


def _mp(function, xs):
    """``function`` of each float exactly, rounded once to float64."""
    return np.array([float(function(mpmath.mpf(x))) for x in xs])


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _sigmoid_slope(x):
    return _sigmoid(x) * _sigmoid(-x)


# -- sigmoid ----------------------------------------------------------------------------
SIGMOID_POINTS = [-800.0, -745.0, -700.0, -40.0, -30.0, -1.0, -1e-20, 0.0, 1e-20, 1.0,
                  30.0, 40.0, 700.0, 745.0, 800.0]


def test_sigmoid_of_negative_inputs_keeps_its_digits():
    # the reported case: (tanh(a/2) + 1)/2 gave 9.3591801e-14 and 0; 1/(1 + e^30) and
    # 1/(1 + e^40) by mpmath at 50 digits
    value, grad = _tape(ag.Tensor.sigmoid, [-30.0, -40.0])
    np.testing.assert_allclose(value, [9.357622968839299e-14, 4.248354255291589e-18], rtol=RTOL)
    np.testing.assert_allclose(grad, _mp(_sigmoid_slope, [-30.0, -40.0]), rtol=RTOL)


def test_sigmoid_matches_mpmath_on_both_tails_without_warnings():
    # the conftest turns overflow and invalid operations into errors
    value, grad = _tape(ag.Tensor.sigmoid, SIGMOID_POINTS)
    np.testing.assert_allclose(value, _mp(_sigmoid, SIGMOID_POINTS), rtol=RTOL, atol=TINY)
    # σ' = σ(a)·σ(-a) is accurate for large positive a too, where σ·(1 - σ) rounds to 0
    np.testing.assert_allclose(grad, _mp(_sigmoid_slope, SIGMOID_POINTS), rtol=RTOL, atol=TINY)
    assert grad[SIGMOID_POINTS.index(800.0)] == 0.0  # underflows to 0, no NaN


def test_sigmoid_at_the_infinities():
    value, grad = _tape(ag.Tensor.sigmoid, [-np.inf, np.inf])
    assert value.tolist() == [0.0, 1.0] and grad.tolist() == [0.0, 0.0]


def test_sigmoid_of_nan_is_nan():
    value, grad = _tape(ag.Tensor.sigmoid, [np.nan])
    assert np.isnan(value[0]) and np.isnan(grad[0])


def test_sigmoid_written_in_sympy_agrees_on_the_tails():
    z = sp.Symbol("z")
    expr = 1 / (1 + sp.exp(-z))  # as symgrad.nn.sigmoid and parse("sigmoid(z)") build it
    for at in (-40.0, -30.0, 30.0, 40.0):
        value, grad = ag.value_and_grad(expr, [z], [at])
        np.testing.assert_allclose(value, float(_sigmoid(mpmath.mpf(at))), rtol=1e-14)
        np.testing.assert_allclose(grad, [float(_sigmoid_slope(mpmath.mpf(at)))], rtol=1e-14)


# -- powers -----------------------------------------------------------------------------
BASES = [0.0, -2.0, 2.0, -0.5, 3.0]


def _power_rule(base, exponent):
    """``base**exponent`` and its slope ``exponent * base**(exponent - 1)`` (0 for the exponent 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.power(np.array(base), exponent)
        slope = exponent * np.power(np.array(base), exponent - 1) if exponent != 0 else np.zeros(len(base))
    return value, slope


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 0.0, 1.0, 2.0, 3.0])
def test_power_by_a_nonnegative_integer_follows_the_power_rule(exponent):
    # warning-free: 0**0 = 1 and negative bases with integer exponents are defined
    value, grad = _tape(lambda a: a ** exponent, BASES)
    expected_value, expected_slope = _power_rule(BASES, exponent)
    np.testing.assert_array_equal(value, expected_value)
    np.testing.assert_array_equal(grad, expected_slope)


def test_power_zero_at_zero_is_flat():
    q = ag.Tensor([0.0], requires_grad=True)
    (q ** 0).sum().backward()
    assert q.grad.tolist() == [0.0]  # d/dx x^0 = 0, also at 0 (torch: 0)


def test_power_of_a_negative_base():
    p = ag.Tensor([-2.0], requires_grad=True)
    (p ** 3).sum().backward()
    assert p.grad.tolist() == [12.0]  # 3·(-2)²


@pytest.mark.parametrize("exponent", [-1.0, -2.0, 0.5, 2.5])
def test_power_by_other_exponents_follows_the_power_rule(exponent):
    # 0 to a negative power is infinite, a negative base to a fraction NaN (as in torch)
    with np.errstate(divide="ignore", invalid="ignore"):
        value, grad = _tape(lambda a: a ** exponent, BASES)
    expected_value, expected_slope = _power_rule(BASES, exponent)
    np.testing.assert_allclose(value, expected_value, rtol=RTOL)
    np.testing.assert_allclose(grad, expected_slope, rtol=RTOL)


def test_power_with_a_tensor_exponent_follows_calculus_and_torchs_conventions_at_zero():
    bases = [0.0, 0.0, 0.0, 0.0, 2.0, -2.0, -2.0, 3.0]
    exponents = [0.0, -1.0, 2.0, 0.5, 0.0, 3.0, 0.0, -2.0]
    a, b = ag.Tensor(bases, requires_grad=True), ag.Tensor(exponents, requires_grad=True)
    with np.errstate(divide="ignore"):
        out = a ** b
    out.sum().backward()
    # d/da = b a^(b-1), 0 where b = 0; d/db = a^b log a, 0 at a = 0 for b >= 0 and -inf for
    # b < 0 (torch's values there), NaN for a negative base
    np.testing.assert_allclose(a.grad, [0.0, -np.inf, 0.0, np.inf, 0.0, 12.0, 0.0, -2 / 27], rtol=RTOL)
    np.testing.assert_allclose(b.grad, [0.0, -np.inf, 0.0, 0.0, math.log(2), np.nan, np.nan, math.log(3) / 9],
                               rtol=RTOL)


# -- exp, log, sqrt, tanh near the ends of float64 ----------------------------------------
@pytest.mark.parametrize("name, exact, slope, points", [
    ("exp", mpmath.exp, mpmath.exp, [-745.0, -744.0, -700.0, -1e-20, 0.0, 1e-20, 1.0, 700.0, 709.7]),
    ("log", mpmath.log, lambda x: 1 / x,
     [1e-300, 1e-200, 1.0 - 2.0 ** -52, 1.0, 1.0 + 2.0 ** -52, 1e200, 1e300]),
    ("sqrt", mpmath.sqrt, lambda x: 1 / (2 * mpmath.sqrt(x)), [5e-324, 1e-300, 2.0, 1e300]),
    # tanh near 0 (its tails: the next test)
    ("tanh", mpmath.tanh, lambda x: mpmath.sech(x) ** 2, [-1e-8, -1e-20, 0.0, 1e-20, 1e-300, 1e-8]),
])
def test_elementary_functions_at_extremes_match_mpmath(name, exact, slope, points):
    value, grad = _tape(getattr(ag.Tensor, name), points)
    np.testing.assert_allclose(value, _mp(exact, points), rtol=RTOL, atol=TINY)
    np.testing.assert_allclose(grad, _mp(slope, points), rtol=2e-15, atol=TINY)


def test_elementary_functions_at_their_singular_ends():
    # log 0 = -inf with slope inf; 1/5e-324 overflows; sqrt's slope at 0 is inf; exp(800) overflows
    for name, points, values, slopes in [
        ("log", [0.0, 5e-324], [-np.inf, float(mpmath.log(mpmath.mpf(5e-324)))], [np.inf, np.inf]),
        ("sqrt", [0.0], [0.0], [np.inf]),
        ("exp", [-np.inf, 800.0], [0.0, np.inf], [0.0, np.inf]),
    ]:
        with np.errstate(divide="ignore", over="ignore"):
            value, grad = _tape(getattr(ag.Tensor, name), points)
        np.testing.assert_array_equal(value, values)
        np.testing.assert_array_equal(grad, slopes)


def test_tanh_at_extremes_matches_mpmath():
    points = [-800.0, -20.0, -10.0, -3.0, 3.0, 10.0, 20.0, 800.0]
    value, grad = _tape(ag.Tensor.tanh, points)
    np.testing.assert_allclose(value, _mp(mpmath.tanh, points), rtol=RTOL)
    np.testing.assert_allclose(grad, _mp(lambda x: mpmath.sech(x) ** 2, points), rtol=1e-14, atol=TINY)


def test_tanh_slope_keeps_its_digits_on_the_tails():
    points = [-20.0, -10.0, 10.0, 20.0, 30.0]
    _, grad = _tape(ag.Tensor.tanh, points)
    np.testing.assert_allclose(grad, _mp(lambda x: mpmath.sech(x) ** 2, points), rtol=1e-14)


# -- Piecewise outside all of its conditions ----------------------------------------------
x, y, d = sp.symbols("x y d")


def test_piecewise_outside_its_conditions_is_nan_value_and_gradient():
    expr = sp.Piecewise((x ** 2, x < 1))
    assert expr.subs(x, 1.5) is sp.nan  # SymPy's value there
    value, grad = ag.value_and_grad(expr, [x], [1.5])
    assert np.isnan(value) and np.isnan(grad).all()
    assert np.isnan(ag.grad(expr, [x], [1.5])).all()


@pytest.mark.parametrize("expr", [sp.Piecewise((y, x < 1)), sp.Piecewise((x * y, y < 1))])
def test_piecewise_outside_its_conditions_is_nan_in_every_symbol_it_uses(expr):
    # SymPy's derivative in each symbol is Piecewise((f', c)): NaN where c fails
    for s in (x, y):
        assert sp.diff(expr, s).subs({x: 1.5, y: 1.5}) is sp.nan
    value, grad = ag.value_and_grad(expr, [x, y], [1.5, 1.5])
    assert np.isnan(value) and np.isnan(grad).all()


def test_piecewise_outside_its_conditions_is_flat_in_symbols_it_does_not_use():
    value, grad = ag.value_and_grad(sp.Piecewise((x ** 2, x < 1)), [x, y], [1.5, 0.0])
    assert np.isnan(value) and np.isnan(grad[0]) and grad[1] == 0.0


def _sympy_mean(expr, theta, column):
    """The mean over the samples of ``expr`` and of its SymPy derivative in x."""
    values = [expr.subs({x: theta, d: v}) for v in column]
    slopes = [sp.diff(expr, x).subs({x: theta, d: v}) for v in column]
    return float(sum(values) / len(values)), float(sum(slopes) / len(slopes))


@pytest.mark.parametrize("column", [[0.0, 1.5], [0.0, 0.5, 1.5, 3.0], [3.0, 4.0]])
def test_piecewise_over_samples_is_nan_when_one_sample_is_outside(column):
    expr = sp.Piecewise((x * d, d < 1), (x ** 2, d < 2))
    value, slope = _sympy_mean(expr, 2.0, column)
    got_value, got_grad = ag.value_and_grad(expr, [x], [2.0], data={d: np.array(column)})
    np.testing.assert_allclose(got_value, value, rtol=RTOL)  # equal_nan by default
    np.testing.assert_allclose(got_grad, [slope], rtol=RTOL)
    assert np.isnan(got_value) == (max(column) >= 2) == np.isnan(got_grad[0])
