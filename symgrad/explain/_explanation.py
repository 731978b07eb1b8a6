"""The frozen objects ``explain`` hands back: one ``Step`` per rule applied, and the ``Explanation``."""

from __future__ import annotations

import html
from dataclasses import dataclass

import sympy as sp

__all__ = ["Step", "Explanation"]


def product_text(a: sp.Expr, b: sp.Expr) -> str:
    """``a·b`` written as the product it is, unevaluated: ``cos(x**2)·2*x``, ``exp(u)·(x + 1)``."""
    def wrap(e, first):
        text = str(e)
        return f"({text})" if e.is_Add or (not first and text.startswith("-")) else text
    return f"{wrap(a, True)}·{wrap(b, False)}"


@dataclass(frozen=True)
class Step:
    """One application of a differentiation rule.

    Attributes:
        rule: the rule's name, e.g. ``"product rule"`` (see ``RULES``).
        formula: the rule in general form, in the real variable and the names of the
            parts, e.g. ``"d(u·v)/dx = du/dx·v + u·dv/dx"`` (``∂`` for partials).
        expr: the subexpression being differentiated.
        derivative: its derivative, as the rule assembles it from the steps below it.
        depth: nesting level; the steps that feed this one have ``depth + 1``.
        note: what the rule's parts stand for here (e.g. ``"u = x, v = sin(x)"``), or ``""``.
        outer: for the chain rule, the rule of the outer function (e.g. ``"trig rule"``), else ``""``.
        name: what the derivation calls ``expr`` (``"y"`` for the whole expression, ``"u"``
            for the inner function of a chain rule, ...), or ``""``.
        parts: ``((name, subexpression), ...)``: the parts this rule names; the step of
            each one follows, called by that name.
        partial: ``True`` when the derivatives are partial ones (``∂``).
        outer_expr: chain rule ``y = f(u)``: ``f(u)``, in the inner name ``u``.
        outer_derivative: chain rule: ``dy/du = f'(u)``, in ``u``.
        inner_derivative: chain rule: ``du/dx``, in the variables.
        outer_at_inner: chain rule: ``f'(g)``, the outer derivative at ``u = g``; the
            derivative is ``outer_at_inner · inner_derivative``.
        outer_formula: chain rule: the outer function's rule, in ``u`` (``"d sin(u)/du = cos(u)"``).
    """

    rule: str
    formula: str
    expr: sp.Expr
    derivative: sp.Expr
    depth: int
    note: str = ""
    outer: str = ""
    name: str = ""
    parts: tuple = ()
    partial: bool = False
    outer_expr: sp.Expr | None = None
    outer_derivative: sp.Expr | None = None
    inner_derivative: sp.Expr | None = None
    outer_at_inner: sp.Expr | None = None
    outer_formula: str = ""

    def __repr__(self) -> str:
        return f"Step({self.rule!r}, d[{self.expr}] = {self.derivative})"

    def _d(self, top: str, x) -> str:
        d = "∂" if self.partial else "d"
        return f"{d}{top}/{d}{x}"

    def lines(self, x) -> list:
        """The step in the textbooks' notation, one line per fact, for the variable ``x``.

        A chain rule reads ``y = sin(u), u = x**2``, ``dy/du = cos(u)``, ``du/dx = 2*x``,
        ``dy/dx = dy/du · du/dx = cos(x**2)·2*x = 2*x*cos(x**2)``; any other rule reads
        ``rule: dy/dx = d/dx [expr] = derivative`` and its formula with what the parts are.
        """
        if self.rule != "chain rule":
            named = f"{self._d(self.name, x)} = " if self.name and self.name != str(self.expr) else ""
            head = f"{self.rule}: {named}{self._d('', x)} [{self.expr}] = {self.derivative}"
            return [head, self.formula + (f"   with {self.note}" if self.note else "")]
        y, (u, g) = self.name, self.parts[0]
        extra = "".join(f", {n}" for n in self.note.split(", ")[1:])
        return [
            f"chain rule: {y} = {self.outer_expr} with {u} = {g}{extra}",
            f"d{y}/d{u} = {self.outer_derivative}   ({self.outer}: {self.outer_formula})",
            f"{self._d(u, x)} = {self.inner_derivative}",
            f"{self._d(y, x)} = d{y}/d{u} · {self._d(u, x)} = "
            f"{product_text(self.outer_at_inner, self.inner_derivative)} = {self.derivative}",
        ]


