"""Defects the differential harness found: regression tests for the fixed ones, and the
ones not fixed yet pinned as strict xfails.

Each test asserts the correct behaviour; ``strict=True`` makes the xfail fail as soon
as its defect is fixed, so the mark (and the generator's exclusion in
``generated.py``) is then removed.
"""

import sympy as sp

import symgrad as sg
from oracle import TOLERANCE, derivatives, rel_error

x, y = sp.symbols("x y")


def test_gradient_of_a_piecewise_exponent_compiles():
    """Fixed: the d/de rule of b**e tested b**e == 0, an ITE once e is a Piecewise; it tests b."""
    expr = x ** sp.Piecewise((y, y > 0), (2, True))
    kernel = sg.compile(sg.gradient(expr, [x, y]), [x, y])
    exact = derivatives(expr, [x, y], {x: 1.5, y: 0.5})
    for got, g, m in zip(kernel(1.5, 0.5), exact["grad"], exact["grad_M"]):
        assert rel_error(got, g, m) <= TOLERANCE


def test_piecewise_in_a_condition_is_supported():
    """Fixed: SymPy writes a comparison of a Piecewise as ITE, which was refused; it is
    rewritten as And/Or/Not of the branches' comparisons."""
    expr = sp.Piecewise((x * y, sp.Piecewise((y, y > 0), (x, True)) > 0), (y, True))
    grad = sg.gradient(expr, [x, y])
    assert grad.subs({x: 1.5, y: 0.5}) == sp.Matrix([0.5, 1.5])
    # the three regions: y > 0 and (y <= 0, x > 0) take x*y, (y <= 0, x <= 0) takes y
    kernel = sg.compile(grad, [x, y])
    objective = sg.Objective(expr, [x, y])
    for point, exact in [((1.5, 0.5), [0.5, 1.5]), ((1.5, -0.5), [-0.5, 1.5]), ((-1.5, -0.5), [0.0, 1.0])]:
        assert kernel(*point).tolist() == exact
        assert objective.value_and_grad(list(point))[1].tolist() == exact


def test_loops_engine_abs_of_a_symbolic_power():
    """Fixed: the loops engine differentiated Abs(b**e) with re() and im(); now as u*sign(u)."""
    import numpy as np

    p, q = sp.symbols("p0:4"), sp.symbols("q0:4")
    expr = sum(sp.Abs(p[k] ** q[k]) for k in range(4))
    obj = sg.Objective(expr, p, q, engine="loops")
    _, grad = obj.value_and_grad([1.5] * 4, *[np.array([0.5])] * 4)
    exact = derivatives(sp.Abs(x**y), [x], {x: 1.5, y: 0.5})
    assert all(rel_error(g, exact["grad"][0], exact["grad_M"][0]) <= TOLERANCE for g in grad)


def test_a_branch_not_taken_passes_no_nan_back():
    """Fixed: the adjoint 0 of an untaken branch times log's 1/0 was NaN; the product is now
    written inside the branches, so the 0 is selected, never multiplied."""
    p1, p2 = sp.symbols("p1 p2")
    expr = sp.Piecewise((p2, p1 > 0), (sp.log(p2), True))
    assert sg.compile(sg.gradient(expr, [p1, p2]), [p1, p2])(1.0, 0.0).tolist() == [0.0, 1.0]
    assert sg.Objective(expr, [p1, p2]).value_and_grad([1.0, 0.0])[1].tolist() == [0.0, 1.0]
    # relu of a logarithm at x = 0: max(0, -inf) = 0, and no slope
    assert sg.compile(sg.gradient(sp.Max(0, sp.log(x)), [x]), [x])(0.0).tolist() == [0.0]


