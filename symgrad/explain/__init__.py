"""Step-by-step derivatives with textbook rules: ``explain(expr, wrt)``.

A second, readable route to the derivative ``symgrad.gradient`` computes: the
expression tree is walked from the top, and each node is differentiated by the
rule a textbook would use (sum, product, quotient, power, chain, ...), with the
same conventions at kinks as the rest of symgrad. ``backprop(expr, at)`` shows the
numbers reverse mode computes over the graph a learner draws (``z = w*x + b``,
``a = sigmoid(z)``, ``L``): the forward value and the backward adjoint of each node,
and the local derivative on each edge. ``difference_quotients(expr, x, at)`` shows the
derivative as the limit of ``(f(x + h) - f(x))/h``, against the exact one.

The package is callable: ``symgrad.explain(expr, wrt)`` is ``explain(expr, wrt)``, while
``import symgrad.explain`` still gives this module, with ``backprop`` and the rest.
"""

from __future__ import annotations

import sys
import types

import sympy as sp

from symgrad._display import Explanations
from symgrad._expr import as_expr, as_symbols, canonicalize, check_supported
from symgrad.explain._backprop import Backprop, Edge, Node, backprop
from symgrad.explain._explanation import Explanation, Step
from symgrad.explain._layout import Layout
from symgrad.explain._limit import DifferenceQuotients, difference_quotients
from symgrad.explain._rules import OUTER_RULES, RULES, Walker

__all__ = [
    "Backprop", "DifferenceQuotients", "Edge", "Explanation", "Layout", "Node", "OUTER_RULES", "RULES", "Step",
    "backprop",
    "difference_quotients", "explain",
]


def explain(expr, wrt):
    """Derive ``∂f/∂x`` step by step, naming the textbook rule used at each node.

    For ``f = expr`` and ``x = wrt``, every node ``u`` of the tree of ``f`` that
    depends on ``x`` gets one :class:`Step`: the rule (e.g. the product rule
    ``(u·v)' = u'·v + u·v'``), then the steps for the parts it needs, one level
    deeper. The result equals ``symgrad.gradient(expr, [x])[0]`` exactly (it is
    written differently: it is not simplified).

    Args:
        expr: a SymPy expression (text goes through ``symgrad.parse`` first).
        wrt: one ``sp.Symbol``, or a sequence of them for the partial derivatives.

    Returns:
        Explanation for one symbol; a list of them (``Explanations``, shown in full), in
        ``wrt`` order, for a sequence.

    Raises:
        ExpressionTypeError: ``expr`` is text or a number, or ``wrt`` holds a non-symbol.
        UnsupportedFunctionError: ``expr`` uses a function symgrad does not support.

    Example:
        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> e = explain(x * sp.sin(x), x)
        >>> e.result
        x*cos(x) + sin(x)
        >>> [s.rule for s in e.steps]
        ['product rule', 'variable rule', 'trig rule']
    """
    expr = canonicalize(as_expr(expr, "expr"))
    check_supported(expr, "symgrad.explain")
    if isinstance(wrt, sp.Symbol):
        return _explain_one(expr, wrt)
    return Explanations(_explain_one(expr, x) for x in as_symbols(wrt, "wrt"))


def _explain_one(expr, x) -> Explanation:
    walker = Walker(x, expr)
    result = walker.d(expr, 0, walker.name)
    return Explanation(expr, x, tuple(walker.steps), result)


class _CallableModule(types.ModuleType):
    """The module ``symgrad.explain``, which is also the function :func:`explain` (api.md)."""

    def __call__(self, expr, wrt):
        """``explain(expr, wrt)``: derive step by step (see :func:`symgrad.explain.explain`)."""
        return explain(expr, wrt)


sys.modules[__name__].__class__ = _CallableModule
