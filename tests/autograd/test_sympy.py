"""ag.grad / ag.value_and_grad on SymPy expressions: values, kink conventions, data, errors."""

import numpy as np
import pytest
import sympy as sp

from symgrad import autograd as ag
from symgrad.errors import ExpressionTypeError, MissingSymbolError, UnsupportedFunctionError

x, y, z, w, b = sp.symbols("x y z w b")


# expression, point, gradient worked out by hand
TEXTBOOK = [
    (x**2 * y, [3.0, 2.0], [12.0, 9.0]),
    (sp.exp(x) * sp.sin(y), [0.0, 0.0], [0.0, 1.0]),
    (sp.log(x) + sp.sqrt(y), [2.0, 4.0], [0.5, 0.25]),
    (x**y, [2.0, 3.0], [12.0, 8.0 * np.log(2.0)]),
    (sp.atan(x) + sp.asinh(y), [1.0, 0.0], [0.5, 1.0]),
    (sp.tanh(x) * sp.cosh(y), [0.0, 0.0], [1.0, 0.0]),
    (sp.acosh(x) + sp.atanh(y), [2.0, 0.5], [1 / np.sqrt(3.0), 1 / 0.75]),
    (sp.pi * x + sp.E * y, [1.0, 1.0], [np.pi, np.e]),
    (1 / x + x ** sp.Rational(1, 3), [8.0, 0.0], [-1 / 64 + 1 / 12, 0.0]),
    (sp.tan(x) + sp.asin(y) - sp.acos(y), [0.0, 0.0], [1.0, 2.0]),
]


@pytest.mark.parametrize("expr, at, expected", TEXTBOOK, ids=[str(t[0]) for t in TEXTBOOK])
def test_textbook_gradients(expr, at, expected):
    np.testing.assert_allclose(ag.grad(expr, [x, y], at), expected, rtol=1e-14, atol=1e-15)


def test_value_and_grad_returns_the_value_too():
    value, g = ag.value_and_grad(x**2 + 3 * y, [x, y], {x: 2.0, y: 1.0})
    assert value == 7.0 and isinstance(value, float)
    np.testing.assert_array_equal(g, [4.0, 3.0])


RELU_FORMS = {
    "Max(0, z)": sp.Max(0, z),
    "Max(z, 0)": sp.Max(z, 0),
    "Piecewise": sp.Piecewise((z, z > 0), (0, True)),
    "z*Heaviside(z)": z * sp.Heaviside(z),
}


@pytest.mark.parametrize("form", RELU_FORMS)
@pytest.mark.parametrize("at, slope", [(0.0, 0.0), (1.5, 1.0), (-1.5, 0.0)])
def test_relu_in_every_form_has_the_same_derivative(form, at, slope):
    assert ag.grad(RELU_FORMS[form], [z], [at])[0] == slope


def test_abs_sign_heaviside_at_zero():
    assert ag.grad(sp.Abs(z), [z], [0.0])[0] == 0.0
    assert ag.grad(sp.Abs(z), [z], [-2.0])[0] == -1.0
    assert ag.grad(sp.sign(z) * 5 + sp.Heaviside(z), [z], [0.0])[0] == 0.0
    # Heaviside(0) = 0 by default, an explicit second argument is the value at 0
    assert ag.value_and_grad(sp.Heaviside(z) + z, [z], [0.0])[0] == 0.0
    assert ag.value_and_grad(sp.Heaviside(z, 1) + z, [z], [0.0])[0] == 1.0


def test_max_and_min_split_the_gradient_of_tied_branches():
    # at a tie each side has half (the mean of the slopes), against a number none
    np.testing.assert_array_equal(ag.grad(sp.Max(x, y), [x, y], [1.0, 1.0]), [0.5, 0.5])
    np.testing.assert_array_equal(ag.grad(sp.Max(x, 0), [x], [0.0]), [0.0])
    np.testing.assert_array_equal(ag.grad(sp.Min(x, 1), [x], [1.0]), [0.0])
    # k tied arguments share equally; a tied number takes it all
    np.testing.assert_allclose(ag.grad(sp.Max(x, y, 2 * x - y), [x, y], [1.0, 1.0]), [1.0, 0.0], atol=1e-16)
    np.testing.assert_array_equal(ag.grad(sp.Max(x, y, 0), [x, y], [0.0, 0.0]), [0.0, 0.0])
    np.testing.assert_array_equal(ag.grad(sp.Max(x, y, 0), [x, y], [1.0, 1.0]), [0.5, 0.5])
    # arguments equal on a whole interval: Max(x, |x|) = |x|, slope 1 for x > 0
    np.testing.assert_array_equal(ag.grad(sp.Max(x, sp.Abs(x)), [x], [0.7]), [1.0])
    np.testing.assert_array_equal(ag.grad(sp.Min(x, 2 * y), [x, y], [1.0, 3.0]), [1.0, 0.0])
    np.testing.assert_array_equal(ag.grad(sp.Max(x, y, 0), [x, y], [2.0, 1.0]), [1.0, 0.0])


