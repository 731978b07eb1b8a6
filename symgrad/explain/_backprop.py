"""Backpropagation by hand: forward values and backward adjoints of every node of a program."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgrad._expr import as_expr, canonicalize, check_supported, realify
from symgrad.derive import linearize
from symgrad.derive._rules import local_derivative
from symgrad.check._domain import check_domain
from symgrad.check._evaluate import evaluate
from symgrad.errors import InputError, MissingSymbolError
from symgrad._display import BackpropDisplay

__all__ = ["Node", "Backprop", "backprop"]


@dataclass(frozen=True)
class Node:
    """One node of the computation graph.

    Attributes:
        name: ``"x"`` for an input, ``"t1"``, ``"t2"``, ... for operations in program order.
        operation: the SymPy class of the operation (``"Mul"``, ``"sin"``), ``"input"`` for inputs.
        rhs: the operation written with node names, e.g. ``"t1*y"`` (the input's name for inputs).
        inputs: names of the nodes it reads.
        value: forward value at the point.
        adjoint: backward value ``∂f/∂node`` at the point.
        depth: 0 for inputs, else one more than the deepest node it reads.
    """

    name: str
    operation: str
    rhs: str
    inputs: tuple
    value: float
    adjoint: float
    depth: int

    @property
    def is_input(self) -> bool:
        return self.operation == "input"

    def label(self) -> str:
        """A short multi-line label for drawing."""
        head = self.name if self.is_input else f"{self.name} = {self.rhs}"
        return f"{head}\nvalue   {self.value:.4g}\nadjoint {self.adjoint:.4g}"


@dataclass(frozen=True, repr=False)
class Backprop(BackpropDisplay):
    """The forward and backward pass of reverse mode over one expression, at one point.

    Attributes:
        expr: the expression ``f``.
        point: ``{symbol: value}``.
        nodes: inputs first, then operations in program order; the last operation is ``f``.
        value: ``f`` at the point.
        gradient: ``{symbol: ∂f/∂symbol}``, the adjoints of the inputs.
        singular: where a local derivative is infinite or not real at the point (``sqrt``
            at 0, ``asin`` at 1, ...): descriptions; the adjoints through it are then
            ``inf`` or ``nan``, as the compiled gradient's are.
    """

    expr: sp.Expr
    point: dict
    nodes: tuple
    value: float
    gradient: dict
    singular: tuple = ()

    def __str__(self) -> str:
        lines = [f"{'node':<6}{'operation':<28}{'value':>14}{'adjoint':>14}"]
        for n in self.nodes:
            shown = "input" if n.is_input else f"{n.name} = {n.rhs}"
            lines.append(f"{n.name:<6}{shown[:27]:<28}{n.value:>14.6g}{n.adjoint:>14.6g}")
        lines += [f"singular: {s}" for s in self.singular]
        return "\n".join(lines)


def _forward(rhs: sp.Expr, numbers: dict) -> sp.Float:
    """The value of one operation; NaN where it is not real (only in a branch that a
    ``Piecewise`` does not take: the point was checked to be inside the domain)."""
    exact = rhs.xreplace(numbers)
    return sp.Float(float(exact), 17) if exact.is_extended_real else sp.nan


def _local(d: sp.Expr, numbers: dict) -> float:
    """A local derivative at the point; where it is infinite (``1/(2·sqrt(0))`` is SymPy's
    ``zoo``) or not real, the float64 value the compiled kernels give (``inf``, ``nan``)."""
    exact = d.xreplace(numbers)
    if exact.is_extended_real and exact.is_finite:
        return float(exact)
    floats = {s: float(v) for s, v in numbers.items()}
    with np.errstate(all="ignore"):
        value = np.asarray(evaluate(d, floats))
    return float(value.real) if np.isreal(value) else float("nan")


def backprop(expr, at) -> Backprop:
    """Run reverse mode by hand over the linearized program of ``expr`` at a point.

    Forward: ``v_t = op(v_args)`` for each node in order. Backward: ``a_f = 1`` and
    ``a_s += a_t · ∂op/∂s`` for each node ``t`` in reverse order and each input ``s``
    of it, with symgrad's conventions at kinks; a node with ``a_t = 0`` passes nothing
    back (a branch a ``Piecewise`` does not take may be undefined at the point). ``a_x`` of an input ``x`` is ``∂f/∂x``.

    Args:
        expr: a scalar SymPy expression.
        at: ``{symbol: value}`` for every free symbol, or values for the symbols in name order.

    Returns:
        Backprop.

    Raises:
        InputError: ``at`` has the wrong number of values.
        MissingSymbolError: a symbol has no value.
        DomainError: a function is undefined at the point (``log`` of a number <= 0, a
            division by zero, ...), naming it and its argument's value.

    Example:
        >>> import sympy as sp
        >>> x, y = sp.symbols("x y")
        >>> b = backprop(x * y + sp.sin(x), {x: 0.0, y: 2.0})
        >>> b.value, b.gradient[x], b.gradient[y]
        (0.0, 3.0, 0.0)
    """
    expr = canonicalize(as_expr(expr, "expr"))
    check_supported(expr, "symgrad.explain.backprop")
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if not isinstance(at, dict):
        values = [float(v) for v in at]
        if len(values) != len(symbols):
            raise InputError(f"at gives {len(values)} values for {len(symbols)} symbols "
                             f"({', '.join(map(str, symbols))}); give one per symbol, in name order.")
        at = dict(zip(symbols, values))
    missing = [str(s) for s in symbols if s not in at]
    if missing:
        raise MissingSymbolError(f"at gives no value for {', '.join(missing)}")
    point = {s: float(at[s]) for s in symbols}
    shown = ", ".join(f"{s} = {v!r}" for s, v in point.items())
    singular = check_domain(expr, point, symbols, lambda sample: shown)
    (real,), forward, _ = realify([expr])
    inputs = [forward[s] for s in symbols]
    program = linearize([real], inputs)
    names = {forward[s]: sp.Symbol(s.name) for s in symbols}
    names.update({t: sp.Symbol(f"t{i}") for i, (t, _) in enumerate(program.assignments, 1)})
    numbers = {forward[s]: sp.Float(point[s], 17) for s in symbols}
    for t, rhs in program.assignments:
        numbers[t] = _forward(rhs, numbers)
    output = program.outputs[0]
    adjoint = {v: 0.0 for v in numbers}
    if output in adjoint:
        adjoint[output] = 1.0
    for t, rhs in reversed(program.assignments):
        if adjoint[t] == 0.0:
            continue  # passes nothing back (e.g. a branch that a Piecewise does not take)
        for s in rhs.free_symbols & set(adjoint):
            d = local_derivative(rhs, s, None)
            adjoint[s] += adjoint[t] * _local(d, numbers)
    depth = {v: 0 for v in inputs}
    nodes = [Node(s.name, "input", s.name, (), point[s], adjoint[forward[s]], 0) for s in symbols]
    for t, rhs in program.assignments:
        reads = sorted(rhs.free_symbols & set(depth), key=lambda v: names[v].name)
        depth[t] = 1 + max((depth[v] for v in reads), default=-1)
        nodes.append(Node(names[t].name, type(rhs).__name__, str(rhs.xreplace(names)),
                          tuple(names[v].name for v in reads), float(numbers[t]), adjoint[t], depth[t]))
    value = float(numbers[output]) if output in numbers else float(output)
    gradient = {s: adjoint[forward[s]] for s in symbols}
    return Backprop(expr, point, tuple(nodes), value, gradient, tuple(map(str, singular)))
