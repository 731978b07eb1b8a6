"""minimize and fit: convergence table, results, determinism, divergence, checkpoints."""

import sys

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim
from symgrad.errors import InputError

X, Y = sp.symbols("x y")
ROSENBROCK = sg.Objective((1 - X) ** 2 + 100 * (Y - X**2) ** 2, [X, Y])
PARABOLA = sg.Objective((X - 1) ** 2 + 4 * (Y + 2) ** 2, [X, Y])

# optimizer, steps, how close to the minimiser it must end
TABLE = [
    ("GradientDescent", optim.GradientDescent(1e-3), 40000, 1e-3),
    ("SGD momentum", optim.SGD(1e-3, momentum=0.9), 6000, 1e-3),
    ("SGD nesterov", optim.SGD(1e-3, momentum=0.9, nesterov=True), 6000, 1e-3),
    ("Adagrad", optim.Adagrad(0.5), 20000, 1e-3),
    ("RMSProp cosine", optim.RMSProp(optim.cosine_schedule(1e-3, 20000)), 20000, 1e-2),
    ("Adam", optim.Adam(0.02), 6000, 1e-3),
    ("AdamW", optim.AdamW(0.02, weight_decay=0.0), 6000, 1e-3),
]


@pytest.mark.parametrize("name, opt, steps, atol", TABLE, ids=[t[0] for t in TABLE])
@pytest.mark.parametrize(
    "objective, x0, x_min",
    [(ROSENBROCK, [-1.2, 1.0], [1.0, 1.0]), (PARABOLA, [3.0, 1.0], [1.0, -2.0])],
    ids=["rosenbrock", "parabola"],
)
def test_every_optimizer_reaches_the_minimum(name, opt, steps, atol, objective, x0, x_min):
    result = sg.minimize(objective, x0, optimizer=opt, steps=steps, tol=1e-5)
    np.testing.assert_allclose(result.x, x_min, atol=atol)
    assert len(result.history) == result.steps + 1


def test_result_fields_and_x0_untouched():
    x0 = np.array([3.0, 1.0])
    result = sg.minimize(PARABOLA, x0, optimizer=optim.GradientDescent(0.1), steps=500, tol=1e-9)
    np.testing.assert_array_equal(x0, [3.0, 1.0])
    assert result.converged and "converged" in result.message
    assert result.params == {X: pytest.approx(1.0), Y: pytest.approx(-2.0)}
    assert result.history[0] == pytest.approx(4.0 + 4 * 9.0)
    assert result.loss == pytest.approx(0.0, abs=1e-15)
    assert result.steps < 500
    assert "<table>" in result._repr_html_() and "converged" in str(result)


def test_without_tol_the_run_takes_every_step():
    result = sg.minimize(PARABOLA, [3.0, 1.0], optimizer=optim.Adam(0.1), steps=50)
    assert result.steps == 50 and not result.converged
    assert result.message == "reached the step limit (50 steps)"


def test_default_optimizer_is_adam_lr_0_01():
    a = sg.minimize(PARABOLA, [3.0, 1.0], steps=20)
    b = sg.minimize(PARABOLA, [3.0, 1.0], optimizer=optim.Adam(lr=0.01), steps=20)
    np.testing.assert_array_equal(a.x, b.x)


def test_callback_returning_true_stops_and_sees_each_step():
    seen = []

    def callback(step, x, loss):
        seen.append((step, loss))
        return step == 3

    result = sg.minimize(PARABOLA, [3.0, 1.0], optimizer=optim.SGD(0.01), steps=100, callback=callback)
    assert [s for s, _ in seen] == [1, 2, 3] and result.steps == 3
    assert "callback" in result.message
    assert [loss for _, loss in seen] == list(result.history[1:])


def test_divergence_stops_with_last_finite_parameters():
    result = sg.minimize(PARABOLA, [3.0, 1.0], optimizer=optim.GradientDescent(10.0), steps=10000)
    assert "diverged" in result.message and not result.converged
    assert np.all(np.isfinite(result.x)) and np.isfinite(result.loss)
    assert result.loss == PARABOLA.value(result.x)