@dataclass(frozen=True)
class Explanation:
    """A step-by-step derivation of ``d expr / d wrt`` with textbook rules.

    Attributes:
        expr: the expression differentiated.
        wrt: the variable.
        steps: the rules applied, outermost first; a step's inputs follow it, one level deeper.
        result: the derivative, exactly as the rules assemble it (not simplified).
    """

    expr: sp.Expr
    wrt: sp.Symbol
    steps: tuple
    result: sp.Expr

    @property
    def rules(self) -> tuple:
        """The names of the rules used, in order of first use."""
        names = []
        for s in self.steps:
            names += [s.rule, s.outer] if s.outer else [s.rule]
        return tuple(dict.fromkeys(names))

    def __repr__(self) -> str:
        return f"Explanation(d/d{self.wrt} [{self.expr}] = {self.result}, steps={len(self.steps)})"

    @property
    def partial(self) -> bool:
        """Whether the derivative is a partial one (the expression has several symbols): ``∂``."""
        return len(self.expr.free_symbols) > 1

    def __str__(self) -> str:
        x, d = self.wrt, "∂" if self.partial else "d"
        lines = [f"{d}/{d}{x} [{self.expr}]", ""]
        for i, s in enumerate(self.steps, 1):
            pad = "  " * s.depth
            first, *rest = s.lines(x)
            lines.append(f"{pad}{i}. {first}")
            lines += [f"{pad}   {line}" for line in rest]
        lines += ["", f"result: {self.result}"]
        return "\n".join(lines)

    def latex(self) -> str:
        r"""The derivation as a LaTeX ``aligned`` block, one rule per line (a chain rule as
        ``dy/dx = dy/du · du/dx``, with the outer derivative at the inner function).

        Example:
            >>> import sympy as sp
            >>> from symgrad.explain import explain
            >>> x = sp.Symbol("x")
            >>> print(explain(3 * x, x).latex().splitlines()[1])
            \frac{d}{d x}\left[3 x\right] &= 3 && \text{constant multiple rule} \\
        """
        x = sp.latex(self.wrt)
        d = r"\partial " if self.partial else "d "
        frac = lambda top, bottom, dd=d: rf"\frac{{{dd}{top}}}{{{dd}{bottom}}}"  # noqa: E731
        rows = []
        for s in self.steps:
            indent = r"\quad " * s.depth
            if s.rule == "chain rule":
                y, (u, g) = s.name, s.parts[0]
                rows.append(
                    rf"{indent}{frac(y, x)} &= {frac(y, u, 'd ')} \cdot {frac(u, x)} = "
                    rf"{sp.latex(s.outer_at_inner)} \cdot \left({sp.latex(s.inner_derivative)}\right) "
                    rf"&& \text{{chain rule, }} {y} = {sp.latex(s.outer_expr)},\ {u} = {sp.latex(g)} \\"
                )
                continue
            rows.append(
                rf"{indent}\frac{{{d.strip()}}}{{{d}{x}}}\left[{sp.latex(s.expr)}\right] &= "
                rf"{sp.latex(s.derivative)} && \text{{{s.rule}}} \\"
            )
        rows.append(rf"\frac{{{d.strip()}}}{{{d}{x}}}\left[{sp.latex(self.expr)}\right] &= {sp.latex(self.result)}")
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li style='margin-left:{1.5 * s.depth}em'><b>{html.escape(s.rule)}</b>: "
            f"d/d{html.escape(str(self.wrt))} [{html.escape(str(s.expr))}] = "
            f"<code>{html.escape(str(s.derivative))}</code><br><small>{html.escape(s.formula)}"
            f"{html.escape('   with ' + s.note) if s.note else ''}</small></li>"
            for s in self.steps
        )
        return (
            f"<p>d/d{html.escape(str(self.wrt))} [<code>{html.escape(str(self.expr))}</code>]</p>"
            f"<ol style='list-style:none'>{items}</ol>"
            f"<p>result: <code>{html.escape(str(self.result))}</code></p>"
        )
