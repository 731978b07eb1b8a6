"""Tensor: every operation's gradient against central differences, broadcasting, matmul,
accumulation, and the errors a caller can meet."""

import numpy as np
import pytest

from symgrad.autograd import Tensor, unbroadcast, where
from symgrad.errors import InputError, UnsupportedFunctionError


def numeric_grad(f, x, h=1e-6):
    """Central differences of a scalar NumPy function of an array, entry by entry."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


RNG = np.random.default_rng(0)
POSITIVE = RNG.uniform(0.2, 0.9, size=(3, 4))  # inside every function's domain
ANY = RNG.uniform(-2.0, 2.0, size=(3, 4))
ABOVE_ONE = RNG.uniform(1.2, 3.0, size=(3, 4))

# (name, tensor method, NumPy reference, input)
UNARY = [
    ("neg", lambda t: -t, np.negative, ANY),
    ("exp", Tensor.exp, np.exp, ANY),
    ("log", Tensor.log, np.log, POSITIVE),
    ("sin", Tensor.sin, np.sin, ANY),
    ("cos", Tensor.cos, np.cos, ANY),
    ("tan", Tensor.tan, np.tan, POSITIVE),
    ("asin", Tensor.asin, np.arcsin, POSITIVE),
    ("acos", Tensor.acos, np.arccos, POSITIVE),
    ("atan", Tensor.atan, np.arctan, ANY),
    ("sinh", Tensor.sinh, np.sinh, ANY),
    ("cosh", Tensor.cosh, np.cosh, ANY),
    ("tanh", Tensor.tanh, np.tanh, ANY),
    ("asinh", Tensor.asinh, np.arcsinh, ANY),
    ("acosh", Tensor.acosh, np.arccosh, ABOVE_ONE),
    ("atanh", Tensor.atanh, np.arctanh, POSITIVE),
    ("sqrt", Tensor.sqrt, np.sqrt, POSITIVE),
    ("abs", Tensor.abs, np.abs, ANY),
    ("relu", Tensor.relu, lambda a: np.maximum(a, 0), ANY),
    ("sigmoid", Tensor.sigmoid, lambda a: 1 / (1 + np.exp(-a)), ANY),
    ("sum", Tensor.sum, np.sum, ANY),
    ("mean", Tensor.mean, np.mean, ANY),
    ("sum axis 0", lambda t: t.sum(axis=0), lambda a: a.sum(axis=0), ANY),
    ("mean axis 1", lambda t: t.mean(axis=1), lambda a: a.mean(axis=1), ANY),
    ("reshape", lambda t: t.reshape(2, 6), lambda a: a.reshape(2, 6), ANY),
    ("transpose", lambda t: t.T, lambda a: a.T, ANY),
    ("square by **", lambda t: t**2, lambda a: a**2, ANY),
    ("power 1.5", lambda t: t**1.5, lambda a: a**1.5, POSITIVE),
    ("reciprocal", lambda t: 1.0 / t, lambda a: 1.0 / a, POSITIVE),
    ("scalar minus", lambda t: 3.0 - t, lambda a: 3.0 - a, ANY),
    ("exponent", lambda t: 2.0**t, lambda a: 2.0**a, ANY),
]


@pytest.mark.parametrize("name, method, reference, x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradient_matches_central_differences(name, method, reference, x):
    w = np.linspace(-1, 1, np.size(reference(x))).reshape(np.shape(reference(x)))
    t = Tensor(x, requires_grad=True)
    out = method(t)
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-14)
    (out * w).sum().backward()
    expected = numeric_grad(lambda a: np.sum(reference(a) * w), x)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-6, atol=1e-8)


BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a**b),
    ("maximum", lambda a, b: a.maximum(b) if isinstance(a, Tensor) else np.maximum(a, b)),
    ("minimum", lambda a, b: a.minimum(b) if isinstance(a, Tensor) else np.minimum(a, b)),
]

SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((3, 4), ()), ((), (2, 3))]


@pytest.mark.parametrize("name, op", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shape_a, shape_b", SHAPES)
def test_binary_gradient_with_broadcasting(name, op, shape_a, shape_b):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, size=shape_a)
    b = rng.uniform(0.5, 2.0, size=shape_b)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = op(ta, tb)
    np.testing.assert_allclose(out.data, op(a, b), rtol=1e-14)
    w = rng.normal(size=out.shape)
    (out * w).sum().backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    np.testing.assert_allclose(ta.grad, numeric_grad(lambda v: np.sum(op(v, b) * w), a), rtol=1e-6)
    np.testing.assert_allclose(tb.grad, numeric_grad(lambda v: np.sum(op(a, v) * w), b), rtol=1e-6)


def test_numbers_and_arrays_on_either_side():
    x = Tensor(2.0, requires_grad=True)
    y = 1.0 + x * 3.0 - 4.0 / x + np.float64(2.0) ** x + np.array(5.0) * x
    y.backward()
    assert x.grad == pytest.approx(3.0 + 4.0 / 4.0 + 4.0 * np.log(2.0) + 5.0, rel=1e-14)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,))])
def test_matmul_gradient_for_1d_and_2d_operands(shape_a, shape_b):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=shape_a), rng.normal(size=shape_b)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ta @ tb
    assert out.shape == (a @ b).shape
    w = rng.normal(size=out.shape)
    (out * w).sum().backward()
    np.testing.assert_allclose(ta.grad, numeric_grad(lambda v: np.sum((v @ b) * w), a), rtol=1e-7)
    np.testing.assert_allclose(tb.grad, numeric_grad(lambda v: np.sum((a @ v) * w), b), rtol=1e-7)


def test_matmul_refuses_mismatched_or_3d_shapes():
    with pytest.raises(InputError, match=r"\(3, 4\) and \(3,\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones(3))
    with pytest.raises(InputError, match="1-D or 2-D"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((4, 2)))


def test_gradients_accumulate_over_backward_calls_and_reset():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, -8.0])
    x.zero_grad()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor(3.0, requires_grad=True)
    y = x * x + x  # x appears three times: d/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_backward_with_a_seed_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 12.0])


def test_backward_needs_a_scalar_or_a_seed_of_the_right_shape():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(InputError, match=r"shape \(2,\).*\.sum\(\)"):
        (x * 2).backward()
    with pytest.raises(InputError, match=r"gradient of shape \(2,\), got \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_no_gradient_flows_into_constants():
    c = Tensor([1.0, 2.0])
    x = Tensor(2.0, requires_grad=True)
    (c * x).sum().backward()
    assert c.grad is None and x.grad == 3.0


def test_where_sends_gradient_to_the_selected_side_only():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    where(np.array([True, False, True]), a * 2, b * 3).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(b.grad, [0.0, 3.0, 0.0])


def test_unbroadcast_sums_leading_and_unit_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(unbroadcast(g, ()), g.sum())


def test_non_numeric_data_is_refused():
    with pytest.raises(InputError, match="numbers"):
        Tensor("abc")


def test_a_primitive_without_a_rule_is_named(monkeypatch):
    from symgrad.autograd import _rules, _tensor

    monkeypatch.setitem(_rules.FORWARD, "cube", lambda a: a**3)
    x = Tensor(2.0, requires_grad=True)
    y = _tensor.apply("cube", x)
    with pytest.raises(UnsupportedFunctionError, match="'cube'"):
        y.backward()
    with pytest.raises(UnsupportedFunctionError, match="'nothing'"):
        _tensor.apply("nothing", x)


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
