"""Backpropagation by hand: forward values, local derivatives on the edges, backward adjoints.

The graph is the one a learner draws (see ``_graph``): ``z = w*x + b``, ``a = sigmoid(z)``,
``L = (a - y)**2``. Forward, each node's value; backward, ``adjoint(L) = 1`` and for each
edge ``s → t`` the local derivative ``∂t/∂s``, so that ``adjoint(s) = Σ_t adjoint(t)·∂t/∂s``
can be checked by hand from the table, one multiplication per edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgrad._display import BackpropDisplay
from symgrad._expr import as_expr, canonicalize, check_supported
from symgrad.check._domain import check_domain
from symgrad.check._evaluate import evaluate
from symgrad.derive._rules import local_derivative
from symgrad.errors import InputError, MissingSymbolError, UnknownNameError
from symgrad.explain._graph import ACTIVATIONS, build_graph
from symgrad.explain._layout import Layout, layout

__all__ = ["Node", "Edge", "Backprop", "backprop"]


@dataclass(frozen=True)
class Node:
    """One node of the computation graph.

    Attributes:
        name: the input's symbol name, or the node's name (``z``, ``a``, ``L``, ``t1``, ...).
        operation: the SymPy class of the operation (``"Add"``, ``"sin"``), the building
            block (``"sigmoid"``, ``"relu"``, ``"softplus"``), or ``"input"``.
        rhs: the operation written with node names, e.g. ``"t1 + b"`` (the name for inputs).
        inputs: names of the nodes it reads.
        value: forward value at the point.
        adjoint: backward value ``∂f/∂node`` at the point.
        depth: 0 for inputs, else one more than the deepest node it reads.
        expr: the node as an expression of the input symbols, e.g. ``b + w*x``.
        backward: how the adjoint is summed, e.g. ``"a: -0.4995 × a*(1 - a)"`` per
            consumer (``"output"`` for the output).
    """

    name: str
    operation: str
    rhs: str
    inputs: tuple
    value: float
    adjoint: float
    depth: int
    expr: sp.Expr = sp.S.Zero
    backward: str = ""

    @property
    def is_input(self) -> bool:
        return self.operation == "input"

    def label(self) -> str:
        """A short multi-line label for drawing."""
        head = self.name if self.is_input else f"{self.name} = {self.rhs}"
        return f"{head}\nvalue   {self.value:.4g}\nadjoint {self.adjoint:.4g}"


@dataclass(frozen=True)
class Edge:
    """One edge ``source → target`` of the graph, with what backpropagation sends along it.

    Attributes:
        source, target: node names (``target`` reads ``source``).
        local: the local derivative ``∂target/∂source``, in node names (``a*(1 - a)``).
        local_value: its value at the point.
        contribution: ``adjoint(target) · local_value``, added to ``adjoint(source)``
            (0 when the target's adjoint is 0: it passes nothing back).
    """

    source: str
    target: str
    local: sp.Expr
    local_value: float
    contribution: float

    def __str__(self) -> str:
        value = "" if self.local.is_Number else f" = {self.local_value:.6g}"
        return f"∂{self.target}/∂{self.source} = {self.local}{value}"


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
        edges: every edge with its local derivative, in program order of the targets.
    """

    expr: sp.Expr
    point: dict
    nodes: tuple
    value: float
    gradient: dict
    singular: tuple = ()
    edges: tuple = ()

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise UnknownNameError(f"no node {name!r}; the nodes are {', '.join(n.name for n in self.nodes)}")

    def layout(self) -> Layout:
        """Where to draw each node and edge, with few crossings (see :class:`Layout`)."""
        return layout(self.nodes, self.edges)

    def __str__(self) -> str:
        rows = [("node", "definition", "value", "adjoint", "adjoint = Σ consumer's adjoint × local derivative")]
        for n in self.nodes:
            rows.append((n.name, "input" if n.is_input else n.rhs, f"{n.value:.6g}", f"{n.adjoint:.6g}", n.backward))
        widths = [max(len(r[j]) for r in rows) for j in range(4)]
        lines = ["  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]),
                            r[3].rjust(widths[3]), r[4]]).rstrip() for r in rows]
        lines += ["", "local derivatives on the edges:"] + [f"  {e}" for e in self.edges]
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


def _read_point(expr, at) -> dict:
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
    return {s: float(at[s]) for s in symbols}


