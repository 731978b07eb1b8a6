"""Families of identical subexpressions, and reverse accumulation over them.

A network written with scalar symbols repeats one formula per unit: the 32 units of
a dense layer are 32 copies of ``max(0, sum_i W[j, i] * x_i + b[j])`` that differ only
in which parameters and inputs they read. ``lift`` finds those copies and turns an
expression into a short program of *families*: each family computes ``size`` values
with one template,

    v[k] = value(slots(k), R[k]),    R[k] = reduce_{m < length} term(term_slots(k, m))

where a slot reads ``theta``, a data column or another family's values at an index
that is affine in ``(k, m)`` or listed in a table, and ``reduce`` (optional) adds up,
or takes the maximum or minimum of, ``length`` isomorphic arguments of one ``Add``,
``Max`` or ``Min``. The derivative of each template is taken once, symbolically, with
the same rules and kink conventions as the scalar engine (``_rules``), so the program
and its reverse pass grow with the number of distinct formulas, not with the number
of units, and compile in seconds where the straight-line program would take minutes.

How copies are recognised: every node gets a *key*, the structure of the formula it
computes down to the values it reads from other families (arguments of commutative
operations sorted by key, a run of at least ``R_MIN`` equal-keyed arguments of an
``Add``, ``Max`` or ``Min`` counted as one reduction). Nodes used more than once,
reductions and templates grown past ``T_MAX`` operations are computed by a family of
their own; every other node is written inline into its one user's template. Nodes
with equal keys form one family; a key contains the keys of every family it reads, so
no family reads itself and families run in order of key depth.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from symgrad._expr import unique_nodes
from symgrad.derive._rules import apply_conventions, real_diff

__all__ = ["IndexMap", "Slot", "Family", "LoopProgram", "lift", "R_MIN", "T_MAX"]

#: Equal-keyed arguments of one Add, Max or Min needed to make a reduction loop.
R_MIN = 4

#: Operations one template may inline; larger subexpressions get a family of their own.
T_MAX = 24

_COMMUTATIVE = (sp.Add, sp.Mul, sp.Max, sp.Min)
_LIFTED = (sp.Add, sp.Mul)  # whose numbers may differ between the members of a family
_REDUCIBLE = {sp.Add: "add", sp.Max: "max", sp.Min: "min"}


@dataclass(frozen=True)
class IndexMap:
    """Which element a slot reads: ``start + step*k + inner*m``, or ``table[k*length + m]``.

    For a number slot (``source == "const"``) ``table`` holds the numbers themselves.
    """

    start: int = 0
    step: int = 0
    inner: int = 0
    table: tuple | None = None


@dataclass(frozen=True)
class Slot:
    """One input of a template: ``symbol`` stands for ``source[index(k, m)]``.

    ``source`` is ``"theta"``, ``"data"`` or ``"value"`` (then ``family`` says whose).
    """

    symbol: sp.Dummy
    source: str
    family: int
    index: IndexMap


@dataclass(frozen=True)
class Family:
    """``size`` values sharing one template (see the module docstring).

    Attributes:
        value: expression in the symbols of ``slots`` and ``reduced``.
        reduce: ``"add"``, ``"max"``, ``"min"`` or ``None``.
        length: number of reduced terms (0 without a reduction).
        term: expression in the symbols of ``term_slots`` (``None`` without one).
        reduced: the symbol that stands for ``R[k]`` in ``value``.
        active: whether the values depend on ``theta``.
        d_value: ``d value / d slot`` for each slot (``None`` where not active).
        d_reduced: ``d value / d R`` (or ``None``).
        d_term: ``d term / d term slot`` for each term slot (``None`` where not active).
        itself: the symbol that stands for ``v[k]`` in the derivatives.
    """

    size: int
    value: sp.Expr
    slots: tuple
    reduce: str | None = None
    length: int = 0
    term: sp.Expr | None = None
    term_slots: tuple = ()
    reduced: sp.Dummy | None = None
    active: bool = False
    d_value: tuple = ()
    d_reduced: sp.Expr | None = None
    d_term: tuple = ()
    itself: sp.Dummy | None = None


@dataclass(frozen=True)
class LoopProgram:
    """Families in evaluation order; the last one holds the expression's value (size 1).

    ``nodes`` counts the distinct subexpressions the families stand for.
    """

    n_params: int
    n_data: int
    families: tuple
    nodes: int

    def __repr__(self) -> str:
        sizes = [f.size for f in self.families]
        return f"LoopProgram({len(sizes)} families for {self.nodes} nodes, largest {max(sizes)})"


class _Graph:
    """The DAG of one expression with each distinct node numbered in post-order.

    Built by one loop over an explicit stack (no recursion, whatever the depth), each
    node's children looked up once: the cost is a few dictionary operations per node,
    which is what a sum of 10^5 terms (3 * 10^5 nodes) needs.
    """

    def __init__(self, expr, params, data):
        where = {p: ("theta", i) for i, p in enumerate(params)}
        where.update({d: ("data", j) for j, d in enumerate(data)})
        ids: dict = {}        # node -> number (SymPy hashes a node by a Python call) ...
        by_id: dict = {}      # ... so a node met before is first looked up by identity
        nodes: list = []      # the SymPy node
        alive: list = []      # equal nodes met again: kept alive, so identities stay unique
        leaf: list = []       # ("theta", i), ("data", j), ("const", atom) or None
        children: list = []
        stack = [expr]
        while stack:
            node = stack[-1]
            if id(node) in by_id:
                stack.pop()
                continue
            known = ids.get(node)
            if known is not None:  # equal to a node numbered before, another object
                by_id[id(node)] = known
                alive.append(node)
                stack.pop()
                continue
            if node.is_Atom:
                stack.pop()
                ids[node] = by_id[id(node)] = len(leaf)
                nodes.append(node)
                leaf.append(where.get(node) or ("const", node))
                children.append(())
                continue
            args = node.args
            pending = [a for a in args if id(a) not in by_id]
            if pending:
                pending.reverse()
                stack += pending
                continue
            stack.pop()
            ids[node] = by_id[id(node)] = len(leaf)
            nodes.append(node)
            leaf.append(None)
            children.append(tuple([by_id[id(a)] for a in args]))
        uses = [0] * len(nodes)
        for kids in children:
            for c in kids:
                uses[c] += 1
        self.ids, self.nodes, self.leaf, self.children, self.uses = ids, nodes, leaf, children, uses
        #: whether node i is a number (which a sum or product reads from a table)
        self.number = [lf is not None and lf[0] == "const" and n.is_Number for lf, n in zip(leaf, nodes)]
        self.root = ids[expr]


class _Keys:
    """Keys, inline decisions and reductions of every node of a ``_Graph``.

    The key of a number that only sums and products read (which read it from a table)
    is never needed, and is computed only where another node reads the number.
    """

    def __init__(self, g: _Graph):
        self.g = g
        intern: dict = {}
        n = len(g.nodes)
        self.key = key = [-1] * n
        self.ckey = ckey = [-1] * n  # the key a parent sees: marked when computed apart
        self.own = own = [False] * n  # computed by a family of its own
        self.order = order_of = [()] * n  # children in template order (reductions: the others)
        self.run = run_of = [()] * n  # children reduced over
        self.depth = depth = [0] * n  # 1 + deepest family read (own nodes); 0 for leaves
        self.reads = reads = [0] * n  # deepest family read through the inline template
        size = [0] * n
        nodes, leaves, children, uses, numbers, root = g.nodes, g.leaf, g.children, g.uses, g.number, g.root

        def key_of(t):
            k = intern.get(t)
            if k is None:
                k = intern[t] = len(intern)
            return k

        def leaf_key(c):
            leaf = leaves[c]
            ckey[c] = key[c] = key_of(leaf if leaf[0] == "const" else (leaf[0],))
            return key[c]

        number = key_of(("number",))  # a coefficient or offset: read from a table

        for i in range(n):
            if leaves[i] is not None:
                if leaves[i][0] != "const":
                    leaf_key(i)
                continue
            node = nodes[i]
            kids = children[i]
            func = node.func
            lifted = func in _LIFTED
            cks = []
            for c in kids:
                k = number if lifted and numbers[c] else ckey[c]
                cks.append(leaf_key(c) if k < 0 else k)
            order = sorted(range(len(kids)), key=cks.__getitem__) if func in _COMMUTATIVE else range(len(kids))
            run_key, run = None, ()
            is_expr = isinstance(node, sp.Expr) and not isinstance(node, ExprCondPair)
            if len(kids) >= R_MIN and func in _REDUCIBLE and is_expr:
                best, count = Counter(cks).most_common(1)[0]
                # a Max/Min reduces only beside numbers: tied arguments share the slope
                # equally (derive/_rules.py), which a reduction beside other arguments
                # could not count
                if count >= R_MIN and (func is sp.Add or all(numbers[c] for c, k in zip(kids, cks) if k != best)):
                    run_key = best
                    run = tuple([c for c, k in zip(kids, cks) if k == best])
                    order = [j for j in order if cks[j] != best]
            order_of[i] = tuple([kids[j] for j in order])
            run_of[i] = run
            rest = tuple([cks[j] for j in order])
            key[i] = key_of((func, run_key, len(run), rest))
            total, deepest = 1, 0
            for c in kids:
                if own[c]:
                    deepest = max(deepest, depth[c])
                else:
                    total += size[c]
                    deepest = max(deepest, reads[c])
            size[i] = total
            reads[i] = deepest
            # A function of a family's value gets a family of its own: its derivative
            # (1 - tanh(z)**2, exp(z)) then reads the stored value instead of computing
            # the function again in the reverse pass.
            applied = isinstance(node, sp.Function) and len(kids) == 1 and own[kids[0]]
            if is_expr and (uses[i] > 1 or i == root or run or size[i] > T_MAX or applied):
                own[i] = True
                depth[i] = reads[i] + 1
                ckey[i] = key_of(("value", key[i]))
            else:
                ckey[i] = key[i]


class _Walker:
    """Templates (built once per family) and the slot targets of each member."""

    def __init__(self, keys: _Keys, position: dict, family_of: dict):
        self.k = keys
        self.g = keys.g
        self.position = position
        self.family_of = family_of

    def target(self, c):
        leaf = self.g.leaf[c]
        if leaf is not None:
            return leaf
        return ("value", self.family_of[c], self.position[c])

    def inline(self, c, out: list, syms: list | None, prefix: str = "u", lifted: bool = False):
        """Walk child ``c``: append its slot targets to ``out``.

        With ``syms`` (a list), also build the template: a new real dummy per slot,
        appended to ``syms``; without, only the targets are collected. ``lifted`` says
        that ``c``'s parent is a sum or product, whose numbers are slots too.
        """
        leaf = self.g.leaf[c]
        if leaf is not None and leaf[0] == "const" and not (lifted and self.g.number[c]):
            return leaf[1]
        if leaf is not None or self.k.own[c]:
            out.append(self.target(c))
            if syms is None:
                return None
            syms.append(sp.Dummy(f"{prefix}{len(syms)}", real=True))
            return syms[-1]
        func = self.g.nodes[c].func
        args = [self.inline(a, out, syms, prefix, func in _LIFTED) for a in self.k.order[c]]
        return func(*args) if syms is not None else None


def _sort_key(targets: list) -> list:
    """The targets with each number as a float: ordered the same, without SymPy's comparisons
    (which cost microseconds each, seconds for a sum of 10^5 terms)."""
    return [("const", _real(t[1])) if t[0] == "const" else t for t in targets]


def _real(atom):
    """A number atom as a Python int or float that compares as it does (pi, E as floats)."""
    if atom.is_Rational:
        return atom.p if atom.q == 1 else atom.p / atom.q
    return float(atom)


def _index_map(indices: np.ndarray, size: int, length: int) -> IndexMap:
    """Affine ``start + step*k + inner*m`` if the ``(size, length)`` indices are, else a table."""
    grid = indices.reshape(size, max(length, 1))
    start = int(grid[0, 0])
    step = int(grid[1, 0] - start) if size > 1 else 0
    inner = int(grid[0, 1] - start) if grid.shape[1] > 1 else 0
    k = np.arange(size)[:, None]
    m = np.arange(grid.shape[1])[None, :]
    if np.array_equal(grid, start + step * k + inner * m):
        return IndexMap(start, step, inner)
    return IndexMap(table=tuple(int(v) for v in indices))


def _slots(symbols, targets_by_member, size, length) -> tuple:
    """Slots from each member's list of targets (one list per member, or per member and term)."""
    slots = []
    for s, sym in enumerate(symbols):
        column = [t[s] for t in targets_by_member]
        source = column[0][0]
        if source == "const":
            slots.append(Slot(sym, source, -1, IndexMap(table=tuple(t[1] for t in column))))
            continue
        family = column[0][1] if source == "value" else -1
        idx = np.array([t[2] if source == "value" else t[1] for t in column], dtype=np.int64)
        slots.append(Slot(sym, source, family, _index_map(idx, size, length)))
    return tuple(slots)


