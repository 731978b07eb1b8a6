"""The Python around an Objective's compiled data loops: sums, reused arrays, threads."""

import threading

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.jit._pipeline import ALL_SAMPLES

ws = sp.symbols("w0:3")
xs = sp.symbols("x0:3")
b, y = sp.symbols("b y")


def logistic_expr():
    z = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    return sp.log(1 + sp.exp(z)) - y * z


@pytest.fixture(scope="module", params=["scalar", "loops"])
def logistic(request):
    return sg.Objective(logistic_expr(), [*ws, b], data=[*xs, y], engine=request.param)


def columns(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=n) for _ in xs] + [(rng.uniform(size=n) < 0.5).astype(float)]


def numpy_logistic(theta, cols):
    """Mean loss and gradient from NumPy formulas (independent of the kernels)."""
    X, t = np.stack(cols[:-1], axis=1), cols[-1]
    z = X @ theta[:-1] + theta[-1]
    r = 1.0 / (1.0 + np.exp(-z)) - t
    return np.mean(np.logaddexp(0.0, z) - t * z), np.append(X.T @ r, r.sum()) / len(t)


def blocks_summed_in_order(obj, theta, data, indices=None):
    """The compiled blocks called directly on one array of their own, rows added one after another."""
    loops = obj._vg
    n = data.n if indices is None else len(indices)
    blocks = -(-n // loops.block)
    out = np.empty((blocks, loops.width + 1))
    loops.blocks(theta, data.kernel_input, ALL_SAMPLES if indices is None else indices, n, out, 0, blocks)
    total = out[0].copy()
    for row in out[1:]:
        total += row
    return total[:-1] / n


@pytest.mark.parametrize("blocks", [1, 2, 5])
def test_batch_results_are_the_blocks_added_in_order(logistic, blocks):
    n = logistic._vg.block * blocks - 7
    cols = columns(n)
    data = logistic.prepare(*cols)
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    value, grad = logistic.batch_value_and_grad(theta, data)
    expected = blocks_summed_in_order(logistic, theta, data)
    assert value == expected[0]
    assert np.array_equal(grad, expected[1:])
    assert grad.shape == (4,)
    ref_value, ref_grad = numpy_logistic(theta, cols)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)
    assert logistic.batch_value(theta, data) == pytest.approx(ref_value, rel=1e-12)


def test_mini_batches_at_indices_are_the_blocks_added_in_order(logistic):
    n = 3 * logistic._vg.block
    data = logistic.prepare(*columns(n))
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    rng = np.random.default_rng(3)
    for size in (5, logistic._vg.block + 1, 2 * logistic._vg.block + 3):
        idx = rng.integers(0, n, size=size).astype(np.int64)
        value, grad = logistic.batch_value_and_grad(theta, data, idx)
        expected = blocks_summed_in_order(logistic, theta, data, idx)
        assert value == expected[0] and np.array_equal(grad, expected[1:])


def test_a_result_is_not_overwritten_by_the_next_call(logistic):
    data = logistic.prepare(*columns(3 * logistic._vg.block))
    first = logistic.batch_value_and_grad(np.array([0.3, -0.2, 0.5, 0.1]), data)[1]
    kept = first.copy()
    second = logistic.batch_value_and_grad(np.array([-1.0, 2.0, 0.0, 0.5]), data)[1]
    assert np.array_equal(first, kept)
    assert not np.shares_memory(first, second)


def test_two_threads_calling_one_objective_get_their_own_results(logistic):
    block = logistic._vg.block
    sizes = (3 * block + 11, 5 * block - 2)  # different block counts: a shared array would mix them
    datas = [logistic.prepare(*columns(n, seed)) for seed, n in enumerate(sizes)]
    thetas = [np.array([0.3, -0.2, 0.5, 0.1]), np.array([-0.7, 0.4, 0.2, -0.3])]
    expected = [logistic.batch_value_and_grad(t, d) for t, d in zip(thetas, datas)]
    start = threading.Barrier(2)
    wrong = [0, 0]

    def work(k):
        start.wait()
        for _ in range(200):
            value, grad = logistic.batch_value_and_grad(thetas[k], datas[k])
            if value != expected[k][0] or not np.array_equal(grad, expected[k][1]):
                wrong[k] += 1

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == [0, 0]


def test_each_thread_keeps_its_own_block_array(logistic):
    loops = logistic._vg
    arrays = {}

    def take(name):
        arrays[name] = loops._block_array(4)

    take("main")
    other = threading.Thread(target=take, args=("other",))
    other.start()
    other.join()
    assert arrays["main"].shape == arrays["other"].shape == (4, loops.width + 1)
    assert not np.shares_memory(arrays["main"], arrays["other"])
    assert np.shares_memory(arrays["main"], loops._block_array(3))  # the same thread's again


def test_non_finite_data_are_named_with_the_block_array_reused(logistic):
    n = 3 * logistic._vg.block
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    logistic.batch_value_and_grad(theta, logistic.prepare(*columns(n)))
    cols = columns(n)
    cols[1][n - 5] = np.inf
    data = logistic.prepare(*cols, check_finite=False)
    with pytest.raises(sg.InputError, match="data column x1"):
        logistic.batch_value_and_grad(theta, data)
    with pytest.raises(sg.InputError, match="data column x1"):
        logistic.batch_value(theta, data)


def test_value_and_grad_on_plain_columns_equals_the_prepared_batch(logistic):
    cols = columns(2 * logistic._vg.block + 5)
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    value, grad = logistic.value_and_grad(theta, *cols)
    ref_value, ref_grad = logistic.batch_value_and_grad(theta, logistic.prepare(*cols, rows=False))
    assert value == ref_value and np.array_equal(grad, ref_grad)
    np.testing.assert_allclose(grad, numpy_logistic(theta, cols)[1], rtol=1e-10, atol=1e-14)
    assert logistic.value(theta, *cols) == pytest.approx(ref_value, rel=1e-12)


def test_columns_to_convert_take_the_full_check(logistic):
    n = 300
    cols = columns(n)
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    strided = np.repeat(cols[0], 2)[::2]  # not contiguous
    labels = cols[-1].astype(np.int64)  # integers, converted
    value, grad = logistic.value_and_grad(theta, strided, cols[1], cols[2], labels)
    ref_value, ref_grad = numpy_logistic(theta, cols)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-14)
    with pytest.raises(sg.InputError, match="same length"):
        logistic.value_and_grad(theta, cols[0][:-1], cols[1], cols[2], cols[3])
    with pytest.raises(sg.InputError, match="expected 4 data column"):
        logistic.value_and_grad(theta, *cols[:3])
    with pytest.raises(sg.InputError, match="empty"):
        logistic.value_and_grad(theta, *(c[:0] for c in cols))
    with pytest.raises(sg.InputError, match="1-D"):
        logistic.value_and_grad(theta, cols[0].reshape(-1, 1), cols[1], cols[2], cols[3])


def test_non_finite_plain_columns_are_named(logistic):
    cols = columns(300)
    cols[2][17] = np.nan
    with pytest.raises(sg.InputError, match="data column x2"):
        logistic.value_and_grad(np.array([0.3, -0.2, 0.5, 0.1]), *cols)
