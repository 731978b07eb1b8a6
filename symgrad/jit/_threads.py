"""Share the blocks of a fused data loop among threads.

Kernels are compiled with ``nogil=True``, so Python threads run them in parallel.
Each thread gets a contiguous range of blocks; every block writes its own row of
the output, so the sums do not depend on how many threads there are. This avoids
Numba's ``prange``, whose parallel-loop compile costs seconds per kernel.

The helper threads wait on a lock each, which the caller releases to hand one its
range (about 20 µs of wall time per call on two threads, against 30-90 µs through
a ``ThreadPoolExecutor``'s futures). A call takes helpers no other call holds, so
threads calling ``run_blocks`` at once never share one.
"""

from __future__ import annotations

import functools
import os
import threading

__all__ = ["MIN_PARALLEL_BLOCKS", "run_blocks", "thread_count"]

#: Fewer blocks than this run on the calling thread (a hand-off costs ~20-50 µs).
MIN_PARALLEL_BLOCKS = 4


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
    """Call ``kernel(*args, b0, b1)`` over ``range(blocks)``, cut into one range per thread.

    Raises:
        whatever ``kernel`` raised, after every range has finished.
    """
    if not parallel or blocks < MIN_PARALLEL_BLOCKS or thread_count() < 2:
        kernel(*args, 0, blocks)
        return
    threads = min(thread_count(), blocks)
    bounds = [blocks * k // threads for k in range(threads + 1)]
    helpers = _take(threads - 1)
    try:
        for k, helper in enumerate(helpers, start=1):
            helper.start(kernel, (*args, bounds[k], bounds[k + 1]))
        kernel(*args, bounds[0], bounds[1])
    finally:
        errors = [helper.wait() for helper in helpers]
        _give_back(helpers)
    for error in errors:
        if error is not None:
            raise error


class _Helper:
    """A daemon thread that runs one range at a time: ``start`` hands it one, ``wait`` waits for it."""

    def __init__(self):
        self._go = threading.Lock()
        self._go.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._task = None
        self._error = None
        self._busy = False
        threading.Thread(target=self._serve, name="symgrad-blocks", daemon=True).start()

    def start(self, kernel, args) -> None:
        self._task = (kernel, args)
        self._busy = True
        self._go.release()

    def wait(self) -> BaseException | None:
        """The exception the range raised, or ``None``, once it has finished (at once if not started)."""
        if not self._busy:
            return None
        self._done.acquire()
        self._busy = False
        error, self._error, self._task = self._error, None, None
        return error

    def _serve(self) -> None:
        while True:
            self._go.acquire()
            kernel, args = self._task
            try:
                kernel(*args)
            except BaseException as error:  # handed to the caller by wait()
                self._error = error
            self._done.release()


_idle: list[_Helper] = []
_idle_lock = threading.Lock()


def _take(count: int) -> list[_Helper]:
    """``count`` helpers no other call holds (new ones when too few are idle)."""
    with _idle_lock:
        taken = [_idle.pop() for _ in range(min(count, len(_idle)))]
    return taken + [_Helper() for _ in range(count - len(taken))]


def _give_back(helpers: list[_Helper]) -> None:
    with _idle_lock:
        _idle.extend(helpers)


def _forget_helpers() -> None:
    """In a child process after ``fork`` the helper threads do not exist: make new ones."""
    global _idle_lock
    _idle.clear()
    _idle_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)
