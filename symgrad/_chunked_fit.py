"""``curve_fit`` on chunked data (memory maps, Dask): the solver reads per-chunk triangular factors.

For chunk ``c`` with weighted residuals ``r_c`` and their Jacobian ``J_c`` (over every
symbol of the model, fitted and fixed), one compiled pass returns ``(|c|, r_c^T r_c,
R_c)`` with ``R_c`` the ``(n+1) x (n+1)`` triangular factor of ``[J_c | r_c]`` (built
block by block, ``J_c`` never stored). Since ``R_c^T R_c = [J_c | r_c]^T [J_c | r_c]``,
these are the partial sums ``J^T J``, ``J^T r``, ``r^T r`` in factored form: stacking the
``R_c`` in chunk order and factorising once more gives the ``R`` of the whole
``[J | r]``, as accurate as one QR of ``J`` (no normal equations, whose condition
number is the square). MINPACK's Levenberg-Marquardt (``lm_solve``) needs nothing
else; the factor of a subset of the columns (a profile likelihood holds some
parameters) is the QR of the matching columns of ``R``.

The result holds the residuals at the solution and ``y`` in memory (``N`` floats
each): everything else stays in chunks.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from symgrad._chunked import chunk_source, is_chunked, is_dask
from symgrad.errors import InputError

__all__ = ["ResidualChunkKernel", "chunked_curve_fit", "has_chunked"]

#: Rows of the in-memory stand-in through which ``curve_fit``'s checks of names,
#: parameters, bounds and starting values run.
HEAD = 64


def has_chunked(data, y, sigma) -> bool:
    """Whether ``curve_fit``'s data, ``y`` or ``sigma`` holds a memory map or a Dask collection."""
    values = list(data.values()) if isinstance(data, dict) else [data]
    return is_chunked([v for v in values + [y, sigma] if v is not None])


class ResidualChunkKernel:
    """The least-squares kernels of one weighted residual, runnable on a chunk anywhere.

    ``mode``: ``"factor"`` (count, ``r^T r``, ``R``), ``"ss"`` (count, ``r^T r``) or
    ``"residuals"`` (the chunk's ``r``). Pickled as the residual expression and its
    symbols; each process rebuilds the kernels once (``ResidualKernels``, whose
    machine code comes from the disk cache when this machine compiled it before).
    """

    def __init__(self, residual, params, data, mode: str, names: tuple):
        self.residual, self.params, self.data = residual, tuple(params), tuple(data)
        self.p, self.mode, self.names = len(self.params) + 1, mode, tuple(names)

    def __reduce__(self):
        return (ResidualChunkKernel, (self.residual, self.params, self.data, self.mode, self.names))

    def with_mode(self, mode: str) -> ResidualChunkKernel:
        return ResidualChunkKernel(self.residual, self.params, self.data, mode, self.names)

    @property
    def options(self):
        from symgrad.jit import DEFAULT_OPTIONS

        return DEFAULT_OPTIONS

    @property
    def kernels(self):
        key = (self.residual, self.params, self.data)
        if key not in _BUILT:
            from symgrad._ls_kernels import ResidualKernels

            _BUILT[key] = ResidualKernels(self.residual, self.params, self.data)
        return _BUILT[key]

    def _check(self, cols, offset: int) -> None:
        for name, col in zip(self.names, cols):
            bad = np.flatnonzero(~np.isfinite(col))
            if bad.size:
                i = int(bad[0])
                raise InputError(f"{name} holds {float(col[i])!r} at row {offset + i} ({bad.size} non-finite "
                                 "value(s) in its chunk); remove or impute those rows")

    def partial(self, theta, offset: int, *columns, parallel: bool = False) -> np.ndarray:
        cols = tuple(np.ascontiguousarray(np.asarray(c), dtype=np.float64) for c in columns)
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        n, kernels = len(cols[0]), self.kernels
        with np.errstate(all="ignore"):
            if self.mode == "residuals":
                return kernels.residuals(theta, cols, n)
            if self.mode == "ss":
                ss = float(kernels.sum_of_squares(theta, cols, n))
                rfac = np.empty((0,))
            else:
                rfac, ss = kernels.triangular_factor(theta, cols, n)
        if not math.isfinite(ss):
            self._check(cols, offset)
        return np.concatenate([[n, ss], np.ravel(rfac)])


#: Residual kernels built in this process, by (residual, params, data).
_BUILT = {}


def _stack_factor(stacked: np.ndarray, p: int) -> np.ndarray:
    """The ``p x p`` triangular factor of the rows ``stacked`` (NaN if any is not finite)."""
    if not np.all(np.isfinite(stacked)):
        return np.full((p, p), np.nan)
    top = np.linalg.qr(stacked, mode="r")
    rfac = np.zeros((p, p))
    rfac[: top.shape[0]] = top
    return rfac


