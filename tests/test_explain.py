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


@pytest.mark.parametrize("expr, first, somewhere", TEXTBOOK, ids=[str(e[0]) for e in TEXTBOOK])
def test_result_equals_symgrad_gradient(expr, first, somewhere):
    e = explain(expr, x)
    assert sp.simplify(e.result - sg.gradient(expr, [x])[0]) == 0
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
    assert "product rule" in text and "(u·v)' = u'·v + u·v'" in text
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
    with pytest.raises(UnsupportedFunctionError, match="gamma"):
        explain(sp.gamma(x), x)


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
