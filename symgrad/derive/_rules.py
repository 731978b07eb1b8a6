"""Local derivatives of one program node, with symgrad's conventions at kinks.

The conventions (the same in the compiled kernels and the autograd engine):

- ``d|z|/dz = sign(z)`` and ``sign(0) = 0``, so ``|z|'(0) = 0``;
- ``d Max(a, b) = a'·[a > b] + b'·[b > a]`` away from a tie (likewise for ``Min``);
  at a tie ``a = b`` the slope is the mean ``(a' + b')/2`` of the two arguments'
  (as ``torch.maximum`` and ``jax.numpy.maximum`` split it), except where one argument
  is a number: then it takes it all and the other gets 0, so ``relu'(0) = 0`` however
  relu is written. Arguments that agree on a whole interval (``Max(x, |x|)`` for
  ``x > 0``) so get their common slope. Of more arguments, ``k`` tied ones share it
  equally (none if a number is among them);
- ``Heaviside(z)`` means ``Heaviside(z, 0)``; derivatives of ``Heaviside`` and
  ``sign`` are 0 (the ``DiracDelta`` SymPy returns is dropped: it is zero almost
  everywhere, and no float64 kernel can evaluate it);
- the derivative of a ``Piecewise`` is the derivative of the branch that is taken;
  conditions are not differentiated.
"""

from __future__ import annotations

import sympy as sp

from symgrad._expr import canonicalize
from symgrad._functions import ELEMENTARY, row_of
from symgrad.errors import UnsupportedFunctionError

__all__ = ["local_derivative", "apply_conventions", "real_diff", "extremum_derivative"]


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
    d = apply_conventions(real_diff(rhs, s))
    if t is not None and not rhs.is_Atom:
        d = d.xreplace({rhs: t})
    return d


def _power_derivative(rhs: sp.Pow, s: sp.Symbol, t: sp.Expr) -> sp.Expr:
    """``d b**e / d s`` for ``s`` the base or the exponent of a symbolic power ``t = b**e``.

    Written so that the limits at ``b = 0`` come out exact: ``d/db = e*b**(e - 1)``
    (not ``t*e/b``, which is ``0/0`` there), and ``d/de = t*log(b)`` except at
    ``b == 0``, where it is 0 (the limit of ``b**e*log(b)`` as ``b -> 0+`` for ``e > 0``,
    and the derivative of ``0**e = 0`` along ``e``). The condition tests ``b``, not
    ``t``, so that an exponent that is itself a ``Piecewise`` stays out of it.
    """
    b, e = rhs.args
    if s == b:
        return e * b ** (e - 1)
    if b.is_positive:
        return t * sp.log(b)
    return sp.Piecewise((sp.S.Zero, sp.Eq(b, 0)), (t * sp.log(b), True))


class _Power(sp.Function):
    """``b**e`` with a symbolic exponent, differentiated as ``_power_derivative`` does.

    SymPy writes ``d b**e = b**e*(e'*log(b) + b'*e/b)``, which is ``0*inf`` or ``0/0``
    at ``b = 0``; this stand-in exists only while ``real_diff`` differentiates.
    """

    nargs = 2

    def fdiff(self, argindex=1):
        b, e = self.args
        if argindex == 1:
            return e * _Power(b, e - 1)
        return sp.Piecewise((sp.S.Zero, sp.Eq(b, 0)), (self * sp.log(b), True))


def _symbolic_power(e) -> bool:
    return e.is_Pow and not e.exp.is_Number and not e.base.is_positive and e.base != e.exp


class _RealSign(sp.Function):
    """``sign(u)`` of a real ``u`` that SymPy cannot tell is real: derivative 0 (convention)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero


class _RealAbs(sp.Function):
    """``|u|`` of a real ``u`` that SymPy cannot tell is real (``b**e``): ``d|u| = sign(u)·u'``."""

    nargs = 1

    def fdiff(self, argindex=1):
        return _RealSign(self.args[0])


_STAND_INS = {sp.Abs: _RealAbs, sp.sign: _RealSign, _RealAbs: sp.Abs, _RealSign: sp.sign}


def _unknown_sign(e) -> bool:
    return isinstance(e, (sp.Abs, sp.sign)) and not e.args[0].is_extended_real


