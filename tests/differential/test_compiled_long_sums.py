"""Long sums of generated expressions through ``sg.compile``'s family loops, against the oracle.

A long sum of terms that differ only in their numbers compiles to a loop over a
table of those numbers (``jit._lifted``). Each example draws generated cases and
makes each a sum of ``TERMS`` copies (the loops are forced from any size) shifted along its first parameter,
``S(p) = sum_k f(p + k/16)``, compiled together as one kernel. The oracle
evaluates ``S`` itself at 40 digits, with its running error bound (which counts the
rounding of each shift and of the sum, in any order); only the shifts at which the
case is acceptable (finite, moderate, away from kinks: ``generated.acceptable``) are
summed.
"""

import sympy as sp
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.jit import _lifted
from compare import check_float, count
from generated import RandomPicker, acceptable, case, original
from oracle import OracleDomainError, evaluate

TERMS = 32
CASES = 3
SETTINGS = settings(
    max_examples=2,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def shifted_sum(c):
    """``sum_k expr(p + k/16)`` over the shifts ``k < TERMS`` at which the case is acceptable."""
    p = c.params[0]
    terms = []
    for k in range(TERMS):
        shift = sp.Rational(k, 16)
        near = {**c.point, p: c.point[p] + k / 16}
        try:
            if not acceptable(c.oracle.at(near)):
                continue
        except (OracleDomainError, ZeroDivisionError, OverflowError):
            continue
        terms.append(c.expr.xreplace({p: p + shift}))
    return sp.Add(*terms), len(terms)


@SETTINGS
@given(st.integers(0, 2**63 - 1))
def test_compile_of_long_shifted_sums_matches_the_oracle(monkeypatch, seed):
    # every sum through the family loops, however short (from 600 nodes in normal use)
    monkeypatch.setattr(_lifted, "FROM", 0)
    monkeypatch.setattr(_lifted, "GAIN", 1)
    pick = RandomPicker(seed)
    sums, args, point, shown = [], [], {}, []
    for j in range(CASES):
        c = case(pick, order=1, depth=2)
        total, n = shifted_sum(c)
        if n < TERMS // 2:
            continue
        mapping = {s: sp.Symbol(f"{s.name}_{j}") for s in c.params + c.data}  # apart in one kernel
        sums.append((total.xreplace(mapping), n))
        args += [mapping[s] for s in c.params + c.data]
        point.update({mapping[s]: v for s, v in c.point.items()})
        shown.append(c.expr)
    if not sums:
        return
    kernel = sg.compile([s for s, _ in sums], args)
    assert "_C0" in kernel.source  # the shifts are read from a table
    got = kernel(*[point[s] for s in args])
    for g, (s, n) in zip(got, sums):
        exact, scale = evaluate(s, point)
        check_float("sg.compile long sums", g, exact, scale, lambda s=s, n=n: f"sum of {n} shifted terms {original(s)}")
    count("sg.compile long sums", len(sums), shown)
