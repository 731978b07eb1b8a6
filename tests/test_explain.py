"""explain: textbook rules, step by step, ending at exactly symgrad's derivative."""

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ExpressionTypeError, UnsupportedFunctionError
from symgrad.explain import RULES, Explanation, explain

x, y, z = sp.symbols("x y z")

# (expression, the rule of the first step, a rule that must appear somewhere)
TEXTBOOK = [
    (sp.Integer(7), "constant rule", "constant rule"),
    (x, "variable rule", "variable rule"),
    (x**3 + 2 * x, "sum rule", "power rule"),
    (5 * x**4, "constant multiple rule", "power rule"),
    (x * sp.sin(x), "product rule", "trig rule"),
    (x**2 * sp.exp(x) * sp.log(x), "product rule", "log rule"),
    (sp.sin(x) / (x + 1), "quotient rule", "sum rule"),
    (1 / (x**2 + 1), "quotient rule", "power rule"),
    ((x**2 + 1) ** -3, "chain rule", "power rule"),
    (sp.sqrt(1 + x**2), "chain rule", "power rule"),
    (sp.sin(x**2), "chain rule", "trig rule"),
    (sp.exp(sp.cos(3 * x)), "chain rule", "exp rule"),
    (sp.log(1 + sp.exp(x)), "chain rule", "log rule"),
    (sp.tan(x), "trig rule", "trig rule"),
    (sp.asin(x / 2), "chain rule", "inverse trig rule"),
    (sp.acos(x) + sp.atan(x**2), "sum rule", "inverse trig rule"),
    (sp.tanh(2 * x) * sp.cosh(x), "product rule", "hyperbolic rule"),
    (sp.sinh(x) ** 2, "chain rule", "hyperbolic rule"),
    (sp.asinh(x) + sp.acosh(x + 2) + sp.atanh(x / 3), "sum rule", "inverse hyperbolic rule"),
    (2**x, "exponential rule", "exponential rule"),
    (x**x, "general power rule", "general power rule"),
    (sp.Abs(x - 1), "chain rule", "abs rule"),
    (x * sp.sign(x), "product rule", "sign rule"),
    (sp.Max(0, x), "max rule", "max rule"),
    (sp.Max(x, 0), "max rule", "max rule"),
    (sp.Min(x**2, 1 - x), "min rule", "min rule"),
    (x * sp.Heaviside(x), "product rule", "step rule"),
    (sp.Piecewise((x, x > 0), (0, True)), "piecewise rule", "piecewise rule"),
    (sp.Piecewise((x**2, x < 1), (2 * x - 1, True)), "piecewise rule", "power rule"),
    (x**2 * sp.sin(y) + sp.exp(x * y), "sum rule", "chain rule"),
    (sp.pi * x + sp.E, "sum rule", "constant multiple rule"),
]


def same_function(a, b, points=(-2, -1, sp.Rational(-1, 3), 0, sp.Rational(1, 2), 1, sp.Rational(3, 2), 2,
                                  (sp.sqrt(5) - 1) / 2)):
    """``a == b`` as functions of x: SymPy proves it, or they agree exactly wherever both are
    defined among points that include kinks (0, 1, the tie of x**2 and 1 - x)."""
    if sp.simplify(a - b) == 0:
        return True
    for p in points:
        va, vb = a.subs(x, p), b.subs(x, p)
        if va.has(sp.zoo, sp.nan) or vb.has(sp.zoo, sp.nan) or not (va.is_real and vb.is_real):
            continue
        if sp.simplify(va - vb) != 0:
            return False
    return True


@pytest.mark.parametrize("expr, first, somewhere", TEXTBOOK, ids=[str(e[0]) for e in TEXTBOOK])
def test_result_equals_symgrad_gradient(expr, first, somewhere):
    e = explain(expr, x)
    assert same_function(e.result, sg.gradient(expr, [x])[0])
    assert e.steps[0].rule == first
    assert somewhere in e.rules
    assert set(e.rules) <= set(RULES)


