"""curve_fit from sums over the data (J never stored) against closed forms, and the Cholesky/QR switch.

The path is taken from ``FACTOR_FROM`` samples on; here the threshold is lowered so
that a few blocks of data exercise it, and the answers are compared with NumPy's
closed-form weighted least squares and with SciPy's fit on a hand-written Jacobian.
"""

import numpy as np
import pytest
import scipy.optimize
import sympy as sp

import symgrad as sg
import symgrad.optimize._curve_fit as curve_fit_module
from symgrad._ls_kernels import BLOCK
from symgrad.optimize._lm_problem import gram_factor

A, B, C, D, K, X, T = sp.symbols("a b c d k x t")
#: One model for every test but one (fixed parameters do not recompile it): with ``b`` and
#: ``k`` fixed it is linear in ``a`` and ``c``; ``a`` and ``b`` alone enter as a product.
MODEL = A * B * T + C * sp.exp(-K * T)


@pytest.fixture
def factored(monkeypatch):
    monkeypatch.setattr(curve_fit_module, "FACTOR_FROM", 1000)


def _weighted_lstsq(design, y, w):
    """Coefficients, (X^T W X)^-1 and chi-square of weighted linear least squares (NumPy's lstsq)."""
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)[0]
    inverse = np.linalg.inv(design.T @ (design * w[:, None]))
    return coef, inverse, float(np.sum(w * (y - design @ coef) ** 2))


def test_global_weighted_fit_with_fixed_parameters_matches_the_closed_form(factored):
    """Two data sets share ``a``; ``b`` and ``k`` are fixed; sigma given: linear in (a, c, d)."""
    rng = np.random.default_rng(7)
    n1, n2 = 2 * BLOCK + 17, BLOCK + 5
    t1, x2 = np.linspace(0, 3, n1), np.linspace(-1, 1, n2)
    s1, s2 = rng.uniform(0.5, 2.0, n1), rng.uniform(0.5, 2.0, n2)
    k = 0.5
    y1 = 1.5 * t1 + 0.3 * np.exp(-k * t1) + s1 * rng.normal(size=n1)
    y2 = 1.5 * x2**3 - 2.0 + s2 * rng.normal(size=n2)
    res = sg.curve_fit([MODEL, A * X**3 + D], [{T: t1}, {X: x2}], [y1, y2], sigma=[s1, s2],
                       fixed={B: 1.0, K: k}, params=[A, C, D])
    assert res.success and res.n_samples == n1 + n2
    design = np.zeros((n1 + n2, 3))
    design[:n1, 0], design[:n1, 1] = t1, np.exp(-k * t1)
    design[n1:, 0], design[n1:, 2] = x2**3, 1.0
    y = np.concatenate([y1, y2])
    w = 1.0 / np.concatenate([s1, s2]) ** 2
    coef, inverse, chisqr = _weighted_lstsq(design, y, w)
    np.testing.assert_allclose(res.x, coef, rtol=1e-10)
    assert res.chisqr == pytest.approx(chisqr, rel=1e-10)
    np.testing.assert_allclose(res.covariance, inverse * chisqr / (n1 + n2 - 3), rtol=1e-8)
    np.testing.assert_allclose(res.residuals, (design @ coef - y) * np.sqrt(w), rtol=1e-7, atol=1e-9)


def test_nonlinear_fit_matches_scipy_with_the_hand_written_jacobian(factored):
    ts = np.linspace(0.0, 4.0, 3 * BLOCK + 100)
    ys = 0.3 * ts + 1.5 * np.exp(-0.7 * ts) + 0.01 * np.cos(50.0 * ts)
    res = sg.curve_fit(MODEL, {T: ts}, ys, p0={A: 1.0, C: 1.0, K: 1.0}, fixed={B: 1.0}, ftol=1e-12, xtol=1e-12)

    def model(t, a, c, k):
        return a * t + c * np.exp(-k * t)

    def jac(t, a, c, k):
        e = np.exp(-k * t)
        return np.column_stack([t, e, -c * t * e])

    popt, pcov = scipy.optimize.curve_fit(model, ts, ys, p0=[1.0, 1.0, 1.0], jac=jac, ftol=1e-14, xtol=1e-14,
                                          gtol=1e-14)
    assert res.success
    np.testing.assert_allclose(res.x, popt, rtol=1e-9)
    np.testing.assert_allclose(res.covariance, pcov, rtol=1e-6)


def test_undetermined_parameters_are_reported_from_the_factor(factored):
    """``a`` and ``b`` enter only as their product: both undetermined (inf), as on a stored J."""
    ts = np.linspace(0.0, 1.0, 2 * BLOCK)
    res = sg.curve_fit(MODEL, {T: ts}, 2.0 * ts + np.exp(-0.5 * ts) + 0.01 * np.sin(40 * ts),
                       p0={A: 1.0, B: 1.0, C: 1.0, K: 1.0})
    assert np.isinf(res.stderr[A]) and np.isinf(res.stderr[B])
    assert np.isfinite(res.stderr[C]) and np.isfinite(res.stderr[K])
    assert any("cannot determine a, b" in w for w in res.warnings)


def test_gram_factor_reproduces_the_gram_matrix_and_refuses_near_dependence():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 4))
    rfac = gram_factor(a.T @ a)
    np.testing.assert_allclose(rfac.T @ rfac, a.T @ a, rtol=1e-13, atol=1e-12)
    assert np.allclose(np.tril(rfac, -1), 0.0)
    # a zero column (a parameter the residuals do not depend on) gives a zero row, not a refusal
    z = a.copy()
    z[:, 1] = 0.0
    rz = gram_factor(z.T @ z)
    assert rz is not None and np.all(rz[1] == 0.0)
    # column 2 equal to column 0 up to 1e-7 relative: squaring the condition number is not accurate
    d = a.copy()
    d[:, 2] = d[:, 0] * (1 + 1e-7 * rng.normal(size=50))
    assert gram_factor(d.T @ d) is None
    assert gram_factor(np.full((3, 3), np.nan)) is None
