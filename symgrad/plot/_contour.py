"""Optimizer paths on the contour lines of a function, or of a mean loss over data.

The surface is evaluated by the compiled kernel of the expression on a grid; with
data, ``L(w, b) = mean_k loss(w, b; x_k, y_k)`` is evaluated for every grid point by
broadcasting the per-sample kernel over (grid row x samples), in chunks that bound
the memory. A path that diverges is cut, for the choice of the axes, where its loss
first rises far above the start, so the converging paths stay visible.
"""

from __future__ import annotations

import numpy as np

from symgrad.plot._figure import finish, new_figure
from symgrad.errors import InputError, MissingSymbolError, OptionError

__all__ = ["Surface", "contour_paths", "loss_surface", "optimizer_path", "surface_of"]

#: Grid points per axis of a contour plot.
GRID = 160

#: Entries (grid points x samples) evaluated at once when the loss has data.
CHUNK = 2**20


class Surface:
    """A function of two variables: its expression, axes, data and known minimum.

    Attributes:
        expr: the per-sample expression (the function itself without data).
        symbols: the two variables, in the order of the axes (x axis first).
        data: the data symbols, and ``columns`` their values (empty without data).
        best: a known minimiser, or ``None``.
        target: what ``sg.minimize`` / ``sg.fit`` run on.
    """

    def __init__(self, expr, symbols, data=(), columns=(), best=None, target=None):
        import symgrad as sg

        self.expr, self.symbols, self.best = expr, tuple(symbols), best
        self.data, self.columns = tuple(data), tuple(np.asarray(c, dtype=float) for c in columns)
        self.target = target if target is not None else sg.Objective(expr, list(self.symbols))
        self.kernel = sg.compile(expr, list(self.symbols) + list(self.data))

    def values(self, X, Y) -> np.ndarray:
        """``f`` (or the mean loss over the data) at the points ``(X, Y)``, any equal shapes."""
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        if not self.data:
            return np.asarray(self.kernel(X, Y), dtype=float)
        flat_x, flat_y = X.ravel(), Y.ravel()
        n = self.columns[0].size
        out = np.empty(flat_x.size)
        rows = max(1, CHUNK // n)
        for start in range(0, flat_x.size, rows):
            sl = slice(start, start + rows)
            cols = [c[None, :] for c in self.columns]
            out[sl] = np.mean(self.kernel(flat_x[sl, None], flat_y[sl, None], *cols), axis=1)
        return out.reshape(X.shape)

    def run(self, optimizer, x0, steps, batch_size=None, seed=0):
        """``(points, losses, result)``: the points visited from ``x0`` (``(k + 1, 2)``), their
        losses and the run's ``Result``: ``minimize`` without data (``steps`` steps), ``fit``
        with data (``steps`` epochs)."""
        import symgrad as sg

        points, losses = [np.array(x0, dtype=float)], [float(self.values(*x0))]

        def record(step, x, loss):
            points.append(np.array(x, dtype=float))
            losses.append(float(loss))
            return False

        if self.data:
            result = sg.fit(self.target, list(self.columns), x0=list(x0), optimizer=optimizer,
                            epochs=steps, batch_size=batch_size, seed=seed, callback=record)
        else:
            result = sg.minimize(self.target, list(x0), optimizer=optimizer, steps=steps, callback=record)
        return np.array(points), np.array(losses), result


def surface_of(function, data=None, wrt=None) -> Surface:
    """The ``Surface`` of a textbook function, an ``Objective`` (with ``data``) or an expression.

    Axes follow the caller's order: a textbook function's ``symbols``, an ``Objective``'s
    ``params``, or ``wrt`` for an expression (name order when ``wrt`` is not given).

    Raises:
        ValueError: not exactly two variables, or data given for an objective without data
            symbols (or missing for one with them).
    """
    from symgrad.objective import Objective

    if isinstance(function, Objective):
        symbols, expr = function.params, function.expr
        if bool(function.data) != (data is not None):
            raise OptionError(
                f"the objective has data symbols ({', '.join(map(str, function.data)) or 'none'}); "
                + ("pass their columns as data=[...]" if function.data else "drop data=")
            )
        columns = list(data) if data is not None else []
        if len(columns) != len(function.data):
            raise InputError(f"data gives {len(columns)} columns for the {len(function.data)} data "
                             f"symbols {', '.join(map(str, function.data))}")
        _two(symbols)
        return Surface(expr, symbols, function.data, columns, None, function)
    if data is not None:
        raise OptionError("data= goes with an sg.Objective that has data symbols; build one with "
                          "sg.Objective(expr, params, data=[...])")
    if hasattr(function, "expr") and hasattr(function, "symbols"):
        _two(function.symbols)
        return Surface(function.expr, function.symbols, best=getattr(function, "x_min", None))
    from symgrad._expr import as_expr

    expr = as_expr(function, "function")
    symbols = tuple(wrt) if wrt is not None else tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    _two(symbols)
    extra = expr.free_symbols - set(symbols)
    if extra:
        raise MissingSymbolError(
            f"the function has symbols {', '.join(sorted(map(str, extra)))} beyond the axes "
            f"{', '.join(map(str, symbols))}; give them values, or use an sg.Objective with data"
        )
    return Surface(expr, symbols)


def _two(symbols):
    if len(symbols) != 2:
        raise OptionError(f"a contour plot needs a function of 2 variables, got {len(symbols)}: "
                          f"{', '.join(map(str, symbols))}")


def loss_surface(function, bounds, *, data=None, wrt=None, grid: int = GRID):
    """``(X, Y, Z)``: the function (or the mean loss over ``data``) on a ``grid x grid`` mesh.

    Args:
        function: as for :func:`contour_paths`.
        bounds: ``((x_lo, x_hi), (y_lo, y_hi))``.
        data: the columns of an ``Objective``'s data symbols.
        wrt: the two axes of an expression.
        grid: points per axis.
    """
    return _mesh(surface_of(function, data, wrt), bounds, grid)


def _mesh(surface, bounds, grid):
    X, Y = np.meshgrid(np.linspace(*bounds[0], grid), np.linspace(*bounds[1], grid))
    return X, Y, surface.values(X, Y)


def optimizer_path(function, optimizer, x0, steps: int = 200) -> np.ndarray:
    """The points ``x_0, x_1, ...`` visited by ``sg.minimize``: an array ``(k + 1, n)``."""
    import symgrad as sg

    points = [np.array(x0, dtype=float)]
    sg.minimize(function, x0, optimizer=optimizer, steps=steps,
                callback=lambda step, x, loss: points.append(np.array(x, dtype=float)) and False)
    return np.array(points)


def diverged(result) -> bool:
    """Whether a run stopped because its loss or parameters diverged."""
    return result.message.startswith("diverged")


def in_view(points, losses, result) -> np.ndarray:
    """The part of a path that decides the axes: all of it unless the run diverged, else the
    points up to where the loss first rises above ``L_0 + max(L_0 - min L, |L_0|)`` or stops
    being finite (``L_0`` the starting loss)."""
    start, finite = losses[0], np.isfinite(losses)
    if not diverged(result):
        return points
    low = np.min(losses[finite])
    ceiling = start + max(start - low, abs(start), 1e-12)
    bad = np.flatnonzero(~finite | (losses > ceiling))
    return points[: bad[0]] if bad.size else points


def view_bounds(x0, kept: list, best=None):
    """Axes around ``x0``, the kept part of each path and the known minimum, padded by 15%."""
    every = np.vstack([np.atleast_2d(np.asarray(x0, dtype=float))] + [k for k in kept if len(k)]
                      + ([np.atleast_2d(best)] if best is not None else []))
    lo, hi = every.min(axis=0), every.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.5)
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


