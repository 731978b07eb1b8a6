"""How the result objects show themselves in a notebook: HTML tables, LaTeX, plain text.

IPython asks an object for ``_repr_html_``, ``_repr_latex_``, ``_repr_png_`` ... and
``_repr_pretty_`` (its plain text); the classes here add those to the objects that
lacked them, so every result renders in Jupyter with no setup:

- ``BackpropDisplay``, a mixin of ``explain.Backprop``: the forward and backward pass
  as a table (one row per node: its operation, value, adjoint and whatever else the
  node records, such as the local derivatives on its edges), not a dataclass dump;
- ``DifferenceQuotientsDisplay``, a mixin of ``explain.DifferenceQuotients``: the table
  of forward and central quotients and their errors for each step ``h``;
- ``Explanations``, the list ``explain(expr, [x, y, ...])`` returns: a ``list`` that
  shows every explanation with all its steps, not their one-line ``repr``.

Figures of ``symgrad.plot`` show themselves as images (see ``symgrad.plot``).
This module imports nothing of symgrad, so any stage can use it.
"""

from __future__ import annotations

import dataclasses
import html

__all__ = ["BackpropDisplay", "DifferenceQuotientsDisplay", "Explanations", "html_table"]

#: Node attributes a backprop table does not show as columns (they are drawn in the graph).
HIDDEN_NODE_FIELDS = ("operation", "inputs", "depth")

#: Backprop attributes shown in the summary line and the table; any other is listed below it.
SHOWN_BACKPROP_FIELDS = ("expr", "point", "nodes", "value", "gradient", "singular")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return str(value)


def html_table(header, rows) -> str:
    """An HTML table, every cell escaped; numbers right-aligned.

    Example:
        >>> html_table(["a"], [[1.5]])
        '<table><tr><th>a</th></tr><tr><td style="text-align:right">1.5</td></tr></table>'
    """
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for value in row:
            align = ' style="text-align:right"' if isinstance(value, (int, float)) else ""
            cells.append(f"<td{align}>{html.escape(_cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _field_html(name: str, value) -> str:
    """A further attribute of a result, as a titled list (one item per entry)."""
    items = value.items() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else None
    if items is None:
        return f"<p>{html.escape(name)}: {html.escape(_cell(value))}</p>"
    if not items:
        return ""
    shown = [f"{k}: {_cell(v)}" for k, v in items] if isinstance(value, dict) else [_cell(v) for v in items]
    return (f"<p>{html.escape(name.replace('_', ' '))}:</p><ul>"
            + "".join(f"<li>{html.escape(item)}</li>" for item in shown) + "</ul>")


class BackpropDisplay:
    """Notebook display of a ``Backprop``: a summary line, then one table row per node.

    The class using it is a dataclass with ``repr=False``, so that the short ``repr``
    here replaces the field dump.
    """

    def _node_columns(self) -> list:
        node = self.nodes[0]
        names = [f.name for f in dataclasses.fields(node) if f.name not in HIDDEN_NODE_FIELDS]
        return names

    def _repr_html_(self) -> str:
        point = ", ".join(f"{s} = {v:g}" for s, v in self.point.items())
        gradient = ", ".join(f"∂f/∂{s} = {v:.6g}" for s, v in self.gradient.items())
        columns = self._node_columns() if self.nodes else []
        rows = []
        for node in self.nodes:
            row = [getattr(node, c) for c in columns]
            if "rhs" in columns:
                row[columns.index("rhs")] = "input" if node.is_input else f"{node.name} = {node.rhs}"
            rows.append(row)
        header = ["operation" if c == "rhs" else c for c in columns]
        notes = "".join(f"<br>singular: {html.escape(str(s))}" for s in self.singular)
        extra = "".join(_field_html(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                        if f.name not in SHOWN_BACKPROP_FIELDS)
        return (f"<p>f = <code>{html.escape(str(self.expr))}</code> at {html.escape(point)}: "
                f"value {self.value:.6g}; {html.escape(gradient)}</p>"
                f"{html_table(header, rows)}{extra}"
                "<p><small>forward: the value of each node; backward: its adjoint ∂f/∂node, "
                f"the sum over its consumers of their adjoint × local derivative{notes}</small></p>")

    def __repr__(self) -> str:
        point = ", ".join(f"{s}={v:g}" for s, v in self.point.items())
        return f"Backprop(f = {self.expr} at {point}: value {self.value:.6g}, {len(self.nodes)} nodes)"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))


class DifferenceQuotientsDisplay:
    """Notebook display of ``DifferenceQuotients``: one row per step ``h``, then the exact slope.

    The class using it is a dataclass with ``repr=False``, so that the short ``repr``
    here replaces the field dump; ``symgrad.plot.derivative_as_limit`` draws it.
    """

    def __repr__(self) -> str:
        return (f"DifferenceQuotients(d/d{self.wrt} [{self.expr}] at {self.wrt} = {self.x!r}: exact "
                f"{self.exact!r}, {len(self.steps)} steps)")

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        x = html.escape(str(self.wrt))
        header = ["h", f"(f({x}+h) − f({x}))/h", "error", f"(f({x}+h) − f({x}−h))/2h", "error"]
        rows = [[f"{h:.0e}", f"{fw:.15g}", f"{fe:.2e}", f"{ce:.15g}", f"{ee:.2e}"]
                for h, fw, fe, ce, ee in zip(self.steps, self.forward, self.forward_error,
                                              self.central, self.central_error)]
        return (f"<p>the derivative as a limit: d/d{x} [<code>{html.escape(str(self.expr))}</code>] at "
                f"{x} = {self.x:g}; exact f′({x}) = {self.exact!r}</p>{html_table(header, rows)}"
                f"<p><small>the forward error is smallest at h = {self.best_step:g}: truncation "
                f"(about |f″|·h/2) shrinks with h, rounding (about ε·|f|/h) grows</small></p>")


class Explanations(list):
    """The explanations of ``explain(expr, [x, y, ...])``, one per variable, in order.

    A ``list``; printed or shown in a notebook, it shows every derivation in full.
    """

    def __str__(self) -> str:
        return "\n\n".join(str(e) for e in self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self) if not cycle else "[...]")

    def _repr_html_(self) -> str:
        return "<hr>".join(e._repr_html_() for e in self)

    def _repr_latex_(self) -> str:
        blocks = r" \\[2ex] ".join(e.latex() for e in self)
        return "$$\\begin{gathered}\n" + blocks + "\n\\end{gathered}$$"