def test_piecewise_differentiates_the_selected_branch():
    f = sp.Piecewise((x**2, x < 1), (sp.log(x), x < 3), (3 * x, True))
    assert ag.grad(f, [x], [0.5])[0] == 1.0
    assert ag.grad(f, [x], [2.0])[0] == 0.5
    assert ag.grad(f, [x], [5.0])[0] == 3.0
    # a branch outside its domain elsewhere (sqrt of a negative) does not spoil the result
    g = sp.Piecewise((sp.sqrt(x), x > 0), (-x, True))
    assert ag.grad(g, [x], [-2.0])[0] == -1.0


def test_at_dict_can_fix_other_symbols():
    g = ag.grad(w * x + b, [w, b], {w: 2.0, b: 1.0, x: 5.0})
    np.testing.assert_array_equal(g, [5.0, 1.0])


def test_linear_regression_mean_gradient_over_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=200)
    Y = 3 * X + 1 + rng.normal(size=200)
    theta = np.array([0.5, -0.2])
    value, g = ag.value_and_grad((w * x + b - y) ** 2, [w, b], theta, data={x: X, y: Y})
    r = theta[0] * X + theta[1] - Y
    assert value == pytest.approx(np.mean(r**2), rel=1e-13)
    np.testing.assert_allclose(g, [np.mean(2 * r * X), np.mean(2 * r)], rtol=1e-12)


def test_logistic_regression_gradient_is_mean_of_residual_times_features():
    rng = np.random.default_rng(1)
    X = rng.normal(size=500)
    T = (rng.uniform(size=500) < 0.5).astype(float)
    t = sp.Symbol("t")
    p = 1 / (1 + sp.exp(-(w * x + b)))
    loss = -(t * sp.log(p) + (1 - t) * sp.log(1 - p))
    theta = np.array([0.3, -0.1])
    g = ag.grad(loss, [w, b], theta, data={x: X, t: T})
    q = 1 / (1 + np.exp(-(theta[0] * X + theta[1])))
    np.testing.assert_allclose(g, [np.mean((q - T) * X), np.mean(q - T)], rtol=1e-11)


def test_small_mlp_gradient_matches_central_differences_of_numpy_forward():
    rng = np.random.default_rng(2)
    X1, X2 = rng.normal(size=50), rng.normal(size=50)
    Y = np.sin(X1) + X2
    p = sp.symbols("p0:9")
    x1, x2 = sp.symbols("x1 x2")
    h1 = sp.tanh(p[0] * x1 + p[1] * x2 + p[2])
    h2 = sp.tanh(p[3] * x1 + p[4] * x2 + p[5])
    loss = (p[6] * h1 + p[7] * h2 + p[8] - y) ** 2

    def numpy_loss(q):
        a = np.tanh(q[0] * X1 + q[1] * X2 + q[2])
        c = np.tanh(q[3] * X1 + q[4] * X2 + q[5])
        return np.mean((q[6] * a + q[7] * c + q[8] - Y) ** 2)

    theta = rng.normal(size=9)
    g = ag.grad(loss, p, theta, data={x1: X1, x2: X2, y: Y})
    h = 1e-6
    fd = [(numpy_loss(theta + h * e) - numpy_loss(theta - h * e)) / (2 * h) for e in np.eye(9)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_text_is_refused_with_a_pointer_to_parse():
    with pytest.raises(ExpressionTypeError, match=r"symgrad\.parse"):
        ag.grad("x**2", [x], [1.0])


def test_unsupported_function_is_named():
    with pytest.raises(UnsupportedFunctionError, match="zeta"):
        ag.grad(sp.zeta(x), [x], [1.0])


def test_unbound_symbols_are_named():
    with pytest.raises(MissingSymbolError, match="b, y"):
        ag.grad(x * y + b, [x], [1.0])
    with pytest.raises(MissingSymbolError, match="at has no value for y"):
        ag.grad(x * y, [x, y], {x: 1.0})


def test_wrong_number_of_values_is_an_error():
    with pytest.raises(ValueError, match="2 symbols"):
        ag.grad(x * y, [x, y], [1.0])


def test_data_columns_are_checked():
    with pytest.raises(ValueError, match="differ in length"):
        ag.grad(w * x + y, [w], [1.0], data={x: np.ones(3), y: np.ones(4)})
    with pytest.raises(ValueError, match="1-D"):
        ag.grad(w * x, [w], [1.0], data={x: np.ones((2, 2))})


def test_expression_free_of_wrt_has_zero_gradient():
    np.testing.assert_array_equal(ag.grad(y**2, [x], {x: 1.0, y: 2.0}), [0.0])


def test_text_keys_in_at_are_refused():
    with pytest.raises(ExpressionTypeError, match=r"key 'x'.*sympy\.Symbol\('x'\)"):
        ag.grad(x**2, [x], {"x": 1.0})
