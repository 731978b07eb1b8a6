"""The compiled epoch of ``sg.fit``: mini-batch gathering, the fused gradient and the update in one call.

For an :class:`~symgrad.Objective` and a first-order optimizer (GradientDescent,
SGD with momentum or Nesterov, Adagrad, RMSProp, Adam, AdamW, with schedules,
clipping and weight decay), one Numba call runs a whole epoch: for each batch
``B_k = order[k b : (k + 1) b]`` of the epoch's permutation,

    L_k, g_k = mean over B_k of (f, grad f)(x)     (the objective's own block kernel)
    u_k      = chain(g_k)                           (:func:`symgrad.optimize._plan.apply_plan`)
    x       <- x + u_k

One driver serves every objective: the objective's block kernel ``vg_range`` is passed
to it as a first-class function (a function pointer), so the driver's machine code is
compiled once and cached on disk, and a new objective costs no compilation beyond
its own kernel. The batch sums are added block after block in the order of
``Objective.batch_value_and_grad`` and the update formulas are those of the Python
blocks, so the parameters and the optimizer state are bit-identical to those of the
Python loop; only the threads differ (the epoch runs on the calling thread: a
mini-batch of a few hundred samples is too small to share).

The call stops before a batch that needs the Python loop's judgement (a loss that
is not finite, data sums that overflowed) and says where; ``fit`` goes on from there
in Python, so every message is the Python loop's. It also hands back the parameters
before its last update (the last ones whose batch loss was finite), so that a run
that diverges next ends where the Python loop's does.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from symgrad.jit._lazy import resolve_globals
from symgrad._data import Data
from symgrad.optimize._plan import apply_plan, plan

__all__ = ["CompiledEpoch", "EpochRun", "compiled_epoch"]

#: How ``CompiledEpoch.run`` ended: the whole epoch ran; stopped before batch k;
#: the update of batch k made a parameter infinite or NaN.
DONE, HANDED_BACK, NOT_FINITE = 0, 1, 2


class EpochRun(NamedTuple):
    """What one call of :meth:`CompiledEpoch.run` did.

    Attributes:
        x: the parameters after the ``done`` updates.
        state: the optimizer state after them (and after the overflowing update, for ``NOT_FINITE``).
        done: batches whose update is in ``x``.
        status: ``DONE``, ``HANDED_BACK`` (batch ``done`` is left to the Python loop: its
            loss, or its data sums, are not finite) or ``NOT_FINITE`` (the update of batch
            ``done`` made the parameters non-finite; ``x`` is before it).
        bad: for ``NOT_FINITE``, those non-finite parameters, else ``None``.
        before: the parameters before the last update in ``x`` (their batch loss was
            finite); ``None`` when no update ran, and for ``NOT_FINITE``, where ``x``
            itself is the last point with a finite batch loss.
    """

    x: np.ndarray
    state: object
    done: int
    status: int
    bad: np.ndarray | None
    before: np.ndarray | None


def _epoch(kernel, theta, cols, order, batch, block, ops, constants, slots, scalars, state, out, g,
           x_new, x_before):  # pragma: no cover - compiled
    """Run the updates of one epoch; return ``(batches done, status)`` (see ``CompiledEpoch.run``).

    ``x_new`` ends as the parameters of an update that overflowed (``NOT_FINITE``), and
    ``x_before`` as the parameters before the last update that was kept.
    """
    n_samples = order.shape[0]
    n = theta.shape[0]
    width = n + 2
    sums = np.empty(width)
    for k in range(scalars.shape[0]):
        start = k * batch
        stop = min(start + batch, n_samples)
        m = stop - start
        blocks = (m + block - 1) // block
        kernel(theta, cols, order[start:stop], m, out, 0, blocks)
        for j in range(width):  # the blocks' sums in order, as Objective.batch_value_and_grad adds them
            total = out[0, j]
            for b in range(1, blocks):
                total += out[b, j]
            sums[j] = total
        loss = sums[0] / m
        if not (math.isfinite(loss) and math.isfinite(sums[width - 1])):
            return k, HANDED_BACK
        for i in range(n):
            g[i] = sums[i + 1] / m
        apply_plan(ops, constants, slots, scalars[k], state, g, theta)
        finite = True
        for i in range(n):
            x_new[i] = theta[i] + g[i]
            finite = finite and math.isfinite(x_new[i])
        if not finite:
            return k, NOT_FINITE
        for i in range(n):
            x_before[i] = theta[i]
            theta[i] = x_new[i]
    return scalars.shape[0], DONE


@functools.cache
def _driver(layout: str):
    """``_epoch`` compiled once for every objective: the kernel is a first-class function argument.

    The objective's ``vg_range(theta, cols, idx, n, out, b0, b1)`` is passed as a function
    pointer, so the machine code of the epoch does not depend on the objective and is
    cached on disk once (a kernel called directly would be linked into, and compiled
    with, a new epoch function per objective: seconds each). ``layout`` is that of the
    data matrix: ``"F"``, the ``(d, N)`` view of the row-major copy ``fit`` makes, or
    ``"C"`` when it is both (one data column, or one sample), as Numba then types it.
    """
    import numba
    from numba import types

    resolve_globals(_epoch)  # apply_plan compiled, so that Numba can type it
    f8, i8 = types.float64, types.int64
    cols = f8[::1, :] if layout == "F" else f8[:, ::1]
    kernel = types.FunctionType(types.none(f8[::1], cols, i8[::1], i8, f8[:, ::1], i8, i8))
    signature = types.UniTuple(i8, 2)(kernel, f8[::1], cols, i8[::1], i8, i8, i8[::1], f8[:, ::1],
                                      i8[:, ::1], f8[:, ::1], f8[:, ::1], f8[:, ::1], f8[::1], f8[::1], f8[::1])
    try:
        return numba.njit(signature, cache=True)(_epoch)
    except RuntimeError as exc:  # a read-only install and home: compiled in memory
        if "no locator" not in str(exc):
            raise
        return numba.njit(signature)(_epoch)


def compiled_epoch(objective, optimizer, data, batch_size: int):
    """The :class:`CompiledEpoch` of ``objective`` and ``optimizer``; ``None`` for data that
    are not in memory (chunked data: ``fit`` keeps its Python loop).

    Raises:
        NotCompiled: the optimizer holds a block with no compiled form.
    """
    cols = getattr(data, "kernel_input", None)
    if not isinstance(data, Data) or not isinstance(cols, np.ndarray) or cols.dtype != np.float64:
        return None
    if not (cols.ndim == 2 and (cols.flags.f_contiguous or cols.flags.c_contiguous)):
        return None
    return CompiledEpoch(objective, optimizer, data, batch_size)


class CompiledEpoch:
    """Runs the epochs of ``sg.fit`` for one objective, optimizer, data and batch size.

    Args:
        objective: an ``sg.Objective`` with data symbols.
        optimizer: a first-order ``GradientTransformation``.
        data: the ``Data`` of ``objective.prepare``.
        batch_size: samples per update.

    Raises:
        NotCompiled: the optimizer holds a block with no compiled form (the message names it).
    """

    def __init__(self, objective, optimizer, data, batch_size: int):
        n = len(objective.params)
        self.plan = plan(optimizer, n)
        self.kernel = objective._vg.blocks
        self.cols = data.kernel_input
        self.epoch = _driver("C" if self.cols.flags.c_contiguous else "F")
        self.batch = int(batch_size)
        self.block = int(objective._block)
        self.out = np.empty((-(-self.batch // self.block), n + 2))
        self.g = np.empty(n)
        self.x_new = np.empty(n)
        self.x_before = np.empty(n)

    def __repr__(self) -> str:
        return f"CompiledEpoch(batch={self.batch}, ops={self.plan.ops.tolist()})"

    def run(self, x: np.ndarray, state, order: np.ndarray) -> EpochRun:
        """One epoch over ``order`` from ``x`` (not modified): an :class:`EpochRun`.

        A finite batch loss never stops the call, however large: only a loss or data
        sums that are not finite (handed back) or parameters that overflow do.
        """
        steps = -(-order.shape[0] // self.batch)
        theta = np.array(x, dtype=np.float64)
        matrix = self.plan.state_matrix(state)
        scalars = self.plan.scalars(state, steps)
        p = self.plan
        done, status = self.epoch(self.kernel, theta, self.cols, order, self.batch, self.block, p.ops, p.constants,
                                  p.slots, scalars, matrix, self.out, self.g, self.x_new, self.x_before)
        state = p.advance(state, matrix, done + (status == NOT_FINITE))
        bad = self.x_new.copy() if status == NOT_FINITE else None
        before = self.x_before.copy() if done > 0 and status != NOT_FINITE else None
        return EpochRun(theta, state, int(done), int(status), bad, before)
