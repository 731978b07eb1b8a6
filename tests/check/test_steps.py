"""Steps on each coordinate's own scale: small parameters, zero, tiny values, fast functions.

Expected values are worked out by hand or by SymPy's derivative evaluated with mpmath at
30 digits; the Misra1a parameters are NIST's certified values (NIST StRD, nonlinear
regression, Misra1a: b1 = 2.3894212918e+02, b2 = 5.5015643181e-04).
"""

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.check import check_objective
from symgrad.check._finite import EPS, central_estimate, central_gradient

b1, b2, x, y = sp.symbols("b1 b2 x y")
CERTIFIED = np.array([2.3894212918e02, 5.5015643181e-04])
MODEL = b1 * (1 - sp.exp(-b2 * x))
LOSS = (MODEL - y) ** 2

#: x spread as Misra1a's (77.6 to 790), y from the model at the certified values plus a
#: fixed wobble, so that the residuals (and the gradient) are not zero.
XS = np.linspace(77.6, 790.0, 14)
YS = CERTIFIED[0] * (1 - np.exp(-CERTIFIED[1] * XS)) + 0.3 * np.sin(XS)


def exact_mean_gradient(theta):
    """∂/∂(b1, b2) of the mean of LOSS over (XS, YS), by SymPy diff and mpmath at 30 digits."""
    mpmath.mp.dps = 30
    parts = [sp.lambdify((b1, b2, x, y), sp.diff(LOSS, s), "mpmath") for s in (b1, b2)]
    args = [mpmath.mpf(float(t)) for t in theta]
    return np.array([float(sum(p(*args, mpmath.mpf(float(u)), mpmath.mpf(float(v)))
                               for u, v in zip(XS, YS)) / len(XS)) for p in parts])


class Misra1a:
    """The mean squared residual of Misra1a's model in plain NumPy, its gradient optionally
    spoilt by a relative ``error`` on ∂/∂b2."""

    expr, params, data = LOSS, (b1, b2), (x, y)

    def __init__(self, error=0.0):
        self.error = error

    def value(self, theta, xs, ys):
        return float(np.mean((theta[0] * (1 - np.exp(-theta[1] * xs)) - ys) ** 2))

    def grad(self, theta, xs, ys):
        e = np.exp(-theta[1] * xs)
        r = theta[0] * (1 - e) - ys
        g = np.array([np.mean(2 * r * (1 - e)), np.mean(2 * r * theta[0] * xs * e)])
        return g * [1.0, 1.0 + self.error]


def old_central_gradient(f, theta):
    """The rule this replaced: one central difference at h = eps^(1/3)·max(1, |x_i|)."""
    h = EPS ** (1 / 3) * np.maximum(1.0, np.abs(theta))
    return np.array([(f(theta + h[i] * np.eye(2)[i]) - f(theta - h[i] * np.eye(2)[i])) / (2 * h[i])
                     for i in range(2)])


@pytest.mark.parametrize("theta", [CERTIFIED, CERTIFIED * [1.0, 1.01], CERTIFIED * [1.02, 0.97]],
                         ids=["certified", "b2+1%", "moved"])
def test_misra1a_small_rate_constant(theta):
    exact = exact_mean_gradient(theta)
    f = lambda t: Misra1a().value(t, XS, YS)  # noqa: E731
    old = old_central_gradient(f, theta)
    assert abs(old[1] / exact[1] - 1) > 1e-5  # the old unit-scale step was 1 % of b2
    np.testing.assert_allclose(central_gradient(f, theta), exact, rtol=1e-10)
    report = check_objective(Misra1a(), theta, [XS, YS])
    assert report.ok, str(report)
    np.testing.assert_allclose(report.numeric, exact, rtol=1e-9)


def test_misra1a_compiled_objective_passes():
    obj = sg.Objective(LOSS, [b1, b2], data=[x, y])
    report = obj.check(CERTIFIED, XS, YS)
    assert report.ok, str(report)
    np.testing.assert_allclose(report.numeric, exact_mean_gradient(CERTIFIED), rtol=1e-9)


@pytest.mark.parametrize("error", [3e-6, -1e-5, 1e-3])
def test_misra1a_wrong_gradient_still_fails(error):
    report = check_objective(Misra1a(error), CERTIFIED, [XS, YS])
    assert not report.ok
    assert report.numeric_ok.tolist() == [True, False]  # finite differences see it
    assert report.autograd_ok.tolist() == [True, False]
    assert str(report).splitlines()[2].endswith("FAIL autograd")


def test_misra1a_in_check_gradient_with_a_kink_free_abs():
    # Abs forces central differences; the residual at the first x stays positive
    expr = sp.Abs(MODEL.subs(x, 77.6) + 1.0)
    report = sg.check_gradient(expr, [b1, b2], CERTIFIED)
    assert report.method == "central differences" and report.ok, str(report)
    e = float(np.exp(-CERTIFIED[1] * 77.6))
    np.testing.assert_allclose(report.numeric, [1 - e, CERTIFIED[0] * 77.6 * e], rtol=1e-10)


CASES = [
    # (f, point, exact gradient)
    ("rate constant at zero", lambda v: np.exp(-790.0 * v[0]), [0.0], [-790.0]),
    ("tiny x, f not scaling with it", lambda v: np.cos(v[0]) + 1000.0 * v[0], [1e-12],
     [1000.0 - np.sin(1e-12)]),
    ("tiny x, tiny slope", lambda v: np.exp(v[0]) + v[1] ** 3, [0.0, 5.5e-4], [1.0, 3 * 5.5e-4**2]),
    ("fast oscillation", lambda v: np.sin(1e4 * v[0]), [1.0], [float(1e4 * mpmath.cos(10000))]),
    ("large x", lambda v: np.sqrt(v[0]) * v[1], [1e5, 2.0], [1.0 / np.sqrt(1e5), np.sqrt(1e5)]),
    ("huge x", lambda v: np.log(v[0]), [3e200], [1 / 3e200]),
    ("negative x", lambda v: v[0] ** 3, [-2e-3], [3 * 4e-6]),
]


@pytest.mark.parametrize("f, point, exact", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_central_differences_on_every_scale(f, point, exact):
    est = central_estimate(f, np.array(point), rtol=1e-9)
    # 1e-8 at worst: "tiny slope" is 9e-7 in a function of size 1, rounding-limited to 2e-9
    np.testing.assert_allclose(est.gradient, exact, rtol=1e-8, atol=0)
    # the error estimate is an order of magnitude, not a bound: within a factor of 10
    assert np.all(np.abs(est.gradient - exact) <= 10 * est.error)


def test_a_step_that_would_leave_the_domain_is_shrunk():
    # log(x - 1) at x = 1.0001: the first step (1.2e-4) reaches x < 1
    point = 1.0001
    exact = float(1 / (mpmath.mpf(point) - 1))
    with np.errstate(invalid="ignore"):
        g = central_gradient(lambda v: np.log(v[0] - 1.0), [point])
    assert g[0] == pytest.approx(exact, rel=1e-9)


def test_error_estimates_are_honest_on_rounding():
    # f = 1 + x·1e-12: the slope drowns in the rounding of 1; the estimate must not claim more
    est = central_estimate(lambda v: 1.0 + 1e-12 * v[0], np.array([1e-3]))
    assert abs(est.gradient[0] - 1e-12) <= max(est.error[0], 1e-25)
