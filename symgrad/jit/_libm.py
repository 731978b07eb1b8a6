"""The C library's elementary functions under the names of ``_elementary``.

``JitOptions(vector_math=False)`` compiles generated modules with ``vm`` bound to
this module instead of :mod:`symgrad.jit._elementary`: each function is one call
of the C library (``math.exp`` ...), correctly rounded or nearly so on common
platforms, but a call LLVM cannot vectorise; ``accumulate`` adds in sample order.
"""

from __future__ import annotations

import math

import numba

from symgrad.jit._elementary import empty1, empty2, fma  # noqa: F401  (re-exported for the generated modules)
from symgrad.jit._window import window  # noqa: F401

__all__ = ["exp", "expm1", "log", "log1p", "tanh", "accumulate", "fma", "empty1", "empty2", "window"]

_JIT = {"error_model": "numpy", "cache": False, "nogil": True}


@numba.njit(**_JIT)
def exp(x):
    """``math.exp(x)``."""
    return math.exp(x)


@numba.njit(**_JIT)
def expm1(x):
    """``math.expm1(x)``."""
    return math.expm1(x)


@numba.njit(**_JIT)
def log(x):
    """``math.log(x)``: ``-inf`` at 0, NaN below."""
    return math.log(x)


@numba.njit(**_JIT)
def log1p(x):
    """``math.log1p(x)``."""
    return math.log1p(x)


@numba.njit(**_JIT)
def tanh(x):
    """``math.tanh(x)``."""
    return math.tanh(x)


@numba.njit(**_JIT)
def accumulate(total, term):
    """``total + term`` (in IEEE order: the loop adds the samples one after another)."""
    return total + term
