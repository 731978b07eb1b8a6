"""The derivative as a limit, drawn: secants turning into the tangent, and the error against h."""

from __future__ import annotations

import numpy as np

from symgrad.plot._figure import finish, new_figure

__all__ = ["derivative_as_limit"]

#: Where an error of exactly 0 is drawn on the logarithmic axis.
ZERO_ERROR = 1e-17

EPS = float(np.finfo(np.float64).eps)


def derivative_as_limit(quotients, *, secants: int = 3, path=None):
    """Secants through ``(x, f(x))`` and ``(x + h, f(x + h))`` beside the tangent, and the errors.

    Left: ``f`` around ``x`` (over ``x ± 1.5·h_0``, ``h_0`` the largest step), the tangent
    of slope ``f'(x)`` and the secants of the ``secants`` largest steps, of slopes
    ``(f(x + h) − f(x))/h``. Right: ``|quotient − f'(x)|`` against ``h`` on log-log axes
    for the forward and the central quotient, with the two error estimates that explain
    the V shape: truncation ``|f''(x)|·h/2`` and rounding ``ε·|f(x)|/h``.

    Args:
        quotients: a ``DifferenceQuotients`` (``symgrad.explain.difference_quotients``).
        secants: how many secants to draw, largest steps first.
        path: where to save the picture (optional).

    Returns:
        Figure: the secants are the left axes' lines labelled ``"secant, h = ..."``.
    """
    from symgrad.check._evaluate import evaluate

    q = quotients
    order = np.argsort(q.steps)[::-1]
    h0 = float(q.steps[order[0]])
    grid = np.linspace(q.x - 1.5 * h0, q.x + 1.5 * h0, 200)
    with np.errstate(all="ignore"):  # outside the domain the curve is nan, and shows a gap
        curve = np.real(np.broadcast_to(evaluate(q.expr, {**q.point, q.wrt: grid}), grid.shape))
    fig = new_figure(9.0, 4.0)
    shape, errors = fig.subplots(1, 2)
    shape.plot(grid, curve, color="black", linewidth=2, label=f"f = {q.expr}")
    shape.plot(grid, q.value + q.exact * (grid - q.x), color="C3", linewidth=1.5,
               label=f"tangent, slope f'({q.x:g}) = {q.exact:.6g}")
    for k in order[:secants]:
        h = float(q.steps[k])
        slope = float(q.forward[k])
        shape.plot(grid, q.value + slope * (grid - q.x), "--", linewidth=1,
                   label=f"secant, h = {h:g}: slope {slope:.6g}")
        shape.plot([q.x + h], [q.upper[k]], "o", color=shape.lines[-1].get_color(), markersize=4)
    shape.plot([q.x], [q.value], "ko", markersize=5)
    low, high = np.nanmin(curve), np.nanmax(curve)
    margin = 0.1 * (high - low) if high > low else 1.0
    shape.set_ylim(low - margin, high + margin)
    shape.set_xlabel(str(q.wrt))
    shape.set_title("secants turn into the tangent as h → 0", fontsize="medium")
    shape.legend(fontsize="x-small", loc="best")
    h = np.asarray(q.steps, dtype=float)
    for label, err in (("forward (f(x+h) − f(x))/h", q.forward_error),
                       ("central (f(x+h) − f(x−h))/2h", q.central_error)):
        errors.loglog(h, np.maximum(np.nan_to_num(err, nan=np.inf), ZERO_ERROR), "o-", markersize=3,
                      label=label)
    with np.errstate(divide="ignore"):
        errors.loglog(h, abs(q.second) / 2 * h, ":", color="grey", label="truncation |f''|·h/2")
        errors.loglog(h, EPS * abs(q.value) / h, "--", color="grey", label="rounding ε·|f|/h")
    errors.set_xlabel("h")
    errors.set_ylabel(f"|quotient − f'({q.x:g})|")
    errors.set_title(f"error against the exact derivative (smallest at h = {q.best_step:g})",
                     fontsize="medium")
    errors.legend(fontsize="x-small", loc="best")
    return finish(fig, path)
