"""Dask columns and frames (api.md section 10): local schedulers and a cluster of worker processes."""

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ClusterError, InputError
import chunked_case
from chunked_case import N, x, y

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

CHUNK = 4096


@pytest.fixture(scope="module")
def client():
    # a worker that dies is reported at once (no retries on the other worker)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           dashboard_address=None, silence_logs=40)
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def objective():
    return chunked_case.objective()


@pytest.fixture(scope="module")
def arrays():
    return chunked_case.arrays()


def _dask(arrays):
    return tuple(da.from_array(a, chunks=CHUNK) for a in arrays)


def _close(a, b, rtol=1e-12):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


def test_import_symgrad_does_not_import_dask():
    code = "import sys, symgrad; print(any(m == 'dask' or m.startswith('dask.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_local_schedulers_match_in_memory(objective, arrays, scheduler):
    theta = [0.7, -0.2]
    ref_value, ref_grad = objective.value_and_grad(theta, *arrays)
    with dask.config.set(scheduler=scheduler):
        value, grad = objective.value_and_grad(theta, *_dask(arrays))
        hess = objective.hessian(theta, *_dask(arrays))
    _close(value, ref_value)
    _close(grad, ref_grad)
    _close(hess, objective.hessian(theta, *arrays))


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_curve_fit_on_local_schedulers(scheduler):
    # columns, a frame, and y or sigma alone as Dask columns (each used to fail: a least-squares
    # kernel was keyed by an attribute only the loss kernels have)
    scipy_optimize = pytest.importorskip("scipy.optimize")
    a, k, t = sp.symbols("a k t")
    ts = np.linspace(0.0, 5.0, 5003)
    ys = 2.5 * np.exp(-0.7 * ts) + 0.01 * np.sin(40 * ts)
    ss = np.full(ts.size, 0.1)
    popt, pcov = scipy_optimize.curve_fit(lambda q, p0, p1: p0 * np.exp(-p1 * q), ts, ys, p0=[1.0, 1.0], sigma=ss)
    ref = sg.curve_fit(a * sp.exp(-k * t), {t: ts}, ys, sigma=ss, p0={a: 1.0, k: 1.0})
    T, Y, S = (da.from_array(v, chunks=((1000, 2000, 2003),)) for v in (ts, ys, ss))
    frame = dd.from_pandas(pd.DataFrame({"t": ts, "y": ys, "s": ss}), npartitions=3)
    with dask.config.set(scheduler=scheduler):
        fits = [
            sg.curve_fit(a * sp.exp(-k * t), {"t": T}, Y, sigma=S, p0={a: 1.0, k: 1.0}),
            sg.curve_fit(a * sp.exp(-k * t), frame, "y", sigma="s", p0={a: 1.0, k: 1.0}),
            sg.curve_fit(a * sp.exp(-k * t), {t: ts}, Y, sigma=ss, p0={a: 1.0, k: 1.0}),
            sg.curve_fit(a * sp.exp(-k * t), {t: ts}, ys, sigma=S, p0={a: 1.0, k: 1.0}),
        ]
    for got in fits:
        assert got.success
        np.testing.assert_allclose(got.x, popt, rtol=1e-7)
        np.testing.assert_allclose(got.covariance, pcov, rtol=1e-5)
        _close(got.x, ref.x)
        _close(got.covariance, ref.covariance, rtol=1e-10)


def test_curve_fit_names_a_column_of_unknown_length():
    a, k, t = sp.symbols("a k t")
    ts = da.from_array(np.linspace(0.0, 5.0, 5003), chunks=1000)
    ys = da.from_array(np.exp(-0.7 * np.linspace(0.0, 5.0, 5003)), chunks=1000)
    mask = ts > 1  # boolean masking leaves the chunk sizes unknown
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(InputError, match=r"data column 't' has an unknown length .*compute_chunk_sizes"):
            sg.curve_fit(a * sp.exp(-k * t), {"t": ts[mask]}, ys[mask], p0={a: 1.0, k: 1.0})
        with pytest.raises(InputError, match=r"^y has an unknown length"):
            sg.curve_fit(a * sp.exp(-k * t), {"t": ts}, ys[mask], p0={a: 1.0, k: 1.0})


def test_cluster_matches_in_memory_and_runs_on_workers(client, objective, arrays):
    theta = [0.7, -0.2]
    cols = _dask(arrays)
    _close(objective.value(theta, *cols), objective.value(theta, *arrays))
    _close(objective.grad(theta, *cols), objective.grad(theta, *arrays))
    _close(objective.hessian(theta, *cols), objective.hessian(theta, *arrays))
    loaded = client.run(lambda: sum(name.startswith("symgrad_kernel_") for name in sys.modules))
    assert len(loaded) == 2 and all(count > 0 for count in loaded.values())
    assert all(pid != os.getpid() for pid in client.run(os.getpid).values())


