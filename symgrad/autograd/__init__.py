"""Reverse-mode automatic differentiation over NumPy: the independent second opinion.

``Tensor`` records every operation on a tape; ``backward`` walks it once in reverse
topological order, applying one vector-Jacobian rule per primitive (``VJP_RULES``).
``grad`` / ``value_and_grad`` run a SymPy expression on that tape without any SymPy
differentiation. This package imports nothing from ``symgrad.derive``, ``codegen``,
``jit`` or ``objective``.
"""

from symgrad.autograd._rules import VJP_RULES
from symgrad.autograd._sympy import grad, value_and_grad
from symgrad.autograd._tensor import Tensor, unbroadcast, where
from symgrad.autograd import layers

__all__ = ["Tensor", "VJP_RULES", "grad", "layers", "unbroadcast", "value_and_grad", "where"]
