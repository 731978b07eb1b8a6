"""``symgrad.explain`` is the package module and, called, the function of api.md."""

import inspect
import types

import sympy as sp

import symgrad as sg


def test_import_gives_the_module_with_its_functions():
    import symgrad.explain as E

    assert isinstance(E, types.ModuleType)
    assert E is sg.explain
    assert callable(E.backprop) and callable(E.difference_quotients)
    x = sp.Symbol("x")
    graph = sg.explain.backprop(x**2, {x: 3.0})
    assert graph.gradient[x] == 6.0  # d(x^2)/dx = 2x at x = 3


def test_calling_the_module_explains_as_the_function_does():
    x, y = sp.symbols("x y")
    f = x * sp.sin(x) * y
    e = sg.explain(f, x)
    assert sp.simplify(e.result - sp.diff(f, x)) == 0
    assert [s.rule for s in e.steps] == [s.rule for s in sg.explain.explain(f, x).steps]
    both = sg.explain(f, [x, y])
    assert [sp.simplify(d.result - sp.diff(f, s)) for d, s in zip(both, [x, y])] == [0, 0]
    assert list(inspect.signature(sg.explain).parameters) == ["expr", "wrt"]
