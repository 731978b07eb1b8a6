"""Autograd timings, as ratios measured in one run (medians of repeats; compile apart).

(a) mean logistic-regression loss and gradient, N = 10^6 samples, 10 features:
    the compiled symbolic ``Objective.value_and_grad`` against ``autograd.value_and_grad``
    of the same SymPy expression, and against a tape written with matrices.
(b) a dense 64-128-10 ReLU network with softmax cross-entropy, batch 10^4: the autograd
    layers against backpropagation written by hand in NumPy.

Run: ``python bench/bench_autograd.py``
"""

import os
import time

# One BLAS thread: on a shared 2-core machine, threads fighting other work make the
# matrix products of both sides noisy; the ratio is what is measured.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad import autograd as ag  # noqa: E402
from symgrad.autograd.layers import Linear, ReLU, Sequential, cross_entropy  # noqa: E402


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def paired_medians(f, g, repeats):
    """Medians of ``f`` and ``g`` timed alternately, so that drift in load hits both."""
    tf, tg = [], []
    for _ in range(repeats):
        tf.append(median_time(f, 1))
        tg.append(median_time(g, 1))
    return float(np.median(tf)), float(np.median(tg))


def logistic_regression(n=10**6, d=10, repeats=7):
    rng = np.random.default_rng(0)
    xs = sp.symbols(f"x0:{d}")
    ws = sp.symbols(f"w0:{d}")
    b, t = sp.symbols("b t")
    z = sum(w * x for w, x in zip(ws, xs)) + b
    loss = sp.log(1 + sp.exp(z)) - t * z
    X = rng.normal(size=(n, d))
    T = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    theta = 0.1 * rng.normal(size=d + 1)
    columns = [X[:, j].copy() for j in range(d)] + [T]

    start = time.perf_counter()
    obj = sg.Objective(loss, list(ws) + [b], data=list(xs) + [t])
    obj.value_and_grad(theta, *columns)
    compile_time = time.perf_counter() - start
    data = dict(zip(list(xs) + [t], columns))
    symbolic, tape = paired_medians(lambda: obj.value_and_grad(theta, *columns),
                                    lambda: ag.value_and_grad(loss, list(ws) + [b], theta, data=data),
                                    repeats)

    def matrix_tape():
        w = ag.Tensor(theta[:d], requires_grad=True)
        c = ag.Tensor(theta[d], requires_grad=True)
        zz = X @ w + c
        # log(1 + e^z) written stably: max(z, 0) + log(1 + e^{-|z|})
        value = (zz.relu() + (1.0 + (-zz.abs()).exp()).log() - T * zz).mean()
        value.backward()
        return value.item(), w.grad, c.grad

    matrix = median_time(matrix_tape, repeats)
    v_sym, g_sym = obj.value_and_grad(theta, *columns)
    v_ag, g_ag = ag.value_and_grad(loss, list(ws) + [b], theta, data=data)
    agree = max(abs(v_sym - v_ag), float(np.max(np.abs(g_sym - g_ag))))
    print(f"(a) logistic regression, N={n:,}, {d} features (median of {repeats})")
    print(f"    compiled symbolic value_and_grad  {symbolic * 1e3:8.1f} ms  (compile {compile_time:.1f} s, apart)")
    print(f"    autograd on the SymPy expression  {tape * 1e3:8.1f} ms  ratio {tape / symbolic:5.1f}x")
    print(f"    autograd with matrices (X @ w)    {matrix * 1e3:8.1f} ms  ratio {matrix / symbolic:5.1f}x")
    print(f"    largest difference symbolic vs autograd: {agree:.1e}")


def dense_network(n=10**4, sizes=(64, 128, 10), repeats=31):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[2], size=n)
    net = Sequential(Linear(sizes[0], sizes[1], seed=2), ReLU(), Linear(sizes[1], sizes[2], seed=3))
    W1, b1, W2, b2 = (p.data for p in net.parameters())

    def by_hand():
        z1 = X @ W1.T + b1
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ W2.T + b2
        s = z2 - z2.max(axis=1, keepdims=True)
        e = np.exp(s)
        lse = np.log(e.sum(axis=1))
        loss = np.mean(lse - s[np.arange(n), y])
        p = e / e.sum(axis=1, keepdims=True)
        p[np.arange(n), y] -= 1.0
        dz2 = p / n
        dW2, db2 = dz2.T @ a1, dz2.sum(axis=0)
        dz1 = (dz2 @ W2) * (z1 > 0)
        dW1, db1 = dz1.T @ X, dz1.sum(axis=0)
        return loss, (dW1, db1, dW2, db2)

    def on_tape():
        net.zero_grad()
        loss = cross_entropy(net(X), y)
        loss.backward()
        return loss.item(), [p.grad for p in net.parameters()]

    hand_loss, hand_grads = by_hand()
    tape_loss, tape_grads = on_tape()
    agree = max(float(np.max(np.abs(a - b))) for a, b in zip(hand_grads, tape_grads))
    for _ in range(3):  # warm both
        by_hand(), on_tape()
    hand, tape = paired_medians(by_hand, on_tape, repeats)
    print(f"(b) dense {'-'.join(map(str, sizes))} ReLU + softmax CE, batch {n:,} (median of {repeats})")
    print(f"    NumPy backprop by hand  {hand * 1e3:7.2f} ms")
    print(f"    autograd layers         {tape * 1e3:7.2f} ms  ratio {tape / hand:4.2f}x (target <= 1.5x)")
    print(f"    loss difference {abs(hand_loss - tape_loss):.1e}, largest gradient difference {agree:.1e}")


if __name__ == "__main__":
    dense_network()
    logistic_regression()
