"""The computation graph of an expression, with the forward value and the adjoint of each node."""

from __future__ import annotations

from symgrad.explain import backprop
from symgrad.plot._figure import finish, new_figure
from symgrad.errors import OptionError

__all__ = ["MAX_GRAPH_NODES", "expression_graph"]

#: Nodes beyond which ``expression_graph`` refuses to draw (labels would overlap).
MAX_GRAPH_NODES = 40

#: Half the width and half the height of a node's box, in axis units (a column is 1 wide,
#: a row 1 high): where an edge starts and its arrow head stops.
BOX = (0.19, 0.2)


def _clear_of_boxes(route: list) -> list:
    """The route with its first point moved out of the source's box and its last out of the target's."""
    def pulled(end, toward):
        dx, dy = toward[0] - end[0], toward[1] - end[1]
        t = min(BOX[0] / abs(dx) if dx else float("inf"), BOX[1] / abs(dy) if dy else float("inf"), 0.5)
        return (end[0] + t * dx, end[1] + t * dy)

    return [pulled(route[0], route[1])] + route[1:-1] + [pulled(route[-1], route[-2])]


def expression_graph(expr, at, *, path=None):
    """The computation graph of ``expr`` with forward values, local derivatives and adjoints.

    Each box is one node of ``backprop(expr, at)`` (inputs, then operations named as the
    learner built them: ``z``, ``a``, ``L``, ``t1``, ...), placed by ``Backprop.layout()``:
    a column per depth, rows ordered for few crossings, and an edge that spans several
    columns routed through waypoints so that it passes no box. A box shows the node's
    operation, its forward value and its adjoint ``∂f/∂node``; each edge ``s → t`` is
    labelled with the local derivative ``∂t/∂s`` and its value, so the adjoint of ``s``
    can be checked by hand as the sum over its edges of ``adjoint(t) × ∂t/∂s``.

    Args:
        expr: scalar SymPy expression.
        at: ``{symbol: value}`` for every free symbol, or values in name order.
        path: where to save the picture (optional).

    Raises:
        ValueError: more than ``MAX_GRAPH_NODES`` nodes.
    """
    graph = backprop(expr, at)
    if len(graph.nodes) > MAX_GRAPH_NODES:
        raise OptionError(f"the expression has {len(graph.nodes)} operations; expression_graph "
                          f"draws at most {MAX_GRAPH_NODES} legibly")
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    drawing = graph.layout()
    where = drawing.positions
    columns = max(c for c, _ in where.values()) + 1
    rows = [r for _, r in where.values()] + [r for route in drawing.routes.values() for _, r in route]
    low, high = min(rows), max(rows)
    fig = new_figure(2.9 * columns + 1, 1.35 * (high - low + 1) + 1.6)
    ax = fig.add_subplot()
    for edge in graph.edges:
        route = _clear_of_boxes([(float(c), float(-r)) for c, r in drawing.routes[(edge.source, edge.target)]])
        codes = [Path.MOVETO] + [Path.LINETO] * (len(route) - 1)
        ax.add_patch(FancyArrowPatch(path=Path(route, codes), arrowstyle="-|>", mutation_scale=11,
                                     color="grey", linewidth=0.9))
        (x0, y0), (x1, y1) = route[-2], route[-1]
        ax.text(x0 + 0.45 * (x1 - x0), y0 + 0.45 * (y1 - y0), str(edge), ha="center", va="center",
                fontsize=6.5, color="#444444",
                bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
    for node in graph.nodes:
        colour = "#dbe9f6" if node.is_input else "#fdebd0"
        column, row = where[node.name]
        ax.text(column, -row, node.label(), ha="center", va="center", fontsize=8, family="monospace",
                bbox=dict(boxstyle="round,pad=0.4", facecolor=colour, edgecolor="grey"))
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(-high - 0.6, -low + 0.6)
    ax.set_axis_off()
    point = ", ".join(f"{s} = {v:g}" for s, v in graph.point.items())
    ax.set_title(f"f = {graph.expr} at {point}\nforward: value of each node; on each edge s → t the "
                 f"local derivative ∂t/∂s; backward: adjoint(s) = Σ adjoint(t) × ∂t/∂s", fontsize=9)
    return finish(fig, path)
