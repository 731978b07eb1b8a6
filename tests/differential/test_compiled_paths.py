"""Generated expressions through every compiled path, against the oracle.

One example is a batch of cases renamed apart (see ``batches``):

- ``sg.compile`` of their values and closed-form gradients, called at the point
  (scalars) and on broadcast arrays;
- ``sg.Objective`` of their sum (``engine="scalar"``), serial or threaded:
  ``.value``, ``.grad``, ``.value_and_grad``, ``.hessian`` for N in
  {1, 63, 64, 65, 300} samples, and ``batch_value_and_grad`` / ``batch_value`` over
  index arrays with repeats and over every row of ``prepare``'s row-major layout;
- the loops engine on a sum of four copies of one case at four points (one family);
- ``sg.check_gradient``'s ``.symbolic`` and ``.autograd`` for the first case.

Every float64 result must be within ``oracle.TOLERANCE`` times its condition scale.
"""

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.jit import JitOptions
from batches import columns, exact_mean, with_rows
from compare import check_float, count
from generated import Case, Picker, case, good_point, original

SIZES = (1, 63, 64, 65, 300)
SETTINGS = settings(
    max_examples=3,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
BATCH = 8


@st.composite
def batches(draw, size=BATCH):
    pick = Picker(draw)
    terms = [with_rows(pick, case(pick, order=2, depth=3), str(k)) for k in range(size)]
    parallel = draw(st.booleans())
    indices = draw(st.lists(st.integers(0, 299), min_size=1, max_size=40))
    return terms, parallel, np.array(indices, dtype=np.int64)


def check_kernel(terms):
    cases = [t.case for t in terms]
    args = [s for c in cases for s in c.params + c.data]
    grads = [sg.gradient(c.expr, c.params) for c in cases]
    outputs = [c.expr for c in cases] + [g[i] for g in grads for i in range(g.shape[0])]
    exact = [(c.exact["value"], c.exact["value_M"], lambda c=c: f"value of {c}") for c in cases]
    exact += [(c.exact["grad"][i], c.exact["grad_M"][i], lambda c=c, p=p: f"d/d{p} of {c}") for c in cases for i, p in enumerate(c.params)]
    kernel = sg.compile(outputs, args)
    point = {s: v for c in cases for s, v in c.point.items()}
    got = kernel(*[point[s] for s in args])
    assert got.shape == (len(outputs),)
    for g, (e, m, what) in zip(got, exact):
        check_float("sg.compile", g, e, m, what)
    # arrays broadcast: the first argument a scalar, the others (2, 1) or (1, 3) arrays
    values = [point[args[0]]] + [np.full((2, 1) if k % 2 else (1, 3), point[s]) for k, s in enumerate(args[1:])]
    got = kernel(*values)
    shape = np.broadcast_shapes(*[np.shape(v) for v in values])
    assert got.shape == shape + (len(outputs),)
    for g, (e, m, what) in zip(np.moveaxis(got, -1, 0), exact):
        for entry in g.ravel():
            check_float("sg.compile arrays", entry, e, m, what)
    count("sg.compile", len(cases), [original(c.expr) for c in cases])
    count("sg.compile arrays", len(cases), [original(c.expr) for c in cases])


def check_mean(path, got, v, vm, grad, params, what):
    """A ``(value, gradient)`` pair against the oracle's mean ``v`` (scale ``vm``) and ``grad``."""
    got_v, got_g = got
    check_float(path, got_v, v, vm, what)
    for p, g in zip(params, got_g):
        check_float(path, g, *grad[p], f"d/d{p}, {what}")


def check_objective(terms, obj, sizes, indices, path):
    params = list(obj.params)
    theta = np.array([t.case.point[p] for p in params for t in terms if p in t.case.params])
    for n in sizes:
        cols = columns(terms, obj.data, n) if obj.data else []
        if not obj.data and n > 1:
            break
        v, vm, grad, hess = exact_mean(terms, range(n))
        if n == max(sizes):
            every = (v, vm, grad)
        what = lambda n=n: f"N={n} of sum of {[str(t.case.expr) for t in terms]}"  # noqa: E731
        check_float(f"{path} .value", obj.value(theta, *cols), v, vm, what)
        got_v, got_g = obj.value_and_grad(theta, *cols)
        check_float(f"{path} .value_and_grad", got_v, v, vm, what)
        for p, g in zip(params, obj.grad(theta, *cols)):
            check_float(f"{path} .grad", g, *grad[p], lambda: f"d/d{p}, {what()}")
        for p, g in zip(params, got_g):
            check_float(f"{path} .value_and_grad", g, *grad[p], lambda: f"d/d{p}, {what()}")
        h = obj.hessian(theta, *cols)
        for i, p in enumerate(params):
            for j, q in enumerate(params):
                if (p, q) in hess:
                    check_float(f"{path} .hessian", h[i, j], *hess[(p, q)], lambda: f"d2/d{p}d{q}, {what()}")
                else:
                    assert h[i, j] == 0, f"{path} .hessian: d2/d{p}d{q} of separate cases is {h[i, j]}"
    if obj.data:
        data = obj.prepare(*columns(terms, obj.data, max(sizes)))
        v, vm, grad, _ = exact_mean(terms, list(indices))
        what = f"indices {indices.tolist()}"
        check_float(f"{path} batch", obj.batch_value(theta, data, indices), v, vm, what)
        check_mean(f"{path} batch", obj.batch_value_and_grad(theta, data, indices), v, vm, grad, params, what)
        # every sample of the row-major layout, no index: the kernel reads strided columns
        check_mean(f"{path} batch rows", obj.batch_value_and_grad(theta, data), *every, params, f"all {max(sizes)} rows")
    count(f"{path} (value, grad, hessian x N)", len(terms), {original(t.case.expr) for t in terms})


@SETTINGS
@given(batches())
def test_kernel_objective_and_check(batch):
    terms, parallel, indices = batch
    check_kernel(terms)

    params = [p for t in terms for p in t.case.params]
    data = [x for t in terms for x in t.case.data]
    options = JitOptions(parallel=parallel)
    obj = sg.Objective(sp.Add(*[t.case.expr for t in terms]), params, data, options=options, engine="scalar")
    check_objective(terms, obj, SIZES, indices, f"Objective scalar {'threaded' if parallel else 'serial'}")

    first = terms[0].case
    symbols = first.params + first.data
    report = sg.check_gradient(first.expr, list(symbols), [first.point[s] for s in symbols])
    for i, p in enumerate(first.params):
        check_float("check_gradient .symbolic", report.symbolic[i], first.exact["grad"][i], first.exact["grad_M"][i], lambda: f"d/d{p} of {first}")
        check_float("check_gradient .autograd", report.autograd[i], first.exact["grad"][i], first.exact["grad_M"][i], lambda: f"d/d{p} of {first}")
    count("check_gradient", 1, [original(first.expr)])


def _abs_of_symbolic_power(expr):
    return any(p.is_Pow and not p.exp.is_Number for a in expr.atoms(sp.Abs) for p in a.atoms(sp.Pow))


@st.composite
def families(draw, copies=4):
    """One case and three more points of it: a sum of ``copies`` same-shaped terms."""
    pick = Picker(draw)
    for _ in range(10):
        base = case(pick, order=2, depth=3)
        if _abs_of_symbolic_power(base.expr):
            continue  # test_found_defects.test_loops_engine_abs_of_a_symbolic_power
        points = [(base.point, base.exact)]
        while len(points) < copies:
            got = good_point(pick, base.expr, base.params, base.params + base.data)
            if got is None:
                break
            points.append(got)
        if len(points) == copies:
            break
    else:
        points = [(base.point, base.exact)] * copies
    terms = []
    for k, (point, exact) in enumerate(points):
        terms.append(with_rows(pick, Case(base.expr, base.params, base.data, point, exact), f"c{k}"))
    parallel = draw(st.booleans())
    indices = draw(st.lists(st.integers(0, 299), min_size=1, max_size=40))
    return terms, parallel, np.array(indices, dtype=np.int64)


@SETTINGS
@given(families())
def test_loops_engine(batch):
    terms, parallel, indices = batch
    params = [p for t in terms for p in t.case.params]
    data = [x for t in terms for x in t.case.data]
    obj = sg.Objective(sp.Add(*[t.case.expr for t in terms]), params, data, options=JitOptions(parallel=parallel), engine="loops")
    assert obj.engine == "loops"
    check_objective(terms, obj, SIZES, indices, f"Objective loops {'threaded' if parallel else 'serial'}")
