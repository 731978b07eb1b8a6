"""Comparisons with the oracle, and the tally of what was compared.

Two tolerances, both scaled by the condition of the computation (``oracle`` module
docstring), never a global ``rtol``:

- float64 results (compiled kernels, objectives, autograd): ``|got - exact| <=
  oracle.TOLERANCE * M``, with ``M`` the running error bound of the exact value;
- closed forms (SymPy expressions symgrad returns, evaluated by the oracle at 40
  digits): ``|got - exact| <= 1e-30 * (M + |exact|)``: both sides are exact
  mathematics, so only the 40-digit evaluation may separate them; when the closed
  form holds a ``Float`` (SymPy rounds ``Float * Rational`` to 53 bits as it builds
  the expression), ``8 u (M + |exact|)``.
"""

from __future__ import annotations

from collections import Counter

import mpmath
import sympy as sp

from oracle import TOLERANCE, UNIT_ROUNDOFF, evaluate, rel_error

#: paths checked and how many generated expressions each compared (for the benchmark report)
TALLY: Counter = Counter()
#: worst error seen per path, in units of the path's tolerance scale
WORST: dict = {}

CLOSED_TOLERANCE = mpmath.mpf(10) ** -30


def _note(path, err):
    if err > WORST.get(path, (-1.0,))[0]:
        WORST[path] = (err,)


def check_float(path, got, exact, scale, what):
    """Assert a float64 result against the oracle: ``|got - exact| <= TOLERANCE * scale``."""
    err = rel_error(got, exact, scale)
    _note(path, err)
    assert err <= TOLERANCE, (
        f"{path}: {what}: got {float(got)!r}, exact {mpmath.nstr(exact, 20)}, "
        f"error {err:.3g} x scale {mpmath.nstr(scale, 5)} (tolerance {TOLERANCE:.3g})"
    )


def check_closed(path, expr, point, exact, scale, what):
    """Assert a SymPy closed form, evaluated at 40 digits, equals the oracle's value."""
    got, _ = evaluate(expr, point)
    rounded = expr.has(sp.Float)
    bound = (8 * UNIT_ROUNDOFF if rounded else CLOSED_TOLERANCE) * (scale + abs(exact))
    diff = abs(got - exact)
    _note(path, float(diff / (scale + abs(exact))) if diff else 0.0)
    assert diff <= bound, (
        f"{path}: {what}: closed form {expr} gives {mpmath.nstr(got, 20)}, exact {mpmath.nstr(exact, 20)}"
    )


def count(path, n=1):
    TALLY[path] += n
