"""Textbook differentiation, one rule per node of the expression tree.

The walk is top-down: each node names the rule that applies to it, and the rule
asks for the derivatives of the node's parts, which are explained one level
deeper. The outer derivatives of the elementary functions are a table
(``OUTER_RULES``); the conventions at kinks are symgrad's (see ``symgrad.derive``):
``|u|' = sign(u)·u'`` with ``sign(0) = 0``, ``max(a, b)' = a'·H(a - b) + b'·H(b - a)``
with ``H(0) = 0``, and the derivative of ``sign`` and ``Heaviside`` is 0.
"""

from __future__ import annotations

import sympy as sp

from symgrad.errors import UnsupportedFunctionError
from symgrad.explain._explanation import Step

__all__ = ["OUTER_RULES", "RULES", "Walker"]


def _step(u):
    return sp.Heaviside(u, 0)


#: Outer derivatives of the one-argument functions: class -> (rule, formula, f').
OUTER_RULES: dict = {
    sp.exp: ("exp rule", "d exp(u)/du = exp(u)", sp.exp),
    sp.log: ("log rule", "d log(u)/du = 1/u", lambda u: 1 / u),
    sp.sin: ("trig rule", "d sin(u)/du = cos(u)", sp.cos),
    sp.cos: ("trig rule", "d cos(u)/du = -sin(u)", lambda u: -sp.sin(u)),
    sp.tan: ("trig rule", "d tan(u)/du = 1 + tan(u)^2", lambda u: sp.tan(u) ** 2 + 1),
    sp.asin: ("inverse trig rule", "d asin(u)/du = 1/sqrt(1 - u^2)", lambda u: 1 / sp.sqrt(1 - u**2)),
    sp.acos: ("inverse trig rule", "d acos(u)/du = -1/sqrt(1 - u^2)", lambda u: -1 / sp.sqrt(1 - u**2)),
    sp.atan: ("inverse trig rule", "d atan(u)/du = 1/(1 + u^2)", lambda u: 1 / (u**2 + 1)),
    sp.sinh: ("hyperbolic rule", "d sinh(u)/du = cosh(u)", sp.cosh),
    sp.cosh: ("hyperbolic rule", "d cosh(u)/du = sinh(u)", sp.sinh),
    sp.tanh: ("hyperbolic rule", "d tanh(u)/du = 1 - tanh(u)^2", lambda u: 1 - sp.tanh(u) ** 2),
    sp.asinh: ("inverse hyperbolic rule", "d asinh(u)/du = 1/sqrt(u^2 + 1)", lambda u: 1 / sp.sqrt(u**2 + 1)),
    sp.acosh: ("inverse hyperbolic rule", "d acosh(u)/du = 1/(sqrt(u - 1)·sqrt(u + 1))",
               lambda u: 1 / (sp.sqrt(u - 1) * sp.sqrt(u + 1))),
    sp.atanh: ("inverse hyperbolic rule", "d atanh(u)/du = 1/(1 - u^2)", lambda u: 1 / (1 - u**2)),
    sp.Abs: ("abs rule", "d|u|/du = sign(u), so |u|'(0) = 0", sp.sign),
    sp.sign: ("sign rule", "d sign(u)/du = 0 (taken as 0 everywhere, sign(0) = 0)", lambda u: sp.S.Zero),
    sp.Heaviside: ("step rule", "d H(u)/du = 0 (taken as 0 everywhere, H(0) = 0)", lambda u: sp.S.Zero),
}

#: Every rule name a step can carry.
RULES = (
    "constant rule", "variable rule", "sum rule", "constant multiple rule", "product rule",
    "quotient rule", "power rule", "exponential rule", "general power rule", "chain rule",
    "max rule", "min rule", "piecewise rule",
) + tuple(dict.fromkeys(r for r, _, _ in OUTER_RULES.values()))


