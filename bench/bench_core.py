"""Core engine benchmark: symgrad against lambdify, hand-written Numba and NumPy.

Run: python bench/bench_core.py [--quick]

All timings of one table are taken in this one process and run, as medians of
repeats; compile time is reported apart from run time (warm calls only). Ratios
are symgrad's time divided by the reference's (lower is better for symgrad).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numba
import numpy as np
import sympy as sp

import symgrad as sg


def median_time(f, repeat=7, number=None):
    """Median seconds per call over ``repeat`` rounds of ``number`` calls."""
    if number is None:
        t = time.perf_counter()
        f()
        one = max(time.perf_counter() - t, 1e-7)
        number = max(1, int(0.05 / one))
    rounds = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            f()
        rounds.append((time.perf_counter() - t) / number)
    return statistics.median(rounds)


def fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


# -- 1. value + gradient at a point ------------------------------------------------
@numba.njit(cache=False)
def hand_xy(x, y):
    s = np.sin(y)
    return x * x * s, 2.0 * x * s, x * x * np.cos(y)


@numba.njit(cache=False)
def hand_rosen(theta):
    n = theta.shape[0]
    g = np.zeros(n)
    f = 0.0
    for i in range(n - 1):
        a = theta[i + 1] - theta[i] * theta[i]
        b = 1.0 - theta[i]
        f += 100.0 * a * a + b * b
        g[i] += -400.0 * theta[i] * a - 2.0 * b
        g[i + 1] += 200.0 * a
    return f, g


def bench_point(rows):
    x, y = sp.symbols("x y")
    f = x**2 * sp.sin(y)
    exprs = [f, *sg.gradient(f, [x, y])]
    k = sg.compile(exprs, [x, y])
    lam = sp.lambdify([x, y], exprs, modules="math")
    k.scalar(1.0, 2.0), k(1.0, 2.0), hand_xy(1.0, 2.0)
    t_hand = median_time(lambda: hand_xy(1.3, 0.7))
    t_raw = median_time(lambda: k.scalar(1.3, 0.7))
    t_kernel = median_time(lambda: k(1.3, 0.7))
    t_lam = median_time(lambda: lam(1.3, 0.7))
    rows.append(("x²·sin(y) value+grad", "hand @njit", t_hand, None))
    rows.append(("", "symgrad Kernel.scalar (compiled function)", t_raw, t_raw / t_hand))
    rows.append(("", "symgrad Kernel(...) (validating wrapper)", t_kernel, t_kernel / t_hand))
    rows.append(("", "sympy.lambdify(math)", t_lam, t_lam / t_hand))

    xs = sp.symbols("x0:10")
    rosen = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(9))
    obj = sg.Objective(rosen, xs)
    theta = np.linspace(-1, 1, 10)
    lam_r = sp.lambdify([xs], [rosen, *sg.gradient(rosen, xs)], modules="math")
    out = np.empty(11)
    vg = obj._vg.point
    obj.batch_value_and_grad(theta), hand_rosen(theta), vg(theta, out)
    np.testing.assert_allclose(obj.value_and_grad(theta)[1], hand_rosen(theta)[1], rtol=1e-12)
    t_hand = median_time(lambda: hand_rosen(theta))
    t_raw = median_time(lambda: vg(theta, out))
    t_batch = median_time(lambda: obj.batch_value_and_grad(theta))
    t_obj = median_time(lambda: obj.value_and_grad(theta))
    t_lam = median_time(lambda: lam_r(theta))
    rows.append(("10-D Rosenbrock value+grad", "hand @njit", t_hand, None))
    rows.append(("", "symgrad compiled function", t_raw, t_raw / t_hand))
    rows.append(("", "symgrad Objective.batch_value_and_grad", t_batch, t_batch / t_hand))
    rows.append(("", "symgrad Objective.value_and_grad (validating)", t_obj, t_obj / t_hand))
    rows.append(("", "sympy.lambdify(math)", t_lam, t_lam / t_hand))


# -- 2. mean logistic-regression loss + gradient over data -----------------------------
@numba.njit(parallel=True, cache=False, error_model="numpy")
def hand_fused(theta, XT, y):
    """Mean logistic loss and gradient; XT is (10, N), one contiguous row per feature."""
    n = y.shape[0]
    value = 0.0
    g0 = g1 = g2 = g3 = g4 = g5 = g6 = g7 = g8 = g9 = gb = 0.0
    for i in numba.prange(n):
        x0, x1, x2, x3, x4 = XT[0, i], XT[1, i], XT[2, i], XT[3, i], XT[4, i]
        x5, x6, x7, x8, x9 = XT[5, i], XT[6, i], XT[7, i], XT[8, i], XT[9, i]
        z = (theta[0] * x0 + theta[1] * x1 + theta[2] * x2 + theta[3] * x3 + theta[4] * x4
             + theta[5] * x5 + theta[6] * x6 + theta[7] * x7 + theta[8] * x8 + theta[9] * x9 + theta[10])
        e = np.exp(z)
        value += np.log(1.0 + e) - y[i] * z
        r = e / (1.0 + e) - y[i]
        g0 += r * x0
        g1 += r * x1
        g2 += r * x2
        g3 += r * x3
        g4 += r * x4
        g5 += r * x5
        g6 += r * x6
        g7 += r * x7
        g8 += r * x8
        g9 += r * x9
        gb += r
    g = np.array([g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, gb]) / n
    return value / n, g


def numpy_logistic(theta, X, y):
    z = X @ theta[:10] + theta[10]
    e = np.exp(z)
    r = e / (1 + e) - y
    return np.mean(np.log1p(e) - y * z), np.append(X.T @ r, r.sum()) / len(y)


def bench_logistic(rows, n_values):
    ws = sp.symbols("w0:10")
    xs = sp.symbols("x0:10")
    b, y = sp.symbols("b y")
    z = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    obj = sg.Objective(sp.log(1 + sp.exp(z)) - y * z, [*ws, b], data=[*xs, y])
    rng = np.random.default_rng(0)
    theta = rng.normal(scale=0.1, size=11)
    for n in n_values:
        XT = rng.normal(size=(10, n))
        X = np.ascontiguousarray(XT.T)
        Y = (rng.uniform(size=n) < 0.5).astype(float)
        cols = list(XT) + [Y]
        v1, g1 = obj.value_and_grad(theta, *cols)
        v2, g2 = hand_fused(theta, XT, Y)
        np.testing.assert_allclose(g1, g2, rtol=1e-9)
        data = obj.prepare(*cols)
        t_hand = median_time(lambda: hand_fused(theta, XT, Y))
        t_sg = median_time(lambda: obj.value_and_grad(theta, *cols))
        t_batch = median_time(lambda: obj.batch_value_and_grad(theta, data))
        t_np = median_time(lambda: numpy_logistic(theta, X, Y))
        label = f"logistic loss+grad, N={n:,}, 10 features"
        rows.append((label, "hand fused @njit(parallel) loop", t_hand, None))
        rows.append(("", "symgrad Objective.value_and_grad", t_sg, t_sg / t_hand))
        rows.append(("", "symgrad batch_value_and_grad (validated once)", t_batch, t_batch / t_hand))
        rows.append(("", "NumPy by hand", t_np, t_np / t_hand))


# -- 3. derive + compile time, cold and cached --------------------------------------
BUILD = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np, sympy as sp, symgrad as sg
    t1 = time.perf_counter()
    kind, size = sys.argv[1], int(sys.argv[2])
    if kind == "linear":
        ws, xs = sp.symbols(f"w0:{size}"), sp.symbols(f"x0:{size}")
        b, y = sp.symbols("b y")
        expr = (sp.Add(*[w * x for w, x in zip(ws, xs)]) + b - y) ** 2
        params, data = [*ws, b], [*xs, y]
    else:
        xs, params, h = sp.symbols("x0:4"), [], None
        h = list(xs)
        for layer, (m, n) in enumerate([(4, size), (size, size), (size, 1)]):
            W = [[sp.Symbol(f"W{layer}_{j}_{i}") for i in range(m)] for j in range(n)]
            c = [sp.Symbol(f"b{layer}_{j}") for j in range(n)]
            params += [v for row in W for v in row] + c
            pre = [sp.Add(*[W[j][i] * h[i] for i in range(m)], c[j]) for j in range(n)]
            h = [sp.tanh(v) for v in pre] if layer < 2 else pre
        y = sp.Symbol("y")
        expr, data = (h[0] - y) ** 2, [*xs, y]
    t2 = time.perf_counter()
    obj = sg.Objective(expr, params, data=data)
    t3 = time.perf_counter()
    cols = [np.linspace(0, 1, 1000)] * len(data)
    obj.value_and_grad(np.full(len(params), 0.1), *cols)
    t4 = time.perf_counter()
    print(json.dumps({"import": t1 - t0, "build_expr": t2 - t1, "derive": t3 - t2,
                      "first_grad": t4 - t3, "params": len(params),
                      "statements": obj._vg_source.statements, "engine": obj.engine}))
    """
)


