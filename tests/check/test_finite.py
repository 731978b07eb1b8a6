"""Finite differences against derivatives worked out by hand, at the stated accuracies."""

import numpy as np
import pytest

from symgrad.check import (
    central_gradient,
    central_hessian,
    complex_step_gradient,
    complex_step_hessian,
    one_sided_gradients,
)
from symgrad.check._finite import steps


def f(v):
    return np.exp(v[0]) * np.sin(v[1]) + v[0] ** 3 * v[1]


def grad_f(v):
    return np.array([np.exp(v[0]) * np.sin(v[1]) + 3 * v[0] ** 2 * v[1],
                     np.exp(v[0]) * np.cos(v[1]) + v[0] ** 3])


def hess_f(v):
    a, b = np.exp(v[0]) * np.sin(v[1]), np.exp(v[0]) * np.cos(v[1])
    return np.array([[a + 6 * v[0] * v[1], b + 3 * v[0] ** 2],
                     [b + 3 * v[0] ** 2, -a]])


POINTS = [np.array([0.3, 0.7]), np.array([-1.2, 2.5]), np.array([1.5, -0.4]), np.array([0.0, 0.0])]


@pytest.mark.parametrize("x", POINTS, ids=str)
def test_central_gradient_accuracy(x):
    np.testing.assert_allclose(central_gradient(f, x), grad_f(x), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("x", POINTS, ids=str)
def test_complex_step_gradient_is_exact_to_rounding(x):
    np.testing.assert_allclose(complex_step_gradient(f, x), grad_f(x), rtol=4e-16, atol=1e-15)


@pytest.mark.parametrize("x", POINTS, ids=str)
def test_hessians(x):
    np.testing.assert_allclose(central_hessian(f, x), hess_f(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(complex_step_hessian(f, x), hess_f(x), rtol=1e-9, atol=1e-9)
    H = central_hessian(f, x)
    np.testing.assert_array_equal(H, H.T)


def test_steps_scale_with_the_variable():
    h = steps(np.array([0.0, 1e4, -1e4]))
    assert h[0] == pytest.approx(np.finfo(float).eps ** (1 / 3), rel=1e-12)
    assert h[1] == pytest.approx(1e4 * h[0], rel=1e-10)
    assert h[2] == pytest.approx(1e4 * h[0], rel=1e-10)


def test_large_variables_keep_their_accuracy():
    x = np.array([1e5, 2.0])
    g = central_gradient(lambda v: np.sqrt(v[0]) * v[1], x)
    np.testing.assert_allclose(g, [2.0 / (2 * np.sqrt(1e5)), np.sqrt(1e5)], rtol=1e-9)


def test_one_sided_differences_at_a_kink():
    left, right = one_sided_gradients(lambda v: abs(v[0]) + max(v[1], 0.0), [0.0, 0.0])
    np.testing.assert_allclose(left, [-1.0, 0.0])
    np.testing.assert_allclose(right, [1.0, 1.0])
