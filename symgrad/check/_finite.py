"""Finite differences: central differences, the complex step, one-sided differences.

The central gradient works on each coordinate's own scale ``s_i = |x_i|`` (1 where
``x_i = 0``): one Richardson step at ``h_i = eps^(1/4)·s_i`` and ``2h_i``, with an error
bound, refined by Ridders' extrapolation over the scales ``s_i``, ``s_i·1e-3``,
``s_i·1e-6`` and 1 until the bound meets the accuracy asked (see :func:`central_estimate`).
The Hessians and the one-sided differences keep ``h_i = eps^p · max(1, |x_i|)``, with
``eps`` the float64 machine epsilon (2.2e-16) and ``p`` balancing truncation against
rounding for each formula:

=========================  =========  =======================  ==================
formula                    ``p``      step for ``|x_i| <= 1``  error measured
=========================  =========  =======================  ==================
central gradient           see above  ``eps^(1/4)·|x_i|``...   3.2e-15 (≤ 1.2e-12)
complex-step gradient      —          1e-20, no cancellation   1.2e-16 (≤ 5.4e-16)
central Hessian (values)   1/4        1.2e-4                   1.0e-8  (≤ 3.0e-7)
complex-step Hessian       1/3        6.1e-6 (and 1e-20 i)     1.2e-11 (≤ 2.3e-10)
one-sided (at kinks)       1/2        1.5e-8                   1.5e-8  (≤ 2.1e-7)
=========================  =========  =======================  ==================

Errors are medians (and maxima) of ``|numeric − exact| / max(|exact|, 1)`` over 600–1200
random points in ``[0.3, 3]²`` for ``e^x sin y``, ``x³y + log y`` and ``tanh(xy)`` (the
central gradient at its default accuracy, ``rtol = 1e-10``).

The complex step ``f'(x) ≈ Im f(x + i·h) / h`` is exact to rounding for a function
analytic near ``x`` (Squire & Trapp 1998; Martins, Sturdza & Alonso 2003); it is wrong
for ``|x|``, ``max``, steps and branches, which is why callers only use it where the
expression holds none of them. Ridders' method: C. J. F. Ridders, "Accurate computation
of F'(x) and F'(x) F''(x)", Advances in Engineering Software 4 (1982) 75–76.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = [
    "EPS",
    "steps",
    "CentralEstimate",
    "central_estimate",
    "central_gradient",
    "scales",
    "complex_step_gradient",
    "central_hessian",
    "complex_step_hessian",
    "one_sided_gradients",
]

EPS = float(np.finfo(np.float64).eps)
_COMPLEX_STEP = 1e-20


def steps(x: np.ndarray, power: float = 1.0 / 3.0) -> np.ndarray:
    """Per-variable steps ``h_i = eps^power · max(1, |x_i|)``, exactly representable offsets.

    >>> steps(np.array([0.0, 1000.0]))
    array([6.05545445e-06, 6.05545445e-03])
    """
    x = np.asarray(x, dtype=np.float64)
    h = EPS**power * np.maximum(1.0, np.abs(x))
    return (x + h) - x  # the step the floating-point grid actually takes


def _unit(n: int, i: int, h) -> np.ndarray:
    e = np.zeros(n, dtype=np.result_type(h, np.float64))
    e[i] = h
    return e


#: Ridders' tableau: steps shrink by ``_RATIO`` from ``scale / _FIRST``, at most ``_LEVELS`` of them.
_RATIO, _FIRST, _LEVELS = 2.0, 8.0, 12
#: An estimate is accepted when its error estimate is within this fraction of it.
_ACCEPT = 1e-10


class CentralEstimate(NamedTuple):
    """Extrapolated central differences: the gradient, an error estimate and the largest step
    each entry used (the reach of its stencil, for the kink search), all ``ndarray (n,)``."""

    gradient: np.ndarray
    error: np.ndarray
    steps: np.ndarray


def scales(x) -> np.ndarray:
    """The scale of each coordinate: ``|x_i|``, or 1 where ``x_i = 0`` (no scale of its own).

    >>> scales(np.array([5.5e-4, 0.0, -300.0]))
    array([5.5e-04, 1.0e+00, 3.0e+02])
    """
    x = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(x > 0, x, 1.0)


def _ridders(line: Callable, center: float, scale: float) -> tuple[float, float, float]:
    """``(derivative, error estimate, largest step used)`` of ``line(t)`` at ``t = 0``.

    ``line(t)`` is ``f`` at ``x + t e_i`` and ``center`` is ``x_i``; each step is rounded to
    one that ``x_i + h`` represents exactly.

    ``D(h) = (line(h) − line(−h)) / 2h`` at ``h_k = scale / 8 / 2^k``, and Richardson's
    extrapolation in a Neville tableau ``A[k][j] = (4^j A[k][j−1] − A[k−1][j−1]) / (4^j − 1)``,
    which removes the ``h², h⁴, ...`` terms of the error one by one (Ridders 1982). Each
    entry's error is estimated from its two parents, and never below the rounding noise
    (:func:`_noise`) of its smallest step; the entry with the smallest estimate
    wins, and the walk stops when the diagonal grows worse than twice that (rounding has
    taken over). A step whose values are not finite (outside the domain, overflow) is
    skipped and the next, smaller one tried.
    """
    best, error, reach = np.nan, np.inf, np.nan
    previous, steps = None, []
    target = scale / _FIRST
    for _ in range(_LEVELS):
        h = (center + target) - center
        target /= _RATIO
        up, down = (line(h), line(-h)) if h > 0 else (np.nan, np.nan)
        d = (up - down) / (2.0 * h)
        rounding = _noise(up, down, center, d, h)
        if not np.isfinite(d):
            previous, steps = None, []
            continue
        if np.isnan(best):
            best, reach = d, h  # a single difference, until the tableau has two rows
        steps.append(h)
        row = [d]
        if previous is not None:
            factor = _RATIO**2
            for j in range(1, len(previous) + 1):
                row.append((factor * row[j - 1] - previous[j - 1]) / (factor - 1.0))
                factor *= _RATIO**2
                e = max(abs(row[j] - row[j - 1]), abs(row[j] - previous[j - 1]), rounding)
                if e <= error:
                    best, error, reach = row[j], e, steps[len(steps) - 1 - j]
            if abs(row[-1] - previous[-1]) >= 2.0 * error:
                break
        previous = row
    return float(best), float(error), float(reach)


def _noise(up: float, down: float, center: float, d: float, h: float) -> float:
    """The rounding noise of ``D(h) = (up − down)/2h``: ``2·eps·(|f| + |x_i·D|)/h``, the
    error of ``f``'s values and of the arithmetic on ``x_i`` inside ``f`` (a relative
    error ``eps`` in ``x_i`` moves ``f`` by ``eps·|x_i·f'|``)."""
    return 2.0 * EPS * (max(abs(up), abs(down)) + abs(center * d)) / h


