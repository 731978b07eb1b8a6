"""Objective: values against independent NumPy formulas, batches, every bad input."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.codegen import BLOCK

w, b, x, y, r = sp.symbols("w b x y r")


@pytest.fixture(scope="module")
def linear():
    return sg.Objective((w * x + b - y) ** 2, [w, b], data=[x, y])


@pytest.fixture(scope="module")
def logistic():
    ws = sp.symbols("w0:3")
    xs = sp.symbols("x0:3")
    z = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    # log(1 + exp(-z)) for y = 1 and log(1 + exp(z)) for y = 0, written with y in {0, 1}
    loss = sp.log(1 + sp.exp(z)) - y * z
    return sg.Objective(loss, list(ws) + [b], data=list(xs) + [y])


def numpy_linear(theta, xs, ys):
    res = theta[0] * xs + theta[1] - ys
    return np.mean(res**2), np.array([np.mean(2 * res * xs), np.mean(2 * res)])


def test_linear_regression_value_and_gradient(linear):
    rng = np.random.default_rng(1)
    xs = rng.normal(size=5000)  # several blocks: the parallel path
    ys = 3 * xs + 1 + rng.normal(size=5000)
    theta = np.array([0.5, -0.3])
    v, g = linear.value_and_grad(theta, xs, ys)
    ev, eg = numpy_linear(theta, xs, ys)
    assert v == pytest.approx(ev, rel=1e-13)
    np.testing.assert_allclose(g, eg, rtol=1e-12)
    assert linear.value(theta, xs, ys) == pytest.approx(ev, rel=1e-13)
    np.testing.assert_allclose(linear.grad(theta, xs, ys), eg, rtol=1e-12)
    # Hessian of the mean squared error: 2 * mean([[x², x], [x, 1]])
    expected_h = 2 * np.array([[np.mean(xs**2), np.mean(xs)], [np.mean(xs), 1.0]])
    np.testing.assert_allclose(linear.hessian(theta, xs, ys), expected_h, rtol=1e-12)


def test_logistic_regression_against_numpy(logistic):
    rng = np.random.default_rng(2)
    n = 3 * BLOCK + 17
    X = rng.normal(size=(n, 3))
    Y = (rng.uniform(size=n) < 0.5).astype(float)
    theta = np.array([0.3, -0.2, 0.1, 0.05])
    z = X @ theta[:3] + theta[3]
    p = 1 / (1 + np.exp(-z))
    expected_v = np.mean(np.log1p(np.exp(z)) - Y * z)
    expected_g = np.concatenate([X.T @ (p - Y), [np.sum(p - Y)]]) / n
    v, g = logistic.value_and_grad(theta, *X.T, Y)
    assert v == pytest.approx(expected_v, rel=1e-12)
    np.testing.assert_allclose(g, expected_g, rtol=1e-11, atol=1e-15)


def test_batches_by_index_and_determinism(linear):
    rng = np.random.default_rng(3)
    xs, ys = rng.normal(size=100), rng.normal(size=100)
    data = linear.prepare(xs, ys)
    idx = np.array([3, 50, 7, 99], dtype=np.int64)
    theta = np.array([1.5, 0.25])
    v, g = linear.batch_value_and_grad(theta, data, idx)
    ev, eg = numpy_linear(theta, xs[idx], ys[idx])
    assert v == pytest.approx(ev, rel=1e-14)
    np.testing.assert_allclose(g, eg, rtol=1e-14)
    assert linear.batch_value(theta, data, idx) == pytest.approx(ev, rel=1e-14)
    assert linear.batch_value_and_grad(theta, data)[0] == linear.value(theta, xs, ys)


def test_objective_without_data_and_gradient_expr():
    rosen = sg.Objective((1 - r) ** 2 + 100 * (w - r**2) ** 2, [r, w])
    v, g = rosen.value_and_grad([-1.2, 1.0])
    # f and ∇f of the Rosenbrock function written out by hand
    assert v == pytest.approx((1 + 1.2) ** 2 + 100 * (1 - 1.44) ** 2, rel=1e-14)
    np.testing.assert_allclose(g, [-2 * 2.2 - 400 * -1.2 * (1 - 1.44), 200 * (1 - 1.44)], rtol=1e-14)
    np.testing.assert_allclose(rosen.hessian([1.0, 1.0]), [[802.0, -400.0], [-400.0, 200.0]])
    assert rosen.gradient_expr.shape == (2, 1)
    assert sp.simplify(rosen.gradient_expr[1] - 200 * (w - r**2)) == 0


def test_integer_data_is_converted(linear):
    v, _ = linear.value_and_grad([1, 0], [1, 2, 3], [1, 2, 3])
    assert v == 0.0


def test_missing_symbols_are_named():
    with pytest.raises(ValueError, match=r"uses x, y, which are not in params \+ data"):
        sg.Objective((w * x - y) ** 2, [w])


def test_text_is_refused():
    with pytest.raises(TypeError, match="symgrad.parse"):
        sg.Objective("w**2", [w])


def test_symbol_in_params_and_data():
    with pytest.raises(ValueError, match="both a parameter and a data symbol"):
        sg.Objective(w * x, [w, x], data=[x])


@pytest.mark.parametrize(
    "theta, columns, message",
    [
        ([1.0], ([1.0], [2.0]), r"theta must have shape \(2,\).*w, b.*got shape \(1,\)"),
        ([[1.0, 2.0]], ([1.0], [2.0]), r"got shape \(1, 2\)"),
        ("ab", ([1.0], [2.0]), "not text"),
        ([1.0, 0.0], ([1.0],), r"expected 2 data column\(s\).*\(x, y\); got 1"),
        ([1.0, 0.0], ([1.0, 2.0], [2.0]), "same length; got x: 2, y: 1"),
        ([1.0, 0.0], ([], []), "empty"),
        ([1.0, 0.0], (["a", "b"], [1.0, 2.0]), "column x .* not numeric"),
        ([1.0, 0.0], ([1.0, 2.0], [[1.0, 2.0]]), r"column y .* 1-D .* shape \(1, 2\)"),
        ([1.0, 0.0], ([1.0, np.nan], [1.0, 2.0]), "column x holds nan at row 1"),
        ([1.0, 0.0], ([1.0, 2.0], [np.inf, 2.0]), "column y holds inf at row 0"),
    ],
)
def test_bad_input_is_a_clear_error(linear, theta, columns, message):
    with pytest.raises(ValueError, match=message):
        linear.value_and_grad(theta, *columns)


def test_nan_hidden_in_a_condition_is_still_reported():
    # the NaN never reaches the value (Max(0, NaN) is 0), but the data check sees it
    obj = sg.Objective(w**2 * sp.Heaviside(x), [w], data=[x])
    with pytest.raises(ValueError, match="column x holds nan"):
        obj.value([1.0], np.array([1.0, np.nan]))


def test_no_data_objective_refuses_columns():
    obj = sg.Objective(w**2, [w])
    with pytest.raises(ValueError, match="no data symbols"):
        obj.value([1.0], [1.0, 2.0])


def test_results_do_not_depend_on_threads():
    from symgrad.jit import JitOptions

    loss = sp.log(1 + sp.exp(w * x + b)) - y * (w * x + b)
    threaded = sg.Objective(loss, [w, b], data=[x, y])
    serial = sg.Objective(loss, [w, b], data=[x, y], options=JitOptions(parallel=False))
    rng = np.random.default_rng(4)
    xs = rng.normal(size=9 * BLOCK + 5)
    ys = (rng.uniform(size=xs.size) < 0.5).astype(float)
    v1, g1 = threaded.value_and_grad([0.3, -0.1], xs, ys)
    v2, g2 = serial.value_and_grad([0.3, -0.1], xs, ys)
    assert v1 == v2 and np.array_equal(g1, g2)  # bit for bit: fixed blocks, summed in order


@pytest.mark.parametrize("engine", ["scalar", "loops"])
def test_results_do_not_depend_on_the_layout_of_the_data(engine):
    """Columns, the row-major copy of prepare() and an index of every sample: the same bits.

    The rows of prepare() are strided columns; read as such, LLVM vectorised the loop
    differently and its partial sums came out 1 ulp apart from the columns' sums.
    """
    loss = sp.log(1 + sp.exp(w * x + b)) - y * (w * x + b)
    obj = sg.Objective(loss, [w, b], data=[x, y], engine=engine)
    rng = np.random.default_rng(5)
    xs = rng.normal(size=3 * BLOCK + 37)
    ys = (rng.uniform(size=xs.size) < 0.5).astype(float)
    theta = np.array([0.3, -0.1])
    v, g = obj.value_and_grad(theta, xs, ys)
    for data in (obj.prepare(xs, ys), obj.prepare(xs, ys, rows=False)):
        for idx in (None, np.arange(xs.size, dtype=np.int64)):
            bv, bg = obj.batch_value_and_grad(theta, data, idx)
            assert bv == v and np.array_equal(bg, g)
            assert obj.batch_value(theta, data, idx) == obj.value(theta, xs, ys)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_reciprocal_powers_in_adjoints(k):
    """x/u**k once printed as x/u*u in the adjoint statements (wrong gradients, silently)."""
    a = sp.Symbol("a")
    obj = sg.Objective(1 / (1 + a) ** (k - 1), [a])
    # d/da (1 + a)^-(k-1) = -(k-1) (1 + a)^-k, by hand
    assert obj.grad([1.7])[0] == pytest.approx(-(k - 1) * 2.7 ** -k, rel=1e-15)
    assert sg.Objective(sp.log(a), [a]).hessian([1.7])[0, 0] == pytest.approx(-1 / 1.7**2, rel=1e-15)
