"""sg.curve_fit against closed forms, scipy.optimize.curve_fit and NIST's certified values."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import sympy as sp

import symgrad as sg
from nist_strd import load
from symgrad.errors import ExpressionTypeError, InputError, MissingSymbolError

A, B, C, K, X, T = sp.symbols("a b c k x t")
B1, B2 = sp.symbols("b1 b2")


@pytest.fixture(scope="module")
def line():
    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 10.0, 25)
    y = 1.7 * x - 4.0 + rng.normal(0.0, 0.8, x.size)
    sigma = rng.uniform(0.5, 2.0, x.size)
    return x, y, sigma


def linear_regression(design, y, weights=None):
    """Closed-form weighted least squares: coefficients, (X^T W X)^-1, chi-square."""
    w = np.ones(len(y)) if weights is None else weights
    xtwx = design.T @ (design * w[:, None])
    inverse = np.linalg.inv(xtwx)
    coef = inverse @ (design.T @ (w * y))
    chisqr = float(np.sum(w * (y - design @ coef) ** 2))
    return coef, inverse, chisqr


def test_straight_line_matches_the_closed_form_and_lmfit_statistics(line):
    x, y, _ = line
    res = sg.curve_fit(A * X + B, {X: x}, y)
    design = np.column_stack([x, np.ones_like(x)])
    coef, inverse, chisqr = linear_regression(design, y)
    n_obs, dof = len(x), len(x) - 2
    np.testing.assert_allclose(res.x, coef, rtol=1e-10)
    np.testing.assert_allclose(res.covariance, inverse * chisqr / dof, rtol=1e-8)
    assert res.stderr[A] == pytest.approx(math.sqrt(inverse[0, 0] * chisqr / dof), rel=1e-8)
    assert res.success and res.dof == dof and res.n_samples == n_obs
    assert res.chisqr == pytest.approx(chisqr, rel=1e-12)
    assert res.redchi == pytest.approx(chisqr / dof, rel=1e-12)
    assert res.aic == pytest.approx(n_obs * math.log(chisqr / n_obs) + 2 * 2, rel=1e-12)
    assert res.bic == pytest.approx(n_obs * math.log(chisqr / n_obs) + math.log(n_obs) * 2, rel=1e-12)
    assert res.r_squared == pytest.approx(1 - chisqr / np.sum((y - y.mean()) ** 2), rel=1e-12)
    np.testing.assert_allclose(res.residuals, design @ coef - y, atol=1e-9)
    corr = inverse[0, 1] / math.sqrt(inverse[0, 0] * inverse[1, 1])
    assert res.correlation[0, 1] == pytest.approx(corr, rel=1e-8)
    assert res.warnings == []


@pytest.mark.parametrize("absolute", [False, True])
def test_sigma_weights_as_scipy_curve_fit_documents(line, absolute):
    x, y, sigma = line
    res = sg.curve_fit(A * X + B, {X: x}, y, sigma=sigma, absolute_sigma=absolute)
    design = np.column_stack([x, np.ones_like(x)])
    coef, inverse, chisqr = linear_regression(design, y, 1 / sigma**2)
    expected = inverse if absolute else inverse * chisqr / (len(x) - 2)
    np.testing.assert_allclose(res.x, coef, rtol=1e-10)
    np.testing.assert_allclose(res.covariance, expected, rtol=1e-8)
    np.testing.assert_allclose(res.residuals, (design @ coef - y) / sigma, atol=1e-9)
    popt, pcov = scipy.optimize.curve_fit(lambda x, a, b: a * x + b, x, y, sigma=sigma, absolute_sigma=absolute)
    np.testing.assert_allclose(res.covariance, pcov, rtol=1e-6)


def test_nonlinear_fit_agrees_with_scipy():
    rng = np.random.default_rng(5)
    t = np.linspace(0.0, 5.0, 60)
    sigma = 0.05 + 0.02 * t
    y = 3.0 * np.exp(-0.8 * t) + 0.5 + rng.normal(0.0, 1.0, t.size) * sigma
    res = sg.curve_fit(A * sp.exp(-K * T) + C, {"t": t}, y, sigma=sigma, p0={A: 2.0, K: 1.0, C: 0.0},
                       ftol=1e-12, xtol=1e-12)
    popt, pcov = scipy.optimize.curve_fit(lambda t, a, c, k: a * np.exp(-k * t) + c, t, y, p0=[2.0, 0.0, 1.0],
                                          sigma=sigma, xtol=1e-14, ftol=1e-14)
    assert res.fitted == (A, C, K)  # sorted by name
    np.testing.assert_allclose(res.x, popt, rtol=1e-6)
    np.testing.assert_allclose(res.covariance, pcov, rtol=1e-4)


@pytest.mark.parametrize("start", [0, 1])
def test_misra1a_reaches_the_certified_values(start):
    p = load("Misra1a")
    res = sg.curve_fit(p.model, {"x": p.xdata}, p.y, p0=list(p.starts[start]))
    assert res.success
    np.testing.assert_allclose(res.x, p.certified, rtol=1e-6)
    np.testing.assert_allclose([res.stderr[B1], res.stderr[B2]], p.certified_stderr, rtol=1e-5)
    assert res.chisqr == pytest.approx(p.certified_rss, rel=1e-8)


def test_a_parameter_the_model_does_not_use_gets_an_infinite_error(line):
    x, y, _ = line
    res = sg.curve_fit(A * X + B, {X: x}, y, params=[A, B, C])
    # the tests hold for the fit of a and b: a success, with c reported as undetermined
    assert res.success and res.params[C] == 1.0
    assert math.isinf(res.stderr[C]) and np.isfinite([res.stderr[A], res.stderr[B]]).all()
    assert any("cannot determine c" in w and "does not depend on c" in w for w in res.warnings)
    design = np.column_stack([x, np.ones_like(x)])
    _, inverse, chisqr = linear_regression(design, y)
    assert res.stderr[A] == pytest.approx(math.sqrt(inverse[0, 0] * chisqr / (len(x) - 3)), rel=1e-8)
    assert math.isnan(res.correlation[0, 2])


def test_two_parameters_entering_as_a_product_are_undetermined(line):
    x, y, _ = line
    res = sg.curve_fit(A * K * X + B, {X: x}, y)
    assert math.isinf(res.stderr[A]) and math.isinf(res.stderr[K])
    assert any("cannot determine a, k" in w for w in res.warnings)
    design = np.column_stack([x, np.ones_like(x)])
    coef, inverse, chisqr = linear_regression(design, y)
    assert res.params[A] * res.params[K] == pytest.approx(coef[0], rel=1e-6)
    # b is estimable: its error is the line's, with one degree of freedom fewer
    assert res.stderr[B] == pytest.approx(math.sqrt(inverse[1, 1] * chisqr / (len(x) - 3)), rel=1e-6)


def test_global_fit_shares_a_parameter_across_data_sets():
    rng = np.random.default_rng(8)
    x1, x2 = np.linspace(0, 4, 12), np.linspace(1, 6, 9)
    y1 = 2.0 * x1 + 1.0 + rng.normal(0, 0.3, x1.size)
    y2 = 2.0 * x2 - 3.0 + rng.normal(0, 0.3, x2.size)
    b2 = sp.Symbol("b2")
    res = sg.curve_fit([A * X + B, A * X + b2], [{X: x1}, {X: x2}], [y1, y2])
    design = np.zeros((21, 3))
    design[:12, 0], design[:12, 1] = x1, 1.0
    design[12:, 0], design[12:, 2] = x2, 1.0
    coef, inverse, chisqr = linear_regression(design, np.concatenate([y1, y2]))
    assert res.fitted == (A, B, b2) and res.n_samples == 21
    np.testing.assert_allclose(res.x, coef, rtol=1e-10)
    np.testing.assert_allclose(res.covariance, inverse * chisqr / 18, rtol=1e-8)
    np.testing.assert_allclose(res.predict({X: [1.0]}, dataset=1), coef[0] + coef[2], rtol=1e-12)


def test_fixed_parameters_are_held_and_not_fitted(line):
    x, y, _ = line
    res = sg.curve_fit(A * X + B, {X: x}, y, fixed={"b": 0.0})
    slope = float(x @ y / (x @ x))
    assert res.fitted == (A,) and res.params[B] == 0.0 and B not in res.stderr
    assert res.params[A] == pytest.approx(slope, rel=1e-10)
    chisqr = float(np.sum((slope * x - y) ** 2))
    assert res.stderr[A] == pytest.approx(math.sqrt(chisqr / (len(x) - 1) / (x @ x)), rel=1e-8)


def test_a_bound_that_binds_is_reported(line):
    x, y, _ = line
    res = sg.curve_fit(A * X + B, {X: x}, y, bounds={A: (None, 1.5)})
    assert res.params[A] == pytest.approx(1.5, abs=1e-8)
    assert list(res.active_mask) == [1, 0]
    assert any("a is at its upper bound 1.5" in w for w in res.warnings)
    assert res.params[B] == pytest.approx(np.mean(y - 1.5 * x), rel=1e-6)  # the best b for a = 1.5


def test_data_forms_agree(line):
    x, y, sigma = line
    expected = sg.curve_fit(A * X + B, {X: x}, y, sigma=sigma).x
    frame = pd.DataFrame({"x": x, "obs": y, "err": sigma, "other": np.zeros_like(x)})
    for data, yy, ss in [(x, y, sigma), (list(x), list(y), list(sigma)), ({"x": x, "obs": y, "err": sigma}, "obs", "err"),
                         (frame, "obs", "err"), (frame, frame["obs"], frame["err"].to_numpy())]:
        res = sg.curve_fit(A * X + B, data, yy, sigma=ss)
        np.testing.assert_allclose(res.x, expected, rtol=1e-12)


def test_p0_as_a_sequence_and_a_dict_and_the_default_inside_bounds():
    x = np.linspace(0, 1, 10)
    y = 3.0 * np.exp(2.0 * x)
    for p0 in ([1.0, 1.0], {"a": 1.0}, None):
        res = sg.curve_fit(A * sp.exp(K * X), x, y, p0=p0)
        np.testing.assert_allclose(res.x, [3.0, 2.0], rtol=1e-7)
    res = sg.curve_fit(A * sp.exp(K * X), x, y, bounds={K: (1.5, 2.5), A: (0, None)})
    np.testing.assert_allclose(res.x, [3.0, 2.0], rtol=1e-7)


X17 = np.arange(20.0)
BAD = [
    (dict(data={"x": np.where(X17 == 17, np.nan, X17)}), InputError, r"column 'x' of data holds nan at row 17"),
    (dict(p0={"q": 1.0}), InputError, r"p0 names 'q', which no model uses"),
    (dict(p0={"x": 1.0}), InputError, r"x is given both as a parameter"),
    (dict(p0=[1.0]), InputError, r"p0 has 1 values but there are 2 parameters \(a, b\)"),
    (dict(y=np.ones(19)), InputError, r"y has 19 entries but the data have 20 rows"),
    (dict(sigma=np.where(X17 == 4, 0.0, 1.0)), InputError, r"sigma must be > 0 everywhere; it is 0.0 at row 4"),
    (dict(sigma="err"), InputError, r"sigma names column 'err', which data does not have"),
    (dict(bounds={"a": (2, 1)}), InputError, r"bounds\[a\] = \(2.0, 1.0\) needs lower < upper"),
    (dict(p0={"a": 5.0}, bounds={"a": (0, 1)}), InputError, r"p0 for a is 5.0, outside its bounds"),
    (dict(params=[A]), MissingSymbolError, r"the model uses b, which is neither a parameter"),
    (dict(fixed={"a": 1.0}, params=[A, B]), InputError, r"a is both in params and in fixed"),
    (dict(data={"x": X17, "z": X17}), InputError, r"data has column\(s\) 'z' that the model does not use"),
    (dict(data=np.ones((20, 2))), InputError, r"must be a 1-D array.*shape \(20, 2\)"),
]


@pytest.mark.parametrize("change, error, pattern", BAD, ids=[p for _, _, p in BAD])
def test_bad_input_names_the_culprit(change, error, pattern):
    args = {"data": {"x": X17}, "y": 2 * X17 + 1, **change}
    data, y = args.pop("data"), args.pop("y")
    with pytest.raises(error, match=pattern):
        sg.curve_fit(A * X + B, data, y, **args)


def test_text_and_mismatched_global_lists_are_refused():
    with pytest.raises(ExpressionTypeError, match=r"symgrad.parse"):
        sg.curve_fit("a*x + b", {"x": X17}, X17)
    with pytest.raises(InputError, match=r"global fit of 2 models needs y as a list of 2, got 1"):
        sg.curve_fit([A * X, B * X], [{"x": X17}, {"x": X17}], [X17])
    with pytest.raises(InputError, match=r"exactly one symbol that is not a parameter; it has 4 \(a, b, u, v\)"):
        sg.curve_fit(A * sp.Symbol("u") + B * sp.Symbol("v"), X17, X17)


def test_a_run_out_of_evaluations_is_not_success():
    p = load("Misra1a")
    res = sg.curve_fit(p.model, {"x": p.xdata}, p.y, p0=list(p.starts[0]), max_nfev=3)
    assert not res.success
    assert any("did not converge" in w for w in res.warnings)
    assert "NOT SUCCESSFUL" in str(res) and "max_nfev" in res.message


def test_the_answer_does_not_depend_on_units():
    p = load("Misra1a")
    base = sg.curve_fit(p.model, {"x": p.xdata}, p.y, p0=list(p.starts[0]))
    start = [p.starts[0][0] * 1e6, p.starts[0][1] * 1e-3]
    scaled = sg.curve_fit(p.model, {"x": p.xdata * 1e3}, p.y * 1e6, p0=start)  # x in 1e-3, y in 1e6 units
    np.testing.assert_allclose(scaled.x * [1e-6, 1e3], base.x, rtol=1e-10)
    np.testing.assert_allclose(scaled.stderr[B1] * 1e-6, base.stderr[B1], rtol=1e-8)
    assert scaled.r_squared == pytest.approx(base.r_squared, rel=1e-12)
    # the iteration is the same; the Gauss-Newton polish after the stop (at most 10 steps,
    # each kept while ||r|| stays within rounding) may keep a different number of steps
    # at the rounding floor
    assert abs(scaled.nfev - base.nfev) <= 10


@pytest.mark.parametrize("bad", [2.5, True, False, 0, -3, 1.0, "10", np.float64(7.0)])
def test_max_nfev_must_be_a_positive_integer(bad):
    x, a = sp.symbols("x a")
    with pytest.raises(InputError, match=r"curve_fit: max_nfev must be a positive integer .*got"):
        sg.curve_fit(a * x, {x: np.arange(4.0)}, np.arange(4.0), max_nfev=bad)


@pytest.mark.parametrize("good", [1, 50, np.int64(50)])
def test_max_nfev_takes_integers_of_any_integral_type(good):
    x, a = sp.symbols("x a")
    res = sg.curve_fit(a * x, {x: np.arange(4.0)}, 2 * np.arange(4.0), max_nfev=good)
    assert res.options["max_nfev"] == int(good) and type(res.options["max_nfev"]) is int
    sg.FitResult.from_json(res.to_json())


@pytest.mark.parametrize("bad", [2.5, True, 0, -1])
def test_max_nfev_of_lm_solve_must_be_a_positive_integer(bad):
    from symgrad.optimize._lm import lm_solve

    with pytest.raises(InputError, match=r"lm_solve: max_nfev must be a positive integer"):
        lm_solve(lambda v: (v - 1.0, np.eye(2)), [0.0, 0.0], max_nfev=bad)
