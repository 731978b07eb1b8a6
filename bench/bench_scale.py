"""Scale benchmark: networks written as scalar SymPy expressions, against PyTorch.

Part 1, two networks built with ``sg.nn``, softmax cross-entropy over 10 classes:

- ``mlp``: 64-32-10 with ReLU on 8x8 inputs (2,410 parameters);
- ``conv``: a 3x3 convolution over a 28x28 grid with ReLU, then a dense layer to
  10 outputs (6,780 parameters).

For each: the time to build the expression, to create the ``Objective`` (lift and
generate code) and to compile (first call) with an empty cache; the same steps in a
new process with the cache filled; then the mean loss and gradient over a batch of
1,000 samples, median of the repeats, for symgrad (``value_and_grad`` on the raw
columns, and ``batch_value_and_grad`` on prepared data, as a training loop calls
it) and PyTorch (float64 and float32, forward + backward), and the largest
difference between the two gradients. Threads: two for both (the machine's cores).

Part 2, the cost curve: 8-h-1 ReLU networks with a squared error, h from 1 to
1,000 (11 to 10,001 parameters): build, derive and generate, compile, and the
size of the generated code, for the loops engine, and for the straight-line
engine as far as it compiles in reasonable time.

    python bench/bench_scale.py [--repeats 30] [--skip-curve] [--scalar-up-to 301]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import sympy as sp

import symgrad as sg

BATCH, CLASSES, SEED = 1000, 10, 0


def mlp():
    x = list(sp.symbols("x0:64"))
    h, p1 = sg.nn.dense(x, 32, activation=sg.nn.relu, name="A")
    z, p2 = sg.nn.dense(h, CLASSES, name="B")
    t = list(sp.symbols(f"t0:{CLASSES}"))
    return sg.losses.cross_entropy(z, t), p1 + p2, x + t


def conv():
    grid = [[sp.Symbol(f"p{r}_{c}") for c in range(28)] for r in range(28)]
    maps, p1 = sg.nn.conv2d(grid, 3, activation=sg.nn.relu, name="K")
    z, p2 = sg.nn.dense(sg.nn.flatten(maps), CLASSES, name="D")
    t = list(sp.symbols(f"t0:{CLASSES}"))
    return sg.losses.cross_entropy(z, t), p1 + p2, [s for row in grid for s in row] + t


def curve_net(hidden: int):
    x = list(sp.symbols("x0:8"))
    h, p1 = sg.nn.dense(x, hidden, activation=sg.nn.relu, name="A")
    z, p2 = sg.nn.dense(h, 1, name="B")
    y = sp.Symbol("y")
    return sg.losses.mse(z[0], y), p1 + p2, x + [y]


NETS = {"mlp": mlp, "conv": conv}


def make_batch(name: str, n_inputs: int, n_params: int):
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((BATCH, n_inputs))
    labels = rng.integers(0, CLASSES, BATCH)
    onehot = np.eye(CLASSES)[labels]
    theta = rng.standard_normal(n_params) * (0.3 if name == "conv" else 0.1)
    return x, labels, onehot, theta


def median_time(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_and_compile(build, engine="auto"):
    """Times of (build, Objective, first call) and the objective."""
    t0 = time.perf_counter()
    loss, params, data = build()
    t1 = time.perf_counter()
    obj = sg.Objective(loss, params, data, engine=engine)
    t2 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    cols = [rng.standard_normal(4) for _ in data]
    obj.value_and_grad(np.zeros(len(params)), *cols)
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2), obj


def in_new_process(name: str, cache: str) -> dict:
    """Build, create and first call in a fresh interpreter, timed from inside it."""
    code = (
        "import json, sys, time; t = time.perf_counter(); sys.path.insert(0, %r); "
        "import bench_scale as b; i = time.perf_counter() - t; "
        "(build, make, call), obj = b.build_and_compile(b.NETS[%r]); "
        "print(json.dumps({'import': i, 'build': build, 'objective': make, 'first call': call}))"
    ) % (os.path.dirname(os.path.abspath(__file__)), name)
    env = dict(os.environ, SYMGRAD_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_step(name, x, labels, theta, dtype):
    import torch

    xt = torch.tensor(x, dtype=dtype)
    yt = torch.tensor(labels)
    if name == "mlp":
        w1 = theta[:2048].reshape(32, 64)
        b1, w2 = theta[2048:2080], theta[2080:2400].reshape(10, 32)
        b2 = theta[2400:]
        params = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in (w1, b1, w2, b2)]

        def forward():
            h = torch.relu(xt @ params[0].T + params[1])
            return h @ params[2].T + params[3]
    else:
        xt = xt.reshape(BATCH, 1, 28, 28)
        k, kb = theta[:9].reshape(1, 1, 3, 3), theta[9:10]
        w, b = theta[10:6770].reshape(10, 676), theta[6770:]
        params = [torch.tensor(a, dtype=dtype, requires_grad=True) for a in (k, kb, w, b)]

        def forward():
            maps = torch.relu(torch.nn.functional.conv2d(xt, params[0], params[1]))
            return maps.reshape(BATCH, 676) @ params[2].T + params[3]

    def step():
        for p in params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(forward(), yt)
        loss.backward()
        return loss

    def gradient():
        step()
        return np.concatenate([p.grad.numpy().astype(np.float64).ravel() for p in params])

    return step, gradient


def part1(repeats: int) -> None:
    try:
        import torch

        torch.set_num_threads(2)
    except ImportError:
        torch = None
        print("PyTorch is not installed: only symgrad is timed.")
    for name, build in NETS.items():
        with tempfile.TemporaryDirectory() as cache:
            os.environ["SYMGRAD_CACHE_DIR"] = cache
            (t_build, t_obj, t_call), obj = build_and_compile(build)
            warm = in_new_process(name, cache)
        n = len(obj.params)
        n_inputs = len(obj.data) - CLASSES
        x, labels, onehot, theta = make_batch(name, n_inputs, n)
        cols = [np.ascontiguousarray(c) for c in np.hstack([x, onehot]).T]
        data = obj.prepare(*cols)
        print(f"\n{name}: {n} parameters, engine {obj.engine}, batch {BATCH}")
        print(f"  cold:   build {t_build:.2f} s, objective {t_obj:.2f} s, compile (first call) {t_call:.2f} s, "
              f"total {t_build + t_obj + t_call:.2f} s")
        print(f"  cached, new process: import {warm['import']:.2f} s, build {warm['build']:.2f} s, "
              f"objective {warm['objective']:.2f} s, first call {warm['first call']:.2f} s, "
              f"total {sum(warm.values()):.2f} s")
        t_sg = median_time(lambda: obj.value_and_grad(theta, *cols), repeats)
        t_sgp = median_time(lambda: obj.batch_value_and_grad(theta, data), repeats)
        rows = [("symgrad value_and_grad (columns)", t_sg), ("symgrad batch_value_and_grad (prepared)", t_sgp)]
        if torch is not None:
            for dtype in (torch.float64, torch.float32):
                step, gradient = torch_step(name, x, labels, theta, dtype)
                rows.append((f"PyTorch {str(dtype).split('.')[-1]} forward+backward", median_time(step, repeats)))
                if dtype == torch.float64:
                    diff = np.max(np.abs(gradient() - obj.grad(theta, *cols)))
        for label, t in rows:
            print(f"  {label:42s} {t * 1e3:8.3f} ms   {t / t_sgp:5.2f} x symgrad (prepared)")
        if torch is not None:
            print(f"  largest |gradient difference| symgrad vs PyTorch float64: {diff:.1e}")


def part2(scalar_up_to: int) -> None:
    print("\nCost curve: 8-h-1 ReLU network, squared error (one cold run each, empty cache; compile = first call)")
    print(f"{'params':>7} {'engine':>7} {'build s':>8} {'objective s':>12} {'compile s':>10} "
          f"{'lines':>6} {'chars':>8}")
    for hidden in (1, 3, 10, 30, 100, 300, 1000):
        engines = ["loops"] + (["scalar"] if 10 * hidden + 1 <= scalar_up_to else [])
        for engine in engines:
            with tempfile.TemporaryDirectory() as cache:
                os.environ["SYMGRAD_CACHE_DIR"] = cache
                (t_build, t_obj, t_call), obj = build_and_compile(lambda: curve_net(hidden), engine)
            text = obj._vg_source.text
            print(f"{len(obj.params):>7} {engine:>7} {t_build:>8.2f} {t_obj:>12.2f} {t_call:>10.2f} "
                  f"{text.count(chr(10)):>6} {len(text):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--scalar-up-to", type=int, default=301,
                        help="largest parameter count compiled with the straight-line engine")
    args = parser.parse_args()
    part1(args.repeats)
    if not args.skip_curve:
        part2(args.scalar_up_to)


if __name__ == "__main__":
    main()
