"""The :class:`Result` of a run of ``minimize``, ``fit`` or a second-order method."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Result"]


@dataclass(frozen=True)
class Result:
    """The outcome of an optimization run.

    Attributes:
        x: the final parameters, ``ndarray (n,)`` (a fresh array).
        params: ``dict`` symbol -> float, the same values by name.
        loss: the final loss (on the whole data for ``fit``).
        history: one loss per step (``minimize``) or per epoch (``fit``),
            preceded by the starting loss.
        converged: the gradient's largest absolute entry fell below ``tol``
            (or the gradient was exactly zero).
        message: why the run stopped.
        steps: updates taken.
        report: a :class:`FitReport` for least-squares fits, else ``None``.

    Example:
        >>> import numpy as np, sympy as sp
        >>> r = Result(np.array([1.0]), {sp.Symbol("a"): 1.0}, 0.5, np.array([2.0, 0.5]),
        ...            False, "reached the step limit", 1)
        >>> print(r)
        Result: reached the step limit
          loss      = 0.5 after 1 steps (converged: False)
          a         = 1
    """

    x: np.ndarray
    params: dict
    loss: float
    history: np.ndarray
    converged: bool
    message: str
    steps: int
    report: Any = field(default=None, compare=False)

    def __str__(self) -> str:
        lines = [
            f"Result: {self.message}",
            f"  loss      = {self.loss:.10g} after {self.steps} steps (converged: {self.converged})",
        ]
        for name, value in self.params.items():
            lines.append(f"  {str(name):<9s} = {value:.10g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return (
            f"Result(loss={self.loss:.6g}, steps={self.steps}, converged={self.converged}, "
            f"message={self.message!r}, params={{{params}}})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{v:.10g}</td></tr>" for k, v in self.params.items()
        )
        return (
            f"<p><b>Result</b>: {html.escape(self.message)}<br>"
            f"loss = {self.loss:.10g} after {self.steps} steps, converged: {self.converged}</p>"
            f"<table><tr><th>parameter</th><th>value</th></tr>{rows}</table>"
        )


def make_result(x, symbols, loss, history, converged, message, steps, report=None) -> Result:
    """Build a :class:`Result`, naming parameters by ``symbols`` (or ``x0, x1, ...``)."""
    x = np.array(x, dtype=np.float64, copy=True)
    if symbols is None:
        import sympy as sp

        symbols = sp.symbols(f"x0:{x.shape[0]}") if x.shape[0] else ()
    params = {s: float(v) for s, v in zip(symbols, x)}
    return Result(x, params, float(loss), np.asarray(history, dtype=np.float64), bool(converged),
                  str(message), int(steps), report)
