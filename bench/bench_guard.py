"""Cost of the start-up gradient guard of ``sg.fit`` / ``sg.minimize`` (``check=True``).

For each workload: the median wall time of the whole default fit with ``check=True``
and with ``check=False`` (kernels compiled beforehand, so compile time is apart); the
guard alone, first for a new expression (its tape built, then replayed) and then for
one seen before (the built tape reused); the guard's share of the default fit; and,
for comparison, the engine's per-node tape (``Tensor``) on the same samples, which
the guard used before; and the cost inside the fit, from fits with and without the
guard run in turn (CPU time of the calling thread), with the workload's settings and with
``sg.fit``'s defaults (100 full-batch epochs). Times are medians of wall time; the CPU time of this process
(all threads) is printed beside them, as it varies less on a loaded machine.

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
from symgrad.autograd._sympy import tape_value_and_grad
from symgrad.check import _guard
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


def least_squares():
    a, b, c, x = sp.symbols("a b c x")
    rng = np.random.default_rng(0)
    xs = rng.uniform(0, 10, 10_000)
    ys = 3 * (1 - np.exp(-0.4 * xs)) + 0.2 * np.sin(xs) + rng.normal(0, 0.05, xs.size)
    model = a * (1 - sp.exp(-b * x)) + c * sp.sin(x)
    return "curve_fit a(1 - exp(-bx)) + c sin x, N=1e4", model, {x: xs}, ys, {a: 1.0, b: 1.0, c: 0.0}


def least_squares_row(repeats):
    from symgrad._ls_kernels import guard_least_squares
    from symgrad.optimize._curve_fit import CompiledFit
    from symgrad.optimize._fit_inputs import fit_spec

    name, model, data, ys, p0 = least_squares()
    problem = CompiledFit(fit_spec(model, data, ys, p0=p0))
    compiled, columns, index, _ = problem.parts[0]

    def guard():
        guard_least_squares(compiled, problem.theta0[index], columns, caller="curve_fit")

    sg.curve_fit(model, data, ys, p0=p0)  # compile apart
    on = median_time(lambda: sg.curve_fit(model, data, ys, p0=p0), repeats)
    off = median_time(lambda: sg.curve_fit(model, data, ys, p0=p0, check=False), repeats)
    first = median_time(guard, repeats, _guard._PROGRAMS.clear)
    return name, [("curve_fit, check=True", on), ("curve_fit, check=False", off), ("guard, new expression", first)]


def in_situ(obj, fit, pairs, before):
    """Thread CPU seconds of ``fit(check=True)`` and ``fit(check=False)`` run in turn, and of
    the guard timed inside the first (its caches as the fit leaves them): three medians."""
    on, off, inside = [], [], []
    guard = obj.guard

    def timed_guard(*args, **kwargs):
        t = time.thread_time()
        try:
            return guard(*args, **kwargs)
        finally:
            inside.append(time.thread_time() - t)

    obj.guard = timed_guard
    try:
        for _ in range(pairs):
            before()
            t = time.thread_time()
            fit(check=True)
            on.append(time.thread_time() - t)
            t = time.thread_time()
            fit(check=False)
            off.append(time.thread_time() - t)
    finally:
        del obj.guard  # the method again
    return statistics.median(on), statistics.median(off), statistics.median(inside)


def median_time(fn, repeats, before=None):
    """Medians of ``(wall, cpu)`` seconds of ``fn()``; ``before()`` runs untimed ahead of each call."""
    walls, cpus = [], []
    for _ in range(repeats):
        if before is not None:
            before()
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    new_expression = _guard._PROGRAMS.clear
    print("wall ms (cpu ms); share = guard / fit with check=False")
    for make in (logistic, network):
        name, obj, cols, x0, kw = make()
        data = obj.prepare(*cols)
        obj.batch_value_and_grad(x0, data, np.arange(5, dtype=np.int64))  # compile apart
        guard_gradient(obj, x0, data, cols, caller="fit")  # and the autograd warm-up
        idx, picked = _guard._samples(cols)
        on = median_time(lambda: sg.fit(obj, cols, x0=x0, seed=0, **kw), repeats, new_expression)
        off = median_time(lambda: sg.fit(obj, cols, x0=x0, seed=0, check=False, **kw), repeats)
        first = median_time(lambda: guard_gradient(obj, x0, data, cols, caller="fit"), repeats, new_expression)
        again = median_time(lambda: guard_gradient(obj, x0, data, cols, caller="fit"), repeats)
        tape = median_time(lambda: tape_value_and_grad(obj.expr, obj.params, x0, None, dict(zip(obj.data, picked))),
                           repeats)
        for label, settings, pairs in (("the fit above", kw, 3 * repeats),
                                       ("sg.fit's defaults (100 full-batch epochs)", {}, 2 * repeats)):
            with_guard, without, inside = in_situ(obj, lambda **c: sg.fit(obj, cols, x0=x0, seed=0, **settings, **c),
                                                  pairs, new_expression)
            print(f"{name}, {label}: {pairs} fits in turn, thread CPU medians: check=True {with_guard * 1e3:.1f} ms, "
                  f"check=False {without * 1e3:.1f} ms ({with_guard / without - 1:+.1%}); the guard timed "
                  f"inside the fit {inside * 1e3:.1f} ms ({inside / without:.1%})")
        rows = [("fit, check=True (new expression)", on), ("fit, check=False", off),
                ("guard, new expression", first), ("guard, expression seen before", again),
                ("per-node tape on the same samples (before)", tape)]
        show(name, rows, off)
    name, rows = least_squares_row(repeats)
    show(name, rows, rows[1][1])


def show(name, rows, off):
    print(name)
    for label, (wall, cpu) in rows:
        share = f"{wall / off[0]:6.1%} ({cpu / off[1]:6.1%})" if label.startswith(("guard", "per")) else ""
        print(f"  {label:44} {wall * 1e3:9.1f} ({cpu * 1e3:8.1f}) {share}")


if __name__ == "__main__":
    main()
