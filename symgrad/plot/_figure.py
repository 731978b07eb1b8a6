"""The figure every picture is drawn on: Agg canvas, no pyplot, shown by Jupyter as it is.

matplotlib is imported here, when a picture is drawn, never by ``import symgrad``.
A ``Picture`` is a matplotlib ``Figure`` with ``_repr_png_`` (and, when asked for,
``_repr_svg_``), so a notebook shows the picture itself as a cell's value, without
``%matplotlib inline`` or any other setup.
"""

from __future__ import annotations

import functools
import io
from symgrad.errors import OptionError

__all__ = ["display_format", "new_figure", "finish"]

#: The image format a notebook receives: "png" (default) or "svg".
_FORMAT = {"value": "png"}

#: Resolution of saved files and of the PNG a notebook shows.
DPI = 110


def display_format(fmt: str | None = None) -> str:
    """Get, or set, the image format pictures take in a notebook: ``"png"`` or ``"svg"``.

    Args:
        fmt: the new format, or ``None`` to only read the current one.

    Returns:
        str: the format now in use.

    Raises:
        ValueError: ``fmt`` is neither ``"png"`` nor ``"svg"``.

    Example:
        >>> display_format()
        'png'
    """
    if fmt is not None:
        if fmt not in ("png", "svg"):
            raise OptionError(f"display_format takes 'png' or 'svg', got {fmt!r}")
        _FORMAT["value"] = fmt
    return _FORMAT["value"]


@functools.cache
def _picture_class():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "symgrad.plot draws with matplotlib, which is not installed; "
            "install it with `pip install matplotlib` (or symgrad[plot])"
        ) from exc

    class Picture(Figure):
        """A ``Figure`` that a notebook displays as an image (PNG, or SVG on request)."""

        def _image(self, fmt: str) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format=fmt, dpi=DPI)
            return buffer.getvalue()

        def _repr_png_(self):
            return self._image("png") if _FORMAT["value"] == "png" else None

        def _repr_svg_(self):
            return self._image("svg").decode("utf-8") if _FORMAT["value"] == "svg" else None

    return Picture, FigureCanvasAgg


def new_figure(width: float = 6.4, height: float = 4.8):
    """A ``Picture`` of ``width`` x ``height`` inches on its own Agg canvas (no window)."""
    picture, canvas = _picture_class()
    fig = picture(figsize=(width, height), layout="constrained")
    canvas(fig)
    return fig


def finish(fig, path):
    """Save ``fig`` to ``path`` when one is given; return ``fig``."""
    if path is not None:
        fig.savefig(path, dpi=DPI)
    return fig
