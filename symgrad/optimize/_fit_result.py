"""``FitResult``: what ``curve_fit`` found, the report, and a lossless JSON round trip (``_fit_json``)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np

from symgrad.errors import InputError

__all__ = ["FitResult"]

#: Correlations at least this large (in absolute value) are listed in the report.
REPORT_CORRELATION = 0.1


@dataclass(eq=False)
class FitResult:
    """The outcome of :func:`symgrad.curve_fit`: values, uncertainties, statistics, inference.

    Attributes:
        params: dict symbol -> value, fitted and fixed.
        x: ndarray of the fitted values, in ``fitted`` order.
        stderr: dict symbol -> standard error of each fitted parameter (``inf`` when
            the data cannot determine it).
        covariance, correlation: ndarray (n, n) over the fitted parameters; an
            undetermined parameter has ``inf`` variance and NaN covariances.
        residuals: ndarray of the weighted residuals ``(yhat - y) / sigma`` at the solution.
        chisqr, redchi, dof, aic, bic, r_squared: as lmfit defines them.
        success, message, nfev, njev, status: the solver's outcome (``status``: MINPACK's info code).
        warnings: list of str (an undetermined parameter, a bound reached, no convergence).
        fitted: the fitted symbols, in order; fixed: dict symbol -> held value.
        absolute_sigma: whether the covariance was left unscaled.
        n_samples: ``N``, the number of residuals.
        active_mask: -1 / +1 for a parameter at its lower / upper bound, 0 if free.
    """

    params: dict
    x: np.ndarray
    stderr: dict
    covariance: np.ndarray
    correlation: np.ndarray
    residuals: np.ndarray
    chisqr: float
    redchi: float
    dof: int
    aic: float
    bic: float
    r_squared: float
    success: bool
    message: str
    nfev: int
    njev: int
    warnings: list
    fitted: tuple
    fixed: dict
    absolute_sigma: bool
    n_samples: int
    status: int
    active_mask: np.ndarray
    generalized_covariance: np.ndarray = field(repr=False)
    options: dict = field(repr=False)
    problem: object = field(repr=False, default=None)
    spec: object = field(repr=False, default=None)

    def __post_init__(self):
        if self.spec is None and self.problem is not None:
            self.spec = self.problem.spec

    # -- inference ----------------------------------------------------------------
    def _compiled(self):
        if self.problem is None:
            from symgrad.optimize._curve_fit import CompiledFit

            self.problem = CompiledFit(self.spec)
        return self.problem

    def predict(self, data, band=None, level: float = 0.95, *, sigma=None, dataset: int = 0):
        """The model at new ``data`` (same forms as ``curve_fit``), optionally with a band.

        ``band="confidence"``: the uncertainty of the fitted curve, ``var = g^T C g`` with
        ``g = d yhat / d p`` (exact) and ``C`` the covariance (the delta method);
        ``band="prediction"``: that of a new observation, ``var + s^2 sigma_new^2``.
        The half-width is ``t_{(1+level)/2, dof} sqrt(var)``, or the normal quantile
        with ``absolute_sigma``. ``dataset`` picks the model of a global fit.

        Returns:
            ndarray ``yhat``, or ``(yhat, lower, upper)`` with a band.
        """
        from symgrad.optimize._fit_inference import predict

        return predict(self, data, band, level, sigma, dataset)

    def conf_interval(self, level: float = 0.95, method: str = "profile") -> dict:
        """dict symbol -> ``(lower, upper)``, the confidence interval of each fitted parameter.

        ``method="wald"``: ``value -/+ t stderr``. ``method="profile"``: the values where
        the profile ``chisqr`` (refitted with the parameter held) reaches
        ``chisqr_min (1 + t^2 / dof)``, the F-test threshold of lmfit's ``conf_interval``
        with one parameter held (``chisqr_min + z^2`` with ``absolute_sigma``); a bound
        reached first is the end of the interval, and ``inf`` if none is met.
        """
        from symgrad.optimize._fit_inference import profile_intervals, wald_intervals

        if method == "wald":
            return wald_intervals(self, level)
        if method == "profile":
            return profile_intervals(self, level)
        raise InputError(f"method must be 'profile' or 'wald', got {method!r}")

    def plot(self, path=None, *, dataset=None):
        """Data with error bars, the fitted curve, and the residuals below (matplotlib).

        Returns the ``Figure``; saves it at ``path`` if given.
        """
        from symgrad.optimize._fit_plot import plot_fit

        return plot_fit(self, path, dataset)

    # -- report ---------------------------------------------------------------------
    def _rows(self):
        for s in self.fitted:
            v, e = self.params[s], self.stderr[s]
            rel = f"{abs(e / v) * 100:.3g}%" if v != 0 and math.isfinite(e) else ""
            yield str(s), f"{v:.10g}", f"{e:.6g}", rel
        for s, v in self.fixed.items():
            yield str(s), f"{v:.10g}", "(fixed)", ""

    def _correlations(self):
        n = len(self.fitted)
        for i in range(n):
            for k in range(i + 1, n):
                c = self.correlation[i, k]
                if math.isfinite(c) and abs(c) >= REPORT_CORRELATION:
                    yield f"{self.fitted[i]}, {self.fitted[k]}", f"{c:+.4f}"

    def _headline(self) -> str:
        state = "converged" if self.success else "NOT SUCCESSFUL"
        return f"least-squares fit ({state}): {self.message}"

    def _statistics(self) -> list[str]:
        return [f"N = {self.n_samples}, parameters = {len(self.fitted)}, dof = {self.dof}, "
                f"nfev = {self.nfev}, njev = {self.njev}",
                f"chisqr = {self.chisqr:.8g}, redchi = {self.redchi:.8g}, r_squared = {self.r_squared:.8g}",
                f"aic = {self.aic:.8g}, bic = {self.bic:.8g}"
                + (", sigma absolute" if self.absolute_sigma else "")]

    def __str__(self) -> str:
        lines = [self._headline()]
        if self.spec is not None:
            for k, ds in enumerate(self.spec.datasets):
                label = f"model[{k}]" if self.spec.is_global else "model"
                lines.append(f"  {label}: {ds.model}")
        lines += [f"  {line}" for line in self._statistics()]
        rows = list(self._rows())
        width = max(9, *(len(r[0]) for r in rows))
        lines.append(f"  {'parameter':<{width}s} {'value':>18s} {'std error':>14s} {'rel.':>8s}")
        lines += [f"  {a:<{width}s} {b:>18s} {c:>14s} {d:>8s}" for a, b, c, d in rows]
        corr = list(self._correlations())
        if corr:
            lines.append(f"  correlations (|r| >= {REPORT_CORRELATION}):")
            lines += [f"    {pair:<{2 * width + 2}s} {c}" for pair, c in corr]
        if self.warnings:
            lines.append("  warnings:")
            lines += [f"    - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        values = ", ".join(f"{s}={v:.6g}" for s, v in self.params.items())
        return f"FitResult(success={self.success}, chisqr={self.chisqr:.6g}, params={{{values}}})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td><td>{esc(d)}</td></tr>"
                       for a, b, c, d in self._rows())
        corr = "".join(f"<tr><td>{esc(p)}</td><td>{c}</td></tr>" for p, c in self._correlations())
        stats = "<br>".join(esc(s) for s in self._statistics())
        parts = [f"<p><b>{esc(self._headline())}</b><br>{stats}</p>",
                 "<table><tr><th>parameter</th><th>value</th><th>std error</th><th>rel.</th></tr>"
                 f"{rows}</table>"]
        if corr:
            parts.append(f"<table><tr><th>correlation</th><th>r</th></tr>{corr}</table>")
        if self.warnings:
            parts.append("<ul>" + "".join(f"<li>{esc(w)}</li>" for w in self.warnings) + "</ul>")
        return "".join(parts)

    # -- JSON -----------------------------------------------------------------------
    def to_json(self, indent=None) -> str:
        """This result as JSON text (floats as ``repr``; ``inf``/``nan`` as the strings
        ``"inf"``, ``"-inf"``, ``"nan"``), read back by :meth:`from_json`. The models are
        stored as expression trees (symbols with their assumptions, exact integers and
        rationals, floats as ``repr``) and the data as numbers, so ``predict`` and
        ``conf_interval`` work on the result read back and give the same numbers.
        """
        from symgrad.optimize._fit_json import write_json

        return write_json(self, indent)

    @classmethod
    def from_json(cls, text: str) -> FitResult:
        """Read a result written by :meth:`to_json` (models rebuilt node by node, nothing executed;
        the text models of version 1 files are re-read with ``sg.parse``)."""
        from symgrad.optimize._fit_json import read_json

        return read_json(cls, text)
