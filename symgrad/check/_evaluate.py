"""A plain NumPy evaluator of SymPy expressions, real or complex, for finite differences.

It is kept apart from the autograd tape and the compiled kernels so that the third
opinion shares no translation code with the other two. Complex arguments make the
complex step possible; Boolean conditions compare real parts.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from symgrad._functions import ELEMENTARY
from symgrad._point import NUMPY_RELATIONS
from symgrad.errors import UnsupportedFunctionError

__all__ = ["evaluate", "NON_ANALYTIC"]

#: Constructs at which the complex step is not valid (not holomorphic, or with kinks), and
#: the functions evaluated here in real arithmetic only (erf, gamma, atan2, floor...).
NON_ANALYTIC = (sp.Abs, sp.sign, sp.Max, sp.Min, sp.Heaviside, sp.Piecewise) + tuple(
    row.sympy for row in ELEMENTARY if row.complex is None
)


def _heaviside(z, h0=0.0):
    z = np.real(z)
    return np.where(z > 0, 1.0, np.where(z < 0, 0.0, h0))


def _extreme(pick):
    def fold(*args):
        # Compare real parts, carry the whole (possibly complex) value of the winner.
        return reduce(lambda a, b: np.where(pick(np.real(a), np.real(b)), a, b), args)
    return fold


_FUNCTIONS = {
    sp.Add: lambda *a: reduce(np.add, a),
    sp.Mul: lambda *a: reduce(np.multiply, a),
    sp.Pow: np.power,
    sp.Abs: np.abs,
    sp.sign: lambda z: np.sign(np.real(z)),
    sp.Heaviside: _heaviside,
    sp.Max: _extreme(np.greater_equal),
    sp.Min: _extreme(np.less_equal),
}
# the functions of the table, in complex arithmetic where the complex step may use them
_FUNCTIONS.update({row.sympy: row.complex or row.forward for row in ELEMENTARY})

_RELATIONS = NUMPY_RELATIONS


def evaluate(expr: sp.Basic, values: dict, memo: dict | None = None):
    """Value of ``expr`` (expression or condition) with symbols bound to numbers or arrays.

    >>> x = sp.Symbol("x")
    >>> float(evaluate(sp.exp(x) + 1, {x: 0.0}))
    2.0
    """
    memo = {} if memo is None else memo
    if expr in memo:
        return memo[expr]
    if expr in values:
        out = values[expr]
    elif expr.is_Number or isinstance(expr, sp.NumberSymbol):
        out = float(expr)
    elif isinstance(expr, BooleanTrue):
        out = np.True_
    elif isinstance(expr, BooleanFalse):
        out = np.False_
    elif isinstance(expr, (sp.And, sp.Or)):
        parts = [evaluate(a, values, memo) for a in expr.args]
        out = (np.logical_and if isinstance(expr, sp.And) else np.logical_or).reduce(parts)
    elif isinstance(expr, sp.Not):
        out = np.logical_not(evaluate(expr.args[0], values, memo))
    elif type(expr) in _RELATIONS:
        lhs, rhs = (np.real(evaluate(a, values, memo)) for a in expr.args)
        out = _RELATIONS[type(expr)](lhs, rhs)
    elif isinstance(expr, sp.Piecewise):
        out = np.nan
        for branch, cond in reversed(expr.args):
            out = np.where(evaluate(cond, values, memo), evaluate(branch, values, memo), out)
    elif expr.func in _FUNCTIONS:
        out = _FUNCTIONS[expr.func](*(evaluate(a, values, memo) for a in expr.args))
    else:
        raise UnsupportedFunctionError(
            f"the finite-difference evaluator has no translation for {expr.func.__name__} "
            f"(in {expr})."
        )
    memo[expr] = out
    return out
