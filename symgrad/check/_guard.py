"""The start-up guard of ``fit`` and ``minimize``: the compiled gradient against autograd.

Before the first update, the gradient that the compiled kernel gives on a few samples
is compared with the one the independent reverse-mode engine (``symgrad.autograd``,
which involves no SymPy differentiation and no generated code) gives on the same
samples. A disagreement is a symgrad bug: the run stops before it can optimise with
a wrong gradient, with an error that names the parameters.
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import GradientMismatchError

__all__ = ["GUARD_RTOL", "GUARD_SAMPLES", "guard_gradient"]

#: Samples the guard evaluates (spread evenly over the data).
GUARD_SAMPLES = 5
#: Entries agree when ``|c - a| <= GUARD_RTOL * (|a| + max_k |a_k|)``: both engines
#: evaluate the same functions in float64, so they differ by rounding (about 1e-15
#: relative); a code-generation bug is of order one.
GUARD_RTOL = 1e-7


def guard_gradient(obj, x: np.ndarray, data, columns=(), *, caller: str) -> None:
    """Raise ``GradientMismatchError`` unless ``obj``'s compiled gradient matches autograd at ``x``.

    Args:
        obj: an ``sg.Objective``.
        x: the starting parameters, float64 ``(n,)``.
        data: ``obj.prepare(*columns)`` (the kernel's view of the columns).
        columns: the data columns, one per data symbol.
        caller: ``"fit"`` or ``"minimize"``, for the message.

    A point where the two disagree only by a kink convention met by rounding (an
    argument of ``max`` within an ulp of a tie) is told apart from a real bug by
    checking a second, slightly moved point: the run stops only if both disagree.
    """
    n = len(columns[0]) if len(columns) else 1
    idx = np.unique(np.linspace(0, n - 1, min(GUARD_SAMPLES, n)).astype(np.int64))
    picked = {s: np.asarray(c, dtype=np.float64)[idx] for s, c in zip(obj.data, columns)}
    bad = _disagreement(obj, x, data, idx if len(columns) else None, picked)
    if not bad:
        return
    rng = np.random.default_rng(0)
    moved = x * (1 + 1e-6 * rng.standard_normal(x.shape)) + 1e-9 * rng.standard_normal(x.shape)
    if not _disagreement(obj, moved, data, idx if len(columns) else None, picked):
        return
    rows = "; ".join(f"{obj.params[i]}: compiled {c!r}, autograd {a!r}" for i, c, a in bad[:5])
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    raise GradientMismatchError(
        f"{caller}: the compiled gradient disagrees with the autograd engine at the starting point, "
        f"on {len(idx)} sample(s): {rows}{more}. This is a bug in symgrad's code generation, not in "
        f"your model; please report it with the expression. Pass check=False to run anyway (not advised)."
    )


def _disagreement(obj, x, data, idx, picked) -> list[tuple[int, float, float]]:
    from symgrad.autograd._sympy import tape_value_and_grad

    with np.errstate(all="ignore"):
        value, compiled = obj.batch_value_and_grad(x, data, idx)
        try:
            a_value, reference = tape_value_and_grad(obj.expr, obj.params, x, None, picked)
        except (ArithmeticError, ValueError):
            return []  # outside the engine's domain: nothing to compare
    if not (np.isfinite(value) and np.isfinite(a_value) and np.all(np.isfinite(reference))):
        return []  # the loop reports a non-finite start itself
    scale = GUARD_RTOL * (np.abs(reference) + np.max(np.abs(reference), initial=0.0))
    wrong = np.flatnonzero(~(np.abs(compiled - reference) <= scale))
    return [(int(i), float(compiled[i]), float(reference[i])) for i in wrong]