def test_dataframe_columns_by_name(client, objective, arrays):
    frame = pd.DataFrame({"y": arrays[1], "other": 1.0, "x": arrays[0]})
    ddf = dd.from_pandas(frame, npartitions=5)
    ref = objective.value_and_grad([0.3, 0.4], *arrays)
    got = objective.value_and_grad([0.3, 0.4], ddf)
    _close(got[0], ref[0])
    _close(got[1], ref[1])
    with pytest.raises(InputError, match=r"no column named y .*its columns: x, z"):
        objective.value([0.3, 0.4], dd.from_pandas(pd.DataFrame({"x": arrays[0], "z": 1.0}), npartitions=2))


def test_fit_on_a_frame_sends_each_task_in_one_form(client, objective, arrays, caplog):
    # the start-up guard read its sample rows as column[rows], which sent the frame's column
    # tasks again in another form: the scheduler then warned of "failures and deadlocks"
    frame = dd.from_pandas(pd.DataFrame({"x": arrays[0], "y": arrays[1]}), npartitions=3)
    ref = sg.fit(objective, list(arrays), x0=[0.1, 0.2], epochs=2)
    with caplog.at_level("WARNING", logger="distributed.scheduler"):
        got = sg.fit(objective, frame, x0=[0.1, 0.2], epochs=2)
        sg.fit(objective, frame, x0=[0.1, 0.2], epochs=1, batch_size=500, seed=1)
    assert "run_spec" not in caplog.text
    _close(got.x, ref.x)


def test_fit_full_batch_and_mini_batches(client, objective, arrays, tmp_path, monkeypatch):
    import symgrad._chunked as chunked

    opt = sg.optim.GradientDescent(0.05)
    ref = sg.fit(objective, list(arrays), x0=[0.0, 0.0], optimizer=opt, epochs=10)
    got = sg.fit(objective, list(_dask(arrays)), x0=[0.0, 0.0], optimizer=opt, epochs=10)
    _close(got.x, ref.x)
    _close(got.history, ref.history)
    # mini-batches: the same stream as memory maps cut into the same chunks
    monkeypatch.setattr(chunked, "MEMMAP_CHUNK", CHUNK)
    np.save(tmp_path / "x.npy", arrays[0])
    np.save(tmp_path / "y.npy", arrays[1])
    maps = [np.load(tmp_path / "x.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")]
    kwargs = dict(x0=[0.0, 0.0], optimizer=sg.optim.Adam(0.05), epochs=2, batch_size=500, seed=3)
    streamed = sg.fit(objective, list(_dask(arrays)), **kwargs)
    mapped = sg.fit(objective, maps, **kwargs)
    _close(streamed.x, mapped.x)
    _close(streamed.loss, mapped.loss)


def test_curve_fit_on_cluster(client, arrays):
    a, c = sp.symbols("a c")
    sigma = np.full(N, 0.3)
    ref = sg.curve_fit(a * x + c, {x: arrays[0]}, arrays[1], sigma=sigma, p0={a: 1.0, c: 0.0})
    frame = dd.from_pandas(pd.DataFrame({"x": arrays[0], "y": arrays[1], "s": sigma}), npartitions=4)
    got = sg.curve_fit(a * x + c, frame, "y", sigma="s", p0={a: 1.0, c: 0.0})
    _close(got.x, ref.x)
    _close(got.chisqr, ref.chisqr)
    _close([got.stderr[a], got.stderr[c]], [ref.stderr[a], ref.stderr[c]], rtol=1e-10)


def test_bad_chunks_name_column_and_row(client, objective, arrays):
    bad = arrays[1].copy()
    bad[13_000] = np.inf
    with pytest.raises(InputError, match=r"data column y holds inf at row 13000"):
        objective.value([0.1, 0.1], *_dask((arrays[0], bad)))
    with pytest.raises(InputError, match=r"chunked differently \(x: \(4096, 4096"):
        objective.value([0.1, 0.1], da.from_array(arrays[0], chunks=4096), da.from_array(arrays[1], chunks=5000))
    with pytest.raises(InputError, match=r"same length; got x: 20000, y: 19999"):
        objective.value([0.1, 0.1], da.from_array(arrays[0], chunks=4096), da.from_array(arrays[1][1:], chunks=4096))


def test_dead_worker_is_reported(client, objective, arrays):
    # a chunk whose computation kills its worker process
    dying = da.from_delayed(dask.delayed(os._exit)(1), shape=(N,), dtype=np.float64)
    with pytest.raises(ClusterError, match=r"a Dask worker died .*KilledWorker"):
        objective.value([0.1, 0.1], da.from_array(arrays[0], chunks=N), dying)
    client.wait_for_workers(2, timeout=60)
