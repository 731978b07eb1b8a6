"""Points outside a function's real domain are named; singular derivatives are reported.

The repository's pytest settings turn RuntimeWarnings into errors and the conftest makes
NumPy floating-point errors raise, so every test here also checks that no raw warning
escapes.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.check import check_objective
from symgrad.errors import DomainError, InputError

x, y, a = sp.symbols("x y a")

UNDEFINED = [
    # (expression, point, message pattern)
    (sp.log(x), [-1.0], r"log\(x\) is undefined at x = -1\.0: log needs an argument > 0, and x = -1\.0"),
    (sp.log(x), [0.0], r"log\(x\) is undefined at x = 0\.0: .*log 0 = -infinity"),
    (sp.log(x**2 - 1), [0.5], r"log\(x\*\*2 - 1\) is undefined at x = 0\.5: .* x\*\*2 - 1 = -0\.75 there"),
    (sp.sqrt(x), [-1.0], r"sqrt\(x\) is undefined at x = -1\.0: sqrt needs an argument >= 0"),
    (sp.cbrt(x), [-8.0], r"x\*\*\(1/3\) is undefined at x = -8\.0: a power 1/3 of a negative number is not real"),
    (sp.asin(x), [1.5], r"asin\(x\) is undefined at x = 1\.5: asin needs an argument in \[-1, 1\]"),
    (sp.acos(2 * x), [-0.75], r"acos\(2\*x\) is undefined at x = -0\.75: acos needs .*2\*x = -1\.5 there"),
    (sp.acosh(x), [0.5], r"acosh\(x\) is undefined at x = 0\.5: acosh needs an argument >= 1"),
    (sp.atanh(x), [2.0], r"atanh\(x\) is undefined at x = 2\.0: atanh needs an argument in \(-1, 1\)"),
    (sp.atanh(x), [-1.0], r"atanh\(x\) is undefined at x = -1\.0: .*atanh ±1 = ±infinity"),
    (1 / x, [0.0], r"1/x is undefined at x = 0\.0: it divides by zero, and x = 0\.0 there"),
    (y / (x - 1), [1.0, 2.0], r"1/\(x - 1\) is undefined at x = 1\.0, y = 2\.0: it divides by zero"),
    (x**-2, [0.0], r"x\*\*\(-2\) is undefined at x = 0\.0: it divides by zero"),
    (x**y, [-2.0, 0.5], r"x\*\*y is undefined at x = -2\.0, y = 0\.5: a negative base needs an integer exponent"),
    (sp.log(sp.log(x) + y), [-1.0, 5.0], r"^log\(x\) is undefined at x = -1\.0"),  # the innermost first
]


@pytest.mark.parametrize("expr, at, message", UNDEFINED, ids=[str(c[0]) for c in UNDEFINED])
def test_check_gradient_names_the_function_outside_its_domain(expr, at, message):
    wrt = [x, y][: len(at)]
    with pytest.raises(DomainError, match=message):
        sg.check_gradient(expr, wrt, at)


def test_domain_error_is_an_input_error_and_a_value_error():
    with pytest.raises(InputError, match="choose a point inside the domain"):
        sg.check_gradient(sp.log(x), [x], [-1.0])
    with pytest.raises(ValueError):
        sg.check_gradient(sp.log(x), [x], [-1.0])


def test_a_constant_given_in_the_at_dict_is_named():
    with pytest.raises(DomainError, match=r"log\(-a \+ x\) is undefined at x = 1\.0, a = 2\.0: .*-a \+ x = -1\.0"):
        sg.check_gradient(sp.log(x - a), [x], {x: 1.0, a: 2.0})


def test_a_branch_that_piecewise_does_not_take_is_not_examined():
    report = sg.check_gradient(sp.Piecewise((sp.log(x), x > 0), (-x, True)), [x], [-1.0])
    assert report.ok and report.singular == ()
    assert report.symbolic[0] == -1.0


SINGULAR = [
    # (expression, wrt, point, symbolic gradient, text in the report)
    (sp.sqrt(x), [x], [0.0], [np.inf], r"sqrt(x) at x = 0.0 is finite, but its derivative 1/2·u^(-1/2) is infinite at u = 0"),
    (x ** sp.Rational(1, 3), [x], [0.0], [np.inf], r"its derivative 1/3·u^(-2/3) is infinite at u = 0"),
    (sp.asin(x), [x], [1.0], [np.inf], r"asin(x) at x = 1.0 is finite, but its derivative ±1/sqrt(1 - u²) is infinite"),
    (sp.acos(x), [x], [-1.0], [-np.inf], r"acos(x) at x = -1.0 is finite"),
    (sp.acosh(x), [x], [1.0], [np.inf], r"acosh(x) at x = 1.0 is finite, but its derivative 1/sqrt(u² - 1) is infinite at u = 1"),
    (x**y, [x, y], [-2.0, 2.0], [-4.0, np.nan], r"with respect to the exponent v is not real for u <= 0 (u = x = -2.0 there)"),
]


@pytest.mark.parametrize("expr, wrt, at, gradient, text", SINGULAR, ids=[str(c[0]) for c in SINGULAR])
def test_a_singular_derivative_is_reported_without_warnings(expr, wrt, at, gradient, text):
    report = sg.check_gradient(expr, wrt, at)
    np.testing.assert_array_equal(report.symbolic, gradient)  # d sqrt(x)/dx at 0+ is +inf
    out = str(report)
    assert text in out
    assert "a derivative is infinite or not real at the point" in out
    assert not report.ok and out.splitlines()[-1] == "FAILED"
    first = 1 + int(np.flatnonzero(~np.isfinite(gradient))[0])  # the row of the first such entry
    assert out.splitlines()[first].endswith("singular")


def test_a_finite_power_at_zero_is_not_singular():
    # x**(3/2) has the derivative 3/2·sqrt(x) = 0 at 0: nothing singular
    report = sg.check_gradient(x ** sp.Rational(3, 2), [x], [0.0])
    assert report.singular == () and report.ok and report.symbolic[0] == 0.0


def test_a_singular_node_that_does_not_move_is_ignored():
    # sqrt(a) at a = 0 is a constant for wrt = [x]
    report = sg.check_gradient(x * sp.sqrt(a), [x], {x: 1.0, a: 0.0})
    assert report.singular == () and report.ok


def test_objective_check_names_the_parameters_and_the_sample():
    obj = sg.Objective((a / x - y) ** 2, [a], data=[x, y])
    xs, ys = np.array([1.0, 2.0, 0.0, 4.0]), np.array([1.0, 0.5, 0.0, 0.25])
    with pytest.raises(DomainError, match=r"1/x is undefined at a = 1\.5, in sample 2 \(x = 0\.0, y = 0\.0\): "
                                          r"it divides by zero"):
        obj.check([1.5], xs, ys)


def test_objective_check_log_of_a_negative_prediction():
    obj = sg.Objective((sp.log(a * x) - y) ** 2, [a], data=[x, y])
    xs, ys = np.array([1.0, -2.0, 3.0]), np.zeros(3)
    with pytest.raises(DomainError, match=r"log\(a\*x\) is undefined at a = 1\.0, in sample 1 \(x = -2\.0, "
                                          r"y = 0\.0\): log needs an argument > 0, and a\*x = -2\.0 there"):
        obj.check([1.0], xs, ys)


def test_objective_check_singular_in_some_samples():
    class Root:
        expr, params, data = sp.sqrt(a * x), (a,), (x,)

        def value(self, theta, xs):
            return float(np.mean(np.sqrt(theta[0] * xs)))

        def grad(self, theta, xs):
            with np.errstate(divide="ignore"):
                return np.array([np.mean(xs / (2 * np.sqrt(theta[0] * xs)))])

    report = check_objective(Root(), [1.0], [np.array([4.0, 0.0, 0.0, 1.0])])
    assert "sqrt(a*x) at a = 1.0, in sample 1 (x = 0.0) (in 2 of 4 samples) is finite" in str(report)
    assert not report.ok


def test_objective_without_data_names_the_parameters_only():
    with pytest.raises(DomainError, match=r"^log\(a\) is undefined at a = -2\.0: log needs an argument > 0"):
        sg.Objective(sp.log(a), [a]).check([-2.0])


def test_a_piecewise_with_no_branch_for_the_point_is_undefined_there():
    x, y = sp.symbols("x y")
    f = sp.Piecewise((x**2, x < 1))  # SymPy: nan at x = 1.5, as every stage of symgrad
    assert f.subs(x, 1.5) is sp.nan
    with pytest.raises(DomainError, match=r"^Piecewise\(\(x\*\*2, x < 1\)\) is undefined at x = 1\.5: none of its "
                                          r"conditions holds there; choose a point inside the domain\.$"):
        sg.check_gradient(f, [x], [1.5])
    assert sg.check_gradient(f, [x], [0.5]).ok
    obj = sg.Objective(sp.Piecewise((x**2 * y, y < 1)), [x], [y])
    with pytest.raises(DomainError, match=r"in sample 1 \(y = 2\.0\): none of its conditions holds"):
        obj.check([1.0], np.array([0.1, 2.0]))
