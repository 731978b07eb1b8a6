"""A gradient the user derived by hand, read as expressions or as a callable, at one point.

``check_gradient(expr, wrt, at, gradient=...)`` compares it with the exact one entry by
entry; this module only turns what was given into numbers, and says clearly what is
wrong with the input itself (a wrong length, an unknown symbol, text).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad._expr import as_expr, canonicalize, check_supported, free_symbols
from symgrad.check._evaluate import evaluate
from symgrad.errors import ExpressionTypeError, InputError, MissingSymbolError

__all__ = ["given_gradient"]


def _expressions(gradient, n: int) -> tuple:
    """The entries of a sequence or a Matrix of expressions, checked to be ``n`` of them."""
    if isinstance(gradient, str):
        raise ExpressionTypeError(
            "gradient is text; build it with SymPy, or read each entry with symgrad.parse, "
            "e.g. gradient=[sg.parse('2*x*sin(y)'), sg.parse('x^2*cos(y)')]."
        )
    try:
        entries = list(gradient)
    except TypeError:
        raise ExpressionTypeError(
            f"gradient must be a list of expressions (one per symbol of wrt) or a callable, "
            f"got {type(gradient).__name__}."
        ) from None
    if len(entries) != n:
        raise InputError(f"gradient has {len(entries)} entries for {n} symbols of wrt; give one "
                         "partial derivative per symbol, in wrt order.")
    return tuple(canonicalize(as_expr(e, f"gradient[{i}]")) for i, e in enumerate(entries))


def given_gradient(gradient, wrt: tuple, theta: np.ndarray, constants: dict) -> tuple:
    """``(values, exprs)``: the user's gradient at the point, and its expressions (``()`` for a callable).

    ``gradient`` is a sequence (or ``sp.Matrix``) of one expression per symbol of
    ``wrt``, in order, or a callable called with one float per symbol of ``wrt``, in
    order (other symbols of the point are not passed), returning ``n`` numbers.

    Raises:
        ExpressionTypeError: an entry is text or not an expression.
        InputError: the wrong number of entries, or a callable that returns something
            else than ``n`` real numbers.
        MissingSymbolError: an entry uses a symbol that has no value at the point.
        UnsupportedFunctionError: an entry uses a function symgrad does not support.
    """
    n = len(wrt)
    if callable(gradient) and not isinstance(gradient, (sp.Basic, sp.MatrixBase)):
        try:
            values = np.asarray(gradient(*(float(t) for t in theta)), dtype=np.float64).ravel()
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"gradient(...) must return {n} real numbers, one per symbol of wrt "
                             f"({', '.join(map(str, wrt))}): {exc}") from None
        if values.size != n:
            raise InputError(f"gradient(...) returned {values.size} numbers for {n} symbols of wrt "
                             f"({', '.join(map(str, wrt))}); return one partial derivative per symbol, in order.")
        return values, ()
    exprs = _expressions(gradient, n)
    point = {**dict(zip(wrt, theta)), **constants}
    for i, e in enumerate(exprs):
        check_supported(e, "check_gradient(gradient=...)")
        unknown = sorted((s for s in free_symbols(e) if s not in point), key=str)
        if unknown:
            raise MissingSymbolError(
                f"gradient[{i}] (the derivative by {wrt[i]}) uses {', '.join(map(str, unknown))}, "
                "which has no value at the point; the expression uses only "
                f"{', '.join(map(str, point)) or 'no symbols'}."
            )
    with np.errstate(all="ignore"):  # a value outside the domain shows as nan, and fails
        values = np.array([np.real(evaluate(e, point)) for e in exprs], dtype=np.float64)
    return values, exprs