class ChunkedFit:
    """The problem of one chunked data set, in the form ``curve_fit``'s solver and result read.

    ``evaluate`` returns the residuals and, in place of the Jacobian, its ``n x n``
    triangular factor (same column norms and the same ``J^T J``), which is all the
    covariance and the report need.
    """

    #: ``result_of`` reads ``evaluate`` (whose "Jacobian" here is already its factor).
    factored = False

    def __init__(self, head_spec, columns, y, sigma):
        ds = head_spec.datasets[0]
        self.head_spec = head_spec
        self.symbols = tuple(head_spec.params) + tuple(head_spec.fixed)
        self.theta0 = np.concatenate([head_spec.p0, np.array(list(head_spec.fixed.values()), dtype=np.float64)])
        y_symbol, s_symbol = sp.Dummy("y"), sp.Dummy("sigma")
        if isinstance(sigma, (int, float)):
            residual, data, extra = (ds.model - y_symbol) / float(sigma), (y_symbol,), (y,)
        elif sigma is None:
            residual, data, extra = ds.model - y_symbol, (y_symbol,), (y,)
        else:
            residual, data, extra = (ds.model - y_symbol) / s_symbol, (y_symbol, s_symbol), (y, sigma)
        names = tuple(f"column {s.name!r} of data" for s in ds.data_symbols) + ("y", "sigma")[:len(data)]
        self.kernel = ResidualChunkKernel(residual, self.symbols, tuple(ds.data_symbols) + data, "factor", names)
        all_columns = tuple(columns) + extra
        self.source = chunk_source(all_columns, tuple(ds.data_symbols) + data, persist=True)
        self.n_samples = int(sum(b - a for a, b in self.source.bounds))
        yfull = np.concatenate([c[-len(data)] for c in map(self.source.chunk, range(len(self.source.bounds)))])
        self.y = yfull
        # no sigma: none kept (a column of ones would be N more floats in memory)
        self.sigma = (np.full(self.n_samples, float(sigma)) if isinstance(sigma, (int, float)) else
                      None if sigma is None else
                      np.concatenate([self.source.chunk(k)[-1] for k in range(len(self.source.bounds))]))
        from symgrad.optimize._fit_inputs import Dataset, FitSpec, check_sigma

        if self.sigma is not None and not isinstance(sigma, (int, float)):
            check_sigma(self.sigma)  # every row, once (the chunks' sums are finite for sigma < 0)

        full = Dataset(ds.model, ds.data_symbols, tuple(columns), self.y, self.sigma)
        self.spec = FitSpec((full,), head_spec.params, head_spec.p0, head_spec.lower, head_spec.upper,
                            head_spec.fixed, False)
        self._head = None
        self._modes = {"factor": self.kernel}

    def _partials(self, mode: str, theta) -> list:
        if mode not in self._modes:
            self._modes[mode] = self.kernel.with_mode(mode)
        return self.source.sums(self._modes[mode], theta)

    def factor(self, theta: np.ndarray):
        """``(R, r^T r)``: ``R`` the triangular factor of ``[J | r]`` over every symbol."""
        p = self.kernel.p
        parts = self._partials("factor", theta)
        ss = math.fsum(float(q[1]) for q in parts) if all(math.isfinite(q[1]) for q in parts) else math.nan
        stacked = np.concatenate([q[2:].reshape(p, p) for q in parts])
        return _stack_factor(stacked, p), ss

    def sum_of_squares(self, theta: np.ndarray) -> float:
        parts = self._partials("ss", theta)
        values = [float(q[1]) for q in parts]
        return math.fsum(values) if all(map(math.isfinite, values)) else math.nan

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        return np.concatenate(self._partials("residuals", theta))

    def evaluate(self, theta: np.ndarray, free: np.ndarray):
        """``(r, R_free)``: the residuals and the triangular factor of the ``free`` columns of ``J``."""
        rfac, _ = self.factor(theta)
        k = len(free)
        sub = _stack_factor(rfac[:, list(free)], k) if k else np.zeros((0, 0))
        return self.residuals(theta), sub

    def solve(self, free: np.ndarray, theta: np.ndarray, *, lower, upper, ftol, xtol, gtol, max_nfev):
        from symgrad.optimize._lm import lm_solve

        return lm_solve(_Factored(self, free, theta), np.asarray(theta, dtype=np.float64)[free],
                        lower=lower, upper=upper, ftol=ftol, xtol=xtol, gtol=gtol, max_nfev=max_nfev)

    def _in_memory(self):
        if self._head is None:
            from symgrad.optimize._curve_fit import CompiledFit

            self._head = CompiledFit(self.head_spec)
        return self._head

    def columns(self, data, k: int = 0):
        return self._in_memory().columns(data, k)

    def model_values(self, k: int, theta: np.ndarray, columns, n: int):
        return self._in_memory().model_values(k, theta, columns, n)


