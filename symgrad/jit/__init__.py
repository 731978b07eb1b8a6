"""Stage 3: generated source -> Numba functions, cached on disk across processes."""

from symgrad.jit._cache import CacheWarning, cache_dir, load_module, source_key
from symgrad.jit._kernel import Kernel, check_arguments, compile
from symgrad.jit._options import DEFAULT_OPTIONS, JitOptions
from symgrad.jit._threads import run_blocks, thread_count

__all__ = [
    "CacheWarning",
    "DEFAULT_OPTIONS",
    "JitOptions",
    "Kernel",
    "cache_dir",
    "check_arguments",
    "compile",
    "load_module",
    "run_blocks",
    "source_key",
    "thread_count",
]