def test_a_factor_of_untaken_branches_passes_no_nan_back():
    """Found by bench/differential.py (seed 7), fixed: the two first branches share the
    factor p0**(-2/3), whose adjoint is a sum of two selecting Piecewise; the derivative
    wrote -2/(3 p0**(5/3)) times that sum, outside the branches, NaN at p0 < 0 while the
    branch taken (sin) does not depend on p0. Now each selecting term of an adjoint
    carries the product inside its own branches."""
    p0, p1 = sp.symbols("p0 p1")
    c = p1 * sp.exp(2)
    expr = sp.Piecewise((p0 ** sp.Rational(-2, 3), c < sp.Rational(1, 2)), (c / p0 ** sp.Rational(2, 3), c < 2), (sp.sin(c), True))
    at = (-1.25, 1.75)  # c = 12.9: the sin branch
    exact = derivatives(expr, [p0, p1], {p0: at[0], p1: at[1]})
    got = sg.compile(sg.gradient(expr, [p0, p1]), [p0, p1])(*at)
    assert all(rel_error(g, e, m) <= TOLERANCE for g, e, m in zip(got, exact["grad"], exact["grad_M"]))
    _, got = sg.Objective(expr, [p0, p1]).value_and_grad(list(at))
    assert all(rel_error(g, e, m) <= TOLERANCE for g, e, m in zip(got, exact["grad"], exact["grad_M"]))


def test_a_zero_weight_times_a_logarithm_passes_no_nan_back():
    """Fixed: binary cross-entropy at a sure and right prediction (p = 0 for t = 0) had a NaN
    gradient on the scalar engine. The term t log p is 0 for t = 0 (0 log 0 = 0); its adjoint
    Piecewise((0, Eq(t, 0)), (-1, True)) times the factor t lost its selection, and that
    product times log's 1/p was 0 * inf at p = 0. A factor times a selecting adjoint now
    selects in the same branches. The exact derivatives, with the t log p term 0 for t = 0:
    d/dp (-(1 - t) log(1 - p)) = (1 - t)/(1 - p) = 1, and d2/dp2 = (1 - t)/(1 - p)**2 = 1."""
    import numpy as np

    p, t, w = sp.symbols("p t w")
    bce = sg.losses.binary_cross_entropy(p, t)
    for engine in ("scalar", "loops"):
        objective = sg.Objective(bce, [p], [t], engine=engine)
        assert objective.value_and_grad([0.0], np.array([0.0]))[1].tolist() == [1.0], engine
        assert objective.hessian([0.0], np.array([0.0])).tolist() == [[1.0]], engine
    assert sg.compile(sg.gradient(bce, [p]), [p, t])(0.0, 0.0).tolist() == [1.0]
    assert sg.compile(sg.hessian(bce, [p]), [p, t])(0.0, 0.0).tolist() == [1.0]  # (1, 1): a column
    # through a model: p = w x, at w = 0 (every prediction 0) with targets 0, dL/dw = mean(x)
    model = sg.losses.binary_cross_entropy(w * x, t)
    _, grad = sg.Objective(model, [w], [x, t], engine="scalar").value_and_grad([0.0], np.array([1.0, 2.0]), np.zeros(2))
    assert grad.tolist() == [1.5]


def test_a_symbol_times_an_untaken_branch_passes_no_nan_back():
    """Fixed with the zero weight above: Piecewise((p1**2, p0 > 0), (s*sqrt(-p0), True)) at
    p0 > 0, s a parameter or a data symbol. The adjoint of s*sqrt(-p0) selects 0; times s
    (a symbol, so a finite factor) it was written as a plain product, and that times
    sqrt's slope -1/(2 sqrt(-p0)), NaN at p0 > 0, was NaN in the compiled gradient, the
    Hessian and the objective. Exact (the first branch holds): d/dp0 = 0, d/dp1 = 2 p1,
    d2/dp1^2 = 2, the rest 0."""
    import numpy as np

    p0, p1, x0 = sp.symbols("p0 p1 x0")
    for s in (x0, p1):
        expr = sp.Piecewise((p1**2, p0 > 0), (s * sp.sqrt(-p0), True))
        args = [p0, p1, x0]
        assert sg.compile(sg.gradient(expr, [p0, p1]), args)(0.5, 1.5, 2.0).tolist() == [0.0, 3.0]
        assert sg.compile(sg.hessian(expr, [p0, p1]), args)(0.5, 1.5, 2.0).tolist() == [[0.0, 0.0], [0.0, 2.0]]
        for engine in ("scalar", "loops"):
            objective = sg.Objective(expr, [p0, p1], [x0], engine=engine)
            value, grad = objective.value_and_grad([0.5, 1.5], np.array([2.0]))
            assert (value, grad.tolist()) == (2.25, [0.0, 3.0]), engine
            assert objective.hessian([0.5, 1.5], np.array([2.0])).tolist() == [[0.0, 0.0], [0.0, 2.0]], engine
    # the same branch under a Min, whose selection holds the Piecewise's: Min(q, Piecewise)
    # takes p0 (x0 > 0, p0 < q), so d/dp0 = 1; sqrt(-x0)'s slope stays inside both selections
    expr = sp.Min((p0**2 + 1) ** sp.Rational(1, 4), sp.Piecewise((p0, x0 > 0), (p0 * sp.sqrt(-x0), True)))
    assert sg.compile(sg.gradient(expr, [p0]), [p0, x0])(-0.45, 1.17).tolist() == [1.0]
    assert sg.Objective(expr, [p0], [x0]).value_and_grad([-0.45], np.array([1.17]))[1].tolist() == [1.0]


