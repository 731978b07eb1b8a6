"""A two-moons classifier: a small ReLU network written with sg.nn, trained with Adam.

Run: python examples/two_moons.py
"""

import numpy as np
import sympy as sp

import symgrad as sg


def two_moons(n, noise, rng):
    """Two interleaved half circles (label 0 on top, label 1 below, shifted)."""
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x1 = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    x2 = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    return x1 + noise * rng.standard_normal(n), x2 + noise * rng.standard_normal(n), label.astype(float)


rng = np.random.default_rng(0)
x1, x2, label = two_moons(600, 0.1, rng)

a, c, y = sp.symbols("a c y")
hidden1, p1 = sg.nn.dense([a, c], 8, activation=sg.nn.relu, name="W1")
hidden2, p2 = sg.nn.dense(hidden1, 8, activation=sg.nn.relu, name="W2")
(logit,), p3 = sg.nn.dense(hidden2, 1, name="W3")
params = p1 + p2 + p3
# cross-entropy in terms of the logit: log(1 + e^z) - y z
objective = sg.Objective(sp.log(1 + sp.exp(logit)) - y * logit, params, [a, c, y])

result = sg.fit(objective, [x1, x2, label], optimizer=sg.optim.Adam(0.02), epochs=150,
                batch_size=32, seed=1)
print(f"{len(params)} parameters, {result.steps} updates: {result.message}")
print(f"loss: {result.history[0]:.4f} at the start, {result.loss:.4f} at the end")

predict = sg.compile(logit, list(params) + [a, c])
scores = predict(*result.x, x1, x2)
accuracy = np.mean((scores > 0) == (label == 1))
print(f"training accuracy: {accuracy:.3f}")
