"""Textbook differentiation, one rule per node of the expression tree.

The walk is top-down: each node names the rule that applies to it, and the rule
asks for the derivatives of the node's parts, which are explained one level
deeper. The parts a rule introduces get names, as in the textbooks: the chain rule
for ``y = sin(x²)`` writes ``y = sin(u)`` with ``u = x²``, then ``dy/du = cos(u)``,
``du/dx = 2·x`` and ``dy/dx = dy/du · du/dx = cos(x²)·2·x``; the product rule names
its factors ``u`` and ``v``. Names never clash with the symbols of the expression,
and the variable is the real one (``∂`` when the expression has several symbols).

The outer derivatives of the elementary functions are a table (``OUTER_RULES``,
written in ``u``); the conventions at kinks are symgrad's (see ``symgrad.derive``):
``|u|' = sign(u)·u'`` with ``sign(0) = 0``, ``max(a, b)' = a'·H(a - b) + b'·H(b - a)``
with ``H(0) = 0``, and the derivative of ``sign`` and ``Heaviside`` is 0.
"""

from __future__ import annotations

import itertools
import re

import sympy as sp

from symgrad.derive._rules import extremum_derivative
from symgrad._functions import FUNCTION_TABLE
from symgrad.errors import UnsupportedFunctionError
from symgrad.explain._explanation import Step

__all__ = ["OUTER_RULES", "RULES", "Walker", "in_terms_of"]


def _outer(row):
    """``u -> f'(u)`` of a one-argument row: its own partial, else SymPy's ``fdiff``."""
    if row.derivative is not None:
        return lambda u: row.derivative(u)[0]
    return lambda u: row.sympy(u).fdiff(1)


#: Outer derivatives of the one-argument functions: class -> (rule, formula in u, f'),
#: from the rows of ``symgrad._functions`` (``atan2`` has a rule of its own).
OUTER_RULES: dict = {
    row.sympy: (*row.explain, _outer(row)) for row in FUNCTION_TABLE.values()
    if row.explain is not None and row.arity[0] == 1
}

#: Every rule name a step can carry.
RULES = (
    "constant rule", "variable rule", "sum rule", "constant multiple rule", "product rule",
    "quotient rule", "power rule", "exponential rule", "general power rule", "chain rule",
    "max rule", "min rule", "piecewise rule", "atan2 rule", "polygamma rule",
) + tuple(dict.fromkeys(r for r, _, _ in OUTER_RULES.values()))

_U = re.compile(r"(?<![A-Za-z_])(d?)u(?![A-Za-z_0-9])")


def in_terms_of(formula: str, name: str) -> str:
    """An ``OUTER_RULES`` formula with ``u`` renamed: ``in_terms_of("d sin(u)/du = cos(u)", "x")``
    is ``"d sin(x)/dx = cos(x)"``."""
    return _U.sub(lambda m: m.group(1) + name, formula)


def _note(parts) -> str:
    """``"u = x**2, v = sin(x)"``: what each named part stands for (not ``x = x``)."""
    return ", ".join(f"{name} = {e}" for name, e in parts if name != str(e))


#: Names given to the parts a rule introduces, in order of use (then u1, u2, ...).
PART_NAMES = ("u", "v", "w", "s", "t", "p", "q", "r", "g", "h")


