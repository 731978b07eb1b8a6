"""The start-up guard of ``fit``, ``minimize`` and ``curve_fit``: compiled derivatives against autograd.

Before the first update, the gradient (or, for least squares, the Jacobian rows) that
the compiled kernel gives on a few samples is compared with what the independent
reverse-mode engine (``symgrad.autograd``, which involves no SymPy differentiation and
no generated code) gives on the same samples. A disagreement is a symgrad bug: the run
stops before it can optimise with a wrong derivative, with an error that names the
parameters.

The engine runs as a :class:`~symgrad.autograd._program.TapeProgram`: the expression's
tape built once and replayed level by level, every node of one level and primitive in
one NumPy call, so that a network of thousands of parameters costs milliseconds, not
the Python time of one tape node per operation. An expression with ``Piecewise`` runs
on the ordinary tape (``Tensor``), whose branch selection it needs.
"""

from __future__ import annotations

import weakref

import numpy as np

from symgrad.errors import GradientMismatchError, UnsupportedFunctionError

__all__ = ["GUARD_RTOL", "GUARD_SAMPLES", "guard_gradient", "guard_jacobian"]

#: Samples the guard evaluates (spread evenly over the data).
GUARD_SAMPLES = 5
#: Entries agree when ``|c - a| <= GUARD_RTOL * (|a| + max_k |a_k|)``: both engines
#: evaluate the same functions in float64, so they differ by rounding (about 1e-15
#: relative); a code-generation bug is of order one.
GUARD_RTOL = 1e-7


def guard_gradient(obj, x: np.ndarray, data, columns=(), *, caller: str) -> None:
    """Raise ``GradientMismatchError`` unless ``obj``'s compiled gradient matches autograd at ``x``.

    Both sides give the mean gradient ``(1/S) Σ_s ∇_θ expr(θ, d_s)`` over the same
    ``S <= GUARD_SAMPLES`` samples.

    Args:
        obj: an ``sg.Objective``.
        x: the starting parameters, float64 ``(n,)``.
        data: ``obj.prepare(*columns)`` (the kernel's view of the columns).
        columns: the data columns, one per data symbol.
        caller: ``"fit"`` or ``"minimize"``, for the message.

    Raises:
        GradientMismatchError: naming the parameters, both values and the samples.

    A point where the two disagree only by a kink convention met by rounding (an
    argument of ``max`` within an ulp of a tie) is told apart from a real bug by
    checking a second, slightly moved point: the run stops only if both disagree.
    """
    idx, picked = _samples(columns)
    reference = _Reference(obj, obj.expr, obj.params, obj.data)
    kernel_idx = idx if len(columns) else None

    def disagreement(theta):
        with np.errstate(all="ignore"):
            value, compiled = obj.batch_value_and_grad(theta, data, kernel_idx)
            found = reference.mean_value_and_grad(theta, picked)
        if found is None or not np.isfinite(value):
            return []  # outside the engine's domain, or a non-finite start the loop reports itself
        return [(obj.params[i], c, a) for i, c, a in _wrong(compiled, found[1])]

    bad = _confirmed(disagreement, x)
    if bad:
        rows = "; ".join(f"{p}: compiled {c!r}, autograd {a!r}" for p, c, a in bad[:5])
        _raise(caller, "gradient", len(idx), rows, len(bad))