def build_times(kind, size, cache):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", BUILD, kind, str(size)], env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


FLOOR = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    t0 = time.perf_counter()
    import floor_module
    floor_module.f(1.0)
    print(time.perf_counter() - t0)
    """
)


def numba_floor(directory):
    """Seconds to the first call of a one-line cached @njit function in a new process."""
    with open(os.path.join(directory, "floor_module.py"), "w") as f:
        f.write("import numba\n\n\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1.0\n")
    code = "import numba\n" + FLOOR  # numba imported before the clock starts
    times = [float(subprocess.run([sys.executable, "-c", code, directory], capture_output=True,
                                  text=True, check=True).stdout) for _ in range(2)]
    return times[1]


def bench_build(cases):
    print("\n## Derive + compile (new process each; seconds)\n")
    print("| model | params | engine | statements | derive+codegen | cold: to first gradient "
          "| cached: to first gradient |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as cache:
        for kind, size in cases:
            cold = build_times(kind, size, cache)
            warm = build_times(kind, size, cache)
            name = f"linear d={size}" if kind == "linear" else f"tanh MLP 4-{size}-{size}-1"
            print(
                f"| {name} | {cold['params']} | {cold['engine']} | {cold['statements']} | {cold['derive']:.2f} | "
                f"{cold['derive'] + cold['first_grad']:.2f} | {warm['derive'] + warm['first_grad']:.2f} |"
            )
        floor = numba_floor(cache)
        print(f"\nNumba's own floor: the first call of a one-line cached @njit function in a new "
              f"process takes {floor:.2f} s (loading Numba's compiler state), included in every "
              "cached figure above.")


def print_rows(title, rows):
    print(f"\n## {title}\n")
    print("| workload | implementation | median time | ratio to reference |")
    print("|---|---|---|---|")
    for workload, impl, t, ratio in rows:
        print(f"| {workload} | {impl} | {fmt(t)} | {'reference' if ratio is None else f'{ratio:.2f}×'} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    print(f"numba {numba.__version__}, numpy {np.__version__}, sympy {sp.__version__}, "
          f"threads {numba.get_num_threads()}")
    rows = []
    bench_point(rows)
    print_rows("Value and gradient at a point", rows)
    rows = []
    bench_logistic(rows, [10_000] if args.quick else [1_000_000, 256])
    print_rows("Mean loss and gradient over a data set", rows)
    cases = [("linear", 10), ("mlp", 4)] if args.quick else [
        ("linear", 10), ("linear", 100), ("linear", 1000), ("mlp", 4), ("mlp", 8), ("mlp", 16)]
    bench_build(cases)


if __name__ == "__main__":
    main()
