"""Divergence is a loss or parameters that are not finite, nothing else (api.md section 6).

Each expected value is computed independently of symgrad: the updates replayed by
hand in NumPy (gradients written out), Adam as ``torch.optim.Adam`` computes it.
A run that diverges ends, on the compiled and the Python paths alike, at the last
parameters whose loss was finite; a finite loss that rises, however far, never stops
a run.
"""

import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim

from epoch_paths import assert_same, both

A, B, X, Y = sp.symbols("a b x y")
LINE = sg.Objective((A * X + B - Y) ** 2, [A, B], [X, Y])


def replay_gd(loss_and_grad, columns, x0, lr, epochs, batch_size):
    """Mini-batch gradient descent in order (no shuffling), stopped at the first loss that is not finite.

    ``loss_and_grad(theta, batch_columns) -> (mean loss, mean gradient)``. Returns
    ``(x, steps, history, why)``: ``x`` the last parameters whose loss was finite, ``why``
    one of ``"batch"``, ``"epoch"`` (the full-data loss after an epoch), ``"limit"``.
    """
    n = len(columns[0])
    theta = good = np.array(x0, dtype=np.float64)
    history, steps = [loss_and_grad(theta, columns)[0]], 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(epochs):
            for start in range(0, n, batch_size):
                loss, g = loss_and_grad(theta, [c[start:start + batch_size] for c in columns])
                if not np.isfinite(loss):
                    return good, steps, history, "batch"
                good, theta = theta, theta - lr * g
                steps += 1
            loss = loss_and_grad(theta, columns)[0]
            if not np.isfinite(loss):
                return good, steps, history, "epoch"
            good = theta
            history.append(loss)
    return theta, steps, history, "limit"


