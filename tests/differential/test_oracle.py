"""The oracle itself, against closed forms: it must be right before it judges anything."""

import mpmath
import pytest
import sympy as sp

from oracle import (
    TOLERANCE,
    OracleDomainError,
    derivatives,
    gradient,
    hessian,
    rel_error,
    value,
)

x, y, u = sp.symbols("x y u")


def test_abs_differentiates_as_a_real_function():
    assert gradient(sp.Abs(x) * y, [x, y], {x: -1.5, y: 2.0}) == [-2, 1.5]


def test_reciprocal_power_closed_form():
    got = derivatives(x / u**2, [x, u], {x: 1.0, u: 3.0})
    with mpmath.workdps(40):
        tiny = mpmath.mpf(10) ** -39
        assert abs(got["grad"][0] - mpmath.mpf(1) / 9) < tiny
        assert abs(got["grad"][1] - mpmath.mpf(-2) / 27) < tiny
        assert abs(got["hess"][1][1] - mpmath.mpf(6) / 81) < tiny


def test_symbolic_power_closed_form():
    with mpmath.workdps(40):
        g = gradient(x**y, [x, y], {x: 0.5, y: 2.5})
        assert abs(g[0] - 2.5 * mpmath.mpf(0.5) ** 1.5) < mpmath.mpf(10) ** -38
        assert abs(g[1] - mpmath.mpf(0.5) ** 2.5 * mpmath.log(0.5)) < mpmath.mpf(10) ** -38


def test_points_are_converted_exactly():
    with mpmath.workdps(40):
        assert value(x, {x: 0.1}) == mpmath.mpf(0.1)
        assert value(x, {x: 0.1}) != mpmath.mpf("0.1")


def test_hessian_is_symmetric_and_exact():
    h = hessian(sp.exp(x * y), [x, y], {x: 1.0, y: 2.0})
    with mpmath.workdps(40):
        assert h[0][1] == h[1][0]
        assert abs(h[0][0] - 4 * mpmath.exp(2)) < mpmath.mpf(10) ** -37


def test_heaviside_and_max_away_from_kinks():
    assert gradient(sp.Max(x, y) ** 2 + sp.Heaviside(x) * x, [x, y], {x: -1.5, y: 2.0}) == [0, 4]


@pytest.mark.parametrize("expr, at", [(sp.log(x), -1.0), (1 / x, 0.0), (sp.asin(x), 1.5), (x**sp.Rational(1, 3), -8.0)])
def test_outside_the_domain_is_an_error(expr, at):
    with pytest.raises(OracleDomainError):
        value(expr, {x: at})


def test_bound_covers_cancellation():
    # (x + 1) - x at x = 1e16: the sum's scale is about 2e16, the value is 1.
    d = derivatives((x + 1) - x + y * 0, [y], {x: 1e16, y: 0.0})
    assert d["value"] == 1 and d["value_M"] == 0  # SymPy cancels it symbolically
    d = derivatives(sp.Add(x, 1, -x, evaluate=False) * 1, [x], {x: 1e16})
    assert rel_error(0.0, d["value"], 2e16) <= TOLERANCE


def test_rel_error_rules():
    assert rel_error(1.0, mpmath.mpf(1), 0) == 0.0
    assert rel_error(1.0 + 2.0**-52, mpmath.mpf(1), 0) == float("inf")
    assert rel_error(float("nan"), mpmath.mpf(1), 1) == float("inf")


def test_kinks_of_the_callers_tree_count():
    # Abs(p) is written p*sign(p) for SymPy's diff, which folds Max(p*sign(p), p*sign(p));
    # the expression as written has a tie of Max at every point
    assert derivatives(sp.Max(x * sp.sign(x), sp.Abs(x)), [x], {x: 0.5})["kinks"] == 0


def test_a_simplified_derivative_still_has_a_rounding_scale():
    # d log(exp(x))/dx is exactly 1 for real x, but is computed as exp(x) / exp(x)
    d = derivatives(sp.log(sp.exp(x)), [x], {x: 1.65})
    assert d["grad"] == [1] and d["grad_M"] == [1]
    assert rel_error(1 - 2.0**-53, d["grad"][0], d["grad_M"][0]) <= TOLERANCE


def test_an_intermediate_below_the_float64_range_is_refused():
    # d/dp cosh(E/p)**(-2/3) holds cosh(490)**(-5/3), about 1e-353, at p = 0.00555
    with pytest.raises(OracleDomainError, match="underflows"):
        derivatives(sp.cosh(sp.E / x) ** sp.Rational(-2, 3), [x], {x: 0.005548930709771138}, order=1)