def lift(expr: sp.Expr, params, data) -> LoopProgram:
    """The family program of ``expr`` over ``theta = params`` and data columns ``data``."""
    g = _Graph(expr, params, data)
    keys = _Keys(g)
    if g.leaf[g.root] is not None:  # a bare symbol or number: one family reading it
        return _leaf_program(expr, g, len(params), len(data))
    groups: dict = defaultdict(list)
    for i in range(len(g.nodes)):
        if keys.own[i]:
            groups[keys.key[i]].append(i)
    ordered = sorted(groups.values(), key=lambda members: (keys.depth[members[0]], members[0]))
    walker = _Walker(keys, {}, {})
    families: list = []
    for members in ordered:
        families.append(_family(walker, members, families))
    return LoopProgram(len(params), len(data), tuple(families), len(g.nodes))


def _leaf_program(expr, g, n_params, n_data) -> LoopProgram:
    leaf = g.leaf[g.root]
    if leaf[0] == "const":
        return LoopProgram(n_params, n_data, (Family(1, expr, ()),), 1)
    u = sp.Dummy("u0", real=True)
    slot = Slot(u, leaf[0], -1, IndexMap(leaf[1]))
    active = leaf[0] == "theta"
    family = Family(1, u, (slot,), active=active, d_value=(sp.S.One if active else None,),
                    itself=sp.Dummy("v", real=True))
    return LoopProgram(n_params, n_data, (family,), 1)


