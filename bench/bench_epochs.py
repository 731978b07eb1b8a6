"""Compiled training epochs: ``sg.fit`` against hand-written loops, NumPy, JAX + optax and PyTorch.

Two workloads, one thread each, the same seeded permutations in every implementation
(``numpy.random.default_rng(seed).permutation(N)`` once per epoch, as ``sg.fit`` draws
them), the full-data loss computed after each epoch everywhere:

1. logistic regression, N = 10^5 samples, d = 10 features, Adam(lr=0.01), batch 256,
   5 epochs (1,955 updates), float64: symgrad, a hand-written ``@njit`` epoch loop
   (gather, gradient and Adam in one call per epoch), NumPy by hand, JAX + optax (a
   jitted step), PyTorch (``torch.optim.Adam``);
2. the 64-32-10 ReLU network of ``examples/symbolic_network.py`` (2,410 parameters,
   cross-entropy, 3,000 images), Adam(lr=0.01), batch 64: time per epoch of symgrad,
   PyTorch in float64 and float32, JAX + optax in float64 and float32.

Each repeat runs every implementation once, in turn (a load that changes during the
run hits all of them); the table shows the median of the CPU time of the process
(``time.process_time``: on a shared machine the wall-clock time also counts the
time slices of other jobs; threads a library starts on its own are counted too) and,
beside it, of the wall-clock time. Compilation and warm-up are timed apart. The final losses must agree (float64 runs to 1e-8), or the table says MISMATCH.
JAX, optax and PyTorch are bench-only (``pip install torch jax jaxlib optax``); an
implementation whose package is missing is skipped.

    python bench/bench_epochs.py [--repeats 5] [--network-epochs 5]
"""

from __future__ import annotations

import os

