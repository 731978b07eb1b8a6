"""The loops engine's register-blocked dense gradients and kept softmax terms, against
NumPy by hand: unit and term counts that are not multiples of ``DENSE_UNITS``,
``FORWARD_UNITS`` and ``FORWARD_TERMS``, a last block
whose samples are not a multiple of ``DENSE_SAMPLES``, and rows that another slot
also adds into (not blocked: the order of those additions is kept)."""

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.codegen._loops import DENSE_SAMPLES, DENSE_UNITS, FORWARD_FROM, FORWARD_TERMS, FORWARD_UNITS


def softmax_network(n_in, n_hidden, n_out):
    x = list(sp.symbols(f"x0:{n_in}"))
    h, p1 = sg.nn.dense(x, n_hidden, activation=sg.nn.relu, name="A")
    z, p2 = sg.nn.dense(h, n_out, name="B")
    t = list(sp.symbols(f"t0:{n_out}"))
    return sg.losses.cross_entropy(z, t), p1 + p2, x + t


def numpy_softmax_network(theta, X, T, n_in, n_hidden, n_out):
    """Mean cross-entropy and its gradient, the backward pass written out in NumPy."""
    at = 0
    A = theta[at:at + n_in * n_hidden].reshape(n_hidden, n_in); at += n_in * n_hidden
    a = theta[at:at + n_hidden]; at += n_hidden
    B = theta[at:at + n_hidden * n_out].reshape(n_out, n_hidden); at += n_hidden * n_out
    b = theta[at:at + n_out]
    pre = X @ A.T + a
    h = np.maximum(pre, 0.0)
    z = h @ B.T + b
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    n = len(X)
    value = np.mean((T * (lse[:, None] - z)).sum(axis=1))
    p = np.exp(z - lse[:, None])
    dz = (p * T.sum(axis=1, keepdims=True) - T) / n
    dh = (dz @ B) * (pre > 0)
    grad = np.concatenate([(dh.T @ X).ravel(), dh.sum(axis=0), (dz.T @ h).ravel(), dz.sum(axis=0)])
    return value, grad


def test_blocked_rows_with_remainders_match_numpy():
    n_in, n_hidden, n_out = 5, max(FORWARD_FROM, 2 * FORWARD_TERMS) + 1, max(DENSE_UNITS, FORWARD_UNITS) + 2
    expr, params, data = softmax_network(n_in, n_hidden, n_out)
    obj = sg.Objective(expr, params, data, engine="loops")
    source = obj._vg_source.text
    # the first layer's gradient rows blocked (dn.rows: DENSE_UNITS rows per pass), reading
    # the adjoints themselves (d value / d sum = 1 before the bias: no scaled copy) ...
    assert "dn.rows(_a0, _y0, _g, " in source and "_Q0" not in source
    assert "_P2 = vm.empty2" in source  # ... the second layer's sums (members and terms with remainders) ...
    assert any(line.lstrip().startswith("_E") and "= vm.empty2" in line for line in source.splitlines())  # ... softmax terms kept
    rng = np.random.default_rng(3)
    n = 3 * 64 + DENSE_SAMPLES + 3  # a last block with a tail of samples
    X = rng.standard_normal((n, n_in))
    T = np.eye(n_out)[rng.integers(0, n_out, n)]
    theta = rng.standard_normal(len(params)) * 0.5
    value, grad = obj.value_and_grad(theta, *X.T, *T.T)
    want_value, want_grad = numpy_softmax_network(theta, X, T, n_in, n_hidden, n_out)
    assert np.isclose(value, want_value, rtol=1e-13, atol=0)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-11, atol=1e-14)


def test_rows_also_written_by_another_slot_are_not_blocked():
    """``h_k = tanh(sum_m W[k, m] x[m] + W[k, d-1]**2)``: the row's last weight gets a
    second term, so the rows are added one unit at a time, in the order written."""
    d, units = 4, DENSE_UNITS + 1
    x, y = sp.symbols(f"x0:{d}"), sp.Symbol("y")
    W = sp.Matrix(units, d, lambda k, m: sp.Symbol(f"W{k}_{m}"))
    out = sp.Add(*[sp.tanh(sum(W[k, m] * x[m] for m in range(d)) + W[k, d - 1] ** 2) for k in range(units)])
    obj = sg.Objective((out - y) ** 2, list(W), [*x, y], engine="loops")
    source = obj._vg_source.text
    assert "dn.row(_q, _y" in source and "dn.rows(" not in source  # a dense gradient, one row per pass
    rng = np.random.default_rng(5)
    n = 130
    X, Y = rng.standard_normal((n, d)), rng.standard_normal(n)
    theta = rng.standard_normal(units * d) * 0.4
    value, grad = obj.value_and_grad(theta, *X.T, Y)
    w = theta.reshape(units, d)
    th = np.tanh(X @ w.T + w[:, -1] ** 2)
    r = th.sum(axis=1) - Y
    dpre = (2.0 / n) * r[:, None] * (1.0 - th ** 2)
    want = dpre.T @ X
    want[:, -1] += 2.0 * w[:, -1] * dpre.sum(axis=0)
    assert np.isclose(value, np.mean(r ** 2), rtol=1e-13, atol=0)
    np.testing.assert_allclose(grad, want.ravel(), rtol=1e-11, atol=1e-14)
