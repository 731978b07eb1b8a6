"""fit's compiled epoch: the same run as the Python loop, its fall-back, divergence, checkpoints."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import optim
from symgrad.optimize import GradientTransformation, chain, scale_by_learning_rate

from epoch_paths import assert_same, both

A, B, X, Y = sp.symbols("a b x y")
LINE = sg.Objective((A * X + B - Y) ** 2, [A, B], [X, Y])
RNG = np.random.default_rng(3)
XS = RNG.uniform(-1, 1, 300)
COLUMNS = [XS, 3 * XS - 2 + 0.1 * RNG.standard_normal(300)]


def test_shuffled_batches_with_a_short_last_one_are_bit_identical():
    r, s = both(LINE, COLUMNS, optimizer=optim.Adam(0.05), epochs=4, batch_size=64, seed=5)
    assert_same(r, s)
    assert r.steps == 4 * 5  # 300 samples: four batches of 64 and one of 44 per epoch
    assert r.loss < 0.5 * r.history[0]


def test_batches_of_several_kernel_blocks_are_summed_in_the_python_loops_order():
    """The kernel sums 2048 samples per block: batches of 5000 are three blocks."""
    rng = np.random.default_rng(1)
    xs = rng.uniform(-1, 1, 12_000)
    r, s = both(LINE, [xs, 0.5 - xs + rng.standard_normal(12_000)], optimizer=optim.SGD(0.1, momentum=0.9,
                nesterov=True), epochs=3, batch_size=5000, seed=2)
    assert_same(r, s)
    assert r.steps == 3 * 3


def test_a_custom_block_falls_back_to_the_python_loop_once_and_says_which():
    clip_half = GradientTransformation(lambda x: (), lambda g, state, x: (0.5 * g, state), "halve()")
    opt = chain(clip_half, scale_by_learning_rate(0.1))
    with pytest.warns(UserWarning, match=r"Python loop: the block halve\(\) has no compiled form") as seen:
        r = sg.fit(LINE, COLUMNS, x0=[0.0, 0.0], optimizer=opt, epochs=3, batch_size=50, seed=0)
    assert len([w for w in seen if "Python loop" in str(w.message)]) == 1
    expected = sg.fit(LINE, COLUMNS, x0=[0.0, 0.0], optimizer=optim.GradientDescent(0.05), epochs=3,
                      batch_size=50, seed=0)
    np.testing.assert_array_equal(r.x, expected.x)  # 0.1 * (0.5 g) = 0.05 g exactly


def test_parameters_that_overflow_in_an_epoch_are_divergence_on_both_paths():
    r, s = both(LINE, COLUMNS, x0=[0.5, 0.5], optimizer=optim.GradientDescent(1.7e308), epochs=2,
                batch_size=100, seed=0)
    assert_same(r, s)
    assert r.steps == 1 and r.x.tolist() == [0.5, 0.5]
    assert r.message.startswith("diverged: parameter b became -inf at update 1 (epoch 1)")


def test_a_resumed_compiled_run_is_bit_identical_to_an_uninterrupted_one(tmp_path):
    path = tmp_path / "run.npz"
    kwargs = dict(optimizer=optim.AdamW(0.02, clip_norm=1.0), batch_size=40, seed=11)
    full = sg.fit(LINE, COLUMNS, epochs=5, **kwargs)
    losses = []

    def crash(epoch, x, loss):
        losses.append(loss)
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sg.fit(LINE, COLUMNS, epochs=5, checkpoint=path, callback=crash, **kwargs)
    resumed = sg.fit(LINE, COLUMNS, epochs=5, checkpoint=path, **kwargs)
    assert losses == list(full.history[1:3])  # the callback saw each epoch's full-data loss
    np.testing.assert_array_equal(resumed.x, full.x)
    np.testing.assert_array_equal(resumed.history, full.history)
    python = sg.fit(LINE, COLUMNS, epochs=5, compiled=False, **kwargs)
    np.testing.assert_array_equal(python.x, full.x)


def test_one_data_column_is_compiled_too():
    """A (1, N) data matrix is both C- and F-contiguous; the mean of x minimises (a - x)^2."""
    xs = np.random.default_rng(4).standard_normal(500)
    r, s = both(sg.Objective((A - X) ** 2, [A], [X]), [xs], x0=[0.0], optimizer=optim.Adam(0.1), epochs=30,
                batch_size=50, seed=1)
    assert_same(r, s)
    assert abs(r.x[0] - xs.mean()) < 0.05
