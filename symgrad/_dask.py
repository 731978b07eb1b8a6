"""Dask collections as chunked data: one task per chunk per evaluation, reduced in a fixed way.

Imported only when a Dask collection is given (``import symgrad`` never imports Dask).

With a ``distributed.Client`` active (``distributed.Client()`` for a local cluster,
``distributed.Client("tcp://scheduler:8786")`` for a real one), the chunks of a
training run are persisted on the workers once (``Client.compute`` of one small task
per chunk that packs its columns as float64); each evaluation then maps
the kernel's ``partial`` (:func:`symgrad._chunked.chunk_sums`) over those futures, with the parameters as a small
argument and the kernel scattered to every worker once. The graph of an evaluation
is one task per chunk, whatever the number of iterations. Without a client (or for
a single evaluation under one), the graph of an evaluation is built once per kernel
and reused: the columns' own graph (optimized once), the kernel as a data node, and
one task per chunk that reads the parameters from a key each evaluation sets; it runs
with the scheduler Dask is configured for (``dask.base.get_scheduler``: threads by
default, ``"processes"`` and ``"synchronous"`` too, or the active client).

Either way the partial sums come back in chunk order and are reduced by
:func:`symgrad._chunked.reduce_sums`.
"""

from __future__ import annotations

import sys
import uuid

import dask
import dask.base
import dask.threaded
import dask.array as da
import numpy as np

from symgrad._chunked import reduce_sums
from symgrad.errors import ClusterError, InputError

__all__ = ["DaskSource", "active_client", "frame_columns"]

#: Local schedulers named in ``dask.config`` that take precedence over an active client.
_LOCAL = {"threads", "threading", "sync", "synchronous", "single-threaded", "processes", "multiprocessing"}


def active_client():
    """The ``distributed.Client`` that Dask would use now, or ``None``."""
    if "distributed" not in sys.modules:
        return None
    if dask.config.get("scheduler", None) in _LOCAL:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:  # no client was created
        return None


def frame_columns(frame, names) -> tuple:
    """The 1-D Dask arrays of the columns ``names`` of a Dask ``DataFrame`` (partition lengths computed)."""
    block = frame[list(names)].to_dask_array(lengths=True)
    return tuple(block[:, j] for j in range(len(names)))


def _chunking_error(symbols, chunks) -> InputError:
    shown = "; ".join(f"{s}: {c[:4]}{'...' if len(c) > 4 else ''}" for s, c in zip(symbols, chunks))
    return InputError(
        f"the Dask columns are chunked differently ({shown}); a chunk of samples must hold the same rows "
        f"of every column. Rechunk them alike, e.g. column.rechunk({symbols[0]}_column.chunks)."
    )


def _pack(*columns) -> tuple:
    return tuple(np.ascontiguousarray(c, dtype=np.float64) for c in columns)


def _partial(kernel, theta, offset, *columns):
    return kernel.partial(theta, offset, *columns)


def _rows_of(packed, rows):
    return tuple(c[rows] for c in packed)


def _packed_partial(kernel, theta, offset, packed):
    return kernel.partial(theta, offset, *packed)


def _lost(exc: BaseException) -> bool:
    """Whether ``exc`` says a worker died or the cluster went away (not an error in the data)."""
    names = {type(e).__name__ for e in (exc, exc.__cause__) if e is not None}
    return bool(names & {"KilledWorker", "CommClosedError", "FutureCancelledError", "CancelledError",
                         "BrokenProcessPool", "TimeoutError"})


def _cluster_error(exc: BaseException) -> ClusterError:
    return ClusterError(
        f"a Dask worker died or the cluster went away while computing symgrad's partial sums "
        f"({type(exc).__name__}: {exc}); check the workers' memory and logs (a chunk that needs more "
        "memory than a worker has kills it), then run again."
    )


def _compile_here(kernel, theta, columns: int) -> None:
    """Run ``kernel`` once on one row here, so that workers on this machine find its machine code
    in the disk cache instead of all compiling it at once (workers elsewhere compile it themselves)."""
    if getattr(kernel, "_warm", False):
        return
    with np.errstate(all="ignore"):
        try:
            kernel.partial(theta, 0, *([np.ones(1)] * columns))
        except InputError:
            pass
    kernel._warm = True


