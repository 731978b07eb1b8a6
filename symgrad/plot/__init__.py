"""Pictures: optimizer paths on a contour plot, loss curves, a fitted curve, the gradient
check, the derivative as a limit, and the computation graph with its forward values
and backward adjoints.

matplotlib is optional: it is imported when a picture is drawn, and its absence is an
``ImportError`` that says how to install it. Figures are made with the Agg canvas
(no window, no global pyplot state); each function returns the figure and, given
``path``, also saves it there. In a notebook the returned figure shows itself as an
image (PNG by default, SVG after ``display_format("svg")``), with no
``%matplotlib inline`` needed.
"""

from symgrad.plot._contour import contour_paths, loss_surface, optimizer_path
from symgrad.plot._curves import check_bars, fitted_curve, loss_curves
from symgrad.plot._figure import display_format, finish as _finish, new_figure as _figure
from symgrad.plot._graph import MAX_GRAPH_NODES, expression_graph
from symgrad.plot._limit import derivative_as_limit

__all__ = ["MAX_GRAPH_NODES", "check_bars", "contour_paths", "derivative_as_limit", "display_format", "expression_graph",
           "fitted_curve", "loss_curves", "loss_surface", "optimizer_path"]
