"""``curve_fit``: least squares of a SymPy model to data, with the exact Jacobian and inference.

For data sets ``k`` with models ``yhat_k(p; x)``, observations ``y_k`` and
uncertainties ``sigma_k`` (1 if not given), the weighted residuals are
``r = (yhat_k(p; x_kj) - y_kj) / sigma_kj`` stacked over every sample of every set,
and ``p`` minimises ``chisqr = sum r^2`` by MINPACK's Levenberg-Marquardt
(``lm_solve``) with the Jacobian ``J = dr/dp`` derived symbolically. In a global fit
a parameter symbol used by several models is one parameter, so ``J`` has a block
structure: the rows of set ``k`` are zero in the columns of the parameters its
model does not use.
"""

from __future__ import annotations

import numpy as np

from symgrad._chunked_fit import has_chunked
from symgrad._expr import free_symbols
from symgrad._ls_kernels import guard_least_squares
from symgrad.errors import InputError
from symgrad.optimize._fit_inputs import columns_for, fit_spec
from symgrad.optimize._fit_result import FitResult
from symgrad.optimize._fit_stats import correlation, covariance, covariance_of_factor, statistics
from symgrad.optimize._fit_factored import FactoredFit
from symgrad.optimize._least_squares import FACTOR_FROM, LeastSquares
from symgrad.optimize._lm_checks import check_max_nfev

__all__ = ["CompiledFit", "curve_fit", "result_of"]


def _values_and_jacobian(compiled, args, columns):
    """The model's values and Jacobian at ``args``, in one pass where ``LeastSquares`` offers it."""
    if hasattr(compiled, "residuals_and_jacobian"):
        return compiled.residuals_and_jacobian(args, columns)
    return compiled.residuals(args, columns), compiled.jacobian(args, columns)


