"""Student-t and normal quantiles without SciPy, against t tables, closed forms and SciPy."""

import math

import mpmath
import numpy as np
import pytest
import scipy.stats

from symgrad.optimize._quantiles import LARGE_DOF, normal_quantile, student_t_quantile, two_sided_normal_p

# Two-sided critical values of the t table (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
T_TABLE = [
    (0.975, 1, 12.706), (0.975, 2, 4.303), (0.975, 5, 2.571), (0.975, 10, 2.228), (0.975, 30, 2.042),
    (0.95, 5, 2.015), (0.95, 12, 1.782), (0.995, 30, 2.750), (0.995, 3, 5.841), (0.9, 20, 1.325),
]


@pytest.mark.parametrize("p, dof, value", T_TABLE)
def test_t_table(p, dof, value):
    assert student_t_quantile(p, dof) == pytest.approx(value, abs=5e-4)
    assert student_t_quantile(1 - p, dof) == pytest.approx(-value, abs=5e-4)


@pytest.mark.parametrize("p", [0.5001, 0.6, 0.8, 0.975, 0.999, 1 - 1e-7])
def test_closed_forms_of_one_and_two_degrees_of_freedom(p):
    with mpmath.workdps(40):  # the closed forms at 40 digits (in float64, tan loses digits near its pole)
        q = mpmath.mpf(p)
        cauchy = float(mpmath.tan(mpmath.pi * (q - mpmath.mpf(1) / 2)))
        two = float((2 * q - 1) / mpmath.sqrt(2 * q * (1 - q)))
    assert student_t_quantile(p, 1) == pytest.approx(cauchy, rel=1e-13)
    assert student_t_quantile(p, 2) == pytest.approx(two, rel=1e-13)


@pytest.mark.parametrize("dof", [0.7, 3.5, 17.0, 250.0, LARGE_DOF - 1, LARGE_DOF + 1, 5e4, 1e9])
@pytest.mark.parametrize("p", [0.55, 0.9, 0.975, 0.9999])
def test_agrees_with_scipy(p, dof):
    assert student_t_quantile(p, dof) == pytest.approx(scipy.stats.t.ppf(p, dof), rel=1e-11)


def test_normal_quantile_and_p_value():
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-14)
    assert student_t_quantile(0.975, math.inf) == normal_quantile(0.975)
    for z in (0.0, 0.5, 1.96, 4.0, 9.0):
        assert two_sided_normal_p(z) == pytest.approx(2 * scipy.stats.norm.sf(z), rel=1e-12)
    assert two_sided_normal_p(-1.0) == two_sided_normal_p(1.0)
    assert np.isclose(student_t_quantile(0.5, 7), 0.0)


@pytest.mark.parametrize("p, dof", [(0.0, 3), (1.0, 3), (0.5, 0), (0.5, -1)])
def test_out_of_range(p, dof):
    with pytest.raises(ValueError):
        student_t_quantile(p, dof)