class _Factored:
    """``theta[free] = x`` -> ``sum_of_squares`` and ``triangular_factor`` (lm_solve's factored form)."""

    def __init__(self, problem: ChunkedFit, free: np.ndarray, theta: np.ndarray):
        self.problem, self.free = problem, np.asarray(free)
        self.base = np.array(theta, dtype=np.float64, copy=True)
        self.columns = list(self.free) + [problem.kernel.p - 1]

    def _theta(self, x):
        theta = self.base.copy()
        theta[self.free] = x
        return theta

    def sum_of_squares(self, x) -> float:
        return self.problem.sum_of_squares(self._theta(x))

    def triangular_factor(self, x):
        rfac, ss = self.problem.factor(self._theta(x))
        return _stack_factor(rfac[:, self.columns], len(self.columns)), ss


def _head(value, m: int):
    if value is None or isinstance(value, (str, sp.Symbol, int, float)):
        return value
    if is_dask(value) and hasattr(value, "columns"):
        return value.head(m, npartitions=-1)
    if is_dask(value):
        return np.asarray(value[:m].compute())
    return np.asarray(value[:m])


def _refuse_unknown_length(name: str, value) -> None:
    """A Dask array whose chunk sizes are unknown (after boolean masking) cannot be split into rows."""
    shape = getattr(value, "shape", None)
    if is_dask(value) and not hasattr(value, "columns") and shape and not (
        isinstance(shape[0], int) or np.isfinite(shape[0])
    ):
        raise InputError(f"{name} has an unknown length (a Dask array with unknown chunk sizes, as boolean "
                         "masking makes); call .compute_chunk_sizes() on it first.")


def _full(value, frame):
    """A column given by ``name`` of a Dask DataFrame ``frame`` -> its Dask array; else ``value``."""
    if isinstance(value, (str, sp.Symbol)) and frame is not None:
        from symgrad._dask import frame_columns

        return frame_columns(frame, [str(value)])[0]
    return value


def chunked_curve_fit(model, data, y, *, params, p0, sigma, absolute_sigma, bounds, fixed, ftol, xtol, gtol,
                      max_nfev):
    """``curve_fit`` of one model on chunked data; arguments as :func:`symgrad.curve_fit`."""
    from symgrad.optimize._curve_fit import result_of
    from symgrad.optimize._fit_inputs import fit_spec

    if isinstance(model, (list, tuple)):
        raise InputError("a global fit (model is a list) takes in-memory data; fit chunked data one model "
                         "at a time, or load the data sets into memory")
    frame = data if is_dask(data) and hasattr(data, "columns") else None
    named = [(f"data column {k!r}", v) for k, v in data.items()] if isinstance(data, dict) else [("data", data)]
    for name, value in named + [("y", y), ("sigma", sigma)]:
        _refuse_unknown_length(name, value)
    head_data = {k: _head(v, HEAD) for k, v in data.items()} if isinstance(data, dict) else _head(data, HEAD)
    spec = fit_spec(model, head_data, _head(y, HEAD), params=params, p0=p0, sigma=_head(sigma, HEAD),
                    bounds=bounds, fixed=fixed)
    symbols = spec.datasets[0].data_symbols
    if frame is not None:
        from symgrad._dask import frame_columns

        columns = frame_columns(frame, [s.name for s in symbols]) if symbols else ()
    elif isinstance(data, dict):
        by_name = {(k.name if isinstance(k, sp.Symbol) else str(k).strip()): v for k, v in data.items()}
        columns = tuple(by_name[s.name] for s in symbols)
        y = by_name.get(str(y), y) if isinstance(y, (str, sp.Symbol)) else y
        sigma = by_name.get(str(sigma), sigma) if isinstance(sigma, (str, sp.Symbol)) else sigma
    else:
        columns = (data,) if symbols else ()
    y, sigma = _full(y, frame), _full(sigma, frame)
    if not columns:
        raise InputError("curve_fit on chunked data needs at least one data column")
    problem = ChunkedFit(spec, columns, y, sigma)
    n = len(spec.params)
    options = {"ftol": ftol, "xtol": xtol, "gtol": gtol, "max_nfev": max_nfev}
    lm = problem.solve(np.arange(n), problem.theta0, lower=spec.lower, upper=spec.upper, **options)
    return result_of(problem, lm, bool(absolute_sigma), options)