class CompiledFit:
    """The models of a :class:`FitSpec`, compiled once with their exact Jacobians.

    Each model is compiled over all of its parameter symbols, fitted and fixed alike,
    so that a refit with another set of fixed parameters (a profile likelihood)
    feeds constants and drops Jacobian columns instead of compiling again.
    """

    def __init__(self, spec):
        self.spec = spec
        self.symbols = tuple(spec.params) + tuple(spec.fixed)
        self.parts = []
        for k, ds in enumerate(spec.datasets):
            used = free_symbols(ds.model)
            own = tuple(s for s in self.symbols if s in used)
            if not own:
                where = f"model[{k}]" if spec.is_global else "the model"
                raise InputError(f"{where} ({ds.model}) has no parameter to fit")
            compiled = LeastSquares(ds.model, own, ds.data_symbols)
            index = np.array([self.symbols.index(s) for s in own], dtype=np.int64)
            weight = None if ds.sigma is None else 1.0 / ds.sigma
            self.parts.append((compiled, compiled.prepare(ds.columns), index, weight))
        self.y = np.concatenate([ds.y for ds in spec.datasets])
        self.sigma = np.concatenate([np.ones(ds.n) if ds.sigma is None else ds.sigma for ds in spec.datasets])
        self.n_samples = len(self.y)
        self.theta0 = np.concatenate([spec.p0, np.array(list(spec.fixed.values()), dtype=np.float64)])
        self.last_factored = None

    def model_values(self, k: int, theta: np.ndarray, columns, n: int):
        """``(yhat, G)`` of model ``k`` at ``n`` samples: ``G[j, i] = d yhat_j / d theta_i`` (all symbols)."""
        compiled, _, index, _ = self.parts[k]
        args = theta[index]
        with np.errstate(all="ignore"):
            values, jac = _values_and_jacobian(compiled, args, columns)
            yhat = np.broadcast_to(values, (n,))
            jac = np.broadcast_to(jac, (n, len(index)))
        grad = np.zeros((n, len(self.symbols)))
        grad[:, index] = jac
        return np.array(yhat, dtype=np.float64), grad

    def evaluate(self, theta: np.ndarray, free: np.ndarray):
        """Weighted residuals ``r`` (N,) and their Jacobian over the ``free`` symbols (N, len(free))."""
        position = np.full(len(self.symbols), -1, dtype=np.int64)
        position[free] = np.arange(len(free))
        r = np.empty(self.n_samples)
        jac = np.zeros((self.n_samples, len(free)))
        start = 0
        for ds, (compiled, columns, index, weight) in zip(self.spec.datasets, self.parts):
            stop = start + ds.n
            args = theta[index]
            with np.errstate(all="ignore"):
                values, partials = _values_and_jacobian(compiled, args, columns)
                yhat = np.broadcast_to(values, (ds.n,))
                block = np.broadcast_to(partials, (ds.n, len(index)))
                res = yhat - ds.y
                if weight is not None:
                    res = res * weight
                    block = block * weight[:, None]
            r[start:stop] = res
            keep = position[index] >= 0
            jac[start:stop, position[index[keep]]] = block[:, keep]
            start = stop
        return r, jac

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """The weighted residuals ``r`` (N,) only (the solver's trial points)."""
        r = np.empty(self.n_samples)
        start = 0
        for ds, (compiled, columns, index, weight) in zip(self.spec.datasets, self.parts):
            with np.errstate(all="ignore"):
                res = np.broadcast_to(compiled.residuals(theta[index], columns), (ds.n,)) - ds.y
                r[start:start + ds.n] = res if weight is None else res * weight
            start += ds.n
        return r

    def second_directional(self, theta: np.ndarray, free: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``v^T H_j v`` (N,) of the weighted residuals along ``v`` in the ``free`` symbols (others held)."""
        direction = np.zeros(len(self.symbols))
        direction[free] = v
        out = np.empty(self.n_samples)
        start = 0
        for ds, (compiled, columns, index, weight) in zip(self.spec.datasets, self.parts):
            with np.errstate(all="ignore"):
                curve = np.broadcast_to(compiled.second_directional(theta[index], direction[index], columns), (ds.n,))
                out[start:start + ds.n] = curve if weight is None else curve * weight
            start += ds.n
        return out

    def solve(self, free: np.ndarray, theta: np.ndarray, *, lower, upper, ftol, xtol, gtol, max_nfev):
        """Minimise ``chisqr`` over ``theta[free]``, the other entries held; an ``LMResult``."""
        from symgrad.optimize._lm import lm_solve

        sub = self.subproblem(free, theta)
        if self.factored:
            self.last_factored = sub  # its sums at the solution serve the report
        return lm_solve(sub, np.asarray(theta, dtype=np.float64)[free],
                        lower=lower, upper=upper, ftol=ftol, xtol=xtol, gtol=gtol, max_nfev=max_nfev)

    @property
    def factored(self) -> bool:
        """Whether the solver reads sums over the data instead of ``J`` (from ``FACTOR_FROM`` samples)."""
        return self.n_samples >= FACTOR_FROM

    def subproblem(self, free: np.ndarray, theta: np.ndarray):
        """What ``lm_solve`` reads: ``theta[free] = x`` -> residuals and Jacobian, or their sums."""
        return (FactoredFit if self.factored else _Subproblem)(self, free, theta)

    def columns(self, data, k: int = 0):
        """Checked columns of new ``data`` for model ``k`` (as ``curve_fit`` reads them)."""
        ds = self.spec.datasets[k]
        compiled = self.parts[k][0]
        cols = columns_for(data, ds.data_symbols, "data")
        return compiled.prepare(cols) if cols else ()


class _Subproblem:
    """``theta[free] = x`` -> residuals and Jacobian, the other entries of ``theta`` held.

    Trial points get the Jacobian too, so a fit compiles one kernel per model (its
    start-up cost) and an accepted trial needs no second pass over the data.
    """

    def __init__(self, problem: CompiledFit, free: np.ndarray, theta: np.ndarray):
        self.problem, self.free = problem, free
        self.base = np.array(theta, dtype=np.float64, copy=True)

    def _theta(self, x):
        theta = self.base.copy()
        theta[self.free] = x
        return theta

    def __call__(self, x):
        return self.problem.evaluate(self._theta(x), self.free)

    def second_directional(self, x, v):
        return self.problem.second_directional(self._theta(x), self.free, v)


def curve_fit(model, data, y, *, params=None, p0=None, sigma=None, absolute_sigma=False, bounds=None,
              fixed=None, ftol=1e-8, xtol=1e-8, gtol=1e-8, max_nfev=None, check=True) -> FitResult:
    """Fit the parameters of ``model`` to data by least squares, with standard errors and statistics.

    Minimises ``chisqr = sum_j ((yhat(p; x_j) - y_j) / sigma_j)^2`` (``sigma = 1`` if not
    given) by Levenberg-Marquardt with the exact Jacobian, stopping as MINPACK's
    ``lmder`` does. The covariance is ``s^2 (J^T J)^-1`` with ``s^2 = chisqr / (N - n)``
    (``N`` residuals, ``n`` fitted parameters), or ``(J^T J)^-1`` with
    ``absolute_sigma=True``: the convention of ``scipy.optimize.curve_fit``. A
    parameter the data cannot determine gets an infinite standard error and a warning.

    Args:
        model: scalar SymPy expression ``yhat(p; x)``, or a list of them for a global fit.
        data: the independent variables: dict ``{symbol or name: 1-D array}``, a pandas
            ``DataFrame`` (columns matched to symbols by name, others ignored), a single
            1-D array when the model has one non-parameter symbol, or ``None``; a list
            of these for a global fit.
        y: observations: 1-D array or the name of a column of ``data`` (a list for a global fit).
        params: the symbols (or names) to fit, in order; default: the free symbols of the
            model(s) that are neither data nor fixed, sorted by name.
        p0: starting values: dict ``{symbol|name: value}`` or a sequence in ``params``
            order; default 1.0 (or, with bounds, a point inside them).
        sigma: uncertainties of ``y``: 1-D array, column name, or a positive number.
        absolute_sigma: take ``sigma`` as absolute (do not rescale the covariance).
        bounds: dict ``{symbol|name: (lower, upper)}``, ``None`` for an open side.
        fixed: dict ``{symbol|name: value}`` held constant.
        ftol, xtol, gtol: MINPACK's relative tolerances; max_nfev: the largest number of
            residual evaluations, a positive integer (default ``100 (n + 1)``).
        check: before the first step, compare each model's compiled Jacobian at ``p0``
            with the autograd engine's on a few samples (a guard against code-generation
            bugs, as in ``sg.fit``); ``False`` skips it.

    Returns:
        FitResult: values, errors, covariance, statistics, ``predict``, ``conf_interval``, a report.

    Raises:
        InputError: data or options of the wrong shape or value, naming the symbol, column or row.
        MissingSymbolError: a symbol of the model that is neither parameter, fixed nor data.
        ExpressionTypeError: a string instead of an expression (use ``sg.parse``).
        GradientMismatchError: the compiled Jacobian disagrees with autograd (a symgrad bug).

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> a, b, x = sp.symbols("a b x")
        >>> xs = np.array([0.0, 1.0, 2.0, 3.0])
        >>> res = sg.curve_fit(a * x + b, {x: xs}, 2 * xs + 1 + np.array([0.1, -0.1, -0.1, 0.1]))
        >>> {str(k): round(v, 6) for k, v in res.params.items()}, round(res.stderr[a], 6)  # sqrt(0.04 / 2 / 5)
        ({'a': 2.0, 'b': 1.0}, 0.063246)
    """
    if max_nfev is not None:
        max_nfev = check_max_nfev(max_nfev, 0, "curve_fit")
    if has_chunked(data, y, sigma):  # memory maps, Dask (api.md section 10)
        from symgrad._chunked_fit import chunked_curve_fit

        return chunked_curve_fit(model, data, y, params=params, p0=p0, sigma=sigma, absolute_sigma=absolute_sigma,
                                 bounds=bounds, fixed=fixed, ftol=ftol, xtol=xtol, gtol=gtol, max_nfev=max_nfev)
    spec = fit_spec(model, data, y, params=params, p0=p0, sigma=sigma, bounds=bounds, fixed=fixed)
    problem = CompiledFit(spec)
    if check:
        for compiled, columns, index, _ in problem.parts:
            guard_least_squares(compiled, problem.theta0[index], columns, caller="curve_fit")
    n = len(spec.params)
    free = np.arange(n)
    options = {"ftol": ftol, "xtol": xtol, "gtol": gtol, "max_nfev": max_nfev}
    lm = problem.solve(free, problem.theta0, lower=spec.lower, upper=spec.upper, **options)
    return result_of(problem, lm, bool(absolute_sigma), options)


def _named(text: str, params) -> str:
    """The solver's ``x[i]`` replaced by the parameter's name."""
    for i in reversed(range(len(params))):  # x[10] before x[1]
        text = text.replace(f"x[{i}]", str(params[i]))
    return text


def result_of(problem: CompiledFit, lm, absolute_sigma: bool, options: dict) -> FitResult:
    """The :class:`FitResult` of a solved :class:`CompiledFit`."""
    spec = problem.spec
    params = spec.params
    n, n_samples = len(params), problem.n_samples
    x = np.array(lm.x, dtype=np.float64, copy=True)
    theta = problem.theta0.copy()
    theta[:n] = x
    free = np.arange(n)
    if problem.factored:  # J is not stored: its triangular factor from the sums or the blocked QR
        r = np.empty(n_samples)
        sums = problem.last_factored
        if sums is None or not (np.array_equal(sums.free, free) and np.array_equal(sums.base[n:], theta[n:])):
            sums = FactoredFit(problem, free, theta)
        rfac = sums.report_factor(x, r)[:n, :n]
        factor_of = lambda scale: covariance_of_factor(rfac, n_samples, scale)  # noqa: E731
        column_norms = np.sqrt(np.einsum("ij,ij->j", rfac, rfac))
    else:
        r, jac = problem.evaluate(theta, free)
        factor_of = lambda scale: covariance(jac, scale)  # noqa: E731
        column_norms = np.sqrt(np.einsum("ij,ij->j", jac, jac))
    chisqr = float(r @ r)
    weighted = any(ds.sigma is not None for ds in spec.datasets)
    unweighted = r * problem.sigma if weighted else r  # yhat - y
    stats = statistics(chisqr, n_samples, n, problem.y, sse=float(unweighted @ unweighted))
    dof = stats["dof"]
    warnings = []
    if absolute_sigma:
        scale = 1.0
    elif dof > 0:
        scale = chisqr / dof
    else:
        scale = np.inf
    if not np.isfinite(scale):
        cov = factor_of(1.0)
        matrix = np.full((n, n), np.inf)
        generalized = matrix.copy()
        warnings.append(f"{n_samples} residuals for {n} parameters leave no degrees of freedom: the residual "
                        "variance and the standard errors are not defined (inf); give more data or "
                        "absolute_sigma=True with known sigma")
    else:
        cov = factor_of(scale)
        matrix, generalized = cov.matrix, cov.generalized
    if cov.undetermined:
        names = ", ".join(str(params[i]) for i in cov.undetermined)
        unused = [str(params[i]) for i in cov.undetermined if column_norms[i] == 0]
        why = (f"the model does not depend on {', '.join(unused)} at these data" if unused
               else "only a combination of them enters the model")
        warnings.append(f"the data cannot determine {names} ({why}): standard error inf; fix or remove "
                        f"{'it' if len(cov.undetermined) == 1 else 'some of them'}, or reparametrise")
    active = np.asarray(getattr(lm, "active_mask", np.zeros(n)), dtype=np.int64)
    for i in np.flatnonzero(active):
        side, value = ("lower", float(spec.lower[i])) if active[i] < 0 else ("upper", float(spec.upper[i]))
        warnings.append(f"{params[i]} is at its {side} bound {value!r}: its standard error and intervals "
                        "treat the bound as absent")
    warnings += [_named(text, params) for text in getattr(lm, "warnings", ())]
    message = _named(str(lm.message), params)
    if not lm.success and not getattr(lm, "warnings", ()):
        warnings.append(f"the fit did not converge: {message}")
    stderr = np.sqrt(np.diag(matrix))
    return FitResult(
        params={**dict(zip(params, x.tolist())), **spec.fixed},
        x=x,
        stderr=dict(zip(params, stderr.tolist())),
        covariance=matrix,
        correlation=correlation(matrix),
        residuals=r,
        chisqr=stats["chisqr"], redchi=stats["redchi"], dof=dof, aic=stats["aic"], bic=stats["bic"],
        r_squared=stats["r_squared"],
        success=bool(lm.success), message=message, nfev=int(lm.nfev), njev=int(lm.njev),
        warnings=warnings,
        fitted=tuple(params), fixed=dict(spec.fixed), absolute_sigma=absolute_sigma,
        n_samples=n_samples, status=int(getattr(lm, "status", 0)), active_mask=active,
        generalized_covariance=generalized, options=dict(options), problem=problem,
    )