def test_textbook_values_written_out():
    """Derivatives a learner knows by heart, written independently of the code."""
    cases = [
        (x**3, 3 * x**2),
        (x * sp.sin(x), sp.sin(x) + x * sp.cos(x)),
        (sp.sin(x) / x, (x * sp.cos(x) - sp.sin(x)) / x**2),
        (sp.exp(x**2), 2 * x * sp.exp(x**2)),
        (sp.log(sp.cos(x)), -sp.tan(x)),
        (sp.atan(x), 1 / (1 + x**2)),
    ]
    for expr, expected in cases:
        assert sp.simplify(explain(expr, x).result - expected) == 0


def test_kink_convention_relu_is_zero_at_zero():
    for relu in (sp.Max(0, x), sp.Max(x, 0), sp.Piecewise((x, x > 0), (0, True)), x * sp.Heaviside(x)):
        d = explain(relu, x).result
        assert d.subs(x, 0) == 0
        assert d.subs(x, 2) == 1
        assert d.subs(x, -2) == 0
    assert explain(sp.Abs(x), x).result.subs(x, 0) == 0


def test_each_step_is_the_derivative_of_its_own_expression():
    expr = sp.exp(sp.sin(x) * x**2) / (1 + x**2)
    for step in explain(expr, x).steps:
        assert sp.simplify(step.derivative - sp.diff(step.expr, x)) == 0


def test_steps_nest_the_parts_one_level_deeper():
    e = explain(x * sp.sin(x**2), x)
    assert [(s.rule, s.depth) for s in e.steps] == [
        ("product rule", 0), ("variable rule", 1), ("chain rule", 1), ("power rule", 2)]
    assert e.steps[2].outer == "trig rule"


def test_partial_derivatives_for_a_list_of_symbols():
    parts = explain(x**2 * sp.sin(y), [x, y])
    assert [p.wrt for p in parts] == [x, y]
    assert parts[0].result == 2 * x * sp.sin(y)
    assert parts[1].result == x**2 * sp.cos(y)
    assert explain(x * y * z, [z])[0].result == x * y


def test_text_latex_and_notebook_views():
    e = explain(x * sp.sin(x), x)
    text = str(e)
    assert "product rule" in text and "d(x·u)/dx = dx/dx·u + x·du/dx   with u = sin(x)" in text
    assert text.splitlines()[-1] == "result: x*cos(x) + sin(x)"
    latex = e.latex()
    assert latex.startswith("\\begin{aligned}") and "\\text{product rule}" in latex
    assert e._repr_latex_().startswith("$$")
    assert "<b>product rule</b>" in e._repr_html_()
    assert "Explanation" in repr(e)


def test_explanation_is_frozen():
    e = explain(x**2, x)
    assert isinstance(e, Explanation)
    with pytest.raises(AttributeError):
        e.result = 0


def test_bad_input_is_a_clear_error():
    with pytest.raises(ExpressionTypeError, match="symgrad.parse"):
        explain("x**2", x)
    with pytest.raises(ExpressionTypeError, match="wrt"):
        explain(x**2, "x")
    with pytest.raises(UnsupportedFunctionError, match="zeta"):
        explain(sp.zeta(x), x)


def test_backprop_values_and_adjoints_by_hand():
    from symgrad.explain import backprop

    # f = x^2 sin(y) + max(0, x y) at (1, 2):
    # df/dx = 2 x sin(y) + y = 2 sin 2 + 2, df/dy = x^2 cos(y) + x = cos 2 + 1
    b = backprop(x**2 * sp.sin(y) + sp.Max(0, x * y), {x: 1.0, y: 2.0})
    assert b.value == pytest.approx(sp.sin(2).evalf() + 2, rel=1e-15)
    assert b.gradient[x] == pytest.approx(2 * float(sp.sin(2)) + 2, rel=1e-14)
    assert b.gradient[y] == pytest.approx(float(sp.cos(2)) + 1, rel=1e-14)
    assert [n.depth for n in b.nodes if n.is_input] == [0, 0]
    assert b.nodes[-1].adjoint == 1.0
    assert "adjoint" in str(b)


def test_backprop_kink_convention_and_bad_points():
    from symgrad.errors import MissingSymbolError
    from symgrad.explain import backprop

    assert backprop(sp.Max(0, x), [0.0]).gradient[x] == 0.0
    assert backprop(sp.Abs(x), [0.0]).gradient[x] == 0.0
    with pytest.raises(MissingSymbolError, match="y"):
        backprop(x * y, {x: 1.0})
    with pytest.raises(ValueError, match="2 symbols"):
        backprop(x * y, [1.0])