def _pilot(line: Callable, center: float, scale: float) -> tuple[float, float, float]:
    """One Richardson step: ``D(h)`` and ``D(2h)`` at ``h = eps^(1/4)·scale``.

    ``R = D(h) + (D(h) − D(2h))/3`` cancels the ``h²`` term; its error is bounded by that of
    ``D(h)``, about ``|D(h) − D(2h)|/3``, plus the rounding noise (:func:`_noise`). The
    step balances the ``h⁴`` error left in ``R`` against rounding (``eps^(1/5)`` would, for
    a function varying on the scale of ``x``) while keeping the stencil short, as a
    stencil that crosses a kink spoils the check. Returns ``(R, error bound, 2h)``.
    """
    h = (center + EPS**0.25 * scale) - center
    if not h > 0:
        return np.nan, np.inf, np.nan
    values = [line(t) for t in (h, -h, 2.0 * h, -2.0 * h)]
    d1 = (values[0] - values[1]) / (2.0 * h)
    d2 = (values[2] - values[3]) / (4.0 * h)
    error = abs(d1 - d2) / 3.0 + _noise(*values[:2], center, d1, h)
    if not (np.isfinite(d1) and np.isfinite(d2)):
        return np.nan, np.inf, np.nan
    return d1 + (d1 - d2) / 3.0, error, 2.0 * h


