"""Why no float64 fit reaches 6 digits on Lanczos1's certified standard deviations.

Lanczos1's certified residual sum of squares is 1.4e-25: residuals of about 8e-14 on
responses near 1. The certified results come from the file's decimal numbers; a
fit reads them as float64, which moves each ``y`` and ``x`` by up to half a unit in
the last place (about 1e-16), a relative change of 1e-3 in a residual. Solved
exactly (Gauss-Newton at 50 digits with mpmath, from the certified values), the
least-squares problem of the float64 data has the certified parameters to 10+
digits but standard deviations 4.3e-4 (relative) away from the certified ones:
3.4 digits, whatever the solver. From the decimal data the same computation gives
all of them to 10+ digits, so the computation itself is not the limit.
"""

import mpmath

from nist_strd import load


def _exact_fit(xs, ys, start):
    """Gauss-Newton for b1 e^(-b2 x) + b3 e^(-b4 x) + b5 e^(-b6 x) at the working precision.

    Returns the parameters and ``sqrt(diag((J^T J)^-1) rss / dof)``.
    """
    b = [mpmath.mpf(v) for v in start]
    for _ in range(6):
        rows, res = [], []
        for x, y in zip(xs, ys):
            e = [mpmath.exp(-b[1] * x), mpmath.exp(-b[3] * x), mpmath.exp(-b[5] * x)]
            res.append(b[0] * e[0] + b[2] * e[1] + b[4] * e[2] - y)
            rows.append([e[0], -b[0] * x * e[0], e[1], -b[2] * x * e[1], e[2], -b[4] * x * e[2]])
        jac, r = mpmath.matrix(rows), mpmath.matrix(res)
        jtj = jac.T * jac
        step = mpmath.lu_solve(jtj, -(jac.T * r))
        b = [v + step[i] for i, v in enumerate(b)]
    rss = sum(v**2 for v in res)
    inverse = mpmath.inverse(jtj)
    return b, [mpmath.sqrt(inverse[i, i] * rss / (len(xs) - 6)) for i in range(6)]


def _relative(values, certified):
    return max(abs(v - mpmath.mpf(c)) / abs(mpmath.mpf(c)) for v, c in zip(values, certified))


def test_lanczos1_standard_deviations_are_limited_by_float64_data():
    p = load("Lanczos1")
    ytext, xtext = p.columns_text
    with mpmath.workdps(50):
        decimal = _exact_fit([mpmath.mpf(t) for t in xtext], [mpmath.mpf(t) for t in ytext], p.certified_text)
        binary = _exact_fit([mpmath.mpf(float(t)) for t in xtext], [mpmath.mpf(float(t)) for t in ytext],
                            p.certified_text)
        # the decimal data reproduce everything NIST certifies (11 digits, rounding of the file)
        assert _relative(decimal[0], p.certified_text) < 1e-10
        assert _relative(decimal[1], p.certified_stderr) < 1e-10
        # the float64 data: the values still to 10 digits, the standard deviations to 3.4 only
        assert _relative(binary[0], p.certified_text) < 1e-10
        assert 2e-4 < _relative(binary[1], p.certified_stderr) < 1e-3
