"""Pictures: each function returns a Figure with the expected artists and saves a PNG."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

from symgrad import plot  # the test extra installs matplotlib: these tests need it

x, y, w, b = sp.symbols("x y w b")


def assert_png(path):
    assert path.exists()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


def test_contour_paths_draws_one_line_per_optimizer(tmp_path):
    optimizers = {"GD": sg.optim.GradientDescent(0.01), "Adam": sg.optim.Adam(0.1)}
    out = tmp_path / "contour.png"
    fig = plot.contour_paths(sg.functions.himmelblau(), optimizers, [0.0, 0.0], steps=30, path=out)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["GD", "Adam", "start", "minimum"]
    assert len(ax.lines[0].get_xdata()) == 31  # x0 and one point per step
    assert ax.lines[3].get_xdata()[0] == 3.0  # Himmelblau's minimum (3, 2)
    assert_png(out)


def test_optimizer_path_of_gradient_descent_on_a_parabola():
    # f = x^2 + y^2, gradient descent with lr 0.25: x_{k+1} = x_k - 0.25 * 2 x_k = x_k / 2
    points = plot.optimizer_path(sg.Objective(x**2 + y**2, [x, y]), sg.optim.GradientDescent(0.25),
                                 [4.0, -2.0], steps=3)
    np.testing.assert_allclose(points, [[4, -2], [2, -1], [1, -0.5], [0.5, -0.25]])


def test_contour_needs_two_variables():
    with pytest.raises(ValueError, match="2 variables"):
        plot.contour_paths(x**2, {"GD": sg.optim.GradientDescent(0.1)}, [1.0])


def test_loss_curves_one_line_per_result(tmp_path):
    runs = {name: sg.minimize(sg.Objective((x - 1) ** 2, [x]), [3.0], optimizer=opt, steps=20)
            for name, opt in [("GD", sg.optim.GradientDescent(0.1)), ("Adam", sg.optim.Adam(0.1))]}
    out = tmp_path / "loss.png"
    fig = plot.loss_curves(runs, path=out)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["GD", "Adam"]
    assert ax.get_yscale() == "log"
    assert_png(out)


def test_fitted_curve_draws_data_fit_and_truth(tmp_path):
    xs = np.linspace(0, 1, 20)
    out = tmp_path / "fit.png"
    fig = plot.fitted_curve(w * x + b, x, {w: 2.0, b: 1.0}, xs, 2 * xs + 1, truth={w: 2.0, b: 1.0}, path=out)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    fitted = ax.lines[1]
    np.testing.assert_allclose(fitted.get_ydata(), 2 * fitted.get_xdata() + 1)
    assert_png(out)


def test_check_bars_three_bars_per_symbol(tmp_path):
    report = sg.check_gradient(x**2 * sp.sin(y), [x, y], [1.0, 2.0])
    out = tmp_path / "check.png"
    fig = plot.check_bars(report, path=out)
    values, errors = fig.axes
    assert len(values.patches) == 3 * 2
    assert len(errors.patches) == 2 * 2
    heights = [p.get_height() for p in values.patches[:2]]
    np.testing.assert_allclose(heights, [2 * np.sin(2.0), np.cos(2.0)])
    assert_png(out)


def test_expression_graph_one_box_per_node_one_arrow_per_edge(tmp_path):
    expr = x**2 * sp.sin(y) + sp.Max(0, x * y)
    out = tmp_path / "graph.png"
    fig = plot.expression_graph(expr, {x: 1.0, y: 2.0}, path=out)
    ax = fig.axes[0]
    # nodes: x, y, x**2, sin(y), product, x*y, Max, sum; edges: 1+1+2+2+1+2
    assert len(ax.texts) == 8
    assert len(ax.patches) == 9
    assert any("adjoint" in t.get_text() for t in ax.texts)
    assert_png(out)


def test_expression_graph_refuses_huge_expressions():
    big = sum(sp.sin(k * x) for k in range(1, 40))
    with pytest.raises(ValueError, match="at most"):
        plot.expression_graph(big, {x: 0.5})