def draw_contours(ax, X, Y, Z, levels: int = 30):
    """Contour lines at levels of ``log(1 + Z - min Z)`` (Rosenbrock's valley stays visible)."""
    finite = np.isfinite(Z)
    shown = np.ma.masked_invalid(Z)
    if finite.any():
        shown = np.ma.masked_invalid(np.log1p(np.where(finite, Z - Z[finite].min(), np.nan)))
    return ax.contour(X, Y, shown, levels=levels, cmap="viridis", linewidths=0.7)


def contour_paths(function, optimizers: dict, x0, *, data=None, wrt=None, steps: int = 200,
                  batch_size=None, seed: int = 0, bounds=None, levels: int = 30, path=None):
    """Contour lines of ``f(x, y)`` (or of a mean loss over data) and each optimizer's path from ``x0``.

    Without data each path is ``sg.minimize``'s ``steps`` steps; with ``data`` (the columns
    of an ``Objective`` over two parameters, such as ``w`` and ``b`` of ``price = w·size + b``)
    the surface is the mean loss ``L(w, b)`` and each path is ``sg.fit``'s, one point per
    epoch. A run that diverges is drawn and labelled so; it does not set the axes.

    Args:
        function: a textbook function of ``sg.functions`` with 2 variables, an ``sg.Objective``
            with 2 parameters, or a SymPy expression of 2 symbols.
        optimizers: ``{label: optimizer}``, e.g. ``{"Adam": sg.optim.Adam(0.05)}``.
        x0: the common starting point, in axis order.
        data: the data columns of an ``Objective`` with data symbols.
        wrt: the two symbols of an expression, x axis first (default: name order).
        steps: steps (``minimize``) or epochs (``fit``) per optimizer.
        batch_size, seed: passed to ``sg.fit`` with data.
        bounds: ``((x_lo, x_hi), (y_lo, y_hi))``; default: around ``x0``, the converging
            parts of the paths and the known minimum.
        levels: number of contour levels.
        path: where to save the picture (optional).

    Returns:
        Figure: one line per optimizer, a marker at ``x0``, a star at a known minimum.

    Raises:
        ValueError: not two variables, or data that do not match the objective.
    """
    surface = surface_of(function, data, wrt)
    runs = {label: surface.run(opt, x0, steps, batch_size, seed) for label, opt in optimizers.items()}
    if bounds is None:
        bounds = view_bounds(x0, [in_view(*run) for run in runs.values()], surface.best)
    X, Y, Z = _mesh(surface, bounds, GRID)
    fig = new_figure()
    ax = fig.add_subplot()
    draw_contours(ax, X, Y, Z, levels)
    for label, (points, _, result) in runs.items():
        ax.plot(points[:, 0], points[:, 1], ".-", markersize=2, linewidth=1.2,
                label=f"{label} (diverged)" if diverged(result) else label)
    ax.plot([x0[0]], [x0[1]], "ko", label="start")
    if surface.best is not None:
        ax.plot([surface.best[0]], [surface.best[1]], "r*", markersize=12, label="minimum")
    ax.set_xlabel(str(surface.symbols[0]))
    ax.set_ylabel(str(surface.symbols[1]))
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    unit = "epochs" if surface.data else "steps"
    ax.set_title(f"{steps} {unit} from ({x0[0]:g}, {x0[1]:g})")
    ax.legend(loc="best", fontsize="small")
    return finish(fig, path)
