"""Checks and rewrites every stage applies to the expressions it is given.

One place says which SymPy constructs symgrad supports (``SUPPORTED_FUNCTIONS``),
how a non-expression is refused, and how the non-differentiable points are made
explicit (``canonicalize``): the one-argument ``Heaviside(z)`` becomes
``Heaviside(z, 0)``, so that ``Heaviside(0) = 0`` in every stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import ITE, BooleanFalse, BooleanTrue

from symgrad._functions import FUNCTION_TABLE
from symgrad.errors import ExpressionTypeError, OptionError, UnsupportedFunctionError

__all__ = [
    "SUPPORTED_FUNCTIONS",
    "stable_log1p_exp",
    "as_expr",
    "as_symbols",
    "canonicalize",
    "free_symbols",
    "has_any",
    "unique_nodes",
    "max_node",
    "shift_by_max",
    "check_supported",
    "checked_canonical",
    "real_twins",
    "realify",
]

#: The SymPy function classes every stage (derive, compile, autograd, parse) supports,
#: by name: the rows of ``symgrad._functions.FUNCTION_TABLE``.
SUPPORTED_FUNCTIONS: dict[str, type] = {name: row.sympy for name, row in FUNCTION_TABLE.items()}

_SUPPORTED_CLASSES = tuple(SUPPORTED_FUNCTIONS.values())
_STRUCTURAL = (sp.Add, sp.Mul, sp.Pow, sp.Symbol, sp.Number, sp.NumberSymbol)
_CONDITIONS = (sp.core.relational.Relational, sp.And, sp.Or, sp.Not, BooleanTrue, BooleanFalse)
_SUPPORTED_TEXT = "+ - * / **, " + ", ".join(SUPPORTED_FUNCTIONS) + ", pi, E"


def as_expr(value, what: str = "expr") -> sp.Expr:
    """Return ``value`` as a SymPy expression, refusing text and plain numbers.

    Raises:
        ExpressionTypeError: for a ``str`` (pointing at :func:`symgrad.parse`), a
            Python number, or anything that is not a SymPy expression.
    """
    if isinstance(value, str):
        raise ExpressionTypeError(
            f"{what} is the string {value!r}; symgrad does not evaluate text. "
            f"Turn it into an expression first with symgrad.parse({value!r})."
        )
    if isinstance(value, sp.Basic) and isinstance(value, sp.Expr):
        return value
    if isinstance(value, (bool, int, float, complex)):
        raise ExpressionTypeError(
            f"{what} is the Python number {value!r}, not a SymPy expression; "
            f"write it with symbols (e.g. sympy.Symbol('x')) or use symgrad.parse('...')."
        )
    raise ExpressionTypeError(
        f"{what} must be a SymPy expression (or text given to symgrad.parse), "
        f"got {type(value).__name__}."
    )


def as_symbols(values, what: str = "wrt") -> tuple[sp.Symbol, ...]:
    """Return ``values`` as a tuple of distinct SymPy symbols.

    A single symbol is accepted as a sequence of one.

    Raises:
        ExpressionTypeError: when ``values`` is text or holds something that is not a symbol.
        ValueError: when a symbol is repeated.
    """
    if isinstance(values, str):
        raise ExpressionTypeError(
            f"{what} is the string {values!r}; give SymPy symbols, e.g. "
            f"sympy.symbols({values!r}), or parse text with symgrad.parse."
        )
    if isinstance(values, sp.Symbol):
        values = (values,)
    if isinstance(values, sp.MatrixBase):
        values = list(values)
    if not isinstance(values, Iterable):
        raise ExpressionTypeError(
            f"{what} must be a sequence of SymPy symbols, got {type(values).__name__}."
        )
    out = tuple(values)
    for i, s in enumerate(out):
        if not isinstance(s, sp.Symbol):
            hint = " (use symgrad.parse for text)" if isinstance(s, str) else ""
            raise ExpressionTypeError(
                f"{what}[{i}] must be a SymPy Symbol, got {type(s).__name__} {s!r}{hint}."
            )
    seen = set()
    for s in out:
        if s in seen:
            raise OptionError(f"{what} names the symbol {s} twice; each symbol may appear once.")
        seen.add(s)
    return out


def check_supported(expr: sp.Basic, stage: str = "symgrad") -> None:
    """Raise :class:`UnsupportedFunctionError` naming the first unsupported construct.

    Shared subexpressions are visited once (a network's expression is a DAG whose
    tree is far larger).
    """
    for node in unique_nodes(expr):
        _check_node(node, stage)


def _check_node(node, stage: str, rewritten=()) -> None:
    """Raise :class:`UnsupportedFunctionError` if ``node`` itself (not its arguments) is unsupported.

    ``rewritten`` lists classes accepted because ``canonicalize`` rewrites them.
    """
    if isinstance(node, (_STRUCTURAL, _SUPPORTED_CLASSES, _CONDITIONS, ExprCondPair)):
        if isinstance(node, sp.Number) and not node.is_finite:
            raise UnsupportedFunctionError(
                f"{stage} cannot use the non-finite constant {node} in an expression; "
                "symgrad works with finite float64 values."
            )
        if isinstance(node, sp.polygamma) and not (node.args[0].is_Integer and node.args[0] >= 0):
            raise UnsupportedFunctionError(
                f"{stage} supports polygamma(n, u) for an order n = 0, 1, 2, ... given as a "
                f"number; {node} has the order {node.args[0]}."
            )
        if isinstance(node, sp.NumberSymbol) and node not in (sp.pi, sp.E):
            raise UnsupportedFunctionError(
                f"{stage} does not support the constant {node}; supported: pi, E."
            )
        return
    if rewritten and isinstance(node, rewritten):
        return
    name = getattr(node, "func", type(node)).__name__
    raise UnsupportedFunctionError(
        f"{stage} does not support the function {name} (in {node}); "
        f"supported: {_SUPPORTED_TEXT}. Rewrite {name} with these."
    )


def checked_canonical(expr: sp.Basic, stage: str = "symgrad") -> tuple[sp.Basic, set]:
    """``(canonicalize(expr), its free symbols)`` after ``check_supported``, in one walk.

    The three walks of a sum of 10^5 terms took about two seconds; this one visits each
    distinct node once and never hashes a number or a symbol (SymPy hashes a number by
    a Python call): a node met again is skipped by identity, and a composite node by
    equality as well, so a DAG of equal but distinct objects is still walked once.

    Raises:
        UnsupportedFunctionError: as ``check_supported`` (on the expression as given; the
            rewrites of ``canonicalize`` only produce supported nodes).
    """
    rewrites = _Rewrites()
    symbols: set = set()
    met: set = set()   # ids of the nodes walked: every one is alive as long as expr
    seen: set = set()  # composite nodes walked, by equality
    stack = [expr]
    while stack:
        node = stack.pop()
        if id(node) in met:
            continue
        met.add(id(node))
        args = node.args
        if not args:
            if node.is_Symbol:
                symbols.add(node)
            elif not node.is_Rational:
                _check_node(node, stage)
            continue
        if node in seen:
            continue
        seen.add(node)
        _check_node(node, stage, (ITE,))
        rewrites.note(node)
        stack.extend(args)
    return rewrites.applied(expr), symbols


def unique_nodes(expr):
    """Every distinct subexpression once (SymPy's own walks visit a DAG as a tree)."""
    seen = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        yield node
        stack.extend(node.args)


def free_symbols(expr: sp.Basic) -> set:
    """``expr.free_symbols`` for the expressions symgrad supports, one visit per node.

    SymPy recomputes the set for every path to a shared node, which for a network is
    millions of visits; symgrad's expressions bind no variables, so the free symbols
    are simply the symbols among the nodes.
    """
    return {node for node in unique_nodes(expr) if isinstance(node, sp.Symbol)}


def has_any(expr: sp.Basic, *types) -> bool:
    """Whether ``expr`` has a node of one of ``types`` (``expr.has``, one visit per node)."""
    return any(isinstance(node, types) for node in unique_nodes(expr))


def max_node(values, cls=sp.Max) -> sp.Expr:
    """``Max(*values)`` (or ``Min``, for ``cls``) left unevaluated, arguments in the given order.

    ``sp.Max(..., evaluate=False)`` still sorts its arguments by ``default_sort_key``,
    which walks every argument's whole tree: seconds for the ten logits of a network.
    """
    values = tuple(dict.fromkeys(values))
    if len(values) == 1:
        return values[0]
    node = sp.Expr.__new__(cls, *values)
    node._argset = frozenset(values)
    return node


def shift_by_max(values) -> tuple[sp.Expr, list[sp.Expr]]:
    """``(m, [z - m for z in values])`` with ``m = max(values)``, for stable exponentials.

    Each difference stays one ``Add`` of two nodes (SymPy would spread a long sum ``z``
    into it), so ``z`` and ``m`` are shared nodes, computed once however often they are read.
    """
    m = max_node(values)
    return m, [sp.Add(z, sp.Mul(-1, m), evaluate=False) for z in values]


def canonicalize(expr: sp.Basic) -> sp.Basic:
    """Make the kink conventions explicit: ``Heaviside(z)`` -> ``Heaviside(z, 0)``.

    An ``ITE`` (if-then-else of conditions) becomes ``And``/``Or``/``Not``, and
    ``exp(u)**e`` and ``log(exp(u))`` become ``exp(u*e)`` and ``u`` (real arithmetic).

    SymPy stores the one-argument ``Heaviside(z)`` as ``Heaviside(z, 1/2)``, so an
    explicit second argument of exactly 1/2 cannot be told apart from it and is read
    the same way; any other explicit second argument is kept.
    """
    rewrites = _Rewrites()
    for node in unique_nodes(expr):  # one walk for every rewrite
        rewrites.note(node)
    return rewrites.applied(expr)


class _Rewrites:
    """The rewrites of :func:`canonicalize` that one walk over an expression finds needed."""

    __slots__ = ("default", "ite", "exp_of")

    def __init__(self):
        self.default: dict = {}  # Heaviside(z) and Heaviside(z, 1/2) -> Heaviside(z, 0); relu-like Piecewise -> Max
        self.ite = False         # an ITE to write with And/Or/Not
        self.exp_of = False      # exp(u)**e or log(exp(u)) to fold

    def note(self, node) -> None:
        """Record what ``node`` (a composite node of the walk) needs."""
        args = node.args
        if isinstance(node, sp.Heaviside) and (len(args) == 1 or args[1] == sp.S.Half):
            self.default[node] = sp.Heaviside(args[0], 0)
        elif isinstance(node, sp.Piecewise):
            extremum = _piecewise_extremum(node)
            if extremum is not None:
                self.default[node] = extremum
        self.ite = self.ite or isinstance(node, ITE)
        self.exp_of = self.exp_of or _exp_inverse(node)

    def applied(self, expr):
        """``expr`` with the rewrites recorded applied."""
        expr = expr.xreplace(self.default) if self.default else expr
        if self.exp_of:
            expr = _exp_folded(expr)
        return expr.replace(lambda e: isinstance(e, ITE), _ite_as_and_or) if self.ite else expr


_ABOVE = (sp.StrictGreaterThan, sp.GreaterThan)
_BELOW = (sp.StrictLessThan, sp.LessThan)


def _piecewise_extremum(node):
    """``Piecewise((a, a >= b), (b, True))`` as ``Max(a, b)`` (``Min`` for ``<=``), or None.

    Only where one of ``a``, ``b`` is a number and the branch taken at the tie ``a = b``
    is the other: ``Piecewise((z, z >= 0), (0, True))`` and ``Piecewise((0, z < 0), (z,
    True))`` are relu, whose slope at 0 is then that of ``Max(0, z)``, 0, as for every
    other spelling of relu (the derivative of a ``Piecewise`` is otherwise that of the
    branch taken, which would give them slope 1). The value is the same everywhere.
    """
    if len(node.args) != 2 or node.args[1].cond is not sp.true:
        return None
    (a, condition), (b, _) = node.args
    if not isinstance(condition, _ABOVE + _BELOW) or a.is_number == b.is_number:  # exactly one a number
        return None
    taken_at_tie = a if isinstance(condition, (sp.GreaterThan, sp.LessThan)) else b
    if taken_at_tie.is_number:
        return None  # the number's branch at the tie: already slope 0 there
    above = condition.lhs - condition.rhs if isinstance(condition, _ABOVE) else condition.rhs - condition.lhs
    ratio = sp.cancel((a - b) / above)  # a is taken where above > 0 (SymPy writes 2*z >= 0 as z >= 0)
    if not ratio.is_number or not ratio.is_extended_real or ratio == 0:
        return None
    return sp.Max(a, b) if ratio > 0 else sp.Min(a, b)


def _exp_inverse(node) -> bool:
    """Whether ``node`` is ``exp(u)**e`` or ``log(exp(u))``: SymPy keeps both for complex ``u``."""
    if node.is_Pow:
        return isinstance(node.base, sp.exp)
    return isinstance(node, sp.log) and isinstance(node.args[0], sp.exp)


def _exp_folded(expr):
    """``exp(u)**e -> exp(u*e)``, ``log(exp(u)) -> u`` and ``|exp(u)| -> exp(u)``: identities
    of real ``u`` and ``e``, applied from the leaves up.

    Written as SymPy keeps them, ``exp(x**2)**y`` has the derivative
    ``exp(x**2)**y*log(exp(x**2))`` along ``y``, and ``log`` of the rounded
    ``exp(x**2)`` loses the digits of a small ``x**2`` (1e-13 relative at ``x = 0.03``).
    Each node is rebuilt only after its arguments, and a parent that SymPy would
    rewrite for a complex ``u`` (``Abs(exp(u))`` into ``exp(re(u))``) is folded before
    SymPy sees it.
    """
    done: dict = {}
    stack = [expr]
    while stack:
        node = stack[-1]
        waiting = [a for a in node.args if a not in done]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        if node in done:
            continue
        args = [done[a] for a in node.args]
        first = args[0] if args else None
        if isinstance(first, sp.exp) and (node.is_Pow or isinstance(node, (sp.log, sp.Abs))):
            done[node] = _exp_parent_folded(node, first, args)
        elif any(a is not b for a, b in zip(args, node.args)):
            done[node] = node.func(*args)
        else:
            done[node] = node
    return done[expr]


def _exp_parent_folded(node, inner, args):
    """``node`` (a power, ``log`` or ``Abs`` whose first argument is ``inner = exp(u)``) folded."""
    u = inner.args[0]
    if node.is_Pow:
        return sp.exp(u * args[1])  # exp(u)**e = exp(u e)
    if isinstance(node, sp.log):
        return u                    # log(exp(u)) = u
    return inner                    # |exp(u)| = exp(u)


def _ite_as_and_or(ite):
    """``ITE(a, b, c)`` as ``(a & b) | (~a & c)``, conditions the printers know.

    SymPy writes a comparison of a ``Piecewise`` (``Piecewise((y, y > 0), (x, True)) > 0``)
    as an ``ITE`` of the comparisons of its branches.
    """
    a, b, c = ite.args
    return sp.Or(sp.And(a, b), sp.And(sp.Not(a), c))


def real_twins(symbols) -> dict:
    """Map each symbol to itself if known real, else to a new real ``Dummy`` of its name."""
    return {
        s: s if s.is_real else sp.Dummy(s.name, real=True)
        for s in sorted(symbols, key=sp.default_sort_key)
    }


def realify(exprs: Sequence[sp.Basic]):
    """Replace every symbol that is not known to be real by a real twin.

    Returns ``(new_exprs, forward, backward)``: ``forward`` maps each caller symbol to
    its real twin (symbols already real map to themselves), ``backward`` the reverse,
    so results can be handed back in the caller's own symbols with ``xreplace``.
    """
    symbols = set()
    for e in exprs:
        symbols |= free_symbols(e)
    forward = real_twins(symbols)
    replace = {s: r for s, r in forward.items() if s is not r}
    backward = {r: s for s, r in replace.items()}
    new = [e.xreplace(replace) if replace else e for e in exprs]
    return new, forward, backward


def stable_log1p_exp(z: sp.Expr) -> sp.Expr:
    """``log(1 + exp(z))`` as ``m + log(exp(-m) + exp(z - m))`` with ``m = max(z, 0)`` (see ``softplus``)."""
    m = sp.Max(z, 0)
    return m + sp.log(sp.exp(-m) + sp.exp(z - m))
