"""Huge expressions: the sum over k < N of (x - k)**2, alone and inside exp and sqrt.

Each size runs in a new process with an empty kernel cache (so compile time is
included: it is what a user waits for), the expression built beforehand and not
timed. Printed per N: ``Objective`` built and first ``value_and_grad`` (the loops
engine reads the offsets k from a table), ``sg.gradient`` (the closed form, summed
family by family), ``sg.compile`` and its first call (a loop over the table of
offsets), and the autograd engine's value and gradient as the peer; CPU seconds of the process beside
the wall time, as the CPU time varies less on a loaded machine (``sg.gradient`` is
timed to its result; evaluating that with SymPy's ``subs``, not timed, takes longer).
Values are checked against the closed forms S(t) = sum (t - k)**2 and
S'(t) = 2 (N t - N (N - 1) / 2), and for ``exp(-S / N**3)`` (at t = (N + 1) / 2, where
it is about exp(-1/12)) and ``sqrt(1 + S)`` (at t = 0.5) against the chain rule of
these, to 1e-12 relative times the condition of the sum (the sum of the magnitudes
of its terms over the magnitude of the total: 1 for the values, 2.5e4 for the
gradient of the ``exp`` shape, which cancels at the middle of the offsets). The
outer node is built unevaluated (SymPy's own ``exp`` of a 10^5-term sum takes
minutes before symgrad sees it).

    python bench/bench_long_sums.py [--sizes 1000 10000 100000] [--gradient-up-to 100000]
                                    [--shapes sum exp sqrt] [--timeout 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, math, sys, time
import numpy as np, sympy as sp
import symgrad as sg
n, what, shape = int(sys.argv[1]), sys.argv[2], sys.argv[3]
x = sp.Symbol("x")
total = sp.Add(*[(x - k) ** 2 for k in range(n)])
t = 0.5 if shape != "exp" else (n + 1) / 2
s = float(np.sum((t - np.arange(n)) ** 2))
ds = 2.0 * (n * t - n * (n - 1) / 2)
if shape == "sum":
    expr, exact = total, (s, ds)
elif shape == "exp":  # left unevaluated: SymPy's exp of a 10^5-term Mul takes minutes
    expr = sp.exp(sp.Mul(sp.Rational(-1, n**3), total, evaluate=False), evaluate=False)
    exact = (math.exp(-s / n**3), -ds / n**3 * math.exp(-s / n**3))
else:
    expr = sp.Pow(sp.Add(1, total, evaluate=False), sp.S.Half, evaluate=False)
    exact = (math.sqrt(1 + s), ds / (2 * math.sqrt(1 + s)))
w, c = time.perf_counter(), time.process_time()
if what == "objective":
    obj = sg.Objective(expr, [x])
    value, grad = obj.value_and_grad([t])
    got = (value, float(grad[0]))
elif what == "gradient":
    derivative = sg.gradient(expr, [x])[0]
elif what == "compile":
    got = (sg.compile(expr, [x])(t), None)
else:
    value, grad = sg.autograd.value_and_grad(expr, [x], {x: t})
    got = (float(value), float(grad[0]))
wall, cpu = time.perf_counter() - w, time.process_time() - c
if what == "gradient":  # evaluated after the clock stops: SymPy's subs of 10^5 terms takes longer than the derivation
    got = (None, float(derivative.subs(x, t)))
# float64 sums of the terms and of their derivatives 2 (t - k) are exact to rounding relative to the
# sums of their magnitudes, not to the totals: the gradient at the middle of the offsets cancels
condition = (1.0, float(np.sum(np.abs(2.0 * (t - np.arange(n))))) / abs(ds))
ok = all(g is None or abs(g - e) <= 1e-12 * k * abs(e) for g, e, k in zip(got, exact, condition))
print(json.dumps({"wall": wall, "cpu": cpu, "ok": ok}))
"""


#: The expressions measured: the long sum S alone and inside another node.
SHAPES = {"sum": "S = sum (x - k)**2", "exp": "exp(-S / N**3)", "sqrt": "sqrt(1 + S)"}


def run(n: int, what: str, shape: str, timeout: float) -> dict | None:
    """One measurement in a new process with an empty cache, or ``None`` past ``timeout`` seconds."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYMGRAD_CACHE_DIR=cache)
        try:
            out = subprocess.run([sys.executable, "-c", CHILD, str(n), what, shape], env=env,
                                 capture_output=True, text=True, check=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--gradient-up-to", type=int, default=100000)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per measurement")
    args = parser.parse_args()
    print(f"{'N':>8} {'shape':>28} {'what':>10} {'wall s':>9} {'cpu s':>9}  exact")
    for shape in args.shapes:
        for n in args.sizes:
            for what in ("objective", "gradient", "compile", "autograd"):
                if what == "gradient" and n > args.gradient_up_to:
                    continue
                r = run(n, what, shape, args.timeout)
                if r is None:
                    print(f"{n:>8} {SHAPES[shape]:>28} {what:>10}  over {args.timeout:.0f} s")
                    continue
                print(f"{n:>8} {SHAPES[shape]:>28} {what:>10} {r['wall']:>9.2f} {r['cpu']:>9.2f}  {r['ok']}",
                      flush=True)


if __name__ == "__main__":
    main()