def adam_replay(loss_and_grad, x0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as ``torch.optim.Adam`` documents and computes it (bias corrections applied to the
    step and to sqrt(v), ``eps`` added after), written out in NumPy: the loss before each step
    and after the last, and the parameters."""
    p = np.array(x0, dtype=np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    losses = []
    for t in range(1, steps + 1):
        loss, g = loss_and_grad(p)
        losses.append(loss)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denominator = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
        p = p - (lr / (1 - beta1**t)) * m / denominator
    losses.append(loss_and_grad(p)[0])
    return losses, p


def line_loss_and_grad(theta, columns):
    """``mean (a x + b - y)^2`` and its gradient ``mean (2 r x, 2 r)``, ``r = a x + b - y``."""
    x, y = columns
    r = theta[0] * x + theta[1] - y
    return float(np.mean(r * r)), np.array([np.mean(2 * r * x), np.mean(2 * r)])


def log_loss_and_grad(theta, columns):
    """``mean log(a x) + 10 (a - 2)^2`` and its gradient ``1/a + 20 (a - 2)``."""
    (a,) = theta
    return float(np.mean(np.log(a * columns[0])) + 10 * (a - 2) ** 2), np.array([1 / a + 20 * (a - 2)])


# -- defect: the compiled epoch ended a diverged run at the start of the epoch --------

LOG = sg.Objective(sp.log(A * X) + 10 * (A - 2) ** 2, [A], [X])
POSITIVE = np.abs(np.random.default_rng(0).normal(size=200)) + 0.5


@pytest.mark.parametrize("batch_size, where", [(10, "update 3 (epoch 1)"), (100, "the end of epoch 1")])
def test_a_run_that_diverges_mid_epoch_ends_at_the_last_finite_parameters_on_both_paths(batch_size, where):
    """a = 1 -> 4.8 -> -6.44 (gradient 1/a + 20 (a - 2), lr 0.2): log(a x) is NaN at the third point.

    Batches of 10: the third batch loss is NaN (the compiled epoch hands that batch back
    after two updates). Batches of 100: the epoch's two updates run, and the full-data
    loss after them is NaN. Either way ``x`` is 4.8, the last point with a finite loss.
    """
    x, steps, _, why = replay_gd(log_loss_and_grad, [POSITIVE], [1.0], 0.2, 100, batch_size)
    assert why == ("batch" if batch_size == 10 else "epoch") and steps == 2
    assert x.tolist() == [1.0 + 0.2 * 19.0]  # 4.8: the gradient at 1 is exactly -19
    r, s = both(LOG, [POSITIVE], x0=[1.0], optimizer=optim.GradientDescent(0.2), epochs=100,
                batch_size=batch_size, shuffle=False)
    assert_same(r, s)
    np.testing.assert_allclose(r.x, x, rtol=1e-14)
    assert r.steps == steps and not r.converged
    assert r.message.startswith(f"diverged: the loss became nan at {where}")
    np.testing.assert_allclose(r.loss, log_loss_and_grad(x, [POSITIVE])[0], rtol=1e-12)


def test_a_run_that_overflows_after_many_compiled_updates_ends_where_the_replay_does():
    """Features up to 3000, lr 0.01, batches of 32: each update multiplies the error by ~10^4 until r^2 overflows."""
    xs = np.linspace(0, 3000, 1000)
    columns = [xs, 2 * xs + 5]
    x, steps, history, why = replay_gd(line_loss_and_grad, columns, [0.0, 0.0], 0.01, 100, 32)
    assert why == "batch" and steps > 10  # the loss grew by ~10^300 first: finite, so not divergence
    r, s = both(LINE, columns, x0=[0.0, 0.0], optimizer=optim.GradientDescent(0.01), epochs=100,
                batch_size=32, shuffle=False)
    assert_same(r, s)
    assert r.steps == steps and r.message.startswith(f"diverged: the loss became inf at update {steps + 1}")
    np.testing.assert_allclose(r.x, x, rtol=1e-9)
    np.testing.assert_allclose(r.history, history, rtol=1e-12)


# -- defect: a finite loss that grew was called divergence ----------------------------


def test_fit_one_outlying_sample_in_batches_of_one_does_not_stop_sgd():
    """Sample 123 has y = 2000: its own loss is 4e6 at x0, 2e4 times the mean loss; SGD goes on past it."""
    rng = np.random.default_rng(0)
    n = 20_000
    xs = rng.normal(size=n)
    ys = 2 * xs + 0.1 * rng.normal(size=n)
    ys[123] = 2000.0
    x, steps, history, why = replay_gd(line_loss_and_grad, [xs, ys], [0.0, 0.0], 1e-4, 1, 1)
    assert why == "limit" and steps == n
    r, s = both(LINE, [xs, ys], x0=[0.0, 0.0], optimizer=optim.SGD(1e-4), epochs=1, batch_size=1,
                shuffle=False)
    assert_same(r, s)
    assert r.steps == n and r.message == "reached the epoch limit (1 epochs)"
    np.testing.assert_allclose(r.x, x, rtol=1e-9)
    np.testing.assert_allclose(r.history, history, rtol=1e-9)


def test_fit_full_batch_adam_from_next_to_the_minimum_converges_like_torch():
    """(a x + b - y)^2 on exact data y = 3 x - 2, full batch, Adam(0.01) from (3 + 1e-6, -2 - 1e-6).

    Adam's first update moves each parameter by about lr: the full-data loss rises
    from 1.25e-12 to 7.2e-4 (5.7e8 times) before it falls to ~2e-17; torch.optim.Adam
    takes the same steps. (Near the minimum Adam divides rounding noise by sqrt(v): the
    two agree to ~1e-10 for 100 epochs, to ~1e-5 after 300.)
    """
    xs = np.linspace(0.0, 3.0, 7)
    columns = [xs, 3 * xs - 2]
    x0 = [3 + 1e-6, -2 - 1e-6]
    losses, _ = adam_replay(lambda p: line_loss_and_grad(p, columns), x0, 0.01, 300)
    assert losses[1] > 1e8 * losses[0] and losses[-1] < 1e-4 * losses[0]
    r = sg.fit(LINE, columns, x0=x0, optimizer=optim.Adam(0.01), epochs=300)
    assert r.steps == 300 and r.message == "reached the epoch limit (300 epochs)"
    np.testing.assert_allclose(r.history[:101], losses[:101], rtol=1e-8)
    np.testing.assert_allclose(r.history, losses, rtol=1e-3)
    assert r.loss < 1e-4 * r.history[0]


def test_minimize_a_finite_loss_that_grows_then_overflows_runs_to_the_overflow():
    """(x - 3)^2 from 0 with gradient descent at lr 1.1: x_k - 3 = -3 (-1.2)^k, loss 9 * 1.44^k."""
    x = sp.Symbol("x")
    r = sg.minimize(sg.Objective((x - 3) ** 2, [x]), [0.0], optimizer=optim.GradientDescent(1.1), steps=50)
    z, replay = 0.0, [9.0]
    for _ in range(50):
        z = z - 1.1 * 2 * (z - 3)
        replay.append((z - 3) ** 2)
    assert r.steps == 50 and r.message == "reached the step limit (50 steps)" and not r.converged
    np.testing.assert_allclose(r.x, [z], rtol=1e-12)
    np.testing.assert_allclose(r.history, replay, rtol=1e-12)
    # with more steps the loss overflows (9 * 1.44^k > 1.8e308 from k = 1941): that is divergence
    for step in range(51, 5001):
        z_next = z - 1.1 * 2 * (z - 3)
        if (z_next - 3) * (z_next - 3) == np.inf:
            break
        z = z_next
    r = sg.minimize(sg.Objective((x - 3) ** 2, [x]), [0.0], optimizer=optim.GradientDescent(1.1), steps=5000)
    assert r.steps == step and r.message.startswith(f"diverged: the loss became inf at step {step}; x holds")
    np.testing.assert_allclose(r.x, [z], rtol=1e-12)  # the last point whose loss was finite
    assert np.isfinite(r.loss) and r.loss == pytest.approx((r.x[0] - 3) ** 2, rel=1e-12)


def test_minimize_adam_from_next_to_the_minimum_converges_as_torch_adam_does():
    """(a - 1)^2 + (b - 2)^2 from (1 + 1e-6, 2): Adam's first step (about lr = 0.01) raises the loss
    from 1e-12 to ~1e-4, 10^8 times; Adam as torch.optim.Adam computes it takes the same steps and converges."""
    objective = sg.Objective((A - 1) ** 2 + (B - 2) ** 2, [A, B])
    r = sg.minimize(objective, [1 + 1e-6, 2.0], steps=1000)  # the default optimizer, Adam(lr=0.01)
    target = np.array([1.0, 2.0])
    losses, _ = adam_replay(lambda p: (float(np.sum((p - target) ** 2)), 2 * (p - target)), [1 + 1e-6, 2.0], 0.01, 1000)
    assert losses[1] > 1e4 * losses[0] and losses[-1] < 1e-30
    assert not r.message.startswith("diverged") and r.steps > 100
    np.testing.assert_allclose(r.history[:101], losses[:101], rtol=1e-6)  # the first 100 steps, one by one
    assert r.loss < 1e-30
