"""A short tour of symgrad, run by ``symgrad demo``.

It prints the derivative of ``x²·sin(y)`` rule by rule, the three-way gradient
check at a point, a mini-batch fit of a line to generated house prices, and the
generated kernel source; with matplotlib installed it also saves pictures.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import sympy as sp

__all__ = ["run", "house_prices"]

#: The true parameters of the generated house prices: price = W * size + B + noise.
TRUE_W, TRUE_B = 3.0, 1.5


def house_prices(n: int = 200, seed: int = 0):
    """Generated data: sizes in 100 m² (0.5 to 2.5) and prices ``3·size + 1.5 + noise``.

    Returns:
        (size, price): two float64 arrays of length ``n``; the noise is normal with
        standard deviation 0.2.

    Example:
        >>> size, price = house_prices(5)
        >>> size.shape, price.shape
        ((5,), (5,))
    """
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.5, 2.5, n)
    price = TRUE_W * size + TRUE_B + rng.normal(0.0, 0.2, n)
    return size, price


def _section(stream, title):
    print(f"\n== {title} ==\n", file=stream)


def _wants_progress(stream) -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def run(out: str | None = "symgrad-demo", stream=None, progress: bool | None = None) -> list:
    """Print the tour to ``stream`` (default stdout) and save pictures in ``out``.

    Args:
        out: folder for the pictures (created if needed); ``None`` draws none.
        stream: where to print.
        progress: show a tqdm bar during the fit (default: when tqdm is installed and
            ``stream`` is a terminal).

    Returns:
        list of the picture files written (empty without ``out`` or matplotlib).
    """
    import symgrad as sg
    from symgrad.explain import explain

    stream = sys.stdout if stream is None else stream
    x, y = sp.symbols("x y")
    f = x**2 * sp.sin(y)

    _section(stream, "1. the gradient of x^2*sin(y), rule by rule")
    for symbol, partial in zip((x, y), sg.gradient(f, [x, y])):
        print(f"d/d{symbol} = {partial}", file=stream)
    for explanation in explain(f, [x, y]):
        print(f"\n{explanation}", file=stream)

    _section(stream, "2. three opinions on the gradient at x = 1, y = 2")
    report = sg.check_gradient(f, [x, y], {x: 1.0, y: 2.0})
    print(report, file=stream)

    _section(stream, "3. fitting price = w*size + b to 200 houses, mini-batches of 16")
    w, b, size, price = sp.symbols("w b size price")
    size_data, price_data = house_prices()
    objective = sg.Objective((w * size + b - price) ** 2, [w, b], [size, price])
    if progress is None:
        progress = _wants_progress(stream)
    result = sg.fit(objective, [size_data, price_data], x0=[0.0, 0.0], optimizer=sg.optim.Adam(0.1),
                    epochs=60, batch_size=16, seed=0, progress=progress)
    design = np.column_stack([size_data, np.ones_like(size_data)])
    best = np.linalg.lstsq(design, price_data, rcond=None)[0]
    print(f"{'':10s}{'fitted':>10s}{'least squares':>15s}{'true':>8s}", file=stream)
    for name, value, exact, true in [("w", result.params[w], best[0], TRUE_W),
                                     ("b", result.params[b], best[1], TRUE_B)]:
        print(f"{name:10s}{value:10.4f}{exact:15.4f}{true:8.2f}", file=stream)
    print(f"final loss {result.loss:.5f} (mean squared error) after {result.steps} updates", file=stream)

    _section(stream, "4. the kernel Numba compiles for the gradient of x^2*sin(y)")
    kernel = sg.compile(sg.gradient(f, [x, y]), [x, y])
    print(kernel.source, file=stream)
    print(f"kernel(1, 2) = {kernel(1.0, 2.0)}", file=stream)

    written = []
    if out is not None:
        _section(stream, f"5. pictures in {out}")
        written = _pictures(out, f, report, result, objective, size_data, price_data, stream)
    return written


def _pictures(out, f, report, fit_result, objective, size_data, price_data, stream) -> list:
    import symgrad as sg

    from symgrad import plot

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed, so no pictures were drawn "
              "(pip install matplotlib, or symgrad[plot]).", file=stream)
        return []
    os.makedirs(out, exist_ok=True)
    x, y = sorted(f.free_symbols, key=lambda s: s.name)
    w, b = objective.params
    size, price = objective.data
    optimizers = {"gradient descent": sg.optim.GradientDescent(0.001),
                  "momentum": sg.optim.SGD(0.0005, momentum=0.9),
                  "Adam": sg.optim.Adam(0.05)}
    rosenbrock = sg.functions.rosenbrock()
    runs = {name: sg.minimize(rosenbrock, [-1.2, 1.0], optimizer=opt, steps=400)
            for name, opt in optimizers.items()}
    pictures = [
        ("optimizer-paths.png", lambda p: plot.contour_paths(rosenbrock, optimizers, [-1.2, 1.0],
                                                             steps=400, path=p)),
        ("loss-curves.png", lambda p: plot.loss_curves(runs, path=p)),
        ("fit.png", lambda p: plot.fitted_curve(w * size + b, size, fit_result.params, size_data, price_data,
                                                truth={w: TRUE_W, b: TRUE_B}, target=price, path=p)),
        ("loss-surface.png", lambda p: plot.contour_paths(
            objective, {"Adam (lr 0.1), batches of 16": sg.optim.Adam(0.1)}, [0.0, 0.0],
            data=[size_data, price_data], steps=60, batch_size=16, path=p)),
        ("gradient-check.png", lambda p: plot.check_bars(report, path=p)),
        ("backprop-graph.png", lambda p: plot.expression_graph(f, {x: 1.0, y: 2.0}, path=p)),
    ]
    written = []
    for name, draw in pictures:
        path = os.path.join(out, name)
        draw(path)
        written.append(path)
        print(f"wrote {path}", file=stream)
    return written