def test_minimize_takes_a_textbook_function_and_a_callable():
    class Sphere:
        expr = X**2 + Y**2
        symbols = (X, Y)

    r = sg.minimize(Sphere(), [1.0, -1.0], optimizer=optim.GradientDescent(0.5), steps=5, tol=0.0)
    np.testing.assert_array_equal(r.x, [0.0, 0.0])
    assert r.converged and r.params == {X: 0.0, Y: 0.0}
    r = sg.minimize(lambda z: (float(z @ z), 2 * z), [1.0, 2.0], optimizer=optim.GradientDescent(0.5), steps=5)
    np.testing.assert_array_equal(r.x, [0.0, 0.0])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sg.minimize(PARABOLA, [1.0]), InputError, r"x0 has 1 entries but the objective has 2 parameters \(x, y\)"),
        (lambda: sg.minimize(PARABOLA, [np.nan, 1.0]), InputError, "non-finite value for x"),
        (lambda: sg.minimize(PARABOLA, [1.0, 1.0], optimizer="adam"), TypeError, "sg.optim.Adam"),
        (lambda: sg.minimize("x**2", [1.0]), TypeError, "sg.parse"),
        (lambda: sg.minimize(PARABOLA, [1.0, 1.0], steps=-1), ValueError, "steps must be an integer >= 0"),
        (lambda: sg.minimize(PARABOLA, [1.0, 1.0], tol=-1.0), ValueError, "tol must be None or a finite"),
    ],
)
def test_minimize_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_minimize_refuses_an_objective_with_data(line):
    obj, _ = line
    with pytest.raises(InputError, match=r"data symbols \(x, y\); use sg.fit"):
        sg.minimize(obj, [0.0, 0.0])


# ------------------------------------------------------------------ fit


@pytest.mark.parametrize(
    "opt, batch_size, epochs",
    [(optim.GradientDescent(0.5), None, 300), (optim.SGD(0.02), 1, 20), (optim.Adam(0.05), 16, 60)],
    ids=["batch GD", "SGD", "mini-batch Adam"],
)
def test_fit_recovers_the_line(line, opt, batch_size, epochs):
    obj, columns = line
    result = sg.fit(obj, columns, optimizer=opt, epochs=epochs, batch_size=batch_size, seed=1)
    np.testing.assert_allclose(result.x, [3.0, -2.0], atol=0.02)
    assert len(result.history) == epochs + 1
    per_epoch = 1 if batch_size is None else -(-200 // batch_size)
    assert result.steps == epochs * per_epoch


def test_fit_batches_cover_every_sample_once_per_epoch(line):
    obj, columns = line
    # check=False: the start-up guard evaluates a few samples of its own
    sg.fit(obj, columns, optimizer=optim.SGD(0.01), epochs=2, batch_size=64, seed=3, check=False)
    batches = obj.seen_indices
    assert [len(b) for b in batches] == [64, 64, 64, 8] * 2
    for epoch in (batches[:4], batches[4:]):
        assert np.array_equal(np.sort(np.concatenate(epoch)), np.arange(200))
    assert all(b.dtype == np.int64 for b in batches)
    assert not np.array_equal(batches[0], batches[4])


def test_fit_same_seed_same_result_other_seed_differs(line):
    obj, columns = line
    runs = [sg.fit(obj, columns, optimizer=optim.Adam(0.01), epochs=3, batch_size=10, seed=s) for s in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].history, runs[1].history)
    assert not np.array_equal(runs[0].x, runs[2].x)


def test_fit_default_x0_is_small_and_seeded(line):
    obj, columns = line
    starts = []
    sg.fit(obj, columns, epochs=1, seed=4, callback=lambda e, x, l: starts.append(x) or True)
    expected = 0.1 * np.random.default_rng(4).standard_normal(2)
    first_loss = obj.batch_value(expected, obj.prepare(*columns))
    r = sg.fit(obj, columns, epochs=0, seed=4)
    np.testing.assert_array_equal(r.x, expected)
    assert r.history[0] == first_loss


def test_fit_x0_untouched_and_no_shuffle_is_in_order(line):
    obj, columns = line
    x0 = np.array([1.0, 1.0])
    sg.fit(obj, columns, x0=x0, optimizer=optim.SGD(0.01), epochs=1, batch_size=100, shuffle=False, check=False)
    np.testing.assert_array_equal(x0, [1.0, 1.0])
    np.testing.assert_array_equal(obj.seen_indices[0], np.arange(100))


def test_fit_divergence(line):
    obj, columns = line
    result = sg.fit(obj, columns, x0=[0.0, 0.0], optimizer=optim.GradientDescent(50.0), epochs=5000)
    assert "diverged" in result.message
    assert np.all(np.isfinite(result.x)) and np.isfinite(result.loss)


