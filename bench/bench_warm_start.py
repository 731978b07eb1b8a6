"""Warm start: a new process with the kernel cache filled, against Numba's own floor.

Two tanh networks with a squared error over 256 samples: 4-16-16-1 (369 parameters)
and 64-32-1 (2,113 parameters). Each is built once in a process with an empty kernel
cache (the cold figure; symgrad's built-in functions, ``vm.tanh``, ``vm.empty2`` ...,
are already in Numba's cache, as after any first use: the very first process, which
compiles them too, is given apart), then in new processes that find the cache filled.
Every process times its own phases with ``time.perf_counter``:

- ``import``: ``import symgrad`` (with SymPy and NumPy; Numba is not imported);
- ``build``: the network's expression with ``sg.nn.dense``, then ``sg.Objective``
  (derivation, code generation, the cached module found on disk, Numba imported);
- ``first``: the first ``value_and_grad`` over the data (the machine code loaded
  from the cache).

Numba's own floor is the same kind of process around one cached one-line ``@njit``
function: ``import numba``, the decorator, the first call (the cache filled by an
earlier process). The targets of the warm start are ``build + first`` within 0.1 s of
that floor and ``import + build + first`` within 0.8 s. The runs alternate (network,
floor, network, floor ...) so that the load of the machine falls on both alike;
figures are medians over the runs, wall and CPU.

    python bench/bench_warm_start.py [--runs 7]
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

NETWORKS = {"mlp369": (4, (16, 16)), "mlp2113": (64, (32,))}

CHILD = textwrap.dedent(
    """
    import json, sys, time
    t0, c0 = time.perf_counter(), time.process_time()
    import numpy as np
    import sympy as sp
    import symgrad as sg
    t1, c1 = time.perf_counter(), time.process_time()
    d, hidden = {shape}
    x = sp.symbols(f"x0:{{d}}")
    y = sp.Symbol("y")
    layer, params = list(x), []
    for k, h in enumerate(hidden):
        layer, p = sg.nn.dense(layer, h, activation=sg.nn.tanh, name=f"W{{k}}")
        params += p
    (out,), p = sg.nn.dense(layer, 1, name="V")
    params += p
    obj = sg.Objective((out - y) ** 2, params, data=[*x, y])
    t2, c2 = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(0)
    cols = [rng.normal(size=256) for _ in range(d + 1)]
    theta = rng.normal(scale=0.3, size=len(params))
    value, grad = obj.value_and_grad(theta, *cols)
    t3, c3 = time.perf_counter(), time.process_time()
    print(json.dumps({{"params": len(params), "engine": obj.engine,
                      "import": [t1 - t0, c1 - c0], "build": [t2 - t1, c2 - c1], "first": [t3 - t2, c3 - c2]}}))
    """
)

FLOOR = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, {directory!r})
    t0, c0 = time.perf_counter(), time.process_time()
    import numba
    import floor_kernel
    floor_kernel.one(1.0)
    t1, c1 = time.perf_counter(), time.process_time()
    print(json.dumps({{"floor": [t1 - t0, c1 - c0]}}))
    """
)

FLOOR_MODULE = "import numba\n\n\n@numba.njit(cache=True)\ndef one(x):\n    return x + 1.0\n"


def run(code: str, cache: str, numba_cache: str) -> dict:
    env = dict(os.environ, SYMGRAD_CACHE_DIR=cache, NUMBA_CACHE_DIR=numba_cache)
    # A warm start is measured as a user's machine has it: Python's own bytecode
    # cache on (an environment that turns it off recompiles every module imported).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows, key, k):
    return statistics.median(r[key][k] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        numba_cache = os.path.join(cache, "numba")
        with open(os.path.join(cache, "floor_kernel.py"), "w") as f:
            f.write(FLOOR_MODULE)
        floor_code = FLOOR.format(directory=cache)
        run(floor_code, cache, numba_cache)  # fills Numba's cache of the one-line function
        first_ever = None
        for name, shape in NETWORKS.items():
            code = CHILD.format(shape=repr(shape))
            kernels = tempfile.mkdtemp(dir=cache)
            if first_ever is None:  # symgrad's own functions (vm.tanh, vm.empty2, ...) compiled too
                first_ever = run(code, tempfile.mkdtemp(dir=cache), numba_cache)
                print(f"first process of an install ({name}): build {first_ever['build'][0]:.2f} s, "
                      f"first gradient {first_ever['first'][0]:.2f} s (symgrad's built-in functions compiled too)")
            cold = run(code, kernels, numba_cache)
            warm, floor = [], []
            for _ in range(args.runs):
                warm.append(run(code, kernels, numba_cache))
                floor.append(run(floor_code, cache, numba_cache))
            print(f"{name}: {cold['params']:,} parameters, engine {cold['engine']!r}")
            print(f"  cold (empty kernel cache): build {cold['build'][0]:.2f} s, first gradient {cold['first'][0]:.2f} s")
            for k, unit in ((0, "wall"), (1, "cpu")):
                imp, build, first = (median(warm, key, k) for key in ("import", "build", "first"))
                fl = median(floor, "floor", k)
                print(f"  warm, {unit} (median of {args.runs}): import symgrad {imp:.3f} s, build {build:.3f} s, "
                      f"first gradient {first:.3f} s; build + first {build + first:.3f} s against Numba's "
                      f"floor {fl:.3f} s (+{build + first - fl:.3f} s); import + build + first {imp + build + first:.3f} s")


if __name__ == "__main__":
    main()
