"""A NumPy stand-in for ``sg.Objective``: the straight-line least-squares loss, by hand.

``L(a, b) = mean_j (a x_j + b - y_j)^2``; gradient and Hessian written out, so the
loops can be tested independently of the compiled kernels.
"""

import numpy as np
import pytest
import sympy as sp


class LineLeastSquares:
    """Implements the interface the loops use: prepare, batch_value(_and_grad), hessian."""

    def __init__(self):
        self.a, self.b, self.x, self.y = sp.symbols("a b x y")
        self.params = (self.a, self.b)
        self.data = (self.x, self.y)
        self.expr = (self.a * self.x + self.b - self.y) ** 2
        self.seen_indices = []

    def prepare(self, *columns):
        x, y = (np.ascontiguousarray(c, dtype=np.float64) for c in columns)
        return (x, y)

    def batch_value_and_grad(self, theta, data, indices=None):
        x, y = data
        if indices is not None:
            self.seen_indices.append(indices)
            x, y = x[indices], y[indices]
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run reaches inf
            r = theta[0] * x + theta[1] - y
            return float(np.mean(r * r)), np.array([np.mean(2 * r * x), np.mean(2 * r)])

    def batch_value(self, theta, data, indices=None):
        return self.batch_value_and_grad(theta, data, indices)[0]

    def hessian(self, theta, *columns):
        x = np.asarray(columns[0], dtype=np.float64)
        if len(columns) == 1 and isinstance(columns[0], tuple):
            x = columns[0][0]
        return 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


@pytest.fixture
def line():
    """The stand-in objective and data from y = 3 x - 2 plus small noise."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 200)
    y = 3 * x - 2 + 0.01 * rng.standard_normal(200)
    return LineLeastSquares(), [x, y]
