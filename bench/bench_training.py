"""Training-loop benchmark: logistic regression, N = 10^5 samples, 10 features.

Adam(lr=0.01), batch 256, 5 epochs, shuffled with a fixed seed (the same
permutations in every implementation), float64 everywhere, the full-data loss
computed after each epoch. Compared: ``sg.fit`` with the compiled objective, the
same loop written by hand in NumPy, and, when importable, PyTorch
(``torch.optim.Adam``) and JAX + optax (a jitted step). Prints the median time
of the repeats, the ratio to symgrad, and the final losses (which must agree to
1e-6). Compile / warm-up time is reported apart.

    python bench/bench_training.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import sympy as sp

import symgrad as sg

N, FEATURES, BATCH, EPOCHS, LR, SEED = 100_000, 10, 256, 5, 0.01, 0


def make_data():
    rng = np.random.default_rng(42)
    x = rng.standard_normal((N, FEATURES))
    w_true = rng.standard_normal(FEATURES)
    y = (rng.random(N) < 1 / (1 + np.exp(-(x @ w_true + 0.5)))).astype(np.float64)
    return np.ascontiguousarray(x), y


def permutations():
    rng = np.random.default_rng(SEED)
    return [rng.permutation(N) for _ in range(EPOCHS)]


def timed(run, repeats):
    times, loss = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        loss = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), loss


def symgrad_runner(x, y):
    ws = sp.symbols(f"w0:{FEATURES}")
    b = sp.Symbol("b")
    xs = sp.symbols(f"x0:{FEATURES}")
    t = sp.Symbol("y")
    z = sum(w * xi for w, xi in zip(ws, xs)) + b
    start = time.perf_counter()
    obj = sg.Objective(sp.log(1 + sp.exp(z)) - t * z, [*ws, b], [*xs, t])
    columns = [x[:, i].copy() for i in range(FEATURES)] + [y]
    sg.fit(obj, columns, x0=np.zeros(FEATURES + 1), optimizer=sg.optim.Adam(LR), epochs=1, batch_size=BATCH)
    compile_time = time.perf_counter() - start

    def run():
        r = sg.fit(obj, columns, x0=np.zeros(FEATURES + 1), optimizer=sg.optim.Adam(LR), epochs=EPOCHS,
                   batch_size=BATCH, seed=SEED)
        return r.loss

    return run, compile_time


def numpy_runner(x, y):
    def loss_of(w, b):
        z = x @ w + b
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def run():
        theta = np.zeros(FEATURES + 1)
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        g = np.empty_like(theta)
        step = 0
        loss_of(theta[:-1], theta[-1])
        for perm in permutations():
            for start in range(0, N, BATCH):
                idx = perm[start:start + BATCH]
                xb, yb = x[idx], y[idx]
                p = 1 / (1 + np.exp(-(xb @ theta[:-1] + theta[-1])))
                r = p - yb
                g[:-1] = xb.T @ r / len(idx)
                g[-1] = r.mean()
                step += 1
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                denom = np.sqrt(v) / np.sqrt(1 - 0.999**step) + 1e-8
                theta -= (LR / (1 - 0.9**step)) * m / denom
            loss = loss_of(theta[:-1], theta[-1])
        return loss

    return run, 0.0


def torch_runner(x, y):
    import torch

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def run():
        w = torch.zeros(FEATURES, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([w, b], lr=LR)
        with torch.no_grad():
            bce(xt @ w + b, yt)
        for perm in permutations():
            perm_t = torch.from_numpy(perm)
            for start in range(0, N, BATCH):
                idx = perm_t[start:start + BATCH]
                opt.zero_grad()
                loss = bce(xt[idx] @ w + b, yt[idx])
                loss.backward()
                opt.step()
            with torch.no_grad():
                full = float(bce(xt @ w + b, yt))
        return full

    start = time.perf_counter()
    run()
    return run, time.perf_counter() - start


def jax_runner(x, y):
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

    full_loss = jax.jit(lambda theta: loss_fn(theta, xj, yj))

    def run():
        theta = jnp.zeros(FEATURES + 1)
        state = opt.init(theta)
        full_loss(theta).block_until_ready()
        for perm in permutations():
            for start in range(0, N, BATCH):
                theta, state = step(theta, state, perm[start:start + BATCH])
            loss = float(full_loss(theta))
        return loss

    start = time.perf_counter()
    run()
    return run, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x, y = make_data()
    steps = EPOCHS * -(-N // BATCH)
    print(f"logistic regression: N={N}, {FEATURES} features, Adam(lr={LR}), batch {BATCH}, "
          f"{EPOCHS} epochs = {steps} updates; median of {args.repeats} runs\n")
    rows = []
    for name, make in [("symgrad (sg.fit)", symgrad_runner), ("NumPy by hand", numpy_runner),
                       ("PyTorch", torch_runner), ("JAX + optax", jax_runner)]:
        try:
            run, compile_time = make(x, y)
        except ImportError as exc:
            print(f"{name:18s} skipped ({exc.name} not installed)")
            continue
        seconds, loss = timed(run, args.repeats)
        rows.append((name, seconds, loss, compile_time))
    base_time, base_loss = rows[0][1], rows[0][2]
    print(f"{'implementation':18s} {'median s':>9s} {'per step us':>12s} {'x symgrad':>10s} "
          f"{'final loss':>14s} {'warm-up s':>10s}")
    for name, seconds, loss, compile_time in rows:
        print(f"{name:18s} {seconds:9.4f} {1e6 * seconds / steps:12.2f} {seconds / base_time:10.2f} "
              f"{loss:14.10f} {compile_time:10.2f}")
    worst = max(abs(loss - base_loss) for _, _, loss, _ in rows)
    print(f"\nlargest final-loss difference to symgrad: {worst:.2e} ({'ok' if worst < 1e-6 else 'MISMATCH'})")


if __name__ == "__main__":
    main()
