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
    # nodes: x, y, sin(y), x**2*sin(y) (one product), x*y, relu, the sum: 7 boxes;
    # edges: y->sin, x->product, sin->product, x->xy, y->xy, xy->relu, product->f, relu->f: 8
    boxes = [t.get_text() for t in ax.texts if "adjoint" in t.get_text()]
    edges = [t.get_text() for t in ax.texts if t.get_text().startswith("∂")]
    assert len(boxes) == 7 and len(edges) == 8 and len(ax.patches) == 8
    # the local derivative of sin(y) at y = 2 is cos(2), written on its edge
    assert any(e.startswith("∂t1/∂y = cos(y) = ") and e.endswith(f"{np.cos(2.0):.6g}") for e in edges)
    assert_png(out)


def test_expression_graph_refuses_huge_expressions():
    big = sum(sp.sin(k * x) for k in range(1, 40))
    with pytest.raises(ValueError, match="at most"):
        plot.expression_graph(big, {x: 0.5})


def test_a_picture_shows_itself_in_a_notebook_without_setup():
    from IPython.core.formatters import DisplayFormatter

    fig = plot.loss_curves(sg.minimize(sg.Objective((x - 1) ** 2, [x]), [3.0], steps=5))
    shown, _ = DisplayFormatter().format(fig)
    assert shown["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "image/svg+xml" not in shown
    try:
        assert plot.display_format("svg") == "svg"
        shown, _ = DisplayFormatter().format(fig)
        assert shown["image/svg+xml"].lstrip().startswith("<?xml")
        assert "image/png" not in shown
    finally:
        plot.display_format("png")
    with pytest.raises(ValueError, match="'png' or 'svg'"):
        plot.display_format("gif")


def test_a_diverging_run_does_not_set_the_axes():
    # f = x^2 + y^2 from (1, 1): GD with lr 1e200 maps x to (1 - 2e200) x, whose square
    # overflows at the first step (diverged, x stays at the start); with lr 0.1 to 0.8x, which
    # stays in [0.8^40, 1]; the axes are that range padded by 0.5 on each side
    optimizers = {"lr 1e200": sg.optim.GradientDescent(1e200), "lr 0.1": sg.optim.GradientDescent(0.1)}
    fig = plot.contour_paths(x**2 + y**2, optimizers, [1.0, 1.0], steps=40)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_xlim(), (0.8**40 - 0.5, 1.5), rtol=1e-12)
    np.testing.assert_allclose(ax.get_ylim(), (0.8**40 - 0.5, 1.5), rtol=1e-12)
    assert [line.get_label() for line in ax.lines[:2]] == ["lr 1e200 (diverged)", "lr 0.1"]


def test_axes_follow_the_callers_order():
    gd = {"GD": sg.optim.GradientDescent(0.1)}
    fig = plot.contour_paths(sg.Objective((w - 1) ** 2 + (b + 2) ** 2, [w, b]), gd, [0.0, 0.0], steps=5)
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("w", "b")
    fig = plot.contour_paths((w - 1) ** 2 + (b + 2) ** 2, gd, [0.0, 0.0], wrt=[w, b], steps=5)
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("w", "b")
    # one GD step with lr 0.1 on (w - 1)^2 + (b + 2)^2 from (0, 0): (0.2, -0.4)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xydata()[1], [0.2, -0.4])


def test_the_loss_surface_of_a_fit_over_w_and_b():
    size = np.linspace(0.5, 2.5, 50)
    price = 3.0 * size + 1.0
    objective = sg.Objective(sg.losses.mse(w * x + b, y), [w, b], data=[x, y])
    X, Y, Z = plot.loss_surface(objective, ((2.0, 4.0), (0.0, 2.0)), data=[size, price], grid=7)
    # the mean squared error computed directly by NumPy at each grid point
    direct = np.mean((X[..., None] * size + Y[..., None] - price) ** 2, axis=-1)
    np.testing.assert_allclose(Z, direct, rtol=1e-13, atol=1e-15)
    assert Z[3, 3] < 1e-28  # the grid's centre is the line (w, b) = (3, 1), up to rounding
    fig = plot.contour_paths(objective, {"GD": sg.optim.GradientDescent(0.25)}, [0.0, 0.0],
                             data=[size, price], steps=300)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w", "b")
    np.testing.assert_allclose(ax.lines[0].get_xydata()[-1], [3.0, 1.0], atol=1e-3)


