"""The computation graph of an expression, with the forward value and the adjoint of each node."""

from __future__ import annotations

from symgrad.explain import backprop
from symgrad.plot._figure import finish, new_figure

__all__ = ["MAX_GRAPH_NODES", "expression_graph"]

#: Nodes beyond which ``expression_graph`` refuses to draw (labels would overlap).
MAX_GRAPH_NODES = 40


def expression_graph(expr, at, *, path=None):
    """The computation graph of ``expr`` with forward values and backward adjoints at a point.

    Each node is one operation ``t = op(args)`` of the linearized program (inputs on
    the left, the output on the right, layered by depth). Its label shows the
    operation, the forward value of ``t`` and the adjoint ``∂f/∂t``: the numbers
    backpropagation computes. The adjoints of the inputs are the gradient.

    Args:
        expr: scalar SymPy expression.
        at: ``{symbol: value}`` for every free symbol, or values in name order.
        path: where to save the picture (optional).
    """
    graph = backprop(expr, at)
    if len(graph.nodes) > MAX_GRAPH_NODES:
        raise ValueError(f"the expression has {len(graph.nodes)} operations; expression_graph "
                         f"draws at most {MAX_GRAPH_NODES} legibly")
    from matplotlib.patches import FancyArrowPatch

    layers: dict = {}
    for node in graph.nodes:
        layers.setdefault(node.depth, []).append(node)
    width = 2.6 * (max(layers) + 1) + 1
    height = 1.3 * max(len(v) for v in layers.values()) + 1.5
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    where = {}
    for depth, nodes in layers.items():
        for i, node in enumerate(nodes):
            where[node.name] = (depth, (len(nodes) - 1) / 2 - i)
    for node in graph.nodes:
        for source in node.inputs:
            arrow = FancyArrowPatch(where[source], where[node.name], arrowstyle="-|>", mutation_scale=12,
                                    shrinkA=38, shrinkB=38, color="grey", linewidth=1)
            ax.add_patch(arrow)
    for node in graph.nodes:
        colour = "#dbe9f6" if node.is_input else "#fdebd0"
        ax.text(*where[node.name], node.label(), ha="center", va="center", fontsize=8, family="monospace",
                bbox=dict(boxstyle="round,pad=0.4", facecolor=colour, edgecolor="grey"))
    ax.set_xlim(-0.7, max(layers) + 0.7)
    rows = max(len(v) for v in layers.values())
    ax.set_ylim(-rows / 2 - 0.3, rows / 2 + 0.3)
    ax.set_axis_off()
    point = ", ".join(f"{s} = {v:g}" for s, v in graph.point.items())
    ax.set_title(f"f = {graph.expr} at {point}\nforward: value of each node; backward: adjoint ∂f/∂node",
                 fontsize=9)
    return finish(fig, path)