def test_a_piecewise_in_two_untaken_branches_passes_no_nan_back():
    """Found by bench/differential.py (seed 13), fixed: an inner Piecewise used in two
    branches of an outer one has as adjoint a sum of two selections; a branch of the inner
    one held that sum as a symbol, which hid its zero where neither outer branch is
    taken, and times sqrt(sin(E p0))'s slope (NaN where sin < 0) gave NaN. Such held
    selections are now written out too. At the point the outer third branch,
    sin(exp(x2) + 1), holds: d/dp0 = 0."""
    import numpy as np

    p0, x0, x2 = sp.symbols("p0 x0 x2")
    half = sp.Rational(1, 2)
    inner = sp.Piecewise((sp.sqrt(x0), sp.E * p0 < half), (sp.sqrt(p0 * x0) * sp.exp(half), sp.E * p0 < 2), (sp.sqrt(sp.sin(sp.E * p0)), True))
    expr = sp.Piecewise((inner, sp.exp(x2) < -half), ((sp.exp(x2) + 1) * inner, sp.exp(x2) < 1), (sp.sin(sp.exp(x2) + 1), True))
    # sin(E*1.35) < 0; then sqrt(p0*x0) at x0 < 0 in the inner second branch (E*0.51 < 2),
    # whose adjoint is the two outer selections written out; exp(x2) > 1 at both
    for at in ((1.35, 1.0, 1.84), (0.51, -1.0, 0.38)):
        assert sg.compile(sg.gradient(expr, [p0]), [p0, x0, x2])(*at).tolist() == [0.0], at
        objective = sg.Objective(expr, [p0], [x0, x2])
        _, grad = objective.value_and_grad([at[0]], np.array([at[1]]), np.array([at[2]]))
        assert grad.tolist() == [0.0], at
        assert objective.hessian([at[0]], np.array([at[1]]), np.array([at[2]])).tolist() == [[0.0]], at


def test_autograd_passes_nothing_back_through_a_step():
    """Found by the harness (x1*sign(p0**p0) at p0 = -1), fixed: the tensor engine passed
    sign's zero slope on to p0**p0, whose slope in the exponent holds log(-1), and 0 * NaN
    was NaN. A step (sign, Heaviside, floor, ...) now passes nothing back, as the tape
    engine and the symbolic rule (sign' = 0) do: d/dp0 = 0, d/dx1 = sign((-1)**(-1)) = -1."""
    import numpy as np

    p0, x1 = sp.symbols("p0 x1")
    expr = x1 * sp.sign(p0**p0)
    assert sg.autograd.grad(expr, [p0, x1], [-1.0, 2.5]).tolist() == [0.0, -1.0]
    p = sg.autograd.Tensor(-1.0, requires_grad=True)
    (p**p).sign().backward()
    assert p.grad == 0.0
    floor = sg.autograd.grad(x1 * sp.floor(p0**p0), [p0], {p0: -1.0, x1: 2.5})
    assert floor.tolist() == [0.0]
    _, grad = sg.Objective(expr, [p0], [x1]).value_and_grad([-1.0], np.array([2.5]))
    assert grad.tolist() == [0.0]


