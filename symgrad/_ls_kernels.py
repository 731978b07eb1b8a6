"""The least-squares kernels of a residual, with NumPy-facing calls (``ResidualKernels``).

For a residual ``r(p; d)`` with parameters ``p`` and data columns ``d``, the kernels
(residuals, Jacobian, and the per-block sums of squares, ``[J | r]^T [J | r]`` and
triangular factors of ``[J | r]``; see ``symgrad.codegen._residual``) are written by
``symgrad.codegen.residual_source`` and compiled through the one chain of stages,
``symgrad.jit._pipeline.residual_module`` (and ``directional_module`` for the second
directional derivative). This module only calls them: it allocates the outputs,
shares the blocks among threads (``symgrad.jit.run_blocks``) and adds up the blocks'
rows, so results do not depend on the number of threads. It sits at the top of the
package beside ``symgrad.objective``; ``optimize`` only calls what it builds.
"""

from __future__ import annotations

import numpy as np

from symgrad.codegen import GRAM_UNROLL, RESIDUAL_BLOCK as BLOCK
from symgrad.jit import DEFAULT_OPTIONS, run_blocks
from symgrad.jit._lazy import resolve_globals
from symgrad.jit._pipeline import directional_module, residual_module

__all__ = ["BLOCK", "GRAM_UNROLL", "ResidualKernels"]


_NONE = np.empty(0)


def _blocks(n_samples: int) -> int:
    return -(-n_samples // BLOCK)


class ResidualKernels:
    """The compiled kernels of ``symgrad.codegen.residual_source``, with NumPy-facing calls.

    ``cols`` is a tuple of float64 1-D arrays of one length ``N`` (checked by the caller).
    The passes over blocks take optional observations ``y`` and weights ``w`` (float64,
    length ``N``; ``None``: none) and then work on ``(e_j - y_j) w_j`` for the
    compiled expression ``e`` (the model of a fit), with the Jacobian scaled alike.
    """

    def __init__(self, residual, params, data, options=DEFAULT_OPTIONS):
        self.n = len(params)
        self.source, self.module = residual_module(residual, params, data, options)
        self._expression = (residual, tuple(params), tuple(data), options)
        self._directional = None

    def second_directional(self, theta: np.ndarray, v: np.ndarray, cols, n_samples: int) -> np.ndarray:
        """``v^T H_j v`` (N,) for every sample (``symgrad.codegen.directional_source``); compiled at the first call."""
        if self._directional is None:
            _, self._directional = directional_module(*self._expression)
        out = np.empty(n_samples)
        self._directional.second_directional(theta, np.ascontiguousarray(v, dtype=np.float64), cols, out)
        return out

    def residuals(self, theta: np.ndarray, cols, n_samples: int) -> np.ndarray:
        out = np.empty(n_samples)
        self.module.residuals(theta, cols, out)
        return out

    def residuals_jacobian(self, theta: np.ndarray, cols, n_samples: int):
        r = np.empty(n_samples)
        jac = np.empty((n_samples, self.n))
        self.module.residuals_jacobian(theta, cols, r, jac)
        return r, jac

    def sum_of_squares(self, theta: np.ndarray, cols, n_samples: int, y=None, w=None, residuals=None) -> float:
        """``r.r`` in one threaded pass; ``residuals``: an (N,) float64 array to receive ``r``, or ``None``."""
        blocks = _blocks(n_samples)
        out = np.zeros((blocks, 1))
        run_blocks(self.module.ss_range, (theta, cols, _NONE if y is None else y, _NONE if w is None else w,
                                          n_samples, out, _NONE if residuals is None else residuals), blocks)
        return float(np.sum(out[:, 0]))

    def gram(self, theta: np.ndarray, cols, n_samples: int, y=None, w=None) -> np.ndarray:
        """``G = [J | r]^T [J | r]`` ((n+1, n+1), symmetric) in one pass, ``J`` never stored.

        Each block adds up its own products; the blocks' sums are then added.
        ``G[n, n]`` is the sum of squares.
        """
        p = self.n + 1
        blocks = _blocks(n_samples)
        out = np.zeros((blocks, p * p))
        run_blocks(self.module.gram_range, (theta, cols, _NONE if y is None else y, _NONE if w is None else w,
                                            n_samples, out), blocks)
        upper = np.sum(out, axis=0).reshape(p, p)
        return np.triu(upper) + np.triu(upper, 1).T

    def triangular_factor(self, theta: np.ndarray, cols, n_samples: int, y=None, w=None, residuals=None):
        """``(R, r.r)``: ``R`` (n+1, n+1) upper triangular with ``R^T R = [J | r]^T [J | r]``.

        ``residuals``: an (N,) float64 array to receive ``r`` in the same pass, or ``None``.
        """
        p = self.n + 1
        blocks = _blocks(n_samples)
        out = np.zeros((blocks, p * p + 1))
        qr_range = self.module.qr_range
        resolve_globals(getattr(qr_range, "py_func", qr_range))  # the shared triangularise, built before Numba types it
        run_blocks(qr_range, (theta, cols, _NONE if y is None else y, _NONE if w is None else w,
                                          n_samples, out, _NONE if residuals is None else residuals), blocks)
        stacked = out[:, : p * p].reshape(blocks * p, p)
        with np.errstate(all="ignore"):
            top = np.linalg.qr(stacked, mode="r") if np.all(np.isfinite(stacked)) else np.full((p, p), np.nan)
        rfac = np.zeros((p, p))
        rfac[: top.shape[0]] = top
        return rfac, float(np.sum(out[:, -1]))


def guard_least_squares(ls, x: np.ndarray, columns, *, caller: str) -> None:
    """The start-up guard of least squares: ``ls``'s compiled Jacobian against the autograd engine.

    See ``symgrad.check.guard_jacobian``; this module, which already chains the
    stages, is the way ``optimize`` reaches it.

    Raises:
        GradientMismatchError: naming the parameters and sample rows that disagree.
    """
    from symgrad.check._guard import guard_jacobian

    guard_jacobian(ls, x, columns, caller=caller)
