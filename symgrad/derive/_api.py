"""Exact gradients, Jacobians and Hessians of SymPy expressions (api.md section 1)."""

from __future__ import annotations

import sympy as sp

from symgrad._expr import as_expr, as_symbols, canonicalize, check_supported, free_symbols, real_twins
from symgrad.derive._program import Program, linearize, reverse
from symgrad.derive._sums import MIN_TERMS, nested_sum_gradient, sum_derivatives
from symgrad.errors import OptionError

__all__ = ["gradient", "jacobian", "hessian", "derive"]


def _prepare(exprs, wrt, what):
    exprs = [canonicalize(as_expr(e, what)) for e in exprs]
    wrt = as_symbols(wrt, "wrt")
    for e in exprs:
        check_supported(e, "symgrad.derive")
    return exprs, wrt


def derive(exprs, wrt, inputs=(), order: int = 1) -> Program:
    """A straight-line program computing ``exprs``, their Jacobian and (order 2) Hessian.

    Its outputs are laid out as: the ``m`` values, then the ``m × n`` Jacobian row by
    row, then (``order=2``, ``m = 1``) the ``n × n`` Hessian row by row.

    The program is in the caller's symbols. ``inputs`` gives the argument order of the
    program (defaults to ``wrt`` followed by the other free symbols, sorted by name).

    Args:
        exprs: scalar SymPy expressions ``f_1 … f_m``.
        wrt: the symbols ``x_1 … x_n`` to differentiate with respect to.
        inputs: every free symbol the program reads, in order.
        order: 1 for values and Jacobian, 2 to add the Hessian (needs ``m = 1``).
    """
    exprs, wrt = _prepare(exprs, wrt, "expr")
    free = set().union(*(free_symbols(e) for e in exprs))
    forward = real_twins(free | set(wrt))
    backward = {r: s for s, r in forward.items() if r is not s}
    wrt_real = [forward[w] for w in wrt]
    if not inputs:
        inputs = list(wrt) + sorted(free - set(wrt), key=sp.default_sort_key)
    program = linearize(exprs, inputs, rename={s: r for s, r in forward.items() if r is not s})
    assignments = list(program.assignments)
    jac = []
    for out in program.outputs:
        new, row = reverse(Program(program.inputs, tuple(assignments), ()), out, wrt_real)
        assignments += new
        jac += row
    outputs = list(program.outputs) + jac
    if order == 2:
        if len(exprs) != 1:
            raise OptionError("second derivatives are derived for one scalar expression at a time")
        first = Program(program.inputs, tuple(assignments), ())
        n = len(wrt_real)
        hess = [[None] * n for _ in range(n)]
        for i in range(n):
            new, row = reverse(first, jac[i], wrt_real)
            assignments += new
            for j in range(i, n):
                hess[i][j] = hess[j][i] = row[j]
        outputs += [h for row in hess for h in row]
    if backward:
        assignments = [(t, rhs.xreplace(backward)) for t, rhs in assignments]
        outputs = [o.xreplace(backward) for o in outputs]
    return Program(tuple(inputs), tuple(assignments), tuple(outputs))


def _long_sum(expr, wrt, order):
    """The derivatives (``order`` 1: gradient; 2: gradient, then Hessian) of a long sum, by
    its families of terms (``_sums``), or ``None`` for any other expression."""
    if not (expr.is_Add and len(expr.args) >= MIN_TERMS):
        return None
    (expr,), wrt = _prepare([expr], wrt, "expr")
    return sum_derivatives(expr, lambda e: derive([e], wrt, order=order).expand()[1:])


def _nested_sums(expr, wrt):
    """The gradient of an expression holding long sums, by the chain rule through each
    (``_sums.nested_sum_gradient``), or ``None`` if it holds none."""
    (expr,), wrt = _prepare([expr], wrt, "expr")

    def partials(e, symbols):
        return _long_sum(e, symbols, 1) or list(derive([e], symbols).expand()[1:])

    return nested_sum_gradient(expr, wrt, partials)


def _matrix_input(exprs):
    if isinstance(exprs, sp.MatrixBase):
        return list(exprs), exprs.shape
    if isinstance(exprs, (str, sp.Basic)) or not hasattr(exprs, "__iter__"):
        return [exprs], None
    exprs = list(exprs)
    return exprs, (len(exprs), 1)


def gradient(expr, wrt) -> sp.Matrix:
    """Exact gradient of a scalar expression: an ``(n, 1)`` matrix of partials.

    ``∇f = [∂f/∂x_1, …, ∂f/∂x_n]ᵀ`` for ``f = expr`` and ``x = wrt``.

    Example:
        >>> import sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> sg.gradient(x**2 * sp.sin(y), [x, y]).T
        Matrix([[2*x*sin(y), x**2*cos(y)]])
    """
    expr = as_expr(expr, "expr")
    summed = _long_sum(expr, wrt, 1)
    if summed is None:
        summed = _nested_sums(expr, wrt)
    if summed is not None:
        return sp.Matrix(len(summed), 1, list(summed))
    program = derive([expr], wrt)
    values = program.expand()
    return sp.Matrix(len(values) - 1, 1, values[1:])  # (0, 1) for no symbols, as the contract's (n, 1)


def jacobian(exprs, wrt) -> sp.Matrix:
    """Exact Jacobian ``J[i, j] = ∂f_i/∂x_j`` of a sequence (or matrix) of expressions.

    Example:
        >>> import sympy as sp, symgrad as sg
        >>> r, phi = sp.symbols("r phi")
        >>> sg.jacobian([r * sp.cos(phi), r * sp.sin(phi)], [r, phi]).tolist()
        [[cos(phi), -r*sin(phi)], [sin(phi), r*cos(phi)]]
    """
    flat, _ = _matrix_input(exprs)
    wrt = as_symbols(wrt, "wrt")
    program = derive(flat, wrt)
    values = program.expand()
    m, n = len(flat), len(wrt)
    return sp.Matrix(m, n, values[m:])


def hessian(expr, wrt) -> sp.Matrix:
    """Exact Hessian ``H[i, j] = ∂²f/∂x_i∂x_j``, an ``(n, n)`` symmetric matrix.

    Example:
        >>> import sympy as sp, symgrad as sg
        >>> x, y = sp.symbols("x y")
        >>> sg.hessian(x**3 * y, [x, y]).tolist()
        [[6*x*y, 3*x**2], [3*x**2, 0]]
    """
    expr = as_expr(expr, "expr")
    wrt = as_symbols(wrt, "wrt")
    n = len(wrt)
    summed = _long_sum(expr, wrt, 2)
    if summed is not None:
        return sp.Matrix(n, n, summed[n:])
    program = derive([expr], wrt, order=2)
    values = program.expand()
    return sp.Matrix(n, n, values[1 + n:])
