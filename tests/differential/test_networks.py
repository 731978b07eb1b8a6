"""Dense networks through both engines of ``sg.Objective``, against the oracle.

The loops engine computes a network's layers with paths no generated expression
reaches: a long sum over many units added ``FORWARD_UNITS`` units and
``FORWARD_TERMS`` terms per pass, gradient rows ``DENSE_UNITS`` at a time over
``DENSE_SAMPLES`` samples with a tail, the softmax's terms kept for the reverse
pass (tests/codegen/test_loops_dense.py, against NumPy: SymPy's diff of a softmax
takes minutes), and every product term added with one fused multiply-add. Each example
draws a network (the widths around those thresholds, the activation, a squared
error summed over the outputs), its weights and a handful of samples; the
oracle differentiates the sum of the per-sample losses with SymPy's ``diff`` and
evaluates it at 40 digits with its running error bound. The mean's own rounding
(``N - 1`` additions and a division) is added to the bound of the sum.
"""

import mpmath
import numpy as np
import sympy as sp
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.codegen._loops import DENSE_SAMPLES, DENSE_UNITS, FORWARD_FROM, FORWARD_UNITS
from compare import check_float, count
from oracle import derivatives_at

SETTINGS = settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ACTIVATIONS = {"tanh": sg.nn.tanh, "relu": sg.nn.relu, "sigmoid": sg.nn.sigmoid, "softplus": sg.nn.softplus}
#: Kinks (a ReLU's zero, the softmax's maximum) closer than this to a sample are avoided.
KINK_MARGIN = 1e-6


def network(n_in, hidden, n_out, activation, loss):
    """``(loss of one sample, params, data)``: the squared error summed over the outputs,
    or the softmax cross-entropy."""
    x = list(sp.symbols(f"x0:{n_in}"))
    h, p1 = sg.nn.dense(x, hidden, activation=ACTIVATIONS[activation], name="A")
    z, p2 = sg.nn.dense(h, n_out, name="B")
    t = list(sp.symbols(f"t0:{n_out}"))
    if loss == "squared":
        return sp.Add(*[(zk - tk) ** 2 for zk, tk in zip(z, t)]), p1 + p2, x + t
    return sg.losses.cross_entropy(z, t), p1 + p2, x + t


@st.composite
def networks(draw):
    n_in = draw(st.integers(1, 3))
    # one wide layer: the next layer's sum has FORWARD_FROM terms or more (blocked forward)
    hidden = draw(st.sampled_from([DENSE_UNITS + 1, FORWARD_FROM + 1]))
    n_out = draw(st.sampled_from([1, FORWARD_UNITS + 1]))
    loss = "squared"  # SymPy's diff of a softmax cross-entropy takes minutes (tests/codegen/test_loops_dense.py: NumPy)
    activation = draw(st.sampled_from(sorted(ACTIVATIONS)))
    n = DENSE_SAMPLES + draw(st.integers(1, DENSE_SAMPLES - 1))  # one group of samples and a tail
    seed = draw(st.integers(0, 2**32 - 1))
    return n_in, hidden, n_out, activation, loss, n, seed


def samples(n_in, n_out, loss, n, rng):
    X = rng.uniform(-2, 2, size=(n, n_in))
    T = rng.uniform(-1, 1, size=(n, n_out)) if loss == "squared" else np.eye(n_out)[rng.integers(0, n_out, n)]
    return np.hstack([X, T])


@SETTINGS
@given(networks())
def test_networks_in_both_engines_match_the_oracle(drawn):
    n_in, hidden, n_out, activation, kind, n, seed = drawn
    loss, params, data = network(n_in, hidden, n_out, activation, kind)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-1, 1, len(params)) / np.sqrt(max(n_in, hidden) / 2)
    rows = samples(n_in, n_out, kind, n, rng)
    points = [{**dict(zip(params, theta.tolist())), **dict(zip(data, row.tolist()))} for row in rows]
    exact = derivatives_at(loss, params, points, order=1)
    assume(all(e is not None and e["kinks"] > KINK_MARGIN for e in exact))
    total = mpmath.fsum(e["value"] for e in exact)
    value = total / n
    value_scale = (mpmath.fsum(e["value_M"] for e in exact) + (n - 1) * mpmath.fsum(abs(e["value"]) for e in exact)) / n + abs(value)
    grad = [mpmath.fsum(e["grad"][j] for e in exact) / n for j in range(len(params))]
    grad_scale = [(mpmath.fsum(e["grad_M"][j] for e in exact) + (n - 1) * mpmath.fsum(abs(e["grad"][j]) for e in exact)) / n
                  + abs(grad[j]) for j in range(len(params))]
    what = f"{n_in}-{hidden}-{n_out} {activation}, {kind}, {n} samples, seed {seed}"
    for engine in ("loops", "scalar") if hidden < FORWARD_FROM else ("loops",):  # the scalar engine: 12 s to compile a wide one
        obj = sg.Objective(loss, params, data, engine=engine)
        assert obj.engine == engine
        path = f"Objective {engine} engine, dense network"
        got_value, got_grad = obj.value_and_grad(theta, *rows.T)
        check_float(path, got_value, value, value_scale, what)
        for j, p in enumerate(params):
            check_float(path, got_grad[j], grad[j], grad_scale[j], lambda: f"{what}: d/d{p}")
        prepared = obj.prepare(*rows.T)
        batch_value, batch_grad = obj.batch_value_and_grad(theta, prepared, np.arange(n, dtype=np.int64)[::-1].copy())
        check_float(path + " (indexed batch)", batch_value, value, value_scale, what)
        for j, p in enumerate(params):
            check_float(path + " (indexed batch)", batch_grad[j], grad[j], grad_scale[j], lambda: f"{what}: d/d{p}")
        count(path, exprs=[loss])
