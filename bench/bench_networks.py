"""Networks on one thread: symgrad against PyTorch, JAX and NumPy by hand.

Run: python bench/bench_networks.py [--rounds R] [--skip-cold]

Two workloads, value and gradient of the mean loss, float64 unless stated:

- the tanh MLP 2-16-16-1 (337 parameters) with a squared error, N = 10^5 samples;
- the ReLU MLP 64-32-10 (2,410 parameters) with softmax cross-entropy, a batch
  of 1,000 samples; PyTorch also in float32.

symgrad runs ``Objective.batch_value_and_grad`` on prepared data (as ``sg.fit``
calls it) and ``value_and_grad`` on the raw columns; PyTorch ``autograd.grad`` of
the loss; JAX a jitted ``value_and_grad``; NumPy the backward pass by hand. One
thread each (``SYMGRAD_NUM_THREADS``, ``torch.set_num_threads``, XLA's flags), the
methods taking turns for ``R`` rounds; the table gives the median CPU time per call
(of the calling thread; for JAX, whose XLA runs on a thread of its own, of the
process: on a shared machine the wall clock also counts the time spent waiting for
a core) and the ratio to symgrad. The gradients
are compared with PyTorch's float64 ones.

Cold start: a new process with an empty kernel cache builds the 2-16-16-1
expression, the ``Objective`` and its first gradient (derive + compile); its CPU
time is given without the imports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
import tempfile
import textwrap
import time

for _var in ("SYMGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ.setdefault("SYMGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="symgrad-bench-networks-"))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from engine_models import relu_classifier, tanh_mlp  # noqa: E402


def unpack(theta, sizes):
    """Weights (row j = unit j, as ``sg.nn.dense`` orders them) and biases of each layer."""
    out, at = [], 0
    for m, n in zip(sizes[:-1], sizes[1:]):
        w = theta[at:at + m * n].reshape(n, m)
        at += m * n
        out.append((w, theta[at:at + n]))
        at += n
    return out


def numpy_tanh_mlp(theta, X, y, sizes):
    layers = unpack(theta, sizes)
    hs, h = [X], X
    for k, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if k < len(layers) - 1:
            h = np.tanh(h)
        hs.append(h)
    r = h[:, 0] - y
    value = np.mean(r * r)
    delta = (2.0 / len(y)) * r[:, None]
    grads = []
    for k in range(len(layers) - 1, -1, -1):
        w, _ = layers[k]
        grads.append(np.concatenate([(delta.T @ hs[k]).ravel(), delta.sum(axis=0)]))
        if k:
            delta = (delta @ w) * (1.0 - hs[k] ** 2)
    return value, np.concatenate(grads[::-1])


def torch_step(torch, sizes, act, loss):
    def step(params, X, target):
        h = X
        for k in range(len(sizes) - 1):
            h = h @ params[2 * k].T + params[2 * k + 1]
            if k < len(sizes) - 2:
                h = act(h)
        value = loss(h, target)
        return value, torch.autograd.grad(value, params)
    return step


def torch_params(torch, theta, sizes, dtype):
    ps = []
    for w, b in unpack(theta, sizes):
        ps += [torch.tensor(w, dtype=dtype, requires_grad=True), torch.tensor(b, dtype=dtype, requires_grad=True)]
    return ps


def flat(grads):
    out = []
    for k in range(0, len(grads), 2):
        out += [grads[k].detach().double().numpy().ravel(), grads[k + 1].detach().double().numpy()]
    return np.concatenate(out)


def jax_value_and_grad(jax, jnp, sizes, act, loss):
    def f(params, X, target):
        h = X
        for k in range(len(sizes) - 1):
            h = h @ params[2 * k].T + params[2 * k + 1]
            if k < len(sizes) - 2:
                h = act(h)
        return loss(h, target)
    return jax.jit(jax.value_and_grad(f))


def timed(methods, rounds):
    """Median CPU time per call of each method, the methods taking turns.

    The CPU time of the calling thread (``time.thread_time``), where every method but
    JAX runs; JAX's of the whole process (``time.process_time``), as XLA computes on a
    thread of its own.
    """
    times = {name: [] for name in methods}
    for run in methods.values():
        run()  # compile / warm up
    for _ in range(rounds):
        for name, run in methods.items():
            clock = time.process_time if name.startswith("JAX") else time.thread_time
            t = clock()
            run()
            times[name].append(clock() - t)
    return {name: statistics.median(v) for name, v in times.items()}


def table(title, medians, reference, notes=""):
    print(f"\n{title}\n")
    print("| method | median CPU time | × symgrad |")
    print("|---|---|---|")
    ref = medians[reference]
    for name, t in medians.items():
        print(f"| {name} | {t * 1e3:.2f} ms | {t / ref:.2f} |")
    if notes:
        print(f"\n{notes}")


def mlp_bench(rounds, torch, jax, jnp):
    sizes, n = [2, 16, 16, 1], 100_000
    expr, params, data = tanh_mlp(sizes)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, 2)), rng.standard_normal(n)
    theta = rng.standard_normal(len(params)) * 0.3
    obj = sg.Objective(expr, params, data)
    cols = [X[:, 0].copy(), X[:, 1].copy(), y]
    prepared = obj.prepare(*cols, rows=False)
    ps64 = torch_params(torch, theta, sizes, torch.float64)
    ps32 = torch_params(torch, theta, sizes, torch.float32)
    X64, y64 = torch.tensor(X), torch.tensor(y)
    X32, y32 = X64.float(), y64.float()
    mse = lambda h, t: ((h[:, 0] - t) ** 2).mean()  # noqa: E731
    step = torch_step(torch, sizes, torch.tanh, mse)
    pj = [jnp.asarray(a) for w, b in unpack(theta, sizes) for a in (w, b)]
    vg = jax_value_and_grad(jax, jnp, sizes, jnp.tanh, mse)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    ref = flat(step(ps64, X64, y64)[1])
    got = obj.batch_value_and_grad(theta, prepared)[1]
    by_hand = numpy_tanh_mlp(theta, X, y, sizes)[1]
    diffs = (np.max(np.abs(got - ref)), np.max(np.abs(by_hand - ref)))
    medians = timed({
        f"symgrad batch_value_and_grad (engine {obj.engine!r})": lambda: obj.batch_value_and_grad(theta, prepared),
        "symgrad value_and_grad (raw columns)": lambda: obj.value_and_grad(theta, *cols),
        "PyTorch float64 autograd": lambda: step(ps64, X64, y64),
        "PyTorch float32 autograd": lambda: step(ps32, X32, y32),
        "JAX float64 jit(value_and_grad)": lambda: jax.block_until_ready(vg(pj, Xj, yj)),
        "NumPy by hand": lambda: numpy_tanh_mlp(theta, X, y, sizes),
    }, rounds)
    table("MLP 2-16-16-1 tanh, N = 100,000, value and gradient of the mean squared error", medians,
          next(iter(medians)), f"Largest gradient difference to PyTorch float64: symgrad {diffs[0]:.1e}, NumPy {diffs[1]:.1e}.")


def classifier_bench(rounds, torch, jax, jnp):
    sizes, n = [64, 32, 10], 1000
    expr, params, data = relu_classifier()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 64))
    labels = rng.integers(0, 10, n)
    onehot = np.eye(10)[labels]
    theta = rng.standard_normal(len(params)) * 0.1
    obj = sg.Objective(expr, params, data)
    cols = list(X.T.copy()) + list(onehot.T.copy())
    prepared = obj.prepare(*cols)
    ps64 = torch_params(torch, theta, sizes, torch.float64)
    ps32 = torch_params(torch, theta, sizes, torch.float32)
    X64, X32 = torch.tensor(X), torch.tensor(X).float()
    lab = torch.tensor(labels)
    step = torch_step(torch, sizes, torch.relu, torch.nn.functional.cross_entropy)
    pj = [jnp.asarray(a) for w, b in unpack(theta, sizes) for a in (w, b)]

    def jax_ce(z, t):
        return -jnp.mean(jnp.sum(t * jax.nn.log_softmax(z), axis=1))
    vg = jax_value_and_grad(jax, jnp, sizes, jax.nn.relu, jax_ce)
    Xj, tj = jnp.asarray(X), jnp.asarray(onehot)
    ref = flat(step(ps64, X64, lab)[1])
    diff = np.max(np.abs(obj.batch_value_and_grad(theta, prepared)[1] - ref))
    medians = timed({
        f"symgrad batch_value_and_grad (engine {obj.engine!r})": lambda: obj.batch_value_and_grad(theta, prepared),
        "symgrad value_and_grad (raw columns)": lambda: obj.value_and_grad(theta, *cols),
        "PyTorch float64 autograd": lambda: step(ps64, X64, lab),
        "PyTorch float32 autograd": lambda: step(ps32, X32, lab),
        "JAX float64 jit(value_and_grad)": lambda: jax.block_until_ready(vg(pj, Xj, tj)),
    }, rounds)
    table("MLP 64-32-10 ReLU, softmax cross-entropy, batch 1,000", medians, next(iter(medians)),
          f"Largest gradient difference to PyTorch float64: {diff:.1e}.")


COLD = textwrap.dedent(
    """
    import json, os, sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np, sympy as sp, symgrad as sg
    from bench_networks import tanh_mlp
    t0 = time.process_time()
    expr, params, data = tanh_mlp([2, 16, 16, 1])
    obj = sg.Objective(expr, params, data)
    t1 = time.process_time()
    cols = [np.linspace(-1, 1, 1000)] * 3
    obj.value_and_grad(np.full(len(params), 0.1), *cols)
    t2 = time.process_time()
    print(json.dumps({"objective": t1 - t0, "first_gradient": t2 - t1, "engine": obj.engine}))
    """
)


def cold_start():
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, SYMGRAD_CACHE_DIR=tempfile.mkdtemp(prefix="symgrad-cold-"))
    out = subprocess.run([sys.executable, "-c", COLD, here], env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    r = json.loads(out.stdout)
    print(f"\nCold, new process, empty cache, MLP 2-16-16-1 ({r['engine']} engine): build expression + "
          f"Objective {r['objective']:.2f} s, first gradient (compile) {r['first_gradient']:.2f} s of CPU; "
          f"total {r['objective'] + r['first_gradient']:.2f} s.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--skip-cold", action="store_true")
    args = ap.parse_args()
    import jax
    import jax.numpy as jnp
    import torch

    jax.config.update("jax_enable_x64", True)
    torch.set_num_threads(1)
    print(f"numba {__import__('numba').__version__}, torch {torch.__version__}, jax {jax.__version__}; one thread each")
    mlp_bench(args.rounds, torch, jax, jnp)
    classifier_bench(args.rounds, torch, jax, jnp)
    if not args.skip_cold:
        cold_start()


if __name__ == "__main__":
    main()
