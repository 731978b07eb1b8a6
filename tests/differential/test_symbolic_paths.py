"""Generated expressions: closed forms, the autograd engine and ``explain`` against the oracle.

Each example is a batch of generated cases (``generated.cases``). For every case:
``sg.gradient`` and ``sg.hessian`` (SymPy results evaluated at 40 digits, which must
equal SymPy's own ``diff`` to 30 digits), ``sg.explain`` (its ``result`` likewise)
and ``symgrad.autograd.grad`` (float64, within the condition-scaled tolerance).
``sg.jacobian`` is called once per batch on the cases renamed apart, so its
off-diagonal blocks must be exactly zero.
"""

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad as sg
from compare import check_closed, check_float, count
from generated import cases, renamed

SETTINGS = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

BATCH = 4


@SETTINGS
@given(st.lists(cases(order=2, depth=3), min_size=BATCH, max_size=BATCH))
def test_closed_forms_autograd_and_explain(batch):
    for case in batch:
        ex, at = case.exact, case.point
        grad = sg.gradient(case.expr, case.params)
        assert grad.shape == (len(case.params), 1)
        for i, p in enumerate(case.params):
            check_closed("sg.gradient", grad[i], at, ex["grad"][i], ex["grad_M"][i], lambda: f"d/d{p} of {case}")
        count("sg.gradient", exprs=[case.expr])

        hess = sg.hessian(case.expr, case.params)
        for i, p in enumerate(case.params):
            for j, q in enumerate(case.params):
                check_closed("sg.hessian", hess[i, j], at, ex["hess"][i][j], ex["hess_M"][i][j], lambda: f"d2/d{p}d{q} of {case}")
        count("sg.hessian", exprs=[case.expr])

        steps = sg.explain(case.expr, list(case.params))
        for i, (e, p) in enumerate(zip(steps, case.params)):
            check_closed("sg.explain", e.result, at, ex["grad"][i], ex["grad_M"][i], lambda: f"explain d/d{p} of {case}")
        count("sg.explain", exprs=[case.expr])

        symbols = case.params + case.data
        got = sg.autograd.grad(case.expr, list(symbols), [at[s] for s in symbols])
        for i, p in enumerate(case.params):
            check_float("autograd.grad", got[i], ex["grad"][i], ex["grad_M"][i], lambda: f"d/d{p} of {case}")
        count("autograd.grad", exprs=[case.expr])

    apart = [renamed(c, str(k)) for k, c in enumerate(batch)]
    wrt = [p for c in apart for p in c.params]
    point = {s: v for c in apart for s, v in c.point.items()}
    jac = sg.jacobian([c.expr for c in apart], wrt)
    assert jac.shape == (len(apart), len(wrt))
    for r, c in enumerate(apart):
        for j, p in enumerate(wrt):
            if p in c.params:
                i = c.params.index(p)
                check_closed("sg.jacobian", jac[r, j], point, c.exact["grad"][i], c.exact["grad_M"][i], lambda: f"d/d{p} of {c}")
            else:
                assert jac[r, j] == 0, f"sg.jacobian: row {r} ({c.expr}) depends on {p}?"
    count("sg.jacobian", len(apart), [c.expr for c in batch])


def test_real_symbols_convention():
    # d|x|/dx = sign(x) for the real symbols of api.md, checked through the same path
    x = sp.Symbol("x")
    assert sg.gradient(sp.Abs(x), [x])[0] == sp.sign(x)
