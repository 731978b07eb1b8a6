"""run_blocks: every block once, errors after every range, callers at once kept apart."""

import threading
import time

import numpy as np
import pytest

from symgrad.errors import InputError
from symgrad.jit import _threads


@pytest.fixture
def three_threads(monkeypatch):
    monkeypatch.setattr(_threads, "thread_count", lambda: 3)


def mark(out, seen, b0, b1):
    """A kernel in Python: block b writes b + 1 into out[b] and records its range."""
    time.sleep(0.001)  # long enough for the ranges to overlap
    for b in range(b0, b1):
        out[b] += b + 1
    seen.append((b0, b1, threading.get_ident()))


@pytest.mark.parametrize("blocks", [1, 3, 4, 7, 64])
def test_every_block_runs_once(three_threads, blocks):
    out, seen = np.zeros(blocks), []
    _threads.run_blocks(mark, (out, seen), blocks)
    assert np.array_equal(out, np.arange(1, blocks + 1))
    ranges = sorted((b0, b1) for b0, b1, _ in seen)
    assert ranges[0][0] == 0 and ranges[-1][1] == blocks
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    threads = {t for *_, t in seen}
    assert len(threads) == (1 if blocks < _threads.MIN_PARALLEL_BLOCKS else 3)


def test_not_parallel_runs_on_the_calling_thread(three_threads):
    out, seen = np.zeros(8), []
    _threads.run_blocks(mark, (out, seen), 8, parallel=False)
    assert seen == [(0, 8, threading.get_ident())]


def test_an_error_in_a_helper_is_raised_after_every_range_finished(three_threads):
    finished = []

    def kernel(b0, b1):
        time.sleep(0.01 if b0 == 0 else 0.0)
        finished.append(b0)
        if b0 > 0:
            raise InputError(f"range {b0}")

    with pytest.raises(InputError, match="range"):
        _threads.run_blocks(kernel, (), 9)
    assert sorted(finished) == [0, 3, 6]
    out, seen = np.zeros(9), []  # the helpers serve the next call
    _threads.run_blocks(mark, (out, seen), 9)
    assert np.array_equal(out, np.arange(1, 10))


def test_two_callers_at_once_never_share_a_helper(three_threads):
    outs = [np.zeros(12), np.zeros(12)]
    start = threading.Barrier(2)

    def call(k):
        start.wait()
        for _ in range(20):
            _threads.run_blocks(mark, (outs[k], []), 12)

    callers = [threading.Thread(target=call, args=(k,)) for k in range(2)]
    for c in callers:
        c.start()
    for c in callers:
        c.join()
    for out in outs:
        assert np.array_equal(out, 20 * np.arange(1, 13))
