"""The playground, driven headless from Python: each widget change reruns and redraws."""

import numpy as np
import pytest

from symgrad.playground import PROBLEMS, Playground, line_fit

PNG = b"\x89PNG\r\n\x1a\n"


def test_sliders_rerun_gradient_descent_on_the_sphere():
    # f = x^2 + y^2: gradient descent maps x to (1 - 2 lr) x, from the customary start (1, 1)
    pg = Playground("sphere", "gradient descent", lr=0.1, steps=10)
    np.testing.assert_allclose(pg.path[-1], [0.8**10, 0.8**10], rtol=1e-12)
    first = pg.image.value
    assert first[:8] == PNG
    pg.controls["lr"].value = 0.25
    np.testing.assert_allclose(pg.path[-1], [0.5**10, 0.5**10], rtol=1e-12)
    np.testing.assert_allclose(pg.losses, 2 * 0.25 ** np.arange(11), rtol=1e-12)  # f = 2 x^2
    assert pg.image.value[:8] == PNG and pg.image.value != first
    pg.controls["steps"].value = 3
    assert pg.path.shape == (4, 2)
    assert "after 3 steps" in pg.status.value
    assert pg.controls["batch_size"].disabled  # no data, no batches


def test_the_line_fit_follows_full_batch_gradient_descent():
    pg = Playground("sphere", "gradient descent", lr=0.1, steps=20)
    pg.controls["problem"].value = "line fit (w, b)"
    assert not pg.controls["batch_size"].disabled
    pg.controls["batch_size"].value = 200  # every sample: full batch
    _, (size, price), _, _ = line_fit()
    w = b = 0.0
    expected = [(w, b)]
    for _ in range(20):  # the gradient of mean((w x + b - y)^2), written out by hand
        r = w * size + b - price
        w, b = w - 0.1 * 2 * np.mean(r * size), b - 0.1 * 2 * np.mean(r)
        expected.append((w, b))
    np.testing.assert_allclose(pg.path, expected, rtol=1e-10, atol=1e-12)
    assert "after 20 epochs" in pg.status.value
    pg.controls["batch_size"].value = 16
    assert pg.path.shape == (21, 2) and not np.allclose(pg.path, expected)


def test_problems_and_every_optimizer_draw():
    assert "rosenbrock" in PROBLEMS and PROBLEMS[-1] == "line fit (w, b)"
    pg = Playground("rosenbrock", "Adam", lr=0.05, steps=5)
    pg.controls["problem"].value = "himmelblau"  # each new problem compiles its kernels: one switch
    assert pg.image.value[:8] == PNG and pg.path.shape == (6, 2)
    assert pg.ax_path.get_title() == "himmelblau"
    for name in pg.controls["optimizer"].options:
        pg.controls["optimizer"].value = name
        assert np.all(np.isfinite(pg.losses)), name


def test_the_playground_shows_itself_as_a_widget():
    bundle = Playground("booth", steps=2)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_unknown_choices_are_named():
    with pytest.raises(ValueError, match="unknown problem 'rosenbrok'; choose one of: rosenbrock"):
        Playground("rosenbrok")
    with pytest.raises(ValueError, match="unknown optimizer 'adam'"):
        Playground(optimizer="adam")
