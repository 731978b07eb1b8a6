"""The state of one run of ``sg.fit``: its data, parameters, optimizer state, and one epoch.

``fit`` (``symgrad.optimize._loops``) reads as its algorithm: start a :class:`Training`,
then per epoch ``stop = training.epoch(k)``, and the result. The steps of an epoch
are the methods here: the batches of the epoch (the compiled epoch runs first when it
can), the updates, the full-data loss at the end; each returns a
:class:`~symgrad.optimize._stopping.Stop` when the run ends, and :meth:`Training.settle`
moves the parameters back where the stop says.
"""

from __future__ import annotations

import functools
import math
import os
import warnings

import numpy as np

from symgrad._chunked import fit_columns
from symgrad.errors import InputError, OptionError, OptionTypeError
from symgrad.optimize._base import Oracle
from symgrad.optimize._checkpoint import data_digest, load_checkpoint, save_checkpoint
from symgrad.optimize._divergence import not_finite_loss, not_finite_parameters
from symgrad.optimize._plan import NotCompiled
from symgrad.optimize._problem import as_objective, check_count, check_tol, check_x0
from symgrad.optimize._stopping import LAST_FINITE, Stop, final_test, gradient_test, optimizer_test

__all__ = ["Training"]

#: ``CompiledEpoch.run`` stopped because an update made a parameter infinite or NaN.
_NOT_FINITE = 2


def _compiled_epoch(obj, opt, data, batch_size):
    """The objective's compiled epoch for ``opt``, or ``None`` to run the epochs in Python.

    Full-batch runs keep the Python loop (one update per epoch, on the gradient the
    end-of-epoch evaluation already computed), and so do objectives that are not an
    ``sg.Objective`` over in-memory data. An optimizer with a block that has no compiled
    form (a custom block) falls back to the Python loop with one warning naming it.
    """
    make = getattr(obj, "_compiled_epoch", None)
    if batch_size is None or make is None or getattr(data, "chunked", False):  # chunks: ChunkedData.batches
        return None
    try:
        return make(opt, data, batch_size)
    except NotCompiled as exc:
        warnings.warn(f"fit runs its epochs in the Python loop: {exc}; the results are the same, "
                      f"only slower", UserWarning, stacklevel=4)
        return None


def _fingerprint(obj, n_samples: int, batch_size, shuffle: bool, opt) -> str:
    params = ",".join(str(s) for s in obj.params)
    data = ",".join(str(s) for s in obj.data)
    return (f"params=({params}) data=({data}) samples={n_samples} batch_size={batch_size} "
            f"shuffle={shuffle} optimizer={opt!r}")


