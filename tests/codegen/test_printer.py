"""The printer: exact text for small cases, every construct compiled under njit."""

import math

import numba
import pytest
import sympy as sp

from symgrad.codegen import KernelPrinter, pointwise_source, python_name
from symgrad.derive import derive
from symgrad.errors import UnsupportedFunctionError

x, y = sp.symbols("x y")
PRINTER = KernelPrinter({x: "x", y: "y"})


@pytest.mark.parametrize(
    "expr, text",
    [
        (x + 2 * y, "x + 2.0*y"),
        (x**2, "x*x"),
        (x**-2, "1.0/(x*x)"),
        (sp.sqrt(x), "math.sqrt(x)"),
        (1 / sp.sqrt(x), "1.0/math.sqrt(x)"),
        (x**y, "x**y"),
        (x**sp.Rational(1, 3), "x**(0.3333333333333333)"),
        (sp.exp(x), "math.exp(x)"),
        (sp.atanh(x), "math.atanh(x)"),
        (sp.Abs(x), "abs(x)"),
        (sp.Max(x, y), "max(x, y)"),
        (sp.Min(0, x), "min(0.0, x)"),
        (sp.sign(x), "(1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0*x))"),
        (sp.Heaviside(x, 0), "(1.0 if x > 0.0 else (0.0 if x < 0.0 else (0.0 if x == 0.0 else x)))"),
        (sp.Piecewise((x, x > 0), (0, True)), "(x if (x > 0.0) else 0.0)"),
        (sp.Piecewise((x, x > 0), (y, x < -1)), "(x if (x > 0.0) else (y if (x < -1.0) else math.nan))"),
        (sp.pi * x, "math.pi*x"),
        (sp.E, "math.e"),
    ],
    ids=str,
)
def test_exact_text(expr, text):
    assert PRINTER.doprint(expr) == text


def test_unsupported_function_is_named():
    with pytest.raises(UnsupportedFunctionError, match="zeta"):
        PRINTER.doprint(sp.zeta(x))


def test_python_names_are_valid_and_unique():
    taken = set()
    names = [python_name(n, taken) for n in ["x", "x", "lambda", "W[0,1]", "t3", "1a", "math"]]
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() for n in names)
    assert names[0] == "x" and names[2] != "lambda"


def test_pointwise_source_is_deterministic_and_exact():
    program = derive([x**2 * sp.sin(y)], [x, y])
    src = pointwise_source(program, [x, y], program.outputs, "test")
    again = derive([x**2 * sp.sin(y)], [x, y])
    assert pointwise_source(again, [x, y], again.outputs, "test").text == src.text
    expected = (
        "def scalar(x, y):\n"
        "    t0 = x*x\n"
        "    t1 = math.sin(y)\n"
        "    t2 = t0*t1\n"
        "    a0 = 2.0*t1*x\n"
        "    a1 = t0*math.cos(y)\n"
        "    return (t2, a0, a1,)\n"
    )
    assert expected in src.text


CONSTRUCTS = [
    (sp.sign(x), lambda v: math.copysign(1.0, v) if v != 0 else 0.0),
    (sp.Heaviside(x, 0), lambda v: 1.0 if v > 0 else 0.0),
    (sp.Piecewise((x**2, x < 1), (3 * x, True)), lambda v: v * v if v < 1 else 3 * v),
    (sp.Max(x, 1) + sp.Min(x, -1), lambda v: max(v, 1) + min(v, -1)),
    (sp.Abs(x) ** 1.5, lambda v: abs(v) ** 1.5),
    (sp.atan(x) + sp.asinh(x), lambda v: math.atan(v) + math.asinh(v)),
]


@pytest.mark.parametrize("expr, reference", CONSTRUCTS, ids=lambda c: str(c) if isinstance(c, sp.Basic) else "")
def test_each_construct_compiles_under_njit(expr, reference):
    text = f"import math\ndef f(x):\n    return {PRINTER.doprint(expr)}\n"
    namespace = {}
    exec(compile(text, "<test>", "exec"), namespace)
    f = numba.njit(namespace["f"])
    for v in (-2.5, -1.0, 0.0, 0.5, 1.0, 3.0):
        assert f(v) == pytest.approx(reference(v), rel=1e-15, abs=0.0)
