"""The start-up guard of fit and minimize: a wrong compiled gradient never trains in silence."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.codegen import KernelPrinter
from symgrad.errors import GradientMismatchError

a, b, x, y = sp.symbols("a b x y")


@pytest.fixture
def old_printer_bug(monkeypatch):
    """Bring back the printer defect of version 0.1: u**2 as a bare u*u, so x/u**2 reads x/u*u."""
    def bare_product(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Integer and 2 <= int(exp) <= 4:
            return "*".join([self.parenthesize(base, 60)] * int(exp))
        return original(self, expr, rational)

    original = KernelPrinter._print_Pow
    monkeypatch.setattr(KernelPrinter, "_print_Pow", bare_product)


def test_fit_stops_on_a_wrong_gradient_and_names_the_parameter(old_printer_bug):
    # d/da of y/(1 + a x) needs x/(1 + a x)**2 in its adjoint: printed wrong by the old bug
    obj = sg.Objective((y / (1 + a * x) - b) ** 2, [a, b], [x, y])
    cols = [np.linspace(0.5, 2.0, 20), np.linspace(1.0, 3.0, 20)]
    with pytest.raises(GradientMismatchError, match=r"fit: the compiled gradient disagrees .* a: compiled"):
        sg.fit(obj, cols, x0=[0.7, 0.1], epochs=2)
    # check=False runs with the wrong gradient (the user's choice)
    assert sg.fit(obj, cols, x0=[0.7, 0.1], epochs=2, check=False).steps == 2


def test_minimize_stops_on_a_wrong_gradient(old_printer_bug):
    obj = sg.Objective(1 / (1 + a**2) + b**2, [a, b])
    with pytest.raises(GradientMismatchError, match="minimize: .* a: compiled"):
        sg.minimize(obj, [1.7, 0.3], steps=3)


def test_no_false_alarm_at_relu_ties():
    """ReLU units with zero inputs and zero biases sit exactly on their kinks: both engines agree."""
    xs = sp.symbols("x0:3")
    hidden, p1 = sg.nn.dense(list(xs), 4, activation=sg.nn.relu, name="W")
    out, p2 = sg.nn.dense(hidden, 1, name="V")
    obj = sg.Objective(sg.losses.mse(out[0], y), p1 + p2, list(xs) + [y])
    cols = [np.zeros(8), np.r_[np.zeros(4), np.ones(4)], np.linspace(-1, 1, 8), np.linspace(0, 1, 8)]
    x0 = np.zeros(len(p1 + p2))
    x0[: 12] = np.linspace(-0.5, 0.5, 12)
    result = sg.fit(obj, cols, x0=x0, epochs=2)
    assert result.steps == 2


def test_a_plain_callable_is_not_checked():
    result = sg.minimize(lambda v: (float(v @ v), 2 * v), [1.0, 2.0], optimizer=sg.optim.GradientDescent(0.5), steps=1)
    assert np.array_equal(result.x, [0.0, 0.0])


# -- more code-generation bugs brought back, each caught before the first step ----------

@pytest.fixture
def max_printed_as_min(monkeypatch):
    """A printer that folds Max with min: every ReLU unit of a network computes min(0, z)."""
    monkeypatch.setattr(KernelPrinter, "_print_Max", lambda self, expr: self._minmax(expr, "min"))


@pytest.fixture
def sin_printed_as_cos(monkeypatch):
    """A function table with sin and cos swapped."""
    monkeypatch.setattr(KernelPrinter, "_print_sin", lambda self, expr: f"math.cos({self._print(expr.args[0])})")
    monkeypatch.setattr(KernelPrinter, "_print_cos", lambda self, expr: f"math.sin({self._print(expr.args[0])})")


def test_fit_of_relu_units_stops_when_max_prints_as_min(max_printed_as_min):
    w = sp.symbols("w0:4")
    relu = sg.nn.relu
    obj = sg.Objective((relu(w[0] * x + w[1]) * w[2] + relu(w[3] - y) - b) ** 2, w, [x, y, b])
    rng = np.random.default_rng(1)
    cols = [rng.normal(size=40) for _ in range(3)]
    with pytest.raises(GradientMismatchError, match=r"fit: the compiled gradient disagrees .* w0: compiled"):
        sg.fit(obj, cols, x0=[0.5, 0.3, 1.2, 0.4], epochs=1)


def test_minimize_stops_when_sin_prints_as_cos(sin_printed_as_cos):
    obj = sg.Objective(sp.sin(a) * b + sp.cos(b), [a, b])
    with pytest.raises(GradientMismatchError, match=r"minimize: .* (a|b): compiled"):
        sg.minimize(obj, [0.4, 1.3], steps=3)


def test_curve_fit_stops_on_a_wrong_jacobian_and_names_the_row(old_printer_bug):
    # dr/da of y/(1 + a x) is -y x/(1 + a x)**2: printed wrong by the old bug
    xs = np.linspace(0.5, 2.0, 30)
    ys = 3.0 / (1 + 0.7 * xs)
    with pytest.raises(GradientMismatchError, match=r"curve_fit: the compiled Jacobian disagrees .* a at row 0: compiled"):
        sg.curve_fit(b / (1 + a * x), {x: xs}, ys, p0={a: 0.5, b: 2.0})
    res = sg.curve_fit(b / (1 + a * x), {x: xs}, ys, p0={a: 0.5, b: 2.0}, check=False)
    assert res.nfev >= 1  # the user's choice: it runs on the wrong Jacobian


def test_curve_fit_guard_passes_correct_jacobians_of_every_model():
    """A global fit with a shared parameter, a fixed one and a Piecewise model (the tape's branch)."""
    xs = np.linspace(0.1, 2.0, 25)
    model_b = sp.Piecewise((a * x, x < 1), (a + b * (x - 1), True))
    res = sg.curve_fit([a * sp.exp(-b * x) + y, model_b], [{x: xs}, {x: xs}],
                       [2 * np.exp(-1.5 * xs) + 0.5, np.where(xs < 1, 2 * xs, 2 + 1.5 * (xs - 1))],
                       p0={a: 1.0, b: 1.0}, fixed={y: 0.5})
    assert res.success
    np.testing.assert_allclose([res.params[a], res.params[b]], [2.0, 1.5], rtol=1e-7)
