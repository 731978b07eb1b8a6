"""``FitResult``: what ``curve_fit`` found, the report, and a lossless JSON round trip."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgrad.errors import InputError

__all__ = ["FitResult"]

#: Correlations at least this large (in absolute value) are listed in the report.
REPORT_CORRELATION = 0.1

_FORMAT = "symgrad.FitResult"
_VERSION = 1


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
        stored as text and the data as numbers, so ``predict`` and ``conf_interval`` work
        on the result read back.
        """
        spec = self.spec
        doc = {
            "format": _FORMAT, "version": _VERSION,
            "fitted": [s.name for s in self.fitted],
            "fixed": {s.name: _enc(v) for s, v in self.fixed.items()},
            "x": _enc(self.x), "stderr": [_enc(self.stderr[s]) for s in self.fitted],
            "covariance": _enc(self.covariance), "correlation": _enc(self.correlation),
            "generalized_covariance": _enc(self.generalized_covariance),
            "residuals": _enc(self.residuals),
            "active_mask": [int(a) for a in self.active_mask],
            "warnings": list(self.warnings), "options": {k: _enc(v) for k, v in self.options.items()},
        }
        for key in ("chisqr", "redchi", "aic", "bic", "r_squared"):
            doc[key] = _enc(getattr(self, key))
        for key in ("dof", "nfev", "njev", "status", "n_samples"):
            doc[key] = int(getattr(self, key))
        doc.update(success=bool(self.success), message=self.message, absolute_sigma=bool(self.absolute_sigma))
        if spec is not None:
            doc["spec"] = {
                "is_global": bool(spec.is_global), "p0": _enc(spec.p0),
                "lower": _enc(spec.lower), "upper": _enc(spec.upper),
                "datasets": [{"model": str(ds.model),
                              "data": {s.name: _enc(c) for s, c in zip(ds.data_symbols, ds.columns)},
                              "y": _enc(ds.y), "sigma": None if ds.sigma is None else _enc(ds.sigma)}
                             for ds in spec.datasets],
            }
        return json.dumps(doc, indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> FitResult:
        """Read a result written by :meth:`to_json` (models re-read with ``sg.parse``)."""
        try:
            doc = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InputError(f"FitResult.from_json: not JSON text ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise InputError("FitResult.from_json: the text is not a symgrad FitResult (no 'format' marker)")
        if doc.get("version") != _VERSION:
            raise InputError(f"FitResult.from_json: version {doc.get('version')!r} is not supported "
                             f"(this symgrad reads version {_VERSION})")
        spec = _read_spec(doc)
        symbols = _symbol_table(spec)
        fitted = tuple(symbols.get(n, sp.Symbol(n)) for n in doc["fitted"])
        fixed = {symbols.get(n, sp.Symbol(n)): _dec(v) for n, v in doc["fixed"].items()}
        x = np.array(_dec(doc["x"]), dtype=np.float64).reshape(-1)
        n = len(fitted)
        return cls(
            params={**dict(zip(fitted, x.tolist())), **fixed}, x=x,
            stderr=dict(zip(fitted, (float(v) for v in _dec(doc["stderr"])))),
            covariance=_matrix(doc["covariance"], n), correlation=_matrix(doc["correlation"], n),
            residuals=np.array(_dec(doc["residuals"]), dtype=np.float64),
            chisqr=_dec(doc["chisqr"]), redchi=_dec(doc["redchi"]), dof=doc["dof"], aic=_dec(doc["aic"]),
            bic=_dec(doc["bic"]), r_squared=_dec(doc["r_squared"]), success=doc["success"],
            message=doc["message"], nfev=doc["nfev"], njev=doc["njev"], warnings=list(doc["warnings"]),
            fitted=fitted, fixed=fixed, absolute_sigma=doc["absolute_sigma"], n_samples=doc["n_samples"],
            status=doc["status"], active_mask=np.array(doc["active_mask"], dtype=np.int64),
            generalized_covariance=_matrix(doc["generalized_covariance"], n),
            options={k: _dec(v) for k, v in doc["options"].items()}, spec=spec,
        )


def _enc(value):
    """JSON-ready numbers: floats as themselves (``repr`` by ``json``), non-finite as strings."""
    if isinstance(value, np.ndarray):
        return [_enc(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    if isinstance(value, float) or isinstance(value, np.floating):
        value = float(value)
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _dec(value):
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return value


def _matrix(value, n: int) -> np.ndarray:
    return np.array(_dec(value), dtype=np.float64).reshape(n, n)


def _read_spec(doc):
    if "spec" not in doc:
        return None
    from symgrad.optimize._fit_inputs import Dataset, FitSpec
    from symgrad.parse import parse

    raw = doc["spec"]
    datasets = []
    for item in raw["datasets"]:
        model = parse(item["model"])
        by_name = {s.name: s for s in model.free_symbols}
        names = list(item["data"])
        symbols = tuple(by_name.get(n, sp.Symbol(n)) for n in names)
        columns = tuple(np.array(_dec(item["data"][n]), dtype=np.float64) for n in names)
        sigma = None if item["sigma"] is None else np.array(_dec(item["sigma"]), dtype=np.float64)
        datasets.append(Dataset(model, symbols, columns, np.array(_dec(item["y"]), dtype=np.float64), sigma))
    table = _symbol_table_of(datasets)
    params = tuple(table.get(n, sp.Symbol(n)) for n in doc["fitted"])
    fixed = {table.get(n, sp.Symbol(n)): _dec(v) for n, v in doc["fixed"].items()}
    return FitSpec(tuple(datasets), params, np.array(_dec(raw["p0"]), dtype=np.float64),
                   np.array(_dec(raw["lower"]), dtype=np.float64), np.array(_dec(raw["upper"]), dtype=np.float64),
                   fixed, bool(raw["is_global"]))


def _symbol_table_of(datasets) -> dict:
    return {s.name: s for ds in datasets for s in ds.model.free_symbols}


def _symbol_table(spec) -> dict:
    return {} if spec is None else _symbol_table_of(spec.datasets)
