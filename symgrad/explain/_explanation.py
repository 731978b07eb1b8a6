"""The frozen objects ``explain`` hands back: one ``Step`` per rule applied, and the ``Explanation``."""

from __future__ import annotations

import html
from dataclasses import dataclass

import sympy as sp

__all__ = ["Step", "Explanation"]


@dataclass(frozen=True)
class Step:
    """One application of a differentiation rule.

    Attributes:
        rule: the rule's name, e.g. ``"product rule"`` (see ``RULES``).
        formula: the rule in general form, e.g. ``"(u·v)' = u'·v + u·v'"``.
        expr: the subexpression ``u`` being differentiated.
        derivative: ``du/dx``, as the rule assembles it from the steps below it.
        depth: nesting level; the steps that feed this one have ``depth + 1``.
        note: what the rule's parts stand for here (e.g. ``"u = x, v = sin(x)"``), or ``""``.
        outer: for the chain rule, the rule of the outer function (e.g. ``"trig rule"``), else ``""``.
    """

    rule: str
    formula: str
    expr: sp.Expr
    derivative: sp.Expr
    depth: int
    note: str = ""
    outer: str = ""

    def __repr__(self) -> str:
        return f"Step({self.rule!r}, d[{self.expr}] = {self.derivative})"


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

    def __str__(self) -> str:
        x = self.wrt
        lines = [f"d/d{x} [{self.expr}]", ""]
        for i, s in enumerate(self.steps, 1):
            pad = "  " * s.depth
            lines.append(f"{pad}{i}. {s.rule}: d/d{x} [{s.expr}] = {s.derivative}")
            detail = s.formula + (f"   with {s.note}" if s.note else "")
            lines.append(f"{pad}   {detail}")
        lines += ["", f"result: {self.result}"]
        return "\n".join(lines)

    def latex(self) -> str:
        r"""The derivation as a LaTeX ``aligned`` block, one rule per line.

        Example:
            >>> import sympy as sp
            >>> from symgrad.explain import explain
            >>> x = sp.Symbol("x")
            >>> print(explain(3 * x, x).latex().splitlines()[1])
            \frac{d}{d x}\left[3 x\right] &= 3 && \text{constant multiple rule} \\
        """
        x = sp.latex(self.wrt)
        rows = []
        for s in self.steps:
            indent = r"\quad " * s.depth
            rows.append(
                rf"{indent}\frac{{d}}{{d {x}}}\left[{sp.latex(s.expr)}\right] &= "
                rf"{sp.latex(s.derivative)} && \text{{{s.rule}}} \\"
            )
        rows.append(rf"\frac{{d}}{{d {x}}}\left[{sp.latex(self.expr)}\right] &= {sp.latex(self.result)}")
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
