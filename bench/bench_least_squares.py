"""Least squares: the 54 NIST StRD fits and a 7-parameter model on 10^6 points.

NIST (27 problems x 2 starts, https://www.itl.nist.gov/div898/strd/nls/nls_main.shtml):
for every fit, the correct digits ``-log10(|b - b_cert| / |b_cert|)`` (capped at 11,
the smallest over the parameters) of the values and of the standard deviations
``sqrt(diag((J^T J)^-1) rss / dof)`` (from a QR of ``J``), the residual evaluations,
and the median warm time of one fit, for

- symgrad: ``lm_solve`` on the fused kernels of ``LeastSquares``;
- ``scipy.optimize.least_squares(method="lm")`` with the exact Jacobian (the same
  compiled residual and Jacobian, so only the solvers differ);
- ``scipy.optimize.curve_fit`` (its default: Jacobian by finite differences);
- ``lmfit.minimize`` (``leastsq``), if lmfit is installed (a bench-only dependency).

once with ``ftol = xtol = gtol = 1e-14`` (digits) and once with the defaults (does
every fit that reports success have 4 digits?). Compile time is measured apart: a
fresh process with an empty kernel cache fits a NIST model with ``sg.curve_fit``
(derive, compile, fit), beside Numba's own start-up in a new process.

Large data: ``y = a exp(-b t) + c sin(d t + e) + f t + g`` on 10^6 points,
``sg.curve_fit`` (and its solver alone) against ``least_squares(method="lm")`` with a
hand-written NumPy Jacobian and ``curve_fit``.

    python bench/bench_least_squares.py [--repeats 5] [--quick] [--part all|nist|table|cold|large]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from nist_strd import NAMES, load  # noqa: E402

from symgrad.optimize import LeastSquares  # noqa: E402
from symgrad.optimize._lm import lm_solve  # noqa: E402


def digits(values, certified) -> float:
    """The smallest number of correct significant digits over the entries, capped at 11."""
    values, certified = np.asarray(values, dtype=float), np.asarray(certified, dtype=float)
    with np.errstate(all="ignore"):
        d = -np.log10(np.abs(values - certified) / np.abs(certified))
    d = np.where(np.isnan(d), 0.0, d)
    return float(np.clip(d, 0.0, 11.0).min())


def stderr(r, jac) -> np.ndarray:
    """``sqrt(diag((J^T J)^-1) rss / dof)`` from the triangular factor of ``J``."""
    m, n = jac.shape
    with np.errstate(all="ignore"):
        rinv = np.linalg.inv(np.linalg.qr(jac, mode="r"))
        return np.sqrt(np.sum(rinv**2, axis=1) * float(r @ r) / (m - n))


def median_time(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class Fit:
    """One NIST problem compiled once: residual ``model - y`` and the model itself."""

    def __init__(self, name):
        self.p = p = load(name)
        self.ls = LeastSquares(p.model - p.response, p.params, p.data_symbols)
        self.model = LeastSquares(p.model, p.params, p.predictors)
        self.columns = self.ls.prepare(p.columns)
        self.xcols = self.model.prepare(p.x_columns)
        self.bound = self.ls.problem(self.columns)

    def fun(self, x):
        return self.bound.residuals(x)

    def jac(self, x):
        return self.bound.residuals_and_jacobian(x)[1]

    def symgrad(self, x0, tol):
        kw = {} if tol is None else dict(ftol=tol, xtol=tol, gtol=tol)
        res = lm_solve(self.bound, x0, **kw)
        return res.x, res.nfev, res.success

    def scipy_lm(self, x0, tol):
        from scipy.optimize import least_squares

        kw = {} if tol is None else dict(ftol=tol, xtol=tol, gtol=tol)
        res = least_squares(self.fun, x0, jac=self.jac, method="lm", **kw)
        return res.x, res.nfev, res.success

    def curve_fit(self, x0, tol):
        from scipy.optimize import curve_fit

        kw = {} if tol is None else dict(ftol=tol, xtol=tol, gtol=tol)

        def f(_, *b):
            return self.model.residuals(np.array(b), self.xcols)

        try:
            popt, _, info, _, ier = curve_fit(f, np.arange(self.p.n_obs), self.p.y, p0=x0, full_output=True, **kw)
        except RuntimeError:
            return np.full(len(x0), np.nan), 0, False
        return popt, info["nfev"], ier in (1, 2, 3, 4)

    def lmfit(self, x0, tol):
        import lmfit

        params = lmfit.Parameters()
        for k, v in enumerate(x0):
            params.add(f"b{k + 1}", value=v)
        kw = {} if tol is None else dict(ftol=tol, xtol=tol, gtol=tol)

        def resid(pars):
            return self.fun(np.array([pars[f"b{k + 1}"].value for k in range(len(x0))]))

        try:
            out = lmfit.minimize(resid, params, method="leastsq", **kw)
        except ValueError:  # lmfit stops with an error where the residuals become NaN
            return np.full(len(x0), np.nan), 0, False
        x = np.array([out.params[f"b{k + 1}"].value for k in range(len(x0))])
        return x, out.nfev, bool(out.success)


def nist(solvers, repeats, tol, names):
    rows = []
    for name in names:
        fit = Fit(name)
        for k, x0 in enumerate(fit.p.starts):
            x0 = np.array(x0, dtype=float)
            for solver in solvers:
                run = getattr(fit, solver)
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    x, nfev, ok = run(x0, tol)
                    t = median_time(lambda: run(x0, tol), repeats)
                    if np.all(np.isfinite(x)):
                        r, jac = fit.bound.residuals_and_jacobian(x)
                        d_se = digits(stderr(r, jac), fit.p.certified_stderr)
                    else:
                        d_se = 0.0
                rows.append(dict(name=name, start=k + 1, solver=solver, d=digits(x, fit.p.certified), d_se=d_se,
                                 nfev=nfev, ok=ok, time=t))
    return rows


def summary(rows, solvers, label):
    print(f"\n## NIST StRD, {label}\n")
    print("| solver | fits with >= 6 digits (values and std devs) | mean digits (values) | mean digits "
          "(std devs) | success with < 4 digits | median nfev | median warm time per fit |")
    print("|---|---|---|---|---|---|---|")
    med = {}
    for s in solvers:
        mine = [r for r in rows if r["solver"] == s]
        good = sum(r["d"] >= 6 and r["d_se"] >= 6 for r in mine)
        false_ok = [f"{r['name']}/{r['start']}" for r in mine if r["ok"] and r["d"] < 4]
        med[s] = statistics.median(r["time"] for r in mine)
        print(f"| {s} | {good} / {len(mine)} | {np.mean([r['d'] for r in mine]):.2f} | "
              f"{np.mean([r['d_se'] for r in mine]):.2f} | {len(false_ok)} {' '.join(false_ok)} | "
              f"{statistics.median(r['nfev'] for r in mine):.0f} | {med[s] * 1e3:.2f} ms |")
    if "scipy_lm" in med:
        ratios = []
        for a in (r for r in rows if r["solver"] == "symgrad"):
            b = next(r for r in rows if r["solver"] == "scipy_lm" and r["name"] == a["name"]
                     and r["start"] == a["start"])
            ratios.append(a["time"] / b["time"])
        print(f"\nsymgrad / least_squares(lm) warm time per fit: median {statistics.median(ratios):.2f}x "
              f"(range {min(ratios):.2f}x to {max(ratios):.2f}x)")
    print("\nfits below 6 digits:")
    for r in rows:
        if r["d"] < 6 or r["d_se"] < 6:
            print(f"  {r['solver']:9s} {r['name']}/{r['start']}: values {r['d']:.1f}, std devs {r['d_se']:.1f}, "
                  f"success {r['ok']}, nfev {r['nfev']}")


def per_fit(rows, solvers):
    """One markdown row per NIST fit: digits (values / std devs), evaluations and warm time per solver."""
    print("\n| fit | " + " | ".join(f"{s}: digits, nfev, time" for s in solvers) + " |")
    print("|---|" + "---|" * len(solvers))
    keys = list(dict.fromkeys((r["name"], r["start"]) for r in rows))
    for name, start in keys:
        cells = []
        for s in solvers:
            r = next(r for r in rows if r["solver"] == s and r["name"] == name and r["start"] == start)
            mark = "" if r["ok"] else " (no success)"
            cells.append(f"{r['d']:.1f} / {r['d_se']:.1f}, {r['nfev']}, {r['time'] * 1e3:.2f} ms{mark}")
        print(f"| {name} {start} | " + " | ".join(cells) + " |")


COLD = """
import sys, time
sys.path.insert(0, {tests!r})
t = time.perf_counter()
import symgrad as sg
from nist_strd import load
p = load({name!r})
t1, c1 = time.perf_counter(), time.process_time()
res = sg.curve_fit(p.model, dict(zip(p.predictors, p.x_columns)), p.y, p0=p.starts[1])
assert res.success
print(time.perf_counter() - t1, time.process_time() - c1, t1 - t)
"""

FLOOR = """
import time
import numpy as np
from symgrad.optimize._lm_step import safe_norm
t, c = time.perf_counter(), time.process_time()
safe_norm(np.ones(3))
print(time.perf_counter() - t, time.process_time() - c)
"""


def cold(name):
    """``(wall, CPU)`` seconds from the loaded data to the fitted result in a new process with an empty
    kernel cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYMGRAD_CACHE_DIR=cache)
        out = subprocess.run([sys.executable, "-c", COLD.format(tests=str(ROOT / "tests"), name=name)], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def floor():
    """Numba's own start-up, ``(wall, CPU)`` seconds: the first call of one of symgrad's cached built-in
    kernels in a new process."""
    out = subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def large(repeats):
    import sympy as sp
    from scipy.optimize import curve_fit, least_squares

    a, b, c, d, e, f, g, t, y = sp.symbols("a b c d e f g t y")
    model = a * sp.exp(-b * t) + c * sp.sin(d * t + e) + f * t + g
    truth = np.array([2.0, 0.8, 0.5, 3.0, 0.4, 0.1, -1.0])
    x0 = np.array([1.5, 1.0, 0.6, 2.9, 0.3, 0.0, 0.0])
    rng = np.random.default_rng(0)
    ts = np.linspace(0.0, 10.0, 1_000_000)

    def numpy_model(t_, a_, b_, c_, d_, e_, f_, g_):
        return a_ * np.exp(-b_ * t_) + c_ * np.sin(d_ * t_ + e_) + f_ * t_ + g_

    ys = numpy_model(ts, *truth) + 0.05 * rng.standard_normal(ts.size)

    def fun(p):
        return numpy_model(ts, *p) - ys

    def jac(p):
        a_, b_, c_, d_, e_, _, _ = p
        ex = np.exp(-b_ * ts)
        ph = d_ * ts + e_
        co = np.cos(ph)
        return np.column_stack([ex, -a_ * ts * ex, np.sin(ph), c_ * ts * co, c_ * co, ts, np.ones_like(ts)])

    import symgrad as sg

    params = [a, b, c, d, e, f, g]
    p0 = dict(zip(params, x0))
    t0 = time.perf_counter()
    fitted = sg.curve_fit(model, {t: ts}, ys, p0=p0)
    compile_time = time.perf_counter() - t0
    ls = LeastSquares(model - y, params, [t, y])
    cols = ls.prepare([ts, ys])
    bound = ls.problem(cols)
    ours = lm_solve(bound, x0)
    out = {}
    out["symgrad sg.curve_fit (with the report)"] = (
        median_time(lambda: sg.curve_fit(model, {t: ts}, ys, p0=p0), repeats), fitted.x, fitted.nfev)
    out["symgrad lm_solve alone"] = (median_time(lambda: lm_solve(bound, x0), repeats), ours.x, ours.nfev)
    ref = least_squares(fun, x0, jac=jac, method="lm")
    out["least_squares(lm), NumPy Jacobian"] = (median_time(lambda: least_squares(fun, x0, jac=jac, method="lm"),
                                                            repeats), ref.x, ref.nfev)
    popt, pcov, info, _, _ = curve_fit(numpy_model, ts, ys, p0=x0, full_output=True)
    out["curve_fit"] = (median_time(lambda: curve_fit(numpy_model, ts, ys, p0=x0), max(1, repeats // 2)), popt,
                        info["nfev"])
    print("\n## 7 parameters, 10^6 points\n")
    print(f"sg.curve_fit, derive + compile + first fit: {compile_time:.2f} s\n")
    print("| solver | median warm time | nfev | max relative difference from sg.curve_fit |")
    print("|---|---|---|---|")
    for key, (tm, x, nfev) in out.items():
        diff = float(np.max(np.abs(x - fitted.x) / np.abs(fitted.x)))
        print(f"| {key} | {tm:.3f} s | {nfev} | {diff:.1e} |")
    ours_se = np.array([fitted.stderr[s] for s in params])
    print(f"\nstandard errors, max relative difference sg.curve_fit / curve_fit: "
          f"{float(np.max(np.abs(ours_se - np.sqrt(np.diag(pcov))) / np.sqrt(np.diag(pcov)))):.1e}")
    base = out["symgrad sg.curve_fit (with the report)"][0]
    print(f"least_squares(lm) with a NumPy Jacobian / sg.curve_fit: "
          f"{out['least_squares(lm), NumPy Jacobian'][0] / base:.1f}x; curve_fit / sg.curve_fit: "
          f"{out['curve_fit'][0] / base:.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="six problems, no lmfit, no large fit")
    parser.add_argument("--part", choices=("all", "nist", "table", "cold", "large"), default="all",
                        help="run one part only (table: one row per NIST fit at 1e-14)")
    args = parser.parse_args()
    names = ("Misra1a", "MGH17", "Lanczos1", "MGH09", "BoxBOD", "Eckerle4") if args.quick else NAMES
    solvers = ["symgrad", "scipy_lm", "curve_fit"]
    if not args.quick and args.part in ("all", "nist"):
        try:
            import lmfit  # noqa: F401

            solvers.append("lmfit")
        except ImportError:
            print("lmfit is not installed: skipped (pip install lmfit)")
    if args.part == "table":
        per_fit(nist(solvers, args.repeats, 1e-14, names), solvers)
    if args.part in ("all", "nist"):
        summary(nist(solvers, args.repeats, 1e-14, names), solvers, "ftol = xtol = gtol = 1e-14")
        summary(nist(solvers, max(1, args.repeats // 2), None, names), solvers, "default tolerances")
    if args.part in ("all", "cold"):
        # medians of three new processes each, taken in turn; CPU seconds vary less than wall on a shared machine
        names = ("Misra1a", "MGH17", "ENSO")
        runs = [[cold(name) for name in names] + [floor()] for _ in range(3)]
        median = [[statistics.median(r[i][k] for r in runs) for k in (0, 1)] for i in range(len(names) + 1)]
        base = median[-1]
        print("\ncold sg.curve_fit: derive + compile + first fit (new process, empty kernel cache), median of 3; "
              "Numba's own start-up (the first call of a cached built-in kernel in a new process): "
              f"{base[0]:.2f} s wall, {base[1]:.2f} s CPU")
        for name, (wall, cpu) in zip(names, median):
            print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} s CPU; above Numba's start-up: "
                  f"{wall - base[0]:.2f} s wall, {cpu - base[1]:.2f} s CPU")
    if not args.quick and args.part in ("all", "large"):
        large(args.repeats)


if __name__ == "__main__":
    main()
