"""FitResult: prediction bands, confidence intervals, the report, JSON and the plot.

Expected values come from closed forms (linear regression), from an independent
profile computed with SciPy, and from Student-t quantiles of SciPy.
"""

import json
import math

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
import sympy as sp

import symgrad as sg
from symgrad.errors import InputError

A, B, K, X, T = sp.symbols("a b k x t")


@pytest.fixture(scope="module")
def line():
    rng = np.random.default_rng(11)
    x = np.linspace(-2.0, 6.0, 18)
    y = 0.9 * x + 2.0 + rng.normal(0.0, 0.5, x.size)
    design = np.column_stack([x, np.ones_like(x)])
    inverse = np.linalg.inv(design.T @ design)
    coef = inverse @ design.T @ y
    s2 = float(np.sum((design @ coef - y) ** 2)) / (x.size - 2)
    return x, y, coef, inverse, s2, sg.curve_fit(A * X + B, {X: x}, y)


@pytest.fixture(scope="module")
def decay():
    rng = np.random.default_rng(12)
    t = np.linspace(0.0, 3.0, 15)
    y = 5.0 * np.exp(-1.3 * t) + rng.normal(0.0, 0.15, t.size)
    return t, y, sg.curve_fit(A * sp.exp(-K * T), {T: t}, y, p0={A: 4.0, K: 1.0})


@pytest.mark.parametrize("band", ["confidence", "prediction"])
def test_bands_are_the_textbook_regression_bands(line, band):
    x, y, coef, inverse, s2, res = line
    new = np.array([-3.0, 0.5, 2.0, 9.0])
    yhat, lower, upper = res.predict({"x": new}, band=band, level=0.9)
    rows = np.column_stack([new, np.ones_like(new)])
    var = s2 * np.einsum("ij,jk,ik->i", rows, inverse, rows) + (s2 if band == "prediction" else 0.0)
    half = scipy.stats.t.ppf(0.95, x.size - 2) * np.sqrt(var)
    np.testing.assert_allclose(yhat, rows @ coef, rtol=1e-10)
    np.testing.assert_allclose(upper - yhat, half, rtol=1e-7)
    np.testing.assert_allclose(yhat - lower, half, rtol=1e-7)
    np.testing.assert_allclose(res.predict(new), rows @ coef, rtol=1e-10)


def test_wald_and_profile_intervals_coincide_for_a_linear_model(line):
    x, _, coef, inverse, s2, res = line
    q = scipy.stats.t.ppf(0.975, x.size - 2)
    wald = res.conf_interval(method="wald")
    profile = res.conf_interval()
    for i, s in enumerate((A, B)):
        half = q * math.sqrt(s2 * inverse[i, i])
        assert wald[s] == pytest.approx((coef[i] - half, coef[i] + half), rel=1e-8)
        assert profile[s] == pytest.approx(wald[s], rel=1e-6)


def test_profile_interval_of_a_nonlinear_model_matches_an_independent_profile(decay):
    t, y, res = decay
    dof = t.size - 2

    def profile_k(k):  # for fixed k the best amplitude is linear: a = sum(y e) / sum(e e)
        e = np.exp(-k * t)
        a = (y @ e) / (e @ e)
        return float(np.sum((a * e - y) ** 2))

    best = res.chisqr
    threshold = best * (1 + scipy.stats.t.ppf(0.975, dof) ** 2 / dof)
    k_hat = res.params[K]
    lo = scipy.optimize.brentq(lambda k: profile_k(k) - threshold, k_hat - 2.0, k_hat, xtol=1e-14)
    hi = scipy.optimize.brentq(lambda k: profile_k(k) - threshold, k_hat, k_hat + 2.0, xtol=1e-14)
    got = res.conf_interval(level=0.95)[K]
    assert got == pytest.approx((lo, hi), rel=1e-5)
    wald = res.conf_interval(method="wald")[K]
    assert got != pytest.approx(wald, rel=1e-4)  # the profile is not symmetric here


def test_a_bound_ends_the_profile_interval(decay):
    t, y, _ = decay
    res = sg.curve_fit(A * sp.exp(-K * T), {T: t}, y, p0={A: 4.0, K: 1.3}, bounds={K: (1.25, None)})
    lo, hi = res.conf_interval()[K]
    assert lo == 1.25 and hi > res.params[K]


