"""House prices: fit price = w * size + b by batch, stochastic and mini-batch gradient descent.

Run: python examples/house_prices.py
"""

import numpy as np
import sympy as sp

import symgrad as sg

# 200 houses: size in units of 100 m^2, price in units of 100k; the truth is w = 3, b = 1
rng = np.random.default_rng(0)
size = rng.uniform(0.5, 2.5, 200)
price = 3.0 * size + 1.0 + 0.1 * rng.standard_normal(200)

w, b, x, y = sp.symbols("w b x y")
objective = sg.Objective(sg.losses.mse(w * x + b, y), [w, b], [x, y])

runs = {
    "batch GD": dict(optimizer=sg.optim.GradientDescent(0.25), batch_size=None, epochs=400),
    "SGD": dict(optimizer=sg.optim.SGD(0.02), batch_size=1, epochs=20),
    "mini-batch GD": dict(optimizer=sg.optim.SGD(0.1), batch_size=16, epochs=60),
}
print(f"{'method':14s} {'w':>8s} {'b':>8s} {'mse':>9s} {'updates':>8s}")
for name, options in runs.items():
    result = sg.fit(objective, [size, price], x0=[0.0, 0.0], seed=0, **options)
    print(f"{name:14s} {result.params[w]:8.4f} {result.params[b]:8.4f} {result.loss:9.5f} {result.steps:8d}")

# the exact least-squares line, for comparison
slope, intercept = np.polyfit(size, price, 1)
print(f"{'exact':14s} {slope:8.4f} {intercept:8.4f}")
