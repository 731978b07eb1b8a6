"""Textbook derivatives, rule by rule, checked against symgrad's gradient and a kernel.

Run: python examples/textbook_gradient.py
"""

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.explain import explain

x, y = sp.symbols("x y")

TEXTBOOK = [
    x**3 - 2 * x,                 # power and sum rules
    x * sp.sin(x),                # product rule
    sp.sin(x) / (1 + x**2),       # quotient rule
    sp.exp(-(x**2) / 2),          # chain rule
    sp.log(1 + sp.exp(x)),        # softplus: chain rule twice
    sp.Max(0, x),                 # relu: the kink convention relu'(0) = 0
]

for f in TEXTBOOK:
    e = explain(f, x)
    same = sp.simplify(e.result - sg.gradient(f, [x])[0]) == 0
    print(f"d/dx {str(f):24s} = {str(e.result):36s} rules: {', '.join(e.rules)}  (agrees: {same})")

print()
print(explain(x**2 * sp.sin(y), y))

# the same partial derivatives as compiled numbers, on a grid of points
f = x**2 * sp.sin(y)
kernel = sg.compile(sg.gradient(f, [x, y]), [x, y])
xs = np.linspace(-1.0, 1.0, 5)
print()
print("d/dx and d/dy of x^2*sin(y) at y = 2:")
for xi, (dx, dy) in zip(xs, kernel(xs, 2.0)):
    print(f"  x = {xi:5.2f}:  {dx:9.5f}  {dy:9.5f}")