def test_json_round_trip_is_lossless_with_inf_and_nan(line):
    x, y, *_ = line
    res = sg.curve_fit(A * K * X + B, {X: x}, y)  # a and k undetermined: inf and nan inside
    text = res.to_json()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    back = sg.FitResult.from_json(text)
    assert back.to_json() == text
    assert [s.name for s in back.fitted] == ["a", "b", "k"]
    np.testing.assert_array_equal(back.x, res.x)
    np.testing.assert_array_equal(back.covariance, res.covariance)  # inf and nan in the same places
    np.testing.assert_array_equal(back.residuals, res.residuals)
    assert {s.name: v for s, v in back.stderr.items()} == {s.name: v for s, v in res.stderr.items()}
    assert (back.chisqr, back.aic, back.bic, back.r_squared, back.dof) == (res.chisqr, res.aic, res.bic,
                                                                         res.r_squared, res.dof)
    assert back.warnings == res.warnings and back.success == res.success and back.message == res.message
    new = {"x": np.array([0.0, 3.0])}
    for band in ("confidence", "prediction"):
        np.testing.assert_allclose(back.predict(new, band=band), res.predict(new, band=band), rtol=1e-12)


def test_from_json_refuses_other_text():
    with pytest.raises(InputError, match="not a symgrad FitResult"):
        sg.FitResult.from_json('{"a": 1}')
    with pytest.raises(InputError, match="not JSON"):
        sg.FitResult.from_json("{")


def test_report_shows_values_errors_correlations_and_warnings(line):
    x, y, *_ = line
    res = sg.curve_fit(A * X + B, {X: x}, y, params=[A, B, K])
    text = str(res)
    assert text.startswith("least-squares fit (")
    assert f"{res.params[A]:.10g}" in text and f"{res.stderr[A]:.6g}" in text
    assert "a, b" in text and "chisqr" in text and "aic" in text and "r_squared" in text
    assert "warnings:" in text and "cannot determine k" in text
    page = res._repr_html_()
    assert page.count("<tr>") >= 4 and "cannot determine k" in page
    fixed = sg.curve_fit(A * X + B, {X: x}, y, fixed={B: 2.0})
    assert str(fixed).startswith("least-squares fit (converged)") and "(fixed)" in str(fixed)


def test_bad_predict_and_interval_options(line):
    res = line[-1]
    with pytest.raises(InputError, match="band must be"):
        res.predict([1.0], band="wide")
    with pytest.raises(InputError, match="level must be"):
        res.predict([1.0], band="confidence", level=95)
    with pytest.raises(InputError, match="method must be 'profile' or 'wald'"):
        res.conf_interval(method="bootstrap")
    weighted = sg.curve_fit(A * X + B, {X: line[0]}, line[1], sigma=np.full(line[0].size, 0.5))
    with pytest.raises(InputError, match="needs the sigma of the new observations"):
        weighted.predict([1.0], band="prediction")


def test_plot_draws_data_fit_and_residuals(tmp_path, decay):
    pytest.importorskip("matplotlib")
    res = decay[-1]
    path = tmp_path / "fit.png"
    fig = res.plot(path)
    top, bottom = fig.axes
    assert len(top.lines) >= 2 and len(bottom.lines) >= 2
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), res.residuals)
    assert path.stat().st_size > 1000


def test_json_round_trip_of_a_global_fit_predicts_each_model():
    x = np.linspace(0.0, 2.0, 8)
    c = sp.Symbol("c")
    res = sg.curve_fit([A * X + B, A * X + c], [{X: x}, {X: x}],
                       [2 * x + 1 + 0.01 * np.sin(7 * x), 2 * x - 1 + 0.01 * np.cos(5 * x)])
    back = sg.FitResult.from_json(res.to_json())
    assert back.spec.is_global and [str(ds.model) for ds in back.spec.datasets] == ["a*x + b", "a*x + c"]
    for k in (0, 1):
        np.testing.assert_array_equal(back.predict({"x": [0.5, 3.0]}, dataset=k),
                                      res.predict({"x": [0.5, 3.0]}, dataset=k))
    assert back.conf_interval(method="wald") == {s: res.conf_interval(method="wald")[s0]
                                                 for s, s0 in zip(back.fitted, res.fitted)}
