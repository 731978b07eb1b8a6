"""The one chain of stages: expression -> derivation -> source -> compiled module, cached.

Every compiled path of the package goes through this module, so that each stage is
called in one way, and ``load_module`` is called from ``symgrad/jit/`` only (a test
reads the package's imports and calls to keep it so):

    checked_expressions   canonical form, supported functions, every symbol an argument
    derive / lift         the straight-line program, or one loop per family of formulas
    *_source              Python source text (``symgrad.codegen``)
    load_module           Numba functions, machine code cached on disk (``_cache``)

``sg.compile`` calls :func:`pointwise_module`, ``check_gradient`` calls
:func:`gradient_module`, least squares (``symgrad._ls_kernels.ResidualKernels``)
calls :func:`residual_module` and :func:`directional_module`. ``Objective`` hands its
sources to :class:`DataLoops`, the typed hand-off of a fused data loop, which owns
the loops' calling convention; the chunk kernels of data in chunks
(``symgrad._chunked.ChunkKernel``) are rebuilt through it in each process.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import sympy as sp

from symgrad._expr import checked_canonical, free_symbols
from symgrad.codegen import KernelSource, directional_source, pointwise_source, residual_source
from symgrad.derive import derive
from symgrad.jit._cache import load_module
from symgrad.jit._options import DEFAULT_OPTIONS, JitOptions
from symgrad.errors import MissingSymbolError
from symgrad.jit._threads import run_blocks

__all__ = ["DataLoops", "check_arguments", "checked_expressions", "compiled_function", "directional_module",
           "gradient_module", "pointwise_module", "residual_module"]

#: "No index list": a data loop over every sample.
ALL_SAMPLES = np.empty(0, dtype=np.int64)

#: The largest per-block sums array a thread keeps for its next call (4 MiB: a batch of
#: about 200 blocks of a network of 2,400 parameters); larger ones are made per call.
SCRATCH_BYTES = 1 << 22


def check_arguments(exprs, args, what: str = "args") -> None:
    """Raise ``MissingSymbolError`` naming the free symbols of ``exprs`` not in ``args``."""
    free = set().union(*(free_symbols(e) for e in exprs)) if exprs else set()
    _refuse_missing(free, args, what)


def _refuse_missing(free: set, args, what: str) -> None:
    missing = sorted(free - set(args), key=sp.default_sort_key)
    if missing:
        names = ", ".join(str(s) for s in missing)
        raise MissingSymbolError(
            f"the expression uses {names}, which {'is' if len(missing) == 1 else 'are'} not in "
            f"{what} {list(args)}; add {'it' if len(missing) == 1 else 'them'} to {what}."
        )


def checked_expressions(exprs, args, caller: str, what: str = "args") -> list:
    """The expressions in canonical form, after the checks every compiled path makes.

    Raises:
        UnsupportedFunctionError: a function with no float64 translation (named, with ``caller``).
        MissingSymbolError: a free symbol that is not in ``args`` (named).
    """
    checked = [checked_canonical(e, caller) for e in exprs]  # one walk of each
    _refuse_missing(set().union(*(free for _, free in checked)), args, what)
    return [e for e, _ in checked]


def pointwise_module(exprs, args, what: str, options: JitOptions = DEFAULT_OPTIONS):
    """``(source, module)`` of checked ``exprs`` as functions of ``args``.

    The module defines ``scalar(*args)`` (a float, or a tuple of the outputs) and
    ``vector(*arrays, out)`` (one row of ``out`` per sample); see ``pointwise_source``.
    """
    program = derive(list(exprs), (), inputs=tuple(args))
    source = pointwise_source(program, tuple(args), program.outputs, what)
    return source, load_module(source, options)


def gradient_module(expr, wrt, extra=(), options: JitOptions = DEFAULT_OPTIONS):
    """``(source, module)`` of the exact gradient of a checked scalar ``expr``.

    ``∇f`` for ``f = expr`` and ``x = wrt``: ``scalar(*wrt values, *extra values)``
    returns the ``n`` partials (a float for ``n = 1``), from one derivation (no closed
    form expanded and derived again).
    """
    args = tuple(wrt) + tuple(extra)
    program = derive([expr], tuple(wrt), inputs=args)
    names = ", ".join(map(str, args))
    source = pointwise_source(program, args, program.outputs[1:], f"gradient(..., [{names}])")
    return source, load_module(source, options)


def residual_module(residual, params, data, options: JitOptions = DEFAULT_OPTIONS):
    """``(source, module)`` of the least-squares kernels of a residual ``r(p; d)``.

    ``p = params`` (read from ``theta``), ``d = data`` (the columns, in order); the
    module's functions are those of ``symgrad.codegen.residual_source``. The caller has
    checked the symbols (``LeastSquares`` against ``params + data``; ``curve_fit``
    checks the functions too), and ``derive`` checks the functions and puts the
    expression in canonical form, so nothing is checked again here. The source of the
    last 64 residuals is kept: fitting the same model again derives nothing.
    """
    source = _residual_source(residual, tuple(params), tuple(data))
    return source, load_module(source, options)


def directional_module(residual, params, data, options: JitOptions = DEFAULT_OPTIONS):
    """``(source, module)`` of ``second_directional(theta, v, cols, out)``: ``out_j = v^T H_j v``.

    ``H_j`` is the exact Hessian of sample ``j``'s residual over ``params``, derived
    once (``symgrad.codegen.directional_source``); checked as for :func:`residual_module`.
    """
    source = _directional_source(residual, tuple(params), tuple(data))
    return source, load_module(source, options)


def _over(params) -> str:
    return ", ".join(str(s) for s in params)


@functools.lru_cache(maxsize=64)
def _residual_source(residual, params: tuple, data: tuple) -> KernelSource:
    program = derive([residual], list(params), inputs=list(params) + list(data))
    return residual_source(program, params, data, f"least squares of {residual} over ({_over(params)})")


@functools.lru_cache(maxsize=64)
def _directional_source(residual, params: tuple, data: tuple) -> KernelSource:
    program = derive([residual], list(params), inputs=list(params) + list(data), order=2)
    what = f"second directional derivative of {residual} over ({_over(params)})"
    return directional_source(program, params, data, what)


def compiled_function(source: KernelSource, name: str, options: JitOptions = DEFAULT_OPTIONS) -> Callable:
    """The compiled function ``name`` of ``source``'s module (compiled, or loaded from the cache)."""
    return getattr(load_module(source, options), name)