class DaskSource:
    """Chunks of Dask (or NumPy) columns of one chunking; see the module docstring.

    Args:
        columns: 1-D ``dask.array`` columns (NumPy arrays among them are chunked like the first).
        symbols: the data symbols, for messages.
        persist: with a client, keep the packed chunks on the workers (a training run).

    Raises:
        InputError: columns chunked differently.
    """

    def __init__(self, columns, symbols, *, persist: bool):
        first = next(c for c in columns if isinstance(c, da.Array))
        arrays = [c if isinstance(c, da.Array) else da.from_array(np.asarray(c), chunks=first.chunks)
                  for c in columns]
        chunks = [a.chunks[0] for a in arrays]
        if len(set(chunks)) > 1:
            raise _chunking_error(symbols, chunks)
        sizes = chunks[0]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.bounds = list(zip(starts[:-1], starts[1:]))
        self.arrays = arrays
        self.blocks = [a.to_delayed(optimize_graph=True).ravel().tolist() for a in arrays]
        self.client = active_client()
        self.futures = None
        self._scattered = {}
        self._graphs = {}
        optimized = dask.optimize(*arrays)
        self._columns = {}
        for a in optimized:
            self._columns.update(a.__dask_graph__())
        self._chunk_keys = [a.__dask_keys__() for a in optimized]
        self._token = uuid.uuid4().hex
        if self.client is not None and persist:
            packs = [dask.delayed(_pack, pure=True)(*(b[k] for b in self.blocks)) for k in range(len(sizes))]
            self.futures = self._guarded(lambda: self.client.compute(packs))

    def _guarded(self, run):
        try:
            return run()
        except InputError:
            raise
        except Exception as exc:
            if _lost(exc):
                raise _cluster_error(exc) from exc
            raise

    def sums(self, kernel, theta) -> list:
        """``kernel.partial`` of every chunk, in chunk order: one task per chunk."""
        offsets = [a for a, _ in self.bounds]
        theta = np.array(theta, dtype=np.float64)
        if self.futures is not None:
            client = self.client
            key = id(kernel)
            if key not in self._scattered:
                _compile_here(kernel, theta, len(self.blocks))
                self._scattered[key] = (kernel, client.scatter(kernel, broadcast=True, hash=False))
            remote = self._scattered[key][1]
            m = len(offsets)

            def run():
                futures = client.map(_packed_partial, [remote] * m, [theta] * m, offsets, self.futures, pure=False)
                return client.gather(futures)

            return self._guarded(run)
        if self.client is not None:
            _compile_here(kernel, theta, len(self.blocks))
        graph, keys = self._graph(kernel)
        graph = {**graph, self._theta_key: theta}
        get = dask.base.get_scheduler() or dask.threaded.get
        return self._guarded(lambda: list(get(graph, keys)))

    @property
    def _theta_key(self) -> str:
        return f"symgrad-theta-{self._token}"

    def _graph(self, kernel):
        """The graph of one evaluation, built once per kernel: the columns' own (optimized) graph,
        the kernel as a data node, and one task per chunk reading the parameters from a key
        that each evaluation sets."""
        if id(kernel) not in self._graphs:
            name = f"{len(self._graphs)}-{self._token}"  # a kernel of the loss or of least squares
            kernel_key = f"symgrad-kernel-{name}"
            graph = dict(self._columns)
            graph[kernel_key] = kernel
            keys = []
            for k, (a, _) in enumerate(self.bounds):
                key = (f"symgrad-partial-{name}", k)
                graph[key] = (_partial, kernel_key, self._theta_key, a, *(c[k] for c in self._chunk_keys))
                keys.append(key)
            self._graphs[id(kernel)] = (kernel, graph, keys)
        return self._graphs[id(kernel)][1:]

    def total(self, kernel, theta) -> np.ndarray:
        """``Σ_c P_c`` of :meth:`sums`, reduced by :func:`symgrad._chunked.reduce_sums`."""
        return reduce_sums(self.sums(kernel, theta))

    def chunk(self, k: int) -> tuple:
        """Chunk ``k`` of every column, as float64 arrays in this process."""
        if self.futures is not None:
            return self._guarded(lambda: self.futures[k].result())
        return self._guarded(lambda: _pack(*dask.compute(*(b[k] for b in self.blocks))))

    def take(self, rows: np.ndarray) -> tuple:
        """The rows ``rows`` of every column, in this process.

        Read chunk by chunk from the packed chunks (on the workers) or the blocks, whose tasks
        are the ones the sums use: ``column[rows]`` would send the columns' tasks again in
        another form, and a distributed scheduler warns of deadlocks when one key comes with two.
        """
        rows = np.asarray(rows, dtype=np.int64)
        starts = np.array([a for a, _ in self.bounds])
        which = np.searchsorted(starts, rows, side="right") - 1
        out = [np.empty(rows.size) for _ in self.blocks]
        for k in np.unique(which):
            here = np.flatnonzero(which == k)
            local = rows[here] - starts[k]
            if self.futures is not None:  # only the rows leave the worker
                picked = self._guarded(lambda: self.client.submit(_rows_of, self.futures[k], local, pure=False).result())
            else:
                picked = _rows_of(self.chunk(int(k)), local)
            for column, values in zip(out, picked):
                column[here] = values
        return tuple(out)
