"""Levenberg-Marquardt with the exact Jacobian, and standard errors as curve_fit reports them."""

import numpy as np
import pytest
import sympy as sp

from symgrad.errors import InputError
from symgrad.optimize import LeastSquares, fit_report, levenberg_marquardt

A, B, C, D, T, Y = sp.symbols("a b c d t y")
DAMPED = A * sp.exp(-B * T) * sp.cos(C * T + D)
TRUE = np.array([2.0, 0.7, 5.0, 0.3])


@pytest.fixture(scope="module")
def oscillation():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 4, 120)
    y = TRUE[0] * np.exp(-TRUE[1] * t) * np.cos(TRUE[2] * t + TRUE[3]) + 0.05 * rng.standard_normal(t.size)
    return t, y


def test_lm_recovers_the_damped_oscillation_like_curve_fit(oscillation):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    t, y = oscillation
    x0 = [1.5, 0.5, 4.8, 0.0]
    result = levenberg_marquardt(DAMPED - Y, [A, B, C, D], [T, Y], [t, y], x0)
    assert result.converged
    popt, pcov = scipy_optimize.curve_fit(
        lambda t, a, b, c, d: a * np.exp(-b * t) * np.cos(c * t + d), t, y, p0=x0, xtol=1e-14, ftol=1e-14
    )
    np.testing.assert_allclose(result.x, popt, rtol=1e-7)
    np.testing.assert_allclose(result.report.covariance, pcov, rtol=1e-5)
    np.testing.assert_allclose(result.report.stderr, np.sqrt(np.diag(pcov)), rtol=1e-5)
    assert np.all(np.abs(result.x - TRUE) < 4 * result.report.stderr)


def test_straight_line_standard_errors_match_the_textbook_formula():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.1, 2.9, 5.2, 7.1, 8.8, 11.2])
    m, q = sp.symbols("m q")
    report = levenberg_marquardt(m * T + q - Y, [m, q], [T, Y], [x, y], [0.0, 0.0]).report
    n = len(x)
    slope, intercept = np.polyfit(x, y, 1)
    s2 = np.sum((y - slope * x - intercept) ** 2) / (n - 2)
    sxx = np.sum((x - x.mean()) ** 2)
    np.testing.assert_allclose(report.values, [slope, intercept], rtol=1e-10)
    np.testing.assert_allclose(report.stderr, [np.sqrt(s2 / sxx), np.sqrt(s2 * (1 / n + x.mean() ** 2 / sxx))],
                               rtol=1e-10)
    assert report.dof == 4 and "std error" in str(report) and "m" in str(report)


def test_fit_report_without_degrees_of_freedom_is_infinite():
    report = fit_report(A * T - Y, [A], [T, Y], [np.array([2.0]), np.array([3.0])], [1.5])
    assert report.dof == 0 and np.isinf(report.stderr[0])


def test_least_squares_jacobian_is_exact():
    ls = LeastSquares(DAMPED - Y, [A, B, C, D], [T, Y])
    t = np.array([0.0, 0.5, 1.0])
    cols = ls.prepare([t, np.zeros(3)])
    a, b, c, d = TRUE
    e, ph = np.exp(-b * t), c * t + d
    expected = np.column_stack([e * np.cos(ph), -a * t * e * np.cos(ph), -a * t * e * np.sin(ph), -a * e * np.sin(ph)])
    np.testing.assert_allclose(ls.jacobian(TRUE, cols), expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "columns, match",
    [
        ([np.ones(3)], r"expected 2 data column\(s\)"),
        ([np.ones(3), np.ones(4)], "same length; got t: 3, y: 4"),
        ([np.ones(3), np.array([1.0, np.nan, 2.0])], "data column y holds NaN"),
        ([np.ones(3), np.ones((3, 1))], "data column y must be a non-empty 1-D array"),
    ],
)
def test_bad_columns_are_named(columns, match):
    with pytest.raises(InputError, match=match):
        levenberg_marquardt(A * T - Y, [A], [T, Y], columns, [1.0])


def test_scipy_bridge_hands_over_exact_derivatives():
    pytest.importorskip("scipy")
    import symgrad as sg
    from symgrad.optimize import scipy_minimize

    rosen = sg.Objective((1 - A) ** 2 + 100 * (B - A**2) ** 2, [A, B])
    for method in ("BFGS", "Newton-CG", "trust-exact"):
        result = scipy_minimize(rosen, [-1.2, 1.0], method=method, tol=1e-12)
        assert result.converged, method
        np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)
    obj = sg.Objective((A * T - Y) ** 2, [A], [T, Y])
    result = scipy_minimize(obj, [0.0], method="trust-exact", columns=(np.array([1.0, 2.0]), np.array([2.0, 4.0])))
    assert result.x[0] == pytest.approx(2.0, abs=1e-8)
