"""Newton and L-BFGS with exact derivatives."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim

X, Y = sp.symbols("x y")
ROSENBROCK = sg.Objective((1 - X) ** 2 + 100 * (Y - X**2) ** 2, [X, Y])
BEALE = sg.Objective((1.5 - X + X * Y) ** 2 + (2.25 - X + X * Y**2) ** 2 + (2.625 - X + X * Y**3) ** 2, [X, Y])


@pytest.mark.parametrize("opt", [optim.Newton(), optim.LBFGS(), optim.LBFGS(memory=3)], ids=repr)
@pytest.mark.parametrize(
    "objective, x0, x_min",
    [(ROSENBROCK, [-1.2, 1.0], [1.0, 1.0]), (BEALE, [1.0, 1.0], [3.0, 0.5])],
    ids=["rosenbrock", "beale"],
)
def test_second_order_reaches_the_minimum(opt, objective, x0, x_min):
    result = sg.minimize(objective, x0, optimizer=opt, steps=500, tol=1e-9)
    assert result.converged
    np.testing.assert_allclose(result.x, x_min, atol=1e-7)
    assert result.steps < 200


def test_newton_solves_a_quadratic_in_one_step():
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    b = np.array([1.0, -2.0, 0.5])
    z = sp.symbols("z0:3")
    expr = sum(a[i, j] * z[i] * z[j] for i in range(3) for j in range(3)) / 2 - sum(b[i] * z[i] for i in range(3))
    result = sg.minimize(sg.Objective(expr, z), np.zeros(3), optimizer=optim.Newton(), steps=10, tol=1e-12)
    assert result.steps == 1
    np.testing.assert_allclose(result.x, np.linalg.solve(a, b), rtol=1e-12)


def test_newton_damps_an_indefinite_hessian_into_descent():
    # x^4 - 2x^2 + y^2 has a saddle at 0 where the Hessian is diag(-4, 2)
    obj = sg.Objective(X**4 - 2 * X**2 + Y**2, [X, Y])
    result = sg.minimize(obj, [1e-3, 1.0], optimizer=optim.Newton(), steps=100, tol=1e-10)
    np.testing.assert_allclose(result.x, [1.0, 0.0], atol=1e-9)
    assert np.all(np.diff(result.history) <= 0)


def test_newton_needs_a_hessian():
    with pytest.raises(ValueError, match="Newton needs the exact Hessian"):
        sg.minimize(lambda z: (float(z @ z), 2 * z), [1.0], optimizer=optim.Newton(), steps=3)


def test_full_batch_fit_with_lbfgs(line):
    obj, columns = line
    result = sg.fit(obj, columns, x0=[0.0, 0.0], optimizer=optim.LBFGS(), epochs=50, tol=1e-10)
    x, y = columns
    expected = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    np.testing.assert_allclose(result.x, expected, rtol=1e-8)


def test_second_order_refuses_mini_batches(line):
    obj, columns = line
    with pytest.raises(ValueError, match="full data only; pass batch_size=None"):
        sg.fit(obj, columns, optimizer=optim.Newton(), batch_size=10)
