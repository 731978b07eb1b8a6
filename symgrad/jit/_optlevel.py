"""Compile some generated modules at a lower LLVM optimisation level than Numba's ``-O3``.

Numba optimises every function at ``NUMBA_OPT`` (3 by default), once per function and
once more over the linked module. For the loops engine's kernels (dozens of short
loops over a block of samples, each vectorised by LLVM) level 1 gives the same
machine speed: the loop vectoriser runs at every level, and what level 3 adds
(more unrolling, loop strength reduction over the unrolled copies) costs seconds
of compile time and no time per sample (the 2-16-16-1 tanh MLP: 4.7 s of LLVM at
level 3, 1.1 s at level 1, ``bench/bench_networks.py`` for the speed).

Numba has no per-function level, but it reads ``numba.core.config.OPT`` each time it
builds a pass pipeline, and a dispatcher compiles under Numba's global compiler lock.
:func:`pipeline_class` gives a compiler that sets the level for the duration of its
own compile, nested compiles included, and restores it after.
"""

from __future__ import annotations

import functools

from symgrad.errors import OptionError

__all__ = ["pipeline_class"]


@functools.lru_cache(maxsize=None)
def pipeline_class(level: int):
    """A Numba compiler class (``numba.njit(pipeline_class=...)``) that optimises at ``level``.

    Args:
        level: the LLVM optimisation level, 0 to 3.

    Returns:
        A subclass of ``numba.core.compiler.Compiler``; the same class for the same level.

    Raises:
        OptionError: ``level`` is not 0, 1, 2 or 3 (a ``ValueError``).
    """
    if level not in (0, 1, 2, 3):
        raise OptionError(f"LLVM optimisation level {level!r}: use 0, 1, 2 or 3")
    from numba.core import compiler, config

    class LevelCompiler(compiler.Compiler):
        def _compile_core(self):
            saved = config.OPT
            config.OPT = type(saved)(level)
            try:
                return super()._compile_core()
            finally:
                config.OPT = saved

    LevelCompiler.__name__ = LevelCompiler.__qualname__ = f"Level{level}Compiler"
    return LevelCompiler
