"""The computation graph a learner draws: one node per operation or building block, named.

An expression tree becomes a DAG of small nodes ``t = rhs`` whose right-hand sides
read other nodes by name: a sum ``Σ cᵢ·tᵢ`` (so ``a - y`` is one node), a product
``c·Π tᵢ^kᵢ``, a power, a function. The activations of ``symgrad.nn`` are single
nodes (``a = sigmoid(z)``, ``relu(z)``, ``softplus(z)``, ``tanh(z)``) however SymPy
rewrote them, so a neuron reads ``z = w·x + b → a = σ(z) → L`` and not ``-w*x``,
``1/t6``; the binary cross-entropy of ``symgrad.losses`` is one node ``L`` likewise.

Names: inputs keep their symbols' names; the argument of an activation is ``z``
and its value ``a`` (``z1, a1, z2, a2, ...`` when there are several); the output is
``L`` when it is a loss of ``symgrad.losses`` (squared error, mean squared error,
binary cross-entropy), else ``f``; other nodes are ``t1, t2, ...``. Names the caller
gives (``names={"h": w*x}``) win, and no name is used twice.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import sympy as sp

from symgrad import losses, nn
from symgrad.errors import ExpressionTypeError, InputError

__all__ = ["Graph", "GraphNode", "build_graph", "ACTIVATIONS"]

#: Block name -> (build its expression from the argument, its local derivative in
#: (argument z, value a)), written as the textbooks do: σ' = σ(1 - σ), relu' = H(z) with
#: H(0) = 0, softplus' = σ(z).
ACTIVATIONS = {
    "sigmoid": (nn.sigmoid, lambda z, a: a * (1 - a)),
    "relu": (nn.relu, lambda z, a: sp.Heaviside(z, 0)),
    "softplus": (nn.softplus, lambda z, a: 1 / (1 + sp.exp(-z))),
    "tanh": (nn.tanh, lambda z, a: 1 - a**2),
}


@dataclass(frozen=True)
class GraphNode:
    """A node before evaluation: ``symbol = rhs``, ``rhs`` in the symbols of other nodes."""

    symbol: sp.Symbol
    expr: sp.Expr
    rhs: sp.Expr
    inputs: tuple
    block: str = ""


@dataclass(frozen=True)
class Graph:
    """Inputs (symbol -> placeholder), nodes in program order (the last is the output), names."""

    inputs: dict
    nodes: tuple
    names: dict


def _activation(e: sp.Expr):
    """``(block, z)`` when ``e`` is ``sigmoid(z)``, ``relu(z)`` or ``softplus(z)`` as ``symgrad.nn`` builds them."""
    if isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args:
        return "relu", next(a for a in e.args if a != 0)
    if isinstance(e, sp.tanh):
        return "tanh", e.args[0]
    if e.is_Pow and e.exp == -1 and e.base.is_Add and len(e.base.args) == 2 and sp.S.One in e.base.args:
        other = next(a for a in e.base.args if a != 1)
        if isinstance(other, sp.exp) and nn.sigmoid(-other.args[0]) == e:
            return "sigmoid", -other.args[0]
    if e.is_Add:
        for m in e.args:
            if isinstance(m, sp.Max) and len(m.args) == 2 and sp.S.Zero in m.args:
                z = next(a for a in m.args if a != 0)
                if nn.softplus(z) == e:
                    return "softplus", z
    return None


def _loss_block(e: sp.Expr):
    """``(block, (p, t))`` when ``e`` is ``binary_cross_entropy(p, t)`` as ``symgrad.losses`` writes it."""
    logs = e.atoms(sp.log)
    if len(logs) != 2:  # log(p) and log(1 - p)
        return None
    for p in [a.args[0] for a in logs]:
        for t in sorted(e.free_symbols, key=str):
            if losses.binary_cross_entropy(p, t) == e:
                return "binary_cross_entropy", (p, t)
    return None


def _is_loss(e: sp.Expr) -> bool:
    """Whether ``e`` is a loss of ``symgrad.losses``: ``(p - t)**2``, their mean, or ``bce(p, t)``."""
    def squared(u):
        return u.is_Pow and u.exp == 2 and u.base.is_Add
    if squared(e):
        return True
    if e.is_Mul and len(e.args) == 2 and e.args[0].is_Rational and e.args[1].is_Add:
        return all(squared(t) for t in e.args[1].args)
    if e.is_Add:  # the mean of squared errors, as SymPy distributes it: (p1 - t1)**2/n + ...
        terms = [t.as_coeff_Mul() for t in e.args]
        if len({c for c, _ in terms}) == 1 and all(squared(u) for _, u in terms):
            return True
    return _loss_block(e) is not None


class _Builder:
    """Walks the tree once, making one node per distinct subexpression that is an operation."""

    def __init__(self, inputs: dict):
        self.inputs = inputs
        self.nodes: dict = {}  # subexpression -> GraphNode, in program order
        self.activations: list = []

    def ref(self, e: sp.Expr) -> sp.Expr:
        """What a right-hand side writes for ``e``: a number, an input, or a node's symbol."""
        if not e.free_symbols:  # numbers, pi, sqrt(2): written into the right-hand side
            return e
        if e in self.inputs:
            return self.inputs[e]
        if e not in self.nodes:
            self.add(e)
        return self.nodes[e].symbol

    def add(self, e: sp.Expr) -> None:
        block, loss = _activation(e), _loss_block(e) if e.is_Add or e.is_Mul else None
        if block:
            kind, z = block
            rhs = ACTIVATIONS[kind][0](self.ref(z))
            self.activations.append((e, z))
        elif loss:
            kind, (p, t) = loss
            rhs = losses.binary_cross_entropy(self.ref(p), self.ref(t))
        else:
            kind, rhs = "", self.rhs(e)
        reads = tuple(dict.fromkeys(s for s in sp.preorder_traversal(rhs) if s in rhs.free_symbols))
        if loss:
            reads = tuple(dict.fromkeys(r for r in (self.ref(p), self.ref(t)) if r in rhs.free_symbols))
        self.nodes[e] = GraphNode(sp.Dummy(real=True), e, rhs, reads, kind)

    def term(self, t: sp.Expr) -> sp.Expr:
        """``c·ref(rest)`` for a term ``c·rest`` of a sum (so ``-y`` is ``-1·y``, not a node)."""
        c, rest = t.as_coeff_Mul()
        return c * self.ref(rest) if rest != 1 else c

    def factor(self, f: sp.Expr) -> sp.Expr:
        """``ref(base)**k`` for a factor ``base**k`` of a product with a number ``k``."""
        if f.is_Pow and f.exp.is_Number and not _activation(f):  # sigmoid(z) is 1/(...): one node
            return self.ref(f.base) ** f.exp
        return self.ref(f)

    def rhs(self, e: sp.Expr) -> sp.Expr:
        if e.is_Add:
            return sp.Add(*[self.term(t) for t in e.args])
        if e.is_Mul:
            c, rest = e.as_coeff_Mul()
            return c * sp.Mul(*[self.factor(f) for f in sp.Mul.make_args(rest)])
        if e.is_Pow and e.exp.is_Number:
            base = sp.Add(*[self.term(t) for t in e.base.args]) if e.base.is_Add else self.ref(e.base)
            return base**e.exp
        if e.is_Pow:
            return self.ref(e.base) ** self.ref(e.exp)
        if isinstance(e, sp.Piecewise):
            return sp.Piecewise(*[(self.ref(v), self.condition(c)) for v, c in e.args])
        if isinstance(e, sp.Function) or isinstance(e, (sp.Max, sp.Min)):
            return e.func(*[self.ref(a) for a in e.args])
        raise InputError(f"backprop cannot make a node of {e} ({type(e).__name__}).")

    def condition(self, c):
        """A ``Piecewise`` condition with its sides read as nodes (they pass no gradient)."""
        if isinstance(c, sp.logic.boolalg.BooleanAtom):
            return c
        if isinstance(c, sp.core.relational.Relational):
            return c.func(self.ref(c.lhs), self.ref(c.rhs))
        return c.func(*[self.condition(a) for a in c.args])


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _given_names(names, inputs: dict) -> dict:
    """``{subexpression: name}`` from ``names`` (``{name: expr}`` or ``{expr: name}``), checked."""
    if not names:
        return {}
    if not isinstance(names, dict):
        raise ExpressionTypeError(f"names must be a dict {{name: expression}}, got {type(names).__name__}.")
    out = {}
    for key, value in names.items():
        name, e = (key, value) if isinstance(key, str) else (value, key)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InputError(f"names: {name!r} is not a name (a letter, then letters, digits or _).")
        if not isinstance(e, sp.Expr):
            raise ExpressionTypeError(f"names[{name!r}] must be a SymPy expression, got {type(e).__name__}.")
        if name in {s.name for s in inputs}:
            raise InputError(f"names: {name!r} is already the name of an input symbol.")
        if name in out.values():
            raise InputError(f"names gives {name!r} to two expressions.")
        if e in out:
            raise InputError(f"names gives two names ({out[e]}, {name}) to {e}.")
        out[e] = name
    return out