def real_diff(rhs: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """``sp.diff(rhs, s)`` for real-valued symbols, as symgrad differentiates.

    Every symbolic power goes by ``_Power``'s rule (exact limits at a zero base), and
    ``|u|`` and ``sign(u)`` of an argument SymPy cannot tell is real (``b**e``) by the
    real rules ``sign(u)·u'`` and 0, not the complex-plane forms with ``re``/``im``.

    Sums, products, numeric powers and the elementary functions are differentiated
    here by the sum, product, power and chain rules, once per distinct node; only other
    nodes (``Max``, ``Min``, ``Piecewise``, symbolic powers, ...) go through SymPy's
    ``diff``. Each ``diff`` call costs SymPy milliseconds of assumption queries, which
    made the derivative of a sum of ``N`` terms take ``N`` such calls.
    """
    return _chain(rhs, s, {})


#: Functions differentiated by the chain rule over their arguments, each partial SymPy's
#: ``fdiff`` or the row's own (``floor' = 0``): the elementary rows of ``symgrad._functions``.
_ELEMENTARY = tuple(row.sympy for row in ELEMENTARY)


def _chain(e: sp.Expr, s: sp.Symbol, memo: dict) -> sp.Expr:
    """``d e / d s`` by the elementary rules, SymPy's ``diff`` for any other node."""
    if e.is_Atom:
        return sp.S.One if e == s else sp.S.Zero
    if e in memo:
        return memo[e]
    if e.is_Add:
        d = sp.Add(*[_chain(a, s, memo) for a in e.args])
    elif e.is_Mul:
        parts = [_chain(a, s, memo) for a in e.args]
        d = sp.Add(*[
            sp.Mul(*e.args[:i], di, *e.args[i + 1:]) for i, di in enumerate(parts) if di != 0
        ])
    elif e.is_Pow and e.exp.is_Number:
        db = _chain(e.base, s, memo)
        d = sp.S.Zero if db == 0 else e.exp * e.base ** (e.exp - 1) * db
    elif isinstance(e, _ELEMENTARY) or (isinstance(e, sp.Abs) and e.args[0].is_extended_real):
        row = row_of(e)
        partials = row.derivative(*e.args) if row is not None and row.derivative is not None else None
        terms = []
        for i, a in enumerate(e.args):
            da = _chain(a, s, memo)
            if da != 0:
                terms.append((e.fdiff(i + 1) if partials is None else partials[i]) * da)
        d = sp.Add(*terms)
    elif isinstance(e, (sp.Max, sp.Min)):
        d = extremum_derivative(e, [_chain(a, s, memo) for a in e.args])
    elif isinstance(e, (sp.sign, sp.Heaviside)) and e.args[0].is_extended_real:
        d = sp.S.Zero  # a step: 0 wherever it is differentiable (symgrad's convention)
    else:
        d = _sympy_real_diff(e, s)
    memo[e] = d
    return d


def extremum_derivative(e: sp.Expr, slopes: list) -> sp.Expr:
    """``d Max(a1, ..., an)`` (or ``Min``) from the arguments' slopes ``slopes``.

    Argument ``i`` gets its slope where it wins, none where it loses, and at a tie
    ``1/k`` of it for ``k`` tied arguments, or none when a number is among them (see
    the module docstring). Two arguments: ``Heaviside(a - b, 0)`` against a number
    (relu), else ``Piecewise((1, a > b), (0, a < b), (1/2, True))``.
    """
    func, args = e.func, e.args
    # conditions on differences: SymPy's Piecewise recurses without end on some pairs
    # (a < b, a > b) of the sides themselves (Min(-0.75*p1 + p2, acosh(exp(x1) + 1)))
    gap = (lambda u, v: u - v) if func is sp.Max else (lambda u, v: v - u)
    number = next((a for a in args if a.is_Number), None)
    terms = []
    for i, (a, da) in enumerate(zip(args, slopes)):
        if da == 0:
            continue
        others = args[:i] + args[i + 1:]
        rest = others[0] if len(others) == 1 else func(*others)
        if len(args) == 2 and number is not None:
            terms.append(da * sp.Heaviside(a - rest if func is sp.Max else rest - a, 0))
            continue
        z = gap(a, rest)
        branches = [(sp.S.One, z > 0), (sp.S.Zero, z < 0)]
        if number is not None:
            branches.append((sp.S.Zero, sp.Eq(a - number, 0)))
        if len(args) == 2:
            share = sp.S.Half
        else:  # at the tie branch a is the extremum: count the others equal to it
            share = 1 / (1 + sp.Add(*[sp.Piecewise((1, sp.Eq(o - a, 0)), (0, True)) for o in others if not o.is_Number]))
        terms.append(da * sp.Piecewise(*branches, (share, True)))
    return sp.Add(*terms)


def _sympy_real_diff(rhs: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """SymPy's ``diff`` with symgrad's real rules for powers, ``|u|`` and ``sign(u)``."""
    unknown = any(_unknown_sign(a) for a in rhs.atoms(sp.Abs, sp.sign))
    powers = any(_symbolic_power(p) for p in rhs.atoms(sp.Pow))
    if not (unknown or powers):
        return sp.diff(rhs, s)
    if unknown:
        rhs = rhs.replace(_unknown_sign, lambda e: _STAND_INS[e.func](e.args[0]))
    if powers:
        rhs = rhs.replace(_symbolic_power, lambda p: _Power(*p.args))
    d = sp.diff(rhs, s)
    d = d.replace(lambda e: isinstance(e, _Power), lambda e: sp.Pow(*e.args))
    return d.replace(lambda e: isinstance(e, (_RealAbs, _RealSign)), lambda e: _STAND_INS[e.func](e.args[0]))
