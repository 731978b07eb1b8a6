"""Differential test at scale: generated expressions at many points, every path against the oracle.

Expressions come from the generator of ``tests/differential`` (a seeded
``RandomPicker`` instead of Hypothesis), each over 1-4 parameters and 0-3 data
symbols; each is evaluated at up to ``--points`` acceptable points (finite, away
from kinks, well conditioned: see ``tests/differential/generated.py``). The oracle
(``tests/oracle.py``: SymPy ``diff``, mpmath at 40 digits) differentiates each
expression once and evaluates it at every point. Paths:

- ``sg.compile`` of a batch of expressions' values and closed-form gradients, on
  arrays of all their points at once (one kernel per batch): every point counts;
- ``symgrad.autograd.grad`` at the first ``--sampled`` points of each expression,
  and one ``sg.Objective`` of the sum of the batch (scalar engine, one sample per
  call through ``batch_value_and_grad`` with an index array: sample ``j`` holds every
  expression's ``j``-th point, so each partial belongs to one expression);
- ``sg.gradient`` closed forms evaluated at 40 digits at the first point.

Reports, per path, the number of checks and the worst error in units of the
condition scale ``M`` (the test tolerance is ``64 u``, about 7.1e-15), every failure
as it is found, and the table every ten batches.

    python bench/differential.py --expressions 200 --points 500
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE.parent / "tests" / "differential")]

import symgrad as sg  # noqa: E402
from compare import CLOSED_TOLERANCE, closed_error  # noqa: E402
from generated import RandomPicker, acceptable, case, renamed  # noqa: E402
from oracle import TOLERANCE, derivatives_at, rel_error  # noqa: E402


class Worst:
    """Counts and the worst error per path, with the case that gave it."""

    def __init__(self):
        self.count, self.worst, self.where, self.failures, self.errors = {}, {}, {}, [], []

    def add(self, path, err, what, tol=TOLERANCE):
        self.count[path] = self.count.get(path, 0) + 1
        if err > self.worst.get(path, -1.0):
            self.worst[path], self.where[path] = err, what
        if err > tol:
            self.failures.append((path, err, what))
            print(f"FAIL {path}: {err:.3g}: {what[:400]}", flush=True)


def points_for(pick, c, want):
    """Up to ``want`` acceptable points of case ``c`` (its own point first) and the oracle at them."""
    symbols = c.params + c.data
    drawn = [c.point] + [{s: pick.coordinate() for s in symbols} for _ in range(2 * want)]
    good = []
    for point, exact in zip(drawn, derivatives_at(c.expr, c.params, drawn, order=1)):
        if exact is not None and acceptable(exact):
            good.append((point, exact))
        if len(good) == want:
            break
    return good


def run_batch(cases, pts, sampled, w: Worst):
    cases = [renamed(c, str(k)) for k, c in enumerate(cases)]
    grads = [sg.gradient(c.expr, c.params) for c in cases]
    args = [s for c in cases for s in c.params + c.data]
    outputs = [c.expr for c in cases] + [g[i] for g in grads for i in range(g.shape[0])]
    kernel = sg.compile(outputs, args)
    p = max(len(x) for x in pts)  # fewer points repeat cyclically, and are checked once
    arrays = []
    for c, good in zip(cases, pts):
        for s in c.params + c.data:
            base = sp.Symbol(s.name.rsplit("_", 1)[0])
            arrays.append(np.array([good[j % len(good)][0][base] for j in range(p)]))
    got = kernel(*arrays)  # (p, outputs)
    col = len(cases)
    for k, (c, good) in enumerate(zip(cases, pts)):
        g = grads[k]
        for j, (pt, ex) in enumerate(good):
            what = f"{c.expr} at {pt}"
            w.add("sg.compile (arrays)", rel_error(got[j, k], ex["value"], ex["value_M"]), what)
            for i in range(g.shape[0]):
                w.add("sg.compile (arrays)", rel_error(got[j, col + i], ex["grad"][i], ex["grad_M"][i]), what)
        col += g.shape[0]
        # closed form at the first point
        pt0 = {r: good[0][0][sp.Symbol(r.name.rsplit("_", 1)[0])] for r in c.params + c.data}
        ex0 = good[0][1]
        for i in range(g.shape[0]):
            err, tol, _ = closed_error(g[i], pt0, ex0["grad"][i], ex0["grad_M"][i])
            w.add("sg.gradient (closed form)", err, f"{g[i]} at {pt0}", tol)
    # autograd, one point at a time, and one Objective of the sum of the batch (scalar
    # engine, one sample per call through batch_value_and_grad with an index array):
    # sample j holds every case's j-th point, so each partial is its own case's
    one = sp.Symbol("one_sample")
    params = [p for c in cases for p in c.params]
    data = [x for c in cases for x in c.data]
    obj = sg.Objective(sp.Add(*[c.expr for c in cases]) + 0 * one, params, data + [one], engine="scalar")
    take = min(sampled, max(len(good) for good in pts))
    cols = [arrays[k] for k, s in enumerate(args) if s in set(data)]
    data_arrays = obj.prepare(*[col[:take] for col in cols], np.zeros(take))
    for j in range(take):
        theta = np.array([arrays[args.index(p)][j] for p in params])
        v, og = obj.batch_value_and_grad(theta, data_arrays, np.array([j], dtype=np.int64))
        total = total_m = 0
        entry = 0
        for c, good in zip(cases, pts):
            pt, ex = good[j % len(good)]
            total += ex["value"]
            total_m += ex["value_M"] + (len(cases) - 1) * abs(ex["value"])
            symbols = list(c.params + c.data)
            at = [pt[sp.Symbol(s.name.rsplit("_", 1)[0])] for s in symbols]
            what = f"{c.expr} at {at}"
            fresh = j < len(good)  # a repeated point is checked once
            ag = sg.autograd.grad(c.expr, symbols, at) if fresh else None
            for i in range(len(c.params)):
                if fresh:
                    w.add("autograd.grad", rel_error(ag[i], ex["grad"][i], ex["grad_M"][i]), what)
                    w.add("Objective (scalar, one sample)", rel_error(og[entry + i], ex["grad"][i], ex["grad_M"][i]), what)
            entry += len(c.params)
        w.add("Objective (scalar, one sample)", rel_error(v, total, total_m), f"value of the sum, sample {j}")
    return sum(len(good) for good in pts)


def report(w: Worst):
    """The table of checks and worst errors per path, so far."""
    print(f"{'path':34s} {'checks':>9s} {'worst error / M':>16s}")
    for path in w.count:
        print(f"{path:34s} {w.count[path]:9d} {w.worst[path]:16.3g}")
    print(f"tolerance: {TOLERANCE:.3g} (float64 paths); closed forms {float(CLOSED_TOLERANCE):.0e}, 8u with Floats", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expressions", type=int, default=200)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--sampled", type=int, default=50)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    pick = RandomPicker(args.seed)
    w = Worst()
    t0 = time.perf_counter()
    done = cases_total = 0
    while done < args.expressions:
        batch, pts = [], []
        while len(batch) < args.batch:
            c = case(pick, order=1, depth=3)
            good = points_for(pick, c, args.points)
            batch.append(c)
            pts.append(good)
        try:
            cases_total += run_batch(batch, pts, args.sampled, w)
        except Exception as exc:  # a path refused or crashed on a batch: report it, go on
            w.errors.append((type(exc).__name__, str(exc)[:300], [str(c.expr) for c in batch]))
        done += args.batch
        print(f"{done} expressions, {cases_total} (expression, point) cases, {time.perf_counter() - t0:.0f} s", flush=True)
        if done % (10 * args.batch) == 0:
            report(w)
    print(f"\n{done} expressions, {cases_total} (expression, point) cases in {time.perf_counter() - t0:.0f} s")
    report(w)
    for path, err, what in w.failures[:20]:
        print(f"FAIL {path}: {err:.3g}: {what[:300]}")
    for name, msg, exprs in w.errors:
        print(f"ERROR {name}: {msg}\n  in a batch of: {exprs}")
    print(f"{len(w.failures)} failures, {len(w.errors)} batches with errors")
    return 1 if w.failures or w.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
