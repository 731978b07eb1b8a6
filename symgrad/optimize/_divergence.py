"""Divergence: a loss or parameters that are not finite, and a loss that grows by orders of magnitude."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DIVERGENCE_GROWTH", "Watch", "not_finite_loss", "not_finite_parameters"]


def not_finite_loss(loss: float, where: str) -> str:
    """The message of a loss that became NaN or infinite at ``where``."""
    return f"diverged: the loss became {loss} at {where}; x holds the last parameters with a finite loss"


#: A loss more than this many times its starting scale above the lowest loss seen is
#: divergence: the run stops early, at the parameters of the lowest loss.
DIVERGENCE_GROWTH = 1e4


class Watch:
    """The lowest loss seen and its parameters; notices a loss that grows by orders of magnitude.

    With ``L_0`` the starting loss and ``L_best`` the lowest one so far, the run diverges
    when ``L > L_best + DIVERGENCE_GROWTH * max(|L_0|, |L_best|)`` (``(x - 3)**2`` from 0
    with gradient descent at ``lr = 1.1`` stops at step 26, at ``x0``, instead of
    climbing to ``7e8`` by step 50).
    """

    def __init__(self, x: np.ndarray, loss: float, where: str):
        self.scale = abs(loss)
        self.best, self.x, self.where = loss, x, where

    def limit(self) -> float:
        """The loss above which the run diverges: ``L_best + DIVERGENCE_GROWTH * max(|L_0|, |L_best|)``."""
        scale = max(self.scale, abs(self.best))
        return self.best + DIVERGENCE_GROWTH * scale if scale > 0 else math.inf

    def diverging(self, x: np.ndarray, loss: float, where: str) -> str:
        """Record ``(x, loss)``; return a divergence message, or ``""``."""
        if loss < self.best:
            self.best, self.x, self.where = loss, x, where
            return ""
        if loss > self.limit():
            return self.message(loss, where)
        return ""

    def message(self, loss: float, where: str, what: str = "the loss") -> str:
        """The divergence message of ``loss`` (of ``what``: the loss, a mini-batch loss) at ``where``."""
        return (f"diverged: {what} grew from {self.best:.4g} to {loss:.4g} by {where}; x holds the "
                f"parameters of the lowest loss (at {self.where}). Lower the learning rate, or scale "
                f"the features to similar ranges")


def not_finite_parameters(x: np.ndarray, where: str, symbols=None) -> str:
    """The message of parameters ``x`` that overflowed at ``where``, naming the first one."""
    bad = int(np.flatnonzero(~np.isfinite(x))[0])
    name = symbols[bad] if symbols is not None else f"x[{bad}]"
    return (f"diverged: parameter {name} became {x[bad]} at {where} (a finite loss does not make it a "
            f"solution); x holds the last finite parameters. Lower the learning rate")
