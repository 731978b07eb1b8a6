"""The finite-difference evaluator: real and complex values, conditions, branches."""

import numpy as np
import pytest
import sympy as sp

from symgrad.check._evaluate import evaluate
from symgrad.errors import UnsupportedFunctionError

x, y = sp.symbols("x y")


def test_complex_input_carries_the_imaginary_part():
    v = evaluate(sp.exp(x) * sp.sin(y), {x: 0.0 + 1e-20j, y: np.pi / 2})
    assert np.real(v) == pytest.approx(1.0) and np.imag(v) == pytest.approx(1e-20)


def test_piecewise_conditions_and_heaviside():
    f = sp.Piecewise((x**2, sp.And(x > 0, y > 0)), (-x, sp.Or(x < -1, y < 0)), (7, True))
    assert evaluate(f, {x: 2.0, y: 1.0}) == 4.0
    assert evaluate(f, {x: -2.0, y: 1.0}) == 2.0
    assert evaluate(f, {x: -0.5, y: 1.0}) == 7.0
    np.testing.assert_array_equal(evaluate(sp.Heaviside(x, 0), {x: np.array([-1.0, 0.0, 2.0])}), [0, 0, 1])


def test_max_min_pick_by_real_part():
    assert evaluate(sp.Max(x, y, 0), {x: 2.0 + 1e-20j, y: 1.0}) == 2.0 + 1e-20j
    assert evaluate(sp.Min(x, y), {x: 2.0, y: 1.0}) == 1.0


def test_unknown_function_is_named():
    with pytest.raises(UnsupportedFunctionError, match="zeta"):
        evaluate(sp.zeta(x), {x: 1.0})
