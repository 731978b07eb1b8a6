"""Data beyond memory and beyond one process: memory maps and Dask (docs/large_data.md).

Four measurements, the first three on the objective ``(w x + b - y)^2`` (two parameters,
two columns):

1. Overhead per evaluation of a chunked reduction (``Objective.batch_value_and_grad``
   on prepared chunked data, 10^6 rows) against the kernel alone on the same rows in
   memory: memory maps, Dask arrays with the threaded scheduler, and Dask arrays on a
   local cluster of two worker processes (chunks persisted). Each setting runs with 4,
   16 and 64 chunks; a least-squares line through the overheads gives the fixed cost
   per evaluation and the cost per chunk. Median of 15 evaluations, warm.
2. A memory-mapped fit of 10^8 rows x 2 columns (1.6 GB of float64, written to a
   temporary folder and deleted after): ``sg.fit`` with L-BFGS, full batch, in a fresh
   process that reports its peak memory: the largest resident set (``VmHWM``), the
   largest anonymous (non-file) resident memory sampled every 10 ms, and
   ``tracemalloc``'s peak of allocations.
3. The ratio of a memory-mapped evaluation to the in-memory one at 10^6 and 10^7 rows
   (the file in the system's cache; runs interleaved, median of 15, wall and CPU time),
   reading views of the caller's map and, as for files larger than
   ``OWN_MAPPING_FROM``, a mapping of each slice.
4. The peer: logistic regression on the same Dask arrays (10^6 rows, 16 chunks,
   threaded scheduler), symgrad's L-BFGS against dask-glm's (``pip install dask-glm``),
   seconds per evaluation and per iteration.

Run: ``python bench/bench_large_data.py`` (``--rows 10000000`` for a smaller fit).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sympy as sp

import symgrad as sg

W, B, X, Y = sp.symbols("w b x y")
THETA = np.array([2.9, 2.1])


def objective():
    return sg.Objective((W * X + B - Y) ** 2, [W, B], data=[X, Y])


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(0, 10, n)
    return xs, 3 * xs + 2 + rng.normal(0, 0.5, n)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _noop(*chunks):
    return np.zeros(3)


def _bare_reduction(xs, ys, count, how, client):
    """Dask's own floor: the columns' chunks and one no-op task per chunk, one fixed graph, run each call."""
    import dask
    import dask.array as da
    import dask.threaded

    size = -(-len(xs) // count)
    if how == "cluster":  # as symgrad's evaluations there: a map over the chunks persisted on the workers
        parts = client.scatter([(xs[a:a + size], ys[a:a + size]) for a in range(0, len(xs), size)])
        return lambda: client.gather(client.map(_noop, parts, pure=False))
    cols = dask.optimize(*(da.from_array(c, chunks=size) for c in (xs, ys)))
    graph = {}
    for c in cols:
        graph.update(c.__dask_graph__())
    keys = [("bare", k) for k in range(count)]
    chunk_keys = [c.__dask_keys__() for c in cols]
    graph.update({key: (_noop, *(c[k] for c in chunk_keys)) for k, key in enumerate(keys)})
    return lambda: dask.threaded.get(graph, keys)


def overheads(rows=10**6, chunk_counts=(4, 16, 64), repeats=15):
    import dask
    import dask.array as da
    import distributed

    import symgrad._chunked as chunked

    obj = objective()
    xs, ys = data(rows)
    mem = obj.prepare(xs, ys, rows=False)
    obj.batch_value_and_grad(THETA, mem)
    kernel = median_time(lambda: obj.batch_value_and_grad(THETA, mem), repeats)
    print(f"kernel alone, {rows:,} rows in memory: {kernel * 1e3:.2f} ms per evaluation")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "x.npy", xs)
        np.save(Path(folder) / "y.npy", ys)
        maps = [np.load(Path(folder) / f"{c}.npy", mmap_mode="r") for c in "xy"]
        settings = {"memory map": None, "dask threads": "threads", "dask 2-worker cluster": "cluster"}
        cluster = client = None
        for label, how in settings.items():
            if how == "cluster":
                cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                                   dashboard_address=None, silence_logs=40)
                client = distributed.Client(cluster)
            times = []
            for count in chunk_counts:
                size = -(-rows // count)
                if how is None:
                    chunked.MEMMAP_CHUNK = size
                    prepared = obj.prepare(*maps)
                else:
                    cols = [da.from_array(c, chunks=size) for c in (xs, ys)]
                    with dask.config.set(scheduler="threads" if how == "threads" else None):
                        prepared = obj.prepare(*cols)  # persisted on the cluster
                with dask.config.set(scheduler="threads" if how == "threads" else None):
                    obj.batch_value_and_grad(THETA, prepared)
                    times.append(median_time(lambda: obj.batch_value_and_grad(THETA, prepared), repeats))
            if how is not None:  # Dask's own cost for the same graph with a no-op per chunk, for scale
                floor = [median_time(_bare_reduction(xs, ys, count, how, client), repeats) for count in chunk_counts]
                print(f"  {label}, Dask alone (the same graph, a no-op task per chunk): "
                      + ", ".join(f"{c} chunks {t * 1e3:.2f} ms" for c, t in zip(chunk_counts, floor)))
                slope_f, fixed_f = np.polyfit(np.array(chunk_counts, dtype=float), floor, 1)
                print(f"  Dask alone: {fixed_f * 1e3:.2f} ms + {slope_f * 1e3:.3f} ms per chunk")
            over = np.array(times) - kernel
            slope, fixed = np.polyfit(np.array(chunk_counts, dtype=float), over, 1)
            shown = ", ".join(f"{c} chunks {t * 1e3:.2f} ms" for c, t in zip(chunk_counts, times))
            print(f"{label}: {shown}; overhead {fixed * 1e3:.2f} ms + {slope * 1e3:.3f} ms per chunk")
            results[label] = (times, fixed, slope)
        chunked.MEMMAP_CHUNK = 1 << 20
        if client is not None:
            client.close()
            cluster.close()
    return kernel, results


def ratio(rows_list=(10**6, 10**7), repeats=15):
    """Memory map against in memory, one evaluation: interleaved runs, medians of wall and CPU time.

    Two ways of reading the map: views of the caller's mapping (files up to
    ``OWN_MAPPING_FROM`` bytes per column, so these sizes) and a mapping of each slice
    alone (larger files; forced here by setting ``OWN_MAPPING_FROM`` to 0).
    """
    import symgrad._chunked as chunked

    obj = objective()
    out = {}
    own_from = chunked.OWN_MAPPING_FROM

    def slices(maps):
        chunked.OWN_MAPPING_FROM = 0
        try:
            obj.value_and_grad(THETA, *maps)
        finally:
            chunked.OWN_MAPPING_FROM = own_from

    for rows in rows_list:
        xs, ys = data(rows)
        with tempfile.TemporaryDirectory() as folder:
            np.save(Path(folder) / "x.npy", xs)
            np.save(Path(folder) / "y.npy", ys)
            maps = [np.load(Path(folder) / f"{c}.npy", mmap_mode="r") for c in "xy"]
            runs = {"in memory": lambda: obj.value_and_grad(THETA, xs, ys),
                    "memory map": lambda: obj.value_and_grad(THETA, *maps),
                    "a mapping per slice": lambda: slices(maps)}
            wall, cpu = {k: [] for k in runs}, {k: [] for k in runs}
            for run in runs.values():
                run()
            for _ in range(repeats):
                for k, run in runs.items():
                    start, start_cpu = time.perf_counter(), time.process_time()
                    run()
                    wall[k].append(time.perf_counter() - start)
                    cpu[k].append(time.process_time() - start_cpu)
            del maps, runs
        med = {k: (float(np.median(wall[k])), float(np.median(cpu[k]))) for k in wall}
        out[rows] = med
        base_wall, base_cpu = med["in memory"]
        shown = "; ".join(f"{k} {w * 1e3:.2f} ms (CPU {c * 1e3:.2f} ms)" for k, (w, c) in med.items())
        ratios = ", ".join(f"{k} {w / base_wall:.2f}x (CPU {c / base_cpu:.2f}x)"
                           for k, (w, c) in med.items() if k != "in memory")
        print(f"{rows:,} rows: {shown}; against in memory: {ratios}")
    return out


def peer(rows=10**6, chunks=16):
    """Logistic regression on the same Dask arrays: symgrad's L-BFGS against dask-glm's, threaded scheduler.

    Two features and an intercept; seconds per evaluation of the loss and gradient,
    and per L-BFGS iteration (a fit's time over its iterations).
    """
    import dask
    import dask.array as da

    try:
        import dask_glm.algorithms as glm
        import dask_glm.families as families
    except ImportError as exc:
        print(f"dask-glm: not installed ({exc}); pip install dask-glm")
        glm = None
    rng = np.random.default_rng(1)
    features = rng.normal(size=(rows, 2))
    z = 1.5 * features[:, 0] - 2.0 * features[:, 1] + 0.5
    labels = (rng.uniform(size=rows) < 1 / (1 + np.exp(-z))).astype(np.float64)
    size = -(-rows // chunks)
    x1, x2, yl, w1, w2, c = sp.symbols("x1 x2 y w1 w2 c")
    t = w1 * x1 + w2 * x2 + c
    obj = sg.Objective(sp.log(1 + sp.exp(t)) - yl * t, [w1, w2, c], data=[x1, x2, yl])
    cols = [da.from_array(np.ascontiguousarray(v), chunks=size) for v in (features[:, 0], features[:, 1], labels)]
    with dask.config.set(scheduler="threads"):
        prepared = obj.prepare(*cols)
        obj.batch_value_and_grad(np.zeros(3), prepared)
        per_eval = median_time(lambda: obj.batch_value_and_grad(np.zeros(3), prepared), 9)
        sg.fit(obj, cols, x0=[0.0, 0.0, 0.0], optimizer=sg.optim.LBFGS(), epochs=1)  # compiles the rest
        start = time.perf_counter()
        result = sg.fit(obj, cols, x0=[0.0, 0.0, 0.0], optimizer=sg.optim.LBFGS(), epochs=100, tol=1e-8)
        elapsed = time.perf_counter() - start
    print(f"symgrad L-BFGS, {rows:,} rows in {chunks} Dask chunks (threads): {per_eval * 1e3:.1f} ms per evaluation; "
          f"fit {elapsed:.2f} s, {result.steps} iterations, {elapsed / max(result.steps, 1) * 1e3:.1f} ms per iteration; "
          f"w = {np.round(result.x, 4).tolist()}")
    if glm is None:
        return
    design = da.from_array(np.column_stack([features, np.ones(rows)]), chunks=(size, 3))
    labels_d = da.from_array(labels, chunks=size)
    info = {}
    solver = glm.fmin_l_bfgs_b

    def counted(*args, **kwargs):  # dask-glm calls SciPy's L-BFGS-B; its info holds the counts
        out = solver(*args, **kwargs)
        info.update(out[2])
        return out

    glm.fmin_l_bfgs_b = counted
    try:
        with dask.config.set(scheduler="threads"):
            start = time.perf_counter()
            beta = glm.lbfgs(design, labels_d, family=families.Logistic, max_iter=100, tol=1e-8)
            elapsed = time.perf_counter() - start
    finally:
        glm.fmin_l_bfgs_b = solver
    nit, calls = info.get("nit", 0), info.get("funcalls", 0)
    print(f"dask-glm L-BFGS, the same data and chunks: fit {elapsed:.2f} s, {nit} iterations, {calls} evaluations, "
          f"{elapsed / max(calls, 1) * 1e3:.1f} ms per evaluation, {elapsed / max(nit, 1) * 1e3:.1f} ms per iteration; "
          f"w = {np.round(np.asarray(beta), 4).tolist()}")


_FIT = r'''
import sys, threading, time, tracemalloc
import numpy as np, sympy as sp, symgrad as sg

def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0

peak = [0]
done = threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], anon())
        time.sleep(0.01)

folder = sys.argv[1]
W, B, X, Y = sp.symbols("w b x y")
obj = sg.Objective((W * X + B - Y) ** 2, [W, B], data=[X, Y])
obj.value_and_grad([0.0, 0.0], np.ones(4), np.ones(4))  # compile before measuring
maps = [np.load(f"{folder}/{c}.npy", mmap_mode="r") for c in "xy"]
base = anon()
threading.Thread(target=sample, daemon=True).start()
tracemalloc.start()
start = time.perf_counter()
result = sg.fit(obj, maps, x0=[0.0, 0.0], optimizer=sg.optim.LBFGS(), epochs=30, tol=1e-9)
elapsed = time.perf_counter() - start
traced = tracemalloc.get_traced_memory()[1]
done.set()
hwm = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
times = []
for _ in range(3):
    start = time.perf_counter()
    obj.value_and_grad(result.x, *maps)
    times.append(time.perf_counter() - start)
print(f"one evaluation (loss and gradient) over the memory maps: {sorted(times)[1]:.2f} s")
print(f"fit: {result.steps} L-BFGS steps in {elapsed:.1f} s, w = {result.x[0]:.6f}, b = {result.x[1]:.6f}; "
      f"{result.message}")
print(f"peak resident {hwm / 2**20:.0f} MB; anonymous {base / 2**20:.0f} MB before the fit, peak "
      f"{peak[0] / 2**20:.0f} MB; tracemalloc peak {traced / 2**20:.1f} MB")
'''


def memmap_fit(rows):
    piece = 10**7
    with tempfile.TemporaryDirectory() as folder:
        files = [np.lib.format.open_memmap(Path(folder) / f"{c}.npy", mode="w+", dtype=np.float64, shape=(rows,))
                 for c in "xy"]
        for k, a in enumerate(range(0, rows, piece)):
            xs, ys = data(min(piece, rows - a), seed=k)
            files[0][a:a + len(xs)] = xs
            files[1][a:a + len(xs)] = ys
        for f in files:
            f.flush()
        del files
        size = sum(os.path.getsize(Path(folder) / f"{c}.npy") for c in "xy")
        print(f"memory-mapped fit of {rows:,} rows x 2 columns ({size / 2**30:.2f} GiB of files)")
        out = subprocess.run([sys.executable, "-c", _FIT, folder], capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr[-2000:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10**8, help="rows of the memory-mapped fit")
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--only", choices=["overheads", "ratio", "peer", "fit"], help="run one measurement")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average at start: {os.getloadavg()[0]:.1f}")
    runs = {"overheads": overheads, "ratio": ratio, "peer": peer, "fit": lambda: memmap_fit(args.rows)}
    for name, run in runs.items():
        if args.only == name or (args.only is None and not (name == "fit" and args.skip_fit)):
            run()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
