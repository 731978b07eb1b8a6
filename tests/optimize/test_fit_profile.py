"""Profile-likelihood intervals on hard NIST problems, against independent profiles.

``chisqr_i(v)`` is the smallest ``chisqr`` with parameter ``i`` held at ``v``; the
interval ends where it meets ``chisqr_min (1 + t^2 / dof)``. The references are
computed here without symgrad: Rat43 by ``scipy.optimize.least_squares`` (each
profile point refitted from the estimate and from the previous point, the smaller
``chisqr`` kept), Nelson by eliminating the linear ``b1`` exactly and minimising
the one remaining parameter with ``least_squares`` from a grid of starts. The
crossing is found by ``brentq`` between the estimate and a point found outside.
"""

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import symgrad as sg
from nist_strd import load


def _threshold(res, level=0.95):
    q = scipy.stats.t.ppf((1 + level) / 2, res.dof)
    return res.chisqr * (1 + q * q / res.dof)


def _crossing(profile, estimate, outside):
    return scipy.optimize.brentq(profile, outside, estimate, xtol=1e-15, rtol=1e-12)


@pytest.fixture(scope="module")
def rat43():
    p = load("Rat43")
    res = sg.curve_fit(p.model, {p.x: p.xdata}, p.y, params=p.params, p0=list(p.starts[1]))
    return p, res, res.conf_interval()


def _rat43_profile(p, res, i):
    """``chisqr_i(v) - threshold`` by SciPy's MINPACK, refitted from the estimate and the last point."""
    x, y, theta = p.xdata, p.y, res.x
    free = [k for k in range(len(theta)) if k != i]
    last = [theta[free]]

    def model(q):
        b1, b2, b3, b4 = q
        return b1 / (1 + np.exp(b2 - b3 * x)) ** (1 / b4)

    def profile(v):
        best, best_x = np.inf, None
        for start in (theta[free], last[0]):
            def residuals(z):
                q = np.empty(len(theta))
                q[free], q[i] = z, v
                return model(q) - y
            with np.errstate(all="ignore"):
                fit = scipy.optimize.least_squares(residuals, start, method="lm", ftol=1e-15, xtol=1e-15,
                                                   gtol=1e-15, max_nfev=20000)
            chisqr = 2 * fit.cost
            if np.isfinite(chisqr) and chisqr < best:
                best, best_x = chisqr, fit.x
        last[0] = best_x
        return best - _threshold(res)

    return profile


@pytest.mark.parametrize("i, outside", [(0, (600.0, 800.0)), (1, (0.1, 20.0)),
                                        (2, (0.4, 2.0)), (3, (0.05, 6.0))])
def test_rat43_profile_intervals_match_scipy(rat43, i, outside):
    p, res, intervals = rat43
    profile = _rat43_profile(p, res, i)
    lower = _crossing(profile, res.x[i], outside[0])
    profile = _rat43_profile(p, res, i)  # fresh warm starts for the other side
    upper = _crossing(profile, res.x[i], outside[1])
    assert intervals[p.params[i]] == pytest.approx((lower, upper), rel=1e-6)


def test_rat43_b4_is_not_cut_at_a_poor_refit(rat43):
    """The reported defect: b4 = 0.3 has chisqr below the threshold, so it is inside."""
    p, res, intervals = rat43
    lower, _ = intervals[p.params[3]]
    assert _rat43_profile(p, res, 3)(0.3) < 0
    assert lower == pytest.approx(0.107755, rel=1e-5)


@pytest.fixture(scope="module")
def nelson():
    p = load("Nelson")
    res = sg.curve_fit(p.model, dict(zip(p.predictors, p.x_columns)), p.y, params=p.params,
                       p0=list(p.starts[0]))
    return p, res


def _nelson_profile_b2(p, res):
    """``chisqr_2(b2) - threshold``: ``b1`` is the mean of ``y + b2 x1 exp(-b3 x2)``; ``b3`` by least_squares."""
    (x1, x2), y = p.x_columns, p.y

    def profile(b2):
        def residuals(b3):
            z = y + b2 * x1 * np.exp(-b3[0] * x2)
            return z - z.mean()
        with np.errstate(all="ignore"):  # some starts wander off to overflow
            fits = [scipy.optimize.least_squares(residuals, [b3], method="lm", ftol=1e-15, xtol=1e-15,
                                                 gtol=1e-15) for b3 in np.linspace(-0.3, 0.3, 13)]
        return min(2 * fit.cost for fit in fits if np.isfinite(fit.cost)) - _threshold(res)

    return profile


def test_nelson_b2_profile_interval_matches_an_independent_profile(nelson):
    p, res = nelson
    b2 = res.x[1]
    profile = _nelson_profile_b2(p, res)
    lower = _crossing(profile, b2, 1e-10)
    upper = _crossing(profile, b2, 1e-7)
    got = res.conf_interval()[p.params[1]]
    assert got[0] < 0.1 * b2  # the defect: the lower end was the estimate itself
    assert got == pytest.approx((lower, upper), rel=1e-6)
