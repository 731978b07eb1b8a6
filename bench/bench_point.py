"""Calls at a point: symgrad's validating calls against hand-written ``@njit`` functions.

Each workload is timed as rounds of many calls; the candidates take turns within a
round (so that a change of load on the machine hits them alike), and each one's median
over the rounds is printed with its ratio to the hand-written function that returns
the same things (a float array, or a float and an array). The hand-written function
returning a bare tuple is shown too: it is the cheapest thing Numba can return.

    python bench/bench_point.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np
import sympy as sp

import symgrad as sg
from bench_core import hand_rosen as rosenbrock_value_and_grad
from bench_core import hand_xy as xy_tuple


@numba.njit(cache=False)
def xy_array(x, y):
    s = np.sin(y)
    out = np.empty(3)
    out[0] = x * x * s
    out[1] = 2.0 * x * s
    out[2] = x * x * np.cos(y)
    return out


@numba.njit(cache=False)
def xy_value_and_grad(theta):
    x, y = theta[0], theta[1]
    s = np.sin(y)
    g = np.empty(2)
    g[0] = 2.0 * x * s
    g[1] = x * x * np.cos(y)
    return x * x * s, g


def medians(candidates, rounds, seconds=0.02):
    """Median seconds per call of each ``name -> fn``; the candidates take turns in every round."""
    numbers = {}
    for name, fn in candidates.items():
        fn()
        start = time.perf_counter()
        fn()
        numbers[name] = max(1, int(seconds / max(time.perf_counter() - start, 1e-7)))
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(numbers[name]):
                fn()
            times[name].append((time.perf_counter() - start) / numbers[name])
    return {name: statistics.median(t) for name, t in times.items()}


def show(title, results, reference):
    print(title)
    for name, t in results.items():
        print(f"  {name:52} {t * 1e9:8.0f} ns  {t / results[reference]:5.2f}x")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds

    x, y = sp.symbols("x y")
    f = x**2 * sp.sin(y)
    kernel = sg.compile([f, *sg.gradient(f, [x, y])], [x, y])
    obj = sg.Objective(f, [x, y])
    point = np.array([1.3, 0.7])
    np.testing.assert_allclose(kernel(1.3, 0.7), xy_array(1.3, 0.7), rtol=1e-14)
    np.testing.assert_allclose(obj.value_and_grad(point)[1], xy_value_and_grad(point)[1], rtol=1e-14)
    results = medians({
        "hand @njit, floats -> array (3,)": lambda: xy_array(1.3, 0.7),
        "symgrad Kernel(1.3, 0.7) -> array (3,)": lambda: kernel(1.3, 0.7),
        "hand @njit, floats -> tuple": lambda: xy_tuple(1.3, 0.7),
        "symgrad Kernel.scalar (the compiled function) -> tuple": lambda: kernel.scalar(1.3, 0.7),
        "hand @njit, theta -> (float, array (2,))": lambda: xy_value_and_grad(point),
        "symgrad Objective.value_and_grad(theta)": lambda: obj.value_and_grad(point),
    }, rounds)
    show("x²·sin(y), value and gradient", {k: results[k] for k in list(results)[:4]},
         "hand @njit, floats -> array (3,)")
    show("", {k: results[k] for k in list(results)[4:]}, "hand @njit, theta -> (float, array (2,))")

    xs = sp.symbols("x0:10")
    rosen = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(9))
    obj = sg.Objective(rosen, xs)
    theta = np.linspace(-1.0, 1.0, 10)
    np.testing.assert_allclose(obj.value_and_grad(theta)[1], rosenbrock_value_and_grad(theta)[1], rtol=1e-12)
    vg, out = obj._vg.point, np.empty(11)
    show("10-D Rosenbrock, value and gradient", medians({
        "hand @njit, theta -> (float, array (10,))": lambda: rosenbrock_value_and_grad(theta),
        "symgrad Objective.value_and_grad(theta)": lambda: obj.value_and_grad(theta),
        "symgrad Objective.batch_value_and_grad(theta)": lambda: obj.batch_value_and_grad(theta),
        "the compiled function alone, vg(theta, out)": lambda: vg(theta, out),
    }, rounds), "hand @njit, theta -> (float, array (10,))")


if __name__ == "__main__":
    main()
