"""Share the blocks of a fused data loop among threads.

Kernels are compiled with ``nogil=True``, so Python threads run them in parallel.
Each thread gets a contiguous range of blocks; every block writes its own row of
the output, so the sums do not depend on how many threads there are. This avoids
Numba's ``prange``, whose parallel-loop compile costs seconds per kernel.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MIN_PARALLEL_BLOCKS", "run_blocks", "thread_count"]

#: Fewer blocks than this run on the calling thread (a hand-off costs ~20-50 µs).
MIN_PARALLEL_BLOCKS = 4

_pool: ThreadPoolExecutor | None = None


@functools.lru_cache(maxsize=None)
def thread_count() -> int:
    """Threads used for data loops: ``$SYMGRAD_NUM_THREADS``, else the usable cores.

    Read once per process.
    """
    env = os.environ.get("SYMGRAD_NUM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def run_blocks(kernel, args, blocks: int, parallel: bool = True) -> None:
    """Call ``kernel(*args, b0, b1)`` over ``range(blocks)``, cut into one range per thread."""
    if not parallel or blocks < MIN_PARALLEL_BLOCKS or thread_count() < 2:
        kernel(*args, 0, blocks)
        return
    threads = min(thread_count(), blocks)
    global _pool
    if _pool is None or _pool._max_workers < threads:
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="symgrad")
    bounds = [blocks * k // threads for k in range(threads + 1)]
    futures = [_pool.submit(kernel, *args, bounds[k], bounds[k + 1]) for k in range(1, threads)]
    kernel(*args, bounds[0], bounds[1])
    for f in futures:
        f.result()
