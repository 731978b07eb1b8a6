"""sg.functions: each minimiser is a minimum, checked with exact SymPy arithmetic."""

import math

import pytest
import sympy as sp

from symgrad import functions

ALL = [
    functions.rosenbrock(),
    functions.rosenbrock(4),
    functions.himmelblau(),
    functions.beale(),
    functions.booth(),
    functions.matyas(),
    functions.sphere(),
    functions.sphere(3),
    functions.rastrigin(),
    functions.rastrigin(3),
    functions.three_hump_camel(),
]
IDS = [f"{f.name}{len(f.symbols)}" for f in ALL]


def _at_minimum(f):
    return {s: sp.nsimplify(v) for s, v in zip(f.symbols, f.x_min)}


@pytest.mark.parametrize("f", ALL, ids=IDS)
def test_value_at_the_minimiser_is_f_min_exactly(f):
    assert f.expr.subs(_at_minimum(f)) == sp.nsimplify(f.f_min)


@pytest.mark.parametrize("f", ALL, ids=IDS)
def test_gradient_vanishes_at_the_minimiser(f):
    point = _at_minimum(f)
    assert all(sp.diff(f.expr, s).subs(point) == 0 for s in f.symbols)


@pytest.mark.parametrize("f", ALL, ids=IDS)
def test_hessian_is_positive_semidefinite_at_the_minimiser(f):
    hessian = sp.hessian(f.expr, f.symbols).subs(_at_minimum(f))
    assert hessian.is_symmetric()
    assert hessian.is_positive_semidefinite


@pytest.mark.parametrize("f", ALL, ids=IDS)
def test_the_minimum_is_below_the_start_and_the_fields_fit(f):
    n = len(f.symbols)
    assert len(f.x_min) == len(f.x0) == len(f.domain) == n
    assert all(isinstance(v, float) for v in f.x_min + f.x0)
    assert all(lo < v < hi for v, (lo, hi) in zip(f.x0, f.domain))
    start = float(f.expr.subs(dict(zip(f.symbols, f.x0))))
    assert start > f.f_min
    assert f.expr.free_symbols == set(f.symbols)


def test_textbook_values_at_other_points():
    # Rosenbrock at the classic start (-1.2, 1): 100*(1 - 1.44)^2 + 2.2^2 = 24.2
    f = functions.rosenbrock()
    assert math.isclose(float(f.expr.subs(dict(zip(f.symbols, f.x0)))), 24.2)
    # Himmelblau's other minima are also zeros
    h = functions.himmelblau()
    x, y = h.symbols
    assert sp.N(h.expr.subs({x: -2.805118, y: 3.131312})) < 1e-9
    # Rastrigin at x = 1/2: 1/4 - 10*cos(pi) + 10 = 20.25
    r = functions.rastrigin(1)
    assert r.expr.subs(r.symbols[0], sp.Rational(1, 2)) == sp.Rational(81, 4)


def test_objects_are_frozen_and_printable():
    f = functions.booth()
    with pytest.raises(AttributeError):
        f.expr = 0
    assert "booth" in repr(f) and "(1.0, 3.0)" in repr(f)


@pytest.mark.parametrize("make, n", [(functions.rosenbrock, 1), (functions.sphere, 0),
                                     (functions.rastrigin, 2.0), (functions.sphere, True)])
def test_bad_dimension_is_a_value_error(make, n):
    with pytest.raises(ValueError, match="needs an int n"):
        make(n)