def backprop(expr, at, names=None) -> Backprop:
    """Run reverse mode by hand over the graph of ``expr`` at a point.

    Forward: ``v_t = op(v_args)`` for each node in order. Backward: ``a_f = 1`` and
    ``a_s += a_t · ∂t/∂s`` for each node ``t`` in reverse order and each input ``s``
    of it (an :class:`Edge`), with symgrad's conventions at kinks (``relu'(0) = 0``); a
    node with ``a_t = 0`` passes nothing back (a branch a ``Piecewise`` does not take
    may be undefined at the point). ``a_x`` of an input ``x`` is ``∂f/∂x``.

    Nodes are the operations a learner draws, the activations of ``symgrad.nn`` as one
    node each, named ``z`` (pre-activation), ``a`` (activation), ``L`` (a loss of
    ``symgrad.losses``), ``t1, t2, ...`` otherwise, or as ``names`` says.

    Args:
        expr: a scalar SymPy expression.
        at: ``{symbol: value}`` for every free symbol, or values for the symbols in name order.
        names: optional ``{name: subexpression}`` (or ``{subexpression: name}``): the
            learner's own names, e.g. ``{"z": w*x + b, "yhat": sg.nn.sigmoid(w*x + b)}``.

    Returns:
        Backprop.

    Raises:
        InputError: ``at`` has the wrong number of values, or a name of ``names`` is not
            a name, is given twice, or names no operation of the expression.
        MissingSymbolError: a symbol has no value.
        DomainError: a function is undefined at the point (``log`` of a number <= 0, a
            division by zero, ...), naming it and its argument's value.

    Example:
        >>> import sympy as sp
        >>> x, y = sp.symbols("x y")
        >>> b = backprop(x * y + sp.sin(x), {x: 0.0, y: 2.0})
        >>> b.value, b.gradient[x], b.gradient[y]
        (0.0, 3.0, 0.0)
        >>> [str(e) for e in b.edges if e.target == "t1"]
        ['∂t1/∂x = y = 2', '∂t1/∂y = x = 0']
    """
    expr = canonicalize(as_expr(expr, "expr"))
    check_supported(expr, "symgrad.explain.backprop")
    point = _read_point(expr, at)
    symbols = list(point)
    shown = ", ".join(f"{s} = {v!r}" for s, v in point.items())
    singular = check_domain(expr, point, symbols, lambda sample: shown)
    graph = build_graph(expr, symbols, names)
    label = graph.names
    numbers = {graph.inputs[s]: sp.Float(point[s], 17) for s in symbols}
    for node in graph.nodes:
        numbers[node.symbol] = _forward(node.rhs, numbers)
    output = graph.nodes[-1].symbol if graph.nodes and graph.nodes[-1].expr == expr else None
    adjoint = {v: 0.0 for v in numbers}
    if output is not None:
        adjoint[output] = 1.0
    elif expr in point:
        adjoint[graph.inputs[expr]] = 1.0
    groups = []
    to_names = {v: sp.Symbol(n) for v, n in label.items()}
    for node in reversed(graph.nodes):
        groups.append([])
        for s in node.inputs:
            if node.block in ACTIVATIONS:
                d = ACTIVATIONS[node.block][1](node.inputs[0], node.symbol)
            else:
                d = local_derivative(node.rhs, s, None)
            passes = adjoint[node.symbol] != 0.0  # else nothing goes back (a branch not taken)
            value = _local(d, numbers) if passes else _safe_local(d, numbers)
            contribution = adjoint[node.symbol] * value if passes else 0.0
            adjoint[s] += contribution
            groups[-1].append(Edge(label[s], label[node.symbol], d.xreplace(to_names), value, contribution))
    edges = [e for group in reversed(groups) for e in group]
    nodes = _nodes(graph, symbols, point, numbers, adjoint, edges, output)
    value = float(numbers[output]) if output is not None else float(expr.xreplace(point))
    gradient = {s: adjoint[graph.inputs[s]] for s in symbols}
    return Backprop(expr, point, tuple(nodes), value, gradient, tuple(map(str, singular)), tuple(edges))


def _safe_local(d, numbers) -> float:
    """A local derivative on an edge that passes nothing back, for the table only."""
    try:
        return _local(d, numbers)
    except (TypeError, ValueError, ArithmeticError):
        return float("nan")


def _backward_text(name, consumers, adjoints, output) -> str:
    """``"a: -0.4995 × 0.1875 + ..."``: each consumer's adjoint times the local derivative."""
    if name == output:
        return "output: 1"
    parts = [f"{e.target}: {adjoints[e.target]:.6g} × {e.local_value:.6g}" for e in consumers]
    return " + ".join(parts) if parts else "unused"


def _nodes(graph, symbols, point, numbers, adjoint, edges, output) -> list:
    label = graph.names
    adjoints = {label[v]: a for v, a in adjoint.items()}
    consumers = {n: [e for e in edges if e.source == n] for n in adjoints}
    out = label.get(output, "")
    depth = {graph.inputs[s]: 0 for s in symbols}
    nodes = [Node(s.name, "input", s.name, (), point[s], adjoint[graph.inputs[s]], 0, s,
                  _backward_text(s.name, consumers[s.name], adjoints, out)) for s in symbols]
    to_names = {v: sp.Symbol(n) for v, n in label.items()}
    for node in graph.nodes:
        name = label[node.symbol]
        depth[node.symbol] = 1 + max((depth[v] for v in node.inputs), default=-1)
        operation = node.block or type(node.expr).__name__
        reads = ", ".join(label[v] for v in node.inputs)
        rhs = f"{node.block}({reads})" if node.block else str(node.rhs.xreplace(to_names))
        nodes.append(Node(name, operation, rhs, tuple(label[v] for v in node.inputs),
                          float(numbers[node.symbol]), adjoint[node.symbol], depth[node.symbol], node.expr,
                          _backward_text(name, consumers[name], adjoints, out)))
    return nodes
