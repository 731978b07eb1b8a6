"""difference_quotients: the derivative as the limit of (f(x + h) - f(x))/h, in float64."""

import math

import numpy as np
import pytest
import sympy as sp

from symgrad.errors import DomainError, InputError, MissingSymbolError
from symgrad.explain import DifferenceQuotients, difference_quotients

x, y = sp.symbols("x y")


def test_the_quotients_of_a_parabola_are_2x_plus_h():
    # ((x + h)^2 - x^2)/h = 2x + h exactly; the central quotient is 2x exactly (dyadic h)
    q = difference_quotients(x**2, x, 3.0, steps=[0.5, 0.25, 0.125])
    assert isinstance(q, DifferenceQuotients)
    assert (q.value, q.exact, q.second) == (9.0, 6.0, 2.0)
    assert q.forward.tolist() == [6.5, 6.25, 6.125]
    assert q.central.tolist() == [6.0, 6.0, 6.0]
    assert q.forward_error.tolist() == [0.5, 0.25, 0.125]
    assert q.secant(0.5) == (6.5, 9.0 - 6.5 * 3.0)  # the line through (3, 9) and (3.5, 12.25)


def test_truncation_then_rounding_for_exp_at_zero():
    """(e^h - 1)/h - 1 = h/2 + h^2/6 + ...: error ~ h/2 for large h; central ~ h^2/6.
    For tiny h, f(h) - f(0) keeps only ~log10(1/h) of its digits: the error grows again."""
    q = difference_quotients(sp.exp(x), x, 0.0)
    assert (q.value, q.exact, q.second) == (1.0, 1.0, 1.0)
    large = q.steps >= 1e-4
    assert np.allclose(q.forward_error[large] / (q.steps[large] / 2), 1.0, rtol=0.04)
    wide = q.steps >= 1e-3
    assert np.allclose(q.central_error[wide] / (q.steps[wide] ** 2 / 6), 1.0, rtol=0.01)
    assert q.forward_error[-1] > 1e3 * q.forward_error[q.steps == 1e-8][0]  # rounding took over
    assert 1e-10 <= q.best_step <= 1e-6
    text = str(q)
    assert "(f(x+h) - f(x))/h" in text and "exact f'(x) = 1.0" in text
    assert len([line for line in text.splitlines() if line.strip().startswith("1e-")]) == 12


def test_other_symbols_are_held_at_the_point():
    q = difference_quotients(y * sp.sin(x), x, {x: 0.5, y: 2.0}, steps=[1e-3])
    assert q.exact == pytest.approx(2.0 * math.cos(0.5), rel=1e-15)
    expected = (2.0 * math.sin(0.5 + 1e-3) - 2.0 * math.sin(0.5)) / 1e-3
    assert q.forward[0] == pytest.approx(expected, rel=1e-9)


def test_a_secant_end_outside_the_domain_is_nan():
    q = difference_quotients(sp.log(x), x, 0.05, steps=[0.1, 0.01])
    assert np.isnan(q.central[0]) and np.isfinite(q.central[1])
    assert q.exact == pytest.approx(20.0, rel=1e-15)


@pytest.mark.parametrize("expr, at, steps, error, message", [
    (x * y, 1.0, [0.1], InputError, r"also uses y; give a dict"),
    (x * y, {x: 1.0}, [0.1], MissingSymbolError, "no value for y"),
    (x**2, 1.0, [0.1, -0.1], InputError, "positive finite"),
    (x**2, 1.0, [], InputError, "positive finite"),
    (sp.log(x), -1.0, [0.1], DomainError, r"log\(x\) is undefined at x = -1\.0"),
])
def test_bad_input_is_a_clear_error(expr, at, steps, error, message):
    with pytest.raises(error, match=message):
        difference_quotients(expr, x, at, steps=steps)
    with pytest.raises(InputError, match="not one of the steps"):
        difference_quotients(x**2, x, 1.0, steps=[0.5]).secant(0.1)
