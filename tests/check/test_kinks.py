"""find_kinks: exact kinks, kinks crossed by the stencil, and no false alarms."""

import numpy as np
import sympy as sp

from symgrad.check._kinks import find_kinks

x, y, z = sp.symbols("x y z")


def kinks(expr, point, env=None, h=1e-6):
    point = np.asarray(point, dtype=float)
    wrt = [x, y][: len(point)]
    stencil = [point + s * h * e for e in np.eye(len(point)) for s in (1, -1)]
    return find_kinks(expr, wrt, point, stencil, env or {})


def test_max_of_three_reports_only_the_tied_pair():
    found = kinks(sp.Max(x, y, 5), [1.0, 1.0])
    assert found == ()  # x and y tie, but 5 wins
    found = kinks(sp.Max(x, y, 0), [1.0, 1.0])
    assert [k.where for k in found] == ["Max(0, x, y) at x - y = 0"]
    assert found[0].exact


def test_smooth_points_raise_no_alarm():
    assert kinks(sp.Abs(x) + sp.Max(x, y) + sp.Piecewise((x, x > 1), (1, True)), [-2.0, 3.0]) == ()


def test_stencil_crossing_is_not_exact():
    found = kinks(sp.Abs(x - 1e-8), [0.0, 0.0])
    assert len(found) == 1 and not found[0].exact
    assert "within the finite-difference step" in str(found[0])


def test_conditions_with_and_or_are_searched():
    expr = sp.Piecewise((x, sp.And(x > 0, y < 2)), (0, True))
    assert [k.where.split(" at ")[1] for k in kinks(expr, [0.5, 2.0])] == ["y - 2 = 0"]


def test_any_sample_of_the_data_counts():
    data = {z: np.array([3.0, -1.0, 2.0])}
    found = kinks(sp.Abs(x + z), [1.0], data)
    assert found[0].exact and found[0].where == "Abs(x + z) at x + z = 0 (in 1 of 3 samples)"
    assert kinks(sp.Abs(x + z), [1.5], data) == ()


def test_only_the_boundary_a_moved_parameter_reaches_is_crossed():
    # w0 sits 1e-8 from the kink of the first term; w1 moves the second term, far from its kink
    w0, w1 = sp.symbols("w0 w1")
    data = {z: np.array([1.0, 2.0, -3.0])}
    expr = sp.Abs(w0 - 1e-8) + sp.Max(0, w1 * z) + sp.Abs(w0 + w1 + 10)
    point = np.array([0.0, 0.5])
    stencil = [point + s * 1e-6 * e for e in np.eye(2) for s in (1, -1)]
    found = find_kinks(expr, [w0, w1], point, stencil, data)
    assert [k.where for k in found] == ["Abs(w0 - 1.0e-8) at w0 - 1.0e-8 = 0"]
    assert not found[0].exact
    # a kink reached only through the data at one sample, on the boundary exactly
    found = find_kinks(sp.Max(0, w1 * z + 1.5), [w0, w1], np.array([0.0, 0.5]), stencil, data)
    assert found[0].exact and found[0].where.endswith("(in 1 of 3 samples)")
