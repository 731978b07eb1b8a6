"""Very long expressions and constants beyond float64: a result or a clear error,
never a RecursionError or a raw OverflowError."""

import re

import pytest
import sympy as sp

import symgrad as sg
from symgrad.codegen._source import TERMS, pointwise_source
from symgrad.derive import derive
from symgrad.errors import UnsupportedFunctionError
from symgrad.jit import _kernel

x = sp.Symbol("x")


def squares(n):
    """sum_{k < n} (x - k)**2."""
    return sp.Add(*[(x - k) ** 2 for k in range(n)])


def squares_at(a, n):
    """The closed form n a^2 - a n (n - 1) + (n - 1) n (2n - 1) / 6, exactly."""
    return n * a**2 - a * n * (n - 1) + sp.Rational((n - 1) * n * (2 * n - 1), 6)


def test_a_constant_beyond_float64_is_named():
    with pytest.raises(UnsupportedFunctionError, match=r"constant 1\.00000E\+400.*float64.*rescale"):
        sg.compile(x * 10**400, [x])


def test_the_source_of_a_sum_of_4000_terms_compiles_as_python():
    n = 4000
    program = derive([squares(n)], (), inputs=(x,))
    source = pointwise_source(program, (x,), program.outputs, "test")
    code = compile(source.text, "<long sum>", "exec")  # RecursionError before chaining
    assert max(len(re.findall(r" [+*] ", line)) for line in source.text.splitlines()) < TERMS
    namespace = {}
    exec(code, namespace)  # noqa: S102 - the module symgrad generated
    a = sp.Rational(1, 2)
    assert namespace["scalar"](0.5) == pytest.approx(float(squares_at(a, n)), rel=1e-13)


def test_the_gradient_of_a_long_sum_is_exact():
    n = 1000
    (d,) = sg.gradient(squares(n), [x])
    a = sp.Rational(1, 3)
    assert d.subs(x, a) == 2 * n * a - n * (n - 1)  # d/dx of the closed form


def test_compile_refuses_an_expression_past_the_statement_limit(monkeypatch):
    monkeypatch.setattr(_kernel, "MAX_STATEMENTS", 50)
    with pytest.raises(UnsupportedFunctionError, match=r"more than 50 distinct operations.*sg\.Objective"):
        sg.compile(squares(40), [x])
    assert sg.compile(squares(20), [x])(0.5) == pytest.approx(float(squares_at(sp.Rational(1, 2), 20)))
