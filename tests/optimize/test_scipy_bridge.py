"""The SciPy bridge: exact derivatives in, symgrad errors out (never SciPy's bare ones)."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DomainError, InputError
from symgrad.optimize import scipy_minimize

pytest.importorskip("scipy")

X, Y = sp.symbols("x y")
ROSENBROCK = sg.Objective((1 - X) ** 2 + 100 * (Y - X**2) ** 2, [X, Y])


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "trust-exact", "Newton-CG"])
def test_rosenbrock_minimum_with_exact_derivatives(method):
    result = scipy_minimize(ROSENBROCK, [-1.2, 1.0], method=method, tol=1e-12)
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-6)  # the closed-form minimiser
    assert result.history[0] == pytest.approx(24.2, rel=1e-15) and len(result.history) == result.steps + 1


def test_a_non_finite_loss_at_x0_names_the_point():
    obj = sg.Objective(sp.log(X) + Y**2, [X, Y])
    with pytest.raises(DomainError, match=r"the loss is nan at x0 = \{x: -1, y: 1\}.*Start from a point"):
        scipy_minimize(obj, [-1.0, 1.0])


def test_a_non_finite_gradient_at_x0_names_the_parameter():
    obj = sg.Objective(sp.sqrt(X) + Y**2, [X, Y])
    with pytest.raises(DomainError, match=r"the gradient entry dL/dx is inf at x0 = \{x: 0, y: 1\}"):
        scipy_minimize(obj, [0.0, 1.0], method="L-BFGS-B")


def test_a_non_finite_hessian_at_x0_names_the_entry():
    obj = sg.Objective(sp.sqrt(X**2) ** 3 + Y**2, [X, Y])
    with pytest.raises(DomainError, match=r"the Hessian entry d2L/dxdx is nan at x0"):
        scipy_minimize(obj, [0.0, 1.0], method="trust-exact")
    # a method that uses no Hessian does not need one to be finite
    assert scipy_minimize(obj, [0.0, 1.0], method="BFGS").converged


class _HessianBreaksAway:
    """``L(a) = a . a`` whose Hessian is NaN everywhere but at the start (a stand-in)."""

    params, data = sp.symbols("a0 a1"), ()

    def prepare(self, *columns):
        return ()

    def batch_value_and_grad(self, theta, data, indices=None):
        return float(theta @ theta), 2 * theta

    def hessian(self, theta, *columns):
        return 2 * np.eye(2) if np.array_equal(theta, [3.0, 4.0]) else np.full((2, 2), np.nan)


def test_a_non_finite_hessian_later_becomes_a_symgrad_error_naming_the_point():
    with pytest.raises(DomainError, match=r"the Hessian entry d2L/da0da0 is nan at \{a0: 2.4, a1: 3.2\}, "
                                          r"a point the method reached from x0") as info:
        # the first step is to the trust-region boundary (SciPy's initial radius 1) towards 0
        scipy_minimize(_HessianBreaksAway(), [3.0, 4.0], method="trust-exact")
    assert "infs or NaNs" in str(info.value.__cause__)  # SciPy's own words, kept as the cause


def test_a_run_that_ends_at_a_nan_loss_returns_the_last_finite_iterate():
    obj = sg.Objective(X - sp.log(X) + 5 * Y**2, [X, Y])  # log is NaN for x < 0
    result = scipy_minimize(obj, [40.0, 1.0], method="BFGS")
    assert not result.converged and result.message.startswith("diverged: SciPy (BFGS) ended at a loss of nan")
    assert np.all(np.isfinite(result.x)) and result.x[0] > 0
    assert result.loss == pytest.approx(result.x[0] - np.log(result.x[0]) + 5 * result.x[1] ** 2, rel=1e-15)


@pytest.mark.parametrize("method, match", [("bfgz", "unknown method 'bfgz'; use one of bfgs"),
                                           (3, "unknown method 3")])
def test_an_unknown_method_is_refused_before_scipy(method, match):
    with pytest.raises(InputError, match=match):
        scipy_minimize(ROSENBROCK, [0.0, 0.0], method=method)


@pytest.mark.parametrize("given", ["jac", "hess", "hessp"])
def test_derivatives_given_by_hand_are_refused(given):
    with pytest.raises(InputError, match=f"supplies {given} itself"):
        scipy_minimize(ROSENBROCK, [0.0, 0.0], method="trust-exact", **{given: None})


def test_a_user_callback_runs_after_the_bridge_records_the_loss():
    seen = []
    result = scipy_minimize(ROSENBROCK, [-1.2, 1.0], method="BFGS", callback=lambda xk: seen.append(xk.copy()))
    assert len(seen) == result.steps == len(result.history) - 1
    np.testing.assert_array_equal(seen[-1], result.x)


def test_errors_are_also_the_builtin_value_error():
    with pytest.raises(ValueError):
        scipy_minimize(sg.Objective(sp.log(X) + Y**2, [X, Y]), [-1.0, 1.0])
