"""Scalar special functions the C library lacks: ``polygamma`` and a real ``loggamma``.

Written with the ``math`` module alone, so that one text serves three stages: the
compiled kernels call it through ``numba.njit`` (``symgrad.jit._special``), the autograd
engine and the gradient check through ``numpy.vectorize``.

``polygamma(n, x) = dⁿ⁺¹ log Γ(x)/dxⁿ⁺¹`` (``n = 0``: the digamma function ``ψ``). For
``x < X`` it uses the recurrence ``ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + 1) - (-1)ⁿ n!/xⁿ⁺¹`` to move the
argument up to ``X = 12 + n``, then the asymptotic series (Abramowitz and Stegun
6.3.18 and 6.4.11)

    ψ(x) ~ log x - 1/(2x) - Σₖ B₂ₖ/(2k x²ᵏ),
    ψ⁽ⁿ⁾(x) ~ (-1)ⁿ⁺¹ [(n-1)!/xⁿ + n!/(2xⁿ⁺¹) + Σₖ B₂ₖ (2k+n-1)!/((2k)! x²ᵏ⁺ⁿ)],

with the Bernoulli numbers ``B₂ … B₂₀``. For ``n = 0`` and ``n = 1`` a negative
argument goes by the reflection formulas ``ψ(x) = ψ(1 - x) - π cot(πx)`` and
``ψ'(x) = π²/sin²(πx) - ψ'(1 - x)``; for ``n >= 2`` by the recurrence, which refuses
(NaN) arguments below ``-MAX_SHIFT``. At a pole (``x`` a non-positive integer) the
value is NaN, as ``log`` of a negative number is. Near the zero of ``ψ``
(``x₀ = 1.4616...``) ``ψ`` is its Taylor series about ``x₀``, so that its small values
keep their relative accuracy.
"""

from __future__ import annotations

import math

__all__ = ["polygamma", "loggamma", "gamma", "MAX_SHIFT"]

#: Below ``-MAX_SHIFT`` the recurrence for ``n >= 2`` would need too many steps: NaN.
MAX_SHIFT = 1.0e4

# B_2, B_4, ..., B_20
_BERNOULLI = (1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0,
              7.0 / 6.0, -3617.0 / 510.0, 43867.0 / 798.0, -174611.0 / 330.0)

#: The positive zero of ψ, as a float and the rest, and the Taylor coefficients
#: ψ⁽ᵏ⁾(x₀)/k! (k = 1 ... 20) there, computed with mpmath at 40 digits: near its zero ψ is
#: summed from them, so that it keeps its relative accuracy where its value is small.
_ROOT_HI, _ROOT_LO = 1.4616321449683622, 9.549995429965697e-17
_ROOT_SERIES = (
    0.9676722454476212, -0.4427631689835921, 0.258499760955651,
    -0.16394270544240652, 0.10782405069126237, -0.07219956125645471,
    0.04880428816414311, -0.03316112647484736, 0.022597648232218104,
    -0.01542476590494896, 0.010538791616612175, -0.007204534386356869,
    0.004926781395729853, -0.003369801655439328, 0.002305126326734928,
    -0.0015769367714301972, 0.0010788252019162967, -0.0007380709389960052,
    0.000504953265834602, -0.0003454680251063077,
)


def polygamma(n, x):
    """``ψ⁽ⁿ⁾(x)`` for an integer order ``n >= 0`` (given as a float) and a real ``x``.

    >>> abs(polygamma(0.0, 1.0) + 0.5772156649015329) < 1e-15  # minus Euler's constant
    True
    >>> round(polygamma(1.0, 1.0) - math.pi**2 / 6, 15)
    0.0
    """
    k = int(n)
    if x != x or k != n or k < 0:
        return math.nan
    if x <= 0.0 and x == math.floor(x):
        return math.nan  # a pole
    if math.isinf(x):
        return (math.inf if k == 0 else 0.0) if x > 0 else math.nan
    if k == 0 and 1.25 <= x <= 1.67:  # near the zero of psi: its Taylor series there
        d = (x - _ROOT_HI) - _ROOT_LO
        total = 0.0
        for j in range(len(_ROOT_SERIES) - 1, -1, -1):
            total = (total + _ROOT_SERIES[j]) * d
        return total
    reflected, flip = 0.0, 1.0
    if x < 0.0 and k <= 1:
        # tan(pi x) and sin(pi x)**2 have period 1: taken of r = x - (the nearest integer),
        # exact, rather than of the rounded pi x, whose absolute error is a large relative
        # one near an integer (x = -1.978: 1e-14 in sin(pi x)).
        r = x - math.floor(x + 0.5)
        if k == 0:  # psi(x) = psi(1 - x) - pi cot(pi x)
            reflected = -math.pi / math.tan(math.pi * r)
        else:  # psi'(x) = pi^2 / sin^2(pi x) - psi'(1 - x)
            s = math.sin(math.pi * r)
            reflected, flip = math.pi * math.pi / (s * s), -1.0
        x = 1.0 - x
    elif x < -MAX_SHIFT:
        return math.nan
    # psi^(k)(x) = psi^(k)(x + 1) - (-1)^k k! / x^(k+1)
    fact = math.gamma(k + 1.0)
    sign = 1.0 if k % 2 == 0 else -1.0
    shifted = 0.0
    limit = 12.0 + k
    while x < limit:
        shifted += 1.0 / x ** (k + 1)
        x += 1.0
    if k == 0:
        series = math.log(x) - 0.5 / x
        power = x * x
        for j in range(len(_BERNOULLI)):
            series -= _BERNOULLI[j] / ((2 * j + 2) * power)
            power *= x * x
    else:
        # (-1)^(k+1) [(k-1)!/x^k + k!/(2 x^(k+1)) + sum_j B_2j (2j+k-1)!/((2j)! x^(2j+k))]
        ratio = math.gamma(float(k))  # (2j + k - 1)!/(2j)! for j = 0, 1, ...
        power = x ** k
        series = ratio / power + ratio * k / (2.0 * power * x)
        for j in range(1, len(_BERNOULLI) + 1):
            ratio *= (2 * j + k - 2) * (2 * j + k - 1) / ((2.0 * j - 1.0) * (2.0 * j))
            power *= x * x
            series += _BERNOULLI[j - 1] * ratio / power
        series = series if k % 2 == 1 else -series
    return reflected + flip * (series - sign * fact * shifted)

def loggamma(x):
    """``log Γ(x)`` for ``x > 0``, ``+inf`` at 0, NaN for ``x < 0`` (SymPy's ``loggamma``
    is complex there, not ``log|Γ(x)|``)."""
    if x > 0.0:
        return math.lgamma(x)
    if x == 0.0:
        return math.inf
    return math.nan


def gamma(x):
    """``Γ(x)``: NaN at a pole (``x`` a non-positive integer), ``±inf`` past overflow.

    ``math.gamma`` raises in Python at those points; compiled, it returns such values.
    """
    if x <= 0.0 and x == math.floor(x):
        return math.inf if x == 0.0 else math.nan
    if x > 171.7:
        return math.inf
    if x != x:
        return math.nan
    try:
        return math.gamma(x)
    except OverflowError:  # a large negative non-integer: underflows to a signed zero
        return 0.0
