"""``engine="auto"``: the cost model of ``symgrad._engines`` picks the engine the bench found faster.

The expected engines are those ``bench/bench_engines.py`` measured faster per sample
(one thread, N = 10^5, the engines taking turns; docs/performance.md): the loops
engine for the tanh MLPs of the issue (2-16-16-1: 0.19 against 0.94 µs a sample)
and for the 64-32-10 ReLU network, whose straight-line program Numba would compile
for minutes; the straight-line engine for logistic regression, the NIST models and
the small MLPs. The linear model (d = 100) is a tie (median ratios 0.86 to 1.15 in
four runs): the model must see a near tie there, either engine being right.
Choosing needs no compilation, so each case costs milliseconds.
"""

from __future__ import annotations

import pytest
import sympy as sp

import symgrad as sg
from symgrad._engines import LOOPS_MARGIN, EngineCosts, engine_costs
from symgrad._expr import canonicalize
from symgrad.derive import lift


from engine_models import linear, logistic, relu_classifier, tanh_mlp


def nist_lanczos1():
    x, y = sp.symbols("x y")
    b = sp.symbols("b1:7")
    model = b[0] * sp.exp(-b[1] * x) + b[2] * sp.exp(-b[3] * x) + b[4] * sp.exp(-b[5] * x)
    return (model - y) ** 2, list(b), [x, y]


def nist_bennett5():
    x, y, b1, b2, b3 = sp.symbols("x y b1 b2 b3")
    return (b1 * (b2 + x) ** (-1 / b3) - y) ** 2, [b1, b2, b3], [x, y]


def nist_mgh09():
    x, y = sp.symbols("x y")
    b = sp.symbols("b1:5")
    return (b[0] * (x**2 + x * b[1]) / (x**2 + x * b[2] + b[3]) - y) ** 2, list(b), [x, y]


def nist_misra1a():
    x, y, b1, b2 = sp.symbols("x y b1 b2")
    return (b1 * (1 - sp.exp(-b2 * x)) - y) ** 2, [b1, b2], [x, y]


CASES = [
    ("MLP 2-16-16-1 tanh", lambda: tanh_mlp([2, 16, 16, 1]), "loops"),
    ("MLP 4-16-16-1 tanh", lambda: tanh_mlp([4, 16, 16, 1]), "loops"),
    ("MLP 64-32-10 ReLU", relu_classifier, "loops"),
    ("MLP 4-8-8-1 tanh", lambda: tanh_mlp([4, 8, 8, 1]), "scalar"),
    ("MLP 4-4-4-1 tanh", lambda: tanh_mlp([4, 4, 4, 1]), "scalar"),
    ("logistic d=10", logistic, "scalar"),
    ("NIST Misra1a", nist_misra1a, "scalar"),
    ("NIST MGH09", nist_mgh09, "scalar"),
    ("NIST Bennett5", nist_bennett5, "scalar"),
    ("NIST Lanczos1", nist_lanczos1, "scalar"),
]


@pytest.mark.parametrize(("name", "build", "faster"), CASES, ids=[c[0] for c in CASES])
def test_the_model_picks_the_engine_measured_faster(name, build, faster):
    expr, params, data = build()
    costs = engine_costs(lift(canonicalize(expr), params, data))
    assert costs.choice == faster, f"{name}: {costs!r}"


def test_a_measured_tie_is_near_a_tie_in_the_model():
    """linear d=100: both engines read 101 columns a sample and take the same time."""
    expr, params, data = linear()
    costs = engine_costs(lift(canonicalize(expr), params, data))
    assert 0.8 <= costs.scalar / costs.loops <= 1.25, repr(costs)


def test_objective_auto_runs_the_chosen_engine():
    expr, params, data = tanh_mlp([2, 16, 16, 1])
    assert sg.Objective(expr, params, data).engine == "loops"
    expr, params, data = nist_misra1a()
    assert sg.Objective(expr, params, data).engine == "scalar"


def test_the_choice_rule_reads_the_margin_and_the_gain():
    assert EngineCosts(scalar=100.0, loops=LOOPS_MARGIN * 100.0 - 1.0, gain=4.0).choice == "loops"
    assert EngineCosts(scalar=100.0, loops=LOOPS_MARGIN * 100.0 + 1.0, gain=4.0).choice == "scalar"
    assert EngineCosts(scalar=100.0, loops=1.0, gain=3.9).choice == "scalar"  # nothing shared to loop over
