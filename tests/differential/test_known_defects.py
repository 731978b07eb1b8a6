"""Defects the differential harness found that are not fixed yet, pinned as strict xfails.

Each test asserts the correct behaviour; ``strict=True`` makes it fail as soon as
the defect is fixed, so the mark (and the generator's exclusion in ``generated.py``)
is then removed.
"""

import pytest
import sympy as sp

import symgrad as sg
from oracle import TOLERANCE, derivatives, rel_error

x, y = sp.symbols("x y")


@pytest.mark.xfail(strict=True, reason="the d/de rule of b**e writes Eq(b**e, 0); SymPy makes it an ITE")
def test_gradient_of_a_piecewise_exponent_compiles():
    expr = x ** sp.Piecewise((y, y > 0), (2, True))
    kernel = sg.compile(sg.gradient(expr, [x, y]), [x, y])
    exact = derivatives(expr, [x, y], {x: 1.5, y: 0.5})
    for got, g, m in zip(kernel(1.5, 0.5), exact["grad"], exact["grad_M"]):
        assert rel_error(got, g, m) <= TOLERANCE


@pytest.mark.xfail(strict=True, reason="SymPy writes a Piecewise in a Piecewise condition as ITE; refused")
def test_piecewise_in_a_condition_is_supported():
    expr = sp.Piecewise((x * y, sp.Piecewise((y, y > 0), (x, True)) > 0), (y, True))
    grad = sg.gradient(expr, [x, y])
    assert grad.subs({x: 1.5, y: 0.5}) == sp.Matrix([0.5, 1.5])


@pytest.mark.xfail(strict=True, reason="the loops engine differentiates Abs(b**e) with re() and im()")
def test_loops_engine_abs_of_a_symbolic_power():
    import numpy as np

    p, q = sp.symbols("p0:4"), sp.symbols("q0:4")
    expr = sum(sp.Abs(p[k] ** q[k]) for k in range(4))
    obj = sg.Objective(expr, p, q, engine="loops")
    _, grad = obj.value_and_grad([1.5] * 4, *[np.array([0.5])] * 4)
    exact = derivatives(sp.Abs(x**y), [x], {x: 1.5, y: 0.5})
    assert all(rel_error(g, exact["grad"][0], exact["grad_M"][0]) <= TOLERANCE for g in grad)
