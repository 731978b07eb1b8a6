"""likelihood_report against an independent logistic regression by iteratively reweighted least squares."""

import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import InputError

B0, B1, B2, U, V, Y = sp.symbols("b0 b1 b2 u v y")


def irls(design, y, steps=50):
    """Newton's method on the logistic log-likelihood, in NumPy: estimate and (X^T W X)^-1."""
    beta = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ beta))
        w = p * (1 - p)
        info = design.T @ (design * w[:, None])
        beta = beta + np.linalg.solve(info, design.T @ (y - p))
    p = 1 / (1 + np.exp(-design @ beta))
    info = design.T @ (design * (p * (1 - p))[:, None])
    loglik = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return beta, np.linalg.inv(info), loglik


@pytest.fixture(scope="module")
def logistic():
    rng = np.random.default_rng(21)
    n = 500
    u, v = rng.normal(size=n), rng.uniform(-2, 2, size=n)
    logits = -0.4 + 1.2 * u - 0.7 * v
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logits))).astype(float)
    z = B0 + B1 * U + B2 * V
    nll = sg.Objective(sp.log(1 + sp.exp(z)) - Y * z, [B0, B1, B2], data=[U, V, Y])
    beta, cov, loglik = irls(np.column_stack([np.ones(n), u, v]), y)
    return nll, [u, v, y], beta, cov, loglik


def test_logistic_regression_errors_match_irls(logistic):
    nll, columns, beta, cov, loglik = logistic
    rep = sg.likelihood_report(nll, columns, beta)
    n, k = len(columns[0]), 3
    np.testing.assert_allclose(rep.covariance, cov, rtol=1e-9)
    stderr = np.sqrt(np.diag(cov))
    np.testing.assert_allclose([rep.stderr[s] for s in (B0, B1, B2)], stderr, rtol=1e-9)
    np.testing.assert_allclose([rep.z[s] for s in (B0, B1, B2)], beta / stderr, rtol=1e-9)
    expected_p = [math.erfc(abs(b / e) / math.sqrt(2)) for b, e in zip(beta, stderr)]
    np.testing.assert_allclose([rep.p_values[s] for s in (B0, B1, B2)], expected_p, rtol=1e-7)
    assert rep.loglik == pytest.approx(loglik, rel=1e-12)
    assert rep.aic == pytest.approx(2 * k - 2 * loglik, rel=1e-12)
    assert rep.bic == pytest.approx(k * math.log(n) - 2 * loglik, rel=1e-12)
    assert rep.warnings == [] and rep.n_samples == n
    text = str(rep)
    assert "P>|z|" in text and "b1" in text and f"{rep.stderr[B1]:.6g}" in text


def test_a_point_that_is_not_the_minimiser_is_flagged(logistic):
    nll, columns, beta, *_ = logistic
    rep = sg.likelihood_report(nll, columns, beta + np.array([0.3, 0.0, 0.0]))
    assert any("not a minimiser" in w for w in rep.warnings)


def test_a_parameter_the_likelihood_does_not_see_is_undetermined(logistic):
    _, columns, beta, *_ = logistic
    c = sp.Symbol("c")
    z = B0 + B1 * U + B2 * V
    nll = sg.Objective(sp.log(1 + sp.exp(z)) - Y * z + 0 * c, [B0, B1, B2, c], data=[U, V, Y])
    rep = sg.likelihood_report(nll, columns, [*beta, 0.0])
    assert math.isinf(rep.stderr[c]) and math.isfinite(rep.stderr[B1])
    assert any("cannot determine c" in w for w in rep.warnings)


def test_x_of_the_wrong_length(logistic):
    nll, columns, *_ = logistic
    with pytest.raises(InputError, match=r"x has 2 values but the objective has 3 parameters \(b0, b1, b2\)"):
        sg.likelihood_report(nll, columns, [0.0, 0.0])


def test_units_of_a_covariate_do_not_matter(logistic):
    nll, (u, v, y), beta, cov, _ = logistic
    scale = np.array([1.0, 1e-6, 1.0])  # u measured in units a million times smaller
    rep = sg.likelihood_report(nll, [u * 1e6, v, y], beta * scale)
    np.testing.assert_allclose(rep.covariance, cov * np.outer(scale, scale), rtol=1e-8)
    assert rep.warnings == []