class Training:
    """One run of ``sg.fit``, validated and at its starting point (or resumed from a checkpoint).

    Attributes:
        x, loss, g: the parameters, their full-data loss and (when needed) gradient.
        good: the last parameters whose loss was finite.
        history: the full-data loss at the start and after each epoch.
        steps: optimizer updates taken.
        start_epoch: epochs already done (a resumed run).
    """

    def __init__(self, objective, columns, *, x0, opt, epochs, batch_size, shuffle, seed, checkpoint, tol,
                 check, compiled):
        obj = as_objective(objective, "fit")
        if not len(obj.data):
            raise InputError("fit needs an objective with data symbols; for one without data use sg.minimize")
        self.obj, self.opt = obj, opt
        self.epochs = check_count(epochs, "epochs")
        self.tol = check_tol(tol)
        columns = fit_columns(obj, columns)  # a Dask DataFrame: its columns by name (api.md section 10)
        if not isinstance(columns, (list, tuple)):
            raise OptionTypeError(f"columns must be a list or tuple with one array per data symbol "
                                  f"({', '.join(map(str, obj.data))}), got {type(columns).__name__}")
        self.columns = columns
        self.data = obj.prepare(*columns)
        self.n_samples = int(np.shape(columns[0])[0])
        self.batch_size = self._batch_size(batch_size)
        self.shuffle = shuffle
        self.symbols = tuple(obj.params)
        self.rng = np.random.default_rng(seed)
        self.x = (self.rng.standard_normal(len(self.symbols)) * 0.1 if x0 is None
                  else check_x0(x0, len(self.symbols), self.symbols, "fit"))
        self.state = opt.init(self.x)
        self.checkpoint, self.fingerprint = checkpoint, None
        if checkpoint is not None:  # the data's digest too: a run is never resumed on other values
            self.fingerprint = (_fingerprint(obj, self.n_samples, self.batch_size, bool(shuffle), opt)
                                + f" data_sha256={data_digest(columns)}")
        self.start_epoch, self.steps = 0, 0
        if checkpoint is not None and os.path.exists(checkpoint):
            self._resume()
        # the full-data gradient is needed each epoch only for tol or full-batch steps
        self.full_grad = self.tol is not None or self.batch_size is None
        self._evaluate()
        if not math.isfinite(self.loss):
            raise InputError(f"fit: the loss at the starting point is {self.loss}; start from other parameters")
        if check and self.start_epoch == 0 and hasattr(obj, "guard"):
            obj.guard(self.x, self.data, columns, caller="fit")
        if self.start_epoch == 0:
            self.history = [self.loss]
        self.update = self._update_function()
        self.order = None if getattr(self.data, "chunked", False) else np.arange(self.n_samples, dtype=np.int64)
        self.good = self.x
        self.runner = _compiled_epoch(obj, opt, self.data, self.batch_size) if compiled else None

    def _batch_size(self, batch_size):
        """``None`` for full batches (also when ``batch_size`` covers the data), else the size."""
        if batch_size is not None:
            batch_size = min(check_count(batch_size, "batch_size", minimum=1), self.n_samples)
            if batch_size == self.n_samples:
                batch_size = None
        if self.opt.needs_oracle and batch_size is not None:
            raise OptionError(f"{self.opt!r} evaluates the objective itself and works on the full data only; "
                              f"pass batch_size=None")
        return batch_size

    def _resume(self) -> None:
        saved = load_checkpoint(self.checkpoint, state_template=self.state, fingerprint=self.fingerprint)
        self.x, self.state, self.start_epoch, self.steps = saved.x, saved.state, saved.epoch, saved.steps
        self.rng.bit_generator.state = saved.rng_state
        self.history = list(saved.history)

    def _update_function(self):
        if not self.opt.needs_oracle:
            return self.opt.update
        obj, data, columns = self.obj, self.data, self.columns
        oracle = Oracle(lambda z: obj.batch_value(z, data), lambda z: obj.batch_value_and_grad(z, data),
                        lambda z: obj.hessian(z, *columns))
        return functools.partial(self.opt.update, oracle=oracle)

    def _evaluate(self) -> None:
        """The full-data loss at ``x`` (and its gradient, when the run needs it)."""
        if self.full_grad:
            loss, self.g = self.obj.batch_value_and_grad(self.x, self.data)
        else:
            loss, self.g = self.obj.batch_value(self.x, self.data), None
        self.loss = float(loss)

    # -- one epoch -------------------------------------------------------------------
    def epoch(self, epoch: int) -> Stop | None:
        """Run epoch ``epoch``: its updates, then the full-data loss; a ``Stop`` ends the run."""
        if self.g is not None:
            stop = gradient_test(self.g, self.tol)
            if stop:
                return stop
        batches, stop = self._batches(epoch)
        stop = stop or self._updates(batches, epoch)
        return stop or self._end_of_epoch(epoch)

    def _batches(self, epoch: int):
        """The index arrays of the epoch's batches still to run in Python, and a ``Stop`` if any.

        With the compiled epoch, its call runs the epoch first, up to a batch it leaves
        to the Python loop (a loss that is not finite, or data sums that overflowed), or
        up to an update that made a parameter non-finite. ``good`` moves as in the
        Python loop: to the parameters before the last update the call made (their
        batch loss was finite), or to ``x`` before an update that overflowed.
        """
        if self.batch_size is None:
            return (None,), None
        if getattr(self.data, "chunked", False):  # memory maps, Dask: chunk by chunk (symgrad._chunked)
            return self.data.batches(self.rng, self.batch_size, self.shuffle), None
        if self.shuffle:
            self.order = self.rng.permutation(self.n_samples)
        first = 0
        if self.runner is not None:
            self.x, self.state, first, status, bad, before = self.runner.run(self.x, self.state, self.order)
            self.steps += first
            if before is not None:
                self.good = before
            if status == _NOT_FINITE:
                self.steps += 1
                self.good = self.x
                where = f"update {self.steps} (epoch {epoch})"
                return (), Stop(not_finite_parameters(bad, where, self.symbols), rollback=LAST_FINITE)
        starts = range(first * self.batch_size, self.n_samples, self.batch_size)
        return [self.order[i:i + self.batch_size] for i in starts], None

    def _updates(self, batches, epoch: int) -> Stop | None:
        """One optimizer update per batch (``None``: the full data, whose loss and gradient are known)."""
        for idx in batches:
            where = f"update {self.steps + 1} (epoch {epoch})"
            if idx is None:
                batch_loss, batch_g = self.loss, self.g
            else:
                batch_loss, batch_g = self.obj.batch_value_and_grad(self.x, self.data, idx)
            if not math.isfinite(batch_loss):
                return Stop(not_finite_loss(batch_loss, where), rollback=LAST_FINITE)
            self.good = self.x
            u, self.state = self.update(batch_g, self.state, self.x)
            stop = optimizer_test(self.state, batch_g, self.tol)  # full batch: the gradient at x
            if stop:
                return stop
            self.x = self.x + u  # a new array: `good` keeps the parameters whose loss was finite
            self.steps += 1
            if not np.all(np.isfinite(self.x)):
                where = f"update {self.steps} (epoch {epoch})"
                return Stop(not_finite_parameters(self.x, where, self.symbols), rollback=LAST_FINITE)
        return None

    def _end_of_epoch(self, epoch: int) -> Stop | None:
        """The full-data loss after the epoch: divergence (not finite), or the history and the checkpoint."""
        self._evaluate()
        if not math.isfinite(self.loss):
            return Stop(not_finite_loss(self.loss, f"the end of epoch {epoch}"), rollback=LAST_FINITE)
        self.good = self.x
        self.history.append(self.loss)
        if self.checkpoint is not None:
            save_checkpoint(self.checkpoint, x=self.x, state=self.state, rng=self.rng, epoch=epoch, steps=self.steps,
                            history=self.history, fingerprint=self.fingerprint)
        return None

    # -- the end ------------------------------------------------------------------------
    def at_the_limit(self) -> Stop:
        """The ``Stop`` after the last epoch: converged if the gradient test holds."""
        g = self.obj.batch_value_and_grad(self.x, self.data)[1] if self.g is None else self.g
        return final_test(g, self.tol, f"reached the epoch limit ({self.epochs} epochs)")

    def settle(self, stop: Stop) -> Stop:
        """Move ``x`` (and its loss) back where ``stop`` says; return ``stop``."""
        if stop.rollback == LAST_FINITE:
            self.x = self.good
            self.loss = float(self.obj.batch_value(self.x, self.data))
        return stop
