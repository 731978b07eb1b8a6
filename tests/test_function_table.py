"""One row per supported function (``symgrad._functions``), read by every stage.

The first test fails when a stage lacks a row: the printer, the derivative rules, the
tape and its vector-Jacobian rules, the parser, ``explain``, the check's evaluator and
its domain and kink rules, and the function lists of the docs. The others prove every
function of the table in every path against the oracle (SymPy's ``diff`` evaluated
with mpmath at 40 digits, ``tests/oracle.py``), with the oracle's tolerance rule.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from oracle import TOLERANCE, derivatives, evaluate, rel_error
from symgrad import autograd as ag
from symgrad._expr import SUPPORTED_FUNCTIONS
from symgrad._functions import CONSTRUCTS, ELEMENTARY, FUNCTION_TABLE
from symgrad._parse_size import _BOUNDED, _EXPONENTIAL, _FACTORIAL, _LOGARITHMIC, _TRIGONOMETRIC
from symgrad.autograd._program import FLAT, UNARY
from symgrad.autograd._rules import FORWARD, VJP_RULES
from symgrad.autograd._sympy import SYMPY_TO_TAPE
from symgrad.check._domain import DOMAIN_RULES
from symgrad.check._evaluate import _FUNCTIONS as EVALUATOR
from symgrad.check._evaluate import NON_ANALYTIC
from symgrad.codegen import KernelPrinter
from symgrad.derive import _rules as derive_rules
from symgrad.errors import DomainError
from symgrad.explain import OUTER_RULES, RULES
from symgrad.parse import FUNCTIONS as PARSE_FUNCTIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"
GROWTH = {"exponential": _EXPONENTIAL, "logarithmic": _LOGARITHMIC, "bounded": _BOUNDED,
          "trigonometric": _TRIGONOMETRIC, "factorial": _FACTORIAL}
ROWS = list(FUNCTION_TABLE.values())


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_every_stage_reads_the_row(row):
    cls, name = row.sympy, row.name
    assert SUPPORTED_FUNCTIONS[name] is cls
    assert PARSE_FUNCTIONS[name] is cls
    assert all(PARSE_FUNCTIONS[alias] is f for alias, f in row.aliases.items())
    assert f"_print_{name}" in vars(KernelPrinter), f"the printer has no _print_{name}"
    if row.explain is not None and row.arity[0] == 1:
        assert OUTER_RULES[cls][:2] == row.explain
    if row.explain is not None:
        assert row.explain[0] in RULES
    if cls is not sp.Piecewise:
        assert cls in EVALUATOR
    assert DOMAIN_RULES.get(cls) is row.domain
    if row.growth:
        assert name in GROWTH[row.growth]
    if row.kind == "elementary":
        assert cls in derive_rules._ELEMENTARY
        assert FORWARD[name] is row.forward and VJP_RULES[name] is row.vjp
        assert len(row.vjp) == row.arity[0]  # log(x, b) is log(x)/log(b)
        assert UNARY[cls] == name and cls in SYMPY_TO_TAPE
        assert (row.complex is None) == (cls in NON_ANALYTIC)
        assert row.flat == (name in FLAT)
    else:
        assert cls in SYMPY_TO_TAPE or cls is sp.Piecewise
        assert cls in NON_ANALYTIC


def _listed(text: str) -> set:
    return set(re.findall(r"`([A-Za-z]+)`", text))


def test_the_docs_list_every_function_of_the_table():
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    section = reference.split("## Supported functions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [re.match(r"\| `(\w+)", line).group(1) for line in rows] == list(FUNCTION_TABLE)
    parse_doc = (DOCS / "parse.md").read_text(encoding="utf-8")
    line = next(t for t in parse_doc.splitlines() if "the supported functions" in t)
    assert set(line.split("`")[1].split()) == set(FUNCTION_TABLE) | {"sqrt"}


def test_a_partial_given_by_a_row_is_sympys():
    u, v = sp.symbols("u v", real=True)
    for row in ELEMENTARY:
        if row.derivative is None or row.sympy in (sp.floor, sp.ceiling):
            continue  # SymPy leaves d floor(u)/du unevaluated: the row's 0 is the convention
        args = (2, u) if row.sympy is sp.polygamma else (u, v)[: row.arity[0]]
        e = row.sympy(*args)
        for i, d in enumerate(row.derivative(*args)):
            if d != 0:
                assert sp.simplify(d - e.fdiff(i + 1)) == 0


# one argument per row, inside its domain, away from its kinks; atan2 gets two
_AT = {
    "exp": 0.7, "log": 1.3, "sin": 0.4, "cos": 0.9, "tan": 0.6, "asin": 0.35, "acos": -0.45,
    "atan": 1.7, "sinh": 0.8, "cosh": -0.6, "tanh": 0.55, "asinh": -1.2, "acosh": 1.9, "atanh": 0.3,
    "cot": 0.7, "sec": 0.5, "csc": 1.1, "acot": -1.4, "asec": 2.3, "acsc": -1.8, "coth": 1.2,
    "sech": 0.9, "csch": -0.8, "acoth": 1.7, "asech": 0.45, "acsch": 0.6, "erf": 0.8, "erfc": 1.3,
    "gamma": -1.5, "loggamma": 2.3, "polygamma": 1.7, "atan2": (-0.6, -1.1), "floor": 2.5,
    "ceiling": -1.3,
}
_SYMBOLS, _POINT, _TERMS = [], {}, []
for _row in ELEMENTARY:
    if _row.name == "atan2":
        y, x = sp.symbols("y_atan2 x_atan2")
        _SYMBOLS += [y, x]
        _POINT.update({y: _AT["atan2"][0], x: _AT["atan2"][1]})
        _TERMS.append(sp.atan2(y, x))
        continue
    s = sp.Symbol(f"u_{_row.name}")
    _SYMBOLS.append(s)
    _POINT[s] = _AT[_row.name]
    _TERMS.append(sp.polygamma(2, s) if _row.name == "polygamma" else _row.sympy(s))
TOTAL = sp.Add(*_TERMS)
AT = [_POINT[s] for s in _SYMBOLS]


def _close(got, exact_values, scales, what):
    got = np.asarray(got, dtype=float).ravel()
    errors = [rel_error(g, e, m) for g, e, m in zip(got, exact_values, scales)]
    worst = int(np.argmax(errors))
    assert max(errors) <= TOLERANCE, f"{what}: entry {worst} off by {errors[worst]:.3g} units"


@pytest.fixture(scope="module")
def exact():
    return derivatives(TOTAL, _SYMBOLS, _POINT, order=2)


def _hessian_entries(hessian):
    """The diagonal and the one entry off it that is not 0 (``∂²atan2/∂y∂x``): the sum is
    separable, and a kernel of the whole matrix would compile for half a minute."""
    n = len(_SYMBOLS)
    i, j = _SYMBOLS.index(sp.Symbol("y_atan2")), _SYMBOLS.index(sp.Symbol("x_atan2"))
    return [hessian[k][k] for k in range(n)] + [hessian[i][j]]


def test_compiled_values_gradient_and_hessian_of_every_function(exact):
    """``sg.compile`` of the values, ``sg.gradient`` and ``sg.hessian``, on scalars and arrays."""
    gradient = list(sg.gradient(TOTAL, _SYMBOLS))
    hessian = sg.hessian(TOTAL, _SYMBOLS).tolist()
    assert all(h == 0 for r, row in enumerate(hessian) for c, h in enumerate(row)
               if r != c and {r, c} != {_SYMBOLS.index(sp.Symbol("y_atan2")), _SYMBOLS.index(sp.Symbol("x_atan2"))})
    k = sg.compile(_TERMS + gradient + _hessian_entries(hessian), _SYMBOLS)
    values = evaluate(_TERMS, _POINT)
    expected = [v for v, _ in values] + list(exact["grad"]) + _hessian_entries(exact["hess"])
    scales = [m for _, m in values] + list(exact["grad_M"]) + _hessian_entries(exact["hess_M"])
    _close(k(*AT), expected, scales, "scalar kernel (values, gradient, Hessian)")
    arrays = k(*[np.array([a, a]) for a in AT])
    assert arrays.shape == (2, len(expected))
    _close(arrays[1], expected, scales, "array kernel (values, gradient, Hessian)")


def test_autograd_and_check_gradient_of_every_function(exact):
    _close(ag.grad(TOTAL, _SYMBOLS, AT), exact["grad"], exact["grad_M"], "autograd")
    report = sg.check_gradient(TOTAL, _SYMBOLS, AT)
    assert report.ok and not report.kinks, str(report)


@pytest.mark.parametrize("engine", ["scalar", "loops"])
def test_objective_of_every_function_on_both_engines(exact, engine):
    d = sp.Symbol("d")
    objective = sg.Objective(TOTAL * d, _SYMBOLS, data=[d], engine=engine)
    value, grad = objective.value_and_grad(AT, np.array([0.5, 1.5]))  # the mean of d is 1
    _close([value], [exact["value"]], [exact["value_M"]], f"{engine} value")
    _close(grad, exact["grad"], exact["grad_M"], f"{engine} gradient")


def test_parse_and_explain_of_every_function(exact):
    assert sg.parse(str(TOTAL)) == TOTAL
    for term in _TERMS:
        if isinstance(term, sp.polygamma):
            continue  # polygamma(n, u) is where the derivatives of gamma lead; explain has no rule
        for s in sorted(term.free_symbols, key=str):
            k = _SYMBOLS.index(s)
            v, _ = evaluate(sg.explain(term, s).result, _POINT)
            assert rel_error(v, exact["grad"][k], exact["grad_M"][k]) <= TOLERANCE, (term, s)


def test_log_with_a_base_is_a_quotient_of_logs_in_every_path():
    x, b = sp.symbols("x b")
    e = sg.parse("log(x, b)")
    assert e == sp.log(x) / sp.log(b)
    exact = derivatives(e, [x, b], {x: 3.0, b: 2.0}, order=1)
    _close(sg.compile(sg.gradient(e, [x, b]), [x, b])(3.0, 2.0), exact["grad"], exact["grad_M"], "log(x, b)")


x = sp.Symbol("x")


@pytest.mark.parametrize("expr, at, match", [
    (sp.loggamma(x), -1.5, "loggamma needs an argument > 0"),
    (sp.gamma(x), -2.0, "gamma has poles"),
    (sp.asec(x), 0.5, r"asec needs \|u\| >= 1"),
    (sp.asech(x), 1.5, r"asech needs an argument in \(0, 1\]"),
    (sp.cot(x), 0.0, "cot is infinite at 0"),
    (sp.atan2(x, x), 0.0, "atan2"),
])
def test_outside_its_domain_a_function_is_a_domain_error(expr, at, match):
    with pytest.raises(DomainError, match=match):
        sg.check_gradient(expr, [x], [at])


@pytest.mark.parametrize("expr, at", [
    (sp.floor(x) * x, 2.0), (sp.ceiling(x) * x, -1.0), (sp.acot(x), 0.0), (sp.atan2(x, -1 - x**2), 0.0),
])
def test_the_jumps_are_kinks_with_derivative_zero_by_convention(expr, at):
    report = sg.check_gradient(expr, [x], [at])
    assert report.kinks, str(report)
    if isinstance(expr, sp.Mul):  # d(floor(x)·x) = floor(x) at an integer (floor' = 0)
        assert report.symbolic[0] == report.autograd[0] == float(expr.args[0].subs(x, at))


def test_polygamma_needs_a_whole_order():
    with pytest.raises(sg.UnsupportedFunctionError, match="order"):
        sg.gradient(sp.polygamma(x, x), [x])
