"""Geodesic acceleration: the exact curvature of the residuals, the acceleration, and NIST's Bennett5.

Expected values come from SymPy's own ``hessian`` evaluated with mpmath at 30 digits,
from NumPy's least-squares solver on the augmented system, and from NIST's certified
values.
"""

import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from symgrad.optimize import LeastSquares, fit_report
from symgrad.optimize._lm import lm_solve
from symgrad.optimize._lm_step import acceleration

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nist_strd import load  # noqa: E402


def digits(values, certified):
    values, certified = np.asarray(values, dtype=float), np.asarray(certified, dtype=float)
    return float(np.min(np.minimum(-np.log10(np.abs(values - certified) / np.abs(certified) + 1e-300), 11.0)))


def test_second_directional_derivative_is_v_H_v_of_sympy_hessian():
    """``v^T H_j v`` of Bennett5's residual, against SymPy's hessian at 30 digits."""
    p = load("Bennett5")
    residual = p.model - p.response
    ls = LeastSquares(residual, p.params, p.data_symbols)
    theta = np.array(p.starts[0])
    v = np.array([3.5, -0.25, 0.0125])
    got = ls.second_directional(theta, v, ls.prepare(p.columns))
    hess = sp.lambdify(p.params + p.data_symbols, sp.hessian(residual, p.params), modules="mpmath")
    with mpmath.workdps(30):
        vm = mpmath.matrix([mpmath.mpf(c) for c in v])
        for j in (0, 77, len(p.y) - 1):
            row = [mpmath.mpf(c[j]) for c in p.columns]
            h = mpmath.matrix(hess(*[mpmath.mpf(t) for t in theta], *row))
            exact = float((vm.T * h * vm)[0])
            assert got[j] == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("par", [0.0, 0.3])
def test_acceleration_solves_the_damped_system_for_the_curvature(par):
    """``a`` minimises ||J a + r_vv||^2 + par ||D a||^2 over the free columns, zero elsewhere."""
    rng = np.random.default_rng(7)
    jac = rng.normal(size=(12, 4))
    rvv = rng.normal(size=12)
    diag = np.array([2.0, 0.5, 1.0, 3.0])
    cols = np.array([0, 2, 3])
    got = acceleration(jac, rvv, cols, diag, par)
    system = np.vstack([jac[:, cols], np.sqrt(par) * np.diag(diag[cols])])
    expected = np.linalg.lstsq(system, -np.concatenate([rvv, np.zeros(3)]), rcond=None)[0]
    assert got[1] == 0.0
    np.testing.assert_allclose(got[cols], expected, rtol=1e-12, atol=1e-14)


def _bennett5():
    p = load("Bennett5")
    ls = LeastSquares(p.model - p.response, p.params, p.data_symbols)
    return p, ls, ls.prepare(p.columns)


def test_bennett5_from_the_first_start_within_minpacks_evaluation_limit():
    """765 evaluations without acceleration (MINPACK's lmder: 767) against max_nfev = 400."""
    p, ls, cols = _bennett5()
    res = lm_solve(ls.problem(cols), p.starts[0], ftol=1e-14, xtol=1e-14, gtol=1e-14)
    assert res.success and res.nfev <= 400 and res.ncev > 0
    assert digits(res.x, p.certified) >= 6
    report = fit_report(ls, None, None, p.columns, res.x)
    assert digits(report.stderr, p.certified_stderr) >= 6


@pytest.mark.parametrize("start", [0, 1])
def test_bennett5_default_success_has_four_digits(start):
    """With MINPACK's default tolerances gtol (start 1) or ftol (start 2) holds about 3.5
    digits from the answer; the polish after the stop follows the curved valley."""
    p, ls, cols = _bennett5()
    res = lm_solve(ls.problem(cols), p.starts[start])
    assert res.success and digits(res.x, p.certified) >= 4


def test_a_problem_without_curvature_takes_plain_steps():
    t = np.linspace(0.0, 1.0, 12)

    def fun(b):
        e = np.exp(b[1] * t)
        return b[0] * e - 2.0 * np.exp(-3.0 * t), np.column_stack([e, b[0] * t * e])

    res = lm_solve(fun, [1.0, 0.0])
    assert res.success and res.ncev == 0
    np.testing.assert_allclose(res.x, [2.0, -3.0], rtol=1e-9)
