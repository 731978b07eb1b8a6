"""Data beyond memory and beyond one process: memory maps and Dask (docs/large_data.md).

Three measurements, on the objective ``(w x + b - y)^2`` (two parameters, two columns):

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
   (the file in the system's cache; median of 7).

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


def _noop(k):
    return k


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
            if how is not None:  # Dask's own cost of one no-op task per chunk, for scale
                floor = []
                for count in chunk_counts:
                    with dask.config.set(scheduler="threads" if how == "threads" else None):
                        tasks = [dask.delayed(_noop, pure=False)(k) for k in range(count)]
                        dask.compute(*tasks)
                        floor.append(median_time(lambda: dask.compute(*[dask.delayed(_noop, pure=False)(k)
                                                                        for k in range(count)]), repeats))
                print(f"  {label}, Dask alone (no-op tasks): "
                      + ", ".join(f"{c} tasks {t * 1e3:.2f} ms" for c, t in zip(chunk_counts, floor)))
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


def ratio(rows_list=(10**6, 10**7), repeats=7):
    obj = objective()
    out = {}
    for rows in rows_list:
        xs, ys = data(rows)
        with tempfile.TemporaryDirectory() as folder:
            np.save(Path(folder) / "x.npy", xs)
            np.save(Path(folder) / "y.npy", ys)
            maps = [np.load(Path(folder) / f"{c}.npy", mmap_mode="r") for c in "xy"]
            obj.value_and_grad(THETA, *maps)
            obj.value_and_grad(THETA, xs, ys)
            t_map = median_time(lambda: obj.value_and_grad(THETA, *maps), repeats)
            t_mem = median_time(lambda: obj.value_and_grad(THETA, xs, ys), repeats)
            del maps
        out[rows] = (t_mem, t_map)
        print(f"{rows:,} rows: in memory {t_mem * 1e3:.2f} ms, memory map {t_map * 1e3:.2f} ms, "
              f"ratio {t_map / t_mem:.2f}")
    return out


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
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average at start: {os.getloadavg()[0]:.1f}")
    overheads()
    ratio()
    if not args.skip_fit:
        memmap_fit(args.rows)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