class Walker:
    """Differentiates ``expr`` with respect to ``x``, recording one :class:`Step` per rule applied.

    Attributes:
        name: the name of the whole expression (``y``, or ``f`` if ``y`` is one of its symbols).
        partial: whether derivatives are written with ``∂`` (the expression has several symbols).
    """

    def __init__(self, x: sp.Symbol, expr: sp.Expr | None = None):
        self.x = x
        self.steps: list = []
        symbols = expr.free_symbols if expr is not None else {x}
        self._taken = {s.name for s in symbols} | {x.name}
        self.partial = len(symbols) > 1
        self.name = self._fresh(("y", "f", "F"))

    def _fresh(self, candidates=PART_NAMES) -> str:
        names = itertools.chain(candidates, (f"{candidates[0]}{i}" for i in itertools.count(1)))
        name = next(n for n in names if n not in self._taken)
        self._taken.add(name)
        return name

    def dx(self, name: str) -> str:
        """``du/dx`` for ``name = "u"`` (``∂u/∂x`` for partials)."""
        d = "∂" if self.partial else "d"
        return f"{d}{name}/{d}{self.x}"

    def d(self, e: sp.Expr, depth: int = 0, name: str = "") -> sp.Expr:
        """``de/dx``, recording the step for ``e`` (called ``name``) before the steps it uses."""
        index = len(self.steps)
        self.steps.append(None)
        rule, formula, result, note, outer, extra = self._rule(e, depth + 1, name)
        extra.setdefault("name", name)
        extra["parts"] = tuple(extra.get("parts", ()))
        self.steps[index] = Step(rule, formula, e, result, depth, note, outer, partial=self.partial, **extra)
        return result

    def _parts(self, inner, *exprs):
        """Name each of ``exprs``, differentiate it one level deeper: ``(names, derivatives)``."""
        names = [str(e) if e == self.x else self._fresh() for e in exprs]  # x is called x
        return names, [self.d(e, inner, n) for n, e in zip(names, exprs)]

    def _rule(self, e, inner, name):
        x, dx = self.x, self.dx
        if x not in e.free_symbols:
            return "constant rule", f"{dx('c')} = 0 for a constant c", sp.S.Zero, "", "", {}
        if e == x:
            return "variable rule", f"{dx(str(x))} = 1", sp.S.One, "", "", {}
        if e.is_Add:
            parts = [self.d(t, inner) for t in e.args]
            return ("sum rule", "the derivative of a sum is the sum of the derivatives of its terms",
                    sp.Add(*parts), "", "", {})
        if e.is_Mul:
            return self._mul(e, inner)
        if e.is_Pow:
            return self._pow(e, inner, name)
        if isinstance(e, (sp.Max, sp.Min)):
            return self._extremum(e, inner)
        if isinstance(e, sp.Piecewise):
            branches = [(self.d(branch, inner), cond) for branch, cond in e.args]
            return ("piecewise rule", "the derivative of the branch that is taken (conditions are not "
                    "differentiated)", sp.Piecewise(*branches), "", "", {})
        if isinstance(e, sp.atan2):
            return self._atan2(e, inner)
        if isinstance(e, sp.polygamma) and e.args[0].is_Integer:
            n, g = e.args
            formula = f"d polygamma({n}, u)/du = polygamma({n + 1}, u)"
            outer = lambda u: sp.polygamma(n + 1, u)  # noqa: E731
            if g == self.x:
                return "polygamma rule", in_terms_of(formula, str(g)), outer(g), "", "", {}
            return self._chain(e, g, "polygamma rule", formula, outer, inner, name)
        if type(e) in OUTER_RULES:
            return self._function(e, inner, name)
        raise UnsupportedFunctionError(
            f"symgrad.explain has no rule for {type(e).__name__} (in {e}); "
            "see symgrad.explain.RULES for the rules it knows."
        )

    def _mul(self, e, inner):
        x, dx = self.x, self.dx
        constants = [f for f in e.args if x not in f.free_symbols]
        if constants:
            c = sp.Mul(*constants)
            (u,), (du,) = self._parts(inner, sp.Mul(*[f for f in e.args if x in f.free_symbols]))
            return ("constant multiple rule", f"{dx(f'(c·{u})')} = c·{dx(u)}", c * du,
                    _note([("c", c), (u, e / c)]), "", {"parts": [(u, e / c)]})
        numerator, denominator = sp.fraction(e)
        if denominator != 1 and x in denominator.free_symbols and x in numerator.free_symbols:
            (u, v), (du, dv) = self._parts(inner, numerator, denominator)
            result = (du * denominator - numerator * dv) / denominator**2
            return ("quotient rule", f"{dx(f'({u}/{v})')} = ({dx(u)}·{v} - {u}·{dx(v)})/{v}^2", result,
                    _note([(u, numerator), (v, denominator)]), "", {"parts": [(u, numerator), (v, denominator)]})
        first, rest = e.args[0], sp.Mul(*e.args[1:])
        (u, v), (du, dv) = self._parts(inner, first, rest)
        return ("product rule", f"{dx(f'({u}·{v})')} = {dx(u)}·{v} + {u}·{dx(v)}", du * rest + first * dv,
                _note([(u, first), (v, rest)]), "", {"parts": [(u, first), (v, rest)]})

    def _pow(self, e, inner, name):
        x, dx = self.x, self.dx
        base, n = e.base, e.exp
        if x not in n.free_symbols:
            if base == x:
                return ("power rule", f"{dx(f'({x}^n)')} = n·{x}^(n-1)", n * x ** (n - 1), f"n = {n}", "", {})
            if n == -1:
                (v,), (dv,) = self._parts(inner, base)
                return ("quotient rule", f"{dx(f'(1/{v})')} = -{dx(v)}/{v}^2", -dv / base**2, _note([(v, base)]),
                        "", {"parts": [(v, base)]})
            return self._chain(e, base, "power rule", "d(u^n)/du = n·u^(n-1)", lambda u: n * u ** (n - 1),
                               inner, name, f"n = {n}")
        if x not in base.free_symbols:
            (u,), (du,) = self._parts(inner, n)
            return ("exponential rule", f"{dx(f'(a^{u})')} = a^{u}·ln(a)·{dx(u)}", e * sp.log(base) * du,
                    _note([("a", base), (u, n)]), "", {"parts": [(u, n)]})
        (b, u), (db, du) = self._parts(inner, base, n)
        return ("general power rule", f"{dx(f'({b}^{u})')} = {b}^{u}·({dx(u)}·ln({b}) + {u}·{dx(b)}/{b})",
                e * (du * sp.log(base) + n * db / base), _note([(b, base), (u, n)]), "",
                {"parts": [(b, base), (u, n)]})

    def _extremum(self, e, inner):
        kind = "max" if isinstance(e, sp.Max) else "min"
        args = e.args
        names, derivatives = self._parts(inner, *args)
        tie = ("at a tie the mean of the two slopes, or 0 for the side that is not a number "
               "(so relu'(0) = 0)")
        if len(names) == 2:
            a, b = names
            win, lose = (">", "<") if kind == "max" else ("<", ">")
            formula = (f"{self.dx(f' {kind}({a}, {b})')} = {self.dx(a)} where {a} {win} {b}, "
                       f"{self.dx(b)} where {a} {lose} {b}; {tie}")
        else:
            whole = f" {kind}({', '.join(names)})"
            formula = (f"{self.dx(whole)} = the slope of the {'largest' if kind == 'max' else 'smallest'} uᵢ; "
                       "k tied ones share it equally, and none gets any when a number is among them")
        note = _note(zip(names, args))
        result = extremum_derivative(e, list(derivatives))
        return f"{kind} rule", formula, result, note, "", {"parts": list(zip(names, args))}

    def _atan2(self, e, inner):
        """``atan2(v, w)``, the angle of the point ``(w, v)``: ``(w·v' - v·w')/(v^2 + w^2)``."""
        v_expr, w_expr = e.args
        (v, w), (dv, dw) = self._parts(inner, v_expr, w_expr)
        result = (w_expr * dv - v_expr * dw) / (v_expr**2 + w_expr**2)
        formula = f"{self.dx(f'atan2({v}, {w})')} = ({w}·{self.dx(v)} - {v}·{self.dx(w)})/({v}^2 + {w}^2)"
        parts = [(v, v_expr), (w, w_expr)]
        return "atan2 rule", formula, result, _note(parts), "", {"parts": parts}

    def _function(self, e, inner, name):
        rule, formula, outer = OUTER_RULES[type(e)]
        g = e.args[0]
        if g == self.x:
            return rule, in_terms_of(formula, str(g)), outer(g), "", "", {}
        return self._chain(e, g, rule, formula, outer, inner, name)

    def _chain(self, e, g, rule, formula, outer, inner, name, note=""):
        """``y = f(u)`` with ``u = g``: ``dy/dx = dy/du · du/dx``, the outer derivative at ``u = g``.

        The step is called ``name`` (a fresh name if its caller gave none), its inner
        function ``u``; ``dy/du`` is ``f'`` written in ``u``, ``f'(g)·g'`` the product
        that ``dy/dx`` is.
        """
        name = name or self._fresh()
        u = self._fresh()
        du = self.d(g, inner, u)
        symbol = sp.Symbol(u)
        outer_u = outer(symbol)
        fprime = outer_u.xreplace({symbol: g})
        extra = {"name": name, "parts": [(u, g)], "outer_expr": e.xreplace({g: symbol}), "outer_derivative": outer_u, "inner_derivative": du,
                 "outer_at_inner": fprime, "outer_formula": in_terms_of(formula, u)}
        formula = f"{self.dx(name)} = d{name}/d{u} · {self.dx(u)}"
        return "chain rule", formula, fprime * du, ", ".join(filter(None, [f"{u} = {g}", note])), rule, extra
