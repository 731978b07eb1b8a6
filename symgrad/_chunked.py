"""Data in chunks: NumPy memory maps and Dask collections, reduced by partial sums (api.md section 10).

The mean loss of an :class:`~symgrad.Objective` and all its derivatives are sums over
samples, so data that do not fit in memory, or live on other machines, are handled
chunk by chunk. For chunk ``c`` holding samples ``S_c`` one compiled pass returns
its *partial sums*::

    P_c = (|S_c|,  Σ_{i∈S_c} f(θ, x_i),  Σ_{i∈S_c} ∇f(θ, x_i)  [or the Hessian's entries])

and for the chunks of Dask collections the caller adds them up, ``Σ_c P_c``, with ``math.fsum`` entry by entry (a
correctly rounded sum, so the result does not depend on the order in which the
chunks finish and is the same run after run), then divides by ``N = Σ_c |S_c|``.
Only the order of summation differs from the in-memory pass, so the results agree
to rounding (1e-12 relative or better on well-scaled data).

The kernel that computes ``P_c`` is a :class:`ChunkKernel`: a small object that is
pickled as the kernel's source text and JIT options and rebuilt where it is
unpickled (from symgrad's disk cache when the machine has compiled it before), so
it reaches Dask workers in other processes or on other machines.

Memory maps are read by the in-memory pass itself: its blocks of samples are shared
among threads once per evaluation, each block's sums written to its own row of one
array, so the total is the in-memory one to the last bit. Float64 maps read through
the caller's mapping (files of up to ``OWN_MAPPING_FROM`` bytes per column) go to the
kernel whole, as arrays in memory do (mapped pages are not copied). A whole
memory-mapped file of more than ``OWN_MAPPING_FROM`` bytes per column is read
through a mapping of each slice of ``MEMMAP_CHUNK`` rows alone, released after it
(so the process's resident memory stays about a slice per thread above its
baseline), and other dtypes are converted one slice at a time. Dask collections are
handled in :mod:`symgrad._dask`.
"""

from __future__ import annotations

import math
import mmap
import os
import weakref

import numpy as np

from symgrad.errors import InputError

__all__ = ["ChunkKernel", "ChunkedData", "MEMMAP_CHUNK", "OWN_MAPPING_FROM", "chunk_source", "chunk_sums",
           "expand_frame", "fit_columns", "is_chunked", "reduce_sums"]

#: Rows per slice of a memory-mapped column (8 MiB of float64); a multiple of every
#: kernel block size, so the blocks of a slice are those of the in-memory pass.
MEMMAP_CHUNK = 1 << 20

#: Memory-mapped files larger than this (per column) are read through a mapping of one
#: slice at a time, released after it; smaller ones through the caller's own mapping.
OWN_MAPPING_FROM = 1 << 27

_ALL = np.empty(0, dtype=np.int64)

#: Each objective's chunk kernels by kind, dropped with the objective.
_KERNELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_dask(value) -> bool:
    """A Dask collection, recognised without importing Dask."""
    return type(value).__module__.split(".")[0] == "dask" and hasattr(value, "__dask_graph__")


def is_chunked(columns) -> bool:
    """Whether any of ``columns`` is a memory map or a Dask collection."""
    return any(isinstance(c, np.memmap) or is_dask(c) for c in columns)


def expand_frame(columns, symbols, where: str = "data"):
    """A lone Dask ``DataFrame`` in ``columns`` -> its columns named by ``symbols``, in order."""
    if len(columns) != 1 or not (is_dask(columns[0]) and hasattr(columns[0], "columns")):
        return tuple(columns)
    frame = columns[0]
    present = [str(c) for c in frame.columns]
    missing = [str(s) for s in symbols if str(s) not in present]
    if missing:
        raise InputError(
            f"the Dask DataFrame given as {where} has no column named {', '.join(missing)} "
            f"(its columns: {', '.join(present)}); name the columns after the data symbols."
        )
    from symgrad._dask import frame_columns

    return frame_columns(frame, [str(s) for s in symbols])


