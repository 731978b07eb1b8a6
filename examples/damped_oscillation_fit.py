"""Curve fit of a damped oscillation a*exp(-b*t)*cos(c*t + d) with standard errors.

Levenberg-Marquardt uses the exact Jacobian of the residual; the standard errors
are those scipy.optimize.curve_fit reports (covariance scaled by the residual variance).

Run: python examples/damped_oscillation_fit.py
"""

import numpy as np
import sympy as sp

from symgrad.optimize import levenberg_marquardt

a, b, c, d, t, y = sp.symbols("a b c d t y")
model = a * sp.exp(-b * t) * sp.cos(c * t + d)

rng = np.random.default_rng(3)
times = np.linspace(0.0, 4.0, 150)
truth = {a: 2.0, b: 0.7, c: 5.0, d: 0.3}
measured = 2.0 * np.exp(-0.7 * times) * np.cos(5.0 * times + 0.3) + 0.05 * rng.standard_normal(times.size)

result = levenberg_marquardt(model - y, [a, b, c, d], [t, y], [times, measured], x0=[1.5, 0.5, 4.8, 0.0])
print(result.message)
print(result.report)
print("true values:", ", ".join(f"{s}={v}" for s, v in truth.items()))
within = all(abs(result.params[s] - v) < 3 * e for (s, v), e in zip(truth.items(), result.report.stderr))
print(f"every parameter within 3 standard errors of the truth: {within}")
