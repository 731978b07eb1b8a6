"""The two engines of ``Objective`` on the same models: what ``engine="auto"`` should pick.

Run: python bench/bench_engines.py [--n N] [--repeats R] [--only NAME ...]

For each model, in one process with an empty kernel cache and one thread
(``SYMGRAD_NUM_THREADS=1``), both engines are built and compiled (CPU seconds of
``Objective(...)`` plus the first call, compile included), then
``batch_value_and_grad`` over ``N`` samples is timed ``R`` times (median of the
CPU time of the calling thread, ``time.thread_time``, which leaves out the time
spent waiting for a core on a shared machine). The table gives both engines' run
time per sample, their ratio, the compile times, the statistics the choice rule
reads (``symgrad._engines.engine_costs``) and the engine ``"auto"`` picks.

Models: tanh MLPs of the issue (2-16-16-1, 4-16-16-1) and smaller ones, the
64-32-10 ReLU network with softmax cross-entropy, logistic regression (d = 10),
a linear model (d = 100) and four NIST StRD models (Misra1a, MGH09, Bennett5,
Lanczos1) written as squared residuals.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
import statistics
import tempfile
import time

os.environ["SYMGRAD_NUM_THREADS"] = "1"
os.environ.setdefault("SYMGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="symgrad-bench-engines-"))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad._engines import engine_costs, operation_counts  # noqa: E402
from symgrad._expr import canonicalize  # noqa: E402
from symgrad.derive import lift  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from engine_models import linear, logistic, relu_classifier, tanh_mlp  # noqa: E402


def nist(name):
    """Squared residual of a NIST StRD model (the formulas of the NIST pages)."""
    x, y = sp.symbols("x y")
    b = sp.symbols("b1:8")
    model = {
        "Misra1a": (b[0] * (1 - sp.exp(-b[1] * x)), 2),
        "MGH09": (b[0] * (x**2 + x * b[1]) / (x**2 + x * b[2] + b[3]), 4),
        "Bennett5": (b[0] * (b[1] + x) ** (-1 / b[2]), 3),
        "Lanczos1": (b[0] * sp.exp(-b[1] * x) + b[2] * sp.exp(-b[3] * x) + b[4] * sp.exp(-b[5] * x), 6),
    }[name]
    expr, n = model
    return (expr - y) ** 2, list(b[:n]), [x, y]


MODELS = {
    "MLP 2-16-16-1 tanh": lambda: tanh_mlp([2, 16, 16, 1]),
    "MLP 4-16-16-1 tanh": lambda: tanh_mlp([4, 16, 16, 1]),
    "MLP 4-8-8-1 tanh": lambda: tanh_mlp([4, 8, 8, 1]),
    "MLP 4-4-4-1 tanh": lambda: tanh_mlp([4, 4, 4, 1]),
    "MLP 64-32-10 ReLU + cross-entropy": relu_classifier,
    "logistic d=10": logistic,
    "linear d=100": linear,
    "NIST Misra1a": lambda: nist("Misra1a"),
    "NIST MGH09": lambda: nist("MGH09"),
    "NIST Bennett5": lambda: nist("Bennett5"),
    "NIST Lanczos1": lambda: nist("Lanczos1"),
}

#: Models whose straight-line program Numba would compile for minutes: loops only.
LOOPS_ONLY = {"MLP 64-32-10 ReLU + cross-entropy"}


def columns_for(name, data, n, rng):
    if name.startswith("NIST"):
        x = rng.uniform(1.0, 10.0, n)  # positive: Bennett5's (b2 + x)**(-1/b3)
        return [x, rng.uniform(0.5, 2.0, n)]
    if "cross-entropy" in name:
        onehot = np.eye(10)[rng.integers(0, 10, n)]
        return [rng.standard_normal(n) for _ in range(64)] + list(onehot.T.copy())
    if name.startswith("logistic"):
        return [rng.standard_normal(n) for _ in data[:-1]] + [rng.integers(0, 2, n).astype(float)]
    return [rng.standard_normal(n) for _ in data]


def theta_for(name, n_params, rng):
    if name.startswith("NIST"):
        return rng.uniform(0.5, 1.5, n_params)
    return rng.standard_normal(n_params) * 0.3


def measure(name, engine, n, repeats):
    expr, params, data = MODELS[name]()
    rng = np.random.default_rng(0)
    cols = columns_for(name, data, n, rng)
    theta = theta_for(name, len(params), rng)
    t0 = time.process_time()
    obj = sg.Objective(expr, params, data, engine=engine)
    prepared = obj.prepare(*cols, rows=False)
    value, grad = obj.batch_value_and_grad(theta, prepared)
    build = time.process_time() - t0
    times = []
    for _ in range(repeats):
        t = time.thread_time()
        obj.batch_value_and_grad(theta, prepared)
        times.append(time.thread_time() - t)
    return {"build": build, "run": statistics.median(times), "value": value, "grad": grad,
            "statements": obj._vg_source.statements}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--raw", action="store_true", help="also print the model's inputs (to fit its constants)")
    args = ap.parse_args()
    names = args.only or list(MODELS)
    print(f"N = {args.n:,}, one thread, median of {args.repeats} (CPU time of the calling thread)\n")
    print("| model | params | scalar: ns/sample | loops: ns/sample | scalar / loops | compile s, scalar / loops "
          "| cost model: scalar / loops | auto picks | faster |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        expr, params, data = MODELS[name]()
        program = lift(canonicalize(expr), params, data)
        costs = engine_costs(program)
        raw = (*operation_counts(program), len(data))
        auto = costs.choice  # what Objective(..., engine="auto") runs
        loops = measure(name, "loops", args.n, args.repeats)
        if name in LOOPS_ONLY:
            scalar = None
        else:
            scalar = measure(name, "scalar", args.n, args.repeats)
            agree = abs(scalar["value"] - loops["value"]) <= 1e-9 * max(1.0, abs(scalar["value"]))
            agree = agree and np.allclose(scalar["grad"], loops["grad"], rtol=1e-8, atol=1e-12)
            if not agree:
                raise SystemExit(f"{name}: the engines disagree")
        per = 1e9 / args.n
        lo = f"{loops['run'] * per:.0f}"
        if scalar is None:
            sc, ratio, comp, faster = "not compiled", "", f"- / {loops['build']:.1f}", "loops"
        else:
            sc = f"{scalar['run'] * per:.0f}"
            ratio = f"{scalar['run'] / loops['run']:.2f}"
            comp = f"{scalar['build']:.1f} / {loops['build']:.1f}"
            faster = "scalar" if scalar["run"] < loops["run"] else "loops"
        model = f"{costs.scalar:.0f} / {costs.loops:.0f}"
        print(f"| {name} | {len(params):,} | {sc} | {lo} | {ratio} | {comp} | {model} | {auto} | {faster} |", flush=True)
        if args.raw:
            print("    raw: forward ops, reverse ops, data columns =", raw, "run s/sample:",
                  scalar and scalar["run"] / args.n, loops["run"] / args.n, flush=True)


if __name__ == "__main__":
    main()