def fit_columns(objective, columns):
    """``sg.fit``'s ``columns``: a Dask ``DataFrame`` (alone or in a list) becomes its columns by name."""
    one = columns[0] if isinstance(columns, (list, tuple)) and len(columns) == 1 else columns
    if is_dask(one) and hasattr(one, "columns"):
        return list(expand_frame((one,), objective.data))
    return columns


class ChunkKernel:
    """One kind of objective kernel (``vg``, ``v`` or ``hess``), ready to run on a chunk anywhere.

    Pickled as its source and options only; the compiled module is rebuilt on first
    use in each process, through the one chain of stages
    (``symgrad.jit._pipeline.DataLoops.load``, which finds the machine code in the disk
    cache when this machine compiled the same text before).

    Attributes:
        width: outputs summed per sample (1 + n for ``vg``, 1 for ``v``, n(n+1)/2 for ``hess``).
        names: the data symbols' names, for error messages.
    """

    def __init__(self, source, options, kind: str, width: int, block: int, matrix: bool, names: tuple):
        self.source, self.options, self.kind = source, options, kind
        self.width, self.block, self.matrix, self.names = width, block, matrix, tuple(names)
        self._function = None

    def __reduce__(self):
        return (ChunkKernel, (self.source, self.options, self.kind, self.width, self.block, self.matrix,
                              self.names))

    def __repr__(self) -> str:
        return f"ChunkKernel({self.kind!r}, {self.source.what!r}, width={self.width})"

    def partial(self, theta, offset: int, *columns, parallel: bool = False) -> np.ndarray:
        """``P_c`` of one chunk (:func:`chunk_sums`)."""
        return chunk_sums(self, theta, offset, *columns, parallel=parallel)

    @property
    def function(self):
        """The compiled ``{kind}_range`` function."""
        if self._function is None:
            from symgrad.jit._pipeline import DataLoops

            self._function = DataLoops.load(self.source, self.kind, self.width, self.block, self.options).blocks
        return self._function


def _first_non_finite(kernel: ChunkKernel, columns, offset: int) -> None:
    for name, col in zip(kernel.names, columns):
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            i = int(bad[0])
            raise InputError(
                f"data column {name} holds {float(col[i])!r} at row {offset + i} ({bad.size} non-finite "
                f"value(s) in the chunk of rows {offset}..{offset + len(col) - 1}); remove or impute those "
                "rows before fitting."
            )


