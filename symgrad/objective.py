"""``Objective``: a scalar loss over parameters and, optionally, data (api.md section 3).

With data symbols the objective is the mean of the per-sample expression::

    L(θ) = (1/N) Σ_i f(θ, x_i),     ∇L(θ) = (1/N) Σ_i ∇_θ f(θ, x_i)

and one compiled pass over the samples adds up the value and every partial in
scalar accumulators (no N × n temporary), in blocks that run on all threads.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from symgrad._abbreviate import abbreviate
from symgrad._chunked import ChunkedData, expand_frame, is_chunked
from symgrad._data import F64 as _F64
from symgrad._data import NO_DATA, Data, as_theta, ready_length
from symgrad._engines import engine_costs
from symgrad._engines import template_nodes as _template_nodes  # noqa: F401 (tests read it here)
from symgrad._expr import as_expr, as_symbols
from symgrad.codegen import BLOCK, loops_source, objective_source
from symgrad.derive import derive, lift
from symgrad.errors import InputError, OptionError
from symgrad.jit import DEFAULT_OPTIONS, JitOptions
from symgrad.jit._pipeline import DataLoops, checked_expressions, compiled_function

__all__ = ["Objective", "Data"]

#: More data columns than this are passed to the kernels as one (d, N) array.
WIDE = 32

_ENGINES = ("auto", "scalar", "loops")
REPR_SYMBOLS = 8  # a repr lists the symbols up to this many, and counts them past it

#: Distinct Hessian entries compiled at most (about 630 parameters): the Hessian is
#: straight-line code, and Numba compiles some hundred statements a second.
HESSIAN_MAX = 200_000


def loop_block(program) -> int:
    """Samples per block for a family program: 64, or fewer (down to 16) for wide programs.

    A block keeps up to three ``size x B`` arrays per family (values, adjoints, sums);
    they should stay within about a megabyte, the size of a core's second-level cache.
    Small blocks also let two threads share a batch of a thousand samples. The block
    size depends on the program only, so results do not depend on the machine.
    """
    width = sum(f.size for f in program.families)
    block = 64
    while block > 16 and 3 * 8 * width * block > 2**20:
        block //= 2
    return block


def _family_program(expr, params, data, engine: str):
    """The family program (``derive.lift``) the loops engine runs, or ``None`` for the scalar
    engine: ``engine="auto"`` asks the cost model (``symgrad._engines``)."""
    if engine == "scalar":
        return None
    program = lift(expr, params, data)
    return program if engine == "loops" or engine_costs(program).choice == "loops" else None


class Objective:
    """A scalar loss of ``params``, averaged over the samples of ``data`` if any.

    ``L(θ) = mean_i f(θ, x_i)`` for ``f = expr``, ``θ = params``, ``x = data``.

    Args:
        expr: scalar SymPy expression (the per-sample loss).
        params: the symbols to differentiate, in vector order.
        data: the symbols bound to data columns, in column order.
        options: Numba settings (:class:`symgrad.jit.JitOptions`).
        engine: ``"scalar"`` compiles the straight-line program of the value and the
            gradient; ``"loops"`` compiles one loop per family of identical formulas
            (``derive.lift``), which keeps a network of thousands of parameters to a
            few seconds of compilation; ``"auto"`` (the default) takes the engine
            whose modelled time per sample is lower (``symgrad._engines``, a cost model
            fitted to ``bench/bench_engines.py``). The results agree to rounding;
            :attr:`engine` says which one runs. The Hessian always uses the straight-line program, and is
            refused past ``HESSIAN_MAX`` distinct entries.

    Raises:
        MissingSymbolError: a free symbol of ``expr`` is in neither ``params`` nor ``data``.
        ValueError: an unknown ``engine``.

    Example:
        >>> import numpy as np, sympy as sp, symgrad as sg
        >>> w, b, x, y = sp.symbols("w b x y")
        >>> obj = sg.Objective((w * x + b - y) ** 2, [w, b], data=[x, y])
        >>> value, grad = obj.value_and_grad([1.0, 0.0], np.array([1.0, 2.0]), np.array([1.0, 4.0]))
        >>> value, grad.tolist()
        (2.0, [-4.0, -2.0])
    """

    def __init__(self, expr, params, data=(), *, options: JitOptions = DEFAULT_OPTIONS, engine: str = "auto"):
        expr = as_expr(expr, "expr")
        self.params = as_symbols(params, "params")
        self.data = as_symbols(data, "data")
        both = set(self.params) & set(self.data)
        if both:
            raise OptionError(f"{', '.join(map(str, both))} cannot be both a parameter and a data symbol.")
        if not self.params:
            raise OptionError("an Objective needs at least one parameter symbol in params.")
        if engine not in _ENGINES:
            raise OptionError(f"engine must be one of {', '.join(map(repr, _ENGINES))}; got {engine!r}.")
        (expr,) = checked_expressions([expr], self.params + self.data, "symgrad.Objective", "params + data")
        self.expr = expr
        self._options = options
        self._n = len(self.params)
        self._shape = (self._n,)
        self._what = f"Objective({len(self.params)} params, {len(self.data)} data)"
        self._loops = _family_program(expr, self.params, self.data, engine)
        if self._loops is not None:
            self.engine = "loops"
            self._layout = "matrix"
            self._block = loop_block(self._loops)
            self._vg_source = loops_source(self._loops, self._what, "vg", self._block)
        else:
            self.engine = "scalar"
            self._layout = "matrix" if len(self.data) > WIDE else "tuple"
            self._block = BLOCK
            self._vg_source = self._source(self._program, self._program.outputs, self._what, "vg")
        self._vg = DataLoops.load(self._vg_source, "vg", self._n + 1, self._block, options)
        # At a point (no data, the straight-line program): vg_point(theta, grad) writes the
        # gradient and returns the value (codegen.objective_source), from the same module.
        self._point = None
        if not self.data and self._loops is None:
            self._point = compiled_function(self._vg_source, "vg_point", options)

    @functools.cached_property
    def _program(self):
        """The straight-line program of the value and gradient (the scalar engine)."""
        return derive([self.expr], self.params, inputs=self.params + self.data)

    @functools.cached_property
    def _v_source(self):
        if self._loops is not None:
            return loops_source(self._loops, self._what, "v", self._block)
        return self._source(self._program, self._program.outputs[:1], self._what, "v")

    @functools.cached_property
    def _v(self):
        """The value-only kernels, generated on first use (training may never need them)."""
        return DataLoops.load(self._v_source, "v", 1, self._block, self._options)

    def _source(self, program, outputs, what, kind):
        return objective_source(program, self.params, self.data, outputs, what, kind=kind, columns=self._layout)

    def __repr__(self) -> str:
        """The expression's first characters, the symbols (counted past a few), the engine."""
        if len(self.params) + len(self.data) <= REPR_SYMBOLS:
            symbols = f"params={list(self.params)}, data={list(self.data)}"
        else:
            symbols = f"{len(self.params)} params, {len(self.data)} data"
        return f"Objective({abbreviate(self.expr)}, {symbols}, engine={self.engine!r})"

    @functools.cached_property
    def gradient_expr(self) -> sp.Matrix:
        """Exact gradient of the per-sample ``expr`` as an ``(n, 1)`` SymPy matrix."""
        return sp.Matrix(self._program.expand()[1:])

    @functools.cached_property
    def _hess(self):
        n = self._n
        return DataLoops.load(self._hess_source, "hess", n * (n + 1) // 2, BLOCK, self._options)

    @functools.cached_property
    def _hess_source(self):
        program = derive([self.expr], self.params, inputs=self.params + self.data, order=2)
        n = self._n
        hess = program.outputs[1 + n:]
        upper = [hess[i * n + j] for i in range(n) for j in range(i, n)]
        what = f"Objective Hessian ({n} params, {len(self.data)} data)"
        return self._source(program, upper, what, "hess")

    @property
    def source(self) -> str:
        """The generated source of the value-and-gradient kernels."""
        return self._vg_source.text

    # -- validation -------------------------------------------------------------
    def _theta(self, theta) -> np.ndarray:
        if type(theta) is np.ndarray and theta.dtype is _F64 and theta.shape == self._shape:
            return theta if theta.flags.c_contiguous else np.ascontiguousarray(theta)
        return as_theta(theta, self.params)

    def prepare(self, *columns, check_finite: bool = True, rows: bool = True) -> Data:
        """Validate data columns once; the result is passed to the ``batch_*`` methods.

        With ``rows`` (the default) the data are copied once into one row-major
        array, which training loops that draw random mini-batches read fastest.

        Raises:
            InputError: wrong number of columns, non-numeric, not 1-D, unequal lengths,
                empty, or (with ``check_finite``) NaN or infinity, naming the column.
        """
        if len(columns) == 1 and isinstance(columns[0], (Data, ChunkedData)):
            return columns[0]
        columns = expand_frame(columns, self.data)
        if is_chunked(columns) and len(columns) == len(self.data):  # memory maps, Dask: api.md section 10
            return ChunkedData(self, columns, persist=rows)
        return Data.checked(columns, self.data, rows=rows, wide=self._layout == "matrix", check_finite=check_finite)

    # -- kernels ------------------------------------------------------------------
    def _run(self, loops: DataLoops, theta, data, indices):
        """The mean over the samples (at ``indices``) of the outputs of ``loops`` at ``theta``."""
        if isinstance(data, ChunkedData):
            if indices is not None:  # a mini-batch of one chunk (ChunkedData.batches)
                return self._run(loops, theta, indices.data, indices.indices)
            return data.mean(data.kernel(loops.source, loops.kind, loops.width, loops.block), theta)
        if not self.data and loops.point is None:
            data = NO_DATA  # the family loops run over one sample with no columns
        elif not self.data:
            return loops.at_point(theta)
        n = data.n if indices is None else len(indices)
        sums, finite = loops.sums(theta, data.kernel_input, indices, n)
        if not finite:
            data.find_non_finite()
        means = sums[:-1]  # a view of the new array: the data values' sum dropped
        means /= n
        return means

    def batch_value_and_grad(self, theta: np.ndarray, data: Data | None = None, indices=None):
        """Mean value and gradient over all samples, or those at ``indices`` (int64).

        The hot path of training loops: ``theta`` must already be a float64
        ``ndarray`` of shape ``(n,)`` and ``data`` the result of :meth:`prepare`.
        """
        if self._point is not None:  # no data: the point function
            grad = np.empty(self._n)
            return self._point(theta, grad), grad
        r = self._run(self._vg, theta, data, indices)
        return float(r[0]), r[1:]

    def batch_value(self, theta: np.ndarray, data: Data | None = None, indices=None) -> float:
        """Mean value over all samples, or those at ``indices``; see :meth:`batch_value_and_grad`."""
        return float(self._run(self._v, theta, data, indices)[0])

    def _prepare_for_call(self, columns) -> Data:
        # Short loop bodies sum the data as they go and name a bad column afterwards;
        # split ones do not, so their data are checked first.
        n = ready_length(columns, len(self.data))
        if not n:  # anything to convert, refuse or read in chunks: the full check, naming the column
            return self.prepare(*columns, check_finite=self._vg_source.split, rows=False)
        data = Data(columns, n, self.data, rows=False, wide=self._layout == "matrix")
        if self._vg_source.split:
            data.find_non_finite()
        return data

    # -- api.md section 3 -----------------------------------------------------------
    def value(self, theta, *columns) -> float:
        """The mean loss ``L(θ)``."""
        theta = self._theta(theta)
        if not columns and not self.data:  # at a point: no data to check
            return self.batch_value(theta)
        return self.batch_value(theta, self._prepare_for_call(columns))

    def grad(self, theta, *columns) -> np.ndarray:
        """The gradient ``∇L(θ)``, an array of shape ``(n,)``."""
        return self.value_and_grad(theta, *columns)[1]

    def value_and_grad(self, theta, *columns):
        """``(L(θ), ∇L(θ))`` from one fused pass over the data."""
        if (not columns and self._point is not None and type(theta) is np.ndarray
                and theta.dtype is _F64 and theta.shape == self._shape and theta.flags.c_contiguous):
            grad = np.empty(self._n)  # at a point, theta as the kernel reads it: nothing to check
            return self._point(theta, grad), grad
        theta = self._theta(theta)
        if not columns and not self.data:  # at a point: no data to check
            return self.batch_value_and_grad(theta)
        return self.batch_value_and_grad(theta, self._prepare_for_call(columns))

    def hessian(self, theta, *columns) -> np.ndarray:
        """The Hessian ``∇²L(θ)``, an ``(n, n)`` symmetric array."""
        n = self._n
        if n * (n + 1) // 2 > HESSIAN_MAX:
            raise InputError(
                f"the Hessian of {n} parameters has {n * (n + 1) // 2:,} distinct entries; symgrad "
                f"compiles Hessians as straight-line code, which is practical up to {HESSIAN_MAX:,} "
                "entries (about 630 parameters). Use a first-order optimizer (sg.optim.Adam) or "
                "sg.optim.LBFGS, which need gradients only, or the Hessian of a smaller model."
            )
        theta = self._theta(theta)
        data = self.prepare(*columns, rows=False)
        upper = self._run(self._hess, theta, data, None)
        h = np.empty((n, n))
        rows, cols = np.triu_indices(n)
        h[rows, cols] = upper
        h[cols, rows] = upper
        return h

    def check(self, theta, *columns, rtol: float = 1e-6, atol: float = 1e-8):
        """Cross-check the compiled gradient against autograd and finite differences.

        Returns a :class:`symgrad.GradientCheck`; see :func:`symgrad.check_gradient`.
        """
        from symgrad.check import check_objective

        data = self.prepare(*columns, rows=False)
        return check_objective(self, self._theta(theta), data.columns, rtol=rtol, atol=atol)

    def _compiled_epoch(self, optimizer, data: Data, batch_size: int):
        """The compiled epoch of ``sg.fit`` (``symgrad._epoch.CompiledEpoch``), ``None`` for
        chunked data; raises ``NotCompiled`` for an optimizer with a block that has none."""
        from symgrad._epoch import compiled_epoch

        return compiled_epoch(self, optimizer, data, batch_size)

    def guard(self, theta: np.ndarray, data: Data, columns=(), *, caller: str = "fit") -> None:
        """Stop with ``GradientMismatchError`` if the compiled gradient at ``theta`` disagrees
        with the autograd engine's on a few samples (the start-up check of ``sg.fit`` and
        ``sg.minimize``; see ``symgrad.check.guard_gradient``)."""
        from symgrad.check._guard import GUARD_SAMPLES, guard_gradient

        if isinstance(data, ChunkedData):  # the guard reads a few rows: bring those into memory
            data, columns = data.guard_inputs(GUARD_SAMPLES)
        guard_gradient(self, theta, data, columns, caller=caller)
