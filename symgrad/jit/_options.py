"""Every Numba option symgrad uses, in one place.

``JitOptions`` is part of the cache key, so changing an option never loads a
kernel compiled under another.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from symgrad.errors import OptionError

__all__ = ["JitOptions", "DEFAULT_OPTIONS"]


@dataclass(frozen=True)
class JitOptions:
    """How generated kernels are compiled.

    Attributes:
        cache: keep Numba's machine code on disk beside the generated module, so a
            new process loads it instead of compiling (see ``symgrad.jit`` caching).
        parallel: let the fused data loops share their blocks of samples among
            threads (``SYMGRAD_NUM_THREADS``, default: the usable cores); small data
            and mini-batches run on the calling thread.
        fastmath: off. It lets LLVM assume no NaN or infinity, which changes the
            results at exactly the points where gradient checks and divergence
            detection need them.
        error_model: ``"numpy"``: ``1.0/0.0`` gives ``inf`` (and ``0.0/0.0`` NaN) as in
            NumPy, instead of raising ``ZeroDivisionError`` inside a loop.
        boundscheck: off; generated indices are in range by construction.
        nogil: data loops release the GIL while they run, so threads share work
            (one-point functions keep it: releasing costs ~0.1 µs a call).
        vector_math: ``exp``, ``log``, ``tanh`` (and ``log(1 + u)``, ``exp(u) - 1``)
            as symgrad's branch-free float64 functions, within about 1 ulp (see
            ``docs/numerics.md``), which LLVM vectorises over the samples of a data
            loop, whose sums are then added in vector lanes; ``False``: the C
            library's ``math`` functions, one call per value, and sums in sample
            order. The default is ``True`` unless the environment variable
            ``SYMGRAD_VECTOR_MATH`` is ``0`` when symgrad is imported.
        vector_width: the width in bits (128, 256 or 512) of the vector registers
            LLVM should prefer in the data loops, or ``None`` for LLVM's own choice
            for the processor. The default, 512, lets a processor with AVX-512
            compute eight float64 samples per instruction where LLVM's tuning
            would use four (measured here: the tanh MLP of ``bench_networks.py``
            1.2x faster, logistic regression, bound by memory, 1.0-1.2x;
            ``docs/performance.md``); code generated for an AVX2 processor runs
            as fast with either setting (measured with ``NUMBA_CPU_NAME=haswell``). The
            environment variable ``SYMGRAD_VECTOR_WIDTH`` (128, 256, 512, or ``auto``
            for ``None``) sets the default of the options made while it is set
            (symgrad's own default options are made when it is imported).
    """

    cache: bool = True
    parallel: bool = True
    fastmath: bool = False
    error_model: str = "numpy"
    boundscheck: bool = False
    nogil: bool = True
    vector_math: bool = os.environ.get("SYMGRAD_VECTOR_MATH", "1").strip() != "0"
    vector_width: int | None = field(default_factory=lambda: _width_from_environment())

    def __post_init__(self):
        if self.vector_width not in (None, 128, 256, 512):
            raise OptionError(
                f"JitOptions(vector_width={self.vector_width!r}): use 128, 256 or 512 (bits), "
                "or None for LLVM's choice for this processor"
            )

    def numba_kwargs(self, loop: bool = False) -> dict:
        """Keyword arguments for ``numba.njit``; ``loop`` for functions that loop over data.

        The generated kernels use no ``prange`` (``parallel=False``): data loops are
        shared among threads by :func:`symgrad.jit.run_blocks` instead, and only
        they release the GIL.
        """
        return {
            "cache": self.cache,
            "parallel": False,
            "fastmath": self.fastmath,
            "error_model": self.error_model,
            "boundscheck": self.boundscheck,
            "nogil": bool(loop and self.nogil),
        }

    def key(self) -> str:
        return repr(sorted(asdict(self).items()))


def _width_from_environment() -> int | None:
    text = os.environ.get("SYMGRAD_VECTOR_WIDTH", "512").strip().lower()
    if text in ("auto", "none", ""):
        return None
    if not text.isdigit():
        raise OptionError(f"SYMGRAD_VECTOR_WIDTH={text!r}: use 128, 256, 512 or auto")
    return int(text)


DEFAULT_OPTIONS = JitOptions()
