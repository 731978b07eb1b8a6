"""check_gradient and check_objective: the three gradients, the verdict, kinks, errors."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.check import GradientCheck, check_objective
from symgrad.errors import ExpressionTypeError, MissingSymbolError, UnsupportedFunctionError

x, y, w, b = sp.symbols("x y w b")


def test_smooth_expression_agrees_three_ways():
    report = sg.check_gradient(sp.exp(x) * sp.sin(y) / x, [x, y], [0.3, 0.7])
    expected = [np.exp(0.3) * np.sin(0.7) * (1 / 0.3 - 1 / 0.09), np.exp(0.3) * np.cos(0.7) / 0.3]
    assert isinstance(report, GradientCheck) and report.ok
    assert report.method == "complex step" and report.kinks == ()
    for g in (report.symbolic, report.autograd, report.numeric):
        assert g.shape == (2,)
        np.testing.assert_allclose(g, expected, rtol=1e-13)
    assert report.max_abs_error < 1e-12 and report.max_rel_error < 1e-12


def test_at_dict_and_extra_symbols():
    report = sg.check_gradient(w * x**2 + b, [w, b], {b: 1.0, w: 2.0, x: 3.0})
    np.testing.assert_allclose(report.symbolic, [9.0, 1.0])
    assert report.ok


def test_relu_at_zero_reports_the_kink_and_judges_symbolic_vs_autograd():
    report = sg.check_gradient(sp.Max(0, w * x + b), [w, b], {w: 1.0, b: 1.0, x: -1.0})
    assert report.ok
    np.testing.assert_array_equal(report.symbolic, [0.0, 0.0])
    np.testing.assert_array_equal(report.autograd, [0.0, 0.0])
    assert [k.where for k in report.kinks] == ["Max(0, b + w*x) at b + w*x = 0"]
    np.testing.assert_allclose(report.left, [-1.0, 0.0], atol=1e-6)   # d/dw from the left: x = -1
    np.testing.assert_allclose(report.right, [0.0, 1.0], atol=1e-6)
    text = str(report)
    assert "kink: Max(0, b + w*x) at b + w*x = 0" in text and "left" in text and "OK" in text


@pytest.mark.parametrize("expr, name", [
    (sp.Abs(x) + y, "Abs(x) at x = 0"),
    (sp.Piecewise((x**2, x < 0), (x, True)) * y, "at x = 0"),
    (sp.Heaviside(x) * y + x, "Heaviside(x, 0) at x = 0"),
    (sp.Min(x, y), "at x - y = 0"),
])
def test_every_kind_of_kink_is_named(expr, name):
    report = sg.check_gradient(expr, [x, y], {x: 0.0, y: 0.0})
    assert any(name in k.where for k in report.kinks), report.kinks
    assert report.ok


def test_stencil_crossing_a_kink_is_reported_as_near():
    # 3e-11 is below every step tried (the smallest is 1e-6 / 8 / 2^11 = 6.1e-11)
    report = sg.check_gradient(sp.Abs(x - 3e-11), [x], [0.0])
    assert report.ok and len(report.kinks) == 1 and not report.kinks[0].exact
    assert "within the finite-difference step" in str(report)


def test_a_kink_farther_than_the_smallest_steps_is_stepped_around():
    # |x - 1e-7| is -x + 1e-7 near 0: steps below 1e-7 give the slope -1 exactly
    report = sg.check_gradient(sp.Abs(x - 1e-7), [x], [0.0])
    assert report.kinks == () and report.ok
    assert report.numeric[0] == pytest.approx(-1.0, rel=1e-12)


def test_away_from_kinks_central_differences_are_used_and_no_kink_reported():
    report = sg.check_gradient(sp.Abs(x) * y, [x, y], [-2.0, 3.0])
    assert report.method == "central differences" and report.kinks == () and report.ok
    assert report.left is None


def test_disagreement_fails(monkeypatch):
    import symgrad.check._api as api

    real = api._symbolic_gradient
    monkeypatch.setattr(api, "_symbolic_gradient",
                        lambda *a: (lambda *v: real(*a)(*v) * 1.001))
    report = sg.check_gradient(x**2 * y, [x, y], [1.0, 2.0])
    assert not report.ok
    assert "FAIL autograd" in str(report) and "FAILED" in str(report)
    assert report.max_rel_error == pytest.approx(0.001 / 1.001, rel=1e-6)


def test_html_table_has_one_row_per_symbol():
    html = sg.check_gradient(x * y, [x, y], [1.0, 2.0])._repr_html_()
    assert html.count("<tr>") == 3 and "<td>x</td>" in html


def test_input_errors():
    with pytest.raises(ExpressionTypeError, match=r"symgrad\.parse"):
        sg.check_gradient("x*y", [x, y], [1.0, 2.0])
    with pytest.raises(MissingSymbolError, match="y"):
        sg.check_gradient(x * y, [x], [1.0])
    with pytest.raises(ValueError, match="2 symbols"):
        sg.check_gradient(x * y, [x, y], [1.0])
    with pytest.raises(UnsupportedFunctionError, match="zeta"):
        sg.check_gradient(sp.zeta(x), [x], [1.0])


class MeanSquares:
    """A data objective written in NumPy: mean of (w·x + b − y)², gradient by hand."""

    expr = (w * x + b - y) ** 2
    params = (w, b)
    data = (x, y)

    def value(self, theta, xs, ys):
        return float(np.mean((theta[0] * xs + theta[1] - ys) ** 2))

    def grad(self, theta, xs, ys):
        r = theta[0] * xs + theta[1] - ys
        return np.array([np.mean(2 * r * xs), np.mean(2 * r)])


def test_check_objective_three_ways_on_data():
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=100), rng.normal(size=100)
    report = check_objective(MeanSquares(), [0.5, -0.3], [xs, ys])
    assert report.ok and report.kinks == ()
    np.testing.assert_allclose(report.autograd, report.symbolic, rtol=1e-13)


def test_check_objective_finds_kinks_in_any_sample():
    class Hinge(MeanSquares):
        expr = sp.Max(0, 1 - y * (w * x + b))

        def value(self, theta, xs, ys):
            return float(np.mean(np.maximum(0, 1 - ys * (theta[0] * xs + theta[1]))))

        def grad(self, theta, xs, ys):
            active = 1 - ys * (theta[0] * xs + theta[1]) > 0
            return np.array([np.mean(-ys * xs * active), np.mean(-ys * active)])

    xs, ys = np.array([1.0, 2.0, -1.0]), np.array([1.0, -1.0, 1.0])
    report = check_objective(Hinge(), [1.0, 0.0], [xs, ys])  # sample 0 sits on the hinge
    assert len(report.kinks) == 1 and report.ok


def test_check_objective_with_a_real_objective():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=50)
    ts = (xs + rng.normal(size=50) > 0).astype(float)
    t = sp.Symbol("t")
    z = w * x + b
    obj = sg.Objective(sp.log(1 + sp.exp(z)) - t * z, [w, b], data=[x, t])
    report = check_objective(obj, [0.2, 0.1], [xs, ts])
    assert report.ok, str(report)


def test_check_objective_column_count():
    with pytest.raises(ValueError, match="2 data columns"):
        check_objective(MeanSquares(), [0.5, 0.1], [np.ones(3)])