def _family(walker: _Walker, members: list, done: list) -> Family:
    """Build family ``len(done)`` and number its members (which later families read).

    A sum's terms and a family's members may be taken in any order; both are sorted by
    the indices they read, which makes those indices affine wherever the names of the
    symbols are regular (SymPy orders ``W_0_10`` before ``W_0_2``).
    """
    keys, g = walker.k, walker.g
    rows = []
    for i in members:
        outer: list = []
        lifted = g.nodes[i].func in _LIFTED
        for c in keys.order[i]:
            walker.inline(c, outer, None, lifted=lifted)
        terms = []
        for c in keys.run[i]:
            t: list = []
            walker.inline(c, t, None)
            terms.append((t, c))
        terms.sort(key=lambda tc: _sort_key(tc[0]))
        rows.append((outer, [t for t, _ in terms], i, [c for _, c in terms]))
    rows.sort(key=lambda r: (_sort_key(r[0]), [_sort_key(t) for t in r[1]]))
    number = len(done)
    for p, row in enumerate(rows):
        walker.position[row[2]] = p
        walker.family_of[row[2]] = number
    size = len(rows)
    first = rows[0][2]
    node = g.nodes[first]
    reduced = sp.Dummy("R", real=True) if keys.run[first] else None
    symbols: list = []
    args = [walker.inline(c, [], symbols, "u", node.func in _LIFTED) for c in keys.order[first]]
    value = node.func(reduced, *args) if reduced is not None else node.func(*args)
    value, slots = _fold_uniform(value, _slots(symbols, [r[0] for r in rows], size, 0))
    term, term_slots, length = None, (), 0
    if reduced is not None:
        length = len(rows[0][1])
        term_symbols: list = []
        term = walker.inline(rows[0][3][0], [], term_symbols, "w")
        term, term_slots = _fold_uniform(term, _slots(term_symbols, [t for r in rows for t in r[1]], size, length))
    family = Family(
        size, value, slots, _REDUCIBLE.get(node.func) if reduced is not None else None,
        length, term, term_slots, reduced,
    )
    return _differentiate(family, done)


