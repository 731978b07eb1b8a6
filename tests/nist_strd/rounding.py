"""A first-order bound on the rounding error of evaluating a SymPy expression in float64.

Tolerances of the NIST tests come from here rather than from a fixed ``rtol``: the
mean squared residual and its derivatives are sums of terms that cancel (residuals
near a fit are small differences of large numbers), so the error a correct float64
evaluation makes is set by the sizes of the intermediate quantities, not by the size
of the result.

Running error analysis (Wilkinson; Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., section 3.3): with exact inputs and unit roundoff ``u``, each
node ``v = op(a, b, ...)`` computed in floating point carries an error at most
``u * E(v)`` to first order, where

    E(a + b + ...) = E(a) + E(b) + ... + (n - 1) * (|a| + |b| + ...)
    E(a * b * ...) = sum_i E(a_i) * prod_{j != i} |a_j| + (n - 1) * |v|   (-1 not counted)
    E(g(a))        = |g'(a)| * E(a) + |v|                (exp, log, sin, cos, atan)
    E(a ** q)      = |q a**(q-1)| E(a) + |v log|a|| E(q) + (2 + |q log|a||) |v|

(the last term of the power allows for ``pow`` computed as ``exp(q log a)``; for a
rational ``q`` the factor is ``2 + |q|``).  ``pi`` and non-integer constants carry
``|v|``: they are rounded once.
"""

import numpy as np
import sympy as sp

__all__ = ["rounding_bound"]

_UNARY = {
    # function: (value, |derivative| given the argument)
    sp.exp: (np.exp, np.exp),
    sp.log: (np.log, lambda u: 1.0 / np.abs(u)),
    sp.sin: (np.sin, np.cos),
    sp.cos: (np.cos, np.sin),
    sp.atan: (np.arctan, lambda u: 1.0 / (1.0 + u * u)),
}


def rounding_bound(exprs, env):
    """Evaluate ``exprs`` in float64 with a first-order bound on each one's rounding error.

    Args:
        exprs: a sequence of SymPy expressions (shared subexpressions are walked once).
        env: a dict symbol -> float or float64 array (arrays broadcast together).

    Returns:
        A list of ``(value, bound)`` pairs, one per expression; ``bound`` is in units
        of the unit roundoff ``u = 2**-53``, so the float64 error of a straightforward
        evaluation is at most about ``u * bound``.

    Raises:
        TypeError: a function the bound has no rule for, named.

    Example:
        >>> import sympy as sp
        >>> a, b = sp.symbols("a b")
        >>> [(float(v), float(e)) for v, e in rounding_bound([a - b], {a: 3.0, b: 1.0})]
        [(2.0, 4.0)]
    """
    memo = {}

    def walk(e):
        if e not in memo:
            memo[e] = _node(e, walk, env)
        return memo[e]

    return [walk(sp.sympify(e)) for e in exprs]


def _node(e, walk, env):
    if e.is_Symbol:
        value = np.asarray(env[e], dtype=np.float64)
        return value, np.zeros_like(value)
    if e.is_Integer:
        return np.float64(int(e)), np.float64(0.0)
    if e.is_Number or e.is_NumberSymbol:
        value = np.float64(float(e))
        return value, np.abs(value)
    if e.is_Add:
        parts = [walk(a) for a in e.args]
        value = _total(p[0] for p in parts)
        size = _total(np.abs(p[0]) for p in parts)
        return value, _total(p[1] for p in parts) + (len(parts) - 1) * size
    if e.is_Mul:
        parts = [walk(a) for a in e.args]
        value = _product(p[0] for p in parts)
        rounded = sum(1 for a in e.args if a is not sp.S.NegativeOne) - 1  # -x is exact
        error = max(rounded, 0) * np.abs(value)
        for i, (_, error_i) in enumerate(parts):
            error = error + error_i * _product(np.abs(p[0]) for j, p in enumerate(parts) if j != i)
        return value, error
    if e.is_Pow:
        (a, error_a), (q, error_q) = walk(e.base), walk(e.exp)
        value = a**q
        slope = np.abs(q * a ** (q - 1))
        if e.exp.is_Rational:
            return value, slope * error_a + (2 + np.abs(q)) * np.abs(value)
        log_a = np.log(np.abs(a))
        return value, (slope * error_a + np.abs(value * log_a) * error_q
                       + (2 + np.abs(q * log_a)) * np.abs(value))
    for function, (evaluate, slope) in _UNARY.items():
        if isinstance(e, function):
            u, error_u = walk(e.args[0])
            value = evaluate(u)
            return value, np.abs(slope(u)) * error_u + np.abs(value)
    raise TypeError(f"rounding_bound has no rule for {type(e).__name__} in {e}")


def _total(items):
    items = list(items)
    out = items[0]
    for item in items[1:]:
        out = out + item
    return out


def _product(items):
    items = list(items)
    out = np.float64(1.0)
    for item in items:
        out = out * item
    return out
