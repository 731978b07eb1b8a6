"""check_gradient(..., gradient=...): a gradient derived by hand, judged entry by entry."""

import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ExpressionTypeError, InputError, MissingSymbolError

x, y, z = sp.symbols("x y z")
F = x**2 * sp.sin(y)
AT = [1.5, 0.5]
# d/dx x^2 sin y = 2 x sin y, d/dy = x^2 cos y, at (1.5, 0.5), from the math library
EXACT = [2 * 1.5 * math.sin(0.5), 1.5**2 * math.cos(0.5)]


def test_a_right_gradient_as_expressions_passes():
    report = sg.check_gradient(F, [x, y], AT, gradient=[2 * x * sp.sin(y), x**2 * sp.cos(y)])
    assert report.ok and list(report.given_ok) == [True, True]
    assert report.given == pytest.approx(EXACT, rel=1e-15)
    assert "your gradient: all 2 entries agree with the exact one at this point" in str(report)


def test_a_wrong_entry_is_named_with_both_formulas_and_values():
    report = sg.check_gradient(F, [x, y], AT, gradient=[2 * x * sp.sin(y), x**2 * sp.sin(y)])
    assert not report.ok and list(report.given_ok) == [True, False]
    assert report.autograd_ok.all() and report.numeric_ok.all()  # only the hand-made entry fails
    text = str(report)
    assert "WRONG: yours" in text.splitlines()[2] and "WRONG" not in text.splitlines()[1]
    assert (f"d/dy: yours x**2*sin(y) = {1.5**2 * math.sin(0.5):.10g}, "
            f"exact x**2*cos(y) = {EXACT[1]:.10g}") in text
    assert text.splitlines()[-1] == "FAILED"


def test_a_matrix_of_expressions_is_accepted():
    report = sg.check_gradient(F, [x, y], AT, gradient=sp.Matrix([2 * x * sp.sin(y), x**2 * sp.cos(y)]))
    assert report.ok


def test_a_callable_gets_one_float_per_symbol_of_wrt():
    seen = []

    def grad(a, b):
        seen.append((a, b))
        return np.array([2 * a * np.sin(b), a**2 * np.cos(b)])

    assert sg.check_gradient(F, [x, y], AT, gradient=grad).ok
    assert seen == [(1.5, 0.5)]
    wrong = sg.check_gradient(F, [x, y], AT, gradient=lambda a, b: [2 * a * np.sin(b), -(a**2) * np.cos(b)])
    assert list(wrong.given_ok) == [True, False]
    assert f"d/dy: yours {-EXACT[1]:.10g}, exact {EXACT[1]:.10g}" in str(wrong)


def test_symbols_held_constant_are_not_passed_to_a_callable():
    # d/dx (z x^3) = 3 z x^2 = 12 at x = 2, z = 1
    report = sg.check_gradient(z * x**3, [x], {x: 2.0, z: 1.0}, gradient=lambda a: [3 * a**2])
    assert report.ok and report.given[0] == 12.0
    assert sg.check_gradient(z * x**3, [x], {x: 2.0, z: 1.0}, gradient=[3 * z * x**2]).ok


def test_the_kink_convention_applies_to_the_given_gradient_too():
    # relu'(0) = 0 by convention: a hand-made 1 at 0 is wrong, 0 is right
    relu = sg.nn.relu(x)
    assert sg.check_gradient(relu, [x], [0.0], gradient=[sp.Heaviside(x, 0)]).ok
    assert not sg.check_gradient(relu, [x], [0.0], gradient=[sp.Integer(1)]).ok


@pytest.mark.parametrize("gradient, error, message", [
    ([2 * x * sp.sin(y)], InputError, "gradient has 1 entries for 2 symbols of wrt"),
    (["2*x*sin(y)", "x^2*cos(y)"], ExpressionTypeError, "symgrad.parse"),
    ("2*x*sin(y)", ExpressionTypeError, "gradient is text; .* symgrad.parse"),
    ([2 * x * sp.sin(y), z * sp.cos(y)], MissingSymbolError, r"gradient\[1\] \(the derivative by y\) uses z"),
    (lambda a, b: [1.0, 2.0, 3.0], InputError, "returned 3 numbers for 2 symbols of wrt"),
    (lambda a: [1.0, 2.0], InputError, "must return 2 real numbers"),
    (3.0, ExpressionTypeError, "list of expressions .* or a callable, got float"),
])
def test_bad_gradients_are_clear_errors(gradient, error, message):
    with pytest.raises(error, match=message):
        sg.check_gradient(F, [x, y], AT, gradient=gradient)
