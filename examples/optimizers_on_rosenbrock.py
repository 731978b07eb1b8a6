"""Every optimizer on the Rosenbrock function, from (-1.2, 1), until max|grad| <= 1e-6.

Run: python examples/optimizers_on_rosenbrock.py
"""

import numpy as np

import symgrad as sg

rosenbrock = sg.functions.rosenbrock()
x0 = [-1.2, 1.0]
optimizers = {
    "GradientDescent(1e-3)": sg.optim.GradientDescent(1e-3),
    "SGD(1e-3, momentum=0.9)": sg.optim.SGD(1e-3, momentum=0.9),
    "SGD(1e-3, 0.9, nesterov)": sg.optim.SGD(1e-3, momentum=0.9, nesterov=True),
    "Adagrad(0.5)": sg.optim.Adagrad(0.5),
    "RMSProp(cosine 1e-3)": sg.optim.RMSProp(sg.optim.cosine_schedule(1e-3, 50_000)),
    "Adam(0.02)": sg.optim.Adam(0.02),
    "AdamW(0.02, wd=0)": sg.optim.AdamW(0.02, weight_decay=0.0),
    "LBFGS()": sg.optim.LBFGS(),
    "Newton()": sg.optim.Newton(),
}
print(f"{'optimizer':26s} {'steps':>6s} {'converged':>9s} {'distance to (1, 1)':>19s}")
for name, optimizer in optimizers.items():
    result = sg.minimize(rosenbrock, x0, optimizer=optimizer, steps=50_000, tol=1e-6)
    distance = np.linalg.norm(result.x - np.array(rosenbrock.x_min))
    print(f"{name:26s} {result.steps:6d} {result.converged!s:>9s} {distance:19.2e}")
