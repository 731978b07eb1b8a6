"""Stage 1: SymPy expressions -> exact derivatives, as straight-line programs or families."""

from symgrad.derive._api import derive, gradient, hessian, jacobian
from symgrad.derive._families import LoopProgram, lift
from symgrad.derive._program import Program, linearize, reverse

__all__ = ["LoopProgram", "Program", "derive", "gradient", "hessian", "jacobian", "lift", "linearize", "reverse"]
