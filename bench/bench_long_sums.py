"""Huge expressions: the sum over k < N of (x - k)**2.

Each size runs in a new process with an empty kernel cache (so compile time is
included: it is what a user waits for), the expression built beforehand and not
timed. Printed per N: ``Objective`` built and first ``value_and_grad`` (the loops
engine reads the offsets k from a table), ``sg.gradient`` (the closed form, summed
family by family), ``sg.compile`` and its first call (a loop over the table of
offsets), and the autograd engine's value and gradient as the peer; CPU seconds of the process beside
the wall time, as the CPU time varies less on a loaded machine. Values are checked
against the closed forms sum (t - k)**2 and 2 (N t - N (N - 1) / 2).

    python bench/bench_long_sums.py [--sizes 1000 10000 100000] [--gradient-up-to 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
import numpy as np, sympy as sp
import symgrad as sg
n, what = int(sys.argv[1]), sys.argv[2]
x = sp.Symbol("x")
expr = sp.Add(*[(x - k) ** 2 for k in range(n)])
exact = (float(np.sum((0.5 - np.arange(n)) ** 2)), 2.0 * (n * 0.5 - n * (n - 1) / 2))
w, c = time.perf_counter(), time.process_time()
if what == "objective":
    obj = sg.Objective(expr, [x])
    value, grad = obj.value_and_grad([0.5])
    got = (value, float(grad[0]))
elif what == "gradient":
    got = (None, float(sg.gradient(expr, [x])[0].subs(x, 0.5)))
elif what == "compile":
    got = (sg.compile(expr, [x])(0.5), None)
else:
    value, grad = sg.autograd.value_and_grad(expr, [x], {x: 0.5})
    got = (float(value), float(grad[0]))
wall, cpu = time.perf_counter() - w, time.process_time() - c
ok = all(g is None or abs(g - e) <= 1e-12 * abs(e) for g, e in zip(got, exact))
print(json.dumps({"wall": wall, "cpu": cpu, "ok": ok}))
"""


def run(n: int, what: str) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYMGRAD_CACHE_DIR=cache)
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), what], env=env,
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--gradient-up-to", type=int, default=100000)
    args = parser.parse_args()
    print(f"{'N':>8} {'what':>10} {'wall s':>9} {'cpu s':>9}  exact")
    for n in args.sizes:
        for what in ("objective", "gradient", "compile", "autograd"):
            if what == "gradient" and n > args.gradient_up_to:
                continue
            r = run(n, what)
            print(f"{n:>8} {what:>10} {r['wall']:>9.2f} {r['cpu']:>9.2f}  {r['ok']}")


if __name__ == "__main__":
    main()
