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


# ---------------------------------------------------------------- the strong Wolfe line search

from symgrad.optimize import Oracle  # noqa: E402
from symgrad.optimize._wolfe import strong_wolfe  # noqa: E402


def _quartic(z):
    """f(z) = z0^4 - 3 z0 + z1^2, gradient by hand."""
    return float(z[0] ** 4 - 3 * z[0] + z[1] ** 2), np.array([4 * z[0] ** 3 - 3, 2 * z[1]])


@pytest.mark.parametrize("alpha0", [1e-3, 0.1, 1.0, 10.0, 1e3])
def test_line_search_meets_both_strong_wolfe_conditions(alpha0):
    x, d = np.array([0.0, 1.0]), np.array([1.0, -1.0])
    f0, g0 = _quartic(x)
    slope0 = float(g0 @ d)
    s = strong_wolfe(_quartic, x, d, f0, slope0, alpha0)
    assert s.wolfe and s.alpha > 0 and s.evaluations <= 20
    f, g = _quartic(x + s.alpha * d)
    assert f <= f0 + 1e-4 * s.alpha * slope0
    assert abs(float(g @ d)) <= 0.9 * abs(slope0)
    assert s.value == f and np.array_equal(s.grad, g)


def test_line_search_treats_a_non_finite_value_as_too_long_a_step():
    def barrier(z):  # -log(1 - z) - 2 z: minimum at z = 1/2, infinite from z = 1 on
        if z[0] >= 1:
            return np.inf, np.array([np.nan])
        return float(-np.log(1 - z[0]) - 2 * z[0]), np.array([1 / (1 - z[0]) - 2])

    x, d = np.array([0.0]), np.array([1.0])
    s = strong_wolfe(barrier, x, d, 0.0, -1.0, alpha=100.0)
    assert s.wolfe and 0 < s.alpha < 1
    assert abs(1 / (1 - s.alpha) - 2) <= 0.9  # the curvature condition, from the closed-form slope


def test_line_search_reports_no_decrease_along_an_ascent_direction_of_the_true_loss():
    # the slope it is told is negative, but the loss grows along d: no step lowers it
    s = strong_wolfe(lambda z: (float(z @ z), 2 * z), np.array([1.0]), np.array([1.0]), 1.0, -2.0)
    assert s.alpha == 0.0 and not s.wolfe and s.grad is None and s.evaluations == 20


# ---------------------------------------------------------------- stopping: logistic regression

def _logistic_data(n=2000, d=10, seed=3):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, d)
    w = rng.normal(0.0, 0.7, d)
    labels = (rng.uniform(size=n) < 1 / (1 + np.exp(-(features @ w - 0.3)))).astype(float)
    return features, labels


def _newton_irls(features, labels):
    """The minimiser of the mean logistic loss by Newton's method (IRLS), in NumPy, to 1e-12."""
    a = np.column_stack([features, np.ones(len(labels))])
    w = np.zeros(a.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a @ w)))
        step = np.linalg.solve((a * (p * (1 - p))[:, None]).T @ a, a.T @ (p - labels))
        w -= step
        if np.max(np.abs(step)) <= 1e-13 * max(1.0, np.max(np.abs(w))):
            return w
    raise AssertionError("IRLS did not converge")


@pytest.fixture(scope="module")
def logistic():
    features, labels = _logistic_data()
    d = features.shape[1]
    w, x = sp.symbols(f"w0:{d}"), sp.symbols(f"x0:{d}")
    b, t = sp.symbols("b t")
    z = sum(wi * xi for wi, xi in zip(w, x)) + b
    obj = sg.Objective(sg.losses.binary_cross_entropy_with_logits(z, t), [*w, b], [*x, t])
    columns = [features[:, i] for i in range(d)] + [labels]
    return obj, columns, _newton_irls(features, labels)


class _Counted:
    """The objective's loss evaluations, counted (each call of value or value_and_grad)."""

    def __init__(self, obj, columns):
        self.obj, self.columns, self.data, self.calls = obj, columns, obj.prepare(*columns), 0

    def value_and_grad(self, z):
        self.calls += 1
        return self.obj.batch_value_and_grad(z, self.data)

    def value(self, z):
        self.calls += 1
        return self.obj.batch_value(z, self.data)

    def oracle(self):
        return Oracle(self.value, self.value_and_grad, lambda z: self.obj.hessian(z, *self.columns))


