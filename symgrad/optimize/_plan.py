"""The compiled form of a first-order optimizer: a table of steps that one Numba call applies.

Each first-order block of :mod:`symgrad.optimize._transforms` carries a
:class:`CompiledStep` on its ``update`` function (``update.compiled``), and a
``chain`` carries its blocks (``update.blocks``). :func:`plan` reads them into an
:class:`UpdatePlan`: op codes, constants and the state arrays, which
:func:`apply_plan` runs on a gradient inside compiled code. The compiled epoch of
``sg.fit`` (``symgrad._epoch``) calls it after each mini-batch gradient.

What depends on the step count (a learning-rate schedule, Adam's bias corrections,
the first step of momentum) is computed in Python before the epoch, one row per
update, with the very expressions the Python blocks use; the element-wise
arithmetic of :func:`apply_plan` is written as in the blocks' kernels, so the
compiled epoch and the Python loop give bit-identical parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from symgrad.jit._cache import builtin_kernel

__all__ = ["CompiledStep", "NotCompiled", "UpdatePlan", "apply_plan", "plan"]

#: Op codes of :func:`apply_plan`; ``c`` is the vector the chain transforms in place.
SCALE, LEARNING_RATE, ADAM, RMS, RSS, TRACE, DECAY, CLIP = range(8)


class NotCompiled(Exception):
    """An optimizer chain holds a block with no compiled form; the message names it."""


class CompiledStep(NamedTuple):
    """How the compiled epoch runs one block.

    Args:
        op: an op code (``ADAM``, ``TRACE``, ...).
        constants: up to four numbers fixed for the run (``beta1, beta2, eps``, ...).
        arrays: ``state -> tuple of arrays`` the block updates in place (at most two).
        scalars: ``(state, k) -> list of k tuples`` (at most two numbers each), what the
            next ``k`` updates need from the step count; ``None`` for none.
        advance: ``(state, k) -> state`` after ``k`` updates (the arrays are already updated).
    """

    op: int
    constants: tuple = ()
    arrays: Callable[[Any], tuple] | None = None
    scalars: Callable[[Any, int], list] | None = None
    advance: Callable[[Any, int], Any] | None = None


def _flatten(transform, path=()):
    blocks = getattr(transform.update, "blocks", None)
    if blocks is not None:
        for i, block in enumerate(blocks):
            yield from _flatten(block, path + (i,))
        return
    step = getattr(transform.update, "compiled", None)
    if step is None:
        raise NotCompiled(f"the block {transform!r} has no compiled form")
    yield step, path


def _at(state, path):
    for i in path:
        state = state[i]
    return state


def _replace(state, path, value):
    if not path:
        return value
    parts = list(state)
    parts[path[0]] = _replace(state[path[0]], path[1:], value)
    return tuple(parts)


class UpdatePlan:
    """An optimizer as arrays for :func:`apply_plan` (built by :func:`plan`).

    Attributes:
        ops: int64 op codes, one per block, in chain order.
        constants: float64 ``(blocks, 4)``.
        slots: int64 ``(blocks, 2)``, the rows of the state matrix each block uses (-1: none).
        width: number of state rows.
    """

    def __init__(self, steps, paths, n: int):
        self.steps, self.paths, self.n = steps, paths, n
        self.ops = np.array([s.op for s in steps], dtype=np.int64)
        self.constants = np.zeros((len(steps), 4))
        self.slots = np.full((len(steps), 2), -1, dtype=np.int64)
        self.width = 0
        for k, s in enumerate(steps):
            self.constants[k, :len(s.constants)] = s.constants

    def state_matrix(self, state) -> np.ndarray:
        """Copy the state arrays into one ``(width, n)`` matrix (the slots are set on first use)."""
        rows = []
        for k, (s, p) in enumerate(zip(self.steps, self.paths)):
            if s.arrays is None:
                continue
            arrays = s.arrays(_at(state, p))
            self.slots[k, :len(arrays)] = range(len(rows), len(rows) + len(arrays))
            rows.extend(arrays)
        self.width = len(rows)
        matrix = np.empty((max(len(rows), 1), self.n))
        for r, a in enumerate(rows):
            matrix[r] = a
        return matrix

    def scalars(self, state, k: int) -> np.ndarray:
        """The per-update numbers of the next ``k`` updates: ``(k, 2 * blocks)``."""
        out = np.zeros((k, 2 * len(self.steps)))
        for j, (s, p) in enumerate(zip(self.steps, self.paths)):
            if s.scalars is not None:
                rows = s.scalars(_at(state, p), k)
                if rows:
                    out[:, 2 * j:2 * j + len(rows[0])] = rows
        return out

    def advance(self, state, matrix: np.ndarray, k: int):
        """The state after ``k`` updates, with the arrays of ``matrix`` copied back in place."""
        for j, (s, p) in enumerate(zip(self.steps, self.paths)):
            block = _at(state, p)
            if s.arrays is not None:
                for r, a in zip(self.slots[j], s.arrays(block)):
                    a[:] = matrix[r]
            if s.advance is not None:
                state = _replace(state, p, s.advance(block, k))
        return state


def plan(optimizer, n: int) -> UpdatePlan:
    """The compiled form of ``optimizer`` for ``n`` parameters.

    Raises:
        NotCompiled: a block has no compiled form (a custom block, Newton, LBFGS),
            naming the block.
    """
    if optimizer.needs_oracle:
        raise NotCompiled(f"{optimizer!r} evaluates the objective itself")
    pairs = list(_flatten(optimizer))
    return UpdatePlan([s for s, _ in pairs], [p for _, p in pairs], n)


@builtin_kernel
def sum_of_squares(g):  # pragma: no cover - compiled
    """``sum_i g_i**2`` summed in index order (the clipping norm of both loops)."""
    total = 0.0
    for i in range(g.shape[0]):
        total += g[i] * g[i]
    return total


@builtin_kernel
def apply_plan(ops, constants, slots, scalars, state, c, x):  # pragma: no cover - compiled
    """Turn the gradient ``c`` into the update in place, block after block.

    ``scalars`` is this update's row of :meth:`UpdatePlan.scalars`, ``state`` the
    matrix of :meth:`UpdatePlan.state_matrix`, ``x`` the parameters. The formulas are
    those of the blocks' kernels in ``_transforms``, operation for operation.
    """
    n = c.shape[0]
    for k in range(ops.shape[0]):
        op = ops[k]
        a0, a1, a2 = constants[k, 0], constants[k, 1], constants[k, 2]
        s0, s1 = scalars[2 * k], scalars[2 * k + 1]
        if op == 0:  # SCALE: u = factor g
            for i in range(n):
                c[i] = a0 * c[i]
        elif op == 1:  # LEARNING_RATE: u = (-lr_t) g
            for i in range(n):
                c[i] = s0 * c[i]
        elif op == 2:  # ADAM
            mu, nu = state[slots[k, 0]], state[slots[k, 1]]
            for i in range(n):
                mu[i] = a0 * mu[i] + (1.0 - a0) * c[i]
                nu[i] = a1 * nu[i] + (1.0 - a1) * c[i] * c[i]
                c[i] = (mu[i] / s0) / (math.sqrt(nu[i]) / s1 + a2)
        elif op == 3:  # RMS
            nu = state[slots[k, 0]]
            for i in range(n):
                nu[i] = a0 * nu[i] + (1.0 - a0) * c[i] * c[i]
                c[i] = c[i] / (math.sqrt(nu[i]) + a1)
        elif op == 4:  # RSS
            s = state[slots[k, 0]]
            for i in range(n):
                s[i] += c[i] * c[i]
                c[i] = c[i] / (math.sqrt(s[i]) + a0)
        elif op == 5:  # TRACE: a0 decay, a1 dampening, a2 nesterov; s0 first step
            buf = state[slots[k, 0]]
            for i in range(n):
                if s0 != 0.0:
                    buf[i] = c[i]
                else:
                    buf[i] = a0 * buf[i] + (1.0 - a1) * c[i]
                c[i] = c[i] + a0 * buf[i] if a2 != 0.0 else buf[i]
        elif op == 6:  # DECAY: u = g + wd x
            if a0 != 0.0:
                for i in range(n):
                    c[i] = c[i] + a0 * x[i]
        elif op == 7:  # CLIP
            total = 0.0
            for i in range(n):
                total += c[i] * c[i]
            norm = math.sqrt(total)
            if norm > a0:
                f = a0 / norm
                for i in range(n):
                    c[i] = c[i] * f
