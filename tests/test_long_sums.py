"""Objectives of long sums whose terms differ only in their numbers.

``sum_k (x - c_k)**2`` is one formula with a table of ``c_k``: the loops engine reads
the numbers from an array instead of compiling one statement per term (a 300-term sum
used to fail in Numba with a RecursionError, and 1,000 terms took minutes).
Expected values are closed forms: ``sum (t - k)**2`` over ``k < N`` and its derivative
``2 (N t - N (N - 1) / 2)``.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.derive import lift
from symgrad.objective import _template_nodes

x, w, u = sp.symbols("x w u")


def _exact(n: int, t: float):
    k = np.arange(n, dtype=np.float64)
    return float(np.sum((t - k) ** 2)), 2.0 * (n * t - n * (n - 1) / 2)


@pytest.mark.parametrize("n", [1000])
def test_a_sum_of_shifted_squares_is_one_family_reading_a_table(n):
    expr = sp.Add(*[(x - k) ** 2 for k in range(n)])
    program = lift(expr, [x], [])
    assert _template_nodes(program) < 20  # one template, not one per term
    obj = sg.Objective(expr, [x])
    assert obj.engine == "loops"
    value, grad = obj.value_and_grad([0.5])
    exact_value, exact_grad = _exact(n, 0.5)
    assert value == pytest.approx(exact_value, rel=1e-14)
    assert grad[0] == pytest.approx(exact_grad, rel=1e-14)
    assert obj.hessian([0.5])[0, 0] == pytest.approx(2.0 * n, rel=1e-14)


def test_numbers_shared_by_every_member_stay_literals():
    # the numbers that differ (the offsets k) come from a table, the shared ones do not
    expr = sp.Add(*[3 * (w * u - k) ** 2 for k in range(1, 40)])
    obj = sg.Objective(expr, [w], [u], engine="loops")
    assert "_C0" in obj.source and "_C1" not in obj.source
    data = np.array([0.5, -1.25, 2.0])
    value, grad = obj.value_and_grad([1.5], data)
    k = np.arange(1, 40, dtype=np.float64)
    r = 1.5 * data[:, None] - k[None, :]
    assert value == pytest.approx(np.mean(np.sum(3 * r**2, axis=1)), rel=1e-14)
    assert grad[0] == pytest.approx(np.mean(np.sum(6 * r * data[:, None], axis=1)), rel=1e-14)
    # the Hessian of a loops-engine objective reads the columns as one matrix
    assert obj.hessian([1.5], data)[0, 0] == pytest.approx(39 * 6 * np.mean(data**2), rel=1e-14)


def test_a_sum_with_nothing_shared_keeps_the_straight_line_engine():
    # lifting gains nothing when every term is its own formula
    expr = sp.Add(*[sp.sin(x) ** 2, sp.exp(x) * x, sp.log(1 + x**2)])
    assert sg.Objective(expr, [x]).engine == "scalar"
