"""lm_solve: MINPACK lmder's stopping tests, bounds, unit invariance, runaway parameters, NIST StRD digits.

Expected values come from closed forms (linear least squares solved by NumPy's own
QR), from the definitions of the tests evaluated independently at the returned
point, and from NIST's certified values.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symgrad.errors import InputError
from symgrad.optimize import LeastSquares, fit_report
from symgrad.optimize._lm import LMResult, lm_solve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nist_strd import load  # noqa: E402

T = np.linspace(0.0, 3.0, 40)
NOISE = 0.01 * np.sin(37.0 * T)  # deterministic "noise": the residual at the minimum is not zero
Y_EXP = 2.0 * np.exp(-1.3 * T) + NOISE


def exponential(x):
    """``r = x0 exp(-x1 t) - y`` and its Jacobian, written by hand."""
    e = np.exp(-x[1] * T)
    return x[0] * e - Y_EXP, np.column_stack([e, -x[0] * T * e])


def rosenbrock(x):
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]]), np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


def cosines(x, fun):
    """The gtol measure max_j |J_j . r| / (||J_j|| ||r||), computed independently."""
    r, jac = fun(x)
    return np.max(np.abs(jac.T @ r) / (np.linalg.norm(jac, axis=0) * np.linalg.norm(r)))


def digits(values, certified):
    values, certified = np.asarray(values, dtype=float), np.asarray(certified, dtype=float)
    return float(np.min(np.minimum(-np.log10(np.abs(values - certified) / np.abs(certified) + 1e-300), 11.0)))


def test_result_interface():
    res = lm_solve(exponential, [1.0, 1.0])
    assert isinstance(res, LMResult)
    r, jac = exponential(res.x)
    np.testing.assert_array_equal(res.residuals, r)
    np.testing.assert_array_equal(res.jacobian, jac)
    assert res.cost == pytest.approx(0.5 * r @ r, rel=1e-15)
    assert res.success and 1 <= res.status <= 4 and res.message
    assert res.active_mask.tolist() == [0, 0] and res.active_mask.dtype.kind == "i"
    assert res.nfev >= res.njev >= 1 and res.warnings == ()


def test_rosenbrock_from_the_classic_start():
    res = lm_solve(rosenbrock, [-1.2, 1.0])
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], rtol=1e-10)


def test_linear_problem_matches_the_qr_solution():
    a = np.column_stack([np.ones_like(T), T, T**2])
    y = np.cos(T)
    exact = np.linalg.lstsq(a, y, rcond=None)[0]
    res = lm_solve(lambda x: (a @ x - y, a), np.zeros(3))
    assert res.success
    np.testing.assert_allclose(res.x, exact, rtol=1e-12)


def test_gtol_stop_holds_at_the_returned_point():
    res = lm_solve(exponential, [1.0, 1.0], ftol=0.0, xtol=0.0, gtol=1e-10)
    assert res.status == 4 and res.success
    assert cosines(res.x, exponential) <= 1e-10
    assert res.optimality == pytest.approx(cosines(res.x, exponential), rel=1e-6, abs=1e-15)


def test_ftol_and_xtol_stops():
    exact = lm_solve(exponential, [1.0, 1.0], ftol=1e-15, xtol=1e-15, gtol=0.0).x
    for kw, statuses in ((dict(ftol=1e-6, xtol=0.0), (1,)), (dict(ftol=0.0, xtol=1e-6), (2,))):
        res = lm_solve(exponential, [1.0, 1.0], gtol=0.0, **kw)
        assert res.status in statuses and res.success, res.message
        np.testing.assert_allclose(res.x, exact, rtol=1e-5)


def test_zero_tolerances_stop_at_float64_limits_without_success():
    res = lm_solve(exponential, [1.0, 1.0], ftol=0.0, xtol=0.0, gtol=0.0)
    assert res.status in (6, 7, 8) and not res.success
    assert "too small" in res.message


def test_max_nfev_is_respected_and_is_no_success():
    res = lm_solve(rosenbrock, [-1.2, 1.0], max_nfev=3)
    assert res.status == 5 and not res.success and res.nfev == 3
    assert "max_nfev" in res.message


def test_default_max_nfev_is_100_n_plus_1():
    # r = exp(x): the minimum is at -inf; each Gauss-Newton step is x -> x - 1 and no
    # relative test can hold (the relative reduction stays 1 - e^-2, the cosine 1).
    res = lm_solve(lambda x: (np.exp(x), np.diag(np.exp(x))), [0.0])
    assert res.status == 5 and not res.success and res.nfev == 200


def test_non_finite_start_is_a_failure_not_an_exception():
    res = lm_solve(lambda x: (np.array([np.log(x[0] - 2.0)]), np.array([[1.0 / (x[0] - 2.0)]])), [1.0])
    assert res.status == 0 and not res.success and "not finite" in res.message


def test_bad_arguments_are_named():
    with pytest.raises(InputError, match="x0"):
        lm_solve(rosenbrock, [np.nan, 1.0])
    with pytest.raises(InputError, match="ftol"):
        lm_solve(rosenbrock, [0.0, 1.0], ftol=-1.0)
    with pytest.raises(InputError, match=r"x\[1\]"):
        lm_solve(rosenbrock, [0.0, 1.0], lower=[0.0, 2.0], upper=[1.0, 2.0])
    with pytest.raises(InputError, match="Jacobian of shape"):
        lm_solve(lambda x: (np.zeros(3), np.zeros((2, 2))), [0.0, 1.0])


def test_fixed_scaling_reaches_the_same_minimum():
    ref = lm_solve(exponential, [1.0, 1.0], ftol=1e-14, xtol=1e-14, gtol=1e-14)
    res = lm_solve(exponential, [1.0, 1.0], x_scale=[2.0, 1.0], ftol=1e-14, xtol=1e-14, gtol=1e-14)
    assert res.success
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-10)
    with pytest.raises(InputError, match="x_scale"):
        lm_solve(exponential, [1.0, 1.0], x_scale=[1.0, 0.0])


def test_interior_optimum_is_the_unbounded_answer():
    free = lm_solve(exponential, [1.0, 1.0], ftol=1e-14, xtol=1e-14, gtol=1e-14)
    boxed = lm_solve(exponential, [1.0, 1.0], lower=[0.0, 0.0], upper=[10.0, 10.0], ftol=1e-14, xtol=1e-14,
                     gtol=1e-14)
    np.testing.assert_allclose(boxed.x, free.x, rtol=1e-12)
    assert boxed.active_mask.tolist() == [0, 0] and boxed.success


def test_active_upper_bound_gives_the_constrained_minimum():
    # With x1 held at 1.0, the best x0 is linear least squares: sum(y e) / sum(e e).
    res = lm_solve(exponential, [1.0, 0.5], upper=[np.inf, 1.0], ftol=1e-14, xtol=1e-14, gtol=1e-14)
    e = np.exp(-1.0 * T)
    assert res.success and res.active_mask.tolist() == [0, 1]
    assert res.x[1] == 1.0
    np.testing.assert_allclose(res.x[0], (Y_EXP @ e) / (e @ e), rtol=1e-12)
    r, jac = exponential(res.x)
    assert (jac.T @ r)[1] < 0  # the bound holds the descent direction back (KKT sign)


def test_start_on_a_lower_bound_that_stays_active():
    res = lm_solve(lambda x: (np.array([x[0] + 1.0, x[1] - 2.0]), np.eye(2)), [0.0, 0.0], lower=[0.0, 0.0])
    assert res.success and res.active_mask.tolist() == [-1, 0]
    np.testing.assert_allclose(res.x, [0.0, 2.0], atol=1e-12)


def test_answer_does_not_depend_on_units():
    """y in other units (x 1e-6) and x1 in other units (x 1e4): the same digits."""
    base = lm_solve(exponential, [1.0, 1.0])

    def scaled(z):
        x = np.array([z[0] / 1e-6, z[1] / 1e4])
        r, jac = exponential(x)
        return 1e-6 * r, 1e-6 * jac * np.array([1.0 / 1e-6, 1.0 / 1e4])

    other = lm_solve(scaled, [1.0 * 1e-6, 1.0 * 1e4])
    np.testing.assert_allclose(other.x / np.array([1e-6, 1e4]), base.x, rtol=1e-12)
    assert other.status == base.status and other.nfev == base.nfev


def test_nist_fit_in_other_units_gives_the_same_digits():
    """Misra1a with y in units 1e6 times larger (y' = 1e-6 y) and b2 in units 1e4 times smaller."""
    p = load("Misra1a")
    b1, b2 = p.params
    c1, c2, x, y = sp.symbols("c1 c2 x y")
    assert p.predictors == (x,)
    plain = LeastSquares(p.model - p.response, p.params, p.data_symbols)
    scaled = LeastSquares(p.model.subs({b1: c1 / 1e-6, b2: c2 / 1e4}) * 1e-6 - y, [c1, c2], [x, y])
    units = np.array([1e-6, 1e4])
    for start in p.starts:
        ref = lm_solve(plain.problem(plain.prepare(p.columns)), start)
        other = lm_solve(scaled.problem(scaled.prepare([p.xdata, 1e-6 * p.y])), np.array(start) * units)
        assert ref.success and other.success
        np.testing.assert_allclose(other.x / units, ref.x, rtol=1e-9)
        assert abs(digits(other.x / units, p.certified) - digits(ref.x, p.certified)) < 0.5


@pytest.mark.parametrize("x0", [[1.0, 1.0], [4.0, 0.5], [1.0, 0.1]])
def test_runaway_parameter_is_named_and_no_success(x0):
    """y = b1 (1 - exp(-b2 x)) on data higher at x = 1 than the rest: the infimum is at b2 = inf.

    The sum of squares decreases all the way as b2 grows, and the model stops
    depending on b2 (exp(-b2 x) underflows): the relative tests hold, yet b2 means nothing.
    """
    x = np.arange(1.0, 11.0)
    y = 5.0 + 0.01 * np.cos(np.pi * (x + 1))

    def fun(b):
        e = np.exp(-b[1] * x)
        return b[0] * (1 - e) - y, np.column_stack([1 - e, b[0] * x * e])

    res = lm_solve(fun, x0)
    assert not res.success and res.status == -1
    assert len(res.warnings) == 1 and res.warnings[0].startswith("x[1] ran away")
    assert "x[1]" in res.message
    np.testing.assert_allclose(res.x[0], y.mean(), rtol=1e-9)  # the plateau: the model is b1 at every x


def test_parameter_at_a_zero_start_or_on_a_bound_is_not_called_a_runaway():
    res = lm_solve(lambda x: (np.array([x[0] + 1.0, 1e-30 * x[1], 1.0]), np.array([[1.0, 0.0], [0.0, 1e-30],
                                                                                  [0.0, 0.0]])),
                   [0.0, 0.0], lower=[0.0, -1.0])
    assert res.success and res.warnings == () and res.active_mask.tolist() == [-1, 0]


HARD = [("MGH09", 0), ("MGH09", 1), ("BoxBOD", 0), ("MGH10", 0), ("MGH10", 1), ("Eckerle4", 0), ("BoxBOD", 1),
        ("Bennett5", 0), ("Bennett5", 1),
        ("MGH17", 0), ("Rat43", 0), ("Thurber", 1)]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted({n for n, _ in HARD}))