def test_max_of_two_equal_functions_has_their_slope():
    """Found by bench/differential.py (seed 7), fixed: Max(p*sign(p), Abs(p)) is |p| for
    every real p, differentiable away from 0 with slope sign(p); the old tie convention
    (0 at every tie, so that relu'(0) = 0) met a tie at every point and gave 0 in the
    closed form, the kernels, the objective and the autograd engine. Now tied
    arguments share the slope (the mean of equal slopes is their slope) and only a
    tied number takes it all. (The harness counts the kinks of the caller's tree, so
    such points are not drawn there.)"""
    p = sp.Symbol("p")
    expr = sp.Max(p * sp.sign(p), sp.Abs(p))
    assert sg.compile(sg.gradient(expr, [p]), [p])(0.5) == [1.0]
    assert sg.autograd.grad(expr, [p], [0.5]).tolist() == [1.0]
    assert sg.Objective(expr, [p]).grad([-0.5]).tolist() == [-1.0]
    assert sg.Objective(expr, [p], engine="loops").grad([-0.5]).tolist() == [-1.0]
    assert sg.gradient(expr, [p])[0].subs(p, sp.Rational(-1, 2)) == -1


def test_autograd_zero_slope_into_a_singular_sqrt():
    """Found by the default run, fixed: sqrt(x*sign(p)) at x = 0 does not depend on p
    (it is 0 for every p != 0), so d/dp = 0. The engine's reverse pass met sqrt's
    infinite adjoint times x = 0 (NaN, raised as an invalid operation), which sign's
    zero derivative then absorbs; the pass now runs in IEEE arithmetic without traps,
    and only a NaN that reaches the gradient is seen. (The compiled path writes
    sign' = 0 symbolically.)"""
    p = sp.Symbol("p")
    assert sg.autograd.grad(sp.sqrt(x * sp.sign(p)), [p], {p: 0.5, x: 0.0}).tolist() == [0.0]


def test_a_symbolic_power_in_an_untaken_branch_passes_no_nan_back():
    """Found by the seeded batches of the default run (seed 1277846232547), fixed: d/de of
    b**e is Piecewise((0, Eq(b, 0)), (b**e*log(b), True)), which selects; the product
    with an adjoint that itself selects 0 (the branch p0 > 0 is not taken) was written
    as the adjoint times log(p0) inside that one Piecewise, NaN at p0 < 0 while the
    taken branch does not depend on p0 through the power."""
    p0, p1 = sp.symbols("p0 p1")
    u = sp.tanh(sp.Min(-3 * p0, p0)) + 2
    expr = sp.Piecewise((p0**u, p0 > 0), (p1**u, True))
    at = (-0.4269198156257108, 1.1149395385536853)
    exact = derivatives(expr, [p0, p1], {p0: at[0], p1: at[1]})
    got = sg.compile(sg.gradient(expr, [p0, p1]), [p0, p1])(*at)
    assert all(rel_error(g, e, m) <= TOLERANCE for g, e, m in zip(got, exact["grad"], exact["grad_M"]))
    _, got = sg.Objective(expr, [p0, p1]).value_and_grad(list(at))
    assert all(rel_error(g, e, m) <= TOLERANCE for g, e, m in zip(got, exact["grad"], exact["grad_M"]))


def test_a_power_in_a_piecewise_inside_an_untaken_branch_passes_no_nan_back():
    """Found by bench/differential.py (seed 21), fixed: the inner Piecewise's first branch
    p0**u sits in the untaken branch of the outer one (x0 > 0 is taken). Its adjoint is
    Piecewise((a, p0 < 1/2), (0, True)) with a the outer selection Piecewise((0, x0 > 0),
    (1, True)); read as a symbol, a hid its zero, and a times log(p0) at p0 < 0 was NaN
    (inf on arrays). Nested selections are now written out as (e_i, c & c_i)."""
    import numpy as np

    p0, p1, x0 = sp.symbols("p0 p1 x0")
    u = sp.tanh(p0) + 2
    inner = sp.Piecewise((p0**u, p0 < sp.Rational(1, 2)), ((p0**2) ** u, p0 < 2), (sp.sin(p0) ** u, True))
    expr = sp.Piecewise((sp.cos(sp.Abs(p1)), x0 > 0), (inner, True))
    at = {p0: -0.563217044333328, p1: -1.5472072722108634, x0: 0.7905518676927055}
    exact = derivatives(expr, [p0, p1], at)
    assert exact["grad"][0] == 0  # the taken branch cos|p1| does not hold p0

    def close(got):
        return all(rel_error(g, e, m) <= TOLERANCE for g, e, m in zip(got, exact["grad"], exact["grad_M"]))

    kernel = sg.compile(sg.gradient(expr, [p0, p1]), [p0, p1, x0])
    assert close(kernel(at[p0], at[p1], at[x0]))
    assert close(kernel(*[np.array([at[s]]) for s in (p0, p1, x0)]).ravel())
    obj = sg.Objective(expr, [p0, p1], [x0], engine="scalar")
    assert close(obj.value_and_grad([at[p0], at[p1]], np.array([at[x0]]))[1])


