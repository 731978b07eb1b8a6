"""Exact derivatives: textbook results written from calculus, kinks, errors, no swell."""

import math
import random

import numpy as np

import pytest
import sympy as sp

import symgrad as sg
from symgrad.derive import derive

x, y, z, a, b = sp.symbols("x y z a b")


def equal(e1, e2):
    return sp.simplify(sp.expand(e1 - e2)) == 0


# (expression, variable, derivative written by hand from the rules of calculus)
TEXTBOOK = [
    (x**5, x, 5 * x**4),  # power rule
    (7 * x**3 - 2 * x + 4, x, 21 * x**2 - 2),  # sum and constant rules
    (sp.sqrt(x), x, 1 / (2 * sp.sqrt(x))),
    (1 / x, x, -1 / x**2),
    (x**2 * sp.sin(x), x, 2 * x * sp.sin(x) + x**2 * sp.cos(x)),  # product rule
    (sp.sin(x) / x, x, (x * sp.cos(x) - sp.sin(x)) / x**2),  # quotient rule
    (sp.exp(3 * x**2), x, 6 * x * sp.exp(3 * x**2)),  # chain rule
    (sp.log(sp.cos(x)), x, -sp.tan(x)),
    (sp.tan(x), x, 1 + sp.tan(x) ** 2),
    (sp.asin(x), x, 1 / sp.sqrt(1 - x**2)),
    (sp.acos(x), x, -1 / sp.sqrt(1 - x**2)),
    (sp.atan(x), x, 1 / (1 + x**2)),
    (sp.sinh(x), x, sp.cosh(x)),
    (sp.cosh(x), x, sp.sinh(x)),
    (sp.tanh(x), x, 1 - sp.tanh(x) ** 2),
    (sp.asinh(x), x, 1 / sp.sqrt(x**2 + 1)),
    (sp.acosh(x), x, 1 / (sp.sqrt(x - 1) * sp.sqrt(x + 1))),  # = 1/sqrt(x²-1) for x > 1
    (sp.atanh(x), x, 1 / (1 - x**2)),
    # symbolic exponent: x^y log x, and its limit 0 at x = 0 (where SymPy's form is 0*(-inf))
    (x**y, y, sp.Piecewise((0, sp.Eq(x, 0)), (x**y * sp.log(x), True))),
    (x**y, x, y * x ** (y - 1)),
    (2**x, x, 2**x * sp.log(2)),
    (sp.pi * sp.E * x, x, sp.pi * sp.E),
    (1 / (1 + sp.exp(-x)), x, sp.exp(-x) / (1 + sp.exp(-x)) ** 2),  # sigmoid
    (x**2 * sp.sin(y), y, x**2 * sp.cos(y)),  # a partial derivative
    (x**2 * sp.sin(y), x, 2 * x * sp.sin(y)),
]


@pytest.mark.parametrize("expr, var, expected", TEXTBOOK, ids=[str(t[0]) for t in TEXTBOOK])
def test_textbook_derivatives(expr, var, expected):
    assert equal(sg.gradient(expr, [var])[0], expected)


def test_rosenbrock_gradient_and_hessian_from_calculus():
    f = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    g = sg.gradient(f, [x, y])
    assert g.shape == (2, 1)
    assert equal(g[0], -2 * (1 - x) - 400 * x * (y - x**2))
    assert equal(g[1], 200 * (y - x**2))
    h = sg.hessian(f, [x, y])
    assert equal(h[0, 0], 2 - 400 * y + 1200 * x**2)
    assert equal(h[0, 1], -400 * x) and equal(h[1, 0], -400 * x)
    assert h[1, 1] == 200


def test_hessian_is_symmetric_and_matches_second_partials():
    f = sp.exp(x * y) * sp.sin(z) + x**3 * z
    h = sg.hessian(f, [x, y, z])
    assert h == h.T
    for i, u in enumerate((x, y, z)):
        for j, v in enumerate((x, y, z)):
            assert equal(h[i, j], sp.diff(f, u, v))


def test_jacobian_of_polar_coordinates_and_matrix_input():
    r, phi = sp.symbols("r phi")
    j = sg.jacobian([r * sp.cos(phi), r * sp.sin(phi)], [r, phi])
    assert j.shape == (2, 2)
    assert equal(j.det(), r)  # the area element of polar coordinates
    j2 = sg.jacobian(sp.Matrix([x * y, x + y, sp.exp(x)]), [x, y])
    assert j2 == sp.Matrix([[y, x], [1, 1], [sp.exp(x), 0]])


def test_results_come_back_in_the_callers_symbols():
    g = sg.gradient(sp.Abs(x) + y**2, [x, y])
    assert g.free_symbols == {x, y}
    assert g[0] == sp.sign(x)  # real convention, not SymPy's complex formula


