"""Straight-line programs, and reverse accumulation of derivatives over them.

An expression tree with shared subexpressions is a DAG. ``linearize`` names every
distinct non-atomic node once (``t = f(args)`` with atomic ``args``), so a program
is as long as the DAG has nodes. ``reverse`` then walks the program backwards from
one output, propagating adjoints ``a_t = d out / d t``::

    a_out = 1,        a_s += a_t * d f / d s   for each assignment t = f(..., s, ...)

Each local derivative ``d f / d s`` is taken of one small node, so the gradient
program grows like the expression, not like ``n`` times the expression (calling
``diff`` once per parameter on the whole tree does the latter). The results are
exact SymPy expressions; ``Program.expand`` substitutes the temporaries back.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from symgrad._expr import canonicalize, max_node, unique_nodes
from symgrad.derive._rules import local_derivative

__all__ = ["Program", "linearize", "reverse"]

def _temporary(prefix: str = "t") -> sp.Dummy:
    """A new temporary. All share their prefix as name, so SymPy orders them by creation
    (a Dummy's index breaks ties of names): a second derivation of the same expression
    orders the arguments of its sums and products, and so prints its source, as the
    first one did, and finds the first one's compiled module in the cache. (Names
    numbered by a global counter sorted as strings: ``t16 < t9`` but ``t60 < t67``.)"""
    return sp.Dummy(prefix, real=True)


@dataclass(frozen=True)
class Program:
    """A straight-line program: ``assignments`` run in order, then ``outputs`` are read.

    Attributes:
        inputs: the free symbols the program reads, in argument order.
        assignments: ``(temporary, expression)`` pairs; each expression uses inputs
            and earlier temporaries only.
        outputs: expressions over inputs and temporaries.
    """

    inputs: tuple
    assignments: tuple
    outputs: tuple

    def __repr__(self) -> str:
        return (
            f"Program(inputs={list(self.inputs)}, assignments={len(self.assignments)}, "
            f"outputs={len(self.outputs)})"
        )

    def expand(self) -> list[sp.Expr]:
        """The outputs with every temporary substituted back (closed form).

        A ``Max`` or ``Min`` (in an assignment or inline in a condition) whose arguments
        have grown large is rebuilt unevaluated: SymPy would compare those arguments
        pairwise, which takes minutes for the logits of a network.
        """
        env: dict = {}
        for t, rhs in self.assignments:
            env[t] = _substitute(rhs, env)
        # a condition on a temporary that is a Piecewise comes back as SymPy's ITE
        return [canonicalize(out.xreplace(env)) for out in self.outputs]


#: Nodes in the arguments of a ``Max``/``Min`` from which ``expand`` leaves it unevaluated.
LARGE = 40


def _substitute(node, env):
    """``node.xreplace(env)`` for one small assignment, sparing SymPy large comparisons."""
    if node in env:
        return env[node]
    if not node.args:
        return node
    args = [_substitute(a, env) for a in node.args]
    if isinstance(node, (sp.Max, sp.Min)):
        if sum(1 for a in args for _ in itertools.islice(unique_nodes(a), LARGE)) >= LARGE:
            return max_node(args, type(node))
    return node.func(*args) if args != list(node.args) else node


def linearize(exprs, inputs, rename=None) -> Program:
    """Name every distinct non-atomic subexpression once, in dependency order.

    Conditions of ``Piecewise`` stay inline (they are printed as ``if`` tests);
    their expression operands are linearized like everything else. ``rename`` maps
    symbols to replacements (e.g. real twins) applied as each small node is rebuilt,
    and one-argument ``Heaviside`` is made ``Heaviside(z, 0)`` there too: SymPy never
    re-evaluates a large subexpression (``Max`` of large arguments compares them
    pairwise, which can take minutes).
    """
    memo: dict = dict(rename or {})
    assignments: list = []
    for root in exprs:
        stack = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node.is_Atom or node in memo:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(node.args) if not a.is_Atom and a not in memo)
                continue
            args = [memo.get(a, a) if a.is_Atom else memo[a] for a in node.args]
            rebuilt = node.func(*args)
            if isinstance(rebuilt, sp.Heaviside):
                rebuilt = canonicalize(rebuilt)
            if isinstance(node, sp.Expr) and not isinstance(node, ExprCondPair):
                if rebuilt.is_Atom:
                    memo[node] = rebuilt
                else:
                    t = _temporary()
                    assignments.append((t, rebuilt))
                    memo[node] = t
            else:  # a condition, or an (expression, condition) pair: kept inline
                memo[node] = rebuilt
    outputs = tuple(memo.get(e, e) for e in exprs)
    return Program(tuple(memo.get(s, s) for s in inputs), tuple(assignments), outputs)


def _active(program: Program, wrt) -> set:
    """Symbols whose value depends on ``wrt`` (forward activity analysis)."""
    active = set(wrt)
    for t, rhs in program.assignments:
        if not active.isdisjoint(rhs.free_symbols):
            active.add(t)
    return active


def _branches(value) -> tuple | None:
    """The ``(expression, condition)`` pairs of a selecting term, or None.

    A term that is a ``Piecewise`` with a zero branch (or ``Heaviside(z, 0)``, the
    selector of ``Max``/``Min``, or either times a factor) is how a branch not taken
    passes nothing back.
    """
    if isinstance(value, sp.Heaviside):
        return ((sp.S.One, value.args[0] > 0), (sp.S.Zero, True))
    if isinstance(value, sp.Piecewise) and any(e == 0 for e, _ in value.args):
        return tuple(value.args)
    if value.is_Mul:
        selecting = [a for a in value.args if isinstance(a, (sp.Piecewise, sp.Heaviside))]
        if len(selecting) == 1:
            inner = _branches(selecting[0])
            if inner is not None:
                factor = sp.Mul(*[a for a in value.args if a is not selecting[0]])
                return tuple((sp.S.Zero if e == 0 else factor * e, c) for e, c in inner)
    return None


#: Selections an adjoint carries on from the adjoints in its terms, at most: a guarded
#: product is written once per selection, and the adjoint of a layer's input sums
#: one selected term per unit of the layer above (relu units: every product further
#: down would test all of them). Beyond it those terms count as unselected, as before.
CARRIED = 4


def _selection(value, selections) -> tuple | None:
    """``(branches of each selecting term, the other terms)`` of an adjoint, or None.

    A term that is a factor times an adjoint with a selection of its own (``a * t``,
    the adjoint ``a`` of ``t * log(p)`` under ``Piecewise((0, Eq(t, 0)), ...)`` passed on
    to ``log(p)``) selects in the same branches, each times the factor: the zero of the
    untaken branch travels down the chain rule, so ``0 * (1/p)`` at ``p = 0`` is never
    formed further down. At most ``CARRIED`` selections are carried on so.
    """
    terms = value.args if value.is_Add else (value,)
    picked, rest, carried = [], [], []
    for term in terms:
        branches = _branches(term)
        if branches is not None:
            picked.append(branches)
            continue
        held = _held(term, selections)
        if held is None:
            rest.append(term)
            continue
        factor, (inner, inner_rest) = held
        carried.extend(tuple((sp.S.Zero if e == 0 else factor * e, c) for e, c in b) for b in inner)
        if inner_rest != 0:
            rest.append(factor * inner_rest)
    if len(carried) <= CARRIED:
        picked += carried
    else:  # a sum over a layer's units: guarded products would test every unit's branch
        rest = [t for t in terms if _branches(t) is None]
    return (tuple(picked), sp.Add(*rest)) if picked else None


def _held(term, selections):
    """``(factor, selection)`` when ``term`` is a factor times one adjoint that selects, else None."""
    factors = term.args if term.is_Mul else (term,)
    held = [f for f in factors if f in selections]
    if len(held) != 1:
        return None
    return sp.Mul(*[f for f in factors if f is not held[0]]), selections[held[0]]


def _flattened(selection, selections) -> tuple:
    """``selection`` with each branch that is itself a selecting adjoint written out.

    The adjoint of the first branch of an inner ``Piecewise`` inside the untaken branch
    of an outer one is ``Piecewise((a, c), (0, True))`` with ``a`` the outer selection
    ``Piecewise((0, x > 0), (1, True))``: read as a symbol, ``a`` hides its zero, and a
    non-finite local derivative times it gives NaN. Nested branches become
    ``(e_i, c & c_i)`` (the same ordered choice), so products select them all.
    """
    picked, rest = selection
    return tuple(_nested(branches, selections) for branches in picked), rest


def _nested(branches, selections) -> tuple:
    out = []
    for e, c in branches:
        inner = _inner_branches(e, selections)
        if inner is None:
            out.append((e, c))
        else:
            out.extend((e_i, c_i if c is sp.true else sp.And(c, c_i)) for e_i, c_i in inner)
    return tuple(out)


def _inner_branches(e, selections):
    """The branches of ``e`` when it is (a factor times) an adjoint that is one selecting
    term, or itself selects (a local derivative's ``Piecewise`` written inside an
    adjoint's branch by ``_product``)."""
    held = _held(e, selections)
    if held is None:
        return _branches(e)
    factor, (picked, rest) = held
    if rest != 0 or len(picked) != 1:
        return None
    return [(sp.S.Zero if e_i == 0 else factor * e_i, c_i) for e_i, c_i in picked[0]]


def _finite(d, inputs) -> bool:
    """Whether ``d`` is a product of numbers and inputs (finite: inputs are checked)."""
    if d.is_Number or d in inputs:
        return True
    if d.is_Mul:
        return all(_finite(a, inputs) for a in d.args)
    return d.is_Pow and d.exp.is_Integer and d.exp > 0 and _finite(d.base, inputs)


def _product(adjoint, d, selection, name):
    """``adjoint * d`` that stays 0 where the adjoint is a selected 0 and ``d`` is not finite.

    The untaken branch of ``Piecewise((p, c), (log(p), True))`` has adjoint 0, and
    ``0 * (1/p)`` at ``p = 0`` would be NaN: the product is written inside the same
    branches instead (term by term for a sum of such adjoints), so the 0 is selected,
    never multiplied. A local derivative that selects too is written around the
    adjoint when its branches are finite (relu's and Max's selectors: one test), inside
    the adjoint's branches when they are not (``b**e``'s d/de is
    ``Piecewise((0, Eq(b, 0)), (b**e*log(b), True))``, whose condition may be
    undefined where the adjoint selects 0: ``b = sqrt(-x)`` under ``x > 0``).
    Conditions are copied, never formed from adjoints, so derivatives of the result
    stay Piecewise of the original conditions (no ``ITE`` when differentiated again).
    ``name`` gives a large branch expression a temporary.
    """
    if adjoint == 1:
        return d
    if d.is_Number:
        return adjoint * d
    local = _branches(d)
    if local is not None and (selection is None or all(_finite(e, name.inputs) for e, _ in local)):
        # a selector with finite branches (relu's, Max's): one selection around the
        # adjoint, whatever the adjoint's own (a sum of 16 selected terms stays one sum)
        return sp.Piecewise(*[(sp.S.Zero if e == 0 else _product(adjoint, e, selection, name), c) for e, c in local])
    if selection is None or _finite(d, name.inputs):
        return adjoint * d
    return _selected_times(selection, d, name, 0)


#: Levels of selections held in a branch (an adjoint that selects, in a branch of
#: another) that a guarded product writes out.
NESTED = 3


def _selected_times(selection, d, name, depth):
    """``d`` times the adjoint of ``selection``, inside each of its branches.

    A branch that selects in turn (an adjoint with a sum of selections of its own, the
    inner ``Piecewise`` in two branches of an outer one, or such a sum written out) is
    written out in its branches too: as a symbol it would hide its zero where the
    outer branches are not taken, and times ``d`` (``sqrt(sin(p))``'s slope where
    ``sin(p) < 0``) give NaN.
    """
    picked, rest = selection
    parts = [
        sp.Piecewise(*[(sp.S.Zero if e == 0 else _branch_times(e, d, name, depth), c) for e, c in branches])
        for branches in picked
    ]
    return sp.Add(*parts, _times(name(rest), d) if rest != 0 else sp.S.Zero)


def _branch_times(e, d, name, depth):
    selection = _selection(e, name.selections) if depth < NESTED else None
    if selection is None:
        return _times(name(e), d)
    return _selected_times(selection, d, name, depth + 1)


def _times(factor, d):
    """``factor * d``, inside the branches of ``d`` (and of its branches) where it selects."""
    local = _branches(d)
    if local is None:
        return factor * d
    return sp.Piecewise(*[(sp.S.Zero if e == 0 else _times(factor, e), c) for e, c in local])


class _Names:
    """Temporaries for the branch expressions a guarded product writes out."""

    def __init__(self, new: list, inputs, selections: dict):
        self.new, self.inputs, self.memo = new, frozenset(inputs), {}
        self.selections = selections  # adjoint temporary -> its selection

    def __call__(self, e):
        if e.is_Atom or all(a.is_Atom for a in e.args):
            return e
        if e not in self.memo:
            self.memo[e] = _temporary("a")
            self.new.append((self.memo[e], e))
        return self.memo[e]


def reverse(program: Program, output: sp.Expr, wrt) -> tuple[list, list]:
    """Adjoint assignments and the gradient of ``output`` with respect to ``wrt``.

    Returns ``(assignments, gradient)``: new assignments to append to
    ``program.assignments`` and one expression per symbol of ``wrt``.
    """
    active = _active(program, wrt)
    order = {s: i for i, s in enumerate(program.inputs)}
    order.update({t: len(order) + i for i, (t, _) in enumerate(program.assignments)})
    contributions: dict = defaultdict(list)
    new: list = []
    selections: dict = {}  # adjoint temporary -> its selecting terms (see _selection)
    name = _Names(new, program.inputs, selections)

    def total(terms):
        if not terms:
            return sp.S.Zero
        value = sp.Add(*terms)
        if value.is_Atom:
            return value
        a = _temporary("a")
        new.append((a, value))
        selection = _selection(value, selections)
        if selection is not None:
            selections[a] = _flattened(selection, selections)
        return a

    if output in active:
        contributions[output].append(sp.S.One)
    elif not output.is_Atom:  # an expression over the program's symbols
        for s in sorted(output.free_symbols & active, key=order.__getitem__):
            contributions[s].append(local_derivative(output, s, None))
    for t, rhs in reversed(program.assignments):
        terms = contributions.pop(t, None)
        if not terms:
            continue
        adjoint = total(terms)
        flat_sum = rhs.is_Add and all(a.is_Atom for a in rhs.args)
        for s in sorted(rhs.free_symbols & active, key=order.__getitem__):
            # d(a1 + ... + an)/d ai = 1 for distinct atoms: one step per term, where
            # local_derivative would scan every term for each term (quadratic)
            d = sp.S.One if flat_sum else local_derivative(rhs, s, t)
            if d != 0:
                contributions[s].append(_product(adjoint, d, selections.get(adjoint), name))
    gradient = [total(contributions.get(w, [])) for w in wrt]
    return new, gradient
