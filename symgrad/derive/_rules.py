"""Local derivatives of one program node, with symgrad's conventions at kinks.

The conventions (the same in the compiled kernels and the autograd engine):

- ``d|z|/dz = sign(z)`` and ``sign(0) = 0``, so ``|z|'(0) = 0``;
- ``d Max(a, b) = a'·H(a - b) + b'·H(b - a)`` and likewise for ``Min``, with
  ``H(0) = 0``: at a tie every branch gets 0, so ``relu'(0) = 0`` however relu is
  written;
- ``Heaviside(z)`` means ``Heaviside(z, 0)``; derivatives of ``Heaviside`` and
  ``sign`` are 0 (the ``DiracDelta`` SymPy returns is dropped: it is zero almost
  everywhere, and no float64 kernel can evaluate it);
- the derivative of a ``Piecewise`` is the derivative of the branch that is taken;
  conditions are not differentiated.
"""

from __future__ import annotations

import sympy as sp

from symgrad._expr import canonicalize
from symgrad.errors import UnsupportedFunctionError

__all__ = ["local_derivative", "apply_conventions"]


def apply_conventions(d: sp.Expr) -> sp.Expr:
    """Rewrite a SymPy derivative into symgrad's kink conventions."""
    if d.has(sp.DiracDelta):
        d = d.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
    if d.has(sp.Derivative):
        bad = next(iter(d.atoms(sp.Derivative)))
        raise UnsupportedFunctionError(
            f"symgrad cannot differentiate {bad.expr.func.__name__} (SymPy leaves {bad} unevaluated)."
        )
    return canonicalize(d)


def local_derivative(rhs: sp.Expr, s: sp.Symbol, t: sp.Symbol | None) -> sp.Expr:
    """``d rhs / d s`` for one node ``t = rhs``, written with ``t`` where it helps.

    ``rhs`` is small (its arguments are symbols or numbers, or it is one adjoint
    update), so this costs one node's worth of differentiation.
    """
    if (rhs.is_Add or rhs.is_Mul) and s in rhs.args:
        others = [a for a in rhs.args if a != s]
        if len(others) == len(rhs.args) - 1 and not any(not a.is_Atom and a.has(s) for a in others):
            return sp.S.One if rhs.is_Add else sp.Mul(*others)
    if rhs.is_Pow and rhs.base == s and rhs.exp.is_Number:
        return rhs.exp * s ** (rhs.exp - 1)
    if rhs.is_Pow and not rhs.exp.is_Number and s in (rhs.base, rhs.exp) and rhs.base != rhs.exp:
        return _power_derivative(rhs, s, rhs if t is None else t)
    if isinstance(rhs, sp.exp) and rhs.args[0] == s and t is not None:
        return t
    d = apply_conventions(_diff(rhs, s))
    if t is not None and not rhs.is_Atom:
        d = d.xreplace({rhs: t})
    return d


def _power_derivative(rhs: sp.Pow, s: sp.Symbol, t: sp.Expr) -> sp.Expr:
    """``d b**e / d s`` for ``s`` the base or the exponent of a symbolic power ``t = b**e``.

    Written so that the limits at ``b = 0`` come out exact: ``d/db = e*b**(e - 1)``
    (not ``t*e/b``, which is ``0/0`` there), and ``d/de = t*log(b)`` except where
    ``t == 0``, where it is 0 (the limit of ``b**e*log(b)`` as ``b -> 0+`` for ``e > 0``;
    also right where ``t`` underflows, ``t*log(b)`` being at most about ``1e-305``).
    """
    b, e = rhs.args
    if s == b:
        return e * b ** (e - 1)
    if b.is_positive:
        return t * sp.log(b)
    return sp.Piecewise((sp.S.Zero, sp.Eq(t, 0)), (t * sp.log(b), True))


class _Power(sp.Function):
    """``b**e`` with a symbolic exponent, differentiated as ``_power_derivative`` does.

    SymPy writes ``d b**e = b**e*(e'*log(b) + b'*e/b)``, which is ``0*inf`` or ``0/0``
    at ``b = 0``; this stand-in exists only while ``_diff`` differentiates.
    """

    nargs = 2

    def fdiff(self, argindex=1):
        b, e = self.args
        if argindex == 1:
            return e * _Power(b, e - 1)
        return sp.Piecewise((sp.S.Zero, sp.Eq(self, 0)), (self * sp.log(b), True))


def _symbolic_power(e) -> bool:
    return e.is_Pow and not e.exp.is_Number and not e.base.is_positive and e.base != e.exp


def _diff(rhs: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """``sp.diff(rhs, s)``, with every symbolic power differentiated by ``_Power``'s rule."""
    if not any(_symbolic_power(p) for p in rhs.atoms(sp.Pow)):
        return sp.diff(rhs, s)
    d = sp.diff(rhs.replace(_symbolic_power, lambda p: _Power(*p.args)), s)
    return d.replace(lambda e: isinstance(e, _Power), lambda e: sp.Pow(*e.args))