def central_estimate(f: Callable, x, rtol: float = _ACCEPT, atol: float = 0.0) -> CentralEstimate:
    """Central differences extrapolated to a zero step, with steps on each coordinate's scale.

    The scale of coordinate ``i`` is ``s_i = |x_i|`` (1 where ``x_i = 0``, which has no
    scale of its own). First, one Richardson step at ``h_i = eps^(1/4)·s_i`` and ``2h_i``
    (four values of ``f``): a parameter of 5.5e-4 gets a step of 6.7e-8, not the 6e-6
    (a 1 % step) that ``eps^(1/3)·max(1, |x_i|)`` gave it. If its error bound is above
    ``atol + rtol·|g_i|``, Ridders' extrapolation (:func:`_ridders`, steps ``s/8`` down to
    ``s/16384``) runs from the scales ``s_i``, ``s_i·1e-3``, ``s_i·1e-6`` and 1 in turn
    (a function that varies faster than its argument's size, a tiny ``x_i`` of a function
    that does not scale with it, a step that leaves the domain) until one meets the
    bound, and the most accurate estimate is kept.

    Args:
        f: ``f(x) -> float``.
        x: the point.
        rtol, atol: the accuracy wanted; the default asks for ten digits.

    Returns:
        CentralEstimate: the gradient, error estimates, and the largest step behind each entry.

    >>> est = central_estimate(lambda v: np.exp(-790.0 * v[0]) + np.sin(v[1]), [5.5e-4, 0.0])
    >>> exact = np.array([-790.0 * np.exp(-790.0 * 5.5e-4), 1.0])
    >>> bool(np.all(np.abs(est.gradient / exact - 1) < 1e-10)), bool(np.all(est.error < 1e-10))
    (True, True)
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    out = np.empty((3, n))
    for i, s in enumerate(scales(x)):
        def line(t, i=i):
            return f(x + _unit(n, i, t))

        def good(value, error):
            return error <= atol + rtol * abs(value)

        best = _pilot(line, x[i], s)
        if not good(*best[:2]):
            for c in [s, s * 1e-3, s * 1e-6] + ([1.0] if s != 1.0 else []):
                value, error, reach = _ridders(line, x[i], c)
                if error < best[1] or np.isnan(best[0]):
                    best = (value, error, reach)
                if good(value, error):
                    break
        out[:, i] = best
    return CentralEstimate(*out)


def central_gradient(f: Callable, x) -> np.ndarray:
    """Central differences ``(f(x + h e_i) − f(x − h e_i)) / 2h``, extrapolated to ``h → 0``.

    See :func:`central_estimate` for the steps; this returns its gradient only.

    >>> central_gradient(lambda v: v[0] ** 3 + v[1], [2.0, 5.0]).round(12)
    array([12.,  1.])
    """
    return central_estimate(f, x).gradient


def complex_step_gradient(f: Callable, x) -> np.ndarray:
    """Complex step ``g_i ≈ Im f(x + i·h e_i) / h`` with ``h = 1e-20``; ``f`` must accept complex.

    >>> complex_step_gradient(lambda v: np.sin(v[0]) * v[1], [0.0, 3.0])
    array([3., 0.])
    """
    x = np.asarray(x, dtype=np.float64)
    return np.array([np.imag(f(x + _unit(len(x), i, 1j * _COMPLEX_STEP))) / _COMPLEX_STEP
                     for i in range(len(x))], dtype=np.float64)


def central_hessian(f: Callable, x) -> np.ndarray:
    """Hessian from values by central differences, symmetric by construction.

    ``H_ij ≈ [f(x+h_i e_i+h_j e_j) − f(x+h_i e_i−h_j e_j) − f(x−h_i e_i+h_j e_j)
    + f(x−h_i e_i−h_j e_j)] / (4 h_i h_j)``.

    >>> central_hessian(lambda v: v[0] ** 2 * v[1], [1.0, 2.0]).round(6)
    array([[4., 2.],
           [2., 0.]])
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    h = steps(x, 0.25)
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = _unit(n, i, h[i]), _unit(n, j, h[j])
            v = f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            H[i, j] = H[j, i] = v / (4 * h[i] * h[j])
    return H


def complex_step_hessian(f: Callable, x) -> np.ndarray:
    """Hessian by a complex step in one direction and a central difference in the other.

    ``H_ij ≈ Im[f(x + i·h e_i + δ_j e_j) − f(x + i·h e_i − δ_j e_j)] / (2 h δ_j)``,
    then symmetrised; ``f`` must accept complex input.

    >>> complex_step_hessian(lambda v: v[0] ** 2 * v[1], [1.0, 2.0]).round(8)
    array([[4., 2.],
           [2., 0.]])
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    d = steps(x)
    H = np.empty((n, n))
    for i in range(n):
        ei = _unit(n, i, 1j * _COMPLEX_STEP)
        for j in range(n):
            ej = _unit(n, j, d[j])
            H[i, j] = np.imag(f(x + ei + ej) - f(x + ei - ej)) / (2 * _COMPLEX_STEP * d[j])
    return 0.5 * (H + H.T)


def one_sided_gradients(f: Callable, x) -> tuple[np.ndarray, np.ndarray]:
    """Left and right differences ``(f(x) − f(x − h_i e_i))/h_i`` and ``(f(x + h_i e_i) − f(x))/h_i``.

    >>> left, right = one_sided_gradients(lambda v: abs(v[0]), [0.0])
    >>> float(left[0]), float(right[0])
    (-1.0, 1.0)
    """
    x = np.asarray(x, dtype=np.float64)
    h = steps(x, 0.5)
    f0 = f(x)
    left = np.array([(f0 - f(x - _unit(len(x), i, h[i]))) / h[i] for i in range(len(x))])
    right = np.array([(f(x + _unit(len(x), i, h[i])) - f0) / h[i] for i in range(len(x))])
    return left, right