def test_nist_hard_problems_reach_certified_values(name):
    p = load(name)
    ls = LeastSquares(p.model - p.response, p.params, p.data_symbols)
    cols = ls.prepare(p.columns)
    for _, start in (h for h in HARD if h[0] == name):
        res = lm_solve(ls.problem(cols), p.starts[start], ftol=1e-14, xtol=1e-14, gtol=1e-14)
        assert res.success, (name, start, res.message)
        assert digits(res.x, p.certified) >= 6, (name, start)
        report = fit_report(ls, None, None, p.columns, res.x)
        assert digits(report.stderr, p.certified_stderr) >= 6, (name, start)
        assert report.sse == pytest.approx(p.certified_rss, rel=1e-8)


def test_nist_default_success_has_four_digits():
    p = load("Misra1a")
    ls = LeastSquares(p.model - p.response, p.params, p.data_symbols)
    for start in p.starts:
        res = lm_solve(ls.problem(ls.prepare(p.columns)), start)
        assert res.success and digits(res.x, p.certified) >= 4


def test_factored_problem_gives_the_dense_answer():
    """The blocked QR of [J | r] (J never stored) against the dense path, on 3 blocks of data."""
    a, b, c, t, y = sp.symbols("a b c t y")
    ts = np.linspace(0.0, 4.0, 9000)
    ys = 1.5 * np.exp(-0.7 * ts) + 0.3 * ts + 0.01 * np.cos(50.0 * ts)
    ls = LeastSquares(a * sp.exp(-b * t) + c * t - y, [a, b, c], [t, y])
    cols = ls.prepare([ts, ys])
    x = np.array([1.0, 1.0, 0.0])
    rfac, ss = ls.problem(cols, factor=True).triangular_factor(x)
    r, jac = ls.residuals_and_jacobian(x, cols)
    aug = np.column_stack([jac, r])
    np.testing.assert_allclose(rfac.T @ rfac, aug.T @ aug, rtol=1e-12, atol=1e-9)
    assert ss == pytest.approx(r @ r, rel=1e-13)
    dense = lm_solve(ls.problem(cols, factor=False), x, ftol=1e-12, xtol=1e-12)
    blocked = lm_solve(ls.problem(cols, factor=True), x, ftol=1e-12, xtol=1e-12)
    assert blocked.success and blocked.residuals is None
    np.testing.assert_allclose(blocked.x, dense.x, rtol=1e-10)
