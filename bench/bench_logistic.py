"""Logistic loss and gradient, d = 10, N = 10^6: symgrad against the libm loop and PyTorch.

Run: python bench/bench_logistic.py [--n N] [--rounds R]

    L(w, b) = (1/N) sum_i [log(1 + exp(z_i)) - y_i z_i],   z_i = w . x_i + b,

and its 11 partial derivatives, in float64 on one thread each:

- symgrad ``Objective.value_and_grad`` (the vectorised elementary functions, and
  LLVM asked for 512-bit vectors, the default), the same with
  ``JitOptions(vector_width=None)`` (LLVM's own width: 256 bits on Intel server
  cores with AVX-512), and with ``JitOptions(vector_math=False)`` (the C library's
  ``exp``/``log``);
- a hand-written fused ``@njit`` loop calling ``math.exp``/``math.log``;
- PyTorch: autograd (``loss.backward()``) and the gradient written by hand;
- NumPy by hand;
- the memory-read bound: one vectorised pass that only adds up the 11 data columns
  (88 MB), the least time any method needs to read the data once.

The methods run in turns, ``R`` rounds; the table gives each one's fastest round
in wall-clock time and in CPU time of the calling thread (``time.thread_time``,
which excludes the time the thread waits for a core when the machine is shared;
every method runs on that one thread), and the median wall-clock time.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

for _var in ("SYMGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.jit import JitOptions  # noqa: E402
from symgrad.jit import _elementary as vm  # noqa: E402

D = 10


@numba.njit(cache=False, error_model="numpy")
def hand_fused(theta, XT, y):
    """Mean logistic loss and gradient by hand; ``XT`` is (10, N), one row per feature."""
    n = y.shape[0]
    value = 0.0
    g = np.zeros(D + 1)
    for i in range(n):
        z = theta[D]
        for j in range(D):
            z += theta[j] * XT[j, i]
        e = math.exp(z)
        value += math.log(1.0 + e) - y[i] * z
        r = e / (1.0 + e) - y[i]
        for j in range(D):
            g[j] += r * XT[j, i]
        g[D] += r
    return value / n, g / n


@numba.njit(cache=False, error_model="numpy")
def read_once(XT, y):
    """The sum of every data value: one streaming read of the data (the memory-read bound)."""
    s = 0.0
    for j in range(D):
        row = XT[j]
        for i in range(row.shape[0]):
            s = vm.accumulate(s, row[i])
    for i in range(y.shape[0]):
        s = vm.accumulate(s, y[i])
    return s


def numpy_logistic(theta, X, y):
    z = X @ theta[:D] + theta[D]
    r = 1.0 / (1.0 + np.exp(-z)) - y
    return np.mean(np.logaddexp(0.0, z) - y * z), np.append(X.T @ r, r.sum()) / len(y)


def torch_methods(theta, X, y):
    import torch

    torch.set_num_threads(1)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def autograd():
        w = torch.tensor(theta[:D], requires_grad=True)
        b = torch.tensor(theta[D], requires_grad=True)
        z = Xt @ w + b
        loss = (torch.nn.functional.softplus(z) - yt * z).mean()
        loss.backward()
        return loss.item(), np.append(w.grad.numpy(), b.grad.item())

    def by_hand():
        w, b = torch.from_numpy(theta[:D]), float(theta[D])
        z = Xt @ w + b
        r = torch.sigmoid(z) - yt
        value = (torch.nn.functional.softplus(z) - yt * z).mean().item()
        return value, np.append((Xt.T @ r).numpy(), r.sum().item()) / len(y)

    return torch.__version__, autograd, by_hand


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    n = args.n
    ws, xs = sp.symbols(f"w0:{D}"), sp.symbols(f"x0:{D}")
    b, y = sp.symbols("b y")
    z = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    loss = sp.log(1 + sp.exp(z)) - y * z
    one = JitOptions(parallel=False)
    obj = sg.Objective(loss, [*ws, b], data=[*xs, y], options=one)
    obj_256 = sg.Objective(loss, [*ws, b], data=[*xs, y], options=JitOptions(parallel=False, vector_width=None))
    obj_libm = sg.Objective(loss, [*ws, b], data=[*xs, y], options=JitOptions(parallel=False, vector_math=False))
    rng = np.random.default_rng(0)
    theta = rng.normal(scale=0.1, size=D + 1)
    XT = rng.normal(size=(D, n))
    X = np.ascontiguousarray(XT.T)
    Y = (rng.uniform(size=n) < 0.5).astype(float)
    cols = list(XT) + [Y]
    methods = {
        "symgrad Objective.value_and_grad": lambda: obj.value_and_grad(theta, *cols),
        "symgrad, vector_width=None (LLVM's choice)": lambda: obj_256.value_and_grad(theta, *cols),
        "symgrad, vector_math=False (libm)": lambda: obj_libm.value_and_grad(theta, *cols),
        "hand-written fused @njit loop (libm)": lambda: hand_fused(theta, XT, Y),
        "NumPy by hand": lambda: numpy_logistic(theta, X, Y),
    }
    try:
        version, autograd, by_hand = torch_methods(theta, X, Y)
        methods[f"PyTorch {version} autograd"] = autograd
        methods[f"PyTorch {version} gradient by hand"] = by_hand
    except ImportError:
        version = None
    methods["memory-read bound (one pass over the data)"] = lambda: read_once(XT, Y)
    reference = hand_fused(theta, XT, Y)
    for name, f in methods.items():
        out = f()
        if not name.startswith("memory"):
            np.testing.assert_allclose(out[1], reference[1], rtol=1e-9, atol=1e-15, err_msg=name)
    times = {name: [] for name in methods}
    cpu = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, f in methods.items():
            c, t = time.thread_time(), time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.thread_time() - c)
    best = {name: min(ts) for name, ts in cpu.items()}
    ours = best["symgrad Objective.value_and_grad"]
    bound = best["memory-read bound (one pass over the data)"]
    print(f"logistic loss + gradient, d = {D}, N = {n:,}, float64, one thread; {args.rounds} rounds "
          f"(numba {numba.__version__}, numpy {np.__version__}{', torch ' + version if version else ''})")
    print("| method | fastest, CPU | fastest, wall | median, wall | CPU time / symgrad's |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {best[name] * 1e3:.1f} ms | {min(ts) * 1e3:.1f} ms | {statistics.median(ts) * 1e3:.1f} ms "
              f"| {best[name] / ours:.2f} |")
    data_bytes = (D + 1) * n * 8
    print(f"data: {data_bytes / 1e6:.0f} MB, read once at {data_bytes / bound / 1e9:.1f} GB/s; "
          f"symgrad runs at {bound / ours:.0%} of the memory-read bound")


if __name__ == "__main__":
    main()
