"""Calls at a point: the fast paths of Kernel(...) and Objective.value_and_grad give the same results and errors."""

import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import InputError

x, y, a, b = sp.symbols("x y a b")


@pytest.fixture(scope="module")
def kernels():
    f = x**2 * sp.sin(y)
    return (sg.compile(f, [x, y]), sg.compile([f, *sg.gradient(f, [x, y])], [x, y]),
            sg.compile(sp.Matrix([[x, y], [x * y, 1]]), [x, y]))


def test_kernel_floats_give_the_closed_form_whatever_the_float_type(kernels):
    scalar, listed, matrix = kernels
    exact = [1.5**2 * math.sin(0.5), 2 * 1.5 * math.sin(0.5), 1.5**2 * math.cos(0.5)]
    for args in [(1.5, 0.5), (np.float64(1.5), 0.5), (3 / 2, np.float32(0.5)), (True + 0.5, 1 // 2 + 0.5)]:
        value = scalar(*args)
        assert type(value) is float and value == pytest.approx(exact[0], rel=1e-15)
        out = listed(*args)
        assert type(out) is np.ndarray and out.shape == (3,)
        np.testing.assert_allclose(out, exact, rtol=1e-15)
    assert matrix(2.0, 3.0).tolist() == [[2.0, 3.0], [6.0, 1.0]]
    assert listed(1, 0).tolist() == [0.0, 0.0, 1.0]  # integers are converted, not compiled again


def test_kernel_errors_are_unchanged(kernels):
    scalar, listed, _ = kernels
    with pytest.raises(TypeError, match=r"takes 2 value\(s\), one per symbol of args \(x, y\); got 1"):
        listed(1.0)
    with pytest.raises(TypeError, match="got 3"):
        scalar(1.0, 2.0, 3.0)
    with pytest.raises(InputError, match=r"value for x is not numeric \(str\)"):
        scalar("one", 2.0)
    with pytest.raises(InputError, match=r"value for y is not numeric \(complex\)"):
        scalar(1.0, 1j)
    with pytest.raises(InputError, match="do not broadcast together"):
        listed(np.zeros(2), np.zeros(3))


@pytest.fixture(scope="module")
def rosenbrock():
    xs = sp.symbols("x0:10")
    expr = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(9))
    return sg.Objective(expr, xs)


def rosenbrock_exact(t):
    value = sum(100 * (t[i + 1] - t[i] ** 2) ** 2 + (1 - t[i]) ** 2 for i in range(9))
    grad = np.zeros(10)
    for i in range(9):
        grad[i] += -400 * t[i] * (t[i + 1] - t[i] ** 2) - 2 * (1 - t[i])
        grad[i + 1] += 200 * (t[i + 1] - t[i] ** 2)
    return value, grad


def test_objective_at_a_point_whatever_the_form_of_theta(rosenbrock):
    theta = np.linspace(-1.0, 1.0, 10)
    for form in [theta, list(theta), theta.astype(np.float32), np.repeat(theta, 2)[::2]]:
        value, grad = rosenbrock_exact(np.asarray(form, dtype=np.float64))
        got_value, got_grad = rosenbrock.value_and_grad(form)
        assert got_value == pytest.approx(value, rel=1e-14)
        np.testing.assert_allclose(got_grad, grad, rtol=1e-13, atol=1e-13)
        assert rosenbrock.value(form) == pytest.approx(value, rel=1e-14)
        np.testing.assert_allclose(rosenbrock.grad(form), grad, rtol=1e-13, atol=1e-13)
    assert np.array_equal(theta, np.linspace(-1.0, 1.0, 10))  # never modified


def test_objective_errors_are_unchanged(rosenbrock):
    names = ", ".join(f"x{i}" for i in range(10))
    with pytest.raises(InputError, match=rf"theta must have shape \(10,\), one entry per parameter \({names}\); got shape \(9,\)"):
        rosenbrock.value_and_grad(np.zeros(9))
    with pytest.raises(InputError, match=r"got shape \(10, 1\)"):
        rosenbrock.value_and_grad(np.zeros((10, 1)))
    with pytest.raises(InputError, match="not text"):
        rosenbrock.value("0123456789")
    with pytest.raises(InputError, match="this objective has no data symbols, but 1 column"):
        rosenbrock.value_and_grad(np.zeros(10), np.zeros(3))
    obj = sg.Objective((a * x - y) ** 2, [a], [x, y])
    with pytest.raises(InputError, match=r"expected 2 data column\(s\), one per data symbol \(x, y\); got 0"):
        obj.value_and_grad([1.0])


def test_one_output_in_a_list_or_matrix_keeps_its_axis():
    # api.md: a list of n expressions or an (n, 1) Matrix gives shape (n,), n = 1 included
    x = sp.Symbol("x")
    for expr in ([x**2], sp.Matrix([x**2])):
        out = sg.compile(expr, [x])(3.0)
        assert type(out) is np.ndarray and out.shape == (1,) and out.tolist() == [9.0]
    assert sg.compile(sp.Matrix([[x, 2 * x]]), [x])(1.5).tolist() == [[1.5, 3.0]]