def test_a_power_of_exp_keeps_the_digits_of_a_small_exponent():
    """Found by bench/differential.py (seed 21), fixed: SymPy keeps exp(x**2)**(p - x)
    for complex x, and its derivative along p holds log(exp(x**2)): log of the rounded
    exp(x**2) lost the digits of x**2 (1e-12 relative at x = 0.005). The canonical form
    writes exp(u)**e as exp(u*e) and log(exp(u)) as u, identities of real arithmetic."""
    p = sp.Symbol("p")
    expr = sp.exp(x**2) ** (p - x)
    at = {p: 1.1053542104560852, x: -0.004951465790857146}
    exact = derivatives(expr, [p], at)
    got = sg.compile(sg.gradient(expr, [p]), [p, x])(at[p], at[x])
    assert rel_error(got[0], exact["grad"][0], exact["grad_M"][0]) <= TOLERANCE
    assert rel_error(sg.autograd.grad(expr, [p], at)[0], exact["grad"][0], exact["grad_M"][0]) <= TOLERANCE
    assert sg.gradient(sp.log(sp.exp(p * x)), [p])[0] == x


def test_folding_a_power_of_exp_does_not_let_sympy_write_re():
    """Found by bench/differential.py (seed 21) in the fold above: rebuilding
    Abs(exp(p)**(2/3)) as Abs(exp(2*p/3)) let SymPy rewrite it as exp(re(2*p/3)) (for a
    complex p), and re is no supported function. The fold runs from the leaves up and
    writes |exp(u)| as exp(u) before SymPy sees it."""
    p = sp.Symbol("p")
    expr = sp.sin(1 / sp.Abs(sp.exp(p) ** sp.Rational(2, 3)))
    exact = derivatives(expr, [p], {p: 0.7})
    got = sg.compile(sg.gradient(expr, [p]), [p])(0.7)
    assert rel_error(got[0], exact["grad"][0], exact["grad_M"][0]) <= TOLERANCE


def test_polygamma_keeps_its_digits_next_to_a_negative_pole():
    """Fixed (bench/differential.py seed 14): the reflection formulas took tan and sin of
    the rounded pi*x, whose absolute error is a large relative one where x is near an
    integer: polygamma(1, -1.97837) was 1.01e-14 off in every stage, polygamma(1,
    -20.99998) 5e-10. They now take them of x minus its nearest integer (exact)."""
    import math

    import mpmath

    from symgrad._special import polygamma

    mpmath.mp.dps = 40
    points = [-1.9783688807217543, -16.000003809431703, -20.999977733709294, -0.0312, -3.5000001]
    n, t = sp.symbols("n t")
    kernels = {k: sg.compile([sp.polygamma(k, t)], [t]) for k in (0, 1)}
    for k in (0, 1):
        for point in points:
            exact = mpmath.polygamma(k, mpmath.mpf(point))
            for got in (polygamma(float(k), point), float(kernels[k](point)[0])):
                assert math.isfinite(got)
                assert abs((got - exact) / exact) <= 8 * 2.0**-53, (k, point, got)
    # and the harness's own expression, whose gradient failed in every float64 stage
    expr = sp.Piecewise((sp.asin(sp.Rational(9, 10) * sp.tanh(x)) * sp.polygamma(1, y), sp.polygamma(1, y) < 2),
                        (sp.sin(sp.polygamma(1, y)), True))
    point = {x: 1.7256398609254844, y: -1.9783688807217543}
    exact = derivatives(expr, [x, y], point)
    kernel = sg.compile(sg.gradient(expr, [x, y]), [x, y])
    for got, g, m in zip(kernel(*point.values()), exact["grad"], exact["grad_M"]):
        assert rel_error(got, g, m) <= TOLERANCE
