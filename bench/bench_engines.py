"""The two engines of ``Objective`` on the same models: what ``engine="auto"`` should pick.

Run: python bench/bench_engines.py [--n N] [--repeats R] [--only NAME ...] [--raw] [--fit]

For each model, in one process with an empty kernel cache and one thread
(``SYMGRAD_NUM_THREADS=1``), both engines are built and compiled (CPU seconds of
``Objective(...)`` plus the first call, compile included), then
``batch_value_and_grad`` over ``N`` samples is timed in ``R`` rounds, the two
engines taking turns within each round (which goes first alternates), each call
timed by the CPU time of the calling thread (``time.thread_time``, which leaves
out the time spent waiting for a core on a shared machine). The table gives both
engines' median run time per sample, the median over the rounds of their ratio
with its lowest and highest round, the compile times, the cost model's figures
(``symgrad._engines.engine_costs``) and the engine ``"auto"`` picks. A median
ratio within ``TIE`` (15 %) of 1 is a tie: either choice is right.

``--fit`` ends with the cost model's constants fitted to this run (least squares
of relative errors, see ``fit``): how ``symgrad._engines``'s constants were found.

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
from symgrad.codegen._source import SPLIT  # noqa: E402
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


def build(name, engine, n):
    """An engine's objective on the model's data, compiled: ``(call, build CPU s, value, grad)``."""
    expr, params, data = MODELS[name]()
    rng = np.random.default_rng(0)
    cols = columns_for(name, data, n, rng)
    theta = theta_for(name, len(params), rng)
    t0 = time.process_time()
    obj = sg.Objective(expr, params, data, engine=engine)
    prepared = obj.prepare(*cols, rows=False)
    value, grad = obj.batch_value_and_grad(theta, prepared)
    seconds = time.process_time() - t0
    if obj.engine != engine:
        raise SystemExit(f"{name}: asked for the {engine} engine, got {obj.engine}")
    return (lambda: obj.batch_value_and_grad(theta, prepared)), seconds, value, grad


def timed(call) -> float:
    """Thread CPU seconds of one call."""
    t = time.thread_time()
    call()
    return time.thread_time() - t


def take_turns(calls: dict, repeats: int) -> dict:
    """``repeats`` rounds, every call of ``calls`` once a round, the order turning each
    round; the thread CPU seconds of each call, by name and round."""
    names = list(calls)
    times = {k: [] for k in names}
    for i in range(repeats):
        for k in (names if i % 2 == 0 else names[::-1]):
            times[k].append(timed(calls[k]))
    return times


#: A median ratio of the two engines' times within this factor of 1 is a tie: the linear
#: model's (d = 100, bound by reading its columns) was 0.86 to 1.15 in four runs.
TIE = 1.15


def is_tie(ratios) -> bool:
    return 1.0 / TIE <= statistics.median(ratios) <= TIE


def fit(rows):
    """The cost model's constants fitted to this run (``symgrad._engines``'s formulas).

    ``rows``: ``(f, r, d, split, scalar ns/sample or None, loops ns/sample)``, ``split``
    whether the straight-line program is cut into parts. The five constants (the two
    straight-line costs per operation, the data column's, the loops' per operation and
    fixed) minimise the sum of squared logarithms of modelled over measured time, both
    engines on every model (relative errors: a 3 ns model counts as much as a 900 ns
    one), each constant non-negative.
    """
    from scipy.optimize import least_squares

    def residuals(c):
        short, split, column, op, fixed = c
        out = []
        for f, r, d, is_split, scalar, loops in rows:
            if scalar is not None:
                out.append(np.log(((split if is_split else short) * f + column * d) / scalar))
            out.append(np.log((op * (f + r) + column * d + fixed) / loops))
        return out

    c = least_squares(residuals, [0.3, 1.0, 1.0, 0.1, 5.0], bounds=(1e-6, np.inf)).x
    return dict(zip(["SCALAR_OP", "SCALAR_SPLIT_OP", "DATA_COLUMN", "LOOPS_OP", "LOOPS_FIXED"], c))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--raw", action="store_true", help="also print the model's inputs (to fit its constants)")
    ap.add_argument("--fit", action="store_true", help="end with the cost model's constants fitted to this run")
    args = ap.parse_args()
    names = args.only or list(MODELS)
    print(f"N = {args.n:,}, one thread, {args.repeats} rounds, the engines taking turns "
          "(CPU time of the calling thread)\n")
    print("| model | params | scalar: ns/sample | loops: ns/sample | scalar / loops (rounds) "
          "| compile s, scalar / loops | cost model: scalar / loops | auto picks | faster |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows, wrong = [], []
    for name in names:
        expr, params, data = MODELS[name]()
        program = lift(canonicalize(expr), params, data)
        costs = engine_costs(program)
        f, r = operation_counts(program)
        auto = costs.choice  # what Objective(..., engine="auto") runs
        engines = ("loops",) if name in LOOPS_ONLY else ("scalar", "loops")
        built = {e: build(name, e, args.n) for e in engines}
        if "scalar" in built:
            (_, _, vs, gs), (_, _, vl, gl) = built["scalar"], built["loops"]
            agree = abs(vs - vl) <= 1e-9 * max(1.0, abs(vs)) and np.allclose(gs, gl, rtol=1e-8, atol=1e-12)
            if not agree:
                raise SystemExit(f"{name}: the engines disagree")
        times = take_turns({e: built[e][0] for e in engines}, args.repeats)
        run = {e: statistics.median(times[e]) / args.n for e in engines}
        lo = f"{run['loops'] * 1e9:.0f}"
        if "scalar" not in run:
            sc, ratio, comp, faster = "not compiled", "", f"- / {built['loops'][1]:.1f}", "loops"
        else:
            ratios = [s / t for s, t in zip(times["scalar"], times["loops"])]
            sc = f"{run['scalar'] * 1e9:.0f}"
            ratio = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
            comp = f"{built['scalar'][1]:.1f} / {built['loops'][1]:.1f}"
            if is_tie(ratios):
                faster = "tie"
            else:
                faster = "loops" if statistics.median(ratios) > 1.0 else "scalar"
        if faster not in ("tie", auto):
            wrong.append(name)
        ns = {e: t * 1e9 for e, t in run.items()}
        rows.append((f, r, len(data), program.nodes > SPLIT, ns.get("scalar"), ns["loops"]))
        model = f"{costs.scalar:.0f} / {costs.loops:.0f}"
        print(f"| {name} | {len(params):,} | {sc} | {lo} | {ratio} | {comp} | {model} | {auto} | {faster} |",
              flush=True)
        if args.raw:
            print("    raw: f, r, d, nodes =", (f, r, len(data), program.nodes), "ns/sample, scalar and loops:",
                  ns.get("scalar"), ns["loops"], flush=True)
    print("\nauto picks the faster engine on every model" if not wrong
          else f"\nauto picks the slower engine on: {', '.join(wrong)}")
    if args.fit:
        print("fitted constants:", ", ".join(f"{k} = {v:.4g}" for k, v in fit(rows).items()))


if __name__ == "__main__":
    main()
