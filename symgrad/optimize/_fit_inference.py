"""Inference after ``curve_fit``: prediction bands (the delta method) and parameter intervals.

With ``C`` the covariance of the fitted parameters and ``g = d yhat / d p`` the exact
gradient of the model at a new point, ``var(yhat) = g^T C g``; a new observation adds
its noise, ``s^2 sigma^2`` (``s^2 = chisqr / dof``, or 1 with ``absolute_sigma``). The
quantile is Student's ``t`` with ``dof`` degrees of freedom (the normal one with
``absolute_sigma``, where the variance is not estimated).

A profile interval of ``p_i`` is where the smallest ``chisqr`` with ``p_i`` held,
``chisqr_i(v)``, meets the threshold of an F test for one parameter (as lmfit's
``conf_interval``): ``chisqr_min (1 + t^2 / dof)``, with ``t`` the
``(1 + level)/2`` quantile with ``dof`` degrees of freedom (``F(1, dof) = t^2``); with
``absolute_sigma`` the likelihood-ratio threshold ``chisqr_min + z^2``.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from symgrad.errors import InputError
from symgrad.optimize._quantiles import normal_quantile, student_t_quantile

__all__ = ["predict", "profile_intervals", "quantile", "wald_intervals"]

#: Doublings of the step before a profile is declared open on that side.
MAX_DOUBLINGS = 40
#: Root-finding steps on the profile, and the relative accuracy asked of an interval end.
MAX_REFINE = 60
PROFILE_RTOL = 1e-6


def _level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, Real) or not 0 < level < 1:
        raise InputError(f"level must be a probability strictly between 0 and 1, got {level!r}")
    return float(level)


def quantile(result, level: float) -> float:
    """The two-sided ``level`` quantile: ``t_{(1+level)/2, dof}``, or normal with absolute sigma."""
    p = (1.0 + _level(level)) / 2.0
    if result.absolute_sigma:
        return normal_quantile(p)
    if result.dof <= 0:
        return math.inf
    return student_t_quantile(p, result.dof)


def predict(result, data, band, level, sigma, dataset):
    problem = result._compiled()
    spec = problem.spec
    if isinstance(dataset, bool) or not isinstance(dataset, int) or not 0 <= dataset < len(spec.datasets):
        raise InputError(f"dataset must be an index 0..{len(spec.datasets) - 1}, got {dataset!r}")
    if band not in (None, "confidence", "prediction"):
        raise InputError(f"band must be None, 'confidence' or 'prediction', got {band!r}")
    columns = problem.columns(data, dataset)
    n = len(columns[0]) if columns else 1
    theta = np.array([result.params[s] for s in problem.symbols], dtype=np.float64)
    yhat, grad = problem.model_values(dataset, theta, columns, n)
    if band is None:
        return yhat
    g = grad[:, : len(result.fitted)]
    with np.errstate(invalid="ignore", over="ignore"):
        var = np.einsum("ij,jk,ik->i", g, result.generalized_covariance, g)
    if band == "prediction":
        var = var + _noise_variance(result, spec.datasets[dataset], sigma, n)
    q = quantile(result, level)
    with np.errstate(invalid="ignore", over="ignore"):
        half = q * np.sqrt(np.maximum(var, 0.0))
    half = np.where(np.isnan(var), np.inf, half)
    return yhat, yhat - half, yhat + half


def _noise_variance(result, ds, sigma, n):
    if sigma is None:
        if ds.sigma is not None:
            raise InputError("this fit weighted the data by sigma, so a prediction band needs the sigma of "
                             "the new observations: predict(data, band='prediction', sigma=...)")
        sigma2 = np.ones(n)
    else:
        s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,))
        if not np.all(np.isfinite(s) & (s > 0)):
            raise InputError("sigma of the new observations must be positive finite numbers")
        sigma2 = s * s
    if result.absolute_sigma:
        return sigma2
    return sigma2 * (result.chisqr / result.dof if result.dof > 0 else math.inf)


def wald_intervals(result, level) -> dict:
    """``value -/+ q stderr`` for each fitted parameter."""
    q = quantile(result, level)
    out = {}
    for s in result.fitted:
        v, e = result.params[s], result.stderr[s]
        half = q * e if math.isfinite(e) else math.inf
        out[s] = (v - half, v + half)
    return out


def profile_intervals(result, level) -> dict:
    """The profile-likelihood interval of each fitted parameter (see the module docstring)."""
    level = _level(level)
    problem = result._compiled()
    if result.dof <= 0 and not result.absolute_sigma:
        return {s: (-math.inf, math.inf) for s in result.fitted}
    q = quantile(result, level)
    best = result.chisqr
    threshold = best + q * q if result.absolute_sigma else best * (1.0 + q * q / result.dof)
    theta = np.array([result.params[s] for s in problem.symbols], dtype=np.float64)
    out = {}
    for i, s in enumerate(result.fitted):
        if not math.isfinite(result.stderr[s]):
            out[s] = (-math.inf, math.inf)
            continue
        profile = _Profile(problem, result, i, theta, threshold)
        ends = [profile.end(side) for side in (-1.0, 1.0)]
        out[s] = (ends[0], ends[1])
    return out


class _Profile:
    """``chisqr_i(v)``: ``chisqr`` minimised over the other fitted parameters with ``p_i = v``.

    A refit is only a local minimum, so only a value below the threshold proves
    anything (``chisqr_i(v)`` is at most that value: ``v`` is inside the interval).
    Those refits are kept, and each new refit starts from the kept point nearest in
    ``v``; a refit that ends above the threshold is tried again from the estimate, and
    the smaller ``chisqr`` is taken. A refit that wandered off (far outside, in a flat
    region) never becomes a start, so it cannot pull the refits near the crossing away
    from the profile.
    """

    def __init__(self, problem, result, i, theta, threshold):
        self.problem, self.result, self.i = problem, result, i
        self.threshold = threshold
        self.n = len(result.fitted)
        self.free = np.array([k for k in range(self.n) if k != i], dtype=np.int64)
        spec = problem.spec
        self.lower, self.upper = spec.lower[self.free], spec.upper[self.free]
        self.bounds = (spec.lower[i], spec.upper[i])
        self.theta = theta
        self.inside = [(float(theta[i]), theta.copy())]  # (v, refitted theta) with chisqr below threshold

    def _refit(self, v: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        point = start.copy()
        point[self.i] = v
        if self.free.size:
            lm = self.problem.solve(self.free, point, lower=self.lower, upper=self.upper, **self.result.options)
            point[self.free] = lm.x
        r, _ = self.problem.evaluate(point, self.free)
        value = float(r @ r)
        return (value if math.isfinite(value) else math.inf), point

    def _starts(self, v: float) -> list:
        """The kept point nearest ``v``, then the estimate (unless that is the same point)."""
        nearest = min(self.inside, key=lambda kept: abs(kept[0] - v))[1]
        if np.array_equal(nearest[self.free], self.theta[self.free]):
            return [nearest]
        return [nearest, self.theta]

    def __call__(self, v: float) -> float:
        starts = self._starts(v)
        value, point = self._refit(v, starts[0])
        for start in starts[1:]:
            if value < self.threshold:
                break
            other, other_point = self._refit(v, start)
            if other < value:
                value, point = other, other_point
        if value < self.threshold:
            self.inside.append((float(v), point))
        return value

    def end(self, side: float) -> float:
        """The end of the interval on ``side`` (-1 or +1): a crossing, a bound, or an infinity."""
        threshold = self.threshold
        x0 = float(self.theta[self.i])
        step = self.result.stderr[self.result.fitted[self.i]]
        if not step > 0:
            step = max(abs(x0), 1.0) * 1e-3
        limit = self.bounds[1] if side > 0 else self.bounds[0]
        inside, f_inside = x0, self.result.chisqr - threshold
        for _ in range(MAX_DOUBLINGS):
            v = x0 + side * step
            if (side > 0 and v >= limit) or (side < 0 and v <= limit):
                f_limit = self(limit) - threshold
                if f_limit < 0:
                    return float(limit)
                return self._refine(inside, f_inside, float(limit), f_limit)
            f = self(v) - threshold
            if f >= 0:
                return self._refine(inside, f_inside, v, f)
            inside, f_inside = v, f
            step *= 2.0
        return side * math.inf

    def _refine(self, a, fa, b, fb) -> float:
        """The crossing of ``f = chisqr_i - threshold`` between ``a`` (below) and ``b`` (above): Illinois."""
        if not math.isfinite(fb):
            fb = abs(fa)  # the model failed beyond b: bisect towards a instead of interpolating
        tol = PROFILE_RTOL * max(abs(b - a), 1e-300)
        side = 0
        for _ in range(MAX_REFINE):
            c = b - fb * (b - a) / (fb - fa) if fb != fa else 0.5 * (a + b)
            if not (min(a, b) < c < max(a, b)):
                c = 0.5 * (a + b)
            fc = self(c) - self.threshold
            if fc < 0:
                a, fa = c, fc
                if side == -1:
                    fb *= 0.5
                side = -1
            else:
                b, fb = c, fc
                if side == 1:
                    fa *= 0.5
                side = 1
            if abs(b - a) <= tol:
                break
        return float(0.5 * (a + b))
