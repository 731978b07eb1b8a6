"""Cost of the start-up gradient guard of ``sg.fit`` / ``sg.minimize`` (``check=True``).

For each workload: the median wall time of the whole default fit with ``check=True``
and with ``check=False`` (kernels compiled beforehand, so compile time is apart), the
time of one guard call alone, and the guard's share of the default fit.

    python bench/bench_guard.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.check._guard import guard_gradient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def logistic():
    ws = sp.symbols("w0:10")
    xs = sp.symbols("x0:10")
    b, t = sp.symbols("b t")
    z = sum(w * x for w, x in zip(ws, xs)) + b
    obj = sg.Objective(sg.losses.binary_cross_entropy_with_logits(z, t), list(ws) + [b], list(xs) + [t])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100_000, 10))
    y = (rng.random(100_000) < 1 / (1 + np.exp(-x.sum(axis=1)))).astype(float)
    cols = [x[:, i].copy() for i in range(10)] + [y]
    return "logistic d=10, N=1e5, Adam batch 256, 5 epochs", obj, cols, np.zeros(11), dict(epochs=5, batch_size=256)


def network():
    import symbolic_network as example

    loss, params, pixels, onehot = example.network()
    obj = sg.Objective(loss, params, pixels + onehot)
    rng = np.random.default_rng(0)
    prototypes = (rng.random((10, 64)) < 0.3).astype(float)
    images, labels = example.make_images(3000, prototypes, rng)
    cols = [images[:, i].copy() for i in range(64)] + [(labels == k).astype(float) for k in range(10)]
    x0 = np.concatenate([rng.normal(size=32 * 64) / 8, np.zeros(32), rng.normal(size=320) / np.sqrt(32), np.zeros(10)])
    return "64-32-10 ReLU net, N=3000, Adam batch 64, 15 epochs", obj, cols, x0, dict(epochs=15, batch_size=64)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    print(f"{'workload':55} {'fit, check':>11} {'fit, no check':>14} {'guard':>9} {'share':>7}")
    for make in (logistic, network):
        name, obj, cols, x0, kw = make()
        data = obj.prepare(*cols)
        obj.batch_value_and_grad(x0, data, np.arange(5, dtype=np.int64))  # compile apart
        guard_gradient(obj, x0, data, cols, caller="fit")  # and the autograd warm-up
        on = median_time(lambda: sg.fit(obj, cols, x0=x0, seed=0, **kw), repeats)
        off = median_time(lambda: sg.fit(obj, cols, x0=x0, seed=0, check=False, **kw), repeats)
        guard = median_time(lambda: guard_gradient(obj, x0, data, cols, caller="fit"), repeats)
        print(f"{name:55} {on:10.3f}s {off:13.3f}s {guard * 1e3:7.1f}ms {guard / on:7.1%}")


if __name__ == "__main__":
    main()