BACKPROP_UNDEFINED = [
    (sp.log(x), {x: -1.0}, r"log\(x\) is undefined at x = -1\.0: log needs an argument > 0, and x = -1\.0 there"),
    (sp.sqrt(x - 1), {x: 0.0}, r"sqrt\(x - 1\) is undefined at x = 0\.0: sqrt needs an argument >= 0"),
    (sp.asin(x), {x: -2.0}, r"asin\(x\) is undefined at x = -2\.0: asin needs an argument in \[-1, 1\]"),
    (sp.acos(x) * y, {x: 1.5, y: 1.0}, r"acos\(x\) is undefined at x = 1\.5, y = 1\.0"),
    (sp.acosh(x), {x: 0.0}, r"acosh\(x\) is undefined at x = 0\.0: acosh needs an argument >= 1"),
    (sp.atanh(x), {x: 1.0}, r"atanh\(x\) is undefined at x = 1\.0: .*atanh ±1 = ±infinity"),
    (x / y, {x: 1.0, y: 0.0}, r"1/y is undefined at x = 1\.0, y = 0\.0: it divides by zero"),
    (x**y, {x: -1.5, y: 0.5}, r"x\*\*y is undefined at x = -1\.5, y = 0\.5: a negative base needs an integer"),
]


@pytest.mark.parametrize("expr, at, message", BACKPROP_UNDEFINED, ids=[str(c[0]) for c in BACKPROP_UNDEFINED])
def test_backprop_names_the_function_outside_its_domain(expr, at, message):
    from symgrad.errors import DomainError
    from symgrad.explain import backprop

    with pytest.raises(DomainError, match=message):
        backprop(expr, at)


def test_backprop_at_a_singular_derivative_shows_it():
    from symgrad.explain import backprop

    b = backprop(sp.sqrt(x), {x: 0.0})
    assert b.value == 0.0 and b.gradient[x] == float("inf")  # d sqrt(x)/dx -> +inf at 0+
    assert len(b.singular) == 1
    assert "sqrt(x) at x = 0.0 is finite, but its derivative 1/2·u^(-1/2) is infinite" in str(b)
    b = backprop(sp.asin(x) + y, {x: 1.0, y: 2.0})
    assert b.gradient[x] == float("inf") and b.gradient[y] == 1.0
    assert "asin(x) at x = 1.0, y = 2.0 is finite" in str(b)
    assert backprop(sp.sqrt(x), {x: 4.0}).singular == ()


def test_backprop_piecewise_branch_not_taken_is_not_examined():
    from symgrad.explain import backprop

    b = backprop(sp.Piecewise((sp.log(x), x > 0), (x**2, True)), {x: -3.0})
    assert b.value == 9.0 and b.gradient[x] == -6.0


# --- the chain rule in the textbooks' notation -------------------------------------


def test_chain_rule_of_sin_x_squared_reads_as_in_the_textbooks():
    """y = sin(u), u = x^2: dy/du = cos(u), du/dx = 2x, dy/dx = cos(x^2)·2x."""
    e = explain(sp.sin(x**2), x)
    chain = e.steps[0]
    u = sp.Symbol("u")
    assert (chain.rule, chain.name, chain.parts) == ("chain rule", "y", (("u", x**2),))
    assert chain.outer_expr == sp.sin(u) and chain.outer_derivative == sp.cos(u)
    assert chain.inner_derivative == 2 * x and chain.outer_at_inner == sp.cos(x**2)
    assert e.steps[1].name == "u" and e.steps[1].derivative == 2 * x
    lines = str(e).splitlines()
    assert lines[2:6] == [
        "1. chain rule: y = sin(u) with u = x**2",
        "   dy/du = cos(u)   (trig rule: d sin(u)/du = cos(u))",
        "   du/dx = 2*x",
        "   dy/dx = dy/du · du/dx = cos(x**2)·2*x = 2*x*cos(x**2)",
    ]
    assert "\\frac{d y}{d u} \\cdot \\frac{d u}{d x}" in e.latex()


