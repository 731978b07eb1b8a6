"""``check_gradient`` and ``check_objective``: three independent gradients compared."""

from __future__ import annotations

import dataclasses

import numpy as np

import symgrad.autograd as ag
from symgrad._point import split_point
from symgrad._expr import as_expr, as_symbols, canonicalize, check_supported, free_symbols, has_any
from symgrad.check._domain import check_domain
from symgrad.check._evaluate import NON_ANALYTIC, evaluate
from symgrad.check._finite import central_estimate, complex_step_gradient, one_sided_gradients, steps
from symgrad.check._given import given_gradient
from symgrad.check._kinks import AxisStencil, find_kinks
from symgrad.check._report import GradientCheck
from symgrad.derive import gradient as exact_gradient
from symgrad.errors import InputError, MissingSymbolError
from symgrad.jit._pipeline import gradient_module

__all__ = ["check_gradient", "check_objective"]


def _symbolic_gradient(expr, wrt, extra):
    """The core engine's gradient, compiled: a function of ``(*theta, *extra values)``."""
    _, module = gradient_module(expr, wrt, extra)
    return lambda *values: np.asarray(module.scalar(*map(float, values)), dtype=np.float64).reshape(len(wrt))


def _split_point(expr, wrt, at):
    """``(theta, constants)``: the point in ``wrt`` order and the other bound symbols."""
    theta, constants = split_point(at, wrt)
    unknown = sorted((s for s in free_symbols(expr) if s not in wrt and s not in constants), key=str)
    if unknown:
        raise MissingSymbolError(
            f"the expression uses {', '.join(map(str, unknown))}, which has no value; "
            "add it to wrt or give its value in the at dict."
        )
    return theta, constants


def _describe_point(wrt, theta, constants):
    """``describe(sample)`` for :func:`check_domain`: the point, as ``x = 1.0, y = -2.0``."""
    shown = ", ".join(f"{s} = {float(v)!r}" for s, v in [*zip(wrt, theta), *constants.items()])
    return lambda sample: shown


def _describe_sample(wrt, theta, data):
    """``describe(sample)`` with data: the parameters, then the sample's index and values."""
    params = ", ".join(f"{s} = {float(v)!r}" for s, v in zip(wrt, theta))

    def describe(k):
        row = ", ".join(f"{s} = {float(np.ravel(c)[k])!r}" for s, c in data.items())
        return f"{params}, in sample {k} ({row})" if data else params
    return describe


#: Finite differences are refined until their error estimate is this fraction of the tolerance.
ACCURACY = 0.1


#: More than this relative accuracy is out of reach of float64 differences; asking for it
#: (``rtol = 0``) would only try every step of every scale.
FINEST = 1e-13


def _accuracy(rtol, atol) -> tuple[float, float]:
    """``(rtol, atol)`` asked of finite differences: a tenth of the check's own, so that a
    correct gradient passes with a margin and a wrong one still fails."""
    return max(ACCURACY * float(rtol), FINEST), ACCURACY * float(atol)


def _kink_report(f, expr, wrt, theta, env, h):
    """Kinks at ``theta`` (or within the steps ``h``), with one-sided differences if any."""
    h = np.where(np.isfinite(h), h, steps(theta))
    kinks = find_kinks(expr, wrt, theta, AxisStencil(theta, h), env)
    if not kinks:
        return (), None, None
    left, right = one_sided_gradients(f, theta)
    return kinks, left, right


