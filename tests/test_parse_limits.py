"""sg.parse bounds every number SymPy could compute before it computes it, and
turns whatever SymPy refuses to build into a ParseError."""

import pytest
import sympy as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from symgrad.cli import EXIT_USAGE, main
from symgrad.errors import ParseError
from symgrad.parse import MAX_NUMBER_BITS, parse

x, y = sp.symbols("x y")

#: Texts whose numbers SymPy would compute with billions of digits (it expands
#: (2*x)**n into 2**n*x**n, exp(n*log(2)) into 2**n, and squaring doubles digits).
HUGE = [
    "(2*x)**(10**1000)",
    "(3*x)**(10**8)",
    "(x/3)**10**999",
    "sqrt(2)**(10**1000)",
    "exp(10**1000*log(2))",
    "(" * 24 + "10**300*x" + ")**2" * 24,
    "cosh(10**1000*log(3))",
    "E**(10**1000*log(2))",
    "2**(x + 10**1000) * 2**(-x)",
    "(2*x)**(5*10**8 + 0)",
    "(0.5*x)**(10**8)",
]


@pytest.mark.parametrize("text", HUGE, ids=[t[:30] for t in HUGE])
def test_a_power_with_a_huge_result_is_refused_before_sympy_computes_it(text):
    with pytest.raises(ParseError, match="bits|exponent"):
        parse(text)


def test_the_command_line_refuses_a_huge_power(capsys):
    code = main(["grad", "(2*x)**(10**1000)", "--wrt", "x"])
    assert code == EXIT_USAGE
    assert "bits" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("exp(100*log(3))", sp.Integer(3) ** 100),
        ("(10**300*x)**2", sp.Integer(10) ** 600 * x**2),
        ("(x/3)**100", x**100 / sp.Integer(3) ** 100),
        ("10**1000*x", sp.Integer(10) ** 1000 * x),
        ("2**-3000", sp.Rational(1, 2**3000)),
        ("x**(10**1000)", x ** (sp.Integer(10) ** 1000)),  # no number grows: no limit
        ("(0.5*x)**1000", sp.Float(0.5) ** 1000 * x**1000),
        ("  x  *  y  ", x * y),
        ("\n\tx + 1\n", x + 1),
    ],
)
def test_large_but_bounded_numbers_and_padded_text_are_accepted(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("Piecewise((x, x > sqrt(-1)), (0, True))", "complex number"),
        ("Piecewise((-6753402, ~(sqrt(-1) < x)))", "complex number"),
        ("Piecewise((x, log(0) < x), (0, True))", "infinite or undefined"),
        ("Piecewise((x, Eq(log(0), x)), (0, True))", "infinite or undefined"),
        ("0*log(0)", "infinite or undefined"),
        ("log(0)", "infinite or undefined"),
        ("x + sqrt(-4)", "complex number"),
    ],
)
def test_values_that_are_not_real_and_finite_are_parse_errors(text, message):
    with pytest.raises(ParseError, match=message):
        parse(text)


# --- fuzzing: any text of numbers, powers, exp/log and conditions -----------------

LEAVES = st.sampled_from(
    ["x", "y", "0", "1", "2", "3", "10", "0.5", "1e300", "10**300", "7**500", "10**1000", "pi", "E",
     "sqrt(-1)", "log(0)"]
)


def _grow(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda ab: f"({ab[0]})+({ab[1]})"),
        pair.map(lambda ab: f"({ab[0]})-({ab[1]})"),
        pair.map(lambda ab: f"({ab[0]})*({ab[1]})"),
        pair.map(lambda ab: f"({ab[0]})/({ab[1]})"),
        pair.map(lambda ab: f"({ab[0]})**({ab[1]})"),
        st.tuples(st.sampled_from(["exp", "log", "sqrt", "cosh", "tan", "Abs", "atan"]), children).map(
            lambda fa: f"{fa[0]}({fa[1]})"
        ),
        pair.map(lambda ab: f"Piecewise(({ab[0]}, ({ab[1]}) > x), (0, True))"),
    )


TEXTS = st.recursive(LEAVES, _grow, max_leaves=10)


def _numbers_fit(expr) -> bool:
    return all(
        int(r.p).bit_length() + int(r.q).bit_length() <= 2 * MAX_NUMBER_BITS
        for r in expr.atoms(sp.Rational)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
@example("(2*x)**(10**1000)")
@example("(3*x)**(10**8)")
@example("(x/3)**10**999")
@example("sqrt(2)**(10**1000)")
@example("exp(10**1000*log(2))")
@example("(" * 24 + "10**300*x" + ")**2" * 24)
@example("Piecewise((x, x > sqrt(-1)), (0, True))")
@example("0*log(0)")
def test_any_text_is_an_expression_of_bounded_numbers_or_a_parse_error(text):
    try:
        expr = parse(text)
    except ParseError:
        return
    assert isinstance(expr, sp.Expr)
    assert _numbers_fit(expr)
    assert not expr.has(sp.I, sp.zoo, sp.nan, sp.oo, -sp.oo)


@pytest.mark.parametrize("error", [TypeError, NotImplementedError, ValueError])
def test_sympy_refusing_to_build_is_a_parse_error(monkeypatch, error):
    import sys

    parse_module = sys.modules["symgrad.parse"]  # the module; symgrad.parse is the function

    def refuse(*args):
        raise error("multivariate inequalities are not supported")

    monkeypatch.setitem(parse_module.FUNCTIONS, "sign", refuse)
    with pytest.raises(ParseError, match="SymPy cannot build 'sign\\(x\\) \\+ 1': multivariate"):
        parse("sign(x) + 1")
