"""lift: families of identical subexpressions, their index maps and derivatives.

Expected structures come from the definitions of the layers (a dense layer of n
units over m inputs is one family of n sums of m products; the weight of unit k and
input i is parameter m*k + i), not from running lift.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.derive import lift
from symgrad.derive._families import R_MIN, IndexMap


def dense_relu(n_in, n_out):
    x = list(sp.symbols(f"x0:{n_in}"))
    h, params = sg.nn.dense(x, n_out, activation=sg.nn.relu, name="W")
    return sp.Add(*h), params, x


def index_values(im: IndexMap, size: int, length: int) -> np.ndarray:
    if im.table is not None:
        return np.array(im.table).reshape(size, max(length, 1))
    k = np.arange(size)[:, None]
    m = np.arange(max(length, 1))[None, :]
    return im.start + im.step * k + im.inner * m


def test_a_dense_layer_is_one_family_of_sums_with_affine_indices():
    expr, params, data = dense_relu(6, 5)
    program = lift(expr, params, data)
    sums = [f for f in program.families if f.reduce == "add" and f.length == 6]
    assert len(sums) == 1
    f = sums[0]
    assert f.size == 5
    by_source = {s.source: s for s in f.term_slots}
    weights = index_values(by_source["theta"].index, 5, 6)
    inputs = index_values(by_source["data"].index, 5, 6)
    # unit k, term m: weight W_k_i is parameter 6k + i and reads input x_i
    k, i = np.meshgrid(np.arange(5), np.arange(6), indexing="ij")
    assert np.array_equal(weights[k, i], 6 * k + inputs[k, i])
    assert sorted(inputs[0]) == list(range(6))
    # the bias of unit k is parameter 30 + k, read by the value template
    (bias,) = [s for s in f.slots if s.source == "theta"]
    assert np.array_equal(index_values(bias.index, 5, 0)[:, 0], 30 + np.arange(5))


def test_the_program_is_far_shorter_than_the_expression():
    expr, params, data = dense_relu(20, 30)
    program = lift(expr, params, data)
    assert program.nodes > 30 * 20
    assert len(program.families) <= 4
    assert program.families[-1].size == 1  # the expression's value


def test_fewer_than_r_min_equal_terms_are_not_a_reduction():
    a = sp.symbols(f"a0:{R_MIN - 1}")
    xs = sp.symbols(f"x0:{R_MIN - 1}")
    expr = sp.Add(*[ai * xi for ai, xi in zip(a, xs)])
    program = lift(expr, a, xs)
    assert all(f.reduce is None for f in program.families)


def test_a_convolution_reads_its_inputs_through_a_table():
    grid = [[sp.Symbol(f"p{r}_{c}") for c in range(5)] for r in range(5)]
    maps, params = sg.nn.conv2d(grid, 2, activation=sg.nn.relu)
    data = [s for row in grid for s in row]
    program = lift(sp.Add(*sg.nn.flatten(maps)), params, data)
    (f,) = [f for f in program.families if f.reduce == "add" and f.size == 16]
    assert f.length == 4
    (pixels,) = [s for s in f.term_slots if s.source == "data"]
    table = index_values(pixels.index, 16, 4)
    # output (r, c) reads pixels (r + p, c + q), p, q in {0, 1}, in some order
    for k in range(16):
        r, c = divmod(k, 4)
        assert sorted(table[k]) == sorted(5 * (r + p) + c + q for p in (0, 1) for q in (0, 1))


def test_maxima_and_minima_over_many_arguments_become_reductions():
    xs = sp.symbols("x0:6")
    w = sp.Symbol("w")
    expr = sp.Max(*[w * xi for xi in xs]) - sp.Min(*[w + xi for xi in xs])
    program = lift(expr, [w], xs)
    assert sorted(f.reduce for f in program.families if f.reduce) == ["max", "min"]


@pytest.mark.parametrize("expr, active", [(sp.Symbol("w"), True), (sp.Integer(3), False), (sp.Symbol("x"), False)])
def test_a_bare_symbol_or_number_is_a_program_of_one_family(expr, active):
    program = lift(expr, [sp.Symbol("w")], [sp.Symbol("x")])
    assert len(program.families) == 1
    assert program.families[0].active is active


def test_template_derivatives_follow_the_kink_conventions():
    expr, params, data = dense_relu(5, 4)
    program = lift(expr, params, data)
    # the four relu units are the terms of the outer sum, reading the pre-activations
    (outer,) = [f for f in program.families if f.reduce == "add" and f.length == 4]
    assert isinstance(outer.term, sp.Max)
    (u,) = [s.symbol for s in outer.term_slots]
    (d,) = outer.d_term
    # relu'(z) = 1 for z > 0 and 0 for z <= 0 (relu'(0) = 0)
    assert [d.subs(u, z) for z in (-1, 0, 2)] == [0, 0, 1]
