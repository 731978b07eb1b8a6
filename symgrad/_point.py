"""Reading a point ``at`` (a sequence in ``wrt`` order, or a dict) and conditions, shared
by the autograd engine and the gradient checks."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad.errors import ExpressionTypeError, InputError, MissingSymbolError

__all__ = ["NUMPY_RELATIONS", "split_point"]

#: SymPy relational class -> the NumPy comparison that evaluates it.
NUMPY_RELATIONS = {
    sp.StrictGreaterThan: np.greater,
    sp.GreaterThan: np.greater_equal,
    sp.StrictLessThan: np.less,
    sp.LessThan: np.less_equal,
    sp.Equality: np.equal,
    sp.Unequality: np.not_equal,
}


def split_point(at, wrt) -> tuple[np.ndarray, dict]:
    """``(theta, constants)``: the values of ``wrt`` in order, and other symbols' values.

    ``at`` is a sequence of floats in ``wrt`` order, or a dict ``{symbol: float}``
    that may also give values of symbols outside ``wrt`` (held constant).

    Raises:
        ExpressionTypeError: a dict key is not a SymPy symbol.
        MissingSymbolError: a symbol of ``wrt`` has no value.
        InputError: the wrong number of values, or values that are not real numbers.
    """
    try:
        if isinstance(at, dict):
            for key in at:
                if not isinstance(key, sp.Symbol):
                    raise ExpressionTypeError(
                        f"at has the key {key!r} ({type(key).__name__}); keys must be SymPy "
                        f"symbols, e.g. sympy.Symbol({str(key)!r})."
                    )
            missing = [str(s) for s in wrt if s not in at]
            if missing:
                raise MissingSymbolError(
                    f"at has no value for {', '.join(missing)}; give a value for every symbol of wrt."
                )
            theta = np.array([at[s] for s in wrt], dtype=np.float64)
            constants = {s: float(v) for s, v in at.items() if s not in wrt}
        else:
            theta = np.array(np.ravel(np.asarray(at, dtype=np.float64)))
            constants = {}
    except (TypeError, ValueError) as exc:
        if isinstance(exc, (ExpressionTypeError, MissingSymbolError)):
            raise
        raise InputError("at must hold real numbers, one per symbol of wrt.") from None
    if len(theta) != len(wrt):
        raise InputError(
            f"at has {len(theta)} values for {len(wrt)} symbols of wrt "
            f"({', '.join(map(str, wrt))}); give one value per symbol, in order."
        )
    return theta, constants