def chunk_sums(kernel: ChunkKernel, theta, offset: int, *columns, parallel: bool = False) -> np.ndarray:
    """The partial sums ``P_c`` of one chunk: ``[count, Σ outputs (width entries)]``.

    Args:
        kernel: what to sum.
        theta: float64 parameters ``(n,)``.
        offset: the chunk's first row in the whole data (for error messages).
        columns: the chunk's columns (any numeric 1-D arrays of one length).
        parallel: share the chunk's blocks among threads (off under Dask, which runs
            chunks in parallel itself).

    Raises:
        InputError: NaN or infinity in the chunk, naming the column and the row.
    """
    cols = tuple(np.ascontiguousarray(np.asarray(c), dtype=np.float64) for c in columns)
    n = len(cols[0])
    if kernel.source.split:  # split loop bodies do not sum the data values: check them here
        _first_non_finite(kernel, cols, offset)
    data = np.stack(cols) if kernel.matrix else cols
    blocks = -(-n // kernel.block)
    out = np.empty((blocks, kernel.width + 1))
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    if parallel:
        from symgrad.jit import run_blocks

        run_blocks(kernel.function, (theta, data, _ALL, n, out), blocks)
    else:
        kernel.function(theta, data, _ALL, n, out, 0, blocks)
    sums = out.sum(axis=0)
    if not math.isfinite(sums[-1]):
        _first_non_finite(kernel, cols, offset)
    result = np.empty(kernel.width + 1)
    result[0] = n
    result[1:] = sums[:-1]
    return result


def reduce_sums(partials) -> np.ndarray:
    """``Σ_c P_c``, each entry by ``math.fsum`` (correctly rounded, so independent of chunk order)."""
    stacked = np.asarray(partials, dtype=np.float64).reshape(len(partials), -1)
    if not np.all(np.isfinite(stacked)):
        return stacked.sum(axis=0)  # fsum refuses inf - inf; NaN and inf propagate as in memory
    return np.array([math.fsum(col) for col in stacked.T])


class _Batch:
    """A mini-batch inside one chunk: in-memory ``Data`` of the chunk and local row indices."""

    __slots__ = ("data", "indices")

    def __init__(self, data, indices):
        self.data, self.indices = data, indices


def _rows(column, a: int, b: int) -> np.ndarray:
    """Rows ``a:b`` of a column; of a large memory-mapped file, through a mapping of those rows only.

    A mapping of the chunk alone is released with the chunk, so the pages read do not
    stay in this process's resident memory (they stay in the system's file cache).
    Columns of up to ``OWN_MAPPING_FROM`` bytes are read as views of the caller's map,
    which keeps its pages mapped from one evaluation to the next (mapping a slice
    costs about a millisecond per 8 MiB, as much as the kernel's pass over it).
    """
    if isinstance(column, np.memmap) and column.nbytes > OWN_MAPPING_FROM and isinstance(column.base, mmap.mmap) \
            and column.flags.c_contiguous and column.filename is not None \
            and column.mode != "c":  # "c": private changes, not in the file
        offset = column.offset + a * column.dtype.itemsize
        if not hasattr(mmap, "MAP_POPULATE"):  # not Linux
            return np.asarray(np.memmap(column.filename, dtype=column.dtype, mode="r", offset=offset, shape=(b - a,)))
        # the pages of the slice mapped in one call (a fresh mapping faulted page by page is
        # 1.6x slower than memory); the mapping goes when the array does
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        fd = os.open(column.filename, os.O_RDONLY)
        try:
            view = mmap.mmap(fd, offset - start + (b - a) * column.dtype.itemsize, offset=start,
                             flags=mmap.MAP_SHARED | mmap.MAP_POPULATE, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        return np.frombuffer(view, dtype=column.dtype, count=b - a, offset=offset - start)
    return np.asarray(column[a:b])


class _MemmapSource:
    """Memory-mapped (or in-memory) columns read in slices of ``MEMMAP_CHUNK`` rows."""

    def __init__(self, columns, chunk: int | None = None):
        n = len(columns[0])
        chunk = chunk or MEMMAP_CHUNK
        self.columns = columns
        self.n = n
        self.bounds = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]

    def chunk(self, k: int):
        a, b = self.bounds[k]
        return tuple(_rows(c, a, b) for c in self.columns)

    def sums(self, kernel, theta) -> list:
        return [kernel.partial(theta, a, *self.chunk(k), parallel=kernel.options.parallel)
                for k, (a, _) in enumerate(self.bounds)]

    def total(self, kernel, theta) -> np.ndarray:
        """``[N, Σ outputs]`` over all rows: the in-memory pass, its blocks read slice by slice.

        The rows are cut into blocks of ``kernel.block`` rows, each block's sums written
        to its own row of one ``(blocks, width + 1)`` array, exactly as the in-memory
        pass writes them, so the total is the in-memory one (the same blocks, added in
        the same order). The blocks are shared among threads once per evaluation (not
        once per slice); each thread reads its own blocks a slice at a time, or, for
        float64 maps read through the caller's mapping, the kernel reads the maps
        whole, as it reads arrays in memory.
        """
        from symgrad.jit import run_blocks

        theta = np.ascontiguousarray(theta, dtype=np.float64)
        blocks = -(-self.n // kernel.block)
        out = np.empty((blocks, kernel.width + 1))
        failed = []
        if not (kernel.matrix or kernel.source.split) and all(_viewable(c) for c in self.columns):
            cols = tuple(np.asarray(c) for c in self.columns)  # the in-memory call itself
            run_blocks(kernel.function, (theta, cols, _ALL, self.n, out), blocks, kernel.options.parallel)
        else:
            run_blocks(self._blocks, (kernel, theta, out, failed), blocks, kernel.options.parallel)
        sums = out.sum(axis=0)
        if failed or not math.isfinite(sums[-1]):
            self._find_non_finite(kernel)
        result = np.empty(kernel.width + 1)
        result[0] = self.n
        result[1:] = sums[:-1]
        return result

    def _pieces(self, kernel, b0: int, b1: int):
        """``(first row, end row)`` of the slices that cover blocks ``b0..b1``, each whole blocks."""
        a, end = b0 * kernel.block, min(b1 * kernel.block, self.n)
        step = max(kernel.block, MEMMAP_CHUNK - MEMMAP_CHUNK % kernel.block)
        return [(r, min(r + step, end)) for r in range(a, end, step)]

    def _blocks(self, kernel, theta, out, failed, b0: int, b1: int) -> None:
        """Blocks ``b0..b1`` into ``out`` (one thread's share); a non-finite input is noted in ``failed``."""
        for a, b in self._pieces(kernel, b0, b1):
            cols = tuple(np.ascontiguousarray(_rows(c, a, b), dtype=np.float64) for c in self.columns)
            if kernel.source.split and not all(np.isfinite(c).all() for c in cols):
                failed.append(a)  # split loop bodies do not sum the data values: checked here
                return
            data = np.stack(cols) if kernel.matrix else cols
            first = a // kernel.block
            count = -(-(b - a) // kernel.block)
            kernel.function(theta, data, _ALL, b - a, out[first:first + count], 0, count)
            del cols, data  # a slice's mapping goes before the next one is made

    def _find_non_finite(self, kernel) -> None:
        """Raise the error of the first non-finite value, slice by slice in row order."""
        for k, (a, _) in enumerate(self.bounds):
            _first_non_finite(kernel, tuple(np.asarray(c, dtype=np.float64) for c in self.chunk(k)), a)

    def take(self, rows: np.ndarray):
        return tuple(np.asarray(c[rows], dtype=np.float64) for c in self.columns)


def _viewable(column) -> bool:
    """Whether the kernel can read ``column`` whole as it is: float64, contiguous, not mapped slice by slice."""
    return (column.dtype == np.float64 and column.flags.c_contiguous
            and not (isinstance(column, np.memmap) and column.nbytes > OWN_MAPPING_FROM))


def _check_columns(columns, symbols) -> None:
    """Numeric 1-D columns of one known, non-zero length (without reading the values)."""
    for k, (s, c) in enumerate(zip(symbols, columns)):
        dtype, shape = np.dtype(getattr(c, "dtype", np.float64)), getattr(c, "shape", None)
        if shape is None:
            raise InputError(f"data column {s} (column {k}) is a {type(c).__name__}; give a memory map, "
                             "a NumPy array or a 1-D dask.array.")
        if dtype.kind not in "biuf":
            raise InputError(f"data column {s} (column {k}) is not numeric (dtype {dtype}); give an array "
                             "of numbers (integers are converted to float64).")
        if len(shape) != 1:
            raise InputError(f"data column {s} (column {k}) must be 1-D with one entry per sample; "
                             f"got shape {shape}.")
        if not (isinstance(shape[0], int) or np.isfinite(shape[0])):
            raise InputError(f"data column {s} (column {k}) has an unknown length (a Dask array with "
                             "unknown chunk sizes); call .compute_chunk_sizes() on it first.")
    lengths = [int(c.shape[0]) for c in columns]
    if len(set(lengths)) > 1:
        detail = ", ".join(f"{s}: {n}" for s, n in zip(symbols, lengths))
        raise InputError(f"data columns must all have the same length; got {detail}.")
    if lengths and lengths[0] == 0:
        raise InputError("data columns are empty; an objective over data needs at least one sample.")


def chunk_source(columns, symbols, *, persist: bool):
    """The chunks of ``columns`` (checked): slices of memory maps, or the chunks of Dask arrays.

    A source has ``bounds`` (each chunk's first and end row), ``sums(kernel, theta)``
    (``kernel.partial(theta, offset, *chunk)`` of every chunk, in chunk order),
    ``chunk(k)`` and ``take(rows)`` (columns in memory).
    """
    _check_columns(columns, symbols)
    if any(is_dask(c) for c in columns):
        from symgrad._dask import DaskSource

        return DaskSource(columns, symbols, persist=persist)
    return _MemmapSource(columns)


class ChunkedData:
    """Columns in chunks, in place of ``Objective.prepare``'s in-memory ``Data``.

    Attributes:
        columns: the columns as given (memory maps or Dask arrays), one per data symbol.
        n: number of samples.
        symbols: the data symbols.
        chunks: number of chunks.
    """

    chunked = True

    def __init__(self, objective, columns, *, persist: bool):
        self.objective = objective
        self.symbols = tuple(objective.data)
        self.columns = columns
        self.source = chunk_source(columns, self.symbols, persist=persist)
        self.n = int(sum(b - a for a, b in self.source.bounds))
        self.chunks = len(self.source.bounds)

    def __repr__(self) -> str:
        names = ", ".join(map(str, self.symbols))
        return f"ChunkedData({len(self.columns)} columns ({names}), n={self.n}, chunks={self.chunks})"

    def kernel(self, source, kind: str, width: int, block: int) -> ChunkKernel:
        """The :class:`ChunkKernel` of ``source`` (made once per objective and kind, so that an
        evaluation on data prepared anew finds the compiled function without hashing its source)."""
        obj = self.objective
        kernels = _KERNELS.setdefault(obj, {})
        if kind not in kernels:
            kernels[kind] = ChunkKernel(source, obj._options, kind, width, block,
                                        obj._layout == "matrix", tuple(map(str, self.symbols)))
        return kernels[kind]

    def mean(self, kernel: ChunkKernel, theta: np.ndarray) -> np.ndarray:
        """``(1/N) Σ_c P_c`` without the count: the means of the kernel's outputs."""
        total = self.source.total(kernel, theta)
        return total[1:] / total[0]

    def take(self, rows) -> tuple:
        """The rows ``rows`` (sorted int64) of every column, in memory."""
        return self.source.take(np.asarray(rows, dtype=np.int64))

    def batches(self, rng, batch_size: int, shuffle: bool):
        """Mini-batches streamed chunk by chunk (see ``docs/large_data.md``).

        With ``shuffle``, the chunks are visited in a random order (``rng.permutation``
        of the chunk numbers), and each chunk, once in memory, is cut into batches of
        ``batch_size`` samples after a random permutation of its own rows. A batch
        never spans two chunks: the last batch of a chunk holds ``len(chunk) %
        batch_size`` samples when that is not zero. Without ``shuffle``, chunks and
        rows come in order.
        """
        order = rng.permutation(self.chunks) if shuffle else range(self.chunks)
        for k in order:
            cols = self.source.chunk(int(k))
            data = self.objective.prepare(*cols)
            rows = rng.permutation(data.n) if shuffle else np.arange(data.n, dtype=np.int64)
            for i in range(0, data.n, batch_size):
                yield _Batch(data, np.ascontiguousarray(rows[i:i + batch_size], dtype=np.int64))

    def guard_inputs(self, samples: int):
        """In-memory ``(Data, columns)`` of ``samples`` rows spread over the data, for the start-up guard."""
        rows = np.unique(np.linspace(0, self.n - 1, min(samples, self.n)).astype(np.int64))
        cols = self.take(rows)
        return self.objective.prepare(*cols, rows=False), cols