def build_graph(expr: sp.Expr, symbols, names=None) -> Graph:
    """The named graph of ``expr`` over the input ``symbols`` (see the module docstring).

    Raises:
        InputError: a name in ``names`` is not a name, is used twice or is an input's, or
            its expression is not a node of the graph.
    """
    inputs = {s: sp.Dummy(s.name, real=True) for s in symbols}
    given = _given_names(names, inputs)
    builder = _Builder(inputs)
    output = builder.ref(expr)
    nodes = list(builder.nodes.values())
    missing = [f"{n} = {e}" for e, n in given.items() if e not in builder.nodes]
    if missing:
        raise InputError(f"names: {', '.join(missing)} is not an operation of the expression; name a "
                         "subexpression it is built from (as the building blocks wrote it).")
    taken = {s.name for s in symbols} | set(given.values())
    labels = {inputs[s]: s.name for s in symbols}

    def fresh(stem: str, numbered: bool) -> str:
        candidates = itertools.chain([] if numbered else [stem], (f"{stem}{i}" for i in itertools.count(1)))
        name = next(n for n in candidates if n not in taken)
        taken.add(name)
        return name

    for e, n in given.items():
        labels[builder.nodes[e].symbol] = n
    several = len(builder.activations) > 1
    for a, z in builder.activations:
        for e, stem in ((z, "z"), (a, "a")):
            node = builder.nodes.get(e)
            if node is not None and node.symbol not in labels and node.symbol != output:
                labels[node.symbol] = fresh(stem, several)
    if output in {n.symbol for n in nodes} and output not in labels:
        last = builder.nodes[expr]
        labels[output] = fresh("a" if last.block in ACTIVATIONS else "L" if _is_loss(expr) else "f", False)
    for node in nodes:
        if node.symbol not in labels:
            labels[node.symbol] = fresh("t", True)
    return Graph(inputs, tuple(nodes), labels)
