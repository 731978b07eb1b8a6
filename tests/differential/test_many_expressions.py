"""The bulk of the generated expressions, through the symbolic paths, against the oracle.

The paths whose cost per expression is a few milliseconds take the bulk of the
generated expressions (the compiled paths, where Numba's compile time grows with
each expression, take fewer: ``test_compiled_paths``). Each example draws a batch
of distinct cases of gradient order (values and first derivatives at one good
point), at nesting depth 2 or 3, and for every case compares with the oracle:

- the closed forms of ``sg.gradient``, evaluated at 40 digits (they must equal
  SymPy's own ``diff`` to 30 digits);
- ``symgrad.autograd.grad`` (float64, within ``oracle.TOLERANCE`` of the
  condition scale).

Every ``EXPLAIN_EVERY``-th case also goes through ``sg.explain``, whose results must
be the same closed forms. The Hessian, ``sg.jacobian``, the kernels and the
objectives are compared on fewer expressions (``test_symbolic_paths``,
``test_compiled_paths``); the run prints how many distinct expressions each path
compared.

Hypothesis draws the seed of each batch, and a seeded ``RandomPicker`` draws the
cases: Hypothesis's own choices, shrinking towards simple draws, repeat the same
small expressions across examples (2,150 cases held 525 distinct expressions),
while seeded draws are almost all different. A failure names its seed and case;
``bench/differential.py --seed`` replays the same generator at scale, and the
shrinking tests of ``test_symbolic_paths`` keep Hypothesis's own draws.
"""

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import symgrad as sg
from compare import check_closed, check_float, count
from generated import RandomPicker, case

BATCH = 25
EXAMPLES = 100
EXPLAIN_EVERY = 5
DEPTH = 2
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a smaller seed is not a simpler case: no shrinking
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example],
)


def distinct_cases(seed, size=BATCH):
    """``size`` cases with pairwise different expressions, drawn from ``seed``."""
    pick = RandomPicker(seed)
    seen, out = set(), []
    for _ in range(3 * size):
        c = case(pick, order=1, depth=DEPTH, avoid=seen)
        if c.expr not in seen:
            seen.add(c.expr)
            out.append(c)
        if len(out) == size:
            break
    return out


@SETTINGS
@given(st.integers(0, 2**63 - 1))
def test_gradient_and_autograd_of_many_expressions(seed):
    batch = distinct_cases(seed)
    for k, c in enumerate(batch):
        ex, at = c.exact, c.point
        grad = sg.gradient(c.expr, c.params)
        assert grad.shape == (len(c.params), 1)
        for i, p in enumerate(c.params):
            check_closed("sg.gradient", grad[i], at, ex["grad"][i], ex["grad_M"][i], lambda: f"d/d{p} of {c} (seed {seed})")

        symbols = c.params + c.data
        got = sg.autograd.grad(c.expr, list(symbols), [at[s] for s in symbols])
        for i, p in enumerate(c.params):
            check_float("autograd.grad", got[i], ex["grad"][i], ex["grad_M"][i], lambda: f"d/d{p} of {c} (seed {seed})")

        if k % EXPLAIN_EVERY == 0:
            for i, (e, p) in enumerate(zip(sg.explain(c.expr, list(c.params)), c.params)):
                check_closed("sg.explain", e.result, at, ex["grad"][i], ex["grad_M"][i], lambda: f"explain d/d{p} of {c} (seed {seed})")
            count("sg.explain", exprs=[c.expr])
    exprs = [c.expr for c in batch]
    count("sg.gradient", len(batch), exprs)
    count("autograd.grad", len(batch), exprs)
