"""The derivative as a limit: difference quotients for shrinking ``h`` against the exact slope.

``f'(x) = lim_{h -> 0} (f(x + h) - f(x)) / h``. In float64 the limit cannot be taken:
the quotient's error first shrinks with ``h`` (truncation, about ``|f''(x)|·h/2``),
then grows again as ``f(x + h) - f(x)`` loses its digits to rounding (about
``ε·|f(x)|/h``, ``ε = 2.2e-16``). :func:`difference_quotients` shows both against the
exact derivative (``symgrad.gradient``), all evaluated in float64 by NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgrad._display import DifferenceQuotientsDisplay
from symgrad._expr import as_expr, canonicalize, check_supported
from symgrad.check._domain import check_domain
from symgrad.check._evaluate import evaluate
from symgrad.errors import ExpressionTypeError, InputError, MissingSymbolError

__all__ = ["DifferenceQuotients", "difference_quotients", "STEPS"]

#: The default steps: 10^-1, 10^-2, ..., 10^-12.
STEPS = tuple(10.0**-k for k in range(1, 13))

EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False, repr=False)
class DifferenceQuotients(DifferenceQuotientsDisplay):
    """Forward and central difference quotients of ``f`` at ``x``, for each step ``h``.

    Attributes:
        expr: ``f``.
        wrt: the variable ``x``.
        point: ``{symbol: value}``, the point (other symbols are held there).
        x: the value of ``wrt`` at the point.
        value: ``f(x)``.
        exact: ``f'(x)``, the exact derivative (``symgrad.gradient``) at ``x``.
        second: ``f''(x)``, exact likewise (the truncation error is about ``|f''|·h/2``).
        steps: the steps ``h``, ``ndarray``.
        upper, lower: ``f(x + h)`` and ``f(x - h)`` for each ``h`` (the secants' other ends).
        forward: ``(f(x + h) - f(x)) / h``: the slope of the secant through ``x`` and ``x + h``.
        central: ``(f(x + h) - f(x - h)) / (2h)``: its error shrinks like ``h²`` instead of ``h``.
    """

    expr: sp.Expr
    wrt: sp.Symbol
    point: dict
    x: float
    value: float
    exact: float
    second: float
    steps: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    forward: np.ndarray
    central: np.ndarray

    @property
    def forward_error(self) -> np.ndarray:
        """``|forward − exact|`` for each ``h``."""
        with np.errstate(invalid="ignore"):
            return np.abs(self.forward - self.exact)

    @property
    def central_error(self) -> np.ndarray:
        """``|central − exact|`` for each ``h``."""
        with np.errstate(invalid="ignore"):
            return np.abs(self.central - self.exact)

    @property
    def best_step(self) -> float:
        """The ``h`` whose forward quotient is closest to the exact derivative."""
        errors = np.where(np.isnan(self.forward_error), np.inf, self.forward_error)
        return float(self.steps[int(np.argmin(errors))])

    def secant(self, h: float) -> tuple:
        """``(slope, intercept)`` of the secant through ``(x, f(x))`` and ``(x + h, f(x + h))``,
        one of ``steps``; the tangent is ``(exact, value - exact·x)``."""
        matches = np.flatnonzero(self.steps == h)
        if not matches.size:
            raise InputError(f"h = {h!r} is not one of the steps ({', '.join(f'{s:g}' for s in self.steps)}).")
        slope = float(self.forward[matches[0]])
        return slope, self.value - slope * self.x

    def __str__(self) -> str:
        x = self.wrt
        head = (f"the derivative as a limit: d/d{x} [{self.expr}] at {x} = {self.x!r}: "
                f"(f({x} + h) - f({x}))/h -> f'({x}) as h -> 0")
        lines = [head, f"exact f'({x}) = {self.exact!r}", "",
                 f"{'h':>8}  {'(f(x+h) - f(x))/h':>22}  {'error':>9}  {'(f(x+h) - f(x-h))/2h':>22}  {'error':>9}"]
        for h, fw, fe, ce, ee in zip(self.steps, self.forward, self.forward_error, self.central,
                                     self.central_error):
            lines.append(f"{h:>8.0e}  {fw:>22.15g}  {fe:>9.2e}  {ce:>22.15g}  {ee:>9.2e}")
        best = self.best_step
        lines += ["", f"the forward error shrinks like |f''|·h/2 = {abs(self.second) / 2:.3g}·h while h is large, "
                      f"then grows like ε·|f|/h = {EPS * abs(self.value):.3g}/h as rounding takes over;",
                  f"here it is smallest at h = {best:g} (about sqrt(ε) = {np.sqrt(EPS):.1e} for a smooth f)."]
        return "\n".join(lines)


def _point(expr, wrt, at) -> dict:
    symbols = sorted(expr.free_symbols | {wrt}, key=lambda s: s.name)
    if not isinstance(at, dict):
        others = [s.name for s in symbols if s != wrt]
        if others:
            raise InputError(f"at is one number, but the expression also uses {', '.join(others)}; give "
                             f"a dict with a value for each, e.g. {{{wrt}: 1.0, {others[0]}: 2.0}}.")
        at = {wrt: at}
    missing = [s.name for s in symbols if s not in at]
    if missing:
        raise MissingSymbolError(f"at gives no value for {', '.join(missing)}")
    try:
        point = {s: float(at[s]) for s in symbols}
    except (TypeError, ValueError):
        raise InputError("at must hold real numbers.") from None
    if not all(np.isfinite(v) for v in point.values()):
        raise InputError(f"at must hold finite numbers, got {point}.")
    return point


def difference_quotients(expr, wrt, at, steps=STEPS) -> DifferenceQuotients:
    """Difference quotients of ``f = expr`` at ``x`` for shrinking steps, against ``f'(x)``.

    For each ``h`` of ``steps``: the forward quotient ``(f(x + h) − f(x))/h`` (the slope
    of a secant, which tends to the tangent's as ``h → 0``) and the central one
    ``(f(x + h) − f(x − h))/(2h)``, in float64, with their errors against the exact
    ``f'(x)`` of ``symgrad.gradient``; all are evaluated in float64 by NumPy (no
    compilation: the table is instant).

    Args:
        expr: a scalar SymPy expression.
        wrt: the variable ``x``, a ``sp.Symbol``.
        at: the value of ``x``, or ``{symbol: value}`` for every symbol of ``expr``.
        steps: positive steps ``h`` (default ``10^-1 ... 10^-12``).

    Returns:
        DifferenceQuotients.

    Raises:
        ExpressionTypeError: ``expr`` is text (use ``symgrad.parse``), or ``wrt`` is not a symbol.
        InputError: a step is not a positive finite number, or ``at`` is not a point.
        MissingSymbolError: a symbol of ``expr`` has no value.
        DomainError: ``f`` is undefined at the point (``log`` of a number <= 0, ...).

    Example:
        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> q = difference_quotients(x**2, x, 3.0, steps=[0.5, 0.25])
        >>> q.exact, q.forward.tolist(), q.central.tolist()
        (6.0, [6.5, 6.25], [6.0, 6.0])
    """
    import symgrad

    expr = canonicalize(as_expr(expr, "expr"))
    check_supported(expr, "symgrad.explain.difference_quotients")
    if not isinstance(wrt, sp.Symbol):
        raise ExpressionTypeError(f"wrt must be a sympy.Symbol, got {type(wrt).__name__}.")
    h = np.asarray(steps, dtype=np.float64).ravel()
    if h.size == 0 or not np.all(np.isfinite(h) & (h > 0)):
        raise InputError(f"steps must be positive finite numbers, got {list(h)}.")
    point = _point(expr, wrt, at)
    check_domain(expr, point, [wrt], lambda sample: ", ".join(f"{s} = {v!r}" for s, v in point.items()))
    first = symgrad.gradient(expr, [wrt])[0]
    second = symgrad.gradient(first, [wrt])[0]

    def at(e, shift=0.0):
        values = {**point, wrt: point[wrt] + shift}
        return np.real(np.broadcast_to(evaluate(e, values), np.shape(shift))).astype(np.float64)

    value, exact, curvature = float(at(expr)), float(at(first)), float(at(second))
    with np.errstate(all="ignore"):  # outside the domain a secant's end is nan, and shows so
        upper, lower = at(expr, h), at(expr, -h)
        forward = (upper - value) / h
        central = (upper - lower) / (2 * h)
    return DifferenceQuotients(expr, wrt, point, point[wrt], value, exact, curvature, h, upper, lower,
                               forward, central)
