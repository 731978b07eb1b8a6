"""Pictures: optimizer paths on a contour plot, loss curves, a fitted curve, the gradient
check, and the computation graph with its forward values and backward adjoints.

matplotlib is optional: it is imported when a picture is drawn, and its absence is an
``ImportError`` that says how to install it. Figures are made with the Agg canvas
(no window, no global pyplot state); each function returns the ``Figure`` and, given
``path``, also saves it there.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad.explain import backprop

__all__ = ["check_bars", "contour_paths", "expression_graph", "fitted_curve", "loss_curves"]

#: Nodes beyond which ``expression_graph`` refuses to draw (labels would overlap).
MAX_GRAPH_NODES = 40


def _figure(width: float = 6.4, height: float = 4.8):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "symgrad.plot draws with matplotlib, which is not installed; "
            "install it with `pip install matplotlib` (or symgrad[plot])"
        ) from exc
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _function_of_two(function):
    """``(expr, (x, y), known minimiser or None)`` of a textbook function or an expression."""
    if hasattr(function, "expr") and hasattr(function, "symbols"):
        expr, symbols = function.expr, tuple(function.symbols)
        best = getattr(function, "x_min", None)
    else:
        from symgrad._expr import as_expr

        expr = as_expr(function, "function")
        symbols, best = tuple(sorted(expr.free_symbols, key=lambda s: s.name)), None
    if len(symbols) != 2:
        raise ValueError(f"a contour plot needs a function of 2 variables, got {len(symbols)}: "
                         f"{', '.join(map(str, symbols))}")
    return expr, symbols, best


def optimizer_path(function, optimizer, x0, steps: int = 200) -> np.ndarray:
    """The points ``x_0, x_1, ...`` visited by ``sg.minimize``: an array ``(k + 1, n)``."""
    import symgrad as sg

    points = [np.array(x0, dtype=float)]
    sg.minimize(function, x0, optimizer=optimizer, steps=steps,
                callback=lambda step, x, loss: points.append(np.array(x, dtype=float)) and False)
    return np.array(points)


def contour_paths(function, optimizers: dict, x0, *, steps: int = 200, bounds=None, levels: int = 30,
                  path=None):
    """Contour lines of ``f(x, y)`` and the path each optimizer takes from ``x0``.

    Contours are drawn at levels of ``log(1 + f - min f)`` over the grid, which keeps
    the valleys of functions such as Rosenbrock's visible.

    Args:
        function: a textbook function of ``sg.functions`` with 2 variables, or a SymPy
            expression of 2 symbols (taken in name order).
        optimizers: ``{label: optimizer}``, e.g. ``{"Adam": sg.optim.Adam(0.05)}``.
        x0: the common starting point.
        steps: steps of ``sg.minimize`` per optimizer.
        bounds: ``((x_lo, x_hi), (y_lo, y_hi))``; default: around the paths and the minimum.
        levels: number of contour levels.
        path: where to save the picture (optional).

    Returns:
        Figure: one line per optimizer, a marker at ``x0``, a star at the known minimum.
    """
    import symgrad as sg

    expr, symbols, best = _function_of_two(function)
    target = function if hasattr(function, "expr") else sg.Objective(expr, symbols)
    paths = {label: optimizer_path(target, opt, x0, steps) for label, opt in optimizers.items()}
    if bounds is None:
        every = np.vstack([np.atleast_2d(x0)] + list(paths.values()) +
                          ([np.atleast_2d(best)] if best is not None else []))
        lo, hi = every.min(axis=0), every.max(axis=0)
        pad = np.maximum(0.15 * (hi - lo), 0.5)
        bounds = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    gx = np.linspace(*bounds[0], 160)
    gy = np.linspace(*bounds[1], 160)
    X, Y = np.meshgrid(gx, gy)
    Z = sg.compile(expr, list(symbols))(X, Y)
    fig = _figure()
    ax = fig.add_subplot()
    ax.contour(X, Y, np.log1p(Z - Z.min()), levels=levels, cmap="viridis", linewidths=0.7)
    for label, points in paths.items():
        ax.plot(points[:, 0], points[:, 1], ".-", markersize=2, linewidth=1.2, label=label)
    ax.plot([x0[0]], [x0[1]], "ko", label="start")
    if best is not None:
        ax.plot([best[0]], [best[1]], "r*", markersize=12, label="minimum")
    ax.set_xlabel(str(symbols[0]))
    ax.set_ylabel(str(symbols[1]))
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_title(f"{steps} steps from ({x0[0]:g}, {x0[1]:g})")
    ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def loss_curves(results, *, log: bool = True, path=None):
    """The loss history of one or more runs (``Result.history``), one line each.

    Args:
        results: a ``Result``, or ``{label: Result}``.
        log: logarithmic loss axis (for positive losses).
        path: where to save the picture (optional).
    """
    if not isinstance(results, dict):
        results = {"loss": results}
    fig = _figure()
    ax = fig.add_subplot()
    positive = True
    for label, result in results.items():
        history = np.asarray(result.history, dtype=float)
        positive = positive and bool(np.all(history > 0))
        ax.plot(np.arange(history.size), history, label=label)
    if log and positive:
        ax.set_yscale("log")
    ax.set_xlabel("step (minimize) or epoch (fit)")
    ax.set_ylabel("loss")
    ax.set_title("loss history")
    ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def fitted_curve(model, x, params: dict, x_data, y_data, *, truth=None, path=None):
    """Data points and the fitted model ``y = model(x; params)`` over them.

    Args:
        model: SymPy expression in ``x`` and the parameters.
        x: the input symbol.
        params: ``{symbol: value}`` (``Result.params``).
        x_data, y_data: the samples.
        truth: optional ``{symbol: value}`` of the true parameters, drawn dashed.
        path: where to save the picture (optional).
    """
    import symgrad as sg

    x_data = np.asarray(x_data, dtype=float)
    grid = np.linspace(x_data.min(), x_data.max(), 200)
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(x_data, y_data, "o", markersize=3, alpha=0.6, label="data")
    curves = [("fitted", params, "-")] + ([("true", truth, "--")] if truth is not None else [])
    for label, values, style in curves:
        kernel = sg.compile(model.xreplace({k: sp.Float(v) for k, v in values.items()}), [x])
        shown = ", ".join(f"{k}={v:.3g}" for k, v in values.items())
        ax.plot(grid, kernel(grid), style, linewidth=2, label=f"{label}: {shown}")
    ax.set_xlabel(str(x))
    ax.set_ylabel(str(model))
    ax.legend(loc="best", fontsize="small")
    return _finish(fig, path)


def check_bars(report, *, path=None):
    """The three gradients of a ``GradientCheck`` side by side, and their differences.

    Left: one group of three bars (symbolic, autograd, numeric) per symbol. Right: the
    absolute differences to the symbolic gradient on a log scale (0 drawn at 1e-17).
    """
    names = [str(s) for s in report.wrt]
    at = np.arange(len(names))
    fig = _figure(9.0, 4.0)
    values, errors = fig.subplots(1, 2)
    for k, (label, g) in enumerate([("symbolic", report.symbolic), ("autograd", report.autograd),
                                    ("numeric", report.numeric)]):
        values.bar(at + (k - 1) * 0.27, g, width=0.27, label=label)
    values.set_xticks(at, names)
    values.set_title("gradient entries")
    values.axhline(0.0, color="black", linewidth=0.6)
    values.legend(fontsize="small")
    floor = 1e-17
    for k, (label, g) in enumerate([("|autograd - symbolic|", report.autograd),
                                    ("|numeric - symbolic|", report.numeric)]):
        diff = np.maximum(np.abs(np.asarray(g) - np.asarray(report.symbolic)), floor)
        errors.bar(at + (k - 0.5) * 0.35, diff, width=0.35, label=label)
    errors.set_yscale("log")
    errors.set_xticks(at, names)
    errors.axhline(report.atol, color="grey", linestyle=":", label=f"atol = {report.atol:g}")
    errors.set_title("differences" + ("" if report.ok else " (check FAILED)"))
    errors.legend(fontsize="small")
    return _finish(fig, path)


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
    fig = _figure(width, height)
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
    return _finish(fig, path)