def _fold_uniform(template, slots) -> tuple:
    """Write the numbers every member shares into the template; keep the others as slots.

    A number is a slot of the template (``source == "const"``, its values per member in
    ``index.table``) only where the members differ: ``(x - k)**2`` for ``k < N`` is one
    family reading ``k`` from a table, while a layer's shared constants stay literals.
    """
    uniform = {s.symbol: s.index.table[0] for s in slots
               if s.source == "const" and len(set(s.index.table)) == 1}
    if not uniform:
        return template, slots
    return template.xreplace(uniform), tuple(s for s in slots if s.symbol not in uniform)


def _is_active(slot: Slot, done: list) -> bool:
    return slot.source == "theta" or (slot.source == "value" and done[slot.family].active)


def _terms_by_symbol(expr) -> dict | None:
    """For a sum, ``{symbol: the terms that contain it}`` in one pass (``None`` otherwise),
    so that each slot's derivative differentiates only its own terms: a sum of ``N``
    terms then costs ``N`` term derivatives, not ``N`` derivatives of the whole sum."""
    if not expr.is_Add:
        return None
    index = defaultdict(list)
    for a in expr.args:
        for n in unique_nodes(a):
            if n.is_Symbol or isinstance(n, sp.Dummy):
                index[n].append(a)
    return index


