"""Several generated cases in one compiled kernel, and their exact answers.

Compiling costs about a second per kernel, so the numeric paths put a batch of
cases into one kernel: each case is renamed apart (``generated.renamed``), the
kernel computes all of them, and each output is compared with its own case's oracle
values. In an ``Objective`` the per-sample expression is the sum of the cases: the
gradient entry of a parameter then depends on one case only (checked per case), the
value is the sum (checked against the sum, with the sum's condition as scale), and
the Hessian is block diagonal (the blocks checked per case, the rest exactly 0).

Data: each case has two data rows, A (its point) and B (another acceptable point
with the same parameters); sample ``i`` reads row B when ``i % 3 == 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from generated import Case, good_point, renamed

#: rounding of the mean over N samples in blocks of 64: at most ~64 + N/64 additions per term
SUM_FACTOR = 70


@dataclass(frozen=True)
class Term:
    """A renamed case with its two data rows' oracle answers."""

    case: Case
    rows: tuple  # (point A, exact A), (point B, exact B)


def with_rows(pick, case: Case, tag: str) -> Term:
    """Rename ``case`` apart and find its second data row (row A again if none is found)."""
    c = renamed(case, tag)
    rows = [(c.point, c.exact)]
    if c.data:
        fixed = {p: c.point[p] for p in c.params}
        got = None
        for _ in range(2):
            got = good_point(pick, c.expr, c.params, c.params + c.data, fixed=fixed)
            if got is not None:
                break
        rows.append(got if got is not None else rows[0])
    else:
        rows.append(rows[0])
    return Term(c, tuple(rows))


def row_of(i):
    return 1 if i % 3 == 1 else 0


def columns(terms, data, n):
    """Data columns of ``n`` samples for the symbols ``data``."""
    where = {x: t for t in terms for x in t.case.data}
    cols = []
    for x in data:
        t = where[x]
        a, b = t.rows[0][0][x], t.rows[1][0][x]
        cols.append(np.array([b if row_of(i) else a for i in range(n)]))
    return cols


def exact_mean(terms, samples):
    """The oracle's mean value, gradient (dict param -> (g, scale)), Hessian blocks, over ``samples``.

    Returns ``(value, value_scale, grad, hess)`` with ``grad[p] = (g, M)`` and
    ``hess[(p, q)] = (h, M)`` for ``p, q`` of one case (every other entry is 0).
    """
    n = len(samples)
    counts = [sum(1 for i in samples if row_of(i) == r) for r in (0, 1)]
    with mpmath.workdps(40):
        v = vm = mpmath.mpf(0)
        grad, hess = {}, {}
        for t in terms:
            for r in (0, 1):
                if not counts[r]:
                    continue
                ex = t.rows[r][1]
                w = mpmath.mpf(counts[r]) / n
                v += w * ex["value"]
                vm += w * (ex["value_M"] + (len(terms) - 1 + SUM_FACTOR) * abs(ex["value"]))
                for i, p in enumerate(t.case.params):
                    g, gm = grad.get(p, (0, 0))
                    grad[p] = (g + w * ex["grad"][i], gm + w * (ex["grad_M"][i] + SUM_FACTOR * abs(ex["grad"][i])))
                    if ex["hess"] is None:
                        continue
                    for j, q in enumerate(t.case.params):
                        h, hm = hess.get((p, q), (0, 0))
                        hv = ex["hess"][i][j]
                        hess[(p, q)] = (h + w * hv, hm + w * (ex["hess_M"][i][j] + SUM_FACTOR * abs(hv)))
    return v, vm, grad, hess
