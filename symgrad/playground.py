"""An interactive playground: an optimizer's path on a contour plot, and its loss curve.

Choose a textbook function of two variables, or a small data fit (the line
``price = w·size + b`` through 200 houses), the optimizer, the learning rate, the
number of steps and, for the fit, the batch size; the path and the loss curve are
redrawn on every change. The numbers are symgrad's own: the contour is the compiled
kernel of the function (of the mean loss, with data) on a grid, and the path is the
run of ``sg.minimize`` (one point per step) or ``sg.fit`` (one point per epoch).

Redrawing is kept fast: the axes, the contour lines and the ticks are drawn once per
problem (and per number of steps) and kept as a bitmap; a redraw runs the optimizer,
draws the path and the loss line over that bitmap and encodes one PNG
(``last_redraw_ms`` says how long it took; ``bench/playground.py`` measures it). So
that the ticks never change, the loss axis is logarithmic from ``1e-12`` to ``1e4``
times the starting loss.

Needs the ``notebook`` extra (ipywidgets and matplotlib): ``pip install symgrad[notebook]``.

Example (in a notebook cell)::

    from symgrad.playground import Playground
    Playground()
"""

from __future__ import annotations

import io
import time

import numpy as np
import sympy as sp
from symgrad.errors import OptionError

__all__ = ["OPTIMIZERS", "PROBLEMS", "Playground", "line_fit"]