def guard_jacobian(ls, x: np.ndarray, columns=(), *, caller: str) -> None:
    """Raise ``GradientMismatchError`` unless a least-squares Jacobian matches autograd at ``x``.

    The rows ``J[s, i] = ∂r(θ, d_s)/∂θ_i`` of the compiled kernel on ``S <= GUARD_SAMPLES``
    samples against the per-sample gradients of the replayed tape.

    Args:
        ls: an ``optimize.LeastSquares`` (``.residual``, ``.params``, ``.data`` and
            ``.jacobian(x, columns)``).
        x: the starting parameters, float64 ``(n,)``.
        columns: its checked data columns (``ls.prepare``), one per data symbol.
        caller: ``"curve_fit"``, for the message.

    Raises:
        GradientMismatchError: naming the parameters, the sample rows and both values.
    """
    idx, picked = _samples(columns)
    reference = _Reference(ls, ls.residual, ls.params, ls.data)

    def disagreement(theta):
        with np.errstate(all="ignore"):
            compiled = np.broadcast_to(ls.jacobian(theta, tuple(picked)), (len(idx), len(ls.params)))
            found = reference.sample_grads(theta, picked)
        if found is None:
            return []
        wrong = _wrong(compiled.ravel(), found.T.ravel())
        return [(ls.params[k % len(ls.params)], int(idx[k // len(ls.params)]), c, a) for k, c, a in wrong]

    bad = _confirmed(disagreement, x)
    if bad:
        rows = "; ".join(f"{p} at row {r}: compiled {c!r}, autograd {a!r}" for p, r, c, a in bad[:5])
        _raise(caller, "Jacobian", len(idx), rows, len(bad))


def _samples(columns):
    """Up to ``GUARD_SAMPLES`` row numbers spread evenly over the data, and those rows of each column."""
    n = len(columns[0]) if len(columns) else 1
    idx = np.unique(np.linspace(0, n - 1, min(GUARD_SAMPLES, n)).astype(np.int64))
    return idx, [np.asarray(c, dtype=np.float64)[idx] for c in columns]


def _wrong(compiled, reference):
    """``(i, compiled_i, reference_i)`` for the entries outside ``GUARD_RTOL``; none if the reference is not finite."""
    if not np.all(np.isfinite(reference)):
        return []
    scale = GUARD_RTOL * (np.abs(reference) + np.max(np.abs(reference), initial=0.0))
    wrong = np.flatnonzero(~(np.abs(compiled - reference) <= scale))
    return [(int(i), float(compiled[i]), float(reference[i])) for i in wrong]


def _confirmed(disagreement, x):
    """The disagreements at ``x`` that persist at a slightly moved point (none if either agrees)."""
    if not disagreement(x):
        return []
    rng = np.random.default_rng(0)
    moved = x * (1 + 1e-6 * rng.standard_normal(x.shape)) + 1e-9 * rng.standard_normal(x.shape)
    return disagreement(moved)


def _raise(caller, what, samples, rows, count):
    more = f" (and {count - 5} more)" if count > 5 else ""
    raise GradientMismatchError(
        f"{caller}: the compiled {what} disagrees with the autograd engine at the starting point, "
        f"on {samples} sample(s): {rows}{more}. This is a bug in symgrad's code generation, not in "
        f"your model; please report it with the expression. Pass check=False to run anyway (not advised)."
    )


#: owner (an Objective or LeastSquares) -> the replayed tape of its expression, built once.
_PROGRAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _program(owner, expr, params: tuple, data: tuple):
    """The replayed tape of ``expr`` (``None`` for ``Piecewise``), kept for the ``owner``'s next guard."""
    from symgrad.autograd._program import TapeProgram

    try:
        return _PROGRAMS[owner]
    except (KeyError, TypeError):
        pass
    try:
        program = TapeProgram(expr, params, data)
    except UnsupportedFunctionError:
        program = None  # the tape evaluates it
    try:
        _PROGRAMS[owner] = program
    except TypeError:  # an owner without weak references is not cached
        pass
    return program


class _Reference:
    """The autograd engine's values and gradients of ``owner.expr`` on a few samples."""

    def __init__(self, owner, expr, params, data):
        self.expr, self.params, self.data = expr, tuple(params), tuple(data)
        self.program = _program(owner, expr, self.params, self.data)

    def sample_grads(self, theta, picked):
        """``∂expr(θ, d_s)/∂θ_i`` as ``(n, S)``, or ``None`` outside the engine's domain."""
        if self.program is not None:
            try:
                return self.program.run(theta, picked)[1]
            except (ArithmeticError, ValueError):
                return None
        rows = []
        for s in range(len(picked[0]) if picked else 1):
            found = self._tape(theta, [c[s:s + 1] for c in picked])
            if found is None:
                return None
            rows.append(found[1])
        return np.array(rows).T

    def mean_value_and_grad(self, theta, picked):
        """``(mean value, mean gradient)`` over the samples, or ``None`` outside the domain or not finite."""
        if self.program is None:
            found = self._tape(theta, picked)
        else:
            try:
                values, grads = self.program.run(theta, picked)
            except (ArithmeticError, ValueError):
                return None
            found = float(np.mean(values)), grads.mean(axis=1)
        if found is None or not np.isfinite(found[0]):
            return None
        return found

    def _tape(self, theta, picked):
        from symgrad.autograd._sympy import tape_value_and_grad

        try:
            return tape_value_and_grad(self.expr, self.params, theta, None, dict(zip(self.data, picked)))
        except (ArithmeticError, ValueError):
            return None