def test_contour_paths_asks_for_the_data_of_an_objective_with_data():
    objective = sg.Objective((w * x + b - y) ** 2, [w, b], data=[x, y])
    with pytest.raises(ValueError, match=r"data symbols \(x, y\); pass their columns as data"):
        plot.contour_paths(objective, {"GD": sg.optim.GradientDescent(0.1)}, [0.0, 0.0])
    with pytest.raises(ValueError, match="beyond the axes w, b"):
        plot.contour_paths(w * x + b, {"GD": sg.optim.GradientDescent(0.1)}, [0.0, 0.0], wrt=[w, b])


def test_check_bars_at_a_kink_shows_the_verdict_of_the_report():
    report = sg.check_gradient(sp.Abs(x) + y**2, [x, y], [0.0, 1.0])
    assert report.ok and report.kinks
    values, errors = plot.check_bars(report).axes
    assert errors.get_title().startswith("differences: OK")
    assert "FAILED" not in errors.get_title()
    labels = values.get_legend_handles_labels()[1]
    assert "numeric (not judged: kink)" in labels and "left difference" in labels
    # the one-sided differences of |x| at 0 are -1 and +1
    left = values.lines[0].get_ydata()
    right = values.lines[1].get_ydata()
    np.testing.assert_allclose([left[0], right[0]], [-1.0, 1.0], rtol=1e-6)


def test_check_bars_says_failed_when_the_check_fails():
    from dataclasses import replace

    good = sg.check_gradient(x**2, [x], [1.0])
    bad = replace(good, autograd=good.autograd + 1.0)  # a wrong gradient, as a broken engine gives
    assert not bad.ok
    assert "check FAILED" in plot.check_bars(bad).axes[1].get_title()


def test_fitted_curve_labels_the_y_axis_with_the_target():
    xs = np.linspace(0, 1, 5)
    fig = plot.fitted_curve(w * x + b, x, {w: 2.0, b: 1.0}, xs, 2 * xs + 1, target="price")
    assert fig.axes[0].get_ylabel() == "price"
    assert "b + w*x" in fig.axes[0].get_title()
    fig = plot.fitted_curve(w * x + b, x, {w: 2.0, b: 1.0}, xs, 2 * xs + 1)
    assert fig.axes[0].get_ylabel() == "y"


def test_derivative_as_limit_draws_secants_and_their_errors():
    from symgrad.explain import difference_quotients

    quotients = difference_quotients(x**3, x, 2.0, steps=[0.5, 0.1])
    shape, errors = plot.derivative_as_limit(quotients).axes
    lines = {line.get_label(): line for line in shape.lines}
    # the secant through (2, 8) and (2 + h, (2 + h)^3) has slope 12 + 6h + h^2; the tangent 12
    for h, slope in [(0.5, 15.25), (0.1, 12.61)]:
        (label,) = [k for k in lines if k.startswith(f"secant, h = {h:g}:")]
        gx, gy = lines[label].get_data()
        np.testing.assert_allclose(np.diff(gy) / np.diff(gx), slope, rtol=1e-9)
    gx, gy = next(v for k, v in lines.items() if k.startswith("tangent")).get_data()
    np.testing.assert_allclose(gy, 8 + 12 * (gx - 2), rtol=1e-12)
    forward = errors.lines[0]
    np.testing.assert_allclose(forward.get_ydata(), [6 * 0.5 + 0.25, 6 * 0.1 + 0.01], rtol=1e-9)
    assert errors.get_xscale() == "log" and errors.get_yscale() == "log"