#: The optimizers offered, by label: a learning rate -> an optimizer.
OPTIMIZERS = {
    "gradient descent": lambda lr: _optim().GradientDescent(lr),
    "momentum (SGD, 0.9)": lambda lr: _optim().SGD(lr, momentum=0.9),
    "Nesterov (SGD, 0.9)": lambda lr: _optim().SGD(lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda lr: _optim().Adagrad(lr),
    "RMSProp": lambda lr: _optim().RMSProp(lr),
    "Adam": lambda lr: _optim().Adam(lr),
}

#: The problems offered: the textbook functions of two variables, and a line fit.
PROBLEMS = ("rosenbrock", "himmelblau", "beale", "booth", "matyas", "sphere", "rastrigin",
            "three_hump_camel", "line fit (w, b)")

#: Grid points per axis of the contour plot.
GRID = 120

#: Resolution of the playground's picture (dots per inch of its 8 x 3.2 inches).
DPI = 80

#: The loss axis spans from this fraction of the starting loss to ``LOSS_TOP`` times it.
LOSS_BOTTOM, LOSS_TOP = 1e-12, 1e4


def _optim():
    import symgrad as sg

    return sg.optim


def line_fit(n: int = 200, seed: int = 0):
    """The small data fit: ``(objective, [size, price], x0, bounds)``.

    ``n`` houses with sizes uniform in [0.5, 2.5] (units of 100 m²) and prices
    ``3·size + 1 + N(0, 0.1²)`` (units of 100k); the objective is the mean squared
    error of ``w·size + b`` over ``(w, b)``, started at ``(0, 0)``.
    """
    import symgrad as sg

    rng = np.random.default_rng(seed)
    size = rng.uniform(0.5, 2.5, n)
    price = 3.0 * size + 1.0 + 0.1 * rng.standard_normal(n)
    w, b, s, p = sp.symbols("w b size price")
    objective = sg.Objective(sg.losses.mse(w * s + b, p), [w, b], data=[s, p])
    return objective, [size, price], (0.0, 0.0), ((-1.0, 5.0), (-2.0, 4.0))


class Playground:
    """The widgets, the figure and the runs behind them.

    Args:
        problem: one of ``PROBLEMS``.
        optimizer: one of ``OPTIMIZERS``.
        lr: the learning rate.
        steps: steps of ``sg.minimize``, or epochs of ``sg.fit`` for the line fit.
        batch_size: mini-batch size of the line fit (its number of samples: full batch).

    Attributes:
        controls: ``{"problem", "optimizer", "lr", "steps", "batch_size"}`` -> widget; set a
            widget's ``.value`` (by hand or from Python) and the picture is redrawn.
        image: the ``ipywidgets.Image`` showing the picture (PNG bytes in ``.value``).
        status: an ``ipywidgets.HTML`` line: final loss, the run's message, redraw time.
        widget: the whole playground (a ``VBox``); the playground displays as it.
        path, losses: the points and losses of the last run.
        result: the last run's ``Result``.
        last_redraw_ms: wall time of the last redraw, in milliseconds.

    Raises:
        ImportError: ipywidgets or matplotlib is not installed (the ``notebook`` extra).
        ValueError: an unknown problem or optimizer.
    """

    def __init__(self, problem: str = "rosenbrock", optimizer: str = "Adam", lr: float = 0.05,
                 steps: int = 200, batch_size: int = 16):
        widgets = _widgets()
        _known(problem, PROBLEMS, "problem")
        _known(optimizer, OPTIMIZERS, "optimizer")
        self.controls = {
            "problem": widgets.Dropdown(options=PROBLEMS, value=problem, description="problem"),
            "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer,
                                          description="optimizer"),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-5, max=0, step=0.1,
                                         description="learning rate", readout_format=".2g"),
            "steps": widgets.IntSlider(value=steps, min=1, max=1000, description="steps"),
            "batch_size": widgets.IntSlider(value=batch_size, min=1, max=200, description="batch size"),
        }
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.controls["problem"], self.controls["optimizer"]]),
                                    widgets.HBox([self.controls["lr"], self.controls["steps"],
                                                  self.controls["batch_size"]]),
                                    self.image, self.status])
        self.last_redraw_ms = float("nan")
        self._figure()
        self._set_problem(problem)
        self.controls["problem"].observe(lambda change: self._set_problem(change["new"]), names="value")
        for name in ("optimizer", "lr", "batch_size"):
            self.controls[name].observe(lambda change: self.redraw(), names="value")
        self.controls["steps"].observe(lambda change: self._new_background(), names="value")

    def _figure(self):
        from symgrad.plot._figure import new_figure

        self.fig = new_figure(8.0, 3.2)
        self.fig.set_dpi(DPI)
        self.ax_path, self.ax_loss = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        (self.line_path,) = self.ax_path.plot([], [], ".-", color="C3", markersize=3, linewidth=1.2,
                                              animated=True)
        (self.line_loss,) = self.ax_loss.plot([], [], color="C3", animated=True)
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_ylabel("loss")

    def _set_problem(self, problem: str) -> None:
        """Compute the contour of a new problem once, keep it as a bitmap, then redraw."""
        from symgrad.plot._contour import Surface, draw_contours, surface_of

        _known(problem, PROBLEMS, "problem")
        if problem in PROBLEMS[:-1]:
            import symgrad as sg

            function = getattr(sg.functions, problem)()
            self.surface = surface_of(function)
            self.x0, bounds = tuple(function.x0), function.domain
        else:
            objective, columns, self.x0, bounds = line_fit()
            self.surface = Surface(objective.expr, objective.params, objective.data, columns, None, objective)
        self.controls["batch_size"].disabled = not self.surface.data
        self.controls["batch_size"].max = len(self.surface.columns[0]) if self.surface.data else 200
        ax = self.ax_path
        for artist in list(ax.collections) + [line for line in ax.lines if line is not self.line_path]:
            artist.remove()
        X, Y = np.meshgrid(np.linspace(*bounds[0], GRID), np.linspace(*bounds[1], GRID))
        draw_contours(ax, X, Y, self.surface.values(X, Y))
        ax.plot([self.x0[0]], [self.x0[1]], "ko", markersize=4)
        if self.surface.best is not None:
            ax.plot([self.surface.best[0]], [self.surface.best[1]], "r*", markersize=10)
        ax.set_xlim(*bounds[0])
        ax.set_ylim(*bounds[1])
        ax.set_xlabel(str(self.surface.symbols[0]))
        ax.set_ylabel(str(self.surface.symbols[1]))
        ax.set_title(problem, fontsize="medium")
        self.ax_loss.set_xlabel("epoch" if self.surface.data else "step")
        start = float(self.surface.values(*self.x0))
        scale = abs(start) if start != 0 else 1.0
        self.ax_loss.set_ylim(scale * LOSS_BOTTOM, scale * LOSS_TOP)
        self._background = None
        self.redraw()

    def _new_background(self) -> None:
        """The step axis changed: draw the axes afresh, then the lines."""
        self._background = None
        self.redraw()

    def run(self):
        """Run the chosen optimizer on the chosen problem: ``(points, losses, result)``."""
        c = self.controls
        optimizer = OPTIMIZERS[c["optimizer"].value](c["lr"].value)
        batch = c["batch_size"].value if self.surface.data else None
        if batch is not None and batch >= len(self.surface.columns[0]):
            batch = None
        return self.surface.run(optimizer, self.x0, c["steps"].value, batch, seed=0)

    def redraw(self) -> float:
        """Run, draw the path and the loss curve, update the image; the time it took, in ms."""
        start = time.perf_counter()
        self.path, self.losses, self.result = self.run()
        self.line_path.set_data(self.path[:, 0], self.path[:, 1])
        shown = np.where(np.isfinite(self.losses) & (self.losses > 0), self.losses, np.nan)
        self.line_loss.set_data(np.arange(len(shown)), shown)
        self.image.value = self._png()
        self.last_redraw_ms = 1e3 * (time.perf_counter() - start)
        loss = self.losses[-1]
        self.status.value = (f"final loss {loss:.6g} after {len(self.losses) - 1} "
                             f"{'epochs' if self.surface.data else 'steps'}; {self.result.message}; "
                             f"redrawn in {self.last_redraw_ms:.0f} ms")
        return self.last_redraw_ms

    def _png(self) -> bytes:
        """The picture as PNG: the axes, contour lines and ticks are a bitmap drawn once per
        problem (and step count); a redraw pastes it and draws the path and the loss line."""
        from PIL import Image

        canvas = self.fig.canvas
        if self._background is None:
            self.ax_loss.set_xlim(0, max(self.controls["steps"].value, 1))
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self._background)
        self.ax_path.draw_artist(self.line_path)
        self.ax_loss.draw_artist(self.line_loss)
        buffer = io.BytesIO()
        rgb = np.asarray(canvas.buffer_rgba())[..., :3]
        Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _known(name, options, what):
    if name not in options:
        raise OptionError(f"unknown {what} {name!r}; choose one of: {', '.join(options)}")


def _widgets():
    try:
        import ipywidgets
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError("the playground needs ipywidgets and matplotlib: "
                          "pip install symgrad[notebook]") from exc
    return ipywidgets
