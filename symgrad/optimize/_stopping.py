"""Why a run of ``minimize`` or ``fit`` ends, and at which parameters: one ``Stop`` for both loops.

A run ends when the gradient test holds (``max_i |g_i| <= tol``, or ``g = 0``
exactly), when the optimizer's own test holds or it stalled (Newton, LBFGS), when a
loss or a parameter becomes NaN or infinite (divergence, ``symgrad.optimize._divergence``;
a finite loss never is), at the callback's request, or at the step limit. The stop
says where ``x`` goes back to:

- ``KEEP``: the current parameters;
- ``LAST_FINITE``: the last parameters whose loss was finite (a loss or an update overflowed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KEEP", "LAST_FINITE", "Stop", "gradient_test", "optimizer_test", "final_test"]

KEEP, LAST_FINITE = "keep", "last finite"


@dataclass(frozen=True)
class Stop:
    """The end of a run: its message, whether it converged, and where ``x`` goes back to.

    Example:
        >>> Stop("diverged", rollback=LAST_FINITE)
        Stop(message='diverged', converged=False, rollback='last finite')
    """

    message: str
    converged: bool = False
    rollback: str = KEEP


def gradient_test(g: np.ndarray, tol: float | None) -> Stop | None:
    """A converged ``Stop`` when ``max_i |g_i| <= tol`` or ``g`` is exactly zero, else ``None``."""
    worst = float(np.max(np.abs(g))) if g.size else 0.0
    if tol is not None and worst <= tol:
        return Stop(f"converged: the gradient's largest entry {worst:.3g} <= tol {tol:.3g}", True)
    if worst == 0.0:
        return Stop("converged: the gradient is exactly zero", True)
    return None


def optimizer_test(state, g: np.ndarray, tol: float | None) -> Stop | None:
    """The ``Stop`` of a block that tests convergence itself (``state.done``), or ``None``.

    A block that stalled ends the run, not converged; one whose own test holds ends
    it, converged, unless a ``tol`` that does not hold yet asks for more steps. When
    the gradient test holds as well, its message is the one reported.
    """
    if not getattr(state, "done", False):
        return None
    if getattr(state, "stalled", False) and not state.converged:
        own = Stop(state.message, False)
    elif tol is None or gradient_test(g, tol) is not None:
        own = Stop(state.message, bool(state.converged))
    else:
        return None
    if not own.message:
        return None
    return gradient_test(g, tol) or own


def final_test(g: np.ndarray, tol: float | None, limit_message: str) -> Stop:
    """The ``Stop`` at the step or epoch limit: converged if the gradient test holds."""
    return gradient_test(g, tol) or Stop(limit_message)