def _drive(opt, counted, x0, limit=1000):
    """The minimize loop, stopping when the block says it is done."""
    x, state = np.array(x0, dtype=float), opt.init(np.asarray(x0, dtype=float))
    oracle = counted.oracle()
    _, g = counted.value_and_grad(x)
    for _ in range(limit):
        u, state = opt.update(g, state, x, oracle=oracle)
        if state.done:
            break
        x = x + u
        _, g = counted.value_and_grad(x)
    return x, state


def _relative_error(x, reference):
    return float(np.max(np.abs(x - reference) / np.maximum(np.abs(reference), 1.0)))


@pytest.mark.parametrize("opt", [optim.LBFGS(), optim.LBFGS(memory=3), optim.Newton()], ids=repr)
def test_blocks_stop_at_the_logistic_regression_minimiser(logistic, opt):
    obj, columns, reference = logistic
    counted = _Counted(obj, columns)
    x, state = _drive(opt, counted, np.zeros(len(obj.params)))
    assert state.converged and not state.stalled
    assert state.message.startswith(f"converged at step {state.stop_step}: relative")
    assert _relative_error(x, reference) <= 1e-5  # five digits
    assert counted.calls <= 120  # each update costs the loop one evaluation and the search about one
    assert state.evaluations < counted.calls


def test_full_batch_fit_with_lbfgs_reaches_five_digits_in_few_evaluations(logistic):
    obj, columns, reference = logistic
    counted = _Counted(obj, columns)
    obj_counted = type("Counted", (), {})()  # the interface fit uses, with the loss calls counted
    for name in ("params", "data", "expr", "prepare", "hessian"):
        setattr(obj_counted, name, getattr(obj, name))
    obj_counted.batch_value_and_grad = lambda z, data, idx=None: counted.value_and_grad(z)
    obj_counted.batch_value = lambda z, data, idx=None: counted.value(z)
    result = sg.fit(obj_counted, columns, x0=np.zeros(len(obj.params)), optimizer=optim.LBFGS(), epochs=100,
                    check=False)
    assert _relative_error(result.x, reference) <= 1e-5
    # the former Armijo search took up to 41 evaluations per epoch once the loss was flat
    # (2,221 in all); a stalled block costs none, leaving the loop's one per epoch
    assert counted.calls <= 200
    assert np.all(np.diff(result.history) <= 0)


def test_lbfgs_stalls_honestly_on_a_wrong_gradient():
    def wrong(z):  # the loss z.z with the gradient of -z.z
        return float(z @ z), -2 * z

    opt = optim.LBFGS()
    oracle = Oracle(lambda z: wrong(z)[0], wrong)
    x = np.array([1.0, 2.0])
    state = opt.init(x)
    u, state = opt.update(wrong(x)[1], state, x, oracle=oracle)
    assert state.stalled and not state.converged and state.done and not np.any(u)
    assert state.message.startswith("stalled without convergence after step 0")
    spent = state.evaluations
    u, state = opt.update(wrong(x)[1], state, x, oracle=oracle)
    assert not np.any(u) and state.evaluations == spent  # a stalled block costs nothing


def test_newton_says_it_shifted_an_indefinite_hessian():
    obj = sg.Objective(X**4 - 2 * X**2 + Y**2, [X, Y])  # saddle at 0: Hessian diag(-4, 2)
    x, state = _drive(optim.Newton(), _Counted(obj, []), [1e-3, 1.0])
    np.testing.assert_allclose(x, [1.0, 0.0], atol=1e-9)
    assert state.converged and state.shifted >= 1
    assert "the Hessian was not positive definite at" in state.message


def test_newton_falls_back_to_the_gradient_on_a_non_finite_hessian():
    def value_and_grad(z):
        return float(z @ z), 2 * z

    oracle = Oracle(lambda z: value_and_grad(z)[0], value_and_grad, lambda z: np.full((2, 2), np.nan))
    opt, x = optim.Newton(), np.array([3.0, -4.0])
    state = opt.init(x)
    for _ in range(60):
        u, state = opt.update(value_and_grad(x)[1], state, x, oracle=oracle)
        if state.done:
            break
        x = x + u
    assert state.converged and state.fallbacks >= 1 and "fell back to the negative gradient" in state.message
    np.testing.assert_allclose(x, 0.0, atol=1e-9)


@pytest.mark.parametrize("bad", [{"gtol": -1.0}, {"factr": float("nan")}])
def test_tolerances_are_checked(bad):
    with pytest.raises(ValueError, match="must lie in"):
        optim.LBFGS(**bad)
