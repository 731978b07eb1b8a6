"""``FitResult.plot``: the data, the fitted curve, and the residuals in a panel below.

A model of one data symbol is drawn against it, as a smooth curve on 400 points
between the smallest and largest value; a model of several is drawn against the
sample index. matplotlib is optional and imported here only (``symgrad.plot``).
"""

from __future__ import annotations

import numpy as np
from symgrad.errors import OptionError

__all__ = ["plot_fit"]

CURVE_POINTS = 400


def plot_fit(result, path=None, dataset=None):
    from symgrad.plot import _figure, _finish

    spec = result.spec
    if spec is None:
        raise OptionError("this FitResult holds no data (it was read from JSON without them); nothing to plot")
    chosen = range(len(spec.datasets)) if dataset is None else [dataset]
    fig = _figure(6.4, 5.6)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    offsets = np.cumsum([0] + [ds.n for ds in spec.datasets])
    weighted = any(ds.sigma is not None for ds in spec.datasets)
    labels = set()
    for k in chosen:
        ds = spec.datasets[k]
        tag = f" [{k}]" if spec.is_global else ""
        if len(ds.data_symbols) == 1:
            x = ds.columns[0]
            labels.add(ds.data_symbols[0].name)
            grid = np.linspace(x.min(), x.max(), CURVE_POINTS)
            curve_x, curve_y = grid, result.predict({ds.data_symbols[0]: grid}, dataset=k)
        else:
            x = np.arange(ds.n, dtype=np.float64)
            labels.add("sample")
            order = np.argsort(x)
            curve_x = x[order]
            data = dict(zip(ds.data_symbols, ds.columns)) if ds.data_symbols else None
            curve_y = np.broadcast_to(result.predict(data, dataset=k), (ds.n,))[order]
        if ds.sigma is not None:
            points = top.errorbar(x, ds.y, yerr=ds.sigma, fmt="o", ms=3, lw=0.8, label=f"data{tag}")
        else:
            points = top.plot(x, ds.y, "o", ms=3, label=f"data{tag}")[0]
        color = (points[0] if isinstance(points, tuple) else points).get_color()
        top.plot(curve_x, curve_y, "-", color=color, lw=1.5, alpha=0.8, label=f"fit{tag}")
        bottom.plot(x, result.residuals[offsets[k]:offsets[k + 1]], "o", ms=3, color=color)
    bottom.axhline(0.0, color="0.4", lw=0.8)
    models = "; ".join(str(spec.datasets[k].model) for k in chosen)
    top.set_title(models if len(models) < 80 else models[:77] + "...", fontsize=9)
    top.set_ylabel("y")
    top.legend(fontsize=8)
    bottom.set_xlabel(", ".join(sorted(labels)))
    bottom.set_ylabel("(yhat - y) / sigma" if weighted else "yhat - y", fontsize=8)
    return _finish(fig, path)