def _derivative(expr, symbol, whole, itself, terms=None) -> sp.Expr:
    """``d expr / d symbol`` by symgrad's rules, with ``whole`` written as ``itself``."""
    if terms is not None:
        d = apply_conventions(sp.Add(*[real_diff(a, symbol) for a in terms.get(symbol, ())]))
    else:
        d = apply_conventions(real_diff(expr, symbol))
    if itself is not None and not whole.is_Atom and d.has(whole):
        d = d.xreplace({whole: itself})
    return d


def _differentiate(f: Family, done: list) -> Family:
    """Attach the template derivatives (for active slots) to a family."""
    outer = [_is_active(s, done) for s in f.slots]
    inner = [_is_active(s, done) for s in f.term_slots]
    active = any(outer) or any(inner)
    if not active:
        return f
    itself = sp.Dummy("v", real=True)
    terms = _terms_by_symbol(f.value) if sum(outer) > 8 else None
    d_value = tuple(
        _derivative(f.value, s.symbol, f.value, itself, terms) if a else None for s, a in zip(f.slots, outer)
    )
    d_reduced = d_term = None
    if f.reduced is not None and any(inner):
        d_reduced = _derivative(f.value, f.reduced, f.value, itself)
        d_term = tuple(
            _derivative(f.term, s.symbol, f.term, None) if a else None for s, a in zip(f.term_slots, inner)
        )
    return Family(
        f.size, f.value, f.slots, f.reduce, f.length, f.term, f.term_slots, f.reduced,
        True, d_value, d_reduced, d_term or (), itself,
    )
