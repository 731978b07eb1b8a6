"""Quantiles of the normal and Student-t distributions, without SciPy (mpmath, a SymPy dependency).

The Student-t distribution with ``nu`` degrees of freedom has, for ``t >= 0``,
``P(T > t) = I_x(nu/2, 1/2) / 2`` with ``x = nu / (nu + t^2)`` and ``I`` the
regularised incomplete beta function. The quantile solves that equation for ``x``
with a bracketing root finder at 30 digits and returns ``t = sqrt(nu (1 - x) / x)``.
"""

from __future__ import annotations

import math

import mpmath
from symgrad.errors import InputError

__all__ = ["normal_quantile", "student_t_quantile", "two_sided_normal_p"]

_DIGITS = 30

#: From this many degrees of freedom on, the t quantile comes from the normal one by
#: the Cornish-Fisher expansion (its neglected terms are below 1e-12 relative there).
LARGE_DOF = 1000.0


def _check_probability(p: float) -> float:
    p = float(p)
    if not 0.0 < p < 1.0:
        raise InputError(f"a probability strictly between 0 and 1 is needed, got {p!r}")
    return p


def normal_quantile(p: float) -> float:
    """``z`` with ``P(Z <= z) = p`` for a standard normal ``Z``: ``sqrt(2) erfinv(2p - 1)``.

    Example:
        >>> round(normal_quantile(0.975), 9)
        1.959963985
    """
    p = _check_probability(p)
    with mpmath.workdps(_DIGITS):
        return float(mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1))


def student_t_quantile(p: float, dof: float) -> float:
    """``t`` with ``P(T <= t) = p`` for Student's t with ``dof`` degrees of freedom.

    ``dof = inf`` gives the normal quantile.

    Example:
        >>> round(student_t_quantile(0.975, 10), 9)  # the t table: 2.228
        2.228138852
    """
    p = _check_probability(p)
    dof = float(dof)
    if not dof > 0:
        raise InputError(f"the t distribution needs dof > 0, got {dof!r}")
    if math.isinf(dof):
        return normal_quantile(p)
    if dof > LARGE_DOF:
        return _cornish_fisher(normal_quantile(p), dof)
    if p == 0.5:
        return 0.0
    upper = min(p, 1.0 - p)  # P(T > |t|)
    with mpmath.workdps(_DIGITS):
        a, half = mpmath.mpf(dof) / 2, mpmath.mpf(1) / 2
        target = 2 * mpmath.mpf(upper)

        x = _solve_increasing(lambda x: mpmath.betainc(a, half, 0, x, regularized=True) - target,
                              lambda x: x ** (a - 1) * (1 - x) ** (half - 1) / mpmath.beta(a, half))
        t = float(mpmath.sqrt(dof * (1 - x) / x))
    return t if p > 0.5 else -t


def _cornish_fisher(z: float, nu: float) -> float:
    """The t quantile from the normal one ``z`` (Abramowitz and Stegun 26.7.5)."""
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / nu + g2 / nu**2 + g3 / nu**3 + g4 / nu**4


def _solve_increasing(f, df, iterations: int = 200):
    """The root in ``(0, 1)`` of an increasing ``f`` with ``f(0) < 0 < f(1)``.

    Newton steps on ``log x``, kept inside a shrinking bracket; a step that would
    leave it bisects the bracket (geometrically, as the root can be tiny) instead.
    """
    lo, hi = mpmath.mpf(0), mpmath.mpf(1)
    x = mpmath.mpf(1) / 2
    tol = mpmath.mpf(10) ** (4 - _DIGITS)
    for _ in range(iterations):
        fx = f(x)
        if fx == 0:
            return x
        if fx < 0:
            lo = x
        else:
            hi = x
        step = fx / df(x)
        new = x - step
        if not lo < new < hi:
            new = mpmath.sqrt(lo * hi) if lo > 0 else hi / 16
        if abs(new - x) <= tol * x:
            return new
        x = new
    return x


def two_sided_normal_p(z: float) -> float:
    """``P(|Z| >= |z|) = erfc(|z| / sqrt(2))`` for a standard normal ``Z``.

    Example:
        >>> round(two_sided_normal_p(1.959963985), 6)
        0.05
    """
    return math.erfc(abs(float(z)) / math.sqrt(2.0))