for _name in ("SYMGRAD_NUM_THREADS", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402

N, FEATURES, BATCH, EPOCHS, LR, SEED = 100_000, 10, 256, 5, 0.01, 0
NET_BATCH, NET_LR = 64, 0.01
B1, B2, EPS = 0.9, 0.999, 1e-8


def permutations(n: int, epochs: int, seed: int = SEED):
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


# ------------------------------------------------------------------ logistic regression


def logistic_data():
    rng = np.random.default_rng(42)
    x = rng.standard_normal((N, FEATURES))
    w = rng.standard_normal(FEATURES)
    y = (rng.random(N) < 1 / (1 + np.exp(-(x @ w + 0.5)))).astype(np.float64)
    return np.ascontiguousarray(x), y


def logistic_symgrad(x, y, compiled=True):
    ws, xs = sp.symbols(f"w0:{FEATURES}"), sp.symbols(f"x0:{FEATURES}")
    b, t = sp.symbols("b y")
    z = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    obj = sg.Objective(sp.log(1 + sp.exp(z)) - t * z, [*ws, b], [*xs, t])
    columns = [x[:, i].copy() for i in range(FEATURES)] + [y]

    def run():
        return sg.fit(obj, columns, x0=np.zeros(FEATURES + 1), optimizer=sg.optim.Adam(LR), epochs=EPOCHS,
                      batch_size=BATCH, seed=SEED, compiled=compiled).loss

    return run


@numba.njit(cache=True, error_model="numpy")  # as symgrad's kernels: no zero-division checks
def _logistic_epoch(x, y, order, theta, m, v, step, lr, batch):
    """One epoch of Adam on the mean of log(1 + e^z) - y z, z = x . w + b."""
    n, d = x.shape
    g = np.empty(d + 1)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        g[:] = 0.0
        for j in range(start, stop):
            i = order[j]
            z = theta[d]
            for k in range(d):
                z += theta[k] * x[i, k]
            r = 1.0 / (1.0 + math.exp(-z)) - y[i]
            for k in range(d):
                g[k] += r * x[i, k]
            g[d] += r
        step += 1
        bc1, sqrt_bc2 = 1.0 - B1**step, math.sqrt(1.0 - B2**step)
        for k in range(d + 1):
            gk = g[k] / (stop - start)
            m[k] = B1 * m[k] + (1.0 - B1) * gk
            v[k] = B2 * v[k] + (1.0 - B2) * gk * gk
            theta[k] -= lr * (m[k] / bc1) / (math.sqrt(v[k]) / sqrt_bc2 + EPS)
    return step


@numba.njit(cache=True, error_model="numpy")
def _logistic_loss(x, y, theta):  # the formula of the objective: log(1 + e^z) - y z
    n, d = x.shape
    total = 0.0
    for i in range(n):
        z = theta[d]
        for k in range(d):
            z += theta[k] * x[i, k]
        total += math.log(1.0 + math.exp(z)) - y[i] * z
    return total / n


def logistic_njit(x, y):
    def run():
        theta, m, v = np.zeros(FEATURES + 1), np.zeros(FEATURES + 1), np.zeros(FEATURES + 1)
        step, loss = 0, _logistic_loss(x, y, theta)
        for order in permutations(N, EPOCHS):
            step = _logistic_epoch(x, y, order, theta, m, v, step, LR, BATCH)
            loss = _logistic_loss(x, y, theta)
        return loss

    return run


def logistic_numpy(x, y):
    def loss_of(theta):
        z = x @ theta[:-1] + theta[-1]
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def run():
        theta, m, v = np.zeros(FEATURES + 1), np.zeros(FEATURES + 1), np.zeros(FEATURES + 1)
        g, step, loss = np.empty(FEATURES + 1), 0, loss_of(theta)
        for order in permutations(N, EPOCHS):
            for start in range(0, N, BATCH):
                idx = order[start:start + BATCH]
                xb = x[idx]
                r = 1.0 / (1.0 + np.exp(-(xb @ theta[:-1] + theta[-1]))) - y[idx]
                g[:-1], g[-1] = xb.T @ r / len(idx), r.mean()
                step += 1
                m[:] = B1 * m + (1 - B1) * g
                v[:] = B2 * v + (1 - B2) * g * g
                theta -= LR * (m / (1 - B1**step)) / (np.sqrt(v) / math.sqrt(1 - B2**step) + EPS)
            loss = loss_of(theta)
        return loss

    return run


def logistic_jax(x, y):
    import jax
    import optax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    xj, yj = jnp.asarray(x), jnp.asarray(y)
    opt = optax.adam(LR)

    def loss_fn(theta, xb, yb):
        z = xb @ theta[:-1] + theta[-1]
        return jnp.mean(jnp.logaddexp(0.0, z) - yb * z)

    @jax.jit
    def step(theta, state, idx):
        g = jax.grad(loss_fn)(theta, xj[idx], yj[idx])
        updates, state = opt.update(g, state, theta)
        return optax.apply_updates(theta, updates), state

    full = jax.jit(lambda theta: loss_fn(theta, xj, yj))

    def run():
        theta = jnp.zeros(FEATURES + 1)
        state = opt.init(theta)
        loss = float(full(theta))
        for order in permutations(N, EPOCHS):
            for start in range(0, N, BATCH):
                theta, state = step(theta, state, order[start:start + BATCH])
            loss = float(full(theta))
        return loss

    return run


def logistic_torch(x, y):
    import torch

    torch.set_num_threads(1)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def run():
        theta = torch.zeros(FEATURES + 1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([theta], lr=LR)
        with torch.no_grad():
            loss = float(bce(xt @ theta[:-1] + theta[-1], yt))
        for order in permutations(N, EPOCHS):
            order = torch.from_numpy(order)
            for start in range(0, N, BATCH):
                idx = order[start:start + BATCH]
                opt.zero_grad()
                bce(xt[idx] @ theta[:-1] + theta[-1], yt[idx]).backward()
                opt.step()
            with torch.no_grad():
                loss = float(bce(xt @ theta[:-1] + theta[-1], yt))
        return loss

    return run


# ------------------------------------------------------------------ the 64-32-10 network


def _example():
    path = Path(__file__).resolve().parent.parent / "examples" / "symbolic_network.py"
    spec = importlib.util.spec_from_file_location("symbolic_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def network_data():
    ex = _example()
    rng = np.random.default_rng(0)
    prototypes = (rng.random((ex.CLASSES, ex.SIDE * ex.SIDE)) < 0.3).astype(float)
    images, labels = ex.make_images(3000, prototypes, rng)
    hidden, side = ex.HIDDEN, ex.SIDE * ex.SIDE
    theta0 = np.concatenate([rng.normal(size=hidden * side) / ex.SIDE, np.zeros(hidden),
                             rng.normal(size=ex.CLASSES * hidden) / np.sqrt(hidden), np.zeros(ex.CLASSES)])
    return ex, images, labels, theta0


def network_symgrad(ex, images, labels, theta0, epochs, compiled=True):
    loss, params, pixels, onehot = ex.network()
    obj = sg.Objective(loss, params, pixels + onehot)
    columns = [images[:, i].copy() for i in range(images.shape[1])]
    columns += [(labels == k).astype(float) for k in range(ex.CLASSES)]

    def run():
        return sg.fit(obj, columns, x0=theta0, optimizer=sg.optim.Adam(NET_LR), epochs=epochs,
                      batch_size=NET_BATCH, seed=SEED, compiled=compiled).loss

    return run


def _split(ex, theta0):
    hidden, side, classes = ex.HIDDEN, ex.SIDE * ex.SIDE, ex.CLASSES
    w1, b1, w2, b2 = np.split(theta0, np.cumsum([hidden * side, hidden, classes * hidden]))
    return w1.reshape(hidden, side), b1, w2.reshape(classes, hidden), b2


def network_torch(ex, images, labels, theta0, epochs, dtype):
    import torch

    torch.set_num_threads(1)
    dtype = getattr(torch, dtype)
    xt, yt = torch.from_numpy(images).to(dtype), torch.from_numpy(labels)
    ce = torch.nn.functional.cross_entropy

    def run():
        params = [torch.tensor(p, dtype=dtype, requires_grad=True) for p in _split(ex, theta0)]
        w1, b1, w2, b2 = params
        opt = torch.optim.Adam(params, lr=NET_LR)

        def loss_of(xb, yb):
            return ce(torch.relu(xb @ w1.T + b1) @ w2.T + b2, yb)

        with torch.no_grad():
            loss = float(loss_of(xt, yt))
        for order in permutations(len(labels), epochs):
            order = torch.from_numpy(order)
            for start in range(0, len(labels), NET_BATCH):
                idx = order[start:start + NET_BATCH]
                opt.zero_grad()
                loss_of(xt[idx], yt[idx]).backward()
                opt.step()
            with torch.no_grad():
                loss = float(loss_of(xt, yt))
        return loss

    return run


def network_jax(ex, images, labels, theta0, epochs, dtype):
    import jax
    import optax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    xj, yj = jnp.asarray(images, dtype=dtype), jnp.asarray(labels)
    opt = optax.adam(NET_LR)

    def loss_fn(params, xb, yb):
        w1, b1, w2, b2 = params
        logits = jax.nn.relu(xb @ w1.T + b1) @ w2.T + b2
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, yb))

    @jax.jit
    def step(params, state, idx):
        g = jax.grad(loss_fn)(params, xj[idx], yj[idx])
        updates, state = opt.update(g, state, params)
        return optax.apply_updates(params, updates), state

    full = jax.jit(lambda params: loss_fn(params, xj, yj))

    def run():
        params = tuple(jnp.asarray(p, dtype=dtype) for p in _split(ex, theta0))
        state = opt.init(params)
        loss = float(full(params))
        for order in permutations(len(labels), epochs):
            for start in range(0, len(labels), NET_BATCH):
                params, state = step(params, state, order[start:start + NET_BATCH])
            loss = float(full(params))
        return loss

    return run


# ------------------------------------------------------------------ driver


def measure(makers, repeats):
    """Build each runner, warm it (compile), then time ``repeats`` rounds taken in turn."""
    runners, rows = {}, {}
    for name, make in makers:
        start = time.perf_counter()
        try:
            run = make()
        except ImportError as exc:
            print(f"  {name}: skipped ({exc.name} not installed)")
            continue
        loss = run()
        runners[name] = run
        rows[name] = {"warm_up": time.perf_counter() - start, "cpu": [], "wall": [], "loss": loss}
    for _ in range(repeats):
        for name, run in runners.items():
            start, cpu = time.perf_counter(), time.process_time()
            rows[name]["loss"] = run()
            rows[name]["cpu"].append(time.process_time() - cpu)
            rows[name]["wall"].append(time.perf_counter() - start)
    for row in rows.values():
        row["median"] = statistics.median(row["cpu"])
        row["wall_median"] = statistics.median(row["wall"])
    return rows


def report(rows, base: str, unit: float, unit_name: str, check: tuple):
    base_time, base_loss = rows[base]["median"], rows[base]["loss"]
    wall = rows[base]["wall_median"]
    print(f"| implementation | {unit_name}, CPU | × symgrad | {unit_name}, wall | × symgrad | final loss "
          f"| warm-up s |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['median'] / unit * 1e3:.2f} ms | {row['median'] / base_time:.2f} | "
              f"{row['wall_median'] / unit * 1e3:.2f} ms | {row['wall_median'] / wall:.2f} | "
              f"{row['loss']:.10f} | {row['warm_up']:.2f} |")
    worst = max(abs(rows[name]["loss"] - base_loss) for name in check if name in rows)
    print(f"\nlargest float64 final-loss difference to symgrad: {worst:.2e} "
          f"({'ok' if worst < 1e-8 else 'MISMATCH'})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--network-epochs", type=int, default=5)
    args = parser.parse_args()
    print(f"numba {numba.__version__}, numpy {np.__version__}, one thread each, median of {args.repeats}\n")

    x, y = logistic_data()
    print(f"logistic regression: N={N}, d={FEATURES}, Adam(lr={LR}), batch {BATCH}, {EPOCHS} epochs "
          f"({EPOCHS * -(-N // BATCH)} updates), float64; time of the whole run\n")
    rows = measure([("symgrad sg.fit", lambda: logistic_symgrad(x, y)),
                    ("symgrad sg.fit, Python loop (compiled=False)", lambda: logistic_symgrad(x, y, False)),
                    ("hand-written @njit epoch loop", lambda: logistic_njit(x, y)),
                    ("NumPy by hand", lambda: logistic_numpy(x, y)),
                    ("JAX + optax (jitted step)", lambda: logistic_jax(x, y)),
                    ("PyTorch", lambda: logistic_torch(x, y))], args.repeats)
    report(rows, "symgrad sg.fit", 1.0, "time", tuple(rows))
    njit, jax_, numpy_ = (rows.get(k, {}).get("median") for k in
                          ("hand-written @njit epoch loop", "JAX + optax (jitted step)", "NumPy by hand"))
    ours = rows["symgrad sg.fit"]["median"]
    print(f"targets: symgrad / @njit = {ours / njit:.2f} (<= 1.3); NumPy / symgrad = {numpy_ / ours:.2f} (>= 2); "
          f"JAX / symgrad = {jax_ / ours:.2f} (>= 2.5)\n" if njit and jax_ and numpy_ else "")

    e = args.network_epochs
    ex, images, labels, theta0 = network_data()
    print(f"64-32-10 ReLU network: 3000 images, Adam(lr={NET_LR}), batch {NET_BATCH}, "
          f"{-(-3000 // NET_BATCH)} updates per epoch; time per epoch ({e} epochs per run)\n")
    rows = measure([("symgrad sg.fit (float64)", lambda: network_symgrad(ex, images, labels, theta0, e)),
                    ("symgrad, Python loop (compiled=False)",
                     lambda: network_symgrad(ex, images, labels, theta0, e, False)),
                    ("PyTorch float64", lambda: network_torch(ex, images, labels, theta0, e, "float64")),
                    ("PyTorch float32", lambda: network_torch(ex, images, labels, theta0, e, "float32")),
                    ("JAX + optax float64", lambda: network_jax(ex, images, labels, theta0, e, np.float64)),
                    ("JAX + optax float32", lambda: network_jax(ex, images, labels, theta0, e, np.float32))],
                   args.repeats)
    report(rows, "symgrad sg.fit (float64)", e, "per epoch",
           ("symgrad, Python loop (compiled=False)", "PyTorch float64", "JAX + optax float64"))
    if "PyTorch float64" in rows:
        print(f"target: PyTorch float64 / symgrad = "
              f"{rows['PyTorch float64']['median'] / rows['symgrad sg.fit (float64)']['median']:.2f} (>= 2)")


if __name__ == "__main__":
    main()