def check_gradient(expr, wrt, at, rtol: float = 1e-6, atol: float = 1e-8, gradient=None) -> GradientCheck:
    """Compare the symbolic, autograd and finite-difference gradients of ``expr`` at a point.

    Entry ``i`` passes when ``|g_i − s_i| ≤ atol + rtol·|s_i|`` for ``g`` the autograd and
    the numeric gradient, ``s`` the compiled symbolic one. The numeric gradient is the
    complex step where ``expr`` is analytic (no ``Abs sign Max Min Heaviside
    Piecewise``), central differences otherwise. At a kink the report names it, shows
    one-sided differences, and judges symbolic vs autograd only.

    Args:
        expr: scalar SymPy expression.
        wrt: the symbols to differentiate, in order.
        at: a sequence of floats in ``wrt`` order, or ``{symbol: float}`` (which may also
            fix symbols outside ``wrt``).
        rtol, atol: tolerances, read as ``numpy.isclose`` reads them.
        gradient: optionally, a gradient derived by hand, to be checked against the exact
            one: a list (or ``sp.Matrix``) of one expression per symbol of ``wrt``, or a
            callable taking one float per symbol of ``wrt`` and returning ``n`` numbers.
            Each entry is judged as the others are (``given_ok``); ``ok`` is then false if
            any is wrong, and the report names the wrong entries.

    Returns:
        GradientCheck.

    Example:
        >>> import sympy as sp
        >>> x, y = sp.symbols("x y")
        >>> report = check_gradient(x**2 * sp.sin(y), [x, y], [1.5, 0.5],
        ...                         gradient=[2 * x * sp.sin(y), x**2 * sp.sin(y)])
        >>> report.ok, report.given_ok.tolist()
        (False, [True, False])

    Raises:
        ExpressionTypeError: for text (use ``symgrad.parse``) or a non-expression.
        MissingSymbolError: naming a symbol with no value.
        UnsupportedFunctionError: naming an unsupported function.
        DomainError: a function is undefined at the point (``log`` of a number <= 0,
            ``sqrt`` of a negative one, ``asin`` outside ``[-1, 1]``, a division by zero,
            ...); the message names it and the value of its argument. Where a value is
            finite but a derivative is infinite (``sqrt`` at 0), the report says so instead.
        InputError: ``gradient`` has the wrong number of entries (see ``given_gradient``).
    """
    expr = canonicalize(as_expr(expr))
    check_supported(expr, "check_gradient")
    wrt = as_symbols(wrt)
    theta, constants = _split_point(expr, wrt, at)
    extra = tuple(constants)
    singular = check_domain(expr, {**dict(zip(wrt, theta)), **constants}, wrt,
                            _describe_point(wrt, theta, constants))
    given = None if gradient is None else given_gradient(gradient, wrt, theta, constants)

    def f(t):
        return evaluate(expr, {**dict(zip(wrt, t)), **constants})

    with np.errstate(all="ignore"):  # a singular point gives infinities on purpose
        symbolic = _symbolic_gradient(expr, wrt, extra)(*theta, *constants.values())
        autograd = ag.grad(expr, wrt, {**dict(zip(wrt, theta)), **constants})
        if has_any(expr, *NON_ANALYTIC):
            estimate = central_estimate(f, theta, *_accuracy(rtol, atol))
            numeric, method, h = estimate.gradient, "central differences", estimate.steps
        else:
            numeric, method, h = complex_step_gradient(f, theta), "complex step", steps(theta)
        kinks, left, right = _kink_report(f, expr, wrt, theta, constants, h)
    report = GradientCheck(wrt, theta, symbolic, autograd, numeric, float(rtol), float(atol),
                           method, kinks, left, right, singular)
    if given is None:
        return report
    exact = tuple(exact_gradient(expr, list(wrt))) if given[1] else ()
    return dataclasses.replace(report, given=given[0], given_exprs=given[1], exact_exprs=exact)


def check_objective(objective, theta, columns, rtol: float = 1e-6, atol: float = 1e-8) -> GradientCheck:
    """Three-way check of a data objective's mean gradient (what ``Objective.check`` runs).

    ``symbolic`` is ``objective.grad(θ, *columns)``; ``autograd`` is :func:`symgrad.autograd.grad`
    of ``objective.expr`` with the data bound to the columns (the mean over samples);
    ``numeric`` is central differences of ``objective.value(θ, *columns)``.

    Args:
        objective: anything with ``.expr``, ``.params``, ``.data``, ``.grad`` and ``.value``.
        theta: parameters, length ``n``.
        columns: one 1-D array per data symbol.

    Raises:
        InputError: the wrong number of parameters or columns.
        DomainError: a function is undefined at ``theta`` for some sample; the message
            names the function, the parameters and the sample.
    """
    expr = canonicalize(as_expr(objective.expr))
    wrt = tuple(objective.params)
    theta = np.asarray(theta, dtype=np.float64).ravel()
    if theta.size != len(wrt):
        raise InputError(f"theta has {theta.size} values for {len(wrt)} parameters.")
    columns = [np.asarray(c, dtype=np.float64) for c in columns]
    if len(columns) != len(objective.data):
        raise InputError(
            f"expected {len(objective.data)} data columns "
            f"({', '.join(map(str, objective.data))}), got {len(columns)}."
        )
    data = dict(zip(objective.data, columns))
    singular = check_domain(expr, {**dict(zip(wrt, theta)), **data}, wrt,
                            _describe_sample(wrt, theta, data))

    prepare = getattr(objective, "prepare", None)  # an sg.Objective checks its data once
    prepared = (prepare(*columns, rows=False),) if prepare else columns

    def f(t):
        return float(objective.value(t, *prepared))

    with np.errstate(all="ignore"):  # a singular point gives infinities on purpose
        symbolic = np.asarray(objective.grad(theta, *columns), dtype=np.float64).reshape(len(wrt))
        autograd = ag.grad(expr, wrt, theta, data=data)
        estimate = central_estimate(f, theta, *_accuracy(rtol, atol))
        kinks, left, right = _kink_report(f, expr, wrt, theta, data, estimate.steps)
    return GradientCheck(wrt, theta, symbolic, autograd, estimate.gradient, float(rtol), float(atol),
                         "central differences", kinks, left, right, singular)

