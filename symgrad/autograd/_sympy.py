"""Evaluate a SymPy expression on the tape and back-propagate: ``grad`` and ``value_and_grad``.

One table (``SYMPY_TO_TAPE``) maps SymPy classes to tensor operations; conditions of
``Piecewise`` are evaluated numerically and never differentiated. No SymPy
differentiation happens here, so the result is an independent second opinion on the
symbolic engine.
"""

from __future__ import annotations

from contextlib import nullcontext as _nothing
from functools import partial, reduce

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from symgrad._functions import ELEMENTARY
from symgrad._point import NUMPY_RELATIONS, split_point
from symgrad._expr import as_expr, as_symbols, canonicalize, check_supported, free_symbols, has_any
from symgrad.autograd._tensor import Tensor, apply, where
from symgrad.errors import (
    InputError,
    MissingSymbolError,
    UnsupportedFunctionError,
)

__all__ = ["SYMPY_TO_TAPE", "grad", "tape_value_and_grad", "value_and_grad"]


def _pow(base: Tensor, exponent: sp.Expr, exponent_tensor) -> Tensor:
    if exponent == sp.S.Half:
        return base.sqrt()
    if exponent == -1:
        return 1.0 / base
    if exponent.is_Number:
        return apply("pow", base, float(exponent))
    return apply("pow", base, exponent_tensor())


def _heaviside(z: Tensor, *rest: Tensor) -> Tensor:
    h0 = rest[0].item() if rest else 0.0
    return z.heaviside(h0)


#: SymPy class -> function of the translated arguments (tensors) giving a tensor.
SYMPY_TO_TAPE = {
    sp.Add: lambda *a: reduce(lambda u, v: u + v, a),
    sp.Mul: lambda *a: reduce(lambda u, v: u * v, a),
    sp.Abs: Tensor.abs,
    sp.sign: Tensor.sign,
    sp.Heaviside: _heaviside,
    sp.Max: lambda *a: reduce(Tensor.maximum, a),
    sp.Min: lambda *a: reduce(Tensor.minimum, a),
}
# the functions of the table: the primitive named as the SymPy class (exp, erf, atan2...)
SYMPY_TO_TAPE.update({row.sympy: partial(apply, row.name) for row in ELEMENTARY})

_RELATIONS = NUMPY_RELATIONS


class _Tape:
    """Translate one expression, sharing the tensor of every repeated subexpression."""

    def __init__(self, env: dict):
        self.memo = dict(env)

    def tensor(self, e: sp.Basic) -> Tensor:
        hit = self.memo.get(e)
        if hit is not None:
            return hit
        out = self._translate(e)
        self.memo[e] = out
        return out

    def _translate(self, e):
        if e.is_Number or isinstance(e, sp.NumberSymbol):
            return Tensor(float(e))
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if base == sp.E:
                return self.tensor(exponent).exp()
            return _pow(self.tensor(base), exponent, lambda: self.tensor(exponent))
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, (sp.Max, sp.Min)):
            return self._extremum(e)
        rule = SYMPY_TO_TAPE.get(e.func)
        if rule is None:
            raise UnsupportedFunctionError(
                f"autograd has no translation for the SymPy class {e.func.__name__} (in {e})."
            )
        return rule(*(self.tensor(a) for a in e.args))

    def _extremum(self, e):
        """All arguments in one node, the ties shared as the symbolic rule shares them."""
        op = "max_n" if isinstance(e, sp.Max) else "min_n"
        number = next((i for i, a in enumerate(e.args) if a.is_Number), -1)
        return apply(op, *(self.tensor(a) for a in e.args), number=number)

    def _piecewise(self, e):
        # Where every sample picks the same branch (always so at a single point), only
        # that branch goes on the tape, so the others cannot leak NaN into the gradient.
        undecided, covered = [], np.False_
        for branch, cond in e.args:
            c = self.condition(cond)
            if not np.any(c):
                continue
            if np.all(c) and not undecided:
                return self.tensor(branch)
            undecided.append((branch, cond))
            covered = covered | c
            if np.all(c):
                break  # later branches are never selected
        if not undecided:
            return self._undefined(e)
        # Samples split between branches: every branch is evaluated on every sample and
        # `where` keeps the selected values (a branch undefined on the samples it does not
        # select can still give NaN through 0·∞ in backward, as in any reverse mode).
        # Samples that no condition selects are NaN, with a NaN gradient; where every
        # sample is selected, the last branch holds wherever the others do not.
        out = None if np.all(covered) else self._undefined(e)
        for branch, cond in reversed(undecided):
            value = self.tensor(branch)
            out = value if out is None else where(self.condition(cond), value, out)
        return out

    def _undefined(self, e) -> Tensor:
        """NaN, the value of ``e`` outside all of its conditions, as a function of the
        parameters ``e`` depends on (in a branch or a condition): its gradient in them is
        NaN too, as the symbolic derivative ``Piecewise((f', c))`` is there, and 0 in the
        others."""
        out = Tensor(np.nan)
        for s in sorted(e.free_symbols, key=str):
            t = self.memo.get(s)
            if t is not None and t.requires_grad:
                out = out + t * np.nan
        return out

    def condition(self, c) -> np.ndarray:
        """Evaluate a Boolean condition to a bool array (never differentiated)."""
        if isinstance(c, BooleanTrue):
            return np.True_
        if isinstance(c, BooleanFalse):
            return np.False_
        if isinstance(c, sp.And):
            return np.logical_and.reduce([self.condition(a) for a in c.args])
        if isinstance(c, sp.Or):
            return np.logical_or.reduce([self.condition(a) for a in c.args])
        if isinstance(c, sp.Not):
            return np.logical_not(self.condition(c.args[0]))
        compare = _RELATIONS.get(type(c))
        if compare is None:
            raise UnsupportedFunctionError(
                f"autograd cannot evaluate the condition {c} ({type(c).__name__})."
            )
        return compare(self.tensor(c.lhs).data, self.tensor(c.rhs).data)


