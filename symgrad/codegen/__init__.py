"""Stage 2: straight-line programs -> Python source text for Numba (no numba import here)."""

from symgrad.codegen._printer import MATH_FUNCTIONS, KernelPrinter, python_name
from symgrad.codegen._loops import loops_source
from symgrad.codegen._source import BLOCK, KernelSource, objective_source, pointwise_source

__all__ = [
    "BLOCK",
    "KernelPrinter",
    "KernelSource",
    "MATH_FUNCTIONS",
    "loops_source",
    "objective_source",
    "pointwise_source",
    "python_name",
]
