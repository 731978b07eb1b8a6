"""Memory-mapped columns (api.md section 10): chunk by chunk, never copied whole, the in-memory result."""

import tracemalloc

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
import symgrad._chunked as chunked
from symgrad.errors import InputError
import chunked_case
from chunked_case import N, b, w, x, y


CHUNK = 4096  # many chunks, the last one short


@pytest.fixture(scope="module")
def objective():
    return chunked_case.objective()


@pytest.fixture(scope="module")
def arrays():
    return chunked_case.arrays()


@pytest.fixture()
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunked, "MEMMAP_CHUNK", CHUNK)


@pytest.fixture(scope="module")
def maps(arrays, tmp_path_factory):
    folder = tmp_path_factory.mktemp("memmap")
    np.save(folder / "x.npy", arrays[0])
    raw = np.memmap(folder / "y.f64", dtype=np.float64, mode="w+", shape=(N,))
    raw[:] = arrays[1]
    raw.flush()
    return np.load(folder / "x.npy", mmap_mode="r"), np.memmap(folder / "y.f64", dtype=np.float64, mode="r")


def _close(a, b, rtol=1e-12):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


def test_value_grad_hessian_match_in_memory(objective, arrays, maps, small_chunks):
    theta = [0.7, -0.2]
    data = objective.prepare(*maps)
    assert data.chunks == -(-N // CHUNK)
    value, grad = objective.value_and_grad(theta, *maps)
    ref_value, ref_grad = objective.value_and_grad(theta, *arrays)
    _close(value, ref_value)
    _close(grad, ref_grad)
    _close(objective.value(theta, *maps), ref_value)
    _close(objective.grad(theta, *maps), ref_grad)
    _close(objective.hessian(theta, *maps), objective.hessian(theta, *arrays))


def test_repeatable_and_oracle(small_chunks, tmp_path):
    # mean of (a*x - y)^2 and its derivative, against mpmath at 40 digits on the same float64 data
    a = sp.Symbol("a")
    obj = sg.Objective((a * x - y) ** 2, [a], data=[x, y])
    rng = np.random.default_rng(3)
    xs, ys = rng.normal(size=10_000), rng.normal(size=10_000)
    np.save(tmp_path / "x.npy", xs)
    np.save(tmp_path / "y.npy", ys)
    cols = np.load(tmp_path / "x.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    mpmath.mp.dps = 40
    at = mpmath.mpf(0.25)
    exact_v = mpmath.fsum((at * mpmath.mpf(u) - mpmath.mpf(v)) ** 2 for u, v in zip(xs, ys)) / len(xs)
    exact_g = mpmath.fsum(2 * mpmath.mpf(u) * (at * mpmath.mpf(u) - mpmath.mpf(v)) for u, v in zip(xs, ys)) / len(xs)
    value, grad = obj.value_and_grad([0.25], *cols)
    assert abs(value - float(exact_v)) <= 1e-14 * abs(float(exact_v))
    assert abs(grad[0] - float(exact_g)) <= 1e-13 * abs(float(exact_g))
    again = obj.value_and_grad([0.25], *cols)
    assert again[0] == value and again[1][0] == grad[0]


def test_integer_memmap_is_converted(objective, arrays, tmp_path, small_chunks):
    ints = np.memmap(tmp_path / "i.i32", dtype=np.int32, mode="w+", shape=(N,))
    ints[:] = np.arange(N) % 7 - 3
    ints.flush()
    ints = np.memmap(tmp_path / "i.i32", dtype=np.int32, mode="r")
    ref = objective.value_and_grad([0.3, 0.1], ints.astype(np.float64), arrays[1])
    got = objective.value_and_grad([0.3, 0.1], ints, arrays[1])
    _close(got[0], ref[0])
    _close(got[1], ref[1])


@pytest.mark.parametrize("own_mapping_from", [0, chunked.OWN_MAPPING_FROM])
def test_chunks_are_views_and_never_copied_whole(objective, tmp_path, monkeypatch, own_mapping_from):
    # a mapping of each slice (large files), or views of the caller's map (80 MB is below the default)
    monkeypatch.setattr(chunked, "OWN_MAPPING_FROM", own_mapping_from)
    n = 10_000_000  # 80 MB per column
    xs = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=(n,))
    xs[:] = 0.5
    xs.flush()
    del xs
    col = np.load(tmp_path / "x.npy", mmap_mode="r")
    data = objective.prepare(col, col)
    first = data.source.chunk(0)[0]
    assert not first.flags.owndata and not first.flags.writeable  # a read-only mapping of its rows, no copy
    assert len(first) == chunked.MEMMAP_CHUNK and first[0] == 0.5
    objective.value_and_grad([1.0, 0.0], col, col)  # compiled before measuring
    tracemalloc.start()
    value, _ = objective.value_and_grad([1.0, 0.0], col, col)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert value == pytest.approx(np.log(1.25), rel=1e-12)
    assert peak < 2_000_000, f"peak {peak} bytes for a file of {8 * n} bytes"


def test_fit_full_batch_matches_in_memory(objective, arrays, maps, small_chunks):
    opt = sg.optim.GradientDescent(0.05)
    ref = sg.fit(objective, list(arrays), x0=[0.0, 0.0], optimizer=opt, epochs=30)
    got = sg.fit(objective, list(maps), x0=[0.0, 0.0], optimizer=opt, epochs=30)
    _close(got.x, ref.x)
    _close(got.history, ref.history)


def test_fit_mini_batches_stream_chunk_by_chunk(objective, arrays, maps, small_chunks):
    # the documented order: chunks permuted, then the rows of each chunk; batches never span chunks
    lr, k, epochs = 0.05, 1000, 2
    got = sg.fit(objective, list(maps), x0=[0.0, 0.0], optimizer=sg.optim.GradientDescent(lr),
                 epochs=epochs, batch_size=k, seed=5, check=False)
    rng = np.random.default_rng(5)
    theta = np.zeros(2)
    starts = list(range(0, N, CHUNK))
    updates = 0
    for _ in range(epochs):
        for c in rng.permutation(len(starts)):
            lo = starts[c]
            hi = min(lo + CHUNK, N)
            rows = lo + rng.permutation(hi - lo)
            for i in range(0, hi - lo, k):
                pick = rows[i:i + k]
                theta = theta - lr * objective.grad(theta, arrays[0][pick], arrays[1][pick])
                updates += 1
    assert got.steps == updates
    _close(got.x, theta, rtol=1e-12)


def test_nan_names_column_and_row(objective, arrays, tmp_path, small_chunks):
    bad = arrays[1].copy()
    bad[9_000] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    col = np.load(tmp_path / "bad.npy", mmap_mode="r")
    with pytest.raises(InputError, match=r"data column y holds nan at row 9000"):
        objective.value_and_grad([0.1, 0.1], arrays[0], col)


def test_unequal_lengths(objective, maps):
    with pytest.raises(InputError, match=r"same length; got x: 20000, y: 19999"):
        objective.value([0.1, 0.1], maps[0], maps[1][:-1])


def test_curve_fit_matches_in_memory(arrays, maps, small_chunks):
    a, c = sp.symbols("a c")
    sigma = np.full(N, 0.3)  # the model and weights of tests/test_dask.py: shared compiled kernels
    ref = sg.curve_fit(a * x + c, {x: arrays[0]}, arrays[1], sigma=sigma, p0={a: 1.0, c: 0.0})
    got = sg.curve_fit(a * x + c, {x: maps[0]}, maps[1], sigma=sigma, p0={a: 1.0, c: 0.0})
    _close(got.x, ref.x)
    _close([got.stderr[a], got.stderr[c]], [ref.stderr[a], ref.stderr[c]], rtol=1e-10)
    _close(got.chisqr, ref.chisqr)
    np.testing.assert_allclose(got.residuals, ref.residuals, rtol=0, atol=1e-12 * np.abs(ref.residuals).max())


def test_fit_newton_reads_the_chunked_hessian(objective, arrays, maps, small_chunks):
    ref = sg.fit(objective, list(arrays), x0=[0.5, 0.5], optimizer=sg.optim.Newton(), epochs=8)
    got = sg.fit(objective, list(maps), x0=[0.5, 0.5], optimizer=sg.optim.Newton(), epochs=8)
    _close(got.x, ref.x, rtol=1e-10)
    assert got.steps == ref.steps


@pytest.mark.parametrize("rows_per_slice", [4096, 5000])  # a multiple of the kernel's block and not
def test_mapping_per_slice_gives_the_in_memory_blocks(objective, arrays, maps, monkeypatch, tmp_path,
                                                      rows_per_slice):
    # each slice mapped alone, the threads' shares crossing slices: the same block sums as in memory,
    # added in the same order, so the same floats; a NaN there still names its row
    monkeypatch.setattr(chunked, "OWN_MAPPING_FROM", 0)
    monkeypatch.setattr(chunked, "MEMMAP_CHUNK", rows_per_slice)
    theta = [0.7, -0.2]
    value, grad = objective.value_and_grad(theta, *maps)
    ref_value, ref_grad = objective.value_and_grad(theta, *arrays)
    assert value == ref_value and grad.tolist() == ref_grad.tolist()
    assert objective.hessian(theta, *maps).tolist() == objective.hessian(theta, *arrays).tolist()
    bad = arrays[0].copy()
    bad[15_001] = -np.inf
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(InputError, match=r"data column x holds -inf at row 15001"):
        objective.value(theta, np.load(tmp_path / "bad.npy", mmap_mode="r"), maps[1])


def test_curve_fit_refuses_a_negative_sigma_anywhere(arrays, tmp_path, small_chunks):
    a, c = sp.symbols("a c")
    sigma = np.full(N, 0.3)
    sigma[N - 7] = -0.3  # far past the rows the fit's set-up reads first
    np.save(tmp_path / "s.npy", sigma)
    with pytest.raises(InputError, match=f"sigma must be > 0 everywhere; it is -0.3 at row {N - 7}"):
        sg.curve_fit(a * x + c, {x: arrays[0]}, arrays[1], sigma=np.load(tmp_path / "s.npy", mmap_mode="r"),
                     p0={a: 1.0, c: 0.0})