@dataclass(frozen=True)
class DataLoops:
    """The compiled fused loops of one kind (``"vg"``, ``"v"``, ``"hess"``) of a module.

    The calling convention of the generated loops (``codegen.objective_source`` and
    ``codegen.loops_source`` write it) is known here only:

    - ``{kind}(theta, out)``: the outputs at a point, for an objective without data
      (absent for family loops, which run over one sample with no columns);
    - ``{kind}_range(theta, cols, idx, n, out, b0, b1)``: for each block ``b`` in
      ``b0..b1`` of ``block`` samples (all ``n``, or those at ``idx``), the sums of the
      ``width`` outputs and, last, of the data values (finite iff the data are) into
      ``out[b]``.

    Attributes:
        source: the ``KernelSource`` compiled.
        kind: the prefix of the functions' names.
        width: the number of outputs summed.
        block: samples per block.
        point: the compiled ``{kind}``, or ``None``.
        blocks: the compiled ``{kind}_range``, or ``None`` (a module of an objective
            without data has the point function only).
        parallel: whether the blocks are shared among threads.
    """

    source: KernelSource
    kind: str
    width: int
    block: int
    point: Callable | None
    blocks: Callable | None
    parallel: bool = True
    _scratch: threading.local = field(default_factory=threading.local, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, source: KernelSource, kind: str, width: int, block: int,
             options: JitOptions = DEFAULT_OPTIONS) -> "DataLoops":
        """Compile (or load from the cache) the loops of ``kind`` in ``source``."""
        module = load_module(source, options)
        return cls(source, kind, width, block, getattr(module, kind, None),
                   getattr(module, f"{kind}_range", None),
                   options.parallel)

    def __repr__(self) -> str:
        return f"DataLoops({self.source.what!r}, kind={self.kind!r}, width={self.width}, block={self.block})"

    def at_point(self, theta: np.ndarray) -> np.ndarray:
        """The ``width`` outputs at ``theta`` (an objective without data)."""
        out = np.empty(self.width)
        self.point(theta, out)
        return out

    def sums(self, theta: np.ndarray, cols, indices: np.ndarray | None, n: int) -> tuple[np.ndarray, bool]:
        """``(sums, finite)`` over ``n`` samples (those at ``indices`` if given).

        ``sums``: a new array of the ``width`` outputs' sums and, last, the data values'
        sum, the blocks added in order (the caller owns it); ``finite``: whether the
        data summed were finite. One block is written straight into that array; more
        are written into an array of this thread's (:meth:`_block_array`), so two
        threads calling the same loops at once never share one.
        """
        blocks = -(-n // self.block)
        idx = ALL_SAMPLES if indices is None else indices
        if blocks == 1:
            out = np.empty((1, self.width + 1))
            self.blocks(theta, cols, idx, n, out, 0, 1)
            total = out[0]
        else:
            out = self._block_array(blocks)
            run_blocks(self.blocks, (theta, cols, idx, n, out), blocks, self.parallel)
            total = np.add.reduce(out, axis=0)  # row after row, as ndarray.sum(axis=0)
        return total, math.isfinite(total[-1])

    def _block_array(self, blocks: int) -> np.ndarray:
        """A ``(blocks, width + 1)`` array for the blocks' sums, kept per thread and reused.

        Its rows are overwritten by every call (each block writes its whole row). An
        array larger than ``SCRATCH_BYTES`` is made for the call and not kept.
        """
        kept = getattr(self._scratch, "out", None)
        if kept is not None and kept.shape[0] >= blocks:
            return kept[:blocks]
        out = np.empty((blocks, self.width + 1))
        if out.nbytes <= SCRATCH_BYTES:
            self._scratch.out = out
        return out
