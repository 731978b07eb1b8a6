"""Divergence: a loss, or parameters, that became NaN or infinite (api.md section 6).

Nothing else is divergence: a finite loss that rises, however far, is a step of the
run (an optimizer near a minimum, or one outlying mini-batch, can raise it by orders
of magnitude and still converge), and only a value that is not finite stops it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["not_finite_loss", "not_finite_parameters"]


def not_finite_loss(loss: float, where: str) -> str:
    """The message of a loss that became NaN or infinite at ``where``."""
    return f"diverged: the loss became {loss} at {where}; x holds the last parameters with a finite loss"


def not_finite_parameters(x: np.ndarray, where: str, symbols=None) -> str:
    """The message of parameters ``x`` that overflowed at ``where``, naming the first one."""
    bad = int(np.flatnonzero(~np.isfinite(x))[0])
    name = symbols[bad] if symbols is not None else f"x[{bad}]"
    return (f"diverged: parameter {name} became {x[bad]} at {where} (a finite loss does not make it a "
            f"solution); x holds the last finite parameters. Lower the learning rate")
