"""Checks around the Levenberg-Marquardt iteration: bounds in, runaway parameters out."""

from __future__ import annotations

import numpy as np

from symgrad.errors import InputError

__all__ = ["check_bounds", "runaway_parameters", "sensitivities"]

#: A parameter whose relative change of 100 % moves the residuals by less than this
#: fraction of their norm no longer influences the fit.
INSENSITIVE = 1e-6
#: ... and it ran away when it grew by this factor past its start.
GROWTH = 1e3


def check_bounds(lower, upper, n: int):
    """``(lo, hi)`` float arrays of length ``n`` (``-inf``/``inf`` for open sides)."""
    out = []
    for name, value, fill in (("lower", lower, -np.inf), ("upper", upper, np.inf)):
        if value is None:
            out.append(np.full(n, fill))
            continue
        arr = np.array(value, dtype=np.float64, copy=True).reshape(-1)
        if arr.shape != (n,) or np.any(np.isnan(arr)):
            raise InputError(f"lm_solve: {name} must hold {n} numbers (-inf/inf for an open side), got {value!r}")
        out.append(arr)
    lo, hi = out
    bad = np.flatnonzero(~(lo < hi))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"lm_solve: the bounds of x[{i}] are empty or a single point "
                         f"(lower {lo[i]!r}, upper {hi[i]!r}); hold that parameter fixed instead")
    return lo, hi


def sensitivities(x: np.ndarray, r: np.ndarray, jac: np.ndarray) -> np.ndarray:
    """``s_j = |x_j| ||J_j|| / ||r||``: the relative change of the residuals per relative change of ``x_j``.

    Invariant under a change of units of ``r`` or of any parameter. ``inf`` where
    ``r = 0`` and the column is not zero.
    """
    acnorm = np.sqrt(np.einsum("ij,ij->j", jac, jac))
    rnorm = float(np.sqrt(r @ r))
    with np.errstate(all="ignore"):
        out = np.abs(x) * acnorm / rnorm
    return np.where(np.isnan(out), 0.0, out)


def runaway_parameters(x, x_start, r, jac, status) -> list[str]:
    """Messages naming the parameters that ran away while the residuals stopped depending on them.

    Such a parameter grew by more than ``GROWTH`` times past its start (an
    unbounded direction of the sum of squares) and a 100 % change of it moves the
    residuals by less than ``INSENSITIVE`` of their norm: the tests of the
    iteration hold there vacuously, and its value carries no information.
    """
    if not np.all(np.isfinite(r)) or not np.all(np.isfinite(jac)):
        return []
    sens = sensitivities(x, r, jac)
    grown = np.abs(x) > GROWTH * np.maximum(np.abs(x_start), np.finfo(np.float64).tiny)
    out = []
    for j in np.flatnonzero(grown & (sens < INSENSITIVE)):
        out.append(f"x[{j}] ran away from {x_start[j]:.6g} to {x[j]:.6g} while the residuals stopped "
                   f"depending on it (a 100 % change moves them by {sens[j]:.2g} of their norm): "
                   "its value is meaningless; start closer, bound it, or change the model")
    return out
