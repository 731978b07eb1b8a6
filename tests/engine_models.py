"""Model builders shared by the engine-choice tests and the engine and network benchmarks."""

import sympy as sp

import symgrad as sg

__all__ = ["linear", "logistic", "relu_classifier", "tanh_mlp"]


def tanh_mlp(sizes):
    """A tanh MLP with a linear output and a squared error, written with ``sg.nn``."""
    x = list(sp.symbols(f"x0:{sizes[0]}"))
    h, params = x, []
    for layer in range(len(sizes) - 1):
        last = layer == len(sizes) - 2
        h, p = sg.nn.dense(h, sizes[layer + 1], activation=None if last else sg.nn.tanh, name=f"W{layer}_")
        params += p
    y = sp.Symbol("y")
    return sg.losses.mse(h[0], y), params, x + [y]


def relu_classifier():
    """64-32-10 ReLU network, softmax cross-entropy over 10 classes (2,410 parameters)."""
    x = list(sp.symbols("x0:64"))
    h, p1 = sg.nn.dense(x, 32, activation=sg.nn.relu, name="A")
    z, p2 = sg.nn.dense(h, 10, name="B")
    t = list(sp.symbols("t0:10"))
    return sg.losses.cross_entropy(z, t), p1 + p2, x + t


def logistic(d=10):
    w, x = sp.symbols(f"w0:{d}"), sp.symbols(f"x0:{d}")
    b, y = sp.symbols("b y")
    z = sp.Add(*[a * c for a, c in zip(w, x)]) + b
    return sp.log(1 + sp.exp(z)) - y * z, [*w, b], [*x, y]


def linear(d=100):
    w, x = sp.symbols(f"w0:{d}"), sp.symbols(f"x0:{d}")
    b, y = sp.symbols("b y")
    return (sp.Add(*[a * c for a, c in zip(w, x)]) + b - y) ** 2, [*w, b], [*x, y]
