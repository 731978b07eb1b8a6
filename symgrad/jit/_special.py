"""The special functions of ``symgrad._special``, compiled for the generated kernels.

Generated modules that need them import this module as ``sf`` (``sf.polygamma(n, x)``,
``sf.loggamma(x)``); the text of ``symgrad._special`` is part of every kernel's cache key.
"""

from __future__ import annotations

import numba

from symgrad import _special

__all__ = ["polygamma", "loggamma"]

_JIT = {"error_model": "numpy", "cache": False, "nogil": True}

polygamma = numba.njit(**_JIT)(_special.polygamma)
loggamma = numba.njit(**_JIT)(_special.loggamma)
