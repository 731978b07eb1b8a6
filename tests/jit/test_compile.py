"""compile(): values against SymPy's own evaluation, broadcasting, errors."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

x, y, z = sp.symbols("x y z")

EXPRESSIONS = [
    x**2 * sp.sin(y),
    sp.exp(-x * y) / (1 + z**2),
    sp.log(1 + x**2) * sp.atan(y) - sp.tanh(z),
    sp.sqrt(x**2 + y**2 + 1) + sp.Abs(z) ** sp.Rational(3, 2),
    sp.Max(x, y, z) - sp.Min(x, 0),
    sp.Piecewise((x * y, x > y), (z**3, True)),
    sp.cosh(x) * sp.asinh(y) + sp.pi * sp.E,
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_kernel_matches_sympy_evaluation(expr):
    k = sg.compile(expr, [x, y, z])
    rng = np.random.default_rng(0)
    points = rng.uniform(-2, 2, size=(20, 3))
    values = k(points[:, 0], points[:, 1], points[:, 2])
    for p, v in zip(points, values):
        exact = float(expr.evalf(30, subs=dict(zip((x, y, z), p))))
        assert v == pytest.approx(exact, rel=1e-13, abs=1e-14)
        assert k(*p) == v  # scalar path gives the same float


def test_output_shapes_follow_api():
    scalar = sg.compile(x * y, [x, y])
    assert isinstance(scalar(1.0, 2.0), float)
    assert scalar(np.ones((4, 3)), np.ones(3)).shape == (4, 3)
    listed = sg.compile([x, y, x * y], [x, y])
    assert listed(1.0, 2.0).shape == (3,)
    assert listed(np.ones(5), 2.0).shape == (5, 3)
    column = sg.compile(sg.gradient(x**2 * y, [x, y]), [x, y])
    assert column(3.0, 2.0).tolist() == [12.0, 9.0]
    assert column(np.ones((2, 2)), 1.0).shape == (2, 2, 2)
    matrix = sg.compile(sg.hessian(x**3 * y, [x, y]), [x, y])
    assert matrix(1.0, 2.0).tolist() == [[12.0, 3.0], [3.0, 0.0]]
    assert matrix(np.ones(7), 1.0).shape == (7, 2, 2)
    assert sg.compile(x, [x])(np.empty(0)).shape == (0,)


def test_integer_and_list_inputs_are_converted():
    k = sg.compile(x / y, [x, y])
    assert k(1, 2) == 0.5
    assert k([1, 2], [4, 4]).tolist() == [0.25, 0.5]


def test_float64_semantics_division_by_zero_gives_inf_not_exception():
    k = sg.compile(1 / x, [x])
    with np.errstate(divide="ignore"):
        assert k(0.0) == np.inf
        assert np.isinf(k(np.zeros(2))).all()


def test_kernel_source_and_args_are_exposed():
    k = sg.compile(sp.sin(x) * y, [x, y])
    assert k.args == (x, y)
    assert "def scalar(x, y):" in k.source and "math.sin(x)" in k.source
    assert "Kernel(" in repr(k)


def test_missing_symbol_is_named():
    with pytest.raises(ValueError, match=r"uses y, which is not in args"):
        sg.compile(x * y, [x])


def test_unsupported_function_is_named():
    with pytest.raises(sg.UnsupportedFunctionError, match="zeta"):
        sg.compile(sp.zeta(x), [x])


def test_text_is_refused_with_a_pointer_to_parse():
    with pytest.raises(TypeError, match="symgrad.parse"):
        sg.compile("x**2", [x])


def test_wrong_number_of_values_and_bad_shapes():
    k = sg.compile(x + y, [x, y])
    with pytest.raises(TypeError, match="takes 2 value"):
        k(1.0)
    with pytest.raises(ValueError, match="do not broadcast"):
        k(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="not numeric"):
        k(np.array(["a"]), 1.0)


def test_symbols_named_like_builtins_compile_for_scalars_and_arrays():
    names = sp.symbols("range float len min sum int abs print object type")
    k = sg.compile(sp.Add(*[(i + 1) * s for i, s in enumerate(names)]), list(names))
    assert k(*[1.0] * 10) == 55.0
    assert k(*[np.ones(3)] * 10).tolist() == [55.0] * 3


@pytest.mark.parametrize("bad", [None, "2", 1j, [1.0, "a"], np.array(["1"])])
def test_text_none_and_complex_values_are_refused(bad):
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="not numeric"):
        sg.compile(x + 1, [x])(bad)


@pytest.mark.parametrize("constant", [sp.Float("1e400"), sp.Integer(2) ** 3000, sp.Rational(10**400, 3)])
def test_constants_beyond_float64_are_named(constant):
    from symgrad.errors import UnsupportedFunctionError

    x = sp.Symbol("x")
    with pytest.raises(UnsupportedFunctionError, match="beyond float64"):
        sg.compile(constant * x, [x])(1.0)
