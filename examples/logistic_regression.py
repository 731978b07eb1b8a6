"""Logistic regression on two features, trained with Adam on mini-batches.

Run: python examples/logistic_regression.py
"""

import numpy as np
import sympy as sp

import symgrad as sg

rng = np.random.default_rng(1)
n = 2000
x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
true_w1, true_w2, true_b = 2.0, -1.0, 0.5
label = (rng.random(n) < 1 / (1 + np.exp(-(true_w1 * x1 + true_w2 * x2 + true_b)))).astype(float)

w1, w2, b, a, c, y = sp.symbols("w1 w2 b a c y")
z = w1 * a + w2 * c + b
# cross-entropy of the logistic model, written in terms of the logit z: log(1 + e^z) - y z
objective = sg.Objective(sp.log(1 + sp.exp(z)) - y * z, [w1, w2, b], [a, c, y])

result = sg.fit(objective, [x1, x2, label], x0=[0.0, 0.0, 0.0], optimizer=sg.optim.Adam(0.05),
                epochs=30, batch_size=64, seed=0)
print(result)
logit = result.params[w1] * x1 + result.params[w2] * x2 + result.params[b]
accuracy = np.mean((logit > 0) == (label == 1))
print(f"training accuracy: {accuracy:.3f}")
print(f"true parameters:   w1={true_w1} w2={true_w2} b={true_b}")