def test_symbols_with_assumptions_are_kept():
    p = sp.Symbol("p", positive=True)
    g = sg.gradient(sp.log(p) * x, [p, x])
    assert g.free_symbols == {p, x}
    assert equal(g[0], x / p)


RELU_FORMS = [
    sp.Max(0, z),
    sp.Max(z, 0),
    sp.Piecewise((z, z > 0), (0, True)),
    sp.Piecewise((z, z >= 0), (0, True)),
    sp.Piecewise((0, z < 0), (z, True)),
    sp.Piecewise((0, z <= 0), (z, True)),
    sp.Piecewise((z, 0 <= z), (0, True)),
    z * sp.Heaviside(z),
]


@pytest.mark.parametrize("relu", RELU_FORMS, ids=str)
def test_every_relu_form_has_slope_zero_at_zero_in_kernels_objectives_and_autograd(relu):
    from symgrad import autograd as ag

    slope = sg.compile(sg.gradient(relu, [z]), [z])
    assert slope(0.0).tolist() == [0.0] and slope(2.0).tolist() == [1.0] and slope(-2.0).tolist() == [0.0]
    assert ag.grad(relu, [z], [0.0]).tolist() == [0.0]
    w = sp.Symbol("w")
    for engine in ("scalar", "loops"):
        obj = sg.Objective(relu.subs(z, w * z), [w], [z], engine=engine)
        assert obj.grad([0.0], np.array([1.0, 2.0])).tolist() == [0.0]  # w*z = 0 at w = 0: the kink
        assert obj.grad([1.0], np.array([1.0, 2.0])).tolist() == [1.5]  # mean of z where w*z > 0


def test_a_clamp_written_as_piecewise_follows_min_at_its_corner():
    clamp = sp.Piecewise((z, z <= 1), (1, True))  # Min(z, 1): slope 0 at the corner, as for Min
    assert [float(sg.gradient(clamp, [z])[0].subs(z, v)) for v in (0.5, 1, 2)] == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("relu", RELU_FORMS, ids=str)
def test_every_relu_form_has_derivative_zero_at_zero(relu):
    d = sg.gradient(relu, [z])[0]
    assert d.subs(z, 0) == 0
    assert d.subs(z, 2) == 1
    assert d.subs(z, -2) == 0


def test_gradient_with_respect_to_no_symbols_is_zero_by_one():
    assert sg.gradient(x**2, []).shape == (0, 1)
    assert sg.jacobian([x, x**2], []).shape == (2, 0)


def test_abs_sign_heaviside_conventions():
    assert sg.gradient(sp.Abs(z), [z])[0].subs(z, 0) == 0
    assert sg.gradient(sp.sign(z), [z])[0] == 0
    assert sg.gradient(sp.Heaviside(z), [z])[0] == 0
    # the one-argument Heaviside is 0 at 0 in derivatives too
    assert sg.gradient(z * sp.Heaviside(z), [z])[0].subs(z, 0) == 0
    # an explicit second argument is kept
    assert sg.gradient(z * sp.Heaviside(z, 1), [z])[0].subs(z, 0) == 1


def test_max_min_ties_share_the_slope_except_against_a_number():
    gmax = sg.gradient(sp.Max(x, y), [x, y])
    gmin = sg.gradient(sp.Min(x, y), [x, y])
    half = sp.Rational(1, 2)
    assert [g.subs({x: 1, y: 1}) for g in gmax] == [half, half]
    assert [g.subs({x: 1, y: 1}) for g in gmin] == [half, half]
    assert sg.gradient(sp.Max(x, 0), [x])[0].subs(x, 0) == 0  # relu'(0) = 0
    assert sg.gradient(sp.Min(x, 1), [x])[0].subs(x, 1) == 0
    third = sp.Rational(1, 3)
    assert [g.subs({x: 1, y: 1}) for g in sg.gradient(sp.Max(x, y, x**2), [x, y])] == [third + 2 * third, third]
    assert [g.subs({x: 0, y: 0}) for g in sg.gradient(sp.Max(x, y, 0), [x, y])] == [0, 0]
    # equal on a whole interval: Max(x, |x|) = |x|, slope 1 for x > 0
    assert sg.gradient(sp.Max(x, sp.Abs(x)), [x])[0].subs(x, sp.Rational(7, 10)) == 1
    assert [g.subs({x: 2, y: 1}) for g in gmax] == [1, 0]
    assert [g.subs({x: 2, y: 1}) for g in gmin] == [0, 1]


