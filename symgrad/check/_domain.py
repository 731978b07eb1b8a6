"""Points outside the real domain of an expression, and singular points of its derivative.

Every function symgrad supports is real and finite on a domain: ``log u`` needs
``u > 0``; ``u^p`` with a non-integer ``p`` needs ``u >= 0``; ``asin u`` and
``acos u`` need ``|u| <= 1``; ``acosh u`` needs ``u >= 1``; ``atanh u`` needs
``|u| < 1``; ``1/u`` (any negative power) needs ``u != 0``; the others (``cot``,
``asec``, ``gamma``, ``loggamma``, ``atan2``...) as the ``domain`` column of
``symgrad._functions`` says. Outside it, the
finite-difference evaluator and the complex step quietly return NaN or a complex
branch (``log(-1) = iπ``, whose complex step reads as a gradient of 3e20), so the
check looks for such points first and raises :class:`~symgrad.errors.DomainError`.

On the edge of some domains the value is finite but a derivative is not: ``sqrt u``
and ``u^p`` for ``0 < p < 1`` at ``u = 0`` (``p·u^(p-1)`` is infinite), ``asin`` and
``acos`` at ``u = ±1``, ``acosh`` at ``u = 1``, ``u^v`` with a symbolic exponent at
``u <= 0`` (``∂u^v/∂v = u^v log u``). These are returned as :class:`Singularity`
descriptions, for the report to show.

Only the branch a ``Piecewise`` takes is examined, sample by sample, so
``Piecewise((log(x), x > 0), (0, True))`` at ``x = -1`` is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symgrad._functions import ELEMENTARY, row_of
from symgrad.check._evaluate import evaluate
from symgrad.check._kinks import _Reach
from symgrad.errors import DomainError

__all__ = ["DOMAIN_RULES", "Singularity", "check_domain"]


@dataclass(frozen=True)
class Singularity:
    """A point where ``node`` has a finite value but an infinite (or non-real) derivative."""

    where: str

    def __str__(self) -> str:
        return self.where


def _is_integer(p) -> np.ndarray:
    return np.asarray(np.floor(p) == p)


def _number_power(u, p: float):
    """``u^p`` with a number ``p``."""
    errors, singular = [], []
    if p < 0:
        errors.append((u == 0, "it divides by zero"))
    if p != int(p):
        need = "sqrt needs an argument >= 0" if p == 0.5 else \
            f"a power {sp.nsimplify(p)} of a negative number is not real"
        errors.append((u < 0, need))
        if 0 < p < 1:
            singular.append((u == 0, f"its derivative {sp.nsimplify(p)}·u^({sp.nsimplify(p - 1)}) "
                                     "is infinite at u = 0"))
    return errors, singular


def _power(u, p, exponent_moves: bool):
    """``u^v`` with a symbolic exponent (``p``: the values of ``v``)."""
    negative_base = (u < 0) & ~_is_integer(p)
    errors = [((u == 0) & (p < 0), "it divides by zero"),
              (negative_base, "a negative base needs an integer exponent")]
    singular = [((u == 0) & (p > 0) & (p < 1), "its derivative v·u^(v-1) is infinite at u = 0")]
    if exponent_moves:
        singular.append((u <= 0, "its derivative u^v·log(u) with respect to the exponent v is "
                                 "not real for u <= 0"))
    return errors, singular


#: ``SymPy class -> rule(argument values) -> (errors, singular)``, each a list of
#: ``(mask, reason)``: where ``mask`` holds the function is undefined (errors) or has an
#: infinite derivative (singular): the ``domain`` of the rows of ``symgrad._functions``.
#: Powers are handled apart.
DOMAIN_RULES: dict = {row.sympy: row.domain for row in ELEMENTARY if row.domain is not None}


def _number(v) -> str:
    return repr(float(v))


class _Scan:
    """Walks ``expr`` in evaluation order with the mask of samples each node is used in."""

    def __init__(self, values: dict, samples: int, wrt):
        self.values, self.samples, self.reach = values, samples, _Reach(tuple(wrt))
        self.memo: dict = {}
        self.seen: set = set()
        self.errors: list = []     # (node, argument, reason, sample index, argument value)
        self.singular: list = []

    def real(self, expr) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = evaluate(expr, self.values, self.memo)
        return np.broadcast_to(np.real(np.asarray(out, dtype=complex)), (self.samples,))

    def visit(self, expr, active: np.ndarray) -> None:
        if self.errors or not expr.args:
            return
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr, active)
        if expr in self.seen:  # a node shared with an earlier branch was examined on all its samples
            return
        for a in expr.args:
            self.visit(a, active)
        if self.errors:
            return
        if active.all():
            self.seen.add(expr)
        if isinstance(expr, sp.Pow):
            base, p = expr.args
            u = self.real(base)
            if p.is_Number:
                errors, singular = _number_power(u, float(p))
            else:
                errors, singular = _power(u, self.real(p), bool(self.reach(p)))
        elif type(expr) in DOMAIN_RULES:
            values = [self.real(a) for a in expr.args]
            shown = row_of(expr).argument
            base, u = expr.args[shown], values[shown]
            errors, singular = DOMAIN_RULES[type(expr)](*values)
        else:
            return
        for mask, reason in errors:
            hit = np.flatnonzero(np.asarray(mask) & active)
            if hit.size:
                self.errors.append((expr, base, reason, int(hit[0]), u[hit[0]]))
                return
        if not self.reach(expr):
            return  # nothing is differentiated through this node
        for mask, reason in singular:
            hit = np.flatnonzero(np.asarray(mask) & active)
            if hit.size:
                self.singular.append((expr, base, reason, int(hit[0]), u[hit[0]], hit.size))

    def _piecewise(self, expr, active):
        taken = np.zeros(self.samples, dtype=bool)
        for branch, cond in expr.args:
            self.visit(cond, active & ~taken)
            with np.errstate(all="ignore"):
                holds = np.broadcast_to(np.asarray(evaluate(cond, self.values, self.memo), dtype=bool),
                                        (self.samples,))
            here = active & ~taken & holds
            if here.any():
                self.visit(branch, here)
            taken = taken | holds
        uncovered = np.flatnonzero(active & ~taken)
        if uncovered.size:  # no branch: NaN in every stage, as SymPy leaves it undefined
            self.errors.append((expr, None, "none of its conditions holds there", int(uncovered[0]), None))


def check_domain(expr, values: dict, wrt, describe) -> tuple[Singularity, ...]:
    """Raise ``DomainError`` if ``expr`` leaves its real domain at the point; return singularities.

    Args:
        expr: the canonical expression.
        values: a number or a data column for every free symbol.
        wrt: the symbols differentiated (a singular derivative matters only through them).
        describe: ``describe(sample)`` → text naming the point (and the sample, with data),
            e.g. ``"x = -1.0"``.

    Returns:
        The singular points of derivatives met at the point (finite value, infinite
        derivative), each with its description.

    Raises:
        DomainError: naming the function, its argument's value there, and the point.

    >>> x = sp.Symbol("x")
    >>> check_domain(sp.log(x), {x: -1.0}, [x], lambda k: "x = -1.0")
    Traceback (most recent call last):
    ...
    symgrad.errors.DomainError: log(x) is undefined at x = -1.0: log needs an argument > 0, and x = -1.0 there; choose a point inside the domain.
    """
    samples = max([np.size(v) for v in values.values()], default=1)
    scan = _Scan(values, samples, wrt)
    scan.visit(expr, np.ones(samples, dtype=bool))
    if scan.errors:
        node, base, reason, k, u = scan.errors[0]
        where = "" if base is None else f", and {base} = {_number(u)} there"
        raise DomainError(f"{node} is undefined at {describe(k)}: {reason}{where}; choose a point inside the domain.")
    found = []
    for node, base, reason, k, u, count in scan.singular:
        many = f" (in {count} of {samples} samples)" if samples > 1 else ""
        found.append(Singularity(f"{node} at {describe(k)}{many} is finite, but {reason} "
                                 f"(u = {base} = {_number(u)} there)"))
    return tuple(found)

