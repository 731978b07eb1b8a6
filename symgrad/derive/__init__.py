"""Stage 1: SymPy expressions -> exact derivatives, as straight-line programs."""

from symgrad.derive._api import derive, gradient, hessian, jacobian
from symgrad.derive._program import Program, linearize, reverse

__all__ = ["Program", "derive", "gradient", "hessian", "jacobian", "linearize", "reverse"]
