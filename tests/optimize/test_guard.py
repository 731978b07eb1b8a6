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
