"""Checks around the Levenberg-Marquardt iteration: bounds in, runaway parameters out."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from symgrad.errors import InputError

__all__ = ["check_bounds", "check_max_nfev", "runaway_parameters", "sensitivities"]

#: A parameter whose change by its own size, or by the distance it travelled, moves
#: the residuals by less than this fraction of their norm no longer influences the fit.
INSENSITIVE = 1e-6


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


def check_max_nfev(max_nfev, n: int, caller: str) -> int:
    """``max_nfev`` as an ``int``: a positive integer (not a bool, not a float), or ``100 (n + 1)`` for ``None``."""
    if max_nfev is None:
        return 100 * (n + 1)
    if isinstance(max_nfev, bool) or not isinstance(max_nfev, Integral) or max_nfev < 1:
        raise InputError(f"{caller}: max_nfev must be a positive integer (or None for 100 (n + 1)), "
                         f"got {max_nfev!r}")
    return int(max_nfev)


def sensitivities(x: np.ndarray, x_start: np.ndarray, fnorm: float, acnorm: np.ndarray) -> np.ndarray:
    """``s_j = max(|x_j|, |x_j - x0_j|) ||J_j|| / ||r||``: how much ``x_j`` still moves the residuals.

    The first-order relative change of the residuals when ``x_j`` changes by its own
    size or by the distance it travelled from the start ``x0``. Invariant under a
    change of units of ``r`` or of any parameter; ``inf`` where ``r = 0``.
    """
    size = np.maximum(np.abs(x), np.abs(x - x_start))
    with np.errstate(all="ignore"):
        out = size * acnorm / fnorm
    return np.where(np.isnan(out), 0.0, out)


def runaway_parameters(x, x_start, fnorm, acnorm, held=None) -> list[str]:
    """Messages naming the parameters the residuals stopped depending on (``s_j < INSENSITIVE``).

    Typically a parameter that ran off along a direction in which the sum of squares
    flattens out (a decay rate to infinity, an exponential that underflows): the
    tests of the iteration may then hold, but the value found carries no information.
    Parameters on a bound (``held``), those still exactly at a zero start, and those the
    residuals never depended on (a zero Jacobian column, never moved from the start: the
    covariance reports them as undetermined) are not judged.
    """
    if not np.isfinite(fnorm) or not np.all(np.isfinite(acnorm)):
        return []
    sens = sensitivities(x, x_start, fnorm, acnorm)
    out = []
    judged = (np.maximum(np.abs(x), np.abs(x - x_start)) > 0) & ~((acnorm == 0) & (x == x_start))
    if held is not None:
        judged &= ~held
    for j in np.flatnonzero((sens < INSENSITIVE) & judged):
        how = (f"ran away from {x_start[j]:.6g} to {x[j]:.6g}" if abs(x[j]) > 10 * abs(x_start[j])
               else f"reached {x[j]:.6g}")
        out.append(f"x[{j}] {how} while the residuals stopped depending on it (a change by its size or "
                   f"by the distance travelled moves them by {sens[j]:.2g} of their norm): its value is "
                   "meaningless; start closer, bound it, or change the model")
    return out
