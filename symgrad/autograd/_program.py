"""A SymPy expression as a tape built once and replayed one level at a time.

``Tensor`` records one node per operation, which costs a few microseconds of Python
per node: a network of 2,410 parameters is about 5,000 of them. A :class:`TapeProgram`
translates the expression once into the same primitives (``FORWARD`` and
``VJP_RULES``, the table of the tape), then sorts the nodes into *levels*: a node's
level is one more than the highest level of its arguments, so the nodes of one level
depend only on lower levels. Nodes of one level and one primitive run as one NumPy
call on a block of rows: the 2,048 products ``W[j, i]·x_i`` of a dense layer are one
multiplication of two ``(2048, S)`` arrays, for ``S`` samples. Backward walks the
levels in reverse with the vector-Jacobian rules, so that every sample's gradient
comes out of one pass.

As with the tape, no SymPy differentiation is involved. ``Add`` and ``Mul`` of ``k``
terms are single nodes (a sum, and a product whose partials are the products of the
other factors, from prefix and suffix products: no division). ``Piecewise`` is not
translated (:class:`TapeProgram` raises ``UnsupportedFunctionError``): the tape's own
branch selection handles it.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad.autograd._rules import FORWARD, VJP_RULES
from symgrad.errors import UnsupportedFunctionError

__all__ = ["TapeProgram"]

#: SymPy class -> tape primitive of one argument.
UNARY = {
    sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
    sp.asin: "asin", sp.acos: "acos", sp.atan: "atan", sp.sinh: "sinh", sp.cosh: "cosh",
    sp.tanh: "tanh", sp.asinh: "asinh", sp.acosh: "acosh", sp.atanh: "atanh",
    sp.Abs: "abs", sp.sign: "sign",
}
#: n-ary SymPy class -> binary tape primitive, folded from the left as the tape does.
FOLDED = {sp.Max: "maximum", sp.Min: "minimum"}
#: Primitives whose vector-Jacobian product is zero (steps): backward skips them.
FLAT = frozenset({"sign", "heaviside"})


class _Group:
    """Nodes of one level and one primitive: ``out[r] = op(slot args[r, 0], ..., args[r, a-1])``."""

    __slots__ = ("op", "params", "out", "args", "columns", "unique", "needs")

    def __init__(self, op, params, rows, wants):
        self.op, self.params = op, dict(params)
        self.out = np.array([r[0] for r in rows], dtype=np.intp)
        columns = list(zip(*[r[1] for r in rows]))
        self.args = np.array(columns, dtype=np.intp).T
        self.columns = [np.array(c, dtype=np.intp) for c in columns]
        # which argument columns lead to a parameter, and whether their slots repeat
        self.needs = [op not in FLAT and True in [wants[a] for a in c] for c in columns]
        self.unique = [len(set(c)) == len(c) for c in columns]


class TapeProgram:
    """The tape of ``expr`` over parameters ``params`` and data symbols ``data``, built once.

    :meth:`run` evaluates ``expr`` on ``S`` samples and returns every sample's value
    and gradient: ``values[s] = expr(θ, d_s)``, ``grads[i, s] = ∂expr(θ, d_s)/∂θ_i``.

    Args:
        expr: a canonical SymPy expression (``symgrad._expr.canonicalize``) whose free
            symbols are among ``params`` and ``data``.
        params: the symbols ``θ``, in vector order.
        data: the data symbols, in column order.

    Raises:
        UnsupportedFunctionError: for ``Piecewise`` and any class the tape lacks, named.

    Example:
        >>> x, w = sp.symbols("x w")
        >>> values, grads = TapeProgram(w**2 * sp.sin(x), [w], [x]).run(np.array([3.0]), [np.array([0.0, np.pi / 2])])
        >>> values.round(12), grads.round(12)
        (array([0., 9.]), array([[0., 6.]]))
    """

    def __init__(self, expr, params, data=()):
        self.params, self.data = tuple(params), tuple(data)
        leaves = self.params + self.data
        self._memo = {id(s): i for i, s in enumerate(leaves)}  # id(subexpression) -> slot
        self._constants: list[tuple[int, float]] = []
        self._level = [0] * len(leaves)
        self._wants = [True] * len(self.params) + [False] * len(self.data)  # depends on a parameter
        self._nodes: list[tuple] = []  # (level, op, params, out slot, argument slots), post-order
        self.root = self._translate(expr)
        self.depends = self._wants[self.root]
        self.n_slots = len(self._level)
        self._const_slots = np.array([c[0] for c in self._constants], dtype=np.intp)
        self._const_values = np.array([c[1] for c in self._constants], dtype=np.float64)
        self.groups = self._schedule(self._wants)
        del self._memo, self._nodes, self._level, self._wants

    # -- translation ---------------------------------------------------------------
    def _constant(self, value: float) -> int:
        slot = len(self._level)
        self._level.append(0)
        self._wants.append(False)
        self._constants.append((slot, value))
        return slot

    def _node(self, op: str, args: list, params: tuple = ()) -> int:
        slot = len(self._level)
        level_of, wants = self._level, self._wants
        level = 1 + max([level_of[a] for a in args])
        level_of.append(level)
        wants.append(True in [wants[a] for a in args])
        self._nodes.append((level, op, params, slot, args))
        return slot

    def _translate(self, e) -> int:
        hit = self._memo.get(id(e))
        if hit is None:
            hit = self._memo[id(e)] = self._translate_new(e)
        return hit

    def _arguments(self, e) -> list[int]:
        get = self._memo.get
        return [s if (s := get(id(a))) is not None else self._translate(a) for a in e.args]

    def _translate_new(self, e) -> int:
        cls = type(e)
        if cls is sp.Mul or cls is sp.Add:  # most nodes: inlined _arguments and _node
            get, level_of, wants = self._memo.get, self._level, self._wants
            args = [s if (s := get(id(a))) is not None else self._translate(a) for a in e.args]
            slot = len(level_of)
            level = 1 + max([level_of[a] for a in args])
            level_of.append(level)
            wants.append(True in [wants[a] for a in args])
            self._nodes.append((level, "mul_n" if cls is sp.Mul else "add_n", (), slot, args))
            return slot
        if e.is_Number or isinstance(e, sp.NumberSymbol):
            return self._constant(float(e))
        if cls is sp.Pow:
            base, exponent = e.args
            if base is sp.E:
                return self._node("exp", (self._translate(exponent),))
            b = self._translate(base)
            if exponent is sp.S.Half:
                return self._node("sqrt", (b,))
            if exponent is sp.S.NegativeOne:
                return self._node("div", (self._constant(1.0), b))
            return self._node("pow", (b, self._translate(exponent)))
        name = UNARY.get(cls)
        if name is not None:
            return self._node(name, (self._translate(e.args[0]),))
        name = FOLDED.get(cls)
        if name is not None:
            slots = self._arguments(e)
            out = slots[0]
            for s in slots[1:]:
                out = self._node(name, (out, s))
            return out
        if cls is sp.Heaviside:
            h0 = float(e.args[1]) if len(e.args) > 1 else 0.0
            return self._node("heaviside", (self._translate(e.args[0]),), (("h0", h0),))
        if isinstance(e, sp.Symbol):  # an equal symbol that is another object
            for slot, s in enumerate(self.params + self.data):
                if s == e:
                    return slot
            raise UnsupportedFunctionError(f"the symbol {e} is neither a parameter nor a data symbol.")
        raise UnsupportedFunctionError(
            f"the replayed tape has no translation for the SymPy class {cls.__name__} (in {e})."
        )

    def _schedule(self, wants: list) -> list[_Group]:
        buckets: dict[tuple, list] = {}
        for level, op, params, out, args in self._nodes:
            buckets.setdefault((level, op, params, len(args)), []).append((out, args))
        return [_Group(op, params, rows, wants) for (_, op, params, _), rows in sorted(buckets.items())]

    # -- evaluation ------------------------------------------------------------------
    def run(self, theta: np.ndarray, columns=()) -> tuple[np.ndarray, np.ndarray]:
        """Values ``(S,)`` and per-sample gradients ``(n, S)`` at ``theta`` on ``S`` samples.

        ``columns``: one 1-D float64 array of ``S`` samples per data symbol (none: ``S = 1``).
        """
        n_samples = len(columns[0]) if len(columns) else 1
        v = np.empty((self.n_slots, n_samples))
        n = len(self.params)
        v[:n] = np.asarray(theta, dtype=np.float64)[:, None]
        for k, c in enumerate(columns):
            v[n + k] = c
        v[self._const_slots] = self._const_values[:, None]
        for g in self.groups:
            v[g.out] = self._forward(g, v)
        a = np.zeros_like(v)
        a[self.root] = 1.0
        if self.depends:
            for g in reversed(self.groups):
                self._backward(g, v, a)
        return v[self.root].copy(), a[:n].copy()

    @staticmethod
    def _forward(g: _Group, v: np.ndarray) -> np.ndarray:
        if g.op == "add_n":
            return v[g.columns[0]] + v[g.columns[1]] if len(g.columns) == 2 else v[g.args].sum(axis=1)
        if g.op == "mul_n":
            return v[g.columns[0]] * v[g.columns[1]] if len(g.columns) == 2 else v[g.args].prod(axis=1)
        return FORWARD[g.op](*(v[c] for c in g.columns), **g.params)

    @staticmethod
    def _backward(g: _Group, v: np.ndarray, a: np.ndarray) -> None:
        seed = a[g.out]
        if g.op == "add_n":
            pulled = [seed] * len(g.columns)
        elif g.op == "mul_n":
            pulled = _product_partials(seed, [v[c] for c in g.columns], g.needs)
        else:
            ans = v[g.out]
            inputs = [v[c] for c in g.columns]
            pulled = [vjp(seed, ans, *inputs, **g.params) if need else None
                      for vjp, need in zip(VJP_RULES[g.op], g.needs)]
        for c, p, need, unique in zip(g.columns, pulled, g.needs, g.unique):
            if not need:
                continue
            if unique:
                a[c] += p
            else:
                np.add.at(a, c, np.broadcast_to(p, seed.shape))


def _product_partials(seed, x, needs):
    """``seed · Π_{i≠j} x_i`` for each factor ``j`` that ``needs`` it, by prefix and suffix products."""
    if len(x) == 2:
        return [seed * x[1] if needs[0] else None, seed * x[0] if needs[1] else None]
    before = [seed]
    for xi in x[:-1]:
        before.append(before[-1] * xi)
    out = [None] * len(x)
    after = None
    for j in range(len(x) - 1, -1, -1):
        if needs[j]:
            out[j] = before[j] if after is None else before[j] * after
        after = x[j] if after is None else after * x[j]
    return out
