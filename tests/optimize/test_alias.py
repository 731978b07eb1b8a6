"""Each named optimizer against the torch.optim update equations, written out in NumPy here."""

import warnings

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim

RNG = np.random.default_rng(7)
X0 = RNG.standard_normal(4)
GRADS = [RNG.standard_normal(4) for _ in range(4)]

# The gradient of L(w) = w . g with respect to w is g: fit on one sample per batch,
# in order, feeds the optimizer the gradients GRADS exactly, through the compiled
# epoch or the Python loop.
W, G = sp.symbols("w0:4"), sp.symbols("g0:4")
LINEAR = sg.Objective(sum(w * g for w, g in zip(W, G)), W, G)
EPOCHS = {"one step": 1, "many steps": 3}  # "many": GRADS three times over, 12 updates
PATHS = ["update", "fit, Python loop", "fit, compiled epoch"]


def run(opt, path="update", epochs=1):
    """The parameters after the updates on GRADS, repeated ``epochs`` times."""
    if path == "update":
        x = X0.copy()
        state = opt.init(x)
        for g in GRADS * epochs:
            u, state = opt.update(g.copy(), state, x)
            x = x + u
        return x
    columns = [np.array([g[i] for g in GRADS]) for i in range(4)]
    compiled = path == "fit, compiled epoch"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the compiled path must not fall back to the Python loop
        r = sg.fit(LINEAR, columns, x0=X0, optimizer=opt, epochs=epochs, batch_size=1, shuffle=False,
                   check=False, compiled=compiled)
    assert r.steps == 4 * epochs and r.message.startswith("reached the epoch limit")
    return r.x


def _lr(lr, step):
    return lr(step) if callable(lr) else lr


def _clip(g, clip):
    norm = np.sqrt(np.sum(g * g))
    return g * (clip / norm) if clip is not None and norm > clip else g


def torch_sgd(grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, clip=None):
    x, buf = X0.copy(), None
    for step, g in enumerate(grads):
        d = _clip(g, clip) + weight_decay * x
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        x = x - _lr(lr, step) * d
    return x


def torch_adagrad(grads, lr, lr_decay=0.0, eps=1e-10, init_acc=0.0, weight_decay=0.0):
    x, s = X0.copy(), np.full(4, init_acc)
    for step, g in enumerate(grads, start=1):
        d = g + weight_decay * x
        clr = lr / (1 + (step - 1) * lr_decay)
        s = s + d * d
        x = x - clr * d / (np.sqrt(s) + eps)
    return x


def torch_rmsprop(grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, clip=None):
    x, v = X0.copy(), np.zeros(4)
    for g in grads:
        d = _clip(g, clip) + weight_decay * x
        v = alpha * v + (1 - alpha) * d * d
        x = x - lr * d / (np.sqrt(v) + eps)
    return x


def torch_adam(grads, lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, clip=None):
    x, m, v = X0.copy(), np.zeros(4), np.zeros(4)
    for step, g in enumerate(grads, start=1):
        g = _clip(g, clip)
        rate = _lr(lr, step - 1)
        if decoupled:
            x = x * (1 - rate * weight_decay)
            d = g
        else:
            d = g + weight_decay * x
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        step_size = rate / (1 - b1**step)
        denom = np.sqrt(v) / np.sqrt(1 - b2**step) + eps
        x = x - step_size * m / denom
    return x


def halving(t):  # lr_t = 0.1 * 0.5 ** floor(t / 2), torch's StepLR(step_size=2, gamma=0.5)
    return 0.1 * 0.5 ** (t // 2)


def cosine(t):  # lr_t = 0.05 (1 + cos(pi min(t, 6) / 6)) / 2, torch's CosineAnnealingLR(T_max=6)
    return 0.05 * (1 + np.cos(np.pi * min(t, 6) / 6)) / 2


CASES = [
    ("GradientDescent", optim.GradientDescent(0.1), lambda gs: torch_sgd(gs, 0.1)),
    ("SGD", optim.SGD(0.1), lambda gs: torch_sgd(gs, 0.1)),
    ("SGD momentum", optim.SGD(0.1, momentum=0.9), lambda gs: torch_sgd(gs, 0.1, momentum=0.9)),
    ("SGD nesterov", optim.SGD(0.1, momentum=0.9, nesterov=True),
     lambda gs: torch_sgd(gs, 0.1, 0.9, nesterov=True)),
    ("SGD dampening+wd", optim.SGD(0.05, momentum=0.5, dampening=0.3, weight_decay=0.1),
     lambda gs: torch_sgd(gs, 0.05, 0.5, dampening=0.3, weight_decay=0.1)),
    ("SGD step schedule+clip", optim.SGD(optim.step_schedule(0.1, step_size=2, gamma=0.5), momentum=0.9,
                                         clip_norm=1.0), lambda gs: torch_sgd(gs, halving, 0.9, clip=1.0)),
    ("Adagrad", optim.Adagrad(0.3), lambda gs: torch_adagrad(gs, 0.3)),
    ("Adagrad decay", optim.Adagrad(0.3, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.2),
     lambda gs: torch_adagrad(gs, 0.3, lr_decay=0.1, init_acc=0.5, weight_decay=0.2)),
    ("RMSProp", optim.RMSProp(0.01), lambda gs: torch_rmsprop(gs, 0.01)),
    ("RMSProp alpha", optim.RMSProp(0.02, alpha=0.9, eps=1e-6, weight_decay=0.1),
     lambda gs: torch_rmsprop(gs, 0.02, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSProp clip", optim.RMSProp(0.02, clip_norm=0.5), lambda gs: torch_rmsprop(gs, 0.02, clip=0.5)),
    ("Adam", optim.Adam(0.01), lambda gs: torch_adam(gs, 0.01)),
    ("Adam betas", optim.Adam(0.05, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1),
     lambda gs: torch_adam(gs, 0.05, 0.8, 0.99, 1e-6, weight_decay=0.1)),
    ("Adam cosine+clip", optim.Adam(optim.cosine_schedule(0.05, decay_steps=6), clip_norm=0.8),
     lambda gs: torch_adam(gs, cosine, clip=0.8)),
    ("AdamW", optim.AdamW(0.01), lambda gs: torch_adam(gs, 0.01, weight_decay=0.01, decoupled=True)),
    ("AdamW wd", optim.AdamW(0.1, weight_decay=0.3), lambda gs: torch_adam(gs, 0.1, weight_decay=0.3, decoupled=True)),
]


@pytest.mark.parametrize("epochs", EPOCHS.values(), ids=EPOCHS.keys())
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name, opt, expected", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_update_equations(name, opt, expected, path, epochs):
    np.testing.assert_allclose(run(opt, path, epochs), expected(GRADS * epochs), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name, opt, expected", CASES, ids=[c[0] for c in CASES])
def test_compiled_epoch_and_python_loop_are_bit_identical(name, opt, expected, monkeypatch):
    from symgrad._epoch import CompiledEpoch

    calls = []
    run_epoch = CompiledEpoch.run
    monkeypatch.setattr(CompiledEpoch, "run", lambda self, *a: calls.append(1) or run_epoch(self, *a))
    compiled = run(opt, "fit, compiled epoch", 3)
    assert len(calls) == 3  # one compiled call per epoch
    np.testing.assert_array_equal(compiled, run(opt, "fit, Python loop", 3))
    np.testing.assert_array_equal(compiled, run(opt, "update", 3))


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
