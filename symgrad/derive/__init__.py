"""Stage 1: SymPy expressions -> exact derivatives, as straight-line programs."""

from symgrad.derive._api import Derivation, derive, gradient, hessian, jacobian
from symgrad.derive._program import Program, linearize, reverse

__all__ = ["Derivation", "Program", "derive", "gradient", "hessian", "jacobian", "linearize", "reverse"]
