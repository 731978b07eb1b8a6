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
    if isinstance(rhs, sp.exp) and rhs.args[0] == s and t is not None:
        return t
    d = apply_conventions(sp.diff(rhs, s))
    if t is not None and not rhs.is_Atom:
        d = d.xreplace({rhs: t})
    return d