class Walker:
    """Differentiates with respect to ``x``, recording one :class:`Step` per rule applied."""

    def __init__(self, x: sp.Symbol):
        self.x = x
        self.steps: list = []

    def d(self, e: sp.Expr, depth: int = 0) -> sp.Expr:
        """``de/dx``, recording the step for ``e`` before the steps it uses."""
        index = len(self.steps)
        self.steps.append(None)
        rule, formula, result, note, outer = self._rule(e, depth + 1)
        self.steps[index] = Step(rule, formula, e, result, depth, note, outer)
        return result

    def _rule(self, e, inner):
        x = self.x
        if x not in e.free_symbols:
            return "constant rule", "dc/dx = 0", sp.S.Zero, "", ""
        if e == x:
            return "variable rule", "dx/dx = 1", sp.S.One, "", ""
        if e.is_Add:
            parts = [self.d(t, inner) for t in e.args]
            return "sum rule", "(u + v)' = u' + v'", sp.Add(*parts), "", ""
        if e.is_Mul:
            return self._mul(e, inner)
        if e.is_Pow:
            return self._pow(e, inner)
        if isinstance(e, (sp.Max, sp.Min)):
            return self._extremum(e, inner)
        if isinstance(e, sp.Piecewise):
            branches = [(self.d(branch, inner), cond) for branch, cond in e.args]
            return ("piecewise rule", "the derivative of the branch that is taken (conditions are not "
                    "differentiated)", sp.Piecewise(*branches), "", "")
        if type(e) in OUTER_RULES:
            return self._function(e, inner)
        raise UnsupportedFunctionError(
            f"symgrad.explain has no rule for {type(e).__name__} (in {e}); "
            "see symgrad.explain.RULES for the rules it knows."
        )

    def _mul(self, e, inner):
        x = self.x
        constants = [f for f in e.args if x not in f.free_symbols]
        if constants:
            c = sp.Mul(*constants)
            u = sp.Mul(*[f for f in e.args if x in f.free_symbols])
            return "constant multiple rule", "(c·u)' = c·u'", c * self.d(u, inner), f"c = {c}, u = {u}", ""
        numerator, denominator = sp.fraction(e)
        if denominator != 1 and x in denominator.free_symbols and x in numerator.free_symbols:
            du, dv = self.d(numerator, inner), self.d(denominator, inner)
            result = (du * denominator - numerator * dv) / denominator**2
            return ("quotient rule", "(u/v)' = (u'·v - u·v')/v^2", result,
                    f"u = {numerator}, v = {denominator}", "")
        u, v = e.args[0], sp.Mul(*e.args[1:])
        du, dv = self.d(u, inner), self.d(v, inner)
        return "product rule", "(u·v)' = u'·v + u·v'", du * v + u * dv, f"u = {u}, v = {v}", ""

    def _pow(self, e, inner):
        x = self.x
        base, n = e.base, e.exp
        if x not in n.free_symbols:
            if base == x:
                return "power rule", "d(x^n)/dx = n·x^(n-1)", n * x ** (n - 1), f"n = {n}", ""
            db = self.d(base, inner)
            if n == -1:
                return "quotient rule", "(1/v)' = -v'/v^2", -db / base**2, f"v = {base}", ""
            return ("chain rule", "d f(g)/dx = f'(g)·g'; outer: power rule, d(g^n)/dg = n·g^(n-1)",
                    n * base ** (n - 1) * db, f"g = {base}, n = {n}", "power rule")
        dn = self.d(n, inner)
        if x not in base.free_symbols:
            return ("exponential rule", "d(a^u)/dx = a^u·ln(a)·u'", e * sp.log(base) * dn,
                    f"a = {base}, u = {n}", "")
        db = self.d(base, inner)
        return ("general power rule", "d(b^u)/dx = b^u·(u'·ln(b) + u·b'/b)",
                e * (dn * sp.log(base) + n * db / base), f"b = {base}, u = {n}", "")

    def _extremum(self, e, inner):
        kind = "max" if isinstance(e, sp.Max) else "min"
        args = e.args
        terms = []
        for i, a in enumerate(args):
            da = self.d(a, inner)
            rest = e.func(*(b for j, b in enumerate(args) if j != i))
            terms.append(da * _step(a - rest if kind == "max" else rest - a))
        formula = (f"d {kind}(a, b)/dx = a'·H({'a - b' if kind == 'max' else 'b - a'}) + "
                   f"b'·H({'b - a' if kind == 'max' else 'a - b'}), with H(0) = 0: at a tie every branch gets 0")
        return f"{kind} rule", formula, sp.Add(*terms), "", ""

    def _function(self, e, inner):
        rule, formula, outer = OUTER_RULES[type(e)]
        g = e.args[0]
        fprime = outer(g)
        if g == self.x:
            return rule, formula, fprime, f"u = {g}", ""
        dg = self.d(g, inner)
        return ("chain rule", f"d f(g)/dx = f'(g)·g'; outer: {formula.replace('(u)', '(g)')}", fprime * dg,
                f"g = {g}", rule)