def test_fit_resume_is_bit_identical_to_an_uninterrupted_run(line, tmp_path):
    obj, columns = line
    path = tmp_path / "run.npz"
    kwargs = dict(optimizer=optim.Adam(0.02), batch_size=32, seed=11)
    full = sg.fit(obj, columns, epochs=6, **kwargs)

    def crash(epoch, x, loss):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sg.fit(obj, columns, epochs=6, checkpoint=path, callback=crash, **kwargs)
    part = sg.fit(obj, columns, epochs=4, checkpoint=path, **kwargs)
    assert len(part.history) == 5
    resumed = sg.fit(obj, columns, epochs=6, checkpoint=path, **kwargs)
    np.testing.assert_array_equal(resumed.x, full.x)
    np.testing.assert_array_equal(resumed.history, full.history)
    assert resumed.steps == full.steps and resumed.loss == full.loss


def test_checkpoint_from_another_run_is_refused(line, tmp_path):
    obj, columns = line
    path = tmp_path / "run.npz"
    sg.fit(obj, columns, epochs=1, batch_size=32, seed=1, checkpoint=path)
    with pytest.raises(InputError, match="written by a different run"):
        sg.fit(obj, columns, epochs=2, batch_size=16, seed=1, checkpoint=path)


def test_progress_without_tqdm_says_how_to_install(line, monkeypatch):
    obj, columns = line
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        sg.fit(obj, columns, epochs=1, progress=True)


def test_progress_with_tqdm_runs(line):
    pytest.importorskip("tqdm")
    obj, columns = line
    r = sg.fit(obj, columns, epochs=2, seed=0, progress=True)
    assert r.steps == 2


def test_fit_with_the_compiled_objective_recovers_parameters():
    a, b, x, y = sp.symbols("a b x y")
    obj = sg.Objective((a * x + b - y) ** 2, [a, b], [x, y])
    rng = np.random.default_rng(2)
    xs = rng.uniform(-2, 2, 500)
    ys = 1.5 * xs + 0.5
    r = sg.fit(obj, [xs, ys], optimizer=optim.Adam(0.05), epochs=40, batch_size=50, seed=0, tol=1e-10)
    assert r.params[a] == pytest.approx(1.5, abs=1e-6) and r.params[b] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(epochs=-1), ValueError, "epochs must be an integer >= 0"),
        (dict(batch_size=0), ValueError, "batch_size must be an integer >= 1"),
        (dict(x0=[1.0, 2.0, 3.0]), InputError, "x0 has 3 entries"),
    ],
)
def test_fit_bad_input(line, kwargs, error, match):
    obj, columns = line
    with pytest.raises(error, match=match):
        sg.fit(obj, columns, **kwargs)


def test_fit_refuses_an_objective_without_data():
    with pytest.raises(InputError, match="use sg.minimize"):
        sg.fit(PARABOLA, [])


def test_parameters_that_overflow_are_divergence_not_convergence():
    """tanh(2x)**2 is finite, with a zero gradient, at x = -inf: still not a solution."""
    x, y = sp.symbols("x y")
    big = optim.GradientDescent(1.7e308)
    r = sg.minimize(sg.Objective(sp.tanh(2 * x) ** 2, [x]), [0.3], optimizer=big)
    assert not r.converged and r.message.startswith("diverged: parameter x became -inf at step 1")
    assert r.x.tolist() == [0.3]
    r = sg.fit(sg.Objective(sp.tanh(2 * x * y) ** 2, [x], [y]), [np.ones(4)], x0=[0.3], optimizer=big)
    assert not r.converged and "parameter x became -inf" in r.message and r.x.tolist() == [0.3]


def test_newton_and_lbfgs_end_the_run_when_their_own_tests_hold():
    x, y = sp.symbols("x y")
    rosen = sg.Objective((1 - x) ** 2 + 100 * (y - x**2) ** 2, [x, y])
    for opt in (optim.LBFGS(), optim.Newton()):
        r = sg.minimize(rosen, [-1.2, 1.0], optimizer=opt, steps=1000)
        assert r.converged and r.steps < 100 and r.message.startswith("converged at step")
        np.testing.assert_allclose(r.x, [1.0, 1.0], rtol=1e-6)  # the minimiser of Rosenbrock's function
        tight = sg.minimize(rosen, [-1.2, 1.0], optimizer=opt, steps=1000, tol=1e-12)
        assert tight.converged and np.max(np.abs(rosen.grad(tight.x))) <= 1e-12


def test_a_checkpoint_is_not_resumed_on_other_data_of_the_same_size(line, tmp_path):
    obj, columns = line
    path = tmp_path / "run.npz"
    sg.fit(obj, columns, epochs=2, checkpoint=path, seed=1)
    other = [columns[0], columns[1][::-1].copy()]  # same size, other values
    with pytest.raises(InputError, match="run.npz"):
        sg.fit(obj, other, epochs=4, checkpoint=path, seed=1)
