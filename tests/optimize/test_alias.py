"""Each named optimizer against the torch.optim update equations, written out in NumPy here."""

import numpy as np
import pytest

from symgrad import optim

RNG = np.random.default_rng(7)
X0 = RNG.standard_normal(4)
GRADS = [RNG.standard_normal(4) for _ in range(4)]


def run(opt, x0=X0, grads=GRADS):
    x = x0.copy()
    state = opt.init(x)
    for g in grads:
        u, state = opt.update(g.copy(), state, x)
        x = x + u
    return x


def torch_sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    x, buf = X0.copy(), None
    for g in GRADS:
        d = g + weight_decay * x
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        x = x - lr * d
    return x


def torch_adagrad(lr, lr_decay=0.0, eps=1e-10, init_acc=0.0, weight_decay=0.0):
    x, s = X0.copy(), np.full(4, init_acc)
    for step, g in enumerate(GRADS, start=1):
        d = g + weight_decay * x
        clr = lr / (1 + (step - 1) * lr_decay)
        s = s + d * d
        x = x - clr * d / (np.sqrt(s) + eps)
    return x


def torch_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    x, v = X0.copy(), np.zeros(4)
    for g in GRADS:
        d = g + weight_decay * x
        v = alpha * v + (1 - alpha) * d * d
        x = x - lr * d / (np.sqrt(v) + eps)
    return x


def torch_adam(lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    x, m, v = X0.copy(), np.zeros(4), np.zeros(4)
    for step, g in enumerate(GRADS, start=1):
        if decoupled:
            x = x * (1 - lr * weight_decay)
            d = g
        else:
            d = g + weight_decay * x
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        step_size = lr / (1 - b1**step)
        denom = np.sqrt(v) / np.sqrt(1 - b2**step) + eps
        x = x - step_size * m / denom
    return x


CASES = [
    ("GradientDescent", optim.GradientDescent(0.1), torch_sgd(0.1)),
    ("SGD", optim.SGD(0.1), torch_sgd(0.1)),
    ("SGD momentum", optim.SGD(0.1, momentum=0.9), torch_sgd(0.1, momentum=0.9)),
    ("SGD nesterov", optim.SGD(0.1, momentum=0.9, nesterov=True), torch_sgd(0.1, 0.9, nesterov=True)),
    ("SGD dampening+wd", optim.SGD(0.05, momentum=0.5, dampening=0.3, weight_decay=0.1),
     torch_sgd(0.05, 0.5, dampening=0.3, weight_decay=0.1)),
    ("Adagrad", optim.Adagrad(0.3), torch_adagrad(0.3)),
    ("Adagrad decay", optim.Adagrad(0.3, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.2),
     torch_adagrad(0.3, lr_decay=0.1, init_acc=0.5, weight_decay=0.2)),
    ("RMSProp", optim.RMSProp(0.01), torch_rmsprop(0.01)),
    ("RMSProp alpha", optim.RMSProp(0.02, alpha=0.9, eps=1e-6, weight_decay=0.1),
     torch_rmsprop(0.02, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("Adam", optim.Adam(0.01), torch_adam(0.01)),
    ("Adam betas", optim.Adam(0.05, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1),
     torch_adam(0.05, 0.8, 0.99, 1e-6, weight_decay=0.1)),
    ("AdamW", optim.AdamW(0.01), torch_adam(0.01, weight_decay=0.01, decoupled=True)),
    ("AdamW wd", optim.AdamW(0.1, weight_decay=0.3), torch_adam(0.1, weight_decay=0.3, decoupled=True)),
]


@pytest.mark.parametrize("name, opt, expected", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_update_equations(name, opt, expected):
    np.testing.assert_allclose(run(opt), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name, opt, expected", CASES, ids=[c[0] for c in CASES])
def test_reused_optimizer_starts_from_fresh_state(name, opt, expected):
    first = run(opt)
    np.testing.assert_array_equal(run(opt), first)


def test_torch_default_constants():
    assert "beta1=0.9, beta2=0.999, eps=1e-08" in repr(optim.Adam())
    assert "lr=0.001" in repr(optim.Adam())
    assert "weight_decay=0.01" in repr(optim.AdamW())
    assert "alpha=0.99, eps=1e-08" in repr(optim.RMSProp())
    assert "lr=0.01" in repr(optim.RMSProp())
    assert "lr_decay=0.0, eps=1e-10, initial_accumulator_value=0.0" in repr(optim.Adagrad())
    assert "momentum=0.0, nesterov=False" in repr(optim.SGD())


def test_schedule_as_learning_rate_changes_the_step():
    sched = optim.step_schedule(0.1, step_size=2, gamma=0.5)
    x = X0.copy()
    opt = optim.GradientDescent(sched)
    state = opt.init(x)
    for step, g in enumerate(GRADS):
        u, state = opt.update(g, state, x)
        np.testing.assert_allclose(u, -0.1 * 0.5 ** (step // 2) * g, rtol=1e-15)


def test_clip_norm_rescales_before_the_update():
    g = np.array([3.0, 4.0, 0.0, 0.0])
    opt = optim.GradientDescent(1.0, clip_norm=1.0)
    u, _ = opt.update(g, opt.init(np.zeros(4)), np.zeros(4))
    np.testing.assert_allclose(u, [-0.6, -0.8, 0.0, 0.0], rtol=1e-15)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optim.Adam(-1.0), "lr must be a finite positive"),
        (lambda: optim.Adam("0.1"), "lr must be a number or a schedule"),
        (lambda: optim.Adam(0.1, beta1=1.0), r"beta1 must lie in \[0.0, 1.0\)"),
        (lambda: optim.SGD(0.1, nesterov=True), "Nesterov momentum requires a momentum > 0"),
        (lambda: optim.SGD(0.1, momentum=1.5), "momentum must lie in"),
        (lambda: optim.AdamW(0.1, weight_decay=-1), "weight_decay must lie in"),
        (lambda: optim.RMSProp(0.1, alpha=2.0), "alpha must lie in"),
        (lambda: optim.GradientDescent(0.1, clip_norm=0.0), "max_norm must be positive"),
    ],
)
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_optimizers_are_chains_with_readable_repr():
    opt = optim.Adam(0.01, weight_decay=0.1)
    assert repr(opt) == "Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.1)"
    assert isinstance(opt, optim.GradientTransformation)
