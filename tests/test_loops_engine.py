"""The loops engine (families compiled as loops) against the straight-line engine,
the autograd engine and NumPy, on networks, kinks, batches and bad input."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import autograd as ag
from symgrad.errors import InputError
from symgrad.jit import JitOptions


def mlp(sizes, activation=sg.nn.relu, classes=True):
    x = list(sp.symbols(f"x0:{sizes[0]}"))
    h, params = x, []
    for i, n in enumerate(sizes[1:]):
        last = i == len(sizes) - 2
        h, p = sg.nn.dense(h, n, activation=None if last else activation, name=f"L{i}")
        params += p
    if classes:
        t = list(sp.symbols(f"t0:{sizes[-1]}"))
        return sg.losses.cross_entropy(h, t), params, x + t
    y = sp.Symbol("y")
    return sg.losses.mse(h[0], y), params, x + [y]


def columns(data, n, rng, classes=0):
    cols = [rng.normal(size=n) for _ in data]
    if classes:
        labels = rng.integers(0, classes, n)
        for j in range(classes):
            cols[len(data) - classes + j] = (labels == j).astype(float)
    return cols


def both(expr, params, data):
    return (sg.Objective(expr, params, data, engine="loops"),
            sg.Objective(expr, params, data, engine="scalar"))


def assert_same(loops, scalar, theta, *cols, indices=None):
    if indices is None:
        va, ga = loops.value_and_grad(theta, *cols)
        vb, gb = scalar.value_and_grad(theta, *cols)
    else:
        va, ga = loops.batch_value_and_grad(theta, loops.prepare(*cols), indices)
        vb, gb = scalar.batch_value_and_grad(theta, scalar.prepare(*cols), indices)
    assert va == pytest.approx(vb, rel=1e-13, abs=1e-14)
    np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-14)


@pytest.fixture(scope="module")
def small_net():
    loss, params, data = mlp([5, 7, 3])
    return both(loss, params, data), params, data


@pytest.mark.parametrize("n", [1, 15, 16, 17, 63, 64, 65, 200])
def test_every_batch_length_gives_the_scalar_engine_results(small_net, n):
    (loops, scalar), params, data = small_net
    rng = np.random.default_rng(n)
    theta = rng.normal(size=len(params))
    cols = columns(data, n, rng, classes=3)
    assert loops.engine == "loops" and scalar.engine == "scalar"
    assert_same(loops, scalar, theta, *cols)
    assert loops.value(theta, *cols) == pytest.approx(scalar.value(theta, *cols), rel=1e-13)


def test_minibatch_indices_with_repeats(small_net):
    (loops, scalar), params, data = small_net
    rng = np.random.default_rng(3)
    theta = rng.normal(size=len(params))
    cols = columns(data, 300, rng, classes=3)
    indices = rng.integers(0, 300, 77).astype(np.int64)
    assert_same(loops, scalar, theta, *cols, indices=indices)
    # the same as the mean over a copy of those rows
    rows = [c[indices] for c in cols]
    v, g = loops.value_and_grad(theta, *rows)
    vi, gi = loops.batch_value_and_grad(theta, loops.prepare(*cols), indices)
    assert v == pytest.approx(vi, rel=1e-13)
    np.testing.assert_allclose(g, gi, rtol=1e-12, atol=1e-15)


def test_gradient_equals_autograd_on_the_64_32_10_network():
    loss, params, data = mlp([64, 32, 10])
    obj = sg.Objective(loss, params, data)
    assert obj.engine == "loops"  # chosen by "auto"
    rng = np.random.default_rng(0)
    theta = rng.normal(size=len(params)) * 0.3
    cols = columns(data, 40, rng, classes=10)
    value, grad = obj.value_and_grad(theta, *cols)
    ref_value, ref_grad = ag.value_and_grad(loss, params, theta, data=dict(zip(data, cols)))
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)


def test_gradient_equals_autograd_on_a_convolution_network():
    grid = [[sp.Symbol(f"p{r}_{c}") for c in range(9)] for r in range(9)]
    maps, p1 = sg.nn.conv2d(grid, 3, stride=2, padding=1, activation=sg.nn.relu)
    z, p2 = sg.nn.dense(sg.nn.flatten(maps), 4, name="D")
    t = list(sp.symbols("t0:4"))
    loss, params = sg.losses.cross_entropy(z, t), p1 + p2
    data = [s for row in grid for s in row] + t
    obj = sg.Objective(loss, params, data, engine="loops")
    rng = np.random.default_rng(1)
    theta = rng.normal(size=len(params))
    cols = columns(data, 30, rng, classes=4)
    grad = obj.grad(theta, *cols)
    ref = ag.grad(loss, params, theta, data=dict(zip(data, cols)))
    np.testing.assert_allclose(grad, ref, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", [sg.nn.sigmoid, sg.nn.tanh, sg.nn.softplus])
def test_smooth_activations_and_squared_error(activation):
    loss, params, data = mlp([4, 6, 1], activation=activation, classes=False)
    loops, scalar = both(loss, params, data)
    rng = np.random.default_rng(2)
    assert_same(loops, scalar, rng.normal(size=len(params)), *columns(data, 70, rng))


def test_max_pooling_ties_give_no_derivative_as_the_scalar_engine():
    grid = [[sp.Symbol(f"p{r}_{c}") for c in range(4)] for r in range(4)]
    w = sp.symbols("w0:4")
    pooled = sg.nn.flatten(sg.nn.max_pool2d([[wi * s for s in row] for wi, row in zip(w, grid)], 2))
    expr = sp.Add(*pooled) + sp.Min(*[wi * s for wi, s in zip(w * 2, grid[0] + grid[1])])
    data = [s for row in grid for s in row]
    loops, scalar = both(expr, w, data)
    rng = np.random.default_rng(4)
    cols = [np.round(rng.normal(size=50)) for _ in data]  # small integers: many exact ties
    theta = np.array([1.0, 1.0, 2.0, -1.0])
    assert_same(loops, scalar, theta, *cols)


def test_piecewise_abs_and_powers_inside_families():
    xs = sp.symbols("x0:5")
    ws = sp.symbols("w0:5")
    c = sp.Symbol("c")
    terms = [sp.Piecewise((wi * xi, xi > c), (sp.Abs(wi) ** 1.5, True)) + sp.exp(-wi**2 * xi**2) for wi, xi in zip(ws, xs)]
    expr = sp.log(1 + sp.Add(*terms) ** 2) + sp.sqrt(1 + c**2)
    loops, scalar = both(expr, [*ws, c], xs)
    rng = np.random.default_rng(5)
    assert_same(loops, scalar, rng.normal(size=6), *columns(xs, 90, rng))


def test_an_objective_without_data():
    ws = sp.symbols("w0:8")
    expr = sp.Add(*[(wi - i) ** 2 for i, wi in enumerate(ws)]) + sp.Max(*ws)
    obj = sg.Objective(expr, ws, engine="loops")
    theta = np.linspace(-1, 1, 8)
    value, grad = obj.value_and_grad(theta)
    expected = np.sum((theta - np.arange(8)) ** 2) + theta.max()
    assert value == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(grad, 2 * (theta - np.arange(8)) + (np.arange(8) == 7), rtol=1e-14)
    assert obj.value(theta) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(obj.hessian(theta), 2 * np.eye(8), atol=1e-14)


def test_serial_and_threaded_runs_agree_bit_for_bit():
    loss, params, data = mlp([6, 8, 3])
    threaded = sg.Objective(loss, params, data, engine="loops")
    serial = sg.Objective(loss, params, data, engine="loops", options=JitOptions(parallel=False))
    rng = np.random.default_rng(6)
    theta = rng.normal(size=len(params))
    cols = columns(data, 5000, rng, classes=3)
    va, ga = threaded.value_and_grad(theta, *cols)
    vb, gb = serial.value_and_grad(theta, *cols)
    assert va == vb and np.array_equal(ga, gb)


def test_auto_keeps_small_expressions_on_the_scalar_engine():
    w, x = sp.symbols("w x")
    assert sg.Objective((w * x - 1) ** 2, [w], [x]).engine == "scalar"


def test_an_unknown_engine_is_refused_by_name():
    w = sp.Symbol("w")
    with pytest.raises(ValueError, match="engine must be one of 'auto', 'scalar', 'loops'; got 'fast'"):
        sg.Objective(w**2, [w], engine="fast")


def test_non_finite_data_are_named(small_net):
    (loops, _), params, data = small_net
    rng = np.random.default_rng(7)
    cols = columns(data, 100, rng, classes=3)
    cols[2][41] = np.nan
    with pytest.raises(InputError, match=r"data column x2 holds nan at row 41"):
        loops.value_and_grad(np.zeros(len(params)), *cols)


def test_training_with_the_loops_engine_lowers_the_loss():
    loss, params, data = mlp([4, 8, 3])
    obj = sg.Objective(loss, params, data, engine="loops")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(600, 4))
    labels = np.argmax(x[:, :3] + 0.1 * rng.normal(size=(600, 3)), axis=1)
    cols = [x[:, i].copy() for i in range(4)] + [(labels == j).astype(float) for j in range(3)]
    theta0 = rng.normal(size=len(params)) * 0.5
    result = sg.fit(obj, cols, x0=theta0, optimizer=sg.optim.Adam(0.05), epochs=30, batch_size=64, seed=0)
    assert result.loss < 0.5 * obj.value(theta0, *cols)


def test_a_hessian_too_large_to_compile_is_refused_with_advice():
    loss, params, data = mlp([30, 20, 3])  # 683 parameters: 233,586 distinct entries
    obj = sg.Objective(loss, params, data)
    with pytest.raises(ValueError, match=r"683 parameters has 233,586 distinct entries.*sg.optim.LBFGS"):
        obj.hessian(np.zeros(len(params)), *[np.zeros(3)] * len(data))


def test_the_closed_form_gradient_of_a_network_equals_the_compiled_one():
    from symgrad.check._evaluate import evaluate

    loss, params, data = mlp([12, 8, 6])
    obj = sg.Objective(loss, params, data, engine="loops")
    rng = np.random.default_rng(9)
    theta = rng.normal(size=len(params))
    sample = rng.normal(size=len(data))
    sample[12:] = np.eye(6)[2]
    exact = obj.gradient_expr
    assert exact.shape == (len(params), 1)
    values, memo = dict(zip(params, theta)) | dict(zip(data, sample)), {}
    closed = np.array([float(evaluate(entry, values, memo)) for entry in exact])
    np.testing.assert_allclose(closed, obj.grad(theta, *[np.array([v]) for v in sample]), rtol=1e-12, atol=1e-15)
