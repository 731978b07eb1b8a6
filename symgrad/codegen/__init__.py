"""Stage 2: straight-line programs -> Python source text for Numba (no numba import here).

Every generated text is written here: ``pointwise_source`` (``sg.compile``,
``check_gradient``), ``objective_source`` and ``loops_source`` (the data loops of an
``Objective``), ``residual_source`` and ``directional_source`` (least squares).
``symgrad.jit._pipeline`` chains them to ``derive`` before and ``load_module`` after.
"""

from symgrad.codegen._printer import MATH_FUNCTIONS, KernelPrinter, python_name
from symgrad.codegen._loops import loops_source
from symgrad.codegen._residual import GRAM_UNROLL, RESIDUAL_BLOCK, directional_source, residual_source
from symgrad.codegen._source import BLOCK, KernelSource, objective_source, pointwise_source

__all__ = [
    "BLOCK",
    "GRAM_UNROLL",
    "KernelPrinter",
    "KernelSource",
    "MATH_FUNCTIONS",
    "RESIDUAL_BLOCK",
    "directional_source",
    "loops_source",
    "objective_source",
    "pointwise_source",
    "python_name",
    "residual_source",
]