def _bind(expr, wrt, at, data):
    """Check the inputs and return ``(expr, wrt, theta, env_constants, data_arrays)``."""
    expr = canonicalize(as_expr(expr))
    check_supported(expr, "autograd")
    wrt = as_symbols(wrt)
    theta, constants = split_point(at, wrt)
    columns = {}
    n = None
    for s, col in (data or {}).items():
        arr = np.asarray(col, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise InputError(f"data for {s} must be a non-empty 1-D array, got shape {arr.shape}.")
        if n is not None and arr.size != n:
            raise InputError(f"data columns differ in length: {s} has {arr.size}, others {n}.")
        n = arr.size
        columns[s] = arr
    known = set(wrt) | set(constants) | set(columns)
    unknown = sorted((s for s in free_symbols(expr) if s not in known), key=str)
    if unknown:
        raise MissingSymbolError(
            f"the expression uses {', '.join(map(str, unknown))}, which is in neither wrt, "
            "at nor data; add it to one of them."
        )
    return expr, wrt, theta, constants, columns


def value_and_grad(expr, wrt, at, data=None):
    """Value and gradient of ``expr`` at a point, by reverse mode on the tape.

    With data symbols ``d`` bound to columns of N samples, the value is the mean
    ``f(θ) = (1/N) Σ_k expr(θ, d_k)`` and the gradient ``∇_θ f``, in one vectorised pass.

    Args:
        expr: scalar SymPy expression.
        wrt: the symbols ``θ`` to differentiate, in vector order.
        at: values of ``θ`` in ``wrt`` order, or a dict ``{symbol: float}`` (which may
            also fix other symbols).
        data: optional dict ``{symbol: 1-D array}``.

    Returns:
        ``(float, ndarray (n,))``.

    Raises:
        ExpressionTypeError: for text (use ``symgrad.parse``) or a non-expression.
        UnsupportedFunctionError: naming a function with no translation.
        MissingSymbolError: naming symbols bound by neither ``wrt``, ``at`` nor ``data``.

    Example:
        >>> x, y = sp.symbols("x y")
        >>> value_and_grad(x**2 * y, [x, y], [3.0, 2.0])
        (18.0, array([12.,  9.]))
    """
    return tape_value_and_grad(*_bind(expr, wrt, at, data))


def tape_value_and_grad(expr, wrt, theta, constants=None, columns=None):
    """:func:`value_and_grad` for inputs already checked: a canonical, supported ``expr``,
    ``theta`` a float sequence in ``wrt`` order, ``constants`` and ``columns`` dicts
    ``{symbol: float}`` and ``{symbol: 1-D float64 array}`` covering every other symbol."""
    constants, columns = constants or {}, columns or {}
    params = [Tensor(v, requires_grad=True) for v in theta]
    env = dict(zip(wrt, params))
    env.update({s: Tensor(v) for s, v in constants.items()})
    env.update({s: Tensor(v) for s, v in columns.items()})
    # Piecewise evaluates every branch everywhere; the branches it does not select may
    # meet values outside their domain (log of a negative number): those stay silent.
    quiet = np.errstate(invalid="ignore", divide="ignore") if has_any(expr, sp.Piecewise) else _nothing()
    with quiet:
        out = _Tape(env).tensor(expr)
        if not out.requires_grad:  # the expression does not depend on wrt
            return float(np.mean(out.data)), np.zeros(len(wrt))
        loss = out.mean() if out.ndim else out
        loss.backward()
    return loss.item(), np.array([p.grad.item() for p in params])


def grad(expr, wrt, at, data=None) -> np.ndarray:
    """Gradient of ``expr`` (the mean over ``data`` if given) at ``at``, by reverse mode.

    Same arguments as :func:`value_and_grad`; returns ``ndarray (n,)``.

    Example:
        >>> x = sp.Symbol("x")
        >>> grad(sp.Max(0, x), [x], [0.0])  # relu'(0) = 0
        array([0.])
    """
    return value_and_grad(expr, wrt, at, data)[1]

