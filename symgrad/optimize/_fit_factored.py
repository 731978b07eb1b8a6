"""``curve_fit`` on data too large to store the Jacobian: sums over the data, assembled per parameter.

For data sets ``k`` with models compiled over their own symbols (``index_k`` into
the vector ``theta`` of all symbols), observations ``y_k`` and weights
``w_k = 1 / sigma_k``, one fused pass per set gives ``G_k = [J_k | r_k]^T [J_k | r_k]``
over its own symbols (``symgrad._ls_kernels``: ``r_kj = (yhat_k(theta; x_kj) - y_kj) w_kj``).
The Gram matrix of the whole fit over the ``free`` symbols is the sum of the ``G_k``
placed at those symbols' rows and columns (a symbol shared by several models adds
up; a set's rows are zero at the symbols it does not use: the block structure of a
global fit). Fixed symbols are simply left out. Where the Cholesky factor of that
sum is not accurate (``gram_factor``), the blocked QR factors ``R_k`` of each set
are placed the same way, stacked, and factorised once more, which gives the ``R``
of the whole ``[J | r]`` since ``R_k^T R_k = G_k``.
"""

from __future__ import annotations

import numpy as np

from symgrad.optimize._lm_problem import gram_factor

__all__ = ["REPORT_TAU", "FactoredFit", "placement"]

#: The covariance comes from the Cholesky factor of the sums when every column of ``J``
#: keeps at least this fraction of its norm once the columns before it are projected
#: out: the squared condition number then costs at most ``eps / REPORT_TAU^2`` (2e-10) of
#: the covariance's relative accuracy. Otherwise from the blocked QR of ``[J | r]``.
REPORT_TAU = 1e-3


def placement(index: np.ndarray, free: np.ndarray, total: int):
    """``(own, at)``: the entries of a set's ``[J | r]`` columns that are free, and their columns in the fit's.

    ``index``: the set's symbols in ``theta``; ``free``: the fitted symbols, in order;
    the residual column (last) goes to column ``len(free)``.
    """
    position = np.full(total, -1, dtype=np.int64)
    position[free] = np.arange(len(free))
    mapped = position[index]
    own = np.append(np.flatnonzero(mapped >= 0), len(index))
    at = np.append(mapped[mapped >= 0], len(free))
    return own, at


class FactoredFit:
    """What ``lm_solve`` reads of a :class:`CompiledFit` over ``free``, from sums over the data.

    ``sum_of_squares(x)`` runs the Gram pass of every data set (and keeps it);
    ``triangular_factor(x)`` factorises the kept sum when ``x`` is that trial point.
    ``qr_factor(x)``: the blocked QR, for the covariance of the report.
    """

    def __init__(self, problem, free: np.ndarray, theta: np.ndarray):
        self.problem, self.free = problem, np.asarray(free, dtype=np.int64)
        self.base = np.array(theta, dtype=np.float64, copy=True)
        total = len(problem.symbols)
        self.places = [placement(index, self.free, total) for _, _, index, _ in problem.parts]
        self._last = None

    def _theta(self, x):
        theta = self.base.copy()
        theta[self.free] = x
        return theta

    def _sets(self):
        for ds, (compiled, columns, index, weight), place in zip(self.problem.spec.datasets, self.problem.parts,
                                                                 self.places):
            yield compiled._kernels, columns, ds.n, ds.y, weight, index, place

    def gram(self, x) -> np.ndarray:
        """``G = [J | r]^T [J | r]`` over the free symbols (one pass per data set), kept for ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if self._last is not None and np.array_equal(self._last[0], x):
            return self._last[1]
        theta = self._theta(x)
        p = len(self.free) + 1
        total = np.zeros((p, p))
        with np.errstate(all="ignore"):
            for kernels, columns, n, y, weight, index, (own, at) in self._sets():
                g = kernels.gram(np.ascontiguousarray(theta[index]), columns, n, y, weight)
                total[np.ix_(at, at)] += g[np.ix_(own, own)]
        self._last = (x.copy(), total)
        return total

    def sum_of_squares(self, x) -> float:
        return float(self.gram(x)[-1, -1])

    def triangular_factor(self, x):
        gram = self.gram(x)
        rfac = gram_factor(gram)
        if rfac is None:
            return self.qr_factor(x)
        return rfac, float(gram[-1, -1])

    def report_factor(self, x, residuals: np.ndarray):
        """``R`` ((n+1, n+1)) for the covariance at the solution ``x``, and the residuals into ``residuals``.

        From the sums at ``x`` (kept from the solver's last pass when it ended there)
        where they are accurate enough (``REPORT_TAU``), with one pass for the
        residuals; else one blocked QR pass that gives both.
        """
        rfac = gram_factor(self.gram(x), REPORT_TAU)
        if rfac is None:
            return self.qr_factor(x, residuals)[0]
        theta = self._theta(np.asarray(x, dtype=np.float64))
        start = 0
        with np.errstate(all="ignore"):
            for kernels, columns, n, y, weight, index, _ in self._sets():
                kernels.sum_of_squares(np.ascontiguousarray(theta[index]), columns, n, y, weight,
                                       residuals[start:start + n])
                start += n
        return rfac

    def qr_factor(self, x, residuals=None):
        """``(R, r.r)`` of the whole ``[J | r]`` over the free symbols, from each set's blocked QR.

        ``residuals``: an (N,) array to receive the weighted residuals in the same passes.
        """
        theta = self._theta(np.asarray(x, dtype=np.float64))
        p = len(self.free) + 1
        pieces, ss, start = [], 0.0, 0
        with np.errstate(all="ignore"):
            for kernels, columns, n, y, weight, index, (own, at) in self._sets():
                part_r = None if residuals is None else residuals[start:start + n]
                start += n
                rfac, part = kernels.triangular_factor(np.ascontiguousarray(theta[index]), columns, n, y, weight,
                                                       part_r)
                piece = np.zeros((rfac.shape[0], p))
                piece[:, at] = rfac[:, own]
                pieces.append(piece)
                ss += part
            stacked = np.vstack(pieces)
            if not np.all(np.isfinite(stacked)):
                return np.full((p, p), np.nan), ss
            top = np.linalg.qr(stacked, mode="r")
        out = np.zeros((p, p))
        out[: top.shape[0]] = top
        return out, ss
