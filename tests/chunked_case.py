"""The model and data the memory-map and Dask tests share (so their kernels are shared too)."""

import numpy as np
import sympy as sp

import symgrad as sg

w, b, x, y = sp.symbols("w b x y")
N = 20_000


def objective() -> sg.Objective:
    """Squared error plus a smooth penalty: a loss whose Hessian is not constant."""
    return sg.Objective((w * x + b - y) ** 2 + sp.log(1 + (w * x) ** 2), [w, b], data=[x, y])


def arrays() -> tuple:
    """``N`` noisy samples of the line ``y = 1.5 x - 0.5``."""
    rng = np.random.default_rng(7)
    xs = rng.uniform(-2, 3, N)
    return xs, 1.5 * xs - 0.5 + rng.normal(0, 0.3, N)
