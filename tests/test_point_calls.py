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


def test_kernel_converts_other_real_numbers_as_float_does_and_compiles_no_other_signature(kernels):
    _, listed, _ = kernels
    from fractions import Fraction

    values = [1, 0, True, 2**53 + 1, -(2**63), 2**64 - 1, 2**70, np.int8(-3), np.uint64(2**63 + 5),
              np.float32(0.1), np.float16(1.5), np.bool_(True), Fraction(1, 3), sp.Float("0.25"), sp.Integer(7)]
    for v in values:
        w = float(v)
        got = listed(v, 0.5)
        # x² sin(y), 2x sin(y), x² cos(y) at x = float(v), in float64 as the kernel computes them
        assert got.tolist() == [w * w * math.sin(0.5), 2.0 * math.sin(0.5) * w, w * w * math.cos(0.5)]
        assert listed(0.5, v).tolist() == listed(0.5, w).tolist()
    assert len(listed._module.fill.signatures) == 1  # one float64 compile, whatever came


def test_kernel_results_are_fresh_arrays_of_the_same_bits_as_the_tuple(kernels):
    scalar, listed, matrix = kernels
    first, second = listed(1.3, 0.7), listed(1.3, 0.7)
    assert first is not second and not np.shares_memory(first, second)
    assert first.dtype == np.float64 and first.flags.c_contiguous and first.flags.writeable
    assert first.tolist() == list(listed.scalar(1.3, 0.7))
    assert scalar(1.3, 0.7) == scalar.scalar(1.3, 0.7) and type(scalar(np.float64(1.3), 0.7)) is float
    out = matrix(2.5, -1.5)
    assert out.shape == (2, 2) and out.tolist() == [[2.5, -1.5], [2.5 * -1.5, 1.0]]


def test_kernel_inputs_the_fast_path_refuses_take_the_checking_path(kernels):
    scalar, listed, _ = kernels
    exact = 1.5**2 * math.sin(0.5)
    for value in [np.array(1.5), [1.5], np.array([1.5]), np.array([1.5], dtype=np.float32)]:
        got = scalar(value, 0.5)
        assert np.shape(got) == np.shape(value) and np.ravel(got)[0] == pytest.approx(exact, rel=1e-15)
    grid = listed(np.array([1.0, 2.0]), np.array([[0.0], [0.5]]))
    assert grid.shape == (2, 2, 3)
    assert grid[1, 1].tolist() == [4.0 * math.sin(0.5), 4.0 * math.sin(0.5), 4.0 * math.cos(0.5)]
    with pytest.raises(TypeError, match="got 0"):
        listed()
    with pytest.raises(InputError, match=r"value for y is not numeric \(dict\)"):
        listed(1.0, {})


def test_objective_at_a_point_returns_a_float_and_a_fresh_gradient(rosenbrock):
    theta = np.linspace(-1.0, 1.0, 10)
    value, grad = rosenbrock.value_and_grad(theta)
    again = rosenbrock.value_and_grad(theta)[1]
    assert type(value) is float and type(grad) is np.ndarray and grad.shape == (10,)
    assert not np.shares_memory(grad, again)
    both = rosenbrock._vg.at_point(theta)  # the value and gradient in one array, the other generated function
    assert value == both[0] and grad.tolist() == both[1:].tolist()
    batch_value, batch_grad = rosenbrock.batch_value_and_grad(theta)
    assert batch_value == value and batch_grad.tolist() == grad.tolist()
    want_value, want_grad = rosenbrock_exact(theta)
    assert value == pytest.approx(want_value, rel=1e-14)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-13, atol=1e-13)
    readonly = theta.copy()
    readonly.flags.writeable = False
    assert rosenbrock.value_and_grad(readonly)[1].tolist() == grad.tolist()


def test_objective_whose_value_is_a_constant_gives_a_float():
    obj = sg.Objective(0 * x + 2, [x])
    value, grad = obj.value_and_grad(np.array([3.0]))
    assert type(value) is float and value == 2.0 and grad.tolist() == [0.0]
