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

As with the tape, no SymPy differentiation is involved. A ``Mul`` of ``k`` factors is
one node, whose partials are the products of the other factors (from prefix and suffix
products: no division). An ``Add`` is one ``dot`` node ``Σ_j u_j·w_j``: each term of
two factors is its pair, any other term is paired with 1, so that the products of a
dense layer need no nodes of their own. ``Piecewise`` is not
translated (:class:`TapeProgram` raises ``UnsupportedFunctionError``): the tape's own
branch selection handles it.
"""

from __future__ import annotations


import numpy as np
import sympy as sp

from symgrad._functions import ELEMENTARY
from symgrad.autograd._rules import FLAT, FORWARD, VJP_RULES
from symgrad.errors import UnsupportedFunctionError

__all__ = ["TapeProgram"]

#: SymPy class -> tape primitive of its arguments: the table's functions (each named as
#: its class: exp, cot, erf, atan2, ...), and abs and sign.
UNARY = {**{row.sympy: row.name for row in ELEMENTARY}, sp.Abs: "abs", sp.sign: "sign"}
#: n-ary SymPy class -> n-ary tape primitive.
EXTREMA = {sp.Max: "max_n", sp.Min: "min_n"}


class _Group:
    """Nodes of one level and one primitive: ``v[out[r]] = op(v[args[r, 0]], ..., v[args[r, a-1]])``."""

    __slots__ = ("op", "params", "out", "args", "columns", "unique", "needs", "direct")

    def __init__(self, op, params, out, args, wants):
        self.op, self.params, self.out, self.args = op, dict(params), out, args
        self.columns = [np.ascontiguousarray(c) for c in args.T] if op != "dot" or args.shape[1] == 2 else []
        # which argument columns lead to a parameter
        leads = wants[args].any(axis=0)
        self.needs = [op not in FLAT and bool(w) for w in leads]
        self.unique, self.direct = [], None
        if op == "dot":
            # a sum's pulled-back terms go to their slots in one step: (partner slots, slots,
            # and the sorted runs of the slots where some repeat)
            cols = np.flatnonzero(leads)
            slots = args[:, cols]
            runs = _runs(slots.ravel()) if _repeats(slots) else None
            self.direct = (args[:, cols + 1 - 2 * (cols % 2)], slots, runs)
            return
        # a column whose slots repeat adds up its rows slot by slot: rows sorted by slot,
        # then one sum per run of equal slots (``None``: no repeats, a plain add)
        ordered = np.sort(args, axis=0)
        repeats = (ordered[1:] == ordered[:-1]).any(axis=0)
        self.unique = [_runs(c) if r and n else None for r, n, c in zip(repeats, self.needs, self.columns)]


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
        # one entry per slot, in post-order (arguments first): the primitive's code (-1: a
        # leaf or a constant) and the argument slots
        self._memo = dict(zip(map(id, leaves), range(len(leaves))))  # id(subexpression) -> slot
        self._codes: dict[tuple, int] = {("mul_n", ()): 0, ("dot", ()): 1}  # (primitive, params) -> code
        self._one = None  # the slot of the constant 1, once a sum needs it
        self._op = [-1] * len(leaves)
        self._level = [0] * len(leaves)  # one more than the highest level of the arguments
        # the nodes (slots that are no leaf), their number of arguments, and their argument
        # slots one after the other
        self._nodes: list[int] = []
        self._arity: list[int] = []
        self._edges: list[int] = []
        self._constants: list[tuple[int, float]] = []
        self.root = self._translate(expr)
        self.n_slots = len(self._op)
        self._const_slots = np.array([c[0] for c in self._constants], dtype=np.intp)
        self._const_values = np.array([c[1] for c in self._constants], dtype=np.float64)
        self.groups, self.depends = self._schedule()
        del self._memo, self._codes, self._op, self._level, self._nodes, self._arity, self._edges
        del self._constants, self._one

    # -- translation ---------------------------------------------------------------
    def _constant(self, value: float) -> int:
        self._op.append(-1)
        self._level.append(0)
        self._constants.append((len(self._op) - 1, value))
        return len(self._op) - 1

    def _node(self, op: str, args, params: tuple = ()) -> int:
        return self._push(self._codes.setdefault((op, params), len(self._codes)), args)

    def _push(self, code: int, args) -> int:
        """A new node of primitive ``code`` on the argument slots ``args``: its slot."""
        slot = len(self._op)
        self._op.append(code)
        self._nodes.append(slot)
        self._arity.append(len(args))
        self._edges += args
        level = self._level
        level.append(1 + max(map(level.__getitem__, args)))
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
        if cls is sp.Add:
            return self._sum(e)
        if cls is sp.Mul:
            return self._push(0, self._arguments(e))
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
            return self._node(name, tuple(self._arguments(e)))
        name = EXTREMA.get(cls)
        if name is not None:  # one node, ties shared as the engine's tape shares them
            number = next((i for i, a in enumerate(e.args) if a.is_Number), -1)
            return self._node(name, tuple(self._arguments(e)), (("number", number),))
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

    def _sum(self, e) -> int:
        """A sum as one ``dot`` node, ``Σ_j u_j·w_j``: a term ``u·w`` of two factors is the pair
        ``(u, w)`` (so the products of a dense layer are no nodes of their own), any other
        term ``t`` the pair ``(t, 1)``."""
        mul, factors = sp.Mul, []
        for t in e._args:  # the attribute behind .args: a dense layer has thousands of terms
            pair = t._args if type(t) is mul else ()
            if len(pair) == 2:
                factors += pair
            else:
                factors += (t, None)  # None: the constant 1
        args = list(map(self._memo.get, map(id, factors)))  # the slots seen before, in one pass
        if None in args:
            for k in [k for k, a in enumerate(args) if a is None]:
                f = factors[k]
                if f is not None:
                    args[k] = self._translate(f)
                else:
                    if self._one is None:
                        self._one = self._constant(1.0)
                        self._memo[id(None)] = self._one
                    args[k] = self._one
        return self._push(1, args)

    def _schedule(self) -> tuple[list[_Group], bool]:
        """Group the nodes by (level, primitive, arity), and mark the slots that depend on a parameter."""
        nodes = np.array(self._nodes, dtype=np.intp)
        op = np.array(self._op, dtype=np.intp)[nodes]  # each per node, in the order of nodes
        level = np.array(self._level, dtype=np.intp)[nodes]
        arity = np.array(self._arity, dtype=np.intp)
        edges = np.array(self._edges, dtype=np.intp)
        offsets = np.concatenate(([0], np.cumsum(arity)[:-1]))
        order = np.lexsort((arity, op, level))
        key = np.stack([level[order], op[order], arity[order]])
        cuts = np.flatnonzero((key[:, 1:] != key[:, :-1]).any(axis=0)) + 1
        wants = np.zeros(self.n_slots, dtype=bool)
        wants[: len(self.params)] = True
        names = {code: key for key, code in self._codes.items()}
        groups = []
        for positions in np.split(order, cuts) if len(order) else ():
            first, rows = positions[0], nodes[positions]
            args = edges[offsets[positions][:, None] + np.arange(arity[first])]
            wants[rows] = wants[args].any(axis=1)  # the arguments' levels are done
            name, params = names[op[first]]
            groups.append(_Group(name, params, rows, args, wants))
        return groups, bool(wants[self.root])

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
        if g.op == "dot":
            if len(g.columns) == 2:
                return v[g.columns[0]] * v[g.columns[1]]
            x = v[g.args]
            return (x[:, 0::2] * x[:, 1::2]).sum(axis=1)
        if g.op == "mul_n":
            return v[g.columns[0]] * v[g.columns[1]] if len(g.columns) == 2 else v[g.args].prod(axis=1)
        return FORWARD[g.op](*(v[c] for c in g.columns), **g.params)

    @staticmethod
    def _backward(g: _Group, v: np.ndarray, a: np.ndarray) -> None:
        seed = a[g.out]
        if g.op == "dot":  # the partial of u_j·w_j in u_j is w_j, and in w_j is u_j
            partners, slots, runs = g.direct
            pulled = v[partners] * seed[:, None, :]
            if runs is None:
                a[slots] += pulled
            else:
                order, starts, targets = runs
                a[targets] += np.add.reduceat(pulled.reshape(-1, seed.shape[1])[order], starts, axis=0)
            return
        if g.op == "mul_n":
            pulled = _product_partials(seed, [v[c] for c in g.columns], g.needs)
        else:
            ans = v[g.out]
            inputs = [v[c] for c in g.columns]
            pulled = [vjp(seed, ans, *inputs, **g.params) if need else None
                      for vjp, need in zip(VJP_RULES[g.op], g.needs)]
        for c, p, need, unique in zip(g.columns, pulled, g.needs, g.unique):
            if not need:
                continue
            if unique is None:
                a[c] += p
            else:
                order, starts, slots = unique
                a[slots] += np.add.reduceat(np.broadcast_to(p, seed.shape)[order], starts, axis=0)


def _repeats(slots) -> bool:
    """Whether some slot occurs twice (a sort: ``np.unique`` costs ten times as much here)."""
    ordered = np.sort(slots, axis=None)
    return bool((ordered[1:] == ordered[:-1]).any())


def _runs(column):
    """``(order, starts, slots)``: the rows sorted by slot, where each slot's run starts, and the slots."""
    order = np.argsort(column, kind="stable")
    ordered = column[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return order, starts, ordered[starts]


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
