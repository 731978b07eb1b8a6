"""Loss histories, a fitted curve over its data, and the three gradients of a check."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgrad.plot._figure import finish, new_figure

__all__ = ["check_bars", "fitted_curve", "loss_curves"]

#: Where a difference of exactly 0 is drawn on the logarithmic axis.
ZERO_DIFFERENCE = 1e-17


def loss_curves(results, *, log: bool = True, path=None):
    """The loss history of one or more runs (``Result.history``), one line each.

    Args:
        results: a ``Result``, or ``{label: Result}``.
        log: logarithmic loss axis (for positive losses).
        path: where to save the picture (optional).
    """
    if not isinstance(results, dict):
        results = {"loss": results}
    fig = new_figure()
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
    return finish(fig, path)


def fitted_curve(model, x, params: dict, x_data, y_data, *, truth=None, target=None, path=None):
    """Data points and the fitted model ``y = model(x; params)`` over them.

    Args:
        model: SymPy expression in ``x`` and the parameters.
        x: the input symbol (the x axis).
        params: ``{symbol: value}`` (``Result.params``).
        x_data, y_data: the samples.
        truth: optional ``{symbol: value}`` of the true parameters, drawn dashed.
        target: the name (or symbol) of what ``y_data`` measure, for the y axis
            (default ``"y"``); the model is in the legend.
        path: where to save the picture (optional).
    """
    import symgrad as sg

    x_data = np.asarray(x_data, dtype=float)
    grid = np.linspace(x_data.min(), x_data.max(), 200)
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(x_data, y_data, "o", markersize=3, alpha=0.6, label="data")
    curves = [("fitted", params, "-")] + ([("true", truth, "--")] if truth is not None else [])
    for label, values, style in curves:
        kernel = sg.compile(model.xreplace({k: sp.Float(v) for k, v in values.items()}), [x])
        shown = ", ".join(f"{k}={v:.3g}" for k, v in values.items())
        ax.plot(grid, np.broadcast_to(kernel(grid), grid.shape), style, linewidth=2,
                label=f"{label}: {shown}")
    ax.set_xlabel(str(x))
    ax.set_ylabel("y" if target is None else str(target))
    ax.set_title(f"model: {model}", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return finish(fig, path)


def check_bars(report, *, path=None):
    """The three gradients of a ``GradientCheck`` side by side, and their differences.

    Left: one group of three bars (symbolic, autograd, numeric) per symbol. Right: the
    absolute differences to the symbolic gradient on a log scale (0 drawn at 1e-17),
    with the tolerance ``atol + rtol·|symbolic|`` of each entry. Where finite
    differences are not judged (the point is on a kink, or a derivative is singular
    there) their bars are hatched grey and labelled "not judged", and the one-sided
    differences of a kink are drawn as ticks; the title gives the report's verdict.
    """
    names = [str(s) for s in report.wrt]
    at = np.arange(len(names))
    symbolic = np.asarray(report.symbolic, dtype=float)
    unjudged = bool(report.kinks or report.singular)
    why = "kink" if report.kinks else "singular point"
    fig = new_figure(9.0, 4.0)
    values, errors = fig.subplots(1, 2)
    for k, (label, g) in enumerate([("symbolic", symbolic), ("autograd", report.autograd),
                                    ("numeric", report.numeric)]):
        style = dict(color="lightgrey", hatch="//", edgecolor="grey") if label == "numeric" and unjudged else {}
        shown = f"numeric (not judged: {why})" if label == "numeric" and unjudged else label
        values.bar(at + (k - 1) * 0.27, np.nan_to_num(np.asarray(g, dtype=float)), width=0.27,
                   label=shown, **style)
    if report.kinks and report.left is not None:
        values.plot(at + 0.27, report.left, "v", color="black", label="left difference")
        values.plot(at + 0.27, report.right, "^", color="black", label="right difference")
    values.set_xticks(at, names)
    values.set_title("gradient entries")
    values.axhline(0.0, color="black", linewidth=0.6)
    values.legend(fontsize="small")
    for k, (label, g) in enumerate([("|autograd - symbolic|", report.autograd),
                                    ("|numeric - symbolic|", report.numeric)]):
        with np.errstate(invalid="ignore"):
            diff = np.abs(np.asarray(g, dtype=float) - symbolic)
        diff = np.where(np.asarray(g) == symbolic, 0.0, diff)
        diff = np.maximum(np.nan_to_num(diff, nan=np.inf, posinf=1e300), ZERO_DIFFERENCE)
        style = dict(color="lightgrey", hatch="//", edgecolor="grey") if k == 1 and unjudged else {}
        errors.bar(at + (k - 0.5) * 0.35, diff, width=0.35,
                   label=label + (" (not judged)" if k == 1 and unjudged else ""), **style)
    tolerance = report.atol + report.rtol * np.abs(np.nan_to_num(symbolic))
    errors.hlines(tolerance, at - 0.4, at + 0.4, color="grey", linestyle=":",
                  label="tolerance atol + rtol·|symbolic|")
    errors.set_yscale("log")
    errors.set_xticks(at, names)
    verdict = "OK" if report.ok else "check FAILED"
    errors.set_title(f"differences: {verdict}" + (f" (finite differences not judged at a {why})"
                                                  if unjudged else ""), fontsize="medium")
    errors.legend(fontsize="small")
    return finish(fig, path)