def test_piecewise_derivative_is_the_branch_taken():
    f = sp.Piecewise((x**2, x < 1), (3 * x, True))
    d = sg.gradient(f, [x])[0]
    assert d.subs(x, sp.Rational(1, 2)) == 1
    assert d.subs(x, 2) == 3


@pytest.mark.parametrize("bad", ["x**2", 3, 2.5])
def test_text_and_numbers_are_type_errors_pointing_at_parse(bad):
    with pytest.raises(TypeError, match="parse"):
        sg.gradient(bad, [x])


def test_wrt_must_hold_symbols():
    with pytest.raises(TypeError, match=r"wrt\[1\] must be a SymPy Symbol"):
        sg.gradient(x * y, [x, x * y])
    with pytest.raises(ValueError, match="twice"):
        sg.gradient(x * y, [x, x])


def test_unsupported_function_is_named():
    with pytest.raises(sg.UnsupportedFunctionError, match="zeta"):
        sg.gradient(sp.zeta(x), [x])
    with pytest.raises(NotImplementedError, match="besselj"):
        sg.gradient(sp.besselj(1, x), [x])


def _random_expr(rng, depth, symbols):
    if depth == 0:
        return rng.choice(symbols + [sp.Rational(rng.randint(1, 5), rng.randint(1, 3))])
    op = rng.choice(["add", "mul", "sin", "exp", "tanh", "pow", "div"])
    left = _random_expr(rng, depth - 1, symbols)
    if op == "add":
        return left + _random_expr(rng, depth - 1, symbols)
    if op == "mul":
        return left * _random_expr(rng, depth - 1, symbols)
    if op == "div":
        return left / (2 + sp.sin(_random_expr(rng, depth - 1, symbols)))
    if op == "pow":
        return left ** rng.randint(2, 3)
    return {"sin": sp.sin, "exp": sp.exp, "tanh": sp.tanh}[op](left)


@pytest.mark.parametrize("seed", range(12))
def test_random_expressions_equal_sympy_diff(seed):
    rng = random.Random(seed)
    symbols = [x, y, z]
    f = _random_expr(rng, 4, symbols)
    g = sg.gradient(f, symbols)
    point = {s: sp.Rational(rng.randint(-9, 9), 7) for s in symbols}
    for gi, s in zip(g, symbols):
        exact = sp.diff(f, s).subs(point)
        assert abs(sp.N(gi.subs(point) - exact, 30)) < 1e-20


def _tanh_mlp(width):
    xs = sp.symbols("x0:4")
    params, h = [], list(xs)
    for layer, (m, n) in enumerate([(4, width), (width, width), (width, 1)]):
        w = [[sp.Symbol(f"W{layer}_{j}_{i}") for i in range(m)] for j in range(n)]
        c = [sp.Symbol(f"b{layer}_{j}") for j in range(n)]
        params += [v for row in w for v in row] + c
        pre = [sp.Add(*[w[j][i] * h[i] for i in range(m)], c[j]) for j in range(n)]
        h = [sp.tanh(v) for v in pre] if layer < 2 else pre
    return (h[0] - sp.Symbol("y")) ** 2, params


def test_gradient_program_grows_like_the_expression_not_n_times():
    sizes = {}
    for width in (4, 8):
        loss, params = _tanh_mlp(width)
        program = derive([loss], params)
        forward = derive([loss], ())
        sizes[width] = (len(params), len(forward.assignments), len(program.assignments))
    for n, forward, total in sizes.values():
        # reverse accumulation: a constant number of statements per forward node
        assert total <= 4 * forward, (n, forward, total)


def test_symbolic_power_has_its_limits_at_a_zero_base():
    """x**y at x = 0, y > 0 is 0 along both axes, and so are its first and second derivatives."""
    grad = sg.compile(sg.gradient(x**y, [x, y]), [x, y])
    hess = sg.compile(sg.hessian(x**y, [x, y]), [x, y])
    assert np.array_equal(grad(0.0, 2.0), [0.0, 0.0])
    assert np.array_equal(grad(0.0, 1.0), [1.0, 0.0])  # f = x: df/dx = 1
    assert np.array_equal(hess(0.0, 2.5), np.zeros((2, 2)))
    # away from 0, the textbook formulas: y x^(y-1), x^y log x; y(y-1) x^(y-2), x^(y-1)(1 + y log x), x^y log^2 x
    p, q = 1.3, 2.5
    assert np.allclose(grad(p, q), [q * p ** (q - 1), p**q * math.log(p)], rtol=1e-14, atol=0)
    expected = [[q * (q - 1) * p ** (q - 2), p ** (q - 1) * (1 + q * math.log(p))],
                [p ** (q - 1) * (1 + q * math.log(p)), p**q * math.log(p) ** 2]]
    assert np.allclose(hess(p, q), expected, rtol=1e-14, atol=0)
