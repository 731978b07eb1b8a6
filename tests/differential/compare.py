"""Comparisons with the oracle, and the tally of what was compared.

Two tolerances, both scaled by the condition of the computation (``oracle`` module
docstring), never a global ``rtol``:

- float64 results (compiled kernels, objectives, autograd): ``|got - exact| <=
  oracle.TOLERANCE * M``, with ``M`` the running error bound of the exact value;
- closed forms (SymPy expressions symgrad returns, evaluated by the oracle at 40
  digits): ``|got - exact| <= 1e-30 * (M + |exact| + M')``, with ``M'`` the running
  bound of the closed form's own tree: both sides are exact mathematics, so only the
  40-digit evaluations may separate them; when the closed form holds a ``Float``
  (SymPy rounds ``Float * Rational`` to 53 bits as it builds the expression),
  ``8 u (M + |exact| + M')``.
"""

from __future__ import annotations

from collections import Counter

import mpmath
import sympy as sp

from oracle import TOLERANCE, UNIT_ROUNDOFF, evaluate, rel_error

#: paths checked and how many generated expressions each compared (for the benchmark report)
TALLY: Counter = Counter()
#: the distinct generated expressions each path compared (printed at the end of the run)
DISTINCT: dict = {}
#: worst error seen per path, in units of the path's tolerance scale
WORST: dict = {}

CLOSED_TOLERANCE = mpmath.mpf(10) ** -30


def _note(path, err):
    if err > WORST.get(path, (-1.0,))[0]:
        WORST[path] = (err,)


def _text(what):
    return what() if callable(what) else what


def check_float(path, got, exact, scale, what):
    """Assert a float64 result against the oracle: ``|got - exact| <= TOLERANCE * scale``.

    ``what`` names the case in the failure message: a string, or a function
    returning one (printing an expression costs more than checking it).
    """
    err = rel_error(got, exact, scale)
    _note(path, err)
    assert err <= TOLERANCE, (
        f"{path}: {_text(what)}: got {float(got)!r}, exact {mpmath.nstr(exact, 20)}, "
        f"error {err:.3g} x scale {mpmath.nstr(scale, 5)} (tolerance {TOLERANCE:.3g})"
    )


def closed_error(expr, point, exact, scale):
    """``(error, tolerance)`` of a SymPy closed form against the oracle, both relative to
    ``M + |exact| + M'`` (see the module docstring)."""
    got, got_m = evaluate(expr, point)
    # the closed form is another tree: its own 40-digit rounding is about 1e-40 of its
    # own bound got_m (|p|/p**2 - sign(p)/p is 3.7e-40 at p = -0.0342, exactly 0)
    size = scale + abs(exact) + got_m
    tol = 8 * UNIT_ROUNDOFF if expr.has(sp.Float) else CLOSED_TOLERANCE
    diff = abs(got - exact)
    err = float(diff / size) if diff else 0.0
    return err, float(tol), got


def check_closed(path, expr, point, exact, scale, what):
    """Assert a SymPy closed form, evaluated at 40 digits, equals the oracle's value."""
    err, tol, got = closed_error(expr, point, exact, scale)
    _note(path, err)
    assert err <= tol, (
        f"{path}: {_text(what)}: closed form {expr} gives {mpmath.nstr(got, 20)}, exact {mpmath.nstr(exact, 20)}"
    )


def count(path, n=1, exprs=()):
    """Tally ``n`` comparisons on ``path``, and the distinct expressions among ``exprs``."""
    TALLY[path] += n
    DISTINCT.setdefault(path, set()).update(exprs)
