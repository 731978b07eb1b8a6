"""``likelihood_report``: standard errors of a maximum-likelihood fit from the exact Hessian.

An ``Objective`` over ``N`` samples averages its per-sample expression ``f``; when
``f`` is a negative log-likelihood, the summed one is ``-log L(θ) = N mean f``, and at
the minimiser ``θ̂`` the observed information is its Hessian ``H = N ∇² mean f`` (exact,
from the compiled second derivatives). Then ``covariance = H^-1``,
``stderr = sqrt(diag(covariance))``, ``z = θ̂ / stderr``, the two-sided normal
``p = erfc(|z| / sqrt 2)`` for the hypothesis ``θ = 0``, ``loglik = -N mean f(θ̂)``,
``aic = 2k - 2 loglik`` and ``bic = k ln N - 2 loglik`` for ``k`` parameters.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from symgrad.errors import InputError
from symgrad.optimize._fit_stats import correlation
from symgrad.optimize._quantiles import two_sided_normal_p

__all__ = ["LikelihoodReport", "likelihood_report"]

#: ``x`` is reported as not a minimiser when a Newton step from it would raise the
#: log-likelihood by more than this (half the Newton decrement ``g^T H^-1 g``).
NEWTON_DECREMENT = 1e-6


@dataclass(frozen=True, eq=False)
class LikelihoodReport:
    """Inference at a maximum-likelihood estimate; see :func:`likelihood_report`.

    Attributes:
        params: dict symbol -> estimate; x: the same as an ndarray.
        stderr, z, p_values: dicts symbol -> float.
        covariance, correlation: ndarray (k, k).
        loglik, aic, bic: the log-likelihood at ``x`` and the information criteria.
        n_samples: ``N``; warnings: list of str.
    """

    params: dict
    x: np.ndarray
    stderr: dict
    z: dict
    p_values: dict
    covariance: np.ndarray
    correlation: np.ndarray
    loglik: float
    aic: float
    bic: float
    n_samples: int
    warnings: list

    def _rows(self):
        for s, v in self.params.items():
            yield str(s), f"{v:.8g}", f"{self.stderr[s]:.6g}", f"{self.z[s]:.4g}", f"{self.p_values[s]:.4g}"

    def __str__(self) -> str:
        lines = [f"maximum likelihood: N = {self.n_samples}, parameters = {len(self.params)}",
                 f"  loglik = {self.loglik:.10g}, aic = {self.aic:.10g}, bic = {self.bic:.10g}"]
        rows = list(self._rows())
        width = max(9, *(len(r[0]) for r in rows))
        lines.append(f"  {'parameter':<{width}s} {'estimate':>14s} {'std error':>12s} {'z':>9s} {'P>|z|':>10s}")
        lines += [f"  {a:<{width}s} {b:>14s} {c:>12s} {d:>9s} {e:>10s}" for a, b, c, d, e in rows]
        if self.warnings:
            lines.append("  warnings:")
            lines += [f"    - {w}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in self._rows())
        return (f"<p>maximum likelihood: N = {self.n_samples}; loglik = {self.loglik:.10g}, "
                f"aic = {self.aic:.10g}, bic = {self.bic:.10g}</p><table><tr><th>parameter</th>"
                f"<th>estimate</th><th>std error</th><th>z</th><th>P&gt;|z|</th></tr>{rows}</table>"
                + "".join(f"<p>{esc(w)}</p>" for w in self.warnings))


def likelihood_report(objective, columns, x) -> LikelihoodReport:
    """Standard errors, z values and p-values of the minimiser ``x`` of a negative log-likelihood.

    Args:
        objective: an ``sg.Objective`` whose per-sample ``expr`` is a negative
            log-likelihood (its ``value`` is the mean over the samples).
        columns: its data columns, one per data symbol (a sequence).
        x: the minimiser, one value per parameter.

    Returns:
        LikelihoodReport, with ``covariance`` the inverse of the exact Hessian of the
        summed negative log-likelihood.

    Raises:
        InputError: ``x`` of the wrong length; data as ``Objective.prepare`` refuses them.

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> mu, v = sp.symbols("mu v")
        >>> nll = sg.Objective((v - mu) ** 2 / 2 + sp.log(2 * sp.pi) / 2, [mu], data=[v])
        >>> data = np.array([1.0, 2.0, 3.0, 6.0])
        >>> rep = sg.likelihood_report(nll, [data], [data.mean()])
        >>> round(rep.stderr[mu], 12)  # sigma / sqrt(N) with sigma = 1
        0.5
    """
    if isinstance(columns, np.ndarray) and columns.ndim == 1:
        columns = [columns]
    columns = list(columns)
    params = tuple(objective.params)
    try:
        theta = np.asarray(x, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"x must be numbers, one per parameter ({', '.join(map(str, params))})") from None
    if theta.shape != (len(params),):
        raise InputError(f"x has {theta.size} values but the objective has {len(params)} parameters "
                         f"({', '.join(map(str, params))})")
    data = objective.prepare(*columns, rows=False)
    n = data.n if objective.data else 1
    mean, grad = objective.value_and_grad(theta, *data.columns)
    hess = n * np.asarray(objective.hessian(theta, *data.columns), dtype=np.float64)
    warnings = []
    k = len(params)
    cov, stderr = _inverse(hess, params, warnings)
    total_grad = n * np.asarray(grad, dtype=np.float64)
    finite = np.isfinite(np.diag(cov))
    decrement = float(total_grad[finite] @ cov[np.ix_(finite, finite)] @ total_grad[finite]) / 2
    if decrement > NEWTON_DECREMENT:
        warnings.append(f"x is not a minimiser: a Newton step would raise the log-likelihood by about "
                        f"{decrement:.3g}; minimise first, then report")
    loglik = -n * float(mean)
    z = {s: (float(v) / e if e > 0 and math.isfinite(e) else math.nan) for s, v, e in zip(params, theta, stderr)}
    p = {s: (two_sided_normal_p(zv) if math.isfinite(zv) else math.nan) for s, zv in z.items()}
    return LikelihoodReport(
        params=dict(zip(params, theta.tolist())), x=theta, stderr=dict(zip(params, stderr.tolist())), z=z,
        p_values=p, covariance=cov, correlation=correlation(cov), loglik=loglik, aic=2 * k - 2 * loglik,
        bic=k * math.log(n) - 2 * loglik, n_samples=n, warnings=warnings,
    )


def _inverse(hess, params, warnings):
    """``H^-1`` by Cholesky of ``H`` scaled to a unit diagonal (so that units do not matter);
    a Hessian that is not positive definite gets ``inf``/NaN for the undetermined
    parameters, and a warning."""
    k = len(params)
    diag = np.abs(np.diag(hess))
    unit = np.where(diag > 0, np.sqrt(diag), 1.0)
    scaled = hess / np.outer(unit, unit)
    try:
        chol = np.linalg.cholesky(scaled)
    except np.linalg.LinAlgError:
        chol = None
    tiny = math.sqrt(np.finfo(np.float64).eps * k)
    if chol is not None and np.all(np.diag(chol) > tiny):
        inv = np.linalg.solve(chol, np.eye(k))
        cov = (inv.T @ inv) / np.outer(unit, unit)
        return cov, np.sqrt(np.diag(cov))
    values, vectors = np.linalg.eigh(scaled)
    bad = values <= np.finfo(np.float64).eps * k * max(abs(values).max(), 1e-300)
    flat = np.abs(vectors[:, bad]).max(axis=1) > 1e-8 if bad.any() else np.zeros(k, dtype=bool)
    names = ", ".join(str(params[i]) for i in np.flatnonzero(flat))
    warnings.append(f"the Hessian is not positive definite (is x a minimiser?); the data cannot determine "
                    f"{names or 'some direction'}: standard error inf")
    good = ~bad
    cov = ((vectors[:, good] / values[good]) @ vectors[:, good].T) / np.outer(unit, unit)
    cov[flat, :] = np.nan
    cov[:, flat] = np.nan
    cov[np.flatnonzero(flat), np.flatnonzero(flat)] = np.inf
    return cov, np.sqrt(np.abs(np.diag(cov)))