def test_the_outer_derivative_is_written_in_one_name_only():
    """atan: dy/du = 1/(1 + u^2), never a mix of the inner expression's and u's names."""
    text = str(explain(sp.atan(x**2), x))
    assert "dy/du = 1/(u**2 + 1)   (inverse trig rule: d atan(u)/du = 1/(1 + u^2))" in text
    assert "dy/dx = dy/du · du/dx = 1/(x**4 + 1)·2*x = 2*x/(x**4 + 1)" in text
    assert "(g)" not in text and "du = 1/(1 + g" not in text


def test_nested_chain_rules_name_each_inner_function():
    """exp(cos(3x)): y = exp(u), u = cos(v), v = 3x; dy/dx = exp(cos 3x)·(-3 sin 3x)."""
    e = explain(sp.exp(sp.cos(3 * x)), x)
    chains = [s for s in e.steps if s.rule == "chain rule"]
    v = sp.Symbol("v")
    assert [(s.name, s.parts[0][0]) for s in chains] == [("y", "u"), ("u", "v")]
    assert chains[1].outer_derivative == -sp.sin(v) and chains[1].inner_derivative == 3
    assert chains[0].inner_derivative == -3 * sp.sin(3 * x)
    assert "dy/dx = dy/du · du/dx = exp(cos(3*x))·(-3*sin(3*x))" in str(e)


def test_partials_use_the_real_variable_and_the_partial_sign():
    w, b = sp.symbols("w b")
    e = explain(w * b**3, b)
    assert e.partial
    power = next(s for s in e.steps if s.rule == "power rule")
    assert power.formula == "∂(b^n)/∂b = n·b^(n-1)" and power.derivative == 3 * b**2
    assert str(e).splitlines()[0] == "∂/∂b [b**3*w]"
    chain = explain((w * x + b) ** 2, b).steps[0]
    assert chain.formula == "∂y/∂b = dy/du · ∂u/∂b" and chain.inner_derivative == 1
    assert "x" not in power.formula


def test_names_never_clash_with_the_symbols_of_the_expression():
    u, y_ = sp.symbols("u y")
    e = explain(sp.sin(u * y_**2), y_)
    chain = e.steps[0]
    assert chain.name == "f" and chain.parts[0][0] == "v"  # y and u are the expression's own
    assert chain.outer_derivative == sp.cos(sp.Symbol("v"))
    assert e.result == 2 * u * y_ * sp.cos(u * y_**2)


def test_product_rule_names_its_factors_and_their_steps_use_the_names():
    e = explain(x * sp.sin(x**2), x)
    product = e.steps[0]
    assert product.parts == (("x", x), ("u", sp.sin(x**2)))
    assert [s.name for s in e.steps] == ["y", "x", "u", "v"]
    assert e.result == sp.sin(x**2) + 2 * x**2 * sp.cos(x**2)


def test_each_chain_step_is_the_product_of_its_outer_and_inner_derivatives():
    """For every chain step: derivative = f'(g)·g', f'(g) = dy/du at u = g, and it is d(expr)/dx."""
    for expr in (sp.sqrt(1 + x**2), (x**2 + 1) ** -3, sp.log(1 + sp.exp(x)), sp.Abs(x - 1), sp.asin(x / 2)):
        for s in explain(expr, x).steps:
            if s.rule != "chain rule":
                continue
            (u, g), = s.parts
            assert s.outer_derivative.xreplace({sp.Symbol(u): g}) == s.outer_at_inner
            assert sp.simplify(s.derivative - s.outer_at_inner * s.inner_derivative) == 0
            assert sp.simplify(s.inner_derivative - sp.diff(g, x)) == 0


def test_explain_agrees_with_the_mpmath_oracle():
    """The final step against SymPy's own diff at 40 digits, away from kinks."""
    import oracle

    w, b = sp.symbols("w b")
    loss = sg.losses.mse(sg.nn.sigmoid(w * x + b), y)
    at = {w: 0.75, b: -0.25, x: 1.5, y: 1.0}
    for part, exact in zip(explain(loss, [w, b]), oracle.gradient(loss, [w, b], at)):
        got = float(part.result.subs(at))
        assert got == pytest.approx(oracle.mp_float(exact), rel=1e-14)
