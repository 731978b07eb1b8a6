"""Short text for big expressions: the first characters of ``str(expr)``, found cheaply.

Printing a network's loss in full takes seconds and tens of thousands of characters;
a ``repr`` needs only its beginning. The tree is cut at a growing depth (subtrees
below it, and terms of a sum or product past the first ``WIDTH``, become ``...``) until
the first cut lies past the text shown (or the cut tree reaches ``NODES`` nodes), so the
cost grows with the text shown, not with the tree.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["abbreviate"]

WIDTH = 6  # terms of a sum or product kept at each level before "..."
NODES = 2000  # the most nodes a cut tree may have before the text stops growing
_CUT = sp.Symbol("...")


def abbreviate(expr: sp.Basic, limit: int = 80) -> str:
    """``str(expr)`` if it has at most ``limit`` characters, else its beginning and ``...``.

    A big expression is printed in the order of its arguments (``sstr(..., order="none")``,
    which can differ from ``str``'s order of terms); a small one as ``str`` prints it.

    Args:
        expr: a SymPy expression.
        limit: the most characters of the expression to show.

    Returns:
        A text of at most ``limit + 3`` characters.

    Example:
        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> abbreviate(x**2 + 1)
        'x**2 + 1'
        >>> len(abbreviate(sum(sp.sin(k * x) for k in range(1, 200)), limit=40))
        43
    """
    if not isinstance(expr, sp.Basic):  # a matrix: printed whole
        text = str(expr)
        return text if len(text) <= limit else text[:limit] + "..."
    depth, last = 1, None
    while True:
        cut, size = [False], [0]
        text = sp.sstr(_prune(expr, depth, cut, size), order="none")
        if not cut[0]:  # the whole tree fits at this depth: it is small, print it as str does
            text = str(expr)
            return text if len(text) <= limit else text[:limit] + "..."
        first_cut = text.find("...")
        if first_cut >= limit or text == last or size[0] > NODES:
            return text[:min(limit, first_cut) if first_cut >= 0 else limit] + "..."
        depth, last = depth + 1, text


def _prune(e: sp.Basic, depth: int, cut: list, size: list) -> sp.Basic:
    """``e`` with subtrees below ``depth`` (and terms past ``WIDTH``) replaced by ``...``."""
    size[0] += 1
    if not e.args:
        return e
    if depth == 0:
        cut[0] = True
        return _CUT
    args = e.args
    if isinstance(e, (sp.Add, sp.Mul)) and len(args) > WIDTH:
        cut[0] = True
        args = args[:WIDTH]
        kept = [_prune(a, depth - 1, cut, size) for a in args] + [_CUT]
    else:
        kept = [_prune(a, depth - 1, cut, size) for a in args]
    try:
        return e.func(*kept, evaluate=False)
    except TypeError:  # a class without the evaluate keyword (ExprCondPair, ...)
        pass
    try:
        return e.func(*kept)
    except (TypeError, ValueError, AttributeError):  # a class that cannot take a cut argument
        cut[0] = True
        return _CUT
